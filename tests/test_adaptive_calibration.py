"""Adaptive calibration: ``update`` scores the forecasts made before the values
arrived and moves each variable's interval scale (``calibration_rate``)."""

import pickle

import numpy as np
import pandas as pd
import pytest

from tsdiff import DiffusionForecaster
from tsdiff.estimation.quantiles import sample_quantiles

C, H = 8, 4


def _forecaster(tiny, **kwargs):
    params = dict(calibration_windows=None, calibration_rate=0.5, num_samples=16)
    return DiffusionForecaster(
        context_length=C, prediction_length=H, **tiny | params | kwargs
    )


def _central(fc, coverage=0.9):
    """The central interval of the next forecast, each of shape (H, K)."""
    samples = fc.sample(random_state=0)  # (S, H, K)
    return sample_quantiles(samples, ((1 - coverage) / 2, (1 + coverage) / 2))


@pytest.fixture
def series(make_frame):
    return make_frame(n_steps=60, n_vars=2, missing=0.0)


def test_values_outside_the_intervals_widen_them_and_inside_narrow_them(tiny, series):
    fc = _forecaster(tiny).fit(series.iloc[:40])
    low, high = _central(fc)
    future = series.index[40:44]
    far = pd.DataFrame(high + 10 * (high - low), index=future, columns=series.columns)
    fc.update(far)  # every value missed: alpha = 0.1, a whole horizon
    np.testing.assert_allclose(fc.interval_drift_, 0.5 * (1 - 0.1))
    wide_low, wide_high = _central(fc)
    assert ((wide_high - wide_low) > (high - low)).all()
    median = fc.predict()  # the values the next forecast centres on
    before = fc.interval_drift_.copy()
    fc.update(median.set_axis(fc.predict().index))  # every value inside
    np.testing.assert_allclose(fc.interval_drift_, before - 0.5 * 0.1)


def test_without_a_rate_update_draws_nothing_and_keeps_the_intervals(
    tiny, series, monkeypatch
):
    fc = _forecaster(tiny, calibration_rate=None).fit(series.iloc[:40])
    calls = []
    monkeypatch.setattr(
        DiffusionForecaster, "_adapt_intervals", lambda *a: calls.append(a)
    )
    fc.update(series.iloc[40:44])
    assert calls == [] and not hasattr(fc, "interval_drift_")


def test_missing_values_and_steps_beyond_the_horizon_are_not_scored(tiny, series):
    fc = _forecaster(tiny).fit(series.iloc[:40])
    low, high = _central(fc)
    values = high + 10 * (high - low)  # (H, K): all outside
    values[:, 1] = np.nan  # variable 1 gives nothing
    index = series.index[40 : 40 + H + 2]  # two steps past the horizon
    extra = np.full((2, 2), 1e6)  # far off, but beyond the scored horizon
    fc.update(
        pd.DataFrame(np.vstack([values, extra]), index=index, columns=series.columns)
    )
    np.testing.assert_allclose(fc.interval_drift_, [0.5 * 0.9, 0.0])


def _miss_rates(tiny, make_frame, rate):
    """Miss rate of the 90 % interval of each forecast along a series whose noise
    grows after training, updating after each horizon."""
    rng = np.random.default_rng(0)
    n_train, n_new = 40, 200
    frame = make_frame(n_steps=n_train + n_new, n_vars=1, missing=0.0)
    frame.iloc[n_train:] += rng.standard_normal((n_new, 1))
    fc = _forecaster(tiny, calibration_rate=rate, num_samples=20)
    fc.fit(frame.iloc[:n_train])
    misses = []
    for start in range(n_train, n_train + n_new, H):
        low, high = _central(fc)
        truth = frame.iloc[start : start + H].to_numpy()
        misses.append(((truth < low) | (truth > high)).mean())
        fc.update(frame.iloc[start : start + H])
    return np.array(misses)


def test_a_long_run_of_updates_misses_close_to_alpha_under_drift(tiny, make_frame):
    fixed = _miss_rates(tiny, make_frame, None)
    adaptive = _miss_rates(tiny, make_frame, 4.0)
    assert fixed[-25:].mean() > 0.3  # the network's intervals: far too narrow
    assert abs(adaptive[-25:].mean() - 0.1) < 0.07


def test_the_drift_survives_save_load_and_pickle(tiny, series, tmp_path):
    fc = _forecaster(tiny).fit(series.iloc[:40])
    fc.update(series.iloc[40:44] + 5.0)
    assert (fc.interval_drift_ != 0).all()
    fc.save(tmp_path / "m")
    loaded = DiffusionForecaster.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.interval_drift_, fc.interval_drift_)
    again = pickle.loads(pickle.dumps(fc))
    np.testing.assert_array_equal(again.interval_drift_, fc.interval_drift_)
    pd.testing.assert_frame_equal(again.predict(), fc.predict())


def test_the_drift_scales_the_held_out_factors(tiny, make_frame):
    frame = make_frame(n_steps=80, n_vars=1, missing=0.0)
    fc = _forecaster(tiny, calibration_windows=3).fit(frame.iloc[:70])
    base = fc._interval_factors(fc.num_samples).copy()  # (H, K)
    fc.update(frame.iloc[70:74] + 50.0)
    np.testing.assert_allclose(
        fc._interval_factors(fc.num_samples), base * np.exp(fc.interval_drift_)
    )


