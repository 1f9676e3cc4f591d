"""Domain checks of the scored hypnogram (``nwbfile.intervals["sleep_states"]``)."""

from __future__ import annotations

import numpy as np
from nwbinspector import Importance, InspectorMessage

from ndx_glymphatic import Hypnogram
from ndx_glymphatic.validators._check_tools import (
    column_numbers,
    column_texts,
    describe_rows,
    domain_check,
    finding,
    finding_of,
    nwbfile_of,
    outside_session,
    session_end_in_s,
)
from ndx_glymphatic.validators.limits import get_limits
from ndx_glymphatic.vocabulary import SCORING_METHODS, SLEEP_STATES

__all__ = [
    "check_hypnogram_scoring_provenance",
    "check_micro_arousal_inside_nrem",
    "check_micro_arousal_max_duration",
    "check_sleep_states_inside_session",
    "check_sleep_states_non_overlapping",
    "check_sleep_states_sorted",
    "check_sleep_states_vocabulary",
]


@domain_check(importance=Importance.CRITICAL, neurodata_type=Hypnogram)
def check_sleep_states_vocabulary(hypnogram: Hypnogram) -> InspectorMessage | None:
    """Every ``sleep_state`` is one of ``ndx_glymphatic.vocabulary.SLEEP_STATES``."""
    states = column_texts(hypnogram, "sleep_state") or []
    bad = [row for row, state in enumerate(states) if state not in SLEEP_STATES]
    if not bad:
        return None
    return finding(
        message=f"{describe_rows(bad)}: sleep_state {sorted({states[row] for row in bad})[:10]}, expected one of "
                f"{list(SLEEP_STATES)}.",
        hint="map the scoring software's labels (e.g. 'Sleep stage W', 'NR', 'MA') to the vocabulary words",
        high=True,
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=Hypnogram)
def check_sleep_states_sorted(hypnogram: Hypnogram) -> InspectorMessage | None:
    """Rows are sorted by start_time."""
    start = column_numbers(hypnogram, "start_time")
    bad = np.flatnonzero(np.diff(start) < 0) + 1
    if bad.size == 0:
        return None
    return finding(
        message=f"{describe_rows(bad)} start before the row above them (first at {start[bad[0]]:g} s after "
                f"{start[bad[0] - 1]:g} s).",
        hint="sort the intervals by start_time before adding them",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=Hypnogram)
def check_sleep_states_non_overlapping(hypnogram: Hypnogram) -> InspectorMessage | None:
    """No state starts before the previous (in time order) has ended: one state at a time."""
    tolerance = get_limits()["sleep_states"]["overlap_tolerance_in_s"]
    start = column_numbers(hypnogram, "start_time")
    stop = column_numbers(hypnogram, "stop_time")
    order = np.argsort(start, kind="stable")
    overlap = np.flatnonzero(start[order][1:] < stop[order][:-1] - tolerance)
    if overlap.size == 0:
        return None
    first = overlap[0]
    row_a, row_b = int(order[first]), int(order[first + 1])
    return finding(
        message=(f"{overlap.size} overlap(s); first: row {row_a} ({start[row_a]:g}-{stop[row_a]:g} s) and row "
                 f"{row_b} ({start[row_b]:g}-{stop[row_b]:g} s)."),
        hint=("a hypnogram holds one state at a time: split the NREM bout around a micro-arousal "
              "(NREM | micro-arousal | NREM) instead of overlapping them"),
        high=True,
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=Hypnogram)
def check_sleep_states_inside_session(hypnogram: Hypnogram) -> InspectorMessage | None:
    """All states lie within the recording (0 to the last acquired sample, +- tolerance)."""
    tolerance = get_limits()["session"]["boundary_tolerance_in_s"]
    start = column_numbers(hypnogram, "start_time")
    stop = column_numbers(hypnogram, "stop_time")
    end = session_end_in_s(nwbfile_of(hypnogram))
    bad = outside_session(start_times=start, stop_times=stop, session_end=end, tolerance=tolerance)
    if bad.size == 0:
        return None
    span = f"0-{end:g} s" if end is not None else "times >= 0 s"
    return finding(
        message=(f"{describe_rows(bad)} lie outside the recording ({span}); first: {start[bad[0]]:g}-"
                 f"{stop[bad[0]]:g} s."),
        hint=("scoring times must be on the session clock: align the EEG scoring clock to the primary clock "
              "(TTL pulses) and subtract the session start"),
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=Hypnogram)
def check_micro_arousal_max_duration(hypnogram: Hypnogram) -> InspectorMessage | None:
    """No micro-arousal lasts longer than ``sleep_states.max_micro_arousal_duration_in_s``."""
    maximum = get_limits()["sleep_states"]["max_micro_arousal_duration_in_s"]
    states = column_texts(hypnogram, "sleep_state") or []
    duration = column_numbers(hypnogram, "stop_time") - column_numbers(hypnogram, "start_time")
    bad = [row for row, state in enumerate(states) if state == "micro-arousal" and duration[row] > maximum]
    if not bad:
        return None
    return finding(
        message=(f"{describe_rows(bad)}: micro-arousal(s) of {', '.join(f'{duration[row]:g}' for row in bad[:5])} s, "
                 f"longer than {maximum:g} s."),
        hint="score arousals longer than the maximum as 'wake', or set the maximum your lab uses in a limits file",
    )


@domain_check(importance=Importance.BEST_PRACTICE_SUGGESTION, neurodata_type=Hypnogram)
def check_micro_arousal_inside_nrem(hypnogram: Hypnogram) -> InspectorMessage | None:
    """A micro-arousal is preceded by NREM (a brief awakening out of NREM sleep)."""
    states = column_texts(hypnogram, "sleep_state") or []
    start = column_numbers(hypnogram, "start_time")
    order = np.argsort(start, kind="stable")
    ordered = [states[row] for row in order]
    bad = [int(order[index]) for index, state in enumerate(ordered)
           if state == "micro-arousal" and (index == 0 or ordered[index - 1] != "NREM")]
    if not bad:
        return None
    return finding(
        message=f"{describe_rows(bad)}: micro-arousal(s) not preceded by NREM.",
        hint="a micro-arousal interrupts NREM; a brief awakening out of wake or REM is scored as that state",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=Hypnogram)
def check_hypnogram_scoring_provenance(hypnogram: Hypnogram) -> InspectorMessage | None:
    """scoring_method is 'manual' or 'automatic', a scorer is named, and epoch_length_in_s (if set) is > 0."""
    problems = []
    if hypnogram.scoring_method not in SCORING_METHODS:
        problems.append(f"scoring_method '{hypnogram.scoring_method}' is not one of {list(SCORING_METHODS)}")
    if not (hypnogram.scorer or "").strip():
        problems.append("scorer is empty")
    epoch = hypnogram.epoch_length_in_s
    if epoch is not None and not (np.isfinite(epoch) and epoch > 0):
        problems.append(f"epoch_length_in_s = {epoch}")
    return finding_of(
        problems=problems,
        hint="name the person or the software and version that scored, and the epoch length of epoch scoring",
    )
