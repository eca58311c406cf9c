"""Every benchmark script runs end to end in its --smoke mode, so none can rot.

The smoke modes read the real data from ``../shared/data`` (a few stays or months) and
train a tiny model for one epoch; the numbers are meaningless, the plumbing is not.
"""

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import metrics

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
DATA = (BENCHMARKS.parent / ".." / "shared" / "data").resolve()


def _load(name: str):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


@pytest.mark.parametrize(
    "script, folder",
    [("pm25", "beijing_pm25_stmvl"), ("physionet", "physionet2012")],
)
def test_smoke_mode_writes_results(script, folder, tmp_path):
    if not (DATA / folder).exists():
        pytest.skip(f"benchmark data {DATA / folder} is not available")
    result = _load(script).main(["--smoke", "--results", str(tmp_path)])
    written = json.loads((tmp_path / f"{script}_smoke.json").read_text())
    assert written["protocol"] == f"{script}_smoke"
    for key in ("command", "commit", "device", "versions"):
        assert written["provenance"][key]
    methods = [run["method"] for run in result["runs"]]
    assert any(m.startswith("tsdiff") for m in methods)
    assert any("interpolation" in m for m in methods)
    for run in written["runs"]:
        assert run["n_targets"] > 0
        assert 0 <= run["crps"] < 10 and run["mae"] >= 0 and run["rmse"] >= run["mae"]
        assert 0 <= run["coverage_90"] <= 1
        assert run["fit_s"] >= 0 and run["predict_s"] > 0
    table = (tmp_path / f"{script}_smoke.md").read_text()
    assert table.count("\n| ") == len(written["runs"]) + 1  # header + one row per run


def test_physionet_validation_split_scores_the_validation_stays(tmp_path):
    if not (DATA / "physionet2012").exists():
        pytest.skip("benchmark data is not available")
    physionet = _load("physionet")
    args = ["--smoke", "--split", "validation", "--ratios", "0.1", "--no-baselines"]
    result = physionet.main([*args, "--results", str(tmp_path)])
    assert result["protocol"] == "physionet_val_10_smoke"
    config = result["config"]
    assert config["split"] == "validation"
    ids = np.arange(config["n_stays"])
    assert config["n_test"] == len(physionet.split(ids, seed=1)[1])  # the val stays


def test_tag_names_the_results_file(tmp_path):
    if not (DATA / "beijing_pm25_stmvl").exists():
        pytest.skip("benchmark data is not available")
    _load("pm25").main(["--smoke", "--results", str(tmp_path), "--tag", "seed3"])
    written = json.loads((tmp_path / "pm25_seed3_smoke.json").read_text())
    assert written["protocol"] == "pm25_seed3_smoke"


def test_nfe_curves_smoke_mode_scores_every_sampler_at_every_nfe(tmp_path):
    if not (DATA / "beijing_pm25_stmvl").exists():
        pytest.skip("benchmark data is not available")
    nfe = _load("nfe_curves")
    result = nfe.main(["pm25", "--smoke", "--results", str(tmp_path)])
    assert (tmp_path / "pm25_nfe_smoke.png").stat().st_size > 0
    curves = nfe.curves(result)
    assert set(curves) == {"ddpm", "ddim", "dpmpp_2m"}
    assert [n for n, _ in curves["dpmpp_2m"]] == [1, 2, 5]
    assert [n for n, _ in curves["ddpm"]] == [1, 2, 5, 10]  # + the reference chain
    # One network evaluation is the same jump to x0 for every sampler.
    assert curves["ddpm"][0][1] == curves["ddim"][0][1] == curves["dpmpp_2m"][0][1]


def test_nfe_replot_redraws_a_committed_plot_from_its_json(tmp_path):
    nfe = _load("nfe_curves")
    source = BENCHMARKS / "results" / "pm25_nfe_vp_solvers.json"
    copy = tmp_path / source.name
    copy.write_text(source.read_text())
    assert nfe.main(["--replot", str(copy)]) is None
    png = copy.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000


def test_nfe_grid_carries_sampler_options_to_every_budget():
    nfe = _load("nfe_curves")
    spec = nfe.grid(("heun", "dpmpp_2m:eta=1"), (2, 10), "ddpm:50")
    assert spec == "ddpm:50,heun:1,heun:5,dpmpp_2m:2:eta=1,dpmpp_2m:10:eta=1"


