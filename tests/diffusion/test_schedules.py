"""Tests for tsdiff.diffusion.schedules: registry, beta values, gather."""

import math
import pickle

import numpy as np
import pytest
import torch

from tsdiff.diffusion import betas
from tsdiff.diffusion.schedules import (
    SCHEDULES,
    NoiseSchedule,
    make_betas,
    register_schedule,
)


def test_registry_names_are_stable():
    # Saved models refer to schedules by name: these must never disappear.
    assert {"quad", "linear", "cosine"} <= set(SCHEDULES)


def test_quad_matches_csdi_formula_and_endpoints():
    schedule = NoiseSchedule.from_name("quad", 50)
    expected = np.linspace(math.sqrt(1e-4), math.sqrt(0.5), 50) ** 2
    assert schedule.betas.dtype == np.float64
    np.testing.assert_allclose(schedule.betas, expected, rtol=1e-15)
    assert schedule.betas[0] == pytest.approx(1e-4, rel=1e-12)
    assert schedule.betas[-1] == pytest.approx(0.5, rel=1e-12)
    assert schedule.n_steps == 50


def test_linear_values():
    betas = make_betas("linear", 5, 0.1, 0.5)
    np.testing.assert_allclose(betas, [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-15)


def test_cosine_follows_nichol_dhariwal_and_ignores_beta_range():
    n_steps, s = 20, 0.008
    grid = np.arange(n_steps + 1) / n_steps
    f = np.cos((grid + s) / (1 + s) * np.pi / 2) ** 2
    schedule = NoiseSchedule(make_betas("cosine", n_steps, 0.3, 0.4))
    # Unclipped steps reproduce abar(t) = f(t + 1) / f(0) exactly.
    np.testing.assert_allclose(schedule.alphas_cumprod[:-1], f[1:-1] / f[0], rtol=1e-12)
    assert schedule.betas[-1] == pytest.approx(0.999)  # the clip
    np.testing.assert_array_equal(
        make_betas("cosine", n_steps, 1e-4, 0.02), schedule.betas
    )


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_alphas_cumprod_is_float64_strictly_decreasing_in_unit_interval(name):
    abar = NoiseSchedule.from_name(name, 30, 1e-4, 0.2).alphas_cumprod
    assert abar.dtype == np.float64
    assert np.all(np.diff(abar) < 0)
    assert np.all((abar > 0) & (abar < 1))


def test_derived_arrays_are_consistent():
    schedule = NoiseSchedule.from_name("quad", 10)
    abar = schedule.alphas_cumprod
    np.testing.assert_allclose(abar, np.cumprod(1 - schedule.betas))
    np.testing.assert_allclose(schedule.alphas_cumprod_prev[1:], abar[:-1])
    assert schedule.alphas_cumprod_prev[0] == 1.0
    np.testing.assert_allclose(
        schedule.sqrt_alphas_cumprod**2 + schedule.sqrt_one_minus_alphas_cumprod**2,
        1.0,
    )
    # No noise is added on the final step: q(x_{-1} | x_0, x_0) is a point mass.
    assert schedule.posterior_variance[0] == 0.0


def test_registering_an_existing_name_raises():
    with pytest.raises(ValueError, match="quad"):
        register_schedule("quad")


def test_register_adds_a_new_schedule(monkeypatch):
    # Work on a copy so that the add-only global registry stays untouched.
    monkeypatch.setattr(betas, "SCHEDULES", dict(SCHEDULES))

    @betas.register_schedule("constant_for_test")
    def constant(n_steps, beta_start, beta_end):
        return np.full(n_steps, beta_end)

    np.testing.assert_array_equal(
        betas.make_betas("constant_for_test", 3, 0.1, 0.2), [0.2, 0.2, 0.2]
    )
    assert "constant_for_test" not in SCHEDULES


def test_unknown_schedule_names_itself_and_lists_known():
    with pytest.raises(ValueError, match="'nope'.*cosine.*linear.*quad"):
        make_betas("nope", 10, 1e-4, 0.5)


@pytest.mark.parametrize(
    ("n_steps", "beta_start", "beta_end", "error"),
    [
        (0, 1e-4, 0.5, ValueError),
        (2.5, 1e-4, 0.5, TypeError),
        (True, 1e-4, 0.5, TypeError),
        (10, 0.0, 0.5, ValueError),
        (10, 1e-4, 1.0, ValueError),
        (10, 0.5, 0.1, ValueError),
    ],
)
def test_bad_arguments_raise(n_steps, beta_start, beta_end, error):
    with pytest.raises(error):
        make_betas("quad", n_steps, beta_start, beta_end)


@pytest.mark.parametrize("betas", [[], [0.1, 1.0], [0.0, 0.2], [[0.1, 0.2]], [np.nan]])
def test_invalid_betas_rejected(betas):
    with pytest.raises(ValueError, match="beta"):
        NoiseSchedule(np.array(betas, dtype=float))


def test_schedule_is_immutable_and_compares_by_value():
    betas = np.array([0.1, 0.2, 0.3])
    schedule = NoiseSchedule(betas)
    betas[0] = 0.9  # the schedule keeps its own copy
    assert schedule.betas[0] == 0.1
    with pytest.raises(ValueError):
        schedule.betas[0] = 0.5
    same = NoiseSchedule([0.1, 0.2, 0.3])
    assert schedule == same and hash(schedule) == hash(same)
    assert schedule != NoiseSchedule([0.1, 0.2, 0.4])
    assert pickle.loads(pickle.dumps(schedule)) == schedule


def test_gather_returns_fresh_tensors():
    # gather caches a float32 table per device; callers must not be able to edit it.
    schedule = NoiseSchedule.from_name("quad", 10)
    t, like = torch.tensor([3, 3]), torch.zeros(2, 1, 1)
    first = schedule.gather("betas", t, like)
    first.add_(1.0)
    second = schedule.gather("betas", t, like)
    assert second.flatten()[0].item() == pytest.approx(schedule.betas[3])
    restored = pickle.loads(pickle.dumps(schedule))
    torch.testing.assert_close(restored.gather("betas", t, like), second)


def test_gather_shape_dtype_and_values():
    schedule = NoiseSchedule.from_name("quad", 50)
    t = torch.tensor([0, 7, 49])
    like = torch.zeros(3, 2, 5, dtype=torch.float64)
    values = schedule.gather("sqrt_alphas_cumprod", t, like)
    assert values.shape == (3, 1, 1)
    assert values.dtype == torch.float32
    expected = schedule.sqrt_alphas_cumprod[[0, 7, 49]].astype(np.float32)
    np.testing.assert_array_equal(values.flatten().numpy(), expected)
    assert schedule.gather("betas", t, torch.zeros(3)).shape == (3,)
    assert schedule.gather("betas", t, torch.zeros(3, 1, 1, 1)).shape == (3, 1, 1, 1)


def test_gather_follows_like_device():
    # The meta device stands in for an accelerator: values must land on like.device.
    schedule = NoiseSchedule.from_name("linear", 10, 1e-4, 0.1)
    like = torch.empty(4, 2, 3, device="meta")
    t = torch.zeros(4, dtype=torch.long, device="meta")
    values = schedule.gather("alphas_cumprod", t, like)
    assert values.device.type == "meta"
    assert values.shape == (4, 1, 1)


def test_gather_rejects_bad_input():
    schedule = NoiseSchedule.from_name("quad", 10)
    like = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="'abar'"):
        schedule.gather("abar", torch.tensor([0, 1]), like)
    with pytest.raises(TypeError, match="integer"):
        schedule.gather("betas", torch.tensor([0.0, 1.0]), like)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        schedule.gather("betas", torch.tensor([0, 10]), like)
    with pytest.raises(ValueError, match="rows"):
        schedule.gather("betas", torch.tensor([0, 1, 2]), like)
    with pytest.raises(ValueError, match="shape"):
        schedule.gather("betas", torch.tensor([[0, 1]]), like)


def test_a_first_beta_below_float_resolution_is_refused():
    # 1 - 1e-17 == 1.0: the first step would add no noise, and every sampler's
    # coefficients divide by that noise.
    with pytest.raises(ValueError, match="below float64 resolution"):
        NoiseSchedule.from_name("quad", 50, 1e-17, 0.5)
    NoiseSchedule.from_name("quad", 50, 1e-15, 0.5)  # resolved: accepted
