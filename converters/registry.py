"""Which reader reads which file: format name -> reader classes, for rig files and for hypnograms.

A session file names each file's ``format`` (``photometry.format: doric``, ``hypnogram.format:
state-table``). The tables below list every reader class; each class declares the format it reads,
the file kinds it takes (:attr:`RigReader.suffixes`: a Doric ``.csv`` export is read by
``DoricCsvReader``, every other Doric path by ``DoricFileReader``) and the options a session file
may set. :func:`open_rig_reader` and :func:`read_hypnogram` choose the class and check the options.

To add a reader: write the class (declaring ``format``, ``format_name``, ``modalities`` /
``suffixes`` / ``options`` as they apply), add it to :data:`RIG_READERS` or
:data:`HYPNOGRAM_READERS`, add the format name to the session model's list of formats, and add a
case to the shared contract suite.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from ndx_glymphatic.converters._contract import (
    DEFAULT_BOUNDARY_TOLERANCE_IN_S,
    HypnogramIntervals,
    HypnogramReader,
    Modality,
    Recognition,
    RigReader,
)
from ndx_glymphatic.converters.doric import DoricCsvReader, DoricFileReader
from ndx_glymphatic.converters.edf import EdfReader
from ndx_glymphatic.converters.hypnogram import (
    EdfHypnogramReader,
    EpochCodeHypnogramReader,
    LongTableHypnogramReader,
    StateTableHypnogramReader,
)
from ndx_glymphatic.converters.neurophotometrics import NeurophotometricsReader
from ndx_glymphatic.converters.pyphotometry import PyPhotometryCsvReader, PyPhotometryReader
from ndx_glymphatic.converters.tdt import TdtBlockReader
from ndx_glymphatic.errors import GlymphError, InputFileError

__all__ = [
    "HYPNOGRAM_READERS",
    "RIG_READERS",
    "detect_hypnogram_format",
    "hypnogram_formats",
    "hypnogram_reader_class",
    "open_rig_reader",
    "read_hypnogram",
    "rig_formats",
    "rig_reader_class",
]

#: Every rig-file reader class, in the order formats are listed to users.
RIG_READERS: tuple[type[RigReader], ...] = (
    TdtBlockReader,
    DoricFileReader,
    DoricCsvReader,
    NeurophotometricsReader,
    PyPhotometryReader,
    PyPhotometryCsvReader,
    EdfReader,
)

#: Every hypnogram reader class, in the order formats are listed to users.
HYPNOGRAM_READERS: tuple[type[HypnogramReader], ...] = (
    StateTableHypnogramReader,
    EpochCodeHypnogramReader,
    EdfHypnogramReader,
    LongTableHypnogramReader,
)


def _option_defaults(reader_class: type) -> dict[str, object]:
    """Default of every declared option, from the keyword parameters of the class's ``__init__``."""
    parameters = inspect.signature(reader_class).parameters
    missing = [name for name in reader_class.options if name not in parameters]
    if missing:
        raise TypeError(f"{reader_class.__name__} declares options {missing} that __init__ does not take")
    return {name: parameters[name].default for name in reader_class.options}


def _rig_table(readers: Iterable[type[RigReader]]) -> dict[str, dict[str, type[RigReader]]]:
    """Format -> {suffix ("" for every other path) -> class}; one class per format and path kind, and a class for
    every other path."""
    table: dict[str, dict[str, type[RigReader]]] = {}
    for reader_class in readers:
        if not (reader_class.format and reader_class.format_name and reader_class.modalities):
            raise TypeError(f"{reader_class.__name__} must declare format, format_name and modalities")
        _option_defaults(reader_class)
        kinds = table.setdefault(reader_class.format, {})
        for suffix in reader_class.suffixes or ("",):
            if suffix in kinds:
                raise TypeError(
                    f"{reader_class.__name__} and {kinds[suffix].__name__} both read format "
                    f"{reader_class.format!r} {suffix or 'paths'}"
                )
            kinds[suffix] = reader_class
    for format, kinds in table.items():
        if "" not in kinds:
            raise TypeError(f"format {format!r} needs a reader for paths without one of the suffixes {sorted(kinds)}")
    return table


