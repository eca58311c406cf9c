"""CRPS against network evaluations per sample (NFE), one curve per sampler.

Runs a protocol script (``pm25.py``, or ``physionet.py`` at 10 %) once with a grid of
``--samplers`` (every sampler at every NFE), so all points come from one fitted model
and one invocation, then plots the curves beside the best baseline and CSDI's
published CRPS. With ``--checkpoint`` pointing at a finished fit nothing is retrained:
the run only samples and scores.

Usage::

    python benchmarks/nfe_curves.py pm25 --ema 0.999 --compile \\
        --checkpoint .bench/ckpt/pm25.pt          # GPU: minutes once fitted
    python benchmarks/nfe_curves.py physionet --ema 0.999 --compile
    python benchmarks/nfe_curves.py pm25 --smoke  # seconds on a CPU
    python benchmarks/nfe_curves.py --replot benchmarks/results/pm25_nfe_vp.json

A sampler name may carry options, e.g. ``--sampler-names ddim,dpmpp_2m:eta=1`` for
the stochastic DPM-Solver++. For a continuous-time process pass ``--set process=vp``
(or ``subvp``, ``ve``), ``--sampler-names euler_maruyama,pc,heun`` and a
``--reference`` such as
``euler_maruyama:1000``; every point records its true NFE (Heun and the
predictor-corrector sampler spend two per step). Other options are passed to the
protocol script unchanged. Writes
``<protocol>_nfe[_<tag>][_smoke].json`` / ``.md`` (the protocol's own record) and a
``.png`` of the same name under ``--results``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

import _harness as h

from tsdiff.diffusion import nfe

SAMPLERS = ("ddpm", "ddim", "dpmpp_2m")
NFE = (1, 2, 5, 10, 20, 50)
SMOKE_NFE = (1, 2, 5)
ANCHOR = {"pm25": 0.108, "physionet": 0.238}  # CSDI's published CRPS (see scripts)


def grid(samplers: tuple[str, ...], budgets: tuple[int, ...], reference: str) -> str:
    """The ``--samplers`` value: the reference first, then every sampler at the
    steps that spend each NFE budget (at least one step: a sampler with two
    evaluations per step cannot spend one). A sampler name may carry the options of
    a ``--samplers`` entry after a colon, e.g. ``dpmpp_2m:eta=1``."""
    pairs = [reference]
    for spec in samplers:
        name, colon, options = spec.partition(":")
        pairs += [
            f"{name}:{max(1, n // nfe(name, 1))}{colon}{options}" for n in budgets
        ]
    return ",".join(dict.fromkeys(pairs))


def curves(result: dict) -> dict[str, list[tuple[int, float]]]:
    """``{sampler: [(nfe, crps), ...]}`` of the tsdiff runs, sorted by NFE."""
    out: dict[str, list[tuple[int, float]]] = {}
    for run in result["runs"]:
        if "sampler" in run:
            name = run["sampler"] + (" fp32" if "precision" in run else "")
            name += f" eta={run['eta']:g}" if "eta" in run else ""
            out.setdefault(name, []).append((run["nfe"], run["crps"]))
    return {name: sorted(points) for name, points in out.items()}


def plot(result: dict, anchor: float | None, path: Path) -> None:
    """CRPS-vs-NFE curves (log NFE axis, ticks at the measured NFE; log CRPS axis
    where the points span more than a factor of 10) with the best
    baseline and the anchor. Rebuild a committed plot from its JSON with
    ``python benchmarks/nfe_curves.py --replot results/<file>.json``."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, points in curves(result).items():
        nfe, crps = zip(*points, strict=True)
        ax.plot(nfe, crps, marker="o", label=f"tsdiff {name}")
    baselines = [r for r in result["runs"] if "sampler" not in r]
    if baselines:
        best = min(baselines, key=lambda r: r["crps"])
        ax.axhline(best["crps"], color="grey", ls=":", label=best["method"])
    if anchor is not None:
        ax.axhline(anchor, color="black", ls="--", label="CSDI (published)")
    ax.set_xscale("log")
    budgets = sorted({n for points in curves(result).values() for n, _ in points})
    ax.set_xticks(budgets, [str(n) for n in budgets])  # the NFE of the points
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    values = [c for points in curves(result).values() for _, c in points]
    if values and max(values) > 10 * min(values):  # diverging points: log CRPS too
        ax.set_yscale("log")
    ax.set_xlabel("network evaluations per sample (NFE)")
    ax.set_ylabel("CRPS (wQL)")
    prov = result["provenance"]
    ax.set_title(
        f"{result['protocol']} on {prov['device']} ({prov['commit'][:8]})", fontsize=9
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def replot(paths: list[str]) -> None:
    """Redraw the PNG beside each results JSON from the JSON alone."""
    for path in map(Path, paths):
        result = json.loads(path.read_text())
        protocol = "physionet" if result["protocol"].startswith("physionet") else "pm25"
        plot(result, ANCHOR[protocol], path.with_suffix(".png"))
        logging.info("wrote %s", path.with_suffix(".png"))


def main(argv: list[str] | None = None) -> dict | None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--replot"]:  # nfe_curves.py --replot FILE.json ...
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        replot(argv[1:])
        return None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocol", choices=sorted(ANCHOR))
    parser.add_argument("--nfe", default=None, help="comma list of NFE values")
    parser.add_argument("--sampler-names", default=",".join(SAMPLERS))
    parser.add_argument(
        "--reference",
        default="ddpm:50",
        help="sampler:steps every curve is compared with (e.g. euler_maruyama:1000 "
        "for a continuous process, with --set process=vp)",
    )
    parser.add_argument("--results", default=str(h.RESULTS))
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--tag", help="results file <protocol>_nfe_<tag>.json")
    args, rest = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    default_nfe = SMOKE_NFE if args.smoke else NFE
    budgets = tuple(int(n) for n in args.nfe.split(",")) if args.nfe else default_nfe
    names = tuple(args.sampler_names.split(","))
    tag = "nfe" + (f"_{args.tag}" if args.tag else "")
    forwarded = [*rest, "--results", args.results, "--tag", tag]
    forwarded += ["--samplers", grid(names, budgets, args.reference)]
    forwarded += ["--smoke"] if args.smoke else []
    if args.protocol == "physionet":
        forwarded += ["--ratios", "0.1"]
    sys.path.insert(0, str(Path(__file__).parent))
    script = importlib.import_module(args.protocol)
    result = script.main(forwarded)
    if result is None:  # a fit cut short by --max-fit-time: run again to resume
        return None
    png = Path(args.results) / f"{result['protocol']}.png"
    plot(result, ANCHOR[args.protocol], png)
    logging.info("wrote %s", png)
    return result


if __name__ == "__main__":
    main()
