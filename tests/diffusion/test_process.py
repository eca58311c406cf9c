"""Tests for tsdiff.diffusion.process: forward noising and the masked loss."""

import math
from statistics import NormalDist

import pytest
import torch

from tsdiff.diffusion import NoiseSchedule, add_noise, eps_loss

SCHEDULE = NoiseSchedule.from_name("quad", 50)


def _true_eps_denoiser(x0, offset=None, calls=None):
    """Denoiser that recovers the exact eps from x_t (it knows x0), plus an offset."""

    def denoise(x_t, t):
        if calls is not None:
            calls.append(t)
        signal = SCHEDULE.gather("sqrt_alphas_cumprod", t, x_t)
        noise = SCHEDULE.gather("sqrt_one_minus_alphas_cumprod", t, x_t)
        eps = (x_t - signal * x0) / noise
        return eps if offset is None else eps + offset

    return denoise


def test_add_noise_is_the_reparameterised_marginal():
    t = torch.tensor([0, 20, 49])
    x0 = torch.randn(3, 2, 4, generator=torch.Generator().manual_seed(0))
    eps = torch.randn(3, 2, 4, generator=torch.Generator().manual_seed(1))
    abar = torch.tensor(SCHEDULE.alphas_cumprod[[0, 20, 49]]).reshape(3, 1, 1)
    expected = abar.sqrt() * x0 + (1 - abar).sqrt() * eps
    torch.testing.assert_close(add_noise(SCHEDULE, x0, t, eps), expected.float())


def test_add_noise_statistics_match_q_xt_given_x0():
    n, step = 20000, 10
    abar = SCHEDULE.alphas_cumprod[step]
    x0 = torch.full((n, 1, 1), 2.0)
    eps = torch.randn(n, 1, 1, generator=torch.Generator().manual_seed(3))
    x_t = add_noise(SCHEDULE, x0, torch.full((n,), step), eps).flatten().double()
    # Tolerance: 5 standard errors of the sample mean / variance of n normals.
    std = math.sqrt(1 - abar)
    assert abs(x_t.mean().item() - 2.0 * math.sqrt(abar)) < 5 * std / math.sqrt(n)
    assert abs(x_t.var().item() / std**2 - 1) < 5 * math.sqrt(2 / n)


def test_loss_is_zero_for_the_true_eps():
    x0 = torch.randn(4, 3, 5, generator=torch.Generator().manual_seed(0))
    target = torch.ones(4, 3, 5, dtype=torch.bool)
    g = torch.Generator().manual_seed(1)
    loss = eps_loss(_true_eps_denoiser(x0), SCHEDULE, x0, target, generator=g)
    assert loss.shape == ()
    assert loss.item() < 1e-8


def test_loss_normalisation_on_a_hand_made_case():
    x0 = torch.zeros(2, 2, 3)
    target = torch.zeros(2, 2, 3, dtype=torch.bool)
    target[0, 0, 0] = target[0, 1, 2] = target[1, 0, 1] = True
    offset = torch.full((2, 2, 3), 100.0)  # non-target errors are huge: must not count
    offset[0, 0, 0], offset[0, 1, 2], offset[1, 0, 1] = 1.0, 2.0, 3.0
    g = torch.Generator().manual_seed(0)
    loss = eps_loss(_true_eps_denoiser(x0, offset), SCHEDULE, x0, target, generator=g)
    assert loss.item() == pytest.approx((1 + 4 + 9) / 3, rel=1e-5)


def test_only_target_entries_count_even_nan():
    x0 = torch.zeros(2, 2, 3)
    target = torch.zeros(2, 2, 3, dtype=torch.bool)
    target[1] = True
    offset = torch.zeros(2, 2, 3)
    offset[0] = float("nan")  # a NaN prediction off-target must not leak
    offset[1, 0, 0] = 6.0
    g = torch.Generator().manual_seed(0)
    loss = eps_loss(_true_eps_denoiser(x0, offset), SCHEDULE, x0, target, generator=g)
    assert loss.item() == pytest.approx(36 / 6, rel=1e-5)


def test_float_mask_equals_bool_mask():
    x0 = torch.randn(3, 2, 4, generator=torch.Generator().manual_seed(0))
    target = torch.rand(3, 2, 4, generator=torch.Generator().manual_seed(1)) > 0.5

    def denoise(x_t, t):
        return 0.5 * x_t

    losses = [
        eps_loss(
            denoise, SCHEDULE, x0, mask, generator=torch.Generator().manual_seed(2)
        )
        for mask in (target, target.float())
    ]
    assert losses[0].item() > 0
    torch.testing.assert_close(losses[0], losses[1])


def test_empty_target_is_safe_and_gives_zero_gradient():
    weight = torch.tensor(0.3, requires_grad=True)
    x0 = torch.randn(2, 2, 3, generator=torch.Generator().manual_seed(0))
    target = torch.zeros(2, 2, 3, dtype=torch.bool)
    g = torch.Generator().manual_seed(0)
    loss = eps_loss(lambda x_t, t: weight * x_t, SCHEDULE, x0, target, generator=g)
    loss.backward()
    assert loss.item() == 0.0
    assert weight.grad is not None and weight.grad.item() == 0.0


def test_gradients_reach_the_denoiser():
    weight = torch.tensor(0.3, requires_grad=True)
    x0 = torch.randn(4, 2, 3, generator=torch.Generator().manual_seed(0))
    target = torch.ones(4, 2, 3, dtype=torch.bool)
    g = torch.Generator().manual_seed(0)
    eps_loss(lambda x_t, t: weight * x_t, SCHEDULE, x0, target, generator=g).backward()
    assert weight.grad is not None and weight.grad.item() != 0.0


