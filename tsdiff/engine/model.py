"""The conditional diffusion model behind every estimator: a denoiser network, the noise
process it was trained with, the frame windows are modelled in and the mask policy
of training, with ``fit``, ``sample`` and a plain state to save and restore.

Arrays come in the data layer's time-major layout, windows (N, L, K), and leave in
it, samples (S, N, L, K); the network reads channels first, (B, K, L). The layout
changes in two documented places only: :meth:`tsdiff.data.WindowSource.batch`
gathers training batches channels first, and :meth:`DiffusionModel.sample`
transposes the windows it samples and the samples it returns (``_channels_first``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import numpy as np
import torch

from tsdiff.data import WindowSource
from tsdiff.diffusion import Process, make_process
from tsdiff.engine.constraints import BlockMeans
from tsdiff.engine.distributed import World
from tsdiff.engine.latent import AUTOENCODER_STEPS, train_autoencoder, weights_digest
from tsdiff.engine.mask_policy import MaskPolicy
from tsdiff.engine.sampling import SamplingConfig, sample_network
from tsdiff.engine.training import TrainingConfig, fit_network
from tsdiff.nn import Denoiser, DenoiserConfig
from tsdiff.nn.autoencoder import AutoencoderConfig, PatchAutoencoder

__all__ = ["DiffusionModel", "MaskPolicy"]

logger = logging.getLogger(__name__)


class DiffusionModel:
    """A denoiser, its noise process, window frame and training mask policy.

    Parameters
    ----------
    network : Denoiser
        The denoiser (its :class:`~tsdiff.nn.DenoiserConfig` fixes the variables,
        covariate channels and seasonal lags it reads).
    process : dict
        Keyword arguments of :func:`tsdiff.diffusion.make_process`: ``name``,
        ``n_steps``, ``schedule``, ``beta_start``, ``beta_end``.
    parameterization : {"epsilon", "v"}, default="epsilon"
        What the network predicts.
    loss : {"epsilon", "v"}, default="epsilon"
        What the training loss compares.
    center_windows, scale_windows : bool, default=True, False
        The frame of each window: minus the mean (and over the spread) of its given
        values, undone on the samples.
    mask : MaskPolicy, default=MaskPolicy()
        What training hides; :meth:`state_dict` keeps its strategy and prediction
        length, not its patterns.
    autoencoder : PatchAutoencoder or None, default=None
        For latent diffusion: the network then denoises the autoencoder's latent
        windows (:mod:`tsdiff.engine.latent`). :meth:`fit` trains it first, if
        it is not trained yet (two stages: the autoencoder, then the denoiser on
        its frozen latents, so the latent the denoiser learns does not move
        under it and cannot shrink towards the noise to cheapen the loss).

    Examples
    --------
    Train a tiny model on 8 windows of 2 variables and 12 steps, then forecast the
    last 4 steps of each window from the first 8:

    >>> import numpy as np
    >>> import torch
    >>> from tsdiff.data import WindowSource
    >>> from tsdiff.engine import (DiffusionModel, MaskPolicy, SamplingConfig,
    ...                            TrainingConfig)
    >>> from tsdiff.nn import DenoiserConfig
    >>> rng = np.random.default_rng(0)
    >>> series = np.sin(np.arange(40.0) / 2)[:, None] + rng.normal(0, 0.1, (40, 2))
    >>> observed = np.ones((40, 2), bool)
    >>> windows = WindowSource.from_series(series, observed, range(29), 12)
    >>> model = DiffusionModel.create(
    ...     DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1),
    ...     dict(name="ddpm", n_steps=10, schedule="quad", beta_start=1e-4,
    ...          beta_end=0.5),
    ...     seed=0, mask=MaskPolicy(prediction_length=4),
    ... )
    >>> cpu = torch.device("cpu")
    >>> history = model.fit(windows, TrainingConfig(n_epochs=1, steps_per_epoch=2,
    ...                     batch_size=4), device=cpu, seed=0)
    >>> x = np.stack([series[i : i + 12] for i in (0, 20)]).astype(np.float32)
    >>> given = np.zeros(x.shape, bool)
    >>> given[:, :8] = True
    >>> config = SamplingConfig(num_samples=3, sampler="dpmpp_2m", sampling_steps=5)
    >>> samples = model.sample(x, given, config, device=cpu, seed=0)
    >>> samples.shape  # (S, N, L, K)
    (3, 2, 12, 2)
    >>> bool((samples[:, given] == x[given]).all())  # given values exactly
    True
    >>> same = DiffusionModel.from_state(model.state_dict())
    >>> np.array_equal(same.sample(x, given, config, device=cpu, seed=0), samples)
    True
    """

    def __init__(
        self,
        network: Denoiser,
        process: dict,
        *,
        parameterization: str = "epsilon",
        loss: str = "epsilon",
        center_windows: bool = True,
        scale_windows: bool = False,
        mask: MaskPolicy | None = None,
        autoencoder: PatchAutoencoder | None = None,
    ) -> None:
        self.network = network
        self.autoencoder = autoencoder
        self.process_spec = dict(process)
        self.process: Process = make_process(**self.process_spec)
        self.parameterization = parameterization
        self.loss = loss
        self.window_frame = (bool(center_windows), bool(scale_windows))
        self.mask = mask or MaskPolicy()

    @classmethod
    def create(
        cls,
        config: DenoiserConfig,
        process: dict,
        *,
        seed: int,
        autoencoder: AutoencoderConfig | None = None,
        **settings: Any,
    ) -> DiffusionModel:
        """A model with a new network (and a new autoencoder, for a latent model)
        whose initial weights follow ``seed`` (torch's global random generator is
        left alone); ``settings`` are the other keyword arguments of the
        constructor.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.engine import DiffusionModel
        >>> from tsdiff.nn import DenoiserConfig
        >>> config = DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1)
        >>> process = dict(name="ddpm", n_steps=10, schedule="quad",
        ...                beta_start=1e-4, beta_end=0.5)
        >>> a = DiffusionModel.create(config, process, seed=0, scale_windows=True)
        >>> b = DiffusionModel.create(config, process, seed=0)
        >>> a.window_frame, b.window_frame
        ((True, True), (True, False))
        >>> all(torch.equal(p, q) for p, q in zip(a.network.parameters(),
        ...                                       b.network.parameters()))
        True
        """
        with torch.random.fork_rng(devices=[]):
            network = Denoiser(config)
            codec = None if autoencoder is None else PatchAutoencoder(autoencoder)
        network.reset_parameters(torch.Generator().manual_seed(seed))
        if codec is not None:
            codec.reset_parameters(torch.Generator().manual_seed(seed + 1))
        return cls(network, process, **settings, autoencoder=codec)

    # -- training and sampling ------------------------------------------------------

    def fit(
        self,
        windows: WindowSource,
        config: TrainingConfig,
        *,
        device: torch.device,
        seed: int,
        world: World | None = None,
    ) -> list[dict]:
        """Train the network in place on ``windows`` under the mask policy.

        Parameters
        ----------
        windows : WindowSource
            Scaled series (0 where not observed, with their observed masks) and the
            starts of the training windows.
        config : TrainingConfig
            Optimisation settings; its parameterization, loss and frame are
            replaced by the model's own.
        device : torch.device
        seed : int
            Seed of every random draw of training.
        world : World or None, default=None
            The processes of a distributed fit; None trains here alone.

        Returns
        -------
        list of dict
            One record per epoch (:func:`tsdiff.engine.fit_network`).

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from tsdiff.data import WindowSource
        >>> from tsdiff.engine import DiffusionModel, TrainingConfig
        >>> from tsdiff.nn import DenoiserConfig
        >>> model = DiffusionModel.create(
        ...     DenoiserConfig(n_features=1, n_layers=1, n_channels=8, n_heads=1),
        ...     dict(name="vp", n_steps=10, schedule="quad", beta_start=1e-4,
        ...          beta_end=0.5), seed=0)
        >>> series = np.sin(np.arange(30.0))[:, None]  # (T, K)
        >>> windows = WindowSource.from_series(series, series == series, range(23), 8)
        >>> history = model.fit(windows, TrainingConfig(n_epochs=2, steps_per_epoch=3,
        ...                     batch_size=4), device=torch.device("cpu"), seed=0)
        >>> [record["steps"] for record in history]
        [3, 6]
        """
        config = dataclasses.replace(
            config,
            parameterization=self.parameterization,
            loss=self.loss,
            center_windows=self.window_frame[0],
            scale_windows=self.window_frame[1],
        )
        draw, context = self.mask.drawer(windows, device), self.mask.context()
        codec = self.autoencoder
        if codec is not None:
            if not codec.trained:
                spent = self._fit_autoencoder(
                    windows, draw, config, device, seed, world
                )
                if config.max_fit_time is not None:  # one budget for both stages
                    left = max(config.max_fit_time - spent, 0.0)
                    config = dataclasses.replace(config, max_fit_time=left)
            context += weights_digest(codec)
        return fit_network(
            self.network, self.process, windows, draw, config, device=device,
            seed=seed, context=context, world=world, codec=codec,
        )  # fmt: skip

    def _fit_autoencoder(
        self,
        windows: WindowSource,
        draw: Any,
        config: TrainingConfig,
        device: torch.device,
        seed: int,
        world: World | None,
    ) -> float:
        """Stage one of a latent model: the autoencoder, for ``AUTOENCODER_STEPS``
        steps (as many as the fit takes, if fewer, but at least 50); returns its
        seconds."""
        per_epoch = config.steps_per_epoch or math.ceil(
            len(windows) / config.batch_size
        )
        steps = min(AUTOENCODER_STEPS, max(50, config.n_epochs * per_epoch))
        record = train_autoencoder(
            self.autoencoder, windows, draw, steps=steps,
            batch_size=config.batch_size, frame=self.window_frame,
            device=device, seed=seed + 3, world=world,
        )  # fmt: skip
        logger.info("autoencoder trained: %s", record[0])
        return record[0]["seconds"]

    def sample(
        self,
        windows: np.ndarray,
        cond_mask: np.ndarray,
        config: SamplingConfig,
        *,
        device: torch.device,
        seed: int,
        covariates: np.ndarray | None = None,
        means: BlockMeans | None = None,
        noise_std: np.ndarray | None = None,
    ) -> np.ndarray:
        """Draw samples of every window given its values at ``cond_mask``.

        Parameters
        ----------
        windows : ndarray of shape (N, L, K)
            Scaled windows; values outside ``cond_mask`` are not read.
        cond_mask : ndarray of shape (N, L, K), bool
            True where a value is given.
        config : SamplingConfig
            Samples, sampler and batching; its parameterization and frame are
            replaced by the model's own.
        device : torch.device
        seed : int
            Seed of the sampling noise: equal seeds give equal samples.
        covariates : ndarray of shape (N, L, C), optional
            Covariates of each window, for a network that reads them.
        means, noise_std : BlockMeans, ndarray of shape (K,) or None
            Known block means, laid out (N, L, K), or the noise of the given
            values, for denoising (see :func:`sample_network`).

        Returns
        -------
        ndarray of shape (S, N, L, K), float32
            Samples; given entries equal ``windows`` exactly.

        Examples
        --------
        An untrained model samples too (noise, of the right shape):

        >>> import numpy as np
        >>> import torch
        >>> from tsdiff.engine import DiffusionModel, SamplingConfig
        >>> from tsdiff.nn import DenoiserConfig
        >>> model = DiffusionModel.create(
        ...     DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1),
        ...     dict(name="ddpm", n_steps=10, schedule="quad", beta_start=1e-4,
        ...          beta_end=0.5), seed=0)
        >>> x, given = np.zeros((3, 6, 2), np.float32), np.zeros((3, 6, 2), bool)
        >>> config = SamplingConfig(num_samples=2, sampler="ddim", sampling_steps=4)
        >>> model.sample(x, given, config, device=torch.device("cpu"), seed=0).shape
        (2, 3, 6, 2)
        """
        config = dataclasses.replace(
            config,
            parameterization=self.parameterization,
            center_windows=self.window_frame[0],
            scale_windows=self.window_frame[1],
        )
        samples = sample_network(
            self.network, self.process,
            _channels_first(windows, np.float32), _channels_first(cond_mask, bool),
            config, device=device, seed=seed,
            covariates=None if covariates is None
            else _channels_first(covariates, np.float32),
            codec=self.autoencoder, noise_std=noise_std,
            means=None if means is None else means.transposed(),
        )  # fmt: skip
        return samples.transpose(0, 1, 3, 2)  # (S, N, K, L) -> (S, N, L, K)

    def to(self, device: torch.device) -> DiffusionModel:
        """Move the network to ``device``; returns the model.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.engine import DiffusionModel
        >>> from tsdiff.nn import DenoiserConfig
        >>> model = DiffusionModel.create(
        ...     DenoiserConfig(n_features=1, n_layers=1, n_channels=8, n_heads=1),
        ...     dict(name="ve", n_steps=10, schedule="quad", beta_start=1e-4,
        ...          beta_end=0.5), seed=0)
        >>> model.to(torch.device("cpu")) is model
        True
        """
        self.network.to(device)
        if self.autoencoder is not None:
            self.autoencoder.to(device)
        return self

    # -- state ----------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything :meth:`from_state` needs, as plain values and CPU tensors:
        ``network_config``, ``weights``, ``process``, ``settings`` and ``mask``
        (the mask policy's settings, :meth:`MaskPolicy.state`; not its patterns).

        Examples
        --------
        >>> from tsdiff.engine import DiffusionModel
        >>> from tsdiff.nn import DenoiserConfig
        >>> model = DiffusionModel.create(
        ...     DenoiserConfig(n_features=1, n_layers=1, n_channels=8, n_heads=1),
        ...     dict(name="ddpm", n_steps=10, schedule="quad", beta_start=1e-4,
        ...          beta_end=0.5), seed=0, parameterization="v")
        >>> state = model.state_dict()
        >>> sorted(state), state["settings"]["parameterization"]
        (['mask', 'network_config', 'process', 'settings', 'weights'], 'v')
        """
        state = {
            "network_config": dataclasses.asdict(self.network.config),
            "weights": _cpu(self.network.state_dict()),
            "process": dict(self.process_spec),
            "settings": {
                "parameterization": self.parameterization,
                "loss": self.loss,
                "center_windows": self.window_frame[0],
                "scale_windows": self.window_frame[1],
            },
            "mask": self.mask.state(),
        }
        if self.autoencoder is not None:
            state["autoencoder"] = {
                "config": dataclasses.asdict(self.autoencoder.config),
                "weights": _cpu(self.autoencoder.state_dict()),
            }
        return state

    @classmethod
    def from_state(cls, state: dict, source: Any = "the model state") -> DiffusionModel:
        """The model of :meth:`state_dict`, on the CPU.

        The weights are checked against the network they describe before any memory
        is spent on them; ``source`` names the state in the errors (e.g. a path).

        Raises
        ------
        ValueError
            When the network description is invalid or the weights do not fit it.

        Examples
        --------
        >>> import torch
        >>> from tsdiff.engine import DiffusionModel
        >>> from tsdiff.nn import DenoiserConfig
        >>> model = DiffusionModel.create(
        ...     DenoiserConfig(n_features=1, n_layers=1, n_channels=8, n_heads=1),
        ...     dict(name="ddpm", n_steps=10, schedule="quad", beta_start=1e-4,
        ...          beta_end=0.5), seed=0)
        >>> state = model.state_dict()
        >>> same = DiffusionModel.from_state(state)
        >>> all(torch.equal(v, same.network.state_dict()[k])
        ...     for k, v in state["weights"].items())
        True
        >>> state["weights"].pop("output_projection.weight") is not None
        True
        >>> DiffusionModel.from_state(state, "my state")
        Traceback (most recent call last):
        ...
        ValueError: The weights in my state do not fit the network it describes: ...
        """
        network = rebuild_network(state["network_config"], state["weights"], source)
        mask = MaskPolicy(**state["mask"]) if "mask" in state else None
        codec = None
        if "autoencoder" in state:
            codec = rebuild_autoencoder(state["autoencoder"], source)
        return cls(
            network, state["process"], **state["settings"], mask=mask,
            autoencoder=codec,
        )  # fmt: skip


