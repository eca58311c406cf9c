"""DiffusionForecaster on panels: one global model for many series, given as a
``(series id, time)`` MultiIndex, a long table or a 3-D array."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionForecaster

C, H = 12, 4
LEVELS = {"small": 10.0, "large": 5000.0, "short": -3.0}


def _panel(seed=0):
    """Three daily series of two variables at very different levels, lengths and
    starts (the last one too short to cut a training window), with gaps."""
    rng = np.random.default_rng(seed)
    frames = []
    shapes = [(70, "2024-01-01"), (50, "2024-01-11"), (10, "2024-02-20")]
    for (key, level), (n, start) in zip(LEVELS.items(), shapes, strict=True):
        t = np.arange(n)
        values = np.stack(
            [level * (1 + 0.05 * np.sin(t / 2)), rng.normal(size=n)], axis=1
        )  # (n, 2)
        values[rng.random(values.shape) < 0.05] = np.nan
        index = pd.MultiIndex.from_arrays(
            [[key] * n, pd.date_range(start, periods=n, freq="D")],
            names=["store", "day"],
        )
        frames.append(pd.DataFrame(values, index=index, columns=["sales", "noise"]))
    return pd.concat(frames)


@pytest.fixture(scope="module")
def panel():
    return _panel()


def _forecaster(tiny, **kwargs):
    return DiffusionForecaster(context_length=C, prediction_length=H, **tiny | kwargs)


@pytest.fixture(scope="module")
def fitted(tiny_shared, panel):
    return _forecaster(tiny_shared).fit(panel)


def test_one_model_forecasts_every_series_after_its_own_cutoff(fitted, panel):
    before = panel.copy()
    median = fitted.predict()
    pd.testing.assert_frame_equal(panel, before)  # not modified
    assert median.index.names == ["store", "day"]
    assert list(median.index.get_level_values(0).unique()) == list(LEVELS)
    ends = panel.reset_index(level=1).groupby(level=0, sort=False)["day"].max()
    assert list(fitted.cutoffs_) == list(ends) and fitted.cutoff_ == ends.max()
    for key, end in ends.items():
        days = median.loc[key].index
        assert list(days) == list(pd.date_range(end, periods=H + 1, freq="D")[1:])
    # Each series is scaled by its own statistics: forecasts keep its level.
    sales = median["sales"].groupby(level=0).mean()
    for key, level in LEVELS.items():
        assert abs(sales[key] - level) < 0.5 * abs(level), (key, sales[key])
    assert fitted.scaler_.center.shape == (3, 2)
    assert fitted.context_.shape == (3, C, 2)
    q = fitted.predict_quantiles(fh=[1, 3], alpha=(0.1, 0.5, 0.9))
    assert q.shape == (3 * 2, 2 * 3) and np.isfinite(q.to_numpy()).all()
    assert (q.xs(0.9, axis=1, level=1) >= q.xs(0.1, axis=1, level=1)).all().all()
    assert fitted.predict_interval(coverage=0.8).shape == (3 * H, 2 * 2)
    assert fitted.sample(num_samples=5).shape == (5, 3, H, 2)


def test_frame_long_table_and_array_panels_train_the_same_model(tiny, panel):
    equal = panel.loc[["small", "large"]].groupby(level=0).tail(50)  # 2 x 50 days
    # No seasonal lags or calendar: an array has no dates to find them from.
    tiny = tiny | {"lags": None, "calendar": None}
    by_frame = _forecaster(tiny).fit(equal)
    long = equal.reset_index()
    by_long = _forecaster(tiny).fit(long, id_col="store", time_col="day")
    cube = equal.to_numpy().reshape(2, 50, 2)  # (series, time, variables)
    by_array = _forecaster(tiny).fit(cube)
    expected = by_frame.predict_quantiles(alpha=(0.1, 0.9))
    for other in (by_long, by_array):
        np.testing.assert_allclose(
            other.predict_quantiles(alpha=(0.1, 0.9)).to_numpy(), expected.to_numpy()
        )
    assert by_array.predict().index.names == ["series", "time"]
    assert by_array.predict().index[0] == (0, 50)
    # Later calls read a long table in the layout of fit.
    pd.testing.assert_frame_equal(by_long.predict(y=long), by_long.predict())


def test_new_histories_keep_the_statistics_of_known_series(fitted, panel):
    pd.testing.assert_frame_equal(fitted.predict(y=panel), fitted.predict())
    # A series never seen in fit is scaled by its own history.
    new = panel.loc[["small"]].rename(index={"small": "new"}) * 1000.0
    median = fitted.predict(y=new)
    assert list(median.index.get_level_values(0).unique()) == ["new"]
    assert abs(median["sales"].mean() - 10_000.0) < 5_000.0


def test_backtest_on_a_panel_is_batched_over_cutoffs_and_series(fitted, panel):
    two = panel.loc[["small", "large"]]
    bt = fitted.backtest(two, fh=[1, 2], n_windows=2, alpha=(0.5,))
    assert bt.index.names == ["cutoff", "store", "day"]
    for key in ("small", "large"):
        days = two.loc[key].index
        cutoffs = bt.xs(key, level="store").index.get_level_values(0).unique()
        assert list(cutoffs) == list(days[[-5, -3]])
    cutoffs = bt.index.get_level_values(0)
    assert cutoffs.is_monotonic_increasing  # cutoff-major
    # From one shared cutoff: the forecast of the panel cut at that time point.
    day = pd.Timestamp("2024-02-25")
    one = fitted.backtest(panel, cutoffs=[day], alpha=(0.1, 0.5, 0.9))
    cut = panel[panel.index.get_level_values(1) <= day]
    expected = fitted.predict_quantiles(y=cut, alpha=(0.1, 0.5, 0.9))
    pd.testing.assert_frame_equal(one.droplevel(0), expected, check_names=False)


def test_update_moves_the_cutoff_of_the_series_given(tiny, panel):
    fc = _forecaster(tiny, calibration_rate=None).fit(panel)  # the scale of fit
    weights = {k: v.clone() for k, v in fc.network_.state_dict().items()}
    day = fc.cutoffs_[1] + pd.Timedelta(days=2)  # one step skipped: missing
    new = pd.DataFrame(
        {"sales": [5100.0], "noise": [0.3]},
        index=pd.MultiIndex.from_tuples([("large", day)], names=["store", "day"]),
    )
    whole = pd.concat([panel, new]).sort_index(level=0, sort_remaining=True)
    whole = whole.loc[list(LEVELS)]  # keep the series order of fit
    expected = fc.predict_quantiles(y=whole, alpha=(0.1, 0.5, 0.9))
    fc.update(new)
    assert fc.cutoffs_[1] == day and list(fc.cutoffs_[[0, 2]]) == list(
        panel.reset_index(level=1)
        .groupby(level=0, sort=False)["day"]
        .max()[["small", "short"]]
    )
    pd.testing.assert_frame_equal(fc.predict_quantiles(alpha=(0.1, 0.5, 0.9)), expected)
    for key, value in fc.network_.state_dict().items():
        assert torch.equal(value, weights[key]), key
    unseen = new.rename(index={"large": "nope"})
    with pytest.raises(ValueError, match="'nope', which was not seen in fit"):
        fc.update(unseen)
    with pytest.raises(ValueError, match="fitted on a panel"):
        fc.update(new.droplevel(0))


def test_panel_model_survives_save_load_and_pickle(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    loaded = DiffusionForecaster.load(tmp_path / "m", device="cpu")
    expected = fitted.predict_quantiles(alpha=(0.1, 0.9))
    pd.testing.assert_frame_equal(loaded.predict_quantiles(alpha=(0.1, 0.9)), expected)
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(
        restored.predict_quantiles(alpha=(0.1, 0.9)), expected
    )


def test_panel_errors_are_named(fitted, tiny, panel):
    with pytest.raises(ValueError, match="fitted on a panel: pass y as a panel"):
        fitted.predict(y=panel.loc["small"])
    with pytest.raises(TypeError, match="end at different time points"):
        fitted.predict(fh=pd.date_range("2024-03-01", periods=2, freq="D"))
    with pytest.raises(ValueError, match="both id_col and time_col"):
        _forecaster(tiny).fit(panel.reset_index(), id_col="store")
    with pytest.raises(ValueError, match="longest series of y has 10 time steps"):
        DiffusionForecaster(prediction_length=10, **tiny).fit(panel.loc[["short"]])
    with pytest.raises(ValueError, match="cutoffs"):
        fitted.backtest(panel, cutoffs=["1999-01-01"])
    cube = np.zeros((2, 0, 3))
    with pytest.raises(ValueError, match="empty"):
        _forecaster(tiny).fit(cube)


def test_a_one_series_model_forecasts_a_panel_with_its_statistics(tiny, panel):
    small = panel.loc["small"]
    fc = _forecaster(tiny).fit(small)
    one = pd.concat({"a": small}, names=["store", "day"])
    median = fc.predict(y=one)
    assert median.index.names == ["store", "day"]
    np.testing.assert_array_equal(median.to_numpy(), fc.predict().to_numpy())
    assert median.loc["a"].index.equals(fc.predict().index)
    two = pd.concat({"a": small, "b": small * 100}, names=["store", "day"])
    assert fc.predict(y=two).shape == (2 * H, 2)


def test_fh_at_fit_short_series_and_single_rows_on_a_panel(tiny, panel):
    fc = _forecaster(tiny).fit(panel, fh=[1, 3])
    assert list(fc.fh_) == [1, 3] and len(fc.predict()) == 3 * 2
    # A series of two time points takes the step of the others ("D", not "24h").
    two = pd.concat([panel.loc[["small"]].iloc[-2:], panel.loc[["large"]]])
    assert fc.predict(y=two).shape == (2 * 2, 2)
    ones = panel.groupby(level=0).tail(1)  # one time point per series
    assert fc.predict(y=ones).shape == (3 * 2, 2)
    cube = fc.context_[:, -2:]  # (3 series, 2 new steps, 2 variables)
    fc.update(cube)
    assert list(fc.cutoffs_) == list(
        panel.reset_index(level=1).groupby(level=0, sort=False)["day"].max()
        + pd.Timedelta(days=2)
    )


def test_a_failed_refit_leaves_an_unfitted_forecaster(tiny, panel):
    from sklearn.exceptions import NotFittedError

    fc = _forecaster(tiny).fit(panel.loc["small"])
    with pytest.raises(ValueError, match="X has no values"):
        fc.fit(panel.loc["large"], X=panel.loc["large"].iloc[5:].fillna(0.0))
    with pytest.raises(NotFittedError):
        fc.predict()
