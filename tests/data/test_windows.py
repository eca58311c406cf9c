"""Tests for tsdiff.data.windows."""

import numpy as np
import pytest

from tsdiff.data import (
    pad_left,
    sliding_windows,
    stitch_owner,
    stitch_windows,
    window_starts,
)

CASES = [
    (10, 4, 3),
    (11, 4, 3),
    (12, 4, 4),
    (13, 5, 1),
    (7, 7, 3),
    (50, 8, 5),
    (9, 1, 1),
]


def test_window_starts_examples():
    np.testing.assert_array_equal(window_starts(10, 4, 3), [0, 3, 6])
    np.testing.assert_array_equal(window_starts(11, 4, 3), [0, 3, 6, 7])
    np.testing.assert_array_equal(window_starts(12, 4, 4), [0, 4, 8])
    np.testing.assert_array_equal(window_starts(7, 7, 3), [0])
    assert window_starts(10, 4, 3).dtype == np.int64


@pytest.mark.parametrize(("n_steps", "window_length", "stride"), CASES)
def test_window_starts_cover_every_step(n_steps, window_length, stride):
    starts = window_starts(n_steps, window_length, stride)
    assert starts[0] == 0
    assert starts[-1] + window_length == n_steps
    assert np.all(np.diff(starts) > 0)
    # Stride semantics: all gaps equal the stride except possibly the last one.
    assert np.all(np.diff(starts)[:-1] == stride)
    covered = np.zeros(n_steps, dtype=int)
    for start in starts:
        covered[start : start + window_length] += 1
    assert np.all(covered >= 1)


def test_window_starts_rejects_bad_arguments():
    with pytest.raises(ValueError, match="window_length"):
        window_starts(3, 4, 1)
    with pytest.raises(ValueError, match="stride"):
        window_starts(10, 4, 5)
    with pytest.raises(ValueError, match="stride"):
        window_starts(10, 4, 0)
    with pytest.raises(TypeError, match="window_length"):
        window_starts(10, 4.0, 1)


def test_sliding_windows_content_float_and_bool():
    values = np.arange(20.0).reshape(10, 2)  # (T, K)
    mask = values % 3 != 0
    starts = np.array([0, 3, 6])
    windows = sliding_windows(values, starts, 4)
    assert windows.shape == (3, 4, 2) and windows.dtype == values.dtype
    for i, start in enumerate(starts):
        np.testing.assert_array_equal(windows[i], values[start : start + 4])
    mask_windows = sliding_windows(mask, starts, 4)
    assert mask_windows.dtype == np.bool_
    np.testing.assert_array_equal(mask_windows[2], mask[6:10])
    windows[0, 0, 0] = -1.0  # a copy: the series is untouched
    assert values[0, 0] == 0.0


def test_sliding_windows_rejects_out_of_range_starts():
    with pytest.raises(ValueError, match="within"):
        sliding_windows(np.zeros((10, 2)), np.array([0, 7]), 4)
    with pytest.raises(ValueError, match="integer"):
        sliding_windows(np.zeros((10, 2)), np.array([0.0, 1.0]), 4)


def test_pad_left():
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [True, True]])
    padded, padded_mask, n_pad = pad_left(values, mask, 5)
    assert n_pad == 3 and padded.shape == (5, 2) and padded_mask.shape == (5, 2)
    np.testing.assert_array_equal(padded[:3], 0.0)
    assert not padded_mask[:3].any() and padded_mask.dtype == np.bool_
    np.testing.assert_array_equal(padded[n_pad:], values)
    np.testing.assert_array_equal(padded_mask[n_pad:], mask)
    same, same_mask, no_pad = pad_left(values, mask, 2)
    assert no_pad == 0
    np.testing.assert_array_equal(same, values)
    np.testing.assert_array_equal(same_mask, mask)


def _brute_force_owner(starts, window_length, n_steps):
    centres = starts + (window_length - 1) / 2
    # argmin returns the first minimum, i.e. ties go to the earlier window.
    return np.array([np.argmin(np.abs(t - centres)) for t in range(n_steps)])


@pytest.mark.parametrize(("n_steps", "window_length", "stride"), CASES)
def test_stitch_owner_is_centre_most_containing_window(n_steps, window_length, stride):
    starts = window_starts(n_steps, window_length, stride)
    owner = stitch_owner(starts, window_length, n_steps)
    assert owner.shape == (n_steps,) and owner.dtype == np.int64
    np.testing.assert_array_equal(
        owner, _brute_force_owner(starts, window_length, n_steps)
    )
    offset = np.arange(n_steps) - starts[owner]
    assert np.all((offset >= 0) & (offset < window_length))


def test_stitch_owner_hand_example():
    # Windows [0, 4) and [2, 6): centres 1.5 and 3.5; steps 2 and 3 lie in both and
    # go to the nearer centre.
    np.testing.assert_array_equal(
        stitch_owner(np.array([0, 2]), 4, 6), [0, 0, 0, 1, 1, 1]
    )
    # Windows [0, 3) and [1, 4): centres 1 and 2; nothing ties at integer steps.
    np.testing.assert_array_equal(stitch_owner(np.array([0, 1]), 3, 4), [0, 0, 1, 1])
    # Windows [0, 2) and [1, 3) centres 0.5 and 1.5: step 1 ties -> earlier window.
    np.testing.assert_array_equal(stitch_owner(np.array([0, 1]), 2, 3), [0, 0, 1])


def test_stitch_owner_rejects_gaps_and_unsorted_starts():
    with pytest.raises(ValueError, match="not covered"):
        stitch_owner(np.array([0, 6]), 3, 9)
    with pytest.raises(ValueError, match="increasing"):
        stitch_owner(np.array([3, 0]), 3, 6)


@pytest.mark.parametrize(("n_steps", "window_length", "stride"), CASES)
def test_stitch_windows_reproduces_series(n_steps, window_length, stride):
    series = np.arange(n_steps * 2, dtype=float).reshape(n_steps, 2)  # (T, K)
    starts = window_starts(n_steps, window_length, stride)
    windows = sliding_windows(series, starts, window_length)  # (N, L, K)
    np.testing.assert_array_equal(stitch_windows(windows, starts, n_steps), series)
    samples = np.stack([windows, -windows, 2 * windows])  # (S, N, L, K)
    stitched = stitch_windows(samples, starts, n_steps)
    assert stitched.shape == (3, n_steps, 2)
    np.testing.assert_array_equal(stitched[1], -series)


def test_stitch_windows_takes_each_step_from_its_owner():
    starts = window_starts(10, 4, 2)
    # Fill window i with the value i so the stitched series reads out the owner.
    windows = np.broadcast_to(
        np.arange(len(starts))[:, None, None], (len(starts), 4, 1)
    )
    stitched = stitch_windows(windows, starts, 10)
    np.testing.assert_array_equal(stitched[:, 0], stitch_owner(starts, 4, 10))


def test_stitch_windows_checks_window_count():
    with pytest.raises(ValueError, match="starts must have shape"):
        stitch_windows(np.zeros((3, 4, 1)), np.array([0, 2]), 6)
