"""Continuous-time processes (VP, sub-VP, VE) and their samplers: forward marginals,
the Gaussian oracle for every process x sampler pair, conditioning, bad input."""

import math

import numpy as np
import pytest
import torch
from gaussian_oracle import N_DRAWS, conditioning, gaussian_problem, threshold, z_scores

from tsdiff.diffusion import ALL_SAMPLERS, NoiseSchedule, nfe
from tsdiff.diffusion.sde import VESDE, VPSDE, SDEProcess, SubVPSDE, get_process
from tsdiff.diffusion.sde_samplers import SDE_SAMPLERS

PROCESSES = [VPSDE(), SubVPSDE(), VESDE()]
PAIRS = [
    (process, name)
    for process in PROCESSES
    for name in SDE_SAMPLERS
    if name != "annealed_langevin" or isinstance(process, VESDE)
]
OPTIONS = {"annealed_langevin": {"langevin_steps": 20}}
FINE = {"euler_maruyama": 200, "pc": 100, "heun": 100, "annealed_langevin": 100}


def _ids(pair):
    return f"{type(pair[0]).__name__}-{pair[1]}"


# ------------------------------------------------------------ forward process


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: type(p).__name__)
def test_drift_and_diffusion_are_those_implied_by_alpha_and_sigma(process):
    # f = d log(alpha) / dt and g^2 = d(sigma^2) / dt - 2 f sigma^2, by central
    # differences against the closed forms.
    t, h = np.linspace(0.01, 0.99, 50), 1e-6
    f = (np.log(process.alpha(t + h)) - np.log(process.alpha(t - h))) / (2 * h)
    variance = (process.sigma(t + h) ** 2 - process.sigma(t - h) ** 2) / (2 * h)
    np.testing.assert_allclose(process.drift(t), f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        process.diffusion_squared(t),
        variance - 2 * f * process.sigma(t) ** 2,
        rtol=1e-5,
    )


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: type(p).__name__)
def test_simulated_forward_sde_has_the_stated_marginals(process):
    # Euler-Maruyama on dx = f x dt + g dW from the marginal at t_min, 20000 paths
    # of 2000 steps: mean alpha(t) x0 and variance sigma(t)^2 at t = 0.5 and 1.
    rng = np.random.default_rng(0)
    n, x0 = 20_000, 0.7
    grid = np.linspace(process.t_min, 1.0, 2001)
    x = process.alpha(grid[0]) * x0 + process.sigma(grid[0]) * rng.standard_normal(n)
    for i, (t, s) in enumerate(zip(grid[:-1], grid[1:], strict=True)):
        h = s - t
        x = x + process.drift(t) * x * h
        x = x + math.sqrt(process.diffusion_squared(t) * h) * rng.standard_normal(n)
        if i + 1 in (1000, 2000):  # t = 0.5 (nearly, for VP's t_min) and t = 1
            mean, sd = process.alpha(s) * x0, process.sigma(s)
            assert abs(x.mean() - mean) < 5 * sd / math.sqrt(n)
            assert abs(x.var() / sd**2 - 1) < 5 * math.sqrt(2 / n)


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: type(p).__name__)
def test_add_noise_on_tensors_matches_the_float64_functions(process):
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(4, 2, 3, generator=g), torch.randn(4, 2, 3, generator=g)
    t = torch.tensor([0.0, 0.2, 0.7, 1.0]).clamp_min(process.t_min)
    times = t.double().numpy()[:, None, None]
    expected = process.alpha(times) * x0.numpy() + process.sigma(times) * eps.numpy()
    out = process.add_noise(x0, t, eps)
    assert out.dtype == x0.dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_prior_matches_the_marginal_at_t_one():
    assert VPSDE().prior_std == pytest.approx(1.0)
    assert SubVPSDE().prior_std == pytest.approx(1.0, abs=1e-4)
    assert VESDE(sigma_max=50.0).prior_std == pytest.approx(math.sqrt(1 + 50.0**2))


# --------------------------------------------------------------- oracle test
#
# With the exact eps-predictor of the Gaussian problem, a correct sampler's output
# follows the process's marginal at t_min, N(a mu_c, a^2 Sigma_c + s^2 I) with
# a, s = alpha(t_min), sigma(t_min), up to a discretisation error that vanishes with
# more steps: at the fine setting it must be below the sampling error of 4000 draws,
# and at five steps it is not (so the check sees the discretisation at all).


def _oracle_denoiser(process, cond, mu_c, sigma_c):
    target = torch.from_numpy(np.flatnonzero(~cond))
    eye = np.eye(len(mu_c))
    cache = {}

    def denoise(x_t, t):
        key = float(t[0])  # samplers pass one time for all rows
        if key not in cache:
            a, s = float(process.alpha(np.array(key))), float(process.sigma(key))
            gain = s * np.linalg.inv(a * a * sigma_c + s * s * eye)
            cache[key] = torch.tensor(gain).float(), torch.tensor(a * mu_c).float()
        gain, shift = cache[key]
        flat = x_t.reshape(x_t.shape[0], -1)  # (B, K*L)
        eps = torch.zeros_like(flat)
        eps[:, target] = (flat[:, target] - shift) @ gain.T
        return eps.reshape(x_t.shape)

    return denoise


