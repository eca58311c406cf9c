"""``upsample``: a series measured on a coarse grid, imputed on the fitted fine grid.

Temporal super-resolution is imputation on a grid ``factor`` times finer than the
data: a coarse value is either a reading of one fine step (``how="point"``, the
first step of its block, as pandas labels blocks) or the mean of the ``factor``
fine steps of its block (``how="mean"``). Points are given values like any other.
Means fix no cell: the blocks are sampled as gaps whose means are held by
projection at every network evaluation (:mod:`tsdiff.engine.constraints`), and the
imputations are projected once more, in data units and float64, so that every
sample averages to the given value up to float64 rounding.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from tsdiff.data import sliding_windows
from tsdiff.engine import BlockMeans
from tsdiff.engine.constraints import block_mean
from tsdiff.estimation.validation import check_alpha
from tsdiff.frames import future_index, quantile_frame

__all__ = ["HOWS", "UpsampleMixin", "exact_means", "window_means"]

HOWS = ("point", "mean")
"""What a coarse value is: a reading of the first fine step of its block, or the
mean of the block's fine steps."""


class UpsampleMixin:
    """``upsample``, for :class:`~tsdiff.DiffusionImputer` (its ``_samples`` takes
    ``means``)."""

    def upsample(
        self,
        X: Any,
        factor: int,
        how: str = "point",
        alpha: Any = None,
        random_state: Any = None,
    ) -> Any:
        """Values of ``X`` on a grid ``factor`` times finer: temporal
        super-resolution, on the grid the imputer was fitted on.

        Each row of ``X`` at time ``t`` covers the fine steps ``t, t + d, ...,
        t + (factor - 1) d``, where ``d`` is the fitted step (``freq_``). With
        ``how="point"`` its value is the reading at ``t``, kept exactly, and the
        other steps are imputed as gaps. With ``how="mean"`` it is the mean of
        the block (as ``fine.resample(...).mean()`` would give): no fine value
        is known, and every imputation sample averages to it over the block, up
        to float64 rounding (held by projection at every network evaluation and
        once more at the end). Costs one imputation of the fine grid. For
        ``"point"``, an imputer fitted with ``target_strategy="strided"`` has
        trained on exactly this pattern (on ETTm1 it cut the CRPS of 15-minute
        values from hourly readings from 0.089 to 0.076;
        ``benchmarks/README.md``). The intervals are the network's own, not
        calibrated: ``"mean"`` leaves no given value to calibrate on, and
        calibrating on the input (``calibration_share="input"``) would hide
        readings, so it would measure gaps of ``2 * factor - 1`` steps where the
        real ones have ``factor - 1``.

        Parameters
        ----------
        X : DataFrame or Series of shape (n_timesteps, n_variables)
            One series with the variables seen in fit, on a regular time index
            of step ``factor * freq_`` (an integer index for an imputer fitted
            on one); NaN marks a missing coarse value. Not modified.
        factor : int
            Fine steps per row of ``X``, at least 2.
        how : {"point", "mean"}, default="point"
            What a value of ``X`` is (see above).
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1): return the quantiles of every fine cell
            instead of the median.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws; None uses the fitted one (repeatable).

        Returns
        -------
        DataFrame or Series of shape (n_timesteps * factor, n_variables)
            The median imputation on the fine time index (a Series for a
            Series ``X``), with ``how="mean"`` shifted in each block to the
            block's mean (medians of cells need not average to it); with
            ``alpha``, a DataFrame with columns ``MultiIndex(variable,
            quantile)``, the quantiles of each cell.

        Raises
        ------
        ValueError
            If ``factor`` is below 2, ``how`` is unknown, ``X`` is a panel, has
            other variables, or its time points are not ``factor`` fitted steps
            apart; or for ``how="mean"`` with a latent model (``latent_dim``).
        TypeError
            If ``X`` is not a DataFrame or Series, or ``factor`` not an integer.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from tsdiff import DiffusionImputer
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=96, n_series=1, missing_rate=0.0,
        ...                      random_state=0).truth  # hourly
        >>> imp = DiffusionImputer(window_length=12, n_layers=1, n_channels=8,
        ...                        n_heads=1, n_diffusion_steps=5, n_epochs=1,
        ...                        num_samples=4, device="cpu", random_state=0).fit(y)
        >>> coarse = y.iloc[:24].resample("3h").mean()  # 8 three-hour means
        >>> fine = imp.upsample(coarse, factor=3, how="mean")
        >>> fine.shape, fine.index.freqstr
        ((24, 1), 'h')
        >>> np.allclose(fine.resample("3h").mean(), coarse)  # the means hold
        True
        >>> q = imp.upsample(coarse, factor=3, how="mean", alpha=[0.1, 0.9])
        >>> q.columns.tolist()
        [('y0', 0.1), ('y0', 0.9)]
        """
        check_is_fitted(self)
        factor = _check_factor(factor)
        if how not in HOWS:
            raise ValueError(f"how must be one of {HOWS}; got {how!r}.")
        levels = None if alpha is None else check_alpha(alpha)
        if how == "mean" and self.latent_dim is not None:
            raise ValueError(
                f"how='mean' holds block means on the data grid, but this imputer "
                f"diffuses in a latent space (latent_dim={self.latent_dim}); use "
                "how='point' or an imputer fitted with latent_dim=None."
            )
        fine, block, target = fine_grid(X, factor, self.freq_, how)
        arrays, _ = self._check_input(fine)  # (T, K) on the fine grid
        means = None
        if how == "mean":
            scaled = self.scaler_.transform(np.where(block >= 0, target, 0.0))
            means = (block, np.where(block >= 0, scaled, 0.0))
        samples = self._samples(
            arrays, random_state=random_state, calibrate=False, means=means
        )  # (S, T, K)
        if how == "mean":
            samples = exact_means(samples, block, target)
        if levels is not None:
            q = self._quantiles(samples, levels)  # (Q, T, K)
            return quantile_frame(q, fine.index, arrays.columns, levels)
        median = self._quantiles(samples, (0.5,))[0]  # (T, K)
        if how == "mean":  # medians of cells need not average to the block's mean
            median = exact_means(median[None], block, target)[0]
        if isinstance(fine, pd.Series):
            return pd.Series(median[:, 0], index=fine.index, name=fine.name)
        return pd.DataFrame(median, index=fine.index, columns=fine.columns)


