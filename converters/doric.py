"""Readers for Doric Neuroscience Studio recordings: ``.doric`` (HDF5, V1 and V6 layouts) and CSV exports.

Layouts read:

V1 (older Neuroscience Studio)
    ``Traces/<Console>/Time(s)/Console_time(s)`` holds the one time vector every channel shares;
    each channel is ``Traces/<Console>/<name>/<name>`` with names such as ``AIn-1 - Raw``,
    ``AIn-1 - Dem (AOut-1)``, ``AOut-1`` and digital lines ``DI--O-1``.
V6 (Neuroscience Studio 6)
    ``DataAcquisition/<Console>/Signals/SeriesNNNN/<group>/<dataset>`` with a sibling ``Time`` dataset
    in every group: ``AnalogIn/AIN01``, ``AnalogOut/AOUT01``, ``DigitalIO/DIO01``, lock-in
    ``AIN01xAOUT01-LockIn/Values`` (older) or ``LockInAOUT01/AIN01`` (newer), camera ROIs
    ``CAM1_EXC1/ROI01``. Consoles are ``FPConsole``, ``NC500`` or ``BFPD``; a file may hold several
    series (one per start/stop of the acquisition), chosen with the ``series`` keyword.
CSV export
    two header rows (a free descriptor row and the column row ``Time(s), AIn-1 - Dem (AOut-1), ...,
    DI/O-1``) then one row per sample.

Stream names are the names the rig writes. V6: the group path inside the series, followed by
``/<dataset>`` unless the dataset is the group's only ``Values`` dataset (``AnalogIn/AIN01``,
``LockInAOUT01/AIN01``, ``AIN01xAOUT01-LockIn``, ``CAM1_EXC1/ROI01``). V1 and CSV: the channel
name (``AIn-1 - Dem (AOut-1)``). Digital lines (V6 ``DigitalIO/DIOnn``, V1 ``DI--O-n``, CSV
``DI/O-n``) are not streams but :class:`EventChannel` s named ``DIOnn`` / ``DI--O-n`` / ``DI/O-n``
holding their rising edges (onsets) and falling edges (offsets).

Timing: a stream is regularly sampled when every time deviates from the grid
``t0 + i / rate`` (rate from the first and last time, which for a gap-free vector equals one over the
median interval but does not accumulate rounding over a day) by at most ``max_jitter_fraction`` of a
sample period; it is then described by rate and starting time. Otherwise its timestamps are kept.

The timing and edge helpers live in :mod:`ndx_glymphatic.converters._timing`, shared with the
Neurophotometrics and pyPhotometry readers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import h5py
import numpy as np
import pandas as pd

from ndx_glymphatic.converters._contract import EventChannel, RigReader, StreamInfo
from ndx_glymphatic.converters._paths import require_regular_file
from ndx_glymphatic.converters._timing import EdgeDetector, SampleTiming, infer_sample_timing
from ndx_glymphatic.converters.hdf5_safety import refuse_links_leaving_file
from ndx_glymphatic.errors import InputFileError

__all__ = [
    "DoricCsvReader",
    "DoricFileReader",
]

#: Consoles Neuroscience Studio 6 writes under ``DataAcquisition``.
V6_CONSOLES: tuple[str, ...] = ("FPConsole", "NC500", "BFPD")

_V1_TIME_GROUP = "Time(s)"
_V1_DIGITAL = re.compile(r"^DI[-/]+O-\d+$")
_V6_DIGITAL_GROUP = "DigitalIO"
_V6_SERIES = re.compile(r"^Series\d+$")
_CSV_TIME = "Time(s)"


def _decode(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _decode(value.item())
    return str(value)


# ----------------------------------------------------------------------------------------------
# .doric (HDF5)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Source:
    """Where one stream's samples and times live inside the HDF5 file."""

    name: str
    data_path: str
    time_path: str
    unit: str
    label: str


