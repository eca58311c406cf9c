"""Beijing PM2.5 of 36 stations (the ST-MVL release used by BRITS and CSDI)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tsdiff.datasets._common import (
    PathType,
    existing_path,
    numeric_frame,
    parse_dates,
    read_csv,
    regular_index,
)

__all__ = ["PM25Data", "load_pm25"]

_GROUND = "pm25_ground.txt"
_MISSING = "pm25_missing.txt"
_STATION = re.compile(r"\d+")


@dataclass(frozen=True)
class PM25Data:
    """The two tables of the ST-MVL PM2.5 release.

    Attributes
    ----------
    ground : DataFrame of shape (8759, 36)
        Hourly PM2.5 in ug/m^3 with the natural gaps of the sensors (NaN).
    missing : DataFrame of shape (8759, 36)
        The same table with the evaluation cells additionally hidden (NaN).

    Examples
    --------
    Fit an imputer on ``missing`` and score it on the cells of ``target_mask``;
    here with two stations over three hours:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.datasets import PM25Data
    >>> index = pd.date_range("2014-05-01 01:00", periods=3, freq="h", name="time")
    >>> ground = pd.DataFrame({"001001": [80.0, np.nan, 95.0],
    ...                        "001002": [60.0, 62.0, 70.0]}, index=index)
    >>> missing = ground.copy()
    >>> missing.iloc[1:, 1] = np.nan  # two readings of 001002 held out
    >>> data = PM25Data(ground=ground, missing=missing)
    >>> data.ground.to_numpy()[data.target_mask.to_numpy()].tolist()  # to score
    [62.0, 70.0]
    """

    ground: pd.DataFrame
    missing: pd.DataFrame

    @property
    def target_mask(self) -> pd.DataFrame:
        """Evaluation cells: present in ``ground`` and hidden in ``missing`` (bool).

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from tsdiff.datasets import PM25Data
        >>> ground = pd.DataFrame({"001001": [80.0, np.nan], "001002": [60.0, 62.0]})
        >>> missing = pd.DataFrame({"001001": [np.nan, np.nan], "001002": [60.0, 62.0]})
        >>> PM25Data(ground=ground, missing=missing).target_mask["001001"].tolist()
        [True, False]
        """
        return self.ground.notna() & self.missing.isna()


def load_pm25(path: PathType) -> PM25Data:
    """Load the Beijing PM2.5 air-quality benchmark (36 stations, hourly, one year).

    Parameters
    ----------
    path : str or path-like
        Directory holding ``pm25_ground.txt`` and ``pm25_missing.txt``, or the path of
        ``pm25_ground.txt`` itself (its sibling ``pm25_missing.txt`` is then used).

    Returns
    -------
    PM25Data
        ``ground`` and ``missing``: DataFrames of shape (8759, 36), float64, NaN where
        missing, with an hourly DatetimeIndex named ``"time"`` (``freq="h"``,
        2014-05-01 01:00 to 2015-04-30 23:00) and the station ids as string columns
        ``"001001"`` ... ``"001036"`` (leading zeros kept), columns named
        ``"station"``. About 13 % of ``ground`` and 25 % of ``missing`` is NaN;
        ``target_mask`` gives the cells scored in the CSDI/BRITS protocol.

    Raises
    ------
    FileNotFoundError
        If ``path`` or one of the two files does not exist.
    ValueError
        If a file lacks the ``datetime`` + station-id header, holds non-numeric
        values or dates off the hourly grid, or if the two tables disagree (shape,
        index, columns, or a value present in ``missing`` that differs from
        ``ground``).

    Notes
    -----
    Source: Microsoft Research Urban Computing, the ST-MVL sample data, as fetched
    by CSDI (``ermongroup/CSDI``, ``download.py``). Cite Yi, X., Zheng, Y., Zhang, J.
    and Li, T. (2016), "ST-MVL: filling missing values in geo-sensory time series
    data", IJCAI. No licence is stated; treat the data as research-use only.

    Examples
    --------
    Both tables for two stations over three hours, in a temporary folder:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.datasets import load_pm25
    >>> tmp = tempfile.TemporaryDirectory()
    >>> index = pd.date_range("2014-05-01 01:00", periods=3, freq="h")
    >>> ground = pd.DataFrame({"001001": [80.0, np.nan, 95.0],
    ...                        "001002": [60.0, 62.0, 70.0]}, index=index)
    >>> missing = ground.copy()
    >>> missing.iloc[1:, 1] = np.nan
    >>> for name, table in [("pm25_ground.txt", ground), ("pm25_missing.txt", missing)]:
    ...     table.to_csv(Path(tmp.name) / name, index_label="datetime",
    ...                  date_format="%Y/%m/%d %H:%M:%S")
    >>> data = load_pm25(tmp.name)
    >>> data.ground.shape, data.ground.index.freqstr, data.ground.columns.tolist()
    ((3, 2), 'h', ['001001', '001002'])
    >>> data.target_mask.sum().tolist()  # cells held out for scoring, per station
    [0, 2]
    >>> (Path(tmp.name) / "pm25_missing.txt").unlink()
    >>> load_pm25(tmp.name)
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] PM2.5 missing table (...) not found: ...
    >>> tmp.cleanup()
    """
    ground_path, missing_path = _locate(path)
    ground = _read_table(ground_path)
    missing = _read_table(missing_path)
    _check_consistent(ground, missing, ground_path, missing_path)
    return PM25Data(ground=ground, missing=missing)


def _locate(path: PathType) -> tuple[Path, Path]:
    root = existing_path(path, "PM2.5 data directory or pm25_ground.txt")
    if root.is_dir():
        ground, missing = root / _GROUND, root / _MISSING
    elif root.name == _MISSING:
        raise ValueError(
            f"{root}: pass the folder or the path of {_GROUND}, not {_MISSING}"
        )
    else:
        ground, missing = root, root.with_name(_MISSING)
    existing_path(ground, f"PM2.5 ground table ({_GROUND})")
    existing_path(
        missing, f"PM2.5 missing table ({_MISSING}, expected beside {_GROUND})"
    )
    return ground, missing


def _read_table(path: Path) -> pd.DataFrame:
    raw = read_csv(path, "a PM2.5 table (CSV)", dtype={"datetime": str})
    stations = [str(c) for c in raw.columns[1:]]
    if (
        len(raw.columns) < 2
        or raw.columns[0] != "datetime"
        or not all(_STATION.fullmatch(s) for s in stations)
    ):
        raise ValueError(
            f"{path}: expected a header 'datetime,001001,...' (a 'datetime' column "
            f"then numeric station ids); got {list(raw.columns[:4])}..."
        )
    index = parse_dates(raw["datetime"], path, fmt="%Y/%m/%d %H:%M:%S")
    frame = numeric_frame(raw.drop(columns="datetime"), path)
    frame.index = regular_index(index, path, freq="h").rename("time")
    frame.columns = pd.Index(stations, name="station")
    return frame


def _check_consistent(
    ground: pd.DataFrame, missing: pd.DataFrame, ground_path: Path, missing_path: Path
) -> None:
    where = f"{missing_path} vs {ground_path}"
    if ground.shape != missing.shape:
        raise ValueError(f"{where}: shapes differ ({missing.shape} vs {ground.shape})")
    if not ground.columns.equals(missing.columns):
        raise ValueError(f"{where}: station columns differ")
    if not ground.index.equals(missing.index):
        raise ValueError(f"{where}: time indexes differ")
    g, m = ground.to_numpy(), missing.to_numpy()
    present = ~np.isnan(m)
    bad = present & ~(m == g)  # also catches values present in missing but not ground
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{where}: every value present in the missing table must equal the "
            f"ground table; {int(bad.sum())} cells differ, first at "
            f"{ground.index[row]}, station {ground.columns[col]} "
            f"({m[row, col]} vs {g[row, col]})"
        )
