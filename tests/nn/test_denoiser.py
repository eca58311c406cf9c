"""Tests of the CSDI-style denoiser (tsdiff.nn)."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from tsdiff.nn import Denoiser, DenoiserConfig
from tsdiff.nn._attention import SHORT_SEQUENCE
from tsdiff.nn.inputs import interpolate_given
from tsdiff.nn.layers import (
    TransformerLayer,
    diffusion_step_features,
    sinusoidal_time_embedding,
)

TINY = DenoiserConfig(
    n_features=6,
    n_layers=2,
    n_channels=16,
    n_heads=4,
    time_embedding_dim=8,
    feature_embedding_dim=4,
    diffusion_embedding_dim=8,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _net(config: DenoiserConfig = TINY, seed: int = 0) -> Denoiser:
    net = Denoiser(config)
    net.reset_parameters(_gen(seed))
    return net


def _inputs(B: int, K: int, L: int, seed: int = 1) -> dict:
    g = _gen(seed)
    return {
        "x_t": torch.randn(B, K, L, generator=g),
        "noise_level": torch.randint(0, 50, (B,), generator=g).float(),
        "x_cond": torch.randn(B, K, L, generator=g),
        "cond_mask": torch.rand(B, K, L, generator=g) < 0.5,
    }


def _call(net: Denoiser, inputs: dict, **kwargs) -> torch.Tensor:
    return net(
        inputs["x_t"],
        inputs["noise_level"],
        inputs["x_cond"],
        inputs["cond_mask"],
        **kwargs,
    )


def _trained(
    config: DenoiserConfig = TINY, K: int = 5, L: int = 7, steps: int = 1
) -> Denoiser:
    """A network after ``steps`` Adam steps, so its zero output layer no longer
    hides input (after one step only that layer has moved)."""
    net = _net(config)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    inputs = _inputs(4, K, L, seed=2)
    target = torch.randn(4, K, L, generator=_gen(3))
    for _ in range(steps):
        ((_call(net, inputs) - target) ** 2).mean().backward()
        opt.step()
        opt.zero_grad()
    return net


@pytest.mark.parametrize(
    "shape", [(2, 3, 5), (1, 1, 7), (3, 4, 1), (1, 1, 1), (2, 6, 9)]
)
def test_output_shape_and_dtype(shape):
    out = _call(_trained(), _inputs(*shape))
    assert out.shape == shape
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_untrained_output_is_exactly_zero():
    out = _call(_net(), _inputs(3, 5, 8))
    assert torch.equal(out, torch.zeros(3, 5, 8))


def test_default_parameter_count_matches_csdi():
    # CSDI (4 layers, 64 channels, 8 heads, 145 side channels, K=36): 414,081.
    net = Denoiser(DenoiserConfig(n_features=36))
    assert sum(p.numel() for p in net.parameters()) == 414_081


def test_reset_parameters_is_reproducible():
    a, b, c = _net(seed=5), _net(seed=5), _net(seed=6)
    for (name, pa), pb, pc in zip(
        a.named_parameters(), b.parameters(), c.parameters(), strict=True
    ):
        assert torch.equal(pa, pb), name
        if pa.unique().numel() > 1:  # randomly drawn (not zeros/ones by design)
            assert not torch.equal(pa, pc), name


def test_precomputed_side_equals_recomputed():
    net = _trained()
    inputs = _inputs(3, 5, 7)
    time_points = torch.rand(3, 7, generator=_gen(4)) * 10
    feature_ids = torch.tensor([[0, 1, 2, 3, 4], [5, 4, 3, 2, 1], [1, 1, 2, 2, 0]])
    side = net.side_info(inputs["cond_mask"], time_points, feature_ids)
    assert side.shape == (3, TINY.side_dim, 5, 7)
    direct = _call(net, inputs, time_points=time_points, feature_ids=feature_ids)
    assert torch.equal(_call(net, inputs, side=side), direct)
    assert direct.abs().max() > 0
    # The per-block projections, computed once, give the same output too.
    projections = net.project_side(side)
    assert [p.shape for p in projections] == [(3, 5, 7, 2 * TINY.n_channels)] * 2
    assert torch.equal(_call(net, inputs, side_projections=projections), direct)
    with pytest.raises(ValueError, match="not both"):
        _call(net, inputs, side=side, side_projections=projections)
    with pytest.raises(ValueError, match="project_side"):
        _call(net, inputs, side_projections=projections[:1])


def test_side_info_channels():
    net = _net()
    mask = torch.rand(2, 3, 4, generator=_gen(0)) < 0.5
    side = net.side_info(mask)
    dt, df = TINY.time_embedding_dim, TINY.feature_embedding_dim
    expected_time = sinusoidal_time_embedding(torch.arange(4.0)[None], dt)[0].T
    assert torch.allclose(side[1, :dt, 2], expected_time)  # (Dt, L) for variable 2
    emb = net.feature_embedding.weight[2]  # variable 2, constant over time
    assert torch.equal(side[0, dt : dt + df, 2], emb[:, None].expand(df, 4))
    assert torch.equal(side[:, -1], mask.float())


def test_network_is_conditioned_on_every_input():
    net = _trained()
    inputs = _inputs(2, 5, 7)
    time_points = torch.arange(7.0).expand(2, 7).clone()
    feature_ids = torch.arange(5).expand(2, 5).clone()
    base = _call(net, inputs, time_points=time_points, feature_ids=feature_ids)

    def changed(**over) -> bool:
        kw = {"time_points": time_points, "feature_ids": feature_ids}
        kw.update({k: v for k, v in over.items() if k in kw})
        new = {**inputs, **{k: v for k, v in over.items() if k in inputs}}
        return not torch.allclose(_call(net, new, **kw), base, atol=1e-6)

    shifted_time = time_points.clone()
    shifted_time[0, 3] += 0.5
    assert changed(time_points=shifted_time)
    assert changed(feature_ids=torch.tensor([[5, 1, 2, 3, 4], [0, 1, 2, 3, 4]]))
    assert changed(noise_level=inputs["noise_level"] + 1.0)
    mask = inputs["cond_mask"]
    k, l = (int(i) for i in mask[0].nonzero()[0])  # noqa: E741
    x_cond = inputs["x_cond"].clone()
    x_cond[0, k, l] += 1.0
    assert changed(x_cond=x_cond)
    flipped = mask.clone()
    flipped[0, k, l] = False
    assert changed(cond_mask=flipped)


def test_unread_entries_do_not_leak():
    # x_cond is read only where cond_mask is True, x_t only where it is False.
    net = _trained()
    inputs = _inputs(2, 5, 7)
    mask = inputs["cond_mask"]
    garbage = {
        "x_cond": torch.where(mask, inputs["x_cond"], torch.nan),
        "x_t": torch.where(mask, torch.nan, inputs["x_t"]),
    }
    out = _call(net, {**inputs, **garbage})
    assert torch.isfinite(out).all()
    assert torch.equal(out, _call(net, inputs))


def test_interpolation_matches_numpy_interp():
    g = _gen(5)
    values = torch.randn(3, 4, 11, generator=g)
    given = torch.rand(3, 4, 11, generator=g) < 0.4
    given[0, 0] = False  # a variable with nothing given: zeros
    given[1, 1] = False
    given[1, 1, 6] = True  # one given value: constant
    out = interpolate_given(torch.where(given, values, torch.nan), given)
    steps = torch.arange(11.0)
    for b in range(3):
        for k in range(4):
            at = given[b, k]
            if not at.any():
                expected = torch.zeros(11)
            else:  # np.interp holds the end values beyond the given range
                line = np.interp(steps, steps[at], values[b, k][at])
                expected = torch.from_numpy(line).float()
            torch.testing.assert_close(out[b, k], expected)


def test_interpolated_input_conditions_cells_between_given_values():
    config = DenoiserConfig(**{**TINY.__dict__, "interpolated_input": True})
    assert config.input_dim == TINY.input_dim + 1
    net = _trained(config)
    inputs = _inputs(1, 5, 7)
    mask = torch.zeros(1, 5, 7, dtype=torch.bool)
    mask[..., [0, 6]] = True  # the ends given, the middle predicted
    inputs["cond_mask"] = mask
    # Unread NaN cannot leak through the channel, and a moved given value changes
    # the output through it: zeroing the channel's input weights changes the shift.
    garbage = torch.where(mask, inputs["x_cond"], torch.nan)
    base = _call(net, {**inputs, "x_cond": garbage})
    assert torch.isfinite(base).all()
    moved = inputs["x_cond"].clone()
    moved[0, 2, 6] += 1.0
    channel = net.input_projection.weight[:, -1].detach().clone()
    with torch.no_grad():  # the network without its last input channel
        net.input_projection.weight[:, -1] = 0
    plain_shift = _call(net, {**inputs, "x_cond": moved}) - _call(net, inputs)
    with torch.no_grad():
        net.input_projection.weight[:, -1] = channel
    shift = _call(net, {**inputs, "x_cond": moved}) - base
    assert not torch.allclose(shift, plain_shift, atol=1e-6)


def test_float_cond_mask_equals_bool():
    net = _trained()
    inputs = _inputs(2, 5, 7)
    as_float = {**inputs, "cond_mask": inputs["cond_mask"].float()}
    assert torch.equal(_call(net, as_float), _call(net, inputs))


def test_gradients_reach_every_parameter():
    net = _trained()
    inputs = _inputs(3, TINY.n_features, 7)  # every embedding row is used
    target = torch.randn(3, TINY.n_features, 7, generator=_gen(9))
    ((_call(net, inputs) - target) ** 2).mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


def test_batch_rows_are_independent():
    net = _trained()
    inputs = _inputs(3, 5, 7)
    x_t = inputs["x_t"].clone().requires_grad_(True)
    x_cond = inputs["x_cond"].clone().requires_grad_(True)
    out = _call(net, {**inputs, "x_t": x_t, "x_cond": x_cond})
    out[1].sum().backward()
    for grad in (x_t.grad, x_cond.grad):
        assert torch.equal(grad[0], torch.zeros_like(grad[0]))
        assert torch.equal(grad[2], torch.zeros_like(grad[2]))
        assert grad[1].abs().sum() > 0
    # Replacing another row wholesale (noise level included) changes nothing here.
    other = _inputs(3, 5, 7, seed=11)
    mixed = {key: value.clone() for key, value in inputs.items()}
    for key in mixed:
        mixed[key][0] = other[key][0]
    assert torch.allclose(_call(net, mixed)[1:], out[1:].detach(), atol=1e-6)


def test_bf16_autocast_runs_and_is_close():
    net = _trained()
    inputs = _inputs(2, 5, 7)
    ref = _call(net, inputs)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = _call(net, inputs)
    assert low.dtype == torch.float32
    assert torch.isfinite(low).all()
    assert (low - ref).abs().max() < 0.05 * ref.abs().max() + 1e-3


@pytest.mark.parametrize("length", [6, SHORT_SEQUENCE + 1])
def test_transformer_layer_matches_torch_encoder_layer(length):
    # Both attention paths: short sequences with their own kernel priority, and
    # longer ones with PyTorch's choice.
    ours = TransformerLayer(16, 4)
    ours.reset_parameters(_gen(0))
    ref = nn.TransformerEncoderLayer(
        16, 4, dim_feedforward=16, dropout=0.0, activation="gelu", batch_first=True
    )
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(ours.qkv.weight)
        ref.self_attn.in_proj_bias.copy_(ours.qkv.bias)
        ref.self_attn.out_proj.weight.copy_(ours.attn_out.weight)
        ref.self_attn.out_proj.bias.copy_(torch.randn(16, generator=_gen(1)))
        ours.attn_out.bias.copy_(ref.self_attn.out_proj.bias)
        for mine, theirs in ((ours.ff_in, ref.linear1), (ours.ff_out, ref.linear2)):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
    ref.train()  # the training path, not the fused inference fast path
    x = torch.randn(3, length, 16, generator=_gen(2))
    assert torch.allclose(ours(x), ref(x), atol=1e-5)


def test_embedding_functions_hand_values():
    t = torch.tensor([[0.0, 2.0]])
    emb = sinusoidal_time_embedding(t, 4)  # channels sin(p), cos(p), sin/cos(p/100)
    expected = torch.tensor(
        [
            [0.0, 1.0, 0.0, 1.0],
            [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
        ]
    )
    assert torch.allclose(emb[0], expected, atol=1e-6)
    feats = diffusion_step_features(torch.tensor([0.0, 3.0]), 4)  # freqs 1 and 10^4
    assert torch.equal(feats[0], torch.tensor([0.0, 0.0, 1.0, 1.0]))
    expected = torch.tensor([math.sin(3), math.sin(3e4), math.cos(3), math.cos(3e4)])
    assert torch.allclose(feats[1], expected, atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "word"),
    [
        ({"n_channels": 64, "n_heads": 6}, ValueError, "n_heads"),
        ({"n_layers": 0}, ValueError, "n_layers"),
        ({"time_embedding_dim": 7}, ValueError, "time_embedding_dim"),
        ({"diffusion_embedding_dim": 9}, ValueError, "diffusion_embedding_dim"),
        ({"n_channels": 16.0}, TypeError, "n_channels"),
        ({"time_kernel": 2}, ValueError, "time_kernel"),
        ({"time_kernel": 0}, ValueError, "time_kernel"),
    ],
)
def test_bad_config_raises(kwargs, error, word):
    with pytest.raises(error, match=word):
        DenoiserConfig(n_features=3, **kwargs)


def test_time_kernel_starts_as_csdi_and_trains_locality():
    """The convolution along time starts at zero (the network equals CSDI's, draw
    for draw), and once trained it lets the first block's attention, which reads
    no position, tell a step's neighbours from distant steps."""
    inputs = _inputs(2, 5, 9)
    conv = DenoiserConfig(**{**TINY.__dict__, "time_kernel": 3})
    assert torch.equal(_call(_net(conv), inputs), _call(_net(), inputs))
    plain, local = _trained(steps=3), _trained(conv, steps=3)
    assert all(b.time_conv is None for b in plain.blocks)
    assert all(b.time_conv.weight.abs().sum() > 0 for b in local.blocks)

    def reach(net: Denoiser) -> torch.Tensor:
        """|d out[4] / d x_t[s]| for every step s of a window given nothing."""
        x_t = torch.randn(1, 1, 9, generator=_gen(5))
        x_t[..., 1] = x_t[..., 3]  # swapping steps 1 and 3 leaves the input as it is
        x_t.requires_grad_(True)
        zeros = torch.zeros(1, 1, 9)
        out = net.blocks[0](  # the first block alone: no position reaches it
            net.input_projection(torch.stack([zeros, x_t], -1)),  # (1, 1, 9, C)
            torch.zeros(1, 1, 9, net.config.token_side_dim),
            net.diffusion_embedding(torch.tensor([10.0])),
        )[0]
        (grad,) = torch.autograd.grad(out[0, 0, 4].sum(), x_t)
        return grad.abs()[0, 0]

    flat, near = reach(plain), reach(local)
    # Without the convolution steps 3 and 1 are read alike (attention reads no
    # position, and the input is symmetric in them); with it the neighbour of
    # step 4 is read apart from the distant step.
    assert torch.allclose(flat[3], flat[1], rtol=1e-4)
    assert not torch.allclose(near[3], near[1], rtol=1e-2)


