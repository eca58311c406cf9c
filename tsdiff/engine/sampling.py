"""Batched conditional sampling: samples folded into the batch, memory-aware chunks
that halve on GPU out-of-memory, finished chunks moved to the CPU at once, and the
windows shared out across every visible GPU."""

from __future__ import annotations

import copy
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from tsdiff.diffusion import Process, get_sampler, sampler_options
from tsdiff.engine._denoise import make_denoise, window_frame
from tsdiff.engine._progress import tqdm
from tsdiff.engine.compilation import compiled
from tsdiff.engine.constraints import (
    BlockMeans,
    centre_on_means,
    project_means,
    with_block_means,
)
from tsdiff.engine.latent import latent_condition
from tsdiff.engine.noisy import noisy_start
from tsdiff.nn import Denoiser
from tsdiff.nn.autoencoder import PatchAutoencoder

__all__ = ["SamplingConfig", "sample_network"]

logger = logging.getLogger(__name__)

DETERMINISTIC = ("heun",)
"""Samplers with no stochastic form (an ``eta``), which cannot denoise."""


@dataclass(frozen=True)
class SamplingConfig:
    """Settings of :func:`sample_network`.

    ``batch_size`` counts window-samples (one window drawn once) per network call;
    ``None`` picks a size from the window size and the device's free memory.
    ``cache_side`` computes the side information and its per-block projections once
    per batch instead of once per step (more memory, less work).

    Examples
    --------
    >>> import dataclasses
    >>> from tsdiff.engine import SamplingConfig
    >>> config = SamplingConfig(num_samples=20, sampler="dpmpp_2m", sampling_steps=10)
    >>> config.batch_size is None, config.cache_side  # the defaults
    (True, True)
    >>> config.num_samples = 50
    Traceback (most recent call last):
    ...
    dataclasses.FrozenInstanceError: cannot assign to field 'num_samples'
    >>> dataclasses.replace(config, num_samples=50).num_samples
    50
    """

    num_samples: int = 100
    sampler: str = "ddpm"
    sampling_steps: int | None = None
    eta: float = 0.0
    batch_size: int | None = None
    parameterization: str = "epsilon"
    center_windows: bool = True
    scale_windows: bool = False
    mixed_precision: bool = True
    compile: bool | str = False
    cache_side: bool = True
    verbose: bool = False


