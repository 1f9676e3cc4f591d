"""``glymph init``: a session file started from the rig files' headers, with ``# TODO`` where a person must answer.

Streams become channels whose role is guessed from the wavelength in the stream name (465 / 470 /
490 nm: signal; 405 / 415 nm: isosbestic control; 560 / 590 nm: red signal); pyPhotometry's
``analog_1`` / ``analog_2`` are taken as its usual 470 nm signal and 405 nm control. The devices come
from the rig's preset (:mod:`ndx_glymphatic.device_presets`); the start time from the photometry
file; EEG / EMG channels from the EDF labels; a hypnogram section when a scoring file is given.
Every answer the files cannot give is written as ``null  # TODO: ...``, which ``glymph validate``
refuses until it is filled.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from ndx_glymphatic.converters._contract import RigDescription
from ndx_glymphatic.device_presets import preset_led_name
from ndx_glymphatic.errors import GlymphError

__all__ = ["PRESET_OF_FORMAT", "guess_channel", "session_file_text"]

#: Rig format -> device preset.
PRESET_OF_FORMAT = {"tdt": "tdt-rz10x", "doric": "doric", "npm": "neurophotometrics-fp3002", "ppd": "pyphotometry"}
_PPD_WAVELENGTHS = {"analog_1": 470.0, "analog_2": 405.0, "analog_3": 560.0}
_CONTROL_NM = (405.0, 415.0)
_RED_NM = (560.0, 590.0)
_EMISSION_NM = {"signal": 525.0, "red": 600.0, "far red": 670.0}
TODO = "null"


def _guess_wavelength(*, name: str) -> float | None:
    if name in _PPD_WAVELENGTHS:
        return _PPD_WAVELENGTHS[name]
    match = re.search(r"(?<!\d)(4[0-9]{2}|5[0-9]{2}|6[0-9]{2})(?!\d)", name)
    return float(match.group(1)) if match else None


def guess_channel(*, stream: str) -> dict[str, object] | None:
    """Role and wavelengths guessed from a stream's name; None when the name holds no wavelength."""
    wavelength = _guess_wavelength(name=stream)
    if wavelength is None:
        return None
    if any(abs(wavelength - control) <= 5 for control in _CONTROL_NM):
        return {"role": "isosbestic control", "excitation_nm": wavelength, "emission_nm": _EMISSION_NM["signal"]}
    if wavelength >= min(_RED_NM) - 10:  # red and far-red labels (blood volume, CSF tracers)
        emission = _EMISSION_NM["red"] if wavelength < 620 else _EMISSION_NM["far red"]
        return {"role": "signal", "excitation_nm": wavelength, "emission_nm": emission, "red": True}
    return {"role": "signal", "excitation_nm": wavelength, "emission_nm": _EMISSION_NM["signal"]}


def _q(value: object) -> str:
    """A YAML scalar (JSON is YAML)."""
    return json.dumps(value)


def _relative(*, path: Path, folder: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), folder.resolve())).as_posix()


