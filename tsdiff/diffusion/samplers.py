"""Conditional reverse-process samplers: ancestral DDPM, DDIM and DPM-Solver++(2M).

Every sampler is a plain ``@torch.no_grad()`` function with the signature
``sampler(denoise, schedule, x_cond, cond_mask, *, sampling_steps=None,
generator=None, ...)``. The conditioning values are re-imposed after every step,
so the result equals ``x_cond`` bit for bit on ``cond_mask`` entries.

They need only the scales ``alpha`` and ``sigma`` of ``x_t = alpha x0 + sigma eps``
at the points they visit, so every process can use them: the DDPM chain
(:class:`NoiseSchedule`, respaced step indices, ending at clean data) and the
continuous processes (:class:`SDEProcess`, a time grid even in log-SNR, ending at
``t_min``). The step formulas below are written for the chain (``abar =
alpha^2``); on other processes the same steps use the general ``alpha`` and
``sigma``.

DDPM and DDIM write one step as ``x <- c_x * x + c_eps * eps_hat + sigma * z``
with the three scalars computed on the host in float64 before the loop: the loop
then needs no host-device sync and does two multiply-adds on the tensor per step.
DPM-Solver++(2M) also reuses the previous step's clean-data estimate, again with
host-side coefficients.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from tsdiff.diffusion._checks import check_eta, check_inputs, checked_output
from tsdiff.diffusion._points import _Points, _points, _start, timesteps
from tsdiff.diffusion.process import Denoise, Process

__all__ = [
    "SAMPLERS",
    "sample_ddim",
    "sample_ddpm",
    "sample_dpmpp_2m",
    "timesteps",
]

logger = logging.getLogger(__name__)

# One reverse step: (t, c_x, c_eps, sigma), see the module docstring.
_Step = tuple[int | float, float, float, float]


def _ddim_plan(points: _Points, eta: float) -> list[_Step]:
    """Generalised DDIM steps of Song et al. (2021), eq. 12, with the noise of their
    eq. 16 written for any ``x_t = alpha x0 + sigma eps``: ``eta`` times the
    standard deviation of the forward process's posterior ``q(x_next | x, x0)``."""
    plan = []
    alpha, sigma = points.alpha, points.sigma
    for i, t in enumerate(points.times):
        a, s, a_next, s_next = alpha[i], sigma[i], alpha[i + 1], sigma[i + 1]
        # Variance that the forward process adds from x_next to x.
        added = max(s * s - (a / a_next) ** 2 * s_next * s_next, 0.0)
        noise = eta * s_next / s * math.sqrt(added)
        # x_next = a_next x0_hat + sqrt(s_next^2 - noise^2) eps_hat + noise z with
        # x0_hat = (x - s eps_hat) / a, expanded.
        direction = math.sqrt(max(s_next * s_next - noise * noise, 0.0))
        plan.append((t, a_next / a, direction - a_next * s / a, noise))
    return plan


def _run_plan(
    denoise: Denoise,
    x_cond: Tensor,
    cond_mask: Tensor,
    points: _Points,
    plan: list[_Step],
    generator: torch.Generator | None,
) -> Tensor:
    """Walk the plan from x ~ N(0, prior), re-imposing the conditioning after each
    step."""
    shape, device = x_cond.shape, x_cond.device
    x = _start(points, x_cond, cond_mask, generator)
    for t, c_x, c_eps, sigma in plan:
        t_batch = points.time_batch(t, shape[0], device)  # (B,)
        eps_hat = checked_output(denoise(x, t_batch), shape)
        x = c_x * x + c_eps * eps_hat.to(x.dtype)
        # sigma is a host float: deciding whether to draw noise costs no sync.
        if sigma > 0.0:
            z = torch.randn(shape, generator=generator, device=device, dtype=x.dtype)
            x = x + sigma * z
        x = torch.where(cond_mask, x_cond, x)  # (B, K, L)
    return x


