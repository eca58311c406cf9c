"""Choose a setting from validation results files by a rule stated in advance.

Each file holds the runs of one fit scored with several values of one field
(``--samplers`` entries such as ``dpmpp_2m:10:rate=0.3`` give ``calibration_rate``);
the run without the field is the reference. A value is eligible when its CRPS is
at most ``1 + --max-crps-loss`` times the reference's in every file; among those
(the reference included) the one whose 90 % and 50 % intervals lie closest to
their levels wins, measured as the mean over files of
``|coverage_90 - 0.9| + |coverage_50 - 0.5|``; ties go to the first value listed.
Pass validation files only: the rule must never see test windows.

Usage::

    python benchmarks/select_setting.py calibration_rate val_a.json val_b.json

prints a table of every value and, on the last line, the chosen value (``none``
for the reference).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

logger = logging.getLogger("select_setting")

NONE = "none"


def _value(run: dict, field: str) -> str:
    """The run's value of ``field`` as text; ``none`` where it is not set."""
    value = run.get(field)
    return NONE if value in (None, NONE) else f"{value:g}"


def table(field: str, files: list[Path]) -> dict[str, list[dict]]:
    """Runs by value of ``field``, one per file and in the files' order; only
    values every file scores (the tsdiff runs; baselines are left out)."""
    by_value: dict[str, list[dict]] = {}
    for path in files:
        runs = json.loads(path.read_text())["runs"]
        for run in runs:
            if run["method"].startswith("tsdiff"):
                by_value.setdefault(_value(run, field), []).append(run)
    complete = {k: v for k, v in by_value.items() if len(v) == len(files)}
    if NONE not in complete:
        raise ValueError(f"every file needs a run without {field} (the reference)")
    return complete


def choose(by_value: dict[str, list[dict]], max_crps_loss: float) -> tuple[str, dict]:
    """The chosen value and, for every value, (eligible, interval error)."""
    reference = by_value[NONE]
    scores = {}
    for value, runs in by_value.items():
        eligible = all(
            r["crps"] <= (1 + max_crps_loss) * ref["crps"]
            for r, ref in zip(runs, reference, strict=True)
        )
        error = sum(
            abs(r["coverage_90"] - 0.9) + abs(r["coverage_50"] - 0.5) for r in runs
        ) / len(runs)
        scores[value] = (eligible, error)
    best = min((v for v, (ok, _) in scores.items() if ok), key=lambda v: scores[v][1])
    return best, scores


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("field", help="the run field that varies (calibration_rate)")
    parser.add_argument("files", nargs="+", type=Path, help="validation results JSON")
    parser.add_argument("--max-crps-loss", type=float, default=0.02)
    args = parser.parse_args(argv)
    by_value = table(args.field, args.files)
    best, scores = choose(by_value, args.max_crps_loss)
    for value, runs in by_value.items():
        ok, error = scores[value]
        cells = "  ".join(
            f"{r['crps']:.4f}/{r['coverage_90']:.3f}/{r['coverage_50']:.3f}"
            for r in runs
        )
        flag = "eligible" if ok else "CRPS loss"
        logger.info("%-6s %s  error %.4f  %s", value, cells, error, flag)
    logger.info("chosen: %s (CRPS/coverage 90/coverage 50 per file)", best)
    print(best)
    return best


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    main()
