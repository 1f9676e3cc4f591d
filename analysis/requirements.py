"""What the analysis steps require of a file, declared as data, and what a file holds of it.

:class:`Inventory` is what the analysis finds in an open NWB file from its metadata and small tables
alone (no bulk sample is read): the photometry channels by table semantics (``measured_quantity`` +
``channel_role``), their timing, the hypnogram, EEG/EMG and the tracer infusions.
:func:`~ndx_glymphatic.analysis.session.read_session` reduces exactly the channels the inventory
chose, and the readiness gate (:mod:`~ndx_glymphatic.analysis.readiness`) evaluates the steps'
:class:`Requirement` objects against the same inventory, so gate and analysis look at the same things.

Each requirement kind is a small frozen dataclass holding what is required (a quantity, a rate, a
duration, the bout rule) and returning the problems it finds, one sentence each. A requirement is
silent when what it qualifies is absent: the requirement on that presence reports it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ndx_glymphatic.analysis import bouts
from ndx_glymphatic.analysis import preprocessing as pre

__all__ = [
    "CONTROL_ROLES",
    "ControlAtSignalRate",
    "ControlIsAControl",
    "ElectricalSeriesPresent",
    "HypnogramPresent",
    "InfusionForChannel",
    "Inventory",
    "MinimumDuration",
    "MinimumRate",
    "NamedControl",
    "NremBout",
    "NremInRecording",
    "Requirement",
    "SeriesTiming",
    "Severity",
    "SignalChannel",
    "inventory_of",
    "series_timing",
]

#: Channel roles that can serve as the control of a signal channel.
CONTROL_ROLES = ("isosbestic control", "reference control")

Severity = Literal["error", "warning"]

_TABLE_LOCATION = "/general/fiber_photometry/fiber_photometry_table"
_ELECTRICAL_SERIES = ("EEG", "EMG")


def series_timing(*, series: Any) -> tuple[float, float]:
    """Rate and starting time of a regularly sampled series (from ``timestamps`` if it has no rate).

    Parameters
    ----------
    series : pynwb.TimeSeries

    Returns
    -------
    rate_in_Hz, starting_time : float
    """
    if series.rate is not None:
        return float(series.rate), float(series.starting_time or 0.0)
    timestamps = series.timestamps
    n = len(timestamps)
    if n < 2:
        raise ValueError(f"series {series.name!r} has fewer than 2 timestamps")
    first, last = float(timestamps[0]), float(timestamps[n - 1])
    return (n - 1) / (last - first), first


@dataclass(frozen=True)
class SeriesTiming:
    """When a series was sampled, from its metadata.

    Attributes
    ----------
    name : str
        The series name.
    location : str
        Its path in the file.
    rate_in_Hz : float or None
        None when it cannot be told (fewer than two timestamps).
    start_in_s, stop_in_s : float
        First sample and end of the recording.
    n_samples : int
    """

    name: str
    location: str
    rate_in_Hz: float | None
    start_in_s: float
    stop_in_s: float
    n_samples: int

    @property
    def duration_in_s(self) -> float:
        """``stop_in_s - start_in_s``."""
        return self.stop_in_s - self.start_in_s


def _timing(*, series: Any, location: str) -> SeriesTiming:
    n_samples = int(series.data.shape[0])
    try:
        rate, start = series_timing(series=series)
    except (ValueError, ZeroDivisionError):
        start = float(series.timestamps[0]) if series.timestamps is not None and n_samples else 0.0
        return SeriesTiming(
            name=series.name, location=location, rate_in_Hz=None, start_in_s=start, stop_in_s=start,
            n_samples=n_samples,
        )
    stop = start + n_samples / rate if series.rate is not None else float(series.timestamps[n_samples - 1])
    return SeriesTiming(
        name=series.name, location=location, rate_in_Hz=rate, start_in_s=start, stop_in_s=stop, n_samples=n_samples
    )


def _location(*, series: Any) -> str:
    parent = getattr(series, "parent", None)
    if parent is not None and type(parent).__name__ == "ProcessingModule":
        return f"/processing/{parent.name}/{series.name}"
    return f"/acquisition/{series.name}"


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _first_infusion(*, nwbfile: Any, compartment: str) -> float | None:
    table = (nwbfile.intervals or {}).get("tracer_infusions")
    if table is None or len(table) == 0:
        return None
    starts = table["start_time"][:]
    tracers = table["tracer"][:] if "tracer" in table.colnames else [None] * len(starts)
    found = [
        float(start)
        for start, tracer in zip(starts, tracers)
        if getattr(tracer, "labeled_compartment", None) == compartment
    ]
    return min(found) if found else None


@dataclass(frozen=True)
class Inventory:
    """What the analysis finds in one file, from metadata and small tables.

    Attributes
    ----------
    has_channels_table : bool
        The file has a FiberPhotometryChannelsTable.
    channels : tuple of PhotometryChannel
        Every row of it (:func:`ndx_glymphatic.access.photometry_channels`), in row order.
    timings : dict
        Timing of each channel series, by series name.
    hypnogram : Hypnogram or None
        The scored rows (None when the file has no Hypnogram or an empty one).
    hypnogram_location : str
    electrical : dict
        Timing of the ``"EEG"`` and ``"EMG"`` ElectricalSeries that exist.
    infusion_start_in_s : dict
        First infusion of a tracer labelling each compartment (``"CSF"``, ``"blood plasma"``) that has one.
    """

    has_channels_table: bool
    channels: tuple[Any, ...]
    timings: dict[str, SeriesTiming]
    hypnogram: bouts.Hypnogram | None
    hypnogram_location: str
    electrical: dict[str, SeriesTiming]
    infusion_start_in_s: dict[str, float]

    def signal_rows(self, *, measured_quantity: str) -> list[Any]:
        """Every ``signal`` row measuring ``measured_quantity``, with or without data."""
        return [
            channel
            for channel in self.channels
            if channel.measured_quantity == measured_quantity and channel.channel_role == "signal"
        ]

    def signal(self, *, measured_quantity: str) -> Any | None:
        """The channel the analysis uses for ``measured_quantity``: the first signal row with data."""
        rows = self.signal_rows(measured_quantity=measured_quantity)
        return next((channel for channel in rows if channel.series is not None), None)

    def named_control(self, *, measured_quantity: str) -> Any | None:
        """The row the signal's ``control_channel`` points at (whatever its role), or None."""
        signal = self.signal(measured_quantity=measured_quantity)
        if signal is None or signal.control_channel < 0:
            return None
        return next((channel for channel in self.channels if channel.row == signal.control_channel), None)

    def control(self, *, measured_quantity: str) -> Any | None:
        """The control the analysis fits: the named control row when it is a control with data."""
        control = self.named_control(measured_quantity=measured_quantity)
        if control is None or control.channel_role not in CONTROL_ROLES or control.series is None:
            return None
        return control

    def signal_timing(self, *, measured_quantity: str) -> SeriesTiming | None:
        """Timing of the signal series of ``measured_quantity`` (None without one)."""
        signal = self.signal(measured_quantity=measured_quantity)
        return None if signal is None else self.timings[signal.series.name]

    def timing(self, *, series: str) -> SeriesTiming | None:
        """Timing of ``"EEG"``, ``"EMG"`` or the signal series of a measured quantity."""
        if series in _ELECTRICAL_SERIES:
            return self.electrical.get(series)
        return self.signal_timing(measured_quantity=series)


