"""DiffusionForecaster: probabilistic multivariate forecasting with a conditional
diffusion model, as imputation of the future."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff.data import Scaler, WindowSource, fit_panel_scaler
from tsdiff.estimation.base import DiffusionEstimator
from tsdiff.estimation.calibration import before_tails, held_out_windows, widen
from tsdiff.estimation.covariates import CovariateSpec
from tsdiff.estimation.docs import fill_doc, share_docs
from tsdiff.estimation.forecasting import (
    TRAINING_SERIES_DOC,
    ForecastMixin,
    index_kind,
)
from tsdiff.estimation.histories import (
    Histories,
    history_until,
    horizon_index,
    last_steps,
    panel_ends,
    series_scaler,
    series_starts,
)
from tsdiff.estimation.quantiles import band_levels
from tsdiff.estimation.validation import (
    POSITIVE_INT,
    CalendarSpec,
    Interval,
    check_alpha,
    check_observed,
    check_positive_int,
    set_feature_info,
    store_params,
)
from tsdiff.frames import (
    SeriesArrays,
    backtest_index,
    check_same_columns,
    from_long,
    future_index,
    long_columns,
    quantile_frame,
    to_arrays,
)

__all__ = ["DiffusionForecaster"]


_NEW_HISTORY_DOC = """\
A new history to condition on (same variables) instead of the end of the
training series; no refitting."""

_RANDOM_STATE_DOC = """\
random_state : int, RandomState or None, default=None
    Seed for fresh draws; None reuses the fitted seed (the samples behind
    ``predict``)."""

_EXAMPLE_SETUP = """\
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
"""
"""The start of the ``Examples`` of the predict methods: a tiny fitted forecaster
of two hourly series ending at 2024-01-02 23:00."""

_EXAMPLES = {
    "predict_examples": _EXAMPLE_SETUP
    + """\
>>> median = fc.predict(fh=[1, 2, 4])
>>> median.shape
(3, 2)
>>> median.index.strftime("%Y-%m-%d %H:%M").tolist()
['2024-01-03 00:00', '2024-01-03 01:00', '2024-01-03 03:00']
>>> median.columns.tolist()
['y0', 'y1']

A new history is forecast from its own end, without refitting:

>>> fc.predict(y=y.iloc[:24]).index[0]
Timestamp('2024-01-02 00:00:00')""",
    "predict_quantiles_examples": _EXAMPLE_SETUP
    + """\
>>> q = fc.predict_quantiles(alpha=[0.1, 0.5, 0.9])
>>> q.shape
(4, 6)
>>> q.columns.tolist()[:3]
[('y0', 0.1), ('y0', 0.5), ('y0', 0.9)]
>>> bool((q["y0"][0.1] <= q["y0"][0.9]).all())
True""",
    "predict_interval_examples": _EXAMPLE_SETUP
    + """\
>>> bands = fc.predict_interval(coverage=[0.5, 0.9])
>>> bands.shape
(4, 8)
>>> list(bands.columns.names)
['variable', 'coverage', 'bound']
>>> bands["y0"].columns.tolist()
[(0.5, 'lower'), (0.5, 'upper'), (0.9, 'lower'), (0.9, 'upper')]
>>> bool((bands["y0", 0.9, "lower"] <= bands["y0", 0.5, "lower"]).all())
True""",
    "sample_examples": _EXAMPLE_SETUP
    + """\
