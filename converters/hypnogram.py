"""Hypnogram readers: sleep-scoring files (hypnograms) into sleep-state intervals.

Three kinds of file, one :class:`~ndx_glymphatic.converters._contract.HypnogramReader` each, chosen by
the session file's ``hypnogram.format`` (:func:`ndx_glymphatic.converters.registry.read_hypnogram`):

``"state-table"`` (:class:`StateTableHypnogramReader`) -- per-state onset/duration tables (the
SleepScore export), ``.csv`` / ``.tsv`` / ``.txt`` or ``.xlsx``. Exact layout accepted:

* two columns per state: the column whose header cell is the state name (``Wake``, ``NREM``, ``REM``,
  ``MA``; case-insensitive, see ``state_columns``) holds onsets in seconds, the column right after it
  the durations in seconds (its header cell empty or any text);
* or one header row with ``<state> onset`` / ``<state> duration`` cells (``_`` or space; ``start``
  is accepted for ``onset``), in any column order;
* an optional second header row of text (``onset``, ``duration``, units ...) is skipped;
* data rows follow; a state with fewer bouts leaves its cells empty. Rows need not be sorted.

Micro-arousals may lie inside NREM bouts (as SleepScore exports them): the NREM bout is then split
around them (``NREM | micro-arousal | NREM``). A micro-arousal overlapping wake or REM, or any other
overlap, is an error naming both rows.

``"epoch-codes"`` (:class:`EpochCodeHypnogramReader`) -- one state code per scoring epoch (``.csv`` /
``.tsv`` / ``.txt`` / ``.xlsx``; one column, or the column named ``column``, an optional header row).
Codes map to states through ``state_codes`` (default :data:`DEFAULT_EPOCH_CODE_MAP`: 1 = wake, 4 = NREM,
9 = REM, 15 = micro-arousal, the 1-Hz state vectors of the NE / glymphatic sleep papers;
:data:`ACCUSLEEP_CODE_MAP` for AccuSleep). Runs of equal codes become one interval;
``epoch_length_in_s`` is required.

``"edf"`` (:class:`EdfHypnogramReader`) -- EDF+ annotation hypnograms (Sleep-EDF style, read with
pyedflib). Labels map through ``label_map`` (default :data:`SLEEP_EDF_LABEL_MAP`: ``Sleep stage W`` ->
wake, ``Sleep stage 1``-``4`` / ``N1``-``N3`` -> NREM (rodent scoring has one NREM state), ``Sleep
stage R`` -> REM, ``Movement time`` -> artifact, ``Sleep stage ?`` -> unscored). Times are seconds
after the EDF start.

``"long-table"`` (:class:`LongTableHypnogramReader`) -- one row per interval (``onset``, ``duration`` or
``offset``, ``state`` or ``stage`` columns in any order and case; seconds or ``HH:MM:SS(.fff)``), also the BIDS
sleep proposal's ``_hypnogram.tsv``; labels through :data:`ndx_glymphatic.vocabulary.SLEEP_STATE_ALIASES`.

``epoch-codes`` and ``edf`` take a named ``code_preset`` (:data:`CODE_PRESETS`, :data:`LABEL_PRESETS`). Every
reader's ``recognise`` sniffs its format for files whose session names none. docs/formats.md "Hypnogram
formats" documents every format.

Every reader returns a :class:`~ndx_glymphatic.converters._contract.HypnogramIntervals` whose states
use the vocabulary :data:`ndx_glymphatic.vocabulary.SLEEP_STATES`, sorted and non-overlapping; adjacent
intervals of one state are merged unless ``merge_adjacent=False``.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ndx_glymphatic.converters._contract import HypnogramReader, Recognition, ScoredFile, ScoredInterval
from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.vocabulary import SLEEP_STATE_ALIASES

__all__ = [
    "ACCUSLEEP_CODE_MAP",
    "CODE_PRESETS",
    "DEFAULT_EPOCH_CODE_MAP",
    "LABEL_PRESETS",
    "SLEEPSCORE_STATE_COLUMNS",
    "SLEEP_EDF_LABEL_MAP",
    "YASA_CODE_MAP",
    "YASA_STR_CODE_MAP",
    "EdfHypnogramReader",
    "EpochCodeHypnogramReader",
    "LongTableHypnogramReader",
    "StateTableHypnogramReader",
]

#: Epoch codes of the 1-Hz state vectors used in NE / glymphatic sleep work.
DEFAULT_EPOCH_CODE_MAP: Mapping[int | str, str] = {1: "wake", 4: "NREM", 9: "REM", 15: "micro-arousal"}

#: AccuSleep labels (1 = REM, 2 = wake, 3 = NREM; 4 = undefined in the MATLAB ``labels.mat``, -1 = undefined in
#: AccuSleePy's ``brain_state`` CSV); AccuSleep's default epoch is 2.5 s.
ACCUSLEEP_CODE_MAP: Mapping[int | str, str] = {1: "REM", 2: "wake", 3: "NREM", 4: "unscored", -1: "unscored"}

#: YASA integer stages (``yasa.hypno_str_to_int``): -2 unscored, -1 artefact / movement, 0 W, 1-3 N1-N3, 4 REM;
#: a mouse has one NREM state, so N1-N3 are NREM.
YASA_CODE_MAP: Mapping[int | str, str] = {-2: "unscored", -1: "artifact", 0: "wake", 1: "NREM", 2: "NREM",
                                          3: "NREM", 4: "REM"}

#: YASA string stages (the keys of ``yasa.hypno_str_to_int``'s mapping, matched case-insensitively).
YASA_STR_CODE_MAP: Mapping[int | str, str] = {
    "W": "wake", "WAKE": "wake", "N1": "NREM", "N2": "NREM", "N3": "NREM", "S1": "NREM", "S2": "NREM",
    "S3": "NREM", "S4": "NREM", "R": "REM", "REM": "REM", "ART": "artifact", "MT": "artifact",
    "UNS": "unscored", "ND": "unscored",
}

#: SleepScore export state columns -> vocabulary.
SLEEPSCORE_STATE_COLUMNS: Mapping[str, str] = {
    "Wake": "wake",
    "NREM": "NREM",
    "REM": "REM",
    "MA": "micro-arousal",
}

#: EDF+ hypnogram annotation labels (Sleep-EDF, AASM) -> vocabulary.
SLEEP_EDF_LABEL_MAP: Mapping[str, str] = {
    "Sleep stage W": "wake",
    "Sleep stage 1": "NREM",
    "Sleep stage 2": "NREM",
    "Sleep stage 3": "NREM",
    "Sleep stage 4": "NREM",
    "Sleep stage N1": "NREM",
    "Sleep stage N2": "NREM",
    "Sleep stage N3": "NREM",
    "Sleep stage R": "REM",
    "Movement time": "artifact",
    "Sleep stage ?": "unscored",
}

#: Named epoch-code maps (``code_preset`` of the ``epoch-codes`` format).
CODE_PRESETS: Mapping[str, Mapping[int | str, str]] = {
    "default": DEFAULT_EPOCH_CODE_MAP,
    "accusleep": ACCUSLEEP_CODE_MAP,
    "yasa": YASA_CODE_MAP,
    "yasa-str": YASA_STR_CODE_MAP,
}

#: Named annotation-label maps (``code_preset`` of the ``edf`` format).
LABEL_PRESETS: Mapping[str, Mapping[str, str]] = {"sleep-edf": SLEEP_EDF_LABEL_MAP}

#: Where the docs of each format stand (every hint of these readers points there).
DOCS = "docs/formats.md"

_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
_FLAT_HEADER = re.compile(r"^(?P<state>.+?)[ _](?P<kind>onset|start|duration)(\s*\(s\))?$", re.IGNORECASE)


# ----------------------------------------------------------------------------------------------
# Table files (CSV / TSV / xlsx)
# ----------------------------------------------------------------------------------------------
Cell = str | float | None


def _cell(value: object) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _read_table(*, path: Path) -> list[list[Cell]]:
    """All rows of a CSV / TSV / xlsx file as cells (numbers as float, text stripped, empty as None)."""
    if not path.is_file():
        raise InputFileError(path=path, field="file", expected="an existing table file", found="nothing")
    suffix = path.suffix.lower()
    if suffix not in _TABLE_SUFFIXES:
        raise InputFileError(
            path=path, field="file type", expected=f"one of {list(_TABLE_SUFFIXES)}", found=repr(path.suffix)
        )
    if suffix == ".xlsx":
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many types for a bad workbook
            raise InputFileError(
                path=path,
                field="workbook",
                expected="a readable .xlsx file",
                found=f"{type(error).__name__}: {error}",
            ) from None
        try:
            sheet = workbook.worksheets[0]
            rows = [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    else:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        delimiter = "\t" if suffix == ".tsv" or ("\t" in text.split("\n", 1)[0]) else ","
        if delimiter == "," and ";" in text.split("\n", 1)[0] and "," not in text.split("\n", 1)[0]:
            delimiter = ";"
        rows = [[_cell(value) for value in row] for row in csv.reader(text.splitlines(), delimiter=delimiter)]
    while rows and all(cell is None for cell in rows[-1]):
        rows.pop()
    width = max((len(row) for row in rows), default=0)
    return [row + [None] * (width - len(row)) for row in rows]


def _peek_table(*, path: Path) -> list[list[Cell]] | None:
    """The rows of a table file for format sniffing, or None when it is no readable table."""
    if path.suffix.lower() not in _TABLE_SUFFIXES or not path.is_file():
        return None
    try:
        return _read_table(path=path)
    except Exception:  # sniffing never fails: any unreadable file is simply not this format
        return None


def _with_preset(
    *, preset: str | None, presets: Mapping[str, Mapping], given: Mapping | None, default: Mapping
) -> Mapping:
    """The map in effect: ``given`` alone, or the named preset with the entries of ``given`` on top."""
    if preset is None:
        return given or default
    if preset not in presets:
        raise GlymphError(f"code_preset: expected one of {list(presets)} for this format, found {preset!r}")
    return {**presets[preset], **(given or {})}


def _is_hdf5(path: Path) -> bool:
    """MATLAB v7.3 ``.mat`` files are HDF5 (signature after a 512-byte user block)."""
    with path.open("rb") as handle:
        head = handle.read(520)
    return head[512:520] == b"\x89HDF\r\n\x1a\n" or head[:8] == b"\x89HDF\r\n\x1a\n"


def _read_mat_codes(*, path: Path, variable: str) -> list[int | str | float | None]:
    """The codes of one variable of a ``.mat`` file (v5 via scipy, v7.3 via h5py), flattened."""
    if not path.is_file():
        raise InputFileError(path=path, field="file", expected="an existing .mat file", found="nothing")
    try:
        if _is_hdf5(path):
            import h5py

            with h5py.File(path, "r") as handle:
                link = handle.get(variable, getlink=True)
                if link is None:
                    raise KeyError(variable)
                if not isinstance(link, (h5py.HardLink, h5py.SoftLink)):
                    raise InputFileError(path=path, field=f"variable {variable!r}", expected="data stored in this file",
                                         found="an external link", hint=f"see {DOCS}#epoch-codes")
                dataset = handle[variable]
                if not isinstance(dataset, h5py.Dataset) or dataset.is_virtual or dataset.external:
                    raise InputFileError(path=path, field=f"variable {variable!r}",
                                         expected="a numeric array stored in this file",
                                         found="a virtual or externally stored dataset" if isinstance(
                                             dataset, h5py.Dataset) else "a group", hint=f"see {DOCS}#epoch-codes")
                values = np.asarray(dataset[()]).ravel()
        else:
            import scipy.io

            values = np.asarray(scipy.io.loadmat(path, variable_names=[variable])[variable]).ravel()
    except InputFileError:
        raise
    except KeyError:
        raise InputFileError(path=path, field=f"variable {variable!r}", expected="a variable of state codes",
                             found="no such variable",
                             hint=f"set column to the variable's name; see {DOCS}#epoch-codes") from None
    except Exception as error:  # scipy / h5py raise many types for a file that is not a .mat
        raise InputFileError(path=path, field="MAT header", expected="a readable MATLAB .mat file",
                             found=f"{type(error).__name__}: {error}") from None
    if values.dtype.kind not in "biuf":
        raise InputFileError(path=path, field=f"variable {variable!r}", expected="numeric state codes",
                             found=f"values of type {values.dtype}")
    return [_code_key(float(value)) for value in values]


def _parse_state_table(
    *, rows: list[list[Cell]], path: Path, state_columns: Mapping[str, str]
) -> list[ScoredInterval]:
    if not rows:
        raise InputFileError(path=path, field="header row", expected="state columns", found="an empty file")
    by_name = {name.casefold(): name for name in state_columns}
    header = rows[0]
    onset_column: dict[str, int] = {}
    duration_column: dict[str, int] = {}
    unknown: list[str] = []
    flat = [isinstance(cell, str) and _FLAT_HEADER.match(cell) for cell in header]
    if any(flat):
        for column, match in enumerate(flat):
            if not match:
                if header[column] is not None:
                    unknown.append(str(header[column]))
                continue
            name = by_name.get(match["state"].strip().casefold())
            if name is None:
                unknown.append(str(header[column]))
                continue
            target = duration_column if match["kind"].lower() == "duration" else onset_column
            target[name] = column
    else:
        for column, cell in enumerate(header):
            if cell is None:
                continue
            name = by_name.get(str(cell).casefold())
            if name is None:
                if column - 1 not in onset_column.values():
                    unknown.append(str(cell))
                continue
            onset_column[name] = column
            duration_column[name] = column + 1
    expected = f"state columns {list(state_columns)} (onset, then duration)"
    if unknown or not onset_column:
        raise InputFileError(
            path=path,
            field="header row",
            expected=expected,
            found=f"unknown headers {unknown}"
            if unknown
            else f"{[cell for cell in header if cell is not None]}",
        )
    incomplete = sorted(set(onset_column) ^ set(duration_column))
    if incomplete or any(column >= len(header) for column in duration_column.values()):
        raise InputFileError(
            path=path, field="header row", expected=expected, found=f"no onset/duration pair for {incomplete}"
        )
    first_data = 1
    if len(rows) > 1 and all(cell is None or isinstance(cell, str) for cell in rows[1]):
        first_data = 2
    scored: list[ScoredInterval] = []
    for row_index in range(first_data, len(rows)):
        row = rows[row_index]
        for name in onset_column:
            onset, duration = row[onset_column[name]], row[duration_column[name]]
            if onset is None and duration is None:
                continue
            origin = f"row {row_index + 1} ({name})"
            if not isinstance(onset, float) or not isinstance(duration, float):
                raise InputFileError(
                    path=path,
                    field=origin,
                    expected="an onset and a duration in seconds",
                    found=f"onset {onset!r}, duration {duration!r}",
                )
            scored.append(ScoredInterval(onset, onset + duration, state_columns[name], origin))
    return scored


@dataclass(frozen=True, kw_only=True)
class StateTableHypnogramReader(HypnogramReader):
    """Reader of a per-state onset/duration table (SleepScore export; layout in the module docstring).

    Parameters
    ----------
    path : Path
        ``.csv``, ``.tsv``, ``.txt`` or ``.xlsx`` (first sheet).
    scorer, scoring_method, epoch_length_in_s, merge_adjacent
        As for every :class:`~ndx_glymphatic.converters._contract.HypnogramReader` (default: event-based
        scoring, ``epoch_length_in_s=None``).
    state_columns : mapping of str to str, optional
        Header name -> state (default :data:`SLEEPSCORE_STATE_COLUMNS`).
    """

    format = "state-table"
    format_name = "sleep-state table"
    options = ("state_columns",)
    state_map_option = "state_columns"

    state_columns: Mapping[str, str] | None = None

    @property
    def state_map(self) -> Mapping[str, str]:
        """Header name -> state."""
        return self.state_columns or SLEEPSCORE_STATE_COLUMNS

    @classmethod
    def recognise(cls, *, path: Path) -> Recognition | None:
        """A table whose header row names at least two SleepScore states (``Wake``, ``NREM onset``, ...)."""
        rows = _peek_table(path=path)
        if not rows:
            return None
        names = {name.casefold() for name in SLEEPSCORE_STATE_COLUMNS}
        found = set()
        for cell in rows[0]:
            if isinstance(cell, str):
                match = _FLAT_HEADER.match(cell)
                word = (match["state"] if match else cell).strip().casefold()
                if word in names:
                    found.add(word)
        if len(found) < 2:
            return None
        return Recognition(cls.format, 2, f"header row names SleepScore state columns {sorted(found)}")

    def read_scored(self) -> ScoredFile:
        """The table's rows, one interval per state cell pair."""
        rows = _parse_state_table(rows=_read_table(path=self.path), path=self.path, state_columns=self.state_map)
        return ScoredFile(intervals=rows, epoch_length_in_s=self.epoch_length_in_s)


