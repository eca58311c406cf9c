"""The configuration of the denoiser: sizes of its layers and embeddings, the
covariate channels and seasonal lags it reads."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

__all__ = ["DenoiserConfig"]

_POSITIVE_INT_FIELDS = (
    "n_features",
    "n_layers",
    "n_channels",
    "n_heads",
    "time_embedding_dim",
    "feature_embedding_dim",
    "diffusion_embedding_dim",
    "patch_length",
    "time_kernel",
)


@dataclass(frozen=True)
class DenoiserConfig:
    """Hyperparameters of :class:`Denoiser` (CSDI's defaults).

    Parameters
    ----------
    n_features : int
        Rows of the learned variable-embedding table: variable ids lie in
        ``[0, n_features)``.
    n_layers : int, default=4
        Number of residual blocks.
    n_channels : int, default=64
        Residual width C (also the attention and feed-forward width).
    n_heads : int, default=8
        Attention heads; must divide ``n_channels``.
    time_embedding_dim : int, default=128
        Size of the sinusoidal embedding of time positions (even).
    feature_embedding_dim : int, default=16
        Size of the learned variable embedding.
    diffusion_embedding_dim : int, default=128
        Size of the noise-level embedding (even).
    n_covariates : int, default=0
        Channels of covariates per time step (known-future drivers, calendar
        features, static features repeated over time) that join the side
        information; 0 for none.
    lags : tuple of int, default=()
        Seasonal lags, in steps: for each lag s the input of every cell also holds
        the given value s steps earlier and s steps later in the same window (0
        where that value is not given or outside the window) with its mask, four
        input channels per lag. A seasonal pattern then reaches every cell
        directly instead of through attention (the lagged inputs of DeepAR,
        Salinas et al. 2020, and TSDiff, Kollovieh et al. 2023).
    interpolated_input : bool, default=False
        Also give every cell a coarse estimate from the given values of its
        variable: the straight line between the nearest given values before and
        after it, the nearest given value where there is one on one side only (the
        last value, for a forecast), 0 where the window gives none; one input
        channel. The network then refines an estimate instead of starting from
        zeros at the cells it predicts (the interpolated conditional input of
        PriSTI, Liu et al. 2023).
    patch_length : int, default=1
        Steps per token P: the network cuts every window into patches of P steps
        of one variable, reads each patch's input channels and side information
        as one token, runs its residual blocks over the (K, L / P) grid of tokens
        and maps every token back to its P values. Attention then costs
        ``K * (L / P) ** 2`` along time and ``(L / P) * K ** 2`` across
        variables, and every other layer ``1 / P`` of its cost at full
        resolution; the diffusion itself stays on the data grid, so given
        values condition every cell exactly. Window lengths must be multiples
        of P; 1 is the full resolution of CSDI.
    context_input : bool, default=False
        Also give every cell one input channel that it reads whatever the mask
        says: for a latent model, the encoding of the window's given values
        (:mod:`tsdiff.engine.latent`), through which the given values of a
        partly given patch reach the network. ``forward`` then takes it as
        ``context``.
    time_kernel : int, default=1
        Width of the depthwise convolution along time in every residual block,
        before its attention along time (odd; 1: none, CSDI's network). See
        :class:`~tsdiff.nn.layers.ResidualBlock`.

    Raises
    ------
    TypeError
        If a field is not an integer.
    ValueError
        If a field is not positive, ``n_heads`` does not divide ``n_channels``, an
        embedding size that must be even is odd, or ``time_kernel`` is even.

    Examples
    --------
    The side information has ``time_embedding_dim + feature_embedding_dim + 1 +
    n_covariates`` channels (``side_dim``):

    >>> from tsdiff.nn import DenoiserConfig
    >>> config = DenoiserConfig(n_features=3)
    >>> config.n_layers, config.n_channels, config.side_dim
    (4, 64, 145)
    >>> DenoiserConfig(n_features=3, n_covariates=2).side_dim
    147
    >>> DenoiserConfig(n_features=3, lags=(24, 168)).input_dim  # 2 + 4 per lag
    10
    >>> DenoiserConfig(n_features=3, interpolated_input=True).input_dim
    3
    >>> DenoiserConfig(n_features=3, patch_length=4).token_input_dim  # 2 per step
    8
    >>> DenoiserConfig(n_features=3, n_channels=8, n_heads=3)
    Traceback (most recent call last):
    ...
    ValueError: n_heads (3) must divide n_channels (8)
    """

    n_features: int
    n_layers: int = 4
    n_channels: int = 64
    n_heads: int = 8
    time_embedding_dim: int = 128
    feature_embedding_dim: int = 16
    diffusion_embedding_dim: int = 128
    n_covariates: int = 0
    lags: tuple = ()
    interpolated_input: bool = False
    patch_length: int = 1
    context_input: bool = False
    time_kernel: int = 1

    def __post_init__(self) -> None:
        for name in _POSITIVE_INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.time_kernel % 2 == 0:
            raise ValueError(f"time_kernel must be odd, got {self.time_kernel}")
        if self.n_channels % self.n_heads:
            raise ValueError(
                f"n_heads ({self.n_heads}) must divide n_channels ({self.n_channels})"
            )
        covariates = self.n_covariates
        if isinstance(covariates, bool) or not isinstance(covariates, Integral):
            raise TypeError(
                f"n_covariates must be an int, got {type(covariates).__name__}"
            )
        if covariates < 0:
            raise ValueError(f"n_covariates must be >= 0, got {covariates}")
        for name in ("time_embedding_dim", "diffusion_embedding_dim"):
            if getattr(self, name) % 2:
                raise ValueError(f"{name} must be even, got {getattr(self, name)}")
        lags = self.lags
        if not isinstance(lags, (tuple, list)) or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in lags
        ):
            raise ValueError(f"lags must be positive ints, got {lags!r}")
        object.__setattr__(self, "lags", tuple(int(s) for s in lags))
        for name in ("interpolated_input", "context_input"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(
                    f"{name} must be a bool, got {type(getattr(self, name)).__name__}"
                )

    @property
    def input_dim(self) -> int:
        """Input channels per cell: the given value, the noisy value, four per
        lag (given value and mask, ``lag`` steps earlier and later), the
        interpolated estimate if ``interpolated_input`` and the context if
        ``context_input``."""
        extra = int(self.interpolated_input) + int(self.context_input)
        return 2 + 4 * len(self.lags) + extra

    @property
    def token_input_dim(self) -> int:
        """Input channels per token: ``input_dim`` for each of its
        ``patch_length`` steps."""
        return self.input_dim * self.patch_length

    @property
    def token_side_dim(self) -> int:
        """Side-information channels per token: ``side_dim`` for each of its
        ``patch_length`` steps."""
        return self.side_dim * self.patch_length

    @property
    def side_dim(self) -> int:
        """Channels of the side information: time + variable embedding + cond mask
        + covariates."""
        return (
            self.time_embedding_dim + self.feature_embedding_dim + 1 + self.n_covariates
        )
