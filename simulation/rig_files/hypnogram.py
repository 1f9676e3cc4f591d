"""Write synthetic hypnogram exports (SleepScore-style state tables, epoch-coded vectors) for tests.

The layouts are those the readers of :mod:`ndx_glymphatic.converters.hypnogram` read.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ndx_glymphatic.converters._contract import HypnogramIntervals
from ndx_glymphatic.converters.hypnogram import DEFAULT_EPOCH_CODE_MAP, SLEEPSCORE_STATE_COLUMNS
from ndx_glymphatic.io import atomic_output_path

__all__ = [
    "epoch_codes_from_intervals",
    "merge_nrem_around_micro_arousals",
    "write_epoch_codes",
    "write_long_table",
    "write_mat_labels",
    "write_state_table",
]


def merge_nrem_around_micro_arousals(*, intervals: HypnogramIntervals) -> list[tuple[float, float, str]]:
    """Rows as SleepScore exports them: NREM bouts spanning the micro-arousals that split them.

    ``NREM | micro-arousal | NREM`` (touching) becomes one NREM row over the whole span plus the
    micro-arousal row; micro-arousals not flanked by NREM on both sides are left as they are.
    """
    rows = list(
        zip(
            intervals.start_times_in_s.tolist(),
            intervals.stop_times_in_s.tolist(),
            intervals.sleep_states,
        )
    )
    merged: list[tuple[float, float, str]] = []
    arousals: list[tuple[float, float, str]] = []
    index = 0
    while index < len(rows):
        start, stop, state = rows[index]
        if state == "NREM":
            following = index + 1
            while (
                following + 1 < len(rows)
                and rows[following][2] == "micro-arousal"
                and rows[following + 1][2] == "NREM"
                and rows[following][0] == stop
                and rows[following + 1][0] == rows[following][1]
            ):
                arousals.append(rows[following])
                stop = rows[following + 1][1]
                following += 2
            merged.append((start, stop, state))
            index = following
        else:
            (arousals if state == "micro-arousal" else merged).append(rows[index])
            index += 1
    return sorted(merged + arousals)


def write_state_table(
    *,
    destination: str | Path,
    intervals: HypnogramIntervals,
    state_columns: Mapping[str, str] = SLEEPSCORE_STATE_COLUMNS,
    nest_micro_arousals: bool = True,
    subheader: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write a per-state onset/duration table (``.csv`` or ``.xlsx`` by suffix).

    Parameters
    ----------
    destination : str or Path
        Output file.
    intervals : HypnogramIntervals
        What to write.
    state_columns : mapping of str to str
        Header name -> state; every state in ``intervals`` needs a column.
    nest_micro_arousals : bool
        Write NREM bouts spanning their micro-arousals, as SleepScore does.
    subheader : bool
        Write the second header row ``onset (s), duration (s)``.
    overwrite : bool
        Replace an existing file.
    """
    destination = Path(destination)
    column_of = {state: name for name, state in state_columns.items()}
    missing = sorted(set(intervals.sleep_states) - set(column_of))
    if missing:
        raise ValueError(f"no state column for {missing}")
    if nest_micro_arousals:
        rows = merge_nrem_around_micro_arousals(intervals=intervals)
    else:
        rows = list(
            zip(
                intervals.start_times_in_s.tolist(),
                intervals.stop_times_in_s.tolist(),
                intervals.sleep_states,
            )
        )
    per_column: dict[str, list[tuple[float, float]]] = {name: [] for name in state_columns}
    for start, stop, state in rows:
        per_column[column_of[state]].append((start, stop - start))
    names = list(state_columns)
    height = max((len(bouts) for bouts in per_column.values()), default=0)
    table: list[list[object]] = [[cell for name in names for cell in (name, None)]]
    if subheader:
        table.append(["onset (s)", "duration (s)"] * len(names))
    for row in range(height):
        cells: list[object] = []
        for name in names:
            bouts = per_column[name]
            cells.extend(bouts[row] if row < len(bouts) else (None, None))
        table.append(cells)
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        if destination.suffix.lower() == ".xlsx":
            import openpyxl

            workbook = openpyxl.Workbook()
            sheet = workbook.active
            for cells in table:
                sheet.append(cells)
            workbook.save(temporary)
        else:
            with Path(temporary).open("w", newline="") as handle:
                writer = csv.writer(handle)
                for cells in table:
                    writer.writerow(
                        [
                            "" if cell is None else repr(cell) if isinstance(cell, float) else cell
                            for cell in cells
                        ]
                    )
    return destination


