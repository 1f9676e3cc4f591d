"""Preloaded by every worker of glymph's LocalCluster (Dask's ``distributed.worker.preload``): a quiet close.

A worker that closes while its heartbeat to the scheduler is on the way closes that connection itself, and
Dask then logs the cut heartbeat as an error with a traceback ("Failed to communicate with scheduler during
heartbeat"; dask/distributed issues 7105 and 7192). The worker shares the terminal with ``glymph``, so that
traceback would follow the batch's summary although no session failed. Only the heartbeat's records while
the worker is closing are dropped: one from a running worker still shows.
"""

from __future__ import annotations

import logging
from typing import Any

from distributed.core import Status

__all__ = ["ClosingHeartbeatFilter", "dask_setup"]

_CLOSING = frozenset({Status.closing, Status.closing_gracefully, Status.closed})


class ClosingHeartbeatFilter(logging.Filter):
    """Drops what ``Worker.heartbeat`` logs once its worker is closing.

    Parameters
    ----------
    worker : distributed.Worker
        The worker whose status decides (any object with a ``status``).
    """

    def __init__(self, *, worker: Any) -> None:
        super().__init__()
        self._worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        """False (drop) for a record of the heartbeat of a closing worker."""
        return not (record.funcName == "heartbeat" and self._worker.status in _CLOSING)


def dask_setup(worker: Any) -> None:
    """Called by Dask as the worker starts (the preload protocol's name and signature)."""
    logging.getLogger("distributed.worker").addFilter(ClosingHeartbeatFilter(worker=worker))
