"""Shared template of the baseline imputers: the public methods of
:class:`tsdiff.DiffusionImputer` on top of a method that draws imputations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from tsdiff._validation import check_alpha, check_coverage, validate_params
from tsdiff.baselines._common import (
    FREQ,
    Levels,
    check_num_samples,
    check_observed,
    draw_seed,
    sample_quantiles,
    set_feature_info,
)
from tsdiff.frames import (
    SeriesArrays,
    check_same_columns,
    interval_frame,
    quantile_frame,
    to_arrays,
    to_output,
)


class _BaseImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Validate, convert, impute, convert back.

    Input is read with :func:`tsdiff.frames.to_arrays` (``panel=True``): a single
    series on a time index, or a panel DataFrame whose index is a MultiIndex
    ``(series id, time)``, each series on its own regular grid (missing timestamps
    are inserted, then dropped again from the output). Subclasses implement
    ``_fit(arrays)`` and ``_draws(arrays, num_samples, rng) -> (S, n_rows, K)``
    (imputations of the input's rows, in input order); the base puts the observed
    values back, bit for bit. Deterministic subclasses return one draw (S=1),
    repeated on request.
    """

    _parameter_constraints: dict = {
        "quantile_levels": [Levels()],
        "freq": FREQ,
    }
    _stochastic = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _validate_params(self) -> None:
        validate_params(self, self._parameter_constraints)

    def fit(self, X: Any, y: Any = None):
        """Learn what the imputations need from ``X``.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Training data; NaN marks a missing value. A DataFrame with a MultiIndex
            ``(series id, time)`` is a panel of several series.
        y : None
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        self
            The fitted imputer.
        """
        self._validate_params()
        arrays = to_arrays(X, freq=self.freq, name="X", panel=True)
        check_observed(arrays, "X")
        set_feature_info(self, arrays)
        self.mean_ = np.nanmean(arrays.values, axis=0)  # (K,)
        self.seed_ = draw_seed(getattr(self, "random_state", None))
        self._fit(arrays)
        return self

    def _fit(self, arrays: SeriesArrays) -> None:
        """Fit the imputation model (nothing by default)."""

    def _check_input(self, X: Any) -> SeriesArrays:
        check_is_fitted(self)
        arrays = to_arrays(X, freq=self.freq, name="X", panel=True)
        check_same_columns(arrays, self.columns_, self.n_features_in_, "X")
        return arrays

    def _stochastic_now(self) -> bool:
        return self._stochastic

    def _samples(
        self, arrays: SeriesArrays, num_samples: Any = None, random_state: Any = None
    ) -> np.ndarray:
        """Imputations of shape (S, n_rows, K) of the input rows; observed cells
        exact."""
        if num_samples is None:
            num_samples = self.num_samples if self._stochastic_now() else 1
        num_samples = check_num_samples(num_samples)
        seed = self.seed_ if random_state is None else draw_seed(random_state)
        rng = np.random.default_rng(seed)
        n_draws = num_samples if self._stochastic_now() else 1
        draws = self._draws(arrays, n_draws, rng)  # (S', n_rows, K)
        values = arrays.values[arrays.rows]  # (n_rows, K)
        draws = np.where(np.isnan(values), draws, values)
        return np.broadcast_to(draws, (num_samples, *values.shape)).copy()

    def transform(self, X: Any) -> Any:
        """Fill the missing values of ``X`` with the median imputation.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Data with the variables seen in fit; NaN marks a missing value.

        Returns
        -------
        DataFrame, Series or ndarray of shape (n_timesteps, n_variables)
            Same type, index, columns and floating dtype as ``X``; observed values are
            unchanged.
        """
        arrays = self._check_input(X)
        median = sample_quantiles(self._samples(arrays), (0.5,))[0]  # (n_rows, K)
        grid = arrays.values.copy()  # (T, K)
        rows = arrays.rows
        grid[rows] = np.where(arrays.observed_mask[rows], grid[rows], median)
        return to_output(grid, arrays)

    def predict_quantiles(self, X: Any, alpha: Any = None) -> pd.DataFrame:
        """Quantiles of every cell of ``X``; observed cells repeat their value.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Data to impute.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.

        Returns
        -------
        DataFrame of shape (n_timesteps, n_variables * len(alpha))
            Index of ``X``; columns ``MultiIndex(variable, quantile)``.
        """
        alpha = check_alpha(self.quantile_levels if alpha is None else alpha)
        arrays = self._check_input(X)
        q = sample_quantiles(self._samples(arrays), alpha)  # (Q, n_rows, K)
        return quantile_frame(q, arrays.index, arrays.columns, alpha)

    def predict_interval(self, X: Any, coverage: Any = 0.9) -> pd.DataFrame:
        """Central prediction intervals of every cell of ``X``.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Data to impute.
        coverage : float or sequence of float, default=0.9
            Nominal coverages in (0, 1).

        Returns
        -------
        DataFrame
            Index of ``X``; columns ``(variable, coverage, "lower"|"upper")``.
        """
        coverage = check_coverage(coverage)
        arrays = self._check_input(X)
        levels = (*[(1 - c) / 2 for c in coverage], *[(1 + c) / 2 for c in coverage])
        q = sample_quantiles(self._samples(arrays), levels)  # (2C, n_rows, K)
        n_c = len(coverage)
        return interval_frame(q[:n_c], q[n_c:], arrays.index, arrays.columns, coverage)

    def sample(
        self, X: Any, num_samples: int | None = None, random_state: Any = None
    ) -> np.ndarray:
        """Draw imputations.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Data to impute.
        num_samples : int, default=None
            Number of samples; None uses the ``num_samples`` parameter of stochastic
            imputers and 1 for deterministic ones (whose samples all equal the
            point imputation).
        random_state : int, RandomState, Generator or None, default=None
            Seed for fresh draws; None reuses the seed drawn in fit (the draws
            behind ``transform``).

        Returns
        -------
        ndarray of shape (num_samples, n_timesteps, n_variables)
            Observed cells equal the data in every sample.
        """
        arrays = self._check_input(X)
        return self._samples(arrays, num_samples, random_state)
