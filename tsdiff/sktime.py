"""sktime adapters: :class:`DiffusionSktimeForecaster`, an sktime forecaster backed
by :class:`tsdiff.DiffusionForecaster`, and :class:`DiffusionSktimeImputer`, an sktime
transformer that fills gaps with :class:`tsdiff.DiffusionImputer`.

Needs the optional extra ``pip install tsdiff[sktime]``; ``import tsdiff`` never
imports sktime, only ``import tsdiff.sktime`` does. Panels (sktime's
``pd-multiindex``) go to one global model instead of one model per series, and the
quantiles, intervals and ``predict_proba`` (skpro's ``Empirical`` distribution)
come from the same samples as the point forecast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

try:
    from sktime.forecasting.base import BaseForecaster
    from sktime.transformations.base import BaseTransformer
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "tsdiff.sktime needs sktime: pip install 'tsdiff[sktime]'"
    ) from error

from tsdiff.estimation.calibration import auto_calibration_windows
from tsdiff.estimation.validation import check_positive_int, store_params
from tsdiff.forecaster import DiffusionForecaster
from tsdiff.imputer import DiffusionImputer

__all__ = ["DiffusionSktimeForecaster", "DiffusionSktimeImputer"]

# The tiny model of both adapters' test configurations (sktime's checks fit dozens).
_TINY = {
    "n_layers": 1,
    "n_channels": 4,
    "n_heads": 1,
    "n_diffusion_steps": 3,
    "n_epochs": 1,
    "steps_per_epoch": 2,
    "batch_size": 64,
    "num_samples": 4,
    "device": "cpu",
    "random_state": 0,
}


class DiffusionSktimeForecaster(BaseForecaster):
    """The sktime forecaster of :class:`tsdiff.DiffusionForecaster`.

    The horizon the model is trained for is the larger of ``prediction_length``
    and the ``fh`` given to ``fit``; a later ``fh`` may not reach further. Series
    too short for ``prediction_length`` shorten the horizon to the ``fh`` given to
    ``fit`` (without one, to their length minus one), and the context is shortened
    where the training series are too short for it. Exogenous
    ``X`` condition the forecasts (rows beyond the last one given at predict repeat
    it, since the model samples its whole horizon jointly).

    Parameters
    ----------
    context_length : int, default=24
        History steps each forecast conditions on.
    prediction_length : int, default=12
        Smallest horizon the model is trained for.
    n_layers, n_channels, n_heads, n_diffusion_steps : int
        As in :class:`tsdiff.DiffusionForecaster`.
    n_epochs, steps_per_epoch, batch_size : int (or None, "auto")
        As in :class:`tsdiff.DiffusionForecaster`.
    num_samples : int, default=100
        Samples behind every forecast.
    sampler : str or None, default=None
        As in :class:`tsdiff.DiffusionForecaster`.
    device : str, default="auto"
        As in :class:`tsdiff.DiffusionForecaster`.
    random_state : int or None, default=None
        Seed of training and sampling.
    calibration_windows : int, "auto" or None, default="auto"
        As in :class:`tsdiff.DiffusionForecaster`: horizons held out at the end of
        every series to calibrate the forecast intervals (90 % central); "auto"
        holds out those in the last tenth of the median series, none in series
        too short for it.
    calibration_rate : float or None, default=1.0
        As in :class:`tsdiff.DiffusionForecaster`: how far each
        ``update(update_params=False)`` moves the intervals after scoring the
        forecast made before the new values (None: not at all).

    Attributes
    ----------
    forecaster_ : DiffusionForecaster
        The fitted tsdiff model.
    seen_y_, seen_X_ : DataFrame or None
        Every observation seen by ``fit`` and ``update``.

    Notes
    -----
    ``update(y, update_params=True)`` (sktime's default) trains a new model on
    everything seen, which costs a full fit; ``update_params=False`` appends the new
    observations to the stored history without training (:meth:`tsdiff.
    DiffusionForecaster.update`).

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from tsdiff.sktime import DiffusionSktimeForecaster
    >>> y = load_airline()
    >>> f = DiffusionSktimeForecaster(context_length=12, prediction_length=6,
    ...                               n_layers=1, n_channels=8, n_heads=1, n_epochs=1,
    ...                               n_diffusion_steps=5, num_samples=8,
    ...                               device="cpu", random_state=0)
    >>> f.fit(y).predict(fh=[1, 2, 3]).shape
    (3,)
    """

    _tags = {
        "authors": ["tsdiff developers"],
        "y_inner_mtype": ["pd.DataFrame", "pd-multiindex"],
        "X_inner_mtype": ["pd.DataFrame", "pd-multiindex"],
        "scitype:y": "both",
        "capability:multivariate": True,
        "capability:exogenous": True,
        "capability:missing_values": True,
        "capability:pred_int": True,
        "capability:insample": False,
        "requires-fh-in-fit": False,
        "capability:random_state": True,
        "capability:update": True,
        "python_dependencies": ["torch"],
    }
    # The adapter keeps the data it has seen itself (``seen_y_``, ``seen_X_``): an
    # update with update_params=True refits on all of it.
    _config = {"remember_data": False}

    def __init__(
        self,
        context_length: int = 24,
        prediction_length: int = 12,
        n_layers: int = 4,
        n_channels: int = 64,
        n_heads: int = 8,
        n_diffusion_steps: int = 50,
        n_epochs: int = 100,
        steps_per_epoch: int | None = 50,
        batch_size: int | str = "auto",
        num_samples: int = 100,
        sampler: str | None = None,
        device: str = "auto",
        random_state: int | None = None,
        calibration_windows: int | str | None = "auto",
        calibration_rate: float | None = 1.0,
    ):
        store_params(self, locals())
        super().__init__()
        self._y = self._X = None  # sktime's own store, used if remember_data is set

    # -- sktime's private interface --------------------------------------------------

    def _fit(self, y: pd.DataFrame, X: pd.DataFrame | None, fh: Any):
        needed = 1 if fh is None else int(np.max(fh.to_relative(self.cutoff)))
        lengths = _series_lengths(y)
        shortest, longest = int(lengths.min()), int(lengths.max())
        if shortest < 2:
            raise ValueError(
                f"y has a series of {shortest} time point(s); at least 2 are needed."
            )
        horizon = max(self.prediction_length, needed)
        if horizon > shortest - 1:  # too short: the fh of fit, else all but a point
            horizon = needed if fh is not None else shortest - 1
        windows = self.calibration_windows
        if windows == "auto":  # a training window of at least horizon + 1 steps
            windows = (
                auto_calibration_windows(lengths, 1 + horizon, horizon, 0.9) or None
            )
        held_out = (
            0 if windows is None else check_positive_int(windows, "calibration_windows")
        ) * horizon
        if held_out and longest < 1 + horizon + held_out:
            raise ValueError(
                f"The longest series of y has {longest} time points; "
                f"calibration_windows={windows} holds out {held_out} of them after a "
                f"training window of at least {horizon + 1}: {1 + horizon + held_out} "
                "are needed."
            )
        # Every series long enough for a window; the held-out steps are needed in
        # the longest one only (shorter series then serve as history).
        context = min(shortest, longest - held_out) - horizon
        context = max(1, min(self.context_length, context))
        self.forecaster_ = DiffusionForecaster(
            context_length=context,
            prediction_length=horizon,
            calibration_windows=windows,
            calibration_rate=self.calibration_rate,
            **_model_settings(self),
        )
        self.forecaster_.fit(y, X=X)
        self.seen_y_, self.seen_X_ = y, X
        return self

    def _forecast(self, method: str, fh: Any, X: Any, **kwargs) -> pd.DataFrame:
        """``method`` of the tsdiff model for the time points of ``fh``.

        sktime counts a panel's horizon from one cutoff, the latest end. A series
        that ends earlier is forecast from that cutoff too, the time points between
        its end and the cutoff counting as missing history, so every series gets
        the same time points.
        """
        model = self.forecaster_
        steps = [int(h) for h in fh.to_relative(self.cutoff)]
        if not model._is_panel() or model.cutoffs_.nunique() == 1:
            future_x = self._future_x(X)
            return getattr(model, method)(fh=steps, X=future_x, y=None, **kwargs)
        if model.covariates_ is not None and len(model.covariates_.x_columns):
            raise ValueError(
                "With exogenous X, the series of a panel must end at the same time "
                "point (they end at different ones here)."
            )
        gaps = pd.DataFrame(  # one missing row per series at the common cutoff
            np.nan,
            index=pd.MultiIndex.from_arrays(
                [model.series_ids_, [self.cutoff[0]] * len(model.series_ids_)],
                names=self._seen()[0].index.names,
            ),
            columns=self._seen()[0].columns,
        )
        late = gaps[model.cutoffs_ != self.cutoff[0]]
        history = pd.concat([self._seen()[0], late]).sort_index()  # in time order
        return getattr(model, method)(fh=steps, y=history, **kwargs)

    def _future_x(self, X: pd.DataFrame | None) -> pd.DataFrame | None:
        """``X`` over the model's whole horizon: rows it lacks repeat its last."""
        if X is None or self.forecaster_.covariates_ is None:
            return None
        model = self.forecaster_
        if isinstance(X.index, pd.MultiIndex):
            cutoffs = dict(zip(model.series_ids_, model.cutoffs_, strict=True))
            parts = {}
            for key, rows in X.groupby(level=0, sort=False):
                if key not in cutoffs:
                    raise ValueError(
                        f"X holds series {key!r}, which was not seen in fit."
                    )
                parts[key] = _extend(rows.droplevel(0), cutoffs[key], model)
            return pd.concat(parts, names=X.index.names)
        return _extend(X, model.cutoff_, model)

    def _seen(self) -> tuple[Any, Any]:
        """``(seen_y_, seen_X_)``; an adapter pickled before they existed kept the
        data in sktime's own ``_y`` and ``_X``."""
        if hasattr(self, "seen_y_"):
            return self.seen_y_, self.seen_X_
        return self._y, self._X

    def _predict(self, fh: Any, X: pd.DataFrame | None) -> pd.DataFrame:
        return self._forecast("predict", fh, X)

    def _predict_quantiles(self, fh: Any, X: pd.DataFrame | None, alpha: list):
        q = self._forecast("predict_quantiles", fh, X, alpha=tuple(alpha))
        return q.rename_axis(columns=[None, None])

    def _predict_interval(self, fh: Any, X: pd.DataFrame | None, coverage: list):
        intervals = self._forecast("predict_interval", fh, X, coverage=tuple(coverage))
        return intervals.rename_axis(columns=[None, None, None])

    def _predict_proba(self, fh: Any, X: pd.DataFrame | None, marginal: bool = True):
        """The forecast distribution as skpro's ``Empirical`` over the samples.

        Quantiles, intervals and the point forecast of the returned distribution
        come from the same kind of joint sample paths as :meth:`predict_quantiles`;
        ``sample`` of the distribution draws whole paths (``time_indep=False``).
        """
        try:
            from skpro.distributions import Empirical
        except ImportError as error:  # pragma: no cover - skpro comes with the extra
            raise ImportError(
                "predict_proba needs skpro: pip install 'tsdiff[sktime]'"
            ) from error
        samples, index, _ = self._forecast("_forecast", fh, X)  # (S, N, H', K)
        n_s, n, n_h, n_k = samples.shape
        rows = np.tile(np.arange(n * n_h), n_s)  # row of `index` per sample row
        levels = [index.get_level_values(i).take(rows) for i in range(index.nlevels)]
        spl_index = pd.MultiIndex.from_arrays(
            [np.repeat(np.arange(n_s), n * n_h), *levels],
            names=["sample", *index.names],
        )
        columns = self.forecaster_.columns_
        spl = pd.DataFrame(
            samples.reshape(n_s * n * n_h, n_k), index=spl_index, columns=columns
        )  # (S * N * H', K)
        return Empirical(spl, time_indep=False, index=index, columns=columns)

    def _update(self, y: pd.DataFrame, X: pd.DataFrame | None, update_params=True):
        model = self.forecaster_
        old_y, old_X = self._seen()
        seen_y, seen_X = _combine(old_y, y), _combine(old_X, X)
        if update_params:  # train again on everything seen
            return self._fit(seen_y, seen_X, self._fh)
        self.seen_y_, self.seen_X_ = seen_y, seen_X
        new = _after(y, model)
        if len(new):
            model.update(new, X=X if model.covariates_ is not None else None)
        return self

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Tiny configurations for sktime's estimator checks (seconds on a CPU).

        Examples
        --------
        >>> from tsdiff.sktime import DiffusionSktimeForecaster
        >>> [p["context_length"] for p in DiffusionSktimeForecaster.get_test_params()]
        [6, 3]
        """
        return [
            {"context_length": 6, "prediction_length": 4, **_TINY},
            {"context_length": 3, "prediction_length": 2, "sampler": "ddim",
             "calibration_rate": None, **_TINY},
        ]  # fmt: skip


class DiffusionSktimeImputer(BaseTransformer):
    """The sktime transformer that imputes with :class:`tsdiff.DiffusionImputer`.

    ``fit`` trains one model on the series (all series of a panel together, not one
    model per series); ``transform`` returns a copy of the data with every missing
    value replaced by the median of the samples, observed values unchanged. For
    quantiles or samples of the imputations use the fitted ``imputer_`` directly.

    Parameters
    ----------
    window_length : int, default=48
        Time steps per training and imputation window.
    calibration_share : float, "input" or None, default="input"
        As in :class:`tsdiff.DiffusionImputer`: the share of windows held out to
        calibrate the intervals of ``imputer_``, or ``"input"`` to calibrate
        them on the observed values of each input.
    n_layers, n_channels, n_heads, n_diffusion_steps : int
        As in :class:`tsdiff.DiffusionImputer`.
    n_epochs, steps_per_epoch, batch_size : int (or None, "auto")
        As in :class:`tsdiff.DiffusionImputer`.
    num_samples : int, default=100
        Samples behind every imputed value.
    sampler : str or None, default=None
        As in :class:`tsdiff.DiffusionImputer`.
    device : str, default="auto"
        As in :class:`tsdiff.DiffusionImputer`.
    random_state : int or None, default=None
        Seed of training and sampling.

    Attributes
    ----------
    imputer_ : DiffusionImputer
        The fitted tsdiff model.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsdiff.sktime import DiffusionSktimeImputer
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30)},
    ...                  index=pd.date_range("2024-01-01", periods=30, freq="h"))
    >>> X.iloc[[3, 4, 17], 0] = np.nan
    >>> t = DiffusionSktimeImputer(window_length=8, n_layers=1, n_channels=8,
    ...                            n_heads=1, n_epochs=1, n_diffusion_steps=5,
    ...                            num_samples=8, device="cpu", random_state=0)
    >>> filled = t.fit_transform(X)
    >>> int(filled.isna().sum().sum()), bool(filled["b"].equals(X["b"]))
    (0, True)
    """

    _tags = {
        "authors": ["tsdiff developers"],
        "scitype:transform-input": "Series",
        "scitype:transform-output": "Series",
        "scitype:instancewise": False,  # one model for every series of a panel
        "X_inner_mtype": ["pd.DataFrame", "pd-multiindex"],
        "y_inner_mtype": "None",
        "fit_is_empty": False,
        "capability:multivariate": True,
        "capability:missing_values": True,
        "capability:missing_values:removes": True,
        "capability:categorical_in_X": False,  # numeric variables only
        "capability:inverse_transform": False,
        "capability:random_state": True,
        "property:randomness": "derandomized",
        "python_dependencies": ["torch"],
    }

    def __init__(
        self,
        window_length: int = 48,
        calibration_share: float | str | None = "input",
        n_layers: int = 4,
        n_channels: int = 64,
        n_heads: int = 8,
        n_diffusion_steps: int = 50,
        n_epochs: int = 100,
        steps_per_epoch: int | None = 50,
        batch_size: int | str = "auto",
        num_samples: int = 100,
        sampler: str | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ):
        store_params(self, locals())
        super().__init__()

    def _fit(self, X: pd.DataFrame, y: Any = None):
        self.imputer_ = DiffusionImputer(
            window_length=self.window_length,
            calibration_share=self.calibration_share,
            **_model_settings(self),
        )
        self.imputer_.fit(X)
        return self

    def _transform(self, X: pd.DataFrame, y: Any = None) -> pd.DataFrame:
        return self.imputer_.transform(X)

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Tiny configurations for sktime's estimator checks (seconds on a CPU).

        Examples
        --------
        >>> from tsdiff.sktime import DiffusionSktimeImputer
        >>> [p["window_length"] for p in DiffusionSktimeImputer.get_test_params()]
        [6, 4, 4]
        """
        return [
            {"window_length": 6, **_TINY},
            {"window_length": 4, "sampler": "ddim", "calibration_share": 0.5, **_TINY},
            {"window_length": 4, "calibration_share": "input", **_TINY},
        ]


