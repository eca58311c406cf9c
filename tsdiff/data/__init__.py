"""Data layer: scaling, sliding windows and stitching (numpy), mask policies (torch).

Series arrays are time-major, values (T, K) float with NaN allowed where unobserved and
``observed_mask`` (T, K) bool; windows are (N, L, K). Training windows stay views of
their series (:class:`WindowSource`), gathered per batch as (B, K, L) tensors. Masks
are torch bool tensors of shape (B, K, L), drawn per training batch on the training
device. No pandas here: the table converters :func:`~tsdiff.frames.from_long`,
:func:`~tsdiff.frames.to_long` and :func:`~tsdiff.frames.to_nixtla` live in
:mod:`tsdiff.frames` (their old names here still work, with a FutureWarning).
"""

import importlib
from typing import Any

from tsdiff.data.masks import (
    MASK_STRATEGIES,
    block_mask,
    draw_cond_mask,
    forecast_mask,
    historical_mask,
    mix_mask,
    random_mask,
    strided_mask,
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

__all__ = [
    "MASK_STRATEGIES",
    "SCALING_METHODS",
    "Scaler",
    "WindowSource",
    "block_mask",
    "draw_cond_mask",
    "fit_panel_scaler",
    "fit_scaler",
    "forecast_mask",
    "historical_mask",
    "mix_mask",
    "pad_left",
    "random_mask",
    "strided_mask",
    "sliding_windows",
    "stitch_owner",
    "stitch_windows",
    "window_starts",
]

_MOVED = ("from_long", "to_long", "to_nixtla")


def __getattr__(name: str) -> Any:
    # The converters moved to tsdiff.frames (pandas stays above this layer); the old
    # names keep working for a while, loading tsdiff.frames only when asked for.
    if name in _MOVED:
        import warnings

        warnings.warn(
            f"tsdiff.data.{name} is now tsdiff.frames.{name}; the old name will be "
            "removed in a later release.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module("tsdiff.frames"), name)
    raise AttributeError(f"module 'tsdiff.data' has no attribute {name!r}")
