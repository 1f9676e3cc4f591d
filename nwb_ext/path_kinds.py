"""Say what a path is without opening it, so that a FIFO never blocks a read and errors name what was found.

``os.stat`` does not open the path: a FIFO (named pipe), a device or a symbolic-link loop is recognised
without reading from it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["describe_path"]

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
