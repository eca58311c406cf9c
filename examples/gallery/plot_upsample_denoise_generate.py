"""
Upsample, denoise and generate
==============================

One fitted :class:`~tsdiff.DiffusionImputer` answers three more questions:
``upsample`` refines a coarse series onto the fitted grid, ``denoise`` draws the
clean series behind noisy readings, and ``generate`` draws new series that look
like the training data. The data are synthetic hourly series with a daily cycle
(:func:`tsdiff.datasets.make_seasonal_ar`), so the truth behind every coarse,
noisy or missing value is known.
"""

# %%
# Settings
# --------
# ``unconditional_share=0.2`` trains a fifth of the windows with nothing given,
# which is what ``denoise``, ``generate`` and ``upsample(how="mean")`` ask of the
# network. The default ``time_kernel=7`` lets every step of a window read its
# neighbours (a convolution along time in every block), which a window with no
# given value near a step needs: with ``time_kernel=1`` (CSDI's network) the series
# this script generates come out as white noise in time. A small network for a CPU;
# ``TSDIFF_EXAMPLE_TINY=1`` (the tests) trains a tiny one for a few steps.

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from tsdiff import DiffusionImputer
from tsdiff.datasets import make_seasonal_ar

TINY = os.environ.get("TSDIFF_EXAMPLE_TINY") == "1"
network = dict(
    n_layers=2,
    n_channels=32,
    n_heads=4,
    time_embedding_dim=32,
    feature_embedding_dim=8,
    diffusion_embedding_dim=64,
    n_epochs=20,
    steps_per_epoch=50,
    num_samples=50,
    random_state=0,
)
if TINY:
    network |= dict(n_layers=1, n_channels=16, n_heads=2, n_epochs=1)
    network |= dict(steps_per_epoch=5, n_diffusion_steps=5, num_samples=16)
    network |= dict(device="cpu")

# %%
# Fit on hourly data
# ------------------
# Two series of 60 days; ``truth`` has no missing value.

data = make_seasonal_ar(n_steps=24 * 60, n_series=2, missing_rate=0.0, random_state=0)
hourly = data.truth
imputer = DiffusionImputer(window_length=48, unconditional_share=0.2, **network)
imputer.fit(hourly)
hourly.head()

# %%
# Upsample 3-hourly means
# -----------------------
# Each coarse value is the mean of three hours; ``how="mean"`` draws hourly
# values whose every sample averages to it over its block.

day = hourly.loc["2024-02-20":"2024-02-22"]
coarse = day.resample("3h").mean()
fine = imputer.upsample(coarse, factor=3, how="mean", alpha=(0.05, 0.5, 0.95))
fine.head(6)

# %%
# Denoise readings with known noise
# ---------------------------------
# Gaussian noise of standard deviation 0.5 on every reading; ``denoise`` reads
# them all and keeps none as it is.

rng = np.random.default_rng(1)
noise = pd.DataFrame(rng.normal(0, 0.5, day.shape), day.index, day.columns)
noisy = day + noise
clean = imputer.denoise(noisy, noise_std=0.5, alpha=(0.05, 0.5, 0.95))
median = clean.xs(0.5, axis=1, level="quantile")
rmse = pd.DataFrame(
    {
        "noisy readings": np.sqrt((noise**2).mean()),  # per variable
        "denoised median": np.sqrt(((median - day) ** 2).mean()),
    }
)
rmse.rename_axis("RMSE against the truth", axis=1)

# %%
# Generate new series
# -------------------
# Three series of three days, dated from a start of our choosing: rows
# ``(series, time)``, the panel layout.

fake = imputer.generate(n_series=3, length=72, start="2024-03-01")
fake.head()

# %%
# The figure shows the first variable: the 3-hourly means and the upsampled
# hours, the noisy readings and the denoised median, and three generated series
# beside three real days.

fig, axes = plt.subplots(3, 1, figsize=(8, 8.5))
ax = axes[0]
ax.plot(day.index, day["y0"], color="0.6", label="truth")
ax.step(coarse.index, coarse["y0"], where="post", color="k", label="3-hour means")
ax.fill_between(
    fine.index, fine["y0", 0.05], fine["y0", 0.95], alpha=0.3, label="90 % interval"
)
ax.plot(fine.index, fine["y0", 0.5], label="upsampled median")
ax.set_title("upsample(coarse, factor=3, how='mean')")
ax = axes[1]
ax.plot(day.index, day["y0"], color="0.6", label="truth")
ax.plot(noisy.index, noisy["y0"], ".", color="k", markersize=3, label="noisy")
ax.fill_between(
    clean.index, clean["y0", 0.05], clean["y0", 0.95], alpha=0.3, label="90 % interval"
)
ax.plot(clean.index, clean["y0", 0.5], label="denoised median")
ax.set_title("denoise(noisy, noise_std=0.5)")
ax = axes[2]
for k in range(3):
    real = hourly["y0"].iloc[24 * 7 * k : 24 * 7 * k + 72].to_numpy()
    ax.plot(real, color="0.6", label="real" if k == 0 else None)
    ax.plot(fake.loc[k, "y0"].to_numpy(), label=f"generated {k}")
ax.set_xlabel("hour")
ax.set_title("generate(n_series=3, length=72)")
for ax in axes:
    ax.legend(loc="upper left", fontsize="small", ncols=2)
plt.tight_layout()
