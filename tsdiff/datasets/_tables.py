"""Plain CSV/text benchmark tables: ETT, LSTNet exchange rate, ILI."""

from __future__ import annotations

import pandas as pd

from tsdiff.datasets._common import (
    PathType,
    check_header,
    existing_file,
    numeric_frame,
    parse_dates,
    read_csv,
    regular_index,
)

__all__ = [
    "ETT_COLUMNS",
    "EXCHANGE_RATE_COLUMNS",
    "ILI_COLUMNS",
    "load_ett",
    "load_exchange_rate",
    "load_ili",
]

ETT_COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
EXCHANGE_RATE_COLUMNS = (
    "Australia",
    "British",
    "Canada",
    "Switzerland",
    "China",
    "Japan",
    "New Zealand",
    "Singapore",
)
ILI_COLUMNS = (
    "% WEIGHTED ILI",
    "%UNWEIGHTED ILI",
    "AGE 0-4",
    "AGE 5-24",
    "ILITOTAL",
    "NUM. OF PROVIDERS",
    "OT",
)


def _dated_table(path: PathType, columns: tuple, what: str) -> pd.DataFrame:
    """A CSV with header ``date,<columns>``: DatetimeIndex "date", float columns."""
    file = existing_file(path, what)
    raw = read_csv(file, what, dtype={"date": str})
    check_header(raw.columns, ("date", *columns), file, what)
    frame = numeric_frame(raw.drop(columns="date"), file)
    frame.index = regular_index(parse_dates(raw["date"], file), file).rename("date")
    frame.columns = pd.Index(columns, name="variable")
    return frame


def load_ett(path: PathType) -> pd.DataFrame:
    """Load one ETT-small table (ETTh1, ETTh2, ETTm1 or ETTm2).

    Parameters
    ----------
    path : str or path-like
        The ``ETTh1.csv`` (or ``.csv.gz``, likewise for the other three) file.

    Returns
    -------
    DataFrame
        Shape (17420, 7) for ETTh*, (69680, 7) for ETTm*; columns ``HUFL, HULL,
        MUFL, MULL, LUFL, LULL, OT`` (float64; OT, the oil temperature, is the usual
        target), named ``"variable"``. DatetimeIndex named ``"date"`` from
        2016-07-01 00:00, with the frequency inferred from the dates (``"h"`` for
        ETTh, ``"15min"`` for ETTm; left unset if the dates are irregular). No
        missing values.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the header is not ``date,HUFL,...,OT``, a value is not numeric, or the
        dates do not parse or do not strictly increase.

    Notes
    -----
    Source: ``zhouhaoyi/ETDataset`` (ETT-small), licensed CC BY-ND 4.0: attribution
    required, modified copies may not be redistributed. Cite Zhou, H. et al. (2021),
    "Informer: beyond efficient transformer for long sequence time-series
    forecasting", AAAI.

    Examples
    --------
    A four-hour table in the layout of ``ETTh1.csv``, in a temporary folder:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.datasets import ETT_COLUMNS, load_ett
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "ETTh1.csv"
    >>> table = pd.DataFrame(np.arange(28.0).reshape(4, 7), columns=list(ETT_COLUMNS))
    >>> dates = pd.date_range("2016-07-01", periods=4, freq="h")
    >>> table.insert(0, "date", dates.strftime("%Y-%m-%d %H:%M:%S"))
    >>> table.to_csv(path, index=False)
    >>> ett = load_ett(path)
    >>> ett.shape, ett.index.name, ett.index.freqstr
    ((4, 7), 'date', 'h')
    >>> ett["OT"].tolist()
    [6.0, 13.0, 20.0, 27.0]

    A missing file or column is an error:

    >>> load_ett(Path(tmp.name) / "ETTh2.csv")
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] an ETT CSV file not found: '...ETTh2.csv'
    >>> table.drop(columns="OT").to_csv(path, index=False)
    >>> load_ett(path)
    Traceback (most recent call last):
    ...
    ValueError: ...ETTh1.csv: expected an ETT CSV file with header [...]; missing ['OT']
    >>> tmp.cleanup()
    """
    return _dated_table(path, ETT_COLUMNS, "an ETT CSV file")


