"""Training controls: time limit, resumable checkpoints, moving average of weights."""

import numpy as np
import pytest
import torch

from tsdiff import DiffusionImputer
from tsdiff.engine.distributed import device_name


def _weights(estimator):
    return {
        k: v.detach().cpu().clone() for k, v in estimator.network_.state_dict().items()
    }


def _losses(history):
    return [
        {k: v for k, v in r.items() if k not in ("seconds", "stopped")} for r in history
    ]


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


@pytest.fixture
def data(make_frame):
    return make_frame(n_steps=48, n_vars=2)


@pytest.mark.parametrize(
    ("ema_decay", "process", "patch_length"),
    [(None, "ddpm", 1), (0.9, "ddpm", 1), (None, "ve", 2), (None, "ddpm", "4:2")],
)
def test_interrupted_and_resumed_fit_equals_an_uninterrupted_one(
    tiny, data, tmp_path, ema_decay, process, patch_length
):
    params = dict(tiny, window_length=8, n_epochs=4, ema_decay=ema_decay)
    patch, _, latent = str(patch_length).partition(":")  # "P:D": latent diffusion
    params |= {"process": process, "patch_length": int(patch)}
    params |= {"latent_dim": int(latent) if latent else None}
    straight = DiffusionImputer(**params).fit(data)
    path = tmp_path / "state.pt"
    # A time limit of ~0 s stops after the first epoch; the checkpoint holds it.
    first = DiffusionImputer(**params, checkpoint_path=path, max_fit_time=1e-9)
    first.fit(data)
    assert len(first.history_) == 1 and path.exists()
    assert first.history_[-1]["stopped"] == "max_fit_time"
    resumed = DiffusionImputer(**params, checkpoint_path=str(path)).fit(data)
    assert [r["epoch"] for r in resumed.history_] == [1, 2, 3, 4]
    assert not any("stopped" in r for r in resumed.history_)
    where = {r["device"] for r in resumed.history_}  # where each epoch ran
    assert where == {device_name(resumed.device_)}
    assert _losses(resumed.history_) == _losses(straight.history_)
    _assert_same_weights(_weights(resumed), _weights(straight))
    np.testing.assert_array_equal(resumed.transform(data), straight.transform(data))


def test_finished_checkpoint_returns_the_finished_fit(tiny, data, tmp_path):
    params = dict(tiny, window_length=8, checkpoint_path=tmp_path / "s.pt")
    done = DiffusionImputer(**params).fit(data)
    again = DiffusionImputer(**params).fit(data)
    assert again.history_ == done.history_  # nothing retrained
    _assert_same_weights(_weights(again), _weights(done))


@pytest.mark.parametrize(
    "setting",
    [
        {"learning_rate": 5e-3},
        {"loss": "v"},
        {"center_windows": True},
        {"scale_windows": True},
    ],
)
def test_checkpoint_of_another_fit_is_refused(tiny, data, tmp_path, setting):
    path = tmp_path / "s.pt"
    DiffusionImputer(**dict(tiny, window_length=8), checkpoint_path=path).fit(data)
    other = DiffusionImputer(
        **dict(tiny, window_length=8, **setting), checkpoint_path=path
    )
    with pytest.raises(ValueError, match="other data or settings"):
        other.fit(data)
    changed = data.copy()
    changed.iloc[0, 0] = 10.0
    with pytest.raises(ValueError, match="other data or settings"):
        DiffusionImputer(**dict(tiny, window_length=8), checkpoint_path=path).fit(
            changed
        )


def test_unreadable_checkpoint_names_the_file(tiny, data, tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"not a checkpoint")
    imp = DiffusionImputer(**dict(tiny, window_length=8), checkpoint_path=path)
    with pytest.raises(ValueError, match="broken.pt could not be read"):
        imp.fit(data)


def test_time_limit_without_checkpoint_keeps_a_usable_model(tiny, data):
    imp = DiffusionImputer(**dict(tiny, window_length=8, n_epochs=5), max_fit_time=1e-9)
    imp.fit(data)
    assert len(imp.history_) == 1
    assert np.isfinite(imp.transform(data).to_numpy()).all()