def test_bad_inputs_raise():
    net = _net()
    inputs = _inputs(2, 5, 7)
    with pytest.raises(ValueError, match="x_cond"):
        _call(net, {**inputs, "x_cond": inputs["x_cond"][:, :, :6]})
    with pytest.raises(ValueError, match="noise_level"):
        _call(net, {**inputs, "noise_level": torch.zeros(3)})
    with pytest.raises(ValueError, match="n_features"):
        _call(net, _inputs(1, TINY.n_features + 1, 3))
    with pytest.raises(ValueError, match="feature_ids"):
        _call(net, inputs, feature_ids=torch.full((2, 5), TINY.n_features))
    with pytest.raises(TypeError, match="feature_ids"):
        _call(net, inputs, feature_ids=torch.zeros(2, 5))
    with pytest.raises(ValueError, match="time_points"):
        _call(net, inputs, time_points=torch.zeros(2, 6))
    side = net.side_info(inputs["cond_mask"])
    with pytest.raises(ValueError, match="not both"):
        _call(net, inputs, side=side, time_points=torch.zeros(2, 7))
    with pytest.raises(ValueError, match="side"):
        _call(net, inputs, side=side[:, 1:])
    with pytest.raises(TypeError, match="config"):
        Denoiser({"n_features": 3})
