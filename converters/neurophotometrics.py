"""Readers for Neurophotometrics FP3002 recordings (Bonsai CSV) and their digital-input tables.

Photometry layouts read:

current
    ``FrameCounter, SystemTimestamp, LedState, ComputerTimestamp, G0..Gn`` (and/or ``R0..Rn``).
    ``SystemTimestamp`` is device seconds and times every frame.
legacy
    ``FrameCounter, Timestamp, Flags, Region0R, Region1G, ...``; ``Timestamp`` is device seconds.
alternating
    no LED column at all (often no header either): frames simply cycle through the LEDs in the order
    given by the ``led_order`` keyword. A header-less file gets the column names ``column_names`` or,
    by default, ``FrameCounter, Timestamp, Region0, Region1, ...``.

LED state (``LedState`` / ``Flags``): bits 0-2 are the LEDs (1 = 415 nm, 2 = 470 nm, 4 = 560 nm).
The other bits known from the FP3002 state table are 3 (output 1), 4 (output 0; always set in legacy
files), 5 (stimulation), 6 / 7 (GPIO 2 / 3), 8 (digital input 1) and 9 (digital input 0); a state
with any higher bit is an error. Bits 8 and 9 become :class:`EventChannel` s ``Input1`` and ``Input0``
(checked against a real legacy file: bit 9 edges match that rig's digital-input-0 table).

Frames are de-interleaved into one stream per LED and ROI named ``<ROI>@<wavelength>``
(``G0@470``, ``G0@415``, ``Region1G@470``). The first frame, which FP3002 writes with every LED bit set
(state 7), is dropped; frames with no LED bit are skipped; any other frame with several LEDs on is an
error. A stream is regularly sampled (rate + starting time) when its frame times deviate from a regular
grid by at most ``max_jitter_fraction`` of a period; otherwise its timestamps are kept.

Times are seconds after the file's first frame (``time_origin_in_s``, the device time of that frame),
so that digital-input tables recorded on the same device clock line up when read with the same origin.

Digital-input CSVs, three generations (file versions 1, 2 and 5 in the IBL naming), are read by
:func:`read_npm_digital_inputs`:

1. ``Timestamp, Value`` (one row per edge; ``Value`` True = rising, False = falling);
2. ``Timestamp, Value.Seconds, Value.Value`` (as 1; edge time from ``Value.Seconds`` by default);
3. ``ChannelName, Channel, AlwaysTrue, SystemTimestamp, ComputerTimestamp`` (one row per event onset,
   grouped by ``ChannelName``; no offsets).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ndx_glymphatic.converters._contract import EventChannel, RigReader, StreamInfo
from ndx_glymphatic.converters._paths import require_regular_file
from ndx_glymphatic.converters._timing import EdgeDetector, infer_sample_timing, pair_offsets
from ndx_glymphatic.errors import InputFileError

__all__ = [
    "DIGITAL_INPUT_BITS",
    "LED_WAVELENGTHS_IN_NM",
    "NeurophotometricsReader",
    "read_npm_digital_inputs",
]

#: LED bit in ``LedState`` / ``Flags`` -> excitation wavelength in nm.
LED_WAVELENGTHS_IN_NM: dict[int, int] = {1: 415, 2: 470, 4: 560}

#: Digital-input event channel -> bit of ``LedState`` / ``Flags``.
DIGITAL_INPUT_BITS: dict[str, int] = {"Input0": 9, "Input1": 8}

_LED_BITS = 0b111
_KNOWN_STATE_BITS = 0x3FF
_BOOKKEEPING = frozenset({"FrameCounter", "Timestamp", "SystemTimestamp", "ComputerTimestamp", "Flags", "LedState"})
_CURRENT_ROI = re.compile(r"^[GR]\d+$")
_LEGACY_ROI = re.compile(r"^Region\d+[GR]?$")

Layout = Literal["current", "legacy", "alternating"]


@dataclass(frozen=True)
class _Frames:
    """Frame-level facts read once from the file."""

    times_in_s: np.ndarray
    led_bits: np.ndarray
    states: np.ndarray | None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _led_label(bits: int) -> str:
    return "+".join(str(LED_WAVELENGTHS_IN_NM[bit]) for bit in (1, 2, 4) if bits & bit) or "none"


class NeurophotometricsReader(RigReader):
    """Reader of a Neurophotometrics FP3002 photometry CSV (current, legacy or alternating layout).

    Parameters
    ----------
    path : str or Path
        The photometry CSV.
    led_order : sequence of int, optional
        Excitation wavelengths (415, 470, 560) in frame order, for files without a ``LedState`` /
        ``Flags`` column (frame ``k`` used LED ``led_order[k % len(led_order)]``). Ignored otherwise.
    column_names : sequence of str, optional
        Names of the columns of a header-less file (default ``FrameCounter, Timestamp, Region0, ...``).
    drop_first_frame : bool, optional
        Drop frame 0. Default: drop it when it has several LED bits set (the FP3002 start frame).
    digital_input_paths : sequence of str or Path
        Digital-input tables (any generation) recorded with this file; their channels join
        :meth:`events`, on this file's time origin.
    max_jitter_fraction : float
        Largest deviation from a regular grid, as a fraction of a period, for regular sampling.
    time_origin_in_s : float, optional
        Device time taken as zero. Default: the time of the file's first frame.
    """

    format = "npm"
    format_name = "Neurophotometrics FP3002 CSV"
    modalities = ("photometry",)
    options = ("digital_input_paths", "led_order")

    def __init__(
        self,
        *,
        path: str | Path,
        led_order: Sequence[int] | None = None,
        column_names: Sequence[str] | None = None,
        drop_first_frame: bool | None = None,
        digital_input_paths: Sequence[str | Path] = (),
        max_jitter_fraction: float = 0.1,
        time_origin_in_s: float | None = None,
    ) -> None:
        super().__init__(path=path)
        require_regular_file(path=self.path, expected="an existing CSV file")
        self.max_jitter_fraction = max_jitter_fraction
        self.digital_input_paths = tuple(Path(item) for item in digital_input_paths)
        self._has_header, self.columns = self._read_columns_line(column_names=column_names)
        self.layout: Layout
        self._time_column: str
        self._state_column: str | None
        self._pick_layout(led_order=led_order)
        self.roi_columns = self._roi_columns()
        frames = self._read_frames(led_order=led_order, drop_first_frame=drop_first_frame)
        self._frames = frames
        self.time_origin_in_s = float(frames.times_in_s[0]) if time_origin_in_s is None else time_origin_in_s
        self._leds = sorted(
            (int(bits) for bits in np.unique(frames.led_bits) if bits), key=lambda b: LED_WAVELENGTHS_IN_NM[b]
        )
        self._stream_info: dict[str, StreamInfo] | None = None
        self._events: dict[str, EventChannel] | None = None

    # -- header and layout -----------------------------------------------------------------
    def _read_columns_line(self, *, column_names: Sequence[str] | None) -> tuple[bool, tuple[str, ...]]:
        with self.path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            first = next(csv.reader(handle), None)
        if not first:
            raise InputFileError(
                path=self.path, field="first row", expected="a header row or data", found="an empty file"
            )
        cells = [cell.strip() for cell in first]
        if not all(_is_number(cell) for cell in cells if cell):
            return True, tuple(cells)
        if column_names is not None:
            if len(column_names) != len(cells):
                raise InputFileError(
                    path=self.path,
                    field="column_names",
                    expected=f"{len(cells)} names (one per column)",
                    found=f"{len(column_names)} names",
                )
            return False, tuple(column_names)
        if len(cells) < 3:
            raise InputFileError(
                path=self.path,
                field="columns",
                expected="FrameCounter, Timestamp and at least one ROI column",
                found=f"{len(cells)} columns",
            )
        return False, ("FrameCounter", "Timestamp", *(f"Region{k}" for k in range(len(cells) - 2)))

    def _pick_layout(self, *, led_order: Sequence[int] | None) -> None:
        columns = set(self.columns)
        if "LedState" in columns and "SystemTimestamp" in columns:
            self.layout, self._time_column, self._state_column = "current", "SystemTimestamp", "LedState"
        elif "Flags" in columns and "Timestamp" in columns:
            self.layout, self._time_column, self._state_column = "legacy", "Timestamp", "Flags"
        elif led_order is not None:
            time_columns = [name for name in ("SystemTimestamp", "Timestamp") if name in columns]
            if not time_columns:
                raise InputFileError(
                    path=self.path,
                    field="columns",
                    expected="a 'SystemTimestamp' or 'Timestamp' column",
                    found=repr(list(self.columns)),
                )
            self.layout, self._time_column, self._state_column = "alternating", time_columns[0], None
            unknown = [wavelength for wavelength in led_order if wavelength not in LED_WAVELENGTHS_IN_NM.values()]
            if unknown or not led_order:
                raise InputFileError(
                    path=self.path,
                    field="led_order",
                    expected=f"wavelengths from {sorted(LED_WAVELENGTHS_IN_NM.values())}",
                    found=repr(list(led_order)),
                )
        else:
            raise InputFileError(
                path=self.path,
                field="LedState / Flags column",
                expected="'SystemTimestamp' + 'LedState' (current) or 'Timestamp' + 'Flags' (legacy)",
                found=f"columns {list(self.columns)}",
                hint="for files whose frames simply alternate LEDs pass led_order=(470, 415) or similar",
            )

    def _roi_columns(self) -> tuple[str, ...]:
        if self.layout == "current":
            rois = [name for name in self.columns if _CURRENT_ROI.match(name)]
        elif self.layout == "legacy":
            rois = [name for name in self.columns if _LEGACY_ROI.match(name)]
        else:
            rois = [name for name in self.columns if name and name not in _BOOKKEEPING]
        if not rois:
            expected = {"current": "G0.. / R0..", "legacy": "Region0R, Region1G, ..."}.get(self.layout, "ROI columns")
            raise InputFileError(
                path=self.path, field="ROI columns", expected=expected, found=f"columns {list(self.columns)}"
            )
        return tuple(rois)

    # -- frames ----------------------------------------------------------------------------
    def _csv(self, *, usecols: Sequence[str], chunksize: int | None = None) -> Any:
        """The CSV as a pandas DataFrame, or an iterator of DataFrames when ``chunksize`` is given."""
        return pd.read_csv(
            self.path,
            header=0 if self._has_header else None,
            names=None if self._has_header else list(self.columns),
            usecols=list(usecols),
            chunksize=chunksize,
            encoding="utf-8-sig",
            skipinitialspace=True,
        )

    def _numeric(self, *, values: np.ndarray, column: str) -> np.ndarray:
        numbers = _as_numbers(values)
        if not np.all(np.isfinite(numbers)):
            bad = int(np.flatnonzero(~np.isfinite(numbers))[0])
            raise InputFileError(
                path=self.path,
                field=column,
                expected="a number in every row",
                found=f"{values[bad]!r} in data row {bad + 1}",
            )
        return numbers

    def _read_frames(self, *, led_order: Sequence[int] | None, drop_first_frame: bool | None) -> _Frames:
        usecols = [self._time_column] + ([self._state_column] if self._state_column else [])
        try:
            table = self._csv(usecols=usecols)
        except ValueError as error:
            raise InputFileError(
                path=self.path, field=", ".join(usecols), expected="readable columns", found=str(error)
            ) from None
        if len(table) == 0:
            raise InputFileError(path=self.path, field="rows", expected="at least one frame", found="none")
        times = self._numeric(values=table[self._time_column].to_numpy(), column=self._time_column)
        states: np.ndarray | None = None
        if self._state_column is not None:
            raw = self._numeric(values=table[self._state_column].to_numpy(), column=self._state_column)
            if np.any(raw != np.round(raw)) or np.any(raw < 0):
                bad = int(np.flatnonzero((raw != np.round(raw)) | (raw < 0))[0])
                raise InputFileError(
                    path=self.path,
                    field=self._state_column,
                    expected="non-negative integer bit masks",
                    found=f"{raw[bad]!r} in data row {bad + 1}",
                )
            states = raw.astype(np.int64)
            unknown = np.flatnonzero(states & ~_KNOWN_STATE_BITS)
            if unknown.size:
                values = sorted({int(value) for value in states[unknown]})[:5]
                raise InputFileError(
                    path=self.path,
                    field=self._state_column,
                    expected="bits 0-2 = LEDs (1 = 415, 2 = 470, 4 = 560 nm) and known bits 3-9 only",
                    found=f"unknown bits in values {values} (first in data row {int(unknown[0]) + 1})",
                )
            led_bits = states & _LED_BITS
        else:
            bits_of = {wavelength: bit for bit, wavelength in LED_WAVELENGTHS_IN_NM.items()}
            cycle = np.array([bits_of[wavelength] for wavelength in led_order or ()], dtype=np.int64)
            led_bits = cycle[np.arange(times.size) % cycle.size]
        n_on = (led_bits & 1) + ((led_bits >> 1) & 1) + ((led_bits >> 2) & 1)
        drop = bool(n_on[0] > 1) if drop_first_frame is None else drop_first_frame
        if drop:
            led_bits = led_bits.copy()
            led_bits[0] = 0
        several = np.flatnonzero(n_on > 1)
        several = several[several > 0] if drop else several
        if several.size:
            raise InputFileError(
                path=self.path,
                field=self._state_column or "LED order",
                expected="one LED per frame after the first",
                found=(
                    f"LEDs {_led_label(int(led_bits[several[0]]))} on together in data row "
                    f"{int(several[0]) + 1} ({several.size} such frames)"
                ),
            )
        if not np.any(led_bits):
            raise InputFileError(
                path=self.path,
                field=self._state_column or "LED order",
                expected="frames with an LED on",
                found="no LED bit set in any frame",
            )
        return _Frames(times_in_s=times, led_bits=led_bits, states=states)

    # -- contract --------------------------------------------------------------------------
    @property
    def session_start_time(self) -> datetime | None:
        """FP3002 CSVs carry no calendar date; ``None``."""
        return None

    def _stream_key(self, stream_name: str) -> tuple[str, int]:
        roi, _, wavelength = stream_name.rpartition("@")
        bits_of = {str(value): bit for bit, value in LED_WAVELENGTHS_IN_NM.items()}
        if roi not in self.roi_columns or bits_of.get(wavelength) not in self._leds:
            names = [f"{r}@{LED_WAVELENGTHS_IN_NM[bit]}" for bit in self._leds for r in self.roi_columns]
            raise InputFileError(path=self.path, field="stream", expected=f"one of {names}", found=repr(stream_name))
        return roi, bits_of[wavelength]

    def streams(self) -> Mapping[str, StreamInfo]:
        """One stream per LED and ROI, named ``<ROI>@<wavelength>``."""
        if self._stream_info is None:
            info: dict[str, StreamInfo] = {}
            for bit in self._leds:
                wavelength = LED_WAVELENGTHS_IN_NM[bit]
                times = self._frames.times_in_s[self._frames.led_bits == bit]
                timing = infer_sample_timing(
                    times=times,
                    path=self.path,
                    field=f"{self._time_column} of {wavelength} nm frames",
                    max_jitter_fraction=self.max_jitter_fraction,
                    time_origin_in_s=self.time_origin_in_s,
                )
                for roi in self.roi_columns:
                    name = f"{roi}@{wavelength}"
                    info[name] = StreamInfo(
                        name=name,
                        n_samples=int(times.size),
                        n_channels=1,
                        unit="a.u.",
                        rate_in_Hz=timing.rate_in_Hz,
                        starting_time_in_s=timing.starting_time_in_s,
                        timestamps_in_s=timing.timestamps_in_s,
                        channel_names=(name,),
                    )
            self._stream_info = info
        return self._stream_info

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        """Yield ``(n, 1)`` float64 chunks of one LED x ROI stream (reads the CSV in row chunks)."""
        roi, bit = self._stream_key(stream_name)
        keep = self._frames.led_bits == bit
        chunk_samples = max(int(chunk_samples), 1)
        row = 0
        pending = np.empty(0)
        for frame in self._csv(usecols=[roi], chunksize=chunk_samples):
            values = self._numeric(values=frame[roi].to_numpy(), column=roi)
            pending = np.concatenate((pending, values[keep[row : row + values.size]]))
            row += values.size
            while pending.size >= chunk_samples:
                yield pending[:chunk_samples, None]
                pending = pending[chunk_samples:]
        if pending.size:
            yield pending[:, None]
        if row != keep.size:
            raise InputFileError(
                path=self.path, field=roi, expected=f"{keep.size} rows", found=f"{row} rows (file changed?)"
            )

    def events(self) -> Mapping[str, EventChannel]:
        """Digital inputs from ``LedState`` / ``Flags`` bits 8 / 9 and from ``digital_input_paths``."""
        if self._events is None:
            events: dict[str, EventChannel] = {}
            if self._frames.states is not None:
                times = self._frames.times_in_s - self.time_origin_in_s
                for name, bit in DIGITAL_INPUT_BITS.items():
                    levels = ((self._frames.states >> bit) & 1).astype(bool)
                    if levels.any():
                        detector = EdgeDetector()
                        detector.feed(levels=levels, times=times)
                        events[name] = detector.event_channel(name=name)
            for path in self.digital_input_paths:
                for name, channel in read_npm_digital_inputs(path=path, time_origin_in_s=self.time_origin_in_s).items():
                    if name in events:
                        raise InputFileError(
                            path=path,
                            field="channel name",
                            expected=f"a name not already used by {self.path.name} or another table",
                            found=repr(name),
                        )
                    events[name] = channel
            self._events = events
        return self._events


# ----------------------------------------------------------------------------------------------
# Digital-input tables
# ----------------------------------------------------------------------------------------------
_GENERATION_COLUMNS: dict[int, tuple[str, ...]] = {
    1: ("Timestamp", "Value"),
    2: ("Timestamp", "Value.Seconds", "Value.Value"),
    3: ("ChannelName", "Channel", "AlwaysTrue", "SystemTimestamp", "ComputerTimestamp"),
}


def _as_levels(*, values: np.ndarray, path: Path, field: str) -> np.ndarray:
    text = np.array([str(value).strip().lower() for value in values])
    known = np.isin(text, ["true", "false", "1", "0", "1.0", "0.0"])
    if not np.all(known):
        bad = int(np.flatnonzero(~known)[0])
        raise InputFileError(
            path=path,
            field=field,
            expected="True/False (or 1/0)",
            found=f"{values[bad]!r} in data row {bad + 1}",
        )
    return np.isin(text, ["true", "1", "1.0"])


def read_npm_digital_inputs(
    *,
    path: str | Path,
    time_origin_in_s: float = 0.0,
    channel_name: str | None = None,
    time_column: str | None = None,
) -> dict[str, EventChannel]:
    """Read a Neurophotometrics digital-input CSV of any generation into event channels.

    Parameters
    ----------
    path : str or Path
        The digital-input CSV.
    time_origin_in_s : float
        Device time taken as zero (pass the photometry reader's ``time_origin_in_s``).
    channel_name : str, optional
        Name of the one channel of a generation-1/2 table (default: the file's stem).
    time_column : str, optional
        Generation 2 only: ``"Value.Seconds"`` (default, the event's own device time) or ``"Timestamp"``.

    Returns
    -------
    dict of str to EventChannel
        Generation 1/2: one channel with rising-edge onsets and falling-edge offsets. Generation 3:
        one channel per ``ChannelName`` with onsets only (offsets NaN).
    """
    path = Path(path)
    require_regular_file(path=path, expected="an existing CSV file")
    try:
        table = pd.read_csv(path, encoding="utf-8-sig", skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as error:
        raise InputFileError(path=path, field="table", expected="a CSV table", found=str(error)) from None
    columns = [str(name).strip() for name in table.columns]
    table.columns = columns
    generation = next((number for number in (3, 2, 1) if set(_GENERATION_COLUMNS[number]) <= set(columns)), None)
    if generation is None:
        expected = " | ".join(", ".join(names) for names in _GENERATION_COLUMNS.values())
        raise InputFileError(path=path, field="columns", expected=expected, found=", ".join(columns) or "none")
    if generation == 3:
        times = _numeric_column(table=table, column="SystemTimestamp", path=path) - time_origin_in_s
        names = table["ChannelName"].astype(str).str.strip().to_numpy()
        channels: dict[str, EventChannel] = {}
        for name in sorted(set(names)):
            onsets = np.sort(times[names == name])
            channels[name] = EventChannel(
                name=name,
                onset_times_in_s=onsets,
                values=np.ones(onsets.size),
                offset_times_in_s=np.full(onsets.size, np.nan),
            )
        return channels
    if generation == 2:
        time_column = time_column or "Value.Seconds"
        if time_column not in ("Value.Seconds", "Timestamp"):
            raise InputFileError(
                path=path,
                field="time_column",
                expected="'Value.Seconds' or 'Timestamp'",
                found=repr(time_column),
            )
        value_column = "Value.Value"
    else:
        time_column, value_column = "Timestamp", "Value"
    times = _numeric_column(table=table, column=time_column, path=path) - time_origin_in_s
    levels = _as_levels(values=table[value_column].to_numpy(), path=path, field=value_column)
    order = np.argsort(times, kind="stable")
    times, levels = times[order], levels[order]
    onsets = times[levels]
    name = channel_name or path.stem
    return {
        name: EventChannel(
            name=name,
            onset_times_in_s=onsets,
            values=np.ones(onsets.size),
            offset_times_in_s=pair_offsets(onsets=onsets, falling=times[~levels]),
        )
    }


def _as_numbers(values: np.ndarray) -> np.ndarray:
    """Values as float64, NaN where a cell is not a number."""
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)


def _numeric_column(*, table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    values = table[column].to_numpy()
    numbers = _as_numbers(values)
    if not np.all(np.isfinite(numbers)):
        bad = int(np.flatnonzero(~np.isfinite(numbers))[0])
        raise InputFileError(
            path=path,
            field=column,
            expected="a number in every row",
            found=f"{values[bad]!r} in data row {bad + 1}",
        )
    return numbers
