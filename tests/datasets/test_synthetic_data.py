"""Tests for tsdiff.datasets.make_seasonal_ar and its closed-form ground truth."""

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from tsdiff.datasets import SyntheticData, make_seasonal_ar


def _gaussian_conditional(phi, noise, observed_x, query):
    """Mean and std of x[query] given the non-NaN entries of ``observed_x``.

    Brute force with the full AR(1) covariance ``v phi^|i-j|`` over all positions
    in ``observed_x`` and ``query`` (which may lie beyond its end).
    """
    var = noise**2 / (1 - phi**2)
    given = np.flatnonzero(~np.isnan(observed_x))
    cov = lambda a, b: var * phi ** np.abs(a[:, None] - b[None, :])  # noqa: E731
    gain = np.linalg.solve(cov(given, given), cov(given, query)).T  # (Q, G)
    mean = gain @ observed_x[given]
    cond = cov(query, query) - gain @ cov(given, query)
    return mean, np.sqrt(np.clip(np.diag(cond), 0, None))


def test_shapes_index_and_mask():
    data = make_seasonal_ar(500, 3, missing_rate=0.2, random_state=0)
    assert isinstance(data, SyntheticData)
    for frame in (data.observed, data.truth, data.seasonal):
        assert frame.shape == (500, 3)
        assert frame.index.freqstr == "h" and frame.index.name == "time"
        assert list(frame.columns) == ["y0", "y1", "y2"]
    hidden = data.observed.isna().to_numpy()
    assert 0.15 < hidden.mean() < 0.25
    assert not data.truth.isna().any().any()
    np.testing.assert_array_equal(
        data.observed.to_numpy()[~hidden], data.truth.to_numpy()[~hidden]
    )


def test_reproducible_and_seed_dependent():
    a = make_seasonal_ar(100, 2, random_state=1)
    b = make_seasonal_ar(100, 2, random_state=1)
    c = make_seasonal_ar(100, 2, random_state=2)
    pd.testing.assert_frame_equal(a.observed, b.observed)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not np.allclose(a.truth.to_numpy(), c.truth.to_numpy())
    d = make_seasonal_ar(100, 2, random_state=np.random.default_rng(1))
    pd.testing.assert_frame_equal(a.truth, d.truth)


def test_leaves_the_global_numpy_state_alone():
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (legacy state checked)
    make_seasonal_ar(50, 2, random_state=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_true_imputation_equals_brute_force_gaussian_conditioning():
    data = make_seasonal_ar(40, 1, phi=0.8, missing_rate=0.5, random_state=4)
    observed = data.observed["y0"].to_numpy()
    x = observed - data.seasonal["y0"].to_numpy()
    hidden = np.flatnonzero(np.isnan(observed))
    assert {0, 1, 2, 3, 12, 13, 14, 39} <= set(hidden)  # leading, inner, trailing
    mean_x, std = _gaussian_conditional(0.8, data.noise, x, hidden)
    got_mean, got_std = data.true_imputation()
    np.testing.assert_allclose(
        got_mean["y0"].to_numpy()[hidden],
        mean_x + data.seasonal["y0"].to_numpy()[hidden],
        atol=1e-10,
    )
    np.testing.assert_allclose(got_std["y0"].to_numpy()[hidden], std, atol=1e-10)
    present = ~np.isnan(observed)
    assert (got_std["y0"].to_numpy()[present] == 0).all()
    np.testing.assert_array_equal(got_mean["y0"].to_numpy()[present], observed[present])


def test_true_forecast_equals_brute_force_gaussian_conditioning():
    data = make_seasonal_ar(30, 2, phi=-0.6, missing_rate=0.3, random_state=4)
    history = data.observed.iloc[:25]
    mean, std = data.true_forecast(5, history=history)
    assert list(mean.index) == list(data.observed.index[25:30])
    assert mean.index.name == "time"
    for column in data.observed.columns:
        x = history[column].to_numpy() - data.seasonal[column].to_numpy()[:25]
        want_mean, want_std = _gaussian_conditional(
            -0.6, data.noise, x, np.arange(25, 30)
        )
        season = data.seasonal[column].to_numpy()[25:30]
        np.testing.assert_allclose(
            mean[column].to_numpy(), want_mean + season, atol=1e-10
        )
        np.testing.assert_allclose(std[column].to_numpy(), want_std, atol=1e-10)


def test_fully_hidden_series_falls_back_to_the_stationary_law():
    data = make_seasonal_ar(20, 1, missing_rate=0.0, random_state=0)
    blank = data.observed.iloc[:5] * np.nan
    mean, std = data.true_forecast(3, history=blank)
    np.testing.assert_allclose(std.to_numpy(), np.sqrt(0.25 / (1 - 0.49)))
    np.testing.assert_allclose(mean.to_numpy(), data.seasonal.to_numpy()[5:8])


def test_quantile_layout_matches_the_estimators():
    data = make_seasonal_ar(60, 2, random_state=5)
    table = data.true_forecast_quantiles([0.1, 0.5, 0.9], horizon=4)
    mean, std = data.true_forecast(4)
    assert table.shape == (4, 6)
    assert table.columns.names == ["variable", "quantile"]
    assert list(table.columns) == [
        ("y0", 0.1), ("y0", 0.5), ("y0", 0.9), ("y1", 0.1), ("y1", 0.5), ("y1", 0.9),
    ]  # fmt: skip
    np.testing.assert_allclose(table.xs(0.5, axis=1, level="quantile"), mean)
    z = NormalDist().inv_cdf(0.9)
    np.testing.assert_allclose(table[("y1", 0.9)], mean["y1"] + z * std["y1"])
    imputed = data.true_imputation_quantiles([0.25, 0.75])
    assert imputed.shape == (60, 4) and imputed.index.equals(data.observed.index)


def test_true_intervals_cover_the_hidden_truth_at_their_level():
    data = make_seasonal_ar(4000, 3, missing_rate=0.3, random_state=6)
    table = data.true_imputation_quantiles([0.05, 0.95])
    hidden = data.observed.isna().to_numpy()
    lower = table.xs(0.05, axis=1, level="quantile").to_numpy()
    upper = table.xs(0.95, axis=1, level="quantile").to_numpy()
    truth = data.truth.to_numpy()
    covered = (lower <= truth) & (truth <= upper)
    assert covered[hidden].mean() == pytest.approx(0.9, abs=0.02)


@pytest.mark.parametrize(
    "kwargs",
    [{"phi": 1.0}, {"noise": 0.0}, {"missing_rate": 1.0}, {"n_steps": 0}],
)
def test_invalid_parameters_raise(kwargs):
    with pytest.raises(ValueError):
        make_seasonal_ar(**kwargs)


def test_bad_history_or_levels_raise():
    data = make_seasonal_ar(30, 1, random_state=0)
    with pytest.raises(ValueError, match="leading slice"):
        data.true_forecast(3, history=data.observed.iloc[5:])
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        data.true_forecast_quantiles([0.0, 0.5], horizon=2)
