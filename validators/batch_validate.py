"""``glymph validate`` of many files as one batch (in this process, or one file per Dask worker at a time)."""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ndx_glymphatic.validators.report import ValidationReport

__all__ = ["VALIDATE_TASK_IMPORTS", "validate_batch", "validate_task"]

# what :func:`validate_task` imports and loads (pynwb, the NWB namespaces, nwbinspector, the checks), done once
# for all Dask workers forked from one template (:func:`ndx_glymphatic.batch.prepare_local_workers`)
VALIDATE_TASK_IMPORTS = ("ndx_glymphatic.validators.prepared_worker",)


def validate_task(
    path: str, *, profile: str, readiness_factory: Callable[[], Sequence[Any]] | None, limits: str | None,
    isolate: bool, timeout_in_s: float,
) -> dict[str, Any]:
    """Validate one file as ``glymph validate`` does; the report as JSON (picklable, small).

    ``readiness_factory`` (a top-level function, so that it pickles by name) makes the readiness checks in
    the process that runs them: the checks themselves are closures.
    """
    from ndx_glymphatic.validators.api import validate_paths
    from ndx_glymphatic.validators.limits import use_limits

    checks = list(readiness_factory()) if readiness_factory is not None else []
    # a daemonic worker process may not fork the isolating child; the batch then isolates by worker restarts
    can_isolate = isolate and not multiprocessing.current_process().daemon
    with use_limits(path=Path(limits) if limits is not None else None):
        (report,) = validate_paths(paths=[path], profile=profile, progress=False, isolate=can_isolate,  # type: ignore[arg-type]
                                   timeout_in_s=timeout_in_s, readiness_checks=checks)
    return report.to_json()


def _failed_report(*, path: str, profile: str, message: str) -> ValidationReport:
    from ndx_glymphatic.validators.api import failure_report

    return failure_report(
        path=path, profile=profile, check="validation_finished", could_not_run=True,
        message=f"validation did not finish: {message}",
        hint="see the message; a worker that died twice points to a file that crashes the HDF5 library",
    )


def validate_batch(
    *, paths: list[Any], profile: str, readiness_factory: Callable[[], Sequence[Any]] | None,
    limits: Path | None, isolate: bool, timeout_in_s: float, progress: bool, workers: int | None,
    scheduler: str | None,
) -> list[ValidationReport]:
    """One report per file of ``paths`` (folders expanded), in order; a file whose task failed gets a report
    saying why (exit code 2)."""
    from ndx_glymphatic.batch import run_batch, size_in_bytes
    from ndx_glymphatic.validators.api import collect_paths

    files = [str(path) for path in collect_paths(paths=paths)]
    task = functools.partial(validate_task, profile=profile, readiness_factory=readiness_factory,
                             limits=str(limits) if limits is not None else None, isolate=isolate,
                             timeout_in_s=timeout_in_s)
    # the readiness checks come from the module that made the factory (above the validators)
    imports = (*VALIDATE_TASK_IMPORTS, *([readiness_factory.__module__] if readiness_factory is not None else []))
    outcomes = run_batch(function=task, items=files, workers=workers, scheduler=scheduler, worker_imports=imports,
                         progress=progress, description="validating", unit="file",
                         costs=[size_in_bytes(source=file) for file in files])
    return [ValidationReport.from_json(outcome.value) if outcome.ok
            else _failed_report(path=outcome.item, profile=profile, message=str(outcome.error))
            for outcome in outcomes]
