"""Benchmark `glymph convert` against neuroconv and the bare-h5py floor on simulated TDT sessions.

For each duration (default 1 h, 4 h, 24 h) a simulated session is written as a TDT Synapse block (three
photometry stores at 1017.25 Hz: 465A, 405A, 560B) + an EDF+ EEG/EMG file (512 Hz, own clock) + a hypnogram +
session.yaml. Then, one after the other, each in its own subprocess:

- ``glymph``: ``glymph convert session.yaml -o out.nwb`` (everything: photometry, EEG/EMG with clock alignment,
  hypnogram, events, metadata; gzip level 4 + shuffle);
- ``neuroconv``: neuroconv 0.10.2 ``TDTFiberPhotometryInterface`` on the same block's photometry (three streams;
  installed by this script into ``benchmarks/.venv-neuroconv``, never a dependency of the package);
- ``glymph, no checksums``: the same conversion (``convert_session``) with the checksums of issue 9 off (HDF5's
  earliest file format, no Fletcher-32 filter), side by side with ``glymph`` to measure their cost;
- ``floor``: bare h5py: the same stream data read with plain reads (``.tsq`` index with ``np.fromfile``, one
  ``read`` per ``.tev`` packet; pyedflib ``readSignal`` for the EDF) and the same datasets (3 photometry
  series, EEG (n, 2), EMG) written with gzip level 4 + shuffle, single-threaded.

Reported per run: wall time, peak RSS (``ru_maxrss`` of the child, from ``os.wait4``) and output size, as a
markdown table printed and saved in ``benchmarks/results/bench_convert_<timestamp>.md`` (gitignored). For
durations up to 4 h the glymph and floor outputs are compared dataset by dataset (they must be equal).

Run (takes ~10 min with 24 h; the 24-h rig files need ~1.5 GB in the work folder)::

    /tmp/venv/bin/python benchmarks/bench_convert.py                 # 1 h, 4 h, 24 h
    /tmp/venv/bin/python benchmarks/bench_convert.py --hours 1 4     # quicker
    /tmp/venv/bin/python benchmarks/bench_convert.py --skip-neuroconv
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent
NEUROCONV_VENV = HERE / ".venv-neuroconv"
NEUROCONV_REQUIREMENT = "neuroconv[tdt-fp]==0.10.2"
STREAMS = {"ne_465nm": "465A", "ne_isosbestic_405nm": "405A", "blood_volume_560nm": "560B"}
CHUNK_SAMPLES = 1 << 18  # same chunking as glymph convert (1 MiB of float32)

FLOOR_SCRIPT = r'''
import sys, numpy as np, h5py, pyedflib
block, edf_path, out = sys.argv[1:4]
codes = sys.argv[4].split(",")
names = sys.argv[5].split(",")
chunk = int(sys.argv[6])
from pathlib import Path
block = Path(block)
tsq_path = next(block.glob("*.tsq")); tev_path = tsq_path.with_suffix(".tev")
record = np.dtype([("size", "<i4"), ("type", "<i4"), ("code", "<u4"), ("channel", "<u2"), ("sort_code", "<u2"),
                   ("timestamp", "<f8"), ("offset", "<u8"), ("format", "<i4"), ("frequency", "<f4")])
tsq = np.fromfile(tsq_path, dtype=record)
gzip = dict(compression="gzip", compression_opts=4, shuffle=True)
with h5py.File(out, "w") as f, open(tev_path, "rb") as tev:
    for code, name in zip(codes, names):
        records = tsq[(tsq["code"] == int.from_bytes(code.encode(), "little")) & (tsq["type"] == 0x8101)]
        per_packet = int(records["size"][0]) - 10
        n = len(records) * per_packet
        dataset = f.create_dataset(name, shape=(n,), dtype="f4", chunks=(min(chunk, n),), **gzip)
        packets_per_write = 4 * chunk // per_packet
        for first in range(0, len(records), packets_per_write):
            parts = []
            for offset in records["offset"][first:first + packets_per_write]:
                tev.seek(int(offset))
                parts.append(np.frombuffer(tev.read(4 * per_packet), dtype="<f4"))
            block_data = np.concatenate(parts)
            dataset[first * per_packet:first * per_packet + len(block_data)] = block_data
    edf = pyedflib.EdfReader(edf_path)
    labels = edf.getSignalLabels()
    n = int(min(edf.getNSamples()))
    for name, indices in (("EEG", [i for i, l in enumerate(labels) if l.startswith("EEG")]),
                          ("EMG", [i for i, l in enumerate(labels) if l.startswith("EMG")])):
        shape = (n,) if len(indices) == 1 else (n, len(indices))
        rows = max(1, chunk // len(indices))
        dataset = f.create_dataset(name, shape=shape, dtype="f4",
                                   chunks=(min(rows, n),) + shape[1:], **gzip)
        step = 4 * rows
        for start in range(0, n, step):
            m = min(step, n - start)
            values = np.stack([edf.readSignal(i, start=start, n=m) for i in indices], axis=1).astype("f4")
            dataset[start:start + m] = values[:, 0] if len(indices) == 1 else values
    edf.close()
'''

NEUROCONV_SCRIPT = r'''
import sys, warnings, uuid
warnings.simplefilter("ignore")
from neuroconv.datainterfaces import TDTFiberPhotometryInterface
block, out = sys.argv[1:3]
streams = sys.argv[3].split(",")
names = sys.argv[4].split(",")
interface = TDTFiberPhotometryInterface(folder_path=block, verbose=False)  # every stream of the block at once
metadata = interface.get_metadata()
metadata["NWBFile"].update(session_description="bench_convert neuroconv peer", identifier=str(uuid.uuid4()))
metadata["Subject"] = dict(subject_id="sim0000", species="Mus musculus", sex="M", age="P90D")
make = dict(manufacturer="Tucker-Davis Technologies")
metadata["Ophys"] = {"FiberPhotometry": {
    "OpticalFiberModels": [dict(name="fiber_model", manufacturer="Doric Lenses", model_number="MFC_400/430-0.48",
                                numerical_aperture=0.48, core_diameter_in_um=400.0, description="Fiber model.")],
    "OpticalFibers": [dict(name="fiber", description="Photometry fiber.", model="fiber_model",
                           fiber_insertion=dict(insertion_position_ap_in_mm=1.8, insertion_position_ml_in_mm=0.3,
                                                depth_in_mm=2.0, position_reference="bregma", hemisphere="right"))],
    "ExcitationSourceModels": [dict(name="led_model", source_type="LED", excitation_mode="one-photon",
                                    description="LED model.", **make)],
    "ExcitationSources": [dict(name=f"led_{w}", description=f"{w} nm LED.", model="led_model")
                          for w in (465, 405, 560)],
    "PhotodetectorModels": [dict(name="detector_model", detector_type="photodiode", description="Photosensor.",
                                 **make)],
    "Photodetectors": [dict(name="detector", description="Photosensor.", model="detector_model")],
    "FiberPhotometryIndicators": [dict(name="GRAB_NE2m", label="GRAB_NE2m", description="NE sensor."),
                                  dict(name="albumin", label="albumin-AF594", description="Blood label.")],
    "FiberPhotometryTable": {"name": "fiber_photometry_table", "description": "Channels.", "rows": [
        dict(name=str(i), location="cortex", excitation_wavelength_in_nm=float(w), emission_wavelength_in_nm=525.0,
             indicator=indicator, optical_fiber="fiber", excitation_source=f"led_{w}", photodetector="detector")
        for i, (w, indicator) in enumerate([(465, "GRAB_NE2m"), (405, "GRAB_NE2m"), (560, "albumin")])]},
    "FiberPhotometryResponseSeries": [
        dict(name=name, description=f"{name}.", stream_name=stream, unit="V", fiber_photometry_table_region=[i],
             fiber_photometry_table_region_description=f"row {i}")
        for i, (name, stream) in enumerate(zip(names, streams))],
}}
interface.run_conversion(nwbfile_path=out, metadata=metadata, overwrite=True)
'''


# glymph convert without the checksums (issue 9): earliest HDF5 format (v1 object headers) and no Fletcher-32
UNCHECKED_SCRIPT = r'''
import sys
from ndx_glymphatic import builder
from ndx_glymphatic.converters.convert import convert_session
builder.LIBVER = ("earliest", "v108")
convert_session(session_path=sys.argv[1], output_path=sys.argv[2], overwrite=True, progress=False,
                compression=builder.CompressionSettings(checksum=False))
'''
UNCHECKED_TOOL = "glymph, no checksums"


@dataclass(frozen=True)
class Run:
    """One measured subprocess."""

    tool: str
    hours: float
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    output_mb: float
    ok: bool
    note: str = ""


# Measures one command from a tiny interpreter (-S: no site-packages), so the child's peak RSS (ru_maxrss of the
# waited-for children) is the command's own, not that of a large forked parent.
MEASURE_SCRIPT = r'''
import json, resource, subprocess, sys, time
report, command = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(report, "w") as handle:
    json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "returncode": completed.returncode,
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "stderr": completed.stderr.decode(errors="replace")[-3000:]}, handle)
'''


def measure(*, tool: str, hours: float, command: list[str], output: Path) -> Run:
    """Run ``command`` in a subprocess; wall time, peak RSS (ru_maxrss of the child) and output size."""
    import json

    output.unlink(missing_ok=True)
    report = output.with_suffix(".measure.json")
    subprocess.run([sys.executable, "-S", "-c", MEASURE_SCRIPT, str(report), *command], check=True)
    measured = json.loads(report.read_text())
    report.unlink()
    ok = measured["returncode"] == 0 and output.is_file()
    lines = [line for line in measured["stderr"].strip().splitlines() if line.strip()]
    note = "" if ok else (lines or ["failed"])[-1][:200]
    size = output.stat().st_size / 1e6 if output.is_file() else 0.0
    return Run(tool=tool, hours=hours, seconds=measured["seconds"], cpu_seconds=measured["cpu_seconds"],
               peak_rss_mb=measured["maxrss_kb"] / 1024, output_mb=size, ok=ok, note=note)


def best_of(runs: list[Run]) -> Run:
    """The fastest of repeated runs (the least disturbed by other load), with the largest peak RSS seen."""
    fastest = min(runs, key=lambda run: (not run.ok, run.seconds))
    return Run(tool=fastest.tool, hours=fastest.hours, seconds=fastest.seconds, cpu_seconds=fastest.cpu_seconds,
               peak_rss_mb=max(run.peak_rss_mb for run in runs), output_mb=fastest.output_mb, ok=fastest.ok,
               note=(fastest.note + (f" (best of {len(runs)})" if len(runs) > 1 else "")).strip())


def ensure_neuroconv() -> Path:
    """The peer's own virtual environment (created once): never installed into the project's environment."""
    python = NEUROCONV_VENV / "bin" / "python"
    check = [str(python), "-c", "import neuroconv, tdt, ndx_fiber_photometry"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing {NEUROCONV_REQUIREMENT} into {NEUROCONV_VENV} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(NEUROCONV_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", NEUROCONV_REQUIREMENT], check=True)
    subprocess.run(check, check=True)
    return python


def prepare(*, hours: float, workdir: Path) -> Path:
    """Simulated rig files of one duration (reused when present); returns the session folder."""
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session
    from ndx_glymphatic.simulation.rig_files.session import write_rig_session

    folder = workdir / f"tdt_{hours:g}h"
    if (folder / "session.yaml").is_file():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    session = simulate_session(parameters=SimulationParameters(duration_in_s=hours * 3600.0, seed=0))
    write_rig_session(session=session, outdir=folder, format="tdt", photometry_channels=tuple(STREAMS),
                      show_progress=sys.stderr.isatty())
    print(f"prepared {hours:g} h session in {time.perf_counter() - started:.0f} s: {folder}", flush=True)
    return folder


def compare(*, glymph_path: Path, floor_path: Path) -> str:
    """Check the glymph output holds exactly the floor's datasets (chunk by chunk)."""
    with h5py.File(glymph_path, "r") as ours, h5py.File(floor_path, "r") as floor:
        for name in floor:
            a, b = ours[f"acquisition/{name}/data"], floor[name]
            if a.shape != b.shape:
                return f"{name}: shape {a.shape} != {b.shape}"
            step = 1 << 22
            for start in range(0, a.shape[0], step):
                if not np.array_equal(a[start : start + step], b[start : start + step]):
                    return f"{name}: values differ from sample {start}"
    return "equal"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 4.0, 24.0])
    parser.add_argument("--workdir", type=Path, default=HERE / "results" / "bench_convert_data")
    parser.add_argument("--skip-neuroconv", action="store_true")
    parser.add_argument("--keep-outputs", action="store_true", help="Keep the NWB / HDF5 outputs.")
    parser.add_argument("--repeat", type=int, default=1,
                        help="Run each tool this many times, interleaved, and keep the fastest (other load on the "
                        "machine slows runs at random).")
    arguments = parser.parse_args()
    arguments.workdir.mkdir(parents=True, exist_ok=True)
    glymph = Path(sys.executable).with_name("glymph")
    neuroconv_python = None if arguments.skip_neuroconv else ensure_neuroconv()
    runs: list[Run] = []
    checks: dict[float, str] = {}
    for hours in arguments.hours:
        folder = prepare(hours=hours, workdir=arguments.workdir)
        block = next((folder / "tdt").iterdir())
        edf = next((folder / "eeg").iterdir())
        outputs = {tool: folder / f"out_{tool}.{'h5' if tool == 'floor' else 'nwb'}"
                   for tool in ("glymph", "unchecked", "neuroconv", "floor")}
        commands = {
            "glymph convert": (outputs["glymph"], [
                str(glymph), "convert", str(folder / "session.yaml"), "-o", str(outputs["glymph"]), "--overwrite",
                "--no-progress"]),
            UNCHECKED_TOOL: (outputs["unchecked"], [
                sys.executable, "-c", UNCHECKED_SCRIPT, str(folder / "session.yaml"), str(outputs["unchecked"])]),
            "floor (h5py)": (outputs["floor"], [
                sys.executable, "-c", FLOOR_SCRIPT, str(block), str(edf), str(outputs["floor"]),
                ",".join(STREAMS.values()), ",".join(STREAMS), str(CHUNK_SAMPLES)]),
        }
        if neuroconv_python is not None:
            commands["neuroconv 0.10.2"] = (outputs["neuroconv"], [
                str(neuroconv_python), "-c", NEUROCONV_SCRIPT, str(block), str(outputs["neuroconv"]),
                ",".join(f"_{code}" for code in STREAMS.values()), ",".join(STREAMS)])
        repeated: dict[str, list[Run]] = {tool: [] for tool in commands}
        for _ in range(arguments.repeat):
            for tool, (output, command) in commands.items():
                repeated[tool].append(measure(tool=tool, hours=hours, output=output, command=command))
        runs += [best_of(repeated[tool]) for tool in commands]
        for run in runs[-len(commands):]:
            print(f"{run.hours:g} h {run.tool:<18} {run.seconds:7.1f} s {run.cpu_seconds:7.1f} s CPU "
                  f"{run.peak_rss_mb:7.0f} MB {run.output_mb:7.0f} MB {'' if run.ok else 'FAILED: ' + run.note}",
                  flush=True)
        if hours <= 4 and outputs["glymph"].is_file() and outputs["floor"].is_file():
            checks[hours] = compare(glymph_path=outputs["glymph"], floor_path=outputs["floor"])
            print(f"{hours:g} h glymph vs floor datasets: {checks[hours]}", flush=True)
        if not arguments.keep_outputs:
            for path in outputs.values():
                path.unlink(missing_ok=True)
    table = render(runs=runs, checks=checks)
    print("\n" + table)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"bench_convert_{dt.datetime.now():%Y%m%d_%H%M%S}.md"
    path.write_text(table)
    print(f"saved {path}")