_MODEL_SETTINGS = (
    "n_layers",
    "n_channels",
    "n_heads",
    "n_diffusion_steps",
    "n_epochs",
    "steps_per_epoch",
    "batch_size",
    "num_samples",
    "sampler",
    "device",
    "random_state",
)


def _model_settings(adapter: Any) -> dict:
    """The adapter's settings that pass unchanged to the tsdiff estimator."""
    return {name: getattr(adapter, name) for name in _MODEL_SETTINGS}


def _combine(old: pd.DataFrame | None, new: pd.DataFrame | None) -> Any:
    """``new`` completed by ``old`` (sktime's update semantics: a value of ``new``
    wins, a missing one keeps what ``old`` held), in index order; None where
    neither holds data."""
    if new is None or old is None:
        return old if new is None else new
    return new.combine_first(old)


def _series_lengths(y: pd.DataFrame) -> np.ndarray:
    """Time points of every series of ``y``, shape (n_series,)."""
    if isinstance(y.index, pd.MultiIndex):
        return y.groupby(level=0).size().to_numpy()
    return np.array([len(y)])


def _extend(X: pd.DataFrame, cutoff: Any, model: DiffusionForecaster) -> pd.DataFrame:
    """``X`` with rows up to ``prediction_length`` steps after ``cutoff``, a missing
    row repeating the last row before it."""
    from tsdiff.frames import future_index

    steps = np.arange(1, model.prediction_length + 1)
    future = future_index(cutoff, model.freq_, steps)
    return X.reindex(X.index.union(future)).ffill().bfill()


def _after(y: pd.DataFrame, model: DiffusionForecaster) -> pd.DataFrame:
    """The rows of ``y`` after the model's cutoff (of each series of a panel)."""
    if isinstance(y.index, pd.MultiIndex):
        cutoffs = dict(zip(model.series_ids_, model.cutoffs_, strict=True))
        keep = [  # a series unknown to the model stays, for update to refuse it
            key not in cutoffs or t > cutoffs[key]
            for key, t in zip(
                y.index.get_level_values(0), y.index.get_level_values(1), strict=True
            )
        ]
        return y[np.asarray(keep, dtype=bool)]
    return y[y.index > model.cutoff_]
