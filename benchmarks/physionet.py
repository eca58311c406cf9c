"""PhysioNet 2012 imputation at 10 %, 50 % and 90 %, CSDI's healthcare protocol.

Protocol (``../shared/docs/BENCHMARKS.md``; CSDI's ``dataset_physio.py``): the 4000
set-a stays on the hourly 48-step grid of 35 variables, standardised per variable with
the mean and standard deviation of all observed values; stays shuffled with the seed,
fold 0's 20 % is the test set, 70 % of all stays train and the rest validate (unused
here). For each test stay a seeded random share (10 %, 50 % or 90 %) of its observed
entries is hidden and scored; metrics are in standardised units. One model is trained
(CSDI's random training masks do not depend on the test ratio) and evaluated at every
ratio.

Usage::

    python benchmarks/physionet.py            # full run (GPU: minutes)
    python benchmarks/physionet.py --smoke    # seconds on CPU, 60 stays, tiny model

Writes ``benchmarks/results/physionet[_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import _harness as h
import numpy as np
import pandas as pd

from tsdiff import DiffusionImputer
from tsdiff.baselines import (
    InterpolationImputer,
    IterativeImputerBaseline,
    KNNImputerBaseline,
)
from tsdiff.datasets import load_physionet2012

RATIOS = (0.1, 0.5, 0.9)
ANCHORS = {
    "CSDI 10 % (Tashiro et al. 2021, 100 samples, 50 steps)": {
        "CRPS": 0.238,
        "MAE": 0.217,
        "RMSE": 0.498,
    },
    "CSDI 50 % / 90 % (ibid.)": {"CRPS": "0.330 / 0.522"},
    "SAITS 10 % (TSI-Bench)": {"MAE": 0.257},
}


def split(ids: np.ndarray, seed: int, fold: int = 0) -> tuple[np.ndarray, ...]:
    """CSDI's split: shuffle, fold ``fold``'s 20 % test, 70 % of all stays train."""
    order = np.random.RandomState(seed).permutation(len(ids))
    start, stop = int(fold * 0.2 * len(ids)), int((fold + 1) * 0.2 * len(ids))
    test = order[start:stop]
    rest = np.random.RandomState(seed).permutation(np.delete(order, range(start, stop)))
    n_train = int(0.7 * len(ids))
    return ids[rest[:n_train]], ids[rest[n_train:]], ids[test]


def hide(frame: pd.DataFrame, ratio: float, seed: int) -> np.ndarray:
    """Target mask: per stay, a random ``ratio`` of its observed entries (seeded)."""
    observed = frame.notna().to_numpy()
    target = np.zeros_like(observed)
    rng = np.random.default_rng(seed)
    stays = frame.index.get_level_values(0).to_numpy()
    for rows in pd.Series(np.arange(len(frame))).groupby(stays).indices.values():
        cells = np.flatnonzero(observed[rows].ravel())
        chosen = rng.choice(cells, int(len(cells) * ratio), replace=False)
        block = np.zeros(observed[rows].size, dtype=bool)
        block[chosen] = True
        target[rows] = block.reshape(observed[rows].shape)
    return target


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with set-a.tar.gz (or set-a/)")
    parser.add_argument("--results", default=str(h.RESULTS))
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--ema", type=float, default=None, help="EMA decay")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--ratios",
        type=lambda text: tuple(float(r) for r in text.split(",")),
        default=RATIOS,
        help="comma list of target ratios (default 0.1,0.5,0.9)",
    )
    parser.add_argument("--baseline-rows", type=int, default=20000)
    parser.add_argument("--baseline-samples", type=int, default=20)
    parser.add_argument(
        "--samplers",
        default="ddim:10",
        help="comma list of sampler:steps evaluated at every ratio",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = h.data_dir(h.DATA / "physionet2012", args.data)
    source = (
        folder / "set-a" if (folder / "set-a").is_dir() else folder / "set-a.tar.gz"
    )
    model = {"n_epochs": args.epochs, "batch_size": args.batch_size}
    grid = load_physionet2012(source, max_records=60 if args.smoke else None)
    if args.smoke:
        model = {
            "n_epochs": 1,
            "batch_size": 64,
            "n_layers": 1,
            "n_channels": 8,
            "n_heads": 2,
            "time_embedding_dim": 16,
            "diffusion_embedding_dim": 16,
            "n_diffusion_steps": 10,
        }
        args.samples, args.samplers = 4, "ddim:5"
        args.baseline_samples, args.baseline_rows = 4, 1000
    values = grid.to_numpy()
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    grid = (grid - mean) / np.where(std > 0, std, 1.0)  # the BRITS convention
    ids = grid.index.get_level_values(0).unique().to_numpy()
    train_ids, _, test_ids = split(ids, args.seed)
    train = grid.loc[np.sort(train_ids)]
    test = grid.loc[np.sort(test_ids)]
    truth = test.to_numpy()
    imputer = DiffusionImputer(
        window_length=48,
        learning_rate=args.lr,
        ema_decay=args.ema,
        num_samples=args.samples,
        random_state=args.seed,
        **model,
    )
    # KNN and the iterative imputer scale with the training rows: fit them on a
    # seeded subset of the training stays (recorded in the results).
    n_stays = max(1, args.baseline_rows // 48)
    stays = np.random.default_rng(args.seed).permutation(np.sort(train_ids))[:n_stays]
    subsample = train.loc[np.sort(stays)]
    baselines = {
        "linear interpolation": (InterpolationImputer(), train, None),
        "KNN imputer (k=5)": (KNNImputerBaseline(), subsample, None),
        "iterative imputer (BayesianRidge, posterior draws)": (
            IterativeImputerBaseline(random_state=args.seed),
            subsample,
            args.baseline_samples,
        ),
    }
    runs = []
    fitted: set = set()
    for ratio in args.ratios:
        target = hide(test, ratio, args.seed)
        given = test.mask(target)
        for spec in args.samplers.split(","):
            sampler, steps = spec.split(":")
            imputer.set_params(sampler=sampler, sampling_steps=int(steps))
            runs.append(
                h.run_method(
                    f"tsdiff {sampler}-{steps}",
                    h.once(fitted, "tsdiff", lambda: imputer.fit(train)),
                    lambda g=given: imputer.sample(g),
                    truth,
                    target,
                    {"ratio": ratio, "nfe": int(steps), "sampler": sampler},
                )
            )
        for name, (baseline, data, draws) in baselines.items():
            runs.append(
                h.run_method(
                    name,
                    h.once(fitted, name, lambda b=baseline, d=data: b.fit(d)),
                    lambda b=baseline, g=given, n=draws: b.sample(g, num_samples=n),
                    truth,
                    target,
                    {"ratio": ratio, "fit_rows": len(data)},
                )
            )
        _write(args, imputer, runs, ids, train_ids, test_ids)  # partial results
    return _write(args, imputer, runs, ids, train_ids, test_ids)


def _write(args, imputer, runs, ids, train_ids, test_ids) -> dict:
    """Write the results so far (a long run keeps its finished ratios)."""
    runs = [
        {**run, "method": f"{run['method']} @ {int(run['ratio'] * 100)} %"}
        for run in runs
    ]
    h.share_fit_times(runs)  # one fit serves every ratio and sampler
    result = {
        "protocol": "physionet"
        + (
            ""
            if args.ratios == RATIOS
            else "_" + "_".join(str(int(r * 100)) for r in args.ratios)
        )
        + ("_smoke" if args.smoke else ""),
        "provenance": h.provenance(),
        "config": {
            "n_stays": len(ids),
            "n_train": len(train_ids),
            "n_test": len(test_ids),
            "fold": 0,
            "estimator": {
                k: v for k, v in imputer.get_params().items() if k != "random_state"
            },
            "seed": args.seed,
            "baseline_fit_rows": args.baseline_rows,
            "iterative_imputer_samples": args.baseline_samples,
        },
        "history": imputer.history_,
        "runs": runs,
        "anchors": ANCHORS,
    }
    table = h.markdown_table(result, ANCHORS)
    h.write(result["protocol"], result, Path(args.results), table)
    return result


if __name__ == "__main__":
    main()
