"""Property-based tests over random shapes, missingness, index types and dtypes:
every call either succeeds with a correctly shaped, finite, monotone output that
keeps observed values exactly, or raises a ValueError or TypeError from tsdiff.

The examples are derandomised, so every run checks the same inputs.
"""

import functools
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsdiff
from tsdiff import DiffusionForecaster, DiffusionImputer

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
given, settings = hypothesis.given, hypothesis.settings

TINY = dict(
    n_layers=1,
    n_channels=8,
    n_heads=1,
    time_embedding_dim=8,
    feature_embedding_dim=4,
    diffusion_embedding_dim=8,
    n_diffusion_steps=4,
    n_epochs=1,
    steps_per_epoch=2,
    batch_size=32,
    num_samples=4,
    device="cpu",
    random_state=0,
)
TSDIFF = Path(tsdiff.__file__).parent
RUNS = settings(max_examples=30, deadline=None, derandomize=True, print_blob=True)


@functools.cache
def _fitted(kind: str, n_vars: int):
    """One tiny model per estimator and variable count (fitted once)."""
    rng = np.random.default_rng(n_vars)
    frame = pd.DataFrame(
        rng.normal(size=(48, n_vars)).cumsum(0),
        index=pd.date_range("2024-01-01", periods=48, freq="h"),
        columns=[f"v{i}" for i in range(n_vars)],
    )
    if kind == "imputer":
        return DiffusionImputer(window_length=8, **TINY).fit(frame)
    return DiffusionForecaster(context_length=6, prediction_length=3, **TINY).fit(frame)


@st.composite
def frames(draw, min_steps=1, max_steps=30):
    """A frame of random length, variables, missingness, index type and dtype."""
    n_vars = draw(st.integers(1, 3))
    n_steps = draw(st.integers(min_steps, max_steps))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([1e-6, 1.0, 1e6]))
    values = rng.normal(size=(n_steps, n_vars)) * scale
    missing = draw(st.sampled_from([0.0, 0.2, 0.6, 0.95]))
    holes = rng.random(values.shape) < missing
    dtype = draw(st.sampled_from(["float64", "float32", "int64"]))
    if dtype == "int64":
        values = np.round(values).astype(np.int64)
        holes[:] = False  # integers cannot hold NaN
    else:
        values = values.astype(dtype)
        values[holes] = np.nan
    index_kind = draw(
        st.sampled_from(["datetime", "period", "range", "int_step", "tz"])
    )
    index = {
        "datetime": pd.date_range("2024-01-01", periods=n_steps, freq="h"),
        "period": pd.period_range("2024-01-01", periods=n_steps, freq="D"),
        "range": pd.RangeIndex(n_steps),
        "int_step": pd.Index(np.arange(n_steps) * 5 + 100),
        "tz": pd.date_range(
            "2024-03-30", periods=n_steps, freq="h", tz="Europe/Berlin"
        ),
    }[index_kind]
    columns = [f"v{i}" for i in range(n_vars)]
    return pd.DataFrame(values, index=index, columns=columns)


def _check_quantiles(q: pd.DataFrame, n_rows: int, n_vars: int, levels) -> None:
    values = q.to_numpy().reshape(n_rows, n_vars, len(levels))
    assert np.isfinite(values).all()
    assert (np.diff(values, axis=-1) >= 0).all()  # never decreasing with the level


def _refused_by_tsdiff(error: BaseException) -> bool:
    """A ValueError or TypeError raised by tsdiff's own code (or by a check it
    calls), not one that escaped from elsewhere."""
    frames = traceback.extract_tb(error.__traceback__)
    return any(f"{TSDIFF}" in frame.filename for frame in frames[1:])


def _outcome(call, outcomes):
    """Run ``call``; record "ok" or "refused" (a tsdiff ValueError/TypeError), and
    let any other exception fail the test. Returns the result or None."""
    try:
        result = call()
    except (ValueError, TypeError) as error:
        assert _refused_by_tsdiff(error), error
        outcomes.append("refused")
        return None
    outcomes.append("ok")
    return result


def test_imputer_transform_and_quantiles():
    outcomes = []

    @RUNS
    @given(
        frames(), st.lists(st.floats(0.01, 0.99), min_size=1, max_size=3, unique=True)
    )
    def check(frame, alpha):
        imputer = _fitted("imputer", frame.shape[1])
        original = frame.copy()
        both = _outcome(
            lambda: (
                imputer.transform(frame),
                imputer.predict_quantiles(frame, alpha=sorted(alpha)),
            ),
            outcomes,
        )
        pd.testing.assert_frame_equal(frame, original)  # the input is left alone
        if both is None:
            return
        filled, q = both
        assert filled.shape == frame.shape and filled.index.equals(frame.index)
        assert np.isfinite(filled.to_numpy(dtype=float)).all()
        observed = frame.notna().to_numpy()
        np.testing.assert_array_equal(
            filled.to_numpy(dtype=float)[observed],
            frame.to_numpy(dtype=float)[observed],
        )
        _check_quantiles(q, len(frame), frame.shape[1], alpha)

    check()
    assert outcomes.count("ok") >= 20, outcomes  # mostly valid inputs here


def test_forecaster_predict_from_new_histories():
    outcomes = []

    @RUNS
    @given(frames(), st.sampled_from([1, 2, 3, [1, 3]]))
    def check(frame, fh):
        forecaster = _fitted("forecaster", frame.shape[1])
        both = _outcome(
            lambda: (
                forecaster.predict(fh=fh, y=frame),
                forecaster.predict_quantiles(fh=fh, y=frame, alpha=[0.1, 0.5, 0.9]),
            ),
            outcomes,
        )
        if both is None:
            return
        median, q = both
        n_h = len(fh) if isinstance(fh, list) else fh
        assert median.shape == (n_h, frame.shape[1])
        assert np.isfinite(median.to_numpy()).all()
        _check_quantiles(q, n_h, frame.shape[1], [0.1, 0.5, 0.9])
        np.testing.assert_allclose(
            median.to_numpy(), q.xs(0.5, axis=1, level=1).to_numpy()
        )

    check()
    # Histories of another index type than the hourly training series are refused.
    assert outcomes.count("ok") >= 5 and outcomes.count("refused") >= 5, outcomes


def test_fitting_random_data_succeeds_or_says_why():
    outcomes = []

    @settings(max_examples=12, deadline=None, derandomize=True)
    @given(frames(min_steps=1, max_steps=20))
    def check(frame):
        imputer = _outcome(
            lambda: DiffusionImputer(window_length=4, **TINY).fit(frame), outcomes
        )
        if imputer is not None:
            filled = imputer.transform(frame)
            assert np.isfinite(filled.to_numpy(dtype=float)).all()

    check()
    assert outcomes.count("ok") >= 4, outcomes


def test_anything_else_is_refused_or_read_as_a_series():
    outcomes = []

    @settings(max_examples=20, deadline=None, derandomize=True)
    @given(
        st.one_of(
            st.none(),
            st.text(max_size=3),
            st.integers(),
            st.floats(allow_nan=True),
            st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5),
            st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        )
    )
    def check(junk):
        imputer = _fitted("imputer", 1)
        filled = _outcome(lambda: imputer.transform(junk), outcomes)
        if filled is None:
            return
        # Only a list of finite numbers is data (a series); NaN entries get filled.
        values = np.asarray(junk, dtype=float)
        assert isinstance(junk, list) and np.isfinite(values[~np.isnan(values)]).all()
        out = np.asarray(filled, dtype=float).ravel()
        assert out.shape == values.shape and np.isfinite(out).all()

    check()
    assert outcomes.count("refused") >= 10, outcomes
