"""Data-parallel training under ``torchrun``: two CPU processes with gloo."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tsdiff.engine.distributed import World

WORKER = Path(__file__).with_name("ddp_worker.py")


def _run_two_processes(out, *extra):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc_per_node", "2", str(WORKER), str(out), *extra,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in (0, 1)]


def _assert_same_model(ranks):
    for key, value in ranks[0]["weights"].items():
        torch.testing.assert_close(ranks[1]["weights"][key], value, rtol=0, atol=0)
    untimed = [
        [{k: v for k, v in e.items() if k != "seconds"} for e in r["history"]]
        for r in ranks
    ]
    assert untimed[0] == untimed[1]  # losses, stopping, everything but wall time


def test_two_processes_train_one_model(tmp_path):
    ranks = _run_two_processes(tmp_path)
    assert [r["world"] for r in ranks] == [2, 2]
    # Both end with the same weights and the same history (losses of both shards).
    _assert_same_model(ranks)
    losses = [[e["train_loss"] for e in r["history"]] for r in ranks]
    assert losses[0] == losses[1] and len(losses[0]) == 3
    assert all(e["processes"] == 2 for e in ranks[0]["history"])
    # Rank 0 wrote the checkpoint of the finished fit.
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert len(saved["history"]) == 3


def test_processes_agree_without_a_seed_with_one_variable_and_early_stopping(
    tmp_path,
):
    # Unseeded processes train from rank 0's seeds; a single variable (over patch
    # tokens) leaves the attention across variables unused; validation losses and
    # the decision to stop early are shared, so no process waits for another that
    # has stopped.
    ranks = _run_two_processes(tmp_path, "hard")
    _assert_same_model(ranks)
    assert "val_loss" in ranks[0]["history"][0]


def test_processes_agree_on_a_latent_model_and_its_autoencoder(tmp_path):
    ranks = _run_two_processes(tmp_path, "latent")
    _assert_same_model(ranks)  # the autoencoder's weights are compared too
    assert any(k.startswith("autoencoder.") for k in ranks[0]["weights"])


def test_too_few_windows_for_the_processes_is_an_error():
    from tsdiff.data import WindowSource
    from tsdiff.diffusion import NoiseSchedule
    from tsdiff.engine import TrainingConfig, fit_network
    from tsdiff.nn import Denoiser, DenoiserConfig

    network = Denoiser(DenoiserConfig(n_features=1, n_layers=1, n_channels=8))
    x0 = np.zeros((3, 1, 4), dtype=np.float32)  # (N, K, L)
    windows = WindowSource.from_windows(x0, x0 == 0)
    with pytest.raises(ValueError, match="3 training windows cannot be shared"):
        fit_network(
            network, NoiseSchedule.from_name("quad", 5), windows,
            lambda observed, generator: observed, TrainingConfig(n_epochs=1),
            device=torch.device("cpu"), seed=0, world=World(rank=0, size=4),
        )  # fmt: skip


def test_shards_are_disjoint_equal_and_cover_the_epoch():
    order = torch.randperm(11, generator=torch.Generator().manual_seed(0))
    shards = [World(rank=r, size=3).shard(order) for r in range(3)]
    assert [len(s) for s in shards] == [3, 3, 3]  # equal steps in every process
    together = torch.cat(shards)
    assert len(set(together.tolist())) == 9  # disjoint
    assert set(together.tolist()) <= set(order.tolist())
    assert torch.equal(World().shard(order), order)  # a plain fit keeps them all


def test_a_plain_fit_needs_no_process_group(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    from tsdiff.engine.distributed import world

    assert world(torch.device("cpu")) == World()
    assert not torch.distributed.is_initialized()


@pytest.mark.parametrize("flag", [True, False])
def test_a_plain_world_decides_alone(flag):
    assert World().any(flag, torch.device("cpu")) is flag
