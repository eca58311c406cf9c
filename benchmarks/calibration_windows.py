"""How many horizons to hold out for interval calibration: one fit, every count.

Chooses the rule behind the forecaster's ``calibration_windows="auto"`` on
validation windows only (``forecasting.py``'s ``--split validation``: ETT's four
months after the twelve that train, ILI's last 20 % of the training weeks, the
exchange rate's last five training horizons, a panel's horizon before its test).

One forecaster is fitted with the largest count asked for held out
(``--max-windows-held`` horizons at the end of every series). Its uncalibrated
samples of those held-out horizons and of the validation windows are drawn once;
then, for every count n, the factors are found on the *last* n held-out horizons
of every series (those nearest the validation windows, as a fit holding out n
would use) and the validation samples are stretched by them. Every row is scored
on the same validation cells: CRPS (wQL, 19 levels), 90 % and 50 % coverage and
the 90 % interval score. n = 0 is the uncalibrated forecast.

The model of every row is the one trained without the largest held-out tail, so
the rows differ only in the calibration: a fit that holds out fewer horizons
trains on a little more recent data, which this design leaves out.

Usage::

    python benchmarks/calibration_windows.py etth2 --horizon 96 --max-windows-held 20
    python benchmarks/calibration_windows.py ili --smoke       # seconds on CPU

Writes ``benchmarks/results/calibration_windows_<protocol>[_h<horizon>].json``/``.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import _harness as h
import _runs as r
import forecasting as fc
import numpy as np
import torch

from tsdiff import DiffusionForecaster, metrics
from tsdiff.estimation.calibration import interval_factors
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.stretching import stretch_levels, widen

logger = logging.getLogger("benchmarks")


def _validation_samples(model: DiffusionForecaster, task: fc.Task) -> np.ndarray:
    """Uncalibrated samples (S, rows, K) on the rows of ``fc._truth_rows(task)``."""
    model.calibration_ = None  # the samples as the network draws them
    if task.is_panel:
        samples = model.sample(fh=task.horizon)  # (S, n_series, H, K)
        return samples.reshape(samples.shape[0], -1, samples.shape[-1])
    parts = [model.sample(fh=task.horizon, y=task.series.loc[:c]) for c in task.cutoffs]
    return np.concatenate(parts, axis=1)  # (S, n_cutoffs * H, K)


def _recency(lengths: list[int], n_held: int, horizon: int) -> np.ndarray:
    """For every window of ``held_out_windows`` (in its order), how many horizons
    before its series' end it starts: n_held for the oldest, 1 for the last. A
    series keeps those with at least one step of history."""
    return np.concatenate(
        [[j for j in range(n_held, 0, -1) if j * horizon <= n - 1] for n in lengths]
    ).astype(int)


def _draw(args, task: fc.Task, held: int, lengths: list, timing: dict):
    """Fit (or load a finished fit's weights), then the uncalibrated samples of the
    held-out horizons and of the validation windows; None if the fit stopped."""
    model = DiffusionForecaster(
        context_length=task.context,
        prediction_length=task.horizon,
        calibration_windows=held,
        quantile_method="linear",
        calibration_coverage=0.9,
        **r.model_params(args),
    )
    epochs = model.n_epochs
    if args.weights_from:
        model.set_params(n_epochs=1, steps_per_epoch=1, checkpoint_path=None)
    with h.timer(timing, "fit_s"):
        model.fit(task.train)
    if not r.fit_finished(model):
        return None, None
    if args.weights_from:
        _load_final_weights(model, args.weights_from, epochs)
        model.set_params(n_epochs=epochs, steps_per_epoch=50)  # as trained
    cal = model.calibration_
    held_samples = model._sample_horizons(
        cal.contexts, cal.scaler, model.num_samples, model.predict_seed_,
        cal.covariates, calibrated=False,
    )  # fmt: skip  # (S, N, H, K)
    draws = {
        "held_samples": held_samples,
        "held_truth": cal.truth,
        "held_scale": cal.scaler.scale,
        "recency": _recency(lengths, held, task.horizon),  # (N,)
        "samples": _validation_samples(model, task),
    }
    return draws, r.estimator_config(model)


def _side_factors(
    samples: np.ndarray, truth: np.ndarray, coverage: float
) -> np.ndarray:
    """A lower and an upper factor per variable, shape (2, K), each the conformal
    quantile at ``(1 + coverage) / 2`` of the scores on its side (the cell's
    distance below or above the median in units of that side's half-interval),
    so that each tail misses ``(1 - coverage) / 2``; samples (S, N, H, K)."""
    levels = ((1 - coverage) / 2, 0.5, (1 + coverage) / 2)
    low, mid, high = sample_quantiles(samples, levels, "linear")  # (N, H, K) each
    tiny = 1e-12
    scores = (
        (mid - truth) / np.maximum(mid - low, tiny),  # below
        (truth - mid) / np.maximum(high - mid, tiny),  # above
    )
    side = (1 + coverage) / 2
    factors = np.ones((2, truth.shape[-1]))
    for s, score in enumerate(scores):
        for k in range(truth.shape[-1]):
            cells = np.sort(score[..., k][~np.isnan(score[..., k])])
            if len(cells):
                rank = min(int(np.ceil((len(cells) + 1) * side)), len(cells))
                factors[s, k] = max(cells[rank - 1], 0.0)
    return factors


def _widen_sides(samples: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Samples (S, ..., K) below their per-cell median stretched by ``factors[0]``
    and those above by ``factors[1]``."""
    median = sample_quantiles(samples, (0.5,), "linear")[0]
    return median + np.where(samples < median, factors[0], factors[1]) * (
        samples - median
    )


def _load_final_weights(model: DiffusionForecaster, path: str, epochs: int) -> None:
    """The weights a checkpoint's fit of ``epochs`` epochs ended with (its best,
    else its evaluated network), into ``model``'s network."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if len(payload["history"]) < epochs:
        raise SystemExit(f"{path} holds an unfinished fit")
    model.network_.load_state_dict(payload["best_weights"] or payload["averaged"])


def _score(y: np.ndarray, samples: np.ndarray, method: str) -> dict:
    median = sample_quantiles(samples, (0.5,), method)[0]  # (rows, K)
    seen = ~np.isnan(y)
    return {
        "crps": metrics.wql(y, samples, quantile_levels=fc.LEVELS, method=method),
        "mae": float(np.abs(median - y)[seen].mean()),
        "coverage_90": float(metrics.coverage(y, samples, coverage=0.9, mask=seen)),
        "coverage_50": float(metrics.coverage(y, samples, coverage=0.5, mask=seen)),
        "interval_score_90": float(
            metrics.interval_score(y, samples, coverage=0.9, mask=seen)
        ),
    }


def main(argv: list[str] | None = None) -> dict | None:
    parser = r.common_args(__doc__.splitlines()[0], "dpmpp_2m:10", seed=0)
    parser.add_argument("protocol")
    parser.add_argument("--horizon", type=int)
    parser.add_argument("--context", type=int)
    parser.add_argument("--max-windows", type=int, help="validation windows kept")
    parser.add_argument("--max-windows-held", type=int, default=20)
    parser.add_argument(
        "--weights-from",
        help="a finished training checkpoint of the same settings and data (written "
        "with --checkpoint, e.g. on a GPU): its final weights replace those of a "
        "one-step fit here, so the study can be sampled on another device",
    )
    parser.add_argument(
        "--save-samples",
        help="also write the uncalibrated samples, truths and scales to this .npz "
        "(for studying factor rules offline)",
    )
    parser.add_argument(
        "--from-samples",
        help="score the samples of an earlier --save-samples file instead of fitting",
    )
    parser.add_argument(
        "--block-cells",
        default="default",
        help="comma list of the held-out cells a block of horizon steps needs for a "
        "factor of its own ('default': the library's rule; 0: one factor per "
        "variable; 'flat': the library's blocks with one factor for every central "
        "level, as before by-level factors; 'asymmetric': a lower and an upper "
        "factor per variable); rows for each",
    )
    args = parser.parse_args(argv)
    args.split = "validation"
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    task = fc._task(args.protocol, args)
    truth = fc._truth_rows(task).to_numpy()  # (rows, K)
    held = args.max_windows_held
    lengths = (
        task.train.groupby(level=0, sort=False).size().tolist()
        if task.is_panel
        else [len(task.train)]
    )
    timing: dict = {}
    if args.from_samples:
        with np.load(args.from_samples) as saved:
            draws = {k: saved[k] for k in saved.files}
        estimator = {"samples_from": args.from_samples}
    else:
        draws, estimator = _draw(args, task, held, lengths, timing)
        if draws is None:
            return None
    if args.save_samples:
        np.savez_compressed(  # samples in float16: a tenth of a per mille off
            args.save_samples,
            **{
                k: v.astype(np.float16) if "samples" in k else v
                for k, v in draws.items()
            },
        )
    held_samples = draws["held_samples"].astype(np.float64)  # (S, N, H, K)
    val = draws["samples"].astype(np.float64)  # (S, rows, K)
    rows = [{"windows_held": 0, "share": 0.0, **_score(truth, val, "linear")}]
    n_s, n_h, n_k = val.shape[0], task.horizon, val.shape[-1]
    length = float(np.mean(lengths))
    windows = val.reshape(n_s, -1, n_h, n_k)  # (S, n_windows, H, K)
    for cells in args.block_cells.split(","):
        for count in range(1, held + 1):
            pick = draws["recency"] <= count
            fit = (held_samples[:, pick], draws["held_truth"][pick], 0.9)
            if cells == "asymmetric":
                stretched = _widen_sides(windows, _side_factors(*fit))
            else:
                named = cells in ("default", "flat")
                block = None if named else int(cells) or 10**12
                levels = None if cells == "flat" else stretch_levels(0.9)
                factors = interval_factors(
                    *fit,
                    draws["held_scale"][pick],
                    "linear",
                    block_cells=block,
                    levels=levels,
                )  # (G, H, K), or (H, K) when flat; block 10**12: one per variable
                stretched = widen(windows, factors, "linear", levels)
            stretched = stretched.reshape(val.shape)
            rows.append(
                {
                    "block_cells": cells,
                    "windows_held": count,
                    "share": count * n_h / length,
                    **_score(truth, stretched, "linear"),
                }
            )
            logger.info("%d held out: %s", count, rows[-1])
    result = {
        "protocol": f"calibration_windows_{args.protocol}"
        + (f"_h{task.horizon}" if args.horizon else "")
        + (f"_{args.tag}" if args.tag else "")
        + ("_smoke" if args.smoke else ""),
        "provenance": h.provenance(),
        "config": {
            "horizon": task.horizon,
            "context": task.context,
            "n_series": len(lengths),
            "series_length": length,
            "n_validation_cells": int(np.isfinite(truth).sum()),
            "max_windows_held": held,
            "weights_from": args.weights_from,
            "estimator": estimator,
            "seed": args.seed,
            "runs_sharing_device": args.shared_device,
            "overrides": r.overrides(args),
        },
        "timing": timing,
        "rows": rows,
    }
    h.write(result["protocol"], result, Path(args.results), _markdown(result))
    return result


def _markdown(result: dict) -> str:
    config = result["config"]
    lines = [
        *h.heading(result),
        f"horizon {config['horizon']}, context {config['context']}, "
        f"{config['n_series']} series of about {config['series_length']:.0f} steps, "
        f"{config['n_validation_cells']} validation cells; one fit holding out "
        f"{config['max_windows_held']} horizons.",
        "",
        "| block cells | horizons held | share of series | CRPS | MAE | "
        "90% coverage | 50% coverage | interval score 90 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row.get('block_cells', '')} | {row['windows_held']} | "
            f"{row['share']:.3f} | {row['crps']:.4f} | "
            f"{row['mae']:.4g} | {row['coverage_90']:.3f} | {row['coverage_50']:.3f} | "
            f"{row['interval_score_90']:.4g} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
