"""Declarative validation of estimator parameters, with messages that name the
parameter, and the bookkeeping of what ``fit`` saw (stored parameters, feature names,
variables without a single observed value)."""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tsdiff.data import MASK_STRATEGIES
from tsdiff.diffusion import (
    ALL_SAMPLERS,
    LOSSES,
    PARAMETERIZATIONS,
    PROCESS_NAMES,
    SCHEDULES,
)
from tsdiff.engine import COMPILE_MODES, LR_SCHEDULES
from tsdiff.frames import SeriesArrays

__all__ = [
    "DIFFUSION_PARAMETERS",
    "FREQ",
    "POSITIVE_INT",
    "DeviceSpec",
    "InstanceOf",
    "Interval",
    "Levels",
    "Options",
    "check_alpha",
    "check_coverage",
    "check_observed",
    "check_latent_dim",
    "check_patch_length",
    "check_positive_int",
    "set_feature_info",
    "store_params",
    "validate_params",
]


@dataclass(frozen=True)
class Interval:
    """A real or integer range; ``closed`` says which ends are included."""

    kind: type
    left: float | None
    right: float | None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is of the right kind and lies in the range."""
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if self.kind is float and not isinstance(value, numbers.Real):
            return False
        if not np.isfinite(value):
            return False
        left_ok = self.left is None or (
            value >= self.left if self.closed in ("both", "left") else value > self.left
        )
        right_ok = self.right is None or (
            value <= self.right
            if self.closed in ("both", "right")
            else value < self.right
        )
        return left_ok and right_ok

    def __str__(self) -> str:
        lo = "-inf" if self.left is None else self.left
        hi = "inf" if self.right is None else self.right
        lb = "[" if self.closed in ("both", "left") and self.left is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        return f"{'an int' if self.kind is int else 'a float'} in {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of string values."""

    values: tuple

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is one of the options."""
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class InstanceOf:
    """Any instance of the given types."""

    types: tuple
    description: str

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is an instance of the types (bools excluded from ints)."""
        if isinstance(value, (bool, np.bool_)) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.description


POSITIVE_INT = Interval(int, 1, None)
"""Constraint of a parameter that must be a positive int."""


class Levels:
    """Accepts a non-empty tuple or list of distinct floats in (0, 1)."""

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a valid sequence of quantile levels."""
        if not isinstance(value, (tuple, list)):
            return False
        try:
            check_alpha(value)
        except (TypeError, ValueError):
            return False
        return True

    def __str__(self) -> str:
        return "a non-empty tuple of distinct floats in (0, 1)"


class CalendarSpec:
    """Accepts "auto" and a tuple or list of distinct calendar feature names."""

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` names calendar features."""
        from tsdiff.estimation.covariates import CALENDAR_FEATURES

        if value == "auto":
            return True
        return (
            isinstance(value, (tuple, list))
            and len(value) > 0
            and len(set(value)) == len(value)
            and all(isinstance(v, str) and v in CALENDAR_FEATURES for v in value)
        )

    def __str__(self) -> str:
        from tsdiff.estimation.covariates import CALENDAR_FEATURES

        return f"'auto' or a tuple of distinct names among {list(CALENDAR_FEATURES)}"


