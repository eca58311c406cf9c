"""Reader for the ``.tsf`` format of the Monash Time Series Forecasting Archive.

A ``.tsf`` file has a header of ``#`` comments and ``@`` keywords (``@relation``,
``@attribute <name> <string|numeric|date>``, ``@frequency``, ``@horizon``,
``@missing``, ``@equallength``), then ``@data`` and one series per line:
``<attr 1>:<attr 2>:...:v1,v2,...`` with ``?`` for a missing value. Dates are written
``YYYY-MM-DD HH-MM-SS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsdiff.datasets._common import MONTHS as _MONTHS
from tsdiff.datasets._common import PathType, existing_file, read_bytes

__all__ = ["TSFData", "load_tsf"]

_FIXED_FREQ = {
    "hourly": "h",
    "daily": "D",
    "half_hourly": "30min",
    "minutely": "min",
    "seconds": "s",
}
_MULTIPLE_FREQ = re.compile(r"(\d+)_(seconds|minutes|hours|days)")
_UNITS = {"seconds": "s", "minutes": "min", "hours": "h", "days": "D"}
_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_DATE_FORMAT = "%Y-%m-%d %H-%M-%S"
_TYPES = ("string", "numeric", "date")


@dataclass(frozen=True)
class TSFData:
    r"""A Monash ``.tsf`` data set as a long panel.

    Attributes
    ----------
    data : DataFrame
        One column ``"value"`` (float64, NaN for ``?``), index
        ``MultiIndex(series, time)`` in file order. ``time`` holds timestamps built
        from each series' start and the frequency, or integer steps 0, 1, ... when
        the file has no start timestamps or a frequency without a pandas equivalent.
    frequency : str or None
        Pandas alias of the time step shared by all series (``"h"``, ``"D"``,
        ``"W-SUN"``, ``"MS"``, ...); None when there is no time index or the series
        need different anchors (e.g. weekly series starting on different weekdays).
    horizon : int or None
        The ``@horizon`` of the file (the Monash forecast horizon), if stated.
    metadata : dict
        ``relation``, ``frequency`` (the Monash name, e.g. ``"hourly"``),
        ``horizon``, ``missing`` and ``equallength`` (bool or None), ``attributes``
        (list of ``(name, type)``) and ``series`` (DataFrame of the per-series
        attributes other than ``series_name``, indexed by series name).

    Examples
    --------
    A two-series file in a temporary folder, then the panel side by side:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from tsdiff.datasets import load_tsf
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "toy.tsf"
    >>> lines = ["# two hourly series", "@relation toy",
    ...          "@attribute series_name string", "@attribute start_timestamp date",
    ...          "@frequency hourly", "@horizon 2", "@missing true", "@data",
    ...          "T1:2024-01-01 00-00-00:1,2,3", "T2:2024-01-01 05-00-00:4,?"]
    >>> _ = path.write_text("\n".join(lines))
    >>> data = load_tsf(path)
    >>> data.frequency, data.horizon, data.metadata["relation"]
    ('h', 2, 'toy')
    >>> data.metadata["series"]["start_timestamp"].dt.hour.tolist()
    [0, 5]
    >>> wide = data.data["value"].unstack("series")  # one column per series
    >>> wide.shape, wide.columns.tolist()
    ((5, 2), ['T1', 'T2'])
    >>> tmp.cleanup()
    """

    data: pd.DataFrame
    frequency: str | None
    horizon: int | None
    metadata: dict[str, Any]


def load_tsf(path: PathType) -> TSFData:
    r"""Load a ``.tsf`` file of the Monash forecasting archive.

    Parameters
    ----------
    path : str or path-like
        The ``.tsf`` (or ``.tsf.gz``) file, e.g. ``m4_hourly_dataset.tsf``.

    Returns
    -------
    TSFData
        For ``m4_hourly_dataset.tsf``: 414 series of 748 to 1008 hourly values
        (373,372 rows), ``frequency="h"``, ``horizon=48``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the header is malformed (a line before ``@data`` that is neither a
        comment nor a keyword, a bad ``@attribute``, no ``@data``), a data line has
        the wrong number of ``:``-separated fields, a value or attribute does not
        parse, series names repeat, or ``@equallength true`` is violated.

    Notes
    -----
    Source: Monash Time Series Forecasting Archive (forecastingdata.org, Zenodo),
    CC BY 4.0. Cite Godahewa, R., Bergmeir, C., Webb, G.I., Hyndman, R.J. and
    Montero-Manso, P. (2021), "Monash time series forecasting archive", NeurIPS
    Datasets and Benchmarks Track, and the original source of each data set (e.g.
    the M4 competition, Makridakis et al. (2020), IJF 36(1)).

    Examples
    --------
    A two-series file in a temporary folder (``?`` marks a missing value):

    >>> import tempfile
    >>> from pathlib import Path
    >>> from tsdiff.datasets import load_tsf
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "toy.tsf"
    >>> lines = ["# two hourly series", "@relation toy",
    ...          "@attribute series_name string", "@attribute start_timestamp date",
    ...          "@frequency hourly", "@horizon 2", "@missing true", "@data",
    ...          "T1:2024-01-01 00-00-00:1,2,3", "T2:2024-01-01 05-00-00:4,?"]
    >>> _ = path.write_text("\n".join(lines))
    >>> data = load_tsf(path)
    >>> data.data.shape, list(data.data.index.names), data.frequency
    ((5, 1), ['series', 'time'], 'h')
    >>> data.data.loc["T2", "value"].tolist()
    [4.0, nan]
    >>> data.data.loc["T2"].index[0]
    Timestamp('2024-01-01 05:00:00')
    >>> tmp.cleanup()
    """
    file = existing_file(path, "Monash .tsf file")
    lines = read_bytes(file).decode("utf-8", errors="replace").splitlines()
    meta, attributes, first_data = _header(lines, file)
    rows = [(n, line) for n, line in enumerate(lines[first_data:], first_data + 1)]
    rows = [(n, line.strip()) for n, line in rows if line.strip()]
    series, values, counts = _data_lines(rows, attributes, file)
    if meta["equallength"] and len(set(counts.tolist())) > 1:
        raise ValueError(f"{file}: @equallength true, but series lengths differ")
    names = _series_names(series, file)
    series = series.drop(columns="series_name", errors="ignore")
    series.index = pd.Index(names, name="series")
    time, alias = _time_level(series, attributes, counts, meta["frequency"])
    index = pd.MultiIndex.from_arrays(
        [np.repeat(names, counts), time], names=["series", "time"]
    )
    data = pd.DataFrame({"value": values}, index=index)
    meta["attributes"] = attributes
    meta["series"] = series
    return TSFData(data=data, frequency=alias, horizon=meta["horizon"], metadata=meta)


def _header(lines: list[str], file: Path) -> tuple[dict, list[tuple[str, str]], int]:
    meta: dict[str, Any] = dict.fromkeys(
        ("relation", "frequency", "horizon", "missing", "equallength")
    )
    attributes: list[tuple[str, str]] = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise ValueError(
                f"{file}: line {number}: expected a '#' comment or an '@' keyword "
                f"before @data; got {line[:40]!r}"
            )
        key, _, value = line[1:].partition(" ")
        key, value = key.lower(), value.strip()
        if key == "data":
            return meta, attributes, number
        if key == "attribute":
            parts = value.split()
            if len(parts) != 2 or parts[1] not in _TYPES:
                raise ValueError(
                    f"{file}: line {number}: expected '@attribute <name> "
                    f"<string|numeric|date>'; got {line!r}"
                )
            attributes.append((parts[0], parts[1]))
        elif key == "horizon":
            if not value.isdigit():
                raise ValueError(f"{file}: line {number}: @horizon must be an integer")
            meta["horizon"] = int(value)
        elif key in ("missing", "equallength"):
            meta[key] = value.lower() == "true"
        else:
            meta[key] = value
    raise ValueError(f"{file}: no '@data' line: not a .tsf file")


def _data_lines(rows: list[tuple[int, str]], attributes: list, file: Path):
    """Per-series attributes (DataFrame), all values (1-D float) and lengths."""
    n_fields = len(attributes) + 1
    table, chunks = [], []
    for number, line in rows:
        fields = line.split(":")
        if len(fields) != n_fields or not fields[-1]:
            raise ValueError(
                f"{file}: line {number}: expected {n_fields} ':'-separated fields "
                f"({len(attributes)} attributes, then the values); got {len(fields)}"
            )
        table.append(fields[:-1])
        chunks.append(fields[-1])
    if not chunks:
        raise ValueError(f"{file}: no series after @data")
    counts = np.array([chunk.count(",") + 1 for chunk in chunks])
    try:
        values = np.array(",".join(chunks).replace("?", "nan").split(","), np.float64)
    except ValueError:
        values = None
        for (number, _), chunk in zip(rows, chunks, strict=True):
            try:
                np.array(chunk.replace("?", "nan").split(","), np.float64)
            except ValueError as exc:
                raise ValueError(f"{file}: line {number}: bad value ({exc})") from exc
    series = pd.DataFrame(table, columns=[name for name, _ in attributes])
    for name, kind in attributes:
        try:
            if kind == "numeric":
                series[name] = pd.to_numeric(series[name])
            elif kind == "date":
                series[name] = pd.to_datetime(series[name], format=_DATE_FORMAT)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{file}: attribute {name!r} ({kind}) does not parse ({exc})"
            ) from exc
    return series, values, counts


def _series_names(series: pd.DataFrame, file: Path) -> np.ndarray:
    if "series_name" in series.columns:
        names = series["series_name"].to_numpy()
    else:
        names = np.array([f"T{k + 1}" for k in range(len(series))], dtype=object)
    if len(set(names.tolist())) != len(names):
        raise ValueError(f"{file}: series names are not unique")
    return names


def _offset(frequency: str | None, start: pd.Timestamp) -> tuple[Any, Any]:
    """(anchored alias or None, plain step) for a Monash frequency name.

    The alias is used when ``start`` lies on it (so the grid keeps its anchor); the
    plain step (a Timedelta or DateOffset) otherwise. (None, None): no pandas step.
    """
    if frequency in _FIXED_FREQ:
        return _FIXED_FREQ[frequency], _FIXED_FREQ[frequency]
    if frequency and (match := _MULTIPLE_FREQ.fullmatch(frequency)):
        alias = f"{match[1]}{_UNITS[match[2]]}"
        return alias, alias
    month = _MONTHS[start.month - 1]
    if frequency == "weekly":
        return f"W-{_DAYS[start.weekday()]}", pd.Timedelta(weeks=1)
    anchored = {
        "monthly": ("MS", "ME", pd.DateOffset(months=1)),
        "quarterly": (f"QS-{month}", f"QE-{month}", pd.DateOffset(months=3)),
        "yearly": (f"YS-{month}", f"YE-{month}", pd.DateOffset(years=1)),
    }
    if frequency not in anchored:
        return None, None
    begin, end, plain = anchored[frequency]
    if start.day == 1:
        return begin, plain
    return (end if start.is_month_end else None), plain


def _stamps(start: pd.Timestamp, n: int, alias: Any, plain: Any):
    """n timestamps from ``start``, and the alias used (None if stepped plainly)."""
    if alias is not None:
        stamps = pd.date_range(start, periods=n, freq=alias)
        if stamps[0] == start:
            return stamps, alias
    return pd.date_range(start, periods=n, freq=plain), None


def _time_level(series: pd.DataFrame, attributes: list, counts: np.ndarray, frequency):
    """Time values of all rows (series after series) and the shared alias or None."""
    dates = [name for name, kind in attributes if kind == "date"]
    if not dates or frequency is None:
        return np.concatenate([np.arange(n) for n in counts]), None
    starts = series["start_timestamp" if "start_timestamp" in dates else dates[0]]
    cache: dict[tuple, tuple[pd.DatetimeIndex, Any]] = {}
    parts, aliases = [], set()
    for start, n in zip(starts, counts, strict=True):
        alias, plain = _offset(frequency, start)
        if plain is None:  # a frequency without a pandas equivalent
            return np.concatenate([np.arange(n) for n in counts]), None
        key = (start, str(alias), str(plain))
        if key not in cache or len(cache[key][0]) < n:
            cache[key] = _stamps(start, int(n), alias, plain)
        stamps, used = cache[key]
        parts.append(stamps[:n].to_numpy())
        aliases.add(used)
    shared = aliases.pop() if len(aliases) == 1 else None
    return pd.DatetimeIndex(np.concatenate(parts)), shared
