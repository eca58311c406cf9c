"""Continuous-time diffusion processes: ``x_t = alpha(t) x0 + sigma(t) eps``, t in
[t_min, 1], each the solution of a linear SDE ``dx = f(t) x dt + g(t) dW``.

The three families of Song et al. (2021), "Score-Based Generative Modeling through
Stochastic Differential Equations" (ICLR), §3.4 and Appendix B:

* :class:`VPSDE`, variance preserving, the continuous limit of DDPM: ``alpha^2 +
  sigma^2 = 1``;
* :class:`SubVPSDE`, whose variance ``sigma = 1 - alpha^2`` stays below the VP one;
* :class:`VESDE`, variance exploding, the continuous limit of the geometric noise
  levels of NCSN (Song & Ermon, 2019): ``alpha = 1``, ``sigma`` geometric in t.

A process is described by functions of time that take a float64 ndarray (samplers
compute every step's coefficients on the host before their loop) or a tensor (the
training loss draws times on the device, without a host round trip). The network
is trained to predict ``eps`` from ``x_t`` and t; the score is ``-eps / sigma(t)``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["PROCESSES", "SDEProcess", "SubVPSDE", "VESDE", "VPSDE", "get_process"]

Array = np.ndarray | Tensor
"""Times and coefficients: a float64 ndarray on the host or a tensor."""


def _xp(t: Array):
    """The array namespace of ``t``: torch for tensors, numpy otherwise."""
    return torch if isinstance(t, Tensor) else np


class SDEProcess(ABC):
    """A linear diffusion ``dx = f(t) x dt + g(t) dW`` with Gaussian marginals
    ``x_t | x0 ~ N(alpha(t) x0, sigma(t)^2 I)``.

    Subclasses give ``alpha`` and ``sigma``; the drift ``f = d log(alpha) / dt`` and
    the squared diffusion ``g^2 = d(sigma^2) / dt - 2 f sigma^2`` follow from them and
    are given in closed form. Times run over ``[t_min, 1]``; samplers start at 1 and
    stop at ``t_min``.

    Examples
    --------
    Sampling starts from ``N(0, prior_std^2 I)``: unit variance for the VP and
    sub-VP processes, ``sqrt(1 + sigma_max^2)`` for the VE one.

    >>> from tsdiff.diffusion import VESDE, VPSDE, SDEProcess, SubVPSDE
    >>> processes = [VPSDE(), SubVPSDE(), VESDE()]
    >>> all(isinstance(process, SDEProcess) for process in processes)
    True
    >>> [round(process.prior_std, 2) for process in processes]
    [1.0, 1.0, 50.01]
    >>> [process.t_min for process in processes]
    [0.001, 0.001, 0.0]
    """

    t_min: float

    @abstractmethod
    def alpha(self, t: Array) -> Array:
        """Signal scale at times ``t`` (ndarray or tensor in, same kind out).

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from tsdiff.diffusion import VPSDE
        >>> process = VPSDE()
        >>> process.alpha(np.array([0.0, 0.5, 1.0])).round(4).tolist()
        [1.0, 0.2812, 0.0066]
        >>> type(process.alpha(torch.tensor([0.5]))).__name__
        'Tensor'
        """

    @abstractmethod
    def sigma(self, t: Array) -> Array:
        """Noise scale at times ``t``, positive on ``[t_min, 1]``.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import VESDE, VPSDE, SubVPSDE
        >>> t = np.array([1e-3, 1.0])  # t_min of VP and sub-VP, and the start
        >>> [process.sigma(t).round(4).tolist() for process in (VPSDE(), SubVPSDE())]
        [[0.0105, 1.0], [0.0001, 1.0]]
        >>> VESDE(sigma_min=0.01, sigma_max=10.0).sigma(np.array([0.0, 1.0])).tolist()
        [0.01, 10.0]
        """

    @abstractmethod
    def drift(self, t: Array) -> Array:
        """``f(t) = d log(alpha) / dt``.

        Examples
        --------
        The closed form agrees with a central difference of ``log(alpha)``:

        >>> import numpy as np
        >>> from tsdiff.diffusion import VPSDE
        >>> process, t, h = VPSDE(), np.array(0.3), 1e-6
        >>> def log_alpha(u):
        ...     return np.log(process.alpha(u))
        >>> numeric = (log_alpha(t + h) - log_alpha(t - h)) / (2 * h)
        >>> drift = process.drift(t)
        >>> round(float(drift), 4), bool(np.isclose(drift, numeric))
        (-3.035, True)
        """

    @abstractmethod
    def diffusion_squared(self, t: Array) -> Array:
        """``g(t)^2 = d(sigma^2) / dt - 2 f(t) sigma(t)^2``.

        Examples
        --------
        The closed form agrees with a central difference of ``sigma^2`` for every
        process:

        >>> import numpy as np
        >>> from tsdiff.diffusion import VESDE, VPSDE, SubVPSDE
        >>> t, h = np.array(0.3), 1e-6
        >>> def numeric(process):
        ...     ahead, var, behind = process.sigma(t + np.array([h, 0.0, -h])) ** 2
        ...     return (ahead - behind) / (2 * h) - 2 * process.drift(t) * var
        >>> [
        ...     bool(np.isclose(process.diffusion_squared(t), numeric(process)))
        ...     for process in (VPSDE(), SubVPSDE(), VESDE())
        ... ]
        [True, True, True]
        """

    @property
    def prior_std(self) -> float:
        """Standard deviation of the start ``x_1 ~ N(0, prior_std^2 I)`` of sampling:
        that of ``x_1`` for data of unit variance, ``sqrt(alpha(1)^2 + sigma(1)^2)``."""
        one = np.array(1.0)
        return float(np.sqrt(self.alpha(one) ** 2 + self.sigma(one) ** 2))

    def time_at(self, ratio: np.ndarray) -> np.ndarray:
        """The times at which ``sigma / alpha`` equals ``ratio`` (the inverse of the
        noise-to-signal ratio, which rises strictly with t).

        Needed for ``time_grid(spacing="log_snr")``, and so for the DDPM, DDIM and
        DPM-Solver++ samplers; a process of your own that does not define it can
        still be sampled by the SDE solvers.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.diffusion import VESDE, VPSDE, SubVPSDE
        >>> t = np.array([0.001, 0.3, 1.0])
        >>> [
        ...     bool(np.allclose(p.time_at(p.sigma(t) / p.alpha(t)), t))
        ...     for p in (VPSDE(), SubVPSDE(), VESDE())
        ... ]
        [True, True, True]
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not define time_at, which the log-SNR time "
            "grid of the DDPM, DDIM and DPM-Solver++ samplers needs; use an SDE "
            "solver ('euler_maruyama', 'pc', 'heun') or define time_at."
        )

    def time_grid(self, sampling_steps: int, spacing: str = "time") -> np.ndarray:
        """``sampling_steps + 1`` times from 1 down to ``t_min``.

        ``spacing="time"`` spaces them evenly in t, Song et al.'s choice for their
        SDE solvers: their steps are first or second order in t, and large steps in
        t at high noise, where ``g^2`` is largest, would be unstable. For the VE
        process even t is geometric spacing of the noise level (NCSN's levels).

        ``spacing="log_snr"`` spaces ``log(alpha / sigma)`` evenly, as Lu et al.
        (2022) do for DPM-Solver: the exponential integrators (DDIM, DPM-Solver++)
        step in that variable (the Gaussian oracle tests check that DPM-Solver++
        reaches the conditional law in 20 such steps on every process). For the
        VE process both spacings agree.

        Parameters
        ----------
        sampling_steps : int
            Steps, >= 1.
        spacing : {"time", "log_snr"}, default="time"
            What is spaced evenly.

        Returns
        -------
        ndarray of shape (sampling_steps + 1,), float64
            Strictly decreasing, first 1, last ``t_min``.

        Examples
        --------
        >>> from tsdiff.diffusion import VESDE, VPSDE
        >>> VPSDE().time_grid(4).round(5).tolist()
        [1.0, 0.75025, 0.5005, 0.25075, 0.001]
        >>> VPSDE().time_grid(4, spacing="log_snr").round(4).tolist()
        [1.0, 0.7223, 0.3046, 0.0317, 0.001]
        >>> process = VESDE(sigma_min=0.01, sigma_max=100.0)
        >>> process.sigma(process.time_grid(4)).round(4).tolist()  # geometric levels
        [100.0, 10.0, 1.0, 0.1, 0.01]
        >>> VPSDE().time_grid(0)
        Traceback (most recent call last):
        ...
        ValueError: sampling_steps must be >= 1, got 0
        """
        if isinstance(sampling_steps, bool) or not isinstance(sampling_steps, int):
            raise TypeError(f"sampling_steps must be an int, got {sampling_steps!r}")
        if sampling_steps < 1:
            raise ValueError(f"sampling_steps must be >= 1, got {sampling_steps}")
        if spacing == "time":
            return np.linspace(1.0, self.t_min, sampling_steps + 1)
        if spacing != "log_snr":
            raise ValueError(f"spacing must be 'time' or 'log_snr', got {spacing!r}")
        ends = np.array([1.0, self.t_min])
        log_ratio = np.log(self.sigma(ends) / self.alpha(ends))  # -log-SNR / 2
        ratio = np.exp(np.linspace(*log_ratio, sampling_steps + 1))
        times = self.time_at(ratio)
        times[[0, -1]] = ends  # exact ends, whatever the inverse's rounding
        return times

    def draw_times(
        self, n: int, generator: torch.Generator | None, device: torch.device
    ) -> Tensor:
        """Training times ``t ~ U(t_min, 1)``, shape (n,), float32.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import VPSDE
        >>> process = VPSDE()
        >>> g = torch.Generator().manual_seed(0)
        >>> t = process.draw_times(1000, g, torch.device("cpu"))
        >>> t.shape, t.dtype
        (torch.Size([1000]), torch.float32)
        >>> bool(t.min() >= process.t_min), bool(t.max() <= 1.0)
        (True, True)
        """
        u = torch.rand(n, generator=generator, device=device)
        return self.t_min + (1.0 - self.t_min) * u

    def scales(self, t: Tensor, like: Tensor) -> tuple[Tensor, Tensor]:
        """``(alpha(t), sigma(t))`` per row, each of shape (B, 1, 1) in ``like``'s
        dtype.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import VPSDE
        >>> t = torch.tensor([0.001, 0.5, 1.0])
        >>> alpha, sigma = VPSDE().scales(t, torch.zeros(3, 2, 8, dtype=torch.float64))
        >>> alpha.shape, alpha.dtype
        (torch.Size([3, 1, 1]), torch.float64)
        >>> bool(torch.allclose(alpha**2 + sigma**2, torch.ones_like(alpha)))  # VP
        True
        """
        times = t.to(torch.float64)[:, None, None]  # (B, 1, 1)
        return self.alpha(times).to(like.dtype), self.sigma(times).to(like.dtype)

    def input_scale(self, t: Tensor, like: Tensor) -> Tensor:
        """``sqrt(alpha^2 + sigma^2)`` per row, shape (B, 1, 1): the scale of ``x_t``
        for data of unit variance, by which the network's input is divided (the
        ``c_in`` of Karras et al. 2022), so that it sees values of unit scale at
        every noise level, also where the VE process's noise reaches tens.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import VESDE, VPSDE
        >>> t, like = torch.tensor([0.0, 1.0]), torch.zeros(2, 3, 4)
        >>> [round(v, 2) for v in VESDE().input_scale(t, like).flatten().tolist()]
        [1.0, 50.01]
        >>> [round(v, 4) for v in VPSDE().input_scale(t, like).flatten().tolist()]
        [1.0, 1.0]
        """
        alpha, sigma = self.scales(t, like)
        return (alpha.square() + sigma.square()).sqrt()

    def noise_level(self, t: Tensor) -> Tensor:
        """The network's conditioning value, ``50 t``: time on the scale of CSDI's 50
        step indices, for which the sinusoidal noise-level embedding was made.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import VPSDE
        >>> level = VPSDE().noise_level(torch.tensor([0.5, 1.0]))
        >>> level.tolist(), level.dtype
        ([25.0, 50.0], torch.float32)
        """
        return 50.0 * t.float()

    def identity(self) -> bytes:
        """What a training checkpoint must match: the process and its settings.

        Examples
        --------
        >>> from tsdiff.diffusion import VPSDE
        >>> VPSDE().identity()
        b'VPSDE(beta_min=0.1, beta_max=20.0, t_min=0.001)'
        >>> VPSDE().identity() == VPSDE(beta_max=10.0).identity()
        False
        """
        return repr(self).encode()

    def add_noise(self, x0: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        """Draw ``x_t = alpha(t) x0 + sigma(t) eps`` row by row.

        Parameters
        ----------
        x0, eps : Tensor of shape (B, K, L)
            Clean data and standard normal noise.
        t : Tensor of shape (B,), floating
            Time of each row, in ``[t_min, 1]``.

        Returns
        -------
        x_t : Tensor of shape (B, K, L)

        Examples
        --------
        The VE process keeps the signal (``alpha = 1``) and adds noise of scale
        ``sigma(t)``, from ``sigma_min`` at t = 0 to ``sigma_max`` at t = 1:

        >>> import torch
        >>> from tsdiff.diffusion import VESDE
        >>> process = VESDE(sigma_min=0.01, sigma_max=10.0)
        >>> x0, eps = torch.ones(2, 1, 3), torch.ones(2, 1, 3)
        >>> x_t = process.add_noise(x0, torch.tensor([0.0, 1.0]), eps)
        >>> x_t.shape
        torch.Size([2, 1, 3])
        >>> [round(v, 4) for v in x_t[:, 0, 0].tolist()]
        [1.01, 11.0]
        """
        alpha, sigma = self.scales(t, x0)
        return alpha * x0 + sigma * eps


def _check_positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return float(value)


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
