"""Tests for tsdiff.datasets.load_physionet2012."""

import io
import re
import tarfile

import numpy as np
import pandas as pd
import pytest

from tsdiff.datasets import PHYSIONET_VARIABLES, load_physionet2012

N_RECORDS = 20

STAY = """Time,Parameter,Value
00:00,RecordID,7
00:00,Age,54
00:00,Gender,0
00:00,Height,-1
00:00,ICUType,4
00:00,Weight,80
00:00,HR,70
00:10,HR,80
00:50,HR,90
00:59,Temp,36.5
01:00,HR,100
03:20,MechVent,1
03:20,Weight,81.5
47:59,Urine,35
48:00,Urine,50
"""
EMPTY_STAY = """Time,Parameter,Value
00:00,RecordID,3
00:00,Age,31
00:00,Gender,1
00:00,Height,-1
00:00,ICUType,3
00:00,Weight,-1
"""


@pytest.fixture(scope="module")
def archive(shared_data):
    return shared_data("physionet2012/set-a.tar.gz")


@pytest.fixture(scope="module")
def raw_stays(archive):
    """RecordID -> text of the first N_RECORDS stays, read independently."""
    texts = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            match = re.search(r"(\d+)\.txt$", member.name)
            if match and member.isfile():
                texts[int(match[1])] = tar.extractfile(member).read().decode()
    return {rid: texts[rid] for rid in sorted(texts)[:N_RECORDS]}


@pytest.fixture(scope="module")
def grid(archive):
    return load_physionet2012(archive, max_records=N_RECORDS)


def _reference_grid(text):
    """CSDI's rule, written plainly: the last line of each (hour, variable) wins."""
    out = np.full((48, len(PHYSIONET_VARIABLES)), np.nan)
    for line in text.strip().splitlines()[1:]:
        time, parameter, value = line.split(",")
        hour = int(time.split(":")[0])
        if parameter in PHYSIONET_VARIABLES and hour < 48:
            out[hour, PHYSIONET_VARIABLES.index(parameter)] = float(value)
    return out


def _write_stays(folder, stays):
    folder.mkdir(parents=True, exist_ok=True)
    for rid, text in stays.items():
        (folder / f"{rid}.txt").write_text(text)
    return folder


def _tarball(path, stays):
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rid, text in stays.items():
            data = text.encode()
            info = tarfile.TarInfo(f"set-a/{rid}.txt")
            info.size = len(data)
            info.pax_headers = {"comment": "pax header"}
            tar.addfile(info, io.BytesIO(data))
    return path


def test_grid_shape_index_and_columns(grid, raw_stays):
    assert grid.shape == (48 * N_RECORDS, 35)
    assert grid.index.names == ["RecordID", "hour"]
    assert list(grid.index.get_level_values("RecordID").unique()) == list(raw_stays)
    assert list(grid.index.get_level_values("hour")[:48]) == list(range(48))
    assert list(grid.columns) == list(PHYSIONET_VARIABLES)
    assert PHYSIONET_VARIABLES[:4] == ("DiasABP", "HR", "Na", "Lactate")
    assert PHYSIONET_VARIABLES[-1] == "ALP" and len(set(PHYSIONET_VARIABLES)) == 35
    assert (grid.dtypes == np.float64).all()


def test_grid_equals_an_independent_parse(grid, raw_stays):
    for rid, text in raw_stays.items():
        expected = _reference_grid(text)
        got = grid.loc[rid].to_numpy()
        np.testing.assert_array_equal(got, expected)
        assert np.isfinite(got).sum() == np.isfinite(expected).sum()


def test_last_value_of_each_hour_on_a_handcrafted_stay(tmp_path):
    grid = load_physionet2012(_write_stays(tmp_path / "set", {7: STAY}))
    assert grid.shape == (48, 35)
    assert grid.loc[(7, 0), "HR"] == 90.0  # 00:00, 00:10, 00:50 -> last
    assert grid.loc[(7, 0), "Temp"] == 36.5
    assert grid.loc[(7, 1), "HR"] == 100.0
    assert grid.loc[(7, 47), "Urine"] == 35.0  # 48:00 dropped
    assert int(grid.notna().to_numpy().sum()) == 4


def test_stay_without_measurements_gives_48_empty_rows(tmp_path):
    folder = _write_stays(tmp_path / "set", {7: STAY, 3: EMPTY_STAY})
    grid = load_physionet2012(folder)
    assert list(grid.index.get_level_values("RecordID").unique()) == [3, 7]
    assert grid.loc[3].shape == (48, 35) and grid.loc[3].isna().all().all()


@pytest.mark.parametrize("layout", ["grid", "long", "static"])
@pytest.mark.parametrize("text", [EMPTY_STAY, "Time,Parameter,Value\n"])
def test_only_empty_stays(tmp_path, layout, text):
    data = load_physionet2012(_write_stays(tmp_path / "set", {3: text}), layout=layout)
    expected = {"grid": (48, 35), "long": (0, 4), "static": (1, 5)}[layout]
    assert data.shape == expected
    if layout != "long":
        assert data.index[0] in (3, (3, 0))


