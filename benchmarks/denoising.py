"""Denoising: ``DiffusionImputer.denoise`` beside Kalman smoothing and Savitzky-Golay.

Protocols (the imputer is fitted on clean training data; the scored series get
Gaussian noise of known size, drawn with ``--seed``):

* ``synthetic``: three independent Gaussian AR(1) series of unit variance (``phi =
  0.9``), 6000 training steps, 1200 scored steps, noise of standard deviation
  ``--noise`` (0.5 by default). Its known optimum is the Kalman smoother with the
  true parameters, whose posterior mean is exact.
* ``etth1``: hourly ETTh1 (12 / 4 / 4 months), fitted on the first 12 months, the
  first ``--days`` days of the 4 test months scored (``--split validation``: of the
  4 months after training); noise of ``--noise`` (0.2 by default) times each
  variable's training standard deviation.

Baselines, run on the same noisy series: a Kalman smoother of statsmodels'
``UnobservedComponents`` fitted by maximum likelihood on each noisy variable (an
AR(1) with noise for ``synthetic``; for ``etth1`` a local level with a daily cycle
of 3 harmonics and noise), its smoothed mean and variance a Gaussian forecast; and
Savitzky-Golay smoothing (SciPy, order 2), its window chosen among odd lengths up
to 49 on a separately noised copy of the training data (deterministic: its CRPS is
its normalised absolute error). For ``synthetic``, the smoother with the true
parameters is the optimum. Scores against the clean values: RMSE and MAE of the
median (of the mean for the Gaussian baselines), CRPS over 19 levels, and interval
coverage.

Usage::

    python benchmarks/denoising.py synthetic
    python benchmarks/denoising.py etth1 --data ../shared/data/ett
    python benchmarks/denoising.py synthetic --smoke   # seconds on CPU

Writes ``benchmarks/results/denoise_<protocol>[_val][_<tag>][_smoke].json`` and
``.md``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import _harness as h
import _runs as r
import numpy as np
import pandas as pd
from scipy.signal import savgol_filter
from scipy.stats import norm

from tsdiff import DiffusionImputer, metrics
from tsdiff.datasets import load_ett
from tsdiff.frames import quantile_frame

LEVELS = tuple(np.round(np.arange(0.05, 1.0, 0.05), 2))  # CSDI's 19 levels
PHI = 0.9


@dataclass
class Task:
    train: pd.DataFrame  # clean training data
    clean: pd.DataFrame  # clean scored series
    noise_std: np.ndarray  # (K,) noise of the scored series


def _ar1(n_steps: int, n_vars: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian AR(1) series of unit variance, (n_steps, n_vars)."""
    x = np.empty((n_steps, n_vars))
    x[0] = rng.standard_normal(n_vars)
    shocks = rng.standard_normal((n_steps, n_vars)) * np.sqrt(1 - PHI**2)
    for t in range(1, n_steps):
        x[t] = PHI * x[t - 1] + shocks[t]
    return x


def _task(args) -> Task:
    if args.protocol == "synthetic":
        rng = np.random.default_rng(1000 + args.seed)
        n_train, n_test = (600, 120) if args.smoke else (6000, 1200)
        values = _ar1(n_train + n_test, 3, rng)
        index = pd.date_range("2024-01-01", periods=len(values), freq="h")
        frame = pd.DataFrame(values, index, columns=["x0", "x1", "x2"])
        noise = np.full(3, 0.5 if args.noise is None else args.noise)
        return Task(frame.iloc[:n_train], frame.iloc[n_train:], noise)
    series = load_ett(Path(h.data_dir(h.DATA / "ett", args.data)) / "ETTh1.csv")
    month = 30 * 24
    train = series.iloc[: (2 if args.smoke else 12) * month]
    start = (12 if args.split == "validation" else 16) * month
    days = 2 if args.smoke else args.days
    share = 0.2 if args.noise is None else args.noise
    return Task(
        train, series.iloc[start : start + days * 24], share * train.std().to_numpy()
    )


