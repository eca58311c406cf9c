"""Conversion between user data and arrays: the only module below the estimators that
touches pandas.

Inputs (a DataFrame or Series indexed by time, or a 1-D/2-D ndarray; NaN marks a
missing value) become a :class:`SeriesArrays` bundle on a regular time grid: missing
timestamps are inserted as all-missing rows so that every step of a window is one step
of the frequency.
Outputs (filled data, quantiles, intervals) are built back in the user's layout.
"""

from __future__ import annotations

import itertools
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

__all__ = [
    "SeriesArrays",
    "check_same_columns",
    "future_index",
    "interval_frame",
    "quantile_frame",
    "to_arrays",
    "to_output",
]


@dataclass(frozen=True)
class SeriesArrays:
    """One series as arrays on a regular time grid.

    Attributes
    ----------
    values : ndarray of shape (T, K), float64
        Values on the grid; NaN where not observed.
    observed_mask : ndarray of shape (T, K), bool
        True where a value is present.
    grid_index : pandas.Index of length T
        The regular time grid (the input index with missing timestamps inserted).
    rows : ndarray of shape (n_rows,), int64
        Position on the grid of each row of the input, in input order.
    columns : pandas.Index of length K
        Variable names (a RangeIndex for arrays).
    freq : pandas.DateOffset, int or None
        Grid step: an offset for datetime/period indexes, an integer step for integer
        indexes, None when the index carries no time (then the grid is the rows).
    kind : {"frame", "series", "array"}
        Container type of the input, so outputs can be returned in the same type.
    dtype : numpy.dtype
        Floating dtype for outputs (the input's if floating, else float64).
    index : pandas.Index
        The input's own row index (a RangeIndex for arrays).
    name : object
        The name of an input Series (None otherwise).
    bounds : ndarray of shape (n_series + 1,), int64, or None
        For a panel (several series stacked along the time axis), series ``i`` holds
        grid rows ``bounds[i]:bounds[i + 1]``; None for a single series.
    """

    values: np.ndarray
    observed_mask: np.ndarray
    grid_index: pd.Index
    rows: np.ndarray
    columns: pd.Index
    freq: Any
    kind: str
    dtype: np.dtype
    index: pd.Index
    name: Any = None
    bounds: np.ndarray | None = None

    @property
    def n_steps(self) -> int:
        """Length T of the regular grid."""
        return self.values.shape[0]

    @property
    def segments(self) -> list[slice]:
        """Grid rows of each series: one slice per series (one for a single series)."""
        if self.bounds is None:
            return [slice(0, self.n_steps)]
        return [slice(a, b) for a, b in itertools.pairwise(self.bounds)]


def to_arrays(
    data: Any, *, freq: Any = None, name: str = "X", panel: bool = False
) -> SeriesArrays:
    """Validate user data and convert it to arrays on a regular time grid.

    Parameters
    ----------
    data : DataFrame, Series or ndarray of shape (T,) or (T, K)
        Rows are time steps, columns are variables; NaN marks a missing value.
        With ``panel=True`` a DataFrame may also carry a two-level
        ``MultiIndex`` ``(series id, time)``: a panel of several series with the
        same variables, each put on its own regular grid and stacked along time.
    freq : str, DateOffset or None, default=None
        Frequency of a datetime/period index; inferred when None.
    name : str, default="X"
        Name of the argument, used in error messages.
    panel : bool, default=False
        Whether a ``(series id, time)`` MultiIndex is accepted.

    Returns
    -------
    SeriesArrays

    Raises
    ------
    TypeError
        Unsupported container, non-numeric or complex values.
    ValueError
        Empty data, infinite values, duplicated or unsorted timestamps, timestamps
        that do not lie on one regular grid.
    """
    kind, frame = _as_frame(data, name)
    _check_values(frame, name)
    if isinstance(frame.index, pd.MultiIndex):
        if not panel:
            raise ValueError(
                f"{name} has a MultiIndex; this estimator takes a single series "
                "indexed by time (select one series first)."
            )
        return _panel_arrays(frame, freq, name, kind, getattr(data, "name", None))
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)  # (n_rows, K)
    dtype = _output_dtype(frame)
    grid_index, rows, step = _regular_grid(frame.index, freq, name)
    grid = np.full((len(grid_index), values.shape[1]), np.nan)  # (T, K)
    grid[rows] = values
    return SeriesArrays(
        values=grid,
        observed_mask=~np.isnan(grid),
        grid_index=grid_index,
        rows=rows,
        columns=frame.columns,
        freq=step,
        kind=kind,
        dtype=dtype,
        index=frame.index,
        name=data.name if isinstance(data, pd.Series) else None,
    )


