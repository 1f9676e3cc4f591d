"""Checks of a derived file (`glymph analyze --write-derived`): the `derived` layer of the `derived` profile.

A derived file holds no acquired data: the domain checks that expect raw data
(:data:`RAW_DATA_CHECKS`) are left out of that profile, and these check what a derived file must hold
instead: its link to the raw file, dF/F series pointing at signal channel rows, the NREM bouts and
the metrics and parameters tables, events in time order.
"""

from __future__ import annotations

import re

import numpy as np
from ndx_fiber_photometry import FiberPhotometryResponseSeries
from nwbinspector import Importance, InspectorMessage
from pynwb import NWBFile
from pynwb.event import EventsTable

from ndx_glymphatic.validators._check_tools import CheckFunction, finding, finding_of, unregistered_check

__all__ = ["DERIVED_CHECKS", "DERIVED_FROM_TABLE", "RAW_DATA_CHECKS", "is_derived_file"]

#: Name of the provenance table in ``/analysis`` (as ``ndx_glymphatic.builder.DERIVED_FROM_TABLE``).
DERIVED_FROM_TABLE = "was_derived_from"

#: Domain checks about acquired data, which a derived file does not have (left out of the derived profile).
RAW_DATA_CHECKS = frozenset(
    {
        "check_photometry_channel_has_series",  # control rows have no dF/F series
        "check_photometry_rate_for_analysis_band",  # derived series are decimated on purpose
        "check_nan_runs",  # dF/F gaps longer than the interpolation limit are left NaN on purpose
    }
)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_REQUIRED_TABLES = ("glymph_metrics", "glymph_parameters")


def is_derived_file(*, nwbfile: NWBFile) -> bool:
    """Whether the file carries the provenance table of a derived file."""
    return DERIVED_FROM_TABLE in (nwbfile.analysis or {})


@unregistered_check(importance=Importance.CRITICAL, neurodata_type=NWBFile)
def check_derived_links_to_raw_file(nwbfile: NWBFile) -> InspectorMessage | None:
    """``analysis/was_derived_from`` names the raw file's identifier and object ids; the identifier contains it."""
    table = (nwbfile.analysis or {}).get(DERIVED_FROM_TABLE)
    if table is None:
        return finding(
            message=f"no analysis/{DERIVED_FROM_TABLE} table: nothing links this file to its raw file.",
            hint="write derived files with `glymph analyze FILE -o OUT --write-derived`",
        )
    identifiers = {str(value) for value in table["source_identifier"][:]}
    object_ids = [str(value) for value in table["source_object_id"][:]]
    paths = [str(value) for value in table["source_path"][:]]
    problems = [f"source_object_id {value!r} is not a UUID" for value in object_ids if not _UUID.match(value)]
    if len(identifiers) != 1 or not next(iter(identifiers)):
        problems.append(f"expected one raw identifier, found {sorted(identifiers)}")
    elif next(iter(identifiers)) not in str(nwbfile.identifier):
        problems.append(f"the identifier {nwbfile.identifier!r} does not contain the raw identifier")
    if "/" not in paths:
        problems.append("no row for the raw file itself (source_path '/')")
    return finding_of(
        problems=problems, hint="rewrite the derived file with `glymph analyze --write-derived`", high=True
    )


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=NWBFile)
def check_derived_content_present(nwbfile: NWBFile) -> InspectorMessage | None:
    """A dF/F series in processing/ophys, intervals/nrem_bouts and the metrics and parameters tables."""
    problems = []
    ophys = nwbfile.processing.get("ophys")
    if ophys is None or not any(name.endswith("_dff") for name in ophys.data_interfaces):
        problems.append("no <channel>_dff series in processing/ophys")
    if "nrem_bouts" not in (nwbfile.intervals or {}):
        problems.append("no intervals/nrem_bouts")
    problems.extend(f"no analysis/{name}" for name in _REQUIRED_TABLES if name not in (nwbfile.analysis or {}))
    return finding_of(problems=problems, hint="rewrite the derived file with `glymph analyze --write-derived`")


@unregistered_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryResponseSeries)
def check_derived_dff_points_at_signal_row(series: FiberPhotometryResponseSeries) -> InspectorMessage | None:
    """A ``<channel>_dff`` series points at one channel-table row whose role is 'signal'."""
    if not series.name.endswith("_dff"):
        return None
    region = series.fiber_photometry_table_region
    rows = [int(row) for row in region.data[:]]
    table = region.table
    if len(rows) != 1 or not 0 <= rows[0] < len(table):
        return finding(
            message=f"{series.name} points at rows {rows} of a {len(table)}-row channel table.",
            hint="a dF/F series points at the one row of the channel it was computed from",
        )
    role = str(table["channel_role"][rows[0]]) if "channel_role" in table.colnames else "signal"
    if role != "signal":
        return finding(
            message=f"{series.name} points at row {rows[0]}, a '{role}' channel.",
            hint="dF/F is computed for signal channels; point it at the signal's row",
        )
    return None


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=EventsTable)
def check_derived_events_in_time_order(table: EventsTable) -> InspectorMessage | None:
    """Event times are finite and in time order."""
    times = np.asarray(table["timestamp"][:], dtype=np.float64)
    if times.size and (not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0)):
        return finding(
            message=f"{table.name}: event times are not finite and sorted.",
            hint="sort the events by time; drop events without a time",
        )
    return None


DERIVED_CHECKS: list[CheckFunction] = [
    check_derived_links_to_raw_file,
    check_derived_content_present,
    check_derived_dff_points_at_signal_row,
    check_derived_events_in_time_order,
]
