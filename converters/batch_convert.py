"""``glymph convert`` of many sessions: one NWB file per session, under its DANDI name, in one folder.

Each session is one batch task (:func:`ndx_glymphatic.batch.run_batch`): converted to a hidden staging
name in the output folder, named after what the written file holds (subject, session, modalities:
:func:`ndx_glymphatic.dandi_names.expected_dandi_file_name`), then linked into place without replacing
anything (unless ``overwrite``). Staging names carry a token of the batch, so that what a worker killed
mid-task leaves is recognised as this batch's and removed once the batch is over.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from ndx_glymphatic.batch import BatchOutcome, prepare_local_workers, run_batch, runs_here, size_in_bytes
from ndx_glymphatic.errors import GlymphError, InputFileError

__all__ = [
    "CONVERT_TASK_IMPORTS", "SESSION_FILE_NAMES", "collect_session_files", "convert_batch", "convert_task",
    "session_cost_in_bytes",
]

#: Names of session files found in folders given to ``glymph convert``.
SESSION_FILE_NAMES = ("session.yaml", "session.yml", "session.json")


def collect_session_files(*, inputs: Sequence[str | Path]) -> list[Path]:
    """Session files as given; folders searched recursively for ``session.yaml|yml|json`` (sorted)."""
    files: list[Path] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.name in SESSION_FILE_NAMES and p.is_file())
            if not found:
                expected = f"a session file ({', '.join(SESSION_FILE_NAMES)})"
                raise InputFileError(path=path, field="folder", expected=expected, found="none")
            files.extend(found)
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def _dandi_name(*, path: Path) -> str:
    from ndx_glymphatic.dandi_names import dandi_name_of_file

    name = dandi_name_of_file(path=str(path))
    if name is None:
        raise InputFileError(path=path, field="subject.subject_id", expected="a subject ID", found="none",
                             hint="set subject.subject_id in the session file: DANDI names files after it")
    return name


# what :func:`convert_task` imports (pynwb, the NWB namespaces, the readers and the builder), imported once
# for all Dask workers forked from one template (:func:`ndx_glymphatic.batch.prepare_local_workers`)
CONVERT_TASK_IMPORTS = ("ndx_glymphatic.access", "ndx_glymphatic.converters.convert")


def session_cost_in_bytes(*, session_file: str | Path) -> int:
    """The bytes of the rig files a session file names, as the cost of converting it (its rig files are read
    whole); 0 for a session file that does not load (its task reports why)."""
    from ndx_glymphatic.session import load_session

    try:
        session = load_session(path=session_file)
    except (GlymphError, OSError, ValueError):  # pydantic's and the YAML reader's errors are ValueErrors
        return 0
    return sum(size_in_bytes(source=str(path)) for path in session.rig_paths())


def convert_task(session_file: str, *, output_dir: str, token: str, overwrite: bool, compression: object) -> str:
    """Convert one session file into ``output_dir/<DANDI name>``; the path written."""
    from ndx_glymphatic.converters.convert import convert_session

    folder = Path(output_dir)
    digest = hashlib.sha1(str(Path(session_file).resolve()).encode()).hexdigest()[:12]
    staging = folder / f".glymph-batch-{token}-{digest}.nwb"
    try:
        convert_session(session_path=session_file, output_path=staging, progress=False,
                        compression=compression)  # type: ignore[arg-type]
        destination = folder / _dandi_name(path=staging)
        if overwrite:
            os.replace(staging, destination)
        else:
            try:
                os.link(staging, destination)  # never replaces a file already there
            except FileExistsError:
                raise InputFileError(path=destination, field="output path", expected="a path that does not exist yet",
                                     found="an existing file (another session of this name?)",
                                     hint="pass --overwrite to replace it, or give the sessions distinct IDs") from None
    finally:
        staging.unlink(missing_ok=True)
    return str(destination)


def convert_batch(
    *, session_files: list[Path], output_dir: Path, overwrite: bool, compression: object, progress: bool,
    workers: int | None, scheduler: str | None,
) -> list[BatchOutcome]:
    """Convert every session file into ``output_dir``; one outcome per file (value: the NWB path written)."""
    if output_dir.exists() and not output_dir.is_dir():
        raise InputFileError(path=output_dir, field="output folder", expected="a folder", found="a file")
    output_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    if compression is not None and workers != 1:
        compression = dataclasses.replace(compression, n_threads=1)  # type: ignore[type-var]  # one core per worker
    task = functools.partial(convert_task, output_dir=str(output_dir), token=token, overwrite=overwrite,
                             compression=compression)
    costs = None
    if not runs_here(workers=workers, scheduler=scheduler, n_items=len(session_files)):
        # on Dask the largest sessions start first, so that a batch ends on short ones; the workers' template
        # imports meanwhile
        if scheduler is None:
            prepare_local_workers(worker_imports=CONVERT_TASK_IMPORTS)
        costs = [session_cost_in_bytes(session_file=path) for path in session_files]
    try:
        return run_batch(function=task, items=[str(path) for path in session_files], workers=workers,
                         scheduler=scheduler, worker_imports=CONVERT_TASK_IMPORTS, progress=progress,
                         description="converting", costs=costs)
    finally:
        for leftover in output_dir.glob(f"*glymph-batch-{token}-*"):
            leftover.unlink(missing_ok=True)  # staging and partial files of a worker that died mid-task
