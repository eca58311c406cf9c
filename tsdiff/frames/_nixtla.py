"""Nixtla's column convention (statsforecast, neuralforecast, mlforecast): one row
per series and time stamp, ``unique_id`` and ``ds`` columns, the point forecast in a
column named after the model and central intervals in ``<model>-lo-<level>`` and
``<model>-hi-<level>`` (level in percent)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["to_nixtla"]


def to_nixtla(frame: pd.DataFrame, model: str = "tsdiff") -> pd.DataFrame:
    """Turn a quantile or interval frame into Nixtla's forecast columns.

    Parameters
    ----------
    frame : DataFrame
        Output of ``predict_quantiles`` (columns ``(variable, quantile)``; every
        pair of levels symmetric about 0.5 becomes an interval, the level 0.5 the
        point forecast) or of ``predict_interval`` (columns ``(variable,
        coverage, bound)``; no point column). Rows: time points, ``(series id,
        time)`` for a panel, or a backtest's ``(cutoff, [series id,] time)``. Not
        modified.
    model : str, default="tsdiff"
        Model name used in the column names.

    Returns
    -------
    DataFrame
        Columns ``unique_id``, ``ds``, ``cutoff`` (for a backtest, as in Nixtla's
        cross-validation output), then ``model`` (if the median is there) and the
        bounds in statsforecast's order: ``model-lo-L`` from the widest coverage L
        (in percent) inwards, then ``model-hi-L`` from the narrowest outwards.
        ``unique_id`` is the variable for a single series, the series id for a
        panel of one variable, and ``"<series id>/<variable>"`` for a panel of
        several.

    Raises
    ------
    TypeError
        If ``frame`` is not a DataFrame.
    ValueError
        If its columns are not those of a quantile or interval frame, or no
        level pairs up into an interval.

    Examples
    --------
    >>> q = pd.DataFrame(
    ...     [[1.0, 2.0, 3.0]], index=pd.Index([5], name="t"),
    ...     columns=pd.MultiIndex.from_product([["y"], [0.1, 0.5, 0.9]],
    ...                                        names=["variable", "quantile"]))
    >>> to_nixtla(q, model="CSDI")
      unique_id  ds  CSDI  CSDI-lo-80  CSDI-hi-80
    0         y   5   2.0         1.0         3.0
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"to_nixtla expects a DataFrame, got {type(frame).__name__}")
    names = list(frame.columns.names)
    if names == ["variable", "quantile"]:
        bounds = _from_quantiles(frame)
    elif names == ["variable", "coverage", "bound"]:
        bounds = _from_intervals(frame)
    else:
        raise ValueError(
            "to_nixtla takes the output of predict_quantiles (columns variable, "
            f"quantile) or predict_interval (variable, coverage, bound); got columns "
            f"named {names}."
        )
    index = frame.index
    levels = list(index.names) if isinstance(index, pd.MultiIndex) else [index.name]
    cutoffs = None
    if levels[0] == "cutoff":  # a backtest: (cutoff, [series id,] time)
        cutoffs = index.get_level_values(0)
        index = index.droplevel(0)
    if index.nlevels > 2:
        raise ValueError(
            f"to_nixtla takes rows (time), (series id, time) or a backtest's "
            f"(cutoff, [series id,] time); got index levels {levels}."
        )
    panel = index.nlevels == 2
    variables = frame.columns.get_level_values("variable").unique()
    parts = []
    for variable in variables:
        rows = pd.DataFrame(index=range(len(frame)))
        if panel:
            ids = index.get_level_values(0)
            if len(variables) > 1:
                ids = [f"{i}/{variable}" for i in ids]
            rows["unique_id"] = np.asarray(ids, dtype=object)
            rows["ds"] = index.get_level_values(-1)
        else:
            rows["unique_id"] = variable
            rows["ds"] = index
        if cutoffs is not None:
            rows["cutoff"] = cutoffs
        for suffix, values in bounds(variable):
            rows[model + suffix] = values
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def _percent(coverage: float) -> str:
    value = round(100 * coverage, 6)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _from_quantiles(frame: pd.DataFrame):
    levels = sorted({float(v) for v in frame.columns.get_level_values("quantile")})
    pairs = [
        (lo, hi) for lo in levels if lo < 0.5 for hi in levels if np.isclose(hi, 1 - lo)
    ]
    if not pairs:
        raise ValueError(
            f"The quantile levels {levels} hold no pair symmetric about 0.5, so no "
            "interval; ask predict_quantiles for e.g. alpha=(0.1, 0.5, 0.9)."
        )

    def bounds(variable):
        block = frame[variable]
        out = [("", block[0.5].to_numpy())] if 0.5 in levels else []
        lows = [(f"-lo-{_percent(hi - lo)}", block[lo].to_numpy()) for lo, hi in pairs]
        highs = [(f"-hi-{_percent(hi - lo)}", block[hi].to_numpy()) for lo, hi in pairs]
        return out + lows + highs[::-1]  # lo-95, lo-80, hi-80, hi-95

    return bounds


def _from_intervals(frame: pd.DataFrame):
    coverages = sorted(
        {float(c) for c in frame.columns.get_level_values("coverage")}, reverse=True
    )

    def bounds(variable):
        block = frame[variable]
        lows = [(f"-lo-{_percent(c)}", block[(c, "lower")]) for c in coverages]
        highs = [(f"-hi-{_percent(c)}", block[(c, "upper")]) for c in coverages]
        ordered = lows + highs[::-1]  # widest low first, widest high last
        return [(suffix, values.to_numpy()) for suffix, values in ordered]

    return bounds
