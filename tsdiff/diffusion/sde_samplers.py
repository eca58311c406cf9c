"""Samplers of the continuous-time processes of :mod:`tsdiff.diffusion.sde`.

Each is a ``@torch.no_grad()`` function ``sampler(denoise, process, x_cond,
cond_mask, *, sampling_steps, generator=None, ...)``, where ``denoise(x_t, t)``
predicts ``eps`` for tensors of shape (B, K, L) at float times ``t`` of shape (B,),
and the score is ``-eps / sigma(t)``. Sampling starts from ``N(0, prior_std^2 I)``
at t = 1 and walks the process's time grid down to ``t_min``; the conditioning
values are re-imposed after every update, so the result equals ``x_cond`` bit for
bit on ``cond_mask`` entries.

* :func:`sample_euler_maruyama`: the reverse-time SDE (Anderson 1982; Song et al.
  2021, eq. 6) by Euler–Maruyama, one network evaluation (NFE) per step;
* :func:`sample_pc`: predictor–corrector, Euler–Maruyama plus Langevin corrector
  steps with a signal-to-noise step rule (Song et al. 2021, Algorithms 2–3);
* :func:`sample_heun`: the probability-flow ODE (Song et al. 2021, eq. 13) by Heun's
  second-order method (Karras et al. 2022, Algorithm 1), two NFE per step;
* :func:`sample_annealed_langevin`: annealed Langevin dynamics over the noise levels
  of the time grid (Song & Ermon 2019, Algorithm 1), NCSN's native sampler.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from tsdiff.diffusion._checks import check_inputs, check_int, checked_output
from tsdiff.diffusion._points import unwrap
from tsdiff.diffusion.process import Denoise
from tsdiff.diffusion.sde import SDEProcess

__all__ = [
    "SDE_SAMPLERS",
    "sample_annealed_langevin",
    "sample_euler_maruyama",
    "sample_heun",
    "sample_pc",
]


class _Walk:
    """What every sampler shares: inputs checked once, the start draw, network calls
    at a host-side time, and re-imposing the conditioning."""

    def __init__(self, denoise, process, x_cond, cond_mask, steps, generator):
        check_inputs(denoise, x_cond, cond_mask, generator)
        process, start, self.state = unwrap(process)
        if not isinstance(process, SDEProcess):
            raise TypeError(
                f"process must be an SDEProcess, got {type(process).__name__}"
            )
        start = 1.0 if start is None else float(start)
        self.times = process.time_grid(check_int("sampling_steps", steps), start=start)
        self.process = process
        self.denoise, self.x_cond, self.cond_mask = denoise, x_cond, cond_mask
        self.generator = generator
        self.shape, self.device = x_cond.shape, x_cond.device

    def start(self) -> Tensor:
        if self.state is not None:  # a run started part-way
            return self.keep(self.state.to(self.x_cond.dtype))
        return self.keep(self.process.prior_std * self.noise())

    def noise(self) -> Tensor:
        return torch.randn(
            self.shape,
            generator=self.generator,
            device=self.device,
            dtype=self.x_cond.dtype,
        )

    def eps(self, x: Tensor, t: float) -> Tensor:
        t_batch = torch.full((self.shape[0],), t, device=self.device)  # (B,)
        return checked_output(self.denoise(x, t_batch), self.shape).to(x.dtype)

    def keep(self, x: Tensor) -> Tensor:
        return torch.where(self.cond_mask, self.x_cond, x)  # (B, K, L)

    def coefficients(self, t: float) -> tuple[float, float, float]:
        """``(f(t), g(t)^2, sigma(t))`` as host floats."""
        t = np.array(t)
        process = self.process
        return (
            float(process.drift(t)),
            float(process.diffusion_squared(t)),
            float(process.sigma(t)),
        )


@torch.no_grad()
def sample_euler_maruyama(
    denoise: Denoise,
    process: SDEProcess,
    x_cond: Tensor,
    cond_mask: Tensor,
    *,
    sampling_steps: int = 100,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Integrate the reverse-time SDE ``dx = [f x - g^2 score] dt + g dW`` backwards.

    Each step from t to ``s = t - h`` is ``x <- x - (f x + g^2 eps / sigma) h +
    g sqrt(h) z``; the last step adds no noise (it returns the step's mean).

    Parameters
    ----------
    denoise : callable
        ``denoise(x_t, t) -> eps_hat``, shapes (B, K, L), (B,) float -> (B, K, L).
    process : SDEProcess
        The forward process the network was trained on.
    x_cond : Tensor of shape (B, K, L), floating
        Conditioning values (anything at the other entries).
    cond_mask : Tensor of shape (B, K, L), bool
        True where ``x_cond`` is given.
    sampling_steps : int, default=100
        Steps (= NFE per sample).
    generator : torch.Generator, optional
        Source of randomness on ``x_cond``'s device.

    Returns
    -------
    Tensor of shape (B, K, L)
        One draw per row, equal to ``x_cond`` on ``cond_mask``.

    Examples
    --------
    For data that are all zero ``x_t = sigma(t) eps``, so ``x_t / sigma(t)`` is the
    exact noise prediction: 50 Euler–Maruyama steps of the VE process bring a draw
    from noise of scale 50 to about 0 wherever no value is given, and the given
    values (the first four steps of each series) are kept exactly.

    >>> import torch
    >>> from tsdiff.diffusion import VESDE, sample_euler_maruyama
    >>> process = VESDE()
    >>> def denoise(x_t, t):
    ...     return x_t / process.sigma(t)[:, None, None]
    >>> x_cond = torch.zeros(2, 3, 8)
    >>> x_cond[..., :4] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    >>> cond_mask = torch.zeros(2, 3, 8, dtype=torch.bool)
    >>> cond_mask[..., :4] = True
    >>> g = torch.Generator().manual_seed(0)
    >>> x0 = sample_euler_maruyama(denoise, process, x_cond, cond_mask,
    ...                            sampling_steps=50, generator=g)
    >>> x0.shape
    torch.Size([2, 3, 8])
    >>> torch.equal(x0[cond_mask], x_cond[cond_mask])
    True
    >>> bool(x0[~cond_mask].abs().max() < 0.1)
    True
    """
    walk = _Walk(denoise, process, x_cond, cond_mask, sampling_steps, generator)
    return _reverse_sde(walk, x=walk.start(), corrector_steps=0, snr=0.0)


