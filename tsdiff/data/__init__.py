"""Data layer: scaling, sliding windows and stitching (numpy), mask policies (torch).

Series arrays are time-major, values (T, K) float with NaN allowed where unobserved and
``observed_mask`` (T, K) bool; windows are (N, L, K). Training windows stay views of
their series (:class:`WindowSource`), gathered per batch as (B, K, L) tensors. Masks
are torch bool tensors of shape (B, K, L), drawn per training batch on the training
device. No pandas here:
the converters :func:`from_long`, :func:`to_long` and :func:`to_nixtla` live in
:mod:`tsdiff.frames` and are offered here too, beside the rest of the data tools.
"""

from tsdiff.data.masks import (
    MASK_STRATEGIES,
    block_mask,
    draw_cond_mask,
    forecast_mask,
    historical_mask,
    mix_mask,
    random_mask,
)
from tsdiff.data.scaling import (
    SCALING_METHODS,
    Scaler,
    fit_panel_scaler,
    fit_scaler,
)
from tsdiff.data.source import WindowSource
from tsdiff.data.windows import (
    pad_left,
    sliding_windows,
    stitch_owner,
    stitch_windows,
    window_starts,
)
from tsdiff.frames._long import from_long, to_long
from tsdiff.frames._nixtla import to_nixtla

__all__ = [
    "MASK_STRATEGIES",
    "SCALING_METHODS",
    "Scaler",
    "WindowSource",
    "block_mask",
    "draw_cond_mask",
    "fit_panel_scaler",
    "fit_scaler",
    "from_long",
    "forecast_mask",
    "historical_mask",
    "mix_mask",
    "pad_left",
    "random_mask",
    "sliding_windows",
    "stitch_owner",
    "stitch_windows",
    "to_long",
    "to_nixtla",
    "window_starts",
]
