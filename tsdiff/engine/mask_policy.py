"""The training mask policy of a :class:`~tsdiff.engine.DiffusionModel`: which values
training hides from the network."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import torch
from torch import Tensor

from tsdiff.data import WindowSource, draw_cond_mask
from tsdiff.engine.training import MaskFn

__all__ = ["MaskPolicy", "means_blocks"]

_POOL = 1024
"""At most about this many windows of masks are kept for the historical strategies
to copy from."""


@dataclass(frozen=True)
class MaskPolicy:
    """Which values training hides from the network (the targets it learns to fill).

    Parameters
    ----------
    strategy : str, default="random"
        A key of :data:`tsdiff.data.MASK_STRATEGIES`.
    prediction_length : int, default=0
        For forecasting, the final steps of every window that are always hidden
        (see :func:`tsdiff.data.draw_cond_mask`).
    patterns : WindowSource or None, default=None
        Windows whose observed masks the ``"historical"`` and ``"mix"`` strategies
        copy; None copies those of the training windows themselves.
    unconditional_share : float, default=0.0
        Share of training windows, drawn at random, that are given nothing:
        every observed value is a target (the network then also learns windows
        with no given value, which denoising, generation and means-only
        upsampling sample).
    means_share : float, default=0.0
        Share of training windows, drawn at random, given the means of blocks of
        their steps instead of values (:func:`means_blocks`): every observed value
        is a target, and a network with ``means_input`` reads the means of the
        blocks whose values are all observed. It learns the task of
        ``upsample(how="mean")``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.data import WindowSource
    >>> from tsdiff.engine import MaskPolicy
    >>> observed = np.ones((6, 2), bool)  # (T, K)
    >>> patterns = WindowSource.from_series(observed, observed, [0, 2], 4)
    >>> policy = MaskPolicy("mix", patterns=patterns)
    >>> policy.context().startswith("('mix', 0, '")  # with the patterns' digest
    True
    """

    strategy: str = "random"
    prediction_length: int = 0
    patterns: WindowSource | None = field(default=None, compare=False, repr=False)
    unconditional_share: float = 0.0
    means_share: float = 0.0

    def state(self) -> dict:
        """The settings a saved model keeps (not the patterns).

        Examples
        --------
        >>> from tsdiff.engine import MaskPolicy
        >>> MaskPolicy("block", 4, unconditional_share=0.1).state()
        {'strategy': 'block', 'prediction_length': 4, 'unconditional_share': 0.1}
        """
        state = {
            "strategy": self.strategy,
            "prediction_length": self.prediction_length,
            "unconditional_share": self.unconditional_share,
        }
        if self.means_share:  # older models: none
            state["means_share"] = self.means_share
        return state

    def _pool(self, windows: WindowSource) -> Tensor:
        """Observed masks (M, K, L) that historical masks copy: about 1024 evenly
        spaced windows of ``patterns`` (or of ``windows``)."""
        source = self.patterns if self.patterns is not None else windows
        every = torch.arange(0, len(source), max(1, len(source) // _POOL))
        return source.batch(every)[1]

    def drawer(self, windows: WindowSource, device: torch.device) -> MaskFn:
        """``draw(observed_mask, generator) -> cond_mask`` on (B, K, L) bool tensors
        on ``device``, for training on ``windows``; with a ``means_share``,
        ``-> (cond_mask, block)``, the block of every cell of the windows given
        block means (-1 elsewhere), (B, K, L) long.

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from tsdiff.data import WindowSource
        >>> from tsdiff.engine import MaskPolicy
        >>> observed = np.ones((8, 2), bool)  # (T, K)
        >>> windows = WindowSource.from_series(np.zeros((8, 2)), observed, [0, 4], 4)
        >>> draw = MaskPolicy(prediction_length=1).drawer(windows, torch.device("cpu"))
        >>> cond = draw(torch.ones(3, 2, 4, dtype=torch.bool), torch.Generator())
        >>> cond.shape, bool(cond[..., -1].any())  # the last step is never given
        (torch.Size([3, 2, 4]), False)
        """
        pool = self._pool(windows).to(device)

        share, means_share = self.unconditional_share, self.means_share

        def draw(observed_mask: Tensor, generator: torch.Generator):
            cond = draw_cond_mask(
                observed_mask,
                generator,
                strategy=self.strategy,
                prediction_length=self.prediction_length,
                patterns=pool,
            )
            if share > 0:  # these windows are given nothing
                n = len(cond)
                none = torch.rand(n, generator=generator, device=cond.device) < share
                cond = cond & ~none[:, None, None]  # (B, K, L)
            if not means_share:
                return cond
            block = means_blocks(observed_mask, means_share, generator)
            return cond & (block < 0), block

        return draw

    def context(self) -> str:
        """What a resumed checkpoint must match besides the data and settings: the
        strategy, the prediction length and a digest of the patterns.

        Examples
        --------
        >>> from tsdiff.engine import MaskPolicy
        >>> MaskPolicy("random", prediction_length=4).context()
        "('random', 4, None)"
        """
        digest, share = None, self.unconditional_share
        if self.patterns is not None:  # of every pattern window (M, K, L), in turn
            hasher = hashlib.sha256()
            for start in range(0, len(self.patterns), _POOL):
                rows = torch.arange(start, min(start + _POOL, len(self.patterns)))
                hasher.update(self.patterns.batch(rows)[1].cpu().numpy().tobytes())
            digest = hasher.hexdigest()
        settings = (self.strategy, self.prediction_length, digest)
        settings += (share,) if share or self.means_share else ()  # older: no share
        return repr(settings + ((self.means_share,) if self.means_share else ()))


def means_blocks(
    observed_mask: Tensor, share: float, generator: torch.Generator
) -> Tensor:
    """Blocks of steps of a random ``share`` of the windows: in each, consecutive
    blocks of ``f`` steps (``f`` from 2 to 8, one per window, as the strides of
    ``"strided"`` masks), the first starting at a random step of the first
    ``f``, so that windows also cut blocks, as a window of a fine grid does.

    Parameters
    ----------
    observed_mask : Tensor of shape (B, K, L), bool
    share : float
        Share of windows with blocks, in [0, 1].
    generator : torch.Generator
        On the device of ``observed_mask``.

    Returns
    -------
    Tensor of shape (B, K, L), long
        Block of every cell from 0 (all variables alike), -1 in windows without.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.engine.mask_policy import means_blocks
    >>> observed = torch.ones(2, 1, 6, dtype=torch.bool)
    >>> block = means_blocks(observed, 1.0, torch.Generator().manual_seed(0))
    >>> block.shape, bool((block[:, :, 1:] >= block[:, :, :-1]).all())
    (torch.Size([2, 1, 6]), True)
    >>> bool((means_blocks(observed, 0.0, torch.Generator()) == -1).all())
    True
    """
    B, K, L = observed_mask.shape
    device = observed_mask.device
    chosen = torch.rand(B, generator=generator, device=device) < share  # (B,)
    size = torch.randint(2, 9, (B, 1), generator=generator, device=device)
    phase = (torch.rand(B, 1, generator=generator, device=device) * size).long()
    steps = torch.arange(L, device=device)[None]  # (1, L)
    block = torch.where(chosen[:, None], (steps + phase) // size, -1)  # (B, L)
    return block[:, None].expand(B, K, L).contiguous()
