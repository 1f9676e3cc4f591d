"""Scale: ``glymph analyze-group`` on simulated sessions with ``--workers 1`` and ``--workers 2``.

Part (a) prints the wall time of each run, the speed-up, and the peak resident memory (RSS) of every process
of the run (the glymph process and, with Dask, each worker process), sampled with psutil: the command as a
user runs it (with each session's figures and report) and with ``--no-session-reports`` (metrics only), each
in ``--repeats`` rounds of ``--workers 1`` then ``--workers 2``, compared by their medians (wall times on a
shared 2-core machine vary by 10-30 % from run to run). Each run's phases are read off its output folder
(when the first session was done, one session's time on its worker, the group stage), and each ``--workers 1``
run's serial part (start-up, imports, group stage) gives the most two perfect workers could gain on it
(Amdahl's law), against which the speed-up is read. With two analyses at once each session takes longer than
alone (they share the caches, the memory bandwidth and the host's clock); the ``--workers 1`` run's serial
part plus the sessions at the ``--workers 2`` run's own time per session gives what two workers could reach at
no cost of Dask at all. A ``--workers 1`` run keeps more than one core busy at
times (the numerical libraries' threads, the second process that reduces a session's photometry), so the
machine's busy core-seconds during it (psutil's CPU times, every core added up) give a tighter bound: the same
work, its serial part on one core and the rest on two. Sessions are simulated into /tmp (or --folder) once and
reused.

Parts (b) and (c) stream one simulated session (``--stream-duration-s``, 4 h by default) from a real HTTP
server on 127.0.0.1 with Range support (:class:`ndx_glymphatic.testing.range_server.RangeServer`):

* (b) ``glymph analyze`` of the file read locally and of its URL: wall time of both, and the bytes the
  server sent against the bytes of the datasets the analysis reads (h5py storage sizes of every dataset
  outside ``/specifications``; all of them are read in a simulated session). ``glymph analyze`` validates
  the file first, on the same open file, and the gate's NaN-run check of the streams the analysis reduces
  is answered by that reduction; the analysis alone (``run_analysis(check=False)``) is measured as well.
* (c) ``glymph validate`` of the URL against the local file: wall time and bytes sent.
* (d, not in the default run) ``analyze-group`` of the same sessions on an existing cluster (``--scheduler``:
  a ``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` started here, warmed by one run),
  against the ``--workers 1`` wall of part (a): what the batch gains once the workers' start-up (interpreter,
  imports, NWB namespaces) is paid, as on a lab's standing cluster.
* (e) the same sessions analysed by plain Python processes, no Dask and no glymph command: all in one process,
  then split between two running at once: the most two cores give on this machine for the sessions' part of
  (a) (two analyses at once share the memory bandwidth and caches), against which (a)'s speed-up is read.
  With (a), it runs in each of (a)'s rounds (with the sessions' figures in the default mode), since what two
  processes at once gain on a shared machine changes from minute to minute.
* (g, not in the default run) ``glymph convert`` of 4 simulated 1-h TDT sessions (rig files + session.yaml)
  into one folder with ``--workers 1 --threads 1`` (one core), ``--workers 1`` (compressing on one thread per
  core) and ``--workers 2``: wall time, cores busy on average and the peak RSS of every process, against the
  single-session figure of the issue (convert <= 250 MB per worker).
* (h, not in the default run) ``analyze-group --workers 2`` of sessions of different lengths (three of part
  (a)'s and one of ``--long-duration-s``, 12 h by default), the long one listed last and listed first, in
  alternating rounds: glymph sends the largest files first, so the wall should not depend on the order of the
  inputs. Each run's sessions' end times, read off the output folder, show the order they ran in.
* (i, not in the default run) ``glymph convert --workers 2`` of three of part (g)'s rig sessions and one of
  ``--long-duration-s``, listed last and first, as in (h): glymph sends the sessions whose rig files are largest
  first.
* (j) what two cores give this machine on work that touches no memory: a pure-Python arithmetic loop (3 to 5
  s here) in one process, then in two processes at once, each doing the same loop. Twice the one process's wall
  over the two processes' wall is the throughput two cores give; 2.00x on two idle cores of their own. It
  needs no data and no glymph; with (a), it runs in each of (a)'s rounds, beside (e).
* (f, not in the default run) h5py reading every dataset of that file over remfile (what glymph uses) and
  over fsspec's HTTP file, the two choices for range requests.

Usage: ``python benchmarks/bench_scale.py [--parts abcej] [--sessions 8] [--duration-s 3600] [--repeats 3]
[--stream-duration-s 14400] [--folder /tmp/glymph-bench-scale]`` (the issue's figures: 8 sessions of 1 h,
one 4-h session, at the rig rates).
"""

