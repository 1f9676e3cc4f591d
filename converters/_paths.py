"""Say what a path is before opening it, so that a FIFO never blocks a read and errors name what was found.

``os.stat`` does not open the path: a FIFO (named pipe), a device or a symbolic-link loop is recognised
without reading from it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ndx_glymphatic.errors import InputFileError

__all__ = ["describe_path", "require_folder", "require_regular_file"]

_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def describe_path(*, path: str | Path) -> str:
    """What ``path`` is, in words (``"a regular file"``, ``"a FIFO (named pipe)"``, ``"no such file"``, ...).

    Parameters
    ----------
    path : str or Path
        The path to look at; it is not opened.

    Returns
    -------
    str
        The kind of object, or why it cannot be looked at.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a loop of symbolic links"
        if error.errno == errno.ENOENT and os.path.islink(path):
            return f"a symbolic link to a missing file ({os.readlink(path)})"
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return "no such file or folder"
        if error.errno == errno.ENAMETOOLONG:
            return "a name too long for the file system"
        return f"a path that cannot be examined ({error.strerror})"
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "an object that is neither a file nor a folder"


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