def _check_factor(factor: Any) -> int:
    if isinstance(factor, bool) or not isinstance(factor, numbers.Integral):
        raise TypeError(f"factor must be an integer; got {type(factor).__name__}.")
    if factor < 2:
        raise ValueError(f"factor must be at least 2; got {factor}.")
    return int(factor)


def fine_grid(
    X: Any, factor: int, step: Any, how: str
) -> tuple[Any, np.ndarray, np.ndarray]:
    """``X`` laid on the fine grid of ``step``: the fine frame (points placed,
    NaN elsewhere), and per fine cell its block (the row of ``X``; -1 where the
    value is missing or ``how`` is "point") and that row's value, each (T, K)."""
    if not isinstance(X, (pd.DataFrame, pd.Series)):
        raise TypeError(
            "upsample needs X as a DataFrame or Series on a time index; got "
            f"{type(X).__name__}."
        )
    if isinstance(X.index, pd.MultiIndex):
        raise ValueError(
            "upsample takes one series; upsample the series of a panel one by one."
        )
    if len(X) == 0:
        raise ValueError("X has no rows to upsample.")
    step = 1 if step is None else step
    n_fine = len(X) * factor
    index = future_index(X.index[0], step, np.arange(n_fine), name=X.index.name)
    if not index[::factor].equals(pd.Index(X.index)):
        raise ValueError(
            f"The time points of X must be {factor} fitted steps "
            f"({getattr(step, 'freqstr', step)}) apart, in order, with no row "
            "missing (give a missing value as NaN); upsample fills the steps "
            "between them."
        )
    coarse = X.to_numpy(dtype=np.float64).reshape(len(X), -1)  # (n, K)
    values = np.full((n_fine, coarse.shape[1]), np.nan)
    block = np.full(values.shape, -1, dtype=np.int64)
    target = np.repeat(coarse, factor, axis=0)  # (T, K)
    if how == "point":
        values[::factor] = coarse
    else:
        rows = np.repeat(np.arange(len(X)), factor)[:, None]  # (T, 1)
        block = np.where(np.isnan(target), -1, rows)
    if isinstance(X, pd.Series):
        return pd.Series(values[:, 0], index=index, name=X.name), block, target
    return pd.DataFrame(values, index=index, columns=X.columns), block, target


