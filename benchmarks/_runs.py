"""The parts every imputation protocol shares: options, the tsdiff estimator's
settings, baselines in worker processes, fitting / scoring and the result record.

Nothing here is part of the library.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import _harness as h
import numpy as np
import torch

from tsdiff.baselines import (
    InterpolationImputer,
    IterativeImputerBaseline,
    KNNImputerBaseline,
)
from tsdiff.diffusion import nfe

logger = logging.getLogger("benchmarks")

SMOKE_MODEL = {
    "n_epochs": 1,
    "steps_per_epoch": 5,
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
    parser.add_argument("--results", default=str(h.RESULTS))
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run")
    parser.add_argument("--epochs", type=int, help="n_epochs (default: the library's)")
    parser.add_argument(
        "--steps-per-epoch",
        type=_steps,
        help="steps_per_epoch, or 'pass' for one pass over all windows per epoch "
        "(default: the library's)",
    )
    parser.add_argument(
        "--batch-size", type=int, help="batch_size (default: the library's 'auto')"
    )
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--ema", type=float, default=None, help="EMA decay")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument(
        "--samplers",
        default=samplers,
        help="comma list of sampler:steps[:fp32][:eta=E][:cal=input|none]"
        "[:rate=R|none]; the first is the headline run; ':fp32' samples that run in "
        "float32 (no bf16 autocast), ':eta=E' sets the sampler's stochasticity "
        "(ddim, dpmpp_2m), ':cal=input' calibrates an imputer's intervals on its "
        "input, ':cal=none' not at all, ':rate=R' sets a forecaster's "
        "calibration_rate (adaptive calibration along a backtest)",
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
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the network (GPU)"
    )
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help="tsdiff only (e.g. a timing run); the file then holds no baseline rows",
    )
    parser.add_argument(
        "--tag",
        help="name the results <protocol>_<tag>.json (e.g. one file per seed)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other estimator parameter (VALUE read as JSON, else a string), "
        "e.g. --set n_channels=128 --set mixed_precision=false; repeatable",
    )
    parser.add_argument(
        "--shared-device",
        type=int,
        default=1,
        metavar="N",
        help="number of benchmark processes sharing this GPU at once (recorded: "
        "their fit and predict times are not those of a run alone)",
    )
    return parser


def overrides(args: argparse.Namespace) -> dict:
    """Estimator parameters given with ``--set NAME=VALUE``."""
    params = {}
    for item in args.set:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--set expects NAME=VALUE; got {item!r}")
        try:
            params[name] = json.loads(text)
        except json.JSONDecodeError:
            params[name] = text
    return params


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
    if args.compile:  # else the library's default ("auto")
        params["compile"] = True
    if args.smoke:
        return {**params, **SMOKE_MODEL, "num_samples": 4, **overrides(args)}
    given = {
        "n_epochs": args.epochs,
        "steps_per_epoch": args.steps_per_epoch,
        "batch_size": args.batch_size,
    }
    params |= {name: value for name, value in given.items() if value is not None}
    if args.steps_per_epoch == "pass":
        params["steps_per_epoch"] = None
    return params | overrides(args)


def _steps(text: str) -> int | str:
    """``--steps-per-epoch``: a positive int, or 'pass'."""
    return text if text == "pass" else int(text)


SPEC = "sampler:steps[:fp32][:eta=E][:cal=input|none][:rate=R|none]"
"""The form of a ``--samplers`` entry."""


def samplers(args: argparse.Namespace) -> list[tuple]:
    """(sampler, steps, fp32, eta, cal, rate) of every ``--samplers`` entry (eta
    None: the estimator's own; cal None: its own ``calibration_share``, else
    "input" or "none"; rate None: its own ``calibration_rate``, else a positive
    number or "none"); with --smoke the steps are capped at the tiny model's
    chain length (and repeated entries dropped)."""
    entries = []
    for spec in args.samplers.split(","):
        name, *fields = spec.split(":")
        flags = fields[1:]
        named = {key: [] for key in ("eta", "cal", "rate")}
        unknown = []
        for flag in flags:
            key, _, value = flag.partition("=")
            if key in named and value:
                named[key].append(value)
            elif flag != "fp32":
                unknown.append(flag)
        if (
            not fields
            or not fields[0].isdigit()
            or unknown
            or any(len(values) > 1 for values in named.values())
            or not set(named["cal"]) <= {"input", "none"}
        ):
            raise SystemExit(f"--samplers entries are {SPEC}; got {spec!r}")
        eta, rate = _number(named["eta"], spec), _number(named["rate"], spec, "none")
        if rate not in (None, "none") and rate <= 0:
            raise SystemExit(f"--samplers: {SPEC} needs R > 0; got {spec!r}")
        cal = named["cal"][0] if named["cal"] else None
        entries.append((name, int(fields[0]), "fp32" in flags, eta, cal, rate))
    if args.smoke:
        cap = SMOKE_MODEL["n_diffusion_steps"]
        entries = list(
            dict.fromkeys((n, min(steps, cap), *rest) for n, steps, *rest in entries)
        )
    return entries


def _number(values: list[str], spec: str, word: str | None = None):
    """The one value of a ``--samplers`` flag as a float (or ``word``); None if
    the flag is absent."""
    if not values or values[0] == word:
        return values[0] if values else None
    try:
        return float(values[0])
    except ValueError:
        message = f"--samplers: {SPEC} needs numbers; got {spec!r}"
        raise SystemExit(message) from None


def each_sampler(
    estimator: Any, args: argparse.Namespace
) -> Iterator[tuple[str, dict]]:
    """Set the fitted ``estimator`` to every ``--samplers`` entry in turn (sampling
    settings change nothing that was fitted; ``cal=`` switches an imputer between
    calibrating on its input and not calibrating, ``rate=`` a forecaster's
    adaptive calibration) and yield its label and record fields; its precision,
    eta and calibration are restored afterwards."""
    mixed, own_eta = estimator.mixed_precision, estimator.eta
    params = estimator.get_params()
    own = {
        k: params[k] for k in ("calibration_share", "calibration_rate") if k in params
    }
    try:
        for sampler, steps, fp32, eta, cal, rate in samplers(args):
            estimator.set_params(
                sampler=sampler,
                sampling_steps=steps,
                mixed_precision=mixed and not fp32,
                eta=own_eta if eta is None else eta,
            )
            for key, value, kind in (
                ("calibration_share", cal, "cal= is for imputers"),
                ("calibration_rate", rate, "rate= is for forecasters"),
            ):
                if value is None:
                    continue
                if key not in own:
                    raise SystemExit(f"--samplers: {kind} only")
                estimator.set_params(**{key: None if value == "none" else value})
            label = f"tsdiff {sampler}-{steps}" + (" fp32" if fp32 else "")
            label += "" if eta is None else f" eta={eta:g}"
            label += "" if cal is None else f" cal={cal}"
            if rate is not None:
                label += f" rate={rate}" if rate == "none" else f" rate={rate:g}"
            fields = {"nfe": nfe(sampler, steps), "sampler": sampler}
            fields |= {"precision": "fp32"} if fp32 else {}
            fields |= {} if cal is None else {"calibration": cal}
            fields |= {} if rate is None else {"calibration_rate": rate}
            yield label, fields | ({} if eta is None else {"eta": eta})
    finally:  # the estimator is the caller's: leave it as it was
        estimator.set_params(mixed_precision=mixed, eta=own_eta, **own)


def score_samplers(
    imputer: Any, cases: list[tuple[dict, Any, np.ndarray]], truth, args
) -> list[dict]:
    """Sample and score the fitted imputer for every case and sampler."""
    runs = []
    for extra, given, target in cases:
        for label, fields in each_sampler(imputer, args):
            runs.append(
                h.run_method(
                    label,
                    lambda: None,
                    lambda g=given: imputer.sample(g),
                    truth,
                    target,
                    {**extra, **fields},
                )
            )
    return runs


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
                h.run_method(
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
    train: Any, subset: Any, draws: int, args: argparse.Namespace
) -> list[tuple[str, Any, Any, int | None]]:
    """The imputation baselines of every protocol: interpolation fitted on ``train``,
    KNN and the iterative imputer (``draws`` posterior draws) on ``subset``; none
    with ``--no-baselines``."""
    if args.no_baselines:
        return []
    seed = args.seed
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
        threads = max(1, (h.usable_cores() - 2) // max(1, len(jobs)))
        self._calls = [
            (name, estimator, fit_data, cases, truth, num_samples, threads)
            for name, estimator, fit_data, num_samples in jobs
        ]
        self._parallel = parallel and bool(jobs)
        self._pool = None
        self._futures: list = []
        if self._parallel and start:
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


def fit_finished(estimator: Any) -> bool:
    """False when a fit stopped at its time limit (resume it in a later call)."""
    last = estimator.history_[-1] if estimator.history_ else {}
    if last.get("stopped") == "max_fit_time":
        logger.warning(
            "fit stopped after %d of %d epochs (max_fit_time); run the same command "
            "again with the same --checkpoint to resume",
            len(estimator.history_),
            estimator.n_epochs,
        )
        return False
    return True


def evaluate(
    imputer: Any,
    fit: Callable[[], Any],
    baselines: Baselines,
    cases: list[tuple[dict, Any, np.ndarray]],
    truth: np.ndarray,
    args: argparse.Namespace,
) -> list[dict] | None:
    """Fit tsdiff (timed), join the baselines, then sample and score tsdiff alone.

    Returns None when the fit stopped at ``--max-fit-time`` (resume it later).
    """
    timing: dict = {}
    with h.timer(timing, "fit_s"):
        fit()
    if not fit_finished(imputer):
        return None
    baseline_runs = baselines.results()  # joined first: sampling is timed alone
    runs = score_samplers(imputer, cases, truth, args)
    for run in runs:
        run.update(timing, train_s=train_seconds(imputer))
    return runs + baseline_runs


def write_fitted(
    base: str,
    args: argparse.Namespace,
    model: Any,
    runs: list[dict],
    config: dict,
    markdown: Callable[[dict], str],
) -> dict:
    """Write the results of one fitted ``model`` (``result_name(base, args)``): its
    ``runs``, the protocol's ``config`` with the estimator's settings, seed and
    overrides added, and its training history; returns the result."""
    result = {
        "protocol": result_name(base, args),
        "provenance": h.provenance(),
        "config": config
        | {
            "estimator": estimator_config(model),
            "seed": args.seed,
            "overrides": overrides(args),
        },
        "history": model.history_,
        "runs": runs,
    }
    h.write(result["protocol"], result, Path(args.results), markdown(result))
    return result


def result_name(base: str, args: argparse.Namespace) -> str:
    """``base`` with the run's suffixes: ``_val`` for ``--split validation``, then
    ``_<tag>`` and ``_smoke``."""
    split = getattr(args, "split", "test")
    return (
        base
        + ("_val" if split == "validation" else "")
        + (f"_{args.tag}" if args.tag else "")
        + ("_smoke" if args.smoke else "")
    )


def report(
    protocol: str,
    imputer: Any,
    runs: list[dict],
    config: dict,
    anchors: dict,
    args: argparse.Namespace,
) -> dict:
    """Assemble the result record of a protocol run and write it (JSON + markdown);
    ``imputer`` is None when tsdiff did not run (``--no-tsdiff``)."""
    if "train_windows" in config and imputer is not None:
        config = {**config, **training_cost(imputer, config["train_windows"], runs)}
    result = {
        "protocol": protocol
        + (f"_{args.tag}" if args.tag else "")
        + ("_smoke" if args.smoke else ""),
        "provenance": h.provenance(),
        "config": {
            **config,
            "estimator": None if imputer is None else estimator_config(imputer),
            "seed": args.seed,
            "overrides": overrides(args),
            "runs_sharing_device": args.shared_device,
            "baselines_in_parallel_processes": not args.smoke,
        },
        "history": None if imputer is None else imputer.history_,
        "runs": runs,
        "anchors": anchors,
    }
    h.write(
        result["protocol"],
        result,
        Path(args.results),
        h.markdown_table(result, anchors),
    )
    return result


def training_cost(estimator: Any, train_windows: int, runs: list[dict]) -> dict:
    """The fit in passes over the ``train_windows`` stride-1 training windows
    (epoch-equivalents: CSDI's epoch is one such pass), seconds per pass, and the
    whole protocol's seconds (fit + the headline sampler's prediction)."""
    steps = estimator.history_[-1]["steps"]  # cumulative over the epochs
    passes = steps * estimator.batch_size_ / train_windows
    headline = runs[0]
    return {
        "optimiser_steps": steps,
        "epoch_equivalents": round(passes, 2),
        "s_per_epoch_equivalent": round(train_seconds(estimator) / passes, 3),
        "fit_and_predict_s": round(headline["fit_s"] + headline["predict_s"], 1),
    }


def train_seconds(estimator: Any) -> float:
    """Training time summed over epochs, across resumed calls too."""
    return round(sum(r.get("seconds", 0.0) for r in estimator.history_), 3)


def estimator_config(estimator: Any) -> dict:
    """The estimator's parameters as recorded in a results file, with the batch
    size and seasonal lags that fit resolved (``batch_size_``, ``lags_``)."""
    skip = ("random_state", "checkpoint_path", "max_fit_time", "verbose")
    config = {k: v for k, v in estimator.get_params().items() if k not in skip}
    if hasattr(estimator, "batch_size_"):
        config["batch_size_"] = estimator.batch_size_
    if hasattr(estimator, "network_"):
        config["lags_"] = list(estimator.network_.config.lags)
    return config
