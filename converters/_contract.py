"""The one contract every rig-file reader follows.

A reader is a small class per format (``TdtBlockReader``, ``DoricFileReader``, ...) that opens
nothing heavy in ``__init__`` beyond headers, describes what the file holds, and streams sample
data in chunks. Converters only ever talk to readers through this contract, and one shared test
suite (``tests/test_reader_contract.py``) runs over every reader.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

__all__ = ["EventChannel", "RigReader", "StreamInfo"]


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


class RigReader(abc.ABC):
    """Base class of every rig-file reader.

    Subclasses read headers in ``__init__`` (raising :class:`ndx_glymphatic.errors.InputFileError`
    with file, field, expected and found for anything malformed) and never load whole streams.
    """

    #: Human name of the format, e.g. "TDT Synapse block".
    format_name: str = ""

    def __init__(self, *, path: str | Path) -> None:
        self.path = Path(path)

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

    def read_stream(self, *, stream_name: str) -> np.ndarray:
        """Read a whole stream into memory (for tests and short files only)."""
        chunks = list(self.iter_stream_chunks(stream_name=stream_name))
        info = self.streams()[stream_name]
        if not chunks:
            return np.empty((0, info.n_channels))
        return np.concatenate(chunks, axis=0)
