"""Baselines: output layout, hand-computed values, observed cells, panels, sampling,
and the scikit-learn estimator rules."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from scipy.stats import norm
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.impute import KNNImputer
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from tsdiff.baselines import (
    ARIMAForecaster,
    ETSForecaster,
    InterpolationImputer,
    IterativeImputerBaseline,
    KNNImputerBaseline,
    SeasonalNaiveForecaster,
)

DEFAULT_ALPHA = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


@pytest.fixture(autouse=True)
def _quiet_statsmodels():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="statsmodels")
        yield


def monthly(n=48, seed=0, missing=()):
    """Two seasonal monthly series; ``missing`` rows of column "a" set to NaN."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    a = 10 + 0.1 * t + 2 * np.sin(2 * np.pi * t / 12) + 0.3 * rng.standard_normal(n)
    b = 5 + rng.standard_normal(n)
    index = pd.date_range("2020-01-01", periods=n, freq="MS")
    y = pd.DataFrame({"a": a, "b": b}, index=index)
    y.iloc[list(missing), 0] = np.nan
    return y


def gappy(n=40, k=3, seed=0, missing=0.2):
    """Hourly correlated variables with values missing at random."""
    rng = np.random.default_rng(seed)
    base = np.sin(np.arange(n) / 3)[:, None] + 0.1 * rng.standard_normal((n, k))
    values = base * np.arange(1, k + 1)
    values[rng.random(values.shape) < missing] = np.nan
    index = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.DataFrame(values, index=index, columns=[f"v{i}" for i in range(k)])


FORECASTERS = [
    SeasonalNaiveForecaster(sp=12),
    SeasonalNaiveForecaster(sp=12, method="empirical"),
    ETSForecaster(trend="add", random_state=0),
    ETSForecaster(error="mul", random_state=0),
    ARIMAForecaster(order=(1, 0, 0), trend="c"),
]
IMPUTERS = [
    InterpolationImputer(),
    KNNImputerBaseline(n_neighbors=3),
    IterativeImputerBaseline(max_iter=3, num_samples=5, random_state=0),
]


# -- forecasters ----------------------------------------------------------------------


@pytest.mark.parametrize("est", FORECASTERS, ids=repr)
def test_forecaster_layout(est):
    y = monthly(missing=(3, 20))
    fc = clone(est).fit(y)
    point = fc.predict(fh=3)
    future = pd.date_range("2024-01-01", periods=3, freq="MS")
    assert point.index.equals(future)  # values; the frequency attribute may differ
    pd.testing.assert_index_equal(point.columns, y.columns)
    assert (point.dtypes == np.float64).all() and point.notna().all().all()
    q = fc.predict_quantiles(fh=3, alpha=(0.9, 0.1, 0.5))
    expected = pd.MultiIndex.from_product(
        [["a", "b"], [0.9, 0.1, 0.5]], names=["variable", "quantile"]
    )
    pd.testing.assert_index_equal(q.columns, expected)
    assert (q.dtypes == np.float64).all()
    for var in ("a", "b"):
        assert (q[(var, 0.1)] <= q[(var, 0.5)]).all()
        assert (q[(var, 0.5)] <= q[(var, 0.9)]).all()
        np.testing.assert_array_equal(q[(var, 0.5)], point[var])  # median = predict
    default = fc.predict_quantiles(fh=2)
    assert list(default.columns.get_level_values("quantile")[:7]) == list(DEFAULT_ALPHA)
    iv = fc.predict_interval(fh=[2, 5], coverage=(0.5, 0.9))
    assert iv.columns.names == ["variable", "coverage", "bound"]
    assert list(iv.columns[:4]) == [
        ("a", 0.5, "lower"),
        ("a", 0.5, "upper"),
        ("a", 0.9, "lower"),
        ("a", 0.9, "upper"),
    ]
    assert list(iv.index) == list(future[[1]]) + [pd.Timestamp("2024-05-01")]
    assert (iv[("a", 0.9, "lower")] <= iv[("a", 0.5, "lower")]).all()
    assert fc.sample(fh=4, num_samples=7).shape == (7, 4, 2)


