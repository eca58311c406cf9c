"""DiffusionForecaster: horizons, future index arithmetic, new histories, gaps, output
containers and bad input after fit."""

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionForecaster

H = 4


@pytest.fixture
def forecaster(tiny, frame):
    return DiffusionForecaster(context_length=12, prediction_length=H, **tiny).fit(
        frame
    )


def test_fh_forms_agree(forecaster, frame):
    full = forecaster.predict()
    assert len(full) == H
    future = pd.date_range(frame.index[-1], periods=H + 1, freq="h")[1:]
    assert isinstance(full.index, pd.DatetimeIndex) and full.index.equals(future)
    pd.testing.assert_frame_equal(forecaster.predict(fh=H), full)
    same = pd.testing.assert_frame_equal  # frequencies included
    same(forecaster.predict(fh=[2, 4]), full.iloc[[1, 3]])
    same(forecaster.predict(fh=np.array([3])), full.iloc[[2]])
    same(forecaster.predict(fh=future[[0, 3]]), full.iloc[[0, 3]])


def test_fh_given_at_fit_is_the_default(tiny, frame):
    fc = DiffusionForecaster(context_length=12, prediction_length=H, **tiny)
    fc.fit(frame, fh=[1, 2])
    assert len(fc.predict()) == 2
    assert len(fc.predict(fh=4)) == 4


@pytest.mark.parametrize(
    ("index", "expected_next"),
    [
        (
            pd.date_range("2020-01-05", periods=64, freq="W-SUN"),
            pd.Timestamp("2021-03-28"),
        ),
        (pd.period_range("2000-01", periods=64, freq="M"), pd.Period("2005-05", "M")),
        (pd.RangeIndex(0, 128, 2), 128),
    ],
    ids=["weekly", "monthly-period", "range-step-2"],
)
def test_future_index_continues_the_frequency(tiny, frame, index, expected_next):
    data = frame.set_axis(index)
    fc = DiffusionForecaster(context_length=12, prediction_length=H, **tiny).fit(data)
    pred = fc.predict(fh=2)
    assert pred.index[0] == expected_next
    assert type(pred.index) is type(pd.Index([expected_next]))


def test_series_and_array_inputs(tiny, frame):
    s = frame["v0"].rename("load")
    pred = DiffusionForecaster(context_length=12, prediction_length=H, **tiny).fit(s)
    out = pred.predict()
    assert isinstance(out, pd.Series) and out.name == "load"
    arr = frame.to_numpy()
    fc = DiffusionForecaster(context_length=12, prediction_length=H, **tiny).fit(arr)
    out = fc.predict()
    assert list(out.index) == [64, 65, 66, 67]
    assert out.shape == (H, 3)


def test_new_history_at_predict_time(forecaster, frame, make_frame):
    other = make_frame(n_steps=40, seed=5).set_axis(
        pd.date_range("2025-06-01", periods=40, freq="h")
    )
    pred = forecaster.predict(y=other)
    assert pred.index[0] == pd.Timestamp("2025-06-02 16:00")
    assert not np.allclose(pred.to_numpy(), forecaster.predict().to_numpy())
    # A short history (fewer rows than context_length) is padded as missing.
    assert forecaster.predict(y=other.iloc[:5]).shape == (H, 3)


def test_gaps_in_history_are_allowed(tiny, make_frame):
    gappy = make_frame(missing=0.3, seed=2)
    gappy.iloc[-3:, 0] = np.nan
    fc = DiffusionForecaster(context_length=12, prediction_length=H, **tiny).fit(gappy)
    assert np.isfinite(fc.predict_quantiles().to_numpy()).all()


def test_bad_input_after_fit(forecaster, frame):
    with pytest.raises(ValueError, match="prediction_length"):
        forecaster.predict(fh=H + 1)
    with pytest.raises(ValueError, match="not among"):
        forecaster.predict(fh=pd.DatetimeIndex([frame.index[-1] + pd.Timedelta("9h")]))
    with pytest.raises(ValueError, match=r"missing \['v1'\]"):
        forecaster.predict(y=frame.drop(columns="v1").assign(z=0.0))
    with pytest.raises(ValueError, match="exogenous"):
        forecaster.predict(X=frame)
    with pytest.raises(TypeError, match="num_samples"):
        forecaster.sample(num_samples=2.5)
    with pytest.raises(TypeError, match="random_state"):
        forecaster.sample(random_state="x")


def test_time_zone_survives_save_and_load(tiny, frame, tmp_path):
    berlin = frame.tz_localize("Europe/Berlin")
    fc = DiffusionForecaster(context_length=12, prediction_length=H, **tiny)
    before = fc.fit(berlin).predict_quantiles()
    fc.save(tmp_path / "m")
    after = DiffusionForecaster.load(
        tmp_path / "m", device=fc.device
    ).predict_quantiles()
    assert str(after.index.tz) == "Europe/Berlin"
    pd.testing.assert_frame_equal(before, after)


