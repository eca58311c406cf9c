"""Quantiles and central intervals from Monte-Carlo samples, as every estimator
(diffusion and baseline alike) reports them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsdiff.estimation.validation import check_coverage
from tsdiff.frames import interval_frame

__all__ = [
    "band_levels",
    "interval_levels",
    "interval_table",
    "monotone_quantiles",
    "sample_quantiles",
]


def monotone_quantiles(quantiles: np.ndarray, alpha: tuple) -> np.ndarray:
    """Quantiles of shape (Q, ...) in the order of ``alpha``, made non-decreasing in
    the level."""
    order = np.argsort(np.asarray(alpha, dtype=np.float64))
    q = np.maximum.accumulate(quantiles[order], axis=0)
    return q[np.argsort(order)]


def sample_quantiles(
    samples: np.ndarray, alpha: tuple, method: str = "linear"
) -> np.ndarray:
    """Quantiles of shape (Q, ...) over the sample axis, monotone in the level.

    ``method`` is that of :func:`numpy.quantile`.
    """
    levels = np.asarray(alpha, dtype=np.float64)
    q = np.quantile(samples, levels, axis=0, method=method)  # (Q, ...)
    return monotone_quantiles(q, alpha)


def interval_levels(coverage: tuple) -> tuple:
    """Quantile levels of central intervals: every lower bound, then every upper."""
    return (*[(1 - c) / 2 for c in coverage], *[(1 + c) / 2 for c in coverage])


def band_levels(coverage: Any) -> tuple:
    """Sorted quantile levels of the central intervals ``coverage`` and the median,
    the levels a fan chart draws."""
    levels = {0.5, *interval_levels(check_coverage(coverage))}
    return tuple(sorted(round(v, 10) for v in levels))


def interval_table(
    quantiles: np.ndarray, index: pd.Index, columns: pd.Index, coverage: tuple
) -> pd.DataFrame:
    """Interval frame from quantiles of shape (2C, T, K) at :func:`interval_levels`."""
    n_c = len(coverage)
    return interval_frame(quantiles[:n_c], quantiles[n_c:], index, columns, coverage)