def _code_key(cell: Cell) -> int | str | float | None:
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def _state_code(code: int | str) -> int | str:
    """A code of a ``state_codes`` map as the table cells read (session files write every code as text)."""
    return int(code) if str(code).lstrip("-").isdigit() else code


@dataclass(frozen=True, kw_only=True)
class EpochCodeHypnogramReader(HypnogramReader):
    """Reader of an epoch-coded state vector (one code per epoch).

    Parameters
    ----------
    path : Path
        ``.csv``, ``.tsv``, ``.txt`` or ``.xlsx`` (one column, or several with ``column`` naming one; an
        AccuSleePy ``brain_state`` column is found by its name), or a MATLAB ``.mat`` file (v5 or v7.3) whose
        variable ``labels`` (or ``column``) holds the codes (AccuSleep's ``labels.mat``).
    scorer, scoring_method, merge_adjacent, boundary_tolerance_in_s
        As for every :class:`~ndx_glymphatic.converters._contract.HypnogramReader`.
    epoch_length_in_s : float
        Length of one epoch (e.g. 1 s, AccuSleep 2.5 s, 4 s); required.
    code_preset : str, optional
        A named code map of :data:`CODE_PRESETS` (``accusleep``, ``yasa``, ``yasa-str``, ``default``).
    state_codes : mapping of int or str to str, optional
        Code -> state; alone it is the whole map, with ``code_preset`` it adds to / overrides the preset.
        Default (neither set) :data:`DEFAULT_EPOCH_CODE_MAP`. Text codes of whole numbers match numeric
        cells; text codes match case-insensitively.
    column : str, optional
        Header of the code column (or the ``.mat`` variable) when the file has several.
    start_time_in_s : float
        Time of the first epoch's start.
    """

    format = "epoch-codes"
    format_name = "epoch-code table"
    options = ("state_codes", "code_preset", "column", "start_time_in_s")
    state_map_option = "state_codes"
    epoch_length_required = True

    state_codes: Mapping[int | str, str] | None = None
    code_preset: str | None = None
    column: str | None = None
    start_time_in_s: float = 0.0

    @property
    def state_map(self) -> Mapping[int | str, str]:
        """Code -> state, with text codes of whole numbers as numbers (as the table cells read)."""
        given = {_state_code(code): state for code, state in (self.state_codes or {}).items()}
        return _with_preset(preset=self.code_preset, presets=CODE_PRESETS, given=given,
                            default=DEFAULT_EPOCH_CODE_MAP)

    @classmethod
    def recognise(cls, *, path: Path) -> Recognition | None:
        """AccuSleep ``labels.mat`` / ``brain_state`` CSV, a column of YASA stage words, or one column of integers."""
        if path.suffix.lower() == ".mat" and path.is_file():
            try:
                if _is_hdf5(path):
                    import h5py

                    with h5py.File(path, "r") as handle:
                        found = "labels" in handle
                else:
                    import scipy.io

                    found = any(name == "labels" for name, _, _ in scipy.io.whosmat(path))
            except Exception:  # sniffing never fails
                return None
            if found:
                return Recognition(cls.format, 2, "MATLAB file with a `labels` variable (AccuSleep)",
                                   {"code_preset": "accusleep"})
            return None
        rows = _peek_table(path=path)
        if not rows:
            return None
        header = [str(cell).strip().casefold() if isinstance(cell, str) else None for cell in rows[0]]
        if "brain_state" in header:
            return Recognition(cls.format, 2, "a `brain_state` column (AccuSleePy labels)",
                               {"code_preset": "accusleep"})
        if len(rows[0]) != 1:
            return None
        values = [row[0] for row in rows[1:] if row[0] is not None]
        words = {str(key).casefold() for key in YASA_STR_CODE_MAP}
        if values and all(isinstance(value, str) and value.casefold() in words for value in values):
            return Recognition(cls.format, 2, "one column of YASA stage words (W, N1, N2, N3, R)",
                               {"code_preset": "yasa-str"})
        if rows[0][0] is not None and not isinstance(rows[0][0], str):
            values = [row[0] for row in rows]
        if values and all(isinstance(value, float) and value.is_integer() for value in values):
            return Recognition(cls.format, 1, "one column of integer codes")
        return None

    def _codes(self, *, lookup: Mapping[object, str]) -> tuple[list[int | str | float | None], int]:
        """The code of every epoch and the file row (1-based) of the first (a first row of codes is no header)."""
        path = self.path
        if path.suffix.lower() == ".mat":
            return _read_mat_codes(path=path, variable=self.column or "labels"), 1
        rows = _read_table(path=path)
        has_header = bool(rows) and any(
            isinstance(cell, str) and cell.casefold() not in lookup for cell in rows[0]
        )
        header = [str(cell) if cell is not None else "" for cell in rows[0]] if has_header else []
        width = len(rows[0]) if rows else 0
        folded = [name.strip().casefold() for name in header]
        if self.column is not None:
            if self.column.casefold() not in folded:
                raise InputFileError(
                    path=path, field="header row", expected=f"a column {self.column!r}", found=repr(header),
                    hint=f"see {DOCS}#epoch-codes",
                )
            index = folded.index(self.column.casefold())
        elif width == 1:
            index = 0
        elif "brain_state" in folded:
            index = folded.index("brain_state")
        else:
            raise InputFileError(
                path=path,
                field="columns",
                expected="one column of state codes (or pass column=...)",
                found=f"{width} columns {header}" if header else f"{width} columns",
                hint=f"see {DOCS}#epoch-codes",
            )
        first = 1 if has_header else 0
        return [_code_key(row[index]) for row in rows[first:]], first + 1

    def read_scored(self) -> ScoredFile:
        """One interval per run of equal codes."""
        path = self.path
        code_map = self.state_map
        lookup: dict[object, str] = dict(code_map)
        lookup.update({key.casefold(): state for key, state in code_map.items() if isinstance(key, str)})
        epoch_length_in_s = float(self.epoch_length_in_s)
        keys, first_row = self._codes(lookup=lookup)
        keys = [key.casefold() if isinstance(key, str) else key for key in keys]
        if not keys:
            raise InputFileError(path=path, field="rows", expected="at least one epoch code below the header",
                                 found="none (the file has headers and no rows)")
        missing = [k for k, key in enumerate(keys) if key is None]
        if missing:
            raise InputFileError(
                path=path,
                field="state codes",
                expected="a code in every row",
                found=f"empty cells in rows {[k + first_row for k in missing[:5]]}",
            )
        unknown = sorted({str(key) for key in keys if key not in lookup})
        if unknown:
            first_unknown = next(k for k, key in enumerate(keys) if key not in lookup) + first_row
            raise InputFileError(
                path=path,
                field="state codes",
                expected=f"codes {', '.join(f'{code}={state}' for code, state in code_map.items())}",
                found=f"unknown codes {unknown} (first in row {first_unknown})",
                hint=f"set code_preset or state_codes for this lab's codes; see {DOCS}#epoch-codes",
            )
        states = np.array([lookup[key] for key in keys], dtype=object)
        change = np.flatnonzero(states[1:] != states[:-1]) + 1
        bounds = np.concatenate(([0], change, [states.size]))
        scored = [
            ScoredInterval(
                self.start_time_in_s + int(begin) * epoch_length_in_s,
                self.start_time_in_s + int(end) * epoch_length_in_s,
                str(states[begin]),
                f"rows {begin + first_row}-{end + first_row - 1}",
            )
            for begin, end in itertools.pairwise(bounds)
        ]
        return ScoredFile(intervals=scored, epoch_length_in_s=epoch_length_in_s)