def load_ili(path: PathType) -> pd.DataFrame:
    """Load the weekly US influenza-like-illness table (``national_illness.csv``).

    Parameters
    ----------
    path : str or path-like
        The ``national_illness.csv`` (or ``.csv.gz``) file of the Autoformer release.

    Returns
    -------
    DataFrame of shape (966, 7)
        Columns ``% WEIGHTED ILI, %UNWEIGHTED ILI, AGE 0-4, AGE 5-24, ILITOTAL,
        NUM. OF PROVIDERS, OT`` (float64), named ``"variable"``. DatetimeIndex named
        ``"date"``, weekly from 2002-01-01 to 2020-06-30 with the frequency inferred
        (``"W-TUE"``). No missing values.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the header differs from the one above, a value is not numeric, or the
        dates do not parse or do not strictly increase.

    Notes
    -----
    Source: US CDC FluView (ILINet), as packaged by the Autoformer authors (Wu, H.,
    Xu, J., Wang, J. and Long, M. (2021), "Autoformer: decomposition transformers
    with auto-correlation for long-term series forecasting", NeurIPS). No licence is
    stated for the table; cite the CDC for the underlying data.

    Examples
    --------
    Three weeks in the layout of ``national_illness.csv``, in a temporary folder:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.datasets import ILI_COLUMNS, load_ili
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "national_illness.csv"
    >>> table = pd.DataFrame(np.arange(21.0).reshape(3, 7), columns=list(ILI_COLUMNS))
    >>> dates = pd.date_range("2002-01-01", periods=3, freq="7D")
    >>> table.insert(0, "date", dates.strftime("%Y-%m-%d"))
    >>> table.to_csv(path, index=False)
    >>> ili = load_ili(path)
    >>> ili.shape, ili.index.freqstr  # weekly, on Tuesdays
    ((3, 7), 'W-TUE')
    >>> ili["ILITOTAL"].tolist()
    [4.0, 11.0, 18.0]
    >>> tmp.cleanup()
    """
    return _dated_table(path, ILI_COLUMNS, "an ILI CSV file (national_illness.csv)")


def load_exchange_rate(path: PathType) -> pd.DataFrame:
    """Load the LSTNet daily exchange rates of 8 currencies (``exchange_rate.txt``).

    Parameters
    ----------
    path : str or path-like
        The ``exchange_rate.txt`` or ``exchange_rate.txt.gz`` file: 8 comma-separated
        floats per line, no header.

    Returns
    -------
    DataFrame of shape (7588, 8)
        Columns named ``"variable"``, in LSTNet's order: ``Australia, British,
        Canada, Switzerland, China, Japan, New Zealand, Singapore`` (float64). The
        raw file carries no dates, so the index is a RangeIndex named ``"step"``
        (one step per day, 1990 to 2010); no missing values.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a line does not hold exactly 8 numbers.

    Notes
    -----
    Source: ``laiguokun/multivariate-time-series-data``. Cite Lai, G., Chang, W.,
    Yang, Y. and Liu, H. (2018), "Modeling long- and short-term temporal patterns
    with deep neural networks", SIGIR. No licence is stated.

    Examples
    --------
    Three days in the layout of ``exchange_rate.txt``, in a temporary folder:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from tsdiff.datasets import load_exchange_rate
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "exchange_rate.txt"
    >>> np.savetxt(path, np.arange(24.0).reshape(3, 8), delimiter=",")
    >>> rates = load_exchange_rate(path)
    >>> rates.shape, rates.index.name, rates.columns.tolist()[:3]
    ((3, 8), 'step', ['Australia', 'British', 'Canada'])
    >>> rates["Singapore"].tolist()
    [7.0, 15.0, 23.0]
    >>> np.savetxt(path, np.ones((3, 7)), delimiter=",")  # a currency short
    >>> load_exchange_rate(path)
    Traceback (most recent call last):
    ...
    ValueError: ...exchange_rate.txt: expected an LSTNet ... file ...; got 7 columns
    >>> tmp.cleanup()
    """
    what = "an LSTNet exchange-rate file (8 comma-separated columns, no header)"
    file = existing_file(path, what)
    raw = read_csv(file, what, header=None)
    if raw.shape[1] != len(EXCHANGE_RATE_COLUMNS):
        raise ValueError(f"{file}: expected {what}; got {raw.shape[1]} columns")
    frame = numeric_frame(raw, file)
    frame.columns = pd.Index(EXCHANGE_RATE_COLUMNS, name="variable")
    frame.index = pd.RangeIndex(len(frame), name="step")
    if frame.isna().any().any():
        raise ValueError(f"{file}: expected {what}; found empty fields")
    return frame
