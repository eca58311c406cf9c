"""Shared estimator base: parameter validation, device and seed resolution, training and
sampling through the engine, quantiles, save/load and pickling."""

from __future__ import annotations

import hashlib
import inspect
import logging
import numbers
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from tsdiff import _persist
from tsdiff._shared import FREQ, check_observed, sample_quantiles
from tsdiff._validation import (
    POSITIVE_INT,
    DeviceSpec,
    InstanceOf,
    Interval,
    LagSpec,
    Levels,
    Options,
    validate_params,
)
from tsdiff.data import (
    MASK_STRATEGIES,
    Scaler,
    WindowSource,
    draw_cond_mask,
    fit_scaler,
)
from tsdiff.diffusion import (
    ALL_SAMPLERS,
    LOSSES,
    PARAMETERIZATIONS,
    PROCESS_NAMES,
    SCHEDULES,
    Process,
    check_pair,
    default_sampler,
    default_steps,
    make_process,
)
from tsdiff.engine import (
    LR_SCHEDULES,
    SamplingConfig,
    TrainingConfig,
    auto_batch_size,
    distributed,
    fit_network,
    sample_network,
)
from tsdiff.engine.training import SETTINGS_BEFORE_OPTIONS
from tsdiff.frames import SeriesArrays, seasonal_periods
from tsdiff.nn import Denoiser, DenoiserConfig

logger = logging.getLogger(__name__)

_QUANTILE_METHODS = (
    "linear", "inverted_cdf", "averaged_inverted_cdf", "closest_observation",
    "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
    "normal_unbiased", "lower", "higher", "midpoint", "nearest",
)  # fmt: skip


