"""Denoising: ``DiffusionImputer.denoise`` and the noisy start of the engine."""

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionImputer
from tsdiff.data import WindowSource
from tsdiff.diffusion import VPSDE, NoiseSchedule
from tsdiff.engine import SamplingConfig, TrainingConfig, fit_network, sample_network
from tsdiff.nn import Denoiser, DenoiserConfig


@pytest.fixture(scope="module")
def hourly():
    """Hourly series of two variables with a daily cycle, and a noisy copy."""
    rng = np.random.default_rng(0)
    t = np.arange(240)
    clean = np.stack([np.sin(2 * np.pi * t / 24), np.cos(2 * np.pi * t / 24)], axis=1)
    index = pd.date_range("2024-01-01", periods=len(t), freq="h")
    clean = pd.DataFrame(clean, index=index, columns=["a", "b"])
    noisy = clean + rng.normal(0.0, [0.3, 0.1], clean.shape)
    return clean, noisy


@pytest.fixture(scope="module")
def imputer(tiny_shared, hourly):
    return DiffusionImputer(window_length=12, **tiny_shared).fit(hourly[0].iloc[:180])


def test_denoise_samples_every_value_and_keeps_the_input_as_it_was(imputer, hourly):
    noisy = hourly[1].iloc[180:].copy()
    noisy.iloc[5, 0] = np.nan  # a gap is imputed too
    before = noisy.copy()
    smooth = imputer.denoise(noisy, noise_std=[0.3, 0.1])
    pd.testing.assert_frame_equal(noisy, before)  # not modified
    assert smooth.index.equals(noisy.index) and list(smooth.columns) == ["a", "b"]
    assert np.isfinite(smooth.to_numpy()).all()
    measured = noisy.notna().to_numpy()
    # No reading is kept as it was: every value is a draw of the clean series.
    assert (smooth.to_numpy()[measured] != noisy.to_numpy()[measured]).all()
    q = imputer.denoise(
        noisy, noise_std=pd.Series({"b": 0.1, "a": 0.3}), alpha=[0.1, 0.9]
    )
    width = (q.xs(0.9, axis=1, level=1) - q.xs(0.1, axis=1, level=1)).to_numpy()
    assert q.columns.tolist() == [("a", 0.1), ("a", 0.9), ("b", 0.1), ("b", 0.9)]
    assert (width > 0).all()  # stochastic runs: the samples spread


def test_denoise_repeats_with_a_seed_and_changes_with_another(imputer, hourly):
    noisy = hourly[1].iloc[180:]
    a, b = (imputer.denoise(noisy, 0.2, random_state=s) for s in (1, 1))
    pd.testing.assert_frame_equal(a, b)
    assert not imputer.denoise(noisy, 0.2, random_state=2).equals(a)


def test_a_start_matched_to_larger_noise_smooths_more(imputer, hourly):
    # The run starts higher up the process for noisier readings: the output moves
    # further from them.
    noisy = hourly[1].iloc[180:]
    moved = [
        float((imputer.denoise(noisy, s, random_state=0) - noisy).abs().mean().mean())
        for s in (0.05, 0.5)
    ]
    assert moved[0] < moved[1]


def test_noise_std_is_checked_and_a_latent_model_refused(imputer, hourly, tiny_shared):
    noisy = hourly[1].iloc[180:]
    for bad, kind, text in (
        (-0.1, ValueError, "finite and >= 0"),
        ([0.1, np.inf], ValueError, "finite and >= 0"),
        (0.0, ValueError, "nothing to denoise"),
        ([0.1, 0.2, 0.3], ValueError, "3 values for 2 variables"),
        ("0.1", TypeError, "a number or numbers"),
        (pd.Series({"a": 0.1}), ValueError, "no value for the columns"),
        (1e6, ValueError, "exceeds that of the chain"),
    ):
        with pytest.raises(kind, match=text):
            imputer.denoise(noisy, bad)
    latent = DiffusionImputer(window_length=12, patch_length=4, latent_dim=2,
                              **tiny_shared).fit(hourly[0].iloc[:96])  # fmt: skip
    with pytest.raises(ValueError, match="diffuses in a latent space"):
        latent.denoise(noisy, 0.1)
    ode = DiffusionImputer(window_length=12, process="vp", sampler="heun",
                           **tiny_shared).fit(hourly[0].iloc[:96])  # fmt: skip
    with pytest.raises(ValueError, match="'heun' sampler solves the probability"):
        ode.denoise(noisy, 0.1)


def test_the_engine_holds_no_noisy_value_and_uses_every_one():
    rng = np.random.default_rng(0)
    x = np.sin(np.arange(12.0) / 2 + np.arange(4)[:, None, None]).astype(np.float32)
    x = np.repeat(x, 2, axis=1)  # (N, K, L) = (4, 2, 12)
    net = Denoiser(DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1))
    net.reset_parameters(torch.Generator().manual_seed(0))
    process = NoiseSchedule.from_name("quad", 10)
    cpu = torch.device("cpu")
    windows = WindowSource.from_windows(x, np.isfinite(x))

    def draw_mask(observed, generator):
        return observed & (torch.rand(observed.shape, generator=generator) < 0.5)

    config = TrainingConfig(n_epochs=1, steps_per_epoch=2, batch_size=4)
    fit_network(net, process, windows, draw_mask, config, device=cpu, seed=0)
    noisy = x + 0.1 * rng.standard_normal(x.shape).astype(np.float32)
    given = np.ones(x.shape, bool)
    sampling = SamplingConfig(num_samples=2, sampler="dpmpp_2m", sampling_steps=5)

    def draw(values):
        return sample_network(net, process, values, given, sampling, device=cpu,
                              seed=0, noise_std=np.array([0.1, 0.1]))  # fmt: skip

    out = draw(noisy)
    assert out.shape == (2, *x.shape) and not (out == noisy).any()
    moved = noisy.copy()
    moved[0, 1, 3] += 1.0  # one reading: its window's draw changes
    changed = (draw(moved) != out).any(axis=(0, 2, 3))
    assert changed.tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="heun"):
        sample_network(net, VPSDE(), noisy, given,
                       SamplingConfig(num_samples=1, sampler="heun", sampling_steps=2),
                       device=cpu, seed=0, noise_std=np.array([0.1, 0.1]))  # fmt: skip


def test_an_unconditional_share_gives_whole_windows_nothing():
    from tsdiff.engine import MaskPolicy

    observed = np.ones((64, 2), bool)  # (T, K)
    windows = WindowSource.from_series(np.zeros((64, 2)), observed, range(57), 8)
    mask = torch.ones(400, 2, 8, dtype=torch.bool)
    cpu = torch.device("cpu")

    def drawn(policy, seed=0):
        return policy.drawer(windows, cpu)(mask, torch.Generator().manual_seed(seed))

    plain, some = drawn(MaskPolicy()), drawn(MaskPolicy(unconditional_share=0.25))
    empty = ~some.flatten(1).any(1)  # windows given nothing
    before = ~plain.flatten(1).any(1)  # those the strategy itself left empty
    assert 0.15 < (empty & ~before).float().mean() < 0.35
    assert torch.equal(some[~empty], plain[~empty])  # the others as drawn before
    assert MaskPolicy().context() == "('random', 0, None)"  # older checkpoints
    assert MaskPolicy(unconditional_share=0.25).context() != MaskPolicy().context()