class DoricFileReader(RigReader):
    """Reader of a Doric Neuroscience Studio ``.doric`` file (V1 or V6 layout).

    Parameters
    ----------
    path : str or Path
        The ``.doric`` file.
    series : str, optional
        V6 only: which ``SeriesNNNN`` to read. Default: the first (see :attr:`available_series`).
    console : str, optional
        V6 only: which console group under ``DataAcquisition`` to read. Default: the first present.
    max_jitter_fraction : float
        Largest deviation of a time from the regular grid, as a fraction of the sample period, for a
        stream to count as regularly sampled.
    digital_threshold : float
        Level above which a digital sample counts as high.
    """

    format = "doric"
    format_name = "Doric Neuroscience Studio .doric"
    modalities = ("photometry",)
    options = ("series",)

    def __init__(
        self,
        *,
        path: str | Path,
        series: str | None = None,
        console: str | None = None,
        max_jitter_fraction: float = 0.1,
        digital_threshold: float = 0.5,
    ) -> None:
        super().__init__(path=path)
        self.max_jitter_fraction = max_jitter_fraction
        self.digital_threshold = digital_threshold
        self._stream_info: dict[str, StreamInfo] | None = None
        self._events: dict[str, EventChannel] | None = None
        self.available_series: tuple[str, ...] = ()
        #: V6 datasets that are not 1-D signals (e.g. image stacks), left out of the streams.
        self.skipped_datasets: tuple[str, ...] = ()
        self.series: str | None = None
        self.console: str | None = None
        with self._open() as handle:
            top = sorted(handle.keys())
            if "DataAcquisition" in handle:
                self.layout: Literal["V1", "V6"] = "V6"
                self._sources, self._digital = self._scan_v6(handle=handle, series=series, console=console)
            elif "Traces" in handle:
                self.layout = "V1"
                self._sources, self._digital = self._scan_v1(handle=handle)
            else:
                raise InputFileError(
                    path=self.path,
                    field="top-level groups",
                    expected="'DataAcquisition' (+ 'Configurations', V6 layout) or 'Traces' (V1 layout)",
                    found=repr(top) if top else "no groups",
                )

    # -- opening and scanning --------------------------------------------------------------
    def _open(self) -> h5py.File:
        require_regular_file(path=self.path, expected="an existing .doric file")
        try:
            handle = h5py.File(self.path, "r")
        except OSError as error:
            raise InputFileError(
                path=self.path, field="file", expected="an HDF5 (.doric) file", found=f"unreadable: {error}"
            ) from None
        try:
            refuse_links_leaving_file(path=self.path, h5file=handle)
        except BaseException:
            handle.close()
            raise
        return handle

    def _check_pair(self, *, handle: h5py.File, data_path: str, time_path: str) -> None:
        data = handle[data_path]
        time = handle[time_path]
        if data.ndim != 1 or time.ndim != 1:
            raise InputFileError(
                path=self.path,
                field=data_path,
                expected="1-D dataset and 1-D Time",
                found=f"shapes {data.shape} and {time.shape}",
            )
        if data.shape[0] != time.shape[0]:
            raise InputFileError(
                path=self.path,
                field=data_path,
                expected=f"as many samples as {time_path} ({time.shape[0]})",
                found=f"{data.shape[0]} samples",
            )

    def _scan_v1(self, *, handle: h5py.File) -> tuple[dict[str, _Source], dict[str, _Source]]:
        traces = handle["Traces"]
        consoles = [key for key in traces if isinstance(traces[key], h5py.Group)]
        if not consoles:
            raise InputFileError(
                path=self.path, field="Traces", expected="a console group (e.g. 'Console')", found="none"
            )
        sources: dict[str, _Source] = {}
        digital: dict[str, _Source] = {}
        for console in consoles:
            group = traces[console]
            time_path = self._v1_time_path(group=group)
            prefix = f"{console}/" if len(consoles) > 1 else ""
            for key in group:
                if key == _V1_TIME_GROUP:
                    continue
                item = group[key]
                dataset = item.get(key) if isinstance(item, h5py.Group) else item
                if not isinstance(dataset, h5py.Dataset):
                    continue
                self._check_pair(handle=handle, data_path=dataset.name, time_path=time_path)
                source = _Source(
                    name=prefix + key,
                    data_path=dataset.name,
                    time_path=time_path,
                    unit=_decode(dataset.attrs.get("Unit", "V")),
                    label=key,
                )
                (digital if _V1_DIGITAL.match(key) else sources)[source.name] = source
        return sources, digital

    def _v1_time_path(self, *, group: h5py.Group) -> str:
        time_group = group.get(_V1_TIME_GROUP)
        if isinstance(time_group, h5py.Group):
            names = [key for key in time_group if isinstance(time_group[key], h5py.Dataset)]
            if names:
                preferred = [name for name in names if name.endswith("time(s)")]
                return time_group[(preferred or names)[0]].name
        raise InputFileError(
            path=self.path,
            field=f"{group.name}/{_V1_TIME_GROUP}",
            expected="a time dataset such as 'Console_time(s)'",
            found="no time dataset",
        )

    def _scan_v6(
        self, *, handle: h5py.File, series: str | None, console: str | None
    ) -> tuple[dict[str, _Source], dict[str, _Source]]:
        acquisition = handle["DataAcquisition"]
        consoles = [key for key in acquisition if isinstance(acquisition[key].get("Signals"), h5py.Group)]
        if not consoles:
            raise InputFileError(
                path=self.path,
                field="DataAcquisition",
                expected=f"a console group with 'Signals' (one of {', '.join(V6_CONSOLES)})",
                found=repr(sorted(acquisition.keys())),
            )
        if console is None:
            console = consoles[0]
        elif console not in consoles:
            raise InputFileError(
                path=self.path, field="DataAcquisition", expected=f"console {console!r}", found=repr(consoles)
            )
        signals = acquisition[console]["Signals"]
        available = tuple(sorted(key for key in signals if _V6_SERIES.match(key)))
        if not available:
            raise InputFileError(
                path=self.path,
                field=signals.name,
                expected="one or more 'SeriesNNNN' groups",
                found=repr(sorted(signals.keys())),
            )
        if series is None:
            series = available[0]
        elif series not in available:
            raise InputFileError(
                path=self.path, field=signals.name, expected=f"series {series!r}", found=repr(list(available))
            )
        self.available_series = available
        self.series = series
        self.console = console
        root = signals[series]
        sources: dict[str, _Source] = {}
        digital: dict[str, _Source] = {}
        for group_path, group in _groups_with_datasets(group=root):
            datasets = [key for key in group if isinstance(group[key], h5py.Dataset) and key != "Time"]
            data_names = sorted(key for key in datasets if group[key].ndim == 1)
            self.skipped_datasets += tuple(group[key].name for key in datasets if group[key].ndim != 1)
            if not data_names:
                continue
            if "Time" not in group or not isinstance(group["Time"], h5py.Dataset):
                raise InputFileError(
                    path=self.path,
                    field=group.name,
                    expected="a sibling 'Time' dataset beside the data",
                    found=f"datasets {data_names} and no Time",
                )
            time_path = group["Time"].name
            for data_name in data_names:
                dataset = group[data_name]
                self._check_pair(handle=handle, data_path=dataset.name, time_path=time_path)
                if group_path.split("/")[0] == _V6_DIGITAL_GROUP:
                    name = data_name
                elif data_name == "Values" and len(data_names) == 1:
                    name = group_path
                else:
                    name = f"{group_path}/{data_name}"
                default_unit = "a.u." if group_path.startswith("CAM") else "V"
                source = _Source(
                    name=name,
                    data_path=dataset.name,
                    time_path=time_path,
                    unit=_decode(dataset.attrs.get("Unit", default_unit)),
                    label=_decode(dataset.attrs.get("Username", name)),
                )
                (digital if group_path.split("/")[0] == _V6_DIGITAL_GROUP else sources)[name] = source
        return sources, digital

    # -- contract --------------------------------------------------------------------------
    @property
    def session_start_time(self) -> datetime | None:
        """Doric files carry no reliable wall-clock start; ``None``."""
        return None

    def streams(self) -> Mapping[str, StreamInfo]:
        """Every analog / lock-in / camera stream of the chosen series, by name."""
        if self._stream_info is None:
            info: dict[str, StreamInfo] = {}
            timings: dict[str, SampleTiming] = {}
            with self._open() as handle:
                for name, source in self._sources.items():
                    if source.time_path not in timings:
                        timings[source.time_path] = infer_sample_timing(
                            times=handle[source.time_path],
                            path=self.path,
                            field=source.time_path,
                            max_jitter_fraction=self.max_jitter_fraction,
                        )
                    timing = timings[source.time_path]
                    info[name] = StreamInfo(
                        name=name,
                        n_samples=int(handle[source.data_path].shape[0]),
                        n_channels=1,
                        unit=source.unit,
                        rate_in_Hz=timing.rate_in_Hz,
                        starting_time_in_s=timing.starting_time_in_s,
                        timestamps_in_s=timing.timestamps_in_s,
                        channel_names=(source.label,),
                    )
            self._stream_info = info
        return self._stream_info

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        """Yield ``(n, 1)`` float64 chunks of one stream, read by HDF5 slicing."""
        if stream_name not in self._sources:
            raise InputFileError(
                path=self.path,
                field="stream",
                expected=f"one of {sorted(self._sources)}",
                found=repr(stream_name),
            )
        source = self._sources[stream_name]
        with self._open() as handle:
            dataset = handle[source.data_path]
            for start in range(0, dataset.shape[0], chunk_samples):
                yield np.asarray(dataset[start : start + chunk_samples], dtype=np.float64)[:, None]

    def events(self) -> Mapping[str, EventChannel]:
        """Digital lines as rising (onset) / falling (offset) edges, by name (``DIO01``, ``DI--O-1``)."""
        if self._events is None:
            events: dict[str, EventChannel] = {}
            with self._open() as handle:
                for name, source in self._digital.items():
                    detector = EdgeDetector()
                    data = handle[source.data_path]
                    time = handle[source.time_path]
                    step = 1_000_000
                    for start in range(0, data.shape[0], step):
                        levels = np.asarray(data[start : start + step], dtype=np.float64) > self.digital_threshold
                        times = np.asarray(time[start : start + step], dtype=np.float64)
                        detector.feed(levels=levels, times=times)
                    events[name] = detector.event_channel(name=name)
            self._events = events
        return self._events