from __future__ import annotations

import argparse
import compileall
import importlib
import math
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import psutil


def _simulate(*, folder: Path, sessions: int, duration_in_s: float) -> list[Path]:
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(sessions):
        path = folder / f"s{index}_{int(duration_in_s)}s.nwb"
        if not path.exists():
            condition = "vehicle" if index % 2 == 0 else "zolpidem"
            session = simulate_session(parameters=SimulationParameters(
                duration_in_s=duration_in_s, seed=index // 2 + 1, condition=condition))
            write_session_nwb(session=session, path=path)
        paths.append(path)
    return paths


def _core_seconds() -> tuple[float, float]:
    """CPU seconds since the machine booted (every core added up): spent on anything but idling, and stolen.

    Read before and after a run, each difference over the run's wall time is a number of cores on average. Busy
    cores: a batch that keeps every core busy can go no faster without doing less work. Stolen: what the
    hypervisor gave to other guests while this machine's cores wanted to run (0 where the kernel does not count
    it); a run that loses more of it goes slower for reasons outside the batch. Both come from one reading.
    """
    times = psutil.cpu_times()
    stolen = getattr(times, "steal", 0.0)
    return sum(times) - times.idle - getattr(times, "iowait", 0.0) - stolen, stolen


class _Run(NamedTuple):
    """What one command's run took."""

    wall_in_s: float
    #: peak RSS (bytes) of every process of the run, by pid
    peaks: dict[int, int]
    #: the machine's busy core-seconds over the run (:func:`_core_seconds`) per second of wall time
    cores_busy: float
    #: core-seconds the host took from this machine over the run (:func:`_core_seconds`) per second of wall
    #: time
    cores_stolen: float


def _run(*, arguments: list[str], allowed: tuple[int, ...] = (0,)) -> _Run:
    """Run one command to its end, sampling the memory of its processes."""
    started, (busy_before, stolen_before) = time.perf_counter(), _core_seconds()
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(process.pid)
    peaks: dict[int, int] = {}
    while process.poll() is None:
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for member in members:
            try:
                peaks[member.pid] = max(peaks.get(member.pid, 0), member.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.2)
    wall = time.perf_counter() - started
    if process.returncode not in allowed:
        sys.exit(f"{' '.join(arguments)} failed: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    busy_after, stolen_after = _core_seconds()
    return _Run(wall_in_s=wall, peaks=peaks, cores_busy=(busy_after - busy_before) / wall,
                cores_stolen=(stolen_after - stolen_before) / wall)


def _sessions_done(*, output: Path) -> list[tuple[float, str]]:
    """When each ``sessions/<name>`` folder of an ``analyze-group`` run was renamed into place (the rename sets
    its status-change time, ``time.time()`` seconds), and its name, first done first."""
    return sorted((folder.stat().st_ctime, folder.name) for folder in (output / "sessions").iterdir())


def _phases(*, output: Path, started_at: float, workers: int) -> tuple[float, float, float]:
    """When an ``analyze-group`` run's sessions were done, read off its output folder (no instrumentation).

    Each ``sessions/<name>`` folder is renamed into place when its session is complete (the rename sets its
    status-change time) and ``report.html`` is the run's last file. ``started_at`` is the run's start
    (``time.time()``). With ``workers`` workers the sessions end in rounds of ``workers`` (the k-th done, from
    0, in round ``k // workers``); a session's time on its worker is the least-squares slope of the times done
    against their rounds, so that two sessions ending together are not read as one taking no time.

    Returns
    -------
    tuple of float
        Seconds from the start to the first session done, one session's time on its worker, and the seconds
        from the last session done to the report (the group stage).
    """
    done = [at for at, _ in _sessions_done(output=output)]
    rounds = [index // workers for index in range(len(done))]
    session = statistics.linear_regression(rounds, done).slope if len(set(rounds)) > 1 else 0.0
    return done[0] - started_at, session, (output / "report.html").stat().st_mtime - done[-1]


def _part_done_once(*, first_done_in_s: float, session_in_s: float, group_in_s: float) -> float:
    """What a run does once whatever the number of workers: start-up and imports, and the group stage.

    The first session done took one session's time on its worker; its wait beyond that is start-up and imports.
    """
    return max(0.0, first_done_in_s - session_in_s) + group_in_s


def _machine_bound(*, wall_in_s: float, serial_in_s: float, session_in_s: float, sessions: int, workers: int) -> float:
    """The most ``workers`` workers could gain on a ``--workers 1`` run at no cost of Dask.

    No start-up beyond the run's ``serial_in_s``, and each session taking ``session_in_s`` as measured with every
    core busy: what is left of Amdahl's bound once the machine's own slowing of two analyses at once (shared
    caches, memory bandwidth, the host's clock) is counted.
    """
    return wall_in_s / (serial_in_s + math.ceil(sessions / workers) * session_in_s)


def _amdahl_bound(*, wall_in_s: float, serial_in_s: float, workers: int) -> float:
    """The most ``workers`` perfect workers could gain on a ``--workers 1`` run whose serial part is ``serial_in_s``.

    The rest, the sessions, is split evenly between the workers at no cost (Amdahl's law).
    """
    return wall_in_s / (serial_in_s + (wall_in_s - serial_in_s) / workers)


def _work_bound(*, wall_in_s: float, serial_in_s: float, busy_core_s: float, workers: int) -> float:
    """The most ``workers`` workers could gain on a ``--workers 1`` run by doing the same work on more cores.

    The run kept the machine busy for ``busy_core_s`` core-seconds (its own threads and helper processes
    included, so more than its wall time); its serial part, ``serial_in_s``, is taken to use one core, and
    the rest of the work is split evenly between the workers at no cost. Tighter than
    :func:`_amdahl_bound` when the single worker already uses more than one core.
    """
    return wall_in_s / (serial_in_s + max(0.0, busy_core_s - serial_in_s) / workers)


def _big_peaks(*, peaks: dict[int, int]) -> str:
    """The peak RSS of the run's processes above 100 MB (the interpreters that hold data), largest first."""
    big = sorted((rss for rss in peaks.values() if rss > 100 * 2**20), reverse=True)
    return ", ".join(f"{rss / 2**20:.0f} MB" for rss in big)


def _same_tables(first: Path, second: Path) -> bool:
    """Whether two ``analyze-group`` output folders hold the same sessions, comparisons and predictors tables."""
    return all((first / name).read_text() == (second / name).read_text()
               for name in ("sessions.csv", "comparisons.csv", "predictors.csv"))


def _group_rounds(
    *, glymph: str, files: list[Path], folder: Path, reports: bool, repeats: int, duration_in_s: float,
    ceiling: bool, arithmetic: bool,
) -> float:
    """Part (a) in one mode: ``repeats`` rounds of ``--workers 1`` then ``--workers 2``; the median walls.

    With ``ceiling``, each round also runs part (e) on the same sessions (with figures when ``reports``), so
    that each round's speed-up can be read against what two plain processes gained at that moment; with
    ``arithmetic``, part (j) as well. Returns the median ``--workers 1`` wall. The tables of the last round's
    runs are compared.
    """
    mode = "with session reports (the default)" if reports else "--no-session-reports"
    prefix = "group-reports" if reports else "group"
    walls: dict[int, list[float]] = {1: [], 2: []}
    session_times: dict[int, list[float]] = {1: [], 2: []}
    fixed_parts: dict[int, list[float]] = {1: [], 2: []}
    stolen: dict[int, list[float]] = {1: [], 2: []}
    ceilings: list[float] = []
    throughputs: list[float] = []
    bounds: list[float] = []
    work_bounds: list[float] = []
    machine_bounds: list[float] = []
    for round_number in range(1, repeats + 1):
        line = []
        for workers in (1, 2):
            output = folder / f"{prefix}-w{workers}"
            shutil.rmtree(output, ignore_errors=True)
            flags = ["--workers", str(workers), "--no-progress", *([] if reports else ["--no-session-reports"])]
            started_at = time.time()
            wall, peaks, cores_busy, cores_stolen = _run(
                arguments=[glymph, "analyze-group", *map(str, files), "-o", str(output), *flags])
            stolen[workers].append(cores_stolen)
            walls[workers].append(wall)
            first, session, group_stage = _phases(output=output, started_at=started_at, workers=workers)
            session_times[workers].append(session)
            once = _part_done_once(first_done_in_s=first, session_in_s=session, group_in_s=group_stage)
            fixed_parts[workers].append(once)
            line.append(f"--workers {workers} {wall:.1f} s (first session done at {first:.1f} s, each session "
                        f"{session:.2f} s on its worker; group stage {group_stage:.1f} s; cores busy on average "
                        f"{cores_busy:.2f} of {psutil.cpu_count()}, taken by the host {cores_stolen:.2f}; "
                        f"peak RSS > 100 MB: {_big_peaks(peaks=peaks)})")
            if workers == 1:
                bound = _amdahl_bound(wall_in_s=wall, serial_in_s=once, workers=2)
                bounds.append(bound)
                work_bound = _work_bound(wall_in_s=wall, serial_in_s=once, busy_core_s=cores_busy * wall, workers=2)
                work_bounds.append(work_bound)
                line.append(f"serial part {once:.1f} s: two perfect workers at most {bound:.2f}x, or "
                            f"{work_bound:.2f}x doing the same {cores_busy * wall:.1f} core-seconds of work")
        machine_bound = _machine_bound(wall_in_s=walls[1][-1], serial_in_s=fixed_parts[1][-1],
                                       session_in_s=session_times[2][-1], sessions=len(files), workers=2)
        machine_bounds.append(machine_bound)
        line.append(f"{walls[1][-1] / walls[2][-1]:.2f}x (at no cost of Dask, with each session as slow as with "
                    f"both cores busy, at most {machine_bound:.2f}x)")
        if ceiling:
            one, two = _plain_processes(files=files, folder=folder / "plain", figures=reports)
            ceilings.append(one / two)
            line.append(f"(e) plain processes: one {one:.1f} s, two at once {two:.1f} s: {one / two:.2f}x")
        if arithmetic:
            throughput, shown = _arithmetic_round(steps=_ARITHMETIC_STEPS)
            throughputs.append(throughput)
            line.append(shown)
        print(f"(a) analyze-group {len(files)} x {duration_in_s:g} s {mode}, round {round_number}: " + "; ".join(line),
              flush=True)
    same = _same_tables(folder / f"{prefix}-w1", folder / f"{prefix}-w2")
    serial, parallel = statistics.median(walls[1]), statistics.median(walls[2])
    ratios = [one / two for one, two in zip(walls[1], walls[2])]
    session_one, session_two = statistics.median(session_times[1]), statistics.median(session_times[2])
    summary = (f"(a) {mode}: median --workers 1 {serial:.1f} s, --workers 2 {parallel:.1f} s: "
               f"speed-up {serial / parallel:.2f}x (rounds: {', '.join(f'{value:.2f}x' for value in ratios)}; "
               f"median of the rounds {statistics.median(ratios):.2f}x); same tables: {same}; "
               f"Amdahl bound of the --workers 1 runs, median {statistics.median(bounds):.2f}x, and for the "
               f"same work on two cores {statistics.median(work_bounds):.2f}x; "
               f"a session's time on its worker, median: {session_one:.2f} s alone and {session_two:.2f} s with both "
               f"cores busy ({session_two / session_one - 1:+.0%}), which leaves at most "
               f"{statistics.median(machine_bounds):.2f}x at no cost of Dask; "
               f"part done once (start-up beyond the first session's own time, and the group stage), median: "
               f"{statistics.median(fixed_parts[1]):.1f} s and {statistics.median(fixed_parts[2]):.1f} s; "
               f"cores taken by the host, median: {statistics.median(stolen[1]):.2f} and "
               f"{statistics.median(stolen[2]):.2f}")
    if ceilings:
        summary += (f"; (e) ceiling, median {statistics.median(ceilings):.2f}x "
                    f"(rounds: {', '.join(f'{value:.2f}x' for value in ceilings)})")
    if throughputs:
        summary += (f"; (j) arithmetic throughput of two cores, median {statistics.median(throughputs):.2f}x "
                    f"(rounds: {', '.join(f'{value:.2f}x' for value in throughputs)})")
    print(summary, flush=True)
    return serial


def _dataset_bytes(*, path: Path) -> int:
    """Storage bytes of every dataset outside ``/specifications`` (what the analysis of a session reads)."""
    import h5py

    total = 0

    def add(name: str, obj: object) -> None:
        nonlocal total
        if isinstance(obj, h5py.Dataset) and not name.startswith("specifications"):
            total += obj.id.get_storage_size()

    with h5py.File(path, "r") as h5file:
        h5file.visititems(add)
    return total


def _analysis_alone(*, source: str, output: Path) -> float:
    """Wall time of the analysis without the readiness gate, in a fresh process."""
    code = ("import sys, time; from ndx_glymphatic.analysis.pipeline import run_analysis; t = time.perf_counter(); "
            "run_analysis(nwb_path=sys.argv[1], output_dir=sys.argv[2], overwrite=True, check=False, figures=False, "
            "show_progress=False); print(time.perf_counter() - t)")
    result = subprocess.run([sys.executable, "-c", code, source, str(output)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"analysis of {source} failed: {result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def _streamed(*, folder: Path, duration_in_s: float) -> None:
    """Parts (b) and (c): one session read locally and from the loopback HTTP server."""
    from ndx_glymphatic.testing.range_server import RangeServer

    (path,) = _simulate(folder=folder / "stream", sessions=1, duration_in_s=duration_in_s)
    glymph = str(Path(sys.executable).with_name("glymph"))
    size, needed = path.stat().st_size, _dataset_bytes(path=path)
    print(f"streamed file: {path.name}, {size / 2**20:.1f} MiB; datasets read by the analysis: "
          f"{needed / 2**20:.1f} MiB")
    with RangeServer(folder=path.parent) as server:
        url = server.url(path.name)
        rows = []
        for label, arguments in (
            ("analyze", lambda source, tag: [glymph, "analyze", source, "-o", str(folder / f"analyze-{tag}"),
                                             "--overwrite", "--no-progress"]),
            ("validate", lambda source, tag: [glymph, "validate", source, "--no-progress", "--format", "json",
                                              "-o", str(folder / f"validate-{tag}.json"), "--overwrite"]),
        ):
            local_wall = _run(arguments=arguments(str(path), "local"), allowed=(0, 1)).wall_in_s
            server.reset()
            remote_wall = _run(arguments=arguments(url, "remote"), allowed=(0, 1)).wall_in_s
            rows.append((label, local_wall, remote_wall, server.bytes_served, server.requests))
        local_alone = _analysis_alone(source=str(path), output=folder / "alone-local")
        server.reset()
        remote_alone = _analysis_alone(source=url, output=folder / "alone-remote")
        rows.insert(1, ("analysis alone", local_alone, remote_alone, server.bytes_served, server.requests))
    for label, local_wall, remote_wall, sent, requests in rows:
        part = "c" if label == "validate" else "b"
        print(f"({part}) {label}: local {local_wall:.1f} s, streamed {remote_wall:.1f} s "
              f"({remote_wall / local_wall:.2f}x); sent {sent / 2**20:.1f} MiB in {requests} requests = "
              f"{sent / needed:.2f}x the datasets read, {sent / size:.2f}x the file")


def _read_everything(*, fileobj: object) -> None:
    import h5py

    def read(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset) and obj.shape:
            obj[()]

    with h5py.File(fileobj, "r") as h5file:
        h5file.visititems(read)


def _remfile_vs_fsspec(*, folder: Path, duration_in_s: float) -> None:
    """Part (f): h5py reading every dataset of the streamed file through remfile (as glymph does) and fsspec."""
    import fsspec

    from ndx_glymphatic.remote import open_binary
    from ndx_glymphatic.testing.range_server import RangeServer

    (path,) = _simulate(folder=folder / "stream", sessions=1, duration_in_s=duration_in_s)
    with RangeServer(folder=path.parent) as server:
        url = server.url(path.name)
        for label, opener in (("remfile", lambda: open_binary(url)),
                              ("fsspec", lambda: fsspec.open(url, "rb", block_size=4 * 2**20).open())):
            server.reset()
            started = time.perf_counter()
            handle = opener()
            _read_everything(fileobj=handle)
            handle.close()
            print(f"(f) h5py over {label}: read every dataset in {time.perf_counter() - started:.1f} s, "
                  f"sent {server.bytes_served / 2**20:.1f} MiB in {server.requests} requests")


_SESSIONS_IN_ONE_PROCESS = (
    "import sys, tempfile; from ndx_glymphatic.analysis.cohort_batch import analyze_session_task; "
    "from ndx_glymphatic.analysis.params import AnalysisParams; folder = tempfile.mkdtemp(dir=sys.argv[1]); "
    "[analyze_session_task((path, f's{index}'), sessions_dir=folder, params=AnalysisParams(), check=True, "
    "figures=sys.argv[2] == 'figures', second_process=False) for index, path in enumerate(sys.argv[3:])]"
)

#: integer arithmetic on a few Python objects, so the loop's speed is the core's alone (no caches missed, no
#: memory bandwidth, no system calls); 3 to 5 s on the 2-core development machine, long enough that one
#: round is not decided by a second of the host's
_ARITHMETIC_LOOP = "import sys; total = 0\nfor step in range(int(sys.argv[1])): total += step * step % 7"
_ARITHMETIC_STEPS = 20_000_000


def _wall_of_processes(*, commands: list[list[str]], what: str) -> float:
    """Start every command at once and wait for all of them: the wall time (exits with ``what`` if one fails)."""
    started = time.perf_counter()
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for command in commands]
    for process in processes:
        _, error = process.communicate()
        if process.returncode != 0:
            sys.exit(f"{what} failed: {error.decode()[-2000:]}")
    return time.perf_counter() - started


def _plain_processes(*, files: list[Path], folder: Path, figures: bool) -> tuple[float, float]:
    """Part (e): the sessions in one plain process, then split between two processes running at once (walls)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    one, two = (_wall_of_processes(commands=[[sys.executable, "-c", _SESSIONS_IN_ONE_PROCESS, str(folder),
                                              "figures" if figures else "metrics", *map(str, share)]
                                             for share in shares], what="plain analysis")
                for shares in ([files], [files[0::2], files[1::2]]))
    return one, two


def _arithmetic_round(*, steps: int) -> tuple[float, str]:
    """Part (j): the arithmetic loop in one process, then in two at once (same loop each): the throughput two
    cores gave (twice the one process's wall over the two's) and a line that shows both walls."""
    one, two = (_wall_of_processes(commands=[[sys.executable, "-c", _ARITHMETIC_LOOP, str(steps)]] * copies,
                                   what="the arithmetic loop")
                for copies in (1, 2))
    throughput = 2 * one / two
    return throughput, (f"(j) arithmetic loop: one process {one:.2f} s, two at once {two:.2f} s: "
                        f"{throughput:.2f}x the throughput")


def _rig_session(*, folder: Path, duration_in_s: float, seed: int) -> Path:
    """A simulated TDT rig session (rig files and session.yaml), made once and reused."""
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session
    from ndx_glymphatic.simulation.rig_files.session import write_rig_session

    rig = folder / "rigs" / f"tdt_{int(duration_in_s)}s_{seed}"
    if not (rig / "session.yaml").is_file():
        shutil.rmtree(rig, ignore_errors=True)
        session = simulate_session(parameters=SimulationParameters(duration_in_s=duration_in_s, seed=seed))
        write_rig_session(session=session, outdir=rig, format="tdt")
    return rig / "session.yaml"


def _convert_batch(*, folder: Path, sessions: int, duration_in_s: float) -> None:
    """Part (g): ``glymph convert`` of many rig sessions with one and two workers.

    ``--workers 1`` compresses each session's chunks on one thread per core (``--threads``' default), so it is
    run with ``--threads 1`` as well: one core, what two workers (one compression thread each) are compared to.
    """
    rigs = [_rig_session(folder=folder, duration_in_s=duration_in_s, seed=seed) for seed in range(1, sessions + 1)]
    glymph = str(Path(sys.executable).with_name("glymph"))
    for flags in (["--workers", "1", "--threads", "1"], ["--workers", "1"], ["--workers", "2"]):
        output = folder / f"converted-{'-'.join(flag.strip('-') for flag in flags)}"
        shutil.rmtree(output, ignore_errors=True)
        wall, peaks, cores_busy, _ = _run(arguments=[glymph, "convert", *map(str, rigs), "-o", str(output), *flags,
                                                     "--no-progress"])
        print(f"(g) convert {len(rigs)} x {duration_in_s:g} s TDT sessions, {' '.join(flags)}: {wall:.1f} s wall; "
              f"cores busy on average {cores_busy:.2f} of {psutil.cpu_count()}; "
              f"peak RSS of processes > 100 MB: {_big_peaks(peaks=peaks)}")


def _done_times(*, done: list[tuple[float, str]], started_at: float, long_mark: str) -> str:
    """When each session was done (``(time.time(), name)`` pairs), seconds from the start; the long one (its
    name holds ``long_mark``) marked."""
    return ", ".join(f"{at - started_at:.1f} s" + (" (long)" if long_mark in name else "") for at, name in done)


def _in_both_orders(
    *, part: str, what: str, short: list[Path], long: Path, long_mark: str, repeats: int,
    run: Callable[[list[Path]], tuple[float, list[tuple[float, str]]]],
) -> None:
    """Rounds of one batch of sessions of different lengths, the long one listed last then first: each round's
    walls and when each session was done (``run(files)`` gives both), and the medians."""
    orders = {"long one last": [*short, long], "long one first": [long, *short]}
    walls: dict[str, list[float]] = {name: [] for name in orders}
    ends: dict[str, str] = {}
    for round_number in range(1, repeats + 1):
        for name, files in orders.items():
            started_at = time.time()
            wall, done = run(files)
            walls[name].append(wall)
            ends[name] = _done_times(done=done, started_at=started_at, long_mark=long_mark)
        print(f"({part}) round {round_number}: " + "; ".join(
            f"{name} {values[-1]:.1f} s (sessions done at {ends[name]})" for name, values in walls.items()), flush=True)
    print(f"({part}) {what}: median " + ", ".join(f"{name} {statistics.median(values):.1f} s"
                                                for name, values in walls.items()), flush=True)


def _mixed_lengths(*, glymph: str, short: list[Path], folder: Path, long_duration_in_s: float, repeats: int) -> None:
    """Part (h): the walls of one batch of sessions of different lengths, the long one listed last or first."""
    (long,) = _simulate(folder=folder / "long", sessions=1, duration_in_s=long_duration_in_s)
    output = folder / "group-mixed"

    def run(files: list[Path]) -> tuple[float, list[tuple[float, str]]]:
        shutil.rmtree(output, ignore_errors=True)
        wall = _run(arguments=[glymph, "analyze-group", *map(str, files), "-o", str(output), "--workers", "2",
                               "--no-progress"]).wall_in_s
        return wall, _sessions_done(output=output)

    _in_both_orders(part="h", what=f"analyze-group --workers 2 of {len(short)} x {short[0].stem.split('_')[-1]} "
                    f"and 1 x {long_duration_in_s:g} s", short=short, long=long, long_mark=long.stem, repeats=repeats,
                    run=run)


def _mixed_conversions(*, folder: Path, duration_in_s: float, long_duration_in_s: float, repeats: int) -> None:
    """Part (i): ``glymph convert --workers 2`` of three rig sessions and a long one, listed last or first."""
    glymph = str(Path(sys.executable).with_name("glymph"))
    short = [_rig_session(folder=folder, duration_in_s=duration_in_s, seed=seed) for seed in (1, 2, 3)]
    long_seed = 9  # the simulator names the session after its seed, and the written file after the session
    long = _rig_session(folder=folder, duration_in_s=long_duration_in_s, seed=long_seed)
    output = folder / "converted-mixed"

    def run(files: list[Path]) -> tuple[float, list[tuple[float, str]]]:
        shutil.rmtree(output, ignore_errors=True)
        wall = _run(arguments=[glymph, "convert", *map(str, files), "-o", str(output), "--workers", "2",
                               "--no-progress"]).wall_in_s
        # a written file is linked into place once complete: its modification time is when it was done
        return wall, sorted((path.stat().st_mtime, path.name) for path in output.iterdir())

    _in_both_orders(part="i", what=f"convert --workers 2 of 3 x {duration_in_s:g} s and 1 x {long_duration_in_s:g} s "
                    "TDT sessions", short=short, long=long, long_mark=f"seed{long_seed}-", repeats=repeats, run=run)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _on_standing_cluster(*, glymph: str, files: list[Path], folder: Path, serial_wall: float | None) -> None:
    """Part (d): ``analyze-group --scheduler`` on a scheduler and two one-thread workers already running."""
    import os

    dask = str(Path(sys.executable).with_name("dask"))
    address = f"tcp://127.0.0.1:{_free_port()}"
    from ndx_glymphatic.batch import worker_settings_yaml

    # the settings glymph gives its own LocalCluster workers, as docs/running-on-many-sessions.md advises
    config_folder = folder / "dask-config"
    config_folder.mkdir(parents=True, exist_ok=True)
    (config_folder / "glymph.yaml").write_text(worker_settings_yaml())
    env = {**os.environ, "DASK_CONFIG": str(config_folder), "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                   "--dashboard-address", ":0"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)]
    processes.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--host",
                                       "127.0.0.1", "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    try:
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=90)
        walls = []
        for run in ("warm-up", "timed"):
            output = folder / f"group-scheduler-{run}"
            shutil.rmtree(output, ignore_errors=True)
            wall = _run(arguments=[glymph, "analyze-group", *map(str, files), "-o", str(output), "--scheduler",
                                   address, "--no-session-reports", "--no-progress"]).wall_in_s
            walls.append(wall)
        same = _same_tables(folder / "group-w1", folder / "group-scheduler-timed") if serial_wall else None
        speed_up = f"; speed-up vs --workers 1: {serial_wall / walls[1]:.2f}x" if serial_wall else ""
        print(f"(d) analyze-group {len(files)} sessions on a standing cluster (2 workers, 1 thread each): first run "
              f"{walls[0]:.1f} s, next run {walls[1]:.1f} s{speed_up}; same tables: {same}")
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _compile_package() -> list[str]:
    """Write the bytecode of every ndx_glymphatic module that lacks it; the folders compiled.

    ``pip install .`` writes it at install time, and Python writes it on the first import of an editable
    install, unless ``PYTHONDONTWRITEBYTECODE`` is set, as on some shared machines: every process timed here
    would then compile the package from source, which no user's does.
    """
    folders = []
    for name in ("ndx_glymphatic", *(f"ndx_glymphatic.{part}" for part in
                                      ("analysis", "converters", "validators", "simulation"))):
        for folder in importlib.import_module(name).__path__:
            compileall.compile_dir(folder, quiet=1)
            folders.append(folder)
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=3600.0)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/glymph-bench-scale"))
    parser.add_argument("--parts", default="abcej",
                        help="which parts to run: a (batch), b and c (streamed), d (standing cluster), "
                             "e (plain processes), f (remfile vs fsspec), g (convert batch), "
                             "h (sessions of different lengths), i (rig sessions of different lengths converted), "
                             "j (two cores on arithmetic alone)")
    parser.add_argument("--stream-duration-s", type=float, default=4 * 3600.0)
    parser.add_argument("--long-duration-s", type=float, default=12 * 3600.0,
                        help="the long session of parts (h) and (i)")
    parser.add_argument("--modes", choices=("both", "reports", "metrics"), default="both",
                        help="part (a) with session reports (the default of the command), metrics only, or both")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of part (a) (--workers 1, then 2, alternating; medians are compared)")
    options = parser.parse_args()
    print(f"bytecode of ndx_glymphatic written in {', '.join(_compile_package())}", flush=True)
    if "f" in options.parts:
        _remfile_vs_fsspec(folder=options.folder, duration_in_s=options.stream_duration_s)
    if "g" in options.parts:
        _convert_batch(folder=options.folder, sessions=4, duration_in_s=options.duration_s)
    if "i" in options.parts:
        _mixed_conversions(folder=options.folder, duration_in_s=options.duration_s,
                           long_duration_in_s=options.long_duration_s, repeats=options.repeats)
    if "b" in options.parts or "c" in options.parts:
        _streamed(folder=options.folder, duration_in_s=options.stream_duration_s)
    if "j" in options.parts and "a" not in options.parts:
        for round_number in range(1, options.repeats + 1):
            print(f"round {round_number}: {_arithmetic_round(steps=_ARITHMETIC_STEPS)[1]}", flush=True)
    if not set("adeh") & set(options.parts):
        return
    files = _simulate(folder=options.folder / "sessions", sessions=options.sessions,
                      duration_in_s=options.duration_s)
    glymph = str(Path(sys.executable).with_name("glymph"))
    serial_wall = None
    if "a" in options.parts:
        modes = {"both": (True, False), "reports": (True,), "metrics": (False,)}[options.modes]
        for reports in modes:
            serial_wall = _group_rounds(glymph=glymph, files=files, folder=options.folder, reports=reports,
                                        repeats=options.repeats, duration_in_s=options.duration_s,
                                        ceiling="e" in options.parts, arithmetic="j" in options.parts)
    elif "e" in options.parts:
        one, two = _plain_processes(files=files, folder=options.folder / "plain", figures=False)
        print(f"(e) {len(files)} sessions analysed by plain processes (no Dask, no group stage): one process "
              f"{one:.1f} s, two at once {two:.1f} s: {one / two:.2f}x")
    if "d" in options.parts:
        _on_standing_cluster(glymph=glymph, files=files, folder=options.folder, serial_wall=serial_wall)
    if "h" in options.parts:
        _mixed_lengths(glymph=glymph, short=files[:3], folder=options.folder,
                       long_duration_in_s=options.long_duration_s, repeats=options.repeats)


if __name__ == "__main__":
    main()
