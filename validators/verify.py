"""``glymph validate --verify``: read every chunk of every dataset, so that HDF5 verifies every checksum.

Files written by ndx-glymphatic carry a Fletcher-32 checksum on every chunk of their big datasets and
checksummed metadata (HDF5 1.8 format); HDF5 checks them on read. Validation reads only what its checks
need; this reads everything, chunk by chunk (memory stays at one chunk), and reports the first object
that cannot be read: the dataset and the offset of its damaged chunk.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CorruptObject", "add_verification", "find_first_corrupt", "verify_message"]


@dataclass(frozen=True)
class CorruptObject:
    """The first object of a file that cannot be read."""

    location: str
    chunk_offset: tuple[int, ...] | None
    error: str


def _datasets(*, h5file: Any) -> tuple[list[str], CorruptObject | None]:
    """Paths of every dataset reachable by hard links, in file order; or the first object that cannot be opened."""
    import h5py

    found: list[str] = []
    corrupt: list[CorruptObject] = []

    def visit(name: str) -> None:
        if corrupt:
            return
        try:
            if not isinstance(h5file.get(name, getlink=True), h5py.HardLink):
                return  # links are judged by the security layer; never followed here
            obj = h5file[name]
            for key in obj.attrs:
                obj.attrs[key]
        except Exception as error:
            corrupt.append(CorruptObject(location=f"/{name}", chunk_offset=None,
                                         error=f"{type(error).__name__}: {error}"))
            return
        if isinstance(obj, h5py.Dataset):
            found.append(name)

    try:
        h5file.visit(visit)
    except Exception as error:
        corrupt.append(CorruptObject(location="/", chunk_offset=None, error=f"{type(error).__name__}: {error}"))
    return found, (corrupt[0] if corrupt else None)


def _read_chunks(*, dataset: Any, progress: Any) -> CorruptObject | None:
    """Read ``dataset`` chunk by chunk (whole when not chunked); the first chunk that fails."""
    if dataset.shape is None or dataset.size == 0:
        return None
    if dataset.chunks is None:
        try:
            dataset[()]
        except Exception as error:
            return CorruptObject(location=dataset.name, chunk_offset=None, error=f"{type(error).__name__}: {error}")
        progress.update(dataset.size)
        return None
    for selection in dataset.iter_chunks():
        try:
            block = dataset[selection]
        except Exception as error:
            offset = tuple(int(part.start or 0) for part in selection)
            return CorruptObject(location=dataset.name, chunk_offset=offset, error=f"{type(error).__name__}: {error}")
        progress.update(getattr(block, "size", 1))
    return None


def find_first_corrupt(*, path: str | Path, progress: bool = True) -> CorruptObject | None:
    """The first object of the file at ``path`` that cannot be read (every chunk read), or None.

    Parameters
    ----------
    path : str or Path
        An HDF5 / NWB file (already probed: not a file with links leaving it).
    progress : bool
        Show a progress bar over the values read (only when stderr is a terminal).
    """
    from tqdm import tqdm

    from ndx_glymphatic.remote import open_h5

    try:
        h5file = open_h5(path)
    except Exception as error:
        return CorruptObject(location="/", chunk_offset=None, error=f"{type(error).__name__}: {error}")
    with h5file:
        names, corrupt = _datasets(h5file=h5file)
        if corrupt is not None:
            return corrupt
        total = 0
        for name in names:
            size = h5file[name].size
            total += int(size or 0)
        show = progress and sys.stderr.isatty()
        with tqdm(total=total, unit="values", unit_scale=True, desc="verifying", disable=not show) as bar:
            for name in names:
                corrupt = _read_chunks(dataset=h5file[name], progress=bar)
                if corrupt is not None:
                    return corrupt
    return None


def verify_message(*, path: str | Path, progress: bool = True) -> Any | None:
    """The ``file`` layer's ERROR about the first corrupt chunk or object of ``path``; None when all read."""
    from ndx_glymphatic.validators.report import ValidationMessage

    corrupt = find_first_corrupt(path=path, progress=progress)
    if corrupt is None:
        return None
    where = f" chunk at offset {corrupt.chunk_offset}" if corrupt.chunk_offset is not None else ""
    return ValidationMessage(
        layer="file", severity="error", importance="ERROR", check="verify_every_chunk", location=corrupt.location,
        message=f"{corrupt.location}{where} cannot be read (checksum or structure damaged): {corrupt.error}",
        hint="the file is damaged: restore it from a copy or convert the rig files again",
    )


def add_verification(*, report: Any, progress: bool = True) -> None:
    """Verify the file of an NWB ``report`` whose security layer passed; the first corrupt chunk becomes an ERROR."""
    if report.kind != "nwb" or report.could_not_run or "security" not in report.layers:
        return
    if report.layers["security"].get("reason") or any(
        message.layer == "security" and message.severity == "error" for message in report.messages
    ):
        return  # a file with links leaving it is never opened
    message = verify_message(path=report.path, progress=progress)
    if message is not None:
        report.add(messages=[message])
