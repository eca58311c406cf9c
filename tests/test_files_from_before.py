"""Checkpoints and saved models written by tsdiff before training drew windows by
steps (``tests/fixtures/before_step_budget``, written at commit f57ef08 by its
``make.py``) keep resuming and loading: a resumed checkpoint trains on exactly as
the fit that wrote it would have."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionForecaster, DiffusionImputer

FILES = Path(__file__).parent / "fixtures" / "before_step_budget"
# The settings of make.py; every other parameter took its default of those days.
TINY = dict(
    n_layers=1,
    n_channels=8,
    n_heads=2,
    time_embedding_dim=8,
    feature_embedding_dim=4,
    diffusion_embedding_dim=8,
    n_diffusion_steps=5,
    n_epochs=3,
    batch_size=16,
    num_samples=8,
    device="cpu",
    random_state=0,
)
ESTIMATORS = {
    "imputer": (DiffusionImputer, dict(window_length=8)),
    "forecaster": (
        DiffusionForecaster,
        dict(context_length=6, prediction_length=3, calendar=None),  # then's default
    ),
}
THEN = dict(
    steps_per_epoch=None,
    lr_schedule="multistep",
    lags=None,
    interpolated_input=False,
    time_kernel=1,
)


@pytest.fixture(scope="module")
def data():
    values = np.load(FILES / "data.npy")
    index = pd.date_range("2024-01-01", periods=len(values), freq="h")
    return pd.DataFrame(values, index=index, columns=["v0", "v1"])


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_an_old_checkpoint_resumes_to_the_fit_it_began(name, data, tmp_path):
    cls, shape = ESTIMATORS[name]
    path = tmp_path / "state.pt"
    path.write_bytes((FILES / f"{name}_checkpoint.pt").read_bytes())
    fitted = cls(**TINY, **shape, **THEN, checkpoint_path=path).fit(data)
    expected = torch.load(FILES / f"{name}_weights.pt", weights_only=True)
    # Equal up to float rounding: the order of reductions may differ with the
    # threads and kernels of this process.
    for key, value in fitted.network_.state_dict().items():
        torch.testing.assert_close(value, expected[key], msg=key)
    then = json.loads((FILES / f"{name}_history.json").read_text())
    now = [{k: r[k] for k in then[0]} for r in fitted.history_]
    assert [r["epoch"] for r in now] == [1, 2, 3]  # epochs 2 and 3 trained here
    for old, new in zip(then, now, strict=True):
        assert new.pop("device") == old.pop("device")
        assert new == pytest.approx(old, rel=1e-5)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_an_old_checkpoint_is_refused_under_the_new_budget(name, data, tmp_path):
    cls, shape = ESTIMATORS[name]
    path = tmp_path / "state.pt"
    path.write_bytes((FILES / f"{name}_checkpoint.pt").read_bytes())
    with pytest.raises(ValueError, match="steps_per_epoch=None and lr_schedule"):
        cls(**TINY, **shape, checkpoint_path=path).fit(data)


def test_an_old_saved_imputer_loads_and_imputes_as_then(data):
    imputer = DiffusionImputer.load(FILES / "imputer_model", device="cpu")
    assert imputer.get_params()["steps_per_epoch"] is None
    assert imputer.get_params()["lr_schedule"] == "multistep"
    expected = np.load(FILES / "imputer_transform.npy")
    np.testing.assert_allclose(imputer.transform(data), expected, rtol=1e-5)


def test_an_old_saved_forecaster_loads_and_samples_as_then():
    forecaster = DiffusionForecaster.load(FILES / "forecaster_model", device="cpu")
    assert forecaster.get_params()["lags"] is None
    assert forecaster.get_params()["calendar"] is None
    expected = np.load(FILES / "forecaster_samples.npy")
    samples = forecaster.sample(num_samples=4, random_state=1)
    np.testing.assert_allclose(samples, expected, rtol=1e-5, atol=1e-6)
