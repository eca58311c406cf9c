"""Tests for tsdiff.diffusion.samplers, including the Gaussian oracle test."""

import math

import numpy as np
import pytest
import torch
from gaussian_oracle import N_DRAWS, conditioning, gaussian_problem, threshold, z_scores

from tsdiff.diffusion import (
    SAMPLERS,
    NoiseSchedule,
    get_sampler,
    sample_ddim,
    sample_ddpm,
    sample_dpmpp_2m,
    timesteps,
)

SCHEDULE = NoiseSchedule.from_name("quad", 50)
ALL = [sample_ddpm, sample_ddim, sample_dpmpp_2m]
B, K, L = 3, 2, 5


def _toy_denoise(x_t, t):
    """A fixed non-linear, step-dependent stand-in for a network."""
    return 0.5 * torch.tanh(x_t) + 0.01 * t.view(-1, 1, 1) * torch.cos(x_t)


def _toy_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    x_cond = torch.randn(B, K, L, generator=g)
    cond_mask = torch.rand(B, K, L, generator=g) < 0.4
    x_cond[~cond_mask] = float("nan")  # non-cond values are ignored, even NaN
    return x_cond, cond_mask


def _seeded(seed):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------- timesteps


def test_timesteps_full_chain():
    np.testing.assert_array_equal(timesteps(5, None), [4, 3, 2, 1, 0])
    assert timesteps(5, None).dtype == np.int64


@pytest.mark.parametrize(("n_steps", "sampling_steps"), [(50, 10), (50, 49), (7, 2)])
def test_timesteps_respaced(n_steps, sampling_steps):
    steps = timesteps(n_steps, sampling_steps)
    assert steps.dtype == np.int64 and steps.shape == (sampling_steps,)
    assert steps[0] == n_steps - 1 and steps[-1] == 0
    assert np.all(np.diff(steps) < 0)
    gaps = -np.diff(steps)  # evenly spaced up to rounding
    assert gaps.max() - gaps.min() <= 1


def test_timesteps_edge_cases():
    np.testing.assert_array_equal(timesteps(50, 50), timesteps(50, None))
    np.testing.assert_array_equal(timesteps(50, 1), [49])  # one jump to x0


@pytest.mark.parametrize("sampling_steps", [0, 51, -1])
def test_timesteps_out_of_range_raises(sampling_steps):
    with pytest.raises(ValueError, match="sampling_steps"):
        timesteps(50, sampling_steps)


# ------------------------------------------------------------------ registry


def test_sampler_registry():
    assert SAMPLERS == {
        "ddpm": sample_ddpm,
        "ddim": sample_ddim,
        "dpmpp_2m": sample_dpmpp_2m,
    }
    assert get_sampler("ddim") is sample_ddim
    assert get_sampler("heun").__name__ == "sample_heun"  # every process's samplers
    with pytest.raises(ValueError, match="'euler'.*ddim.*ddpm"):
        get_sampler("euler")


# --------------------------------------------------------- sampler contracts


@pytest.mark.parametrize("sampler", ALL)
@pytest.mark.parametrize("sampling_steps", [None, 7])
def test_cond_entries_are_bit_identical(sampler, sampling_steps):
    x_cond, cond_mask = _toy_inputs()
    out = sampler(
        _toy_denoise,
        SCHEDULE,
        x_cond,
        cond_mask,
        sampling_steps=sampling_steps,
        generator=_seeded(1),
    )
    assert out.shape == (B, K, L) and out.dtype == x_cond.dtype
    assert torch.equal(out[cond_mask], x_cond[cond_mask])
    assert torch.isfinite(out[~cond_mask]).all()


@pytest.mark.parametrize("sampler", ALL)
def test_seed_determinism(sampler):
    x_cond, cond_mask = _toy_inputs()

    def draw(seed):
        return sampler(
            _toy_denoise, SCHEDULE, x_cond, cond_mask, generator=_seeded(seed)
        )

    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3)[~cond_mask], draw(4)[~cond_mask])


