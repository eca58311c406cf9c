"""Training and sampling throughput of the denoiser, eager beside ``torch.compile``,
and the sampling engine's rate against a CSDI-style reference loop.

Part ``train`` fits :class:`tsdiff.DiffusionImputer` on random data shaped like a
benchmark's windows (PM2.5: 36 variables x 36 hours; PhysioNet: 35 x 48; ETT: 7 x
288) for a few short epochs and times each one from ``history_``: the first epoch
holds any compilation, the later ones give the steady rate. Modes: ``fp32`` is the
plain PyTorch step (eager, float32, as CSDI trains), ``eager`` adds bf16 autocast on
CUDA, ``compile`` also runs the network through ``torch.compile``, ``graphs``
through its "reduce-overhead" mode (CUDA graphs of every pass); every mode draws
its batches and masks on the device from series held there. Sampling through the
estimator is timed the same way: a first call (compiling, if asked) and a second,
timed call.

Part ``rates`` measures window-NFE per second (one network evaluation of one window
for one sample) of the engine at several batch sizes and precisions, for a
CSDI-sized network (4 blocks, 64 channels) at each ``--rate-shapes`` window (K x L),
beside CSDI-style reference loops in float32 eager mode (``_rates.py``): one sample
at a time for 16 windows per call, as CSDI's own evaluation batches its test
windows, and for one window per call. It stores the ratio of the best engine rate
to the 16-window loop's (the headline) and to the one-window loop's; on a GPU also
the peak memory.

Usage::

    python benchmarks/throughput.py                          # GPU: a few minutes
    python benchmarks/throughput.py --modes eager --batch-sizes 32,128
    python benchmarks/throughput.py --parts train --shapes pm25,ett288 \
        --modes fp32,eager --batch-sizes 32,64,128,256
    python benchmarks/throughput.py --parts rates --rate-shapes 36x36
    python benchmarks/throughput.py --smoke                  # seconds on a CPU

Writes ``benchmarks/results/throughput[_<tag>][_smoke].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import time

import _harness as h
import _rates
import numpy as np
import torch

from tsdiff import DiffusionImputer

# (variables K, window L): the imputation benchmarks' windows and a long one of ETT's
# 7 variables.
SHAPES = {"pm25": (36, 36), "physionet": (35, 48), "ett288": (7, 288)}
# The estimator's ``compile`` setting of each mode.
COMPILE = {"fp32": False, "eager": False, "compile": True, "graphs": "reduce-overhead"}
SMOKE_MODEL = {"n_layers": 1, "n_channels": 8, "n_heads": 2, "n_diffusion_steps": 10}


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def _resolutions(text: str) -> tuple[tuple[int, int | None, int], ...]:
    """``"1,8,8:4,8:16:4"`` as ((1, None, 1), (8, None, 1), (8, 4, 1), (8, 16, 4)):
    patch lengths, each with the latent size of latent diffusion after a colon
    (none: the data grid) and the variables per patch after a second one."""
    triples = []
    for item in text.split(","):
        patch, latent, width = (item.split(":") + ["", ""])[:3]
        triples.append((int(patch), int(latent) if latent else None, int(width or 1)))
    return tuple(triples)


def _resolution(patch: tuple) -> dict:
    """Estimator parameters of a ``_resolutions`` triple."""
    return dict(zip(("patch_length", "latent_dim", "patch_width"), patch, strict=True))


def _shape(name: str) -> tuple[int, int]:
    """(K, L) of a name of :data:`SHAPES` or of a ``KxL`` text such as ``7x432``."""
    if name in SHAPES:
        return SHAPES[name]
    n_vars, length = name.split("x")
    return int(n_vars), int(length)


def _train(
    shape: str, batch: int, mode: str, args, patch: tuple = (1, None, 1)
) -> tuple[dict, DiffusionImputer]:
    """Steady and first-epoch training rates of one configuration."""
    n_vars, length = _shape(shape)
    steps = args.steps
    frame = h.random_frame(
        batch * steps + length - 1, n_vars, args.seed
    )  # whole batches
    imputer = DiffusionImputer(
        window_length=length,
        n_epochs=args.epochs,
        steps_per_epoch=None,  # one pass over the windows the frame holds
        batch_size=batch,
        compile=COMPILE[mode],
        mixed_precision=mode != "fp32",
        **_resolution(patch),
        random_state=args.seed,
        **(SMOKE_MODEL if args.smoke else {}),
    )
    imputer.fit(frame)
    seconds = [record["seconds"] for record in imputer.history_]
    steady = float(np.median(seconds[1:])) if len(seconds) > 1 else seconds[0]
    return {
        "shape": shape,
        "batch_size": batch,
        "mode": mode,
        **_resolution(patch),
        "steps_per_epoch": steps,
        "first_epoch_s": seconds[0],
        "steady_epoch_s": steady,
        "ms_per_step": 1000 * steady / steps,
        "windows_per_s": batch * steps / steady,
    }, imputer


def _profile(
    shape: str,
    batch: int,
    mode: str,
    args,
    patch: tuple = (1, None, 1),
    steps: int = 20,
) -> dict:
    """Where the time of a training step goes: ``steps`` steps (after as many
    unprofiled ones) under ``torch.profiler``, per step: wall time, time the GPU
    spends in kernels, kernel launches, and the operations that cost most."""
    from torch.profiler import ProfilerActivity, profile

    n_vars, length = _shape(shape)
    frame = h.random_frame(batch * steps + length - 1, n_vars, args.seed)
    imputer = DiffusionImputer(
        window_length=length,
        n_epochs=2,
        steps_per_epoch=None,
        batch_size=batch,
        compile=COMPILE[mode],
        mixed_precision=mode != "fp32",
        **_resolution(patch),
        random_state=args.seed,
        **(SMOKE_MODEL if args.smoke else {}),
    )
    imputer.fit(frame)  # warm: compiled, allocator primed
    activities = [ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        imputer.fit(frame)
    total = 2 * steps  # profiled steps
    wall = sum(record["seconds"] for record in imputer.history_)
    events = prof.key_averages()
    kernels = [e for e in prof.events() if e.device_type.name == "CUDA"]

    def top(key) -> list:
        ranked = sorted(events, key=key, reverse=True)[:12]
        return [
            {
                "name": e.key[:80],
                "calls_per_step": e.count / total,
                "self_cpu_ms_per_step": e.self_cpu_time_total / 1e3 / total,
                "self_device_ms_per_step": _device_time(e) / 1e3 / total,
            }
            for e in ranked
        ]

    return {
        "shape": shape,
        "batch_size": batch,
        "mode": mode,
        "ms_per_step": 1000 * wall / total,
        "device_ms_per_step": sum(e.time_range.elapsed_us() for e in kernels)
        / 1e3
        / total,
        "kernels_per_step": len(kernels) / total,
        "by_device_time": top(_device_time),
        "by_cpu_time": top(lambda e: e.self_cpu_time_total),
    }


def _device_time(event) -> float:
    """Self time on the accelerator (µs) of a profiler event."""
    for name in ("self_device_time_total", "self_cuda_time_total"):
        if hasattr(event, name):
            return getattr(event, name)
    return 0.0


def _sample(imputer: DiffusionImputer, shape: str, mode: str, args) -> dict:
    """Sampling rate (window-samples x network evaluations per second)."""
    n_vars, length = _shape(shape)
    frame = h.random_frame(args.sample_windows * length, n_vars, args.seed + 1)
    imputer.set_params(
        sampler="ddim", sampling_steps=args.sampling_steps, window_stride=length
    )
    timings = []
    for _ in range(2):  # the first call compiles, if asked
        record: dict = {}
        with h.timer(record, "s"):
            imputer.sample(frame, num_samples=args.samples)
        timings.append(record["s"])
    work = args.sample_windows * args.samples * args.sampling_steps
    return {
        "shape": shape,
        "mode": mode,
        "patch_length": imputer.patch_length,
        "latent_dim": imputer.latent_dim,
        "patch_width": imputer.patch_width,
        "windows": args.sample_windows,
        "num_samples": args.samples,
        "nfe": args.sampling_steps,
        "first_call_s": timings[0],
        "steady_call_s": timings[1],
        "window_nfe_per_s": work / timings[1],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(h.RESULTS))
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run")
    parser.add_argument(
        "--shapes",
        default="pm25,physionet",
        help=f"training windows: names among {sorted(SHAPES)} or KxL (e.g. 7x432)",
    )
    parser.add_argument(
        "--patch-lengths",
        type=_resolutions,
        default=((1, None, 1),),
        help="patch_length of the denoiser, each timed in turn (1: full resolution); "
        "P:D is latent diffusion with latent_dim D, P:D:W with patches of W "
        "variables (patch_width; e.g. 1,8,8:4,8:16:4)",
    )
    parser.add_argument(
        "--modes", default="eager,compile", help="fp32, eager, compile, graphs"
    )
    parser.add_argument("--batch-sizes", type=_ints, default=(32, 128))
    parser.add_argument("--steps", type=int, default=50, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sample-windows", type=int, default=100)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--sampling-steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parts", default="train,rates", help="train and/or rates")
    parser.add_argument("--rate-shapes", default="36x36,1x512,370x192")
    parser.add_argument(
        "--rate-batch-sizes",
        default="256,1024,4096,auto",
        help="window-samples per network call ('auto': the engine's choice)",
    )
    parser.add_argument(
        "--auto-work",
        type=int,
        default=4096,
        help="window-samples per timed call at the automatic batch size (each "
        "configuration makes two such calls; lower it for very large windows)",
    )
    parser.add_argument("--precisions", default="bf16,fp32")
    parser.add_argument(
        "--side-caches",
        default="on,off",
        help="side projections computed once per batch (on) or every step (off)",
    )
    parser.add_argument(
        "--attention",
        default="fused,sdpa",
        help="short sequences attend in the fused kernel (fused: applies on CUDA in "
        "bf16; elsewhere it is sdpa) or through scaled_dot_product_attention (sdpa)",
    )
    parser.add_argument("--reference-calls", type=int, default=300)
    parser.add_argument("--tag", help="name the results throughput_<tag>.json")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile a short fit of each training configuration (GPU time, "
        "kernel launches and the costliest operations per step)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch_sizes, args.steps, args.epochs = (8,), 3, 2
        args.sample_windows, args.samples, args.sampling_steps = 2, 4, 2
        args.modes, args.shapes = "eager", "pm25"
        args.rate_shapes, args.rate_batch_sizes = "4x8", "8,auto"
        args.precisions, args.reference_calls = "fp32", 5
        args.side_caches = "on"
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parts = args.parts.split(",")
    suffix = (f"_{args.tag}" if args.tag else "") + ("_smoke" if args.smoke else "")
    result = {
        "protocol": f"throughput{suffix}",
        "provenance": h.provenance(),
        "train": [],
        "sample": [],
        "rates": [],
        "profile": [],
    }

    def save() -> None:
        """Write what is measured so far: a run cut short keeps its numbers."""
        table = _markdown(result) + "\n"
        h.write(result["protocol"], result, h.Path(args.results), table)

    if "train" in parts:
        _train_and_sample(args, result, save)
    if "rates" in parts:
        _engine_and_reference(args, result["rates"], save)
    save()
    return result


def _engine_and_reference(args, out: list[dict], save) -> None:
    """Per window shape: the reference rates, then engine rates (each saved as it
    finishes) and the best engine rate's ratios to the references."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    for text in args.rate_shapes.split(","):
        shape = tuple(int(v) for v in text.split("x"))
        net = _rates.network(shape[0], args.smoke, device, args.seed)
        record = {
            "reference": _reference(net, shape, args, device, windows=16),
            "reference_one_window": _reference(net, shape, args, device, windows=1),
            "engine": [],
        }
        out.append(record)
        logging.info("rates %s: reference %s", text, record["reference"])
        settings = itertools.product(
            args.modes.split(","),
            args.rate_batch_sizes.split(","),
            args.precisions.split(","),
            args.side_caches.split(","),
            args.attention.split(","),
        )
        seen = set()
        for mode, batch, precision, cache, attention in settings:
            # The fused kernel serves bf16 on CUDA only: elsewhere "fused" measures
            # SDPA, so it is named so and measured once.
            if device.type != "cuda" or precision != "bf16":
                attention = "sdpa"
            setting = (shape, batch, precision, mode, cache, attention)
            if setting in seen:
                continue
            seen.add(setting)
            torch._dynamo.reset()  # each configuration compiles afresh
            logging.info("measuring %s", setting)  # a cut-off run says where
            record["engine"].append(_engine_rate(net, setting, args, device))
            measured = [
                r["window_nfe_per_s"]
                for r in record["engine"]
                if "window_nfe_per_s" in r
            ]
            for key in ("reference", "reference_one_window"):
                loop = record[key].get("window_nfe_per_s")
                if measured and loop:
                    record["best_ratio" + key[len("reference") :]] = (
                        max(measured) / loop
                    )
            logging.info("rate %s", record["engine"][-1])
            save()


