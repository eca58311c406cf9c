"""Tests for load_exchange_rate_nips and load_gluonts."""

import json
import tarfile

import numpy as np
import pandas as pd
import pytest

from tsdiff.datasets import (
    EXCHANGE_RATE_COLUMNS,
    GluonTSData,
    load_exchange_rate,
    load_exchange_rate_nips,
    load_gluonts,
)


@pytest.fixture(scope="module")
def nips(shared_data):
    return load_exchange_rate_nips(
        shared_data("exchange_rate/exchange_rate_nips.tar.gz")
    )


def _write_dataset(root, train, test, metadata=None, name="toy_nips"):
    """A GluonTS folder: lists of (start, target) for train and test."""
    folder = root / name
    for role, entries in (("train", train), ("test", test)):
        (folder / role).mkdir(parents=True)
        lines = [json.dumps({"start": s, "target": t}) for s, t in entries]
        (folder / role / "data.json").write_text("\n".join(lines) + "\n")
    (folder / "metadata").mkdir()
    meta = {"time_granularity": "D"} if metadata is None else metadata
    (folder / "metadata" / "metadata.json").write_text(json.dumps(meta))
    return folder


def _toy(n_series=2, n_train=5, step=2, n_windows=2):
    start = "2020-01-01 00:00:00"
    train = [(start, list(range(n_train))) for _ in range(n_series)]
    test = [
        (start, [*range(n_train + step * w - 1), "NaN"])
        for w in range(1, n_windows + 1)
        for _ in range(n_series)
    ]
    return train, test


def test_exchange_rate_nips_structure(nips):
    assert isinstance(nips, GluonTSData)
    assert nips.train.shape == (6071, 8)
    assert list(nips.train.columns) == list(EXCHANGE_RATE_COLUMNS)
    assert nips.freq == "B" and nips.train.index.freqstr == "B"
    assert nips.train.index.name == "date"
    assert nips.train.index[0] == pd.Timestamp("1990-01-01")
    assert nips.prediction_length == 30
    assert [len(frame) for frame in nips.test] == [6101, 6131, 6161, 6191, 6221]
    for frame in nips.test:
        assert frame.index.freqstr == "B"
        assert list(frame.columns) == list(EXCHANGE_RATE_COLUMNS)
        pd.testing.assert_frame_equal(frame.iloc[: len(nips.train)], nips.train)


def test_exchange_rate_nips_matches_the_lstnet_file(nips, shared_data):
    raw = load_exchange_rate(shared_data("exchange_rate/exchange_rate.txt.gz"))
    last = nips.test[-1]
    np.testing.assert_array_equal(last.to_numpy(), raw.to_numpy()[: len(last)])


def test_directory_and_tarball_agree(tmp_path):
    folder = _write_dataset(tmp_path, *_toy())
    archive = tmp_path / "toy_nips.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.add(folder, arcname="toy_nips")
    from_dir, from_tar = load_gluonts(folder), load_gluonts(archive)
    from_parent = load_gluonts(tmp_path)
    pd.testing.assert_frame_equal(from_dir.train, from_tar.train)
    pd.testing.assert_frame_equal(from_dir.test[1], from_tar.test[1])
    assert from_parent.prediction_length == from_tar.prediction_length == 2
    assert from_dir.train.shape == (5, 2) and from_dir.train.index.freqstr == "D"
    assert [len(f) for f in from_dir.test] == [7, 9]
    assert np.isnan(from_dir.test[0].iloc[-1, 0])  # "NaN" in the JSON


def test_prediction_length_from_metadata_wins(tmp_path):
    folder = _write_dataset(
        tmp_path, *_toy(), metadata={"freq": "h", "prediction_length": 2}
    )
    data = load_gluonts(folder)
    assert data.prediction_length == 2 and data.freq == "h"


@pytest.mark.parametrize("meta", [{}, {"freq": "fortnightly"}])
def test_metadata_must_give_a_frequency(tmp_path, meta):
    with pytest.raises(ValueError, match="must give a pandas frequency"):
        load_gluonts(_write_dataset(tmp_path, *_toy(), metadata=meta))


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="exchange_rate_nips.tar.gz"):
        load_exchange_rate_nips(tmp_path / "exchange_rate_nips.tar.gz")


def test_test_entries_must_group_into_windows(tmp_path):
    train, test = _toy()
    folder = _write_dataset(tmp_path, train, test[:-1])
    with pytest.raises(ValueError, match="do not group into windows of 2 series"):
        load_gluonts(folder)


def test_series_of_a_window_must_share_length(tmp_path):
    train, test = _toy()
    test[1] = (test[1][0], test[1][1][:-1])
    with pytest.raises(ValueError, match="share start and length"):
        load_gluonts(_write_dataset(tmp_path, train, test))


def test_irregular_window_growth_raises(tmp_path):
    train, test = _toy(n_windows=3)
    test[4:] = [(s, t + [1.0]) for s, t in test[4:]]
    with pytest.raises(ValueError, match="cannot infer prediction_length"):
        load_gluonts(_write_dataset(tmp_path, train, test))


def test_exchange_rate_nips_needs_eight_series(tmp_path):
    with pytest.raises(ValueError, match="expected 8 exchange-rate series"):
        load_exchange_rate_nips(_write_dataset(tmp_path, *_toy()))


def test_malformed_inputs_raise_value_error(tmp_path):
    folder = _write_dataset(tmp_path, *_toy())
    (folder / "train" / "data.json").write_text('{"start": "2020-01-01"}\n')
    with pytest.raises(ValueError, match="lacks 'start' or 'target'"):
        load_gluonts(folder)
    (folder / "train" / "data.json").write_text("not json\n")
    with pytest.raises(ValueError, match="is not JSON"):
        load_gluonts(folder)
    (folder / "train" / "data.json").unlink()
    with pytest.raises(ValueError, match="no train"):
        load_gluonts(folder)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(ValueError, match="expected a GluonTS"):
        load_gluonts(plain)
