"""Sliding windows over a long series and stitching window results back together.

Arrays here are time-major numpy arrays: a series is (T, K) and a stack of windows is
(N, L, K). The single change to the (B, K, L) tensor layout happens in the engine.

Stitching policy (imputing series longer than one window): every time step takes its
whole sample set from ONE window, the window whose centre is nearest to that step,
i.e. the one where the step has the most context on both sides (ties go to the
earlier window). Samples are never averaged across windows, so quantiles come from
genuine joint samples, and observed cells, which the sampler re-imposes exactly in
every window, stay exact after stitching.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "pad_left",
    "sliding_windows",
    "stitch_owner",
    "stitch_windows",
    "window_starts",
]


def window_starts(n_steps: int, window_length: int, stride: int) -> np.ndarray:
    """Start indices of windows that cover every step of ``[0, n_steps)``.

    Parameters
    ----------
    n_steps : int
        Length T of the series; must be >= ``window_length``.
    window_length : int
        Length L of each window, >= 1.
    stride : int
        Distance between consecutive starts, in ``[1, window_length]`` (a larger
        stride would leave steps uncovered).

    Returns
    -------
    ndarray of int64, shape (N,)
        Strictly increasing starts ``0, stride, 2 * stride, ...``, plus one last
        window shifted back to end exactly at ``n_steps`` when the regular grid
        stops short of it.

    Examples
    --------
    >>> window_starts(10, 4, 3)
    array([0, 3, 6])
    >>> window_starts(11, 4, 3)
    array([0, 3, 6, 7])
    """
    _check_positive_int(window_length, "window_length")
    _check_positive_int(stride, "stride")
    _check_positive_int(n_steps, "n_steps")
    if n_steps < window_length:
        raise ValueError(
            f"n_steps ({n_steps}) must be >= window_length ({window_length}); "
            "pad short series with pad_left first."
        )
    if stride > window_length:
        raise ValueError(
            f"stride ({stride}) must be <= window_length ({window_length}) so that "
            "the windows cover every step."
        )
    last = n_steps - window_length
    starts = np.arange(0, last + 1, stride, dtype=np.int64)
    if starts[-1] != last:
        starts = np.append(starts, np.int64(last))
    return starts


def sliding_windows(
    array: np.ndarray, starts: np.ndarray, window_length: int
) -> np.ndarray:
    """Cut windows ``array[start:start + window_length]`` for every start.

    Parameters
    ----------
    array : ndarray of shape (T, K)
        Any dtype (float values, bool masks); further trailing axes are kept.
    starts : ndarray of int, shape (N,)
        Window starts, each in ``[0, T - window_length]``.
    window_length : int
        Length L of each window.

    Returns
    -------
    ndarray of shape (N, L, K)
        A new array (a copy) with the dtype of ``array``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.data import sliding_windows, window_starts
    >>> series = np.arange(20.0).reshape(10, 2)  # (T=10, K=2)
    >>> starts = window_starts(10, 4, 3)
    >>> windows = sliding_windows(series, starts, 4)
    >>> windows.shape
    (3, 4, 2)
    >>> windows[:, :, 0].tolist()  # variable 0 of each window
    [[0.0, 2.0, 4.0, 6.0], [6.0, 8.0, 10.0, 12.0], [12.0, 14.0, 16.0, 18.0]]
    >>> sliding_windows(np.isfinite(series), starts, 4).dtype  # masks stay bool
    dtype('bool')
    """
    array = np.asarray(array)
    if array.ndim < 1:
        raise ValueError("array must have a time axis; got a 0-d array.")
    _check_positive_int(window_length, "window_length")
    starts = _check_starts(starts, window_length, array.shape[0])
    offsets = starts[:, None] + np.arange(window_length)  # (N, L)
    return array[offsets]  # (N, L, K)


def pad_left(
    values: np.ndarray, observed_mask: np.ndarray, min_length: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Left-pad a series that is shorter than a window.

    Parameters
    ----------
    values : ndarray of shape (T, K)
        Series values.
    observed_mask : ndarray of bool, shape (T, K)
        True where observed.
    min_length : int
        Minimum number of rows of the result.

    Returns
    -------
    values : ndarray of shape (max(T, min_length), K)
        ``values`` preceded by rows of 0 (the input itself when no padding is
        needed).
    observed_mask : ndarray of bool, same shape as the returned ``values``
        Preceded by rows of False, so padded cells are never observed.
    n_pad : int
        Number of rows added at the front; drop them with ``result[n_pad:]``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.data import pad_left
    >>> values = np.array([[1.0], [2.0]])
    >>> observed = np.array([[True], [False]])
    >>> padded, padded_mask, n_pad = pad_left(values, observed, 4)
    >>> padded.ravel().tolist(), padded_mask.ravel().tolist(), n_pad
    ([0.0, 0.0, 1.0, 2.0], [False, False, True, False], 2)
    >>> padded[n_pad:].ravel().tolist()
    [1.0, 2.0]
    >>> pad_left(values, observed, 2)[2]  # long enough: nothing added
    0
    """
    values = np.asarray(values)
    observed_mask = np.asarray(observed_mask)
    if values.shape != observed_mask.shape or values.ndim < 1:
        raise ValueError(
            "values and observed_mask must have the same shape (T, K); got "
            f"{values.shape} and {observed_mask.shape}."
        )
    _check_positive_int(min_length, "min_length")
    n_pad = max(0, min_length - values.shape[0])
    if n_pad == 0:
        return values, observed_mask, 0
    widths = [(n_pad, 0)] + [(0, 0)] * (values.ndim - 1)
    values = np.pad(values, widths)  # (min_length, K), zeros in front
    observed_mask = np.pad(observed_mask, widths)  # (min_length, K), False in front
    return values, observed_mask, n_pad


