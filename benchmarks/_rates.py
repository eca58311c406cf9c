"""Sampling rate of tsdiff's engine against a CSDI-style reference loop (part of
``throughput.py``; nothing here is part of the library).

The unit is the window-NFE: one network evaluation for one window and one sample.
The engine folds samples and windows into large batches (``sample_network``); the
reference draws one sample of one window at a time in float32 eager mode, one
network call per step, as CSDI's ``impute`` loop does (side information computed
once per window, the step index sent to the device every call).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from tsdiff.diffusion import NoiseSchedule
from tsdiff.engine import SamplingConfig, sample_network
from tsdiff.nn import Denoiser, DenoiserConfig
from tsdiff.nn.layers import TransformerLayer

CSDI_NETWORK = {
    "n_layers": 4,
    "n_channels": 64,
    "n_heads": 8,
    "time_embedding_dim": 128,
    "feature_embedding_dim": 16,
    "diffusion_embedding_dim": 128,
}

SMOKE_NETWORK = {**CSDI_NETWORK, "n_layers": 1, "n_channels": 8, "n_heads": 2}


def network(n_vars: int, smoke: bool, device: torch.device, seed: int) -> Denoiser:
    """A randomly initialised network of CSDI's size (rates need no training)."""
    sizes = SMOKE_NETWORK if smoke else CSDI_NETWORK
    config = DenoiserConfig(n_features=n_vars, **sizes)
    net = Denoiser(config)
    net.reset_parameters(torch.Generator().manual_seed(seed))
    return net.to(device).eval()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak_mib(device: torch.device) -> float | None:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return None


def engine_rate(
    net: Denoiser,
    shape: tuple[int, int],
    batch: int | None,
    mixed_precision: bool,
    compile_network: bool,
    cache_side: bool,
    args,
    device: torch.device,
    fused_attention: bool = True,
) -> dict:
    """Window-NFE per second of ``sample_network`` with ``batch`` window-samples per
    network call (None: the engine's memory-aware choice): the second of two equal
    calls is timed, so the first holds any compilation. ``fused_attention`` is set
    on every attention layer (the fused kernel serves only where it applies)."""
    for layer in net.modules():
        if isinstance(layer, TransformerLayer):
            layer.fused_attention = fused_attention
    n_vars, length = shape
    samples = args.samples
    # Enough window-samples for at least two full calls at this batch size; the
    # automatic size is given --auto-work per call, so that it has room to choose.
    n_windows = max(1, math.ceil(2 * (batch or args.auto_work) / samples))
    rng = np.random.default_rng(args.seed)
    x_cond = rng.normal(size=(n_windows, n_vars, length)).astype(np.float32)
    mask = rng.random(x_cond.shape) < 0.5  # (N, K, L)
    config = SamplingConfig(
        num_samples=samples,
        sampler="ddim",
        sampling_steps=args.sampling_steps,
        batch_size=batch,
        parameterization="v",
        mixed_precision=mixed_precision,
        compile=compile_network,
        cache_side=cache_side,
    )
    schedule = NoiseSchedule.from_name("quad", 50)
    sample_network(net, schedule, x_cond, mask, config, device=device, seed=0)
    _peak_reset(device)
    _sync(device)
    start = time.perf_counter()
    sample_network(net, schedule, x_cond, mask, config, device=device, seed=1)
    _sync(device)
    seconds = time.perf_counter() - start
    work = n_windows * samples * args.sampling_steps
    return {
        "shape": f"{n_vars}x{length}",
        "batch": "auto" if batch is None else batch,
        "mode": "compile" if compile_network else "eager",
        "side_cache": cache_side,
        "precision": "bf16" if mixed_precision and device.type == "cuda" else "fp32",
        "attention": "fused" if fused_attention else "sdpa",
        "windows": n_windows,
        "num_samples": samples,
        "nfe": args.sampling_steps,
        "seconds": seconds,
        "window_nfe_per_s": work / seconds,
        "peak_mib": _peak_mib(device),
    }


@torch.no_grad()
def reference_rate(
    net: Denoiser,
    shape: tuple[int, int],
    n_calls: int,
    device: torch.device,
    windows: int = 1,
) -> dict:
    """Window-NFE per second of a one-sample, fp32 eager DDPM loop over ``windows``
    windows per network call: 16 is CSDI's own evaluation (its ``impute`` draws one
    sample at a time for a test batch of 16 windows), 1 the loop of one window."""
    n_vars, length = shape
    g = torch.Generator().manual_seed(0)
    x_cond = torch.randn(windows, n_vars, length, generator=g).to(device)
    mask = (torch.rand(windows, n_vars, length, generator=g) < 0.5).to(device)
    side = net.side_info(mask)  # once per batch of windows, as CSDI does
    schedule = NoiseSchedule.from_name("quad", 50)
    alphas, abar = schedule.alphas, schedule.alphas_cumprod
    x = torch.randn(windows, n_vars, length, device=device)

    def step(t: int) -> None:
        nonlocal x
        level = torch.tensor([float(t)] * windows).to(device)  # a host copy per call
        eps = net(x, level, x_cond, mask, side=side)
        c1 = 1 / math.sqrt(alphas[t])
        c2 = (1 - alphas[t]) / math.sqrt(1 - abar[t])
        x = c1 * (x - c2 * eps)
        if t > 0:
            x = x + math.sqrt(schedule.posterior_variance[t]) * torch.randn_like(x)
        x = torch.where(mask, x_cond, x)

    for t in range(3):  # warm-up
        step(49 - t)
    _peak_reset(device)
    _sync(device)
    start = time.perf_counter()
    for i in range(n_calls):
        step(49 - i % 50)
    _sync(device)
    seconds = time.perf_counter() - start
    return {
        "shape": f"{n_vars}x{length}",
        "windows": windows,
        "calls": n_calls,
        "seconds": seconds,
        "window_nfe_per_s": n_calls * windows / seconds,
        "peak_mib": _peak_mib(device),
    }
