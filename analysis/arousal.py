"""Micro-arousal detection from EMG and EEG, scoring against a hypnogram, event selection.

The detector does not read the hypnogram's micro-arousal rows, so it can be scored against them.
It only needs consolidated NREM periods (NREM with its short interruptions joined, as any
scorer's NREM bout would be) and finds inside them:

1. runs where the smoothed EMG power (high-passed EMG, squared, moving-averaged) exceeds
   ``emg_threshold`` times its median over consolidated NREM;
2. runs closer than ``merge_gap_in_s`` merged, then kept if ``min_duration_in_s`` <= duration <=
   the micro-arousal maximum of the rule in force;
3. optionally confirmed by EEG desynchronisation: the mean smoothed delta power during the run
   is below ``eeg_threshold`` times its NREM median (``eeg_threshold`` 0 disables this).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ndx_glymphatic.analysis.bouts import Intervals
from ndx_glymphatic.analysis.eeg import Events, runs_above
from ndx_glymphatic.analysis.preprocessing import DecimatedSeries

__all__ = ["EventScore", "detect_micro_arousals", "isolated_events", "score_events"]


@dataclass(frozen=True)
class EventScore:
    """Agreement of detected events with reference events (onset matching).

    Attributes
    ----------
    true_positives, false_positives, false_negatives : int
    precision, recall, f1 : float
    onset_errors_in_s : ndarray
        Detected minus reference onset of each matched pair.
    tolerance_in_s : float
    """

    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    recall: float
    f1: float
    onset_errors_in_s: NDArray[np.float64]
    tolerance_in_s: float


def detect_micro_arousals(
    *,
    emg_power: DecimatedSeries,
    nrem_periods: Intervals,
    delta_power: DecimatedSeries | None = None,
    emg_threshold: float = 4.0,
    eeg_threshold: float = 0.0,
    min_duration_in_s: float = 1.5,
    max_duration_in_s: float = 15.0,
    merge_gap_in_s: float = 1.0,
) -> Events:
    """Detect micro-arousals as EMG activations (optionally with EEG delta loss) inside NREM.

    Parameters
    ----------
    emg_power : DecimatedSeries
        Smoothed EMG power envelope.
    nrem_periods : Intervals
        Consolidated NREM periods (micro-arousals joined in, as from
        :func:`~ndx_glymphatic.analysis.bouts.nrem_bouts`); detection happens only inside them.
    delta_power : DecimatedSeries, optional
        Smoothed EEG delta-power envelope, for the EEG confirmation.
    emg_threshold : float
        Multiple of the NREM median EMG power.
    eeg_threshold : float
        Fraction of the NREM median delta power the run's mean must fall below (0: not used).
    min_duration_in_s, max_duration_in_s : float
        Accepted durations (the maximum is the micro-arousal rule's).
    merge_gap_in_s : float
        Runs separated by less than this are merged first.

    Returns
    -------
    Events
        ``peaks`` holds the peak EMG power ratio (to the NREM median) of each micro-arousal.
    """
    values = emg_power.values
    in_nrem = emg_power.mask_inside(starts=nrem_periods.starts, stops=nrem_periods.stops) & np.isfinite(values)
    if not np.any(in_nrem):
        empty = np.zeros(0)
        return Events(empty, empty, empty, float("nan"))
    baseline = float(np.median(values[in_nrem]))
    ratio = values / baseline if baseline > 0 else np.full_like(values, np.nan)
    above = in_nrem & (ratio > emg_threshold)
    starts, stops = runs_above(mask=above)
    gap = round(merge_gap_in_s * emg_power.rate_in_Hz)
    if starts.size > 1:
        keep_break = (starts[1:] - stops[:-1]) > gap
        starts = np.concatenate([starts[:1], starts[1:][keep_break]])
        stops = np.concatenate([stops[:-1][keep_break], stops[-1:]])
    onsets = np.asarray(emg_power.time_of(starts), dtype=np.float64)
    offsets = np.asarray(emg_power.time_of(stops), dtype=np.float64)
    durations = offsets - onsets
    keep = (durations >= min_duration_in_s) & (durations <= max_duration_in_s)
    if delta_power is not None and eeg_threshold > 0:
        delta_in_nrem = delta_power.mask_inside(
            starts=nrem_periods.starts, stops=nrem_periods.stops
        ) & np.isfinite(delta_power.values)
        delta_baseline = float(np.median(delta_power.values[delta_in_nrem])) if np.any(delta_in_nrem) else 0.0
        for i, (onset, offset) in enumerate(zip(onsets, offsets)):
            if not keep[i] or delta_baseline <= 0:
                continue
            low, high = int(delta_power.index_of(onset)), int(delta_power.index_of(offset))
            level = np.nanmean(delta_power.values[low:high]) if high > low else np.nan
            keep[i] = bool(np.isfinite(level) and level < eeg_threshold * delta_baseline)
    peaks = np.array([np.nanmax(ratio[a:b]) for a, b in zip(starts, stops)]) if starts.size else np.zeros(0)
    return Events(onsets[keep], offsets[keep], peaks[keep], emg_threshold * baseline)


def score_events(
    *, detected_onsets: NDArray[np.floating], reference_onsets: NDArray[np.floating], tolerance_in_s: float = 2.0
) -> EventScore:
    """Match detections to reference events one-to-one by onset (closest pairs first) and score them.

    Parameters
    ----------
    detected_onsets, reference_onsets : ndarray
        Onset times in seconds.
    tolerance_in_s : float
        Largest onset difference of a match.

    Returns
    -------
    EventScore
    """
    detected = np.sort(np.asarray(detected_onsets, dtype=np.float64))
    reference = np.sort(np.asarray(reference_onsets, dtype=np.float64))
    pairs = []
    for i, onset in enumerate(detected):
        low, high = np.searchsorted(reference, [onset - tolerance_in_s, onset + tolerance_in_s + 1e-12])
        pairs.extend((abs(onset - reference[j]), i, j) for j in range(low, high))
    pairs.sort()
    used_detected: set[int] = set()
    used_reference: set[int] = set()
    errors = []
    for _, i, j in pairs:
        if i in used_detected or j in used_reference:
            continue
        used_detected.add(i)
        used_reference.add(j)
        errors.append(detected[i] - reference[j])
    tp = len(errors)
    fp = detected.size - tp
    fn = reference.size - tp
    precision = tp / detected.size if detected.size else float("nan")
    recall = tp / reference.size if reference.size else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else float("nan")
    return EventScore(tp, fp, fn, precision, recall, f1, np.asarray(errors), tolerance_in_s)


def isolated_events(
    *,
    onsets: NDArray[np.floating],
    durations: NDArray[np.floating],
    isolation_in_s: float = 40.0,
    duration_range_in_s: tuple[float, float] = (0.0, 10.0),
) -> NDArray[np.float64]:
    """Onsets of events with a duration in range and no other event onset within +- ``isolation_in_s``.

    Published micro-arousal-triggered averages use micro-arousals of 0-10 s isolated by +-40 s.

    Parameters
    ----------
    onsets, durations : ndarray
        Events.
    isolation_in_s : float
        Required distance to every other event's onset.
    duration_range_in_s : tuple of float
        Accepted durations (inclusive).

    Returns
    -------
    ndarray
        The selected onsets.
    """
    onsets = np.asarray(onsets, dtype=np.float64)
    durations = np.asarray(durations, dtype=np.float64)
    order = np.argsort(onsets)
    onsets, durations = onsets[order], durations[order]
    before = np.diff(np.concatenate([[-np.inf], onsets]))
    after = np.diff(np.concatenate([onsets, [np.inf]]))
    keep = (
        (before > isolation_in_s)
        & (after > isolation_in_s)
        & (durations >= duration_range_in_s[0])
        & (durations <= duration_range_in_s[1])
    )
    return onsets[keep]