def _hypnogram_table(readers: Iterable[type[HypnogramReader]]) -> dict[str, type[HypnogramReader]]:
    table: dict[str, type[HypnogramReader]] = {}
    for reader_class in readers:
        declared = reader_class.format and reader_class.format_name
        if not (declared and reader_class.state_map_option in reader_class.options):
            raise TypeError(f"{reader_class.__name__} must declare format, format_name and a state_map_option option")
        if reader_class.format in table:
            raise TypeError(f"{reader_class.__name__} and {table[reader_class.format].__name__} both read format "
                            f"{reader_class.format!r}")
        _option_defaults(reader_class)
        table[reader_class.format] = reader_class
    return table


_RIG_TABLE = _rig_table(RIG_READERS)
_HYPNOGRAM_TABLE = _hypnogram_table(HYPNOGRAM_READERS)


def _given_options(
    *, options: Mapping[str, object] | None, reader_class: type, format: str, all_classes: Collection[type]
) -> dict[str, object]:
    """The options actually set (not None, not empty, not the default), checked against ``reader_class``.

    Raises
    ------
    GlymphError
        An option set that the chosen class does not take.
    """
    defaults: dict[str, object] = {}
    for other in all_classes:
        defaults.update(_option_defaults(other))
    defaults.update(_option_defaults(reader_class))
    given = {
        name: value
        for name, value in (options or {}).items()
        if value is not None
        and not (isinstance(value, (list, tuple, Mapping)) and not value)
        and not (name in defaults and value == defaults[name])
    }
    stray = sorted(name for name in given if name not in reader_class.options)
    if stray:
        several = sum(other.format == format for other in all_classes) > 1
        kind = f" ({reader_class.format_name})" if several else ""
        raise GlymphError(f"{', '.join(stray)}: not used by format {format!r}{kind}")
    return given


# ---------------------------------------------------------------------------------------------- rig files
def rig_formats(*, modality: Modality | None = None) -> tuple[str, ...]:
    """Format names of rig files (those recording ``modality`` when given), in registry order."""
    return tuple(
        format
        for format, kinds in _RIG_TABLE.items()
        if modality is None or any(modality in reader_class.modalities for reader_class in kinds.values())
    )


def rig_reader_class(*, format: str, path: Path) -> type[RigReader]:
    """The reader class of a rig file: by ``format``, then by the path's suffix among that format's classes.

    Raises
    ------
    GlymphError
        An unknown format.
    """
    kinds = _RIG_TABLE.get(format)
    if kinds is None:
        raise GlymphError(f"format: expected one of {', '.join(_RIG_TABLE)}, got {format!r}")
    return kinds.get(Path(path).suffix.lower(), kinds[""])


def open_rig_reader(*, format: str, path: Path, options: Mapping[str, object] | None = None) -> RigReader:
    """Open the reader of a rig file (headers only).

    Parameters
    ----------
    format : str
        The session file's ``format`` (one of :func:`rig_formats`).
    path : Path
        The rig file or TDT block folder.
    options : mapping, optional
        Session-file options by reader keyword (NPM ``digital_input_paths`` / ``led_order``, Doric
        ``series``); those left unset (None, empty, the default) are ignored.

    Raises
    ------
    GlymphError
        An unknown format, or an option the file's reader does not take.
    InputFileError
        A malformed file (from the reader).
    """
    reader_class = rig_reader_class(format=format, path=path)
    given = _given_options(options=options, reader_class=reader_class, format=format, all_classes=RIG_READERS)
    return reader_class(path=path, **given)


# ---------------------------------------------------------------------------------------------- hypnograms
def hypnogram_formats() -> tuple[str, ...]:
    """Format names of hypnogram files, in registry order."""
    return tuple(_HYPNOGRAM_TABLE)


