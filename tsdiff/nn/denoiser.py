"""The CSDI-style conditional denoiser (Tashiro et al., 2021).

The network maps a noisy window ``x_t``, the conditioning values ``x_cond`` and the
conditioning mask (all (B, K, L)) plus a noise level (B,) to a prediction (B, K, L). It
knows nothing of schedules or samplers: ``noise_level`` is just a float it embeds.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsdiff.nn.config import DenoiserConfig
from tsdiff.nn.inputs import context_channel, interpolate_given, lagged
from tsdiff.nn.layers import (
    DiffusionEmbedding,
    ResidualBlock,
    init_linear,
    sinusoidal_time_embedding,
)

__all__ = ["Denoiser", "DenoiserConfig"]


class Denoiser(nn.Module):
    """CSDI's conditional denoising network (Tashiro et al., 2021).

    Input channels ``[cond values, noisy targets]`` go through a 1x1 projection and a
    residual stack whose blocks attend along time and along the variables (see
    :class:`~tsdiff.nn.layers.ResidualBlock`); the summed skips are mapped to one output
    channel by a zero-initialised projection, so an untrained network outputs exactly 0.
    With ``config.patch_length`` P > 1 the blocks run over tokens of P steps of one
    variable (the input and side channels of the P steps side by side) and the output
    projection gives each token's P values.

    Parameters
    ----------
    config : DenoiserConfig
        Hyperparameters.

    Attributes
    ----------
    config : DenoiserConfig
        The configuration the network was built with.

    Notes
    -----
    The module holds no device: inputs decide it. Weights are drawn from torch's global
    generator at construction; call :meth:`reset_parameters` with a
    ``torch.Generator`` for a reproducible initialisation.

    References
    ----------
    Tashiro, Y., Song, J., Song, Y., Ermon, S. (2021). CSDI: Conditional Score-based
    Diffusion Models for Probabilistic Time Series Imputation. NeurIPS.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn import Denoiser, DenoiserConfig
    >>> config = DenoiserConfig(n_features=3, n_layers=1, n_channels=8, n_heads=2)
    >>> net = Denoiser(config)
    >>> x = torch.zeros(2, 3, 16)
    >>> cond_mask = torch.zeros(2, 3, 16, dtype=torch.bool)
    >>> net(x, torch.tensor([3.0, 7.0]), x, cond_mask).shape
    torch.Size([2, 3, 16])
    """

    def __init__(self, config: DenoiserConfig) -> None:
        if not isinstance(config, DenoiserConfig):
            raise TypeError(
                f"config must be a DenoiserConfig, got {type(config).__name__}"
            )
        super().__init__()
        self.config = config
        C = config.n_channels
        self.feature_embedding = nn.Embedding(
            config.n_features, config.feature_embedding_dim
        )
        self.diffusion_embedding = DiffusionEmbedding(config.diffusion_embedding_dim)
        self.input_projection = nn.Linear(config.token_input_dim, C)
        sizes = (config.token_side_dim, config.diffusion_embedding_dim, config.n_heads)
        self.blocks = nn.ModuleList(
            ResidualBlock(C, *sizes, config.time_kernel) for _ in range(config.n_layers)
        )
        self.output_hidden = nn.Linear(C, C)
        self.output_projection = nn.Linear(C, config.patch_length)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-initialise every weight, drawing only from ``generator``.

        Parameters
        ----------
        generator : torch.Generator or None, default=None
            Source of randomness, on the parameters' device; None uses torch's global
            generator. The output projection is always set to exactly zero.

        Examples
        --------
        Equal seeds give equal weights, and the zero output projection makes the
        fresh network predict exactly 0:

        >>> import torch
        >>> from tsdiff.nn import Denoiser, DenoiserConfig
        >>> config = DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1)
        >>> net, other = Denoiser(config), Denoiser(config)
        >>> net.reset_parameters(torch.Generator().manual_seed(0))
        >>> other.reset_parameters(torch.Generator().manual_seed(0))
        >>> all(torch.equal(p, q) for p, q in zip(net.parameters(), other.parameters()))
        True
        >>> x = torch.randn(1, 2, 6, generator=torch.Generator().manual_seed(1))
        >>> mask = torch.zeros(1, 2, 6, dtype=torch.bool)
        >>> bool((net(x, torch.tensor([10.0]), x, mask) == 0).all())
        True
        """
        nn.init.normal_(self.feature_embedding.weight, generator=generator)
        self.diffusion_embedding.reset_parameters(generator)
        init_linear(self.input_projection, "kaiming", generator)
        for block in self.blocks:
            block.reset_parameters(generator)
        init_linear(self.output_hidden, "kaiming", generator)
        init_linear(self.output_projection, "zero")

    def side_info(
        self,
        cond_mask: Tensor,
        time_points: Tensor | None = None,
        feature_ids: Tensor | None = None,
        covariates: Tensor | None = None,
    ) -> Tensor:
        """Side information: time-position embedding, variable embedding, cond mask
        and covariates.

        Parameters
        ----------
        cond_mask : Tensor of shape (B, K, L), bool or float
            True (non-zero) where the value is given to the model.
        time_points : Tensor of shape (B, L) or None, default=None
            Float time positions; None means ``0, 1, ..., L - 1``.
        feature_ids : Tensor of shape (B, K), int, or None, default=None
            Row of the variable-embedding table for each variable, in
            ``[0, n_features)``; None means ``0, 1, ..., K - 1``.
        covariates : Tensor of shape (B, n_covariates, L) or None, default=None
            Covariate values per time step, shared by all variables; required when
            the network has covariates, else must be None.

        Returns
        -------
        Tensor of shape (B, side_dim, K, L)
            ``side_dim = time_embedding_dim + feature_embedding_dim + 1 +
            n_covariates``; channels are the time embedding, the variable embedding,
            the cond mask and the covariates, in that order.

        Examples
        --------
        With 4 time-embedding and 2 variable-embedding channels, channel 6 is the
        mask:

        >>> import torch
        >>> from tsdiff.nn import Denoiser, DenoiserConfig
        >>> config = DenoiserConfig(n_features=3, n_layers=1, n_channels=8, n_heads=1,
        ...                         time_embedding_dim=4, feature_embedding_dim=2)
        >>> net = Denoiser(config)
        >>> cond_mask = torch.zeros(2, 3, 5, dtype=torch.bool)
        >>> cond_mask[..., :2] = True
        >>> side = net.side_info(cond_mask)
        >>> side.shape, config.side_dim
        (torch.Size([2, 7, 3, 5]), 7)
        >>> torch.equal(side[:, 6], cond_mask.float())
        True
        >>> side[0, :4, 0, 0].tolist()  # time position 0: sin 0 = 0, cos 0 = 1
        [0.0, 1.0, 0.0, 1.0]
        >>> net.side_info(cond_mask, feature_ids=torch.tensor([[0, 1, 3], [0, 1, 2]]))
        Traceback (most recent call last):
        ...
        ValueError: feature_ids must lie in [0, n_features=3)
        """
        _check_tensor("cond_mask", cond_mask, 3)
        B, K, L = cond_mask.shape
        parts = self._covariate_channels(covariates, B, K, L)
        time_points = self._resolve_time_points(time_points, B, L, cond_mask.device)
        feature_ids = self._resolve_feature_ids(feature_ids, B, K, cond_mask.device)
        dtype = self.feature_embedding.weight.dtype
        time_emb = sinusoidal_time_embedding(
            time_points, self.config.time_embedding_dim
        )
        time_emb = time_emb.to(dtype)[:, None].expand(B, K, L, -1)  # (B, K, L, Dt)
        feat_emb = self.feature_embedding(feature_ids)  # (B, K, Df)
        feat_emb = feat_emb[:, :, None].expand(B, K, L, -1)  # (B, K, L, Df)
        mask = _as_bool(cond_mask).to(dtype)[..., None]  # (B, K, L, 1)
        parts = [time_emb, feat_emb, mask, *(p.to(dtype) for p in parts)]
        side = torch.cat(parts, dim=-1)  # (B, K, L, side_dim)
        return side.permute(0, 3, 1, 2)  # (B, side_dim, K, L)

    def _covariate_channels(
        self, covariates: Tensor | None, B: int, K: int, L: int
    ) -> list[Tensor]:
        """The covariates as side channels: [] or [(B, K, L, n_covariates)]."""
        n_cov = self.config.n_covariates
        if covariates is None:
            if n_cov:
                raise ValueError(
                    f"this network takes {n_cov} covariate channels; pass covariates "
                    f"of shape (B, {n_cov}, L)"
                )
            return []
        _check_tensor("covariates", covariates, 3)
        if tuple(covariates.shape) != (B, n_cov, L):
            raise ValueError(
                f"covariates must have shape (B, n_covariates, L) = {(B, n_cov, L)}, "
                f"got {tuple(covariates.shape)}"
            )
        return [covariates.transpose(1, 2)[:, None].expand(B, K, L, n_cov)]

    def forward(
        self,
        x_t: Tensor,
        noise_level: Tensor,
        x_cond: Tensor,
        cond_mask: Tensor,
        *,
        time_points: Tensor | None = None,
        feature_ids: Tensor | None = None,
        covariates: Tensor | None = None,
        side: Tensor | None = None,
        side_projections: tuple[Tensor, ...] | None = None,
        context: Tensor | None = None,
    ) -> Tensor:
        """Predict from a noisy window and its conditioning.

        Parameters
        ----------
        x_t : Tensor of shape (B, K, L), float
            Noisy values; only entries where ``cond_mask`` is False are read.
        noise_level : Tensor of shape (B,), float
            The noise process's conditioning value (e.g. the DDPM step index as float).
        x_cond : Tensor of shape (B, K, L), float
            Given values; only entries where ``cond_mask`` is True are read (others may
            hold anything, NaN included).
        cond_mask : Tensor of shape (B, K, L), bool or float
            True (non-zero) where the value is given.
        time_points : Tensor of shape (B, L) or None, default=None
            See :meth:`side_info`. Must be None when ``side`` is given.
        feature_ids : Tensor of shape (B, K) or None, default=None
            See :meth:`side_info`. Must be None when ``side`` is given.
        covariates : Tensor of shape (B, n_covariates, L) or None, default=None
            See :meth:`side_info`. Must be None when ``side`` is given.
        side : Tensor of shape (B, side_dim, K, L) or None, default=None
            Precomputed ``side_info(cond_mask, time_points, feature_ids, covariates)``,
            so a sampler
            builds it once per window rather than once per step. It must have been made
            from the same ``cond_mask``.
        side_projections : tuple of Tensor, each (B, K, L / P, 2C), or None
            ``project_side(side)``: the side information as every residual block
            projects it, computed once and reused across sampling steps. Replaces
            ``side``, ``time_points``, ``feature_ids`` and ``covariates``.
        context : Tensor of shape (B, K, L) or None, default=None
            One more input per cell, read at every cell: required by a network
            with ``context_input``, else must be None.

        Returns
        -------
        Tensor of shape (B, K, L)
            The prediction, in the dtype of ``x_t``.

        Examples
        --------
        With a non-zero output projection (as after training), the prediction reads
        ``x_cond`` only where ``cond_mask`` is True and ``x_t`` only elsewhere:

        >>> import torch
        >>> from tsdiff.nn import Denoiser, DenoiserConfig
        >>> config = DenoiserConfig(n_features=3, n_layers=1, n_channels=8, n_heads=1)
        >>> net = Denoiser(config)
        >>> g = torch.Generator().manual_seed(0)
        >>> net.reset_parameters(g)
        >>> _ = torch.nn.init.normal_(net.output_projection.weight, generator=g)
        >>> x_t = torch.randn(2, 3, 5, generator=g)
        >>> cond_mask = torch.zeros(2, 3, 5, dtype=torch.bool)
        >>> cond_mask[..., :2] = True
        >>> given = torch.randn(2, 3, 5, generator=g)
        >>> x_cond = torch.where(cond_mask, given, torch.nan)  # NaN where not given
        >>> level = torch.tensor([3.0, 7.0])
        >>> out = net(x_t, level, x_cond, cond_mask)
        >>> out.shape, bool(out.isfinite().all())  # the NaN are never read
        (torch.Size([2, 3, 5]), True)
        >>> x_t_changed = torch.where(cond_mask, 100.0, x_t)
        >>> torch.equal(net(x_t_changed, level, x_cond, cond_mask), out)
        True
        """
        B, K, L = self._check_inputs(x_t, noise_level, x_cond, cond_mask)
        if side_projections is not None:
            self._check_projections(side_projections, side, (B, K, L))
        elif side is None:
            side = self.side_info(cond_mask, time_points, feature_ids, covariates)
        else:
            self._check_side(side, time_points, feature_ids, covariates, (B, K, L))
        given = _as_bool(cond_mask)
        zero = x_t.new_zeros(())
        # where(), not a product with the mask, so NaN in unread entries cannot leak.
        x_given = torch.where(given, x_cond, zero)
        channels = [x_given, torch.where(given, zero, x_t)]
        channels += lagged(x_given, given.to(x_t.dtype), self.config.lags)
        if self.config.interpolated_input:
            channels.append(interpolate_given(x_given, given))
        channels += context_channel(context, x_t, self.config.context_input)
        h = torch.stack(channels, dim=-1)  # (B, K, L, input_dim)
        h = F.relu(self.input_projection(self._tokens(h)))  # (B, K, L / P, C)
        if side_projections is None:
            side_tokens = self._tokens(side.permute(0, 2, 3, 1))  # (B, K, L / P, .)
            sides, projected = [side_tokens] * len(self.blocks), False
        else:
            sides, projected = side_projections, True
        emb = self.diffusion_embedding(noise_level)  # (B, Dd)
        skips = 0.0
        for block, block_side in zip(self.blocks, sides, strict=True):
            h, skip = block(h, block_side, emb, projected)
            skips = skips + skip
        h = skips / math.sqrt(len(self.blocks))  # (B, K, L / P, C)
        h = F.relu(self.output_hidden(h))
        out = self.output_projection(h)  # (B, K, L / P, P)
        out = out.reshape(B, K, L)  # each token's P steps in place
        return out.to(x_t.dtype)

    def _tokens(self, cells: Tensor) -> Tensor:
        """Cells (B, K, L, D) as tokens (B, K, L / P, P * D): the P steps of a patch
        side by side, step-major (at P = 1 a view of the cells, strides kept)."""
        B, K, L, D = cells.shape
        P = self.config.patch_length
        return cells.reshape(B, K, L // P, P * D)

    def _resolve_time_points(
        self, time_points: Tensor | None, B: int, L: int, device: torch.device
    ) -> Tensor:
        if time_points is None:
            return torch.arange(L, device=device, dtype=torch.float32).expand(B, L)
        _check_tensor("time_points", time_points, 2)
        if tuple(time_points.shape) != (B, L):
            raise ValueError(
                f"time_points must have shape (B, L) = {(B, L)}, "
                f"got {tuple(time_points.shape)}"
            )
        return time_points

    def _resolve_feature_ids(
        self, feature_ids: Tensor | None, B: int, K: int, device: torch.device
    ) -> Tensor:
        n_features = self.config.n_features
        if feature_ids is None:
            if K > n_features:
                raise ValueError(
                    f"window has K={K} variables but the network embeds only "
                    f"n_features={n_features}; pass feature_ids"
                )
            return torch.arange(K, device=device).expand(B, K)
        _check_tensor("feature_ids", feature_ids, 2)
        if tuple(feature_ids.shape) != (B, K):
            raise ValueError(
                f"feature_ids must have shape (B, K) = {(B, K)}, "
                f"got {tuple(feature_ids.shape)}"
            )
        if feature_ids.is_floating_point() or feature_ids.dtype == torch.bool:
            raise TypeError(f"feature_ids must be integer, got {feature_ids.dtype}")
        # One host sync, once per window: an out-of-range id would otherwise be an
        # opaque IndexError (CPU) or a device-side assert (CUDA).
        if feature_ids.numel() and not bool(
            ((feature_ids >= 0) & (feature_ids < n_features)).all()
        ):
            raise ValueError(f"feature_ids must lie in [0, n_features={n_features})")
        return feature_ids

    def _check_inputs(
        self, x_t: Tensor, noise_level: Tensor, x_cond: Tensor, cond_mask: Tensor
    ) -> tuple[int, int, int]:
        _check_tensor("x_t", x_t, 3)
        if not x_t.is_floating_point():
            raise TypeError(f"x_t must be floating point, got {x_t.dtype}")
        for name, value in (("x_cond", x_cond), ("cond_mask", cond_mask)):
            _check_tensor(name, value, 3)
            if value.shape != x_t.shape:
                raise ValueError(
                    f"{name} must have the shape of x_t {tuple(x_t.shape)}, "
                    f"got {tuple(value.shape)}"
                )
        _check_tensor("noise_level", noise_level, 1)
        B, K, L = x_t.shape
        if noise_level.shape[0] != B:
            raise ValueError(
                f"noise_level must have shape (B,) = ({B},), "
                f"got {tuple(noise_level.shape)}"
            )
        self._check_length(L)
        return B, K, L

    def _check_length(self, L: int) -> None:
        P = self.config.patch_length
        if L % P:
            raise ValueError(
                f"windows of {L} steps do not split into patches of patch_length={P} "
                "steps; the window length must be a multiple of patch_length"
            )

    def project_side(self, side: Tensor) -> tuple[Tensor, ...]:
        """Every residual block's projection of ``side_info(...)``.

        Parameters
        ----------
        side : Tensor of shape (B, side_dim, K, L)

        Returns
        -------
        tuple of Tensor, one per block, each of shape (B, K, L / P, 2 * n_channels)
            One row per token (P = ``patch_length``). To pass as
            ``side_projections`` while the conditioning stays the same.

        Examples
        --------
        Projecting once gives the same prediction as passing the side information
        (or nothing) at every call:

        >>> import torch
        >>> from tsdiff.nn import Denoiser, DenoiserConfig
        >>> config = DenoiserConfig(n_features=3, n_layers=2, n_channels=8, n_heads=1)
        >>> net = Denoiser(config)
        >>> g = torch.Generator().manual_seed(0)
        >>> net.reset_parameters(g)
        >>> _ = torch.nn.init.normal_(net.output_projection.weight, generator=g)
        >>> x = torch.randn(2, 3, 5, generator=g)
        >>> cond_mask = torch.zeros(2, 3, 5, dtype=torch.bool)
        >>> cond_mask[..., :2] = True
        >>> projections = net.project_side(net.side_info(cond_mask))
        >>> len(projections), projections[0].shape
        (2, torch.Size([2, 3, 5, 16]))
        >>> level = torch.tensor([3.0, 7.0])
        >>> cached = net(x, level, x, cond_mask, side_projections=projections)
        >>> bool(torch.allclose(cached, net(x, level, x, cond_mask)))
        True
        """
        self._check_length(side.shape[-1])
        side_tokens = self._tokens(side.permute(0, 2, 3, 1))  # (B, K, L / P, .)
        return tuple(block.side_projection(side_tokens) for block in self.blocks)

    def _check_projections(
        self, projections: tuple, side: Tensor | None, shape: tuple[int, int, int]
    ) -> None:
        if side is not None:
            raise ValueError("pass either side or side_projections, not both")
        B, K, L = shape
        expected = (B, K, L // self.config.patch_length, 2 * self.config.n_channels)
        if len(projections) != len(self.blocks) or any(
            tuple(p.shape) != expected for p in projections
        ):
            raise ValueError(
                f"side_projections must hold {len(self.blocks)} tensors of shape "
                f"{expected}; build them with project_side"
            )

    def _check_side(
        self,
        side: Tensor,
        time_points: Tensor | None,
        feature_ids: Tensor | None,
        covariates: Tensor | None,
        shape: tuple[int, int, int],
    ) -> None:
        if any(v is not None for v in (time_points, feature_ids, covariates)):
            raise ValueError(
                "pass either side or time_points/feature_ids/covariates, not both "
                "(side already contains them)"
            )
        _check_tensor("side", side, 4)
        B, K, L = shape
        expected = (B, self.config.side_dim, K, L)
        if tuple(side.shape) != expected:
            raise ValueError(
                f"side must have shape (B, side_dim, K, L) = {expected}, "
                f"got {tuple(side.shape)}"
            )


def _check_tensor(name: str, value: object, ndim: int) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions, got shape {tuple(value.shape)}"
        )


def _as_bool(cond_mask: Tensor) -> Tensor:
    return cond_mask if cond_mask.dtype == torch.bool else cond_mask != 0
