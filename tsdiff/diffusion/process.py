"""Forward noising and the masked epsilon-prediction objective, for every process.

A process is the discrete DDPM chain (:class:`NoiseSchedule`, ``t`` a (B,) long
tensor of step indices) or a continuous-time SDE (:class:`SDEProcess`, ``t`` a (B,)
float tensor of times); both give ``draw_times``, ``add_noise``, ``scales``,
``input_scale`` and ``noise_level``, which is all this module uses. The network is
reached only through a ``denoise(x_t, t) -> eps_hat`` callable on tensors of shape
(B, K, L); the engine binds the conditioning (values, mask, side information) into
it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from tsdiff.diffusion.schedules import NoiseSchedule
from tsdiff.diffusion.sde import SDEProcess

__all__ = ["LOSSES", "Denoise", "Process", "add_noise", "eps_loss", "loss_weights"]

Denoise = Callable[[Tensor, Tensor], Tensor]
"""``denoise(x_t: (B, K, L) float, t: (B,) step or time) -> eps_hat: (B, K, L)``."""

Process = NoiseSchedule | SDEProcess
"""A forward process: the discrete DDPM chain or a continuous-time SDE."""


def add_noise(schedule: Process, x0: Tensor, t: Tensor, eps: Tensor) -> Tensor:
    """Sample q(x_t | x0) by reparameterisation, Ho et al. (2020) eq. 4.

    Parameters
    ----------
    schedule : NoiseSchedule or SDEProcess
        The forward process.
    x0 : Tensor of shape (B, K, L)
        Clean data.
    t : Tensor of shape (B,)
        Step index of each row, in ``[0, schedule.n_steps)`` (integer dtype), or
        for an SDE its time in ``[t_min, 1]``.
    eps : Tensor of shape (B, K, L)
        Standard normal noise.

    Returns
    -------
    x_t : Tensor of shape (B, K, L)
        ``alpha_t * x0 + sigma_t * eps``; for DDPM ``alpha_t = sqrt(abar_t)`` and
        ``sigma_t = sqrt(1 - abar_t)``.

    Raises
    ------
    ValueError
        If the shapes disagree or a step is out of range.
    TypeError
        If ``t`` is not an integer tensor.

    Examples
    --------
    >>> schedule = NoiseSchedule.from_name("quad", 50)
    >>> x0 = torch.ones(2, 3, 4)
    >>> x_t = add_noise(schedule, x0, torch.tensor([0, 49]), torch.zeros(2, 3, 4))
    >>> x_t.shape
    torch.Size([2, 3, 4])
    """
    _check_float_tensor("x0", x0)
    if not isinstance(eps, Tensor) or eps.shape != x0.shape:
        raise ValueError(
            f"eps must be a tensor shaped like x0 {tuple(x0.shape)}, got "
            f"{tuple(eps.shape) if isinstance(eps, Tensor) else type(eps).__name__}"
        )
    return schedule.add_noise(x0, t, eps)


PARAMETERIZATIONS = ("epsilon", "v")


def as_eps_predictor(
    model: Denoise, schedule: Process, parameterization: str
) -> Denoise:
    """Read a network's raw output as an epsilon prediction.

    ``"epsilon"`` takes the output as is (CSDI). ``"v"`` reads it as the velocity
    ``v = a eps - s x0`` of Salimans & Ho (2022), ``a = alpha / r``, ``s = sigma / r``
    with ``r = sqrt(alpha^2 + sigma^2)`` (1 for variance-preserving processes), so
    that ``eps_hat = s x_t / r + a v_hat``: the implied ``x0_hat`` no longer
    amplifies network error by ``1 / alpha`` (about 170x at the last step of CSDI's
    schedule), which keeps samplers stable with an imperfect network. Training
    scores the epsilon error of :func:`eps_loss`, optionally weighted into the
    velocity error (``loss="v"``, :func:`loss_weights`).

    Where the process's ``input_scale`` is not None (the continuous-time
    processes), the network reads ``x_t / r``, values of unit scale at every noise
    level (Karras et al. 2022's ``c_in``).

    Parameters
    ----------
    model : callable
        ``model(x_t, t) -> output`` on (B, K, L) tensors, t of shape (B,).
    schedule : NoiseSchedule or SDEProcess
        The forward process.
    parameterization : {"epsilon", "v"}
        How to read the output.

    Returns
    -------
    callable
        ``denoise(x_t, t) -> eps_hat`` of shape (B, K, L).

    Examples
    --------
    An epsilon network on the DDPM chain is used as it is. Read as a velocity, a
    network that outputs 0 predicts ``eps_hat = sigma_t x_t``: almost nothing at
    the first step, all of ``x_t`` at the last, where ``x_t`` is nearly pure noise.

    >>> import torch
    >>> from tsdiff.diffusion import VESDE, NoiseSchedule, as_eps_predictor
    >>> schedule = NoiseSchedule.from_name("quad", 50)
    >>> def zeros(x, t):
    ...     return torch.zeros_like(x)
    >>> as_eps_predictor(zeros, schedule, "epsilon") is zeros
    True
    >>> denoise = as_eps_predictor(zeros, schedule, "v")
    >>> eps_hat = denoise(torch.ones(2, 1, 3), torch.tensor([0, 49]))
    >>> [round(v, 4) for v in eps_hat[:, 0, 0].tolist()]
    [0.01, 1.0]

    On the VE process the network reads ``x_t / sqrt(1 + sigma^2)``, here
    ``10 / sqrt(101)`` at t = 1:

    >>> process = VESDE(sigma_min=0.01, sigma_max=10.0)
    >>> seen = as_eps_predictor(lambda x, t: x, process, "epsilon")
    >>> round(float(seen(torch.full((1, 1, 2), 10.0), torch.tensor([1.0]))[0, 0, 0]), 4)
    0.995
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"unknown parameterization {parameterization!r}; known: {PARAMETERIZATIONS}"
        )

    def denoise(x_t: Tensor, t: Tensor) -> Tensor:
        scale = schedule.input_scale(t, x_t)  # None or (B, 1, 1)
        x_in = x_t if scale is None else x_t / scale
        out = model(x_in, t)
        if parameterization == "epsilon":
            return out
        alpha, sigma = schedule.scales(t, x_t)  # (B, 1, 1) each
        if scale is not None:
            alpha, sigma = alpha / scale, sigma / scale
        return sigma * x_in + alpha * out

    if parameterization == "epsilon" and isinstance(schedule, NoiseSchedule):
        return model  # nothing to rescale or convert
    return denoise


