"""Domain checks of optogenetic LC stimulation and vasomotion stimulation epochs."""

from __future__ import annotations

import numpy as np
from ndx_optogenetics import OptogeneticEpochsTable
from nwbinspector import Importance, InspectorMessage

from ndx_glymphatic import VasomotionStimulationEpochsTable
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
from ndx_glymphatic.vocabulary import MODULATION_WAVEFORMS, STIMULATION_METHODS

__all__ = [
    "check_stimulation_epochs_inside_session",
    "check_stimulation_light_plausible",
    "check_stimulation_pulse_shorter_than_period",
    "check_stimulation_train_fits_epoch",
    "check_vasomotion_modulation_frequency_infraslow",
    "check_vasomotion_vocabulary",
]


def _stimulated_rows(table: OptogeneticEpochsTable) -> np.ndarray:
    on = table["stimulation_on"].data[:] if "stimulation_on" in table.colnames else np.ones(len(table), bool)
    return np.asarray(on, dtype=bool)


@domain_check(importance=Importance.CRITICAL, neurodata_type=OptogeneticEpochsTable)
def check_stimulation_epochs_inside_session(table: OptogeneticEpochsTable) -> InspectorMessage | None:
    """All epochs lie within the recording (0 to the last acquired sample, +- tolerance)."""
    tolerance = get_limits()["session"]["boundary_tolerance_in_s"]
    start = column_numbers(table, "start_time")
    stop = column_numbers(table, "stop_time")
    end = session_end_in_s(nwbfile_of(table))
    bad = outside_session(start_times=start, stop_times=stop, session_end=end, tolerance=tolerance)
    if bad.size == 0:
        return None
    span = f"0-{end:g} s" if end is not None else "times >= 0 s"
    return finding(
        message=f"{describe_rows(bad)} lie outside the recording ({span}); first: {start[bad[0]]:g}-"
                f"{stop[bad[0]]:g} s.",
        hint="stimulation times must be on the session clock (e.g. from the TTL epoc of the stimulator)",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=OptogeneticEpochsTable)
def check_stimulation_pulse_shorter_than_period(table: OptogeneticEpochsTable) -> InspectorMessage | None:
    """While stimulating, 0 < pulse_length_in_ms < period_in_ms (a pulse ends before the next one starts)."""
    pulse = column_numbers(table, "pulse_length_in_ms")
    period = column_numbers(table, "period_in_ms")
    if pulse is None or period is None:
        return None
    on = _stimulated_rows(table)
    bad = np.flatnonzero(on & ~((pulse > 0) & (pulse < period)))
    if bad.size == 0:
        return None
    values = ", ".join(f"{pulse[row]:g} ms / {period[row]:g} ms" for row in bad[:5])
    return finding(
        message=f"{describe_rows(bad)}: pulse length / period = {values}; a pulse must be > 0 and shorter than its "
                f"period.",
        hint=("pulse_length_in_ms is how long the light is on per pulse, period_in_ms = 1000 / pulse frequency; "
              "describe continuous light as one pulse with a period longer than the epoch"),
        high=True,
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=OptogeneticEpochsTable)
def check_stimulation_train_fits_epoch(table: OptogeneticEpochsTable) -> InspectorMessage | None:
    """The described trains (pulses x period, trains, inter-train intervals) fit within the epoch."""
    needed = ("period_in_ms", "number_pulses_per_pulse_train", "number_trains", "intertrain_interval_in_ms")
    if any(name not in table.colnames for name in needed):
        return None
    period = column_numbers(table, "period_in_ms")
    pulses = column_numbers(table, "number_pulses_per_pulse_train")
    trains = column_numbers(table, "number_trains")
    gap = column_numbers(table, "intertrain_interval_in_ms")
    duration_in_ms = 1000.0 * (column_numbers(table, "stop_time") - column_numbers(table, "start_time"))
    train_in_ms = pulses * period * trains + gap * np.maximum(trains - 1, 0)
    on = _stimulated_rows(table)
    # one period of slack: the last pulse ends after pulse_length, not after a full period
    bad = np.flatnonzero(on & (train_in_ms - period > duration_in_ms + 1.0))
    if bad.size == 0:
        return None
    values = ", ".join(f"{train_in_ms[row] / 1000:g} s in {duration_in_ms[row] / 1000:g} s" for row in bad[:5])
    return finding(
        message=f"{describe_rows(bad)}: the trains last {values} epoch(s).",
        hint="check number_pulses_per_pulse_train, number_trains, period and the epoch's start/stop times",
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=OptogeneticEpochsTable)
def check_stimulation_light_plausible(table: OptogeneticEpochsTable) -> InspectorMessage | None:
    """Wavelength within ``stimulation.wavelength_in_nm`` and power in (0, ``stimulation.max_power_in_mW``]."""
    limits = get_limits()["stimulation"]
    low, high = limits["wavelength_in_nm"]
    wavelength = column_numbers(table, "wavelength_in_nm")
    power = column_numbers(table, "power_in_mW")
    on = _stimulated_rows(table)
    problems = []
    if wavelength is not None:
        bad = np.flatnonzero(on & ~((wavelength >= low) & (wavelength <= high)))
        if bad.size:
            problems.append(f"{describe_rows(bad)}: wavelength {wavelength[bad[0]]:g} nm outside {low:g}-{high:g} nm")
    if power is not None:
        bad = np.flatnonzero(on & ~((power > 0) & (power <= limits["max_power_in_mW"])))
        if bad.size:
            problems.append(f"{describe_rows(bad)}: power {power[bad[0]]:g} mW outside (0, "
                            f"{limits['max_power_in_mW']:g}] mW")
    return finding_of(
        problems=problems,
        hint="give the light power at the fiber tip in milliwatts and the wavelength in nanometers",
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=VasomotionStimulationEpochsTable)
def check_vasomotion_vocabulary(table: VasomotionStimulationEpochsTable) -> InspectorMessage | None:
    """``stimulation_method`` and ``modulation_waveform`` use the vocabulary."""
    problems = []
    for column, vocabulary in (("stimulation_method", STIMULATION_METHODS),
                               ("modulation_waveform", MODULATION_WAVEFORMS)):
        values = column_texts(table, column) or []
        bad = [row for row, value in enumerate(values) if value not in vocabulary]
        if bad:
            problems.append(f"{column} of {describe_rows(bad)} is {sorted({values[row] for row in bad})}, "
                            f"expected one of {list(vocabulary)}")
    return finding_of(problems=problems, hint="use the words of ndx_glymphatic.vocabulary")


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=VasomotionStimulationEpochsTable)
def check_vasomotion_modulation_frequency_infraslow(
    table: VasomotionStimulationEpochsTable,
) -> InspectorMessage | None:
    """The imposed vasomotion frequency is infraslow (``stimulation.modulation_frequency_in_Hz``)."""
    low, high = get_limits()["stimulation"]["modulation_frequency_in_Hz"]
    frequency = column_numbers(table, "modulation_frequency_in_Hz")
    bad = np.flatnonzero(~((frequency >= low) & (frequency <= high)))
    if bad.size == 0:
        return None
    return finding(
        message=(f"{describe_rows(bad)}: modulation_frequency_in_Hz = "
                 f"{', '.join(f'{frequency[row]:g}' for row in bad[:5])}, outside the infraslow {low:g}-{high:g} Hz."),
        hint="give the vasomotion frequency in Hz (e.g. 0.02 for one cycle per 50 s), not the pulse frequency",
    )
