"""Run one function on many sessions: in this process, on a Dask LocalCluster, or on an existing Dask cluster.

Every batch command (``glymph convert`` of many sessions, ``glymph validate``, ``glymph analyze-group``)
hands :func:`run_batch` a picklable top-level function and the items (paths, URLs) to call it on; a
command with later stages on the same workers (``analyze-group``'s group figures) opens the
:class:`Batch` itself (:func:`open_batch`). One
failing item never stops the others: its error becomes that item's :class:`BatchOutcome`. Each Dask worker
runs one task at a time (one thread), so a worker never holds more than one session's data. A worker that
dies during a task (killed, out of memory, a crash of the HDF5 library) has that task run once more on
another worker; if it dies again, the item is reported failed.

Dask is imported only here, inside :func:`open_batch`, and only when the batch runs on Dask: ``glymph``
start-up and ``--workers 1`` never import it.

On Linux the LocalCluster's workers are forked from one template process (multiprocessing's fork server)
that has already imported what the tasks need (``worker_imports``: pynwb, the NWB namespaces, the analysis),
so N workers pay those imports once instead of N times on cores that are the batch's whole budget; a
command may start the template early (:func:`prepare_local_workers`) to import while it does other work.
The template is a fresh interpreter, not a fork of this process (which runs Dask's event-loop thread).
Elsewhere workers start as fresh interpreters (spawn), each importing on its own.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ndx_glymphatic.errors import GlymphError

__all__ = [
    "WORKER_SETTINGS", "Batch", "BatchOutcome", "Pending", "default_worker_count", "format_failures", "open_batch",
    "prepare_local_workers", "prepared_heap", "run_batch", "runs_here", "size_in_bytes", "worker_settings_yaml",
]

# Dask's nannies set these for their workers by default; glymph's workers keep the numerical libraries'
# default threads, as in this process (a sum split over another number of threads rounds differently, and
# the results must equal a serial run's to the last digit) and glibc's own trim threshold. The statistical
# profiler samples every worker thread's stack every 10 ms, slowing the Python-heavy reading of NWB files.
# Every Dask server's event loop also wakes 50 times a second to time itself (the tick), each worker's 10
# times to check its memory and twice to sample its process for the dashboard. A session's thread must hand
# over the GIL at each wake-up and, when every core runs a session, is preempted by it: on two cores those
# wake-ups made each session about 3 % slower. Less often is enough for tasks that take seconds; a worker
# far past its memory limit is still stopped within a second.
WORKER_SETTINGS: dict[str, object] = {
    "distributed.nanny.pre-spawn-environ": {
        "MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": None, "MKL_NUM_THREADS": None,
        "OPENBLAS_NUM_THREADS": None,
    },
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


def _yaml_lines(*, tree: dict[str, Any], depth: int) -> list[str]:
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines += [f"{'  ' * depth}{key}:", *_yaml_lines(tree=value, depth=depth + 1)]
        else:
            text = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            lines.append(f"{'  ' * depth}{key}: {text}")
    return lines


def worker_settings_yaml() -> str:
    """:data:`WORKER_SETTINGS` as a Dask configuration file, for the workers of a standing cluster.

    Returns
    -------
    str
        YAML text; Dask reads it from ``~/.config/dask/`` or the folder named by ``DASK_CONFIG``. A file,
        because Dask lower-cases the names of its ``DASK_...`` environment variables and the nanny's
        variable names are upper case.
    """
    tree: dict[str, Any] = {}
    for dotted, value in WORKER_SETTINGS.items():
        *parents, leaf = dotted.split(".")
        branch = tree
        for parent in parents:
            branch = branch.setdefault(parent, {})
        branch[leaf] = value
    return "\n".join(_yaml_lines(tree=tree, depth=0)) + "\n"


@dataclass(frozen=True)
class BatchOutcome:
    """What one item of a batch gave: its value, or the one-line message of its failure.

    Attributes
    ----------
    item : object
        The item as given to :func:`run_batch`.
    value : object
        What the function returned (None after a failure).
    error : str or None
        Why the item failed, in one line (None on success).
    """

    item: Any
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The function returned for this item."""
        return self.error is None


