"""Beijing PM2.5 imputation, CSDI's air-quality protocol, tsdiff beside baselines.

Protocol (``../shared/docs/BENCHMARKS.md``; CSDI's ``dataset_pm25.py``): months 3, 6,
9 and 12 are the test set; months 2, 4, 5, 7, 8, 10 and 11 train (month 1 is the held
out validation month and is not used for fitting); the historical masks copy the
missingness of months 2, 5, 8 and 11 only. Test months are cut into non-overlapping
36-hour windows, the last one shifted back to the month's end; the model is given the
cells present in ``pm25_missing.txt`` and scored on the cells present in
``pm25_ground.txt`` but hidden in ``pm25_missing.txt``, in µg/m³.

Usage::

    python benchmarks/pm25.py                 # full run (GPU: minutes)
    python benchmarks/pm25.py --smoke         # seconds on CPU, tiny model
    python benchmarks/pm25.py --epochs 200 --batch-size 32 --ema 0.999

Writes ``benchmarks/results/pm25[_smoke].json`` and ``.md``.
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
from tsdiff.datasets import load_pm25

TEST_MONTHS = (3, 6, 9, 12)
TRAIN_MONTHS = (2, 4, 5, 7, 8, 10, 11)
PATTERN_MONTHS = (2, 5, 8, 11)
WINDOW = 36
ANCHORS = {
    "CSDI (Tashiro et al. 2021, Table 2/3; 100 samples, 50 steps)": {
        "CRPS": 0.108,
        "MAE": 9.60,
    },
    "CSDI unconditional variant (ibid.)": {"CRPS": 0.135},
    "GLIMA (CSDI paper, Table 3)": {"MAE": 10.54},
}


def _months(frame: pd.DataFrame, months: tuple) -> pd.DataFrame:
    """A panel (month, time) of the given months of ``frame``."""
    parts = {m: frame[frame.index.month == m] for m in months}
    return pd.concat(parts, names=["month", "time"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with pm25_ground.txt, pm25_missing.txt")
    parser.add_argument("--results", default=str(h.RESULTS))
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--ema", type=float, default=None, help="EMA decay")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--strategy", default="mix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--samplers",
        default="ddpm:50,ddim:20,ddim:10,ddim:5",
        help="comma list of sampler:steps; the first is the headline run",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = load_pm25(h.data_dir(h.DATA / "beijing_pm25_stmvl", args.data))
    ground, missing = data.ground, data.missing
    train_months, test_months = TRAIN_MONTHS, TEST_MONTHS
    model = {"n_epochs": args.epochs, "batch_size": args.batch_size}
    if args.smoke:
        train_months, test_months = (2,), (3,)
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
        args.samples, args.samplers = 4, "ddpm:10,ddim:5"
    train = _months(ground, train_months)
    patterns = _months(ground, tuple(m for m in PATTERN_MONTHS if m in train_months))
    test_input = _months(missing, test_months)
    truth = _months(ground, test_months).to_numpy()  # (T, K)
    target = ~np.isnan(truth) & test_input.isna().to_numpy()
    imputer = DiffusionImputer(
        window_length=WINDOW,
        window_stride=WINDOW,  # the protocol's non-overlapping test windows
        target_strategy=args.strategy,
        learning_rate=args.lr,
        ema_decay=args.ema,
        num_samples=args.samples,
        random_state=args.seed,
        **model,
    )
    runs = []
    fitted: set = set()
    mask_patterns = patterns.notna().to_numpy()
    for spec in args.samplers.split(","):
        sampler, steps = spec.split(":")
        imputer.set_params(sampler=sampler, sampling_steps=int(steps))
        runs.append(
            h.run_method(
                f"tsdiff {sampler}-{steps}",
                h.once(
                    fitted,
                    "tsdiff",
                    lambda: imputer.fit(train, mask_patterns=mask_patterns),
                ),
                lambda: imputer.sample(test_input),
                truth,
                target,
                {"nfe": int(steps), "sampler": sampler},
            )
        )
    for name, baseline in [
        ("linear interpolation", InterpolationImputer()),
        ("KNN imputer (k=5)", KNNImputerBaseline()),
        ("iterative imputer (BayesianRidge, posterior draws)",
         IterativeImputerBaseline(random_state=args.seed)),
    ]:  # fmt: skip
        runs.append(
            h.run_method(
                name,
                lambda b=baseline: b.fit(train),
                lambda b=baseline: b.sample(test_input, num_samples=args.samples),
                truth,
                target,
            )
        )
    h.share_fit_times(runs)
    result = {
        "protocol": "pm25" + ("_smoke" if args.smoke else ""),
        "provenance": h.provenance(),
        "config": {
            "train_months": train_months,
            "test_months": test_months,
            "pattern_months": PATTERN_MONTHS,
            "window": WINDOW,
            "estimator": {
                k: v for k, v in imputer.get_params().items() if k != "random_state"
            },
            "seed": args.seed,
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
