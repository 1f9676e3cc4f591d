"""EDF/EDF+ reader and writer, with pyedflib as the oracle and real files from public repositories."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pyedflib
import pytest

from ndx_glymphatic.converters._contract import volts_per_unit
from ndx_glymphatic.converters.edf import (
    ANNOTATIONS_CHANNEL,
    EdfReader,
    PhysicalRangeWarning,
    parse_signal_label,
    read_edf_header,
)
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation.rig_files.edf import EdfAnnotation, EdfSignalSource, write_edf

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "edf"
START = datetime(2023, 11, 14, 21, 5, 7, 62500)
DURATION_IN_S = 60
EEG_RATE, EMG_RATE = 512, 256
RISES = np.arange(1.0, 58.0, 2.7) + 0.0137
FALLS = RISES + 0.25


def _chunks(values: np.ndarray, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Truth:
    rng = np.random.default_rng(7)
    t_eeg = np.arange(EEG_RATE * DURATION_IN_S) / EEG_RATE
    eeg1 = 150 * np.sin(2 * np.pi * 7.0 * t_eeg) + rng.normal(0, 20, t_eeg.size)  # theta, uV
    eeg2 = 80 * np.sin(2 * np.pi * 2.0 * t_eeg)  # delta, uV
    t_emg = np.arange(EMG_RATE * DURATION_IN_S) / EMG_RATE
    emg = 40 * np.sin(2 * np.pi * 60.0 * t_emg)


@pytest.fixture(scope="module")
def sirenia_edf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edf") / "sirenia.edf"
    summary = write_edf(
        path=path,
        signals=[
            EdfSignalSource(label="EEG EEG1A-B", rate_in_Hz=EEG_RATE, chunks=_chunks(Truth.eeg1, 3000)),
            EdfSignalSource(label="EEG EEG2A-B", rate_in_Hz=EEG_RATE, chunks=_chunks(Truth.eeg2, 7000)),
            EdfSignalSource(
                label="EMG EMG",
                rate_in_Hz=EMG_RATE,
                chunks=_chunks(Truth.emg, 999),
                physical_min=-200,
                physical_max=200,
            ),
        ],
        start_time=START,
        ttl_rise_times_in_s=RISES,
        ttl_fall_times_in_s=FALLS,
        annotations=[EdfAnnotation(12.5, 30.0, "Vehicle i.p."), EdfAnnotation(44.0, -1, "lights off")],
        equipment="Sirenia",
        show_progress=False,
    )
    assert summary.n_records == DURATION_IN_S
    assert summary.samples_padded == {"EEG EEG1A-B": 0, "EEG EEG2A-B": 0, "EMG EMG": 0}
    return path


def test_samples_equal_pyedflib_and_the_ground_truth(sirenia_edf: Path) -> None:
    with pyedflib.EdfReader(str(sirenia_edf)) as oracle:
        expected = [oracle.readSignal(i) for i in range(3)]
    reader = EdfReader(path=sirenia_edf)
    eeg = reader.read_stream(stream_name="EEG")
    emg = reader.read_stream(stream_name="EMG")
    np.testing.assert_array_equal(eeg[:, 0], expected[0])
    np.testing.assert_array_equal(eeg[:, 1], expected[1])
    np.testing.assert_array_equal(emg[:, 0], expected[2])
    step_eeg = 2000 / 65535
    np.testing.assert_allclose(eeg[:, 0], Truth.eeg1, atol=step_eeg)
    np.testing.assert_allclose(eeg[:, 1], Truth.eeg2, atol=step_eeg)
    np.testing.assert_allclose(emg[:, 0], Truth.emg, atol=400 / 65535)


def test_streams_group_eeg_and_emg_with_labels_units_and_rates(sirenia_edf: Path) -> None:
    with EdfReader(path=sirenia_edf) as reader:
        streams = reader.streams()
        assert set(streams) == {"EEG", "EMG"}
        assert streams["EEG"].channel_names == ("EEG EEG1A-B", "EEG EEG2A-B")
        assert streams["EEG"].rate_in_Hz == EEG_RATE and streams["EMG"].rate_in_Hz == EMG_RATE
        assert streams["EEG"].n_samples == EEG_RATE * DURATION_IN_S
        assert streams["EEG"].unit == "uV" and volts_per_unit(unit=streams["EEG"].unit) == 1e-6
        signals = [signal for signal in reader.signals if signal.label in streams["EMG"].channel_names]
        assert signals[0].physical_min == -200 and signals[0].physical_max == 200
        assert reader.duration_in_s == DURATION_IN_S


def test_per_signal_grouping_names_streams_by_label(sirenia_edf: Path) -> None:
    with EdfReader(path=sirenia_edf, grouping="signal") as reader:
        assert list(reader.streams()) == ["EEG EEG1A-B", "EEG EEG2A-B", "EMG EMG"]
        assert reader.streams()["EMG EMG"].n_channels == 1


def test_start_time_keeps_the_subsecond_part(sirenia_edf: Path) -> None:
    with EdfReader(path=sirenia_edf) as reader:
        assert reader.session_start_time == START
    header = read_edf_header(path=sirenia_edf)
    assert header.startdate == "14.11.23" and header.starttime == "21.05.07"
    assert header.reserved.startswith("EDF+C")


def test_ttl_annotations_become_a_ttl_channel_with_onsets_and_offsets(sirenia_edf: Path) -> None:
    with EdfReader(path=sirenia_edf) as reader:
        events = reader.events()
    assert set(events) == {"TTL", ANNOTATIONS_CHANNEL}
    ttl = events["TTL"]
    # EDF+ stores annotation onsets in 100-us units.
    np.testing.assert_allclose(ttl.onset_times_in_s, RISES, atol=1e-4)
    np.testing.assert_allclose(ttl.offset_times_in_s, FALLS, atol=1e-4)
    np.testing.assert_array_equal(ttl.values, 1.0)
    other = events[ANNOTATIONS_CHANNEL]
    assert other.labels == ("Vehicle i.p.", "lights off")
    np.testing.assert_allclose(other.onset_times_in_s, [12.5, 44.0], atol=1e-4)
    np.testing.assert_allclose(other.offset_times_in_s[0], 42.5, atol=1e-4)
    assert np.isnan(other.offset_times_in_s[1])


@pytest.mark.parametrize("chunk", [1, 100, 511, 512, 10_000, 1_000_000])
def test_chunked_reads_equal_the_whole_stream(sirenia_edf: Path, chunk: int) -> None:
    with EdfReader(path=sirenia_edf) as reader:
        whole = reader.read_stream(stream_name="EEG")
        if chunk == 1:
            part = reader.read_samples(stream_name="EEG", start_sample=1000, stop_sample=1001)
            np.testing.assert_array_equal(part, whole[1000:1001])
            return
        chunks = list(reader.iter_stream_chunks(stream_name="EEG", chunk_samples=chunk))
    assert all(c.shape[0] <= chunk and c.shape[1] == 2 for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), whole)


def test_multi_animal_labels_split_into_one_stream_per_animal(tmp_path: Path) -> None:
    labels = ["EEG EEG1.1A-B", "EEG EEG2.1A-B", "EMG EMG.1", "EEG EEG1.2A-B", "EEG EEG2.2A-B", "EMG EMG.2"]
    values = {label: np.full(256 * 3, float(i)) for i, label in enumerate(labels)}
    path = tmp_path / "two_mice.edf"
    write_edf(
        path=path,
        signals=[EdfSignalSource(label=label, rate_in_Hz=256, chunks=[values[label]]) for label in labels],
        start_time=datetime(2024, 1, 1),
        show_progress=False,
    )
    with EdfReader(path=path) as reader:
        streams = reader.streams()
        assert set(streams) == {"EEG animal 1", "EEG animal 2", "EMG animal 1", "EMG animal 2"}
        assert streams["EEG animal 2"].channel_names == ("EEG EEG1.2A-B", "EEG EEG2.2A-B")
        data = reader.read_stream(stream_name="EEG animal 2")
    np.testing.assert_allclose(data[0], [3.0, 4.0], atol=2000 / 65535)
    assert parse_signal_label(label="EEG EEG1.2A-B").animal == "2"
    assert parse_signal_label(label="EMG09").kind == "EMG"
    assert parse_signal_label(label="Fp1").kind == "other"


def test_writer_pads_a_last_partial_record_and_reports_it(tmp_path: Path) -> None:
    path = tmp_path / "partial.edf"
    summary = write_edf(
        path=path,
        signals=[EdfSignalSource(label="EEG EEG1A-B", rate_in_Hz=100, chunks=[np.ones(250)])],
        start_time=datetime(2024, 1, 1),
        show_progress=False,
    )
    assert summary.n_records == 3
    assert summary.samples_written == {"EEG EEG1A-B": 250}
    assert summary.samples_padded == {"EEG EEG1A-B": 50}
    with pyedflib.EdfReader(str(path)) as oracle:
        values = oracle.readSignal(0)
    np.testing.assert_allclose(values[:250], 1.0, atol=0.05)
    np.testing.assert_allclose(values[250:], 0.0, atol=0.05)


def test_writer_refuses_unequal_durations_without_leaving_a_file(tmp_path: Path) -> None:
    path = tmp_path / "unequal.edf"
    with pytest.raises(ValueError, match="run longer"):
        write_edf(
            path=path,
            signals=[
                EdfSignalSource(label="EEG", rate_in_Hz=100, chunks=[np.ones(300)]),
                EdfSignalSource(label="EMG", rate_in_Hz=100, chunks=[np.ones(500)]),
            ],
            start_time=datetime(2024, 1, 1),
            show_progress=False,
        )
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------ real files
def _real(name: str) -> Path:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"real EDF file not available at {path}")
    return path


def test_real_faster2_out_of_range_values_warn_and_are_noted_not_clipped() -> None:
    path = _real("faster2/test.edf")
    with pyedflib.EdfReader(str(path)) as oracle:
        first_signal = oracle.readSignal(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with EdfReader(path=path) as reader:
            assert reader.session_start_time == datetime(2020, 3, 12, 14, 30, 40)
            assert len(reader.signals) == 16 and {s.rate_in_Hz for s in reader.signals} == {128.0}
            assert reader.duration_in_s == 248.0
            streams = reader.streams()
            assert set(streams) == {"EEG", "EMG"}
            assert streams["EEG"].n_channels == streams["EMG"].n_channels == 8
            assert streams["EEG"].n_samples == 128 * 248
            eeg = np.concatenate(list(reader.iter_stream_chunks(stream_name="EEG", chunk_samples=4096)))
            np.testing.assert_array_equal(eeg[:, 0], first_signal)
            for _ in reader.iter_stream_chunks(stream_name="EMG", chunk_samples=4096):
                pass
    range_warnings = [w for w in caught if issubclass(w.category, PhysicalRangeWarning)]
    assert len(range_warnings) == 16  # once per signal
    assert "signal 'EEG09' has values outside its declared physical range [-100, 100] uV" in str(
        range_warnings[0].message
    )
    assert len(reader.notes) == 16
    assert streams["EEG"].channel_names[0] == "EEG09"
    assert eeg[:, 0].min() < -100 and eeg[:, 0].max() > 100  # unclipped


def test_real_subsecond_start_time() -> None:
    with EdfReader(path=_real("mne-testing-data/subsecond_starttime.edf")) as reader:
        assert reader.session_start_time == datetime(2020, 1, 24, 4, 5, 56, 39453)
        assert reader.streams()["other"].channel_names == ("Fp1", "F7", "T3")
        assert reader.streams()["other"].rate_in_Hz == 512.0
        assert reader.events()[ANNOTATIONS_CHANNEL].labels == ("XLSpike", "Clip Note")


def test_real_nihon_kohden_channel_types() -> None:
    path = _real("mne-testing-data/chtypes_edf.edf")
    with pyedflib.EdfReader(str(path)) as oracle:
        n_signals = oracle.signals_in_file
        ecg1 = oracle.readSignal(oracle.getSignalLabels().index("ECG ECG1"))
    reader = EdfReader(path=path)
    streams = reader.streams()
    assert sum(s.n_channels for s in streams.values()) == 42 == n_signals
    assert {s.rate_in_Hz for s in streams.values()} == {200.0}
    assert streams["EEG"].channel_names[0] == "EEG Fp1-Ref"
    np.testing.assert_array_equal(reader.read_stream(stream_name="ECG")[:, 0], ecg1)


def test_real_annotation_only_hypnogram_is_readable_for_its_annotations() -> None:
    path = _real("mne-testing-data/SC4001EC-Hypnogram.edf")
    with pyedflib.EdfReader(str(path)) as oracle:
        onsets, durations, texts = oracle.readAnnotations()
    reader = EdfReader(path=path)
    assert reader.streams() == {}
    annotations = reader.events()[ANNOTATIONS_CHANNEL]
    assert annotations.onset_times_in_s.size == 154
    assert annotations.labels[0] == "Sleep stage W"
    np.testing.assert_array_equal(annotations.onset_times_in_s, onsets)
    np.testing.assert_array_equal(annotations.offset_times_in_s, onsets + durations)
    assert set(annotations.labels) <= {str(t) for t in texts}


# ------------------------------------------------------------------------------------ bad inputs
def _copy_with(source: Path, destination: Path, *, patch: dict[int, bytes] | None = None, cut: int = 0) -> Path:
    data = bytearray(source.read_bytes())
    for start, replacement in (patch or {}).items():
        data[start : start + len(replacement)] = replacement
    destination.write_bytes(bytes(data[: len(data) - cut]))
    return destination


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        EdfReader(path=tmp_path / "absent.edf")
    assert str(tmp_path / "absent.edf") in str(caught.value)
    assert "file: expected an EDF/EDF+ file, found no such file" in str(caught.value)


def test_startdate_with_wrong_separators_names_the_field_and_value(sirenia_edf: Path, tmp_path: Path) -> None:
    bad = _copy_with(sirenia_edf, tmp_path / "slashes.edf", patch={168: b"14/11/23"})
    with pytest.raises(InputFileError) as caught:
        EdfReader(path=bad)
    message = str(caught.value)
    assert str(bad) in message and "startdate (header bytes 168-175)" in message
    assert "expected dd.mm.yy" in message and "found '14/11/23'" in message


def test_truncated_file_names_the_file_size(sirenia_edf: Path, tmp_path: Path) -> None:
    bad = _copy_with(sirenia_edf, tmp_path / "cut.edf", cut=500)
    with pytest.raises(InputFileError) as caught:
        EdfReader(path=bad)
    message = str(caught.value)
    assert "file size" in message and f"{DURATION_IN_S} data records" in message
    assert f"found {sirenia_edf.stat().st_size - 500} bytes" in message


def test_discontinuous_edf_plus_is_refused(sirenia_edf: Path, tmp_path: Path) -> None:
    bad = _copy_with(sirenia_edf, tmp_path / "gaps.edf", patch={192: b"EDF+D"})
    with pytest.raises(InputFileError) as caught:
        EdfReader(path=bad)
    message = str(caught.value)
    assert "reserved (header bytes 192-235)" in message
    assert "expected EDF, or EDF+C" in message and "found EDF+D" in message


def test_non_numeric_header_field(sirenia_edf: Path, tmp_path: Path) -> None:
    bad = _copy_with(sirenia_edf, tmp_path / "records.edf", patch={236: b"sixty   "})
    with pytest.raises(InputFileError) as caught:
        EdfReader(path=bad)
    assert "number of records (header bytes 236-243): expected an ASCII integer, found 'sixty'" in str(caught.value)


def test_short_header(tmp_path: Path) -> None:
    bad = tmp_path / "short.edf"
    bad.write_bytes(b"0       patient")
    with pytest.raises(InputFileError) as caught:
        EdfReader(path=bad)
    assert "header: expected a 256-byte EDF header, found 15 bytes" in str(caught.value)


def test_unknown_stream_lists_the_streams(sirenia_edf: Path) -> None:
    with EdfReader(path=sirenia_edf) as reader:
        with pytest.raises(InputFileError) as caught:
            reader.read_samples(stream_name="EEG EEG1A-B", start_sample=0, stop_sample=5)
    message = str(caught.value)
    assert "stream name" in message and "found 'EEG EEG1A-B'" in message and "'EEG', 'EMG'" in message


def test_inconsistent_header_is_refused_with_the_library_reason(sirenia_edf: Path, tmp_path: Path) -> None:
    bad = _copy_with(sirenia_edf, tmp_path / "header_bytes.edf", patch={184: b"999     "})
    with pytest.raises(InputFileError) as caught:
        EdfReader(path=bad)
    message = str(caught.value)
    assert str(bad) in message and "header: expected an EDF/EDF+ compliant file" in message
    assert "(Bytes Header)" in message


def test_file_held_open_by_another_edf_reader(sirenia_edf: Path) -> None:
    with pyedflib.EdfReader(str(sirenia_edf)):
        with pytest.raises(InputFileError) as caught:
            EdfReader(path=sirenia_edf)
    message = str(caught.value)
    assert "file: expected a file no other EDF reader in this process holds open" in message
    assert "found the file already open" in message
    EdfReader(path=sirenia_edf)  # fine once the other reader is closed