def _panel_arrays(
    frame: pd.DataFrame, freq: Any, name: str, kind: str, series_name: Any
) -> SeriesArrays:
    """Stack the series of a ``(series id, time)`` panel on one grid axis."""
    index = frame.index
    if index.nlevels != 2:
        raise ValueError(
            f"The index of {name} has {index.nlevels} levels; a panel needs exactly "
            "two: (series id, time)."
        )
    ids = index.get_level_values(0)
    if ids.hasnans:
        raise ValueError(f"The series ids (first index level) of {name} contain NaN.")
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)  # (n_rows, K)
    times = index.get_level_values(1)
    groups = pd.Series(np.arange(len(frame))).groupby(ids.to_numpy(), sort=False)
    grids, blocks, bounds = [], [], [0]
    rows = np.empty(len(frame), dtype=np.int64)
    steps = set()
    for key, positions in groups.indices.items():
        label = f"{name} (series {key!r})"
        grid, grid_rows, step = _regular_grid(times[positions], freq, label)
        if len(positions) > 1 and step is not None:
            steps.add(step)
        block = np.full((len(grid), values.shape[1]), np.nan)  # (T_i, K)
        block[grid_rows] = values[positions]
        rows[positions] = bounds[-1] + grid_rows
        grids.append((key, grid))
        blocks.append(block)
        bounds.append(bounds[-1] + len(grid))
    if len(steps) > 1:
        raise ValueError(
            f"The series of {name} have different frequencies "
            f"({sorted(map(_freq_str, steps))}); pass `freq` or resample them alike."
        )
    grid_index = pd.MultiIndex.from_arrays(
        [
            pd.Index([key for key, _ in grids]).repeat([len(g) for _, g in grids]),
            grids[0][1].append([g for _, g in grids[1:]]),
        ],
        names=index.names,
    )
    grid_values = np.concatenate(blocks)  # (sum T_i, K)
    return SeriesArrays(
        values=grid_values,
        observed_mask=~np.isnan(grid_values),
        grid_index=grid_index,
        rows=rows,
        columns=frame.columns,
        freq=steps.pop() if steps else None,
        kind=kind,
        dtype=_output_dtype(frame),
        index=index,
        name=series_name if kind == "series" else None,
        bounds=np.asarray(bounds, dtype=np.int64),
    )


def _as_frame(data: Any, name: str) -> tuple[str, pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        return "frame", data
    if isinstance(data, pd.Series):
        return "series", data.to_frame(name=0 if data.name is None else data.name)
    if isinstance(data, (pd.Index, str, bytes, dict)) or not hasattr(data, "__len__"):
        raise TypeError(
            f"{name} must be a pandas DataFrame, a pandas Series or a 2-D array; "
            f"got {type(data).__name__}."
        )
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} could not be read as an array: {err}") from err
    if array.ndim == 1:
        array = array[:, None]  # (T,) -> (T, 1)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D or 2-D (time steps x variables); got an array with "
            f"{array.ndim} dimensions."
        )
    if array.dtype.kind not in "biuf" and array.dtype != object:
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}.")
    return "array", pd.DataFrame(array)


def _check_values(frame: pd.DataFrame, name: str) -> None:
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(
            f"{name} is empty: got {frame.shape[0]} time steps and {frame.shape[1]} "
            "variables; at least one of each is required."
        )
    if frame.columns.has_duplicates:
        dup = list(frame.columns[frame.columns.duplicated()].unique())
        raise ValueError(f"{name} has duplicated column names: {dup}.")
    complex_cols = [c for c in frame.columns if is_complex_dtype(frame[c].dtype)]
    if complex_cols:
        raise TypeError(f"{name} has complex-valued columns {complex_cols}.")
    bad = [
        c
        for c in frame.columns
        if not is_numeric_dtype(frame[c].dtype) or is_bool_dtype(frame[c].dtype)
    ]
    bad = [c for c in bad if not _object_numeric(frame[c])]
    if bad:
        raise TypeError(
            f"{name} has non-numeric columns {bad}; tsdiff models numeric variables "
            "only (encode or drop these columns first)."
        )
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        cols = [
            c
            for c, col in zip(frame.columns, values.T, strict=True)
            if np.isinf(col).any()
        ]
        raise ValueError(
            f"{name} contains infinite values in columns {cols}; use NaN for missing "
            "values."
        )


def _object_numeric(column: pd.Series) -> bool:
    """True for an object column holding only real numbers or missing values."""
    if column.dtype != object:
        return False
    return all(
        v is None
        or (
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, bool)
        )
        for v in column.to_numpy()
    )