def test_forecaster_series_and_integer_index():
    y = pd.Series(np.arange(20.0) % 4, index=pd.RangeIndex(100, 120), name="load")
    fc = SeasonalNaiveForecaster(sp=4).fit(y, fh=[1, 2])
    point = fc.predict()
    assert isinstance(point, pd.Series) and point.name == "load"
    assert list(point.index) == [120, 121]
    np.testing.assert_array_equal(point, [0.0, 1.0])
    assert list(fc.predict_quantiles(fh=pd.Index([125])).index) == [125]


def test_horizon_variants_agree():
    fc = ARIMAForecaster().fit(monthly())
    by_int = fc.predict(fh=6)
    by_steps = fc.predict(fh=[2, 6])
    by_time = fc.predict(fh=pd.DatetimeIndex(["2024-02-01", "2024-06-01"]))
    pd.testing.assert_frame_equal(by_steps, by_int.iloc[[1, 5]])
    pd.testing.assert_frame_equal(by_time, by_steps)
    with pytest.raises(ValueError, match="horizon"):
        fc.predict()
    with pytest.raises(ValueError, match="fh"):
        fc.predict(fh=0)
    with pytest.raises(ValueError, match="fh"):
        fc.predict(fh=pd.DatetimeIndex(["2023-06-01"]))  # in the past


def test_seasonal_naive_hand_values():
    y = np.array([1.0, 2, 3, 2, 4, 6, 3, 5, 7])
    fc = SeasonalNaiveForecaster(sp=3).fit(y)
    np.testing.assert_array_equal(fc.predict(fh=4).to_numpy().ravel(), [3, 5, 7, 3])
    # residuals y_t - y_{t-3}: 1, 2, 3, 1, 1, 1 -> sample std sqrt(3.5 / 5)
    sigma = np.sqrt(0.7)
    q = fc.predict_quantiles(fh=[1, 4], alpha=(0.1, 0.9)).to_numpy()
    z = norm.ppf(0.9)
    np.testing.assert_allclose(q[0], [3 - z * sigma, 3 + z * sigma])  # h = 1
    np.testing.assert_allclose(
        q[1], [3 - z * sigma * np.sqrt(2), 3 + z * sigma * 2**0.5]
    )
    emp = SeasonalNaiveForecaster(sp=3, method="empirical").fit(y)
    qe = emp.predict_quantiles(fh=[1, 4], alpha=(0.5, 0.9)).to_numpy()
    res = np.array([1.0, 2, 3, 1, 1, 1])
    np.testing.assert_allclose(qe[0], 3 + np.quantile(res, [0.5, 0.9]))
    np.testing.assert_allclose(qe[1], 3 + np.sqrt(2) * np.quantile(res, [0.5, 0.9]))


def test_seasonal_naive_skips_missing_values():
    y = np.array([1.0, 2, 3, 2, 4, 6, 3, np.nan, 7])
    fc = SeasonalNaiveForecaster(sp=3).fit(y)
    np.testing.assert_array_equal(fc.predict(fh=3).to_numpy().ravel(), [3, 4, 7])
    # residuals with a NaN are skipped: 1, 2, 3, 1, 1
    sigma = np.std([1.0, 2, 3, 1, 1], ddof=1)
    iv = fc.predict_interval(fh=[1, 2], coverage=0.8).to_numpy()
    z = norm.ppf(0.9)
    np.testing.assert_allclose(
        iv[:, 1] - iv[:, 0], 2 * z * sigma * np.array([1, 2**0.5])
    )


@pytest.mark.parametrize(
    "est", [ETSForecaster(trend="add"), ARIMAForecaster(order=(1, 1, 0))], ids=repr
)
def test_gaussian_forecasters_match_statsmodels(est):
    y = monthly(missing=(10,))
    fc = clone(est).fit(y)
    q = fc.predict_quantiles(fh=6, alpha=(0.05, 0.25, 0.5, 0.75, 0.95))["a"]
    np.testing.assert_allclose(q[0.05] + q[0.95], 2 * q[0.5])  # symmetric
    np.testing.assert_allclose(q[0.25] + q[0.75], 2 * q[0.5])
    width = (q[0.95] - q[0.05]).to_numpy()
    assert (np.diff(width) > 0).all()  # widens with the horizon
    results = fc.models_[0]
    if isinstance(fc, ETSForecaster):
        pred = results.get_prediction(start=results.nobs, end=results.nobs + 5)
    else:
        pred = results.get_forecast(6)
    frame = pred.summary_frame(alpha=0.1)
    lower = frame["pi_lower"] if "pi_lower" in frame else frame["mean_ci_lower"]
    np.testing.assert_allclose(q[0.05], np.asarray(lower))
    np.testing.assert_allclose(q[0.5], np.asarray(frame["mean"]))


