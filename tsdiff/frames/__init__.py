"""Conversion between user data and arrays: the only package below the estimators that
touches pandas.

Inputs (a DataFrame or Series indexed by time, or a 1-D/2-D ndarray; NaN marks a
missing value) become a :class:`SeriesArrays` bundle on a regular time grid: missing
timestamps are inserted as all-missing rows so that every step of a window is one step
of the frequency.
Outputs (filled data, quantiles, intervals) are built back in the user's layout.

Modules: ``_read`` (:func:`to_arrays`, :func:`check_same_columns`), ``_validate``
(container and value checks, output dtype), ``_grid`` (regular grid and frequency
inference), ``_panel`` (``(series id, time)`` panels), ``_arrays``
(:class:`SeriesArrays`), ``_output`` (frames and containers in the user's layout) and
``_long`` (long tables to and from panels: :func:`from_long`, :func:`to_long`),
``_nixtla`` (forecast frames in Nixtla's columns: :func:`to_nixtla`), ``_seasons``
(steps per day, week and year of a grid: :func:`seasonal_periods`) and ``_horizon``
(forecasting horizons as relative steps: :func:`horizon_steps`).
"""

from tsdiff.frames._arrays import SeriesArrays
from tsdiff.frames._grid import own_step
from tsdiff.frames._horizon import horizon_steps, index_kind
from tsdiff.frames._long import from_long, long_columns, long_panel, to_long
from tsdiff.frames._nixtla import to_nixtla
from tsdiff.frames._output import (
    backtest_index,
    future_index,
    interval_frame,
    quantile_frame,
    to_output,
)
from tsdiff.frames._read import check_same_columns, to_arrays
from tsdiff.frames._seasons import seasonal_periods

__all__ = [
    "SeriesArrays",
    "backtest_index",
    "check_same_columns",
    "from_long",
    "future_index",
    "horizon_steps",
    "index_kind",
    "interval_frame",
    "long_columns",
    "long_panel",
    "own_step",
    "quantile_frame",
    "seasonal_periods",
    "to_arrays",
    "to_long",
    "to_nixtla",
    "to_output",
]
