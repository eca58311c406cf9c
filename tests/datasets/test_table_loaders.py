"""Tests for load_ett, load_ili and load_exchange_rate."""

import gzip

import numpy as np
import pandas as pd
import pytest

from tsdiff.datasets import (
    ETT_COLUMNS,
    EXCHANGE_RATE_COLUMNS,
    ILI_COLUMNS,
    load_ett,
    load_exchange_rate,
    load_ili,
)

ETT_HEADER = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n"


def _first_data_line(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        lines = [next(handle), next(handle)]
    return lines[-1].strip().split(",")


@pytest.mark.parametrize(
    ("name", "n_rows", "freq", "last"),
    [
        ("ETTh1.csv", 17420, "h", "2018-06-26 19:00"),
        ("ETTh2.csv", 17420, "h", "2018-06-26 19:00"),
        ("ETTm1.csv.gz", 69680, "15min", "2018-06-26 19:45"),
    ],
)
def test_ett(shared_data, name, n_rows, freq, last):
    path = shared_data(f"ett/{name}")
    frame = load_ett(path)
    assert frame.shape == (n_rows, 7)
    assert list(frame.columns) == list(ETT_COLUMNS) and frame.columns.name == "variable"
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "date"
    assert frame.index.freqstr == freq
    assert frame.index[0] == pd.Timestamp("2016-07-01")
    assert frame.index[-1] == pd.Timestamp(last)
    assert (frame.dtypes == np.float64).all() and not frame.isna().any().any()
    first = _first_data_line(path)
    np.testing.assert_array_equal(frame.iloc[0].to_numpy(), np.array(first[1:], float))


def test_ili(shared_data):
    frame = load_ili(shared_data("ili/national_illness.csv"))
    assert frame.shape == (966, 7)
    assert list(frame.columns) == list(ILI_COLUMNS)
    assert frame.index.freqstr == "W-TUE" and frame.index.name == "date"
    assert frame.index[0] == pd.Timestamp("2002-01-01")
    assert frame.index[-1] == pd.Timestamp("2020-06-30")
    assert frame.loc["2002-01-01", "ILITOTAL"] == 2060.0


def test_exchange_rate(shared_data):
    path = shared_data("exchange_rate/exchange_rate.txt.gz")
    frame = load_exchange_rate(path)
    assert frame.shape == (7588, 8)
    assert list(frame.columns) == list(EXCHANGE_RATE_COLUMNS)
    assert EXCHANGE_RATE_COLUMNS[0] == "Australia" and EXCHANGE_RATE_COLUMNS[-1] == (
        "Singapore"
    )
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.name == "step"
    np.testing.assert_array_equal(
        frame.iloc[1].to_numpy(), np.array(_first_data_line(path), float)
    )


def test_plain_and_gzipped_text_agree(tmp_path):
    text = "1,2,3,4,5,6,7,8\n1.5,2,3,4,5,6,7,9\n"
    (tmp_path / "rates.txt").write_text(text)
    (tmp_path / "rates.txt.gz").write_bytes(gzip.compress(text.encode()))
    pd.testing.assert_frame_equal(
        load_exchange_rate(tmp_path / "rates.txt"),
        load_exchange_rate(tmp_path / "rates.txt.gz"),
    )


def test_irregular_dates_leave_freq_unset(tmp_path):
    rows = ["2016-07-01 00:00:00", "2016-07-01 01:00:00", "2016-07-01 03:00:00"]
    path = tmp_path / "ETTx.csv"
    path.write_text(ETT_HEADER + "".join(f"{r},1,2,3,4,5,6,7\n" for r in rows))
    frame = load_ett(path)
    assert frame.shape == (3, 7) and frame.index.freq is None


@pytest.mark.parametrize("loader", [load_ett, load_ili, load_exchange_rate])
def test_missing_file_raises_file_not_found(tmp_path, loader):
    with pytest.raises(FileNotFoundError, match="absent.csv"):
        loader(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("loader", "text", "match"),
    [
        (load_ett, "date,HUFL,OT\n2016-07-01,1,2\n", r"ETT.csv: expected an ETT CSV"),
        (load_ett, ETT_HEADER + "2016-07-01,1,2,3,4,5,6,hot\n", "'OT' must be numeric"),
        (load_ett, ETT_HEADER + "someday,1,2,3,4,5,6,7\n", "unparsable date"),
        (
            load_ett,
            ETT_HEADER + "2016-07-02,1,2,3,4,5,6,7\n2016-07-01,1,2,3,4,5,6,7\n",
            "strictly increase",
        ),
        (load_ili, ETT_HEADER + "2016-07-01,1,2,3,4,5,6,7\n", "expected an ILI CSV"),
        (load_exchange_rate, "1,2,3,4,5,6,7\n", "got 7 columns"),
        (load_exchange_rate, "1,2,3,4,5,6,7,x\n", "must be numeric"),
        (load_exchange_rate, "1,2,3,4,5,6,7,\n", "empty fields"),
    ],
)
def test_malformed_files_raise_value_error(tmp_path, loader, text, match):
    path = tmp_path / "ETT.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        loader(path)


def test_corrupt_gzip_raises_value_error(tmp_path):
    path = tmp_path / "ETTh1.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="ETTh1.csv.gz"):
        load_ett(path)
