"""Training and batched sampling of a denoiser on a device, on arrays of windows.

The engine knows nothing of pandas or estimators: it takes windows of shape (N, K, L)
and returns samples of shape (S, N, K, L). The network and the noise process meet here,
through a ``denoise(x_t, t)`` closure that binds the conditioning of each batch.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from tsdiff.diffusion import NoiseSchedule, as_eps_predictor, eps_loss, get_sampler
from tsdiff.nn import Denoiser

__all__ = ["TrainingConfig", "SamplingConfig", "fit_network", "sample_network"]

logger = logging.getLogger(__name__)

MaskFn = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings of :func:`fit_network` (meanings: see the estimators)."""

    n_epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-6
    validation_fraction: float = 0.0
    early_stopping_patience: int | None = None
    parameterization: str = "epsilon"
    ema_decay: float | None = None
    mixed_precision: bool = True
    verbose: bool = False


@dataclass(frozen=True)
class SamplingConfig:
    """Settings of :func:`sample_network`.

    ``batch_size`` counts window-samples (one window drawn once) per network call;
    ``None`` picks a size from the window size and the device's free memory.
    """

    num_samples: int = 100
    sampler: str = "ddpm"
    sampling_steps: int | None = None
    eta: float = 0.0
    batch_size: int | None = None
    parameterization: str = "epsilon"
    mixed_precision: bool = True
    verbose: bool = False


def _autocast(device: torch.device, enabled: bool) -> torch.autocast:
    """bf16 autocast of the network on CUDA (a no-op elsewhere or when disabled)."""
    on = enabled and device.type == "cuda"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=on)


