"""Where the network and the noise process meet: a ``denoise(x_t, t)`` closure that
binds one batch's conditioning, under bf16 autocast on CUDA, and the frame (offset
and scale) that windows are modelled in."""

from __future__ import annotations

from collections.abc import Callable

import torch

from tsdiff.diffusion import Process, as_eps_predictor
from tsdiff.nn import Denoiser


def autocast(device: torch.device, enabled: bool) -> torch.autocast:
    """bf16 autocast of the network on CUDA (a no-op elsewhere or when disabled)."""
    on = enabled and device.type == "cuda"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=on)


def make_denoise(
    network: Denoiser,
    schedule: Process,
    x_cond: torch.Tensor,
    cond_mask: torch.Tensor,
    parameterization: str,
    cache_side: bool,
    mixed_precision: bool = False,
    covariates: torch.Tensor | None = None,
    context: torch.Tensor | None = None,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Bind one batch's conditioning to the network: ``denoise(x_t, t) -> eps_hat``.

    With ``cache_side`` the side information and every residual block's projection
    of it are computed here, once, and reused by every call (the conditioning of a
    sampling batch does not change between steps); otherwise each call recomputes
    them, as training needs (one call per batch) and as CSDI does. With
    ``mixed_precision`` the network runs under bf16 autocast on CUDA; its output is
    returned in float32 so that the sampler's arithmetic stays in full precision.
    ``covariates`` (shape (B, n_covariates, L)) join the side information of a
    network that takes them, and ``context`` (B, K, L) is the extra input of one
    with ``context_input``.
    """
    amp = autocast(x_cond.device, mixed_precision)
    side = {"covariates": covariates}
    if cache_side:
        with amp:
            info = network.side_info(cond_mask, covariates=covariates)
            side = {"side_projections": network.project_side(info)}
    if context is not None:
        side["context"] = context

    def model(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with amp:
            level = schedule.noise_level(t)  # (B,) float
            out = network(x_t, level, x_cond, cond_mask, **side)
        return out.float()

    return as_eps_predictor(model, schedule, parameterization)


SCALE_FLOOR = 0.1
"""Smallest window scale, in the estimator's scaled units (about one standard
deviation of the series for the standard scaler): a window whose given values barely
vary is not blown up into huge values."""


def window_frame(
    x: torch.Tensor, cond_mask: torch.Tensor, center: bool, scale: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-window, per-variable ``(offset, scale)``, each of shape (B, K, 1), from the
    conditioning values only (so they are known at prediction time).

    The network models ``(x - offset) / scale``. With ``center`` the offset is the
    mean of the window's given values, so a series that drifts far from its training
    mean still looks familiar; with ``scale`` the scale is the root mean square of
    the given values less the offset (at least :data:`SCALE_FLOOR`): their standard
    deviation in a centred window, their magnitude in an uncentred one. A series
    whose swings (or level) grow beyond those of the training data then looks
    familiar too. Without ``center`` the offset is 0, without ``scale`` the scale is
    1; a variable with no conditioning value in a window gets offset 0, and one with
    fewer than two scale 1.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine._denoise import window_frame
    >>> x = torch.tensor([[[1.0, 3.0, 9.0], [5.0, 5.0, 0.0], [4.0, 4.0, 4.0]]])
    >>> given = torch.tensor([[[1, 1, 0], [1, 1, 0], [1, 0, 0]]]).bool()  # (1, 3, 3)
    >>> offset, scale = window_frame(x, given, center=True, scale=True)
    >>> offset.flatten().tolist()  # the 9 and the 0 are not given
    [2.0, 5.0, 4.0]
    >>> [round(v, 4) for v in scale.flatten().tolist()]  # flat: the floor; one value: 1
    [1.0, 0.1, 1.0]
    >>> offset, scale = window_frame(x, given, center=False, scale=True)
    >>> offset.flatten().tolist(), [round(v, 4) for v in scale.flatten().tolist()]
    ([0.0, 0.0, 0.0], [2.2361, 5.0, 1.0])
    >>> window_frame(x, given, center=False, scale=False)[1].flatten().tolist()
    [1.0, 1.0, 1.0]
    """
    count = cond_mask.sum(dim=-1, keepdim=True)  # (B, K, 1)
    zeros = torch.zeros_like(x)
    offset = zeros[..., :1]
    if center:
        total = torch.where(cond_mask, x, zeros).sum(dim=-1, keepdim=True)
        offset = total / count.clamp(min=1)  # 0 without given values
    spread = torch.ones_like(offset)
    if scale:
        square = torch.where(cond_mask, (x - offset).square(), zeros)
        rms = (square.sum(dim=-1, keepdim=True) / count.clamp(min=1)).sqrt()
        spread = torch.where(count > 1, rms.clamp(min=SCALE_FLOOR), spread)
    return offset, spread
