"""Reliability: a diverging fit stops by name, gradients are clipped, a killed fit
resumes, model files never run code and refuse damage by name, public calls leave
inputs and global state alone, and extreme or integer data give finite outputs."""

import hashlib
import json
import pickle
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import tsdiff.engine.training as training
from tsdiff import DiffusionForecaster, DiffusionImputer

ROOT = Path(__file__).parents[1]


@pytest.fixture
def data(make_frame):
    return make_frame(n_steps=48, n_vars=2)


# -- training --------------------------------------------------------------------


def test_a_diverging_fit_stops_naming_the_epoch_and_keeps_the_last_checkpoint(
    tiny, data, tmp_path, monkeypatch
):
    real_loss, real_epoch = training.eps_loss, training._train_epoch
    epochs = {"n": 0}

    def counting_epoch(*args, **kwargs):
        epochs["n"] += 1
        return real_epoch(*args, **kwargs)

    def diverging(*args, **kwargs):  # NaN from the second epoch on
        loss = real_loss(*args, **kwargs)
        return loss * float("nan") if epochs["n"] >= 2 else loss

    monkeypatch.setattr(training, "_train_epoch", counting_epoch)
    monkeypatch.setattr(training, "eps_loss", diverging)
    imputer = DiffusionImputer(window_length=8, **{**tiny, "n_epochs": 3})
    checkpoint = tmp_path / "fit.pt"
    imputer.set_params(checkpoint_path=checkpoint)
    with pytest.raises(ValueError, match="the loss of epoch 2 is nan"):
        imputer.fit(data)
    assert not hasattr(imputer, "network_")  # no NaN model left behind
    saved = torch.load(checkpoint, weights_only=True)
    assert [r["epoch"] for r in saved["history"]] == [1]


def test_gradients_are_clipped_by_default_and_clipping_can_be_turned_off(
    tiny, data, monkeypatch
):
    seen = []
    real_clip = torch.nn.utils.clip_grad_norm_

    def spy(parameters, max_norm, *args, **kwargs):
        seen.append(max_norm)
        return real_clip(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    DiffusionImputer(window_length=8, **tiny).fit(data)
    assert seen and set(seen) == {1.0}
    seen.clear()
    DiffusionImputer(window_length=8, max_grad_norm=None, **tiny).fit(data)
    assert seen == []


@pytest.mark.parametrize("schedule", ["multistep", "constant"])
def test_a_one_epoch_fit_trains_at_the_learning_rate_asked(tiny, data, schedule):
    params = {**tiny, "n_epochs": 1, "lr_schedule": schedule}
    imputer = DiffusionImputer(window_length=8, **params).fit(data)
    assert imputer.history_[0]["learning_rate"] == imputer.learning_rate


KILLED_FIT = """
import sys, time
sys.path.insert(0, {tests!r})
from conftest import TINY, make_frame
import tsdiff.engine.training as training
from tsdiff import DiffusionImputer
real_epoch = training._train_epoch
def slow_epoch(*args, **kwargs):  # time for the parent to kill it mid-fit
    time.sleep(0.5)
    return real_epoch(*args, **kwargs)
training._train_epoch = slow_epoch
data = make_frame(n_steps=400, n_vars=2)
DiffusionImputer(window_length=8, checkpoint_path={path!r},
                 **{{**TINY, "n_epochs": 8}}).fit(data)
print("finished")
"""


def test_a_killed_fit_resumes_from_its_last_checkpoint_to_the_full_epoch_count(
    tiny, make_frame, tmp_path
):
    path = tmp_path / "fit.pt"
    script = KILLED_FIT.format(tests=str(ROOT / "tests"), path=str(path))
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT
    )
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists():
            try:
                done = len(torch.load(path, weights_only=True)["history"])
            except Exception:  # never half a file: only the rename makes it appear
                pytest.fail("a checkpoint was read while incomplete")
            if done >= 2:
                process.send_signal(signal.SIGKILL)
                break
        time.sleep(0.02)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the fit ended before it was killed"
    saved = torch.load(path, weights_only=True)["history"]
    assert 2 <= len(saved) < 8
    resumed = DiffusionImputer(
        window_length=8, checkpoint_path=path, **{**tiny, "n_epochs": 8}
    ).fit(make_frame(n_steps=400, n_vars=2))
    epochs = [r["epoch"] for r in resumed.history_]
    assert epochs == list(range(1, 9))
    assert resumed.history_[: len(saved)] == saved  # the killed run's epochs, kept


