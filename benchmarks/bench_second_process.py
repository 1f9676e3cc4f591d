"""When a second process for the photometry reduction pays: the analysis of one session with it and without.

``read_session`` can reduce the photometry streams in a second, lean process while its own reduces EEG and
EMG (``parallel=True``, what ``glymph analyze`` and ``analyze-group --workers 1`` use) once a session has at
least ``_PARALLEL_MIN_SAMPLES`` raw photometry samples. Starting that process costs a fixed amount (an
interpreter, numpy and h5py); what it saves grows with the session. For each simulated session length this
times ``analyze_file`` (readiness gate on the same open file, every step; no figures) with the second process
and without, alternating in one warmed-up interpreter, and prints the medians, the raw samples, and which
way the threshold sends that session. The threshold belongs where the difference changes sign.

Usage: ``python benchmarks/bench_second_process.py [--hours 1 2 3 4] [--repeats 6]
[--folder /tmp/glymph-bench-second-process]`` (sessions are simulated once, at the rig rates, and reused).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def _session(*, folder: Path, duration_in_s: float) -> Path:
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"session_{int(duration_in_s)}s.nwb"
    if not path.exists():
        session = simulate_session(parameters=SimulationParameters(duration_in_s=duration_in_s, seed=1))
        write_session_nwb(session=session, path=path)
    return path


def _raw_photometry_samples(*, path: Path) -> int:
    """The raw samples ``read_session`` compares with its threshold (every photometry stream it reduces)."""
    from pynwb import NWBHDF5IO

    from ndx_glymphatic.analysis.session import _photometry_channels, inventory_of

    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        channels = _photometry_channels(inventory=inventory_of(nwbfile=nwbfile)).values()
        return sum(int(channel.series.data.shape[0]) for channel in channels)


def _analysis_wall_in_s(*, path: Path, second_process: bool) -> float:
    from ndx_glymphatic.analysis.params import AnalysisParams
    from ndx_glymphatic.analysis.pipeline import analyze_file

    started = time.perf_counter()
    analyze_file(nwb_path=path, params=AnalysisParams(), show_progress=False, check=True,
                 second_process=second_process)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 2.0, 3.0, 4.0])
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/glymph-bench-second-process"))
    arguments = parser.parse_args()

    from ndx_glymphatic.analysis import session as session_module

    threshold = session_module._PARALLEL_MIN_SAMPLES
    session_module._PARALLEL_MIN_SAMPLES = 0  # "with" means with, whatever the session's length
    print(f"threshold: a second process from {threshold:,} raw photometry samples on")
    for hours in arguments.hours:
        path = _session(folder=arguments.folder, duration_in_s=hours * 3600.0)
        samples = _raw_photometry_samples(path=path)
        _analysis_wall_in_s(path=path, second_process=False)  # warm the page cache and the interpreter
        walls: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(arguments.repeats):
            for second_process in (True, False):
                walls[second_process].append(_analysis_wall_in_s(path=path, second_process=second_process))
        with_it, without = statistics.median(walls[True]), statistics.median(walls[False])
        chosen = "second process" if samples >= threshold else "one process"
        print(f"{hours:g} h ({samples:,} raw photometry samples): with a second process {with_it:.2f} s, "
              f"without {without:.2f} s (medians of {arguments.repeats}; the second process saves "
              f"{without - with_it:+.2f} s); the threshold chooses: {chosen}", flush=True)


if __name__ == "__main__":
    main()
