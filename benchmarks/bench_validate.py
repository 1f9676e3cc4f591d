"""Benchmark ``glymph validate`` (all layers, without dandi-cli) against bare ``nwbinspector``.

Both run as subprocesses on the same simulated session file in one run, alternating, and each one's
wall time and peak resident memory (``ru_maxrss`` of the process and the processes it waited for,
from ``os.wait4``) are reported. ``glymph validate`` runs twice per repeat: with an empty on-disk
specification cache ("cold", as on a first run) and with the cache it just filled ("warm").

Targets (issue 3): glymph wall time <= 1.5 x nwbinspector's, glymph peak RSS <= 300 MB.

Run by hand (not part of the tests)::

    /tmp/venv/bin/python benchmarks/bench_validate.py --duration-s 86400 --workdir /tmp/bench-validate

``--file PATH`` benchmarks an existing file instead of simulating one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WALL_RATIO_TARGET = 1.5
PEAK_RSS_TARGET_MB = 300.0


@dataclass(frozen=True)
class Measurement:
    """One subprocess run."""

    tool: str
    wall_in_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str


def _executable(*, name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"cannot find the '{name}' command next to {sys.executable} or on PATH")
    return found


def measure(*, tool: str, command: list[str], env: dict[str, str]) -> Measurement:
    """Run ``command`` and return its wall time and the peak RSS of its process tree."""
    with tempfile.TemporaryFile() as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        output = stdout.read().decode(errors="replace")
    return Measurement(
        tool=tool, wall_in_s=wall, peak_rss_mb=usage.ru_maxrss / 1024.0, returncode=process.returncode, stdout=output
    )


def simulate(*, workdir: Path, duration_in_s: float, seed: int) -> Path:
    """The simulated session file in ``workdir`` (written with ``glymph simulate`` unless already there)."""
    existing = sorted(workdir.glob("*.nwb"))
    if existing:
        print(f"reusing {existing[0]}")
        return existing[0]
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"simulating a {duration_in_s:g}-s session into {workdir} (not timed) ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [
            _executable(name="glymph"),
            "simulate",
            str(workdir),
            "--duration-s",
            str(duration_in_s),
            "--seed",
            str(seed),
            "--no-progress",
        ],
        check=True,
    )
    path = sorted(workdir.glob("*.nwb"))[0]
    print(f"  wrote {path} ({path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - started:.0f} s")
    return path


def _layer_durations(*, stdout: str) -> dict[str, float]:
    try:
        return json.loads(stdout)["files"][0]["durations_in_s"]
    except (ValueError, KeyError, IndexError):
        return {}


def run(*, path: Path, repeats: int) -> dict[str, list[Measurement]]:
    """Alternate the tools ``repeats`` times on ``path``."""
    cache = Path(tempfile.mkdtemp(prefix="glymph-spec-cache-"))
    base_env = dict(os.environ)
    inspector = [_executable(name="nwbinspector"), str(path)]
    glymph = [
        _executable(name="glymph"),
        "validate",
        str(path),
        "--profile",
        "all",
        "--format",
        "json",
        "--no-progress",
    ]
    results: dict[str, list[Measurement]] = {}
    try:
        for repeat in range(repeats):
            for stale in cache.iterdir():
                shutil.rmtree(stale)
            for tool, command in (
                ("nwbinspector", inspector),
                ("glymph validate (cold spec cache)", glymph),
                ("glymph validate (warm spec cache)", glymph),
            ):
                env = dict(base_env)
                if tool.startswith("glymph"):
                    env["GLYMPH_SPEC_CACHE_DIR"] = str(cache)
                measurement = measure(tool=tool, command=command, env=env)
                results.setdefault(tool, []).append(measurement)
                print(
                    f"  [{repeat + 1}/{repeats}] {tool}: {measurement.wall_in_s:.1f} s, "
                    f"{measurement.peak_rss_mb:.0f} MB, exit {measurement.returncode}",
                    flush=True,
                )
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return results


def report(*, path: Path, results: dict[str, list[Measurement]]) -> dict[str, object]:
    """Print the comparison table and return it as a dict."""
    reference = statistics.median(m.wall_in_s for m in results["nwbinspector"])
    rows = {}
    print()
    print(
        f"file: {path} ({path.stat().st_size / 1e9:.2f} GB); cpus: {os.cpu_count()}; "
        f"load average now: {os.getloadavg()[0]:.2f}"
    )
    print(f"{'tool':<36} {'wall (s)':>9} {'x nwbinspector':>15} {'peak RSS (MB)':>14}")
    for tool, measurements in results.items():
        wall = statistics.median(m.wall_in_s for m in measurements)
        rss = max(m.peak_rss_mb for m in measurements)
        rows[tool] = {
            "wall_in_s": round(wall, 2),
            "ratio": round(wall / reference, 3),
            "peak_rss_mb": round(rss, 1),
            "exit_codes": [m.returncode for m in measurements],
        }
        print(f"{tool:<36} {wall:>9.1f} {wall / reference:>15.2f} {rss:>14.0f}")
    for tool, measurements in results.items():
        if tool.startswith("glymph"):
            print(f"layer times, {tool}: {_layer_durations(stdout=measurements[-1].stdout)}")
    for tool in (t for t in rows if t.startswith("glymph")):
        row = rows[tool]
        ok_wall = row["ratio"] <= WALL_RATIO_TARGET
        ok_rss = row["peak_rss_mb"] <= PEAK_RSS_TARGET_MB
        print(
            f"{tool}: wall {'OK' if ok_wall else 'MISSED'} (<= {WALL_RATIO_TARGET}x), "
            f"peak RSS {'OK' if ok_rss else 'MISSED'} (<= {PEAK_RSS_TARGET_MB:g} MB)"
        )
    return {"file": str(path), "size_bytes": path.stat().st_size, "tools": rows}


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--duration-s", dest="duration_in_s", type=float, default=86400.0, help="simulated session length"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bench-validate")
    parser.add_argument("--file", type=Path, default=None, help="benchmark this file instead of simulating")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    arguments = parser.parse_args()
    path = arguments.file or simulate(
        workdir=arguments.workdir, duration_in_s=arguments.duration_in_s, seed=arguments.seed
    )
    summary = report(path=path, results=run(path=path, repeats=arguments.repeats))
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
