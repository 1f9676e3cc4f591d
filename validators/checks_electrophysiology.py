"""Domain checks of EEG and EMG (pynwb ElectricalSeries)."""

from __future__ import annotations

import numpy as np
from nwbinspector import Importance, InspectorMessage
from pynwb.ecephys import ElectricalSeries

from ndx_glymphatic.validators._check_tools import chunk_length, domain_check, finding, finding_of, iter_chunks
from ndx_glymphatic.validators.limits import get_limits

__all__ = [
    "check_eeg_emg_amplitude_plausible",
    "check_eeg_emg_rate_for_sleep_scoring",
    "check_eeg_emg_unit_and_conversion",
    "check_emg_electrodes_in_muscle",
]


def _effective_rate(series: ElectricalSeries) -> float | None:
    if series.rate is not None:
        return float(series.rate)
    timestamps = series.timestamps
    if timestamps is None or len(timestamps) < 3:
        return None
    head = np.asarray(timestamps[: min(len(timestamps), 10_001)], dtype=float)
    step = float(np.median(np.diff(head)))
    return 1.0 / step if step > 0 else None


@domain_check(importance=Importance.CRITICAL, neurodata_type=ElectricalSeries)
def check_eeg_emg_unit_and_conversion(series: ElectricalSeries) -> InspectorMessage | None:
    """unit is 'volts' and conversion is set: finite, within ``electrophysiology.conversion``, not 1 for integers."""
    low, high = get_limits()["electrophysiology"]["conversion"]
    conversion = float(series.conversion)
    problems = []
    stored_attributes = getattr(series.data, "attrs", {})  # pynwb shows ElectricalSeries.unit as 'volts' always
    unit = stored_attributes.get("unit", series.unit)
    unit = unit.decode() if isinstance(unit, bytes) else str(unit)
    if unit != "volts":
        problems.append(f"unit is '{unit}', expected 'volts'")
    if not (np.isfinite(conversion) and low <= conversion <= high):
        problems.append(f"conversion = {conversion:g}, outside {low:g}-{high:g} V per stored unit")
    dtype = getattr(series.data, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.integer) and conversion == 1.0:
        problems.append(f"data are integers ({dtype}) but conversion is 1: raw ADC counts need a conversion to volts")
    return finding_of(
        problems=problems,
        hint="store data as recorded and set conversion (e.g. 1e-6 for microvolts, the ADC step for counts)",
        high=True,
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=ElectricalSeries)
def check_eeg_emg_rate_for_sleep_scoring(series: ElectricalSeries) -> InspectorMessage | None:
    """Sampled at >= ``electrophysiology.min_rate_in_Hz`` (EEG bands up to 30 Hz, EMG power)."""
    minimum = get_limits()["electrophysiology"]["min_rate_in_Hz"]
    rate = _effective_rate(series)
    if rate is None or rate >= minimum:
        return None
    return finding(
        message=f"sampled at {rate:.4g} Hz, below {minimum:g} Hz.",
        hint="export EEG/EMG at the amplifier's rate (>= 100 Hz; 512 Hz is common), not a downsampled copy",
    )


@domain_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=ElectricalSeries)
def check_eeg_emg_amplitude_plausible(series: ElectricalSeries) -> InspectorMessage | None:
    """The RMS (in volts) of the first chunk of data lies within ``electrophysiology.rms_in_V``.

    Reads at most ``data_integrity.chunk_length_in_samples`` values.
    """
    low, high = get_limits()["electrophysiology"]["rms_in_V"]
    data = series.data
    if not hasattr(data, "shape") or len(data.shape) == 0 or data.shape[0] == 0:
        return None
    _, block = next(iter_chunks(data=data, length=chunk_length()))
    n_read = block.shape[0]
    block = block.astype(float)
    finite = block[np.isfinite(block)]
    if finite.size == 0:
        return None
    volts = (finite - finite.mean()) * float(series.conversion) + 0.0
    rms = float(np.sqrt(np.mean(volts**2)))
    if low <= rms <= high or rms == 0.0:
        return None
    return finding(
        message=(f"RMS amplitude {rms:.3g} V (first {n_read} samples x conversion {series.conversion:g}), outside "
                 f"{low:g}-{high:g} V."),
        hint="the unit or conversion is probably wrong: microvolt data need conversion=1e-6",
    )


@domain_check(importance=Importance.BEST_PRACTICE_SUGGESTION, neurodata_type=ElectricalSeries)
def check_emg_electrodes_in_muscle(series: ElectricalSeries) -> InspectorMessage | None:
    """A series named EMG records from electrodes in a muscle (their own or their group's location).

    The Allen atlas has no muscle, so files may give EMG electrodes the location 'root' and put the muscle
    (e.g. 'neck muscle') on their electrode group; either place counts.
    """
    if "emg" not in series.name.lower() or series.electrodes is None:
        return None
    table = series.electrodes.table
    rows = [int(row) for row in np.asarray(series.electrodes.data[:]).ravel()]
    places = []
    for row in rows:
        location = str(table["location"][row]) if "location" in table.colnames else ""
        group = table["group"][row] if "group" in table.colnames else None
        group_location = str(getattr(group, "location", "") or "")
        if "muscle" not in location.lower() and "muscle" not in group_location.lower():
            places.append(f"{location!r} (group {group_location!r})")
    if not places:
        return None
    return finding(
        message=f"EMG electrode(s) at {sorted(set(places))}, not in a muscle.",
        hint="set the EMG electrode group's location (or the electrodes') to the muscle, e.g. 'neck muscle'",
    )
