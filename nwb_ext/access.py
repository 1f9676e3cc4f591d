"""Find the parts of an ndx-glymphatic file by what they are, not by what they are named.

Converters may name series after rig stores; analysis and validators find the norepinephrine
signal, its control, the blood-volume and CSF-tracer channels, the hypnogram and the condition
through the semantics stored in the file (FiberPhotometryChannelsTable, Hypnogram, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from ndx_fiber_photometry import FiberPhotometry, FiberPhotometryResponseSeries
from pynwb import NWBFile
from pynwb.ecephys import ElectricalSeries

from ndx_glymphatic import ExperimentalCondition, FiberPhotometryChannelsTable, Hypnogram

__all__ = [
    "PhotometryChannel",
    "find_photometry_channel",
    "get_electrical_series",
    "get_experimental_condition",
    "get_hypnogram",
    "photometry_channels",
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
