"""Resumable training state: everything a fit needs to continue where it stopped, how
a fit's state begins, and the moving average of the weights.

A fit that is interrupted (a time limit, a lost machine) resumes from its last finished
epoch with the same weights, optimiser moments, learning-rate schedule and random
streams, so an interrupted and resumed fit trains exactly like an uninterrupted one.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from tsdiff.engine.lr import make_lr_schedule
from tsdiff.nn import Denoiser

if TYPE_CHECKING:  # pragma: no cover
    from tsdiff.engine.training import TrainingConfig

__all__ = ["TrainState", "ema_update", "initial_state", "noise_seed"]

logger = logging.getLogger(__name__)


@dataclass
class TrainState:
    """The mutable state of one training run.

    Attributes
    ----------
    network : torch.nn.Module
        The network being optimised.
    averaged : torch.nn.Module
        The evaluated network: an exponential moving average of ``network`` or
        ``network`` itself.
    optimizer : torch.optim.Optimizer
    lr_schedule : torch.optim.lr_scheduler.LRScheduler
    shuffle_gen, noise_gen : torch.Generator
        Streams of the windows each epoch draws (or its order of all windows)
        and of masks, steps and noise.
    history : list of dict
        One record per finished epoch.
    best_loss : float
        Lowest monitored loss so far.
    best_weights : dict or None
        Weights of ``averaged`` at that loss (kept only with a validation split).
    stale : int
        Epochs since the monitored loss last improved.
    steps : int
        Optimiser steps taken (drives the warm-up of the moving average).
    """

    network: torch.nn.Module
    averaged: torch.nn.Module
    optimizer: torch.optim.Optimizer
    lr_schedule: torch.optim.lr_scheduler.LRScheduler
    shuffle_gen: torch.Generator
    noise_gen: torch.Generator
    history: list = field(default_factory=list)
    best_loss: float = float("inf")
    best_weights: dict | None = None
    stale: int = 0
    steps: int = 0

    def record_best(self, loss: float, keep_weights: bool) -> None:
        """Update the best loss (and its weights) and the count of stale epochs."""
        if loss < self.best_loss:
            self.best_loss, self.stale = loss, 0
            if keep_weights:
                self.best_weights = copy.deepcopy(self.averaged.state_dict())
        else:
            self.stale += 1

    def save(self, path: str | Path, fingerprint: str) -> None:
        """Write the state to ``path`` atomically (a crash never leaves half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "fingerprint": fingerprint,
            "network": self.network.state_dict(),
            "averaged": self.averaged.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "lr_schedule": self.lr_schedule.state_dict(),
            "shuffle_gen": self.shuffle_gen.get_state(),
            "noise_gen": self.noise_gen.get_state(),
            "history": self.history,
            "best_loss": self.best_loss,
            "best_weights": self.best_weights,
            "stale": self.stale,
            "steps": self.steps,
        }
        partial = path.with_name(path.name + ".partial")
        torch.save(payload, partial)
        os.replace(partial, path)

    def resume(
        self,
        path: str | Path,
        fingerprint: str,
        legacy: Callable[[], str | None] | None = None,
    ) -> bool:
        """Load the state saved at ``path``, if any; True when a fit was resumed.

        ``legacy`` computes, only when the file does not carry ``fingerprint``, the
        fingerprint that a file written by an earlier version would carry for the
        same fit (None where there is none); such a file is resumed too.

        Raises
        ------
        ValueError
            When the checkpoint belongs to another fit (other data or settings).
        """
        path = Path(path)
        if not path.exists():
            return False
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # any unreadable file: say which one
            raise ValueError(
                f"The training checkpoint {path} could not be read ({err}); delete it "
                "to start the fit afresh."
            ) from err
        saved_print = payload.get("fingerprint")
        if saved_print != fingerprint and (legacy is None or saved_print != legacy()):
            raise ValueError(
                f"The training checkpoint {path} belongs to a fit with other data or "
                "settings; delete it or choose another checkpoint_path (a checkpoint "
                "written before gradient clipping existed resumes with "
                "max_grad_norm=None, one written before steps_per_epoch existed with "
                "steps_per_epoch=None and lr_schedule='multistep', one written before "
                "interpolated_input existed with interpolated_input=False, and one "
                "written before time_kernel existed with time_kernel=1)."
            )
        saved = payload.get("noise_gen")
        if isinstance(saved, torch.Tensor) and (
            saved.numel() != self.noise_gen.get_state().numel()
        ):  # generator states differ in size between CPU and CUDA
            raise ValueError(
                f"The training checkpoint {path} holds the random state of a fit on "
                f"another kind of device than {self.noise_gen.device.type}; resume "
                "it on the device it was written on, or delete it to start the fit "
                "afresh."
            )
        try:
            self._load(payload)
        except (KeyError, RuntimeError, ValueError) as err:
            raise ValueError(
                f"The training checkpoint {path} does not fit this network or "
                f"optimiser ({err}); delete it to start the fit afresh."
            ) from err
        logger.info("resuming training from %s after epoch %d", path, len(self.history))
        return True

    def _load(self, payload: dict) -> None:
        self.network.load_state_dict(payload["network"])
        if self.averaged is not self.network:
            self.averaged.load_state_dict(payload["averaged"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.lr_schedule.load_state_dict(payload["lr_schedule"])
        self.shuffle_gen.set_state(payload["shuffle_gen"])
        self.noise_gen.set_state(payload["noise_gen"])
        self.history = list(payload["history"])
        self.best_loss = payload["best_loss"]
        self.best_weights = payload["best_weights"]
        self.stale = payload["stale"]
        self.steps = payload["steps"]


def initial_state(
    network: Denoiser,
    config: TrainingConfig,
    device: torch.device,
    seed: int,
    rank: int = 0,
    steps_per_epoch: int = 1,
) -> TrainState:
    """Fresh optimiser, learning-rate schedule, EMA copy and random streams (the
    same window draws in every process, its own noise in each)."""
    optimizer = torch.optim.Adam(
        network.parameters(),
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
        fused=device.type == "cuda",  # one kernel for all parameters
    )
    total = config.n_epochs * steps_per_epoch
    return TrainState(
        network=network,
        # The evaluated network: an exponential moving average of the weights, if
        # asked for.
        averaged=copy.deepcopy(network) if config.ema_decay else network,
        optimizer=optimizer,
        lr_schedule=make_lr_schedule(
            optimizer, config.lr_schedule, config.n_epochs, total
        ),
        shuffle_gen=torch.Generator().manual_seed(seed),
        noise_gen=torch.Generator(device=device).manual_seed(
            noise_seed(seed, rank, [])
        ),
    )


def noise_seed(seed: int, rank: int, history: list) -> int:
    """Seed of the noise stream of process ``rank``: ``seed + 1`` for a plain fit,
    and distinct per rank (and per resumed epoch) otherwise."""
    if rank == 0:
        return seed + 1
    return seed + 1 + 7919 * rank + 104729 * len(history)


@torch.no_grad()
def ema_update(averaged: Denoiser, network: Denoiser, decay: float, step: int) -> None:
    """``averaged <- d * averaged + (1 - d) * network`` after optimiser step ``step``.

    ``d = min(decay, (1 + step) / (10 + step))`` warms the average up, so that early
    in training it follows the network instead of remembering the random initial
    weights (the usual warm-up of weight averages, e.g. TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``). Buffers are copied as is.
    """
    d = min(decay, (1 + step) / (10 + step))
    targets, sources = list(averaged.parameters()), list(network.parameters())
    torch._foreach_lerp_(targets, sources, 1.0 - d)  # all parameters at once
    for target, source in zip(averaged.buffers(), network.buffers(), strict=True):
        target.copy_(source)
