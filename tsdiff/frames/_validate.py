"""Checks of the user's container and values, and the floating dtype of outputs.

A DataFrame, Series or 1-D/2-D array becomes a DataFrame; values must be real numbers
(NaN marks a missing value, infinities are refused).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype


def _as_frame(data: Any, name: str, panel: bool = False) -> tuple[str, pd.DataFrame]:
    if isinstance(data, pd.DataFrame):
        return "frame", data
    if isinstance(data, pd.Series):
        return "series", data.to_frame(name=0 if data.name is None else data.name)
    if _is_sparse(data):
        raise TypeError(
            f"{name} is a sparse matrix; tsdiff needs dense data (a missing value "
            "is NaN, not an absent entry): pass X.toarray()."
        )
    array_like = hasattr(data, "__len__") or hasattr(data, "__array__")
    if isinstance(data, (pd.Index, str, bytes, dict)) or not array_like:
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
        shapes = "1-D or 2-D (time steps x variables)"
        if panel:
            shapes += " or a 3-D panel (series x time steps x variables)"
        raise ValueError(
            f"{name} must be {shapes}; got an array with {array.ndim} dimensions."
        )
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {array.dtype}.")
    if array.dtype.kind not in "biuf" and array.dtype != object:
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}.")
    return "array", pd.DataFrame(array)


def _is_sparse(data: Any) -> bool:
    """A SciPy sparse matrix or array (SciPy imported only if already loaded)."""
    import sys

    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(data)


def _check_values(frame: pd.DataFrame, name: str) -> None:
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        what = "sample(s)" if frame.shape[0] == 0 else "feature(s)"
        raise ValueError(
            f"{name} is empty: found 0 {what} (shape={frame.shape}) while a minimum "
            "of 1 is required (time steps x variables)."
        )
    if frame.columns.has_duplicates:
        dup = list(frame.columns[frame.columns.duplicated()].unique())
        raise ValueError(f"{name} has duplicated column names: {dup}.")
    complex_cols = [c for c in frame.columns if is_complex_dtype(frame[c].dtype)]
    if complex_cols:
        raise ValueError(
            f"Complex data not supported: {name} has complex-valued columns "
            f"{complex_cols}."
        )
    bad = [
        c
        for c in frame.columns
        if not is_numeric_dtype(frame[c].dtype) or is_bool_dtype(frame[c].dtype)
    ]
    bad = [c for c in bad if not _object_numeric(frame[c])]
    if bad:
        raise TypeError(
            f"{name} has non-numeric columns {bad}; tsdiff models numeric variables "
            "only: every argument must be a real number, not a string or another "
            "object where a number belongs (encode or drop these columns first)."
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
