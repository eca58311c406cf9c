"""Input normalisation for :mod:`tsdiff.metrics`.

Turns ``y_true``, samples, point forecasts, quantile frames, interval frames and masks
into flat arrays of the evaluated entries, and reads quantiles at given levels from
samples or frames; also validates the quantile options. The conventions are those
stated in :mod:`tsdiff.metrics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_complex_dtype

_FRAMES = {
    ("variable", "quantile"): "quantile frame",
    ("variable", "coverage", "bound"): "interval frame",
}
_REAL = (int, float, np.integer, np.floating)


def _numeric(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 array; TypeError unless it holds real numbers."""
    if isinstance(x, (pd.DataFrame, pd.Series)):
        dtypes = x.dtypes if isinstance(x, pd.DataFrame) else [x.dtype]
        bad = [d for d in dtypes if is_bool_dtype(d) or is_complex_dtype(d)]
    elif isinstance(x, (str, bytes, dict)) or x is None:
        bad = [type(x).__name__]
    else:
        x = np.asarray(x)
        bad = [] if x.dtype.kind in "iufO" else [x.dtype]
    try:
        if not bad and isinstance(x, np.ndarray):
            return x.astype(np.float64, copy=False)
        if not bad:
            return x.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as err:
        bad = [err]
    raise TypeError(f"{name} must hold real numbers; got {bad[0]}.")


def _normalise(
    y_true: Any, prediction: Any, mask: Any, kinds: tuple, func: str
) -> tuple[np.ndarray, np.ndarray, str, Any]:
    """Validate; return ``y``, the evaluation mask ``m`` (``y``'s shape), the kind of
    prediction (one of ``kinds``) and the prediction (float array or the frame)."""
    y = _numeric(y_true, "y_true")
    if y.ndim == 0 or y.size == 0:
        raise ValueError(f"y_true must be a non-empty array; got shape {y.shape}.")
    m = ~np.isnan(y)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != y.shape:
            raise (TypeError if mask.dtype != np.bool_ else ValueError)(
                f"mask must be a boolean array of y_true's shape {y.shape} (True = "
                f"evaluate); got dtype {mask.dtype}, shape {mask.shape}."
            )
        m &= mask
    kind = _kind(prediction, y)
    if kind not in kinds:
        raise (TypeError if isinstance(prediction, pd.DataFrame) else ValueError)(
            f"{func} takes prediction as {' or '.join(kinds)} (samples: shape "
            f"(S, *y_true.shape) = (S, *{y.shape})); got "
            f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}."
        )
    if isinstance(prediction, pd.DataFrame):
        y, m = _align(y_true, y, m, prediction, kind)
    if kind in ("samples", "point forecast"):
        prediction = _numeric(prediction, "prediction")
    if not m.any():
        raise ValueError("Nothing to evaluate: y_true is NaN or mask False everywhere.")
    if np.isinf(y[m]).any():
        raise ValueError("y_true has infinite values at evaluated entries.")
    return y, m, kind, prediction


def _kind(prediction: Any, y: np.ndarray) -> str:
    if isinstance(prediction, pd.DataFrame):
        return _FRAMES.get(tuple(prediction.columns.names), "point forecast")
    shape = np.shape(prediction)
    if len(shape) == y.ndim + 1 and shape[1:] == y.shape and shape[0] > 0:
        return "samples"
    if shape == y.shape:
        return "point forecast"
    raise ValueError(
        f"prediction has shape {shape}; expected samples of shape (S, *{y.shape}) "
        f"or a point forecast of y_true's shape {y.shape}."
    )


