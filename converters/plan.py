"""Plan a conversion: open the rig files of a session, check them against it and hand the builder its inputs.

Every input problem surfaces here, before any output exists, and big data are never read: the plan opens
the rig readers (headers only), matches every channel of the session file to a stream of its rig file
(one clear error per mismatch: unknown store, channel index out of range, mismatched sampling rates),
aligns the EEG/EMG clock onto the photometry clock from shared TTL pulses (refusing when pulses cannot be
matched or the residual is too large), reads the hypnogram, derives stimulation epochs from TTLs and
checks every time against the recording. The result, :class:`ConversionPlan`, holds the
:class:`ndx_glymphatic.builder.SessionSources` that :func:`ndx_glymphatic.builder.write_nwbfile` writes:
series that stream from their readers chunk by chunk, events, epochs and sleep states on the photometry
clock.

A secondary system's samples stay untouched: its clock alignment (``t_photometry = slope * t_secondary +
offset``) sets the series' ``starting_time`` and ``rate`` (``rate_secondary / slope``) exactly.

Public API::

    plan_conversion(*, session) -> ConversionPlan                 # opens the rig files the session names
    plan_session(*, session, photometry_reader, ephys_reader, hypnogram=None) -> ConversionPlan
    ConversionPlan: .session, .sources, .readers, .notes, .all_notes(), .close()
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import mmap
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ndx_glymphatic.builder import (
    EventsSource,
    SeriesSource,
    SessionSources,
    SleepStates,
    StimulationEpochs,
)
from ndx_glymphatic.converters._contract import EventChannel, HypnogramIntervals, RigReader, volts_per_unit
from ndx_glymphatic.converters.clock_alignment import ClockAlignmentResult, fit_clock_alignment
from ndx_glymphatic.converters.registry import hypnogram_reader_class, open_rig_reader, read_hypnogram
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.session import PhotometryConfig, SessionConfig, StimulationConfig

__all__ = [
    "ConversionPlan",
    "epochs_from_ttl",
    "plan_conversion",
    "plan_session",
]

#: Samples read from a rig reader per call.
DEFAULT_READ_SAMPLES = 1 << 18
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


# ---------------------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class _StreamColumn:
    """Where one column of a series comes from: a channel of a reader's stream."""

    reader: RigReader
    stream_name: str
    stream_column: int


def _to_primary(alignment: ClockAlignmentResult, times_in_s: np.ndarray) -> np.ndarray:
    return alignment.to_primary_time(secondary_times_in_s=np.asarray(times_in_s, dtype=np.float64))


@dataclass
class ConversionPlan:
    """The checked session and the builder's inputs, with the readers they stream from."""

    session: SessionConfig
    sources: SessionSources
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


def _release_memory(*, readers: list[RigReader]) -> None:
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


def _iter_column_blocks(
    *, columns: Sequence[_StreamColumn], n_samples: int, series_name: str, read_samples: int = DEFAULT_READ_SAMPLES,
) -> Iterator[np.ndarray]:
    """Yield a series' samples in order as ``(n,)`` or ``(n, n_columns)`` float32 blocks.

    Each stream is read once even when several columns come from it. After the first block the readers
    shed what their scans left in memory (the first read may have scanned a mapped index, e.g. TDT's
    packet table).
    """
    groups: dict[tuple[int, str], list[tuple[int, int]]] = {}
    readers: dict[int, RigReader] = {}
    for output_column, column in enumerate(columns):
        key = (id(column.reader), column.stream_name)
        readers[id(column.reader)] = column.reader
        groups.setdefault(key, []).append((column.stream_column, output_column))
    iterators = [
        (readers[reader_id].iter_stream_chunks(stream_name=stream, chunk_samples=read_samples), pairs)
        for (reader_id, stream), pairs in groups.items()
    ]
    n_columns = len(columns)
    written = 0
    while written < n_samples:
        pieces = []
        for iterator, pairs in iterators:
            piece = next(iterator, None)
            if piece is None or len(piece) == 0:
                raise InputFileError(
                    path=columns[0].reader.path, field=f"stream data of series {series_name!r}",
                    expected=f"{n_samples} samples", found=f"{written} samples (the data ends early)",
                )
            pieces.append((np.asarray(piece).reshape(len(piece), -1), pairs))
        n = min(min(len(piece) for piece, _ in pieces), n_samples - written)
        block = np.empty((n, n_columns), dtype=np.float32)
        for piece, pairs in pieces:
            for stream_column, output_column in pairs:
                block[:, output_column] = piece[:n, stream_column]
        yield block[:, 0] if n_columns == 1 else block
        if written == 0:
            _release_memory(readers=list(readers.values()))
        written += n


