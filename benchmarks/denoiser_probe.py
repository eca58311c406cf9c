"""How well a fitted imputer's network recovers windows given nothing, at each noise
level: the quality of the clean-data estimate that ``generate`` is built from.

Fits one ``DiffusionImputer`` on the first 12 months of hourly ETTh1 (the
variables of ``--columns``), draws ``--windows`` real training windows, noises
them to each probed step ``t`` of the process (``x_t = alpha_t x_0 + sigma_t
eps``), asks the network for the clean window with no value given, and records,
per step: the mean squared error of the estimate (against ``sigma_t**2 /
alpha_t**2``, the error of returning ``x_t / alpha_t`` as it is), its mean
absolute step-to-step change and lag-1 autocorrelation beside the real windows'
(a smooth series calls for a smooth estimate), the error of the predicted
noise, and how the estimate of a step weighs the noisy window: the derivative of
the estimate at step j with respect to ``x_t / alpha_t`` at step j itself, at its
neighbours (j +- 1) and at steps a quarter window or more away, averaged over the
first variable of 16 windows (a denoiser of a smooth series leans on the
neighbours). Values are in the imputer's scaled units.

Usage::

    python benchmarks/denoiser_probe.py --data ../shared/data/ett --columns HUFL
    python benchmarks/denoiser_probe.py --smoke   # seconds on CPU

Writes ``benchmarks/results/probe_etth1[_<tag>][_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import _harness as h
import _runs as r
import numpy as np
import torch

from tsdiff import DiffusionImputer
from tsdiff.datasets import load_ett
from tsdiff.engine._denoise import make_denoise


def _roughness(x: torch.Tensor) -> float:
    """Mean absolute change between neighbouring steps of (B, K, L) windows."""
    return float((x[..., 1:] - x[..., :-1]).abs().mean())


def _lag1(x: torch.Tensor) -> float:
    """Mean lag-1 autocorrelation of (B, K, L) windows (constant ones left out)."""
    centred = x - x.mean(-1, keepdim=True)
    power = (centred**2).sum(-1)
    keep = power > 1e-9
    corr = (centred[..., 1:] * centred[..., :-1]).sum(-1)[keep] / power[keep]
    return float(corr.mean())


def _weights(denoise, x_t: torch.Tensor, t: int, alpha: float, sigma: float) -> dict:
    """Mean derivative of the estimate at step j of the first variable with respect
    to ``x_t / alpha`` at j, at j +- 1 and at steps L / 4 or more away, over the
    (B, K, L) windows ``x_t``."""
    x_t = x_t.detach().requires_grad_(True)
    level = torch.full((len(x_t),), t, device=x_t.device)
    with torch.enable_grad():
        estimate = (x_t - sigma * denoise(x_t, level)) / alpha  # (B, K, L)
        L = x_t.shape[-1]
        rows = []
        for j in range(L):  # windows are independent: one pass serves them all
            (grad,) = torch.autograd.grad(
                estimate[:, 0, j].sum(), x_t, retain_graph=j < L - 1
            )
            rows.append(grad[:, 0] * alpha)  # (B, L): d estimate_j / d (x_t / alpha)
    jac = torch.stack(rows, dim=1)  # (B, L, L): row j, column s
    offset = (torch.arange(L)[:, None] - torch.arange(L)[None, :]).abs()  # (L, L)
    offset = offset.to(jac.device)
    return {
        "weight_self": float(jac[:, offset == 0].mean()),
        "weight_neighbours": float(jac[:, offset == 1].mean()),
        "weight_far": float(jac[:, offset >= L // 4].mean()),
    }


def probe(model: DiffusionImputer, windows: np.ndarray, steps, seed: int) -> list:
    """One record per probed step for scaled windows (B, L, K) given nothing."""
    fitted = model.model_
    network, process = fitted.network.eval(), fitted.process
    x0 = torch.tensor(windows, dtype=torch.float32).transpose(1, 2)  # (B, K, L)
    x0 = x0.to(model.device_)
    nothing = torch.zeros_like(x0)
    denoise, few = (
        make_denoise(network, process, given, given, model.parameterization, False)
        for given in (nothing, nothing[:16])
    )  # all windows; the 16 whose weights are measured
    generator = torch.Generator(device=x0.device).manual_seed(seed)
    records = []
    with torch.no_grad():
        for t in steps:
            alpha = float(process.sqrt_alphas_cumprod[t])
            sigma = float(process.sqrt_one_minus_alphas_cumprod[t])
            eps = torch.randn(x0.shape, generator=generator, device=x0.device)
            x_t = alpha * x0 + sigma * eps
            eps_hat = denoise(x_t, torch.full((len(x0),), t, device=x0.device))
            estimate = (x_t - sigma * eps_hat) / alpha
            records.append({
                "t": int(t), "sigma": sigma, "alpha": alpha,
                "mse": float(((estimate - x0) ** 2).mean()),
                "mse_of_x_t": sigma**2 / alpha**2,
                "roughness": _roughness(estimate), "lag1": _lag1(estimate),
                "eps_mse": float(((eps_hat - eps) ** 2).mean()),
                **_weights(few, x_t[:16], t, alpha, sigma),
            })  # fmt: skip
    real = {"roughness": _roughness(x0), "lag1": _lag1(x0)}
    return [{"t": "real windows", **real}, *records]


def main(argv: list[str] | None = None) -> dict:
    parser = r.common_args(__doc__.splitlines()[0], "dpmpp_2m:10", seed=0)
    parser.add_argument("--columns", default="HUFL", help="comma list of variables")
    parser.add_argument("--windows", type=int, default=256)
    parser.add_argument("--window-length", type=int, default=48)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    series = load_ett(Path(h.data_dir(h.DATA / "ett", args.data)) / "ETTh1.csv")
    train = series.iloc[: (2 if args.smoke else 12) * 30 * 24][args.columns.split(",")]
    model = DiffusionImputer(window_length=args.window_length, **r.model_params(args))
    record = {}
    with h.timer(record, "fit_s"):
        model.fit(train)
    scaled = model.scaler_.transform(train.to_numpy())  # (T, K)
    rng = np.random.default_rng(args.seed)
    length = args.window_length
    n_windows = 32 if args.smoke else args.windows
    starts = rng.integers(0, len(scaled) - length + 1, n_windows)
    windows = np.stack([scaled[s : s + length] for s in starts])  # (B, L, K)
    n_steps = model.model_.process.n_steps
    steps = sorted({0, 2, 5, 10, 20, 30, 40, n_steps - 1} & set(range(n_steps)))
    runs = probe(model, windows, steps, args.seed)
    runs[0] |= record
    for run in runs:
        logging.info("%s", run)
    config = {"columns": args.columns.split(","), "n_windows": len(windows),
              "window_length": length}  # fmt: skip
    return r.write_fitted("probe_etth1", args, model, runs, config, _markdown)


def _markdown(result: dict) -> str:
    config = result["config"]
    lines = [
        *h.heading(result),
        f"{config['n_windows']} ETTh1 training windows of {config['window_length']} "
        f"hours of {', '.join(config['columns'])}, given nothing, noised to step t; "
        "the network's clean-window estimate (scaled units).",
        "",
        "| t | sigma | MSE of the estimate | MSE of x_t / alpha | roughness | lag-1 "
        "autocorrelation | noise MSE | weight on the step | on each neighbour | "
        "on each far step |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    real, *steps = result["runs"]
    lines.append(
        f"| real windows | | | | {real['roughness']:.3f} | {real['lag1']:.3f} | | | | |"
    )
    for s in steps:
        weights = " | ".join(
            f"{s[key]:.3f}" if key in s else ""
            for key in ("weight_self", "weight_neighbours", "weight_far")
        )  # files written before the weights were measured have none
        lines.append(
            f"| {s['t']} | {s['sigma']:.3f} | {s['mse']:.3f} | {s['mse_of_x_t']:.3f} "
            f"| {s['roughness']:.3f} | {s['lag1']:.3f} | {s['eps_mse']:.3f} "
            f"| {weights} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