def test_new_history_keeps_fitted_parameters():
    y, short = monthly(), monthly(n=30, seed=5)
    future = pd.date_range("2022-07-01", periods=2, freq="MS")
    naive = SeasonalNaiveForecaster(sp=12).fit(y).predict(fh=2, y=short)
    assert naive.index.equals(future)  # values; the frequency attribute may differ
    np.testing.assert_array_equal(naive["a"], short["a"].iloc[18:20])
    arima = ARIMAForecaster().fit(y)
    params = np.asarray(arima.models_[0].params).copy()
    expected = arima.models_[0].apply(short["a"].to_numpy()).forecast(2)
    np.testing.assert_allclose(arima.predict(fh=2, y=short)["a"], expected)
    np.testing.assert_array_equal(arima.models_[0].params, params)  # no refit
    ets = ETSForecaster(trend="add").fit(y)
    model = ETSModel(pd.Series(short["a"].to_numpy()), error="add", trend="add")
    smoothed = model.smooth(ets.models_[0].params)
    np.testing.assert_allclose(
        ets.predict(fh=2, y=short)["a"], np.asarray(smoothed.forecast(2))
    )


@pytest.mark.parametrize(
    "est",
    [
        ETSForecaster(error="mul", trend="add", random_state=0),  # simulated paths
        ARIMAForecaster(order=(1, 1, 0), random_state=0),
    ],
    ids=["ets-simulated", "arima"],
)
def test_parallel_columns_give_the_same_forecasts(est):
    rng = np.random.default_rng(3)
    y = pd.DataFrame(
        20 + rng.normal(size=(120, 3)).cumsum(axis=0),
        index=pd.date_range("2024-01-01", periods=120, freq="D"),
        columns=["a", "b", "c"],
    )
    one = clone(est).fit(y.iloc[:100])
    many = clone(est).set_params(n_jobs=2).fit(y.iloc[:100])
    for history in (None, y):
        pd.testing.assert_frame_equal(
            many.predict_quantiles(fh=[1, 7], y=history),
            one.predict_quantiles(fh=[1, 7], y=history),
        )
    np.testing.assert_array_equal(
        many.sample(fh=[1, 2], num_samples=4), one.sample(fh=[1, 2], num_samples=4)
    )
    # Plain pickle, as joblib's multiprocessing backend uses, carries the results
    # back too (the simulated distributions hold no closure).
    with parallel_config(backend="multiprocessing"):
        plain = clone(est).set_params(n_jobs=-2).fit(y.iloc[:100])
        pd.testing.assert_frame_equal(
            plain.predict_quantiles(fh=[1, 7], y=y),
            one.predict_quantiles(fh=[1, 7], y=y),
        )
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        clone(est).set_params(n_jobs=0).fit(y)


@pytest.mark.parametrize("est", FORECASTERS + IMPUTERS, ids=repr)
def test_fitted_estimators_pickle(est):
    data = gappy() if hasattr(est, "transform") else monthly()
    fitted = clone(est).fit(data)
    loaded = pickle.loads(pickle.dumps(fitted))
    if hasattr(est, "transform"):
        pd.testing.assert_frame_equal(loaded.transform(data), fitted.transform(data))
    else:
        pd.testing.assert_frame_equal(loaded.predict(fh=2), fitted.predict(fh=2))


