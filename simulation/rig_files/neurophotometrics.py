"""Write synthetic Neurophotometrics FP3002 CSVs (current, legacy, alternating; digital inputs).

The layouts are those :mod:`ndx_glymphatic.converters.neurophotometrics` reads.
Build frames from per-LED signals with :func:`interleave_npm_frames` (chunk by chunk for long
simulations, passing ``first_frame_index``), then write them with :func:`write_npm_current_csv` or
:func:`write_npm_legacy_csv`; both accept one :class:`NpmFrames` or an iterable of chunks.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ndx_glymphatic.converters.neurophotometrics import DIGITAL_INPUT_BITS, LED_WAVELENGTHS_IN_NM
from ndx_glymphatic.io import atomic_output_path

__all__ = [
    "NpmFrames",
    "interleave_npm_frames",
    "write_npm_current_csv",
    "write_npm_digital_inputs_csv",
    "write_npm_legacy_csv",
]

_LEGACY_OUTPUT0_BIT = 16


@dataclass(frozen=True)
class NpmFrames:
    """Camera frames as FP3002 writes them, one entry per frame.

    Attributes
    ----------
    frame_counter : ndarray of int
    system_timestamps_in_s : ndarray of float
        Device time of each frame.
    led_states : ndarray of int
        LED bits (1 = 415, 2 = 470, 4 = 560 nm) plus any other state bits.
    roi_values : mapping of str to ndarray
        ROI column name (``G0``, ``Region0G``) to one value per frame.
    """

    frame_counter: np.ndarray
    system_timestamps_in_s: np.ndarray
    led_states: np.ndarray
    roi_values: Mapping[str, np.ndarray]


def interleave_npm_frames(
    *,
    led_signals: Mapping[int, Mapping[str, np.ndarray]],
    frame_rate_in_Hz: float,
    led_order: Sequence[int] | None = None,
    start_time_in_s: float = 0.0,
    first_frame_index: int = 0,
    first_frame_all_leds: bool = True,
    jitter_in_s: np.ndarray | None = None,
) -> NpmFrames:
    """Interleave per-LED ROI signals into FP3002 frames.

    Parameters
    ----------
    led_signals : mapping of int to mapping of str to ndarray
        Wavelength (415, 470, 560) to ROI name to samples; every array has the same length ``n``.
    frame_rate_in_Hz : float
        Camera frame rate (all LEDs together; each LED is sampled at ``frame_rate / n_leds``).
    led_order : sequence of int, optional
        Frame order of the LEDs (default: ``led_signals`` order).
    start_time_in_s : float
        Device time of the whole recording's frame 0 (frame ``k`` is at ``start + k / frame_rate``).
    first_frame_index : int
        Index of this chunk's first frame in the whole recording (for chunked generation: the
        first chunk holds the start frame when ``first_frame_all_leds``, so the next chunk starts at
        ``1 + n_leds * n``).
    first_frame_all_leds : bool
        Start with the FP3002 start frame whose state has every LED bit set (7); only when
        ``first_frame_index`` is 0.
    jitter_in_s : ndarray, optional
        Added to each frame time (irregular-timing tests).

    Returns
    -------
    NpmFrames
    """
    order = list(led_order) if led_order is not None else list(led_signals)
    bits_of = {wavelength: bit for bit, wavelength in LED_WAVELENGTHS_IN_NM.items()}
    rois = list(led_signals[order[0]])
    lengths = {np.asarray(values).shape[0] for signals in led_signals.values() for values in signals.values()}
    if len(lengths) != 1:
        raise ValueError(f"every LED x ROI signal must have one length, got {sorted(lengths)}")
    n_samples = lengths.pop()
    n_frames = n_samples * len(order)
    leading = 1 if (first_frame_all_leds and first_frame_index == 0) else 0
    states = np.empty(n_frames + leading, dtype=np.int64)
    states[leading:] = np.tile([bits_of[wavelength] for wavelength in order], n_samples)
    values = {roi: np.empty(n_frames + leading) for roi in rois}
    for position, wavelength in enumerate(order):
        for roi in rois:
            values[roi][leading + position :: len(order)] = np.asarray(led_signals[wavelength][roi])
    if leading:
        states[0] = 7
        for roi in rois:
            values[roi][0] = float(np.asarray(led_signals[order[0]][roi])[0])
    counter = first_frame_index + np.arange(n_frames + leading)
    times = start_time_in_s + counter / frame_rate_in_Hz
    if jitter_in_s is not None:
        times = times + np.asarray(jitter_in_s)
    return NpmFrames(frame_counter=counter, system_timestamps_in_s=times, led_states=states, roi_values=values)


def _frame_chunks(frames: NpmFrames | Iterable[NpmFrames]) -> Iterable[NpmFrames]:
    return [frames] if isinstance(frames, NpmFrames) else frames


def write_npm_current_csv(
    *,
    destination: str | Path,
    frames: NpmFrames | Iterable[NpmFrames],
    computer_clock_offset_in_ms: float = 57_000_000.0,
    overwrite: bool = False,
) -> Path:
    """Write the current layout ``FrameCounter, SystemTimestamp, LedState, ComputerTimestamp, G0..``.

    ``ComputerTimestamp`` (host milliseconds) is the device time in ms plus ``computer_clock_offset_in_ms``.
    """
    destination = Path(destination)
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        with Path(temporary).open("w", newline="") as handle:
            writer = csv.writer(handle)
            header_written = False
            for chunk in _frame_chunks(frames):
                rois = list(chunk.roi_values)
                if not header_written:
                    bad = [roi for roi in rois if not re.match(r"^[GR]\d+$", roi)]
                    if bad:
                        raise ValueError(f"current-layout ROI columns are G0.. / R0.., got {bad}")
                    writer.writerow(["FrameCounter", "SystemTimestamp", "LedState", "ComputerTimestamp", *rois])
                    header_written = True
                for k in range(chunk.frame_counter.size):
                    time = float(chunk.system_timestamps_in_s[k])
                    writer.writerow(
                        [
                            int(chunk.frame_counter[k]),
                            repr(time),
                            int(chunk.led_states[k]),
                            repr(time * 1000.0 + computer_clock_offset_in_ms),
                            *(repr(float(chunk.roi_values[roi][k])) for roi in rois),
                        ]
                    )
    return destination


def write_npm_legacy_csv(
    *,
    destination: str | Path,
    frames: NpmFrames | Iterable[NpmFrames],
    input_levels: Mapping[str, np.ndarray] | None = None,
    header: bool = True,
    flags_column: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write the legacy layout ``FrameCounter, Timestamp, Flags, Region0R, Region1G, ...``.

    Parameters
    ----------
    destination : str or Path
        Output file.
    frames : NpmFrames or iterable of NpmFrames
        Frames; ROI names must look like ``Region<k><G|R>``.
    input_levels : mapping of str to ndarray of bool, optional
        ``Input0`` / ``Input1`` level per frame (one frame chunk only), written into Flags bits 9 / 8.
    header : bool
        Write the header row (False gives the header-less exports).
    flags_column : bool
        Write the Flags column (False gives files whose frames simply alternate LEDs).
    overwrite : bool
        Replace an existing file.
    """
    destination = Path(destination)
    input_levels = dict(input_levels or {})
    if input_levels and not isinstance(frames, NpmFrames):
        raise ValueError("input_levels needs the frames as one NpmFrames, not chunks")
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        with Path(temporary).open("w", newline="") as handle:
            writer = csv.writer(handle)
            first = True
            for chunk in _frame_chunks(frames):
                rois = list(chunk.roi_values)
                flags = chunk.led_states | _LEGACY_OUTPUT0_BIT
                for name, levels in input_levels.items():
                    flags = flags | (np.asarray(levels, dtype=np.int64) << DIGITAL_INPUT_BITS[name])
                if first:
                    bad = [roi for roi in rois if not re.match(r"^Region\d+[GR]?$", roi)]
                    if bad:
                        raise ValueError(f"legacy ROI columns are Region<k><G|R>, got {bad}")
                    if header:
                        writer.writerow(["FrameCounter", "Timestamp", *(["Flags"] if flags_column else []), *rois])
                    first = False
                for k in range(chunk.frame_counter.size):
                    writer.writerow(
                        [
                            int(chunk.frame_counter[k]),
                            repr(float(chunk.system_timestamps_in_s[k])),
                            *([int(flags[k])] if flags_column else []),
                            *(repr(float(chunk.roi_values[roi][k])) for roi in rois),
                        ]
                    )
    return destination