def test_business_days_with_a_holiday_keep_their_calendar(tiny):
    days = pd.bdate_range("2024-01-01", periods=60).delete(10)
    y = pd.DataFrame({"x": np.sin(np.arange(59.0))}, index=days)
    fc = DiffusionForecaster(context_length=12, prediction_length=H, **tiny).fit(y)
    assert (fc.predict().index.day_of_week < 5).all()


def test_integer_index_fh_is_absolute(tiny, frame):
    data = frame.set_axis(pd.RangeIndex(100, 164))
    fc = DiffusionForecaster(context_length=12, prediction_length=H, **tiny).fit(data)
    pred = fc.predict(fh=pd.Index([165, 167]))
    assert list(pred.index) == [165, 167]
    pd.testing.assert_frame_equal(pred, fc.predict().iloc[[1, 3]])


def test_new_history_must_match_the_index_kind_and_step(forecaster, frame):
    with pytest.raises(ValueError, match="index type and step"):
        forecaster.predict(y=frame.to_numpy())
    daily = frame.set_axis(pd.date_range("2024-01-01", periods=64, freq="D"))
    with pytest.raises(ValueError, match="index type and step"):
        forecaster.predict(y=daily)


def _weights(forecaster):
    return {k: v.clone() for k, v in forecaster.network_.state_dict().items()}


@pytest.mark.parametrize("gap", [0, 3, 30])
def test_update_appends_history_without_training(tiny, make_frame, gap):
    frame = make_frame(n_steps=100)
    train, new = frame.iloc[:50], frame.iloc[50 + gap :]
    fc = DiffusionForecaster(  # no adaptive calibration: the intervals keep their scale
        context_length=12, prediction_length=H, calibration_rate=None, **tiny
    ).fit(train)
    weights = _weights(fc)
    before = new.copy()
    # The same forecast as conditioning on the whole series with the gap missing.
    seen = pd.concat([train, new]).reindex(frame.index[: 50 + gap + len(new)])
    expected = fc.predict_quantiles(y=seen, alpha=(0.1, 0.5, 0.9))
    assert fc.update(new) is fc
    pd.testing.assert_frame_equal(fc.predict_quantiles(alpha=(0.1, 0.5, 0.9)), expected)
    assert fc.cutoff_ == frame.index[-1]
    assert fc.predict().index[0] == frame.index[-1] + pd.Timedelta(hours=1)
    pd.testing.assert_frame_equal(new, before)  # not modified
    for key, value in _weights(fc).items():
        assert torch.equal(value, weights[key]), key  # no training


def test_update_refuses_data_that_does_not_continue_the_series(forecaster, frame):
    with pytest.raises(ValueError, match="must start after the cutoff"):
        forecaster.update(frame.iloc[-5:])
    later = frame.iloc[-5:].set_axis(frame.index[-5:] + pd.Timedelta(hours=10))
    with pytest.raises(ValueError, match="other|variables|columns"):
        forecaster.update(later.iloc[:, :2])
    with pytest.raises(ValueError, match="update_params must be False"):
        forecaster.update(later, update_params=True)
    with pytest.raises(ValueError, match="exogenous"):
        forecaster.update(later, X=later)


@pytest.fixture
def long_frame(make_frame):
    return make_frame(n_steps=80)


def test_backtest_from_one_cutoff_is_the_forecast_from_that_history(
    forecaster, long_frame
):
    cutoff = long_frame.index[60]
    bt = forecaster.backtest(long_frame, cutoffs=[cutoff], alpha=(0.1, 0.5, 0.9))
    expected = forecaster.predict_quantiles(
        y=long_frame.loc[:cutoff], alpha=(0.1, 0.5, 0.9)
    )
    assert bt.index.names[0] == "cutoff"
    assert (bt.index.get_level_values(0) == cutoff).all()
    pd.testing.assert_frame_equal(bt.droplevel(0), expected, check_names=False)


