"""Check that GuPPy's NWB input reads our raw file's photometry and TTL events as pynwb does.

Run by hand, in a virtual environment that has GuPPy (GPL, not a dependency of this project)::

    pip install -e . && pip install --pre guppy-neuro
    python benchmarks/check_guppy.py                      # a simulated 15-min session
    python benchmarks/check_guppy.py --duration-s 600 --workdir /tmp/check-guppy

Simulates a session (photometry at 1017.25 Hz) into ``<workdir>/sessions/<session>/<session>.nwb``
(GuPPy takes a folder holding exactly one ``.nwb`` file), then does what a GuPPy user does, through
GuPPy's headless drivers of its own GUI pages (``guppy.testing.api``):

- Step 1 (Label Stores) twice: run ``ne`` with isosbestic control on (GuPPy's default) labels
  ``ne_465nm`` as ``signal_NE``, ``ne_isosbestic_405nm`` as ``control_NE`` and the TTL events as
  ``PtC0``; run ``bv_csf`` with isosbestic control off labels ``blood_volume_560nm`` and
  ``csf_tracer_650nm`` as signals (they have no control channel);
- Step 2 (Read Raw Data) on both runs, which writes one HDF5 file per store.

It reads those HDF5 files and compares each store with what pynwb reads from the same NWB file:
sampling rate, number of samples, timestamps (against ``TimeSeries.get_timestamps()``, within
1e-9 s) and data (exactly equal). It prints one table row per store and exits 0 only if every
store agrees, 1 otherwise. The session and GuPPy's outputs go to ``--workdir`` (default: a temporary
folder, removed at the end); GuPPy itself also keeps its settings in ``~/.config/guppy`` (the last
folders used) and its log in ``~/.local/state/guppy``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

TIMESTAMP_TOLERANCE_IN_S = 1e-9

# GuPPy run name -> (isosbestic control on, {store id as GuPPy lists it: store label}); GuPPy names
# the rows of events/ttl_PtC0 whose `value` is 1.0 "ttl_PtC0_1.0".
RUNS: dict[str, tuple[bool, dict[str, str]]] = {
    "ne": (True, {"ne_465nm": "signal_NE", "ne_isosbestic_405nm": "control_NE", "ttl_PtC0_1.0": "PtC0"}),
    "bv_csf": (False, {"blood_volume_560nm": "signal_BV", "csf_tracer_650nm": "signal_CSF"}),
}


@dataclass(frozen=True)
class Stream:
    """One store as a reader returns it: timestamps, and for a continuous series its rate and samples."""

    timestamps_in_s: np.ndarray
    rate_in_Hz: float | None = None
    data: np.ndarray | None = None


@dataclass(frozen=True)
class Comparison:
    """How one store read by GuPPy compares with the same store read by pynwb."""

    store: str
    rate_in_Hz: str
    samples: str
    max_abs_timestamp_difference_in_s: float
    max_abs_data_difference: float | None
    agrees: bool


def simulate_raw_file(*, sessions_folder: Path, duration_in_s: float) -> Path:
    """Simulate a session into its own folder under ``sessions_folder`` and return its NWB file."""
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb

    session = simulate_session(parameters=SimulationParameters(duration_in_s=duration_in_s, seed=0))
    folder = sessions_folder / session.session_id
    folder.mkdir(parents=True, exist_ok=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return write_session_nwb(session=session, path=folder / f"{session.session_id}.nwb")


def read_with_guppy(*, base_folder: Path, session_folder: Path) -> dict[str, Stream]:
    """Run GuPPy's Step 1 and Step 2 on ``session_folder`` and read the stores Step 2 wrote."""
    from guppy.testing import api
    from guppy.utils.utils import run_folder_for_run

    output_root_folder = api.default_output_root_folder(base_dir=str(base_folder))
    streams: dict[str, Stream] = {}
    for run_name, (isosbestic_control, labels) in RUNS.items():
        api.step1(
            base_dir=str(base_folder),
            selected_folders=[str(session_folder)],
            store_id_to_store_label=labels,
            isosbestic_control=isosbestic_control,
            run_name=run_name,
        )
        api.step2(
            base_dir=str(base_folder),
            selected_folders=[str(session_folder)],
            selected_runs={str(session_folder): [run_name]},
        )
        run_folder = Path(
            run_folder_for_run(
                str(session_folder), run_name, output_root_folder=output_root_folder, input_root_folder=str(base_folder)
            )
        )
        for store in labels:
            streams[store] = read_guppy_store(path=run_folder / f"{store}.hdf5")
    return streams


def read_guppy_store(*, path: Path) -> Stream:
    """One store file of GuPPy's Step 2 (keys ``timestamps`` and, for a series, ``sampling_rate``, ``data``)."""
    with h5py.File(path, "r") as handle:
        if "data" not in handle:
            return Stream(timestamps_in_s=handle["timestamps"][:])
        return Stream(
            timestamps_in_s=handle["timestamps"][:],
            rate_in_Hz=float(handle["sampling_rate"][()]),
            data=handle["data"][:],
        )


