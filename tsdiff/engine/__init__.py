"""Training and batched sampling of a denoiser on a device, on arrays of windows.

The engine knows nothing of pandas or estimators. Its :class:`DiffusionModel` holds a
network, its noise process, window frame and training mask policy: it trains on a
:class:`~tsdiff.data.WindowSource` (series and window starts) and samples windows of
shape (N, L, K) into samples of shape (S, N, L, K). Below it, :func:`fit_network` and
:func:`sample_network` work in the network's layout, (B, K, L). The network and the
noise process meet in ``_denoise``, through a ``denoise(x_t, t)`` closure that binds
each batch's conditioning.
"""

from tsdiff.engine._fingerprint import SETTINGS_BEFORE_OPTIONS
from tsdiff.engine.budget import auto_batch_size
from tsdiff.engine.compilation import COMPILE_MODES
from tsdiff.engine.constraints import BlockMeans
from tsdiff.engine.lr import LR_SCHEDULES
from tsdiff.engine.mask_policy import MaskPolicy
from tsdiff.engine.model import DiffusionModel
from tsdiff.engine.sampling import SamplingConfig, sample_network
from tsdiff.engine.training import TrainingConfig, fit_network

__all__ = [
    "LR_SCHEDULES",
    "COMPILE_MODES",
    "SETTINGS_BEFORE_OPTIONS",
    "BlockMeans",
    "DiffusionModel",
    "MaskPolicy",
    "SamplingConfig",
    "TrainingConfig",
    "auto_batch_size",
    "fit_network",
    "sample_network",
]
