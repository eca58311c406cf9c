"""Run by ``torchrun`` in ``test_distributed.py``: one tiny distributed fit per
process (gloo on the CPU), each writing what it ended with to ``OUT/rank<r>.pt``.

Usage: ``ddp_worker.py OUT [hard|latent]``; ``hard`` fits one variable (so the
attention across variables is skipped) over patch tokens, without a random_state,
with a validation split and early stopping: everything that could make the processes
disagree; ``latent`` fits a latent diffusion model (its autoencoder first).
"""

import os
import sys

import numpy as np
import pandas as pd
import torch
from conftest import TINY  # this script's folder, tests/, comes first on the path

from tsdiff import DiffusionImputer

out = sys.argv[1]
hard = sys.argv[2:] == ["hard"]
latent = sys.argv[2:] == ["latent"]
rng = np.random.default_rng(0)
values = np.sin(np.arange(120.0)[:, None] / 6 + [0.0, 1.0]) + 0.1 * rng.normal(
    size=(120, 2)
)
values[rng.random(values.shape) < 0.1] = np.nan
frame = pd.DataFrame(values, columns=["a", "b"])
params = {**TINY, "n_epochs": 3, "ema_decay": 0.9, "num_samples": 4, "device": "cpu"}
if hard:
    frame = frame[["a"]]
    params |= {"random_state": None, "n_epochs": 6, "validation_fraction": 0.25}
    params |= {"early_stopping_patience": 1, "patch_length": 4}
if latent:
    params |= {"patch_length": 4, "latent_dim": 2}
imputer = DiffusionImputer(
    window_length=12, **params, checkpoint_path=os.path.join(out, "checkpoint.pt")
)
imputer.fit(frame)
torch.save(
    {
        "weights": imputer.network_.state_dict()
        | {
            f"autoencoder.{k}": v
            for k, v in (imputer.model_.autoencoder or torch.nn.Module())
            .state_dict()
            .items()
        },
        "history": imputer.history_,
        "rank": int(os.environ["RANK"]),
        "world": int(os.environ["WORLD_SIZE"]),
    },
    os.path.join(out, f"rank{os.environ['RANK']}.pt"),
)
# As every torchrun script should: leave the process group before exiting.
torch.distributed.barrier()
torch.distributed.destroy_process_group()