def test_throughput_smoke_mode_times_training_and_sampling(tmp_path):
    result = _load("throughput").main(["--smoke", "--results", str(tmp_path)])
    written = json.loads((tmp_path / "throughput_smoke.json").read_text())
    assert written["protocol"] == "throughput_smoke"
    assert written["provenance"]["device"] and written["provenance"]["commit"]
    (train,), (sample,) = result["train"], result["sample"]
    assert train["steps_per_epoch"] == 3 and train["ms_per_step"] > 0
    assert train["windows_per_s"] == pytest.approx(
        1000 * train["batch_size"] / train["ms_per_step"]
    )
    assert sample["window_nfe_per_s"] > 0 and sample["steady_call_s"] > 0
    # The engine beside the CSDI-style reference loops (16 windows per call, as
    # CSDI evaluates, and one), and their ratios.
    (rates,) = written["rates"]
    assert [r["batch"] for r in rates["engine"]] == [8, "auto"]
    loops = rates["reference"], rates["reference_one_window"]
    assert [loop["windows"] for loop in loops] == [16, 1]
    assert all(loop["calls"] == 5 for loop in loops)
    best = max(r["window_nfe_per_s"] for r in rates["engine"])
    for key, loop in (("", loops[0]), ("_one_window", loops[1])):
        ratio = best / loop["window_nfe_per_s"]
        assert rates["best_ratio" + key] == pytest.approx(ratio)
    table = (tmp_path / "throughput_smoke.md").read_text()
    assert "best engine / reference of 16" in table
    assert "best engine / reference of 1 " in table


def test_throughput_records_a_batch_that_does_not_fit_and_goes_on(
    tmp_path, monkeypatch
):
    throughput = _load("throughput")
    rates = importlib.import_module("_rates")
    real, real_reference = rates.engine_rate, rates.reference_rate

    def engine_rate(net, shape, batch, *rest, **options):
        if batch == 8:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return real(net, shape, batch, *rest, **options)

    def reference_rate(net, shape, calls, device, windows=1):
        if windows == 16:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return real_reference(net, shape, calls, device, windows=windows)

    monkeypatch.setattr(rates, "engine_rate", engine_rate)
    monkeypatch.setattr(rates, "reference_rate", reference_rate)
    argv = ["--smoke", "--parts", "rates", "--results", str(tmp_path)]
    result = throughput.main(argv)
    (shape,) = result["rates"]
    assert shape["engine"][0]["out_of_memory"] is True
    assert shape["engine"][1]["batch"] == "auto"
    assert shape["reference"]["out_of_memory"] is True and "best_ratio" not in shape
    auto = shape["engine"][1]["window_nfe_per_s"]
    assert shape["best_ratio_one_window"] == pytest.approx(
        auto / shape["reference_one_window"]["window_nfe_per_s"]
    )
    table = (tmp_path / "throughput_smoke.md").read_text()
    assert table.count("out of memory") == 2


def test_ddp_scaling_smoke_trains_under_torchrun_with_one_and_two_processes(
    tmp_path,
):
    result = _load("ddp_scaling").main(["--smoke", "--results", str(tmp_path)])
    written = json.loads((tmp_path / "ddp_scaling_smoke.json").read_text())
    assert written["protocol"] == "ddp_scaling_smoke"
    one, two = result["runs"]
    assert (one["processes"], two["processes"]) == (1, 2)
    assert one["speedup"] == 1.0
    assert two["speedup"] == pytest.approx(two["windows_per_s"] / one["windows_per_s"])
    assert one["epochs"] == two["epochs"] == 2  # both fits ran to the end


def test_baselines_run_in_worker_processes_like_in_process(monkeypatch):
    # As when a script runs: the benchmarks folder is importable (workers import
    # the job function by module name).
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    runs = importlib.import_module("_runs")
    from tsdiff.baselines import InterpolationImputer

    rng = np.random.default_rng(0)
    truth = rng.normal(size=(30, 2))
    target = rng.random(truth.shape) < 0.3
    given = np.where(target, np.nan, truth)
    cases = [({"ratio": 0.3}, given, target)]
    jobs = [("interpolation", InterpolationImputer(), truth, None)]
    serial = runs.Baselines(jobs, cases, truth, parallel=False).results()
    parallel = runs.Baselines(jobs, cases, truth, parallel=True).results()
    assert len(serial) == len(parallel) == 1
    for key in ("crps", "mae", "rmse", "coverage_90", "n_targets", "ratio"):
        assert serial[0][key] == parallel[0][key]


