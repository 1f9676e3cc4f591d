"""Size of the derived NWB file (``glymph analyze --write-derived``) against its raw file.

Run by hand (not part of the test suite)::

    python benchmarks/bench_derived.py                 # a simulated 1-h session at the rig rates
    python benchmarks/bench_derived.py --hours 4 --workdir /tmp/bench-derived

Simulates a session (photometry at 1017.25 Hz, EEG/EMG at 512 Hz: the simulator's defaults) into
``--workdir`` once (reused on later runs), runs the analysis with ``write_derived=True`` (no figures)
and prints the raw and derived sizes, their ratio (target <= 5 %) and the largest datasets of the
derived file (storage bytes). Results go to ``benchmarks/results/bench_derived.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
import warnings
from pathlib import Path

import h5py

RESULTS = Path(__file__).resolve().parent / "results" / "bench_derived.json"


def simulated_file(*, hours: float, workdir: Path) -> Path:
    """The simulated raw file of ``hours`` (written once)."""
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb

    path = workdir / f"sim-{hours:g}h.nwb"
    if not path.exists():
        started = time.perf_counter()
        session = simulate_session(parameters=SimulationParameters(duration_in_s=hours * 3600.0, seed=0))
        write_session_nwb(session=session, path=path)
        print(f"simulated {hours:g} h in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def largest_datasets(*, path: Path, n: int) -> list[tuple[str, int]]:
    """The ``n`` datasets of ``path`` taking the most storage bytes."""
    sizes: list[tuple[str, int]] = []
    with h5py.File(path, "r") as handle:
        handle.visititems(
            lambda name, item: (
                sizes.append((name, item.id.get_storage_size())) if isinstance(item, h5py.Dataset) else None
            )
        )
    return sorted(sizes, key=lambda pair: -pair[1])[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-derived"))
    arguments = parser.parse_args()
    from ndx_glymphatic.analysis.pipeline import run_analysis

    arguments.workdir.mkdir(parents=True, exist_ok=True)
    raw = simulated_file(hours=arguments.hours, workdir=arguments.workdir)
    output = arguments.workdir / f"analysis-{arguments.hours:g}h"
    if output.exists():
        shutil.rmtree(output)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_analysis(
            nwb_path=raw, output_dir=output, check=False, write_derived=True, figures=False, show_progress=False
        )
    elapsed = time.perf_counter() - started
    derived = result.derived_nwb_path
    raw_bytes, derived_bytes = raw.stat().st_size, derived.stat().st_size
    record = {
        "hours": arguments.hours,
        "raw_file": raw.name,
        "raw_bytes": raw_bytes,
        "derived_file": derived.name,
        "derived_bytes": derived_bytes,
        "derived_over_raw_percent": 100.0 * derived_bytes / raw_bytes,
        "analysis_with_derived_in_s": elapsed,
        "largest_derived_datasets": largest_datasets(path=derived, n=8),
    }
    print(f"raw     {raw.name}: {raw_bytes / 1e6:.1f} MB")
    print(
        f"derived {derived.name}: {derived_bytes / 1e6:.2f} MB = {record['derived_over_raw_percent']:.2f} % "
        f"(target <= 5 %); analysis + derived file in {elapsed:.0f} s"
    )
    for name, size in record["largest_derived_datasets"]:
        print(f"  {size / 1e3:9.1f} kB  {name}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
