"""Temporal super-resolution: ``DiffusionImputer.upsample`` and the block-mean
constraint of the engine that holds coarse means while sampling."""

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionImputer
from tsdiff.data import WindowSource
from tsdiff.diffusion import SAMPLERS, make_process
from tsdiff.engine import (
    BlockMeans,
    SamplingConfig,
    TrainingConfig,
    fit_network,
    sample_network,
)
from tsdiff.engine.constraints import block_mean
from tsdiff.estimation.imputing import window_plan
from tsdiff.estimation.upsampling import exact_means, window_means
from tsdiff.nn import Denoiser, DenoiserConfig

F = 3  # fine steps per coarse value


@pytest.fixture(scope="module")
def hourly():
    """Hourly series of two variables with a daily cycle."""
    rng = np.random.default_rng(0)
    t = np.arange(240)
    values = np.stack(
        [np.sin(2 * np.pi * t / 24), np.cos(2 * np.pi * t / 24) + 0.5], axis=1
    )
    values += 0.1 * rng.standard_normal(values.shape)
    index = pd.date_range("2024-01-01", periods=len(t), freq="h")
    return pd.DataFrame(values, index=index, columns=["a", "b"])


@pytest.fixture(scope="module")
def imputer(tiny_shared, hourly):
    return DiffusionImputer(window_length=12, **tiny_shared).fit(hourly.iloc[:180])


def _coarse_means(frame):
    return frame.resample(f"{F}h").mean()


def test_means_hold_to_float64_rounding_in_every_sample(imputer, hourly):
    coarse = _coarse_means(hourly.iloc[180:])
    coarse.iloc[3, 1] = np.nan  # one block of "b" with no known mean
    before = coarse.copy()
    fine = imputer.upsample(coarse, factor=F, how="mean")
    assert fine.index.equals(hourly.index[180:]) and list(fine.columns) == ["a", "b"]
    again = _coarse_means(fine)
    known = coarse.notna()
    np.testing.assert_allclose(again[known], coarse[known], rtol=0, atol=1e-12)
    assert np.isfinite(fine.to_numpy()).all()
    pd.testing.assert_frame_equal(coarse, before)  # not modified
    # Every draw, not only the reported median, averages to the means.
    q = imputer.upsample(coarse, factor=F, how="mean", alpha=[0.05, 0.95])
    low, high = q.xs(0.05, axis=1, level=1), q.xs(0.95, axis=1, level=1)
    assert (high.to_numpy() >= low.to_numpy()).all()
    assert (high - low).to_numpy()[:, 0].max() > 0  # the cells still vary


def test_points_are_kept_exactly_and_the_steps_between_imputed(imputer, hourly):
    coarse = hourly.iloc[180::F]
    fine = imputer.upsample(coarse, factor=F, how="point")
    assert fine.index.equals(hourly.index[180:])
    pd.testing.assert_frame_equal(fine.iloc[::F], coarse, check_freq=False)
    between = fine.drop(coarse.index)
    assert np.isfinite(between.to_numpy()).all()
    assert between.sub(hourly).dropna().abs().to_numpy().mean() < 1.0


def test_other_variables_are_refused_and_seeds_repeat(imputer, hourly):
    coarse = _coarse_means(hourly.iloc[180:])
    with pytest.raises(ValueError, match="expecting 2 features"):
        imputer.upsample(coarse["a"], factor=F)  # one variable of the two of fit
    first = imputer.upsample(coarse, factor=F, how="mean", random_state=4)
    pd.testing.assert_frame_equal(
        first, imputer.upsample(coarse, factor=F, how="mean", random_state=4)
    )
    pd.testing.assert_frame_equal(
        imputer.upsample(coarse, factor=F, how="mean"),
        imputer.upsample(coarse, factor=F, how="mean"),
    )


def test_a_series_input_returns_a_series(tiny_shared, hourly):
    imp = DiffusionImputer(window_length=12, **tiny_shared).fit(hourly["a"])
    coarse = _coarse_means(hourly["a"].iloc[180:])
    fine = imp.upsample(coarse, factor=F, how="mean")
    assert isinstance(fine, pd.Series) and fine.name == "a"
    np.testing.assert_allclose(_coarse_means(fine), coarse, rtol=0, atol=1e-12)


def test_a_panel_is_refused_with_advice(imputer, hourly):
    coarse = _coarse_means(hourly.iloc[180:])
    panel = pd.concat({"p": coarse, "q": coarse}, names=["id", "time"])
    with pytest.raises(ValueError, match="one series"):
        imputer.upsample(panel, factor=F)


