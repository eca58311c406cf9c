"""Data-parallel training under ``torchrun``: two CPU processes with gloo."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tsdiff.engine.distributed import World

WORKER = Path(__file__).with_name("ddp_worker.py")


def test_two_processes_train_one_model(tmp_path):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc_per_node", "2", str(WORKER), str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2]
    # Both end with the same weights and the same history (losses of both shards).
    for key, value in ranks[0]["weights"].items():
        torch.testing.assert_close(ranks[1]["weights"][key], value, rtol=0, atol=0)
    losses = [[e["train_loss"] for e in r["history"]] for r in ranks]
    assert losses[0] == losses[1] and len(losses[0]) == 3
    assert all(e["processes"] == 2 for e in ranks[0]["history"])
    # Rank 0 wrote the checkpoint of the finished fit.
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert len(saved["history"]) == 3


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
