"""Safe output: never leave a partial file behind, never replace a file silently, never write outside.

Rules every command that writes follows (docs/outputs.md):

- the output is written to a temporary name beside the destination and renamed into place only when
  complete; the rename never replaces anything unless ``overwrite`` (``renameat2(RENAME_NOREPLACE)``,
  or ``link`` + ``unlink`` where the kernel or file system lacks it), so an output that appeared at the
  destination while the run was writing is kept and the run fails;
- the temporary name records its owner (host, process id and process start time): a later run to the
  same destination removes the temporaries of runs that died (``kill -9``), never a live run's;
- a full disk, a quota, a file-size limit, a read-only file system or a refused permission is one
  :class:`~ndx_glymphatic.errors.InputFileError` naming the destination and the cause, and nothing is left;
- below a folder the tool lays out itself (``inside``), no component may be a symbolic link.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ndx_glymphatic.errors import InputFileError

__all__ = [
    "OUTPUT_MANIFEST_NAME",
    "atomic_output_dir",
    "atomic_output_path",
    "check_contained",
    "check_output_dir",
    "partial_owner_tag",
    "remove_stale_partials",
    "rename_noreplace",
]

#: ``.<destination name>.glymph-<host>-<pid>-<process start>-<random>.partial``
_PARTIAL_PATTERN = re.compile(
    r"^\.(?P<name>.+)\.glymph-(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-(?P<start>\d+)-[A-Za-z0-9_]+\.partial$"
)

#: errno values that mean "the destination cannot take the output", in the user's words
_WRITE_FAILURES = {
    errno.ENOSPC: "a full disk (no space left on device)",
    errno.EDQUOT: "the disk quota exceeded",
    errno.EFBIG: "a file-size limit (file too large)",
    errno.EROFS: "a read-only file system",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
}

_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname()) or "host"


def _process_start(*, pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (``/proc/PID/stat``), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count fields after the last ")"
    return int(stat.rpartition(")")[2].split()[19])


def partial_owner_tag(*, pid: int | None = None) -> str:
    """The owner part of a temporary name: ``glymph-<host>-<pid>-<process start>`` (this process by default)."""
    pid = os.getpid() if pid is None else pid
    return f"glymph-{_host_tag()}-{pid}-{_process_start(pid=pid) or 0}"


def _owner_is_alive(*, host: str, pid: int, start: int) -> bool:
    if host != _host_tag():
        return True  # another machine's run (a shared file system): its liveness cannot be seen from here
    if Path("/proc/self/stat").exists():
        actual = _process_start(pid=pid)
        return actual is not None and (start == 0 or actual == start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(*, destination: str | Path) -> list[Path]:
    """Remove the temporaries of ``destination`` left by runs that died; keep live runs' and foreign ones.

    Parameters
    ----------
    destination : str or Path
        The output file or folder whose temporaries (in its parent folder) are looked at.

    Returns
    -------
    list of Path
        The temporaries removed.
    """
    destination = Path(destination)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(destination.parent))
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL_PATTERN.match(entry.name)
        if match is None or match["name"] != destination.name:
            continue
        if _owner_is_alive(host=match["host"], pid=int(match["pid"]), start=int(match["start"])):
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            _remove(path=path)
            removed.append(path)
    return removed


def _remove(*, path: Path) -> None:
    """Remove a file, link or folder tree at ``path`` without following a link."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _errno_of(*, error: OSError | RuntimeError) -> int | None:
    if isinstance(error, OSError) and error.errno is not None:
        return error.errno
    # h5py reports HDF5's failed write(2) or file extension as an OSError or RuntimeError without errno:
    # "... (unable to extend file properly, errno = 27, error message = 'File too large')"
    found = re.search(r"errno = (\d+)", str(error))
    return int(found.group(1)) if found else None


def _output_error(*, error: OSError | RuntimeError, destination: Path) -> InputFileError | None:
    """The one-line error for a failure to write ``destination``, or None when ``error`` is not one."""
    code = _errno_of(error=error)
    if code not in _WRITE_FAILURES:
        return None
    if code in (errno.EACCES, errno.EPERM):
        # a refused permission on some input file is not the destination's
        if not isinstance(error, OSError) or error.filename is None:
            return None
        if Path(os.path.abspath(os.fsdecode(error.filename))).parent != Path(os.path.abspath(destination.parent)):
            return None
    return InputFileError(
        path=destination,
        field="output",
        expected="room and permission to write it",
        found=f"{_WRITE_FAILURES[code]} [{errno.errorcode.get(code, code)}]",
        hint="nothing was written",
    )