def _reference(net, shape: tuple, args, device: torch.device, windows: int) -> dict:
    """A reference loop's rate, or a record that its windows did not fit the card."""
    try:
        return _rates.reference_rate(
            net, shape, args.reference_calls, device, windows=windows
        )
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        shape_text = "x".join(map(str, shape))
        return {"shape": shape_text, "windows": windows, "out_of_memory": True}


def _engine_rate(net, setting: tuple, args, device: torch.device) -> dict:
    """One engine configuration; a fixed batch that does not fit the card is
    recorded as such (the automatic batch size halves until it fits)."""
    shape, batch, precision, mode, cache, attention = setting
    try:
        return _rates.engine_rate(
            net,
            shape,
            None if batch == "auto" else int(batch),
            precision == "bf16",
            mode == "compile",
            cache == "on",
            args,
            device,
            fused_attention=attention == "fused",
        )
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return {
            "shape": "x".join(map(str, shape)),
            "batch": batch,
            "mode": mode,
            "side_cache": cache == "on",
            "precision": precision,
            "attention": attention,
            "out_of_memory": True,
        }


def _train_and_sample(args, result: dict, save) -> None:
    for shape, mode, patch in itertools.product(
        args.shapes.split(","), args.modes.split(","), args.patch_lengths
    ):
        imputer = None
        for batch in args.batch_sizes:
            torch._dynamo.reset()  # compile each configuration afresh, static
            start = time.perf_counter()
            record, imputer = _train(shape, batch, mode, args, patch)
            result["train"].append(record)
            logging.info("train %s (%.0f s total)", record, time.perf_counter() - start)
            if args.profile:
                result["profile"].append(_profile(shape, batch, mode, args, patch))
            save()
        result["sample"].append(_sample(imputer, shape, mode, args))
        logging.info("sample %s", result["sample"][-1])
        save()


