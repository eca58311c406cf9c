"""Contract suite run over both estimators: scikit-learn conventions, output schema,
determinism and persistence (DESIGN.md section 3)."""

import inspect
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import tsdiff.engine
from tsdiff import DiffusionForecaster, DiffusionImputer

HORIZON = 4


class ImputerCase:
    cls = DiffusionImputer
    params = {"window_length": 16}

    def quantiles(self, est, data, alpha):
        return est.predict_quantiles(data, alpha=alpha)

    def interval(self, est, data, coverage):
        return est.predict_interval(data, coverage=coverage)

    def point(self, est, data):
        return est.transform(data)

    def sample(self, est, data, **kw):
        return est.sample(data, **kw)

    def expected_index(self, data):
        return data.index


class ForecasterCase:
    cls = DiffusionForecaster
    params = {"context_length": 12, "prediction_length": HORIZON}

    def quantiles(self, est, data, alpha):
        return est.predict_quantiles(fh=HORIZON, alpha=alpha)

    def interval(self, est, data, coverage):
        return est.predict_interval(fh=HORIZON, coverage=coverage)

    def point(self, est, data):
        return est.predict(fh=HORIZON)

    def sample(self, est, data, **kw):
        return est.sample(fh=HORIZON, **kw)

    def expected_index(self, data):
        return pd.date_range(data.index[-1], periods=HORIZON + 1, freq=data.index.freq)[
            1:
        ]


CASES = [ImputerCase(), ForecasterCase()]
IDS = ["imputer", "forecaster"]


@pytest.fixture(params=CASES, ids=IDS)
def case(request):
    return request.param


@pytest.fixture
def make(case, tiny):
    def build(**overrides):
        return case.cls(**{**case.params, **tiny, **overrides})

    return build


@pytest.fixture
def fitted(make, frame):
    return make().fit(frame)


def test_init_stores_params_only(case, make):
    est = make()
    signature = inspect.signature(case.cls.__init__).parameters
    assert set(est.get_params()) == set(signature) - {"self"}
    assert not [k for k in vars(est) if k.endswith("_")]
    for name, param in signature.items():
        if name != "self":
            assert not isinstance(param.default, list), name


def test_clone_get_set_params_round_trip(make):
    est = make(num_samples=3)
    twin = clone(est)
    assert twin is not est
    assert twin.get_params() == est.get_params()
    twin.set_params(num_samples=5, sampler="ddim")
    assert twin.get_params()["num_samples"] == 5
    assert twin.get_params()["sampler"] == "ddim"
    assert est.num_samples == 3


def test_clone_of_fitted_drops_fitted_state(fitted):
    assert not hasattr(clone(fitted), "network_")


@pytest.mark.parametrize("method", ["point", "quantiles", "interval", "sample"])
def test_not_fitted_error(case, make, frame, method):
    est = make()
    args = {"quantiles": (0.5,), "interval": (0.9,)}.get(method, ())
    with pytest.raises(NotFittedError):
        getattr(case, method)(est, frame, *args)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("n_layers", 0),
        ("n_channels", -8),
        ("num_samples", 0),
        ("n_epochs", 1.5),
        ("schedule", "wiggly"),
        ("sampler", "magic"),
        ("learning_rate", 0.0),
        ("device", "tpu"),
        ("quantile_levels", (0.5, 1.5)),
        ("quantile_levels", (0.2, 0.2)),
        ("target_strategy", "everything"),
        ("sampling_steps", 0),
        ("validation_fraction", 1.0),
        ("random_state", "seed"),
        ("random_state", -1),
    ],
)
def test_bad_parameter_raises_naming_it(make, frame, monkeypatch, param, value):
    monkeypatch.setattr(tsdiff.engine.DiffusionModel, "fit", _no_training)
    with pytest.raises(ValueError, match=f"'{param}'"):
        make(**{param: value}).fit(frame)


def test_estimator_specific_sizes_are_checked(case, make, frame, monkeypatch):
    monkeypatch.setattr(tsdiff.engine.DiffusionModel, "fit", _no_training)
    for param in case.params:
        with pytest.raises(ValueError, match=f"'{param}'"):
            make(**{param: 0}).fit(frame)


def test_inconsistent_parameters_raise_before_training(make, frame, monkeypatch):
    monkeypatch.setattr(tsdiff.engine.DiffusionModel, "fit", _no_training)
    with pytest.raises(ValueError, match="'n_heads'"):
        make(n_channels=8, n_heads=3).fit(frame)
    with pytest.raises(ValueError, match="'sampling_steps'"):
        make(n_diffusion_steps=5, sampling_steps=6).fit(frame)
    with pytest.raises(ValueError, match="'beta_start'"):
        make(beta_start=0.3, beta_end=0.2).fit(frame)


def _no_training(*args, **kwargs):
    raise AssertionError("training started before the input was validated")


def test_fit_returns_self_and_sets_fitted_attributes(make, frame):
    est = make()
    assert est.fit(frame) is est
    assert est.n_features_in_ == 3
    assert list(est.feature_names_in_) == ["v0", "v1", "v2"]
    assert est.device_.type == est.device.split(":")[0]
    assert len(est.history_) == est.n_epochs
    assert all(np.isfinite(h["train_loss"]) for h in est.history_)


