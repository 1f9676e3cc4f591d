"""Write synthetic Doric Neuroscience Studio files (``.doric`` V6 and V1, CSV) for tests and the simulator.

The layouts are those :mod:`ndx_glymphatic.converters.doric` reads. Data
may be given as whole arrays or as iterators of chunks (e.g. a 24-h simulation generated piecewise);
chunks of the datasets of one group are consumed in lockstep.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from ndx_glymphatic.io import atomic_output_path
from ndx_glymphatic.simulation.rig_files._chunks import ChunkSource, lockstep

__all__ = ["DoricGroup", "write_doric_csv", "write_doric_v1", "write_doric_v6"]



@dataclass(frozen=True)
class DoricGroup:
    """One V6 group (``AnalogIn``, ``LockInAOUT01``, ``AIN01xAOUT01-LockIn``, ``DigitalIO``, ...).

    Attributes
    ----------
    path : str
        Group path inside the series, e.g. ``"AnalogIn"`` or ``"LockInAOUT01"``.
    datasets : mapping of str to array or iterable of arrays
        Dataset name (``"AIN01"``, ``"Values"``, ``"DIO01"``) to 1-D values or chunks of them.
    rate_in_Hz : float
        Sampling rate of the group's ``Time`` vector.
    starting_time_in_s : float
        First time.
    timestamps_in_s : ndarray, optional
        Explicit times instead of the regular grid (for irregular-timing tests).
    usernames : mapping of str to str
        Optional ``Username`` attribute per dataset (the user's channel label).
    """

    path: str
    datasets: Mapping[str, ChunkSource]
    rate_in_Hz: float
    starting_time_in_s: float = 0.0
    timestamps_in_s: np.ndarray | None = None
    usernames: Mapping[str, str] = field(default_factory=dict)


def _append(dataset: h5py.Dataset, values: np.ndarray) -> None:
    start = dataset.shape[0]
    dataset.resize((start + values.shape[0],))
    dataset[start:] = values


def _time_chunk(
    *, start: int, size: int, rate_in_Hz: float, starting_time_in_s: float, timestamps: np.ndarray | None
) -> np.ndarray:
    if timestamps is not None:
        if start + size > timestamps.size:
            raise ValueError("timestamps_in_s is shorter than the data")
        return np.asarray(timestamps[start : start + size], dtype=np.float64)
    return starting_time_in_s + (start + np.arange(size)) / rate_in_Hz


def _write_group(*, parent: h5py.Group, group: DoricGroup, time_name: str, nested: bool) -> None:
    """Write a group's datasets (nested: each in its own subgroup, V1) and its time vector."""
    names = list(group.datasets)
    target = parent.require_group(group.path) if group.path else parent
    datasets = {}
    for name in names:
        holder = target.require_group(name) if nested else target
        datasets[name] = holder.create_dataset(name, shape=(0,), maxshape=(None,), dtype="f8", chunks=True)
        if name in group.usernames:
            datasets[name].attrs["Username"] = group.usernames[name]
    time_holder = target.require_group("Time(s)") if nested else target
    time = time_holder.create_dataset(time_name, shape=(0,), maxshape=(None,), dtype="f8", chunks=True)
    written = 0
    for chunks in lockstep([group.datasets[name] for name in names]):
        size = chunks[0].shape[0]
        _append(
            time,
            _time_chunk(
                start=written,
                size=size,
                rate_in_Hz=group.rate_in_Hz,
                starting_time_in_s=group.starting_time_in_s,
                timestamps=group.timestamps_in_s,
            ),
        )
        for name, chunk in zip(names, chunks):
            _append(datasets[name], np.asarray(chunk, dtype=np.float64))
        written += size


def write_doric_v6(
    *,
    destination: str | Path,
    series: Mapping[str, Sequence[DoricGroup]],
    console: str = "FPConsole",
    overwrite: bool = False,
) -> Path:
    """Write a Neuroscience Studio 6 ``.doric`` file.

    Parameters
    ----------
    destination : str or Path
        Output file.
    series : mapping of str to sequence of DoricGroup
        Series name (``"Series0001"``) to the groups it holds.
    console : str
        Console group name (``"FPConsole"``, ``"NC500"``, ``"BFPD"``).
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The written file.
    """
    destination = Path(destination)
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        with h5py.File(temporary, "w") as handle:
            configurations = handle.create_group("Configurations")
            configurations.attrs["Software"] = "ndx-glymphatic synthetic Doric writer"
            signals = handle.create_group(f"DataAcquisition/{console}/Signals")
            for series_name, groups in series.items():
                root = signals.create_group(series_name)
                for group in groups:
                    _write_group(parent=root, group=group, time_name="Time", nested=False)
    return destination


def write_doric_v1(
    *,
    destination: str | Path,
    channels: Mapping[str, ChunkSource],
    rate_in_Hz: float,
    starting_time_in_s: float = 0.0,
    console: str = "Console",
    overwrite: bool = False,
) -> Path:
    """Write an older (V1) ``.doric`` file: ``Traces/<console>/<name>/<name>`` + ``Time(s)/Console_time(s)``.

    Parameters
    ----------
    destination : str or Path
        Output file.
    channels : mapping of str to array or iterable of arrays
        Channel name as the rig writes it (``"AIn-1 - Dem (AOut-1)"``, ``"DI--O-1"``) to values.
    rate_in_Hz, starting_time_in_s : float
        The shared time vector.
    console : str
        Console group name.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The written file.
    """
    destination = Path(destination)
    group = DoricGroup(
        path="", datasets=channels, rate_in_Hz=rate_in_Hz, starting_time_in_s=starting_time_in_s
    )
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        with h5py.File(temporary, "w") as handle:
            _write_group(
                parent=handle.create_group(f"Traces/{console}"),
                group=group,
                time_name=f"{console}_time(s)",
                nested=True,
            )
    return destination


def write_doric_csv(
    *,
    destination: str | Path,
    columns: Mapping[str, np.ndarray],
    rate_in_Hz: float,
    starting_time_in_s: float = 0.0,
    overwrite: bool = False,
) -> Path:
    """Write a Doric CSV export: a descriptor row, the ``Time(s), <columns>`` row, then samples.

    Parameters
    ----------
    destination : str or Path
        Output file.
    columns : mapping of str to ndarray
        Column name (``"AIn-1 - Dem (AOut-1)"``, ``"DI/O-1"``) to values, all of one length.
    rate_in_Hz, starting_time_in_s : float
        The time column.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The written file.
    """
    destination = Path(destination)
    names = list(columns)
    lengths = {np.asarray(columns[name]).shape[0] for name in names}
    if len(lengths) != 1:
        raise ValueError(f"all columns must have one length, got {sorted(lengths)}")
    n_samples = lengths.pop()
    times = starting_time_in_s + np.arange(n_samples) / rate_in_Hz
    table = np.column_stack([times] + [np.asarray(columns[name], dtype=np.float64) for name in names])
    descriptor = [""] + ["Digital I/O" if name.startswith("DI") else "Analog" for name in names]
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        with Path(temporary).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(descriptor)
            writer.writerow(["Time(s)", *names])
            writer.writerows([repr(float(value)) for value in row] for row in table)
    return destination
