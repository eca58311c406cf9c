"""Training and batched sampling of a denoiser on a device, on arrays of windows.

The engine knows nothing of pandas or estimators: it takes windows of shape (N, K, L)
and returns samples of shape (S, N, K, L). The network and the noise process meet in
``_denoise``, through a ``denoise(x_t, t)`` closure that binds each batch's
conditioning.
"""

from tsdiff.engine.sampling import SamplingConfig, sample_network
from tsdiff.engine.training import TrainingConfig, fit_network

__all__ = ["SamplingConfig", "TrainingConfig", "fit_network", "sample_network"]