class _DiffusionEstimator(BaseEstimator):
    """Behaviour shared by :class:`DiffusionImputer` and :class:`DiffusionForecaster`.

    Subclasses list every parameter in ``__init__`` (scikit-learn introspects it)
    and add their own entries to ``_parameter_constraints``.
    """

    _parameter_constraints: dict = {
        "n_layers": [POSITIVE_INT],
        "n_channels": [POSITIVE_INT],
        "n_heads": [POSITIVE_INT],
        "time_embedding_dim": [Interval(int, 2, None)],
        "feature_embedding_dim": [POSITIVE_INT],
        "diffusion_embedding_dim": [Interval(int, 2, None)],
        "process": [Options(PROCESS_NAMES)],
        "n_diffusion_steps": [POSITIVE_INT],
        "schedule": [Options(tuple(SCHEDULES))],
        "beta_start": [Interval(float, 0, 1, "neither")],
        "beta_end": [Interval(float, 0, 1, "neither")],
        "parameterization": [Options(PARAMETERIZATIONS)],
        "loss": [Options(LOSSES)],
        "center_windows": [InstanceOf((bool,), "a bool")],
        "scale_windows": [InstanceOf((bool,), "a bool")],
        "lags": [None, LagSpec()],
        "target_strategy": [Options(tuple(MASK_STRATEGIES))],
        "scaler": [Options(("standard", "robust", "none"))],
        "n_epochs": [POSITIVE_INT],
        "steps_per_epoch": [None, POSITIVE_INT],
        "batch_size": [Options(("auto",)), POSITIVE_INT],
        "learning_rate": [Interval(float, 0, None, "neither")],
        "lr_schedule": [Options(LR_SCHEDULES)],
        "weight_decay": [Interval(float, 0, None, "left")],
        "validation_fraction": [Interval(float, 0, 1, "left")],
        "early_stopping_patience": [None, POSITIVE_INT],
        "ema_decay": [None, Interval(float, 0, 1, "neither")],
        "max_grad_norm": [None, Interval(float, 0, None, "neither")],
        "mixed_precision": [InstanceOf((bool,), "a bool")],
        "compile": [InstanceOf((bool,), "a bool")],
        "checkpoint_path": [None, InstanceOf((str, os.PathLike), "a path")],
        "max_fit_time": [None, Interval(float, 0, None, "neither")],
        "num_samples": [POSITIVE_INT],
        "sampler": [None, Options(tuple(ALL_SAMPLERS))],
        "sampling_steps": [None, POSITIVE_INT],
        "eta": [Interval(float, 0, 1)],
        "quantile_levels": [Levels()],
        "quantile_method": [Options(_QUANTILE_METHODS)],
        "freq": FREQ,
        "device": [DeviceSpec()],
        "predict_batch_size": [Options(("auto",)), POSITIVE_INT],
        "random_state": [
            None,
            Interval(int, 0, 2**32 - 1),
            InstanceOf((np.random.RandomState,), "a RandomState"),
        ],
        "verbose": [InstanceOf((bool, numbers.Integral), "a bool")],
    }

    # -- validation and set-up -------------------------------------------------------

    def _validate_params(self) -> None:
        """Check every parameter and their combinations before any work starts."""
        validate_params(self, self._parameter_constraints)
        name = type(self).__name__
        if self.n_channels % self.n_heads:
            raise ValueError(
                f"The 'n_heads' parameter of {name} must divide n_channels="
                f"{self.n_channels}. Got {self.n_heads} instead."
            )
        for dim in ("time_embedding_dim", "diffusion_embedding_dim"):
            if getattr(self, dim) % 2:
                raise ValueError(
                    f"The {dim!r} parameter of {name} must be even. "
                    f"Got {getattr(self, dim)} instead."
                )
        if self.schedule != "cosine" and self.beta_start >= self.beta_end:
            raise ValueError(
                f"The 'beta_start' parameter of {name} must be smaller than beta_end="
                f"{self.beta_end}. Got {self.beta_start} instead."
            )
        if self.loss == "v" and self.parameterization == "epsilon":
            raise ValueError(
                f"The 'loss' parameter of {name} can be 'v' only with "
                "parameterization='v': a noise-predicting network would have its "
                "error at the highest noise levels multiplied by up to 1 + 1/SNR "
                "(3e4 on CSDI's schedule). Got loss='v' with "
                "parameterization='epsilon'."
            )
        self._check_sampler()

    def _sampler(self) -> str:
        """The sampler in use: the one chosen, or the process's default."""
        return self.sampler or default_sampler(self.process)

    def _sampling_steps(self) -> int | None:
        """The steps in use: the number chosen, or the sampler's default."""
        if self.sampling_steps is not None:
            return self.sampling_steps
        chain = self.n_diffusion_steps if self.process == "ddpm" else None
        return default_steps(self._sampler(), chain)

    def _check_sampler(self) -> None:
        """The sampler must fit the process, and a DDPM chain has at most its own
        number of steps (checked at fit and again before sampling, since both may
        change with ``set_params``)."""
        name = type(self).__name__
        try:
            check_pair(self.process, self._sampler())
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
        if (
            self.process == "ddpm"
            and self.sampling_steps is not None
            and self.sampling_steps > self.n_diffusion_steps
        ):
            raise ValueError(
                f"The 'sampling_steps' parameter of {name} must be at most "
                f"n_diffusion_steps={self.n_diffusion_steps}. "
                f"Got {self.sampling_steps} instead."
            )

    def _resolve_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        device = torch.device(self.device)
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(
                    f"device={self.device!r} was requested but CUDA is not available; "
                    "use device='auto' or 'cpu'."
                )
            if (device.index or 0) >= torch.cuda.device_count():
                raise ValueError(
                    f"device={self.device!r} was requested but only "
                    f"{torch.cuda.device_count()} CUDA device(s) are visible."
                )
        return device

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once a fit has trained (or a model was loaded): a fit that failed
        before that leaves the estimator unfitted."""
        return "history_" in vars(self)

    def _forget_fit(self) -> None:
        """Drop what an earlier fit learned, so that a fit that fails leaves an
        unfitted estimator rather than a mix of two fits."""
        learned = [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]
        for name in learned:
            delattr(self, name)

    def _draw_seeds(self) -> tuple[int, int]:
        """Seeds for training and for prediction, both derived from ``random_state``."""
        rng = check_random_state(self.random_state)
        fit_seed, predict_seed = rng.randint(0, 2**31 - 1, size=2)
        return int(fit_seed), int(predict_seed)

    def _scaled(self, arrays: SeriesArrays) -> np.ndarray:
        """Scaled values of shape (T, K), zero where not observed; a panel scaled
        by the statistics of each series."""
        scaler = self.scaler_
        if scaler.n_series is not None:  # each grid row is its series' (T, 1, K)
            series = np.repeat(np.arange(scaler.n_series), np.diff(arrays.bounds))
            rows = scaler.select(series).transform(arrays.values[:, None])[:, 0]
            return np.where(arrays.observed_mask, rows, 0.0)
        scaled = scaler.transform(arrays.values)
        return np.where(arrays.observed_mask, scaled, 0.0)

    # -- training ---------------------------------------------------------------------

    def _fit_scaler(self, arrays: SeriesArrays) -> Scaler:
        check_observed(arrays, remedy="fill it before fitting")
        return fit_scaler(arrays.values, arrays.observed_mask, method=self.scaler)

    def _train(
        self,
        windows: WindowSource,
        prediction_length: int,
        patterns: np.ndarray | None = None,
        lags: tuple[int, ...] = (),
    ) -> None:
        """Build and train ``network_`` on the training windows ``windows``.

        ``patterns`` (bool, shape (M, L, K)) are the missingness patterns that
        historical masks copy; None uses the training windows' own. ``lags`` are
        the network's seasonal lags (:meth:`_seasonal_lags`).
        """
        # Under torchrun every process trains on its own GPU (or CPU share).
        world = distributed.world(self._resolve_device())
        self.device_ = world.device(self._resolve_device())
        # Every process trains from the same seeds (those of rank 0).
        fit_seed, self.predict_seed_ = world.agree(list(self._draw_seeds()))
        with torch.random.fork_rng(devices=[]):  # leave torch's global RNG untouched
            self.network_ = Denoiser(
                self._network_config(windows.n_features, windows.n_covariates, lags)
            )
        # Initial weights follow random_state too, not torch's global generator.
        self.network_.reset_parameters(torch.Generator().manual_seed(fit_seed))
        self.process_ = self._process()
        self.window_frame_ = self._window_frame()
        # Historical masks borrow the missingness of real windows.
        if patterns is not None:
            source = np.ascontiguousarray(patterns.transpose(0, 2, 1))  # (M, K, L)
            pool = torch.from_numpy(source[:: max(1, len(source) // 1024)])
        else:
            every = torch.arange(0, len(windows), max(1, len(windows) // 1024))
            pool = windows.batch(every)[1]  # (M, K, L) observed masks
        pool = pool.to(self.device_)

        def draw_mask(observed_mask, generator):
            return draw_cond_mask(
                observed_mask,
                generator,
                strategy=self.target_strategy,
                prediction_length=prediction_length,
                patterns=pool,
            )

        self.batch_size_ = self._batch_size(windows, self.device_)
        config = TrainingConfig(
            n_epochs=self.n_epochs,
            steps_per_epoch=self.steps_per_epoch,
            batch_size=self.batch_size_,
            learning_rate=self.learning_rate,
            lr_schedule=self.lr_schedule,
            weight_decay=self.weight_decay,
            validation_fraction=self.validation_fraction,
            early_stopping_patience=self.early_stopping_patience,
            parameterization=self.parameterization,
            loss=self.loss,
            center_windows=self.center_windows,
            scale_windows=self.scale_windows,
            ema_decay=self.ema_decay,
            max_grad_norm=self.max_grad_norm,
            mixed_precision=self.mixed_precision,
            compile=self.compile,
            checkpoint_path=self.checkpoint_path and os.fspath(self.checkpoint_path),
            max_fit_time=self.max_fit_time,
            verbose=bool(self.verbose),
        )
        # A resumed checkpoint must also match the mask policy and its patterns.
        digest = None if patterns is None else hashlib.sha256(source.tobytes())
        context = repr(
            (self.target_strategy, prediction_length, digest and digest.hexdigest())
        )
        try:
            self.history_ = fit_network(
                self.network_, self.process_, windows, draw_mask, config,
                device=self.device_, seed=fit_seed, context=context, world=world,
            )  # fmt: skip
        except BaseException:  # a fit that fails (or is interrupted) leaves nothing
            self._forget_fit()
            raise

    def _batch_size(self, windows: WindowSource, device: torch.device) -> int:
        """Training windows per optimiser step: ``batch_size``, or for ``"auto"``
        :func:`tsdiff.engine.auto_batch_size` of the window's size on ``device``."""
        if self.batch_size != "auto":
            return self.batch_size
        return auto_batch_size(windows.n_features, windows.length, device)

    def _seasonal_lags(
        self, arrays: SeriesArrays, window_length: int
    ) -> tuple[int, ...]:
        """The lags the network reads: ``lags`` itself, or for "auto" the steps
        that a day, a week and a year span on the grid of the longest series, those
        shorter than the window; () for None."""
        if self.lags is None:
            return ()
        if self.lags != "auto":
            too_long = [s for s in self.lags if s >= window_length]
            if too_long:
                raise ValueError(
                    f"The 'lags' parameter of {type(self).__name__} must hold lags "
                    f"shorter than the window ({window_length} steps), inside which "
                    f"the network looks them up. Got {too_long}."
                )
            return tuple(sorted(self.lags))
        rows = max(arrays.segments, key=lambda r: r.stop - r.start)
        times = arrays.grid_index[rows]
        if isinstance(times, pd.MultiIndex):
            times = times.get_level_values(-1)
        return tuple(s for s in seasonal_periods(times) if s < window_length)

    def _network_config(
        self, n_features: int, n_covariates: int = 0, lags: tuple = ()
    ) -> DenoiserConfig:
        return DenoiserConfig(
            n_features=n_features,
            n_covariates=n_covariates,
            lags=lags,
            n_layers=self.n_layers,
            n_channels=self.n_channels,
            n_heads=self.n_heads,
            time_embedding_dim=self.time_embedding_dim,
            feature_embedding_dim=self.feature_embedding_dim,
            diffusion_embedding_dim=self.diffusion_embedding_dim,
        )

    def _process(self) -> Process:
        return make_process(
            self.process,
            n_steps=self.n_diffusion_steps,
            schedule=self.schedule,
            beta_start=self.beta_start,
            beta_end=self.beta_end,
        )

    def _window_frame(self) -> tuple[bool, bool]:
        """``(center_windows, scale_windows)``: the frame windows are modelled in."""
        return (self.center_windows, self.scale_windows)

    # -- sampling ---------------------------------------------------------------------

    def _sample_windows(
        self,
        windows: np.ndarray,
        cond_mask: np.ndarray,
        num_samples: int,
        seed: int,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """Samples of shape (S, N, L, K) for scaled windows of shape (N, L, K)
        (with ``covariates`` of shape (N, L, n_covariates) for a network that takes
        them)."""
        if self._process() != self.process_:
            raise ValueError(
                f"{type(self).__name__} was fitted with another diffusion process "
                "(process, n_diffusion_steps, schedule, beta_start or beta_end have "
                "changed since fit); set them back or fit again."
            )
        center, scale = self.window_frame_
        if self._window_frame() != (center, scale):
            raise ValueError(
                f"{type(self).__name__} was fitted with center_windows={center} and "
                f"scale_windows={scale}, the frame its network models windows in; "
                "set them back or fit again."
            )
        self._check_sampler()  # the sampler may have changed since fit
        batch = None if self.predict_batch_size == "auto" else self.predict_batch_size
        config = SamplingConfig(
            num_samples=num_samples,
            sampler=self._sampler(),
            sampling_steps=self._sampling_steps(),
            eta=self.eta,
            batch_size=batch,
            parameterization=self.parameterization,
            center_windows=center,
            scale_windows=scale,
            mixed_precision=self.mixed_precision,
            compile=self.compile,
            verbose=bool(self.verbose),
        )
        x_cond = np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32)
        mask = np.ascontiguousarray(cond_mask.transpose(0, 2, 1))  # (N, K, L)
        samples = sample_network(
            self.network_, self.process_, x_cond, mask, config,
            device=self.device_, seed=seed, covariates=_channels_first(covariates),
        )  # fmt: skip
        return samples.transpose(0, 1, 3, 2)  # (S, N, K, L) -> (S, N, L, K)

    def _sample_seed(self, random_state: Any) -> int:
        """The fitted prediction seed, or one drawn from ``random_state``."""
        if random_state is None:
            return self.predict_seed_
        accepted = self._parameter_constraints["random_state"][1:]
        if not any(c.accepts(random_state) for c in accepted):
            raise TypeError(
                "random_state must be None, an int in [0, 2**32 - 1] or a "
                "RandomState; got "
                f"{random_state!r}."
            )
        return int(check_random_state(random_state).randint(0, 2**31 - 1))

    def _quantiles(self, samples: np.ndarray, alpha: tuple) -> np.ndarray:
        """Quantiles of shape (Q, ...) over the sample axis, monotone in level."""
        return sample_quantiles(samples, alpha, self.quantile_method)

    # -- persistence -----------------------------------------------------------------

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # may be the live __dict__ itself
        if "network_" in state:
            network = state.pop("network_")
            state["_network_spec"] = (
                asdict(network.config),
                {k: v.detach().cpu() for k, v in network.state_dict().items()},
            )
        return state

    def __setstate__(self, state: dict) -> None:
        spec = state.pop("_network_spec", None)
        # Parameters added since the estimator was pickled: the value an older
        # estimator trained with, else the default.
        defaults = {
            name: param.default
            for name, param in inspect.signature(type(self).__init__).parameters.items()
            if param.default is not param.empty
        }
        for name, value in (defaults | SETTINGS_BEFORE_OPTIONS).items():
            state.setdefault(name, value)
        super().__setstate__(state)
        if spec is not None and not hasattr(self, "window_frame_"):  # older pickles
            self.window_frame_ = self._window_frame()
        if spec is not None:
            self.device_ = _available(self.device_)
            config, weights = spec
            network = _rebuild_network(config, weights, "the pickled estimator")
            self.network_ = network.to(self.device_)

    def save(self, path: str | Path) -> None:
        """Save the fitted estimator into the folder ``path``.

        The folder receives ``config.json`` (parameters and fitted metadata) and
        ``tensors.pt`` (network weights and arrays). Load it with :meth:`load`.

        Parameters
        ----------
        path : str or Path
            Folder to write (created if missing).

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from tsdiff import DiffusionImputer
        >>> X = np.random.default_rng(0).normal(size=(40, 2))
        >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8,
        ...                        n_heads=1, n_diffusion_steps=5, n_epochs=1,
        ...                        num_samples=4, device="cpu", random_state=0).fit(X)
        >>> folder = tempfile.mkdtemp()
        >>> imp.save(folder)
        >>> import os; sorted(os.listdir(folder))
        ['config.json', 'tensors.pt']
        """
        check_is_fitted(self)
        tensors: dict[str, torch.Tensor] = {}
        fitted = {
            k: _persist.encode(v, k, tensors)
            for k, v in vars(self).items()
            if k.endswith("_")
            and not k.startswith("_")
            and k != "network_"
            and k != "process_"
        }
        for k, v in self.network_.state_dict().items():
            tensors[f"network.{k}"] = v.detach().cpu()
        document = {
            "estimator": type(self).__name__,
            "params": _persist.encode(self.get_params(deep=False), "params", tensors),
            "network_config": asdict(self.network_.config),
            "fitted": fitted,
        }
        _persist.write(path, document, tensors)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto"):
        """Load an estimator saved with :meth:`save`.

        Parameters
        ----------
        path : str or Path
            Folder written by :meth:`save`.
        device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
            Where to place the network; a model trained on a GPU loads on a CPU.

        Returns
        -------
        estimator
            A fitted estimator of this class.

        Raises
        ------
        FileNotFoundError
            When ``path`` holds no saved model.
        ValueError
            When the files are damaged, of another format version, hold anything
            but JSON and tensors (nothing in them is run), or describe another
            estimator.

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from tsdiff import DiffusionImputer
        >>> X = np.random.default_rng(0).normal(size=(40, 2))
        >>> X[5, 0] = np.nan
        >>> imp = DiffusionImputer(window_length=8, n_layers=1, n_channels=8,
        ...                        n_heads=1, n_diffusion_steps=5, n_epochs=1,
        ...                        num_samples=4, device="cpu", random_state=0).fit(X)
        >>> folder = tempfile.mkdtemp()
        >>> imp.save(folder)
        >>> same = DiffusionImputer.load(folder, device="cpu")
        >>> bool(np.array_equal(same.transform(X), imp.transform(X)))
        True
        """
        # Everything is checked before anything is built: the files, the
        # estimator's name, its parameter and attribute names, and the weights'
        # names and shapes against the network they describe.
        document, tensors = _persist.read(path)
        if document["estimator"] != cls.__name__:
            raise ValueError(
                f"{path} holds a {document['estimator']!r}, not a {cls.__name__}."
            )
        params = _persist.decode_entry(document, "params", tensors, path)
        unknown = sorted(set(params) - set(cls._get_param_names()))
        if unknown:
            raise ValueError(
                f"{path} sets parameters {unknown}, which {cls.__name__} does not "
                "have; it was written by another version of tsdiff."
            )
        fitted = _persist.decode_entry(document, "fitted", tensors, path)
        bad = sorted(
            k
            for k in fitted
            if not (k.endswith("_") and k[0].isalpha()) or k in ("network_", "process_")
        )
        if bad or "n_features_in_" not in fitted:
            raise ValueError(
                f"{path} holds no fitted {cls.__name__}: "
                + (f"unexpected entries {bad}." if bad else "no n_features_in_.")
            )
        # JSON has no tuples; tuple-valued parameters come back as lists.
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        # A file written before an option existed was trained with its earlier value.
        params = SETTINGS_BEFORE_OPTIONS | params
        weights = {
            k.removeprefix("network."): v
            for k, v in tensors.items()
            if k.startswith("network.")
        }
        network = _rebuild_network(document["network_config"], weights, path)
        if network.config.n_features != fitted["n_features_in_"]:
            raise ValueError(
                f"{path} pairs a network of {network.config.n_features} variables "
                f"with a fitted state of {fitted['n_features_in_']}."
            )
        est = cls(**{**params, "device": device})
        est._validate_params()
        for key, value in fitted.items():
            setattr(est, key, value)
        est.device_ = est._resolve_device()
        est.network_ = network.to(est.device_)
        est.process_ = est._process()
        # Files from before the frame was recorded: the parameters of their fit.
        est.window_frame_ = tuple(getattr(est, "window_frame_", est._window_frame()))
        return est


