"""Latent diffusion (``latent_dim``): the patch autoencoder, the latent conditioning,
and both estimators over it."""

import pickle

import numpy as np
import pytest
import torch

from tsdiff import DiffusionForecaster, DiffusionImputer
from tsdiff.data import WindowSource
from tsdiff.engine import DiffusionModel, MaskPolicy, SamplingConfig, TrainingConfig
from tsdiff.engine.latent import latent_batch, latent_condition
from tsdiff.nn import AutoencoderConfig, DenoiserConfig, PatchAutoencoder

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def codec():
    codec = PatchAutoencoder(AutoencoderConfig(patch_length=4, latent_dim=2))
    codec.reset_parameters(torch.Generator().manual_seed(0))
    return codec


def test_a_wholly_given_patch_encodes_alike_whatever_else_the_window_holds(codec):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 12, generator=g)  # (B, K, L)
    given = torch.rand(2, 3, 12, generator=g) < 0.5
    given[..., 4:8] = True  # the second patch of every variable is given
    other = torch.where(given, x, torch.randn(2, 3, 12, generator=g))
    z = codec.encode(x, given)
    # Values outside the mask are not read at all.
    torch.testing.assert_close(codec.encode(other, given), z, rtol=0, atol=0)
    # The given patch's latent (cells 2, 3) is the one of the whole window.
    whole = codec.encode(x, torch.ones_like(given))
    torch.testing.assert_close(z[..., 2:4], whole[..., 2:4], rtol=0, atol=0)
    assert not torch.allclose(z[..., :2], whole[..., :2])  # partly given patches


def test_the_decoder_reads_the_given_steps_of_each_patch_and_nothing_else(codec):
    g = torch.Generator().manual_seed(2)
    z = torch.randn(1, 2, 6, generator=g)  # 3 patches of 2 latent values
    x = torch.randn(1, 2, 12, generator=g)
    given = torch.zeros(1, 2, 12, dtype=torch.bool)
    given[0, 0, 1] = True
    out = codec.decode(z, x, given)
    hidden = x.clone()
    hidden[0, 0, 2] += 1.0  # not given: not read
    torch.testing.assert_close(codec.decode(z, hidden, given), out, rtol=0, atol=0)
    moved = x.clone()
    moved[0, 0, 1] += 1.0  # given: its patch (steps 0-3) changes, no other
    changed = (codec.decode(z, moved, given) != out).flatten().nonzero().flatten()
    assert changed.tolist() == [0, 1, 2, 3]


def test_latent_condition_marks_wholly_given_patches_and_pools_covariates(codec):
    x = torch.zeros(1, 2, 8)
    given = torch.zeros(1, 2, 8, dtype=torch.bool)
    given[0, 0, :4] = True  # variable 0: the first patch is given
    given[0, 1, :3] = True  # variable 1: three steps of it
    covariates = torch.arange(16.0).reshape(1, 2, 8)  # (B, C, L)
    z, mask, pooled = latent_condition(codec, x, given, covariates)
    assert z.shape == mask.shape == (1, 2, 4)
    assert mask.tolist() == [[[True, True, False, False], [False] * 4]]
    assert pooled.tolist() == [[[1.5, 1.5, 5.5, 5.5], [9.5, 9.5, 13.5, 13.5]]]


def test_the_loss_scores_patches_with_a_hidden_observed_step_only(codec):
    x = torch.randn(1, 1, 12, generator=torch.Generator().manual_seed(0))
    observed = torch.ones(1, 1, 12, dtype=torch.bool)
    observed[..., 8:] = False  # the third patch was never observed
    cond = observed.clone()
    cond[..., 5] = False  # one step of the second patch is hidden
    z0, z_cond, mask, target, _ = latent_batch(codec, x, observed, cond)
    assert mask.tolist() == [[[True, True, False, False, False, False]]]
    assert target.tolist() == [[[False, False, True, True, False, False]]]
    torch.testing.assert_close(z_cond[..., :2], z0[..., :2], rtol=0, atol=0)


