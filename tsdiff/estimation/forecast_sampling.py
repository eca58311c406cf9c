"""How a fitted :class:`~tsdiff.DiffusionForecaster` draws forecasts: the histories it
forecasts from (the stored ends of its training series, or those of a new ``y``: a
series, a panel or a long table, with their cutoffs, steps and scaling), the
covariates of their windows, all sampled in one batch through the engine's model,
unscaled and, when calibrated, stretched by the interval factors."""

from __future__ import annotations

import logging
import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff.data import Scaler
from tsdiff.estimation.calibration import setting_key
from tsdiff.estimation.histories import (
    Histories,
    horizon_index,
    last_steps,
    panel_ends,
    series_scaler,
    series_starts,
)
from tsdiff.estimation.stretching import stretch_levels, widen
from tsdiff.estimation.validation import check_positive_int
from tsdiff.frames import (
    SeriesArrays,
    check_same_columns,
    future_index,
    index_kind,
    long_columns,
    to_arrays,
)

__all__ = ["ForecastSamplingMixin"]

logger = logging.getLogger(__name__)


class ForecastSamplingMixin:
    """Histories and sampling of forecasts, for :class:`~tsdiff.DiffusionForecaster`."""

    @property
    def _n_context(self) -> int:
        """Context steps of the fitted model: ``context_length_`` (shortened for
        short series), the parameter for a model fitted before it was kept."""
        return vars(self).get("context_length_", self.context_length)

    @property
    def _n_horizon(self) -> int:
        """Horizon steps of the fitted model (a later ``set_params`` of
        ``prediction_length`` takes effect at the next fit)."""
        return vars(self).get("prediction_length_", self.prediction_length)

    def _forecast(
        self,
        fh: Any,
        y: Any,
        num_samples: int | None = None,
        random_state: Any = None,
        X: Any = None,
    ) -> tuple[np.ndarray, pd.Index, Histories]:
        """Samples of shape (S, N, H, K) for the horizon of each of N histories,
        their row index (N * H rows) and the histories."""
        check_is_fitted(self)
        num_samples = check_positive_int(
            self.num_samples if num_samples is None else num_samples, "num_samples"
        )
        seed = self._sample_seed(random_state)
        histories = self._histories(y)
        steps = self._horizon_steps(fh, histories.cutoffs)
        covariates = self._window_covariates(
            X, histories.ids, histories.cutoffs, histories.firsts, "forecast"
        )
        horizons = self._sample_horizons(
            histories.contexts, histories.scaler, num_samples, seed, covariates
        )
        index = horizon_index(histories, self.freq_, steps)
        return horizons[:, :, steps - 1], index, histories  # (S, N, H', K)

    def _sample_horizons(
        self,
        contexts: np.ndarray,
        scaler: Scaler,
        num_samples: int,
        seed: int,
        covariates: np.ndarray | None = None,
        calibrated: bool = True,
    ) -> np.ndarray:
        """Samples of shape (S, N, H, K), in data units, of the ``prediction_length``
        steps after each of N contexts of shape (N, C, K) (NaN: missing), all in
        one batch; ``scaler`` holds the statistics of each context, shape (N, K),
        and ``covariates`` (N, C + H, n_cov) those of each window. A calibrated
        forecaster stretches them by its interval factors unless ``calibrated``
        is False."""
        n, n_c, n_k = contexts.shape
        future = np.full((n, self._n_horizon, n_k), np.nan)
        values = np.concatenate([contexts, future], axis=1)  # (N, C + H, K)
        observed = ~np.isnan(values)
        scaled = np.where(observed, scaler.transform(values), 0.0)
        samples = self._sample_windows(scaled, observed, num_samples, seed, covariates)
        horizon = scaler.inverse_transform(samples[:, :, n_c:])  # (S, N, H, K)
        factors = self._interval_factors(num_samples) if calibrated else None
        if factors is None:
            return horizon
        levels = stretch_levels(self.calibration_coverage)
        return widen(horizon, factors, self.quantile_method, levels)

    def _interval_factors(self, num_samples: int) -> np.ndarray | None:
        """The calibration factors per central level of :func:`stretch_levels`,
        horizon step and variable, shape (G, H, K) (or as an older file holds), for
        draws of ``num_samples`` with the current settings (found on the held-out
        windows the first time they are used), scaled per variable by adaptive
        calibration (``interval_drift_``, after an ``update``); None without
        either, or for a single draw, which has no interval to stretch."""
        drift = getattr(self, "interval_drift_", None)  # (K,) log-factors
        scale = 1.0 if drift is None else np.exp(drift)
        calibration = getattr(self, "calibration_", None)
        if num_samples < 2 or (calibration is None and drift is None):
            return None
        if calibration is None:
            return np.broadcast_to(scale, (self._n_horizon, len(scale)))
        coverage, method = self.calibration_coverage, self.quantile_method
        factors = calibration.factors_for(
            setting_key(self, num_samples), coverage, method,
            lambda: self._sample_horizons(
                calibration.contexts, calibration.scaler, num_samples,
                self.predict_seed_, calibration.covariates, calibrated=False,
            ),
        )  # fmt: skip
        return factors * scale  # (G, H, K), or an older file's (H, K) or (K,)

    def _forecast_quantiles(
        self, fh: Any, y: Any, alpha: tuple, X: Any = None
    ) -> tuple[np.ndarray, pd.Index, str, Any]:
        """Quantiles of shape (Q, N * H, K) of the samples, index, kind and name."""
        samples, index, histories = self._forecast(fh, y, X=X)
        q = self._quantiles(samples, alpha)  # (Q, N, H, K)
        n_q, n, n_h, n_k = q.shape
        return q.reshape(n_q, n * n_h, n_k), index, histories.kind, histories.name

    def _forecast_samples(
        self, fh: Any, y: Any, num_samples: int | None, random_state: Any, X: Any = None
    ) -> np.ndarray:
        samples, _, histories = self._forecast(fh, y, num_samples, random_state, X)
        return samples if histories.is_panel else samples[:, 0]

    def _window_covariates(
        self,
        X: Any,
        ids: pd.Index | None,
        cutoffs: pd.Index,
        firsts: pd.Index | None,
        what: str,
    ) -> np.ndarray | None:
        """Covariates (N, C + H, n_cov) of the windows that end ``prediction_length``
        steps after ``cutoffs`` (of the series ``ids``); see
        :meth:`CovariateSpec.windows`. None without covariates."""
        spec = getattr(self, "covariates_", None)
        if spec is None:
            if X is not None:
                raise ValueError(
                    "X was given, but the forecaster was fitted without exogenous "
                    "covariates; pass X=None or fit with X."
                )
            return None
        table = spec.table(self._from_long(X), self.freq, ids is not None)
        stored = None if firsts is not None else self.covariate_context_
        return spec.windows(
            table, ids, cutoffs, firsts, self.freq_, self._n_context,
            self._n_horizon, stored, what,
        )  # fmt: skip

    def _histories(self, y: Any) -> Histories:
        """The histories to forecast from: the stored ends of the training series
        for ``y=None``, else the ends of the series of ``y``."""
        if y is not None:
            return self._read_histories(y)[1]
        if self._is_panel():
            return Histories(
                contexts=self.context_,
                cutoffs=self.cutoffs_,
                ids=self.series_ids_,
                scaler=self.scaler_,
                kind=self.y_type_,
                names=tuple(self.panel_names_),
            )
        return Histories(
            contexts=self.context_[None],  # (1, C, K)
            cutoffs=_one(self.cutoff_),
            ids=None,
            scaler=self.scaler_.select([0]),
            kind=self.y_type_,
            name=self.y_name_,
            names=(None, self._time_name(None)),
        )

    def _read_histories(self, y: Any) -> tuple[SeriesArrays, Histories]:
        """A new series (or panel) ``y`` as arrays and as histories to forecast from."""
        y = self._from_long(y)
        step = self.freq
        if (
            step is None
            and _longest_series(y) <= 2
            and not isinstance(self.freq_, int)
            and _first_time_kind(y) == index_kind(self.cutoff_)
        ):
            step = self.freq_  # two time points cannot tell a day from "24 hours"
        arrays = to_arrays(y, freq=step, name="y", panel=True)
        check_same_columns(arrays, self, "y")
        if arrays.bounds is None:
            if self._is_panel():
                raise ValueError(
                    "This forecaster was fitted on a panel: pass y as a panel "
                    "indexed by (series id, time) (or a long table in the layout of "
                    "fit), so that each series is scaled by its own statistics."
                )
            ids, cutoffs = None, _one(arrays.grid_index[-1])
            names = (None, self._time_name(arrays))
            scaler = self.scaler_.select([0])
        else:
            ids, cutoffs = panel_ends(arrays)
            names = tuple(arrays.grid_index.names)
            if self._is_panel():  # a series seen in fit keeps its statistics
                scaler = series_scaler(
                    arrays, ids, self.series_ids_, self.scaler_, self.scaler
                )
            else:  # one model of one series: its statistics for every series
                scaler = self.scaler_.select(np.zeros(len(ids), dtype=np.int64))
        if arrays.freq not in (None, self.freq_) or index_kind(
            cutoffs[0]
        ) != index_kind(self.cutoff_):  # None: every series has a single row
            raise ValueError(
                f"y must have the index type and step of the training series "
                f"({index_kind(self.cutoff_)}, step {self.freq_}); got "
                f"{index_kind(cutoffs[0])} with step {arrays.freq}."
            )
        contexts = last_steps(arrays, self._n_context)  # (N, C, K), NaN: missing
        blind = np.isnan(contexts).all(axis=1)  # (N, K): nothing in the context
        if blind.any():
            logger.warning(
                "The last %d steps of y hold no value of %s%s: those forecasts "
                "start from nothing but the training data.", self._n_context,
                list(np.asarray(arrays.columns)[blind.any(axis=0)]),
                "" if ids is None else f" in series {list(ids[blind.any(axis=1)])}",
            )  # fmt: skip
        histories = Histories(
            contexts=contexts,
            cutoffs=cutoffs,
            ids=ids,
            scaler=scaler,
            kind=arrays.kind,
            name=arrays.name,
            names=names,
            firsts=series_starts(arrays),
        )
        return arrays, histories

    def _horizon_steps(self, fh: Any, cutoffs: pd.Index) -> np.ndarray:
        """Relative steps of ``fh`` after ``cutoffs``; absolute time points need one
        shared cutoff."""
        if isinstance(fh, (pd.Index, list, tuple)) and len(cutoffs.unique()) > 1:
            absolute = isinstance(fh, pd.Index) or not all(
                isinstance(v, numbers.Integral) for v in fh
            )
            if absolute:
                raise TypeError(
                    "The series of this panel end at different time points; give fh "
                    "as relative steps (an int or a sequence of ints)."
                )
        return self._relative_steps(fh, cutoffs[0])

    def _set_long_format(self, y: Any, id_col: Any, time_col: Any) -> Any:
        """Remember the id and time columns of a long table ``y``; ``y`` as a panel."""
        self.long_columns_ = long_columns(id_col, time_col)
        return self._from_long(y)

    def _is_panel(self) -> bool:
        return hasattr(self, "series_ids_")

    def _stored_history(self) -> pd.DataFrame:
        """The stored last ``context_length`` steps as a frame (a panel after a fit
        on a panel), NaN where missing."""
        check_is_fitted(self)
        steps = np.arange(1 - self._n_context, 1)  # up to the cutoff, inclusive
        histories = self._histories(None)
        ends = zip(histories.contexts, histories.cutoffs, strict=True)
        frames = [
            pd.DataFrame(
                values,
                index=future_index(cutoff, self.freq_, steps, histories.names[-1]),
                columns=self.columns_,
            )  # fmt: skip
            for values, cutoff in ends
        ]
        if not histories.is_panel:
            return frames[0]
        by_id = dict(zip(histories.ids, frames, strict=True))
        return pd.concat(by_id, names=list(histories.names))

    def _set_time_info(self, arrays: SeriesArrays, fh: Any) -> None:
        """Store the step, cutoffs, container and default horizon of the series."""
        if arrays.bounds is None:
            super()._set_time_info(arrays, fh)
            return
        self.series_ids_, self.cutoffs_ = panel_ends(arrays)
        self.panel_names_ = list(arrays.grid_index.names)
        self.freq_ = arrays.freq
        self.cutoff_ = self.cutoffs_.max()  # the latest, as in sktime
        self.y_type_ = arrays.kind
        self.y_name_ = arrays.name
        self.fh_ = None
        if fh is not None:
            self.fh_ = self._horizon_steps(fh, self.cutoffs_)


def _one(time_point: Any) -> pd.Index:
    """An index holding one time point (keeping its type and time zone)."""
    return pd.Index([time_point])


def _longest_series(y: Any) -> int:
    """Rows of the longest series of ``y`` (a series, a panel or an array)."""
    if isinstance(y, (pd.DataFrame, pd.Series)) and isinstance(y.index, pd.MultiIndex):
        return int(y.groupby(level=0).size().max()) if len(y) else 0
    shape = np.shape(y)
    return shape[1] if len(shape) == 3 else (shape[0] if shape else 0)


def _first_time_kind(y: Any) -> str | None:
    """Kind of the first time point of a frame or series ``y`` (None for arrays
    and empty data), as :func:`index_kind` names it."""
    index = getattr(y, "index", None)
    if index is None or not len(index):
        return None
    times = index.get_level_values(-1) if isinstance(index, pd.MultiIndex) else index
    return index_kind(times[0])
