"""Fan charts of quantile forecasts (matplotlib is imported only when plotting)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_forecast"]


def plot_forecast(
    history: pd.DataFrame | pd.Series,
    quantiles: pd.DataFrame,
    *,
    variable: Any = None,
    max_history: int | None = None,
    ax: Any = None,
) -> Any:
    """Draw a fan chart: the history, the median and shaded central intervals.

    Parameters
    ----------
    history : DataFrame or Series
        Observed series (rows are time points).
    quantiles : DataFrame
        Output of ``predict_quantiles``: columns ``MultiIndex(variable, quantile)``.
        Every pair of levels symmetric about 0.5 is shaded as one band.
    variable : object, default=None
        Variable to draw; None takes the first one.
    max_history : int or None, default=None
        Show only the last ``max_history`` rows of the history.
    ax : matplotlib Axes or None, default=None
        Axes to draw into; a new figure is made when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if variable is None:
        variable = quantiles.columns.get_level_values("variable")[0]
    band = quantiles[variable]  # (H, Q), columns are the levels
    levels = np.asarray(band.columns, dtype=float)
    past = history if isinstance(history, pd.Series) else history[variable]
    if max_history is not None:
        past = past.iloc[-max_history:]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    ax.plot(_x(past.index), past.to_numpy(), color="black", lw=1, label="observed")
    pairs = [(lo, 1 - lo) for lo in sorted(levels[levels < 0.5]) if 1 - lo in levels]
    for i, (lo, hi) in enumerate(pairs):
        ax.fill_between(
            _x(band.index),
            band[lo].to_numpy(),
            band[hi].to_numpy(),
            color="tab:blue",
            alpha=0.15 + 0.15 * i,
            lw=0,
            label=f"{hi - lo:.0%} interval",
        )
    if 0.5 in levels:
        ax.plot(_x(band.index), band[0.5].to_numpy(), color="tab:blue", label="median")
    ax.set_title(str(variable))
    ax.legend(loc="upper left")
    return ax


def _x(index: pd.Index) -> Any:
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
