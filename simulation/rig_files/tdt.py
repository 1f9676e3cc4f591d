"""Write synthetic TDT Synapse blocks (``.tsq`` + ``.tev`` (+ ``.sev``)) that ``tdt.read_block`` reads.

For tests and for the simulator. Streams are given as chunk iterators and written interval by
interval (default 60 s of data at a time), so a 24-h block never has to be held in memory.

Layout written (mirroring Synapse): record 0 holds the ``.tsq`` size, record 1 the block start
marker (code 1), then stream packets and epoc events strictly ordered by time, then the stop
marker (code 2). Each stream packet holds ``samples_per_packet`` samples of one channel; the
channels of a multi-channel store share a timestamp and follow each other (ch1, ch2, ...).
Within every interval each store's packets are written to the ``.tev`` one after the other, so a
store's byte offsets increase with time (what ``tdt.read_block`` expects). Only whole packets are
written, like Synapse: samples that do not fill a last packet are dropped and reported.

Rates: TDT hardware rates are divisions of the 24414.0625 Hz base clock. Photometry demodulated
stores run at base/24 = 1017.25 Hz; EEG/EMG stores in NE sleep rigs at base/48 = 508.63 Hz (the
``EEG_RATE_IN_HZ`` default here; base/80 = 305.18 Hz is the other common choice).
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ndx_glymphatic.converters.tdt import (
    EVMARK_STARTBLOCK,
    EVMARK_STOPBLOCK,
    EVTYPE_MARK,
    EVTYPE_STREAM,
    EVTYPE_STROFF,
    EVTYPE_STRON,
    EVTYPE_UCF,
    SEV_HEADER_BYTES,
    TDT_DATA_FORMATS,
    TSQ_RECORD_DTYPE,
)
from ndx_glymphatic.io import atomic_output_path

__all__ = [
    "EEG_RATE_IN_HZ",
    "PHOTOMETRY_RATE_IN_HZ",
    "TDT_BASE_RATE_IN_HZ",
    "TdtBlockSummary",
    "TdtEpocSource",
    "TdtStreamSource",
    "sev_rate_code",
    "write_tdt_block",
]

TDT_BASE_RATE_IN_HZ = 24414.0625
PHOTOMETRY_RATE_IN_HZ = TDT_BASE_RATE_IN_HZ / 24
EEG_RATE_IN_HZ = TDT_BASE_RATE_IN_HZ / 48

_FORMAT_CODES = {dtype: code for code, dtype in TDT_DATA_FORMATS.items()}
_TEV_PREAMBLE_BYTES = 80  # Synapse's .tev starts with 80 bytes before the first packet.


@dataclass(frozen=True)
class TdtStreamSource:
    """One stream store to write.

    Attributes
    ----------
    code : str
        4-character store code (``465A``, ``405A``, ``EEGw``).
    rate_in_Hz : float
        Sampling rate.
    chunks : iterable of ndarray
        Samples in order, each ``(n,)`` (one channel) or ``(n, n_channels)``; any chunk lengths.
    n_channels : int
        Channels in the store.
    data_format : str
        ``"float32"`` (Synapse's usual), ``"int16"``, ``"int32"``, ``"float64"``, ...
    storage : str
        ``"tev"`` (packets in the .tev), ``"sev"`` (per-channel .sev files, store also indexed in the
        .tsq with the unique-channel-files flag) or ``"sev_only"`` (only .sev files).
    """

    code: str
    rate_in_Hz: float
    chunks: Iterable[np.ndarray] = field(repr=False)
    n_channels: int = 1
    data_format: str = "float32"
    storage: str = "tev"


@dataclass(frozen=True)
class TdtEpocSource:
    """One epoc (TTL) store to write.

    Attributes
    ----------
    code : str
        4-character store code (``PtC0``, ``Pu1/``).
    onset_times_in_s : array-like
        Onset times in seconds after the block start, ascending.
    values : array-like, optional
        Strobe value per onset (default 1.0).
    offset_times_in_s : array-like, optional
        Offsets, written as a strobe-off buddy store; without them readers take the next onset.
    offset_code : str, optional
        Code of the strobe-off store (default: the code with its last character replaced by ``\\``).
    """

    code: str
    onset_times_in_s: Sequence[float] | np.ndarray
    values: Sequence[float] | np.ndarray | None = None
    offset_times_in_s: Sequence[float] | np.ndarray | None = None
    offset_code: str | None = None


@dataclass(frozen=True)
class TdtBlockSummary:
    """What :func:`write_tdt_block` wrote.

    Attributes
    ----------
    block_folder : Path
        The block folder.
    tsq_path, tev_path : Path
        Index and data files.
    sev_paths : tuple of Path
        Per-channel .sev files.
    samples_written : dict
        Samples per channel written per store code.
    samples_dropped : dict
        Trailing samples per channel that did not fill a whole packet, per store code.
    duration_in_s : float
        Stop marker minus start marker.
    n_records : int
        Records in the .tsq.
    """

    block_folder: Path
    tsq_path: Path
    tev_path: Path
    sev_paths: tuple[Path, ...]
    samples_written: dict[str, int]
    samples_dropped: dict[str, int]
    duration_in_s: float
    n_records: int


def sev_rate_code(*, rate_in_Hz: float) -> tuple[int, int]:
    """Return ``(rate_code, decimate)`` with ``2**(rate_code - 12) * 25e6 / decimate == rate_in_Hz``.

    Raises
    ------
    ValueError
        The rate is not a power-of-two multiple of 25 MHz divided by an integer <= 255.
    """
    best: tuple[float, int, int] | None = None
    for rate_code in range(16):
        base = 2.0 ** (rate_code - 12) * 25e6
        decimate = round(base / rate_in_Hz)
        if 1 <= decimate <= 255:
            error = abs(base / decimate - rate_in_Hz) / rate_in_Hz
            if best is None or error < best[0]:
                best = (error, rate_code, decimate)
    if best is None or best[0] > 1e-7:
        raise ValueError(f"{rate_in_Hz} Hz cannot be written in a SEV header (2**(r-12)*25e6/decimate)")
    return best[1], best[2]


def _code_value(code: str) -> int:
    raw = code.encode("cp437")
    if len(raw) != 4:
        raise ValueError(f"TDT store codes have 4 characters, got {code!r}")
    return int.from_bytes(raw, byteorder="little")


def _default_offset_code(code: str) -> str:
    return code[:3] + "\\"


class _StreamState:
    """Buffers one stream's chunks and hands out whole packets."""

    def __init__(self, *, source: TdtStreamSource, samples_per_packet: int) -> None:
        self.source = source
        self.code_value = _code_value(source.code)
        self.dtype = np.dtype(source.data_format).newbyteorder("<")
        if self.dtype not in _FORMAT_CODES:
            raise ValueError(f"store {source.code}: unsupported data format {source.data_format!r}")
        if source.storage not in ("tev", "sev", "sev_only"):
            raise ValueError(f"store {source.code}: storage must be tev, sev or sev_only")
        self.format_code = _FORMAT_CODES[self.dtype]
        self.per_packet = samples_per_packet
        if (samples_per_packet * self.dtype.itemsize) % 4:
            raise ValueError(f"store {source.code}: a packet must fill whole 32-bit words")
        self.packet_bytes = samples_per_packet * self.dtype.itemsize
        self.size_words = 10 + self.packet_bytes // 4
        self.iterator: Iterator[np.ndarray] = iter(source.chunks)
        self.buffer: list[np.ndarray] = []
        self.buffered = 0
        self.exhausted = False
        self.packets_written = 0
        self.sev_handles: list = []

    def pull(self, *, n_samples: int) -> None:
        while self.buffered < n_samples and not self.exhausted:
            try:
                chunk = next(self.iterator)
            except StopIteration:
                self.exhausted = True
                break
            chunk = np.asarray(chunk)
            if chunk.ndim == 1:
                chunk = chunk[:, None]
            if chunk.ndim != 2 or chunk.shape[1] != self.source.n_channels:
                raise ValueError(
                    f"store {self.source.code}: chunks must be (n, {self.source.n_channels}), "
                    f"got {chunk.shape}"
                )
            if chunk.shape[0]:
                self.buffer.append(chunk.astype(self.dtype, copy=False))
                self.buffered += chunk.shape[0]

    def take(self, *, n_samples: int) -> np.ndarray:
        pieces = []
        needed = n_samples
        while needed:
            head = self.buffer[0]
            if head.shape[0] <= needed:
                pieces.append(self.buffer.pop(0))
                needed -= head.shape[0]
            else:
                pieces.append(head[:needed])
                self.buffer[0] = head[needed:]
                needed = 0
        self.buffered -= n_samples
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=0)

    @property
    def done(self) -> bool:
        return self.exhausted and self.buffered < self.per_packet


