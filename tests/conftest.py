"""Shared fixtures: small seeded series and tiny model configurations (seconds).

The estimator tests run on the CPU; set ``TSDIFF_TEST_DEVICE=cuda`` to run the same
suite on a GPU.
"""

import os

import numpy as np
import pandas as pd
import pytest
import torch

TINY = dict(
    n_layers=1,
    n_channels=8,
    n_heads=2,
    time_embedding_dim=8,
    feature_embedding_dim=4,
    diffusion_embedding_dim=8,
    n_diffusion_steps=5,
    n_epochs=2,
    steps_per_epoch=3,
    batch_size=16,
    num_samples=8,
    device=os.environ.get("TSDIFF_TEST_DEVICE", "cpu"),
    random_state=0,
)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def tiny():
    """Keyword arguments of a tiny configuration shared by both estimators."""
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_shared():
    """:func:`tiny` for fixtures that fit once per module (do not modify it)."""
    return dict(TINY)


def make_frame(n_steps=64, n_vars=3, missing=0.1, seed=0):
    """Hourly DataFrame of noisy sines with a share of values missing at random."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_vars)
    values = np.sin(2 * np.pi * t / 12 + phase) + 0.1 * rng.standard_normal(
        (n_steps, n_vars)
    )
    values[rng.random(values.shape) < missing] = np.nan
    index = pd.date_range("2024-01-01", periods=n_steps, freq="h")
    return pd.DataFrame(values, index=index, columns=[f"v{k}" for k in range(n_vars)])


def check_samples(samples, frame, n):
    """``n`` finite samples (S, T, K) of ``frame`` that keep its observed cells
    exactly and draw its gaps (they vary across samples)."""
    observed = frame.notna().to_numpy()
    assert samples.shape == (n, *frame.shape) and np.isfinite(samples).all()
    np.testing.assert_array_equal(
        samples[:, observed],
        np.broadcast_to(frame.to_numpy()[observed], (n, observed.sum())),
    )
    assert samples[:, ~observed].std(axis=0).min() > 0  # gaps are drawn, not fixed


@pytest.fixture(name="check_samples", scope="session")
def check_samples_fixture():
    """The :func:`check_samples` assertion."""
    return check_samples


@pytest.fixture(name="make_frame", scope="session")
def make_frame_fixture():
    """The :func:`make_frame` factory."""
    return make_frame


@pytest.fixture
def frame():
    """DataFrame (64 hourly steps x 3 variables) with about 10 % NaN."""
    return make_frame()
