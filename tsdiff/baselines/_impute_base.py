"""Shared template of the baseline imputers: the public methods of
:class:`tsdiff.DiffusionImputer` on top of a method that draws imputations."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from tsdiff.baselines._common import draw_seed
from tsdiff.estimation.imputing import ImputeMixin
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.validation import (
    FREQ,
    Levels,
    check_observed,
    check_positive_int,
    set_feature_info,
    validate_params,
)
from tsdiff.frames import SeriesArrays, to_arrays


class _BaseImputer(ImputeMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
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

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from tsdiff.baselines import (
        ...     InterpolationImputer, IterativeImputerBaseline, KNNImputerBaseline)
        >>> X = pd.DataFrame({"a": [1.0, np.nan, 3.0, np.nan, np.nan, 6.0],
        ...                   "b": [2.0, 4.0, np.nan, 8.0, 10.0, 12.0]},
        ...                  index=pd.date_range("2024-01-01", periods=6, freq="h"))
        >>> for imp in (InterpolationImputer(), KNNImputerBaseline(),
        ...             IterativeImputerBaseline(random_state=0)):
        ...     imp = imp.fit(X)
        ...     print(type(imp).__name__, imp.feature_names_in_, imp.mean_.round(2))
        InterpolationImputer ['a' 'b'] [3.33 7.2 ]
        KNNImputerBaseline ['a' 'b'] [3.33 7.2 ]
        IterativeImputerBaseline ['a' 'b'] [3.33 7.2 ]

        A panel, indexed by ``(series id, time)``, fits one imputer on all series:

        >>> panel = pd.concat({"p1": X, "p2": 2 * X}, names=["id", "time"])
        >>> InterpolationImputer().fit(panel).transform(panel).loc["p2", "a"].tolist()
        [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]

        Every variable needs an observed value:

        >>> InterpolationImputer().fit(X.assign(b=np.nan))
        Traceback (most recent call last):
        ...
        ValueError: Columns ['b'] of X have no observed value; ...
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

    def _stochastic_now(self) -> bool:
        return self._stochastic

    def _samples(
        self,
        arrays: SeriesArrays,
        num_samples: Any = None,
        random_state: Any = None,
        calibrate: bool = True,
    ) -> np.ndarray:
        """Imputations of shape (S, n_rows, K) of the input rows; observed cells
        exact (``calibrate`` is for hosts with calibrated intervals)."""
        if num_samples is None:
            num_samples = self.num_samples if self._stochastic_now() else 1
        num_samples = check_positive_int(num_samples, "num_samples")
        seed = self.seed_ if random_state is None else draw_seed(random_state)
        rng = np.random.default_rng(seed)
        n_draws = num_samples if self._stochastic_now() else 1
        draws = self._draws(arrays, n_draws, rng)  # (S', n_rows, K)
        values = arrays.values[arrays.rows]  # (n_rows, K)
        draws = np.where(np.isnan(values), draws, values)
        return np.broadcast_to(draws, (num_samples, *values.shape)).copy()

    def _quantiles(self, samples: np.ndarray, alpha: tuple) -> np.ndarray:
        """Quantiles of shape (Q, ...) over the sample axis, monotone in the level."""
        return sample_quantiles(samples, alpha)