def _series_source(
    *, name: str, kind: str, columns: tuple[_StreamColumn, ...], n_samples: int, rate_in_Hz: float | None,
    starting_time_in_s: float, unit: str, conversion: float = 1.0, timestamps_in_s: np.ndarray | None = None,
) -> SeriesSource:
    return SeriesSource(
        name=name, kind=kind, n_samples=n_samples, n_columns=len(columns), rate_in_Hz=rate_in_Hz,
        starting_time_in_s=starting_time_in_s, unit=unit, conversion=conversion, timestamps_in_s=timestamps_in_s,
        iter_blocks=functools.partial(_iter_column_blocks, columns=columns, n_samples=n_samples, series_name=name),
    )


def _photometry_series(
    *, session: SessionConfig, reader: RigReader
) -> tuple[list[SeriesSource], list[_StreamColumn]]:
    photometry = session.photometry
    series, columns = [], []
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
        source = _StreamColumn(reader=reader, stream_name=info.name, stream_column=column)
        columns.append(source)
        series.append(
            _series_source(
                name=channel.name, kind="photometry", columns=(source,), n_samples=info.n_samples,
                rate_in_Hz=info.rate_in_Hz, starting_time_in_s=float(info.starting_time_in_s),
                unit=channel.unit or info.unit,
                timestamps_in_s=None if timestamps is None else np.asarray(timestamps, dtype=np.float64),
            )
        )
    return series, columns


def _electrical_series(
    *, session: SessionConfig, reader: RigReader, alignment: ClockAlignmentResult | None
) -> tuple[list[SeriesSource], list[_StreamColumn]]:
    ephys = session.electrophysiology
    series, all_columns = [], []
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
            resolved.append((channel, info, column))
        rates = {info.rate_in_Hz for _, info, _ in resolved}
        if len(rates) != 1 or None in rates:
            listing = ", ".join(f"{c.name}: {info.rate_in_Hz} Hz" for c, info, _ in resolved)
            raise InputFileError(
                path=reader.path,
                field=f"sampling rates of the {series_name} channels (session electrophysiology.channels)",
                expected=f"one regular sampling rate for every channel of the {series_name} series",
                found=listing,
            )
        units = {info.unit for _, info, _ in resolved}
        unit = units.pop() if len(units) == 1 else None
        volts = volts_per_unit(unit=unit or "")
        if volts is None:
            raise InputFileError(
                path=reader.path, field=f"unit of the {series_name} channels",
                expected="one voltage unit (V, mV, uV or nV)", found=", ".join(sorted(map(str, units))) or str(unit),
            )
        n_samples = min(info.n_samples for _, info, _ in resolved)
        if n_samples < 1:
            raise InputFileError(path=reader.path, field=f"{series_name} streams", expected="samples",
                                 found="empty streams")
        rate = float(rates.pop())
        start = float(resolved[0][1].starting_time_in_s)
        if alignment is not None:
            start = float(_to_primary(alignment, np.array([start]))[0])
            rate = rate / alignment.slope
        columns = tuple(_StreamColumn(reader=reader, stream_name=info.name, stream_column=column)
                        for _, info, column in resolved)
        all_columns += columns
        series.append(
            _series_source(name=series_name, kind=series_name, columns=columns, n_samples=n_samples,
                           rate_in_Hz=rate, starting_time_in_s=start, unit="volts", conversion=volts)
        )
    return series, all_columns