def inventory_of(*, nwbfile: Any) -> Inventory:
    """Take the inventory of an open NWB file (metadata and small tables only).

    Parameters
    ----------
    nwbfile : pynwb.NWBFile

    Returns
    -------
    Inventory
    """
    from ndx_glymphatic import FiberPhotometryChannelsTable
    from ndx_glymphatic.access import get_electrical_series, get_hypnogram, photometry_channels

    channels = tuple(photometry_channels(nwbfile=nwbfile))
    has_table = bool(channels) or any(
        isinstance(getattr(meta, "fiber_photometry_table", None), FiberPhotometryChannelsTable)
        for meta in nwbfile.lab_meta_data.values()
    )
    timings = {
        channel.series.name: _timing(series=channel.series, location=_location(series=channel.series))
        for channel in channels
        if channel.series is not None
    }
    table = get_hypnogram(nwbfile=nwbfile)
    hypnogram = None
    if table is not None and len(table) > 0:
        hypnogram = bouts.Hypnogram.from_rows(
            starts=np.asarray(table["start_time"].data[:], dtype=np.float64),
            stops=np.asarray(table["stop_time"].data[:], dtype=np.float64),
            states=[_text(state) for state in table["sleep_state"].data[:]],
        )
    electrical = {}
    for name in _ELECTRICAL_SERIES:
        series = get_electrical_series(nwbfile=nwbfile, name=name)
        if series is not None:
            electrical[name] = _timing(series=series, location=f"/acquisition/{name}")
    infusions = {}
    for compartment in ("CSF", "blood plasma"):
        start = _first_infusion(nwbfile=nwbfile, compartment=compartment)
        if start is not None:
            infusions[compartment] = start
    return Inventory(
        has_channels_table=has_table,
        channels=channels,
        timings=timings,
        hypnogram=hypnogram,
        hypnogram_location=f"/intervals/{table.name}" if table is not None else "/intervals",
        electrical=electrical,
        infusion_start_in_s=infusions,
    )


