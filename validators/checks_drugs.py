"""Domain checks of drug administrations and the experimental condition."""

from __future__ import annotations

import numpy as np
from nwbinspector import Importance, InspectorMessage

from ndx_glymphatic import DrugAdministrationsTable, ExperimentalCondition
from ndx_glymphatic.validators._check_tools import (
    column_numbers,
    column_texts,
    describe_rows,
    domain_check,
    finding,
    finding_of,
    nwbfile_of,
    session_end_in_s,
)
from ndx_glymphatic.validators.limits import get_limits
from ndx_glymphatic.vocabulary import DOSE_UNITS, ROUTE_ALIASES, ROUTE_WORDS, ROUTES

__all__ = [
    "check_drug_administration_before_session_end",
    "check_drug_dose_plausible",
    "check_drug_dose_positive",
    "check_drug_dose_unit_known",
    "check_drug_route_vocabulary",
    "check_experimental_condition_matches_drugs",
]


def _is_vehicle_only(*, drug: str, vehicle: str, vehicle_names: list[str]) -> bool:
    names = {name.lower() for name in vehicle_names}
    return drug.strip().lower() in names or drug.strip().lower() == vehicle.strip().lower()


@domain_check(importance=Importance.CRITICAL, neurodata_type=DrugAdministrationsTable)
def check_drug_dose_positive(table: DrugAdministrationsTable) -> InspectorMessage | None:
    """A drug's dose is > 0; a vehicle-only injection (drug = vehicle) has dose 0."""
    vehicle_names = get_limits()["drugs"]["vehicle_names"]
    drugs = column_texts(table, "drug") or []
    vehicles = column_texts(table, "vehicle") or [""] * len(drugs)
    doses = column_numbers(table, "dose")
    problems = []
    for row, drug in enumerate(drugs):
        vehicle_only = _is_vehicle_only(drug=drug, vehicle=vehicles[row], vehicle_names=vehicle_names)
        dose = doses[row]
        if not np.isfinite(dose) or dose < 0:
            problems.append(f"row {row}: {drug} dose {dose:g}")
        elif vehicle_only and dose != 0:
            problems.append(f"row {row}: vehicle-only injection '{drug}' with dose {dose:g} (expected 0)")
        elif not vehicle_only and dose == 0:
            problems.append(f"row {row}: {drug} with dose 0")
    return finding_of(
        problems=problems,
        hint="give the drug dose (> 0) in dose_unit; record a vehicle-only injection as drug = vehicle, dose 0",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=DrugAdministrationsTable)
def check_drug_dose_unit_known(table: DrugAdministrationsTable) -> InspectorMessage | None:
    """``dose_unit`` is one of ``ndx_glymphatic.vocabulary.DOSE_UNITS``."""
    units = column_texts(table, "dose_unit") or []
    bad = [row for row, unit in enumerate(units) if unit not in DOSE_UNITS]
    if not bad:
        return None
    return finding(
        message=f"{describe_rows(bad)}: dose_unit {sorted({units[row] for row in bad})}, expected one of "
                f"{list(DOSE_UNITS)}.",
        hint="write micrograms as 'ug' (not 'µg' or 'mcg') and doses per body weight as 'mg/kg'",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=DrugAdministrationsTable)
def check_drug_route_vocabulary(table: DrugAdministrationsTable) -> InspectorMessage | None:
    """``route`` is one of ``ndx_glymphatic.vocabulary.ROUTE_WORDS`` (a term or an accepted abbreviation)."""
    routes = column_texts(table, "route") or []
    bad = [row for row, route in enumerate(routes) if route not in ROUTE_WORDS]
    if not bad:
        return None
    return finding(
        message=f"{describe_rows(bad)}: route {sorted({routes[row] for row in bad})}, expected one of "
                f"{list(ROUTES)} (or an abbreviation: {list(ROUTE_ALIASES)}).",
        hint="write the route in full, e.g. 'intraperitoneal', 'subcutaneous', 'oral', 'intravenous'",
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=DrugAdministrationsTable)
def check_drug_dose_plausible(table: DrugAdministrationsTable) -> InspectorMessage | None:
    """A dose does not exceed ``drugs.max_dose`` for its unit (a sign of a unit mix-up)."""
    maxima = get_limits()["drugs"]["max_dose"]
    units = column_texts(table, "dose_unit") or []
    doses = column_numbers(table, "dose")
    drugs = column_texts(table, "drug") or [""] * len(units)
    problems = [
        f"row {row}: {drugs[row]} {doses[row]:g} {unit} (more than {maxima[unit]:g} {unit})"
        for row, unit in enumerate(units)
        if unit in maxima and doses[row] > maxima[unit]
    ]
    return finding_of(
        problems=problems,
        hint="check the dose unit (mg/kg vs ug/kg); set other maxima in a limits file if the dose is right",
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=DrugAdministrationsTable)
def check_drug_administration_before_session_end(table: DrugAdministrationsTable) -> InspectorMessage | None:
    """Administrations happen before the end of the recording (they may precede its start)."""
    tolerance = get_limits()["session"]["boundary_tolerance_in_s"]
    end = session_end_in_s(nwbfile_of(table))
    if end is None:
        return None
    start = column_numbers(table, "start_time")
    bad = np.flatnonzero(start > end + tolerance)
    if bad.size == 0:
        return None
    return finding(
        message=f"{describe_rows(bad)}: given at {', '.join(f'{start[row]:g}' for row in bad[:5])} s, after the "
                f"recording ended ({end:g} s).",
        hint="times are seconds from session_start_time; an injection before the recording has a negative time",
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=ExperimentalCondition)
def check_experimental_condition_matches_drugs(condition: ExperimentalCondition) -> InspectorMessage | None:
    """A control condition gives no drug; a drug condition's drug appears among the administrations."""
    nwbfile = nwbfile_of(condition)
    if nwbfile is None or nwbfile.intervals is None or "drug_administrations" not in nwbfile.intervals:
        return None
    table = nwbfile.intervals["drug_administrations"]
    vehicle_names = get_limits()["drugs"]["vehicle_names"]
    drugs = column_texts(table, "drug") or []
    vehicles = column_texts(table, "vehicle") or [""] * len(drugs)
    doses = column_numbers(table, "dose")
    given = [
        drug for row, drug in enumerate(drugs)
        if not _is_vehicle_only(drug=drug, vehicle=vehicles[row], vehicle_names=vehicle_names) and doses[row] > 0
    ]
    if condition.is_control and given:
        return finding(
            message=(f"condition '{condition.condition}' is marked as control, but drugs were given: "
                     f"{sorted(set(given))}."),
            hint="set is_control=False for a drug condition, or record the injections as vehicle (dose 0)",
        )
    name = condition.condition.strip().lower()
    if not condition.is_control and given and not any(name in drug.lower() or drug.lower() in name for drug in given):
        return finding(
            message=f"condition '{condition.condition}' does not name any drug given ({sorted(set(given))}).",
            hint="name the condition after the drug given (e.g. 'zolpidem') so groups can be compared",
        )
    return None
