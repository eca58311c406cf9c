"""Pieces shared by the baseline estimators: parameter constraints, seeds, feature
bookkeeping and the predictive distributions behind quantiles and samples."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from tsdiff._validation import InstanceOf, Interval, check_alpha
from tsdiff.frames import SeriesArrays

DEFAULT_QUANTILE_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
"""Default ``alpha`` of ``predict_quantiles``; the diffusion estimators' default."""


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


POSITIVE_INT = Interval(int, 1, None)
RANDOM_STATE = [
    None,
    Interval(int, 0, None),
    InstanceOf(
        (np.random.RandomState, np.random.Generator), "a RandomState or Generator"
    ),
]
FREQ = [None, InstanceOf((str, pd.offsets.BaseOffset), "a frequency string")]


def store_params(estimator: Any, arguments: dict) -> None:
    """Store ``__init__`` arguments verbatim, as scikit-learn requires."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def draw_seed(random_state: Any) -> int:
    """An int seed drawn from None, an int, a RandomState or a Generator."""
    accepted = RANDOM_STATE[1:]
    if random_state is not None and not any(c.accepts(random_state) for c in accepted):
        raise TypeError(
            "random_state must be None, a non-negative int, a RandomState or a "
            f"Generator; got {random_state!r}."
        )
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(np.random.default_rng(random_state).integers(0, 2**63 - 1))


def set_feature_info(estimator: Any, arrays: SeriesArrays) -> None:
    """Store the variables seen in fit, following scikit-learn's conventions."""
    estimator.columns_ = arrays.columns
    estimator.n_features_in_ = len(arrays.columns)
    names = list(arrays.columns)
    if arrays.kind == "frame" and all(isinstance(c, str) for c in names):
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def check_observed(arrays: SeriesArrays, name: str) -> None:
    """Raise ValueError for variables without a single observed value."""
    empty = [
        c
        for c, obs in zip(arrays.columns, arrays.observed_mask.T, strict=True)
        if not obs.any()
    ]
    if empty:
        raise ValueError(
            f"Columns {empty} of {name} have no observed value; a variable needs at "
            "least one value to be modelled (drop it, or fill it first)."
        )


def check_num_samples(num_samples: Any) -> int:
    """Return ``num_samples`` as a positive int, raising ValueError/TypeError."""
    if isinstance(num_samples, (bool, np.bool_)) or not isinstance(
        num_samples, numbers.Integral
    ):
        raise TypeError(f"num_samples must be a positive int; got {num_samples!r}.")
    if num_samples < 1:
        raise ValueError(f"num_samples must be a positive int; got {num_samples!r}.")
    return int(num_samples)


def sample_quantiles(samples: np.ndarray, alpha: tuple) -> np.ndarray:
    """Quantiles of shape (Q, ...) over the sample axis, monotone in the level."""
    levels = np.asarray(alpha, dtype=np.float64)
    order = np.argsort(levels)
    q = np.quantile(samples, levels[order], axis=0)
    q = np.maximum.accumulate(q, axis=0)
    return q[np.argsort(order)]


# -- predictive distributions of one variable over a horizon of H steps --------------


@dataclass(frozen=True)
class Gaussian:
    """Independent Gaussian marginals per step: ``mean`` and ``std`` of shape (H,)."""

    mean: np.ndarray
    std: np.ndarray

    def quantiles(self, alpha: tuple) -> np.ndarray:
        """Quantiles of shape (Q, H); the 0.5 quantile is exactly ``mean``."""
        z = ndtri(np.asarray(alpha, dtype=np.float64))  # (Q,)
        return self.mean + self.std * z[:, None]

    def sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        """Marginal draws of shape (num_samples, H) (not joint paths)."""
        eps = rng.standard_normal((num_samples, len(self.mean)))
        return self.mean + self.std * eps


@dataclass(frozen=True)
class ScaledResiduals:
    """``point + scale * e`` with ``e`` from the empirical residual distribution."""

    point: np.ndarray  # (H,)
    scale: np.ndarray  # (H,)
    residuals: np.ndarray  # (R,)

    def quantiles(self, alpha: tuple) -> np.ndarray:
        """Quantiles of shape (Q, H) from residual quantiles (numpy "linear")."""
        q = np.quantile(self.residuals, np.asarray(alpha, dtype=np.float64))  # (Q,)
        return self.point + self.scale * q[:, None]

    def sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        """Marginal draws of shape (num_samples, H): residuals resampled per step."""
        draws = rng.choice(self.residuals, size=(num_samples, len(self.point)))
        return self.point + self.scale * draws


@dataclass(frozen=True)
class SimulatedPaths:
    """A distribution known through simulation: ``paths`` of shape (R, H) give the
    quantiles, ``simulate(num_samples, rng) -> (num_samples, H)`` gives fresh paths."""

    paths: np.ndarray
    simulate: Any

    def quantiles(self, alpha: tuple) -> np.ndarray:
        """Quantiles of shape (Q, H) of the simulated paths."""
        return sample_quantiles(self.paths, alpha)

    def sample(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
        """Joint paths of shape (num_samples, H)."""
        return self.simulate(num_samples, rng)
