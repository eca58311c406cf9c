"""Training and batched sampling of a denoiser on a device, on arrays of windows.

The engine knows nothing of pandas or estimators: it trains on a
:class:`~tsdiff.data.WindowSource` (series and window starts, batches (B, K, L)),
samples windows of shape (N, K, L) and returns samples of shape (S, N, K, L). The
network and the noise process meet in ``_denoise``, through a ``denoise(x_t, t)``
closure that binds each batch's conditioning.
"""

from tsdiff.engine.budget import auto_batch_size
from tsdiff.engine.lr import LR_SCHEDULES
from tsdiff.engine.sampling import SamplingConfig, sample_network
from tsdiff.engine.training import TrainingConfig, fit_network

__all__ = [
    "LR_SCHEDULES",
    "SamplingConfig",
    "TrainingConfig",
    "auto_batch_size",
    "fit_network",
    "sample_network",
]
