"""Run by ``torchrun`` in ``test_distributed.py``: one tiny distributed fit per
process (gloo on the CPU), each writing what it ended with to ``OUT/rank<r>.pt``."""

import os
import sys

import numpy as np
import pandas as pd
import torch
from conftest import TINY  # this script's folder, tests/, comes first on the path

from tsdiff import DiffusionImputer

out = sys.argv[1]
rng = np.random.default_rng(0)
values = np.sin(np.arange(120.0)[:, None] / 6 + [0.0, 1.0]) + 0.1 * rng.normal(
    size=(120, 2)
)
values[rng.random(values.shape) < 0.1] = np.nan
frame = pd.DataFrame(values, columns=["a", "b"])
imputer = DiffusionImputer(
    window_length=12,
    **{**TINY, "n_epochs": 3, "ema_decay": 0.9, "num_samples": 4, "device": "cpu"},
    checkpoint_path=os.path.join(out, "checkpoint.pt"),
)
imputer.fit(frame)
torch.save(
    {
        "weights": imputer.network_.state_dict(),
        "history": imputer.history_,
        "rank": int(os.environ["RANK"]),
        "world": int(os.environ["WORLD_SIZE"]),
    },
    os.path.join(out, f"rank{os.environ['RANK']}.pt"),
)
