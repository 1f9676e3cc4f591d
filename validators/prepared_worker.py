"""Importing this module prepares a process to validate NWB files.

It is named in the task imports of the batch commands (:data:`~ndx_glymphatic.validators.batch_validate.
VALIDATE_TASK_IMPORTS`, :data:`~ndx_glymphatic.analysis.task_imports.SESSION_TASK_IMPORTS`), so the template
process Dask workers are forked from (:func:`ndx_glymphatic.batch.prepare_local_workers`) does this once,
before any worker exists, instead of every worker in its first file: pynwb, the NWB namespaces, the checks,
and the specifications the installed namespaces write (the stored-object checks compare each file's cached
specifications with them). A batch in one process imports it before its first file too
(:func:`ndx_glymphatic.batch.prepared_heap`), with the garbage collector paused.
"""

from __future__ import annotations

import ndx_glymphatic.access
import ndx_glymphatic.validators.api
import ndx_glymphatic.validators.checks
import ndx_glymphatic.validators.layers  # noqa: F401
from ndx_glymphatic.validators.checks_stored_objects import _published_specifications

_published_specifications()