def test_physionet_split_and_targets_follow_csdi():
    physionet = _load("physionet")
    ids = np.arange(100, 150)
    train, valid, test = physionet.split(ids, seed=1)
    # CSDI: shuffle 0..n-1 with the seed, fold 0's first 20 % test, the rest
    # reshuffled with the same seed, 70 % of all stays train.
    order = np.arange(len(ids))
    np.random.RandomState(1).shuffle(order)
    rest = order[10:].copy()
    np.random.RandomState(1).shuffle(rest)
    np.testing.assert_array_equal(test, ids[order[:10]])
    np.testing.assert_array_equal(train, ids[rest[:35]])
    np.testing.assert_array_equal(valid, ids[rest[35:]])

    rng = np.random.default_rng(0)
    values = rng.normal(size=(3 * 4, 2))
    values[rng.random(values.shape) < 0.3] = np.nan
    index = pd.MultiIndex.from_product([[5, 2, 9], range(4)], names=["id", "hour"])
    frame = pd.DataFrame(values, index=index)
    target = physionet.hide(frame, 0.5, seed=3)
    observed = frame.notna().to_numpy()
    assert not (target & ~observed).any()
    for rows in (slice(0, 4), slice(4, 8), slice(8, 12)):
        assert target[rows].sum() == int(observed[rows].sum() * 0.5)
    np.testing.assert_array_equal(target, physionet.hide(frame, 0.5, seed=3))


def test_readme_table_matches_the_results_files():
    # The README's results table is generated from results/*.json; a hand edit or
    # a new result without `python benchmarks/summary.py` fails here.
    assert _load("summary").main(["--check"]) == 0


def test_table_names_every_card_a_resumed_fit_trained_on(tmp_path):
    run = {"method": "tsdiff ddpm-50", "crps": 0.1, "mae": 1.0, "rmse": 2.0}
    run |= {"coverage_90": 0.9, "num_samples": 100, "fit_s": 5.0, "predict_s": 1.0}
    result = {
        "provenance": {"device": "NVIDIA H100", "commit": "abc"},
        "config": {"estimator": {"batch_size": 32}},
        "history": [{"device": "cuda: NVIDIA H200"}, {"device": "cuda: NVIDIA H100"}],
        "runs": [run],
    }
    path = tmp_path / "pm25.json"
    path.write_text(json.dumps(result))
    (row,) = _load("summary")._rows(path)
    assert "NVIDIA H100 (trained on NVIDIA H200 + NVIDIA H100)" in row
    assert "2 epochs, batch 32" in row
    # A fit on the machine that also scored it is not annotated, on a CPU too.
    result["provenance"]["device"] = "AMD EPYC (2 usable cores)"
    result["history"] = [{"device": "cpu"}]
    path.write_text(json.dumps(result))
    (row,) = _load("summary")._rows(path)
    assert "| AMD EPYC (2 usable cores) |" in row and "trained on" not in row


def test_a_fit_cut_short_by_its_time_limit_is_not_scored(monkeypatch, tiny):
    from tsdiff import DiffusionImputer

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    runs = importlib.import_module("_runs")
    X = np.random.default_rng(0).normal(size=(40, 2))
    params = dict(tiny, window_length=8, n_epochs=3)
    cut = DiffusionImputer(**params, max_fit_time=1e-9).fit(X)
    assert not runs.fit_finished(cut)
    assert runs.fit_finished(DiffusionImputer(**params).fit(X))


def test_set_passes_any_estimator_parameter_and_is_recorded(tmp_path):
    if not (DATA / "beijing_pm25_stmvl").exists():
        pytest.skip("benchmark data is not available")
    argv = ["--smoke", "--results", str(tmp_path), "--tag", "x", "--shared-device", "2"]
    argv += ["--set", "center_windows=false", "--set", "parameterization=epsilon"]
    _load("pm25").main(argv)
    config = json.loads((tmp_path / "pm25_x_smoke.json").read_text())["config"]
    assert config["overrides"] == {
        "center_windows": False,
        "parameterization": "epsilon",
    }
    assert config["estimator"]["center_windows"] is False
    assert config["estimator"]["parameterization"] == "epsilon"
    assert config["runs_sharing_device"] == 2