def test_moving_average_changes_the_evaluated_weights(tiny, data):
    plain = DiffusionImputer(**dict(tiny, window_length=8)).fit(data)
    averaged = DiffusionImputer(**dict(tiny, window_length=8), ema_decay=0.5).fit(data)
    assert _losses(plain.history_) == _losses(averaged.history_)  # same path
    differs = [
        not torch.equal(a, b)
        for a, b in zip(
            _weights(plain).values(), _weights(averaged).values(), strict=True
        )
    ]
    assert any(differs)


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("ema_decay", 1.0, "ema_decay"),
        ("ema_decay", 0.0, "ema_decay"),
        ("max_fit_time", 0.0, "max_fit_time"),
        ("checkpoint_path", 3, "checkpoint_path"),
        ("mixed_precision", "yes", "mixed_precision"),
        ("compile", 1, "compile"),
        ("loss", "x0", "loss"),
    ],
)
def test_bad_training_controls_are_named(tiny, data, param, value, match):
    imp = DiffusionImputer(**dict(tiny, window_length=8), **{param: value})
    with pytest.raises((ValueError, TypeError), match=match):
        imp.fit(data)


def test_checkpoint_path_survives_save_and_load(tiny, data, tmp_path):
    imp = DiffusionImputer(
        **dict(tiny, window_length=8), checkpoint_path=tmp_path / "c"
    )
    imp.fit(data)
    imp.save(tmp_path / "model")
    loaded = DiffusionImputer.load(tmp_path / "model", device="cpu")
    assert loaded.checkpoint_path == tmp_path / "c"


def test_checkpoint_of_another_architecture_or_mask_policy_is_refused(
    tiny, data, tmp_path
):
    path = tmp_path / "s.pt"
    DiffusionImputer(**dict(tiny, window_length=8), checkpoint_path=path).fit(data)
    changes = ({"n_channels": 16}, {"target_strategy": "block"}, {"process": "vp"})
    for change in changes:
        other = DiffusionImputer(**dict(tiny, window_length=8, **change))
        with pytest.raises(ValueError, match="other data or settings"):
            other.set_params(checkpoint_path=path).fit(data)


def test_moving_average_warms_up_then_keeps_the_decay():
    from tsdiff.engine._state import ema_update as _ema_update

    averaged = torch.nn.Linear(2, 1)
    network = torch.nn.Linear(2, 1)
    with torch.no_grad():
        averaged.weight.fill_(0.0)
        network.weight.fill_(1.0)
    # Step 1: d = min(0.999, 2 / 11), so the average moves 9/11 of the way.
    _ema_update(averaged, network, 0.999, step=1)
    torch.testing.assert_close(averaged.weight, torch.full((1, 2), 9 / 11))
    # Late in training the decay itself applies.
    _ema_update(averaged, network, 0.5, step=10_000)
    torch.testing.assert_close(averaged.weight, torch.full((1, 2), 0.5 * 9 / 11 + 0.5))


def test_mixed_precision_is_a_no_op_on_cpu(tiny, data):
    a = DiffusionImputer(**dict(tiny, window_length=8), mixed_precision=True)
    b = DiffusionImputer(**dict(tiny, window_length=8), mixed_precision=False)
    np.testing.assert_array_equal(
        a.fit(data).transform(data), b.fit(data).transform(data)
    )


