"""Domain checks of fiber photometry: channel table, response series and fluorescent tracers."""

from __future__ import annotations

from typing import Any

import numpy as np
from ndx_fiber_photometry import FiberPhotometryResponseSeries, FiberPhotometryTable
from nwbinspector import Importance, InspectorMessage

from ndx_glymphatic import FiberPhotometryChannelsTable, FluorescentTracer
from ndx_glymphatic.validators._check_tools import (
    column_numbers,
    column_texts,
    describe_rows,
    domain_check,
    finding,
    finding_of,
    nwbfile_of,
)
from ndx_glymphatic.validators.limits import get_limits
from ndx_glymphatic.vocabulary import (
    CARRIER_MOLECULES,
    CHANNEL_ROLES,
    LABELED_COMPARTMENTS,
    MEASURED_QUANTITIES,
)

__all__ = [
    "check_fluorescent_tracer_molecular_weight",
    "check_fluorescent_tracer_peaks",
    "check_fluorescent_tracer_vocabulary",
    "check_photometry_channel_has_series",
    "check_photometry_control_channel_exists",
    "check_photometry_control_channel_is_a_control",
    "check_photometry_control_uses_same_fiber",
    "check_photometry_emission_above_excitation",
    "check_photometry_excitation_wavelength_in_range",
    "check_photometry_rate_for_analysis_band",
    "check_photometry_sensor_names_indicator_and_virus",
    "check_photometry_series_one_channel_row",
    "check_photometry_tracer_channel_uses_tracer",
    "check_photometry_vocabulary",
]

_CONTROL_ROLES = ("isosbestic control", "reference control")
_TRACER_COMPARTMENT = {"CSF tracer": "CSF", "cerebral blood volume": "blood plasma"}


def _objects(table: Any, name: str) -> list[Any]:
    return list(table[name].data[:]) if name in table.colnames else []


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryTable)
def check_photometry_excitation_wavelength_in_range(table: FiberPhotometryTable) -> InspectorMessage | None:
    """Excitation wavelengths lie in the one-photon range of ``photometry.excitation_wavelength_in_nm``."""
    low, high = get_limits()["photometry"]["excitation_wavelength_in_nm"]
    excitation = column_numbers(table, "excitation_wavelength_in_nm")
    bad = np.flatnonzero(~((excitation >= low) & (excitation <= high)))
    if bad.size == 0:
        return None
    values = ", ".join(f"{excitation[row]:g}" for row in bad[:5])
    return finding(
        message=f"{describe_rows(bad)}: excitation_wavelength_in_nm = {values}, outside {low:g}-{high:g} nm.",
        hint="give the LED/laser wavelength in nanometers (e.g. 465, 405, 560), not in other units or 0",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryTable)
def check_photometry_emission_above_excitation(table: FiberPhotometryTable) -> InspectorMessage | None:
    """Emission is in range and longer than excitation (fluorescence is Stokes-shifted to the red)."""
    low, high = get_limits()["photometry"]["emission_wavelength_in_nm"]
    excitation = column_numbers(table, "excitation_wavelength_in_nm")
    emission = column_numbers(table, "emission_wavelength_in_nm")
    bad = np.flatnonzero(~((emission > excitation) & (emission >= low) & (emission <= high)))
    if bad.size == 0:
        return None
    pairs = ", ".join(f"{excitation[row]:g}->{emission[row]:g}" for row in bad[:5])
    return finding(
        message=(f"{describe_rows(bad)}: excitation->emission {pairs} nm; emission must be longer than "
                 f"excitation and within {low:g}-{high:g} nm."),
        hint="check that the two wavelength columns are not swapped and that emission is the filter centre",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryChannelsTable)
def check_photometry_vocabulary(table: FiberPhotometryChannelsTable) -> InspectorMessage | None:
    """``measured_quantity`` and ``channel_role`` use the words of ``ndx_glymphatic.vocabulary``."""
    problems = []
    for column, vocabulary in (("measured_quantity", MEASURED_QUANTITIES), ("channel_role", CHANNEL_ROLES)):
        values = column_texts(table, column) or []
        bad = [row for row, value in enumerate(values) if value not in vocabulary]
        if bad:
            found = sorted({values[row] for row in bad})
            problems.append(f"{column} of {describe_rows(bad)} is {found}, expected one of {list(vocabulary)}")
    return finding_of(
        problems=problems,
        hint="use the exact words of the vocabulary (ndx_glymphatic.vocabulary); analysis finds channels by them",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryChannelsTable)