def _cpu(weights: dict) -> dict:
    """Detached CPU copies of a state dict's tensors."""
    return {k: v.detach().cpu() for k, v in weights.items()}


def _channels_first(array: np.ndarray, dtype: Any) -> np.ndarray:
    """(N, L, C) windows as the network reads them: contiguous (N, C, L)."""
    return np.ascontiguousarray(np.asarray(array).transpose(0, 2, 1), dtype=dtype)


def rebuild_network(config: Any, weights: dict, source: Any) -> Denoiser:
    """The described network on the CPU, after checking that ``weights`` fit it.

    The network is first built on the ``meta`` device (shapes, no memory), so a
    description of an absurdly large network costs nothing before it is refused,
    and building it draws nothing from torch's global random generator.

    Raises
    ------
    ValueError
        Naming ``source``, when ``config`` describes no valid network or the
        weights miss entries, add some or differ in shape.
    """
    if not isinstance(config, dict):
        raise ValueError(f"{source} describes no valid network.")
    try:
        with torch.device("meta"):
            network = Denoiser(DenoiserConfig(**config))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{source} describes no valid network: {err}") from None
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    given = {k: tuple(v.shape) for k, v in weights.items()}
    problems = [f"missing {k}" for k in expected if k not in given]
    problems += [f"unexpected {k}" for k in given if k not in expected]
    problems += [
        f"{k} of shape {given[k]} instead of {shape}"
        for k, shape in expected.items()
        if k in given and given[k] != shape
    ]
    if problems:
        raise ValueError(
            f"The weights in {source} do not fit the network it describes: "
            + "; ".join(problems[:5])
            + "."
        )
    # Memory for the weights, then the weights themselves: no initialisation, so
    # torch's global random generator is left alone.
    network = network.to_empty(device="cpu")
    network.load_state_dict(weights)
    return network.eval()


def rebuild_autoencoder(state: Any, source: Any) -> PatchAutoencoder:
    """The autoencoder of a model state (``{"config", "weights"}``) on the CPU, built
    without drawing from torch's global random generator; a ``ValueError`` naming
    ``source`` when the state describes none or its weights do not fit it."""
    try:
        with torch.device("meta"):
            codec = PatchAutoencoder(AutoencoderConfig(**state["config"]))
        codec = codec.to_empty(device="cpu")
        codec.load_state_dict(state["weights"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{source} describes no valid autoencoder: {err}") from None
    return codec.eval()
