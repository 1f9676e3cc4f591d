"""Safe output: never leave a partial file behind, never replace a file silently."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ndx_glymphatic.errors import InputFileError

__all__ = ["atomic_output_path"]


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
