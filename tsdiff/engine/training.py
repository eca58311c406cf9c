"""Training of a denoiser on windows with CSDI's masked noise-prediction objective:
Adam with CSDI's learning-rate steps, an optional moving average of the weights, a
chronological validation split, early stopping, a time limit and resumable
checkpoints."""

from __future__ import annotations

import copy
import dataclasses
import gc
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from tsdiff.diffusion import Process, eps_loss
from tsdiff.engine._denoise import compiled, make_denoise, window_frame
from tsdiff.engine._state import TrainState
from tsdiff.engine.distributed import World
from tsdiff.nn import Denoiser

__all__ = ["TrainingConfig", "fit_network"]

logger = logging.getLogger(__name__)

MaskFn = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings of :func:`fit_network` (meanings: see the estimators).

    Examples
    --------
    >>> import dataclasses
    >>> from tsdiff.engine import TrainingConfig
    >>> config = TrainingConfig(n_epochs=20, batch_size=16)
    >>> config.learning_rate, config.validation_fraction, config.ema_decay
    (0.001, 0.0, None)
    >>> config.n_epochs = 50
    Traceback (most recent call last):
    ...
    dataclasses.FrozenInstanceError: cannot assign to field 'n_epochs'
    >>> dataclasses.replace(config, n_epochs=50).n_epochs
    50
    """

    n_epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-6
    validation_fraction: float = 0.0
    early_stopping_patience: int | None = None
    parameterization: str = "epsilon"
    loss: str = "epsilon"
    center_windows: bool = True
    scale_windows: bool = False
    ema_decay: float | None = None
    max_grad_norm: float | None = 1.0
    mixed_precision: bool = True
    compile: bool = False
    checkpoint_path: str | None = None
    max_fit_time: float | None = None
    verbose: bool = False


def _batch_loss(
    network: Denoiser,
    schedule: Process,
    x0: torch.Tensor,
    observed: torch.Tensor,
    draw_mask: MaskFn,
    generator: torch.Generator,
    config: TrainingConfig,
    covariates: torch.Tensor | None = None,
) -> torch.Tensor:
    cond_mask = draw_mask(observed, generator)  # (B, K, L) bool
    target_mask = observed & ~cond_mask
    offset, scale = window_frame(
        x0, cond_mask, config.center_windows, config.scale_windows
    )  # (B, K, 1) each
    # Never-observed entries stay 0 in the frame too: moved by the frame they would
    # enter the network as large made-up values (up to the offset over the floor).
    x0 = torch.where(observed, (x0 - offset) / scale, torch.zeros_like(x0))
    x_cond = torch.where(cond_mask, x0, torch.zeros_like(x0))
    denoise = make_denoise(
        network,
        schedule,
        x_cond,
        cond_mask,
        config.parameterization,
        cache_side=False,
        mixed_precision=config.mixed_precision,
        covariates=covariates,
    )
    return eps_loss(
        denoise, schedule, x0, target_mask, loss=config.loss, generator=generator
    )


def _split(n: int, fraction: float) -> tuple:
    """Chronological split: the last ``fraction`` of the windows validate."""
    n_val = int(round(n * fraction))
    if fraction > 0 and (n_val < 1 or n_val >= n):
        raise ValueError(
            f"validation_fraction={fraction} leaves {n - n_val} training and {n_val} "
            f"validation windows out of {n}; use more data or another fraction."
        )
    return torch.arange(n - n_val), torch.arange(n - n_val, n)


def fit_network(
    network: Denoiser,
    schedule: Process,
    x0: np.ndarray,
    observed_mask: np.ndarray,
    draw_mask: MaskFn,
    config: TrainingConfig,
    *,
    device: torch.device,
    seed: int,
    context: str = "",
    world: World | None = None,
    covariates: np.ndarray | None = None,
) -> list[dict]:
    """Train ``network`` in place on windows with CSDI's masked epsilon objective.

    Parameters
    ----------
    network : Denoiser
        The denoiser; moved to ``device``.
    schedule : NoiseSchedule or SDEProcess
        The forward process.
    x0 : ndarray of shape (N, K, L), float32
        Scaled windows; values at unobserved entries are ignored.
    observed_mask : ndarray of shape (N, K, L), bool
        True where the window has a value.
    draw_mask : callable
        ``draw_mask(observed_mask, generator) -> cond_mask`` on (B, K, L) bool tensors:
        the training mask policy.
    config : TrainingConfig
        Optimisation settings.
    device : torch.device
        Where to train.
    seed : int
        Seed of the generators for shuffling, masks, steps and noise.
    context : str, default=""
        Anything else a resumed checkpoint must match (e.g. the mask policy).
    world : World or None, default=None
        The training processes of a distributed fit (see
        :mod:`tsdiff.engine.distributed`); None trains in this process alone.
    covariates : ndarray of shape (N, n_covariates, L), float32, optional
        Covariates of each window, for a network that takes them.

    Returns
    -------
    list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``learning_rate``,
        ``seconds`` (wall time), ``device`` (where the epoch ran: a fit resumed
        elsewhere says so) and, with a validation split, ``val_loss``; the
        last record of a fit cut short by ``max_fit_time`` has ``stopped``. With a
        validation split the weights of the best epoch are restored.

    Notes
    -----
    With ``config.checkpoint_path`` the whole training state is saved after every
    epoch and a later call with the same settings, data and seed resumes from it
    (a finished fit resumes to its end at once). ``config.max_fit_time`` ends the
    fit after the first epoch that finishes past that many seconds.

    In a distributed fit each process trains on its shard of every epoch's windows
    with ``config.batch_size`` windows per step (so one step of N processes sees N
    times as many), gradients are averaged across processes, the recorded losses
    are those of all processes, rank 0 alone writes checkpoints, and all stop
    together. Every process ends with the same weights.

    Examples
    --------
    One epoch of a tiny network on 8 windows of 2 variables and 12 steps; each
    batch conditions on a random half of the observed values:

    >>> import numpy as np
    >>> import torch
    >>> from tsdiff.diffusion import NoiseSchedule
    >>> from tsdiff.engine import TrainingConfig, fit_network
    >>> from tsdiff.nn import Denoiser, DenoiserConfig
    >>> rng = np.random.default_rng(0)
    >>> x0 = np.sin(np.arange(12.0) / 2) + 0.1 * rng.standard_normal((8, 2, 12))
    >>> x0 = x0.astype(np.float32)  # (N, K, L)
    >>> def draw_mask(observed, generator):
    ...     keep = torch.rand(observed.shape, generator=generator)
    ...     return observed & (keep < 0.5)
    >>> config = DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1)
    >>> net = Denoiser(config)
    >>> net.reset_parameters(torch.Generator().manual_seed(0))
    >>> history = fit_network(
    ...     net, NoiseSchedule.from_name("quad", 10), x0, np.isfinite(x0), draw_mask,
    ...     TrainingConfig(n_epochs=1, batch_size=4), device=torch.device("cpu"),
    ...     seed=0,
    ... )
    >>> len(history), sorted(history[0])
    (1, ['device', 'epoch', 'learning_rate', 'seconds', 'train_loss'])
    >>> history[0]["device"], bool(np.isfinite(history[0]["train_loss"]))
    ('cpu', True)

    The output projection, zero at initialisation, has been trained:

    >>> bool((net.output_projection.weight != 0).any())
    True
    """
    world = world or World()
    network.to(device)
    x0_t = _to_device(torch.from_numpy(np.nan_to_num(x0, nan=0.0)).float(), device)
    obs_t = _to_device(torch.from_numpy(observed_mask), device)
    cov_t = None
    if covariates is not None:
        cov_t = _to_device(torch.from_numpy(covariates).float(), device)
    state = _initial_state(network, config, device, seed, world.rank)
    train_idx, val_idx = _split(len(x0_t), config.validation_fraction)
    if len(train_idx) < world.size:
        raise ValueError(
            f"{len(train_idx)} training windows cannot be shared out among "
            f"{world.size} processes; use fewer processes or more data."
        )
    fingerprint = _fingerprint(network, schedule, config, x0, observed_mask, seed)
    fingerprint += context
    if config.checkpoint_path is not None:
        resumed = state.resume(config.checkpoint_path, fingerprint)
        if resumed and world.rank > 0:  # the file holds rank 0's noise stream
            state.noise_gen.manual_seed(_noise_seed(seed, world.rank, state.history))
    # A window of one variable (or one step) skips an attention layer, whose
    # parameters then get no gradient: DDP must be told to expect that.
    skips_layers = 1 in x0.shape[1:]
    parallel = _data_parallel(network, world, device, skips_layers)
    model = compiled(parallel, config.compile)
    started = time.monotonic()
    epochs = tqdm(
        range(len(state.history), config.n_epochs),
        disable=not config.verbose,
        desc="fit",
        initial=len(state.history),
        total=config.n_epochs,
    )
    for epoch in epochs:
        if world.any(_stopped_early(state, config), device):  # all stop together
            break
        epoch_start = time.monotonic()
        record = _train_epoch(
            state, model, schedule, x0_t, obs_t, train_idx, draw_mask, config, world,
            cov_t,
        )  # fmt: skip
        record = {"epoch": epoch + 1, **record}
        _check_finite(record["train_loss"], epoch + 1, config)
        monitored = record["train_loss"]
        if len(val_idx):
            record["val_loss"] = monitored = _validation_loss(
                state.averaged,
                schedule,
                x0_t[val_idx],
                obs_t[val_idx],
                draw_mask,
                config,
                device,
                seed,
                None if cov_t is None else cov_t[val_idx],
            )
            # The same number in every process, so all decide alike.
            record["val_loss"] = monitored = world.mean(monitored, device)
        record["seconds"] = round(time.monotonic() - epoch_start, 4)
        record["device"] = _device_name(device)
        if world.size > 1:
            record["processes"] = world.size
        state.history.append(record)
        state.record_best(monitored, keep_weights=len(val_idx) > 0)
        epochs.set_postfix({k: v for k, v in record.items() if k.endswith("loss")})
        logger.debug("epoch %d: %s", epoch + 1, record)
        if config.checkpoint_path is not None and world.is_main:
            state.save(config.checkpoint_path, fingerprint)
        elapsed = time.monotonic() - started
        unfinished = epoch + 1 < config.n_epochs
        late = config.max_fit_time is not None and elapsed > config.max_fit_time
        if world.any(late, device):  # every process stops after the same epoch
            if not unfinished:
                break
            record["stopped"] = "max_fit_time"  # after the checkpoint: not resumed
            logger.warning(
                "fit stopped after epoch %d of %d: max_fit_time=%s s reached%s",
                epoch + 1,
                config.n_epochs,
                config.max_fit_time,
                "; fit again to resume from the checkpoint"
                if config.checkpoint_path is not None
                else "",
            )
            break
    final = state.best_weights or state.averaged.state_dict()
    network.load_state_dict(final)
    network.eval()
    if world.size > 1:
        # The DDP wrapper holds the process group inside reference cycles; collect it
        # now, so that destroy_process_group() really ends the group's threads
        # (else they can outlive the interpreter and abort the process at exit).
        del model, parallel
        gc.collect()
    return state.history


def _initial_state(
    network: Denoiser,
    config: TrainingConfig,
    device: torch.device,
    seed: int,
    rank: int = 0,
) -> TrainState:
    """Fresh optimiser, CSDI's learning-rate steps, EMA copy and random streams (the
    same epoch order in every process, its own noise in each)."""
    optimizer = torch.optim.Adam(
        network.parameters(),
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
        fused=device.type == "cuda",  # one kernel for all parameters
    )
    # CSDI's schedule: learning rate x0.1 at 75 % and 90 % of the epochs (a
    # milestone at epoch 0 would lower the rate from the start: dropped).
    milestones = sorted({int(0.75 * config.n_epochs), int(0.9 * config.n_epochs)} - {0})
    return TrainState(
        network=network,
        # The evaluated network: an exponential moving average of the weights, if
        # asked for.
        averaged=copy.deepcopy(network) if config.ema_decay else network,
        optimizer=optimizer,
        lr_schedule=torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, 0.1),
        shuffle_gen=torch.Generator().manual_seed(seed),
        noise_gen=torch.Generator(device=device).manual_seed(
            _noise_seed(seed, rank, [])
        ),
    )


def _noise_seed(seed: int, rank: int, history: list) -> int:
    """Seed of the noise stream of process ``rank``: ``seed + 1`` for a plain fit,
    and distinct per rank (and per resumed epoch) otherwise."""
    if rank == 0:
        return seed + 1
    return seed + 1 + 7919 * rank + 104729 * len(history)


def _data_parallel(network: Denoiser, world: World, device: torch.device, unused: bool):
    """``network`` itself, or wrapped to average gradients across processes
    (``unused``: some parameters get no gradient)."""
    if world.size == 1:
        return network
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(
        network, device_ids=ids, find_unused_parameters=unused
    )


def _stopped_early(state: TrainState, config: TrainingConfig) -> bool:
    patience = config.early_stopping_patience
    if patience is not None and state.stale >= patience:
        logger.info("early stopping after epoch %d", len(state.history))
        return True
    return False


def _train_epoch(
    state: TrainState,
    model: Denoiser,
    schedule: Process,
    x0: torch.Tensor,
    observed: torch.Tensor,
    train_idx: torch.Tensor,
    draw_mask: MaskFn,
    config: TrainingConfig,
    world: World,
    covariates: torch.Tensor | None = None,
) -> dict:
    """One pass over the training windows in a fresh random order (over this
    process's shard of them).

    ``model`` is ``state.network`` or a (compiled, data-parallel) wrapper sharing its
    parameters.
    """
    network, optimizer = state.network, state.optimizer
    device = next(network.parameters()).device
    network.train()
    order = train_idx[torch.randperm(len(train_idx), generator=state.shuffle_gen)]
    order = world.shard(order).to(x0.device)  # one copy per epoch, none per batch
    total = torch.zeros((), device=device)
    for start in range(0, len(order), config.batch_size):
        rows = order[start : start + config.batch_size]
        loss = _batch_loss(
            model,
            schedule,
            x0[rows].to(device),
            observed[rows].to(device),
            draw_mask,
            state.noise_gen,
            config,
            _rows_of(covariates, rows, device),
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm is not None:  # on the device: no host sync
            torch.nn.utils.clip_grad_norm_(network.parameters(), config.max_grad_norm)
        optimizer.step()
        state.steps += 1
        if state.averaged is not network:
            _ema_update(state.averaged, network, config.ema_decay, state.steps)
        total += loss.detach() * len(rows)
    record = {
        "train_loss": world.sum(total).item() / max(world.size * len(order), 1),
        "learning_rate": optimizer.param_groups[0]["lr"],
    }
    state.lr_schedule.step()
    return record


def _check_finite(loss: float, epoch: int, config: TrainingConfig) -> None:
    """Stop a fit whose loss is no longer a number: its weights are lost."""
    if math.isfinite(loss):
        return
    clipping = (
        "turn gradient clipping on (max_grad_norm=1.0)"
        if config.max_grad_norm is None
        else f"clip harder (max_grad_norm below {config.max_grad_norm:g})"
    )
    raise ValueError(
        f"Training diverged: the loss of epoch {epoch} is {loss}, so no model is "
        f"kept. Fit again with a lower learning_rate (now "
        f"{config.learning_rate:g}) or {clipping}, or check the data for extreme "
        "values."
    )


SETTINGS_BEFORE_OPTIONS = {
    "center_windows": True,
    "scale_windows": False,
    "loss": "epsilon",
    "max_grad_norm": None,
}
"""Settings added after checkpoints and results were first written, at the value
they had before: such checkpoints resume (these values are left out of the
fingerprint) and older benchmark files are read with them."""


def _fingerprint(
    network: Denoiser,
    schedule: Process,
    config: TrainingConfig,
    x0: np.ndarray,
    observed_mask: np.ndarray,
    seed: int,
) -> str:
    """What a checkpoint must match to be resumed: architecture, schedule, settings,
    data (a digest of its bytes) and seed."""
    settings = {
        k: v
        for k, v in dataclasses.asdict(config).items()
        if k not in ("checkpoint_path", "max_fit_time", "verbose", "compile")
    }
    for name, value in SETTINGS_BEFORE_OPTIONS.items():
        if settings[name] == value:  # what checkpoints from before the option hold
            del settings[name]
    digest = hashlib.sha256()
    digest.update(schedule.identity())
    for array in (x0, observed_mask):
        digest.update(np.ascontiguousarray(array).tobytes())
    # A network without covariates is described as before covariates existed, so
    # that checkpoints written then still resume.
    text = repr((network.config, sorted(settings.items()), digest.hexdigest(), seed))
    return text.replace(", n_covariates=0)", ")", 1)


def _device_name(device: torch.device) -> str:
    """``"cpu"``, or the accelerator and its model, e.g. ``"cuda: NVIDIA H200"``."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return device.type


def _rows_of(
    tensor: torch.Tensor | None, rows: torch.Tensor | slice, device: torch.device
) -> torch.Tensor | None:
    """Rows of ``tensor`` (None passes through) on ``device``; the index may live on
    another device than the tensor (each stays on the GPU only when small)."""
    if tensor is None:
        return None
    if isinstance(rows, torch.Tensor):
        rows = rows.to(tensor.device)
    return tensor[rows].to(device)


def _to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Keep training data on the GPU when it is small, so batches need no copy."""
    if device.type == "cuda" and tensor.nbytes < 2**30:
        return tensor.to(device)
    return tensor


@torch.no_grad()
def _ema_update(averaged: Denoiser, network: Denoiser, decay: float, step: int) -> None:
    """``averaged <- d * averaged + (1 - d) * network`` after optimiser step ``step``.

    ``d = min(decay, (1 + step) / (10 + step))`` warms the average up, so that early
    in training it follows the network instead of remembering the random initial
    weights (the usual warm-up of weight averages, e.g. TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``). Buffers are copied as is.
    """
    d = min(decay, (1 + step) / (10 + step))
    targets, sources = list(averaged.parameters()), list(network.parameters())
    torch._foreach_lerp_(targets, sources, 1.0 - d)  # all parameters at once
    for target, source in zip(averaged.buffers(), network.buffers(), strict=True):
        target.copy_(source)


@torch.no_grad()
def _validation_loss(
    network: Denoiser,
    schedule: Process,
    x0: torch.Tensor,
    observed: torch.Tensor,
    draw_mask: MaskFn,
    config: TrainingConfig,
    device: torch.device,
    seed: int,
    covariates: torch.Tensor | None = None,
) -> float:
    """Loss on held-out windows with the same masks, steps and noise every epoch."""
    network.eval()
    generator = torch.Generator(device=device).manual_seed(seed + 2)
    total = 0.0
    for start in range(0, len(x0), config.batch_size):
        rows = slice(start, start + config.batch_size)
        loss = _batch_loss(
            network,
            schedule,
            x0[rows].to(device),
            observed[rows].to(device),
            draw_mask,
            generator,
            config,
            _rows_of(covariates, rows, device),
        )
        total += loss.item() * len(x0[rows])
    return total / len(x0)
