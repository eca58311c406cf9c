"""Pieces every estimator shares, the diffusion estimators and the baselines alike:
parameter storage, feature bookkeeping, the observed-column check and quantiles or
intervals from samples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsdiff._validation import InstanceOf
from tsdiff.frames import SeriesArrays, interval_frame

__all__ = [
    "FREQ",
    "check_observed",
    "band_levels",
    "interval_levels",
    "interval_table",
    "monotone_quantiles",
    "sample_quantiles",
    "set_feature_info",
    "store_params",
]

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
    from tsdiff._validation import check_coverage

    levels = {0.5, *interval_levels(check_coverage(coverage))}
    return tuple(sorted(round(v, 10) for v in levels))


def interval_table(
    quantiles: np.ndarray, index: pd.Index, columns: pd.Index, coverage: tuple
) -> pd.DataFrame:
    """Interval frame from quantiles of shape (2C, T, K) at :func:`interval_levels`."""
    n_c = len(coverage)
    return interval_frame(quantiles[:n_c], quantiles[n_c:], index, columns, coverage)
