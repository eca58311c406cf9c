"""The training batch size where the user leaves it to the library.

On a CPU a step costs about in proportion to the windows in it, so a small batch
gives the most optimiser steps for the time. On a GPU a small step leaves the card
mostly idle: up to a number of window cells (variables times steps) per batch, a
larger batch costs little more time per step, so the batch grows until it holds
about :data:`GPU_CELLS` cells, within :data:`GPU_BATCH_RANGE`.
"""

from __future__ import annotations

import torch

__all__ = ["CPU_BATCH", "GPU_BATCH_RANGE", "GPU_CELLS", "auto_batch_size"]

CPU_BATCH = 32
"""Training windows per step on a CPU."""

GPU_CELLS = 2**17
"""Window cells (K x L) per training batch on a GPU."""

GPU_BATCH_RANGE = (32, 256)
"""Smallest and largest automatic batch on a GPU."""


def auto_batch_size(n_features: int, length: int, device: torch.device) -> int:
    """Training windows per optimiser step for windows of ``n_features`` variables
    and ``length`` steps on ``device``.

    On a GPU: the largest power of two whose batch holds at most
    :data:`GPU_CELLS` cells, clipped to :data:`GPU_BATCH_RANGE`; elsewhere
    :data:`CPU_BATCH`.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine import auto_batch_size
    >>> auto_batch_size(36, 36, torch.device("cpu"))
    32
    >>> cuda = torch.device("cuda")
    >>> auto_batch_size(36, 36, cuda), auto_batch_size(7, 432, cuda)
    (64, 32)
    >>> auto_batch_size(1, 120, cuda), auto_batch_size(862, 192, cuda)
    (256, 32)
    """
    if device.type != "cuda":
        return CPU_BATCH
    cells = max(1, n_features * length)
    batch = 1 << max(0, (GPU_CELLS // cells).bit_length() - 1)
    low, high = GPU_BATCH_RANGE
    return int(min(max(batch, low), high))
