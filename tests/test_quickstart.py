"""The quickstart's forecaster configuration forecasts the CO2 series' last year
better than seasonal naive, following its yearly cycle and its rise."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm

from tsdiff import DiffusionForecaster, metrics
from tsdiff.baselines import SeasonalNaiveForecaster

QUICKSTART = Path(__file__).parents[1] / "examples" / "quickstart.py"
LEVELS = tuple(np.round(np.arange(1, 20) / 20, 2))


@pytest.fixture(scope="module")
def quickstart():
    spec = importlib.util.spec_from_file_location("quickstart", QUICKSTART)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_quickstart_forecast_beats_seasonal_naive_on_the_last_year(quickstart):
    co2 = sm.datasets.co2.load_pandas().data  # weekly, 59 weeks missing
    horizon = quickstart.FORECASTER["prediction_length"]
    history, truth = co2.iloc[:-horizon], co2.iloc[-horizon:].to_numpy()
    forecaster = DiffusionForecaster(**quickstart.FORECASTER, device="cpu")
    q = forecaster.fit(history).predict_quantiles(alpha=LEVELS)
    naive = SeasonalNaiveForecaster(sp=52, random_state=0).fit(history.interpolate())
    q_naive = naive.predict_quantiles(fh=horizon, alpha=LEVELS)
    score, naive_score = metrics.wql(truth, q), metrics.wql(truth, q_naive)
    assert score < naive_score, (score, naive_score)
    median = q.xs(0.5, axis=1, level="quantile").to_numpy().ravel()
    observed = ~np.isnan(truth.ravel())
    # The yearly cycle: the forecast rises and falls with the truth ...
    assert np.corrcoef(median[observed], truth.ravel()[observed])[0, 1] > 0.9
    # ... and the trend: the year ahead lies above the last year seen.
    assert median.mean() > np.nanmean(history.to_numpy()[-52:]) + 0.5