def test_quantile_schema(case, fitted, frame):
    alpha = (0.9, 0.1, 0.5)
    q = case.quantiles(fitted, frame, alpha)
    assert isinstance(q.columns, pd.MultiIndex)
    assert list(q.columns.names) == ["variable", "quantile"]
    assert list(q.columns) == [(v, a) for v in ["v0", "v1", "v2"] for a in alpha]
    assert all(isinstance(a, float) for a in q.columns.get_level_values("quantile"))
    expected = case.expected_index(frame)
    assert type(q.index) is type(expected) and q.index.equals(expected)
    assert np.isfinite(q.to_numpy()).all()


def test_interval_schema_and_consistency(case, fitted, frame):
    iv = case.interval(fitted, frame, (0.5, 0.9))
    assert list(iv.columns.names) == ["variable", "coverage", "bound"]
    assert list(iv.columns[:4]) == [
        ("v0", 0.5, "lower"),
        ("v0", 0.5, "upper"),
        ("v0", 0.9, "lower"),
        ("v0", 0.9, "upper"),
    ]
    q = case.quantiles(fitted, frame, (0.05, 0.25, 0.75, 0.95))
    for v in ["v0", "v1", "v2"]:
        np.testing.assert_allclose(iv[(v, 0.9, "lower")], q[(v, 0.05)])
        np.testing.assert_allclose(iv[(v, 0.9, "upper")], q[(v, 0.95)])
        assert (iv[(v, 0.9, "lower")] <= iv[(v, 0.5, "lower")]).all()


def test_quantiles_never_decrease_with_level(case, fitted, frame):
    levels = tuple(np.round(np.arange(0.05, 1.0, 0.05), 2))
    q = case.quantiles(fitted, frame, levels).to_numpy()
    q = q.reshape(len(q), 3, len(levels))  # (T, K, Q)
    assert (np.diff(q, axis=-1) >= 0).all()
    assert (np.diff(q, axis=-1) > 0).any()


def test_point_is_the_median_of_the_same_samples(case, fitted, frame):
    point = pd.DataFrame(case.point(fitted, frame))
    median = case.quantiles(fitted, frame, (0.5,)).xs(0.5, level="quantile", axis=1)
    # An imputer's transform skips calibration, its quantiles stretch the samples
    # about their median: the two medians differ by rounding only.
    np.testing.assert_allclose(point.to_numpy(), median.to_numpy(), rtol=1e-12)


def test_repeated_calls_are_identical(case, fitted, frame):
    first = case.quantiles(fitted, frame, (0.1, 0.5, 0.9))
    second = case.quantiles(fitted, frame, (0.1, 0.5, 0.9))
    pd.testing.assert_frame_equal(first, second)


def test_same_random_state_gives_same_result(case, make, frame):
    a = case.quantiles(make(random_state=3).fit(frame), frame, (0.1, 0.9))
    b = case.quantiles(make(random_state=3).fit(frame), frame, (0.1, 0.9))
    c = case.quantiles(make(random_state=4).fit(frame), frame, (0.1, 0.9))
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.to_numpy(), c.to_numpy())


def test_sample_shape_and_fresh_draws(case, fitted, frame):
    s = case.sample(fitted, frame, num_samples=5)
    n_rows = len(case.expected_index(frame))
    assert s.shape == (5, n_rows, 3)
    again = case.sample(fitted, frame, num_samples=5)
    fresh = case.sample(fitted, frame, num_samples=5, random_state=11)
    np.testing.assert_array_equal(s, again)
    assert not np.allclose(s, fresh, equal_nan=True)


def test_pickle_round_trip_gives_identical_predictions(case, fitted, frame):
    before = case.quantiles(fitted, frame, (0.1, 0.5, 0.9))
    clone_ = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(
        before, case.quantiles(clone_, frame, (0.1, 0.5, 0.9))
    )


def test_save_load_round_trip_gives_identical_predictions(
    case, fitted, frame, tmp_path
):
    before = case.quantiles(fitted, frame, (0.1, 0.5, 0.9))
    fitted.save(tmp_path / "model")
    assert (tmp_path / "model" / "config.json").is_file()
    loaded = case.cls.load(tmp_path / "model", device=fitted.device)
    assert loaded.get_params() == fitted.get_params()
    pd.testing.assert_frame_equal(
        before, case.quantiles(loaded, frame, (0.1, 0.5, 0.9))
    )


def test_load_rejects_the_other_estimator(case, fitted, tmp_path):
    fitted.save(tmp_path / "model")
    other = DiffusionForecaster if case.cls is DiffusionImputer else DiffusionImputer
    with pytest.raises(ValueError, match=case.cls.__name__):
        other.load(tmp_path / "model")


def test_inputs_are_not_modified(case, make, frame):
    original = frame.copy(deep=True)
    est = make()
    params = est.get_params()
    est.fit(frame)
    case.point(est, frame)
    case.quantiles(est, frame, (0.1, 0.9))
    pd.testing.assert_frame_equal(frame, original)
    assert est.get_params() == params
