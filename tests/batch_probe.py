"""Task functions for tests/test_batch.py that import only the standard library, so that what a Dask
worker had imported before its first task shows in the task's answer."""

from __future__ import annotations

import os
import sys


def imported_before_task(module: str) -> tuple[bool, int]:
    """Whether ``module`` was imported in this worker process, and the process's parent."""
    return module in sys.modules, os.getppid()
