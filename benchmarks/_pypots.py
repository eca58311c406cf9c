"""PyPOTS's CSDI and SAITS as peers of the imputation protocols (PM2.5, PhysioNet).

Each peer is trained on the windows tsdiff trains on in that script (PM2.5: every
36-hour window of the training months, the ``mix`` masks borrowing the patterns of
the same pattern months, one seeded pattern window fixed per training window as in
CSDI's ``dataset_pm25.py``; PhysioNet: the 48-hour training stays), standardised
per variable with the mean and standard deviation of the observed training values.
PyPOTS's validation set is the split tsdiff's settings are chosen on (PM2.5: month
1, given its ``pm25_missing`` cells and checked on the rest of ``pm25_ground``;
PhysioNet: the validation stays with the first ratio's cells hidden), never the
test windows: the weights kept are those of the best validated epoch (PyPOTS's
metric: CSDI's denoising loss over every diffusion step, SAITS's MAE; CSDI's own
code keeps its last epoch). The test windows are cut and stitched as tsdiff's are
(non-overlapping, the last one shifted back, each step from the window whose centre
is nearest), given the same cells.

CSDI draws ``--samples`` imputations per window; the 19 levels 0.05, ..., 0.95 of
the metrics are their linear quantiles (what the metrics take of samples, so the
scores are those of the samples). SAITS is deterministic: its imputation is every
quantile, as for the in-repository point baselines, so its CRPS is its weighted
absolute error ``sum |y - p| / sum |y|``. Given cells are exact at every level.

Hyperparameters (:data:`SETTINGS`) are the papers' own: CSDI's ``config/base.yaml``
and ``utils.train`` (4 residual layers of 64 channels, 8 heads, 50 quadratic-schedule
steps, batch 16, 200 epochs, Adam at 1e-3 with weight decay 1e-6, the rate divided
by 10 at 75 % and 90 % of the epochs; ``mix`` masks on PM2.5 as in
``exe_pm25.py``, random ones on PhysioNet), validated every 20 epochs as CSDI's
training loop does; SAITS's ``configs/PhysioNet2012_SAITS_best.ini`` for PhysioNet
and ``configs/AirQuality_SAITS_best.ini`` (Beijing multi-site air quality, the
nearest data set it was tuned on) for PM2.5, early stopping after 30 epochs without
a better validation MAE (SAITS's own loop counts its patience in validations every
few dozen steps).

PyPOTS trains in its own loop; the peer calls its ``fit`` one epoch at a time (its
optimizer persists between calls) so that the learning rate follows CSDI's
schedule, validation runs when the paper's loop runs it, and ``--peer-checkpoint
DIR`` can hold the whole training state (weights, optimizer, best epoch, the global
generators PyPOTS draws from; saved every minute and when a fit stops or ends) and
every chunk of predictions (the quantiles of the scored cells only): the same
command run again resumes where ``--peer-max-time`` stopped it.

pypots is an optional dependency (``pip install "tsdiff[bench]"``, or the offline
wheels of ``benchmarks/peers_pypots.sh``); it is imported only when ``--peers
pypots`` names it.

References
----------
Du, W. (2023). PyPOTS: A Python toolbox for data mining on partially-observed time
series. arXiv:2305.18811. https://github.com/WenjieDu/PyPOTS
Tashiro, Y., Song, J., Song, Y., & Ermon, S. (2021). CSDI: Conditional score-based
diffusion models for probabilistic time series imputation. NeurIPS 34.
https://github.com/ermongroup/CSDI
Du, W., Côté, D., & Liu, Y. (2023). SAITS: Self-attention-based imputation for time
series. Expert Systems with Applications, 219, 119619.
https://github.com/WenjieDu/SAITS
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h
import _peers
import numpy as np
import pandas as pd
from _pypots_fit import Peer, sample_quantiles

from tsdiff.data import sliding_windows, stitch_windows, window_starts
from tsdiff.frames import quantile_frame
from tsdiff.metrics import QUANTILE_LEVELS

__all__ = [
    "PEERS",
    "PYPOTS_MODELS",
    "SETTINGS",
    "add_options",
    "cut_windows",
    "evaluate",
    "pypots_runs",
    "sample_quantiles",
    "stitch",
]

logger = logging.getLogger("benchmarks")

PEERS = ("pypots",)
"""Peer libraries ``--peers`` can name in the imputation protocols."""

PYPOTS_MODELS = ("CSDI", "SAITS")
"""The PyPOTS models ``--peers pypots`` fits (``--peer-models`` picks)."""

_CSDI = {  # CSDI's config/base.yaml and utils.train (Tashiro et al. 2021)
    "model": {
        "n_layers": 4, "n_heads": 8, "n_channels": 64, "d_time_embedding": 128,
        "d_feature_embedding": 16, "d_diffusion_embedding": 128,
        "n_diffusion_steps": 50, "schedule": "quad", "beta_start": 1e-4,
        "beta_end": 0.5, "batch_size": 16,
    },
    "epochs": 200, "lr": 1e-3, "weight_decay": 1e-6, "milestones": (0.75, 0.9),
    "validate_every": 20, "patience": None,
}  # fmt: skip
_SAITS = {  # WenjieDu/SAITS configs/*_SAITS_best.ini; 10000 epochs: until stopped
    "model": {
        "dropout": 0.0, "attn_dropout": 0.0, "diagonal_attention_mask": True,
        "ORT_weight": 1, "MIT_weight": 1, "batch_size": 128,
    },
    "epochs": 10000, "weight_decay": 0.0, "milestones": (), "validate_every": 1,
    "patience": 30,
}  # fmt: skip
SETTINGS = {
    ("CSDI", "pm25"): _CSDI | {"model": _CSDI["model"] | {"target_strategy": "mix"}},
    ("CSDI", "physionet"): _CSDI
    | {"model": _CSDI["model"] | {"target_strategy": "random"}},
    ("SAITS", "pm25"): _SAITS  # AirQuality_SAITS_best.ini
    | {"lr": 0.00088213879506932665, "model": _SAITS["model"] | {
        "n_layers": 1, "d_model": 512, "n_heads": 4, "d_k": 128, "d_v": 64,
        "d_ffn": 512}},
    ("SAITS", "physionet"): _SAITS  # PhysioNet2012_SAITS_best.ini
    | {"lr": 0.00068277455043675505, "model": _SAITS["model"] | {
        "n_layers": 5, "d_model": 256, "n_heads": 8, "d_k": 32, "d_v": 32,
        "d_ffn": 512}},
}  # fmt: skip
"""Training settings per (model, protocol): PyPOTS constructor arguments
(``model``), epochs, learning rate, weight decay, the learning-rate milestones as
shares of the epochs, validation interval and early-stopping patience (epochs)."""

SMOKE = {
    "CSDI": {"n_layers": 1, "n_heads": 2, "n_channels": 8, "d_time_embedding": 16,
             "d_feature_embedding": 4, "d_diffusion_embedding": 16,
             "n_diffusion_steps": 10, "batch_size": 64},
    "SAITS": {"n_layers": 1, "d_model": 16, "n_heads": 2, "d_k": 8, "d_v": 8,
              "d_ffn": 16, "batch_size": 64},
}  # fmt: skip
"""The tiny networks of ``--smoke`` (two epochs, four samples)."""


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add the peer options of the imputation protocols to ``parser``."""
    _peers.add_options(parser, PEERS, PYPOTS_MODELS)
    parser.add_argument(
        "--peer-checkpoint",
        metavar="DIR",
        help="keep each peer's training state and predictions (every chunk) here, "
        "and resume from them",
    )
    parser.add_argument(
        "--peer-max-time",
        type=float,
        metavar="SECONDS",
        help="stop the peers after the first epoch or prediction chunk past this "
        "many seconds (resume with --peer-checkpoint); no results are written",
    )
    parser.add_argument(
        "--peer-epochs",
        type=int,
        help="at most this many epochs per peer instead of its paper's (recorded)",
    )
    parser.add_argument(
        "--peer-predict-batch",
        type=int,
        default=128,
        help="windows per prediction call (and per saved chunk) of the peers",
    )


