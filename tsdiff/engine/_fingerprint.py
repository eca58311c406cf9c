"""What a training checkpoint must match to be resumed: the network's architecture,
the process, the training settings, the data and the seed, and the fingerprint that
checkpoints written before windows were drawn from series carry."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING

import torch

from tsdiff.data.source import WindowSource
from tsdiff.diffusion import Process
from tsdiff.nn import Denoiser

if TYPE_CHECKING:  # pragma: no cover
    from tsdiff.engine.training import TrainingConfig

__all__ = [
    "SETTINGS_BEFORE_OPTIONS",
    "config_text",
    "fingerprint",
    "legacy_fingerprint",
]

SETTINGS_BEFORE_OPTIONS = {
    "center_windows": True,
    "scale_windows": False,
    "loss": "epsilon",
    "max_grad_norm": None,
    "steps_per_epoch": None,
    "lr_schedule": "multistep",
    "lags": None,
    "interpolated_input": False,
    "calibration_windows": None,  # a forecaster's; its default was None until "auto"
    "calibration_share": None,  # an imputer's; its default was None until "input"
    "calibration_rate": None,  # a forecaster's; its default was None until 1.0
    "patch_width": 1,  # both estimators'; patches of one variable until it existed
    "unconditional_share": 0.0,  # both estimators'; every window was given values
    "time_kernel": 1,  # both estimators'; no convolution along time until it existed
}
"""Settings added after checkpoints and results were first written (or whose
default changed), at the value they had before: such checkpoints resume (these
values are left out of the fingerprint) and older benchmark files and saved
models are read with those of their estimator's parameters."""


def fingerprint(
    network: Denoiser,
    schedule: Process,
    config: TrainingConfig,
    windows: WindowSource,
    seed: int,
) -> str:
    """What a checkpoint must match to be resumed: architecture, process, settings,
    data (a digest of the series and window starts) and seed."""
    digest = hashlib.sha256(schedule.identity())
    digest.update(windows.digest().encode())
    return repr(
        ("series", config_text(network), _settings(config), digest.hexdigest(), seed)
    )


def legacy_fingerprint(
    network: Denoiser,
    schedule: Process,
    config: TrainingConfig,
    windows: WindowSource,
    seed: int,
    context: str,
) -> str | None:
    """The fingerprint that checkpoints written before windows were drawn from
    series carry: a digest of every window's bytes (recomputed a chunk at a time),
    the covariates' digest after ``context``. None where such a checkpoint cannot
    exist (settings that did not exist then)."""
    settings = _settings(config)
    if any(name in dict(settings) for name in ("steps_per_epoch", "lr_schedule")):
        return None
    digest = hashlib.sha256(schedule.identity())
    for part in (0, 1):  # every window's values (float32), then every mask (bool)
        for rows in _chunks(len(windows)):
            digest.update(windows.batch(rows)[part].cpu().numpy().tobytes())
    covariates = ""
    if windows.n_covariates:
        hasher = hashlib.sha256()
        for rows in _chunks(len(windows)):
            hasher.update(windows.batch(rows)[2].cpu().numpy().tobytes())
        covariates = hasher.hexdigest()
    # The repr of the tuple (config, settings, digest, seed) of those days.
    text = f"({config_text(network)}, {settings!r}, {digest.hexdigest()!r}, {seed!r})"
    return text + context + covariates


def _chunks(n: int, size: int = 4096) -> list[torch.Tensor]:
    """Consecutive index ranges covering ``range(n)``, ``size`` at a time."""
    return [torch.arange(i, min(i + size, n)) for i in range(0, n, size)]


def _settings(config: TrainingConfig) -> list:
    """The training settings a checkpoint must match, sorted; a setting at the
    value it had before it existed is left out (:data:`SETTINGS_BEFORE_OPTIONS`)."""
    settings = {
        k: v
        for k, v in dataclasses.asdict(config).items()
        if k not in ("checkpoint_path", "max_fit_time", "verbose", "compile")
    }
    for name, value in SETTINGS_BEFORE_OPTIONS.items():
        if name in settings and settings[name] == value:  # as older checkpoints hold
            del settings[name]
    return sorted(settings.items())


def config_text(network: Denoiser) -> str:
    """The network's configuration as text, without fields added later at their
    default (a network without covariates, lags or interpolated input reads as it
    did before, and a full-resolution one without ``patch_length``)."""
    text = repr(network.config)
    later_fields = (
        ", n_covariates=0", ", lags=()", ", interpolated_input=False",
        ", patch_length=1", ", context_input=False", ", time_kernel=1",
    )  # fmt: skip
    for later in later_fields:
        text = text.replace(later, "", 1)
    return text
