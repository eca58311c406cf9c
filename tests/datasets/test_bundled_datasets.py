"""Tests for the statsmodels-bundled loaders of tsdiff.datasets."""

import numpy as np
import pandas as pd
import pytest
from statsmodels import datasets as sm_datasets

from tsdiff.datasets import (
    load_co2,
    load_elnino,
    load_macrodata,
    load_nile,
    load_sunspots,
)

CASES = [
    (load_co2, (2284, 1), pd.DatetimeIndex, "W-SAT", ["co2"]),
    (load_sunspots, (309, 1), pd.DatetimeIndex, "YS-JAN", ["sunactivity"]),
    (load_nile, (100, 1), pd.DatetimeIndex, "YS-JAN", ["volume"]),
    (load_elnino, (732, 1), pd.DatetimeIndex, "MS", ["sst"]),
]


@pytest.mark.parametrize(("loader", "shape", "index_type", "freq", "columns"), CASES)
def test_shape_index_and_columns(loader, shape, index_type, freq, columns):
    frame = loader()
    assert frame.shape == shape
    assert isinstance(frame.index, index_type)
    assert frame.index.freqstr == freq
    assert frame.index.name == "date"
    assert frame.columns.name == "variable"
    assert list(frame.columns) == columns
    assert (frame.dtypes == np.float64).all()


def test_co2_keeps_its_native_gaps():
    frame = load_co2()
    assert frame["co2"].isna().sum() == 59
    assert frame.index[0] == pd.Timestamp("1958-03-29")
    assert frame["co2"].iloc[0] == pytest.approx(316.1)


def test_macrodata_is_quarterly_and_numeric_only():
    frame = load_macrodata()
    assert frame.shape == (203, 12)
    assert isinstance(frame.index, pd.PeriodIndex)
    assert frame.index.freqstr == "Q-DEC"
    assert str(frame.index[0]) == "1959Q1" and str(frame.index[-1]) == "2009Q3"
    assert "year" not in frame.columns and "quarter" not in frame.columns
    assert frame.loc[pd.Period("1959Q2"), "realgdp"] == pytest.approx(2778.801)


def test_elnino_reads_the_year_by_month_table_row_by_row():
    raw = sm_datasets.elnino.load_pandas().data
    frame = load_elnino()
    assert frame.index[0] == pd.Timestamp("1950-01-01")
    assert frame.index[-1] == pd.Timestamp("2010-12-01")
    assert frame.loc["1950-02-01", "sst"] == raw.loc[0, "FEB"]
    assert frame.loc["1951-12-01", "sst"] == raw.loc[1, "DEC"]


def test_yearly_values_are_aligned_with_their_years():
    assert load_sunspots().loc["1700-01-01", "sunactivity"] == 5.0
    assert load_nile().loc["1871-01-01", "volume"] == 1120.0


def test_each_call_returns_a_fresh_frame():
    first = load_co2()
    first.iloc[0, 0] = -1.0
    assert load_co2().iloc[0, 0] == pytest.approx(316.1)