def test_backtest_rolling_windows_tile_the_end_of_the_series(forecaster, long_frame):
    before = long_frame.copy()
    bt = forecaster.backtest(long_frame, fh=[1, 2, 3], n_windows=3)
    pd.testing.assert_frame_equal(long_frame, before)  # not modified
    index = long_frame.index
    cutoffs = index[[-10, -7, -4]]  # 3 steps apart, the last horizon ends at the end
    assert list(bt.index.get_level_values(0).unique()) == list(cutoffs)
    assert list(bt.index.get_level_values(1)) == list(index[-9:])
    same = forecaster.backtest(long_frame, fh=[1, 2, 3], cutoffs=cutoffs)
    pd.testing.assert_frame_equal(bt, same)
    as_text = [str(c) for c in cutoffs]  # dates given as strings
    pd.testing.assert_frame_equal(
        forecaster.backtest(long_frame, fh=[1, 2, 3], cutoffs=as_text), bt
    )
    q = bt.to_numpy().reshape(len(bt), -1, len(forecaster.quantile_levels))
    assert (np.diff(q, axis=-1) >= 0).all() and np.isfinite(q).all()
    # A cutoff with fewer than context_length points before it is padded.
    early = forecaster.backtest(long_frame, fh=1, cutoffs=[index[2]])
    assert np.isfinite(early.to_numpy()).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "exactly one of n_windows and cutoffs"),
        ({"n_windows": 2, "cutoffs": [0]}, ValueError, "exactly one"),
        ({"n_windows": 30}, ValueError, "30 windows of 4 steps need at least 121"),
        ({"n_windows": 0}, ValueError, "n_windows"),
        ({"cutoffs": ["2030-01-01"]}, ValueError, "not time points of y"),
        ({"cutoffs": ["soon"]}, ValueError, "not time points of y"),
        (
            {"n_windows": 2, "fh": pd.DatetimeIndex(["2024-01-01"])},
            TypeError,
            "relative",
        ),
        ({"n_windows": 2, "fh": 9}, ValueError, "fh"),
    ],
)
def test_backtest_bad_arguments_are_named(forecaster, long_frame, kwargs, error, match):
    with pytest.raises(error, match=match):
        forecaster.backtest(long_frame, **kwargs)


def test_update_one_row_at_a_time_on_any_index(tiny, make_frame):
    values = make_frame(n_steps=70).to_numpy()
    cases = {
        "integer step 5": pd.DataFrame(values, index=np.arange(0, 350, 5)),
        "array": values,
        "tz datetime": pd.DataFrame(
            values, index=pd.date_range("2024-03-28", periods=70, freq="h", tz="UTC")
        ),
    }
    for name, data in cases.items():
        fc = DiffusionForecaster(  # no adaptive calibration: the same scale as fit
            context_length=12, prediction_length=H, calibration_rate=None, **tiny
        )
        fc.fit(data[:60])
        whole = fc.predict_quantiles(y=data[:64])
        for row in range(60, 64):  # one observation per call, as they arrive
            fc.update(data[row : row + 1])  # an array's rows follow the cutoff
        assert fc.cutoff_ == (63 if name == "array" else data.index[63]), name
        pd.testing.assert_frame_equal(fc.predict_quantiles(), whole, obj=name)
    gapped = DiffusionForecaster(context_length=12, prediction_length=H, **tiny)
    gapped.fit(cases["integer step 5"].iloc[:60])
    gapped.update(cases["integer step 5"].iloc[[62]])  # two steps skipped
    assert gapped.cutoff_ == 310 and np.isnan(gapped.context_[-3:-1]).all()
    with pytest.raises(ValueError, match="do not lie on the training grid"):
        gapped.update(pd.DataFrame(values[:1], index=[313]))


def test_backtest_uses_each_cutoff_once_in_time_order(forecaster, long_frame):
    index = long_frame.index
    bt = forecaster.backtest(long_frame, fh=2, cutoffs=index[[70, 50, 70]])
    assert list(bt.index.get_level_values(0).unique()) == list(index[[50, 70]])
    assert bt.index.is_monotonic_increasing and len(bt) == 4