def _probe_data(*, columns: Sequence[_StreamColumn]) -> None:
    """Read the first sample of every stream: a missing or truncated data file fails now, before any output
    exists (and readers build their per-stream packet tables while their index is mapped anyway)."""
    seen = set()
    for column in columns:
        key = (id(column.reader), column.stream_name)
        if key not in seen:
            seen.add(key)
            next(iter(column.reader.iter_stream_chunks(stream_name=column.stream_name, chunk_samples=1)), None)


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


def _events_source(*, table_name: str, source_description: str, channel: EventChannel) -> EventsSource:
    return EventsSource(
        table_name=table_name, source_description=source_description, onset_times_in_s=channel.onset_times_in_s,
        offset_times_in_s=channel.offset_times_in_s, values=channel.values, labels=channel.labels,
    )


def _events(
    *, session: SessionConfig, photometry_reader: RigReader | None, ephys_reader: RigReader | None,
    alignment: ClockAlignmentResult | None,
) -> list[EventsSource]:
    found: list[tuple[str, str, EventChannel]] = []
    if photometry_reader is not None:
        wanted = session.photometry.events
        available = photometry_reader.events()
        names = list(available) if wanted is None else list(wanted)
        for index, name in enumerate(names):
            channel = (available[name] if wanted is None else photometry_reader.resolve_event_channel(
                name=name, field_path=f"photometry.events[{index}]"))
            found.append((f"ttl_{_safe_name(channel.name)}",
                          f"{photometry_reader.format_name} event channel {channel.name!r} of "
                          f"{photometry_reader.path.name}", channel))
    if ephys_reader is not None:
        own_clock = session.ephys_needs_alignment
        for index, name in enumerate(session.electrophysiology.events):
            channel = ephys_reader.resolve_event_channel(name=name, field_path=f"electrophysiology.events[{index}]")
            prefix = "eeg_ttl" if photometry_reader is not None else "ttl"
            if not own_clock and photometry_reader is not None:
                continue  # same file as photometry: already stored above when listed there
            found.append((f"{prefix}_{_safe_name(channel.name)}",
                          f"{ephys_reader.format_name} event channel {channel.name!r} of {ephys_reader.path.name}"
                          + (", put on the photometry clock" if alignment else ""),
                          _aligned_channel(channel, alignment)))
    seen: set[str] = set()
    events = []
    for table_name, source_description, channel in found:
        name = table_name
        suffix = 2
        while name in seen:
            name = f"{table_name}_{suffix}"
            suffix += 1
        seen.add(name)
        events.append(_events_source(table_name=name, source_description=source_description, channel=channel))
    return events


def epochs_from_ttl(
    *, stimulation: StimulationConfig, section: str, session: SessionConfig, photometry_reader: RigReader | None,
    ephys_reader: RigReader | None, alignment: ClockAlignmentResult | None,
) -> StimulationEpochs:
    """Stimulation epochs from a section's ``from_ttl`` pulses: one epoch per run of pulses closer than
    ``max_gap_in_s``, with its pulse count; pulse length and period from the section, else from the pulses."""
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
    return StimulationEpochs(
        start_times_in_s=np.asarray(starts), stop_times_in_s=np.asarray(stops),
        pulses_per_epoch=np.asarray(counts), pulse_length_in_ms=pulse_length_in_ms, period_in_ms=period_in_ms,
    )


def _epochs(
    *, stimulation: StimulationConfig | None, section: str, session: SessionConfig,
    photometry_reader: RigReader | None, ephys_reader: RigReader | None, alignment: ClockAlignmentResult | None,
) -> StimulationEpochs | None:
    if stimulation is None:
        return None
    if stimulation.from_ttl is not None:
        return epochs_from_ttl(stimulation=stimulation, section=section, session=session,
                                photometry_reader=photometry_reader, ephys_reader=ephys_reader,
                                alignment=alignment)
    return StimulationEpochs(
        start_times_in_s=np.array([e.start_time_in_s for e in stimulation.epochs], dtype=np.float64),
        stop_times_in_s=np.array([e.stop_time_in_s for e in stimulation.epochs], dtype=np.float64),
        pulse_length_in_ms=stimulation.pulse_length_in_ms,
        period_in_ms=stimulation.period_in_ms,
    )


