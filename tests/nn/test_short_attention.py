"""The fused short-sequence attention kernel against scaled_dot_product_attention.

The kernel needs CUDA and Triton: the comparisons are marked ``gpu``. On the CPU the
layer must keep ``scaled_dot_product_attention``.
"""

import numpy as np
import pytest
import torch

from tsdiff.diffusion import NoiseSchedule
from tsdiff.engine import SamplingConfig, sample_network
from tsdiff.nn import Denoiser, DenoiserConfig
from tsdiff.nn import _short_attention as fused
from tsdiff.nn.layers import TransformerLayer


def _layer(channels, heads, device):
    layer = TransformerLayer(channels, heads)
    layer.reset_parameters(torch.Generator().manual_seed(0))
    return layer.to(device).eval()


def _set_fused(module, enabled):
    for layer in module.modules():
        if isinstance(layer, TransformerLayer):
            layer.fused_attention = enabled


def test_cpu_tensors_never_take_the_kernel():
    qkv = torch.zeros(2, 36, 3 * 64, dtype=torch.bfloat16)
    assert not fused.available(qkv, 8)


@pytest.mark.gpu
@pytest.mark.parametrize(
    ("n_seq", "length", "channels", "heads"),
    [(300, 36, 64, 8), (7, 5, 16, 2), (33, 64, 64, 2), (11, 17, 48, 3)],
)
def test_kernel_matches_sdpa_on_gpu(n_seq, length, channels, heads):
    layer = _layer(channels, heads, "cuda")
    x = torch.randn(n_seq, length, channels, device="cuda")
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        qkv = layer.qkv(x)
        assert fused.available(qkv, heads)
        got = fused.short_attention(qkv, heads).float()
        q, k, v = qkv.view(n_seq, length, 3, heads, -1).permute(2, 0, 3, 1, 4)
        want = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        want = want.transpose(1, 2).reshape(n_seq, length, channels).float()
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=2e-2, rtol=2e-2)


@pytest.mark.gpu
def test_layer_agrees_with_and_without_kernel_eager_and_compiled():
    layer = _layer(64, 8, "cuda")
    x = torch.randn(500, 36, 64, device="cuda")
    outputs = {}
    for enabled in (True, False):
        layer.fused_attention = enabled
        for name, run in (("eager", layer), ("compiled", torch.compile(layer))):
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                outputs[enabled, name] = run(x).float()
    reference = outputs[False, "eager"]
    for key, out in outputs.items():
        torch.testing.assert_close(out, reference, atol=5e-2, rtol=5e-2, msg=str(key))


@pytest.mark.gpu
def test_training_calls_keep_sdpa_and_get_gradients():
    layer = _layer(64, 8, "cuda").train()
    x = torch.randn(20, 36, 64, device="cuda", requires_grad=True)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        assert not fused.available(layer.qkv(x), 8)
        layer(x).float().square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.gpu
def test_sampling_with_the_kernel_matches_sampling_without():
    net = Denoiser(DenoiserConfig(n_features=6, n_layers=2, n_channels=32, n_heads=4))
    net.reset_parameters(torch.Generator().manual_seed(0))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 6, 24)).astype(np.float32)
    mask = rng.random(x.shape) < 0.6
    config = SamplingConfig(
        num_samples=8, sampler="ddim", sampling_steps=5, mixed_precision=True
    )
    schedule = NoiseSchedule.from_name("quad", 50)
    draws = {}
    for enabled in (True, False):
        _set_fused(net, enabled)
        draws[enabled] = sample_network(
            net, schedule, x, mask, config, device=torch.device("cuda"), seed=3
        )
    assert draws[True].shape == (8, 5, 6, 24)
    # Same noise, same network: only bf16 rounding inside attention differs.
    np.testing.assert_allclose(draws[True], draws[False], atol=0.1)
    assert np.abs(draws[True] - draws[False]).mean() < 0.01
