"""Look at a path with h5py only, before pynwb is allowed to open it.

Two layers run here:

* **file**: can the path be read as an NWB HDF5 file at all (exists, is a regular file, not empty,
  HDF5 signature, not truncated, superblock readable, root attributes of an NWB file, a schema version
  this pynwb can read, required root objects, cached specifications readable, no dangling soft links
  or hard-link loops, every neurodata_type defined by its namespace)? Each failure gets its own
  message instead of a traceback.
* **security**: does the file hold HDF5 links or storage that leave the file (external links, virtual
  datasets mapping other files, datasets stored in external raw files)? These are found without
  following them; a file that has any is never handed to pynwb, which would follow them.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from ndx_glymphatic.converters.hdf5_safety import LinkLeavingFile, scan_links
from ndx_glymphatic.remote import RemoteFileError, Source, as_source, is_url, network_failure, open_binary, open_h5
from ndx_glymphatic.validators.report import ValidationMessage

__all__ = [
    "HDF5_SIGNATURE",
    "LinkLeavingFile",
    "ProbeResult",
    "find_links_leaving_file",
    "probe_path",
    "supported_nwb_version",
]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_USER_BLOCK_OFFSETS = (0, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
_ROOT_DATASETS = ("identifier", "session_description", "session_start_time", "timestamps_reference_time",
                  "file_create_date")
_ROOT_GROUPS = ("acquisition", "analysis", "general", "processing", "stimulus")


@dataclass
class ProbeResult:
    """What the h5py look found.

    Attributes
    ----------
    file_messages, security_messages : list of ValidationMessage
        Findings of the ``file`` and ``security`` layers.
    could_not_run : bool
        The path could not be examined (missing, unreadable): exit code 2.
    openable : bool
        pynwb may open the file: it is an NWB HDF5 file and nothing leaves it.
    refusal : str
        Why the file is not handed to pynwb (empty when ``openable``).
    nwb_version : str
        The file's ``nwb_version`` attribute ("" when absent).
    cached_namespaces : dict
        Namespace name -> cached version, from ``/specifications``.
    security_ran : bool
        The link scan ran (the file opened as HDF5).
    structure_broken : bool
        Something pynwb needs before it can read anything is broken (e.g. unreadable cached specifications).
    """

    file_messages: list[ValidationMessage] = field(default_factory=list)
    security_messages: list[ValidationMessage] = field(default_factory=list)
    could_not_run: bool = False
    openable: bool = False
    refusal: str = ""
    nwb_version: str = ""
    cached_namespaces: dict[str, str] = field(default_factory=dict)
    security_ran: bool = False
    structure_broken: bool = False


def supported_nwb_version() -> str:
    """The NWB core schema version of the installed pynwb (e.g. ``"2.11.0"``)."""
    import pynwb

    return pynwb.get_type_map(copy=False).namespace_catalog.get_namespace("core").version


def _version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:[.-]?\w*)?", text.strip())
    if match is None:
        return None
    return tuple(int(part) for part in match.groups())


def _file_message(*, check: str, message: str, hint: str, location: str = "/", severity: str = "error",
                  importance: str = "CRITICAL") -> ValidationMessage:
    return ValidationMessage(
        layer="file", severity=severity, importance=importance, check=check, location=location,
        message=message, hint=hint,
    )


def _has_hdf5_signature(*, path: Source, size: int) -> bool:
    with open_binary(path) as stream:
        for offset in _USER_BLOCK_OFFSETS:
            if offset + len(HDF5_SIGNATURE) > size:
                break
            stream.seek(offset)
            if stream.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
                return True
    return False


def _describe_non_hdf5(*, path: Source) -> str:
    with open_binary(path) as stream:
        head = stream.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (unpack it first)"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file (decompress it first)"
    if head.startswith(b"CDF\x01") or head.startswith(b"CDF\x02"):
        return "a netCDF-3 file"
    if head[:8].startswith(b"0       ") or head[:4] == b"0   ":
        return "an EDF file (convert it with `glymph convert`)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary data that is not HDF5 (first bytes {head[:8].hex(' ')})"
    if text.lstrip().startswith(("{", "[")):
        return "a JSON/text file"
    if "version https://git-lfs" in text:
        return "a Git LFS pointer, not the file itself (run `git lfs pull`)"
    return "a text file"


def _check_path(*, path: Path, result: ProbeResult) -> int | None:
    """File-system level checks; the file size when the path is a readable, non-empty file."""
    if not path.exists() and not path.is_symlink():
        result.could_not_run = True
        result.file_messages.append(_file_message(
            check="path_exists", location="", message=f"{path} does not exist.",
            hint="check the spelling of the path",
        ))
        return None
    if path.is_symlink() and not path.exists():
        result.could_not_run = True
        result.file_messages.append(_file_message(
            check="path_exists", location="", message=f"{path} is a symbolic link to a missing file.",
            hint="point the link at an existing file or copy the file here",
        ))
        return None
    if path.is_dir():
        if path.name.endswith(".nwb.zarr"):
            text = f"{path} is a Zarr NWB store; only HDF5 NWB files are supported."
            hint = "export it to HDF5 with hdmf-zarr (NWBZarrIO.export) and validate the .nwb file"
        else:
            text = f"{path} is a directory named like an NWB file, not an NWB file."
            hint = "an NWB file is a single HDF5 file; rename the directory or pass the file inside it"
        result.file_messages.append(_file_message(check="is_a_file", location="", message=text, hint=hint))
        return None
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        result.file_messages.append(_file_message(
            check="is_a_file", location="", message=f"{path} is not a regular file (device, pipe or socket).",
            hint="pass the path of the .nwb file itself",
        ))
        return None
    try:
        with open(path, "rb") as stream:
            stream.read(1)
    except OSError as error:
        result.could_not_run = True
        result.file_messages.append(_file_message(
            check="path_readable", location="", message=f"{path} cannot be read: {error.strerror or error}.",
            hint="check the file permissions (chmod u+r) or that the disk is mounted",
        ))
        return None
    size = path.stat().st_size
    if size == 0:
        result.file_messages.append(_file_message(
            check="file_not_empty", location="", message=f"{path} is empty (0 bytes).",
            hint="the write or copy that produced it did not finish; write or copy it again",
        ))
        return None
    return size


def _open_error_message(*, path: Source, error: Exception, size: int) -> ValidationMessage:
    text = str(error)
    truncated = re.search(r"truncated file: eof = (\d+).*stored_eof = (\d+)", text)
    if truncated:
        eof, stored = int(truncated.group(1)), int(truncated.group(2))
        return _file_message(
            check="hdf5_not_truncated", location="",
            message=(f"{path} is truncated: it has {eof} bytes, but its HDF5 superblock says {stored} "
                     f"({100 * eof / max(stored, 1):.1f} % present)."),
            hint="the copy, download or write was interrupted; copy or write the file again",
        )
    return _file_message(
        check="hdf5_superblock", location="",
        message=(f"{path} starts with the HDF5 signature but its superblock (the file header HDF5 needs to find "
                 f"everything else) is damaged: {type(error).__name__}: {text}."),
        hint="the start of the file was overwritten; restore the file from its source or write it again",
    )


def find_hard_link_cycles(*, h5file: h5py.File, names: list[str]) -> list[str]:
    """Locations of hard links that point back at one of their own parent groups (a loop in the tree)."""
    cycles = []
    for name in names:
        try:
            link_target = h5file[name]
        except (KeyError, OSError, RuntimeError):
            continue
        if not isinstance(link_target, h5py.Group):
            continue
        parts = name.split("/")
        ancestors = ["/"] + ["/".join(parts[:depth]) for depth in range(1, len(parts))]
        if any(h5file[ancestor] == link_target for ancestor in ancestors):
            cycles.append("/" + name)
    return cycles


def find_links_leaving_file(*, h5file: h5py.File) -> tuple[list[LinkLeavingFile], list[tuple[str, str]]]:
    """Every link or storage that leaves ``h5file``, and dangling soft links, found without following any link.

    See :func:`ndx_glymphatic.converters.hdf5_safety.scan_links`, which rig readers of HDF5 files share.
    """
    scan = scan_links(h5file=h5file)
    return scan.leaving, scan.dangling


def _attribute_text(*, value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.size == 1:
        return _attribute_text(value=value.reshape(-1)[0])
    return None


def _check_nwb_root(*, path: Source, h5file: h5py.File, result: ProbeResult) -> bool:
    """Root attributes of an NWB file and a readable schema version; False when pynwb must not open it."""
    attrs = h5file.attrs
    neurodata_type = _attribute_text(value=attrs.get("neurodata_type"))
    raw_version = attrs.get("nwb_version")
    if raw_version is None and neurodata_type is None:
        top = sorted(h5file.keys())[:8]
        result.file_messages.append(_file_message(
            check="is_nwb_file",
            message=(f"{path} is an HDF5 file but not an NWB file: the root group has neither 'nwb_version' "
                     f"nor 'neurodata_type' (top-level objects: {top})."),
            hint="convert the recording to NWB first (`glymph convert ...`)",
        ))
        return False
    version = _attribute_text(value=raw_version) if raw_version is not None else None
    if version is None:
        found = "missing" if raw_version is None else f"{raw_version!r} (not text)"
        result.file_messages.append(_file_message(
            check="nwb_version_present",
            message=f"The root attribute 'nwb_version' is {found}; pynwb refuses to read the file without it.",
            hint="the file was not written by pynwb or was edited; rewrite it with pynwb",
        ))
        return False
    result.nwb_version = version
    if neurodata_type != "NWBFile":
        result.file_messages.append(_file_message(
            check="root_is_nwbfile",
            message=f"The root group's 'neurodata_type' is {neurodata_type!r}, expected 'NWBFile'.",
            hint="the file was not written by pynwb or was edited; rewrite it with pynwb",
        ))
        return False
    parsed = _version_tuple(version)
    if parsed is None:
        result.file_messages.append(_file_message(
            check="nwb_version_valid",
            message=f"The root attribute 'nwb_version' is {version!r}, not a version like '2.11.0'.",
            hint="the file was edited by hand or written by a broken tool; rewrite it with pynwb",
        ))
        return False
    if parsed[0] < 2:
        result.file_messages.append(_file_message(
            check="nwb_version_supported",
            message=f"The file uses NWB {version}; only NWB 2.x files can be read.",
            hint="convert NWB 1.x files to NWB 2 first",
        ))
        return False
    supported = supported_nwb_version()
    if parsed > (_version_tuple(supported) or parsed):
        result.file_messages.append(_file_message(
            check="nwb_version_supported",
            message=(f"The file uses NWB schema {version}, newer than {supported}, the newest this "
                     f"installation (pynwb) knows: it may hold things this validator cannot check."),
            hint="upgrade pynwb (pip install -U pynwb) and validate again",
        ))
    for name in _ROOT_DATASETS:
        if name not in h5file:
            result.file_messages.append(_file_message(
                check="required_root_objects", location=f"/{name}",
                message=f"The required dataset '/{name}' is missing.",
                hint="every NWB file needs it; rewrite the file with pynwb (NWBFile(...) sets it)",
            ))
    for name in _ROOT_GROUPS:
        if name not in h5file:
            result.file_messages.append(_file_message(
                check="required_root_objects", location=f"/{name}",
                message=f"The required group '/{name}' is missing.",
                hint="every NWB file has it (possibly empty); rewrite the file with pynwb",
            ))
    return all(name in h5file for name in (*_ROOT_DATASETS, *_ROOT_GROUPS))


_CORE_NAMESPACES = ("core", "hdmf-common", "hdmf-experimental")


def _extension_namespaces(*, h5file: h5py.File) -> set[str]:
    """Namespaces other than core/hdmf-common of the typed objects in the file (from their attributes)."""
    found: set[str] = set()

    def visit(name: str, obj: h5py.Group | h5py.Dataset) -> None:
        namespace = _attribute_text(value=obj.attrs.get("namespace"))
        if namespace and namespace not in _CORE_NAMESPACES:
            found.add(namespace)

    h5file.visititems(visit)
    return found


def _check_specification_location(*, h5file: h5py.File, result: ProbeResult) -> None:
    """The root attribute ``.specloc`` (where pynwb finds the cached specifications) must resolve."""
    reference = h5file.attrs.get(".specloc")
    if reference is None:
        return
    try:
        h5file[reference]
    except Exception as error:
        result.structure_broken = True
        result.file_messages.append(_file_message(
            check="cached_specifications", location="/.specloc",
            message=(f"The root attribute '.specloc' points to the cached specifications, but that object is gone "
                     f"({type(error).__name__}: {error}); pynwb fails on it before reading anything."),
            hint="the specifications group was deleted by hand; rewrite the file with pynwb",
        ))


def _check_specifications(*, h5file: h5py.File, result: ProbeResult) -> None:
    _check_specification_location(h5file=h5file, result=result)
    if "specifications" not in h5file:
        extensions = sorted(_extension_namespaces(h5file=h5file))
        if extensions:
            result.file_messages.append(_file_message(
                check="cached_specifications", location="/specifications",
                message=(f"The file uses the extension namespace(s) {extensions} but caches no specification "
                         f"(/specifications is missing): nobody without these extensions installed can read it, "
                         f"and its schema cannot be checked against what it was written with."),
                hint="write files with NWBHDF5IO(..., mode='w') and the default cache_spec=True",
            ))
        else:
            result.file_messages.append(_file_message(
                check="cached_specifications", severity="warning", importance="BEST_PRACTICE_VIOLATION",
                location="/specifications",
                message="The file caches no specification (/specifications is missing); the installed core "
                        "schema is used instead.",
                hint="write files with NWBHDF5IO(..., mode='w') and the default cache_spec=True",
            ))
        return
    specifications = h5file["specifications"]
    for namespace in specifications:
        group = specifications[namespace]
        if not isinstance(group, h5py.Group) or len(group) == 0:
            continue
        version = sorted(group.keys())[-1]
        result.cached_namespaces[namespace] = version
        location = f"/specifications/{namespace}/{version}/namespace"
        try:
            raw = group[version]["namespace"][()]
            json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
        except (KeyError, TypeError, ValueError, OSError, AttributeError) as error:
            result.structure_broken = True
            result.file_messages.append(_file_message(
                check="cached_specifications", location=location,
                message=f"The cached specification of namespace '{namespace}' {version} is unreadable: {error}.",
                hint="rewrite the file with pynwb so the specification is cached again",
            ))


def _defined_types(*, spec: object) -> set[str]:
    """Every type defined in a parsed specification document (at any depth)."""
    found: set[str] = set()
    if isinstance(spec, dict):
        for key in ("neurodata_type_def", "data_type_def"):  # NWB and hdmf-common spellings
            if isinstance(spec.get(key), str):
                found.add(spec[key])
        for value in spec.values():
            found |= _defined_types(spec=value)
    elif isinstance(spec, list):
        for value in spec:
            found |= _defined_types(spec=value)
    return found


def _types_by_namespace(*, h5file: h5py.File) -> dict[str, set[str]]:
    """Types each namespace defines: from the cached specification, else from the installed one."""
    import pynwb

    types: dict[str, set[str]] = {}
    specifications = h5file.get("specifications")
    if isinstance(specifications, h5py.Group):
        for namespace, group in specifications.items():
            if not isinstance(group, h5py.Group) or len(group) == 0:
                continue
            version_group = group[sorted(group.keys())[-1]]
            defined: set[str] = set()
            for name, dataset in version_group.items():
                if name == "namespace" or not isinstance(dataset, h5py.Dataset):
                    continue
                try:
                    raw = dataset[()]
                    defined |= _defined_types(spec=json.loads(raw.decode() if isinstance(raw, bytes) else raw))
                except (TypeError, ValueError, OSError):
                    continue
            types[namespace] = defined
    catalog = pynwb.get_type_map(copy=False).namespace_catalog  # read only
    for namespace in catalog.namespaces:
        if namespace not in types:
            types[namespace] = set(catalog.get_namespace(namespace).get_registered_types())
    return types


def _check_neurodata_types(*, h5file: h5py.File, result: ProbeResult) -> None:
    """Every typed object's (namespace, neurodata_type) is defined by that namespace's specification."""
    known = _types_by_namespace(h5file=h5file)
    unknown: list[tuple[str, str, str]] = []

    def visit(name: str, obj: h5py.Group | h5py.Dataset) -> None:
        neurodata_type = _attribute_text(value=obj.attrs.get("neurodata_type"))
        if neurodata_type is None:
            return
        namespace = _attribute_text(value=obj.attrs.get("namespace")) or ""
        if neurodata_type not in known.get(namespace, set()):
            unknown.append(("/" + name, namespace, neurodata_type))

    h5file.visititems(visit)
    for location, namespace, neurodata_type in unknown[:20]:
        if namespace in known:
            text = f"{location} has neurodata_type '{neurodata_type}', which namespace '{namespace}' does not define"
        else:
            text = (f"{location} has neurodata_type '{neurodata_type}' of namespace '{namespace or '(none)'}', which "
                    f"is neither cached in the file nor installed")
        result.file_messages.append(_file_message(
            check="known_neurodata_types", location=location,
            message=text + ": readers skip or misread this object.",
            hint="the type attribute was edited or the writing extension is missing; rewrite the file with pynwb",
        ))


def _security_messages(*, leaving: list[LinkLeavingFile]) -> list[ValidationMessage]:
    return [
        ValidationMessage(
            layer="security", severity="error", importance="CRITICAL", check="check_no_links_leaving_file",
            location=item.location,
            message=(f"{item.kind} to '{item.target}': this object's content lives outside the file. It was "
                     f"not followed, and the file is not opened with pynwb."),
            hint=("a shared NWB file must be self-contained: copy the data into the file (e.g. "
                  "NWBHDF5IO.export) and remove the link; never open files with links you did not make"),
        )
        for item in leaving
    ]


def _remote_size(*, url: str, result: ProbeResult) -> int | None:
    """The size of the file at ``url``; None (and a message) when it cannot be reached."""
    try:
        with open_binary(url) as stream:
            return int(stream.seek(0, 2))
    except RemoteFileError as error:
        _could_not_read_remote(error=error, result=result)
        return None


def _could_not_read_remote(*, error: RemoteFileError, result: ProbeResult) -> None:
    result.could_not_run = True
    result.file_messages.append(_file_message(
        check="remote_readable", location="", message=str(error),
        hint="check the URL, that the server is up and reachable from here, and try again",
    ))
    result.refusal = "the remote file cannot be read"


def probe_path(*, path: str | Path) -> ProbeResult:
    """Run the ``file`` and ``security`` layers on ``path`` (a local path or an ``http(s)://`` URL) with h5py only.

    A URL is read by HTTP range requests (:func:`ndx_glymphatic.remote.open_h5`) and gets the same look as a
    local file: links leaving the file are found without following them. A network failure at any point makes
    the whole result one ``remote_readable`` message (could not run).

    Parameters
    ----------
    path : str or Path
        The path or URL to look at.

    Returns
    -------
    ProbeResult
        Messages of both layers, and whether pynwb may open the file.
    """
    source = as_source(path)
    try:
        result = _probe(path=source)
    except RemoteFileError as error:
        result = ProbeResult()
        _could_not_read_remote(error=error, result=result)
        return result
    cause = network_failure(source=source)
    if cause is not None:  # HDF5 reports a failed read as damage; the network is the reason
        result = ProbeResult()
        _could_not_read_remote(error=RemoteFileError(url=str(source), cause=cause), result=result)
    return result


def _probe(*, path: Source) -> ProbeResult:
    result = ProbeResult()
    size = _remote_size(url=path, result=result) if is_url(path) else _check_path(path=Path(path), result=result)
    if size is None:
        result.refusal = result.refusal or "the path is not a readable file"
        return result
    if not _has_hdf5_signature(path=path, size=size):
        result.file_messages.append(_file_message(
            check="hdf5_signature", location="",
            message=f"{path} is not an HDF5 file: no HDF5 signature; it looks like {_describe_non_hdf5(path=path)}.",
            hint="NWB files are HDF5 files; convert the recording to NWB first (`glymph convert ...`)",
        ))
        result.refusal = "the file is not HDF5"
        return result
    try:
        h5file = open_h5(path)
    except RemoteFileError:
        raise
    except PermissionError as error:
        result.could_not_run = True
        result.file_messages.append(_file_message(
            check="path_readable", location="", message=f"{path} cannot be read: {error}.",
            hint="check the file permissions",
        ))
        result.refusal = "the file cannot be read"
        return result
    except Exception as error:  # HDF5 reports damage as OSError, RuntimeError, ValueError...
        result.file_messages.append(_open_error_message(path=path, error=error, size=size))
        result.refusal = "HDF5 cannot open the file"
        return result
    try:
        with h5file:
            try:
                scan = scan_links(h5file=h5file)
                leaving, dangling = scan.leaving, scan.dangling
                cycles = find_hard_link_cycles(h5file=h5file, names=scan.hard_links)
                result.security_ran = True
            except Exception as error:
                result.file_messages.append(_file_message(
                    check="hdf5_readable",
                    message=f"The HDF5 structure is damaged: listing its objects failed ({type(error).__name__}: "
                            f"{error}).",
                    hint="restore the file from its source or write it again",
                ))
                result.refusal = "the HDF5 structure is damaged"
                return result
            result.security_messages.extend(_security_messages(leaving=leaving))
            for location, target in dangling:
                result.file_messages.append(_file_message(
                    check="no_dangling_soft_links", location=location,
                    message=f"The soft link {location} points to '{target}', which does not exist in the file.",
                    hint="the object it referred to was deleted; rewrite the file with pynwb",
                ))
            for location in cycles:
                result.file_messages.append(_file_message(
                    check="no_link_cycles", location=location,
                    message=f"{location} is a hard link back to one of its own parent groups: the object tree "
                            f"has a loop, and readers that walk it never end.",
                    hint="remove the link (del f[...] with h5py) or rewrite the file with pynwb",
                ))
            if leaving:
                # reading attributes or objects by path could resolve a link into another file: stop here
                result.refusal = "the file has links leaving it (see the security layer)"
                return result
            root_ok = _check_nwb_root(path=path, h5file=h5file, result=result)
            if root_ok and not cycles:
                _check_specifications(h5file=h5file, result=result)
                _check_neurodata_types(h5file=h5file, result=result)
    except Exception as error:
        result.file_messages.append(_file_message(
            check="hdf5_readable",
            message=f"The HDF5 structure is damaged ({type(error).__name__}: {error}).",
            hint="restore the file from its source or write it again",
        ))
        result.refusal = "the HDF5 structure is damaged"
        return result
    if leaving:
        result.refusal = "the file has links leaving it (see the security layer)"
    elif not root_ok:
        result.refusal = "the file is not a readable NWB file (see the file layer)"
    elif dangling or cycles:
        result.refusal = "the file has broken links (see the file layer)"
    elif result.structure_broken:
        result.refusal = "its cached specifications are broken (see the file layer)"
    else:
        result.openable = True
    return result