@torch.no_grad()
def sample_ddpm(
    denoise: Denoise,
    schedule: Process,
    x_cond: Tensor,
    cond_mask: Tensor,
    *,
    sampling_steps: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Conditional ancestral DDPM sampling (Ho et al., 2020; CSDI, Tashiro et al.).

    On the (respaced) chain ``t_0 > t_1 > ... > 0`` with ``alpha = abar_t /
    abar_prev`` and ``beta = 1 - alpha`` each step is ``x <- (x - beta /
    sqrt(1 - abar_t) eps_hat) / sqrt(alpha) + sigma z`` with ``sigma^2 = (1 -
    abar_prev) / (1 - abar_t) beta`` (0 at the last step).

    Parameters
    ----------
    denoise : callable
        ``denoise(x_t, t) -> eps_hat`` with x_t of shape (B, K, L), t of shape
        (B,): long step indices on the chain, float times on a continuous process;
        returns (B, K, L).
    schedule : NoiseSchedule or SDEProcess
        The trained forward process.
    x_cond : Tensor of shape (B, K, L), floating
        Given values at ``cond_mask`` entries; other entries are ignored (they may
        hold anything, NaN included).
    cond_mask : Tensor of shape (B, K, L), bool
        True where the value is given.
    sampling_steps : int, optional
        Number of reverse steps (see :func:`timesteps`); ``None`` uses all
        ``schedule.n_steps`` of a chain, 50 on a continuous
        process.
    generator : torch.Generator, optional
        Source of all noise, on ``x_cond``'s device type; ``None`` uses torch's
        default generator.

    Returns
    -------
    x0 : Tensor of shape (B, K, L)
        One sample per row (of clean data on the chain, of ``x_{t_min}`` on a
        continuous process), equal to ``x_cond`` on ``cond_mask`` entries.

    Raises
    ------
    ValueError
        On mismatched shapes, an out-of-range ``sampling_steps`` or a generator on
        another device type.
    TypeError
        On a non-bool ``cond_mask``, a non-floating ``x_cond`` or a non-callable
        ``denoise``.

    See Also
    --------
    sample_ddim : Deterministic (eta=0) or partially stochastic sampler.

    Examples
    --------
    >>> from tsdiff.diffusion import NoiseSchedule
    >>> schedule = NoiseSchedule.from_name("quad", 50)
    >>> x_cond = torch.zeros(2, 3, 8)
    >>> cond_mask = torch.zeros(2, 3, 8, dtype=torch.bool)
    >>> g = torch.Generator().manual_seed(0)
    >>> sample_ddpm(lambda x, t: torch.zeros_like(x), schedule, x_cond, cond_mask,
    ...             sampling_steps=10, generator=g).shape
    torch.Size([2, 3, 8])
    """
    check_inputs(denoise, x_cond, cond_mask, generator)
    points = _points(schedule, sampling_steps)
    logger.debug(
        "DDPM sampling %s over %d steps", tuple(x_cond.shape), len(points.times)
    )
    plan = _ddim_plan(points, eta=1.0)
    return _run_plan(denoise, x_cond, cond_mask, points, plan, generator)


@torch.no_grad()
def sample_ddim(
    denoise: Denoise,
    schedule: Process,
    x_cond: Tensor,
    cond_mask: Tensor,
    *,
    sampling_steps: int | None = None,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Conditional DDIM sampling (Song et al., 2021).

    Each step predicts ``x0_hat = (x - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t)``
    and moves to ``sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps_hat
    + sigma z`` with ``sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 -
    abar_t / abar_prev)``. ``eta=0`` is deterministic given the starting noise;
    ``eta=1`` is the ancestral DDPM chain of :func:`sample_ddpm` (same draws from
    the same generator).

    Parameters
    ----------
    denoise, schedule, x_cond, cond_mask, sampling_steps, generator
        As in :func:`sample_ddpm`.
    eta : float, default=0.0
        Stochasticity in [0, 1].

    Returns
    -------
    x0 : Tensor of shape (B, K, L)
        One sample per row (of clean data on the chain, of ``x_{t_min}`` on a
        continuous process), equal to ``x_cond`` on ``cond_mask`` entries.

    Raises
    ------
    ValueError
        As in :func:`sample_ddpm`, or if ``eta`` is outside [0, 1].
    TypeError
        As in :func:`sample_ddpm`.

    See Also
    --------
    sample_ddpm : Ancestral sampler.

    Examples
    --------
    >>> from tsdiff.diffusion import NoiseSchedule
    >>> schedule = NoiseSchedule.from_name("quad", 50)
    >>> x_cond = torch.zeros(2, 3, 8)
    >>> cond_mask = torch.zeros(2, 3, 8, dtype=torch.bool)
    >>> g = torch.Generator().manual_seed(0)
    >>> sample_ddim(lambda x, t: torch.zeros_like(x), schedule, x_cond, cond_mask,
    ...             sampling_steps=10, generator=g).shape
    torch.Size([2, 3, 8])
    """
    check_inputs(denoise, x_cond, cond_mask, generator)
    eta = check_eta(eta)
    points = _points(schedule, sampling_steps)
    logger.debug(
        "DDIM(eta=%g) sampling %s over %d steps",
        eta,
        tuple(x_cond.shape),
        len(points.times),
    )
    plan = _ddim_plan(points, eta)
    return _run_plan(denoise, x_cond, cond_mask, points, plan, generator)


def _dpmpp_2m_plan(
    points: _Points, eta: float
) -> list[tuple[int | float, float, float, float, float, float, float]]:
    """Steps ``(t, 1 / alpha_t, sigma_t / alpha_t, c_x, c_now, c_prev, noise)`` of
    DPM-Solver++(2M) (Lu et al., 2022, Algorithm 2) over the visited points, and of
    its stochastic form (their SDE-DPM-Solver++(2M)) for ``eta > 0``.

    With ``lambda = log(alpha / sigma)`` and ``h`` the step in lambda, ``x_next =
    c_x x + c_now D_now + c_prev D_prev + noise z``, where ``D`` are the clean-data
    estimates at this and the previous point: ``c_x = sigma_next / sigma
    e^{-eta h}``, the data coefficient ``c = alpha_next (1 - e^{-(1 + eta) h})``
    split between ``D_now`` and ``D_prev`` by the midpoint rule, and ``noise =
    sigma_next sqrt(1 - e^{-2 eta h})``; ``eta = 0`` is the deterministic solver.
    The first step is first order, and so is a final jump to clean data
    (``sigma_next = 0``, ``h = inf``: it returns ``D_now``).
    """
    # A chain whose noisiest step has abar == 0 (underflow) would make lambda
    # -inf; from alpha = 1e-6 on, x_T is pure noise to float precision anyway.
    # Clamped points share one lambda, so the steps between them are zero (first
    # order, no ratio of steps); their sigma is 1 to float precision.
    clamped = points.alpha < 1e-6
    alpha = np.maximum(points.alpha, 1e-6)  # (N + 1,)
    sigma = points.sigma
    with np.errstate(divide="ignore"):  # lambda = inf at clean data
        lam = np.where(clamped, np.log(1e-6), np.log(alpha) - np.log(sigma))
    plan, h_prev = [], None
    for i, t in enumerate(points.times):
        start = (t, 1 / alpha[i], sigma[i] / alpha[i])
        if sigma[i + 1] == 0.0:  # to clean data: the estimate itself
            plan.append((*start, 0.0, 1.0, 0.0, 0.0))
            break
        h = lam[i + 1] - lam[i]
        c_x = sigma[i + 1] / sigma[i] * math.exp(-eta * h)
        c_d = alpha[i + 1] * -math.expm1(-(1.0 + eta) * h)
        noise = sigma[i + 1] * math.sqrt(max(-math.expm1(-2.0 * eta * h), 0.0))
        # First order at the start, and where clamped steps leave h = 0 (the
        # ratio r of consecutive steps is then undefined).
        if h_prev is None or h_prev <= 0.0 or h <= 0.0:
            c_now, c_prev = c_d, 0.0
        else:
            r = h_prev / h
            c_now, c_prev = c_d * (1 + 1 / (2 * r)), -c_d / (2 * r)
        plan.append((*start, c_x, c_now, c_prev, noise))
        h_prev = h
    return plan


@torch.no_grad()
def sample_dpmpp_2m(
    denoise: Denoise,
    schedule: Process,
    x_cond: Tensor,
    cond_mask: Tensor,
    *,
    sampling_steps: int | None = None,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Conditional DPM-Solver++(2M) sampling (Lu et al., 2022).

    A second-order multistep solver of the probability-flow ODE in the
    data-prediction form: each step turns ``eps_hat`` into the clean-data estimate
    ``D = (x - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t)`` and extrapolates it
    linearly in ``lambda = log(sqrt(abar) / sqrt(1 - abar))`` from the previous
    step's estimate, at one network evaluation per step. Deterministic given the
    starting noise for ``eta=0``; ``eta=1`` solves the reverse-time SDE instead
    (SDE-DPM-Solver++(2M), the same paper), injecting fresh noise each step. Its
    error shrinks about fourfold when the steps are doubled, against twofold for
    DDIM (its first-order counterpart); with very few, uneven steps it is not
    always the more accurate of the two, so measure on your data
    (``benchmarks/nfe_curves.py``).

    Parameters
    ----------
    denoise, schedule, x_cond, cond_mask, sampling_steps, generator
        As in :func:`sample_ddpm`.
    eta : float, default=0.0
        Stochasticity in [0, 1]: 0 the ODE solver, 1 the SDE solver.

    Returns
    -------
    x0 : Tensor of shape (B, K, L)
        One sample per row (of clean data on the chain, of ``x_{t_min}`` on a
        continuous process), equal to ``x_cond`` on ``cond_mask`` entries.

    Raises
    ------
    ValueError, TypeError
        As in :func:`sample_ddpm`, or for an ``eta`` outside [0, 1].

    See Also
    --------
    sample_ddim : The first-order solver of the same ODE (``eta=0``).

    References
    ----------
    Lu, Zhou, Bao, Chen, Li, Zhu. DPM-Solver++: Fast Solver for Guided Sampling of
    Diffusion Probabilistic Models. arXiv:2211.01095, 2022.

    Examples
    --------
    For data that are all zero the exact noise prediction is ``x_t / sqrt(1 -
    abar_t)``; ten solver steps then land on 0 wherever no value is given, and the
    given values (the first four steps of each series) are kept exactly.

    >>> import torch
    >>> from tsdiff.diffusion import NoiseSchedule, sample_dpmpp_2m
    >>> schedule = NoiseSchedule.from_name("quad", 50)
    >>> def denoise(x_t, t):
    ...     return x_t / schedule.gather("sqrt_one_minus_alphas_cumprod", t, x_t)
    >>> x_cond = torch.zeros(2, 3, 8)
    >>> x_cond[..., :4] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    >>> cond_mask = torch.zeros(2, 3, 8, dtype=torch.bool)
    >>> cond_mask[..., :4] = True
    >>> g = torch.Generator().manual_seed(0)
    >>> x0 = sample_dpmpp_2m(denoise, schedule, x_cond, cond_mask,
    ...                      sampling_steps=10, generator=g)
    >>> x0.shape
    torch.Size([2, 3, 8])
    >>> torch.equal(x0[cond_mask], x_cond[cond_mask])
    True
    >>> bool(x0[~cond_mask].abs().max() < 1e-4)
    True
    """
    check_inputs(denoise, x_cond, cond_mask, generator)
    eta = check_eta(eta)
    points = _points(schedule, sampling_steps)
    logger.debug(
        "DPM-Solver++(2M, eta=%g) sampling %s over %d steps",
        eta,
        tuple(x_cond.shape),
        len(points.times),
    )
    shape, device = x_cond.shape, x_cond.device
    x = _start(points, x_cond, cond_mask, generator)
    d_prev = None
    for t, inv_alpha, snr_inv, c_x, c_now, c_prev, noise in _dpmpp_2m_plan(points, eta):
        t_batch = points.time_batch(t, shape[0], device)  # (B,)
        eps_hat = checked_output(denoise(x, t_batch), shape).to(x.dtype)
        d_now = inv_alpha * x - snr_inv * eps_hat  # clean-data estimate, (B, K, L)
        x = c_x * x + c_now * d_now
        if c_prev != 0.0:
            x = x + c_prev * d_prev
        if noise > 0.0:  # a host float: no sync
            z = torch.randn(shape, generator=generator, device=device, dtype=x.dtype)
            x = x + noise * z
        x = torch.where(cond_mask, x_cond, x)  # (B, K, L)
        d_prev = d_now
    return x


SAMPLERS: dict[str, Callable[..., Tensor]] = {
    "ddpm": sample_ddpm,
    "ddim": sample_ddim,
    "dpmpp_2m": sample_dpmpp_2m,
}
"""Named samplers of ``(denoise, schedule, x_cond, cond_mask, *, options)``."""
