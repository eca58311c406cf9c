"""Checks that every sampler makes of its inputs, and of what the network returns."""

from __future__ import annotations

import operator

import torch
from torch import Tensor

from tsdiff.diffusion.process import Denoise, _check_generator

__all__ = ["check_eta", "check_inputs", "check_int", "checked_output"]


def checked_output(eps_hat: Tensor, shape: torch.Size) -> Tensor:
    if eps_hat.shape != shape:
        raise ValueError(
            f"denoise returned shape {tuple(eps_hat.shape)}, expected {tuple(shape)}"
        )
    return eps_hat


def check_int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__}") from None


def check_eta(eta: object) -> float:
    if isinstance(eta, bool) or not isinstance(eta, int | float):
        raise TypeError(f"eta must be a float, got {type(eta).__name__}")
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [0, 1], got {eta}")
    return float(eta)


def check_inputs(
    denoise: Denoise,
    x_cond: Tensor,
    cond_mask: Tensor,
    generator: torch.Generator | None,
) -> None:
    if not callable(denoise):
        raise TypeError("denoise must be callable as denoise(x_t, t)")
    if not isinstance(x_cond, Tensor) or not x_cond.is_floating_point():
        kind = x_cond.dtype if isinstance(x_cond, Tensor) else type(x_cond).__name__
        raise TypeError(f"x_cond must be a floating-point tensor, got {kind}")
    if x_cond.ndim != 3:
        raise ValueError(f"x_cond must have shape (B, K, L), got {tuple(x_cond.shape)}")
    if not isinstance(cond_mask, Tensor) or cond_mask.dtype != torch.bool:
        kind = cond_mask.dtype if isinstance(cond_mask, Tensor) else type(cond_mask)
        raise TypeError(f"cond_mask must be a bool tensor, got {kind}")
    if cond_mask.shape != x_cond.shape:
        raise ValueError(
            f"cond_mask has shape {tuple(cond_mask.shape)}, x_cond has "
            f"{tuple(x_cond.shape)}"
        )
    if cond_mask.device != x_cond.device:
        raise ValueError(
            f"cond_mask is on {cond_mask.device} but x_cond is on {x_cond.device}"
        )
    _check_generator(generator, x_cond.device)