def default_worker_count() -> int:
    """One worker process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _one_line(*, error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, GlymphError):  # its own words, every line (a list of problems) on one
        return "; ".join(line.strip() for line in text.splitlines() if line.strip()) or type(error).__name__
    last = text.splitlines()[-1] if text else ""
    return f"{type(error).__name__}: {last}" if last else type(error).__name__


def _guarded(function: Callable[[Any], Any], item: Any) -> tuple[bool, Any]:
    """Call ``function(item)``; an exception becomes ``(False, message)`` so that it is not retried."""
    try:
        return True, function(item)
    except Exception as error:
        return False, _one_line(error=error)


def _progress_bar(*, total: int, enabled: bool, description: str, unit: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit=unit, disable=not enabled or total == 0)


@contextlib.contextmanager
def prepared_heap(*, modules: Sequence[str]) -> Iterator[None]:
    """Import ``modules`` with the cyclic garbage collector paused, and keep what exists out of its passes inside.

    What this process holds on entry and what the imports make (hundreds of thousands of objects) is frozen
    (:func:`gc.freeze`) until the block ends, so that the collector's full passes during the block walk only
    what the block makes: about 0.3 s saved per pass, several per one-hour session. The same as the template
    Dask workers are forked from does (:func:`prepare_local_workers`), so a batch in this process and one
    on workers save alike. On exit the frozen objects are handed back to the collector, unless this process
    had frozen some itself before.

    Parameters
    ----------
    modules : sequence of str
        Imported first; one that fails to import is skipped (the task reports the error itself).
    """
    frozen_before = gc.get_freeze_count() > 0
    collecting = gc.isenabled()
    gc.disable()
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the task imports it again and reports the failure
                continue
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    try:
        yield
    finally:
        if not frozen_before:
            gc.unfreeze()


_template_started = False  # multiprocessing keeps one fork server per process; its preload is set once


def _forks_workers() -> bool:
    """Whether LocalCluster workers are forked from a template here (macOS system libraries are not safe in a
    forked child, and Windows cannot fork)."""
    return sys.platform.startswith("linux")


def prepare_local_workers(*, worker_imports: Sequence[str]) -> None:
    """Start, in the background, the template process LocalCluster workers will be forked from.

    Returns at once; the template imports Dask and ``worker_imports`` while this process goes on. Only the
    first call of a process starts one; later calls (and batches needing other modules) reuse it, and their
    workers import the rest when their first task needs it. Does nothing where workers are not forked.

    Parameters
    ----------
    worker_imports : sequence of str
        Modules the tasks need (e.g. ``"ndx_glymphatic.analysis.pipeline"``); one that fails to import is
        skipped (the task then reports the error itself).
    """
    global _template_started
    if _template_started or not _forks_workers():
        return
    import multiprocessing
    import multiprocessing.forkserver

    # the collector is paused while the template imports and what they made is then frozen (see both modules)
    preload = ["ndx_glymphatic.template_imports_start", "distributed", *worker_imports,
               "ndx_glymphatic.template_imports_done"]
    multiprocessing.get_context("forkserver").set_forkserver_preload(preload)
    multiprocessing.forkserver.ensure_running()
    _template_started = True


def _client(*, workers: int | None, scheduler: str | None, worker_imports: Sequence[str]) -> tuple[Any, Any]:
    """A Dask client and the LocalCluster it owns (None when connected to an existing scheduler)."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as error:
            message = f"cannot connect to the Dask scheduler at {scheduler}: {_one_line(error=error)}"
            raise BatchSetupError(message) from None
    prepare_local_workers(worker_imports=worker_imports)
    # a task whose worker dies once is run again; a second death reports it (KilledWorker). Each worker is
    # sent its next task only when it is free, so that a short task never waits behind a long one on a busy
    # worker while another worker idles (the default, 1.1, gives a one-thread worker two at once).
    settings = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.worker.daemon": False,
        "distributed.worker.multiprocessing-method": "forkserver" if _forks_workers() else "spawn",
        # its workers share the terminal with glymph: no traceback from a heartbeat cut by their own closing
        "distributed.worker.preload": ["ndx_glymphatic.worker_preload"],
        **WORKER_SETTINGS,
    }
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers or default_worker_count(), threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
        )
    return Client(cluster), cluster


class BatchSetupError(GlymphError):
    """The batch could not start (no scheduler at the address given)."""

    exit_code = 2


def _failure_of(*, future: Any) -> str:
    from distributed import KilledWorker

    error = future.exception()
    if isinstance(error, KilledWorker):
        return "the worker process died twice while working on it (killed, out of memory, or a crash)"
    return _one_line(error=error)


class Pending:
    """The result of one :meth:`Batch.submit` call, to be collected with :meth:`result`."""

    def __init__(self, *, future: Any = None, call: Callable[[], Any] | None = None) -> None:
        self._future = future
        self._call = call

    def result(self) -> Any:
        """What the function returned; an exception it raised is raised here."""
        if self._future is not None:
            return self._future.result()
        assert self._call is not None
        return self._call()


