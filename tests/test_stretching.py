"""By-level interval calibration: a factor per central level, not one for all."""

import numpy as np
import pytest

from tsdiff import metrics
from tsdiff.data import Scaler
from tsdiff.estimation.calibration import IntervalCalibration, interval_factors
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.stretching import stretch_levels, widen

LEVELS = stretch_levels(0.9)


def _shifted(n_windows=60, n_samples=100, seed=0):
    """Samples (S, N, H, K) of a model too wide for most windows, which misses a
    level shift of 12 % of them (as ETTh2's load variables): the truth (N, H, K)
    is 0.7 times as spread as the samples, plus or minus 4 in a shifted window."""
    rng = np.random.default_rng(seed)
    truth = 0.7 * rng.normal(size=(n_windows, 5, 2))
    shifted = rng.random(n_windows) < 0.12
    truth[shifted] += rng.choice([-4.0, 4.0], size=(shifted.sum(), 1, 1))
    samples = rng.normal(size=(n_samples, n_windows, 5, 2))
    return samples, truth, np.ones((n_windows, 2))


def _assert_order_kept(samples, out):
    """No sample of a cell passes one that was above it (ties allowed)."""
    ranked = np.take_along_axis(out, np.argsort(samples, axis=0), axis=0)
    assert np.all(np.diff(ranked, axis=0) >= 0)


def _covered(samples, truth, coverage):
    low, high = sample_quantiles(samples, ((1 - coverage) / 2, (1 + coverage) / 2))
    return float(((truth >= low) & (truth <= high)).mean())


@pytest.mark.parametrize("coverage", [0.25, 0.9])
def test_levels_are_the_tenths_below_the_coverage_then_the_coverage(coverage):
    levels = stretch_levels(coverage)
    assert levels[-1] == coverage and np.all(np.diff(levels) > 0)
    np.testing.assert_allclose(levels[:-1], np.arange(1, len(levels)) / 10)


def test_the_same_factor_at_every_level_is_a_single_factor():
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(31, 4, 6, 3))
    flat = rng.uniform(0.5, 3.0, size=(6, 3))
    by_level = np.broadcast_to(flat, (len(LEVELS), 6, 3))
    np.testing.assert_allclose(
        widen(samples, by_level, levels=LEVELS), widen(samples, flat), atol=1e-12
    )


@pytest.mark.parametrize("n_samples", [10, 20, 100, 101])
def test_the_target_interval_is_stretched_exactly_by_its_factor(n_samples):
    rng = np.random.default_rng(n_samples)
    samples = rng.normal(size=(n_samples, 7, 4, 2)).astype(np.float32)
    top = rng.uniform(0.5, 3.0, size=(4, 2))
    ratios = np.linspace(0.3, 1.0, len(LEVELS))[:, None, None]  # narrower: less
    out = widen(samples, ratios * top, levels=LEVELS)
    low, mid, high = sample_quantiles(samples.astype(np.float64), (0.05, 0.5, 0.95))
    low2, mid2, high2 = sample_quantiles(out, (0.05, 0.5, 0.95))
    np.testing.assert_allclose(mid2, mid, atol=1e-6)
    np.testing.assert_allclose(high2 - mid, top * (high - mid), atol=1e-5)
    np.testing.assert_allclose(mid - low2, top * (mid - low), atol=1e-5)
    # The central half is stretched by about the ratio at 0.5 (0.65) times less.
    q25, q75 = sample_quantiles(samples.astype(np.float64), (0.25, 0.75))
    w25, w75 = sample_quantiles(out, (0.25, 0.75))
    shrink = (w75 - w25) / (top * (q75 - q25))
    assert np.all(shrink < 0.9) and np.all(shrink > 0.4)
    _assert_order_kept(samples, out)


def test_inner_factors_larger_than_the_outer_ones_keep_the_order():
    rng = np.random.default_rng(2)
    samples = rng.normal(size=(50, 3, 4, 2))
    ratios = np.linspace(3.0, 1.0, len(LEVELS))[:, None, None]  # inner: wider
    out = widen(samples, ratios * np.ones((4, 2)), levels=LEVELS)
    _assert_order_kept(samples, out)
    low, high = sample_quantiles(samples, (0.05, 0.95))
    low2, high2 = sample_quantiles(out, (0.05, 0.95))
    assert np.all(low2 <= low + 1e-12) and np.all(high2 >= high - 1e-12)


def test_by_level_factors_end_in_the_flat_ones_and_calibrate_every_level():
    samples, truth, scale = _shifted()
    flat = interval_factors(samples, truth, 0.9, scale)  # (H, K)
    by_level = interval_factors(samples, truth, 0.9, scale, levels=LEVELS)
    assert by_level.shape == (len(LEVELS), 5, 2)
    np.testing.assert_array_equal(by_level[-1], flat)
    assert np.all(by_level[:-1] < 0.6 * by_level[-1])  # the centre was too wide
    # On fresh windows from the same law both cover about 90 %; only by-level
    # factors also cover about half with the central half, and so score a CRPS
    # 9 % lower.
    fresh, truth2, _ = _shifted(n_windows=400, seed=1)
    one = widen(fresh, flat)
    each = widen(fresh, by_level, levels=LEVELS)
    for stretched in (one, each):
        assert abs(_covered(stretched, truth2, 0.9) - 0.9) < 0.03
    assert _covered(one, truth2, 0.5) > 0.75
    assert abs(_covered(each, truth2, 0.5) - 0.5) < 0.05
    y = truth2.reshape(-1, 2)  # (N * H, K) rows
    crps_each = metrics.wql(y, each.reshape(100, -1, 2))
    assert crps_each < 0.95 * metrics.wql(y, one.reshape(100, -1, 2))


def test_by_level_factors_need_their_levels():
    with pytest.raises(ValueError, match="levels"):
        widen(np.zeros((4, 2, 1)), np.ones((3, 2, 1)))


def _calibration(**kwargs):
    samples, truth, scale = _shifted(n_windows=30)
    cal = IntervalCalibration(
        contexts=np.zeros((30, 3, 2)), truth=truth, scaler=Scaler(
            center=np.zeros((30, 2)), scale=scale
        ), covariates=None, by_step=True, **kwargs,
    )  # fmt: skip
    return cal, samples


def test_a_calibration_from_before_by_level_factors_keeps_one_for_all_levels():
    new, samples = _calibration(by_level=True)
    assert new.factors_for("k", 0.9, "linear", lambda: samples).shape == (9, 5, 2)
    state = _calibration()[0].__getstate__()
    del state["by_level"]  # as pickled before the field existed
    old = IntervalCalibration.__new__(IntervalCalibration)
    old.__setstate__(state)
    got = old.factors_for("k", 0.9, "linear", lambda: samples)
    assert got.shape == (5, 2)
    np.testing.assert_array_equal(got, new.factors["k"][-1])


def test_float32_samples_are_stretched_as_their_float64_values():
    # A float32 median would move a calibrated interval's boundary by more than
    # the factors' margin, and the boundary held-out value could fall outside.
    samples, truth, scale = _shifted(n_windows=40)
    samples = samples.astype(np.float32)
    for levels in (None, LEVELS):  # one factor, and one per level
        factors = interval_factors(samples, truth, 0.9, scale, levels=levels)
        out = widen(samples, factors, levels=levels)
        assert out.dtype == np.float64
        expected = widen(samples.astype(np.float64), factors, levels=levels)
        np.testing.assert_array_equal(out, expected)
