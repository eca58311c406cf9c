"""Beijing PM2.5 imputation, CSDI's air-quality protocol, tsdiff beside baselines.

Protocol (``../shared/docs/BENCHMARKS.md``; CSDI's ``dataset_pm25.py``): months 3, 6,
9 and 12 are the test set; months 2, 4, 5, 7, 8, 10 and 11 train (month 1 is the held
out validation month and is not used for fitting); the historical masks copy the
missingness of months 2, 5, 8 and 11 only. Test months are cut into non-overlapping
36-hour windows, the last one shifted back to the month's end; the model is given the
cells present in ``pm25_missing.txt`` and scored on the cells present in
``pm25_ground.txt`` but hidden in ``pm25_missing.txt``, in µg/m³. Every target is
scored once; where the shifted last window overlaps its predecessor, the hours go to
the window whose centre is nearer (CSDI gives them all to the earlier window).

Usage::

    python benchmarks/pm25.py                 # full run (GPU: minutes)
    python benchmarks/pm25.py --smoke         # seconds on CPU, tiny model
    python benchmarks/pm25.py --epochs 200 --batch-size 32 --ema 0.999
    python benchmarks/pm25.py --split validation   # month 1: for choosing settings
    python benchmarks/pm25.py --smoke --peers pypots   # + PyPOTS's CSDI and SAITS

``--peers pypots`` adds PyPOTS's CSDI and SAITS (``_pypots.py``), trained on the
same months and windows, validated on month 1 and scored on the same cells;
``--no-tsdiff`` scores the baselines and peers alone.

Writes ``benchmarks/results/pm25[_val][_<tag>][_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import logging

import _harness as h
import _pypots
import _runs as r
import numpy as np
import pandas as pd

from tsdiff import DiffusionImputer
from tsdiff.datasets import load_pm25

TEST_MONTHS = (3, 6, 9, 12)
TRAIN_MONTHS = (2, 4, 5, 7, 8, 10, 11)
PATTERN_MONTHS = (2, 5, 8, 11)
VALIDATION_MONTHS = (1,)
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


def _window_count(panel: pd.DataFrame, length: int) -> int:
    """Stride-1 windows of ``length`` in every series of a (series, time) panel."""
    sizes = panel.groupby(level=0).size()
    return int(np.maximum(sizes - length + 1, 0).sum())


def main(argv: list[str] | None = None) -> dict | None:
    parser = r.common_args(__doc__.splitlines()[0], "ddpm:50,ddim:20,ddim:10", seed=0)
    parser.add_argument("--strategy", default="mix", help="training mask strategy")
    parser.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="score the test months or the validation month (1), which no fit sees",
    )
    _pypots.add_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = load_pm25(h.data_dir(h.DATA / "beijing_pm25_stmvl", args.data))
    ground, missing = data.ground, data.missing
    train_months, test_months = (
        ((2,), (3,)) if args.smoke else (TRAIN_MONTHS, TEST_MONTHS)
    )
    if args.split == "validation":
        test_months = VALIDATION_MONTHS
    train = _months(ground, train_months)
    patterns = _months(ground, tuple(m for m in PATTERN_MONTHS if m in train_months))
    test_input = _months(missing, test_months)
    truth = _months(ground, test_months).to_numpy()  # (T, K)
    target = ~np.isnan(truth) & test_input.isna().to_numpy()
    cases = [({}, test_input, target)]
    imputer = DiffusionImputer(
        window_length=WINDOW,
        window_stride=WINDOW,  # the protocol's non-overlapping test windows
        target_strategy=args.strategy,
        **r.model_params(args),
    )
    draws = 4 if args.smoke else args.baseline_samples
    baselines = r.Baselines(
        r.imputation_baselines(train, train, draws, args),
        cases,
        truth,
        parallel=not args.smoke,
        # fits that may stop early go first
        start=args.max_fit_time is None and args.peer_max_time is None,
    )
    validation = tuple(_months(f, VALIDATION_MONTHS) for f in (missing, ground))
    runs = _pypots.evaluate(
        lambda: r.evaluate(
            imputer,
            lambda: imputer.fit(train, mask_patterns=patterns.notna()),  # per month
            baselines,
            cases,
            truth,
            args,
        ),
        baselines,
        lambda: _pypots.pypots_runs(
            "pm25",
            train,
            validation,
            cases,
            truth,
            args,
            window=WINDOW,
            stride=WINDOW,
            patterns=patterns,
        ),  # fmt: skip
        args,
    )
    if runs is None:
        return None
    config = {
        "train_months": train_months,
        "split": args.split,
        "test_months": test_months,
        "pattern_months": PATTERN_MONTHS,
        "window": WINDOW,
        "train_windows": _window_count(train, WINDOW),
        "iterative_imputer_samples": draws,
    }
    if args.peers:
        config["peer_validation_months"] = VALIDATION_MONTHS
    name = "pm25_val" if args.split == "validation" else "pm25"
    fitted = None if args.no_tsdiff else imputer
    return r.report(name, fitted, runs, config, ANCHORS, args)


if __name__ == "__main__":
    main()