LOSSES = ("epsilon", "v")
"""Training losses: the squared error of the noise ("epsilon", CSDI's) or of the
velocity ("v"), see :func:`loss_weights`."""


def loss_weights(schedule: Process, t: Tensor, loss: str, like: Tensor) -> Tensor:
    """Per-row factor that turns the squared noise error into the chosen loss.

    With ``a = alpha / r`` and ``r = sqrt(alpha^2 + sigma^2)``, a velocity read out
    as in :func:`as_eps_predictor` has error ``eps_hat - eps = a (v_hat - v)``, so
    the velocity loss is the noise loss times ``1 / a^2 = 1 + 1 / SNR``
    (``SNR = alpha^2 / sigma^2``): Salimans & Ho (2022)'s "SNR+1" weighting of the
    clean-data error. The noise loss gives the noisiest levels a weight of about
    ``SNR`` in clean-data terms (3e-5 at the last step of CSDI's schedule), which
    leaves the clean-data estimate there nearly untrained; few-step samplers jump
    from exactly that estimate.

    Parameters
    ----------
    schedule : NoiseSchedule or SDEProcess
        The forward process.
    t : Tensor of shape (B,)
        Steps or times of the rows.
    loss : {"epsilon", "v"}
        The loss (:data:`LOSSES`).
    like : Tensor of shape (B, ...)
        Gives the dtype and device of the result.

    Returns
    -------
    weights : Tensor of shape (B, 1, 1)
        Ones for ``"epsilon"``; ``1 + 1 / SNR`` for ``"v"``.

    Examples
    --------
    >>> from tsdiff.diffusion import NoiseSchedule
    >>> schedule = NoiseSchedule.from_name("quad", 50)
    >>> t = torch.tensor([0, 49])
    >>> loss_weights(schedule, t, "v", torch.zeros(2, 3, 8)).flatten()
    tensor([1.0001e+00, 2.9814e+04])
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {LOSSES}")
    if loss == "epsilon":
        return like.new_ones((t.shape[0], 1, 1))
    alpha, sigma = schedule.scales(t, like)  # (B, 1, 1) each
    return (alpha.square() + sigma.square()) / alpha.square()


def eps_loss(
    denoise: Denoise,
    schedule: Process,
    x0: Tensor,
    target_mask: Tensor,
    *,
    loss: str = "epsilon",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Masked epsilon-prediction loss of CSDI (Tashiro et al., 2021; Ho et al., 2020).

    Draws one step ``t ~ U{0, ..., n_steps - 1}`` per row (for an SDE one time
    ``t ~ U(t_min, 1)``), then ``eps ~ N(0, I)`` (in that order, both from
    ``generator`` on ``x0.device``), noises ``x0`` and scores the squared error of
    ``denoise(x_t, t)`` against ``eps`` on target entries only, weighted per row by
    :func:`loss_weights`. For the VE process the unweighted loss is denoising score
    matching with Song & Ermon's weight ``sigma^2``.

    Parameters
    ----------
    denoise : callable
        ``denoise(x_t, t) -> eps_hat``, shapes (B, K, L), (B,) -> (B, K, L).
    schedule : NoiseSchedule or SDEProcess
        The forward process.
    x0 : Tensor of shape (B, K, L), floating
        Clean data (values at non-target entries are only passed through).
    target_mask : Tensor of shape (B, K, L), bool or float 0/1
        Entries that are scored (observed and not given to the model).
    loss : {"epsilon", "v"}, default="epsilon"
        Which error is minimised (:func:`loss_weights`).
    generator : torch.Generator, optional
        Source of randomness, on the same device type as ``x0``; ``None`` uses
        torch's default generator.

    Returns
    -------
    loss : Tensor of shape ()
        ``sum(target_mask * w * (eps_hat - eps)^2) / max(sum(target_mask), 1)``
        with ``w`` the row's weight, in float32 or wider; 0 when no entry is a
        target.

    Raises
    ------
    ValueError
        If shapes disagree or the generator is on another device type.
    TypeError
        If ``denoise`` is not callable or ``x0`` is not a floating tensor.

    Examples
    --------
    For data that are all zero, ``x_t = sigma_t eps``, so ``x_t / sigma_t`` is a
    perfect prediction (loss 0), while predicting 0 scores about ``E[eps^2] = 1``;
    without target entries the loss is 0.

    >>> import torch
    >>> from tsdiff.diffusion import NoiseSchedule, eps_loss
    >>> schedule = NoiseSchedule.from_name("quad", 50)
    >>> x0 = torch.zeros(4, 2, 32)
    >>> target = torch.ones(4, 2, 32, dtype=torch.bool)
    >>> def oracle(x_t, t):
    ...     return x_t / schedule.gather("sqrt_one_minus_alphas_cumprod", t, x_t)
    >>> g = torch.Generator().manual_seed(0)
    >>> loss = eps_loss(oracle, schedule, x0, target, generator=g)
    >>> loss.shape, float(loss) < 1e-10
    (torch.Size([]), True)
    >>> def zero(x_t, t):
    ...     return torch.zeros_like(x_t)
    >>> 0.5 < float(eps_loss(zero, schedule, x0, target, generator=g)) < 1.5
    True
    >>> eps_loss(zero, schedule, x0, torch.zeros_like(target), generator=g)
    tensor(0.)
    """
    if not callable(denoise):
        raise TypeError("denoise must be callable as denoise(x_t, t)")
    _check_float_tensor("x0", x0)
    _check_same_shape("target_mask", target_mask, x0)
    _check_generator(generator, x0.device)
    t = schedule.draw_times(x0.shape[0], generator, x0.device)  # (B,)
    eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    x_t = add_noise(schedule, x0, t, eps)  # (B, K, L)
    eps_hat = denoise(x_t, t)
    _check_same_shape("denoise output", eps_hat, x0)
    # Score in at least float32: under bf16 autocast eps_hat may be bf16.
    dtype = torch.promote_types(x0.dtype, torch.float32)
    weights = loss_weights(schedule, t, loss, x0).to(dtype)  # (B, 1, 1)
    squared = weights * (eps_hat.to(dtype) - eps.to(dtype)).square()  # (B, K, L)
    is_target = target_mask.bool()  # float 0/1 masks are accepted too
    # where, not multiply: a NaN/inf predicted at a non-target entry must not leak.
    total = torch.where(is_target, squared, squared.new_zeros(())).sum()
    # clamp instead of max(): keeps the count on device (no host sync per batch).
    return total / is_target.sum().to(dtype).clamp_min(1.0)


def _check_float_tensor(name: str, value: object) -> None:
    if not isinstance(value, Tensor) or not value.is_floating_point():
        kind = value.dtype if isinstance(value, Tensor) else type(value).__name__
        raise TypeError(f"{name} must be a floating-point tensor, got {kind}")
    if value.ndim == 0:
        raise ValueError(f"{name} needs a leading batch axis, got a 0-d tensor")


def _check_same_shape(name: str, value: object, reference: Tensor) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(value).__name__}")
    if value.shape != reference.shape:
        raise ValueError(
            f"{name} has shape {tuple(value.shape)}, expected {tuple(reference.shape)}"
        )


def _check_generator(generator: torch.Generator | None, device: torch.device) -> None:
    """Fail early, with a clear message, when the generator lives elsewhere."""
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator, got {type(generator).__name__}"
        )
    if generator.device.type != device.type:
        raise ValueError(
            f"generator is on {generator.device} but the tensors are on {device}"
        )
