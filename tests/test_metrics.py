"""Tests for tsdiff.metrics: hand-computed values, NaN/mask rules, an O(S^2) reference
and properscoring for the CRPS, agreement across prediction forms, bad inputs."""

import numpy as np
import pandas as pd
import pytest

from tsdiff import metrics
from tsdiff.frames import interval_frame, quantile_frame
from tsdiff.metrics import (
    QUANTILE_LEVELS,
    coverage,
    crps,
    crps_sum,
    interval_score,
    mae,
    mase,
    rmse,
    wql,
)


def qframe(quantiles, levels, columns=("a",), index=None):
    """(Q, T, K) quantiles -> predict_quantiles layout."""
    index = pd.RangeIndex(quantiles.shape[1]) if index is None else index
    return quantile_frame(
        np.asarray(quantiles, float), index, pd.Index(columns), levels
    )


def iframe(lower, upper, cov, columns=("a",)):
    """(T, K) bounds of one coverage -> predict_interval layout."""
    lower, upper = np.asarray(lower, float)[None], np.asarray(upper, float)[None]
    index = pd.RangeIndex(lower.shape[1])
    return interval_frame(lower, upper, index, pd.Index(columns), (cov,))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_quantile_levels_are_exact():
    assert len(QUANTILE_LEVELS) == 19
    assert QUANTILE_LEVELS[0] == 0.05 and QUANTILE_LEVELS[2] == 0.15
    assert QUANTILE_LEVELS[-1] == 0.95
    assert set(metrics.__all__) >= {"crps", "wql", "crps_sum", "mase"}


# -- crps --------------------------------------------------------------------------


def test_crps_hand_computed():
    # entry 0: samples 0, 1, 2, y = 1: E|X-y| = 2/3, sum_ij |xi-xj| = 2(1+2+1) = 8,
    #   biased 1/2 E|X-X'| = 8/(2*9) = 4/9 -> 2/9; fair 8/(2*6) = 2/3 -> 0.
    # entry 1: samples 1, 1, 1, y = 3: E|X-y| = 2, no spread -> 2.
    samples = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])  # (S=3, 2)
    y = np.array([1.0, 3.0])
    assert crps(y, samples) == pytest.approx((2 / 9 + 2) / 2)
    assert crps(y, samples, fair=True) == pytest.approx(1.0)


def brute_crps(y, samples, fair=False):
    s = samples.shape[0]
    first = np.abs(samples - y).mean(axis=0)
    pair = np.abs(samples[:, None] - samples[None, :]).sum(axis=(0, 1))
    return (first - 0.5 * pair / (s * (s - 1) if fair else s * s)).mean()


def test_crps_matches_brute_force_and_fair_relation(rng):
    y = rng.normal(size=(4, 6, 3))
    samples = rng.normal(size=(17, 4, 6, 3)) * 2 + 0.5
    biased = crps(y, samples)
    assert biased == pytest.approx(brute_crps(y, samples), rel=1e-12)
    assert crps(y, samples, fair=True) == pytest.approx(
        brute_crps(y, samples, fair=True), rel=1e-12
    )
    # fair = biased - h / (S - 1) with h = 1/2 E|X - X'| (biased), per entry.
    s = samples.shape[0]
    h = np.abs(samples[:, None] - samples[None, :]).mean(axis=(0, 1)) / 2
    assert crps(y, samples, fair=True) == pytest.approx(biased - h.mean() / (s - 1))


def test_crps_matches_properscoring(rng):
    properscoring = pytest.importorskip("properscoring")
    y = rng.normal(size=(30, 2))
    samples = rng.gamma(2.0, size=(50, 30, 2))
    expected = properscoring.crps_ensemble(y, np.moveaxis(samples, 0, -1)).mean()
    assert crps(y, samples) == pytest.approx(expected, rel=1e-10)


# -- NaN and mask --------------------------------------------------------------------


def test_unevaluated_entries_do_not_matter(rng):
    y = rng.normal(size=(8, 2)) + 5
    samples = rng.normal(size=(20, 8, 2)) + 5
    mask = np.ones_like(y, dtype=bool)
    mask[2, 1] = mask[5, 0] = False
    y_nan = y.copy()
    y_nan[0, 0] = np.nan
    keep = mask & ~np.isnan(y_nan)
    garbage = samples.copy()
    garbage[:, ~keep] = np.nan  # never read
    y_junk = np.where(mask, y_nan, 1e9)
    for metric in (crps, wql, mae, rmse, coverage, interval_score):
        reference = metric(y[keep], samples[:, keep])
        assert metric(y_junk, garbage, mask=mask) == pytest.approx(reference)
    # crps_sum: an unevaluated entry counts as 0 whatever its values.
    assert crps_sum(y_junk, garbage, mask=mask) == pytest.approx(
        crps_sum(np.where(keep, y, 0), np.where(keep, samples, 0))
    )


