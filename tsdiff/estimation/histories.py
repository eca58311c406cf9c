"""The histories a forecast starts from: the last ``context_length`` steps of one
series or of every series of a panel, with their cutoffs and scaling, and the row
index of the forecasts that follow them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tsdiff.data import Scaler, fit_panel_scaler
from tsdiff.frames import SeriesArrays, future_index

__all__ = [
    "Histories",
    "fitted_context",
    "history_until",
    "horizon_index",
    "last_steps",
    "panel_ends",
    "series_scaler",
    "series_starts",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Histories:
    """N histories to forecast from, all sampled in one batch.

    Attributes
    ----------
    contexts : ndarray of shape (N, C, K)
        The last C steps of each series in data units; NaN where missing (also
        where a series is shorter than C).
    cutoffs : pandas.Index of length N
        The last time point of each series.
    ids : pandas.Index of length N or None
        Series ids of a panel; None for a single series.
    scaler : Scaler
        Statistics of shape (N, K): row ``i`` scales series ``i``.
    kind : {"frame", "series", "array"}
        Container of the series given.
    name : object
        Name of a Series given.
    names : tuple
        Names of the index levels ``(series id, time)`` (of a single series, only
        the time name counts).
    firsts : pandas.Index of length N or None
        The first time point of each series given (None for the fitted state).
    """

    contexts: np.ndarray
    cutoffs: pd.Index
    ids: pd.Index | None
    scaler: Scaler
    kind: str
    name: Any = None
    names: tuple = (None, None)
    firsts: pd.Index | None = None

    @property
    def is_panel(self) -> bool:
        """Whether the histories are the series of a panel."""
        return self.ids is not None


def last_steps(arrays: SeriesArrays, n_steps: int) -> np.ndarray:
    """The last ``n_steps`` grid rows of every series of ``arrays``.

    Parameters
    ----------
    arrays : SeriesArrays
        One series or a panel.
    n_steps : int
        Rows to keep per series; shorter series are padded at the start with NaN.

    Returns
    -------
    ndarray of shape (N, n_steps, K)
        NaN where missing; N is 1 for a single series.
    """
    return np.stack(
        [
            history_until(arrays.values, r.start, r.stop - 1, n_steps)
            for r in arrays.segments
        ]
    )  # (N, n_steps, K)


def history_until(
    values: np.ndarray, first: int, last: int, n_steps: int
) -> np.ndarray:
    """Rows ``last - n_steps + 1 .. last`` of ``values`` of shape (T, K), none
    before row ``first`` (the start of the series): shape (n_steps, K), padded at
    the start with NaN."""
    block = values[max(first, last - n_steps + 1) : last + 1]  # (<= n_steps, K)
    pad = np.full((n_steps - len(block), values.shape[1]), np.nan)
    return np.concatenate([pad, block])


def panel_ends(arrays: SeriesArrays) -> tuple[pd.Index, pd.Index]:
    """The series ids of a panel and the last time point of each."""
    starts = arrays.bounds[:-1]
    ids = arrays.grid_index.get_level_values(0)[starts]
    cutoffs = arrays.grid_index.get_level_values(1)[arrays.bounds[1:] - 1]
    return ids, cutoffs


def series_starts(arrays: SeriesArrays) -> pd.Index:
    """The first time point of every series of ``arrays`` (one or a panel)."""
    if arrays.bounds is None:
        return arrays.grid_index[:1]
    return arrays.grid_index.get_level_values(1)[arrays.bounds[:-1]]


def series_scaler(
    arrays: SeriesArrays,
    ids: pd.Index,
    fitted_ids: pd.Index,
    fitted: Scaler,
    method: str,
) -> Scaler:
    """Statistics of shape (N, K) for the series ``ids`` of a panel: those fitted on
    a series of the same id, else fitted on the series given.

    Parameters
    ----------
    arrays : SeriesArrays
        The panel given, series in the order of ``ids``.
    ids : pandas.Index of length N
        Its series ids.
    fitted_ids : pandas.Index of length M
        The ids of the training panel.
    fitted : Scaler
        Its statistics, of shape (M, K).
    method : str
        Scaling method for the series never seen in fit.
    """
    known = fitted_ids.get_indexer(ids)  # (N,), -1 for a series not seen in fit
    center = np.empty((len(ids), fitted.n_features))
    scale = np.empty_like(center)
    seen = known >= 0
    center[seen], scale[seen] = fitted.center[known[seen]], fitted.scale[known[seen]]
    if not seen.all():
        own = fit_panel_scaler(
            arrays.values, arrays.observed_mask, arrays.bounds, method
        )
        center[~seen], scale[~seen] = own.center[~seen], own.scale[~seen]
    return Scaler(center=center, scale=scale)


def horizon_index(histories: Histories, freq: Any, steps: np.ndarray) -> pd.Index:
    """Rows of the forecasts: the time points ``steps`` after the cutoff, and for a
    panel ``(series id, time)`` pairs, series-major.

    Parameters
    ----------
    histories : Histories
        Whose cutoffs (and ids) the forecasts follow.
    freq : DateOffset or int
        Grid step.
    steps : ndarray of shape (H,), int
        Relative steps.

    Returns
    -------
    pandas.Index of length H, or MultiIndex of length N * H for a panel
    """
    if not histories.is_panel:
        return future_index(histories.cutoffs[0], freq, steps, name=histories.names[-1])
    times = [future_index(cutoff, freq, steps) for cutoff in histories.cutoffs]
    return pd.MultiIndex.from_arrays(
        [histories.ids.repeat(len(steps)), times[0].append(times[1:])],
        names=list(histories.names),
    )


def fitted_context(
    longest: int, context_length: int, horizon: int, patch_length: int = 1
) -> int:
    """The context a forecaster is fitted with: ``context_length``, or for a
    longest series shorter than ``context_length + horizon`` what it leaves
    after one horizon, rounded down so that ``patch_length`` still divides the
    window; at least 1, with a logged warning when it is shortened. A
    ``ValueError`` where no step is left before a horizon.

    Examples
    --------
    >>> from tsdiff.estimation.histories import fitted_context
    >>> fitted_context(500, 96, 24), fitted_context(100, 96, 24)
    (96, 76)
    >>> fitted_context(100, 96, 24, patch_length=8)  # 72 + 24 = 96 whole patches
    72
    >>> fitted_context(25, 96, 24)
    1
    >>> fitted_context(24, 96, 24)
    Traceback (most recent call last):
    ...
    ValueError: The longest series of y has 24 time steps: too few for a horizon ...
    """
    if longest >= context_length + horizon:
        return context_length
    room = longest - horizon  # what one horizon leaves
    if room < 1:
        raise ValueError(
            f"The longest series of y has {longest} time steps: too few for a "
            f"horizon of prediction_length={horizon} after at least one step of "
            f"history ({horizon + 1} needed). Pass a smaller prediction_length or "
            "a longer series."
        )
    context = max(1, room - (room + horizon) % patch_length)
    logger.warning(
        "The longest series has %d steps, fewer than context_length + "
        "prediction_length = %d: the context is shortened to %d steps "
        "(context_length_).", longest, context_length + horizon, context,
    )  # fmt: skip
    return context