def window_means(
    block: np.ndarray,
    target: np.ndarray,
    segments: list[slice],
    plans: list[dict],
    length: int,
) -> BlockMeans:
    """The block means of the windows that the ``plans`` sample, as the engine
    takes them: blocks numbered from 0 within each window, and a block that the
    window cuts counted in none (its cells are held by :func:`exact_means`).

    Parameters
    ----------
    block, target : ndarray of shape (T, K)
        Block of each grid cell (-1: none; blocks numbered in time order) and its
        mean, in the units of the windows.
    segments : list of slice
        The grid rows of each series.
    plans : list of dict
        Each series' :func:`~tsdiff.estimation.imputing.window_plan`.
    length : int
        Window length L.

    Returns
    -------
    BlockMeans
        Of shape (n_needed, L, K), the needed windows of every series in turn.
    """
    parts = [
        _series_window_means(block[rows], target[rows], plan, length)
        for rows, plan in zip(segments, plans, strict=True)
    ]
    return BlockMeans(
        np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    )


def _series_window_means(
    block: np.ndarray, target: np.ndarray, plan: dict, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`window_means` of one series: local blocks and means, (N, L, K)."""
    n_pad = plan["n_pad"]
    block = np.concatenate([np.full((n_pad, block.shape[1]), -1), block])
    target = np.concatenate([np.zeros((n_pad, target.shape[1])), target])
    starts = plan["starts"][plan["needed"]]
    windows = sliding_windows(block, starts, length)  # (N, L, K)
    inside = windows >= 0
    ids = np.where(inside, windows, 0)
    # Blocks are runs of rows: one lies wholly in a window when its first and
    # last rows do.
    rows = np.broadcast_to(np.arange(len(block))[:, None], block.shape)
    n_blocks = int(block.max(initial=-1)) + 1
    first = np.full(max(n_blocks, 1), len(block))
    last = np.full(max(n_blocks, 1), -1)
    np.minimum.at(first, block[block >= 0], rows[block >= 0])
    np.maximum.at(last, block[block >= 0], rows[block >= 0])
    begin = starts[:, None, None]  # (N, 1, 1)
    whole = inside & (first[ids] >= begin) & (last[ids] < begin + length)
    first = np.where(whole, ids, np.iinfo(np.int64).max).min(axis=1, keepdims=True)
    local = np.where(whole, ids - np.minimum(first, ids), -1)  # (N, L, K)
    return local, sliding_windows(target, starts, length).astype(np.float32)


def exact_means(
    samples: np.ndarray, block: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """``samples`` (S, T, K) with every block shifted to its mean ``target`` (T, K),
    in float64; cells of no block (-1) unchanged."""
    x = torch.tensor(np.moveaxis(samples, 1, -1), dtype=torch.float64)  # (S, K, T)
    b = torch.tensor(block.T, dtype=torch.int64).expand(len(samples), -1, -1)
    shift = torch.tensor(target.T, dtype=torch.float64) - block_mean(x, b)
    moved = torch.where(b >= 0, x + shift, x).numpy()  # (S, K, T)
    return np.moveaxis(moved, -1, 1)
