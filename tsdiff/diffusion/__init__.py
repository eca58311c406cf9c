"""Diffusion engine: noise schedules and continuous-time processes, the forward
process and reverse samplers.

This subpackage never imports :mod:`tsdiff.nn`; it reaches the network only
through a ``denoise(x_t, t) -> eps_hat`` callable on (B, K, L) tensors.
"""

from tsdiff.diffusion._points import StartedProcess, start_at_ratio
from tsdiff.diffusion.families import (
    ALL_SAMPLERS,
    PROCESS_NAMES,
    check_pair,
    default_sampler,
    default_steps,
    get_sampler,
    make_process,
    nfe,
    sampler_options,
)
from tsdiff.diffusion.process import (
    LOSSES,
    PARAMETERIZATIONS,
    Denoise,
    Process,
    add_noise,
    as_eps_predictor,
    eps_loss,
    loss_weights,
)
from tsdiff.diffusion.samplers import (
    SAMPLERS,
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
from tsdiff.diffusion.sde import PROCESSES, VESDE, VPSDE, SDEProcess, SubVPSDE
from tsdiff.diffusion.sde_samplers import (
    SDE_SAMPLERS,
    sample_annealed_langevin,
    sample_euler_maruyama,
    sample_heun,
    sample_pc,
)

__all__ = [
    "StartedProcess",
    "ALL_SAMPLERS",
    "PROCESSES",
    "PROCESS_NAMES",
    "Process",
    "SDEProcess",
    "SDE_SAMPLERS",
    "SubVPSDE",
    "VESDE",
    "VPSDE",
    "check_pair",
    "default_sampler",
    "default_steps",
    "make_process",
    "nfe",
    "sampler_options",
    "sample_annealed_langevin",
    "sample_euler_maruyama",
    "sample_heun",
    "sample_pc",
    "LOSSES",
    "PARAMETERIZATIONS",
    "as_eps_predictor",
    "SAMPLERS",
    "SCHEDULES",
    "Denoise",
    "NoiseSchedule",
    "add_noise",
    "eps_loss",
    "loss_weights",
    "get_sampler",
    "make_betas",
    "register_schedule",
    "sample_ddim",
    "sample_dpmpp_2m",
    "sample_ddpm",
    "start_at_ratio",
    "timesteps",
]
