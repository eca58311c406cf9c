"""The continuous-time processes of Song et al. (2021), "Score-Based Generative
Modeling through Stochastic Differential Equations" (ICLR), §3.4 and Appendix B, on the
interface of :class:`~tsdiff.diffusion.sde_base.SDEProcess`:

* :class:`VPSDE`, variance preserving, the continuous limit of DDPM: ``alpha^2 +
  sigma^2 = 1``;
* :class:`SubVPSDE`, whose variance ``sigma = 1 - alpha^2`` stays below the VP one;
* :class:`VESDE`, variance exploding, the continuous limit of the geometric noise
  levels of NCSN (Song & Ermon, 2019): ``alpha = 1``, ``sigma`` geometric in t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tsdiff.diffusion.sde_base import Array, SDEProcess, _check_positive, _xp

__all__ = ["PROCESSES", "SDEProcess", "SubVPSDE", "VESDE", "VPSDE", "get_process"]


@dataclass(frozen=True)
class _LinearBeta(SDEProcess):
    """Shared part of VP and sub-VP: ``beta(t) = beta_min + t (beta_max - beta_min)``
    and ``alpha(t) = exp(-B(t) / 2)`` with ``B(t) = int_0^t beta``."""

    beta_min: float = 0.1
    beta_max: float = 20.0
    t_min: float = 1e-3

    def __post_init__(self) -> None:
        _check_positive("beta_min", self.beta_min)
        _check_positive("beta_max", self.beta_max)
        _check_positive("t_min", self.t_min)
        if self.beta_max < self.beta_min:
            raise ValueError(
                f"beta_max ({self.beta_max}) must be >= beta_min ({self.beta_min})"
            )
        if self.t_min >= 1:
            raise ValueError(f"t_min must be below 1, got {self.t_min}")

    def _beta(self, t: Array) -> Array:
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def _integral(self, t: Array) -> Array:
        return self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t**2

    def _time_of_integral(self, integral: np.ndarray) -> np.ndarray:
        """The t with ``B(t) = integral``: the positive root of the quadratic,
        written so that it neither cancels nor divides by ``beta_max - beta_min``."""
        spread = self.beta_max - self.beta_min
        return (
            2.0
            * integral
            / (self.beta_min + np.sqrt(self.beta_min**2 + 2.0 * spread * integral))
        )

    def alpha(self, t: Array) -> Array:
        """Signal scale ``exp(-integral_0^t beta(s) ds / 2)`` at times ``t``.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import VPSDE
        >>> sde = VPSDE()
        >>> a = sde.alpha(np.array([0.0, 1.0]))
        >>> float(a[0]), bool(a[1] < 0.01)  # no noise at t=0, nearly none left at 1
        (1.0, True)
        """
        return _xp(t).exp(-0.5 * self._integral(t))

    def drift(self, t: Array) -> Array:
        """Drift coefficient ``f(t) = -beta(t) / 2`` (the drift is ``f(t) x``).

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import SubVPSDE
        >>> SubVPSDE(beta_min=0.1, beta_max=20.0).drift(np.array([0.0, 1.0])).tolist()
        [-0.05, -10.0]
        """
        return -0.5 * self._beta(t)


@dataclass(frozen=True)
class VPSDE(_LinearBeta):
    """Variance-preserving SDE ``dx = -beta(t) x / 2 dt + sqrt(beta(t)) dW``.

    ``sigma^2 = 1 - alpha^2``; with Song et al.'s ``beta_min=0.1, beta_max=20`` it is
    the continuous limit of Ho et al.'s 1000-step linear DDPM schedule.

    Parameters
    ----------
    beta_min, beta_max : float, default=0.1, 20.0
        Noise rate at t = 0 and t = 1.
    t_min : float, default=1e-3
        Where sampling stops (sigma must stay positive).

    Examples
    --------
    >>> process = VPSDE()
    >>> t = np.array([0.5])
    >>> bool(np.allclose(process.alpha(t) ** 2 + process.sigma(t) ** 2, 1.0))
    True
    """

    def sigma(self, t: Array) -> Array:
        """Noise scale ``sqrt(1 - alpha(t)^2)``.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import VPSDE
        >>> sigma = VPSDE().sigma(torch.tensor([0.001, 1.0]))
        >>> [round(v, 4) for v in sigma.tolist()], sigma.dtype
        ([0.0105, 1.0], torch.float32)
        """
        xp = _xp(t)
        return xp.sqrt(-xp.expm1(-self._integral(t)))

    def diffusion_squared(self, t: Array) -> Array:
        """``g(t)^2 = beta(t)``, linear from ``beta_min`` to ``beta_max``.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import VPSDE
        >>> VPSDE().diffusion_squared(np.array([0.0, 0.5, 1.0])).round(4).tolist()
        [0.1, 10.05, 20.0]
        """
        return self._beta(t)

    def time_at(self, ratio: np.ndarray) -> np.ndarray:
        """Inverse of ``r = sqrt(exp(B(t)) - 1)``: ``B = log(1 + r^2)``.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import VPSDE
        >>> process = VPSDE()
        >>> ratio = process.sigma(np.array([0.25])) / process.alpha(np.array([0.25]))
        >>> process.time_at(ratio).round(6).tolist()
        [0.25]
        """
        return self._time_of_integral(np.log1p(np.square(ratio)))


@dataclass(frozen=True)
class SubVPSDE(_LinearBeta):
    """Sub-VP SDE ``dx = -beta x / 2 dt + sqrt(beta (1 - exp(-2 B(t)))) dW``.

    Same signal scale as :class:`VPSDE`, noise ``sigma = 1 - alpha^2``: smaller at
    every t, which Song et al. found gives better likelihoods.

    Parameters
    ----------
    beta_min, beta_max : float, default=0.1, 20.0
        Noise rate at t = 0 and t = 1.
    t_min : float, default=1e-3
        Where sampling stops.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.diffusion import VPSDE, SubVPSDE
    >>> process, t = SubVPSDE(), np.linspace(0.001, 1.0, 5)
    >>> bool(np.allclose(process.sigma(t), 1 - process.alpha(t) ** 2))
    True
    >>> bool(np.all(process.sigma(t) < VPSDE().sigma(t)))  # below the VP noise
    True
    """

    def sigma(self, t: Array) -> Array:
        """Noise scale ``1 - alpha(t)^2``.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import SubVPSDE, VPSDE
        >>> t = np.array([0.001, 0.5])
        >>> SubVPSDE().sigma(t).round(4).tolist(), VPSDE().sigma(t).round(4).tolist()
        ([0.0001, 0.9209], [0.0105, 0.9597])
        """
        return -_xp(t).expm1(-self._integral(t))

    def diffusion_squared(self, t: Array) -> Array:
        """``g(t)^2 = beta(t) (1 - exp(-2 B(t)))``: 0 at t = 0, close to ``beta``
        later on.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import SubVPSDE
        >>> SubVPSDE().diffusion_squared(np.array([0.0, 0.5, 1.0])).round(4).tolist()
        [0.0, 9.9872, 20.0]
        """
        return self._beta(t) * -_xp(t).expm1(-2.0 * self._integral(t))

    def time_at(self, ratio: np.ndarray) -> np.ndarray:
        """Inverse of ``r = (1 - exp(-B)) / exp(-B / 2) = 2 sinh(B / 2)``.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import SubVPSDE
        >>> process = SubVPSDE()
        >>> ratio = process.sigma(np.array([0.25])) / process.alpha(np.array([0.25]))
        >>> process.time_at(ratio).round(6).tolist()
        [0.25]
        """
        return self._time_of_integral(2.0 * np.arcsinh(0.5 * np.asarray(ratio)))


@dataclass(frozen=True)
class VESDE(SDEProcess):
    """Variance-exploding SDE ``dx = sqrt(d sigma^2 / dt) dW``, ``alpha = 1`` and
    ``sigma(t) = sigma_min (sigma_max / sigma_min)^t``: NCSN's geometric noise levels
    in continuous time.

    Parameters
    ----------
    sigma_min : float, default=0.01
        Noise at t = 0 (and where sampling stops).
    sigma_max : float, default=50.0
        Noise at t = 1; Song & Ermon (2020) advise about the largest distance
        between training examples, which for standardised windows of some hundred
        values is a few tens.
    t_min : float, default=0.0
        Where sampling stops.

    Examples
    --------
    >>> process = VESDE(sigma_min=0.01, sigma_max=10.0)
    >>> process.sigma(np.array([0.0, 1.0])).round(3).tolist()
    [0.01, 10.0]
    """

    sigma_min: float = 0.01
    sigma_max: float = 50.0
    t_min: float = 0.0

    def __post_init__(self) -> None:
        _check_positive("sigma_min", self.sigma_min)
        _check_positive("sigma_max", self.sigma_max)
        if self.sigma_max <= self.sigma_min:
            raise ValueError(
                f"sigma_max ({self.sigma_max}) must exceed sigma_min ({self.sigma_min})"
            )
        if not 0 <= self.t_min < 1:
            raise ValueError(f"t_min must lie in [0, 1), got {self.t_min}")

    def alpha(self, t: Array) -> Array:
        """Signal scale 1 at every time: the signal is never shrunk.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import VESDE
        >>> VESDE().alpha(torch.tensor([0.0, 0.5, 1.0])).tolist()
        [1.0, 1.0, 1.0]
        """
        return _xp(t).ones_like(t)

    def sigma(self, t: Array) -> Array:
        """Noise scale ``sigma_min (sigma_max / sigma_min)^t``, geometric in t.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import VESDE
        >>> process = VESDE(sigma_min=0.01, sigma_max=100.0)
        >>> process.sigma(np.array([0.0, 0.5, 1.0])).round(4).tolist()
        [0.01, 1.0, 100.0]
        """
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def drift(self, t: Array) -> Array:
        """``f(t) = 0``: no drift, since ``alpha = 1``.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import VESDE
        >>> VESDE().drift(np.array([0.2, 0.9])).tolist()
        [0.0, 0.0]
        """
        return _xp(t).zeros_like(t)

    def diffusion_squared(self, t: Array) -> Array:
        """``g(t)^2 = d(sigma^2) / dt = 2 log(sigma_max / sigma_min) sigma(t)^2``.

        Examples
        --------
        At ``sigma(t) = 1`` it is ``2 log(10^4)``:

        >>> import numpy as np
        >>> from tsdiff.diffusion import VESDE
        >>> process = VESDE(sigma_min=0.01, sigma_max=100.0)
        >>> g2 = process.diffusion_squared(np.array([0.5]))
        >>> g2.round(4).tolist(), bool(np.isclose(g2[0], 2 * np.log(1e4)))
        ([18.4207], True)
        """
        log_ratio = math.log(self.sigma_max / self.sigma_min)
        return 2.0 * log_ratio * self.sigma(t) ** 2

    def time_at(self, ratio: np.ndarray) -> np.ndarray:
        """Inverse of ``r = sigma(t)``, geometric in t.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import VESDE
        >>> VESDE(sigma_min=0.01, sigma_max=100.0).time_at(np.array([1.0])).tolist()
        [0.5]
        """
        return np.log(np.asarray(ratio) / self.sigma_min) / math.log(
            self.sigma_max / self.sigma_min
        )


PROCESSES: dict[str, type[SDEProcess]] = {
    "vp": VPSDE,
    "subvp": SubVPSDE,
    "ve": VESDE,
}
"""Continuous-time processes by name."""


def get_process(name: str, **options: float) -> SDEProcess:
    """Build a process by name (a key of :data:`PROCESSES`) with its options.

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the known processes.

    Examples
    --------
    >>> from tsdiff.diffusion.sde import get_process
    >>> get_process("ve", sigma_max=10.0)
    VESDE(sigma_min=0.01, sigma_max=10.0, t_min=0.0)
    >>> get_process("edm")
    Traceback (most recent call last):
    ...
    ValueError: unknown process 'edm'; known: ['subvp', 've', 'vp']
    """
    if name not in PROCESSES:
        raise ValueError(f"unknown process {name!r}; known: {sorted(PROCESSES)}")
    return PROCESSES[name](**options)