def _photometry_lines(*, description: RigDescription, folder: Path) -> list[str]:
    preset = PRESET_OF_FORMAT[description.format]
    lines = [
        "photometry:",
        f"  format: {description.format}",
        f"  file: {_q(_relative(path=Path(description.path), folder=folder))}",
        "  channels:",
    ]
    guessed = [(stream, guess_channel(stream=stream.name)) for stream in description.streams]
    known = [(stream, guess) for stream, guess in guessed if guess is not None]
    signal_names = {}
    for stream, guess in known:
        if guess["role"] == "signal" and not guess.get("red"):
            signal_names[stream.name] = f"signal_{guess['excitation_nm']:.0f}nm"
    first_signal = next(iter(signal_names.values()), None)
    for stream, guess in known:
        nm = guess["excitation_nm"]
        is_control = guess["role"] == "isosbestic control"
        name = f"control_{nm:.0f}nm" if is_control else signal_names.get(stream.name, f"red_{nm:.0f}nm")
        lines += [
            f"  - name: {name}",
            f"    stream: {_q(stream.name)}",
            f"    description: {_q(f'Fluorescence excited at {nm:.0f} nm (stream {stream.name}).')}",
            f"    measured_quantity: {TODO}  # TODO: what the indicator measures (e.g. dopamine, norepinephrine)",
            f"    channel_role: {_q(guess['role'])}",
        ]
        if not is_control and first_signal and any(g["role"] == "isosbestic control" for _, g in known):
            control = next(f"control_{g['excitation_nm']:.0f}nm" for _, g in known if g["role"] == "isosbestic control")
            if not guess.get("red"):
                lines.append(f"    control_channel: {control}")
        lines += [
            f"    indicator: {TODO}  # TODO: name of an entry of `indicators`",
            f"    optical_fiber: {TODO}  # TODO: name of an entry of `devices.optical_fibers`",
            f"    excitation_source: {preset_led_name(preset=preset, wavelength_in_nm=nm)}",
            "    photodetector: photodetector",
            f"    excitation_wavelength_in_nm: {nm:g}",
            f"    emission_wavelength_in_nm: {guess['emission_nm']:g}",
        ]
    skipped = [stream.name for stream, guess in guessed if guess is None]
    if skipped:
        lines.append(f"  # streams not taken (no wavelength in their name): {', '.join(skipped)}")
    if description.events:
        lines.append("  events: [" + ", ".join(_q(event.name) for event in description.events) + "]")
    return lines


def _ephys_lines(*, description: RigDescription, folder: Path, photometry: RigDescription | None) -> list[str]:
    lines = [
        "electrophysiology:",
        f"  format: {description.format}",
        f"  file: {_q(_relative(path=Path(description.path), folder=folder))}",
        "  amplifier:",
        f"    description: {TODO}  # TODO: the EEG/EMG amplifier or acquisition system",
        "  electrode_groups:",
        "  - {name: EEG_electrodes, description: EEG electrodes., location: null}  # TODO: where (e.g. frontal cortex)",
        "  - {name: EMG_electrodes, description: EMG electrodes., location: null}  # TODO: where (e.g. neck muscle)",
        "  channels:",
    ]
    taken = 0
    for stream in description.streams:
        for label in stream.channel_names or (stream.name,):
            kind = "EMG" if "EMG" in label.upper() or "EMG" in stream.name.upper() else "EEG"
            name = re.sub(r"[^A-Za-z0-9_.\-]", "_", label)
            lines.append(f"  - {{name: {_q(name)}, stream: {_q(label)}, series: {kind}, group: {kind}_electrodes}}")
            taken += 1
    if photometry is not None:
        primary = photometry.events[0].name if photometry.events else None
        secondary = description.events[0].name if description.events else None
        lines += [
            "  clock_alignment:  # the two files have their own clocks: shared TTL pulses align them",
            f"    primary_ttl_channel: {_q(primary) if primary else TODO}  # TODO: check: the photometry file's "
            "channel receiving the shared pulses",
            f"    secondary_ttl_channel: {_q(secondary) if secondary else TODO}  # TODO: check: this file's channel",
        ]
    return lines if taken else []


def _hypnogram_lines(*, hypnogram: Path, folder: Path, clock: str | None) -> list[str]:
    layout = "edf" if hypnogram.suffix.lower() in (".edf", ".bdf") else "state-table"
    lines = [
        "hypnogram:",
        f"  file: {_q(_relative(path=hypnogram, folder=folder))}",
        f"  format: {layout}  # TODO: check the layout (docs/formats.md#hypnogram-formats)",
        f"  scoring_method: {TODO}  # TODO: manual or automatic",
        f"  scorer: {TODO}  # TODO: person, or software + version",
    ]
    if clock:
        lines.append(f"  clock: {clock}")
    return lines


