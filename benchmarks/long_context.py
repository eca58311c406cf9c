"""Cost of long contexts: training and sampling time and peak memory of
:class:`tsdiff.DiffusionForecaster` as the context grows (96, 336, 720 steps).

The network attends along time within each variable, so one window of length
W = context + horizon costs O(K W^2) in attention scores; attention runs through
PyTorch's fused ``scaled_dot_product_attention``, which never stores the W x W
score matrix on GPUs (flash / memory-efficient kernels) nor in its CPU kernel. Each
configuration runs in a fresh process (``--worker``), so the peak memory is its own:
CUDA's peak allocation on a GPU, the peak resident set size on a CPU.

Every configuration fits ``--epochs`` epochs on the same number of random training
windows (ETT-sized: 7 variables) and samples ``--samples`` forecasts with
DPM-Solver++(2M) at 10 steps; the steady training time is the median epoch after
the first.

Usage::

    python benchmarks/long_context.py                          # GPU or CPU: minutes
    python benchmarks/long_context.py --smoke                  # seconds

Writes ``benchmarks/results/long_context[_<tag>][_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h
import numpy as np

SMOKE_MODEL = {"n_layers": 1, "n_channels": 8, "n_heads": 2, "n_diffusion_steps": 10}


def worker(args: argparse.Namespace) -> None:
    """Fit and sample one configuration; write its record to ``--out``."""
    import torch

    from tsdiff import DiffusionForecaster

    rows = args.windows + args.context + args.horizon - 1  # exactly --windows
    frame = h.random_frame(rows, args.variables, args.seed)
    model = DiffusionForecaster(
        context_length=args.context,
        prediction_length=args.horizon,
        n_epochs=args.epochs,
        steps_per_epoch=None,  # one pass over the windows the frame holds
        batch_size=args.batch_size,
        num_samples=args.samples,
        sampler="dpmpp_2m",
        sampling_steps=10,
        random_state=args.seed,
        device="cpu" if args.smoke else "auto",
        **(SMOKE_MODEL if args.smoke else {}),
    )
    model.fit(frame)
    seconds = [r["seconds"] for r in model.history_]
    steady = float(np.median(seconds[1:])) if len(seconds) > 1 else seconds[0]
    model.sample(fh=args.horizon, num_samples=1)  # warm-up, not timed
    cuda = model.device_.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.sample(fh=args.horizon)
    if cuda:
        torch.cuda.synchronize()
    sample_s = time.perf_counter() - start
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB
    )
    record = {
        "context": args.context,
        "horizon": args.horizon,
        "window": args.context + args.horizon,
        "variables": args.variables,
        "train_windows": args.windows,
        "steady_epoch_s": steady,
        "train_ms_per_window": 1000 * steady / args.windows,
        "sample_s": sample_s,
        "sample_ms_per_window_nfe": 1000 * sample_s / (args.samples * 10),
        "peak_memory_mb": peak,
        "memory_kind": "CUDA peak allocated" if cuda else "peak resident set",
        "device": model.history_[0]["device"],
    }
    Path(args.out).write_text(json.dumps(record))


def _markdown(result: dict) -> str:
    lines = [
        *h.heading(result),
        "| context | window | train ms / window | sample ms / window-NFE | "
        "peak memory MB |",
        "|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['context']} | {r['window']} | {r['train_ms_per_window']:.2f} | "
            f"{r['sample_ms_per_window_nfe']:.3f} | {r['peak_memory_mb']:.0f} |"
        )
    memory = result["runs"][0]["memory_kind"] if result["runs"] else ""
    lines += ["", f"Memory: {memory} of the process running the configuration."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", default="96,336,720")
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--variables", type=int, default=7)
    parser.add_argument("--windows", type=int, default=256, help="training windows")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run")
    parser.add_argument("--tag", help="name the results long_context_<tag>.json")
    parser.add_argument("--results", default=str(h.RESULTS))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--context", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return None
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.smoke:
        args.contexts, args.horizon, args.windows = "8,24", 4, 16
        args.epochs, args.samples = 2, 2
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for context in [int(c) for c in args.contexts.split(",")]:
            out = Path(folder) / f"context_{context}.json"
            command = [
                sys.executable, __file__, "--worker", "--out", str(out),
                "--context", str(context), "--horizon", str(args.horizon),
                "--variables", str(args.variables), "--windows", str(args.windows),
                "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
                "--samples", str(args.samples), "--seed", str(args.seed),
            ] + ["--smoke"] * args.smoke  # fmt: skip
            subprocess.run(command, check=True)
            runs.append(json.loads(out.read_text()))
            logging.getLogger("benchmarks").info("%s", runs[-1])
    name = "long_context" + (f"_{args.tag}" if args.tag else "")
    name += "_smoke" if args.smoke else ""
    result = {
        "protocol": name,
        "provenance": h.provenance(),
        "config": {k: v for k, v in vars(args).items() if k not in ("worker", "out")},
        "runs": runs,
    }
    h.write(name, result, Path(args.results), _markdown(result))
    return result


if __name__ == "__main__":
    main()
