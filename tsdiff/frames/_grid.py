"""The regular time grid of an index: frequency inference and the step of the grid.

Missing timestamps become grid rows of their own, so that every step of a window is
one step of the frequency; timestamps off the grid are an error.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd


def _regular_grid(index: pd.Index, freq: Any, name: str) -> tuple[pd.Index, Any, Any]:
    """Return the regular grid, the grid row of each input row, and the grid step."""
    n = len(index)
    if isinstance(index, pd.RangeIndex):
        step = index.step if n > 1 else 1
        if step < 0:
            raise ValueError(f"The index of {name} must be increasing.")
        return index, np.arange(n), step
    is_time = isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex))
    if not is_time and pd.api.types.infer_dtype(index, skipna=True) == "datetime":
        # Timestamps held as objects: one DatetimeIndex, unless their zones differ.
        try:
            index = pd.DatetimeIndex(index)
        except (TypeError, ValueError):
            raise ValueError(
                f"The index of {name} mixes time zones (or time-zone-aware and "
                "naive timestamps); convert every timestamp to one time zone first, "
                "e.g. `pd.to_datetime(index, utc=True)`."
            ) from None
        is_time = True
    if not is_time and not pd.api.types.is_integer_dtype(index.dtype):
        if index.has_duplicates:
            raise ValueError(f"The index of {name} has duplicated labels.")
        return index, np.arange(n), None
    _check_order(index, name)
    if isinstance(index, pd.PeriodIndex):
        step = index.freq if freq is None else pd.tseries.frequencies.to_offset(freq)
        grid = pd.period_range(index[0], index[-1], freq=step)
    elif isinstance(index, pd.DatetimeIndex):
        step = _datetime_step(index, freq, name)
        if step is None:
            return index, np.arange(n), None
        grid = pd.date_range(index[0], index[-1], freq=step, name=index.name)
    else:
        step = _integer_step(index)
        grid = pd.Index(np.arange(index[0], index[-1] + 1, step), name=index.name)
    rows = grid.get_indexer(index)
    if (rows < 0).any():
        off = list(index[rows < 0][:3])
        raise ValueError(
            f"The timestamps of {name} do not lie on one regular grid of frequency "
            f"{_freq_str(step)} (e.g. {off}); pass `freq` explicitly or resample."
        )
    return grid, rows, step


_COMMON = 0.1
"""Share of the spacings of irregular timestamps that the finest spacing needs to be
their grid (a timestamp or two off the grid is an error, not a finer grid)."""


def _check_order(index: pd.Index, name: str) -> None:
    if index.hasnans:
        raise ValueError(f"The index of {name} contains missing timestamps (NaT).")
    if index.has_duplicates:
        dup = list(index[index.duplicated()].unique()[:3])
        raise ValueError(f"The index of {name} has duplicated timestamps, e.g. {dup}.")
    if not index.is_monotonic_increasing:
        raise ValueError(
            f"The index of {name} is not sorted in increasing time order; sort it "
            "first (e.g. `X.sort_index()`)."
        )


def _datetime_step(index: pd.DatetimeIndex, freq: Any, name: str) -> Any:
    if freq is not None:
        try:
            return pd.tseries.frequencies.to_offset(freq)
        except ValueError as err:
            raise ValueError(f"freq={freq!r} is not a valid frequency: {err}") from err
    if index.freq is not None:
        return index.freq
    if len(index) < 2:
        return None
    inferred = _infer_freq(index)
    if inferred is not None:
        return inferred
    # Gaps in the timestamps: infer the frequency on short stretches (most of which
    # hold no gap), so calendar frequencies such as business days or month starts are
    # recognised; fall back to the most common spacing (or the finest one, see
    # below). _regular_grid then checks that every timestamp lies on the grid (a
    # stray timestamp is an error, not a reason to use a finer grid).
    votes = Counter(
        _infer_freq(index[start : start + 8])
        for start in range(0, min(len(index) - 2, 800), 4)
    )
    votes.pop(None, None)
    if votes:
        return votes.most_common(1)[0][0]
    spacings = pd.Series(index[1:] - index[:-1]).value_counts()
    step, finest = spacings.idxmax(), spacings.index.min()
    # Records at irregular times of one grid (gaps of 1 to 4 hours): the finest
    # spacing, where every spacing is a whole number of it and it is common.
    if spacings[finest] >= _COMMON * spacings.sum() and all(
        s % finest == pd.Timedelta(0) for s in spacings.index
    ):
        step = finest
    days, rest = divmod(step, pd.Timedelta(days=1))
    if days and not rest and len(set(index.time)) == 1:
        # Whole days at one time of day: calendar days, which also span a daylight
        # saving change (a fixed 24 h step would leave the grid there).
        return pd.tseries.frequencies.to_offset(f"{days}D")
    return pd.tseries.frequencies.to_offset(step)


def _infer_freq(index: pd.DatetimeIndex) -> Any:
    """pandas' inferred frequency as an offset, or None (pandas 2 and 3 alike)."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        # pandas 3.1 announces that infer_freq will return offsets; both work here.
        warnings.simplefilter("ignore")
        inferred = pd.infer_freq(index)
    return None if inferred is None else pd.tseries.frequencies.to_offset(inferred)


def own_step(index: pd.Index) -> Any:
    """The regular step of a datetime or period index as an offset: its ``freq``,
    else the one pandas infers from three or more points; None where it has none
    (one or two points without ``freq``, irregular points, integer times).

    Examples
    --------
    >>> import pandas as pd
    >>> from tsdiff.frames import own_step
    >>> own_step(pd.date_range("2024-01-01", periods=3, freq="D")).freqstr
    'D'
    >>> own_step(pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 01:00",
    ...                            "2024-01-01 05:00"])) is None
    True
    """
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        return None
    if index.freq is not None:
        return pd.tseries.frequencies.to_offset(index.freq)
    return _infer_freq(index)


def _integer_step(index: pd.Index) -> int:
    if len(index) < 2:
        return 1
    spacings, counts = np.unique(
        np.diff(index.to_numpy().astype(np.int64)), return_counts=True
    )
    return int(spacings[counts.argmax()])


def _freq_str(step: Any) -> str:
    return getattr(step, "freqstr", str(step))
