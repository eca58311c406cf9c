"""Shared template of the baseline forecasters: the public methods of
:class:`tsdiff.DiffusionForecaster`, one univariate model per column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from tsdiff.baselines._common import RANDOM_STATE, draw_seed
from tsdiff.estimation.docs import LEVELS_AND_FREQ_DOC, fill_doc
from tsdiff.estimation.forecasting import TRAINING_SERIES_DOC, ForecastMixin
from tsdiff.estimation.quantiles import monotone_quantiles
from tsdiff.estimation.validation import (
    FREQ,
    POSITIVE_INT,
    Levels,
    check_observed,
    check_positive_int,
    set_feature_info,
    validate_params,
)
from tsdiff.frames import future_index

_MAX_STEPS = 10**7

FORECASTER_PARAMETERS_DOC = f"""\
    num_samples : int, default=100
        Default number of draws of :meth:`sample`.
{LEVELS_AND_FREQ_DOC}"""
"""The parameters every baseline forecaster has, but ``random_state``."""

FORECASTER_ATTRIBUTES_DOC = """\
    columns_ : pandas.Index
        Variables seen in fit.
    n_features_in_ : int
        Number of variables seen in fit.
    freq_ : DateOffset or int
        Step of the time index.
    cutoff_ : object
        Last time point of the training series.
    fh_ : ndarray or None
        Relative horizon given to fit.
    seed_ : int
        Seed of :meth:`sample` when called without ``random_state``."""
"""The fitted attributes every baseline forecaster has, but ``models_``."""


class _BaseForecaster(ForecastMixin, BaseEstimator):
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
    _absolute_error = "future steps of frequency {freq} after the cutoff {cutoff}"
    _range_error = "; they must lie in 1..{limit} (steps after the cutoff)."

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _validate_params(self) -> None:
        validate_params(self, self._parameter_constraints)

    @fill_doc(training_series=TRAINING_SERIES_DOC)
    def fit(self, y: Any, X: Any = None, fh: Any = None):
        """Fit one model per column of ``y``.

        Parameters
        ----------
        {training_series}
        X : None
            Exogenous covariates are not supported; must be None.
        fh : int, sequence of int or pandas.Index, default=None
            Horizon to use when the predict methods get none.

        Returns
        -------
        self
            The fitted forecaster.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from tsdiff.baselines import (ARIMAForecaster, ETSForecaster,
        ...                               SeasonalNaiveForecaster)
        >>> y = pd.Series(5 + np.sin(np.arange(24) / 2),
        ...               index=pd.period_range("2020-01", periods=24, freq="M"))
        >>> for model in (SeasonalNaiveForecaster(sp=12), ETSForecaster(),
        ...               ARIMAForecaster()):
        ...     model = model.fit(y, fh=[1, 2, 3])
        ...     print(type(model).__name__, model.cutoff_, model.fh_)
        SeasonalNaiveForecaster 2021-12 [1 2 3]
        ETSForecaster 2021-12 [1 2 3]
        ARIMAForecaster 2021-12 [1 2 3]

        The horizon given here is the default of the predict methods, which need
        one from somewhere:

        >>> model.predict().index.strftime("%Y-%m").tolist()
        ['2022-01', '2022-02', '2022-03']
        >>> ARIMAForecaster().fit(y).predict()
        Traceback (most recent call last):
        ...
        ValueError: No forecasting horizon: pass fh to the predict method or to fit.
        """
        self._validate_params()
        self._check_no_exogenous(X)
        arrays = self._read_y(y)
        check_observed(arrays, "y")
        set_feature_info(self, arrays)
        self._set_time_info(arrays, fh)
        self.seed_ = draw_seed(self.random_state)
        self.models_ = self._per_column("_fit_column", [(c,) for c in arrays.values.T])
        return self

    def _per_column(self, method: str, arguments: list[tuple]) -> list:
        """``self.<method>(*a)`` for every tuple ``a`` of ``arguments`` (one per
        column), in ``n_jobs`` worker processes where the estimator has that
        parameter. Workers get a fresh estimator of the same parameters, not this
        one with all its fitted models; every column has its own seed, so results do
        not depend on ``n_jobs``."""
        if not hasattr(self, "n_jobs") or self.n_jobs == 1 or len(arguments) < 2:
            return [getattr(self, method)(*a) for a in arguments]
        params = self.get_params(deep=False)
        return Parallel(n_jobs=self.n_jobs)(
            delayed(_column_task)(type(self), params, method, a) for a in arguments
        )

    def _max_step(self) -> int:
        return _MAX_STEPS

    def _default_steps(self) -> np.ndarray:
        raise ValueError(
            "No forecasting horizon: pass fh to the predict method or to fit."
        )

    def _distributions(self, fh: Any, y: Any) -> tuple[list, pd.Index, str, Any]:
        """Predictive distribution of every column, future index, kind and name."""
        check_is_fitted(self)
        arrays, cutoff, kind, name = self._history(y)
        values = None
        if arrays is not None:
            check_observed(arrays, "y")
            values = arrays.values  # (T', K)
        steps = self._relative_steps(fh, cutoff)
        dists = self._per_column(
            "_predictive",
            [
                (
                    model,
                    None if values is None else values[:, k],
                    steps,
                    [self.seed_, k],
                )
                for k, model in enumerate(self.models_)
            ],
        )
        index = future_index(cutoff, self.freq_, steps, name=self._time_name(arrays))
        return dists, index, kind, name

    def _forecast_quantiles(
        self, fh: Any, y: Any, alpha: tuple, X: Any = None
    ) -> tuple[np.ndarray, pd.Index, str, Any]:
        """Quantiles of shape (Q, H, K), non-decreasing in the level, index, kind and
        name."""
        dists, index, kind, name = self._distributions(fh, y)
        q = np.stack([d.quantiles(alpha) for d in dists], axis=-1)  # (Q, H, K)
        return monotone_quantiles(q, alpha), index, kind, name

    def _forecast_samples(
        self, fh: Any, y: Any, num_samples: int | None, random_state: Any, X: Any = None
    ) -> np.ndarray:
        """Draws of shape (num_samples, H, K), one column at a time."""
        num_samples = check_positive_int(
            self.num_samples if num_samples is None else num_samples, "num_samples"
        )
        dists, _, _, _ = self._distributions(fh, y)
        seed = self.seed_ if random_state is None else draw_seed(random_state)
        rng = np.random.default_rng(seed)
        return np.stack([d.sample(rng, num_samples) for d in dists], axis=-1)


def _column_task(cls: type, params: dict, method: str, arguments: tuple) -> Any:
    """One column's work in a worker process, on a fresh estimator."""
    return getattr(cls(**params), method)(*arguments)
