"""The public output methods shared by :class:`tsdiff.DiffusionImputer` and the
baseline imputers, on top of a method that draws imputations."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff.data import (
    WindowSource,
    pad_left,
    sliding_windows,
    stitch_owner,
    window_starts,
)
from tsdiff.estimation.quantiles import interval_levels, interval_table
from tsdiff.estimation.validation import check_alpha, check_coverage
from tsdiff.frames import (
    SeriesArrays,
    check_same_columns,
    long_panel,
    quantile_frame,
    to_arrays,
    to_output,
)

__all__ = ["ImputeMixin", "pattern_windows", "window_plan"]


class _LongRows:
    """Where the rows of a long table went in its panel, to bring results back."""

    def __init__(self, table: pd.DataFrame, rows: np.ndarray, panel_index: pd.Index):
        self.table = table
        self.rows = rows  # (n_rows,): the panel row of each row of the table
        self.index = panel_index[rows]  # (series id, time) of each row, table order

    def filled(self, panel: pd.DataFrame) -> pd.DataFrame:
        """A copy of the table with its value columns taken from ``panel``."""
        out = self.table.copy()
        values = panel.to_numpy()[self.rows]  # (n_rows, K), in table order
        for k, column in enumerate(panel.columns):
            out[column] = values[:, k]
        return out


def _is_flat_table(X: Any) -> bool:
    return isinstance(X, pd.DataFrame) and not isinstance(X.index, pd.MultiIndex)


class ImputeMixin:
    """``transform``, ``predict_quantiles``, ``predict_interval`` and ``sample`` of an
    imputer.

    A host class provides ``_samples(arrays, num_samples=None, random_state=None,
    calibrate=True) -> (S, n_rows, K)`` (imputations of the input's rows, in input
    order, observed cells exact; None means its defaults; ``calibrate=False`` may
    skip interval calibration, which leaves the median as it is) and
    ``_quantiles(samples, alpha) -> (Q, ...)``.
    The docstrings of the public methods are written once, here, for every host;
    their examples use :class:`~tsdiff.DiffusionImputer`. List this
    mixin before scikit-learn's ``TransformerMixin``, so that the ``transform`` it
    gives each host is the one ``set_output`` wraps. Imputers accept NaN and keep a
    float32 or float64 dtype.
    """

    def __init_subclass__(cls, **kwargs):
        # scikit-learn's set_output wraps only a transform in the class's own
        # namespace: give each host this one, before TransformerMixin looks (a
        # transform a parent class overrode is inherited as it is).
        inherited = inspect.unwrap(cls.transform)
        if "transform" not in vars(cls) and inherited is ImputeMixin.transform:
            cls.transform = ImputeMixin.transform
        super().__init_subclass__(**kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _check_input(self, X: Any) -> tuple[SeriesArrays, _LongRows | None]:
        """``X`` as arrays and, for a long table in the layout of fit, how its rows
        map to the panel rows."""
        check_is_fitted(self)
        long = None
        columns = getattr(self, "long_columns_", None)
        if columns is not None and _is_flat_table(X):
            panel, rows = long_panel(X, *columns)
            long, X = _LongRows(X, rows, panel.index), panel
        arrays = to_arrays(X, freq=self.freq, name="X", panel=True)
        check_same_columns(arrays, self, "X")
        return arrays, long

    def transform(self, X: Any) -> Any:
        """Fill the missing values of ``X`` with the median imputation.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Data with the variables seen in fit; NaN marks a missing value. An
            array of shape (n_series, n_timesteps, n_variables) is a panel.

        Returns
        -------
        DataFrame, Series or ndarray of shape (n_timesteps, n_variables)
            Same type, shape, index, columns and floating dtype as ``X``; observed
            values are unchanged.

        Examples
        --------
        >>> from tsdiff import DiffusionImputer
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> X = make_seasonal_ar(n_steps=32, n_series=2, missing_rate=0.1,
        ...                      random_state=0).observed
        >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8, n_heads=1,
        ...                        n_diffusion_steps=5, n_epochs=1, num_samples=4,
        ...                        device="cpu", random_state=0).fit(X)
        >>> X.isna().sum().tolist()
        [2, 4]
        >>> filled = imp.transform(X)
        >>> filled.isna().sum().tolist()
        [0, 0]
        >>> filled.where(X.notna()).equals(X)  # observed values kept, bit for bit
        True
        """
        arrays, long = self._check_input(X)
        samples = self._samples(arrays, calibrate=False)  # the median is the same
        median = self._quantiles(samples, (0.5,))[0]  # (n_rows, K)
        grid = arrays.values.copy()  # (T, K)
        rows = arrays.rows
        grid[rows] = np.where(arrays.observed_mask[rows], grid[rows], median)
        out = to_output(grid, arrays)
        return out if long is None else long.filled(out)

    def predict_quantiles(self, X: Any, alpha: Any = None) -> pd.DataFrame:
        """Quantiles of every cell of ``X``; observed cells repeat their value.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Data to impute, with the variables seen in fit; NaN marks a missing
            value.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.

        Returns
        -------
        DataFrame of shape (n_timesteps, n_variables * len(alpha))
            Index of ``X``; columns ``MultiIndex(variable, quantile)``.

        Examples
        --------
        >>> from tsdiff import DiffusionImputer
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> X = make_seasonal_ar(n_steps=32, n_series=2, missing_rate=0.1,
        ...                      random_state=0).observed
        >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8, n_heads=1,
        ...                        n_diffusion_steps=5, n_epochs=1, num_samples=4,
        ...                        device="cpu", random_state=0).fit(X)
        >>> q = imp.predict_quantiles(X, alpha=[0.1, 0.5, 0.9])
        >>> q.shape
        (32, 6)
        >>> q.columns.tolist()[:3]
        [('y0', 0.1), ('y0', 0.5), ('y0', 0.9)]
        >>> gaps = X["y0"].isna()
        >>> q["y0"][gaps].index.strftime("%H:%M").tolist()
        ['13:00', '21:00']
        >>> int(q["y0"][~gaps].nunique(axis=1).max())  # observed cells: one value
        1
        """
        alpha = check_alpha(self.quantile_levels if alpha is None else alpha)
        arrays, long = self._check_input(X)
        q = self._quantiles(self._samples(arrays), alpha)  # (Q, n_rows, K)
        if long is not None:  # rows back in the order of the long table
            q, index = q[:, long.rows], long.index
        else:
            index = arrays.index
        return quantile_frame(q, index, arrays.columns, alpha)

    def predict_interval(self, X: Any, coverage: Any = 0.9) -> pd.DataFrame:
        """Central prediction intervals of every cell of ``X``.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Data to impute, with the variables seen in fit; NaN marks a missing
            value.
        coverage : float or sequence of float, default=0.9
            Nominal coverages in (0, 1).

        Returns
        -------
        DataFrame
            Index of ``X``; columns ``(variable, coverage, "lower"|"upper")``.

        Examples
        --------
        >>> from tsdiff import DiffusionImputer
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> X = make_seasonal_ar(n_steps=32, n_series=2, missing_rate=0.1,
        ...                      random_state=0).observed
        >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8, n_heads=1,
        ...                        n_diffusion_steps=5, n_epochs=1, num_samples=4,
        ...                        device="cpu", random_state=0).fit(X)
        >>> bands = imp.predict_interval(X, coverage=[0.5, 0.9])
        >>> bands.shape
        (32, 8)
        >>> bands["y0"].columns.tolist()
        [(0.5, 'lower'), (0.5, 'upper'), (0.9, 'lower'), (0.9, 'upper')]
        >>> width = bands["y0", 0.9, "upper"] - bands["y0", 0.9, "lower"]
        >>> bool((width[X["y0"].notna()] == 0).all())  # observed cells: no uncertainty
        True
        """
        coverage = check_coverage(coverage)
        arrays, long = self._check_input(X)
        levels = interval_levels(coverage)
        q = self._quantiles(self._samples(arrays), levels)  # (2C, n_rows, K)
        if long is not None:  # rows back in the order of the long table
            q, index = q[:, long.rows], long.index
        else:
            index = arrays.index
        return interval_table(q, index, arrays.columns, coverage)

    def sample(
        self, X: Any, num_samples: int | None = None, random_state: Any = None
    ) -> np.ndarray:
        """Draw imputations (joint over the cells of a window where the model draws
        them jointly, as :class:`~tsdiff.DiffusionImputer` does).

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Data to impute, with the variables seen in fit; NaN marks a missing
            value.
        num_samples : int, default=None
            Number of samples; None uses the ``num_samples`` parameter (1 for a
            deterministic imputer, whose samples all equal its point imputation).
        random_state : int, RandomState or None, default=None
            Seed for fresh draws; None reuses the seed drawn in fit (the draws
            behind ``transform``).

        Returns
        -------
        ndarray of shape (num_samples, n_timesteps, n_variables)
            Observed cells equal the data in every sample. For a 3-D array ``X``
            (a panel), shape (num_samples, n_series, n_timesteps, n_variables).

        Examples
        --------
        >>> from tsdiff import DiffusionImputer
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> X = make_seasonal_ar(n_steps=32, n_series=2, missing_rate=0.1,
        ...                      random_state=0).observed
        >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8, n_heads=1,
        ...                        n_diffusion_steps=5, n_epochs=1, num_samples=4,
        ...                        device="cpu", random_state=0).fit(X)
        >>> import numpy as np
        >>> samples = imp.sample(X, num_samples=3)
        >>> samples.shape  # (num_samples, n_timesteps, n_variables)
        (3, 32, 2)
        >>> observed = X.notna().to_numpy()
        >>> bool((samples[:, observed] == X.to_numpy()[observed]).all())
        True
        >>> np.array_equal(imp.sample(X, random_state=1), imp.sample(X, random_state=1))
        True
        """
        arrays, long = self._check_input(X)
        samples = self._samples(arrays, num_samples, random_state)  # (S, n_rows, K)
        if long is not None:
            return samples[:, long.rows]  # in the order of the long table
        if arrays.kind == "array" and arrays.bounds is not None:
            n_series = len(arrays.bounds) - 1  # (S, N * T, K) -> (S, N, T, K)
            return samples.reshape(len(samples), n_series, -1, samples.shape[-1])
        return samples


def pattern_windows(
    mask_patterns: Any, n_features: int, window_length: int, strategy: str
) -> WindowSource | None:
    """Every window of ``window_length`` steps of the user's observed-mask patterns
    (``mask_patterns`` of :meth:`tsdiff.DiffusionImputer.fit`), or None without
    them; an error for a target ``strategy`` that copies no patterns."""
    if mask_patterns is None:
        return None
    if strategy not in ("historical", "mix"):
        raise ValueError(
            "mask_patterns is only used by target_strategy='historical' or "
            f"'mix'; got target_strategy={strategy!r}."
        )
    segments = [mask_patterns]
    if isinstance(mask_patterns, pd.DataFrame) and isinstance(
        mask_patterns.index, pd.MultiIndex
    ):  # a panel: cut windows within each series only
        segments = [part for _, part in mask_patterns.groupby(level=0, sort=False)]
    series, starts, offset = [], [], 0
    for segment in segments:
        patterns = np.asarray(segment)
        if patterns.dtype != bool:
            raise TypeError(
                "mask_patterns must hold booleans (True = observed); got dtype "
                f"{patterns.dtype}."
            )
        if patterns.ndim != 2 or patterns.shape[1] != n_features:
            raise ValueError(
                "mask_patterns must have shape (n_rows, n_variables) with "
                f"n_variables={n_features} like X; got shape {patterns.shape}."
            )
        if len(patterns) >= window_length:  # shorter series cut no window
            n_starts = len(patterns) - window_length + 1
            starts.append(offset + np.arange(n_starts))
            series.append(patterns)
            offset += len(patterns)
    if not series:
        raise ValueError(
            "mask_patterns has no series of at least window_length="
            f"{window_length} rows to cut a window from."
        )
    masks = np.concatenate(series)  # (T', K): every long enough series
    return WindowSource.from_series(masks, masks, np.concatenate(starts), window_length)


def window_plan(
    scaled: np.ndarray, observed: np.ndarray, length: int, stride: int, every=False
) -> dict:
    """The windows that impute one series (T, K): padded on the left to a whole
    window, cut every ``stride`` steps, and which of them own a missing cell (the
    others need no sampling), or all of them with ``every``."""
    values, cond, n_pad = pad_left(scaled, observed, length)
    starts = window_starts(len(values), length, stride)
    owner = stitch_owner(starts, length, len(values))  # (T',)
    needed = np.full(len(starts), bool(every))
    gaps = np.flatnonzero(~cond[n_pad:].all(axis=1)) + n_pad  # padding needs none
    needed[np.unique(owner[gaps])] = True
    return {
        "windows": sliding_windows(values, starts, length),  # (N, L, K)
        "cond_windows": sliding_windows(cond, starts, length),
        "starts": starts,
        "needed": needed,
        "n_pad": n_pad,
        "n_steps": len(values),
    }
