"""Reduce photometry streams to block sums in a separate process (run as a script, not imported).

Decompressing the HDF5 chunks dominates the reduction of a long recording, and h5py serialises it
with a global lock, so threads cannot overlap two streams' decompression. This script lets
:func:`ndx_glymphatic.analysis.session.read_session` decompress and reduce the photometry streams
in a second process while the main process reduces EEG and EMG. It only needs numpy and h5py:
it loads ``preprocessing.py`` (which imports nothing from this package) by path, so it starts in
well under a second instead of loading pynwb and the NWB namespaces.

Usage: ``python _photometry_worker.py JOBS_JSON OUTPUT_NPZ`` where JOBS_JSON is
``{"file": path, "streams": [{"key", "dataset", "column", "factor", "chunk"}]}``; the output holds
``<key>_sums`` and ``<key>_counts`` for every stream.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import h5py
import numpy as np


class _Column:
    def __init__(self, data: h5py.Dataset, column: int) -> None:
        self._data = data
        self._column = column

    def __len__(self) -> int:
        return int(self._data.shape[0])

    def __getitem__(self, key: slice) -> np.ndarray:
        return self._data[key, self._column] if self._data.ndim == 2 else self._data[key]


def main() -> None:
    spec = importlib.util.spec_from_file_location("_glymph_preprocessing", Path(__file__).with_name("preprocessing.py"))
    assert spec is not None and spec.loader is not None
    preprocessing = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = preprocessing  # dataclasses look their module up there
    spec.loader.exec_module(preprocessing)
    jobs = json.loads(Path(sys.argv[1]).read_text())
    results: dict[str, np.ndarray] = {}
    with h5py.File(jobs["file"], "r") as handle:
        for stream in jobs["streams"]:
            sums, counts = preprocessing.block_sums(
                data=_Column(handle[stream["dataset"]], int(stream["column"])),
                factor=int(stream["factor"]),
                chunk_samples=int(stream["chunk"]),
            )
            results[f"{stream['key']}_sums"] = sums
            results[f"{stream['key']}_counts"] = counts
    np.savez(sys.argv[2], **results)


if __name__ == "__main__":
    main()
