"""Training by a budget of steps: the cost does not follow the data's length, the
windows are gathered from the series, the learning rate follows its schedule (and a
time budget), and the batch size and seasonal lags resolve as documented."""

import itertools

import numpy as np
import pandas as pd
import pytest
import torch

import tsdiff.engine.training as training
from tsdiff import DiffusionForecaster, DiffusionImputer
from tsdiff.data import WindowSource, sliding_windows
from tsdiff.nn.inputs import lagged


def _series(n_steps, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)[:, None]
    values = np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal((n_steps, 2))
    index = pd.date_range("2024-01-01", periods=n_steps, freq="h")
    return pd.DataFrame(values, index=index, columns=["a", "b"])


@pytest.mark.parametrize("n_steps", [60, 3000])
def test_a_fit_takes_its_budget_of_steps_whatever_the_length(tiny, n_steps):
    fc = DiffusionForecaster(context_length=8, prediction_length=4, **tiny)
    fc.fit(_series(n_steps))
    assert [r["steps"] for r in fc.history_] == [3, 6]  # 2 epochs x 3 steps


def test_an_epoch_can_still_be_one_pass_over_every_window(tiny):
    imp = DiffusionImputer(window_length=8, **(tiny | {"steps_per_epoch": None}))
    imp.fit(_series(60))
    n_windows = 60 - 8 + 1
    per_epoch = -(-n_windows // imp.batch_size_)
    assert [r["steps"] for r in imp.history_] == [per_epoch, 2 * per_epoch]


def test_windows_are_gathered_from_the_series_as_sliding_windows_cut_them():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 3))
    observed = rng.random((30, 3)) > 0.2
    starts = np.array([0, 5, 22])
    source = WindowSource.from_series(values, observed, starts, 8)
    x0, obs, _ = source.batch(torch.tensor([2, 0, 1]))
    expected = sliding_windows(values.astype(np.float32), starts, 8)[[2, 0, 1]]
    np.testing.assert_array_equal(x0.numpy(), expected.transpose(0, 2, 1))
    np.testing.assert_array_equal(
        obs.numpy(), sliding_windows(observed, starts, 8)[[2, 0, 1]].transpose(0, 2, 1)
    )
    with pytest.raises(ValueError, match="every window must lie inside"):
        WindowSource.from_series(values, observed, [25], 8)


def test_the_cosine_rises_to_the_rate_asked_and_ends_near_zero(tiny):
    params = tiny | {"n_epochs": 10, "steps_per_epoch": 4, "learning_rate": 2e-3}
    imp = DiffusionImputer(window_length=8, **params).fit(_series(60))
    rates = [r["learning_rate"] for r in imp.history_]  # at each epoch's end
    # 40 steps: a warm-up of 2, then the cosine, which has passed its peak by the
    # end of the first epoch and reaches 0 at the last step.
    assert 1.9e-3 < rates[0] <= 2e-3
    assert all(a > b for a, b in zip(rates[:-1], rates[1:], strict=True))
    assert rates[-1] == 0.0


def test_a_time_budget_brings_the_cosine_forward(tiny, monkeypatch):
    # Each call of the clock moves it by a second: the 40 planned epochs cannot fit
    # into 12 seconds, so the cosine must end by then, not be cut off high.
    clock = itertools.count(step=1.0)
    monkeypatch.setattr(training.time, "monotonic", lambda: next(clock))
    params = tiny | {"n_epochs": 40, "steps_per_epoch": 2, "max_fit_time": 12.0}
    imp = DiffusionImputer(window_length=8, **params).fit(_series(60))
    last = imp.history_[-1]
    assert last["stopped"] == "max_fit_time" and len(imp.history_) < 40
    planned = 0.5 * (1 + np.cos(np.pi * (last["steps"] - 4) / (80 - 4)))  # no budget
    assert last["learning_rate"] < 0.2 * planned * imp.learning_rate


