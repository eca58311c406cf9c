"""Reverse runs started part-way (SDEdit): ``StartedProcess``, ``start_at_ratio``
and the noisy start of the engine, checked against the Gaussian oracle: with the
exact predictor of a Gaussian prior, a run started from noisy observations, matched
to their noise, must end in the posterior of the clean values."""

import numpy as np
import pytest
import torch
from gaussian_oracle import N_DRAWS, ORACLE_K, ORACLE_L, threshold, z_scores

from tsdiff.diffusion import (
    ALL_SAMPLERS,
    VESDE,
    VPSDE,
    NoiseSchedule,
    StartedProcess,
    SubVPSDE,
    start_at_ratio,
)
from tsdiff.engine.noisy import noisy_start

LAGS = np.abs(np.subtract.outer(np.arange(ORACLE_L), np.arange(ORACLE_L)))
PRIOR_COV = np.kron([[1.0, 0.6], [0.6, 0.8]], 0.7**LAGS)  # (K*L, K*L)
PRIOR_MEAN = np.array([0.5, 0.2, -0.1, 0.3, -0.4, 0.0, 0.6, 1.0])
NOISE = np.array([0.3, 0.5])  # per variable
Y = np.array([1.0, 0.4, 0.2, 0.9, -1.2, 0.1, 0.8, 1.5])  # the noisy observation


def _scales(process, t):
    if isinstance(process, NoiseSchedule):
        abar = float(process.alphas_cumprod[int(t)])
        return np.sqrt(abar), np.sqrt(1.0 - abar)
    return float(process.alpha(np.array(t))), float(process.sigma(np.array(t)))


def _prior_denoiser(process):
    """The exact eps-predictor of data ~ N(PRIOR_MEAN, PRIOR_COV), nothing given."""
    eye, cache = np.eye(len(PRIOR_MEAN)), {}

    def denoise(x_t, t):
        key = t[0].item()  # one time for all rows
        if key not in cache:
            a, s = _scales(process, key)
            gain = s * np.linalg.inv(a * a * PRIOR_COV + s * s * eye)
            cache[key] = (
                torch.tensor(gain).float(),
                torch.tensor(a * PRIOR_MEAN).float(),
            )
        gain, shift = cache[key]
        flat = x_t.reshape(x_t.shape[0], -1)  # (B, K*L)
        return ((flat - shift) @ gain.T).reshape(x_t.shape)

    return denoise


def _posterior(ratio):
    """The law of a run started at noise-to-signal ratio ``ratio``: the posterior
    given ``Y`` with noise ``ratio`` added up to it (``Y + e``, ``e ~ N(0, ratio^2
    - NOISE^2)``), over the draws of ``e``; with ``ratio`` equal to every
    variable's noise, the posterior given ``Y``."""
    noise = np.repeat(NOISE**2, ORACLE_L)  # (K*L,)
    gain_cov = np.linalg.inv(np.linalg.inv(PRIOR_COV) + np.eye(len(Y)) / ratio**2)
    prior_part = np.linalg.solve(PRIOR_COV, PRIOR_MEAN)
    mean = gain_cov @ (prior_part + Y / ratio**2)
    spread = gain_cov @ np.diag(ratio**2 - noise) @ gain_cov / ratio**4
    return mean, gain_cov + spread


def _started_error(process, name, steps, start_noise=NOISE, **options):
    values = (
        torch.tensor(Y).float().reshape(1, ORACLE_K, ORACLE_L).expand(N_DRAWS, -1, -1)
    )
    measured = torch.ones(values.shape, dtype=torch.bool)
    std = torch.tensor(start_noise).float()[None, :, None].expand(N_DRAWS, -1, -1)
    g = torch.Generator().manual_seed(5)
    run = noisy_start(process, values, measured, std, g)
    nothing = torch.zeros_like(measured)
    out = ALL_SAMPLERS[name](
        _prior_denoiser(process), run, torch.zeros_like(values), nothing,
        sampling_steps=steps, generator=g, **options,
    )  # fmt: skip
    samples = out.reshape(N_DRAWS, -1).double().numpy()
    mean, cov = _posterior(start_at_ratio(process, float(NOISE.max()))[2])
    t_min = getattr(process, "t_min", None)  # continuous runs end at t_min
    a, s = (1.0, 0.0) if t_min is None else _scales(process, t_min)
    law = a * mean, a * a * cov + s * s * np.eye(len(mean))
    return max(z_scores(samples, *law)), threshold(len(mean))


# The stochastic samplers (SDEdit draws from p(x0 | x_t) only with fresh noise on
# the way down: the ODE samplers map each start to one point).
CASES = [
    (VPSDE(), "dpmpp_2m", 20, {"eta": 1.0}),
    (SubVPSDE(), "dpmpp_2m", 20, {"eta": 1.0}),
    (VESDE(), "dpmpp_2m", 20, {"eta": 1.0}),
    (VPSDE(), "euler_maruyama", 200, {}),
    (VESDE(), "euler_maruyama", 200, {}),
    (NoiseSchedule.from_name("linear", 1000, 1e-4, 0.02), "ddpm", None, {}),
]


@pytest.mark.parametrize(("process", "name", "steps", "options"), CASES, ids=str)
def test_a_run_started_from_noisy_values_ends_in_their_posterior(
    process, name, steps, options
):
    error, limit = _started_error(process, name, steps, **options)
    assert error < limit


def test_a_run_started_without_the_matched_noise_misses_the_posterior():
    # The check sees a mismatch: the noise understated twofold starts too late.
    error, limit = _started_error(VPSDE(), "euler_maruyama", 200, NOISE / 2)
    assert error > limit


def test_start_at_ratio_picks_the_first_step_at_or_above_the_ratio():
    chain = NoiseSchedule.from_name("quad", 50)
    abar = chain.alphas_cumprod
    ratios = np.sqrt((1 - abar) / abar)
    t, alpha, ratio = start_at_ratio(chain, 0.5)
    assert ratios[t - 1] < 0.5 <= ratios[t] == pytest.approx(ratio)
    assert alpha == pytest.approx(np.sqrt(abar[t]))
    for process in (VPSDE(), VESDE()):
        t, alpha, ratio = start_at_ratio(process, 0.5)
        assert float(process.sigma(np.array(t)) / process.alpha(np.array(t))) == (
            pytest.approx(0.5, rel=1e-6)
        )
    with pytest.raises(ValueError, match="exceeds that of the chain"):
        start_at_ratio(chain, 1e6)
    with pytest.raises(ValueError, match="finite and > 0"):
        start_at_ratio(chain, float("nan"))


def test_a_started_chain_visits_only_the_steps_below_its_start():
    chain = NoiseSchedule.from_name("quad", 50)
    seen = []

    def recording(x_t, t):
        seen.append(int(t[0]))
        return torch.zeros_like(x_t)

    state = torch.randn(2, 1, 4, generator=torch.Generator().manual_seed(0))
    given = torch.zeros(2, 1, 4, dtype=torch.bool)
    run = StartedProcess(chain, 14, state)
    for name, steps in (("ddim", 10), ("dpmpp_2m", 30), ("ddpm", None)):
        seen.clear()
        ALL_SAMPLERS[name](recording, run, state, given, sampling_steps=steps)
        assert seen[0] == 14 and seen[-1] == 0 and max(seen) == 14
        assert len(seen) == (15 if steps is None or steps > 15 else steps)
    wrong = StartedProcess(chain, 14, torch.zeros(3, 1, 4))
    with pytest.raises(ValueError, match="started state has shape"):
        ALL_SAMPLERS["ddim"](recording, wrong, state, given, sampling_steps=4)
