"""The sessions of ``glymph analyze-group``: its inputs expanded into NWB files and URLs.

Light on purpose (no numpy, no params model): the command checks its inputs before it starts anything.
"""

from __future__ import annotations

from pathlib import Path

from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.remote import Source

__all__ = ["collect_inputs"]


def collect_inputs(*, paths: list[str | Path]) -> list[Source]:
    """Expand files, URLs, list files and folders (``*.nwb`` directly inside, sorted) into a list of NWB files.

    Parameters
    ----------
    paths : list of str or Path
        NWB files, ``http(s)://`` URLs, folders, and ``.txt``/``.list`` files naming paths or URLs one per line.

    Returns
    -------
    list of Path or str
        Local files resolved; URLs as text.
    """
    from ndx_glymphatic.remote import expand_list_files

    files: list[Source] = []
    for path in expand_list_files(sources=paths):
        if isinstance(path, str):
            files.append(path)
        elif path.is_dir():
            found = sorted(p for p in path.glob("*.nwb") if p.is_file())
            if not found:
                raise InputFileError(path=path, field="folder", expected="at least one .nwb file", found="none")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputFileError(path=path, field="input", expected="an NWB file or a folder of them", found="nothing")
    unique = list(dict.fromkeys(p if isinstance(p, str) else p.resolve() for p in files))
    if len(unique) < 2:
        raise InputFileError(
            path=paths[0] if paths else ".", field="inputs", expected="at least two sessions", found=f"{len(unique)}"
        )
    return unique
