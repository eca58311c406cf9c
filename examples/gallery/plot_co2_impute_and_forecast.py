"""
Impute and forecast the Mauna Loa CO2 series
============================================

statsmodels ships the weekly CO2 concentration measured at Mauna Loa from 1958 to
2001, with 59 weeks missing. A :class:`~tsdiff.DiffusionImputer` fills the gaps,
with quantiles for every filled week; a :class:`~tsdiff.DiffusionForecaster`
trained on the filled series then forecasts the next year. The script
``examples/quickstart.py`` of the repository does the same from the command line.
"""

# %%
# Settings
# --------
# Half the default network's blocks and channels, for a CPU (the default
# network is meant for a GPU). ``TSDIFF_EXAMPLE_TINY=1`` shrinks it to a few
# training steps of a tiny network, for the tests.

import os

import matplotlib.pyplot as plt

from tsdiff import DiffusionForecaster, DiffusionImputer
from tsdiff.datasets import load_co2
from tsdiff.plotting import plot_forecast, plot_imputation

TINY = os.environ.get("TSDIFF_EXAMPLE_TINY") == "1"
network = dict(
    n_layers=2,
    n_channels=32,
    n_heads=4,
    time_embedding_dim=32,
    feature_embedding_dim=8,
    diffusion_embedding_dim=64,
    num_samples=50,
    random_state=0,
)
training = dict(n_epochs=10, steps_per_epoch=30)
if TINY:
    network |= dict(n_layers=1, n_channels=16, n_heads=2, num_samples=16)
    network |= dict(n_diffusion_steps=5, device="cpu")
    training = dict(n_epochs=1, steps_per_epoch=5)

# %%
# The data
# --------
# A DataFrame with a weekly ``DatetimeIndex``; NaN marks the missing weeks, such
# as five of the nine weeks below.

co2 = load_co2()
gaps = co2["co2"].isna()
co2.loc["1958-04-26":"1958-06-21"]

# %%
# Fill the gaps
# -------------
# ``transform`` fills every gap with the median of the imputation samples and
# leaves the observed weeks as they are; ``predict_quantiles`` gives the
# quantiles of every week (observed weeks have all their quantiles equal to the
# value).

imputer = DiffusionImputer(window_length=52, **network, **training).fit(co2)
filled = imputer.transform(co2)
quantiles = imputer.predict_quantiles(co2, alpha=(0.05, 0.25, 0.5, 0.75, 0.95))
quantiles[gaps.to_numpy()].head()

# %%
# 1964 lost 21 weeks. The chart shows the observed weeks, and over each gap the
# median with the 50 % and 90 % intervals.

ax = plot_imputation(co2.loc["1963":"1965"], quantiles.loc["1963":"1965"])
ax.set_ylabel("CO2 (ppm)")
plt.tight_layout()

# %%
# Forecast a year ahead
# ---------------------
# Two years of context, one year of horizon. The forecaster reads last year's
# value at every week (``lags="auto"``) and the day of the year
# (``calendar="auto"``), and calibrates its intervals on held-out horizons at the
# end of the series (``calibration_windows="auto"``).

forecaster = DiffusionForecaster(
    context_length=104, prediction_length=52, **network, **training
).fit(filled)
forecast = forecaster.predict_quantiles(alpha=(0.05, 0.25, 0.5, 0.75, 0.95))
forecast.head()

# %%
# The same samples give the intervals, columns ``(variable, coverage, bound)``:

forecaster.predict_interval(coverage=(0.5, 0.9)).head()

# %%
# A fan chart of the last five years and the forecast:

ax = plot_forecast(filled, forecast, max_history=260)
ax.set_ylabel("CO2 (ppm)")
plt.tight_layout()
