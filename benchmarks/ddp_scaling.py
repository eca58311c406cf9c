"""Training throughput of one fit on 1 and on several GPUs (``torchrun`` + DDP).

For each process count the script launches ``torch.distributed.run`` on itself in
worker mode: every process fits :class:`tsdiff.DiffusionImputer` on the same random
data shaped like PM2.5's training windows (36 variables, 36-hour windows) with
``batch_size`` windows per process and step, as DDP does, and rank 0 records the
epoch times. The steady rate is the median of the epochs after the first (which
holds start-up and any compilation); the speed-up divides each rate by the rate of
one process measured in the same run.

Usage::

    python benchmarks/ddp_scaling.py --processes 1,2 --compile   # GPUs: minutes
    python benchmarks/ddp_scaling.py --smoke                     # CPU, gloo: seconds

Writes ``benchmarks/results/ddp_scaling[_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import _harness as h
import numpy as np

SMOKE_MODEL = {"n_layers": 1, "n_channels": 8, "n_heads": 2, "n_diffusion_steps": 10}


def worker(args: argparse.Namespace) -> None:
    """One process of a distributed fit; rank 0 writes the history to ``--out``."""
    import os

    import torch

    from tsdiff import DiffusionImputer

    imputer = DiffusionImputer(
        window_length=args.window,
        n_epochs=args.epochs,
        steps_per_epoch=None,  # one pass over the windows the frame holds
        batch_size=args.batch_size,
        compile=args.compile,
        random_state=args.seed,
        device="cpu" if args.smoke else "auto",
        **(SMOKE_MODEL if args.smoke else {}),
    )
    imputer.fit(h.random_frame(args.rows, args.variables, args.seed))
    if int(os.environ.get("RANK", "0")) == 0:
        Path(args.out).write_text(json.dumps(imputer.history_))
    if torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def _launch(n: int, args: argparse.Namespace, folder: Path) -> list[dict]:
    """Run the worker under ``torchrun`` with ``n`` processes; its history."""
    out = folder / f"history_{n}.json"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={n}", __file__, "--worker", "--out", str(out),
        "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
        "--rows", str(args.rows), "--variables", str(args.variables),
        "--window", str(args.window), "--seed", str(args.seed),
    ]  # fmt: skip
    command += ["--compile"] * args.compile + ["--smoke"] * args.smoke
    subprocess.run(command, check=True)
    return json.loads(out.read_text())


def _record(n: int, history: list[dict], n_windows: int, args) -> dict:
    seconds = [r["seconds"] for r in history]
    steady = float(np.median(seconds[1:])) if len(seconds) > 1 else seconds[0]
    return {
        "processes": n,
        "batch_size_per_process": args.batch_size,
        "windows_per_epoch": n_windows,
        "epochs": len(history),
        "first_epoch_s": seconds[0],
        "steady_epoch_s": steady,
        "windows_per_s": n_windows / steady,
        "device": history[0].get("device"),
    }


def _markdown(result: dict) -> str:
    lines = [
        *h.heading(result),
        "| processes | batch per process | steady epoch s | windows / s | speed-up |",
        "|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['processes']} | {r['batch_size_per_process']} | "
            f"{r['steady_epoch_s']:.2f} | {r['windows_per_s']:.0f} | "
            f"{r['speedup']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(h.RESULTS))
    parser.add_argument("--processes", default="1,2", help="comma list of counts")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rows", type=int, default=5000, help="training hours")
    parser.add_argument("--variables", type=int, default=36)
    parser.add_argument("--window", type=int, default=36)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run (gloo)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke and not args.worker:
        args.epochs, args.rows, args.variables, args.window = 2, 120, 3, 12
    if args.worker:
        worker(args)
        return None
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    n_windows = args.rows - args.window + 1  # every start position, stride 1
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for n in (int(v) for v in args.processes.split(",")):
            runs.append(_record(n, _launch(n, args, Path(folder)), n_windows, args))
            logging.info("ddp %s", runs[-1])
    base = next((r["windows_per_s"] for r in runs if r["processes"] == 1), None)
    for r in runs:
        r["speedup"] = r["windows_per_s"] / base if base else float("nan")
    suffix = "_smoke" if args.smoke else ""
    result = {
        "protocol": f"ddp_scaling{suffix}",
        "provenance": h.provenance(),
        "config": {k: v for k, v in vars(args).items() if k not in ("worker", "out")},
        "runs": runs,
    }
    h.write(result["protocol"], result, Path(args.results), _markdown(result))
    return result


if __name__ == "__main__":
    main()
