"""statsforecast's models as peers of the forecasting protocols.

Each peer is one statsforecast model per variable (and per series of a panel),
fitted on the training part and forecasting every window from the history before it
with its fitted parameters (statsforecast's ``forward``), exactly as the
in-repository baselines do, so every row of a results file is scored on the same
cells. statsforecast gives a mean forecast with central prediction intervals; the
19 quantile levels 0.05, ..., 0.95 of the metrics are the bounds of its 10 %, ...,
90 % intervals and the mean is the median (its intervals are symmetric about the
mean).

statsforecast is an optional dependency (``pip install "tsdiff[bench]"``); it is
needed only when ``--peers`` names it.

References
----------
Garza, F., Mergenthaler Canseco, M., Challú, C., & Olivares, K. G. (2022).
StatsForecast: Lightning fast forecasting with statistical and econometric models.
PyCon Salt Lake City. https://github.com/Nixtla/statsforecast
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from tsdiff.frames import future_index, own_step, quantile_frame

__all__ = [
    "PEERS",
    "STATSFORECAST_MODELS",
    "StatsForecastPeer",
    "add_options",
    "statsforecast_peers",
]

PEERS = ("statsforecast",)
"""Peer libraries ``--peers`` can name in the forecasting protocols."""


def add_options(
    parser: argparse.ArgumentParser, peers: tuple[str, ...], models: tuple[str, ...]
) -> None:
    """Add ``--peers`` (one of ``peers``), ``--peer-models`` (a comma list of the
    library's ``models``, all by default) and ``--no-tsdiff`` to ``parser``."""
    parser.add_argument(
        "--peers",
        choices=peers,
        help="also fit and score this library's models (an optional dependency)",
    )
    parser.add_argument(
        "--peer-models",
        type=lambda text: tuple(text.split(",")),
        default=models,
        help=f"the peer library's models to fit, comma-separated (default: "
        f"{','.join(models)})",
    )
    parser.add_argument(
        "--no-tsdiff",
        action="store_true",
        help="score the baselines (and peers) alone",
    )


def _central_levels(alpha: tuple) -> list[int]:
    """The central interval levels (whole percents, as statsforecast names them)
    whose bounds are the quantiles ``alpha`` (0.5: the mean)."""
    levels = [abs(200 * a - 100) for a in alpha]
    if any(abs(level - round(level)) > 1e-6 for level in levels):
        raise ValueError(
            f"quantile levels {alpha} are not bounds of whole-percent intervals"
        )
    return sorted({round(level) for level in levels} - {0})


def _quantiles(out: dict, alpha: tuple) -> np.ndarray:
    """(Q, T) quantiles from statsforecast's ``mean`` / ``lo-l`` / ``hi-l`` output."""
    rows = []
    for a in alpha:
        level = round(abs(200 * a - 100))
        if level == 0:
            rows.append(out["mean"])
        else:
            rows.append(out[f"{'lo' if a < 0.5 else 'hi'}-{level}"])
    return np.asarray(rows, dtype=float)  # (Q, T)


def _fit(make: Callable[[], Any], y: np.ndarray) -> Any:
    return make().fit(y=y)


def _forecast(model: Any, y: np.ndarray | None, h: int, levels: list[int]) -> dict:
    levels = levels or None  # the median alone: the mean, no interval
    if y is None:
        return model.predict(h=h, level=levels)
    return model.forward(y=y, h=h, level=levels)


def _values(frame: pd.DataFrame, name: str) -> list[np.ndarray]:
    if frame.isna().to_numpy().any():
        raise ValueError(f"statsforecast's {name} takes no missing values")
    return [frame[column].to_numpy(dtype=float) for column in frame.columns]


def _parts(y: pd.DataFrame) -> dict:
    """The series of ``y``: ``{id: frame}`` of a panel (rows ``(id, time)``), or
    ``{None: y}``."""
    if not isinstance(y.index, pd.MultiIndex):
        return {None: y}
    return {key: part.droplevel(0) for key, part in y.groupby(level=0, sort=False)}


class StatsForecastPeer:
    """One statsforecast model per variable and series, with the forecaster
    interface of the benchmark's baselines (``fit``, ``predict_quantiles``).

    A panel (rows ``(series id, time)``) is taken whole, its series and variables
    fitted and forecast in parallel processes.

    Parameters
    ----------
    make : callable
        Returns a new unfitted statsforecast model.
    n_jobs : int, default=-1
        Processes (joblib).
    """

    takes_panels = True
    """The benchmark hands it a whole panel rather than one series at a time."""

    def __init__(self, make: Callable[[], Any], n_jobs: int = -1):
        self.make, self.n_jobs = make, n_jobs

    def fit(self, y: pd.DataFrame) -> StatsForecastPeer:
        """Fit one model per variable of every series of ``y`` (a frame with a
        regular datetime index, or a panel of such series)."""
        self.train_, self.is_panel_ = _parts(y), isinstance(y.index, pd.MultiIndex)
        self.names_ = list(y.index.names)
        self.steps_ = {key: own_step(part.index) for key, part in self.train_.items()}
        if any(step is None for step in self.steps_.values()):
            raise ValueError("the training data have no regular time step")
        jobs = [v for part in self.train_.values() for v in _values(part, "fit")]
        self.models_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit)(self.make, values) for values in jobs
        )
        return self

    def predict_quantiles(
        self, fh: int, y: pd.DataFrame | None = None, alpha: tuple = (0.5,)
    ) -> pd.DataFrame:
        """Quantile frame of the ``fh`` steps after ``y`` (a new history of a
        single series; None: after the training data), in tsdiff's layout: columns
        ``(variable, quantile)``, rows ``([series id,] time)``."""
        levels = _central_levels(alpha)
        histories = self.train_ if y is None else {None: y}
        if y is not None and self.is_panel_:
            raise ValueError("a panel peer forecasts from its training data only")
        series = [
            v
            for part in histories.values()
            for v in (
                _values(part, "forward") if y is not None else [None] * part.shape[1]
            )
        ]
        outs = Parallel(n_jobs=self.n_jobs)(
            delayed(_forecast)(model, values, fh, levels)
            for model, values in zip(self.models_, series, strict=True)
        )
        frames, start = {}, 0
        for key, part in histories.items():
            width = part.shape[1]
            quantiles = np.stack(  # (Q, T, K)
                [_quantiles(out, alpha) for out in outs[start : start + width]], axis=-1
            )
            start += width
            index = future_index(
                part.index[-1], self.steps_[key], np.arange(1, fh + 1), part.index.name
            )
            frames[key] = quantile_frame(quantiles, index, part.columns, tuple(alpha))
        if not self.is_panel_:
            return frames[None]
        return pd.concat(frames, names=self.names_)


STATSFORECAST_MODELS = ("AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive")
"""The statsforecast models ``--peers statsforecast`` fits (``--peer-models`` picks)."""


def statsforecast_peers(
    sp: int, names: tuple = STATSFORECAST_MODELS
) -> list[tuple[str, Callable[[], StatsForecastPeer]]]:
    """Named makers of statsforecast's models ``names`` (of
    :data:`STATSFORECAST_MODELS`) at seasonal period ``sp`` (1: none)."""
    from statsforecast import models

    unknown = sorted(set(names) - set(STATSFORECAST_MODELS))
    if unknown:
        raise ValueError(f"unknown statsforecast models {unknown}")
    peers = []
    for name in names:
        model = getattr(models, name)
        peers.append(
            (
                f"statsforecast {name} (sp={sp})",
                lambda model=model: StatsForecastPeer(lambda: model(season_length=sp)),
            )
        )
    return peers
