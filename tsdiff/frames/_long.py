"""Long format: one row per (series id, time) with the ids and times in columns, the
layout of Nixtla's libraries and of most database exports, to and from the
``(series id, time)`` panels that the estimators read."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["from_long", "to_long"]


def from_long(
    df: pd.DataFrame,
    id_col: Hashable,
    time_col: Hashable,
    value_cols: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Turn a long table into a panel indexed by ``(series id, time)``.

    Parameters
    ----------
    df : DataFrame of shape (n_rows, n_columns)
        One row per series and time point, in any order; not modified.
    id_col, time_col : hashable
        Columns holding the series id and the time stamp (datetimes, periods or
        integers; strings are not parsed: convert them with ``pd.to_datetime``
        first).
    value_cols : sequence of hashable, optional
        Columns to keep as variables, in this order; default every other column.

    Returns
    -------
    panel : DataFrame of shape (n_rows, n_values)
        Indexed by a ``MultiIndex`` named ``(id_col, time_col)``, sorted by series
        (in order of first appearance) and then by time; what ``DiffusionImputer``
        takes as a panel.

    Raises
    ------
    TypeError
        If ``df`` is not a DataFrame, a column name is not hashable, or
        ``value_cols`` is a single string.
    ValueError
        If a named column is missing, ``value_cols`` lists the id or time
        column, ``id_col`` equals ``time_col``, no value column is left, an id or
        time is missing, or a (series id, time) pair occurs twice.

    See Also
    --------
    to_long : The inverse.

    Examples
    --------
    >>> long = pd.DataFrame({"store": ["a", "a", "b"], "day": [1, 2, 1],
    ...                      "sales": [3.0, None, 5.0]})
    >>> panel = from_long(long, "store", "day")
    >>> panel.index.tolist(), panel["sales"].tolist()
    ([('a', 1), ('a', 2), ('b', 1)], [3.0, nan, 5.0])
    """
    keys, values = _check_long(df, id_col, time_col, value_cols)
    return _sorted_panel(df, keys, values)[0]


def _check_long(
    df: pd.DataFrame, id_col: Hashable, time_col: Hashable, value_cols: Any
) -> tuple[list, list]:
    """The key and value columns of a long table, after the checks of
    :func:`from_long`."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"from_long expects a DataFrame, got {type(df).__name__}")
    for arg, value in (("id_col", id_col), ("time_col", time_col)):
        if not isinstance(value, Hashable):
            raise TypeError(f"{arg} must name one column; got {value!r}.")
    if isinstance(value_cols, str):
        raise TypeError(
            f"value_cols must be a sequence of column names; got the string "
            f"{value_cols!r} (write [{value_cols!r}])."
        )
    if id_col == time_col:
        raise ValueError(f"id_col and time_col are both {id_col!r}; name two columns.")
    keys = [id_col, time_col]
    values = (
        [c for c in df.columns if c not in keys]
        if value_cols is None
        else list(value_cols)
    )
    if any(c in keys for c in values):
        raise ValueError(
            f"value_cols {values} include the id or time column {keys}; list only "
            "the variables."
        )
    missing = [c for c in (*keys, *values) if c not in df.columns]
    if missing:
        raise ValueError(
            f"Columns {missing} are not in the DataFrame; its columns are "
            f"{list(df.columns)}."
        )
    if not values:
        raise ValueError("No value columns are left besides the id and time columns.")
    for name in keys:
        if df[name].isna().any():
            raise ValueError(
                f"Column {name!r} has missing values; every row needs one."
            )
    duplicated = df.duplicated(subset=keys)
    if duplicated.any():
        first = df.loc[duplicated, keys].iloc[0].tolist()
        raise ValueError(
            f"{int(duplicated.sum())} rows repeat a ({id_col!r}, {time_col!r}) pair, "
            f"e.g. {first}; aggregate them first."
        )
    return keys, values


def _sorted_panel(
    df: pd.DataFrame, keys: list, values: list
) -> tuple[pd.DataFrame, np.ndarray]:
    """The checked long table ``df`` as a panel, and the panel row of each of its
    rows (shape (n_rows,))."""
    series = pd.Index(pd.unique(df[keys[0]]))  # in order of first appearance
    panel = df[[*keys, *values]].assign(
        _series=series.get_indexer(df[keys[0]]), _row=np.arange(len(df))
    )
    panel = panel.sort_values(["_series", keys[1]], kind="stable")
    source = panel["_row"].to_numpy()  # panel row j is long row source[j]
    panel = panel.drop(columns=["_series", "_row"]).set_index(keys)
    return panel, np.argsort(source)


def long_columns(id_col: Hashable, time_col: Hashable) -> tuple | None:
    """``(id_col, time_col)`` of a long table given to ``fit``, or None for
    neither; one without the other is an error.

    Examples
    --------
    >>> from tsdiff.frames import long_columns
    >>> long_columns("id", "ds"), long_columns(None, None)
    (('id', 'ds'), None)
    >>> long_columns("id", None)
    Traceback (most recent call last):
    ...
    ValueError: Pass both id_col and time_col for a long table, or neither.
    """
    if (id_col is None) != (time_col is None):
        raise ValueError("Pass both id_col and time_col for a long table, or neither.")
    return None if id_col is None else (id_col, time_col)


def long_panel(
    df: pd.DataFrame, id_col: Hashable, time_col: Hashable
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`from_long` of every other column, and the panel row of each row of
    ``df`` (to put results back in the order of the long table).

    Examples
    --------
    >>> import pandas as pd
    >>> from tsdiff.frames import long_panel
    >>> df = pd.DataFrame({"id": ["b", "a", "b"], "t": [2, 1, 1], "y": [3.0, 1.0, 2.0]})
    >>> panel, rows = long_panel(df, "id", "t")
    >>> panel.index.tolist()  # series as they first appear, each in time order
    [('b', 1), ('b', 2), ('a', 1)]
    >>> rows.tolist()  # where each row of df went
    [1, 2, 0]
    """
    return _sorted_panel(df, *_check_long(df, id_col, time_col, None))