def _make_denoise(
    network: Denoiser,
    schedule: NoiseSchedule,
    x_cond: torch.Tensor,
    cond_mask: torch.Tensor,
    parameterization: str,
    cache_side: bool,
    mixed_precision: bool = False,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Bind one batch's conditioning to the network: ``denoise(x_t, t) -> eps_hat``.

    With ``mixed_precision`` the network runs under bf16 autocast on CUDA; its output
    is returned in float32 so that the sampler's arithmetic stays in full precision.
    """
    amp = _autocast(x_cond.device, mixed_precision)
    with amp:
        side = network.side_info(cond_mask) if cache_side else None

    def model(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with amp:
            out = network(x_t, t.float(), x_cond, cond_mask, side=side)
        return out.float()

    return as_eps_predictor(model, schedule, parameterization)


def _window_offset(x: torch.Tensor, cond_mask: torch.Tensor) -> torch.Tensor:
    """Per-window, per-variable mean of the conditioning values, shape (B, K, 1).

    Windows are modelled relative to this level, so a series that drifts far from its
    training mean (a trend) still looks familiar to the network; the offset is a
    function of the given values only, so it is known at prediction time. A variable
    with no conditioning value in a window gets offset 0.
    """
    count = cond_mask.sum(dim=-1, keepdim=True)  # (B, K, 1)
    total = torch.where(cond_mask, x, torch.zeros_like(x)).sum(dim=-1, keepdim=True)
    return total / count.clamp(min=1)


def _batch_loss(
    network: Denoiser,
    schedule: NoiseSchedule,
    x0: torch.Tensor,
    observed: torch.Tensor,
    draw_mask: MaskFn,
    generator: torch.Generator,
    config: TrainingConfig,
) -> torch.Tensor:
    cond_mask = draw_mask(observed, generator)  # (B, K, L) bool
    target_mask = observed & ~cond_mask
    x0 = x0 - _window_offset(x0, cond_mask)
    x_cond = torch.where(cond_mask, x0, torch.zeros_like(x0))
    denoise = _make_denoise(
        network,
        schedule,
        x_cond,
        cond_mask,
        config.parameterization,
        cache_side=False,
        mixed_precision=config.mixed_precision,
    )
    return eps_loss(denoise, schedule, x0, target_mask, generator=generator)


def _split(n: int, fraction: float, generator: torch.Generator) -> tuple:
    """Chronological split: the last ``fraction`` of the windows validate."""
    n_val = int(round(n * fraction))
    if fraction > 0 and (n_val < 1 or n_val >= n):
        raise ValueError(
            f"validation_fraction={fraction} leaves {n - n_val} training and {n_val} "
            f"validation windows out of {n}; use more data or another fraction."
        )
    return torch.arange(n - n_val), torch.arange(n - n_val, n)


def fit_network(
    network: Denoiser,
    schedule: NoiseSchedule,
    x0: np.ndarray,
    observed_mask: np.ndarray,
    draw_mask: MaskFn,
    config: TrainingConfig,
    *,
    device: torch.device,
    seed: int,
) -> list[dict]:
    """Train ``network`` in place on windows with CSDI's masked epsilon objective.

    Parameters
    ----------
    network : Denoiser
        The denoiser; moved to ``device``.
    schedule : NoiseSchedule
        The noise schedule.
    x0 : ndarray of shape (N, K, L), float32
        Scaled windows; values at unobserved entries are ignored.
    observed_mask : ndarray of shape (N, K, L), bool
        True where the window has a value.
    draw_mask : callable
        ``draw_mask(observed_mask, generator) -> cond_mask`` on (B, K, L) bool tensors:
        the training mask policy.
    config : TrainingConfig
        Optimisation settings.
    device : torch.device
        Where to train.
    seed : int
        Seed of the generators for shuffling, masks, steps and noise.

    Returns
    -------
    list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``learning_rate`` and, with a
        validation split, ``val_loss``. With a validation split the weights of the best
        epoch are restored.
    """
    network.to(device)
    shuffle_gen = torch.Generator().manual_seed(seed)
    noise_gen = torch.Generator(device=device).manual_seed(seed + 1)
    x0_t = _to_device(torch.from_numpy(np.nan_to_num(x0, nan=0.0)).float(), device)
    obs_t = _to_device(torch.from_numpy(observed_mask), device)
    train_idx, val_idx = _split(len(x0_t), config.validation_fraction, shuffle_gen)
    optimizer = torch.optim.Adam(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    # CSDI's schedule: learning rate x0.1 at 75 % and 90 % of the epochs.
    milestones = sorted({int(0.75 * config.n_epochs), int(0.9 * config.n_epochs)})
    lr_schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, 0.1)
    # The evaluated network: an exponential moving average of the weights, if asked.
    averaged = copy.deepcopy(network) if config.ema_decay else network
    history: list[dict] = []
    best = (math.inf, None)
    stale = 0
    epochs = tqdm(range(config.n_epochs), disable=not config.verbose, desc="fit")
    for epoch in epochs:
        network.train()
        order = train_idx[torch.randperm(len(train_idx), generator=shuffle_gen)]
        total = torch.zeros((), device=device)
        for start in range(0, len(order), config.batch_size):
            rows = order[start : start + config.batch_size].to(x0_t.device)
            loss = _batch_loss(
                network,
                schedule,
                x0_t[rows].to(device),
                obs_t[rows].to(device),
                draw_mask,
                noise_gen,
                config,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if averaged is not network:
                _ema_update(averaged, network, config.ema_decay)
            total += loss.detach() * len(rows)
        record = {
            "epoch": epoch + 1,
            "train_loss": total.item() / max(len(order), 1),
            "learning_rate": optimizer.param_groups[0]["lr"],
        }
        lr_schedule.step()
        monitored = record["train_loss"]
        if len(val_idx):
            record["val_loss"] = monitored = _validation_loss(
                averaged,
                schedule,
                x0_t[val_idx],
                obs_t[val_idx],
                draw_mask,
                config,
                device,
                seed,
            )
        history.append(record)
        epochs.set_postfix({k: v for k, v in record.items() if k.endswith("loss")})
        logger.debug("epoch %d: %s", epoch + 1, record)
        if monitored < best[0]:
            best, stale = (monitored, _snapshot(averaged, len(val_idx) > 0)), 0
        else:
            stale += 1
        patience = config.early_stopping_patience
        if patience is not None and stale >= patience:
            logger.info("early stopping after epoch %d", epoch + 1)
            break
    final = best[1] if best[1] is not None else averaged.state_dict()
    network.load_state_dict(final)
    network.eval()
    return history


def _to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Keep training data on the GPU when it is small, so batches need no copy."""
    if device.type == "cuda" and tensor.nbytes < 2**30:
        return tensor.to(device)
    return tensor


@torch.no_grad()
def _ema_update(averaged: Denoiser, network: Denoiser, decay: float) -> None:
    """``averaged <- decay * averaged + (1 - decay) * network``, parameters only."""
    for target, source in zip(averaged.parameters(), network.parameters(), strict=True):
        target.lerp_(source.detach(), 1.0 - decay)


def _snapshot(network: Denoiser, keep: bool) -> dict | None:
    return copy.deepcopy(network.state_dict()) if keep else None


@torch.no_grad()
def _validation_loss(
    network: Denoiser,
    schedule: NoiseSchedule,
    x0: torch.Tensor,
    observed: torch.Tensor,
    draw_mask: MaskFn,
    config: TrainingConfig,
    device: torch.device,
    seed: int,
) -> float:
    """Loss on held-out windows with the same masks, steps and noise every epoch."""
    network.eval()
    generator = torch.Generator(device=device).manual_seed(seed + 2)
    total = 0.0
    for start in range(0, len(x0), config.batch_size):
        rows = slice(start, start + config.batch_size)
        loss = _batch_loss(
            network,
            schedule,
            x0[rows].to(device),
            observed[rows].to(device),
            draw_mask,
            generator,
            config,
        )
        total += loss.item() * len(x0[rows])
    return total / len(x0)


def _auto_batch_size(network: Denoiser, shape: tuple, device: torch.device) -> int:
    """Window-samples per network call that fit comfortably in memory."""
    _, n_k, n_l = shape
    # About 16 live activations of n_channels x K x L floats per window-sample.
    per_row = 16 * 4 * network.config.n_channels * n_k * n_l
    if device.type == "cuda":
        # From total (not free) memory, so repeated calls chunk alike and draw the same
        # noise stream: equal seeds give equal samples on one device.
        budget = 0.25 * torch.cuda.get_device_properties(device).total_memory
    else:
        budget = 2**30
    return max(1, int(budget // per_row))


@torch.no_grad()
def sample_network(
    network: Denoiser,
    schedule: NoiseSchedule,
    x_cond: np.ndarray,
    cond_mask: np.ndarray,
    config: SamplingConfig,
    *,
    device: torch.device,
    seed: int,
) -> np.ndarray:
    """Draw conditional samples for every window, samples folded into the batch.

    Parameters
    ----------
    network : Denoiser
        A trained denoiser (moved to ``device``).
    schedule : NoiseSchedule
        The schedule it was trained with.
    x_cond : ndarray of shape (N, K, L), float32
        Scaled windows; values at entries outside ``cond_mask`` are ignored.
    cond_mask : ndarray of shape (N, K, L), bool
        True where the value is given to the model.
    config : SamplingConfig
        Number of samples, sampler and chunking.
    device : torch.device
        Where to sample.
    seed : int
        Seed of the sampling noise: equal seeds give equal samples on one device.

    Returns
    -------
    ndarray of shape (S, N, K, L), float32
        Samples; entries in ``cond_mask`` equal ``x_cond`` exactly.
    """
    network.to(device).eval()
    sampler = get_sampler(config.sampler)
    n_windows, n_k, n_l = x_cond.shape
    n_samples = config.num_samples
    total = n_windows * n_samples
    x_all = torch.from_numpy(np.nan_to_num(x_cond, nan=0.0)).float()
    mask_all = torch.from_numpy(cond_mask)
    out = torch.empty((total, n_k, n_l), dtype=torch.float32)  # (N*S, K, L)
    batch = config.batch_size or _auto_batch_size(network, x_cond.shape, device)
    batch = min(batch, total)
    generator = torch.Generator(device=device).manual_seed(seed)
    kwargs = {"sampling_steps": config.sampling_steps, "generator": generator}
    if config.sampler == "ddim":
        kwargs["eta"] = config.eta
    progress = tqdm(total=total, disable=not config.verbose, desc="sample")
    start = 0
    while start < total:
        stop = min(start + batch, total)
        # Row r of the folded batch is sample r % S of window r // S.
        windows = torch.arange(start, stop) // n_samples
        try:
            x_c = x_all[windows].to(device)  # (b, K, L)
            m_c = mask_all[windows].to(device)
            offset = _window_offset(x_c, m_c)  # (b, K, 1)
            centred = x_c - offset
            denoise = _make_denoise(
                network,
                schedule,
                centred,
                m_c,
                config.parameterization,
                cache_side=True,
                mixed_precision=config.mixed_precision,
            )
            draw = sampler(denoise, schedule, centred, m_c, **kwargs) + offset
            draw = torch.where(m_c, x_c, draw)  # given values exactly, not x - o + o
        except torch.OutOfMemoryError:
            if batch == 1:
                raise
            batch = max(1, batch // 2)
            torch.cuda.empty_cache()
            logger.warning("out of GPU memory; retrying with batch size %d", batch)
            continue
        out[start:stop] = draw.float().cpu()
        progress.update(stop - start)
        start = stop
    progress.close()
    samples = out.reshape(n_windows, n_samples, n_k, n_l)  # (N, S, K, L)
    return samples.transpose(0, 1).numpy()  # (S, N, K, L)