@pytest.mark.parametrize("sampler", ALL)
def test_denoiser_sees_the_respaced_steps_in_order(sampler):
    seen = []

    def spy(x_t, t):
        seen.append(t.clone())
        return torch.zeros_like(x_t)

    x_cond, cond_mask = _toy_inputs()
    sampler(spy, SCHEDULE, x_cond, cond_mask, sampling_steps=6, generator=_seeded(0))
    assert all(t.dtype == torch.long and t.shape == (B,) for t in seen)
    assert [int(t[0]) for t in seen] == timesteps(50, 6).tolist()
    assert all(torch.all(t == t[0]) for t in seen)


def _textbook_ddpm(denoise, schedule, x_cond, cond_mask, generator):
    """CSDI's ancestral loop, written step by step from Ho et al. (2020), Alg. 2."""
    beta = schedule.betas
    abar = np.cumprod(1.0 - beta)
    x = torch.randn(x_cond.shape, generator=generator)
    x = torch.where(cond_mask, x_cond, x)
    for t in range(schedule.n_steps - 1, -1, -1):
        eps_hat = denoise(x, torch.full((x.shape[0],), t, dtype=torch.long))
        mean = (x - beta[t] / (1.0 - abar[t]) ** 0.5 * eps_hat) / (1.0 - beta[t]) ** 0.5
        x = mean
        if t > 0:
            sigma = ((1.0 - abar[t - 1]) / (1.0 - abar[t]) * beta[t]) ** 0.5
            x = x + sigma * torch.randn(x.shape, generator=generator)
        x = torch.where(cond_mask, x_cond, x)
    return x


def test_ddpm_full_chain_equals_textbook_csdi_step():
    x_cond, cond_mask = _toy_inputs()
    out = sample_ddpm(_toy_denoise, SCHEDULE, x_cond, cond_mask, generator=_seeded(7))
    ref = _textbook_ddpm(_toy_denoise, SCHEDULE, x_cond, cond_mask, _seeded(7))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5, equal_nan=False)


def _textbook_ddim(denoise, schedule, x_cond, cond_mask, steps, eta, generator):
    """DDIM loop written from Song et al. (2021), eqs. 12 and 16."""
    abar = schedule.alphas_cumprod
    x = torch.randn(x_cond.shape, generator=generator)
    x = torch.where(cond_mask, x_cond, x)
    for i, t in enumerate(steps):
        a, a_prev = abar[t], (abar[steps[i + 1]] if i + 1 < len(steps) else 1.0)
        eps_hat = denoise(x, torch.full((x.shape[0],), int(t), dtype=torch.long))
        x0_hat = (x - (1 - a) ** 0.5 * eps_hat) / a**0.5
        sigma = eta * ((1 - a_prev) / (1 - a) * (1 - a / a_prev)) ** 0.5
        x = a_prev**0.5 * x0_hat + (1 - a_prev - sigma**2) ** 0.5 * eps_hat
        if sigma > 0:
            x = x + sigma * torch.randn(x.shape, generator=generator)
        x = torch.where(cond_mask, x_cond, x)
    return x


@pytest.mark.parametrize(("sampling_steps", "eta"), [(10, 0.5), (None, 0.0), (4, 0.2)])
def test_ddim_equals_textbook_ddim(sampling_steps, eta):
    x_cond, cond_mask = _toy_inputs()
    out = sample_ddim(
        _toy_denoise,
        SCHEDULE,
        x_cond,
        cond_mask,
        sampling_steps=sampling_steps,
        eta=eta,
        generator=_seeded(5),
    )
    steps = timesteps(SCHEDULE.n_steps, sampling_steps)
    ref = _textbook_ddim(
        _toy_denoise, SCHEDULE, x_cond, cond_mask, steps, eta, _seeded(5)
    )
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sampling_steps", [None, 10, 1])
def test_ddim_with_eta_one_is_the_ddpm_chain(sampling_steps):
    x_cond, cond_mask = _toy_inputs()
    kwargs = {"sampling_steps": sampling_steps, "generator": _seeded(2)}
    ddpm = sample_ddpm(_toy_denoise, SCHEDULE, x_cond, cond_mask, **kwargs)
    kwargs["generator"] = _seeded(2)
    ddim = sample_ddim(_toy_denoise, SCHEDULE, x_cond, cond_mask, eta=1.0, **kwargs)
    torch.testing.assert_close(ddim, ddpm, rtol=1e-5, atol=1e-5)


