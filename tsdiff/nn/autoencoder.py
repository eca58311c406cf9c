"""The patch autoencoder of latent diffusion: every patch of P steps of W variables
to D latent values and back.

Latent windows keep the network's layout, (B, K / W, L / P * D) (K rounded up to
whole groups of W variables): the D values of patch p of a group lie side by side
at positions ``p * D ... p * D + D - 1``, so a :class:`~tsdiff.nn.Denoiser` with
``patch_length=D`` reads each patch's latent as one token. The encoder sees one patch
at a time, never its neighbours or other groups: a patch whose values are all given
encodes the same whatever else the window holds, which is what keeps conditioning
exact in the latent (see :mod:`tsdiff.engine.latent`). A last group short of W
variables is filled with given zeros, which every patch of it encodes and decodes
like any other given value.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsdiff.nn.layers import init_linear

__all__ = ["AutoencoderConfig", "PatchAutoencoder"]


@dataclass(frozen=True)
class AutoencoderConfig:
    """Sizes of :class:`PatchAutoencoder`.

    Parameters
    ----------
    patch_length : int
        Steps per patch P.
    latent_dim : int
        Latent values per patch D; ``P * W / D`` is the compression.
    hidden_dim : int, default=64
        Width of the two hidden layers of the encoder and of the decoder.
    patch_width : int, default=1
        Variables per patch W (neighbouring variables of the window, in order).

    Examples
    --------
    >>> from tsdiff.nn.autoencoder import AutoencoderConfig
    >>> AutoencoderConfig(patch_length=8, latent_dim=4).hidden_dim
    64
    >>> AutoencoderConfig(patch_length=8, latent_dim=16, patch_width=4).patch_width
    4
    >>> AutoencoderConfig(patch_length=8, latent_dim=0)
    Traceback (most recent call last):
    ...
    ValueError: latent_dim must be >= 1, got 0
    """

    patch_length: int
    latent_dim: int
    hidden_dim: int = 64
    patch_width: int = 1

    def __post_init__(self) -> None:
        for name in ("patch_length", "latent_dim", "hidden_dim", "patch_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")


class PatchAutoencoder(nn.Module):
    """Encoder and decoder of patches of P steps of W variables, shared by every
    group of variables.

    The encoder reads a patch's values where they are given (0 elsewhere) and its
    mask, 2PW inputs, through two hidden layers to D latent values; the decoder maps
    D values and the patch's given values and mask (D + 2PW inputs) through two
    hidden layers back to its PW cells, so that the cells it fills agree with the
    given cells beside them in the patch. Latents are divided by
    ``latent_scale`` (set after training to their spread on the training windows,
    the scale factor of Rombach et al., 2022), so that they meet the unit-variance
    noise of the diffusion.

    Parameters
    ----------
    config : AutoencoderConfig

    References
    ----------
    Rombach, R., Blattmann, A., Lorenz, D., Esser, P., Ommer, B. (2022).
    High-Resolution Image Synthesis with Latent Diffusion Models. CVPR.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.autoencoder import AutoencoderConfig, PatchAutoencoder
    >>> codec = PatchAutoencoder(AutoencoderConfig(patch_length=4, latent_dim=2))
    >>> x = torch.randn(3, 5, 12)  # (B, K, L)
    >>> given = torch.ones_like(x, dtype=torch.bool)
    >>> z = codec.encode(x, given)
    >>> z.shape  # (B, K, L / P * D)
    torch.Size([3, 5, 6])
    >>> codec.decode(z, x, given).shape
    torch.Size([3, 5, 12])
    """

    def __init__(self, config: AutoencoderConfig) -> None:
        if not isinstance(config, AutoencoderConfig):
            raise TypeError(
                f"config must be an AutoencoderConfig, got {type(config).__name__}"
            )
        super().__init__()
        self.config = config
        D, H = config.latent_dim, config.hidden_dim
        cells = config.patch_length * config.patch_width  # P * W
        self.encoder = nn.ModuleList(
            [nn.Linear(2 * cells, H), nn.Linear(H, H), nn.Linear(H, D)]
        )
        self.decoder = nn.ModuleList(
            [nn.Linear(D + 2 * cells, H), nn.Linear(H, H), nn.Linear(H, cells)]
        )
        self.register_buffer("latent_scale", torch.zeros(()))
        self.reset_parameters()

    @property
    def trained(self) -> bool:
        """Whether :attr:`latent_scale` has been set (by training)."""
        return bool(self.latent_scale > 0)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-initialise every weight from ``generator`` (global if None) and mark
        the autoencoder untrained.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
        >>> codec = PatchAutoencoder(AutoencoderConfig(patch_length=4, latent_dim=2))
        >>> codec.reset_parameters(torch.Generator().manual_seed(0))
        >>> codec.trained
        False
        """
        for layer in (*self.encoder, *self.decoder):
            init_linear(layer, "kaiming", generator)
        with torch.no_grad():
            self.latent_scale.zero_()

    def encode(self, values: Tensor, given: Tensor) -> Tensor:
        """Latent of every patch from its given values.

        Parameters
        ----------
        values : Tensor of shape (B, K, L)
            Values; only those where ``given`` is True are read.
        given : Tensor of shape (B, K, L), bool

        Returns
        -------
        Tensor of shape (B, ceil(K / W), L / P * D)

        Examples
        --------
        Values where ``given`` is False are never read:

        >>> import torch
        >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
        >>> codec = PatchAutoencoder(AutoencoderConfig(patch_length=2, latent_dim=1))
        >>> given = torch.tensor([[[True, False, True, True]]])
        >>> a = codec.encode(torch.tensor([[[1.0, 5.0, 2.0, 3.0]]]), given)
        >>> b = codec.encode(torch.tensor([[[1.0, -9.0, 2.0, 3.0]]]), given)
        >>> a.shape, torch.equal(a, b)
        (torch.Size([1, 1, 2]), True)
        """
        z = _mlp(self.encoder, self._patches(values, given))  # (B, G, L / P, D)
        z = z / self._scale()
        return z.flatten(2)  # (B, G, L / P * D), G = ceil(K / W)

    def patches(self, cells: Tensor, fill: bool | float) -> Tensor:
        """The cells of every patch side by side: (B, K, L) to (B, G, L / P, P * W)
        with G = ceil(K / W), a last group short of W variables filled with
        ``fill``; the P steps of the patch's first variable come first.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
        >>> codec = PatchAutoencoder(AutoencoderConfig(2, 2, patch_width=2))
        >>> x = torch.arange(12.0).reshape(1, 3, 4)  # (B, K, L)
        >>> codec.patches(x, fill=-1.0)[0].tolist()  # (G, L / P, P * W)
        [[[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0]], [[8.0, 9.0, -1.0, -1.0], [10.0, 11.0, -1.0, -1.0]]]
        """  # noqa: E501
        B, K, L = cells.shape
        P, W = self.config.patch_length, self.config.patch_width
        if L % P:
            raise ValueError(
                f"windows of {L} steps do not split into patches of {P} steps"
            )
        if K % W:
            cells = F.pad(cells, (0, 0, 0, W - K % W), value=fill)  # (B, G * W, L)
        G = cells.shape[1] // W
        blocks = cells.reshape(B, G, W, L // P, P).transpose(2, 3)  # (B,G,L/P,W,P)
        return blocks.reshape(B, G, L // P, W * P)

    def _patches(self, values: Tensor, given: Tensor) -> Tensor:
        """Given values (0 elsewhere) and mask of every patch, the filling of a
        short last group given as 0: (B, G, L / P, 2PW)."""
        x = torch.where(given, values, values.new_zeros(()))
        mask = self.patches(given, fill=True).to(x.dtype)
        return torch.cat([self.patches(x, fill=0.0), mask], dim=-1)

    def decode(self, latent: Tensor, values: Tensor, given: Tensor) -> Tensor:
        """The values of every patch from its latent and its given values:
        (B, G, L / P * D) and (B, K, L) twice to (B, K, L).

        Examples
        --------
        >>> import torch
        >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
        >>> codec = PatchAutoencoder(AutoencoderConfig(patch_length=4, latent_dim=2))
        >>> x = torch.zeros(2, 3, 12)  # (B, K, L)
        >>> given = torch.zeros(2, 3, 12, dtype=torch.bool)
        >>> codec.decode(torch.zeros(2, 3, 6), x, given).shape  # 3 patches of 2 values
        torch.Size([2, 3, 12])
        """
        B, G, n = latent.shape
        K, L = values.shape[1:]
        P, W, D = (self.config.patch_length, self.config.patch_width,
                   self.config.latent_dim)  # fmt: skip
        z = latent.reshape(B, G, n // D, D) * self._scale()  # (B, G, L / P, D)
        h = torch.cat([z, self._patches(values, given).to(z.dtype)], dim=-1)
        cells = _mlp(self.decoder, h).reshape(B, G, L // P, W, P)
        return cells.transpose(2, 3).reshape(B, G * W, L)[:, :K]  # (B, K, L)

    def latent_rows(self, n_variables: int) -> int:
        """Latent rows (groups of W variables) of a window of ``n_variables``.

        Examples
        --------
        >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
        >>> PatchAutoencoder(AutoencoderConfig(8, 16, patch_width=4)).latent_rows(862)
        216
        """
        return -(-n_variables // self.config.patch_width)

    def latent_length(self, length: int) -> int:
        """Latent positions of a window of ``length`` steps.

        Examples
        --------
        >>> from tsdiff.nn import AutoencoderConfig, PatchAutoencoder
        >>> PatchAutoencoder(AutoencoderConfig(8, 4)).latent_length(432)
        216
        """
        return length // self.config.patch_length * self.config.latent_dim

    def _scale(self) -> Tensor:
        return torch.where(self.latent_scale > 0, self.latent_scale, 1.0)


def _mlp(layers: nn.ModuleList, h: Tensor) -> Tensor:
    """Linear layers with GELU between them."""
    for i, layer in enumerate(layers):
        h = layer(h)
        if i < len(layers) - 1:
            h = F.gelu(h)
    return h
