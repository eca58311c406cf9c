"""User data in: :func:`to_arrays`, and the check that new data has the variables
seen in fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsdiff.frames._arrays import SeriesArrays
from tsdiff.frames._grid import _regular_grid
from tsdiff.frames._panel import _panel_arrays
from tsdiff.frames._validate import _as_frame, _check_values, _output_dtype


def to_arrays(
    data: Any, *, freq: Any = None, name: str = "X", panel: bool = False
) -> SeriesArrays:
    """Validate user data and convert it to arrays on a regular time grid.

    Parameters
    ----------
    data : DataFrame, Series or ndarray of shape (T,) or (T, K)
        Rows are time steps, columns are variables; NaN marks a missing value.
        With ``panel=True`` a DataFrame may also carry a two-level
        ``MultiIndex`` ``(series id, time)``: a panel of several series with the
        same variables, each put on its own regular grid and stacked along time;
        and an ndarray may have shape (N, T, K): N series of T steps, read as a
        panel with ids 0..N-1 and integer times 0..T-1.
    freq : str, DateOffset or None, default=None
        Frequency of a datetime/period index; inferred when None.
    name : str, default="X"
        Name of the argument, used in error messages.
    panel : bool, default=False
        Whether a ``(series id, time)`` MultiIndex is accepted.

    Returns
    -------
    SeriesArrays

    Raises
    ------
    TypeError
        Unsupported container (a sparse matrix included), non-numeric values.
    ValueError
        Complex or empty data, infinite values, duplicated or unsorted timestamps,
        timestamps that do not lie on one regular grid.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.frames import to_arrays
    >>> days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-04"])
    >>> X = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [4, 5, 6]}, index=days)
    >>> arrays = to_arrays(X)
    >>> arrays.grid_index.strftime("%m-%d").tolist()  # 01-03 inserted
    ['01-01', '01-02', '01-03', '01-04']
    >>> arrays.observed_mask.astype(int).tolist()
    [[1, 1], [0, 1], [0, 0], [1, 1]]
    >>> list(arrays.columns), arrays.dtype  # integer column b: float64 outputs
    (['a', 'b'], dtype('float64'))

    A ``(series id, time)`` MultiIndex needs ``panel=True``:

    >>> index = pd.MultiIndex.from_tuples([("s1", 1), ("s1", 2), ("s2", 1)])
    >>> panel = to_arrays(pd.DataFrame({"y": [1.0, 2.0, 3.0]}, index=index),
    ...                   panel=True)
    >>> panel.bounds.tolist(), panel.values.ravel().tolist()
    ([0, 2, 3], [1.0, 2.0, 3.0])
    >>> to_arrays(X.iloc[::-1])
    Traceback (most recent call last):
    ...
    ValueError: The index of X is not sorted in increasing time order; sort it ...
    """
    if panel and _is_3d(data):
        kind, frame = "array", _array_panel(np.asarray(data), name)
    else:
        kind, frame = _as_frame(data, name, panel)
    _check_values(frame, name)
    if isinstance(frame.index, pd.MultiIndex):
        if not panel:
            raise ValueError(
                f"{name} has a MultiIndex; this estimator takes a single series "
                "indexed by time (select one series first)."
            )
        return _panel_arrays(frame, freq, name, kind, getattr(data, "name", None))
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)  # (n_rows, K)
    dtype = _output_dtype(frame)
    grid_index, rows, step = _regular_grid(frame.index, freq, name)
    grid = np.full((len(grid_index), values.shape[1]), np.nan)  # (T, K)
    grid[rows] = values
    return SeriesArrays(
        values=grid,
        observed_mask=~np.isnan(grid),
        grid_index=grid_index,
        rows=rows,
        columns=frame.columns,
        freq=step,
        kind=kind,
        dtype=dtype,
        index=frame.index,
        name=data.name if isinstance(data, pd.Series) else None,
    )


def _is_3d(data: Any) -> bool:
    return (
        not isinstance(data, (pd.DataFrame, pd.Series))
        and hasattr(data, "__len__")
        and np.ndim(data) == 3
    )


def _array_panel(array: np.ndarray, name: str) -> pd.DataFrame:
    """A frame indexed by ``(series, time)`` holding an array of shape (N, T, K)."""
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {array.dtype}.")
    if array.dtype.kind not in "biuf" and array.dtype != object:
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}.")
    n_series, n_steps, n_features = array.shape
    if 0 in array.shape:
        raise ValueError(
            f"{name} is empty: got shape {array.shape} (series, time steps, "
            "variables); at least one of each is required."
        )
    index = pd.MultiIndex.from_product(
        [range(n_series), range(n_steps)], names=["series", "time"]
    )
    return pd.DataFrame(array.reshape(n_series * n_steps, n_features), index=index)


def check_same_columns(arrays: SeriesArrays, estimator: Any, name: str) -> None:
    """Raise ValueError when new data has other variables than the data seen in fit.

    Parameters
    ----------
    arrays : SeriesArrays
        The converted new data.
    estimator : object
        The fitted estimator: its ``columns_`` (variable names) and
        ``n_features_in_`` are those seen in fit.
    name : str
        Argument name for the message.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsdiff.frames import check_same_columns, to_arrays
    >>> class Fitted:  # stands for an estimator fitted on columns a, b
    ...     columns_ = pd.Index(["a", "b"])
    ...     n_features_in_ = 2
    >>> check_same_columns(to_arrays(pd.DataFrame({"a": [1.0], "b": [2.0]})),
    ...                    Fitted(), "X")  # same variables: no error
    >>> check_same_columns(to_arrays(pd.DataFrame({"a": [1.0], "c": [2.0]})),
    ...                    Fitted(), "X")
    Traceback (most recent call last):
    ...
    ValueError: The columns of X differ from those seen in fit (missing ['b'], ...
    >>> check_same_columns(to_arrays(pd.DataFrame({"a": [1.0]})), Fitted(), "X")
    Traceback (most recent call last):
    ...
    ValueError: X has 1 features, but Fitted is expecting 2 features as input ...
    """
    columns, n_features = estimator.columns_, estimator.n_features_in_
    got = arrays.values.shape[1]
    if got != n_features:
        raise ValueError(
            f"{name} has {got} features, but {type(estimator).__name__} is expecting "
            f"{n_features} features as input (the variables seen in fit)."
        )
    if arrays.kind == "frame" and not isinstance(columns, pd.RangeIndex):
        if not arrays.columns.equals(columns):
            missing = [c for c in columns if c not in arrays.columns]
            extra = [c for c in arrays.columns if c not in columns]
            detail = (
                f"missing {missing}, unexpected {extra}"
                if missing or extra
                else "same names in another order"
            )
            raise ValueError(
                f"The columns of {name} differ from those seen in fit ({detail}); "
                f"expected {list(columns)}."
            )
