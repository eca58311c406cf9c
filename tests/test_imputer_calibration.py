"""Interval calibration of DiffusionImputer on windows held out from training."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from tsdiff import DiffusionImputer
from tsdiff.estimation.calibration import setting_key
from tsdiff.estimation.quantiles import sample_quantiles
from tsdiff.estimation.stretching import stretch_levels, widen
from tsdiff.sktime import DiffusionSktimeImputer

L = 8


def _imputer(tiny, **kwargs):
    params = dict(calibration_share=0.25, num_samples=16) | kwargs
    return DiffusionImputer(window_length=L, **tiny | params)


def _held_rows(imp, frame):
    """Grid rows of the held-out windows: where the calibration's values sit."""
    values = frame.to_numpy()
    firsts = []
    for window in imp.calibration_.contexts:  # (L, K), NaN where missing or hidden
        for first in range(0, len(values) - L + 1, L):
            block = values[first : first + L]
            given = ~np.isnan(window)
            if np.array_equal(block[given], window[given]):
                firsts.append(first)
                break
    return np.array(firsts)


def test_a_share_of_the_tiles_is_held_out_and_values_hidden_in_them(tiny, make_frame):
    frame = make_frame(n_steps=96, n_vars=2, missing=0.1)
    imp = _imputer(tiny).fit(frame)
    cal = imp.calibration_
    assert cal.contexts.shape == (3, L, 2)  # a quarter of 12 tiles
    firsts = _held_rows(imp, frame)
    assert len(firsts) == 3 and np.all(firsts % L == 0)
    hidden = ~np.isnan(cal.truth)
    assert hidden.any() and not (hidden & ~np.isnan(cal.contexts)).any()
    for window, truth, first in zip(cal.contexts, cal.truth, firsts, strict=True):
        block = frame.to_numpy()[first : first + L]
        both = np.where(np.isnan(window), truth, window)  # the window, reassembled
        np.testing.assert_array_equal(both, block)
    (factors,) = cal.factors.values()  # found at fit, for the fitted setting
    assert factors.shape == (len(stretch_levels(0.9)), 1, 2) and np.all(factors > 0)


def test_neither_network_nor_scaler_sees_the_held_out_values(tiny, make_frame):
    frame = make_frame(n_steps=96, n_vars=2, missing=0.0)
    a = _imputer(tiny).fit(frame)
    changed = frame.copy()
    for first in _held_rows(a, frame):
        changed.iloc[first : first + L] *= 50.0
    b = _imputer(tiny).fit(changed)
    np.testing.assert_array_equal(a.scaler_.center, b.scaler_.center)
    np.testing.assert_array_equal(a.scaler_.scale, b.scaler_.scale)
    for (name, wa), wb in zip(
        a.network_.state_dict().items(), b.network_.state_dict().values(), strict=True
    ):
        assert torch.equal(wa, wb), name
    assert not np.allclose(a.calibration_.contexts, b.calibration_.contexts, 1e-3)


def test_intervals_are_stretched_and_observed_values_and_medians_kept(tiny, make_frame):
    frame = make_frame(n_steps=96, n_vars=2, missing=0.2)
    imp = _imputer(tiny).fit(frame)
    key = setting_key(imp, imp.num_samples)
    n_levels = len(stretch_levels(0.9))  # narrower levels stretched less, so the
    factors = np.linspace(0.5, 1.0, n_levels)[:, None, None] * np.array([2.0, 3.0])
    imp.calibration_.factors[key] = factors  # 90 % interval is stretched exactly
    calibrated = imp.sample(frame)  # (S, T, K)
    imp.calibration_.factors[key] = np.ones_like(factors)
    raw = imp.sample(frame)
    observed = frame.notna().to_numpy()
    np.testing.assert_array_equal(calibrated[:, observed], raw[:, observed])
    mid = sample_quantiles(raw, (0.5,))[0]
    np.testing.assert_allclose(sample_quantiles(calibrated, (0.5,))[0], mid)
    low, high = sample_quantiles(raw, (0.05, 0.95))
    low2, high2 = sample_quantiles(calibrated, (0.05, 0.95))
    gaps = ~observed
    for k in range(2):  # the 90 % interval: the variable's coverage factor
        np.testing.assert_allclose(
            (high2 - mid)[gaps[:, k], k],
            factors[-1, 0, k] * (high - mid)[gaps[:, k], k],
            rtol=1e-9, atol=1e-12,
        )  # fmt: skip
        np.testing.assert_allclose(
            (mid - low2)[gaps[:, k], k],
            factors[-1, 0, k] * (mid - low)[gaps[:, k], k],
            rtol=1e-9, atol=1e-12,
        )  # fmt: skip


