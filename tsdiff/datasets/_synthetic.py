"""Synthetic series whose true predictive distributions are known in closed form.

``make_seasonal_ar`` draws K independent series ``y_t = s(t) + x_t``: a fixed
sinusoidal season ``s`` plus a stationary Gaussian AR(1) ``x_t = phi x_{t-1} +
noise * eps_t``. Values are hidden completely at random. Because the AR(1) is Markov
and the observed values carry no measurement noise, the law of a hidden or future
value given everything observed depends only on the nearest observed values before
and after it, and is Gaussian with the moments below (Brockwell and Davis (1991),
*Time Series: Theory and Methods*, Sec. 3.3 and 5.1):

* forecast ``d`` steps past the last observed ``x_a``: mean ``phi^d x_a``, variance
  ``v (1 - phi^(2d))`` with ``v = noise^2 / (1 - phi^2)``;
* a gap between observed ``x_a`` and ``x_b`` (``d1 = t - a``, ``d2 = b - t``,
  ``D = d1 + d2``): mean ``(phi^d1 (1 - phi^(2 d2)) x_a + phi^d2 (1 - phi^(2 d1))
  x_b) / (1 - phi^(2D))``, variance ``v (1 - phi^(2 d1)) (1 - phi^(2 d2)) / (1 -
  phi^(2D))``;
* before the first observed value the same as a forecast, backwards in time (the
  process is time-reversible); with nothing observed, ``N(0, v)``.

Scoring a model against these gives its distance from the best possible forecast or
imputation, not just from one realised path.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

__all__ = ["SyntheticData", "make_seasonal_ar"]


@dataclass(frozen=True)
class SyntheticData:
    """Seasonal AR(1) panel with its ground truth; see :func:`make_seasonal_ar`.

    Attributes
    ----------
    observed : DataFrame of shape (n_steps, n_series)
        ``truth`` with the hidden cells set to NaN.
    truth : DataFrame of shape (n_steps, n_series)
        The complete series.
    seasonal : DataFrame of shape (n_steps, n_series)
        The deterministic part ``s(t)`` (``truth - seasonal`` is the AR(1) part).
    phi, noise, period, amplitude, level : float
        The generating parameters.
    phases : ndarray of shape (n_series,)
        Phase of each series' season, in radians.

    Examples
    --------
    >>> from tsdiff.datasets import make_seasonal_ar
    >>> data = make_seasonal_ar(n_steps=48, n_series=2, random_state=0)
    >>> data.phi, data.noise, data.period
    (0.7, 0.5, 24.0)
    >>> data.truth.where(data.observed.notna()).equals(data.observed)
    True
    >>> ar = data.truth - data.seasonal  # the AR(1) part, centred on 0
    >>> ar.shape
    (48, 2)
    """

    observed: pd.DataFrame
    truth: pd.DataFrame
    seasonal: pd.DataFrame
    phi: float
    noise: float
    period: float
    amplitude: float
    level: float
    phases: np.ndarray

    def _season(self, steps: np.ndarray) -> np.ndarray:
        return _season(steps, self.period, self.phases, self.amplitude, self.level)

    @property
    def _var(self) -> float:
        return self.noise**2 / (1 - self.phi**2)

    def true_forecast(
        self, horizon: int, history: pd.DataFrame | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Mean and standard deviation of the next ``horizon`` values.

        Parameters
        ----------
        horizon : int
            Number of future steps.
        history : DataFrame, default=None
            The data conditioned on: a leading slice of ``observed`` (e.g.
            ``observed.iloc[:-24]``, to score forecasts against ``truth``). None uses
            all of ``observed``.

        Returns
        -------
        mean, std : DataFrame of shape (horizon, n_series)
            Indexed by the ``horizon`` time points after ``history``; columns as
            ``observed``.

        Examples
        --------
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> data = make_seasonal_ar(n_steps=48, n_series=2, random_state=0)
        >>> mean, std = data.true_forecast(3)
        >>> mean.index.strftime("%Y-%m-%d %H:%M").tolist()
        ['2024-01-03 00:00', '2024-01-03 01:00', '2024-01-03 02:00']
        >>> std["y0"].round(3).tolist()  # noise first, towards sqrt(v) = 0.700
        [0.5, 0.61, 0.658]

        Given a leading slice, the forecast can be scored against ``truth``;
        here ``y1`` lacks its last value, so its forecast starts two steps out:

        >>> mean, std = data.true_forecast(2, history=data.observed.iloc[:-1])
        >>> std["y1"].round(3).tolist()
        [0.61, 0.658]
        """
        history = self.observed if history is None else history
        n = len(history)
        if horizon < 1 or not history.index.equals(self.observed.index[:n]):
            raise ValueError(
                "horizon must be >= 1 and history a leading slice of `observed` "
                "(same columns, the first rows)"
            )
        values = history.to_numpy(np.float64)
        x = values - self.seasonal.to_numpy()[:n]
        present = ~np.isnan(values)
        last = np.where(present.any(0), n - 1 - np.argmax(present[::-1], 0), -1)  # (K,)
        x_last = np.where(last >= 0, x[np.maximum(last, 0), np.arange(x.shape[1])], 0.0)
        steps = np.arange(n, n + horizon)
        lag = steps[:, None] - last  # (H, K)
        decay = np.where(last >= 0, self.phi ** lag.astype(float), 0.0)
        mean = self._season(steps) + decay * x_last
        std = np.sqrt(self._var * (1 - decay**2))
        index = pd.date_range(
            history.index[-1], periods=horizon + 1, freq=self.observed.index.freq
        )[1:].rename(self.observed.index.name)
        return (
            pd.DataFrame(mean, index=index, columns=self.observed.columns),
            pd.DataFrame(std, index=index, columns=self.observed.columns),
        )

    def true_imputation(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Mean and standard deviation of every cell given all observed cells.

        Returns
        -------
        mean, std : DataFrame of shape (n_steps, n_series)
            Index and columns of ``observed``; observed cells have their value as
            mean and a standard deviation of 0.

        Examples
        --------
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> data = make_seasonal_ar(n_steps=48, n_series=2, random_state=0)
        >>> mean, std = data.true_imputation()
        >>> gaps = data.observed["y0"].isna()
        >>> gaps[gaps].index.strftime("%d %H:%M").tolist()
        ['01 04:00', '01 23:00', '02 01:00', '02 02:00']
        >>> std["y0"][gaps].round(3).tolist()  # a gap of two is less certain
        [0.41, 0.41, 0.464, 0.464]
        >>> float(std["y0"][~gaps].max())  # observed cells are known exactly
        0.0
        >>> mean.where(data.observed.notna()).equals(data.observed)
        True
        """
        values = self.observed.to_numpy(np.float64)
        x = values - self.seasonal.to_numpy()
        present = ~np.isnan(values)
        n, k = values.shape
        t = np.arange(n)[:, None].repeat(k, 1)
        prev = np.maximum.accumulate(np.where(present, t, -1), axis=0)  # last obs <= t
        nxt = np.minimum.accumulate(np.where(present, t, n)[::-1], axis=0)[::-1]
        cols = np.arange(k)
        x_prev = np.where(prev >= 0, x[np.maximum(prev, 0), cols], 0.0)
        x_next = np.where(nxt < n, x[np.minimum(nxt, n - 1), cols], 0.0)
        # phi^d with d = inf (no observation on that side) -> 0
        a = np.where(prev >= 0, self.phi ** (t - prev).astype(float), 0.0)
        b = np.where(nxt < n, self.phi ** (nxt - t).astype(float), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            denom = 1 - (a * b) ** 2
            mean_x = (a * (1 - b**2) * x_prev + b * (1 - a**2) * x_next) / denom
            var = self._var * (1 - a**2) * (1 - b**2) / denom
        mean = np.where(present, values, self.seasonal.to_numpy() + mean_x)
        std = np.where(present, 0.0, np.sqrt(np.where(present, 0.0, var)))
        frame = dict(index=self.observed.index, columns=self.observed.columns)
        return pd.DataFrame(mean, **frame), pd.DataFrame(std, **frame)

    def true_forecast_quantiles(
        self, levels, horizon: int, history: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Quantiles of the true forecast distribution (see :meth:`true_forecast`).

        Returns
        -------
        DataFrame of shape (horizon, n_series * len(levels))
            Columns ``MultiIndex(variable, quantile)``, variable-major: the layout of
            ``DiffusionForecaster.predict_quantiles``.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> data = make_seasonal_ar(n_steps=48, n_series=2, random_state=0)
        >>> q = data.true_forecast_quantiles([0.1, 0.5, 0.9], horizon=2)
        >>> q.shape
        (2, 6)
        >>> q.columns.tolist()[:3]
        [('y0', 0.1), ('y0', 0.5), ('y0', 0.9)]
        >>> mean, std = data.true_forecast(2)
        >>> bool(np.allclose(q.xs(0.5, axis=1, level="quantile"), mean))
        True
        >>> (q["y0", 0.9] - q["y0", 0.1]).round(2).tolist()  # 2 * 1.2816 * std
        [1.28, 1.56]
        """
        return _quantiles(*self.true_forecast(horizon, history), levels)

    def true_imputation_quantiles(self, levels) -> pd.DataFrame:
        """Quantiles of the true imputation distribution (see :meth:`true_imputation`).

        Returns
        -------
        DataFrame of shape (n_steps, n_series * len(levels))
            Columns ``MultiIndex(variable, quantile)``, variable-major: the layout of
            ``DiffusionImputer.predict_quantiles``; observed cells repeat their value.

        Examples
        --------
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> data = make_seasonal_ar(n_steps=48, n_series=2, random_state=0)
        >>> q = data.true_imputation_quantiles([0.05, 0.95])
        >>> q.shape
        (48, 4)
        >>> width = q["y1", 0.95] - q["y1", 0.05]
        >>> int((width > 0).sum()), int(data.observed["y1"].isna().sum())
        (6, 6)
        """
        return _quantiles(*self.true_imputation(), levels)


def _season(steps, period, phases, amplitude, level) -> np.ndarray:
    """s(t) at integer steps (0 = first row), shape (len(steps), n_series)."""
    angle = 2 * np.pi * np.asarray(steps, float)[:, None] / period + phases
    return level + amplitude * np.sin(angle)


def _quantiles(mean: pd.DataFrame, std: pd.DataFrame, levels) -> pd.DataFrame:
    levels = [float(q) for q in np.atleast_1d(levels)]
    if not all(0 < q < 1 for q in levels):
        raise ValueError(f"quantile levels must lie in (0, 1); got {levels}")
    z = np.array([NormalDist().inv_cdf(q) for q in levels])  # (Q,)
    table = mean.to_numpy()[:, :, None] + std.to_numpy()[:, :, None] * z  # (T, K, Q)
    columns = pd.MultiIndex.from_product(
        [list(mean.columns), levels], names=["variable", "quantile"]
    )
    return pd.DataFrame(table.reshape(len(mean), -1), index=mean.index, columns=columns)


def make_seasonal_ar(
    n_steps: int = 1000,
    n_series: int = 3,
    *,
    period: float = 24,
    phi: float = 0.7,
    noise: float = 0.5,
    amplitude: float = 1.0,
    level: float = 0.0,
    missing_rate: float = 0.1,
    start: str = "2024-01-01",
    freq: str = "h",
    random_state: int | np.random.Generator | None = None,
) -> SyntheticData:
    """Independent seasonal Gaussian AR(1) series with values missing at random.

    ``y[t, k] = level + amplitude * sin(2 pi t / period + phase_k) + x[t, k]`` with
    ``x[t, k] = phi x[t-1, k] + noise * e[t, k]``, ``e`` i.i.d. N(0, 1), ``x[0, k]``
    drawn from the stationary law N(0, noise^2 / (1 - phi^2)) and phases uniform on
    [0, 2 pi). Each cell is then hidden independently with probability
    ``missing_rate``.

    Parameters
    ----------
    n_steps, n_series : int, default=1000, 3
        Shape of the panel.
    period : float, default=24
        Season length in steps.
    phi : float, default=0.7
        AR(1) coefficient, ``|phi| < 1``.
    noise : float, default=0.5
        Innovation standard deviation, > 0.
    amplitude, level : float, default=1.0, 0.0
        Season amplitude and constant level.
    missing_rate : float, default=0.1
        Probability, in [0, 1), that a cell is hidden.
    start, freq : str, default="2024-01-01", "h"
        First timestamp and step of the DatetimeIndex.
    random_state : int, numpy Generator or None, default=None
        Seed for ``numpy.random.default_rng``; no global state is used.

    Returns
    -------
    SyntheticData
        ``observed`` and ``truth`` DataFrames of shape (n_steps, n_series), index a
        DatetimeIndex named ``"time"`` with ``freq`` set, columns ``y0, y1, ...``
        named ``"variable"``; plus the parameters and the methods
        ``true_forecast``, ``true_forecast_quantiles``, ``true_imputation`` and
        ``true_imputation_quantiles``, which give the exact conditional
        distributions.

    Examples
    --------
    >>> from tsdiff.datasets import make_seasonal_ar
    >>> data = make_seasonal_ar(n_steps=48, n_series=2, random_state=0)
    >>> data.observed.shape, data.observed.index.freqstr
    ((48, 2), 'h')
    >>> data.observed.index[0], data.observed.columns.tolist()
    (Timestamp('2024-01-01 00:00:00'), ['y0', 'y1'])
    >>> data.observed.isna().sum().tolist()  # each cell hidden with probability 0.1
    [4, 6]
    >>> bool(data.truth.notna().all().all())
    True
    """
    if n_steps < 1 or n_series < 1:
        raise ValueError("n_steps and n_series must be >= 1")
    if not (abs(phi) < 1 and noise > 0 and period > 0 and 0 <= missing_rate < 1):
        raise ValueError(
            "need |phi| < 1, noise > 0, period > 0 and 0 <= missing_rate < 1"
        )
    rng = np.random.default_rng(random_state)
    phases = rng.uniform(0, 2 * np.pi, n_series)
    eps = rng.standard_normal((n_steps, n_series))
    x = np.empty((n_steps, n_series))
    x[0] = eps[0] * noise / np.sqrt(1 - phi**2)
    for t in range(1, n_steps):
        x[t] = phi * x[t - 1] + noise * eps[t]
    hidden = rng.random((n_steps, n_series)) < missing_rate
    index = pd.date_range(start, periods=n_steps, freq=freq, name="time")
    columns = pd.Index([f"y{k}" for k in range(n_series)], name="variable")
    season = _season(np.arange(n_steps), period, phases, amplitude, level)
    truth = season + x
    return SyntheticData(
        observed=pd.DataFrame(
            np.where(hidden, np.nan, truth), index=index, columns=columns
        ),
        truth=pd.DataFrame(truth, index=index, columns=columns),
        seasonal=pd.DataFrame(season, index=index, columns=columns),
        phi=float(phi),
        noise=float(noise),
        period=float(period),
        amplitude=float(amplitude),
        level=float(level),
        phases=phases,
    )
