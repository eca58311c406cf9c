"""DiffusionImputer: containers, index types, observed cells, long and short series,
scikit-learn composition, bad input after fit, and imputation quality."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from tsdiff import DiffusionImputer


@pytest.fixture
def imputer(tiny, frame):
    return DiffusionImputer(window_length=16, **tiny).fit(frame)


def test_dataframe_round_trip_keeps_observed_cells_bit_identical(imputer, frame):
    out = imputer.transform(frame)
    assert isinstance(out, pd.DataFrame)
    pd.testing.assert_index_equal(out.index, frame.index)
    pd.testing.assert_index_equal(out.columns, frame.columns)
    observed = frame.notna().to_numpy()
    np.testing.assert_array_equal(out.to_numpy()[observed], frame.to_numpy()[observed])
    assert not out.isna().any().any()


@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "dpmpp_2m"])
def test_every_sampler_can_be_chosen_after_fit(imputer, frame, sampler, check_samples):
    imputer.set_params(sampler=sampler, sampling_steps=3)
    check_samples(imputer.sample(frame, num_samples=4), frame, 4)  # (S, T, K)


@pytest.mark.parametrize("center", [True, False])
def test_center_windows_decides_whether_samples_follow_a_level_shift(
    tiny, frame, center
):
    # Centred windows see only values relative to their own level, so moving the
    # given values by c moves every draw by c; uncentred windows see the level.
    imputer = DiffusionImputer(
        window_length=16, center_windows=center, calibration_share=None, **tiny
    )  # the network's frame alone: calibration factors come from other draws
    imputer.fit(frame)
    shift = 3.0 * frame.std().to_numpy()
    base = imputer.sample(frame, random_state=1)  # (S, T, K)
    moved = imputer.sample(frame + shift, random_state=1)
    gaps = frame.isna().to_numpy()
    error = np.abs(moved - shift - base)[:, gaps].max()
    if center:
        assert error < 1e-4
    else:
        assert error > 1e-2


@pytest.mark.parametrize("scale", [True, False])
def test_scale_windows_decides_whether_samples_follow_a_change_of_spread(
    tiny, frame, scale
):
    # Centred and scaled windows see only values relative to their own level and
    # spread, so stretching the given values by a and moving them by b stretches
    # and moves every draw alike; windows that are only centred see the spread.
    imputer = DiffusionImputer(
        window_length=16,
        center_windows=True,
        scale_windows=scale,
        calibration_share=None,  # the network's frame alone
        **tiny,
    )
    imputer.fit(frame)
    stretch, shift = 3.0, 2.0 * frame.std().to_numpy()
    base = imputer.sample(frame, random_state=1)  # (S, T, K)
    moved = imputer.sample(frame * stretch + shift, random_state=1)
    gaps = frame.isna().to_numpy()
    error = np.abs(moved - (stretch * base + shift))[:, gaps].max()
    if scale:
        assert error < 1e-3
    else:
        assert error > 1e-2


@pytest.mark.parametrize("change", [{"scale_windows": True}, {"center_windows": True}])
def test_the_window_frame_is_fixed_at_fit(tiny, frame, change, tmp_path):
    # The network models windows in the frame it was trained in: sampling in
    # another one would be silently wrong, so it raises until the setting is back.
    imputer = DiffusionImputer(window_length=16, **tiny).fit(frame)
    expected = imputer.sample(frame, random_state=1)
    imputer.set_params(**change)
    with pytest.raises(ValueError, match="fitted with center_windows=False and "):
        imputer.transform(frame)
    imputer.set_params(center_windows=False, scale_windows=False)
    np.testing.assert_array_equal(imputer.sample(frame, random_state=1), expected)
    imputer.save(tmp_path / "m")
    assert DiffusionImputer.load(tmp_path / "m").window_frame_ == (False, False)


def test_never_observed_entries_enter_training_as_zeros_in_the_frame(
    tiny, frame, monkeypatch
):
    # Moved by the frame, the zero fill of never-observed entries would become
    # -offset / scale: made-up inputs of up to ten times the offset.
    import tsdiff.engine.training as training

    observed, framed = [], []
    batch_loss, eps_loss = training._batch_loss, training.eps_loss

    def record_batch(network, schedule, x0, observed_mask, *args, **kwargs):
        observed.append(observed_mask.clone())
        return batch_loss(network, schedule, x0, observed_mask, *args, **kwargs)

    def record_loss(denoise, schedule, x0, *args, **kwargs):
        framed.append(x0.detach().clone())
        return eps_loss(denoise, schedule, x0, *args, **kwargs)

    monkeypatch.setattr(training, "_batch_loss", record_batch)
    monkeypatch.setattr(training, "eps_loss", record_loss)
    shifted = frame + 5.0 * frame.std()  # offsets far from 0
    DiffusionImputer(
        window_length=16, center_windows=True, scale_windows=True, **tiny
    ).fit(shifted)
    assert len(observed) == len(framed) > 0
    missing = torch.cat([~m for m in observed])  # (B..., K, L)
    values = torch.cat(framed)
    assert missing.any() and (~missing).any()
    assert (values[missing] == 0).all()
    assert values[~missing].abs().max() > 0.5  # observed entries are framed values


def test_ndarray_in_ndarray_out_and_set_output(tiny, frame):
    X = frame.to_numpy()
    imp = DiffusionImputer(window_length=16, **tiny).fit(X)
    out = imp.transform(X)
    assert isinstance(out, np.ndarray) and out.shape == X.shape
    assert not hasattr(imp, "feature_names_in_")
    imp.set_output(transform="pandas")
    framed = imp.transform(X)
    assert isinstance(framed, pd.DataFrame)
    np.testing.assert_array_equal(framed.to_numpy(), out)


def test_float32_is_preserved(tiny, frame):
    X = frame.to_numpy(dtype=np.float32)
    out = DiffusionImputer(window_length=16, **tiny).fit(X).transform(X)
    assert out.dtype == np.float32
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(out[observed], X[observed])


def test_series_in_series_out(tiny, frame):
    s = frame["v0"].rename("load")
    out = DiffusionImputer(window_length=16, **tiny).fit(s).transform(s)
    assert isinstance(out, pd.Series) and out.name == "load"
    pd.testing.assert_index_equal(out.index, s.index)
    q = DiffusionImputer(window_length=16, **tiny).fit(s).predict_quantiles(s)
    assert list(q.columns.get_level_values("variable").unique()) == ["load"]


@pytest.mark.parametrize(
    "index",
    [
        pd.period_range("2020-01", periods=64, freq="M"),
        pd.RangeIndex(100, 164),
        pd.Index(np.arange(0, 128, 2)),
    ],
    ids=["period", "range", "integer"],
)
def test_index_types(tiny, frame, index):
    data = frame.set_axis(index)
    out = DiffusionImputer(window_length=16, **tiny).fit(data).transform(data)
    pd.testing.assert_index_equal(out.index, data.index)
    assert not out.isna().any().any()


def test_missing_timestamps_are_gaps_not_errors(tiny, frame):
    gappy = frame.drop(frame.index[[5, 6, 30]])
    imp = DiffusionImputer(window_length=16, **tiny).fit(gappy)
    out = imp.transform(gappy)
    pd.testing.assert_index_equal(out.index, gappy.index)
    q = imp.predict_quantiles(gappy, alpha=(0.5,))
    assert len(q) == len(gappy)


def test_observed_cells_have_degenerate_quantiles(imputer, frame):
    q = imputer.predict_quantiles(frame, alpha=(0.05, 0.5, 0.95))
    for v in frame.columns:
        seen = frame[v].notna()
        for a in (0.05, 0.5, 0.95):
            np.testing.assert_array_equal(q[(v, a)][seen], frame[v][seen])
        gaps = ~seen
        assert (q[(v, 0.95)][gaps] > q[(v, 0.05)][gaps]).all()


def test_long_series_is_stitched_and_short_series_padded(imputer, make_frame):
    long = make_frame(n_steps=150, seed=1)
    out = imputer.transform(long)
    assert out.shape == long.shape and not out.isna().any().any()
    short = long.iloc[:5]
    out_short = imputer.transform(short)
    assert out_short.shape == (5, 3) and not out_short.isna().any().any()


def test_all_missing_column_at_transform_is_imputed(imputer, frame):
    blank = frame.copy()
    blank["v1"] = np.nan
    out = imputer.transform(blank)
    assert np.isfinite(out["v1"]).all()


def test_complete_windows_are_not_sampled(imputer, frame, monkeypatch):
    calls = []
    original = type(imputer)._sample_windows

    def spy(self, windows, cond, num_samples, seed, **kwargs):
        calls.append(len(windows))
        return original(self, windows, cond, num_samples, seed, **kwargs)

    monkeypatch.setattr(type(imputer), "_sample_windows", spy)
    complete = frame.fillna(0.0)
    np.testing.assert_array_equal(imputer.transform(complete), complete)
    assert calls == []
    one_gap = complete.copy()
    one_gap.iloc[40, 0] = np.nan
    imputer.transform(one_gap)
    assert calls == [1]


def test_pipeline_composition(tiny, frame):
    y = np.arange(len(frame), dtype=float)
    pipe = make_pipeline(DiffusionImputer(window_length=16, **tiny), Ridge())
    pipe.fit(frame, y)
    assert pipe.predict(frame).shape == (len(frame),)
    assert pipe.get_params()["diffusionimputer__num_samples"] == tiny["num_samples"]


def test_bad_input_after_fit(imputer, frame):
    with pytest.raises(ValueError, match=r"missing \['v2'\]"):
        imputer.transform(frame.drop(columns="v2").assign(w=1.0))
    with pytest.raises(ValueError, match="X has 2 features, but DiffusionImp"):
        imputer.transform(frame.to_numpy()[:, :2])
    with pytest.raises(ValueError, match="another order"):
        imputer.transform(frame[["v2", "v1", "v0"]])
    with pytest.raises(ValueError, match="num_samples"):
        imputer.sample(frame, num_samples=0)
    with pytest.raises(ValueError, match="alpha"):
        imputer.predict_quantiles(frame, alpha=(0.0, 0.5))
    with pytest.raises(ValueError, match="coverage"):
        imputer.predict_interval(frame, coverage=1.2)
    with pytest.raises(ValueError, match="infinite"):
        imputer.transform(frame.replace(np.nan, np.inf))


def test_median_beats_mean_imputation_and_intervals_are_calibrated():
    """Quality on a series with known structure: two coupled noisy seasonal series."""
    rng = np.random.default_rng(0)
    t = np.arange(480)
    base = np.sin(2 * np.pi * t / 24)
    truth = np.stack([base, 0.8 * base + 0.3 * np.cos(2 * np.pi * t / 12)], axis=1)
    truth += 0.1 * rng.standard_normal(truth.shape)
    held_out = rng.random(truth.shape) < 0.2
    X = np.where(held_out, np.nan, truth)
    imp = DiffusionImputer(
        window_length=24,
        n_layers=2,
        n_channels=16,
        n_heads=2,
        time_embedding_dim=16,
        feature_embedding_dim=4,
        diffusion_embedding_dim=16,
        n_epochs=30,
        steps_per_epoch=None,
        batch_size=32,
        num_samples=32,
        device="cpu",
        random_state=0,
    ).fit(X)
    filled = imp.transform(X)
    mae = np.abs(filled - truth)[held_out].mean()
    mean_fill = np.nanmean(X, axis=0)
    mae_mean = np.abs(mean_fill - truth)[held_out].mean()
    assert mae < 0.75 * mae_mean, (mae, mae_mean)
    iv = imp.predict_interval(X, coverage=0.8).to_numpy().reshape(len(X), 2, 2)
    inside = (iv[..., 0] <= truth) & (truth <= iv[..., 1])
    coverage = inside[held_out].mean()
    assert 0.6 <= coverage <= 0.95, coverage


def test_a_subclass_keeps_the_transform_its_parent_overrode():
    class Parent(DiffusionImputer):
        def transform(self, X):
            return "parent's"

    class Child(Parent):
        pass

    assert Child().transform(None) == "parent's"
    assert DiffusionImputer.transform.__wrapped__ is not Parent.transform.__wrapped__
