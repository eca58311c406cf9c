"""GluonTS JSON-lines data sets with rolling test windows (TimeGrad's ``*_nips`` sets).

Layout: ``<name>/metadata/metadata.json``, ``<name>/train/*.json[.gz]`` and
``<name>/test/*.json[.gz]``, one JSON object per line with ``"start"`` and
``"target"``. The test file repeats the N series once per rolling window, each time
with the history extended by ``prediction_length`` steps.
"""

from __future__ import annotations

import gzip
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tsdiff.datasets._common import PathType, existing_path
from tsdiff.datasets._tables import EXCHANGE_RATE_COLUMNS

__all__ = ["GluonTSData", "load_exchange_rate_nips", "load_gluonts"]


@dataclass(frozen=True)
class GluonTSData:
    """A multivariate GluonTS data set: the training range and the test windows.

    Attributes
    ----------
    train : DataFrame of shape (T, N)
        The N series over the training range (float64, NaN where missing), index a
        DatetimeIndex named ``"date"`` with ``freq`` set, columns named
        ``"variable"``.
    test : list of DataFrame
        One frame per rolling test window, in increasing length: the full history up
        to the window's end, columns as ``train``. The last ``prediction_length`` rows
        of each are the window's forecast targets.
    prediction_length : int
        Steps forecast per window.
    freq : str
        Pandas frequency alias of the index (``"B"`` for business days).

    Examples
    --------
    Each test window holds the history and, in its last ``prediction_length``
    rows, the values to forecast from it:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.datasets import GluonTSData
    >>> index = pd.date_range("2024-01-01", periods=8, freq="D", name="date")
    >>> full = pd.DataFrame({0: np.arange(8.0), 1: 10 + np.arange(8.0)}, index=index)
    >>> data = GluonTSData(train=full.iloc[:4], test=[full.iloc[:6], full],
    ...                    prediction_length=2, freq="D")
    >>> h = data.prediction_length
    >>> for window in data.test:
    ...     history, target = window.iloc[:-h], window.iloc[-h:]
    ...     print(len(history), target.index[0].strftime("%Y-%m-%d"))
    4 2024-01-05
    6 2024-01-07
    """

    train: pd.DataFrame
    test: list[pd.DataFrame]
    prediction_length: int
    freq: str


def load_gluonts(path: PathType) -> GluonTSData:
    r"""Load a multivariate GluonTS data set in TimeGrad's ``*_nips`` layout.

    Parameters
    ----------
    path : str or path-like
        The ``.tar.gz`` archive (read in memory; pax headers are fine) or the
        extracted directory (or a directory holding exactly that one directory).

    Returns
    -------
    GluonTSData
        Columns are the series positions ``0 .. N-1`` in file order. The frequency
        comes from ``metadata.json`` (``"freq"`` or ``"time_granularity"``); the
        prediction length from its ``"prediction_length"`` or else from the step
        between consecutive test windows.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the train, test or metadata file is missing or malformed, or the test
        entries do not group into windows of N series of equal length growing by a
        constant step.

    Examples
    --------
    A data set of two daily series with two test windows, in a temporary folder:

    >>> import json
    >>> import tempfile
    >>> from pathlib import Path
    >>> from tsdiff.datasets import load_gluonts
    >>> tmp = tempfile.TemporaryDirectory()
    >>> root = Path(tmp.name) / "toy_nips"
    >>> def write(role, entries):
    ...     (root / role).mkdir(parents=True)
    ...     lines = [json.dumps(entry) for entry in entries]
    ...     (root / role / f"{role}.json").write_text("\n".join(lines))
    >>> def series(n):  # two series of n days
    ...     return [{"start": "2024-01-01", "target": [10.0 * k + t for t in range(n)]}
    ...             for k in range(2)]
    >>> write("metadata", [{"freq": "D", "prediction_length": 2}])
    >>> write("train", series(4))
    >>> write("test", series(6) + series(8))
    >>> data = load_gluonts(root)
    >>> data.train.shape, data.train.columns.tolist(), data.freq
    ((4, 2), [0, 1], 'D')
    >>> [len(window) for window in data.test], data.prediction_length
    ([6, 8], 2)
    >>> data.test[-1][1].iloc[-2:].tolist()  # the targets of series 1, last window
    [16.0, 17.0]
    >>> tmp.cleanup()
    """
    files = _read_members(
        existing_path(path, "GluonTS data set (.tar.gz or directory)")
    )
    where = str(path)
    freq, meta = _metadata(files["metadata"], where)
    train_entries = _entries(files["train"], f"{where} (train)")
    test_entries = _entries(files["test"], f"{where} (test)")
    n_series = len(train_entries)
    train = _frame(train_entries, freq, f"{where} (train)")
    if len(test_entries) % n_series:
        raise ValueError(
            f"{where}: {len(test_entries)} test entries do not group into windows of "
            f"{n_series} series (the number of training series)"
        )
    test = [
        _frame(test_entries[i : i + n_series], freq, f"{where} (test window {k})")
        for k, i in enumerate(range(0, len(test_entries), n_series))
    ]
    pred = _prediction_length(meta, train, test, where)
    return GluonTSData(train=train, test=test, prediction_length=pred, freq=freq)