def render(*, runs: list[Run], checks: dict[float, str]) -> str:
    """Markdown table of the runs, with ratios to the floor."""
    floor = {run.hours: run for run in runs if run.tool.startswith("floor")}
    lines = [
        f"# bench_convert ({dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores)",
        "",
        "Simulated TDT session: 3 photometry stores at 1017.25 Hz + EDF EEG (2 ch) / EMG at 512 Hz. glymph converts "
        "everything (photometry, EEG/EMG clock-aligned, hypnogram, events, metadata); neuroconv the photometry "
        "only; the floor reads the same stream data with plain reads and writes the same datasets with h5py "
        "gzip-4 + shuffle, single-threaded. Wall time includes start-up (imports: pynwb and the NWB extensions "
        "take a few seconds). CPU time = user + system of the process.",
        "",
        "| duration | tool | wall time (s) | x floor | CPU time (s) | peak RSS (MB) | output (MB) | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        ratio = run.seconds / floor[run.hours].seconds if run.hours in floor else float("nan")
        note = run.note.strip()
        if run.ok and checks.get(run.hours) == "equal" and run.tool.startswith("glymph"):
            note = f"datasets equal to the floor's {note}".strip()
        lines.append(f"| {run.hours:g} h | {run.tool} | {run.seconds:.1f} | {ratio:.2f} | {run.cpu_seconds:.1f} | "
                     f"{run.peak_rss_mb:.0f} | {run.output_mb:.0f} | {note} |")
    glymph = {run.hours: run for run in runs if run.tool.startswith("glymph convert")}
    unchecked = {run.hours: run for run in runs if run.tool == UNCHECKED_TOOL}
    for hours in sorted(set(glymph) & set(unchecked)):
        checked, plain = glymph[hours], unchecked[hours]
        lines += ["", f"checksum cost at {hours:g} h (v2 object headers + Fletcher-32): wall "
                  f"{100 * (checked.seconds / plain.seconds - 1):+.1f} %, CPU "
                  f"{100 * (checked.cpu_seconds / plain.cpu_seconds - 1):+.1f} %, size "
                  f"{100 * (checked.output_mb / plain.output_mb - 1):+.2f} % (target <= 5 % wall, <= 1 % size)"]
    if len(glymph) > 1:
        shortest, longest = min(glymph), max(glymph)
        lines += ["", f"glymph peak RSS {longest:g} h / {shortest:g} h: "
                  f"{glymph[longest].peak_rss_mb / glymph[shortest].peak_rss_mb:.2f}x (target <= 1.3x, <= 250 MB)"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
