"""Data-parallel training through PyTorch's own ``torch.distributed``.

A fit started by ``torchrun --nproc_per_node N script.py`` (or any launcher that sets
``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``) trains
one model in N processes: each takes its own share of every epoch's windows, the
gradients are averaged by :class:`~torch.nn.parallel.DistributedDataParallel`, and
every process ends with the same weights. The process group is created on first use
(NCCL on GPUs, gloo on CPUs) unless the caller made one already.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["World", "device_name", "world"]


@dataclass(frozen=True)
class World:
    """This process's place among the training processes.

    Attributes
    ----------
    rank : int
        Index of this process, 0 for a plain (single-process) fit.
    size : int
        Number of processes, 1 for a plain fit.
    local_rank : int
        Index of this process on its machine: the GPU it trains on.

    Examples
    --------
    >>> from tsdiff.engine.distributed import World
    >>> World()  # a plain fit
    World(rank=0, size=1, local_rank=0)
    >>> World().is_main, World(rank=1, size=2, local_rank=1).is_main
    (True, False)
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Whether this process writes checkpoints (rank 0)."""
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """The GPU of this process where ``device`` is a GPU, else ``device``.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.engine.distributed import World
        >>> second = World(rank=1, size=2, local_rank=1)
        >>> second.device(torch.device("cuda"))
        device(type='cuda', index=1)
        >>> second.device(torch.device("cpu"))
        device(type='cpu')
        >>> World().device(torch.device("cuda"))  # a plain fit keeps the device
        device(type='cuda')
        """
        if self.size > 1 and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def shard(self, order: torch.Tensor) -> torch.Tensor:
        """This process's share of an epoch's window order (equal for all processes).

        Every process gets ``len(order) // size`` windows, rank r the r-th of each
        run of ``size``, so that all take the same number of optimiser steps (the
        few windows left over sit out that epoch; the next order differs).

        Examples
        --------
        Three processes share an order of 10 windows; window 9 sits out:

        >>> import torch
        >>> from tsdiff.engine.distributed import World
        >>> order = torch.arange(10)
        >>> [World(rank=r, size=3).shard(order).tolist() for r in range(3)]
        [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
        >>> World().shard(order).tolist() == order.tolist()  # a plain fit: all
        True
        """
        usable = len(order) - len(order) % self.size
        return order[self.rank : usable : self.size]

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """The sum of ``value`` over all processes (itself for a plain fit).

        Examples
        --------
        In a plain fit (one process) the sum is the value itself, not a copy:

        >>> import torch
        >>> from tsdiff.engine.distributed import World
        >>> loss = torch.tensor([1.5, 2.0])
        >>> World().sum(loss) is loss
        True
        """
        if self.size > 1:
            value = value.clone()
            dist.all_reduce(value)
        return value

    def agree(self, values: list) -> list:
        """Rank 0's ``values`` in every process (themselves for a plain fit), e.g.
        seeds drawn from an unseeded ``random_state``.

        Examples
        --------
        >>> from tsdiff.engine.distributed import World
        >>> World().agree([11, 42])  # one process agrees with itself
        [11, 42]
        """
        if self.size > 1:
            values = list(values)
            dist.broadcast_object_list(values, src=0)
        return values

    def mean(self, value: float, device: torch.device) -> float:
        """The mean of ``value`` over all processes.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.engine.distributed import World
        >>> World().mean(0.25, torch.device("cpu"))  # the mean over one process
        0.25
        """
        if self.size == 1:
            return value
        total = self.sum(torch.tensor([value], dtype=torch.float64, device=device))
        return float(total.item()) / self.size

    def any(self, flag: bool, device: torch.device) -> bool:
        """Whether ``flag`` holds in any process (so that all stop together).

        Examples
        --------
        >>> import torch
        >>> from tsdiff.engine.distributed import World
        >>> cpu = torch.device("cpu")
        >>> World().any(True, cpu), World().any(False, cpu)
        (True, False)
        """
        if self.size == 1:
            return flag
        return bool(self.sum(torch.tensor([float(flag)], device=device)).item() > 0)


def world(device: torch.device) -> World:
    """The current :class:`World`, creating the process group from the environment
    when ``WORLD_SIZE`` asks for more than one process.

    Parameters
    ----------
    device : torch.device
        Where training runs: a GPU selects the NCCL backend, otherwise gloo.

    Examples
    --------
    Outside ``torchrun`` (no ``WORLD_SIZE``) no process group is created:

    >>> import torch
    >>> from tsdiff.engine.distributed import world
    >>> world(torch.device("cpu"))
    World(rank=0, size=1, local_rank=0)
    >>> torch.distributed.is_initialized()
    False
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if not dist.is_available() or (size <= 1 and not dist.is_initialized()):
        return World()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":  # NCCL needs each process on its own GPU first
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
    return World(
        rank=dist.get_rank(),
        size=dist.get_world_size(),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def device_name(device: torch.device) -> str:
    """``"cpu"``, or the accelerator and its model, e.g. ``"cuda: NVIDIA H200"``.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.distributed import device_name
    >>> device_name(torch.device("cpu"))
    'cpu'
    """
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return device.type
