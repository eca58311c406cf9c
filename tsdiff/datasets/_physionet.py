"""PhysioNet/CinC Challenge 2012 ICU stays (set-a, set-b or set-c).

Each stay is a text file ``<RecordID>.txt`` of ``Time,Parameter,Value`` rows, Time
being ``hh:mm`` since ICU admission. The files are read as bytes (from a directory
or straight from the tar archive, without extracting), tagged with their RecordID,
concatenated and parsed by one ``pandas.read_csv`` call, which keeps the whole of
set-a (4000 files, 1.7 million rows) to about a second.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from tsdiff.datasets._common import PathType, check_header, existing_path, read_csv

__all__ = ["PHYSIONET_DESCRIPTORS", "PHYSIONET_VARIABLES", "load_physionet2012"]

# The 35 variables of the CSDI/BRITS grid, in their order (ermongroup/CSDI,
# dataset_physio.py, ``attributes``).
PHYSIONET_VARIABLES = (
    "DiasABP", "HR", "Na", "Lactate", "NIDiasABP", "PaO2", "WBC", "pH", "Albumin",
    "ALT", "Glucose", "SaO2", "Temp", "AST", "Bilirubin", "HCO3", "BUN", "RespRate",
    "Mg", "HCT", "SysABP", "FiO2", "K", "GCS", "Cholesterol", "NISysABP",
    "TroponinT", "MAP", "TroponinI", "PaCO2", "Platelets", "Urine", "NIMAP",
    "Creatinine", "ALP",
)  # fmt: skip
# General descriptors written once per stay at time 00:00.
PHYSIONET_DESCRIPTORS = ("RecordID", "Age", "Gender", "Height", "ICUType", "Weight")
_OUTCOME_COLUMNS = (
    "RecordID", "SAPS-I", "SOFA", "Length_of_stay", "Survival", "In-hospital_death",
)  # fmt: skip
_N_HOURS = 48
_STAY_FILE = re.compile(r"(\d+)\.txt")
_HEADER = b"Time,Parameter,Value"
_LAYOUTS = ("grid", "long", "static")


def load_physionet2012(
    path: PathType,
    *,
    outcomes: PathType | None = None,
    layout: str = "grid",
    max_records: int | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    r"""Load the ICU stays of the PhysioNet/CinC Challenge 2012.

    Parameters
    ----------
    path : str or path-like
        The ``set-a`` directory of per-stay ``<RecordID>.txt`` files, or a tar
        archive of them (``set-a.tar.gz``, ``.tgz`` or ``.tar``; read in memory,
        never extracted). Files whose name is not digits + ``.txt`` are ignored.
    outcomes : str or path-like, default=None
        ``Outcomes-a.txt``. If given, the outcomes of the loaded stays are returned
        too.
    layout : {"grid", "long", "static"}, default="grid"
        ``"grid"``: CSDI's hourly grid (see Returns). ``"long"``: every time-series
        record. ``"static"``: the per-stay descriptors.
    max_records : int, default=None
        Load only the first ``max_records`` stays in increasing RecordID order.

    Returns
    -------
    data : DataFrame
        ``layout="grid"``: shape (48 * n_stays, 35), index
        ``MultiIndex(RecordID: int64, hour: int64 0..47)`` sorted by RecordID,
        columns :data:`PHYSIONET_VARIABLES` (float64, named ``"variable"``). Row
        ``(r, h)`` holds, per variable, the value of the last line of stay ``r``'s
        file whose time has hour part ``h`` (``hh`` of ``hh:mm``), NaN when none;
        times of 48:00 and later are dropped. Every stay gives 48 rows, all NaN for
        stays with descriptors only. This is the grid built by CSDI's
        ``dataset_physio.py`` (``ermongroup/CSDI``), about 19 % observed cells.

        ``layout="long"``: columns ``RecordID`` (int64), ``time`` (Timedelta since
        admission), ``parameter`` (str, all 37 time-series parameters) and ``value``
        (float64), one row per record line, sorted by RecordID then time (stable).
        The general descriptors (the first ``RecordID``, ``Age``, ``Gender``,
        ``Height``, ``ICUType`` and ``Weight`` line at 00:00 of each stay) are left
        out; later ``Weight`` lines are kept as measurements.

        ``layout="static"``: one row per stay indexed by ``RecordID``, columns
        ``Age, Gender, Height, ICUType, Weight`` (float64; the files write -1 for
        unknown, kept as is).
    outcomes : DataFrame
        Only when ``outcomes`` is given: indexed by ``RecordID`` (same stays and
        order as ``data``), columns ``SAPS-I, SOFA, Length_of_stay, Survival,
        In-hospital_death`` (int64; -1 marks unknown values, as in the file).

    Raises
    ------
    FileNotFoundError
        If ``path`` or ``outcomes`` does not exist.
    ValueError
        If ``path`` is neither a directory nor a tar archive, holds no stay file, a
        stay file lacks the ``Time,Parameter,Value`` header or has a malformed line
        (the file is named), or the outcomes file has the wrong header.

    Notes
    -----
    Source: PhysioNet, "Predicting Mortality of ICU Patients: the
    PhysioNet/Computing in Cardiology Challenge 2012" (v1.0.0). Cite Silva, I.,
    Moody, G., Scott, D.J., Celi, L.A. and Mark, R.G. (2012), Computing in
    Cardiology 39, 245-248, and Goldberger, A. et al. (2000), "PhysioBank,
    PhysioToolkit, and PhysioNet", Circulation 101(23). Open access on PhysioNet
    (Open Data Commons Attribution licence, to be confirmed on the project page).

    Examples
    --------
    A ``set-a`` folder of two short stays, in a temporary folder:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from tsdiff.datasets import load_physionet2012
    >>> tmp = tempfile.TemporaryDirectory()
    >>> stays = Path(tmp.name) / "set-a"
    >>> stays.mkdir()
    >>> _ = (stays / "132539.txt").write_text("\n".join([
    ...     "Time,Parameter,Value", "00:00,RecordID,132539", "00:00,Age,54",
    ...     "00:07,HR,73", "00:37,HR,77", "01:15,HR,80", "01:15,Temp,36.8"]))
    >>> _ = (stays / "132540.txt").write_text("\n".join([
    ...     "Time,Parameter,Value", "00:00,RecordID,132540", "00:00,Age,76",
    ...     "02:30,Glucose,105"]))
    >>> grid = load_physionet2012(stays)
    >>> grid.shape, list(grid.index.names)  # 48 hours of 35 variables per stay
    ((96, 35), ['RecordID', 'hour'])
    >>> grid.loc[132539, "HR"].iloc[:3].tolist()  # the last value of each hour
    [77.0, 80.0, nan]
    >>> load_physionet2012(stays, layout="static")["Age"].tolist()
    [54.0, 76.0]
    >>> load_physionet2012(stays, layout="long")["parameter"].tolist()
    ['HR', 'HR', 'HR', 'Temp', 'Glucose']
    >>> tmp.cleanup()
    """
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be one of {_LAYOUTS}; got {layout!r}")
    if max_records is not None and (
        not isinstance(max_records, int) or max_records < 1
    ):
        raise ValueError(
            f"max_records must be a positive int or None; got {max_records!r}"
        )
    stays = _read_stays(existing_path(path, "PhysioNet 2012 set directory or archive"))
    if max_records is not None:
        stays = stays[:max_records]
    ids = np.array([rid for rid, _, _ in stays], dtype=np.int64)
    rows = _parse(stays)
    if layout == "grid":
        data = _grid(rows, ids)
    elif layout == "long":
        data = _long(rows)
    else:
        data = _static(rows, ids)
    if outcomes is None:
        return data
    return data, _read_outcomes(outcomes, ids)


def _read_stays(path: Path) -> list[tuple[int, str, bytes]]:
    """(RecordID, file name, content) of every stay file, sorted by RecordID."""
    if path.is_dir():
        stays = [
            (int(match[1]), str(file), file.read_bytes())
            for file in path.iterdir()
            if (match := _STAY_FILE.fullmatch(file.name)) and file.is_file()
        ]
    elif tarfile.is_tarfile(path):
        stays = []
        with tarfile.open(path) as archive:
            for member in archive:
                match = _STAY_FILE.fullmatch(member.name.rsplit("/", 1)[-1])
                if match and member.isfile():
                    content = archive.extractfile(member).read()
                    stays.append((int(match[1]), f"{path}:{member.name}", content))
    else:
        raise ValueError(
            f"{path}: expected a directory of per-stay <RecordID>.txt files or a tar "
            "archive (.tar.gz) of them"
        )
    if not stays:
        raise ValueError(f"{path}: no per-stay <RecordID>.txt files found")
    stays.sort(key=lambda stay: stay[0])
    ids = [rid for rid, _, _ in stays]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: several stay files share a RecordID")
    return stays


def _tagged_body(rid: int, name: str, content: bytes) -> bytes:
    """The data lines of one stay as ``rid,hh,mm,Parameter,Value`` lines."""
    content = content.replace(b"\r\n", b"\n").strip()
    header, _, body = content.partition(b"\n")
    if header.strip() != _HEADER:
        raise ValueError(
            f"{name}: expected the header 'Time,Parameter,Value'; got {header[:60]!r}"
        )
    if not body:
        return b""
    n_lines = body.count(b"\n") + 1
    if body.count(b",") != 2 * n_lines or body.count(b":") != n_lines:
        raise ValueError(
            f"{name}: expected lines 'hh:mm,Parameter,Value' (one ':' and two ',' "
            "per line)"
        )
    prefix = b"%d," % rid
    return prefix + body.replace(b":", b",").replace(b"\n", b"\n" + prefix)


def _parse(stays: list[tuple[int, str, bytes]]) -> pd.DataFrame:
    """All data lines: columns record, hh, mm, parameter, value, in file order."""
    text = b"\n".join(body for stay in stays if (body := _tagged_body(*stay)))
    names = ["record", "hh", "mm", "parameter", "value"]
    dtypes = {"record": "int64", "hh": "int64", "mm": "int64", "value": "float64"}
    if not text:  # only empty stays
        rows = pd.DataFrame(
            {n: pd.Series(dtype=dtypes.get(n, "category")) for n in names}
        )
        return rows
    rows = pd.read_csv(
        io.BytesIO(text), header=None, names=names, dtype={"parameter": "category"}
    )
    names_by_id = {rid: name for rid, name, _ in stays}
    if rows["parameter"].isna().any():
        row = int(np.flatnonzero(rows["parameter"].isna().to_numpy())[0])
        raise ValueError(
            f"{names_by_id[int(rows['record'].iloc[row])]}: empty Parameter field"
        )
    for column in ("hh", "mm", "value"):
        numbers = pd.to_numeric(rows[column], errors="coerce")
        bad = numbers.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{names_by_id[int(rows['record'].iloc[row])]}: unparsable "
                f"{'time' if column != 'value' else 'value'} in line "
                f"{rows.iloc[row, 1:].tolist()}"
            )
        rows[column] = numbers
    return rows


def _grid(rows: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    n_vars = len(PHYSIONET_VARIABLES)
    codes = rows["parameter"].cat.set_categories(PHYSIONET_VARIABLES).cat.codes
    codes = codes.to_numpy(np.int64)
    hour = rows["hh"].to_numpy(np.int64)
    keep = (codes >= 0) & (hour >= 0) & (hour < _N_HOURS)
    position = np.searchsorted(ids, rows["record"].to_numpy(np.int64)[keep])
    cell = (position * _N_HOURS + hour[keep]) * n_vars + codes[keep]
    values = rows["value"].to_numpy(np.float64)[keep]
    last = ~pd.Series(cell).duplicated(keep="last").to_numpy()  # last line wins
    grid = np.full(len(ids) * _N_HOURS * n_vars, np.nan)
    grid[cell[last]] = values[last]
    index = pd.MultiIndex.from_product(
        [ids, np.arange(_N_HOURS, dtype=np.int64)], names=["RecordID", "hour"]
    )
    columns = pd.Index(PHYSIONET_VARIABLES, name="variable")
    return pd.DataFrame(grid.reshape(-1, n_vars), index=index, columns=columns)


def _descriptor_lines(rows: pd.DataFrame) -> np.ndarray:
    """True on the first line of each descriptor at 00:00 of each stay."""
    at_zero = (rows["hh"] == 0) & (rows["mm"] == 0)
    candidate = np.flatnonzero(at_zero & rows["parameter"].isin(PHYSIONET_DESCRIPTORS))
    first = ~rows.iloc[candidate].duplicated(["record", "parameter"]).to_numpy()
    out = np.zeros(len(rows), dtype=bool)
    out[candidate[first]] = True
    return out


def _long(rows: pd.DataFrame) -> pd.DataFrame:
    kept = rows.loc[~_descriptor_lines(rows)]
    minutes = kept["hh"].to_numpy(np.int64) * 60 + kept["mm"].to_numpy(np.int64)
    record = kept["record"].to_numpy(np.int64)
    order = np.lexsort((minutes, record))  # stable: ties keep file order
    parameter = kept["parameter"].take(order).astype(str).reset_index(drop=True)
    return pd.DataFrame(
        {
            "RecordID": record[order],
            "time": pd.to_timedelta(minutes[order], unit="min"),
            "parameter": parameter,
            "value": kept["value"].to_numpy(np.float64)[order],
        }
    )


def _static(rows: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    static = rows.loc[_descriptor_lines(rows) & (rows["parameter"] != "RecordID")]
    table = static.pivot(index="record", columns="parameter", values="value")
    table = table.reindex(index=ids, columns=list(PHYSIONET_DESCRIPTORS[1:]))
    table.index.name = "RecordID"
    table.columns.name = "variable"
    return table.astype("float64")


def _read_outcomes(path: PathType, ids: np.ndarray) -> pd.DataFrame:
    file = existing_path(path, "PhysioNet 2012 outcomes file")
    what = "a PhysioNet 2012 outcomes file"
    table = read_csv(file, what)
    check_header(table.columns, _OUTCOME_COLUMNS, file, what)
    if table["RecordID"].duplicated().any():
        raise ValueError(f"{file}: RecordID values must be unique")
    table = table.set_index("RecordID")
    absent = np.setdiff1d(ids, table.index.to_numpy())
    if absent.size:
        raise ValueError(
            f"{file}: no outcome for {absent.size} loaded stays, e.g. RecordID "
            f"{absent[:5].tolist()}"
        )
    return table.loc[ids]
