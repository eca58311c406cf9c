"""The array bundle that user data is converted to: :class:`SeriesArrays`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SeriesArrays:
    """One series as arrays on a regular time grid.

    Attributes
    ----------
    values : ndarray of shape (T, K), float64
        Values on the grid; NaN where not observed.
    observed_mask : ndarray of shape (T, K), bool
        True where a value is present.
    grid_index : pandas.Index of length T
        The regular time grid (the input index with missing timestamps inserted).
    rows : ndarray of shape (n_rows,), int64
        Position on the grid of each row of the input, in input order.
    columns : pandas.Index of length K
        Variable names (a RangeIndex for arrays).
    freq : pandas.DateOffset, int or None
        Grid step: an offset for datetime/period indexes, an integer step for integer
        indexes, None when the index carries no time (then the grid is the rows).
    kind : {"frame", "series", "array"}
        Container type of the input, so outputs can be returned in the same type.
    dtype : numpy.dtype
        Floating dtype for outputs (the input's if floating, else float64).
    index : pandas.Index
        The input's own row index (a RangeIndex for arrays).
    name : object
        The name of an input Series (None otherwise).
    bounds : ndarray of shape (n_series + 1,), int64, or None
        For a panel (several series stacked along the time axis), series ``i`` holds
        grid rows ``bounds[i]:bounds[i + 1]``; None for a single series.

    Examples
    --------
    A frame with a missing day gets an all-missing grid row for it:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.frames import to_arrays
    >>> days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-04"])
    >>> arrays = to_arrays(pd.DataFrame({"a": [1.0, np.nan, 3.0]}, index=days))
    >>> arrays.n_steps, arrays.rows.tolist(), arrays.kind
    (4, [0, 1, 3], 'frame')
    >>> arrays.values[:, 0].tolist()
    [1.0, nan, nan, 3.0]
    >>> arrays.segments
    [slice(0, 4, None)]

    A panel of two series, given as an array (N=2, T=3, K=1), is stacked along
    time; ``segments`` gives each series' rows:

    >>> panel = to_arrays(np.arange(6.0).reshape(2, 3, 1), panel=True)
    >>> panel.values.shape, panel.bounds.tolist()
    ((6, 1), [0, 3, 6])
    >>> [panel.values[rows, 0].tolist() for rows in panel.segments]
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """

    values: np.ndarray
    observed_mask: np.ndarray
    grid_index: pd.Index
    rows: np.ndarray
    columns: pd.Index
    freq: Any
    kind: str
    dtype: np.dtype
    index: pd.Index
    name: Any = None
    bounds: np.ndarray | None = None

    @property
    def n_steps(self) -> int:
        """Length T of the regular grid."""
        return self.values.shape[0]

    @property
    def segments(self) -> list[slice]:
        """Grid rows of each series: one slice per series (one for a single series)."""
        if self.bounds is None:
            return [slice(0, self.n_steps)]
        return [slice(a, b) for a, b in itertools.pairwise(self.bounds)]
