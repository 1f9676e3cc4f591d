"""Reader for EDF / EDF+ files (EEG/EMG from Pinnacle Sirenia, FASTER2, clinical systems) on pyedflib.

Streams: by default signals are grouped into one multi-channel stream per signal kind (the first
word of an EDF+ label such as ``EEG EEG1A-B``, or a known prefix such as ``EMG09``), animal
(Sirenia multi-animal labels ``EEG EEG1.1A-B``: the number after the dot) and sampling rate, so
an ``EEG`` stream converts directly into one 2-D ElectricalSeries and ``EMG`` into another. With
``grouping="signal"`` every signal is its own stream, named by its label.

Events: EDF+ annotations ``<name>: Rise`` / ``<name>: Fall`` (Sirenia writes ``TTL: Rise`` and
``TTL: Fall``) become an event channel ``<name>`` with onsets (rises) and offsets (the next fall);
all other annotations go into the ``annotations`` channel, one event per annotation, with the
text in ``labels`` and ``onset + duration`` as offset (NaN when the duration is not given).

Values outside a signal's declared physical range (a real-world non-conformance, e.g. FASTER2
exports) raise a :class:`PhysicalRangeWarning` and are recorded in ``notes``; they are returned
unclipped.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pyedflib

from ndx_glymphatic.converters._contract import EventChannel, RigReader, StreamInfo
from ndx_glymphatic.converters._paths import require_regular_file
from ndx_glymphatic.errors import InputFileError

__all__ = [
    "ANNOTATIONS_CHANNEL",
    "EdfHeader",
    "EdfReader",
    "EdfSignal",
    "PhysicalRangeWarning",
    "SignalLabel",
    "parse_signal_label",
    "read_edf_header",
]

ANNOTATIONS_CHANNEL = "annotations"
KNOWN_KINDS = ("EEG", "EMG", "EOG", "ECG", "EKG", "TTL", "ACC", "RESP", "TEMP", "LFP")
_EDGE_PATTERN = re.compile(r"^\s*(?P<name>.+?)\s*:\s*(?P<edge>rise|fall)\s*$", re.IGNORECASE)
_ANIMAL_PATTERN = re.compile(r"^[A-Za-z]+\d*\.(?P<animal>\d+)")


class PhysicalRangeWarning(UserWarning):
    """A signal holds values outside the physical range its EDF header declares."""


@dataclass(frozen=True)
class SignalLabel:
    """A parsed EDF signal label.

    Attributes
    ----------
    kind : str
        Signal type: first word of an EDF+ label (``EEG EEG1A-B`` -> ``EEG``), else a known
        prefix (``EMG09`` -> ``EMG``), else ``"other"``.
    name : str
        The label without the type word (``EEG1A-B``).
    animal : str or None
        Animal number of Sirenia multi-animal labels (``EEG1.2A-B`` -> ``"2"``).
    """

    kind: str
    name: str
    animal: str | None


def parse_signal_label(*, label: str) -> SignalLabel:
    """Split an EDF label into kind, name and animal (see :class:`SignalLabel`)."""
    text = label.strip()
    parts = text.split(None, 1)
    if len(parts) == 2:
        kind, name = parts[0], parts[1]
    else:
        name = text
        prefix = re.match(r"[A-Za-z]+", text)
        kind = prefix.group(0).upper() if prefix and prefix.group(0).upper() in KNOWN_KINDS else "other"
    animal = _ANIMAL_PATTERN.match(name)
    return SignalLabel(kind=kind, name=name, animal=animal.group("animal") if animal else None)


@dataclass(frozen=True)
class EdfHeader:
    """The fixed 256-byte EDF header, as raw text fields (parsed without pyedflib).

    Attributes
    ----------
    version, patient, recording, startdate, starttime, reserved : str
        Raw fields (``startdate`` is ``dd.mm.yy``, ``starttime`` ``hh.mm.ss``).
    header_bytes, n_records, n_signals : int
        Header size, data records (-1 when unknown) and signals.
    record_duration_in_s : float
        Duration of one data record.
    """

    version: str
    patient: str
    recording: str
    startdate: str
    starttime: str
    header_bytes: int
    reserved: str
    n_records: int
    record_duration_in_s: float
    n_signals: int


def _header_number(*, path: Path, raw: bytes, start: int, stop: int, field: str, kind: type) -> float:
    text = raw[start:stop].decode("ascii", errors="replace").strip()
    try:
        return kind(text)
    except ValueError:
        raise InputFileError(
            path=path,
            field=f"{field} (header bytes {start}-{stop - 1})",
            expected=f"an ASCII {'integer' if kind is int else 'number'}",
            found=repr(text),
        ) from None


def read_edf_header(*, path: str | Path) -> EdfHeader:
    """Read the fixed part of an EDF header.

    Raises
    ------
    InputFileError
        The file is missing, shorter than 256 bytes, or a numeric field is not a number.
    """
    path = Path(path)
    require_regular_file(path=path, expected="an EDF/EDF+ file")
    with open(path, "rb") as handle:
        raw = handle.read(256)
    if len(raw) < 256:
        raise InputFileError(path=path, field="header", expected="a 256-byte EDF header", found=f"{len(raw)} bytes")

    def text(start: int, stop: int) -> str:
        return raw[start:stop].decode("latin-1").strip()

    return EdfHeader(
        version=text(0, 8),
        patient=text(8, 88),
        recording=text(88, 168),
        startdate=text(168, 176),
        starttime=text(176, 184),
        header_bytes=int(_header_number(path=path, raw=raw, start=184, stop=192, field="header bytes", kind=int)),
        reserved=text(192, 236),
        n_records=int(_header_number(path=path, raw=raw, start=236, stop=244, field="number of records", kind=int)),
        record_duration_in_s=float(
            _header_number(path=path, raw=raw, start=244, stop=252, field="record duration", kind=float)
        ),
        n_signals=int(_header_number(path=path, raw=raw, start=252, stop=256, field="number of signals", kind=int)),
    )


@dataclass(frozen=True)
class EdfSignal:
    """One EDF signal (not the annotation signal).

    Attributes
    ----------
    index : int
        pyedflib channel index.
    label : str
        The label as written (``EEG EEG1A-B``).
    parsed : SignalLabel
        Kind, name and animal parsed from the label.
    rate_in_Hz : float
        Sampling rate.
    n_samples : int
        Samples in the file.
    unit : str
        Physical dimension (``uV``).
    physical_min, physical_max : float
        Declared physical range (may be inverted: max < min).
    digital_min, digital_max : int
        Declared digital range.
    """

    index: int
    label: str
    parsed: SignalLabel
    rate_in_Hz: float
    n_samples: int
    unit: str
    physical_min: float
    physical_max: float
    digital_min: int
    digital_max: int

    @property
    def physical_bounds(self) -> tuple[float, float]:
        """(low, high) of the declared physical range, widened by half a digital step."""
        low, high = sorted((self.physical_min, self.physical_max))
        step = abs(self.physical_max - self.physical_min) / max(abs(self.digital_max - self.digital_min), 1)
        return low - step / 2, high + step / 2


def check_record_count(*, path: Path, header: EdfHeader) -> None:
    """The header's number of data records must account for the file's size, byte for byte.

    A header claiming fewer records than the file holds would make every EDF library read only that
    many (data silently dropped); more records than present means the file is truncated.

    Raises
    ------
    InputFileError
        Naming the header field, the records it declares and the records the file size holds.
    """
    n_signals = header.n_signals
    start = 256 + n_signals * 216  # the samples-per-record fields follow 216 header bytes per signal
    with open(path, "rb") as handle:
        handle.seek(start)
        raw = handle.read(8 * n_signals)
    try:
        samples = [int(raw[8 * i : 8 * i + 8].decode("latin-1").strip()) for i in range(n_signals)]
    except ValueError:
        return  # pyedflib names the malformed signal header field
    record_bytes = 2 * sum(samples)
    size = path.stat().st_size
    if record_bytes <= 0 or header.n_records < 0 or size < header.header_bytes:
        return  # -1 records (still recording) and broken headers: pyedflib reports them
    held, extra = divmod(size - header.header_bytes, record_bytes)
    if held == header.n_records and extra == 0:
        return
    more = f" and {extra} bytes of a partial record" if extra else ""
    raise InputFileError(
        path=path,
        field="number of data records (header bytes 236-243)",
        expected=f"the {held} whole records of {record_bytes} bytes the file's {size} bytes hold after its "
        f"{header.header_bytes}-byte header{more}",
        found=f"{header.n_records} records declared",
        hint="the file is truncated" if header.n_records > held else "the header under-counts the records: "
        "fix bytes 236-243 or export the recording again",
    )


def _open_pyedflib(*, path: Path, header: EdfHeader, annotations: bool) -> pyedflib.EdfReader:
    mode = pyedflib.READ_ALL_ANNOTATIONS if annotations else pyedflib.DO_NOT_READ_ANNOTATIONS
    try:
        return pyedflib.EdfReader(str(path), annotations_mode=mode)
    except OSError as error:
        message = str(error)
        if "startdate" in message:
            raise InputFileError(
                path=path,
                field="startdate (header bytes 168-175)",
                expected="dd.mm.yy with '.' separators (e.g. '24.01.20')",
                found=repr(header.startdate),
                hint="some exporters write '/' or ':'; fix the 8 header bytes",
            ) from None
        if "starttime" in message:
            raise InputFileError(
                path=path,
                field="starttime (header bytes 176-183)",
                expected="hh.mm.ss with '.' separators",
                found=repr(header.starttime),
            ) from None
        if "already been opened" in message:
            raise InputFileError(
                path=path,
                field="file",
                expected="a file no other EDF reader in this process holds open (edflib allows one)",
                found="the file already open",
                hint="close the other pyedflib.EdfReader first",
            ) from None
        if "Filesize" in message or "filesize" in message:
            size = path.stat().st_size
            raise InputFileError(
                path=path,
                field="file size",
                expected=f"header bytes + {header.n_records} data records as the header declares",
                found=f"{size} bytes (the file is truncated or padded)",
            ) from None
        raise InputFileError(path=path, field="header", expected="an EDF/EDF+ compliant file", found=message) from None


class EdfReader(RigReader):
    """Read an EDF/EDF+ file chunk by chunk.

    Parameters
    ----------
    path : str or Path
        The ``.edf`` file.
    grouping : {"kind", "signal"}
        ``"kind"``: one stream per (kind, animal, rate, unit) (``EEG``, ``EMG``, ``EEG animal 2``);
        ``"signal"``: one stream per signal, named by its label.

    Raises
    ------
    InputFileError
        Missing or non-compliant file (the field, e.g. the start date, is named), or EDF+D.

    Notes
    -----
    ``notes`` collects non-fatal findings (values outside the declared physical range, falls
    without a rise). The EDF library refuses to open one file twice in a process, so the reader
    does not keep the file open: headers and annotations are read in ``__init__``, and every
    sample read opens the file (header only) and closes it again.
    """

    format = "edf"
    format_name = "EDF/EDF+"
    modalities = ("electrophysiology",)

    def __init__(self, *, path: str | Path, grouping: Literal["kind", "signal"] = "kind") -> None:
        super().__init__(path=path)
        if grouping not in ("kind", "signal"):
            raise ValueError(f"grouping must be 'kind' or 'signal', got {grouping!r}")
        self.grouping = grouping
        self.header = read_edf_header(path=self.path)
        if self.header.reserved.startswith("EDF+D"):
            raise InputFileError(
                path=self.path,
                field="reserved (header bytes 192-235)",
                expected="EDF, or EDF+C (continuous data records)",
                found="EDF+D (discontinuous data records; sample times would not be regular)",
            )
        with self._open(annotations=True) as edf:
            self._signals = self._read_signals(edf=edf)
            self._start_time = edf.getStartdatetime()
            self._duration_in_s = float(edf.getFileDuration())
            self._annotations = edf.readAnnotations()
        # after pyedflib, whose own header checks (e.g. a file shorter than declared) name their field first
        check_record_count(path=self.path, header=self.header)
        self._range_warned: set[int] = set()

    @contextlib.contextmanager
    def _open(self, *, annotations: bool = False) -> Iterator[pyedflib.EdfReader]:
        edf = _open_pyedflib(path=self.path, header=self.header, annotations=annotations)
        try:
            yield edf
        finally:
            edf.close()

    def _read_signals(self, *, edf: pyedflib.EdfReader) -> list[EdfSignal]:
        n_samples = edf.getNSamples()
        signals = []
        for index in range(edf.signals_in_file):
            label = edf.getLabel(index)
            signals.append(
                EdfSignal(
                    index=index,
                    label=label,
                    parsed=parse_signal_label(label=label),
                    rate_in_Hz=float(edf.getSampleFrequency(index)),
                    n_samples=int(n_samples[index]),
                    unit=edf.getPhysicalDimension(index).strip(),
                    physical_min=float(edf.getPhysicalMinimum(index)),
                    physical_max=float(edf.getPhysicalMaximum(index)),
                    digital_min=int(edf.getDigitalMinimum(index)),
                    digital_max=int(edf.getDigitalMaximum(index)),
                )
            )
        return signals

    # --------------------------------------------------------------------------------- metadata
    @property
    def session_start_time(self) -> datetime:
        """Start date and time (naive: EDF has no time zone), including a sub-second EDF+ start."""
        return self._start_time

    @property
    def signals(self) -> tuple[EdfSignal, ...]:
        """Every ordinary signal in file order."""
        return tuple(self._signals)

    @property
    def duration_in_s(self) -> float:
        """Data records times record duration."""
        return self._duration_in_s

    @cached_property
    def _groups(self) -> dict[str, list[EdfSignal]]:
        groups: dict[str, list[EdfSignal]] = {}
        if self.grouping == "signal":
            for signal in self._signals:
                name = signal.label
                if name in groups:
                    name = f"{signal.label} #{signal.index}"
                groups[name] = [signal]
            return groups
        keyed: dict[tuple, list[EdfSignal]] = {}
        for signal in self._signals:
            key = (signal.parsed.kind, signal.parsed.animal, signal.rate_in_Hz, signal.unit)
            keyed.setdefault(key, []).append(signal)
        base_names: dict[str, int] = {}
        for kind, animal, _, _ in keyed:
            base = kind if animal is None else f"{kind} animal {animal}"
            base_names[base] = base_names.get(base, 0) + 1
        for (kind, animal, rate, unit), members in keyed.items():
            base = kind if animal is None else f"{kind} animal {animal}"
            name = base if base_names[base] == 1 else f"{base} @ {rate:g} Hz {unit}"
            groups[name] = members
        return groups

    def _resolve(self, *, stream_name: str) -> list[EdfSignal]:
        if stream_name in self._groups:
            return self._groups[stream_name]
        raise InputFileError(
            path=self.path,
            field="stream name",
            expected=f"one of: {', '.join(repr(n) for n in self._groups) or 'none (no signals)'}",
            found=repr(stream_name),
        )

    def streams(self) -> Mapping[str, StreamInfo]:
        """Every stream (see ``grouping``); channel names are the EDF labels."""
        infos = {}
        for name, members in self._groups.items():
            infos[name] = StreamInfo(
                name=name,
                n_samples=min(s.n_samples for s in members),
                n_channels=len(members),
                unit=members[0].unit,
                rate_in_Hz=members[0].rate_in_Hz,
                starting_time_in_s=0.0,
                channel_names=tuple(s.label for s in members),
            )
        return infos

    # ------------------------------------------------------------------------------------ samples
    def _check_range(self, *, signal: EdfSignal, values: np.ndarray, first_sample: int) -> None:
        if signal.index in self._range_warned or values.size == 0:
            return
        low, high = signal.physical_bounds
        outside = (values < low) | (values > high)
        if np.any(outside):
            self._range_warned.add(signal.index)
            first = first_sample + int(np.argmax(outside))
            message = (
                f"{self.path}: signal {signal.label!r} has values outside its declared physical range "
                f"[{min(signal.physical_min, signal.physical_max):g}, "
                f"{max(signal.physical_min, signal.physical_max):g}] {signal.unit} "
                f"(first at sample {first}: {values[first - first_sample]:g}); values kept unclipped"
            )
            self.notes.append(message)
            warnings.warn(message, PhysicalRangeWarning, stacklevel=3)

    def read_samples(self, *, stream_name: str, start_sample: int, stop_sample: int) -> np.ndarray:
        """Read physical values ``[start_sample, stop_sample)`` of every channel of a stream.

        Returns
        -------
        ndarray
            ``(n, n_channels)`` float64 in the stream's unit.
        """
        members = self._resolve(stream_name=stream_name)
        n_total = min(s.n_samples for s in members)
        start = max(0, int(start_sample))
        stop = min(int(stop_sample), n_total)
        out = np.empty((max(stop - start, 0), len(members)), dtype=np.float64)
        if stop <= start:
            return out
        with self._open() as edf:
            for column, signal in enumerate(members):
                out[:, column] = self._read_signal(edf=edf, signal=signal, start=start, stop=stop)
        return out

    def _read_signal(self, *, edf: pyedflib.EdfReader, signal: EdfSignal, start: int, stop: int) -> np.ndarray:
        values = edf.readSignal(signal.index, start=start, n=stop - start)
        if values.size != stop - start:
            raise InputFileError(
                path=self.path,
                field=f"signal {signal.label!r} samples {start}-{stop}",
                expected=f"{stop - start} samples",
                found=f"{values.size} samples",
            )
        self._check_range(signal=signal, values=values, first_sample=start)
        return values

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        """Yield a stream's physical values as ``(n, n_channels)`` float64 chunks (pyedflib start/n reads)."""
        members = self._resolve(stream_name=stream_name)
        if chunk_samples < 1:
            raise ValueError(f"chunk_samples must be >= 1, got {chunk_samples}")
        n_total = min(s.n_samples for s in members)
        for start in range(0, n_total, chunk_samples):
            yield self.read_samples(stream_name=stream_name, start_sample=start, stop_sample=start + chunk_samples)

    # ------------------------------------------------------------------------------------- events
    @cached_property
    def _event_channels(self) -> dict[str, EventChannel]:
        onsets, durations, texts = self._annotations
        onsets = np.asarray(onsets, dtype=np.float64)
        durations = np.asarray(durations, dtype=np.float64)
        texts = [str(t) for t in texts]
        edges: dict[str, list[tuple[float, str]]] = {}
        other = []
        for onset, duration, text in zip(onsets, durations, texts):
            match = _EDGE_PATTERN.match(text)
            if match:
                edges.setdefault(match.group("name"), []).append((onset, match.group("edge").lower()))
            else:
                other.append((onset, duration, text))
        channels = {}
        for name, items in edges.items():
            channels[name] = self._edge_channel(name=name, items=sorted(items))
        if other:
            other.sort(key=lambda item: item[0])
            annotation_onsets = np.array([o for o, _, _ in other])
            annotation_durations = np.array([d for _, d, _ in other])
            offsets = np.where(annotation_durations >= 0, annotation_onsets + annotation_durations, np.nan)
            name = ANNOTATIONS_CHANNEL if ANNOTATIONS_CHANNEL not in channels else f"{ANNOTATIONS_CHANNEL} (text)"
            channels[name] = EventChannel(
                name=name,
                onset_times_in_s=annotation_onsets,
                values=np.full(annotation_onsets.size, np.nan),
                offset_times_in_s=offsets,
                labels=tuple(t for _, _, t in other),
            )
        return channels

    def _edge_channel(self, *, name: str, items: list[tuple[float, str]]) -> EventChannel:
        rises = []
        falls_without_rise = 0
        for time, edge in items:
            if edge == "rise":
                rises.append([time, np.nan])
            elif rises and np.isnan(rises[-1][1]):
                rises[-1][1] = time
            else:
                falls_without_rise += 1
        if falls_without_rise:
            self.notes.append(
                f"{self.path}: {falls_without_rise} '{name}: Fall' annotation(s) without a preceding "
                "'Rise' were ignored"
            )
        table = np.array(rises, dtype=np.float64).reshape(-1, 2)
        return EventChannel(
            name=name,
            onset_times_in_s=table[:, 0].copy(),
            values=np.ones(table.shape[0]),
            offset_times_in_s=table[:, 1].copy(),
        )

    def events(self) -> Mapping[str, EventChannel]:
        """TTL edge channels (``TTL``) and the ``annotations`` channel (texts in ``labels``)."""
        return dict(self._event_channels)

    def __repr__(self) -> str:
        return f"EdfReader(path={str(self.path)!r}, grouping={self.grouping!r})"
