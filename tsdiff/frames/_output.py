"""Results out, in the user's layout: filled data in the input's container, quantile
and interval frames, and the index of future time points."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsdiff.frames._arrays import SeriesArrays


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
        Only the input's own rows (inserted grid rows are dropped), in input order;
        an ndarray of shape (N, T, K) for a panel given as one.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.frames import to_arrays, to_output
    >>> days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-04"])
    >>> X = pd.DataFrame({"a": [1.0, np.nan, 3.0]}, index=days)
    >>> arrays = to_arrays(X)
    >>> arrays.n_steps  # the grid holds the inserted 2024-01-03
    4
    >>> to_output(np.array([[1.0], [2.0], [2.5], [3.0]]), arrays)
                  a
    2024-01-01  1.0
    2024-01-02  2.0
    2024-01-04  3.0

    A Series comes back as a Series of its name, an (N, T, K) array as one:

    >>> y = to_arrays(pd.Series([1, 2, 3], name="y"))
    >>> to_output(y.values + 0.5, y).tolist(), to_output(y.values, y).name
    ([1.5, 2.5, 3.5], 'y')
    >>> panel = to_arrays(np.zeros((2, 3, 1)), panel=True)
    >>> to_output(panel.values, panel).shape
    (2, 3, 1)
    """
    rows = values[arrays.rows].astype(arrays.dtype, copy=False)  # (n_rows, K)
    if arrays.kind == "array":
        if arrays.bounds is not None:  # (N * T, K) -> (N, T, K)
            return rows.reshape(len(arrays.bounds) - 1, -1, rows.shape[1])
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

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.frames import quantile_frame
    >>> quantiles = np.arange(12.0).reshape(3, 2, 2)  # (Q=3, T=2, K=2)
    >>> frame = quantile_frame(quantiles, pd.Index([10, 11], name="t"),
    ...                        pd.Index(["a", "b"]), (0.1, 0.5, 0.9))
    >>> list(frame.columns.names), frame.columns.tolist()[:4]
    (['variable', 'quantile'], [('a', 0.1), ('a', 0.5), ('a', 0.9), ('b', 0.1)])
    >>> frame["a"].to_numpy().tolist()  # variable a: one row per time point
    [[0.0, 4.0, 8.0], [2.0, 6.0, 10.0]]
    >>> frame.index.name, frame[("b", 0.5)].tolist()
    ('t', [5.0, 7.0])
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

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.frames import interval_frame
    >>> lower = np.zeros((2, 3, 1))  # (C=2, T=3, K=1)
    >>> upper = lower + np.array([1.0, 2.0])[:, None, None]
    >>> frame = interval_frame(lower, upper, pd.RangeIndex(3), pd.Index(["y"]),
    ...                        (0.5, 0.9))
    >>> list(frame.columns.names)
    ['variable', 'coverage', 'bound']
    >>> frame.columns.tolist()
    [('y', 0.5, 'lower'), ('y', 0.5, 'upper'), ('y', 0.9, 'lower'), ('y', 0.9, 'upper')]
    >>> frame[("y", 0.9, "upper")].tolist()
    [2.0, 2.0, 2.0]
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
        Relative steps: 1 is the next time point, 0 the cutoff itself, negative
        steps lie before it (a window of history and horizon).
    name : object, default=None
        Name of the returned index.

    Returns
    -------
    pandas.Index of length H

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.frames import future_index
    >>> month_ends = future_index(pd.Timestamp("2024-01-31"), pd.offsets.MonthEnd(),
    ...                           np.array([1, 2, 3]))
    >>> month_ends.strftime("%Y-%m-%d").tolist()
    ['2024-02-29', '2024-03-31', '2024-04-30']
    >>> window = future_index(pd.Timestamp("2024-01-05"), pd.offsets.Day(),
    ...                       np.array([-1, 0, 1]), name="date")
    >>> window.name, window.strftime("%m-%d").tolist(), window.freqstr
    ('date', ['01-04', '01-05', '01-06'], 'D')
    >>> future_index(pd.Period("2024Q4", freq="Q"), None, np.array([1, 2])).tolist()
    [Period('2025Q1', 'Q-DEC'), Period('2025Q2', 'Q-DEC')]
    >>> future_index(100, 10, np.array([1, 2, 3])).tolist()  # integer time
    [110, 120, 130]
    """
    steps = np.asarray(steps, dtype=np.int64)
    if isinstance(last, pd.Period):
        return pd.PeriodIndex([last + int(h) for h in steps], name=name)
    if isinstance(last, pd.Timestamp):
        first, final = min(int(steps.min()), 0), max(int(steps.max()), 0)
        before = (  # ..., last (some offsets cannot build a range of one)
            pd.date_range(end=last, periods=1 - first, freq=step)
            if first < 0
            else pd.DatetimeIndex([last])
        )
        after = pd.date_range(last, periods=final + 1, freq=step)[1:]
        times = pd.DatetimeIndex(before.append(after)[steps - first], name=name)
        return _with_freq(times, step, steps)
    return pd.Index([int(last) + int(h) * int(step) for h in steps], name=name)


def _with_freq(times: pd.DatetimeIndex, step: Any, steps: np.ndarray):
    """``times`` with a frequency where rows taken by position from a regular index
    keep one: the grid's step for one point, the step times the spacing for evenly
    spaced steps; none for uneven ones, nor where pandas finds that the times do
    not follow it (an offset such as ``DateOffset(months=1)`` clips days, so k
    single steps need not be one k-fold step)."""
    spacings = np.unique(np.diff(steps))  # steps are sorted and unique
    if len(steps) == 1:
        freq = step
    elif len(spacings) == 1:
        freq = step * int(spacings[0])
    else:
        return times
    try:
        return pd.DatetimeIndex(times, freq=freq)
    except ValueError:  # the values do not conform to freq
        return times


def backtest_index(
    cutoffs: pd.Index,
    step: Any,
    steps: np.ndarray,
    ids: pd.Index | None = None,
    names: tuple = (None, None),
) -> pd.MultiIndex:
    """Rows ``(cutoff, time)`` of a backtest (``(cutoff, series id, time)`` for a
    panel): for every cutoff, the time points ``steps`` grid steps after it.

    Parameters
    ----------
    cutoffs : pandas.Index of length N
        The last time point of each history.
    step : DateOffset or int
        Grid step.
    steps : ndarray of shape (H,), int
        Relative steps (1 = the next time point).
    ids : pandas.Index of length N, optional
        The series of each history, for a panel.
    names : tuple of (id name, time name), default=(None, None)
        Names of a panel's index levels; the time level of a single series is
        named after ``cutoffs``.

    Returns
    -------
    pandas.MultiIndex of length N * H
        Cutoff-major, levels named ``("cutoff", [id name,] time name)``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.frames import backtest_index
    >>> rows = backtest_index(pd.Index([5, 7], name="t"), 1, np.array([1, 2]))
    >>> list(rows.names), rows.tolist()
    (['cutoff', 't'], [(5, 6), (5, 7), (7, 8), (7, 9)])

    For a panel, each cutoff belongs to one series:

    >>> rows = backtest_index(pd.Index([5, 7]), 1, np.array([1, 2]),
    ...                       ids=pd.Index(["a", "b"]), names=("store", "day"))
    >>> list(rows.names), rows.tolist()
    (['cutoff', 'store', 'day'], [(5, 'a', 6), (5, 'a', 7), (7, 'b', 8), (7, 'b', 9)])
    """
    times = [future_index(cutoff, step, steps) for cutoff in cutoffs]
    levels = [cutoffs.repeat(len(steps)), times[0].append(times[1:])]
    if ids is None:
        return pd.MultiIndex.from_arrays(levels, names=["cutoff", cutoffs.name])
    levels.insert(1, ids.repeat(len(steps)))
    return pd.MultiIndex.from_arrays(levels, names=["cutoff", *names])
