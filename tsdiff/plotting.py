"""Pictures of forecasts and imputations (matplotlib is imported only when plotting).

Both functions take the quantile frames the estimators return and draw every pair of
levels symmetric about 0.5 as one band, the bands nested with their opacity growing
inwards and the median on top. They draw into the axes given (or new ones), return
the axes and never call ``plt.show()``. A list of variables (or of series of a panel)
draws one panel of a grid each and returns an array of axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_forecast", "plot_imputation"]

_BAND = "tab:blue"


def plot_forecast(
    history: pd.DataFrame | pd.Series,
    quantiles: pd.DataFrame,
    *,
    variable: Any = None,
    series: Any = None,
    truth: pd.DataFrame | pd.Series | None = None,
    max_history: int | None = None,
    ax: Any = None,
) -> Any:
    """Draw a fan chart: the history, nested central intervals and the median.

    Parameters
    ----------
    history : DataFrame or Series
        Observed series (rows are time points; a ``(series id, time)`` panel for
        a panel forecast).
    quantiles : DataFrame
        Output of ``predict_quantiles``: columns ``MultiIndex(variable, quantile)``
        (rows ``(series id, time)`` for a panel). Every pair of levels symmetric
        about 0.5 is one band; the level 0.5, if present, is the median line.
    variable : object or list, default=None
        Variable to draw; a list draws one panel per variable. None takes the
        first variable.
    series : object or list, default=None
        For a panel: series id to draw; a list draws one panel per series. None
        takes the first series.
    truth : DataFrame or Series, optional
        The values that came true over the horizon, drawn as a dashed line.
    max_history : int or None, default=None
        Show only the last ``max_history`` rows of the history.
    ax : matplotlib Axes, optional
        Axes to draw into (one per panel of a grid); new ones when None.

    Returns
    -------
    matplotlib.axes.Axes, or ndarray of Axes for a grid

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> history = pd.Series([1.0, 2.0, 3.0], index=pd.RangeIndex(3), name="y")
    >>> q = pd.DataFrame(
    ...     [[2.5, 3.5, 4.5]], index=pd.Index([3]),
    ...     columns=pd.MultiIndex.from_product([["y"], [0.1, 0.5, 0.9]],
    ...                                        names=["variable", "quantile"]))
    >>> ax = plot_forecast(history, q)
    >>> len(ax.collections)  # one band: the 80 % interval
    1
    """
    return _draw_each(
        _forecast_panel, quantiles, variable, series, ax,
        history=history, truth=truth, max_history=max_history,
    )  # fmt: skip


def plot_imputation(
    data: pd.DataFrame | pd.Series,
    quantiles: pd.DataFrame,
    *,
    variable: Any = None,
    series: Any = None,
    ax: Any = None,
) -> Any:
    """Draw observed points and the imputed gaps of a series.

    A run of several missing time points is drawn as nested bands and the median,
    joined to the observations on either side; an isolated missing point as the
    median with error bars of the widest interval.

    Parameters
    ----------
    data : DataFrame or Series
        The input of the imputer, NaN where missing (a ``(series id, time)`` panel
        for a panel).
    quantiles : DataFrame
        Output of the imputer's ``predict_quantiles(data)``: columns
        ``MultiIndex(variable, quantile)``, the rows of ``data``.
    variable : object or list, default=None
        Variable to draw; a list draws one panel per variable. None takes the
        first variable.
    series : object or list, default=None
        For a panel: series id to draw; a list draws one panel per series.
    ax : matplotlib Axes, optional
        Axes to draw into (one per panel of a grid); new ones when None.

    Returns
    -------
    matplotlib.axes.Axes, or ndarray of Axes for a grid

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import pandas as pd
    >>> data = pd.Series([1.0, np.nan, np.nan, 4.0, np.nan, 6.0], name="y")
    >>> filled, spread = data.interpolate(), 0.5 * data.isna()
    >>> q = pd.DataFrame(
    ...     np.column_stack([filled - spread, filled, filled + spread]),
    ...     columns=pd.MultiIndex.from_product([["y"], [0.1, 0.5, 0.9]],
    ...                                        names=["variable", "quantile"]))
    >>> ax = plot_imputation(data, q)
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['observed', '80% interval', 'median']
    >>> len(ax.containers)  # the isolated gap: a point with error bars
    1

    A panel draws the series asked for, one panel each:

    >>> panel = pd.concat({"a": data.to_frame(), "b": 2 * data.to_frame()},
    ...                   names=["id", "time"])
    >>> quantiles = pd.concat({"a": q, "b": 2 * q}, names=["id", "time"])
    >>> axes = plot_imputation(panel, quantiles, series=["a", "b"])
    >>> [axis.get_title() for axis in axes]
    ['a: y', 'b: y']
    >>> plt.close("all")
    """
    return _draw_each(_imputation_panel, quantiles, variable, series, ax, data=data)


# -- grids --------------------------------------------------------------------------


def _draw_each(draw, quantiles, variable, series, ax, **data) -> Any:
    """Call ``draw`` for each (variable, series) asked for, on a grid if several."""
    variables = quantiles.columns.get_level_values("variable").unique()
    panel = isinstance(quantiles.index, pd.MultiIndex)
    ids = quantiles.index.get_level_values(0).unique() if panel else [None]
    chosen_vars = _choice(variable, variables, "variable")
    chosen_ids = _choice(series, ids, "series") if panel else [None]
    cells = [(v, s) for s in chosen_ids for v in chosen_vars]
    grid = isinstance(variable, list) or isinstance(series, list)
    axes = _axes(len(cells), ax)
    for (var, key), cell_ax in zip(cells, axes.ravel(), strict=True):
        draw(cell_ax, quantiles, var, key, **data)
        title = str(var) if key is None else f"{key}: {var}"
        cell_ax.set_title(title)
    return axes if grid else axes.ravel()[0]


def _choice(value: Any, known: pd.Index, what: str) -> list:
    if value is None:
        return [known[0]]
    chosen = value if isinstance(value, list) else [value]
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise ValueError(f"Unknown {what} {unknown}; known: {list(known)[:10]}.")
    return chosen


def _axes(n: int, ax: Any) -> np.ndarray:
    import matplotlib.pyplot as plt

    if ax is not None:
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
        if axes.size != n:
            raise ValueError(f"ax holds {axes.size} axes; {n} are needed.")
        return axes
    _, axes = plt.subplots(n, 1, figsize=(9, 3.2 * n), squeeze=False)
    return axes[:, 0]


def _select(frame: Any, key: Any) -> Any:
    """The rows of series ``key`` of a panel (the frame itself when None)."""
    if key is None:
        return frame
    return frame.xs(key, level=0)


def _column(frame: Any, variable: Any) -> pd.Series:
    return frame if isinstance(frame, pd.Series) else frame[variable]


# -- one panel ----------------------------------------------------------------------


def _bands(ax: Any, x: Any, band: pd.DataFrame, label: bool = True) -> None:
    """Nested bands of the symmetric level pairs (opacity growing inwards), then
    the median on top."""
    levels = np.asarray(band.columns, dtype=float)
    pairs = [(lo, 1 - lo) for lo in sorted(levels[levels < 0.5]) if 1 - lo in levels]
    for i, (lo, hi) in enumerate(pairs):  # outermost first
        ax.fill_between(
            x, band[lo].to_numpy(), band[hi].to_numpy(),
            color=_BAND, alpha=0.15 + 0.5 * (i + 1) / (len(pairs) + 1), lw=0,
            label=f"{hi - lo:.0%} interval" if label else None, zorder=2,
        )  # fmt: skip
    if 0.5 in levels:
        ax.plot(x, band[0.5].to_numpy(), color=_BAND, lw=1.5, zorder=4,
                label="median" if label else None)  # fmt: skip


def _forecast_panel(ax, quantiles, variable, key, *, history, truth, max_history):
    band = _select(quantiles, key)[variable]  # (H, Q)
    past = _column(_select(history, key), variable)
    if max_history is not None:
        past = past.iloc[-max_history:]
    ax.plot(_x(past.index), past.to_numpy(), color="black", lw=1, zorder=3,
            label="observed")  # fmt: skip
    _bands(ax, _x(band.index), band)
    if truth is not None:
        came = _column(_select(truth, key), variable)
        ax.plot(_x(came.index), came.to_numpy(), color="black", ls="--", lw=1,
                zorder=5, label="truth")  # fmt: skip
    ax.legend(loc="upper left")


def _imputation_panel(ax, quantiles, variable, key, *, data):
    values = _column(_select(data, key), variable)
    band = _select(quantiles, key)[variable]  # (T, Q)
    x = _x(values.index)
    missing = values.isna().to_numpy()
    ax.plot(x[~missing], values.to_numpy()[~missing], "o", color="black", ms=3,
            zorder=3, label="observed")  # fmt: skip
    levels = np.asarray(band.columns, dtype=float)
    first = True
    for start, stop in _runs(missing):
        if stop - start == 1:  # an isolated gap: error bars of the widest interval
            mid = band[0.5].iloc[start] if 0.5 in levels else band.iloc[start].mean()
            lo, hi = band[levels.min()].iloc[start], band[levels.max()].iloc[start]
            ax.errorbar(x[start], mid, yerr=[[mid - lo], [hi - mid]], fmt="s",
                        color=_BAND, ms=4, capsize=3, zorder=4)  # fmt: skip
            continue
        # Joined to the observations on either side (their quantiles are the value).
        span = slice(max(start - 1, 0), min(stop + 1, len(values)))
        _bands(ax, x[span], band.iloc[span], label=first)
        first = False
    ax.legend(loc="upper left")


def _runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of True."""
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _x(index: pd.Index) -> Any:
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
