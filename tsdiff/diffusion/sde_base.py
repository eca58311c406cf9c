"""The interface of continuous-time diffusion processes: ``x_t = alpha(t) x0 +
sigma(t) eps``, t in [t_min, 1], each the solution of a linear SDE
``dx = f(t) x dt + g(t) dW`` (the processes themselves: :mod:`tsdiff.diffusion.sde`).

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

import numpy as np
import torch
from torch import Tensor

__all__ = ["Array", "SDEProcess"]

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

    def time_grid(
        self, sampling_steps: int, spacing: str = "time", start: float = 1.0
    ) -> np.ndarray:
        """``sampling_steps + 1`` times from ``start`` (1: the noisiest) down to
        ``t_min``.

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
        start : float, default=1.0
            The first time, in ``(t_min, 1]`` (a run started part-way).

        Returns
        -------
        ndarray of shape (sampling_steps + 1,), float64
            Strictly decreasing, first ``start``, last ``t_min``.

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
        if not self.t_min < start <= 1.0:
            raise ValueError(f"start must lie in (t_min, 1], got {start}")
        if spacing == "time":
            return np.linspace(start, self.t_min, sampling_steps + 1)
        if spacing != "log_snr":
            raise ValueError(f"spacing must be 'time' or 'log_snr', got {spacing!r}")
        ends = np.array([start, self.t_min])
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