def epoch_codes_from_intervals(
    *,
    intervals: HypnogramIntervals,
    epoch_length_in_s: float,
    code_map: Mapping[int | str, str] = DEFAULT_EPOCH_CODE_MAP,
    start_time_in_s: float = 0.0,
    n_epochs: int | None = None,
) -> np.ndarray:
    """The state code of every epoch, taken at the epoch's midpoint.

    Raises ``ValueError`` for an epoch no interval covers or a state the code map lacks.
    """
    code_of = {state: code for code, state in code_map.items()}
    if n_epochs is None:
        n_epochs = int(
            np.ceil((float(intervals.stop_times_in_s[-1]) - start_time_in_s) / epoch_length_in_s - 1e-9)
        )
    middles = start_time_in_s + (np.arange(n_epochs) + 0.5) * epoch_length_in_s
    index = np.searchsorted(intervals.start_times_in_s, middles, side="right") - 1
    covered = (index >= 0) & (middles < intervals.stop_times_in_s[np.maximum(index, 0)])
    if not np.all(covered):
        raise ValueError(f"epoch {int(np.flatnonzero(~covered)[0])} lies in no interval")
    states = [intervals.sleep_states[k] for k in index]
    missing = sorted(set(states) - set(code_of))
    if missing:
        raise ValueError(f"no code for states {missing}")
    return np.array([code_of[state] for state in states])


def write_epoch_codes(
    *,
    destination: str | Path,
    codes: np.ndarray,
    header: str | None = "state",
    overwrite: bool = False,
) -> Path:
    """Write an epoch-coded state vector as a one-column CSV (with a ``header`` row unless ``None``)."""
    destination = Path(destination)
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        with Path(temporary).open("w", newline="") as handle:
            writer = csv.writer(handle)
            if header is not None:
                writer.writerow([header])
            writer.writerows([code] for code in np.asarray(codes).tolist())
    return destination


def _clock_text(seconds: float, *, decimals: int) -> str:
    whole_minutes, rest = divmod(round(seconds, decimals), 60.0)
    hours, minutes = divmod(int(whole_minutes), 60)
    width = 3 + decimals if decimals else 2
    return f"{hours:02d}:{minutes:02d}:{rest:0{width}.{decimals}f}"


def write_long_table(
    *,
    destination: str | Path,
    intervals: HypnogramIntervals,
    decimals: int = 3,
    columns: tuple[str, str, str] = ("onset", "duration", "state"),
    labels: Mapping[str, str] | None = None,
    clock_times: bool = False,
    column_order: tuple[int, int, int] = (0, 1, 2),
    overwrite: bool = False,
) -> Path:
    """Write one row per interval (``.csv``, ``.tsv`` or ``.xlsx`` by suffix), times rounded to ``decimals``.

    Parameters
    ----------
    destination : str or Path
        Output file.
    intervals : HypnogramIntervals
        What to write.
    decimals : int
        Decimals of every time, as a scoring program that rounds its export writes them.
    columns : tuple of str
        Header of the onset, the duration (or, when it reads ``offset`` / ``stop`` / ``end``, the stop) and
        the state column, in that column order.
    labels : mapping of str to str, optional
        State -> label written (default the state itself).
    clock_times : bool
        Write times as ``HH:MM:SS.fff`` instead of seconds.
    column_order : tuple of int
        Order of the onset (0), duration / stop (1) and state (2) columns in the file.
    overwrite : bool
        Replace an existing file.
    """
    destination = Path(destination)
    stops_given = columns[1].casefold() in ("offset", "stop", "end")
    table: list[list[object]] = [[columns[index] for index in column_order]]
    for start, stop, state in zip(intervals.start_times_in_s.tolist(), intervals.stop_times_in_s.tolist(),
                                  intervals.sleep_states):
        # Each number rounded on its own, as exporters do: onset + duration may overlap the next onset.
        second = stop if stops_given else stop - start
        times: list[object] = [round(start, decimals), round(second, decimals)]
        if clock_times:
            times = [_clock_text(value, decimals=decimals) for value in times]
        else:
            times = [f"{value:.{decimals}f}" for value in times]
        cells = [*times, (labels or {}).get(state, state)]
        table.append([cells[index] for index in column_order])
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        if destination.suffix.lower() == ".xlsx":
            import openpyxl

            workbook = openpyxl.Workbook()
            sheet = workbook.active
            for index, cells in enumerate(table):
                numbers = index > 0 and not clock_times
                sheet.append([float(cell) if numbers and column_order[k] < 2 else cell for k, cell in enumerate(cells)])
            workbook.save(temporary)
        else:
            delimiter = "\t" if destination.suffix.lower() == ".tsv" else ","
            with Path(temporary).open("w", newline="") as handle:
                csv.writer(handle, delimiter=delimiter).writerows(table)
    return destination


def write_mat_labels(
    *, destination: str | Path, labels: np.ndarray, hdf5: bool = False, overwrite: bool = False
) -> Path:
    """Write AccuSleep's ``labels.mat``: the variable ``labels``, a column of codes (v5, or v7.3 HDF5 when ``hdf5``)."""
    destination = Path(destination)
    column = np.asarray(labels, dtype=np.float64).reshape(-1, 1)
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        if hdf5:
            import h5py

            # MATLAB v7.3: HDF5 after a 512-byte user block, arrays stored transposed.
            with h5py.File(temporary, "w", userblock_size=512) as handle:
                handle.create_dataset("labels", data=column.T)
            with Path(temporary).open("r+b") as handle:
                handle.write(b"MATLAB 7.3 MAT-file, written by ndx-glymphatic's simulator".ljust(116))
        else:
            import scipy.io

            scipy.io.savemat(temporary, {"labels": column})
    return destination
