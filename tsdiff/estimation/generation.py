"""``generate``: new series drawn from a fitted imputer, given nothing.

The first window of every new series is sampled with no given value; each later
window overlaps the one before by half a window and is sampled given the values
already drawn there, so a series of any length is one conditional draw after
another (:func:`generate_scaled`), with no seam where two windows meet.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff.estimation.validation import check_positive_int
from tsdiff.frames import future_index

__all__ = ["GenerateMixin", "generate_scaled"]


class GenerateMixin:
    """``generate``, for :class:`~tsdiff.DiffusionImputer` (its ``_sample_windows``
    draws scaled windows given a mask)."""

    def generate(
        self,
        n_series: int = 1,
        length: int | None = None,
        *,
        start: Any = None,
        random_state: Any = None,
    ) -> pd.DataFrame:
        """Draw new series that look like the training data, given no value.

        Each series starts from a window sampled with nothing given; every next
        window overlaps the last by ``window_length // 2`` steps and is sampled
        given the values drawn there, until ``length`` steps are drawn. The
        series are independent draws of the fitted model (one per series, not a
        sample set to take quantiles over). A model can draw a window with
        nothing given only as well as it learned to: fit it with
        ``unconditional_share`` above 0 (a share of the training windows with
        nothing given) for generation. Measured with a small network, a
        classifier told its ETTh1 windows from real ones less easily than a block
        bootstrap's or a VAR's, and its weekly electricity windows more easily
        (``benchmarks/README.md``, Synthetic series). Costs
        ``ceil((length - window_length) / (window_length - window_length // 2)) +
        1`` sampling calls, each for
        ``n_series`` windows at once.

        Parameters
        ----------
        n_series : int, default=1
            Number of series to draw.
        length : int, default=None
            Time steps of each series; None draws one window (``window_length``).
        start : str, Timestamp or int, default=None
            First time point of every series, which then steps by the fitted
            frequency (``freq_``; an integer for data indexed by integers); None
            numbers the steps from 0.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws; None uses the fitted one (repeatable).

        Returns
        -------
        DataFrame of shape (n_series * length, n_variables)
            The variables seen in fit, indexed by ``MultiIndex(series, time)``
            (series numbered from 0), the panel layout that ``fit`` and
            ``transform`` take. An imputer fitted on a long table answers with a
            long table whose id and time columns are those of fit.

        Raises
        ------
        ValueError
            If ``n_series`` or ``length`` is below 1, ``start`` is no date, or
            ``start`` is given but the fitted data had no frequency.
        TypeError
            If ``n_series`` or ``length`` is not an integer, or ``start`` is of
            the wrong kind (an integer for data indexed by integers, a date
            otherwise).

        Examples
        --------
        >>> from tsdiff import DiffusionImputer
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> X = make_seasonal_ar(n_steps=96, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> imp = DiffusionImputer(window_length=12, unconditional_share=0.2,
        ...                        n_layers=1, n_channels=8, n_heads=1,
        ...                        n_diffusion_steps=5, n_epochs=1, device="cpu",
        ...                        random_state=0).fit(X)
        >>> fake = imp.generate(n_series=3, length=30, start="2025-01-01")
        >>> fake.shape, fake.columns.tolist()
        ((90, 2), ['y0', 'y1'])
        >>> fake.loc[2].index[[0, -1]].strftime("%d %H:%M").tolist()
        ['01 00:00', '02 05:00']
        >>> fake.equals(imp.generate(n_series=3, length=30, start="2025-01-01"))
        True
        """
        check_is_fitted(self)
        n_series = check_positive_int(n_series, "n_series")
        length = check_positive_int(
            self.window_length if length is None else length, "length"
        )
        times = _times(length, start, self.freq_)
        scaled = generate_scaled(
            self._sample_windows, n_series, length, self.window_length,
            len(self.columns_), self._sample_seed(random_state),
        )  # (N, T, K)  # fmt: skip
        values = self.scaler_.inverse_transform(
            scaled.reshape(-1, scaled.shape[-1])
        )  # (N, T, K) -> (N * T, K)
        index = pd.MultiIndex.from_product(
            [pd.RangeIndex(n_series), times], names=["series", "time"]
        )
        out = pd.DataFrame(values, index=index, columns=self.columns_)
        if self.long_columns_ is not None:  # answer in the layout of fit
            return out.rename_axis(list(self.long_columns_)).reset_index()
        return out


def generate_scaled(
    sample_windows: Callable[..., np.ndarray],
    n_series: int,
    length: int,
    window_length: int,
    n_features: int,
    seed: int,
) -> np.ndarray:
    """Series of shape (n_series, length, n_features) in the model's scale.

    ``sample_windows(windows, cond_mask, num_samples, seed)`` draws samples
    (S, N, L, K) of the target cells of windows (N, L, K); the first window of
    each series has no given cell, each later one starts ``window_length // 2``
    steps before the end of the last and is given the values drawn there. Every
    call gets its own seed, drawn from ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> def fill(windows, cond, num_samples, seed):  # a model that draws ones
    ...     return np.where(cond, windows, 1.0 + windows.max())[None]
    >>> generate_scaled(fill, 1, 10, 4, 1, seed=0)[0, :, 0].tolist()
    [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    """
    overlap = window_length // 2
    stride = window_length - overlap
    n_more = -(-max(length - window_length, 0) // stride)  # ceil
    grid = np.zeros((n_series, window_length + n_more * stride, n_features))
    rng = np.random.default_rng(seed)
    for first in range(0, n_more * stride + 1, stride):
        given = overlap if first else 0
        cond = np.zeros((n_series, window_length, n_features), dtype=bool)
        cond[:, :given] = True  # the steps the last window drew
        windows = grid[:, first : first + window_length].copy()  # (N, L, K)
        drawn = sample_windows(windows, cond, 1, int(rng.integers(2**31 - 1)))[0]
        grid[:, first + given : first + window_length] = drawn[:, given:]
    return grid[:, :length]


def _times(length: int, start: Any, freq: Any) -> pd.Index:
    """The time points of a generated series: steps of ``freq`` (an offset, or
    the step of an integer index) from ``start``, or 0, 1, ... without ``start``."""
    if start is None:
        return pd.RangeIndex(length)
    if freq is None:
        raise ValueError(
            "start needs the frequency of the fitted data, but the imputer was "
            "fitted on data without a time index of fixed frequency; leave start "
            "None."
        )
    if isinstance(freq, numbers.Integral):  # fitted on an integer index
        if not isinstance(start, numbers.Integral) or isinstance(start, bool):
            raise TypeError(
                "start must be an integer: the imputer was fitted on data indexed "
                f"by integers; got {start!r}."
            )
        first = int(start)
    elif isinstance(start, (numbers.Number, np.bool_)):  # pandas reads it as ns
        raise TypeError(
            f"start must be a date (a string or Timestamp) for data of frequency "
            f"{freq.freqstr}; got {start!r}."
        )
    else:
        try:
            first = pd.Timestamp(start)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"start must be a date; got {start!r} ({error})."
            ) from None
    return future_index(first, freq, np.arange(length))
