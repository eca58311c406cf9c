"""Forecasting horizons, new histories and the public predict methods shared by
:class:`tsdiff.DiffusionForecaster` and the baseline forecasters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsdiff.estimation.quantiles import interval_levels, interval_table
from tsdiff.estimation.validation import check_alpha, check_coverage
from tsdiff.frames import (
    SeriesArrays,
    check_same_columns,
    horizon_steps,
    index_kind,
    quantile_frame,
    to_arrays,
)

__all__ = ["TRAINING_SERIES_DOC", "ForecastMixin"]

TRAINING_SERIES_DOC = """\
y : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
    Training series indexed by time (DatetimeIndex, PeriodIndex or integer
    index); NaN marks a missing value. Missing timestamps are inserted as gaps."""
"""The ``y`` parameter of the forecasters' ``fit``."""


class ForecastMixin:
    """``predict``, ``predict_quantiles``, ``predict_interval`` and ``sample`` of a
    forecaster fitted on one series, with the parsing of forecasting horizons and
    new histories behind them.

    A host class calls :meth:`_read_y` and :meth:`_set_time_info` in ``fit`` and
    provides

    * ``_forecast_quantiles(fh, y, alpha, X) -> (quantiles, index, kind, name)``
      with quantiles of shape (Q, H, K) in the order of ``alpha``, non-decreasing in
      the level, and ``_forecast_samples(fh, y, num_samples, random_state, X) ->
      (S, H, K)``; ``X`` reaches them only where :meth:`_check_exogenous` lets it;
    * ``_max_step()`` (the largest relative step) and ``_default_steps()`` (the
      horizon when neither the predict method nor fit got one);
    * ``_absolute_error`` and ``_range_error``: the ends of the messages for time
      points off the grid (fields ``limit``, ``cutoff``, ``freq``) and for steps out
      of range (field ``limit``).

    The docstrings of the public methods are written once, here, for every host;
    their examples use :class:`~tsdiff.DiffusionForecaster`.
    """

    _absolute_error: str
    _range_error: str
    _panels: bool = False  # whether fit takes a panel of series

    # -- fit ----------------------------------------------------------------------

    def _read_y(self, y: Any) -> SeriesArrays:
        """The training series as arrays; it needs a regular time step."""
        arrays = to_arrays(y, freq=self.freq, name="y", panel=self._panels)
        if arrays.freq is None:
            advice = "Pass `freq` or reindex y."
            if pd.api.types.is_object_dtype(arrays.index) or (
                pd.api.types.is_string_dtype(arrays.index)
            ):  # dates read as text, as read_csv without parse_dates gives
                advice = (
                    "Its labels are text: parse them as dates first (y.index = "
                    "pd.to_datetime(y.index), or read_csv(..., parse_dates=True))."
                )
            raise ValueError(
                "y needs a time index with a regular step (DatetimeIndex, PeriodIndex "
                "or integer index) to place forecasts; got "
                f"{type(arrays.index).__name__} without an inferable frequency. "
                + advice
            )
        return arrays

    def _set_time_info(self, arrays: SeriesArrays, fh: Any) -> None:
        """Store the step, cutoff, container and default horizon of the series."""
        self.freq_ = arrays.freq
        self.cutoff_ = arrays.grid_index[-1]
        self.time_name_ = arrays.grid_index.name
        self.y_type_ = arrays.kind
        self.y_name_ = arrays.name
        self.fh_ = None if fh is None else self._relative_steps(fh, self.cutoff_)

    def _time_name(self, arrays: SeriesArrays | None) -> Any:
        """Name of the time index of forecasts: that of a new history ``arrays``,
        else that of the training series (None for models saved before it was
        kept)."""
        if arrays is not None:
            return arrays.grid_index.names[-1]
        return getattr(self, "time_name_", None)

    def _check_exogenous(self, X: Any) -> None:
        """Refuse ``X`` unless the host takes exogenous covariates."""
        self._check_no_exogenous(X)

    def _check_no_exogenous(self, X: Any) -> None:
        if X is not None:
            raise ValueError(
                f"{type(self).__name__} does not support exogenous covariates; "
                "pass X=None."
            )

    # -- horizons and histories -----------------------------------------------------

    def _relative_steps(self, fh: Any, cutoff: Any) -> np.ndarray:
        """Sorted relative steps (1 = next time point) of a forecasting horizon:
        :func:`~tsdiff.frames.horizon_steps`, or for None the horizon of fit or the
        host's default."""
        if fh is None:
            if getattr(self, "fh_", None) is not None:
                return self.fh_
            return self._default_steps()
        return horizon_steps(
            fh,
            cutoff,
            self.freq_,
            self._max_step(),
            range_error=self._range_error,
            absolute_error=self._absolute_error,
        )

    def _history(self, y: Any) -> tuple[SeriesArrays | None, Any, str, Any]:
        """A new history as arrays (None for the training series), its cutoff,
        output kind and series name."""
        if y is None:
            return None, self.cutoff_, self.y_type_, self.y_name_
        arrays = to_arrays(y, freq=self.freq, name="y")
        check_same_columns(arrays, self, "y")
        cutoff = arrays.grid_index[-1]
        if arrays.freq != self.freq_ or index_kind(cutoff) != index_kind(self.cutoff_):
            raise ValueError(
                f"y must have the index type and step of the training series "
                f"({index_kind(self.cutoff_)}, step {self.freq_}); got "
                f"{index_kind(cutoff)} with step {arrays.freq}."
            )
        return arrays, cutoff, arrays.kind, arrays.name

    # -- public methods ----------------------------------------------------------

    def predict(self, fh: Any = None, X: Any = None, *, y: Any = None) -> Any:
        """Point forecasts: the median of the forecast distribution at every step.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon: an int ``h`` means steps 1..h, ints are relative steps, an Index
            holds absolute time points. None uses the ``fh`` given to fit, else the
            forecaster's default horizon (``1..prediction_length`` for
            :class:`~tsdiff.DiffusionForecaster`).
        X : DataFrame or None, default=None
            Known-future covariates at the forecast time points (with ``y``: also at
            its last ``context_length``), for a forecaster fitted with covariates;
            forecasters without covariate support take only None.
        y : DataFrame, Series or array-like, default=None
            A new history to condition on (same variables) instead of the end of the
            training series; no refitting.

        Returns
        -------
        DataFrame or Series
            Rows are the future time points; a Series when fitted on a Series.
            For a panel of series (a forecaster fitted on one), rows ``(series id,
            time)``, series-major.

        Examples
        --------
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0).fit(y)
        >>> median = fc.predict(fh=[1, 2, 4])
        >>> median.shape
        (3, 2)
        >>> median.index.strftime("%Y-%m-%d %H:%M").tolist()
        ['2024-01-03 00:00', '2024-01-03 01:00', '2024-01-03 03:00']
        >>> median.columns.tolist()
        ['y0', 'y1']

        A new history is forecast from its own end, without refitting:

        >>> fc.predict(y=y.iloc[:24]).index[0]
        Timestamp('2024-01-02 00:00:00')
        """
        self._check_exogenous(X)
        q, index, kind, name = self._forecast_quantiles(fh, y, (0.5,), X)
        frame = pd.DataFrame(q[0], index=index, columns=self.columns_)  # (H, K)
        return frame.iloc[:, 0].rename(name) if kind == "series" else frame

    def predict_quantiles(
        self, fh: Any = None, X: Any = None, *, y: Any = None, alpha: Any = None
    ) -> pd.DataFrame:
        """Forecast quantiles.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : DataFrame or None, default=None
            Known-future covariates, as in :meth:`predict`.
        y : DataFrame, Series or array-like, default=None
            New history, as in :meth:`predict`.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.

        Returns
        -------
        DataFrame
            Rows are the future time points; columns ``MultiIndex(variable, quantile)``
            with float quantile labels in the order of ``alpha``.
            For a panel of series (a forecaster fitted on one), rows ``(series id,
            time)``, series-major.

        Examples
        --------
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0).fit(y)
        >>> q = fc.predict_quantiles(alpha=[0.1, 0.5, 0.9])
        >>> q.shape
        (4, 6)
        >>> q.columns.tolist()[:3]
        [('y0', 0.1), ('y0', 0.5), ('y0', 0.9)]
        >>> bool((q["y0"][0.1] <= q["y0"][0.9]).all())
        True
        """
        self._check_exogenous(X)
        alpha = check_alpha(self.quantile_levels if alpha is None else alpha)
        q, index, _, _ = self._forecast_quantiles(fh, y, alpha, X)
        return quantile_frame(q, index, self.columns_, alpha)

    def predict_interval(
        self, fh: Any = None, X: Any = None, *, y: Any = None, coverage: Any = 0.9
    ) -> pd.DataFrame:
        """Central prediction intervals.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : DataFrame or None, default=None
            Known-future covariates, as in :meth:`predict`.
        y : DataFrame, Series or array-like, default=None
            New history, as in :meth:`predict`.
        coverage : float or sequence of float, default=0.9
            Nominal coverages in (0, 1).

        Returns
        -------
        DataFrame
            Columns ``(variable, coverage, "lower"|"upper")``.
            For a panel of series (a forecaster fitted on one), rows ``(series id,
            time)``, series-major.

        Examples
        --------
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0).fit(y)
        >>> bands = fc.predict_interval(coverage=[0.5, 0.9])
        >>> bands.shape
        (4, 8)
        >>> list(bands.columns.names)
        ['variable', 'coverage', 'bound']
        >>> bands["y0"].columns.tolist()
        [(0.5, 'lower'), (0.5, 'upper'), (0.9, 'lower'), (0.9, 'upper')]
        >>> bool((bands["y0", 0.9, "lower"] <= bands["y0", 0.5, "lower"]).all())
        True
        """
        self._check_exogenous(X)
        coverage = check_coverage(coverage)
        levels = interval_levels(coverage)
        q, index, _, _ = self._forecast_quantiles(fh, y, levels, X)
        return interval_table(q, index, self.columns_, coverage)

    def sample(
        self,
        fh: Any = None,
        X: Any = None,
        *,
        y: Any = None,
        num_samples: int | None = None,
        random_state: Any = None,
    ) -> np.ndarray:
        """Draw forecast samples (joint over steps and variables where the model
        draws them jointly, as :class:`~tsdiff.DiffusionForecaster` does).

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : DataFrame or None, default=None
            Known-future covariates, as in :meth:`predict`.
        y : DataFrame, Series or array-like, default=None
            New history, as in :meth:`predict`.
        num_samples : int, default=None
            Number of samples; None uses ``num_samples``.
        random_state : int, RandomState or None, default=None
            Seed for fresh draws; None reuses the fitted seed (the samples behind
            ``predict``).

        Returns
        -------
        ndarray of shape (num_samples, len(fh), n_variables)
            Shape (num_samples, n_series, len(fh), n_variables) for a panel.

        Examples
        --------
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0).fit(y)
        >>> import numpy as np
        >>> fc.sample(fh=[1, 2], num_samples=3).shape  # (samples, steps, variables)
        (3, 2, 2)
        >>> np.array_equal(fc.sample(random_state=1), fc.sample(random_state=1))
        True
        """
        self._check_exogenous(X)
        return self._forecast_samples(fh, y, num_samples, random_state, X)
