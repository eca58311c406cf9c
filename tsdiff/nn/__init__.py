"""Denoiser network: CSDI-style residual stack with time and variable attention.

Tensors are (B, K, L) (batch, variables, time). This package knows nothing of noise
schedules or samplers; it meets ``tsdiff.diffusion`` only at the call
``denoiser(x_t, noise_level, x_cond, cond_mask, side=...) -> prediction``.
"""

from tsdiff.nn.autoencoder import AutoencoderConfig, PatchAutoencoder
from tsdiff.nn.denoiser import Denoiser, DenoiserConfig

__all__ = ["AutoencoderConfig", "Denoiser", "DenoiserConfig", "PatchAutoencoder"]
