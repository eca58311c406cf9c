"""Which processes exist, how an estimator builds one, and which samplers fit it.

``"ddpm"``, ``"ddim"`` and ``"dpmpp_2m"`` need only the scales ``alpha`` and
``sigma`` at their points, so they sample every process: the discrete DDPM chain
(:class:`NoiseSchedule`) and the continuous-time processes of
:mod:`tsdiff.diffusion.sde`. The SDE solvers ``"euler_maruyama"``, ``"pc"`` and
``"heun"`` need the drift and diffusion of a continuous process, and
``"annealed_langevin"`` a variance-exploding one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from torch import Tensor

from tsdiff.diffusion.process import Process
from tsdiff.diffusion.samplers import SAMPLERS
from tsdiff.diffusion.schedules import NoiseSchedule
from tsdiff.diffusion.sde import PROCESSES
from tsdiff.diffusion.sde_samplers import SDE_SAMPLERS

__all__ = [
    "ALL_SAMPLERS",
    "PROCESS_NAMES",
    "check_pair",
    "default_sampler",
    "default_steps",
    "get_sampler",
    "make_process",
    "nfe",
]

PROCESS_NAMES = ("ddpm", *PROCESSES)
"""``"ddpm"`` (discrete, CSDI's) and the continuous ``"vp"``, ``"subvp"``, ``"ve"``."""

ALL_SAMPLERS: dict[str, Callable[..., Tensor]] = {**SAMPLERS, **SDE_SAMPLERS}
"""Every sampler by name; :func:`check_pair` says which process each one fits."""


def make_process(
    name: str, *, n_steps: int, schedule: str, beta_start: float, beta_end: float
) -> Process:
    """The process ``name`` of :data:`PROCESS_NAMES`; the other arguments describe the
    DDPM chain and are ignored by the continuous processes (which use their
    published defaults).

    Examples
    --------
    >>> from tsdiff.diffusion import make_process
    >>> chain = dict(n_steps=50, schedule="quad", beta_start=1e-4, beta_end=0.5)
    >>> ddpm = make_process("ddpm", **chain)
    >>> type(ddpm).__name__, ddpm.n_steps
    ('NoiseSchedule', 50)
    >>> make_process("ve", **chain)  # the chain's settings are ignored
    VESDE(sigma_min=0.01, sigma_max=50.0, t_min=0.0)
    >>> make_process("edm", **chain)
    Traceback (most recent call last):
    ...
    ValueError: unknown process 'edm'; known: ('ddpm', 'vp', 'subvp', 've')
    """
    if name == "ddpm":
        return NoiseSchedule.from_name(schedule, n_steps, beta_start, beta_end)
    if name not in PROCESSES:
        raise ValueError(f"unknown process {name!r}; known: {PROCESS_NAMES}")
    return PROCESSES[name]()


def get_sampler(name: str) -> Callable[..., Tensor]:
    """Look up a sampler of any process by name.

    Parameters
    ----------
    name : str
        A key of :data:`ALL_SAMPLERS`.

    Returns
    -------
    sampler : callable

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the known samplers.

    Examples
    --------
    >>> from tsdiff.diffusion import ALL_SAMPLERS, get_sampler, sample_heun
    >>> get_sampler("heun") is sample_heun
    True
    >>> len(ALL_SAMPLERS)
    7
    >>> get_sampler("euler")
    Traceback (most recent call last):
    ...
    ValueError: unknown sampler 'euler'; known samplers: ['annealed_langevin', ...]
    """
    if name not in ALL_SAMPLERS:
        raise ValueError(
            f"unknown sampler {name!r}; known samplers: {sorted(ALL_SAMPLERS)}"
        )
    return ALL_SAMPLERS[name]


def sampler_options(name: str, options: dict) -> dict:
    """The entries of ``options`` that the sampler ``name`` takes.

    Every sampler declares its options as keyword-only arguments of its signature
    (``sampling_steps``, ``eta``, ``corrector_steps``, ...); this is the one place
    that reads them, so a caller holding options for many samplers passes each
    sampler its own. An option set to None is left to the sampler's default.

    Examples
    --------
    >>> from tsdiff.diffusion import sampler_options
    >>> sampler_options("ddim", {"sampling_steps": 10, "eta": 0.5})
    {'sampling_steps': 10, 'eta': 0.5}
    >>> sampler_options("ddpm", {"sampling_steps": None, "eta": 0.5})
    {}
    """
    parameters = inspect.signature(get_sampler(name)).parameters
    return {
        key: value
        for key, value in options.items()
        if value is not None
        and key in parameters
        and parameters[key].kind is inspect.Parameter.KEYWORD_ONLY
    }


def default_sampler(process: str) -> str:
    """The sampler used when none is chosen: DPM-Solver++(2M) (``"dpmpp_2m"``, 10
    steps by default) for every process.

    The default follows the NFE curves of ``benchmarks/nfe_curves.py``. On the
    chain it came within 3.3 % of 50 ancestral steps at 10 network evaluations on
    PM2.5 and PhysioNet, with the best calibrated intervals of the 10-evaluation
    samplers. On the continuous processes it was 1.2 % and 0.6 % ahead of 50
    Euler–Maruyama steps of the VP and sub-VP models on PM2.5 (3 % behind for VE),
    where the SDE solvers need 20 evaluations or more to come close. Models saved
    before this default with a continuous process and ``sampler=None`` sampled
    with 100 Euler–Maruyama steps; ``set_params(sampler="euler_maruyama")`` brings
    that back.

    Examples
    --------
    >>> from tsdiff.diffusion import PROCESS_NAMES, default_sampler
    >>> PROCESS_NAMES
    ('ddpm', 'vp', 'subvp', 've')
    >>> [default_sampler(process) for process in PROCESS_NAMES]
    ['dpmpp_2m', 'dpmpp_2m', 'dpmpp_2m', 'dpmpp_2m']
    >>> default_sampler("edm")
    Traceback (most recent call last):
    ...
    ValueError: unknown process 'edm'; known: ('ddpm', 'vp', 'subvp', 've')
    """
    if process not in PROCESS_NAMES:
        raise ValueError(f"unknown process {process!r}; known: {PROCESS_NAMES}")
    return "dpmpp_2m"


SOLVER_STEPS = 10
"""Default steps of ``"dpmpp_2m"`` in the estimators (see :func:`default_steps`)."""


def default_steps(sampler: str, n_steps: int | None) -> int | None:
    """The estimators' number of steps when ``sampling_steps=None``.

    ``"dpmpp_2m"`` takes :data:`SOLVER_STEPS` (10) steps, or every step of a shorter
    chain: a second-order solver is meant for few steps, and on the PM2.5 benchmark
    more did not improve it. Every other sampler returns None, its own default
    (the whole chain for "ddpm" and "ddim", 50 steps on a continuous process; see
    the SDE samplers for theirs).

    Parameters
    ----------
    sampler : str
        A key of :data:`ALL_SAMPLERS`.
    n_steps : int or None
        Length of the DDPM chain; None for a continuous process.

    Examples
    --------
    >>> default_steps("dpmpp_2m", 50), default_steps("dpmpp_2m", 4)
    (10, 4)
    >>> default_steps("dpmpp_2m", None)  # a continuous process
    10
    >>> default_steps("ddpm", 50) is None
    True
    """
    get_sampler(sampler)  # known at all?
    if sampler != "dpmpp_2m":
        return None
    return SOLVER_STEPS if n_steps is None else min(SOLVER_STEPS, n_steps)


def check_pair(process: str, sampler: str) -> None:
    """Raise a ``ValueError`` naming the fitting samplers unless ``sampler`` can
    sample ``process``.

    Examples
    --------
    >>> from tsdiff.diffusion import check_pair
    >>> check_pair("ve", "annealed_langevin")  # fits: returns None
    >>> check_pair("vp", "dpmpp_2m")  # the chain's samplers fit every process
    >>> check_pair("ddpm", "heun")
    Traceback (most recent call last):
    ...
    ValueError: sampler='heun' cannot sample process='ddpm'; its samplers are ...
    >>> try:
    ...     check_pair("vp", "annealed_langevin")  # needs alpha = 1 (VE only)
    ... except ValueError as error:
    ...     print(str(error).split("; ")[-1])
    its samplers are ('ddpm', 'ddim', 'dpmpp_2m', 'euler_maruyama', 'pc', 'heun').
    """
    get_sampler(sampler)  # known at all?
    if process == "ddpm":
        fitting = tuple(SAMPLERS)
    else:
        # Annealed Langevin needs alpha = 1 (see sample_annealed_langevin).
        fitting = tuple(
            s for s in ALL_SAMPLERS if process == "ve" or s != "annealed_langevin"
        )
    if sampler not in fitting:
        raise ValueError(
            f"sampler={sampler!r} cannot sample process={process!r}; its samplers are "
            f"{fitting}."
        )


def nfe(sampler: str, sampling_steps: int, **options: int) -> int:
    """Network evaluations per sample of ``sampler`` run for ``sampling_steps`` steps
    (``options``: ``corrector_steps`` of "pc", ``langevin_steps`` of
    "annealed_langevin", at their defaults when absent).

    Examples
    --------
    >>> nfe("ddim", 10), nfe("heun", 5), nfe("pc", 10), nfe("annealed_langevin", 3)
    (10, 10, 20, 30)
    """
    get_sampler(sampler)  # known at all?
    per_step = {
        "pc": 1 + options.get("corrector_steps", 1),
        "heun": 2,
        "annealed_langevin": options.get("langevin_steps", 10),
    }.get(sampler, 1)
    return per_step * sampling_steps
