"""The two attention paths: the fused short-sequence kernel against SDPA.

The kernel needs CUDA and Triton: the comparisons are marked ``gpu``. On the CPU every
call must take SDPA, and a kernel that fails must hand over to SDPA for good.
"""

import logging

import numpy as np
import pytest
import torch

from tsdiff.diffusion import NoiseSchedule
from tsdiff.engine import SamplingConfig, sample_network
from tsdiff.nn import Denoiser, DenoiserConfig, _attention
from tsdiff.nn.layers import TransformerLayer


def _layer(channels, heads, device):
    layer = TransformerLayer(channels, heads)
    layer.reset_parameters(torch.Generator().manual_seed(0))
    return layer.to(device).eval()


def _set_fused(module, enabled):
    for layer in module.modules():
        if isinstance(layer, TransformerLayer):
            layer.fused_attention = enabled


def _heads_reference(qkv, heads):
    """Attention written out head by head in float64."""
    n_seq, length, width = qkv.shape
    q, k, v = qkv.double().view(n_seq, length, 3, heads, -1).unbind(2)
    scores = torch.einsum("nshd,nthd->nhst", q, k) / q.shape[-1] ** 0.5
    out = torch.einsum("nhst,nthd->nshd", scores.softmax(-1), v)
    return out.reshape(n_seq, length, width // 3)


def test_cpu_tensors_never_take_the_kernel():
    qkv = torch.zeros(2, 36, 3 * 64, dtype=torch.bfloat16)
    assert not _attention.fused_available(qkv, 8)


@pytest.mark.parametrize("length", [5, _attention.SHORT_SEQUENCE + 3])
def test_sdpa_path_matches_attention_written_out(length):
    qkv = torch.randn(4, length, 3 * 12, generator=torch.Generator().manual_seed(0))
    got = _attention.attention(qkv, 3)
    torch.testing.assert_close(
        got.double(), _heads_reference(qkv, 3), atol=1e-5, rtol=1e-5
    )


def test_a_failing_kernel_hands_over_to_sdpa_for_good(monkeypatch, caplog):
    calls = []

    def broken_launch(qkv, n_heads):
        calls.append(1)
        raise RuntimeError("Failed to find C compiler")

    monkeypatch.setattr(_attention, "_FUSED_FAILED", [])
    monkeypatch.setattr(_attention, "_capability", lambda device: (9, 0))
    monkeypatch.setattr(_attention, "_launch", broken_launch)
    qkv = torch.randn(3, 7, 3 * 8, generator=torch.Generator().manual_seed(1))
    with caplog.at_level(logging.WARNING, logger="tsdiff.nn._attention"):
        first = _attention._fused_or_sdpa(qkv, 2)
        second = _attention._fused_or_sdpa(qkv, 2)
    assert len(calls) == 1  # not tried again
    assert "Failed to find C compiler" in caplog.text
    torch.testing.assert_close(first, _attention.sdpa_attention(qkv, 2))
    torch.testing.assert_close(second, first)
    cuda_like = qkv.to(torch.bfloat16)
    assert not _attention.fused_available(cuda_like, 2)


def test_old_cards_compute_through_sdpa(monkeypatch):
    def launch(qkv, n_heads):
        raise AssertionError("the kernel must not run on an old card")

    monkeypatch.setattr(_attention, "_FUSED_FAILED", [])
    monkeypatch.setattr(_attention, "_capability", lambda device: (7, 5))
    monkeypatch.setattr(_attention, "_launch", launch)
    qkv = torch.randn(2, 6, 3 * 8, generator=torch.Generator().manual_seed(2))
    out = _attention._fused_or_sdpa(qkv, 4)
    torch.testing.assert_close(out, _attention.sdpa_attention(qkv, 4))
    assert _attention._FUSED_FAILED == []


@pytest.mark.gpu
@pytest.mark.parametrize(
    ("n_seq", "length", "channels", "heads"),
    [(300, 36, 64, 8), (7, 5, 16, 2), (33, 64, 64, 2), (11, 17, 48, 3), (4, 1, 8, 1)],
)
def test_kernel_matches_attention_written_out_on_gpu(n_seq, length, channels, heads):
    layer = _layer(channels, heads, "cuda")
    x = torch.randn(n_seq, length, channels, device="cuda")
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        qkv = layer.qkv(x)
        assert _attention.fused_available(qkv, heads)
        got = _attention.fused_attention(qkv, heads)
    assert got.shape == (n_seq, length, channels) and got.dtype == torch.bfloat16
    want = _heads_reference(qkv, heads).float()
    torch.testing.assert_close(got.float(), want, atol=2e-2, rtol=2e-2)


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
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_kernel_runs_on_the_tensors_gpu_not_the_current_one():
    torch.cuda.set_device(0)
    layer = _layer(64, 8, "cuda:1")
    x = torch.randn(200, 36, 64, device="cuda:1")
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        fused = layer(x).float()
        layer.fused_attention = False
        plain = layer(x).float()
    torch.testing.assert_close(fused, plain, atol=5e-2, rtol=5e-2)


@pytest.mark.gpu
def test_training_calls_keep_sdpa_and_get_gradients():
    layer = _layer(64, 8, "cuda").train()
    x = torch.randn(20, 36, 64, device="cuda", requires_grad=True)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        assert not _attention.fused_available(layer.qkv(x), 8)
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
