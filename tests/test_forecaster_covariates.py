"""DiffusionForecaster with covariates: known-future X, static features of the
series of a panel and calendar features, all side information, never targets."""

import pickle

import numpy as np
import pandas as pd
import pytest

from tsdiff import DiffusionForecaster

C, H = 8, 4
ALPHA = (0.1, 0.5, 0.9)


def _driven(n=240, seed=0):
    """Hourly load that follows a random known-future driver: the history says
    nothing about the next steps, the driver says everything."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="h")
    driver = np.sign(rng.normal(size=n))
    y = pd.DataFrame({"load": 2 * driver + 0.1 * rng.normal(size=n)}, index=index)
    return y, pd.DataFrame({"price": driver}, index=index)


def _forecaster(tiny, **kwargs):
    return DiffusionForecaster(context_length=C, prediction_length=H, **tiny | kwargs)


def test_forecasts_follow_the_known_future_driver(tiny):
    y, X = _driven()
    params = dict(
        n_channels=16, n_epochs=30, steps_per_epoch=None, batch_size=32,
        n_diffusion_steps=20, calendar=None, lags=None,  # the driver alone
    )  # fmt: skip
    with_x = _forecaster(tiny, **params).fit(y.iloc[:-H], X=X.iloc[:-H])
    without = _forecaster(tiny, **params).fit(y.iloc[:-H])
    truth = np.sign(y.iloc[-H:].to_numpy().ravel())
    before = X.copy()
    median = with_x.predict(X=X.iloc[-H:])
    pd.testing.assert_frame_equal(X, before)  # not modified
    assert list(median.index) == list(y.index[-H:])
    assert (np.sign(median.to_numpy().ravel()) == truth).all()
    # Without the driver the model cannot know the signs: it gets some wrong.
    assert (np.sign(without.predict().to_numpy().ravel()) != truth).any()
    # Other driver values give other forecasts: X is read, not just accepted.
    flipped = with_x.predict(X=-X.iloc[-H:])
    assert (np.sign(flipped.to_numpy().ravel()) == -truth).all()


@pytest.fixture(scope="module")
def fitted(tiny_shared):
    y, X = _driven()
    fc = DiffusionForecaster(
        context_length=C, prediction_length=H, calendar=None, **tiny_shared
    )  # X alone
    return fc.fit(y.iloc[:-20], X=X.iloc[:-20]), y, X


def test_update_and_new_histories_carry_the_covariates(fitted):
    fc, y, X = fitted
    fc = pickle.loads(pickle.dumps(fc))  # a copy to update, at the scale of fit
    fc.set_params(calibration_rate=None)
    new = y.iloc[-17:-10].drop(y.index[-15])  # after a gap, one step skipped
    seen = pd.concat([y.iloc[:-20], new])  # the gaps count as missing
    expected = fc.predict_quantiles(y=seen, X=X, alpha=ALPHA)
    fc.update(new, X=X.iloc[-20:-10])
    assert fc.cutoff_ == y.index[-11] and fc.covariate_context_.shape == (C, 1)
    after = fc.predict_quantiles(X=X.iloc[-10:-6], alpha=ALPHA)
    pd.testing.assert_frame_equal(after, expected)
    # A backtest from the same cutoff forecasts the same.
    bt = fc.backtest(seen, cutoffs=[y.index[-11]], alpha=ALPHA, X=X)
    pd.testing.assert_frame_equal(bt.droplevel(0), expected, check_names=False)
    with pytest.raises(ValueError, match="no values at 2 time points needed to update"):
        fc.update(y.iloc[-9:-8], X=X.iloc[-5:])


def test_covariate_errors_are_named(fitted, tiny):
    fc, y, X = fitted
    with pytest.raises(
        ValueError, match=r"fitted with exogenous covariates \['price'\]"
    ):
        fc.predict()
    with pytest.raises(ValueError, match="X has no values at 2 time points"):
        fc.predict(X=X.iloc[-20:-18])
    with pytest.raises(ValueError, match="differ from those seen in fit"):
        fc.predict(X=X.rename(columns={"price": "cost"}))
    gappy = X.copy()
    gappy.iloc[3, 0] = np.nan
    with pytest.raises(ValueError, match="X has missing values"):
        _forecaster(tiny).fit(y, X=gappy)
    with pytest.raises(ValueError, match="X has no values at 1 time points"):
        _forecaster(tiny).fit(y, X=X.iloc[1:])
    with pytest.raises(TypeError, match="X must be a pandas DataFrame"):
        _forecaster(tiny).fit(y, X=X.to_numpy())
    plain = _forecaster(tiny).fit(y)
    with pytest.raises(ValueError, match="fitted without exogenous covariates"):
        plain.predict(X=X)
    with pytest.raises(ValueError, match="fitted without exogenous covariates"):
        plain.update(y.iloc[-1:].set_axis([y.index[-1] + pd.Timedelta("1h")]), X=X)
    with pytest.raises(ValueError, match="calendar features need a DatetimeIndex"):
        _forecaster(tiny, calendar=("hour",)).fit(y.reset_index(drop=True))
    # "auto" (the default) finds no features in an index without dates.
    assert _forecaster(tiny).fit(y.reset_index(drop=True)).covariates_ is None
    with pytest.raises(ValueError, match="calendar"):
        _forecaster(tiny, calendar=("hour", "weekday")).fit(y)
    with pytest.raises(ValueError, match="static covariates describe the series"):
        _forecaster(tiny).fit(y, static=pd.DataFrame({"size": [1.0]}))


def test_calendar_features_are_sines_and_cosines_of_the_index(tiny):
    y, _ = _driven(n=60)
    fc = _forecaster(tiny, calendar="auto").fit(y)
    assert fc.covariates_.calendar == ("hour", "day_of_week")
    assert fc.network_.config.n_covariates == 4
    context = fc.covariate_context_  # (C, 4): sin/cos of hour, sin/cos of weekday
    hours = y.index[-C:].hour.to_numpy()
    np.testing.assert_allclose(context[:, 0], np.sin(2 * np.pi * hours / 24))
    np.testing.assert_allclose(context[:, 1], np.cos(2 * np.pi * hours / 24))
    assert fc.predict().shape == (H, 1)  # nothing to pass: derived from time
    days = y.set_axis(pd.date_range("2024-01-01", periods=len(y), freq="D"))
    daily = _forecaster(tiny, calendar="auto").fit(days)
    assert daily.covariates_.calendar == ("day_of_week", "month")
    named = _forecaster(tiny, calendar=("month",)).fit(y)
    assert named.network_.config.n_covariates == 2


def _panel_with_covariates():
    frames, drivers = {}, {}
    for key, (n, level) in {"a": (60, 10.0), "b": (50, 100.0)}.items():
        y, X = _driven(n=n + H, seed=len(key) + n)
        frames[key] = level + y.iloc[:n]
        drivers[key] = X
    panel = pd.concat(frames, names=["store", "time"])
    X = pd.concat(drivers, names=["store", "time"])
    static = pd.DataFrame({"size": [1.0, 3.0], "age": [5.0, 2.0]}, index=["a", "b"])
    return panel, X, static


def test_panel_with_known_future_and_static_covariates(tiny, tmp_path):
    panel, X, static = _panel_with_covariates()
    fc = _forecaster(tiny, calendar="auto").fit(panel, X=X, static=static)
    assert fc.network_.config.n_covariates == 1 + 4 + 2
    assert fc.covariate_context_.shape == (2, C, 7)
    expected = fc.predict_quantiles(X=X, alpha=ALPHA)
    assert expected.index.names == ["store", "time"] and len(expected) == 2 * H
    fc.save(tmp_path / "m")
    loaded = DiffusionForecaster.load(tmp_path / "m", device="cpu")
    pd.testing.assert_frame_equal(loaded.predict_quantiles(X=X, alpha=ALPHA), expected)
    # A new history of known series conditions on its own covariates.
    pd.testing.assert_frame_equal(
        fc.predict_quantiles(y=panel, X=X, alpha=ALPHA), expected
    )
    # Static features are known for the series of fit only.
    stranger = panel.loc[["a"]].rename(index={"a": "c"})
    with pytest.raises(ValueError, match=r"No static covariates for series \['c'\]"):
        fc.predict(y=stranger, X=X.rename(index={"a": "c"}))
    with pytest.raises(ValueError, match=r"static has no row for series \['b'\]"):
        _forecaster(tiny).fit(panel, static=static.loc[["a"]])
    # A long table of covariates in the layout of the long y.
    long_fc = _forecaster(tiny).fit(
        panel.reset_index(), X=X.reset_index(), id_col="store", time_col="time"
    )
    assert long_fc.predict(X=X.reset_index()).shape == (2 * H, 1)


def test_short_series_and_calendar_steps_of_a_panel(tiny):
    panel, X, static = _panel_with_covariates()
    short = pd.concat([panel.loc[["a"]], panel.loc[["b"]].iloc[-5:]])  # b: 5 < C
    fc = _forecaster(tiny, calendar="auto").fit(short, X=X, static=static)
    # The padded start of the short series is the same in both paths.
    pd.testing.assert_frame_equal(
        fc.predict_quantiles(X=X, alpha=ALPHA),
        fc.predict_quantiles(y=short, X=X, alpha=ALPHA),
    )
    # Daily series recorded at different hours are still daily.
    a = pd.DataFrame(
        {"v": np.arange(20.0)}, index=pd.date_range("2024-01-01", periods=20, freq="D")
    )
    daily = pd.concat({"x": a, "y": a.shift(12, freq="h")}, names=["id", "t"])
    fitted = _forecaster(tiny, calendar="auto").fit(daily)
    assert fitted.covariates_.calendar == ("day_of_week", "month")


def test_boolean_covariates_are_flags_of_zero_and_one(tiny):
    index = pd.date_range("2024-01-01", periods=96, freq="D")
    holiday = pd.DataFrame({"holiday": index.dayofweek == 6}, index=index)  # bool
    y = pd.Series(np.sin(np.arange(90) / 3) + holiday["holiday"][:90], name="sales")
    as_bool = DiffusionForecaster(context_length=8, prediction_length=6, **tiny)
    as_float = DiffusionForecaster(context_length=8, prediction_length=6, **tiny)
    before = holiday.copy()
    q = as_bool.fit(y, X=holiday.iloc[:90]).predict_quantiles(
        X=holiday.iloc[90:], alpha=[0.1, 0.9]
    )
    pd.testing.assert_frame_equal(holiday, before)  # not modified
    flags = holiday.astype(float)
    expected = as_float.fit(y, X=flags.iloc[:90]).predict_quantiles(
        X=flags.iloc[90:], alpha=[0.1, 0.9]
    )
    pd.testing.assert_frame_equal(q, expected)
    with pytest.raises(TypeError, match="non-numeric columns \\['open'\\]"):
        as_bool.fit(pd.DataFrame({"sales": y, "open": y > 0}))  # a target stays refused
