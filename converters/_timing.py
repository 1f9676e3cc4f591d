"""Timing and digital-edge helpers shared by the readers that get per-sample times (Doric, Neurophotometrics,
pyPhotometry).

Timing: a stream is regularly sampled when every time deviates from the grid ``t0 + i / rate`` (rate from the
first and last time, which for a gap-free vector equals one over the median interval but does not accumulate
rounding over a day) by at most ``max_jitter_fraction`` of a sample period; it is then described by rate and
starting time. Otherwise its timestamps are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ndx_glymphatic.converters._contract import EventChannel
from ndx_glymphatic.errors import InputFileError

__all__ = ["EdgeDetector", "SampleTiming", "infer_sample_timing", "pair_offsets"]


class _Sliceable(Protocol):
    def __len__(self) -> int: ...

    def __getitem__(self, key: slice) -> np.ndarray: ...


@dataclass(frozen=True)
class SampleTiming:
    """How a stream's samples sit in time.

    Attributes
    ----------
    rate_in_Hz : float or None
        Sampling rate when the samples lie on a regular grid, else ``None``.
    starting_time_in_s : float
        Time of the first sample (after subtracting the time origin).
    timestamps_in_s : ndarray or None
        Per-sample times, only when the sampling is not regular.
    max_deviation_in_s : float
        Largest distance of a sample time from the regular grid (0 for fewer than two samples).
    """

    rate_in_Hz: float | None
    starting_time_in_s: float
    timestamps_in_s: np.ndarray | None
    max_deviation_in_s: float


def infer_sample_timing(
    *,
    times: _Sliceable,
    path: str | Path,
    field: str,
    max_jitter_fraction: float = 0.1,
    time_origin_in_s: float = 0.0,
    chunk_samples: int = 1_000_000,
) -> SampleTiming:
    """Decide whether a time vector is a regular grid and describe it.

    Parameters
    ----------
    times : array-like
        The time vector in seconds; anything with ``len`` and slicing (ndarray, h5py.Dataset). It is
        read in chunks; it is loaded whole only when the sampling turns out irregular.
    path, field : str or Path, str
        File and field named in errors.
    max_jitter_fraction : float
        Largest allowed deviation from the grid, as a fraction of the sample period.
    time_origin_in_s : float
        Subtracted from every time (the recording start on the file's clock).
    chunk_samples : int
        Samples read per chunk.

    Returns
    -------
    SampleTiming

    Raises
    ------
    InputFileError
        If the times are not finite or do not strictly increase.
    """
    n_samples = len(times)
    if n_samples == 0:
        return SampleTiming(None, 0.0, np.empty(0), 0.0)
    first = float(np.asarray(times[0:1])[0])
    last = float(np.asarray(times[n_samples - 1 : n_samples])[0])
    if not (np.isfinite(first) and np.isfinite(last)):
        raise InputFileError(
            path=path, field=field, expected="finite times in seconds", found=f"first {first}, last {last}"
        )
    if n_samples == 1:
        return SampleTiming(None, first - time_origin_in_s, np.array([first - time_origin_in_s]), 0.0)
    span = last - first
    if span <= 0:
        raise InputFileError(
            path=path,
            field=field,
            expected="strictly increasing times",
            found=f"first time {first} s and last time {last} s",
        )
    rate = (n_samples - 1) / span
    max_deviation = 0.0
    previous = -np.inf
    for start in range(0, n_samples, chunk_samples):
        chunk = np.asarray(times[start : start + chunk_samples], dtype=np.float64)
        steps = np.diff(np.concatenate(([previous], chunk)))
        bad = np.flatnonzero(~(steps > 0))
        if bad.size:
            index = start + int(bad[0])
            before = previous if bad[0] == 0 else float(chunk[bad[0] - 1])
            raise InputFileError(
                path=path,
                field=field,
                expected="finite, strictly increasing times",
                found=f"time {float(chunk[bad[0]])!r} at sample {index} after {before!r}",
            )
        grid = first + (start + np.arange(chunk.size)) / rate
        max_deviation = max(max_deviation, float(np.max(np.abs(chunk - grid))))
        previous = float(chunk[-1])
    if max_deviation <= max_jitter_fraction / rate:
        return SampleTiming(rate, first - time_origin_in_s, None, max_deviation)
    timestamps = np.asarray(times[0:n_samples], dtype=np.float64) - time_origin_in_s
    return SampleTiming(None, float(timestamps[0]), timestamps, max_deviation)


def pair_offsets(*, onsets: np.ndarray, falling: np.ndarray) -> np.ndarray:
    """Match every onset with the first falling edge after it and before the next onset (NaN if none)."""
    onsets = np.asarray(onsets, dtype=np.float64)
    falling = np.asarray(falling, dtype=np.float64)
    offsets = np.full(onsets.size, np.nan)
    if onsets.size == 0 or falling.size == 0:
        return offsets
    candidate = np.searchsorted(falling, onsets, side="right")
    valid = candidate < falling.size
    next_onsets = np.append(onsets[1:], np.inf)
    chosen = falling[np.minimum(candidate, falling.size - 1)]
    valid &= chosen < next_onsets
    offsets[valid] = chosen[valid]
    return offsets


class EdgeDetector:
    """Rising and falling edges of a digital line fed chunk by chunk.

    A line already high at the first sample has no rising edge there (its onset is unknown); a line
    still high at the end gets a NaN offset.
    """

    def __init__(self) -> None:
        self._last_level: bool | None = None
        self._rising: list[np.ndarray] = []
        self._falling: list[np.ndarray] = []

    def feed(self, *, levels: np.ndarray, times: np.ndarray) -> None:
        """Add one chunk of boolean levels and the times of those samples."""
        levels = np.asarray(levels, dtype=bool)
        if levels.size == 0:
            return
        previous = levels[0] if self._last_level is None else self._last_level
        before = np.concatenate(([previous], levels[:-1]))
        self._rising.append(np.asarray(times)[levels & ~before])
        self._falling.append(np.asarray(times)[~levels & before])
        self._last_level = bool(levels[-1])

    def event_channel(self, *, name: str) -> EventChannel:
        """The edges seen so far as an :class:`EventChannel` (value 1 per onset)."""
        rising = np.concatenate(self._rising) if self._rising else np.empty(0)
        falling = np.concatenate(self._falling) if self._falling else np.empty(0)
        rising = rising.astype(np.float64)
        return EventChannel(
            name=name,
            onset_times_in_s=rising,
            values=np.ones(rising.size),
            offset_times_in_s=pair_offsets(onsets=rising, falling=falling.astype(np.float64)),
        )