@pytest.mark.parametrize("est", FORECASTERS, ids=repr)
def test_forecaster_sampling_is_reproducible(est):
    y = monthly()
    a = clone(est).set_params(random_state=3).fit(y)
    b = clone(est).set_params(random_state=3).fit(y)
    np.testing.assert_array_equal(a.sample(fh=3), b.sample(fh=3))
    np.testing.assert_array_equal(a.sample(fh=3), a.sample(fh=3))
    np.testing.assert_array_equal(
        a.sample(fh=3, random_state=1), b.sample(fh=3, random_state=1)
    )
    assert not np.array_equal(a.sample(fh=3, random_state=1), a.sample(fh=3))


def test_gaussian_samples_follow_the_marginals():
    fc = ARIMAForecaster(random_state=0).fit(monthly())
    draws = fc.sample(fh=2, num_samples=20000)[:, :, 0]  # (S, H)
    q = fc.predict_quantiles(fh=2, alpha=(0.1, 0.5, 0.9))["a"].to_numpy()
    np.testing.assert_allclose(
        np.quantile(draws, [0.1, 0.5, 0.9], axis=0).T, q, atol=0.05
    )


# -- imputers -------------------------------------------------------------------------


@pytest.mark.parametrize("est", IMPUTERS, ids=repr)
def test_imputer_layout_and_observed_cells(est):
    X = gappy()
    X.iloc[0, 0] = X.iloc[-1, 1] = np.nan  # leading and trailing gaps
    before = X.copy()
    imp = clone(est).fit(X)
    out = imp.transform(X)
    pd.testing.assert_frame_equal(X, before)  # input untouched
    assert isinstance(out, pd.DataFrame) and out.shape == X.shape
    pd.testing.assert_index_equal(out.index, X.index)
    pd.testing.assert_index_equal(out.columns, X.columns)
    assert not out.isna().any().any() and (out.dtypes == np.float64).all()
    observed = X.notna().to_numpy()
    np.testing.assert_array_equal(out.to_numpy()[observed], X.to_numpy()[observed])
    q = imp.predict_quantiles(X, alpha=(0.9, 0.5, 0.1))
    expected = pd.MultiIndex.from_product(
        [list(X.columns), [0.9, 0.5, 0.1]], names=["variable", "quantile"]
    )
    pd.testing.assert_index_equal(q.columns, expected)
    pd.testing.assert_index_equal(q.index, X.index)
    for var in X.columns:
        assert (q[(var, 0.1)] <= q[(var, 0.5)]).all()
        assert (q[(var, 0.5)] <= q[(var, 0.9)]).all()
        np.testing.assert_array_equal(q[(var, 0.9)][X[var].notna()], X[var].dropna())
        np.testing.assert_array_equal(q[(var, 0.5)], out[var])  # median = transform
    assert len(imp.predict_quantiles(X).columns) == 3 * len(DEFAULT_ALPHA)
    iv = imp.predict_interval(X, coverage=0.8)
    assert iv.columns.names == ["variable", "coverage", "bound"]
    samples = imp.sample(X, num_samples=4)
    assert samples.shape == (4, *X.shape)
    np.testing.assert_array_equal(
        samples[:, observed],
        np.broadcast_to(X.to_numpy()[observed], (4, observed.sum())),
    )


@pytest.mark.parametrize("est", IMPUTERS, ids=repr)
def test_imputer_containers(est):
    X = gappy(k=2)
    arr = X.to_numpy(dtype=np.float32)
    out = clone(est).fit(arr).transform(arr)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out[~np.isnan(arr)], arr[~np.isnan(arr)])
    s = X["v0"].rename("load")
    out_s = clone(est).fit(s).transform(s)
    assert isinstance(out_s, pd.Series) and out_s.name == "load"
    pd.testing.assert_index_equal(out_s.index, s.index)


