"""Stretching forecast samples about their median by calibration factors.

A factor array of shape (H, K) (or (K,)) stretches every sample of a cell by the
same amount. One of shape (G, H, K) holds a factor per central level of
:func:`stretch_levels`, so that intervals of every width can be set, not only
the one the calibration targets: each sample is stretched by the factor of its
level in the cell. The rank ``i`` of ``S`` samples sits at quantile level
``q = i / (S - 1)`` (numpy's linear method) and central level ``|2 q - 1|``; it
takes the factor of the next rank outward, so that both samples that bracket a
quantile of the target interval take the target's factor and that interval is
stretched exactly as by a single factor.
"""

from __future__ import annotations

import numpy as np

from tsdiff.estimation.quantiles import sample_quantiles

__all__ = ["stretch_levels", "widen"]

LEVEL_GRID = np.arange(1, 10) / 10
"""Central interval levels below the target at which factors of their own are
found."""


def stretch_levels(coverage: float) -> np.ndarray:
    """Central levels of the leading axis of by-level factors: every tenth below
    ``coverage``, then ``coverage`` itself (wider levels take its factor).

    Examples
    --------
    >>> from tsdiff.estimation.stretching import stretch_levels
    >>> stretch_levels(0.9).tolist()
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    >>> stretch_levels(0.25).tolist()
    [0.1, 0.2, 0.25]
    """
    below = LEVEL_GRID[LEVEL_GRID < coverage - 1e-9]
    return np.append(below, float(coverage))


def widen(
    samples: np.ndarray,
    factors: np.ndarray,
    method: str = "linear",
    levels: np.ndarray | None = None,
) -> np.ndarray:
    """Samples stretched about their per-cell median (by quantile ``method``).

    Parameters
    ----------
    samples : ndarray of shape (S, ..., H, K)
        Draws of each cell along the first axis.
    factors : ndarray of shape (G, H, K), (H, K) or (K,)
        Factors per central level of ``levels``, horizon step and variable; or
        one factor for every level (2-D or 1-D, as files from before by-level
        factors hold).
    method : str, default="linear"
        Quantile method of :func:`numpy.quantile` for the median.
    levels : ndarray of shape (G,) or None
        Increasing central levels of a 3-D ``factors`` (:func:`stretch_levels`);
        a sample between two takes the linear interpolation of their factors,
        one outside them the nearest.

    Returns
    -------
    ndarray of the shape of ``samples``
        With 2-D or 1-D factors, quantiles of the result are those of
        ``samples`` stretched the same way. With 3-D factors each sample keeps
        its rank in its cell: a stretched distance from the median that would
        fall inside that of a sample nearer the median is raised to it.
    """
    factors = np.asarray(factors)
    # In the wider dtype throughout: a float32 median would move the boundary of
    # a calibrated interval by more than the factors' rounding margin.
    samples = np.asarray(samples, dtype=np.result_type(samples, factors))
    median = sample_quantiles(samples, (0.5,), method)[0]  # (..., H, K)
    if factors.ndim < 3:
        return median + factors * (samples - median)
    if levels is None or len(levels) != len(factors):
        raise ValueError("by-level factors need their central levels")
    n_s = len(samples)
    order = np.argsort(samples, axis=0, kind="stable")
    ranked = np.take_along_axis(samples, order, axis=0)  # ascending per cell
    position = np.arange(n_s) / max(n_s - 1, 1)  # (S,) quantile level of each rank
    outward = np.abs(2 * position - 1) + 2 / max(n_s - 1, 1)  # next rank's level
    at = np.interp(outward, levels, np.arange(len(levels)))  # (S,) fractional
    low = np.floor(at).astype(int)
    high = np.minimum(low + 1, len(levels) - 1)
    weight = (at - low)[:, None, None]
    per_rank = (1 - weight) * factors[low] + weight * factors[high]  # (S, H, K)
    shape = (n_s,) + (1,) * (samples.ndim - 3) + per_rank.shape[1:]
    offset = per_rank.reshape(shape) * (ranked - median)  # (S, ..., H, K)
    upper, lower = position > 0.5, position < 0.5
    offset[upper] = np.maximum.accumulate(offset[upper], axis=0)  # outward from
    offset[lower] = np.minimum.accumulate(offset[lower][::-1], axis=0)[::-1]  # median
    stretched = median + offset
    out = np.empty_like(stretched)
    np.put_along_axis(out, order, stretched, axis=0)
    return out