>>> import numpy as np
>>> fc.sample(fh=[1, 2], num_samples=3).shape  # (samples, steps, variables)
(3, 2, 2)
>>> np.array_equal(fc.sample(random_state=1), fc.sample(random_state=1))
True""",
}
"""The ``Examples`` sections of the predict methods."""


class DiffusionForecaster(ForecastMixin, DiffusionEstimator):
    """Probabilistic multivariate forecaster based on a conditional diffusion model
    (CSDI, Tashiro et al. 2021).

    A window of ``context_length + prediction_length`` steps is modelled jointly; the
    last ``prediction_length`` steps are hidden and sampled given the context. Training
    hides the future of every window and, in half of them, also random parts of the
    history, so gaps in the history at prediction time are handled. Outputs follow
    sktime's layout: ``predict`` gives the median with the future time index,
    ``predict_quantiles`` columns ``(variable, quantile)``, ``predict_interval`` columns
    ``(variable, coverage, "lower"|"upper")``.

    Given a panel (many series of the same variables), one global model learns from
    the windows of all series, each series scaled by its own statistics, and the
    forecasts of all series are sampled in one batch: rows ``(series id, time)``.
    Known-future covariates ``X``, static features of the series and calendar
    features of the time index condition every window as side information.

    Parameters
    ----------
    context_length : int, default=96
        History steps the forecast is conditioned on (shorter histories are padded as
        missing).
    prediction_length : int, default=24
        Largest horizon the model produces.
    calendar : "auto", tuple of str or None, default="auto"
        Calendar features of the time index given to the network as covariates
        (a sine and a cosine each): names among ``minute``, ``hour``,
        ``day_of_week``, ``day_of_month``, ``day_of_year`` and ``month``, or
        ``"auto"`` for those that suit the step (hour and weekday for hourly
        data, weekday and month for daily, day of year for weekly, ...) where
        the index holds dates (a DatetimeIndex or PeriodIndex), none where it
        does not; named features need dates. None gives none. On validation
        data "auto" cut the CRPS of ILI by half and matched the seasonal lags
        alone on CO2 (README, "Why the defaults are what they are").
    calibration_windows : int or None, default=None
        Calibrate the forecast intervals on held-out windows: the last
        ``calibration_windows * prediction_length`` steps of every series are
        left out of training, forecast from the cutoffs that tile them, and the
        samples of every later forecast are stretched about their median, one
        factor per variable, so that the central ``calibration_coverage``
        interval covers those held-out values at that rate (split conformal
        prediction). Neither the network nor the scaling statistics see the
        held-out steps; they still serve as history for later forecasts. A
        factor is found for each setting that changes the samples (sampler,
        steps, eta, mixed precision, number of samples, quantile method,
        coverage) the first time it is used, which samples the held-out windows
        once more. None trains on every window and leaves the samples as the
        network draws them.
    calibration_coverage : float, default=0.9
        The central interval, in (0, 1), that calibration sets; the other
        levels move with it. May be changed after fit.
    <common parameters>

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained denoiser.
    scaler_ : Scaler
        Per-variable centre and scale; per series and variable (shape
        (n_series, n_variables)) after a fit on a panel.
    <training attributes>
    <feature attributes>
    freq_ : DateOffset or int
        Step of the time index.
    cutoff_ : object
        Last time point of the training series (the latest one of a panel).
    context_ : ndarray of shape (context_length, n_variables)
        The end of the training series, the default history of the predict
        methods; shape (n_series, context_length, n_variables) for a panel.
    series_ids_ : pandas.Index of length n_series
        Only after a fit on a panel: the series ids, in the order of ``context_``.
    cutoffs_ : pandas.Index of length n_series
        Only after a fit on a panel: the last time point of each series.
    covariates_ : CovariateSpec or None
        The covariates learned in fit (``X`` columns and their standardisation,
        calendar and static features); None without any.
    covariate_context_ : ndarray of shape (context_length, n_covariates)
        Only with covariates: their values over ``context_``; shape (n_series,
        context_length, n_covariates) for a panel.
    calibration_ : IntervalCalibration or None
        The held-out windows (``calibration_.truth`` of shape (n_windows,
        prediction_length, n_variables), where n_windows counts those of every
        series: up to ``calibration_windows`` each, the ones with at least one
        step of history) and, in ``calibration_.factors``, the factor per
        variable for each setting used so far; None without calibration.
    y_type_ : {"frame", "series", "array"}
        Container of the training series; ``predict`` returns a Series for "series".
    y_name_ : object
        Name of a training Series.
    fh_ : ndarray or None
        Relative horizon given to ``fit``, the default of the predict methods.
    device_ : torch.device
        Device in use.

    See Also
    --------
    DiffusionImputer : the same model for gaps inside a series.

    References
    ----------
    Tashiro, Song, Song, Ermon. CSDI: Conditional Score-based Diffusion Models for
    Probabilistic Time Series Imputation. NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff import DiffusionForecaster
    >>> y = np.sin(np.arange(60.0) / 3)[:, None]
    >>> fc = DiffusionForecaster(context_length=12, prediction_length=4, n_layers=1,
    ...                          n_channels=8, n_heads=1, n_epochs=1, num_samples=4,
    ...                          n_diffusion_steps=5, device="cpu", random_state=0)
    >>> fc.fit(y).predict(fh=4).shape
    (4, 1)
    """

    __doc__ = share_docs(__doc__)

    _parameter_constraints = {
        **DiffusionEstimator._parameter_constraints,
        "context_length": [POSITIVE_INT],
        "prediction_length": [POSITIVE_INT],
        "calendar": [None, CalendarSpec()],
        "calibration_windows": [None, POSITIVE_INT],
        "calibration_coverage": [Interval(float, 0, 1, "neither")],
    }
    _doc_parts = {
        "point_forecast": "Median forecast.",
        "fh_else": ", else\n            1..prediction_length",
        "x_type": "DataFrame, default=None",
        "x_desc": (
            "Known-future covariates at the ``prediction_length`` time points after"
            " the cutoff (with ``y``: also at its last ``context_length``); see fit."
        ),
        "new_history": _NEW_HISTORY_DOC,
        "to_condition_on": " to condition on",
        "panel_rows": "Rows ``(series id, time)`` for a panel, series-major.",
        "panel_samples": (
            "Shape (num_samples, n_series, len(fh), n_variables) for a panel."
        ),
        "joint": "joint ",
        "random_state": _RANDOM_STATE_DOC,
        **_EXAMPLES,
    }
    _panels = True
    _absolute_error = (
        "among the {limit} steps after the cutoff {cutoff} that this model can produce"
    )
    _range_error = (
        ", but this model produces steps 1..{limit} (prediction_length); refit with a "
        "larger prediction_length."
    )

    def __init__(
        self,
        context_length: int = 96,
        prediction_length: int = 24,
        *,
        n_layers: int = 4,
        n_channels: int = 64,
        n_heads: int = 8,
        time_embedding_dim: int = 128,
        feature_embedding_dim: int = 16,
        diffusion_embedding_dim: int = 128,
        process: str = "ddpm",
        n_diffusion_steps: int = 50,
        schedule: str = "quad",
        beta_start: float = 1e-4,
        beta_end: float = 0.5,
        parameterization: str = "v",
        loss: str = "epsilon",
        center_windows: bool = True,
        scale_windows: bool = False,
        lags: str | tuple | None = "auto",
        target_strategy: str = "random",
        scaler: str = "standard",
        n_epochs: int = 100,
        steps_per_epoch: int | None = 50,
        batch_size: int | str = "auto",
        learning_rate: float = 1e-3,
        lr_schedule: str = "cosine",
        weight_decay: float = 1e-6,
        validation_fraction: float = 0.0,
        early_stopping_patience: int | None = None,
        ema_decay: float | None = None,
        max_grad_norm: float | None = 1.0,
        mixed_precision: bool = True,
        compile: bool = False,
        checkpoint_path: str | None = None,
        max_fit_time: float | None = None,
        num_samples: int = 100,
        sampler: str | None = None,
        sampling_steps: int | None = None,
        eta: float = 0.0,
        quantile_levels: tuple = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
        quantile_method: str = "linear",
        freq: str | None = None,
        calendar: str | tuple | None = "auto",
        calibration_windows: int | None = None,
        calibration_coverage: float = 0.9,
        device: str = "auto",
        predict_batch_size: int | str = "auto",
        random_state: Any = None,
        verbose: bool = False,
    ):
        store_params(self, locals())

    @fill_doc(training_series=TRAINING_SERIES_DOC)
    def fit(
        self,
        y: Any,
        X: Any = None,
        fh: Any = None,
        *,
        static: Any = None,
        id_col: Any = None,
        time_col: Any = None,
    ) -> DiffusionForecaster:
        """Train the denoiser on every window of ``y`` (of every series of a panel)
        that ends before the steps held out for ``calibration_windows``.

        Parameters
        ----------
        {training_series}
            A panel trains one global model: a DataFrame with a ``MultiIndex``
            ``(series id, time)`` (series may differ in length and start), a long
            table with ``id_col`` and ``time_col``, or an array of shape
            (n_series, n_timesteps, n_variables). Each series is scaled by its own
            statistics per variable; windows never straddle two series, and a
            series shorter than ``context_length + prediction_length`` (plus the
            held-out ``calibration_windows * prediction_length`` steps) only
            serves as a history to forecast from.
        X : DataFrame, optional
            Known-future exogenous covariates (prices, holidays, weather
            forecasts), indexed like ``y`` (by time, or by ``(series id, time)``
            for a panel; a long table in the layout of ``y``), with a value at
            every time point of ``y``. They condition the forecasts and are never
            forecast: the predict methods need ``X`` at all ``prediction_length``
            time points after the cutoff (whatever ``fh`` asks for: the model
            samples the whole horizon jointly), with a new history ``y`` also at
            its last ``context_length`` time points, and ``update`` at the new
            ones. Standardised with the statistics of the training rows.
        fh : int, sequence of int or pandas.Index, default=None
            Horizon to use when the predict methods get none; validated here.
        static : DataFrame, optional
            Static covariates of the series of a panel: one row per series id
            (the index), numeric columns; standardised over the series.
        id_col, time_col : hashable, optional
            Columns of a long table ``y`` (one row per series and time point)
            holding the series id and the time; see :func:`tsdiff.frames.from_long`.
            Later calls read a ``y`` with these columns the same way.

        Returns
        -------
        self : DiffusionForecaster
            The fitted forecaster.

        Examples
        --------
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0)
        >>> fc.fit(y, fh=[1, 2]) is fc
        True
        >>> fc.cutoff_  # the last time point of y
        Timestamp('2024-01-02 23:00:00')
        >>> fc.context_.shape  # the last context_length steps, the default history
        (8, 2)
        >>> fc.fh_
        array([1, 2])
        >>> [record["epoch"] for record in fc.history_]
        [1]

        Too short a series for one window is an error:

        >>> fc.fit(y.iloc[:10])
        Traceback (most recent call last):
        ...
        ValueError: y has 10 time steps; fitting needs at least ... = 12.
        """
        self._validate_params()
        self._forget_fit()
        y = self._set_long_format(y, id_col, time_col)
        arrays = self._read_y(y)
        window = self.context_length + self.prediction_length
        held_out = (self.calibration_windows or 0) * self.prediction_length
        lengths = np.array([rows.stop - rows.start for rows in arrays.segments])
        if lengths.max() < window + held_out:
            longest = (
                "y has" if arrays.bounds is None else "the longest series of y has"
            )
            needed = "context_length + prediction_length" + (
                " * (1 + calibration_windows)" if held_out else ""
            )
            raise ValueError(
                f"{longest} {lengths.max()} time steps; fitting needs at least "
                f"{needed} = {window + held_out}."
            )
        cov_rows = self._fit_covariates(self._from_long(X), static, arrays)
        self.scaler_ = self._fit_scaler(before_tails(arrays, held_out))
        set_feature_info(self, arrays)
        self._set_time_info(arrays, fh)
        starts = np.concatenate(  # every window inside one series, before its tail
            [
                np.arange(r.start, r.stop - held_out - window + 1)
                for r in arrays.segments
            ]
        )
        windows = WindowSource.from_series(
            self._scaled(arrays), arrays.observed_mask, starts, window, cov_rows
        )
        lags = self._seasonal_lags(arrays, window)
        self._train(windows, prediction_length=self.prediction_length, lags=lags)
        panel = arrays.bounds is not None
        contexts = last_steps(arrays, self.context_length)  # (N, C, K), NaN: missing
        self.context_ = contexts if panel else contexts[0]
        if cov_rows is not None:
            ctx = np.stack(  # (N, C, n_cov); rows before a series starts: 0
                [
                    history_until(cov_rows, r.start, r.stop - 1, self.context_length)
                    for r in arrays.segments
                ]
            )
            self.covariate_context_ = np.nan_to_num(ctx) if panel else ctx[0]
        self.calibration_ = None
        if held_out:
            self.calibration_ = held_out_windows(
                arrays, self.scaler_, cov_rows, self.calibration_windows,
                self.context_length, self.prediction_length,
            )  # fmt: skip
            stopped = self.history_ and self.history_[-1].get("stopped")
            if not stopped:  # an unfinished fit leaves them to its first forecast
                self._interval_factors(self.num_samples)  # those of the setting at fit
        return self

    def _fit_covariates(
        self, X: Any, static: Any, arrays: SeriesArrays
    ) -> np.ndarray | None:
        """Learn the covariates (``covariates_``); their values (T, n_cov) at every
        grid row of the training series, or None without covariates."""
        spec, table = CovariateSpec.fit(
            X,
            static,
            self.calendar,
            arrays.grid_index,
            self.freq,
            arrays.bounds is not None,
        )
        self.covariates_ = spec
        if spec is None:
            return None
        ids, times = _row_keys(arrays.grid_index)
        return spec.values(table, ids, times, "fit on y")

    def _check_exogenous(self, X: Any) -> None:
        """``X`` is checked where it is read (it must match fit)."""

    def _window_covariates(
        self,
        X: Any,
        ids: pd.Index | None,
        cutoffs: pd.Index,
        firsts: pd.Index | None,
        what: str,
    ) -> np.ndarray | None:
        """Covariates (N, C + H, n_cov) of the windows that end ``prediction_length``
        steps after ``cutoffs`` (of the series ``ids``). ``firsts`` holds the first
        time point of each series, from which on ``X`` must cover the context; None
        takes the context from the fitted state (``covariate_context_``), so ``X``
        need only cover the horizons."""
        spec = getattr(self, "covariates_", None)
        if spec is None:
            if X is not None:
                raise ValueError(
                    "X was given, but the forecaster was fitted without exogenous "
                    "covariates; pass X=None or fit with X."
                )
            return None
        table = spec.table(self._from_long(X), self.freq, ids is not None)
        n_c, n_h = self.context_length, self.prediction_length
        before = 0 if firsts is None else n_c
        window = np.arange(1 - before, n_h + 1)  # context (if any), then horizon
        times = [future_index(c, self.freq_, window) for c in cutoffs]
        flat = times[0].append(times[1:])  # (N * (before + H),)
        keys = None if ids is None else ids.repeat(before + n_h)
        required = None
        if firsts is not None:  # context rows of the series itself, and the horizon
            required = flat >= firsts.repeat(before + n_h)
        values = spec.values(table, keys, flat, what, required)
        if required is not None:  # before a series starts: 0, as in the fitted state
            values[~required] = 0.0
        values = values.reshape(len(cutoffs), before + n_h, -1)  # (N, W', n_cov)
        if firsts is None:
            stored = self.covariate_context_
            stored = stored if stored.ndim == 3 else stored[None]  # (N, C, n_cov)
            values = np.concatenate([stored, values], axis=1)
        return values

    def _fit_scaler(self, arrays: SeriesArrays) -> Scaler:
        """Statistics per variable, and per series of a panel."""
        if arrays.bounds is None:
            return super()._fit_scaler(arrays)
        check_observed(arrays, remedy="fill it before fitting")
        return fit_panel_scaler(
            arrays.values, arrays.observed_mask, arrays.bounds, method=self.scaler
        )

    def _set_long_format(self, y: Any, id_col: Any, time_col: Any) -> Any:
        """Remember the id and time columns of a long table ``y``; ``y`` as a panel."""
        self.long_columns_ = long_columns(id_col, time_col)
        return self._from_long(y)

    def _from_long(self, y: Any) -> Any:
        """A long table in the layout of fit as a ``(series id, time)`` panel."""
        columns = getattr(self, "long_columns_", None)
        if columns is None or not isinstance(y, pd.DataFrame):
            return y
        if isinstance(y.index, pd.MultiIndex):
            return y  # already a panel
        return from_long(y, *columns)

    def _set_time_info(self, arrays: SeriesArrays, fh: Any) -> None:
        """Store the step, cutoffs, container and default horizon of the series."""
        if arrays.bounds is None:
            super()._set_time_info(arrays, fh)
            return
        self.series_ids_, self.cutoffs_ = panel_ends(arrays)
        self.panel_names_ = list(arrays.grid_index.names)
        self.freq_ = arrays.freq
        self.cutoff_ = self.cutoffs_.max()  # the latest, as in sktime
        self.y_type_ = arrays.kind
        self.y_name_ = arrays.name
        self.fh_ = None
        if fh is not None:
            self.fh_ = self._horizon_steps(fh, self.cutoffs_)

    def _is_panel(self) -> bool:
        return hasattr(self, "series_ids_")

    def update(
        self, y: Any, X: Any = None, update_params: bool = False
    ) -> DiffusionForecaster:
        """Append new observations to the history that forecasts start from,
        without training again.

        The forecasts of later calls condition on the last ``context_length``
        time points of the training series followed by ``y``, and their horizon
        starts after the last time point of ``y`` (the new cutoff). Time points
        between the old cutoff and the start of ``y`` count as missing.

        Parameters
        ----------
        y : DataFrame, Series or array-like of shape (n_new, n_variables)
            Observations after the current cutoff (``cutoff_``), with the
            variables and the index type of the training series, on its grid
            (one row is enough; skipped time points count as missing). The rows
            of an array follow the cutoff step by step. NaN marks a missing
            value. For a forecaster fitted on a panel, a panel (or a long table)
            of some of its series, each continuing its own cutoff, or an array of
            shape (n_series, n_new, n_variables) continuing all of them. Not
            modified.
        X : DataFrame, optional
            For a forecaster fitted with covariates: their values at the new time
            points (those of ``y`` and any skipped between the cutoff and ``y``).
        update_params : bool, default=False
            Must be False: the network is not retrained here (call :meth:`fit` on
            the whole series to retrain).

        Returns
        -------
        self : DiffusionForecaster
            With ``context_`` and ``cutoff_`` (and ``cutoffs_``) moved on; weights
            unchanged.

        Raises
        ------
        ValueError
            If ``y`` does not start after the cutoff, has other variables or
            another index type or step, holds a series not seen in fit, or
            ``update_params`` is True.

        Examples
        --------
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0).fit(y.iloc[:44])
        >>> fc.cutoff_
        Timestamp('2024-01-02 19:00:00')
        >>> fc.update(y.iloc[44:]).cutoff_  # four new hours, weights unchanged
        Timestamp('2024-01-02 23:00:00')
        >>> fc.predict().index[0]
        Timestamp('2024-01-03 00:00:00')

        Observations must continue after the cutoff:

        >>> fc.update(y.iloc[40:])
        Traceback (most recent call last):
        ...
        ValueError: y must start after the cutoff Timestamp('2024-01-02 23:00:00'); ...
        """
        check_is_fitted(self)
        if update_params is not False:
            raise ValueError(
                f"{type(self).__name__}.update does not retrain (update_params must "
                "be False); fit again on the whole series to retrain."
            )
        panel = self._is_panel()
        spec, table = getattr(self, "covariates_", None), None
        if spec is not None:
            table = spec.table(self._from_long(X), self.freq, panel)
        elif X is not None:
            raise ValueError(
                "X was given, but the forecaster was fitted without exogenous "
                "covariates; pass X=None or fit with X."
            )
        if panel:
            parts = self._update_parts(self._from_long(y))
            contexts, cutoffs = list(self.context_), list(self.cutoffs_)
        else:
            parts = [(None, 0, y, "y")]
            contexts, cutoffs = [self.context_], [self.cutoff_]
        covariates = None
        if spec is not None:
            stored = self.covariate_context_
            covariates = list(stored) if panel else [stored]
        n_c = self.context_length
        for key, i, rows, name in parts:  # all checked before anything is stored
            arrays = self._continuation(rows, contexts[i][-1], cutoffs[i], name)
            history = np.concatenate([contexts[i][:-1], arrays.values])  # (C + n, K)
            contexts[i], cutoffs[i] = history[-n_c:], arrays.grid_index[-1]
            if covariates is not None:
                times = arrays.grid_index[1:]  # after the cutoff's own row
                keys = None if key is None else pd.Index([key] * len(times))
                new = spec.values(table, keys, times, f"update with {name}")
                covariates[i] = np.concatenate([covariates[i], new])[-n_c:]
        if panel:
            self.context_ = np.stack(contexts)
            self.cutoffs_ = pd.Index(cutoffs, name=self.cutoffs_.name)
            self.cutoff_ = self.cutoffs_.max()
        else:
            self.context_, self.cutoff_ = contexts[0], cutoffs[0]
        if covariates is not None:
            self.covariate_context_ = np.stack(covariates) if panel else covariates[0]
        return self

    def _update_parts(self, y: Any) -> list[tuple]:
        """``(series id, position, rows, name)`` of each series of a panel ``y``."""
        if not isinstance(y, (pd.DataFrame, pd.Series)) and np.ndim(y) == 3:
            values = np.asarray(y)  # (n_series, n_new, K): rows follow each cutoff
            if len(values) != len(self.series_ids_):
                raise ValueError(
                    f"y holds {len(values)} series; an array updates all "
                    f"{len(self.series_ids_)} series of fit, in their order."
                )
            keys = self.series_ids_
            return [(k, i, values[i], f"y (series {k!r})") for i, k in enumerate(keys)]
        if not isinstance(y, pd.DataFrame) or not isinstance(y.index, pd.MultiIndex):
            raise ValueError(
                "This forecaster was fitted on a panel: update takes a DataFrame "
                "indexed by (series id, time) (or a long table in the layout of fit)."
            )
        parts = []
        for key, rows in y.groupby(level=0, sort=False):
            i = self.series_ids_.get_indexer([key])[0]
            if i < 0:
                raise ValueError(
                    f"y holds series {key!r}, which was not seen in fit; update "
                    "continues known series only (fit again to add series)."
                )
            parts.append((key, i, rows.droplevel(0), f"y (series {key!r})"))
        return parts

    def _continuation(
        self, y: Any, last_row: np.ndarray, cutoff: Any, name: str
    ) -> SeriesArrays:
        """``y`` on the training grid, led by ``last_row`` at ``cutoff``, so that a
        single new row or a gap is read with the training step."""
        if isinstance(y, pd.Series):
            frame = y.to_frame()
        elif isinstance(y, pd.DataFrame):
            frame = y
        else:  # an array: its rows continue straight after the cutoff
            values = np.asarray(y)
            values = values.reshape(len(values), -1) if values.ndim == 1 else values
            if values.ndim != 2:
                raise ValueError(
                    f"{name} must be 1-D or 2-D; got shape {values.shape}."
                )
            steps = np.arange(1, len(values) + 1)
            index = future_index(cutoff, self.freq_, steps)
            frame = pd.DataFrame(values, index=index)
            if hasattr(self, "feature_names_in_"):
                frame.columns = self.feature_names_in_[: frame.shape[1]]
        if frame.shape[0] == 0 or frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{name} has {frame.shape[0]} time steps and {frame.shape[1]} "
                f"variables; update needs at least one step of the "
                f"{self.n_features_in_} variables seen in fit."
            )
        first = frame.index[0]
        if index_kind(first) != index_kind(cutoff):
            raise ValueError(
                f"{name} must have the index type of the training series "
                f"({index_kind(cutoff)}); got {index_kind(first)}."
            )
        if not first > cutoff:
            raise ValueError(
                f"{name} must start after the cutoff {cutoff!r}; its first time "
                f"point is {first!r}."
            )
        anchor = pd.DataFrame(
            last_row[None], index=pd.Index([cutoff]), columns=frame.columns
        )
        combined = pd.concat([anchor, frame])
        if isinstance(cutoff, (pd.Timestamp, pd.Period)):
            arrays = to_arrays(combined, freq=self.freq_, name=name)
        else:  # integer times: lay them on the training step
            offsets = (combined.index.to_numpy() - cutoff) / self.freq_
            if not np.all(offsets == np.round(offsets)):
                raise ValueError(
                    f"The time points of {name} do not lie on the training grid "
                    f"(step {self.freq_} from the cutoff {cutoff})."
                )
            grid = np.arange(cutoff, combined.index[-1] + 1, self.freq_)
            arrays = to_arrays(combined.reindex(grid), name=name)
        check_same_columns(arrays, self, name)
        return arrays

    def backtest(
        self,
        y: Any,
        fh: Any = None,
        *,
        n_windows: int | None = None,
        cutoffs: Any = None,
        alpha: Any = None,
        random_state: Any = None,
        X: Any = None,
    ) -> pd.DataFrame:
        """Forecast from many historical cutoffs of ``y`` in one batched pass.

        Each forecast conditions only on the last ``context_length`` time points
        up to its cutoff (earlier points count as missing where there are fewer),
        so it sees nothing of the values it is scored against. All cutoffs (of
        all series of a panel) are sampled together, in large batches.

        Parameters
        ----------
        y : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            The series to backtest on, with the variables and the index type and
            step of the training series, or a panel of series; not modified.
        fh : int or sequence of int, default=None
            Relative horizon (1 = the step after each cutoff); None uses the
            horizon given at fit, else all ``prediction_length`` steps.
        n_windows : int, optional
            Rolling windows at the end of ``y`` (of each series of a panel): the
            cutoffs lie ``max(fh)`` steps apart, the last one ``max(fh)`` steps
            before the end, so the horizons tile the last ``n_windows * max(fh)``
            time points.
        cutoffs : sequence or pandas.Index, optional
            Time points of ``y`` (index labels; dates may be strings) to forecast
            from instead; used in time order, each once. In a panel, each series
            is forecast from those of its own time points.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.
        random_state : int, RandomState or None, default=None
            Seed of the draws; None uses the seed fixed at fit. The same seed and
            the same cutoffs give the same result; the draws of one cutoff change
            with the set of cutoffs sampled beside it (they share the batch), not
            their distribution.
        X : DataFrame, optional
            For a forecaster fitted with covariates: their values at every time
            point of ``y`` and of the horizons after the cutoffs.

        Returns
        -------
        DataFrame of shape (n_forecasts * n_steps, n_variables * n_levels)
            Rows ``MultiIndex(cutoff, time)`` (``(cutoff, series id, time)`` for a
            panel), columns ``MultiIndex(variable, quantile)`` as in
            :meth:`predict_quantiles`.

        Raises
        ------
        ValueError
            Unless exactly one of ``n_windows`` and ``cutoffs`` is given; for a
            cutoff that is not a time point of ``y``, more windows than ``y`` (or
            a series of it) holds, or a ``y`` unlike the training series.
        TypeError
            For an ``fh`` of absolute time points (they differ per cutoff).

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
        >>> scores = fc.backtest(y, fh=2, n_windows=3, alpha=[0.1, 0.9])
        >>> scores.shape  # 3 cutoffs x 2 steps, 2 variables x 2 levels
        (6, 4)
        >>> list(scores.index.names)
        ['cutoff', 'time']
        >>> scores.index.get_level_values("cutoff").unique().strftime("%H:%M").tolist()
        ['17:00', '19:00', '21:00']
        >>> scores.columns.tolist()
        [('y0', 0.1), ('y0', 0.9), ('y1', 0.1), ('y1', 0.9)]
        """
        check_is_fitted(self)
        if y is None:
            raise TypeError("backtest needs the series y to forecast from.")
        if (n_windows is None) == (cutoffs is None):
            raise ValueError("Pass exactly one of n_windows and cutoffs.")
        if isinstance(fh, pd.Index) or (
            isinstance(fh, (list, tuple))
            and not all(isinstance(v, numbers.Integral) for v in fh)
        ):
            raise TypeError(
                "backtest takes fh as relative steps (an int or a sequence of ints); "
                "absolute time points differ from cutoff to cutoff."
            )
        alpha = check_alpha(self.quantile_levels if alpha is None else alpha)
        seed = self._sample_seed(random_state)
        arrays, histories = self._read_histories(y)
        steps = self._horizon_steps(fh, histories.cutoffs)
        if n_windows is not None:
            n_windows = check_positive_int(n_windows, "n_windows")
        elif len(np.atleast_1d(np.asarray(cutoffs, dtype=object))) == 0:
            raise ValueError("cutoffs is empty; give at least one time point.")
        series, positions = [], []  # (series, grid row) of every forecast
        for i, rows in enumerate(arrays.segments):
            times = _times(arrays.grid_index[rows])
            if n_windows is not None:
                label = "y" if arrays.bounds is None else f"series {histories.ids[i]!r}"
                found = _window_ends(len(times), n_windows, int(steps.max()), label)
            else:
                found = _cutoff_rows(times, cutoffs, strict=arrays.bounds is None)
            series.append(np.full(len(found), i))
            positions.append(rows.start + found)
        series, positions = np.concatenate(series), np.concatenate(positions)
        if len(positions) == 0:
            raise ValueError("No series of y holds any of the cutoffs.")
        times = _times(arrays.grid_index)[positions]
        order = (  # by cutoff, then series
            pd.DataFrame({"time": times, "series": series})
            .sort_values(["time", "series"])
            .index.to_numpy()
        )
        series, positions, times = series[order], positions[order], times[order]
        firsts = np.array([r.start for r in arrays.segments])[series]
        contexts = np.stack(  # (N, C, K): no history reaches into another series
            [
                history_until(arrays.values, first, p, self.context_length)
                for first, p in zip(firsts, positions, strict=True)
            ]
        )
        scaler = histories.scaler.select(series)
        ids = None if histories.ids is None else histories.ids[series]
        covariates = self._window_covariates(
            X, ids, times, histories.firsts[series], "backtest"
        )
        samples = self._sample_horizons(
            contexts, scaler, self.num_samples, seed, covariates
        )
        q = self._quantiles(samples[:, :, steps - 1], alpha)  # (Q, N, H', K)
        n_q, n, n_h, n_k = q.shape
        index = backtest_index(times, self.freq_, steps, ids, histories.names)
        return quantile_frame(q.reshape(n_q, n * n_h, n_k), index, self.columns_, alpha)

    def plot(
        self,
        fh: Any = None,
        X: Any = None,
        *,
        y: Any = None,
        variable: Any = None,
        series: Any = None,
        coverage: Any = (0.5, 0.8, 0.95),
        truth: Any = None,
        max_history: int | None = None,
        ax: Any = None,
    ) -> Any:
        """Fan chart of the forecast: :func:`tsdiff.plotting.plot_forecast` of
        ``predict_quantiles`` at the intervals ``coverage`` and the median, after
        the history (``y``, else the stored last ``context_length`` steps).

        Parameters
        ----------
        fh, X, y
            As in :meth:`predict_quantiles`.
        variable, series, truth, max_history, ax
            As in :func:`tsdiff.plotting.plot_forecast`.
        coverage : float or sequence of float, default=(0.5, 0.8, 0.95)
            Central intervals drawn as nested bands.

        Returns
        -------
        matplotlib.axes.Axes, or ndarray of Axes for a grid

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from tsdiff import DiffusionForecaster
        >>> from tsdiff.datasets import make_seasonal_ar
        >>> y = make_seasonal_ar(n_steps=48, n_series=2, missing_rate=0.0,
        ...                      random_state=0).truth
        >>> fc = DiffusionForecaster(context_length=8, prediction_length=4, n_layers=1,
        ...                          n_channels=8, n_heads=1, n_diffusion_steps=5,
        ...                          n_epochs=1, num_samples=4, device="cpu",
        ...                          random_state=0).fit(y)
        >>> ax = fc.plot(coverage=0.8)
        >>> type(ax).__name__, ax.get_title()
        ('Axes', 'y0')
        >>> [line.get_label() for line in ax.get_lines()]
        ['observed', 'median']
        >>> axes = fc.plot(variable=["y0", "y1"])  # one panel per variable
        >>> axes.shape, axes[1].get_title()
        ((2,), 'y1')
        >>> plt.close("all")
        """
        from tsdiff.plotting import plot_forecast

        for name, value in (("y", y), ("truth", truth)):
            if value is not None and not isinstance(value, (pd.DataFrame, pd.Series)):
                raise TypeError(
                    f"plot needs {name} as a DataFrame or Series (its time index); "
                    f"got {type(value).__name__}."
                )
        q = self.predict_quantiles(fh, X, y=y, alpha=band_levels(coverage))
        history = self._from_long(y) if y is not None else self._stored_history()
        truth = None if truth is None else self._from_long(truth)
        return plot_forecast(
            history, q, variable=variable, series=series, truth=truth,
            max_history=max_history, ax=ax,
        )  # fmt: skip

    def _stored_history(self) -> pd.DataFrame:
        """The stored last ``context_length`` steps as a frame (a panel after a fit
        on a panel), NaN where missing."""
        check_is_fitted(self)
        steps = np.arange(1 - self.context_length, 1)  # up to the cutoff, inclusive
        histories = self._histories(None)
        ends = zip(histories.contexts, histories.cutoffs, strict=True)
        frames = [
            pd.DataFrame(
                values,
                index=future_index(cutoff, self.freq_, steps, histories.names[-1]),
                columns=self.columns_,
            )  # fmt: skip
            for values, cutoff in ends
        ]
        if not histories.is_panel:
            return frames[0]
        by_id = dict(zip(histories.ids, frames, strict=True))
        return pd.concat(by_id, names=list(histories.names))

    def _max_step(self) -> int:
        return self.prediction_length

    def _default_steps(self) -> np.ndarray:
        return np.arange(1, self.prediction_length + 1)

    # -- histories and horizons -------------------------------------------------------

    def _histories(self, y: Any) -> Histories:
        """The histories to forecast from: the stored ends of the training series
        for ``y=None``, else the ends of the series of ``y``."""
        if y is not None:
            return self._read_histories(y)[1]
        if self._is_panel():
            return Histories(
                contexts=self.context_,
                cutoffs=self.cutoffs_,
                ids=self.series_ids_,
                scaler=self.scaler_,
                kind=self.y_type_,
                names=tuple(self.panel_names_),
            )
        return Histories(
            contexts=self.context_[None],  # (1, C, K)
            cutoffs=_one(self.cutoff_),
            ids=None,
            scaler=self.scaler_.select([0]),
            kind=self.y_type_,
            name=self.y_name_,
            names=(None, self._time_name(None)),
        )

    def _read_histories(self, y: Any) -> tuple[SeriesArrays, Histories]:
        """A new series (or panel) ``y`` as arrays and as histories to forecast from."""
        y = self._from_long(y)
        step = self.freq
        if (
            step is None
            and _longest_series(y) <= 2
            and not isinstance(self.freq_, int)
            and _first_time_kind(y) == index_kind(self.cutoff_)
        ):
            step = self.freq_  # two time points cannot tell a day from "24 hours"
        arrays = to_arrays(y, freq=step, name="y", panel=True)
        check_same_columns(arrays, self, "y")
        if arrays.bounds is None:
            if self._is_panel():
                raise ValueError(
                    "This forecaster was fitted on a panel: pass y as a panel "
                    "indexed by (series id, time) (or a long table in the layout of "
                    "fit), so that each series is scaled by its own statistics."
                )
            ids, cutoffs = None, _one(arrays.grid_index[-1])
            names = (None, self._time_name(arrays))
            scaler = self.scaler_.select([0])
        else:
            ids, cutoffs = panel_ends(arrays)
            names = tuple(arrays.grid_index.names)
            if self._is_panel():  # a series seen in fit keeps its statistics
                scaler = series_scaler(
                    arrays, ids, self.series_ids_, self.scaler_, self.scaler
                )
            else:  # one model of one series: its statistics for every series
                scaler = self.scaler_.select(np.zeros(len(ids), dtype=np.int64))
        if arrays.freq not in (None, self.freq_) or index_kind(
            cutoffs[0]
        ) != index_kind(self.cutoff_):  # None: every series has a single row
            raise ValueError(
                f"y must have the index type and step of the training series "
                f"({index_kind(self.cutoff_)}, step {self.freq_}); got "
                f"{index_kind(cutoffs[0])} with step {arrays.freq}."
            )
        histories = Histories(
            contexts=last_steps(arrays, self.context_length),
            cutoffs=cutoffs,
            ids=ids,
            scaler=scaler,
            kind=arrays.kind,
            name=arrays.name,
            names=names,
            firsts=series_starts(arrays),
        )
        return arrays, histories

    def _horizon_steps(self, fh: Any, cutoffs: pd.Index) -> np.ndarray:
        """Relative steps of ``fh`` after ``cutoffs``; absolute time points need one
        shared cutoff."""
        if isinstance(fh, (pd.Index, list, tuple)) and len(cutoffs.unique()) > 1:
            absolute = isinstance(fh, pd.Index) or not all(
                isinstance(v, numbers.Integral) for v in fh
            )
            if absolute:
                raise TypeError(
                    "The series of this panel end at different time points; give fh "
                    "as relative steps (an int or a sequence of ints)."
                )
        return self._relative_steps(fh, cutoffs[0])

    # -- sampling ---------------------------------------------------------------------

    def _forecast(
        self,
        fh: Any,
        y: Any,
        num_samples: int | None = None,
        random_state: Any = None,
        X: Any = None,
    ) -> tuple[np.ndarray, pd.Index, Histories]:
        """Samples of shape (S, N, H, K) for the horizon of each of N histories,
        their row index (N * H rows) and the histories."""
        check_is_fitted(self)
        num_samples = check_positive_int(
            self.num_samples if num_samples is None else num_samples, "num_samples"
        )
        seed = self._sample_seed(random_state)
        histories = self._histories(y)
        steps = self._horizon_steps(fh, histories.cutoffs)
        covariates = self._window_covariates(
            X, histories.ids, histories.cutoffs, histories.firsts, "forecast"
        )
        horizons = self._sample_horizons(
            histories.contexts, histories.scaler, num_samples, seed, covariates
        )
        index = horizon_index(histories, self.freq_, steps)
        return horizons[:, :, steps - 1], index, histories  # (S, N, H', K)

    def _sample_horizons(
        self,
        contexts: np.ndarray,
        scaler: Scaler,
        num_samples: int,
        seed: int,
        covariates: np.ndarray | None = None,
        calibrated: bool = True,
    ) -> np.ndarray:
        """Samples of shape (S, N, H, K), in data units, of the ``prediction_length``
        steps after each of N contexts of shape (N, C, K) (NaN: missing), all in
        one batch; ``scaler`` holds the statistics of each context, shape (N, K),
        and ``covariates`` (N, C + H, n_cov) those of each window. A calibrated
        forecaster stretches them by its interval factors unless ``calibrated``
        is False."""
        n, n_c, n_k = contexts.shape
        future = np.full((n, self.prediction_length, n_k), np.nan)
        values = np.concatenate([contexts, future], axis=1)  # (N, C + H, K)
        observed = ~np.isnan(values)
        scaled = np.where(observed, scaler.transform(values), 0.0)
        samples = self._sample_windows(scaled, observed, num_samples, seed, covariates)
        horizon = scaler.inverse_transform(samples[:, :, n_c:])  # (S, N, H, K)
        factors = self._interval_factors(num_samples) if calibrated else None
        if factors is None:
            return horizon
        return widen(horizon, factors, self.quantile_method)

    def _interval_factors(self, num_samples: int) -> np.ndarray | None:
        """The calibration factor per variable, shape (K,), for draws of
        ``num_samples`` with the current settings (found on the held-out windows
        the first time they are used); None without calibration, or for a
        single draw, which has no interval to stretch."""
        calibration = getattr(self, "calibration_", None)
        if calibration is None or num_samples < 2:
            return None
        coverage, method = self.calibration_coverage, self.quantile_method
        precision = "bf16" if self.mixed_precision else "fp32"  # bf16: on CUDA only
        key = (
            f"{self._sampler()}:{self._sampling_steps()}:eta={self.eta:g}:{precision}"
            f":samples={num_samples}:{method}:coverage={float(coverage)!r}"
        )
        return calibration.factors_for(
            key, coverage, method,
            lambda: self._sample_horizons(
                calibration.contexts, calibration.scaler, num_samples,
                self.predict_seed_, calibration.covariates, calibrated=False,
            ),
        )  # fmt: skip

    def _forecast_quantiles(
        self, fh: Any, y: Any, alpha: tuple, X: Any = None
    ) -> tuple[np.ndarray, pd.Index, str, Any]:
        """Quantiles of shape (Q, N * H, K) of the samples, index, kind and name."""
        samples, index, histories = self._forecast(fh, y, X=X)
        q = self._quantiles(samples, alpha)  # (Q, N, H, K)
        n_q, n, n_h, n_k = q.shape
        return q.reshape(n_q, n * n_h, n_k), index, histories.kind, histories.name

    def _forecast_samples(
        self, fh: Any, y: Any, num_samples: int | None, random_state: Any, X: Any = None
    ) -> np.ndarray:
        samples, _, histories = self._forecast(fh, y, num_samples, random_state, X)
        return samples if histories.is_panel else samples[:, 0]


def _one(time_point: Any) -> pd.Index:
    """An index holding one time point (keeping its type and time zone)."""
    return pd.Index([time_point])


def _times(index: pd.Index) -> pd.Index:
    """The time points of a grid index (the time level of a panel's)."""
    return index.get_level_values(-1) if isinstance(index, pd.MultiIndex) else index


def _window_ends(n_steps: int, n_windows: int, stride: int, label: str) -> np.ndarray:
    """Grid rows of the cutoffs of ``n_windows`` rolling windows of ``stride`` steps
    at the end of a series of ``n_steps``."""
    positions = n_steps - 1 - stride * np.arange(n_windows, 0, -1)
    if positions[0] < 0:
        raise ValueError(
            f"{label} has {n_steps} time steps; {n_windows} windows of {stride} "
            f"steps need at least {n_windows * stride + 1}."
        )
    return positions


def _cutoff_rows(times: pd.Index, cutoffs: Any, strict: bool) -> np.ndarray:
    """Grid rows of the time points ``cutoffs`` of a series whose grid is ``times``,
    in time order, each once; those it lacks are an error if ``strict``, else
    skipped."""
    wanted = pd.Index(np.atleast_1d(np.asarray(cutoffs, dtype=object)))
    if isinstance(times, pd.DatetimeIndex):
        try:  # dates may come as strings
            wanted = pd.DatetimeIndex(wanted, tz=times.tz)
        except (TypeError, ValueError):
            pass  # not dates: reported as missing below
    positions = times.get_indexer(times[:0].append(wanted))
    if strict and (positions < 0).any():
        bad = list(wanted[positions < 0][:3])
        raise ValueError(f"cutoffs {bad} are not time points of y.")
    return np.unique(positions[positions >= 0])


def _longest_series(y: Any) -> int:
    """Rows of the longest series of ``y`` (a series, a panel or an array)."""
    if isinstance(y, (pd.DataFrame, pd.Series)) and isinstance(y.index, pd.MultiIndex):
        return int(y.groupby(level=0).size().max()) if len(y) else 0
    shape = np.shape(y)
    return shape[1] if len(shape) == 3 else (shape[0] if shape else 0)


def _first_time_kind(y: Any) -> str | None:
    """Kind of the first time point of a frame or series ``y`` (None for arrays
    and empty data), as :func:`index_kind` names it."""
    index = getattr(y, "index", None)
    if index is None or not len(index):
        return None
    times = index.get_level_values(-1) if isinstance(index, pd.MultiIndex) else index
    return index_kind(times[0])


def _row_keys(grid: pd.Index) -> tuple[pd.Index | None, pd.Index]:
    """Series ids (None for a single series) and time points of grid rows."""
    if isinstance(grid, pd.MultiIndex):
        return grid.get_level_values(0), grid.get_level_values(1)
    return None, grid
