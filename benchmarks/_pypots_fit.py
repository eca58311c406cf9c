"""Training and prediction of one PyPOTS model for the benchmark (``_pypots.py``),
resumable from a checkpoint folder.

PyPOTS draws its noise, masks and batch order from torch's and numpy's global
generators and has no generator argument, so the peer seeds those (PyPOTS's
``set_random_seed``) from the run's seed when it builds the model, before its first
epoch and before every prediction chunk, and a checkpoint holds their states: a
resumed fit continues the draws of an uninterrupted one (on a GPU, kernels that are
not deterministic may still make the two differ slightly).
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from pathlib import Path
from typing import Any

import _harness as h
import numpy as np
import torch

from tsdiff.metrics import QUANTILE_LEVELS

logger = logging.getLogger("benchmarks")

SAVE_EVERY_S = 60.0
"""Seconds between two saves of a training state (it is also saved when a fit
stops or ends)."""


def quiet_pypots() -> None:
    """Keep PyPOTS's own log (every epoch of its one-epoch fits) to warnings."""
    logging.getLogger("PyPOTS running log").setLevel(logging.WARNING)


def sample_quantiles(imputation: np.ndarray) -> np.ndarray:
    """The 19 levels of ``QUANTILE_LEVELS`` of PyPOTS's imputation.

    Parameters
    ----------
    imputation : ndarray of shape (N, S, L, K) or (N, L, K)
        Samples as CSDI's ``predict`` returns them (linear quantiles), or a point
        imputation (SAITS), which is then every level.

    Returns
    -------
    ndarray of float32, shape (Q, N, L, K)
    """
    if imputation.ndim == 3:  # a deterministic model: one "sample"
        imputation = imputation[:, None]
    quantiles = np.quantile(imputation, QUANTILE_LEVELS, axis=1)  # (Q, N, L, K)
    return quantiles.astype(np.float32)


def _seed_from(*parts: Any) -> int:
    """A 32-bit seed derived from the run's seed and a label."""
    text = "/".join(str(p) for p in parts).encode()
    return int(hashlib.sha1(text).hexdigest()[:8], 16)


def _rng_states() -> dict:
    """The global generators PyPOTS draws from (it takes no generator of its own)."""
    states = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),  # noqa: NPY002 (PyPOTS's masks draw here)
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])  # noqa: NPY002 (see _rng_states)
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _weights_path(path: Path) -> Path:
    """Where a finished fit's weights are kept, beside its record ``path``: a
    separate file, which may be left behind once every prediction is saved."""
    return path.with_name(f"{path.stem}_weights.pt")