def test_a_panel_pools_the_miss_rate_of_its_series(tiny, make_frame):
    panel = pd.concat(
        {k: make_frame(n_steps=40, n_vars=1, missing=0.0, seed=i)
         for i, k in enumerate("ab")},
        names=["id", "time"],
    )  # fmt: skip
    fc = _forecaster(tiny).fit(panel)
    samples = fc.sample(random_state=0)  # (S, 2, H, 1)
    low, high = sample_quantiles(samples, (0.05, 0.95))
    new = pd.concat(
        {
            "a": pd.DataFrame(high[0] + 100, index=fc.predict().loc["a"].index),
            "b": pd.DataFrame(
                (low[1] + high[1]) / 2, index=fc.predict().loc["b"].index
            ),
        },
        names=["id", "time"],
    ).set_axis(["v0"], axis=1)
    fc.update(new)  # half of every step's values missed
    np.testing.assert_allclose(fc.interval_drift_, 0.5 * (0.5 - 0.1))


@pytest.mark.parametrize("rate", [0, -0.1, np.inf, "fast"])
def test_a_bad_rate_is_named(tiny, series, rate):
    with pytest.raises((ValueError, TypeError), match="calibration_rate"):
        _forecaster(tiny, calibration_rate=rate).fit(series)


def _drifted(make_frame, n_train=40, n_new=80):
    rng = np.random.default_rng(1)
    frame = make_frame(n_steps=n_train + n_new, n_vars=1, missing=0.0)
    frame.iloc[n_train:] += rng.standard_normal((n_new, 1))
    return frame


def test_backtest_stretches_each_cutoff_by_the_misses_before_it(tiny, make_frame):
    frame = _drifted(make_frame)
    fc = _forecaster(tiny).fit(frame.iloc[:40])
    cutoffs = frame.index[39:-H:H]  # every horizon, tiling the new values
    levels = (0.05, 0.5, 0.95)
    tracked = fc.backtest(frame, fh=H, cutoffs=cutoffs, alpha=levels, random_state=0)
    assert not hasattr(fc, "interval_drift_")  # the estimator is not changed
    fixed = fc.set_params(calibration_rate=None).backtest(
        frame, fh=H, cutoffs=cutoffs, alpha=levels, random_state=0
    )
    drift = 0.0
    for cutoff in cutoffs:
        q, q0 = tracked.loc[cutoff], fixed.loc[cutoff]
        width, width0 = (
            (q[("v0", 0.95)] - q[("v0", 0.05)]),
            (q0[("v0", 0.95)] - q0[("v0", 0.05)]),
        )
        np.testing.assert_allclose(width, np.exp(drift) * width0, rtol=1e-5)  # float32
        truth = frame.loc[q.index, "v0"].to_numpy()
        missed = (truth < q[("v0", 0.05)]) | (truth > q[("v0", 0.95)])
        drift += 0.5 * (missed.to_numpy() - 0.1).mean()  # a whole horizon
    assert drift != 0.0


def test_backtest_with_tracking_covers_closer_to_the_set_rate(tiny, make_frame):
    frame = _drifted(make_frame, n_new=200)
    fc = _forecaster(tiny, calibration_rate=4.0, num_samples=20)
    fc.fit(frame.iloc[:40])
    cutoffs = frame.index[39:-H:H]

    def miss_rate(model):
        q = model.backtest(frame, fh=H, cutoffs=cutoffs, alpha=(0.05, 0.95))
        truth = frame.loc[q.index.get_level_values(-1), "v0"].to_numpy()
        low, high = q[("v0", 0.05)].to_numpy(), q[("v0", 0.95)].to_numpy()
        return ((truth < low) | (truth > high))[-100:].mean()

    adaptive = miss_rate(fc)
    fixed = miss_rate(fc.set_params(calibration_rate=None))
    assert fixed > 0.3
    assert abs(adaptive - 0.1) < 0.07


def test_with_covariates_an_update_whose_x_stops_short_scores_nothing(
    tiny, series, caplog
):
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x": rng.standard_normal(len(series))}, index=series.index)
    fc = _forecaster(tiny).fit(series.iloc[:40], X=X.iloc[:40])
    far = series.iloc[40:42] + 100.0  # far outside, but X ends 2 steps in
    with caplog.at_level("INFO", logger="tsdiff.estimation.updating"):
        fc.update(far, X=X.iloc[40:42])
    assert not hasattr(fc, "interval_drift_")
    assert "X does not reach 4 steps past the cutoff" in caplog.text
    assert fc.cutoff_ == series.index[41]  # the values themselves were taken
    fc.update(series.iloc[42:48] + 100.0, X=X.iloc[42:48])  # X covers the horizon
    np.testing.assert_allclose(fc.interval_drift_, [0.5 * 0.9] * 2)


def test_on_by_default_and_off_for_models_saved_before_the_option(
    tiny, series, tmp_path
):
    import json

    assert DiffusionForecaster().calibration_rate == 1.0
    fc = _forecaster(tiny).fit(series.iloc[:40])
    fc.save(tmp_path / "m")
    config = tmp_path / "m" / "config.json"
    document = json.loads(config.read_text())
    del document["params"]["calibration_rate"]  # as written before it existed
    config.write_text(json.dumps(document))
    loaded = DiffusionForecaster.load(tmp_path / "m")
    assert loaded.calibration_rate is None
    loaded.update(series.iloc[40:44] + 100.0)
    assert not hasattr(loaded, "interval_drift_")