@contextlib.contextmanager
def _translated_write_errors(*, destination: Path) -> Iterator[None]:
    try:
        yield
    except (OSError, RuntimeError) as error:
        translated = _output_error(error=error, destination=destination)
        if translated is None:
            raise
        raise translated from None


def _appeared(*, destination: Path) -> InputFileError:
    return InputFileError(
        path=destination,
        field="output path",
        expected="a path that does not exist yet",
        found="something that appeared there while this run was writing (another run?); it was kept and "
        "this run's output removed",
        hint="pass --overwrite to replace it",
    )


def _renameat2(*, source: Path, destination: Path) -> bool:
    """``renameat2(RENAME_NOREPLACE)``; False when this kernel, C library or file system lacks it."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if function(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(destination), _RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(source), None, str(destination))


def rename_noreplace(*, source: str | Path, destination: str | Path) -> None:
    """Rename ``source`` to ``destination``; raise FileExistsError, replacing nothing, when it exists.

    Parameters
    ----------
    source : str or Path
        A file, link or folder.
    destination : str or Path
        Its new name, in the same file system.
    """
    source, destination = Path(source), Path(destination)
    if _renameat2(source=source, destination=destination):
        return
    if source.is_dir() and not source.is_symlink():
        # no link(2) for folders; rename(2) still refuses a non-empty folder that appears right now
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(destination))
        os.rename(source, destination)
        return
    try:
        os.link(source, destination, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EXDEV):
            raise
        # a file system without hard links: the last resort has a short window
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(destination)) from None
        os.rename(source, destination)
        return
    os.unlink(source)


def check_contained(*, root: str | Path, path: str | Path) -> Path:
    """Refuse a ``path`` below ``root`` that leaves it or passes through a symbolic link below ``root``.

    ``root`` itself, given by the user, may be a link; the folders found or made below it may not, nor
    may ``path`` be an existing folder.

    Parameters
    ----------
    root : str or Path
        The folder the tool lays out (e.g. the dandiset folder of ``glymph organize``).
    path : str or Path
        A file to be written below it.

    Returns
    -------
    Path
        ``path`` as a ``Path``.
    """
    root, path = Path(os.path.abspath(root)), Path(os.path.abspath(path))
    if root not in path.parents:
        raise InputFileError(
            path=path, field="output path", expected=f"a path inside {root}", found="a path outside it"
        )
    folder = root
    for part in path.relative_to(root).parts[:-1]:
        folder = folder / part
        if folder.is_symlink():
            raise InputFileError(
                path=folder,
                field="output folder",
                expected=f"a real folder inside {root}",
                found=f"a symbolic link to {os.readlink(folder)}",
                hint="outputs are never written through links inside the output folder; remove the link",
            )
        if folder.exists() and not folder.is_dir():
            raise InputFileError(path=folder, field="output folder", expected="a folder", found="a file")
    return path


def _make_folders(*, folder: Path, destination: Path) -> None:
    with _translated_write_errors(destination=destination):
        folder.mkdir(parents=True, exist_ok=True)


def _new_temporary(*, destination: Path, folder: bool) -> Path:
    """A fresh owner-tagged temporary name beside ``destination`` (a made folder, or a free file name)."""
    prefix = f".{destination.name}.{partial_owner_tag()}-"
    with _translated_write_errors(destination=destination):
        if folder:
            return Path(tempfile.mkdtemp(prefix=prefix, suffix=".partial", dir=destination.parent))
        handle, name = tempfile.mkstemp(prefix=prefix, suffix=".partial", dir=destination.parent)
        os.close(handle)
        os.unlink(name)  # the writers create the file themselves (h5py, copies, links, moves)
    return Path(name)


@contextlib.contextmanager
def atomic_output_path(
    *, destination: str | Path, overwrite: bool = False, inside: str | Path | None = None
) -> Iterator[Path]:
    """Yield a temporary path beside ``destination``; rename it into place only on success.

    The rename never replaces anything without ``overwrite``: a file that appeared at ``destination``
    while the block ran is kept, the temporary removed and an error raised. With ``overwrite`` an
    existing file (or a symbolic link: the link, never its target) is replaced; a folder never is.
    Temporaries of earlier runs to ``destination`` that died are removed first.

    Parameters
    ----------
    destination : str or Path
        The file that should exist when the block completes without an exception.
    overwrite : bool
        Replace an existing ``destination``. Without it an existing file is an error.
    inside : str or Path, optional
        A folder the tool lays out: no folder between it and ``destination`` may be a symbolic link
        (:func:`check_contained`).

    Yields
    ------
    Path
        A not-yet-existing path in the destination folder to write to.

    Raises
    ------
    ndx_glymphatic.errors.InputFileError
        ``destination`` is a folder, exists without ``overwrite`` (before or after the block), leaves
        ``inside``, or cannot be written (full disk, quota, size limit, read-only, permission).
    """
    destination = Path(destination)
    if inside is not None:
        check_contained(root=inside, path=destination)
    if destination.is_dir():
        raise InputFileError(path=destination, field="output path", expected="a file path", found="a directory")
    if os.path.lexists(destination) and not overwrite:
        raise InputFileError(
            path=destination,
            field="output path",
            expected="a path that does not exist yet",
            found="an existing file",
            hint="pass --overwrite to replace it",
        )
    _make_folders(folder=destination.parent, destination=destination)
    remove_stale_partials(destination=destination)
    temporary = _new_temporary(destination=destination, folder=False)
    try:
        with _translated_write_errors(destination=destination):
            yield temporary
            if inside is not None:
                check_contained(root=inside, path=destination)
            if overwrite:
                if destination.is_dir() and not destination.is_symlink():
                    raise InputFileError(
                        path=destination,
                        field="output path",
                        expected="a file path",
                        found="a directory that appeared while this run was writing",
                    )
                os.replace(temporary, destination)
            else:
                try:
                    rename_noreplace(source=temporary, destination=destination)
                except FileExistsError:
                    raise _appeared(destination=destination) from None
    finally:
        with contextlib.suppress(OSError):
            _remove(path=temporary)


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
    if destination.is_symlink():
        raise InputFileError(
            path=destination,
            field="output folder",
            expected="a folder path",
            found=f"a symbolic link to {os.readlink(destination)}",
            hint="give the folder it points to",
        )
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


def _place_dir(*, temporary: Path, destination: Path, overwrite: bool) -> None:
    """Move the finished ``temporary`` folder to ``destination``, replacing only what the rules allow."""
    check_output_dir(destination=destination, overwrite=overwrite)
    if not os.path.lexists(destination):
        try:
            rename_noreplace(source=temporary, destination=destination)
        except FileExistsError:
            raise _appeared(destination=destination) from None
        return
    if not (destination / OUTPUT_MANIFEST_NAME).is_file():
        # an empty folder (the user made it): rmdir refuses if something arrived in it meanwhile
        try:
            destination.rmdir()
        except OSError:
            raise _appeared(destination=destination) from None
        try:
            rename_noreplace(source=temporary, destination=destination)
        except FileExistsError:
            raise _appeared(destination=destination) from None
        return
    old = destination.with_name(f".{destination.name}.{partial_owner_tag()}-old.partial")
    os.rename(destination, old)
    try:
        rename_noreplace(source=temporary, destination=destination)
    except FileExistsError:
        raise _appeared(destination=destination) from None
    finally:
        shutil.rmtree(old, ignore_errors=True)  # the earlier glymph outputs --overwrite was asked to replace


@contextlib.contextmanager
def atomic_output_dir(*, destination: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``destination``; move it into place only on success.

    The finished folder gets a manifest (:data:`OUTPUT_MANIFEST_NAME`) listing what was written, and the
    permissions the umask gives a new folder. An existing ``destination`` is replaced only with
    ``overwrite`` and only when it holds such a manifest: a folder the tool did not write is never deleted,
    and a folder that appeared at ``destination`` while the block ran is kept (the run then fails).

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
    _make_folders(folder=destination.parent, destination=destination)
    remove_stale_partials(destination=destination)
    temporary = _new_temporary(destination=destination, folder=True)
    try:
        with _translated_write_errors(destination=destination):
            os.chmod(temporary, 0o777 & ~_umask())
            yield temporary
            written = sorted(str(path.relative_to(temporary)) for path in temporary.rglob("*") if path.is_file())
            manifest = json.dumps({"written_by": "glymph", "files": written}, indent=1)
            (temporary / OUTPUT_MANIFEST_NAME).write_text(manifest)
            _place_dir(temporary=temporary, destination=destination, overwrite=overwrite)
    finally:
        with contextlib.suppress(OSError):
            _remove(path=temporary)
