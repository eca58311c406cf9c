"""tsdiff: probabilistic forecasting and imputation with conditional diffusion
models."""

from tsdiff.forecaster import DiffusionForecaster
from tsdiff.imputer import DiffusionImputer

__all__ = ["DiffusionForecaster", "DiffusionImputer", "__version__"]

__version__ = "0.1.0.dev0"