def _textbook_dpmpp_2m(denoise, schedule, x_cond, cond_mask, sampling_steps, gen):
    """Lu et al. (2022), Algorithm 2, in float64, written from the paper's symbols."""
    ts = timesteps(schedule.n_steps, sampling_steps)
    abar = [schedule.alphas_cumprod[t] for t in ts] + [1.0]  # ends at clean data
    alpha = [a**0.5 for a in abar]
    sigma = [(1 - a) ** 0.5 for a in abar]
    x = torch.randn(x_cond.shape, generator=gen).double()
    x = torch.where(cond_mask, x_cond.double(), x)
    models = []  # data predictions M_{i-1}, M_{i-2}, ...
    for i, t in enumerate(ts):
        eps = denoise(x.float(), torch.full((x.shape[0],), int(t))).double()
        models.append((x - sigma[i] * eps) / alpha[i])
        if i + 1 == len(ts):  # sigma = 0 next: the step returns the data prediction
            x = models[-1]
        else:
            lam = [math.log(alpha[j] / sigma[j]) for j in (i - 1, i, i + 1) if j >= 0]
            h = lam[-1] - lam[-2]
            d = models[-1]
            if i > 0:
                r = (lam[1] - lam[0]) / h
                d = (1 + 1 / (2 * r)) * models[-1] - 1 / (2 * r) * models[-2]
            x = sigma[i + 1] / sigma[i] * x - alpha[i + 1] * math.expm1(-h) * d
        x = torch.where(cond_mask, x_cond.double(), x)
    return x


@pytest.mark.parametrize("sampling_steps", [None, 10, 3])
def test_dpmpp_2m_equals_the_papers_algorithm(sampling_steps):
    x_cond, cond_mask = _toy_inputs()
    x_cond = torch.where(cond_mask, x_cond, torch.zeros_like(x_cond))
    ours = sample_dpmpp_2m(
        _toy_denoise, SCHEDULE, x_cond, cond_mask,
        sampling_steps=sampling_steps, generator=_seeded(5),
    )  # fmt: skip
    paper = _textbook_dpmpp_2m(
        _toy_denoise, SCHEDULE, x_cond, cond_mask, sampling_steps, _seeded(5)
    )
    torch.testing.assert_close(ours.double(), paper, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["quad", "linear"])
def test_dpmpp_2m_stays_finite_on_long_chains_with_vanishing_abar(name):
    # beta_end = 0.5 over 200 steps drives abar below the 1e-12 clamp for several
    # steps: equal clamped levels give a zero step that must not divide by zero,
    # nor a near-zero one whose step ratio blows the estimate up.
    schedule = NoiseSchedule.from_name(name, 200, 1e-4, 0.5)
    assert (schedule.alphas_cumprod < 1e-12).sum() > 1
    x_cond, cond_mask = _toy_inputs()
    for steps in (None, 50, 20):
        out = sample_dpmpp_2m(
            _toy_denoise, schedule, x_cond, cond_mask,
            sampling_steps=steps, generator=_seeded(0),
        )  # fmt: skip
        assert torch.isfinite(out[~cond_mask]).all()


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_dpmpp_2m_stays_accurate_where_many_steps_are_clamped(eta):
    # A 1000-step chain to beta_end = 0.5 has hundreds of steps with abar below
    # the clamp; with the exact denoiser of x0 ~ N(1, 0.5^2) ten solver steps must
    # still land near that law (a near-zero step between clamped levels once
    # multiplied the estimates by up to 1e11).
    schedule = NoiseSchedule.from_name("quad", 1000, 1e-4, 0.5)
    assert (schedule.alphas_cumprod < 1e-12).sum() > 100
    mean, sd = 1.0, 0.5

    def exact(x_t, t):
        a = schedule.gather("sqrt_alphas_cumprod", t, x_t)  # (B, 1, 1)
        s = schedule.gather("sqrt_one_minus_alphas_cumprod", t, x_t)
        return s * (x_t - a * mean) / (a * a * sd * sd + s * s)

    x_cond = torch.zeros(2000, 1, 4)
    cond_mask = torch.zeros(2000, 1, 4, dtype=torch.bool)
    out = sample_dpmpp_2m(
        exact, schedule, x_cond, cond_mask, sampling_steps=10, eta=eta,
        generator=_seeded(0),
    )  # fmt: skip
    assert abs(out.mean().item() - mean) < 0.1
    assert 0.35 < out.std().item() < 0.7


