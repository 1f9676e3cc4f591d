"""Start-up times of the ``glymph`` command and of ``import ndx_glymphatic`` (run by hand).

    python benchmarks/bench_startup.py --runs 15

Each case is a fresh Python process; the cases are run interleaved (case 1, case 2, ..., case 1, ...)
so that a change of machine load hits them alike, and the table gives the median and the fastest run.
``python -c "import click"`` is the floor: a click program cannot start faster. The NWB cases read
``--nwb-file`` (default: the committed spec-0.1.0 file in tests/data) with plain pynwb. The case marked
"in process" reports the time of ``load_namespaces`` of our namespace YAML alone, its dependencies
already imported: the fixed cost that the namespace's includes set.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_NWB_FILE = REPOSITORY / "tests" / "data" / "ndx_glymphatic_0.1.0.nwb"

_READ_WITH_PYNWB = """
import sys
from pynwb import NWBHDF5IO
{first}
with NWBHDF5IO(sys.argv[1], "r") as io:
    io.read()
"""

# The YAML is found without importing ndx_glymphatic, so that only load_namespaces is timed.
_LOAD_NAMESPACE_ONLY = """
import importlib.util, os, time
import ndx_fiber_photometry, ndx_ophys_devices, ndx_optogenetics
from pynwb import load_namespaces
package_dir = importlib.util.find_spec("ndx_glymphatic").submodule_search_locations[0]
path = os.path.join(package_dir, "spec", "ndx-glymphatic.namespace.yaml")
started = time.perf_counter()
load_namespaces(path)
print(time.perf_counter() - started)
"""


@dataclass(frozen=True)
class Case:
    """One command whose wall time is measured (or which prints the seconds it measured itself)."""

    name: str
    command: tuple[str, ...]
    prints_own_time: bool = False


def _glymph() -> str:
    """The ``glymph`` script of this interpreter's environment (``python -m ndx_glymphatic`` otherwise)."""
    beside = Path(sys.executable).parent / "glymph"
    return str(beside) if beside.exists() else (shutil.which("glymph") or "")


def startup_cases(*, nwb_file: Path) -> list[Case]:
    """The measured commands, the floor (``import click``) first."""
    python = sys.executable
    glymph = _glymph()
    glymph_command = (glymph,) if glymph else (python, "-m", "ndx_glymphatic")
    return [
        Case("python -c 'import click' (floor)", (python, "-c", "import click")),
        Case("glymph --help", (*glymph_command, "--help")),
        Case("glymph convert --help", (*glymph_command, "convert", "--help")),
        Case("glymph validate --help", (*glymph_command, "validate", "--help")),
        Case("import ndx_glymphatic", (python, "-c", "import ndx_glymphatic")),
        Case("import ndx_glymphatic + first type", (python, "-c", "import ndx_glymphatic; ndx_glymphatic.Hypnogram")),
        Case("import pynwb (reference)", (python, "-c", "import pynwb")),
        Case("pynwb read, cached namespaces only",
             (python, "-c", _READ_WITH_PYNWB.format(first=""), str(nwb_file))),
        Case("pynwb read after ndx_glymphatic.access",
             (python, "-c", _READ_WITH_PYNWB.format(first="import ndx_glymphatic.access"), str(nwb_file))),
        Case("load_namespaces(ndx-glymphatic) (in process)", (python, "-c", _LOAD_NAMESPACE_ONLY),
             prints_own_time=True),
    ]


def time_case(*, case: Case) -> float:
    """Seconds of one run of ``case``; raises when it fails."""
    started = time.perf_counter()
    completed = subprocess.run(case.command, check=True, capture_output=True, text=True, cwd=REPOSITORY)
    elapsed = time.perf_counter() - started
    return float(completed.stdout.split()[-1]) if case.prints_own_time else elapsed


def run_benchmark(*, cases: list[Case], runs: int) -> dict[str, list[float]]:
    """Run every case ``runs`` times, interleaved; the wall times by case name."""
    times: dict[str, list[float]] = {case.name: [] for case in cases}
    for _ in range(runs):
        for case in cases:
            times[case.name].append(time_case(case=case))
    return times


def format_table(*, cases: list[Case], times: dict[str, list[float]]) -> str:
    """A text table: median, fastest and (for whole processes) median minus the floor's median, in seconds."""
    floor = statistics.median(times[cases[0].name])
    width = max(len(case.name) for case in cases)
    lines = [f"{'command':<{width}}  median_s  fastest_s  over_floor_s", "-" * (width + 36)]
    for case in cases:
        values = times[case.name]
        median = statistics.median(values)
        over_floor = "" if case.prints_own_time else f"{median - floor:12.3f}"
        lines.append(f"{case.name:<{width}}  {median:8.3f}  {min(values):9.3f}  {over_floor}".rstrip())
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="Runs per command (interleaved).")
    parser.add_argument("--nwb-file", type=Path, default=DEFAULT_NWB_FILE, help="NWB file the read cases open.")
    arguments = parser.parse_args()
    cases = startup_cases(nwb_file=arguments.nwb_file)
    times = run_benchmark(cases=cases, runs=arguments.runs)
    print(f"{arguments.runs} runs per command, interleaved; {sys.executable}")
    print(format_table(cases=cases, times=times))


if __name__ == "__main__":
    main()
