"""The seasonal lags an estimator's network reads, from its ``lags`` parameter and
the time index of the training data."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tsdiff.frames import SeriesArrays, seasonal_periods

__all__ = ["seasonal_lags"]


def seasonal_lags(
    lags: Any, arrays: SeriesArrays, window_length: int, owner: str
) -> tuple[int, ...]:
    """The lags the network reads: ``lags`` itself, or for "auto" the steps that a
    day, a week and a year span on the grid of the longest series, those shorter
    than the window; () for None.

    Raises
    ------
    ValueError
        Naming the estimator ``owner``, for a given lag that does not fit in the
        window.
    """
    if lags is None:
        return ()
    if lags != "auto":
        too_long = [s for s in lags if s >= window_length]
        if too_long:
            raise ValueError(
                f"The 'lags' parameter of {owner} must hold lags shorter than the "
                f"window ({window_length} steps), inside which the network looks "
                f"them up. Got {too_long}."
            )
        return tuple(sorted(lags))
    rows = max(arrays.segments, key=lambda r: r.stop - r.start)
    times = arrays.grid_index[rows]
    if isinstance(times, pd.MultiIndex):
        times = times.get_level_values(-1)
    return tuple(s for s in seasonal_periods(times) if s < window_length)
