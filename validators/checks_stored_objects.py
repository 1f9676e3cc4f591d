"""Domain checks that a file holds what it was written with: nothing unreadable, nothing dropped, series as written.

Damaged or edited bytes can make pynwb read a file without complaint yet differently: a group whose
``neurodata_type`` attribute lost its name is read as nothing (the series vanishes), a datatype changed
from float32 to float64 turns values into other values. These checks compare the HDF5 objects of the file
with what pynwb read, and the series with what the ndx-glymphatic builder writes.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
from ndx_fiber_photometry import FiberPhotometryResponseSeries
from nwbinspector import Importance, InspectorMessage
from pynwb import NWBFile
from pynwb.ecephys import ElectricalSeries

from ndx_glymphatic.validators._check_tools import domain_check, finding_of

__all__ = [
    "PHOTOMETRY_UNITS",
    "SERIES_DTYPE",
    "check_cached_specifications_intact",
    "check_eeg_emg_stored_as_written",
    "check_series_stored_as_written",
    "check_stored_objects_read",
]

#: Stored dtype of every continuous series the builder writes (photometry, EEG, EMG).
SERIES_DTYPE = np.dtype("<f4")
#: Units the photometry readers give (volts from the rig's photodetector; arbitrary units for cameras).
PHOTOMETRY_UNITS = ("V", "a.u.")
#: Unit of the dF/F series of a derived file (``glymph analyze --write-derived``).
DERIVED_DFF_UNIT = "percent"
_TYPE_ATTRIBUTES = ("neurodata_type", "namespace", "object_id")
_SKIPPED_TREES = ("specifications",)
_SMALL_DATASET_BYTES = 1 << 20
_MAX_LISTED = 5


def _h5file_of(nwbfile: NWBFile) -> Any | None:
    io = getattr(nwbfile, "read_io", None)
    h5file = getattr(io, "_file", None)
    return h5file if h5file is not None and getattr(h5file, "id", None) is not None and h5file.id.valid else None


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _stored_problems(*, h5file: Any, read_ids: set[str]) -> list[str]:
    """Every object of the file that cannot be read, lacks its type attributes, or that pynwb did not read."""
    import h5py

    problems: list[str] = []

    def inspect(name: str) -> None:
        try:
            obj = h5file[name]
            attributes = {key: obj.attrs[key] for key in obj.attrs}
            if isinstance(obj, h5py.Dataset) and obj.shape is not None and obj.size * obj.dtype.itemsize \
                    <= _SMALL_DATASET_BYTES:
                obj[()]  # small datasets read whole: a damaged chunk or heap shows here
        except Exception as error:  # h5py raises OSError, KeyError, ValueError, RuntimeError on damaged objects
            problems.append(f"/{name} cannot be read ({type(error).__name__}: {error})")
            return
        present = [key for key in _TYPE_ATTRIBUTES if key in attributes]
        if present and len(present) < len(_TYPE_ATTRIBUTES):
            missing = [key for key in _TYPE_ATTRIBUTES if key not in attributes]
            problems.append(f"/{name} has {present} but no {missing} attribute: it is not read as its type")
        elif present and _text(attributes["object_id"]) not in read_ids:
            problems.append(f"/{name} ({_text(attributes['neurodata_type'])}) is stored but pynwb did not read it")

    names: list[str] = []
    try:
        for top in h5file:
            if top in _SKIPPED_TREES:
                continue
            names.append(top)
            if isinstance(h5file.get(top, getlink=True), h5py.HardLink) and isinstance(h5file[top], h5py.Group):
                h5file[top].visit(lambda name, top=top: names.append(f"{top}/{name}"))
    except Exception as error:
        problems.append(f"the file's object tree cannot be walked ({type(error).__name__}: {error})")
    for name in names:
        inspect(name)
    return problems


@domain_check(importance=Importance.CRITICAL, neurodata_type=NWBFile)
def check_stored_objects_read(nwbfile: NWBFile) -> InspectorMessage | None:
    """Every HDF5 object of the file (outside ``/specifications``) reads, and every typed one is in the NWBFile.

    Each attribute and each small dataset is read (HDF5 verifies the checksums of the metadata and of
    Fletcher-32 chunks); typed objects are matched to the read containers by ``object_id``.
    """
    h5file = _h5file_of(nwbfile)
    if h5file is None:
        return None
    read_ids = {str(container.object_id) for container in nwbfile.objects.values()}
    problems = _stored_problems(h5file=h5file, read_ids=read_ids)
    shown = problems[:_MAX_LISTED] + ([f"and {len(problems) - _MAX_LISTED} more"] if len(problems) > _MAX_LISTED
                                      else [])
    return finding_of(
        problems=shown,
        hint="the file is damaged or was edited by hand: restore it from its source or convert the rig files again "
             "(`glymph validate --verify` reads every chunk)",
        high=True,
    )


def _dtype_of(data: Any) -> np.dtype | None:
    dtype = getattr(data, "dtype", None)
    return np.dtype(dtype) if dtype is not None else None


@domain_check(importance=Importance.CRITICAL, neurodata_type=FiberPhotometryResponseSeries)
def check_series_stored_as_written(series: Any) -> InspectorMessage | None:
    """Photometry series are stored as the builder writes them: little-endian float32, unit V or a.u. (in
    acquisition), or percent too (dF/F of a derived file)."""
    problems = []
    dtype = _dtype_of(series.data)
    if dtype is not None and dtype != SERIES_DTYPE:
        problems.append(f"data are stored as {dtype.str} ({dtype}), expected float32 ({SERIES_DTYPE.str})")
    unit = _text(getattr(series.data, "attrs", {}).get("unit", series.unit))
    # acquired series carry the rig's unit; dF/F in a processing module (a derived file) is in percent
    acquired = isinstance(series.parent, NWBFile)
    allowed = PHOTOMETRY_UNITS if acquired else (*PHOTOMETRY_UNITS, DERIVED_DFF_UNIT)
    if unit not in allowed:
        problems.append(f"unit is {unit!r}, expected one of {list(allowed)}")
    return finding_of(
        problems=problems,
        hint="photometry is written as float32 in the rig's unit; a changed type or unit means the file was "
             "damaged or edited: convert the rig files again",
        high=True,
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=ElectricalSeries)
def check_eeg_emg_stored_as_written(series: ElectricalSeries) -> InspectorMessage | None:
    """EEG and EMG are stored as the builder writes them: little-endian float32 (unit: ``check_eeg_emg_unit``)."""
    dtype = _dtype_of(series.data)
    if dtype is None or dtype == SERIES_DTYPE:
        return None
    return finding_of(
        problems=[f"data are stored as {dtype.str} ({dtype}), expected float32 ({SERIES_DTYPE.str})"],
        hint="EEG/EMG are written as float32 with a conversion to volts; a changed type means the file was damaged "
             "or edited: convert the rig files again",
        high=True,
    )


@functools.cache
def _published_specifications() -> dict[str, Any]:
    """The specification documents pynwb caches for the installed namespaces, parsed: ``"ns/version/doc"`` -> JSON.

    Written once per process with pynwb itself into an in-memory HDF5 file, so they are what a writer of
    these namespace versions caches.
    """
    import uuid
    from datetime import datetime, timezone

    import h5py
    from pynwb import NWBHDF5IO

    from ndx_glymphatic import load_namespace

    load_namespace()
    nwbfile = NWBFile(session_description="reference", identifier=str(uuid.uuid4()),
                      session_start_time=datetime(2000, 1, 1, tzinfo=timezone.utc))
    documents: dict[str, Any] = {}
    with h5py.File(f"reference-{uuid.uuid4()}.h5", "w", driver="core", backing_store=False) as h5file:

        def add(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                documents[name] = json.loads(_text(obj[()]))

        with NWBHDF5IO(file=h5file, mode="w") as io:  # closing the io closes the file
            io.write(nwbfile)
            h5file["specifications"].visititems(add)
    return documents


def _without_include_lists(document: Any) -> Any:
    """A cached document with the type lists of its namespace includes left out.

    Writers may cut those lists to the types a file needs (ours do: ``ndx_glymphatic.spec_cache``); a
    damaged list makes the namespace fail to load, which the file and schema layers report.
    """
    if not isinstance(document, dict) or "namespaces" not in document:
        return document
    namespaces = []
    for namespace in document["namespaces"]:
        schema = [{key: value for key, value in entry.items() if key != "neurodata_types"}
                  for entry in namespace.get("schema", [])]
        namespaces.append({**namespace, "schema": schema})
    return {**document, "namespaces": namespaces}


@domain_check(importance=Importance.CRITICAL, neurodata_type=NWBFile)
def check_cached_specifications_intact(nwbfile: NWBFile) -> InspectorMessage | None:
    """Each cached specification document parses, and equals the published one of the same namespace version.

    Only namespace versions installed here are compared (others cannot be); the comparison is of the parsed
    documents, so the key order or spacing of the writer does not matter.
    """
    import h5py

    h5file = _h5file_of(nwbfile)
    if h5file is None or not isinstance(h5file.get("specifications"), h5py.Group):
        return None
    published = _published_specifications()
    problems: list[str] = []

    def inspect(name: str, obj: Any) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        try:
            document = json.loads(_text(obj[()]))
        except Exception as error:
            problems.append(f"/specifications/{name} is not a readable specification ({type(error).__name__})")
            return
        if name in published and _without_include_lists(document) != _without_include_lists(published[name]):
            problems.append(f"/specifications/{name} differs from the published {name.rsplit('/', 1)[0]}")

    try:
        h5file["specifications"].visititems(inspect)
    except Exception as error:
        problems.append(f"/specifications cannot be walked ({type(error).__name__}: {error})")
    return finding_of(
        problems=problems[:_MAX_LISTED],
        hint="the cached specification was damaged or edited; the schema layer validated against it: restore the "
             "file or convert the rig files again",
        high=True,
    )