def _oracle_error(process, name, sampling_steps, options=None):
    cond, given, mu_c, sigma_c = gaussian_problem()
    x_cond, cond_mask = conditioning(cond, given)
    out = ALL_SAMPLERS[name](
        _oracle_denoiser(process, cond, mu_c, sigma_c),
        process,
        x_cond,
        cond_mask,
        sampling_steps=sampling_steps,
        generator=torch.Generator().manual_seed(7),
        **(OPTIONS.get(name, {}) if options is None else options),
    )
    assert torch.equal(out[cond_mask], x_cond[cond_mask])  # given values exact
    samples = out.reshape(N_DRAWS, -1)[:, torch.from_numpy(~cond)].double().numpy()
    t_min = np.array(process.t_min)
    a, s = float(process.alpha(t_min)), float(process.sigma(t_min))
    law = a * mu_c, a * a * sigma_c + s * s * np.eye(len(mu_c))
    return max(z_scores(samples, *law)), threshold(len(mu_c))


@pytest.mark.parametrize(("process", "name"), PAIRS, ids=map(_ids, PAIRS))
def test_oracle_sampling_reaches_the_conditional_law_as_steps_grow(process, name):
    fine, limit = _oracle_error(process, name, FINE[name])
    coarse, _ = _oracle_error(process, name, 5)
    assert fine < limit < coarse


# ---------------------------------------------------- conditioning, plumbing


def _toy_denoise(x_t, t):
    """A fixed non-linear, time-dependent stand-in for a network."""
    return 0.5 * torch.tanh(x_t) + 0.1 * t.view(-1, 1, 1) * torch.cos(x_t)


def _toy_inputs():
    g = torch.Generator().manual_seed(0)
    x_cond = torch.randn(3, 2, 5, generator=g)
    cond_mask = torch.rand(3, 2, 5, generator=g) < 0.4
    x_cond[~cond_mask] = float("nan")  # values off the mask are never read
    return x_cond, cond_mask


@pytest.mark.parametrize(("process", "name"), PAIRS, ids=map(_ids, PAIRS))
def test_given_values_are_exact_and_a_seed_fixes_the_draw(process, name):
    x_cond, cond_mask = _toy_inputs()

    def draw(seed):
        return SDE_SAMPLERS[name](
            _toy_denoise,
            process,
            x_cond,
            cond_mask,
            sampling_steps=4,
            generator=torch.Generator().manual_seed(seed),
        )

    out = draw(1)
    assert torch.equal(out[cond_mask], x_cond[cond_mask])
    assert torch.isfinite(out).all()
    assert torch.equal(out, draw(1)) and not torch.equal(out, draw(2))


def test_network_evaluations_per_sample():
    counts = []

    def counting(x_t, t):
        counts.append(1)
        return _toy_denoise(x_t, t)

    x_cond, cond_mask = _toy_inputs()
    for process, name in PAIRS:
        counts.clear()
        SDE_SAMPLERS[name](counting, process, x_cond, cond_mask, sampling_steps=3)
        assert len(counts) == nfe(name, 3), name


def test_bad_input_raises_clear_errors():
    x_cond, cond_mask = _toy_inputs()
    with pytest.raises(TypeError, match="SDEProcess"):
        SDE_SAMPLERS["heun"](
            _toy_denoise, NoiseSchedule.from_name("quad", 10), x_cond, cond_mask
        )
    with pytest.raises(ValueError, match="sampling_steps must be >= 1"):
        SDE_SAMPLERS["euler_maruyama"](
            _toy_denoise, VPSDE(), x_cond, cond_mask, sampling_steps=0
        )
    with pytest.raises(ValueError, match="variance-exploding"):
        SDE_SAMPLERS["annealed_langevin"](_toy_denoise, VPSDE(), x_cond, cond_mask)
    with pytest.raises(ValueError, match="corrector_steps"):
        SDE_SAMPLERS["pc"](_toy_denoise, VESDE(), x_cond, cond_mask, snr=0.0)
    with pytest.raises(ValueError, match="unknown process 've2'"):
        get_process("ve2")
    with pytest.raises(ValueError, match="sigma_max"):
        VESDE(sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(ValueError, match="beta_max"):
        VPSDE(beta_min=2.0, beta_max=1.0)
    with pytest.raises(ValueError, match="unknown sampler"):
        nfe("ddpm2", 10)


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: type(p).__name__)
def test_heun_converges_at_second_order(process):
    # From one start draw the probability-flow ODE has one solution; against a
    # 2000-step reference, doubling the steps divides Heun's error by about 4
    # (Euler's would halve).
    cond, given, mu_c, sigma_c = gaussian_problem()
    x_cond, cond_mask = conditioning(cond, given, n=64)
    x_cond = x_cond.double()
    denoise = _oracle_denoiser(process, cond, mu_c, sigma_c)

    def solve(steps):
        return SDE_SAMPLERS["heun"](
            lambda x, t: denoise(x.float(), t).double(),
            process,
            x_cond,
            cond_mask,
            sampling_steps=steps,
            generator=torch.Generator().manual_seed(3),
        )

    reference = solve(2000)
    errors = [(solve(n) - reference).abs().max().item() for n in (40, 80)]
    assert 3.0 < errors[0] / errors[1] < 5.0


