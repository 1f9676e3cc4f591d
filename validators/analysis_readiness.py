"""The analysis-readiness layer: exactly what the reference analysis needs, each requirement in words.

Channels are found by table semantics (``measured_quantity`` + ``channel_role`` of the
FiberPhotometryChannelsTable row a FiberPhotometryResponseSeries points at), never by series names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndx_glymphatic.access import PhotometryChannel, get_electrical_series, get_hypnogram, photometry_channels
from ndx_glymphatic.validators.limits import get_limits
from ndx_glymphatic.validators.report import ValidationMessage

__all__ = ["REQUIREMENTS", "analysis_messages", "nrem_bouts"]

#: Every requirement: check name -> (severity when unmet, why the analysis needs it).
REQUIREMENTS: dict[str, tuple[str, str]] = {
    "analysis_ne_signal": (
        "error",
        "a photometry channel measuring norepinephrine with role 'signal', with its data: every NE measure "
        "(oscillation rate, amplitude, spectrum, coupling) is computed from it",
    ),
    "analysis_ne_control": (
        "warning",
        "the NE signal's control channel (control_channel -> an 'isosbestic control' or 'reference control' "
        "row with data): dF/F fits the control to the signal to remove motion and bleaching; without one it "
        "falls back to the median of a baseline (analysis parameter preprocessing.without_control)",
    ),
    "analysis_photometry_rate": (
        "error",
        "the NE signal sampled at >= analysis.min_photometry_rate_in_Hz: the analysis smooths to ~10 Hz and "
        "finds NE peaks >= 10 s apart in the 0-0.1 Hz band",
    ),
    "analysis_session_duration": (
        "error",
        "an NE recording of >= analysis.min_session_duration_in_s: at least two periods of the ~0.02 Hz "
        "oscillation",
    ),
    "analysis_hypnogram": (
        "error",
        "a scored hypnogram (Hypnogram, intervals 'sleep_states'): every measure is computed per sleep state",
    ),
    "analysis_nrem": (
        "error",
        "at least one NREM interval overlapping the NE recording: the NE oscillation is a NREM phenomenon",
    ),
    "analysis_nrem_bout_length": (
        "error",
        "at least one NREM bout (micro-arousals inside it included) of >= analysis.min_nrem_bout_in_s within "
        "the NE recording: the infraslow spectrum is computed per bout of that length",
    ),
    "analysis_eeg": (
        "warning",
        "an EEG ElectricalSeries for the sigma-band (spindle) coupling to NE; without it that step is skipped",
    ),
    "analysis_eeg_rate": (
        "warning",
        "EEG sampled at >= analysis.min_eeg_rate_in_Hz: the sigma band reaches 16 Hz",
    ),
    "analysis_tracer_infusion": (
        "warning",
        "for a CSF tracer channel, the tracer infusion (intervals 'tracer_infusions'): tracer dF/F uses the "
        "5 min before the infusion as baseline",
    ),
}


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _series_span(*, series: Any) -> tuple[float, float, float | None]:
    """(start, stop, rate) of a series; rate None when irregular and unknown."""
    n_samples = int(series.data.shape[0])
    if series.rate is not None:
        start = float(series.starting_time or 0.0)
        return start, start + n_samples / float(series.rate), float(series.rate)
    timestamps = series.timestamps
    if timestamps is None or n_samples == 0:
        return 0.0, 0.0, None
    head = np.asarray(timestamps[: min(n_samples, 10_001)], dtype=float)
    step = float(np.median(np.diff(head))) if head.size > 1 else 0.0
    return float(timestamps[0]), float(timestamps[n_samples - 1]), (1.0 / step if step > 0 else None)


def nrem_bouts(*, start_times: np.ndarray, stop_times: np.ndarray, states: list[str],
               gap_tolerance_in_s: float = 1.0) -> list[tuple[float, float]]:
    """NREM bouts: maximal runs of NREM and micro-arousal rows, each run starting and ending with NREM.

    Parameters
    ----------
    start_times, stop_times : array
        Interval bounds (s).
    states : list of str
        Sleep state of each interval.
    gap_tolerance_in_s : float
        Consecutive rows further apart than this do not belong to the same bout.

    Returns
    -------
    list of (start, stop)
    """
    order = np.argsort(start_times, kind="stable")
    bouts: list[tuple[float, float]] = []
    current: list[int] = []

    def close() -> None:
        while current and states[current[-1]] != "NREM":
            current.pop()
        if current:
            bouts.append((float(start_times[current[0]]), float(stop_times[current[-1]])))
        current.clear()

    for row in order:
        state = states[row]
        contiguous = bool(current) and start_times[row] - stop_times[current[-1]] <= gap_tolerance_in_s
        if state == "NREM" or (state == "micro-arousal" and current):
            if current and not contiguous:
                close()
            if state == "NREM" or current:
                current.append(int(row))
        else:
            close()
    close()
    return bouts


def _message(*, check: str, message: str, location: str = "", severity: str | None = None) -> ValidationMessage:
    default_severity, why = REQUIREMENTS[check]
    severity = severity or default_severity
    importance = {"error": "CRITICAL", "warning": "BEST_PRACTICE_VIOLATION", "info": "BEST_PRACTICE_SUGGESTION"}
    return ValidationMessage(layer="analysis", severity=severity, importance=importance[severity], check=check,
                             location=location, message=message, hint=f"the analysis needs {why}")


def _ne_messages(*, channels: list[PhotometryChannel]) -> tuple[list[ValidationMessage], tuple[float, float] | None]:
    limits = get_limits()["analysis"]
    table_location = "/general/fiber_photometry/fiber_photometry_table"
    ne = [channel for channel in channels
          if channel.measured_quantity == "norepinephrine" and channel.channel_role == "signal"]
    if not channels:
        return [_message(check="analysis_ne_signal", message="The file has no FiberPhotometryChannelsTable, so no "
                         "norepinephrine channel can be found.")], None
    with_data = [channel for channel in ne if channel.series is not None]
    if not with_data:
        found = "no row" if not ne else f"row {ne[0].row} but no FiberPhotometryResponseSeries pointing at it"
        return [_message(check="analysis_ne_signal", location=table_location,
                         message=f"No norepinephrine signal channel with data: {found}.")], None
    signal = with_data[0]
    messages = []
    rows = {channel.row: channel for channel in channels}
    control = rows.get(signal.control_channel)
    if signal.control_channel < 0:
        messages.append(_message(check="analysis_ne_control", location=table_location,
                                 message=f"The NE signal (row {signal.row}) names no control channel (-1)."))
    elif control is None or control.channel_role not in ("isosbestic control", "reference control"):
        messages.append(_message(check="analysis_ne_control", location=table_location, severity="error",
                                 message=f"The NE signal's control_channel {signal.control_channel} is not a "
                                         f"control row of the table."))
    elif control.series is None:
        messages.append(_message(check="analysis_ne_control", location=table_location,
                                 message=f"The NE control (row {control.row}) has no data series."))
    start, stop, rate = _series_span(series=signal.series)
    location = f"/acquisition/{signal.series.name}"
    if rate is None or rate < limits["min_photometry_rate_in_Hz"]:
        rate_text = "unknown" if rate is None else f"{rate:.4g} Hz"
        messages.append(_message(check="analysis_photometry_rate", location=location,
                                 message=f"The NE signal's sampling rate is {rate_text}, below "
                                         f"{limits['min_photometry_rate_in_Hz']:g} Hz."))
    if stop - start < limits["min_session_duration_in_s"]:
        messages.append(_message(check="analysis_session_duration", location=location,
                                 message=f"The NE recording lasts {stop - start:.4g} s, shorter than "
                                         f"{limits['min_session_duration_in_s']:g} s."))
    return messages, (start, stop)


def _hypnogram_messages(*, nwbfile: Any, ne_span: tuple[float, float] | None) -> list[ValidationMessage]:
    limits = get_limits()["analysis"]
    hypnogram = get_hypnogram(nwbfile=nwbfile)
    if hypnogram is None:
        return [_message(check="analysis_hypnogram", location="/intervals",
                         message="The file has no Hypnogram (scored sleep states).")]
    location = f"/intervals/{hypnogram.name}"
    start = np.asarray(hypnogram["start_time"].data[:], dtype=float)
    stop = np.asarray(hypnogram["stop_time"].data[:], dtype=float)
    states = [_text(value) for value in hypnogram["sleep_state"].data[:]]
    low, high = ne_span if ne_span is not None else (-np.inf, np.inf)
    nrem = [row for row, state in enumerate(states) if state == "NREM" and stop[row] > low and start[row] < high]
    if not nrem:
        where = " within the NE recording" if ne_span is not None else ""
        n_total = sum(state == "NREM" for state in states)
        return [_message(check="analysis_nrem", location=location,
                         message=f"The hypnogram has no NREM interval{where} ({n_total} NREM row(s) in total).")]
    bouts = nrem_bouts(start_times=start, stop_times=stop, states=states)
    clipped = [min(b, high) - max(a, low) for a, b in bouts]
    longest = max(clipped, default=0.0)
    if longest < limits["min_nrem_bout_in_s"]:
        return [_message(check="analysis_nrem_bout_length", location=location,
                         message=f"The longest NREM bout within the NE recording lasts {longest:.4g} s, shorter "
                                 f"than {limits['min_nrem_bout_in_s']:g} s ({len(bouts)} bout(s)).")]
    return []


def _eeg_messages(*, nwbfile: Any) -> list[ValidationMessage]:
    limits = get_limits()["analysis"]
    series = get_electrical_series(nwbfile=nwbfile, name="EEG")
    if series is None:
        return [_message(check="analysis_eeg", location="/acquisition",
                         message="The file has no EEG series (an ElectricalSeries named 'EEG' in acquisition).")]
    _, _, rate = _series_span(series=series)
    if rate is None or rate < limits["min_eeg_rate_in_Hz"]:
        rate_text = "unknown" if rate is None else f"{rate:.4g} Hz"
        return [_message(check="analysis_eeg_rate", location=f"/acquisition/{series.name}",
                         message=f"EEG '{series.name}' is sampled at {rate_text}, below "
                                 f"{limits['min_eeg_rate_in_Hz']:g} Hz.")]
    return []


def analysis_messages(*, nwbfile: Any) -> list[ValidationMessage]:
    """Check that ``nwbfile`` has what the reference analysis needs.

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        The open file.

    Returns
    -------
    list of ValidationMessage
        One message per unmet requirement (see :data:`REQUIREMENTS`).
    """
    channels = photometry_channels(nwbfile=nwbfile)
    messages, ne_span = _ne_messages(channels=channels)
    messages += _hypnogram_messages(nwbfile=nwbfile, ne_span=ne_span)
    messages += _eeg_messages(nwbfile=nwbfile)
    has_tracer = any(channel.measured_quantity == "CSF tracer" and channel.series is not None for channel in channels)
    intervals = nwbfile.intervals or {}
    if has_tracer and "tracer_infusions" not in intervals:
        messages.append(_message(check="analysis_tracer_infusion", location="/intervals",
                                 message="A CSF tracer channel is recorded but no tracer infusion is stored."))
    return messages
