"""The table of bad inputs in docs/bad_inputs.md is exact: every row's call raises
the error type and message the row gives, and every case here has its row."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsdiff import DiffusionForecaster, DiffusionImputer

DOC = Path(__file__).parents[1] / "docs" / "bad_inputs.md"


@pytest.fixture(scope="module")
def ctx(tiny_shared, make_frame, tmp_path_factory):
    frame = make_frame()  # 64 hourly steps, columns v0..v2, some values missing
    times = frame.index
    panel_index = pd.MultiIndex.from_product(
        [["a", "b"], times[:40]], names=["id", "t"]
    )
    rng = np.random.default_rng(0)
    panel = pd.DataFrame(rng.normal(size=(80, 3)), panel_index, frame.columns)
    return {
        "tmp": tmp_path_factory.mktemp("models"),
        "frame": frame,
        "imputer": DiffusionImputer(window_length=8, **tiny_shared).fit(frame),
        "forecaster": DiffusionForecaster(
            context_length=8, prediction_length=4, **tiny_shared
        ).fit(frame),
        "panel_forecaster": DiffusionForecaster(
            context_length=8, prediction_length=4, **tiny_shared
        ).fit(panel),
        "new_imputer": lambda **kw: DiffusionImputer(
            **{"window_length": 8, **tiny_shared, **kw}
        ),
        "new_forecaster": lambda **kw: DiffusionForecaster(
            **{"context_length": 8, "prediction_length": 4, **tiny_shared, **kw}
        ),
    }


def _with(frame, **columns):
    out = frame.copy()
    for name, value in columns.items():
        out[name] = value
    return out


def _inf(frame):
    out = frame.copy()
    out.iloc[3, 1] = np.inf
    return out


def _mixed_zones(frame):
    half = len(frame) // 2
    stamps = [t.tz_localize("UTC") for t in frame.index[:half]]
    stamps += [t.tz_localize("America/New_York") for t in frame.index[half:]]
    return frame.set_axis(pd.Index(stamps, dtype=object))


def _off_grid(frame):
    stamps = frame.index.to_series()
    stamps.iloc[5] += pd.Timedelta(minutes=30)
    return frame.set_axis(pd.DatetimeIndex(stamps))


def _other_version(c):
    """A saved model whose description claims another file format."""
    folder = c["tmp"] / "old"
    if not folder.exists():
        c["imputer"].save(folder)
        config = folder / "config.json"
        document = json.loads(config.read_text())
        document.update(format_version=0, tsdiff_version="0.0.1")
        config.write_text(json.dumps(document))
    return folder


def _unseen_series(frame):
    index = pd.MultiIndex.from_tuples(
        [("c", frame.index[40]), ("c", frame.index[41])], names=["id", "t"]
    )
    return pd.DataFrame(np.zeros((2, 3)), index, frame.columns)


CASES = {
    "inf": lambda c: c["new_imputer"]().fit(_inf(c["frame"])),
    "inf-transform": lambda c: c["imputer"].transform(_inf(c["frame"])),
    "all-nan-column": lambda c: c["new_forecaster"]().fit(_with(c["frame"], v2=np.nan)),
    "object-column": lambda c: c["new_imputer"]().fit(_with(c["frame"], site="a")),
    "categorical-column": lambda c: c["new_forecaster"]().fit(
        _with(c["frame"], kind=pd.Categorical(["x"] * len(c["frame"])))
    ),
    "strings": lambda c: c["new_forecaster"]().fit(c["frame"].astype(str)),
    "complex": lambda c: c["new_imputer"]().fit(np.ones((30, 2), dtype=complex)),
    "mixed-time-zones": lambda c: c["new_imputer"]().fit(_mixed_zones(c["frame"])),
    "duplicated-timestamps": lambda c: c["new_forecaster"]().fit(
        pd.concat([c["frame"].iloc[:10], c["frame"].iloc[9:]])
    ),
    "unsorted": lambda c: c["new_imputer"]().fit(c["frame"].iloc[::-1]),
    "off-grid": lambda c: c["new_forecaster"]().fit(_off_grid(c["frame"])),
    "empty": lambda c: c["new_imputer"]().fit(c["frame"].iloc[:0]),
    "none": lambda c: c["new_forecaster"]().fit(None),
    "four-dimensional": lambda c: c["imputer"].transform(np.zeros((1, 2, 30, 3))),
    "too-short": lambda c: c["new_forecaster"](prediction_length=64).fit(c["frame"]),
    "no-room-to-calibrate": lambda c: c["new_forecaster"](calibration_windows=20).fit(
        c["frame"]
    ),
    "calibration-unknown": lambda c: c["new_forecaster"](
        calibration_windows="always"
    ).fit(c["frame"]),
    "calibration-rate-negative": lambda c: c["new_forecaster"](
        calibration_rate=-1.0
    ).fit(c["frame"]),
    "imputer-share-too-large": lambda c: c["new_imputer"](calibration_share=0.6).fit(
        c["frame"]
    ),
    "imputer-nothing-to-hold-out": lambda c: c["new_imputer"](
        calibration_share=0.05
    ).fit(c["frame"]),
    "imputer-coverage-one": lambda c: c["new_imputer"](
        calibration_share=0.25, calibration_coverage=1.0
    ).fit(c["frame"]),
    "negative-size": lambda c: c["new_imputer"](window_length=-1).fit(c["frame"]),
    "budget-zero": lambda c: c["new_forecaster"](max_fit_time=0).fit(c["frame"]),
    "budget-negative": lambda c: c["new_imputer"](max_fit_time=-60).fit(c["frame"]),
    "budget-nan": lambda c: c["new_forecaster"](max_fit_time=float("nan")).fit(
        c["frame"]
    ),
    "budget-infinite": lambda c: c["new_imputer"](max_fit_time=float("inf")).fit(
        c["frame"]
    ),
    "budget-string": lambda c: c["new_forecaster"](max_fit_time="5 min").fit(
        c["frame"]
    ),
    "steps-zero": lambda c: c["new_imputer"](steps_per_epoch=0).fit(c["frame"]),
    "unknown-schedule": lambda c: c["new_forecaster"](lr_schedule="linear").fit(
        c["frame"]
    ),
    "batch-string": lambda c: c["new_imputer"](batch_size="big").fit(c["frame"]),
    "lag-beyond-window": lambda c: c["new_forecaster"](lags=(24,)).fit(c["frame"]),
    "unknown-compile-mode": lambda c: c["new_imputer"](compile="fast").fit(c["frame"]),
    "interpolated-input-text": lambda c: c["new_forecaster"](
        interpolated_input="yes"
    ).fit(c["frame"]),
    "patch-not-dividing": lambda c: c["new_forecaster"](patch_length=5).fit(c["frame"]),
    "patch-beyond-window": lambda c: c["new_imputer"](patch_length=16).fit(c["frame"]),
    "patch-zero": lambda c: c["new_imputer"](patch_length=0).fit(c["frame"]),
    "latent-zero": lambda c: c["new_imputer"](patch_length=4, latent_dim=0).fit(
        c["frame"]
    ),
    "latent-beyond-patch": lambda c: c["new_forecaster"](
        patch_length=4, latent_dim=8
    ).fit(c["frame"]),
    "patch-width-without-latent": lambda c: c["new_imputer"](patch_width=2).fit(
        c["frame"]
    ),
    "dates-as-text": lambda c: c["new_forecaster"]().fit(
        c["frame"].set_axis(c["frame"].index.astype(str))
    ),
    "patch-width-zero": lambda c: c["new_forecaster"](
        patch_length=4, latent_dim=2, patch_width=0
    ).fit(c["frame"]),
    "time-kernel-even": lambda c: c["new_forecaster"](time_kernel=4).fit(c["frame"]),
    "latent-patch-not-dividing": lambda c: c["new_imputer"](
        patch_length=3, latent_dim=2
    ).fit(c["frame"]),
    "zero-samples": lambda c: c["forecaster"].sample(num_samples=0),
    "wrong-column-names": lambda c: c["imputer"].transform(
        c["frame"].rename(columns={"v0": "zz"})
    ),
    "wrong-column-count": lambda c: c["forecaster"].predict(y=c["frame"].iloc[:, :2]),
    "array-column-count": lambda c: c["imputer"].transform(
        c["frame"].to_numpy()[:, :2]
    ),
    "alpha-out-of-range": lambda c: c["forecaster"].predict_quantiles(alpha=[0.1, 1.5]),
    "alpha-zero": lambda c: c["imputer"].predict_quantiles(c["frame"], alpha=[0.0]),
    "coverage-zero": lambda c: c["forecaster"].predict_interval(coverage=0.0),
    "coverage-above-one": lambda c: c["imputer"].predict_interval(
        c["frame"], coverage=1.2
    ),
    "fh-string": lambda c: c["forecaster"].predict(fh="tomorrow"),
    "fh-float": lambda c: c["forecaster"].predict(fh=1.5),
    "fh-in-sample": lambda c: c["forecaster"].predict(fh=0),
    "fh-too-far": lambda c: c["forecaster"].predict(fh=10),
    "other-time-zone": lambda c: c["forecaster"].predict(
        y=c["frame"].tz_localize("UTC")
    ),
    "short-history-other-type": lambda c: c["forecaster"].predict(
        y=c["frame"].iloc[:1].set_axis(pd.period_range("2024-01-01", periods=1))
    ),
    "update-overlap": lambda c: c["forecaster"].update(c["frame"].iloc[-5:]),
    "update-other-frequency": lambda c: c["forecaster"].update(
        pd.DataFrame(
            1.0,
            index=pd.date_range(
                c["forecaster"].cutoff_ + pd.Timedelta("1D"), periods=3, freq="D"
            ),
            columns=c["frame"].columns,
        )
    ),
    "update-unseen-series": lambda c: c["panel_forecaster"].update(
        _unseen_series(c["frame"])
    ),
    "x-not-fitted-with": lambda c: c["forecaster"].predict(X=c["frame"]),
    "load-other-version": lambda c: DiffusionImputer.load(_other_version(c)),
    "save-unfitted": lambda c: c["new_imputer"]().save(c["tmp"] / "unfitted"),
    "plot-wrong-fh": lambda c: c["forecaster"].plot(fh=[1.5]),
    "imputer-sample-negative": lambda c: c["imputer"].sample(
        c["frame"], num_samples=-1
    ),
    "fit-transform-inf": lambda c: c["new_imputer"]().fit_transform(_inf(c["frame"])),
    "feature-names-out-wrong": lambda c: c["imputer"].get_feature_names_out(
        ["a", "b", "c"]
    ),
    "backtest-no-windows": lambda c: c["forecaster"].backtest(
        c["frame"], fh=2, n_windows=0
    ),
    "upsample-factor-one": lambda c: c["imputer"].upsample(
        c["frame"].resample("3h").mean(), factor=1
    ),
    "upsample-factor-float": lambda c: c["imputer"].upsample(
        c["frame"].resample("3h").mean(), factor=2.5
    ),
    "upsample-how-unknown": lambda c: c["imputer"].upsample(
        c["frame"].resample("3h").mean(), factor=3, how="sum"
    ),
    "upsample-off-grid": lambda c: c["imputer"].upsample(c["frame"], factor=3),
    "upsample-array": lambda c: c["imputer"].upsample(c["frame"].to_numpy(), 3),
    "denoise-negative-noise": lambda c: c["imputer"].denoise(c["frame"], -0.1),
    "denoise-nonfinite-noise": lambda c: c["imputer"].denoise(
        c["frame"], [0.1, 0.1, float("nan")]
    ),
    "denoise-no-noise": lambda c: c["imputer"].denoise(c["frame"], 0),
    "denoise-noise-count": lambda c: c["imputer"].denoise(c["frame"], [0.1, 0.2]),
    "generate-no-series": lambda c: c["imputer"].generate(n_series=0),
    "generate-no-length": lambda c: c["imputer"].generate(length=0),
    "generate-length-float": lambda c: c["imputer"].generate(length=2.5),
    "generate-start-type": lambda c: c["imputer"].generate(start=5),
}


def _doc_rows() -> dict[str, tuple[str, str]]:
    """``{case: (error type, message)}`` of the table in docs/bad_inputs.md."""
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([a-z0-9-]+)`", cells[0]) if len(cells) == 5 else None
        if match:
            rows[match.group(1)] = (cells[3].strip("`"), cells[4])
    return rows


def test_every_case_has_its_row_and_every_row_its_case():
    assert sorted(_doc_rows()) == sorted(CASES)
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_call_raises_what_the_table_says(case, ctx):
    error_type, message = _doc_rows()[case]
    with pytest.raises((ValueError, TypeError)) as caught:
        CASES[case](ctx)
    assert caught.type.__name__ == error_type or (
        error_type == "ValueError" and isinstance(caught.value, ValueError)
    )
    # Paths of the test's temporary folder read as <tmp> in the table.
    assert str(caught.value).replace(str(ctx["tmp"]), "<tmp>") == message


def test_a_panel_with_an_unseen_series_is_forecast_from_its_own_history(ctx):
    # The documented behaviour (docs/bad_inputs.md): predict(y=...) forecasts a
    # series the model has not seen, scaled by that series' own history.
    new = (
        ctx["frame"]
        .iloc[:40]
        .set_axis(
            pd.MultiIndex.from_product(
                [["c"], ctx["frame"].index[:40]], names=["id", "t"]
            )
        )
    )
    forecast = ctx["panel_forecaster"].predict(y=new)
    assert forecast.index.get_level_values(0).unique().tolist() == ["c"]
    assert np.isfinite(forecast.to_numpy()).all()
