"""The sktime adapter (optional extra): sktime's own estimator checks, and panels
forecast by one global model."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sktime")

from sktime.utils.estimator_checks import check_estimator  # noqa: E402

from tsdiff.sktime import DiffusionSktimeForecaster  # noqa: E402

TINY = DiffusionSktimeForecaster.get_test_params()[0]


def test_passes_sktime_check_estimator():
    results = check_estimator(DiffusionSktimeForecaster, raise_exceptions=False)
    failed = {name: str(error)[:300] for name, error in results.items()
              if error != "PASSED"}  # fmt: skip
    assert len(results) > 100 and not failed


def test_a_panel_is_one_global_model_with_quantiles_and_intervals():
    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product(
        [["a", "b", "c"], pd.date_range("2024-01-01", periods=30, freq="D")],
        names=["id", "time"],
    )
    y = pd.DataFrame({"sales": rng.normal(size=90).cumsum()}, index=index)
    forecaster = DiffusionSktimeForecaster(**TINY).fit(y, fh=[1, 2, 3])
    assert list(forecaster.forecaster_.series_ids_) == ["a", "b", "c"]  # not 3 fits
    q = forecaster.predict_quantiles(alpha=[0.1, 0.9])
    assert q.shape == (9, 2) and q.index.names == ["id", "time"]
    assert (q.iloc[:, 1] >= q.iloc[:, 0]).all()
    intervals = forecaster.predict_interval(coverage=0.8)
    assert intervals.shape == (9, 2)
    np.testing.assert_allclose(intervals.to_numpy(), q.to_numpy())  # same samples


def test_panel_edges_are_named_not_mislabelled():
    from sktime.forecasting.base import ForecastingHorizon

    rng = np.random.default_rng(1)
    a = pd.date_range("2024-01-01", periods=30, freq="D")
    b = pd.date_range("2024-01-01", periods=28, freq="D")
    index = pd.MultiIndex.from_tuples(
        [("a", t) for t in a] + [("b", t) for t in b], names=["id", "time"]
    )
    y = pd.DataFrame({"v": rng.normal(size=58)}, index=index)
    forecaster = DiffusionSktimeForecaster(**TINY).fit(y, fh=[1, 2])
    # sktime counts from the latest end: the series that ends earlier is forecast
    # for the same dates (its last two days count as missing history).
    dates = pd.date_range("2024-01-31", periods=2, freq="D")
    absolute = ForecastingHorizon(dates, is_relative=False, freq="D")
    median = forecaster.predict(fh=absolute)
    assert list(median.index) == [(k, d) for k in "ab" for d in dates]
    # Covariates given for the horizon, their series in another order than in fit.
    even = y[y.index.get_level_values(1) <= b[-1]]
    X = pd.DataFrame({"x": rng.normal(size=len(even))}, index=even.index)
    with_x = DiffusionSktimeForecaster(**TINY).fit(even, X=X, fh=[1, 2])
    future = pd.MultiIndex.from_product(
        [["b", "a"], pd.date_range(b[-1], periods=5, freq="D")[1:]],
        names=["id", "time"],
    )
    X_future = pd.DataFrame({"x": np.zeros(8)}, index=future)
    assert with_x.predict(X=X_future).shape == (2 * 2, 1)
    # New rows of a series never seen in fit are refused, not dropped.
    new = pd.MultiIndex.from_tuples([("c", b[-1] + pd.Timedelta(days=1))],
                                    names=["id", "time"])  # fmt: skip
    c = pd.DataFrame({"v": [1.0]}, index=new)
    with pytest.raises(ValueError, match="not seen in fit"):
        with_x.update(c, X=c.rename(columns={"v": "x"}), update_params=False)
