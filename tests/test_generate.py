"""Synthetic series: ``DiffusionImputer.generate`` and its window-by-window draws."""

import numpy as np
import pandas as pd
import pytest

from tsdiff import DiffusionImputer
from tsdiff.estimation.generation import generate_scaled


@pytest.fixture(scope="module")
def hourly():
    """Hourly series of two variables around 100 and -20, with a daily cycle."""
    rng = np.random.default_rng(0)
    t = np.arange(240)
    cycle = np.sin(2 * np.pi * t / 24)
    values = np.stack([100 + 5 * cycle, -20 + cycle], axis=1)
    values = values + rng.normal(0.0, 0.1, values.shape)
    index = pd.date_range("2024-01-01", periods=len(t), freq="h")
    return pd.DataFrame(values, index=index, columns=["a", "b"])


@pytest.fixture(scope="module")
def imputer(tiny_shared, hourly):
    return DiffusionImputer(
        window_length=12, unconditional_share=0.2, **tiny_shared
    ).fit(hourly)


def test_generate_draws_a_panel_in_the_units_of_the_data(imputer, hourly):
    fake = imputer.generate(n_series=3, length=30)
    assert list(fake.columns) == ["a", "b"]
    assert fake.index.names == ["series", "time"]
    assert fake.index.equals(pd.MultiIndex.from_product([range(3), range(30)]))
    assert np.isfinite(fake.to_numpy()).all()
    # Drawn in the model's scale, returned in the data's: each variable near its
    # level (a mix-up of scales would put both near 0 or near one level).
    means = fake.mean()
    assert abs(means["a"] - 100) < 30 and abs(means["b"] + 20) < 10
    # The series are separate draws, not copies.
    assert not np.allclose(fake.loc[0].to_numpy(), fake.loc[1].to_numpy())
    one = imputer.generate()  # one series of one window
    assert one.shape == (12, 2)


def test_generate_repeats_with_a_seed_and_dates_its_steps(imputer):
    a, b = (imputer.generate(2, 20, random_state=5) for _ in range(2))
    pd.testing.assert_frame_equal(a, b)
    assert not imputer.generate(2, 20, random_state=6).equals(a)
    dated = imputer.generate(2, 20, start="2030-06-01", random_state=5)
    np.testing.assert_array_equal(dated.to_numpy(), a.to_numpy())
    times = dated.loc[1].index
    assert times[0] == pd.Timestamp("2030-06-01") and times.freq == "h"
    assert len(times) == 20


def test_each_window_is_given_the_overlap_the_last_one_drew(imputer, monkeypatch):
    calls = []
    real = imputer._sample_windows

    def spy(windows, cond, num_samples, seed, **kwargs):
        drawn = real(windows, cond, num_samples, seed, **kwargs)
        calls.append((windows.copy(), cond.copy(), drawn[0].copy()))
        return drawn

    monkeypatch.setattr(imputer, "_sample_windows", spy)
    fake = imputer.generate(n_series=2, length=30, random_state=0)
    # 12 steps, then 6 more per window: 12 + 3 * 6 = 30.
    assert len(calls) == 4
    assert not calls[0][1].any()  # the first window is given nothing
    for (_, _, before), (windows, cond, _) in zip(calls, calls[1:], strict=False):
        assert cond[:, :6].all() and not cond[:, 6:].any()
        np.testing.assert_array_equal(windows[:, :6], before[:, 6:])
    # The series is the first window's draw, then each later one's new steps.
    scaled = np.concatenate(
        [calls[0][2]] + [drawn[:, 6:] for _, _, drawn in calls[1:]], axis=1
    )  # (2, 30, 2)
    expected = imputer.scaler_.inverse_transform(scaled.reshape(-1, 2))
    np.testing.assert_allclose(fake.to_numpy(), expected)


def test_generate_scaled_cuts_the_last_window_to_the_length():
    seen = []

    def fill(windows, cond, num_samples, seed):
        seen.append(seed)
        return np.where(cond, windows, len(seen))[None]  # (1, N, L, K)

    out = generate_scaled(fill, 2, 7, 4, 3, seed=0)
    assert out.shape == (2, 7, 3)  # 4 + 2 windows of 2 new steps, cut to 7
    np.testing.assert_array_equal(out[0, :, 0], [1, 1, 1, 1, 2, 2, 3])
    assert len(set(seen)) == 3  # every call has its own seed


def test_generate_on_a_long_table_answers_with_one(tiny_shared, hourly):
    table = hourly.iloc[:96].rename_axis("ds").reset_index().assign(shop="x")
    imputer = DiffusionImputer(window_length=12, **tiny_shared)
    imputer.fit(table, id_col="shop", time_col="ds")
    fake = imputer.generate(n_series=2, length=15, start="2025-01-01")
    assert list(fake.columns) == ["shop", "ds", "a", "b"]
    assert fake["shop"].tolist() == [0] * 15 + [1] * 15
    assert fake["ds"].iloc[14] == pd.Timestamp("2025-01-01 14:00")


def test_a_latent_imputer_generates_too(tiny_shared, hourly):
    imputer = DiffusionImputer(
        window_length=12, patch_length=4, latent_dim=4, **tiny_shared
    ).fit(hourly.iloc[:120])
    fake = imputer.generate(n_series=2, length=20)
    assert fake.shape == (40, 2) and np.isfinite(fake.to_numpy()).all()


def test_generate_checks_its_arguments(imputer, tiny_shared):
    for kwargs, kind, text in (
        ({"n_series": 0}, ValueError, "n_series must be a positive int; got 0"),
        ({"length": -3}, ValueError, "length must be a positive int; got -3"),
        ({"length": 2.5}, TypeError, "length must be a positive int; got 2.5"),
        ({"n_series": True}, TypeError, "n_series must be a positive int"),
    ):
        with pytest.raises(kind, match=text):
            imputer.generate(**kwargs)
    with pytest.raises(TypeError, match="start must be a date"):
        imputer.generate(start=5)
    with pytest.raises(ValueError, match="start must be a date; got 'soon'"):
        imputer.generate(start="soon")
    flat = np.sin(np.arange(60.0))[:, None] * [1.0, 2.0]  # no time index
    plain = DiffusionImputer(window_length=12, **tiny_shared).fit(flat)
    numbered = plain.generate(length=5, start=100)
    assert numbered.index.get_level_values("time").tolist() == [100, 101, 102, 103, 104]
    with pytest.raises(TypeError, match="start must be an integer"):
        plain.generate(start="2025-01-01")
    named = pd.DataFrame(flat, index=[f"r{i}" for i in range(60)])  # no time
    timeless = DiffusionImputer(window_length=12, **tiny_shared).fit(named)
    with pytest.raises(ValueError, match="start needs the frequency"):
        timeless.generate(start=0)
    with pytest.raises(Exception, match="not fitted"):
        DiffusionImputer().generate()
