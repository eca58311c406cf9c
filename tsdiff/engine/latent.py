"""Diffusion in the latent space of a patch autoencoder (latent diffusion, Rombach et
al., 2022): how framed windows become latent windows, and how the autoencoder is
trained before the denoiser.

A window (B, K, L) becomes a latent window (B, G, L / P * D), with G = K / W groups
of W variables (see :class:`~tsdiff.nn.autoencoder.PatchAutoencoder`). In the
latent,

* the **target** is the encoding of the window's observed values;
* a latent cell is **given** when every step of its patch is given: its value is the
  encoding of those steps, equal to its target because the encoder reads one patch at
  a time, so the samplers keep it fixed exactly as they keep given values;
* every cell also reads the encoding of the given values of its patch as
  **context** (``DenoiserConfig.context_input``), so the given values of a partly
  given patch reach the network too;
* **covariates** are averaged over each patch.

After sampling the decoder maps latents back to the data grid, reading the given
values of each patch beside its latent, and the given values are put back exactly
(:func:`tsdiff.engine.sample_network`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

import torch
from torch import Tensor

from tsdiff.data import WindowSource
from tsdiff.engine._denoise import window_frame
from tsdiff.engine.distributed import World
from tsdiff.nn.autoencoder import PatchAutoencoder

__all__ = [
    "AUTOENCODER_STEPS",
    "latent_batch",
    "latent_condition",
    "latent_lags",
    "train_autoencoder",
    "weights_digest",
]

logger = logging.getLogger(__name__)

AUTOENCODER_STEPS = 2000
"""Optimiser steps of the autoencoder's training (fewer for a fit of fewer steps)."""


def _per_patch(mask: Tensor, codec: PatchAutoencoder, how: str) -> Tensor:
    """A data-grid mask (B, K, L) as a latent mask (B, G, L / P * D): whether all
    (``how="all"``) or any cells of each patch are True, for each of its D cells
    (the filling of a short last group counts as given: True for "all", and
    False for "any", which asks for cells to score)."""
    patches = codec.patches(mask, fill=how == "all")  # (B, G, L / P, P * W)
    per_patch = patches.all(-1) if how == "all" else patches.any(-1)  # (B, G, L / P)
    return per_patch.repeat_interleave(codec.config.latent_dim, dim=-1)