@pytest.mark.parametrize(
    ("y", "kwargs", "error", "match"),
    [
        (None, {"n_windows": 1}, TypeError, "needs the series y"),
        ("frame", {"cutoffs": []}, ValueError, "cutoffs is empty"),
        (
            "frame",
            {"n_windows": 1, "fh": [pd.Timestamp("2024-01-05")]},
            TypeError,
            "relative steps",
        ),
    ],
)
def test_backtest_more_bad_arguments(forecaster, long_frame, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        forecaster.backtest(long_frame if y == "frame" else y, **kwargs)


def test_forecasts_keep_the_name_of_the_time_index(tiny):
    from tsdiff.baselines import SeasonalNaiveForecaster

    index = pd.date_range("2024-01-01", periods=40, freq="h", name="when")
    y = pd.DataFrame({"a": np.sin(np.arange(40.0))}, index=index)
    fc = DiffusionForecaster(context_length=8, prediction_length=4, **tiny).fit(y)
    assert fc.predict().index.name == "when"
    assert fc.predict_quantiles().index.name == "when"
    renamed = y.rename_axis("t")
    assert fc.predict(y=renamed).index.name == "t"  # a new history's own name
    assert fc.backtest(y, n_windows=1).index.names == ["cutoff", "when"]
    assert SeasonalNaiveForecaster(sp=2).fit(y).predict(fh=2).index.name == "when"


def test_a_forecast_of_evenly_spaced_steps_keeps_a_frequency(forecaster):
    # As rows taken by position from a regular index keep one in pandas.
    assert forecaster.predict().index.freq == pd.offsets.Hour()
    assert forecaster.predict_quantiles().index.freq == pd.offsets.Hour()
    assert forecaster.predict(fh=[2, 4]).index.freq == pd.offsets.Hour(2)
    assert forecaster.predict(fh=[3]).index.freq == pd.offsets.Hour()
    assert forecaster.predict(fh=[1, 2, 4]).index.freq is None  # uneven


def test_an_offset_that_clips_days_forecasts_without_a_frequency():
    # Single monthly steps from 2024-12-30 clip to 2025-02-28 and stay on the 28th,
    # so the first and third (01-30, 03-28) do not follow a "2 months" frequency,
    # which steps from 01-30 to 03-30: that forecast carries none.
    from tsdiff.frames import future_index

    monthly = pd.DateOffset(months=1)
    cutoff = pd.date_range("2024-03-31", periods=10, freq=monthly)[-1]
    times = future_index(cutoff, monthly, np.array([1, 3]))
    assert times.freq is None
    assert list(times) == [cutoff + monthly, cutoff + monthly + monthly + monthly]
    assert future_index(cutoff, monthly, np.array([1, 2])).freq == monthly


def test_an_anchored_weekly_offset_forecasts():
    # date_range(end=..., periods=1) fails for LastWeekOfMonth ("N cannot be 0"):
    # a forecast from the cutoff needs no range before it.
    from tsdiff.frames import future_index

    offset = pd.offsets.LastWeekOfMonth(weekday=4)
    cutoff = pd.date_range("2024-01-01", periods=5, freq=offset)[-1]
    times = future_index(cutoff, offset, np.array([1, 2]))
    assert list(times) == [pd.Timestamp("2024-06-28"), pd.Timestamp("2024-07-26")]
    assert times.freq == offset


@pytest.mark.parametrize(("patch_length", "expected"), [(1, 18), (4, 16)])
def test_a_short_series_shortens_the_context_and_says_so(
    tiny, make_frame, caplog, tmp_path, patch_length, expected
):
    y = make_frame(n_steps=30, n_vars=2, missing=0.0)  # 30 < 24 + 12
    fc = DiffusionForecaster(
        context_length=24, prediction_length=12, patch_length=patch_length, **tiny
    )
    with caplog.at_level("WARNING", logger="tsdiff"):
        fc.fit(y)
    assert fc.context_length_ == expected and fc.context_length == 24  # param kept
    assert f"shortened to {expected} steps" in caplog.text
    assert fc.context_.shape == (expected, 2)
    q = fc.predict_quantiles(alpha=[0.1, 0.9])
    assert len(q) == 12 and np.isfinite(q.to_numpy()).all()
    fc.save(tmp_path / "short")
    assert DiffusionForecaster.load(tmp_path / "short").context_length_ == expected
    with pytest.raises(ValueError, match="too few for a horizon"):
        DiffusionForecaster(context_length=24, prediction_length=12, **tiny).fit(
            y.iloc[:12]
        )


def test_window_parameters_set_after_fit_wait_for_the_next_fit(tiny, make_frame):
    y = make_frame(n_steps=80, n_vars=2, missing=0.0)
    fc = DiffusionForecaster(context_length=8, prediction_length=4, **tiny).fit(y)
    before = fc.predict_quantiles(alpha=[0.1, 0.5, 0.9])
    fc.set_params(prediction_length=8, context_length=16)
    after = fc.predict_quantiles(alpha=[0.1, 0.5, 0.9])  # the fitted window: 8 + 4
    pd.testing.assert_frame_equal(after, before)
    with pytest.raises(ValueError, match="produces steps 1..4"):
        fc.predict(fh=8)
    fc.fit(y)
    assert (fc.context_length_, fc.prediction_length_) == (16, 8)
    assert len(fc.predict()) == 8


def test_a_history_with_nothing_observed_is_forecast_with_a_warning(
    forecaster, frame, caplog
):
    blind = frame.copy()
    blind.iloc[-12:, 1] = np.nan  # v1 unseen over the whole context of 12 steps
    with caplog.at_level("WARNING", logger="tsdiff"):
        forecaster.predict(y=frame)
        assert "hold no value" not in caplog.text
        q = forecaster.predict_quantiles(y=blind, alpha=[0.1, 0.9])
    assert "hold no value of ['v1']" in caplog.text
    assert np.isfinite(q.to_numpy()).all()
