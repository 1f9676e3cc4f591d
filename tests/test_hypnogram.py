"""Hypnogram readers, format by format: SleepScore tables, epoch codes, EDF+ annotations (real Sleep-EDF file), bad
input. What every hypnogram reader must do is in ``test_hypnogram_contract.py``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyedflib
import pytest
from hypnogram_samples import SCORED

from ndx_glymphatic.converters._contract import HypnogramIntervals
from ndx_glymphatic.converters.hypnogram import ACCUSLEEP_CODE_MAP, SLEEP_EDF_LABEL_MAP, EdfHypnogramReader
from ndx_glymphatic.converters.registry import read_hypnogram
from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.simulation.rig_files.edf import EdfAnnotation, EdfSignalSource, write_edf
from ndx_glymphatic.simulation.rig_files.hypnogram import (
    epoch_codes_from_intervals,
    write_epoch_codes,
    write_state_table,
)
from ndx_glymphatic.vocabulary import SLEEP_STATES

SLEEP_EDF = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "real"
    / "edf"
    / "mne-testing-data"
    / "SC4001EC-Hypnogram.edf"
)


def _assert_input_error(excinfo: pytest.ExceptionInfo, *, path: Path, field: str) -> None:
    error = excinfo.value
    message = str(error)
    assert "\n" not in message and str(path) in message
    assert field in error.field and error.expected and error.found


def _same(read: HypnogramIntervals, expected: HypnogramIntervals) -> None:
    assert read.sleep_states == expected.sleep_states
    np.testing.assert_allclose(read.start_times_in_s, expected.start_times_in_s, atol=1e-9)
    np.testing.assert_allclose(read.stop_times_in_s, expected.stop_times_in_s, atol=1e-9)


# -- SleepScore state tables -------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("nest", [True, False])
def test_state_table_round_trip(tmp_path: Path, suffix: str, nest: bool) -> None:
    path = write_state_table(destination=tmp_path / f"scores{suffix}", intervals=SCORED, nest_micro_arousals=nest)
    read = read_hypnogram(path=path, format="state-table", scorer="Jane Doe", scoring_method="manual")
    _same(read, SCORED)
    assert read.scorer == "Jane Doe" and read.scoring_method == "manual" and read.epoch_length_in_s is None
    assert set(read.sleep_states) <= set(SLEEP_STATES)


def test_nested_micro_arousals_split_nrem(tmp_path: Path) -> None:
    path = tmp_path / "sleepscore.csv"
    path.write_text("Wake,,NREM,,REM,,MA,\n0,100,100,300,400,50,150,5\n,,,,,,300,10\n")
    read = read_hypnogram(path=path, format="state-table", scorer="x")
    assert read.sleep_states == ("wake", "NREM", "micro-arousal", "NREM", "micro-arousal", "NREM", "REM")
    np.testing.assert_array_equal(read.start_times_in_s, [0, 100, 150, 155, 300, 310, 400])
    np.testing.assert_array_equal(read.stop_times_in_s, [100, 150, 155, 300, 310, 400, 450])
    assert read.total_duration_in_s(sleep_state="NREM") == 300 - 15


def test_flat_header_variant(tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    path.write_text("NREM onset,NREM duration,Wake onset,Wake duration\n60,30,0,60\n,,90,10\n")
    read = read_hypnogram(path=path, format="state-table", scorer="x", epoch_length_in_s=10.0)
    assert read.sleep_states == ("wake", "NREM", "wake") and read.epoch_length_in_s == 10.0
    np.testing.assert_array_equal(read.stop_times_in_s, [60, 90, 100])


# -- epoch codes -------------------------------------------------------------------------------
def test_epoch_codes_round_trip_default_map(tmp_path: Path) -> None:
    codes = epoch_codes_from_intervals(intervals=SCORED, epoch_length_in_s=1.0)
    assert codes.size == 1400 and set(codes.tolist()) == {1, 4, 9, 15}
    path = write_epoch_codes(destination=tmp_path / "states.csv", codes=codes)
    read = read_hypnogram(path=path, format="epoch-codes", scorer="x", epoch_length_in_s=1.0)
    _same(read, SCORED)
    assert read.epoch_length_in_s == 1.0


def test_epoch_codes_accusleep_map_and_offset(tmp_path: Path) -> None:
    codes = np.array([2, 2, 3, 3, 3, 1, 1, 2, 4, 4])  # wake, NREM, REM, wake, undefined
    path = write_epoch_codes(destination=tmp_path / "labels.txt", codes=codes, header=None)
    read = read_hypnogram(
        path=path,
        format="epoch-codes",
        scorer="AccuSleep",
        scoring_method="automatic",
        epoch_length_in_s=2.5,
        options={"state_codes": ACCUSLEEP_CODE_MAP, "start_time_in_s": 10.0},
    )
    assert read.sleep_states == ("wake", "NREM", "REM", "wake", "unscored")
    np.testing.assert_allclose(read.start_times_in_s, 10.0 + np.array([0, 2, 5, 7, 8]) * 2.5)
    np.testing.assert_allclose(read.stop_times_in_s[-1], 10.0 + 25.0)


def test_epoch_codes_column_choice(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("time,state\n0,1\n1,1\n2,4\n")
    read = read_hypnogram(
        path=path, format="epoch-codes", scorer="x", epoch_length_in_s=1.0, options={"column": "state"}
    )
    assert read.sleep_states == ("wake", "NREM")
    with pytest.raises(InputFileError, match="column=") as excinfo:
        read_hypnogram(path=path, format="epoch-codes", scorer="x", epoch_length_in_s=1.0)
    _assert_input_error(excinfo, path=path, field="columns")


# -- EDF+ --------------------------------------------------------------------------------------
def test_real_sleep_edf_hypnogram_against_pyedflib() -> None:
    if not SLEEP_EDF.is_file():
        pytest.skip(f"real Sleep-EDF hypnogram absent: {SLEEP_EDF}")
    with pyedflib.EdfReader(str(SLEEP_EDF)) as oracle:
        onsets, durations, labels = oracle.readAnnotations()
    assert len(labels) == 154
    each = read_hypnogram(path=SLEEP_EDF, format="edf", scorer="Sleep-EDF", merge_adjacent=False)
    assert len(each) == 154
    assert each.sleep_states == tuple(SLEEP_EDF_LABEL_MAP[str(label)] for label in labels)
    np.testing.assert_allclose(each.start_times_in_s, onsets)
    np.testing.assert_allclose(each.stop_times_in_s, onsets + durations)
    assert each.epoch_length_in_s == 30.0
    assert each.start_datetime == datetime(1989, 4, 24, 16, 13)
    merged = read_hypnogram(path=SLEEP_EDF, format="edf", scorer="Sleep-EDF")
    assert len(merged) < 154 and all(a != b for a, b in zip(merged.sleep_states, merged.sleep_states[1:]))
    for state in set(each.sleep_states):
        assert merged.total_duration_in_s(sleep_state=state) == pytest.approx(
            each.total_duration_in_s(sleep_state=state)
        )
    nrem_labels = {"Sleep stage 1", "Sleep stage 2", "Sleep stage 3", "Sleep stage 4"}
    nrem_oracle = sum(d for d, label in zip(durations, labels) if label in nrem_labels)
    assert merged.total_duration_in_s(sleep_state="NREM") == pytest.approx(nrem_oracle)


def _write_edf_hypnogram(path: Path, annotations: list[tuple[float, float, str]]) -> Path:
    write_edf(
        path=path,
        signals=[EdfSignalSource(label="EEG EEG1A-B", rate_in_Hz=10, chunks=[np.zeros(10 * 120)])],
        start_time=datetime(2024, 1, 2, 3, 4, 5),
        annotations=[EdfAnnotation(onset_in_s=a, duration_in_s=b, text=c) for a, b, c in annotations],
        show_progress=False,
    )
    return path


def test_synthetic_edf_with_micro_arousal_and_ignored_labels(tmp_path: Path) -> None:
    path = _write_edf_hypnogram(
        tmp_path / "scored.edf",
        [
            (0, 30, "Sleep stage W"),
            (30, 30, "Sleep stage 2"),
            (45, 3, "Arousal"),
            (50, 0, "Lights off"),
            (60, 30, "Sleep stage R"),
            (90, 30, "Movement time"),
        ],
    )
    read = EdfHypnogramReader(
        path=path,
        scorer="x",
        label_map={**SLEEP_EDF_LABEL_MAP, "Arousal": "micro-arousal"},
        ignore_labels=("Lights off",),
        epoch_length_in_s=30.0,
    ).read()
    assert read.sleep_states == ("wake", "NREM", "micro-arousal", "NREM", "REM", "artifact")
    np.testing.assert_allclose(read.start_times_in_s, [0, 30, 45, 48, 60, 90])
    np.testing.assert_allclose(read.stop_times_in_s, [30, 45, 48, 60, 90, 120])
    assert read.start_datetime == datetime(2024, 1, 2, 3, 4, 5)
    assert len(read.notes) == 1 and "'Lights off'" in read.notes[0] and str(path) in read.notes[0]


# -- bad input ---------------------------------------------------------------------------------
def test_overlapping_rows_are_named(tmp_path: Path) -> None:
    path = tmp_path / "overlap.csv"
    path.write_text("Wake,,NREM,,REM,\n0,100,90,50,200,10\n")
    with pytest.raises(InputFileError) as excinfo:
        read_hypnogram(path=path, format="state-table", scorer="x")
    _assert_input_error(excinfo, path=path, field="row 2 (NREM)")
    assert "row 2 (Wake)" in excinfo.value.found and "[90.0, 140.0]" in excinfo.value.found


def test_micro_arousal_inside_rem(tmp_path: Path) -> None:
    path = tmp_path / "ma_rem.csv"
    path.write_text("REM,,MA,\n0,100,50,5\n")
    with pytest.raises(InputFileError) as excinfo:
        read_hypnogram(path=path, format="state-table", scorer="x")
    _assert_input_error(excinfo, path=path, field="row 2 (MA)")
    assert "REM" in excinfo.value.found


def test_unknown_state_codes_are_listed(tmp_path: Path) -> None:
    path = write_epoch_codes(destination=tmp_path / "codes.csv", codes=np.array([1, 1, 4, 2, 7, 9, 2]))
    with pytest.raises(InputFileError) as excinfo:
        read_hypnogram(path=path, format="epoch-codes", scorer="x", epoch_length_in_s=1.0)
    _assert_input_error(excinfo, path=path, field="state codes")
    assert "['2', '7']" in excinfo.value.found and "row 5" in excinfo.value.found
    assert "1=wake" in excinfo.value.expected


def test_unknown_table_headers_and_missing_durations(tmp_path: Path) -> None:
    path = tmp_path / "headers.csv"
    path.write_text("Wake,,Sleep,\n0,10,10,10\n")
    with pytest.raises(InputFileError) as excinfo:
        read_hypnogram(path=path, format="state-table", scorer="x")
    _assert_input_error(excinfo, path=path, field="header row")
    assert "Sleep" in excinfo.value.found
    half = tmp_path / "half.csv"
    half.write_text("Wake,,NREM,\n0,10,10,\n")
    with pytest.raises(InputFileError) as excinfo:
        read_hypnogram(path=half, format="state-table", scorer="x")
    _assert_input_error(excinfo, path=half, field="row 2 (NREM)")


def test_unknown_edf_labels_and_bad_parameters(tmp_path: Path) -> None:
    path = _write_edf_hypnogram(tmp_path / "odd.edf", [(0, 30, "Sleep stage W"), (30, 30, "Dozing")])
    with pytest.raises(InputFileError) as excinfo:
        read_hypnogram(path=path, format="edf", scorer="x")
    _assert_input_error(excinfo, path=path, field="annotations")
    assert "Dozing" in excinfo.value.found and excinfo.value.hint
    with pytest.raises(GlymphError, match="scoring_method"):
        read_hypnogram(path=path, format="edf", scorer="x", scoring_method="by eye")
    with pytest.raises(GlymphError, match="state_codes: not used by format 'edf'"):
        read_hypnogram(path=path, format="edf", scorer="x", options={"state_codes": {1: "wake"}})
    with pytest.raises(GlymphError, match="label_map"):
        read_hypnogram(path=path, format="edf", scorer="x", options={"label_map": {"Dozing": "drowsy"}})
    with pytest.raises(GlymphError, match="epoch_length_in_s"):
        read_hypnogram(path=path, format="epoch-codes", scorer="x")


def test_empty_epoch_cells_and_wrong_file_type(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("state\n1\n\n4\n,\n")
    with pytest.raises(InputFileError) as excinfo:
        read_hypnogram(path=path, format="epoch-codes", scorer="x", epoch_length_in_s=4.0)
    _assert_input_error(excinfo, path=path, field="state codes")
    other = tmp_path / "scores.mat"
    other.write_bytes(b"MATLAB")
    with pytest.raises(InputFileError) as excinfo:
        read_hypnogram(path=other, format="state-table", scorer="x")
    _assert_input_error(excinfo, path=other, field="file type")


def test_options_left_unset_are_ignored_and_text_codes_match_numbers(tmp_path: Path) -> None:
    path = write_state_table(destination=tmp_path / "scores.csv", intervals=SCORED)
    unset = {"start_time_in_s": 0.0, "state_codes": {}, "label_map": None, "column": None}
    _same(read_hypnogram(path=path, format="state-table", scorer="x", options=unset), SCORED)
    codes = write_epoch_codes(destination=tmp_path / "codes.csv", codes=np.array([1, 1, 4, 4, 15, 4]))
    read = read_hypnogram(
        path=codes, format="epoch-codes", scorer="x", epoch_length_in_s=4.0,
        options={"state_codes": {"1": "wake", "4": "NREM", "15": "micro-arousal"}, "start_time_in_s": 0.0},
    )
    assert read.sleep_states == ("wake", "NREM", "micro-arousal", "NREM")
    np.testing.assert_array_equal(read.stop_times_in_s, [8, 16, 20, 24])
