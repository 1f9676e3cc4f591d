"""The contracts of the two kinds of reader: rig-file readers and hypnogram readers.

A rig-file reader (:class:`RigReader`) is a small class per format and file kind
(``TdtBlockReader``, ``DoricFileReader``, ``DoricCsvReader``, ...) that opens nothing heavy in
``__init__`` beyond headers, describes what the file holds, and streams sample data in chunks.

A hypnogram reader (:class:`HypnogramReader`) is a small class per scoring-file format that parses
its file into scored intervals; the base class turns them into one typed result,
:class:`HypnogramIntervals` (sorted, non-overlapping states of the shared vocabulary, NREM split
around the micro-arousals inside it, on the scoring file's own clock, plus notes).

Each class declares the session file's ``format`` it reads, the file kinds it takes and its
options; :mod:`ndx_glymphatic.converters.registry` picks the class for a session file's format and
path. Converters only ever talk to readers through these contracts, and one shared test suite per
contract (``tests/test_reader_contract.py``, ``tests/test_hypnogram_contract.py``) runs over every
reader.
"""

from __future__ import annotations

import abc
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal, TypeVar

import numpy as np

from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.vocabulary import SCORING_METHODS, SLEEP_STATES

__all__ = [
    "EventChannel",
    "EventDescription",
    "HypnogramIntervals",
    "HypnogramReader",
    "Recognition",
    "RigDescription",
    "RigReader",
    "ScoredFile",
    "ScoredInterval",
    "StreamDescription",
    "StreamInfo",
    "volts_per_unit",
]

#: Modalities a rig-file format can record, named as the session file's sections.
Modality = Literal["photometry", "electrophysiology"]

_UNIT_TO_VOLTS = {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6, "μV": 1e-6, "nV": 1e-9}
_TOLERANCE_IN_S = 1e-6
_Found = TypeVar("_Found")


def volts_per_unit(*, unit: str) -> float | None:
    """Return the factor from a stream's unit to volts (``"uV"`` -> 1e-6); None if the unit is not a voltage."""
    return _UNIT_TO_VOLTS.get(unit.strip())


@dataclass(frozen=True)
class StreamInfo:
    """What one continuous stream in a rig file holds.

    Attributes
    ----------
    name : str
        The stream's name as the rig writes it (TDT store ``_465A``, Doric ``AIN01xAOUT01-LockIn``,
        NPM ``G0@470``, pyPhotometry ``analog_1``, EDF label ``EEG EEG1A-B``).
    n_samples : int
        Samples per channel.
    n_channels : int
        Channels in the stream (1 for most photometry streams).
    unit : str
        Unit of the values the reader yields after scaling (``"V"``, ``"uV"``, ``"a.u."``).
    rate_in_Hz : float or None
        Sampling rate when sampling is regular; ``None`` when only ``timestamps_in_s`` describe it.
    starting_time_in_s : float
        Time of the first sample on this file's clock, seconds after the recording start.
    timestamps_in_s : ndarray or None
        Per-sample times, only for irregularly sampled streams (e.g. Neurophotometrics frames).
    channel_names : tuple of str
        One name per channel (e.g. EDF labels); may repeat ``name`` for single-channel streams.
    """

    name: str
    n_samples: int
    n_channels: int
    unit: str
    rate_in_Hz: float | None
    starting_time_in_s: float = 0.0
    timestamps_in_s: np.ndarray | None = field(default=None, repr=False, compare=False)
    channel_names: tuple[str, ...] = ()

    @property
    def duration_in_s(self) -> float:
        """Length of the stream in seconds."""
        if self.rate_in_Hz:
            return self.n_samples / self.rate_in_Hz
        if self.timestamps_in_s is not None and len(self.timestamps_in_s) > 1:
            return float(self.timestamps_in_s[-1] - self.timestamps_in_s[0])
        return 0.0