class LagSpec:
    """Accepts "auto" and a non-empty tuple or list of distinct positive ints."""

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` gives seasonal lags."""
        if isinstance(value, str):
            return value == "auto"
        return (
            isinstance(value, (tuple, list))
            and len(value) > 0
            and len(set(value)) == len(value)
            and all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                for v in value
            )
        )

    def __str__(self) -> str:
        return "'auto' or a tuple of distinct positive ints"


class OddInt:
    """Accepts odd positive ints."""

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is an odd positive int."""
        return (
            isinstance(value, numbers.Integral)
            and not isinstance(value, bool)
            and value >= 1
            and value % 2 == 1
        )

    def __str__(self) -> str:
        return "an odd int >= 1"


class DeviceSpec:
    """Accepts "auto", "cpu", "cuda" and "cuda:N"."""

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` names a device."""
        return isinstance(value, str) and bool(
            re.fullmatch(r"auto|cpu|cuda(:\d+)?", value)
        )

    def __str__(self) -> str:
        return "'auto', 'cpu', 'cuda' or 'cuda:N'"


def validate_params(estimator: Any, constraints: dict[str, list]) -> None:
    """Check every parameter of ``estimator`` against its list of accepted constraints.

    Parameters
    ----------
    estimator : object
        The estimator whose attributes are checked.
    constraints : dict of str to list
        For each parameter name, the constraints of which at least one must accept the
        value; ``None`` in the list accepts ``None``.

    Raises
    ------
    ValueError
        Naming the first parameter whose value no constraint accepts.
    """
    for name, accepted in constraints.items():
        value = getattr(estimator, name)
        if any(c is None and value is None for c in accepted):
            continue
        if any(c is not None and c.accepts(value) for c in accepted):
            continue
        described = " or ".join("None" if c is None else str(c) for c in accepted)
        raise ValueError(
            f"The {name!r} parameter of {type(estimator).__name__} must be "
            f"{described}. Got {value!r} instead."
        )


def _levels(values: Any, name: str) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(
            f"{name} must be a float or a sequence of floats; got {values!r}."
        )
    items = list(values) if isinstance(values, Iterable) else [values]
    if not items:
        raise ValueError(f"{name} must not be empty.")
    out = []
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must hold floats; got {v!r}.")
        v = float(v)
        if not 0.0 < v < 1.0:
            raise ValueError(f"Every value of {name} must lie in (0, 1); got {v!r}.")
        out.append(v)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has repeated values: {out}.")
    return tuple(out)


def check_alpha(alpha: Any) -> tuple[float, ...]:
    """Return quantile levels as a tuple of floats in (0, 1).

    Parameters
    ----------
    alpha : float or sequence of float
        Quantile levels.

    Returns
    -------
    tuple of float
    """
    return _levels(alpha, "alpha")


def check_coverage(coverage: Any) -> tuple[float, ...]:
    """Return interval coverages as a tuple of floats in (0, 1).

    Parameters
    ----------
    coverage : float or sequence of float
        Nominal coverages of central prediction intervals.

    Returns
    -------
    tuple of float
    """
    return _levels(coverage, "coverage")


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int, raising ValueError/TypeError unless it is >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int; got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")
    return int(value)


FREQ = [None, InstanceOf((str, pd.offsets.BaseOffset), "a frequency string")]
"""Constraints of the ``freq`` parameter."""


def store_params(estimator: Any, arguments: dict) -> None:
    """Store ``__init__`` arguments verbatim, as scikit-learn requires."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def set_feature_info(estimator: Any, arrays: SeriesArrays) -> None:
    """Store the variables seen in fit, following scikit-learn's conventions."""
    estimator.columns_ = arrays.columns
    estimator.n_features_in_ = len(arrays.columns)
    names = list(arrays.columns)
    if arrays.kind == "frame" and all(isinstance(c, str) for c in names):
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def check_observed(
    arrays: SeriesArrays, name: str | None = None, remedy: str = "fill it first"
) -> None:
    """Raise ValueError for variables without a single observed value.

    ``name`` (the argument, e.g. "y") and ``remedy`` (the advice at the end) word
    the message.
    """
    columns, observed = arrays.columns, arrays.observed_mask
    empty = [c for c, obs in zip(columns, observed.T, strict=True) if not obs.any()]
    if empty:
        of = "" if name is None else f" of {name}"
        raise ValueError(
            f"Columns {empty}{of} have no observed value; a variable needs at least "
            f"one value to be modelled (drop it, or {remedy})."
        )


_QUANTILE_METHODS = (
    "linear", "inverted_cdf", "averaged_inverted_cdf", "closest_observation",
    "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
    "normal_unbiased", "lower", "higher", "midpoint", "nearest",
)  # fmt: skip

