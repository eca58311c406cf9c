"""The sampling engine's work-savers: windows shared out across devices (the
plumbing on two CPU "devices", the real thing on two GPUs where there are) and side
information projected once per batch."""

import dataclasses

import numpy as np
import pytest
import torch

from tsdiff.diffusion import NoiseSchedule
from tsdiff.engine import SamplingConfig
from tsdiff.engine.sampling import _devices, _sample_on, _sample_sharded, sample_network
from tsdiff.nn import Denoiser, DenoiserConfig


def _problem(n_windows=5):
    config = DenoiserConfig(
        n_features=2, n_layers=1, n_channels=8, n_heads=2, time_embedding_dim=8,
        feature_embedding_dim=4, diffusion_embedding_dim=8,
    )  # fmt: skip
    network = Denoiser(config)
    network.reset_parameters(torch.Generator().manual_seed(0))
    rng = np.random.default_rng(0)
    x_cond = rng.normal(size=(n_windows, 2, 6)).astype(np.float32)
    mask = rng.random(x_cond.shape) < 0.5  # (N, K, L)
    schedule = NoiseSchedule.from_name("quad", 5)
    return network, schedule, x_cond, mask, SamplingConfig(num_samples=3)


def test_shares_are_sampled_in_window_order_each_with_its_seed():
    network, schedule, x_cond, mask, config = _problem()
    cpu = torch.device("cpu")
    out = _sample_sharded(network, schedule, x_cond, mask, config, [cpu, cpu], 11)
    assert out.shape == (3, 5, 2, 6)  # (S, N, K, L)
    first = _sample_on(network, schedule, x_cond[:3], mask[:3], config, cpu, 11)
    second = _sample_on(network, schedule, x_cond[3:], mask[3:], config, cpu, 11 + 7919)
    np.testing.assert_array_equal(out, np.concatenate([first, second], axis=1))
    given = np.broadcast_to(x_cond, out.shape)
    np.testing.assert_array_equal(out[:, mask], given[:, mask])


def test_a_latent_model_is_shared_out_with_its_autoencoder():
    from tsdiff.nn import AutoencoderConfig, PatchAutoencoder

    _, schedule, x_cond, mask, config = _problem()
    network = Denoiser(
        DenoiserConfig(n_features=2, n_layers=1, n_channels=8, n_heads=2,
                       patch_length=2, context_input=True)
    )  # fmt: skip
    network.reset_parameters(torch.Generator().manual_seed(0))
    codec = PatchAutoencoder(AutoencoderConfig(patch_length=3, latent_dim=2))
    codec.reset_parameters(torch.Generator().manual_seed(1))
    cpu = torch.device("cpu")
    out = _sample_sharded(
        network, schedule, x_cond, mask, config, [cpu, cpu], 11, codec=codec
    )
    first = _sample_on(
        network, schedule, x_cond[:3], mask[:3], config, cpu, 11, codec=codec
    )
    np.testing.assert_array_equal(out[:, :3], first)
    given = np.broadcast_to(x_cond, out.shape)
    np.testing.assert_array_equal(out[:, mask], given[:, mask])


def test_fewer_windows_than_devices_use_fewer_devices():
    network, schedule, x_cond, mask, config = _problem(n_windows=1)
    cpu = torch.device("cpu")
    out = _sample_sharded(network, schedule, x_cond, mask, config, [cpu] * 3, 4)
    np.testing.assert_array_equal(
        out, _sample_on(network, schedule, x_cond, mask, config, cpu, 4)
    )


def test_cached_side_projections_change_nothing_but_the_work():
    network, schedule, x_cond, mask, config = _problem()
    calls = []
    network.blocks[0].side_projection.register_forward_hook(lambda *_: calls.append(1))
    cpu = torch.device("cpu")
    cached = sample_network(network, schedule, x_cond, mask, config, device=cpu, seed=2)
    assert len(calls) == 1  # one batch, five steps: projected once
    config = dataclasses.replace(config, cache_side=False)
    fresh = sample_network(network, schedule, x_cond, mask, config, device=cpu, seed=2)
    assert len(calls) == 1 + 5  # once per step
    np.testing.assert_array_equal(cached, fresh)


def test_a_cpu_or_an_indexed_gpu_is_one_device():
    assert _devices(torch.device("cpu")) == [torch.device("cpu")]
    assert _devices(torch.device("cuda", 0)) == [torch.device("cuda", 0)]


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_windows_are_shared_out_across_every_visible_gpu():
    network, schedule, x_cond, mask, config = _problem(n_windows=8)
    cuda = torch.device("cuda")
    assert len(_devices(cuda)) == torch.cuda.device_count()
    out = sample_network(network, schedule, x_cond, mask, config, device=cuda, seed=3)
    assert out.shape == (3, 8, 2, 6) and np.isfinite(out).all()
    np.testing.assert_array_equal(
        out,
        sample_network(network, schedule, x_cond, mask, config, device=cuda, seed=3),
    )


def test_compiled_sampling_pads_the_last_chunk_to_one_shape(monkeypatch):
    import tsdiff.engine.sampling as sampling

    sizes = []

    def recording(network, enabled):
        def call(x_t, *args, **kwargs):
            sizes.append(x_t.shape[0])
            return network(x_t, *args, **kwargs)

        call.side_info, call.project_side = network.side_info, network.project_side
        return call

    monkeypatch.setattr(sampling, "compiled", recording)
    network, schedule, x_cond, mask, config = _problem()  # 5 windows x 3 samples
    config = dataclasses.replace(config, compile=True, batch_size=4)
    cpu = torch.device("cpu")
    out = sample_network(network, schedule, x_cond, mask, config, device=cpu, seed=0)
    assert set(sizes) == {4} and len(sizes) == 4 * 5  # 4 chunks of 4 rows, 5 steps
    assert out.shape == (3, 5, 2, 6) and np.isfinite(out).all()
    np.testing.assert_array_equal(
        out[:, mask], np.broadcast_to(x_cond, out.shape)[:, mask]
    )