def write_npm_digital_inputs_csv(
    *,
    destination: str | Path,
    generation: Literal[1, 2, 3],
    onsets_in_s: Mapping[str, np.ndarray],
    offsets_in_s: Mapping[str, np.ndarray] | None = None,
    timestamp_lead_in_s: float = 0.03,
    overwrite: bool = False,
) -> Path:
    """Write a digital-input table of one of the three generations.

    Parameters
    ----------
    destination : str or Path
        Output file.
    generation : {1, 2, 3}
        1: ``Timestamp, Value``; 2: ``Timestamp, Value.Seconds, Value.Value``; 3: ``ChannelName,
        Channel, AlwaysTrue, SystemTimestamp, ComputerTimestamp``.
    onsets_in_s : mapping of str to ndarray
        Channel name to onset times (generations 1/2 hold exactly one channel; generation-3 names end
        in the channel number, e.g. ``Input0``).
    offsets_in_s : mapping of str to ndarray, optional
        Generations 1/2: falling-edge times per channel.
    timestamp_lead_in_s : float
        Generation 2: ``Timestamp`` is written this much earlier than ``Value.Seconds`` (as in real files).
    overwrite : bool
        Replace an existing file.
    """
    destination = Path(destination)
    rows: list[list[object]]
    if generation in (1, 2):
        if len(onsets_in_s) != 1:
            raise ValueError("generation 1/2 tables hold exactly one channel")
        ((name, onsets),) = onsets_in_s.items()
        offsets = np.asarray((offsets_in_s or {}).get(name, np.empty(0)), dtype=np.float64)
        times = np.concatenate([np.asarray(onsets, dtype=np.float64), offsets])
        levels = np.concatenate([np.ones(len(onsets), bool), np.zeros(offsets.size, bool)])
        order = np.argsort(times, kind="stable")
        if generation == 1:
            header = ["Timestamp", "Value"]
            rows = [[repr(float(times[k])), bool(levels[k])] for k in order]
        else:
            header = ["Timestamp", "Value.Seconds", "Value.Value"]
            rows = [
                [repr(float(times[k]) - timestamp_lead_in_s), repr(float(times[k])), bool(levels[k])] for k in order
            ]
    elif generation == 3:
        header = ["ChannelName", "Channel", "AlwaysTrue", "SystemTimestamp", "ComputerTimestamp"]
        events = [
            (float(time), name, int(re.sub(r"\D", "", name) or 0))
            for name, onsets in onsets_in_s.items()
            for time in np.asarray(onsets, dtype=np.float64)
        ]
        rows = [[name, number, True, repr(time), repr(time * 1000.0)] for time, name, number in sorted(events)]
    else:
        raise ValueError(f"generation must be 1, 2 or 3, got {generation!r}")
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        with Path(temporary).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return destination
