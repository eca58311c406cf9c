"""Named beta schedules of the DDPM chain, in an add-only registry: a saved model
refers to its schedule by name, and changing what a name means would silently change
every model trained with it."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np

__all__ = ["SCHEDULES", "BetaFunction", "make_betas", "register_schedule"]

BetaFunction = Callable[[int, float, float], np.ndarray]

SCHEDULES: dict[str, BetaFunction] = {}
"""Registry of named beta schedules, ``name -> f(n_steps, beta_start, beta_end)``.

Add-only: use :func:`register_schedule`; never rebind or delete a name.
"""

# Largest beta allowed by the cosine schedule: Nichol & Dhariwal (2021) clip there
# so that the last step does not destroy the signal with beta == 1 (abar_T == 0).
_COSINE_MAX_BETA = 0.999
_COSINE_OFFSET = 0.008


def register_schedule(name: str) -> Callable[[BetaFunction], BetaFunction]:
    """Register a beta schedule under ``name`` (decorator).

    Parameters
    ----------
    name : str
        Registry key. It must not be registered yet.

    Returns
    -------
    decorator : callable
        Registers ``f(n_steps, beta_start, beta_end) -> ndarray`` and returns it
        unchanged.

    Raises
    ------
    ValueError
        If ``name`` is already registered (the registry is add-only).
    TypeError
        If ``name`` is not a string.

    Examples
    --------
    >>> @register_schedule("my_constant")  # doctest: +SKIP
    ... def constant(n_steps, beta_start, beta_end):
    ...     return np.full(n_steps, beta_end)
    """
    if not isinstance(name, str):
        raise TypeError(f"schedule name must be a str, got {type(name).__name__}")
    if name in SCHEDULES:
        raise ValueError(
            f"schedule {name!r} is already registered; the registry is add-only"
        )

    def decorator(function: BetaFunction) -> BetaFunction:
        SCHEDULES[name] = function
        return function

    return decorator


def _check_beta_range(beta_start: float, beta_end: float) -> None:
    if not 0.0 < beta_start <= beta_end < 1.0:
        raise ValueError(
            "need 0 < beta_start <= beta_end < 1, got "
            f"beta_start={beta_start!r}, beta_end={beta_end!r}"
        )


@register_schedule("quad")
def _quad_betas(n_steps: int, beta_start: float, beta_end: float) -> np.ndarray:
    """Quadratic schedule of CSDI (Tashiro et al., 2021): sqrt(beta) linear."""
    _check_beta_range(beta_start, beta_end)
    return np.linspace(beta_start**0.5, beta_end**0.5, n_steps, dtype=np.float64) ** 2


@register_schedule("linear")
def _linear_betas(n_steps: int, beta_start: float, beta_end: float) -> np.ndarray:
    """Linear schedule of Ho et al. (2020)."""
    _check_beta_range(beta_start, beta_end)
    return np.linspace(beta_start, beta_end, n_steps, dtype=np.float64)


@register_schedule("cosine")
def _cosine_betas(n_steps: int, beta_start: float, beta_end: float) -> np.ndarray:
    """Cosine schedule of Nichol & Dhariwal (2021), s=0.008, betas clipped at 0.999.

    ``beta_start`` and ``beta_end`` are ignored: the schedule is fixed by
    ``abar(t) = f(t) / f(0)`` with ``f(t) = cos((t / T + s) / (1 + s) * pi / 2)^2``.
    """
    grid = np.arange(n_steps + 1, dtype=np.float64) / n_steps
    f = np.cos((grid + _COSINE_OFFSET) / (1.0 + _COSINE_OFFSET) * math.pi / 2) ** 2
    betas = 1.0 - f[1:] / f[:-1]
    return np.clip(betas, 0.0, _COSINE_MAX_BETA)


def _check_n_steps(n_steps: int) -> int:
    if isinstance(n_steps, bool):
        raise TypeError("n_steps must be an int, got bool")
    try:
        n_steps = operator.index(n_steps)
    except TypeError:
        raise TypeError(
            f"n_steps must be an int, got {type(n_steps).__name__}"
        ) from None
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    return n_steps


def make_betas(
    name: str, n_steps: int, beta_start: float, beta_end: float
) -> np.ndarray:
    """Betas of the named schedule.

    Parameters
    ----------
    name : str
        A key of :data:`SCHEDULES`: ``"quad"`` (CSDI), ``"linear"`` (Ho et al.,
        2020) or ``"cosine"`` (Nichol & Dhariwal, 2021; ignores the beta range).
    n_steps : int
        Number of diffusion steps, >= 1.
    beta_start, beta_end : float
        First and last beta, ``0 < beta_start <= beta_end < 1``.

    Returns
    -------
    betas : ndarray of shape (n_steps,), float64

    Raises
    ------
    ValueError
        If the schedule is unknown (the message lists the known ones) or the
        arguments are out of range.

    Examples
    --------
    >>> betas = make_betas("quad", 50, 1e-4, 0.5)
    >>> betas.shape, betas.dtype
    ((50,), dtype('float64'))
    """
    if name not in SCHEDULES:
        raise ValueError(
            f"unknown schedule {name!r}; known schedules: {sorted(SCHEDULES)}"
        )
    n_steps = _check_n_steps(n_steps)
    betas = np.asarray(
        SCHEDULES[name](n_steps, float(beta_start), float(beta_end)), dtype=np.float64
    )
    if betas.shape != (n_steps,):
        raise ValueError(
            f"schedule {name!r} returned shape {betas.shape}, expected ({n_steps},)"
        )
    return betas
