"""The sktime adapters (optional extra): sktime's own estimator checks, panels
forecast and imputed by one global model, and predict_proba."""

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sktime")

from sktime.utils.estimator_checks import check_estimator  # noqa: E402

from tsdiff.sktime import DiffusionSktimeForecaster, DiffusionSktimeImputer  # noqa: E402

TINY = DiffusionSktimeForecaster.get_test_params()[0]
TINY_IMPUTER = DiffusionSktimeImputer.get_test_params()[0]


@pytest.mark.parametrize("cls", [DiffusionSktimeForecaster, DiffusionSktimeImputer])
def test_passes_sktime_check_estimator(cls):
    results = check_estimator(cls, raise_exceptions=False)
    failed = {name: str(error)[:300] for name, error in results.items()
              if error != "PASSED"}  # fmt: skip
    assert len(results) > 100 and not failed


def test_construction_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DiffusionSktimeForecaster()
        DiffusionSktimeImputer()


def _daily(n, columns, seed):
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="D")
    return pd.DataFrame(rng.normal(size=(n, len(columns))).cumsum(0), index, columns)


def test_predict_proba_is_the_empirical_distribution_of_the_samples():
    pytest.importorskip("skpro")
    y = _daily(40, ["a", "b"], seed=0)
    forecaster = DiffusionSktimeForecaster(**TINY).fit(y, fh=[1, 2, 3])
    dist = forecaster.predict_proba()
    assert type(dist).__name__ == "Empirical"
    median = forecaster.predict()
    assert dist.index.equals(median.index) and list(dist.columns) == ["a", "b"]
    # Same seed, same samples: the distribution's mean is the samples' mean.
    samples = forecaster.forecaster_.sample(fh=[1, 2, 3])  # (S, 3, 2)
    np.testing.assert_allclose(dist.mean().to_numpy(), samples.mean(axis=0))
    lo, hi = dist.ppf(0.05).to_numpy(), dist.ppf(0.95).to_numpy()
    assert (lo <= hi).all() and np.isfinite(lo).all()
    draws = dist.sample(2)  # whole sample paths, two of them
    assert draws.shape == (2 * 3, 2)


def test_predict_proba_of_a_panel_has_the_panel_rows():
    pytest.importorskip("skpro")
    index = pd.MultiIndex.from_product(
        [["a", "b"], pd.date_range("2024-01-01", periods=30, freq="D")],
        names=["id", "time"],
    )
    y = pd.DataFrame({"v": np.random.default_rng(2).normal(size=60)}, index=index)
    forecaster = DiffusionSktimeForecaster(**TINY).fit(y, fh=[1, 2])
    dist = forecaster.predict_proba()
    assert dist.index.equals(forecaster.predict().index)
    assert dist.mean().shape == (4, 1)


def test_calibration_windows_pass_through_and_are_validated():
    y = _daily(40, ["a", "b"], seed=2)
    forecaster = DiffusionSktimeForecaster(**TINY | {"calibration_windows": 2})
    forecaster.fit(y, fh=[1, 2, 3])
    model = forecaster.forecaster_
    h = model.prediction_length
    np.testing.assert_array_equal(
        model.calibration_.truth.reshape(-1, 2), y.to_numpy()[-2 * h :]
    )
    interval = forecaster.predict_interval(coverage=0.9)
    assert interval.shape == (3, 4) and np.isfinite(interval.to_numpy()).all()
    # A numpy integer counts, and one short series of a panel does not cut the
    # context: the held-out horizons are needed in the longest series only.
    long, short = _daily(60, ["a"], seed=3), _daily(12, ["a"], seed=4)
    panel = pd.concat({"long": long, "short": short}, names=["id", "time"])
    settings = TINY | {"context_length": 6, "calibration_windows": np.int64(2)}
    model = DiffusionSktimeForecaster(**settings).fit(panel, fh=[1, 2]).forecaster_
    assert (model.context_length, model.prediction_length) == (6, 4)
    assert model.calibration_ is not None
    with pytest.raises(ValueError, match="longest series of y has 12 time points"):
        DiffusionSktimeForecaster(**settings).fit(short, fh=[1, 2])
    for bad in (0, "2"):
        with pytest.raises((ValueError, TypeError), match="calibration_windows"):
            DiffusionSktimeForecaster(**TINY | {"calibration_windows": bad}).fit(
                y, fh=[1, 2, 3]
            )


