"""Temporal super-resolution: ``DiffusionImputer.upsample`` beside interpolation.

Protocols (one fit on the fine training data, then every kind of coarse value):

* ``ettm1``: 15-minute ETTm1 from hourly values (factor 4). Fit on the first 12
  months; score the first ``--days`` days of the 4 test months (months 17-20 of the
  12 / 4 / 4 split) or, with ``--split validation``, of the 4 months after training.
* ``pm25``: hourly PM2.5 from 3-hourly values (factor 3). Fit on CSDI's training
  months (2, 4, 5, 7, 8, 10, 11; their missing values stay missing); score the test
  months 3, 6, 9, 12 or, with ``--split validation``, month 1.

Coarse values are made from the fine truth: ``point`` takes each block's first step
(missing where that step is), ``mean`` the block's mean (missing where any step of
the block is). Scored cells: for ``point`` every observed fine cell not given, for
``mean`` every cell of a block with a known mean. Baselines, deterministic (CRPS
equals their normalised absolute error): ``point``, linear and cubic-spline
interpolation through the given steps (SciPy's ``CubicSpline`` via pandas, the
nearest given value beyond the ends); ``mean``, the block mean repeated, and linear
and cubic-spline interpolation through the means placed at the block centres, each
shifted per block so that it averages to the mean (as tsdiff's output does).

Usage::

    python benchmarks/upsampling.py ettm1 --data ../shared/data/ett
    python benchmarks/upsampling.py pm25 --data ../shared/data/beijing_pm25_stmvl
    python benchmarks/upsampling.py ettm1 --smoke   # seconds on CPU, tiny model

Writes ``benchmarks/results/upsample_<protocol>[_val][_<tag>][_smoke].json`` and
``.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import _harness as h
import _runs as r
import numpy as np
import pandas as pd

from tsdiff import DiffusionImputer, metrics
from tsdiff.datasets import load_ett, load_pm25
from tsdiff.estimation.upsampling import HOWS, exact_means

LEVELS = tuple(np.round(np.arange(0.05, 1.0, 0.05), 2))  # CSDI's 19 levels
BASELINES = {
    "point": {"linear": "linear", "cubic spline": "cubic"},
    "mean": {"block mean": "repeat", "linear": "linear", "cubic spline": "cubic"},
}
PM25_TRAIN, PM25_TEST, PM25_VALIDATION = (2, 4, 5, 7, 8, 10, 11), (3, 6, 9, 12), (1,)


@dataclass
class Task:
    train: pd.DataFrame  # fine training data (a panel of months for PM2.5)
    truths: list[pd.DataFrame]  # fine series to upsample, each on its own
    factor: int
    coarse_freq: str


def _task(args) -> Task:
    folder = {"ettm1": "ett", "pm25": "beijing_pm25_stmvl"}[args.protocol]
    data = h.data_dir(h.DATA / folder, args.data)
    if args.protocol == "ettm1":
        series = load_ett(Path(data) / "ETTm1.csv.gz")
        per_month = 30 * 24 * 4
        start = (12 if args.split == "validation" else 16) * per_month
        days = 2 if args.smoke else args.days
        truth = series.iloc[start : start + days * 96]
        train = series.iloc[: (2 if args.smoke else 12) * per_month]
        return Task(train, [truth], 4, "h")
    ground = load_pm25(data).ground
    months = PM25_VALIDATION if args.split == "validation" else PM25_TEST
    train = pd.concat(
        {m: ground[ground.index.month == m] for m in PM25_TRAIN},
        names=["month", "time"],
    )
    truths = [ground[ground.index.month == m] for m in months]
    if args.smoke:
        train, truths = train.loc[[2]].iloc[:200], [truths[0].iloc[:48]]
    truths = [t.iloc[: len(t) // 3 * 3] for t in truths]  # whole blocks
    return Task(train, truths, 3, "3h")


def coarse_of(truth: pd.DataFrame, factor: int, how: str) -> pd.DataFrame:
    """The coarse values of ``truth``: each block's first step, or its mean (NaN
    unless every step of the block is observed)."""
    blocks = truth.to_numpy().reshape(-1, factor, truth.shape[1])  # (n, F, K)
    values = blocks[:, 0] if how == "point" else blocks.mean(axis=1)
    return pd.DataFrame(values, index=truth.index[::factor], columns=truth.columns)


def _interpolated(coarse: pd.DataFrame, factor: int, how: str, method: str):
    """A deterministic baseline's fine values, shape (T, K)."""
    n, k = coarse.shape
    if method == "repeat":
        fine = np.repeat(coarse.to_numpy(), factor, axis=0)
    else:
        centre = 0.0 if how == "point" else (factor - 1) / 2
        at = pd.Index(np.arange(n) * factor + centre)
        frame = pd.DataFrame(coarse.to_numpy(), index=at)
        grid = frame.reindex(frame.index.union(pd.Index(np.arange(n * factor))))
        kind = {"linear": "index", "cubic": "cubicspline"}[method]
        filled = grid.interpolate(method=kind, limit_direction="both")
        fine = filled.reindex(np.arange(n * factor)).to_numpy()
    if how == "mean":  # every block shifted to its mean
        fine = _to_means(fine, coarse, factor)
    return fine.reshape(n * factor, k)


