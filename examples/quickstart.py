"""Quickstart: impute the gaps of the weekly Mauna Loa CO2 series and forecast a year.

The data ship with statsmodels (``statsmodels.datasets.co2``): weekly CO2 concentration,
1958-2001, with 59 weeks missing. The script

1. fills the gaps with :class:`tsdiff.DiffusionImputer` and prints the quantiles of the
   imputed weeks,
2. forecasts the next 52 weeks with :class:`tsdiff.DiffusionForecaster`, prints the
   quantile and interval frames, and
3. writes a fan chart to ``quickstart_forecast.png`` (or the path given).

It uses the GPU when there is one and a small configuration that runs in under two
minutes on a laptop CPU.

Usage::

    python examples/quickstart.py [--out quickstart_forecast.png]
"""

import argparse
import logging
import time

import matplotlib

matplotlib.use("Agg")

import statsmodels.api as sm  # noqa: E402

from tsdiff import DiffusionForecaster, DiffusionImputer  # noqa: E402
from tsdiff.plotting import plot_forecast  # noqa: E402

logger = logging.getLogger("quickstart")

SMALL = dict(
    n_layers=2,
    n_channels=32,
    n_heads=4,
    time_embedding_dim=32,
    feature_embedding_dim=8,
    diffusion_embedding_dim=64,
    num_samples=50,
    random_state=0,
)
"""Half the default network's blocks and channels, for a laptop CPU."""

IMPUTER = dict(SMALL, window_length=52, n_epochs=6, steps_per_epoch=30)
"""The imputer of the quickstart: 180 optimiser steps."""

FORECASTER = dict(
    SMALL, context_length=104, prediction_length=52, n_epochs=10, steps_per_epoch=30
)
"""The forecaster of the quickstart: two years of context, one ahead, 300 optimiser
steps. Its seasonal lag of 52 weeks (``lags="auto"``) hands every week last year's
value, so the yearly cycle is learned in a few hundred steps; the tests check that
it beats seasonal naive on the last year of the series."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="quickstart_forecast.png")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    co2 = sm.datasets.co2.load_pandas().data  # weekly, DatetimeIndex, NaN = missing
    logger.info("CO2: %d weeks, %d missing", len(co2), int(co2["co2"].isna().sum()))

    start = time.perf_counter()
    imputer = DiffusionImputer(**IMPUTER).fit(co2)
    filled = imputer.transform(co2)
    gaps = co2["co2"].isna()
    quantiles = imputer.predict_quantiles(co2, alpha=(0.05, 0.5, 0.95))
    logger.info(
        "Imputed weeks (on %s, %.0f s):\n%s",
        imputer.device_,
        time.perf_counter() - start,
        quantiles[gaps.to_numpy()].head(8),
    )

    start = time.perf_counter()
    forecaster = DiffusionForecaster(**FORECASTER).fit(filled)
    forecast = forecaster.predict_quantiles(alpha=(0.05, 0.25, 0.5, 0.75, 0.95))
    intervals = forecaster.predict_interval(coverage=(0.5, 0.9))
    logger.info(
        "Forecast quantiles (%.0f s):\n%s", time.perf_counter() - start, forecast.head()
    )
    logger.info("Forecast intervals:\n%s", intervals.head())

    ax = plot_forecast(filled, forecast, max_history=260)
    ax.set_ylabel("CO2 (ppm)")
    ax.figure.savefig(args.out, dpi=120, bbox_inches="tight")
    logger.info("Fan chart written to %s", args.out)


if __name__ == "__main__":
    main()