def evaluate(
    tsdiff: Callable[[], list[dict] | None],
    baselines: Any,
    peers: Callable[[], list[dict] | None],
    args: argparse.Namespace,
) -> list[dict] | None:
    """tsdiff's and the baselines' runs (the baselines' alone with ``--no-tsdiff``),
    then the peers' with ``--peers``; None when a fit or the peers stopped at a
    time limit (run the same command again to resume)."""
    runs = [] if args.no_tsdiff else tsdiff()
    if runs is None:
        return None
    peer_runs = peers() if args.peers else []
    if peer_runs is None:
        return None
    return (baselines.results() if args.no_tsdiff else runs) + peer_runs


def _segments(index: pd.Index) -> list[np.ndarray]:
    """Row positions of every series of a ``(series id, time)`` panel, in order of
    appearance (a plain index: one series)."""
    if not isinstance(index, pd.MultiIndex):
        return [np.arange(len(index))]
    codes, _ = pd.factorize(index.get_level_values(0))
    return [np.flatnonzero(codes == code) for code in range(codes.max() + 1)]


def cut_windows(
    values: np.ndarray, segments: list[np.ndarray], length: int, stride: int
) -> tuple[np.ndarray, list[tuple]]:
    """Windows of every series: ``values`` (T, K) rows ``segments``, each left-padded
    with NaN to a whole window and cut every ``stride`` steps (the last window
    shifted back to the series' end). Returns the windows (N, L, K) and the plan
    :func:`stitch` takes."""
    windows, plan = [], []
    for rows in segments:
        n_pad = max(0, length - len(rows))
        part = np.concatenate([np.full((n_pad, values.shape[1]), np.nan), values[rows]])
        starts = window_starts(len(part), length, stride)
        windows.append(sliding_windows(part, starts, length))  # (n, L, K)
        plan.append((rows, starts, n_pad))
    return np.concatenate(windows), plan


