"""DiffusionForecaster: probabilistic multivariate forecasting with a conditional
diffusion model, as imputation of the future."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff._base import _DiffusionEstimator, _positive_int, _store_params, share_docs
from tsdiff._validation import check_alpha, check_coverage, check_positive_int
from tsdiff.data import pad_left, sliding_windows
from tsdiff.frames import (
    check_same_columns,
    future_index,
    to_arrays,
)

__all__ = ["DiffusionForecaster"]


class DiffusionForecaster(_DiffusionEstimator):
    """Probabilistic multivariate forecaster based on a conditional diffusion model
    (CSDI, Tashiro et al. 2021).

    A window of ``context_length + prediction_length`` steps is modelled jointly; the
    last ``prediction_length`` steps are hidden and sampled given the context. Training
    hides the future of every window and, in half of them, also random parts of the
    history, so gaps in the history at prediction time are handled. Outputs follow
    sktime's layout: ``predict`` gives the median with the future time index,
    ``predict_quantiles`` columns ``(variable, quantile)``, ``predict_interval`` columns
    ``(variable, coverage, "lower"|"upper")``.

    Parameters
    ----------
    context_length : int, default=96
        History steps the forecast is conditioned on (shorter histories are padded as
        missing).
    prediction_length : int, default=24
        Largest horizon the model produces.
    <common parameters>

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained denoiser.
    scaler_ : Scaler
        Per-variable centre and scale.
    history_ : list of dict
        Per-epoch training (and validation) loss.
    columns_ : pandas.Index
        Variables seen in fit.
    n_features_in_ : int
        Number of variables seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in fit (only for DataFrames with string column names).
    freq_ : DateOffset or int
        Step of the time index.
    cutoff_ : object
        Last time point of the training series.
    context_ : ndarray of shape (context_length, n_variables)
        The end of the training series, the default history of the predict methods.
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
        **_DiffusionEstimator._parameter_constraints,
        "context_length": [_positive_int()],
        "prediction_length": [_positive_int()],
    }

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
        n_diffusion_steps: int = 50,
        schedule: str = "quad",
        beta_start: float = 1e-4,
        beta_end: float = 0.5,
        parameterization: str = "v",
        target_strategy: str = "random",
        scaler: str = "standard",
        n_epochs: int = 100,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-6,
        validation_fraction: float = 0.0,
        early_stopping_patience: int | None = None,
        ema_decay: float | None = None,
        mixed_precision: bool = True,
        checkpoint_path: str | None = None,
        max_fit_time: float | None = None,
        num_samples: int = 100,
        sampler: str = "ddpm",
        sampling_steps: int | None = None,
        eta: float = 0.0,
        quantile_levels: tuple = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
        quantile_method: str = "linear",
        freq: str | None = None,
        device: str = "auto",
        predict_batch_size: int | str = "auto",
        random_state: Any = None,
        verbose: bool = False,
    ):
        _store_params(self, locals())

    def fit(self, y: Any, X: Any = None, fh: Any = None) -> DiffusionForecaster:
        """Train the denoiser on every window of ``y``.

        Parameters
        ----------
        y : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            Training series indexed by time (DatetimeIndex, PeriodIndex or integer
            index); NaN marks a missing value. Missing timestamps are inserted as gaps.
        X : None
            Exogenous covariates are not supported yet; must be None.
        fh : int, sequence of int or pandas.Index, default=None
            Horizon to use when the predict methods get none; validated here.

        Returns
        -------
        self : DiffusionForecaster
            The fitted forecaster.
        """
        self._validate_params()
        _check_no_exogenous(X)
        arrays = to_arrays(y, freq=self.freq, name="y")
        if arrays.freq is None:
            raise ValueError(
                "y needs a time index with a regular step (DatetimeIndex, PeriodIndex "
                "or integer index) to place forecasts; got "
                f"{type(arrays.index).__name__} without an inferable frequency. Pass "
                "`freq` or reindex y."
            )
        window = self.context_length + self.prediction_length
        if arrays.n_steps < window:
            raise ValueError(
                f"y has {arrays.n_steps} time steps; fitting needs at least "
                f"context_length + prediction_length = {window}."
            )
        self.scaler_ = self._fit_scaler(
            arrays.values, arrays.observed_mask, list(arrays.columns)
        )
        self._set_feature_info(arrays)
        self.freq_ = arrays.freq
        self.cutoff_ = arrays.grid_index[-1]
        self.fh_ = None
        self.fh_ = None if fh is None else self._relative_steps(fh, self.cutoff_)
        starts = np.arange(arrays.n_steps - window + 1)  # every start position
        self._train(
            sliding_windows(self._scaled(arrays), starts, window),
            sliding_windows(arrays.observed_mask, starts, window),
            n_features=self.n_features_in_,
            prediction_length=self.prediction_length,
        )
        tail = slice(-self.context_length, None)
        self.context_ = arrays.values[tail]  # (C, K), NaN where missing
        self.y_type_ = arrays.kind
        self.y_name_ = arrays.name
        return self

    def _relative_steps(self, fh: Any, cutoff: Any) -> np.ndarray:
        """Sorted relative steps (1 = next time point) of a forecasting horizon."""
        if fh is None:
            if self.fh_ is not None:
                return self.fh_
            return np.arange(1, self.prediction_length + 1)
        if (
            isinstance(fh, (list, tuple))
            and fh
            and not all(isinstance(v, numbers.Integral) for v in fh)
        ):
            fh = pd.Index(fh)  # time points given as a list
        if isinstance(fh, pd.Index):  # absolute time points, as in sktime
            grid = future_index(
                cutoff, self.freq_, np.arange(1, self.prediction_length + 1)
            )
            steps = grid.get_indexer(fh) + 1
            if (steps == 0).any():
                bad = list(fh[steps == 0][:3])
                raise ValueError(
                    f"fh contains time points {bad} that are not among the "
                    f"{self.prediction_length} steps after the cutoff {cutoff} that "
                    "this model can produce."
                )
        elif isinstance(fh, numbers.Integral) and not isinstance(fh, bool):
            steps = np.arange(1, int(fh) + 1) if fh >= 1 else np.array([int(fh)])
        else:
            steps = np.asarray(fh).ravel()
            if steps.size == 0 or steps.dtype.kind not in "iu":
                raise TypeError(
                    "fh must be an int, a non-empty sequence of ints (relative steps) "
                    f"or a pandas Index of time points; got {fh!r}."
                )
        steps = np.unique(steps.astype(np.int64))
        if steps.min() < 1 or steps.max() > self.prediction_length:
            raise ValueError(
                f"fh asks for relative steps {steps.min()}..{steps.max()}, but this "
                f"model produces steps 1..{self.prediction_length} "
                "(prediction_length); refit with a larger prediction_length."
            )
        return steps

    def _history(self, y: Any) -> tuple[np.ndarray, Any, str, Any]:
        """Context values (C', K), cutoff, output kind and series name."""
        if y is None:
            return self.context_, self.cutoff_, self.y_type_, self.y_name_
        arrays = to_arrays(y, freq=self.freq, name="y")
        check_same_columns(arrays, self.columns_, self.n_features_in_, "y")
        cutoff = arrays.grid_index[-1]
        if arrays.freq != self.freq_ or _index_kind(cutoff) != _index_kind(
            self.cutoff_
        ):
            raise ValueError(
                f"y must have the index type and step of the training series "
                f"({_index_kind(self.cutoff_)}, step {self.freq_}); got "
                f"{_index_kind(cutoff)} with step {arrays.freq}."
            )
        values = arrays.values[-self.context_length :]
        return values, cutoff, arrays.kind, arrays.name

    def _forecast(
        self, fh: Any, y: Any, num_samples: int | None = None, random_state: Any = None
    ) -> tuple[np.ndarray, pd.Index, str, Any]:
        """Samples of shape (S, H, K) for the horizon, its index, kind and name."""
        check_is_fitted(self)
        num_samples = check_positive_int(
            self.num_samples if num_samples is None else num_samples, "num_samples"
        )
        seed = self._sample_seed(random_state)
        context, cutoff, kind, name = self._history(y)
        steps = self._relative_steps(fh, cutoff)
        n_k = context.shape[1]
        future = np.full((self.prediction_length, n_k), np.nan)
        values = np.concatenate([context, future])  # (C' + H, K)
        observed = ~np.isnan(values)
        scaled = np.where(observed, self.scaler_.transform(values), 0.0)
        window_length = self.context_length + self.prediction_length
        scaled, observed, _ = pad_left(scaled, observed, window_length)
        samples = self._sample_windows(
            scaled[None], observed[None], num_samples, seed
        )  # (S, 1, W, K)
        horizon = samples[:, 0, self.context_length :]  # (S, H, K)
        horizon = self.scaler_.inverse_transform(horizon)[:, steps - 1]
        index = future_index(cutoff, self.freq_, steps, name=None)
        return horizon, index, kind, name

    def predict(self, fh: Any = None, X: Any = None, *, y: Any = None) -> Any:
        """Median forecast.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon: an int ``h`` means steps 1..h, ints are relative steps, an Index
            holds absolute time points. None uses the ``fh`` given to fit, else
            1..prediction_length.
        X : None
            Not supported yet; must be None.
        y : DataFrame, Series or array-like, default=None
            A new history to condition on (same variables) instead of the end of the
            training series; no refitting.

        Returns
        -------
        DataFrame or Series
            Rows are the future time points; a Series when fitted on a Series.
        """
        _check_no_exogenous(X)
        samples, index, kind, name = self._forecast(fh, y)
        median = self._quantiles(samples, (0.5,))[0]  # (H, K)
        frame = pd.DataFrame(median, index=index, columns=self.columns_)
        return frame.iloc[:, 0].rename(name) if kind == "series" else frame

    def predict_quantiles(
        self, fh: Any = None, X: Any = None, *, y: Any = None, alpha: Any = None
    ) -> pd.DataFrame:
        """Forecast quantiles.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : None
            Not supported yet; must be None.
        y : DataFrame, Series or array-like, default=None
            New history to condition on, as in :meth:`predict`.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.

        Returns
        -------
        DataFrame
            Rows are the future time points; columns ``MultiIndex(variable, quantile)``
            with float quantile labels in the order of ``alpha``.
        """
        _check_no_exogenous(X)
        alpha = check_alpha(self.quantile_levels if alpha is None else alpha)
        samples, index, _, _ = self._forecast(fh, y)
        return self._quantile_frame(samples, alpha, index, self.columns_)

    def predict_interval(
        self, fh: Any = None, X: Any = None, *, y: Any = None, coverage: Any = 0.9
    ) -> pd.DataFrame:
        """Central prediction intervals.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : None
            Not supported yet; must be None.
        y : DataFrame, Series or array-like, default=None
            New history to condition on, as in :meth:`predict`.
        coverage : float or sequence of float, default=0.9
            Nominal coverages in (0, 1).

        Returns
        -------
        DataFrame
            Columns ``(variable, coverage, "lower"|"upper")``.
        """
        _check_no_exogenous(X)
        coverage = check_coverage(coverage)
        samples, index, _, _ = self._forecast(fh, y)
        return self._interval_frame(samples, coverage, index, self.columns_)

    def sample(
        self,
        fh: Any = None,
        X: Any = None,
        *,
        y: Any = None,
        num_samples: int | None = None,
        random_state: Any = None,
    ) -> np.ndarray:
        """Draw joint forecast samples.

        Parameters
        ----------
        fh : int, sequence of int or pandas.Index, default=None
            Horizon, as in :meth:`predict`.
        X : None
            Not supported yet; must be None.
        y : DataFrame, Series or array-like, default=None
            New history to condition on, as in :meth:`predict`.
        num_samples : int, default=None
            Number of samples; None uses ``num_samples``.
        random_state : int, RandomState or None, default=None
            Seed for fresh draws; None reuses the fitted seed (the samples behind
            ``predict``).

        Returns
        -------
        ndarray of shape (num_samples, len(fh), n_variables)
        """
        _check_no_exogenous(X)
        return self._forecast(fh, y, num_samples, random_state)[0]


def _index_kind(time_point: Any) -> str:
    """Kind of a time point: datetime (with its time zone), period, or integer."""
    if isinstance(time_point, pd.Timestamp):
        return f"datetime (tz={time_point.tz})"
    if isinstance(time_point, pd.Period):
        return "period"
    return "integer"


def _check_no_exogenous(X: Any) -> None:
    if X is not None:
        raise ValueError(
            "DiffusionForecaster does not support exogenous covariates yet; pass "
            "X=None."
        )