def _latent(record: dict) -> str:
    """The latent column: D, with the variables per patch where more than one."""
    width = record.get("patch_width", 1)
    latent = str(record.get("latent_dim") or "-")
    return latent if width == 1 else f"{latent} ({width} variables)"


def _markdown(result: dict) -> str:
    lines = [
        *h.heading(result),
        "| shape | mode | patch | latent | batch | ms / step | windows / s | "
        "first epoch s |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['shape']} | {r['mode']} | {r.get('patch_length', 1)} | "
            f"{_latent(r)} | {r['batch_size']} | "
            f"{r['ms_per_step']:.1f} | {r['windows_per_s']:.0f} | "
            f"{r['first_epoch_s']:.1f} |"
            for r in result["train"]
        ),
        "",
        "| shape | mode | patch | latent | window-samples x NFE / s | first call s | "
        "steady call s |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {r['shape']} | {r['mode']} | {r.get('patch_length', 1)} | "
            f"{_latent(r)} | {r['window_nfe_per_s']:.0f} | "
            f"{r['first_call_s']:.1f} | {r['steady_call_s']:.1f} |"
            for r in result["sample"]
        ),
        "",
        "| window K x L | loop | batch | precision | window-NFE / s | peak MiB |",
        "|---|---|---|---|---|---|",
    ]
    for shape in result["rates"]:
        ref = shape["reference"]
        for r in shape["engine"]:
            if r.get("out_of_memory"):
                lines.append(
                    f"| {r['shape']} | engine, {r['mode']} | {r['batch']} | "
                    f"{r['precision']} | out of memory | |"
                )
                continue
            lines.append(
                f"| {r['shape']} | engine, {r['mode']}, side cache "
                f"{'on' if r['side_cache'] else 'off'}, "
                f"{r.get('attention', 'sdpa')} attention | {r['batch']} | "
                f"{r['precision']} | "
                f"{r['window_nfe_per_s']:.0f} | {r['peak_mib'] or ''} |"
            )
        one = shape.get("reference_one_window")  # files from before: none
        for key, loop in (("", ref), ("_one_window", one)):
            if loop is None:
                continue
            windows = loop.get("windows", 1)
            rate = "out of memory | "
            if not loop.get("out_of_memory"):
                rate = f"{loop['window_nfe_per_s']:.0f} | {loop['peak_mib'] or ''}"
            lines.append(
                f"| {loop['shape']} | reference loop (CSDI-style) | {windows} | fp32 "
                f"| {rate} |"
            )
            lines.append(
                f"| {loop['shape']} | best engine / reference of {windows} | | | "
                f"{shape.get('best_ratio' + key, float('nan')):.1f}x | |"
            )
    if result.get("profile"):
        lines += [
            "",
            "Profiled steps (under torch.profiler, slower than the timed ones):",
            "",
            "| shape | mode | batch | ms / step | GPU busy ms / step | kernels / step "
            "| costliest on the host |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| {r['shape']} | {r['mode']} | {r['batch_size']} | "
                f"{r['ms_per_step']:.1f} | {r['device_ms_per_step']:.1f} | "
                f"{r['kernels_per_step']:.0f} | "
                + ", ".join(e["name"] for e in r["by_cpu_time"][:3])
                + " |"
                for r in result["profile"]
            ),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
