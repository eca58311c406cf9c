"""Interval calibration of DiffusionForecaster on windows held out from training."""

import pickle
import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionForecaster
from tsdiff.data import Scaler
from tsdiff.estimation.calibration import (
    AUTO_MAX_WINDOWS,
    IntervalCalibration,
    _step_blocks,
    auto_calibration_windows,
    interval_factors,
    min_block_cells,
    widen,
)
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.stretching import stretch_levels

C, H, K_WINDOWS = 8, 4, 3
ALPHA = (0.05, 0.5, 0.95)


def _forecaster(tiny, **kwargs):
    params = dict(calibration_windows=K_WINDOWS) | kwargs
    return DiffusionForecaster(context_length=C, prediction_length=H, **tiny | params)


def _key(fc):
    """The one setting whose factor fit found."""
    (key,) = fc.calibration_.factors
    return key


@pytest.fixture
def spy_train(monkeypatch):
    """Records the number of training windows of every fit."""
    seen = []
    original = DiffusionForecaster._train

    def spy(self, windows, *args, **kwargs):
        seen.append(len(windows))
        return original(self, windows, *args, **kwargs)

    monkeypatch.setattr(DiffusionForecaster, "_train", spy)
    return seen


# -- the factor and the stretch ------------------------------------------------------


@pytest.mark.parametrize("coverage", [0.5, 0.9])
def test_factor_is_the_smallest_that_covers_the_held_out_cells(coverage):
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(200, 30, 5, 2))  # unit spread ...
    truth = rng.normal(size=(30, 5, 2)) * np.array([3.0, 0.5])  # truth: wider, narrower
    factors = interval_factors(
        samples, truth, coverage, np.ones((30, 2)), block_cells=30
    )
    assert factors.shape == (5, 2)  # 30 cells per step: a block of its own each
    assert (factors[:, 0] > 2).all() and (factors[:, 1] < 1).all()
    levels = ((1 - coverage) / 2, (1 + coverage) / 2)

    def covered(f):
        low, high = sample_quantiles(widen(samples, f), levels)
        return ((truth >= low) & (truth <= high)).mean(axis=0)  # (H, K)

    n = 30  # cells per step and variable; the conformal rank: ceil((n + 1) * coverage)
    np.testing.assert_allclose(covered(factors), np.ceil((n + 1) * coverage) / n)
    np.testing.assert_allclose(covered(factors * (1 - 1e-6)), covered(factors) - 1 / n)


def test_errors_that_grow_along_the_horizon_get_growing_factors():
    rng = np.random.default_rng(2)
    n, n_h = 40, 6
    samples = rng.normal(size=(300, n, n_h, 1))
    growth = np.linspace(0.5, 3.0, n_h)[None, :, None]  # the truth spreads out
    truth = rng.normal(size=(n, n_h, 1)) * growth
    factors = interval_factors(samples, truth, 0.9, np.ones((n, 1)), block_cells=n)
    factors = factors[:, 0]
    assert factors[-1] > 3 * factors[0]
    low, high = sample_quantiles(widen(samples, factors[:, None]), (0.05, 0.95))
    per_step = ((truth >= low) & (truth <= high)).mean(axis=0)[:, 0]
    np.testing.assert_allclose(per_step, np.ceil(41 * 0.9) / 40)  # every step


def test_too_few_held_out_cells_fall_back_to_one_factor_per_variable():
    rng = np.random.default_rng(3)
    samples = rng.normal(size=(100, 3, 4, 2))  # 3 windows: 12 cells per variable
    truth = rng.normal(size=(3, 4, 2)) * np.linspace(1, 3, 4)[None, :, None]
    truth[1:, :, 1] = np.nan  # variable 1: 4 cells
    factors = interval_factors(samples, truth, 0.9, np.ones((3, 2)))
    assert factors.shape == (4, 2)
    assert np.unique(factors[:, 0]).size == 1  # too few cells: pooled
    assert np.unique(factors[:, 1]).size == 1
    # With blocks of 3 cells variable 0 gets a block per step.
    step_factors = interval_factors(samples, truth, 0.5, np.ones((3, 2)), block_cells=3)
    assert np.unique(step_factors[:, 0]).size > 1


