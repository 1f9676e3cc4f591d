"""Refuse, before opening it, a path that is not the kind of object a reader expects, in one clear error.

What the path is comes from :func:`ndx_glymphatic.path_kinds.describe_path` (``os.stat``, never an open:
a FIFO never blocks a read).
"""

from __future__ import annotations

from pathlib import Path

from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.path_kinds import describe_path

__all__ = ["describe_path", "require_folder", "require_regular_file"]


def require_regular_file(*, path: str | Path, expected: str) -> None:
    """Raise :class:`InputFileError` unless ``path`` is a regular file (or a symbolic link to one).

    Parameters
    ----------
    path : str or Path
        The file a reader is about to open.
    expected : str
        What the reader expects there, in words (e.g. ``"an existing .ppd file"``).
    """
    kind = describe_path(path=path)
    if kind != "a regular file":
        raise InputFileError(path=path, field="file", expected=expected, found=kind)


def require_folder(*, path: str | Path, field: str, expected: str) -> None:
    """Raise :class:`InputFileError` unless ``path`` is a directory (or a symbolic link to one)."""
    kind = describe_path(path=path)
    if kind != "a directory":
        raise InputFileError(path=path, field=field, expected=expected, found=kind)
