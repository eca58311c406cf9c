"""Building blocks of the CSDI-style denoiser: embeddings, attention, residual block.

Inside the residual stack activations are kept channels-last, (B, K, L, C), so that
every 1x1 convolution of CSDI (Tashiro et al., 2021) is a plain ``nn.Linear`` over the
channel axis (the same map and parameter count) and sequences along time need no
permute.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsdiff.nn._attention import attention

__all__ = [
    "DiffusionEmbedding",
    "ResidualBlock",
    "TransformerLayer",
    "diffusion_step_features",
    "init_linear",
    "sinusoidal_time_embedding",
]

_INIT_SCHEMES = ("default", "kaiming", "xavier", "zero")


def sinusoidal_time_embedding(time_points: Tensor, dim: int) -> Tensor:
    """Sinusoidal position embedding at float positions (Vaswani et al., 2017), as CSDI.

    Parameters
    ----------
    time_points : Tensor of shape (B, L)
        Float time positions; irregular or non-integer values are allowed.
    dim : int
        Embedding size (even). Channel ``2i`` holds ``sin(p / 10000**(2i/dim))`` and
        channel ``2i + 1`` the matching cosine.

    Returns
    -------
    Tensor of shape (B, L, dim), float32.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.layers import sinusoidal_time_embedding
    >>> emb = sinusoidal_time_embedding(torch.tensor([[0.0, 1.0, 2.5]]), 4)
    >>> emb.shape, emb.dtype
    (torch.Size([1, 3, 4]), torch.float32)
    >>> emb[0, 0].tolist()  # position 0: sin = 0 and cos = 1 at every frequency
    [0.0, 1.0, 0.0, 1.0]
    >>> [round(v, 4) for v in emb[0, 1, :2].tolist()]  # sin(1), cos(1)
    [0.8415, 0.5403]
    """
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    positions = time_points.float()
    exponents = torch.arange(0, dim, 2, device=positions.device) / dim  # (dim/2,)
    inv_freq = 1.0 / (10000.0**exponents)  # (dim/2,)
    angles = positions[..., None] * inv_freq  # (B, L, dim/2)
    # Interleave sin/cos so channel 2i is sin and 2i+1 is cos, as in CSDI's table.
    pairs = torch.stack([angles.sin(), angles.cos()], dim=-1)  # (B, L, dim/2, 2)
    return pairs.flatten(-2)  # (B, L, dim)


def diffusion_step_features(noise_level: Tensor, dim: int) -> Tensor:
    """Sinusoidal noise-level features of CSDI (Tashiro et al., 2021), freqs 10^(0..4).

    Parameters
    ----------
    noise_level : Tensor of shape (B,)
        Float conditioning value of the noise process (e.g. the DDPM step index).
    dim : int
        Feature size (even): ``dim / 2`` sines followed by ``dim / 2`` cosines at
        frequencies spaced log-uniformly from 1 to 10^4.

    Returns
    -------
    Tensor of shape (B, dim), float32.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.layers import diffusion_step_features
    >>> features = diffusion_step_features(torch.tensor([0.0, 2.0]), 6)
    >>> features.shape
    torch.Size([2, 6])
    >>> features[0].tolist()  # level 0: three sines, then three cosines
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    >>> sines, cosines = features[:, :3], features[:, 3:]
    >>> bool(torch.allclose(sines**2 + cosines**2, torch.ones(2, 3)))
    True
    """
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    # float32 on purpose: arguments reach 10^4 * t, far beyond bf16 resolution.
    level = noise_level.float()
    freqs = 10.0 ** torch.linspace(0.0, 4.0, dim // 2, device=level.device)  # (dim/2,)
    angles = level[:, None] * freqs  # (B, dim/2)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)  # (B, dim)


def init_linear(
    layer: nn.Linear, scheme: str = "default", generator: torch.Generator | None = None
) -> None:
    """Initialise ``layer`` in place, drawing only from ``generator`` (global if None).

    Parameters
    ----------
    layer : nn.Linear
        The layer to initialise.
    scheme : {"default", "kaiming", "xavier", "zero"}, default="default"
        ``"default"`` is torch's ``nn.Linear`` init; ``"kaiming"`` is the Kaiming-normal
        weight CSDI gives its 1x1 convolutions (bias as default); ``"xavier"`` is
        ``nn.MultiheadAttention``'s in-projection (Xavier-uniform weight, zero bias);
        ``"zero"`` zeroes weight and bias.
    generator : torch.Generator or None, default=None
        Source of randomness.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.layers import init_linear
    >>> a, b = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    >>> init_linear(a, "xavier", torch.Generator().manual_seed(0))
    >>> init_linear(b, "xavier", torch.Generator().manual_seed(0))
    >>> torch.equal(a.weight, b.weight), a.bias.tolist()  # same draw, zero bias
    (True, [0.0, 0.0, 0.0])
    >>> init_linear(a, "zero")
    >>> bool((a.weight == 0).all() and (a.bias == 0).all())
    True
    >>> init_linear(a, "normal")
    Traceback (most recent call last):
    ...
    ValueError: unknown init scheme 'normal'; known: ('default', 'kaiming', ...)
    """
    if scheme not in _INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; known: {_INIT_SCHEMES}")
    weight, bias = layer.weight, layer.bias
    with torch.no_grad():
        if scheme == "zero":
            weight.zero_()
        elif scheme == "kaiming":
            nn.init.kaiming_normal_(weight, generator=generator)
        elif scheme == "xavier":
            nn.init.xavier_uniform_(weight, generator=generator)
        else:
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5.0), generator=generator)
        if bias is None:
            return
        if scheme in ("zero", "xavier"):
            bias.zero_()
        else:
            bound = 1.0 / math.sqrt(weight.shape[1])
            nn.init.uniform_(bias, -bound, bound, generator=generator)


class DiffusionEmbedding(nn.Module):
    """Noise-level embedding of CSDI: sinusoidal features, then (Linear + SiLU) twice.

    Parameters
    ----------
    dim : int
        Size of the sinusoidal features and of both projections (even).

    Notes
    -----
    Input ``noise_level`` of shape (B,), output of shape (B, dim).

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.layers import DiffusionEmbedding
    >>> embedding = DiffusionEmbedding(8)
    >>> embedding.reset_parameters(torch.Generator().manual_seed(0))
    >>> embedding(torch.tensor([0.0, 25.0, 49.0])).shape
    torch.Size([3, 8])
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.projection1 = nn.Linear(dim, dim)
        self.projection2 = nn.Linear(dim, dim)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-draw the weights from ``generator`` (torch's default Linear init).

        Examples
        --------
        >>> import torch
        >>> from tsdiff.nn.layers import DiffusionEmbedding
        >>> a, b = DiffusionEmbedding(8), DiffusionEmbedding(8)
        >>> a.reset_parameters(torch.Generator().manual_seed(0))
        >>> b.reset_parameters(torch.Generator().manual_seed(0))
        >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
        True
        """
        init_linear(self.projection1, generator=generator)
        init_linear(self.projection2, generator=generator)

    def forward(self, noise_level: Tensor) -> Tensor:
        """Embed ``noise_level`` of shape (B,) into shape (B, dim).

        Examples
        --------
        Equal levels get equal embeddings, different levels different ones:

        >>> import torch
        >>> from tsdiff.nn.layers import DiffusionEmbedding
        >>> embedding = DiffusionEmbedding(8)
        >>> embedding.reset_parameters(torch.Generator().manual_seed(0))
        >>> out = embedding(torch.tensor([3.0, 3.0, 7.0]))
        >>> out.shape, torch.equal(out[0], out[1]), torch.equal(out[0], out[2])
        (torch.Size([3, 8]), True, False)
        """
        features = diffusion_step_features(noise_level, self.dim)  # (B, dim)
        hidden = F.silu(self.projection1(features))
        return F.silu(self.projection2(hidden))


class TransformerLayer(nn.Module):
    """Post-LayerNorm transformer encoder layer.

    Same map as ``nn.TransformerEncoderLayer(channels, n_heads,
    dim_feedforward=channels, dropout=0, activation="gelu", batch_first=True)`` (the
    layer CSDI uses), without dropout: ``x = norm1(x + attn(x));
    x = norm2(x + ff(x))``.

    Parameters
    ----------
    channels : int
        Model width C; also the feed-forward width.
    n_heads : int
        Number of attention heads; must divide ``channels``.

    Attributes
    ----------
    fused_attention : bool, default=True
        Calls that need no gradient on CUDA in bf16 or fp16 (sampling under
        autocast) over sequences of at most 64 steps, with heads of at most 32
        channels, attend in one fused Triton kernel where Triton is installed
        (:mod:`tsdiff.nn._attention`); every other call, and every call with False,
        goes through ``scaled_dot_product_attention``. The two agree up to rounding.

    Notes
    -----
    Input and output of shape (N, S, C): N independent sequences of length S.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.layers import TransformerLayer
    >>> layer = TransformerLayer(channels=8, n_heads=2)
    >>> x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(0))
    >>> layer(x).shape
    torch.Size([2, 5, 8])
    >>> TransformerLayer(channels=8, n_heads=3)
    Traceback (most recent call last):
    ...
    ValueError: n_heads (3) must divide the channel count (8)
    """

    fused_attention: bool = True  # on the class, so older pickles have it too

    def __init__(self, channels: int, n_heads: int) -> None:
        super().__init__()
        if channels % n_heads:
            raise ValueError(
                f"n_heads ({n_heads}) must divide the channel count ({channels})"
            )
        self.n_heads = n_heads
        self.qkv = nn.Linear(channels, 3 * channels)
        self.attn_out = nn.Linear(channels, channels)
        self.ff_in = nn.Linear(channels, channels)
        self.ff_out = nn.Linear(channels, channels)
        self.norm1 = nn.LayerNorm(channels)
        self.norm2 = nn.LayerNorm(channels)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-draw the weights from ``generator`` as torch initialises its layer.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.nn.layers import TransformerLayer
        >>> a, b = TransformerLayer(8, 2), TransformerLayer(8, 2)
        >>> a.reset_parameters(torch.Generator().manual_seed(0))
        >>> b.reset_parameters(torch.Generator().manual_seed(0))
        >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
        True
        >>> bool((a.attn_out.bias == 0).all())  # as nn.MultiheadAttention's out_proj
        True
        """
        init_linear(self.qkv, "xavier", generator)
        init_linear(self.attn_out, generator=generator)
        nn.init.zeros_(self.attn_out.bias)  # as nn.MultiheadAttention's out_proj
        init_linear(self.ff_in, generator=generator)
        init_linear(self.ff_out, generator=generator)
        self.norm1.reset_parameters()
        self.norm2.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        """Apply the layer to ``x`` of shape (N, S, C); returns shape (N, S, C).

        Examples
        --------
        Without position information the layer is permutation equivariant along the
        sequence, and the final LayerNorm leaves every output vector with mean 0:

        >>> import torch
        >>> from tsdiff.nn.layers import TransformerLayer
        >>> layer = TransformerLayer(channels=8, n_heads=2)
        >>> layer.reset_parameters(torch.Generator().manual_seed(0))
        >>> x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
        >>> y = layer(x)
        >>> perm = torch.tensor([4, 2, 0, 1, 3])
        >>> bool(torch.allclose(layer(x[:, perm]), y[:, perm], atol=1e-6))
        True
        >>> bool(y.mean(dim=-1).abs().max() < 1e-5)
        True
        """
        x = self.norm1(x + self._attention(x))
        return self.norm2(x + self.ff_out(F.gelu(self.ff_in(x))))

    def _attention(self, x: Tensor) -> Tensor:
        qkv = self.qkv(x)  # (N, S, 3C)
        return self.attn_out(attention(qkv, self.n_heads, self.fused_attention))


