"""The shared contract suite: every rig-file reader must pass these tests.

Each case writes its own small file with the project's synthetic writers (so the suite needs no
fixture data) and states the facts a correct reader must report. To add a reader:

1. write a ``_make_<format>(folder: Path) -> RigReader`` that writes a small file into ``folder``
   and returns a reader on it;
2. append ``ReaderCase(id=..., make=_make_<format>, expected=ExpectedFacts(...))`` to ``CASES``.

``ExpectedFacts.streams`` maps stream names to ``ExpectedStream`` (samples, channels, rate and,
optionally, the first samples of the stream); ``ExpectedFacts.events`` maps event channel names
to their number of onsets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from ndx_glymphatic.converters._contract import EventChannel, RigReader, StreamInfo
from ndx_glymphatic.converters.edf import EdfReader
from ndx_glymphatic.converters.edf_writer import EdfSignalSource, write_edf
from ndx_glymphatic.converters.tdt import TdtBlockReader
from ndx_glymphatic.converters.tdt_writer import (
    EEG_RATE_IN_HZ,
    PHOTOMETRY_RATE_IN_HZ,
    TdtEpocSource,
    TdtStreamSource,
    write_tdt_block,
)
from ndx_glymphatic.errors import InputFileError


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


@pytest.fixture(params=CASES, ids=lambda case: case.id)
def case(request: pytest.FixtureRequest) -> ReaderCase:
    return request.param


@pytest.fixture
def reader(case: ReaderCase, tmp_path: Path) -> RigReader:
    made = case.make(tmp_path)
    yield made
    close = getattr(made, "close", None)
    if callable(close):
        close()


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
