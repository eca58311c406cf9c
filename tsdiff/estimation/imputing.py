"""The public output methods shared by :class:`tsdiff.DiffusionImputer` and the
baseline imputers, on top of a method that draws imputations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff.data import WindowSource
from tsdiff.estimation.docs import fill_method_docs
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

__all__ = ["ImputeMixin", "pattern_windows"]


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


_EXAMPLE_FIELDS = (
    "transform_examples",
    "predict_quantiles_examples",
    "predict_interval_examples",
    "sample_examples",
)
"""Fields of the method docstrings below that hold an ``Examples`` section (with
its header) of the host class; a host that gives none gets no section. As the rest
of the docstring, the text is filled by ``str.format``: double a literal brace."""


def _is_flat_table(X: Any) -> bool:
    return isinstance(X, pd.DataFrame) and not isinstance(X.index, pd.MultiIndex)


class ImputeMixin:
    """``transform``, ``predict_quantiles``, ``predict_interval`` and ``sample`` of an
    imputer.

    A host class provides ``_samples(arrays, num_samples=None, random_state=None) ->
    (S, n_rows, K)`` (imputations of the input's rows, in input order, observed cells
    exact; None means its defaults), ``_quantiles(samples, alpha) -> (Q, ...)`` and
    ``_doc_parts``, the words that fill the ``{fields}`` of the method docstrings
    below (optionally their ``Examples`` sections, ``_EXAMPLE_FIELDS``). List this
    mixin before scikit-learn's ``TransformerMixin``, so that the ``transform`` it
    gives each host is the one ``set_output`` wraps. Imputers accept NaN and keep a
    float32 or float64 dtype.
    """

    _doc_parts: dict

    def __init_subclass__(cls, **kwargs):
        if "_doc_parts" in vars(cls):
            methods = ("transform", "predict_quantiles", "predict_interval", "sample")
            parts = {**dict.fromkeys(_EXAMPLE_FIELDS, ""), **cls._doc_parts}
            fill_method_docs(cls, ImputeMixin, methods, parts)
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
        """Fill the missing values of ``X`` with the {median}.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            {data} with the variables seen in fit; NaN marks a missing value. An
            array of shape (n_series, n_timesteps, n_variables) is a panel.

        Returns
        -------
        DataFrame, Series or ndarray of shape (n_timesteps, n_variables)
            Same type, shape, index, columns and floating dtype as ``X``; observed
            values are unchanged.

        {transform_examples}
        """
        arrays, long = self._check_input(X)
        median = self._quantiles(self._samples(arrays), (0.5,))[0]  # (n_rows, K)
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
            {data} to impute.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.

        Returns
        -------
        DataFrame of shape (n_timesteps, n_variables * len(alpha))
            Index of ``X``; columns ``MultiIndex(variable, quantile)``.

        {predict_quantiles_examples}
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
            {data} to impute.
        coverage : float or sequence of float, default=0.9
            Nominal coverages in (0, 1).

        Returns
        -------
        DataFrame
            Index of ``X``; columns ``(variable, coverage, "lower"|"upper")``.

        {predict_interval_examples}
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
        """{draw}

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            {data} to impute.
        {sample_parameters}

        Returns
        -------
        ndarray of shape (num_samples, n_timesteps, n_variables)
            {sample_note} For a 3-D array ``X`` (a panel), shape (num_samples,
            n_series, n_timesteps, n_variables).

        {sample_examples}
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