def test_interpolation_hand_values_and_pandas_agreement():
    X = pd.DataFrame({"x": [np.nan, 1.0, np.nan, np.nan, 4.0, np.nan]})
    imp = InterpolationImputer().fit(X)
    np.testing.assert_allclose(imp.transform(X)["x"], [1, 1, 2, 3, 4, 4])
    prev = InterpolationImputer(method="previous").fit(X).transform(X)["x"]
    np.testing.assert_array_equal(prev, [1, 1, 1, 1, 4, 4])
    near = InterpolationImputer(method="nearest").fit(X).transform(X)["x"]
    np.testing.assert_array_equal(near, [1, 1, 1, 4, 4, 4])
    Y = gappy(n=200, missing=0.4)
    expected = Y.reset_index(drop=True).interpolate(limit_direction="both")
    got = InterpolationImputer().fit(Y).transform(Y)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_interpolation_uses_the_time_grid_and_training_mean():
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04"])  # day 3 gone
    X = pd.DataFrame({"x": [0.0, np.nan, 3.0], "y": [1.0, 2.0, 3.0]}, index=index)
    imp = InterpolationImputer().fit(X)
    np.testing.assert_allclose(imp.transform(X)["x"], [0.0, 1.0, 3.0])
    empty = X.assign(x=np.nan)
    np.testing.assert_allclose(imp.transform(empty)["x"], 1.5)  # mean of 0 and 3
    with pytest.raises(ValueError, match="no observed value"):
        InterpolationImputer().fit(empty)


def panel():
    """Two stays; interpolating across the boundary would change every gap."""
    index = pd.MultiIndex.from_tuples(
        [(7, 0), (7, 1), (7, 2), (9, 0), (9, 2), (9, 3)], names=["RecordID", "hour"]
    )
    values = {"hr": [60.0, np.nan, np.nan, np.nan, 100.0, 120.0], "temp": [36.0] * 6}
    return pd.DataFrame(values, index=index)


def test_panel_interpolation_stays_within_series():
    X = panel()
    out = InterpolationImputer().fit(X).transform(X)
    pd.testing.assert_index_equal(out.index, X.index)
    # stay 7 ends at 60 (no later value of its own), stay 9 starts at 100
    np.testing.assert_array_equal(out["hr"], [60, 60, 60, 100, 100, 120])
    mixed = X.iloc[[3, 0, 4, 1, 5, 2]]  # series interleaved, each in time order
    out_mixed = InterpolationImputer().fit(mixed).transform(mixed)
    pd.testing.assert_frame_equal(out_mixed, out.iloc[[3, 0, 4, 1, 5, 2]])
    gap = X.copy()
    gap.iloc[4, 0] = np.nan  # stay 9: hours 0..2 missing, hour 3 = 120
    gap.iloc[3, 0] = 80.0  # hour 0 = 80; hour 1 is absent from the index, so
    # on stay 9's hourly grid hour 2 lies 2/3 of the way from 80 to 120
    filled = InterpolationImputer().fit(gap).transform(gap)["hr"]
    np.testing.assert_allclose(filled.iloc[4], 80 + 40 * 2 / 3)
    q = InterpolationImputer().fit(X).predict_quantiles(X, alpha=(0.1, 0.9))
    pd.testing.assert_index_equal(q.index, X.index)
    np.testing.assert_array_equal(q[("hr", 0.1)], q[("hr", 0.9)])


def test_panel_interpolation_matches_pandas_per_series():
    rng = np.random.default_rng(2)
    index = pd.MultiIndex.from_product([list("pqrs"), range(25)], names=["id", "t"])
    X = pd.DataFrame(rng.standard_normal((100, 3)), index=index).mask(
        rng.random((100, 3)) < 0.4
    )
    expected = X.groupby(level=0).transform(
        lambda s: s.interpolate(limit_direction="both")
    )
    got = InterpolationImputer().fit(X).transform(X)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("est", IMPUTERS[1:], ids=repr)
def test_rowwise_imputers_accept_panels(est):
    rng = np.random.default_rng(1)
    index = pd.MultiIndex.from_product([range(4), range(10)], names=["id", "hour"])
    X = pd.DataFrame(rng.standard_normal((40, 3)), index=index, columns=list("abc"))
    X = X.mask(rng.random(X.shape) < 0.2)
    imp = clone(est).fit(X)
    out = imp.transform(X)
    pd.testing.assert_index_equal(out.index, X.index)
    assert not out.isna().any().any()
    assert imp.predict_quantiles(X).index.equals(X.index)


