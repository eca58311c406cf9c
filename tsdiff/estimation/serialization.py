"""The file format of saved estimators: fitted state encoded as a JSON document plus a
dict of tensors.

``save`` writes ``config.json`` and ``tensors.pt`` into a folder; ``load`` reads the
tensors back with ``torch.load(..., weights_only=True)``, so loading a model never runs
pickled code, and rebuilds only tsdiff's own dataclasses from the JSON. A file that
is not what ``save`` wrote (corrupted, truncated, another format version, pickled
objects) is refused with a ``ValueError`` that names the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

__all__ = [
    "decode",
    "decode_entry",
    "encode",
    "read",
    "write",
]

FORMAT_VERSION = 1


def encode(value: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Return a JSON-able description of ``value``; arrays go into ``tensors``.

    Parameters
    ----------
    value : object
        An ndarray, pandas Index, DateOffset, dataclass of arrays, or JSON value.
    key : str
        Unique name under which arrays of this value are stored.
    tensors : dict of str to Tensor
        Receives the arrays (as CPU tensors).

    Returns
    -------
    object
        A JSON-serialisable description; :func:`decode` inverts it.
    """
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__kind__": "objects", "values": [_scalar(v, key) for v in value]}
        tensors[key] = torch.from_numpy(np.array(value, copy=True, order="C"))
        return {"__kind__": "array", "key": key}
    if isinstance(value, pd.Index):
        return _encode_index(value, key)
    if isinstance(value, pd.offsets.BaseOffset):
        return {"__kind__": "offset", "freq": value.freqstr}
    if isinstance(value, torch.device):
        return {"__kind__": "device", "device": str(value)}
    if isinstance(value, os.PathLike):
        return {"__kind__": "path", "value": os.fspath(value)}
    if hasattr(value, "__dataclass_fields__"):
        fields = {
            name: encode(getattr(value, name), f"{key}.{name}", tensors)
            for name in value.__dataclass_fields__
        }
        cls = type(value)
        return {
            "__kind__": "dataclass",
            "cls": f"{cls.__module__}:{cls.__name__}",
            "fields": fields,
        }
    if isinstance(value, (list, tuple)):
        return [encode(v, f"{key}.{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): encode(v, f"{key}.{k}", tensors) for k, v in value.items()}
    return _scalar(value, key)


def _scalar(value: Any, key: str) -> Any:
    if isinstance(value, pd.Timestamp):
        tz = None if value.tz is None else str(value.tz)
        return {"__kind__": "Timestamp", "value": value.isoformat(), "tz": tz}
    if isinstance(value, pd.Period):
        return {"__kind__": "Period", "value": str(value), "freq": value.freqstr}
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise ValueError(
        f"Cannot save {key}: {value!r} of type {type(value).__name__} has no JSON "
        "form; use string or numeric column names and index labels to save, or "
        "pickle instead."
    )


def _encode_index(index: pd.Index, key: str) -> dict:
    out: dict[str, Any] = {"__kind__": "index", "name": _scalar(index.name, key)}
    if isinstance(index, pd.RangeIndex):
        out.update(type="range", start=index.start, stop=index.stop, step=index.step)
    elif isinstance(index, pd.DatetimeIndex):
        out.update(
            type="datetime",
            values=[str(v) for v in index],
            tz=None if index.tz is None else str(index.tz),
        )
    elif isinstance(index, pd.PeriodIndex):
        out.update(type="period", values=[str(v) for v in index], freq=index.freqstr)
    else:
        out.update(type="values", values=[_scalar(v, key) for v in index])
    return out


def decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Invert :func:`encode`.

    Parameters
    ----------
    value : object
        A description produced by :func:`encode`.
    tensors : dict of str to Tensor
        The arrays stored beside it.

    Returns
    -------
    object
    """
    if isinstance(value, list):
        return [decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("__kind__")
    if kind is None:
        return {k: decode(v, tensors) for k, v in value.items()}
    if kind == "array":
        return tensors[value["key"]].detach().numpy()
    if kind == "objects":
        return np.array([decode(v, tensors) for v in value["values"]], dtype=object)
    if kind == "index":
        return _decode_index(value)
    if kind == "offset":
        return pd.tseries.frequencies.to_offset(value["freq"])
    if kind == "device":
        return torch.device(value["device"])
    if kind == "path":
        return Path(value["value"])
    if kind == "Timestamp":
        stamp = pd.Timestamp(value["value"])
        return stamp if value["tz"] is None else stamp.tz_convert(value["tz"])
    if kind == "Period":
        return pd.Period(value["value"], freq=value["freq"])
    if kind == "dataclass":
        module, _, name = str(value["cls"]).partition(":")
        if module.split(".")[0] != "tsdiff":
            raise ValueError(f"Refusing to load a class from {module!r}.")
        cls = getattr(__import__(module, fromlist=[name]), name, None)
        # Only tsdiff's dataclasses, never another callable a module happens to hold.
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise ValueError(
                f"Refusing to load {value['cls']!r}: not a tsdiff dataclass."
            )
        fields = value["fields"]
        unknown = set(fields) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"{value['cls']} has no fields {sorted(unknown)}.")
        return cls(**{k: decode(v, tensors) for k, v in fields.items()})
    raise ValueError(f"Unknown saved value kind {kind!r}.")


def decode_entry(
    document: dict, key: str, tensors: dict[str, torch.Tensor], path: Any
) -> dict:
    """:func:`decode` of the mapping ``document[key]``; whatever in it fails to
    decode (a damaged or crafted file) is a ``ValueError`` naming the entry."""
    entry = document[key]
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: {key!r} must be a mapping.")
    out = {}
    for name, value in entry.items():
        try:
            out[name] = decode(value, tensors)
        except Exception as err:  # any failure inside a damaged description
            raise ValueError(
                f"{path}: {key}[{name!r}] cannot be read ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''})."
            ) from None
    return out


def _decode_index(spec: dict) -> pd.Index:
    name = spec["name"]
    if spec["type"] == "range":
        return pd.RangeIndex(spec["start"], spec["stop"], spec["step"], name=name)
    if spec["type"] == "datetime":
        if spec["tz"] is None:
            return pd.DatetimeIndex(spec["values"], name=name)
        stamps = [pd.Timestamp(v).tz_convert(spec["tz"]) for v in spec["values"]]
        return pd.DatetimeIndex(stamps, name=name)
    if spec["type"] == "period":
        return pd.PeriodIndex(spec["values"], freq=spec["freq"], name=name)
    return pd.Index(spec["values"], name=name)


def write(path: str | Path, document: dict, tensors: dict[str, torch.Tensor]) -> None:
    """Write ``tensors.pt`` and then ``config.json`` into the folder ``path``.

    Each file is written under a temporary name and renamed, and the description
    records a digest of the tensor file: an interrupted save never leaves half a
    file, and a description paired with another save's tensors is refused on load.
    """
    from tsdiff import __version__

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / "tensors.pt", lambda f: torch.save(tensors, f))
    digest = hashlib.sha256((folder / "tensors.pt").read_bytes()).hexdigest()
    document = {
        "format_version": FORMAT_VERSION,
        "tsdiff_version": __version__,
        "tensors_sha256": digest,
        **document,
    }
    text = json.dumps(document, indent=2)
    _replace(folder / "config.json", lambda f: f.write_text(text))


def _replace(target: Path, write: Any) -> None:
    """``write`` a temporary file beside ``target``, then rename it over ``target``."""
    partial = target.with_name(target.name + ".partial")
    write(partial)
    os.replace(partial, target)


DOCUMENT_KEYS = ("estimator", "params", "network_config", "fitted")


def read(path: str | Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read what :func:`write` wrote; tensors are loaded with ``weights_only=True``.

    Raises
    ------
    FileNotFoundError
        When the folder holds no ``config.json`` or no ``tensors.pt``.
    ValueError
        When either file is not what :func:`write` writes: invalid JSON, another
        format version, missing entries, a truncated or corrupted tensor file, or
        one holding anything but a dict of tensors (pickled objects are refused
        unrun).
    """
    folder = Path(path)
    config = folder / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"No saved tsdiff model in {folder} (no config.json).")
    try:
        document = json.loads(config.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(
            f"{config} is not a tsdiff model description (invalid JSON: {err})."
        ) from None
    if not isinstance(document, dict):
        raise ValueError(f"{config} is not a tsdiff model description.")
    version = document.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        writer = document.get("tsdiff_version", "an older version")
        raise ValueError(
            f"{folder} holds a model file of format version {version!r}, written by "
            f"tsdiff {writer}; this tsdiff reads version {FORMAT_VERSION}. Load it "
            "with the tsdiff that wrote it, or fit the model again."
        )
    missing = [key for key in DOCUMENT_KEYS if key not in document]
    if missing:
        raise ValueError(f"{config} lacks {missing}: it is incomplete.")
    tensors_file = folder / "tensors.pt"
    tensors = _read_tensors(tensors_file)
    digest = document.get("tensors_sha256")  # absent in files of earlier versions
    if (
        digest is not None
        and digest != hashlib.sha256(tensors_file.read_bytes()).hexdigest()
    ):
        raise ValueError(
            f"{tensors_file} is not the tensor file saved with {config} (its digest "
            "differs): the folder mixes two saves or the file was changed."
        )
    return document, tensors


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(
            f"No tensors.pt beside the model description in {path.parent}."
        )
    try:
        tensors = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError(
            f"{path} holds objects other than tensors; tsdiff refuses to load it "
            "(nothing in it was run)."
        ) from None
    except Exception as err:  # a truncated or corrupted archive, in any wording
        first = str(err).splitlines()[0] if str(err) else ""
        raise ValueError(
            f"{path} could not be read ({type(err).__name__}: {first}); the file is "
            "truncated or corrupted."
        ) from None
    if not isinstance(tensors, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()
    ):
        raise ValueError(f"{path} must hold a dict of named tensors.")
    return tensors
