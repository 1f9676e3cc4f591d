"""Read and validate an NWB file with ONLY pynwb and hdmf importable (run as a script).

    python -m ndx_glymphatic.testing.pynwb_only_reader FILE.nwb     # (or run this file by path)

Every ``ndx_*`` package, ours included, is blocked from importing, so the file must carry everything
needed to read it (its cached namespaces). Prints one ``key: value`` line per fact and exits non-zero
when reading or ``pynwb.validate`` fails. This module imports nothing from ndx_glymphatic.
"""

from __future__ import annotations

import importlib.abc
import sys

BLOCKED_PACKAGES = frozenset({"ndx_glymphatic", "ndx_fiber_photometry", "ndx_optogenetics", "ndx_ophys_devices",
                              "ndx_events"})


class _BlockExtensions(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"{fullname} is blocked: only pynwb and hdmf may be used")
        return None


def main(path: str) -> int:
    """Read ``path`` with plain pynwb, print a summary and the validation result; return the exit code."""
    import pynwb
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(path, "r", load_namespaces=True) as io:
        nwbfile = io.read()
        for name, table in sorted(nwbfile.intervals.items()):
            print(f"interval: {name} {type(table).__name__} {len(table)}")
        for name, container in sorted(nwbfile.acquisition.items()):
            print(f"acquisition: {name} {type(container).__name__} {container.data.shape[0]}")
        for name, container in sorted(nwbfile.lab_meta_data.items()):
            print(f"lab_meta_data: {name} {type(container).__name__}")
        if "sleep_states" in nwbfile.intervals:
            states = sorted(set(nwbfile.intervals["sleep_states"]["sleep_state"].data[:]))
            print(f"sleep_states: {','.join(states)}")
    errors = pynwb.validate(path=path)
    print(f"validation errors: {len(errors)}")
    for error in errors:
        print(f"validation error: {error}")
    leaked = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED_PACKAGES)
    print(f"extension modules imported: {len(leaked)}")
    return 1 if errors or leaked else 0


if __name__ == "__main__":
    sys.meta_path.insert(0, _BlockExtensions())
    sys.exit(main(sys.argv[1]))
