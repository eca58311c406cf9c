"""Shared template of the baseline forecasters: the public methods of
:class:`tsdiff.DiffusionForecaster`, one univariate model per column."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from tsdiff._validation import check_alpha, check_coverage, validate_params
from tsdiff.baselines._common import (
    FREQ,
    POSITIVE_INT,
    RANDOM_STATE,
    Levels,
    check_num_samples,
    check_observed,
    draw_seed,
    set_feature_info,
)
from tsdiff.frames import (
    check_same_columns,
    future_index,
    interval_frame,
    quantile_frame,
    to_arrays,
)

_MAX_STEPS = 10**7


class _BaseForecaster(BaseEstimator):
    """Fit one univariate model per column and answer every predict method from its
    predictive distribution.

    Subclasses implement ``_fit_column(values) -> model`` and
    ``_predictive(model, history, steps, seed) -> distribution`` where ``values`` and
    ``history`` are float arrays of shape (T,) with NaN for missing values
    (``history`` is None for the training series), ``steps`` the sorted relative
    steps of shape (H,), and the distribution has ``quantiles(alpha) -> (Q, H)`` and
    ``sample(rng, num_samples) -> (num_samples, H)``.
    """

    _parameter_constraints: dict = {
        "num_samples": [POSITIVE_INT],
        "quantile_levels": [Levels()],
        "freq": FREQ,
        "random_state": RANDOM_STATE,
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _validate_params(self) -> None:
        validate_params(self, self._parameter_constraints)

    def fit(self, y: Any, X: Any = None, fh: Any = None):
        """Fit one model per column of ``y``.

        Parameters
        ----------
        y : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Training series indexed by time (DatetimeIndex, PeriodIndex or integer
            index); NaN marks a missing value. Missing timestamps are inserted as gaps.
        X : None
            Exogenous covariates are not supported; must be None.
        fh : int, sequence of int or pandas.Index, default=None
            Horizon to use when the predict methods get none.

        Returns
        -------
        self
            The fitted forecaster.
        """
        self._validate_params()
        self._check_no_exogenous(X)
        arrays = to_arrays(y, freq=self.freq, name="y")
        if arrays.freq is None:
            raise ValueError(
                "y needs a time index with a regular step (DatetimeIndex, PeriodIndex "
                "or integer index) to place forecasts; got "
                f"{type(arrays.index).__name__} without an inferable frequency. Pass "
                "`freq` or reindex y."
            )
        check_observed(arrays, "y")
        set_feature_info(self, arrays)
        self.freq_ = arrays.freq
        self.cutoff_ = arrays.grid_index[-1]
        self.y_type_ = arrays.kind
        self.y_name_ = arrays.name
        self.fh_ = None
        self.fh_ = None if fh is None else self._relative_steps(fh, self.cutoff_)
        self.seed_ = draw_seed(self.random_state)
        self.models_ = [self._fit_column(column) for column in arrays.values.T]
        return self

    def _check_no_exogenous(self, X: Any) -> None:
        if X is not None:
            raise ValueError(
                f"{type(self).__name__} does not support exogenous covariates; pass "
                "X=None."
            )

    def _relative_steps(self, fh: Any, cutoff: Any) -> np.ndarray:
        """Sorted relative steps (1 = next time point) of a forecasting horizon."""
        if fh is None:
            if getattr(self, "fh_", None) is None:
                raise ValueError(
                    "No forecasting horizon: pass fh to the predict method or to fit."
                )
            return self.fh_
        if (
            isinstance(fh, (list, tuple))
            and fh
            and not all(isinstance(v, numbers.Integral) for v in fh)
        ):
            fh = pd.Index(fh)  # time points given as a list
        if isinstance(fh, pd.Index):  # absolute time points, as in sktime
            steps = self._absolute_steps(fh, cutoff)
        elif isinstance(fh, numbers.Integral) and not isinstance(fh, bool):
            steps = np.arange(1, int(fh) + 1) if fh >= 1 else np.array([int(fh)])
        else:
            steps = np.asarray(fh).ravel()
            if steps.size == 0 or steps.dtype.kind not in "iu":
                raise TypeError(
                    "fh must be an int, a non-empty sequence of ints (relative steps) "
                    f"or a pandas Index of time points; got {fh!r}."
                )
        steps = np.unique(steps.astype(np.int64))
        if steps.min() < 1 or steps.max() > _MAX_STEPS:
            raise ValueError(
                f"fh asks for relative steps {steps.min()}..{steps.max()}; they must "
                f"lie in 1..{_MAX_STEPS} (steps after the cutoff)."
            )
        return steps

    def _absolute_steps(self, fh: pd.Index, cutoff: Any) -> np.ndarray:
        """Relative steps of absolute time points, on a grid grown until it covers
        them."""
        n = max(len(fh), 8)
        while True:
            grid = future_index(cutoff, self.freq_, np.arange(1, n + 1))
            steps = grid.get_indexer(fh) + 1
            if (steps > 0).all() or n >= _MAX_STEPS:
                break
            try:
                covered = grid[-1] >= fh.max()
            except TypeError:  # not comparable: wrong index type
                covered = True
            if covered:
                break
            n *= 4
        if (steps == 0).any():
            bad = list(fh[steps == 0][:3])
            raise ValueError(
                f"fh contains time points {bad} that are not future steps of "
                f"frequency {getattr(self.freq_, 'freqstr', self.freq_)} after the "
                f"cutoff {cutoff}."
            )
        return steps

    def _history(self, y: Any) -> tuple[np.ndarray | None, Any, str, Any]:
        """New history values (T', K) or None, cutoff, output kind and series name."""
        if y is None:
            return None, self.cutoff_, self.y_type_, self.y_name_
        arrays = to_arrays(y, freq=self.freq, name="y")
        check_same_columns(arrays, self.columns_, self.n_features_in_, "y")
        cutoff = arrays.grid_index[-1]
        if arrays.freq != self.freq_ or _index_kind(cutoff) != _index_kind(
            self.cutoff_
        ):
            raise ValueError(
                f"y must have the index type and step of the training series "
                f"({_index_kind(self.cutoff_)}, step {self.freq_}); got "
                f"{_index_kind(cutoff)} with step {arrays.freq}."
            )
        check_observed(arrays, "y")
        return arrays.values, cutoff, arrays.kind, arrays.name

    def _distributions(self, fh: Any, y: Any) -> tuple[list, pd.Index, str, Any]:
        """Predictive distribution of every column, future index, kind and name."""
        check_is_fitted(self)
        values, cutoff, kind, name = self._history(y)
        steps = self._relative_steps(fh, cutoff)
        dists = [
            self._predictive(
                model, None if values is None else values[:, k], steps, [self.seed_, k]
            )
            for k, model in enumerate(self.models_)
        ]
        return dists, future_index(cutoff, self.freq_, steps), kind, name

    def _quantile_array(self, dists: list, alpha: tuple) -> np.ndarray:
        """Quantiles of shape (Q, H, K), non-decreasing in the level."""
        q = np.stack([d.quantiles(alpha) for d in dists], axis=-1)  # (Q, H, K)
        levels = np.asarray(alpha)
        order = np.argsort(levels)
        q_sorted = np.maximum.accumulate(q[order], axis=0)
        return q_sorted[np.argsort(order)]

    def predict(self, fh: Any = None, X: Any = None, *, y: Any = None) -> Any:
        """Point forecast: the median of the predictive distribution.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon: an int ``h`` means steps 1..h, ints are relative steps, an Index
            holds absolute time points. None uses the ``fh`` given to fit.
        X : None
            Not supported; must be None.
        y : DataFrame, Series or array-like, default=None
            A new history (same variables, index type and step) to forecast from
            instead of the training series; the fitted parameters are kept.

        Returns
        -------
        DataFrame or Series
            Rows are the future time points; a Series when fitted on a Series.
        """
        self._check_no_exogenous(X)
        dists, index, kind, name = self._distributions(fh, y)
        median = self._quantile_array(dists, (0.5,))[0]  # (H, K)
        frame = pd.DataFrame(median, index=index, columns=self.columns_)
        return frame.iloc[:, 0].rename(name) if kind == "series" else frame

    def predict_quantiles(
        self, fh: Any = None, X: Any = None, *, y: Any = None, alpha: Any = None
    ) -> pd.DataFrame:
        """Forecast quantiles.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : None
            Not supported; must be None.
        y : DataFrame, Series or array-like, default=None
            New history, as in :meth:`predict`.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.

        Returns
        -------
        DataFrame
            Rows are the future time points; columns ``MultiIndex(variable, quantile)``
            with float quantile labels in the order of ``alpha``.
        """
        self._check_no_exogenous(X)
        alpha = check_alpha(self.quantile_levels if alpha is None else alpha)
        dists, index, _, _ = self._distributions(fh, y)
        q = self._quantile_array(dists, alpha)
        return quantile_frame(q, index, self.columns_, alpha)

    def predict_interval(
        self, fh: Any = None, X: Any = None, *, y: Any = None, coverage: Any = 0.9
    ) -> pd.DataFrame:
        """Central prediction intervals.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : None
            Not supported; must be None.
        y : DataFrame, Series or array-like, default=None
            New history, as in :meth:`predict`.
        coverage : float or sequence of float, default=0.9
            Nominal coverages in (0, 1).

        Returns
        -------
        DataFrame
            Columns ``(variable, coverage, "lower"|"upper")``.
        """
        self._check_no_exogenous(X)
        coverage = check_coverage(coverage)
        dists, index, _, _ = self._distributions(fh, y)
        levels = (*[(1 - c) / 2 for c in coverage], *[(1 + c) / 2 for c in coverage])
        q = self._quantile_array(dists, levels)  # (2C, H, K)
        n_c = len(coverage)
        return interval_frame(q[:n_c], q[n_c:], index, self.columns_, coverage)

    def sample(
        self,
        fh: Any = None,
        X: Any = None,
        *,
        y: Any = None,
        num_samples: int | None = None,
        random_state: Any = None,
    ) -> np.ndarray:
        """Draw forecast samples.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : None
            Not supported; must be None.
        y : DataFrame, Series or array-like, default=None
            New history, as in :meth:`predict`.
        num_samples : int, default=None
            Number of samples; None uses ``num_samples``.
        random_state : int, RandomState, Generator or None, default=None
            Seed for fresh draws; None reuses the seed drawn in fit, so repeated
            calls give the same samples.

        Returns
        -------
        ndarray of shape (num_samples, len(fh), n_variables)
        """
        self._check_no_exogenous(X)
        num_samples = check_num_samples(
            self.num_samples if num_samples is None else num_samples
        )
        dists, _, _, _ = self._distributions(fh, y)
        seed = self.seed_ if random_state is None else draw_seed(random_state)
        rng = np.random.default_rng(seed)
        return np.stack([d.sample(rng, num_samples) for d in dists], axis=-1)


def _index_kind(time_point: Any) -> str:
    """Kind of a time point: datetime (with its time zone), period, or integer."""
    if isinstance(time_point, pd.Timestamp):
        return f"datetime (tz={time_point.tz})"
    if isinstance(time_point, pd.Period):
        return "period"
    return "integer"
