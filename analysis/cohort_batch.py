"""The per-session part of ``glymph analyze-group``, run as a batch (in this process or on Dask workers).

Each session is one task: the readiness gate, the analysis and the session's outputs, written into a
temporary folder beside ``sessions/<name>`` and renamed into place when complete, so that a worker that
dies mid-task leaves only a ``.partial`` folder, removed here once the batch is over.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.task_imports import (
    SESSION_REPORT_TASK_IMPORTS,
    SESSION_TASK_IMPORTS,
    session_task_imports,
)
from ndx_glymphatic.errors import GlymphError, NotReadyError
from ndx_glymphatic.remote import as_source, source_name

if TYPE_CHECKING:
    from ndx_glymphatic.batch import Batch

__all__ = [
    "SESSION_REPORT_TASK_IMPORTS", "SESSION_TASK_IMPORTS", "LeftOutSession", "SessionBatchError",
    "analyze_session_task", "analyze_sessions", "session_folder_names", "session_task_imports",
]


class SessionBatchError(GlymphError):
    """Sessions of a group could not be analysed (each listed); nothing was written."""

    exit_code = 2


def session_folder_names(*, files: list[Any]) -> list[str]:
    """The ``sessions/<name>`` folder of each file: its stem, with ``_`` added until unique."""
    used: set[str] = set()
    names = []
    for path in files:
        name = Path(source_name(path)).stem
        while name in used:
            name += "_"
        used.add(name)
        names.append(name)
    return names


def analyze_session_task(
    item: tuple[str, str], *, sessions_dir: str, params: AnalysisParams, check: bool, figures: bool,
    second_process: bool = True,
) -> dict[str, Any]:
    """Analyse one session (``item`` = (file, folder name)) into ``sessions_dir/<name>``.

    ``second_process``: as in :func:`~ndx_glymphatic.analysis.pipeline.analyze_file` (off on Dask workers,
    where every core already runs a session).

    Returns
    -------
    dict
        ``{"not_ready": report text}`` when the file fails the readiness gate (nothing written), else
        ``{"document": metrics.json as written}``.
    """
    from ndx_glymphatic.analysis.pipeline import FileNotReadyError, analyze_file, write_outputs

    source, name = item
    folder = Path(sessions_dir)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=folder))
    try:
        try:
            analysis = analyze_file(nwb_path=as_source(source), params=params, show_progress=False, check=check,
                                    second_process=second_process)
        except FileNotReadyError as error:
            return {"not_ready": error.report.format_text()}
        document, _, _ = write_outputs(analysis=analysis, nwb_path=as_source(source), folder=staging, figures=figures)
        del analysis
        os.chmod(staging, 0o777 & ~_umask())
        os.replace(staging, folder / name)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return {"document": document}


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@dataclass(frozen=True)
class LeftOutSession:
    """A session of the group that is not in its tables, and why.

    Attributes
    ----------
    file : str
        The NWB file (path or URL).
    reason : str
        ``"not ready for analysis"`` or ``"could not be analysed"``.
    details : str
        The readiness report, or the error in one line.
    """

    file: str
    reason: str
    details: str


def analyze_sessions(
    *, files: list[Any], sessions_dir: Path, params: AnalysisParams, check: bool, figures: bool, progress: bool,
    batch: Batch,
) -> tuple[list[tuple[str, Any, dict[str, Any]]], list[LeftOutSession]]:
    """Analyse every session as one batch: one that fails leaves the others be.

    Parameters
    ----------
    batch : Batch
        Where the sessions run (:func:`ndx_glymphatic.batch.open_batch`, with :func:`session_task_imports`).

    Returns
    -------
    analysed : list of (folder name, file, metrics document)
        The sessions analysed, in the order of ``files``.
    left_out : list of LeftOutSession
        The others: not ready for analysis (the readiness gate refused them) or failed (with why).

    Raises
    ------
    NotReadyError
        No session was analysed and every file failed the readiness gate (every one listed).
    SessionBatchError
        No session was analysed (every one listed, with why).
    """
    from ndx_glymphatic.batch import size_in_bytes

    names = session_folder_names(files=files)
    task = functools.partial(analyze_session_task, sessions_dir=str(sessions_dir), params=params, check=check,
                             figures=figures, second_process=batch.in_this_process)
    try:
        outcomes = batch.map(function=task, items=[(str(path), name) for path, name in zip(files, names)],
                             progress=progress, description="analysing",
                             costs=[size_in_bytes(source=str(path)) for path in files])
    finally:
        for leftover in sessions_dir.glob(".*.partial") if sessions_dir.is_dir() else []:
            shutil.rmtree(leftover, ignore_errors=True)  # of a worker that died mid-task
    analysed, left_out = [], []
    for name, path, outcome in zip(names, files, outcomes):
        if not outcome.ok:
            left_out.append(LeftOutSession(file=str(path), reason="could not be analysed", details=str(outcome.error)))
        elif "not_ready" in outcome.value:
            left_out.append(LeftOutSession(file=str(path), reason="not ready for analysis",
                                           details=outcome.value["not_ready"]))
        else:
            analysed.append((name, path, outcome.value["document"]))
    if analysed:
        return analysed, left_out
    if all(session.reason == "not ready for analysis" for session in left_out):
        raise NotReadyError(
            f"{len(left_out)} of {len(files)} files are not ready for analysis; nothing was written. "
            "Fix these and run again:\n" + "\n".join(session.details for session in left_out)
        )
    lines = [f"FAILED {session.file}: {session.reason}: {session.details.strip().splitlines()[0]}"
             for session in left_out]
    raise SessionBatchError(f"none of the {len(files)} sessions could be analysed; nothing was written:\n"
                            + "\n".join(lines))
