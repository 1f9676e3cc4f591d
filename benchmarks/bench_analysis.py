"""Benchmark ``glymph analyze`` on simulated 4-h and 24-h sessions, side by side with GuPPy's control fit.

Run by hand (not part of the test suite)::

    /tmp/venv/bin/python benchmarks/bench_analysis.py                 # 4 h and 24 h, with GuPPy
    /tmp/venv/bin/python benchmarks/bench_analysis.py --hours 4 --skip-guppy

What is measured, each in its own subprocess (wall time, and peak RSS from ``os.wait4``):

- ``glymph analyze FILE -o OUT`` as a user runs it (readiness validation + analysis + report);
- the analysis alone (``run_analysis(check=False)``: lazy read, chunked decimation and EEG
  reduction, every step, metrics.json, figures, report.html);
- GuPPy's control-fit step (``guppy-neuro`` from PyPI, installed by this script into its own venv
  ``benchmarks/.venv-guppy``, never a dependency of this project) on the same NE signal and
  isosbestic traces, exported to ``.npy``: ``guppy.analysis.z_score.compute_z_score`` with its
  defaults (100-sample moving-average filter, IRWLS Tukey-bisquare fit at full rate, dF/F,
  z-score), the step GuPPy runs on a whole recording. It gets ``--guppy-timeout`` seconds and is
  stopped if its resident memory passes ``--guppy-memory-gb`` (to spare the other processes of
  this shared machine); either outcome is recorded, not raised.

Sessions are simulated once into ``--workdir`` (three photometry channels plus the isosbestic
control at 1017.25 Hz, EEG/EMG at 512 Hz: the rig rates) and reused on later runs.
Results are printed as a table and written to ``benchmarks/results/bench_analysis.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
GUPPY_VENV = HERE / ".venv-guppy"
RESULTS = HERE / "results" / "bench_analysis.json"


@dataclass
class Measurement:
    """One measured subprocess."""

    what: str
    hours: float
    status: str
    wall_in_s: float
    peak_rss_mb: float
    peak_tree_rss_mb: float = 0.0
    detail: str = ""


def _run_measured(
    *, what: str, hours: float, command: list[str], timeout_in_s: float, cap: float | None = None
) -> Measurement:
    """Run ``command`` under a fresh helper process; return its wall time and peak RSS.

    The helper waits for the command and reads ``RUSAGE_CHILDREN.ru_maxrss`` (the largest single
    process of the command's tree: the command or a child it waited for), which then belongs to this
    command alone; it also polls the summed RSS of the command and its direct children every 0.2 s
    (``peak_tree_rss_mb``). It kills the command after ``timeout_in_s`` or when that sum passes ``cap``
    GB, and says so in ``status``.
    """
    helper = textwrap.dedent(
        """
        import json, os, resource, subprocess, sys, time
        command = json.loads(sys.argv[1]); timeout = float(sys.argv[2]); cap = float(sys.argv[3])
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        status = "ok"
        import threading
        out = []
        t = threading.Thread(target=lambda: out.extend(process.stdout), daemon=True); t.start()
        def rss(pid):
            total = 0
            pids = [pid]
            try:
                pids += [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
            except OSError:
                pass
            for p in pids:
                try:
                    for line in open(f"/proc/{p}/status"):
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
                except OSError:
                    pass
            return total
        tree_peak = 0
        while process.poll() is None:
            tree_peak = max(tree_peak, rss(process.pid))
            if time.perf_counter() - start > timeout:
                status = f"timeout after {timeout:.0f} s"; process.kill(); break
            if cap > 0 and rss(process.pid) > cap * 1e9:
                status = f"stopped: resident memory passed the {cap:g} GB cap"; process.kill(); break
            time.sleep(0.2)
        process.wait()
        wall = time.perf_counter() - start
        t.join(timeout=5)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        if status == "ok" and process.returncode != 0:
            status = f"failed (exit {process.returncode})"
        text = "".join(out)
        if status == "ok" and "MemoryError" in text:
            status = "out of memory (MemoryError)"
        print(json.dumps({"status": status, "wall_in_s": wall, "peak_rss_mb": peak / 1e6,
                          "peak_tree_rss_mb": tree_peak / 1e6, "detail": text[-2000:]}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", helper, json.dumps(command), str(timeout_in_s), str(cap or 0)],
        capture_output=True,
        text=True,
        check=True,
    )
    values = json.loads(result.stdout.strip().splitlines()[-1])
    return Measurement(what=what, hours=hours, **values)


def simulate(*, workdir: Path, hours: float) -> Path:
    """Simulate a session at rig rates into ``workdir`` (reused when it already exists)."""
    path = workdir / f"session_{hours:g}h.nwb"
    if path.exists():
        return path
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"simulating and writing a {hours:g}-h session to {path} (once) ...", flush=True)
    code = (
        "from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb\n"
        f"session = simulate_session(parameters=SimulationParameters(duration_in_s={hours * 3600.0}, seed=0))\n"
        f"write_session_nwb(session=session, path={str(path)!r})\n"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    print(f"  written in {time.perf_counter() - started:.0f} s ({path.stat().st_size / 1e9:.2f} GB)", flush=True)
    return path


def export_traces(*, nwb_path: Path, workdir: Path) -> tuple[Path, Path, float]:
    """Write the NE signal and its control (full rate) to .npy, chunk by chunk; return paths and rate."""
    signal_path = nwb_path.with_name(nwb_path.stem + "_ne_signal.npy")
    control_path = nwb_path.with_name(nwb_path.stem + "_ne_control.npy")
    code = textwrap.dedent(
        f"""
        import json, warnings
        import numpy as np
        from pynwb import NWBHDF5IO
        from ndx_glymphatic.access import find_photometry_channel, photometry_channels
        warnings.simplefilter("ignore")
        with NWBHDF5IO({str(nwb_path)!r}, "r", load_namespaces=True) as io:
            nwbfile = io.read()
            ne = find_photometry_channel(nwbfile=nwbfile, measured_quantity="norepinephrine")
            control = photometry_channels(nwbfile=nwbfile)[ne.control_channel]
            for channel, target in ((ne, {str(signal_path)!r}), (control, {str(control_path)!r})):
                data = channel.series.data
                out = np.lib.format.open_memmap(target, mode="w+", dtype=np.float32, shape=(data.shape[0],))
                for start in range(0, data.shape[0], 4_000_000):
                    out[start:start + 4_000_000] = data[start:start + 4_000_000]
                out.flush()
                del out
            print(json.dumps({{"rate": float(ne.series.rate)}}))
        """
    )
    rate_path = nwb_path.with_name(nwb_path.stem + "_ne_rate.json")
    if not (signal_path.exists() and control_path.exists() and rate_path.exists()):
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rate_path.write_text(output.stdout.strip().splitlines()[-1])
    rate = json.loads(rate_path.read_text())["rate"]
    return signal_path, control_path, rate


def ensure_guppy() -> tuple[Path | None, str]:
    """Create benchmarks/.venv-guppy with guppy-neuro from PyPI (once); return its python and version."""
    python = GUPPY_VENV / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('guppy-neuro'))"]
    if python.exists():
        found = subprocess.run(probe, capture_output=True, text=True)
        if found.returncode == 0:
            return python, found.stdout.strip()
    print(f"installing guppy-neuro into {GUPPY_VENV} (once) ...", flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(GUPPY_VENV)], check=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--pre", "guppy-neuro"], capture_output=True, text=True
    )
    if install.returncode != 0:
        return None, "install failed: " + install.stderr.strip().splitlines()[-1]
    found = subprocess.run(probe, capture_output=True, text=True, check=True)
    return python, found.stdout.strip()


_GUPPY_RUN = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from guppy.analysis.z_score import compute_z_score

    signal = np.load(sys.argv[1])
    control = np.load(sys.argv[2])
    rate = float(sys.argv[3])
    timestamps = np.arange(signal.shape[0]) / rate
    coords = np.array([[timestamps[0] - 1.0, timestamps[-1] + 1.0]])  # one retained chunk: no artifacts
    start = time.perf_counter()
    z_score, dff, fitted, _ = compute_z_score(
        control, signal, timestamps, coords, "replace with NaN", 100, True, "standard z-score", 0.0, 0.0, "IRWLS"
    )
    print(f"guppy control fit + dF/F + z-score: {time.perf_counter() - start:.1f} s, {dff.shape[0]} samples")
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, nargs="+", default=[4.0, 24.0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bench-analysis")
    parser.add_argument("--skip-guppy", action="store_true")
    parser.add_argument("--skip-cli", action="store_true", help="skip the full `glymph analyze` (with validation)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per ndx-glymphatic run, seconds")
    parser.add_argument("--guppy-timeout", type=float, default=1200.0)
    parser.add_argument("--guppy-memory-gb", type=float, default=12.0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    arguments = parser.parse_args()

    measurements: list[Measurement] = []
    guppy_python, guppy_version = (None, "skipped") if arguments.skip_guppy else ensure_guppy()
    glymph = str(Path(sys.executable).with_name("glymph"))
    for hours in arguments.hours:
        path = simulate(workdir=arguments.workdir, hours=hours)
        out = arguments.workdir / f"out_{hours:g}h"
        analysis_only = (
            "from ndx_glymphatic.analysis.pipeline import run_analysis\n"
            f"run_analysis(nwb_path={str(path)!r}, output_dir={str(out)!r}, overwrite=True, check=False, "
            "show_progress=False)\n"
        )
        measurements.append(
            _run_measured(
                what="ndx-glymphatic: analysis (read, all steps, figures, report)",
                hours=hours,
                command=[sys.executable, "-c", analysis_only],
                timeout_in_s=arguments.timeout,
            )
        )
        print(measurements[-1], flush=True)
        if not arguments.skip_cli:
            measurements.append(
                _run_measured(
                    what="ndx-glymphatic: glymph analyze (readiness validation + analysis)",
                    hours=hours,
                    command=[glymph, "analyze", str(path), "-o", str(out), "--overwrite", "--no-progress"],
                    timeout_in_s=arguments.timeout,
                )
            )
            print(measurements[-1], flush=True)
        if guppy_python is not None:
            signal_path, control_path, rate = export_traces(nwb_path=path, workdir=arguments.workdir)
            script = arguments.workdir / "guppy_control_fit.py"
            script.write_text(_GUPPY_RUN)
            measurements.append(
                _run_measured(
                    what=f"GuPPy {guppy_version}: control fit step (compute_z_score, IRWLS, full rate)",
                    hours=hours,
                    command=[str(guppy_python), str(script), str(signal_path), str(control_path), str(rate)],
                    timeout_in_s=arguments.guppy_timeout,
                    cap=arguments.guppy_memory_gb,
                )
            )
            print(measurements[-1], flush=True)
        shutil.rmtree(out, ignore_errors=True)

    print()
    print(f"{'what':<75} {'hours':>5} {'wall s':>8} {'peak RSS MB':>12} {'tree MB':>8}  status")
    for m in measurements:
        print(
            f"{m.what:<75} {m.hours:>5g} {m.wall_in_s:>8.1f} {m.peak_rss_mb:>12.0f} "
            f"{m.peak_tree_rss_mb:>8.0f}  {m.status}"
        )
    analysis = {m.hours: m for m in measurements if m.what.startswith("ndx-glymphatic: analysis")}
    if len(analysis) >= 2:
        short, long = analysis[min(analysis)], analysis[max(analysis)]
        print(
            f"\npeak RSS {max(analysis):g} h / {min(analysis):g} h: {long.peak_rss_mb / short.peak_rss_mb:.2f}x "
            "(target <= 1.3x); 24-h targets: <= 60 s wall, <= 2 GB peak RSS"
        )
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(
        json.dumps(
            {
                "machine": {
                    "load_average_at_end": os.getloadavg(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                },
                "measurements": [asdict(m) for m in measurements],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {arguments.json}")


if __name__ == "__main__":
    main()
