"""Scale: ``glymph analyze-group`` on simulated sessions with ``--workers 1`` and ``--workers 2``.

Prints wall time of each run, the speed-up, and the peak resident memory (RSS) of every process of the
run (the glymph process and, with Dask, each worker process), sampled with psutil. Sessions are
simulated into /tmp (or --folder) once and reused.

Usage: ``python benchmarks/bench_scale.py [--sessions 8] [--duration-s 3600] [--folder /tmp/glymph-bench-scale]``
(the issue's figure: 8 sessions of 1 h at the rig rates). The streamed-file parts of the issue's benchmark
(remote analyze and validate) are not written yet.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

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


def _run(*, arguments: list[str]) -> tuple[float, dict[int, int]]:
    """Wall time and peak RSS (bytes) of every process of the run, by pid."""
    started = time.perf_counter()
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
    if process.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    return wall, peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=3600.0)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/glymph-bench-scale"))
    options = parser.parse_args()
    files = _simulate(folder=options.folder / "sessions", sessions=options.sessions,
                      duration_in_s=options.duration_s)
    glymph = str(Path(sys.executable).with_name("glymph"))
    walls = {}
    for workers in (1, 2):
        output = options.folder / f"group-w{workers}"
        shutil.rmtree(output, ignore_errors=True)
        wall, peaks = _run(arguments=[glymph, "analyze-group", *map(str, files), "-o", str(output),
                                      "--workers", str(workers), "--no-session-reports", "--no-progress"])
        walls[workers] = wall
        big = sorted((rss for rss in peaks.values() if rss > 100 * 2**20), reverse=True)
        print(f"analyze-group {len(files)} x {options.duration_s:g} s, --workers {workers}: {wall:.1f} s wall; "
              f"peak RSS of processes > 100 MB: {', '.join(f'{rss / 2**20:.0f} MB' for rss in big)}")
    same = all((options.folder / "group-w1" / name).read_text() == (options.folder / "group-w2" / name).read_text()
               for name in ("sessions.csv", "comparisons.csv", "predictors.csv"))
    print(f"speed-up --workers 2 vs 1: {walls[1] / walls[2]:.2f}x; same tables: {same}")


if __name__ == "__main__":
    main()