DIFFUSION_PARAMETERS: dict = {
    "n_layers": [POSITIVE_INT],
    "n_channels": [POSITIVE_INT],
    "n_heads": [POSITIVE_INT],
    "time_embedding_dim": [Interval(int, 2, None)],
    "feature_embedding_dim": [POSITIVE_INT],
    "diffusion_embedding_dim": [Interval(int, 2, None)],
    "patch_length": [POSITIVE_INT],
    "latent_dim": [None, POSITIVE_INT],
    "patch_width": [POSITIVE_INT],
    "time_kernel": [OddInt()],
    "process": [Options(PROCESS_NAMES)],
    "n_diffusion_steps": [POSITIVE_INT],
    "schedule": [Options(tuple(SCHEDULES))],
    "beta_start": [Interval(float, 0, 1, "neither")],
    "beta_end": [Interval(float, 0, 1, "neither")],
    "parameterization": [Options(PARAMETERIZATIONS)],
    "loss": [Options(LOSSES)],
    "center_windows": [InstanceOf((bool,), "a bool")],
    "scale_windows": [InstanceOf((bool,), "a bool")],
    "lags": [None, LagSpec()],
    "interpolated_input": [InstanceOf((bool,), "a bool")],
    "target_strategy": [Options(tuple(MASK_STRATEGIES))],
    "unconditional_share": [Interval(float, 0, 1, "left")],
    "scaler": [Options(("standard", "robust", "none"))],
    "n_epochs": [POSITIVE_INT],
    "steps_per_epoch": [None, POSITIVE_INT],
    "batch_size": [Options(("auto",)), POSITIVE_INT],
    "learning_rate": [Interval(float, 0, None, "neither")],
    "lr_schedule": [Options(LR_SCHEDULES)],
    "weight_decay": [Interval(float, 0, None, "left")],
    "validation_fraction": [Interval(float, 0, 1, "left")],
    "early_stopping_patience": [None, POSITIVE_INT],
    "ema_decay": [None, Interval(float, 0, 1, "neither")],
    "max_grad_norm": [None, Interval(float, 0, None, "neither")],
    "mixed_precision": [InstanceOf((bool,), "a bool")],
    "compile": [InstanceOf((bool,), "a bool"), Options(("auto", *COMPILE_MODES))],
    "checkpoint_path": [None, InstanceOf((str, os.PathLike), "a path")],
    "max_fit_time": [None, Interval(float, 0, None, "neither")],
    "num_samples": [POSITIVE_INT],
    "sampler": [None, Options(tuple(ALL_SAMPLERS))],
    "sampling_steps": [None, POSITIVE_INT],
    "eta": [Interval(float, 0, 1)],
    "quantile_levels": [Levels()],
    "quantile_method": [Options(_QUANTILE_METHODS)],
    "freq": FREQ,
    "device": [DeviceSpec()],
    "predict_batch_size": [Options(("auto",)), POSITIVE_INT],
    "random_state": [
        None,
        Interval(int, 0, 2**32 - 1),
        InstanceOf((np.random.RandomState,), "a RandomState"),
    ],
    "verbose": [InstanceOf((bool, numbers.Integral), "a bool")],
}
"""Constraints of the parameters both diffusion estimators take; each adds its own."""


def check_patch_length(name: str, patch_length: int, window: int, parts: str) -> None:
    """Raise a ``ValueError`` unless ``patch_length`` divides the ``window`` steps
    that the parameters ``parts`` set (so it cannot exceed them either)."""
    if window % patch_length:
        raise ValueError(
            f"The 'patch_length' parameter of {name} must divide the window of "
            f"{window} steps ({parts}) into whole patches. Got {patch_length} "
            "instead."
        )


def check_latent_dim(
    name: str, latent_dim: int | None, patch_length: int, patch_width: int = 1
) -> None:
    """Raise a ``ValueError`` when the latent of a patch would hold more values
    than the patch itself (the autoencoder compresses, it does not expand), or
    when patches span several variables without a latent to compress them."""
    if latent_dim is None and patch_width > 1:
        raise ValueError(
            f"The 'patch_width' parameter of {name} needs latent_dim: patches of "
            "several variables exist only in the latent space of the "
            f"autoencoder. Got patch_width={patch_width} with latent_dim=None."
        )
    cells = patch_length * patch_width
    if latent_dim is not None and latent_dim > cells:
        raise ValueError(
            f"The 'latent_dim' parameter of {name} must be at most "
            f"patch_length * patch_width={cells}: the autoencoder compresses "
            f"every patch of patch_length steps of patch_width variables into "
            f"latent_dim values. Got {latent_dim} instead."
        )