def test_autoencoder_configuration_is_checked():
    with pytest.raises(ValueError, match="latent_dim must be >= 1"):
        AutoencoderConfig(patch_length=4, latent_dim=0)
    with pytest.raises(TypeError, match="patch_length must be an int"):
        AutoencoderConfig(patch_length=4.0, latent_dim=2)
    with pytest.raises(TypeError, match="must be an AutoencoderConfig"):
        PatchAutoencoder({"patch_length": 4})


def _series(n_steps=200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps, dtype=float)[:, None]
    return np.sin(t / 3 + [0.0, 1.0]) + 0.1 * rng.normal(size=(n_steps, 2))


@pytest.fixture(scope="module")
def latent_model():
    series = _series()
    windows = WindowSource.from_series(series, series == series, range(185), 16)
    model = DiffusionModel.create(
        DenoiserConfig(
            n_features=2, n_layers=1, n_channels=8, n_heads=1, patch_length=2,
            context_input=True,
        ),
        dict(name="ddpm", n_steps=10, schedule="quad", beta_start=1e-4, beta_end=0.5),
        seed=0, mask=MaskPolicy(prediction_length=4),
        autoencoder=AutoencoderConfig(patch_length=4, latent_dim=2, hidden_dim=16),
    )  # fmt: skip
    config = TrainingConfig(n_epochs=2, steps_per_epoch=30, batch_size=8)
    model.fit(windows, config, device=CPU, seed=0)
    return model, series


def test_a_latent_model_trains_its_autoencoder_then_samples_with_exact_givens(
    latent_model,
):
    model, series = latent_model
    assert model.autoencoder.trained and float(model.autoencoder.latent_scale) > 0
    x = np.stack([series[i : i + 16] for i in (0, 50, 100)]).astype(np.float32)
    given = np.ones(x.shape, bool)
    given[:, 12:] = False  # forecast the last patch
    given[1, 3, 0] = False  # and a scattered gap
    config = SamplingConfig(num_samples=4, sampler="dpmpp_2m", sampling_steps=5)
    samples = model.sample(x, given, config, device=CPU, seed=0)
    assert samples.shape == (4, 3, 16, 2) and np.isfinite(samples).all()
    assert (samples[:, given] == x[given]).all()
    assert samples[:, ~given].std(axis=0).mean() > 0  # the samples differ
    again = DiffusionModel.from_state(model.state_dict())
    np.testing.assert_array_equal(again.sample(x, given, config, device=CPU, seed=0),
                                  samples)  # fmt: skip


def test_every_sampler_and_process_works_in_the_latent(latent_model):
    model, series = latent_model
    x = series[None, :16].astype(np.float32)
    given = np.ones(x.shape, bool)
    given[:, 12:] = False
    for name in ("ddpm", "ddim", "dpmpp_2m"):
        config = SamplingConfig(num_samples=2, sampler=name, sampling_steps=4)
        out = model.sample(x, given, config, device=CPU, seed=0)
        assert np.isfinite(out).all() and (out[:, given] == x[given]).all()


def test_a_damaged_autoencoder_state_is_a_clear_error(latent_model):
    state = latent_model[0].state_dict()
    state["autoencoder"]["weights"].pop("decoder.2.weight")
    with pytest.raises(ValueError, match="my file describes no valid autoencoder"):
        DiffusionModel.from_state(state, "my file")


@pytest.fixture(scope="module")
def frame(make_frame):
    return make_frame(n_steps=80, n_vars=3)


@pytest.fixture(scope="module")
def imputer(frame, tiny_shared):
    params = dict(tiny_shared, window_length=12, patch_length=4, latent_dim=2)
    return DiffusionImputer(**params, lags=(8,)).fit(frame)


def test_latent_imputer_fills_gaps_keeps_givens_saves_and_pickles(
    imputer, frame, tmp_path
):
    assert imputer.network_.config.patch_length == 2  # one token per patch
    assert imputer.network_.config.lags == (4,)  # 8 steps: 2 patches of 2 cells
    filled = imputer.transform(frame)
    given = frame.notna().to_numpy()
    np.testing.assert_array_equal(filled.to_numpy()[given], frame.to_numpy()[given])
    assert np.isfinite(filled.to_numpy()).all()
    imputer.save(tmp_path / "m")
    loaded = DiffusionImputer.load(tmp_path / "m")
    copied = pickle.loads(pickle.dumps(imputer))
    for other in (loaded, copied):
        assert other.model_.autoencoder.trained
        np.testing.assert_array_equal(other.transform(frame), filled)