def _stream_records(
    *, state: _StreamState, first_packet: int, n_packets: int, start_unix: float, tev_position: int
) -> np.ndarray:
    n_channels = state.source.n_channels
    records = np.zeros(n_packets * n_channels, dtype=TSQ_RECORD_DTYPE)
    packet_index = np.repeat(np.arange(first_packet, first_packet + n_packets), n_channels)
    records["size"] = state.size_words
    records["code"] = state.code_value
    records["channel"] = np.tile(np.arange(1, n_channels + 1), n_packets)
    records["timestamp"] = start_unix + packet_index * (state.per_packet / state.source.rate_in_Hz)
    records["data_format"] = state.format_code
    records["frequency"] = np.float32(state.source.rate_in_Hz)
    if state.source.storage == "sev":
        records["type"] = EVTYPE_STREAM | EVTYPE_UCF
        records["offset_or_strobe"] = SEV_HEADER_BYTES + packet_index.astype(np.uint64) * np.uint64(
            state.packet_bytes
        )
    else:
        records["type"] = EVTYPE_STREAM
        records["offset_or_strobe"] = np.uint64(tev_position) + np.arange(
            n_packets * n_channels, dtype=np.uint64
        ) * np.uint64(state.packet_bytes)
    return records


def _epoc_records(*, epocs: Sequence[TdtEpocSource], start_unix: float) -> np.ndarray:
    parts = []
    for epoc in epocs:
        onsets = np.asarray(epoc.onset_times_in_s, dtype=np.float64)
        if onsets.ndim != 1 or np.any(np.diff(onsets) < 0):
            raise ValueError(f"epoc {epoc.code}: onset times must be a 1-D ascending array")
        values = np.ones(onsets.size) if epoc.values is None else np.asarray(epoc.values, dtype=np.float64)
        if values.shape != onsets.shape:
            raise ValueError(f"epoc {epoc.code}: one value per onset expected")
        onset_records = np.zeros(onsets.size, dtype=TSQ_RECORD_DTYPE)
        onset_records["size"] = 10
        onset_records["type"] = EVTYPE_STRON
        onset_records["code"] = _code_value(epoc.code)
        onset_records["timestamp"] = start_unix + onsets
        onset_records["offset_or_strobe"] = values.view(np.uint64)
        onset_records["data_format"] = 4
        parts.append(onset_records)
        if epoc.offset_times_in_s is not None:
            offsets = np.asarray(epoc.offset_times_in_s, dtype=np.float64)
            buddy = np.frombuffer(epoc.code.encode("cp437"), dtype="<u2")
            offset_records = np.zeros(offsets.size, dtype=TSQ_RECORD_DTYPE)
            offset_records["size"] = 10
            offset_records["type"] = EVTYPE_STROFF
            offset_records["code"] = _code_value(epoc.offset_code or _default_offset_code(epoc.code))
            offset_records["channel"] = buddy[0]
            offset_records["sort_code"] = buddy[1]
            offset_records["timestamp"] = start_unix + offsets
            offset_records["offset_or_strobe"] = np.zeros(offsets.size).view(np.uint64)
            offset_records["data_format"] = 4
            parts.append(offset_records)
    if not parts:
        return np.zeros(0, dtype=TSQ_RECORD_DTYPE)
    records = np.concatenate(parts)
    return records[np.argsort(records["timestamp"], kind="stable")]


