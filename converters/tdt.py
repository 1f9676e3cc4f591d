"""Reader for TDT Synapse / OpenEx blocks (``.tsq`` index + ``.tev`` data + optional ``.sev`` files).

The ``.tsq`` index is memory-mapped as an array of 40-byte records; stream data are read in
chunks by locating, for a requested sample range, the packets that cover it and reading only
those byte ranges from the ``.tev`` (or the per-channel ``.sev`` files). Nothing reads a whole
store into memory unless :meth:`RigReader.read_stream` is asked to.

Conventions shared with the official ``tdt`` Python package (our test oracle):

- store names: each store has a 4-character code (``465A``, ``PC0/``) and a Python name
  (``_465A``, ``PC0_``); every method accepts either (and MATLAB's ``x465A``). Mappings are keyed
  by the Python name.
- times: seconds after the block start marker (record 1), rounded to the 195312.5 Hz tick grid
  as ``tdt.read_block`` does (removes the float64 jitter of large Unix timestamps).
- epoc offsets: the buddy strobe-off store's times when one exists, otherwise the next onset;
  the last offset may be ``inf``.
- rates: the float32 rate of the ``.tsq`` record (``.tev`` stores) or the rate computed from the
  ``.sev`` header (``2**(rate_code - 12) * 25e6 / decimate``).

Where we differ from ``tdt.read_block``: a stream's ``starting_time_in_s`` is the time of its first
packet (``tdt`` reports the requested ``t1``, 0), and integer stores are yielded as float64 counts.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from ndx_glymphatic.converters._contract import EventChannel, RigReader, StreamInfo
from ndx_glymphatic.converters._paths import describe_path, require_folder, require_regular_file
from ndx_glymphatic.errors import InputFileError

__all__ = [
    "EVTYPE_MARK",
    "EVTYPE_SCALAR",
    "EVTYPE_SNIP",
    "EVTYPE_STREAM",
    "EVTYPE_STROFF",
    "EVTYPE_STRON",
    "EVTYPE_UCF",
    "SEV_HEADER_BYTES",
    "TDT_DATA_FORMATS",
    "TDT_TICK_RATE_IN_HZ",
    "TSQ_RECORD_DTYPE",
    "TdtBlockReader",
    "TdtStore",
    "round_to_tdt_ticks",
    "sev_rate_in_Hz",
    "tdt_python_name",
]

#: One ``.tsq`` record (40 bytes, little-endian). ``offset_or_strobe`` is a uint64 byte offset for
#: streams and snips, and the bits of a float64 strobe value for epocs and scalars.
TSQ_RECORD_DTYPE = np.dtype(
    [
        ("size", "<i4"),
        ("type", "<i4"),
        ("code", "<u4"),
        ("channel", "<u2"),
        ("sort_code", "<u2"),
        ("timestamp", "<f8"),
        ("offset_or_strobe", "<u8"),
        ("data_format", "<i4"),
        ("frequency", "<f4"),
    ]
)
TSQ_RECORD_BYTES = TSQ_RECORD_DTYPE.itemsize
SEV_HEADER_BYTES = 40

EVTYPE_STRON = 0x101
EVTYPE_STROFF = 0x102
EVTYPE_SCALAR = 0x201
EVTYPE_STREAM = 0x8101
EVTYPE_SNIP = 0x8201
EVTYPE_MARK = 0x8801
EVTYPE_UCF = 0x10
_EVTYPE_MASK = 0xFF0F
EVMARK_STARTBLOCK = 1
EVMARK_STOPBLOCK = 2

#: Data format code of a record -> numpy dtype.
TDT_DATA_FORMATS: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("<i4"),
    2: np.dtype("<i2"),
    3: np.dtype("i1"),
    4: np.dtype("<f8"),
    5: np.dtype("<i8"),
}

#: The tick rate ``tdt.read_block`` rounds event and packet times to.
TDT_TICK_RATE_IN_HZ = 195312.5

_HEADER_WORDS = 10
#: 2100-01-01 UTC: a block start after it is a damaged timestamp, not a recording.
_LATEST_UNIX_TIME_IN_S = 4_102_444_800.0
#: Far above any TDT stream rate (RZ processors sample at most ~100 kHz): a higher rate is a damaged record.
_HIGHEST_RATE_IN_HZ = 1e7


def tdt_python_name(code: str) -> str:
    """Return the ``tdt`` package's Python name of a store code (``465A`` -> ``_465A``, ``PC0/`` -> ``PC0_``).

    Parameters
    ----------
    code : str
        The store's 4-character code.

    Returns
    -------
    str
        A valid Python identifier: a leading character that is neither alphanumeric nor ``_`` gets
        an ``x`` prefix, a leading digit an ``_`` prefix, and other non-word characters become ``_``.
    """
    if code and not (code[0].isalnum() or code[0] == "_"):
        code = "x" + code
    return re.sub(r"\W|^(?=\d)", "_", code)


def round_to_tdt_ticks(*, times_in_s: np.ndarray) -> np.ndarray:
    """Round times to the 195312.5 Hz tick grid the way ``tdt.read_block`` does.

    Parameters
    ----------
    times_in_s : ndarray
        Times in seconds after the block start.

    Returns
    -------
    ndarray
        float64 times on the tick grid (precision beyond 1e-9 ticks dropped first).
    """
    ticks = np.round(np.asarray(times_in_s, dtype=np.float64) * TDT_TICK_RATE_IN_HZ * 1e9) / 1e9
    return np.round(ticks) / TDT_TICK_RATE_IN_HZ


def sev_rate_in_Hz(*, rate_code: int, decimate: int) -> float:
    """Return the sampling rate a ``.sev`` header encodes: ``2**(rate_code - 12) * 25e6 / decimate``."""
    return float(2.0 ** (rate_code - 12) * 25e6 / decimate)


def _code_to_text(code: int) -> str:
    return int(code).to_bytes(4, byteorder="little").decode("cp437")


def _kind_of_type(type_code: int) -> str:
    if type_code in (EVTYPE_STRON, EVTYPE_STROFF, EVTYPE_MARK):
        return "epoc"
    if type_code == EVTYPE_SNIP:
        return "snip"
    if type_code & _EVTYPE_MASK == EVTYPE_STREAM:
        return "stream"
    if type_code == EVTYPE_SCALAR:
        return "scalar"
    return "unknown"


@dataclass(frozen=True)
class TdtStore:
    """One store listed in a block's ``.tsq`` index (or found only as ``.sev`` files).

    Attributes
    ----------
    code : str
        The 4-character store code as Synapse writes it (``465A``, ``PC0/``).
    name : str
        The ``tdt`` package's Python name (``_465A``, ``PC0_``).
    kind : str
        ``"stream"``, ``"epoc"``, ``"scalar"``, ``"snip"`` or ``"unknown"``.
    type_code : int
        The record type (e.g. 0x8101 stream, 0x101 strobe-on).
    n_records : int
        Records of this store in the ``.tsq`` (0 for ``.sev``-only stores).
    channels : tuple of int
        Channel numbers present (1-based).
    rate_in_Hz : float or None
        Sampling rate for streams and snips.
    data_format : numpy.dtype or None
        Sample type of streams and snips.
    samples_per_packet : int
        Samples per channel in one stream packet (0 for non-streams and ``.sev`` data).
    storage : str
        Where the samples live: ``"tev"``, ``"sev"`` or ``"tsq"`` (epocs and scalars).
    """

    code: str
    name: str
    kind: str
    type_code: int
    n_records: int
    channels: tuple[int, ...]
    rate_in_Hz: float | None
    data_format: np.dtype | None
    samples_per_packet: int
    storage: str


@dataclass(frozen=True)
class _SevFile:
    path: Path
    code: str
    channel: int
    hour: int
    rate_in_Hz: float
    data_format: np.dtype
    n_samples: int


_SEV_NAME_PATTERN = re.compile(r"(?=_(.{4})_)")
_SEV_CHANNEL_PATTERN = re.compile(r"_[Cc]h([0-9]+)")
_SEV_HOUR_PATTERN = re.compile(r"-([0-9]+)h")


def _read_sev_header(*, path: Path) -> _SevFile:
    size = path.stat().st_size
    if size < SEV_HEADER_BYTES:
        raise InputFileError(
            path=path,
            field="SEV header",
            expected=f"at least {SEV_HEADER_BYTES} bytes",
            found=f"{size} bytes",
        )
    with open(path, "rb") as handle:
        raw = handle.read(SEV_HEADER_BYTES)
    file_type = raw[8:11]
    version = raw[11]
    if file_type != b"SEV":
        raise InputFileError(path=path, field="SEV header bytes 8-10", expected="b'SEV'", found=repr(file_type))
    if version > 3:
        raise InputFileError(path=path, field="SEV header version", expected="version 0 to 3", found=str(version))
    stem = path.stem
    names = [match.group(1) for match in _SEV_NAME_PATTERN.finditer(stem)]
    code = names[-1] if names else stem
    if version >= 3:
        code = raw[12:16].decode("cp437")
    channel = int(np.frombuffer(raw, dtype="<u2", count=1, offset=16)[0])
    format_code = raw[24] & 0b111
    decimate = raw[25]
    rate_code = int(np.frombuffer(raw, dtype="<u2", count=1, offset=26)[0])
    if format_code not in TDT_DATA_FORMATS:
        raise InputFileError(
            path=path,
            field="SEV header data format",
            expected=f"one of {sorted(TDT_DATA_FORMATS)}",
            found=str(format_code),
        )
    if version == 0 or decimate == 0:
        raise InputFileError(
            path=path,
            field="SEV header rate",
            expected="a header with rate code and decimation (SEV version >= 1, decimate > 0)",
            found=f"version {version}, decimate {decimate}",
        )
    channel_match = _SEV_CHANNEL_PATTERN.findall(stem)
    if channel == 0 and channel_match:
        channel = int(channel_match[-1])
    hour_match = _SEV_HOUR_PATTERN.findall(stem)
    data_format = TDT_DATA_FORMATS[format_code]
    return _SevFile(
        path=path,
        code=code,
        channel=channel,
        hour=int(hour_match[-1]) if hour_match else 0,
        rate_in_Hz=sev_rate_in_Hz(rate_code=rate_code, decimate=decimate),
        data_format=data_format,
        n_samples=(size - SEV_HEADER_BYTES) // data_format.itemsize,
    )


class TdtBlockReader(RigReader):
    """Read a TDT Synapse block folder chunk by chunk.

    Parameters
    ----------
    path : str or Path
        The block folder (or its ``.tsq`` file).

    Raises
    ------
    InputFileError
        No or several ``.tsq`` files, a truncated ``.tsq`` (size not a multiple of 40 bytes), no
        block start marker, or a stream store whose records disagree on rate, packet size or format.

    Notes
    -----
    ``notes`` collects non-fatal findings (no stop marker, unequal packet counts per channel, ...).
    """

    format = "tdt"
    format_name = "TDT Synapse block"
    modalities = ("photometry", "electrophysiology")
    options = ("allow_repeated_packet_times",)

    def __init__(self, *, path: str | Path, allow_repeated_packet_times: bool = False) -> None:
        self.allow_repeated_packet_times = allow_repeated_packet_times
        path = Path(path)
        if path.suffix.lower() == ".tsq" and path.is_file():
            path = path.parent
        super().__init__(path=path)
        self.tsq_path = self._find_tsq()
        self.tev_path = self.tsq_path.with_suffix(".tev")
        self._records = self._map_tsq()
        self._start_time_unix = self._read_start_time()
        self._stop_time_unix = self._read_stop_time()
        self._sev_files = self._find_sev_files()
        self._stores = self._index_stores()
        self._packet_offsets: dict[str, np.ndarray] = {}

    # ----------------------------------------------------------------------------------- headers
    def _find_tsq(self) -> Path:
        require_folder(path=self.path, field="block folder", expected="a TDT block folder holding a .tsq index")
        candidates = sorted(
            p for p in self.path.iterdir() if p.suffix.lower() == ".tsq" and not p.name.startswith("._")
        )
        if len(candidates) != 1:
            present = sorted(p.name for p in self.path.iterdir())
            raise InputFileError(
                path=self.path,
                field=".tsq index file",
                expected="exactly one <tank>_<block>.tsq file",
                found=(
                    f"{len(candidates)} .tsq files ({', '.join(p.name for p in candidates)})"
                    if candidates
                    else f"none (folder holds: {', '.join(present) if present else 'nothing'})"
                ),
            )
        require_regular_file(path=candidates[0], expected="the block's .tsq index file")
        return candidates[0]

    def _map_tsq(self) -> np.ndarray:
        size = self.tsq_path.stat().st_size
        if size % TSQ_RECORD_BYTES:
            raise InputFileError(
                path=self.tsq_path,
                field="file size",
                expected=f"a multiple of {TSQ_RECORD_BYTES} bytes (whole 40-byte index records)",
                found=f"{size} bytes ({size % TSQ_RECORD_BYTES} bytes past the last whole record; "
                "the file is truncated)",
            )
        if size < 2 * TSQ_RECORD_BYTES:
            raise InputFileError(
                path=self.tsq_path,
                field="records",
                expected="at least 2 records (header and block start marker)",
                found=f"{size // TSQ_RECORD_BYTES} records",
            )
        records = np.memmap(self.tsq_path, dtype=TSQ_RECORD_DTYPE, mode="r")
        if int(records["code"][1]) != EVMARK_STARTBLOCK:
            raise InputFileError(
                path=self.tsq_path,
                field="record 1 (block start marker)",
                expected=f"code {EVMARK_STARTBLOCK}",
                found=f"code {int(records['code'][1])}",
            )
        return records

    def _read_start_time(self) -> float:
        start = float(self._records["timestamp"][1])
        if not (math.isfinite(start) and 0.0 <= start <= _LATEST_UNIX_TIME_IN_S):
            raise InputFileError(
                path=self.tsq_path,
                field="record 1 (block start marker) timestamp",
                expected="a Unix time in seconds between 1970 and 2100",
                found=repr(start),
            )
        return start

    def _read_stop_time(self) -> float:
        last = self._records[-1]
        if int(last["code"]) == EVMARK_STOPBLOCK and len(self._records) > 2:
            stop = float(last["timestamp"])
            if not (math.isfinite(stop) and stop >= self._start_time_unix):
                raise InputFileError(
                    path=self.tsq_path,
                    field=f"record {len(self._records) - 1} (block stop marker) timestamp",
                    expected=f"a time at or after the block start ({self._start_time_unix!r})",
                    found=repr(stop),
                )
            return stop
        self.notes.append(
            f"{self.tsq_path}: no block stop marker (the block did not end cleanly); "
            "duration taken from the last record"
        )
        return float(self._records["timestamp"][-1])

    def _find_sev_files(self) -> dict[str, list[_SevFile]]:
        by_code: dict[str, list[_SevFile]] = {}
        for sev_path in sorted(self.path.glob("*.sev")):
            if sev_path.name.startswith("._"):
                continue
            sev = _read_sev_header(path=sev_path)
            by_code.setdefault(sev.code, []).append(sev)
        return by_code

    def _index_stores(self) -> dict[str, TdtStore]:
        records = self._records
        codes = np.asarray(records["code"][2:])
        unique_codes, first_index = np.unique(codes, return_index=True)
        stores: dict[str, TdtStore] = {}
        for code_value, first in sorted(zip(unique_codes, first_index), key=lambda item: item[1]):
            if code_value in (0, EVMARK_STARTBLOCK, EVMARK_STOPBLOCK):
                continue
            type_code = int(records["type"][first + 2])
            kind = _kind_of_type(type_code)
            code = _code_to_text(int(code_value))
            name = tdt_python_name(code)
            indices = np.flatnonzero(codes == code_value) + 2
            channels = tuple(int(c) for c in np.unique(records["channel"][indices]))
            if type_code == EVTYPE_STROFF:
                channels = ()  # the channel and sort-code fields hold the buddy store's code
            rate = None
            data_format = None
            samples_per_packet = 0
            storage = "tsq"
            if kind in ("stream", "snip"):
                rate, data_format, samples_per_packet = self._check_uniform_store(code=code, indices=indices)
                storage = "tev"
                if kind == "stream" and (type_code & EVTYPE_UCF or code in self._sev_files):
                    storage = "sev"
                    if code in self._sev_files:
                        sev = self._sev_files[code][0]
                        rate, data_format, samples_per_packet = sev.rate_in_Hz, sev.data_format, 0
            stores[code] = TdtStore(
                code=code,
                name=name,
                kind=kind,
                type_code=type_code,
                n_records=int(indices.size),
                channels=channels,
                rate_in_Hz=rate,
                data_format=data_format,
                samples_per_packet=samples_per_packet,
                storage=storage,
            )
        for code, sev_files in self._sev_files.items():
            name = tdt_python_name(code)
            if code in stores:
                continue
            rates = {sev.rate_in_Hz for sev in sev_files}
            formats = {sev.data_format for sev in sev_files}
            if len(rates) > 1 or len(formats) > 1:
                raise InputFileError(
                    path=sev_files[0].path,
                    field=f"store {code} SEV headers",
                    expected="one rate and one data format for all channels",
                    found=f"rates {sorted(rates)} Hz, formats {sorted(str(f) for f in formats)}",
                )
            stores[code] = TdtStore(
                code=code,
                name=name,
                kind="stream",
                type_code=EVTYPE_STREAM | EVTYPE_UCF,
                n_records=0,
                channels=tuple(sorted({sev.channel for sev in sev_files})),
                rate_in_Hz=sev_files[0].rate_in_Hz,
                data_format=sev_files[0].data_format,
                samples_per_packet=0,
                storage="sev",
            )
        return stores

    def _check_uniform_store(self, *, code: str, indices: np.ndarray) -> tuple[float, np.dtype, int]:
        records = self._records
        rates = np.unique(np.asarray(records["frequency"][indices]))
        if rates.size != 1:
            raise InputFileError(
                path=self.tsq_path,
                field=f"store {code} sampling rate",
                expected="one rate for every record of the store",
                found=f"{rates.size} rates: {', '.join(f'{r:.6g}' for r in rates[:5])} Hz",
            )
        rate = float(rates[0])
        if not (math.isfinite(rate) and 0.0 < rate <= _HIGHEST_RATE_IN_HZ):
            raise InputFileError(
                path=self.tsq_path,
                field=f"store {code} sampling rate",
                expected=f"a finite rate above 0 Hz and at most {_HIGHEST_RATE_IN_HZ:.6g} Hz",
                found=f"{rate!r} Hz",
            )
        sizes = np.unique(np.asarray(records["size"][indices]))
        if sizes.size != 1 or sizes[0] <= _HEADER_WORDS:
            raise InputFileError(
                path=self.tsq_path,
                field=f"store {code} packet size",
                expected=f"one packet size (> {_HEADER_WORDS} words) for every record",
                found=f"sizes {sizes[:5].tolist()} words",
            )
        formats = np.unique(np.asarray(records["data_format"][indices]))
        if formats.size != 1 or int(formats[0]) not in TDT_DATA_FORMATS:
            raise InputFileError(
                path=self.tsq_path,
                field=f"store {code} data format",
                expected=f"one format code out of {sorted(TDT_DATA_FORMATS)}",
                found=f"format codes {formats[:5].tolist()}",
            )
        data_format = TDT_DATA_FORMATS[int(formats[0])]
        samples_per_packet = (int(sizes[0]) - _HEADER_WORDS) * 4 // data_format.itemsize
        return float(rates[0]), data_format, samples_per_packet

    # -------------------------------------------------------------------------------- properties
    @property
    def session_start_time(self) -> datetime:
        """Block start (record 1), UTC-aware; Synapse stores Unix time."""
        return datetime.fromtimestamp(self._start_time_unix, tz=timezone.utc)

    @property
    def start_time_unix_in_s(self) -> float:
        """Block start as Unix seconds (the raw float64 of record 1)."""
        return self._start_time_unix

    @property
    def duration_in_s(self) -> float:
        """Stop marker minus start marker (or the last record's time when there is no stop marker)."""
        return self._stop_time_unix - self._start_time_unix

    def store_infos(self) -> Mapping[str, TdtStore]:
        """Every store in the block (streams, epocs, strobe-off buddies, scalars, snips), by 4-char code.

        Codes are unique; Python names are not (``Pu1/`` and its strobe-off buddy ``Pu1\\`` are
        both ``Pu1_``).
        """
        return dict(self._stores)

    def resolve_store_name(self, *, store_name: str, kinds: tuple[str, ...] = ("stream",)) -> TdtStore:
        """Return the store called ``store_name`` (4-char code, Python name or MATLAB ``x`` name).

        Raises
        ------
        InputFileError
            No store of the wanted kinds has that name; the message lists those present.
        """
        wanted = [store for store in self._stores.values() if store.kind in kinds and store.type_code != EVTYPE_STROFF]
        for store in wanted:
            if store_name in (store.code, store.name, "x" + store.code):
                return store
        present = ", ".join(f"{s.code} ({s.name})" for s in wanted) or "none"
        raise InputFileError(
            path=self.path,
            field="store name",
            expected=f"one of the {'/'.join(kinds)} stores present: {present}",
            found=repr(store_name),
        )

    def canonical_name(self, *, name: str, kind: Literal["stream", "event"]) -> str | None:
        """The Python name (``_465A``) of a stream or epoc store spelled by its code (``465A``) or MATLAB name."""
        try:
            return self.resolve_store_name(store_name=name, kinds=("stream",) if kind == "stream" else ("epoc",)).name
        except InputFileError:
            return None

    # ------------------------------------------------------------------------------------ streams
    def _store_record_indices(self, *, store: TdtStore) -> np.ndarray:
        code_value = int.from_bytes(store.code.encode("cp437"), byteorder="little")
        return np.flatnonzero(np.asarray(self._records["code"]) == code_value)

    def _stream_packets(self, *, store: TdtStore) -> np.ndarray:
        """(n_channels, n_packets) byte offsets into the .tev, packets in time order per channel."""
        if store.name in self._packet_offsets:
            return self._packet_offsets[store.name]
        indices = self._store_record_indices(store=store)
        channels = np.asarray(self._records["channel"][indices])
        offsets = np.asarray(self._records["offset_or_strobe"][indices])
        per_channel = [offsets[channels == channel] for channel in store.channels]
        n_packets = min(len(p) for p in per_channel)
        if any(len(p) != n_packets for p in per_channel):
            self.notes.append(
                f"{self.tsq_path}: store {store.code} has unequal packet counts per channel "
                f"({[len(p) for p in per_channel]}); truncated to {n_packets}"
            )
        table = np.stack([p[:n_packets] for p in per_channel])
        self._packet_offsets[store.name] = table
        return table

    def _stream_first_packet_time(self, *, store: TdtStore) -> float:
        if store.n_records == 0 or store.storage == "sev":
            return 0.0
        indices = self._store_record_indices(store=store)
        relative = float(self._records["timestamp"][indices[0]]) - self._start_time_unix
        if not (math.isfinite(relative) and relative >= 0.0 and relative <= self.duration_in_s + 1.0):
            raise InputFileError(
                path=self.tsq_path,
                field=f"store {store.code} first packet timestamp",
                expected=f"a time within the block ({self._start_time_unix!r} to {self._stop_time_unix!r})",
                found=repr(relative + self._start_time_unix),
            )
        return float(round_to_tdt_ticks(times_in_s=np.array([relative]))[0])

    def _sev_channel_files(self, *, store: TdtStore) -> list[list[_SevFile]]:
        files = self._sev_files.get(store.code, [])
        per_channel = []
        for channel in store.channels:
            channel_files = sorted((f for f in files if f.channel == channel), key=lambda f: f.hour)
            per_channel.append(channel_files)
        return per_channel

    def _n_samples(self, *, store: TdtStore) -> int:
        if store.storage == "sev":
            per_channel = self._sev_channel_files(store=store)
            if not all(per_channel):
                return store.n_records // max(len(store.channels), 1) * store.samples_per_packet
            counts = [sum(f.n_samples for f in files) for files in per_channel]
            if len(set(counts)) > 1:
                self.notes.append(
                    f"{self.path}: store {store.code} .sev channels hold unequal sample counts "
                    f"({counts}); truncated to {min(counts)}"
                )
            return min(counts)
        counts = np.bincount(
            np.asarray(self._records["channel"][self._store_record_indices(store=store)]),
            minlength=max(store.channels) + 1,
        )[list(store.channels)]
        return int(counts.min()) * store.samples_per_packet

    def _check_packet_times(self, *, store: TdtStore) -> None:
        """Note gaps or overlaps: consecutive packets should start ``samples_per_packet / rate`` apart."""
        if store.storage != "tev" or store.n_records < 2:
            return
        self._stream_first_packet_time(store=store)  # a first packet outside the block is reported as such
        indices = self._store_record_indices(store=store)
        first_channel = indices[np.asarray(self._records["channel"][indices]) == store.channels[0]]
        steps = np.diff(np.asarray(self._records["timestamp"][first_channel], dtype=np.float64))
        expected = store.samples_per_packet / store.rate_in_Hz
        repeated = np.flatnonzero(steps <= 0)
        if repeated.size and not self.allow_repeated_packet_times:
            # a repeated or backward packet time means the index no longer says when samples were taken
            first = int(repeated[0]) + 1
            raise InputFileError(
                path=self.tsq_path,
                field=f"store {store.code} packet timestamps",
                expected="each packet later than the one before (or `allow_repeated_packet_times: true` in the "
                "session file's photometry section, to read them as contiguous)",
                found=f"{repeated.size} packet(s) at or before the previous one (first: packet {first}, "
                f"{steps[repeated[0]]!r} s after packet {first - 1})",
            )
        irregular = np.flatnonzero(np.abs(steps - expected) > 1.0 / store.rate_in_Hz)
        if irregular.size:
            self.notes.append(
                f"{self.tsq_path}: store {store.code} has {irregular.size} packet(s) not following the "
                f"previous one after {expected:.6g} s (first after packet {int(irregular[0])}: "
                f"{steps[irregular[0]]:.6g} s); samples are read as if contiguous"
            )

    @cached_property
    def _stream_infos(self) -> dict[str, StreamInfo]:
        infos = {}
        for store in self._stores.values():
            if store.kind != "stream":
                continue
            self._check_packet_times(store=store)
            unit = "V" if store.data_format is not None and store.data_format.kind == "f" else "a.u."
            channel_names = (
                (store.name,) if len(store.channels) == 1 else tuple(f"{store.name}_ch{c}" for c in store.channels)
            )
            infos[store.name] = StreamInfo(
                name=store.name,
                n_samples=self._n_samples(store=store),
                n_channels=len(store.channels),
                unit=unit,
                rate_in_Hz=store.rate_in_Hz,
                starting_time_in_s=self._stream_first_packet_time(store=store),
                channel_names=channel_names,
            )
        return infos

    def streams(self) -> Mapping[str, StreamInfo]:
        """Every stream store, keyed by Python name (``_465A``); see :meth:`resolve_store_name`."""
        return dict(self._stream_infos)

    def _check_tev(self, *, store: TdtStore) -> np.ndarray:
        tev_kind = describe_path(path=self.tev_path)
        if tev_kind != "a regular file":
            raise InputFileError(
                path=self.tev_path,
                field=f"stream data of store {store.code} ({store.name})",
                expected="the .tev data file beside the .tsq index",
                found=tev_kind,
                hint="headers and epocs are still readable without it",
            )
        table = self._stream_packets(store=store)
        tev_size = self.tev_path.stat().st_size
        if table.size:
            packet_bytes = store.samples_per_packet * store.data_format.itemsize
            needed = int(table.max()) + packet_bytes
            if needed > tev_size:
                raise InputFileError(
                    path=self.tev_path,
                    field=f"store {store.code} ({store.name}) packets",
                    expected=f"a .tev of at least {needed} bytes (where its last packet ends per the .tsq)",
                    found=f"{tev_size} bytes (the .tev is truncated)",
                )
        return table

    def read_samples(self, *, stream_name: str, start_sample: int, stop_sample: int) -> np.ndarray:
        """Read samples ``[start_sample, stop_sample)`` of a stream, reading only the packets that cover them.

        Parameters
        ----------
        stream_name : str
            Store code or Python name.
        start_sample, stop_sample : int
            Sample range per channel; clipped to the stream's length.

        Returns
        -------
        ndarray
            ``(n, n_channels)``: float32/float64 as stored for float stores, float64 counts otherwise.
        """
        store = self.resolve_store_name(store_name=stream_name)
        n_total = self._stream_infos[store.name].n_samples
        start = max(0, int(start_sample))
        stop = min(int(stop_sample), n_total)
        out_dtype = store.data_format if store.data_format.kind == "f" else np.dtype(np.float64)
        if stop <= start:
            return np.empty((0, len(store.channels)), dtype=out_dtype)
        if store.storage == "sev":
            data = self._read_sev_range(store=store, start=start, stop=stop)
        else:
            data = self._read_tev_range(store=store, start=start, stop=stop)
        return np.ascontiguousarray(data, dtype=out_dtype)

    def _read_tev_range(self, *, store: TdtStore, start: int, stop: int) -> np.ndarray:
        table = self._check_tev(store=store)
        per_packet = store.samples_per_packet
        first_packet = start // per_packet
        last_packet = -(-stop // per_packet)
        offsets = table[:, first_packet:last_packet]
        itemsize = store.data_format.itemsize
        tev_size = self.tev_path.stat().st_size
        if np.all(offsets % itemsize == 0):
            tev = np.memmap(self.tev_path, dtype=store.data_format, mode="r", shape=(tev_size // itemsize,))
            index = (offsets // itemsize).astype(np.int64)[:, :, None] + np.arange(per_packet)
            packets = tev[index]
        else:
            tev = np.memmap(self.tev_path, dtype=np.uint8, mode="r", shape=(tev_size,))
            index = offsets.astype(np.int64)[:, :, None] + np.arange(per_packet * itemsize)
            packets = np.ascontiguousarray(tev[index]).view(store.data_format)
        del tev
        samples = packets.reshape(len(store.channels), -1)
        skip = start - first_packet * per_packet
        return samples[:, skip : skip + (stop - start)].T

    def _read_sev_range(self, *, store: TdtStore, start: int, stop: int) -> np.ndarray:
        per_channel = self._sev_channel_files(store=store)
        missing = [c for c, files in zip(store.channels, per_channel) if not files]
        if missing:
            raise InputFileError(
                path=self.path,
                field=f"stream data of store {store.code} ({store.name})",
                expected=f"*_{store.code}_Ch<n>.sev files for channels {list(store.channels)}",
                found=f"no .sev file for channels {missing}",
            )
        out = np.empty((stop - start, len(store.channels)), dtype=store.data_format)
        for column, files in enumerate(per_channel):
            file_start = 0
            for sev in files:
                file_stop = file_start + sev.n_samples
                lo, hi = max(start, file_start), min(stop, file_stop)
                if lo < hi:
                    mapped = np.memmap(
                        sev.path,
                        dtype=sev.data_format,
                        mode="r",
                        offset=SEV_HEADER_BYTES,
                        shape=(sev.n_samples,),
                    )
                    out[lo - start : hi - start, column] = mapped[lo - file_start : hi - file_start]
                    del mapped
                file_start = file_stop
        return out

    def read_stream(self, *, stream_name: str) -> np.ndarray:
        """Read a whole stream into memory (tests and short blocks only); accepts code or Python name."""
        store = self.resolve_store_name(store_name=stream_name)
        return self.read_samples(
            stream_name=store.name, start_sample=0, stop_sample=self._stream_infos[store.name].n_samples
        )

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        """Yield a stream's samples in order as ``(n, n_channels)`` arrays of at most ``chunk_samples`` rows.

        Accepts the store code (``465A``) or the Python name (``_465A``).
        """
        store = self.resolve_store_name(store_name=stream_name)
        if chunk_samples < 1:
            raise ValueError(f"chunk_samples must be >= 1, got {chunk_samples}")
        n_total = self._stream_infos[store.name].n_samples
        if store.storage == "tev":
            self._check_tev(store=store)
        for start in range(0, n_total, chunk_samples):
            yield self.read_samples(stream_name=store.name, start_sample=start, stop_sample=start + chunk_samples)

    # ------------------------------------------------------------------------------------- events
    @cached_property
    def _event_channels(self) -> dict[str, EventChannel]:
        records = self._records
        onset_stores = [
            s for s in self._stores.values() if s.kind == "epoc" and s.type_code in (EVTYPE_STRON, EVTYPE_MARK)
        ]
        offset_stores = [s for s in self._stores.values() if s.kind == "epoc" and s.type_code == EVTYPE_STROFF]
        buddies: dict[str, tuple[TdtStore, np.ndarray]] = {}
        for store in offset_stores:
            indices = self._store_record_indices(store=store)
            first = records[indices[0]]
            buddy_bytes = np.array([first["channel"], first["sort_code"]], dtype="<u2").tobytes()
            buddy = buddy_bytes.decode("cp437").replace("\x00", " ")
            times = self._relative_times(indices=indices)
            buddies[buddy] = (store, times)
        onset_codes = {s.code for s in onset_stores}
        for buddy, (store, _) in buddies.items():
            if buddy not in onset_codes:
                self.notes.append(
                    f"{self.tsq_path}: strobe-off store {store.code} names buddy {buddy!r}, "
                    "which has no onsets; skipped"
                )
        channels = {}
        for store in onset_stores:
            indices = self._store_record_indices(store=store)
            onsets = self._relative_times(indices=indices)
            values = np.asarray(records["offset_or_strobe"][indices]).view(np.float64).copy()
            offsets = np.append(onsets[1:], np.inf)
            if store.code in buddies:
                offsets = buddies[store.code][1]
                if offsets.size and onsets.size and offsets[0] < onsets[0]:
                    onsets = np.insert(onsets, 0, 0.0)
                    values = np.insert(values, 0, values[0])
                if offsets.size and onsets.size and onsets[-1] > offsets[-1]:
                    offsets = np.append(offsets, np.inf)
                if offsets.size != onsets.size:
                    self.notes.append(
                        f"{self.tsq_path}: epoc {store.code} has {onsets.size} onsets and "
                        f"{offsets.size} offsets; unmatched offsets set to NaN"
                    )
                    matched = np.full(onsets.size, np.nan)
                    n = min(onsets.size, offsets.size)
                    matched[:n] = offsets[:n]
                    offsets = matched
            unique_values = np.unique(values)
            if unique_values.size == 2 and np.array_equal(unique_values, [3.0, 4.0]):
                # iCon epocs: value 3 marks onsets and value 4 offsets (tdt.read_block does the same).
                offsets = onsets[values == 4.0]
                onsets = onsets[values == 3.0]
                values = np.ones(onsets.size)
                if offsets.size != onsets.size:
                    matched = np.full(onsets.size, np.nan)
                    n = min(onsets.size, offsets.size)
                    matched[:n] = offsets[:n]
                    offsets = matched
            channels[store.name] = EventChannel(
                name=store.name, onset_times_in_s=onsets, values=values, offset_times_in_s=offsets
            )
        return channels

    def _relative_times(self, *, indices: np.ndarray) -> np.ndarray:
        absolute = np.asarray(self._records["timestamp"][indices], dtype=np.float64)
        return round_to_tdt_ticks(times_in_s=absolute - self._start_time_unix)

    def events(self) -> Mapping[str, EventChannel]:
        """Every epoc store (strobe-on, with offsets from its strobe-off buddy), keyed by Python name."""
        return dict(self._event_channels)

    def scalar_values(self, *, store_name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return a scalar store's times and values.

        Returns
        -------
        times_in_s : ndarray
            One time per scalar event (first channel's records).
        values : ndarray
            ``(n_events, n_channels)`` float64 values.
        """
        store = self.resolve_store_name(store_name=store_name, kinds=("scalar",))
        indices = self._store_record_indices(store=store)
        channels = np.asarray(self._records["channel"][indices])
        values = np.asarray(self._records["offset_or_strobe"][indices]).view(np.float64)
        per_channel = [values[channels == c] for c in store.channels]
        n = min(len(v) for v in per_channel)
        times = self._relative_times(indices=indices[channels == store.channels[0]][:n])
        return times, np.stack([v[:n] for v in per_channel], axis=1)

    def __repr__(self) -> str:
        return f"TdtBlockReader(path={os.fspath(self.path)!r})"