def test_the_factors_cover_the_hidden_values_at_the_set_rate(tiny, make_frame):
    frame = make_frame(n_steps=400, n_vars=2, missing=0.05)
    imp = _imputer(tiny, n_epochs=2).fit(frame)
    cal = imp.calibration_
    factors = imp._interval_factors(imp.num_samples)  # (G, 1, K), found at fit
    given = ~np.isnan(cal.contexts)  # (N, L, K)
    scaled = np.where(given, cal.scaler.transform(cal.contexts), 0.0)
    samples = cal.scaler.inverse_transform(
        imp._sample_windows(scaled, given, imp.num_samples, imp.predict_seed_)
    )  # (S, N, L, K): the draw the factors were found on
    stretched = widen(samples, factors, "linear", stretch_levels(0.9))
    low, high = sample_quantiles(stretched, (0.05, 0.95))
    inside = (cal.truth >= low) & (cal.truth <= high)  # (N, L, K)
    hidden = ~np.isnan(cal.truth)
    for k in range(2):  # the conformal rate over the variable's hidden cells
        n = hidden[..., k].sum()
        assert n >= 20
        rate = inside[..., k][hidden[..., k]].mean()
        np.testing.assert_allclose(rate, np.ceil((n + 1) * 0.9) / n)


def test_calibration_survives_save_load_and_pickle(tiny, make_frame, tmp_path):
    frame = make_frame(n_steps=96, n_vars=2, missing=0.2)
    imp = _imputer(tiny).fit(frame)
    expected = imp.predict_interval(frame, coverage=0.9)
    path = tmp_path / "imp.pt"
    imp.save(path)
    for other in (DiffusionImputer.load(path), pickle.loads(pickle.dumps(imp))):
        assert other.calibration_.factors.keys() == imp.calibration_.factors.keys()
        pd.testing.assert_frame_equal(other.predict_interval(frame, 0.9), expected)


def test_a_panel_holds_out_windows_of_its_series(tiny, make_frame):
    parts = [make_frame(n_steps=48, n_vars=2, seed=s) for s in range(4)]
    panel = pd.concat(parts, keys=["a", "b", "c", "d"], names=["id", "time"])
    imp = _imputer(tiny).fit(panel)  # 4 series x 6 tiles: 6 held out
    assert imp.calibration_.contexts.shape == (6, L, 2)
    assert imp.calibration_.scaler.center.shape == (6, 2)
    q = imp.predict_interval(panel, coverage=0.9)
    assert q.shape[0] == len(panel) and np.isfinite(q.to_numpy()).all()


def test_without_a_share_nothing_is_held_out(tiny, make_frame):
    frame = make_frame(n_steps=96, n_vars=2)
    imp = DiffusionImputer(window_length=L, **tiny).fit(frame)
    assert imp.calibration_ is None


@pytest.mark.parametrize("share", [0.1, 0.5])
def test_the_sktime_imputer_passes_the_share_through(tiny, make_frame, share):
    frame = make_frame(n_steps=96, n_vars=2)
    known = DiffusionSktimeImputer().get_params()
    settings = {k: v for k, v in tiny.items() if k in known}
    t = DiffusionSktimeImputer(window_length=L, calibration_share=share, **settings)
    t.fit(frame)
    assert t.imputer_.calibration_share == share
    assert len(t.imputer_.calibration_.contexts) == round(share * 12)


def test_held_out_values_are_hidden_in_the_shape_of_real_gaps(tiny, make_frame):
    frame = make_frame(n_steps=400, n_vars=2, missing=0.0)
    gaps = np.ones(frame.shape, dtype=bool)
    gaps[:, 0] = False  # the gaps to fill: variable 0, always
    imp = _imputer(tiny, target_strategy="mix").fit(frame, mask_patterns=gaps)
    hidden = ~np.isnan(imp.calibration_.truth)  # (N, L, K)
    assert hidden[..., 0].all() and not hidden[..., 1].any()


def test_data_without_gaps_to_copy_fall_back_on_the_training_masks(tiny, make_frame):
    frame = make_frame(n_steps=96, n_vars=2, missing=0.0)  # no gap anywhere
    hidden = ~np.isnan(_imputer(tiny).fit(frame).calibration_.truth)
    assert 0 < hidden.sum() < hidden.size
