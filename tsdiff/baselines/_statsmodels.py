"""Forecasters wrapping statsmodels' ETS and SARIMAX state-space models."""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np
import pandas as pd

from tsdiff.baselines._common import (
    DEFAULT_QUANTILE_LEVELS,
    Gaussian,
    SimulatedPaths,
)
from tsdiff.baselines._forecast_base import (
    FORECASTER_ATTRIBUTES_DOC,
    FORECASTER_PARAMETERS_DOC,
    _BaseForecaster,
)
from tsdiff.estimation.validation import (
    POSITIVE_INT,
    InstanceOf,
    Interval,
    Options,
    store_params,
)

__all__ = ["ARIMAForecaster", "ETSForecaster"]

# statsmodels computes exact (Gaussian) prediction variances for these ETS models
# only; the others get simulated prediction intervals (ets.PredictionResults).
_EXACT_ETS = ("ANN", "AAN", "AAdN", "ANA", "AAA", "AAdA")
_SIMULATION_PATHS = 1000  # statsmodels' default simulate_repetitions


class _IntTuple:
    """Accepts a tuple or list of ``length`` non-negative ints."""

    def __init__(self, length: int):
        self.length = length

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is such a tuple."""
        return (
            isinstance(value, (tuple, list))
            and len(value) == self.length
            and all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0
                for v in value
            )
        )

    def __str__(self) -> str:
        return f"a tuple of {self.length} non-negative ints"


N_JOBS = [None, Interval(int, 1, None), Interval(int, None, -1)]
"""Worker processes as joblib counts them: None, a positive count, or -1 for every
core (-2 all but one, and so on)."""

_STATSMODELS_DOC = f"""\
{FORECASTER_PARAMETERS_DOC}
    random_state : int, RandomState, Generator or None, default=None
        Seeds :meth:`sample` (and the simulated distributions of ETS models without
        exact variances).
    n_jobs : int or None, default=None
        Worker processes that fit and forecast the variables' models in parallel,
        as joblib counts them: 1 one at a time, -1 every core, None one unless an
        enclosing ``joblib.parallel_config`` says otherwise. Results do not depend
        on it; warnings raised in workers are not passed back.

    Attributes
    ----------
    models_ : list
        Fitted statsmodels results, one per variable.
{FORECASTER_ATTRIBUTES_DOC}"""


def _interpolated(values: np.ndarray) -> pd.Series:
    """Values (T,) with NaN filled by linear interpolation (nearest value at the
    ends), as a Series on a RangeIndex (ETS prediction needs a pandas endog)."""
    return pd.Series(values).interpolate(method="linear", limit_direction="both")


class ETSForecaster(_BaseForecaster):
    """Exponential smoothing (ETS) forecaster wrapping statsmodels'
    :class:`~statsmodels.tsa.exponential_smoothing.ets.ETSModel`, one model per
    column, fitted by maximum likelihood.

    statsmodels' ETS does not accept missing values, so NaN in ``y`` (and in a new
    history passed to the predict methods) is filled by linear interpolation along
    time first (leading and trailing gaps take the nearest observed value).

    The predictive distribution is the one statsmodels reports
    (``ETSResults.get_prediction``, statsmodels 0.15
    https://www.statsmodels.org/stable/generated/statsmodels.tsa.exponential_smoothing.ets.ETSResults.get_prediction.html):
    for the additive models with exact variances (error "add" with no or additive
    trend and season) it is Gaussian with mean ``predicted_mean`` and variance
    ``var_pred_mean`` (= ``forecast_variance``), which gives every quantile level and
    the median equals the mean; :meth:`sample` draws each step independently from
    this Gaussian (marginal, not joint paths). For the other models statsmodels
    simulates: quantiles come from 1000 simulated paths (``ETSResults.simulate``,
    seeded from ``random_state``) and :meth:`sample` returns fresh simulated joint
    paths. A new history passed to the predict methods (``y=``) is smoothed with the
    fitted parameters (``ETSModel.smooth``), without refitting.

    Parameters
    ----------
    error : {"add", "mul"}, default="add"
        Error model.
    trend : {"add", "mul"} or None, default=None
        Trend component.
    seasonal : {"add", "mul"} or None, default=None
        Seasonal component.
    sp : int, default=1
        Seasonal period (``seasonal_periods``); at least 2 when ``seasonal`` is set.
    damped_trend : bool, default=False
        Damp the trend (needs a trend).
    <statsmodels parameters>

    References
    ----------
    Hyndman, R.J., & Athanasopoulos, G. (2021). Forecasting: principles and practice,
    3rd edition, OTexts, chapter 8.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.baselines import ETSForecaster
    >>> rng = np.random.default_rng(0)
    >>> y = pd.Series(10 + 0.5 * np.arange(30) + rng.normal(0, 0.3, 30),
    ...               index=pd.date_range("2024-01-01", periods=30, freq="D"))
    >>> y.iloc[[5, 6]] = np.nan  # filled by interpolation before fitting
    >>> model = ETSForecaster(trend="add").fit(y)
    >>> point = model.predict(fh=3)
    >>> point.index.strftime("%Y-%m-%d").tolist()
    ['2024-01-31', '2024-02-01', '2024-02-02']
    >>> np.diff(point).round(1).tolist()  # Holt's linear trend: 0.5 a day
    [0.5, 0.5]

    The output methods on one model:

    >>> from tsdiff.baselines import ETSForecaster
    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> trend = 10 + 0.5 * np.arange(30) + rng.normal(0, 0.3, 30)
    >>> y = pd.DataFrame({"trend": trend, "level": 5 + rng.normal(0, 1, 30)},
    ...                  index=pd.date_range("2024-01-01", periods=30, freq="D"))
    >>> model = ETSForecaster(trend="add").fit(y)

    ``predict``:

    >>> point = model.predict(fh=3)
    >>> point.shape
    (3, 2)
    >>> point.index.strftime("%Y-%m-%d").tolist()
    ['2024-01-31', '2024-02-01', '2024-02-02']
    >>> point.columns.tolist()
    ['trend', 'level']
    >>> model.predict(fh=[1, 2], y=y.iloc[:20]).index[0]  # a new history, no refit
    Timestamp('2024-01-21 00:00:00')

    ``predict_quantiles``:

    >>> q = model.predict_quantiles(fh=3, alpha=[0.05, 0.5, 0.95])
    >>> q.columns.tolist()[:3]
    [('trend', 0.05), ('trend', 0.5), ('trend', 0.95)]
    >>> q.xs(0.5, axis=1, level="quantile").equals(model.predict(fh=3))
    True
    >>> bool(np.allclose(q["trend", 0.05] + q["trend", 0.95], 2 * q["trend", 0.5]))
    True

    ``predict_interval``:

    >>> bands = model.predict_interval(fh=3, coverage=[0.5, 0.9])
    >>> bands.shape
    (3, 8)
    >>> bands["level"].columns.tolist()
    [(0.5, 'lower'), (0.5, 'upper'), (0.9, 'lower'), (0.9, 'upper')]
    >>> level = bands["level"]
    >>> wide = level[0.9, "upper"] - level[0.9, "lower"]
    >>> bool((wide > level[0.5, "upper"] - level[0.5, "lower"]).all())
    True

    ``sample``:

    >>> draws = model.sample(fh=3, num_samples=2000, random_state=0)
    >>> draws.shape  # (num_samples, len(fh), n_variables)
    (2000, 3, 2)
    >>> mean = model.predict(fh=3).to_numpy()
    >>> bool(np.allclose(draws.mean(axis=0), mean, atol=0.1))
    True
    """

    _parameter_constraints = {
        **_BaseForecaster._parameter_constraints,
        "error": [Options(("add", "mul"))],
        "trend": [None, Options(("add", "mul"))],
        "seasonal": [None, Options(("add", "mul"))],
        "sp": [POSITIVE_INT],
        "damped_trend": [InstanceOf((bool, np.bool_), "a bool")],
        "n_jobs": N_JOBS,
    }

    def __init__(
        self,
        error: str = "add",
        trend: str | None = None,
        seasonal: str | None = None,
        sp: int = 1,
        damped_trend: bool = False,
        *,
        num_samples: int = 100,
        quantile_levels: tuple = DEFAULT_QUANTILE_LEVELS,
        freq: str | None = None,
        random_state: Any = None,
        n_jobs: int | None = None,
    ):
        store_params(self, locals())

    __doc__ = __doc__.replace("    <statsmodels parameters>\n", _STATSMODELS_DOC + "\n")

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.seasonal is not None and self.sp < 2:
            raise ValueError(
                "The 'sp' parameter of ETSForecaster must be at least 2 when seasonal "
                f"is set. Got {self.sp!r} instead."
            )
        if self.damped_trend and self.trend is None:
            raise ValueError(
                "The 'damped_trend' parameter of ETSForecaster can only be True with "
                "a trend. Got damped_trend=True with trend=None instead."
            )

    def _model(self, values: np.ndarray):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        return ETSModel(
            _interpolated(values),
            error=self.error,
            trend=self.trend,
            damped_trend=bool(self.damped_trend),
            seasonal=self.seasonal,
            seasonal_periods=self.sp if self.seasonal is not None else None,
        )

    def _fit_column(self, values: np.ndarray):
        return self._model(values).fit(disp=False)

    def _predictive(self, model: Any, history: Any, steps: np.ndarray, seed: Any):
        results = (
            model if history is None else self._model(history).smooth(model.params)
        )
        horizon = int(steps.max())
        if results.model.short_name in _EXACT_ETS:
            pred = results.get_prediction(
                start=results.nobs, end=results.nobs + horizon - 1
            )
            mean = np.asarray(pred.predicted_mean, dtype=np.float64)[steps - 1]
            var = np.asarray(pred.var_pred_mean, dtype=np.float64)[steps - 1]
            return Gaussian(mean, np.sqrt(np.maximum(var, 0.0)))

        # A partial of a module-level function, not a closure: worker processes
        # (n_jobs) send the distribution back by pickle.
        simulate = functools.partial(_simulated_paths, results, horizon, steps)
        reference = simulate(_SIMULATION_PATHS, np.random.default_rng(seed))
        return SimulatedPaths(reference, simulate)


def _simulated_paths(
    results: Any,
    horizon: int,
    steps: np.ndarray,
    num_samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``num_samples`` ETS paths ``horizon`` steps past the end of ``results``, at the
    relative ``steps``: shape (num_samples, len(steps))."""
    paths = results.simulate(horizon, anchor="end", repetitions=num_samples, rng=rng)
    paths = np.asarray(paths, dtype=np.float64).reshape(horizon, num_samples)
    return paths.T[:, steps - 1]  # (num_samples, H)


class ARIMAForecaster(_BaseForecaster):
    """(Seasonal) ARIMA forecaster wrapping statsmodels'
    :class:`~statsmodels.tsa.statespace.sarimax.SARIMAX`, one model per column,
    fitted by maximum likelihood.

    SARIMAX handles missing values natively (the Kalman filter skips them), so NaN
    in ``y`` needs no filling. The predictive distribution is Gaussian with mean
    ``get_forecast(h).predicted_mean`` and variance ``get_forecast(h).var_pred_mean``
    (statsmodels 0.15, ``PredictionResults``:
    https://www.statsmodels.org/stable/generated/statsmodels.tsa.statespace.mlemodel.PredictionResults.html);
    the median equals the mean. :meth:`sample` draws each step independently from
    these Gaussian marginals (not joint paths). A new history given to the predict
    methods is filtered with the fitted parameters (``results.apply``).

    Parameters
    ----------
    order : tuple of 3 int, default=(1, 0, 0)
        Non-seasonal ``(p, d, q)``.
    seasonal_order : tuple of 4 int, default=(0, 0, 0, 0)
        Seasonal ``(P, D, Q, s)``; ``s`` is at least 2 when ``P``, ``D`` or ``Q`` is
        positive.
    trend : {"n", "c", "t", "ct"} or None, default=None
        Deterministic trend, as in SARIMAX (None means none).
    <statsmodels parameters>

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.baselines import ARIMAForecaster
    >>> rng = np.random.default_rng(0)
    >>> y = pd.Series(5 + rng.normal(0, 1, 40), name="level",
    ...               index=pd.period_range("2020-01", periods=40, freq="M"))
    >>> y.iloc[[3, 10, 11]] = np.nan  # the Kalman filter skips missing values
    >>> model = ARIMAForecaster(order=(1, 0, 0), trend="c").fit(y)
    >>> model.predict(fh=2).index.strftime("%Y-%m").tolist()
    ['2023-05', '2023-06']
    >>> model.predict_interval(fh=1, coverage=0.9).columns.tolist()
    [('level', 0.9, 'lower'), ('level', 0.9, 'upper')]

    The output methods answer as those of :class:`ETSForecaster` (see its
    examples): Gaussian predictive distributions, so quantiles are symmetric about
    the point forecast.
    """

    _parameter_constraints = {
        **_BaseForecaster._parameter_constraints,
        "order": [_IntTuple(3)],
        "seasonal_order": [_IntTuple(4)],
        "trend": [None, Options(("n", "c", "t", "ct"))],
        "n_jobs": N_JOBS,
    }

    def __init__(
        self,
        order: tuple = (1, 0, 0),
        seasonal_order: tuple = (0, 0, 0, 0),
        trend: str | None = None,
        *,
        num_samples: int = 100,
        quantile_levels: tuple = DEFAULT_QUANTILE_LEVELS,
        freq: str | None = None,
        random_state: Any = None,
        n_jobs: int | None = None,
    ):
        store_params(self, locals())

    __doc__ = __doc__.replace("    <statsmodels parameters>\n", _STATSMODELS_DOC + "\n")

    def _validate_params(self) -> None:
        super()._validate_params()
        *seasonal, period = self.seasonal_order
        if period == 1 or (any(seasonal) and period < 2):
            raise ValueError(
                "The 'seasonal_order' parameter of ARIMAForecaster must have a period "
                "s of at least 2 when it has seasonal terms (or s=0 without). Got "
                f"{self.seasonal_order!r} instead."
            )

    def _fit_column(self, values: np.ndarray):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        model = SARIMAX(
            values,
            order=tuple(self.order),
            seasonal_order=tuple(self.seasonal_order),
            trend=self.trend,
        )
        return model.fit(disp=False)

    def _predictive(self, model: Any, history: Any, steps: np.ndarray, seed: Any):
        results = model if history is None else model.apply(history)
        forecast = results.get_forecast(int(steps.max()))
        mean = np.asarray(forecast.predicted_mean, dtype=np.float64)[steps - 1]
        var = np.asarray(forecast.var_pred_mean, dtype=np.float64)[steps - 1]
        return Gaussian(mean, np.sqrt(np.maximum(var, 0.0)))