def _channels_first(covariates: np.ndarray | None) -> np.ndarray | None:
    """Covariates (N, L, C) as the network reads them: float32 (N, C, L)."""
    if covariates is None:
        return None
    return np.ascontiguousarray(covariates.transpose(0, 2, 1), dtype=np.float32)


def _available(device: torch.device) -> torch.device:
    if device.type == "cuda" and not torch.cuda.is_available():
        logger.warning("CUDA is not available; the network is placed on the CPU.")
        return torch.device("cpu")
    return device


def _rebuild_network(config: Any, state: dict, path: Any) -> Denoiser:
    """The saved network on the CPU, after checking that the weights fit it.

    The network is first built on the ``meta`` device (shapes, no memory), so a
    description of an absurdly large network costs nothing before it is refused,
    and building it draws nothing from torch's global random generator.
    """
    if not isinstance(config, dict):
        raise ValueError(f"{path} describes no valid network.")
    try:
        with torch.device("meta"):
            network = Denoiser(DenoiserConfig(**config))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path} describes no valid network: {err}") from None
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    given = {k: tuple(v.shape) for k, v in state.items()}
    problems = [f"missing {k}" for k in expected if k not in given]
    problems += [f"unexpected {k}" for k in given if k not in expected]
    problems += [
        f"{k} of shape {given[k]} instead of {shape}"
        for k, shape in expected.items()
        if k in given and given[k] != shape
    ]
    if problems:
        raise ValueError(
            f"The weights in {path} do not fit the network it describes: "
            + "; ".join(problems[:5])
            + "."
        )
    # Memory for the weights, then the weights themselves: no initialisation, so
    # torch's global random generator is left alone.
    network = network.to_empty(device="cpu")
    network.load_state_dict(state)
    return network.eval()