def check_photometry_control_channel_exists(table: FiberPhotometryChannelsTable) -> InspectorMessage | None:
    """Every ``control_channel`` is -1 or the index of another row of the table."""
    control = column_numbers(table, "control_channel")
    if control is None:
        return None
    n_rows = len(table)
    rows = np.arange(n_rows)
    bad = np.flatnonzero((control != -1) & ((control < 0) | (control >= n_rows) | (control == rows)))
    if bad.size == 0:
        return None
    values = ", ".join(f"{int(control[row])}" for row in bad[:5])
    return finding(
        message=(f"{describe_rows(bad)}: control_channel = {values}, but the table has rows 0-{n_rows - 1} "
                 f"and a channel cannot be its own control."),
        hint="control_channel is the 0-based row index of the control channel in this table, or -1 for none",
        high=True,
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryChannelsTable)
def check_photometry_control_channel_is_a_control(table: FiberPhotometryChannelsTable) -> InspectorMessage | None:
    """A row named as a control has a control role and measures the same quantity as its signal."""
    control = column_numbers(table, "control_channel")
    roles = column_texts(table, "channel_role")
    quantities = column_texts(table, "measured_quantity")
    if control is None or roles is None or quantities is None:
        return None
    problems = []
    for row, target in enumerate(control.astype(int)):
        if target < 0 or target >= len(roles) or target == row:
            continue  # reported by check_photometry_control_channel_exists
        if roles[target] not in _CONTROL_ROLES:
            problems.append(f"row {row} names row {target} as its control, but row {target} has role "
                            f"'{roles[target]}'")
        elif quantities[target] != quantities[row]:
            problems.append(f"row {row} ('{quantities[row]}') has control row {target} measuring "
                            f"'{quantities[target]}'")
    return finding_of(
        problems=problems,
        hint="point control_channel at the isosbestic/reference row of the same sensor and fiber",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryChannelsTable)
def check_photometry_control_uses_same_fiber(table: FiberPhotometryChannelsTable) -> InspectorMessage | None:
    """A signal and its control come through the same optical fiber (same brain site)."""
    control = column_numbers(table, "control_channel")
    fibers = _objects(table, "optical_fiber")
    if control is None or not fibers:
        return None
    problems = []
    for row, target in enumerate(control.astype(int)):
        if 0 <= target < len(fibers) and target != row and fibers[target] is not fibers[row]:
            problems.append(f"row {row} uses fiber '{fibers[row].name}', its control row {target} uses "
                            f"'{fibers[target].name}'")
    return finding_of(
        problems=problems,
        hint="a control corrects motion and bleaching only at its own site: use the control of the same fiber",
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=FiberPhotometryChannelsTable)
def check_photometry_sensor_names_indicator_and_virus(
    table: FiberPhotometryChannelsTable,
) -> InspectorMessage | None:
    """A genetically encoded sensor channel names a (non-tracer) indicator and the viral vector expressing it."""
    sensor_quantities = get_limits()["photometry"]["sensor_quantities"]
    quantities = column_texts(table, "measured_quantity") or []
    indicators = _objects(table, "indicator")
    problems = []
    for row, quantity in enumerate(quantities):
        if quantity not in sensor_quantities or row >= len(indicators):
            continue
        indicator = indicators[row]
        if isinstance(indicator, FluorescentTracer):
            problems.append(f"row {row} measures {quantity} with the fluorescent tracer '{indicator.name}'")
            continue
        if not (getattr(indicator, "label", "") or "").strip():
            problems.append(f"row {row}: indicator '{indicator.name}' has no label (e.g. 'GRAB_NE2m')")
        injection = getattr(indicator, "viral_vector_injection", None)
        if injection is None or getattr(injection, "viral_vector", None) is None:
            problems.append(f"row {row}: indicator '{indicator.name}' ({quantity} sensor) names no viral vector "
                            f"injection / viral vector")
    return finding_of(
        problems=problems,
        hint=("create the ViralVector (construct, titer) and ViralVectorInjection (site, volume), pass "
              "viral_vector_injection=... to the Indicator, and list them in FiberPhotometry"),
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=FiberPhotometryChannelsTable)
def check_photometry_tracer_channel_uses_tracer(table: FiberPhotometryChannelsTable) -> InspectorMessage | None:
    """Blood-volume and CSF-tracer channels reference a FluorescentTracer labelling the right compartment."""
    quantities = column_texts(table, "measured_quantity") or []
    indicators = _objects(table, "indicator")
    problems = []
    for row, quantity in enumerate(quantities):
        if quantity not in _TRACER_COMPARTMENT or row >= len(indicators):
            continue
        indicator = indicators[row]
        if not isinstance(indicator, FluorescentTracer):
            problems.append(f"row {row} measures '{quantity}' but its indicator '{indicator.name}' is not a "
                            f"FluorescentTracer")
        elif indicator.labeled_compartment != _TRACER_COMPARTMENT[quantity]:
            problems.append(f"row {row} measures '{quantity}' with tracer '{indicator.name}' labelling "
                            f"'{indicator.labeled_compartment}', expected '{_TRACER_COMPARTMENT[quantity]}'")
    return finding_of(
        problems=problems,
        hint="describe injected labels with FluorescentTracer (fluorophore, carrier, labeled_compartment)",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryChannelsTable)