# ----------------------------------------------------------------------------------------------
# EDF+ annotations
# ----------------------------------------------------------------------------------------------
def _common_epoch(durations: np.ndarray) -> float | None:
    milliseconds = np.rint(durations * 1000).astype(np.int64)
    if (
        milliseconds.size == 0
        or np.any(milliseconds <= 0)
        or np.any(np.abs(durations * 1000 - milliseconds) > 1e-3)
    ):
        return None
    return float(np.gcd.reduce(milliseconds)) / 1000.0


@dataclass(frozen=True, kw_only=True)
class EdfHypnogramReader(HypnogramReader):
    """Reader of an EDF+ annotation hypnogram.

    Parameters
    ----------
    path : Path
        EDF+ file whose annotations are the scored stages (each with a duration).
    scorer, scoring_method, merge_adjacent
        As for every :class:`~ndx_glymphatic.converters._contract.HypnogramReader`.
    epoch_length_in_s : float, optional
        Scoring epoch. Default: the largest epoch every duration is a whole multiple of (30 s for
        Sleep-EDF); pass it when known.
    label_map : mapping of str to str, optional
        Annotation label -> state (default :data:`SLEEP_EDF_LABEL_MAP`).
    ignore_labels : collection of str
        Annotation labels that are not stages (e.g. ``"Lights off"``) and are skipped.
    """

    format = "edf"
    format_name = "EDF+ annotation hypnogram"
    options = ("label_map", "code_preset")
    state_map_option = "label_map"

    label_map: Mapping[str, str] | None = None
    code_preset: str | None = None
    ignore_labels: Collection[str] = ()

    @property
    def state_map(self) -> Mapping[str, str]:
        """Annotation label -> state: ``label_map`` alone, or the ``code_preset`` with ``label_map`` on top."""
        return _with_preset(preset=self.code_preset, presets=LABEL_PRESETS, given=self.label_map,
                            default=SLEEP_EDF_LABEL_MAP)

    @classmethod
    def recognise(cls, *, path: Path) -> Recognition | None:
        """An ``.edf`` file whose header starts with the EDF version field ``0``."""
        if path.suffix.lower() != ".edf" or not path.is_file():
            return None
        with path.open("rb") as handle:
            head = handle.read(8)
        if head != b"0       ":
            return None
        return Recognition(cls.format, 2, "an EDF header (annotations read as Sleep-EDF stages)")

    def read_scored(self) -> ScoredFile:
        """One interval per annotation (onset, onset + duration), on the EDF's clock."""
        import pyedflib

        path = self.path
        label_map = self.state_map
        if not path.is_file():
            raise InputFileError(path=path, field="file", expected="an existing EDF+ file", found="nothing")
        try:
            reader = pyedflib.EdfReader(str(path))
        except OSError as error:
            raise InputFileError(
                path=path, field="EDF header", expected="a readable EDF+ file", found=str(error)
            ) from None
        try:
            onsets, durations, labels = reader.readAnnotations()
            start_datetime = reader.getStartdatetime()
        finally:
            reader.close()
        labels = [str(label).strip() for label in labels]
        keep = [k for k, label in enumerate(labels) if label not in self.ignore_labels]
        if not keep:
            raise InputFileError(
                path=path, field="annotations", expected="sleep-stage annotations", found="no annotations"
            )
        skipped = sorted({label for label in labels if label in self.ignore_labels})
        if skipped:
            self.notes.append(
                f"{path}: {len(labels) - len(keep)} annotation(s) labelled {skipped} are not stages; skipped"
            )
        unknown = sorted({labels[k] for k in keep if labels[k] not in label_map})
        if unknown:
            raise InputFileError(
                path=path,
                field="annotations",
                expected=f"stage labels {sorted(label_map)}",
                found=f"unknown labels {unknown[:10]}",
                hint=f"set label_map (or ignore_labels); see {DOCS}#edf",
            )
        onsets = np.asarray(onsets, dtype=np.float64)[keep]
        durations = np.asarray(durations, dtype=np.float64)[keep]
        scored = [
            ScoredInterval(
                float(onset), float(onset + duration), label_map[labels[k]], f"annotation {k + 1} ({labels[k]!r})"
            )
            for onset, duration, k in zip(onsets, durations, keep)
        ]
        epoch_length_in_s = self.epoch_length_in_s
        if epoch_length_in_s is None:
            epoch_length_in_s = _common_epoch(durations)
            if epoch_length_in_s is None:
                self.notes.append(
                    f"{path}: the annotation durations share no scoring epoch; the epoch length is left unset"
                )
        return ScoredFile(intervals=scored, epoch_length_in_s=epoch_length_in_s, start_datetime=start_datetime)


