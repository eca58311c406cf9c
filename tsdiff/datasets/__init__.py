"""Benchmark data sets: loaders for the standard public files and synthetic series.

No data file ships with tsdiff. The ``load_*`` functions that take a ``path`` read
the files of the official releases wherever the user keeps them (see
``datasets/README.md`` in the repository for sources, licences and citations); the
ones without a path return statsmodels' bundled public-domain series; ``make_*``
generate synthetic series with a known ground truth. Every loader returns pandas
objects with named indexes (a DatetimeIndex with its ``freq`` set wherever the data
lie on a regular grid) and NaN for missing values.
"""

from tsdiff.datasets._bundled import (
    load_co2,
    load_elnino,
    load_macrodata,
    load_nile,
    load_sunspots,
)
from tsdiff.datasets._gluonts import GluonTSData, load_exchange_rate_nips, load_gluonts
from tsdiff.datasets._physionet import (
    PHYSIONET_DESCRIPTORS,
    PHYSIONET_VARIABLES,
    load_physionet2012,
)
from tsdiff.datasets._pm25 import PM25Data, load_pm25
from tsdiff.datasets._synthetic import SyntheticData, make_seasonal_ar
from tsdiff.datasets._tables import (
    ETT_COLUMNS,
    EXCHANGE_RATE_COLUMNS,
    ILI_COLUMNS,
    load_ett,
    load_exchange_rate,
    load_ili,
)
from tsdiff.datasets._tsf import TSFData, load_tsf

__all__ = [
    "ETT_COLUMNS",
    "EXCHANGE_RATE_COLUMNS",
    "ILI_COLUMNS",
    "PHYSIONET_DESCRIPTORS",
    "PHYSIONET_VARIABLES",
    "GluonTSData",
    "PM25Data",
    "SyntheticData",
    "TSFData",
    "load_co2",
    "load_elnino",
    "load_ett",
    "load_exchange_rate",
    "load_exchange_rate_nips",
    "load_gluonts",
    "load_ili",
    "load_macrodata",
    "load_nile",
    "load_physionet2012",
    "load_pm25",
    "load_sunspots",
    "load_tsf",
    "make_seasonal_ar",
]
