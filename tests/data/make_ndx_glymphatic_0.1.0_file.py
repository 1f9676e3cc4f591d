"""Write tests/data/ndx_glymphatic_0.1.0.nwb, the back-compatibility file of spec version 0.1.0.

It was written once, with the code of commit 6a43e90 (spec 0.1.0), from the repository root::

    python tests/data/make_ndx_glymphatic_0.1.0_file.py

and is kept as written: later code writes later spec versions, and tests/test_namespace.py checks that
the current code still reads and validates this file. HDF5 file format 1.10 (``libver="v110"``) keeps
the file small (its layout of small groups is compact); every HDF5 library since 1.10 reads it.
"""

from __future__ import annotations

from pathlib import Path

import h5py
from pynwb import NWBHDF5IO

from ndx_glymphatic.testing.mock import mock_glymphatic_nwbfile

OUTPUT = Path(__file__).resolve().parent / "ndx_glymphatic_0.1.0.nwb"


def main() -> None:
    nwbfile = mock_glymphatic_nwbfile(duration_in_s=60.0, photometry_rate_in_Hz=10.0, eeg_rate_in_Hz=64.0)
    with h5py.File(OUTPUT, "w", libver=("v110", "latest")) as file, NWBHDF5IO(file=file, mode="w") as io:
        io.write(nwbfile)


if __name__ == "__main__":
    main()
