"""TDT block reader and writer, with the official ``tdt`` package as the oracle."""

from __future__ import annotations

import shutil
import tracemalloc
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import tdt
from tdt.TDTbin2py import time2sample

from ndx_glymphatic.converters.tdt import (
    TSQ_RECORD_DTYPE,
    TdtBlockReader,
    round_to_tdt_ticks,
    tdt_python_name,
)
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation.rig_files.tdt import (
    EEG_RATE_IN_HZ,
    PHOTOMETRY_RATE_IN_HZ,
    TdtEpocSource,
    TdtStreamSource,
    sev_rate_code,
    write_tdt_block,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
PMAT = REAL / "tdt" / "pMAT_Photometry-161823"
START = datetime(2024, 5, 6, 22, 15, 30, 250000, tzinfo=timezone.utc)
DURATION_IN_S = 95.0


def _chunks(values: np.ndarray, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _read_block_quietly(path: Path, **kwargs) -> tdt.StructType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tdt.read_block(str(path), **kwargs)


class Simulated:
    """Ground truth of the simulated block."""

    rng = np.random.default_rng(20240506)
    n_photometry = int(DURATION_IN_S * PHOTOMETRY_RATE_IN_HZ)
    n_eeg = int(DURATION_IN_S * EEG_RATE_IN_HZ)
    time = np.arange(n_photometry) / PHOTOMETRY_RATE_IN_HZ
    ne_465 = (1.2 + 0.05 * np.sin(2 * np.pi * 0.02 * time) + rng.normal(0, 0.01, n_photometry)).astype(np.float32)
    iso_405 = (0.8 + rng.normal(0, 0.005, n_photometry)).astype(np.float32)
    red_560 = np.sin(2 * np.pi * 0.5 * time).astype(np.float32)
    eeg = rng.normal(0, 50e-6, (n_eeg, 2)).astype(np.float32)
    emg = np.round(rng.normal(0, 300, n_eeg)).astype(np.int16)
    raw = rng.normal(0, 1, (n_photometry, 2)).astype(np.float32)
    ttl_onsets = np.sort(rng.uniform(0.5, DURATION_IN_S - 1, 40))
    opto_onsets = np.arange(5.0, 90.0, 10.0)
    opto_offsets = opto_onsets + 2.5


@pytest.fixture(scope="module")
def block(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tank = tmp_path_factory.mktemp("tank")
    s = Simulated
    summary = write_tdt_block(
        folder=tank,
        block_name="Mouse7-240506-221530",
        start_time=START,
        streams=[
            TdtStreamSource(code="465A", rate_in_Hz=PHOTOMETRY_RATE_IN_HZ, chunks=_chunks(s.ne_465, 10_000)),
            TdtStreamSource(code="405A", rate_in_Hz=PHOTOMETRY_RATE_IN_HZ, chunks=_chunks(s.iso_405, 7_777)),
            TdtStreamSource(code="560B", rate_in_Hz=PHOTOMETRY_RATE_IN_HZ, chunks=_chunks(s.red_560, 33_333)),
            TdtStreamSource(code="EEGw", rate_in_Hz=EEG_RATE_IN_HZ, chunks=_chunks(s.eeg, 5_000), n_channels=2),
            TdtStreamSource(code="EMG1", rate_in_Hz=EEG_RATE_IN_HZ, chunks=_chunks(s.emg, 4_000), data_format="int16"),
            TdtStreamSource(
                code="Fi1r",
                rate_in_Hz=PHOTOMETRY_RATE_IN_HZ,
                chunks=_chunks(s.raw, 9_000),
                n_channels=2,
                storage="sev",
            ),
            TdtStreamSource(
                code="Wav1", rate_in_Hz=EEG_RATE_IN_HZ, chunks=_chunks(s.eeg[:, 0], 3_000), storage="sev_only"
            ),
        ],
        epocs=[
            TdtEpocSource(code="PtC0", onset_times_in_s=s.ttl_onsets, values=np.arange(1, 41)),
            TdtEpocSource(code="Pu1/", onset_times_in_s=s.opto_onsets, offset_times_in_s=s.opto_offsets),
        ],
        write_interval_in_s=20.0,
        show_progress=False,
    )
    assert summary.samples_dropped["465A"] == s.n_photometry % 256
    assert summary.samples_written["465A"] == s.n_photometry // 256 * 256
    return summary.block_folder


@pytest.fixture(scope="module")
def oracle(block: Path) -> tdt.StructType:
    return _read_block_quietly(block)


# ------------------------------------------------------------------------------ oracle equality
STREAMS_VS_TDT = ["_465A", "_405A", "_560B", "EEGw", "EMG1"]


@pytest.mark.parametrize("name", STREAMS_VS_TDT)
def test_tev_streams_equal_the_official_reader(block: Path, oracle: tdt.StructType, name: str) -> None:
    reader = TdtBlockReader(path=block)
    ours = reader.read_stream(stream_name=name)
    theirs = np.atleast_2d(oracle.streams[name].data)
    assert ours.shape == theirs.T.shape
    np.testing.assert_array_equal(ours, theirs.T)
    assert reader.streams()[name].rate_in_Hz == oracle.streams[name].fs
    assert reader.streams()[name].starting_time_in_s == oracle.streams[name].start_time == 0.0


@pytest.mark.parametrize("name", ["Fi1r", "Wav1"])
def test_sev_streams_equal_the_official_reader(block: Path, oracle: tdt.StructType, name: str) -> None:
    reader = TdtBlockReader(path=block)
    ours = reader.read_stream(stream_name=name)
    theirs = np.atleast_2d(oracle.streams[name].data)
    # tdt.read_sev allocates one sample more than the files hold and leaves it 0.
    assert theirs.shape[1] == ours.shape[0] + 1
    np.testing.assert_array_equal(theirs[:, -1], 0)
    np.testing.assert_array_equal(ours, theirs[:, :-1].T)
    assert reader.streams()[name].rate_in_Hz == oracle.streams[name].fs


def test_streams_equal_the_simulated_ground_truth(block: Path) -> None:
    s = Simulated
    reader = TdtBlockReader(path=block)
    n = s.n_photometry // 256 * 256
    np.testing.assert_array_equal(reader.read_stream(stream_name="465A")[:, 0], s.ne_465[:n])
    np.testing.assert_array_equal(reader.read_stream(stream_name="Fi1r"), s.raw[:n])
    n_eeg = s.n_eeg // 256 * 256
    np.testing.assert_array_equal(reader.read_stream(stream_name="EEGw"), s.eeg[:n_eeg])
    emg = reader.read_stream(stream_name="EMG1")
    assert emg.dtype == np.float64  # integer stores come back as float64 counts
    np.testing.assert_array_equal(emg[:, 0], s.emg[:n_eeg])


def test_epocs_equal_the_official_reader_and_the_ground_truth(block: Path, oracle: tdt.StructType) -> None:
    reader = TdtBlockReader(path=block)
    events = reader.events()
    assert set(events) == set(oracle.epocs.keys()) == {"PtC0", "Pu1_"}
    for name in events:
        np.testing.assert_array_equal(events[name].onset_times_in_s, oracle.epocs[name].onset)
        np.testing.assert_array_equal(events[name].offset_times_in_s, oracle.epocs[name].offset)
        np.testing.assert_array_equal(events[name].values, oracle.epocs[name].data)
    tick = 1 / 195312.5
    np.testing.assert_allclose(events["PtC0"].onset_times_in_s, Simulated.ttl_onsets, atol=tick)
    np.testing.assert_array_equal(events["PtC0"].values, np.arange(1, 41))
    # No strobe-off store: the offset is the next onset, the last one inf.
    np.testing.assert_array_equal(events["PtC0"].offset_times_in_s[:-1], events["PtC0"].onset_times_in_s[1:])
    assert events["PtC0"].offset_times_in_s[-1] == np.inf
    np.testing.assert_allclose(events["Pu1_"].offset_times_in_s, Simulated.opto_offsets, atol=tick)


def test_start_time_and_duration_equal_the_official_reader(block: Path, oracle: tdt.StructType) -> None:
    reader = TdtBlockReader(path=block)
    assert reader.session_start_time == START
    assert reader.session_start_time.timestamp() == oracle.info.start_date.timestamp()
    assert reader.duration_in_s == pytest.approx(oracle.info.duration.total_seconds(), abs=1e-6)
    assert reader.duration_in_s == pytest.approx(Simulated.n_photometry // 256 * 256 / PHOTOMETRY_RATE_IN_HZ)


def test_store_names_accept_code_python_and_matlab_spellings(block: Path) -> None:
    reader = TdtBlockReader(path=block)
    assert set(reader.streams()) == {"_465A", "_405A", "_560B", "EEGw", "EMG1", "Fi1r", "Wav1"}
    first = reader.read_samples(stream_name="_465A", start_sample=0, stop_sample=10)
    for spelling in ("465A", "x465A"):
        np.testing.assert_array_equal(reader.read_samples(stream_name=spelling, start_sample=0, stop_sample=10), first)
    infos = reader.store_infos()
    assert infos["465A"].name == "_465A" and infos["465A"].kind == "stream"
    assert infos["Pu1/"].name == infos["Pu1\\"].name == "Pu1_"
    assert infos["Fi1r"].storage == "sev" and infos["465A"].storage == "tev"
    assert reader.streams()["EEGw"].n_channels == 2
    assert reader.streams()["EEGw"].channel_names == ("EEGw_ch1", "EEGw_ch2")
    assert [tdt_python_name(c) for c in ("465A", "PC0/", "EEGw")] == ["_465A", "PC0_", "EEGw"]


@pytest.mark.parametrize(("start", "stop"), [(0, 1), (255, 257), (1000, 5000), (96_000, 200_000), (5, 5)])
def test_sample_ranges_read_only_the_covering_packets_and_match_slices(block: Path, start: int, stop: int) -> None:
    reader = TdtBlockReader(path=block)
    whole = reader.read_stream(stream_name="EEGw")
    part = reader.read_samples(stream_name="EEGw", start_sample=start, stop_sample=stop)
    np.testing.assert_array_equal(part, whole[start:stop])


@pytest.mark.parametrize("data_format", ["int16", "int32", "float64", "int8"])
def test_data_formats_equal_the_official_reader(tmp_path: Path, data_format: str) -> None:
    values = (np.arange(4096) % 100 - 50).astype(data_format)
    write_tdt_block(
        folder=tmp_path,
        block_name="Formats",
        start_time=START,
        streams=[TdtStreamSource(code="Dat1", rate_in_Hz=EEG_RATE_IN_HZ, chunks=[values], data_format=data_format)],
        show_progress=False,
    )
    reader = TdtBlockReader(path=tmp_path / "Formats")
    theirs = _read_block_quietly(tmp_path / "Formats").streams.Dat1.data
    assert theirs.dtype == np.dtype(data_format)
    np.testing.assert_array_equal(reader.read_stream(stream_name="Dat1")[:, 0], theirs)
    assert reader.store_infos()["Dat1"].data_format == np.dtype(data_format)


def test_sev_store_whose_code_starts_with_a_digit(tmp_path: Path) -> None:
    # tdt.read_block fails on these (it looks the .sev store up by its code, not its Python name).
    values = np.stack([np.arange(3000), -np.arange(3000)], axis=1).astype(np.float32)
    write_tdt_block(
        folder=tmp_path,
        block_name="DigitSev",
        start_time=START,
        streams=[
            TdtStreamSource(code="560B", rate_in_Hz=PHOTOMETRY_RATE_IN_HZ, chunks=[values], n_channels=2, storage="sev")
        ],
        show_progress=False,
    )
    reader = TdtBlockReader(path=tmp_path / "DigitSev")
    data = reader.read_stream(stream_name="560B")
    assert data.flags.c_contiguous
    np.testing.assert_array_equal(data, values[: 3000 // 256 * 256])  # the writer writes whole packets
    assert reader.streams()["_560B"].rate_in_Hz == pytest.approx(PHOTOMETRY_RATE_IN_HZ, rel=1e-12)


def test_icon_epocs_with_values_3_and_4_become_onsets_and_offsets(tmp_path: Path) -> None:
    times = np.array([1.0, 1.5, 3.0, 3.25, 7.0, 7.75])
    write_tdt_block(
        folder=tmp_path,
        block_name="ICon",
        start_time=START,
        streams=[],
        epocs=[TdtEpocSource(code="Cam1", onset_times_in_s=times, values=[3, 4, 3, 4, 3, 4])],
        show_progress=False,
    )
    channel = TdtBlockReader(path=tmp_path / "ICon").events()["Cam1"]
    oracle = _read_block_quietly(tmp_path / "ICon").epocs.Cam1
    np.testing.assert_array_equal(channel.onset_times_in_s, oracle.onset)
    np.testing.assert_array_equal(channel.offset_times_in_s, oracle.offset)
    np.testing.assert_allclose(channel.onset_times_in_s, times[::2], atol=1e-5)
    np.testing.assert_array_equal(channel.values, [1, 1, 1])


def test_chunked_reading_does_not_allocate_the_whole_store(tmp_path: Path) -> None:
    # 4 channels x 5 min at 6103.5 Hz float32: 29 MB of samples.
    rate = 24414.0625 / 4
    n = int(300 * rate)
    chunk = np.ones((100_000, 4), dtype=np.float32)

    def source():
        for start in range(0, n, chunk.shape[0]):
            yield chunk[: min(chunk.shape[0], n - start)] * (start // chunk.shape[0])

    write_tdt_block(
        folder=tmp_path,
        block_name="Big",
        start_time=START,
        streams=[TdtStreamSource(code="Fi1r", rate_in_Hz=rate, chunks=source(), n_channels=4)],
        samples_per_packet=512,
        show_progress=False,
    )
    reader = TdtBlockReader(path=tmp_path / "Big")
    store_bytes = reader.streams()["Fi1r"].n_samples * 4 * 4
    assert store_bytes > 25e6
    tracemalloc.start()
    try:
        total = 0
        checksum = 0.0
        for part in reader.iter_stream_chunks(stream_name="Fi1r", chunk_samples=20_000):
            total += part.shape[0]
            checksum += float(part[:, 3].sum(dtype=np.float64))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == reader.streams()["Fi1r"].n_samples
    expected = sum(min(100_000, total - s) * (s // 100_000) for s in range(0, total, 100_000))
    assert checksum > 0
    assert checksum == expected
    assert peak < store_bytes / 10, f"peak {peak / 1e6:.1f} MB for a {store_bytes / 1e6:.1f} MB store"


def test_rounding_matches_the_official_tick_grid() -> None:
    times = np.array([0.0, 1.5, 12.345678901, 3600.0000031])
    expected = [time2sample(t, to_time=True) for t in times]
    np.testing.assert_array_equal(round_to_tdt_ticks(times_in_s=times), np.ravel(expected))


def test_sev_rate_codes_reproduce_tdt_rates() -> None:
    for rate in (PHOTOMETRY_RATE_IN_HZ, EEG_RATE_IN_HZ, 24414.0625 / 4, 24414.0625 / 80):
        rate_code, decimate = sev_rate_code(rate_in_Hz=rate)
        assert 2.0 ** (rate_code - 12) * 25e6 / decimate == pytest.approx(rate, rel=1e-12)
    with pytest.raises(ValueError, match="cannot be written"):
        sev_rate_code(rate_in_Hz=1000.0)


# -------------------------------------------------------------------------------- real pMAT block
@pytest.fixture(scope="module")
def pmat() -> Path:
    if not PMAT.is_dir():
        pytest.skip(f"real TDT block not available at {PMAT}")
    return PMAT


def test_real_pmat_headers(pmat: Path) -> None:
    reader = TdtBlockReader(path=pmat)
    infos = reader.store_infos()
    assert set(infos) == {"405R", "490R", "DelF", "Fi1r", "Fi1i", "PAB/", "Vid1", "Tick"}
    streams = reader.streams()
    assert set(streams) == {"_405R", "_490R", "DelF", "Fi1r"}
    for name in ("_405R", "_490R", "DelF"):
        assert streams[name].rate_in_Hz == pytest.approx(1017.25, abs=0.01)
    assert streams["Fi1r"].rate_in_Hz == pytest.approx(6103.5, abs=0.02)
    assert streams["Fi1r"].n_channels == 4
    assert infos["Fi1i"].kind == "scalar"
    assert reader.duration_in_s == pytest.approx(660.84, abs=0.005)
    assert reader.session_start_time.tzinfo is timezone.utc
    assert reader.session_start_time.timestamp() == pytest.approx(1486502303.999999, abs=1e-5)
    assert reader.notes == []  # packets contiguous, stop marker present


def test_real_pmat_epocs_equal_the_official_reader_on_a_copy_with_an_empty_tev(pmat: Path, tmp_path: Path) -> None:
    copy = tmp_path / pmat.name
    shutil.copytree(pmat, copy)
    for path in copy.iterdir():
        path.chmod(0o644)
    (copy / "99761-170207-161634_Photometry-161823.tev").touch()
    oracle = _read_block_quietly(copy, evtype=["epocs", "scalars"])
    events = TdtBlockReader(path=pmat).events()
    counts = {name: channel.onset_times_in_s.size for name, channel in events.items()}
    assert counts == {"PAB_": 30, "Vid1": 9933, "Tick": 661}
    for name, channel in events.items():
        np.testing.assert_array_equal(channel.onset_times_in_s, oracle.epocs[name].onset)
        np.testing.assert_array_equal(channel.offset_times_in_s, oracle.epocs[name].offset)
        np.testing.assert_array_equal(channel.values, oracle.epocs[name].data)
    times, values = TdtBlockReader(path=pmat).scalar_values(store_name="Fi1i")
    np.testing.assert_array_equal(values, oracle.scalars.Fi1i.data.T)
    np.testing.assert_array_equal(times, oracle.scalars.Fi1i.ts)


def test_real_pmat_stream_data_without_tev_is_a_clear_error(pmat: Path) -> None:
    reader = TdtBlockReader(path=pmat)
    with pytest.raises(InputFileError) as caught:
        next(reader.iter_stream_chunks(stream_name="405R"))
    message = str(caught.value)
    assert "99761-170207-161634_Photometry-161823.tev" in message
    assert "stream data of store 405R" in message
    assert "expected the .tev data file" in message and "found no such file" in message
    assert reader.events()["Tick"].onset_times_in_s.size == 661  # epocs still readable


# ------------------------------------------------------------------------------------ bad inputs
def _small_block(folder: Path, *, name: str = "Bad") -> Path:
    return write_tdt_block(
        folder=folder,
        block_name=name,
        start_time=START,
        streams=[TdtStreamSource(code="465A", rate_in_Hz=PHOTOMETRY_RATE_IN_HZ, chunks=[np.ones(2048, np.float32)])],
        epocs=[TdtEpocSource(code="PtC0", onset_times_in_s=[0.5])],
        show_progress=False,
    ).block_folder


def test_missing_tsq_names_the_folder_and_its_files(tmp_path: Path) -> None:
    block = _small_block(tmp_path)
    next(block.glob("*.tsq")).unlink()
    with pytest.raises(InputFileError) as caught:
        TdtBlockReader(path=block)
    message = str(caught.value)
    assert str(block) in message and ".tsq index file" in message
    assert "expected exactly one <tank>_<block>.tsq file" in message
    assert "found none" in message and "Bad.tev" in message


def test_truncated_tsq_names_size_and_leftover_bytes(tmp_path: Path) -> None:
    block = _small_block(tmp_path)
    tsq = next(block.glob("*.tsq"))
    size = tsq.stat().st_size
    with open(tsq, "r+b") as handle:
        handle.truncate(size - 13)
    with pytest.raises(InputFileError) as caught:
        TdtBlockReader(path=block)
    message = str(caught.value)
    assert tsq.name in message and "file size" in message
    assert "expected a multiple of 40 bytes" in message
    assert f"found {size - 13} bytes (27 bytes past the last whole record" in message


def test_missing_tev_keeps_headers_and_epocs_but_refuses_stream_data(tmp_path: Path) -> None:
    block = _small_block(tmp_path)
    tev = next(block.glob("*.tev"))
    tev.unlink()
    reader = TdtBlockReader(path=block)
    assert reader.streams()["_465A"].n_samples == 2048
    assert reader.events()["PtC0"].onset_times_in_s.size == 1
    with pytest.raises(InputFileError) as caught:
        reader.read_stream(stream_name="465A")
    message = str(caught.value)
    assert str(tev) in message and "stream data of store 465A (_465A)" in message
    assert "found no such file" in message


def test_tev_shorter_than_the_index_says(tmp_path: Path) -> None:
    block = _small_block(tmp_path)
    tev = next(block.glob("*.tev"))
    full = tev.stat().st_size
    with open(tev, "r+b") as handle:
        handle.truncate(full - 100)
    reader = TdtBlockReader(path=block)
    with pytest.raises(InputFileError) as caught:
        next(reader.iter_stream_chunks(stream_name="_465A"))
    message = str(caught.value)
    assert tev.name in message and "store 465A (_465A) packets" in message
    assert f"expected a .tev of at least {full} bytes" in message
    assert f"found {full - 100} bytes (the .tev is truncated)" in message


def test_unknown_store_lists_the_stores_present(tmp_path: Path) -> None:
    reader = TdtBlockReader(path=_small_block(tmp_path))
    with pytest.raises(InputFileError) as caught:
        reader.read_samples(stream_name="560B", start_sample=0, stop_sample=10)
    message = str(caught.value)
    assert "store name" in message and "found '560B'" in message
    assert "465A (_465A)" in message


def test_mismatched_rates_within_a_store(tmp_path: Path) -> None:
    block = _small_block(tmp_path)
    tsq = next(block.glob("*.tsq"))
    records = np.fromfile(tsq, dtype=TSQ_RECORD_DTYPE)
    stream_rows = np.flatnonzero(records["type"] == 0x8101)
    records["frequency"][stream_rows[-1]] = 1000.0
    records.tofile(tsq)
    with pytest.raises(InputFileError) as caught:
        TdtBlockReader(path=block)
    message = str(caught.value)
    assert tsq.name in message and "store 465A sampling rate" in message
    assert "expected one rate for every record of the store" in message
    assert "found 2 rates: 1000, 1017.25 Hz" in message


def test_missing_start_marker(tmp_path: Path) -> None:
    block = _small_block(tmp_path)
    tsq = next(block.glob("*.tsq"))
    records = np.fromfile(tsq, dtype=TSQ_RECORD_DTYPE)
    records["code"][1] = 7
    records.tofile(tsq)
    with pytest.raises(InputFileError) as caught:
        TdtBlockReader(path=block)
    assert "record 1 (block start marker): expected code 1, found code 7" in str(caught.value)


def test_missing_sev_files_of_a_unique_channel_store(tmp_path: Path) -> None:
    block = write_tdt_block(
        folder=tmp_path,
        block_name="NoSev",
        start_time=START,
        streams=[
            TdtStreamSource(
                code="Fi1r", rate_in_Hz=PHOTOMETRY_RATE_IN_HZ, chunks=[np.ones(1024, np.float32)], storage="sev"
            )
        ],
        show_progress=False,
    ).block_folder
    next(block.glob("*.sev")).unlink()
    reader = TdtBlockReader(path=block)
    with pytest.raises(InputFileError) as caught:
        reader.read_stream(stream_name="Fi1r")
    message = str(caught.value)
    assert "stream data of store Fi1r" in message
    assert "expected *_Fi1r_Ch<n>.sev files for channels [1]" in message
    assert "found no .sev file for channels [1]" in message


def test_a_gap_between_packets_is_noted(tmp_path: Path) -> None:
    block = _small_block(tmp_path)
    tsq = next(block.glob("*.tsq"))
    records = np.fromfile(tsq, dtype=TSQ_RECORD_DTYPE)
    stream_rows = np.flatnonzero(records["type"] == 0x8101)
    records["timestamp"][stream_rows[-1]] += 0.5
    records.tofile(tsq)
    reader = TdtBlockReader(path=block)
    assert reader.streams()["_465A"].n_samples == 2048
    assert len(reader.notes) == 1
    assert "store 465A has 1 packet(s) not following the previous one" in reader.notes[0]


def test_writer_refuses_to_overwrite_and_leaves_no_partial_files(tmp_path: Path) -> None:
    block = _small_block(tmp_path)
    before = sorted(p.name for p in block.iterdir())
    with pytest.raises(InputFileError, match="existing file"):
        _small_block(tmp_path)

    def failing():
        yield np.ones(4096, np.float32)
        raise RuntimeError("simulator failed")

    with pytest.raises(RuntimeError, match="simulator failed"):
        write_tdt_block(
            folder=tmp_path,
            block_name="Broken",
            start_time=START,
            streams=[TdtStreamSource(code="465A", rate_in_Hz=PHOTOMETRY_RATE_IN_HZ, chunks=failing())],
            write_interval_in_s=1.0,
            show_progress=False,
        )
    assert list((tmp_path / "Broken").iterdir()) == []
    assert sorted(p.name for p in block.iterdir()) == before
