"""Saving, loading and pickling fitted estimators, and the defaults that files and
pickles written before an option (or a module) existed are read with.

``save`` writes ``config.json`` and ``tensors.pt`` into a folder
(:mod:`tsdiff.estimation.serialization`); ``load`` checks everything before it builds
anything. The fitted model (``model_``) is stored as its network's config and weights
beside the parameters it was fitted with.
"""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path
from typing import Any

import torch

from tsdiff.engine import SETTINGS_BEFORE_OPTIONS, DiffusionModel
from tsdiff.estimation import calibration, covariates
from tsdiff.estimation.serialization import decode_entry, encode, read, write

__all__ = [
    "RENAMED_MODULES",
    "load_estimator",
    "pickled_state",
    "restore_model",
    "restored_params",
    "save_estimator",
]

RENAMED_MODULES = {
    "tsdiff._calibration": calibration,
    "tsdiff._covariates": covariates,
}
"""Modules of fitted state that have moved, by the name that files and pickles written
before the move give them. They are registered under those names as soon as an
estimator is imported (unpickling an estimator imports its class first), so that
pickles and saved models from before keep loading."""

for _old, _module in RENAMED_MODULES.items():
    sys.modules.setdefault(_old, _module)

logger = logging.getLogger(__name__)

_MODEL_PARTS = ("_network_spec", "_model_spec", "process_", "window_frame_")
"""Entries of a pickle that describe the fitted model (``model_``): its network's
config and weights, the rest of :meth:`DiffusionModel.state_dict`, and the names of
the attributes that held it before."""

_MODEL_ENTRIES = ("process", "settings", "mask")
"""The entries of :meth:`DiffusionModel.state_dict` beside the network (and the
autoencoder of a latent model)."""


def pickled_state(state: dict) -> dict:
    """An estimator's ``__dict__`` as pickled: the model as its network's config and
    CPU weights (``_network_spec``) and the rest of its state (``_model_spec``:
    process, settings, mask policy), all as fitted."""
    state = dict(state)
    model = state.pop("model_", None)
    if model is not None:
        saved = model.state_dict()
        state["_network_spec"] = (saved["network_config"], saved["weights"])
        state["_model_spec"] = {
            k: saved[k] for k in (*_MODEL_ENTRIES, "autoencoder") if k in saved
        }
    return state


def restored_params(cls: type, state: dict) -> dict:
    """A pickled ``__dict__`` with every parameter added since it was written set to
    the value an older estimator trained with, else the default; the model's parts
    are set aside for :func:`restore_model`."""
    defaults = {
        name: param.default
        for name, param in inspect.signature(cls.__init__).parameters.items()
        if param.default is not param.empty
    }
    state = dict(state)
    for name, value in (defaults | _settings_before(cls)).items():
        state.setdefault(name, value)
    state["_model_parts"] = {k: state.pop(k) for k in _MODEL_PARTS if k in state}
    return state


def _settings_before(cls: type) -> dict:
    """The entries of ``SETTINGS_BEFORE_OPTIONS`` that are parameters of ``cls``."""
    names = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in SETTINGS_BEFORE_OPTIONS.items() if k in names}


def restore_model(estimator: Any) -> None:
    """Rebuild ``model_`` of an unpickled estimator from the parts that
    :func:`restored_params` set aside (nothing for an unfitted one).

    A pickle written before the model existed holds the fitted process and window
    frame as attributes; the rest comes from its parameters, as it did then.
    """
    parts = vars(estimator).pop("_model_parts", {})
    if "_network_spec" not in parts:
        return
    config, weights = parts["_network_spec"]
    estimator.device_ = _available(estimator.device_)
    spec = parts.get("_model_spec") or _spec_from_params(
        estimator, parts.get("window_frame_")
    )
    state = {"network_config": config, "weights": weights, **spec}
    model = DiffusionModel.from_state(state, "the pickled estimator")
    if "process_" in parts and "_model_spec" not in parts:
        model.process = parts["process_"]  # the process it was fitted with
    estimator.model_ = model.to(estimator.device_)