# ----------------------------------------------------------------------------------------------
# Long tables (one row per interval; BIDS ``_hypnogram.tsv``)
# ----------------------------------------------------------------------------------------------
_UNIT_SUFFIX = re.compile(r"[\s_]*(\((s|sec|seconds|hh:mm:ss)\)|_in_s|_s|_sec)$", re.IGNORECASE)
_CLOCK_TIME = re.compile(r"^(?P<hours>\d+):(?P<minutes>[0-5]?\d):(?P<seconds>[0-5]?\d(\.\d*)?)$")
_LONG_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "onset": ("onset", "start", "begin", "start_time", "start time", "onset_time"),
    "duration": ("duration", "dur", "length"),
    "offset": ("offset", "stop", "end", "stop_time", "end_time", "stop time", "end time"),
    "state": ("state", "stage", "sleep_state", "sleep_stage", "sleep state", "sleep stage"),
}


def _long_columns(header: list[Cell]) -> dict[str, int]:
    """Role (onset, duration, offset, state) -> column index, from header names in any case and order."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        if not isinstance(cell, str):
            continue
        name = _UNIT_SUFFIX.sub("", cell.strip()).casefold()
        for role, names in _LONG_COLUMNS.items():
            if name in names and role not in found:
                found[role] = index
    return found


def _seconds(cell: Cell) -> float | None:
    """Seconds from a number or an ``HH:MM:SS(.fff)`` text; None when it is neither."""
    if isinstance(cell, float):
        return cell
    if isinstance(cell, str):
        match = _CLOCK_TIME.match(cell.strip())
        if match:
            return int(match["hours"]) * 3600 + int(match["minutes"]) * 60 + float(match["seconds"])
    return None


@dataclass(frozen=True, kw_only=True)
class LongTableHypnogramReader(HypnogramReader):
    """Reader of a long table: one row per scored interval (also the BIDS sleep proposal's ``_hypnogram.tsv``).

    Parameters
    ----------
    path : Path
        ``.csv``, ``.tsv``, ``.txt`` or ``.xlsx`` (first sheet). The header row names an ``onset`` column,
        a ``duration`` or an ``offset`` column and a ``state`` or ``stage`` column, in any order and case
        (``start``/``stop``/``end`` and a unit suffix such as ``onset (s)`` or ``onset_s`` are accepted);
        other columns are ignored. Times are seconds or ``HH:MM:SS(.fff)`` from the scoring file's start.
    scorer, scoring_method, epoch_length_in_s, merge_adjacent, boundary_tolerance_in_s
        As for every :class:`~ndx_glymphatic.converters._contract.HypnogramReader`.
    state_labels : mapping of str to str, optional
        State label -> state, added to the vocabulary's spellings
        (:data:`ndx_glymphatic.vocabulary.SLEEP_STATE_ALIASES`: ``W``, ``N2``, ``R``, ``MA``, ...);
        matched case-insensitively.
    """

    format = "long-table"
    format_name = "long hypnogram table (onset, duration, state)"
    options = ("state_labels",)
    state_map_option = "state_labels"

    state_labels: Mapping[str, str] | None = None

    @property
    def state_map(self) -> Mapping[str, str]:
        """State label (case-folded) -> state."""
        own = {label.casefold(): state for label, state in (self.state_labels or {}).items()}
        return {**SLEEP_STATE_ALIASES, **own}

    @classmethod
    def recognise(cls, *, path: Path) -> Recognition | None:
        """A header with onset, duration or offset, and state or stage columns; BIDS by its file name."""
        rows = _peek_table(path=path)
        if not rows:
            return None
        columns = _long_columns(rows[0])
        if not ("onset" in columns and "state" in columns and ("duration" in columns or "offset" in columns)):
            return None
        names = [str(rows[0][index]) for index in sorted(columns.values())]
        if path.name.lower().endswith("_hypnogram.tsv"):
            return Recognition(cls.format, 3, f"a BIDS `_hypnogram.tsv` with columns {names}")
        return Recognition(cls.format, 2, f"header columns {names}")

    def read_scored(self) -> ScoredFile:
        """One interval per row."""
        path = self.path
        rows = _read_table(path=path)
        if not rows:
            raise InputFileError(path=path, field="header row", expected="onset, duration / offset and state "
                                 "columns", found="an empty file", hint=f"see {DOCS}#long-table")
        columns = _long_columns(rows[0])
        missing = [role for role in ("onset", "state") if role not in columns]
        if "duration" not in columns and "offset" not in columns:
            missing.append("duration or offset")
        if missing:
            raise InputFileError(
                path=path, field="header row", expected="columns onset, duration (or offset) and state (or stage)",
                found=f"no {', '.join(missing)} column among {[cell for cell in rows[0] if cell is not None]}",
                hint=f"see {DOCS}#long-table",
            )
        labels = self.state_map
        scored: list[ScoredInterval] = []
        for number, row in enumerate(rows[1:], start=2):
            if all(cell is None for cell in row):
                continue
            onset = _seconds(row[columns["onset"]])
            if "duration" in columns:
                duration = _seconds(row[columns["duration"]])
                stop = None if onset is None or duration is None else onset + duration
            else:
                stop = _seconds(row[columns["offset"]])
            label = row[columns["state"]]
            if onset is None or stop is None:
                raise InputFileError(
                    path=path, field=f"row {number}", expected="times in seconds or HH:MM:SS(.fff)",
                    found=f"{[cell for cell in row if cell is not None]}", hint=f"see {DOCS}#long-table",
                )
            word = "" if label is None else (f"{label:g}" if isinstance(label, float) else str(label))
            state = labels.get(word.strip().casefold())
            if state is None:
                raise InputFileError(
                    path=path, field=f"row {number} state",
                    expected=f"a sleep state ({', '.join(sorted(set(labels.values())))} or a spelling of one)",
                    found=repr(word),
                    hint=f"set state_labels for this lab's labels; see {DOCS}#long-table",
                )
            scored.append(ScoredInterval(onset, stop, state, f"row {number} ({word})"))
        return ScoredFile(intervals=scored, epoch_length_in_s=self.epoch_length_in_s)