def _marker_record(*, code: int, timestamp: float, offset: int) -> np.ndarray:
    record = np.zeros(1, dtype=TSQ_RECORD_DTYPE)
    record["size"] = 20
    record["type"] = EVTYPE_MARK
    record["code"] = code
    record["timestamp"] = timestamp
    record["offset_or_strobe"] = offset
    return record


def _sev_header(*, state: _StreamState, channel: int, rate_code: int, decimate: int) -> bytes:
    header = bytearray(SEV_HEADER_BYTES)
    header[8:11] = b"SEV"
    header[11] = 3
    header[12:16] = state.source.code.encode("cp437")
    header[16:18] = np.uint16(channel).tobytes()
    header[18:20] = np.uint16(state.source.n_channels).tobytes()
    header[20:22] = np.uint16(state.dtype.itemsize).tobytes()
    header[24] = state.format_code
    header[25] = decimate
    header[26:28] = np.uint16(rate_code).tobytes()
    return bytes(header)


def _check_codes(*, streams: Sequence[TdtStreamSource], epocs: Sequence[TdtEpocSource]) -> None:
    codes = [s.code for s in streams] + [e.code for e in epocs]
    codes += [e.offset_code or _default_offset_code(e.code) for e in epocs if e.offset_times_in_s is not None]
    for code in codes:
        _code_value(code)
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"store codes must be unique, repeated: {duplicates}")