def hypnogram_reader_class(*, format: str) -> type[HypnogramReader]:
    """The reader class of a hypnogram format.

    Raises
    ------
    GlymphError
        An unknown format.
    """
    reader_class = _HYPNOGRAM_TABLE.get(format)
    if reader_class is None:
        raise GlymphError(f"format: expected one of {list(_HYPNOGRAM_TABLE)}, found {format!r}")
    return reader_class


def detect_hypnogram_format(*, path: Path) -> Recognition:
    """The format of a hypnogram file, recognised from its content by every reader's ``recognise``.

    Raises
    ------
    InputFileError
        No reader recognises the file, or several do equally well (the message lists them).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path=path, field="file", expected="an existing hypnogram file", found="nothing")
    found = [seen for reader_class in HYPNOGRAM_READERS if (seen := reader_class.recognise(path=path)) is not None]
    if not found:
        raise InputFileError(
            path=path, field="format", expected=f"a hypnogram of one of the formats {list(_HYPNOGRAM_TABLE)}",
            found="a layout none of them recognises",
            hint="name hypnogram.format; see docs/formats.md#format-detection",
        )
    best = max(seen.score for seen in found)
    top = [seen for seen in found if seen.score == best]
    if len(top) > 1:
        raise InputFileError(
            path=path, field="format", expected="a layout one format recognises",
            found="several candidates: " + "; ".join(f"{seen.format} ({seen.reason})" for seen in top),
            hint="name hypnogram.format; see docs/formats.md#format-detection",
        )
    return top[0]


def read_hypnogram(
    *,
    format: str | None,
    path: Path,
    scorer: str,
    scoring_method: str = "manual",
    epoch_length_in_s: float | None = None,
    merge_adjacent: bool = True,
    options: Mapping[str, object] | None = None,
    boundary_tolerance_in_s: float = DEFAULT_BOUNDARY_TOLERANCE_IN_S,
) -> HypnogramIntervals:
    """Read a hypnogram with the reader of its format.

    Parameters
    ----------
    format : str or None
        The session file's ``hypnogram.format`` (one of :func:`hypnogram_formats`); None: recognise it
        from the content (:func:`detect_hypnogram_format`), and say so in the notes.
    path : Path
        The scoring file.
    scorer, scoring_method, epoch_length_in_s, merge_adjacent, boundary_tolerance_in_s
        As for every :class:`~ndx_glymphatic.converters._contract.HypnogramReader`.
    options : mapping, optional
        Format options by session-file key (``state_columns``; ``state_codes``, ``column``,
        ``start_time_in_s``; ``label_map``); those left unset (None, empty, the default) are ignored.

    Returns
    -------
    HypnogramIntervals
        On the scoring file's clock.

    Raises
    ------
    GlymphError
        An unknown format, an option the format does not use, or bad scoring metadata.
    InputFileError
        A malformed scoring file.
    """
    chosen = None
    if format is None:
        chosen = detect_hypnogram_format(path=path)
        format = chosen.format
    reader_class = hypnogram_reader_class(format=format)
    given = _given_options(options=options, reader_class=reader_class, format=format, all_classes=HYPNOGRAM_READERS)
    if chosen is not None:
        given = {**chosen.options, **given}
        if epoch_length_in_s is None and reader_class.epoch_length_required:
            raise InputFileError(
                path=path, field="hypnogram.epoch_length_in_s",
                expected=f"a scoring epoch (the file was recognised as {format!r}: {chosen.reason}, one code per "
                "epoch)", found="nothing", hint="see docs/formats.md#epoch-codes",
            )
    reader = reader_class(
        path=path, scorer=scorer, scoring_method=scoring_method, epoch_length_in_s=epoch_length_in_s,
        merge_adjacent=merge_adjacent, boundary_tolerance_in_s=boundary_tolerance_in_s, **given,
    )
    intervals = reader.read()
    if chosen is None:
        return intervals
    implied = "".join(f", {name}: {value}" for name, value in chosen.options.items())
    note = (f"{path}: no hypnogram format named; read as {format!r} ({reader_class.format_name}{implied}), "
            f"recognised from {chosen.reason}")
    return replace(intervals, notes=(note, *intervals.notes))
