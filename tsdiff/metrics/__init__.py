"""Scores for probabilistic forecasts and imputations (numpy; pandas only to unpack).

Shared conventions:

* ``y_true`` (ndarray, Series or DataFrame, any shape D) holds the targets; NaN means
  "not evaluated". An optional boolean ``mask`` of shape D (True = evaluate) is
  combined with that rule. Entries never evaluated do not influence any result.
* A probabilistic ``prediction`` is samples, an ndarray of shape ``(S, *D)`` with the
  sample axis first, or a frame as tsdiff returns it: ``predict_quantiles`` (columns
  ``(variable, quantile)``) or ``predict_interval`` (``(variable, coverage, bound)``),
  rows aligned positionally with a ``y_true`` of shape ``(T, K)`` (a DataFrame
  ``y_true`` must have the frame's variables and index). Levels a metric needs are
  read from the frame; an interval of coverage c gives levels (1 - c)/2, (1 + c)/2.
* Inputs are never modified; results are floats; bad input raises ValueError or
  TypeError naming the argument.

References: Gneiting & Raftery (2007), JASA 102; Ferro (2014), QJRMS 140; Zamo &
Naveau (2018), Math. Geosci. 50; Hyndman & Koehler (2006), IJF 22; Tashiro et al.
(2021), CSDI, NeurIPS; Alexandrov et al. (2020), GluonTS, JMLR 21.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsdiff.metrics._inputs import (
    _finite,
    _interval,
    _median,
    _normalise,
    _numeric,
    _options,
    _quantiles,
)

__all__ = [
    "QUANTILE_LEVELS",
    "coverage",
    "crps",
    "crps_sum",
    "interval_score",
    "mae",
    "mase",
    "rmse",
    "wql",
]

#: The 19 levels 0.05, 0.10, ..., 0.95 of CSDI's and GluonTS's "CRPS".
QUANTILE_LEVELS: tuple[float, ...] = tuple(round(k * 0.05, 2) for k in range(1, 20))
_POINT = ("samples", "point forecast", "quantile frame")


def crps(y_true: Any, samples: Any, *, fair: bool = False, mask: Any = None) -> float:
    """Sample CRPS in the energy form (Gneiting & Raftery 2007, eq. 21).

    Mean over evaluated entries of ``E|X - y| - 1/2 E|X - X'|``, X and X' drawn from
    the entry's S samples. With sorted samples ``x_(1) <= ... <= x_(S)``,
    ``1/2 E|X - X'| = sum_i (2i - S - 1) x_(i) / S**2`` (O(S log S)), the CRPS of the
    empirical distribution. ``fair=True`` divides by ``S(S - 1)`` instead of ``S**2``:
    the unbiased estimator of Ferro (2014) and Zamo & Naveau (2018).

    Parameters
    ----------
    y_true : array-like of shape D
    samples : ndarray of shape ``(S, *D)``
        Samples only (no frames); ``fair=True`` needs S >= 2.
    fair : bool, default=False
    mask : bool array of shape D, optional

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.metrics import crps

    Two samples -1 and 1 around a target 0: ``E|X - y| = 1``, ``E|X - X'| = 1``.

    >>> y, samples = np.array([0.0]), np.array([[-1.0], [1.0]])  # (S=2, T=1)
    >>> crps(y, samples), crps(y, samples, fair=True)
    (0.5, 0.0)

    Standard normal samples; the exact CRPS of N(0, 1) at 0 is 0.234:

    >>> samples = np.random.default_rng(0).normal(size=(1000, 50))  # (S, T)
    >>> round(crps(np.zeros(50), samples), 3)
    0.236
    """
    y, m, _, pred = _normalise(y_true, samples, mask, ("samples",), "crps")
    x = np.sort(_finite(pred[:, m]), axis=0)  # (S, n)
    n_s = x.shape[0]
    if fair and n_s < 2:
        raise ValueError("crps with fair=True needs at least 2 samples; got 1.")
    half_spread = (2.0 * np.arange(1, n_s + 1) - n_s - 1) @ x  # (n,)
    spread_term = half_spread / (n_s * (n_s - 1) if fair else n_s**2)
    return float((np.abs(x - y[m]).mean(axis=0) - spread_term).mean())


def wql(
    y_true: Any,
    prediction: Any,
    *,
    quantile_levels: Sequence[float] = QUANTILE_LEVELS,
    method: str = "linear",
    mask: Any = None,
) -> float:
    """Weighted quantile loss: the "CRPS" reported by CSDI and GluonTS.

    ``mean_q 2 sum |(q_hat - y)(1{y <= q_hat} - q)| / sum |y|``, sums over evaluated
    entries: CSDI's ``calc_quantile_CRPS`` (Tashiro et al. 2021) and GluonTS's
    ``mean_wQuantileLoss``. For a point forecast p (``q_hat = p`` at levels
    symmetric about 0.5, such as the default) it equals ``sum |y - p| / sum |y|``.

    Parameters
    ----------
    y_true : array-like of shape D
    prediction : ndarray of shape ``(S, *D)`` or quantile frame with every level
    quantile_levels : sequence of float in [0, 1], default=QUANTILE_LEVELS
    method : str, default="linear"
        Quantiles of samples (ignored for a frame). "linear": numpy's default, equal
        to ``torch.quantile`` as used by CSDI. "gluonts": the order statistic
        ``sorted(x)[round((S - 1) q)]``, rounding half to even, as
        ``SampleForecast.quantile`` in awslabs/gluonts ``src/gluonts/model/forecast.py``
        (equal to numpy's "nearest"). Other ``numpy.quantile`` methods are accepted.
    mask : bool array of shape D, optional

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.metrics import wql

    A single sample is a point forecast: ``sum |y - p| / sum |y| = 2 / 6``.

    >>> round(wql(np.array([2.0, 4.0]), np.array([[1.0, 5.0]])), 3)
    0.333

    A quantile frame (as from ``predict_quantiles``) must hold every level asked:

    >>> import pandas as pd
    >>> from tsdiff.frames import quantile_frame
    >>> quantiles = np.array([[8.0, 19.0], [11.0, 21.0], [14.0, 22.0]])[..., None]
    >>> frame = quantile_frame(quantiles, pd.RangeIndex(2), pd.Index(["y"]),
    ...                        (0.1, 0.5, 0.9))  # (Q=3, T=2, K=1)
    >>> y = np.array([10.0, 20.0])
    >>> round(wql(y, frame, quantile_levels=[0.1, 0.5, 0.9]), 3)
    0.042
    >>> wql(y, frame)  # the default QUANTILE_LEVELS 0.05, 0.1, ..., 0.95
    Traceback (most recent call last):
    ...
    ValueError: The prediction quantile frame lacks quantile levels [0.05, 0.15, ...].
    """
    levels, method = _options(quantile_levels, method)
    kinds = ("samples", "quantile frame")
    y, m, kind, pred = _normalise(y_true, prediction, mask, kinds, "wql")
    return _wql(y[m], _quantiles(kind, pred, m, levels, method), levels)


def crps_sum(
    y_true: Any,
    prediction: Any,
    *,
    quantile_levels: Sequence[float] = QUANTILE_LEVELS,
    method: str = "linear",
    mask: Any = None,
) -> float:
    """:func:`wql` of the sums over variables (last axis) per time step (CSDI).

    ``y_t = sum_k m_tk y_tk`` and, per sample, ``x_t = sum_k m_tk x_tk`` (m: the
    evaluation mask, so unevaluated entries count as 0); steps with no evaluated
    entry are dropped. Equals CSDI's ``calc_quantile_CRPS_sum`` (ermongroup/CSDI
    ``utils.py``) when each step is evaluated for all variables or none, as in its
    forecasting benchmarks; for partly evaluated steps CSDI sums all variables
    (missing ones zero-filled) and weights the step by its evaluated fraction.

    Parameters
    ----------
    y_true : array-like of shape (..., K)
    prediction : ndarray of shape (S, ..., K)
        Samples only: a sum of quantiles is not a quantile of the sum, so quantile
        frames raise TypeError.
    quantile_levels, method : as in :func:`wql`
    mask : bool array of shape (..., K), optional

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.metrics import crps_sum, wql
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(4, 3)) + 5.0  # (T, K)
    >>> samples = y + rng.normal(size=(100, 4, 3))  # (S, T, K)
    >>> round(crps_sum(y, samples), 4)
    0.0291

    With every entry evaluated it is :func:`wql` of the sums over variables:

    >>> bool(np.isclose(crps_sum(y, samples), wql(y.sum(axis=-1),
    ...                                           samples.sum(axis=-1))))
    True
    >>> crps_sum(y[:, 0], samples[..., 0])
    Traceback (most recent call last):
    ...
    ValueError: crps_sum needs y_true with a variable axis (last); got 1-D.
    """
    levels, method = _options(quantile_levels, method)
    y, m, _, pred = _normalise(y_true, prediction, mask, ("samples",), "crps_sum")
    if y.ndim < 2:
        raise ValueError("crps_sum needs y_true with a variable axis (last); got 1-D.")
    y_sum = np.where(m, y, 0.0).sum(axis=-1)  # (...,)
    x_sum = np.where(m, pred, 0.0).sum(axis=-1)  # (S, ...)
    steps = m.any(axis=-1)
    q = _quantiles("samples", x_sum, steps, levels, method)  # (Q, n_steps)
    return _wql(y_sum[steps], q, levels)


def mae(y_true: Any, prediction: Any, *, mask: Any = None) -> float:
    """Mean absolute error of the median, ``mean |median - y|`` over evaluated entries.

    Parameters
    ----------
    y_true : array-like of shape D
    prediction : ndarray of shape ``(S, *D)`` or D, or quantile frame with level 0.5
        Samples (``numpy.median``, which averages the middle pair for even S, where
        CSDI's ``torch.median`` takes the lower value), a point forecast used as is,
        or a quantile frame.
    mask : bool array of shape D, optional

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.metrics import mae

    NaN in ``y_true`` is not evaluated, so the point forecast 100.0 is ignored:

    >>> mae(np.array([1.0, np.nan, 3.0]), np.array([2.0, 100.0, 3.0]))
    0.5

    Samples (S=2) are scored by their median, here [0.5, 3.0, 3.0]:

    >>> mae(np.array([1.0, 2.0, 3.0]), np.array([[0.0, 2.0, 3.0], [1.0, 4.0, 3.0]]))
    0.5
    """
    y, m, kind, pred = _normalise(y_true, prediction, mask, _POINT, "mae")
    return float(np.abs(_median(kind, pred, m) - y[m]).mean())


def rmse(y_true: Any, prediction: Any, *, mask: Any = None) -> float:
    """Root mean squared error of the median, ``sqrt(mean (median - y)**2)``.

    Parameters
    ----------
    y_true, prediction, mask : as in :func:`mae`

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.metrics import mae, rmse
    >>> y = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])  # NaN: not evaluated
    >>> point = np.array([[1.0, 2.0], [4.0, 0.0], [5.0, 8.0]])  # errors 0, 0, 1, 0, 2
    >>> rmse(y, point), mae(y, point)  # a large error weighs more in rmse
    (1.0, 0.6)
    >>> rmse(y, point, mask=np.array([[True, True], [True, True], [True, False]]))
    0.5
    """
    y, m, kind, pred = _normalise(y_true, prediction, mask, _POINT, "rmse")
    return float(np.sqrt(np.square(_median(kind, pred, m) - y[m]).mean()))


def coverage(
    y_true: Any, prediction: Any, *, coverage: float = 0.9, mask: Any = None
) -> float:
    """Share of evaluated entries in the central interval, ``mean 1{l <= y <= u}``.

    ``l`` and ``u`` are the quantiles at levels (1 - c)/2 and (1 + c)/2.

    Parameters
    ----------
    y_true : array-like of shape D
    prediction : ndarray of shape ``(S, *D)``, quantile frame or interval frame
        Samples (linear quantiles) or a frame holding both levels.
    coverage : float in (0, 1), default=0.9
        Nominal coverage c.
    mask : bool array of shape D, optional

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.metrics import coverage
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(200, 5))
    >>> samples = rng.normal(size=(500, 200, 5))  # calibrated: same distribution
    >>> coverage(y, samples), round(coverage(y, samples, coverage=0.5), 3)
    (0.91, 0.513)

    An interval frame (as from ``predict_interval``) must hold the coverage asked:

    >>> import pandas as pd
    >>> from tsdiff.frames import interval_frame
    >>> frame = interval_frame(np.full((1, 3, 1), -1.0), np.full((1, 3, 1), 1.0),
    ...                        pd.RangeIndex(3), pd.Index(["y"]), (0.8,))
    >>> round(coverage(np.array([0.0, 0.5, 3.0]), frame, coverage=0.8), 3)
    0.667
    >>> coverage(np.array([0.0, 0.5, 3.0]), frame)  # default coverage=0.9
    Traceback (most recent call last):
    ...
    ValueError: The prediction interval frame lacks quantile levels [0.05, 0.95].
    """
    y, lower, upper = _interval(y_true, prediction, coverage, mask, "coverage")
    return float(((lower <= y) & (y <= upper)).mean())


def interval_score(
    y_true: Any, prediction: Any, *, coverage: float = 0.9, mask: Any = None
) -> float:
    """Interval (Winkler) score, Gneiting & Raftery (2007) eq. 43; lower is better.

    Mean over evaluated entries of ``(u - l) + 2/a (l - y) 1{y < l} + 2/a (y - u)
    1{y > u}`` with ``a = 1 - coverage`` and bounds as in :func:`coverage`.

    Parameters
    ----------
    y_true, prediction, coverage, mask : as in :func:`coverage`

    Returns
    -------
    float

    Examples
    --------
    The 50% interval of the samples -1 and 1 is [-0.5, 0.5] (linear quantiles):
    width 1 for the target 0 inside it, ``1 + 2 / 0.5 * 4.5 = 19`` for the target 5.

    >>> import numpy as np
    >>> from tsdiff.metrics import interval_score
    >>> samples = np.array([[-1.0, -1.0], [1.0, 1.0]])  # (S=2, T=2)
    >>> interval_score(np.array([0.0, 5.0]), samples, coverage=0.5)
    10.0
    """
    y, lower, upper = _interval(y_true, prediction, coverage, mask, "interval_score")
    misses = np.maximum(lower - y, 0.0) + np.maximum(y - upper, 0.0)
    return float((upper - lower + 2.0 / (1.0 - coverage) * misses).mean())


def mase(
    y_true: Any,
    prediction: Any,
    y_train: Any,
    *,
    seasonality: int = 1,
    mask: Any = None,
) -> float:
    """Mean absolute scaled error of the median (Hyndman & Koehler 2006).

    Mean over variables k with an evaluated entry of ``MAE_k / scale_k``: ``MAE_k``
    over k's evaluated entries, ``scale_k = mean_t |y_train[t, k] - y_train[t - m,
    k]|`` over the pairs with both values present (m = seasonality).

    Parameters
    ----------
    y_true : array-like of shape (T,) or (..., K)
    prediction : as in :func:`mae`
    y_train : array-like of shape (T_train,) or (T_train, K)
        In-sample history; NaN allowed. ValueError when it has no complete pair for
        a variable (too short for the seasonality) or a zero scale.
    seasonality : int >= 1, default=1
    mask : bool array shaped like y_true, optional

    Returns
    -------
    float

    Examples
    --------
    The naive in-sample error of ``y_train`` = [1, 2, 3] is 1 per step (2 per two
    steps), so an absolute error of 0.5 scales to 0.5 (0.25 with seasonality 2):

    >>> import numpy as np
    >>> from tsdiff.metrics import mase
    >>> y_train = np.array([1.0, 2.0, 3.0])
    >>> y, point = np.array([4.0, 5.0]), np.array([5.0, 5.0])  # errors 1 and 0
    >>> mase(y, point, y_train), mase(y, point, y_train, seasonality=2)
    (0.5, 0.25)
    >>> mase(y, point, np.ones(3))
    Traceback (most recent call last):
    ...
    ValueError: MASE is undefined: the seasonal differences of y_train are all 0 ...
    """
    if not isinstance(seasonality, (int, np.integer)) or isinstance(seasonality, bool):
        raise TypeError(f"seasonality must be an int; got {seasonality!r}.")
    if seasonality < 1:
        raise ValueError(f"seasonality must be >= 1; got {seasonality}.")
    y, m, kind, pred = _normalise(y_true, prediction, mask, _POINT, "mase")
    n_k = y.shape[-1] if y.ndim > 1 else 1
    err = np.full(y.shape, np.nan)
    err[m] = np.abs(_median(kind, pred, m) - y[m])
    err = err.reshape(-1, n_k)  # (N, K)
    used = ~np.isnan(err).all(axis=0)  # (K,) variables with an evaluated entry
    train = _numeric(y_train, "y_train")
    train = train[:, None] if train.ndim == 1 else train  # (T_train, K)
    if train.ndim != 2 or train.shape[1] != n_k or np.isinf(train).any():
        raise ValueError(f"y_train must be finite of shape (T_train, {n_k}).")
    diffs = np.abs(train[seasonality:] - train[:-seasonality])[:, used]
    counts = (~np.isnan(diffs)).sum(axis=0)
    if diffs.shape[0] == 0 or (counts == 0).any():
        raise ValueError(
            f"y_train is too short for seasonality={seasonality}: some variable has "
            f"no pair of values {seasonality} steps apart."
        )
    scale = np.nansum(diffs, axis=0) / counts
    if (scale == 0).any():
        bad = np.flatnonzero(used)[scale == 0].tolist()
        raise ValueError(
            f"MASE is undefined: the seasonal differences of y_train are all 0 in "
            f"variables {bad}."
        )
    return float((np.nanmean(err[:, used], axis=0) / scale).mean())


def _wql(y: np.ndarray, q: np.ndarray, levels: np.ndarray) -> float:
    """y (n,), q (Q, n): mean over levels of the normalised quantile loss."""
    denom = np.abs(y).sum()
    if denom == 0:
        raise ValueError("wql is undefined: sum |y_true| over evaluated entries is 0.")
    loss = 2.0 * np.abs((q - y) * ((y <= q) - levels[:, None])).sum(axis=1)  # (Q,)
    return float(loss.mean() / denom)
