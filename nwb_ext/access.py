"""Find the parts of an ndx-glymphatic file by what they are, not by what they are named.

Converters may name series after rig stores; analysis and validators find the norepinephrine
signal, its control, the blood-volume and CSF-tracer channels, the hypnogram and the condition
through the semantics stored in the file (FiberPhotometryChannelsTable, Hypnogram, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ndx_fiber_photometry import FiberPhotometry, FiberPhotometryResponseSeries
from pynwb import NWBFile
from pynwb.ecephys import ElectricalSeries

from ndx_glymphatic import ExperimentalCondition, FiberPhotometryChannelsTable, Hypnogram

__all__ = [
    "PhotometryChannel",
    "PynappleSession",
    "find_photometry_channel",
    "get_electrical_series",
    "get_experimental_condition",
    "get_hypnogram",
    "photometry_channels",
    "to_pynapple",
]


@dataclass(frozen=True)
class PhotometryChannel:
    """One row of the FiberPhotometryChannelsTable with the series that holds its samples.

    Attributes
    ----------
    row : int
        Row index in the channels table.
    measured_quantity : str
        E.g. "norepinephrine", "cerebral blood volume", "CSF tracer".
    channel_role : str
        "signal", "isosbestic control" or "reference control".
    control_channel : int
        Row index of this channel's control, -1 when none.
    excitation_wavelength_in_nm : float
        Excitation wavelength of the channel.
    series : FiberPhotometryResponseSeries or None
        The series holding the channel's samples (``None`` when the file has none for this row).
    column : int
        Column of ``series.data`` holding this channel (0 for 1-D series).
    """

    row: int
    measured_quantity: str
    channel_role: str
    control_channel: int
    excitation_wavelength_in_nm: float
    series: FiberPhotometryResponseSeries | None
    column: int = 0


def _channels_table(*, nwbfile: NWBFile) -> FiberPhotometryChannelsTable | None:
    for lab_meta_data in nwbfile.lab_meta_data.values():
        if isinstance(lab_meta_data, FiberPhotometry) and isinstance(
            lab_meta_data.fiber_photometry_table, FiberPhotometryChannelsTable
        ):
            return lab_meta_data.fiber_photometry_table
    return None


def _series_by_row(*, nwbfile: NWBFile) -> dict[int, tuple[FiberPhotometryResponseSeries, int]]:
    series_by_row: dict[int, tuple[FiberPhotometryResponseSeries, int]] = {}
    containers = list(nwbfile.acquisition.values())
    for module in nwbfile.processing.values():
        containers.extend(module.data_interfaces.values())
    for container in containers:
        if not isinstance(container, FiberPhotometryResponseSeries):
            continue
        region = container.fiber_photometry_table_region
        if region is None:
            continue
        for column, row in enumerate(region.data[:]):
            series_by_row.setdefault(int(row), (container, column))
    return series_by_row


def photometry_channels(*, nwbfile: NWBFile) -> list[PhotometryChannel]:
    """All photometry channels described in the file's FiberPhotometryChannelsTable, in row order.

    Only series in ``acquisition`` (raw) and processing modules are searched; the first series that
    references a row is taken as that row's data.
    """
    table = _channels_table(nwbfile=nwbfile)
    if table is None:
        return []
    series_by_row = _series_by_row(nwbfile=nwbfile)
    channels = []
    for row in range(len(table)):
        series, column = series_by_row.get(row, (None, 0))
        channels.append(
            PhotometryChannel(
                row=row,
                measured_quantity=str(table["measured_quantity"][row]),
                channel_role=str(table["channel_role"][row]),
                control_channel=int(table["control_channel"][row]),
                excitation_wavelength_in_nm=float(table["excitation_wavelength_in_nm"][row]),
                series=series,
                column=column,
            )
        )
    return channels


def find_photometry_channel(
    *, nwbfile: NWBFile, measured_quantity: str, channel_role: str = "signal"
) -> PhotometryChannel | None:
    """The first channel measuring ``measured_quantity`` in ``channel_role``, or ``None``.

    For a control, ask for the signal first and follow its ``control_channel``.
    """
    for channel in photometry_channels(nwbfile=nwbfile):
        if channel.measured_quantity == measured_quantity and channel.channel_role == channel_role:
            return channel
    return None


def get_hypnogram(*, nwbfile: NWBFile) -> Hypnogram | None:
    """The file's Hypnogram (``/intervals/sleep_states`` by convention, found by type)."""
    intervals = nwbfile.intervals or {}
    preferred = intervals.get("sleep_states")
    if isinstance(preferred, Hypnogram):
        return preferred
    for table in intervals.values():
        if isinstance(table, Hypnogram):
            return table
    return None


def get_experimental_condition(*, nwbfile: NWBFile) -> ExperimentalCondition | None:
    """The file's ExperimentalCondition, or ``None``."""
    for lab_meta_data in nwbfile.lab_meta_data.values():
        if isinstance(lab_meta_data, ExperimentalCondition):
            return lab_meta_data
    return None