def test_update_without_training_keeps_every_observation():
    y = _daily(40, ["v"], seed=3)
    forecaster = DiffusionSktimeForecaster(**TINY).fit(y.iloc[:30], fh=[1, 2])
    forecaster.update(y.iloc[30:], update_params=False)
    assert forecaster.seen_y_.index.equals(y.index)
    assert forecaster.forecaster_.cutoff_ == y.index[-1]
    trained = forecaster.forecaster_
    forecaster.update(y.iloc[35:] + 1.0, update_params=True)  # newer values win
    assert forecaster.forecaster_ is not trained  # trained again on everything
    np.testing.assert_allclose(forecaster.seen_y_.iloc[35:], y.iloc[35:] + 1.0)


def test_update_keeps_values_a_new_row_lacks_as_sktime_does():
    y = _daily(30, ["p", "q"], seed=5)
    forecaster = DiffusionSktimeForecaster(**TINY).fit(y.iloc[:28], fh=[1])
    newer = y.iloc[27:].copy()
    newer.iloc[0] = [100.0, np.nan]  # a new p for a day already seen, q unknown
    forecaster.update(newer, update_params=False)
    day = y.index[27]
    assert forecaster.seen_y_.loc[day, "p"] == 100.0
    assert forecaster.seen_y_.loc[day, "q"] == y.loc[day, "q"]
    # An adapter pickled before seen_y_ existed falls back to sktime's own store.
    del forecaster.seen_y_, forecaster.seen_X_
    forecaster._y, forecaster._X = y.iloc[:29], None
    forecaster.update(y.iloc[29:], update_params=True)
    assert forecaster.seen_y_.index.equals(y.index)


def test_imputer_fills_a_panel_with_one_model_and_keeps_observed_values():
    index = pd.MultiIndex.from_product(
        [["a", "b"], pd.date_range("2024-01-01", periods=20, freq="h")],
        names=["id", "time"],
    )
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(40, 2)), index=index, columns=["x", "z"])
    X.iloc[[2, 3, 25], 0] = np.nan
    X.iloc[30, 1] = np.nan
    original = X.copy()
    imputer = DiffusionSktimeImputer(**TINY_IMPUTER)
    filled = imputer.fit_transform(X)
    assert filled.index.equals(X.index) and not filled.isna().any().any()
    observed = original.notna().to_numpy()
    np.testing.assert_array_equal(
        filled.to_numpy()[observed], original.to_numpy()[observed]
    )
    pd.testing.assert_frame_equal(X, original)  # the input is left alone
    assert imputer.imputer_.n_features_in_ == 2  # one model for both series


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


def test_a_short_series_trains_for_the_fh_of_fit_and_keeps_a_context():
    y = _daily(12, ["a"], seed=0)  # too short for the default horizon of 12
    params = {**TINY, "prediction_length": 12, "context_length": 24}
    f = DiffusionSktimeForecaster(**params).fit(y, fh=[1, 2, 3, 4])
    assert f.forecaster_.prediction_length == 4
    assert f.forecaster_.context_length == 8  # the rest of the series
    assert f.predict().index.equals(pd.date_range("2024-01-13", periods=4))
    without_fh = DiffusionSktimeForecaster(**params).fit(y)
    assert without_fh.forecaster_.prediction_length == 11  # all but one point
    with pytest.raises(ValueError, match="12 time steps"):
        DiffusionSktimeForecaster(**params).fit(y, fh=[12])


def test_the_core_forecaster_reads_sktime_horizons_absolute_and_relative(tiny):
    from sktime.forecasting.base import ForecastingHorizon

    from tsdiff import DiffusionForecaster

    y = _daily(60, ["a"], seed=1)
    fc = DiffusionForecaster(context_length=8, prediction_length=4, **tiny)
    fc.fit(y)
    future = pd.date_range(y.index[-1] + pd.Timedelta(days=1), periods=3, freq="D")
    expected = fc.predict(fh=[1, 2, 3])
    for fh in (
        ForecastingHorizon(future, is_relative=False),
        ForecastingHorizon([1, 2, 3], is_relative=True),
    ):
        pd.testing.assert_frame_equal(fc.predict(fh=fh), expected)