def test_fp32_eta_and_cal_sampler_runs_change_that_run_only(tiny, monkeypatch):
    from tsdiff import DiffusionImputer

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    runs = importlib.import_module("_runs")
    X = np.random.default_rng(0).normal(size=(40, 2))
    imputer = DiffusionImputer(**tiny, window_length=8, calibration_share=None).fit(X)
    given = X.copy()
    given[::5, 0] = np.nan
    seen = []
    sample = imputer.sample

    def spy(data):
        seen.append((imputer.mixed_precision, imputer.eta, imputer.calibration_share))
        return sample(data)

    monkeypatch.setattr(imputer, "sample", spy)
    parser = runs.common_args("x", "ddpm:50", seed=0)
    specs = "ddpm:3,ddpm:3:fp32,dpmpp_2m:3:eta=0.5:cal=input,ddim:3:fp32:eta=1:cal=none"
    args = parser.parse_args(["--samplers", specs])
    records = runs.score_samplers(imputer, [({}, given, np.isnan(given))], X, args)
    assert seen == [
        (True, 0.0, None),
        (False, 0.0, None),
        (True, 0.5, "input"),
        (False, 1.0, None),
    ]
    assert imputer.mixed_precision is True and imputer.eta == 0.0  # restored
    assert imputer.calibration_share is None
    assert [r["method"] for r in records] == [
        "tsdiff ddpm-3",
        "tsdiff ddpm-3 fp32",
        "tsdiff dpmpp_2m-3 eta=0.5 cal=input",
        "tsdiff ddim-3 fp32 eta=1 cal=none",
    ]
    assert "precision" not in records[0] and records[1]["precision"] == "fp32"
    assert "eta" not in records[1] and records[2]["eta"] == 0.5
    assert "calibration" not in records[1] and records[2]["calibration"] == "input"
    bad_specs = ("ddpm:3:fp16", "ddim", "ddim:x", "ddim:3:eta=x", "ddim:3:eta=1:eta=0")
    more = ("ddim:3:cal=held", "ddim:3:cal=input:cal=none", "ddim:3:rate=x")
    for spec in (*bad_specs, *more, "ddim:3:rate=0", "ddim:3:rate=", "ddim:3:eta"):
        bad = parser.parse_args(["--samplers", spec])
        with pytest.raises(SystemExit, match="sampler:steps"):
            runs.samplers(bad)


