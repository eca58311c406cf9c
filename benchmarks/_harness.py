"""Shared plumbing of the benchmark scripts: provenance, timing, scoring, output.

Every script records where its numbers came from (command, git commit, device name,
library versions) and writes ``<results>/<protocol>.json`` plus a markdown table next
to it. Nothing here is part of the library.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import torch

from tsdiff import metrics
from tsdiff.baselines import (
    InterpolationImputer,
    IterativeImputerBaseline,
    KNNImputerBaseline,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
RESULTS = ROOT / "benchmarks" / "results"

logger = logging.getLogger("benchmarks")


SMOKE_MODEL = {
    "n_epochs": 1,
    "batch_size": 64,
    "n_layers": 1,
    "n_channels": 8,
    "n_heads": 2,
    "time_embedding_dim": 16,
    "diffusion_embedding_dim": 16,
    "n_diffusion_steps": 10,
}


def common_args(description: str, samplers: str, seed: int) -> argparse.ArgumentParser:
    """The options every imputation benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", help="folder holding the data set's files")
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--ema", type=float, default=None, help="EMA decay")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument(
        "--samplers",
        default=samplers,
        help="comma list of sampler:steps; the first is the headline run",
    )
    parser.add_argument(
        "--checkpoint", help="training checkpoint file: resume from it if present"
    )
    parser.add_argument(
        "--max-fit-time",
        type=float,
        help="stop training after this many seconds (resume with --checkpoint)",
    )
    parser.add_argument(
        "--baseline-samples", type=int, default=20, help="iterative imputer draws"
    )
    return parser


def model_params(args: argparse.Namespace) -> dict:
    """Estimator keyword arguments from the common options (tiny with --smoke)."""
    params = {
        "learning_rate": args.lr,
        "ema_decay": args.ema,
        "num_samples": args.samples,
        "random_state": args.seed,
        "checkpoint_path": args.checkpoint,
        "max_fit_time": args.max_fit_time,
    }
    if args.smoke:
        return {**params, **SMOKE_MODEL, "num_samples": 4}
    return {**params, "n_epochs": args.epochs, "batch_size": args.batch_size}