def _read_hypnogram(*, session: SessionConfig) -> HypnogramIntervals:
    config = session.hypnogram
    session_options = {"state_codes": config.state_codes, "column": config.column,
                       "start_time_in_s": config.start_time_in_s, "state_columns": config.state_columns,
                       "label_map": config.label_map, "code_preset": config.code_preset,
                       "state_labels": config.state_labels}
    if config.format is not None:
        session_options = {name: session_options[name]
                           for name in hypnogram_reader_class(format=config.format).options}
    return read_hypnogram(
        path=config.file, format=config.format, scorer=config.scorer, scoring_method=config.scoring_method,
        epoch_length_in_s=config.epoch_length_in_s, options=session_options,
        boundary_tolerance_in_s=config.boundary_tolerance_in_s,
    )


def _sleep_states(
    *, session: SessionConfig, intervals: HypnogramIntervals, alignment: ClockAlignmentResult | None
) -> SleepStates:
    """The scored intervals on the photometry clock."""
    if alignment is not None and session.hypnogram_clock() == "electrophysiology" and session.ephys_needs_alignment:
        intervals = intervals.on_clock(to_time=functools.partial(_to_primary, alignment))
    return SleepStates(
        start_times_in_s=np.asarray(intervals.start_times_in_s, dtype=np.float64),
        stop_times_in_s=np.asarray(intervals.stop_times_in_s, dtype=np.float64),
        sleep_states=tuple(intervals.sleep_states), scoring_method=intervals.scoring_method,
        scorer=intervals.scorer, epoch_length_in_s=intervals.epoch_length_in_s,
    )


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