def load_exchange_rate_nips(path: PathType) -> GluonTSData:
    r"""Load GluonTS ``exchange_rate_nips``: 8 daily exchange rates, 5 test windows.

    Parameters
    ----------
    path : str or path-like
        ``exchange_rate_nips.tar.gz`` or its extracted directory.

    Returns
    -------
    GluonTSData
        ``train``: DataFrame of shape (6071, 8) from 1990-01-01 with a business-day
        DatetimeIndex (``freq="B"``, named ``"date"``); ``test``: 5 DataFrames of
        6101, 6131, ..., 6221 rows; ``prediction_length`` 30 (the metadata omits it,
        so it is the step between windows); ``freq`` ``"B"``. Columns, named
        ``"variable"``, follow LSTNet's order: Australia, British, Canada,
        Switzerland, China, Japan, New Zealand, Singapore. The dates come from the
        GluonTS ``start`` field and a business-day step; the underlying LSTNet file
        has no dates, so they are nominal.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        As :func:`load_gluonts`, or if the data set does not hold 8 series.

    Notes
    -----
    Source: the GluonTS data-set repository as used by TimeGrad (Rasul, K. et al.
    (2021), "Autoregressive denoising diffusion models for multivariate
    probabilistic time series forecasting", ICML) and CSDI. The series are LSTNet's
    (Lai, G. et al. (2018), SIGIR). No data licence is stated.

    Examples
    --------
    A data set of the same layout, 8 flat series of a few business days, in a
    temporary folder:

    >>> import json
    >>> import tempfile
    >>> from pathlib import Path
    >>> from tsdiff.datasets import load_exchange_rate_nips
    >>> tmp = tempfile.TemporaryDirectory()
    >>> root = Path(tmp.name) / "exchange_rate_nips"
    >>> def write(role, entries):
    ...     (root / role).mkdir(parents=True)
    ...     lines = [json.dumps(entry) for entry in entries]
    ...     (root / role / f"{role}.json").write_text("\n".join(lines))
    >>> def series(n):  # 8 series of n business days
    ...     return [{"start": "1990-01-01", "target": [1.0] * n}] * 8
    >>> write("metadata", [{"freq": "B"}])
    >>> write("train", series(5))
    >>> write("test", series(7) + series(9))
    >>> data = load_exchange_rate_nips(root)
    >>> data.train.shape, data.train.columns.tolist()[:3]
    ((5, 8), ['Australia', 'British', 'Canada'])
    >>> data.prediction_length, data.freq  # the step between the test windows
    (2, 'B')
    >>> data.train.index[-1].strftime("%a %Y-%m-%d")
    'Fri 1990-01-05'
    >>> tmp.cleanup()
    """
    data = load_gluonts(path)
    if data.train.shape[1] != len(EXCHANGE_RATE_COLUMNS):
        raise ValueError(
            f"{path}: expected {len(EXCHANGE_RATE_COLUMNS)} exchange-rate series; "
            f"got {data.train.shape[1]}"
        )
    columns = pd.Index(EXCHANGE_RATE_COLUMNS, name="variable")
    return GluonTSData(
        train=data.train.set_axis(columns, axis=1),
        test=[frame.set_axis(columns, axis=1) for frame in data.test],
        prediction_length=data.prediction_length,
        freq=data.freq,
    )