# ------------------------------------- the chain's samplers on continuous processes

CHAIN_SAMPLERS = [
    ("ddpm", {}),
    ("ddim", {}),
    ("dpmpp_2m", {}),
    ("dpmpp_2m", {"eta": 1.0}),
]


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: type(p).__name__)
@pytest.mark.parametrize(("name", "options"), CHAIN_SAMPLERS, ids=str)
def test_chain_samplers_reach_the_law_on_continuous_processes(process, name, options):
    # DDPM, DDIM and DPM-Solver++ need only alpha and sigma at their points: on the
    # log-SNR grid of a continuous process they end in its marginal at t_min.
    fine, limit = _oracle_error(process, name, 200, options)
    coarse, _ = _oracle_error(process, name, 2, options)
    assert fine < limit < coarse


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: type(p).__name__)
def test_dpm_solver_is_accurate_in_few_steps(process):
    # The exponential integrator in log-SNR is what makes few steps work: 20
    # second-order steps pass the check that the first-order samplers need 200
    # steps for above (and 10 nearly do).
    error, limit = _oracle_error(process, "dpmpp_2m", 20, {})
    assert error < limit


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: type(p).__name__)
def test_log_snr_grid_spaces_log_snr_evenly_between_the_ends(process):
    times = process.time_grid(8, spacing="log_snr")
    assert times.shape == (9,) and times[0] == 1.0 and times[-1] == process.t_min
    assert np.all(np.diff(times) < 0)
    log_snr = np.log(process.alpha(times) / process.sigma(times))
    np.testing.assert_allclose(np.diff(log_snr), np.diff(log_snr)[0], rtol=1e-9)
    np.testing.assert_allclose(
        process.time_at(process.sigma(times) / process.alpha(times)), times, atol=1e-12
    )


def test_time_spacing_is_even_in_t_and_agrees_for_ve():
    np.testing.assert_allclose(VPSDE().time_grid(4), np.linspace(1.0, 1e-3, 5))
    ve = VESDE()
    np.testing.assert_allclose(
        ve.time_grid(6), ve.time_grid(6, spacing="log_snr"), atol=1e-12
    )
    with pytest.raises(ValueError, match="spacing must be 'time' or 'log_snr'"):
        ve.time_grid(4, spacing="karras")


def test_chain_sampler_visits_the_log_snr_grid_with_float_times():
    seen = []

    def recording(x_t, t):
        seen.append((t.dtype, float(t[0])))
        return _toy_denoise(x_t, t)

    x_cond, cond_mask = _toy_inputs()
    ALL_SAMPLERS["ddim"](recording, VPSDE(), x_cond, cond_mask, sampling_steps=4)
    grid = VPSDE().time_grid(4, spacing="log_snr")[:-1]
    assert [dtype for dtype, _ in seen] == [torch.float32] * 4
    np.testing.assert_allclose([t for _, t in seen], grid, rtol=1e-6)
    counts = []
    ALL_SAMPLERS["ddpm"](
        lambda x, t: counts.append(1) or _toy_denoise(x, t), VESDE(), x_cond, cond_mask
    )
    assert len(counts) == 50  # sampling_steps=None: 50 steps on a continuous process
    with pytest.raises(TypeError, match="NoiseSchedule or an SDEProcess"):
        ALL_SAMPLERS["ddim"](_toy_denoise, "vp", x_cond, cond_mask)


def test_a_process_without_time_at_still_runs_the_sde_solvers():
    class Plain(SDEProcess):  # a user's process: the four functions only
        t_min = VPSDE().t_min
        alpha, sigma = VPSDE().alpha, VPSDE().sigma
        drift, diffusion_squared = VPSDE().drift, VPSDE().diffusion_squared

    x_cond, cond_mask = _toy_inputs()
    out = SDE_SAMPLERS["heun"](_toy_denoise, Plain(), x_cond, cond_mask)
    assert torch.equal(out[cond_mask], x_cond[cond_mask])
    with pytest.raises(NotImplementedError, match="Plain does not define time_at"):
        ALL_SAMPLERS["ddim"](_toy_denoise, Plain(), x_cond, cond_mask)