def check_photometry_channel_has_series(table: FiberPhotometryChannelsTable) -> InspectorMessage | None:
    """Every channel row is referenced by a FiberPhotometryResponseSeries."""
    nwbfile = nwbfile_of(table)
    if nwbfile is None:
        return None
    used: set[int] = set()
    for series in nwbfile.objects.values():
        region = getattr(series, "fiber_photometry_table_region", None)
        if isinstance(series, FiberPhotometryResponseSeries) and region is not None and region.table is table:
            used.update(int(row) for row in np.asarray(region.data[:]).ravel())
    unused = sorted(set(range(len(table))) - used)
    if not unused:
        return None
    return finding(
        message=f"{describe_rows(unused)} of the channel table have no FiberPhotometryResponseSeries.",
        hint="add the channel's data, or remove the row if the channel was not recorded (a series lost from a "
             "written file means the file is damaged: convert the rig files again)",
        high=True,
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryResponseSeries)
def check_photometry_series_one_channel_row(series: FiberPhotometryResponseSeries) -> InspectorMessage | None:
    """A series' table region names one row per data column (exactly one for 1-D data)."""
    region = series.fiber_photometry_table_region
    data_shape = getattr(series.data, "shape", None)
    if region is None or data_shape is None:
        return None
    n_rows = int(np.asarray(region.data[:]).size)
    n_columns = 1 if len(data_shape) == 1 else int(np.prod(data_shape[1:]))
    if n_rows == n_columns:
        return None
    return finding(
        message=(f"data has {n_columns} channel column(s) (shape {tuple(data_shape)}) but "
                 f"fiber_photometry_table_region names {n_rows} row(s)."),
        hint="write one series per channel with a region of exactly its own row of the channel table",
        high=True,
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=FiberPhotometryResponseSeries)
def check_photometry_rate_for_analysis_band(series: FiberPhotometryResponseSeries) -> InspectorMessage | None:
    """The sampling rate is at least ``photometry.min_rate_in_Hz`` (the infraslow analysis needs it)."""
    minimum = get_limits()["photometry"]["min_rate_in_Hz"]
    rate = series.rate
    if rate is None and series.timestamps is not None and len(series.timestamps) > 2:
        head = np.asarray(series.timestamps[: min(len(series.timestamps), 10_001)], dtype=float)
        median_step = float(np.median(np.diff(head)))
        rate = 1.0 / median_step if median_step > 0 else None
    if rate is None or rate >= minimum:
        return None
    return finding(
        message=f"sampled at {rate:.4g} Hz, below {minimum:g} Hz.",
        hint=("record or export the demodulated signal at >= 2 Hz (rigs record ~1 kHz); the reference "
              "analysis needs it to find NE peaks 10 s apart in the 0-0.1 Hz band"),
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=FluorescentTracer)
def check_fluorescent_tracer_peaks(tracer: FluorescentTracer) -> InspectorMessage | None:
    """Excitation and emission peaks are in range and emission is longer than excitation."""
    low, high = get_limits()["tracer"]["peak_wavelength_in_nm"]
    excitation, emission = float(tracer.excitation_peak_in_nm), float(tracer.emission_peak_in_nm)
    if low <= excitation <= high and low <= emission <= high and emission > excitation:
        return None
    return finding(
        message=(f"excitation peak {excitation:g} nm, emission peak {emission:g} nm: both must lie in "
                 f"{low:g}-{high:g} nm and emission must be longer than excitation."),
        hint="take both peaks from the fluorophore's data sheet (e.g. Alexa Fluor 647: 650 / 668 nm)",
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=FluorescentTracer)
def check_fluorescent_tracer_vocabulary(tracer: FluorescentTracer) -> InspectorMessage | None:
    """``carrier_molecule`` and ``labeled_compartment`` use the vocabulary."""
    problems = []
    if tracer.carrier_molecule not in CARRIER_MOLECULES:
        problems.append(f"carrier_molecule '{tracer.carrier_molecule}' is not one of {list(CARRIER_MOLECULES)}")
    if tracer.labeled_compartment not in LABELED_COMPARTMENTS:
        problems.append(f"labeled_compartment '{tracer.labeled_compartment}' is not one of "
                        f"{list(LABELED_COMPARTMENTS)}")
    return finding_of(problems=problems, hint="use the words of ndx_glymphatic.vocabulary")


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=FluorescentTracer)
def check_fluorescent_tracer_molecular_weight(tracer: FluorescentTracer) -> InspectorMessage | None:
    """The molecular weight is within ``tracer.molecular_weight_in_kDa`` (a free dye to large dextrans)."""
    low, high = get_limits()["tracer"]["molecular_weight_in_kDa"]
    weight = float(tracer.molecular_weight_in_kDa)
    if low <= weight <= high:
        return None
    return finding(
        message=f"molecular_weight_in_kDa = {weight:g}, outside {low:g}-{high:g} kDa.",
        hint="give the weight in kilodaltons (albumin ~66.5, ovalbumin ~45, 3-kDa dextran = 3), not in Da",
    )
