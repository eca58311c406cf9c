"""Interval calibration of forecasts on windows held out from training.

A fitted forecaster's samples are stretched about their per-cell median by one
factor per variable, chosen so that the central ``coverage`` interval of the
held-out windows covers their true values at that rate (split conformal
prediction with a scale-free score; Vovk, Gammerman, Shafer 2005, and for
forecasting Stankeviciute, Alaa, van der Schaar 2021). The factor depends on the
sampler, so one is kept per sampler setting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from tsdiff.data import Scaler
from tsdiff.estimation.histories import history_until
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.frames import SeriesArrays

__all__ = [
    "IntervalCalibration",
    "before_tails",
    "held_out_windows",
    "interval_factors",
    "widen",
]

logger = logging.getLogger(__name__)

_FAR_OFF = (0.2, 5.0)
"""Factors outside this range mean the network's intervals were far off on the
held-out windows; they are applied, with a warning."""


@dataclass
class IntervalCalibration:
    """Windows held out from training and the interval factors found on them.

    Attributes
    ----------
    contexts : ndarray of shape (N, C, K)
        History before each held-out cutoff, in data units; NaN where missing.
    truth : ndarray of shape (N, H, K)
        The ``prediction_length`` values after each cutoff; NaN where missing.
    scaler : Scaler
        Statistics of the series of each window, shape (N, K).
    covariates : ndarray of shape (N, C + H, n_covariates) or None
        Side information of each window, for a forecaster with covariates.
    factors : dict of str to ndarray of shape (K,)
        One factor per variable for each setting used so far; the key names
        everything the factor depends on (sampler, steps, eta, precision, number
        of samples, quantile method, coverage).

    Notes
    -----
    A forecaster finds the factors of its setting at fit. Those of a setting
    changed later are found by the first forecast that needs them, under a lock:
    threads that forecast at once with a new setting wait for one of them to find
    the factors rather than each drawing its own.
    """

    contexts: np.ndarray
    truth: np.ndarray
    scaler: Scaler
    covariates: np.ndarray | None
    factors: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # not a field: never saved or compared

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_lock", None)  # a lock cannot be pickled
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def factors_for(
        self,
        key: str,
        coverage: float,
        method: str,
        draw: Callable[[], np.ndarray],
    ) -> np.ndarray:
        """The factor per variable, shape (K,), of setting ``key``; the first
        time, ``draw()`` returns uncalibrated samples of the held-out windows,
        shape (S, N, H, K), and the factors found on them are kept."""
        if key in self.factors:  # set once, never changed: no lock needed to read
            return self.factors[key]
        with self._lock:
            if key not in self.factors:  # another thread may have found them
                factors = interval_factors(
                    draw(), self.truth, coverage, self.scaler.scale, method
                )
                logger.info(
                    "Interval calibration (%s) on %d held-out windows: factors %s.",
                    key, len(self.truth), np.round(factors, 3),
                )  # fmt: skip
                self.factors[key] = factors
        return self.factors[key]


def before_tails(arrays: SeriesArrays, n_rows: int) -> SeriesArrays:
    """``arrays`` with the last ``n_rows`` rows of every series marked unobserved,
    for statistics that must not see held-out values.

    A variable that a series observes only in its tail keeps the tail: such a
    series is too short to train on, and its statistics would otherwise fall
    back on those of other series.
    """
    keep = arrays.observed_mask.copy()  # (T, K)
    for rows in arrays.segments:
        tail = slice(max(rows.start, rows.stop - n_rows), rows.stop)
        before = keep[rows.start : tail.start].any(axis=0)  # (K,)
        keep[tail] &= ~before
    return replace(arrays, observed_mask=keep)


def held_out_windows(
    arrays: SeriesArrays,
    scaler: Scaler,
    covariate_rows: np.ndarray | None,
    n_windows: int,
    context_length: int,
    prediction_length: int,
) -> IntervalCalibration:
    """The last ``n_windows`` horizons of every series as forecasting windows.

    Parameters
    ----------
    arrays : SeriesArrays
        The training series (one, or a panel), values of shape (T, K).
    scaler : Scaler
        The fitted statistics: shared (K,) or one row per series (n_series, K).
    covariate_rows : ndarray of shape (T, n_covariates) or None
        Covariates at every grid row of ``arrays``.
    n_windows, context_length, prediction_length : int
        Horizons held out per series and the window shape.

    Returns
    -------
    IntervalCalibration
        Windows whose cutoffs tile each series' last ``n_windows *
        prediction_length`` rows (those with at least one row of history).
    """
    n_c, n_h = context_length, prediction_length
    series, firsts, cutoffs = [], [], []
    for i, rows in enumerate(arrays.segments):
        for j in range(n_windows, 0, -1):
            cutoff = rows.stop - 1 - j * n_h  # last history row of the window
            if cutoff >= rows.start:
                series.append(i)
                firsts.append(rows.start)
                cutoffs.append(cutoff)
    pairs = list(zip(firsts, cutoffs, strict=True))
    contexts = np.stack([history_until(arrays.values, f, c, n_c) for f, c in pairs])
    truth = np.stack([arrays.values[c + 1 : c + 1 + n_h] for c in cutoffs])
    covariates = None
    if covariate_rows is not None:  # rows before a series starts: 0, as in fit
        covariates = np.nan_to_num(
            np.stack(
                [history_until(covariate_rows, f, c + n_h, n_c + n_h) for f, c in pairs]
            )
        )  # (N, C + H, n_cov)
    return IntervalCalibration(
        contexts=contexts,  # (N, C, K)
        truth=truth,  # (N, H, K)
        scaler=scaler.select(np.asarray(series)),
        covariates=covariates,
    )


def interval_factors(
    samples: np.ndarray,
    truth: np.ndarray,
    coverage: float,
    scale: np.ndarray,
    method: str = "linear",
) -> np.ndarray:
    """Per-variable factors that make the central ``coverage`` interval cover
    ``truth`` at that rate once the samples are stretched about their median.

    A cell's score is its distance from the median in units of the interval's
    half on that side; the factor is the conformal quantile of the scores, the
    ``ceil((n + 1) * coverage)``-th smallest of the n observed cells of a
    variable (the largest where that exceeds n).

    Parameters
    ----------
    samples : ndarray of shape (S, N, H, K)
        Uncalibrated samples of the held-out windows.
    truth : ndarray of shape (N, H, K)
        True values; NaN cells are left out.
    coverage : float
        Central interval in (0, 1).
    scale : ndarray of shape (N, K)
        Scale of each window's series; interval halves narrower than a
        millionth of it count as that width.
    method : str, default="linear"
        Quantile method of :func:`numpy.quantile` (the estimator's).

    Returns
    -------
    ndarray of shape (K,)
        Factor per variable (1 for a variable with no observed cell).
    """
    levels = ((1 - coverage) / 2, 0.5, (1 + coverage) / 2)
    low, mid, high = sample_quantiles(samples, levels, method)  # each (N, H, K)
    floor = 1e-6 * scale[:, None, :]  # (N, 1, K)
    above = (truth - mid) / np.maximum(high - mid, floor)
    below = (mid - truth) / np.maximum(mid - low, floor)
    scores = np.maximum(above, below).reshape(-1, truth.shape[-1])  # (N * H, K)
    factors = np.ones(truth.shape[-1])
    for k in range(truth.shape[-1]):
        seen = scores[~np.isnan(scores[:, k]), k]
        if len(seen) == 0:
            continue
        rank = min(int(np.ceil((len(seen) + 1) * coverage)), len(seen))
        score = float(np.partition(seen, rank - 1)[rank - 1])
        factors[k] = max(score, 0.0) * (1 + 1e-9)  # the boundary cell stays inside
    off = (factors < _FAR_OFF[0]) | (factors > _FAR_OFF[1])
    if off.any():
        logger.warning(
            "Interval calibration stretches the samples of variables %s by %s: "
            "the network's intervals were far off on the held-out windows.",
            np.flatnonzero(off).tolist(),
            np.round(factors[off], 3).tolist(),
        )
    return factors


def widen(
    samples: np.ndarray, factors: np.ndarray, method: str = "linear"
) -> np.ndarray:
    """Samples of shape (S, ..., K) stretched about their per-cell median (by
    quantile ``method``) by ``factors`` of shape (K,); quantiles of the result
    are those of ``samples`` stretched the same way."""
    median = sample_quantiles(samples, (0.5,), method)[0]  # (..., K)
    return median + factors * (samples - median)