def test_tarball_with_pax_headers_equals_directory(tmp_path, raw_stays):
    stays = dict(list(raw_stays.items())[:4])
    from_dir = load_physionet2012(_write_stays(tmp_path / "set-a", stays))
    from_tar = load_physionet2012(_tarball(tmp_path / "set-a.tar.gz", stays))
    pd.testing.assert_frame_equal(from_dir, from_tar)


def test_max_records_takes_the_smallest_ids(tmp_path):
    folder = _write_stays(tmp_path / "set", {7: STAY, 3: EMPTY_STAY})
    grid = load_physionet2012(folder, max_records=1)
    assert list(grid.index.get_level_values("RecordID").unique()) == [3]


def test_long_layout_drops_only_the_descriptors(tmp_path):
    long = load_physionet2012(_write_stays(tmp_path / "set", {7: STAY}), layout="long")
    assert list(long.columns) == ["RecordID", "time", "parameter", "value"]
    assert long["RecordID"].dtype == np.int64
    assert long["time"].dtype.kind == "m" and long["time"].is_monotonic_increasing
    assert list(long["parameter"]) == [
        "HR", "HR", "HR", "Temp", "HR", "MechVent", "Weight", "Urine", "Urine",
    ]  # fmt: skip
    assert long["time"].iloc[-1] == pd.Timedelta(hours=48)
    assert long["value"].iloc[6] == 81.5


def test_long_layout_row_count_on_real_stays(archive, raw_stays):
    long = load_physionet2012(archive, layout="long", max_records=N_RECORDS)
    n_lines = sum(len(text.strip().splitlines()) - 1 for text in raw_stays.values())
    assert len(long) == n_lines - 6 * N_RECORDS


def test_static_layout(tmp_path):
    folder = _write_stays(tmp_path / "set", {7: STAY, 3: EMPTY_STAY})
    static = load_physionet2012(folder, layout="static")
    assert list(static.columns) == ["Age", "Gender", "Height", "ICUType", "Weight"]
    assert static.index.name == "RecordID" and list(static.index) == [3, 7]
    assert static.loc[7, "Weight"] == 80.0 and static.loc[3, "Height"] == -1.0


def test_outcomes_are_aligned(archive, shared_data, raw_stays):
    outcomes_file = shared_data("physionet2012/Outcomes-a.txt")
    grid, outcomes = load_physionet2012(
        archive, outcomes=outcomes_file, max_records=N_RECORDS
    )
    assert list(outcomes.index) == list(raw_stays)
    assert outcomes.index.name == "RecordID"
    assert "In-hospital_death" in outcomes.columns
    assert outcomes.loc[132539, "SAPS-I"] == 6


def test_missing_paths_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_physionet2012(tmp_path / "nowhere")
    folder = _write_stays(tmp_path / "set", {7: STAY})
    with pytest.raises(FileNotFoundError, match="Outcomes-x.txt"):
        load_physionet2012(folder, outcomes=tmp_path / "Outcomes-x.txt")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("Time;Parameter;Value\n00:00;HR;1\n", "7.txt: expected the header"),
        ("Time,Parameter,Value\n00:00,HR\n", "7.txt: expected lines 'hh:mm"),
        ("Time,Parameter,Value\n0000,HR,1,2\n", "7.txt: expected lines 'hh:mm"),
        ("Time,Parameter,Value\n00:00,HR,fast\n", "7.txt: unparsable value"),
        ("Time,Parameter,Value\nab:00,HR,1\n", "7.txt: unparsable time"),
        ("Time,Parameter,Value\n00:00,,1\n", "7.txt: empty Parameter"),
    ],
)
def test_malformed_stay_files_raise_naming_the_file(tmp_path, text, match):
    folder = _write_stays(tmp_path / "set", {3: EMPTY_STAY, 7: text})
    with pytest.raises(ValueError, match=match):
        load_physionet2012(folder)


def test_other_bad_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no per-stay"):
        load_physionet2012(tmp_path / "empty")
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    with pytest.raises(ValueError, match="tar archive"):
        load_physionet2012(plain)
    folder = _write_stays(tmp_path / "set", {7: STAY})
    with pytest.raises(ValueError, match="layout"):
        load_physionet2012(folder, layout="wide")
    bad_outcomes = tmp_path / "Outcomes-a.txt"
    bad_outcomes.write_text("RecordID,Death\n7,0\n")
    with pytest.raises(ValueError, match="Outcomes-a.txt: expected"):
        load_physionet2012(folder, outcomes=bad_outcomes)


def test_loader_does_not_write_next_to_the_files(tmp_path):
    folder = _write_stays(tmp_path / "set", {7: STAY, 3: EMPTY_STAY})
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    for layout in ("grid", "long", "static"):
        load_physionet2012(folder, layout=layout)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before
