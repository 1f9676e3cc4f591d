"""The simulated rig as rig readers: what ``glymph simulate --format tdt`` records, read straight from the simulator.

Two acquisition systems, as on the rig whose files :mod:`ndx_glymphatic.simulation.rig_files` writes, but on
one clock and without any rig quantisation:

- :class:`SimulatedPhotometryReader`: the photometry channels (TDT store names, volts, the simulator's rate)
  and the TDT epocs: the shared sync TTL ``PtC0`` and the LC laser pulses ``Pu1_``;
- :class:`SimulatedEphysReader`: ``EEG`` (2 channels) and ``EMG`` in microvolts, channels named by their EDF
  labels, and the sync TTL ``TTL``.

Samples stream chunk by chunk from :func:`~ndx_glymphatic.simulation.iter_photometry_chunks` /
:func:`~ndx_glymphatic.simulation.iter_ephys_chunks`, so the output is the same for any chunking. The
converter's planning reads them like any other rig reader; aligning the two clocks on the shared sync TTL
gives slope 1 and offset 0 exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

import numpy as np

from ndx_glymphatic.converters._contract import EventChannel, RigReader, StreamInfo
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation.channels import PHOTOMETRY_CHANNELS, electrode_channels
from ndx_glymphatic.simulation.latents import SimulatedSession
from ndx_glymphatic.simulation.rig_files.session import (
    EDF_LABELS,
    SYNC_PULSE_WIDTH_IN_S,
    lc_pulses,
    sync_pulse_times,
)
from ndx_glymphatic.simulation.streams import iter_ephys_chunks, iter_photometry_chunks

__all__ = ["LASER_CHANNEL", "SYNC_CHANNEL", "SimulatedEphysReader", "SimulatedPhotometryReader"]

#: Event channels of the simulated photometry system (TDT epoc names as the TDT reader gives them).
SYNC_CHANNEL = "PtC0"
LASER_CHANNEL = "Pu1_"
#: The sync TTL as the EEG/EMG system records it.
EPHYS_SYNC_CHANNEL = "TTL"
_MICROVOLTS_PER_VOLT = 1e6


def _pulses(*, name: str, onsets_in_s: np.ndarray, offsets_in_s: np.ndarray) -> EventChannel:
    return EventChannel(name=name, onset_times_in_s=onsets_in_s, values=np.ones(len(onsets_in_s)),
                        offset_times_in_s=offsets_in_s)


def _check_stream(*, reader: RigReader, stream_name: str) -> None:
    if stream_name not in reader.streams():
        raise InputFileError(path=reader.path, field=f"stream {stream_name!r}",
                             expected=f"one of {', '.join(reader.streams())}", found="no such stream")


def _sync(session: SimulatedSession, name: str) -> EventChannel:
    onsets = sync_pulse_times(duration_in_s=session.parameters.duration_in_s, seed=session.parameters.seed)
    return _pulses(name=name, onsets_in_s=onsets, offsets_in_s=onsets + SYNC_PULSE_WIDTH_IN_S)


class SimulatedPhotometryReader(RigReader):
    """The simulated photometry system: one stream per photometry channel, sync and laser TTLs."""

    format_name = "simulated photometry"

    def __init__(self, *, session: SimulatedSession, path: str | Path) -> None:
        super().__init__(path=path)
        self.session = session
        self._channel_of = {spec.stream_name: spec.name for spec in PHOTOMETRY_CHANNELS}

    @property
    def session_start_time(self) -> datetime:
        return datetime.fromisoformat(self.session.parameters.session_start_time)

    def streams(self) -> Mapping[str, StreamInfo]:
        return {
            stream: StreamInfo(name=stream, n_samples=self.session.n_photometry_samples, n_channels=1, unit="V",
                               rate_in_Hz=self.session.parameters.photometry_rate_in_Hz, channel_names=(stream,))
            for stream in self._channel_of
        }

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        _check_stream(reader=self, stream_name=stream_name)
        chunks = iter_photometry_chunks(session=self.session, channel=self._channel_of[stream_name],
                                        chunk_samples=chunk_samples)
        return (chunk[:, None] for chunk in chunks)

    def events(self) -> Mapping[str, EventChannel]:
        events = {SYNC_CHANNEL: _sync(self.session, SYNC_CHANNEL)}
        onsets, offsets = lc_pulses(self.session)
        if onsets.size:
            events[LASER_CHANNEL] = _pulses(name=LASER_CHANNEL, onsets_in_s=onsets, offsets_in_s=offsets)
        return events


class SimulatedEphysReader(RigReader):
    """The simulated EEG/EMG system: ``EEG`` and ``EMG`` streams in microvolts and the sync TTL."""

    format_name = "simulated EEG/EMG"

    def __init__(self, *, session: SimulatedSession, path: str | Path) -> None:
        super().__init__(path=path)
        self.session = session

    @property
    def session_start_time(self) -> datetime:
        return datetime.fromisoformat(self.session.parameters.session_start_time)

    def streams(self) -> Mapping[str, StreamInfo]:
        return {
            series: StreamInfo(
                name=series, n_samples=self.session.n_ephys_samples, n_channels=len(channels), unit="uV",
                rate_in_Hz=self.session.parameters.ephys_rate_in_Hz,
                channel_names=tuple(EDF_LABELS[spec.name] for spec in channels),
            )
            for series in ("EEG", "EMG")
            for channels in (electrode_channels(series=series),)
        }

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        _check_stream(reader=self, stream_name=stream_name)
        chunks = iter_ephys_chunks(session=self.session, series=stream_name, chunk_samples=chunk_samples)
        return (chunk * _MICROVOLTS_PER_VOLT for chunk in chunks)

    def events(self) -> Mapping[str, EventChannel]:
        return {EPHYS_SYNC_CHANNEL: _sync(self.session, EPHYS_SYNC_CHANNEL)}