def stitch_owner(starts: np.ndarray, window_length: int, n_steps: int) -> np.ndarray:
    """Index of the window each time step takes its values from.

    Each step is owned by the window whose centre is nearest to it, i.e. where the
    step has the most context on both sides; ties go to the earlier window. See the
    module docstring for why results are taken from one window, not averaged.

    Parameters
    ----------
    starts : ndarray of int, shape (N,)
        Strictly increasing window starts (as from :func:`window_starts`).
    window_length : int
        Length L of each window.
    n_steps : int
        Length T of the series.

    Returns
    -------
    ndarray of int64, shape (T,)
        Window index in ``[0, N)`` for every step; the owning window contains it.

    Raises
    ------
    ValueError
        If a window runs past ``n_steps`` or some step lies in no window.

    Examples
    --------
    Windows of length 4 starting at 0, 3, 6 and 7 (centres 1.5, 4.5, 7.5, 8.5);
    steps 3, 6 and 8 lie halfway between two centres and go to the earlier window:

    >>> import numpy as np
    >>> from tsdiff.data import stitch_owner
    >>> stitch_owner(np.array([0, 3, 6, 7]), 4, 11).tolist()
    [0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3]
    >>> stitch_owner(np.array([0, 6]), 4, 10)
    Traceback (most recent call last):
    ...
    ValueError: Time step 4 is not covered by any window (2 uncovered steps).
    """
    _check_positive_int(window_length, "window_length")
    _check_positive_int(n_steps, "n_steps")
    starts = _check_starts(starts, window_length, n_steps)
    if np.any(np.diff(starts) <= 0):
        raise ValueError("starts must be strictly increasing.")
    # Doubled coordinates keep the half-integer centres exact in integers.
    centres2 = 2 * starts + (window_length - 1)  # (N,)
    steps2 = 2 * np.arange(n_steps, dtype=np.int64)  # (T,)
    after = np.searchsorted(centres2, steps2, side="left")  # first centre >= step
    before = np.clip(after - 1, 0, None)
    after = np.clip(after, None, starts.size - 1)
    # <= sends ties to the earlier window.
    take_before = np.abs(steps2 - centres2[before]) <= np.abs(centres2[after] - steps2)
    owner = np.where(take_before, before, after)
    offset = np.arange(n_steps) - starts[owner]
    uncovered = np.flatnonzero((offset < 0) | (offset >= window_length))
    if uncovered.size:
        raise ValueError(
            f"Time step {int(uncovered[0])} is not covered by any window "
            f"({uncovered.size} uncovered steps)."
        )
    return owner.astype(np.int64)


def stitch_windows(
    window_values: np.ndarray, starts: np.ndarray, n_steps: int
) -> np.ndarray:
    """Assemble a series from per-window results using :func:`stitch_owner`.

    Parameters
    ----------
    window_values : ndarray of shape (..., N, L, K)
        Per-window values, e.g. samples of shape (S, N, L, K); leading axes kept.
    starts : ndarray of int, shape (N,)
        Window starts used to cut the windows.
    n_steps : int
        Length T of the series.

    Returns
    -------
    ndarray of shape (..., T, K)
        Step ``t`` holds ``window_values[..., owner[t], t - starts[owner[t]], :]``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.data import sliding_windows, stitch_windows, window_starts
    >>> series = np.arange(11.0)[:, None]  # (T=11, K=1)
    >>> starts = window_starts(11, 4, 3)
    >>> windows = sliding_windows(series, starts, 4)  # (N=4, L=4, K=1)

    Cutting and stitching gives the series back:

    >>> bool(np.array_equal(stitch_windows(windows, starts, 11), series))
    True

    Each step takes its value from one window, never an average (here every
    window holds its own index):

    >>> labels = np.broadcast_to(np.arange(4.0)[:, None, None], (4, 4, 1))
    >>> stitch_windows(labels, starts, 11).ravel().tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0]

    Leading axes, such as samples (S, N, L, K), are kept:

    >>> samples = np.stack([windows, windows + 100.0])
    >>> stitch_windows(samples, starts, 11).shape
    (2, 11, 1)
    """
    window_values = np.asarray(window_values)
    if window_values.ndim < 3:
        raise ValueError(
            f"window_values must have shape (..., N, L, K); got {window_values.shape}."
        )
    n_windows, window_length = window_values.shape[-3:-1]
    starts = np.asarray(starts)
    if starts.shape != (n_windows,):
        raise ValueError(
            f"starts must have shape ({n_windows},) to match window_values; got "
            f"{starts.shape}."
        )
    owner = stitch_owner(starts, window_length, n_steps)  # (T,)
    offset = np.arange(n_steps) - starts[owner]  # (T,)
    return window_values[..., owner, offset, :]  # (..., T, K)


def _check_positive_int(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}.")
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value}.")


def _check_starts(starts: np.ndarray, window_length: int, n_steps: int) -> np.ndarray:
    starts = np.asarray(starts)
    if starts.ndim != 1 or not np.issubdtype(starts.dtype, np.integer):
        raise ValueError(
            f"starts must be a 1-D integer array; got shape {starts.shape} and "
            f"dtype {starts.dtype}."
        )
    if starts.size == 0:
        raise ValueError("starts must hold at least one window start.")
    if starts.min() < 0 or starts.max() + window_length > n_steps:
        raise ValueError(
            f"Every window [start, start + {window_length}) must lie within "
            f"[0, {n_steps}); got starts from {starts.min()} to {starts.max()}."
        )
    return starts.astype(np.int64)
