"""Time the README's main job (examples/quickstart.py) and record the result.

Runs the quickstart as a subprocess, as a user would, measures its wall time and
writes ``benchmarks/results/quickstart_<device>.json`` plus a one-row markdown table
with the command, git commit, device name, core count and library versions.

Usage::

    python benchmarks/quickstart_time.py [--results benchmarks/results]

Set ``TSDIFF_COMMIT`` where the checkout has no ``.git`` (e.g. a copied working tree).
"""

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch

ROOT = Path(__file__).resolve().parents[1]
logger = logging.getLogger("quickstart_time")


def _commit() -> str:
    if os.environ.get("TSDIFF_COMMIT"):
        return os.environ["TSDIFF_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _cpu_model() -> str:
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _device() -> tuple[str, str]:
    if torch.cuda.is_available():
        return "cuda", torch.cuda.get_device_name(0)
    return "cpu", f"{_cpu_model()} ({_usable_cores()} usable cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    kind, name = _device()
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "examples/quickstart.py", "--out", f"{tmp}/fan.png"]
        start = time.perf_counter()
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"quickstart failed:\n{run.stderr[-4000:]}")
    result = {
        "benchmark": "quickstart wall time (examples/quickstart.py, README main job)",
        "command": "python benchmarks/quickstart_time.py",
        "commit": _commit(),
        "device": kind,
        "device_name": name,
        "cpu_cores_usable": _usable_cores(),
        "torch_threads": torch.get_num_threads(),
        "wall_seconds": round(seconds, 1),
        "target_seconds_on_2_cpu_cores": 180,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "log_tail": run.stderr.splitlines()[-3:],
    }
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"quickstart_{kind}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"quickstart_{kind}.md").write_text(
        "| device | cores | wall time (s) | commit |\n|---|---|---|---|\n"
        f"| {name} | {result['cpu_cores_usable']} | {seconds:.1f} | "
        f"{result['commit'][:10]} |\n"
    )
    logger.info("quickstart on %s (%s): %.1f s", kind, name, seconds)


if __name__ == "__main__":
    main()