@pytest.mark.parametrize(
    "metric", [crps, wql, crps_sum, mae, rmse, coverage, interval_score]
)
def test_nothing_to_evaluate_raises(metric):
    y = np.full((3, 2), np.nan)
    with pytest.raises(ValueError, match="Nothing to evaluate"):
        metric(y, np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match="Nothing to evaluate"):
        metric(np.ones((3, 2)), np.zeros((4, 3, 2)), mask=np.zeros((3, 2), bool))


# -- wql -----------------------------------------------------------------------------


def test_wql_hand_computed_linear_vs_gluonts():
    # y = (1, 2); samples entry 0: 0, 1, 2; entry 1: 2, 2, 2; levels 0.25, 0.75.
    # linear: entry 0 quantiles 0.5, 1.5 -> |(0.5-1)(0-.25)| = |(1.5-1)(1-.75)| = 1/8;
    #   entry 1 exact. wql = mean(2/8, 2/8) / (1 + 2) = 1/12.
    # gluonts: rank round((S-1) q) = round(0.5) = 0 (half to even), round(1.5) = 2,
    #   quantiles 0, 2 -> losses 1/4, 1/4 -> wql = mean(2/4, 2/4) / 3 = 1/6.
    #   (rounding half up would pick rank 1 at 0.25 and give 1/12 again.)
    samples = np.array([[0.0, 2.0], [1.0, 2.0], [2.0, 2.0]])
    y = np.array([1.0, 2.0])
    levels = (0.25, 0.75)
    assert wql(y, samples, quantile_levels=levels) == pytest.approx(1 / 12)
    got = wql(y, samples, quantile_levels=levels, method="gluonts")
    assert got == pytest.approx(1 / 6)
    assert wql(y, samples, quantile_levels=levels, method="nearest") == got


def test_gluonts_method_is_numpy_nearest(rng):
    y = rng.normal(size=(5, 3)) + 3
    for n_s in (1, 2, 7, 20, 99, 100):
        samples = rng.normal(size=(n_s, 5, 3)) + 3
        assert wql(y, samples, method="gluonts") == wql(y, samples, method="nearest")


def test_wql_samples_and_quantile_frame_agree(rng):
    y = rng.normal(size=(12, 2)) + 4
    y[3, 1] = np.nan
    samples = rng.normal(size=(40, 12, 2)) + 4
    levels = QUANTILE_LEVELS[::-1] + (0.5,)  # another order, duplicate level
    frame = qframe(np.quantile(samples, levels, axis=0), levels, ("a", "b"))
    y_frame = pd.DataFrame(y, columns=["a", "b"])
    mask = np.ones_like(y, bool)
    mask[0] = False
    for target in (y, y_frame):
        assert wql(target, frame, mask=mask) == pytest.approx(
            wql(y, samples, mask=mask), rel=1e-12
        )


@pytest.mark.parametrize("method", ["linear", "gluonts"])
def test_wql_of_point_forecast_is_relative_mae(rng, method):
    # q_hat = p at every level: y <= p gives 2 (p - y)(1 - q), y > p gives 2 (y - p) q;
    # the 19 levels average 0.5, so mean_q = |y - p| and wql = sum|y - p| / sum|y|.
    y = rng.normal(size=(10, 3))
    p = rng.normal(size=(10, 3))
    samples = np.broadcast_to(p, (5, 10, 3))
    expected = np.abs(y - p).sum() / np.abs(y).sum()
    assert wql(y, samples, method=method) == pytest.approx(expected, rel=1e-12)


def csdi_reference(target, samples, eval_points, summed):
    """CSDI's calc_quantile_CRPS(_sum) (ermongroup/CSDI utils.py), re-typed in torch:
    samples (B, S, L, K), torch.quantile levels np.arange(0.05, 1, 0.05)."""
    torch = pytest.importorskip("torch")
    t, f, e = map(torch.tensor, (target, samples, eval_points))
    if summed:
        t, f, e = t.sum(-1), f.sum(-1), e.mean(-1)
    total = 0.0
    for q in np.arange(0.05, 1.0, 0.05):
        q_pred = torch.quantile(f, q, dim=1)
        loss = 2 * torch.sum(torch.abs((q_pred - t) * e * ((t <= q_pred) * 1.0 - q)))
        total += loss / torch.sum(torch.abs(t * e))
    return total.item() / 19


