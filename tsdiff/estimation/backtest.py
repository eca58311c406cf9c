"""``backtest``: forecasts of a fitted :class:`~tsdiff.DiffusionForecaster` from
many historical cutoffs of a series or panel, all sampled in one batched pass."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff.estimation.histories import (
    history_until,
)
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.stretching import widen
from tsdiff.estimation.tracking import tracking_step
from tsdiff.estimation.validation import check_alpha, check_positive_int
from tsdiff.frames import (
    SeriesArrays,
    backtest_index,
    quantile_frame,
)

__all__ = ["BacktestMixin"]


class BacktestMixin:
    """``backtest``, for :class:`~tsdiff.DiffusionForecaster`."""

    def backtest(
        self,
        y: Any,
        fh: Any = None,
        *,
        n_windows: int | None = None,
        cutoffs: Any = None,
        alpha: Any = None,
        random_state: Any = None,
        X: Any = None,
    ) -> pd.DataFrame:
        """Forecast from many historical cutoffs of ``y`` in one batched pass.

        Each forecast conditions only on the last ``context_length`` time points
        up to its cutoff (earlier points count as missing where there are fewer),
        so it sees nothing of the values it is scored against. All cutoffs (of
        all series of a panel) are sampled together, in large batches.

        With ``calibration_rate`` set, the intervals follow the values as
        :meth:`update` would along ``y``: each cutoff's forecasts are stretched
        by what the misses of the forecasts from the earlier cutoffs (scored on
        the values up to the next cutoff) have moved the scale by; the
        forecaster itself is not changed.

        Parameters
        ----------
        y : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            The series to backtest on, with the variables and the index type and
            step of the training series, or a panel of series; not modified.
        fh : int or sequence of int, default=None
            Relative horizon (1 = the step after each cutoff); None uses the
            horizon given at fit, else all ``prediction_length`` steps.
        n_windows : int, optional
            Rolling windows at the end of ``y`` (of each series of a panel): the
            cutoffs lie ``max(fh)`` steps apart, the last one ``max(fh)`` steps
            before the end, so the horizons tile the last ``n_windows * max(fh)``
            time points.
        cutoffs : sequence or pandas.Index, optional
            Time points of ``y`` (index labels; dates may be strings) to forecast
            from instead; used in time order, each once. In a panel, each series
            is forecast from those of its own time points.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.
        random_state : int, RandomState or None, default=None
            Seed of the draws; None uses the seed fixed at fit. The same seed and
            the same cutoffs give the same result; the draws of one cutoff change
            with the set of cutoffs sampled beside it (they share the batch), not
            their distribution.
        X : DataFrame, optional
            For a forecaster fitted with covariates: their values at every time
            point of ``y`` and of the horizons after the cutoffs.

        Returns
        -------
        DataFrame of shape (n_forecasts * n_steps, n_variables * n_levels)
            Rows ``MultiIndex(cutoff, time)`` (``(cutoff, series id, time)`` for a
            panel), columns ``MultiIndex(variable, quantile)`` as in
            :meth:`predict_quantiles`.

        Raises
        ------
        ValueError
            Unless exactly one of ``n_windows`` and ``cutoffs`` is given; for a
            cutoff that is not a time point of ``y``, more windows than ``y`` (or
            a series of it) holds, or a ``y`` unlike the training series.
        TypeError
            For an ``fh`` of absolute time points (they differ per cutoff).

        Examples
        --------
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0).fit(y)
        >>> scores = fc.backtest(y, fh=2, n_windows=3, alpha=[0.1, 0.9])
        >>> scores.shape  # 3 cutoffs x 2 steps, 2 variables x 2 levels
        (6, 4)
        >>> list(scores.index.names)
        ['cutoff', 'time']
        >>> scores.index.get_level_values("cutoff").unique().strftime("%H:%M").tolist()
        ['17:00', '19:00', '21:00']
        >>> scores.columns.tolist()
        [('y0', 0.1), ('y0', 0.9), ('y1', 0.1), ('y1', 0.9)]
        """
        check_is_fitted(self)
        if y is None:
            raise TypeError("backtest needs the series y to forecast from.")
        if (n_windows is None) == (cutoffs is None):
            raise ValueError("Pass exactly one of n_windows and cutoffs.")
        if isinstance(fh, pd.Index) or (
            isinstance(fh, (list, tuple))
            and not all(isinstance(v, numbers.Integral) for v in fh)
        ):
            raise TypeError(
                "backtest takes fh as relative steps (an int or a sequence of ints); "
                "absolute time points differ from cutoff to cutoff."
            )
        alpha = check_alpha(self.quantile_levels if alpha is None else alpha)
        seed = self._sample_seed(random_state)
        arrays, histories = self._read_histories(y)
        steps = self._horizon_steps(fh, histories.cutoffs)
        if n_windows is not None:
            n_windows = check_positive_int(n_windows, "n_windows")
        elif len(np.atleast_1d(np.asarray(cutoffs, dtype=object))) == 0:
            raise ValueError("cutoffs is empty; give at least one time point.")
        series, positions = [], []  # (series, grid row) of every forecast
        for i, rows in enumerate(arrays.segments):
            times = _times(arrays.grid_index[rows])
            if n_windows is not None:
                label = "y" if arrays.bounds is None else f"series {histories.ids[i]!r}"
                found = _window_ends(len(times), n_windows, int(steps.max()), label)
            else:
                found = _cutoff_rows(times, cutoffs, strict=arrays.bounds is None)
            series.append(np.full(len(found), i))
            positions.append(rows.start + found)
        series, positions = np.concatenate(series), np.concatenate(positions)
        if len(positions) == 0:
            raise ValueError("No series of y holds any of the cutoffs.")
        times = _times(arrays.grid_index)[positions]
        order = (  # by cutoff, then series
            pd.DataFrame({"time": times, "series": series})
            .sort_values(["time", "series"])
            .index.to_numpy()
        )
        series, positions, times = series[order], positions[order], times[order]
        firsts = np.array([r.start for r in arrays.segments])[series]
        contexts = np.stack(  # (N, C, K): no history reaches into another series
            [
                history_until(arrays.values, first, p, self._n_context)
                for first, p in zip(firsts, positions, strict=True)
            ]
        )
        scaler = histories.scaler.select(series)
        ids = None if histories.ids is None else histories.ids[series]
        covariates = self._window_covariates(
            X, ids, times, histories.firsts[series], "backtest"
        )
        samples = self._sample_horizons(
            contexts, scaler, self.num_samples, seed, covariates
        )
        if self.calibration_rate is not None and self.num_samples > 1:
            samples = self._track(samples, arrays, positions, series, times)
        q = self._quantiles(samples[:, :, steps - 1], alpha)  # (Q, N, H', K)
        n_q, n, n_h, n_k = q.shape
        index = backtest_index(times, self.freq_, steps, ids, histories.names)
        return quantile_frame(q.reshape(n_q, n * n_h, n_k), index, self.columns_, alpha)

    def _track(
        self,
        samples: np.ndarray,
        arrays: SeriesArrays,
        positions: np.ndarray,
        series: np.ndarray,
        times: pd.Index,
    ) -> np.ndarray:
        """The samples (S, N, H, K) of forecasts in cutoff order, each cutoff's
        stretched as :meth:`update` would have left the intervals by then: the
        forecasts from every earlier cutoff scored on the values up to the next
        one (at most ``prediction_length`` steps), as with ``calibration_rate``
        along the series. The estimator is not changed."""
        n_h, coverage = self._n_horizon, self.calibration_coverage
        levels = ((1 - coverage) / 2, (1 + coverage) / 2)
        ends = np.array([arrays.segments[i].stop for i in series])  # (N,)
        rows = positions[:, None] + np.arange(1, n_h + 1)  # (N, H) grid rows
        inside = rows < ends[:, None]
        truth = np.where(  # (N, H, K): NaN past a series' end
            inside[..., None], arrays.values[np.minimum(rows, len(arrays.values) - 1)],
            np.nan,
        )  # fmt: skip
        grid_times = np.asarray(_times(arrays.grid_index))
        row_times = grid_times[np.minimum(rows, len(grid_times) - 1)]  # (N, H)
        out, drift = samples.copy(), np.zeros(samples.shape[-1])
        cutoffs = times.unique()  # in time order
        for j, cutoff in enumerate(cutoffs):
            group = np.flatnonzero(times == cutoff)
            out[:, group] = widen(
                samples[:, group], np.exp(drift), self.quantile_method
            )
            if j + 1 == len(cutoffs):
                break
            known = row_times[group] <= cutoffs[j + 1]  # arrived before the next
            low, high = sample_quantiles(out[:, group], levels, self.quantile_method)
            scored = np.where(known[..., None], truth[group], np.nan)
            drift = drift + tracking_step(
                low, high, scored, coverage, self.calibration_rate
            )
        return out


def _times(index: pd.Index) -> pd.Index:
    """The time points of a grid index (the time level of a panel's)."""
    return index.get_level_values(-1) if isinstance(index, pd.MultiIndex) else index


def _window_ends(n_steps: int, n_windows: int, stride: int, label: str) -> np.ndarray:
    """Grid rows of the cutoffs of ``n_windows`` rolling windows of ``stride`` steps
    at the end of a series of ``n_steps``."""
    positions = n_steps - 1 - stride * np.arange(n_windows, 0, -1)
    if positions[0] < 0:
        raise ValueError(
            f"{label} has {n_steps} time steps; {n_windows} windows of {stride} "
            f"steps need at least {n_windows * stride + 1}."
        )
    return positions


def _cutoff_rows(times: pd.Index, cutoffs: Any, strict: bool) -> np.ndarray:
    """Grid rows of the time points ``cutoffs`` of a series whose grid is ``times``,
    in time order, each once; those it lacks are an error if ``strict``, else
    skipped."""
    wanted = pd.Index(np.atleast_1d(np.asarray(cutoffs, dtype=object)))
    if isinstance(times, pd.DatetimeIndex):
        try:  # dates may come as strings
            wanted = pd.DatetimeIndex(wanted, tz=times.tz)
        except (TypeError, ValueError):
            pass  # not dates: reported as missing below
    positions = times.get_indexer(times[:0].append(wanted))
    if strict and (positions < 0).any():
        bad = list(wanted[positions < 0][:3])
        raise ValueError(f"cutoffs {bad} are not time points of y.")
    return np.unique(positions[positions >= 0])
