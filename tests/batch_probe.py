"""Task functions for tests/test_batch.py that import only the standard library, so that what a Dask
worker had imported before its first task shows in the task's answer."""

from __future__ import annotations

import asyncio
import os
import sys


def imported_before_task(module: str) -> tuple[bool, int]:
    """Whether ``module`` was imported in this worker process, and the process's parent."""
    return module in sys.modules, os.getppid()


def prepared_before_task(_: object) -> tuple[bool, int]:
    """Whether this worker had drawn with the plotting library and loaded the published specifications before
    its first task (without importing either here), and the process's parent."""
    checks = sys.modules.get("ndx_glymphatic.validators.checks_stored_objects")
    loaded = checks is not None and checks._published_specifications.cache_info().currsize == 1
    return loaded and "matplotlib.backends.backend_agg" in sys.modules, os.getppid()


def heap_on_arrival(module: str) -> tuple[int, bool, bool, int]:
    """How many objects were frozen out of the garbage collector's passes when the task began, whether the
    collector was running, whether ``module`` was imported, and the process's parent."""
    import gc

    return gc.get_freeze_count(), gc.isenabled(), module in sys.modules, os.getppid()


def start_time_after_waiting(seconds: float) -> float:
    """When this task began (seconds since the epoch); it then waits ``seconds``."""
    import time

    began = time.time()
    time.sleep(seconds)
    return began


def hold_heartbeats(dask_scheduler: object, seconds: float) -> None:
    """Make the scheduler answer every worker's heartbeat only after ``seconds``."""
    handlers = dask_scheduler.handlers  # type: ignore[attr-defined]
    answer = handlers["heartbeat_worker"]

    async def held(**message: object) -> object:
        await asyncio.sleep(seconds)
        return answer(**message)

    handlers["heartbeat_worker"] = held
