"""Find HDF5 links and storage that leave a file, without following any of them.

An HDF5 file can hold objects whose content lives in another file: external links, soft links whose
path passes through an external link, virtual datasets mapping other files, and datasets stored in
external raw files. Any reader that resolves such an object opens the other file. Every HDF5 file a
tool of ours is given (NWB files, ``.doric`` rig files, MATLAB v7.3 files) is scanned here first with
h5py's link-level calls, which read link records of the file itself and never resolve a link:

* the link walk (``H5Lvisit``) descends only through hard links;
* soft links are resolved one path component at a time with ``get(name, getlink=True)``, which reads
  the link record without opening its target, so a path through an external link is found, not taken;
* dataset creation properties (``H5Pget_virtual_*``, ``H5Pget_external``) are read from hard-linked
  datasets only.

A file with any such object is refused before anything else reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py

from ndx_glymphatic.errors import InputFileError

__all__ = [
    "LinkLeavingFile",
    "LinkScan",
    "refuse_links_leaving_file",
    "scan_links",
]

#: Soft links resolved through more soft links than this are reported as dangling (HDF5's own limit is 16).
MAX_SOFT_LINK_DEPTH = 16


@dataclass(frozen=True)
class LinkLeavingFile:
    """An HDF5 object whose content lives outside the file."""

    location: str
    kind: str  # "external link", "soft link through an external link", "virtual dataset", "external storage"
    target: str


@dataclass(frozen=True)
class LinkScan:
    """What the link walk found (nothing in it was followed).

    Attributes
    ----------
    leaving : list of LinkLeavingFile
        Every object whose content lives outside the file.
    dangling : list of (location, target)
        Soft links whose target does not exist in the file.
    hard_links : list of str
        Names (without the leading slash) of every hard link, reached through hard links only.
    """

    leaving: list[LinkLeavingFile]
    dangling: list[tuple[str, str]]
    hard_links: list[str]


def _decode(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _resolve_soft_link(*, h5file: h5py.File, location: str, target: str, depth: int = 0) -> str:
    """``"ok"``, ``"dangling"`` or ``"external"``: where a soft link's path leads, reading link records only."""
    if depth > MAX_SOFT_LINK_DEPTH:
        return "dangling"
    if target.startswith("/"):
        parts = [part for part in target.split("/") if part]
    else:  # relative to the group holding the link
        parts = [part for part in location.split("/")[:-1] if part] + [part for part in target.split("/") if part]
    group: h5py.Group = h5file
    walked = ""
    for index, part in enumerate(parts):
        if part == ".":
            continue
        link = group.get(part, getlink=True)
        if link is None:
            return "dangling"
        if isinstance(link, h5py.ExternalLink):
            return "external"
        if isinstance(link, h5py.SoftLink):
            rest = "/".join(parts[index + 1 :])
            resolved = _resolve_soft_link(
                h5file=h5file, location=f"{walked}/{part}", target=link.path, depth=depth + 1
            )
            if resolved != "ok" or not rest:
                return resolved
            link_target = link.path if link.path.startswith("/") else f"{walked}/{link.path}"
            return _resolve_soft_link(h5file=h5file, location="/", target=f"{link_target}/{rest}", depth=depth + 1)
        walked = f"{walked}/{part}"
        if index == len(parts) - 1:
            return "ok"
        # a hard link: opening it opens an object of this file only
        child = h5py.h5o.open(group.id, part.encode())
        if not isinstance(child, h5py.h5g.GroupID):
            return "dangling"
        group = h5py.Group(child)
    return "ok"


def _walk_links(*, h5file: h5py.File) -> LinkScan:
    leaving: list[LinkLeavingFile] = []
    soft: list[tuple[str, str]] = []
    hard: list[str] = []

    def visit(name: bytes, info: h5py.h5l.LinkInfo) -> None:
        text = _decode(name)
        if info.type == h5py.h5l.TYPE_EXTERNAL:
            filename, object_path = h5file.id.links.get_val(name)
            leaving.append(LinkLeavingFile(location="/" + text, kind="external link",
                                           target=f"{_decode(filename)}:{_decode(object_path)}"))
        elif info.type == h5py.h5l.TYPE_SOFT:
            soft.append(("/" + text, _decode(h5file.id.links.get_val(name))))
        elif info.type == h5py.h5l.TYPE_HARD:
            hard.append(text)
        else:  # user-defined link classes: their traversal is a plugin we do not run
            leaving.append(LinkLeavingFile(location="/" + text, kind=f"user-defined link (class {info.type})",
                                           target="unknown"))

    h5file.id.links.visit(visit, info=True)
    dangling = []
    for location, target in soft:
        resolved = _resolve_soft_link(h5file=h5file, location=location, target=target)
        if resolved == "external":
            leaving.append(LinkLeavingFile(location=location, kind="soft link through an external link",
                                           target=target))
        elif resolved == "dangling":
            dangling.append((location, target))
    return LinkScan(leaving=leaving, dangling=dangling, hard_links=hard)


def _leaving_storage(*, h5file: h5py.File, names: list[str]) -> list[LinkLeavingFile]:
    """Virtual datasets mapping other files and datasets with external raw storage."""
    leaving = []
    for name in names:
        try:
            object_id = h5py.h5o.open(h5file.id, name.encode())
        except (KeyError, OSError, RuntimeError):
            continue
        if not isinstance(object_id, h5py.h5d.DatasetID):
            continue
        plist = object_id.get_create_plist()
        if plist.get_layout() == h5py.h5d.VIRTUAL:
            for index in range(plist.get_virtual_count()):
                source_file = plist.get_virtual_filename(index)
                if source_file != ".":
                    leaving.append(LinkLeavingFile(
                        location="/" + name, kind="virtual dataset",
                        target=f"{source_file}:{plist.get_virtual_dsetname(index)}",
                    ))
        for index in range(plist.get_external_count()):
            leaving.append(LinkLeavingFile(location="/" + name, kind="external storage",
                                           target=_decode(plist.get_external(index)[0])))
    return leaving


def scan_links(*, h5file: h5py.File) -> LinkScan:
    """Every link or storage that leaves ``h5file``, found without following any link.

    Parameters
    ----------
    h5file : h5py.File
        The open file.

    Returns
    -------
    LinkScan
        Objects leaving the file, dangling soft links, and the names of every hard link.
    """
    scan = _walk_links(h5file=h5file)
    storage = _leaving_storage(h5file=h5file, names=scan.hard_links)
    return LinkScan(leaving=scan.leaving + storage, dangling=scan.dangling, hard_links=scan.hard_links)


def refuse_links_leaving_file(*, path: str | Path, h5file: h5py.File) -> None:
    """Raise :class:`InputFileError` when ``h5file`` holds anything whose content lives in another file.

    Parameters
    ----------
    path : str or Path
        The file's path, for the message.
    h5file : h5py.File
        The open file, not yet read by anything else.

    Raises
    ------
    InputFileError
        Naming the first such object, its kind and its target (never followed).
    """
    leaving = scan_links(h5file=h5file).leaving
    if not leaving:
        return
    first = leaving[0]
    more = f" (and {len(leaving) - 1} more)" if len(leaving) > 1 else ""
    raise InputFileError(
        path=path, field=first.location, expected="data stored inside this file",
        found=f"a {first.kind} to '{first.target}'{more}, not followed",
        hint="copy the data into the file (h5repack, or re-export from the acquisition software); "
        "files that reach into other files are never read",
    )
