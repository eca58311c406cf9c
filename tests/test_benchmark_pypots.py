"""The PyPOTS peers of the imputation benchmarks (``benchmarks/_pypots.py``) are
scored on the cells and windows the other methods are.

A stand-in with the peer's interface tests the windows, scaling and scoring without
the optional dependency; one test runs PyPOTS itself where it is installed.
"""

import argparse

import numpy as np
import pandas as pd
import pytest
from test_benchmarks import DATA, _load  # this folder is on the path

from tsdiff.data import stitch_owner
from tsdiff.frames import quantile_frame
from tsdiff.metrics import QUANTILE_LEVELS


def _panel(lengths, k=3, seed=0):
    """A (series, time) panel of standard-normal series of the given lengths."""
    rng = np.random.default_rng(seed)
    parts = {
        f"s{i}": pd.DataFrame(rng.normal(size=(n, k)), columns=list("abc")[:k])
        for i, n in enumerate(lengths)
    }
    return pd.concat(parts, names=["series", "time"])


def test_windows_cut_and_stitched_give_the_series_back():
    pypots = _load("_pypots")
    panel = _panel([40, 75, 20])  # the last is shorter than a window: padded
    values = panel.to_numpy()
    windows, plan = pypots.cut_windows(values, pypots._segments(panel.index), 36, 36)
    assert windows.shape == (2 + 3 + 1, 36, 3)  # starts 0, 4 | 0, 36, 39 | 0
    assert np.isnan(windows[-1, :16]).all()  # the short series' padding
    np.testing.assert_array_equal(pypots.stitch(windows, plan, len(panel)), values)
    labels = np.broadcast_to(np.arange(6.0)[:, None, None], (6, 36, 3))
    owner = pypots.stitch(labels, plan, len(panel))[40:115, 0]
    # each step of the second series from the window whose centre is nearest
    nearest = stitch_owner(np.array([0, 36, 39]), 36, 75) + 2
    np.testing.assert_array_equal(owner, nearest)
    assert set(owner) == {2.0, 3.0, 4.0}


def test_quantiles_score_as_the_samples_and_a_point_as_its_error():
    fit = _load("_pypots_fit")
    harness = _load("_harness")
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(4, 25, 6, 2))  # (N, S, L, K) as CSDI returns them
    truth = rng.normal(size=(24, 2))  # the four windows' rows
    target = rng.random(truth.shape) < 0.5
    q = fit.sample_quantiles(samples)  # (Q, N, L, K)
    assert q.shape == (19, 4, 6, 2) and q.dtype == np.float32
    frame = quantile_frame(
        q.reshape(19, 24, 2), pd.RangeIndex(24), pd.Index(["a", "b"]), QUANTILE_LEVELS
    )
    drawn = samples.transpose(1, 0, 2, 3).reshape(25, 24, 2)  # (S, T, K)
    from_samples = harness.score(truth, drawn, target)
    assert harness.score(truth, frame, target) == pytest.approx(from_samples, rel=1e-5)
    point = fit.sample_quantiles(samples[:, 0])  # SAITS: (N, L, K)
    assert (point == point[:1]).all()  # every level the point
    frame = quantile_frame(
        point.reshape(19, 24, 2), pd.RangeIndex(24), pd.Index(["a", "b"]),
        QUANTILE_LEVELS,
    )  # fmt: skip
    error = np.abs(truth - samples[:, 0].reshape(24, 2))[target].sum()
    crps = harness.score(truth, frame, target)["crps"]
    assert crps == pytest.approx(error / np.abs(truth[target]).sum(), rel=1e-5)


class _Oracle:
    """The peer's interface; imputes the true windows it is told (scaled)."""

    answer = None  # (N, L, K) true windows in the peer's scaled units
    seen = []

    def __init__(self, name, setting, n_steps, n_features, seed):
        self.name, self.version, self.predict_seconds = name, "stand-in", 0.0

    def fit(self, train_set, val_set, path, deadline):
        _Oracle.seen.append((train_set, val_set))
        return True

    def predict(self, x, keep, draws, batch, label, folder, deadline):
        assert np.isnan(x).any() and x.shape == keep.shape == self.answer.shape
        return _load("_pypots_fit").sample_quantiles(self.answer)

    def fit_seconds(self):
        return 0.0

    def devices(self):
        return ["cpu"]

    def describe(self):
        return "stand-in"

    def summary(self):
        return {}


def test_a_perfect_peer_scores_zero_on_the_protocols_cells(monkeypatch):
    pypots = _load("_pypots")
    rng = np.random.default_rng(2)
    train = _panel([40, 50], seed=3)
    base = train.to_numpy()
    train[:] = 5.0 + 10.0 * (base - base.mean(0)) / base.std(0)  # mean 5, std 10
    truth_panel = _panel([40, 75], seed=4)
    target = rng.random(truth_panel.shape) < 0.2
    given = truth_panel.mask(target)
    windows, _ = pypots.cut_windows(
        truth_panel.to_numpy(), pypots._segments(truth_panel.index), 36, 36
    )
    monkeypatch.setattr(_Oracle, "answer", (windows - 5.0) / 10.0)
    monkeypatch.setattr(_Oracle, "seen", [])
    monkeypatch.setattr(pypots, "Peer", _Oracle)
    args = argparse.Namespace(
        peer_models=("CSDI", "SAITS"), peer_checkpoint=None, peer_max_time=None,
        peer_epochs=None, peer_predict_batch=128, samples=7, seed=0, smoke=False,
    )  # fmt: skip
    runs = pypots.pypots_runs(
        "pm25", train, (given, truth_panel), [({}, given, target)],
        truth_panel.to_numpy(), args, window=36, stride=36, patterns=train,
    )  # fmt: skip
    assert [run["method"].split(" (")[0] for run in runs] == [
        "PyPOTS CSDI",
        "PyPOTS SAITS",
    ]
    for run in runs:
        assert run["crps"] == pytest.approx(0, abs=1e-5) and run["n_targets"] > 0
        assert run["mae"] == pytest.approx(0, abs=1e-4)
    assert [run["num_samples"] for run in runs] == [7, 1]
    train_set, val_set = _Oracle.seen[0]
    assert train_set["X"].shape == (5 + 15, 36, 3)  # stride-1 windows per series
    assert train_set["for_pattern_mask"].shape == train_set["X"].shape
    assert val_set["X"].shape == val_set["X_ori"].shape == (2 + 3, 36, 3)
    first = (train.to_numpy()[:36] - 5.0) / 10.0  # standardised as tsdiff's scaler
    np.testing.assert_allclose(train_set["X"][0], first, rtol=1e-5)


def test_pypots_csdi_and_saits_run_on_physionet(tmp_path):
    pytest.importorskip("pypots")
    if not (DATA / "physionet2012").exists():
        pytest.skip(f"benchmark data {DATA / 'physionet2012'} is not available")
    argv = ["--smoke", "--ratios", "0.1", "--no-tsdiff", "--no-baselines"]
    argv += ["--peers", "pypots", "--results", str(tmp_path)]
    result = _load("physionet").main(argv)
    csdi, saits = result["runs"]
    assert csdi["method"] == "PyPOTS CSDI @ 10 %" and csdi["num_samples"] == 4
    assert saits["point_method"] and saits["num_samples"] == 1
    assert csdi["n_targets"] == saits["n_targets"] > 0
    assert result["config"]["estimator"] is None  # tsdiff did not run
