"""Covariates of a forecast: known-future exogenous variables ``X``, static features
of each series and calendar features of the time index, turned into the covariate
channels that join the network's side information (never targets).

Every time step of a window gets ``n_channels`` values: the standardised columns of
``X`` at that time point, a sine and a cosine per calendar feature, and the
standardised static features of its series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype

from tsdiff.frames import future_index, to_arrays

__all__ = [
    "CALENDAR_FEATURES",
    "CovariateSpec",
    "covariates_at_rows",
    "default_calendar",
]

# name -> (period, value of a DatetimeIndex or PeriodIndex in [0, period))
CALENDAR_FEATURES = {
    "minute": (60, lambda t: t.minute),
    "hour": (24, lambda t: t.hour),
    "day_of_week": (7, lambda t: t.day_of_week),
    "day_of_month": (31, lambda t: t.day - 1),
    "day_of_year": (366, lambda t: t.day_of_year - 1),
    "month": (12, lambda t: t.month - 1),
}
"""Calendar features: each enters as ``sin`` and ``cos`` of ``2 pi value / period``."""


def default_calendar(step: pd.Timedelta) -> tuple[str, ...]:
    """The calendar features that vary within a few seasons of a time step of
    (typical) length ``step``: minute, hour and weekday below an hour; hour and
    weekday below a day; weekday and month below a week; day of year below a month;
    month above."""
    if step < pd.Timedelta(hours=1):
        return ("minute", "hour", "day_of_week")
    if step < pd.Timedelta(days=1):
        return ("hour", "day_of_week")
    if step < pd.Timedelta(days=7):
        return ("day_of_week", "month")
    if step < pd.Timedelta(days=28):
        return ("day_of_year",)
    return ("month",)


@dataclass(frozen=True)
class CovariateSpec:
    """What a forecaster learned about its covariates in fit.

    Attributes
    ----------
    x_columns : pandas.Index
        Columns of ``X`` (empty without ``X``).
    x_center, x_scale : ndarray of shape (n_x,)
        Standardisation of the ``X`` columns (over the training rows).
    calendar : tuple of str
        Calendar features (keys of :data:`CALENDAR_FEATURES`).
    static_columns : pandas.Index
        Columns of the static features (empty without them).
    static_ids : pandas.Index
        Series ids with static features.
    static_values : ndarray of shape (n_ids, n_static)
        Their standardised static features.
    """

    x_columns: pd.Index
    x_center: np.ndarray
    x_scale: np.ndarray
    calendar: tuple
    static_columns: pd.Index
    static_ids: pd.Index
    static_values: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "calendar", tuple(self.calendar))  # JSON: a list

    @property
    def n_channels(self) -> int:
        """Covariate channels per time step."""
        n_x, n_cal = len(self.x_columns), 2 * len(self.calendar)
        return n_x + n_cal + len(self.static_columns)

    @classmethod
    def fit(
        cls,
        X: Any,
        static: Any,
        calendar: Any,
        grid: pd.Index,
        freq: Any,
        panel: bool,
    ) -> tuple[CovariateSpec | None, pd.DataFrame | None]:
        """Learn the covariates of a training series on the time grid ``grid``.

        Returns the spec (None when there are no covariates) and the standardised
        ``X`` as a table on its own rows (None without ``X``).
        """
        names = _calendar_names(calendar, grid)
        if X is None and static is None and not names:
            return None, None
        x_columns, center, scale, table = pd.Index([]), np.zeros(0), np.ones(0), None
        if X is not None:
            raw = _read_x(X, freq, panel)
            values = raw.reindex(grid).to_numpy()  # (T, n_x) on the training grid
            _check_covered(raw, grid, "X", "fit on y")
            center, scale = values.mean(axis=0), values.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)
            x_columns = raw.columns
            table = (raw - center) / scale
        static_columns, static_ids, static_values = pd.Index([]), pd.Index([]), None
        if static is not None:
            static_columns, static_ids, static_values = _read_static(
                static, grid, panel
            )
        if static_values is None:
            static_values = np.zeros((0, 0))
        spec = cls(x_columns, center, scale, names, static_columns, static_ids,
                   static_values)  # fmt: skip
        return spec, table

    def table(self, X: Any, freq: Any, panel: bool) -> pd.DataFrame | None:
        """New ``X`` standardised as in fit, on its own rows (None if unused)."""
        if len(self.x_columns) == 0:
            if X is not None:
                raise ValueError(
                    "X was given, but the forecaster was fitted without exogenous "
                    "covariates; pass X=None or fit with X."
                )
            return None
        if X is None:
            raise ValueError(
                f"This forecaster was fitted with exogenous covariates "
                f"{list(self.x_columns)}; pass X with their values at the time points "
                "to forecast."
            )
        raw = _read_x(X, freq, panel)
        if not raw.columns.equals(self.x_columns):
            raise ValueError(
                f"The columns of X differ from those seen in fit; expected "
                f"{list(self.x_columns)}, got {list(raw.columns)}."
            )
        return (raw - self.x_center) / self.x_scale

    def values(
        self,
        table: pd.DataFrame | None,
        ids: pd.Index | None,
        times: pd.Index,
        what: str,
        required: np.ndarray | None = None,
    ) -> np.ndarray:
        """Covariates of shape (n, n_channels) at the rows ``(ids, times)`` (``ids``
        None for a single series). ``X`` must hold the rows where ``required``
        (default: all); other rows it lacks get 0 (the training mean). ``what``
        names the rows in errors."""
        parts = []
        if len(self.x_columns):
            rows = times if ids is None else pd.MultiIndex.from_arrays([ids, times])
            found = table.reindex(rows)
            needed = rows if required is None else rows[required]
            _check_covered(table, needed, "X", what)
            parts.append(found.fillna(0.0).to_numpy())
        if self.calendar:
            parts.append(_calendar(times, self.calendar))
        if len(self.static_columns):
            where = self.static_ids.get_indexer(pd.Index(ids))
            if (where < 0).any():
                unknown = list(pd.Index(ids)[where < 0].unique()[:3])
                raise ValueError(
                    f"No static covariates for series {unknown}; the forecaster knows "
                    "those of the series seen in fit only."
                )
            parts.append(self.static_values[where])
        return np.concatenate(parts, axis=1)  # (n, n_channels)

    def covers(
        self,
        table: pd.DataFrame | None,
        ids: pd.Index | None,
        cutoffs: pd.Index,
        freq: Any,
        prediction_length: int,
    ) -> bool:
        """Whether ``table`` holds ``X`` at every one of the ``prediction_length``
        steps after each of ``cutoffs`` (of the series ``ids``; None for one
        series); always True without ``X``."""
        if len(self.x_columns) == 0:
            return True
        steps = np.arange(1, prediction_length + 1)
        times = [future_index(c, freq, steps) for c in cutoffs]
        flat = times[0].append(times[1:])  # (N * H,)
        if ids is not None:
            flat = pd.MultiIndex.from_arrays([ids.repeat(prediction_length), flat])
        return bool(flat.isin(table.index).all())

    def windows(
        self,
        table: pd.DataFrame | None,
        ids: pd.Index | None,
        cutoffs: pd.Index,
        firsts: pd.Index | None,
        freq: Any,
        context_length: int,
        prediction_length: int,
        stored: np.ndarray | None,
        what: str,
    ) -> np.ndarray:
        """Covariates of shape (N, C + H, n_channels) of the forecast windows that
        end ``prediction_length`` (H) steps after ``cutoffs`` (of the series
        ``ids``; None for one series), on the grid of step ``freq``.

        ``firsts`` holds the first time point of each series, from which on ``X``
        (``table``) must cover the ``context_length`` (C) steps before each cutoff;
        None takes the context from ``stored``, the fitted covariates of the
        stored histories (shape (C, n_channels), or (N, C, n_channels) for a
        panel), so ``X`` need only cover the horizons. ``what`` names the rows in
        errors.
        """
        n_c, n_h = context_length, prediction_length
        before = 0 if firsts is None else n_c
        window = np.arange(1 - before, n_h + 1)  # context (if any), then horizon
        times = [future_index(c, freq, window) for c in cutoffs]
        flat = times[0].append(times[1:])  # (N * (before + H),)
        keys = None if ids is None else ids.repeat(before + n_h)
        required = None
        if firsts is not None:  # context rows of the series itself, and the horizon
            required = flat >= firsts.repeat(before + n_h)
        values = self.values(table, keys, flat, what, required)
        if required is not None:  # before a series starts: 0, as in the fitted state
            values[~required] = 0.0
        values = values.reshape(len(cutoffs), before + n_h, -1)  # (N, W', n_cov)
        if firsts is None:
            stored = stored if stored.ndim == 3 else stored[None]  # (N, C, n_cov)
            values = np.concatenate([stored, values], axis=1)
        return values


def covariates_at_rows(
    X: Any, static: Any, calendar: Any, grid: pd.Index, freq: Any
) -> tuple[CovariateSpec | None, np.ndarray | None]:
    """The covariates a forecaster learns in fit (:meth:`CovariateSpec.fit`) and
    their values, shape (T, n_covariates), at every row of the training grid
    ``grid`` (time points, or (series id, time) pairs of a panel); (None, None)
    without any."""
    panel = isinstance(grid, pd.MultiIndex)
    spec, table = CovariateSpec.fit(X, static, calendar, grid, freq, panel)
    if spec is None:
        return None, None
    if panel:
        ids, times = grid.get_level_values(0), grid.get_level_values(1)
    else:
        ids, times = None, grid
    return spec, spec.values(table, ids, times, "fit on y")


def _calendar_names(calendar: Any, grid: pd.Index) -> tuple[str, ...]:
    if calendar is None or calendar is False:
        return ()
    times = grid.get_level_values(-1) if isinstance(grid, pd.MultiIndex) else grid
    dated = isinstance(times, (pd.DatetimeIndex, pd.PeriodIndex))
    if calendar == "auto" and not dated:
        return ()  # "auto": the features an index without dates has, none
    if not dated:
        raise ValueError(
            "calendar features need a DatetimeIndex or PeriodIndex; y is indexed by "
            f"{type(times).__name__}. Set calendar=None."
        )
    if calendar == "auto":
        stamps = times.to_timestamp() if isinstance(times, pd.PeriodIndex) else times
        stamps = pd.Series(stamps)
        if isinstance(grid, pd.MultiIndex):  # the step within each series
            gaps = stamps.groupby(grid.get_level_values(0).to_numpy()).diff()
        else:
            gaps = stamps.diff()
        gaps = gaps.dropna()
        return default_calendar(gaps.median() if len(gaps) else pd.Timedelta(days=1))
    return tuple(calendar)


def _calendar(times: pd.Index, names: tuple) -> np.ndarray:
    """Sine and cosine of each calendar feature, shape (len(times), 2 * n)."""
    if isinstance(times, pd.PeriodIndex):
        times = times.to_timestamp()
    columns = []
    for name in names:
        period, value = CALENDAR_FEATURES[name]
        angle = 2 * np.pi * np.asarray(value(times), dtype=np.float64) / period
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1)


def _read_x(X: Any, freq: Any, panel: bool) -> pd.DataFrame:
    """``X`` validated, on its own (regular) rows, as a float DataFrame."""
    if not isinstance(X, (pd.DataFrame, pd.Series)):
        raise TypeError(
            "X must be a pandas DataFrame (or Series) indexed like y, so that its "
            f"rows can be matched to time points; got {type(X).__name__}."
        )
    arrays = to_arrays(_flags_as_numbers(X), freq=freq, name="X", panel=panel)
    frame = pd.DataFrame(
        arrays.values[arrays.rows], index=arrays.index, columns=arrays.columns
    )
    if frame.isna().any().any():
        bad = list(frame.columns[frame.isna().any()])
        raise ValueError(
            f"X has missing values in columns {bad}; covariates must be complete "
            "(fill them first)."
        )
    return frame


def _flags_as_numbers(frame: Any) -> Any:
    """``frame`` with its boolean columns as 0.0 / 1.0 (a covariate flag, such as
    a holiday, is a number to the network; a target variable stays refused)."""
    if isinstance(frame, pd.Series):
        return frame.astype(float) if is_bool_dtype(frame.dtype) else frame
    flags = [c for c in frame.columns if is_bool_dtype(frame[c].dtype)]
    return frame.astype(dict.fromkeys(flags, float)) if flags else frame


def _check_covered(table: pd.DataFrame, rows: pd.Index, name: str, what: str) -> None:
    missing = ~rows.isin(table.index)
    if missing.any():
        examples = list(rows[missing][:3])
        raise ValueError(
            f"{name} has no values at {int(missing.sum())} time points needed to "
            f"{what}, e.g. {examples}; covariates must cover them."
        )


def _read_static(static: Any, grid: pd.Index, panel: bool):
    if not panel:
        raise ValueError(
            "static covariates describe the series of a panel; y is a single series "
            "(pass its constant features as columns of X instead)."
        )
    if not isinstance(static, pd.DataFrame):
        raise TypeError(
            f"static must be a DataFrame indexed by series id; got "
            f"{type(static).__name__}."
        )
    arrays = to_arrays(_flags_as_numbers(static.reset_index(drop=True)), name="static")
    values = arrays.values  # (n_ids, n_static)
    if np.isnan(values).any():
        raise ValueError("static has missing values; fill them first.")
    ids = grid.get_level_values(0).unique()
    unknown = ids[~ids.isin(static.index)]
    if len(unknown):
        raise ValueError(
            f"static has no row for series {list(unknown[:3])} of y; give one row "
            "per series id."
        )
    if static.index.has_duplicates:
        raise ValueError("static has several rows for one series id.")
    center, scale = values.mean(axis=0), values.std(axis=0)
    scaled = (values - center) / np.where(scale > 0, scale, 1.0)
    return static.columns, pd.Index(static.index), scaled
