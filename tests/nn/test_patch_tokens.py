"""The denoiser over patch tokens (``DenoiserConfig.patch_length``)."""

import pytest
import torch

from tsdiff.engine._fingerprint import config_text
from tsdiff.nn import Denoiser, DenoiserConfig

P = 3
CONFIG = DenoiserConfig(
    n_features=4,
    n_layers=2,
    n_channels=16,
    n_heads=2,
    time_embedding_dim=8,
    feature_embedding_dim=4,
    diffusion_embedding_dim=8,
    lags=(4,),
    interpolated_input=True,
    patch_length=P,
)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _inputs(B=2, K=4, L=12, seed=1):
    g = _gen(seed)
    return [
        torch.randn(B, K, L, generator=g),  # x_t
        torch.randint(0, 50, (B,), generator=g).float(),  # noise level
        torch.randn(B, K, L, generator=g),  # x_cond
        torch.rand(B, K, L, generator=g) < 0.5,  # cond_mask
    ]


@pytest.fixture(scope="module")
def net():
    """A patched network whose output layer is no longer zero."""
    net = Denoiser(CONFIG)
    net.reset_parameters(_gen(0))
    torch.nn.init.normal_(net.output_projection.weight, generator=_gen(1))
    return net.eval()


def test_blocks_attend_over_patches_and_every_step_gets_its_own_value(net):
    seen = []
    hook = net.blocks[0].time_layer.register_forward_hook(
        lambda module, args, out: seen.append(tuple(args[0].shape))
    )
    with torch.no_grad():
        out = net(*_inputs(B=2, K=4, L=12))
    hook.remove()
    assert seen == [(2 * 4, 12 // P, 16)]  # (B * K, L / P, C): 4 tokens per series
    assert out.shape == (2, 4, 12) and torch.isfinite(out).all()
    patches = out.reshape(2, 4, 12 // P, P)
    assert (patches.std(dim=-1) > 0).all()  # the P steps of a token differ


def test_patched_network_reads_only_what_it_may(net):
    x_t, level, x_cond, mask = _inputs()
    with torch.no_grad():
        out = net(x_t, level, x_cond, mask)
        unread_t = torch.where(mask, torch.nan, x_t)
        unread_cond = torch.where(mask, x_cond, torch.nan)
        garbage = net(unread_t, level, unread_cond, mask)
    assert torch.equal(garbage, out)
    # A given value at one step moves the prediction of the other steps of its
    # token, and so does the mask of that one step.
    b, k, step = (int(i) for i in mask.nonzero()[0])
    moved, unmasked = x_cond.clone(), mask.clone()
    moved[b, k, step] += 1.0
    unmasked[b, k, step] = False
    token = slice(step - step % P, step - step % P + P)
    with torch.no_grad():
        for changed in (
            net(x_t, level, moved, mask),
            net(x_t, level, x_cond, unmasked),
        ):
            assert not torch.allclose(changed[b, k, token], out[b, k, token])


def test_projected_side_information_is_cached_per_token(net):
    x_t, level, x_cond, mask = _inputs()
    with torch.no_grad():
        projections = net.project_side(net.side_info(mask))
        assert [p.shape for p in projections] == [(2, 4, 12 // P, 32)] * 2
        cached = net(x_t, level, x_cond, mask, side_projections=projections)
        assert torch.allclose(cached, net(x_t, level, x_cond, mask), atol=1e-6)


def test_windows_must_split_into_whole_patches(net):
    x_t, level, x_cond, mask = _inputs(L=10)
    with pytest.raises(ValueError, match="multiple of patch_length"):
        net(x_t, level, x_cond, mask)
    with pytest.raises(ValueError, match="multiple of patch_length"):
        net.project_side(net.side_info(mask))


def test_full_resolution_configs_read_as_before():
    # Checkpoints of networks made before patches existed name no patch_length.
    full = Denoiser(DenoiserConfig(n_features=2, n_channels=8, n_heads=2))
    assert "patch_length" not in config_text(full)
    patched = Denoiser(
        DenoiserConfig(n_features=2, n_channels=8, n_heads=2, patch_length=2)
    )
    assert "patch_length=2" in config_text(patched)
    with pytest.raises(ValueError, match="patch_length must be >= 1"):
        DenoiserConfig(n_features=2, patch_length=0)