def _output_dtype(frame: pd.DataFrame) -> np.dtype:
    dtypes = {np.dtype(d) for d in frame.dtypes if isinstance(d, np.dtype)}
    if dtypes == {np.dtype(np.float32)}:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _regular_grid(index: pd.Index, freq: Any, name: str) -> tuple[pd.Index, Any, Any]:
    """Return the regular grid, the grid row of each input row, and the grid step."""
    n = len(index)
    if isinstance(index, pd.RangeIndex):
        step = index.step if n > 1 else 1
        if step < 0:
            raise ValueError(f"The index of {name} must be increasing.")
        return index, np.arange(n), step
    is_time = isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex))
    if not is_time and not pd.api.types.is_integer_dtype(index.dtype):
        if index.has_duplicates:
            raise ValueError(f"The index of {name} has duplicated labels.")
        return index, np.arange(n), None
    _check_order(index, name)
    if isinstance(index, pd.PeriodIndex):
        step = index.freq if freq is None else pd.tseries.frequencies.to_offset(freq)
        grid = pd.period_range(index[0], index[-1], freq=step)
    elif isinstance(index, pd.DatetimeIndex):
        step = _datetime_step(index, freq, name)
        if step is None:
            return index, np.arange(n), None
        grid = pd.date_range(index[0], index[-1], freq=step, name=index.name)
    else:
        step = _integer_step(index)
        grid = pd.Index(np.arange(index[0], index[-1] + 1, step), name=index.name)
    rows = grid.get_indexer(index)
    if (rows < 0).any():
        off = list(index[rows < 0][:3])
        raise ValueError(
            f"The timestamps of {name} do not lie on one regular grid of frequency "
            f"{_freq_str(step)} (e.g. {off}); pass `freq` explicitly or resample."
        )
    return grid, rows, step


def _check_order(index: pd.Index, name: str) -> None:
    if index.hasnans:
        raise ValueError(f"The index of {name} contains missing timestamps (NaT).")
    if index.has_duplicates:
        dup = list(index[index.duplicated()].unique()[:3])
        raise ValueError(f"The index of {name} has duplicated timestamps, e.g. {dup}.")
    if not index.is_monotonic_increasing:
        raise ValueError(
            f"The index of {name} is not sorted in increasing time order; sort it "
            "first (e.g. `X.sort_index()`)."
        )


def _datetime_step(index: pd.DatetimeIndex, freq: Any, name: str) -> Any:
    if freq is not None:
        try:
            return pd.tseries.frequencies.to_offset(freq)
        except ValueError as err:
            raise ValueError(f"freq={freq!r} is not a valid frequency: {err}") from err
    if index.freq is not None:
        return index.freq
    if len(index) < 2:
        return None
    inferred = _infer_freq(index)
    if inferred is not None:
        return inferred
    # Gaps in the timestamps: infer the frequency on short stretches (most of which
    # hold no gap), so calendar frequencies such as business days or month starts are
    # recognised; fall back to the most common spacing. _regular_grid then checks that
    # every timestamp lies on the grid (a stray timestamp is an error, not a reason to
    # use a finer grid).
    votes = Counter(
        _infer_freq(index[start : start + 8])
        for start in range(0, min(len(index) - 2, 800), 4)
    )
    votes.pop(None, None)
    if votes:
        return votes.most_common(1)[0][0]
    spacings = pd.Series(index[1:] - index[:-1]).value_counts()
    return pd.tseries.frequencies.to_offset(spacings.idxmax())


