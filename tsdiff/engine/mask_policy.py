"""The training mask policy of a :class:`~tsdiff.engine.DiffusionModel`: which values
training hides from the network."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import torch
from torch import Tensor

from tsdiff.data import WindowSource, draw_cond_mask
from tsdiff.engine.training import MaskFn

__all__ = ["MaskPolicy"]

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

    def state(self) -> dict:
        """The settings a saved model keeps (not the patterns).

        Examples
        --------
        >>> from tsdiff.engine import MaskPolicy
        >>> MaskPolicy("block", 4, unconditional_share=0.1).state()
        {'strategy': 'block', 'prediction_length': 4, 'unconditional_share': 0.1}
        """
        return {
            "strategy": self.strategy,
            "prediction_length": self.prediction_length,
            "unconditional_share": self.unconditional_share,
        }

    def _pool(self, windows: WindowSource) -> Tensor:
        """Observed masks (M, K, L) that historical masks copy: about 1024 evenly
        spaced windows of ``patterns`` (or of ``windows``)."""
        source = self.patterns if self.patterns is not None else windows
        every = torch.arange(0, len(source), max(1, len(source) // _POOL))
        return source.batch(every)[1]

    def drawer(self, windows: WindowSource, device: torch.device) -> MaskFn:
        """``draw(observed_mask, generator) -> cond_mask`` on (B, K, L) bool tensors
        on ``device``, for training on ``windows``.

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

        share = self.unconditional_share

        def draw(observed_mask: Tensor, generator: torch.Generator) -> Tensor:
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
            return cond

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
        return repr(settings + ((share,) if share else ()))  # older: no share