# -- model files ------------------------------------------------------------------


class _Payload:
    """Pickled, it would create a file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.fixture
def saved(tiny, data, tmp_path):
    DiffusionImputer(window_length=8, **tiny).fit(data).save(tmp_path / "m")
    return tmp_path / "m"


def test_a_tensor_file_carrying_a_pickled_payload_is_refused_and_never_run(
    saved, tmp_path
):
    marker = tmp_path / "payload_ran"
    tensors = torch.load(saved / "tensors.pt", weights_only=True)
    torch.save({**tensors, "network.evil": _Payload(marker)}, saved / "tensors.pt")
    with pytest.raises(ValueError, match="objects other than tensors.*nothing in it"):
        DiffusionImputer.load(saved)
    assert not marker.exists()
    # The same payload as a plain pickle file named like the tensors.
    (saved / "tensors.pt").write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match="tensors.pt"):
        DiffusionImputer.load(saved)
    assert not marker.exists()


def test_a_description_naming_another_callable_is_refused(saved, tmp_path):
    config = saved / "config.json"
    document = json.loads(config.read_text())
    target = tmp_path / "written"
    document["fitted"]["scaler_"] = {
        "__kind__": "dataclass",
        "cls": "tsdiff.estimation.serialization:write",
        "fields": {"path": str(target), "document": {}, "tensors": {}},
    }
    config.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="not a tsdiff dataclass"):
        DiffusionImputer.load(saved)
    assert not target.exists()


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("truncate_tensors", "truncated or corrupted"),
        ("garble_config", "invalid JSON"),
        ("old_version", "format version 0, written by tsdiff 0.0.1; this tsdiff reads"),
        ("missing_entry", r"lacks \['fitted'\]"),
        ("wrong_shape", "do not fit the network"),
        ("other_tensors", "not the tensor file saved with"),
        ("unknown_parameter", r"sets parameters \['n_wings'\]"),
    ],
)
def test_a_damaged_model_file_gives_a_clear_error(saved, damage, match):
    config, tensors_file = saved / "config.json", saved / "tensors.pt"
    document = json.loads(config.read_text())
    if damage == "truncate_tensors":
        tensors_file.write_bytes(tensors_file.read_bytes()[:200])
    elif damage == "garble_config":
        config.write_text(config.read_text()[:-20])
    elif damage in ("wrong_shape", "other_tensors"):
        tensors = torch.load(tensors_file, weights_only=True)
        name = next(k for k in tensors if k.startswith("network.") and "weight" in k)
        tensors[name] = torch.zeros(3, 3, 3)
        torch.save(tensors, tensors_file)
        if damage == "wrong_shape":  # a crafted file: its digest made to match
            document["tensors_sha256"] = _sha256(tensors_file)
            config.write_text(json.dumps(document))
    else:
        if damage == "old_version":
            document.update(format_version=0, tsdiff_version="0.0.1")
        elif damage == "missing_entry":
            del document["fitted"]
        else:
            document["params"]["n_wings"] = 2
        config.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=match):
        DiffusionImputer.load(saved)


@pytest.mark.parametrize(
    ("entry", "value", "match"),
    [
        ("fitted", [1, 2], "'fitted' must be a mapping"),
        ("params", 5, "'params' must be a mapping"),
        (
            "fitted.scaler_",
            {"__kind__": "array", "key": "nope"},
            r"fitted\['scaler_'\]",
        ),
        ("fitted.device_", {"__kind__": "device", "device": "bogus"}, "device_"),
        ("fitted.num_samples", 3, r"unexpected entries \['num_samples'\]"),
        ("network_config.n_channels", 10**6, "do not fit the network"),
        ("format_version", True, "format version True"),
    ],
)
def test_a_crafted_description_is_refused_before_anything_is_built(
    saved, entry, value, match
):
    config = saved / "config.json"
    document = json.loads(config.read_text())
    *parents, last = entry.split(".")
    target = document
    for key in parents:
        target = target[key]
    target[last] = value
    if entry == "network_config.n_channels":
        document["network_config"]["n_layers"] = 1000  # terabytes, were it built
    config.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=match):
        DiffusionImputer.load(saved)


def test_a_network_paired_with_another_models_state_is_refused(tiny, data, tmp_path):
    DiffusionImputer(window_length=8, **tiny).fit(data).save(tmp_path / "two")
    wider = data.assign(v2=data["v0"] * 2)
    DiffusionImputer(window_length=8, **tiny).fit(wider).save(tmp_path / "three")
    (tmp_path / "two" / "tensors.pt").write_bytes(
        (tmp_path / "three" / "tensors.pt").read_bytes()
    )
    document = json.loads((tmp_path / "two" / "config.json").read_text())
    three = json.loads((tmp_path / "three" / "config.json").read_text())
    document["network_config"] = three["network_config"]
    document["tensors_sha256"] = three["tensors_sha256"]  # crafted to match
    (tmp_path / "two" / "config.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="pairs a network of 3 variables"):
        DiffusionImputer.load(tmp_path / "two")


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_saving_over_a_folder_leaves_no_partial_files(saved, tiny, data):
    DiffusionImputer(window_length=8, **{**tiny, "random_state": 1}).fit(data).save(
        saved
    )
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "tensors.pt"]
    DiffusionImputer.load(saved)  # the new description matches the new tensors


# -- side effects -----------------------------------------------------------------


def _digest(value):
    if isinstance(value, (pd.DataFrame, pd.Series)):
        hashed = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
        return hashlib.sha256(hashed + repr(value.dtypes).encode()).hexdigest()
    return hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()


def _global_state():
    # The first torch optimiser of a process imports torch._dynamo, and with it
    # sympy, whose import adds a warnings filter of its own (once per process, not
    # tsdiff's doing): import them before any state is compared.
    import torch._dynamo  # noqa: F401

    return (
        pickle.dumps(np.random.get_state()),  # noqa: NPY002 (the legacy state)
        torch.get_rng_state().numpy().tobytes(),
        pickle.dumps(random.getstate()),
        torch.get_num_threads(),
        tuple(warnings.filters),
        torch.get_default_dtype(),
    )


def test_public_calls_change_neither_their_inputs_nor_global_state(tiny, make_frame):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = make_frame(n_steps=48, n_vars=2)
    history, new = frame.iloc[:40], frame.iloc[40:]
    X = pd.DataFrame({"x": np.arange(60.0)}, index=make_frame(n_steps=60).index)
    calls = {
        "imputer": DiffusionImputer(window_length=8, **tiny),
        "forecaster": DiffusionForecaster(
            context_length=8, prediction_length=4, **tiny
        ),
    }
    imputer, forecaster = calls["imputer"], calls["forecaster"]
    steps = [
        (imputer.fit, (frame,), {}),
        (imputer.transform, (frame,), {}),
        (imputer.predict_quantiles, (frame,), {"alpha": [0.1, 0.9]}),
        (imputer.predict_interval, (frame,), {}),
        (imputer.sample, (frame,), {}),
        (imputer.plot, (frame,), {}),
        (forecaster.fit, (history,), {"X": X}),
        (forecaster.predict, (), {"X": X}),
        (forecaster.predict_quantiles, (), {"X": X}),
        (forecaster.predict_interval, (), {"X": X}),
        (forecaster.sample, (), {"X": X}),
        (forecaster.backtest, (history,), {"fh": 2, "n_windows": 2, "X": X}),
        (forecaster.update, (new,), {"X": X}),
        (forecaster.plot, (), {"X": X}),
    ]
    for method, args, kwargs in steps:
        inputs = [*args, *kwargs.values()]
        before = [
            _digest(v) for v in inputs if isinstance(v, (pd.DataFrame, np.ndarray))
        ]
        state = _global_state()
        method(*args, **kwargs)
        after = [
            _digest(v) for v in inputs if isinstance(v, (pd.DataFrame, np.ndarray))
        ]
        assert after == before, method.__name__
        assert _global_state() == state, method.__name__
        plt.close("all")


def test_arrays_panels_and_series_are_left_alone_too(tiny, make_frame, tmp_path):
    frame = make_frame(n_steps=40, n_vars=2)
    array, panel = frame.to_numpy(), np.stack([frame.to_numpy()] * 2)  # (2, T, K)
    series = frame["v0"]
    imputer = DiffusionImputer(window_length=8, **tiny)
    forecaster = DiffusionForecaster(context_length=8, prediction_length=4, **tiny)
    steps = [
        (imputer.fit_transform, array),
        (imputer.transform, array),
        (imputer.fit, panel),
        (imputer.transform, panel),
        (forecaster.fit, series),
        (lambda s: forecaster.predict(y=s), series),
    ]
    for method, value in steps:
        before, state = _digest(value), _global_state()
        method(value)
        assert _digest(value) == before and _global_state() == state
    state = _global_state()
    forecaster.save(tmp_path / "f")
    DiffusionForecaster.load(tmp_path / "f", device="cpu")
    assert _global_state() == state


def test_sampling_many_windows_runs_in_bounded_chunks_collected_on_the_cpu(
    monkeypatch,
):
    from tsdiff.diffusion import NoiseSchedule
    from tsdiff.engine import SamplingConfig, sample_network
    from tsdiff.engine import sampling as sampling_module
    from tsdiff.nn import Denoiser, DenoiserConfig

    sizes = []
    real = sampling_module.get_sampler("ddim")

    def spy(denoise, schedule, x_cond, cond_mask, **kwargs):
        sizes.append(x_cond.shape[0])
        return real(denoise, schedule, x_cond, cond_mask, **kwargs)

    monkeypatch.setattr(sampling_module, "get_sampler", lambda name: spy)
    config = DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=1)
    net = Denoiser(config)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2, 6)).astype(np.float32)
    mask = rng.random(x.shape) < 0.5
    sampling = SamplingConfig(
        num_samples=3, sampler="ddim", sampling_steps=2, batch_size=16
    )
    out = sample_network(
        net, NoiseSchedule.from_name("quad", 5), x, mask, sampling,
        device=torch.device("cpu"), seed=0,
    )  # fmt: skip
    assert isinstance(out, np.ndarray) and out.shape == (3, 50, 2, 6)
    assert max(sizes) <= 16 and sum(sizes) == 150  # every window-sample, once


# -- numerical robustness ---------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["constant", "tiny_scale", "huge_scale", "integers", "float32"]
)
def test_extreme_scales_and_dtypes_give_finite_sensible_outputs(tiny, make_frame, kind):
    frame = make_frame(n_steps=48, n_vars=2, missing=0.0)
    values = frame.to_numpy()
    if kind == "constant":
        values = np.full_like(values, 7.0)
    elif kind == "tiny_scale":
        values = values * 1e-8
    elif kind == "huge_scale":
        values = values * 1e9 + 1e9
    elif kind == "integers":
        values = np.round(values * 10).astype(np.int64)
    else:
        values = values.astype(np.float32)
    clean = pd.DataFrame(values, index=frame.index, columns=frame.columns)
    gappy = clean.astype(float).copy()
    gappy.iloc[[5, 6, 30], 0] = np.nan
    gappy.iloc[12, 1] = np.nan
    lo, hi = clean.to_numpy().min(), clean.to_numpy().max()
    spread = hi - lo if hi > lo else 1.0  # a constant of 7 is scaled by 1

    imputed = DiffusionImputer(window_length=8, **tiny).fit(gappy).transform(gappy)
    filled = imputed.to_numpy()[gappy.isna().to_numpy()]
    assert np.isfinite(imputed.to_numpy()).all()
    assert ((filled > lo - 10 * spread) & (filled < hi + 10 * spread)).all()

    fc = DiffusionForecaster(context_length=8, prediction_length=4, **tiny).fit(clean)
    q = fc.predict_quantiles(alpha=[0.05, 0.5, 0.95])
    assert np.isfinite(q.to_numpy()).all()
    assert (q.to_numpy() > lo - 10 * spread).all() and (
        q.to_numpy() < hi + 10 * spread
    ).all()


def test_a_tiny_constant_variable_is_not_drowned_in_noise_of_one(tiny, make_frame):
    frame = make_frame(n_steps=48, n_vars=2, missing=0.0) * 1e-6
    frame["flat"] = 2e-6  # constant in training: scaled by 2e-6, not by 1
    fc = DiffusionForecaster(context_length=8, prediction_length=4, **tiny).fit(frame)
    assert fc.scaler_.scale[-1] == pytest.approx(2e-6)
    q = fc.predict_quantiles(alpha=[0.05, 0.5, 0.95])
    assert np.abs(q["flat"].to_numpy() - 2e-6).max() < 20 * 2e-6  # not ~1 wide
    assert np.abs(q[["v0", "v1"]].to_numpy()).max() < 1e-4  # the data's own units
