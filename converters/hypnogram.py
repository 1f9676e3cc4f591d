"""Read sleep-scoring files (hypnograms) into sleep-state intervals.

Three kinds of file are read by :func:`read_hypnogram` (``format=``):

``"state-table"`` -- per-state onset/duration tables (the SleepScore export), ``.csv`` / ``.tsv`` /
``.txt`` or ``.xlsx``. Exact layout accepted:

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

``"epoch-codes"`` -- one state code per scoring epoch (``.csv`` / ``.tsv`` / ``.txt`` / ``.xlsx``;
one column, or the column named ``column``, an optional header row). Codes map to states through
``code_map`` (default :data:`DEFAULT_EPOCH_CODE_MAP`: 1 = wake, 4 = NREM, 9 = REM, 15 = micro-arousal,
the 1-Hz state vectors of the NE / glymphatic sleep papers; :data:`ACCUSLEEP_CODE_MAP` for AccuSleep).
Runs of equal codes become one interval; ``epoch_length_in_s`` is required.

``"edf"`` -- EDF+ annotation hypnograms (Sleep-EDF style, read with pyedflib). Labels map through
``label_map`` (default :data:`SLEEP_EDF_LABEL_MAP`: ``Sleep stage W`` -> wake, ``Sleep stage 1``-``4``
/ ``N1``-``N3`` -> NREM (rodent scoring has one NREM state), ``Sleep stage R`` -> REM, ``Movement
time`` -> artifact, ``Sleep stage ?`` -> unscored). Times are seconds after the EDF start.

Everything returns a :class:`HypnogramIntervals` whose states use the vocabulary
:data:`ndx_glymphatic.vocabulary.SLEEP_STATES`, sorted and non-overlapping; adjacent intervals of one
state are merged unless ``merge_adjacent=False``.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np

from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.vocabulary import SCORING_METHODS, SLEEP_STATES

__all__ = [
    "ACCUSLEEP_CODE_MAP",
    "DEFAULT_EPOCH_CODE_MAP",
    "SLEEPSCORE_STATE_COLUMNS",
    "SLEEP_EDF_LABEL_MAP",
    "HypnogramIntervals",
    "read_edf_hypnogram",
    "read_epoch_code_hypnogram",
    "read_hypnogram",
    "read_state_table_hypnogram",
]

HypnogramFormat = Literal["state-table", "epoch-codes", "edf"]

#: Epoch codes of the 1-Hz state vectors used in NE / glymphatic sleep work (docs/formats.md).
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

_TOLERANCE_IN_S = 1e-6
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
_FLAT_HEADER = re.compile(r"^(?P<state>.+?)[ _](?P<kind>onset|start|duration)(\s*\(s\))?$", re.IGNORECASE)


@dataclass(frozen=True)
class HypnogramIntervals:
    """Scored sleep-state intervals, ready for the ``Hypnogram`` table.

    Attributes
    ----------
    start_times_in_s, stop_times_in_s : ndarray
        Interval bounds, seconds on the scoring file's clock; sorted, non-overlapping.
    sleep_states : tuple of str
        One state per interval, from ``SLEEP_STATES``.
    scoring_method : str
        ``"manual"`` or ``"automatic"``.
    scorer : str
        Person or software (+ version) that scored.
    epoch_length_in_s : float or None
        Scoring epoch; ``None`` for event-based scoring.
    start_datetime : datetime or None
        Wall-clock time of second 0 when the file says (EDF start).
    """

    start_times_in_s: np.ndarray
    stop_times_in_s: np.ndarray
    sleep_states: tuple[str, ...]
    scoring_method: str
    scorer: str
    epoch_length_in_s: float | None
    start_datetime: datetime | None = None

    def __len__(self) -> int:
        return len(self.sleep_states)

    def total_duration_in_s(self, *, sleep_state: str) -> float:
        """Summed duration of every interval of one state."""
        mask = np.array([state == sleep_state for state in self.sleep_states], dtype=bool)
        return float(np.sum(self.stop_times_in_s[mask] - self.start_times_in_s[mask]))


@dataclass(frozen=True)
class _Scored:
    """One scored interval and where it came from (for error messages)."""

    start: float
    stop: float
    state: str
    origin: str

    def describe(self) -> str:
        return f"{self.origin} [{self.start:g}, {self.stop:g}] s"


# ----------------------------------------------------------------------------------------------
# Shared: parameter checks, assembling intervals
# ----------------------------------------------------------------------------------------------
def _check_states(*, mapping: Mapping[object, str], name: str) -> None:
    bad = sorted({str(state) for state in mapping.values() if state not in SLEEP_STATES})
    if bad:
        raise GlymphError(f"{name}: states must come from {list(SLEEP_STATES)}, found {bad}")


def _check_metadata(*, scoring_method: str, scorer: str) -> None:
    if scoring_method not in SCORING_METHODS:
        raise GlymphError(
            f"scoring_method: expected one of {list(SCORING_METHODS)}, found {scoring_method!r}"
        )
    if not scorer.strip():
        raise GlymphError("scorer: expected the person or software that scored, found an empty text")


def _assemble(*, rows: Sequence[_Scored], path: Path, merge_adjacent: bool) -> list[_Scored]:
    """Validate, split NREM around micro-arousals, sort and (optionally) merge touching equal states."""
    for row in rows:
        if not (math.isfinite(row.start) and math.isfinite(row.stop)) or row.stop <= row.start:
            raise InputFileError(
                path=path,
                field=row.origin,
                expected="finite onset and a positive duration",
                found=f"onset {row.start!r} s, stop {row.stop!r} s",
            )
    arousals = sorted((row for row in rows if row.state == "micro-arousal"), key=lambda row: row.start)
    others = sorted((row for row in rows if row.state != "micro-arousal"), key=lambda row: row.start)
    for group in (others, arousals):
        for before, after in itertools.pairwise(group):
            if after.start < before.stop - _TOLERANCE_IN_S:
                raise InputFileError(
                    path=path,
                    field=after.origin,
                    expected=f"no overlap with {before.origin}",
                    found=f"{after.describe()} overlaps {before.describe()}",
                )
    starts = np.array([row.start for row in others])
    stops = np.array([row.stop for row in others])
    cuts: dict[int, list[_Scored]] = {}
    for arousal in arousals:
        index = int(np.searchsorted(stops, arousal.start + _TOLERANCE_IN_S, side="right"))
        while index < len(others) and starts[index] < arousal.stop - _TOLERANCE_IN_S:
            host = others[index]
            if host.state != "NREM":
                raise InputFileError(
                    path=path,
                    field=arousal.origin,
                    expected="a micro-arousal inside NREM or between bouts",
                    found=f"{arousal.describe()} overlaps {host.state} {host.describe()}",
                )
            cuts.setdefault(index, []).append(arousal)
            index += 1
    pieces: list[_Scored] = list(arousals)
    for index, row in enumerate(others):
        start = row.start
        for arousal in cuts.get(index, []):
            if arousal.start - start > _TOLERANCE_IN_S:
                pieces.append(_Scored(start, arousal.start, row.state, row.origin))
            start = max(start, arousal.stop)
        if row.stop - start > _TOLERANCE_IN_S:
            pieces.append(_Scored(start, row.stop, row.state, row.origin))
    pieces.sort(key=lambda row: row.start)
    if not merge_adjacent:
        return pieces
    merged: list[_Scored] = []
    for row in pieces:
        last = merged[-1] if merged else None
        if last is not None and last.state == row.state and abs(row.start - last.stop) <= _TOLERANCE_IN_S:
            merged[-1] = _Scored(last.start, row.stop, last.state, last.origin)
        else:
            merged.append(row)
    return merged


def _to_intervals(
    *,
    rows: Sequence[_Scored],
    scoring_method: str,
    scorer: str,
    epoch_length_in_s: float | None,
    start_datetime: datetime | None = None,
) -> HypnogramIntervals:
    return HypnogramIntervals(
        start_times_in_s=np.array([row.start for row in rows], dtype=np.float64),
        stop_times_in_s=np.array([row.stop for row in rows], dtype=np.float64),
        sleep_states=tuple(row.state for row in rows),
        scoring_method=scoring_method,
        scorer=scorer,
        epoch_length_in_s=epoch_length_in_s,
        start_datetime=start_datetime,
    )


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
) -> list[_Scored]:
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
    scored: list[_Scored] = []
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
            scored.append(_Scored(onset, onset + duration, state_columns[name], origin))
    return scored


def read_state_table_hypnogram(
    *,
    path: str | Path,
    scorer: str,
    scoring_method: str = "manual",
    epoch_length_in_s: float | None = None,
    state_columns: Mapping[str, str] = SLEEPSCORE_STATE_COLUMNS,
    merge_adjacent: bool = True,
) -> HypnogramIntervals:
    """Read a per-state onset/duration table (SleepScore export; layout in the module docstring).

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.tsv``, ``.txt`` or ``.xlsx`` (first sheet).
    scorer : str
        Person or software that scored.
    scoring_method : str
        ``"manual"`` or ``"automatic"``.
    epoch_length_in_s : float, optional
        Scoring epoch, when the scoring was epoch-based (default: event-based, ``None``).
    state_columns : mapping of str to str
        Header name -> state.
    merge_adjacent : bool
        Merge touching intervals of one state.
    """
    path = Path(path)
    _check_metadata(scoring_method=scoring_method, scorer=scorer)
    _check_states(mapping=state_columns, name="state_columns")
    rows = _parse_state_table(rows=_read_table(path=path), path=path, state_columns=state_columns)
    return _to_intervals(
        rows=_assemble(rows=rows, path=path, merge_adjacent=merge_adjacent),
        scoring_method=scoring_method,
        scorer=scorer,
        epoch_length_in_s=epoch_length_in_s,
    )


def _code_key(cell: Cell) -> int | str | float | None:
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def read_epoch_code_hypnogram(
    *,
    path: str | Path,
    scorer: str,
    epoch_length_in_s: float,
    scoring_method: str = "manual",
    code_map: Mapping[int | str, str] = DEFAULT_EPOCH_CODE_MAP,
    column: str | None = None,
    start_time_in_s: float = 0.0,
    merge_adjacent: bool = True,
) -> HypnogramIntervals:
    """Read an epoch-coded state vector (one code per epoch).

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.tsv``, ``.txt`` or ``.xlsx``; one column, or several with ``column`` naming one.
    scorer : str
        Person or software that scored.
    epoch_length_in_s : float
        Length of one epoch (e.g. 1 s, AccuSleep 2.5 s, 4 s).
    scoring_method : str
        ``"manual"`` or ``"automatic"``.
    code_map : mapping of int or str to str
        Code -> state (default :data:`DEFAULT_EPOCH_CODE_MAP`).
    column : str, optional
        Header of the code column when the file has several.
    start_time_in_s : float
        Time of the first epoch's start.
    merge_adjacent : bool
        Merge touching intervals of one state (runs of one code are always one interval).
    """
    path = Path(path)
    _check_metadata(scoring_method=scoring_method, scorer=scorer)
    _check_states(mapping=code_map, name="code_map")
    if not epoch_length_in_s > 0:
        raise GlymphError(
            f"epoch_length_in_s: expected a positive number of seconds, found {epoch_length_in_s!r}"
        )
    rows = _read_table(path=path)
    has_header = bool(rows) and any(isinstance(cell, str) for cell in rows[0])
    header = [str(cell) if cell is not None else "" for cell in rows[0]] if has_header else []
    width = len(rows[0]) if rows else 0
    if column is not None:
        if column not in header:
            raise InputFileError(
                path=path, field="header row", expected=f"a column {column!r}", found=repr(header)
            )
        index = header.index(column)
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
            hint="pass code_map=... for this lab's codes",
        )
    states = np.array([code_map[key] for key in keys], dtype=object)
    change = np.flatnonzero(states[1:] != states[:-1]) + 1
    bounds = np.concatenate(([0], change, [states.size]))
    scored = [
        _Scored(
            start_time_in_s + int(begin) * epoch_length_in_s,
            start_time_in_s + int(end) * epoch_length_in_s,
            str(states[begin]),
            f"rows {begin + first + 1}-{end + first}",
        )
        for begin, end in itertools.pairwise(bounds)
    ]
    return _to_intervals(
        rows=_assemble(rows=scored, path=path, merge_adjacent=merge_adjacent),
        scoring_method=scoring_method,
        scorer=scorer,
        epoch_length_in_s=float(epoch_length_in_s),
    )


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


def read_edf_hypnogram(
    *,
    path: str | Path,
    scorer: str,
    scoring_method: str = "manual",
    epoch_length_in_s: float | None = None,
    label_map: Mapping[str, str] = SLEEP_EDF_LABEL_MAP,
    ignore_labels: Collection[str] = (),
    merge_adjacent: bool = True,
) -> HypnogramIntervals:
    """Read an EDF+ annotation hypnogram.

    Parameters
    ----------
    path : str or Path
        EDF+ file whose annotations are the scored stages (each with a duration).
    scorer : str
        Person or software that scored.
    scoring_method : str
        ``"manual"`` or ``"automatic"``.
    epoch_length_in_s : float, optional
        Scoring epoch. Default: the largest epoch every duration is a whole multiple of (30 s for
        Sleep-EDF); pass it when known.
    label_map : mapping of str to str
        Annotation label -> state (default :data:`SLEEP_EDF_LABEL_MAP`).
    ignore_labels : collection of str
        Annotation labels that are not stages (e.g. ``"Lights off"``) and are skipped.
    merge_adjacent : bool
        Merge touching intervals of one state (e.g. stage 2 followed by stage 3, both NREM).
    """
    import pyedflib

    path = Path(path)
    _check_metadata(scoring_method=scoring_method, scorer=scorer)
    _check_states(mapping=label_map, name="label_map")
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
    keep = [k for k, label in enumerate(labels) if label not in ignore_labels]
    if not keep:
        raise InputFileError(
            path=path, field="annotations", expected="sleep-stage annotations", found="no annotations"
        )
    unknown = sorted({labels[k] for k in keep if labels[k] not in label_map})
    if unknown:
        raise InputFileError(
            path=path,
            field="annotations",
            expected=f"stage labels {sorted(label_map)}",
            found=f"unknown labels {unknown[:10]}",
            hint="pass label_map=... or ignore_labels=...",
        )
    onsets = np.asarray(onsets, dtype=np.float64)[keep]
    durations = np.asarray(durations, dtype=np.float64)[keep]
    scored = [
        _Scored(
            float(onset), float(onset + duration), label_map[labels[k]], f"annotation {k + 1} ({labels[k]!r})"
        )
        for onset, duration, k in zip(onsets, durations, keep)
    ]
    if epoch_length_in_s is None:
        epoch_length_in_s = _common_epoch(durations)
    return _to_intervals(
        rows=_assemble(rows=scored, path=path, merge_adjacent=merge_adjacent),
        scoring_method=scoring_method,
        scorer=scorer,
        epoch_length_in_s=epoch_length_in_s,
        start_datetime=start_datetime,
    )


# ----------------------------------------------------------------------------------------------
# One entry point
# ----------------------------------------------------------------------------------------------
def read_hypnogram(
    *,
    path: str | Path,
    format: HypnogramFormat,
    scorer: str,
    scoring_method: str = "manual",
    epoch_length_in_s: float | None = None,
    code_map: Mapping[int | str, str] | None = None,
    column: str | None = None,
    start_time_in_s: float = 0.0,
    state_columns: Mapping[str, str] | None = None,
    label_map: Mapping[str, str] | None = None,
    ignore_labels: Collection[str] = (),
    merge_adjacent: bool = True,
) -> HypnogramIntervals:
    """Read a hypnogram of any supported kind; see the module docstring for each layout.

    Parameters
    ----------
    path : str or Path
        The scoring file.
    format : {"state-table", "epoch-codes", "edf"}
        Which kind of file it is.
    scorer, scoring_method, epoch_length_in_s, merge_adjacent
        As in the format-specific readers (``epoch_length_in_s`` is required for ``"epoch-codes"``).
    code_map, column, start_time_in_s
        ``"epoch-codes"`` only.
    state_columns
        ``"state-table"`` only.
    label_map, ignore_labels
        ``"edf"`` only.

    Returns
    -------
    HypnogramIntervals
    """
    given = {
        "code_map": code_map is not None,
        "column": column is not None,
        "start_time_in_s": start_time_in_s != 0.0,
        "state_columns": state_columns is not None,
        "label_map": label_map is not None,
        "ignore_labels": bool(ignore_labels),
    }
    allowed = {
        "state-table": {"state_columns"},
        "epoch-codes": {"code_map", "column", "start_time_in_s"},
        "edf": {"label_map", "ignore_labels"},
    }
    if format not in allowed:
        raise GlymphError(f"format: expected one of {list(allowed)}, found {format!r}")
    stray = sorted(name for name, used in given.items() if used and name not in allowed[format])
    if stray:
        raise GlymphError(f"{', '.join(stray)}: not used by format {format!r}")
    if format == "state-table":
        return read_state_table_hypnogram(
            path=path,
            scorer=scorer,
            scoring_method=scoring_method,
            epoch_length_in_s=epoch_length_in_s,
            state_columns=state_columns or SLEEPSCORE_STATE_COLUMNS,
            merge_adjacent=merge_adjacent,
        )
    if format == "epoch-codes":
        if epoch_length_in_s is None:
            raise GlymphError("epoch_length_in_s: required for format 'epoch-codes'")
        return read_epoch_code_hypnogram(
            path=path,
            scorer=scorer,
            epoch_length_in_s=epoch_length_in_s,
            scoring_method=scoring_method,
            code_map=code_map or DEFAULT_EPOCH_CODE_MAP,
            column=column,
            start_time_in_s=start_time_in_s,
            merge_adjacent=merge_adjacent,
        )
    return read_edf_hypnogram(
        path=path,
        scorer=scorer,
        scoring_method=scoring_method,
        epoch_length_in_s=epoch_length_in_s,
        label_map=label_map or SLEEP_EDF_LABEL_MAP,
        ignore_labels=ignore_labels,
        merge_adjacent=merge_adjacent,
    )
