"""tsdiff: probabilistic forecasting and imputation with conditional diffusion
models.

The estimators are imported on first use (PEP 562), so that ``import tsdiff.nn`` or
``import tsdiff.diffusion`` loads neither pandas nor scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["DiffusionForecaster", "DiffusionImputer", "__version__"]

__version__ = "0.1.0.dev0"

_LAZY = {
    "DiffusionForecaster": "tsdiff.forecaster",
    "DiffusionImputer": "tsdiff.imputer",
}

if TYPE_CHECKING:  # pragma: no cover
    from tsdiff.forecaster import DiffusionForecaster
    from tsdiff.imputer import DiffusionImputer


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'tsdiff' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
