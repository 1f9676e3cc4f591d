"""Domain checks of the cross-system clock alignment (``lab_meta_data["clock_alignment"]``)."""

from __future__ import annotations

import numpy as np
from nwbinspector import Importance, InspectorMessage

from ndx_glymphatic import ClockAlignmentTable
from ndx_glymphatic.validators._check_tools import (
    column_numbers,
    column_texts,
    domain_check,
    finding,
    finding_of,
)
from ndx_glymphatic.validators.limits import get_limits

__all__ = [
    "check_clock_alignment_drift",
    "check_clock_alignment_enough_pulses",
    "check_clock_alignment_matched_times_consistent",
    "check_clock_alignment_residual",
]


def _systems(table: ClockAlignmentTable, rows: np.ndarray | list[int]) -> str:
    names = column_texts(table, "secondary_system") or []
    return ", ".join(f"row {int(row)} ('{names[int(row)]}')" for row in list(rows)[:5])


@domain_check(importance=Importance.CRITICAL, neurodata_type=ClockAlignmentTable)
def check_clock_alignment_residual(table: ClockAlignmentTable) -> InspectorMessage | None:
    """Residuals of the TTL fit are below ``clock.max_abs_residual_in_s`` and ``clock.max_residual_rms_in_s``."""
    limits = get_limits()["clock"]
    rms = column_numbers(table, "residual_rms_in_s")
    worst = column_numbers(table, "max_abs_residual_in_s")
    bad = np.flatnonzero(~((worst <= limits["max_abs_residual_in_s"]) & (rms <= limits["max_residual_rms_in_s"])))
    if bad.size == 0:
        return None
    values = ", ".join(f"rms {1e3 * rms[row]:.3g} ms / max {1e3 * worst[row]:.3g} ms" for row in bad[:5])
    return finding(
        message=(f"{_systems(table, bad)}: residual {values}, above the tolerance (rms "
                 f"{1e3 * limits['max_residual_rms_in_s']:g} ms, max {1e3 * limits['max_abs_residual_in_s']:g} ms)."),
        hint=("pulses were probably mismatched (a missing or extra TTL on one system): re-run the alignment, "
              "drop unmatched pulses, and check both systems recorded the same TTL line"),
        high=True,
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=ClockAlignmentTable)
def check_clock_alignment_drift(table: ClockAlignmentTable) -> InspectorMessage | None:
    """|slope - 1| (clock drift) is below ``clock.max_abs_drift_ppm``."""
    maximum = get_limits()["clock"]["max_abs_drift_ppm"]
    drift_ppm = 1e6 * (column_numbers(table, "slope") - 1.0)
    bad = np.flatnonzero(~(np.abs(drift_ppm) <= maximum))
    if bad.size == 0:
        return None
    return finding(
        message=(f"{_systems(table, bad)}: drift {', '.join(f'{drift_ppm[row]:.4g}' for row in bad[:5])} ppm, "
                 f"more than {maximum:g} ppm."),
        hint="a drift this large means a wrong sampling rate or mismatched pulses, not crystal drift",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=ClockAlignmentTable)
def check_clock_alignment_enough_pulses(table: ClockAlignmentTable) -> InspectorMessage | None:
    """At least ``clock.min_matched_pulses`` pulses were matched (a slope needs two)."""
    minimum = get_limits()["clock"]["min_matched_pulses"]
    pulses = column_numbers(table, "number_of_matched_pulses")
    bad = np.flatnonzero(~(pulses >= minimum))
    if bad.size == 0:
        return None
    return finding(
        message=f"{_systems(table, bad)}: {', '.join(f'{int(pulses[row])}' for row in bad[:5])} matched pulse(s), "
                f"fewer than {minimum}.",
        hint="record a TTL train (e.g. one pulse per 30 s) on both systems for the whole session",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=ClockAlignmentTable)
def check_clock_alignment_matched_times_consistent(table: ClockAlignmentTable) -> InspectorMessage | None:
    """Stored matched pulse times agree with the pulse count, the slope/offset and the stated residual."""
    if "matched_primary_times_in_s" not in table.colnames or "matched_secondary_times_in_s" not in table.colnames:
        return None
    slope = column_numbers(table, "slope")
    offset = column_numbers(table, "offset_in_s")
    worst = column_numbers(table, "max_abs_residual_in_s")
    pulses = column_numbers(table, "number_of_matched_pulses")
    problems = []
    for row in range(len(table)):
        primary = np.asarray(table["matched_primary_times_in_s"][row], dtype=float)
        secondary = np.asarray(table["matched_secondary_times_in_s"][row], dtype=float)
        if primary.size != secondary.size or primary.size != int(pulses[row]):
            problems.append(f"row {row}: {primary.size} primary and {secondary.size} secondary times for "
                            f"{int(pulses[row])} matched pulses")
            continue
        if primary.size == 0:
            continue
        residual = np.max(np.abs(primary - (slope[row] * secondary + offset[row])))
        if residual > 2.0 * worst[row] + 1e-6:
            problems.append(f"row {row}: the stored pulse times miss the fit by {1e3 * residual:.3g} ms, more than "
                            f"the stated max_abs_residual_in_s ({1e3 * worst[row]:.3g} ms)")
    return finding_of(
        problems=problems,
        hint="store the slope/offset fitted on exactly these matched pulses (t_primary = slope * t_secondary + offset)",
    )