def get_electrical_series(*, nwbfile: NWBFile, name: str) -> ElectricalSeries | None:
    """The ElectricalSeries ``"EEG"`` or ``"EMG"`` (by convention) in acquisition, or ``None``."""
    series = nwbfile.acquisition.get(name)
    return series if isinstance(series, ElectricalSeries) else None


# ------------------------------------------------------------------------------------------- pynapple
@dataclass(frozen=True)
class PynappleSession:
    """A file's contents as pynapple objects (:func:`to_pynapple`).

    Attributes
    ----------
    sleep_states : dict of IntervalSet
        One per sleep state of the Hypnogram (``"NREM"``, ``"wake"``, ...).
    photometry : dict of Tsd
        Acquired photometry channels by measured quantity: a signal under its quantity
        (``"norepinephrine"``), a control under ``"<quantity> (<role>)"``.
    ttl_events : dict of Ts
        Each ``events/ttl_*`` EventsTable, by table name.
    dff : dict of Tsd
        A derived file's dF/F series (``processing/ophys/<channel>_dff``), by name.
    intervals : dict of IntervalSet
        A derived file's intervals (``nrem_bouts``).
    events : dict of Ts
        A derived file's detected events (``ne_peaks``, ``spindles``, ...).
    """

    sleep_states: dict[str, Any] = field(default_factory=dict)
    photometry: dict[str, Any] = field(default_factory=dict)
    ttl_events: dict[str, Any] = field(default_factory=dict)
    dff: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)


def _times_of(*, series: Any) -> Any:
    import numpy as np

    if series.timestamps is not None:
        return np.asarray(series.timestamps[:], dtype=np.float64)
    n_samples = int(series.data.shape[0])
    return float(series.starting_time or 0.0) + np.arange(n_samples, dtype=np.float64) / float(series.rate)


def _tsd(*, series: Any, column: int = 0) -> Any:
    import numpy as np
    import pynapple as nap

    data = series.data[:] if len(series.data.shape) == 1 else series.data[:, column]
    scale = float(getattr(series, "conversion", 1.0) or 1.0)
    offset = float(getattr(series, "offset", 0.0) or 0.0)
    return nap.Tsd(t=_times_of(series=series), d=np.asarray(data, dtype=np.float64) * scale + offset)


def to_pynapple(*, nwbfile: NWBFile) -> PynappleSession:
    """The file's sleep states, photometry, TTL events (and a derived file's dF/F, bouts, events) as pynapple objects.

    pynapple is optional (``pip install "ndx-glymphatic[pynapple]"``). Photometry samples are read into
    memory: for long raw files use the derived file of ``glymph analyze --write-derived`` (~10 Hz).

    Parameters
    ----------
    nwbfile : NWBFile
        An open ndx-glymphatic file, raw or derived.

    Returns
    -------
    PynappleSession

    Raises
    ------
    ImportError
        pynapple is not installed.
    """
    import numpy as np

    try:
        import pynapple as nap
    except ImportError as error:
        raise ImportError('to_pynapple needs pynapple: pip install "ndx-glymphatic[pynapple]"') from error
    from pynwb.event import EventsTable

    session = PynappleSession()
    hypnogram = get_hypnogram(nwbfile=nwbfile)
    if hypnogram is not None:
        starts = np.asarray(hypnogram["start_time"][:], dtype=np.float64)
        stops = np.asarray(hypnogram["stop_time"][:], dtype=np.float64)
        states = np.asarray([str(state) for state in hypnogram["sleep_state"][:]])
        for state in sorted(set(states)):
            keep = states == state
            session.sleep_states[state] = nap.IntervalSet(start=starts[keep], end=stops[keep])
    for channel in photometry_channels(nwbfile=nwbfile):
        series = channel.series
        if series is None or series.name not in nwbfile.acquisition:
            continue
        key = channel.measured_quantity
        if channel.channel_role != "signal":
            key = f"{key} ({channel.channel_role})"
        session.photometry.setdefault(key, _tsd(series=series, column=channel.column))
    for name, table in (nwbfile.events or {}).items():
        if isinstance(table, EventsTable):
            times = nap.Ts(t=np.asarray(table["timestamp"][:], dtype=np.float64))
            (session.ttl_events if name.startswith("ttl_") else session.events)[name] = times
    ophys = nwbfile.processing.get("ophys")
    if ophys is not None:
        for name, series in ophys.data_interfaces.items():
            if name.endswith("_dff") and isinstance(series, FiberPhotometryResponseSeries):
                session.dff[name] = _tsd(series=series)
    bouts = (nwbfile.intervals or {}).get("nrem_bouts")
    if bouts is not None:
        session.intervals["nrem_bouts"] = nap.IntervalSet(
            start=np.asarray(bouts["start_time"][:], dtype=np.float64),
            end=np.asarray(bouts["stop_time"][:], dtype=np.float64),
        )
    return session