class Batch:
    """Where a command's tasks run: this process, or the workers of a Dask cluster, open for all its stages.

    Made by :func:`open_batch`. :meth:`map` runs one function on many items (one outcome per item);
    :meth:`submit` runs one more task (e.g. a figure of the whole group) while this process goes on.
    """

    def __init__(self, *, client: Any, worker_imports: Sequence[str]) -> None:
        self._client = client
        self._worker_imports = tuple(worker_imports)

    @classmethod
    def here(cls, *, worker_imports: Sequence[str] = ()) -> Batch:
        """A batch that runs its tasks in this process, one after another (no Dask)."""
        return cls(client=None, worker_imports=worker_imports)

    @property
    def in_this_process(self) -> bool:
        """The tasks run in this process, one after another (no Dask)."""
        return self._client is None

    def map(
        self, *, function: Callable[[Any], Any], items: Sequence[Any], progress: bool = True,
        description: str = "sessions", unit: str = "session", costs: Sequence[int] | None = None,
    ) -> list[BatchOutcome]:
        """Call ``function`` on every item; one outcome per item, in the items' order (see :func:`run_batch`)."""
        items = list(items)
        if costs is not None and len(costs) != len(items):
            raise ValueError(f"{len(costs)} costs for {len(items)} items")
        enabled = progress and sys.stderr.isatty()
        if self._client is None:
            return _map_here(function=function, items=items, worker_imports=self._worker_imports, progress=enabled,
                             description=description, unit=unit)
        return _map_on_dask(client=self._client, function=function, items=items, progress=enabled,
                            description=description, unit=unit, costs=costs)

    def submit(self, function: Callable[..., Any], /, **keywords: Any) -> Pending:
        """Run ``function(**keywords)`` on a worker (in this process: when its result is asked for).

        Parameters
        ----------
        function : callable
            A top-level function; it and ``keywords`` must pickle.
        **keywords
            Its arguments.

        Returns
        -------
        Pending
        """
        if self._client is None:
            return Pending(call=functools.partial(function, **keywords))
        return Pending(future=self._client.submit(function, **keywords, pure=False))


def _map_here(
    *, function: Callable[[Any], Any], items: Sequence[Any], worker_imports: Sequence[str], progress: bool,
    description: str, unit: str,
) -> list[BatchOutcome]:
    outcomes = []
    with (prepared_heap(modules=worker_imports),
          _progress_bar(total=len(items), enabled=progress, description=description, unit=unit) as bar):
        for item in items:
            ok, value = _guarded(function, item)
            outcomes.append(BatchOutcome(item=item, value=value) if ok else BatchOutcome(item=item, error=value))
            bar.update(1)
    return outcomes


def _map_on_dask(
    *, client: Any, function: Callable[[Any], Any], items: Sequence[Any], progress: bool, description: str,
    unit: str, costs: Sequence[int] | None,
) -> list[BatchOutcome]:
    import uuid

    from distributed import as_completed

    batch = uuid.uuid4().hex  # keys unique to this batch: a scheduler may still know an earlier batch's
    # the dearest items are sent first, so that the batch ends on short ones rather than on one worker busy with
    # a long one while the others idle. Dask starts tasks in the order they arrive (a task sent alone goes to a
    # free worker at once, so a priority would not reorder the first ones)
    order = sorted(range(len(items)), key=lambda index: -costs[index]) if costs is not None else list(range(len(items)))
    futures = [
        client.submit(_guarded, function, items[index], key=f"glymph-{batch}-{index}", pure=False, retries=1)
        for index in order
    ]
    index_of = {future.key: index for index, future in zip(order, futures)}
    outcomes: list[BatchOutcome | None] = [None] * len(items)
    with _progress_bar(total=len(items), enabled=progress, description=description, unit=unit) as bar:
        for future in as_completed(futures):
            index = index_of[future.key]
            if future.status == "finished":
                ok, value = future.result()
                outcomes[index] = (BatchOutcome(item=items[index], value=value) if ok
                                   else BatchOutcome(item=items[index], error=value))
            else:
                outcomes[index] = BatchOutcome(item=items[index], error=_failure_of(future=future))
            future.release()
            bar.update(1)
    return [outcome for outcome in outcomes if outcome is not None]