def to_long(panel: pd.DataFrame) -> pd.DataFrame:
    """Turn a ``(series id, time)`` panel, or an estimator's output for one, into a
    long table.

    Parameters
    ----------
    panel : DataFrame
        Indexed by a two-level ``MultiIndex`` (series id, time); not modified.
        Plain columns (variables) stay columns, so ``to_long(from_long(df, ...))``
        gives the rows of ``df`` back. ``MultiIndex`` columns, such as those of
        ``predict_quantiles`` ``(variable, quantile)`` or ``predict_interval``
        ``(variable, coverage, bound)``, become one row per cell: a column per
        column level, named by the level names, and a ``value`` column.

    Returns
    -------
    long : DataFrame
        The index levels as the first columns (named by the index names, "id" and
        "time" where unnamed), then the values; a fresh ``RangeIndex``.

    Raises
    ------
    TypeError
        If ``panel`` is not a DataFrame.
    ValueError
        If its index does not have exactly two levels, or an index level and a
        column (or column level, or ``value``) share a name.

    See Also
    --------
    from_long : The inverse for plain columns.

    Examples
    --------
    >>> index = pd.MultiIndex.from_tuples([("a", 1), ("b", 1)], names=["id", "t"])
    >>> q = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=index,
    ...                  columns=pd.MultiIndex.from_tuples(
    ...                      [("y", 0.1), ("y", 0.9)], names=["variable", "quantile"]))
    >>> to_long(q)
      id  t variable  quantile  value
    0  a  1        y       0.1    1.0
    1  a  1        y       0.9    2.0
    2  b  1        y       0.1    3.0
    3  b  1        y       0.9    4.0
    """
    if not isinstance(panel, pd.DataFrame):
        raise TypeError(f"to_long expects a DataFrame, got {type(panel).__name__}")
    if panel.index.nlevels != 2:
        raise ValueError(
            f"to_long expects a (series id, time) MultiIndex; the index has "
            f"{panel.index.nlevels} level(s)."
        )
    names = [
        name if name is not None else default
        for name, default in zip(panel.index.names, ("id", "time"), strict=True)
    ]
    frame = panel.rename_axis(index=names)
    new = names + (
        list(frame.columns)
        if frame.columns.nlevels == 1
        else [*_level_names(frame.columns), "value"]
    )
    if len(set(new)) < len(new):
        raise ValueError(
            f"to_long would make columns {new}, some of them twice; rename the "
            "index levels or the columns first."
        )
    if frame.columns.nlevels == 1:
        return frame.reset_index()
    levels = _level_names(frame.columns)
    # (rows, columns) -> one row per cell: every column level becomes a column.
    cells = frame.stack(list(range(frame.columns.nlevels)), future_stack=True)
    return cells.rename("value").rename_axis(index=[*names, *levels]).reset_index()


def _level_names(columns: Any) -> list:
    """Column level names, "level_i" where a level is unnamed."""
    return [
        name if name is not None else f"level_{i}"
        for i, name in enumerate(columns.names)
    ]
