"""DiffusionImputer on panels: a (series id, time) MultiIndex, windows that never cross
series, one batched sampling call, and user-given missingness patterns."""

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionImputer
from tsdiff.frames import from_long


def make_panel(lengths=(20, 13, 5), n_vars=3, seed=0):
    """Panel of series with ids 7, 3, 9, ... (not sorted), hourly integer time."""
    rng = np.random.default_rng(seed)
    parts = {}
    for sid, n in zip((7, 3, 9, 4), lengths, strict=False):
        values = rng.normal(size=(n, n_vars))
        values[rng.random(values.shape) < 0.15] = np.nan
        parts[sid] = pd.DataFrame(values, columns=[f"v{k}" for k in range(n_vars)])
    return pd.concat(parts, names=["stay", "hour"])


def test_panel_round_trip_keeps_index_and_observed_cells(tiny):
    X = make_panel()
    before = X.copy()
    imp = DiffusionImputer(window_length=8, **tiny).fit(X)
    out = imp.transform(X)
    pd.testing.assert_index_equal(out.index, X.index)
    pd.testing.assert_index_equal(out.columns, X.columns)
    observed = X.notna().to_numpy()
    np.testing.assert_array_equal(out.to_numpy()[observed], X.to_numpy()[observed])
    assert not out.isna().any().any()
    pd.testing.assert_frame_equal(X, before)
    q = imp.predict_quantiles(X, alpha=(0.1, 0.9))
    pd.testing.assert_index_equal(q.index, X.index)
    assert imp.sample(X, num_samples=3).shape == (3, *X.shape)


def test_training_windows_never_cross_series(tiny, monkeypatch):
    # Each series is a constant level far from the others: a window that crossed
    # two series would hold two levels.
    levels = {1: 0.0, 2: 100.0, 3: -50.0}
    lengths = {1: 12, 2: 9, 3: 4}
    X = pd.concat(
        {s: pd.DataFrame({"a": np.full(n, levels[s])}) for s, n in lengths.items()},
        names=["id", "t"],
    )
    seen = {}

    def capture(self, windows, **kwargs):
        seen["windows"] = windows

    monkeypatch.setattr(DiffusionImputer, "_train", capture)
    DiffusionImputer(window_length=6, **tiny).fit(X)
    source = seen["windows"]
    x0, observed, _ = source.batch(torch.arange(len(source)))  # (N, K, L)
    windows, observed = x0.numpy(), observed.numpy()
    # Every start position of each series (short series are left-padded to one).
    assert len(windows) == (12 - 6 + 1) + (9 - 6 + 1) + 1
    for window, obs in zip(windows, observed, strict=True):
        values = window[obs]
        assert np.ptp(values) < 1e-9, "a training window mixes two series"


def test_panel_sampling_runs_once_for_all_series(tiny, monkeypatch):
    X = make_panel()
    imp = DiffusionImputer(window_length=8, **tiny).fit(X)
    calls = []
    original = DiffusionImputer._sample_windows

    def counting(self, windows, *args, **kwargs):
        calls.append(len(windows))
        return original(self, windows, *args, **kwargs)

    monkeypatch.setattr(DiffusionImputer, "_sample_windows", counting)
    imp.transform(X)
    assert len(calls) == 1 and calls[0] >= 3


@pytest.mark.parametrize("order", [(7, 3, 9), (9, 7, 3)])
def test_panel_filled_cells_come_from_their_own_series(tiny, monkeypatch, order):
    # Constant series at distinct levels, and a fake sampler that fills every window
    # with the mean of its given values per variable: a filled cell must show its
    # own series' level, whatever the order of the series and of the batch.
    levels = {7: 1.0, 3: 100.0, 9: -50.0}
    lengths = {7: 20, 3: 13, 9: 5}
    parts = {}
    for sid in order:
        values = np.full((lengths[sid], 2), levels[sid])
        values[1::4, 0] = np.nan
        values[2::5, 1] = np.nan
        parts[sid] = pd.DataFrame(values, columns=["a", "b"])
    X = pd.concat(parts, names=["id", "t"])
    imp = DiffusionImputer(window_length=8, **tiny).fit(X)

    def fake(self, windows, cond_mask, num_samples, seed, means=None, noise_std=None):
        given = np.where(cond_mask, windows, 0.0).sum(axis=1)  # (N, K)
        mean = given / np.maximum(cond_mask.sum(axis=1), 1)
        filled = np.broadcast_to(mean[:, None, :], windows.shape)  # (N, L, K)
        return np.broadcast_to(filled, (num_samples, *windows.shape)).copy()

    monkeypatch.setattr(DiffusionImputer, "_sample_windows", fake)
    out = imp.transform(X)
    expected = np.asarray([levels[s] for s in X.index.get_level_values("id")])
    np.testing.assert_allclose(out["a"], expected, atol=1e-9)
    np.testing.assert_allclose(out["b"], expected, atol=1e-9)