def test_the_default_block_holds_500_cells_at_90_percent():
    # The steps of a window err together: a block needs many windows' cells.
    rng = np.random.default_rng(5)
    growth = np.linspace(1, 3, 4)[None, :, None]
    for n_windows, n_blocks in [(120, 1), (500, 4)]:  # 480 cells; 2000 cells
        samples = rng.normal(size=(50, n_windows, 4, 1))
        truth = rng.normal(size=(n_windows, 4, 1)) * growth
        factors = interval_factors(samples, truth, 0.9, np.ones((n_windows, 1)))
        assert np.unique(factors[:, 0]).size == n_blocks


def test_a_calibration_from_before_per_step_factors_keeps_one_per_variable():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=(30, 4, 2)) * np.linspace(1, 3, 4)[None, :, None]
    scaler = Scaler(center=np.zeros((30, 2)), scale=np.ones((30, 2)))
    old = IntervalCalibration(np.zeros((30, 5, 2)), truth, scaler, None)  # as loaded
    samples = rng.normal(size=(40, 30, 4, 2)).astype(np.float32)
    factors = old.factors_for("key", 0.9, "linear", lambda: samples)
    assert factors.shape == (2,)
    pooled = interval_factors(samples, truth, 0.9, scaler.scale, by_step=False)
    np.testing.assert_array_equal(factors, pooled)
    assert interval_factors(samples, truth, 0.9, scaler.scale).shape == (4, 2)


def test_blocks_hold_enough_cells_and_a_remainder_joins_the_last():
    assert _step_blocks(np.array([10, 10, 10, 10, 5]), 20) == [slice(0, 2), slice(2, 5)]
    assert _step_blocks(np.array([3, 3]), 20) == [slice(0, 2)]
    assert _step_blocks(np.array([25, 0, 0]), 20) == [slice(0, 3)]


def test_a_variable_without_observed_truth_keeps_factor_one():
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(50, 4, 3, 2))
    truth = 5 * rng.normal(size=(4, 3, 2))
    truth[..., 1] = np.nan
    factors = interval_factors(samples, truth, 0.9, np.ones((4, 2)))
    assert (factors[:, 0] > 1).all() and (factors[:, 1] == 1.0).all()