def test_wql_and_crps_sum_match_csdi(rng):
    samples = rng.normal(size=(3, 50, 10, 4)) + 3  # CSDI layout (B, S, L, K)
    target = rng.normal(size=(3, 10, 4)) + 3
    ours = np.moveaxis(samples, 1, 0)  # (S, B, L, K)
    ev = rng.random((3, 10, 4)) > 0.3
    expected = csdi_reference(target, samples, ev.astype(float), summed=False)
    assert wql(target, ours, mask=ev) == pytest.approx(expected, rel=1e-7)
    ev = np.repeat(rng.random((3, 10, 1)) > 0.3, 4, axis=2)  # whole steps
    expected = csdi_reference(target, samples, ev.astype(float), summed=True)
    assert crps_sum(target, ours, mask=ev) == pytest.approx(expected, rel=1e-7)


# -- crps_sum ------------------------------------------------------------------------


def test_crps_sum_hand_computed_with_mask():
    # y = [[1, 2], [3, 4]], entry (0, 1) not evaluated -> y sums (1, 7).
    # sample 1 sums: (1, 3 + 4) = (1, 7); sample 2: (3, 5 + 6) = (3, 11).
    # medians (linear, S = 2): 2 and 9; losses at q = 0.5: 2 * (1 * 0.5 + 2 * 0.5)
    # = 3; denominator 1 + 7 = 8 -> 3/8.
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [True, True]])
    samples = np.array([[[1.0, np.nan], [3.0, 4.0]], [[3.0, 100.0], [5.0, 6.0]]])
    assert crps_sum(y, samples, mask=mask, quantile_levels=(0.5,)) == pytest.approx(
        3 / 8
    )


def test_crps_sum_is_wql_of_sums_and_drops_empty_steps(rng):
    y = rng.normal(size=(6, 3)) + 2
    samples = rng.normal(size=(30, 6, 3)) + 2
    y_nan = y.copy()
    y_nan[4] = np.nan  # a step with nothing evaluated
    keep = np.arange(6) != 4
    expected = wql(y[keep].sum(-1), samples[:, keep].sum(-1), method="gluonts")
    assert crps_sum(y_nan, samples, method="gluonts") == pytest.approx(expected)


# -- mae, rmse, coverage, interval score --------------------------------------------


def test_mae_rmse_hand_computed_all_forms():
    # y = (1, 2, 4), median p = (2, 2, 1): errors (1, 0, -3) -> mae 4/3,
    # rmse sqrt(10/3).
    y = np.array([1.0, 2.0, 4.0])
    p = np.array([2.0, 2.0, 1.0])
    samples = p + np.array([-1.0, -1.0, 1.0, 1.0])[:, None]  # even S: mean of middle
    frame = qframe(np.stack([p - 1, p, p + 1])[:, :, None], (0.1, 0.5, 0.9))
    point_frame = pd.DataFrame({"a": p})
    for prediction in (samples, p, frame, point_frame):
        assert mae(y, prediction) == pytest.approx(4 / 3)
        assert rmse(y, prediction) == pytest.approx(np.sqrt(10 / 3))


def test_coverage_and_interval_score_hand_computed_all_forms():
    # c = 0.5 (a = 0.5): y = (0, 5, 10, -3) in [l, u] = [-1, 1], [0, 4], [0, 10],
    # [0, 2]:
    # inside, above by 1, on the bound (inside), below by 3 -> coverage 2/4.
    # score: widths 2 + 4 + 10 + 2 = 18, penalties 2/0.5 * (1 + 3) = 16 -> 34/4.
    y = np.array([0.0, 5.0, 10.0, -3.0])
    lower = np.array([-1.0, 0.0, 0.0, 0.0])
    upper = np.array([1.0, 4.0, 10.0, 2.0])
    samples = np.stack([lower, lower, (lower + upper) / 2, upper, upper])  # q.25, q.75
    forms = [
        samples,
        qframe(np.stack([lower, upper])[:, :, None], (0.25, 0.75)),
        iframe(lower[:, None], upper[:, None], 0.5),
    ]
    for prediction in forms:
        assert coverage(y, prediction, coverage=0.5) == pytest.approx(0.5)
        assert interval_score(y, prediction, coverage=0.5) == pytest.approx(8.5)


