"""Domain checks of tracer infusions (``nwbfile.intervals["tracer_infusions"]``)."""

from __future__ import annotations

import numpy as np
from nwbinspector import Importance, InspectorMessage

from ndx_glymphatic import TracerInfusionsTable
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
from ndx_glymphatic.vocabulary import ROUTE_ALIASES, ROUTE_WORDS, ROUTES

__all__ = [
    "check_infusion_duration_matches_volume_and_rate",
    "check_infusion_inside_session",
    "check_infusion_route_vocabulary",
    "check_infusion_volume_and_rate_plausible_for_route",
    "check_infusion_volume_and_rate_positive",
]


@domain_check(importance=Importance.CRITICAL, neurodata_type=TracerInfusionsTable)
def check_infusion_volume_and_rate_positive(table: TracerInfusionsTable) -> InspectorMessage | None:
    """Infused volume and rate are finite and > 0."""
    volume = column_numbers(table, "volume_in_uL")
    rate = column_numbers(table, "rate_in_uL_per_min")
    bad = np.flatnonzero(~(np.isfinite(volume) & (volume > 0) & np.isfinite(rate) & (rate > 0)))
    if bad.size == 0:
        return None
    values = ", ".join(f"{volume[row]:g} uL at {rate[row]:g} uL/min" for row in bad[:5])
    return finding(
        message=f"{describe_rows(bad)}: {values}; volume and rate must be > 0.",
        hint="give the infused volume in microliters and the pump rate in microliters per minute",
        high=True,
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=TracerInfusionsTable)
def check_infusion_route_vocabulary(table: TracerInfusionsTable) -> InspectorMessage | None:
    """``route`` is one of ``ndx_glymphatic.vocabulary.ROUTE_WORDS`` (a term or an accepted abbreviation)."""
    routes = column_texts(table, "route") or []
    bad = [row for row, route in enumerate(routes) if route not in ROUTE_WORDS]
    if not bad:
        return None
    return finding(
        message=(f"{describe_rows(bad)}: route {sorted({routes[row] for row in bad})}, expected one of "
                 f"{list(ROUTES)} (or an abbreviation: {list(ROUTE_ALIASES)})."),
        hint="the cisterna magna route is 'intracisternal', a tail-vein injection 'intravenous'",
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=TracerInfusionsTable)
def check_infusion_volume_and_rate_plausible_for_route(table: TracerInfusionsTable) -> InspectorMessage | None:
    """Volume and rate do not exceed the per-route maxima of ``infusions.routes`` (mouse)."""
    limits = get_limits()["infusions"]["routes"]
    routes = column_texts(table, "route") or []
    volume = column_numbers(table, "volume_in_uL")
    rate = column_numbers(table, "rate_in_uL_per_min")
    problems = []
    for row, route in enumerate(routes):
        route_limits = limits.get(ROUTE_ALIASES.get(route, route))
        if route_limits is None:
            continue
        if volume[row] > route_limits["max_volume_in_uL"]:
            problems.append(f"row {row}: {volume[row]:g} uL {route}, more than {route_limits['max_volume_in_uL']:g} uL")
        if rate[row] > route_limits["max_rate_in_uL_per_min"]:
            problems.append(f"row {row}: {rate[row]:g} uL/min {route}, faster than "
                            f"{route_limits['max_rate_in_uL_per_min']:g} uL/min")
    return finding_of(
        problems=problems,
        hint=("check the units (uL, uL/min) and the route; a cisterna magna infusion is typically 10 uL at "
              "1-2 uL/min. Set other limits in a limits file if your protocol differs"),
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=TracerInfusionsTable)
def check_infusion_duration_matches_volume_and_rate(table: TracerInfusionsTable) -> InspectorMessage | None:
    """stop_time - start_time agrees with 60 * volume / rate (within ``infusions.duration_relative_tolerance``)."""
    tolerance = get_limits()["infusions"]["duration_relative_tolerance"]
    start = column_numbers(table, "start_time")
    stop = column_numbers(table, "stop_time")
    volume = column_numbers(table, "volume_in_uL")
    rate = column_numbers(table, "rate_in_uL_per_min")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = 60.0 * volume / rate
    duration = stop - start
    checkable = np.isfinite(expected) & (expected > 0) & (duration > 0)
    bad = np.flatnonzero(checkable & (np.abs(duration - expected) > tolerance * expected))
    if bad.size == 0:
        return None
    values = ", ".join(f"{duration[row]:g} s (expected {expected[row]:g} s)" for row in bad[:5])
    return finding(
        message=f"{describe_rows(bad)}: infusion lasts {values} from volume / rate.",
        hint="start_time/stop_time must bound the pump run; check them and the volume and rate units",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=TracerInfusionsTable)
def check_infusion_inside_session(table: TracerInfusionsTable) -> InspectorMessage | None:
    """Every infusion lies within the recording (0 to the last acquired sample, +- tolerance)."""
    tolerance = get_limits()["session"]["boundary_tolerance_in_s"]
    start = column_numbers(table, "start_time")
    stop = column_numbers(table, "stop_time")
    end = session_end_in_s(nwbfile_of(table))
    bad = outside_session(start_times=start, stop_times=stop, session_end=end, tolerance=tolerance)
    if bad.size == 0:
        return None
    values = ", ".join(f"{start[row]:g}-{stop[row]:g} s" for row in bad[:5])
    span = f"0-{end:g} s" if end is not None else "times >= 0 s"
    return finding(
        message=f"{describe_rows(bad)}: infusion at {values}, outside the recording ({span}).",
        hint="times are seconds from session_start_time on the primary clock; align the pump log to it",
    )
