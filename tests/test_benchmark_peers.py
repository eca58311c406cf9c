"""The peers of the forecasting benchmark (``benchmarks/_peers.py``) are scored on the
cells the other methods are, from the history before each forecast.

A stand-in with statsforecast's model interface (``fit``, ``predict``, ``forward``
returning ``mean`` / ``lo-l`` / ``hi-l``) tests the adapter without the optional
dependency; one test runs the real library where it is installed.
"""

import argparse

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from test_benchmarks import BENCHMARKS, DATA, _load  # this folder is on the path

LEVELS = tuple(np.round(np.arange(1, 20) / 20, 2))


class _LastValue:
    """statsforecast's interface: a Gaussian around the last value seen."""

    def fit(self, y):
        self.last_, self.sd_ = y[-1], float(np.std(np.diff(y)))
        return self

    def _out(self, last, h, level):
        mean = np.full(h, last)
        out = {"mean": mean}
        for lev in level or ():  # statsforecast takes level=None: the mean alone
            half = norm.ppf(0.5 + lev / 200) * self.sd_
            out[f"lo-{lev}"], out[f"hi-{lev}"] = mean - half, mean + half
        return out

    def predict(self, h, level):
        return self._out(self.last_, h, level)

    def forward(self, y, h, level):
        return self._out(y[-1], h, level)


def _series(n=60, k=2, seed=0):
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="h", name="date")
    return pd.DataFrame(rng.normal(size=(n, k)).cumsum(0), index, ["a", "b"][:k])


def test_quantiles_are_the_interval_bounds_and_the_mean_the_median():
    peers = _load("_peers")
    y = _series()
    peer = peers.StatsForecastPeer(_LastValue, n_jobs=1).fit(y.iloc[:50])
    q = peer.predict_quantiles(fh=3, y=y.iloc[:55], alpha=LEVELS)
    # the steps after the history given, on its grid, in tsdiff's layout
    assert list(q.index) == list(y.index[55:58]) and q.index.name == "date"
    assert q.columns.names == ["variable", "quantile"]
    assert q.columns.get_level_values("quantile")[:19].tolist() == list(LEVELS)
    np.testing.assert_allclose(q[("a", 0.5)], y["a"].iloc[54])  # forward's y
    sd = float(np.std(np.diff(y["b"].iloc[:50])))
    np.testing.assert_allclose(
        q[("b", 0.05)], y["b"].iloc[54] + norm.ppf(0.05) * sd, rtol=1e-12
    )
    assert (np.diff(q["a"].to_numpy(), axis=1) > 0).all()  # increasing in level
    ahead = peer.predict_quantiles(fh=2, alpha=(0.5,))  # after the training data
    np.testing.assert_allclose(ahead[("b", 0.5)], y["b"].iloc[49])


def test_levels_statsforecast_cannot_name_are_refused():
    peers = _load("_peers")
    assert peers._central_levels((0.05, 0.5, 0.8, 0.95)) == [60, 90]
    with pytest.raises(ValueError, match="whole-percent intervals"):
        peers._central_levels((0.1, 0.5, 0.333))


def test_a_peer_takes_a_panel_whole_and_is_scored_on_the_truth_cells():
    forecasting = _load("forecasting")
    peers = _load("_peers")
    parts = {f"s{i}": _series(n=30 + 5 * i, k=1, seed=i) for i in range(3)}
    panel = pd.concat(parts, names=["series", "date"])
    train = panel.groupby(level=0, group_keys=False).apply(lambda s: s.iloc[:-4])
    task = forecasting.Task(panel, train, horizon=4, context=8, sp=1)
    baseline = forecasting._Baseline(
        lambda: peers.StatsForecastPeer(_LastValue, n_jobs=1), task, 10, 0
    )
    baseline.fit()
    assert list(baseline.models) == [None]  # one peer for the whole panel
    q, samples = baseline.forecast()
    truth = forecasting._truth_rows(task)
    record = forecasting._score(truth, q, samples)  # raises on other rows
    assert record["n_targets"] == 12 and samples is None
    medians = q.xs(0.5, axis=1, level="quantile")["a"]
    last = train.groupby(level=0).tail(1)["a"].to_numpy()
    np.testing.assert_allclose(medians.to_numpy(), np.repeat(last, 4))


def test_solar_weekly_is_a_panel_of_137_years_without_a_season():
    if not (DATA / "monash").exists():
        pytest.skip(f"benchmark data {DATA / 'monash'} is not available")
    forecasting = _load("forecasting")
    options = dict(max_windows=None, smoke=False, horizon=None, context=None, data=None)
    task = forecasting._task(
        "solar_weekly", argparse.Namespace(split="test", **options)
    )
    assert task.is_panel and (task.horizon, task.context, task.sp) == (5, 10, 1)
    assert task.series.index.get_level_values(0).nunique() == 137
    assert len(task.train) == 137 * 47


@pytest.mark.parametrize("protocol", ["exchange_rate", "m4_hourly"])
def test_statsforecast_peers_beside_the_baselines(protocol, tmp_path, monkeypatch):
    pytest.importorskip("statsforecast")
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # worker processes import _peers
    folder = {"exchange_rate": "exchange_rate", "m4_hourly": "monash"}[protocol]
    if not (DATA / folder).exists():
        pytest.skip(f"benchmark data {DATA / folder} is not available")
    argv = [protocol, "--smoke", "--no-tsdiff", "--peers", "statsforecast"]
    result = _load("forecasting").main([*argv, "--results", str(tmp_path)])
    methods = [run["method"] for run in result["runs"]]
    assert len(methods) == 6 and methods[0].startswith("seasonal naive")
    assert methods[1].startswith("ETS")
    assert [m.split()[1] for m in methods[2:]] == [
        "AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive"
    ]  # fmt: skip
    assert len({run["n_targets"] for run in result["runs"]}) == 1
    for run in result["runs"]:
        assert 0 < run["crps"] < 1 and 0 <= run["coverage_90"] <= 1