@dataclass(frozen=True)
class EventChannel:
    """TTL / digital / annotation events in a rig file.

    Attributes
    ----------
    name : str
        The event channel's name (TDT epoc ``PtC0``, Doric ``DIO01``, EDF+ ``TTL``).
    onset_times_in_s : ndarray
        Onset (rising edge) times, seconds on this file's clock after the recording start.
    values : ndarray
        One value per onset (TDT strobe value, digital level, ...); same length as onsets.
    offset_times_in_s : ndarray or None
        Offset (falling edge) times where the format has them; NaN where unknown.
    labels : tuple of str
        Text per event for annotation channels (EDF+); empty otherwise.
    """

    name: str
    onset_times_in_s: np.ndarray
    values: np.ndarray
    offset_times_in_s: np.ndarray | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StreamDescription:
    """One stream as ``glymph describe`` shows it (plain values, JSON-ready).

    Attributes
    ----------
    name : str
        The stream's name, as a session file's ``stream`` names it.
    rate_in_Hz : float or None
        Sampling rate; ``None`` for irregular sampling (then ``mean_rate_in_Hz`` says how fast).
    mean_rate_in_Hz : float or None
        Samples per second over the stream, for irregularly sampled streams.
    n_samples : int
        Samples per channel.
    n_channels : int
        Channels in the stream.
    channel_names : tuple of str
        One name per channel when the format names them (EDF labels); empty otherwise.
    unit : str
        Unit of the values the reader yields.
    starting_time_in_s : float
        First sample, seconds after the recording start.
    duration_in_s : float
        Length of the stream.
    """

    name: str
    rate_in_Hz: float | None
    mean_rate_in_Hz: float | None
    n_samples: int
    n_channels: int
    channel_names: tuple[str, ...]
    unit: str
    starting_time_in_s: float
    duration_in_s: float


@dataclass(frozen=True, kw_only=True)
class EventDescription:
    """One event channel as ``glymph describe`` shows it.

    Attributes
    ----------
    name : str
        The channel's name, as a session file's ``events`` / ``*_ttl_channel`` name it.
    count : int
        Number of onsets.
    first_time_in_s, last_time_in_s : float or None
        First and last onset, seconds after the recording start; ``None`` without onsets.
    """

    name: str
    count: int
    first_time_in_s: float | None
    last_time_in_s: float | None


