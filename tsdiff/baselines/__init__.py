"""Honest comparators with the interface and output layout of the diffusion
estimators, so benchmarks can swap them in.

Forecasters (``fit(y, X=None, fh=None)``, ``predict``, ``predict_quantiles``,
``predict_interval``, ``sample``; one univariate model per column):
:class:`SeasonalNaiveForecaster`, :class:`ETSForecaster` (statsmodels ETS),
:class:`ARIMAForecaster` (statsmodels SARIMAX).

Imputers (``fit(X)``, ``transform``, ``predict_quantiles``, ``predict_interval``,
``sample``; single series or panels with a ``(series id, time)`` MultiIndex):
:class:`InterpolationImputer`, :class:`KNNImputerBaseline` (scikit-learn
KNNImputer), :class:`IterativeImputerBaseline` (scikit-learn IterativeImputer,
multiple imputation).
"""

from tsdiff.baselines._imputers import (
    InterpolationImputer,
    IterativeImputerBaseline,
    KNNImputerBaseline,
)
from tsdiff.baselines._naive import SeasonalNaiveForecaster
from tsdiff.baselines._statsmodels import ARIMAForecaster, ETSForecaster

__all__ = [
    "ARIMAForecaster",
    "ETSForecaster",
    "InterpolationImputer",
    "IterativeImputerBaseline",
    "KNNImputerBaseline",
    "SeasonalNaiveForecaster",
]