def test_window_means_number_blocks_from_zero_and_drop_cut_blocks():
    block = np.repeat(np.arange(4), 3)[:, None]  # (12, 1): blocks of 3
    target = np.repeat([1.0, 2.0, 3.0, 4.0], 3)[:, None]
    values = np.zeros((12, 1))
    plan = window_plan(values, np.zeros((12, 1), bool), 5, 4)  # starts 0, 4, 7
    kept = window_means(block, target, [slice(0, 12)], [plan], 5)
    assert kept.block[:, :, 0].tolist() == [
        [0, 0, 0, -1, -1],  # block 1 is cut at step 5
        [-1, -1, 0, 0, 0],  # block 1 cut on the left, block 2 whole
        [-1, -1, 0, 0, 0],  # block 2 cut, block 3 whole
    ]
    assert kept.target[1, 2:, 0].tolist() == [3.0, 3.0, 3.0]


def test_exact_means_shift_each_block_alike():
    samples = np.arange(12.0).reshape(2, 3, 2)  # (S, T, K)
    block = np.array([[0, -1], [0, -1], [-1, -1]])
    target = np.full((3, 2), 10.0)
    moved = exact_means(samples, block, target)
    assert moved[:, :2, 0].mean(axis=1).tolist() == [10.0, 10.0]
    np.testing.assert_array_equal(moved[:, :, 1], samples[:, :, 1])
    np.testing.assert_array_equal(moved[:, 2], samples[:, 2])
    assert np.allclose(np.diff(moved[:, :2, 0], axis=1), np.diff(samples[:, :2, 0]))


def _tiny_network(process):
    rng = np.random.default_rng(0)
    x0 = np.sin(np.arange(12.0) / 2) + 0.1 * rng.standard_normal((8, 2, 12))
    x0 = x0.astype(np.float32)  # (N, K, L)

    def draw_mask(observed, generator):
        return observed & (torch.rand(observed.shape, generator=generator) < 0.5)

    net = Denoiser(DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1))
    net.reset_parameters(torch.Generator().manual_seed(0))
    windows = WindowSource.from_windows(x0, np.isfinite(x0))
    config = TrainingConfig(n_epochs=1, steps_per_epoch=2, batch_size=4)
    cpu = torch.device("cpu")
    fit_network(net, process, windows, draw_mask, config, device=cpu, seed=0)
    return net, x0


PROCESSES = {
    name: dict(name=name, n_steps=10, schedule="quad", beta_start=1e-4, beta_end=0.5)
    for name in ("ddpm", "vp", "ve")
}
CASES = [("ddpm", s) for s in SAMPLERS] + [
    (p, s) for p in ("vp", "ve") for s in ("ddim", "heun", "euler_maruyama")
]


@pytest.mark.parametrize(("process", "sampler"), CASES)
def test_every_sampler_keeps_the_block_means(process, sampler):
    schedule = make_process(**PROCESSES[process])
    net, x0 = _tiny_network(schedule)
    block = np.tile(np.repeat(np.arange(4), 3), (8, 2, 1))  # (N, K, L)
    given = np.zeros(x0.shape, bool)
    given[:, 0, :3] = True  # variable 0's first block is given instead
    block[given] = -1
    means = block_mean(torch.from_numpy(x0), torch.from_numpy(block)).numpy()
    config = SamplingConfig(num_samples=3, sampler=sampler, sampling_steps=6)
    samples = sample_network(
        net, schedule, np.where(given, x0, np.nan), given, config,
        device=torch.device("cpu"), seed=0, means=BlockMeans(block, means),
    )  # fmt: skip  # (S, N, K, L)
    reached = block_mean(
        torch.from_numpy(samples).double(),
        torch.from_numpy(np.broadcast_to(block, samples.shape).copy()),
    ).numpy()
    scale = np.abs(samples).max()
    # float32 windows: rounding grows with the largest value drawn
    assert np.abs(np.where(block >= 0, reached - means, 0)).max() <= 1e-5 * scale
    np.testing.assert_array_equal(samples[:, given], np.tile(x0[given], (3, 1)))
    assert np.isfinite(samples).all()


def test_a_latent_model_refuses_block_means(tiny_shared, hourly):
    imp = DiffusionImputer(
        window_length=12, patch_length=3, latent_dim=2, **tiny_shared
    ).fit(hourly.iloc[:120])
    with pytest.raises(ValueError, match="latent space"):
        imp.upsample(_coarse_means(hourly.iloc[180:]), factor=F, how="mean")
