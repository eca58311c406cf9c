"""sktime adapter: :class:`DiffusionSktimeForecaster`, an sktime forecaster backed
by :class:`tsdiff.DiffusionForecaster`.

Needs the optional extra ``pip install tsdiff[sktime]``; ``import tsdiff`` never
imports sktime, only ``import tsdiff.sktime`` does. Panels (sktime's
``pd-multiindex``) go to one global model instead of one model per series, and the
quantiles and intervals come from the same samples as the point forecast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

try:
    from sktime.forecasting.base import BaseForecaster
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "tsdiff.sktime needs sktime: pip install 'tsdiff[sktime]'"
    ) from error

from tsdiff._shared import store_params
from tsdiff.forecaster import DiffusionForecaster

__all__ = ["DiffusionSktimeForecaster"]


class DiffusionSktimeForecaster(BaseForecaster):
    """sktime forecaster wrapping :class:`tsdiff.DiffusionForecaster`.

    The horizon the model is trained for is the larger of ``prediction_length``
    and the ``fh`` given to ``fit``; a later ``fh`` may not reach further. Without
    an ``fh`` in fit, series too short for ``prediction_length`` shorten the
    horizon to their length minus one, and the context is shortened where the
    training series are too short for it. Exogenous
    ``X`` condition the forecasts (rows beyond the last one given at predict repeat
    it, since the model samples its whole horizon jointly).

    Parameters
    ----------
    context_length : int, default=24
        History steps each forecast conditions on.
    prediction_length : int, default=12
        Smallest horizon the model is trained for.
    n_layers, n_channels, n_heads, n_diffusion_steps, n_epochs, batch_size :
        As in :class:`tsdiff.DiffusionForecaster`.
    num_samples : int, default=100
        Samples behind every forecast.
    sampler : str or None, default=None
        As in :class:`tsdiff.DiffusionForecaster`.
    device : str, default="auto"
        As in :class:`tsdiff.DiffusionForecaster`.
    random_state : int or None, default=None
        Seed of training and sampling.

    Attributes
    ----------
    forecaster_ : DiffusionForecaster
        The fitted tsdiff model.

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
    _config = {"remember_data": True}  # update(update_params=True) refits on all

    def __init__(
        self,
        context_length: int = 24,
        prediction_length: int = 12,
        n_layers: int = 4,
        n_channels: int = 64,
        n_heads: int = 8,
        n_diffusion_steps: int = 50,
        n_epochs: int = 100,
        batch_size: int = 32,
        num_samples: int = 100,
        sampler: str | None = None,
        device: str = "auto",
        random_state: int | None = None,
    ):
        store_params(self, locals())
        super().__init__()

    # -- sktime's private interface --------------------------------------------------

    def _fit(self, y: pd.DataFrame, X: pd.DataFrame | None, fh: Any):
        horizon = self.prediction_length
        if fh is not None:
            horizon = max(horizon, int(np.max(fh.to_relative(self.cutoff))))
        shortest = _shortest_series(y)
        if shortest < 2:
            raise ValueError(
                f"y has a series of {shortest} time point(s); at least 2 are needed."
            )
        horizon = min(horizon, shortest - 1) if fh is None else horizon
        context = max(1, min(self.context_length, shortest - horizon))
        self.forecaster_ = DiffusionForecaster(
            context_length=context,
            prediction_length=horizon,
            n_layers=self.n_layers,
            n_channels=self.n_channels,
            n_heads=self.n_heads,
            n_diffusion_steps=self.n_diffusion_steps,
            n_epochs=self.n_epochs,
            batch_size=self.batch_size,
            num_samples=self.num_samples,
            sampler=self.sampler,
            device=self.device,
            random_state=self.random_state,
        )
        self.forecaster_.fit(y, X=X)
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
            return getattr(model, method)(fh=steps, X=self._future_x(X), **kwargs)
        if model.covariates_ is not None:
            raise ValueError(
                "With exogenous X, the series of a panel must end at the same time "
                "point (they end at different ones here)."
            )
        gaps = pd.DataFrame(  # one missing row per series at the common cutoff
            np.nan,
            index=pd.MultiIndex.from_arrays(
                [model.series_ids_, [self.cutoff[0]] * len(model.series_ids_)],
                names=self._y.index.names,
            ),
            columns=self._y.columns,
        )
        late = gaps[model.cutoffs_ != self.cutoff[0]]
        history = pd.concat([self._y, late]).sort_index()  # each series in time order
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

    def _predict(self, fh: Any, X: pd.DataFrame | None) -> pd.DataFrame:
        return self._forecast("predict", fh, X)

    def _predict_quantiles(self, fh: Any, X: pd.DataFrame | None, alpha: list):
        q = self._forecast("predict_quantiles", fh, X, alpha=tuple(alpha))
        return q.rename_axis(columns=[None, None])

    def _predict_interval(self, fh: Any, X: pd.DataFrame | None, coverage: list):
        intervals = self._forecast("predict_interval", fh, X, coverage=tuple(coverage))
        return intervals.rename_axis(columns=[None, None, None])

    def _update(self, y: pd.DataFrame, X: pd.DataFrame | None, update_params=True):
        model = self.forecaster_
        if update_params:  # train again on everything seen
            return self._fit(self._y, self._X, self._fh)
        new = _after(y, model)
        if len(new):
            model.update(new, X=X if model.covariates_ is not None else None)
        return self

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Tiny configurations for sktime's estimator checks (seconds on a CPU)."""
        tiny = {
            "n_layers": 1,
            "n_channels": 4,
            "n_heads": 1,
            "n_diffusion_steps": 3,
            "n_epochs": 1,
            "batch_size": 64,
            "num_samples": 4,
            "device": "cpu",
            "random_state": 0,
        }
        return [
            {"context_length": 6, "prediction_length": 4, **tiny},
            {"context_length": 3, "prediction_length": 2, "sampler": "ddim", **tiny},
        ]


def _shortest_series(y: pd.DataFrame) -> int:
    if isinstance(y.index, pd.MultiIndex):
        return int(y.groupby(level=0).size().min())
    return len(y)


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
