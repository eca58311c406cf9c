"""What a default fit costs as the series grows: :class:`tsdiff.DiffusionForecaster`
with every parameter at its default, on series of 5k to 200k steps with 7 and 21
variables.

The series are ETTm1 (15-minute, 7 variables, 69 680 steps): its first ``n`` steps,
or for ``n`` beyond its length ETTm1 followed by copies of itself on a continuing
15-minute index; 21 variables put three such series side by side, the second and
third starting a third and two thirds of the way into ETTm1. The values change
nothing in the cost of a fit; the real data keep the missingness and scale honest.
Each fit is timed alone (wall time of ``fit``, one after another in this process)
and records its steps, automatic batch size, epoch times and, on a GPU, peak memory.

Usage::

    python benchmarks/fit_scaling.py                          # GPU: minutes
    python benchmarks/fit_scaling.py --sizes 5000,200000 --variables 7
    python benchmarks/fit_scaling.py --epochs 10   # a tenth of the default budget
    python benchmarks/fit_scaling.py --smoke                  # seconds on a CPU

Writes ``benchmarks/results/fit_scaling[_<tag>][_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import logging
import time

import _harness as h
import numpy as np
import pandas as pd
import torch

from tsdiff import DiffusionForecaster
from tsdiff.datasets import load_ett

logger = logging.getLogger("fit_scaling")

SMOKE = dict(
    n_epochs=2,
    steps_per_epoch=3,
    n_layers=1,
    n_channels=8,
    n_heads=2,
    time_embedding_dim=16,
    diffusion_embedding_dim=16,
    n_diffusion_steps=10,
)


def series(base: pd.DataFrame, n_steps: int, n_vars: int) -> pd.DataFrame:
    """``n_steps`` x ``n_vars`` from ``base`` (T, 7), as the module docstring says."""
    T = len(base)
    copies = -(-(n_steps + 2 * T // 3) // T)  # whole copies covering every offset
    values = np.concatenate([base.to_numpy()] * copies)  # (copies * T, 7)
    blocks = []
    for j in range(n_vars // base.shape[1]):
        start = j * T // 3
        blocks.append(values[start : start + n_steps])
    index = pd.date_range(base.index[0], periods=n_steps, freq=base.index.freq)
    columns = [f"{name}_{j}" for j in range(len(blocks)) for name in base.columns]
    return pd.DataFrame(np.concatenate(blocks, axis=1), index=index, columns=columns)


def fit_once(y: pd.DataFrame, smoke: bool, epochs: int | None) -> dict:
    """One default fit (``epochs`` epochs if given), timed."""
    params = dict(SMOKE if smoke else {}) | ({"n_epochs": epochs} if epochs else {})
    model = DiffusionForecaster(random_state=0, **params)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    record: dict = {"n_steps": len(y), "n_variables": y.shape[1]}
    with h.timer(record, "fit_s"):
        model.fit(y)
    history = model.history_
    record |= {
        "optimizer_steps": history[-1]["steps"],
        "epochs": len(history),
        "batch_size": model.batch_size_,
        "lags": list(model.network_.config.lags),
        "first_epoch_s": history[0]["seconds"],
        "median_epoch_s": float(np.median([r["seconds"] for r in history])),
        "final_train_loss": history[-1]["train_loss"],
    }
    if torch.cuda.is_available():
        record["peak_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return record


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder holding ETTm1.csv.gz")
    parser.add_argument("--results", default=str(h.RESULTS))
    parser.add_argument("--sizes", default="5000,20000,50000,200000")
    parser.add_argument("--variables", default="7,21")
    parser.add_argument(
        "--epochs",
        type=int,
        help="n_epochs instead of the default (a fraction of the default budget: "
        "the fit time scales with it)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run")
    parser.add_argument("--tag", help="name the results fit_scaling_<tag>.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.smoke:
        args.sizes, args.variables = "300,2000", "7,21"
    base = load_ett(h.data_dir(h.DATA / "ett", args.data) / "ETTm1.csv.gz")
    suffix = (f"_{args.tag}" if args.tag else "") + ("_smoke" if args.smoke else "")
    result = {
        "protocol": f"fit_scaling{suffix}",
        "provenance": h.provenance(),
        "estimator": "DiffusionForecaster() defaults, random_state=0"
        + (f", n_epochs={args.epochs}" if args.epochs else "")
        + (" (smoke: a tiny network and 6 steps)" if args.smoke else ""),
        "fits": [],
    }
    for n_vars in (int(v) for v in args.variables.split(",")):
        for n_steps in (int(v) for v in args.sizes.split(",")):
            start = time.perf_counter()
            y = series(base, n_steps, n_vars)
            result["fits"].append(fit_once(y, args.smoke, args.epochs))
            logger.info(
                "fit %s (%.0f s with the data)",
                result["fits"][-1],
                time.perf_counter() - start,
            )
            h.write(result["protocol"], result, h.Path(args.results), _markdown(result))
    return result


def _markdown(result: dict) -> str:
    lines = [
        *h.heading(result),
        f"{result['estimator']}.",
        "",
        "| steps of data | variables | fit s | optimizer steps | batch | lags | "
        "median epoch s | peak MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["fits"]:
        lines.append(
            f"| {r['n_steps']} | {r['n_variables']} | {r['fit_s']:.1f} | "
            f"{r['optimizer_steps']} | {r['batch_size']} | {r['lags']} | "
            f"{r['median_epoch_s']:.2f} | {r.get('peak_mib', '')} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
