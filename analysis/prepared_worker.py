"""Importing this module prepares a process to analyse sessions and draw their figures.

It is named in :data:`~ndx_glymphatic.analysis.task_imports.SESSION_REPORT_TASK_IMPORTS`, so the template
process Dask workers are forked from (:func:`ndx_glymphatic.batch.prepare_local_workers`) does this once,
before any worker exists, instead of every worker in its first session: what validation needs
(:mod:`ndx_glymphatic.validators.prepared_worker`), the analysis, and the plotting library with its
renderer, fonts and PNG writer (one small figure drawn in memory, written nowhere). A batch in one process
imports it before its first session too (:func:`ndx_glymphatic.batch.prepared_heap`), with the garbage
collector paused.
"""

from __future__ import annotations

import ndx_glymphatic.analysis.pipeline
import ndx_glymphatic.validators.prepared_worker  # noqa: F401
from ndx_glymphatic.analysis.report import draw_once_in_memory

draw_once_in_memory()
