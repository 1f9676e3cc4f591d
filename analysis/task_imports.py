"""What a session's task in ``glymph analyze-group`` imports, named without importing it.

Dask workers forked from one template get these imports done once
(:func:`ndx_glymphatic.batch.prepare_local_workers`). This module imports nothing at import time (the batch
module only when asked to start the template), so the command can start the template before it loads the
group stage (the params model, numpy, the statistics).
"""

from __future__ import annotations

__all__ = ["SESSION_REPORT_TASK_IMPORTS", "SESSION_TASK_IMPORTS", "prepare_session_workers", "session_task_imports"]

#: pynwb, the NWB namespaces, the gate and the steps
SESSION_TASK_IMPORTS = ("ndx_glymphatic.analysis.pipeline", "ndx_glymphatic.validators.prepared_worker")
#: with each session's figures and report, the plotting library too
SESSION_REPORT_TASK_IMPORTS = (*SESSION_TASK_IMPORTS, "ndx_glymphatic.analysis.prepared_worker")


def session_task_imports(*, figures: bool) -> tuple[str, ...]:
    """The modules Dask workers need imported before the sessions' tasks (with or without their figures)."""
    return SESSION_REPORT_TASK_IMPORTS if figures else SESSION_TASK_IMPORTS


def prepare_session_workers(*, workers: int | None, scheduler: str | None, n_sessions: int, figures: bool) -> None:
    """Start the local cluster's worker template when the sessions will run on one (not here, not on a scheduler).

    Its imports (about 3 s) come before the first session on every worker, so the sooner it starts the
    sooner the batch ends. Only the first call of a process starts one.
    """
    from ndx_glymphatic.batch import prepare_local_workers, runs_here

    if scheduler is None and not runs_here(workers=workers, scheduler=scheduler, n_items=n_sessions):
        prepare_local_workers(worker_imports=session_task_imports(figures=figures))