def _groups_with_datasets(*, group: h5py.Group, prefix: str = "") -> Iterator[tuple[str, h5py.Group]]:
    """Every group below ``group`` (any depth) that directly holds datasets, with its relative path."""
    if any(isinstance(group[key], h5py.Dataset) for key in group) and prefix:
        yield prefix, group
    for key in group:
        item = group[key]
        if isinstance(item, h5py.Group):
            yield from _groups_with_datasets(group=item, prefix=f"{prefix}/{key}" if prefix else key)


# ----------------------------------------------------------------------------------------------
# CSV export
# ----------------------------------------------------------------------------------------------
class DoricCsvReader(RigReader):
    """Reader of a Doric Neuroscience Studio CSV export.

    The file has two header rows: a descriptor row (ignored) and the column row, whose first cell is
    ``Time(s)``; the header row may also be the first row. Columns named ``DI/O-n`` (or ``DI--O-n``)
    are digital lines and become :class:`EventChannel` s; every other column is a one-channel stream.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    max_jitter_fraction : float
        As for :class:`DoricFileReader`.
    digital_threshold : float
        Level above which a digital sample counts as high.
    """

    format = "doric"
    format_name = "Doric Neuroscience Studio CSV export"
    modalities = ("photometry",)
    suffixes = (".csv",)

    def __init__(self, *, path: str | Path, max_jitter_fraction: float = 0.1, digital_threshold: float = 0.5) -> None:
        super().__init__(path=path)
        self.max_jitter_fraction = max_jitter_fraction
        self.digital_threshold = digital_threshold
        require_regular_file(path=self.path, expected="an existing CSV file")
        self._header_rows, self.columns = self._read_header()
        self._stream_info: dict[str, StreamInfo] | None = None
        self._events: dict[str, EventChannel] | None = None

    def _read_header(self) -> tuple[int, tuple[str, ...]]:
        with self.path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            rows = [row for _, row in zip(range(2), csv.reader(handle))]
        for index, row in enumerate(rows):
            cells = [cell.strip() for cell in row]
            if cells and cells[0] == _CSV_TIME:
                columns = tuple(cell for cell in cells if cell)
                if len(columns) < 2:
                    break
                return index + 1, columns
        found = " | ".join(",".join(row)[:80] for row in rows) or "an empty file"
        raise InputFileError(
            path=self.path,
            field="header rows",
            expected=f"a column row starting with '{_CSV_TIME}' in the first two rows, then channel columns",
            found=found,
        )

    def _read_columns(self, *, names: Sequence[str], chunk_samples: int) -> Iterator[np.ndarray]:
        try:
            reader = pd.read_csv(
                self.path,
                skiprows=self._header_rows,
                header=None,
                names=list(self.columns),
                usecols=list(names),
                dtype=np.float64,
                chunksize=chunk_samples,
                encoding="utf-8-sig",
            )
            for frame in reader:
                yield frame[list(names)].to_numpy(dtype=np.float64)
        except ValueError as error:
            raise InputFileError(
                path=self.path, field=", ".join(names), expected="numbers in every row", found=str(error)
            ) from None

    def _digital_names(self) -> list[str]:
        return [name for name in self.columns[1:] if _V1_DIGITAL.match(name)]

    @property
    def session_start_time(self) -> datetime | None:
        """CSV exports carry no wall-clock start; ``None``."""
        return None

    def streams(self) -> Mapping[str, StreamInfo]:
        """Every non-digital column as a one-channel stream on the shared ``Time(s)`` column."""
        if self._stream_info is None:
            times = np.concatenate(list(self._read_columns(names=[_CSV_TIME], chunk_samples=1_000_000)))[:, 0]
            timing = infer_sample_timing(
                times=times, path=self.path, field=_CSV_TIME, max_jitter_fraction=self.max_jitter_fraction
            )
            digital = set(self._digital_names())
            self._stream_info = {
                name: StreamInfo(
                    name=name,
                    n_samples=int(times.size),
                    n_channels=1,
                    unit="V",
                    rate_in_Hz=timing.rate_in_Hz,
                    starting_time_in_s=timing.starting_time_in_s,
                    timestamps_in_s=timing.timestamps_in_s,
                    channel_names=(name,),
                )
                for name in self.columns[1:]
                if name not in digital
            }
        return self._stream_info

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        """Yield ``(n, 1)`` float64 chunks of one column."""
        analog = [name for name in self.columns[1:] if name not in self._digital_names()]
        if stream_name not in analog:
            raise InputFileError(path=self.path, field="stream", expected=f"one of {analog}", found=repr(stream_name))
        yield from self._read_columns(names=[stream_name], chunk_samples=chunk_samples)

    def events(self) -> Mapping[str, EventChannel]:
        """Digital columns (``DI/O-n``) as rising / falling edges."""
        if self._events is None:
            names = self._digital_names()
            detectors = {name: EdgeDetector() for name in names}
            if names:
                for block in self._read_columns(names=[_CSV_TIME, *names], chunk_samples=1_000_000):
                    for column, name in enumerate(names, start=1):
                        detectors[name].feed(levels=block[:, column] > self.digital_threshold, times=block[:, 0])
            self._events = {name: detector.event_channel(name=name) for name, detector in detectors.items()}
        return self._events
