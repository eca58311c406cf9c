"""Forecasting horizons: the relative steps (1 = the first time point after the
cutoff) that an ``fh`` names, in any of the forms sktime takes, and the kind of a
time index."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from tsdiff.frames._output import future_index

__all__ = ["horizon_steps", "index_kind"]


def horizon_steps(
    fh: Any,
    cutoff: Any,
    step: Any,
    limit: int,
    *,
    range_error: str = "; they must lie in 1..{limit} (steps after the cutoff).",
    absolute_error: str = "future steps of frequency {freq} after the cutoff {cutoff}",
) -> np.ndarray:
    """The sorted, distinct relative steps of a forecasting horizon.

    Parameters
    ----------
    fh : int, sequence of int or of time points, pandas.Index or ForecastingHorizon
        An int ``h`` means the steps ``1..h``; ints are relative steps; time points
        (a ``pandas.Index``, or a list of timestamps or periods) are absolute, as in
        sktime, and must lie on the grid after ``cutoff``; an sktime
        ``ForecastingHorizon`` is read as its relative steps or time points.
    cutoff : Timestamp, Period or int
        The last time point of the history.
    step : DateOffset or int
        The grid step.
    limit : int
        The largest step allowed.
    range_error : str, optional
        The end of the message for steps outside ``1..limit`` (field ``limit``).
    absolute_error : str, optional
        What time points off the grid are not (fields ``limit``, ``cutoff``,
        ``freq``).

    Returns
    -------
    ndarray of shape (H,), int64
        Relative steps in increasing order.

    Raises
    ------
    TypeError
        If ``fh`` is neither an int, ints nor time points.
    ValueError
        If a step lies outside ``1..limit`` or a time point is not on the grid.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsdiff.frames import horizon_steps
    >>> cutoff, hour = pd.Timestamp("2024-01-01 23:00"), pd.offsets.Hour()
    >>> horizon_steps(3, cutoff, hour, limit=24).tolist()
    [1, 2, 3]
    >>> horizon_steps([4, 1, 4], cutoff, hour, limit=24).tolist()
    [1, 4]
    >>> times = pd.DatetimeIndex(["2024-01-02 00:00", "2024-01-02 05:00"])
    >>> horizon_steps(times, cutoff, hour, limit=24).tolist()
    [1, 6]
    >>> horizon_steps([30], cutoff, hour, limit=24)
    Traceback (most recent call last):
    ...
    ValueError: fh asks for relative steps 30..30; they must lie in 1..24 (steps after the cutoff).
    """  # noqa: E501
    if hasattr(fh, "is_relative") and hasattr(fh, "to_pandas"):  # sktime's
        fh = fh.to_pandas() if not fh.is_relative else fh.to_pandas().to_numpy()
    if (
        isinstance(fh, (list, tuple))
        and fh
        and not all(isinstance(v, numbers.Integral) for v in fh)
    ):
        fh = pd.Index(fh)  # time points given as a list
    if isinstance(fh, pd.Index):  # absolute time points, as in sktime
        steps = _absolute_steps(fh, cutoff, step, limit, absolute_error)
    elif isinstance(fh, numbers.Integral) and not isinstance(fh, bool):
        steps = np.arange(1, int(fh) + 1) if fh >= 1 else np.array([int(fh)])
    else:
        steps = np.asarray(fh).ravel()
        if steps.size == 0 or steps.dtype.kind not in "iu":
            raise TypeError(
                "fh must be an int, a non-empty sequence of ints (relative steps) "
                f"or a pandas Index of time points; got {fh!r}."
            )
    steps = np.unique(steps.astype(np.int64))
    if steps.min() < 1:  # a larger horizon would not help
        raise ValueError(
            f"fh asks for relative steps {steps.min()}..{steps.max()}; steps of 0 or "
            "less lie in the history (in-sample) and are not forecast: ask for "
            f"steps from 1 to {limit} after the cutoff."
        )
    if steps.max() > limit:
        raise ValueError(
            f"fh asks for relative steps {steps.min()}..{steps.max()}"
            + range_error.format(limit=limit)
        )
    return steps


def _absolute_steps(
    fh: pd.Index, cutoff: Any, step: Any, limit: int, absolute_error: str
) -> np.ndarray:
    """Relative steps of absolute time points, on a grid of future steps grown
    (up to ``limit``) until it covers them; 0 for a time point off the grid."""
    n = min(max(len(fh), 8), limit)
    while True:
        grid = future_index(cutoff, step, np.arange(1, n + 1))
        steps = grid.get_indexer(fh) + 1
        if (steps > 0).all() or n >= limit:
            break
        try:
            covered = grid[-1] >= fh.max()
        except (TypeError, ValueError):  # not comparable: wrong index type
            covered = True
        if covered:
            break
        n = min(4 * n, limit)
    if (steps == 0).any():
        bad = list(fh[steps == 0][:3])
        freq = getattr(step, "freqstr", step)
        where = absolute_error.format(limit=limit, cutoff=cutoff, freq=freq)
        raise ValueError(f"fh contains time points {bad} that are not {where}.")
    return steps


def index_kind(time_point: Any) -> str:
    """Kind of a time point: datetime (with its time zone), period, or integer.

    Parameters
    ----------
    time_point : Timestamp, Period or int

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> from tsdiff.frames import index_kind
    >>> index_kind(pd.Timestamp("2024-01-01", tz="UTC")), index_kind(7)
    ('datetime (tz=UTC)', 'integer')
    """
    if isinstance(time_point, pd.Timestamp):
        return f"datetime (tz={time_point.tz})"
    if isinstance(time_point, pd.Period):
        return "period"
    return "integer"
