"""Seasonal naive forecaster with residual-based prediction intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tsdiff.baselines._common import (
    DEFAULT_QUANTILE_LEVELS,
    Gaussian,
    ScaledResiduals,
)
from tsdiff.baselines._forecast_base import (
    FORECASTER_ATTRIBUTES_DOC,
    FORECASTER_PARAMETERS_DOC,
    _BaseForecaster,
)
from tsdiff.estimation.validation import POSITIVE_INT, Options, store_params

__all__ = ["SeasonalNaiveForecaster"]


@dataclass(frozen=True)
class _NaiveModel:
    """Fitted state of one variable."""

    values: np.ndarray  # (T,) training values, NaN where missing
    residuals: np.ndarray  # (R,) observed in-sample errors y_t - y_{t-sp}
    sigma: float  # residual standard deviation (ddof=1)


class SeasonalNaiveForecaster(_BaseForecaster):
    """Seasonal naive forecaster: every future step repeats the last observed value of
    the same season (Hyndman & Athanasopoulos, FPP3 §5.2 and §5.5).

    The in-sample residuals are ``e_t = y_t - y_{t-sp}`` (pairs with a missing value
    are skipped). A forecast ``h`` steps ahead that repeats the value observed ``j``
    seasons earlier (``j = ceil(h / sp)`` when nothing is missing; NaN values are
    skipped, which makes ``j`` larger) has the error of a seasonal random walk over
    ``j`` seasons, so its spread is the residual spread times ``sqrt(j)``
    (FPP3 §5.5, Table 5.2: ``sigma_h = sigma * sqrt(k + 1)``, ``k = floor((h-1)/sp)``).

    * ``method="normal"`` (default): Gaussian with mean the naive value and standard
      deviation ``sigma * sqrt(j)``, ``sigma`` the sample standard deviation
      (ddof=1) of the residuals. The median is the naive value.
    * ``method="empirical"``: the naive value plus ``sqrt(j)`` times the empirical
      residual quantiles (numpy's "linear" method). The median, and so
      :meth:`predict`, is the naive value plus ``sqrt(j)`` times the median
      residual, which differs from the naive value when the residuals are skewed.

    Samples (:meth:`sample`) are drawn independently per step from these marginals
    (Gaussian draws, or resampled residuals): they are not joint paths. Multivariate
    series are forecast one column at a time. A new history passed to the predict
    methods (``y=``) supplies the last seasonal values; the residual spread stays
    the one estimated in fit.

    Parameters
    ----------
    sp : int, default=1
        Seasonal period in time steps; 1 gives the naive (random-walk) forecast.
    method : {"normal", "empirical"}, default="normal"
        Predictive distribution, see above.
    <forecaster parameters>
    random_state : int, RandomState, Generator or None, default=None
        Seeds :meth:`sample`.

    Attributes
    ----------
    models_ : list of _NaiveModel
        Per variable: training values, residuals and residual standard deviation.
    <forecaster attributes>

    References
    ----------
    Hyndman, R.J., & Athanasopoulos, G. (2021). Forecasting: principles and practice,
    3rd edition, OTexts, §5.5 "Distributional forecasts and prediction intervals".
    https://otexts.com/fpp3/prediction-intervals.html

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.baselines import SeasonalNaiveForecaster
    >>> y = np.tile([1.0, 2.0, 3.0], 4)
    >>> SeasonalNaiveForecaster(sp=3).fit(y).predict(fh=4).to_numpy().ravel()
    array([1., 2., 3., 1.])

    The output methods on one model:

    >>> import pandas as pd
    >>> from tsdiff.baselines import SeasonalNaiveForecaster
    >>> values = [5.0, 7.0, 6.0, 8.0, 6.0, 9.0, 7.0, 9.0, 8.0, 10.0, 8.0, 11.0]
    >>> index = pd.date_range("2024-01-01", periods=12, freq="D")
    >>> y = pd.Series(values, index=index, name="sales")
    >>> model = SeasonalNaiveForecaster(sp=2, random_state=0).fit(y)

    ``predict``:

    >>> model.predict(fh=3)  # the last value of each season, repeated
    2024-01-13     8.0
    2024-01-14    11.0
    2024-01-15     8.0
    Freq: D, Name: sales, dtype: float64
    >>> model.predict(fh=2, y=y.iloc[:6])  # from a new history, no refit
    2024-01-07    6.0
    2024-01-08    9.0
    Freq: D, Name: sales, dtype: float64

    ``predict_quantiles``:

    >>> model.predict_quantiles(fh=3, alpha=[0.1, 0.5, 0.9]).round(2)
    variable    sales...
    quantile      0.1   0.5    0.9
    2024-01-13   7.38   8.0   8.62
    2024-01-14  10.38  11.0  11.62
    2024-01-15   7.12   8.0   8.88

    The third step repeats a value two seasons old: its spread is sqrt(2) times
    larger.

    ``predict_interval``:

    >>> model.predict_interval(fh=2, coverage=[0.5, 0.8]).round(2)
    variable    sales...
    coverage      0.5           0.8...
    bound       lower  upper  lower  upper
    2024-01-13   7.67   8.33   7.38   8.62
    2024-01-14  10.67  11.33  10.38  11.62

    ``sample``:

    >>> import numpy as np
    >>> draws = model.sample(fh=3, num_samples=5)
    >>> draws.shape  # (num_samples, len(fh), n_variables)
    (5, 3, 1)
    >>> np.array_equal(draws, model.sample(fh=3, num_samples=5))  # the seed of fit
    True
    >>> np.array_equal(draws, model.sample(fh=3, num_samples=5, random_state=1))
    False
    """

    _parameter_constraints = {
        **_BaseForecaster._parameter_constraints,
        "sp": [POSITIVE_INT],
        "method": [Options(("normal", "empirical"))],
    }

    def __init__(
        self,
        sp: int = 1,
        method: str = "normal",
        *,
        num_samples: int = 100,
        quantile_levels: tuple = DEFAULT_QUANTILE_LEVELS,
        freq: str | None = None,
        random_state: Any = None,
    ):
        store_params(self, locals())

    __doc__ = __doc__.replace(
        "    <forecaster parameters>\n", FORECASTER_PARAMETERS_DOC + "\n"
    ).replace("    <forecaster attributes>\n", FORECASTER_ATTRIBUTES_DOC + "\n")

    def _fit_column(self, values: np.ndarray) -> _NaiveModel:
        residuals = values[self.sp :] - values[: -self.sp]
        residuals = residuals[~np.isnan(residuals)]
        if len(residuals) < 2:
            raise ValueError(
                f"y needs at least 2 pairs of observed values sp={self.sp} steps "
                f"apart in every column to estimate the residual spread; got "
                f"{len(residuals)}."
            )
        _last_of_season(values, self.sp, 1)  # every season needs an observed value
        return _NaiveModel(values, residuals, float(np.std(residuals, ddof=1)))

    def _predictive(
        self, model: _NaiveModel, history: Any, steps: np.ndarray, seed: Any
    ):
        values = model.values if history is None else history
        point, seasons_back = _last_of_season(values, self.sp, steps)
        scale = np.sqrt(seasons_back)  # (H,)
        if self.method == "normal":
            return Gaussian(point, model.sigma * scale)
        return ScaledResiduals(point, scale, model.residuals)


def _last_of_season(
    values: np.ndarray, sp: int, steps: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Last observed value of the season of each future step, and how many seasons
    back it lies; values (T,), steps (H,) -> two arrays of shape (H,)."""
    n = len(values)
    positions = np.flatnonzero(~np.isnan(values))
    last = np.full(sp, -1)
    np.maximum.at(last, positions % sp, positions)  # latest observed per season
    if (last < 0).any():
        raise ValueError(
            f"y has no observed value for {int((last < 0).sum())} of the sp={sp} "
            "seasonal positions; the seasonal naive forecast needs one for each."
        )
    target = n - 1 + np.atleast_1d(steps)  # (H,) positions of the future steps
    source = last[target % sp]
    return values[source], (target - source) // sp