def read_with_pynwb(*, path: Path) -> dict[str, Stream]:
    """The stores of ``RUNS`` as pynwb reads them from ``path``."""
    from pynwb import NWBHDF5IO

    streams: dict[str, Stream] = {}
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        for run_labels in (labels for _, labels in RUNS.values()):
            for store in run_labels:
                if store in nwbfile.acquisition:
                    series = nwbfile.acquisition[store]
                    streams[store] = Stream(
                        timestamps_in_s=series.get_timestamps(), rate_in_Hz=float(series.rate), data=series.data[:]
                    )
                else:
                    table_name, value = store.rsplit("_", 1)
                    table = nwbfile.events[table_name]
                    timestamps = np.asarray(table["timestamp"][:])
                    streams[store] = Stream(timestamps_in_s=timestamps[np.asarray(table["value"][:]) == float(value)])
    return streams


def compare(*, store: str, guppy: Stream, pynwb: Stream) -> Comparison:
    """Compare one store; rates and sample counts must be equal, data exactly equal."""
    same_length = guppy.timestamps_in_s.shape == pynwb.timestamps_in_s.shape
    timestamp_difference = (
        float(np.max(np.abs(guppy.timestamps_in_s - pynwb.timestamps_in_s), initial=0.0)) if same_length else np.inf
    )
    agrees = same_length and timestamp_difference <= TIMESTAMP_TOLERANCE_IN_S
    data_difference = None
    if pynwb.data is not None:
        same_data = guppy.data is not None and guppy.data.shape == pynwb.data.shape
        data_difference = (
            float(np.max(np.abs(guppy.data.astype(np.float64) - pynwb.data.astype(np.float64)), initial=0.0))
            if same_data
            else np.inf
        )
        agrees = (
            agrees and same_data and np.array_equal(guppy.data, pynwb.data) and guppy.rate_in_Hz == pynwb.rate_in_Hz
        )
    return Comparison(
        store=store,
        rate_in_Hz="events" if pynwb.rate_in_Hz is None else f"{guppy.rate_in_Hz:g} / {pynwb.rate_in_Hz:g}",
        samples=f"{len(guppy.timestamps_in_s)} / {len(pynwb.timestamps_in_s)}",
        max_abs_timestamp_difference_in_s=timestamp_difference,
        max_abs_data_difference=data_difference,
        agrees=agrees,
    )


def format_table(*, comparisons: list[Comparison]) -> str:
    """The comparisons as a plain-text table (GuPPy / pynwb where both are shown)."""
    header = ("store", "rate Hz (GuPPy / pynwb)", "samples (GuPPy / pynwb)", "max |dt| s", "max |d data|", "agree")
    rows = [
        (
            comparison.store,
            comparison.rate_in_Hz,
            comparison.samples,
            f"{comparison.max_abs_timestamp_difference_in_s:.3g}",
            "-" if comparison.max_abs_data_difference is None else f"{comparison.max_abs_data_difference:.3g}",
            "yes" if comparison.agrees else "NO",
        )
        for comparison in comparisons
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in [header, *rows])


def run_check(*, workdir: Path, duration_in_s: float) -> list[Comparison]:
    """Simulate, read with GuPPy and with pynwb, and compare every store."""
    # GuPPy snapshots pynwb's type map when it is first imported, before any extension registers itself.
    import guppy.utils.nwb_io  # noqa: F401

    base_folder = workdir / "sessions"
    raw_path = simulate_raw_file(sessions_folder=base_folder, duration_in_s=duration_in_s)
    guppy_streams = read_with_guppy(base_folder=base_folder, session_folder=raw_path.parent)
    pynwb_streams = read_with_pynwb(path=raw_path)
    return [compare(store=store, guppy=guppy_streams[store], pynwb=pynwb_streams[store]) for store in pynwb_streams]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=900.0, help="simulated session length")
    parser.add_argument("--workdir", type=Path, default=None, help="empty or new folder (default: a temporary one)")
    arguments = parser.parse_args()
    from importlib.metadata import version

    print(f"guppy-neuro {version('guppy-neuro')}, ndx-glymphatic {version('ndx-glymphatic')}")
    if arguments.workdir is None:
        with tempfile.TemporaryDirectory() as folder:
            comparisons = run_check(workdir=Path(folder), duration_in_s=arguments.duration_s)
    else:
        arguments.workdir.mkdir(parents=True, exist_ok=True)
        comparisons = run_check(workdir=arguments.workdir, duration_in_s=arguments.duration_s)
    print(format_table(comparisons=comparisons))
    agree = all(comparison.agrees for comparison in comparisons)
    print("GuPPy and pynwb agree" if agree else "GuPPy and pynwb DISAGREE")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