@dataclass(frozen=True, kw_only=True)
class RigDescription:
    """What a rig file holds, from its headers: what ``glymph describe`` prints and ``glymph init`` starts from.

    Attributes
    ----------
    path : str
        The rig file or TDT block folder.
    format : str
        The session file's ``format`` value for this file.
    format_name : str
        Human name of the file kind.
    modalities : tuple of str
        Session-file sections the format can fill (``photometry``, ``electrophysiology``).
    session_start_time : datetime or None
        Wall-clock start (time-zone aware when the format says so).
    duration_in_s : float
        Length of the longest stream.
    streams : tuple of StreamDescription
        Every continuous stream.
    events : tuple of EventDescription
        Every event channel.
    notes : tuple of str
        The reader's non-fatal findings while reading the headers.
    """

    path: str
    format: str
    format_name: str
    modalities: tuple[str, ...]
    session_start_time: datetime | None
    duration_in_s: float
    streams: tuple[StreamDescription, ...]
    events: tuple[EventDescription, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready content (the start time as ISO 8601 text, ``None`` when unknown)."""
        content = asdict(self)
        content["session_start_time"] = (
            None if self.session_start_time is None else self.session_start_time.isoformat()
        )
        return content


def _describe_stream(info: StreamInfo) -> StreamDescription:
    mean_rate = None
    if info.rate_in_Hz is None and info.duration_in_s > 0 and info.n_samples > 1:
        mean_rate = (info.n_samples - 1) / info.duration_in_s
    return StreamDescription(
        name=info.name, rate_in_Hz=info.rate_in_Hz, mean_rate_in_Hz=mean_rate, n_samples=info.n_samples,
        n_channels=info.n_channels, channel_names=tuple(info.channel_names), unit=info.unit,
        starting_time_in_s=float(info.starting_time_in_s), duration_in_s=float(info.duration_in_s),
    )


def _describe_events(channel: EventChannel) -> EventDescription:
    onsets = np.asarray(channel.onset_times_in_s, dtype=np.float64)
    return EventDescription(
        name=channel.name, count=len(onsets),
        first_time_in_s=float(onsets.min()) if len(onsets) else None,
        last_time_in_s=float(onsets.max()) if len(onsets) else None,
    )


class RigReader(abc.ABC):
    """Base class of every rig-file reader.

    Subclasses read headers in ``__init__`` (raising :class:`ndx_glymphatic.errors.InputFileError`
    with file, field, expected and found for anything malformed) and never load whole streams.

    Attributes
    ----------
    path : Path
        The rig file (or TDT block folder).
    notes : list of str
        Non-fatal findings about the file, added while headers and data are read (a missing stop
        marker, values outside a declared range, ...); the converter reports them.
    """

    #: The session file's ``format`` value this class reads (``"tdt"``, ``"doric"``, ...).
    format: ClassVar[str] = ""
    #: Human name of the file kind, e.g. "TDT Synapse block" (used in messages).
    format_name: ClassVar[str] = ""
    #: Session-file sections a recording of this format can fill.
    modalities: ClassVar[tuple[Modality, ...]] = ()
    #: Path suffixes (lower case) for which the registry picks this class among the readers of its
    #: format; empty for the format's reader of every other path (a TDT block folder, a ``.doric`` file).
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: Keyword arguments of ``__init__`` that a session file may set (e.g. Doric ``series``).
    options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, path: str | Path) -> None:
        self.path = Path(path)
        self.notes: list[str] = []

    @property
    @abc.abstractmethod
    def session_start_time(self) -> datetime | None:
        """Wall-clock start of the recording (time-zone aware when the format says so)."""

    @abc.abstractmethod
    def streams(self) -> Mapping[str, StreamInfo]:
        """Every continuous stream, by name."""

    @abc.abstractmethod
    def iter_stream_chunks(
        self, *, stream_name: str, chunk_samples: int = 1_000_000
    ) -> Iterator[np.ndarray]:
        """Yield a stream's samples in order, ``(n, n_channels)`` float arrays of at most ``chunk_samples`` rows.

        Raises :class:`~ndx_glymphatic.errors.InputFileError` for an unknown stream name or
        missing / truncated data files.
        """

    @abc.abstractmethod
    def events(self) -> Mapping[str, EventChannel]:
        """Every TTL / digital / annotation event channel, by name."""

    def close(self) -> None:
        """Release what the reader holds open; readers that open files only while reading hold nothing."""
        return None

    def __enter__(self) -> RigReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def describe(self) -> RigDescription:
        """What the file holds, from :meth:`streams`, :meth:`events` and the start time (no sample data is read)."""
        streams = tuple(_describe_stream(info) for info in self.streams().values())
        events = tuple(_describe_events(channel) for channel in self.events().values())
        return RigDescription(
            path=str(self.path), format=self.format, format_name=self.format_name,
            modalities=tuple(self.modalities), session_start_time=self.session_start_time,
            duration_in_s=max((stream.starting_time_in_s + stream.duration_in_s for stream in streams), default=0.0),
            streams=streams, events=events, notes=tuple(dict.fromkeys(self.notes)),
        )

    def read_stream(self, *, stream_name: str) -> np.ndarray:
        """Read a whole stream into memory (for tests and short files only)."""
        chunks = list(self.iter_stream_chunks(stream_name=stream_name))
        info = self.streams()[stream_name]
        if not chunks:
            return np.empty((0, info.n_channels))
        return np.concatenate(chunks, axis=0)

    def canonical_name(self, *, name: str, kind: Literal["stream", "event"]) -> str | None:
        """The key of :meth:`streams` / :meth:`events` that another spelling of a name stands for.

        Formats whose names have several spellings override this (TDT: store code ``465A`` and
        MATLAB name ``x465A`` for the stream ``_465A``). Returns None when ``name`` spells nothing.
        """
        return None

    def resolve_stream(self, *, stream: str, stream_channel: int = 0, field_path: str) -> tuple[StreamInfo, int]:
        """Find a session file's ``stream`` (+ ``stream_channel``) in this file.

        ``stream`` is a stream name, another spelling of one (:meth:`canonical_name`), or the name of
        one channel of a stream (an EDF label), which then gives the channel.

        Parameters
        ----------
        stream : str
            The session file's ``stream``.
        stream_channel : int
            The session file's ``stream_channel`` (0 when it names no channel).
        field_path : str
            Where ``stream`` stands in the session file (``photometry.channels[0].stream``), for messages.

        Returns
        -------
        info : StreamInfo
            The stream.
        column : int
            The channel of the stream.

        Raises
        ------
        InputFileError
            No such stream or channel (the message lists the streams present).
        """
        streams = self.streams()
        info = self._lookup(table=streams, name=stream, kind="stream")
        if info is None:
            for candidate in streams.values():
                if stream in candidate.channel_names:
                    if stream_channel:
                        raise InputFileError(
                            path=self.path, field=f"{field_path} / stream_channel",
                            expected=f"no stream_channel when `stream` names a channel ({stream!r} is channel "
                            f"{candidate.channel_names.index(stream)} of stream {candidate.name!r})",
                            found=str(stream_channel),
                        )
                    return candidate, candidate.channel_names.index(stream)
            raise self._not_found(what="stream", name=stream, field_path=field_path, present=streams)
        if stream_channel >= info.n_channels:
            raise InputFileError(
                path=self.path,
                field=f"stream {info.name!r} channel {stream_channel} (session {field_path.rsplit('.', 1)[0]}"
                ".stream_channel)",
                expected=f"a channel index below {info.n_channels} (the stream has {info.n_channels} channel"
                f"{'s' if info.n_channels != 1 else ''})",
                found=str(stream_channel),
            )
        return info, stream_channel

    def resolve_event_channel(self, *, name: str, field_path: str) -> EventChannel:
        """Find a session file's event channel ``name`` (or another spelling of it) in this file.

        Raises
        ------
        InputFileError
            No such event channel (the message lists the channels present).
        """
        events = self.events()
        channel = self._lookup(table=events, name=name, kind="event")
        if channel is None:
            raise self._not_found(what="event channel", name=name, field_path=field_path, present=events)
        return channel

    def _lookup(self, *, table: Mapping[str, _Found], name: str, kind: Literal["stream", "event"]) -> _Found | None:
        found = table.get(name)
        if found is None:
            canonical = self.canonical_name(name=name, kind=kind)
            found = None if canonical is None else table.get(canonical)
        return found

    def _not_found(self, *, what: str, name: str, field_path: str, present: Mapping[str, object]) -> InputFileError:
        listing = ", ".join(repr(key) for key in present) or "none"
        article = "an" if what[0] in "aeiou" else "a"
        return InputFileError(
            path=self.path,
            field=f"{what} {name!r} (session {field_path})",
            expected=f"{article} {what} of this {self.format_name or 'rig'} file: {listing}",
            found=f"no such {what}",
        )


# ---------------------------------------------------------------------------------------------- hypnograms
@dataclass(frozen=True)
class HypnogramIntervals:
    """Scored sleep-state intervals, ready for the ``Hypnogram`` table.

    Attributes
    ----------
    start_times_in_s, stop_times_in_s : ndarray
        Interval bounds, seconds on the scoring file's clock; sorted, non-overlapping.
    sleep_states : tuple of str
        One state per interval, from ``SLEEP_STATES``.
    scoring_method : str
        ``"manual"`` or ``"automatic"``.
    scorer : str
        Person or software (+ version) that scored.
    epoch_length_in_s : float or None
        Scoring epoch; ``None`` for event-based scoring.
    start_datetime : datetime or None
        Wall-clock time of second 0 when the file says (EDF start).
    notes : tuple of str
        Non-fatal findings of the reader (annotations skipped, no common epoch, ...).
    """

    start_times_in_s: np.ndarray
    stop_times_in_s: np.ndarray
    sleep_states: tuple[str, ...]
    scoring_method: str
    scorer: str
    epoch_length_in_s: float | None
    start_datetime: datetime | None = None
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.sleep_states)

    def total_duration_in_s(self, *, sleep_state: str) -> float:
        """Summed duration of every interval of one state."""
        mask = np.array([state == sleep_state for state in self.sleep_states], dtype=bool)
        return float(np.sum(self.stop_times_in_s[mask] - self.start_times_in_s[mask]))

    def on_clock(self, *, to_time: Callable[[np.ndarray], np.ndarray]) -> HypnogramIntervals:
        """The same intervals with their bounds put on another clock by ``to_time`` (seconds -> seconds)."""
        return replace(
            self, start_times_in_s=to_time(self.start_times_in_s), stop_times_in_s=to_time(self.stop_times_in_s)
        )


@dataclass(frozen=True)
class ScoredInterval:
    """One interval as a hypnogram file scores it, and where in the file it stands (for messages).

    Attributes
    ----------
    start_in_s, stop_in_s : float
        Bounds, seconds on the scoring file's clock.
    sleep_state : str
        State from ``SLEEP_STATES``.
    origin : str
        Where in the file it comes from (``row 4 (NREM)``, ``annotation 12 ('Sleep stage 2')``).
    """

    start_in_s: float
    stop_in_s: float
    sleep_state: str
    origin: str

    def describe(self) -> str:
        """Origin and bounds, as messages quote them."""
        return f"{self.origin} [{self.start_in_s!r}, {self.stop_in_s!r}] s"


@dataclass(frozen=True)
class ScoredFile:
    """What a hypnogram reader parsed from its file, before the shared checks and assembly.

    Attributes
    ----------
    intervals : sequence of ScoredInterval
        The scored intervals in file order; micro-arousals may lie inside NREM intervals.
    epoch_length_in_s : float or None
        Scoring epoch (given, or found in the file); ``None`` for event-based scoring.
    start_datetime : datetime or None
        Wall-clock time of second 0 when the file says.
    """

    intervals: Sequence[ScoredInterval]
    epoch_length_in_s: float | None
    start_datetime: datetime | None = None


@dataclass(frozen=True)
class Recognition:
    """A hypnogram reader's verdict that a file is of its format (from :meth:`HypnogramReader.recognise`).

    Attributes
    ----------
    format : str
        The reader's ``format``.
    score : int
        How specific the evidence is: 1 a layout many formats share (one column of numbers), 2 the
        format's own headers or variables, 3 a file name the format prescribes. The highest wins; a tie
        is ambiguous.
    reason : str
        What was seen, for the note that says which format was chosen.
    options : mapping
        Options the content implies (``code_preset: accusleep`` for an AccuSleep ``brain_state`` column).
    """

    format: str
    score: int
    reason: str
    options: Mapping[str, object] = field(default_factory=dict)


#: Default largest overlap or gap between neighbouring intervals that is rounding, snapped with a note.
DEFAULT_BOUNDARY_TOLERANCE_IN_S = 0.01


@dataclass(frozen=True, kw_only=True)
class HypnogramReader(abc.ABC):
    """Base class of every hypnogram (sleep-scoring file) reader.

    A subclass adds its format's options as further fields and implements :meth:`read_scored`;
    :meth:`read` checks and assembles what it parsed into :class:`HypnogramIntervals`.

    Parameters
    ----------
    path : Path
        The scoring file.
    scorer : str
        Person or software that scored.
    scoring_method : str
        ``"manual"`` or ``"automatic"``.
    epoch_length_in_s : float, optional
        Scoring epoch, when the scoring was epoch-based (required by formats with
        ``epoch_length_required``).
    merge_adjacent : bool
        Merge touching intervals of one state.
    boundary_tolerance_in_s : float
        Overlaps and gaps between neighbouring intervals up to this are rounding: the later interval's
        start is snapped to the earlier one's stop and a note says so. Larger overlaps are errors.

    Attributes
    ----------
    notes : list of str
        Non-fatal findings, added while the file is read; :meth:`read` returns them with the intervals.
    """

    #: The session file's ``hypnogram.format`` value this class reads.
    format: ClassVar[str] = ""
    #: Human name of the file kind, e.g. "SleepScore state table".
    format_name: ClassVar[str] = ""
    #: Fields of the subclass that a session file may set (e.g. ``state_columns``).
    options: ClassVar[tuple[str, ...]] = ()
    #: The option that maps the file's labels (state columns, codes, annotation texts) to states.
    state_map_option: ClassVar[str] = ""
    #: Whether the format needs ``epoch_length_in_s`` (its file holds one code per epoch).
    epoch_length_required: ClassVar[bool] = False

    path: Path
    scorer: str
    scoring_method: str = "manual"
    epoch_length_in_s: float | None = None
    merge_adjacent: bool = True
    boundary_tolerance_in_s: float = DEFAULT_BOUNDARY_TOLERANCE_IN_S
    notes: list[str] = field(default_factory=list, init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if self.scoring_method not in SCORING_METHODS:
            raise GlymphError(
                f"scoring_method: expected one of {list(SCORING_METHODS)}, found {self.scoring_method!r}"
            )
        if not self.scorer.strip():
            raise GlymphError("scorer: expected the person or software that scored, found an empty text")
        if self.epoch_length_in_s is None:
            if self.epoch_length_required:
                raise GlymphError(f"epoch_length_in_s: required for format {self.format!r}")
        elif not self.epoch_length_in_s > 0:
            raise GlymphError(
                f"epoch_length_in_s: expected a positive number of seconds, found {self.epoch_length_in_s!r}"
            )
        if not (math.isfinite(self.boundary_tolerance_in_s) and self.boundary_tolerance_in_s >= 0):
            raise GlymphError(
                "boundary_tolerance_in_s: expected a non-negative number of seconds, found "
                f"{self.boundary_tolerance_in_s!r}"
            )
        bad = sorted({str(state) for state in self.state_map.values() if state not in SLEEP_STATES})
        if bad:
            raise GlymphError(f"{self.state_map_option}: states must come from {list(SLEEP_STATES)}, found {bad}")

    @property
    @abc.abstractmethod
    def state_map(self) -> Mapping[object, str]:
        """The file's labels -> states in effect: the ``state_map_option`` as set, or the format's default."""

    @classmethod
    @abc.abstractmethod
    def recognise(cls, *, path: Path) -> Recognition | None:
        """Whether ``path`` looks like this format (suffix and header sniffing; never raises for any content).

        Used when the session file names no ``format``: the registry asks every reader and takes the
        highest :attr:`Recognition.score`.
        """

    @abc.abstractmethod
    def read_scored(self) -> ScoredFile:
        """Parse the file into scored intervals (raising :class:`InputFileError` for anything malformed)."""

    def read(self) -> HypnogramIntervals:
        """Read the file: sorted, non-overlapping intervals, NREM split around the micro-arousals inside it.

        Raises
        ------
        InputFileError
            A malformed file, an interval without a positive duration, or overlapping intervals
            (naming both rows).
        """
        scored = self.read_scored()
        if not scored.intervals:
            raise InputFileError(
                path=self.path, field="rows", expected="at least one scored interval below the header",
                found="none (the file has headers and no rows)",
            )
        rows = _assemble(rows=scored.intervals, path=self.path, merge_adjacent=self.merge_adjacent,
                         tolerance_in_s=self.boundary_tolerance_in_s, notes=self.notes)
        return HypnogramIntervals(
            start_times_in_s=np.array([row.start_in_s for row in rows], dtype=np.float64),
            stop_times_in_s=np.array([row.stop_in_s for row in rows], dtype=np.float64),
            sleep_states=tuple(row.sleep_state for row in rows),
            scoring_method=self.scoring_method,
            scorer=self.scorer,
            epoch_length_in_s=scored.epoch_length_in_s,
            start_datetime=scored.start_datetime,
            notes=tuple(dict.fromkeys(self.notes)),
        )


def _assemble(
    *, rows: Sequence[ScoredInterval], path: Path, merge_adjacent: bool, tolerance_in_s: float, notes: list[str]
) -> list[ScoredInterval]:
    """Validate, split NREM around micro-arousals, sort, snap rounding overlaps / gaps, merge touching equal states."""
    for row in rows:
        if not (math.isfinite(row.start_in_s) and math.isfinite(row.stop_in_s)) or row.stop_in_s <= row.start_in_s:
            raise InputFileError(
                path=path,
                field=row.origin,
                expected="finite onset and a positive duration",
                found=f"onset {row.start_in_s!r} s, stop {row.stop_in_s!r} s",
            )
    tolerance = max(tolerance_in_s, _TOLERANCE_IN_S)
    arousals = sorted((row for row in rows if row.sleep_state == "micro-arousal"), key=lambda row: row.start_in_s)
    others = sorted((row for row in rows if row.sleep_state != "micro-arousal"), key=lambda row: row.start_in_s)
    for group in (others, arousals):
        for before, after in itertools.pairwise(group):
            if after.start_in_s < before.stop_in_s - tolerance:
                raise InputFileError(
                    path=path,
                    field=after.origin,
                    expected=f"no overlap with {before.origin} (beyond the boundary tolerance of {tolerance_in_s!r} s)",
                    found=f"{after.describe()} overlaps {before.describe()} by "
                    f"{before.stop_in_s - after.start_in_s!r} s",
                )
    starts = np.array([row.start_in_s for row in others])
    stops = np.array([row.stop_in_s for row in others])
    cuts: dict[int, list[ScoredInterval]] = {}
    for arousal in arousals:
        index = int(np.searchsorted(stops, arousal.start_in_s + tolerance, side="right"))
        while index < len(others) and starts[index] < arousal.stop_in_s - tolerance:
            host = others[index]
            if host.sleep_state != "NREM":
                raise InputFileError(
                    path=path,
                    field=arousal.origin,
                    expected="a micro-arousal inside NREM or between bouts",
                    found=f"{arousal.describe()} overlaps {host.sleep_state} {host.describe()}",
                )
            cuts.setdefault(index, []).append(arousal)
            index += 1
    pieces: list[ScoredInterval] = list(arousals)
    for index, row in enumerate(others):
        start = row.start_in_s
        for arousal in cuts.get(index, []):
            if arousal.start_in_s - start > tolerance:
                pieces.append(replace(row, start_in_s=start, stop_in_s=arousal.start_in_s))
            start = max(start, arousal.stop_in_s)
        if row.stop_in_s - start > tolerance:
            pieces.append(replace(row, start_in_s=start))
    pieces.sort(key=lambda row: row.start_in_s)
    pieces = _snap(pieces=pieces, path=path, tolerance_in_s=tolerance_in_s, notes=notes)
    if not merge_adjacent:
        return pieces
    merged: list[ScoredInterval] = []
    for row in pieces:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.sleep_state == row.sleep_state
            and abs(row.start_in_s - last.stop_in_s) <= _TOLERANCE_IN_S
        ):
            merged[-1] = replace(last, stop_in_s=row.stop_in_s)
        else:
            merged.append(row)
    return merged


def _snap(
    *, pieces: list[ScoredInterval], path: Path, tolerance_in_s: float, notes: list[str]
) -> list[ScoredInterval]:
    """Start each interval at its predecessor's stop where they overlap or leave a gap of at most the tolerance."""
    snapped: list[ScoredInterval] = pieces[:1]
    overlaps: list[float] = []
    gaps: list[float] = []
    first: str | None = None
    for row in pieces[1:]:
        before = snapped[-1]
        step = row.start_in_s - before.stop_in_s
        if step != 0 and abs(step) <= tolerance_in_s and row.stop_in_s - before.stop_in_s > 0:
            (gaps if step > 0 else overlaps).append(abs(step))
            first = first or f"{row.origin} at {row.start_in_s!r} s"
            row = replace(row, start_in_s=before.stop_in_s)
        snapped.append(row)
    if overlaps or gaps:
        parts = [
            f"{len(values)} {kind}{'s' if len(values) > 1 else ''} of up to {max(values):.6g} s"
            for kind, values in (("overlap", overlaps), ("gap", gaps))
            if values
        ]
        notes.append(
            f"{path}: {' and '.join(parts)} between neighbouring intervals (within the boundary tolerance of "
            f"{tolerance_in_s!r} s) snapped: each later interval now starts where the earlier one stops "
            f"(first: {first})"
        )
    return snapped
