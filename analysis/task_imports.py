"""What a session's task in ``glymph analyze-group`` imports, named without importing it.

Dask workers forked from one template get these imports done once
(:func:`ndx_glymphatic.batch.prepare_local_workers`). This module imports nothing itself, so the command
can start the template before it loads the group stage (the params model, numpy, the statistics).
"""

from __future__ import annotations

__all__ = ["SESSION_REPORT_TASK_IMPORTS", "SESSION_TASK_IMPORTS", "session_task_imports"]

#: pynwb, the NWB namespaces, the gate and the steps
SESSION_TASK_IMPORTS = ("ndx_glymphatic.analysis.pipeline", "ndx_glymphatic.validators.prepared_worker")
#: with each session's figures and report, the plotting library too
SESSION_REPORT_TASK_IMPORTS = (*SESSION_TASK_IMPORTS, "ndx_glymphatic.analysis.prepared_worker")


def session_task_imports(*, figures: bool) -> tuple[str, ...]:
    """The modules Dask workers need imported before the sessions' tasks (with or without their figures)."""
    return SESSION_REPORT_TASK_IMPORTS if figures else SESSION_TASK_IMPORTS
