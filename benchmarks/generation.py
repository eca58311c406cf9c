"""Synthetic series: ``DiffusionImputer.generate`` beside a block bootstrap and a
fitted autoregression's simulation.

Protocols (every generator learns from the training part only; windows of
``--length`` steps are compared):

* ``etth1``: hourly ETTh1 (7 variables), trained on the first 12 months; windows
  of 96 hours (two imputer windows of 48, so every tsdiff window is stitched).
  The later real windows start every 12 hours of the 4 months after training.
* ``electricity``: the Monash weekly electricity panel (321 series of one
  variable, 156 weeks), trained on each series' first 104 weeks; windows of 52
  weeks (two imputer windows of 26). The later real windows are each series'
  last 52 weeks.

Generators, each drawing ``--windows`` windows (400 by default; for the later
real windows as many as there are):

* tsdiff: ``DiffusionImputer.generate`` (its windows given nothing, each later one
  given the half it overlaps), with the options of ``--set`` (for example
  ``unconditional_share``);
* moving block bootstrap: blocks of a quarter window drawn at random from one
  training series and laid end to end;
* autoregression: for ETTh1 a VAR fitted by least squares (order by AIC up to 24
  hours), for the panel an AR per series (order by AIC up to 8 weeks), shrunk to
  a spectral radius of 0.99 where the fit is explosive and held to the series'
  mean, simulated with Gaussian shocks of the fitted covariance after a burn-in of
  200 steps from a training state.

Scores of each generator against real windows drawn at random from the training
part ("train") and against the later real windows ("later"), on values scaled by
the training mean and standard deviation of each variable:

* discriminative score: ``|accuracy - 0.5|`` of a gradient-boosted classifier
  (scikit-learn's ``HistGradientBoostingClassifier`` on each window's values and
  step-to-step changes) telling real from synthetic windows, trained on 70 % of
  them and scored on the other 30 %, the mean of 5 such splits (0 is
  indistinguishable; Yoon et al. 2019 score TimeGAN this way with a recurrent
  classifier);
* marginal distance: the 1-Wasserstein distance between the real and synthetic
  values of each variable, mean over variables;
* autocorrelation distance: mean absolute difference of the window
  autocorrelations at lags 1 to a quarter window, mean over variables;
* correlation distance (several variables only): mean absolute difference of the
  correlations between variables.

Usage::

    python benchmarks/generation.py etth1 --data ../shared/data/ett
    python benchmarks/generation.py electricity --data ../shared/data/monash
    python benchmarks/generation.py etth1 --smoke   # seconds on CPU

Writes ``benchmarks/results/generate_<protocol>[_<tag>][_smoke].json`` and ``.md``.
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
from scipy.stats import wasserstein_distance
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedShuffleSplit

from tsdiff import DiffusionImputer
from tsdiff.datasets import load_ett, load_tsf

BURN_IN = 200


@dataclass
class Task:
    train: pd.DataFrame  # training data: one series, or a (series, time) panel
    segments: list[np.ndarray]  # each training series, (T_i, K)
    later: np.ndarray  # real windows after training, (M, G, K)
    length: int  # G, steps of a compared window
    window_length: int  # the imputer's window
    max_lag: int  # AR order searched


def _task(args) -> Task:
    if args.protocol == "etth1":
        series = load_ett(Path(h.data_dir(h.DATA / "ett", args.data)) / "ETTh1.csv")
        month = 30 * 24
        train = series.iloc[: (2 if args.smoke else 12) * month]
        later = series.iloc[12 * month : 16 * month].to_numpy()
        length = 96
        starts = np.arange(0, len(later) - length + 1, 12)  # every 12 hours
        windows = np.stack([later[s : s + length] for s in starts])  # (M, G, K)
        return Task(train, [train.to_numpy()], windows, length, 48, 24)
    tsf = load_tsf(Path(h.data_dir(h.DATA / "monash", args.data)) / (
        "electricity_weekly_dataset.tsf"))  # fmt: skip
    panel = tsf.data
    if args.smoke:
        panel = panel.loc[list(panel.index.unique(level=0)[:20])]
    groups = panel.groupby(level=0, sort=False)
    train = groups.head(104)
    later = np.stack([g.to_numpy()[104:156] for _, g in groups])  # (N, 52, 1)
    segments = [g.to_numpy() for _, g in train.groupby(level=0, sort=False)]
    return Task(train, segments, later, 52, 26, 8)


# -- generators: windows (n, G, K) ---------------------------------------------------


def _real_windows(task: Task, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` training windows at random series and start."""
    picks = rng.integers(len(task.segments), size=n)
    out = []
    for i in picks:
        segment = task.segments[i]
        start = rng.integers(len(segment) - task.length + 1)
        out.append(segment[start : start + task.length])
    return np.stack(out)


