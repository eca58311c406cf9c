"""How a fitted :class:`~tsdiff.DiffusionForecaster` draws forecasts: the histories
and covariates of N windows sampled in one batch through the engine's model, unscaled
and, when calibrated, stretched by the interval factors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff.data import Scaler
from tsdiff.estimation.calibration import widen
from tsdiff.estimation.histories import (
    Histories,
    horizon_index,
)
from tsdiff.estimation.validation import check_positive_int

__all__ = ["ForecastSamplingMixin"]


class ForecastSamplingMixin:
    """Sampling of forecasts, for :class:`~tsdiff.DiffusionForecaster`."""

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
        future = np.full((n, self.prediction_length, n_k), np.nan)
        values = np.concatenate([contexts, future], axis=1)  # (N, C + H, K)
        observed = ~np.isnan(values)
        scaled = np.where(observed, scaler.transform(values), 0.0)
        samples = self._sample_windows(scaled, observed, num_samples, seed, covariates)
        horizon = scaler.inverse_transform(samples[:, :, n_c:])  # (S, N, H, K)
        factors = self._interval_factors(num_samples) if calibrated else None
        if factors is None:
            return horizon
        return widen(horizon, factors, self.quantile_method)

    def _interval_factors(self, num_samples: int) -> np.ndarray | None:
        """The calibration factor per variable, shape (K,), for draws of
        ``num_samples`` with the current settings (found on the held-out windows
        the first time they are used); None without calibration, or for a
        single draw, which has no interval to stretch."""
        calibration = getattr(self, "calibration_", None)
        if calibration is None or num_samples < 2:
            return None
        coverage, method = self.calibration_coverage, self.quantile_method
        precision = "bf16" if self.mixed_precision else "fp32"  # bf16: on CUDA only
        key = (
            f"{self._sampler()}:{self._sampling_steps()}:eta={self.eta:g}:{precision}"
            f":samples={num_samples}:{method}:coverage={float(coverage)!r}"
        )
        return calibration.factors_for(
            key, coverage, method,
            lambda: self._sample_horizons(
                calibration.contexts, calibration.scaler, num_samples,
                self.predict_seed_, calibration.covariates, calibrated=False,
            ),
        )  # fmt: skip

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
            table, ids, cutoffs, firsts, self.freq_, self.context_length,
            self.prediction_length, stored, what,
        )  # fmt: skip
