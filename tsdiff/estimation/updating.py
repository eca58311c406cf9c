"""``update``: new observations appended to the histories a fitted
:class:`~tsdiff.DiffusionForecaster` forecasts from, without training again."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.tracking import tracking_step
from tsdiff.frames import (
    SeriesArrays,
    check_same_columns,
    future_index,
    index_kind,
    own_step,
    to_arrays,
)

__all__ = ["UpdateMixin"]

logger = logging.getLogger(__name__)


class UpdateMixin:
    """``update``, for :class:`~tsdiff.DiffusionForecaster`."""

    def update(self, y: Any, X: Any = None, update_params: bool = False) -> Any:
        """Append new observations to the history that forecasts start from,
        without training again.

        The forecasts of later calls condition on the last ``context_length``
        time points of the training series followed by ``y``, and their horizon
        starts after the last time point of ``y`` (the new cutoff). Time points
        between the old cutoff and the start of ``y`` count as missing.

        With ``calibration_rate`` set, the forecast from the old cutoff is first
        scored on the new values (the first ``prediction_length`` steps of
        ``y``) and the intervals of later forecasts move with its misses
        (``interval_drift_``); this costs one forecast, which with covariates
        needs ``X`` over its whole horizon (an update whose ``X`` stops short
        scores nothing).

        Parameters
        ----------
        y : DataFrame, Series or array-like of shape (n_new, n_variables)
            Observations after the current cutoff (``cutoff_``), with the
            variables and the index type of the training series, on its grid
            (one row is enough; skipped time points count as missing). The rows
            of an array follow the cutoff step by step. NaN marks a missing
            value. For a forecaster fitted on a panel, a panel (or a long table)
            of some of its series, each continuing its own cutoff, or an array of
            shape (n_series, n_new, n_variables) continuing all of them. Not
            modified.
        X : DataFrame, optional
            For a forecaster fitted with covariates: their values at the new time
            points (those of ``y`` and any skipped between the cutoff and ``y``),
            and with ``calibration_rate`` up to ``prediction_length`` steps past
            the current cutoff, for the forecast that is scored.
        update_params : bool, default=False
            Must be False: the network is not retrained here (call :meth:`fit` on
            the whole series to retrain).

        Returns
        -------
        self : DiffusionForecaster
            With ``context_`` and ``cutoff_`` (and ``cutoffs_``) moved on; weights
            unchanged.

        Raises
        ------
        ValueError
            If ``y`` does not start after the cutoff, has other variables or
            another index type or step, holds a series not seen in fit, or
            ``update_params`` is True.

        Examples
        --------
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0).fit(y.iloc[:44])
        >>> fc.cutoff_
        Timestamp('2024-01-02 19:00:00')
        >>> fc.update(y.iloc[44:]).cutoff_  # four new hours, weights unchanged
        Timestamp('2024-01-02 23:00:00')
        >>> fc.predict().index[0]
        Timestamp('2024-01-03 00:00:00')

        Observations must continue after the cutoff:

        >>> fc.update(y.iloc[40:])
        Traceback (most recent call last):
        ...
        ValueError: y must start after the cutoff Timestamp('2024-01-02 23:00:00'); ...
        """
        check_is_fitted(self)
        if update_params is not False:
            raise ValueError(
                f"{type(self).__name__}.update does not retrain (update_params must "
                "be False); fit again on the whole series to retrain."
            )
        panel = self._is_panel()
        spec, table = getattr(self, "covariates_", None), None
        if spec is not None:
            table = spec.table(self._from_long(X), self.freq, panel)
        elif X is not None:
            raise ValueError(
                "X was given, but the forecaster was fitted without exogenous "
                "covariates; pass X=None or fit with X."
            )
        if panel:
            parts = self._update_parts(self._from_long(y))
            contexts, cutoffs = list(self.context_), list(self.cutoffs_)
        else:
            parts = [(None, 0, y, "y")]
            contexts, cutoffs = [self.context_], [self.cutoff_]
        covariates = None
        if spec is not None:
            stored = self.covariate_context_
            covariates = list(stored) if panel else [stored]
        n_c = self._n_context
        arrived = []  # (series position, values (n_new, K) after its cutoff)
        for key, i, rows, name in parts:  # all checked before anything is stored
            arrays = self._continuation(rows, contexts[i][-1], cutoffs[i], name)
            arrived.append((i, arrays.values[1:]))
            history = np.concatenate([contexts[i][:-1], arrays.values])  # (C + n, K)
            contexts[i], cutoffs[i] = history[-n_c:], arrays.grid_index[-1]
            if covariates is not None:
                times = arrays.grid_index[1:]  # after the cutoff's own row
                keys = None if key is None else pd.Index([key] * len(times))
                new = spec.values(table, keys, times, f"update with {name}")
                covariates[i] = np.concatenate([covariates[i], new])[-n_c:]
        if self.calibration_rate is not None:  # forecasts from before the values
            self._adapt_intervals(arrived, self._from_long(X), table)
        if panel:
            self.context_ = np.stack(contexts)
            self.cutoffs_ = pd.Index(cutoffs, name=self.cutoffs_.name)
            self.cutoff_ = self.cutoffs_.max()
        else:
            self.context_, self.cutoff_ = contexts[0], cutoffs[0]
        if covariates is not None:
            self.covariate_context_ = np.stack(covariates) if panel else covariates[0]
        return self

    def _adapt_intervals(
        self, arrived: list[tuple[int, np.ndarray]], X: Any, table: Any
    ) -> None:
        """Score the forecasts from the current cutoffs on the values that have
        arrived after them, and move ``interval_drift_`` (adaptive calibration).

        Each of the first ``prediction_length`` new time steps counts once: its
        miss rate ``m`` (the share of its given values outside the central
        ``calibration_coverage`` interval, over all series updated) moves the log
        of every variable's factor by ``calibration_rate * (m - alpha) / H``
        (H = ``prediction_length``), with
        ``alpha = 1 - calibration_coverage`` (online quantile tracking of the
        interval's scale; Gibbs & Candes 2021, Angelopoulos, Candes & Tibshirani
        2023). With ``X`` covariates the forecast needs ``X`` (``table``, as
        standardised) over its whole horizon: where ``X`` stops short of it, the
        update scores nothing and the scale stays (logged).
        """
        n_h, n_k = self._n_horizon, self.n_features_in_
        spec = getattr(self, "covariates_", None)
        panel = self._is_panel()
        ids = self.series_ids_ if panel else None
        cutoffs = self.cutoffs_ if panel else pd.Index([self.cutoff_])
        if spec is not None and not spec.covers(table, ids, cutoffs, self.freq_, n_h):
            logger.info(
                "update: X does not reach %d steps past the cutoff, so the forecast "
                "from the cutoff is not scored and the intervals keep their scale "
                "(calibration_rate); pass X over that horizon to adapt them.",
                n_h,
            )
            return
        samples = self._forecast(n_h, None, X=X)[0]  # (S, N, H, K), as forecast
        coverage = self.calibration_coverage
        levels = ((1 - coverage) / 2, (1 + coverage) / 2)
        low, high = sample_quantiles(samples, levels, self.quantile_method)
        truth = np.full(low.shape, np.nan)  # (N, H, K): the arrived values
        for i, values in arrived:
            h = min(len(values), n_h)  # later steps: scored by later updates
            truth[i, :h] = values[:h]
        step = tracking_step(low, high, truth, coverage, self.calibration_rate)
        drift = getattr(self, "interval_drift_", None)
        self.interval_drift_ = (np.zeros(n_k) if drift is None else drift) + step

    def _update_parts(self, y: Any) -> list[tuple]:
        """``(series id, position, rows, name)`` of each series of a panel ``y``."""
        if not isinstance(y, (pd.DataFrame, pd.Series)) and np.ndim(y) == 3:
            values = np.asarray(y)  # (n_series, n_new, K): rows follow each cutoff
            if len(values) != len(self.series_ids_):
                raise ValueError(
                    f"y holds {len(values)} series; an array updates all "
                    f"{len(self.series_ids_)} series of fit, in their order."
                )
            keys = self.series_ids_
            return [(k, i, values[i], f"y (series {k!r})") for i, k in enumerate(keys)]
        if not isinstance(y, pd.DataFrame) or not isinstance(y.index, pd.MultiIndex):
            raise ValueError(
                "This forecaster was fitted on a panel: update takes a DataFrame "
                "indexed by (series id, time) (or a long table in the layout of fit)."
            )
        parts = []
        for key, rows in y.groupby(level=0, sort=False):
            i = self.series_ids_.get_indexer([key])[0]
            if i < 0:
                raise ValueError(
                    f"y holds series {key!r}, which was not seen in fit; update "
                    "continues known series only (fit again to add series)."
                )
            parts.append((key, i, rows.droplevel(0), f"y (series {key!r})"))
        return parts

    def _continuation(
        self, y: Any, last_row: np.ndarray, cutoff: Any, name: str
    ) -> SeriesArrays:
        """``y`` on the training grid, led by ``last_row`` at ``cutoff``, so that a
        single new row or a gap is read with the training step."""
        if isinstance(y, pd.Series):
            frame = y.to_frame()
        elif isinstance(y, pd.DataFrame):
            frame = y
        else:  # an array: its rows continue straight after the cutoff
            values = np.asarray(y)
            values = values.reshape(len(values), -1) if values.ndim == 1 else values
            if values.ndim != 2:
                raise ValueError(
                    f"{name} must be 1-D or 2-D; got shape {values.shape}."
                )
            steps = np.arange(1, len(values) + 1)
            index = future_index(cutoff, self.freq_, steps)
            frame = pd.DataFrame(values, index=index)
            if hasattr(self, "feature_names_in_"):
                frame.columns = self.feature_names_in_[: frame.shape[1]]
        if frame.shape[0] == 0 or frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{name} has {frame.shape[0]} time steps and {frame.shape[1]} "
                f"variables; update needs at least one step of the "
                f"{self.n_features_in_} variables seen in fit."
            )
        first = frame.index[0]
        if index_kind(first) != index_kind(cutoff):
            raise ValueError(
                f"{name} must have the index type of the training series "
                f"({index_kind(cutoff)}); got {index_kind(first)}."
            )
        own = own_step(frame.index)
        if own is not None and own != pd.tseries.frequencies.to_offset(self.freq_):
            raise ValueError(
                f"{name} has time steps of {own.freqstr}, but the forecaster was "
                f"fitted on steps of {getattr(self.freq_, 'freqstr', self.freq_)}; "
                f"resample {name} to that grid "
                "(time points left out count as missing)."
            )
        if not first > cutoff:
            raise ValueError(
                f"{name} must start after the cutoff {cutoff!r}; its first time "
                f"point is {first!r}."
            )
        anchor = pd.DataFrame(
            last_row[None], index=pd.Index([cutoff]), columns=frame.columns
        )
        combined = pd.concat([anchor, frame])
        if isinstance(cutoff, (pd.Timestamp, pd.Period)):
            arrays = to_arrays(combined, freq=self.freq_, name=name)
        else:  # integer times: lay them on the training step
            offsets = (combined.index.to_numpy() - cutoff) / self.freq_
            if not np.all(offsets == np.round(offsets)):
                raise ValueError(
                    f"The time points of {name} do not lie on the training grid "
                    f"(step {self.freq_} from the cutoff {cutoff})."
                )
            grid = np.arange(cutoff, combined.index[-1] + 1, self.freq_)
            arrays = to_arrays(combined.reindex(grid), name=name)
        check_same_columns(arrays, self, name)
        return arrays
