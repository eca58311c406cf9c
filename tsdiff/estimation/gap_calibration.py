"""Interval calibration of imputations on windows held out from training.

An imputer fitted with ``calibration_share`` holds a share of the non-overlapping
windows of its training series out of training (neither the network nor the
scaling statistics see their values). In every held-out window, observed values
are hidden in the shape of real gaps (CSDI's historical masks: the missingness of
another window of the user's ``mask_patterns``, or of the training data), imputed
from the rest, and scored as the forecaster's held-out horizons are: a factor per
variable and central level (:func:`~tsdiff.estimation.calibration.
interval_factors`), pooled over the window's steps, by which every later
imputation's samples are stretched about their median. Observed cells stay exact.

Gaps in the shape of real ones, not the training strategy's scattered cells: a
long outage is harder to fill than a scattered value, and intervals calibrated on
scattered cells stay too narrow for it. On PM2.5's validation month (a small CPU
network) the mean 90 % factor was 1.06 on the training strategy's gaps ("mix"),
which left the coverage at 0.61, and 1.37 on historical gaps, which brought it
to 0.72 (0.59 without calibration) at the lowest CRPS
(``benchmarks/results/pm25_val_small_share_*``). Data without gaps to copy (fewer
than :data:`LEAST_HIDDEN` hidden values per variable) fall back on the training
strategy.

An imputer with ``calibration_share="input"`` holds nothing out: every imputation
first hides observed values of the input itself in the shape of the input's own
gaps (:func:`input_calibration`), imputes them, and stretches the samples of the
real gaps by the factors found there. Nothing of the training data is lost, and
the factors follow the data being imputed where it differs from the training
data (on PM2.5's validation month, a January more polluted than the training
months, the default network's 90 % coverage rose from 0.71 to 0.81 at a slightly
lower CRPS, ``benchmarks/results/pm25_val_input_cal``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from tsdiff.data import Scaler, WindowSource
from tsdiff.engine import MaskPolicy
from tsdiff.estimation.calibration import IntervalCalibration, interval_factors
from tsdiff.frames import SeriesArrays

__all__ = [
    "GapCalibration",
    "gap_calibration",
    "hold_out_windows",
    "input_calibration",
    "input_factors",
    "series_of",
    "without_rows",
]

logger = logging.getLogger(__name__)

SampleWindows = Callable[[np.ndarray, np.ndarray, int, int], np.ndarray]
"""``sample(scaled, given, num_samples, seed) -> (S, N, L, K)``: an imputer's draw
of windows (N, L, K) of scaled values, given where ``given``."""

LEAST_HIDDEN = 20
"""Hidden values per variable, on average, below which historical gaps give way to
the training strategy's (the fewest that set a 90 % factor)."""
MAX_INPUT_WINDOWS = 512
"""Most windows of an input that :func:`input_calibration` hides values in (drawn
at random from longer inputs), so that calibrating costs at most that many
window imputations."""


@dataclass
class GapCalibration(IntervalCalibration):
    """Held-out windows of an imputer, with values hidden to impute.

    Attributes
    ----------
    contexts : ndarray of shape (N, L, K)
        The held-out windows in data units, NaN where missing or hidden.
    truth : ndarray of shape (N, L, K)
        The hidden values; NaN elsewhere.
    scaler : Scaler
        Statistics of the series of each window, shape (N, K).
    factors : dict of str to ndarray of shape (G, 1, K)
        Per setting, the factors per central level
        (:func:`~tsdiff.estimation.stretching.stretch_levels`) and variable, the
        same at every step.
    """

    by_step: bool = True
    by_level: bool = True

    def draw(self, sample: SampleWindows, num_samples: int, seed: int) -> np.ndarray:
        """Uncalibrated imputations (S, N, L, K) of the windows, in data units."""
        given = ~np.isnan(self.contexts)  # (N, L, K)
        scaled = np.where(given, self.scaler.transform(self.contexts), 0.0)
        return self.scaler.inverse_transform(sample(scaled, given, num_samples, seed))

    def _find(self, samples: np.ndarray, coverage: float, method: str) -> np.ndarray:
        """Factors (G, 1, K) pooled over the steps of the windows from samples of
        shape (S, N, L, K): every hidden cell is one score of its variable."""
        n_s, n, n_l, n_k = samples.shape
        return interval_factors(
            samples.reshape(n_s, n * n_l, 1, n_k),  # (S, N * L, 1, K): cells
            self.truth.reshape(n * n_l, 1, n_k),
            coverage,
            np.repeat(self.scaler.scale, n_l, axis=0),  # (N * L, K)
            method,
            block_cells=10**12,  # one block: the steps of a window are alike
            levels=self._levels(coverage),
        )


def _tiles(arrays: SeriesArrays, window_length: int) -> np.ndarray:
    """First grid rows of the non-overlapping windows of ``window_length`` steps
    tiling every series from its start (none in a series shorter than that)."""
    return np.concatenate(
        [
            np.arange(rows.start, rows.stop - window_length + 1, window_length)
            for rows in arrays.segments
        ]
    ).astype(np.int64)


def series_of(arrays: SeriesArrays, firsts: np.ndarray) -> np.ndarray:
    """Position of the series that each grid row of ``firsts`` belongs to."""
    if arrays.bounds is None:
        return np.zeros(len(firsts), dtype=np.int64)
    return np.searchsorted(arrays.bounds, firsts, side="right") - 1


