"""Per-variable (and per-series) scaling fitted on observed entries only.

Diffusion models assume data of roughly unit scale (the forward process ends at
``N(0, I)``), so every variable is centred and scaled before windowing. The
statistics come from observed entries alone: whatever an unobserved cell holds
(NaN, a sentinel, garbage) never leaks into them. A panel of series of different
levels (sales of a large and a small store) gets statistics per series and variable,
so one global model sees all of them at unit scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SCALING_METHODS", "Scaler", "fit_panel_scaler", "fit_scaler"]

SCALING_METHODS = ("standard", "robust", "none")

# Interquartile range of the standard normal distribution, 2 * Phi^{-1}(0.75); dividing
# an IQR by it gives a spread that equals the standard deviation for Gaussian data.
_NORMAL_IQR = 1.349

# A spread this small relative to the variable's magnitude is rounding noise of a
# constant column (e.g. np.std([0.1] * 3) is ~1e-17, not 0): treat it as zero spread.
_RELATIVE_SPREAD_TOL = 1e-12


@dataclass(frozen=True)
class Scaler:
    """Affine per-variable scaling ``(x - center) / scale``.

    Parameters
    ----------
    center : ndarray of shape (K,) or (N, K)
        Value subtracted from each variable, float64; with two dimensions, one row
        per series of a batch (statistics per series and variable).
    scale : ndarray of the shape of ``center``
        Positive value each centred variable is divided by, float64.

    See Also
    --------
    fit_scaler : Fit a ``Scaler`` on observed entries.
    fit_panel_scaler : Fit one row of statistics per series of a panel.

    Examples
    --------
    >>> import numpy as np
    >>> scaler = Scaler(center=np.array([1.0, 0.0]), scale=np.array([2.0, 1.0]))
    >>> scaler.transform(np.array([[3.0, 5.0]]))
    array([[1., 5.]])
    """

    center: np.ndarray
    scale: np.ndarray

    def __post_init__(self) -> None:
        center = np.array(self.center, dtype=np.float64)
        scale = np.array(self.scale, dtype=np.float64)
        if center.ndim not in (1, 2) or scale.shape != center.shape:
            raise ValueError(
                "Scaler center and scale must be arrays of the same shape (K,) or "
                f"(N, K); got shapes {center.shape} and {scale.shape}."
            )
        if not (np.all(np.isfinite(center)) and np.all(np.isfinite(scale))):
            raise ValueError("Scaler center and scale must be finite.")
        if np.any(scale <= 0):
            raise ValueError("Scaler scale must be > 0 for every variable.")
        # Own read-only copies so the frozen dataclass is frozen in content too.
        center.flags.writeable = False
        scale.flags.writeable = False
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "scale", scale)

    @property
    def n_features(self) -> int:
        """Number of variables K the scaler was fitted on."""
        return int(self.center.shape[-1])

    @property
    def n_series(self) -> int | None:
        """Number of series N with statistics of their own (None: shared by all)."""
        return int(self.center.shape[0]) if self.center.ndim == 2 else None

    def select(self, rows: np.ndarray) -> Scaler:
        """The statistics of some series, in the order of ``rows``.

        Parameters
        ----------
        rows : ndarray of shape (M,), int
            Series positions; for a scaler shared by all series, every row gets
            the shared statistics.

        Returns
        -------
        Scaler
            With ``center`` and ``scale`` of shape (M, K).

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.data import Scaler
        >>> panel = Scaler(center=np.array([[0.0], [100.0]]),
        ...                scale=np.array([[1.0], [10.0]]))  # 2 series, 1 variable
        >>> panel.n_series, panel.n_features
        (2, 1)
        >>> picked = panel.select(np.array([1, 0, 1]))
        >>> picked.center.ravel().tolist(), picked.scale.ravel().tolist()
        ([100.0, 0.0, 100.0], [10.0, 1.0, 10.0])

        A shared scaler (``n_series`` None) repeats its statistics for every row:

        >>> shared = Scaler(center=np.array([1.0, 2.0]), scale=np.array([3.0, 4.0]))
        >>> shared.n_series is None, shared.select(np.arange(3)).center.tolist()
        (True, [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
        """
        rows = np.asarray(rows, dtype=np.int64)
        if self.center.ndim == 1:
            shape = (len(rows), self.n_features)
            return Scaler(
                np.broadcast_to(self.center, shape), np.broadcast_to(self.scale, shape)
            )
        return Scaler(self.center[rows], self.scale[rows])

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale values: ``(values - center) / scale`` along the last axis.

        Parameters
        ----------
        values : ndarray of shape (..., T, K)
            Values in data units; NaN passes through unchanged. With per-series
            statistics of shape (N, K), the axis before time is the series axis:
            shape (..., N, T, K).

        Returns
        -------
        ndarray of shape (..., T, K)
            Scaled values, a new array. Floating inputs keep their dtype (float32
            stays float32); other inputs become float64.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.data import Scaler
        >>> panel = Scaler(center=np.array([[0.0], [100.0]]),
        ...                scale=np.array([[1.0], [10.0]]))
        >>> values = np.array([[[1.0], [2.0]],
        ...                    [[110.0], [np.nan]]], dtype=np.float32)  # (N, T, K)
        >>> scaled = panel.transform(values)
        >>> scaled.dtype, scaled[..., 0].tolist()
        (dtype('float32'), [[1.0, 2.0], [1.0, nan]])
        >>> panel.transform(np.ones((3, 2, 1)))
        Traceback (most recent call last):
        ...
        ValueError: values must hold the 2 series of the scaler on the axis before ...
        """
        values, center, scale = self._prepare(values)
        return (values - center) / scale

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`: ``values * scale + center`` along the last axis.

        Parameters
        ----------
        values : ndarray of shape (..., T, K)
            Scaled values, e.g. samples of shape (S, N, T, K).

        Returns
        -------
        ndarray of shape (..., T, K)
            Values in data units, a new array with the dtype rule of
            :meth:`transform`.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.data import Scaler
        >>> panel = Scaler(center=np.array([[0.0], [100.0]]),
        ...                scale=np.array([[1.0], [10.0]]))
        >>> panel.inverse_transform(np.zeros((2, 1, 1))).ravel().tolist()
        [0.0, 100.0]

        Samples with a leading sample axis, shape (S, N, T, K), round-trip:

        >>> scaled = np.random.default_rng(0).normal(size=(5, 2, 3, 1))
        >>> values = panel.inverse_transform(scaled)
        >>> values.shape, bool(np.allclose(panel.transform(values), scaled))
        ((5, 2, 3, 1), True)
        """
        values, center, scale = self._prepare(values)
        return values * scale + center

    def _prepare(self, values: np.ndarray) -> tuple[np.ndarray, ...]:
        values = np.asarray(values)
        if not np.issubdtype(values.dtype, np.floating):
            values = values.astype(np.float64)
        if values.ndim < 1 or values.shape[-1] != self.n_features:
            raise ValueError(
                f"values must have {self.n_features} variables on the last axis; "
                f"got shape {values.shape}."
            )
        center, scale = self.center, self.scale
        if center.ndim == 2:  # per series: (N, K) -> (N, 1, K) against (..., N, T, K)
            if values.ndim < 3 or values.shape[-3] != center.shape[0]:
                raise ValueError(
                    f"values must hold the {center.shape[0]} series of the scaler "
                    f"on the axis before time; got shape {values.shape}."
                )
            center, scale = center[:, None, :], scale[:, None, :]
        # Cast the statistics to the data's dtype so float32 data stays float32.
        dtype = values.dtype
        return values, center.astype(dtype), scale.astype(dtype)


def fit_scaler(
    values: np.ndarray, observed_mask: np.ndarray, method: str = "standard"
) -> Scaler:
    """Fit per-variable centre and scale on observed entries only.

    Parameters
    ----------
    values : ndarray of shape (T, K) or (N, T, K)
        Series values; unobserved entries may hold anything (NaN, garbage).
        Statistics pool all leading axes (time, and series of a panel).
    observed_mask : ndarray of bool, same shape as ``values``
        True where a value is observed; those values must be finite.
    method : {"standard", "robust", "none"}, default="standard"
        ``"standard"``: mean and standard deviation (ddof=0). ``"robust"``: median
        and interquartile range divided by 1.349, which equals the standard
        deviation for Gaussian data. ``"none"``: centre 0 and scale 1.

    Returns
    -------
    Scaler
        With ``center`` and ``scale`` of shape (K,). A variable with zero spread
        gets scale 1, or its largest absolute value where that is smaller (but
        not 0), so that a constant far below 1 is not drowned in noise of 1.

    Raises
    ------
    ValueError
        On an unknown method, mismatched shapes, a non-finite observed value, or a
        variable (column index named) with no observed entry.
    TypeError
        If ``observed_mask`` is not boolean.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.data import fit_scaler
    >>> values = np.array([[1.0, 10.0], [2.0, -999.0], [3.0, 30.0], [100.0, 20.0]])
    >>> observed = np.array([[True, True], [True, False], [True, True],
    ...                      [False, True]])

    The unobserved 100.0 and -999.0 do not enter the statistics:

    >>> scaler = fit_scaler(values, observed)
    >>> scaler.center.tolist(), np.round(scaler.scale, 3).tolist()
    ([2.0, 20.0], [0.816, 8.165])
    >>> np.round(scaler.transform(values[[0, 2]]), 3).tolist()
    [[-1.225, -1.225], [1.225, 1.225]]
    >>> robust = fit_scaler(values, observed, method="robust")
    >>> robust.center.tolist(), np.round(robust.scale, 3).tolist()
    ([2.0, 20.0], [0.741, 7.413])
    >>> fit_scaler(values, observed & [True, False])
    Traceback (most recent call last):
    ...
    ValueError: Variable(s) at column index [1] have no observed entry; cannot fit ...
    """
    _check_method(method)
    flat = _observed_matrix(values, observed_mask)  # (N*T, K), NaN where unobserved
    return Scaler(*_statistics(flat, method))


def fit_panel_scaler(
    values: np.ndarray,
    observed_mask: np.ndarray,
    bounds: np.ndarray,
    method: str = "standard",
) -> Scaler:
    """Fit centre and scale per series and variable of a panel.

    Parameters
    ----------
    values : ndarray of shape (T, K)
        The series of a panel stacked along time; unobserved entries may hold
        anything.
    observed_mask : ndarray of bool, same shape as ``values``
        True where a value is observed; those values must be finite.
    bounds : ndarray of shape (N + 1,), int
        Series ``i`` holds rows ``bounds[i]:bounds[i + 1]``.
    method : {"standard", "robust", "none"}, default="standard"
        As in :func:`fit_scaler`.

    Returns
    -------
    Scaler
        With ``center`` and ``scale`` of shape (N, K). A variable that a series
        never observes gets the statistics of all series pooled, so that its
        forecasts start from the level of the panel.

    Raises
    ------
    ValueError
        As :func:`fit_scaler`, and for bounds that do not split the rows.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[1.0], [3.0], [100.0], [300.0]])
    >>> scaler = fit_panel_scaler(values, values > 0, np.array([0, 2, 4]))
    >>> scaler.center.ravel().tolist(), scaler.scale.ravel().tolist()
    ([2.0, 200.0], [1.0, 100.0])
    """
    _check_method(method)
    flat = _observed_matrix(values, observed_mask)  # (T, K), NaN where unobserved
    bounds = np.asarray(bounds, dtype=np.int64)
    if (
        bounds.ndim != 1
        or bounds[0] != 0
        or bounds[-1] != len(flat)
        or (np.diff(bounds) < 0).any()
    ):
        raise ValueError(
            f"bounds must rise from 0 to the {len(flat)} rows of values; got "
            f"{bounds.tolist()}."
        )
    pooled_center, pooled_scale = _statistics(flat, method)
    centers, scales = [], []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        block = flat[start:stop]  # (T_i, K)
        seen = ~np.isnan(block).all(axis=0)
        center, scale = pooled_center.copy(), pooled_scale.copy()
        if seen.any():
            center[seen], scale[seen] = _statistics(block[:, seen], method)
        centers.append(center)
        scales.append(scale)
    return Scaler(center=np.stack(centers), scale=np.stack(scales))


def _check_method(method: str) -> None:
    if method not in SCALING_METHODS:
        raise ValueError(
            f"Unknown scaling method {method!r}; known methods: "
            f"{list(SCALING_METHODS)}."
        )


def _statistics(flat: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale of shape (K,) of the non-NaN entries of ``flat`` (rows, K),
    every column holding at least one."""
    n_features = flat.shape[1]
    if method == "none":
        return np.zeros(n_features), np.ones(n_features)
    if method == "standard":
        center = np.nanmean(flat, axis=0)
        spread = np.nanstd(flat, axis=0)
    else:
        q25, center, q75 = np.nanpercentile(flat, [25.0, 50.0, 75.0], axis=0)
        spread = (q75 - q25) / _NORMAL_IQR
    magnitude = np.nanmax(np.abs(flat), axis=0)
    constant = spread <= _RELATIVE_SPREAD_TOL * magnitude
    # A constant variable has no spread to scale by: 1, or its magnitude where
    # that is smaller, so that values far below 1 (2e-6) are not given noise of 1.
    fallback = np.where((magnitude > 0) & (magnitude < 1), magnitude, 1.0)
    return center, np.where(constant, fallback, spread)


def _observed_matrix(values: np.ndarray, observed_mask: np.ndarray) -> np.ndarray:
    """Validate inputs; return float64 (rows, K) with NaN at unobserved entries."""
    values = np.asarray(values)
    observed_mask = np.asarray(observed_mask)
    if observed_mask.dtype != np.bool_:
        raise TypeError(
            f"observed_mask must be boolean; got dtype {observed_mask.dtype}."
        )
    if values.ndim not in (2, 3) or values.shape != observed_mask.shape:
        raise ValueError(
            "values and observed_mask must have the same shape (T, K) or (N, T, K); "
            f"got {values.shape} and {observed_mask.shape}."
        )
    n_features = values.shape[-1]
    values = values.astype(np.float64).reshape(-1, n_features)  # (N*T, K)
    observed_mask = observed_mask.reshape(-1, n_features)  # (N*T, K)
    empty = np.flatnonzero(~observed_mask.any(axis=0))
    if empty.size:
        raise ValueError(
            f"Variable(s) at column index {empty.tolist()} have no observed entry; "
            "cannot fit a scaler."
        )
    if not np.all(np.isfinite(values[observed_mask])):
        raise ValueError("values must be finite wherever observed_mask is True.")
    return np.where(observed_mask, values, np.nan)
