"""Models saved and pickled before the estimators delegated to the engine's
``DiffusionModel`` (``tests/fixtures/before_diffusion_model``, written at commit 3297c92
by its ``make.py``) load and sample as they did then, to float32 rounding: the CPU's
matrix kernels, which differ between processors, may move the last bits."""

import copy
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsdiff import DiffusionForecaster, DiffusionImputer

FILES = Path(__file__).parent / "fixtures" / "before_diffusion_model"


@pytest.fixture(scope="module")
def data():
    values = np.load(FILES / "data.npy")
    index = pd.date_range("2024-01-01", periods=len(values), freq="h")
    frame = pd.DataFrame(values, index=index, columns=["v0", "v1"])
    X = pd.DataFrame({"x": np.cos(np.arange(len(values)) / 4.0)}, index=index)
    return frame.iloc[:48], X


def _same(actual, expected):
    """Equal but for the last bits of float32 arithmetic (a changed draw or model
    moves samples by orders of magnitude more)."""
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def _loaded(name, cls, how):
    if how == "save":
        return cls.load(FILES / f"{name}_model", device="cpu")
    with open(FILES / f"{name}.pkl", "rb") as file:
        return pickle.load(file)


@pytest.mark.parametrize("how", ["save", "pickle"])
def test_an_imputer_from_before_imputes_and_samples_as_then(how, data):
    y, _ = data
    imputer = _loaded("imputer", DiffusionImputer, how)
    assert isinstance(imputer, DiffusionImputer)
    _same(imputer.transform(y), np.load(FILES / "imputer_transform.npy"))
    _same(
        imputer.sample(y, num_samples=3, random_state=1),
        np.load(FILES / "imputer_samples.npy"),
    )


@pytest.mark.parametrize("how", ["save", "pickle"])
def test_a_forecaster_from_before_forecasts_as_then(how, data):
    _, X = data
    forecaster = _loaded("forecaster", DiffusionForecaster, how)
    assert forecaster.network_.config.lags == (6,)
    assert forecaster.network_.config.n_covariates > 1  # x and calendar features
    _same(
        forecaster.sample(X=X.iloc[48:], num_samples=4, random_state=1),
        np.load(FILES / "forecaster_samples.npy"),
    )
    quantiles = forecaster.predict_quantiles(X=X.iloc[48:], alpha=(0.1, 0.5, 0.9))
    _same(quantiles.to_numpy(), np.load(FILES / "forecaster_quantiles.npy"))
    assert quantiles.index[0] == pd.Timestamp("2024-01-03 00:00")


@pytest.mark.parametrize(
    ("name", "value"), [("n_diffusion_steps", 9), ("parameterization", "epsilon")]
)
def test_a_copy_keeps_the_fitted_model_not_the_changed_parameters(name, value, data):
    # A parameter of the model changed after fit is refused at sampling, in memory
    # and in copies alike: a copy rebuilds the model that was fitted.
    y, _ = data
    changed = DiffusionImputer.load(FILES / "imputer_model", device="cpu")
    changed.set_params(**{name: value})
    copies = (copy.deepcopy(changed), pickle.loads(pickle.dumps(changed)))
    for estimator in (changed, *copies):
        with pytest.raises(ValueError, match="back or fit again"):
            estimator.transform(y)


def test_copies_keep_the_mask_policy_of_the_fit():
    forecaster = _loaded("forecaster", DiffusionForecaster, "save")
    for estimator in (forecaster, pickle.loads(pickle.dumps(forecaster))):
        assert estimator.model_.mask.prediction_length == 3
        assert estimator.model_.mask.patterns is None


def test_the_fitted_model_is_saved_with_its_own_settings(data, tmp_path):
    y, _ = data
    imputer = DiffusionImputer.load(FILES / "imputer_model", device="cpu")
    imputer.set_params(n_diffusion_steps=9).save(tmp_path / "m")
    loaded = DiffusionImputer.load(tmp_path / "m", device="cpu")
    assert loaded.process_.n_steps == imputer.process_.n_steps == 5
    with pytest.raises(ValueError, match="set them back or fit again"):
        loaded.transform(y)
    loaded.set_params(n_diffusion_steps=5)
    _same(loaded.transform(y), np.load(FILES / "imputer_transform.npy"))