def _metadata(contents: list[bytes], where: str) -> tuple[str, dict]:
    """The pandas frequency alias and the whole metadata dict."""
    try:
        meta = json.loads(contents[0]) if contents else {}
    except ValueError as exc:
        raise ValueError(f"{where}: metadata.json is not JSON ({exc})") from exc
    freq = (
        meta.get("freq", meta.get("time_granularity"))
        if isinstance(meta, dict)
        else None
    )
    try:
        if not isinstance(freq, str):
            raise TypeError("not a string")
        to_offset(freq)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{where}: metadata.json must give a pandas frequency as 'freq' or "
            f"'time_granularity'; got {freq!r}"
        ) from exc
    return freq, meta


def _role(parts: tuple[str, ...]) -> str | None:
    """ "train", "test" or "metadata" for ``.../<role>/<file>.json[.gz]``, else None."""
    if len(parts) >= 2 and parts[-2] in ("train", "test", "metadata"):
        if parts[-1].endswith((".json", ".json.gz")):
            return parts[-2]
    return None


def _read_members(path: Path) -> dict[str, list[bytes]]:
    found: dict[str, list[tuple[str, bytes]]] = {
        "train": [],
        "test": [],
        "metadata": [],
    }
    if path.is_dir():
        for file in sorted(path.rglob("*.json*")):
            if file.is_file() and (role := _role(file.relative_to(path).parts)):
                found[role].append((file.name, file.read_bytes()))
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            for member in archive:
                role = _role(PurePosixPath(member.name).parts)
                if role and member.isfile():
                    found[role].append(
                        (member.name, archive.extractfile(member).read())
                    )
    else:
        raise ValueError(
            f"{path}: expected a GluonTS data set directory or .tar.gz archive"
        )
    for role in ("train", "test"):
        if not found[role]:
            raise ValueError(f"{path}: no {role}/*.json file found")
    return {
        role: [gzip.decompress(b) if n.endswith(".gz") else b for n, b in sorted(items)]
        for role, items in found.items()
    }


def _entries(contents: list[bytes], where: str) -> list[dict]:
    entries = []
    for content in contents:
        for number, line in enumerate(content.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: line {number} is not JSON ({exc})") from exc
            if not isinstance(entry, dict) or not {"start", "target"} <= entry.keys():
                raise ValueError(f"{where}: line {number} lacks 'start' or 'target'")
            entries.append(entry)
    if not entries:
        raise ValueError(f"{where}: no entries")
    return entries


def _frame(entries: list[dict], freq: str, where: str) -> pd.DataFrame:
    """Series of one group side by side, aligned on their dates."""
    columns = []
    for k, entry in enumerate(entries):
        try:
            target = np.asarray(
                [np.nan if v in (None, "NaN") else v for v in entry["target"]], float
            )
            index = pd.date_range(
                pd.Timestamp(entry["start"]), periods=len(target), freq=freq
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{where}: entry {k} has a bad start or target ({exc})"
            ) from exc
        if target.ndim != 1:
            raise ValueError(f"{where}: entry {k}: target must be one series")
        columns.append(pd.Series(target, index=index, name=k))
    if len({len(c) for c in columns}) != 1 or len({c.index[0] for c in columns}) != 1:
        raise ValueError(
            f"{where}: the series of one group must share start and length"
        )
    frame = pd.concat(columns, axis=1)
    frame.index = pd.DatetimeIndex(frame.index, freq=freq, name="date")
    frame.columns = pd.RangeIndex(len(columns), name="variable")
    return frame


def _prediction_length(
    meta: dict, train: pd.DataFrame, test: list[pd.DataFrame], where: str
) -> int:
    if "prediction_length" in meta:
        return int(meta["prediction_length"])
    lengths = np.array([len(frame) for frame in test])
    # Windows advance by prediction_length; with a single window use the train end.
    steps = np.diff(lengths) if len(test) > 1 else lengths - len(train)
    if steps[0] <= 0 or (steps != steps[0]).any():
        raise ValueError(
            f"{where}: cannot infer prediction_length: test window lengths "
            f"{lengths.tolist()} (train {len(train)}) do not grow by a constant step"
        )
    return int(steps[0])
