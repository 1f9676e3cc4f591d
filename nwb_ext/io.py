"""Safe output: never leave a partial file behind, never replace a file silently."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ndx_glymphatic.errors import InputFileError

__all__ = ["OUTPUT_MANIFEST_NAME", "atomic_output_dir", "atomic_output_path", "check_output_dir"]


@contextlib.contextmanager
def atomic_output_path(*, destination: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``destination``; rename it into place only on success.

    Parameters
    ----------
    destination : str or Path
        The file that should exist when the block completes without an exception.
    overwrite : bool
        Replace an existing ``destination``. Without it an existing file is an error.

    Yields
    ------
    Path
        A not-yet-existing path in the destination folder to write to.
    """
    destination = Path(destination)
    if destination.is_dir():
        raise InputFileError(
            path=destination, field="output path", expected="a file path", found="a directory"
        )
    if destination.exists() and not overwrite:
        raise InputFileError(
            path=destination,
            field="output path",
            expected="a path that does not exist yet",
            found="an existing file",
            hint="pass --overwrite to replace it",
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
    )
    os.close(handle)
    temporary = Path(temporary_name)
    temporary.unlink()
    try:
        yield temporary
        os.replace(temporary, destination)
    finally:
        if temporary.exists():
            temporary.unlink()


#: Written into every folder made by :func:`atomic_output_dir`: the files the tool wrote there, so that a
#: later ``--overwrite`` replaces only a folder the tool made itself.
OUTPUT_MANIFEST_NAME = ".glymph-outputs.json"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def check_output_dir(*, destination: str | Path, overwrite: bool) -> Path:
    """Refuse, before any work, an output folder that :func:`atomic_output_dir` would refuse at the end.

    Parameters
    ----------
    destination : str or Path
        The folder the outputs should end up in.
    overwrite : bool
        Whether an existing folder made by this tool may be replaced.

    Returns
    -------
    Path
        ``destination`` as a ``Path``.
    """
    destination = Path(destination)
    if destination.exists() and not destination.is_dir():
        raise InputFileError(
            path=destination, field="output folder", expected="a folder path", found="an existing file"
        )
    if not destination.exists() or not any(destination.iterdir()):
        return destination
    if not (destination / OUTPUT_MANIFEST_NAME).is_file():
        raise InputFileError(
            path=destination,
            field="output folder",
            expected="a new or empty folder, or one written by glymph",
            found=f"a folder with files that glymph did not write (no {OUTPUT_MANIFEST_NAME})",
            hint="choose a new folder; --overwrite replaces only folders glymph wrote",
        )
    if not overwrite:
        raise InputFileError(
            path=destination,
            field="output folder",
            expected="a new or empty folder",
            found="a folder with earlier glymph outputs",
            hint="pass --overwrite to replace it",
        )
    return destination


@contextlib.contextmanager
def atomic_output_dir(*, destination: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``destination``; move it into place only on success.

    The finished folder gets a manifest (:data:`OUTPUT_MANIFEST_NAME`) listing what was written, and the
    permissions the umask gives a new folder. An existing ``destination`` is replaced only with
    ``overwrite`` and only when it holds such a manifest: a folder the tool did not write is never deleted.

    Parameters
    ----------
    destination : str or Path
        The folder that should exist, complete, when the block completes without an exception.
    overwrite : bool
        Replace an existing folder written earlier by this tool.

    Yields
    ------
    Path
        An empty temporary folder in the destination's parent folder to write into.
    """
    destination = check_output_dir(destination=destination, overwrite=overwrite)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent))
    try:
        os.chmod(temporary, 0o777 & ~_umask())
        yield temporary
        written = sorted(str(path.relative_to(temporary)) for path in temporary.rglob("*") if path.is_file())
        (temporary / OUTPUT_MANIFEST_NAME).write_text(json.dumps({"written_by": "glymph", "files": written}, indent=1))
        check_output_dir(destination=destination, overwrite=overwrite)
        if destination.exists():
            old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
            os.replace(destination, old)
            os.replace(temporary, destination)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, destination)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