def stitch(window_values: np.ndarray, plan: list[tuple], n_rows: int) -> np.ndarray:
    """Per-window values (..., N, L, K) back onto the ``n_rows`` rows of the series
    (..., T, K): each step from the window whose centre is nearest (tsdiff's rule)."""
    out = np.empty((*window_values.shape[:-3], n_rows, window_values.shape[-1]))
    first = 0
    for rows, starts, n_pad in plan:
        part = window_values[..., first : first + len(starts), :, :]
        out[..., rows, :] = stitch_windows(part, starts, len(rows) + n_pad)[
            ..., n_pad:, :
        ]
        first += len(starts)
    return out


def _key(*parts: Any) -> str:
    """A short fingerprint of arrays and settings (names checkpoint files)."""
    digest = hashlib.sha1()
    for part in parts:
        data = part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode()
        digest.update(data)
    return digest.hexdigest()[:12]


def _settings(name: str, protocol: str, args: argparse.Namespace) -> dict:
    setting = SETTINGS[(name, protocol)]
    if args.smoke:
        model = setting["model"] | SMOKE[name]
        setting = setting | {"model": model, "epochs": 2, "validate_every": 1}
    if args.peer_epochs is not None:
        setting = setting | {"epochs": args.peer_epochs}
    return setting