def _rate_text(rate_in_Hz: float | None) -> str:
    return "unknown" if rate_in_Hz is None else f"{rate_in_Hz:.4g} Hz"


def _label(*, series: str) -> str:
    return series if series in _ELECTRICAL_SERIES else f"the {series} signal"


# ----------------------------------------------------------------------------- requirement kinds


@dataclass(frozen=True, kw_only=True)
class Requirement(ABC):
    """One thing a step needs from a file.

    Attributes
    ----------
    name : str
        Name of the readiness check (and of its messages), e.g. ``analysis_hypnogram``.
    severity : {"error", "warning"}
        ``error``: without it the step's measures are undefined, so the gate refuses the file;
        ``warning``: the step is skipped or falls back, and says so in a note.
    why : str
        What the step needs it for (the hint of every message, after "the analysis needs").
    """

    name: str
    severity: Severity
    why: str

    @abstractmethod
    def problems(self, *, inventory: Inventory) -> list[str]:
        """The ways ``inventory`` falls short of the requirement, one sentence each ([] when met)."""


@dataclass(frozen=True, kw_only=True)
class SignalChannel(Requirement):
    """A ``signal`` photometry channel measuring ``measured_quantity``, with a series holding its data."""

    measured_quantity: str

    def problems(self, *, inventory: Inventory) -> list[str]:
        if not inventory.has_channels_table:
            return [
                f"The file has no FiberPhotometryChannelsTable, so no {self.measured_quantity} channel can be found."
            ]
        if inventory.signal(measured_quantity=self.measured_quantity) is not None:
            return []
        rows = inventory.signal_rows(measured_quantity=self.measured_quantity)
        found = "no row" if not rows else f"row {rows[0].row} but no FiberPhotometryResponseSeries pointing at it"
        return [f"No {self.measured_quantity} signal channel with data in {_TABLE_LOCATION}: {found}."]


@dataclass(frozen=True, kw_only=True)
class NamedControl(Requirement):
    """The signal names a control channel (``control_channel``) that has data."""

    measured_quantity: str

    def problems(self, *, inventory: Inventory) -> list[str]:
        signal = inventory.signal(measured_quantity=self.measured_quantity)
        if signal is None:
            return []
        if signal.control_channel < 0:
            return [f"The {self.measured_quantity} signal (row {signal.row}) names no control channel (-1)."]
        control = inventory.named_control(measured_quantity=self.measured_quantity)
        if control is not None and control.channel_role in CONTROL_ROLES and control.series is None:
            return [f"The {self.measured_quantity} control (row {control.row}) has no data series."]
        return []