def test_panel_series_comes_back_as_a_named_series(tiny):
    X = make_panel()["v0"].rename("load")
    out = DiffusionImputer(window_length=8, **tiny).fit(X).transform(X)
    assert isinstance(out, pd.Series) and out.name == "load"
    pd.testing.assert_index_equal(out.index, X.index)


def test_mask_patterns_are_validated(tiny):
    X = make_panel()
    imp = DiffusionImputer(window_length=8, target_strategy="historical", **tiny)
    with pytest.raises(TypeError, match="booleans"):
        imp.fit(X, mask_patterns=np.ones((20, 3)))
    with pytest.raises(ValueError, match="n_variables=3"):
        imp.fit(X, mask_patterns=np.ones((20, 2), dtype=bool))
    with pytest.raises(ValueError, match="window_length=8"):
        imp.fit(X, mask_patterns=np.ones((5, 3), dtype=bool))
    patterns = np.random.default_rng(0).random((30, 3)) > 0.3
    imp.fit(X, mask_patterns=patterns)
    assert np.isfinite(imp.transform(X).to_numpy()).all()
    imp.fit(X, mask_patterns=X.notna())  # a panel: windows cut per series
    with pytest.raises(ValueError, match="target_strategy='historical' or 'mix'"):
        imp.set_params(target_strategy="random").fit(X, mask_patterns=patterns)


def test_panel_with_mixed_frequencies_is_rejected(tiny):
    a = pd.DataFrame(
        {"v": np.arange(5.0)}, index=pd.date_range("2024-01-01", periods=5, freq="h")
    )
    b = pd.DataFrame(
        {"v": np.arange(5.0)}, index=pd.date_range("2024-01-01", periods=5, freq="D")
    )
    X = pd.concat({"a": a, "b": b}, names=["id", "time"])
    with pytest.raises(ValueError, match="different frequencies"):
        DiffusionImputer(window_length=4, **tiny).fit(X)


def test_three_level_index_is_rejected(tiny):
    X = make_panel()
    X.index = pd.MultiIndex.from_arrays(
        [X.index.get_level_values(0), X.index.get_level_values(1), np.zeros(len(X))]
    )
    with pytest.raises(ValueError, match="exactly two"):
        DiffusionImputer(window_length=8, **tiny).fit(X)


def test_three_dimensional_array_is_a_panel(tiny):
    X = make_panel(lengths=(20, 20, 20)).to_numpy().reshape(3, 20, 3)
    before = X.copy()
    imp = DiffusionImputer(window_length=8, **tiny).fit(X)
    out = imp.transform(X)
    assert isinstance(out, np.ndarray) and out.shape == X.shape
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(out[observed], X[observed])
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(X, before)
    assert imp.sample(X, num_samples=2).shape == (2, 3, 20, 3)
    q = imp.predict_quantiles(X, alpha=(0.5,))
    assert q.index.names == ["series", "time"] and len(q) == 60
    # The same data as a (series, time) frame imputes the same cells alike.
    frame = imp.transform(make_panel(lengths=(20, 20, 20)))
    np.testing.assert_allclose(frame.to_numpy().reshape(3, 20, 3), out)


def test_long_table_in_long_table_out(tiny):
    panel = make_panel(lengths=(20, 13, 9))
    long = panel.reset_index().sample(frac=1.0, random_state=0)  # rows shuffled
    long["note"] = 1.5  # a numeric column is a variable like the others
    long_before = long.copy()
    imp = DiffusionImputer(window_length=8, **tiny).fit(
        long, id_col="stay", time_col="hour"
    )
    out = imp.transform(long)
    pd.testing.assert_frame_equal(long, long_before)  # not modified
    pd.testing.assert_index_equal(out.index, long.index)  # its rows, its order
    assert list(out.columns) == list(long.columns)
    pd.testing.assert_frame_equal(out[["stay", "hour"]], long[["stay", "hour"]])
    observed = long.notna()
    assert (out[observed] == long[observed]).sum().sum() == observed.sum().sum()
    assert not out.isna().any().any()
    # The same imputations as its panel gives (series in order of first
    # appearance), row for row.
    by_panel = imp.transform(from_long(long, "stay", "hour")).reset_index()
    key = ["stay", "hour"]
    merged = out.merge(by_panel, on=key, suffixes=("", "_panel"))
    np.testing.assert_allclose(merged["v0"], merged["v0_panel"])
    q = imp.predict_quantiles(long, alpha=(0.5,))
    pairs = list(zip(long.stay, long.hour, strict=True))
    assert q.index.names == key and list(q.index) == pairs
    assert imp.sample(long, num_samples=2).shape == (2, len(long), 4)
    with pytest.raises(ValueError, match="both id_col and time_col"):
        DiffusionImputer(window_length=8, **tiny).fit(long, id_col="stay")