def pypots_runs(
    protocol: str,
    train: pd.DataFrame,
    validation: tuple[pd.DataFrame, pd.DataFrame],
    cases: list[tuple[dict, pd.DataFrame, np.ndarray]],
    truth: np.ndarray,
    args: argparse.Namespace,
    *,
    window: int,
    stride: int,
    patterns: pd.DataFrame | None = None,
) -> list[dict] | None:
    """Fit every ``--peer-models`` model and score it on every case.

    Parameters
    ----------
    protocol : {"pm25", "physionet"}
        Picks the settings of :data:`SETTINGS`.
    train : DataFrame of shape (n_rows, K)
        tsdiff's training data, a ``(series id, time)`` panel: stride-1 windows of
        ``window`` steps of every series train the peers.
    validation : (DataFrame, DataFrame)
        The validation input (its targets hidden) and its truth, panels of one
        layout, cut every ``stride`` steps.
    cases : list of (extra, given, target)
        As the protocol scores tsdiff: record fields, the input panel with the
        targets hidden (rows as ``truth``), the boolean target mask (T, K).
    truth : ndarray of shape (T, K)
        True values.
    args : Namespace
        The script's options (``--peer-*``, ``--samples``, ``--seed``, ``--smoke``).
    window, stride : int
        Window length and the stride of the scored (and validation) windows.
    patterns : DataFrame, optional
        Panel whose observed masks the ``mix`` strategy copies onto training
        windows (PM2.5's pattern months); one seeded draw per training window.

    Returns
    -------
    list of dict or None
        One record per model and case; None when ``--peer-max-time`` stopped a fit
        or a prediction (the checkpoint holds what was done).
    """
    if getattr(args, "split", "test") == "validation":
        logger.warning("--split validation: the peers validate on the scored split")
    deadline = None if args.peer_max_time is None else time.time() + args.peer_max_time
    rng = np.random.default_rng(args.seed)
    values = train.to_numpy(dtype=float)  # (T, K)
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    std = np.where(std > 0, std, 1.0)

    def scaled(frame: pd.DataFrame) -> np.ndarray:
        return ((frame.to_numpy(dtype=float) - mean) / std).astype(np.float32)

    x_train, _ = cut_windows(scaled(train), _segments(train.index), window, 1)
    train_set = {"X": x_train}  # (N, L, K), NaN where missing
    if patterns is not None:
        observed = patterns.notna().to_numpy(dtype=np.float32)
        pool, _ = cut_windows(observed, _segments(patterns.index), window, 1)
        picked = rng.integers(len(pool), size=len(x_train))
        train_set["for_pattern_mask"] = np.nan_to_num(pool[picked])  # (N, L, K)
    given, true = validation
    val_set = {
        "X": cut_windows(scaled(given), _segments(given.index), window, stride)[0],
        "X_ori": cut_windows(scaled(true), _segments(true.index), window, stride)[0],
    }
    samples = 4 if args.smoke else args.samples
    folder = Path(args.peer_checkpoint) if args.peer_checkpoint else None
    runs = []
    for name in args.peer_models:
        if name not in PYPOTS_MODELS:
            raise SystemExit(f"--peer-models: PyPOTS models are {PYPOTS_MODELS}")
        setting = _settings(name, protocol, args)
        key = _key(x_train, val_set["X"], val_set["X_ori"], setting, args.seed)
        stem = f"{protocol}_{name}_{key}"
        peer = Peer(name, setting, window, x_train.shape[-1], args.seed)
        path = None if folder is None else folder / f"{stem}.pt"
        if not peer.fit(train_set, val_set, path, deadline):
            return None
        for extra, case_given, target in cases:
            rows = _segments(case_given.index)
            x_test, plan = cut_windows(scaled(case_given), rows, window, stride)
            draws = samples if name == "CSDI" else 1
            keep, _ = cut_windows(target.astype(float), rows, window, stride)
            keep = np.nan_to_num(keep) > 0  # (N, L, K): the scored cells
            batch = args.peer_predict_batch  # chunks: the same in every call
            label = f"{stem}_{_key(x_test, keep, draws, batch)}"
            window_q = peer.predict(x_test, keep, draws, batch, label, folder, deadline)
            if window_q is None:
                return None
            q = stitch(window_q, plan, len(truth)) * std + mean  # (Q, T, K)
            given_values = case_given.to_numpy(dtype=float)
            q = np.where(np.isnan(given_values), q, given_values)  # given: exact
            # NaN at the cells neither given nor scored: the peer keeps only those
            frame = quantile_frame(
                q, pd.RangeIndex(len(truth)), case_given.columns, QUANTILE_LEVELS
            )
            scores = h.score(truth, frame, target)
            runs.append(_record(name, peer, extra, draws, scores))
    return runs


def _record(name: str, peer: Any, extra: dict, draws: int, scores: dict) -> dict:
    """One results row of a peer: its scores, times and training."""
    point = name != "CSDI"
    method = f"PyPOTS {name}" + (" (point imputation: CRPS = weighted MAE)" * point)
    record = {
        "method": method,
        **extra,
        "peer": "pypots",
        "peer_version": peer.version,
        "fit_s": peer.fit_seconds(),
        "predict_s": peer.predict_seconds,
        "num_samples": draws,
        "point_method": point,
        "setting": peer.describe(),
        "training": peer.summary(),
        "devices": peer.devices(),
    }
    record |= scores
    logger.info("%s: %s", method, {k: record[k] for k in ("crps", "mae", "rmse")})
    return record