class ResidualBlock(nn.Module):
    """One residual layer of CSDI's denoiser (Tashiro et al., 2021).

    Adds the projected noise-level embedding, attends along time (per series) and along
    the variables (per time step), mixes in the projected side information, applies the
    gated activation ``sigmoid(gate) * tanh(filter)`` and splits a residual and a skip
    output. An attention pass is skipped when its axis has length 1.

    Parameters
    ----------
    channels : int
        Residual width C.
    side_dim : int
        Channels of the side information.
    diffusion_embedding_dim : int
        Size of the noise-level embedding.
    n_heads : int
        Attention heads; must divide ``channels``.
    time_kernel : int, default=1
        Width of a depthwise convolution along time, added to the sequence
        before the attention along time (odd; 1: none, CSDI's block). Attention
        reads no position, so without it the first block cannot tell a
        neighbouring step from a distant one; the convolution mixes each step
        with its neighbours, the local smoothing a denoiser of a series needs.
        It starts at zero, so an untrained block equals CSDI's.

    Notes
    -----
    ``forward(x, side, diffusion_emb)`` takes x (B, K, L, C), side (B, K, L, side_dim)
    and diffusion_emb (B, diffusion_embedding_dim); returns ``(x_next, skip)``, both
    (B, K, L, C), with ``x_next = (x + residual) / sqrt(2)``. ``side`` may instead be
    the block's own ``side_projection(side)`` of shape (B, K, L, 2C), computed once
    and reused while the side information stays the same (``projected=True``).

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.layers import ResidualBlock
    >>> block = ResidualBlock(channels=8, side_dim=5, diffusion_embedding_dim=16,
    ...                       n_heads=2)
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(2, 3, 4, 8, generator=g)  # (B, K, L, C)
    >>> side = torch.randn(2, 3, 4, 5, generator=g)  # (B, K, L, side_dim)
    >>> x_next, skip = block(x, side, torch.randn(2, 16, generator=g))
    >>> x_next.shape, skip.shape
    (torch.Size([2, 3, 4, 8]), torch.Size([2, 3, 4, 8]))
    """

    def __init__(
        self,
        channels: int,
        side_dim: int,
        diffusion_embedding_dim: int,
        n_heads: int,
        time_kernel: int = 1,
    ) -> None:
        super().__init__()
        if time_kernel < 1 or time_kernel % 2 == 0:
            raise ValueError(f"time_kernel must be odd and >= 1, got {time_kernel}")
        self.diffusion_projection = nn.Linear(diffusion_embedding_dim, channels)
        self.time_conv = None
        if time_kernel > 1:  # depthwise: one filter per channel
            self.time_conv = nn.Conv1d(
                channels, channels, time_kernel, padding=time_kernel // 2,
                groups=channels,
            )  # fmt: skip
        self.time_layer = TransformerLayer(channels, n_heads)
        self.feature_layer = TransformerLayer(channels, n_heads)
        self.mid_projection = nn.Linear(channels, 2 * channels)
        self.side_projection = nn.Linear(side_dim, 2 * channels)
        self.output_projection = nn.Linear(channels, 2 * channels)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-draw the weights from ``generator`` (CSDI: Kaiming on 1x1 convs).

        Examples
        --------
        >>> import torch
        >>> from tsdiff.nn.layers import ResidualBlock
        >>> a, b = ResidualBlock(8, 5, 16, 2), ResidualBlock(8, 5, 16, 2)
        >>> a.reset_parameters(torch.Generator().manual_seed(0))
        >>> b.reset_parameters(torch.Generator().manual_seed(0))
        >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
        True
        """
        init_linear(self.diffusion_projection, generator=generator)
        if self.time_conv is not None:  # zero: the block starts as CSDI's
            nn.init.zeros_(self.time_conv.weight)
            nn.init.zeros_(self.time_conv.bias)
        self.time_layer.reset_parameters(generator)
        self.feature_layer.reset_parameters(generator)
        for layer in (
            self.mid_projection,
            self.side_projection,
            self.output_projection,
        ):
            init_linear(layer, "kaiming", generator)

    def forward(
        self, x: Tensor, side: Tensor, diffusion_emb: Tensor, projected: bool = False
    ) -> tuple[Tensor, Tensor]:
        """Return ``(x_next, skip)``, both (B, K, L, C); see the class notes.

        Examples
        --------
        The block's own projection of the side information, passed with
        ``projected=True``, gives the same result as the raw side information:

        >>> import torch
        >>> from tsdiff.nn.layers import ResidualBlock
        >>> block = ResidualBlock(8, side_dim=5, diffusion_embedding_dim=16, n_heads=2)
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(2, 3, 4, 8, generator=g)  # (B, K, L, C)
        >>> side = torch.randn(2, 3, 4, 5, generator=g)  # (B, K, L, side_dim)
        >>> emb = torch.randn(2, 16, generator=g)
        >>> x_next, skip = block(x, side, emb)
        >>> projected = block.side_projection(side)  # (B, K, L, 2C)
        >>> again, _ = block(x, projected, emb, projected=True)
        >>> x_next.shape, bool(torch.allclose(again, x_next))
        (torch.Size([2, 3, 4, 8]), True)
        """
        y = x + self.diffusion_projection(diffusion_emb)[:, None, None, :]  # (B,K,L,C)
        y = self._along_time(y)
        y = self._along_features(y)
        side = side if projected else self.side_projection(side)  # (B, K, L, 2C)
        y = self.mid_projection(y) + side
        gate, filt = y.chunk(2, dim=-1)  # 2 x (B, K, L, C)
        y = torch.sigmoid(gate) * torch.tanh(filt)
        residual, skip = self.output_projection(y).chunk(2, dim=-1)  # 2 x (B, K, L, C)
        # 1/sqrt(2) keeps the residual stream's variance from growing with depth.
        return (x + residual) / math.sqrt(2.0), skip

    def _along_time(self, y: Tensor) -> Tensor:
        B, K, L, C = y.shape
        if L == 1:
            return y
        seqs = y.reshape(B * K, L, C)  # (B*K, L, C)
        if self.time_conv is not None:  # (B*K, L, C) -> (B*K, C, L) and back
            seqs = seqs + self.time_conv(seqs.transpose(1, 2)).transpose(1, 2)
        return self.time_layer(seqs).reshape(B, K, L, C)  # (B, K, L, C)

    def _along_features(self, y: Tensor) -> Tensor:
        B, K, L, C = y.shape
        if K == 1:
            return y
        seqs = y.transpose(1, 2).reshape(B * L, K, C)  # (B*L, K, C)
        out = self.feature_layer(seqs).reshape(B, L, K, C)  # (B, L, K, C)
        return out.transpose(1, 2)  # (B, K, L, C)
