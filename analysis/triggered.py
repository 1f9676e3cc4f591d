"""Event-triggered averages of traces and of the EEG spectrogram.

Used for micro-arousal onsets (+-50 s), LC optogenetic trains and vasomotion stimulation epochs
(+-30 s, with the EEG spectrogram). An event whose window leaves the recording or holds a NaN is
left out and counted in ``n_excluded``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ndx_glymphatic.analysis.eeg import Spectrogram

__all__ = [
    "TriggeredAverage",
    "TriggeredSpectrogram",
    "event_count_label",
    "event_triggered_average",
    "is_small_n",
    "triggered_spectrogram",
]


@dataclass(frozen=True)
class TriggeredAverage:
    """Average of a trace around events.

    Attributes
    ----------
    lags_in_s : ndarray
        Time relative to the event.
    mean, sem : ndarray
        Mean and standard error over events (NaN without events).
    n_events : int
        Events averaged.
    n_excluded : int
        Events left out (window outside the data or NaN inside).
    per_event : ndarray
        Events x lags.
    """

    lags_in_s: NDArray[np.float64]
    mean: NDArray[np.float64]
    sem: NDArray[np.float64]
    n_events: int
    n_excluded: int
    per_event: NDArray[np.float64]

    def window_change(self, *, baseline_in_s: tuple[float, float], response_in_s: tuple[float, float]) -> float:
        """Mean over ``response_in_s`` minus mean over ``baseline_in_s`` of the average (in trace units)."""
        base = (self.lags_in_s >= baseline_in_s[0]) & (self.lags_in_s < baseline_in_s[1])
        resp = (self.lags_in_s >= response_in_s[0]) & (self.lags_in_s < response_in_s[1])
        if self.n_events == 0 or not np.any(base) or not np.any(resp):
            return float("nan")
        return float(np.mean(self.mean[resp]) - np.mean(self.mean[base]))


@dataclass(frozen=True)
class TriggeredSpectrogram:
    """Spectrogram around events, in percent of each event's pre-event baseline per frequency.

    Attributes
    ----------
    lags_in_s, frequencies_in_Hz : ndarray
    relative_power_percent : ndarray
        Lags x frequencies mean over events (100 = baseline).
    n_events, n_excluded : int
    """

    lags_in_s: NDArray[np.float64]
    frequencies_in_Hz: NDArray[np.float64]
    relative_power_percent: NDArray[np.float64]
    n_events: int
    n_excluded: int


def event_triggered_average(
    *,
    values: NDArray[np.floating],
    rate_in_Hz: float,
    starting_time: float,
    event_times: NDArray[np.floating],
    window_in_s: tuple[float, float] = (-30.0, 30.0),
) -> TriggeredAverage:
    """Average ``values`` in a window around each event (nearest-sample alignment).

    Parameters
    ----------
    values : ndarray
        Regularly sampled trace.
    rate_in_Hz, starting_time : float
        Its grid.
    event_times : ndarray
        Event times in seconds.
    window_in_s : tuple of float
        (start, stop) relative to each event.

    Returns
    -------
    TriggeredAverage
    """
    values = np.asarray(values, dtype=np.float64)
    first = int(np.floor(window_in_s[0] * rate_in_Hz))
    last = int(np.ceil(window_in_s[1] * rate_in_Hz))
    offsets = np.arange(first, last + 1)
    lags = offsets / rate_in_Hz
    rows = []
    excluded = 0
    for time in np.asarray(event_times, dtype=np.float64):
        centre = round((time - starting_time) * rate_in_Hz)
        index = centre + offsets
        if index[0] < 0 or index[-1] >= values.size:
            excluded += 1
            continue
        row = values[index]
        if not np.all(np.isfinite(row)):
            excluded += 1
            continue
        rows.append(row)
    if not rows:
        nan = np.full(lags.size, np.nan)
        return TriggeredAverage(lags, nan, nan, 0, excluded, np.zeros((0, lags.size)))
    matrix = np.vstack(rows)
    sem = matrix.std(axis=0, ddof=1) / np.sqrt(len(rows)) if len(rows) > 1 else np.zeros(lags.size)
    return TriggeredAverage(lags, matrix.mean(axis=0), sem, len(rows), excluded, matrix)


def triggered_spectrogram(
    *,
    spectrogram: Spectrogram,
    event_times: NDArray[np.floating],
    window_in_s: tuple[float, float] = (-30.0, 30.0),
    baseline_in_s: float = 10.0,
) -> TriggeredSpectrogram:
    """Event-triggered EEG spectrogram, each event normalised to its own pre-event baseline.

    Parameters
    ----------
    spectrogram : Spectrogram
        The session spectrogram.
    event_times : ndarray
        Event times.
    window_in_s : tuple of float
        (start, stop) relative to each event.
    baseline_in_s : float
        Seconds before the event used as 100 %.

    Returns
    -------
    TriggeredSpectrogram
    """
    step = spectrogram.step_in_s
    frequencies = spectrogram.frequencies_in_Hz
    if not np.isfinite(step) or step <= 0:
        empty = np.zeros((0, frequencies.size))
        return TriggeredSpectrogram(np.zeros(0), frequencies, empty, 0, len(event_times))
    first = int(np.floor(window_in_s[0] / step))
    last = int(np.ceil(window_in_s[1] / step))
    offsets = np.arange(first, last + 1)
    lags = offsets * step
    base = (lags < 0) & (lags >= -baseline_in_s)
    if not np.any(base):
        base = lags < 0
    accumulated = []
    excluded = 0
    t0 = spectrogram.times[0]
    for time in np.asarray(event_times, dtype=np.float64):
        centre = round((time - t0) / step)
        index = centre + offsets
        if index[0] < 0 or index[-1] >= spectrogram.times.size:
            excluded += 1
            continue
        block = spectrogram.power[index].astype(np.float64)
        reference = block[base].mean(axis=0)
        if not (np.all(np.isfinite(block)) and np.all(reference > 0)):
            excluded += 1
            continue
        accumulated.append(100.0 * block / reference)
    if not accumulated:
        return TriggeredSpectrogram(lags, frequencies, np.full((lags.size, frequencies.size), np.nan), 0, excluded)
    return TriggeredSpectrogram(lags, frequencies, np.mean(accumulated, axis=0), len(accumulated), excluded)


def is_small_n(*, n_events: int, min_events: int) -> bool:
    """True when an average of ``n_events`` events is below ``min_events`` (and so mostly noise)."""
    return 0 < n_events < min_events


def event_count_label(*, n_events: int, min_events: int) -> str:
    """``"n = 12"``, or ``"n = 3, small n (< 10)"`` for an average of fewer than ``min_events`` events."""
    if is_small_n(n_events=n_events, min_events=min_events):
        return f"n = {n_events}, small n (< {min_events})"
    return f"n = {n_events}"