def test_compiled_network_trains_and_samples_like_eager(tiny, data, tmp_path):
    """compile=True is the same model: the same losses and (up to kernel-fusion
    rounding) the same imputations; a checkpoint written compiled resumes eagerly."""
    path = tmp_path / "c.pt"
    eager = DiffusionImputer(**dict(tiny, window_length=8)).fit(data)
    fast = DiffusionImputer(
        **dict(tiny, window_length=8), compile=True, checkpoint_path=path
    ).fit(data)
    losses = [[r["train_loss"] for r in m.history_] for m in (eager, fast)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
    np.testing.assert_allclose(
        eager.transform(data), fast.transform(data), rtol=1e-3, atol=1e-4
    )
    resumed = DiffusionImputer(**dict(tiny, window_length=8), checkpoint_path=path)
    assert resumed.fit(data).history_ == fast.history_  # finished: nothing retrained


def test_a_failing_compiler_falls_back_to_eager_with_a_warning(
    tiny, data, monkeypatch, caplog
):
    def broken_compile(network, **kwargs):
        def call(*args, **kw):
            raise RuntimeError("no C++ compiler found")

        return call

    monkeypatch.setattr(torch, "compile", broken_compile)
    eager = DiffusionImputer(**dict(tiny, window_length=8)).fit(data)
    with caplog.at_level("WARNING", logger="tsdiff.engine.compilation"):
        fallback = DiffusionImputer(**dict(tiny, window_length=8), compile=True)
        fallback.fit(data)
        out = fallback.transform(data)
    assert "torch.compile failed (RuntimeError: no C++ compiler found)" in caplog.text
    assert _losses(fallback.history_) == _losses(eager.history_)
    np.testing.assert_array_equal(out, eager.transform(data))


def test_input_errors_pass_through_the_compiled_network_and_keep_it():
    from tsdiff.engine.compilation import _CompiledOrEager

    def compiled_call(*args):
        raise ValueError("x_t must have shape (B, K, L)")

    wrapper = _CompiledOrEager(lambda *args: "eager", compiled_call)
    with pytest.raises(ValueError, match="x_t must have shape"):
        wrapper(1)
    assert wrapper._compiled is compiled_call  # not mistaken for a compiler failure


def test_the_velocity_loss_reaches_training(tiny, data):
    params = dict(tiny, window_length=8)
    noise = DiffusionImputer(**params).fit(data)
    velocity = DiffusionImputer(**params, loss="v").fit(data)
    # Same seed, same draws: only the weighting of the loss differs.
    first = [r["train_loss"] for r in noise.history_]
    second = [r["train_loss"] for r in velocity.history_]
    assert all(b > a for a, b in zip(first, second, strict=True))  # weights >= 1


def test_the_velocity_loss_needs_the_velocity_readout(tiny, data):
    imputer = DiffusionImputer(
        **dict(tiny, window_length=8), loss="v", parameterization="epsilon"
    )
    with pytest.raises(ValueError, match="'v' only with parameterization='v'"):
        imputer.fit(data)


def test_models_saved_before_an_option_existed_keep_their_setting(tiny, data, tmp_path):
    import json
    import pickle

    from tsdiff.engine import SETTINGS_BEFORE_OPTIONS

    fitted = DiffusionImputer(
        **dict(tiny, window_length=8), center_windows=True, calibration_share=None
    )
    fitted.fit(data)
    fitted.save(tmp_path / "m")
    config = tmp_path / "m" / "config.json"
    document = json.loads(config.read_text())
    imputer_options = [k for k in SETTINGS_BEFORE_OPTIONS if k in document["params"]]
    for name in imputer_options:  # as written before the options existed
        del document["params"][name]
    del document["fitted"]["window_frame_"]  # recorded at fit since scale_windows
    del document["model"]  # recorded since the estimators hold a DiffusionModel
    config.write_text(json.dumps(document))
    loaded = DiffusionImputer.load(tmp_path / "m")
    assert (loaded.center_windows, loaded.loss) == (True, "epsilon")
    assert loaded.scale_windows is False
    np.testing.assert_array_equal(
        loaded.sample(data, random_state=0), fitted.sample(data, random_state=0)
    )
    state = fitted.__getstate__()
    for name in [*imputer_options, "_model_spec"]:
        del state[name]
    old = pickle.loads(pickle.dumps(fitted))
    old.__dict__.clear()
    old.__setstate__(state)
    assert old.get_params()["center_windows"] is True
    assert old.get_params()["loss"] == "epsilon"
    assert old.window_frame_ == loaded.window_frame_ == (True, False)
    np.testing.assert_array_equal(
        old.sample(data, random_state=0), fitted.sample(data, random_state=0)
    )


def test_a_network_without_covariates_or_lags_reads_as_before_them():
    # Checkpoints written before covariates and lags existed must still resume: the
    # architecture reads as it did then unless they are used.
    from tsdiff.engine._fingerprint import config_text
    from tsdiff.nn import Denoiser, DenoiserConfig

    size = dict(n_features=1, n_layers=1, n_channels=4, n_heads=1)
    text = config_text(Denoiser(DenoiserConfig(**size)))
    assert text.endswith("diffusion_embedding_dim=128)")
    assert "n_covariates" not in text and "lags" not in text
    used = config_text(Denoiser(DenoiserConfig(**size, n_covariates=2, lags=(3,))))
    assert "n_covariates=2" in used and "lags=(3,)" in used


def test_checkpoint_written_on_another_kind_of_device_says_so(tiny, data, tmp_path):
    # A CUDA generator's state (16 bytes) cannot seed the CPU's: a GPU checkpoint
    # resumed on a CPU is refused with a message about the device, not the network.
    path = tmp_path / "gpu.pt"
    params = dict(tiny, window_length=8, checkpoint_path=path)
    DiffusionImputer(**params, max_fit_time=1e-9).fit(data)
    payload = torch.load(path, weights_only=True)
    payload["noise_gen"] = torch.zeros(16, dtype=torch.uint8)  # a CUDA state's size
    torch.save(payload, path)
    with pytest.raises(ValueError, match="another kind of device than cpu"):
        DiffusionImputer(**params).fit(data)