def test_interval_metrics_agree_on_random_data(rng):
    y = pd.DataFrame(rng.normal(size=(15, 2)), columns=["u", "v"])
    samples = rng.normal(size=(60, 15, 2))
    lo, hi = np.quantile(samples, [0.05, 0.95], axis=0)
    frames = [
        qframe(np.stack([lo, hi]), (0.05, 0.95), ("u", "v")),
        iframe(lo, hi, 0.9, ("u", "v")),
    ]
    for frame in frames:
        assert coverage(y, frame) == pytest.approx(coverage(y, samples))
        assert interval_score(y, frame) == pytest.approx(interval_score(y, samples))


def test_series_target_with_one_variable_frame():
    index = pd.date_range("2024-01-01", periods=3, freq="D")
    y = pd.Series([1.0, 2.0, 3.0], index=index)
    frame = qframe(np.array([[[1.0], [2.0], [5.0]]]), (0.5,), index=index)
    assert mae(y, frame) == pytest.approx(2 / 3)


# -- mase ----------------------------------------------------------------------------


def test_mase_seasonality_one_and_two():
    # y_train (1, 2, 4, 7): lag-1 diffs 1, 2, 3 (scale 2); lag-2 diffs 3, 5 (scale 4).
    # y = (8, 10), p = (9, 9): MAE 1 -> MASE 1/2 and 1/4.
    y_train = np.array([1.0, 2.0, 4.0, 7.0])
    y, p = np.array([8.0, 10.0]), np.array([9.0, 9.0])
    assert mase(y, p, y_train) == pytest.approx(0.5)
    assert mase(y, p, y_train, seasonality=2) == pytest.approx(0.25)
    # second variable: train (0, 2, 0, 2) lag-1 scale 2; y (1, 1), p (0, 3): MAE 1.5.
    y_train2 = np.column_stack([y_train, [0.0, 2.0, 0.0, 2.0]])
    y2, p2 = np.column_stack([y, [1.0, 1.0]]), np.column_stack([p, [0.0, 3.0]])
    assert mase(y2, p2, y_train2) == pytest.approx((0.5 + 0.75) / 2)
    with pytest.raises(ValueError, match="all 0 in variables \\[1\\]"):
        mase(y2, p2, y_train2, seasonality=2)  # lag-2 diffs of (0, 2, 0, 2) are 0


def test_mase_nan_handling():
    # NaN in y_train drops its pairs: (1, 2, NaN, 5, 6) -> diffs 1, 1 -> scale 1.
    y_train = np.array([1.0, 2.0, np.nan, 5.0, 6.0])
    assert mase(np.array([8.0, np.nan]), np.array([9.0, 0.0]), y_train) == 1.0
    # a variable with no evaluated entry is left out of the mean over variables.
    y = np.array([[8.0, np.nan], [9.0, np.nan]])
    train = np.column_stack([y_train, np.zeros(5)])  # zero scale, but never used
    assert mase(y, np.array([[9.0, 0.0], [9.0, 0.0]]), train) == pytest.approx(0.5)


def test_mase_bad_inputs():
    y, p = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    with pytest.raises(ValueError, match="too short for seasonality=3"):
        mase(y, p, np.array([1.0, 2.0, 3.0]), seasonality=3)
    with pytest.raises(ValueError, match="seasonality must be >= 1"):
        mase(y, p, np.array([1.0, 2.0, 3.0]), seasonality=0)
    with pytest.raises(TypeError, match="seasonality"):
        mase(y, p, np.array([1.0, 2.0, 3.0]), seasonality=1.5)
    with pytest.raises(ValueError, match="y_train"):
        mase(y, p, np.ones((3, 2)))


# -- bad inputs ----------------------------------------------------------------------


def test_shape_mismatch_raises():
    y = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"prediction has shape \(10, 4, 3\)"):
        wql(y, np.ones((10, 4, 3)))
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        crps(y, np.ones((3, 4, 2)), mask=np.ones((4, 3), bool))
    with pytest.raises(TypeError, match="mask must be a boolean array"):
        crps(y, np.ones((3, 4, 2)), mask=np.ones((4, 2)))
    with pytest.raises(ValueError, match="crps takes prediction as samples"):
        crps(y, np.ones((4, 2)))  # a point forecast has no sample axis
    with pytest.raises(ValueError, match="prediction has 3 rows"):
        mae(np.ones((4, 1)), qframe(np.ones((1, 3, 1)), (0.5,)))