def latent_condition(
    codec: PatchAutoencoder,
    framed: Tensor,
    cond_mask: Tensor,
    covariates: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """The conditioning of framed windows in the latent.

    Parameters
    ----------
    codec : PatchAutoencoder
    framed : Tensor of shape (B, K, L)
        Windows in the model's frame; read only where ``cond_mask`` is True.
    cond_mask : Tensor of shape (B, K, L), bool
    covariates : Tensor of shape (B, C, L) or None

    Returns
    -------
    x_cond : Tensor of shape (B, G, L / P * D)
        The encoding of the given values, given and context alike.
    latent_mask : Tensor of shape (B, G, L / P * D), bool
        The cells of wholly given patches.
    covariates : Tensor of shape (B, C, L / P * D) or None
        Each patch's mean covariates, on each of its cells.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.latent import latent_condition
    >>> from tsdiff.nn.autoencoder import AutoencoderConfig, PatchAutoencoder
    >>> codec = PatchAutoencoder(AutoencoderConfig(patch_length=2, latent_dim=1))
    >>> x = torch.randn(1, 1, 6)
    >>> given = torch.tensor([[[True, True, True, False, False, False]]])
    >>> z, mask, _ = latent_condition(codec, x, given)
    >>> z.shape, mask.tolist()  # the first patch alone is wholly given
    (torch.Size([1, 1, 3]), [[[True, False, False]]])
    """
    with torch.no_grad():
        x_cond = codec.encode(framed, cond_mask)
    mask = _per_patch(cond_mask, codec, "all")
    if covariates is not None:
        B, C, L = covariates.shape
        P = codec.config.patch_length
        means = covariates.reshape(B, C, L // P, P).mean(-1)  # (B, C, L / P)
        covariates = means.repeat_interleave(codec.config.latent_dim, dim=-1)
    return x_cond, mask, covariates


def latent_batch(
    codec: PatchAutoencoder,
    x0: Tensor,
    observed: Tensor,
    cond_mask: Tensor,
    covariates: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor | None]:
    """A training batch of framed windows ``x0`` (B, K, L) on the latent grid.

    Returns
    -------
    z0, x_cond, latent_mask, target_mask, covariates
        The encoding of the observed values (the clean latent), then
        :func:`latent_condition`'s three, with between them the cells the loss
        scores: those of patches with an observed step that is not given.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.latent import latent_batch
    >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
    >>> codec = PatchAutoencoder(AutoencoderConfig(patch_length=2, latent_dim=1))
    >>> x = torch.randn(1, 1, 6)
    >>> observed = torch.ones(1, 1, 6, dtype=torch.bool)
    >>> given = torch.tensor([[[True, True, True, False, False, False]]])
    >>> z0, z_cond, mask, target, _ = latent_batch(codec, x, observed, given)
    >>> mask.tolist(), target.tolist()  # patch 2 is partly given: scored
    ([[[True, False, False]]], [[[False, True, True]]])
    """
    x_cond, latent_mask, covariates = latent_condition(codec, x0, cond_mask, covariates)
    with torch.no_grad():
        z0 = codec.encode(x0, observed)
    target = _per_patch(observed & ~cond_mask, codec, "any") & ~latent_mask
    return z0, x_cond, latent_mask, target, covariates


def latent_lags(lags: tuple, patch_length: int, latent_dim: int) -> tuple:
    """Seasonal lags in steps as lags on the latent grid: whole patches (rounded),
    D cells each; those shorter than one patch are dropped.

    Examples
    --------
    >>> from tsdiff.engine.latent import latent_lags
    >>> latent_lags((4, 24, 168), patch_length=8, latent_dim=2)
    (6, 42)
    """
    patches = sorted({round(s / patch_length) for s in lags} - {0})
    return tuple(p * latent_dim for p in patches)


def weights_digest(codec: PatchAutoencoder) -> str:
    """A digest of the autoencoder's weights, for a checkpoint's identity.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.latent import weights_digest
    >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
    >>> a, b = (PatchAutoencoder(AutoencoderConfig(4, 2)) for _ in range(2))
    >>> for codec in (a, b):
    ...     codec.reset_parameters(torch.Generator().manual_seed(0))
    >>> weights_digest(a) == weights_digest(b), len(weights_digest(a))
    (True, 16)
    """
    hasher = hashlib.sha256()
    for name, value in sorted(codec.state_dict().items()):
        hasher.update(name.encode())
        hasher.update(value.detach().cpu().float().numpy().tobytes())
    return hasher.hexdigest()[:16]


def train_autoencoder(
    codec: PatchAutoencoder,
    windows: WindowSource,
    draw_mask,
    *,
    steps: int,
    batch_size: int,
    frame: tuple[bool, bool],
    device: torch.device,
    seed: int,
    world: World | None = None,
) -> list[dict]:
    """Train ``codec`` in place to reconstruct the observed values of ``windows``,
    then set its ``latent_scale``.

    Each step draws ``batch_size`` windows, frames them as the diffusion does (from
    a conditioning mask drawn by ``draw_mask``), encodes half of them from their
    observed values (as targets are encoded) and half from the drawn conditioning
    values (as the conditioning is), decodes them beside the conditioning values
    (as samples are decoded), and scores the squared error of the decoded windows
    on observed steps. Adam at 1e-3 with a cosine decay. Every process of a
    distributed fit trains on the same draws; the weights are then averaged, so all
    hold the same autoencoder.

    Returns
    -------
    list of dict
        One record, with the final reconstruction loss, steps and seconds.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from tsdiff.data import WindowSource
    >>> from tsdiff.engine import MaskPolicy
    >>> from tsdiff.engine.latent import train_autoencoder
    >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
    >>> series = np.sin(np.arange(60.0) / 3)[:, None]  # (T, K)
    >>> windows = WindowSource.from_series(series, series == series, range(49), 12)
    >>> codec = PatchAutoencoder(AutoencoderConfig(patch_length=4, latent_dim=2))
    >>> cpu = torch.device("cpu")
    >>> draw = MaskPolicy().drawer(windows, cpu)
    >>> record = train_autoencoder(codec, windows, draw, steps=20, batch_size=8,
    ...                            frame=(True, False), device=cpu, seed=0)
    >>> codec.trained, record[0]["autoencoder_steps"]
    (True, 20)
    """
    world = world or World()
    started = time.monotonic()
    codec.to(device).train()
    data = windows.to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    rows_gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(codec.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0)))
    )
    with torch.no_grad():
        codec.latent_scale.zero_()
    loss = torch.zeros((), device=device)
    for _ in range(steps):
        rows = torch.randint(len(data), (batch_size,), generator=rows_gen)
        x, cond, observed = _framed_batch(data, rows, draw_mask, generator, frame)
        half = torch.arange(len(rows), device=device)[:, None, None] % 2 == 0
        inputs = torch.where(half, observed, cond)  # (B, K, L) bool
        decoded = codec.decode(codec.encode(x, inputs), x, cond)
        error = torch.where(observed, decoded - x, 0.0).square()
        loss = error.sum() / observed.sum().clamp(min=1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    codec.eval()
    with torch.no_grad():
        for value in codec.parameters():  # every process ends with the same weights
            value.copy_(world.sum(value) / world.size)
        codec.latent_scale.fill_(_latent_spread(codec, data, frame, device, seed))
    record = {
        "autoencoder_loss": float(loss.detach()),
        "autoencoder_steps": steps,
        "seconds": round(time.monotonic() - started, 4),
    }
    logger.debug("autoencoder: %s", record)
    return [record]


def _framed_batch(
    data: WindowSource,
    rows: Tensor,
    draw_mask,
    generator: torch.Generator,
    frame: tuple[bool, bool],
) -> tuple[Tensor, Tensor, Tensor]:
    """Windows ``rows`` in the diffusion's frame, (B, K, L), 0 where not observed;
    a conditioning mask drawn for them and their observed mask."""
    device = generator.device
    x0, observed, _ = data.batch(rows.to(device), device)
    cond = draw_mask(observed, generator)
    offset, scale = window_frame(x0, cond, *frame)  # (B, K, 1) each
    return torch.where(observed, (x0 - offset) / scale, 0.0), cond, observed


@torch.no_grad()
def _latent_spread(
    codec: PatchAutoencoder,
    data: WindowSource,
    frame: tuple[bool, bool],
    device: torch.device,
    seed: int,
) -> float:
    """Root mean square of the latents of up to 4096 training windows, encoded from
    their observed values in the frame of their observed values."""
    rows = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    total, count = 0.0, 0
    for start in range(0, min(len(rows), 4096), 256):
        x0, observed, _ = data.batch(rows[start : start + 256].to(device), device)
        offset, scale = window_frame(x0, observed, *frame)
        x = torch.where(observed, (x0 - offset) / scale, 0.0)
        z = codec.encode(x, observed)
        keep = _per_patch(observed, codec, "any")
        total += float(torch.where(keep, z, 0.0).square().sum())
        count += int(keep.sum())
    return max(math.sqrt(total / max(count, 1)), 1e-3)
