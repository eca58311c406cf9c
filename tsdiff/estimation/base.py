"""Shared estimator base: parameter validation, device and seed resolution, training and
sampling through the engine, quantiles, save/load and pickling."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from tsdiff.data import (
    Scaler,
    WindowSource,
    fit_scaler,
)
from tsdiff.diffusion import (
    Process,
    check_pair,
    default_sampler,
    default_steps,
    make_process,
)
from tsdiff.engine import (
    BlockMeans,
    DiffusionModel,
    MaskPolicy,
    SamplingConfig,
    TrainingConfig,
    auto_batch_size,
    distributed,
)
from tsdiff.engine.latent import latent_lags
from tsdiff.estimation.lags import seasonal_lags
from tsdiff.estimation.persistence import (
    load_estimator,
    pickled_state,
    restore_model,
    restored_params,
    save_estimator,
)
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.validation import (
    DIFFUSION_PARAMETERS,
    check_latent_dim,
    check_observed,
    check_patch_length,
    validate_params,
)
from tsdiff.frames import SeriesArrays, from_long
from tsdiff.nn import AutoencoderConfig, Denoiser, DenoiserConfig

logger = logging.getLogger(__name__)


class DiffusionEstimator(BaseEstimator):
    """Behaviour shared by :class:`DiffusionImputer` and :class:`DiffusionForecaster`.

    Subclasses list every parameter in ``__init__`` (scikit-learn introspects it)
    and add their own entries to ``_parameter_constraints``.
    """

    _parameter_constraints: dict = DIFFUSION_PARAMETERS

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
        check_patch_length(name, self.patch_length, *self._window())
        check_latent_dim(name, self.latent_dim, self.patch_length, self.patch_width)
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

    def _window(self) -> tuple[int, str]:
        """Steps of the windows the network reads, and the parameters that set it."""
        raise NotImplementedError

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

    def _from_long(self, table: Any) -> Any:
        """A long table in the layout of fit (``id_col``, ``time_col``) as a
        ``(series id, time)`` panel; anything else as it is."""
        columns = getattr(self, "long_columns_", None)
        if columns is None or not isinstance(table, pd.DataFrame):
            return table
        if isinstance(table.index, pd.MultiIndex):
            return table  # already a panel
        return from_long(table, *columns)

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
        patterns: WindowSource | None = None,
        lags: tuple[int, ...] = (),
    ) -> None:
        """Build ``model_`` and train it on the training windows ``windows``.

        ``patterns`` are windows whose observed masks the historical strategies
        copy; None uses the training windows' own. ``lags`` are the network's
        seasonal lags (:meth:`_seasonal_lags`).
        """
        # Under torchrun every process trains on its own GPU (or CPU share).
        world = distributed.world(self._resolve_device())
        self.device_ = world.device(self._resolve_device())
        # Every process trains from the same seeds (those of rank 0).
        fit_seed, self.predict_seed_ = world.agree(list(self._draw_seeds()))
        # Initial weights follow random_state too, not torch's global generator.
        codec = self.latent_dim and AutoencoderConfig(
            self.patch_length, self.latent_dim, patch_width=self.patch_width
        )
        mask = MaskPolicy(self.target_strategy, prediction_length, patterns,
                          unconditional_share=self.unconditional_share)  # fmt: skip
        self.model_ = DiffusionModel.create(
            self._network_config(windows.n_features, windows.n_covariates, lags),
            self._process_spec(), seed=fit_seed, autoencoder=codec, mask=mask,
            **self._model_settings(),
        )  # fmt: skip
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
            ema_decay=self.ema_decay,
            max_grad_norm=self.max_grad_norm,
            mixed_precision=self.mixed_precision,
            compile=self.compile,
            checkpoint_path=self.checkpoint_path and os.fspath(self.checkpoint_path),
            max_fit_time=self.max_fit_time,
            verbose=bool(self.verbose),
        )
        try:
            self.history_ = self.model_.fit(
                windows, config, device=self.device_, seed=fit_seed, world=world
            )
        except BaseException:  # a fit that fails (or is interrupted) leaves nothing
            self._forget_fit()
            raise
        # The pattern windows served training only: the fitted model lets them go.
        self.model_.mask = dataclasses.replace(self.model_.mask, patterns=None)

    def _batch_size(self, windows: WindowSource, device: torch.device) -> int:
        """Training windows per optimiser step: ``batch_size``, or for ``"auto"``
        :func:`tsdiff.engine.auto_batch_size` of the window's size on ``device``."""
        if self.batch_size != "auto":
            return self.batch_size
        return auto_batch_size(windows.n_features, windows.length, device)

    def _seasonal_lags(
        self, arrays: SeriesArrays, window_length: int
    ) -> tuple[int, ...]:
        """The lags the network reads (see ``seasonal_lags``)."""
        return seasonal_lags(self.lags, arrays, window_length, type(self).__name__)

    def _network_config(
        self, n_features: int, n_covariates: int = 0, lags: tuple = ()
    ) -> DenoiserConfig:
        tokens = self.patch_length
        if self.latent_dim:  # the denoiser of the latent: a token per patch
            lags = latent_lags(lags, self.patch_length, self.latent_dim)
            tokens = self.latent_dim
            n_features = -(-n_features // self.patch_width)  # groups of variables
        return DenoiserConfig(
            n_features=n_features,
            n_covariates=n_covariates,
            lags=lags,
            interpolated_input=self.interpolated_input,
            patch_length=tokens,
            context_input=bool(self.latent_dim),
            time_kernel=self.time_kernel,
            n_layers=self.n_layers,
            n_channels=self.n_channels,
            n_heads=self.n_heads,
            time_embedding_dim=self.time_embedding_dim,
            feature_embedding_dim=self.feature_embedding_dim,
            diffusion_embedding_dim=self.diffusion_embedding_dim,
        )

    def _process_spec(self) -> dict:
        """The keyword arguments of :func:`tsdiff.diffusion.make_process`."""
        return dict(
            name=self.process,
            n_steps=self.n_diffusion_steps,
            schedule=self.schedule,
            beta_start=self.beta_start,
            beta_end=self.beta_end,
        )

    def _mask_spec(self) -> dict:
        """The training mask policy's strategy and prediction length."""
        return {
            "strategy": self.target_strategy,
            "prediction_length": getattr(self, "prediction_length", 0),
        }

    def _model_settings(self) -> dict:
        """The model's settings beside its network and process."""
        return dict(
            parameterization=self.parameterization,
            loss=self.loss,
            center_windows=self.center_windows,
            scale_windows=self.scale_windows,
        )

    # The fitted model's parts, under the names of the fitted attributes they had.

    def _model_part(self, name: str, part: str) -> Any:
        model = vars(self).get("model_")
        if model is None:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r} (it is "
                "set by fit)"
            )
        return getattr(model, part)

    @property
    def network_(self) -> Denoiser:
        """The fitted denoiser network (``model_.network``)."""
        return self._model_part("network_", "network")

    @property
    def process_(self) -> Process:
        """The noise process of the fit (``model_.process``)."""
        return self._model_part("process_", "process")

    @property
    def window_frame_(self) -> tuple[bool, bool]:
        """``(center_windows, scale_windows)`` of the fit: the frame its network
        models windows in."""
        return self._model_part("window_frame_", "window_frame")

    # -- sampling ---------------------------------------------------------------------

    def _sample_windows(
        self,
        windows: np.ndarray,
        cond_mask: np.ndarray,
        num_samples: int,
        seed: int,
        covariates: np.ndarray | None = None,
        means: BlockMeans | None = None,
        noise_std: np.ndarray | None = None,
    ) -> np.ndarray:
        """Samples of shape (S, N, L, K) for scaled windows of shape (N, L, K)
        (with ``covariates`` of shape (N, L, n_covariates) for a network that takes
        them, block ``means`` to hold, or the ``noise_std`` of noisy given values),
        after checking that the settings still describe the fitted model."""
        model = self.model_
        if make_process(**self._process_spec()) != model.process:
            raise ValueError(
                f"{type(self).__name__} was fitted with another diffusion process "
                "(process, n_diffusion_steps, schedule, beta_start or beta_end have "
                "changed since fit); set them back or fit again."
            )
        if self.parameterization != model.parameterization:
            raise ValueError(
                f"{type(self).__name__} was fitted with parameterization="
                f"{model.parameterization!r}, what its network predicts; set it "
                "back or fit again."
            )
        center, scale = model.window_frame
        if (self.center_windows, self.scale_windows) != (center, scale):
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
            mixed_precision=self.mixed_precision,
            compile=self.compile,
            verbose=bool(self.verbose),
        )
        return model.sample(
            windows, cond_mask, config,
            device=self.device_, seed=seed, covariates=covariates, means=means,
            noise_std=noise_std,
        )  # fmt: skip

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
        return pickled_state(dict(super().__getstate__()))  # may be the live dict

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(restored_params(type(self), state))
        restore_model(self)

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
        save_estimator(self, path)

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
        return load_estimator(cls, path, device)
