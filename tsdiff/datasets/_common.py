"""Helpers shared by the file loaders: path checks, CSV reading, regular time grids.

Every loader reports a missing path as :class:`FileNotFoundError` (with the path as
``filename``) and a malformed file as :class:`ValueError` whose message starts with
the file's path and says what was expected.
"""

from __future__ import annotations

import errno
import gzip
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

PathType = str | PathLike


#: Three-letter month names as used in pandas anchored frequencies ("A-JAN" ...).
MONTHS = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)


def existing_path(path: PathType, what: str) -> Path:
    """Return ``path`` as a :class:`Path`, or raise FileNotFoundError naming it."""
    resolved = Path(path).expanduser()
    if not resolved.exists():
        raise FileNotFoundError(errno.ENOENT, f"{what} not found", str(resolved))
    return resolved


def existing_file(path: PathType, what: str) -> Path:
    """Like :func:`existing_path`, but a directory is a :class:`ValueError`."""
    resolved = existing_path(path, what)
    if resolved.is_dir():
        raise ValueError(f"{resolved}: expected a file ({what}), got a directory")
    return resolved


def read_bytes(path: Path) -> bytes:
    """Whole file as bytes, transparently gunzipped when the name ends in ``.gz``."""
    if path.suffix == ".gz":
        try:
            return gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: not a readable gzip file ({exc})") from exc
    return path.read_bytes()


def read_csv(path: Path, what: str, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` whose parse errors become ValueErrors naming the file."""
    try:
        return pd.read_csv(path, **kwargs)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: could not be read as {what} ({exc})") from exc


def check_header(columns: Sequence, expected: Sequence, path: Path, what: str) -> None:
    """Raise ValueError unless the header equals ``expected`` (order included)."""
    got = [str(c) for c in columns]
    if got != list(expected):
        missing = [c for c in expected if c not in got]
        detail = f"missing {missing}" if missing else f"got {got}"
        raise ValueError(
            f"{path}: expected {what} with header {list(expected)}; {detail}"
        )


def numeric_frame(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Cast every column to float64, or raise ValueError naming a bad column."""
    for name in frame.columns:
        if not is_numeric_dtype(frame[name]):
            bad = (
                pd.to_numeric(frame[name], errors="coerce").isna() & frame[name].notna()
            )
            row = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
            raise ValueError(
                f"{path}: column {name!r} must be numeric; row {row} holds "
                f"{frame[name].iloc[row]!r}"
            )
    return frame.astype("float64")


def parse_dates(
    values: pd.Series, path: Path, fmt: str | None = None
) -> pd.DatetimeIndex:
    """Parse a date column into a DatetimeIndex, or raise ValueError naming the file."""
    try:
        index = pd.DatetimeIndex(pd.to_datetime(values, format=fmt))
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{path}: unparsable date in column {values.name!r} ({exc})"
        ) from exc
    if index.hasnans:
        raise ValueError(f"{path}: empty date in column {values.name!r}")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise ValueError(
            f"{path}: dates in column {values.name!r} must strictly increase"
        )
    return index


def regular_index(index: pd.DatetimeIndex, path: Path, freq: str | None = None):
    """Attach ``freq`` (or the inferred one) to ``index``.

    With ``freq`` given, the dates must lie on that regular grid (ValueError
    otherwise); with ``freq=None`` the frequency is inferred and left unset when the
    dates are irregular.
    """
    if freq is None:
        return pd.DatetimeIndex(index, freq="infer") if len(index) >= 3 else index
    try:
        return pd.DatetimeIndex(index, freq=freq)
    except ValueError as exc:
        raise ValueError(
            f"{path}: expected a regular time grid with frequency {freq!r} ({exc})"
        ) from exc