def _save(path: Path, content: dict) -> None:
    """Write ``content`` to ``path`` atomically (a stopped write leaves the old)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    torch.save(content, partial)
    partial.replace(path)


class Peer:
    """One PyPOTS imputation model trained epoch by epoch.

    Parameters
    ----------
    name : {"CSDI", "SAITS"}
        The PyPOTS model.
    setting : dict
        An entry of ``_pypots.SETTINGS``: constructor arguments (``model``),
        ``epochs``, ``lr``, ``weight_decay``, ``milestones``, ``validate_every``
        and ``patience``.
    n_steps, n_features : int
        Window length L and number of variables K.
    seed : int
        The run's seed.
    """

    def __init__(self, name: str, setting: dict, n_steps: int, n_features: int, seed):
        import pypots
        from pypots.imputation import CSDI, SAITS
        from pypots.nn.modules.loss import MAE
        from pypots.optim import Adam
        from pypots.utils.random import set_random_seed

        quiet_pypots()  # after the import, which sets PyPOTS's log level
        self.name, self.setting, self.seed = name, setting, seed
        self.version = pypots.__version__
        self._set_seed = set_random_seed
        self.kind, self.device = h.device()
        self._set_seed(_seed_from(seed, name, "init"))  # the initial weights
        # SAITS stops early on its validation MAE (SAITS's own loop); CSDI keeps
        # PyPOTS's choice, its denoising loss over every diffusion step.
        metric = {"validation_metric": MAE} if name == "SAITS" else {}
        model = {"CSDI": CSDI, "SAITS": SAITS}[name]
        self.model = model(
            n_steps=n_steps,
            n_features=n_features,
            **setting["model"],
            epochs=1,  # one epoch per fit call: see _pypots.py
            optimizer=Adam(lr=setting["lr"], weight_decay=setting["weight_decay"]),
            device=self.kind,
            saving_path=None,
            model_saving_strategy=None,
            verbose=False,
            **metric,
        )
        self.has_weights = True  # False: trained, weights not kept (see fit)
        self.history: list[dict] = []
        self.best: dict | None = None  # epoch, validation metric, weights (CPU)
        self.predict_seconds = 0.0
        self._predict_devices: list[str] = []

    def fit(
        self, train_set: dict, val_set: dict, path: Path | None, deadline: float | None
    ) -> bool:
        """Train (or resume training) to the setting's epochs or its early stop;
        False when ``deadline`` (a ``time.time()``) passed first. The model then
        holds the weights of the best validated epoch."""
        checkpoint = self._load(path)
        if checkpoint.get("done"):
            weights = _weights_path(path)
            self.has_weights = weights.exists()  # else: only saved predictions
            if self.has_weights:
                state = torch.load(weights, map_location=self.kind, weights_only=True)
                self.model.model.load_state_dict(state)
            logger.info("PyPOTS %s: trained (checkpoint %s)", self.name, path)
            return True
        if not checkpoint:
            self._set_seed(_seed_from(self.seed, self.name, "fit"))
        epochs, bad = self.setting["epochs"], checkpoint.get("bad", 0)
        every, patience = self.setting["validate_every"], self.setting["patience"]
        steps = [int(m * epochs) for m in self.setting["milestones"]]
        saved = time.time()
        for epoch in range(len(self.history), epochs):
            lr = self.setting["lr"] * 0.1 ** sum(epoch >= s for s in steps)
            for group in self.model.optimizer.torch_optimizer.param_groups:
                group["lr"] = lr
            validate = (epoch + 1) % every == 0 or epoch + 1 == epochs
            record: dict = {}
            with h.timer(record, "seconds"):
                self.model.fit(train_set, val_set if validate else None)
            # PyPOTS's best_loss: this epoch's validation metric, or training loss
            loss = float(self.model.best_loss)
            field = "validation" if validate else "train_loss"
            record |= {"epoch": epoch + 1, "lr": lr, field: loss, "device": self.device}
            self.history.append(record)
            if validate and (self.best is None or loss < self.best["metric"]):
                state = {k: v.detach().cpu().clone() for k, v in self._weights()}
                self.best, bad = {"epoch": epoch + 1, "metric": loss, "state": state}, 0
            elif validate:
                bad += 1
            if epoch % 10 == 0 or validate:
                logger.info("PyPOTS %s epoch %d: %s", self.name, epoch + 1, record)
            finished = epoch + 1 == epochs or (patience is not None and bad >= patience)
            late = deadline is not None and time.time() > deadline
            due = late or time.time() - saved > SAVE_EVERY_S
            if path is not None and not finished and due:
                self._save_training(path, bad)
                saved = time.time()
            if finished:
                break
            if late:
                logger.warning(
                    "PyPOTS %s stopped after %d of %d epochs (--peer-max-time); run "
                    "the same command again to resume", self.name, epoch + 1, epochs,
                )  # fmt: skip
                return False
        self.model.model.load_state_dict(self.best["state"])
        if path is not None:  # the record, and the kept weights beside it
            _save(_weights_path(path), self.best["state"])
            best = {k: v for k, v in self.best.items() if k != "state"}
            _save(path, {**self._common(), "best": best, "done": True})
        return True

    def _weights(self):
        return self.model.model.state_dict().items()

    def _common(self) -> dict:
        return {"history": self.history, "best": self.best, "version": self.version}

    def _save_training(self, path: Path, bad: int) -> None:
        _save(
            path,
            {
                **self._common(),
                "done": False,
                "bad": bad,
                "weights": self.model.model.state_dict(),
                "optimizer": self.model.optimizer.torch_optimizer.state_dict(),
                "rng": _rng_states(),
            },
        )

    def _load(self, path: Path | None) -> dict:
        """Restore a saved state (training or done); {} when there is none."""
        if path is None or not path.exists():
            return {}
        content = torch.load(path, map_location=self.kind, weights_only=False)
        self.history, self.best = content["history"], content["best"]
        if not content["done"]:
            self.model.model.load_state_dict(content["weights"])
            self.model.optimizer.torch_optimizer.load_state_dict(content["optimizer"])
            _set_rng_states(content["rng"])
            logger.info(
                "PyPOTS %s: resuming after epoch %d", self.name, len(self.history)
            )
        return content

    def predict(
        self,
        x: np.ndarray,
        keep: np.ndarray,
        draws: int,
        batch: int,
        label: str,
        folder: Path | None,
        deadline: float | None,
    ) -> np.ndarray | None:
        """Quantiles of the imputation of windows ``x`` (N, L, K).

        ``draws`` samples per window (CSDI), ``batch`` windows per call. Only the
        cells ``keep`` (N, L, K) (the scored ones) are kept, NaN elsewhere, so that
        with a ``folder`` every chunk's file (``<label>_<i>.npz``, read back if
        present) is small enough to travel between machines. Returns (Q, N, L, K),
        or None when ``deadline`` passed before the last chunk.
        """
        self.model.batch_size = batch  # PyPOTS predicts in batches of this size
        options = {"n_sampling_times": draws} if self.name == "CSDI" else {}
        self.predict_seconds, out = 0.0, []
        starts = range(0, len(x), batch)
        for i, start in enumerate(starts):
            chunk = slice(start, start + batch)
            mask = keep[chunk]  # (n, L, K)
            file = None if folder is None else folder / f"{label}_{i:04d}.npz"
            loaded = file is not None and file.exists()
            if loaded:
                with np.load(file) as saved:
                    kept, seconds = saved["kept"], float(saved["seconds"])
                    device = str(saved["device"])
            elif not self.has_weights:
                raise SystemExit(
                    f"PyPOTS {self.name}: prediction {file} is missing and the "
                    "checkpoint folder has the fit's record but not its weights "
                    "(*_weights.pt); remove the record to train again"
                )
            else:
                self._set_seed(_seed_from(self.seed, self.name, "predict", label, i))
                timing: dict = {}
                with h.timer(timing, "seconds"):
                    result = self.model.predict(
                        {"X": x[start : start + batch]}, **options
                    )
                kept = sample_quantiles(np.asarray(result["imputation"]))[:, mask]
                seconds, device = timing["seconds"], self.device
                if file is not None:
                    file.parent.mkdir(parents=True, exist_ok=True)
                    np.savez(file, kept=kept, seconds=seconds, device=device)
            quantiles = np.full((len(QUANTILE_LEVELS), *mask.shape), np.nan, np.float32)
            quantiles[:, mask] = kept  # (Q, n, L, K)
            out.append(quantiles)
            self.predict_seconds += seconds
            self._predict_devices.append(device)
            late = deadline is not None and time.time() > deadline
            if late and not loaded and i + 1 < len(starts):
                logger.warning(
                    "PyPOTS %s stopped after %d of %d prediction chunks "
                    "(--peer-max-time); run the same command again to resume",
                    self.name, i + 1, len(starts),
                )  # fmt: skip
                return None
        return np.concatenate(out, axis=1)  # (Q, N, L, K)

    def fit_seconds(self) -> float:
        """Training time summed over epochs (and resumed calls)."""
        return round(sum(r["seconds"] for r in self.history), 3)

    def devices(self) -> list[str]:
        """The devices that trained and predicted, in order of first use."""
        used = [r["device"] for r in self.history] + self._predict_devices
        return list(dict.fromkeys(used))

    def summary(self) -> dict:
        """The training of the results file: settings, epochs run, best epoch."""
        return {
            "settings": self.setting,
            "epochs_run": len(self.history),
            "best_epoch": self.best["epoch"],
            "best_validation": self.best["metric"],
            "parameters": int(self.model.num_params),
            "history": self.history,
        }

    def describe(self) -> str:
        """The training in a few words (the README's table)."""
        return (
            f"{len(self.history)} epochs (best validated {self.best['epoch']}), "
            f"batch {self.setting['model']['batch_size']}, lr {self.setting['lr']:.2g}"
        )