def _check_times(
    *, session: SessionConfig, sources: SessionSources, recording: tuple[float, float]
) -> None:
    """Every interval of the session lies within the recording (on the photometry clock)."""
    if sources.sleep_states is not None:
        states = sources.sleep_states
        _check_within_recording(
            path=session.hypnogram.file, field_path="scored intervals", starts=states.start_times_in_s,
            stops=states.stop_times_in_s, recording=recording, tolerance_in_s=max(1.0, states.epoch_length_in_s or 0.0),
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
    for section, epochs in (("lc_stimulation", sources.lc_stimulation),
                            ("vasomotion_stimulation", sources.vasomotion_stimulation)):
        if epochs is not None:
            _check_within_recording(
                path=session.path, field_path=f"optogenetics.{section} epochs", starts=epochs.start_times_in_s,
                stops=epochs.stop_times_in_s, recording=recording, tolerance_in_s=1.0,
            )


def _close(readers: Sequence[RigReader]) -> None:
    for reader in readers:
        reader.close()


def plan_session(
    *, session: SessionConfig, photometry_reader: RigReader | None, ephys_reader: RigReader | None,
    hypnogram: HypnogramIntervals | None = None,
) -> ConversionPlan:
    """Check open rig readers against a session and derive the builder's inputs.

    Parameters
    ----------
    session : SessionConfig
        The checked session.
    photometry_reader, ephys_reader : RigReader or None
        The readers of ``session.photometry.file`` and ``session.electrophysiology.file`` (the same reader
        when both name one file). The plan owns them: it closes them when it fails, and
        :meth:`ConversionPlan.close` closes them after writing.
    hypnogram : HypnogramIntervals, optional
        The scored intervals on the hypnogram's clock, instead of reading ``session.hypnogram.file``.

    Raises
    ------
    InputFileError
        The first mismatch between the session file and the rig files (file, field, expected, found).
    """
    readers = list({id(r): r for r in (photometry_reader, ephys_reader) if r is not None}.values())
    try:
        return _plan(session=session, photometry_reader=photometry_reader, ephys_reader=ephys_reader,
                     hypnogram=hypnogram, readers=readers)
    except BaseException:
        _close(readers)
        raise


def _plan(
    *, session: SessionConfig, photometry_reader: RigReader | None, ephys_reader: RigReader | None,
    hypnogram: HypnogramIntervals | None, readers: list[RigReader],
) -> ConversionPlan:
    notes: list[str] = []
    series: list[SeriesSource] = []
    if photometry_reader is not None:
        series, columns = _photometry_series(session=session, reader=photometry_reader)
        _probe_data(columns=columns)
        photometry_reader.events()
        _release_memory(readers=readers)
    alignment = None
    if session.ephys_needs_alignment:
        alignment = _align_clocks(session=session, primary=photometry_reader, secondary=ephys_reader)
    if ephys_reader is not None:
        ephys_series, ephys_columns = _electrical_series(session=session, reader=ephys_reader, alignment=alignment)
        series += ephys_series
        _probe_data(columns=ephys_columns)
    recording = (min(item.start_time_in_s for item in series), max(item.stop_time_in_s for item in series))
    events = _events(session=session, photometry_reader=photometry_reader, ephys_reader=ephys_reader,
                     alignment=alignment)
    sleep_states = None
    if session.hypnogram is not None:
        intervals = hypnogram if hypnogram is not None else _read_hypnogram(session=session)
        notes += intervals.notes
        sleep_states = _sleep_states(session=session, intervals=intervals, alignment=alignment)
    epochs: dict[str, StimulationEpochs | None] = {"lc_stimulation": None, "vasomotion_stimulation": None}
    if session.optogenetics is not None:
        for section in epochs:
            epochs[section] = _epochs(stimulation=getattr(session.optogenetics, section), section=section,
                                      session=session, photometry_reader=photometry_reader,
                                      ephys_reader=ephys_reader, alignment=alignment)
    sources = SessionSources(
        series=tuple(series), events=tuple(events), sleep_states=sleep_states,
        lc_stimulation=epochs["lc_stimulation"], vasomotion_stimulation=epochs["vasomotion_stimulation"],
        clock_alignment=alignment,
    )
    _check_times(session=session, sources=sources, recording=recording)
    for event in events:
        if len(event.onset_times_in_s) == 0:
            notes.append(f"{event.source_description} has no events; no {event.table_name} table "
                         "written")
    if photometry_reader is not None and photometry_reader.session_start_time is not None:
        rig_start = photometry_reader.session_start_time
        declared = session.session.session_start_time
        if rig_start.tzinfo is not None and abs((rig_start - declared).total_seconds()) > 60:
            notes.append(
                f"{session.path}: session.session_start_time ({declared.isoformat()}) differs from the "
                f"photometry file's start ({rig_start.isoformat()}); rig times are taken relative to "
                "session_start_time"
            )
    _release_memory(readers=readers)
    return ConversionPlan(session=session, sources=sources, readers=readers, notes=notes)


def photometry_reader_options(*, photometry: PhotometryConfig) -> dict[str, object]:
    """The rig reader's options from a session file's photometry section (unset ones are ignored by the registry)."""
    return {
        "digital_input_paths": photometry.digital_input_files,
        "led_order": photometry.led_order,
        "series": photometry.series,
        "allow_repeated_packet_times": photometry.allow_repeated_packet_times,
    }


def plan_conversion(*, session: SessionConfig) -> ConversionPlan:
    """Open the rig files of a checked session (headers only) and check them against the session file.

    Raises
    ------
    InputFileError
        The first mismatch between the session file and the rig files (file, field, expected, found).
    """
    photometry_reader = ephys_reader = None
    try:
        if session.photometry is not None:
            photometry = session.photometry
            photometry_reader = open_rig_reader(
                format=photometry.format, path=photometry.file, options=photometry_reader_options(photometry=photometry)
            )
        if session.electrophysiology is not None:
            if session.ephys_needs_alignment or photometry_reader is None:
                ephys_reader = open_rig_reader(format=session.electrophysiology.format,
                                               path=session.electrophysiology.file)
            else:
                ephys_reader = photometry_reader
    except BaseException:
        _close([reader for reader in (photometry_reader,) if reader is not None])
        raise
    return plan_session(session=session, photometry_reader=photometry_reader, ephys_reader=ephys_reader)
