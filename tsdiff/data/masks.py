"""Conditioning-mask policies: which observed entries the model is given.

All masks are boolean tensors of shape (B, K, L) (batch, variables, time) on the
training device. A policy maps ``observed_mask`` to ``cond_mask``, a subset of it;
the model is trained to predict ``target_mask = observed_mask & ~cond_mask``. Every
policy is vectorised over the batch and draws its randomness only from the passed
``torch.Generator``, which must live on the same device as the masks.

Policies follow CSDI (Tashiro et al., 2021, Sec. 3.3 and Appendix): ``random``,
``historical`` and ``mix``; ``block`` adds contiguous gaps, the pattern of sensor
outages, and ``strided`` readings every few steps, the pattern of temporal
super-resolution; ``forecast_mask`` is CSDI's forecasting "test pattern".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "MASK_STRATEGIES",
    "block_mask",
    "draw_cond_mask",
    "forecast_mask",
    "historical_mask",
    "mix_mask",
    "random_mask",
    "strided_mask",
]

# Each block-mask window hides between 1 and this many spans.
_MAX_BLOCKS = 3
# Strided masks give every f-th step, f from 2 to this.
_MAX_STRIDE = 8


def random_mask(
    observed_mask: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """CSDI "random" mask (Tashiro et al., 2021): hide a U(0, 1) share of observed.

    Parameters
    ----------
    observed_mask : Tensor of bool, shape (B, K, L)
        True where a value is observed.
    generator : torch.Generator or None, default=None
        Source of randomness, on ``observed_mask.device``; None uses torch's default
        generator for that device.

    Returns
    -------
    Tensor of bool, shape (B, K, L)
        ``cond_mask``: per row a ratio ``r ~ U(0, 1)`` is drawn and
        ``round(r * n_observed)`` observed entries, chosen uniformly, are hidden.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.data import random_mask
    >>> observed = torch.ones(4, 2, 6, dtype=torch.bool)
    >>> observed[:, 1, :2] = False  # variable 1 misses its first two steps
    >>> cond = random_mask(observed, torch.Generator().manual_seed(0))
    >>> cond.shape, cond.dtype
    (torch.Size([4, 2, 6]), torch.bool)

    The mask is a subset of ``observed``: an unobserved cell is never given.

    >>> bool((cond & ~observed).any()), bool(cond[:, 1, :2].any())
    (False, False)
    >>> bool((cond.sum(dim=(1, 2)) <= observed.sum(dim=(1, 2))).all())
    True
    """
    _check_mask(observed_mask)
    _check_generator(generator, observed_mask)
    batch, n_features, length = observed_mask.shape
    device = observed_mask.device
    observed = observed_mask.reshape(batch, n_features * length)  # (B, K*L)
    ratio = torch.rand(batch, generator=generator, device=device)  # (B,)
    n_hide = torch.round(ratio * observed.sum(dim=1)).long()  # (B,)
    # Random scores, unobserved entries forced last: the n_hide highest-ranked
    # entries of a row are a uniform draw of n_hide of its observed entries.
    scores = torch.rand(
        batch, n_features * length, generator=generator, device=device
    ).masked_fill(~observed, -1.0)  # (B, K*L)
    rank = _rank_descending(scores)  # (B, K*L)
    hidden = rank < n_hide[:, None]  # (B, K*L)
    return (observed & ~hidden).reshape(batch, n_features, length)  # (B, K, L)


def historical_mask(
    observed_mask: Tensor,
    generator: torch.Generator | None = None,
    *,
    patterns: Tensor | None = None,
) -> Tensor:
    """CSDI "historical" mask (Tashiro et al., 2021): borrow a real missingness pattern.

    Parameters
    ----------
    observed_mask : Tensor of bool, shape (B, K, L)
        True where a value is observed.
    generator : torch.Generator or None, default=None
        Source of randomness, on ``observed_mask.device`` (used only to draw from
        ``patterns``).
    patterns : Tensor of bool, shape (P, K, L), or None, default=None
        Observed-masks of real windows; each row draws one uniformly. May live on
        another device (only the B drawn rows are moved). If None, row ``i``
        borrows the observed mask of row ``i - 1`` of the batch (row 0 takes the
        last row), as CSDI does; a batch of one row then hides nothing.

    Returns
    -------
    Tensor of bool, shape (B, K, L)
        ``cond_mask = observed_mask & pattern``.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.data import historical_mask
    >>> observed = torch.tensor([[[True, True, True, False]],
    ...                          [[False, True, True, True]]])  # (B=2, K=1, L=4)

    Without ``patterns`` each row borrows the missingness of the previous row:

    >>> historical_mask(observed).int().tolist()
    [[[0, 1, 1, 0]], [[0, 1, 1, 0]]]

    With one real pattern (a gap at step 1), every row draws that pattern:

    >>> patterns = torch.tensor([[[True, False, True, True]]])  # (P=1, K=1, L=4)
    >>> historical_mask(observed, patterns=patterns).int().tolist()
    [[[1, 0, 1, 0]], [[0, 0, 1, 1]]]
    """
    _check_mask(observed_mask)
    _check_generator(generator, observed_mask)
    if patterns is None:
        return observed_mask & observed_mask.roll(1, dims=0)  # (B, K, L)
    _check_patterns(patterns, observed_mask)
    index = torch.randint(
        patterns.shape[0],
        (observed_mask.shape[0],),
        generator=generator,
        device=observed_mask.device,
    )  # (B,)
    drawn = patterns[index.to(patterns.device)].to(observed_mask.device)  # (B, K, L)
    return observed_mask & drawn


def mix_mask(
    observed_mask: Tensor,
    generator: torch.Generator | None = None,
    *,
    patterns: Tensor | None = None,
) -> Tensor:
    """CSDI "mix" mask (Tashiro et al., 2021): random or historical, 50/50 per row.

    Parameters
    ----------
    observed_mask : Tensor of bool, shape (B, K, L)
        True where a value is observed.
    generator : torch.Generator or None, default=None
        Source of randomness, on ``observed_mask.device``.
    patterns : Tensor of bool, shape (P, K, L), or None, default=None
        Passed to :func:`historical_mask`.

    Returns
    -------
    Tensor of bool, shape (B, K, L)
        Each row is, with probability 1/2 each, its :func:`random_mask` or its
        :func:`historical_mask`.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.data import mix_mask
    >>> observed = torch.ones(8, 3, 10, dtype=torch.bool)
    >>> observed[::2, 0, :5] = False  # even rows miss half of variable 0
    >>> cond = mix_mask(observed, torch.Generator().manual_seed(0))
    >>> cond.shape
    torch.Size([8, 3, 10])
    >>> bool((cond & ~observed).any())  # a subset of observed_mask, as always
    False

    ``patterns`` must match the (K, L) of the windows:

    >>> mix_mask(observed, patterns=torch.ones(5, 3, 4, dtype=torch.bool))
    Traceback (most recent call last):
    ...
    ValueError: patterns must have shape (P, K, L) ... (K, L) = (3, 10); got (5, 3, 4).
    """
    random_cond = random_mask(observed_mask, generator)
    historical_cond = historical_mask(observed_mask, generator, patterns=patterns)
    use_random = _coin(observed_mask, generator)  # (B, 1, 1)
    return torch.where(use_random, random_cond, historical_cond)  # (B, K, L)


def block_mask(
    observed_mask: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Hide contiguous gaps: 1 to 3 time spans per window.

    Parameters
    ----------
    observed_mask : Tensor of bool, shape (B, K, L)
        True where a value is observed.
    generator : torch.Generator or None, default=None
        Source of randomness, on ``observed_mask.device``.

    Returns
    -------
    Tensor of bool, shape (B, K, L)
        ``cond_mask = observed_mask & ~gaps``, where per row the number of spans is
        uniform on {1, 2, 3}, each span's length is uniform on
        ``[1, max(1, L // 2)]`` and its position uniform among those that fit, and
        each span covers one uniformly drawn variable or, with probability 1/2, all
        variables. Spans may overlap.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.data import block_mask
    >>> observed = torch.ones(8, 3, 10, dtype=torch.bool)
    >>> cond = block_mask(observed, torch.Generator().manual_seed(0))
    >>> hidden = observed & ~cond  # (B, K, L)
    >>> bool(hidden.flatten(1).any(dim=1).all())  # every window loses something
    True

    The hidden time steps of a window form at most 3 contiguous runs:

    >>> steps = hidden.any(dim=1).int()  # (B, L)
    >>> runs = (steps.diff(dim=1, prepend=torch.zeros(8, 1, dtype=torch.int)) == 1)
    >>> bool((runs.sum(dim=1) <= 3).all())
    True
    """
    _check_mask(observed_mask)
    _check_generator(generator, observed_mask)
    batch, n_features, length = observed_mask.shape
    device = observed_mask.device
    shape = (batch, _MAX_BLOCKS)
    n_spans = torch.randint(
        1, _MAX_BLOCKS + 1, (batch, 1), generator=generator, device=device
    )
    active = torch.arange(_MAX_BLOCKS, device=device) < n_spans  # (B, 3)
    span = torch.randint(
        1, max(1, length // 2) + 1, shape, generator=generator, device=device
    )  # (B, 3)
    # Uniform start in [0, L - span]: floor of a uniform over L - span + 1 slots.
    uniform = torch.rand(shape, generator=generator, device=device)
    start = (uniform * (length - span + 1)).long().clamp(max=length - span)  # (B, 3)
    variable = torch.randint(n_features, shape, generator=generator, device=device)
    all_variables = torch.rand(shape, generator=generator, device=device) < 0.5
    offset = torch.arange(length, device=device) - start[..., None]  # (B, 3, L)
    in_time = (offset >= 0) & (offset < span[..., None])  # (B, 3, L)
    features = torch.arange(n_features, device=device)
    in_vars = all_variables[..., None] | (features == variable[..., None])  # (B, 3, K)
    gaps = active[..., None, None] & in_vars[..., :, None] & in_time[..., None, :]
    return observed_mask & ~gaps.any(dim=1)  # (B, 3, K, L) -> (B, K, L)


def strided_mask(
    observed_mask: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Give every f-th step: the readings of a coarser grid, to fill in between.

    Parameters
    ----------
    observed_mask : Tensor of bool, shape (B, K, L)
        True where a value is observed.
    generator : torch.Generator or None, default=None
        Source of randomness, on ``observed_mask.device``.

    Returns
    -------
    Tensor of bool, shape (B, K, L)
        ``cond_mask = observed_mask & given``, where ``given`` holds the steps
        ``p, p + f, p + 2f, ...`` of every variable: per row the stride ``f`` is
        uniform on {2, ..., min(8, L // 2)} (at least 2, so a window of four or
        more steps keeps two given steps) and the phase ``p`` uniform on
        {0, ..., f - 1};
        with probability 1/2 each variable draws its own ``f`` and ``p`` instead
        (sensors read at different rates). Training on these masks teaches the
        network what :meth:`~tsdiff.DiffusionImputer.upsample` with
        ``how="point"`` asks of it.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.data import strided_mask
    >>> observed = torch.ones(6, 2, 12, dtype=torch.bool)
    >>> cond = strided_mask(observed, torch.Generator().manual_seed(0))
    >>> steps = cond[0, 0].nonzero().ravel()  # given steps of one variable
    >>> bool((steps.diff() == steps.diff()[0]).all()), 2 <= int(steps.diff()[0]) <= 8
    (True, True)
    >>> bool((cond & ~observed).any())  # a subset of observed_mask, as always
    False
    """
    _check_mask(observed_mask)
    _check_generator(generator, observed_mask)
    batch, n_features, length = observed_mask.shape
    device = observed_mask.device
    shape = (batch, n_features)
    top = max(2, min(_MAX_STRIDE, length // 2))  # two given steps in a short window
    stride = torch.randint(2, top + 1, shape, generator=generator, device=device)
    shared = _coin(observed_mask, generator)[..., 0]  # (B, 1)
    stride = torch.where(shared, stride[:, :1], stride)  # (B, K)
    uniform = torch.rand(shape, generator=generator, device=device)
    uniform = torch.where(shared, uniform[:, :1], uniform)  # (B, K)
    phase = torch.minimum((uniform * stride).long(), stride - 1)  # (B, K)
    offset = torch.arange(length, device=device) - phase[..., None]  # (B, K, L)
    return observed_mask & (offset.remainder(stride[..., None]) == 0)  # (B, K, L)


def forecast_mask(observed_mask: Tensor, prediction_length: int) -> Tensor:
    """CSDI forecasting "test pattern": hide the last ``prediction_length`` steps.

    Parameters
    ----------
    observed_mask : Tensor of bool, shape (B, K, L)
        True where a value is observed (or any mask to restrict further).
    prediction_length : int
        Number of final time steps to hide, in ``[0, L]``.

    Returns
    -------
    Tensor of bool, shape (B, K, L)
        ``observed_mask`` with the last ``prediction_length`` steps set to False.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.data import forecast_mask
    >>> observed = torch.ones(1, 2, 5, dtype=torch.bool)
    >>> observed[0, 1, 0] = False
    >>> forecast_mask(observed, 2).int().tolist()
    [[[1, 1, 1, 0, 0], [0, 1, 1, 0, 0]]]
    >>> forecast_mask(observed, 6)
    Traceback (most recent call last):
    ...
    ValueError: prediction_length must be in [0, 5] (the window length); got 6.
    """
    _check_mask(observed_mask)
    length = observed_mask.shape[-1]
    if isinstance(prediction_length, bool) or not isinstance(
        prediction_length, (int, np.integer)
    ):
        raise TypeError(
            f"prediction_length must be an int; got {type(prediction_length).__name__}."
        )
    prediction_length = int(prediction_length)
    if not 0 <= prediction_length <= length:
        raise ValueError(
            f"prediction_length must be in [0, {length}] (the window length); "
            f"got {prediction_length}."
        )
    history = (
        torch.arange(length, device=observed_mask.device) < length - prediction_length
    )
    return observed_mask & history  # (B, K, L)


MASK_STRATEGIES: dict[str, Callable[..., Tensor]] = {
    "random": random_mask,
    "historical": historical_mask,
    "mix": mix_mask,
    "block": block_mask,
    "strided": strided_mask,
}
"""Training mask policies by name. Add-only: a name never changes meaning."""


def draw_cond_mask(
    observed_mask: Tensor,
    generator: torch.Generator | None = None,
    *,
    strategy: str = "random",
    prediction_length: int = 0,
    patterns: Tensor | None = None,
) -> Tensor:
    """Draw the training conditioning mask for a batch of windows.

    Parameters
    ----------
    observed_mask : Tensor of bool, shape (B, K, L)
        True where a value is observed.
    generator : torch.Generator or None, default=None
        Source of randomness, on ``observed_mask.device``.
    strategy : str, default="random"
        A key of :data:`MASK_STRATEGIES`.
    prediction_length : int, default=0
        For a forecaster, the number of final steps to forecast. When > 0, each row
        keeps its whole observed history instead of the strategy's mask with
        probability 1/2, and the last ``prediction_length`` steps are always hidden,
        so the model learns to forecast from complete and from gappy histories.
    patterns : Tensor of bool, shape (P, K, L), or None, default=None
        Passed to strategies that take ``patterns`` (historical, mix); ignored by
        the others.

    Returns
    -------
    Tensor of bool, shape (B, K, L)
        ``cond_mask``, a subset of ``observed_mask``.

    Raises
    ------
    ValueError
        On an unknown strategy (named) or a ``prediction_length`` outside [0, L].

    Examples
    --------
    >>> import torch
    >>> from tsdiff.data import MASK_STRATEGIES, draw_cond_mask
    >>> sorted(MASK_STRATEGIES)
    ['block', 'historical', 'mix', 'random', 'strided']
    >>> observed = torch.ones(8, 3, 10, dtype=torch.bool)
    >>> cond = draw_cond_mask(observed, torch.Generator().manual_seed(0),
    ...                       strategy="block", prediction_length=3)
    >>> cond.shape
    torch.Size([8, 3, 10])
    >>> bool(cond[..., -3:].any())  # the horizon is always hidden
    False
    >>> draw_cond_mask(observed, strategy="gaps")
    Traceback (most recent call last):
    ...
    ValueError: Unknown mask strategy 'gaps'; known strategies: ['block', ...].
    """
    if strategy not in MASK_STRATEGIES:
        raise ValueError(
            f"Unknown mask strategy {strategy!r}; known strategies: "
            f"{sorted(MASK_STRATEGIES)}."
        )
    policy = MASK_STRATEGIES[strategy]
    if "patterns" in inspect.signature(policy).parameters:
        cond_mask = policy(observed_mask, generator, patterns=patterns)
    else:
        cond_mask = policy(observed_mask, generator)
    if prediction_length == 0:
        return cond_mask
    keep_history = _coin(observed_mask, generator)  # (B, 1, 1)
    cond_mask = torch.where(keep_history, observed_mask, cond_mask)  # (B, K, L)
    return forecast_mask(cond_mask, prediction_length)


def _rank_descending(scores: Tensor) -> Tensor:
    """Rank (0 = largest) of every entry within its row; ties broken arbitrarily."""
    order = scores.argsort(dim=1, descending=True)  # (B, N)
    positions = torch.arange(scores.shape[1], device=scores.device).expand_as(order)
    return torch.empty_like(order).scatter_(1, order, positions)  # (B, N)


def _coin(observed_mask: Tensor, generator: torch.Generator | None) -> Tensor:
    """Fair coin per row, shaped (B, 1, 1) to broadcast over (B, K, L)."""
    batch = observed_mask.shape[0]
    flips = torch.rand(batch, generator=generator, device=observed_mask.device) < 0.5
    return flips[:, None, None]  # (B, 1, 1)


def _check_mask(mask: Tensor, name: str = "observed_mask") -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(mask).__name__}.")
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor; got dtype {mask.dtype}.")
    if mask.ndim != 3:
        raise ValueError(f"{name} must have shape (B, K, L); got {tuple(mask.shape)}.")


def _check_generator(generator: torch.Generator | None, like: Tensor) -> None:
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            "generator must be a torch.Generator or None; got "
            f"{type(generator).__name__}."
        )
    gen_device, device = generator.device, like.device
    same_index = gen_device.index is None or device.index is None
    if gen_device.type != device.type or not (
        same_index or gen_device.index == device.index
    ):
        raise ValueError(
            f"generator is on {gen_device} but the masks are on {device}; create the "
            "generator on the masks' device."
        )


def _check_patterns(patterns: Tensor, observed_mask: Tensor) -> None:
    _check_mask(patterns, "patterns")
    if patterns.shape[0] == 0 or patterns.shape[1:] != observed_mask.shape[1:]:
        raise ValueError(
            "patterns must have shape (P, K, L) with P >= 1 and (K, L) = "
            f"{tuple(observed_mask.shape[1:])}; got {tuple(patterns.shape)}."
        )
