"""DANDI checks: what DANDI requires of a file, in words (subject and session fields, the file's name and place).

nwbinspector checks (:func:`unregistered_check`), run by the ``dandi`` layer only. As nwbinspector does for
its subject checks, their default importance is a best practice; the DANDI profile
(``inspector_config.yaml``) raises what DANDI requires to CRITICAL.
"""

from __future__ import annotations

import re
from pathlib import Path

from nwbinspector import Importance, InspectorMessage
from pynwb import NWBFile
from pynwb.file import Subject

from ndx_glymphatic.dandi_names import (
    dandi_label,
    dandi_name,
    expected_dandi_file_name,
    modalities_of,
    sanitize_dandi_label,
)
from ndx_glymphatic.validators._check_tools import CheckFunction, finding, unregistered_check

__all__ = [
    "DANDI_CHECKS",
    "DANDI_SEX_VALUES",
    "dandi_age",
    "dandi_file_name",
    "dandi_label",
    "dandi_layout",
    "dandi_name",
    "dandi_session_id",
    "dandi_sex",
    "dandi_species",
    "dandi_subject",
    "dandi_subject_id",
    "dandiset_root_of",
    "expected_dandi_file_name",
    "modalities_of",
    "sanitize_dandi_label",
]

DANDI_SEX_VALUES = ("M", "F", "U", "O")
_ISO_DURATION = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                           r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
_SPECIES_FORM = re.compile(r"^([A-Z][a-z]+ [a-z]+( [a-z]+)?|https?://purl\.obolibrary\.org/obo/NCBITaxon_\d+)$")


def dandiset_root_of(*, path: Path) -> Path | None:
    """The nearest folder above ``path`` holding a ``dandiset.yaml`` (None if there is none)."""
    for folder in path.resolve().parents:
        if (folder / "dandiset.yaml").is_file():
            return folder
    return None


def _file_path(nwbfile: NWBFile) -> Path | None:
    """The file an NWBFile was read from (None for a file built in memory)."""
    source = nwbfile.container_source
    return Path(source) if source else None


def _identifier_finding(*, field: str, value: object, missing: str, missing_hint: str,
                        slash_hint: str) -> InspectorMessage | None:
    """The finding about an ID DANDI writes into folder and file names: not set, or with a '/'."""
    text = str(value or "").strip()
    if not text:
        return finding(message=f"{field} {missing}.", hint=missing_hint)
    if "/" in text:
        return finding(message=f"{field} '{text}' has '/'.", hint=slash_hint)
    return None


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=NWBFile)
def dandi_subject(nwbfile: NWBFile) -> InspectorMessage | None:
    """The file has a Subject."""
    if nwbfile.subject is not None:
        return None
    return finding(message="The file has no Subject; DANDI requires one.",
                   hint="nwbfile.subject = Subject(subject_id=..., species='Mus musculus', sex=..., age='P90D')")


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=Subject)
def dandi_subject_id(subject: Subject) -> InspectorMessage | None:
    """``subject_id`` is set and has no '/'."""
    return _identifier_finding(field="subject_id", value=subject.subject_id, missing="is empty",
                               missing_hint="set Subject(subject_id=...) to the animal's ID",
                               slash_hint="DANDI uses the ID in folder names: remove '/'")


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=Subject)
def dandi_species(subject: Subject) -> InspectorMessage | None:
    """``species`` is a Latin binomial or an NCBI taxonomy URL."""
    species = str(subject.species or "").strip()
    if not species:
        return finding(message="species is empty.", hint="set Subject(species='Mus musculus')")
    if not _SPECIES_FORM.match(species):
        return finding(message=f"species '{species}' is neither a Latin binomial nor an NCBI URL.",
                       hint="write 'Mus musculus' (not 'mouse')")
    return None


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=Subject)
def dandi_sex(subject: Subject) -> InspectorMessage | None:
    """``sex`` is one of :data:`DANDI_SEX_VALUES`."""
    sex = str(subject.sex or "").strip()
    if sex in DANDI_SEX_VALUES:
        return None
    return finding(message=f"sex is {sex!r}, expected one of {list(DANDI_SEX_VALUES)}.",
                   hint="'M', 'F', 'U' (unknown) or 'O' (other)")


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=Subject)
def dandi_age(subject: Subject) -> InspectorMessage | None:
    """``age`` is an ISO 8601 duration (or range), or ``date_of_birth`` is set."""
    age = str(subject.age or "").strip()
    if not age and subject.date_of_birth is None:
        return finding(message="neither age nor date_of_birth is set.",
                       hint="set Subject(age='P90D') (ISO 8601) or Subject(date_of_birth=...)")
    if age and not all(_ISO_DURATION.match(part) for part in age.split("/") if part):
        return finding(message=f"age '{age}' is not an ISO 8601 duration.",
                       hint="write 90 days as 'P90D', 12 weeks as 'P12W'")
    return None


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=NWBFile)
def dandi_session_id(nwbfile: NWBFile) -> InspectorMessage | None:
    """``session_id`` is set and has no '/'."""
    return _identifier_finding(
        field="session_id", value=nwbfile.session_id, missing="is not set",
        missing_hint="set NWBFile(session_id=...): DANDI names files sub-<subject>_ses-<session>",
        slash_hint="remove '/'",
    )


@unregistered_check(importance=Importance.BEST_PRACTICE_SUGGESTION, neurodata_type=NWBFile)
def dandi_layout(nwbfile: NWBFile) -> InspectorMessage | None:
    """The file lies inside a dandiset folder (one with a ``dandiset.yaml`` above it)."""
    path = _file_path(nwbfile)
    if path is None or dandiset_root_of(path=path) is not None:
        return None
    expected = expected_dandi_file_name(nwbfile=nwbfile)
    return finding(
        message=(f"{path.name} is not inside a dandiset folder (no dandiset.yaml above it); DANDI expects "
                 f"sub-<subject>/{expected or 'sub-<subject>_ses-<session>_<modalities>.nwb'}."),
        hint="lay files out for upload with `glymph organize FILES -o DANDISET_DIR`",
    )


@unregistered_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=NWBFile)
def dandi_file_name(nwbfile: NWBFile) -> InspectorMessage | None:
    """Inside a dandiset, the file is at ``sub-<subject>/sub-<subject>_ses-<session>_<modalities>.nwb``."""
    path = _file_path(nwbfile)
    root = dandiset_root_of(path=path) if path is not None else None
    expected = expected_dandi_file_name(nwbfile=nwbfile)
    if root is None or expected is None:
        return None
    actual = path.resolve().relative_to(root).as_posix()
    wanted = f"{expected.split('_')[0]}/{expected}"
    if actual == wanted:
        return None
    return finding(
        message=f"{actual} inside dandiset {root} should be {wanted} (from the file's subject, session and content).",
        hint="rename it, or lay files out with `glymph organize FILES -o DANDISET_DIR`",
    )


#: The checks of the ``dandi`` layer, in the order their messages are reported.
DANDI_CHECKS: tuple[CheckFunction, ...] = (
    dandi_subject, dandi_subject_id, dandi_species, dandi_sex, dandi_age, dandi_session_id, dandi_layout,
    dandi_file_name,
)
