"""Shared estimator base: parameter validation, device and seed resolution, training and
sampling through the engine, quantiles, save/load and pickling."""

from __future__ import annotations

import hashlib
import logging
import numbers
import os
import re
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
from tsdiff._validation import InstanceOf, Interval, Options, validate_params
from tsdiff.data import MASK_STRATEGIES, Scaler, draw_cond_mask, fit_scaler
from tsdiff.diffusion import PARAMETERIZATIONS, SAMPLERS, SCHEDULES, NoiseSchedule
from tsdiff.engine import SamplingConfig, TrainingConfig, fit_network, sample_network
from tsdiff.frames import SeriesArrays, interval_frame, quantile_frame
from tsdiff.nn import Denoiser, DenoiserConfig

logger = logging.getLogger(__name__)

_QUANTILE_METHODS = (
    "linear", "inverted_cdf", "averaged_inverted_cdf", "closest_observation",
    "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
    "normal_unbiased", "lower", "higher", "midpoint", "nearest",
)  # fmt: skip


class _DeviceSpec:
    """Accepts "auto", "cpu", "cuda" and "cuda:N"."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and bool(
            re.fullmatch(r"auto|cpu|cuda(:\d+)?", value)
        )

    def __str__(self) -> str:
        return "'auto', 'cpu', 'cuda' or 'cuda:N'"


class _Levels:
    """Accepts a non-empty tuple or list of distinct floats in (0, 1)."""

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, (tuple, list)) or not value:
            return False
        ok = all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 < v < 1
            for v in value
        )
        return ok and len(set(value)) == len(value)

    def __str__(self) -> str:
        return "a non-empty tuple of distinct floats in (0, 1)"


_COMMON_PARAMETERS_DOC = """\
    n_layers, n_channels, n_heads : int, default=4, 64, 8
        Residual blocks, channel width and attention heads of the denoiser
        (``n_heads`` must divide ``n_channels``).
    time_embedding_dim, feature_embedding_dim, diffusion_embedding_dim : int
        Sizes of the time-position, variable and noise-level embeddings
        (defaults 128, 16, 128; the first and last must be even).
    n_diffusion_steps : int, default=50
        Steps of the discrete noise process.
    schedule : {"quad", "linear", "cosine"}, default="quad"
        Named noise schedule; "quad" is CSDI's.
    beta_start, beta_end : float, default=1e-4, 0.5
        First and last noise variance of "quad" and "linear".
    parameterization : {"v", "epsilon"}, default="v"
        How the network output is read: "epsilon" predicts the noise (CSDI);
        "v" predicts the velocity (Salimans & Ho 2022), read as a noise prediction
        that does not amplify network error at high noise, which keeps sampling
        stable. Both train on CSDI's noise-prediction loss.
    target_strategy : {"random", "historical", "mix", "block"}, default="random"
        Training mask policy: which observed values are hidden and learned.
    scaler : {"standard", "robust", "none"}, default="standard"
        Per-variable scaling fitted on observed values only.
    n_epochs : int, default=100
        Passes over all training windows (every start position).
    batch_size : int, default=32
        Training windows per optimiser step.
    learning_rate, weight_decay : float, default=1e-3, 1e-6
        Adam settings; the rate drops tenfold at 75 % and 90 % of the epochs.
    validation_fraction : float, default=0.0
        Share of the (latest) windows held out to monitor the loss; the best epoch's
        weights are kept.
    early_stopping_patience : int or None, default=None
        Stop after this many epochs without improvement of the monitored loss.
    ema_decay : float or None, default=None
        Keep an exponential moving average of the weights with this decay per
        optimiser step (e.g. 0.999) and predict with it; None uses the last weights.
    mixed_precision : bool, default=True
        Run the network in bfloat16 autocast on CUDA devices; ignored on CPU.
    checkpoint_path : str, path or None, default=None
        File that holds the whole training state after every epoch. A fit that
        finds a checkpoint of the same data, settings and seed resumes from it and
        trains exactly as if never interrupted; one of another fit is an error.
    max_fit_time : float or None, default=None
        Stop training after the first epoch that ends past this many seconds
        (with ``checkpoint_path``, fit again later to continue).
    num_samples : int, default=100
        Monte-Carlo samples per window behind every median, quantile and interval.
    sampler : {"ddpm", "ddim"}, default="ddpm"
        Reverse-process sampler.
    sampling_steps : int or None, default=None
        Network evaluations per sample; None uses all ``n_diffusion_steps``.
    eta : float, default=0.0
        DDIM stochasticity (0 deterministic, 1 equals DDPM); ignored by "ddpm".
    quantile_levels : tuple of float, default=(0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
        Default levels of :meth:`predict_quantiles`.
    quantile_method : str, default="linear"
        ``numpy.quantile`` method used on the samples.
    freq : str or None, default=None
        Frequency of a datetime index; inferred when None.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where to train and sample; "auto" takes a GPU when there is one.
    predict_batch_size : int or "auto", default="auto"
        Window-samples per network call when sampling; halved on GPU out-of-memory.
    random_state : int, RandomState or None, default=None
        Seeds training and sampling; equal seeds give equal results on one device.
    verbose : bool, default=False
        Show progress bars."""


def share_docs(doc: str) -> str:
    """Insert the parameters both estimators share into a class docstring."""
    return doc.replace("    <common parameters>\n", _COMMON_PARAMETERS_DOC + "\n")


def _store_params(estimator: Any, arguments: dict) -> None:
    """Store ``__init__`` arguments verbatim, as scikit-learn requires."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def _positive_int() -> Interval:
    return Interval(int, 1, None)


class _DiffusionEstimator(BaseEstimator):
    """Behaviour shared by :class:`DiffusionImputer` and :class:`DiffusionForecaster`.

    Subclasses list every parameter in ``__init__`` (scikit-learn introspects it)
    and add their own entries to ``_parameter_constraints``.
    """

    _parameter_constraints: dict = {
        "n_layers": [_positive_int()],
        "n_channels": [_positive_int()],
        "n_heads": [_positive_int()],
        "time_embedding_dim": [Interval(int, 2, None)],
        "feature_embedding_dim": [_positive_int()],
        "diffusion_embedding_dim": [Interval(int, 2, None)],
        "n_diffusion_steps": [_positive_int()],
        "schedule": [Options(tuple(SCHEDULES))],
        "beta_start": [Interval(float, 0, 1, "neither")],
        "beta_end": [Interval(float, 0, 1, "neither")],
        "parameterization": [Options(PARAMETERIZATIONS)],
        "target_strategy": [Options(tuple(MASK_STRATEGIES))],
        "scaler": [Options(("standard", "robust", "none"))],
        "n_epochs": [_positive_int()],
        "batch_size": [_positive_int()],
        "learning_rate": [Interval(float, 0, None, "neither")],
        "weight_decay": [Interval(float, 0, None, "left")],
        "validation_fraction": [Interval(float, 0, 1, "left")],
        "early_stopping_patience": [None, _positive_int()],
        "ema_decay": [None, Interval(float, 0, 1, "neither")],
        "mixed_precision": [InstanceOf((bool,), "a bool")],
        "checkpoint_path": [None, InstanceOf((str, os.PathLike), "a path")],
        "max_fit_time": [None, Interval(float, 0, None, "neither")],
        "num_samples": [_positive_int()],
        "sampler": [Options(tuple(SAMPLERS))],
        "sampling_steps": [None, _positive_int()],
        "eta": [Interval(float, 0, 1)],
        "quantile_levels": [_Levels()],
        "quantile_method": [Options(_QUANTILE_METHODS)],
        "freq": [None, InstanceOf((str, pd.offsets.BaseOffset), "a frequency string")],
        "device": [_DeviceSpec()],
        "predict_batch_size": [Options(("auto",)), _positive_int()],
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
        if (
            self.sampling_steps is not None
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

    def _draw_seeds(self) -> tuple[int, int]:
        """Seeds for training and for prediction, both derived from ``random_state``."""
        rng = check_random_state(self.random_state)
        fit_seed, predict_seed = rng.randint(0, 2**31 - 1, size=2)
        return int(fit_seed), int(predict_seed)

    def _set_feature_info(self, arrays: SeriesArrays) -> None:
        """Store the variables seen in fit, following scikit-learn's conventions."""
        self.columns_ = arrays.columns
        self.n_features_in_ = len(arrays.columns)
        names = list(arrays.columns)
        if arrays.kind == "frame" and all(isinstance(c, str) for c in names):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _scaled(self, arrays: SeriesArrays) -> np.ndarray:
        """Scaled values of shape (T, K), zero where not observed."""
        scaled = self.scaler_.transform(arrays.values)
        return np.where(arrays.observed_mask, scaled, 0.0)

    # -- training ---------------------------------------------------------------------

    def _fit_scaler(self, values: np.ndarray, observed: np.ndarray, columns) -> Scaler:
        empty = [c for c, obs in zip(columns, observed.T, strict=True) if not obs.any()]
        if empty:
            raise ValueError(
                f"Columns {empty} have no observed value; a variable needs at least "
                "one value to be modelled (drop it, or fill it before fitting)."
            )
        return fit_scaler(values, observed, method=self.scaler)

    def _train(
        self,
        windows: np.ndarray,
        observed: np.ndarray,
        n_features: int,
        prediction_length: int,
        patterns: np.ndarray | None = None,
    ) -> None:
        """Build and train ``network_`` on windows of shape (N, L, K).

        ``patterns`` (bool, shape (M, L, K)) are the missingness patterns that
        historical masks copy; None uses the training windows' own.
        """
        self.device_ = self._resolve_device()
        fit_seed, self.predict_seed_ = self._draw_seeds()
        with torch.random.fork_rng(devices=[]):  # leave torch's global RNG untouched
            self.network_ = Denoiser(self._network_config(n_features))
        # Initial weights follow random_state too, not torch's global generator.
        self.network_.reset_parameters(torch.Generator().manual_seed(fit_seed))
        self.schedule_ = self._schedule()
        x0 = np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32)
        obs = np.ascontiguousarray(observed.transpose(0, 2, 1))  # (N, K, L)
        # Historical masks borrow the missingness of real windows.
        if patterns is not None:
            source = np.ascontiguousarray(patterns.transpose(0, 2, 1))  # (M, K, L)
        else:
            source = obs
        pool = torch.from_numpy(source[:: max(1, len(source) // 1024)]).to(self.device_)

        def draw_mask(observed_mask, generator):
            return draw_cond_mask(
                observed_mask,
                generator,
                strategy=self.target_strategy,
                prediction_length=prediction_length,
                patterns=pool,
            )

        config = TrainingConfig(
            n_epochs=self.n_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            validation_fraction=self.validation_fraction,
            early_stopping_patience=self.early_stopping_patience,
            parameterization=self.parameterization,
            ema_decay=self.ema_decay,
            mixed_precision=self.mixed_precision,
            checkpoint_path=self.checkpoint_path and os.fspath(self.checkpoint_path),
            max_fit_time=self.max_fit_time,
            verbose=bool(self.verbose),
        )
        # A resumed checkpoint must also match the mask policy and its patterns.
        digest = None if patterns is None else hashlib.sha256(source.tobytes())
        context = repr(
            (self.target_strategy, prediction_length, digest and digest.hexdigest())
        )
        self.history_ = fit_network(
            self.network_, self.schedule_, x0, obs, draw_mask, config,
            device=self.device_, seed=fit_seed, context=context,
        )  # fmt: skip

    def _network_config(self, n_features: int) -> DenoiserConfig:
        return DenoiserConfig(
            n_features=n_features,
            n_layers=self.n_layers,
            n_channels=self.n_channels,
            n_heads=self.n_heads,
            time_embedding_dim=self.time_embedding_dim,
            feature_embedding_dim=self.feature_embedding_dim,
            diffusion_embedding_dim=self.diffusion_embedding_dim,
        )

    def _schedule(self) -> NoiseSchedule:
        return NoiseSchedule.from_name(
            self.schedule, self.n_diffusion_steps, self.beta_start, self.beta_end
        )

    # -- sampling ---------------------------------------------------------------------

    def _sample_windows(
        self,
        windows: np.ndarray,
        cond_mask: np.ndarray,
        num_samples: int,
        seed: int,
    ) -> np.ndarray:
        """Samples of shape (S, N, L, K) for scaled windows of shape (N, L, K)."""
        batch = None if self.predict_batch_size == "auto" else self.predict_batch_size
        config = SamplingConfig(
            num_samples=num_samples,
            sampler=self.sampler,
            sampling_steps=self.sampling_steps,
            eta=self.eta,
            batch_size=batch,
            parameterization=self.parameterization,
            mixed_precision=self.mixed_precision,
            verbose=bool(self.verbose),
        )
        x_cond = np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32)
        mask = np.ascontiguousarray(cond_mask.transpose(0, 2, 1))  # (N, K, L)
        samples = sample_network(
            self.network_, self.schedule_, x_cond, mask, config,
            device=self.device_, seed=seed,
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
        levels = np.asarray(alpha, dtype=np.float64)
        order = np.argsort(levels)
        q = np.quantile(samples, levels[order], axis=0, method=self.quantile_method)
        q = np.maximum.accumulate(q, axis=0)
        return q[np.argsort(order)]

    def _quantile_frame(self, samples: np.ndarray, alpha: tuple, index, columns):
        """Quantile frame from samples of shape (S, T, K)."""
        return quantile_frame(self._quantiles(samples, alpha), index, columns, alpha)

    def _interval_frame(self, samples: np.ndarray, coverage: tuple, index, columns):
        """Interval frame from samples of shape (S, T, K)."""
        lower = [(1 - c) / 2 for c in coverage]
        upper = [(1 + c) / 2 for c in coverage]
        q = self._quantiles(samples, (*lower, *upper))  # (2C, T, K)
        n_c = len(coverage)
        return interval_frame(q[:n_c], q[n_c:], index, columns, coverage)

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
        super().__setstate__(state)
        if spec is not None:
            self.device_ = _available(self.device_)
            self.network_ = _rebuild_network(*spec, self.device_)

    def save(self, path: str | Path) -> None:
        """Save the fitted estimator into the folder ``path``.

        The folder receives ``config.json`` (parameters and fitted metadata) and
        ``tensors.pt`` (network weights and arrays). Load it with :meth:`load`.

        Parameters
        ----------
        path : str or Path
            Folder to write (created if missing).
        """
        check_is_fitted(self)
        tensors: dict[str, torch.Tensor] = {}
        fitted = {
            k: _persist.encode(v, k, tensors)
            for k, v in vars(self).items()
            if k.endswith("_")
            and not k.startswith("_")
            and k != "network_"
            and k != "schedule_"
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
        """
        document, tensors = _persist.read(path)
        if document["estimator"] != cls.__name__:
            raise ValueError(
                f"{path} holds a {document['estimator']}, not a {cls.__name__}."
            )
        params = _persist.decode(document["params"], tensors)
        # JSON has no tuples; tuple-valued parameters come back as lists.
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        est = cls(**{**params, "device": device})
        est._validate_params()
        for key, value in document["fitted"].items():
            setattr(est, key, _persist.decode(value, tensors))
        weights = {
            k.removeprefix("network."): v
            for k, v in tensors.items()
            if k.startswith("network.")
        }
        est.device_ = est._resolve_device()
        est.network_ = _rebuild_network(
            document["network_config"], weights, est.device_
        )
        est.schedule_ = est._schedule()
        return est


def _available(device: torch.device) -> torch.device:
    if device.type == "cuda" and not torch.cuda.is_available():
        logger.warning("CUDA is not available; the network is placed on the CPU.")
        return torch.device("cpu")
    return device


def _rebuild_network(config: dict, state: dict, device: torch.device) -> Denoiser:
    network = Denoiser(DenoiserConfig(**config))
    network.load_state_dict(state)
    return network.to(device).eval()