def save_estimator(estimator: Any, path: str | Path) -> None:
    """Write a fitted estimator into the folder ``path`` (see ``save``)."""
    tensors: dict[str, torch.Tensor] = {}
    fitted = {
        k: encode(v, k, tensors)
        for k, v in vars(estimator).items()
        if k.endswith("_") and not k.startswith("_") and k != "model_"
    }
    model = estimator.model_
    fitted["window_frame_"] = encode(model.window_frame, "window_frame_", tensors)
    saved = model.state_dict()
    for k, v in saved["weights"].items():
        tensors[f"network.{k}"] = v
    spec = {k: saved[k] for k in _MODEL_ENTRIES}
    if "autoencoder" in saved:  # its config in the document, weights beside
        spec["autoencoder"] = saved["autoencoder"]["config"]
        for k, v in saved["autoencoder"]["weights"].items():
            tensors[f"autoencoder.{k}"] = v
    document = {
        "estimator": type(estimator).__name__,
        "params": encode(estimator.get_params(deep=False), "params", tensors),
        "network_config": saved["network_config"],
        "model": spec,
        "fitted": fitted,
    }
    write(path, document, tensors)


def load_estimator(cls: type, path: str | Path, device: str) -> Any:
    """The estimator of class ``cls`` saved in ``path``, on ``device`` (see
    ``load``).

    Everything is checked before anything is built: the files, the estimator's
    name, its parameter and attribute names, and the weights' names and shapes
    against the network they describe.
    """
    document, tensors = read(path)
    if document["estimator"] != cls.__name__:
        raise ValueError(
            f"{path} holds a {document['estimator']!r}, not a {cls.__name__}."
        )
    params = decode_entry(document, "params", tensors, path)
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise ValueError(
            f"{path} sets parameters {unknown}, which {cls.__name__} does not "
            "have; it was written by another version of tsdiff."
        )
    fitted = decode_entry(document, "fitted", tensors, path)
    bad = sorted(
        k
        for k in fitted
        if not (k.endswith("_") and k[0].isalpha())
        or k in ("network_", "process_", "model_")
    )
    if bad or "n_features_in_" not in fitted:
        raise ValueError(
            f"{path} holds no fitted {cls.__name__}: "
            + (f"unexpected entries {bad}." if bad else "no n_features_in_.")
        )
    # JSON has no tuples; tuple-valued parameters come back as lists.
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    # A file written before an option existed was trained with its earlier value.
    params = _settings_before(cls) | params
    weights = {
        k.removeprefix("network."): v
        for k, v in tensors.items()
        if k.startswith("network.")
    }
    estimator = cls(**{**params, "device": device})
    estimator._validate_params()
    frame = fitted.pop("window_frame_", None)  # files from before: their params'
    spec = document.get("model")  # files from before: their parameters'
    if spec is None:
        spec = _spec_from_params(estimator, frame)
    elif not (
        isinstance(spec, dict)
        and set(_MODEL_ENTRIES) <= set(spec) <= {*_MODEL_ENTRIES, "autoencoder"}
    ):
        raise ValueError(f"{path} describes no valid model: {spec!r:.200}.")
    elif "autoencoder" in spec:
        coder = {
            k.removeprefix("autoencoder."): v
            for k, v in tensors.items()
            if k.startswith("autoencoder.")
        }
        spec = spec | {"autoencoder": {"config": spec["autoencoder"], "weights": coder}}
    state = {"network_config": document["network_config"], "weights": weights}
    try:
        model = DiffusionModel.from_state({**state, **spec}, path)
    except (TypeError, KeyError, AttributeError) as err:
        raise ValueError(f"{path} describes no valid model: {err}") from None
    if model.network.config.n_features != fitted["n_features_in_"]:
        raise ValueError(
            f"{path} pairs a network of {model.network.config.n_features} variables "
            f"with a fitted state of {fitted['n_features_in_']}."
        )
    for key, value in fitted.items():
        setattr(estimator, key, value)
    estimator.device_ = estimator._resolve_device()
    estimator.model_ = model.to(estimator.device_)
    return estimator


def _spec_from_params(estimator: Any, frame: Any) -> dict:
    """The model's process, settings and mask policy as the parameters of
    ``estimator`` describe them, with the window ``frame`` of the fit where one
    was recorded (files and pickles written before the model recorded its own)."""
    settings = estimator._model_settings()
    if frame is not None:
        settings["center_windows"], settings["scale_windows"] = frame
    return {
        "process": estimator._process_spec(),
        "settings": settings,
        "mask": estimator._mask_spec(),
    }


def _available(device: torch.device) -> torch.device:
    if device.type == "cuda" and not torch.cuda.is_available():
        logger.warning("CUDA is not available; the network is placed on the CPU.")
        return torch.device("cpu")
    return device
