"""DANDI file names: ``sub-<subject>_ses-<session>[_desc-<desc>]_<modalities>.nwb``, the one definition.

``glymph organize`` places files under these names, the DANDI checks expect them, ``glymph convert``
of many sessions writes them, and ``glymph analyze --write-derived`` names its derived file with them.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "dandi_label",
    "dandi_name",
    "dandi_name_of_file",
    "expected_dandi_file_name",
    "modalities_of",
    "sanitize_dandi_label",
]


def sanitize_dandi_label(*, label: str) -> str:
    """A subject/session ID as DANDI writes it in file names: letters, digits and '-' only."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9-]", "-", label.strip())).strip("-")


def dandi_label(*, label: str, entity: str) -> str:
    """The label of a DANDI/BIDS entity (``sub``, ``ses``) from an ID that may already carry the prefix.

    ``dandi_label(label="ses-01", entity="ses")`` and ``dandi_label(label="01", entity="ses")`` are both
    ``"01"``, so that names never read ``ses-ses-01``; the rest is sanitised as DANDI does.
    """
    text = sanitize_dandi_label(label=label)
    prefix = f"{entity}-"
    while text.lower().startswith(prefix):
        text = text[len(prefix):].lstrip("-")
    return "" if text.lower() == entity else text


def dandi_name(
    *, subject_id: str, session_id: str | None, modalities: list[str], desc: str | None = None
) -> str | None:
    """``sub-<subject>_ses-<session>[_desc-<desc>]_<modalities>.nwb``, each prefix written once.

    None without a subject label. ``desc`` labels a derived file (``"processed"``).
    """
    subject = dandi_label(label=subject_id, entity="sub")
    if not subject:
        return None
    parts = [f"sub-{subject}"]
    session = dandi_label(label=session_id or "", entity="ses")
    if session:
        parts.append(f"ses-{session}")
    if desc:
        parts.append(f"desc-{dandi_label(label=desc, entity='desc')}")
    if modalities:
        parts.append("+".join(modalities))
    return "_".join(parts) + ".nwb"


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


def expected_dandi_file_name(*, nwbfile: Any, desc: str | None = None) -> str | None:
    """``sub-<id>_ses-<id>[_desc-<desc>]_<modalities>.nwb`` for this file (None without a subject_id).

    ``desc`` labels a derived file; a file holding ``analysis/was_derived_from`` (written by
    ``glymph analyze --write-derived``) is labelled ``processed`` when ``desc`` is not given.
    """
    if desc is None and "was_derived_from" in (getattr(nwbfile, "analysis", None) or {}):
        desc = "processed"
    subject = nwbfile.subject
    return dandi_name(
        subject_id=str(subject.subject_id or "") if subject is not None else "",
        session_id=str(nwbfile.session_id or ""),
        modalities=modalities_of(nwbfile=nwbfile),
        desc=desc,
    )


def dandi_name_of_file(*, path: str) -> str | None:
    """:func:`expected_dandi_file_name` of the NWB file at ``path`` (read with pynwb, closed after).

    The caller probes the file first (no external links): this opens it with pynwb.
    """
    import warnings

    from pynwb import read_nwb

    from ndx_glymphatic import load_namespace

    load_namespace()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nwbfile = read_nwb(path=path)
    try:
        return expected_dandi_file_name(nwbfile=nwbfile)
    finally:
        nwbfile.get_read_io().close()
