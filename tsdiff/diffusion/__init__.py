"""Diffusion engine: noise schedules, the forward process and reverse samplers.

This subpackage never imports :mod:`tsdiff.nn`; it reaches the network only
through a ``denoise(x_t, t) -> eps_hat`` callable on (B, K, L) tensors.
"""

from tsdiff.diffusion.process import (
    PARAMETERIZATIONS,
    Denoise,
    add_noise,
    as_eps_predictor,
    eps_loss,
)
from tsdiff.diffusion.samplers import (
    SAMPLERS,
    get_sampler,
    sample_ddim,
    sample_ddpm,
    sample_dpmpp_2m,
    timesteps,
)
from tsdiff.diffusion.schedules import (
    SCHEDULES,
    NoiseSchedule,
    make_betas,
    register_schedule,
)

__all__ = [
    "PARAMETERIZATIONS",
    "as_eps_predictor",
    "SAMPLERS",
    "SCHEDULES",
    "Denoise",
    "NoiseSchedule",
    "add_noise",
    "eps_loss",
    "get_sampler",
    "make_betas",
    "register_schedule",
    "sample_ddim",
    "sample_dpmpp_2m",
    "sample_ddpm",
    "timesteps",
]
