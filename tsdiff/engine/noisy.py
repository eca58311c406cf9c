"""Sampling from values measured with Gaussian noise (denoising, after SDEdit, Meng
et al. 2022).

Values ``y = x0 + s eps`` with a known noise size ``s`` per variable are not held
fixed, as given values are: they are the state of the forward process at the point
whose noise-to-signal ratio ``sigma / alpha`` first reaches ``s``. Scaled by
``alpha`` there, and with noise added to the variables of smaller ``s`` up to that
ratio ``r``, ``alpha (y + sqrt(r^2 - s^2) eps')`` has exactly the law of ``x_t``
given ``x0``, so a stochastic reverse process from that point draws from the
model's posterior of the clean values given ``y`` (for variables of smaller ``s``,
given ``y`` made noisier up to ``r``: the price of one start for all). No value is
then held fixed:
the network reads a window with nothing given, and every noisy value enters
through the start. A cell with no value starts from the linear interpolation of
its variable's values, as if measured with noise ``r``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tsdiff.diffusion import Process, StartedProcess, start_at_ratio
from tsdiff.nn.inputs import interpolate_given

__all__ = ["noisy_start"]


def noisy_start(
    process: Process,
    values: Tensor,
    measured: Tensor,
    noise_std: Tensor,
    generator: torch.Generator | None,
) -> StartedProcess:
    """The started reverse run of windows measured with noise.

    Parameters
    ----------
    process : NoiseSchedule or SDEProcess
        The trained process.
    values : Tensor of shape (B, K, L)
        The measured values in the model's frame; read only where ``measured``.
    measured : Tensor of shape (B, K, L), bool
    noise_std : Tensor of shape (B, K, 1)
        The noise's standard deviation per window and variable, in the same
        frame.
    generator : torch.Generator or None
        Source of the added noise.

    Returns
    -------
    StartedProcess
        At the least noisy point whose ratio reaches the largest ``noise_std``,
        from the state described in the module docstring.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.diffusion import NoiseSchedule
    >>> from tsdiff.engine.noisy import noisy_start
    >>> chain = NoiseSchedule.from_name("quad", 50)
    >>> values = torch.zeros(2, 3, 8)
    >>> measured = torch.ones(2, 3, 8, dtype=torch.bool)
    >>> start = noisy_start(chain, values, measured, torch.full((2, 3, 1), 0.5),
    ...                     torch.Generator().manual_seed(0))
    >>> start.time, start.state.shape
    (14, torch.Size([2, 3, 8]))
    """
    time, alpha, ratio = start_at_ratio(process, float(noise_std.max()))
    guess = interpolate_given(torch.where(measured, values, 0.0), measured)
    # Noise to add: up to the ratio r where measured, r itself where not.
    added = torch.where(
        measured, (ratio**2 - noise_std.square()).clamp(min=0.0).sqrt(), ratio
    )  # (B, K, L)
    eps = torch.randn(
        values.shape, generator=generator, device=values.device, dtype=values.dtype
    )
    return StartedProcess(process, time, alpha * (guess + added * eps))
