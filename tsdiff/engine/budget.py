"""The training batch size where the user leaves it to the library.

On a CPU a step costs about in proportion to the windows in it, so a small batch
gives the most optimiser steps for the time. On a GPU a small step leaves the card
mostly idle: up to a number of window cells (variables times steps) per batch, a
larger batch costs little more time per step, so the batch grows until it holds
about :data:`GPU_CELLS` cells, within :data:`GPU_BATCH_RANGE`. Measured on an H200
(``benchmarks/results/throughput_train_h200.md``, bf16): 36 x 36 windows train at
2514, 3808 and 4184 windows/s at batches of 64, 128 and 256, 7 x 288 windows at
1175, 1431 and 1513 at 32, 64 and 128; the rate levels off beyond about 2**17
cells per batch.
"""

from __future__ import annotations

import math

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

    On a GPU: the power of two nearest (in ratio) to :data:`GPU_CELLS` / (K x L),
    clipped to :data:`GPU_BATCH_RANGE`; elsewhere :data:`CPU_BATCH`.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine import auto_batch_size
    >>> auto_batch_size(36, 36, torch.device("cpu"))
    32
    >>> cuda = torch.device("cuda")
    >>> auto_batch_size(36, 36, cuda), auto_batch_size(7, 432, cuda)
    (128, 32)
    >>> auto_batch_size(1, 120, cuda), auto_batch_size(862, 192, cuda)
    (256, 32)
    """
    if device.type != "cuda":
        return CPU_BATCH
    cells = max(1, n_features * length)
    batch = 2 ** round(math.log2(max(GPU_CELLS / cells, 1.0)))
    low, high = GPU_BATCH_RANGE
    return int(min(max(batch, low), high))
