"""Running the network through ``torch.compile``: which mode a fit trains in, and
a wrapper that falls back to the eager network where compiling fails."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import torch

from tsdiff.nn import Denoiser

__all__ = [
    "AUTO_COMPILE_STEPS",
    "COMPILE_MODES",
    "compiled",
    "new_step",
    "training_compile",
]

logger = logging.getLogger(__name__)

# torch.compile is not thread-safe while it compiles: first calls take turns (the
# sampler runs one thread per GPU).
_COMPILING = threading.Lock()


COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
"""The ``torch.compile`` modes a ``compile`` setting may name. True means
"default"; "auto" lets training decide
(:func:`training_compile`) and samples uncompiled."""


def compiled(network: Denoiser, mode: bool | str) -> Denoiser:
    """``network`` itself, or for a ``mode`` other than False a ``torch.compile``
    wrapper of it.

    The wrapper shares the parameters, so training it trains ``network``. Compiled
    code fuses the many small kernels of one forward (and backward) pass, which on a
    GPU are launched faster than Python can dispatch them one by one; the first call
    per input shape pays a one-off compilation. Where building or running the
    compiled forward pass fails (no compiler, an unsupported platform), a warning
    is logged and the eager network serves every later call; a failure of the
    compiled backward pass is not caught.

    Parameters
    ----------
    network : Denoiser
        The network (or a data-parallel wrapper of it).
    mode : bool or str
        False for the network itself; True or "default", "reduce-overhead" (each
        pass also replayed as a CUDA graph, whose outputs are copied out of the
        graph's memory so that callers may keep them across calls) or
        "max-autotune": the ``torch.compile`` mode.

    Returns
    -------
    Denoiser or callable
        Called like ``network``; other attributes are the network's.

    Examples
    --------
    Compilation is lazy: nothing is built before the first call.

    >>> from tsdiff.engine.compilation import compiled
    >>> from tsdiff.nn import Denoiser, DenoiserConfig
    >>> net = Denoiser(DenoiserConfig(n_features=2, n_layers=1, n_channels=8))
    >>> compiled(net, False) is net
    True
    >>> compiled(net, "reduce-overhead").config is net.config
    True
    >>> compiled(net, "fast")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: compile must be a bool or one of (...), got 'fast'
    """
    if mode is False:
        return network
    mode = "default" if mode is True else mode
    if mode not in COMPILE_MODES:
        raise ValueError(
            f"compile must be a bool or one of {COMPILE_MODES}, got {mode!r}"
        )
    return _CompiledOrEager(
        network,
        torch.compile(network, dynamic=None, mode=mode),
        graphed=mode == "reduce-overhead",
    )


def new_step(model: Any) -> None:
    """Tell a CUDA-graphed network that a training step begins.

    The outputs of the last step are no longer needed, so its graphs may reuse
    their memory; for any other network this does nothing.

    Parameters
    ----------
    model : Denoiser or callable
        What :func:`compiled` returned.

    Examples
    --------
    >>> from tsdiff.engine.compilation import new_step
    >>> from tsdiff.nn import Denoiser, DenoiserConfig
    >>> new_step(Denoiser(DenoiserConfig(n_features=2, n_layers=1, n_channels=8)))
    """
    if isinstance(model, _CompiledOrEager) and model.graphed:
        torch.compiler.cudagraph_mark_step_begin()


class _CompiledOrEager:
    """Calls the compiled network until it fails once, then the eager one."""

    def __init__(
        self, network: Any, compiled_network: Callable[..., Any], graphed: bool = False
    ) -> None:
        self._network = network
        self._compiled: Callable[..., Any] | None = compiled_network
        self._warm = False
        self.graphed = graphed

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._compiled is not None:
            try:
                if self._warm:
                    return self._own(self._compiled(*args, **kwargs))
                with _COMPILING:
                    out = self._compiled(*args, **kwargs)
                self._warm = True
                return self._own(out)
            except (torch.OutOfMemoryError, ValueError, TypeError):
                # The caller halves its batch on OOM; ValueError and TypeError are
                # the network's own input checks. Compiling is not to blame.
                raise
            except Exception as error:  # any failure of the compiler or its code
                logger.warning(
                    "torch.compile failed (%s: %s); continuing without compilation",
                    type(error).__name__,
                    str(error).splitlines()[0] if str(error) else "",
                )
                self._compiled = None
        return self._network(*args, **kwargs)

    def _own(self, out: torch.Tensor) -> torch.Tensor:
        """A CUDA graph's output lives in memory its next replay overwrites."""
        return out.clone() if self.graphed else out

    def __getattr__(self, name: str) -> Any:  # side_info and the like
        return getattr(self._network, name)


AUTO_COMPILE_STEPS = 2000
"""Optimiser steps from which ``compile="auto"`` compiles on a GPU: below them the
compilation (about 20 s) costs more than the faster steps save."""


def training_compile(
    mode: bool | str, device: torch.device, n_processes: int, total_steps: int
) -> bool | str:
    """The ``torch.compile`` mode a fit trains in: ``mode`` itself, or for "auto"
    CUDA graphs ("reduce-overhead") on one GPU for fits of at least
    :data:`AUTO_COMPILE_STEPS` steps, else none.

    Measured on an H200 (``benchmarks/results/throughput_train_graphs_h200.md``):
    36 x 36 windows train in 8.7 ms per step of 32 windows (22.3 eager) and 18.5
    ms per step of 128 (42.0 eager), after about 18 s of compilation. Several
    processes (DDP) train uncompiled: their gradient hooks run between the
    kernels a graph would fuse.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.compilation import training_compile
    >>> cuda, cpu = torch.device("cuda"), torch.device("cpu")
    >>> training_compile("auto", cuda, 1, 5000), training_compile("auto", cpu, 1, 5000)
    ('reduce-overhead', False)
    >>> training_compile("auto", cuda, 1, 500), training_compile(True, cpu, 1, 500)
    (False, True)
    """
    if mode != "auto":
        return mode
    graphs = device.type == "cuda" and n_processes == 1
    return "reduce-overhead" if graphs and total_steps >= AUTO_COMPILE_STEPS else False
