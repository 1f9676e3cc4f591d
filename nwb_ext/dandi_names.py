"""DANDI file names: ``sub-<subject>_ses-<session>_<modalities>.nwb``, the one definition.

``glymph organize`` places files under these names, the DANDI checks expect them, and ``glymph convert``
of many sessions writes them.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["expected_dandi_file_name", "modalities_of", "sanitize_dandi_label"]


def sanitize_dandi_label(*, label: str) -> str:
    """A subject/session ID as DANDI writes it in file names: letters, digits and '-' only."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9-]", "-", label.strip())).strip("-")


def modalities_of(*, nwbfile: Any) -> list[str]:
    """The DANDI modality suffixes of a file from what it holds, sorted (e.g. ['ecephys', 'ogen', 'ophys'])."""
    from pynwb.ecephys import ElectricalSeries
    from pynwb.ophys import ImageSegmentation, RoiResponseSeries

    found: set[str] = set()
    for neurodata_object in nwbfile.objects.values():
        type_names = {cls.__name__ for cls in type(neurodata_object).__mro__}
        module = type(neurodata_object).__module__
        if isinstance(neurodata_object, ElectricalSeries):
            found.add("ecephys")
        elif isinstance(neurodata_object, (RoiResponseSeries, ImageSegmentation)) or type_names & {
            "FiberPhotometryResponseSeries", "FiberPhotometry", "FiberPhotometryTable",
        }:
            found.add("ophys")
        elif type_names & {"OptogeneticSeries", "OptogeneticEpochsTable", "OptogeneticExperimentMetadata"} or (
            module.startswith("pynwb.ogen")
        ):
            found.add("ogen")
        elif module.startswith("pynwb.behavior"):
            found.add("behavior")
        elif module.startswith("pynwb.icephys"):
            found.add("icephys")
    return sorted(found)


def expected_dandi_file_name(*, nwbfile: Any) -> str | None:
    """``sub-<id>_ses-<id>_<modalities>.nwb`` for this file (None without a subject_id)."""
    subject = nwbfile.subject
    subject_id = sanitize_dandi_label(label=str(subject.subject_id or "")) if subject is not None else ""
    if not subject_id:
        return None
    parts = [f"sub-{subject_id}"]
    session_id = sanitize_dandi_label(label=str(nwbfile.session_id or ""))
    if session_id:
        parts.append(f"ses-{session_id}")
    modalities = modalities_of(nwbfile=nwbfile)
    if modalities:
        parts.append("+".join(modalities))
    return "_".join(parts) + ".nwb"
