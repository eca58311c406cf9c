"""Pieces shared by the baseline estimators: defaults, seeds and the predictive
distributions behind quantiles and samples. (What they share with the diffusion
estimators lives in :mod:`tsdiff.estimation`.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.validation import InstanceOf, Interval

DEFAULT_QUANTILE_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
"""Default ``alpha`` of ``predict_quantiles``; the diffusion estimators' default."""

RANDOM_STATE = [
    None,
    Interval(int, 0, None),
    InstanceOf(
        (np.random.RandomState, np.random.Generator), "a RandomState or Generator"
    ),
]


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
