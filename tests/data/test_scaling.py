"""Tests for tsdiff.data.scaling."""

import numpy as np
import pytest

from tsdiff.data import Scaler, fit_panel_scaler, fit_scaler


@pytest.fixture
def series():
    rng = np.random.default_rng(0)
    values = rng.normal(loc=[5.0, -2.0, 100.0], scale=[2.0, 0.5, 30.0], size=(60, 3))
    observed_mask = rng.random((60, 3)) > 0.3
    return values, observed_mask


def _with_nan(values, observed_mask):
    return np.where(observed_mask, values, np.nan)


def test_standard_matches_numpy_nan_stats(series):
    values, observed_mask = series
    scaler = fit_scaler(values, observed_mask, method="standard")
    masked = _with_nan(values, observed_mask)
    np.testing.assert_allclose(scaler.center, np.nanmean(masked, axis=0), rtol=1e-12)
    np.testing.assert_allclose(scaler.scale, np.nanstd(masked, axis=0), rtol=1e-12)
    assert scaler.center.dtype == np.float64 and scaler.scale.dtype == np.float64


def test_unobserved_garbage_is_ignored(series):
    values, observed_mask = series
    garbage = np.where(observed_mask, values, 1e30)
    garbage[~observed_mask & (np.arange(3) == 1)] = np.inf
    garbage[~observed_mask & (np.arange(3) == 2)] = np.nan
    reference = fit_scaler(_with_nan(values, observed_mask), observed_mask)
    scaler = fit_scaler(garbage, observed_mask)
    np.testing.assert_array_equal(scaler.center, reference.center)
    np.testing.assert_array_equal(scaler.scale, reference.scale)


def test_robust_is_median_and_iqr_over_1349(series):
    values, observed_mask = series
    scaler = fit_scaler(values, observed_mask, method="robust")
    masked = _with_nan(values, observed_mask)
    q25, q50, q75 = np.nanpercentile(masked, [25, 50, 75], axis=0)
    np.testing.assert_allclose(scaler.center, q50, rtol=1e-12)
    np.testing.assert_allclose(scaler.scale, (q75 - q25) / 1.349, rtol=1e-12)


def test_robust_resists_outliers_and_matches_std_for_gaussian():
    rng = np.random.default_rng(1)
    values = rng.normal(3.0, 2.0, size=(20000, 1))
    values[:20] = 1e6  # 0.1 % outliers
    observed_mask = np.ones_like(values, dtype=bool)
    robust = fit_scaler(values, observed_mask, method="robust")
    standard = fit_scaler(values, observed_mask, method="standard")
    assert abs(robust.center[0] - 3.0) < 0.1
    assert abs(robust.scale[0] - 2.0) < 0.1
    assert standard.scale[0] > 1000.0


def test_none_is_identity(series):
    values, observed_mask = series
    scaler = fit_scaler(values, observed_mask, method="none")
    np.testing.assert_array_equal(scaler.center, np.zeros(3))
    np.testing.assert_array_equal(scaler.scale, np.ones(3))
    np.testing.assert_array_equal(scaler.transform(values), values)


