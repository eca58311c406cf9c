"""GPU behaviour: training and sampling on CUDA, moving models between devices.

Marked ``gpu``; skipped without CUDA. The whole contract suite also runs on a GPU with
``TSDIFF_TEST_DEVICE=cuda``.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionForecaster, DiffusionImputer

pytestmark = pytest.mark.gpu


@pytest.fixture
def gpu_tiny(tiny):
    return {**tiny, "device": "cuda"}


def test_auto_device_picks_the_gpu(tiny, frame):
    imp = DiffusionImputer(window_length=16, **{**tiny, "device": "auto"}).fit(frame)
    assert imp.device_.type == "cuda"
    assert next(imp.network_.parameters()).is_cuda


def test_gpu_results_are_deterministic(gpu_tiny, frame):
    a = DiffusionForecaster(context_length=12, prediction_length=4, **gpu_tiny)
    b = DiffusionForecaster(context_length=12, prediction_length=4, **gpu_tiny)
    qa = a.fit(frame).predict_quantiles()
    pd.testing.assert_frame_equal(qa, b.fit(frame).predict_quantiles())
    pd.testing.assert_frame_equal(qa, a.predict_quantiles())


def test_gpu_model_saves_and_loads_on_cpu(gpu_tiny, frame, tmp_path):
    imp = DiffusionImputer(window_length=16, **gpu_tiny).fit(frame)
    imp.save(tmp_path / "m")
    cpu = DiffusionImputer.load(tmp_path / "m", device="cpu")
    assert not next(cpu.network_.parameters()).is_cuda
    out = cpu.transform(frame)
    observed = frame.notna().to_numpy()
    np.testing.assert_array_equal(out.to_numpy()[observed], frame.to_numpy()[observed])
    gpu_state = imp.network_.state_dict()
    for name, weight in cpu.network_.state_dict().items():
        torch.testing.assert_close(weight, gpu_state[name].cpu(), rtol=0, atol=0)


def test_pickle_holds_weights_on_cpu(gpu_tiny, frame, monkeypatch):
    fc = DiffusionForecaster(context_length=12, prediction_length=4, **gpu_tiny)
    fc.fit(frame)
    payload = pickle.dumps(fc)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = pickle.loads(payload)
    assert restored.device_.type == "cpu"
    assert restored.predict().shape == (4, 3)


def test_large_batches_are_chunked(gpu_tiny, frame):
    imp = DiffusionImputer(window_length=16, **{**gpu_tiny, "num_samples": 64})
    imp.fit(frame)
    whole = imp.sample(frame)
    imp.set_params(predict_batch_size=7)
    chunked = imp.sample(frame)
    assert whole.shape == chunked.shape == (64, len(frame), 3)
    assert np.isfinite(chunked).all()


def test_mixed_precision_sampling_stays_close_to_full_precision(gpu_tiny, frame):
    imp = DiffusionImputer(window_length=16, mixed_precision=False, **gpu_tiny)
    imp.fit(frame)
    full = imp.sample(frame, num_samples=256)
    mixed = imp.set_params(mixed_precision=True).sample(frame, num_samples=256)
    assert full.dtype == mixed.dtype == np.float64
    gaps = frame.isna().to_numpy()
    # The same network: bf16 changes individual draws, not the distribution of the
    # filled cells.
    spread = full[:, gaps].std()
    assert abs(full[:, gaps].mean() - mixed[:, gaps].mean()) < 0.1 * spread
    assert 0.8 < mixed[:, gaps].std() / spread < 1.25


@pytest.mark.parametrize("mode", [True, "reduce-overhead"])
def test_compiled_network_trains_and_samples_like_eager(gpu_tiny, frame, mode):
    """compile=True (and CUDA graphs) run the same model: same training trajectory
    within bf16 and kernel-fusion rounding, and samples from the same
    distribution."""
    eager = DiffusionImputer(window_length=16, **gpu_tiny).fit(frame)
    fast = DiffusionImputer(window_length=16, compile=mode, **gpu_tiny).fit(frame)
    losses = [[r["train_loss"] for r in m.history_] for m in (eager, fast)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=0.05)
    gaps = frame.isna().to_numpy()
    a = eager.sample(frame, num_samples=256)[:, gaps]
    b = fast.sample(frame, num_samples=256)[:, gaps]
    assert np.isfinite(b).all()
    assert abs(a.mean() - b.mean()) < 0.1 * a.std()
    assert 0.8 < b.std() / a.std() < 1.25