def _infer_freq(index: pd.DatetimeIndex) -> Any:
    """pandas' inferred frequency as an offset, or None (pandas 2 and 3 alike)."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        # pandas 3.1 announces that infer_freq will return offsets; both work here.
        warnings.simplefilter("ignore")
        inferred = pd.infer_freq(index)
    return None if inferred is None else pd.tseries.frequencies.to_offset(inferred)


def _integer_step(index: pd.Index) -> int:
    if len(index) < 2:
        return 1
    spacings, counts = np.unique(
        np.diff(index.to_numpy().astype(np.int64)), return_counts=True
    )
    return int(spacings[counts.argmax()])


def _freq_str(step: Any) -> str:
    return getattr(step, "freqstr", str(step))


def check_same_columns(
    arrays: SeriesArrays, columns: pd.Index, n_features: int, name: str
) -> None:
    """Raise ValueError when new data has other variables than the data seen in fit.

    Parameters
    ----------
    arrays : SeriesArrays
        The converted new data.
    columns : pandas.Index
        Variable names seen in fit.
    n_features : int
        Number of variables seen in fit.
    name : str
        Argument name for the message.
    """
    got = arrays.values.shape[1]
    if got != n_features:
        raise ValueError(
            f"{name} has {got} variables, but the estimator was fitted with "
            f"{n_features}."
        )
    if arrays.kind == "frame" and not isinstance(columns, pd.RangeIndex):
        if not arrays.columns.equals(columns):
            missing = [c for c in columns if c not in arrays.columns]
            extra = [c for c in arrays.columns if c not in columns]
            detail = (
                f"missing {missing}, unexpected {extra}"
                if missing or extra
                else "same names in another order"
            )
            raise ValueError(
                f"The columns of {name} differ from those seen in fit ({detail}); "
                f"expected {list(columns)}."
            )


def to_output(values: np.ndarray, arrays: SeriesArrays) -> Any:
    """Return grid values in the same container, index and dtype as the input.

    Parameters
    ----------
    values : ndarray of shape (T, K)
        Values on the grid of ``arrays``.
    arrays : SeriesArrays
        The converted input the values belong to.

    Returns
    -------
    DataFrame, Series or ndarray of shape (n_rows, K)
        Only the input's own rows (inserted grid rows are dropped), in input order.
    """
    rows = values[arrays.rows].astype(arrays.dtype, copy=False)  # (n_rows, K)
    if arrays.kind == "array":
        return rows
    frame = pd.DataFrame(rows, index=arrays.index, columns=arrays.columns)
    if arrays.kind == "series":
        return frame.iloc[:, 0].rename(arrays.name)
    return frame


def quantile_frame(
    quantiles: np.ndarray, index: pd.Index, columns: pd.Index, alpha: tuple
) -> pd.DataFrame:
    """Build the quantile-labelled output frame.

    Parameters
    ----------
    quantiles : ndarray of shape (Q, T, K)
        Quantile values, in the order of ``alpha``.
    index : pandas.Index of length T
        Row labels (time points).
    columns : pandas.Index of length K
        Variable names.
    alpha : tuple of float of length Q
        Quantile levels.

    Returns
    -------
    DataFrame
        Columns ``MultiIndex.from_product([columns, alpha], names=["variable",
        "quantile"])`` with float quantile labels, variable-major.
    """
    n_q, n_t, n_k = quantiles.shape
    table = quantiles.transpose(1, 2, 0).reshape(n_t, n_k * n_q)  # (T, K*Q)
    cols = pd.MultiIndex.from_product(
        [list(columns), [float(a) for a in alpha]], names=["variable", "quantile"]
    )
    return pd.DataFrame(table, index=index, columns=cols)


def interval_frame(
    lower: np.ndarray,
    upper: np.ndarray,
    index: pd.Index,
    columns: pd.Index,
    coverage: tuple,
) -> pd.DataFrame:
    """Build the prediction-interval output frame.

    Parameters
    ----------
    lower, upper : ndarray of shape (C, T, K)
        Interval bounds for each coverage.
    index : pandas.Index of length T
        Row labels.
    columns : pandas.Index of length K
        Variable names.
    coverage : tuple of float of length C
        Nominal coverages.

    Returns
    -------
    DataFrame
        Columns ``(variable, coverage, "lower"|"upper")`` named
        ``["variable", "coverage", "bound"]``.
    """
    n_c, n_t, n_k = lower.shape
    bounds = np.stack([lower, upper], axis=-1)  # (C, T, K, 2)
    table = bounds.transpose(1, 2, 0, 3).reshape(n_t, n_k * n_c * 2)  # (T, K*C*2)
    cols = pd.MultiIndex.from_product(
        [list(columns), [float(c) for c in coverage], ["lower", "upper"]],
        names=["variable", "coverage", "bound"],
    )
    return pd.DataFrame(table, index=index, columns=cols)


def future_index(last: Any, step: Any, steps: np.ndarray, name: Any = None) -> pd.Index:
    """Index of the time points ``steps`` grid steps after ``last``.

    Parameters
    ----------
    last : Timestamp, Period or int
        The last time point of the history (the cutoff).
    step : DateOffset or int
        Grid step.
    steps : ndarray of shape (H,), int
        Relative steps (1 = the next time point).
    name : object, default=None
        Name of the returned index.

    Returns
    -------
    pandas.Index of length H
    """
    if isinstance(last, pd.Period):
        return pd.PeriodIndex([last + int(h) for h in steps], name=name)
    if isinstance(last, pd.Timestamp):
        horizon = pd.date_range(last, periods=int(steps.max()) + 1, freq=step)
        return pd.DatetimeIndex(horizon[steps], name=name)
    return pd.Index([int(last) + int(h) * int(step) for h in steps], name=name)
