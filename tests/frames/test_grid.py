"""The time grid read from an index: calendar days across a daylight-saving change,
and an index mixing time zones named as such."""

import numpy as np
import pandas as pd
import pytest

from tsdiff.frames import to_arrays


def test_daily_stamps_with_a_gap_step_by_calendar_days_across_dst():
    # Too few stamps for pandas to infer a frequency: the most common spacing
    # decides, and whole days at one time of day are calendar days.
    stamps = pd.DatetimeIndex(["2024-03-29", "2024-03-30", "2024-04-01"])
    for index in (stamps, stamps.tz_localize("Europe/Berlin")):
        arrays = to_arrays(pd.Series(np.arange(3.0), index=index))
        assert arrays.freq == pd.offsets.Day()
        assert arrays.n_steps == 4  # 31 March is a gap, not an error


def test_hourly_spacing_at_fixed_utc_instants_keeps_a_fixed_step():
    # Midnight UTC seen from Berlin changes its wall-clock hour with DST: not
    # calendar days, so the step stays a fixed 24 h.
    utc = pd.DatetimeIndex(["2024-03-29", "2024-03-30", "2024-04-01"], tz="UTC")
    arrays = to_arrays(pd.Series(np.arange(3.0), index=utc.tz_convert("Europe/Berlin")))
    assert arrays.freq == pd.Timedelta(hours=24)


@pytest.mark.parametrize("second_zone", ["America/New_York", None])
def test_an_index_mixing_time_zones_is_refused(second_zone):
    times = pd.date_range("2024-01-01", periods=6, freq="h")
    stamps = [t.tz_localize("UTC") for t in times[:3]]
    stamps += [
        t if second_zone is None else t.tz_localize(second_zone) for t in times[3:]
    ]
    series = pd.Series(np.arange(6.0), index=pd.Index(stamps, dtype=object))
    with pytest.raises(ValueError, match="mixes time zones"):
        to_arrays(series)


def test_timestamps_held_as_objects_in_one_zone_are_a_time_index():
    times = pd.date_range("2024-01-01", periods=6, freq="h", tz="UTC")
    series = pd.Series(np.arange(6.0), index=times.astype(object))
    arrays = to_arrays(series)
    assert arrays.freq == pd.offsets.Hour() and arrays.n_steps == 6


def test_records_at_irregular_hours_lie_on_the_hourly_grid_with_gaps():
    rng = np.random.default_rng(1)
    gaps = rng.integers(1, 5, 200)  # 1 to 4 hours apart: 4 h may be most common
    index = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.cumsum(gaps), unit="h")
    arrays = to_arrays(pd.Series(rng.standard_normal(200), index=index))
    assert arrays.freq == pd.Timedelta(hours=1)
    assert arrays.n_steps == int(gaps[1:].sum()) + 1
    hourly = pd.date_range("2024-01-01", periods=64, freq="h")
    stray = hourly.to_series()
    stray.iloc[5] += pd.Timedelta(minutes=30)  # one stamp off the grid: an error
    with pytest.raises(ValueError):
        to_arrays(pd.Series(np.arange(64.0), index=pd.DatetimeIndex(stray)))
