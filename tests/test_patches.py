"""Both estimators with a denoiser over patch tokens (``patch_length``)."""

import pickle

import numpy as np
import pytest

from tsdiff import DiffusionForecaster, DiffusionImputer


@pytest.fixture(scope="module")
def frame(make_frame):
    return make_frame(n_steps=60, n_vars=3)


@pytest.fixture(scope="module")
def imputer(frame, tiny_shared):
    params = dict(tiny_shared, window_length=12, patch_length=4, lags=(6,))
    return DiffusionImputer(**params).fit(frame)


def test_imputer_fills_gaps_and_keeps_every_given_value(imputer, frame):
    assert imputer.network_.config.patch_length == 4
    filled = imputer.transform(frame)
    given = frame.notna().to_numpy()
    np.testing.assert_array_equal(filled.to_numpy()[given], frame.to_numpy()[given])
    assert np.isfinite(filled.to_numpy()).all()
    bands = imputer.predict_quantiles(frame)
    assert bands.shape[0] == len(frame) and np.isfinite(bands.to_numpy()).all()


def test_patched_model_saves_loads_and_pickles(imputer, frame, tmp_path):
    imputer.save(tmp_path / "m")
    loaded = DiffusionImputer.load(tmp_path / "m")
    assert loaded.network_.config.patch_length == 4
    copied = pickle.loads(pickle.dumps(imputer))
    expected = imputer.transform(frame)
    for other in (loaded, copied):
        np.testing.assert_array_equal(other.transform(frame), expected)


def test_forecaster_with_patches_forecasts_every_step(frame, tiny):
    forecaster = DiffusionForecaster(
        context_length=9, prediction_length=3, patch_length=3, **tiny
    ).fit(frame)
    quantiles = forecaster.predict_quantiles(fh=[1, 2, 3])
    assert quantiles.shape == (3, 3 * len(forecaster.quantile_levels))
    assert np.isfinite(quantiles.to_numpy()).all()


def test_patch_length_is_part_of_what_a_checkpoint_must_match(frame, tiny, tmp_path):
    path = tmp_path / "state.pt"
    DiffusionImputer(window_length=12, checkpoint_path=path, **tiny).fit(frame)
    other = DiffusionImputer(
        window_length=12, patch_length=2, checkpoint_path=path, **tiny
    )
    with pytest.raises(ValueError, match="other data or settings"):
        other.fit(frame)
