"""Fan charts and imputation plots, rendered with the Agg backend: what was drawn is
read back from the axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from tsdiff import DiffusionForecaster, DiffusionImputer  # noqa: E402
from tsdiff.plotting import plot_forecast, plot_imputation  # noqa: E402

LEVELS = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def _line(ax, label):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


@pytest.fixture(scope="module")
def forecaster(tiny_shared, make_frame):
    frame = make_frame(n_steps=80, missing=0.0)
    fc = DiffusionForecaster(context_length=12, prediction_length=6, **tiny_shared)
    return fc.fit(frame.iloc[:-6]), frame


def test_fan_chart_nests_bands_inwards_with_the_median_on_top(forecaster, tmp_path):
    fc, frame = forecaster
    q = fc.predict_quantiles(alpha=LEVELS)
    truth = frame.iloc[-6:]
    ax = plot_forecast(frame.iloc[:-6], q, variable="v1", truth=truth, max_history=30)
    bands = _bands(ax)
    assert len(bands) == 3  # 95 %, 80 %, 50 %
    alphas = [band.get_alpha() for band in bands]
    assert alphas == sorted(alphas) and alphas[0] < alphas[-1]  # opaque inwards
    median = _line(ax, "median")
    np.testing.assert_allclose(median.get_ydata(), q[("v1", 0.5)].to_numpy())
    assert median.get_zorder() > max(band.get_zorder() for band in bands)
    history = _line(ax, "observed")
    assert len(history.get_xdata()) == 30
    np.testing.assert_allclose(history.get_ydata(), frame["v1"].iloc[-36:-6])
    np.testing.assert_allclose(_line(ax, "truth").get_ydata(), truth["v1"])
    widest = bands[0].get_paths()[0].vertices[:, 1]
    assert widest.min() == pytest.approx(q[("v1", 0.025)].min())
    ax.figure.savefig(tmp_path / "fan.png")
    assert (tmp_path / "fan.png").stat().st_size > 1000


def test_estimator_shortcuts_and_grids(forecaster, tiny, make_frame):
    fc, frame = forecaster
    ax = fc.plot(coverage=(0.5, 0.9))
    assert len(_bands(ax)) == 2 and ax.get_title() == "v0"
    assert len(_line(ax, "observed").get_xdata()) == 12  # the stored context
    axes = fc.plot(variable=["v0", "v2"])
    assert axes.shape == (2,) and [a.get_title() for a in axes] == ["v0", "v2"]
    with pytest.raises(ValueError, match=r"Unknown variable \['nope'\]"):
        fc.plot(variable="nope")
    # A panel: one grid panel per series, each after its own history.
    panel = pd.concat({"a": frame.iloc[:50], "b": frame.iloc[10:70]}, names=["id", "t"])
    pf = DiffusionForecaster(context_length=12, prediction_length=6, **tiny).fit(panel)
    axes = pf.plot(series=["a", "b"], variable="v1")
    assert [a.get_title() for a in axes] == ["a: v1", "b: v1"]
    starts = [_line(a, "median").get_xdata()[0] for a in axes]
    assert list(starts) == [frame.index[50], frame.index[70]]
    assert plt.get_fignums()  # drawn, not shown: the figures are still open


def test_imputation_plot_draws_runs_as_bands_and_single_gaps_as_error_bars(
    tiny, make_frame
):
    frame = make_frame(n_steps=60, missing=0.0)
    gappy = frame.copy()
    gappy.iloc[10:15, 0] = np.nan  # a run of five
    gappy.iloc[30, 0] = np.nan  # an isolated gap
    gappy.iloc[40, 0] = np.nan  # another
    imp = DiffusionImputer(window_length=12, **tiny).fit(gappy)
    ax = imp.plot(gappy, coverage=(0.5, 0.9))
    observed = _line(ax, "observed")
    assert len(observed.get_xdata()) == 60 - 7
    bands = _bands(ax)
    assert len(bands) == 2  # one run, two nested intervals
    # The run's band is joined to the observations on either side.
    xs = bands[0].get_paths()[0].vertices[:, 0]
    run_x = matplotlib.dates.date2num(gappy.index[[9, 15]])
    assert xs.min() == pytest.approx(run_x[0]) and xs.max() == pytest.approx(run_x[1])
    assert len(ax.containers) == 2  # error bars of the two isolated gaps
    q = imp.predict_quantiles(gappy, alpha=(0.05, 0.5, 0.95))
    axes = plot_imputation(gappy, q, variable=["v0", "v1"])
    assert len(_bands(axes[1])) == 0  # nothing missing in v1
    with pytest.raises(ValueError, match="axes"):
        plot_imputation(gappy, q, variable=["v0", "v1"], ax=plt.gca())


def test_plot_shortcuts_read_long_tables_and_refuse_arrays(forecaster, tiny):
    fc, frame = forecaster
    with pytest.raises(TypeError, match="plot needs y as a DataFrame"):
        fc.plot(y=frame.to_numpy())
    panel = pd.concat({"a": frame.iloc[:40], "b": frame.iloc[:40]}, names=["id", "t"])
    long = panel.reset_index()
    imp = DiffusionImputer(window_length=8, **tiny).fit(long, id_col="id", time_col="t")
    gappy = long.copy()
    gappy.loc[5:8, "v0"] = np.nan
    ax = imp.plot(gappy, series="a")
    assert ax.get_title() == "a: v0" and len(_bands(ax)) == 3
