"""Small public-domain series shipped with statsmodels (``statsmodels.datasets``).

These need no download and no path. Each loader returns a fresh DataFrame indexed by
a regular DatetimeIndex (or PeriodIndex) with its frequency set, index named
``"date"`` and columns named ``"variable"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels import datasets as sm_datasets

from tsdiff.datasets._common import MONTHS as _MONTHS

__all__ = ["load_co2", "load_elnino", "load_macrodata", "load_nile", "load_sunspots"]


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame.index.name = "date"
    frame.columns.name = "variable"
    return frame


def _yearly(years: pd.Series, values: pd.Series, column: str) -> pd.DataFrame:
    """One column indexed by year starts, checking the years are consecutive."""
    years = years.to_numpy().astype(int)
    if not np.array_equal(np.diff(years), np.ones(len(years) - 1, dtype=int)):
        raise RuntimeError("statsmodels data: years are not consecutive")
    index = pd.date_range(f"{years[0]}-01-01", periods=len(years), freq="YS-JAN")
    return _finish(pd.DataFrame({column: values.to_numpy(np.float64)}, index=index))


def load_co2() -> pd.DataFrame:
    """Weekly atmospheric CO2 at Mauna Loa, March 1958 to December 2001.

    Returns
    -------
    DataFrame of shape (2284, 1)
        Column ``"co2"`` (ppm, float64); DatetimeIndex named ``"date"`` with
        ``freq="W-SAT"`` (weeks ending Saturday). 59 weeks are NaN: the native gaps
        of the record, useful as real missingness.

    Notes
    -----
    Source: ``statsmodels.datasets.co2`` (public domain), from the Scripps flask
    samples. Cite Keeling, C.D. and Whorf, T.P. (2004), "Atmospheric CO2
    concentrations derived from flask air samples at sites in the SIO network", in
    *Trends: A Compendium of Data on Global Change*, CDIAC, Oak Ridge National
    Laboratory.

    Examples
    --------
    >>> from tsdiff.datasets import load_co2
    >>> co2 = load_co2()
    >>> co2.shape, co2.index.freqstr
    ((2284, 1), 'W-SAT')
    >>> co2.loc["1958-05", "co2"].tolist()  # two weeks of May 1958 are gaps
    [316.9, nan, 317.5, 317.9, nan]
    >>> int(co2["co2"].isna().sum())
    59
    """
    frame = sm_datasets.co2.load_pandas().data.astype("float64")
    frame.index = pd.DatetimeIndex(frame.index, freq="W-SAT")
    return _finish(frame)


def load_macrodata() -> pd.DataFrame:
    """United States quarterly macroeconomic series, 1959Q1 to 2009Q3.

    Returns
    -------
    DataFrame of shape (203, 12)
        Numeric columns ``realgdp, realcons, realinv, realgovt, realdpi, cpi, m1,
        tbilrate, unemp, pop, infl, realint`` (float64; the ``year`` and ``quarter``
        columns of the source become the index). PeriodIndex named ``"date"`` with
        ``freq="Q-DEC"``. No missing values.

    Notes
    -----
    Source: ``statsmodels.datasets.macrodata`` (public domain), compiled by Skipper
    Seabold from FRED (Federal Reserve Bank of St. Louis) and the Bureau of Labor
    Statistics (unemployment rate).

    Examples
    --------
    >>> from tsdiff.datasets import load_macrodata
    >>> macro = load_macrodata()
    >>> macro.shape, macro.index.freqstr
    ((203, 12), 'Q-DEC')
    >>> macro.index[[0, -1]].strftime("%YQ%q").tolist()
    ['1959Q1', '2009Q3']
    >>> macro.loc["2008Q4", ["realgdp", "unemp"]].tolist()
    [13141.92, 6.9]
    """
    raw = sm_datasets.macrodata.load_pandas().data
    index = pd.PeriodIndex.from_fields(
        year=raw["year"].astype(int).to_numpy(),
        quarter=raw["quarter"].astype(int).to_numpy(),
        freq="Q-DEC",
    )
    frame = raw.drop(columns=["year", "quarter"]).astype("float64")
    frame.index = index
    if not (index[1:] - index[:-1] == index.freq).all():
        raise RuntimeError("statsmodels macrodata: quarters are not consecutive")
    return _finish(frame)


def load_sunspots() -> pd.DataFrame:
    """Yearly mean sunspot activity, 1700 to 2008.

    Returns
    -------
    DataFrame of shape (309, 1)
        Column ``"sunactivity"`` (float64); DatetimeIndex of year starts named
        ``"date"`` with ``freq="YS-JAN"``. No missing values.

    Notes
    -----
    Source: ``statsmodels.datasets.sunspots`` (public domain), from NOAA's National
    Geophysical Data Center solar data services.

    Examples
    --------
    >>> from tsdiff.datasets import load_sunspots
    >>> sun = load_sunspots()
    >>> sun.shape, sun.index.freqstr
    ((309, 1), 'YS-JAN')
    >>> sun["sunactivity"].idxmax().year, float(sun["sunactivity"].max())
    (1957, 190.2)
    """
    raw = sm_datasets.sunspots.load_pandas().data
    return _yearly(raw["YEAR"], raw["SUNACTIVITY"], "sunactivity")


def load_nile() -> pd.DataFrame:
    """Yearly flow volume of the Nile at Aswan, 1871 to 1970.

    Returns
    -------
    DataFrame of shape (100, 1)
        Column ``"volume"`` (10^8 m^3, float64); DatetimeIndex of year starts named
        ``"date"`` with ``freq="YS-JAN"``. No missing values.

    Notes
    -----
    Source: ``statsmodels.datasets.nile`` (public domain). Cite Cobb, G.W. (1978),
    "The problem of the Nile: conditional solution to a changepoint problem",
    *Biometrika* 65(2), 243-251.

    Examples
    --------
    >>> from tsdiff.datasets import load_nile
    >>> nile = load_nile()
    >>> nile.shape, nile.index.freqstr
    ((100, 1), 'YS-JAN')
    >>> nile.index[[0, -1]].year.tolist()
    [1871, 1970]
    >>> volume = nile["volume"]  # the mean flow drops after 1898 (Cobb's changepoint)
    >>> round(volume[:"1898"].mean()), round(volume["1899":].mean())
    (1098, 850)
    """
    raw = sm_datasets.nile.load_pandas().data
    return _yearly(raw["year"], raw["volume"], "volume")


def load_elnino() -> pd.DataFrame:
    """Monthly sea-surface temperature of the Nino 1+2 region, 1950 to 2010.

    The source table has one row per year and one column per month; it is read row
    by row into one long monthly series.

    Returns
    -------
    DataFrame of shape (732, 1)
        Column ``"sst"`` (degrees Celsius, float64); DatetimeIndex of month starts
        named ``"date"`` with ``freq="MS"``. No missing values.

    Notes
    -----
    Source: ``statsmodels.datasets.elnino`` (public domain), NOAA National Weather
    Service Climate Prediction Center, ERSST.V3B, Nino 1+2 index.

    Examples
    --------
    >>> from tsdiff.datasets import load_elnino
    >>> sst = load_elnino()
    >>> sst.shape, sst.index.freqstr
    ((732, 1), 'MS')
    >>> sst.index[[0, -1]].strftime("%Y-%m").tolist()
    ['1950-01', '2010-12']
    >>> by_month = sst["sst"].groupby(sst.index.month).mean().round(1)
    >>> by_month[[3, 9]].tolist()  # warmest in March, coolest in September
    [26.2, 20.6]
    """
    raw = sm_datasets.elnino.load_pandas().data
    years = raw["YEAR"].to_numpy().astype(int)
    if not np.array_equal(years, np.arange(years[0], years[0] + len(years))):
        raise RuntimeError("statsmodels elnino: years are not consecutive")
    values = raw.loc[:, list(_MONTHS)].to_numpy(np.float64).ravel()  # year-major
    index = pd.date_range(f"{years[0]}-01-01", periods=len(values), freq="MS")
    return _finish(pd.DataFrame({"sst": values}, index=index))
