"""Reduce photometry streams to block sums in a separate process (run as a script, not imported).

Decompressing the HDF5 chunks dominates the reduction of a long recording, and h5py serialises it
with a global lock, so threads cannot overlap two streams' decompression. This script lets
:func:`ndx_glymphatic.analysis.session.read_session` decompress and reduce the photometry streams
in a second process while the main process reduces EEG and EMG. It only needs numpy, h5py and
``ndx_glymphatic.nan_runs`` (numpy only): it loads ``preprocessing.py`` (which imports nothing from
this package) by path, so it starts in well under a second instead of loading pynwb and the NWB
namespaces. While it reads a stream it also follows the longest NaN run of the stream's dataset (all
its columns), so that the readiness gate need not read those samples again.

Usage: ``python _photometry_worker.py JOBS_JSON OUTPUT_NPZ`` where JOBS_JSON is
``{"file": path, "streams": [{"key", "dataset", "column", "factor", "chunk"}]}``; the output holds
``<key>_sums``, ``<key>_counts`` and ``<key>_nan_run`` (``[length, first_index, column, complete]``
of the dataset's longest NaN run) for every stream.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import h5py
import numpy as np

from ndx_glymphatic.nan_runs import ColumnView, NanRunTracker


def main() -> None:
    spec = importlib.util.spec_from_file_location("_glymph_preprocessing", Path(__file__).with_name("preprocessing.py"))
    assert spec is not None and spec.loader is not None
    preprocessing = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = preprocessing  # dataclasses look their module up there
    spec.loader.exec_module(preprocessing)
    jobs = json.loads(Path(sys.argv[1]).read_text())
    results: dict[str, np.ndarray] = {}
    trackers: dict[str, NanRunTracker] = {}
    with h5py.File(jobs["file"], "r") as handle:
        for stream in jobs["streams"]:
            data = handle[stream["dataset"]]
            tracker = trackers.setdefault(stream["dataset"], NanRunTracker(n_samples=int(data.shape[0])))
            sums, counts = preprocessing.block_sums(
                data=ColumnView(data=data, column=int(stream["column"]), nan_runs=tracker),
                factor=int(stream["factor"]),
                chunk_samples=int(stream["chunk"]),
            )
            results[f"{stream['key']}_sums"] = sums
            results[f"{stream['key']}_counts"] = counts
        for stream in jobs["streams"]:  # after every stream: two streams may share one dataset
            tracker = trackers[stream["dataset"]]
            run = tracker.longest
            state = [run.length, run.first_index, run.column, int(tracker.complete)]
            results[f"{stream['key']}_nan_run"] = np.asarray(state, dtype=np.int64)
    np.savez(sys.argv[2], **results)


if __name__ == "__main__":
    main()