@pytest.mark.parametrize("method", ["standard", "robust"])
def test_round_trip_and_unit_stats(series, method):
    values, observed_mask = series
    masked = _with_nan(values, observed_mask)
    scaler = fit_scaler(masked, observed_mask, method=method)
    scaled = scaler.transform(masked)
    np.testing.assert_array_equal(np.isnan(scaled), ~observed_mask)
    np.testing.assert_allclose(scaler.inverse_transform(scaled), masked, rtol=1e-12)
    if method == "standard":
        np.testing.assert_allclose(np.nanmean(scaled, axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(np.nanstd(scaled, axis=0), 1.0, rtol=1e-12)


def test_transform_broadcasts_over_leading_axes_and_keeps_float32(series):
    values, observed_mask = series
    scaler = fit_scaler(values, observed_mask)
    samples = np.stack([values, 2 * values]).astype(np.float32)  # (S, T, K)
    scaled = scaler.transform(samples)
    assert scaled.shape == samples.shape and scaled.dtype == np.float32
    np.testing.assert_allclose(scaled[1], scaler.transform(2 * values), rtol=1e-5)
    restored = scaler.inverse_transform(scaled)
    np.testing.assert_allclose(restored, samples, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("method", ["standard", "robust"])
def test_zero_spread_gets_scale_one_or_a_smaller_magnitude(method):
    values = np.column_stack(
        [np.full(10, 0.1), np.arange(10.0), np.zeros(10), np.full(10, -7.0)]
    )
    observed_mask = np.ones_like(values, dtype=bool)
    scaler = fit_scaler(values, observed_mask, method=method)
    assert scaler.scale[0] == pytest.approx(0.1)  # below 1: its magnitude
    assert scaler.scale[2] == 1.0 and scaler.scale[3] == 1.0  # 0 and -7: 1
    assert scaler.center[0] == pytest.approx(0.1)
    assert scaler.scale[1] > 1.0
    np.testing.assert_allclose(scaler.transform(values)[:, 0], 0.0, atol=1e-15)


def test_panel_values_pool_series():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(4, 30, 2))  # (N, T, K)
    observed_mask = rng.random((4, 30, 2)) > 0.2
    scaler = fit_scaler(values, observed_mask)
    flat = np.where(observed_mask, values, np.nan).reshape(-1, 2)
    np.testing.assert_allclose(scaler.center, np.nanmean(flat, axis=0), rtol=1e-12)


def test_variable_without_observations_raises_naming_column(series):
    values, observed_mask = series
    observed_mask = observed_mask.copy()
    observed_mask[:, 2] = False
    with pytest.raises(ValueError, match=r"column index \[2\]"):
        fit_scaler(values, observed_mask)


def test_unknown_method_raises_naming_it(series):
    with pytest.raises(ValueError, match="'minmax'"):
        fit_scaler(*series, method="minmax")


def test_bad_inputs_raise(series):
    values, observed_mask = series
    with pytest.raises(TypeError, match="observed_mask"):
        fit_scaler(values, observed_mask.astype(int))
    with pytest.raises(ValueError, match="same shape"):
        fit_scaler(values, observed_mask[:-1])
    bad = values.copy()
    bad[observed_mask.argmax(axis=0)[0], 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fit_scaler(bad, observed_mask)
    with pytest.raises(ValueError, match="3 variables"):
        fit_scaler(values, observed_mask).transform(values[:, :2])


def test_scaler_validates_and_is_read_only():
    with pytest.raises(ValueError, match="> 0"):
        Scaler(center=np.zeros(2), scale=np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="same shape"):
        Scaler(center=np.zeros(2), scale=np.ones(3))
    scale = np.ones(2)
    scaler = Scaler(center=np.zeros(2), scale=scale)
    scale[0] = 5.0  # the caller's array is copied, not aliased
    assert scaler.scale[0] == 1.0
    with pytest.raises(ValueError):
        scaler.center[0] = 1.0


def test_panel_scaler_fits_each_series_and_pools_where_a_series_saw_nothing():
    rng = np.random.default_rng(0)
    big = rng.normal(1000.0, 50.0, size=(30, 2))
    small = rng.normal(-3.0, 0.1, size=(20, 2))
    small[:, 1] = np.nan  # the second series never observes variable 1
    values = np.concatenate([big, small])  # (50, 2)
    observed = ~np.isnan(values)
    scaler = fit_panel_scaler(values, observed, np.array([0, 30, 50]))
    assert scaler.center.shape == (2, 2) and scaler.n_series == 2
    np.testing.assert_allclose(scaler.center[0], big.mean(axis=0))
    np.testing.assert_allclose(scaler.scale[0], big.std(axis=0))
    np.testing.assert_allclose(scaler.center[1, 0], small[:, 0].mean())
    pooled = fit_scaler(values, observed)
    assert scaler.center[1, 1] == pooled.center[1]
    assert scaler.scale[1, 1] == pooled.scale[1]


def test_per_series_scaler_transforms_the_series_axis_and_round_trips():
    scaler = Scaler(center=np.array([[0.0], [100.0]]), scale=np.array([[1.0], [10.0]]))
    windows = np.array([[[1.0], [2.0]], [[110.0], [90.0]]])  # (N=2, T=2, K=1)
    np.testing.assert_allclose(scaler.transform(windows).ravel(), [1, 2, 1, -1])
    samples = np.stack([scaler.transform(windows)] * 3)  # (S, N, T, K)
    np.testing.assert_allclose(scaler.inverse_transform(samples)[2], windows)
    picked = scaler.select(np.array([1, 1, 0]))
    assert picked.center.ravel().tolist() == [100.0, 100.0, 0.0]
    shared = Scaler(center=np.array([5.0]), scale=np.array([2.0])).select([0, 0])
    assert shared.center.shape == (2, 1) and shared.scale.ravel().tolist() == [2, 2]
    with pytest.raises(ValueError, match="2 series"):
        scaler.transform(windows[:1])
    with pytest.raises(ValueError, match="bounds"):
        fit_panel_scaler(windows[0], windows[0] > 0, np.array([0, 3]))
