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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h
import torch

logger = logging.getLogger("quickstart_time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(h.RESULTS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    kind, name = h.device()
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "examples/quickstart.py", "--out", f"{tmp}/fan.png"]
        start = time.perf_counter()
        run = subprocess.run(command, cwd=h.ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"quickstart failed:\n{run.stderr[-4000:]}")
    prov = h.provenance()
    result = {
        "benchmark": "quickstart wall time (examples/quickstart.py, README main job)",
        "command": prov["command"],
        "commit": prov["commit"],
        "device": kind,
        "device_name": name,
        "cpu_cores_usable": h.usable_cores(),
        "torch_threads": torch.get_num_threads(),
        "wall_seconds": round(seconds, 1),
        "target_seconds_on_2_cpu_cores": 120,
        "versions": prov["versions"],
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