@dataclass(frozen=True, kw_only=True)
class ControlIsAControl(Requirement):
    """A named control channel is a control row of the channels table."""

    measured_quantity: str

    def problems(self, *, inventory: Inventory) -> list[str]:
        signal = inventory.signal(measured_quantity=self.measured_quantity)
        if signal is None or signal.control_channel < 0:
            return []
        control = inventory.named_control(measured_quantity=self.measured_quantity)
        if control is None or control.channel_role not in CONTROL_ROLES:
            role = "no row" if control is None else f"a {control.channel_role!r} row"
            return [
                f"The {self.measured_quantity} signal's control_channel {signal.control_channel} is not a control "
                f"row of {_TABLE_LOCATION} (found {role})."
            ]
        return []


@dataclass(frozen=True, kw_only=True)
class ControlAtSignalRate(Requirement):
    """The fitted control is sampled at the signal's rate (a fit over every raw sample pairs them)."""

    measured_quantity: str

    def problems(self, *, inventory: Inventory) -> list[str]:
        signal = inventory.signal_timing(measured_quantity=self.measured_quantity)
        control = inventory.control(measured_quantity=self.measured_quantity)
        if signal is None or control is None:
            return []
        timing = inventory.timings[control.series.name]
        if timing.rate_in_Hz == signal.rate_in_Hz:
            return []
        return [
            f"The {self.measured_quantity} control ({timing.location}) is sampled at {_rate_text(timing.rate_in_Hz)}, "
            f"the signal ({signal.location}) at {_rate_text(signal.rate_in_Hz)}."
        ]


@dataclass(frozen=True, kw_only=True)
class MinimumRate(Requirement):
    """``series`` (``"EEG"``, ``"EMG"`` or a measured quantity's signal) sampled at >= ``min_rate_in_Hz``."""

    series: str
    min_rate_in_Hz: float

    def problems(self, *, inventory: Inventory) -> list[str]:
        timing = inventory.timing(series=self.series)
        if timing is None or (timing.rate_in_Hz is not None and timing.rate_in_Hz >= self.min_rate_in_Hz):
            return []
        return [
            f"{_label(series=self.series).capitalize()} ({timing.location}) is sampled at "
            f"{_rate_text(timing.rate_in_Hz)}, below {self.min_rate_in_Hz:g} Hz."
        ]


@dataclass(frozen=True, kw_only=True)
class MinimumDuration(Requirement):
    """``series`` recorded for >= ``min_duration_in_s``."""

    series: str
    min_duration_in_s: float

    def problems(self, *, inventory: Inventory) -> list[str]:
        timing = inventory.timing(series=self.series)
        if timing is None or timing.duration_in_s >= self.min_duration_in_s:
            return []
        return [
            f"The {self.series} recording ({timing.location}) lasts {timing.duration_in_s:.4g} s, shorter than "
            f"{self.min_duration_in_s:g} s."
        ]


@dataclass(frozen=True, kw_only=True)
class ElectricalSeriesPresent(Requirement):
    """An ElectricalSeries named ``series`` (``"EEG"`` or ``"EMG"``) in acquisition."""

    series: str

    def problems(self, *, inventory: Inventory) -> list[str]:
        if self.series in inventory.electrical:
            return []
        return [f"The file has no {self.series} series (an ElectricalSeries named {self.series!r} in /acquisition)."]


@dataclass(frozen=True, kw_only=True)
class HypnogramPresent(Requirement):
    """A Hypnogram with at least one row."""

    def problems(self, *, inventory: Inventory) -> list[str]:
        if inventory.hypnogram is not None:
            return []
        return [f"The file has no Hypnogram (scored sleep states) with rows in {inventory.hypnogram_location}."]


