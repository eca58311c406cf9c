"""Interval calibration of DiffusionImputer on the observed values of its input."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionImputer
from tsdiff.estimation import gap_calibration as gc
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.stretching import stretch_levels, widen
from tsdiff.sktime import DiffusionSktimeImputer

L = 8


@pytest.fixture(scope="module")
def fitted(tiny_shared, make_frame):
    """An imputer fitted with ``calibration_share="input"`` and its data."""
    frame = make_frame(n_steps=320, n_vars=2, missing=0.0)
    frame.iloc[np.arange(320) % 8 < 4, 0] = np.nan  # the gaps: variable 0, half
    params = dict(calibration_share="input", num_samples=16)
    imp = DiffusionImputer(window_length=L, **tiny_shared | params).fit(frame)
    return imp, frame


def test_nothing_is_held_out_of_training(fitted, tiny):
    imp, frame = fitted
    assert imp.calibration_ is None
    plain = DiffusionImputer(window_length=L, **tiny | {"num_samples": 16}).fit(frame)
    for (name, a), b in zip(
        imp.network_.state_dict().items(),
        plain.network_.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b), name


def test_values_are_hidden_in_the_shape_of_the_inputs_gaps(fitted):
    imp, frame = fitted
    arrays, _ = imp._check_input(frame)
    cal = gc.input_calibration(arrays, imp.scaler_, L, imp.target_strategy, 0)
    assert cal.contexts.shape == (320 // L, L, 2)  # every tile of the input
    hidden = ~np.isnan(cal.truth)  # (N, L, K)
    assert hidden[..., 0].sum() >= gc.LEAST_HIDDEN and not hidden[..., 1].any()
    for n, window in enumerate(cal.contexts):  # hidden + given = the tile
        tile = frame.to_numpy()[n * L : (n + 1) * L]
        np.testing.assert_array_equal(np.where(hidden[n], cal.truth[n], window), tile)


def test_the_gaps_are_stretched_by_the_inputs_factors(fitted):
    imp, frame = fitted
    raw = imp.set_params(calibration_share=None).sample(frame, random_state=3)
    calibrated = imp.set_params(calibration_share="input").sample(frame, random_state=3)
    arrays, _ = imp._check_input(frame)
    factors = imp._input_factors(arrays, 16, imp._sample_seed(3))  # (G, 1, K)
    assert factors.shape == (len(stretch_levels(0.9)), 1, 2)
    expected = widen(raw, factors, "linear", stretch_levels(0.9))
    observed = frame.notna().to_numpy()
    np.testing.assert_allclose(calibrated[:, ~observed], expected[:, ~observed])
    np.testing.assert_array_equal(calibrated[:, observed], raw[:, observed])
    assert not np.allclose(calibrated[:, ~observed], raw[:, ~observed])


def test_the_factors_cover_the_hidden_values_at_the_set_rate(fitted):
    imp, frame = fitted
    arrays, _ = imp._check_input(frame)
    seed = imp._sample_seed(5)
    cal = gc.input_calibration(arrays, imp.scaler_, L, imp.target_strategy, seed)
    given = ~np.isnan(cal.contexts)
    scaled = np.where(given, cal.scaler.transform(cal.contexts), 0.0)
    samples = cal.scaler.inverse_transform(imp._sample_windows(scaled, given, 16, seed))
    factors = imp._input_factors(arrays, 16, seed)
    low, high = sample_quantiles(
        widen(samples, factors, "linear", stretch_levels(0.9)), (0.05, 0.95)
    )
    hidden = ~np.isnan(cal.truth[..., 0])
    n = hidden.sum()
    inside = (cal.truth[..., 0] >= low[..., 0]) & (cal.truth[..., 0] <= high[..., 0])
    np.testing.assert_allclose(inside[hidden].mean(), np.ceil((n + 1) * 0.9) / n)


def test_transform_skips_calibration_and_keeps_the_median(fitted, monkeypatch):
    imp, frame = fitted
    expected = imp.set_params(calibration_share=None).transform(frame)

    def fail(*args):
        raise AssertionError("calibrated for a median")

    monkeypatch.setattr(DiffusionImputer, "_input_factors", fail)
    filled = imp.set_params(calibration_share="input").transform(frame)
    pd.testing.assert_frame_equal(filled, expected)


def test_an_input_shorter_than_a_window_is_left_uncalibrated(fitted, caplog):
    imp, frame = fitted
    short = frame.iloc[: L - 2]
    raw = imp.set_params(calibration_share=None).sample(short, random_state=1)
    with caplog.at_level(logging.WARNING, logger="tsdiff"):
        same = imp.set_params(calibration_share="input").sample(short, random_state=1)
    np.testing.assert_array_equal(same, raw)
    assert "not calibrated" in caplog.text


def test_long_inputs_are_calibrated_on_a_sample_of_their_tiles(fitted, monkeypatch):
    imp, frame = fitted
    monkeypatch.setattr(gc, "MAX_INPUT_WINDOWS", 3)
    arrays, _ = imp._check_input(frame)
    cal = gc.input_calibration(arrays, imp.scaler_, L, imp.target_strategy, 0)
    assert cal.contexts.shape == (3, L, 2)


def test_a_panel_is_calibrated_with_the_statistics_of_each_series(tiny, make_frame):
    parts = [make_frame(n_steps=48, n_vars=2, missing=0.2, seed=s) for s in range(3)]
    parts[2] = parts[2] * 100.0  # one series on another scale
    panel = pd.concat(parts, keys=["a", "b", "c"], names=["id", "time"])
    imp = DiffusionImputer(
        window_length=L, calibration_share="input", scaler="standard", **tiny
    ).fit(panel)
    arrays, _ = imp._check_input(panel)
    cal = gc.input_calibration(arrays, imp.scaler_, L, imp.target_strategy, 0)
    assert cal.contexts.shape == (18, L, 2)  # 3 series x 6 tiles
    series = gc.series_of(arrays, np.arange(0, 144, L))
    np.testing.assert_array_equal(series, np.repeat([0, 1, 2], 6))
    q = imp.predict_interval(panel, coverage=0.9)
    assert q.shape[0] == len(panel) and np.isfinite(q.to_numpy()).all()


def test_the_sktime_imputer_passes_input_calibration_through(tiny, make_frame):
    frame = make_frame(n_steps=96, n_vars=2)
    known = DiffusionSktimeImputer().get_params()
    settings = {k: v for k, v in tiny.items() if k in known}
    t = DiffusionSktimeImputer(window_length=L, calibration_share="input", **settings)
    t.fit(frame)
    assert t.imputer_.calibration_share == "input"
    assert t.imputer_.calibration_ is None
    assert np.isfinite(t.transform(frame).to_numpy()).all()


def test_an_unknown_calibration_word_is_refused(tiny, make_frame):
    imp = DiffusionImputer(window_length=L, calibration_share="inputs", **tiny)
    with pytest.raises(ValueError, match="'calibration_share' parameter"):
        imp.fit(make_frame(n_steps=48, n_vars=2))