def write_tdt_block(
    *,
    folder: str | Path,
    block_name: str,
    start_time: datetime,
    streams: Sequence[TdtStreamSource],
    epocs: Sequence[TdtEpocSource] = (),
    tank_name: str | None = None,
    samples_per_packet: int = 256,
    write_interval_in_s: float = 60.0,
    expected_duration_in_s: float | None = None,
    overwrite: bool = False,
    show_progress: bool | None = None,
) -> TdtBlockSummary:
    """Write a TDT block folder ``folder/block_name`` from chunked streams and epoc times.

    Parameters
    ----------
    folder : str or Path
        The tank folder; the block folder is created inside it.
    block_name : str
        Block folder name (e.g. ``"Mouse1-240101-090000"``).
    start_time : datetime
        Block start (naive datetimes are taken as local time, like ``datetime.timestamp``).
    streams : sequence of TdtStreamSource
        Stream stores; each may be 24 h long, only ``write_interval_in_s`` of it is held at once.
    epocs : sequence of TdtEpocSource
        Epoc stores (onsets, values, optional offsets).
    tank_name : str, optional
        File name prefix ``<tank>_<block>``; defaults to the folder's name.
    samples_per_packet : int
        Samples per channel per packet (Synapse writes 128 to 1024 per packet).
    write_interval_in_s : float
        Data written per step.
    expected_duration_in_s : float, optional
        Only for the progress bar's total.
    overwrite : bool
        Replace existing block files.
    show_progress : bool, optional
        Show a tqdm bar; by default only when stderr is a terminal.

    Returns
    -------
    TdtBlockSummary
        Paths, samples written and dropped per store, duration, record count.
    """
    _check_codes(streams=streams, epocs=epocs)
    block_folder = Path(folder) / block_name
    block_folder.mkdir(parents=True, exist_ok=True)
    base = f"{tank_name or Path(folder).resolve().name}_{block_name}"
    start_unix = start_time.timestamp()
    states = [_StreamState(source=s, samples_per_packet=samples_per_packet) for s in streams]
    epoc_records = _epoc_records(epocs=epocs, start_unix=start_unix)
    epoc_cursor = 0
    if show_progress is None:
        show_progress = sys.stderr.isatty()

    tsq_final = block_folder / f"{base}.tsq"
    tev_final = block_folder / f"{base}.tev"
    sev_finals: list[Path] = []
    n_records = 0
    with contextlib.ExitStack() as stack:
        tsq_tmp = stack.enter_context(atomic_output_path(destination=tsq_final, overwrite=overwrite))
        tev_tmp = stack.enter_context(atomic_output_path(destination=tev_final, overwrite=overwrite))
        tnt_tmp = stack.enter_context(
            atomic_output_path(destination=block_folder / f"{base}.tnt", overwrite=overwrite)
        )
        tnt_tmp.write_text("NOTEFILE_VERSION[1.0]\n")
        for state in states:
            if state.source.storage == "tev":
                continue
            rate_code, decimate = sev_rate_code(rate_in_Hz=state.source.rate_in_Hz)
            for channel in range(1, state.source.n_channels + 1):
                final = block_folder / f"{base}_{state.source.code}_Ch{channel}.sev"
                sev_finals.append(final)
                tmp = stack.enter_context(atomic_output_path(destination=final, overwrite=overwrite))
                handle = stack.enter_context(open(tmp, "wb"))
                handle.write(
                    _sev_header(state=state, channel=channel, rate_code=rate_code, decimate=decimate)
                )
                state.sev_handles.append(handle)
        tsq = stack.enter_context(open(tsq_tmp, "wb"))
        tev = stack.enter_context(open(tev_tmp, "wb"))
        tev.write(bytes(_TEV_PREAMBLE_BYTES))
        tev_position = _TEV_PREAMBLE_BYTES
        np.zeros(1, dtype=TSQ_RECORD_DTYPE).tofile(tsq)  # record 0: file size, filled in at the end
        _marker_record(code=EVMARK_STARTBLOCK, timestamp=start_unix, offset=40).tofile(tsq)
        n_records = 2
        last_time = 0.0
        progress = stack.enter_context(
            tqdm(
                total=expected_duration_in_s,
                unit="s",
                desc=f"TDT block {block_name}",
                disable=not show_progress,
            )
        )
        interval = 0
        while states and not all(state.done for state in states):
            interval_end = (interval + 1) * write_interval_in_s
            parts = []
            for state in states:
                if state.done:
                    continue
                target = math.ceil(interval_end * state.source.rate_in_Hz / state.per_packet)
                state.pull(n_samples=(target - state.packets_written) * state.per_packet)
                n_packets = min(target - state.packets_written, state.buffered // state.per_packet)
                if n_packets <= 0:
                    continue
                data = state.take(n_samples=n_packets * state.per_packet)
                parts.append(
                    _stream_records(
                        state=state,
                        first_packet=state.packets_written,
                        n_packets=n_packets,
                        start_unix=start_unix,
                        tev_position=tev_position,
                    )
                )
                if state.source.storage == "tev":
                    packets = data.reshape(n_packets, state.per_packet, state.source.n_channels)
                    np.ascontiguousarray(packets.transpose(0, 2, 1)).tofile(tev)
                    tev_position += packets.nbytes
                else:
                    for channel, handle in enumerate(state.sev_handles):
                        np.ascontiguousarray(data[:, channel]).tofile(handle)
                    if state.source.storage == "sev_only":
                        parts.pop()
                state.packets_written += n_packets
                last_time = max(last_time, state.packets_written * state.per_packet / state.source.rate_in_Hz)
            epoc_stop = int(
                np.searchsorted(epoc_records["timestamp"], start_unix + interval_end, side="left")
            )
            parts.append(epoc_records[epoc_cursor:epoc_stop])
            epoc_cursor = epoc_stop
            records = np.concatenate(parts) if parts else np.zeros(0, dtype=TSQ_RECORD_DTYPE)
            records = records[np.argsort(records["timestamp"], kind="stable")]
            records.tofile(tsq)
            n_records += records.size
            interval += 1
            progress.update(write_interval_in_s)
        remaining = epoc_records[epoc_cursor:]
        remaining.tofile(tsq)
        n_records += remaining.size
        if epoc_records.size:
            last_time = max(last_time, float(epoc_records["timestamp"][-1]) - start_unix)
        _marker_record(code=EVMARK_STOPBLOCK, timestamp=start_unix + last_time, offset=tev_position).tofile(
            tsq
        )
        n_records += 1
        tsq_size = n_records * TSQ_RECORD_DTYPE.itemsize
        tsq.seek(0)
        tsq.write(np.int32(min(tsq_size, np.iinfo(np.int32).max)).tobytes())
        for state in states:
            for handle in state.sev_handles:
                size = handle.tell()
                handle.seek(0)
                handle.write(np.uint64(size).tobytes())
        tsq.close()
        tev.close()
        for state in states:
            for handle in state.sev_handles:
                handle.close()
    return TdtBlockSummary(
        block_folder=block_folder,
        tsq_path=tsq_final,
        tev_path=tev_final,
        sev_paths=tuple(sev_finals),
        samples_written={s.source.code: s.packets_written * s.per_packet for s in states},
        samples_dropped={s.source.code: s.buffered for s in states},
        duration_in_s=last_time,
        n_records=n_records,
    )