def _block_bootstrap(task: Task, n: int, rng: np.random.Generator) -> np.ndarray:
    """Moving block bootstrap: blocks of a quarter window from one series each."""
    block = max(2, task.length // 4)
    out = []
    for i in rng.integers(len(task.segments), size=n):
        segment = task.segments[i]
        starts = rng.integers(len(segment) - block + 1, size=-(-task.length // block))
        blocks = [segment[s : s + block] for s in starts]
        out.append(np.concatenate(blocks)[: task.length])
    return np.stack(out)


def _fit_ar(segment: np.ndarray, max_lag: int) -> tuple:
    """Intercept (K,), coefficients (p, K, K) and shock covariance (K, K) of a
    least-squares VAR (an AR for K = 1) whose order minimises the AIC; an explosive
    or unit-root fit is shrunk to a spectral radius of 0.99 and its intercept set
    so that the process keeps the series' mean."""
    from statsmodels.tsa.api import VAR
    from statsmodels.tsa.ar_model import AutoReg, ar_select_order

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' frequency and fit chatter
        if segment.shape[1] > 1:
            fit = VAR(segment).fit(maxlags=max_lag, ic="aic")
            coefs, sigma = fit.coefs, fit.sigma_u
        else:
            lags = ar_select_order(segment[:, 0], max_lag, ic="aic").ar_lags or [1]
            fit = AutoReg(segment[:, 0], lags=max(lags)).fit()
            coefs = np.asarray(fit.params[1:]).reshape(max(lags), 1, 1)
            sigma = np.array([[fit.sigma2]])
    p, k = coefs.shape[:2]
    companion = np.zeros((p * k, p * k))
    companion[:k] = np.concatenate(list(coefs), axis=1)  # (K, p K)
    companion[k:, :-k] = np.eye((p - 1) * k)
    radius = np.abs(np.linalg.eigvals(companion)).max()
    if radius >= 0.99:  # lag j scaled by c**j scales every root by c
        coefs = coefs * (0.99 / radius) ** np.arange(1, p + 1)[:, None, None]
    intercept = (np.eye(k) - coefs.sum(axis=0)) @ segment.mean(axis=0)
    return intercept, coefs, np.asarray(sigma)


def _autoregression(task: Task, n: int, rng: np.random.Generator) -> np.ndarray:
    """Simulations of the series' fitted AR/VAR models after a burn-in from a
    training state."""
    fits: dict[int, tuple] = {}
    out = []
    for i in rng.integers(len(task.segments), size=n):
        segment = task.segments[i]
        if i not in fits:
            fits[i] = _fit_ar(segment, task.max_lag)
        intercept, coefs, sigma = fits[i]
        p, k = coefs.shape[0], segment.shape[1]
        start = rng.integers(p, len(segment) + 1)
        path = list(segment[start - p : start])  # the p last states
        chol = np.linalg.cholesky(sigma + 1e-12 * np.eye(k))
        for _ in range(BURN_IN + task.length):
            lagged = path[-p:][::-1]  # most recent first
            mean = intercept + sum(c @ x for c, x in zip(coefs, lagged, strict=True))
            path.append(mean + chol @ rng.standard_normal(k))
        out.append(np.stack(path[-task.length :]))
    return np.stack(out)


# -- scores ---------------------------------------------------------------------------


def _features(windows: np.ndarray) -> np.ndarray:
    """Each window's values and step-to-step changes, flattened: (n, 2 G K - K)."""
    flat = windows.reshape(len(windows), -1)
    steps = np.diff(windows, axis=1).reshape(len(windows), -1)
    return np.concatenate([flat, steps], axis=1)


def discriminative(real: np.ndarray, fake: np.ndarray, seed: int) -> float:
    """Mean ``|accuracy - 0.5|`` of a classifier over 5 held-out 30 % splits."""
    n = min(len(real), len(fake))
    x = np.concatenate([_features(real[:n]), _features(fake[:n])])
    y = np.repeat([1, 0], n)
    splits = StratifiedShuffleSplit(5, test_size=0.3, random_state=seed)
    scores = []
    for fit_rows, test_rows in splits.split(x, y):
        model = HistGradientBoostingClassifier(random_state=seed)
        model.fit(x[fit_rows], y[fit_rows])
        scores.append(abs(model.score(x[test_rows], y[test_rows]) - 0.5))
    return float(np.mean(scores))


def _acf(windows: np.ndarray, max_lag: int) -> np.ndarray:
    """Mean autocorrelation over windows at lags 1..max_lag: (max_lag, K)."""
    centred = windows - windows.mean(axis=1, keepdims=True)
    var = (centred**2).sum(axis=1) + 1e-12  # (n, K)
    lags = [
        ((centred[:, lag:] * centred[:, :-lag]).sum(axis=1) / var).mean(axis=0)
        for lag in range(1, max_lag + 1)
    ]
    return np.stack(lags)


def scores(real: np.ndarray, fake: np.ndarray, seed: int) -> dict:
    """Every score of ``fake`` against ``real`` (both scaled, (n, G, K))."""
    k = real.shape[-1]
    max_lag = max(1, real.shape[1] // 4)
    record = {
        "discriminative": discriminative(real, fake, seed),
        "marginal": float(
            np.mean(
                [
                    wasserstein_distance(real[..., j].ravel(), fake[..., j].ravel())
                    for j in range(k)
                ]
            )
        ),  # fmt: skip
        "acf": float(np.abs(_acf(real, max_lag) - _acf(fake, max_lag)).mean()),
    }
    if k > 1:
        off = ~np.eye(k, dtype=bool)
        corr = [np.corrcoef(w.reshape(-1, k), rowvar=False)[off] for w in (real, fake)]
        record["correlation"] = float(np.abs(corr[0] - corr[1]).mean())
    return record


def main(argv: list[str] | None = None) -> dict:
    parser = r.common_args(__doc__.splitlines()[0], "dpmpp_2m:10", seed=0)
    parser.add_argument("protocol", choices=("etth1", "electricity"))
    parser.add_argument("--windows", type=int, default=400)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    task = _task(args)
    n = 60 if args.smoke else args.windows
    rng = np.random.default_rng(args.seed)
    stacked = np.concatenate(task.segments)
    center, scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-12
    real = {
        "train": (_real_windows(task, n, rng) - center) / scale,
        "later": (task.later - center) / scale,
    }
    entries = r.samplers(args)
    model = DiffusionImputer(
        window_length=task.window_length, sampler=entries[0][0],
        sampling_steps=entries[0][1], **r.model_params(args),
    )  # fmt: skip
    fit: dict = {}
    with h.timer(fit, "fit_s"):
        model.fit(task.train)
    count = max(n, len(task.later))
    draws = []
    for label, fields in r.each_sampler(model, args):
        record = {"method": label, **fields, **fit}
        with h.timer(record, "generate_s"):
            fake = model.generate(count, task.length, random_state=args.seed + 1)
        # (count * length, variables) -> (count, length, variables)
        draws.append((record, fake.to_numpy().reshape(count, task.length, -1)))
    for name, draw in (
        ("moving block bootstrap", _block_bootstrap),
        ("autoregression (VAR / AR per series)", _autoregression),
    ):
        entry = {"method": name}
        with h.timer(entry, "generate_s"):
            windows = draw(task, count, np.random.default_rng(args.seed + 2))
        draws.append((entry, windows))
    runs = []
    for entry, windows in draws:
        scaled = (windows - center) / scale
        for split, truth in real.items():
            entry[split] = scores(truth, scaled[: len(truth)], args.seed)
        logging.info("%s", entry)
        runs.append(entry)
    config = {
        "length": task.length,
        "window_length": task.window_length,
        "n_train_windows": n,
        "n_later_windows": len(task.later),
        "n_train_rows": len(task.train),
        "runs_sharing_device": args.shared_device,
    }
    return r.write_fitted(f"generate_{args.protocol}", args, model, runs, config,
                          _markdown)  # fmt: skip


def _markdown(result: dict) -> str:
    config = result["config"]
    lines = [
        *h.heading(result),
        f"Windows of {config['length']} steps (imputer windows of "
        f"{config['window_length']}); {config['n_train_windows']} real windows drawn "
        f"from the training part, {config['n_later_windows']} real windows after it. "
        "Discriminative score |accuracy - 0.5| (0 best), marginal, autocorrelation "
        "and correlation distances (0 best), on values scaled per variable.",
        "",
        "| method | vs | discriminative | marginal | autocorrelation | correlation | "
        "fit s | generate s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        for split in ("train", "later"):
            s = run[split]
            corr = "" if "correlation" not in s else f"{s['correlation']:.4f}"
            fit = run.get("fit_s")
            lines.append(
                f"| {run['method']} | {split} | {s['discriminative']:.3f} | "
                f"{s['marginal']:.4f} | {s['acf']:.4f} | {corr} | "
                f"{'' if fit is None else f'{fit:.1f}'} | {run['generate_s']:.1f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
