"""DiffusionForecaster: probabilistic multivariate forecasting with a conditional
diffusion model, as imputation of the future."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from tsdiff._base import _DiffusionEstimator
from tsdiff._docs import fill_doc, share_docs
from tsdiff._forecasting import TRAINING_SERIES_DOC, ForecastMixin, _index_kind
from tsdiff._shared import set_feature_info, store_params
from tsdiff._validation import POSITIVE_INT, check_alpha, check_positive_int
from tsdiff.data import sliding_windows
from tsdiff.frames import (
    SeriesArrays,
    backtest_index,
    check_same_columns,
    future_index,
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


class DiffusionForecaster(ForecastMixin, _DiffusionEstimator):
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
        One record per epoch: training (and validation) loss, learning rate, wall
        seconds and the device it ran on.
    <feature attributes>
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
        "context_length": [POSITIVE_INT],
        "prediction_length": [POSITIVE_INT],
    }
    _doc_parts = {
        "point_forecast": "Median forecast.",
        "fh_else": ", else\n            1..prediction_length",
        "yet": " yet",
        "new_history": _NEW_HISTORY_DOC,
        "to_condition_on": " to condition on",
        "joint": "joint ",
        "random_state": _RANDOM_STATE_DOC,
    }
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
        device: str = "auto",
        predict_batch_size: int | str = "auto",
        random_state: Any = None,
        verbose: bool = False,
    ):
        store_params(self, locals())

    @fill_doc(training_series=TRAINING_SERIES_DOC)
    def fit(self, y: Any, X: Any = None, fh: Any = None) -> DiffusionForecaster:
        """Train the denoiser on every window of ``y``.

        Parameters
        ----------
        {training_series}
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
        self._check_no_exogenous(X)
        arrays = self._read_y(y)
        window = self.context_length + self.prediction_length
        if arrays.n_steps < window:
            raise ValueError(
                f"y has {arrays.n_steps} time steps; fitting needs at least "
                f"context_length + prediction_length = {window}."
            )
        self.scaler_ = self._fit_scaler(arrays)
        set_feature_info(self, arrays)
        self._set_time_info(arrays, fh)
        starts = np.arange(arrays.n_steps - window + 1)  # every start position
        self._train(
            sliding_windows(self._scaled(arrays), starts, window),
            sliding_windows(arrays.observed_mask, starts, window),
            n_features=self.n_features_in_,
            prediction_length=self.prediction_length,
        )
        self.context_ = arrays.values[-self.context_length :]  # (C, K), NaN: missing
        return self

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
            value. Not modified.
        X : None
            Exogenous covariates are not supported yet; must be None.
        update_params : bool, default=False
            Must be False: the network is not retrained here (call :meth:`fit` on
            the whole series to retrain).

        Returns
        -------
        self : DiffusionForecaster
            With ``context_`` and ``cutoff_`` moved on; weights unchanged.

        Raises
        ------
        ValueError
            If ``y`` does not start after the cutoff, has other variables or
            another index type or step, or ``update_params`` is True.
        """
        check_is_fitted(self)
        self._check_no_exogenous(X)
        if update_params is not False:
            raise ValueError(
                f"{type(self).__name__}.update does not retrain (update_params must "
                "be False); fit again on the whole series to retrain."
            )
        arrays = self._continuation(y)  # led by the cutoff's stored row
        history = np.concatenate([self.context_[:-1], arrays.values])  # (C + n, K)
        self.context_ = history[-self.context_length :]  # (C, K), NaN: missing
        self.cutoff_ = arrays.grid_index[-1]
        return self

    def _continuation(self, y: Any) -> SeriesArrays:
        """``y`` on the training grid, led by a row at the cutoff (the last stored
        one), so that a single new row or a gap is read with the training step."""
        if isinstance(y, pd.Series):
            frame = y.to_frame()
        elif isinstance(y, pd.DataFrame):
            frame = y
        else:  # an array: its rows continue straight after the cutoff
            values = np.asarray(y)
            values = values.reshape(len(values), -1) if values.ndim == 1 else values
            if values.ndim != 2:
                raise ValueError(f"y must be 1-D or 2-D; got shape {values.shape}.")
            steps = np.arange(1, len(values) + 1)
            index = future_index(self.cutoff_, self.freq_, steps)
            frame = pd.DataFrame(values, index=index)
            if hasattr(self, "feature_names_in_"):
                frame.columns = self.feature_names_in_[: frame.shape[1]]
        if frame.shape[0] == 0 or frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"y has {frame.shape[0]} time steps and {frame.shape[1]} variables; "
                f"update needs at least one step of the {self.n_features_in_} "
                "variables seen in fit."
            )
        first = frame.index[0]
        if _index_kind(first) != _index_kind(self.cutoff_):
            raise ValueError(
                f"y must have the index type of the training series "
                f"({_index_kind(self.cutoff_)}); got {_index_kind(first)}."
            )
        if not first > self.cutoff_:
            raise ValueError(
                f"y must start after the cutoff {self.cutoff_!r}; its first time "
                f"point is {first!r}."
            )
        anchor = pd.DataFrame(
            self.context_[-1:], index=pd.Index([self.cutoff_]), columns=frame.columns
        )
        combined = pd.concat([anchor, frame])
        if isinstance(self.cutoff_, (pd.Timestamp, pd.Period)):
            arrays = to_arrays(combined, freq=self.freq_, name="y")
        else:  # integer times: lay them on the training step
            offsets = (combined.index.to_numpy() - self.cutoff_) / self.freq_
            if not np.all(offsets == np.round(offsets)):
                raise ValueError(
                    f"The time points of y do not lie on the training grid "
                    f"(step {self.freq_} from the cutoff {self.cutoff_})."
                )
            grid = np.arange(self.cutoff_, combined.index[-1] + 1, self.freq_)
            arrays = to_arrays(combined.reindex(grid), name="y")
        check_same_columns(arrays, self.columns_, self.n_features_in_, "y")
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
    ) -> pd.DataFrame:
        """Forecast from many historical cutoffs of ``y`` in one batched pass.

        Each forecast conditions only on the last ``context_length`` time points
        up to its cutoff (earlier points count as missing where there are fewer),
        so it sees nothing of the values it is scored against. All cutoffs are
        sampled together, in large batches.

        Parameters
        ----------
        y : DataFrame, Series or array-like of shape (n_timesteps, n_variables)
            The series to backtest on, with the variables and the index type and
            step of the training series; not modified.
        fh : int or sequence of int, default=None
            Relative horizon (1 = the step after each cutoff); None uses the
            horizon given at fit, else all ``prediction_length`` steps.
        n_windows : int, optional
            Rolling windows at the end of ``y``: the cutoffs lie ``max(fh)`` steps
            apart, the last one ``max(fh)`` steps before the end, so the
            horizons tile the last ``n_windows * max(fh)`` time points.
        cutoffs : sequence or pandas.Index, optional
            Time points of ``y`` (index labels; dates may be strings) to forecast
            from instead; used in time order, each once.
        alpha : float or sequence of float, default=None
            Quantile levels in (0, 1); None uses ``quantile_levels``.
        random_state : int, RandomState or None, default=None
            Seed of the draws; None uses the seed fixed at fit. The same seed and
            the same cutoffs give the same result; the draws of one cutoff change
            with the set of cutoffs sampled beside it (they share the batch), not
            their distribution.

        Returns
        -------
        DataFrame of shape (n_cutoffs * n_steps, n_variables * n_levels)
            Rows ``MultiIndex(cutoff, time)``, columns ``MultiIndex(variable,
            quantile)`` as in :meth:`predict_quantiles`.

        Raises
        ------
        ValueError
            Unless exactly one of ``n_windows`` and ``cutoffs`` is given; for a
            cutoff that is not a time point of ``y``, more windows than ``y``
            holds, or a ``y`` unlike the training series.
        TypeError
            For an ``fh`` of absolute time points (they differ per cutoff).
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
        arrays, last, _, _ = self._history(y)
        steps = self._relative_steps(fh, last)
        grid = arrays.grid_index
        if n_windows is not None:
            n_windows = check_positive_int(n_windows, "n_windows")
            stride = int(steps.max())
            positions = len(grid) - 1 - stride * np.arange(n_windows, 0, -1)
            if positions[0] < 0:
                raise ValueError(
                    f"y has {len(grid)} time steps; {n_windows} windows of "
                    f"{stride} steps need at least {n_windows * stride + 1}."
                )
        else:
            wanted = pd.Index(np.atleast_1d(np.asarray(cutoffs, dtype=object)))
            if isinstance(grid, pd.DatetimeIndex):
                try:  # dates may come as strings
                    wanted = pd.DatetimeIndex(wanted, tz=grid.tz)
                except (TypeError, ValueError):
                    pass  # not dates: reported as missing below
            if len(wanted) == 0:
                raise ValueError("cutoffs is empty; give at least one time point.")
            positions = grid.get_indexer(grid[:0].append(wanted))
            if (positions < 0).any():
                bad = list(wanted[positions < 0][:3])
                raise ValueError(f"cutoffs {bad} are not time points of y.")
            positions = np.unique(positions)  # in time order, each once
        n_c = self.context_length
        values = np.concatenate(
            [np.full((n_c - 1, arrays.values.shape[1]), np.nan), arrays.values]
        )
        contexts = np.stack([values[p : p + n_c] for p in positions])  # (N, C, K)
        samples = self._sample_horizons(contexts, self.num_samples, seed)
        q = self._quantiles(samples[:, :, steps - 1], alpha)  # (Q, N, H', K)
        n_q, n, n_h, n_k = q.shape
        index = backtest_index(grid[positions], self.freq_, steps)
        return quantile_frame(q.reshape(n_q, n * n_h, n_k), index, self.columns_, alpha)

    def _max_step(self) -> int:
        return self.prediction_length

    def _default_steps(self) -> np.ndarray:
        return np.arange(1, self.prediction_length + 1)

    def _forecast(
        self, fh: Any, y: Any, num_samples: int | None = None, random_state: Any = None
    ) -> tuple[np.ndarray, pd.Index, str, Any]:
        """Samples of shape (S, H, K) for the horizon, its index, kind and name."""
        check_is_fitted(self)
        num_samples = check_positive_int(
            self.num_samples if num_samples is None else num_samples, "num_samples"
        )
        seed = self._sample_seed(random_state)
        arrays, cutoff, kind, name = self._history(y)
        if arrays is None:
            context = self.context_
        else:
            context = arrays.values[-self.context_length :]
        steps = self._relative_steps(fh, cutoff)
        horizon = self._sample_horizons(context[None], num_samples, seed)[:, 0]
        index = future_index(cutoff, self.freq_, steps, name=None)
        return horizon[:, steps - 1], index, kind, name  # (S, H', K)

    def _sample_horizons(
        self, contexts: np.ndarray, num_samples: int, seed: int
    ) -> np.ndarray:
        """Samples of shape (S, N, H, K), in data units, of the ``prediction_length``
        steps after each of N contexts of shape (N, C', K) (NaN: missing; C' <=
        context_length, shorter ones padded as missing), all in one batch."""
        n, n_c, n_k = contexts.shape
        future = np.full((n, self.prediction_length, n_k), np.nan)
        values = np.concatenate([contexts, future], axis=1)  # (N, C' + H, K)
        observed = ~np.isnan(values)
        scaled = np.where(observed, self.scaler_.transform(values), 0.0)
        window_length = self.context_length + self.prediction_length
        pad = window_length - (n_c + self.prediction_length)
        scaled = np.pad(scaled, ((0, 0), (pad, 0), (0, 0)))  # (N, W, K)
        observed = np.pad(observed, ((0, 0), (pad, 0), (0, 0)))
        samples = self._sample_windows(scaled, observed, num_samples, seed)
        horizon = samples[:, :, self.context_length :]  # (S, N, H, K)
        return self.scaler_.inverse_transform(horizon)

    def _forecast_quantiles(
        self, fh: Any, y: Any, alpha: tuple
    ) -> tuple[np.ndarray, pd.Index, str, Any]:
        """Quantiles of shape (Q, H, K) of the samples, index, kind and name."""
        samples, index, kind, name = self._forecast(fh, y)
        return self._quantiles(samples, alpha), index, kind, name

    def _forecast_samples(
        self, fh: Any, y: Any, num_samples: int | None, random_state: Any
    ) -> np.ndarray:
        return self._forecast(fh, y, num_samples, random_state)[0]