def test_frame_errors():
    frame = qframe(np.ones((3, 4, 1)), (0.1, 0.5, 0.9))
    y = np.ones(4)
    with pytest.raises(ValueError, match=r"lacks quantile levels \[0.05, 0.15"):
        wql(y, frame)
    with pytest.raises(ValueError, match=r"lacks quantile levels \[0.25, 0.75\]"):
        coverage(y, frame, coverage=0.5)
    with pytest.raises(ValueError, match="lacks quantile levels"):
        coverage(y, iframe(np.zeros((4, 1)), np.ones((4, 1)), 0.8))
    with pytest.raises(TypeError, match="crps_sum takes prediction as samples"):
        crps_sum(y, frame)
    with pytest.raises(TypeError, match="crps takes prediction as samples"):
        crps(y, frame)
    with pytest.raises(TypeError, match="mae takes prediction"):
        mae(y, iframe(np.zeros((4, 1)), np.ones((4, 1)), 0.8))
    with pytest.raises(ValueError, match="columns of y_true"):
        mae(pd.DataFrame({"b": y}), frame)
    with pytest.raises(ValueError, match="index of y_true"):
        mae(pd.DataFrame({"a": y}, index=[5, 6, 7, 8]), frame)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1, np.nan])
def test_invalid_coverage_value(bad):
    with pytest.raises(ValueError, match="coverage must lie strictly between 0 and 1"):
        coverage(np.ones(3), np.ones((5, 3)), coverage=bad)
    with pytest.raises(ValueError, match="coverage must lie strictly between 0 and 1"):
        interval_score(np.ones(3), np.ones((5, 3)), coverage=bad)


def test_invalid_options():
    y, samples = np.ones(3), np.ones((5, 3))
    with pytest.raises(TypeError, match="coverage must be a number"):
        coverage(y, samples, coverage="0.9")
    for levels in ((1.5,), (), ((0.1, 0.2),), ("a",), (True,)):
        with pytest.raises(ValueError, match="quantile_levels"):
            wql(y, samples, quantile_levels=levels)
    with pytest.raises(ValueError, match="method='median'"):
        wql(y, samples, method="median")
    with pytest.raises(ValueError, match="at least 2 samples"):
        crps(y, samples[:1], fair=True)
    with pytest.raises(ValueError, match="sum \\|y_true\\|"):
        wql(np.zeros(3), samples)
    with pytest.raises(ValueError, match="variable axis"):
        crps_sum(y, samples)


def test_non_numeric_and_non_finite():
    with pytest.raises(TypeError, match="y_true must hold real numbers"):
        crps(np.array(["a", "b"]), np.ones((3, 2)))
    with pytest.raises(TypeError, match="y_true must hold real numbers"):
        crps(pd.Series(["a", "b"]), np.ones((3, 2)))
    with pytest.raises(TypeError, match="y_true must hold real numbers"):
        crps(np.array([True, False]), np.ones((3, 2)))
    with pytest.raises(TypeError, match="prediction must hold real numbers"):
        crps(np.ones(2), np.full((3, 2), "x"))
    with pytest.raises(TypeError, match="y_true must hold real numbers"):
        crps("abc", np.ones((3, 2)))
    samples = np.ones((3, 2))
    samples[1, 0] = np.nan
    with pytest.raises(ValueError, match="prediction has NaN or infinite"):
        crps(np.ones(2), samples)
    with pytest.raises(ValueError, match="y_true has infinite"):
        mae(np.array([1.0, np.inf]), np.ones(2))


def test_inputs_are_not_modified(rng):
    y = pd.DataFrame(rng.normal(size=(6, 2)) + 3, columns=["a", "b"])
    y.iloc[1, 0] = np.nan
    samples = rng.normal(size=(9, 6, 2)).astype(np.float32) + 3
    mask = np.ones((6, 2), bool)
    mask[2, 1] = False
    frame = qframe(
        np.quantile(samples, QUANTILE_LEVELS, axis=0), QUANTILE_LEVELS, ("a", "b")
    )
    y_train = rng.normal(size=(20, 2))
    copies = [y.copy(), samples.copy(), mask.copy(), frame.copy(), y_train.copy()]
    for metric in (crps, wql, crps_sum, mae, rmse, coverage, interval_score):
        metric(y, samples, mask=mask)
    for metric in (wql, mae, coverage, interval_score):
        metric(y, frame, mask=mask)
    mase(y, frame, y_train, mask=mask)
    pd.testing.assert_frame_equal(y, copies[0])
    np.testing.assert_array_equal(samples, copies[1])
    np.testing.assert_array_equal(mask, copies[2])
    pd.testing.assert_frame_equal(frame, copies[3])
    np.testing.assert_array_equal(y_train, copies[4])
