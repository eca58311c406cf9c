"""tsdiff: probabilistic forecasting and imputation with conditional diffusion models."""
