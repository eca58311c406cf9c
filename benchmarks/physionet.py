"""PhysioNet 2012 imputation at 10 %, 50 % and 90 %, CSDI's healthcare protocol.

Protocol (``../shared/docs/BENCHMARKS.md``; CSDI's ``dataset_physio.py``): the 4000
set-a stays on the hourly 48-step grid of 35 variables, standardised per variable with
the mean and standard deviation of all observed values (stays without any value are
dropped, as CSDI's loader does); stays shuffled with the seed,
fold 0's 20 % is the test set, 70 % of all stays train and the rest validate
(scored instead of the test stays with ``--split validation``, for choosing
settings). For each test stay a seeded random share (10 %, 50 % or 90 %) of its observed
entries is hidden and scored; metrics are in standardised units. One model is trained
(CSDI's random training masks do not depend on the test ratio) and evaluated at every
ratio.

Usage::

    python benchmarks/physionet.py            # full run (GPU: minutes)
    python benchmarks/physionet.py --smoke    # seconds on CPU, 60 stays, tiny model
    python benchmarks/physionet.py --split validation   # the validation stays
    python benchmarks/physionet.py --max-test-stays 200 # a seeded subset (CPU)
    python benchmarks/physionet.py --smoke --ratios 0.1 --peers pypots  # + PyPOTS

``--peers pypots`` adds PyPOTS's CSDI and SAITS (``_pypots.py``), trained on the
same stays, validated on the validation stays with the first ratio's cells hidden
and scored on the same cells; ``--no-tsdiff`` scores the baselines and peers alone.

Writes ``benchmarks/results/physionet[_val][_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import logging

import _harness as h
import _pypots
import _runs as r
import numpy as np
import pandas as pd

from tsdiff import DiffusionImputer
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
    """Target mask: per stay, ``int(ratio * n)`` of its ``n`` observed entries.

    Drawn as CSDI's ``dataset_physio.py`` does, so the targets are the same cells:
    one legacy ``RandomState(seed)`` stream, stays in increasing id order, entries of
    a stay flattened hour-major (48 x 35), ``choice(..., replace=False)`` per stay.
    ``frame`` must hold every stay of the data set, not only the test stays.
    """
    observed = frame.notna().to_numpy()
    target = np.zeros_like(observed)
    rng = np.random.RandomState(seed)
    stays = frame.index.get_level_values(0).to_numpy()
    groups = pd.Series(np.arange(len(frame))).groupby(stays).indices
    for stay in sorted(groups):  # increasing id order, as CSDI
        rows = groups[stay]
        cells = np.flatnonzero(observed[rows].ravel())
        chosen = rng.choice(cells, int(len(cells) * ratio), replace=False)
        block = np.zeros(observed[rows].size, dtype=bool)
        block[chosen] = True
        target[rows] = block.reshape(observed[rows].shape)
    return target


def _ratios(text: str) -> tuple[float, ...]:
    return tuple(float(r) for r in text.split(","))


def main(argv: list[str] | None = None) -> dict | None:
    parser = r.common_args(__doc__.splitlines()[0], "ddim:10", seed=1)
    parser.add_argument(
        "--ratios", type=_ratios, default=RATIOS, help="comma list of target ratios"
    )
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=10000,
        help="KNN / iterative imputer fit on a seeded subset of stays of ~these rows",
    )
    parser.add_argument(
        "--max-test-stays",
        type=int,
        help="score a seeded subset of this many of the scored stays (a CPU run)",
    )
    parser.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="score the test stays, or the validation stays (for choosing settings)",
    )
    _pypots.add_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = h.data_dir(h.DATA / "physionet2012", args.data)
    source = (
        folder / "set-a" if (folder / "set-a").is_dir() else folder / "set-a.tar.gz"
    )
    grid = load_physionet2012(source, max_records=60 if args.smoke else None)
    # CSDI drops the stays without any value of the 35 variables (3 in set-a).
    present = grid.notna().any(axis=1).groupby(level=0).any()
    grid = grid.loc[present.index[present]]
    values = grid.to_numpy()
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    grid = (grid - mean) / np.where(std > 0, std, 1.0)  # the BRITS convention
    ids = grid.index.get_level_values(0).unique().to_numpy()  # sorted
    train_ids, val_ids, test_ids = split(ids, args.seed)
    if args.split == "validation":
        test_ids = val_ids
    if args.max_test_stays is not None:
        picked = np.random.default_rng(args.seed + 1).permutation(test_ids)
        test_ids = np.sort(picked[: args.max_test_stays])
    train = grid.loc[np.sort(train_ids)]
    is_test = grid.index.get_level_values(0).isin(test_ids)
    test = grid[is_test]
    truth = test.to_numpy()
    cases = []
    for ratio in args.ratios:
        target = hide(grid, ratio, args.seed)[is_test]  # drawn over all stays
        cases.append(({"ratio": ratio}, test.mask(target), target))
    imputer = DiffusionImputer(window_length=48, **r.model_params(args))
    # KNN and the iterative imputer scale with the training rows: fit them on a
    # seeded subset of the training stays (recorded in the results).
    rows = 1000 if args.smoke else args.baseline_rows
    stays = np.random.default_rng(args.seed).permutation(np.sort(train_ids))
    subset = train.loc[np.sort(stays[: max(1, rows // 48)])]
    draws = 4 if args.smoke else args.baseline_samples
    baselines = r.Baselines(
        r.imputation_baselines(train, subset, draws, args),
        cases,
        truth,
        parallel=not args.smoke,
        # fits that may stop early go first
        start=args.max_fit_time is None and args.peer_max_time is None,
    )
    is_val = grid.index.get_level_values(0).isin(val_ids)
    hidden = hide(grid, args.ratios[0], args.seed)[is_val]  # as --split validation
    validation = (grid[is_val].mask(hidden), grid[is_val])
    runs = _pypots.evaluate(
        lambda: r.evaluate(
            imputer, lambda: imputer.fit(train), baselines, cases, truth, args
        ),
        baselines,
        lambda: _pypots.pypots_runs(
            "physionet", train, validation, cases, truth, args, window=48, stride=48
        ),
        args,
    )
    if runs is None:
        return None
    for run in runs:
        run["method"] = f"{run['method']} @ {round(run['ratio'] * 100)} %"
    suffix = "".join(f"_{round(r * 100)}" for r in args.ratios)
    config = {
        "n_stays": len(ids),
        "n_train": len(train_ids),
        "n_test": len(test_ids),
        "fold": 0,
        "split": args.split,
        "baseline_fit_stays": len(subset.index.get_level_values(0).unique()),
        "iterative_imputer_samples": draws,
    }
    if args.peers:
        config["peer_validation"] = {"n_stays": len(val_ids), "ratio": args.ratios[0]}
    protocol = (
        "physionet"
        + ("_val" if args.split == "validation" else "")
        + ("" if args.ratios == RATIOS else suffix)
    )
    fitted = None if args.no_tsdiff else imputer
    return r.report(protocol, fitted, runs, config, ANCHORS, args)


if __name__ == "__main__":
    main()