def test_dpmpp_2m_converges_at_second_order_where_ddim_is_first():
    """Against the fine-chain (1000-step) solution of the same probability-flow ODE
    from the same starting noise, doubling the steps divides DDIM's error by about 2
    and DPM-Solver++(2M)'s by about 4 (oracle denoiser, Ho et al.'s schedule)."""
    schedule = NoiseSchedule.from_name("linear", 1000, 1e-4, 0.02)
    reference = _draw(sample_ddim, schedule, None, 0.0)[0]

    def error(sampler, steps, eta):
        return np.abs(_draw(sampler, schedule, steps, eta)[0] - reference).mean()

    ddim = error(sample_ddim, 40, 0.0) / error(sample_ddim, 80, 0.0)
    dpm = error(sample_dpmpp_2m, 40, None) / error(sample_dpmpp_2m, 80, None)
    assert 1.7 < ddim < 2.4
    assert dpm > 2.8
    assert error(sample_dpmpp_2m, 80, None) < error(sample_ddim, 80, 0.0)


def test_all_cond_returns_x_cond_and_float64_is_kept():
    x_cond = torch.randn(2, 3, 4, dtype=torch.float64, generator=_seeded(0))
    cond_mask = torch.ones(2, 3, 4, dtype=torch.bool)
    out = sample_ddim(_toy_denoise, SCHEDULE, x_cond, cond_mask, generator=_seeded(1))
    assert out.dtype == torch.float64 and torch.equal(out, x_cond)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cond_mask": torch.zeros(B, K, L)}, TypeError, "bool"),
        (
            {"cond_mask": torch.zeros(B, K, L + 1, dtype=torch.bool)},
            ValueError,
            "shape",
        ),
        ({"x_cond": torch.zeros(B, K * L)}, ValueError, r"\(B, K, L\)"),
        ({"x_cond": torch.zeros(B, K, L, dtype=torch.long)}, TypeError, "floating"),
        ({"denoise": lambda x, t: x[:, :1]}, ValueError, "denoise returned"),
        ({"denoise": "not callable"}, TypeError, "callable"),
        ({"eta": 1.5}, ValueError, "eta"),
        ({"sampling_steps": 51}, ValueError, "sampling_steps"),
        ({"generator": np.random.default_rng(0)}, TypeError, "torch.Generator"),
    ],
)
def test_bad_input_raises(kwargs, error, match):
    x_cond, cond_mask = _toy_inputs()
    call = {
        "denoise": _toy_denoise,
        "x_cond": x_cond,
        "cond_mask": cond_mask,
        **kwargs,
    }
    with pytest.raises(error, match=match):
        sample_ddim(
            call.pop("denoise"),
            SCHEDULE,
            call.pop("x_cond"),
            call.pop("cond_mask"),
            **call,
        )


def test_generator_on_another_device_raises():
    x_cond = torch.zeros(B, K, L, device="meta")
    cond_mask = torch.zeros(B, K, L, dtype=torch.bool, device="meta")
    with pytest.raises(ValueError, match="generator is on cpu"):
        sample_ddpm(_toy_denoise, SCHEDULE, x_cond, cond_mask, generator=_seeded(0))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("sampler", ALL)
def test_cuda_sampling_has_no_host_sync_and_keeps_cond(sampler):
    x_cond, cond_mask = (v.cuda() for v in _toy_inputs())
    generator = torch.Generator(device="cuda").manual_seed(0)
    torch.cuda.set_sync_debug_mode("error")  # any device-to-host sync raises
    try:
        out = sampler(_toy_denoise, SCHEDULE, x_cond, cond_mask, generator=generator)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert out.device == x_cond.device
    assert torch.equal(out[cond_mask], x_cond[cond_mask])


