"""Input channels a cell reads beside its own given and noisy values: the given
values a season away (seasonal lags), a linear interpolation of the given values
(a coarse estimate of the cells to predict) and a latent model's context. All work
in the network's layout (B, K, L), along time."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["context_channel", "interpolate_given", "lagged"]


def lagged(x_given: Tensor, given: Tensor, lags: tuple) -> list[Tensor]:
    """The given values and their mask a season away along time.

    Parameters
    ----------
    x_given : Tensor of shape (B, K, L), float
        Given values, 0 where not given.
    given : Tensor of shape (B, K, L), float
        1.0 where given, else 0.0.
    lags : tuple of int
        Seasonal lags in steps.

    Returns
    -------
    list of Tensor, each of shape (B, K, L)
        For each lag s, in order: the value s steps earlier, the value s steps
        later, the mask s steps earlier and the mask s steps later; 0 beyond the
        window.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.inputs import lagged
    >>> x = torch.tensor([[[1.0, 2.0, 0.0, 4.0]]])
    >>> given = torch.tensor([[[1.0, 1.0, 0.0, 1.0]]])
    >>> earlier, later, earlier_given, later_given = lagged(x, given, (1,))
    >>> earlier.flatten().tolist(), later.flatten().tolist()
    ([0.0, 1.0, 2.0, 0.0], [2.0, 0.0, 4.0, 0.0])
    >>> earlier_given.flatten().tolist(), later_given.flatten().tolist()
    ([0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0])
    """
    channels = []
    for s in lags:
        for source in (x_given, given):
            if s >= source.shape[-1]:  # nothing that far inside the window
                channels += [torch.zeros_like(source)] * 2
                continue
            channels.append(F.pad(source[..., :-s], (s, 0)))  # value at t - s
            channels.append(F.pad(source[..., s:], (0, s)))  # value at t + s
    return channels


def interpolate_given(values: Tensor, given: Tensor) -> Tensor:
    """Each cell's linear interpolation along time between the nearest given values
    of its variable.

    Parameters
    ----------
    values : Tensor of shape (B, K, L), float
        Values; only entries where ``given`` is True are read, and they must be
        finite.
    given : Tensor of shape (B, K, L), bool

    Returns
    -------
    Tensor of shape (B, K, L)
        The given value where given; between two given values the straight line
        joining them; before the first (after the last) given value that value;
        0 for a variable with no given value.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.inputs import interpolate_given
    >>> values = torch.tensor([[[0.0, 9.0, 2.0, 9.0, 9.0, 8.0, 9.0]]])
    >>> given = torch.tensor([[[False, False, True, False, False, True, False]]])
    >>> interpolate_given(values, given).tolist()
    [[[2.0, 2.0, 2.0, 4.0, 6.0, 8.0, 8.0]]]
    >>> interpolate_given(values, torch.zeros_like(given)).tolist()
    [[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]
    """
    L = values.shape[-1]
    steps = torch.arange(L, device=values.device).expand(values.shape)  # (B, K, L)
    # The index of the last given cell at or before t (-1: none), and of the first
    # at or after t (L: none).
    before = torch.where(given, steps, -1).cummax(dim=-1).values
    after = torch.where(given, steps, L).flip(-1).cummin(dim=-1).values.flip(-1)
    has_before, has_after = before >= 0, after < L
    left = values.gather(-1, before.clamp(min=0))
    right = values.gather(-1, after.clamp(max=L - 1))
    # Where both exist: the share of the way from the one before to the one after.
    share = (steps - before).to(values.dtype) / (after - before).clamp(min=1)
    line = left + share * (right - left)
    zero = values.new_zeros(())
    one_side = torch.where(has_before, left, torch.where(has_after, right, zero))
    return torch.where(has_before & has_after, line, one_side)


def context_channel(context: Tensor | None, x_t: Tensor, wanted: bool) -> list[Tensor]:
    """``[context]`` (B, K, L) in the dtype of ``x_t`` for a network that reads one
    (``wanted``), else ``[]``; a ``ValueError`` when one is missing, misshapen or
    not wanted.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn.inputs import context_channel
    >>> x_t = torch.zeros(2, 3, 4)
    >>> [c.shape for c in context_channel(torch.ones(2, 3, 4), x_t, True)]
    [torch.Size([2, 3, 4])]
    >>> context_channel(None, x_t, False)
    []
    >>> context_channel(None, x_t, True)
    Traceback (most recent call last):
    ...
    ValueError: this network reads a context of the shape of x_t (2, 3, 4); got None
    """
    if not wanted:
        if context is not None:
            raise ValueError("this network takes no context (context_input=False)")
        return []
    if context is None or tuple(context.shape) != tuple(x_t.shape):
        got = None if context is None else tuple(context.shape)
        raise ValueError(
            f"this network reads a context of the shape of x_t {tuple(x_t.shape)}; "
            f"got {got}"
        )
    return [context.to(x_t.dtype)]
