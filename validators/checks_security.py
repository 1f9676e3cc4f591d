"""Domain check of file safety: no HDF5 links or storage leaving the file.

``glymph validate`` runs the same scan with h5py BEFORE pynwb opens a file and refuses to open a file
that fails it (``ndx_glymphatic.validators.probe``). Registered here too so that plain
``nwbinspector --modules ndx_glymphatic.validators`` reports it (after pynwb has opened the file; the
scan itself never follows a link).
"""

from __future__ import annotations

from pathlib import Path

import h5py
from nwbinspector import Importance, InspectorMessage
from pynwb import NWBFile

from ndx_glymphatic.validators._check_tools import domain_check, finding
from ndx_glymphatic.validators.probe import find_links_leaving_file

__all__ = ["check_no_links_leaving_file"]


@domain_check(importance=Importance.CRITICAL, neurodata_type=NWBFile)
def check_no_links_leaving_file(nwbfile: NWBFile) -> list[InspectorMessage] | None:
    """No external links, virtual datasets mapping other files, or external raw storage (found without following)."""
    source = nwbfile.container_source
    if not source or not Path(source).is_file():
        return None
    with h5py.File(source, "r") as h5file:
        leaving, _ = find_links_leaving_file(h5file=h5file)
    if not leaving:
        return None
    return [
        finding(
            message=f"{item.location}: {item.kind} to '{item.target}'; its content lives outside the file.",
            hint="a shared NWB file must be self-contained: copy the data in (NWBHDF5IO.export) and remove the link",
            high=True,
        )
        for item in leaving
    ]