# ---------------------------------------------------- Gaussian oracle test
#
# The problem of gaussian_oracle.py. With its exact predictor every sampler step
# is linear-Gaussian, so the law of the sampler's output is known in closed form.
# Two facts follow (checked numerically):
#   * fine chains (1000 steps) reproduce (mu_c, Sigma_c) to within the sampling
#     error of 4000 draws;
#   * coarse chains (CSDI's 50 steps, or 10) do NOT, even with this perfect
#     predictor: the DDPM variance (1 - abar_prev) / (1 - abar_t) beta ignores
#     the uncertainty of x0 given x_t, and DDIM's large ODE steps contract the
#     spread. In whitened units their covariance is off by up to ~0.14 (DDPM 50),
#     ~0.07 (DDIM 50) and ~0.3 (DDIM 10) here, far beyond the sampling error
#     (~0.02 per entry at n = 4000). For them the test checks the mean against
#     mu_c and the covariance against the chain's own closed-form law.


def _eps_gain(abar, sigma_c):
    """Matrix G with E[eps | x_t] = G (x_t - sqrt(abar) mu_c) on target entries."""
    eye = np.eye(len(sigma_c))
    return math.sqrt(1 - abar) * np.linalg.inv(abar * sigma_c + (1 - abar) * eye)


def _oracle_denoiser(schedule, cond, mu_c, sigma_c):
    abar = schedule.alphas_cumprod
    target = np.flatnonzero(~cond)
    # Embed each step's gain in a (K*L, K*L) matrix, zero on cond rows/columns, so
    # the closure is one matmul on the flattened window (cheap: no per-row gather).
    gains = np.zeros((len(abar), cond.size, cond.size))
    gains[:, target[:, None], target] = [_eps_gain(a, sigma_c) for a in abar]
    shifts = np.zeros((len(abar), cond.size))
    shifts[:, target] = np.sqrt(abar)[:, None] * mu_c
    gains, shifts = torch.tensor(gains).float(), torch.tensor(shifts).float()

    def denoise(x_t, t):
        flat = x_t.reshape(x_t.shape[0], -1)  # (B, K*L)
        if torch.all(t == t[0]):  # what a sampler passes: one step for all rows
            eps = (flat - shifts[t[0]]) @ gains[t[0]].T
        else:
            eps = torch.bmm(gains[t], (flat - shifts[t]).unsqueeze(-1)).squeeze(-1)
        return eps.reshape(x_t.shape)  # (B, K, L)

    return denoise


def _chain_law(schedule, steps, mu_c, sigma_c, eta):
    """Closed-form (mean, cov) of the sampler output; eta=None means DDPM."""
    abar = schedule.alphas_cumprod
    eye = np.eye(len(mu_c))
    mean, cov = np.zeros(len(mu_c)), eye  # the sampler starts from N(0, I)
    for i, t in enumerate(steps):
        a, a_prev = abar[t], (abar[steps[i + 1]] if i + 1 < len(steps) else 1.0)
        gain = _eps_gain(a, sigma_c)  # eps_hat = gain @ x - offset
        offset = gain @ (math.sqrt(a) * mu_c)
        if eta is None:  # mean = (x - beta / sqrt(1 - a) eps_hat) / sqrt(alpha)
            alpha = a / a_prev
            var = (1 - a_prev) / (1 - a) * (1 - alpha)
            step = (1 - alpha) / math.sqrt(1 - a)
            lin, const = (eye - step * gain) / math.sqrt(alpha), step * offset
            const = const / math.sqrt(alpha)
        else:  # sqrt(a_prev) x0_hat + sqrt(1 - a_prev - var) eps_hat
            var = eta**2 * (1 - a_prev) / (1 - a) * (1 - a / a_prev)
            to_x0 = math.sqrt(a_prev / a)
            direction = math.sqrt(1 - a_prev - var) - to_x0 * math.sqrt(1 - a)
            lin, const = to_x0 * eye + direction * gain, -direction * offset
        mean, cov = lin @ mean + const, lin @ cov @ lin.T + var * eye
    return mean, cov


