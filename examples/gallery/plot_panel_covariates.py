"""
Forecast a panel with covariates
================================

Three stores sell more when a promotion runs and follow a daily cycle. Their sales
come as one long table, a row per store and hour. The promotion calendar is known in
advance, so it is a known-future covariate ``X``; the floor area of each store is a
static covariate; the hour and weekday come from the time index. One global
:class:`~tsdiff.DiffusionForecaster` learns all three stores and forecasts them in
one batch.
"""

# %%
# Settings
# --------
# A small network for a CPU; ``TSDIFF_EXAMPLE_TINY=1`` (the tests) trains a tiny
# one for a few steps.

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from tsdiff import DiffusionForecaster
from tsdiff.frames import to_long

TINY = os.environ.get("TSDIFF_EXAMPLE_TINY") == "1"
network = dict(
    n_layers=2,
    n_channels=32,
    n_heads=4,
    time_embedding_dim=32,
    feature_embedding_dim=8,
    diffusion_embedding_dim=64,
    n_epochs=10,
    steps_per_epoch=30,
    num_samples=50,
    random_state=0,
)
if TINY:
    network |= dict(n_layers=1, n_channels=16, n_heads=2, n_epochs=1)
    network |= dict(steps_per_epoch=5, n_diffusion_steps=5, num_samples=16)
    network |= dict(device="cpu")

# %%
# A long table
# ------------
# Four weeks of hourly sales per store, with the promotions beside them.

rng = np.random.default_rng(0)
hours = pd.date_range("2024-01-01", periods=24 * 28, freq="h")
area = {"north": 120.0, "south": 300.0, "west": 80.0}
rows = []
for store, size in area.items():
    promo = (rng.random(len(hours)) < 0.1).astype(float)
    daily = 1 + 0.5 * np.sin(2 * np.pi * hours.hour / 24)
    sales = size * (daily + 0.8 * promo) + rng.normal(0, 5, len(hours))
    rows.append(pd.DataFrame({"store": store, "hour": hours, "sales": sales}))
    rows[-1]["promo"] = promo
table = pd.concat(rows, ignore_index=True)
table.head()

# %%
# The last day of every store is kept for scoring. The promotions are known for
# the whole period, the day to forecast included.

horizon = 24
last_day = table["hour"] >= hours[-horizon]
y = table.loc[~last_day, ["store", "hour", "sales"]]
X = table[["store", "hour", "promo"]]
static = pd.DataFrame({"area_m2": list(area.values())}, index=list(area))

# %%
# Fit and forecast
# ----------------
# ``id_col`` and ``time_col`` name the columns of the long tables. Each store is
# scaled by its own statistics; the windows of all stores train one network.
# ``calendar="auto"`` adds the hour and the weekday, and ``lags="auto"`` the value
# a day earlier and later in the window (both are the defaults).

forecaster = DiffusionForecaster(
    context_length=48, prediction_length=horizon, **network
)
forecaster.fit(y, X=X, static=static, id_col="store", time_col="hour")
forecast = forecaster.predict_quantiles(X=X, alpha=(0.05, 0.5, 0.95))
forecast.head()

# %%
# :func:`tsdiff.frames.to_long` turns the forecast into a long table again, one
# row per store, hour and quantile:

to_long(forecast).head(6)

# %%
# How often the last day fell inside the 90 % interval, per store:

truth = table.loc[last_day].set_index(["store", "hour"])["sales"]
lower, upper = forecast["sales", 0.05], forecast["sales", 0.95]
inside = (truth >= lower) & (truth <= upper)
inside.groupby(level="store").mean().rename("covered by the 90 % interval").to_frame()

# %%
# Fan charts of two stores after their last two days, beside what came true:
# nested 50, 80 and 95 % intervals and the median.

axes = forecaster.plot(
    X=X,
    series=["north", "south"],
    truth=truth.to_frame(),
    max_history=48,
)
plt.tight_layout()
