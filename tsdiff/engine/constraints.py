"""Linear constraints on sampled windows: blocks of cells whose mean is known.

A coarse series that reports block means (an hourly mean of 15-minute values) fixes
the mean of each block of fine cells but none of the cells. Sampling keeps such
blocks at their means by projection: at every network evaluation the clean-data
estimate ``x0_hat = (x_t - sigma eps_hat) / alpha`` implied by the denoiser is moved
onto the set of windows with those block means (the smallest change: each block's
cells shifted alike by the block's shortfall), and the noise prediction is read
back from it. Samplers see only a denoiser, so every sampler and process keeps the
constraint without knowing of it. The samplers of the discrete chain end on that
estimate; those of the continuous-time processes stop at a small time ``t_min``,
so the sampled windows are projected once more at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tsdiff.diffusion import Denoise, Process

__all__ = [
    "BlockMeans",
    "block_mean",
    "centre_on_means",
    "project_means",
    "with_block_means",
]


@dataclass(frozen=True)
class BlockMeans:
    """Known means of blocks of cells of every window.

    Parameters
    ----------
    block : ndarray of shape (N, K, L), int
        Block of each cell within its window and variable, from 0 to L - 1; -1 for
        a cell in no constrained block.
    target : ndarray of shape (N, K, L), float32
        The mean of the cell's block, in the units of the windows sampled (read
        where ``block >= 0`` only).

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.engine import BlockMeans
    >>> block = np.array([[[0, 0, 1, 1, -1]]])  # (1, 1, 5): two blocks of two
    >>> target = np.array([[[2.0, 2.0, -1.0, -1.0, 0.0]]], np.float32)
    >>> BlockMeans(block, target).rows([0]).block.shape
    (1, 1, 5)
    """

    block: np.ndarray
    target: np.ndarray

    def __post_init__(self) -> None:
        if self.block.shape != self.target.shape or self.block.ndim != 3:
            raise ValueError(
                "block and target must both have shape (N, K, L); got "
                f"{self.block.shape} and {self.target.shape}."
            )

    def rows(self, rows) -> BlockMeans:
        """The constraints of the windows ``rows`` (an index of the first axis).

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.engine import BlockMeans
        >>> means = BlockMeans(np.zeros((3, 1, 2), int), np.zeros((3, 1, 2)))
        >>> means.rows([0, 2]).target.shape
        (2, 1, 2)
        """
        return BlockMeans(self.block[rows], self.target[rows])

    def transposed(self) -> BlockMeans:
        """The last two axes swapped: windows of shape (N, L, K) to (N, K, L).

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.engine import BlockMeans
        >>> means = BlockMeans(np.zeros((3, 4, 2), int), np.zeros((3, 4, 2)))
        >>> means.transposed().block.shape
        (3, 2, 4)
        """
        block = np.ascontiguousarray(self.block.swapaxes(1, 2), dtype=np.int64)
        target = np.ascontiguousarray(self.target.swapaxes(1, 2), dtype=np.float32)
        return BlockMeans(block, target)


def project_means(x: Tensor, block: Tensor, target: Tensor) -> Tensor:
    """``x`` with every block shifted to its target mean (an orthogonal projection).

    Parameters
    ----------
    x : Tensor of shape (B, K, L)
    block : Tensor of shape (B, K, L), long
        Block of each cell in ``[0, L)`` within its row and variable; -1: none.
    target : Tensor of shape (B, K, L)
        Mean of each cell's block.

    Returns
    -------
    Tensor of shape (B, K, L)
        Cells of no block unchanged.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.constraints import project_means
    >>> x = torch.tensor([[[1.0, 3.0, 0.0, 0.0, 7.0]]])
    >>> block = torch.tensor([[[0, 0, 1, 1, -1]]])
    >>> target = torch.tensor([[[5.0, 5.0, -1.0, -1.0, 0.0]]])
    >>> project_means(x, block, target).tolist()
    [[[4.0, 6.0, -1.0, -1.0, 7.0]]]
    """
    return torch.where(block >= 0, x + (target - block_mean(x, block)), x)


def block_mean(x: Tensor, block: Tensor) -> Tensor:
    """The mean of ``x`` over each cell's block, at every cell of a block.

    Parameters
    ----------
    x : Tensor of shape (B, K, L)
    block : Tensor of shape (B, K, L), long
        As for :func:`project_means`.

    Returns
    -------
    Tensor of shape (B, K, L)
        Zero at cells of no block.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.constraints import block_mean
    >>> block_mean(torch.tensor([[[1.0, 3.0, 7.0]]]), torch.tensor([[[0, 0, -1]]]))
    tensor([[[2., 2., 0.]]])
    """
    inside = block >= 0
    index = block.clamp(min=0)
    zeros = torch.zeros_like(x)
    sums = zeros.scatter_add(-1, index, torch.where(inside, x, zeros))  # (B, K, L)
    counts = zeros.scatter_add(-1, index, inside.to(x.dtype))
    mean = sums.gather(-1, index) / counts.gather(-1, index).clamp(min=1)
    return torch.where(inside, mean, zeros)


def with_block_means(
    denoise: Denoise, schedule: Process, block: Tensor, target: Tensor
) -> Denoise:
    """A denoiser whose implied clean-data estimate keeps the block means.

    With ``x0_hat = (x_t - sigma eps_hat) / alpha`` projected to ``x0_p`` by
    :func:`project_means`, the noise prediction becomes
    ``eps_hat + alpha (x0_hat - x0_p) / sigma``, whose clean-data estimate is
    ``x0_p``.

    Parameters
    ----------
    denoise : callable
        ``denoise(x_t, t) -> eps_hat`` on tensors of shape (B, K, L).
    schedule : NoiseSchedule or SDEProcess
        The process ``denoise`` was trained with (its ``scales``).
    block, target : Tensor of shape (B, K, L)
        As for :func:`project_means`, in the units of ``x_t``'s clean data.

    Returns
    -------
    callable
        ``denoise(x_t, t) -> eps_hat``.

    Examples
    --------
    A denoiser that predicts no noise estimates ``x0 = x_t / alpha``; the
    constrained one estimates the block means wherever its input is flat:

    >>> import torch
    >>> from tsdiff.diffusion import NoiseSchedule
    >>> from tsdiff.engine.constraints import with_block_means
    >>> schedule = NoiseSchedule.from_name("quad", 10)
    >>> block = torch.tensor([[[0, 0, -1]]])
    >>> target = torch.tensor([[[3.0, 3.0, 0.0]]])
    >>> denoise = with_block_means(lambda x, t: torch.zeros_like(x), schedule,
    ...                            block, target)
    >>> t = torch.tensor([9])
    >>> x_t = torch.zeros(1, 1, 3)
    >>> alpha, sigma = schedule.scales(t, x_t)
    >>> x0 = (x_t - sigma * denoise(x_t, t)) / alpha
    >>> [round(v, 4) for v in x0.flatten().tolist()]
    [3.0, 3.0, 0.0]
    """

    def constrained(x_t: Tensor, t: Tensor) -> Tensor:
        eps = denoise(x_t, t)
        alpha, sigma = schedule.scales(t, x_t)  # (B, 1, 1) each
        x0 = (x_t - sigma * eps) / alpha
        shift = project_means(x0, block, target) - x0
        return eps - alpha * shift / sigma

    return constrained


def centre_on_means(
    offset: Tensor, cond_mask: Tensor, block: Tensor, target: Tensor
) -> Tensor:
    """The window offsets, with a variable that has no given value but known block
    means centred on those means (as a window with given values is centred on
    them), so that the network sees the level it was trained to see.

    Parameters
    ----------
    offset : Tensor of shape (B, K, 1)
        Offsets from the given values (0 where a variable has none).
    cond_mask : Tensor of shape (B, K, L), bool
    block, target : Tensor of shape (B, K, L)
        As for :func:`project_means`, in the units of the windows.

    Returns
    -------
    Tensor of shape (B, K, 1)

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.constraints import centre_on_means
    >>> offset = torch.zeros(1, 2, 1)
    >>> given = torch.tensor([[[True, False], [False, False]]])
    >>> block = torch.tensor([[[-1, 0], [0, 0]]])
    >>> target = torch.tensor([[[0.0, 4.0], [6.0, 6.0]]])
    >>> centre_on_means(offset, given, block, target).flatten().tolist()
    [0.0, 6.0]
    """
    inside = block >= 0
    count = inside.sum(dim=-1, keepdim=True)  # (B, K, 1)
    total = torch.where(inside, target, torch.zeros_like(target)).sum(-1, keepdim=True)
    level = total / count.clamp(min=1)
    blind = (cond_mask.sum(dim=-1, keepdim=True) == 0) & (count > 0)
    return torch.where(blind, level, offset)