@torch.no_grad()
def sample_pc(
    denoise: Denoise,
    process: SDEProcess,
    x_cond: Tensor,
    cond_mask: Tensor,
    *,
    sampling_steps: int = 100,
    corrector_steps: int = 1,
    snr: float = 0.16,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Predictor–corrector sampling: at each time, ``corrector_steps`` Langevin steps
    ``x <- x + e * score + sqrt(2 e) z``, then one Euler–Maruyama step.

    The step ``e = 2 (snr * sigma(t))^2`` is Song et al.'s signal-to-noise rule
    ``e = 2 (snr |z| / |score|)^2`` with the score's norm at its typical value
    ``|eps| / sigma``, ``|eps| = |z|``: one rule for every row, so that a draw does not
    depend on the other rows of its batch (Song et al. average the norms over the
    batch) nor jump far where a row's score happens to be small.

    Parameters
    ----------
    denoise, process, x_cond, cond_mask, generator
        As in :func:`sample_euler_maruyama`.
    sampling_steps : int, default=100
        Predictor steps; NFE per sample is ``sampling_steps * (1 + corrector_steps)``.
    corrector_steps : int, default=1
        Langevin steps before each predictor step.
    snr : float, default=0.16
        Signal-to-noise ratio of the corrector (Song et al.'s value for CIFAR-10).

    Returns
    -------
    Tensor of shape (B, K, L)

    Examples
    --------
    For data that are all zero ``x_t = sigma(t) eps``, so ``x_t / sigma(t)`` is the
    exact noise prediction: 50 predictor steps, each after one corrector step (100
    NFE), bring a draw from noise of scale 50 to about 0 wherever no value is
    given, and the given values (the first four steps of each series) are kept
    exactly.

    >>> import torch
    >>> from tsdiff.diffusion import VESDE, sample_pc
    >>> process = VESDE()
    >>> def denoise(x_t, t):
    ...     return x_t / process.sigma(t)[:, None, None]
    >>> x_cond = torch.zeros(2, 3, 8)
    >>> x_cond[..., :4] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    >>> cond_mask = torch.zeros(2, 3, 8, dtype=torch.bool)
    >>> cond_mask[..., :4] = True
    >>> g = torch.Generator().manual_seed(0)
    >>> x0 = sample_pc(denoise, process, x_cond, cond_mask, sampling_steps=50,
    ...                corrector_steps=1, generator=g)
    >>> x0.shape
    torch.Size([2, 3, 8])
    >>> torch.equal(x0[cond_mask], x_cond[cond_mask])
    True
    >>> bool(x0[~cond_mask].abs().max() < 0.1)
    True
    """
    corrector_steps = check_int("corrector_steps", corrector_steps)
    if corrector_steps < 0 or not snr > 0:
        raise ValueError(
            f"corrector_steps must be >= 0 and snr > 0, got {corrector_steps}, {snr}"
        )
    walk = _Walk(denoise, process, x_cond, cond_mask, sampling_steps, generator)
    return _reverse_sde(walk, walk.start(), corrector_steps, snr)


def _reverse_sde(walk: _Walk, x: Tensor, corrector_steps: int, snr: float) -> Tensor:
    times = walk.times
    for i, (t, s) in enumerate(zip(times[:-1], times[1:], strict=True)):
        f, g2, sigma = walk.coefficients(t)
        step = 2.0 * (snr * sigma) ** 2
        for _ in range(corrector_steps):
            score = -walk.eps(x, t) / sigma
            x = walk.keep(x + step * score + (2.0 * step) ** 0.5 * walk.noise())
        h = t - s
        eps = walk.eps(x, t)
        x = (1.0 - f * h) * x - (g2 * h / sigma) * eps
        if i < len(times) - 2:  # the last step returns the mean
            x = x + (g2 * h) ** 0.5 * walk.noise()
        x = walk.keep(x)
    return x


@torch.no_grad()
def sample_heun(
    denoise: Denoise,
    process: SDEProcess,
    x_cond: Tensor,
    cond_mask: Tensor,
    *,
    sampling_steps: int = 25,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Solve the probability-flow ODE ``dx/dt = f x - g^2 score / 2`` with Heun's
    method: an Euler step, then the average of the slopes at both ends.

    Deterministic given the start draw. NFE per sample is ``2 * sampling_steps``.

    Parameters
    ----------
    denoise, process, x_cond, cond_mask, generator
        As in :func:`sample_euler_maruyama` (the generator draws the start only).
    sampling_steps : int, default=25
        Heun steps.

    Returns
    -------
    Tensor of shape (B, K, L)

    Examples
    --------
    For data that are all zero ``x_t = sigma(t) eps``, so ``x_t / sigma(t)`` is the
    exact noise prediction: 25 Heun steps of the VE process's probability-flow ODE
    bring a draw from noise of scale 50 to about 0 wherever no value is given, and
    the given values (the first four steps of each series) are kept exactly.

    >>> import torch
    >>> from tsdiff.diffusion import VESDE, sample_heun
    >>> process = VESDE()
    >>> def denoise(x_t, t):
    ...     return x_t / process.sigma(t)[:, None, None]
    >>> x_cond = torch.zeros(2, 3, 8)
    >>> x_cond[..., :4] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    >>> cond_mask = torch.zeros(2, 3, 8, dtype=torch.bool)
    >>> cond_mask[..., :4] = True
    >>> g = torch.Generator().manual_seed(0)
    >>> x0 = sample_heun(denoise, process, x_cond, cond_mask, sampling_steps=25,
    ...                  generator=g)
    >>> x0.shape
    torch.Size([2, 3, 8])
    >>> torch.equal(x0[cond_mask], x_cond[cond_mask])
    True
    >>> bool(x0[~cond_mask].abs().max() < 0.1)
    True
    """
    walk = _Walk(denoise, process, x_cond, cond_mask, sampling_steps, generator)
    times = walk.times
    x = walk.start()

    def slope(x: Tensor, t: float) -> Tensor:
        f, g2, sigma = walk.coefficients(t)
        return f * x + (0.5 * g2 / sigma) * walk.eps(x, t)

    for t, s in zip(times[:-1], times[1:], strict=True):
        d_t = slope(x, t)
        x_euler = walk.keep(x + (s - t) * d_t)
        x = walk.keep(x + (s - t) * 0.5 * (d_t + slope(x_euler, s)))
    return x


@torch.no_grad()
def sample_annealed_langevin(
    denoise: Denoise,
    process: SDEProcess,
    x_cond: Tensor,
    cond_mask: Tensor,
    *,
    sampling_steps: int = 10,
    langevin_steps: int = 10,
    step_size: float = 0.2,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Annealed Langevin dynamics: for each noise level ``sigma_i`` of the time grid
    (largest first, the start time excluded), ``langevin_steps`` steps
    ``x <- x + a_i score / 2 + sqrt(a_i) z`` with ``a_i = step_size * sigma_i^2``.

    The levels of the VE process are NCSN's geometric sequence, and this is Song &
    Ermon's rule ``a_i = epsilon * sigma_i^2 / sigma_L^2`` with ``step_size =
    epsilon / sigma_L^2`` (their 2e-5 at ``sigma_L = 0.01`` is 0.2). Only processes
    with ``alpha = 1`` are accepted: where the signal scale changes with t (VP,
    sub-VP) the small late steps cannot move the samples' mean along with it.

    Parameters
    ----------
    denoise, process, x_cond, cond_mask, generator
        As in :func:`sample_euler_maruyama`.
    sampling_steps : int, default=10
        Noise levels; NFE per sample is ``sampling_steps * langevin_steps``.
    langevin_steps : int, default=10
        Langevin steps per level.
    step_size : float, default=0.2
        Langevin step relative to the level's variance ``sigma_i^2``.

    Returns
    -------
    Tensor of shape (B, K, L)

    Raises
    ------
    ValueError
        If ``process`` is not variance exploding.

    Examples
    --------
    For data that are all zero ``x_t = sigma(t) eps``, so ``x_t / sigma(t)`` is the
    exact noise prediction: 10 Langevin steps at each of 10 noise levels bring a
    draw from noise of scale 50 to about 0 wherever no value is given, and the
    given values (the first four steps of each series) are kept exactly.

    >>> import torch
    >>> from tsdiff.diffusion import VESDE, sample_annealed_langevin
    >>> process = VESDE()
    >>> def denoise(x_t, t):
    ...     return x_t / process.sigma(t)[:, None, None]
    >>> x_cond = torch.zeros(2, 3, 8)
    >>> x_cond[..., :4] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    >>> cond_mask = torch.zeros(2, 3, 8, dtype=torch.bool)
    >>> cond_mask[..., :4] = True
    >>> g = torch.Generator().manual_seed(0)
    >>> x0 = sample_annealed_langevin(denoise, process, x_cond, cond_mask,
    ...                               generator=g)
    >>> x0.shape
    torch.Size([2, 3, 8])
    >>> torch.equal(x0[cond_mask], x_cond[cond_mask])
    True
    >>> bool(x0[~cond_mask].abs().max() < 0.1)
    True

    A process that shrinks the signal is refused:

    >>> from tsdiff.diffusion import VPSDE
    >>> sample_annealed_langevin(denoise, VPSDE(), x_cond, cond_mask)
    Traceback (most recent call last):
    ...
    ValueError: annealed Langevin sampling needs a variance-exploding process ...
    """
    langevin_steps = check_int("langevin_steps", langevin_steps)
    if langevin_steps < 1 or not step_size > 0:
        raise ValueError(
            f"langevin_steps must be >= 1 and step_size > 0, got {langevin_steps}, "
            f"{step_size}"
        )
    walk = _Walk(denoise, process, x_cond, cond_mask, sampling_steps, generator)
    process = walk.process  # the process itself, also of a started run
    if not np.allclose(process.alpha(walk.times), 1.0):
        raise ValueError(
            "annealed Langevin sampling needs a variance-exploding process (alpha = 1, "
            f"e.g. VESDE); {type(process).__name__} shrinks the signal, which "
            "Langevin steps at small noise cannot follow: use 'pc' or "
            "'euler_maruyama' instead."
        )
    x = walk.start()
    for t in walk.times[1:]:
        sigma = float(process.sigma(np.array(t)))
        a = step_size * sigma**2
        for _ in range(langevin_steps):
            score = -walk.eps(x, t) / sigma
            x = walk.keep(x + 0.5 * a * score + a**0.5 * walk.noise())
    return x


SDE_SAMPLERS: dict[str, Callable[..., Tensor]] = {
    "euler_maruyama": sample_euler_maruyama,
    "pc": sample_pc,
    "heun": sample_heun,
    "annealed_langevin": sample_annealed_langevin,
}
"""Samplers of continuous-time processes, sharing the ``(denoise, process, x_cond,
cond_mask, *, sampling_steps, generator, ...)`` signature."""
