"""The shared contract suite: every rig-file reader must pass these tests, and the registry must list them all.

Each case writes its own small file with the project's synthetic writers (so the suite needs no
fixture data) and states the facts a correct reader must report. To add a reader:

1. add its class to ``ndx_glymphatic.converters.registry.RIG_READERS``;
2. write a ``_make_<format>(folder: Path) -> RigReader`` that writes a small file into ``folder``
   and returns a reader on it;
3. append ``ReaderCase(id=..., make=_make_<format>, expected=ExpectedFacts(...))`` to ``CASES``.

``ExpectedFacts.streams`` maps stream names to ``ExpectedStream`` (samples, channels, rate and,
optionally, the first samples of the stream); ``ExpectedFacts.events`` maps event channel names
to their number of onsets; ``ExpectedFacts.aliases`` maps other spellings of stream or event
channel names (TDT store codes) to the names they stand for.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from ndx_glymphatic.converters._contract import EventChannel, RigReader, StreamInfo
from ndx_glymphatic.converters.doric import DoricCsvReader, DoricFileReader
from ndx_glymphatic.converters.edf import EdfReader
from ndx_glymphatic.converters.neurophotometrics import NeurophotometricsReader
from ndx_glymphatic.converters.pyphotometry import PyPhotometryCsvReader, PyPhotometryReader
from ndx_glymphatic.converters.registry import (
    HYPNOGRAM_READERS,
    RIG_READERS,
    hypnogram_formats,
    open_rig_reader,
    rig_formats,
    rig_reader_class,
)
from ndx_glymphatic.converters.tdt import TdtBlockReader
from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.session import ELECTROPHYSIOLOGY_FORMATS, HYPNOGRAM_FORMATS, PHOTOMETRY_FORMATS
from ndx_glymphatic.simulation.rig_files.doric import (
    DoricGroup,
    write_doric_csv,
    write_doric_v1,
    write_doric_v6,
)
from ndx_glymphatic.simulation.rig_files.edf import EdfSignalSource, write_edf
from ndx_glymphatic.simulation.rig_files.neurophotometrics import (
    NpmFrames,
    interleave_npm_frames,
    write_npm_current_csv,
    write_npm_legacy_csv,
)
from ndx_glymphatic.simulation.rig_files.pyphotometry import write_ppd, write_pyphotometry_csv
from ndx_glymphatic.simulation.rig_files.tdt import (
    EEG_RATE_IN_HZ,
    PHOTOMETRY_RATE_IN_HZ,
    TdtEpocSource,
    TdtStreamSource,
    write_tdt_block,
)


@dataclass(frozen=True)
class ExpectedStream:
    """What a reader must report for one stream."""

    n_samples: int
    n_channels: int
    rate_in_Hz: float | None
    first_samples: np.ndarray | None = None  # (k, n_channels) values the stream starts with
    atol: float = 0.0  # absolute tolerance on first_samples (e.g. one ADC step)


@dataclass(frozen=True)
class ExpectedFacts:
    """What a reader must report for one file."""

    streams: Mapping[str, ExpectedStream]
    events: Mapping[str, int] = field(default_factory=dict)
    session_start_time: datetime | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReaderCase:
    """One reader on one small self-written file."""

    id: str
    make: Callable[[Path], RigReader]
    expected: ExpectedFacts


def _chunked(values: np.ndarray, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------------------------------- TDT
_TDT_START = datetime(2024, 3, 1, 9, 30, 0, tzinfo=timezone.utc)
_TDT_465 = (np.sin(np.arange(256 * 12) / 50.0) * 0.1 + 1.0).astype(np.float32)
_TDT_EEG = np.stack([np.arange(256 * 6), -np.arange(256 * 6)], axis=1).astype(np.float32) * 1e-6


def _make_tdt(folder: Path) -> RigReader:
    write_tdt_block(
        folder=folder,
        block_name="Contract-240301-093000",
        start_time=_TDT_START,
        streams=[
            TdtStreamSource(code="465A", rate_in_Hz=PHOTOMETRY_RATE_IN_HZ, chunks=_chunked(_TDT_465, 1000)),
            TdtStreamSource(code="EEGw", rate_in_Hz=EEG_RATE_IN_HZ, chunks=_chunked(_TDT_EEG, 333), n_channels=2),
        ],
        epocs=[TdtEpocSource(code="PtC0", onset_times_in_s=[0.5, 1.0, 2.0])],
        show_progress=False,
    )
    return TdtBlockReader(path=folder / "Contract-240301-093000")


def _make_tdt_sev(folder: Path) -> RigReader:
    write_tdt_block(
        folder=folder,
        block_name="ContractSev",
        start_time=_TDT_START,
        streams=[
            TdtStreamSource(
                code="Fi1r",
                rate_in_Hz=PHOTOMETRY_RATE_IN_HZ,
                chunks=_chunked(_TDT_465, 700),
                storage="sev_only",
            )
        ],
        epocs=[TdtEpocSource(code="Pu1/", onset_times_in_s=[0.25, 1.25], offset_times_in_s=[0.5, 1.5])],
        show_progress=False,
    )
    return TdtBlockReader(path=folder / "ContractSev")


# ---------------------------------------------------------------------------------------- EDF
_EDF_START = datetime(2024, 3, 1, 9, 30, 0, 50000)
_EDF_EEG = np.round(np.sin(np.arange(512 * 4) / 20.0) * 100.0, 1)
_EDF_EMG = np.round(np.cos(np.arange(256 * 4) / 7.0) * 30.0, 1)


def _write_contract_edf(folder: Path) -> Path:
    path = folder / "contract.edf"
    write_edf(
        path=path,
        signals=[
            EdfSignalSource(label="EEG EEG1A-B", rate_in_Hz=512, chunks=_chunked(_EDF_EEG, 300)),
            EdfSignalSource(label="EEG EEG2A-B", rate_in_Hz=512, chunks=_chunked(-_EDF_EEG, 700)),
            EdfSignalSource(label="EMG EMG", rate_in_Hz=256, chunks=_chunked(_EDF_EMG, 100)),
        ],
        start_time=_EDF_START,
        ttl_rise_times_in_s=[0.5, 2.0],
        ttl_fall_times_in_s=[0.75, 2.25],
        show_progress=False,
    )
    return path


def _make_edf(folder: Path) -> RigReader:
    return EdfReader(path=_write_contract_edf(folder))


def _make_edf_per_signal(folder: Path) -> RigReader:
    return EdfReader(path=_write_contract_edf(folder), grouping="signal")


_EDF_STEP_IN_UV = 2000.0 / 65535.0  # one 16-bit step over the default +-1000 uV range


CASES: list[ReaderCase] = [
    ReaderCase(
        id="tdt-tev",
        make=_make_tdt,
        expected=ExpectedFacts(
            streams={
                "_465A": ExpectedStream(
                    n_samples=_TDT_465.size,
                    n_channels=1,
                    rate_in_Hz=float(np.float32(PHOTOMETRY_RATE_IN_HZ)),
                    first_samples=_TDT_465[:300, None],
                ),
                "EEGw": ExpectedStream(
                    n_samples=_TDT_EEG.shape[0],
                    n_channels=2,
                    rate_in_Hz=float(np.float32(EEG_RATE_IN_HZ)),
                    first_samples=_TDT_EEG[:300],
                ),
            },
            events={"PtC0": 3},
            session_start_time=_TDT_START,
            aliases={"465A": "_465A", "x465A": "_465A"},
        ),
    ),
    ReaderCase(
        id="tdt-sev-only",
        make=_make_tdt_sev,
        expected=ExpectedFacts(
            streams={
                "Fi1r": ExpectedStream(
                    n_samples=_TDT_465.size,
                    n_channels=1,
                    rate_in_Hz=PHOTOMETRY_RATE_IN_HZ,
                    first_samples=_TDT_465[:300, None],
                )
            },
            events={"Pu1_": 2},
            session_start_time=_TDT_START,
            aliases={"Pu1/": "Pu1_", "xFi1r": "Fi1r"},
        ),
    ),
    ReaderCase(
        id="edf-by-kind",
        make=_make_edf,
        expected=ExpectedFacts(
            streams={
                "EEG": ExpectedStream(
                    n_samples=_EDF_EEG.size,
                    n_channels=2,
                    rate_in_Hz=512.0,
                    first_samples=np.stack([_EDF_EEG, -_EDF_EEG], axis=1)[:300],
                    atol=_EDF_STEP_IN_UV,
                ),
                "EMG": ExpectedStream(
                    n_samples=_EDF_EMG.size,
                    n_channels=1,
                    rate_in_Hz=256.0,
                    first_samples=_EDF_EMG[:300, None],
                    atol=_EDF_STEP_IN_UV,
                ),
            },
            events={"TTL": 2},
            session_start_time=_EDF_START,
        ),
    ),
    ReaderCase(
        id="edf-per-signal",
        make=_make_edf_per_signal,
        expected=ExpectedFacts(
            streams={
                "EEG EEG1A-B": ExpectedStream(
                    n_samples=_EDF_EEG.size,
                    n_channels=1,
                    rate_in_Hz=512.0,
                    first_samples=_EDF_EEG[:100, None],
                    atol=_EDF_STEP_IN_UV,
                ),
                "EEG EEG2A-B": ExpectedStream(
                    n_samples=_EDF_EEG.size,
                    n_channels=1,
                    rate_in_Hz=512.0,
                    first_samples=-_EDF_EEG[:100, None],
                    atol=_EDF_STEP_IN_UV,
                ),
                "EMG EMG": ExpectedStream(n_samples=_EDF_EMG.size, n_channels=1, rate_in_Hz=256.0),
            },
            events={"TTL": 2},
            session_start_time=_EDF_START,
        ),
    ),
]


# ------------------------------------------------------------- Doric / Neurophotometrics / pyPhotometry
_PHOTOMETRY = np.sin(np.arange(2400) / 40.0) * 0.2 + 1.0
_TTL = np.zeros(24_000)
_TTL[[*range(3000, 3600), *range(15_000, 15_010)]] = 1.0
_PPD_START = datetime(2024, 3, 1, 9, 30, 0)
_COUNTS = (np.arange(3000) % 700 + 1000).astype(np.uint16)
_BASELINE = (np.arange(3000) % 13 + 100).astype(np.uint16)
_DIGITAL = (np.arange(3000) // 250) % 2
_VPD = 0.00010122


def _make_doric_v6(folder: Path) -> RigReader:
    path = folder / "contract.doric"
    groups = [
        DoricGroup(path="LockInAOUT01", datasets={"AIN01": _chunked(_PHOTOMETRY, 500)}, rate_in_Hz=120.0),
        DoricGroup(path="AIN02xAOUT02-LockIn", datasets={"Values": -_PHOTOMETRY}, rate_in_Hz=120.0),
        DoricGroup(path="DigitalIO", datasets={"DIO01": _chunked(_TTL, 5000)}, rate_in_Hz=1200.0),
    ]
    write_doric_v6(destination=path, series={"Series0001": groups})
    return DoricFileReader(path=path)


def _make_doric_v1(folder: Path) -> RigReader:
    path = write_doric_v1(
        destination=folder / "old.doric",
        channels={"AIn-1 - Dem (AOut-1)": _PHOTOMETRY, "DI--O-1": _TTL[::10]},
        rate_in_Hz=120.0,
    )
    return DoricFileReader(path=path)


def _make_doric_csv(folder: Path) -> RigReader:
    columns = {"AIn-1 - Dem (AOut-1)": _PHOTOMETRY, "DI/O-1": _TTL[::10]}
    path = write_doric_csv(destination=folder / "export.csv", columns=columns, rate_in_Hz=120.0)
    return DoricCsvReader(path=path)


def _npm_frames() -> NpmFrames:
    return interleave_npm_frames(
        led_signals={470: {"G0": _PHOTOMETRY[:1200]}, 415: {"G0": _PHOTOMETRY[1200:]}},
        frame_rate_in_Hz=40.0,
        start_time_in_s=1000.0,
    )


def _make_npm_current(folder: Path) -> RigReader:
    return NeurophotometricsReader(path=write_npm_current_csv(destination=folder / "fp.csv", frames=_npm_frames()))


def _make_npm_legacy(folder: Path) -> RigReader:
    frames = _npm_frames()
    frames = NpmFrames(
        frame_counter=frames.frame_counter,
        system_timestamps_in_s=frames.system_timestamps_in_s,
        led_states=frames.led_states,
        roi_values={"Region0G": frames.roi_values["G0"]},
    )
    input0 = (np.arange(frames.frame_counter.size) // 300) % 2 == 1
    path = write_npm_legacy_csv(destination=folder / "legacy.csv", frames=frames, input_levels={"Input0": input0})
    return NeurophotometricsReader(path=path)


def _make_ppd_pulsed(folder: Path) -> RigReader:
    path = write_ppd(
        destination=folder / "pulsed.ppd",
        analog_counts=[_chunked(_COUNTS, 1000), _chunked(_COUNTS[::-1].copy(), 1000)],
        baseline_counts=[_BASELINE, _BASELINE],
        digital_levels=[_DIGITAL],
        mode="2EX_2EM_pulsed",
        sampling_rate=100,
        volts_per_division=[_VPD, _VPD],
        date_time=_PPD_START,
    )
    return PyPhotometryReader(path=path)


def _make_ppd_csv(folder: Path) -> RigReader:
    path = write_pyphotometry_csv(
        destination=folder / "export.csv",
        analog_counts=[_COUNTS, _BASELINE],
        digital_levels=[_DIGITAL, 1 - _DIGITAL],
        sampling_rate=100,
        volts_per_division=_VPD,
        date_time=_PPD_START,
    )
    return PyPhotometryCsvReader(path=path)


def _stream(n: int, rate: float, first: np.ndarray | None = None, atol: float = 0.0) -> ExpectedStream:
    return ExpectedStream(n_samples=n, n_channels=1, rate_in_Hz=rate, first_samples=first, atol=atol)


_ON_OFF = (_COUNTS.astype(float) - _BASELINE) * _VPD
CASES.extend(
    [
        ReaderCase(
            id="doric-v6",
            make=_make_doric_v6,
            expected=ExpectedFacts(
                streams={
                    "LockInAOUT01/AIN01": _stream(2400, 120.0, _PHOTOMETRY[:300, None]),
                    "AIN02xAOUT02-LockIn": _stream(2400, 120.0, -_PHOTOMETRY[:300, None]),
                },
                events={"DIO01": 2},
            ),
        ),
        ReaderCase(
            id="doric-v1",
            make=_make_doric_v1,
            expected=ExpectedFacts(
                streams={"AIn-1 - Dem (AOut-1)": _stream(2400, 120.0, _PHOTOMETRY[:300, None])}, events={"DI--O-1": 2}
            ),
        ),
        ReaderCase(
            id="doric-csv",
            make=_make_doric_csv,
            expected=ExpectedFacts(
                streams={"AIn-1 - Dem (AOut-1)": _stream(2400, 120.0, _PHOTOMETRY[:300, None])}, events={"DI/O-1": 2}
            ),
        ),
        ReaderCase(
            id="npm-current",
            make=_make_npm_current,
            expected=ExpectedFacts(
                streams={
                    "G0@470": _stream(1200, 20.0, _PHOTOMETRY[:300, None]),
                    "G0@415": _stream(1200, 20.0, _PHOTOMETRY[1200:1500, None]),
                }
            ),
        ),
        ReaderCase(
            id="npm-legacy",
            make=_make_npm_legacy,
            expected=ExpectedFacts(
                streams={
                    "Region0G@470": _stream(1200, 20.0, _PHOTOMETRY[:300, None]),
                    "Region0G@415": _stream(1200, 20.0, _PHOTOMETRY[1200:1500, None]),
                },
                events={"Input0": 4},
            ),
        ),
        ReaderCase(
            id="ppd-pulsed",
            make=_make_ppd_pulsed,
            expected=ExpectedFacts(
                streams={
                    "analog_1": _stream(3000, 100.0, _ON_OFF[:300, None], atol=1e-12),
                    "analog_1_on": _stream(3000, 100.0, _COUNTS[:300, None] * _VPD, atol=1e-12),
                    "analog_1_off": _stream(3000, 100.0, _BASELINE[:300, None] * _VPD, atol=1e-12),
                    "analog_2": _stream(3000, 100.0),
                    "analog_2_on": _stream(3000, 100.0, _COUNTS[::-1][:300, None] * _VPD, atol=1e-12),
                    "analog_2_off": _stream(3000, 100.0),
                },
                events={"digital_1": 6},
                session_start_time=_PPD_START,
            ),
        ),
        ReaderCase(
            id="ppd-csv",
            make=_make_ppd_csv,
            expected=ExpectedFacts(
                streams={
                    "analog_1": _stream(3000, 100.0, _COUNTS[:300, None] * _VPD, atol=1e-12),
                    "analog_2": _stream(3000, 100.0, _BASELINE[:300, None] * _VPD, atol=1e-12),
                },
                events={"digital_1": 6, "digital_2": 5},  # digital_2 starts high: no onset at 0
                session_start_time=_PPD_START,
            ),
        ),
    ]
)


@pytest.fixture(params=CASES, ids=lambda case: case.id)
def case(request: pytest.FixtureRequest) -> ReaderCase:
    return request.param


@pytest.fixture
def reader(case: ReaderCase, tmp_path: Path) -> RigReader:
    made = case.make(tmp_path)
    yield made
    made.close()


# ---------------------------------------------------------------------------------------- tests
def test_reader_is_a_rig_reader_with_a_format_name(reader: RigReader) -> None:
    assert isinstance(reader, RigReader)
    assert isinstance(reader.format_name, str) and reader.format_name


def test_streams_report_the_expected_facts(reader: RigReader, case: ReaderCase) -> None:
    streams = reader.streams()
    assert set(streams) == set(case.expected.streams)
    for name, expected in case.expected.streams.items():
        info = streams[name]
        assert isinstance(info, StreamInfo)
        assert info.name == name
        assert info.n_samples == expected.n_samples
        assert info.n_channels == expected.n_channels
        assert len(info.channel_names) == info.n_channels
        if expected.rate_in_Hz is None:
            assert info.rate_in_Hz is None and info.timestamps_in_s is not None
        else:
            assert info.rate_in_Hz == pytest.approx(expected.rate_in_Hz, rel=1e-12)
            assert info.timestamps_in_s is None


def test_chunks_are_2d_float_bounded_and_cover_the_stream(reader: RigReader, case: ReaderCase) -> None:
    for name, expected in case.expected.streams.items():
        chunks = list(reader.iter_stream_chunks(stream_name=name, chunk_samples=977))
        assert chunks, name
        for chunk in chunks:
            assert chunk.ndim == 2 and chunk.shape[1] == expected.n_channels
            assert 0 < chunk.shape[0] <= 977
            assert np.issubdtype(chunk.dtype, np.floating)
        assert sum(c.shape[0] for c in chunks) == expected.n_samples


def test_chunking_does_not_change_the_samples(reader: RigReader, case: ReaderCase) -> None:
    for name in case.expected.streams:
        whole = reader.read_stream(stream_name=name)
        small = np.concatenate(list(reader.iter_stream_chunks(stream_name=name, chunk_samples=61)))
        np.testing.assert_array_equal(small, whole)


def test_streams_start_with_the_written_samples(reader: RigReader, case: ReaderCase) -> None:
    checked = 0
    for name, expected in case.expected.streams.items():
        if expected.first_samples is None:
            continue
        first = next(reader.iter_stream_chunks(stream_name=name, chunk_samples=len(expected.first_samples)))
        np.testing.assert_allclose(first, expected.first_samples, rtol=0, atol=expected.atol)
        checked += 1
    if not any(e.first_samples is not None for e in case.expected.streams.values()):
        pytest.skip(f"case {case.id} states no first samples")
    assert checked


def test_unknown_stream_name_is_a_clear_input_file_error(reader: RigReader) -> None:
    with pytest.raises(InputFileError) as caught:
        next(reader.iter_stream_chunks(stream_name="no such stream"))
    message = str(caught.value)
    assert "no such stream" in message
    assert str(reader.path) in message
    assert any(name in message for name in reader.streams())


def test_events_report_the_expected_channels(reader: RigReader, case: ReaderCase) -> None:
    events = reader.events()
    assert set(case.expected.events) <= set(events)
    for name, channel in events.items():
        assert isinstance(channel, EventChannel)
        assert channel.name == name
        assert channel.values.shape == channel.onset_times_in_s.shape
        assert np.all(np.diff(channel.onset_times_in_s) >= 0)
        if channel.offset_times_in_s is not None:
            assert channel.offset_times_in_s.shape == channel.onset_times_in_s.shape
            known = ~np.isnan(channel.offset_times_in_s)
            assert np.all(channel.offset_times_in_s[known] >= channel.onset_times_in_s[known])
        if channel.labels:
            assert len(channel.labels) == channel.onset_times_in_s.size
    for name, n_onsets in case.expected.events.items():
        assert events[name].onset_times_in_s.size == n_onsets


def test_session_start_time(reader: RigReader, case: ReaderCase) -> None:
    start = reader.session_start_time
    if case.expected.session_start_time is None:
        assert start is None or isinstance(start, datetime)
    else:
        assert start == case.expected.session_start_time


def test_notes_are_texts_after_everything_was_read(reader: RigReader) -> None:
    assert reader.notes == [] or all(isinstance(note, str) and note for note in reader.notes)
    for name in reader.streams():
        for _ in reader.iter_stream_chunks(stream_name=name, chunk_samples=5000):
            pass
    reader.events()
    assert isinstance(reader.notes, list)
    assert all(isinstance(note, str) and note for note in reader.notes)


def test_close_is_idempotent_and_ends_a_with_block(reader: RigReader) -> None:
    with reader as same:
        assert same is reader
    reader.close()
    reader.close()


def test_streams_resolve_by_name_channel_name_and_alias(reader: RigReader, case: ReaderCase) -> None:
    streams = reader.streams()
    for name, info in streams.items():
        assert reader.resolve_stream(stream=name, field_path="photometry.channels[0].stream") == (info, 0)
        last = info.n_channels - 1
        assert reader.resolve_stream(stream=name, stream_channel=last, field_path="x.stream") == (info, last)
        with pytest.raises(InputFileError) as caught:
            reader.resolve_stream(stream=name, stream_channel=info.n_channels, field_path="x.channels[3].stream")
        assert "x.channels[3].stream_channel" in caught.value.field and str(info.n_channels) in caught.value.expected
    counts: dict[str, int] = {}
    for info in streams.values():
        for channel_name in info.channel_names:
            counts[channel_name] = counts.get(channel_name, 0) + 1
    for info in streams.values():
        for column, channel_name in enumerate(info.channel_names):
            if channel_name in streams or counts[channel_name] > 1:
                continue
            assert reader.resolve_stream(stream=channel_name, field_path="x.stream") == (info, column)
            with pytest.raises(InputFileError, match="no stream_channel"):
                reader.resolve_stream(stream=channel_name, stream_channel=1, field_path="x.stream")
    for alias, name in case.expected.aliases.items():
        assert reader.canonical_name(name=alias, kind="stream" if name in streams else "event") == name
        if name in streams:
            assert reader.resolve_stream(stream=alias, field_path="x.stream")[0].name == name
        else:
            assert reader.resolve_event_channel(name=alias, field_path="x.events[0]").name == name


def test_unknown_stream_or_event_channel_names_the_session_field(reader: RigReader) -> None:
    with pytest.raises(InputFileError) as caught:
        reader.resolve_stream(stream="no such stream", field_path="photometry.channels[2].stream")
    error = caught.value
    assert error.path == reader.path and error.found == "no such stream"
    assert "photometry.channels[2].stream" in error.field and reader.format_name in error.expected
    assert all(repr(name) in error.expected for name in reader.streams())
    with pytest.raises(InputFileError) as caught:
        reader.resolve_event_channel(name="no such channel", field_path="photometry.events[1]")
    error = caught.value
    assert error.found == "no such event channel" and "photometry.events[1]" in error.field
    assert all(repr(name) in error.expected for name in reader.events())


def test_events_resolve_by_name(reader: RigReader, case: ReaderCase) -> None:
    events = reader.events()
    for name in case.expected.events:
        assert reader.resolve_event_channel(name=name, field_path="x.events[0]") is events[name]


# ---------------------------------------------------------------------------------------- registry
def test_registry_picks_this_class_for_this_file(reader: RigReader) -> None:
    assert reader.format in rig_formats()
    assert set(reader.modalities) <= {"photometry", "electrophysiology"} and reader.modalities
    assert rig_reader_class(format=reader.format, path=reader.path) is type(reader)


def test_registry_opens_the_same_reader_from_format_and_path(reader: RigReader) -> None:
    unset = {"digital_input_paths": [], "led_order": None, "series": None}
    with open_rig_reader(format=reader.format, path=reader.path, options=unset) as opened:
        assert type(opened) is type(reader)
        channels = sorted(name for info in reader.streams().values() for name in info.channel_names)
        assert sorted(name for info in opened.streams().values() for name in info.channel_names) == channels
        assert set(opened.events()) == set(reader.events())


def test_every_registered_reader_has_a_contract_case(tmp_path: Path) -> None:
    covered = set()
    for index, each in enumerate(CASES):
        folder = tmp_path / str(index)
        folder.mkdir()
        with each.make(folder) as made:
            covered.add(type(made))
    assert covered == set(RIG_READERS)


def test_registry_formats_are_the_session_models_formats() -> None:
    assert set(rig_formats(modality="photometry")) == set(PHOTOMETRY_FORMATS)
    assert set(rig_formats(modality="electrophysiology")) == set(ELECTROPHYSIOLOGY_FORMATS)
    assert set(rig_formats()) == set(PHOTOMETRY_FORMATS) | set(ELECTROPHYSIOLOGY_FORMATS)
    assert set(hypnogram_formats()) == set(HYPNOGRAM_FORMATS)
    assert len(hypnogram_formats()) == len(HYPNOGRAM_READERS)


@pytest.mark.parametrize("reader_class", [*RIG_READERS, *HYPNOGRAM_READERS], ids=lambda cls: cls.__name__)
def test_declared_options_are_keyword_arguments(reader_class: type) -> None:
    parameters = inspect.signature(reader_class).parameters
    assert "path" in parameters and reader_class.format and reader_class.format_name
    for name in reader_class.options:
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY


def test_csv_exports_are_read_by_their_own_class() -> None:
    assert rig_reader_class(format="doric", path=Path("a.CSV")) is DoricCsvReader
    assert rig_reader_class(format="doric", path=Path("a.doric")) is DoricFileReader
    assert rig_reader_class(format="ppd", path=Path("a.csv")) is PyPhotometryCsvReader
    assert rig_reader_class(format="ppd", path=Path("a.ppd")) is PyPhotometryReader
    assert rig_reader_class(format="npm", path=Path("a.csv")) is NeurophotometricsReader
    assert rig_reader_class(format="tdt", path=Path("Block-240301.1")) is TdtBlockReader


def test_unknown_format_and_options_a_reader_does_not_take(tmp_path: Path) -> None:
    with pytest.raises(GlymphError, match=r"format: expected one of tdt, doric, npm, ppd, edf, got 'abf'"):
        open_rig_reader(format="abf", path=tmp_path / "x.abf")
    (tmp_path / "doric").mkdir()
    (tmp_path / "ppd").mkdir()
    csv_export = _make_doric_csv(tmp_path / "doric").path
    with pytest.raises(GlymphError, match=r"series: not used by format 'doric' \(Doric .* CSV export\)"):
        open_rig_reader(format="doric", path=csv_export, options={"series": "Series0001"})
    with pytest.raises(GlymphError, match="led_order: not used by format 'ppd'"):
        open_rig_reader(format="ppd", path=_make_ppd_csv(tmp_path / "ppd").path, options={"led_order": [470, 415]})


def test_options_reach_the_reader(tmp_path: Path) -> None:
    path = _make_doric_v6(tmp_path).path
    reader = open_rig_reader(format="doric", path=path, options={"series": "Series0001", "led_order": None})
    assert isinstance(reader, DoricFileReader) and reader.series == "Series0001"
    with pytest.raises(InputFileError, match="Series0002"):
        open_rig_reader(format="doric", path=path, options={"series": "Series0002"})


def test_describe_reports_every_stream_and_event_channel(reader: RigReader, case: ReaderCase) -> None:
    description = reader.describe()
    assert description.format == reader.format
    assert description.format_name == reader.format_name
    assert description.session_start_time == reader.session_start_time
    by_name = {stream.name: stream for stream in description.streams}
    assert set(by_name) == set(case.expected.streams)
    for name, expected in case.expected.streams.items():
        stream = by_name[name]
        assert (stream.n_samples, stream.n_channels) == (expected.n_samples, expected.n_channels)
        if expected.rate_in_Hz is None:
            assert stream.rate_in_Hz is None and stream.mean_rate_in_Hz is not None and stream.mean_rate_in_Hz > 0
        else:
            assert stream.rate_in_Hz == pytest.approx(expected.rate_in_Hz)
        assert stream.unit == reader.streams()[name].unit
    assert description.duration_in_s == pytest.approx(
        max(info.starting_time_in_s + info.duration_in_s for info in reader.streams().values())
    )
    events = {event.name: event for event in description.events}
    assert {name: event.count for name, event in events.items()} == dict(case.expected.events)
    for name, event in events.items():
        onsets = reader.events()[name].onset_times_in_s
        if len(onsets):
            assert (event.first_time_in_s, event.last_time_in_s) == (min(onsets), max(onsets))
    assert description.to_dict()["format"] == reader.format