@dataclass(frozen=True, kw_only=True)
class NremInRecording(Requirement):
    """At least one NREM row overlapping the recording of ``series``."""

    series: str

    def problems(self, *, inventory: Inventory) -> list[str]:
        hypnogram = inventory.hypnogram
        if hypnogram is None:
            return []
        if _nrem_overlaps(hypnogram=hypnogram, timing=inventory.timing(series=self.series)):
            return []
        where = f" within the {self.series} recording" if inventory.timing(series=self.series) is not None else ""
        n_total = int(np.count_nonzero(hypnogram.states == "NREM"))
        return [
            f"The hypnogram {inventory.hypnogram_location} has no NREM interval{where} "
            f"({n_total} NREM row(s) in total)."
        ]


def _nrem_overlaps(*, hypnogram: bouts.Hypnogram, timing: SeriesTiming | None) -> bool:
    low, high = (-np.inf, np.inf) if timing is None else (timing.start_in_s, timing.stop_in_s)
    nrem = hypnogram.states == "NREM"
    return bool(np.any(nrem & (hypnogram.stops > low) & (hypnogram.starts < high)))


@dataclass(frozen=True, kw_only=True)
class NremBout(Requirement):
    """At least one NREM bout (by ``rule``) of >= ``min_bout_in_s`` on the grid ``series`` is decimated onto.

    The bouts are found and cut to the grid by the functions the analysis steps use
    (:meth:`BoutRule.nrem_bouts`, :func:`~ndx_glymphatic.analysis.bouts.bout_sample_ranges`). Only what
    the metadata tell is known here: gaps of missing samples inside a bout (which the steps split
    bouts at) are the data-integrity checks' concern.

    Attributes
    ----------
    series : str
        The measured quantity whose signal sets the grid.
    min_bout_in_s : float
    rule : BoutRule
    decimation : tuple of (int, int, float)
        ``(decimation_factor, smoothing_window_samples, reference_rate_in_Hz)`` of the preprocessing.
    """

    series: str
    min_bout_in_s: float
    rule: bouts.BoutRule
    decimation: tuple[int, int, float]

    def problems(self, *, inventory: Inventory) -> list[str]:
        hypnogram = inventory.hypnogram
        timing = inventory.timing(series=self.series)
        if hypnogram is None or timing is None or timing.rate_in_Hz is None:
            return []
        if not _nrem_overlaps(hypnogram=hypnogram, timing=timing):
            return []
        factor, window, reference = self.decimation
        factor, _ = pre.decimation_for_rate(
            rate_in_Hz=timing.rate_in_Hz,
            decimation_factor=factor,
            smoothing_window_samples=window,
            reference_rate_in_Hz=reference,
        )
        rate, start, n_samples = pre.decimated_grid(
            rate_in_Hz=timing.rate_in_Hz, starting_time=timing.start_in_s, n_samples=timing.n_samples,
            decimation_factor=factor,
        )
        nrem = self.rule.nrem_bouts(hypnogram=hypnogram)
        grid = {"bouts": nrem, "starting_time": start, "rate_in_Hz": rate, "n_samples": n_samples}
        if bouts.bout_sample_ranges(**grid, min_duration_in_s=self.min_bout_in_s):
            return []
        longest = max((b - a for a, b in bouts.bout_sample_ranges(**grid)), default=0) / rate
        return [
            f"The longest NREM bout of {inventory.hypnogram_location} within the {self.series} recording lasts "
            f"{longest:.4g} s, shorter than {self.min_bout_in_s:g} s ({len(nrem)} bout(s))."
        ]


@dataclass(frozen=True, kw_only=True)
class InfusionForChannel(Requirement):
    """When a ``measured_quantity`` channel has data, an infusion of a tracer labelling ``compartment``."""

    measured_quantity: str
    compartment: str

    def problems(self, *, inventory: Inventory) -> list[str]:
        if inventory.signal(measured_quantity=self.measured_quantity) is None:
            return []
        if self.compartment in inventory.infusion_start_in_s:
            return []
        return [
            f"A {self.measured_quantity} channel is recorded but no infusion of a tracer labelling the "
            f"{self.compartment} is stored (/intervals/tracer_infusions)."
        ]