def test_latent_forecaster_with_calendar_covariates_forecasts_every_step(tiny):
    import pandas as pd

    index = pd.date_range("2024-01-01", periods=120, freq="h")
    y = pd.DataFrame(_series(120), index=index, columns=["a", "b"])
    forecaster = DiffusionForecaster(
        context_length=24, prediction_length=8, patch_length=4, latent_dim=3, **tiny
    ).fit(y)
    assert forecaster.network_.config.n_covariates > 0  # calendar features
    quantiles = forecaster.predict_quantiles(fh=list(range(1, 9)))
    assert quantiles.shape == (8, 2 * len(forecaster.quantile_levels))
    assert np.isfinite(quantiles.to_numpy()).all()


def test_latent_dim_is_part_of_what_a_checkpoint_must_match(frame, tiny, tmp_path):
    path = tmp_path / "state.pt"
    params = dict(tiny, window_length=12, patch_length=4, checkpoint_path=path)
    DiffusionImputer(**params).fit(frame)
    with pytest.raises(ValueError, match="other data or settings"):
        DiffusionImputer(**params, latent_dim=2).fit(frame)


@pytest.fixture(scope="module")
def wide_codec():
    config = AutoencoderConfig(patch_length=2, latent_dim=3, patch_width=2)
    codec = PatchAutoencoder(config)
    codec.reset_parameters(torch.Generator().manual_seed(0))
    return codec


def test_a_patch_of_several_variables_is_fixed_only_when_all_its_cells_are_given(
    wide_codec,
):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 6, generator=g)  # K = 3: groups (0, 1) and (2, filler)
    given = torch.zeros(2, 3, 6, dtype=torch.bool)
    given[:, :2, :2] = True  # the first patch of group 0: both variables
    given[:, 0, 2:4] = True  # the second patch of group 0: one variable only
    given[:, 2, 4:] = True  # the third patch of group 1: its one real variable
    z, mask, _ = latent_condition(wide_codec, x, given)
    assert z.shape == mask.shape == (2, 2, 9)  # (B, ceil(K / W), L / P * D)
    patches = mask[..., ::3]  # one flag per patch
    assert patches.tolist() == [[[True, False, False], [False, False, True]]] * 2
    # A fixed patch encodes alike from the observed window: the latent target.
    z0, _, _, target, _ = latent_batch(wide_codec, x, torch.ones_like(given), given)
    torch.testing.assert_close(z0[mask], z[mask], rtol=0, atol=0)
    assert not (target & mask).any() and target[..., ::3].sum() == 2 * 4
    # The decoder returns the data grid, the filler dropped.
    assert wide_codec.decode(z, x, given).shape == (2, 3, 6)


def test_a_latent_imputer_with_patches_across_variables_keeps_its_givens(tiny):
    import pandas as pd

    rng = np.random.default_rng(0)
    values = np.sin(np.arange(96.0)[:, None] / 4 + np.arange(5)) + rng.normal(
        scale=0.1, size=(96, 5)
    )
    values[rng.random(values.shape) < 0.2] = np.nan
    frame = pd.DataFrame(values, columns=list("abcde"))
    imputer = DiffusionImputer(
        window_length=8, patch_length=4, latent_dim=4, patch_width=2, **tiny
    ).fit(frame)
    assert imputer.network_.config.n_features == 3  # 5 variables in 3 rows
    samples = imputer.sample(frame, num_samples=3)
    given = frame.notna().to_numpy()
    assert (samples[:, given] == frame.to_numpy()[given]).all()
    assert np.isfinite(samples).all() and samples.std(axis=0)[~given].mean() > 0
    copied = pickle.loads(pickle.dumps(imputer))
    np.testing.assert_array_equal(copied.transform(frame), imputer.transform(frame))