def session_file_text(
    *, descriptions: Sequence[RigDescription], destination: Path, hypnogram: Path | None = None
) -> str:
    """The session file ``glymph init`` writes for these rig files.

    Parameters
    ----------
    descriptions : sequence of RigDescription
        One per rig file (at most one photometry file and one EEG/EMG file).
    destination : Path
        Where the session file will be; rig paths are written relative to its folder.
    hypnogram : Path, optional
        A scoring file.

    Raises
    ------
    GlymphError
        No photometry or EEG/EMG file among the paths, or two of one kind.
    """
    photometry = [d for d in descriptions if d.format in PRESET_OF_FORMAT]
    ephys = [d for d in descriptions if d.format not in PRESET_OF_FORMAT and "electrophysiology" in d.modalities]
    if len(photometry) > 1 or len(ephys) > 1:
        raise GlymphError(
            "RIG_PATH: expected at most one photometry file and one EEG/EMG file, got "
            + ", ".join(d.path for d in descriptions)
        )
    if not photometry and not ephys:
        raise GlymphError("RIG_PATH: expected a photometry or EEG/EMG rig file, got none")
    folder = destination.parent
    source = photometry[0] if photometry else ephys[0]
    start = source.session_start_time
    if start is None:
        start_line = f"  session_start_time: {TODO}  # TODO: date and time with zone, e.g. 2025-03-14T09:00:00+01:00"
    elif start.tzinfo is None:
        start_line = (
            f"  session_start_time: {_q(start.isoformat())}  # TODO: add the time zone offset (e.g. "
            "+01:00): the rig file records none"
        )
    else:
        start_line = f"  session_start_time: {_q(start.isoformat())}"
    lines = [
        "# ndx-glymphatic session file, started by `glymph init` from "
        + ", ".join(Path(d.path).name for d in descriptions)
        + ".",
        "# Fill every TODO, then: glymph validate THIS_FILE && glymph convert THIS_FILE -o session.nwb",
        "subject:",
        f"  subject_id: {TODO}  # TODO: animal identifier",
        "  species: Mus musculus  # TODO: check",
        f"  sex: {TODO}  # TODO: M, F, U or O",
        f"  age: {TODO}  # TODO: ISO 8601 duration, e.g. P90D",
        f"  strain: {TODO}  # TODO: e.g. C57BL/6J",
        "session:",
        start_line,
        f"  session_description: {TODO}  # TODO: what happened in this session",
        f"  session_id: {TODO}  # TODO: session identifier, e.g. ses-01",
        f"  experimenter: [{TODO}]  # TODO: who recorded (Last, First)",
        f"  lab: {TODO}  # TODO",
        f"  institution: {TODO}  # TODO",
    ]
    if photometry:
        lines += [
            "devices:",
            f"  preset: {PRESET_OF_FORMAT[photometry[0].format]}  # the rig's LEDs and photodetector; override by name",
            "  optical_fibers:",
            "  - name: fiber",
            "    description: Implanted optical fiber.",
            f"    manufacturer: {TODO}  # TODO",
            f"    numerical_aperture: {TODO}  # TODO: e.g. 0.48",
            f"    location: {TODO}  # TODO: brain area at the fiber tip",
            f"    ap_in_mm: {TODO}  # TODO: implant coordinates in mm from bregma",
            f"    ml_in_mm: {TODO}  # TODO",
            f"    depth_in_mm: {TODO}  # TODO",
            f"    hemisphere: {TODO}  # TODO: left or right",
            "indicators:",
            f"- name: {TODO}  # TODO: the sensor's NWB name, e.g. dLight (channels' `indicator` names it)",
            f"  label: {TODO}  # TODO: e.g. dLight1.1",
            f"  description: {TODO}  # TODO: what it senses and how it was expressed",
        ]
        lines += _photometry_lines(description=photometry[0], folder=folder)
    if ephys:
        lines += _ephys_lines(description=ephys[0], folder=folder, photometry=photometry[0] if photometry else None)
    if hypnogram is not None:
        clock = "electrophysiology" if ephys and photometry else None
        lines += _hypnogram_lines(hypnogram=hypnogram, folder=folder, clock=clock)
    return "\n".join(lines) + "\n"