def _to_means(fine: np.ndarray, coarse: pd.DataFrame, factor: int) -> np.ndarray:
    """``fine`` (T, K) shifted per block to the block's coarse mean (where known)."""
    known = np.repeat(coarse.notna().to_numpy(), factor, axis=0)  # (T, K)
    block = np.where(known, np.arange(len(fine))[:, None] // factor, -1)
    target = np.nan_to_num(np.repeat(coarse.to_numpy(), factor, axis=0))
    return exact_means(fine[None], block, target)[0]


def _median(q: pd.DataFrame, coarse: pd.DataFrame, factor: int, how: str):
    """``upsample``'s point output, (T, K), from its quantiles: the 0.5 quantile
    (given readings exact), shifted per block to the block's mean for "mean"."""
    median = q.xs(0.5, axis=1, level=1).to_numpy()
    return median if how == "point" else _to_means(median, coarse, factor)


def _target(truth: pd.DataFrame, coarse: pd.DataFrame, factor: int, how: str):
    """The scored fine cells, (T, K) bool."""
    observed = truth.notna().to_numpy()
    if how == "point":
        given = np.zeros(observed.shape, bool)
        given[::factor] = coarse.notna().to_numpy()
        return observed & ~given
    return np.repeat(coarse.notna().to_numpy(), factor, axis=0)


def _scores(truth, target, point, quantiles=None) -> dict:
    prediction = point[None] if quantiles is None else quantiles
    out = {
        "crps": float(metrics.wql(truth, prediction, mask=target)),
        "mae": float(metrics.mae(truth, point, mask=target)),
        "rmse": float(metrics.rmse(truth, point, mask=target)),
        "n_targets": int(target.sum()),
    }
    if quantiles is not None:
        for c in (0.9, 0.5):
            out[f"coverage_{int(c * 100)}"] = float(
                metrics.coverage(truth, quantiles, coverage=c, mask=target)
            )
    return out


def _pooled(parts: list[tuple]) -> tuple:
    """Truth, target, point and quantiles of several series stacked in time."""
    stacked = [np.concatenate([p[i] for p in parts]) for i in range(3)]
    quantiles = None
    if parts[0][3] is not None:
        quantiles = pd.concat([p[3].reset_index(drop=True) for p in parts])
    return (*stacked, quantiles)


def main(argv: list[str] | None = None) -> dict:
    parser = r.common_args(__doc__.splitlines()[0], "dpmpp_2m:10", seed=0)
    parser.add_argument("protocol", choices=("ettm1", "pm25"))
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--days", type=int, default=28, help="ettm1: days scored")
    parser.add_argument("--window-length", type=int, default=48)
    parser.add_argument(
        "--how", choices=("both", *HOWS), default="both", help="what coarse values are"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    task = _task(args)
    params = r.model_params(args)
    entries = r.samplers(args)
    model = DiffusionImputer(
        window_length=args.window_length,
        sampler=entries[0][0],
        sampling_steps=entries[0][1],
        **params,
    )
    timing: dict = {}
    with h.timer(timing, "fit_s"):
        model.fit(task.train)
    runs = []
    for how in HOWS if args.how == "both" else (args.how,):
        methods = {"tsdiff": None, **BASELINES[how]}
        for name, method in methods.items():
            parts, record = [], {"method": f"{name} ({how})", "how": how}
            with h.timer(record, "predict_s"):
                for truth in task.truths:
                    coarse = coarse_of(truth, task.factor, how)
                    if method is None:  # the point output from the same draws
                        q = model.upsample(coarse, task.factor, how, alpha=LEVELS)
                        point = _median(q, coarse, task.factor, how)
                    else:
                        q, point = None, _interpolated(coarse, task.factor, how, method)
                    target = _target(truth, coarse, task.factor, how)
                    parts.append((truth.to_numpy(), target, point, q))
            record.update(_scores(*_pooled(parts)))
            if method is None:
                record.update(timing, num_samples=model.num_samples)
            logging.info("%s: %s", record["method"], record)
            runs.append(record)
    config = {
        "factor": task.factor,
        "coarse_freq": task.coarse_freq,
        "split": args.split,
        "n_fine_steps": int(sum(len(t) for t in task.truths)),
    }
    base = f"upsample_{args.protocol}"
    return r.write_fitted(base, args, model, runs, config, _markdown)


def _markdown(result: dict) -> str:
    config = result["config"]
    lines = [
        *h.heading(result),
        f"factor {config['factor']} (coarse step {config['coarse_freq']}), "
        f"{config['n_fine_steps']} fine steps scored per variable, split "
        f"{config['split']}.",
        "",
        "| method | CRPS | MAE | RMSE | 90% coverage | 50% coverage | fit s "
        "| predict s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        cov = [run.get(f"coverage_{c}") for c in (90, 50)]
        cells = ["" if v is None else f"{v:.3f}" for v in cov]
        fit = run.get("fit_s")
        lines.append(
            f"| {run['method']} | {run['crps']:.4f} | {run['mae']:.4f} | "
            f"{run['rmse']:.4f} | {cells[0]} | {cells[1]} | "
            f"{'' if fit is None else f'{fit:.1f}'} | {run['predict_s']:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