def _auto_batch_size(network: Denoiser, shape: tuple, device: torch.device) -> int:
    """Window-samples per network call that fit comfortably in memory."""
    _, n_k, n_l = shape
    # About 16 live activations of n_channels x K x L floats per window-sample, and
    # the cached side projections, 2 * n_channels per block.
    config = network.config
    per_row = 4 * config.n_channels * n_k * n_l * (16 + 2 * config.n_layers)
    if device.type == "cuda":
        # From total (not free) memory, so repeated calls chunk alike and draw the same
        # noise stream: equal seeds give equal samples on one device.
        budget = 0.25 * torch.cuda.get_device_properties(device).total_memory
    else:
        budget = 2**30
    return max(1, int(budget // per_row))


def _balanced(batch: int, rows: int) -> int:
    """The chunk size that splits ``rows`` into as many chunks as ``batch`` needs,
    as evenly as possible: a ragged last chunk (padded to full size when compiled)
    costs at most one row per chunk instead of up to a whole chunk."""
    n_chunks = math.ceil(rows / max(1, batch))
    return max(1, math.ceil(rows / n_chunks))


@torch.no_grad()
def sample_network(
    network: Denoiser,
    schedule: Process,
    x_cond: np.ndarray,
    cond_mask: np.ndarray,
    config: SamplingConfig,
    *,
    device: torch.device,
    seed: int,
    covariates: np.ndarray | None = None,
    codec: PatchAutoencoder | None = None,
    means: BlockMeans | None = None,
    noise_std: np.ndarray | None = None,
) -> np.ndarray:
    """Draw conditional samples for every window, samples folded into the batch.

    Parameters
    ----------
    network : Denoiser
        A trained denoiser (moved to ``device``).
    schedule : NoiseSchedule or SDEProcess
        The process it was trained with.
    x_cond : ndarray of shape (N, K, L), float32
        Scaled windows; values at entries outside ``cond_mask`` are ignored.
    cond_mask : ndarray of shape (N, K, L), bool
        True where the value is given to the model.
    config : SamplingConfig
        Number of samples, sampler and chunking.
    device : torch.device
        Where to sample. ``cuda`` without an index, with several GPUs visible,
        shares the windows out across all of them (one copy of the network each).
    seed : int
        Seed of the sampling noise: equal seeds give equal samples on one device
        (and on the same number of GPUs).
    covariates : ndarray of shape (N, n_covariates, L), float32, optional
        Covariates of each window, for a network that takes them.
    codec : PatchAutoencoder or None, default=None
        The trained autoencoder of a latent model: the network denoises latent
        windows (:mod:`tsdiff.engine.latent`), and the decoded samples return to
        the data grid.
    means : BlockMeans or None, default=None
        Blocks of cells (outside ``cond_mask``) whose means are known, in the
        units of ``x_cond``: every network evaluation projects its clean-data
        estimate onto them, and so does the end of sampling (samplers of the
        continuous-time processes stop short of t = 0), so the samples keep
        them up to float32 rounding (:mod:`tsdiff.engine.constraints`); with
        ``center_windows`` a variable without given values is centred on its
        block means. Not with ``codec`` (the latent grid has no cells to
        constrain).
    noise_std : ndarray of shape (K,) or None, default=None
        Denoising: the values at ``cond_mask`` entries were measured with
        Gaussian noise of this standard deviation per variable (in the units of
        ``x_cond``); sampling starts from them part-way down the process instead
        of holding them (:mod:`tsdiff.engine.noisy`), every entry is sampled, and
        a sampler with an ``eta`` runs in its stochastic form (1). Not with
        ``codec`` or ``means``, nor the deterministic "heun".

    Returns
    -------
    ndarray of shape (S, N, K, L), float32
        Samples; entries in ``cond_mask`` equal ``x_cond`` exactly (without
        ``noise_std``).

    Examples
    --------
    Train a tiny network for one epoch on 8 windows of 2 variables and 12 steps,
    then draw 3 samples of the last 4 steps of each window given the first 8:

    >>> import numpy as np
    >>> import torch
    >>> from tsdiff.diffusion import NoiseSchedule
    >>> from tsdiff.data import WindowSource
    >>> from tsdiff.engine import (SamplingConfig, TrainingConfig, fit_network,
    ...                            sample_network)
    >>> from tsdiff.nn import Denoiser, DenoiserConfig
    >>> rng = np.random.default_rng(0)
    >>> x0 = np.sin(np.arange(12.0) / 2) + 0.1 * rng.standard_normal((8, 2, 12))
    >>> x0 = x0.astype(np.float32)  # (N, K, L)
    >>> def draw_mask(observed, generator):
    ...     keep = torch.rand(observed.shape, generator=generator)
    ...     return observed & (keep < 0.5)
    >>> config = DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1)
    >>> net = Denoiser(config)
    >>> net.reset_parameters(torch.Generator().manual_seed(0))
    >>> schedule = NoiseSchedule.from_name("quad", 10)
    >>> cpu = torch.device("cpu")
    >>> windows = WindowSource.from_windows(x0, np.isfinite(x0))
    >>> config = TrainingConfig(n_epochs=1, steps_per_epoch=2, batch_size=4)
    >>> _ = fit_network(net, schedule, windows, draw_mask, config, device=cpu, seed=0)
    >>> cond_mask = np.zeros(x0.shape, dtype=bool)
    >>> cond_mask[..., :8] = True
    >>> x_cond = np.where(cond_mask, x0, np.nan)  # unread where not given
    >>> sampling = SamplingConfig(num_samples=3, sampler="ddim", sampling_steps=5)
    >>> samples = sample_network(net, schedule, x_cond, cond_mask, sampling,
    ...                          device=cpu, seed=0)
    >>> samples.shape, samples.dtype
    ((3, 8, 2, 12), dtype('float32'))
    >>> bool((samples[:, cond_mask] == x_cond[cond_mask]).all())
    True
    >>> bool(np.isfinite(samples).all())
    True
    >>> again = sample_network(net, schedule, x_cond, cond_mask, sampling,
    ...                        device=cpu, seed=0)
    >>> np.array_equal(samples, again)  # equal seeds, equal samples
    True
    """
    if means is not None and codec is not None:
        raise ValueError("block means constrain the data grid; a latent model has none")
    if noise_std is not None and (codec is not None or means is not None):
        raise ValueError("noisy values start a run on the data grid, without means")
    if noise_std is not None and config.sampler in DETERMINISTIC:
        raise ValueError(
            f"denoising draws with fresh noise on the way down; the {config.sampler!r} "
            "sampler solves the probability-flow ODE without any: use another."
        )
    devices = _devices(device)
    if len(devices) == 1:
        return _sample_on(
            network, schedule, x_cond, cond_mask, config, device, seed, covariates,
            codec, means, noise_std,
        )  # fmt: skip
    return _sample_sharded(
        network, schedule, x_cond, cond_mask, config, devices, seed, covariates,
        codec, means, noise_std,
    )  # fmt: skip


def _devices(device: torch.device) -> list[torch.device]:
    """Every visible GPU for ``cuda`` without an index, else ``device`` alone."""
    count = torch.cuda.device_count() if device.type == "cuda" else 1
    if device.index is None and count > 1:
        return [torch.device("cuda", i) for i in range(count)]
    return [device]


def _sample_sharded(
    network: Denoiser,
    schedule: Process,
    x_cond: np.ndarray,
    cond_mask: np.ndarray,
    config: SamplingConfig,
    devices: list[torch.device],
    seed: int,
    covariates: np.ndarray | None = None,
    codec: PatchAutoencoder | None = None,
    means: BlockMeans | None = None,
    noise_std: np.ndarray | None = None,
) -> np.ndarray:
    """Contiguous shares of the windows sampled at once on ``devices`` (share i with
    seed ``seed + 7919 i``), in window order: shape (S, N, K, L)."""
    shares = [s for s in np.array_split(np.arange(len(x_cond)), len(devices)) if len(s)]
    replicas = [(network, codec)] + [
        copy.deepcopy((network, codec)) for _ in shares[1:]
    ]
    with ThreadPoolExecutor(len(shares)) as pool:  # kernels run without the GIL
        futures = [
            pool.submit(
                _sample_on,
                replica[0],
                schedule,
                x_cond[rows],
                cond_mask[rows],
                config,
                device,
                seed + 7919 * i,
                None if covariates is None else covariates[rows],
                replica[1],
                None if means is None else means.rows(rows),
                noise_std,
            )  # fmt: skip
            for i, (rows, replica, device) in enumerate(
                zip(shares, replicas, devices, strict=False)
            )
        ]
        parts = [future.result() for future in futures]
    return np.concatenate(parts, axis=1)  # (S, N, K, L)


@torch.no_grad()  # also in the threads of _sample_sharded: grad mode is per thread
def _sample_on(
    network: Denoiser,
    schedule: Process,
    x_cond: np.ndarray,
    cond_mask: np.ndarray,
    config: SamplingConfig,
    device: torch.device,
    seed: int,
    covariates: np.ndarray | None = None,
    codec: PatchAutoencoder | None = None,
    means: BlockMeans | None = None,
    noise_std: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`sample_network` on one device."""
    network.to(device).eval()
    if codec is not None:
        codec.to(device).eval()
    mode = False if config.compile == "auto" else config.compile  # eager: any shape
    model = compiled(network, mode)
    sampler = get_sampler(config.sampler)
    n_windows, n_k, n_l = x_cond.shape
    n_samples = config.num_samples
    total = n_windows * n_samples
    x_all = torch.from_numpy(np.nan_to_num(x_cond, nan=0.0)).float()
    mask_all = torch.from_numpy(cond_mask)
    cov_all = None if covariates is None else torch.from_numpy(covariates).float()
    if means is not None:
        block_all = torch.from_numpy(means.block).long()
        target_all = torch.from_numpy(np.nan_to_num(means.target)).float()
    if noise_std is not None:
        std = torch.as_tensor(noise_std, dtype=torch.float32, device=device)
    out = torch.empty((total, n_k, n_l), dtype=torch.float32)  # (N*S, K, L)
    shape = (n_windows, n_k, n_l)  # of the windows the network reads
    if codec is not None:
        shape = (n_windows, codec.latent_rows(n_k), codec.latent_length(n_l))
    batch = config.batch_size or _auto_batch_size(network, shape, device)
    batch = _balanced(batch, total)
    generator = torch.Generator(device=device).manual_seed(seed)
    # Denoising draws from p(x0 | x_t): the stochastic form of a sampler (eta 1).
    eta = config.eta if noise_std is None else 1.0
    options = {"sampling_steps": config.sampling_steps, "eta": eta}
    kwargs = {"generator": generator, **sampler_options(config.sampler, options)}
    progress = tqdm(total=total, disable=not config.verbose, desc="sample")
    start = 0
    while start < total:
        stop = min(start + batch, total)
        # Row r of the folded batch is sample r % S of window r // S.
        windows = torch.arange(start, stop) // n_samples
        if mode and stop - start < batch:
            # Pad the last chunk (repeating its last row) so that one compiled
            # graph serves every chunk: no recompilation for a ragged end.
            windows = torch.cat([windows, windows[-1:].expand(batch - len(windows))])
        try:
            x_c = x_all[windows].to(device)  # (b, K, L)
            m_c = mask_all[windows].to(device)
            offset, scale = window_frame(
                x_c, m_c, config.center_windows, config.scale_windows
            )  # (b, K, 1) each
            if means is not None:
                block = block_all[windows].to(device)
                target = target_all[windows].to(device)
                if config.center_windows:
                    offset = centre_on_means(offset, m_c, block, target)
            framed = (x_c - offset) / scale
            cond, given, run = framed, m_c, schedule
            if noise_std is not None:  # nothing held: the run starts from them
                noise = std[None, :, None] / scale  # (b, K, 1)
                run = noisy_start(schedule, framed, m_c, noise, generator)
                cond, given = torch.zeros_like(framed), torch.zeros_like(m_c)
            cov_c = None if cov_all is None else cov_all[windows].to(device)
            if codec is not None:  # (b, G, L / P * D)
                cond, given, cov_c = latent_condition(codec, framed, m_c, cov_c)
            denoise = make_denoise(
                model,
                schedule,
                cond,
                given,
                config.parameterization,
                cache_side=config.cache_side,
                mixed_precision=config.mixed_precision,
                covariates=cov_c,
                context=None if codec is None else cond,
            )
            if means is not None:  # targets in the frame the network models
                target = (target - offset) / scale
                denoise = with_block_means(denoise, schedule, block, target)
            draw = sampler(denoise, run, cond, given, **kwargs)
            if means is not None:  # a sampler may end short of t = 0
                draw = project_means(draw, block, target)
            if codec is not None:
                draw = codec.decode(draw, framed, m_c)  # (b, K, L)
            draw = draw * scale + offset
            if noise_std is None:  # given values exactly, not x - o + o
                draw = torch.where(m_c, x_c, draw)
        except torch.OutOfMemoryError:
            if batch == 1:
                raise
            batch = _balanced(max(1, batch // 2), total - start)
            torch.cuda.empty_cache()
            logger.warning("out of GPU memory; retrying with batch size %d", batch)
            continue
        out[start:stop] = draw[: stop - start].float().cpu()
        progress.update(stop - start)
        start = stop
    progress.close()
    samples = out.reshape(n_windows, n_samples, n_k, n_l)  # (N, S, K, L)
    return samples.transpose(0, 1).numpy()  # (S, N, K, L)