def test_steps_are_uniform_long_per_row_and_seeded():
    calls = []
    x0 = torch.zeros(4000, 1, 1)
    target = torch.ones(4000, 1, 1, dtype=torch.bool)
    denoise = _true_eps_denoiser(x0, calls=calls)
    for seed in (5, 5, 6):
        eps_loss(
            denoise, SCHEDULE, x0, target, generator=torch.Generator().manual_seed(seed)
        )
    t = calls[0]
    assert t.dtype == torch.long and t.shape == (4000,)
    assert t.min().item() >= 0 and t.max().item() <= SCHEDULE.n_steps - 1
    # Every step is drawn; the mean of U{0..49} is 24.5 with sd 14.43 per draw.
    assert torch.unique(t).numel() == SCHEDULE.n_steps
    z = NormalDist().inv_cdf(1 - 1e-6)
    assert abs(t.double().mean().item() - 24.5) < z * 14.43 / math.sqrt(4000)
    assert torch.equal(calls[0], calls[1])
    assert not torch.equal(calls[0], calls[2])


@pytest.mark.parametrize(
    ("x0", "target", "error"),
    [
        (torch.zeros(2, 3, 4), torch.ones(2, 3, 5, dtype=torch.bool), ValueError),
        (torch.zeros(2, 3, 4, dtype=torch.long), torch.ones(2, 3, 4), TypeError),
        (torch.zeros(2, 3, 4), None, TypeError),
    ],
)
def test_bad_input_raises(x0, target, error):
    with pytest.raises(error):
        eps_loss(lambda x_t, t: x_t, SCHEDULE, x0, target)


def test_non_callable_denoiser_and_wrong_output_shape_raise():
    x0 = torch.zeros(2, 3, 4)
    target = torch.ones(2, 3, 4, dtype=torch.bool)
    with pytest.raises(TypeError, match="callable"):
        eps_loss(None, SCHEDULE, x0, target)
    with pytest.raises(ValueError, match="denoise output"):
        eps_loss(lambda x_t, t: x_t[:, :1], SCHEDULE, x0, target)


def test_add_noise_rejects_mismatched_eps():
    with pytest.raises(ValueError, match="eps"):
        add_noise(SCHEDULE, torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(2, 4))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_loss_has_no_host_sync():
    x0 = torch.randn(8, 3, 5, device="cuda")
    target = torch.rand(8, 3, 5, device="cuda") > 0.5
    generator = torch.Generator(device="cuda").manual_seed(0)
    weight = torch.tensor(0.3, device="cuda", requires_grad=True)
    eps_loss(lambda x_t, t: weight * x_t, SCHEDULE, x0, target, generator=generator)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any device-to-host sync raises
    try:  # second call: the schedule's device tables are cached by now
        loss = eps_loss(
            lambda x_t, t: weight * x_t, SCHEDULE, x0, target, generator=generator
        )
        loss.backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert loss.device.type == "cuda" and loss.item() > 0


@pytest.mark.parametrize("process", ["ddpm", "vp", "subvp", "ve"])
def test_v_loss_is_the_squared_velocity_error(process):
    """A network whose velocity is off by delta scores mean(delta^2) under the "v"
    loss and mean(a^2 delta^2) under the noise loss, whatever the noise level."""
    from tsdiff.diffusion import as_eps_predictor, make_process

    schedule = make_process(
        process, n_steps=50, schedule="quad", beta_start=1e-4, beta_end=0.5
    )
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(64, 2, 3, generator=gen, dtype=torch.float64)
    delta = torch.randn(64, 2, 3, generator=gen, dtype=torch.float64)
    target = torch.ones(64, 2, 3, dtype=torch.bool)
    seen = {}

    def network(x_in, t):  # reads x_t / r, as as_eps_predictor feeds it
        alpha, sigma = schedule.scales(t, x0)  # (B, 1, 1) each
        r = (alpha.square() + sigma.square()).sqrt()
        x_t = x_in * r if schedule.input_scale(t, x0) is not None else x_in
        eps = (x_t - alpha * x0) / sigma
        seen["a2"] = (alpha / r).square()
        return alpha / r * eps - sigma / r * x0 + delta  # v + delta

    denoise = as_eps_predictor(network, schedule, "v")
    v_loss = eps_loss(
        denoise, schedule, x0, target, loss="v", generator=torch.Generator()
    )
    assert v_loss.item() == pytest.approx(delta.square().mean().item(), rel=1e-6)
    eps_only = eps_loss(denoise, schedule, x0, target, generator=torch.Generator())
    expected = (seen["a2"] * delta.square()).mean().item()
    assert eps_only.item() == pytest.approx(expected, rel=1e-6)
    assert eps_only.item() < 0.9 * v_loss.item()  # the noise loss discounts high noise


def test_loss_weights_and_unknown_loss():
    from tsdiff.diffusion import loss_weights

    t = torch.tensor([0, 25, 49])
    like = torch.zeros(3, 1, 1)
    torch.testing.assert_close(loss_weights(SCHEDULE, t, "epsilon", like), 1 + like)
    abar = torch.tensor(SCHEDULE.alphas_cumprod[[0, 25, 49]]).reshape(3, 1, 1)
    snr = abar / (1 - abar)
    torch.testing.assert_close(
        loss_weights(SCHEDULE, t, "v", like), (1 + 1 / snr).float()
    )
    with pytest.raises(ValueError, match="unknown loss 'x0'"):
        loss_weights(SCHEDULE, t, "x0", like)
    with pytest.raises(ValueError, match="unknown loss"):
        eps_loss(lambda x, t: x, SCHEDULE, like, like.bool(), loss="l1")
