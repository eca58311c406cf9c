"""Learning-rate schedules of a fit, by name.

* ``"cosine"``: a linear warm-up over the first :data:`WARMUP_FRACTION` of the
  optimiser steps, then a half cosine down to zero at the last step (Loshchilov &
  Hutter 2017, SGDR, without restarts; the warm-up as in Goyal et al. 2017), stepped
  after every optimiser step.
* ``"multistep"``: CSDI's schedule (Tashiro et al. 2021): the rate drops tenfold at
  75 % and at 90 % of the epochs, stepped after every epoch.
* ``"constant"``: the rate as given throughout.

A fit under a time limit can end the cosine early (:func:`end_by`), so that the rate
has come down by the time the limit stops the fit.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "LR_SCHEDULES",
    "WARMUP_FRACTION",
    "end_by",
    "make_lr_schedule",
    "steps_per_call",
]

LR_SCHEDULES = ("cosine", "multistep", "constant")
"""Names accepted by :func:`make_lr_schedule`."""

WARMUP_FRACTION = 0.05
"""Share of the optimiser steps over which ``"cosine"`` raises the rate linearly."""


def make_lr_schedule(
    optimizer: torch.optim.Optimizer, name: str, n_epochs: int, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """The schedule ``name`` of ``optimizer`` for a fit of ``n_epochs`` epochs and
    ``total_steps`` optimiser steps.

    Call ``step()`` after every optimiser step for ``"cosine"`` and ``"constant"``
    and after every epoch for ``"multistep"`` (:func:`steps_per_call`).

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.lr import make_lr_schedule
    >>> weight = torch.nn.Parameter(torch.zeros(1))
    >>> optimizer = torch.optim.SGD([weight], lr=1.0)
    >>> schedule = make_lr_schedule(optimizer, "cosine", n_epochs=1, total_steps=40)
    >>> rates = []
    >>> for _ in range(40):
    ...     rates.append(optimizer.param_groups[0]["lr"])
    ...     optimizer.step()
    ...     schedule.step()
    >>> [round(r, 3) for r in rates[:3]], round(max(rates), 3), round(rates[-1], 4)
    ([0.5, 1.0, 1.0], 1.0, 0.0017)
    """
    if name not in LR_SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {name!r}; use {LR_SCHEDULES}")
    if name == "multistep":
        # A milestone at epoch 0 would lower the rate from the start: dropped.
        milestones = sorted({int(0.75 * n_epochs), int(0.9 * n_epochs)} - {0})
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, 0.1)
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, _constant)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, _Cosine(total_steps))


def steps_per_call(name: str) -> str:
    """``"step"`` where the schedule ``name`` advances after every optimiser step,
    ``"epoch"`` where it advances after every epoch.

    Examples
    --------
    >>> from tsdiff.engine.lr import steps_per_call
    >>> steps_per_call("cosine"), steps_per_call("multistep")
    ('step', 'epoch')
    """
    return "epoch" if name == "multistep" else "step"


def end_by(schedule: torch.optim.lr_scheduler.LRScheduler, steps: int) -> bool:
    """Let a ``"cosine"`` schedule reach zero after ``steps`` optimiser steps in all,
    if that is sooner than planned (the warm-up stays as it was); other schedules
    are left alone. True where the schedule changed.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.lr import end_by, make_lr_schedule
    >>> weight = torch.nn.Parameter(torch.zeros(1))
    >>> optimizer = torch.optim.SGD([weight], lr=1.0)
    >>> schedule = make_lr_schedule(optimizer, "cosine", n_epochs=1, total_steps=100)
    >>> for _ in range(50):
    ...     optimizer.step()
    ...     schedule.step()
    >>> round(optimizer.param_groups[0]["lr"], 2)  # half way down the cosine
    0.54
    >>> end_by(schedule, 60), end_by(schedule, 80)  # never later than before
    (True, False)
    >>> for _ in range(10):
    ...     optimizer.step()
    ...     schedule.step()
    >>> optimizer.param_groups[0]["lr"]
    0.0
    """
    lambdas = getattr(schedule, "lr_lambdas", [])
    if not lambdas or not isinstance(lambdas[0], _Cosine):
        return False
    return lambdas[0].shorten(steps)


def _constant(step: int) -> float:
    return 1.0


class _Cosine:
    """Factor of the base rate after ``step`` optimiser steps: warm-up, then a
    half cosine to 0 at ``total`` steps."""

    def __init__(self, total: int) -> None:
        self.total = max(int(total), 1)
        self.warmup = max(1, round(WARMUP_FRACTION * self.total))

    def shorten(self, total: int) -> bool:
        """End at ``total`` steps if that is sooner (never before the warm-up)."""
        total = max(int(total), self.warmup + 1)
        if total >= self.total:
            return False
        self.total = total
        return True

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        span = max(self.total - self.warmup, 1)
        progress = min((step - self.warmup) / span, 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * progress))
