"""Where the samplers of :mod:`tsdiff.diffusion.samplers` visit a process: the
respaced steps of the chain or the time grid of a continuous process, with the
scales ``alpha`` and ``sigma`` there, and the state they start from.

A reverse run starts from pure noise at the noisiest point, or, for a
:class:`StartedProcess`, from a given state at an intermediate point (SDEdit, Meng
et al. 2022): the samplers then visit only the points from there down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tsdiff.diffusion._checks import check_int
from tsdiff.diffusion.schedules import NoiseSchedule
from tsdiff.diffusion.sde import SDEProcess

__all__ = ["SDE_STEPS", "StartedProcess", "start_at_ratio", "timesteps"]


@dataclass(frozen=True, eq=False)
class StartedProcess:
    """A trained process whose reverse run starts at ``time`` from ``state``.

    Every sampler accepts it in place of the process: it visits only the points
    of the process from ``time`` down (``sampling_steps`` of them, or as many as a
    shorter chain holds) and starts from ``state`` instead of pure noise, the
    conditioning imposed on it as usual. ``state`` should be distributed as
    ``x_t = alpha(time) x0 + sigma(time) eps`` for the data ``x0`` sought, as
    :func:`start_at_ratio` helps to build for observations with Gaussian noise.

    Parameters
    ----------
    process : NoiseSchedule or SDEProcess
        The trained process.
    time : int or float
        A step index of the chain, or a time in ``[t_min, 1]`` of a continuous
        process.
    state : Tensor of shape (B, K, L)
        The state at ``time``.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.diffusion import NoiseSchedule, sample_ddim
    >>> from tsdiff.diffusion._points import StartedProcess
    >>> chain = NoiseSchedule.from_name("quad", 50)
    >>> state = torch.ones(1, 1, 4)
    >>> given = torch.zeros(1, 1, 4, dtype=torch.bool)
    >>> out = sample_ddim(lambda x, t: torch.zeros_like(x),
    ...                   StartedProcess(chain, 0, state), state, given)
    >>> round(out[0, 0, 0].item(), 5)  # one step, from step 0: x / sqrt(abar_0)
    1.00005
    """

    process: NoiseSchedule | SDEProcess
    time: int | float
    state: Tensor


def unwrap(process) -> tuple:
    """``(process, start, state)`` of a :class:`StartedProcess` (its time and
    state), or of a plain process with ``start`` and ``state`` None."""
    if isinstance(process, StartedProcess):
        return process.process, process.time, process.state
    return process, None, None


def start_at_ratio(process, ratio: float) -> tuple[int | float, float, float]:
    """The least noisy point of ``process`` whose noise-to-signal ratio ``sigma /
    alpha`` is at least ``ratio``: its time, its ``alpha`` and its ratio.

    An observation ``y = x0 + s eps`` with ``s <= ratio`` becomes a state of the
    process there as ``alpha (y + sqrt(ratio_t^2 - s^2) eps')``, ``ratio_t`` the
    returned ratio: exactly the law of ``x_t`` given ``x0``. A continuous process
    reaches ``ratio`` exactly (but never less than twice its ratio at ``t_min``);
    the chain takes the first of its steps at or above it.

    Raises
    ------
    ValueError
        When ``ratio`` is not finite and positive, or exceeds the ratio of the
        process's noisiest point (noise that drowns the data).

    Examples
    --------
    >>> from tsdiff.diffusion import NoiseSchedule, VESDE
    >>> chain = NoiseSchedule.from_name("quad", 50)
    >>> t, alpha, r = start_at_ratio(chain, 0.5)
    >>> t, round(alpha, 4), round(r, 4)
    (14, 0.8868, 0.5211)
    >>> t, alpha, r = start_at_ratio(VESDE(sigma_min=0.01, sigma_max=50.0), 0.5)
    >>> round(t, 4), alpha, round(r, 6)
    (0.4593, 1.0, 0.5)
    """
    if not (math.isfinite(ratio) and ratio > 0):
        raise ValueError(f"ratio must be finite and > 0, got {ratio}")
    if isinstance(process, NoiseSchedule):
        abar = process.alphas_cumprod.astype(np.float64)  # (T,)
        with np.errstate(divide="ignore"):  # abar 0: infinite noise
            ratios = np.sqrt((1.0 - abar) / abar)  # rising with the step
        t = int(np.searchsorted(ratios, ratio))
        if t == len(ratios):
            raise ValueError(
                f"a noise-to-signal ratio of {ratio:g} exceeds that of the chain's "
                f"noisiest step ({ratios[-1]:.4g})"
            )
        return t, float(np.sqrt(abar[t])), float(ratios[t])
    ends = np.array([process.t_min, 1.0])
    lowest, highest = process.sigma(ends) / process.alpha(ends)
    if ratio > highest:
        raise ValueError(
            f"a noise-to-signal ratio of {ratio:g} exceeds that of the process at "
            f"t = 1 ({highest:.4g})"
        )
    ratio = max(ratio, 2.0 * float(lowest))  # a run of some length above t_min
    t = float(np.clip(process.time_at(np.array([ratio]))[0], process.t_min, 1.0))
    return t, float(process.alpha(np.array(t))), ratio


def timesteps(n_steps: int, sampling_steps: int | None) -> np.ndarray:
    """Descending step indices visited by a sampler (respacing of Nichol & Dhariwal).

    Parameters
    ----------
    n_steps : int
        Number of steps of the trained chain, >= 1.
    sampling_steps : int or None
        ``None`` visits all ``n_steps`` steps. Otherwise ``sampling_steps``
        evenly spaced (rounded) steps from ``n_steps - 1`` down to ``0``; with
        ``sampling_steps=1`` the single step is ``n_steps - 1`` (one jump from
        pure noise to ``x0``).

    Returns
    -------
    steps : ndarray of shape (sampling_steps,), int64
        Strictly decreasing, first ``n_steps - 1``, last ``0`` (when it has more
        than one entry).

    Raises
    ------
    ValueError
        Unless ``1 <= sampling_steps <= n_steps``.

    Examples
    --------
    >>> timesteps(50, 5)
    array([49, 37, 24, 12,  0])
    """
    n_steps = check_int("n_steps", n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if sampling_steps is None:
        return np.arange(n_steps - 1, -1, -1, dtype=np.int64)
    sampling_steps = check_int("sampling_steps", sampling_steps)
    if not 1 <= sampling_steps <= n_steps:
        raise ValueError(
            f"sampling_steps must lie in [1, n_steps={n_steps}], got {sampling_steps}"
        )
    if sampling_steps == 1:
        return np.array([n_steps - 1], dtype=np.int64)
    # Spacing (n_steps-1)/(sampling_steps-1) >= 1, so rounding keeps them distinct.
    grid = np.linspace(0.0, n_steps - 1, sampling_steps)
    return np.round(grid).astype(np.int64)[::-1].copy()


@dataclass(frozen=True)
class _Points:
    """Where a sampler evaluates the network and where it steps to.

    ``times[i]`` is the network's time input at the i-th of N evaluations (a step
    index of the DDPM chain, a float time of a continuous process); ``alpha[i]``
    and ``sigma[i]`` are the process's scales there, and entry N is the end point:
    clean data (1, 0) for the chain, ``t_min`` for a continuous process.
    """

    times: list[int] | list[float]
    alpha: np.ndarray  # (N + 1,)
    sigma: np.ndarray  # (N + 1,)
    time_dtype: torch.dtype | None  # of the network's time input; None: default
    state: Tensor | None = None  # the first state, of a StartedProcess

    def time_batch(self, t: int | float, n: int, device: torch.device) -> Tensor:
        return torch.full((n,), t, dtype=self.time_dtype, device=device)  # (n,)


SDE_STEPS = 50
"""Steps of the DDPM-family samplers on a continuous process when
``sampling_steps=None`` (the length of CSDI's chain)."""


def _points(process, sampling_steps: int | None) -> _Points:
    """The visited points of the chain (respaced, see :func:`timesteps`) or of a
    continuous process's time grid (:meth:`SDEProcess.time_grid`), from a
    :class:`StartedProcess`'s time down."""
    process, start, state = unwrap(process)
    if isinstance(process, NoiseSchedule):
        top = process.n_steps if start is None else int(start) + 1
        if sampling_steps is not None and start is not None:
            sampling_steps = min(sampling_steps, top)  # a short chain: every step
        steps = timesteps(top, sampling_steps)
        abar = np.append(process.alphas_cumprod[steps], 1.0)  # (N + 1,)
        return _Points(
            [int(t) for t in steps], np.sqrt(abar), np.sqrt(1.0 - abar), torch.long,
            state,
        )  # fmt: skip
    if isinstance(process, SDEProcess):
        steps = SDE_STEPS if sampling_steps is None else sampling_steps
        steps = check_int("sampling_steps", steps)
        start = 1.0 if start is None else float(start)
        times = process.time_grid(steps, spacing="log_snr", start=start)  # (N + 1,)
        alpha, sigma = process.alpha(times), process.sigma(times)
        return _Points([float(t) for t in times[:-1]], alpha, sigma, None, state)
    raise TypeError(
        "schedule must be a NoiseSchedule or an SDEProcess, got "
        f"{type(process).__name__}"
    )


def _start(
    points: _Points,
    x_cond: Tensor,
    cond_mask: Tensor,
    generator: torch.Generator | None,
) -> Tensor:
    """The first state: ``N(0, (alpha^2 + sigma^2) I)`` at the noisiest point (the
    law of ``x_t`` for data of unit variance; 1 on the chain), or the state of a
    started run, conditioning kept."""
    shape, device = x_cond.shape, x_cond.device
    if points.state is not None:
        if points.state.shape != shape:
            raise ValueError(
                f"the started state has shape {tuple(points.state.shape)}, the "
                f"conditioning {tuple(shape)}"
            )
        return torch.where(cond_mask, x_cond, points.state.to(x_cond.dtype))
    x = torch.randn(shape, generator=generator, device=device, dtype=x_cond.dtype)
    scale = math.hypot(points.alpha[0], points.sigma[0])
    x = x if scale == 1.0 else scale * x
    return torch.where(cond_mask, x_cond, x)  # (B, K, L)
