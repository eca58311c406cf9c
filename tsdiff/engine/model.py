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
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tsdiff.data import WindowSource, draw_cond_mask
from tsdiff.diffusion import Process, make_process
from tsdiff.engine.distributed import World
from tsdiff.engine.sampling import SamplingConfig, sample_network
from tsdiff.engine.training import MaskFn, TrainingConfig, fit_network
from tsdiff.nn import Denoiser, DenoiserConfig

__all__ = ["DiffusionModel", "MaskPolicy"]

_POOL = 1024
"""At most about this many windows of masks are kept for the historical strategies
to copy from."""


@dataclass(frozen=True)
class MaskPolicy:
    """Which values training hides from the network (the targets it learns to fill).

    Parameters
    ----------
    strategy : str, default="random"
        A key of :data:`tsdiff.data.MASK_STRATEGIES`.
    prediction_length : int, default=0
        For forecasting, the final steps of every window that are always hidden
        (see :func:`tsdiff.data.draw_cond_mask`).
    patterns : WindowSource or None, default=None
        Windows whose observed masks the ``"historical"`` and ``"mix"`` strategies
        copy; None copies those of the training windows themselves.

    Examples
    --------
    >>> import numpy as np
    >>> from tsdiff.data import WindowSource
    >>> from tsdiff.engine import MaskPolicy
    >>> observed = np.ones((6, 2), bool)  # (T, K)
    >>> patterns = WindowSource.from_series(observed, observed, [0, 2], 4)
    >>> policy = MaskPolicy("mix", patterns=patterns)
    >>> policy.context().startswith("('mix', 0, '")  # with the patterns' digest
    True
    """

    strategy: str = "random"
    prediction_length: int = 0
    patterns: WindowSource | None = field(default=None, compare=False, repr=False)

    def _pool(self, windows: WindowSource) -> Tensor:
        """Observed masks (M, K, L) that historical masks copy: about 1024 evenly
        spaced windows of ``patterns`` (or of ``windows``)."""
        source = self.patterns if self.patterns is not None else windows
        every = torch.arange(0, len(source), max(1, len(source) // _POOL))
        return source.batch(every)[1]

    def drawer(self, windows: WindowSource, device: torch.device) -> MaskFn:
        """``draw(observed_mask, generator) -> cond_mask`` on (B, K, L) bool tensors
        on ``device``, for training on ``windows``.

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from tsdiff.data import WindowSource
        >>> from tsdiff.engine import MaskPolicy
        >>> observed = np.ones((8, 2), bool)  # (T, K)
        >>> windows = WindowSource.from_series(np.zeros((8, 2)), observed, [0, 4], 4)
        >>> draw = MaskPolicy(prediction_length=1).drawer(windows, torch.device("cpu"))
        >>> cond = draw(torch.ones(3, 2, 4, dtype=torch.bool), torch.Generator())
        >>> cond.shape, bool(cond[..., -1].any())  # the last step is never given
        (torch.Size([3, 2, 4]), False)
        """
        pool = self._pool(windows).to(device)

        def draw(observed_mask: Tensor, generator: torch.Generator) -> Tensor:
            return draw_cond_mask(
                observed_mask,
                generator,
                strategy=self.strategy,
                prediction_length=self.prediction_length,
                patterns=pool,
            )

        return draw

    def context(self) -> str:
        """What a resumed checkpoint must match besides the data and settings: the
        strategy, the prediction length and a digest of the patterns.

        Examples
        --------
        >>> from tsdiff.engine import MaskPolicy
        >>> MaskPolicy("random", prediction_length=4).context()
        "('random', 4, None)"
        """
        digest = None
        if self.patterns is not None:  # of every pattern window (M, K, L), in turn
            hasher = hashlib.sha256()
            for start in range(0, len(self.patterns), _POOL):
                rows = torch.arange(start, min(start + _POOL, len(self.patterns)))
                hasher.update(self.patterns.batch(rows)[1].cpu().numpy().tobytes())
            digest = hasher.hexdigest()
        return repr((self.strategy, self.prediction_length, digest))


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
    ) -> None:
        self.network = network
        self.process_spec = dict(process)
        self.process: Process = make_process(**self.process_spec)
        self.parameterization = parameterization
        self.loss = loss
        self.window_frame = (bool(center_windows), bool(scale_windows))
        self.mask = mask or MaskPolicy()

    @classmethod
    def create(
        cls, config: DenoiserConfig, process: dict, *, seed: int, **settings: Any
    ) -> DiffusionModel:
        """A model with a new network whose initial weights follow ``seed`` (torch's
        global random generator is left alone); ``settings`` are the keyword
        arguments of the constructor.

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
        network.reset_parameters(torch.Generator().manual_seed(seed))
        return cls(network, process, **settings)

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
        return fit_network(
            self.network, self.process, windows, self.mask.drawer(windows, device),
            config, device=device, seed=seed, context=self.mask.context(),
            world=world,
        )  # fmt: skip

    def sample(
        self,
        windows: np.ndarray,
        cond_mask: np.ndarray,
        config: SamplingConfig,
        *,
        device: torch.device,
        seed: int,
        covariates: np.ndarray | None = None,
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
        >>> x = np.zeros((3, 6, 2), np.float32)  # (N, L, K)
        >>> given = np.zeros(x.shape, bool)
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
        return self

    # -- state ----------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything :meth:`from_state` needs, as plain values and CPU tensors:
        ``network_config``, ``weights``, ``process``, ``settings`` and ``mask``
        (the mask policy's strategy and prediction length; not its patterns).

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
        return {
            "network_config": asdict(self.network.config),
            "weights": {
                k: v.detach().cpu() for k, v in self.network.state_dict().items()
            },
            "process": dict(self.process_spec),
            "settings": {
                "parameterization": self.parameterization,
                "loss": self.loss,
                "center_windows": self.window_frame[0],
                "scale_windows": self.window_frame[1],
            },
            "mask": {
                "strategy": self.mask.strategy,
                "prediction_length": self.mask.prediction_length,
            },
        }

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
        return cls(network, state["process"], **state["settings"], mask=mask)


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
