"""Noise schedules of the discrete variance-preserving (DDPM) forward process.

A schedule is data: a float64 array of betas (named in :mod:`tsdiff.diffusion.betas`)
from which every other per-step quantity (``alphas_cumprod`` and friends) is derived.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tsdiff.diffusion.betas import (
    SCHEDULES,
    make_betas,
    register_schedule,
)

__all__ = ["SCHEDULES", "NoiseSchedule", "make_betas", "register_schedule"]

# Per-step arrays that `NoiseSchedule.gather` can look up.
_GATHERABLE = (
    "betas",
    "alphas",
    "alphas_cumprod",
    "alphas_cumprod_prev",
    "sqrt_alphas_cumprod",
    "sqrt_one_minus_alphas_cumprod",
    "posterior_variance",
)


@dataclass(frozen=True)
class NoiseSchedule:
    """Discrete variance-preserving noise schedule (Ho et al., 2020), float64.

    The forward process is ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps`` for
    ``t = 0, ..., n_steps - 1`` with ``abar_t = prod_{s <= t} (1 - beta_s)``.

    Parameters
    ----------
    betas : array-like of shape (n_steps,)
        Per-step noise variances, each in the open interval (0, 1). Stored as a
        read-only float64 copy.

    Attributes
    ----------
    n_steps : int
        Number of diffusion steps.
    alphas : ndarray of shape (n_steps,), float64
        ``1 - beta_t``.
    alphas_cumprod : ndarray of shape (n_steps,), float64
        ``abar_t``, strictly decreasing.
    alphas_cumprod_prev : ndarray of shape (n_steps,), float64
        ``abar_{t-1}``, with 1 at ``t = 0``.
    sqrt_alphas_cumprod, sqrt_one_minus_alphas_cumprod : ndarray, float64
        Signal and noise scales of ``x_t``.
    posterior_variance : ndarray of shape (n_steps,), float64
        Variance of q(x_{t-1} | x_t, x0); 0 at ``t = 0``.

    See Also
    --------
    make_betas : Named schedules.

    Examples
    --------
    >>> schedule = NoiseSchedule.from_name("quad", 50)
    >>> schedule.n_steps
    50
    >>> round(float(schedule.betas[-1]), 12)
    0.5
    """

    betas: np.ndarray

    def __post_init__(self) -> None:
        try:
            betas = np.array(self.betas, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"betas must be an array of floats: {error}") from None
        if betas.ndim != 1 or betas.size == 0:
            raise ValueError(f"betas must be 1-D and non-empty, got {betas.shape}")
        if not (np.all(np.isfinite(betas)) and np.all((betas > 0) & (betas < 1))):
            raise ValueError("every beta must lie in the open interval (0, 1)")
        if 1.0 - betas[0] == 1.0:  # abar_0 = 1: the first step would add no noise
            raise ValueError(
                f"the first beta ({betas[0]:g}) is below float64 resolution: "
                "1 - beta rounds to 1, so the chain's first step adds no noise; use "
                "a beta_start of 1e-15 or more"
            )
        betas.setflags(write=False)
        # Frozen dataclass: bypass the frozen __setattr__ to store the clean copy.
        object.__setattr__(self, "betas", betas)
        object.__setattr__(self, "_tables", {})

    # Pickle only the betas: the float32 tables are a per-device cache.
    def __getstate__(self) -> dict[str, np.ndarray]:
        return {"betas": self.betas}

    def __setstate__(self, state: dict[str, np.ndarray]) -> None:
        object.__setattr__(self, "betas", state["betas"])
        object.__setattr__(self, "_tables", {})

    # numpy arrays make the generated __eq__/__hash__ ambiguous; compare values.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoiseSchedule):
            return NotImplemented
        return bool(np.array_equal(self.betas, other.betas))

    def __hash__(self) -> int:
        return hash(self.betas.tobytes())

    @classmethod
    def from_name(
        cls,
        name: str,
        n_steps: int,
        beta_start: float = 1e-4,
        beta_end: float = 0.5,
    ) -> NoiseSchedule:
        """Build a schedule from the registry (see :func:`make_betas`).

        Parameters
        ----------
        name : str
            Registered schedule name.
        n_steps : int
            Number of diffusion steps.
        beta_start : float, default=1e-4
            First beta (CSDI's value).
        beta_end : float, default=0.5
            Last beta (CSDI's value).

        Returns
        -------
        schedule : NoiseSchedule

        Examples
        --------
        >>> from tsdiff.diffusion import NoiseSchedule
        >>> schedule = NoiseSchedule.from_name("linear", 4, 0.1, 0.4)  # betas 0.1..0.4
        >>> schedule.betas.round(4).tolist(), schedule.n_steps
        ([0.1, 0.2, 0.3, 0.4], 4)
        >>> schedule.alphas_cumprod.round(4).tolist()  # abar_t, strictly decreasing
        [0.9, 0.72, 0.504, 0.3024]
        >>> NoiseSchedule.from_name("sigmoid", 4)
        Traceback (most recent call last):
        ...
        ValueError: unknown schedule 'sigmoid'; known schedules: ['cosine', ...]
        """
        return cls(make_betas(name, n_steps, beta_start, beta_end))

    @property
    def n_steps(self) -> int:
        """Number of diffusion steps."""
        return int(self.betas.shape[0])

    @property
    def alphas(self) -> np.ndarray:
        """``1 - beta_t``, float64 (n_steps,)."""
        return 1.0 - self.betas

    @property
    def alphas_cumprod(self) -> np.ndarray:
        """``abar_t = prod_{s <= t} (1 - beta_s)``, float64 (n_steps,)."""
        return np.cumprod(self.alphas)

    @property
    def alphas_cumprod_prev(self) -> np.ndarray:
        """``abar_{t-1}`` with ``abar_{-1} = 1``, float64 (n_steps,)."""
        return np.concatenate([[1.0], self.alphas_cumprod[:-1]])  # (n_steps,)

    @property
    def sqrt_alphas_cumprod(self) -> np.ndarray:
        """``sqrt(abar_t)``, float64 (n_steps,)."""
        return np.sqrt(self.alphas_cumprod)

    @property
    def sqrt_one_minus_alphas_cumprod(self) -> np.ndarray:
        """``sqrt(1 - abar_t)``, float64 (n_steps,)."""
        return np.sqrt(1.0 - self.alphas_cumprod)

    @property
    def posterior_variance(self) -> np.ndarray:
        """Variance of q(x_{t-1} | x_t, x0), Ho et al. (2020) eq. 7, float64."""
        abar = self.alphas_cumprod
        return (1.0 - self.alphas_cumprod_prev) / (1.0 - abar) * self.betas

    def gather(self, name: str, t: Tensor, like: Tensor) -> Tensor:
        """Per-row values of a per-step array, ready to broadcast against ``like``.

        Parameters
        ----------
        name : str
            One of ``"betas"``, ``"alphas"``, ``"alphas_cumprod"``,
            ``"alphas_cumprod_prev"``, ``"sqrt_alphas_cumprod"``,
            ``"sqrt_one_minus_alphas_cumprod"``, ``"posterior_variance"``.
        t : Tensor of shape (B,), int dtype
            Step index of each batch row, in ``[0, n_steps)``. The range is
            checked for CPU tensors only (checking it on an accelerator would force
            a host-device sync).
        like : Tensor of shape (B, ...)
            Gives the device and the number of dimensions of the result.

        Returns
        -------
        values : Tensor of shape (B, 1, ..., 1), float32
            ``like.ndim`` dimensions, on ``like.device``.

        Raises
        ------
        ValueError
            On an unknown name, mismatched batch sizes or an out-of-range step.
        TypeError
            If ``t`` is not an integer tensor.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import NoiseSchedule
        >>> schedule = NoiseSchedule.from_name("linear", 4, 0.1, 0.4)  # betas 0.1..0.4
        >>> x = torch.zeros(2, 5, 6)  # (B, K, L)
        >>> abar = schedule.gather("alphas_cumprod", torch.tensor([0, 3]), x)
        >>> abar.shape, abar.dtype
        (torch.Size([2, 1, 1]), torch.float32)
        >>> [round(v, 4) for v in abar.flatten().tolist()]
        [0.9, 0.3024]
        >>> schedule.gather("betas", torch.tensor([4, 0]), x)
        Traceback (most recent call last):
        ...
        ValueError: step indices must lie in [0, 4), got [0, 4]
        """
        if name not in _GATHERABLE:
            raise ValueError(f"unknown schedule array {name!r}; known: {_GATHERABLE}")
        _check_steps_tensor(t, self.n_steps)
        if not isinstance(like, Tensor) or like.ndim == 0:
            raise TypeError("like must be a tensor with a leading batch axis")
        if like.shape[0] != t.shape[0]:
            raise ValueError(
                f"t has {t.shape[0]} rows but like has batch size {like.shape[0]}"
            )
        values = self._table(name, like.device)[t.to(like.device, torch.long)]  # (B,)
        return values.reshape(-1, *([1] * (like.ndim - 1)))  # (B, 1, ..., 1)

    # -- the interface shared with the continuous-time processes (tsdiff.diffusion.sde)

    def draw_times(
        self, n: int, generator: torch.Generator | None, device: torch.device
    ) -> Tensor:
        """Training steps ``t ~ U{0, ..., n_steps - 1}``, shape (n,), long.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import NoiseSchedule
        >>> schedule = NoiseSchedule.from_name("quad", 50)
        >>> cpu = torch.device("cpu")
        >>> t = schedule.draw_times(1000, torch.Generator().manual_seed(0), cpu)
        >>> t.shape, t.dtype
        (torch.Size([1000]), torch.int64)
        >>> int(t.min()) >= 0, int(t.max()) < schedule.n_steps
        (True, True)
        >>> again = schedule.draw_times(1000, torch.Generator().manual_seed(0), cpu)
        >>> torch.equal(t, again)  # the generator alone decides the draw
        True
        """
        return torch.randint(0, self.n_steps, (n,), generator=generator, device=device)

    def add_noise(self, x0: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        """``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps`` row by row (Ho et al. 2020,
        eq. 4); ``x0`` and ``eps`` of shape (B, K, L), ``t`` step indices of shape (B,).

        Examples
        --------
        With ``x0 = 1`` and ``eps = 0`` the result is the signal scale
        ``sqrt(abar_t)``: nearly 1 at the first step, nearly 0 at the last.

        >>> import torch
        >>> from tsdiff.diffusion import NoiseSchedule
        >>> schedule = NoiseSchedule.from_name("quad", 50)
        >>> x0, eps = torch.ones(3, 3, 4), torch.zeros(3, 3, 4)
        >>> x_t = schedule.add_noise(x0, torch.tensor([0, 25, 49]), eps)
        >>> x_t.shape
        torch.Size([3, 3, 4])
        >>> [round(v, 3) for v in x_t[:, 0, 0].tolist()]
        [1.0, 0.531, 0.006]
        """
        signal, noise = self.scales(t, x0)
        return signal * x0 + noise * eps

    def scales(self, t: Tensor, like: Tensor) -> tuple[Tensor, Tensor]:
        """``(sqrt(abar_t), sqrt(1 - abar_t))`` per row, each of shape (B, 1, 1).

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import NoiseSchedule
        >>> schedule = NoiseSchedule.from_name("quad", 50)
        >>> t = torch.tensor([0, 25, 49])
        >>> signal, noise = schedule.scales(t, torch.zeros(3, 2, 8))
        >>> signal.shape
        torch.Size([3, 1, 1])
        >>> bool(torch.allclose(signal**2 + noise**2, torch.ones(3, 1, 1)))  # VP
        True
        """
        return (
            self.gather("sqrt_alphas_cumprod", t, like),
            self.gather("sqrt_one_minus_alphas_cumprod", t, like),
        )

    def input_scale(self, t: Tensor, like: Tensor) -> None:
        """None: ``x_t`` has the scale of the data at every step (variance
        preserving), so the network reads it as it is.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import NoiseSchedule
        >>> schedule = NoiseSchedule.from_name("quad", 50)
        >>> print(schedule.input_scale(torch.tensor([0, 49]), torch.zeros(2, 3, 4)))
        None
        """
        return None

    def noise_level(self, t: Tensor) -> Tensor:
        """The network's conditioning value: the step index as a float (CSDI).

        Examples
        --------
        >>> import torch
        >>> from tsdiff.diffusion import NoiseSchedule
        >>> schedule = NoiseSchedule.from_name("quad", 50)
        >>> level = schedule.noise_level(torch.tensor([0, 10, 49]))
        >>> level.tolist(), level.dtype
        ([0.0, 10.0, 49.0], torch.float32)
        """
        return t.float()

    def identity(self) -> bytes:
        """What a training checkpoint must match: the betas.

        Examples
        --------
        >>> from tsdiff.diffusion import NoiseSchedule
        >>> quad = NoiseSchedule.from_name("quad", 50)
        >>> len(quad.identity())  # 50 float64 betas
        400
        >>> quad.identity() == NoiseSchedule.from_name("quad", 50).identity()
        True
        >>> quad.identity() == NoiseSchedule.from_name("linear", 50).identity()
        False
        """
        return np.ascontiguousarray(self.betas).tobytes()

    def _table(self, name: str, device: torch.device) -> Tensor:
        """float32 copy of a per-step array on ``device``, cached.

        Cached because a fresh host-to-device copy per training step would block
        the host on the accelerator's queue every batch.
        """
        key = (name, str(device))
        if key not in self._tables:
            self._tables[key] = torch.tensor(
                getattr(self, name), dtype=torch.float32, device=device
            )  # (n_steps,)
        return self._tables[key]


def _check_steps_tensor(t: Tensor, n_steps: int) -> None:
    """Validate a (B,) tensor of step indices without syncing an accelerator."""
    if not isinstance(t, Tensor):
        raise TypeError(f"t must be a tensor, got {type(t).__name__}")
    if t.dtype == torch.bool or t.is_floating_point() or t.is_complex():
        raise TypeError(f"t must hold integer step indices, got {t.dtype}")
    if t.ndim != 1:
        raise ValueError(f"t must have shape (B,), got {tuple(t.shape)}")
    if t.device.type == "cpu" and t.numel() > 0:
        low, high = int(t.min()), int(t.max())
        if low < 0 or high >= n_steps:
            raise ValueError(
                f"step indices must lie in [0, {n_steps}), got [{low}, {high}]"
            )