def _draw(sampler, schedule, sampling_steps, eta):
    cond, given, mu_c, sigma_c = gaussian_problem()
    x_cond, cond_mask = conditioning(cond, given)  # (N, K, L)
    kwargs = {} if eta is None else {"eta": eta}
    out = sampler(
        _oracle_denoiser(schedule, cond, mu_c, sigma_c),
        schedule,
        x_cond,
        cond_mask,
        sampling_steps=sampling_steps,
        generator=_seeded(2024),
        **kwargs,
    )
    samples = out.reshape(N_DRAWS, -1)[:, torch.from_numpy(~cond)]  # (N, d)
    return samples.double().numpy(), mu_c, sigma_c


@pytest.mark.parametrize(
    ("sampler", "eta"),
    [
        (sample_ddpm, None),
        (sample_ddim, 0.0),
        (sample_dpmpp_2m, None),
        (sample_dpmpp_2m, 1.0),
    ],
)
def test_oracle_fine_chain_reproduces_the_conditional(sampler, eta):
    # Ho et al.'s linear schedule; its last abar is ~4e-5, so N(0, I) is the
    # right start up to a mean offset of sqrt(abar_T) * |mu_c| < 0.01.
    schedule = NoiseSchedule.from_name("linear", 1000, 1e-4, 0.02)
    assert schedule.alphas_cumprod[-1] < 1e-4
    samples, mu_c, sigma_c = _draw(sampler, schedule, None, eta)
    z_mean, z_cov = z_scores(samples, mu_c, sigma_c)
    assert z_mean < threshold(len(mu_c)) and z_cov < threshold(len(mu_c))


@pytest.mark.parametrize(
    ("sampler", "sampling_steps", "eta"),
    [
        (sample_ddpm, None, None),
        (sample_ddim, None, 0.0),
        (sample_ddim, 10, 0.0),
        (sample_ddpm, 10, None),
        (sample_ddim, 10, 0.5),
    ],
)
def test_oracle_csdi_chain_matches_its_exact_law(sampler, sampling_steps, eta):
    assert SCHEDULE.alphas_cumprod[-1] < 1e-4  # CSDI's quad schedule: ~3.4e-5
    samples, mu_c, sigma_c = _draw(sampler, SCHEDULE, sampling_steps, eta)
    steps = timesteps(SCHEDULE.n_steps, sampling_steps)
    mean, cov = _chain_law(SCHEDULE, steps, mu_c, sigma_c, eta)
    limit = threshold(len(mu_c))
    z_mean, z_cov = z_scores(samples, mean, cov)
    assert z_mean < limit and z_cov < limit
    # The mean is that of the conditional (the covariance is not, see above).
    assert z_scores(samples, mu_c, cov)[0] < limit


def test_oracle_check_detects_small_errors():
    # Power of the check at n = 4000: a 15 % variance deficit or a 0.1 sd mean
    # shift in correct DDPM draws must be rejected.
    samples, mu_c, sigma_c = _draw(sample_ddpm, SCHEDULE, None, None)
    steps = timesteps(SCHEDULE.n_steps, None)
    mean, cov = _chain_law(SCHEDULE, steps, mu_c, sigma_c, None)
    limit = threshold(len(mu_c))
    shrunk = mean + math.sqrt(0.85) * (samples - mean)
    assert z_scores(shrunk, mean, cov)[1] > limit
    shifted = samples + 0.1 * np.sqrt(np.diag(cov))
    assert z_scores(shifted, mean, cov)[0] > limit


def test_stochastic_dpm_solver_draws_fresh_noise_and_checks_eta():
    x_cond, cond_mask = _toy_inputs()

    def draw(eta, seed=0):
        return sample_dpmpp_2m(
            _toy_denoise, SCHEDULE, x_cond, cond_mask, sampling_steps=8,
            eta=eta, generator=_seeded(seed),
        )  # fmt: skip

    assert not torch.equal(draw(0.0)[~cond_mask], draw(1.0)[~cond_mask])
    assert torch.equal(draw(1.0), draw(1.0))
    assert torch.equal(draw(1.0)[cond_mask], x_cond[cond_mask])
    with pytest.raises(ValueError, match="eta must lie in"):
        draw(1.5)
    with pytest.raises(TypeError, match="eta must be a float"):
        draw(True)
