"""The coverage table of ``benchmarks/README.md`` (built by ``summary.py``).

One row per protocol that the calibration targets name: the run of the library's
defaults beside the same fitted model scored without the calibration that a
prediction applies (an imputer with ``calibration_share=None``, so nothing of its
input is hidden; a forecaster with ``calibration_rate=None``, which keeps the
factors found on the held-out windows at fit). Every number is read from a results
file; a protocol whose file is missing shows as not run.
"""

from __future__ import annotations

import json
from pathlib import Path

# (protocol, results file stem, method of the defaults run, method of the reference)
IMPUTE = "tsdiff dpmpp_2m-10"
FORECAST = "tsdiff dpmpp_2m-10"
ROWS = (
    ("PM2.5", "pm25_coverage", IMPUTE, f"{IMPUTE} cal=none"),
    *(
        (
            f"PhysioNet {p} %",
            "physionet_coverage",
            f"{IMPUTE} @ {p} %",
            f"{IMPUTE} cal=none @ {p} %",
        )
        for p in (10, 50, 90)
    ),
    (
        "exchange rate",
        "forecast_exchange_rate_coverage",
        FORECAST,
        f"{FORECAST} rate=none",
    ),
    (
        "ETTh2 h96 c336",
        "forecast_etth2_h96_c336_chosen_rate",
        f"{FORECAST} rate=1",
        FORECAST,
    ),
    (
        "ETTm1 h96 c336",
        "forecast_ettm1_h96_c336_defaults_rate1",
        FORECAST,
        f"{FORECAST} rate=none",
    ),
    ("ILI (with update)", "forecast_ili_coverage", FORECAST, f"{FORECAST} rate=none"),
    (
        "electricity weekly",
        "forecast_electricity_weekly_coverage",
        FORECAST,
        f"{FORECAST} rate=none",
    ),
    (
        "traffic weekly",
        "forecast_traffic_weekly_coverage",
        FORECAST,
        f"{FORECAST} rate=none",
    ),
)
BANDS = {"coverage_90": (0.87, 0.93), "coverage_50": (0.45, 0.55)}


def _cell(run: dict, key: str) -> str:
    """A coverage with a mark for inside / outside its target band."""
    if key not in run:
        return "n/a"
    low, high = BANDS[key]
    return f"{run[key]:.3f} {'in' if low <= run[key] <= high else 'OUT'}"


def _number(run: dict, key: str) -> str:
    return f"{run[key]:.4g}" if key in run else "n/a"


def coverage_table(results: Path) -> str:
    """The markdown coverage table over ``ROWS``."""
    lines = [
        "| protocol | file | 90% cov. (87-93 %) | 50% cov. (45-55 %) | CRPS | "
        "CRPS without | change | interval score 90 % | without | device | commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for protocol, stem, default, reference in ROWS:
        path = results / f"{stem}.json"
        if not path.exists():
            lines.append(f"| {protocol} | not run |" + " |" * 9)
            continue
        result = json.loads(path.read_text())
        runs = {run["method"]: run for run in result["runs"]}
        run, ref = runs[default], runs[reference]
        change = 100 * (run["crps"] / ref["crps"] - 1)
        prov = result["provenance"]
        lines.append(
            f"| {protocol} | `{stem}` | {_cell(run, 'coverage_90')} | "
            f"{_cell(run, 'coverage_50')} | {run['crps']:.4g} | {ref['crps']:.4g} | "
            f"{change:+.1f} % | {_number(run, 'interval_score_90')} | "
            f"{_number(ref, 'interval_score_90')} | {prov['device']} | "
            f"`{prov['commit'][:8]}` |"
        )
    return "\n".join(lines)