def test_threads_that_need_new_factors_at_once_find_them_once():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(6, 3, 2))  # (N, H, K)
    scaler = Scaler(center=np.zeros((6, 2)), scale=np.ones((6, 2)))
    calibration = IntervalCalibration(np.zeros((6, 4, 2)), truth, scaler, None)
    draws = []

    def draw():
        draws.append(1)
        time.sleep(0.05)  # long enough for every thread to ask meanwhile
        return rng.normal(size=(50, 6, 3, 2))

    found = []
    threads = [
        threading.Thread(
            target=lambda: found.append(
                calibration.factors_for("key", 0.9, "linear", draw)
            )
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(draws) == 1 and len(found) == 8
    assert all(np.array_equal(f, found[0]) for f in found)
    copy = pickle.loads(pickle.dumps(calibration))  # the lock is not pickled
    assert np.array_equal(copy.factors_for("key", 0.9, "linear", draw), found[0])
    assert len(draws) == 1


def test_widen_stretches_every_quantile_about_the_median():
    rng = np.random.default_rng(2)
    samples = rng.gamma(2.0, size=(101, 6, 2))  # skewed: the stretch keeps the shape
    out = widen(samples, np.array([2.0, 0.5]))
    q, q_out = sample_quantiles(samples, ALPHA), sample_quantiles(out, ALPHA)
    np.testing.assert_allclose(q_out[1], q[1])
    np.testing.assert_allclose(q_out - q[1], (q - q[1]) * np.array([2.0, 0.5]))


# -- the forecaster ------------------------------------------------------------------


def test_training_leaves_the_held_out_tail_out(tiny, make_frame, spy_train):
    frame = make_frame(n_steps=60, n_vars=2, missing=0.0)
    fc = _forecaster(tiny).fit(frame)
    assert spy_train == [60 - K_WINDOWS * H - (C + H) + 1]
    cal = fc.calibration_
    values = frame.to_numpy()
    assert cal.contexts.shape == (K_WINDOWS, C, 2)
    assert cal.truth.shape == (K_WINDOWS, H, 2)
    np.testing.assert_array_equal(cal.truth.reshape(-1, 2), values[-K_WINDOWS * H :])
    np.testing.assert_array_equal(cal.contexts[-1], values[-H - C : -H])
    # The held-out steps are history: the forecast starts after the end of y.
    assert fc.predict().index[0] == frame.index[-1] + frame.index.freq
    np.testing.assert_array_equal(fc.context_, values[-C:])


def test_forecasts_are_stretched_by_the_factor_of_their_sampler(tiny, make_frame):
    frame = make_frame(n_steps=60, n_vars=2, missing=0.05)
    fc = _forecaster(tiny).fit(frame)
    key = _key(fc)
    factors = fc.calibration_.factors[key]
    n_levels = len(stretch_levels(fc.calibration_coverage))
    assert factors.shape == (n_levels, fc.prediction_length, 2)
    assert np.all(factors > 0)
    calibrated = fc.predict_quantiles(alpha=ALPHA)
    fc.calibration_.factors[key] = np.ones_like(factors)
    raw = fc.predict_quantiles(alpha=ALPHA)
    for k, name in enumerate(frame.columns):
        np.testing.assert_allclose(calibrated[name][0.5], raw[name][0.5], rtol=1e-6)
        for level in (0.05, 0.95):  # rows: the horizon's steps, each its factor
            np.testing.assert_allclose(  # the 90 % interval: the coverage factor
                calibrated[name][level] - raw[name][0.5],
                factors[-1, :, k] * (raw[name][level] - raw[name][0.5]),
                atol=1e-9,
            )
    fc.calibration_.factors[key] = factors
    # Another sampler gets its own factor, found on first use; the first is kept.
    fc.set_params(sampler="ddim", sampling_steps=3)
    fc.predict()
    assert len(fc.calibration_.factors) == 2
    np.testing.assert_array_equal(fc.calibration_.factors[key], factors)


def test_neither_network_nor_scaler_sees_the_held_out_values(tiny, make_frame):
    frame = make_frame(n_steps=60, n_vars=2, missing=0.0)
    changed = frame.copy()
    changed.iloc[-K_WINDOWS * H :] *= 50.0
    a, b = _forecaster(tiny).fit(frame), _forecaster(tiny).fit(changed)
    np.testing.assert_array_equal(a.scaler_.center, b.scaler_.center)
    np.testing.assert_array_equal(a.scaler_.scale, b.scaler_.scale)
    for (name, wa), wb in zip(
        a.network_.state_dict().items(), b.network_.state_dict().values(), strict=True
    ):
        assert torch.equal(wa, wb), name
    assert not np.allclose(a.calibration_.truth, b.calibration_.truth)


@pytest.mark.parametrize("coverage", [0.5, 0.8])
def test_calibrated_intervals_cover_the_held_out_values_at_the_set_rate(
    tiny, make_frame, coverage
):
    frame = make_frame(n_steps=80, n_vars=2, missing=0.1)
    fc = _forecaster(tiny, calibration_windows=6, num_samples=20).fit(frame)
    fc.set_params(calibration_coverage=coverage)  # a new key, no refit
    cal = fc.calibration_
    samples = fc._sample_horizons(  # the draws that set the factor, stretched
        cal.contexts, cal.scaler, fc.num_samples, fc.predict_seed_, cal.covariates
    )
    assert len(cal.factors) == 2
    levels = ((1 - coverage) / 2, (1 + coverage) / 2)
    low, high = sample_quantiles(samples, levels)
    inside = (cal.truth >= low) & (cal.truth <= high)  # (N, H, K)
    seen = ~np.isnan(cal.truth)
    for k in range(2):  # each block of steps covers at the conformal rate
        counts = seen[:, :, k].sum(axis=0)
        for steps in _step_blocks(counts, min_block_cells(coverage)):
            n = seen[:, steps, k].sum()
            rate = inside[:, steps, k].sum() / n
            np.testing.assert_allclose(rate, np.ceil((n + 1) * coverage) / n)


def test_each_number_of_samples_has_its_own_factor(tiny, make_frame):
    frame = make_frame(n_steps=60, n_vars=1)
    fc = _forecaster(tiny, num_samples=6).fit(frame)
    fc.sample(num_samples=12)
    fc.set_params(num_samples=24)
    fc.predict()
    assert sorted(
        k.split(":samples=")[1].split(":")[0] for k in fc.calibration_.factors
    ) == ["12", "24", "6"]
    cal = fc.calibration_
    for key, factors in cal.factors.items():  # each found on draws of its own size
        n = int(key.split(":samples=")[1].split(":")[0])
        raw = fc._sample_horizons(
            cal.contexts, cal.scaler, n, fc.predict_seed_, cal.covariates,
            calibrated=False,
        )  # fmt: skip
        expected = interval_factors(
            raw, cal.truth, 0.9, cal.scaler.scale, fc.quantile_method,
            levels=stretch_levels(0.9),
        )  # fmt: skip
        np.testing.assert_array_equal(factors, expected)
    one = fc.sample(num_samples=1)  # one draw: nothing to stretch, no new factor
    assert one.shape[0] == 1 and len(fc.calibration_.factors) == 3


def test_backtest_and_sample_are_calibrated_too(tiny, make_frame):
    frame = make_frame(n_steps=60, n_vars=1, missing=0.0)
    fc = _forecaster(tiny, num_samples=16, calibration_rate=None).fit(frame)
    key = _key(fc)  # (a backtest without adaptive calibration: factors alone)
    fc.calibration_.factors[key] = np.array([4.0])
    wide = fc.sample(random_state=3)[:, :, 0]  # (S, H)
    fc.calibration_.factors[key] = np.array([1.0])
    raw = fc.sample(random_state=3)[:, :, 0]
    np.testing.assert_allclose(
        wide - np.median(wide, axis=0), 4.0 * (raw - np.median(raw, axis=0)), atol=1e-9
    )
    fc.calibration_.factors[key] = np.array([4.0])
    wide_bt = fc.backtest(frame, fh=H, n_windows=2, alpha=(0.05, 0.95))
    fc.calibration_.factors[key] = np.array([1.0])
    raw_bt = fc.backtest(frame, fh=H, n_windows=2, alpha=(0.05, 0.95))
    width = np.diff(wide_bt.to_numpy(), axis=1)
    np.testing.assert_allclose(width, 4.0 * np.diff(raw_bt.to_numpy(), axis=1))


def test_calibration_survives_save_load_and_pickle(tiny, make_frame, tmp_path):
    import pickle

    frame = make_frame(n_steps=60, n_vars=2)
    fc = _forecaster(tiny).fit(frame)
    expected = fc.predict_quantiles(alpha=ALPHA)
    fc.save(tmp_path / "model")
    for again in (
        DiffusionForecaster.load(tmp_path / "model", device="cpu"),
        pickle.loads(pickle.dumps(fc)),
    ):
        assert again.calibration_.factors.keys() == fc.calibration_.factors.keys()
        pd.testing.assert_frame_equal(again.predict_quantiles(alpha=ALPHA), expected)


def test_a_panel_with_covariates_holds_out_every_series_tail(tiny, spy_train):
    rng = np.random.default_rng(0)
    # c: 14 steps, one window, but too short to train on once 2 horizons are held
    # out; d: 6 steps, all of them in its tail.
    parts, lengths = {}, {"a": 60, "b": 40, "c": 14, "d": 6}
    for i, (name, n) in enumerate(lengths.items()):
        index = pd.date_range(f"2024-01-0{i + 1}", periods=n, freq="D")
        parts[name] = pd.DataFrame({"y": 10 * i + rng.normal(size=n)}, index=index)
    panel = pd.concat(parts, names=["id", "time"])
    fc = _forecaster(tiny, calendar="auto", calibration_windows=2).fit(panel)
    assert spy_train == [(60 - 2 * H - (C + H) + 1) + (40 - 2 * H - (C + H) + 1)]
    cal = fc.calibration_
    # a, b, c: 2 windows each; d: only the second cutoff has history.
    truth = [parts[n]["y"].to_numpy()[-2 * H :] for n in "abc"]
    truth.append(parts["d"]["y"].to_numpy()[-H:])
    np.testing.assert_array_equal(cal.truth[..., 0].ravel(), np.concatenate(truth))
    np.testing.assert_array_equal(cal.scaler.center.ravel(), np.repeat(
        fc.scaler_.center.ravel(), [2, 2, 2, 1]))  # fmt: skip
    # The scaling statistics of a, b, c leave the tails out; d has only its tail.
    for i, name in enumerate("abcd"):
        y = parts[name]["y"].to_numpy()
        used = y if name == "d" else y[: -2 * H]
        np.testing.assert_allclose(fc.scaler_.center[i, 0], used.mean())
    # The calendar features of each window: those of its own dates.
    fresh = _forecaster(tiny, calendar="auto", calibration_windows=None)
    fresh.fit(panel)
    expected = fresh._window_covariates(
        None,
        pd.Index(["a"]),
        pd.Index([parts["a"].index[-H - 1]]),  # the second cutoff of a
        pd.Index([parts["a"].index[0]]),
        "forecast",
    )  # (1, C + H, n_cov)
    np.testing.assert_allclose(cal.covariates[1], expected[0])
    q = fc.predict_quantiles(alpha=ALPHA)
    assert q.shape == (4 * H, 3) and np.isfinite(q.to_numpy()).all()


def test_a_fit_stopped_by_its_time_limit_leaves_the_factors_to_the_forecast(
    tiny, make_frame
):
    frame = make_frame(n_steps=60, n_vars=1)
    fc = _forecaster(tiny | {"n_epochs": 3}, max_fit_time=1e-9).fit(frame)
    assert fc.history_[-1]["stopped"] == "max_fit_time" and len(fc.history_) == 1
    assert fc.calibration_.factors == {}
    fc.predict()
    assert len(fc.calibration_.factors) == 1


def test_without_calibration_nothing_is_held_out(tiny, make_frame, spy_train):
    frame = make_frame(n_steps=40, n_vars=1)
    fc = _forecaster(tiny, calibration_windows=None).fit(frame)
    assert fc.calibration_ is None
    assert spy_train == [40 - (C + H) + 1]


def test_a_pickle_from_before_calibration_loads_with_the_defaults(tiny, make_frame):
    import pickle

    fc = _forecaster(tiny, calibration_windows=None).fit(make_frame(n_steps=40))
    state = fc.__getstate__()
    for name in ("calibration_windows", "calibration_coverage", "calibration_"):
        del state[name]
    old = DiffusionForecaster.__new__(DiffusionForecaster)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.get_params()["calibration_windows"] is None
    pd.testing.assert_frame_equal(old.predict(), fc.predict())


@pytest.mark.parametrize(
    "params, match",
    [
        ({"calibration_windows": 0}, "calibration_windows"),
        ({"calibration_windows": 1.5}, "calibration_windows"),
        ({"calibration_windows": "always"}, "calibration_windows"),
        ({"calibration_coverage": 1.0}, "calibration_coverage"),
        ({"calibration_coverage": 0}, "calibration_coverage"),
    ],
)
def test_bad_calibration_parameters_are_named(tiny, make_frame, params, match):
    with pytest.raises(ValueError, match=match):
        _forecaster(tiny, **params).fit(make_frame(n_steps=60))


def test_too_short_for_windows_and_a_held_out_tail(tiny, make_frame):
    frame = make_frame(n_steps=20, n_vars=1)  # one window, no room for 3 horizons
    with pytest.raises(ValueError, match=r"calibration_windows\) = 24"):
        _forecaster(tiny).fit(frame)
    _forecaster(tiny, calibration_windows=None).fit(frame)  # fits without


# -- calibration_windows="auto" ------------------------------------------------------


@pytest.mark.parametrize(
    "lengths, window, horizon, expected",
    [
        ([1000], 60, 24, 4),  # a tenth of 1000 steps holds 4 horizons of 24
        ([1000] * 3, 60, 24, 4),  # per series
        ([100, 1000, 1000], 60, 24, 4),  # the median's tenth; short series hold less
        ([10**6], 60, 24, AUTO_MAX_WINDOWS),  # capped
        ([200], 60, 24, 0),  # a tenth is less than one horizon
        ([400], 60, 10, 4),  # 4 x 10 = 40 held-out values: enough for one factor
        ([150], 60, 5, 3),  # 15 values: too few for one factor (20)
    ],
)
def test_auto_holds_out_a_tenth_of_the_median_series(
    lengths, window, horizon, expected
):
    got = auto_calibration_windows(np.array(lengths), window, horizon, 0.9)
    if expected == 3:  # the case with too few values for a factor
        assert got == 0
        assert auto_calibration_windows(np.array(lengths), window, horizon, 0.5) == 3
    else:
        assert got == expected


def test_auto_keeps_a_training_window_in_the_longest_series():
    # a tenth of 400 steps would hold 4 horizons of 10, but a window of 370 steps
    # leaves room for 3 only
    assert auto_calibration_windows(np.array([400]), 370, 10, 0.9) == 3
    assert auto_calibration_windows(np.array([400]), 395, 10, 0.9) == 0


def test_the_default_calibrates_a_long_series_and_fits_a_short_one(
    tiny, make_frame, spy_train
):
    fc = DiffusionForecaster(context_length=C, prediction_length=H, **tiny)
    assert fc.get_params()["calibration_windows"] == "auto"
    fc.fit(make_frame(n_steps=200, n_vars=2))  # a tenth: 20 steps, 5 horizons
    assert fc.calibration_windows_ == 5
    assert fc.calibration_.truth.shape == (5, H, 2)
    assert spy_train[-1] == 200 - 5 * H - (C + H) + 1  # the tail does not train
    assert fc.predict().shape == (H, 2)
    fc.fit(make_frame(n_steps=30, n_vars=2))  # a tenth is less than a horizon
    assert fc.calibration_windows_ == 0
    assert fc.calibration_ is None
    assert spy_train[-1] == 30 - (C + H) + 1


def test_auto_in_a_panel_holds_the_same_horizons_in_every_series(tiny, make_frame):
    panel = pd.concat(
        {f"s{i}": make_frame(n_steps=n, n_vars=1) for i, n in enumerate((40, 80, 90))},
        names=["id", "time"],
    )
    fc = DiffusionForecaster(context_length=C, prediction_length=H, **tiny).fit(panel)
    assert fc.calibration_windows_ == 2  # a tenth of the median series, 80 steps
    assert fc.calibration_.truth.shape == (3 * 2, H, 1)
