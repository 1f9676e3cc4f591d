"""The shared contract suite of hypnogram readers: every reader must pass these tests, and the registry must list them.

Each case writes its own scoring file with the project's writers (``simulation/rig_files``), or opens a
real one, and states what a correct reader reports. To add a hypnogram reader:

1. add its class to ``ndx_glymphatic.converters.registry.HYPNOGRAM_READERS``;
2. write a ``_make_<format>(folder: Path) -> HypnogramReader`` that writes a small file into ``folder``
   and returns a reader on it;
3. append ``HypnogramCase(...)`` to ``CASES`` with the intervals the file scores (None for a real
   file whose intervals only the format's own tests check against an oracle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from hypnogram_samples import SCORED, intervals

from ndx_glymphatic.converters._contract import HypnogramIntervals, HypnogramReader
from ndx_glymphatic.converters.hypnogram import (
    ACCUSLEEP_CODE_MAP,
    SLEEP_EDF_LABEL_MAP,
    EdfHypnogramReader,
    EpochCodeHypnogramReader,
    LongTableHypnogramReader,
    StateTableHypnogramReader,
)
from ndx_glymphatic.converters.registry import (
    HYPNOGRAM_READERS,
    detect_hypnogram_format,
    hypnogram_reader_class,
    read_hypnogram,
)
from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.simulation.rig_files.edf import EdfAnnotation, EdfSignalSource, write_edf
from ndx_glymphatic.simulation.rig_files.hypnogram import (
    epoch_codes_from_intervals,
    merge_nrem_around_micro_arousals,
    write_epoch_codes,
    write_long_table,
    write_mat_labels,
    write_state_table,
)
from ndx_glymphatic.vocabulary import SLEEP_STATES

SLEEP_EDF = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "edf" / "mne-testing-data"
EDF_START = datetime(2024, 1, 2, 3, 4, 5)


@dataclass(frozen=True)
class HypnogramCase:
    """One reader on one scoring file, and what it must report."""

    id: str
    make: Callable[[Path], HypnogramReader]
    intervals: HypnogramIntervals | None  # None: a real file; only the invariants are checked
    epoch_length_in_s: float | None
    start_datetime: datetime | None


def _make_state_table_csv(folder: Path) -> HypnogramReader:
    path = write_state_table(destination=folder / "sleepscore.csv", intervals=SCORED, nest_micro_arousals=True)
    return StateTableHypnogramReader(path=path, scorer="Jane Doe")


def _make_state_table_xlsx(folder: Path) -> HypnogramReader:
    path = write_state_table(destination=folder / "scores.xlsx", intervals=SCORED, nest_micro_arousals=False)
    return StateTableHypnogramReader(path=path, scorer="Jane Doe", scoring_method="manual", epoch_length_in_s=10.0)


def _make_epoch_codes(folder: Path) -> HypnogramReader:
    codes = epoch_codes_from_intervals(intervals=SCORED, epoch_length_in_s=1.0)
    path = write_epoch_codes(destination=folder / "states.csv", codes=codes)
    return EpochCodeHypnogramReader(
        path=path, scorer="SleepScore 2.1", scoring_method="automatic", epoch_length_in_s=1.0
    )


_ACCUSLEEP = intervals([(10.0, 15.0, "wake"), (15.0, 22.5, "NREM"), (22.5, 27.5, "REM"), (27.5, 30.0, "wake"),
                         (30.0, 35.0, "unscored")])


def _make_accusleep_codes(folder: Path) -> HypnogramReader:
    path = write_epoch_codes(destination=folder / "labels.txt", codes=np.array([2, 2, 3, 3, 3, 1, 1, 2, 4, 4]),
                             header=None)
    session_codes = {str(code): state for code, state in ACCUSLEEP_CODE_MAP.items()}  # YAML keys are text
    return EpochCodeHypnogramReader(
        path=path, scorer="AccuSleep", scoring_method="automatic", epoch_length_in_s=2.5,
        state_codes=session_codes, start_time_in_s=10.0,
    )


_EDF_LABELS = {"wake": "Sleep stage W", "NREM": "Sleep stage 2", "REM": "Sleep stage R", "micro-arousal": "Arousal"}


def _make_edf(folder: Path) -> HypnogramReader:
    path = folder / "scored.edf"
    write_edf(
        path=path,
        signals=[EdfSignalSource(label="EEG EEG1A-B", rate_in_Hz=10, chunks=[np.zeros(10 * 1400)])],
        start_time=EDF_START,
        annotations=[
            EdfAnnotation(onset_in_s=start, duration_in_s=stop - start, text=_EDF_LABELS[state])
            for start, stop, state in merge_nrem_around_micro_arousals(intervals=SCORED)
        ],
        show_progress=False,
    )
    label_map = {**SLEEP_EDF_LABEL_MAP, "Arousal": "micro-arousal"}
    return EdfHypnogramReader(path=path, scorer="Jane Doe", label_map=label_map)


def _make_sleep_edf(folder: Path) -> HypnogramReader:
    path = SLEEP_EDF / "SC4001EC-Hypnogram.edf"
    if not path.is_file():
        pytest.skip(f"real Sleep-EDF hypnogram absent: {path}")
    return EdfHypnogramReader(path=path, scorer="Sleep-EDF")


def _make_long_table_csv(folder: Path) -> HypnogramReader:
    path = write_long_table(destination=folder / "scores.csv", intervals=SCORED, decimals=3,
                            columns=("Onset", "Duration", "Stage"), column_order=(2, 0, 1))
    return LongTableHypnogramReader(path=path, scorer="Jane Doe")


def _make_long_table_xlsx(folder: Path) -> HypnogramReader:
    path = write_long_table(destination=folder / "scores.xlsx", intervals=SCORED, clock_times=True,
                            columns=("start", "end", "sleep_state"), labels={"wake": "W", "REM": "R", "NREM": "NR"})
    return LongTableHypnogramReader(path=path, scorer="Jane Doe")


def _make_bids_tsv(folder: Path) -> HypnogramReader:
    path = write_long_table(destination=folder / "sub-01_ses-01_hypnogram.tsv", intervals=SCORED, decimals=1,
                            columns=("onset", "duration", "stage"), labels={"micro-arousal": "MA", "NREM": "N2"})
    return LongTableHypnogramReader(path=path, scorer="Jane Doe", epoch_length_in_s=1.0)


_CODES = np.array([2, 2, 3, 3, 3, 1, 1, 2, 4, 4])


def _make_accusleep_mat(folder: Path) -> HypnogramReader:
    path = write_mat_labels(destination=folder / "labels.mat", labels=_CODES)
    return EpochCodeHypnogramReader(path=path, scorer="AccuSleep", scoring_method="automatic", epoch_length_in_s=2.5,
                                    code_preset="accusleep", start_time_in_s=10.0)


def _make_accusleep_mat_v73(folder: Path) -> HypnogramReader:
    path = write_mat_labels(destination=folder / "labels73.mat", labels=_CODES, hdf5=True)
    return EpochCodeHypnogramReader(path=path, scorer="AccuSleep", scoring_method="automatic", epoch_length_in_s=2.5,
                                    code_preset="accusleep", start_time_in_s=10.0)


def _make_accusleepy_csv(folder: Path) -> HypnogramReader:
    codes = np.where(_CODES == 4, -1, _CODES)  # AccuSleePy writes undefined epochs as -1
    path = write_epoch_codes(destination=folder / "labels.csv", codes=codes, header="brain_state")
    return EpochCodeHypnogramReader(path=path, scorer="AccuSleePy", scoring_method="automatic", epoch_length_in_s=2.5,
                                    code_preset="accusleep", start_time_in_s=10.0)


_YASA = intervals([(0.0, 60.0, "wake"), (60.0, 150.0, "NREM"), (150.0, 180.0, "REM"), (180.0, 210.0, "artifact"),
                   (210.0, 240.0, "unscored")])


def _make_yasa_int(folder: Path) -> HypnogramReader:
    path = write_epoch_codes(destination=folder / "hypno.csv", codes=np.array([0, 0, 1, 2, 3, 4, -1, -2]),
                             header=None)
    return EpochCodeHypnogramReader(path=path, scorer="YASA 0.6", scoring_method="automatic", epoch_length_in_s=30.0,
                                    code_preset="yasa")


def _make_yasa_str(folder: Path) -> HypnogramReader:
    path = write_epoch_codes(destination=folder / "hypno.txt", codes=np.array(["W", "W", "N1", "N2", "N3", "R",
                                                                              "Art", "Uns"]), header=None)
    return EpochCodeHypnogramReader(path=path, scorer="YASA 0.6", scoring_method="automatic", epoch_length_in_s=30.0,
                                    code_preset="yasa-str")


CASES = [
    HypnogramCase("state-table-csv", _make_state_table_csv, SCORED, None, None),
    HypnogramCase("state-table-xlsx", _make_state_table_xlsx, SCORED, 10.0, None),
    HypnogramCase("epoch-codes", _make_epoch_codes, SCORED, 1.0, None),
    HypnogramCase("epoch-codes-accusleep", _make_accusleep_codes, _ACCUSLEEP, 2.5, None),
    HypnogramCase("edf-annotations", _make_edf, SCORED, 1.0, EDF_START),
    HypnogramCase("long-table-csv-3-decimals", _make_long_table_csv, SCORED, None, None),
    HypnogramCase("long-table-xlsx-clock-times", _make_long_table_xlsx, SCORED, None, None),
    HypnogramCase("long-table-bids-tsv", _make_bids_tsv, SCORED, 1.0, None),
    HypnogramCase("epoch-codes-accusleep-mat", _make_accusleep_mat, _ACCUSLEEP, 2.5, None),
    HypnogramCase("epoch-codes-accusleep-mat-v7.3", _make_accusleep_mat_v73, _ACCUSLEEP, 2.5, None),
    HypnogramCase("epoch-codes-accusleepy-csv", _make_accusleepy_csv, _ACCUSLEEP, 2.5, None),
    HypnogramCase("epoch-codes-yasa", _make_yasa_int, _YASA, 30.0, None),
    HypnogramCase("epoch-codes-yasa-str", _make_yasa_str, _YASA, 30.0, None),
    HypnogramCase("edf-sleep-edf", _make_sleep_edf, None, 30.0, datetime(1989, 4, 24, 16, 13)),
]


@pytest.fixture(params=CASES, ids=lambda case: case.id)
def case(request: pytest.FixtureRequest) -> HypnogramCase:
    return request.param


@pytest.fixture
def reader(case: HypnogramCase, tmp_path: Path) -> HypnogramReader:
    return case.make(tmp_path)


def _assert_same(read: HypnogramIntervals, expected: HypnogramIntervals) -> None:
    assert read.sleep_states == expected.sleep_states
    np.testing.assert_allclose(read.start_times_in_s, expected.start_times_in_s, atol=1e-9)
    np.testing.assert_allclose(read.stop_times_in_s, expected.stop_times_in_s, atol=1e-9)


# ---------------------------------------------------------------------------------------- tests
def test_reader_is_registered_for_its_format(reader: HypnogramReader) -> None:
    assert isinstance(reader, HypnogramReader)
    assert isinstance(reader.format_name, str) and reader.format_name
    assert hypnogram_reader_class(format=reader.format) is type(reader)


def test_intervals_are_sorted_disjoint_and_in_the_vocabulary(reader: HypnogramReader) -> None:
    read = reader.read()
    assert isinstance(read, HypnogramIntervals) and len(read) > 0
    for times in (read.start_times_in_s, read.stop_times_in_s):
        assert times.dtype == np.float64 and times.shape == (len(read.sleep_states),)
    assert set(read.sleep_states) <= set(SLEEP_STATES)
    assert np.all(read.stop_times_in_s > read.start_times_in_s)
    assert np.all(read.start_times_in_s[1:] >= read.stop_times_in_s[:-1] - 1e-6)


def test_intervals_are_what_the_file_scores(reader: HypnogramReader, case: HypnogramCase) -> None:
    read = reader.read()
    if case.intervals is not None:
        _assert_same(read, case.intervals)
    assert read.epoch_length_in_s == case.epoch_length_in_s
    assert read.start_datetime == case.start_datetime


def test_scoring_metadata_and_notes(reader: HypnogramReader) -> None:
    read = reader.read()
    assert read.scorer == reader.scorer and read.scoring_method == reader.scoring_method
    assert isinstance(read.notes, tuple) and all(isinstance(note, str) and note for note in read.notes)
    again = reader.read()
    _assert_same(again, read)
    assert again.notes == read.notes


def test_merging_keeps_every_state_total(reader: HypnogramReader) -> None:
    merged = reader.read()
    each = replace(reader, merge_adjacent=False).read()
    assert len(each) >= len(merged)
    assert all(
        not (a == b and np.isclose(stop, start))
        for a, b, stop, start in zip(
            merged.sleep_states, merged.sleep_states[1:], merged.stop_times_in_s, merged.start_times_in_s[1:]
        )
    )
    for state in set(each.sleep_states):
        total = each.total_duration_in_s(sleep_state=state)
        assert merged.total_duration_in_s(sleep_state=state) == pytest.approx(total)


def test_registry_reads_the_same_intervals(reader: HypnogramReader) -> None:
    read = read_hypnogram(
        format=reader.format, path=reader.path, scorer=reader.scorer, scoring_method=reader.scoring_method,
        epoch_length_in_s=reader.epoch_length_in_s, merge_adjacent=reader.merge_adjacent,
        options={name: getattr(reader, name) for name in reader.options},
    )
    _assert_same(read, reader.read())
    assert read.epoch_length_in_s == reader.read().epoch_length_in_s


def test_missing_and_unreadable_files_are_clear_input_file_errors(reader: HypnogramReader, tmp_path: Path) -> None:
    missing = tmp_path / f"missing{reader.path.suffix}"
    with pytest.raises(InputFileError) as caught:
        replace(reader, path=missing).read()
    assert str(missing) in str(caught.value) and "\n" not in str(caught.value)
    garbage = tmp_path / f"garbage{reader.path.suffix}"
    garbage.write_bytes(b"\x00\x01 not a scoring file \xff\n")
    with pytest.raises(InputFileError) as caught:
        replace(reader, path=garbage).read()
    error = caught.value
    assert str(garbage) in str(error) and "\n" not in str(error) and error.field and error.expected and error.found


def test_bad_scoring_metadata_is_refused(reader: HypnogramReader) -> None:
    with pytest.raises(GlymphError, match="scoring_method"):
        replace(reader, scoring_method="by eye")
    with pytest.raises(GlymphError, match="scorer"):
        replace(reader, scorer="  ")
    with pytest.raises(GlymphError, match="epoch_length_in_s: expected a positive"):
        replace(reader, epoch_length_in_s=-1.0)
    if reader.epoch_length_required:
        with pytest.raises(GlymphError, match="epoch_length_in_s: required"):
            replace(reader, epoch_length_in_s=None)
    else:
        assert replace(reader, epoch_length_in_s=None).epoch_length_in_s is None


def test_state_maps_must_map_into_the_vocabulary(reader: HypnogramReader) -> None:
    assert reader.state_map_option in reader.options
    assert reader.state_map and set(reader.state_map.values()) <= set(SLEEP_STATES)
    with pytest.raises(GlymphError, match=f"{reader.state_map_option}: states must come from"):
        replace(reader, **{reader.state_map_option: {"Dozing": "drowsy"}})


def test_options_of_other_formats_are_refused(reader: HypnogramReader) -> None:
    other = next(cls for cls in HYPNOGRAM_READERS if cls.format != reader.format)
    option = other.options[0]
    with pytest.raises(GlymphError, match=f"{option}: not used by format {reader.format!r}"):
        read_hypnogram(format=reader.format, path=reader.path, scorer="x", epoch_length_in_s=1.0,
                       options={option: {"1": "wake"} if option != "column" else "state"})


def test_every_registered_hypnogram_reader_has_a_case(tmp_path: Path) -> None:
    covered = set()
    for index, each in enumerate(CASES[:-1]):  # the last, a real file, may be absent
        folder = tmp_path / str(index)
        folder.mkdir()
        covered.add(type(each.make(folder)))
    assert covered == set(HYPNOGRAM_READERS)


def test_unknown_format_lists_the_formats(tmp_path: Path) -> None:
    expected = r"format: expected one of \['state-table', 'epoch-codes', 'edf', 'long-table'\]"
    with pytest.raises(GlymphError, match=expected):
        read_hypnogram(format="sleepsign", path=tmp_path / "x.txt", scorer="x")


# ---------------------------------------------------------------------------------------- recognition
def test_the_file_is_recognised_as_its_format_and_reads_the_same_unnamed(reader: HypnogramReader) -> None:
    recognised = detect_hypnogram_format(path=reader.path)
    assert recognised.format == reader.format and recognised.reason
    assert type(reader).recognise(path=reader.path) == recognised
    named = reader.read()
    options = {name: getattr(reader, name) for name in reader.options}
    for name, value in recognised.options.items():  # what the content implies is what the case set
        assert options[name] == value
        options[name] = None
    unnamed = read_hypnogram(
        format=None, path=reader.path, scorer=reader.scorer, scoring_method=reader.scoring_method,
        epoch_length_in_s=reader.epoch_length_in_s, options=options,
    )
    _assert_same(unnamed, named)
    assert f"read as {reader.format!r}" in unnamed.notes[0] and unnamed.notes[1:] == named.notes


def test_garbage_is_recognised_by_no_reader(reader: HypnogramReader, tmp_path: Path) -> None:
    garbage = tmp_path / f"garbage{reader.path.suffix}"
    garbage.write_bytes(b"\x00\x01 not a scoring file \xff\n")
    assert all(cls.recognise(path=garbage) is None for cls in HYPNOGRAM_READERS)
    with pytest.raises(InputFileError, match="none of them recognises"):
        detect_hypnogram_format(path=garbage)


HEADER_ONLY = {
    "state-table": ("scores.csv", "Wake,,NREM,,REM,,MA,\nonset (s),duration (s),onset (s),duration (s),,,,\n"),
    "long-table": ("scores.tsv", "onset\tduration\tstage\n"),
    "epoch-codes": ("labels.csv", "brain_state\n"),
}


@pytest.mark.parametrize("format", sorted(HEADER_ONLY))
def test_a_file_with_headers_and_no_rows_is_one_clear_error(tmp_path: Path, format: str) -> None:
    name, text = HEADER_ONLY[format]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputFileError) as caught:
        read_hypnogram(format=format, path=path, scorer="x", epoch_length_in_s=1.0)
    error = caught.value
    assert error.path == path and error.field == "rows" and "none" in error.found and "\n" not in str(error)
    assert "at least one" in error.expected
