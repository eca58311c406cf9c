"""Forecasting protocols: tsdiff beside seasonal naive and statsmodels ETS, one run.

Protocols (``../shared/docs/BENCHMARKS.md``):

* ``exchange_rate``: GluonTS ``exchange_rate_nips``, 8 daily rates as one
  multivariate series, 5 rolling test windows of 30 steps; CRPS and CRPS-sum.
* ``etth1``, ``etth2``, ``ettm1``: the 12/4/4-month split (ETTm: four times the rows),
  7 variables, horizon ``--horizon`` (24 or 96), rolling windows of that length
  tiling the test months (``--max-windows`` keeps that many, evenly spread).
* ``co2``: statsmodels' weekly Mauna Loa CO2 (the quickstart's series, gaps
  included), one forecast of the last 52 weeks from a context of 104.
* ``ili``: weekly influenza-like illness, 7 variables, the last 20 % of the weeks
  as test, rolling windows of ``--horizon`` (default 24) weeks.
* ``m4_hourly``, ``electricity_weekly``, ``traffic_weekly``, ``solar_weekly``: Monash
  panels (414, 321, 862, 137 series), one global tsdiff model over all series; each
  series' last ``horizon`` points (48, 8, 8, 5) are the test, the rest trains. The
  solar series are one year long, too short for a yearly season: their baselines
  are non-seasonal (naive and ETS without a season).

Baselines are fitted on the training part of each series (one model per variable
and series) and forecast every window from the history before it with their fitted
parameters: seasonal naive (Gaussian from its in-sample errors) and ETS with additive
error and damped additive trend (seasonal with period ``sp`` where the protocol has
one of at most 24 steps; its variables are fitted and forecast in parallel processes,
``n_jobs=-1``). Every method is scored on the same cells: CRPS (wQL over 19
levels, linear quantiles), CRPS-sum where stated, MAE of the median and 90 %
interval coverage. Every ``--samplers`` entry is scored with the one fitted model
(sampling settings change nothing that is fitted). ``--peers statsforecast`` adds
statsforecast's AutoETS, AutoARIMA, AutoTheta and seasonal naive (``_peers.py``;
``pip install "tsdiff[bench]"``), fitted and scored the same way; ``--no-tsdiff``
scores the baselines and peers alone.

Usage::

    python benchmarks/forecasting.py exchange_rate            # GPU: minutes
    python benchmarks/forecasting.py etth1 --horizon 96
    python benchmarks/forecasting.py m4_hourly --smoke         # seconds on CPU
    python benchmarks/forecasting.py ettm1 --horizon 96 --context 336 --split validation

``--split validation`` scores windows cut from the training part instead (ETT: the
four validation months after the twelve that train; ILI: the last 20 % of the
training weeks; CO2: the year before the test year; exchange rate: the last five
horizons of the training series; the
panels: the horizon before each series' test), for choosing settings without
seeing the test. Its files are named ``..._val...``.

Writes ``benchmarks/results/forecast_<protocol>[_h<horizon>][_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _harness as h
import _peers
import _runs as r
import numpy as np
import pandas as pd

from tsdiff import DiffusionForecaster, metrics
from tsdiff.baselines import ETSForecaster, SeasonalNaiveForecaster
from tsdiff.datasets import (
    load_co2,
    load_ett,
    load_exchange_rate_nips,
    load_ili,
    load_tsf,
)

logger = logging.getLogger("benchmarks")

LEVELS = tuple(np.round(np.arange(1, 20) / 20, 2))  # the 19 levels of wQL
ANCHORS = {
    "exchange_rate": {"CSDI (ProbTS short-term; CRPS)": {"CRPS": 0.008}},
}


@dataclass
class Task:
    """A protocol's data: what trains and where forecasts start.

    ``series`` is one multivariate series (forecast from ``cutoffs``) or a panel
    (forecast from each series' end after ``horizon`` points are held out).
    """

    series: pd.DataFrame
    train: pd.DataFrame
    horizon: int
    context: int
    sp: int
    cutoffs: list = field(default_factory=list)
    joint: bool = False  # also score CRPS-sum (needs joint samples)

    @property
    def is_panel(self) -> bool:
        return isinstance(self.series.index, pd.MultiIndex)


def _rolling(series: pd.DataFrame, test_start: int, horizon: int, keep: int | None):
    """Cutoffs every ``horizon`` steps from just before ``test_start`` while a whole
    horizon fits; ``keep`` of them evenly spread (all if None)."""
    positions = np.arange(test_start - 1, len(series) - horizon, horizon)
    if keep is not None and keep < len(positions):
        positions = positions[
            np.linspace(0, len(positions) - 1, keep).round().astype(int)
        ]
    return list(series.index[positions])


def _task(protocol: str, args) -> Task:
    keep = args.max_windows

    def folder(name: str) -> Path:
        return h.data_dir(h.DATA / name, args.data)

    if protocol == "exchange_rate":
        nips = load_exchange_rate_nips(
            folder("exchange_rate") / "exchange_rate_nips.tar.gz"
        )
        series = nips.test[-1]
        n_train, horizon = len(nips.train), nips.prediction_length
        cutoffs = [series.index[len(t) - horizon - 1] for t in nips.test]
        if args.split == "validation":  # the training part's last 5 horizons
            series = series.iloc[:n_train]
            n_train -= 5 * horizon
            cutoffs = [series.index[n_train + k * horizon - 1] for k in range(5)]
        if args.smoke:
            series, n_train = series.iloc[-400:], 400 - 5 * horizon
            cutoffs = cutoffs[-2:]
        return Task(series, series.iloc[:n_train], horizon, args.context or horizon,
                    sp=1, cutoffs=cutoffs, joint=True)  # fmt: skip
    if protocol in ("etth1", "etth2", "ettm1"):
        series = load_ett(folder("ett") / {"etth1": "ETTh1.csv", "etth2": "ETTh2.csv",
                                    "ettm1": "ETTm1.csv.gz"}[protocol])  # fmt: skip
        per_month = 30 * 24 * (4 if protocol == "ettm1" else 1)
        series = series.iloc[: 20 * per_month]  # 12 / 4 / 4 months
        horizon = args.horizon or 24
        test_start = 16 * per_month
        if args.split == "validation":  # the 4 validation months after training
            series, test_start = series.iloc[:test_start], 12 * per_month
        if args.smoke:
            series, test_start = series.iloc[: 3 * per_month // 10], per_month // 5
            keep = 2
        cutoffs = _rolling(series, test_start, horizon, keep)
        n_train = test_start - 4 * per_month if not args.smoke else test_start
        if args.split == "validation":
            n_train = test_start
        return Task(series, series.iloc[:n_train], horizon, args.context or 96,
                    sp=24 if protocol != "ettm1" else 96, cutoffs=cutoffs)  # fmt: skip
    if protocol == "co2":  # weekly, bundled with statsmodels: the last year tests
        series = load_co2()
        horizon = args.horizon or 52
        test_start = len(series) - horizon
        if args.split == "validation":  # the year before
            series = series.iloc[:test_start]
            test_start -= horizon
        cutoffs = [series.index[test_start - 1]]
        return Task(series, series.iloc[:test_start], horizon, args.context or 104,
                    sp=52, cutoffs=cutoffs)  # fmt: skip
    if protocol == "ili":
        series = load_ili(folder("ili") / "national_illness.csv")
        horizon = args.horizon or 24
        test_start = int(0.8 * len(series))
        if args.split == "validation":  # the last 20 % of the training weeks
            series = series.iloc[:test_start]
            test_start = int(0.8 * len(series))
        if args.smoke:
            keep = 2
        cutoffs = _rolling(series, test_start, horizon, keep)
        return Task(series, series.iloc[:test_start], horizon, args.context or 36,
                    sp=52, cutoffs=cutoffs)  # fmt: skip
    files = {
        "m4_hourly": ("m4_hourly_dataset.tsf", 24),
        "electricity_weekly": ("electricity_weekly_dataset.tsf", 52),
        "traffic_weekly": ("traffic_weekly_dataset.tsf", 52),
        "solar_weekly": ("solar_weekly_dataset.tsf", 1),  # 52 weeks: no season to fit
    }
    if protocol in files:
        name, sp = files[protocol]
        tsf = load_tsf(folder("monash") / name)
        panel = tsf.data
        if args.smoke:
            panel = panel.loc[list(panel.index.unique(level=0)[:3])]
        horizon = args.horizon or tsf.horizon
        if args.split == "validation":  # the horizon before each series' test
            panel = panel.groupby(level=0, sort=False, group_keys=False).apply(
                lambda s: s.iloc[:-horizon]
            )
        train = panel.groupby(level=0, sort=False, group_keys=False).apply(
            lambda s: s.iloc[:-horizon]
        )
        return Task(panel, train, horizon, args.context or 2 * horizon, sp=sp)
    raise SystemExit(f"unknown protocol {protocol!r}")


# -- forecasts: quantiles (rows, K) at LEVELS and, where joint, samples ------------


def _truth_rows(task: Task) -> pd.DataFrame:
    """The true values of every forecast cell, rows ``([cutoff | id], time)``."""
    if task.is_panel:
        return task.series.groupby(level=0, sort=False).tail(task.horizon)
    parts = []
    for cutoff in task.cutoffs:
        at = task.series.index.get_loc(cutoff)
        parts.append(task.series.iloc[at + 1 : at + 1 + task.horizon])
    return pd.concat(parts, keys=task.cutoffs, names=["cutoff", task.series.index.name])


def _tsdiff_forecast(model: DiffusionForecaster, task: Task, joint: bool):
    if task.is_panel:
        q = model.predict_quantiles(fh=task.horizon, alpha=LEVELS)
        return q, None
    q = model.backtest(task.series, fh=task.horizon, cutoffs=task.cutoffs, alpha=LEVELS)
    samples = None
    if joint:
        samples = np.concatenate(  # (S, n_cutoffs * H, K)
            [
                model.sample(fh=task.horizon, y=task.series.loc[:c])
                for c in task.cutoffs
            ],
            axis=1,
        )
    return q, samples


class _Baseline:
    """One baseline model per series (per variable inside it), fitted on the
    training part and forecasting every window from the history before it."""

    def __init__(self, make: Any, task: Task, num_samples: int, seed: int):
        self.make, self.task = make, task
        self.num_samples, self.seed = num_samples, seed
        self.models: dict = {}

    def fit(self) -> None:
        task, model = self.task, self.make()
        if task.is_panel and not getattr(model, "takes_panels", False):
            for key, train in task.train.groupby(level=0, sort=False):
                self.models[key] = self.make().fit(train.droplevel(0))
        else:  # one series, or a model that takes a whole panel
            self.models[None] = model.fit(task.train)

    def forecast(self) -> tuple[pd.DataFrame, np.ndarray | None]:
        """Quantile frame (and samples for joint tasks) on the rows of the truth."""
        task = self.task
        if task.is_panel:
            frames = {
                key: model.predict_quantiles(fh=task.horizon, alpha=LEVELS)
                for key, model in self.models.items()
            }
            if None in frames:  # one model of the whole panel
                return frames[None], None
            return pd.concat(frames, names=task.series.index.names), None
        model = self.models[None]
        frames, draws = {}, []
        for c in task.cutoffs:
            history = task.series.loc[:c]
            frames[c] = model.predict_quantiles(
                fh=task.horizon, y=history, alpha=LEVELS
            )
            if task.joint and hasattr(model, "sample"):
                draws.append(
                    model.sample(
                        fh=task.horizon,
                        y=history,
                        num_samples=self.num_samples,
                        random_state=self.seed,
                    )  # fmt: skip
                )
        samples = np.concatenate(draws, axis=1) if draws else None
        return pd.concat(frames, names=["cutoff", task.series.index.name]), samples


def _horizon_means(y: np.ndarray, samples: np.ndarray, horizon: int):
    """The mean of every forecast over its horizon, of the truth (n, K) and of each
    sample (S, n, K), over the cells with a true value: a sample path whose steps
    vary independently has too narrow a spread of means, so the CRPS of these means
    tells whether the samples hold together in time (CRPS-sum does across
    variables)."""
    seen = np.isfinite(y).reshape(-1, horizon, y.shape[-1])  # (n, H, K)
    count = np.maximum(seen.sum(axis=1), 1)  # (n, K)
    truth = np.where(seen, y.reshape(seen.shape), 0.0).sum(axis=1) / count
    paths = samples.reshape(len(samples), *seen.shape)  # (S, n, H, K)
    means = np.where(seen, paths, 0.0).sum(axis=2) / count  # (S, n, K)
    return np.where(seen.any(axis=1), truth, np.nan), means


def _score(truth: pd.DataFrame, q: pd.DataFrame, samples: np.ndarray | None) -> dict:
    if list(q.index) != list(truth.index):
        raise RuntimeError("forecast rows differ from the rows of the true values")
    y = truth.to_numpy()  # (rows, K)
    median = q.xs(0.5, axis=1, level="quantile").to_numpy()  # (rows, K)
    record = {
        "crps": float(metrics.wql(y, q)),
        "mae": float(np.nanmean(np.abs(median - y))),
        "coverage_90": float(metrics.coverage(y, q, coverage=0.9)),
        "coverage_50": float(metrics.coverage(y, q, coverage=0.5)),
        "interval_score_90": float(metrics.interval_score(y, q, coverage=0.9)),
        "n_targets": int(np.isfinite(y).sum()),
    }
    if samples is not None:
        record["crps_sum"] = float(metrics.crps_sum(y, samples))
        horizon = len(truth) // truth.index.get_level_values(0).nunique()  # per cutoff
        record["crps_horizon_mean"] = float(
            metrics.wql(*_horizon_means(y, samples, horizon))
        )
    return record


def _calibration(model: DiffusionForecaster) -> dict:
    """The interval factors, per central level, horizon step and variable (nested
    lists), that the model's current sampler setting stretched its forecasts by
    (none without calibration)."""
    factors = model._interval_factors(model.num_samples)
    return {} if factors is None else {"calibration_factors": factors.tolist()}


def _run(name: str, fit, forecast, truth, extra: dict) -> dict:
    record: dict = {"method": name, **extra}
    with h.timer(record, "fit_s"):
        fit()
    with h.timer(record, "predict_s"):
        q, samples = forecast()
    record.update(_score(truth, q, samples))
    logger.info("%s: %s", name, {k: record[k] for k in ("crps", "mae", "coverage_90")})
    return record


def _markdown(result: dict) -> str:
    joint = any("crps_sum" in run for run in result["runs"])
    lines = [
        *h.heading(result),
        f"horizon {result['config']['horizon']}, context "
        f"{result['config']['context']}, {result['config']['n_forecasts']} forecasts"
        f" ({result['config']['n_series']} series).",
        "",
        "| method | CRPS |"
        + (" CRPS-sum | CRPS of horizon means |" if joint else "")
        + " MAE | 90% coverage | 50% coverage | fit s | predict s |",
        "|---|---|" + ("---|---|" if joint else "") + "---|---|---|---|---|",
    ]
    for run in result["runs"]:
        crps_sum = ""
        if joint:
            cells = [run.get(key) for key in ("crps_sum", "crps_horizon_mean")]
            crps_sum = "".join(" |" if c is None else f" {c:.4f} |" for c in cells)
        half = run.get("coverage_50")
        lines.append(
            f"| {run['method']} | {run['crps']:.4f} |{crps_sum} {run['mae']:.4g} | "
            f"{run['coverage_90']:.3f} | {'' if half is None else f'{half:.3f}'} | "
            f"{run['fit_s']:.1f} | {run['predict_s']:.1f} |"
        )
    for name, values in result["anchors"].items():
        cells = ", ".join(f"{k} {v}" for k, v in values.items())
        lines += ["", f"Published anchor (not run here): {name}: {cells}."]
    return "\n".join(lines) + "\n"


def _tsdiff_fit(task: Task, args, params: dict) -> tuple[DiffusionForecaster, dict]:
    """The forecaster of the run, fitted on the training part, and its times."""
    entries = r.samplers(args)
    model = DiffusionForecaster(
        context_length=task.context,
        prediction_length=task.horizon,
        sampler=entries[0][0],
        sampling_steps=entries[0][1],
        **params,
    )
    timing: dict = {}
    with h.timer(timing, "fit_s"):
        model.fit(task.train)
    return model, timing


def _tsdiff_runs(model, timing: dict, task: Task, truth, args) -> list[dict]:
    """One scored run per ``--samplers`` entry, all of the one fitted model."""
    timing = timing | {"train_s": r.train_seconds(model)}

    def forecast():
        return _tsdiff_forecast(model, task, task.joint)

    return [
        _run(label, lambda: None, forecast, truth, fields)
        | timing  # the one fit's times, not the empty fit step's
        | {"num_samples": model.num_samples}
        | _calibration(model)
        for label, fields in r.each_sampler(model, args)
    ]


def main(argv: list[str] | None = None) -> dict | None:
    parser = r.common_args(__doc__.splitlines()[0], "dpmpp_2m:10", seed=0)
    parser.add_argument("protocol")
    parser.add_argument(
        "--horizon", type=int, help="forecast horizon (protocol default)"
    )
    parser.add_argument("--context", type=int, help="context length (protocol default)")
    parser.add_argument("--max-windows", type=int, help="rolling windows kept (evenly)")
    parser.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="score the test windows, or validation windows cut from the training "
        "part only (for choosing settings)",
    )
    parser.add_argument(
        "--joint",
        action="store_true",
        help="also draw joint samples of every forecast (single series) and score "
        "CRPS-sum and the CRPS of each forecast's mean over its horizon",
    )
    _peers.add_options(parser, _peers.PEERS, _peers.STATSFORECAST_MODELS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    task = _task(args.protocol, args)
    if args.joint and not task.is_panel:
        task.joint = True
    truth = _truth_rows(task)
    params = r.model_params(args)
    model, runs = None, []
    if not args.no_tsdiff:
        model, timing = _tsdiff_fit(task, args, params)
        if not r.fit_finished(model):
            return None
        runs = _tsdiff_runs(model, timing, task, truth, args)
    seasonal = task.sp if 1 < task.sp <= 24 else None
    baselines = [] if args.no_baselines else [
        (f"seasonal naive (sp={task.sp})", lambda: SeasonalNaiveForecaster(sp=task.sp)),
        ("ETS (A,Ad," + ("A" if seasonal else "N") + ")",
         lambda: ETSForecaster(trend="add", damped_trend=True, sp=seasonal or 1,
                               seasonal="add" if seasonal else None, n_jobs=-1)),
    ]  # fmt: skip
    if args.peers == "statsforecast":
        baselines += _peers.statsforecast_peers(task.sp, args.peer_models)
    for name, make in baselines:
        baseline = _Baseline(make, task, params["num_samples"], args.seed)
        runs.append(_run(name, baseline.fit, baseline.forecast, truth, {}))
    horizon_tag = f"_h{task.horizon}" if args.horizon else ""
    result = {
        "protocol": r.result_name(f"forecast_{args.protocol}{horizon_tag}", args),
        "provenance": h.provenance(),
        "config": {
            "horizon": task.horizon,
            "context": task.context,
            "n_series": int(task.series.index.get_level_values(0).nunique())
            if task.is_panel
            else 1,
            "n_forecasts": len(task.cutoffs)
            if not task.is_panel
            else int(task.series.index.get_level_values(0).nunique()),  # fmt: skip
            "cutoffs": [str(c) for c in task.cutoffs],
            "n_train_rows": len(task.train),
            "seasonal_period": task.sp,
            "split": args.split,
            "runs_sharing_device": args.shared_device,
            "estimator": None if model is None else r.estimator_config(model),
            "seed": args.seed,
            "overrides": r.overrides(args),
        },
        "history": None if model is None else model.history_,
        "runs": runs,
        "anchors": ANCHORS.get(args.protocol, {}),
    }
    h.write(result["protocol"], result, Path(args.results), _markdown(result))
    return result


if __name__ == "__main__":
    main()
