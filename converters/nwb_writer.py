"""Build an NWB file from a checked session file and its rig files, streaming the big data.

Two phases, so that every input problem surfaces before any output exists and big data never sits
in memory:

1. :func:`plan_conversion` opens the rig readers (headers only), matches every channel of the session
   file to a stream of its rig file (one clear error per mismatch: unknown store, channel index out of
   range, mismatched sampling rates), aligns the EEG/EMG clock onto the photometry clock from shared
   TTL pulses (refusing when pulses cannot be matched or the residual is too large), reads the
   hypnogram, derives stimulation epochs from TTLs and checks every time against the recording.
2. :func:`write_nwbfile` writes the file structure with pynwb -- every big dataset created empty, with
   its final shape, chunks and filters (gzip level 4 + shuffle by default) -- then streams each
   series from its reader, chunk by chunk, into those datasets. For gzip the chunks are compressed in
   a thread pool (the HDF5 shuffle filter applied with numpy, then ``zlib``, which releases the GIL)
   and stored with ``write_direct_chunk``: byte for byte what HDF5's own filters write, so any HDF5
   reader decodes them.

Regular sampling is stored as ``rate`` + ``starting_time``. A secondary system's samples stay
untouched: its clock alignment (``t_photometry = slope * t_secondary + offset``) sets the series'
``starting_time`` and ``rate`` (``rate_secondary / slope``) exactly.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import functools
import mmap
import os
import re
import sys
import uuid
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np
from hdmf.backends.hdf5 import H5DataIO
from hdmf.common import DynamicTableRegion, VectorData
from ndx_fiber_photometry import (
    FiberPhotometry,
    FiberPhotometryIndicators,
    FiberPhotometryResponseSeries,
    FiberPhotometryViruses,
    FiberPhotometryVirusInjections,
)
from ndx_ophys_devices import (
    Effector,
    ExcitationSource,
    ExcitationSourceModel,
    FiberInsertion,
    Indicator,
    OpticalFiber,
    OpticalFiberModel,
    Photodetector,
    PhotodetectorModel,
    ViralVector,
    ViralVectorInjection,
)
from ndx_optogenetics import (
    OptogeneticEffectors,
    OptogeneticEpochsTable,
    OptogeneticExperimentMetadata,
    OptogeneticSitesTable,
    OptogeneticViruses,
    OptogeneticVirusInjections,
)
from pynwb import NWBHDF5IO, NWBFile
from pynwb.device import Device, DeviceModel
from pynwb.ecephys import ElectricalSeries
from pynwb.event import DurationVectorData, EventsTable, TimestampVectorData
from pynwb.file import Subject
from tqdm import tqdm

from ndx_glymphatic import (
    ClockAlignment,
    ClockAlignmentTable,
    DrugAdministrationsTable,
    ExperimentalCondition,
    FiberPhotometryChannelsTable,
    FluorescentTracer,
    Hypnogram,
    TracerInfusionsTable,
    VasomotionStimulationEpochsTable,
)
from ndx_glymphatic.converters._contract import EventChannel, HypnogramIntervals, RigReader
from ndx_glymphatic.converters.clock_alignment import ClockAlignmentResult, fit_clock_alignment
from ndx_glymphatic.converters.registry import hypnogram_reader_class, open_rig_reader, read_hypnogram
from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.session import (
    IndicatorConfig,
    SessionConfig,
    StimulationConfig,
)

__all__ = [
    "CompressionSettings",
    "ConversionPlan",
    "SeriesPlan",
    "SeriesSource",
    "encode_chunk",
    "plan_conversion",
    "write_nwbfile",
]

#: Samples per HDF5 chunk aim at this many bytes (1 MiB: HDF5's default chunk cache size).
DEFAULT_CHUNK_BYTES = 1 << 20
#: Samples read from a rig reader per call.
DEFAULT_READ_SAMPLES = 1 << 18
_VOLTS_PER_UNIT = {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6, "μV": 1e-6, "nV": 1e-9}
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


# -------------------------------------------------------------------------------- compression
@dataclass(frozen=True)
class CompressionSettings:
    """How big datasets are chunked and compressed.

    Attributes
    ----------
    method : {"gzip", "lzf", "none"}
        HDF5 filter. ``"gzip"`` (deflate) is the interoperable default every HDF5 reader decodes;
        ``"lzf"`` is faster but h5py-only.
    level : int
        gzip level (0-9); 4 by default.
    shuffle : bool
        Apply HDF5's byte-shuffle filter before compression (better ratios on floats).
    chunk_bytes : int
        Target bytes per chunk.
    n_threads : int
        Compression threads (gzip only); default one per core.
    """

    method: str = "gzip"
    level: int = 4
    shuffle: bool = True
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    n_threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))

    def __post_init__(self) -> None:
        if self.method not in ("gzip", "lzf", "none"):
            raise GlymphError(f"compression: expected one of gzip, lzf, none, got {self.method!r}")
        if not 0 <= self.level <= 9:
            raise GlymphError(f"compression level: expected 0 to 9, got {self.level}")

    def dataset_options(self) -> dict[str, object]:
        """Keyword arguments of ``H5DataIO`` for these settings (besides shape, dtype and chunks)."""
        if self.method == "none":
            return {}
        options: dict[str, object] = {"compression": self.method, "shuffle": self.shuffle}
        if self.method == "gzip":
            options["compression_opts"] = self.level
        return options


def encode_chunk(*, chunk: np.ndarray, settings: CompressionSettings) -> bytes:
    """Encode one full chunk exactly as HDF5's shuffle + deflate filters would.

    Parameters
    ----------
    chunk : ndarray
        The whole chunk (edge chunks padded to the full chunk shape), C-contiguous.
    settings : CompressionSettings
        ``method`` must be ``"gzip"`` or ``"none"``.

    Returns
    -------
    bytes
        What ``write_direct_chunk`` stores.
    """
    raw = np.ascontiguousarray(chunk)
    if settings.method == "none":
        return raw.tobytes()
    if settings.shuffle and raw.dtype.itemsize > 1:
        payload = raw.view(np.uint8).reshape(-1, raw.dtype.itemsize).T.tobytes()
    else:
        payload = raw.tobytes()
    return zlib.compress(payload, settings.level)


# ---------------------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class SeriesSource:
    """Where one column of a series comes from."""

    reader: RigReader
    stream_name: str
    stream_column: int


@dataclass(frozen=True)
class SeriesPlan:
    """One series to write: its sources, size and timing on the photometry (primary) clock."""

    name: str
    kind: str  # "photometry", "EEG" or "EMG"
    sources: tuple[SeriesSource, ...]
    n_samples: int
    rate_in_Hz: float | None
    starting_time_in_s: float
    unit: str
    conversion: float = 1.0
    timestamps_in_s: np.ndarray | None = field(default=None, repr=False)
    dtype: np.dtype = field(default=np.dtype(np.float32))

    @property
    def n_columns(self) -> int:
        """Columns of the dataset (1 is stored 1-D)."""
        return len(self.sources)

    @property
    def shape(self) -> tuple[int, ...]:
        """Dataset shape."""
        return (self.n_samples,) if self.n_columns == 1 else (self.n_samples, self.n_columns)

    @property
    def stop_time_in_s(self) -> float:
        """Time just after the last sample."""
        if self.timestamps_in_s is not None and len(self.timestamps_in_s):
            return float(self.timestamps_in_s[-1])
        return self.starting_time_in_s + self.n_samples / float(self.rate_in_Hz or 1.0)


def _to_primary(alignment: ClockAlignmentResult, times_in_s: np.ndarray) -> np.ndarray:
    return alignment.to_primary_time(secondary_times_in_s=np.asarray(times_in_s, dtype=np.float64))


@dataclass(frozen=True)
class EventPlan:
    """One event channel to store as an EventsTable (times on the primary clock)."""

    table_name: str
    source_description: str
    channel: EventChannel


@dataclass(frozen=True)
class EpochsPlan:
    """Stimulation epochs on the primary clock, with per-epoch pulse counts when derived from TTLs."""

    start_times_in_s: np.ndarray
    stop_times_in_s: np.ndarray
    pulses_per_epoch: np.ndarray | None
    pulse_length_in_ms: float | None
    period_in_ms: float | None


@dataclass
class ConversionPlan:
    """Everything :func:`write_nwbfile` needs, checked against the rig files."""

    session: SessionConfig
    series: list[SeriesPlan]
    events: list[EventPlan]
    clock_alignment: ClockAlignmentResult | None
    hypnogram: HypnogramIntervals | None  # on the primary clock
    lc_epochs: EpochsPlan | None
    vasomotion_epochs: EpochsPlan | None
    recording_start_in_s: float
    recording_stop_in_s: float
    readers: list[RigReader]
    notes: list[str]

    def all_notes(self) -> list[str]:
        """Notes of the plan and of the readers so far (readers add notes while data are read)."""
        notes = list(self.notes)
        for reader in self.readers:
            notes += reader.notes
        return list(dict.fromkeys(notes))

    def close(self) -> None:
        """Close readers that hold files open."""
        for reader in self.readers:
            reader.close()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None elsewhere)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory(*, readers: list[RigReader]) -> None:
    """Shed memory a conversion no longer needs, so the peak resident set stays flat in the recording's length.

    - Pages of memory-mapped rig files (e.g. a whole TDT ``.tsq`` index, 41 MB for 24 h) that readers scanned:
      they stay in the kernel's page cache and are mapped back if touched again (``madvise(MADV_DONTNEED)``).
    - Heap memory freed by the header scans (large temporary arrays) that the C allocator keeps
      (``malloc_trim``).
    """
    for reader in readers:
        for value in vars(reader).values():
            base = value.base if isinstance(value, np.memmap) else None
            if isinstance(base, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
                with contextlib.suppress(OSError, ValueError):
                    base.madvise(mmap.MADV_DONTNEED)
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _safe_name(text: str) -> str:
    return _NAME_UNSAFE.sub("_", text).strip("_") or "events"


def _photometry_series(*, session: SessionConfig, reader: RigReader) -> list[SeriesPlan]:
    photometry = session.photometry
    plans = []
    for index, channel in enumerate(photometry.channels):
        field_path = f"photometry.channels[{index}].stream"
        info, column = reader.resolve_stream(
            stream=channel.stream, stream_channel=channel.stream_channel, field_path=field_path
        )
        if info.n_samples < 1:
            raise InputFileError(path=reader.path, field=f"stream {info.name!r} (session {field_path})",
                                 expected="at least one sample", found="an empty stream")
        timestamps = None if info.rate_in_Hz else info.timestamps_in_s
        if not info.rate_in_Hz and timestamps is None:
            raise InputFileError(path=reader.path, field=f"stream {info.name!r}",
                                 expected="a sampling rate or per-sample timestamps", found="neither")
        plans.append(
            SeriesPlan(
                name=channel.name,
                kind="photometry",
                sources=(SeriesSource(reader=reader, stream_name=info.name, stream_column=column),),
                n_samples=info.n_samples,
                rate_in_Hz=info.rate_in_Hz,
                starting_time_in_s=float(info.starting_time_in_s),
                unit=channel.unit or info.unit,
                timestamps_in_s=None if timestamps is None else np.asarray(timestamps, dtype=np.float64),
            )
        )
    return plans


def _electrical_series(
    *, session: SessionConfig, reader: RigReader, alignment: ClockAlignmentResult | None
) -> list[SeriesPlan]:
    ephys = session.electrophysiology
    plans = []
    for series_name in ("EEG", "EMG"):
        members = [(i, c) for i, c in enumerate(ephys.channels) if c.series == series_name]
        if not members:
            continue
        resolved = []
        for index, channel in members:
            info, column = reader.resolve_stream(
                stream=channel.stream, stream_channel=channel.stream_channel,
                field_path=f"electrophysiology.channels[{index}].stream",
            )
            resolved.append((index, channel, info, column))
        rates = {info.rate_in_Hz for _, _, info, _ in resolved}
        if len(rates) != 1 or None in rates:
            listing = ", ".join(f"{c.name}: {info.rate_in_Hz} Hz" for _, c, info, _ in resolved)
            raise InputFileError(
                path=reader.path,
                field=f"sampling rates of the {series_name} channels (session electrophysiology.channels)",
                expected=f"one regular sampling rate for every channel of the {series_name} series",
                found=listing,
            )
        units = {info.unit for _, _, info, _ in resolved}
        unit = units.pop() if len(units) == 1 else None
        volts = _VOLTS_PER_UNIT.get((unit or "").strip())
        if volts is None:
            raise InputFileError(
                path=reader.path, field=f"unit of the {series_name} channels",
                expected="one voltage unit (V, mV, uV or nV)", found=", ".join(sorted(map(str, units))) or str(unit),
            )
        n_samples = min(info.n_samples for _, _, info, _ in resolved)
        if n_samples < 1:
            raise InputFileError(path=reader.path, field=f"{series_name} streams", expected="samples",
                                 found="empty streams")
        rate = float(rates.pop())
        start = float(resolved[0][2].starting_time_in_s)
        if alignment is not None:
            start = float(_to_primary(alignment, np.array([start]))[0])
            rate = rate / alignment.slope
        plans.append(
            SeriesPlan(
                name=series_name,
                kind=series_name,
                sources=tuple(SeriesSource(reader=reader, stream_name=info.name, stream_column=column)
                              for _, _, info, column in resolved),
                n_samples=n_samples,
                rate_in_Hz=rate,
                starting_time_in_s=start,
                unit="volts",
                conversion=volts,
            )
        )
    return plans


def _probe_data(*, series: list[SeriesPlan]) -> None:
    """Read the first sample of every stream: a missing or truncated data file fails now, before any output
    exists (and readers build their per-stream packet tables while their index is mapped anyway)."""
    seen = set()
    for plan in series:
        for source in plan.sources:
            key = (id(source.reader), source.stream_name)
            if key not in seen:
                seen.add(key)
                next(iter(source.reader.iter_stream_chunks(stream_name=source.stream_name, chunk_samples=1)), None)


def _align_clocks(
    *, session: SessionConfig, primary: RigReader, secondary: RigReader
) -> ClockAlignmentResult:
    config = session.electrophysiology.clock_alignment
    primary_events = primary.resolve_event_channel(
        name=config.primary_ttl_channel, field_path="electrophysiology.clock_alignment.primary_ttl_channel",
    )
    secondary_events = secondary.resolve_event_channel(
        name=config.secondary_ttl_channel, field_path="electrophysiology.clock_alignment.secondary_ttl_channel",
    )
    for reader, channel, key in ((primary, primary_events, "primary_ttl_channel"),
                                 (secondary, secondary_events, "secondary_ttl_channel")):
        if len(channel.onset_times_in_s) < 2:
            raise InputFileError(
                path=reader.path,
                field=f"event channel {channel.name!r} (session electrophysiology.clock_alignment.{key})",
                expected="shared TTL pulses to align the clocks on",
                found=f"{len(channel.onset_times_in_s)} pulses",
            )
    return fit_clock_alignment(
        primary_times_in_s=np.asarray(primary_events.onset_times_in_s, dtype=np.float64),
        secondary_times_in_s=np.asarray(secondary_events.onset_times_in_s, dtype=np.float64),
        primary_system=config.primary_system or f"{primary.format_name} (photometry)",
        secondary_system=config.secondary_system or f"{secondary.format_name} (EEG/EMG)",
        primary_ttl_channel=primary_events.name,
        secondary_ttl_channel=secondary_events.name,
        primary_path=primary.path,
        secondary_path=secondary.path,
        min_matched_pulses=config.min_matched_pulses,
        max_residual_rms_in_s=config.max_residual_rms_in_s,
        tolerance_in_s=config.tolerance_in_s,
        expected_offset_in_s=config.expected_offset_in_s,
        offset_search_window_in_s=config.offset_search_window_in_s,
    )


def _aligned_channel(channel: EventChannel, alignment: ClockAlignmentResult | None) -> EventChannel:
    if alignment is None:
        return channel
    offsets = None if channel.offset_times_in_s is None else _to_primary(alignment, channel.offset_times_in_s)
    return EventChannel(
        name=channel.name,
        onset_times_in_s=_to_primary(alignment, channel.onset_times_in_s),
        values=channel.values,
        offset_times_in_s=offsets,
        labels=channel.labels,
    )


def _event_plans(
    *, session: SessionConfig, photometry_reader: RigReader | None, ephys_reader: RigReader | None,
    alignment: ClockAlignmentResult | None,
) -> list[EventPlan]:
    plans: list[EventPlan] = []
    if photometry_reader is not None:
        wanted = session.photometry.events
        available = photometry_reader.events()
        names = list(available) if wanted is None else list(wanted)
        for index, name in enumerate(names):
            channel = (available[name] if wanted is None else photometry_reader.resolve_event_channel(
                name=name, field_path=f"photometry.events[{index}]"))
            plans.append(EventPlan(
                table_name=f"ttl_{_safe_name(channel.name)}",
                source_description=f"{photometry_reader.format_name} event channel {channel.name!r} of "
                f"{photometry_reader.path.name}",
                channel=channel,
            ))
    if ephys_reader is not None:
        own_clock = session.ephys_needs_alignment
        for index, name in enumerate(session.electrophysiology.events):
            channel = ephys_reader.resolve_event_channel(name=name, field_path=f"electrophysiology.events[{index}]")
            prefix = "eeg_ttl" if photometry_reader is not None else "ttl"
            if not own_clock and photometry_reader is not None:
                continue  # same file as photometry: already stored above when listed there
            plans.append(EventPlan(
                table_name=f"{prefix}_{_safe_name(channel.name)}",
                source_description=f"{ephys_reader.format_name} event channel {channel.name!r} of "
                f"{ephys_reader.path.name}" + (", put on the photometry clock" if alignment else ""),
                channel=_aligned_channel(channel, alignment),
            ))
    seen: set[str] = set()
    unique = []
    for plan in plans:
        name = plan.table_name
        suffix = 2
        while name in seen:
            name = f"{plan.table_name}_{suffix}"
            suffix += 1
        seen.add(name)
        unique.append(EventPlan(table_name=name, source_description=plan.source_description, channel=plan.channel))
    return unique


def _epochs_from_ttl(
    *, stimulation: StimulationConfig, section: str, session: SessionConfig, photometry_reader: RigReader | None,
    ephys_reader: RigReader | None, alignment: ClockAlignmentResult | None,
) -> EpochsPlan:
    from_ttl = stimulation.from_ttl
    field_path = f"optogenetics.{section}.from_ttl.event_channel"
    if from_ttl.system == "electrophysiology":
        channel = _aligned_channel(
            ephys_reader.resolve_event_channel(name=from_ttl.event_channel, field_path=field_path),
            alignment if session.ephys_needs_alignment else None,
        )
        reader = ephys_reader
    else:
        reader = photometry_reader
        channel = reader.resolve_event_channel(name=from_ttl.event_channel, field_path=field_path)
    onsets = np.asarray(channel.onset_times_in_s, dtype=np.float64)
    if onsets.size == 0:
        raise InputFileError(path=reader.path, field=f"event channel {channel.name!r} (session {field_path})",
                             expected="TTL pulses marking the stimulation", found="no events")
    offsets = channel.offset_times_in_s
    widths = None
    if offsets is not None:
        width_values = np.asarray(offsets, dtype=np.float64) - onsets
        good = np.isfinite(width_values) & (width_values > 0) & (width_values < from_ttl.max_gap_in_s)
        widths = np.where(good, width_values, np.nan)
    breaks = np.flatnonzero(np.diff(onsets) > from_ttl.max_gap_in_s) + 1
    groups = np.split(np.arange(onsets.size), breaks)
    pulse_length_in_ms = stimulation.pulse_length_in_ms
    if pulse_length_in_ms is None and widths is not None and np.any(np.isfinite(widths)):
        pulse_length_in_ms = float(np.nanmedian(widths) * 1e3)
    period_in_ms = stimulation.period_in_ms
    if period_in_ms is None:
        inner = np.concatenate([np.diff(onsets[g]) for g in groups]) if onsets.size > 1 else np.array([])
        period_in_ms = float(np.median(inner) * 1e3) if inner.size else None
    starts, stops, counts = [], [], []
    for group in groups:
        start = onsets[group[0]]
        last = group[-1]
        stop = np.nan
        if widths is not None and np.isfinite(widths[last]):
            stop = onsets[last] + widths[last]
        if not np.isfinite(stop):
            stop = onsets[last] + (pulse_length_in_ms or 0.0) / 1e3
        if stop <= start:
            stop = start + 1e-3
        starts.append(start)
        stops.append(stop)
        counts.append(len(group))
    return EpochsPlan(
        start_times_in_s=np.asarray(starts), stop_times_in_s=np.asarray(stops),
        pulses_per_epoch=np.asarray(counts), pulse_length_in_ms=pulse_length_in_ms, period_in_ms=period_in_ms,
    )


def _epochs_plan(
    *, stimulation: StimulationConfig | None, section: str, session: SessionConfig,
    photometry_reader: RigReader | None, ephys_reader: RigReader | None, alignment: ClockAlignmentResult | None,
) -> EpochsPlan | None:
    if stimulation is None:
        return None
    if stimulation.from_ttl is not None:
        return _epochs_from_ttl(stimulation=stimulation, section=section, session=session,
                                photometry_reader=photometry_reader, ephys_reader=ephys_reader,
                                alignment=alignment)
    return EpochsPlan(
        start_times_in_s=np.array([e.start_time_in_s for e in stimulation.epochs], dtype=np.float64),
        stop_times_in_s=np.array([e.stop_time_in_s for e in stimulation.epochs], dtype=np.float64),
        pulses_per_epoch=None,
        pulse_length_in_ms=stimulation.pulse_length_in_ms,
        period_in_ms=stimulation.period_in_ms,
    )


def _read_hypnogram(*, session: SessionConfig, alignment: ClockAlignmentResult | None) -> HypnogramIntervals:
    config = session.hypnogram
    session_options = {"state_codes": config.state_codes, "column": config.column,
                       "start_time_in_s": config.start_time_in_s, "state_columns": config.state_columns,
                       "label_map": config.label_map}
    intervals = read_hypnogram(
        path=config.file, format=config.format, scorer=config.scorer, scoring_method=config.scoring_method,
        epoch_length_in_s=config.epoch_length_in_s,
        options={name: session_options[name] for name in hypnogram_reader_class(format=config.format).options},
    )
    if alignment is not None and session.hypnogram_clock() == "electrophysiology" and session.ephys_needs_alignment:
        intervals = intervals.on_clock(to_time=functools.partial(_to_primary, alignment))
    return intervals


def _check_within_recording(
    *, path: Path, field_path: str, starts: np.ndarray, stops: np.ndarray, recording: tuple[float, float],
    tolerance_in_s: float,
) -> None:
    if len(starts) == 0:
        return
    low, high = recording
    first, last = float(np.min(starts)), float(np.max(stops))
    if first < low - tolerance_in_s or last > high + tolerance_in_s:
        raise InputFileError(
            path=path,
            field=field_path,
            expected=f"times within the recording, {low:.3f} s to {high:.3f} s on the photometry clock",
            found=f"times from {first:.3f} s to {last:.3f} s",
            hint="check the file belongs to this session (or its clock setting)",
        )


def plan_conversion(*, session: SessionConfig) -> ConversionPlan:
    """Open the rig files of a checked session (headers only) and check them against the session file.

    Raises
    ------
    InputFileError
        The first mismatch between the session file and the rig files (file, field, expected, found).
    """
    readers: list[RigReader] = []
    notes: list[str] = []
    try:
        photometry_reader = None
        ephys_reader = None
        if session.photometry is not None:
            photometry = session.photometry
            photometry_reader = open_rig_reader(
                format=photometry.format, path=photometry.file,
                options={"digital_input_paths": photometry.digital_input_files, "led_order": photometry.led_order,
                         "series": photometry.series},
            )
            readers.append(photometry_reader)
        if session.electrophysiology is not None:
            if session.ephys_needs_alignment or photometry_reader is None:
                ephys_reader = open_rig_reader(format=session.electrophysiology.format,
                                               path=session.electrophysiology.file)
                readers.append(ephys_reader)
            else:
                ephys_reader = photometry_reader
        series: list[SeriesPlan] = []
        if photometry_reader is not None:
            series += _photometry_series(session=session, reader=photometry_reader)
            _probe_data(series=series)
            photometry_reader.events()
            release_memory(readers=readers)
        alignment = None
        if session.ephys_needs_alignment:
            alignment = _align_clocks(session=session, primary=photometry_reader, secondary=ephys_reader)
        if ephys_reader is not None:
            series += _electrical_series(session=session, reader=ephys_reader, alignment=alignment)
        _probe_data(series=[plan for plan in series if plan.kind != "photometry"])
        starts = [plan.starting_time_in_s if plan.timestamps_in_s is None else float(plan.timestamps_in_s[0])
                  for plan in series]
        recording = (min(starts), max(plan.stop_time_in_s for plan in series))
        events = _event_plans(session=session, photometry_reader=photometry_reader, ephys_reader=ephys_reader,
                              alignment=alignment)
        hypnogram = None
        if session.hypnogram is not None:
            hypnogram = _read_hypnogram(session=session, alignment=alignment)
            notes += hypnogram.notes
            tolerance = max(1.0, hypnogram.epoch_length_in_s or 0.0)
            _check_within_recording(
                path=session.hypnogram.file, field_path="scored intervals", starts=hypnogram.start_times_in_s,
                stops=hypnogram.stop_times_in_s, recording=recording, tolerance_in_s=tolerance,
            )
        for index, infusion in enumerate(session.infusions):
            _check_within_recording(
                path=session.path, field_path=f"infusions[{index}] start_time_in_s / stop_time_in_s",
                starts=np.array([infusion.start_time_in_s]), stops=np.array([infusion.stop_time_in_s]),
                recording=recording, tolerance_in_s=1.0,
            )
        for index, drug in enumerate(session.drugs):
            if drug.time_in_s > recording[1]:
                raise InputFileError(
                    path=session.path, field=f"drugs[{index}].time_in_s",
                    expected=f"a time before the end of the recording ({recording[1]:.3f} s)",
                    found=f"{drug.time_in_s} s",
                )
        lc_epochs = vasomotion_epochs = None
        if session.optogenetics is not None:
            common = {"session": session, "photometry_reader": photometry_reader, "ephys_reader": ephys_reader,
                      "alignment": alignment}
            lc_epochs = _epochs_plan(stimulation=session.optogenetics.lc_stimulation, section="lc_stimulation",
                                     **common)
            vasomotion_epochs = _epochs_plan(stimulation=session.optogenetics.vasomotion_stimulation,
                                             section="vasomotion_stimulation", **common)
            for section, epochs in (("lc_stimulation", lc_epochs), ("vasomotion_stimulation", vasomotion_epochs)):
                if epochs is not None:
                    _check_within_recording(
                        path=session.path, field_path=f"optogenetics.{section} epochs",
                        starts=epochs.start_times_in_s, stops=epochs.stop_times_in_s, recording=recording,
                        tolerance_in_s=1.0,
                    )
        for event in events:
            if len(event.channel.onset_times_in_s) == 0:
                notes.append(f"event channel {event.channel.name!r} has no events; no {event.table_name} table written")
        if photometry_reader is not None and photometry_reader.session_start_time is not None:
            rig_start = photometry_reader.session_start_time
            declared = session.session.session_start_time
            if rig_start.tzinfo is not None and abs((rig_start - declared).total_seconds()) > 60:
                notes.append(
                    f"{session.path}: session.session_start_time ({declared.isoformat()}) differs from the "
                    f"photometry file's start ({rig_start.isoformat()}); rig times are taken relative to "
                    "session_start_time"
                )
        release_memory(readers=readers)
        return ConversionPlan(
            session=session, series=series, events=events, clock_alignment=alignment, hypnogram=hypnogram,
            lc_epochs=lc_epochs, vasomotion_epochs=vasomotion_epochs, recording_start_in_s=recording[0],
            recording_stop_in_s=recording[1], readers=readers, notes=notes,
        )
    except BaseException:
        for reader in readers:
            reader.close()
        raise


# ----------------------------------------------------------------------------------- NWB build
def _viral_objects(
    config: IndicatorConfig, cache: dict[str, object]
) -> tuple[ViralVector | None, ViralVectorInjection | None]:
    if config.viral_vector is None:
        return None, None
    vector_config = config.viral_vector
    vector = cache.get(f"vector:{vector_config.name}")
    if vector is None:
        vector = ViralVector(
            name=vector_config.name, construct_name=vector_config.construct_name,
            description=vector_config.description, manufacturer=vector_config.manufacturer,
            titer_in_vg_per_ml=float(vector_config.titer_in_vg_per_ml),
        )
        cache[f"vector:{vector_config.name}"] = vector
    if config.injection is None:
        return vector, None
    injection_config = config.injection
    injection = ViralVectorInjection(
        name=injection_config.name or f"{config.name}_injection",
        description=injection_config.description or f"Injection of {vector_config.construct_name}.",
        location=injection_config.location, hemisphere=injection_config.hemisphere,
        reference=injection_config.reference, ap_in_mm=float(injection_config.ap_in_mm),
        ml_in_mm=float(injection_config.ml_in_mm), dv_in_mm=float(injection_config.dv_in_mm),
        volume_in_uL=float(injection_config.volume_in_uL), viral_vector=vector,
    )
    return vector, injection


def _add_devices(*, nwbfile: NWBFile, session: SessionConfig) -> dict[str, object]:
    devices: dict[str, object] = {}
    for config in session.excitation_sources:
        model = ExcitationSourceModel(
            name=f"{config.name}_model", description=f"Model of {config.name}: {config.description}",
            manufacturer=config.manufacturer, model_number=config.model_number, source_type=config.source_type,
            excitation_mode=config.excitation_mode,
            **({"wavelength_range_in_nm": [float(config.wavelength_in_nm)] * 2} if config.wavelength_in_nm else {}),
        )
        nwbfile.add_device_model(model)
        devices[config.name] = ExcitationSource(
            name=config.name, description=config.description, model=model,
            **({"power_in_W": float(config.power_in_W)} if config.power_in_W else {}),
        )
    for config in session.photodetectors:
        model = PhotodetectorModel(
            name=f"{config.name}_model", description=f"Model of {config.name}: {config.description}",
            manufacturer=config.manufacturer, model_number=config.model_number, detector_type=config.detector_type,
        )
        nwbfile.add_device_model(model)
        devices[config.name] = Photodetector(name=config.name, description=config.description, model=model)
    for config in session.optical_fibers:
        model = OpticalFiberModel(
            name=f"{config.name}_model", description=f"Model of {config.name}: {config.description}",
            manufacturer=config.manufacturer, model_number=config.model_number,
            numerical_aperture=float(config.numerical_aperture),
            **({"core_diameter_in_um": float(config.core_diameter_in_um)} if config.core_diameter_in_um else {}),
        )
        nwbfile.add_device_model(model)
        devices[config.name] = OpticalFiber(
            name=config.name, description=config.description, model=model,
            fiber_insertion=FiberInsertion(
                name="fiber_insertion", insertion_position_ap_in_mm=float(config.ap_in_mm),
                insertion_position_ml_in_mm=float(config.ml_in_mm), depth_in_mm=float(config.depth_in_mm),
                position_reference=config.position_reference, hemisphere=config.hemisphere,
            ),
        )
    for device in devices.values():
        nwbfile.add_device(device)
    return devices


def _new_nwbfile(*, session: SessionConfig) -> NWBFile:
    info = session.session
    optional = {
        key: value
        for key, value in (
            ("experiment_description", info.experiment_description),
            ("keywords", list(info.keywords) or None),
            ("related_publications", list(info.related_publications) or None),
            ("surgery", info.surgery),
            ("pharmacology", info.pharmacology),
            ("notes", info.notes),
        )
        if value
    }
    nwbfile = NWBFile(
        session_description=info.session_description,
        identifier=info.identifier or str(uuid.uuid4()),
        session_start_time=info.session_start_time,
        session_id=info.session_id,
        experimenter=list(info.experimenter),
        lab=info.lab,
        institution=info.institution,
        **optional,
    )
    subject = session.subject
    date_of_birth = None
    if subject.date_of_birth:
        text = subject.date_of_birth if "T" in subject.date_of_birth else subject.date_of_birth + "T00:00:00"
        date_of_birth = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if date_of_birth.tzinfo is None:
            date_of_birth = date_of_birth.replace(tzinfo=info.session_start_time.tzinfo)
    nwbfile.subject = Subject(
        subject_id=subject.subject_id, species=subject.species, sex=subject.sex, age=subject.age,
        strain=subject.strain, genotype=subject.genotype, description=subject.description,
        weight=subject.weight, date_of_birth=date_of_birth,
    )
    return nwbfile


def _data_io(*, plan: SeriesPlan, settings: CompressionSettings) -> H5DataIO:
    row_bytes = plan.dtype.itemsize * plan.n_columns
    chunk_rows = max(1, min(plan.n_samples, settings.chunk_bytes // row_bytes))
    chunks = (chunk_rows,) if plan.n_columns == 1 else (chunk_rows, plan.n_columns)
    return H5DataIO(shape=plan.shape, dtype=plan.dtype, chunks=chunks, **settings.dataset_options())


def _timing(plan: SeriesPlan) -> dict[str, object]:
    if plan.timestamps_in_s is not None:
        return {"timestamps": H5DataIO(plan.timestamps_in_s, compression="gzip", compression_opts=4)}
    return {"rate": float(plan.rate_in_Hz), "starting_time": float(plan.starting_time_in_s)}


def _add_photometry(
    *, nwbfile: NWBFile, plan: ConversionPlan, devices: dict[str, object], settings: CompressionSettings,
    cache: dict[str, object],
) -> dict[str, object]:
    session = plan.session
    indicators: dict[str, object] = {}
    vectors: list[object] = []
    injections: list[object] = []
    for config in session.indicators:
        vector, injection = _viral_objects(config, cache)
        if vector is not None and vector not in vectors:
            vectors.append(vector)
        if injection is not None:
            injections.append(injection)
        indicators[config.name] = Indicator(
            name=config.name, label=config.label, description=config.description,
            manufacturer=config.manufacturer, viral_vector_injection=injection,
        )
    for config in session.tracers:
        indicators[config.name] = FluorescentTracer(
            name=config.name, label=config.label, description=config.description,
            manufacturer=config.manufacturer, fluorophore=config.fluorophore,
            carrier_molecule=config.carrier_molecule, molecular_weight_in_kDa=float(config.molecular_weight_in_kDa),
            labeled_compartment=config.labeled_compartment,
            excitation_peak_in_nm=float(config.excitation_peak_in_nm),
            emission_peak_in_nm=float(config.emission_peak_in_nm),
        )
    if session.photometry is None:
        return indicators
    table = FiberPhotometryChannelsTable(
        name="fiber_photometry_table",
        description="Photometry channels: what each measures, its role and its control channel.",
    )
    fibers = {config.name: config for config in session.optical_fibers}
    channels = session.photometry.channels
    row_of = {channel.name: row for row, channel in enumerate(channels)}
    for channel in channels:
        table.add_row(
            location=channel.location or fibers[channel.optical_fiber].location,
            excitation_wavelength_in_nm=float(channel.excitation_wavelength_in_nm),
            emission_wavelength_in_nm=float(channel.emission_wavelength_in_nm),
            indicator=indicators[channel.indicator],
            optical_fiber=devices[channel.optical_fiber],
            excitation_source=devices[channel.excitation_source],
            photodetector=devices[channel.photodetector],
            measured_quantity=channel.measured_quantity,
            channel_role=channel.channel_role,
            control_channel=row_of[channel.control_channel] if channel.control_channel else -1,
            stream_name=channel.stream,
        )
    optional = {}
    if vectors:
        optional["fiber_photometry_viruses"] = FiberPhotometryViruses(viral_vectors=vectors)
    if injections:
        optional["fiber_photometry_virus_injections"] = FiberPhotometryVirusInjections(
            viral_vector_injections=injections
        )
    nwbfile.add_lab_meta_data(
        FiberPhotometry(
            name="fiber_photometry",
            fiber_photometry_table=table,
            fiber_photometry_indicators=FiberPhotometryIndicators(indicators=list(indicators.values())),
            **optional,
        )
    )
    series_plans = {p.name: p for p in plan.series if p.kind == "photometry"}
    for row, channel in enumerate(channels):
        series_plan = series_plans[channel.name]
        nwbfile.add_acquisition(
            FiberPhotometryResponseSeries(
                name=channel.name,
                description=channel.description,
                data=_data_io(plan=series_plan, settings=settings),
                unit=series_plan.unit,
                fiber_photometry_table_region=DynamicTableRegion(
                    name="fiber_photometry_table_region", data=[row],
                    description=f"The channel row of '{channel.name}'.", table=table,
                ),
                comments=f"Rig stream {channel.stream!r} of {session.photometry.file.name}.",
                **_timing(series_plan),
            )
        )
    return indicators


def _add_electrophysiology(*, nwbfile: NWBFile, plan: ConversionPlan, settings: CompressionSettings) -> None:
    ephys = plan.session.electrophysiology
    if ephys is None:
        return
    amplifier = ephys.amplifier
    model = None
    if amplifier.manufacturer:
        model = DeviceModel(
            name=f"{amplifier.name}_model", manufacturer=amplifier.manufacturer,
            model_number=amplifier.model_number, description=f"Model of: {amplifier.description}",
        )
        nwbfile.add_device_model(model)
    device = Device(name=amplifier.name, description=amplifier.description, model=model)
    nwbfile.add_device(device)
    groups = {
        config.name: nwbfile.create_electrode_group(
            name=config.name, description=config.description, location=config.location, device=device
        )
        for config in ephys.electrode_groups
    }
    nwbfile.add_electrode_column(name="channel_name", description="Channel name given in the session file.")
    nwbfile.add_electrode_column(name="rig_stream", description="Stream (and channel) of the rig file.")
    rows: dict[str, list[int]] = {"EEG": [], "EMG": []}
    for series_name in ("EEG", "EMG"):
        for channel in (c for c in ephys.channels if c.series == series_name):
            rows[series_name].append(len(nwbfile.electrodes) if nwbfile.electrodes is not None else 0)
            nwbfile.add_electrode(
                group=groups[channel.group], location=channel.ccf_location, channel_name=channel.name,
                rig_stream=f"{channel.stream}[{channel.stream_channel}]",
            )
    for series_plan in (p for p in plan.series if p.kind in ("EEG", "EMG")):
        aligned = plan.clock_alignment is not None
        nwbfile.add_acquisition(
            ElectricalSeries(
                name=series_plan.name,
                description=f"{series_plan.name} from {ephys.file.name}"
                + (" (timing put on the photometry clock, see lab_meta_data/clock_alignment)" if aligned else "."),
                data=_data_io(plan=series_plan, settings=settings),
                electrodes=nwbfile.create_electrode_table_region(
                    region=rows[series_plan.name], description=f"{series_plan.name} electrodes"
                ),
                conversion=series_plan.conversion,
                filtering=ephys.filtering,
                **_timing(series_plan),
            )
        )


def _add_events(*, nwbfile: NWBFile, plan: ConversionPlan) -> None:
    descriptions = {column["name"]: column["description"] for column in EventsTable.__columns__}
    for event in plan.events:
        channel = event.channel
        onsets = np.asarray(channel.onset_times_in_s, dtype=np.float64)
        if onsets.size == 0:
            continue  # an empty table is a best-practice violation; the channel had no events
        order = np.argsort(onsets, kind="stable")
        durations = np.full(onsets.size, np.nan)
        if channel.offset_times_in_s is not None:
            durations = np.asarray(channel.offset_times_in_s, dtype=np.float64) - onsets
            durations[~np.isfinite(durations) | (durations < 0)] = np.nan
        columns = [
            TimestampVectorData(name="timestamp", description=descriptions["timestamp"], data=onsets[order]),
            DurationVectorData(name="duration", description=descriptions["duration"], data=durations[order]),
        ]
        values = np.asarray(channel.values, dtype=np.float64)
        if values.size == onsets.size and np.any(np.isfinite(values)):
            columns.append(VectorData(name="value", description="Value of the event (strobe / digital level).",
                                      data=values[order]))
        if len(channel.labels) == onsets.size:
            columns.append(VectorData(name="label", description="Text of the event (annotation).",
                                      data=[channel.labels[index] for index in order]))
        nwbfile.add_events_table(
            EventsTable(name=event.table_name, description=f"Events of {event.source_description}.",
                        source_description=event.source_description, columns=columns)
        )


def _add_optogenetics(
    *, nwbfile: NWBFile, plan: ConversionPlan, devices: dict[str, object], cache: dict[str, object]
) -> None:
    config = plan.session.optogenetics
    if config is None:
        return
    effectors = {}
    vectors: list[object] = []
    injections: list[object] = []
    for effector_config in config.effectors:
        vector, injection = _viral_objects(effector_config, cache)
        if vector is not None and vector not in vectors:
            vectors.append(vector)
        if injection is not None:
            injections.append(injection)
        effectors[effector_config.name] = Effector(
            name=effector_config.name, label=effector_config.label, description=effector_config.description,
            manufacturer=effector_config.manufacturer, viral_vector_injection=injection,
        )
    sites = OptogeneticSitesTable(description="Optogenetic stimulation sites.")
    site_rows = {}
    for row, site in enumerate(config.sites):
        sites.add_row(excitation_source=devices[site.excitation_source], optical_fiber=devices[site.optical_fiber],
                      effector=effectors[site.effector])
        site_rows[site.name] = row
    optional = {}
    if vectors:
        optional["optogenetic_viruses"] = OptogeneticViruses(viral_vectors=vectors)
    if injections:
        optional["optogenetic_virus_injections"] = OptogeneticVirusInjections(viral_vector_injections=injections)
    nwbfile.add_lab_meta_data(
        OptogeneticExperimentMetadata(
            stimulation_software=config.stimulation_software, optogenetic_sites_table=sites,
            optogenetic_effectors=OptogeneticEffectors(effectors=list(effectors.values())), **optional,
        )
    )
    if config.lc_stimulation is not None and plan.lc_epochs is not None:
        table = OptogeneticEpochsTable(
            name="lc_optogenetic_stimulation", description=config.lc_stimulation.description,
            target_tables={"optogenetic_sites": sites},
        )
        _add_epoch_rows(table=table, stimulation=config.lc_stimulation, epochs=plan.lc_epochs, site_rows=site_rows)
        nwbfile.add_time_intervals(table)
    if config.vasomotion_stimulation is not None and plan.vasomotion_epochs is not None:
        stimulation = config.vasomotion_stimulation
        table = VasomotionStimulationEpochsTable(
            name="vasomotion_stimulation", description=stimulation.description,
            target_tables={"optogenetic_sites": sites},
        )
        _add_epoch_rows(table=table, stimulation=stimulation, epochs=plan.vasomotion_epochs, site_rows=site_rows,
                        vasomotion=True)
        nwbfile.add_time_intervals(table)


def _add_epoch_rows(
    *, table: object, stimulation: StimulationConfig, epochs: EpochsPlan, site_rows: dict[str, int],
    vasomotion: bool = False,
) -> None:
    period_in_ms = epochs.period_in_ms
    pulse_length_in_ms = epochs.pulse_length_in_ms
    if vasomotion and stimulation.modulation_frequency_in_Hz:
        period_in_ms = period_in_ms or 1000.0 / stimulation.modulation_frequency_in_Hz
        pulse_length_in_ms = pulse_length_in_ms or period_in_ms / 2.0
    for index, (start, stop) in enumerate(zip(epochs.start_times_in_s, epochs.stop_times_in_s)):
        if epochs.pulses_per_epoch is not None:
            pulses = int(epochs.pulses_per_epoch[index])
        elif stimulation.number_pulses_per_pulse_train is not None:
            pulses = int(stimulation.number_pulses_per_pulse_train)
        else:
            pulses = max(1, round((stop - start) * 1000.0 / period_in_ms)) if period_in_ms else 1
        row = {
            "start_time": float(start), "stop_time": float(stop), "stimulation_on": True,
            "pulse_length_in_ms": float(pulse_length_in_ms if pulse_length_in_ms is not None else np.nan),
            "period_in_ms": float(period_in_ms if period_in_ms is not None else np.nan),
            "number_pulses_per_pulse_train": pulses, "number_trains": int(stimulation.number_trains),
            "intertrain_interval_in_ms": float(stimulation.intertrain_interval_in_ms),
            "power_in_mW": float(stimulation.power_in_mW), "wavelength_in_nm": float(stimulation.wavelength_in_nm),
            "optogenetic_sites": [site_rows[name] for name in stimulation.sites],
        }
        if vasomotion:
            row.update(
                stimulation_method=stimulation.stimulation_method, target=stimulation.target,
                modulation_frequency_in_Hz=float(stimulation.modulation_frequency_in_Hz),
                modulation_waveform=stimulation.modulation_waveform,
            )
        table.add_row(**row)


def _add_intervals_and_metadata(*, nwbfile: NWBFile, plan: ConversionPlan, indicators: dict[str, object]) -> None:
    session = plan.session
    if plan.hypnogram is not None:
        config = session.hypnogram
        intervals = plan.hypnogram
        hypnogram = Hypnogram(
            description=config.description or f"Sleep states scored {config.scoring_method}ly by {config.scorer} "
            f"({config.file.name}).",
            scoring_method=intervals.scoring_method, scorer=intervals.scorer,
            epoch_length_in_s=intervals.epoch_length_in_s,
        )
        for start, stop, state in zip(intervals.start_times_in_s, intervals.stop_times_in_s, intervals.sleep_states):
            hypnogram.add_row(start_time=float(start), stop_time=float(stop), sleep_state=state)
        nwbfile.add_time_intervals(hypnogram)
    if session.infusions:
        table = TracerInfusionsTable(description="Fluorescent tracer infusions.")
        for infusion in session.infusions:
            table.add_row(
                start_time=float(infusion.start_time_in_s), stop_time=float(infusion.stop_time_in_s),
                tracer=indicators[infusion.tracer], route=infusion.route, site=infusion.site,
                volume_in_uL=float(infusion.volume_in_uL), rate_in_uL_per_min=float(infusion.rate_in_uL_per_min),
                concentration=float(infusion.concentration), concentration_unit=infusion.concentration_unit,
            )
        nwbfile.add_time_intervals(table)
    if session.drugs:
        table = DrugAdministrationsTable(description="Drug and vehicle administrations.")
        for drug in session.drugs:
            table.add_row(
                start_time=float(drug.time_in_s), stop_time=float(drug.time_in_s + drug.duration_in_s),
                drug=drug.drug, dose=float(drug.dose), dose_unit=drug.dose_unit, route=drug.route,
                vehicle=drug.vehicle,
            )
        nwbfile.add_time_intervals(table)
    if session.condition is not None:
        nwbfile.add_lab_meta_data(
            ExperimentalCondition(condition=session.condition.condition, is_control=bool(session.condition.is_control),
                                  description=session.condition.description)
        )
    alignment = plan.clock_alignment
    if alignment is not None:
        table = ClockAlignmentTable(
            description="TTL-based alignment of the EEG/EMG clock onto the photometry clock: "
            "t_primary = slope * t_secondary + offset_in_s."
        )
        row = alignment.as_table_row()
        row["matched_primary_times_in_s"] = np.asarray(row["matched_primary_times_in_s"]).tolist()
        row["matched_secondary_times_in_s"] = np.asarray(row["matched_secondary_times_in_s"]).tolist()
        table.add_row(**row)
        nwbfile.add_lab_meta_data(ClockAlignment(clock_alignment_table=table))


def build_nwbfile(*, plan: ConversionPlan, settings: CompressionSettings) -> NWBFile:
    """The in-memory NWB file of a plan, with empty (shape-only) datasets for the big series."""
    nwbfile = _new_nwbfile(session=plan.session)
    devices = _add_devices(nwbfile=nwbfile, session=plan.session)
    cache: dict[str, object] = {}
    indicators = _add_photometry(nwbfile=nwbfile, plan=plan, devices=devices, settings=settings, cache=cache)
    _add_electrophysiology(nwbfile=nwbfile, plan=plan, settings=settings)
    _add_optogenetics(nwbfile=nwbfile, plan=plan, devices=devices, cache=cache)
    _add_intervals_and_metadata(nwbfile=nwbfile, plan=plan, indicators=indicators)
    _add_events(nwbfile=nwbfile, plan=plan)
    return nwbfile


# --------------------------------------------------------------------------------- streaming
def iter_series_blocks(*, plan: SeriesPlan, read_samples: int = DEFAULT_READ_SAMPLES) -> Iterator[np.ndarray]:
    """Yield a series' samples in order as ``(n,)`` or ``(n, n_columns)`` float32 blocks.

    Each stream is read once even when several columns come from it.
    """
    groups: dict[tuple[int, str], list[tuple[int, int]]] = collections.OrderedDict()
    readers: dict[int, RigReader] = {}
    for output_column, source in enumerate(plan.sources):
        key = (id(source.reader), source.stream_name)
        readers[id(source.reader)] = source.reader
        groups.setdefault(key, []).append((source.stream_column, output_column))
    iterators = [
        (readers[reader_id].iter_stream_chunks(stream_name=stream, chunk_samples=read_samples), columns)
        for (reader_id, stream), columns in groups.items()
    ]
    written = 0
    while written < plan.n_samples:
        pieces = []
        for iterator, columns in iterators:
            piece = next(iterator, None)
            if piece is None or len(piece) == 0:
                raise InputFileError(
                    path=plan.sources[0].reader.path, field=f"stream data of series {plan.name!r}",
                    expected=f"{plan.n_samples} samples", found=f"{written} samples (the data ends early)",
                )
            pieces.append((np.asarray(piece).reshape(len(piece), -1), columns))
        n = min(min(len(piece) for piece, _ in pieces), plan.n_samples - written)
        block = np.empty((n, plan.n_columns), dtype=plan.dtype)
        for piece, columns in pieces:
            for stream_column, output_column in columns:
                block[:, output_column] = piece[:n, stream_column]
        written += n
        yield block[:, 0] if plan.n_columns == 1 else block


class _DirectChunkWriter:
    """Fill a chunked dataset in order: buffer whole chunks, encode them in a pool, write them in order."""

    def __init__(
        self, *, dataset: h5py.Dataset, settings: CompressionSettings,
        pool: concurrent.futures.ThreadPoolExecutor | None, on_written: Callable[[int], None],
    ) -> None:
        n_workers = settings.n_threads if pool is not None else 1
        self.dataset = dataset
        self.settings = settings
        self.pool = pool
        self.on_written = on_written
        self.chunk_shape = dataset.chunks
        self.chunk_rows = dataset.chunks[0]
        self.direct = settings.method in ("gzip", "none")
        # chunks encoded or waiting to be written: enough to keep every thread busy, few enough to bound memory
        self.max_in_flight = n_workers + 1
        self.pending: collections.deque = collections.deque()
        self.buffer = np.zeros(self.chunk_shape, dtype=dataset.dtype)
        self.filled = 0
        self.chunk_start = 0

    def append(self, block: np.ndarray) -> None:
        position = 0
        while position < len(block):
            take = min(self.chunk_rows - self.filled, len(block) - position)
            self.buffer[self.filled : self.filled + take] = block[position : position + take]
            self.filled += take
            position += take
            if self.filled == self.chunk_rows:
                self._submit()

    def _submit(self) -> None:
        rows = self.filled
        chunk = self.buffer
        if rows < self.chunk_rows:
            chunk[rows:] = 0
        offset = (self.chunk_start,) + (0,) * (len(self.chunk_shape) - 1)
        if not self.direct:
            self.dataset[self.chunk_start : self.chunk_start + rows] = chunk[:rows]
            self.on_written(rows)
        else:
            if self.pool is None:
                self.dataset.id.write_direct_chunk(offset, encode_chunk(chunk=chunk, settings=self.settings))
                self.on_written(rows)
            else:
                future = self.pool.submit(encode_chunk, chunk=chunk, settings=self.settings)
                self.pending.append((offset, rows, future))
                self._drain(keep=self.max_in_flight)
            self.buffer = np.zeros(self.chunk_shape, dtype=self.dataset.dtype)
        self.chunk_start += rows
        self.filled = 0

    def _drain(self, *, keep: int) -> None:
        while len(self.pending) > keep:
            offset, rows, future = self.pending.popleft()
            self.dataset.id.write_direct_chunk(offset, future.result(), filter_mask=0)
            self.on_written(rows)

    def close(self) -> None:
        if self.filled:
            self._submit()
        self._drain(keep=0)
        if self.chunk_start != self.dataset.shape[0]:
            raise GlymphError(
                f"internal: wrote {self.chunk_start} rows into {self.dataset.name} of {self.dataset.shape[0]}"
            )


def fill_datasets(
    *, path: Path, plan: ConversionPlan, settings: CompressionSettings, progress: bool,
    read_samples: int = DEFAULT_READ_SAMPLES,
) -> None:
    """Stream every series of ``plan`` from its reader into the empty datasets of the file at ``path``."""
    total = sum(series.n_samples * series.n_columns for series in plan.series)
    use_pool = settings.method == "gzip" and settings.n_threads > 1
    show = progress and sys.stderr.isatty()
    pool_context = (
        concurrent.futures.ThreadPoolExecutor(max_workers=settings.n_threads) if use_pool
        else contextlib.nullcontext()
    )
    with (
        h5py.File(path, "r+") as file,
        tqdm(total=total, unit="samples", unit_scale=True, desc="converting", disable=not show) as bar,
        pool_context as pool,
    ):
        for series in plan.series:
            dataset = file[f"acquisition/{series.name}/data"]
            writer = _DirectChunkWriter(
                dataset=dataset, settings=settings, pool=pool,
                on_written=lambda rows, n=series.n_columns: bar.update(rows * n),
            )
            for index, block in enumerate(iter_series_blocks(plan=series, read_samples=read_samples)):
                writer.append(block)
                if index == 0:  # the first read may have scanned a mapped index (TDT packet table)
                    release_memory(readers=plan.readers)
            writer.close()


def write_nwbfile(
    *, plan: ConversionPlan, path: Path, settings: CompressionSettings | None = None, progress: bool = True,
) -> None:
    """Write the NWB file of a checked plan to ``path`` (structure with pynwb, then the streamed data).

    ``path`` should be a temporary path (see :func:`ndx_glymphatic.io.atomic_output_path`): between the
    two phases the file holds empty datasets.
    """
    settings = settings or CompressionSettings()
    nwbfile = build_nwbfile(plan=plan, settings=settings)
    with warnings.catch_warnings():
        # the temporary name ends in ".partial"; the file is renamed to its .nwb name on success
        warnings.filterwarnings("ignore", message=".*does not end in '.nwb'")
        with NWBHDF5IO(str(path), mode="w") as io:
            io.write(nwbfile)
    fill_datasets(path=path, plan=plan, settings=settings, progress=progress)
