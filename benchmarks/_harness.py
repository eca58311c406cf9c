"""Shared plumbing of the benchmark scripts: provenance, timing, scoring, output.

Every script records where its numbers came from (command, git commit, device name,
library versions) and writes ``<results>/<protocol>.json`` plus a markdown table next
to it. Nothing here is part of the library.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import torch

from tsdiff import metrics

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
RESULTS = ROOT / "benchmarks" / "results"

logger = logging.getLogger("benchmarks")


def data_dir(default: Path, override: str | None) -> Path:
    """The data folder to read: ``override`` if given, else ``default``."""
    path = Path(override) if override else default
    if not path.exists():
        raise SystemExit(
            f"benchmark data not found at {path}; pass --data with its location "
            "(see datasets/README.md for how to obtain it)."
        )
    return path


def commit() -> str:
    """Git commit of the checkout (``TSDIFF_COMMIT`` overrides, for copied trees)."""
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


def usable_cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def device() -> tuple[str, str]:
    """("cuda" | "cpu", human-readable device name)."""
    if torch.cuda.is_available():
        return "cuda", torch.cuda.get_device_name(0)
    return "cpu", f"{_cpu_model()} ({usable_cores()} usable cores)"


def provenance() -> dict:
    """Command, commit, device and versions of this run."""
    kind, name = device()
    return {
        "command": " ".join(shlex.quote(a) for a in ["python", *sys.argv]),
        "commit": commit(),
        "device": name,
        "device_kind": kind,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }


@contextmanager
def timer(record: dict, key: str) -> Iterator[None]:
    """Store the wall time of the block in ``record[key]`` (seconds, GPU synced)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    yield
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    record[key] = round(time.perf_counter() - start, 3)


def score(truth: np.ndarray, samples: np.ndarray, target: np.ndarray) -> dict:
    """The protocol metrics of samples (S, T, K) against ``truth`` (T, K) on ``target``.

    CRPS is the normalised quantile loss over 19 levels with linear quantiles (CSDI's
    convention); MAE and RMSE are of the sample median; coverage of the central 90 %
    and 50 % intervals, and the interval (Winkler) score of the 90 % one.
    """
    return {
        "crps": float(metrics.wql(truth, samples, mask=target)),
        "mae": float(metrics.mae(truth, samples, mask=target)),
        "rmse": float(metrics.rmse(truth, samples, mask=target)),
        "coverage_90": float(
            metrics.coverage(truth, samples, coverage=0.9, mask=target)
        ),
        "coverage_50": float(
            metrics.coverage(truth, samples, coverage=0.5, mask=target)
        ),
        "interval_score_90": float(
            metrics.interval_score(truth, samples, coverage=0.9, mask=target)
        ),
        "n_targets": int(target.sum()),
    }


def run_method(
    name: str,
    fit: Callable[[], Any],
    predict: Callable[[], np.ndarray],
    truth: np.ndarray,
    target: np.ndarray,
    extra: dict | None = None,
) -> dict:
    """Fit, predict samples (S, T, K), score and time one method."""
    record: dict = {"method": name, **(extra or {})}
    with timer(record, "fit_s"):
        fit()
    with timer(record, "predict_s"):
        samples = predict()
    record["num_samples"] = int(samples.shape[0])
    record.update(score(truth, samples, target))
    logger.info("%s: %s", name, {k: record[k] for k in ("crps", "mae", "rmse")})
    return record


def write(protocol: str, result: dict, results_dir: Path, table: str) -> Path:
    """Write ``<protocol>.json`` and ``<protocol>.md`` under ``results_dir``."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{protocol}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    (results_dir / f"{protocol}.md").write_text(table)
    logger.info("wrote %s", path)
    return path


def heading(result: dict) -> list[str]:
    """Title and provenance lines that open every results table."""
    prov = result["provenance"]
    return [
        f"# {result['protocol']}",
        "",
        f"`{prov['command']}` at commit `{prov['commit'][:12]}` on {prov['device']} "
        f"({prov['date_utc']}).",
        "",
    ]


def random_frame(n_rows: int, n_vars: int, seed: int) -> pd.DataFrame:
    """Standard-normal series with 10 % of the values missing (timing runs)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n_rows, n_vars))
    values[rng.random(values.shape) < 0.1] = np.nan
    return pd.DataFrame(values)


def markdown_table(result: dict, anchors: dict[str, dict]) -> str:
    """A markdown table of every method's metrics, with published anchors below."""
    lines = [
        *heading(result),
        "| method | samples | NFE | CRPS | MAE | RMSE | 90% coverage | 50% coverage | "
        "fit s | predict s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        nfe = run.get("nfe", "")
        half = run.get("coverage_50")
        lines.append(
            f"| {run['method']} | {run['num_samples']} | {nfe} | {run['crps']:.4f} | "
            f"{run['mae']:.4f} | {run['rmse']:.4f} | {run['coverage_90']:.3f} | "
            f"{'' if half is None else f'{half:.3f}'} | "
            f"{run.get('train_s') or run['fit_s']:.1f} | {run['predict_s']:.1f} |"
        )
    config = result.get("config", {})
    if "epoch_equivalents" in config:
        lines += [
            "",
            f"Training: {config['optimiser_steps']} optimiser steps of "
            f"{config['estimator']['batch_size_']} windows, "
            f"{config['epoch_equivalents']} passes over the {config['train_windows']} "
            f"training windows, {config['s_per_epoch_equivalent']} s per pass; fit + "
            f"prediction ({result['runs'][0]['method']}): "
            f"{config['fit_and_predict_s']} s.",
        ]
    if anchors:
        lines += ["", "Published anchors (not run here):", ""]
        for name, values in anchors.items():
            shown = ", ".join(f"{k} {v}" for k, v in values.items())
            lines.append(f"* {name}: {shown}")
    return "\n".join(lines) + "\n"
