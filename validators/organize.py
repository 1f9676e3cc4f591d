"""Lay NWB files out as DANDI expects: ``sub-<id>/sub-<id>_ses-<id>_<modalities>.nwb`` + ``dandiset.yaml``."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.io import atomic_output_path, check_contained
from ndx_glymphatic.validators.probe import probe_path

__all__ = ["DANDISET_TEMPLATE", "OrganizePlan", "TransferMode", "organize_files", "plan_organization"]

TransferMode = Literal["copy", "move", "hardlink", "symlink"]

DANDISET_TEMPLATE = """\
# dandiset.yaml written by `glymph organize`. Fill in every TODO before `dandi upload`:
# create the dandiset at https://dandiarchive.org first and copy its identifier here.
identifier: "DANDI:000000"  # TODO: the identifier DANDI gave your dandiset
name: "TODO: title of the dataset"
description: >-
  TODO: what was recorded (e.g. norepinephrine, blood volume and CSF tracer by fiber photometry with
  EEG/EMG during natural sleep), in which animals, with which interventions.
license:
  - "spdx:CC-BY-4.0"
contributor:
  - name: "TODO: Last, First"
    email: "TODO: contact email"
    roleName:
      - "dcite:ContactPerson"
    schemaKey: Person
"""


@dataclass
class OrganizePlan:
    """Where each file goes, and the files that cannot be placed (with why)."""

    destinations: dict[Path, Path] = field(default_factory=dict)
    problems: dict[Path, str] = field(default_factory=dict)


def _destination_name(*, path: Path) -> str:
    """The DANDI file name of one NWB file, read with pynwb after the h5py safety probe."""
    from ndx_glymphatic.dandi_names import dandi_name_of_file

    probe = probe_path(path=path)
    if not probe.openable:
        raise InputFileError(path=path, field="file", expected="a readable, self-contained NWB file",
                             found=probe.refusal, hint="run `glymph validate` on it for details")
    name = dandi_name_of_file(path=str(path))
    if name is None:
        raise InputFileError(path=path, field="/general/subject/subject_id", expected="a subject ID",
                             found="none", hint="set Subject(subject_id=...): DANDI folders are named after it")
    if "_ses-" not in name:
        raise InputFileError(path=path, field="/general/session_id", expected="a session ID", found="none",
                             hint="set NWBFile(session_id=...) so that sessions of one subject get distinct names")
    return name


def plan_organization(*, files: list[Path], dandiset_dir: Path) -> OrganizePlan:
    """Decide the destination of each file; files that cannot be read or would collide are problems."""
    plan = OrganizePlan()
    taken: dict[Path, Path] = {}
    for path in files:
        try:
            name = _destination_name(path=path)
        except InputFileError as error:
            plan.problems[path] = str(error)
            continue
        except Exception as error:
            plan.problems[path] = f"{path}: cannot be read ({type(error).__name__}: {error})"
            continue
        destination = dandiset_dir / name.split("_")[0] / name
        if destination in taken:
            plan.problems[path] = (f"{path}: would have the same name as {taken[destination]} ({destination.name}); "
                                   f"give the sessions distinct session_id values")
            continue
        taken[destination] = path
        plan.destinations[path] = destination
    return plan


def _transfer(*, source: Path, destination: Path, dandiset_dir: Path, mode: TransferMode, overwrite: bool) -> None:
    check_contained(root=dandiset_dir, path=destination)
    if destination.exists() and source.resolve() == destination.resolve():
        return
    with atomic_output_path(destination=destination, overwrite=overwrite, inside=dandiset_dir) as temporary:
        if mode == "copy":
            shutil.copyfile(source, temporary)
        elif mode == "hardlink":
            os.link(source, temporary)
        elif mode == "symlink":
            os.symlink(source.resolve(), temporary)
        elif mode == "move":
            shutil.move(str(source), str(temporary))
        else:
            raise ValueError(f"unknown transfer mode {mode!r}")


def organize_files(
    *, files: list[Path], dandiset_dir: Path, mode: TransferMode = "copy", overwrite: bool = False
) -> OrganizePlan:
    """Place ``files`` in ``dandiset_dir`` under their DANDI names and write a ``dandiset.yaml`` template.

    Parameters
    ----------
    files : list of Path
        NWB files.
    dandiset_dir : Path
        The dandiset folder (created if needed).
    mode : {"copy", "move", "hardlink", "symlink"}
        How files get there.
    overwrite : bool
        Replace existing destination files (a destination that is a symbolic link: the link, not its target).

    Returns
    -------
    OrganizePlan
        Where each placed file went, and the files that were not placed and why.

    Raises
    ------
    ndx_glymphatic.errors.InputFileError
        A folder inside ``dandiset_dir`` (a ``sub-*`` folder) is a symbolic link or a file: nothing is
        written outside ``dandiset_dir`` (which itself may be a link).
    """
    dandiset_dir = Path(dandiset_dir)
    if dandiset_dir.exists() and not dandiset_dir.is_dir():
        raise InputFileError(path=dandiset_dir, field="output folder", expected="a folder", found="a file")
    plan = plan_organization(files=files, dandiset_dir=dandiset_dir)
    for destination in plan.destinations.values():
        check_contained(root=dandiset_dir, path=destination)  # before anything is written
    dandiset_dir.mkdir(parents=True, exist_ok=True)
    for source, destination in list(plan.destinations.items()):
        try:
            _transfer(source=source, destination=destination, dandiset_dir=dandiset_dir, mode=mode,
                      overwrite=overwrite)
        except (InputFileError, OSError) as error:
            plan.problems[source] = str(error)
            del plan.destinations[source]
    template = dandiset_dir / "dandiset.yaml"
    if not template.exists():
        with atomic_output_path(destination=template, inside=dandiset_dir) as temporary:
            temporary.write_text(DANDISET_TEMPLATE, encoding="utf-8")
    return plan
