"""Seasonal periods of a time grid, in steps: how many steps span a day, a week and a
year on the grid (so a business-day grid has a week of 5 steps, a monthly one a year
of 12)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["seasonal_periods"]

SEASONS = (pd.Timedelta(days=1), pd.Timedelta(days=7), pd.Timedelta(days=365.25))
"""The seasons looked for: day, week and year."""


def seasonal_periods(times: pd.Index) -> tuple[int, ...]:
    """Steps of the grid ``times`` that one day, one week and one year span.

    Parameters
    ----------
    times : pandas.Index
        The regular grid of one series. A DatetimeIndex or PeriodIndex gives
        periods; any other index (integers, no time) gives none.

    Returns
    -------
    tuple of int
        Increasing, distinct periods of at least 2 steps (the median over the grid
        of the steps from a time point to the step nearest one season later); a
        season longer than the grid is left out.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsdiff.frames import seasonal_periods
    >>> seasonal_periods(pd.date_range("2024-01-01", periods=24 * 400, freq="h"))
    (24, 168, 8766)
    >>> seasonal_periods(pd.date_range("2024-01-01", periods=100, freq="15min"))
    (96,)
    >>> seasonal_periods(pd.bdate_range("2024-01-01", periods=600))
    (5, 261)
    >>> seasonal_periods(pd.period_range("2000-01", periods=60, freq="M"))
    (12,)
    >>> seasonal_periods(pd.RangeIndex(100))
    ()
    """
    if isinstance(times, pd.PeriodIndex):
        times = times.to_timestamp()
    if not isinstance(times, pd.DatetimeIndex) or len(times) < 3:
        return ()
    stamps = times.as_unit("ns").asi8  # sorted nanoseconds of a regular grid
    probes = np.unique(np.linspace(0, len(stamps) - 1, 200).round().astype(int))
    periods = []
    for season in SEASONS:
        later = stamps[probes] + season.value
        inside = later <= stamps[-1]
        if not inside.any():
            continue
        later = later[inside]
        after = np.searchsorted(stamps, later)  # first step at or after
        before = np.maximum(after - 1, 0)
        nearer = np.where(
            np.abs(stamps[before] - later) <= np.abs(stamps[after] - later),
            before,
            after,
        )  # the step nearest one season later
        steps = int(np.median(nearer - probes[inside]))
        if steps >= 2 and steps not in periods:
            periods.append(steps)
    return tuple(periods)
