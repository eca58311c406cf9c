"""Tests for tsdiff.datasets.load_tsf."""

import numpy as np
import pandas as pd
import pytest

from tsdiff.datasets import TSFData, load_tsf

HEADER = (
    "# a comment\r\n"
    "@relation Toy\r\n"
    "@attribute series_name string\r\n"
    "@attribute start_timestamp date\r\n"
    "@frequency {freq}\r\n"
    "@horizon 2\r\n"
    "@missing true\r\n"
    "@equallength false\r\n"
    "@data\r\n"
)


def _tsf(tmp_path, lines, freq="monthly", header=HEADER, name="toy.tsf"):
    path = tmp_path / name
    path.write_bytes((header.format(freq=freq) + "\r\n".join(lines) + "\r\n").encode())
    return path


@pytest.fixture(scope="module")
def m4_hourly(shared_data):
    return load_tsf(shared_data("monash/m4_hourly_dataset.tsf"))


def test_m4_hourly(m4_hourly, shared_data):
    assert isinstance(m4_hourly, TSFData)
    data = m4_hourly.data
    assert list(data.columns) == ["value"] and data["value"].dtype == np.float64
    assert data.index.names == ["series", "time"]
    assert data.index.get_level_values("series").nunique() == 414
    assert m4_hourly.frequency == "h" and m4_hourly.horizon == 48
    assert m4_hourly.metadata["frequency"] == "hourly"
    assert m4_hourly.metadata["equallength"] is False
    lengths = data.groupby(level="series", sort=False).size()
    assert (lengths.min(), lengths.max()) == (748, 1008)
    # first series, straight from the file
    with open(shared_data("monash/m4_hourly_dataset.tsf"), encoding="latin-1") as f:
        line = next(row for row in f if row.startswith("T1:"))
    name, start, values = line.strip().split(":")
    t1 = data.loc["T1", "value"]
    np.testing.assert_array_equal(t1.to_numpy(), np.array(values.split(","), float))
    assert t1.index[0] == pd.Timestamp("2015-07-01 12:00")
    assert t1.index[1] - t1.index[0] == pd.Timedelta(hours=1)


@pytest.mark.parametrize(
    ("name", "n_series", "freq", "horizon"),
    [
        ("electricity_weekly_dataset.tsf", 321, "W-SUN", 8),
        ("traffic_weekly_dataset.tsf", 862, "W-THU", 8),
        ("solar_weekly_dataset.tsf", 137, "W-SUN", 5),
    ],
)
def test_weekly_panels(shared_data, name, n_series, freq, horizon):
    tsf = load_tsf(shared_data(f"monash/{name}"))
    assert tsf.frequency == freq and tsf.horizon == horizon
    assert tsf.data.index.get_level_values("series").nunique() == n_series
    assert len(tsf.metadata["series"]) == n_series


def test_missing_values_and_month_starts(tmp_path):
    tsf = load_tsf(
        _tsf(tmp_path, ["A:2020-01-01 00-00-00:1,?,3", "B:2020-03-01 00-00-00:4,5"])
    )
    assert tsf.frequency == "MS" and tsf.horizon == 2
    assert tsf.metadata["relation"] == "Toy" and tsf.metadata["missing"] is True
    np.testing.assert_array_equal(tsf.data["value"].to_numpy(), [1, np.nan, 3, 4, 5])
    assert list(tsf.data.loc["A"].index) == list(
        pd.date_range("2020-01-01", periods=3, freq="MS")
    )
    assert tsf.data.loc["B"].index[-1] == pd.Timestamp("2020-04-01")
    assert tsf.metadata["series"].loc["B", "start_timestamp"] == pd.Timestamp(
        "2020-03-01"
    )


@pytest.mark.parametrize(
    ("freq", "start", "alias", "second"),
    [
        ("monthly", "2020-01-31", "ME", "2020-02-29"),
        ("monthly", "2020-01-15", None, "2020-02-15"),
        ("quarterly", "2020-02-01", "QS-FEB", "2020-05-01"),
        ("yearly", "2020-12-31", "YE-DEC", "2021-12-31"),
        ("daily", "2020-01-01", "D", "2020-01-02"),
        ("half_hourly", "2020-01-01", "30min", "2020-01-01 00:30"),
        ("10_minutes", "2020-01-01", "10min", "2020-01-01 00:10"),
        ("weekly", "2020-01-01", "W-WED", "2020-01-08"),
    ],
)
def test_frequency_mapping(tmp_path, freq, start, alias, second):
    tsf = load_tsf(_tsf(tmp_path, [f"A:{start} 00-00-00:1,2"], freq=freq))
    assert tsf.frequency == alias
    assert tsf.data.index.get_level_values("time")[1] == pd.Timestamp(second)


def test_weekly_series_on_different_weekdays_share_no_alias(tmp_path):
    lines = ["A:2020-01-01 00-00-00:1,2", "B:2020-01-02 00-00-00:1,2"]
    tsf = load_tsf(_tsf(tmp_path, lines, freq="weekly"))
    assert tsf.frequency is None
    assert tsf.data.loc["B"].index[1] == pd.Timestamp("2020-01-09")


def test_without_start_timestamps_time_is_an_integer_step(tmp_path):
    header = "@attribute series_name string\n@frequency yearly\n@data\n"
    tsf = load_tsf(_tsf(tmp_path, ["A:1,2,3", "B:4,5"], header=header))
    assert tsf.frequency is None and tsf.horizon is None
    assert list(tsf.data.index.get_level_values("time")) == [0, 1, 2, 0, 1]


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.tsf"):
        load_tsf(tmp_path / "absent.tsf")


@pytest.mark.parametrize(
    ("header", "lines", "match"),
    [
        ("@relation x\n@attribute series_name string\n", [], "no '@data' line"),
        ("junk\n@data\n", ["A:1"], "line 1: expected a '#' comment"),
        ("@attribute series_name text\n@data\n", ["A:1"], "expected '@attribute"),
        ("@horizon soon\n@data\n", ["1,2"], "@horizon must be an integer"),
        (HEADER, ["A:2020-01-01 00-00-00"], "line 10: expected 3 ':'-separated"),
        (HEADER, ["A:2020-01-01 00-00-00:1,x"], "line 10: bad value"),
        (HEADER, ["A:yesterday:1,2"], "'start_timestamp' \\(date\\) does not parse"),
        (HEADER, ["A:2020-01-01 00-00-00:1", "A:2020-01-01 00-00-00:2"], "not unique"),
        (
            HEADER.replace("@equallength false", "@equallength true"),
            ["A:2020-01-01 00-00-00:1", "B:2020-01-01 00-00-00:2,3"],
            "series lengths differ",
        ),
        (HEADER, [], "no series after @data"),
    ],
)
def test_malformed_files_raise_value_error(tmp_path, header, lines, match):
    with pytest.raises(ValueError, match=match):
        load_tsf(_tsf(tmp_path, lines, header=header, name="bad.tsf"))