def _kalman(
    noisy: pd.Series, protocol: str, params=None
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed mean and standard deviation of an ``UnobservedComponents`` model
    fitted to ``noisy`` (or with the given parameters)."""
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    if protocol == "synthetic":
        model = UnobservedComponents(noisy.to_numpy(), autoregressive=1, irregular=True)
    else:
        model = UnobservedComponents(
            noisy.to_numpy(), level="local level",
            freq_seasonal=[{"period": 24, "harmonics": 3}],
        )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimiser
        fitted = model.smooth(params) if params is not None else model.fit(disp=False)
    # The observation without its noise: the smoothed signal and its variance.
    mean = noisy.to_numpy() - fitted.smoothed_measurement_disturbance[0]  # (T,)
    var = fitted.smoothed_measurement_disturbance_cov.squeeze()
    return mean, np.sqrt(np.maximum(var, 0.0))


def _gaussian_quantiles(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Quantiles (Q, T, K) of independent Gaussians (T, K)."""
    z = norm.ppf(np.array(LEVELS))[:, None, None]
    return mean[None] + z * std[None]


def _savgol_window(train: pd.DataFrame, noise: np.ndarray, seed: int) -> int:
    """The odd window (5 to 49) whose order-2 smoothing of noised training data is
    closest to the clean data (RMSE)."""
    rng = np.random.default_rng(seed + 7)
    values = train.to_numpy()[-2000:]
    noisy = values + rng.standard_normal(values.shape) * noise
    errors = {
        w: np.sqrt(np.mean((savgol_filter(noisy, w, 2, axis=0) - values) ** 2))
        for w in range(5, 50, 2)
    }
    return min(errors, key=errors.get)


def _scores(clean: np.ndarray, point: np.ndarray, q: np.ndarray | None) -> dict:
    frame = None
    if q is not None:  # (Q, T, K) as a quantile frame
        names = pd.Index(range(clean.shape[1]))
        frame = quantile_frame(q, pd.RangeIndex(len(clean)), names, LEVELS)
    record = {
        "rmse": float(np.sqrt(np.mean((point - clean) ** 2))),
        "mae": float(np.mean(np.abs(point - clean))),
        "crps": float(metrics.wql(clean, frame))
        if frame is not None
        else float(np.abs(point - clean).sum() / np.abs(clean).sum()),
    }
    if frame is not None:
        for c in (0.9, 0.5):
            record[f"coverage_{round(c * 100)}"] = float(
                metrics.coverage(clean, frame, coverage=c)
            )
    return record


def main(argv: list[str] | None = None) -> dict:
    parser = r.common_args(__doc__.splitlines()[0], "dpmpp_2m:10", seed=0)
    parser.add_argument("protocol", choices=("synthetic", "etth1"))
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--days", type=int, default=28, help="etth1: days scored")
    parser.add_argument("--noise", type=float, help="noise size (see above)")
    parser.add_argument("--window-length", type=int, default=48)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    task = _task(args)
    rng = np.random.default_rng(args.seed)
    clean = task.clean.to_numpy()
    noisy = task.clean + rng.standard_normal(clean.shape) * task.noise_std
    entries = r.samplers(args)
    model = DiffusionImputer(
        window_length=args.window_length, sampler=entries[0][0],
        sampling_steps=entries[0][1], **r.model_params(args),
    )  # fmt: skip
    runs, record = [], {"method": f"tsdiff {entries[0][0]}-{entries[0][1]}"}
    with h.timer(record, "fit_s"):
        model.fit(task.train)
    with h.timer(record, "predict_s"):
        q = model.denoise(noisy, task.noise_std, alpha=LEVELS)
    q = q.to_numpy().reshape(len(clean), -1, len(LEVELS)).transpose(2, 0, 1)
    record |= _scores(clean, q[LEVELS.index(0.5)], q)
    runs.append(record | {"num_samples": model.num_samples})
    variants = [("Kalman smoother (fitted)", None)]
    if args.protocol == "synthetic":  # AR(1) variance, noise variance, phi
        variants.append(("Kalman smoother (true parameters, optimum)", "true"))
    for name, kind in variants:
        record = {"method": name}
        with h.timer(record, "predict_s"):
            parts = [
                _kalman(noisy[c], args.protocol, None if kind is None else
                        np.array([task.noise_std[i] ** 2, 1 - PHI**2, PHI]))
                for i, c in enumerate(noisy.columns)
            ]  # fmt: skip
        mean = np.stack([p[0] for p in parts], axis=1)
        std = np.stack([p[1] for p in parts], axis=1)
        runs.append(record | _scores(clean, mean, _gaussian_quantiles(mean, std)))
    record = {"method": "Savitzky-Golay (order 2)"}
    with h.timer(record, "predict_s"):
        window = _savgol_window(task.train, task.noise_std, args.seed)
        point = savgol_filter(noisy.to_numpy(), window, 2, axis=0)
    runs.append(record | {"window": window} | _scores(clean, point, None))
    runs.append({"method": "noisy readings", "predict_s": 0.0}
                | _scores(clean, noisy.to_numpy(), None))  # fmt: skip
    for run in runs:
        logging.info("%s", run)
    config = {
        "split": args.split,
        "noise_std": task.noise_std.tolist(),
        "n_steps": len(clean),
        "n_train": len(task.train),
    }
    base = f"denoise_{args.protocol}"
    return r.write_fitted(base, args, model, runs, config, _markdown)


def _markdown(result: dict) -> str:
    config = result["config"]
    lines = [
        *h.heading(result),
        f"{config['n_steps']} noisy steps scored per variable, noise standard "
        f"deviation {np.round(config['noise_std'], 4).tolist()}, split "
        f"{config['split']}.",
        "",
        "| method | RMSE | MAE | CRPS | 90% coverage | 50% coverage | fit s | "
        "predict s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        cov = ["" if run.get(k) is None else f"{run[k]:.3f}"
               for k in ("coverage_90", "coverage_50")]  # fmt: skip
        fit = run.get("fit_s")
        lines.append(
            f"| {run['method']} | {run['rmse']:.4f} | {run['mae']:.4f} | "
            f"{run['crps']:.4f} | {cov[0]} | {cov[1]} | "
            f"{'' if fit is None else f'{fit:.1f}'} | {run['predict_s']:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