def test_knn_matches_scikit_learn():
    X = gappy(k=4)
    ours = KNNImputerBaseline(n_neighbors=4, weights="distance").fit(X).transform(X)
    ref = KNNImputer(n_neighbors=4, weights="distance").fit_transform(X.to_numpy())
    np.testing.assert_allclose(ours.to_numpy(), ref)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_iterative_imputer_draws_are_probabilistic_and_reproducible():
    X = gappy(n=60, k=4)
    missing = X.isna().to_numpy()
    imp = IterativeImputerBaseline(max_iter=3, num_samples=6, random_state=0).fit(X)
    draws = imp.sample(X)
    assert draws.shape == (6, *X.shape)
    assert (draws[:, missing].std(axis=0) > 0).all()  # every gap varies across draws
    np.testing.assert_array_equal(draws, imp.sample(X))
    again = IterativeImputerBaseline(max_iter=3, num_samples=6, random_state=0).fit(X)
    np.testing.assert_array_equal(draws, again.sample(X))
    assert not np.array_equal(draws, imp.sample(X, random_state=1))
    iv = imp.predict_interval(X, coverage=0.9)
    width = (iv["v0"][(0.9, "upper")] - iv["v0"][(0.9, "lower")]).to_numpy()
    assert (width[missing[:, 0]] > 0).all() and (width[~missing[:, 0]] == 0).all()
    det = IterativeImputerBaseline(max_iter=3, sample_posterior=False).fit(X)
    det_draws = det.sample(X, num_samples=3)
    np.testing.assert_array_equal(det_draws[0], det_draws[2])


# -- estimator rules ------------------------------------------------------------------

ALL = FORECASTERS + IMPUTERS


@pytest.mark.parametrize("est", ALL, ids=repr)
def test_not_fitted_clone_and_params(est):
    fresh = clone(est)
    assert fresh.get_params() == est.get_params()
    assert not any(k.endswith("_") for k in vars(fresh))
    with pytest.raises(NotFittedError):
        if hasattr(fresh, "transform"):
            fresh.transform(gappy())
        else:
            fresh.predict(fh=1)


@pytest.mark.parametrize(
    ("cls", "params", "name"),
    [
        (SeasonalNaiveForecaster, {"sp": 0}, "sp"),
        (SeasonalNaiveForecaster, {"method": "bootstrap"}, "method"),
        (SeasonalNaiveForecaster, {"quantile_levels": (0.5, 1.5)}, "quantile_levels"),
        (ETSForecaster, {"error": "multiplicative"}, "error"),
        (ETSForecaster, {"seasonal": "add", "sp": 1}, "sp"),
        (ETSForecaster, {"damped_trend": True}, "damped_trend"),
        (ARIMAForecaster, {"order": (1, 0)}, "order"),
        (ARIMAForecaster, {"seasonal_order": (1, 0, 0, 1)}, "seasonal_order"),
        (ARIMAForecaster, {"trend": "quadratic"}, "trend"),
        (ARIMAForecaster, {"random_state": -1}, "random_state"),
        (InterpolationImputer, {"method": "spline"}, "method"),
        (KNNImputerBaseline, {"n_neighbors": 0}, "n_neighbors"),
        (KNNImputerBaseline, {"weights": "gaussian"}, "weights"),
        (IterativeImputerBaseline, {"max_iter": 0}, "max_iter"),
        (IterativeImputerBaseline, {"num_samples": 0}, "num_samples"),
        (IterativeImputerBaseline, {"sample_posterior": "yes"}, "sample_posterior"),
    ],
)
def test_bad_parameters_name_the_parameter(cls, params, name):
    data = monthly() if "Forecaster" in cls.__name__ else gappy()
    with pytest.raises(ValueError, match=f"'{name}'"):
        cls(**params).fit(data)


def test_forecaster_inputs_not_modified_and_exogenous_rejected():
    y = monthly(missing=(4,))
    before = y.copy()
    for est in (SeasonalNaiveForecaster(), ETSForecaster(), ARIMAForecaster()):
        est.fit(y).predict(fh=2, y=y)
        pd.testing.assert_frame_equal(y, before)
    with pytest.raises(ValueError, match="exogenous"):
        ARIMAForecaster().fit(y, X=y)
