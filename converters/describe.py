"""What a rig file holds, found from its headers: the format, the streams and the event channels.

``glymph describe RIG_PATH`` prints it (so that a session file can name the streams), and
``glymph init`` writes a session file from it. The format is recognised from the path (a TDT block
folder, ``.doric``, ``.ppd``, ``.edf``); a ``.csv`` file is offered to each CSV reader in registry
order and read by the first that accepts its header.
"""

from __future__ import annotations

from pathlib import Path

from ndx_glymphatic.converters._contract import RigDescription, RigReader
from ndx_glymphatic.converters.registry import RIG_READERS, open_rig_reader, rig_formats
from ndx_glymphatic.errors import InputFileError

__all__ = ["describe_rig", "detect_rig_format", "open_rig_path", "render_description"]

#: Path suffix -> format, for the suffixes that only one format writes.
_FORMAT_OF_SUFFIX = {".doric": "doric", ".h5": "doric", ".ppd": "ppd", ".edf": "edf", ".bdf": "edf"}
_TDT_HEADER_SUFFIX = ".tsq"


def _tdt_block_folder(path: Path) -> Path | None:
    """The TDT block folder that ``path`` is or lies in (a ``.tsq`` header inside), else None."""
    if path.is_file() and path.suffix.lower() == _TDT_HEADER_SUFFIX:
        return path.parent
    if path.is_dir() and any(child.suffix.lower() == _TDT_HEADER_SUFFIX for child in path.iterdir()):
        return path
    return None


def _csv_formats() -> tuple[str, ...]:
    """Formats that read ``.csv`` files, in registry order."""
    return tuple(
        dict.fromkeys(
            reader_class.format
            for reader_class in RIG_READERS
            if ".csv" in reader_class.suffixes or (not reader_class.suffixes and reader_class.format == "npm")
        )
    )


def open_rig_path(*, path: str | Path, format: str | None = None) -> RigReader:
    """Open the reader of a rig file or TDT block folder, recognising its format when ``format`` is None.

    Parameters
    ----------
    path : str or Path
        The rig file, or a TDT block folder (or its ``.tsq`` file).
    format : str, optional
        The session file's ``format`` (one of the rig formats); recognised from the path when omitted.

    Returns
    -------
    RigReader
        Open on the headers; close it (or use it in a ``with`` block).

    Raises
    ------
    InputFileError
        No such file, or a file no rig reader recognises (the message names the formats tried).
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(
            path=path,
            field="(path)",
            expected="an existing rig file or TDT block folder",
            found="no such file or folder",
        )
    block = _tdt_block_folder(path)
    if format is not None:
        return open_rig_reader(format=format, path=block if format == "tdt" and block else path)
    if block is not None:
        return open_rig_reader(format="tdt", path=block)
    suffix = path.suffix.lower()
    if suffix in _FORMAT_OF_SUFFIX:
        return open_rig_reader(format=_FORMAT_OF_SUFFIX[suffix], path=path)
    if suffix == ".csv":
        refusals: list[str] = []
        for candidate in _csv_formats():
            try:
                return open_rig_reader(format=candidate, path=path)
            except InputFileError as error:
                refusals.append(f"{candidate}: {error.expected}")
        raise InputFileError(
            path=path,
            field="(header)",
            expected="a CSV export of " + ", ".join(_csv_formats()),
            found="a header none of them writes (" + "; ".join(refusals) + ")",
        )
    raise InputFileError(
        path=path,
        field="(path)",
        expected=f"a rig file of one of the formats {', '.join(rig_formats())} (a TDT block folder, .doric, .ppd, "
        ".csv, .edf)",
        found=f"a {'folder without a .tsq header' if path.is_dir() else repr(suffix or 'suffix-less') + ' file'}",
        hint="name the format with --rig-format; see docs/formats.md#rig-formats",
    )


def detect_rig_format(*, path: str | Path) -> str:
    """The session file's ``format`` value of a rig file (see :func:`open_rig_path`)."""
    with open_rig_path(path=path) as reader:
        return reader.format


def describe_rig(*, path: str | Path, format: str | None = None) -> RigDescription:
    """Describe a rig file from its headers (see :func:`open_rig_path` for ``format``)."""
    with open_rig_path(path=path, format=format) as reader:
        return reader.describe()


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def render_description(*, description: RigDescription) -> str:
    """The description as ``glymph describe`` prints it: a header, a table of streams, a table of event channels."""
    start = description.session_start_time
    lines = [
        f"{description.path}",
        f"  format: {description.format} ({description.format_name})",
        f"  start time: {start.isoformat() if start is not None else 'not in the file'}"
        + ("" if start is None or start.tzinfo is not None else " (no time zone in the file)"),
        f"  duration: {description.duration_in_s:.3f} s",
        f"  streams ({len(description.streams)}):",
    ]
    rows = [("name", "rate", "samples", "channels", "unit")]
    for stream in description.streams:
        if stream.rate_in_Hz is not None:
            rate = f"{stream.rate_in_Hz:.6g} Hz"
        elif stream.mean_rate_in_Hz is not None:
            rate = f"irregular (~{stream.mean_rate_in_Hz:.4g} Hz)"
        else:
            rate = "irregular"
        channels = str(stream.n_channels)
        if stream.channel_names and tuple(stream.channel_names) != (stream.name,):
            channels += f" ({', '.join(stream.channel_names)})"
        rows.append((stream.name, rate, str(stream.n_samples), channels, stream.unit))
    lines += _table(rows=rows)
    lines.append(f"  event channels ({len(description.events)}):")
    if description.events:
        event_rows = [("name", "count", "first", "last")]
        event_rows += [
            (event.name, str(event.count), _seconds(event.first_time_in_s), _seconds(event.last_time_in_s))
            for event in description.events
        ]
        lines += _table(rows=event_rows)
    else:
        lines.append("    none")
    lines += [f"  note: {note}" for note in description.notes]
    return "\n".join(lines)


def _table(*, rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "    " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