def hold_out_windows(
    arrays: SeriesArrays, window_length: int, share: float, seed: int
) -> np.ndarray:
    """First grid rows, sorted, of ``round(share * n)`` of the ``n``
    non-overlapping windows (tiles of ``window_length`` steps from the start of
    every series), drawn at random.

    Raises
    ------
    ValueError
        When that leaves no window to hold out.
    """
    firsts = _tiles(arrays, window_length)
    n_held = int(round(share * len(firsts)))
    if n_held < 1:
        raise ValueError(
            f"calibration_share={share} holds out no window: X has {len(firsts)} "
            f"non-overlapping windows of window_length={window_length}; pass more "
            "data, a larger share or calibration_share=None."
        )
    pick = np.random.default_rng(seed).choice(len(firsts), n_held, replace=False)
    return np.sort(firsts[pick])


def without_rows(arrays: SeriesArrays, firsts: np.ndarray, length: int) -> SeriesArrays:
    """``arrays`` with the ``length`` rows from each of ``firsts`` unobserved
    (``arrays`` itself when ``firsts`` is empty)."""
    if not len(firsts):
        return arrays
    keep = arrays.observed_mask.copy()  # (T, K)
    for first in firsts:
        keep[first : first + length] = False
    return replace(arrays, observed_mask=keep)


def gap_calibration(
    arrays: SeriesArrays,
    firsts: np.ndarray,
    scaler: Scaler,
    length: int,
    training: MaskPolicy,
    windows: WindowSource,
    seed: int,
) -> GapCalibration:
    """The held-out windows starting at grid rows ``firsts``, with observed values
    hidden by one draw of historical masks (copying the patterns of the
    ``training`` policy, else the masks of ``windows``, the training windows), or
    of the ``training`` policy where those hide too few; ``scaler`` holds the
    statistics of each window's series (N, K)."""
    rows = firsts[:, None] + np.arange(length)  # (N, L)
    values = np.where(arrays.observed_mask, arrays.values, np.nan)[rows]  # (N, L, K)
    observed = torch.as_tensor(~np.isnan(values)).transpose(1, 2)  # (N, K, L)
    historical = replace(training, strategy="historical")
    for policy in (historical, training):
        draw = policy.drawer(windows, torch.device("cpu"))
        given = draw(observed, torch.Generator().manual_seed(seed))  # (N, K, L)
        hidden = (observed & ~given).transpose(1, 2).numpy()  # (N, L, K)
        if hidden.sum() >= LEAST_HIDDEN * hidden.shape[-1]:
            break
    return GapCalibration(
        contexts=np.where(hidden, np.nan, values),
        truth=np.where(hidden, values, np.nan),
        scaler=scaler,
        covariates=None,
    )


def input_calibration(
    arrays: SeriesArrays,
    scaler: Scaler,
    length: int,
    strategy: str,
    seed: int,
) -> GapCalibration | None:
    """Windows of an input to impute, with observed values hidden in the shape of
    the input's own gaps, for calibrating that input's imputation.

    The non-overlapping windows of ``length`` steps tiling every series (at most
    :data:`MAX_INPUT_WINDOWS` of them, drawn at random) each take the missingness
    of another window of the input (historical masks), or of the training
    ``strategy`` where those hide fewer than :data:`LEAST_HIDDEN` values per
    variable.

    Parameters
    ----------
    arrays : SeriesArrays
        The input, on its time grid (T, K).
    scaler : Scaler
        The fitted scaler: shared, or with statistics per series of the input.
    length : int
        Window length L.
    strategy : str
        The imputer's training mask strategy.
    seed : int
        Seeds the windows drawn and the masks.

    Returns
    -------
    GapCalibration or None
        None where no series has ``length`` steps or no observed value could be
        hidden.
    """
    firsts = _tiles(arrays, length)
    if len(firsts) > MAX_INPUT_WINDOWS:
        pick = np.random.default_rng(seed).choice(len(firsts), MAX_INPUT_WINDOWS, False)
        firsts = np.sort(firsts[pick])
    if not len(firsts):
        return None
    gaps = WindowSource.from_series(
        arrays.observed_mask,  # (T, K): only the masks are copied
        arrays.observed_mask,
        np.concatenate(
            [np.arange(s.start, s.stop - length + 1) for s in arrays.segments]
        ),
        length,
    )
    calibration = gap_calibration(
        arrays, firsts, scaler.select(series_of(arrays, firsts)), length,
        MaskPolicy(strategy, 0, gaps), gaps, seed,
    )  # fmt: skip
    return calibration if np.isfinite(calibration.truth).any() else None


def input_factors(
    arrays: SeriesArrays,
    scaler: Scaler,
    length: int,
    strategy: str,
    sample: SampleWindows,
    num_samples: int,
    seed: int,
    coverage: float,
    method: str,
) -> np.ndarray | None:
    """Factors (G, 1, K) that calibrate the imputation of ``arrays``, found on
    values of the input itself (:func:`input_calibration`) imputed by
    ``sample``; None (with a warning) where the input has no window to hide
    values in.

    Parameters
    ----------
    arrays, scaler, length, strategy, seed
        As in :func:`input_calibration`; ``seed`` also seeds the draw.
    sample : callable
        The imputer's draw of scaled windows (:data:`SampleWindows`).
    num_samples : int
        Samples per window, as in the imputation to calibrate.
    coverage : float
        The central interval to calibrate.
    method : str
        Quantile method of the imputation.
    """
    calibration = input_calibration(arrays, scaler, length, strategy, seed)
    if calibration is None:
        logger.warning(
            "calibration_share='input': the input has no window of window_length=%d "
            "steps with observed values to hide; its intervals are not calibrated.",
            length,
        )
        return None
    factors = calibration._find(
        calibration.draw(sample, num_samples, seed), coverage, method
    )
    logger.info(
        "Interval calibration on %d windows of the input: factors of the %g "
        "interval per variable %s.",
        len(calibration.truth), coverage, np.round(factors[-1, 0], 3),
    )  # fmt: skip
    return factors