@contextlib.contextmanager
def open_batch(
    *, workers: int | None = None, scheduler: str | None = None, n_items: int, worker_imports: Sequence[str] = (),
) -> Iterator[Batch]:
    """The :class:`Batch` a command runs its tasks on, from its first stage to its last.

    Parameters
    ----------
    workers : int, optional
        Worker processes of a LocalCluster (default: one per core). ``1`` runs in this process, without Dask.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); ``workers`` is then ignored.
    n_items : int
        Items of the first stage; one item runs in this process (see :func:`runs_here`).
    worker_imports : sequence of str
        Modules the tasks need, imported once for all LocalCluster workers (see :func:`prepare_local_workers`),
        or in this process before the first item of :meth:`Batch.map` (see :func:`prepared_heap`).

    Yields
    ------
    Batch
        On leaving, the Dask client is closed, and the LocalCluster it owned with it.
    """
    if runs_here(workers=workers, scheduler=scheduler, n_items=n_items):
        yield Batch.here(worker_imports=worker_imports)
        return
    client, cluster = _client(workers=workers, scheduler=scheduler, worker_imports=worker_imports)
    try:
        yield Batch(client=client, worker_imports=worker_imports)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_batch(
    *,
    function: Callable[[Any], Any],
    items: Sequence[Any],
    workers: int | None = None,
    scheduler: str | None = None,
    worker_imports: Sequence[str] = (),
    progress: bool = True,
    description: str = "sessions",
    unit: str = "session",
    costs: Sequence[int] | None = None,
) -> list[BatchOutcome]:
    """Call ``function`` on every item; one outcome per item, in the items' order.

    Parameters
    ----------
    function : callable
        ``function(item)``; a top-level function (or ``functools.partial`` of one) so that Dask workers
        can unpickle it. Exceptions it raises are reported as that item's failure.
    items : sequence
        Picklable items (paths, URLs).
    workers : int, optional
        Worker processes of a LocalCluster (default: one per core). ``1`` runs in this process, without Dask.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); ``workers`` is then ignored.
    worker_imports : sequence of str
        Modules ``function`` needs, imported once for all LocalCluster workers (see
        :func:`prepare_local_workers`), or in this process before the first item (see :func:`prepared_heap`).
    progress : bool
        One tqdm bar for the batch (only when standard error is a terminal).
    description, unit : str
        Label and unit of the bar.
    costs : sequence of int, optional
        How long each item is expected to take, in any unit (e.g. :func:`size_in_bytes`): on Dask the dearest
        start first. In this process the items run in their order.

    Returns
    -------
    list of BatchOutcome
    """
    items = list(items)
    with open_batch(workers=workers, scheduler=scheduler, n_items=len(items), worker_imports=worker_imports) as batch:
        return batch.map(function=function, items=items, progress=progress, description=description, unit=unit,
                         costs=costs)


def size_in_bytes(*, source: str) -> int:
    """The size of a local file, or of the files directly in a local folder (a TDT block), as the cost of a task
    that reads it; 0 for a URL or a path that is neither (the task reports what is wrong with it)."""
    from ndx_glymphatic.remote import is_url

    if is_url(source):
        return 0
    try:
        status = os.stat(source)
        if stat.S_ISREG(status.st_mode):
            return status.st_size
        if not stat.S_ISDIR(status.st_mode):
            return 0
        with os.scandir(source) as entries:
            return sum(entry.stat().st_size for entry in entries if entry.is_file())
    except OSError:
        return 0


def runs_here(*, workers: int | None, scheduler: str | None, n_items: int) -> bool:
    """Whether :func:`open_batch` runs the tasks in this process (else on Dask worker processes, one per core)."""
    return scheduler is None and (workers == 1 or n_items <= 1)


def format_failures(*, outcomes: Sequence[BatchOutcome], what: str) -> list[str]:
    """One line per failed item (``FAILED item: message``) and the summary line.

    Parameters
    ----------
    outcomes : sequence of BatchOutcome
    what : str
        What succeeded, in the summary (e.g. ``"converted"``).

    Returns
    -------
    list of str
    """
    lines = [f"FAILED {outcome.item}: {outcome.error}" for outcome in outcomes if not outcome.ok]
    failed = len(lines)
    lines.append(f"{len(outcomes) - failed} of {len(outcomes)} {what}, {failed} failed")
    return lines


def batch_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--workers`` and ``--scheduler`` options of every batch command (click decorator)."""
    import click

    command = click.option(
        "--scheduler", default=None, metavar="ADDRESS",
        help="Run on an existing Dask cluster (e.g. tcp://host:8786); its workers must reach the files.",
    )(command)
    return click.option(
        "--workers", type=click.IntRange(min=1), default=None,
        help="Worker processes of a local Dask cluster (default: one per core); 1 runs here, without Dask.",
    )(command)
