"""Training of a denoiser on windows with CSDI's masked noise-prediction objective:
Adam under a learning-rate schedule, epochs of a fixed number of optimiser steps over
windows drawn at random (or of one pass over all windows), an optional moving average
of the weights, a chronological validation split, early stopping, a time limit and
resumable checkpoints."""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from tsdiff.data.source import WindowSource
from tsdiff.diffusion import Process, eps_loss
from tsdiff.engine._denoise import make_denoise, window_frame
from tsdiff.engine._fingerprint import fingerprint, legacy_fingerprint
from tsdiff.engine._progress import tqdm
from tsdiff.engine._state import TrainState, ema_update, initial_state, noise_seed
from tsdiff.engine.compilation import compiled, new_step, training_compile
from tsdiff.engine.distributed import World, device_name
from tsdiff.engine.latent import latent_batch
from tsdiff.engine.lr import end_by, steps_per_call
from tsdiff.nn import Denoiser
from tsdiff.nn.autoencoder import PatchAutoencoder

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
    >>> config.steps_per_epoch, config.lr_schedule, config.learning_rate
    (50, 'cosine', 0.001)
    >>> config.n_epochs = 50
    Traceback (most recent call last):
    ...
    dataclasses.FrozenInstanceError: cannot assign to field 'n_epochs'
    >>> dataclasses.replace(config, n_epochs=50).n_epochs
    50
    """

    n_epochs: int = 100
    steps_per_epoch: int | None = 50
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"
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
    compile: bool | str = False
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
    codec: PatchAutoencoder | None = None,
) -> torch.Tensor:
    cond_mask = draw_mask(observed, generator)  # (B, K, L) bool
    target_mask = observed & ~cond_mask
    offset, scale = window_frame(
        x0, cond_mask, config.center_windows, config.scale_windows
    )  # (B, K, 1) each
    # Never-observed entries stay 0 in the frame too: moved by the frame they would
    # enter the network as large made-up values (up to the offset over the floor).
    x0 = torch.where(observed, (x0 - offset) / scale, torch.zeros_like(x0))
    x_cond, context = torch.where(cond_mask, x0, torch.zeros_like(x0)), None
    if codec is not None:  # the same on the latent grid, (B, G, L / P * D)
        x0, x_cond, cond_mask, target_mask, covariates = latent_batch(
            codec, x0, observed, cond_mask, covariates
        )
        context = x_cond
    denoise = make_denoise(
        network,
        schedule,
        x_cond,
        cond_mask,
        config.parameterization,
        cache_side=False,
        mixed_precision=config.mixed_precision,
        covariates=covariates,
        context=context,
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
    windows: WindowSource,
    draw_mask: MaskFn,
    config: TrainingConfig,
    *,
    device: torch.device,
    seed: int,
    context: str = "",
    world: World | None = None,
    codec: PatchAutoencoder | None = None,
) -> list[dict]:
    """Train ``network`` in place on windows with CSDI's masked epsilon objective.

    Parameters
    ----------
    network : Denoiser
        The denoiser; moved to ``device``.
    schedule : NoiseSchedule or SDEProcess
        The forward process.
    windows : WindowSource
        The scaled series and the starts of the training windows (and their
        covariates, for a network that takes them); batches of shape (B, K, L) are
        gathered from it on ``device``.
    draw_mask : callable
        ``draw_mask(observed_mask, generator) -> cond_mask`` on (B, K, L) bool tensors:
        the training mask policy.
    config : TrainingConfig
        Optimisation settings.
    device : torch.device
        Where to train.
    seed : int
        Seed of the generators for window draws, masks, steps and noise.
    context : str, default=""
        Anything else a resumed checkpoint must match (e.g. the mask policy).
    world : World or None, default=None
        The training processes of a distributed fit (see
        :mod:`tsdiff.engine.distributed`); None trains in this process alone.
    codec : PatchAutoencoder or None, default=None
        A trained autoencoder (on ``device``) whose latent the network denoises
        (:mod:`tsdiff.engine.latent`); None trains on the data grid.

    Returns
    -------
    list of dict
        One record per epoch: ``epoch``, ``steps`` (optimiser steps so far),
        ``train_loss``, ``learning_rate`` (at the epoch's end), ``seconds`` (wall
        time), ``device`` (where the epoch ran: a fit resumed elsewhere says so)
        and, with a validation split, ``val_loss``; the last record of a fit cut
        short by ``max_fit_time`` has ``stopped``. With a validation split the
        weights of the best epoch are restored.

    Notes
    -----
    **Cost.** An epoch is ``config.steps_per_epoch`` optimiser steps, each on
    ``config.batch_size`` windows drawn uniformly at random (with replacement) from
    the training windows, so a fit costs ``n_epochs * steps_per_epoch`` steps
    whatever the length of the data. With ``steps_per_epoch=None`` an epoch is one
    pass over all training windows in a fresh random order (CSDI's epochs), and the
    cost grows with the number of windows. The learning rate follows
    ``config.lr_schedule`` over all steps of the fit (:mod:`tsdiff.engine.lr`).

    With ``config.checkpoint_path`` the whole training state is saved after every
    epoch and a later call with the same settings, data and seed resumes from it
    (a finished fit resumes to its end at once); checkpoints written before
    windows were drawn by steps resume with ``steps_per_epoch=None`` and
    ``lr_schedule="multistep"``, the settings they were trained with.
    ``config.max_fit_time`` ends the fit after the first epoch that finishes past
    that many seconds; under the ``"cosine"`` schedule, after every epoch the
    cosine is brought forward to end at the step that the time left allows at the
    pace so far, so that a fit stopped by the limit has annealed (the first epoch
    follows the planned schedule; a fit under a time limit is not reproducible step
    for step).

    In a distributed fit each process trains on its shard of every epoch's windows
    with ``config.batch_size`` windows per step (so one step of N processes sees N
    times as many), gradients are averaged across processes, the recorded losses
    are those of all processes, rank 0 alone writes checkpoints, and all stop
    together. Every process ends with the same weights.

    Examples
    --------
    One epoch of 3 steps of a tiny network on 8 windows of 2 variables and 12
    steps; each batch conditions on a random half of the observed values:

    >>> import numpy as np
    >>> import torch
    >>> from tsdiff.data import WindowSource
    >>> from tsdiff.diffusion import NoiseSchedule
    >>> from tsdiff.engine import TrainingConfig, fit_network
    >>> from tsdiff.nn import Denoiser, DenoiserConfig
    >>> rng = np.random.default_rng(0)
    >>> x0 = np.sin(np.arange(12.0) / 2) + 0.1 * rng.standard_normal((8, 2, 12))
    >>> x0 = x0.astype(np.float32)  # (N, K, L)
    >>> windows = WindowSource.from_windows(x0, np.isfinite(x0))
    >>> def draw_mask(observed, generator):
    ...     keep = torch.rand(observed.shape, generator=generator)
    ...     return observed & (keep < 0.5)
    >>> config = DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1)
    >>> net = Denoiser(config)
    >>> net.reset_parameters(torch.Generator().manual_seed(0))
    >>> history = fit_network(
    ...     net, NoiseSchedule.from_name("quad", 10), windows, draw_mask,
    ...     TrainingConfig(n_epochs=1, steps_per_epoch=3, batch_size=4),
    ...     device=torch.device("cpu"), seed=0,
    ... )
    >>> len(history), sorted(history[0])
    (1, ['device', 'epoch', 'learning_rate', 'seconds', 'steps', 'train_loss'])
    >>> history[0]["steps"], bool(np.isfinite(history[0]["train_loss"]))
    (3, True)

    The output projection, zero at initialisation, has been trained:

    >>> bool((net.output_projection.weight != 0).any())
    True
    """
    world = world or World()
    network.to(device)
    data = windows.to(device)
    train_idx, val_idx = _split(len(data), config.validation_fraction)
    if len(train_idx) < world.size:
        raise ValueError(
            f"{len(train_idx)} training windows cannot be shared out among "
            f"{world.size} processes; use fewer processes or more data."
        )
    steps = _steps_per_epoch(config, len(train_idx), world)
    state = initial_state(network, config, device, seed, world.rank, steps)
    identity = fingerprint(network, schedule, config, windows, seed) + context
    if config.checkpoint_path is not None:
        resumed = state.resume(
            config.checkpoint_path,
            identity,
            legacy=lambda: legacy_fingerprint(
                network, schedule, config, windows, seed, context
            ),
        )
        if resumed and world.rank > 0:  # the file holds rank 0's noise stream
            state.noise_gen.manual_seed(noise_seed(seed, world.rank, state.history))
    # A window of one variable (or one step) skips an attention layer, whose
    # parameters then get no gradient: DDP must be told to expect that.
    skips_layers = 1 in (windows.n_features, windows.length)
    parallel = _data_parallel(network, world, device, skips_layers)
    total_steps = config.n_epochs * steps
    model = compiled(
        parallel, training_compile(config.compile, device, world.size, total_steps)
    )
    started = time.monotonic()
    # The pace is measured from the end of this call's first epoch on (time,
    # steps), after any compilation: the first epoch follows the planned schedule.
    pace_from = None
    progress = tqdm(
        total=config.n_epochs * steps,
        initial=state.steps,
        disable=not config.verbose,
        desc="fit",
        unit="step",
    )
    for epoch in range(len(state.history), config.n_epochs):
        if world.any(_stopped_early(state, config), device):  # all stop together
            break
        epoch_start = time.monotonic()
        record = _train_epoch(
            state, model, schedule, data, train_idx, draw_mask, config, world,
            progress, codec,
        )  # fmt: skip
        record = {"epoch": epoch + 1, "steps": state.steps, **record}
        _check_finite(record["train_loss"], epoch + 1, config)
        monitored = record["train_loss"]
        if len(val_idx):
            record["val_loss"] = monitored = _validation_loss(
                state.averaged, schedule, data, val_idx, draw_mask, config, device,
                seed, codec,
            )  # fmt: skip
            # The same number in every process, so all decide alike.
            record["val_loss"] = monitored = world.mean(monitored, device)
        record["seconds"] = round(time.monotonic() - epoch_start, 4)
        record["device"] = device_name(device)
        if world.size > 1:
            record["processes"] = world.size
        state.history.append(record)
        state.record_best(monitored, keep_weights=len(val_idx) > 0)
        progress.set_postfix(
            {k: f"{v:.4g}" for k, v in record.items() if k.endswith("loss")}
            | {"epoch": epoch + 1}
        )
        logger.debug("epoch %d: %s", epoch + 1, record)
        if config.checkpoint_path is not None and world.is_main:
            state.save(config.checkpoint_path, identity)
        now = time.monotonic()
        elapsed = now - started
        unfinished = epoch + 1 < config.n_epochs
        late = config.max_fit_time is not None and elapsed > config.max_fit_time
        if config.max_fit_time is not None and not late and pace_from:
            # The steps the time left allows at this call's pace: the cosine ends
            # there rather than being cut off at a high rate. All processes agree.
            since, from_step = pace_from
            rate = (state.steps - from_step) / max(now - since, 1e-9)
            reachable = state.steps + rate * (config.max_fit_time - elapsed)
            end_by(state.lr_schedule, int(world.mean(reachable, device)))
        pace_from = pace_from or (now, state.steps)
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
    progress.close()
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


def _steps_per_epoch(config: TrainingConfig, n_train: int, world: World) -> int:
    """Optimiser steps of one epoch in every process."""
    if config.steps_per_epoch is not None:
        return config.steps_per_epoch
    shard = n_train // world.size  # the shards are cut to equal sizes
    return math.ceil(shard / config.batch_size)


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
    data: WindowSource,
    train_idx: torch.Tensor,
    draw_mask: MaskFn,
    config: TrainingConfig,
    world: World,
    progress: tqdm,
    codec: PatchAutoencoder | None,
) -> dict:
    """One epoch: ``steps_per_epoch`` batches drawn at random from the training
    windows, or one pass over them in a fresh random order (over this process's
    shard of them).

    ``model`` is ``state.network`` or a (compiled, data-parallel) wrapper sharing its
    parameters.
    """
    network, optimizer = state.network, state.optimizer
    device = next(network.parameters()).device
    per_step = steps_per_call(config.lr_schedule) == "step"
    network.train()
    if config.steps_per_epoch is None:
        order = torch.randperm(len(train_idx), generator=state.shuffle_gen)
    else:
        draws = config.steps_per_epoch * config.batch_size * world.size
        order = torch.randint(len(train_idx), (draws,), generator=state.shuffle_gen)
    order = world.shard(train_idx[order]).to(device)  # one copy per epoch
    total = torch.zeros((), device=device)
    for start in range(0, len(order), config.batch_size):
        rows = order[start : start + config.batch_size]
        x0, observed, covariates = data.batch(rows, device)
        new_step(model)
        loss = _batch_loss(
            model, schedule, x0, observed, draw_mask, state.noise_gen, config,
            covariates, codec,
        )  # fmt: skip
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm is not None:  # on the device: no host sync
            torch.nn.utils.clip_grad_norm_(network.parameters(), config.max_grad_norm)
        optimizer.step()
        state.steps += 1
        if per_step:
            state.lr_schedule.step()
        if state.averaged is not network:
            ema_update(state.averaged, network, config.ema_decay, state.steps)
        total += loss.detach() * len(rows)
        progress.update(1)
    record = {
        "train_loss": world.sum(total).item() / max(world.size * len(order), 1),
        "learning_rate": optimizer.param_groups[0]["lr"],
    }
    if not per_step:
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


@torch.no_grad()
def _validation_loss(
    network: Denoiser,
    schedule: Process,
    data: WindowSource,
    val_idx: torch.Tensor,
    draw_mask: MaskFn,
    config: TrainingConfig,
    device: torch.device,
    seed: int,
    codec: PatchAutoencoder | None,
) -> float:
    """Loss on held-out windows with the same masks, steps and noise every epoch
    (at most :data:`MAX_VALIDATION_WINDOWS` of them, evenly spaced)."""
    network.eval()
    generator = torch.Generator(device=device).manual_seed(seed + 2)
    if len(val_idx) > MAX_VALIDATION_WINDOWS:
        spaced = torch.linspace(0, len(val_idx) - 1, MAX_VALIDATION_WINDOWS)
        val_idx = val_idx[spaced.round().long()]
    total = 0.0
    for start in range(0, len(val_idx), config.batch_size):
        rows = val_idx[start : start + config.batch_size]
        x0, observed, covariates = data.batch(rows, device)
        loss = _batch_loss(
            network, schedule, x0, observed, draw_mask, generator, config,
            covariates, codec,
        )  # fmt: skip
        total += loss.item() * len(rows)
    return total / len(val_idx)


MAX_VALIDATION_WINDOWS = 8192
"""Validation windows scored after every epoch, at most (evenly spaced over the
split): the cost of validating does not grow with the data."""