def samplers(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(sampler, steps) pairs of ``--samplers`` (short ones with --smoke)."""
    text = "ddpm:10,ddim:5" if args.smoke else args.samplers
    return [(spec.split(":")[0], int(spec.split(":")[1])) for spec in text.split(",")]


def score_samplers(
    imputer: Any, cases: list[tuple[dict, Any, np.ndarray]], truth, args
) -> list[dict]:
    """Sample and score the fitted imputer for every case and sampler."""
    runs = []
    for extra, given, target in cases:
        for sampler, steps in samplers(args):
            imputer.set_params(sampler=sampler, sampling_steps=steps)
            runs.append(
                run_method(
                    f"tsdiff {sampler}-{steps}",
                    lambda: None,
                    lambda g=given: imputer.sample(g),
                    truth,
                    target,
                    {**extra, "nfe": steps, "sampler": sampler},
                )
            )
    return runs


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
    interval.
    """
    return {
        "crps": float(metrics.wql(truth, samples, mask=target)),
        "mae": float(metrics.mae(truth, samples, mask=target)),
        "rmse": float(metrics.rmse(truth, samples, mask=target)),
        "coverage_90": float(
            metrics.coverage(truth, samples, coverage=0.9, mask=target)
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


def _baseline_job(
    name: str,
    estimator: Any,
    fit_data: Any,
    cases: list[tuple[dict, Any, np.ndarray]],
    truth: np.ndarray,
    num_samples: int | None,
    threads: int,
) -> list[dict]:
    """Fit a baseline once, then sample and score it on every case (a worker job)."""
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    with threadpool_limits(threads):
        records = []
        for i, (extra, given, target) in enumerate(cases):
            records.append(
                run_method(
                    name,
                    (lambda: estimator.fit(fit_data)) if i == 0 else (lambda: None),
                    lambda g=given: estimator.sample(g, num_samples=num_samples),
                    truth,
                    target,
                    extra,
                )
            )
    return records


def imputation_baselines(
    train: Any, subset: Any, draws: int, seed: int
) -> list[tuple[str, Any, Any, int | None]]:
    """The imputation baselines of every protocol: interpolation fitted on ``train``,
    KNN and the iterative imputer (``draws`` posterior draws) on ``subset``."""
    return [
        ("linear interpolation", InterpolationImputer(), train, None),
        ("KNN imputer (k=5)", KNNImputerBaseline(), subset, None),
        (
            "iterative imputer (BayesianRidge, posterior draws)",
            IterativeImputerBaseline(random_state=seed),
            subset,
            draws,
        ),
    ]


class Baselines:
    """Baselines scored on every case, in worker processes beside the main run.

    With ``parallel=True`` every job runs in its own process (they need only CPUs,
    so they can run while the diffusion model trains on the GPU); :meth:`results`
    waits for them. Join them before timing anything else. With ``parallel=False``
    they run in this process when :meth:`results` is called (the smoke modes: no
    process start-up).

    Parameters
    ----------
    jobs : list of (name, estimator, fit_data, num_samples)
        Each baseline, the data it is fitted on and its number of samples (None:
        its default).
    cases : list of (extra, given, target)
        Evaluation cases: extra fields of the record, the input with the targets
        hidden, and the boolean target mask of shape (T, K).
    truth : ndarray of shape (T, K)
        True values.
    parallel : bool
        Whether to run in worker processes.
    start : bool, default=True
        Start the workers now; otherwise when :meth:`results` is called.
    """

    def __init__(self, jobs, cases, truth, parallel: bool, start: bool = True):
        threads = max(1, (usable_cores() - 2) // max(1, len(jobs)))
        self._calls = [
            (name, estimator, fit_data, cases, truth, num_samples, threads)
            for name, estimator, fit_data, num_samples in jobs
        ]
        self._parallel = parallel
        self._pool = None
        self._futures: list = []
        if parallel and start:
            self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(len(self._calls), mp_context=context)
        self._futures = [self._pool.submit(_baseline_job, *a) for a in self._calls]

    def results(self) -> list[dict]:
        """Records of every baseline and case (waits for the workers)."""
        if not self._parallel:
            return [r for args in self._calls for r in _baseline_job(*args)]
        if self._pool is None:
            self._start()
        try:
            return [r for future in self._futures for r in future.result()]
        finally:
            self._pool.shutdown()


def fit_finished(estimator: Any, n_epochs: int) -> bool:
    """False when a fit stopped at its time limit (resume it in a later call)."""
    done = len(estimator.history_)
    patience = estimator.early_stopping_patience
    if done < n_epochs and patience is None:
        logger.warning(
            "fit stopped after %d of %d epochs (max_fit_time); run the same command "
            "again with the same --checkpoint to resume",
            done,
            n_epochs,
        )
        return False
    return True


def train_seconds(estimator: Any) -> float:
    """Training time summed over epochs, across resumed calls too."""
    return round(sum(r.get("seconds", 0.0) for r in estimator.history_), 3)


def estimator_config(estimator: Any) -> dict:
    """The estimator's parameters as recorded in a results file."""
    skip = ("random_state", "checkpoint_path", "max_fit_time", "verbose")
    return {k: v for k, v in estimator.get_params().items() if k not in skip}


def write(protocol: str, result: dict, results_dir: Path, table: str) -> Path:
    """Write ``<protocol>.json`` and ``<protocol>.md`` under ``results_dir``."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{protocol}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    (results_dir / f"{protocol}.md").write_text(table)
    logger.info("wrote %s", path)
    return path


def markdown_table(result: dict, anchors: dict[str, dict]) -> str:
    """A markdown table of every method's metrics, with published anchors below."""
    prov = result["provenance"]
    lines = [
        f"# {result['protocol']}",
        "",
        f"`{prov['command']}` at commit `{prov['commit'][:12]}` on {prov['device']} "
        f"({prov['date_utc']}).",
        "",
        "| method | samples | NFE | CRPS | MAE | RMSE | 90% coverage | fit s | "
        "predict s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        nfe = run.get("nfe", "")
        lines.append(
            f"| {run['method']} | {run['num_samples']} | {nfe} | {run['crps']:.4f} | "
            f"{run['mae']:.4f} | {run['rmse']:.4f} | {run['coverage_90']:.3f} | "
            f"{run.get('train_s') or run['fit_s']:.1f} | {run['predict_s']:.1f} |"
        )
    if anchors:
        lines += ["", "Published anchors (not run here):", ""]
        for name, values in anchors.items():
            shown = ", ".join(f"{k} {v}" for k, v in values.items())
            lines.append(f"* {name}: {shown}")
    return "\n".join(lines) + "\n"
