"""Gap filling along time within each series of a panel, vectorised over series and
variables."""

from __future__ import annotations

import numpy as np

INTERPOLATION_METHODS = ("linear", "nearest", "previous", "next")


def interpolate(
    values: np.ndarray,
    x: np.ndarray,
    groups: np.ndarray,
    method: str,
    fallback: np.ndarray,
) -> np.ndarray:
    """Fill NaN in ``values`` from observed values of the same group.

    Parameters
    ----------
    values : ndarray of shape (n, K)
        Data, NaN where missing; rows in any order.
    x : ndarray of shape (n,)
        Time coordinate of each row (distinct within a group).
    groups : ndarray of shape (n,), int
        Series id of each row; values never flow between groups.
    method : {"linear", "nearest", "previous", "next"}
        "linear" interpolates linearly in ``x`` (pandas' ``interpolate(method=
        "index")``); "nearest" takes the value closest in ``x`` (the earlier one on a
        tie); "previous" carries the last observation forward, "next" the next one
        backward. Gaps before the first or after the last observation of a group
        take the nearest observed value with every method.
    fallback : ndarray of shape (K,)
        Value for a variable with no observation in the group.

    Returns
    -------
    ndarray of shape (n, K)
        Observed cells unchanged.
    """
    order = np.lexsort((x, groups))  # rows sorted by group, then time
    v, xs, g = values[order], x[order], groups[order]
    n, n_k = v.shape
    pos = np.arange(n)[:, None]  # (n, 1)
    start = np.searchsorted(g, g, side="left")[:, None]  # first row of the group
    end = np.searchsorted(g, g, side="right")[:, None] - 1  # last row of the group
    observed = ~np.isnan(v)
    prev = np.maximum.accumulate(np.where(observed, pos, -1), axis=0)  # (n, K)
    nxt = np.minimum.accumulate(np.where(observed, pos, n)[::-1], axis=0)[::-1]
    has_prev, has_next = prev >= start, nxt <= end
    cols = np.arange(n_k)[None, :]
    prev_c, next_c = np.clip(prev, 0, n - 1), np.clip(nxt, 0, n - 1)
    v_prev, v_next = v[prev_c, cols], v[next_c, cols]  # (n, K)
    x_here, x_prev, x_next = xs[:, None], xs[prev_c], xs[next_c]
    both = has_prev & has_next
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "linear":
            weight = (x_here - x_prev) / (x_next - x_prev)
            inner = v_prev + weight * (v_next - v_prev)
        elif method == "nearest":
            inner = np.where(x_here - x_prev <= x_next - x_here, v_prev, v_next)
        elif method == "previous":
            inner = v_prev
        elif method == "next":
            inner = v_next
        else:
            raise ValueError(f"Unknown interpolation method {method!r}.")
    filled = np.where(
        both,
        inner,
        np.where(has_prev, v_prev, np.where(has_next, v_next, fallback[None, :])),
    )
    filled = np.where(observed, v, filled)
    out = np.empty_like(filled)
    out[order] = filled
    return out
