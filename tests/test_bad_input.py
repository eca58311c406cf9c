"""Every kind of bad input gets a ValueError or TypeError naming the problem, raised by
the public method before any training starts."""

import numpy as np
import pandas as pd
import pytest
import torch

import tsdiff.engine
from tsdiff import DiffusionForecaster, DiffusionImputer


@pytest.fixture(autouse=True)
def no_training(monkeypatch):
    """Bad input must be rejected before the training loop is reached."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the input was validated")

    monkeypatch.setattr(tsdiff.engine.DiffusionModel, "fit", refuse)


@pytest.fixture(params=["imputer", "forecaster"])
def estimator(request, tiny):
    if request.param == "imputer":
        return DiffusionImputer(window_length=8, **tiny)
    return DiffusionForecaster(context_length=8, prediction_length=4, **tiny)


def test_infinite_values(estimator, frame):
    bad = frame.copy()
    bad.iloc[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"infinite values in columns \['v1'\]"):
        estimator.fit(bad)


def test_column_all_missing_at_fit(estimator, frame):
    bad = frame.copy()
    bad["v2"] = np.nan
    with pytest.raises(ValueError, match=r"\['v2'\] have no observed value"):
        estimator.fit(bad)


def test_non_numeric_column(estimator, frame):
    bad = frame.copy()
    bad["site"] = "a"
    with pytest.raises(TypeError, match=r"non-numeric columns \['site'\]"):
        estimator.fit(bad)


def test_boolean_column_is_not_numeric(estimator, frame):
    bad = frame.copy()
    bad["flag"] = True
    with pytest.raises(TypeError, match="flag"):
        estimator.fit(bad)


def test_complex_values(estimator):
    with pytest.raises(ValueError, match="Complex data not supported"):
        estimator.fit(np.ones((30, 2), dtype=complex))


def test_duplicated_timestamps(estimator, frame):
    bad = pd.concat([frame.iloc[:10], frame.iloc[9:]])
    with pytest.raises(ValueError, match="duplicated timestamps"):
        estimator.fit(bad)


def test_unsorted_timestamps(estimator, frame):
    with pytest.raises(ValueError, match="not sorted"):
        estimator.fit(frame.iloc[::-1])


def test_timestamps_off_the_grid(estimator, frame):
    index = frame.index.to_series()
    index.iloc[5] += pd.Timedelta(minutes=30)
    with pytest.raises(ValueError, match="regular grid"):
        estimator.fit(frame.set_axis(pd.DatetimeIndex(index)))


def test_wrong_container_type(estimator):
    with pytest.raises(TypeError, match="DataFrame"):
        estimator.fit("not a series")
    with pytest.raises(TypeError, match="DataFrame"):
        estimator.fit({"a": [1.0, 2.0]})


def test_four_dimensional_array(estimator):
    # A 3-D array is a panel (series x time steps x variables); 4-D is nothing.
    with pytest.raises(ValueError, match="3-D panel .* got an array with 4 dim"):
        estimator.fit(np.zeros((2, 4, 30, 2)))


def test_empty_input(estimator, frame):
    with pytest.raises(ValueError, match="empty"):
        estimator.fit(frame.iloc[:0])


def test_series_too_short_for_forecaster(tiny, frame):
    fc = DiffusionForecaster(context_length=48, prediction_length=24, **tiny)
    with pytest.raises(ValueError, match="too few for a horizon"):
        fc.fit(frame.iloc[:24])  # shorter, it fits with a shorter context


def test_single_row_for_imputer(tiny, frame):
    with pytest.raises(ValueError, match="1 sample"):
        DiffusionImputer(window_length=8, **tiny).fit(frame.iloc[:1])


def test_exogenous_covariates_must_cover_the_series(tiny, frame):
    fc = DiffusionForecaster(context_length=8, prediction_length=4, **tiny)
    with pytest.raises(ValueError, match="X has no values at 5 time points"):
        fc.fit(frame, X=frame.iloc[5:].fillna(0.0))


def test_window_stride_longer_than_window(tiny, frame):
    imp = DiffusionImputer(window_length=8, window_stride=9, **tiny)
    with pytest.raises(ValueError, match="'window_stride'"):
        imp.fit(frame)


def test_fh_beyond_prediction_length_at_fit(tiny, frame):
    fc = DiffusionForecaster(context_length=8, prediction_length=4, **tiny)
    with pytest.raises(ValueError, match="prediction_length"):
        fc.fit(frame, fh=5)
    with pytest.raises(ValueError, match="in-sample"):
        fc.fit(frame, fh=[0, 1])
    with pytest.raises(ValueError, match="soon"):
        fc.fit(frame, fh=["soon"])
    with pytest.raises(TypeError, match="fh must be"):
        fc.fit(frame, fh=np.array([1.5]))


def test_cuda_requested_without_cuda(tiny, frame, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    imp = DiffusionImputer(window_length=8, **{**tiny, "device": "cuda"})
    with pytest.raises(ValueError, match="CUDA is not available"):
        imp.fit(frame)
