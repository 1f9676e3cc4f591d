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

from ndx_glymphatic.converters._contract import HypnogramReader, ScoredFile, ScoredInterval
from ndx_glymphatic.errors import InputFileError

__all__ = [
    "ACCUSLEEP_CODE_MAP",
    "DEFAULT_EPOCH_CODE_MAP",
    "SLEEPSCORE_STATE_COLUMNS",
    "SLEEP_EDF_LABEL_MAP",
    "EdfHypnogramReader",
    "EpochCodeHypnogramReader",
    "StateTableHypnogramReader",
]

#: Epoch codes of the 1-Hz state vectors used in NE / glymphatic sleep work.
DEFAULT_EPOCH_CODE_MAP: Mapping[int | str, str] = {1: "wake", 4: "NREM", 9: "REM", 15: "micro-arousal"}

#: AccuSleep labels (1 = REM, 2 = wake, 3 = NREM, 4 = undefined); AccuSleep's default epoch is 2.5 s.
ACCUSLEEP_CODE_MAP: Mapping[int | str, str] = {1: "REM", 2: "wake", 3: "NREM", 4: "unscored"}

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
        ``.csv``, ``.tsv``, ``.txt`` or ``.xlsx``; one column, or several with ``column`` naming one.
    scorer, scoring_method, merge_adjacent
        As for every :class:`~ndx_glymphatic.converters._contract.HypnogramReader`.
    epoch_length_in_s : float
        Length of one epoch (e.g. 1 s, AccuSleep 2.5 s, 4 s); required.
    state_codes : mapping of int or str to str, optional
        Code -> state (default :data:`DEFAULT_EPOCH_CODE_MAP`); text codes of whole numbers match
        numeric cells.
    column : str, optional
        Header of the code column when the file has several.
    start_time_in_s : float
        Time of the first epoch's start.
    """

    format = "epoch-codes"
    format_name = "epoch-code table"
    options = ("state_codes", "column", "start_time_in_s")
    state_map_option = "state_codes"
    epoch_length_required = True

    state_codes: Mapping[int | str, str] | None = None
    column: str | None = None
    start_time_in_s: float = 0.0

    @property
    def state_map(self) -> Mapping[int | str, str]:
        """Code -> state, with text codes of whole numbers as numbers (as the table cells read)."""
        if not self.state_codes:
            return DEFAULT_EPOCH_CODE_MAP
        return {_state_code(code): state for code, state in self.state_codes.items()}

    def read_scored(self) -> ScoredFile:
        """One interval per run of equal codes."""
        path = self.path
        code_map = self.state_map
        epoch_length_in_s = float(self.epoch_length_in_s)
        rows = _read_table(path=path)
        has_header = bool(rows) and any(isinstance(cell, str) for cell in rows[0])
        header = [str(cell) if cell is not None else "" for cell in rows[0]] if has_header else []
        width = len(rows[0]) if rows else 0
        if self.column is not None:
            if self.column not in header:
                raise InputFileError(
                    path=path, field="header row", expected=f"a column {self.column!r}", found=repr(header)
                )
            index = header.index(self.column)
        elif width == 1:
            index = 0
        else:
            raise InputFileError(
                path=path,
                field="columns",
                expected="one column of state codes (or pass column=...)",
                found=f"{width} columns {header}" if header else f"{width} columns",
            )
        first = 1 if has_header else 0
        keys = [_code_key(row[index]) for row in rows[first:]]
        if not keys:
            raise InputFileError(path=path, field="state codes", expected="at least one epoch", found="none")
        missing = [k for k, key in enumerate(keys) if key is None]
        if missing:
            raise InputFileError(
                path=path,
                field="state codes",
                expected="a code in every row",
                found=f"empty cells in rows {[k + first + 1 for k in missing[:5]]}",
            )
        unknown = sorted({str(key) for key in keys if key not in code_map})
        if unknown:
            first_row = next(k for k, key in enumerate(keys) if key not in code_map) + first + 1
            raise InputFileError(
                path=path,
                field="state codes",
                expected=f"codes {', '.join(f'{code}={state}' for code, state in code_map.items())}",
                found=f"unknown codes {unknown} (first in row {first_row})",
                hint="set state_codes for this lab's codes",
            )
        states = np.array([code_map[key] for key in keys], dtype=object)
        change = np.flatnonzero(states[1:] != states[:-1]) + 1
        bounds = np.concatenate(([0], change, [states.size]))
        scored = [
            ScoredInterval(
                self.start_time_in_s + int(begin) * epoch_length_in_s,
                self.start_time_in_s + int(end) * epoch_length_in_s,
                str(states[begin]),
                f"rows {begin + first + 1}-{end + first}",
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
    options = ("label_map",)
    state_map_option = "label_map"

    label_map: Mapping[str, str] | None = None
    ignore_labels: Collection[str] = ()

    @property
    def state_map(self) -> Mapping[str, str]:
        """Annotation label -> state."""
        return self.label_map or SLEEP_EDF_LABEL_MAP

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
                hint="set label_map (or ignore_labels)",
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
