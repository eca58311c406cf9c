"""Tests for tsdiff.datasets.load_pm25."""

import csv

import numpy as np
import pandas as pd
import pytest

from tsdiff.datasets import PM25Data, load_pm25

HEADER = "datetime,001001,001002\n"


def _write_pair(folder, ground_rows, missing_rows, header=HEADER):
    (folder / "pm25_ground.txt").write_text(header + "".join(ground_rows))
    (folder / "pm25_missing.txt").write_text(header + "".join(missing_rows))
    return folder


ROWS = [
    "2014/05/01 01:00:00,10,20\n",
    "2014/05/01 02:00:00,,21\n",
    "2014/05/01 03:00:00,12,22\n",
]


@pytest.fixture(scope="module")
def pm25(shared_data):
    return load_pm25(shared_data("beijing_pm25_stmvl"))


def test_shapes_index_and_columns(pm25):
    assert isinstance(pm25, PM25Data)
    for frame in (pm25.ground, pm25.missing):
        assert frame.shape == (8759, 36)
        assert isinstance(frame.index, pd.DatetimeIndex)
        assert frame.index.freqstr == "h" and frame.index.name == "time"
        assert frame.index[0] == pd.Timestamp("2014-05-01 01:00")
        assert frame.index[-1] == pd.Timestamp("2015-04-30 23:00")
        assert list(frame.columns) == [f"0010{k:02d}" for k in range(1, 37)]
        assert frame.columns.name == "station"
        assert (frame.dtypes == np.float64).all()


def test_first_row_matches_the_raw_file(pm25, shared_data):
    with open(shared_data("beijing_pm25_stmvl/pm25_ground.txt")) as handle:
        reader = csv.reader(handle)
        header, first = next(reader), next(reader)
    assert header[1:] == list(pm25.ground.columns)
    expected = [float(v) if v else np.nan for v in first[1:]]
    np.testing.assert_array_equal(pm25.ground.iloc[0].to_numpy(), expected)


def test_missingness_and_evaluation_mask(pm25):
    assert pm25.ground.isna().to_numpy().mean() == pytest.approx(0.1325, abs=5e-4)
    assert pm25.missing.isna().to_numpy().mean() == pytest.approx(0.2458, abs=5e-4)
    assert int(pm25.target_mask.to_numpy().sum()) == 35737


def test_path_of_the_ground_file_finds_its_sibling(pm25, shared_data):
    other = load_pm25(shared_data("beijing_pm25_stmvl/pm25_ground.txt"))
    pd.testing.assert_frame_equal(other.missing, pm25.missing)


def test_small_handcrafted_pair(tmp_path):
    _write_pair(tmp_path, ROWS, [ROWS[0], ROWS[1].replace("21", ""), ROWS[2]])
    data = load_pm25(tmp_path)
    assert list(data.ground.columns) == ["001001", "001002"]
    assert data.ground.index.freqstr == "h"
    assert data.target_mask.to_numpy().tolist() == [
        [False, False],
        [False, True],
        [False, False],
    ]


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_pm25(tmp_path / "nowhere")


def test_missing_sibling_is_named(tmp_path):
    (tmp_path / "pm25_ground.txt").write_text(HEADER + ROWS[0])
    with pytest.raises(FileNotFoundError, match="pm25_missing.txt"):
        load_pm25(tmp_path / "pm25_ground.txt")


def test_path_of_the_missing_table_is_refused(tmp_path):
    _write_pair(tmp_path, ROWS, ROWS)
    with pytest.raises(ValueError, match="not pm25_missing.txt"):
        load_pm25(tmp_path / "pm25_missing.txt")


def test_bad_header_raises(tmp_path):
    _write_pair(tmp_path, ROWS, ROWS, header="time,001001,001002\n")
    with pytest.raises(ValueError, match=r"pm25_ground.txt: expected a header"):
        load_pm25(tmp_path)


def test_non_numeric_value_raises(tmp_path):
    bad = [ROWS[0], "2014/05/01 02:00:00,x,21\n", ROWS[2]]
    _write_pair(tmp_path, bad, ROWS)
    with pytest.raises(ValueError, match="must be numeric"):
        load_pm25(tmp_path)


def test_dates_off_the_hourly_grid_raise(tmp_path):
    rows = [ROWS[0], ROWS[2], "2014/05/01 05:00:00,1,2\n"]
    _write_pair(tmp_path, rows, rows)
    with pytest.raises(ValueError, match="regular time grid"):
        load_pm25(tmp_path)


def test_missing_table_must_agree_with_ground(tmp_path):
    _write_pair(tmp_path, ROWS, [ROWS[0].replace(",10,", ",11,"), *ROWS[1:]])
    with pytest.raises(ValueError, match="must equal the ground table"):
        load_pm25(tmp_path)


def test_value_present_only_in_missing_table_raises(tmp_path):
    _write_pair(tmp_path, ROWS, [ROWS[0], ROWS[1].replace(",,", ",5,"), ROWS[2]])
    with pytest.raises(ValueError, match="must equal the ground table"):
        load_pm25(tmp_path)


def test_tables_of_different_length_raise(tmp_path):
    _write_pair(tmp_path, ROWS, ROWS[:2])
    with pytest.raises(ValueError, match="shapes differ"):
        load_pm25(tmp_path)