def test_set_rejects_an_item_without_a_value(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    runs = importlib.import_module("_runs")
    args = runs.common_args("x", "ddpm:50", seed=0).parse_args(["--set", "n_layers"])
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        runs.overrides(args)


def _result_file(folder, name, seed, crps, mae, estimator=None, shared=1):
    tsdiff_run = {"method": "tsdiff ddpm-50", "crps": crps, "mae": mae, "rmse": 2.0}
    tsdiff_run |= {"coverage_90": 0.9, "num_samples": 100, "fit_s": 5.0}
    baseline = dict(tsdiff_run, method="linear interpolation", predict_s=0.0)
    result = {
        "protocol": name,
        "provenance": {"device": "NVIDIA H100", "commit": "abc"},
        "config": {
            "estimator": estimator or {"batch_size": 32},
            "seed": seed,
            "runs_sharing_device": shared,
        },
        "history": [{"epoch": 1}],
        "runs": [dict(tsdiff_run, predict_s=1.0), baseline],
    }
    (folder / f"{name}.json").write_text(json.dumps(result))


def test_seed_table_gives_mean_and_sd_over_the_seeds_of_one_setting(tmp_path):
    summary = _load("summary")
    _result_file(tmp_path, "pm25", 0, 0.10, 9.0)
    _result_file(tmp_path, "pm25_seed1", 1, 0.12, 10.0, shared=3)
    _result_file(tmp_path, "pm25_seed2", 2, 0.14, 11.0)
    # Another setting, and a second scoring of seed 0: neither joins the group.
    _result_file(tmp_path, "pm25_wide", 1, 0.5, 50.0, {"batch_size": 32, "n": 2})
    _result_file(tmp_path, "pm25_seed0again", 0, 0.9, 90.0)
    lines = summary.seed_table(tmp_path).splitlines()
    assert len(lines) == 3  # header, rule, one setting
    assert "| 0, 1, 2 | 0.1200 ± 0.0200 | 10.0000 ± 1.0000 |" in lines[2]
    # The full table shows baselines once, with the untagged file, and says when
    # runs shared the GPU.
    table = summary.table(tmp_path)
    assert table.count("linear interpolation") == 1
    assert "GPU shared by 3 runs" in table


def test_seed_table_matches_a_file_from_before_a_parameter_existed(tmp_path):
    summary = _load("summary")
    _result_file(tmp_path, "pm25", 0, 0.10, 9.0, {"batch_size": 32})
    # Its sampler was last set to another one for scoring: not a training setting.
    new = {"batch_size": 32, "center_windows": True, "sampler": "dpmpp_2m"}
    _result_file(tmp_path, "pm25_seed1", 1, 0.12, 10.0, new)
    _result_file(tmp_path, "pm25_off", 2, 0.5, 50.0, new | {"center_windows": False})
    lines = summary.seed_table(tmp_path).splitlines()
    assert len(lines) == 3 and "| 0, 1 |" in lines[2]


def test_nfe_curves_of_a_continuous_process_record_true_evaluations(tmp_path):
    if not (DATA / "beijing_pm25_stmvl").exists():
        pytest.skip("benchmark data is not available")
    nfe = _load("nfe_curves")
    argv = ["pm25", "--smoke", "--results", str(tmp_path), "--set", "process=ve"]
    argv += ["--sampler-names", "euler_maruyama,heun", "--nfe", "2,4"]
    result = nfe.main(argv + ["--reference", "euler_maruyama:8"])
    assert result["config"]["estimator"]["process"] == "ve"
    curves = nfe.curves(result)
    assert [n for n, _ in curves["heun"]] == [2, 4]  # 1 and 2 steps of 2 NFE
    assert [n for n, _ in curves["euler_maruyama"]] == [2, 4, 8]  # + the reference


@pytest.mark.parametrize(
    "protocol, folder",
    [
        ("exchange_rate", "exchange_rate"),
        ("etth1", "ett"),
        ("ili", "ili"),
        ("m4_hourly", "monash"),
    ],
)
def test_forecasting_smoke_scores_tsdiff_and_baselines_on_the_same_cells(
    protocol, folder, tmp_path
):
    if not (DATA / folder).exists():
        pytest.skip(f"benchmark data {DATA / folder} is not available")
    result = _load("forecasting").main(
        [protocol, "--smoke", "--results", str(tmp_path)]
    )
    written = json.loads((tmp_path / f"forecast_{protocol}_smoke.json").read_text())
    assert written["protocol"] == f"forecast_{protocol}_smoke"
    methods = [run["method"] for run in result["runs"]]
    assert methods[0].startswith("tsdiff") and len(methods) == 3
    assert any(m.startswith("seasonal naive") for m in methods)
    assert any(m.startswith("ETS") for m in methods)
    n_targets = {run["n_targets"] for run in written["runs"]}
    assert len(n_targets) == 1 and n_targets.pop() > 0  # the same cells for all
    for run in written["runs"]:
        assert 0 <= run["crps"] < 10 and 0 <= run["coverage_90"] <= 1
        assert ("crps_sum" in run) == (protocol == "exchange_rate")
    table = (tmp_path / f"forecast_{protocol}_smoke.md").read_text()
    assert table.count("\n| ") == len(written["runs"]) + 1


def test_horizon_means_score_whether_samples_hold_together_in_time():
    forecasting = _load("forecasting")
    y = np.array([[1.0], [np.nan], [3.0], [4.0], [4.0], [4.0]])  # 2 forecasts, H=3
    samples = np.arange(12.0).reshape(2, 6, 1)  # (S, rows, K)
    truth, means = forecasting._horizon_means(y, samples, 3)
    assert truth[:, 0].tolist() == [2.0, 4.0]  # the missing cell is left out
    assert means[:, :, 0].tolist() == [[1.0, 4.0], [7.0, 10.0]]  # (0+2)/2, (3+4+5)/3
    # Paths that share one level per sample spread their means as the truth's do;
    # paths of independent steps with the same marginals do not, and score worse.
    rng = np.random.default_rng(0)
    level = rng.normal(size=(500, 40, 1, 1))  # (S, forecasts, 1, K)
    coherent = np.broadcast_to(level, (500, 40, 8, 1)).reshape(500, 320, 1)
    independent = rng.normal(size=(500, 320, 1))
    y = np.repeat(rng.normal(size=(40, 1)), 8, axis=0)  # (rows, K): flat truths
    scores = [
        metrics.wql(*forecasting._horizon_means(y, paths, 8))
        for paths in (coherent, independent)
    ]
    assert scores[0] < 0.95 * scores[1]  # 0.75 against 0.83


def test_forecasting_scores_every_sampler_with_one_fit(tmp_path):
    if not (DATA / "ili").exists():
        pytest.skip(f"benchmark data {DATA / 'ili'} is not available")
    samplers = "dpmpp_2m:10,dpmpp_2m:10:eta=1,dpmpp_2m:10:rate=0.5"
    result = _load("forecasting").main(
        ["ili", "--smoke", "--no-baselines", "--samplers", samplers,
         "--set", "calibration_windows=2", "--results", str(tmp_path)]
    )  # fmt: skip
    first, second, tracked = result["runs"]
    # Each sampler's forecasts were stretched by its own factors, per level, step
    # and variable.
    assert np.shape(first["calibration_factors"])[-1] == 7  # ILI's seven columns
    assert first["calibration_factors"] != second["calibration_factors"]
    assert first["method"] == "tsdiff dpmpp_2m-10" and "eta" not in first
    assert second["method"] == "tsdiff dpmpp_2m-10 eta=1" and second["eta"] == 1
    assert first["fit_s"] == second["fit_s"] > 0  # one fit, timed once
    assert first["crps"] != second["crps"]  # the stochastic steps drew other paths
    # rate= tracks the intervals along the backtest: the same samples, other
    # intervals from the second cutoff on.
    assert tracked["method"] == "tsdiff dpmpp_2m-10 rate=0.5"
    assert tracked["calibration_rate"] == 0.5 and "calibration_rate" not in first
    assert tracked["mae"] == first["mae"] and tracked["crps"] != first["crps"]


def test_long_context_smoke_measures_each_context_in_its_own_process(tmp_path):
    result = _load("long_context").main(["--smoke", "--results", str(tmp_path)])
    written = json.loads((tmp_path / "long_context_smoke.json").read_text())
    assert [r["context"] for r in written["runs"]] == [8, 24]
    for run in result["runs"]:
        assert run["window"] == run["context"] + run["horizon"]
        assert run["train_ms_per_window"] > 0 and run["sample_ms_per_window_nfe"] > 0
        assert run["peak_memory_mb"] > 0
    assert (tmp_path / "long_context_smoke.md").read_text().count("\n| ") == 3


@pytest.mark.parametrize("protocol", ["co2", "etth2"])
def test_the_validation_split_lies_before_the_test_and_trains_before_itself(protocol):
    if protocol == "etth2" and not (DATA / "ett").exists():
        pytest.skip(f"benchmark data {DATA / 'ett'} is not available")
    forecasting = _load("forecasting")
    options = dict(max_windows=None, smoke=False, horizon=None, context=None, data=None)
    test = forecasting._task(protocol, argparse.Namespace(split="test", **options))
    val = forecasting._task(protocol, argparse.Namespace(split="validation", **options))
    first_test = min(test.cutoffs)
    # Every validation forecast, its truth included, ends before the test starts ...
    assert val.series.index[-1] <= first_test
    assert all(c < first_test for c in val.cutoffs)
    # ... and the model of a validation run trains on data before its own windows.
    assert val.train.index[-1] <= min(val.cutoffs)


def _rate_file(path, rows):
    """A results file of tsdiff runs (rate, crps, coverage_90, coverage_50)."""
    runs = [{"method": "seasonal naive", "crps": 0.0}] + [
        {"method": "tsdiff", "crps": c, "coverage_90": c90, "coverage_50": c50}
        | ({} if r is None else {"calibration_rate": r})
        for r, c, c90, c50 in rows
    ]
    path.write_text(json.dumps({"runs": runs}))
    return path


def test_select_setting_keeps_the_crps_bound_then_picks_the_closest_coverage(
    tmp_path, capsys
):
    select = _load("select_setting")
    rows_a = [(None, 1.0, 0.80, 0.40), (0.5, 1.01, 0.88, 0.48), (2, 1.0, 0.9, 0.5)]
    a = _rate_file(tmp_path / "a.json", rows_a + [(1, 1.0, 0.9, 0.5)])
    rows_b = [(None, 1.0, 0.85, 0.45), (0.5, 1.0, 0.89, 0.49), (2, 1.05, 0.9, 0.5)]
    b = _rate_file(tmp_path / "b.json", rows_b)
    # 2 is closest but costs 5 % CRPS on b; 1 is not scored in b
    assert select.main(["calibration_rate", str(a), str(b)]) == "0.5"
    assert capsys.readouterr().out.strip() == "0.5"
    assert (
        select.main(["calibration_rate", str(a), str(b), "--max-crps-loss", "0.1"])
        == "2"
    )
    worse = _rate_file(
        tmp_path / "c.json", [(None, 1.0, 0.9, 0.5), (0.5, 1.1, 0.9, 0.5)]
    )
    assert select.main(["calibration_rate", str(worse)]) == "none"
    bare = _rate_file(tmp_path / "d.json", [(0.5, 1.0, 0.9, 0.5)])
    with pytest.raises(ValueError, match="reference"):
        select.main(["calibration_rate", str(bare)])


def test_upsampling_smoke_scores_tsdiff_and_interpolation_on_the_same_cells(
    tmp_path,
):
    if not (DATA / "ett").exists():
        pytest.skip(f"benchmark data {DATA / 'ett'} is not available")
    result = _load("upsampling").main(["ettm1", "--smoke", "--results", str(tmp_path)])
    runs = {run["method"]: run for run in result["runs"]}
    assert set(runs) == {
        "tsdiff (point)", "linear (point)", "cubic spline (point)",
        "tsdiff (mean)", "block mean (mean)", "linear (mean)", "cubic spline (mean)",
    }  # fmt: skip
    for how in ("point", "mean"):
        counts = {r["n_targets"] for r in runs.values() if r["how"] == how}
        assert len(counts) == 1 and counts.pop() > 0  # the same cells for all
    assert 0 <= runs["tsdiff (mean)"]["coverage_90"] <= 1
    assert (tmp_path / "upsample_ettm1_smoke.md").exists()


def test_upsampling_baselines_keep_the_block_means_and_the_points():
    up = _load("upsampling")
    index = pd.date_range("2024-01-01", periods=12, freq="h")
    truth = pd.DataFrame({"a": np.sin(np.arange(12.0))}, index=index)
    for how in ("point", "mean"):
        coarse = up.coarse_of(truth, 3, how)
        for method in ("repeat", "linear", "cubic"):
            fine = up._interpolated(coarse, 3, how, method)[:, 0]
            if how == "mean":
                np.testing.assert_allclose(fine.reshape(4, 3).mean(1), coarse["a"])
            elif method != "repeat":
                np.testing.assert_allclose(fine[::3], coarse["a"])


def test_coverage_table_reads_the_defaults_and_the_uncalibrated_run(tmp_path):
    coverage = _load("_coverage")
    runs = [
        {"method": "tsdiff dpmpp_2m-10", "crps": 0.102, "coverage_90": 0.9,
         "coverage_50": 0.4, "interval_score_90": 3.0},
        {"method": "tsdiff dpmpp_2m-10 cal=none", "crps": 0.1, "coverage_90": 0.8,
         "coverage_50": 0.5, "interval_score_90": 4.0},
    ]  # fmt: skip
    result = {"provenance": {"device": "NVIDIA H100", "commit": "0123456789ab"}}
    (tmp_path / "pm25_coverage.json").write_text(json.dumps(result | {"runs": runs}))
    lines = coverage.coverage_table(tmp_path).splitlines()
    assert len(lines) == 2 + len(coverage.ROWS)
    pm25 = next(line for line in lines if line.startswith("| PM2.5 |"))
    assert "| 0.900 in | 0.400 OUT | 0.102 | 0.1 | +2.0 % | 3 | 4 |" in pm25
    assert "`01234567`" in pm25
    assert next(line for line in lines if "PhysioNet 10 %" in line).count("not run")


def test_throughput_times_latent_patches_of_several_variables(tmp_path):
    throughput = _load("throughput")
    assert throughput._resolutions("1,8:4,8:16:4") == (
        (1, None, 1),
        (8, 4, 1),
        (8, 16, 4),
    )
    argv = ["--smoke", "--parts", "train", "--patch-lengths", "4:4:2"]
    result = throughput.main(argv + ["--results", str(tmp_path)])
    (train,), (sample,) = result["train"], result["sample"]
    assert (train["latent_dim"], train["patch_width"]) == (4, 2)
    assert sample["patch_width"] == 2
    assert "| 4 (2 variables) |" in (tmp_path / "throughput_smoke.md").read_text()


def test_denoising_smoke_mode_scores_tsdiff_beside_the_smoothers(tmp_path):
    result = _load("denoising").main(
        ["synthetic", "--smoke", "--results", str(tmp_path)]
    )
    methods = [run["method"] for run in result["runs"]]
    assert methods[0].startswith("tsdiff") and "noisy readings" in methods
    assert any("optimum" in m for m in methods)
    noisy = result["runs"][-1]
    # The optimum smoother beats the readings themselves: the scoring sees noise.
    optimum = next(run for run in result["runs"] if "optimum" in run["method"])
    assert optimum["rmse"] < noisy["rmse"]
    assert (tmp_path / "denoise_synthetic_smoke.md").exists()


def test_generation_smoke_scores_tsdiff_beside_the_bootstrap_and_the_ar(tmp_path):
    if not (DATA / "monash").exists():
        pytest.skip(f"benchmark data {DATA / 'monash'} is not available")
    result = _load("generation").main(
        ["electricity", "--smoke", "--results", str(tmp_path)]
    )
    methods = [run["method"] for run in result["runs"]]
    assert methods[0].startswith("tsdiff") and len(methods) == 3
    for run in result["runs"]:
        assert set(run["train"]) == {"discriminative", "marginal", "acf"}
        assert 0 <= run["train"]["discriminative"] <= 0.5
    assert (tmp_path / "generate_electricity_smoke.md").exists()


def test_generation_scores_tell_a_series_from_noise():
    gen = _load("generation")
    rng = np.random.default_rng(0)

    def ar1(n):  # (n, 32, 2) windows of a smooth AR(1)
        x = np.zeros((n, 32 + 50, 2))
        for t in range(1, x.shape[1]):
            x[:, t] = 0.9 * x[:, t - 1] + rng.standard_normal((n, 2)) * 0.44
        return x[:, 50:]

    real, same = ar1(200), ar1(200)
    noise = rng.standard_normal(real.shape)  # the same spread, no memory
    alike, apart = gen.scores(real, same, 0), gen.scores(real, noise, 0)
    assert alike["discriminative"] < 0.15 < 0.4 < apart["discriminative"]
    assert alike["acf"] < 0.05 < 0.2 < apart["acf"]


def test_an_explosive_autoregression_is_shrunk_to_a_stable_one():
    gen = _load("generation")
    walk = np.cumsum(np.random.default_rng(1).standard_normal((300, 1)) + 0.5, axis=0)
    intercept, coefs, sigma = gen._fit_ar(walk, 4)
    p = len(coefs)
    companion = np.zeros((p, p))
    companion[0] = coefs[:, 0, 0]
    companion[1:, :-1] = np.eye(p - 1)
    assert np.abs(np.linalg.eigvals(companion)).max() <= 0.99 + 1e-9
    # The process mean is the series' mean.
    mean = intercept / (1 - coefs.sum(axis=0))[0]
    np.testing.assert_allclose(mean, walk.mean(axis=0))


def test_denoiser_probe_weights_read_a_known_filter():
    probe = _load("denoiser_probe")
    alpha, sigma = 0.8, 0.6

    def smoother(x_t, t):  # the noise that makes the estimate a 3-step mean
        mean = torch.nn.functional.avg_pool1d(
            x_t / alpha, 3, stride=1, padding=1, count_include_pad=True
        )  # (B, K, L): zero-padded ends
        return (x_t - alpha * mean) / sigma

    x_t = torch.randn(4, 2, 12, generator=torch.Generator().manual_seed(0))
    weights = probe._weights(smoother, x_t, 5, alpha, sigma)
    assert weights["weight_self"] == pytest.approx(1 / 3, abs=1e-6)
    assert weights["weight_neighbours"] == pytest.approx(1 / 3, abs=1e-6)
    assert weights["weight_far"] == pytest.approx(0.0, abs=1e-7)


def test_denoiser_probe_smoke_scores_every_probed_step(tmp_path):
    if not (DATA / "ett").exists():
        pytest.skip(f"benchmark data {DATA / 'ett'} is not available")
    result = _load("denoiser_probe").main(["--smoke", "--results", str(tmp_path)])
    real, *steps = result["runs"]
    assert real["t"] == "real windows" and 0 < real["lag1"] <= 1
    assert [s["t"] for s in steps] == sorted(s["t"] for s in steps)
    # At the smallest noise the estimate is the window itself.
    assert steps[0]["t"] == 0 and steps[0]["mse"] < 1e-2
    assert all(-5 < s["weight_neighbours"] < 5 for s in steps)
    assert (tmp_path / "probe_etth1_smoke.md").exists()