def test_a_slow_first_epoch_does_not_set_the_pace(tiny, monkeypatch):
    # The first epoch takes 20 s (as compiling does), every later one 1 s: with a
    # budget of 40 s the cosine must plan for the later pace (about 20 epochs more),
    # not for the first epoch's, which would anneal it to zero at once.
    clock = {"now": 0.0}
    train_epoch = training._train_epoch

    def timed_epoch(state, *args, **kwargs):
        clock["now"] += 20.0 if state.steps == 0 else 1.0
        return train_epoch(state, *args, **kwargs)

    monkeypatch.setattr(training, "_train_epoch", timed_epoch)
    monkeypatch.setattr(training.time, "monotonic", lambda: clock["now"])
    params = tiny | {"n_epochs": 100, "steps_per_epoch": 2, "max_fit_time": 40.0}
    imp = DiffusionImputer(window_length=8, **params).fit(_series(60))
    rates = [record["learning_rate"] for record in imp.history_]
    assert imp.history_[-1]["stopped"] == "max_fit_time"
    assert rates[len(rates) // 2] > 0.3 * imp.learning_rate  # still training
    assert rates[-1] < 0.1 * imp.learning_rate  # annealed by the end


def test_the_progress_bar_counts_steps(tiny, capsys):
    DiffusionImputer(window_length=8, **(tiny | {"verbose": True})).fit(_series(60))
    err = capsys.readouterr().err
    assert "6/6" in err and "step" in err


def test_the_automatic_batch_is_the_cpus_and_is_recorded(tiny):
    imp = DiffusionImputer(window_length=8, **(tiny | {"batch_size": "auto"}))
    assert imp.fit(_series(60)).batch_size_ == 32


def test_seasonal_lags_come_from_the_dates_and_fit_the_window(tiny):
    hourly = _series(200)
    fc = DiffusionForecaster(context_length=30, prediction_length=6, **tiny)
    assert fc.fit(hourly).network_.config.lags == (24,)  # a week is too long
    fc.set_params(context_length=10).fit(hourly)
    assert fc.network_.config.lags == ()  # a day is too long
    plain = hourly.reset_index(drop=True)  # no dates, no seasons
    fc.set_params(context_length=30).fit(plain)
    assert fc.network_.config.lags == ()
    fc.set_params(lags=(12, 3)).fit(plain)
    assert fc.network_.config.lags == (3, 12)
    imp = DiffusionImputer(window_length=30, **(tiny | {"lags": "auto"}))
    assert imp.fit(hourly).network_.config.lags == (24,)


def test_lagged_inputs_hold_the_given_values_a_season_away():
    x = torch.arange(1.0, 7.0).reshape(1, 1, 6)  # (B, K, L): 1..6
    given = torch.tensor([[[1, 1, 0, 1, 1, 1]]]).float()
    x_given = x * given
    back, ahead, back_mask, ahead_mask = lagged(x_given, given, (2,))
    assert back.flatten().tolist() == [0, 0, 1, 2, 0, 4]  # t - 2; 3 is not given
    assert ahead.flatten().tolist() == [0, 4, 5, 6, 0, 0]  # t + 2
    assert back_mask.flatten().tolist() == [0, 0, 1, 1, 0, 1]
    assert ahead_mask.flatten().tolist() == [0, 1, 1, 1, 0, 0]


def test_the_interpolated_input_is_a_setting_of_both_estimators(tiny, frame, tmp_path):
    imp = DiffusionImputer(window_length=16, interpolated_input=True, **tiny)
    imp.fit(frame)
    assert imp.network_.config.interpolated_input
    assert imp.network_.input_projection.in_features == 3  # x_cond, x_t, estimate
    imp.save(tmp_path / "imp")
    loaded = DiffusionImputer.load(tmp_path / "imp")
    assert loaded.network_.config.interpolated_input
    np.testing.assert_array_equal(
        loaded.sample(frame, num_samples=2), imp.sample(frame, num_samples=2)
    )
    fc = DiffusionForecaster(
        context_length=8, prediction_length=4, interpolated_input=True, **tiny
    )
    assert fc.fit(frame).network_.config.interpolated_input
    assert np.isfinite(fc.predict_quantiles().to_numpy()).all()
