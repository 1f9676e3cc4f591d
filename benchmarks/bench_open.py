"""Open time of our NWB files with plain pynwb, side by side with a neuroconv-written file of the same session.

    python benchmarks/bench_open.py --runs 9

Cases, each a fresh Python process that runs ``NWBHDF5IO(path, "r").read()`` with no ndx package imported
(pynwb builds every type from the specifications cached in the file):

- ``ndx-glymphatic``: ``glymph convert`` of a simulated TDT session (photometry, EEG/EMG, hypnogram, events);
- ``ndx-glymphatic, cache as hdmf writes it``: the same file with every cached include made whole again, as
  hdmf caches it (what our files carried before ``ndx_glymphatic.spec_cache``);
- ``neuroconv 0.10.2``: ``TDTFiberPhotometryInterface`` on the same block's photometry (ndx-fiber-photometry),
  from the peer's own virtual environment (``bench_convert.py`` installs it once);
- ``core only``: the same photometry streams as plain ``TimeSeries``: the floor.

The runs are interleaved, so a change of machine load hits every case alike.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_convert import NEUROCONV_SCRIPT, STREAMS, ensure_neuroconv, prepare
from bench_startup import Case, format_table, run_benchmark

READ_WITH_PLAIN_PYNWB = "import sys\nfrom pynwb import NWBHDF5IO\nwith NWBHDF5IO(sys.argv[1], 'r') as io: io.read()"

CORE_ONLY_SCRIPT = r'''
import sys, uuid, datetime
import numpy as np
from pynwb import NWBFile, NWBHDF5IO, TimeSeries
source, out = sys.argv[1:3]
import h5py
nwbfile = NWBFile(session_description="bench_open core-only floor", identifier=str(uuid.uuid4()),
                  session_start_time=datetime.datetime.now(datetime.timezone.utc))
with h5py.File(source, "r") as raw:
    for name in sys.argv[3].split(","):
        series = raw["acquisition"][name]
        nwbfile.add_acquisition(TimeSeries(name=name, data=series["data"][:], unit="V",
                                           rate=float(series["starting_time"].attrs["rate"])))
with NWBHDF5IO(out, "w") as io:
    io.write(nwbfile)
'''


def with_whole_includes(*, source: Path, destination: Path) -> None:
    """Copy ``source`` with every cached namespace's includes made whole, as hdmf's cache writer makes them."""
    shutil.copyfile(source, destination)
    with h5py.File(destination, "r+") as file:
        for versions in file["specifications"].values():
            dataset = versions[sorted(versions)[-1]]["namespace"]
            document = json.loads(dataset[()])
            for entry in document["namespaces"][0]["schema"]:
                entry.pop("neurodata_types", None)
            dataset[()] = json.dumps(document)


def cached_namespaces(*, path: Path) -> str:
    with h5py.File(path, "r") as file:
        return ", ".join(sorted(file["specifications"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="Runs per case (interleaved).")
    parser.add_argument("--hours", type=float, default=0.25, help="Simulated session length.")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "glymph-bench-open")
    arguments = parser.parse_args()
    arguments.workdir.mkdir(parents=True, exist_ok=True)
    folder = prepare(hours=arguments.hours, workdir=arguments.workdir)
    ours = arguments.workdir / "ours.nwb"
    glymph = Path(sys.executable).parent / "glymph"
    for path in arguments.workdir.glob("*.nwb"):
        path.unlink()
    subprocess.run([str(glymph), "convert", str(folder / "session.yaml"), "-o", str(ours)], check=True,
                   capture_output=True)
    whole = arguments.workdir / "ours_whole_includes.nwb"
    with_whole_includes(source=ours, destination=whole)
    neuroconv_file = arguments.workdir / "neuroconv.nwb"
    # the tdt package names a store that starts with a digit "_465A"
    tdt_stream_names = [f"_{name}" if name[0].isdigit() else name for name in STREAMS.values()]
    block = next(path for path in folder.iterdir() if path.is_dir())
    subprocess.run([str(ensure_neuroconv()), "-c", NEUROCONV_SCRIPT, str(block), str(neuroconv_file),
                    ",".join(tdt_stream_names), ",".join(STREAMS)], check=True, capture_output=True)
    core_only = arguments.workdir / "core_only.nwb"
    subprocess.run([sys.executable, "-c", CORE_ONLY_SCRIPT, str(ours), str(core_only), ",".join(STREAMS)],
                   check=True, capture_output=True)
    files = {
        "core only (floor)": core_only,
        "neuroconv 0.10.2 (ndx-fiber-photometry)": neuroconv_file,
        "ndx-glymphatic, cache as hdmf writes it": whole,
        "ndx-glymphatic": ours,
    }
    cases = [Case(name, (sys.executable, "-c", READ_WITH_PLAIN_PYNWB, str(path))) for name, path in files.items()]
    times = run_benchmark(cases=cases, runs=arguments.runs)
    print(f"{arguments.runs} runs per case, interleaved, plain pynwb open + read; {arguments.hours:g} h session")
    print(format_table(cases=cases, times=times))
    for name, path in files.items():
        print(f"{name}: {path.stat().st_size / 1e6:.1f} MB; cached: {cached_namespaces(path=path)}")


if __name__ == "__main__":
    main()