def _align(
    y_true: Any, y: np.ndarray, m: np.ndarray, frame: pd.DataFrame, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Check that a (T, K) target lines up with a prediction frame."""
    names = frame.columns
    variables = names if kind == "point forecast" else names.unique(level=0)
    if y.ndim == 1 and len(variables) == 1:
        y, m = y[:, None], m[:, None]  # (T,) -> (T, 1)
    if y.shape != (len(frame), len(variables)):
        raise ValueError(
            f"y_true has shape {y.shape}, but prediction has {len(frame)} rows and "
            f"{len(variables)} variables."
        )
    if isinstance(y_true, pd.DataFrame) and list(y_true.columns) != list(variables):
        raise ValueError(
            f"The columns of y_true {list(y_true.columns)} differ from the "
            f"prediction's variables {list(variables)}."
        )
    if isinstance(y_true, (pd.DataFrame, pd.Series)):
        if not y_true.index.equals(frame.index):
            raise ValueError("The index of y_true differs from the prediction's.")
    return y, m


def _quantiles(
    kind: str, pred: Any, m: np.ndarray, levels: np.ndarray, method: str
) -> np.ndarray:
    """Quantiles at ``levels`` of the evaluated entries, shape (Q, n)."""
    if kind != "samples":
        return _finite(_frame_quantiles(pred, kind, levels)[:, m])
    x = _finite(pred[:, m])  # (S, n)
    if method == "gluonts":
        rank = np.round((x.shape[0] - 1) * levels).astype(np.intp)  # half to even
        return np.sort(x, axis=0)[rank]
    return np.quantile(x, levels, axis=0, method=method)


def _frame_quantiles(frame: pd.DataFrame, kind: str, levels: np.ndarray) -> np.ndarray:
    """Columns of a quantile or interval frame at ``levels``, shape (Q, T, K)."""
    var, col_levels = (
        frame.columns.get_level_values(0),
        frame.columns.get_level_values(1),
    )
    col_levels = col_levels.to_numpy(dtype=np.float64)
    if kind == "interval frame":  # coverage c -> levels (1 -/+ c) / 2
        lower = frame.columns.get_level_values(2) == "lower"
        col_levels = (1.0 + np.where(lower, -1.0, 1.0) * col_levels) / 2.0
    labels = zip(var, np.round(col_levels, 9).tolist(), strict=True)
    where = {label: c for c, label in enumerate(labels)}
    keys = [[(v, lv) for v in var.unique()] for lv in np.round(levels, 9).tolist()]
    missing = sorted({lv for row in keys for v, lv in row if (v, lv) not in where})
    if missing:
        raise ValueError(f"The prediction {kind} lacks quantile levels {missing}.")
    cols = [[where[k] for k in row] for row in keys]  # (Q, K)
    return _numeric(frame, "prediction")[:, cols].transpose(1, 0, 2)  # (Q, T, K)


def _median(kind: str, pred: Any, m: np.ndarray) -> np.ndarray:
    """Point forecast at the evaluated entries, shape (n,)."""
    if kind == "point forecast":
        return _finite(pred[m])
    if kind == "samples":
        return np.median(_finite(pred[:, m]), axis=0)
    return _quantiles(kind, pred, m, np.array([0.5]), "linear")[0]


def _interval(
    y_true: Any, prediction: Any, c: Any, mask: Any, func: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluated targets and the bounds of the central interval of coverage c."""
    if not _real(c):
        raise TypeError(f"coverage must be a number in (0, 1); got {c!r}.")
    if not 0.0 < c < 1.0:
        raise ValueError(f"coverage must lie strictly between 0 and 1; got {c}.")
    levels = np.round([(1.0 - c) / 2.0, (1.0 + c) / 2.0], 12)
    kinds = ("samples", "quantile frame", "interval frame")
    y, m, kind, pred = _normalise(y_true, prediction, mask, kinds, func)
    lower, upper = _quantiles(kind, pred, m, levels, "linear")
    return y[m], lower, upper


def _options(levels: Any, method: Any) -> tuple[np.ndarray, str]:
    """Validated ``quantile_levels`` (as an array) and ``method``."""
    arr = np.asarray(levels, dtype=object)
    if arr.ndim != 1 or arr.size == 0 or not all(_real(v) and 0 <= v <= 1 for v in arr):
        raise ValueError(
            f"quantile_levels must be a non-empty 1-D sequence in [0, 1]; got {levels}."
        )
    if method != "gluonts":
        try:
            np.quantile(np.zeros(1), 0.5, method=method)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"method={method!r} is neither 'gluonts' nor a numpy.quantile method."
            ) from err
    return arr.astype(np.float64), method


def _real(v: Any) -> bool:
    return isinstance(v, _REAL) and not isinstance(v, bool)


def _finite(a: np.ndarray) -> np.ndarray:
    if not np.isfinite(a).all():
        raise ValueError("prediction has NaN or infinite values at evaluated entries.")
    return a
