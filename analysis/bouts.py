"""Sleep states: micro-arousal rule, NREM bouts, per-state summaries.

A hypnogram here is three parallel arrays (row start, row stop, state word from
``ndx_glymphatic.vocabulary.SLEEP_STATES``). Micro-arousals are short wake episodes inside NREM;
labs differ on the longest one (Kjaerby 15 s, Hauglund 20 s, Luthi 12 s) and on whether they end
a NREM bout, so both are parameters (:class:`~ndx_glymphatic.analysis.params.BoutParams`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BoutRule",
    "Hypnogram",
    "Intervals",
    "apply_micro_arousal_rule",
    "bout_sample_ranges",
    "merge_micro_arousals_into_nrem",
    "micro_arousals",
    "nrem_bouts",
    "state_mask",
    "state_summary",
    "states_at",
]


@dataclass(frozen=True)
class Intervals:
    """Half-open time intervals ``[start, stop)`` in seconds, sorted by start.

    Attributes
    ----------
    starts, stops : ndarray of float64
    """

    starts: NDArray[np.float64]
    stops: NDArray[np.float64]

    @property
    def durations(self) -> NDArray[np.float64]:
        """Interval lengths in seconds."""
        return self.stops - self.starts

    def __len__(self) -> int:
        return int(self.starts.size)

    def longer_than(self, *, min_duration_in_s: float) -> Intervals:
        """The intervals at least ``min_duration_in_s`` long."""
        keep = self.durations >= min_duration_in_s
        return Intervals(starts=self.starts[keep], stops=self.stops[keep])


@dataclass(frozen=True)
class Hypnogram:
    """Scored sleep states as rows.

    Attributes
    ----------
    starts, stops : ndarray of float64
        Row boundaries in seconds.
    states : ndarray of str
        One state word per row.
    """

    starts: NDArray[np.float64]
    stops: NDArray[np.float64]
    states: NDArray[np.str_]

    @classmethod
    def from_rows(cls, *, starts: object, stops: object, states: object) -> Hypnogram:
        """Build a hypnogram from row sequences, sorted by start."""
        starts = np.asarray(starts, dtype=np.float64)
        stops = np.asarray(stops, dtype=np.float64)
        states = np.asarray(states, dtype=str)
        if not (starts.shape == stops.shape == states.shape):
            raise ValueError("starts, stops and states must have the same length")
        order = np.argsort(starts, kind="stable")
        return cls(starts=starts[order], stops=stops[order], states=states[order])

    def intervals(self, *, state: str) -> Intervals:
        """Rows of one state."""
        keep = self.states == state
        return Intervals(starts=self.starts[keep], stops=self.stops[keep])

    def __len__(self) -> int:
        return int(self.starts.size)


def _adjacent(*, stop: float, start: float, tolerance_in_s: float) -> bool:
    return abs(start - stop) <= tolerance_in_s


def apply_micro_arousal_rule(
    *,
    hypnogram: Hypnogram,
    max_duration_in_s: float = 15.0,
    requires_flanking_nrem: bool = True,
    contiguity_tolerance_in_s: float = 0.5,
) -> Hypnogram:
    """Relabel rows by the micro-arousal rule.

    A ``"wake"`` or ``"micro-arousal"`` row becomes ``"micro-arousal"`` when it lasts at most
    ``max_duration_in_s`` and (if ``requires_flanking_nrem``) is directly preceded and followed by
    NREM; otherwise it becomes ``"wake"``. Other rows are unchanged.

    Parameters
    ----------
    hypnogram : Hypnogram
        Scored rows.
    max_duration_in_s : float
        Longest micro-arousal (Kjaerby 15 s, Hauglund 20 s, Luthi 12 s).
    requires_flanking_nrem : bool
        Whether NREM must be on both sides.
    contiguity_tolerance_in_s : float
        Largest gap between rows that still counts as adjacent.

    Returns
    -------
    Hypnogram
    """
    states = hypnogram.states.astype(object).copy()
    n = len(hypnogram)
    for i in range(n):
        if states[i] not in ("wake", "micro-arousal"):
            continue
        short = hypnogram.stops[i] - hypnogram.starts[i] <= max_duration_in_s + 1e-9
        flanked = True
        if requires_flanking_nrem:
            before = (
                i > 0
                and hypnogram.states[i - 1] == "NREM"
                and _adjacent(
                    stop=hypnogram.stops[i - 1], start=hypnogram.starts[i], tolerance_in_s=contiguity_tolerance_in_s
                )
            )
            after = (
                i < n - 1
                and hypnogram.states[i + 1] == "NREM"
                and _adjacent(
                    stop=hypnogram.stops[i], start=hypnogram.starts[i + 1], tolerance_in_s=contiguity_tolerance_in_s
                )
            )
            flanked = bool(before and after)
        states[i] = "micro-arousal" if (short and flanked) else "wake"
    return Hypnogram(starts=hypnogram.starts, stops=hypnogram.stops, states=states.astype(str))


def micro_arousals(
    *,
    hypnogram: Hypnogram,
    max_duration_in_s: float = 15.0,
    requires_flanking_nrem: bool = True,
    contiguity_tolerance_in_s: float = 0.5,
) -> Intervals:
    """The micro-arousals of a hypnogram under the rule (see :func:`apply_micro_arousal_rule`)."""
    labelled = apply_micro_arousal_rule(
        hypnogram=hypnogram,
        max_duration_in_s=max_duration_in_s,
        requires_flanking_nrem=requires_flanking_nrem,
        contiguity_tolerance_in_s=contiguity_tolerance_in_s,
    )
    return labelled.intervals(state="micro-arousal")


def merge_micro_arousals_into_nrem(*, hypnogram: Hypnogram) -> Hypnogram:
    """Relabel every ``"micro-arousal"`` row as NREM (what a detector may know without the scored MAs)."""
    states = np.where(hypnogram.states == "micro-arousal", "NREM", hypnogram.states)
    return Hypnogram(starts=hypnogram.starts, stops=hypnogram.stops, states=states)


def nrem_bouts(
    *,
    hypnogram: Hypnogram,
    max_duration_in_s: float = 15.0,
    requires_flanking_nrem: bool = True,
    split_at_micro_arousals: bool = False,
    contiguity_tolerance_in_s: float = 0.5,
) -> Intervals:
    """Consolidated NREM bouts.

    Adjacent NREM rows join into one bout; micro-arousals (by the rule) join them too unless
    ``split_at_micro_arousals``. A bout starts and ends with NREM.

    Parameters
    ----------
    hypnogram : Hypnogram
        Scored rows.
    max_duration_in_s, requires_flanking_nrem, contiguity_tolerance_in_s
        The micro-arousal rule (:func:`apply_micro_arousal_rule`).
    split_at_micro_arousals : bool
        End bouts at micro-arousals.

    Returns
    -------
    Intervals
    """
    labelled = apply_micro_arousal_rule(
        hypnogram=hypnogram,
        max_duration_in_s=max_duration_in_s,
        requires_flanking_nrem=requires_flanking_nrem,
        contiguity_tolerance_in_s=contiguity_tolerance_in_s,
    )
    joining = {"NREM"} if split_at_micro_arousals else {"NREM", "micro-arousal"}
    starts: list[float] = []
    stops: list[float] = []
    current: list[int] = []

    def close() -> None:
        nrem_rows = [j for j in current if labelled.states[j] == "NREM"]
        if nrem_rows:
            starts.append(float(labelled.starts[nrem_rows[0]]))
            stops.append(float(labelled.stops[nrem_rows[-1]]))

    for i in range(len(labelled)):
        state = labelled.states[i]
        if state in joining and (
            not current
            or _adjacent(
                stop=labelled.stops[current[-1]], start=labelled.starts[i], tolerance_in_s=contiguity_tolerance_in_s
            )
        ):
            current.append(i)
            continue
        close()
        current = [i] if state in joining else []
    close()
    return Intervals(starts=np.asarray(starts), stops=np.asarray(stops))


def bout_sample_ranges(
    *,
    bouts: Intervals,
    starting_time: float,
    rate_in_Hz: float,
    n_samples: int,
    values: NDArray[np.floating] | None = None,
    min_duration_in_s: float = 0.0,
) -> list[tuple[int, int]]:
    """Sample ranges ``[i0, i1)`` of bouts on a regular grid, split at NaN runs, kept if long enough.

    Parameters
    ----------
    bouts : Intervals
        Bouts in seconds.
    starting_time, rate_in_Hz, n_samples
        The grid.
    values : ndarray, optional
        When given, bouts are split where it is NaN (a gap in the recording).
    min_duration_in_s : float
        Pieces shorter than this are dropped.

    Returns
    -------
    list of (int, int)
    """
    min_samples = max(1, int(np.ceil(min_duration_in_s * rate_in_Hz - 1e-9)))
    ranges: list[tuple[int, int]] = []
    finite = None if values is None else np.isfinite(np.asarray(values, dtype=np.float64))
    for start, stop in zip(bouts.starts, bouts.stops):
        i0 = max(0, int(np.ceil((start - starting_time) * rate_in_Hz - 1e-9)))
        i1 = min(n_samples, int(np.floor((stop - starting_time) * rate_in_Hz + 1e-9)))
        if i1 <= i0:
            continue
        if finite is None:
            pieces = [(i0, i1)]
        else:
            inside = finite[i0:i1].astype(np.int8)
            edges = np.diff(np.concatenate([[0], inside, [0]]))
            pieces = [
                (i0 + a, i0 + b)
                for a, b in zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist())
            ]
        ranges.extend(piece for piece in pieces if piece[1] - piece[0] >= min_samples)
    return ranges


def state_mask(*, times: NDArray[np.floating], hypnogram: Hypnogram, state: str) -> NDArray[np.bool_]:
    """True where ``times`` fall inside a row of ``state`` (rows are half-open ``[start, stop)``).

    Parameters
    ----------
    times : ndarray
        Sorted sample times in seconds.
    hypnogram : Hypnogram
        Scored rows (non-overlapping).
    state : str
        State word.

    Returns
    -------
    ndarray of bool
    """
    times = np.asarray(times, dtype=np.float64)
    mask = np.zeros(times.shape, dtype=bool)
    rows = hypnogram.states == state
    low = np.searchsorted(times, hypnogram.starts[rows], side="left")
    high = np.searchsorted(times, hypnogram.stops[rows], side="left")
    for a, b in zip(low.tolist(), high.tolist()):
        mask[a:b] = True
    return mask


def states_at(*, times: NDArray[np.floating], hypnogram: Hypnogram) -> NDArray[np.str_]:
    """The state at each time (``"unscored"`` outside every row).

    Parameters
    ----------
    times : ndarray
        Sample times in seconds.
    hypnogram : Hypnogram
        Scored rows (non-overlapping).

    Returns
    -------
    ndarray of str
    """
    times = np.asarray(times, dtype=np.float64)
    row = np.searchsorted(hypnogram.starts, times, side="right") - 1
    inside = (row >= 0) & (times < hypnogram.stops[np.clip(row, 0, None)]) if len(hypnogram) else row >= 0
    table = np.append(hypnogram.states.astype(str), "unscored")
    return table[np.where(inside, row, table.size - 1)]


def state_summary(
    *,
    hypnogram: Hypnogram,
    max_duration_in_s: float = 15.0,
    requires_flanking_nrem: bool = True,
    contiguity_tolerance_in_s: float = 0.5,
) -> dict[str, dict[str, float]]:
    """Per-state totals after the micro-arousal rule, plus total sleep (NREM + micro-arousal + REM).

    Parameters
    ----------
    hypnogram : Hypnogram
        Scored rows.
    max_duration_in_s, requires_flanking_nrem, contiguity_tolerance_in_s
        The micro-arousal rule.

    Returns
    -------
    dict
        ``{state: {"total_in_s", "n_bouts", "mean_bout_in_s", "fraction"}}`` for wake, NREM, REM,
        micro-arousal and sleep; micro-arousal also has ``"per_hour_nrem"``.
    """
    labelled = apply_micro_arousal_rule(
        hypnogram=hypnogram,
        max_duration_in_s=max_duration_in_s,
        requires_flanking_nrem=requires_flanking_nrem,
        contiguity_tolerance_in_s=contiguity_tolerance_in_s,
    )
    scored_total = float(np.sum(labelled.stops - labelled.starts))
    summary: dict[str, dict[str, float]] = {}
    for state in ("wake", "NREM", "REM", "micro-arousal"):
        rows = labelled.intervals(state=state)
        if state == "NREM":
            rows = nrem_bouts(
                hypnogram=hypnogram,
                max_duration_in_s=max_duration_in_s,
                requires_flanking_nrem=requires_flanking_nrem,
                split_at_micro_arousals=True,
                contiguity_tolerance_in_s=contiguity_tolerance_in_s,
            )
        total = float(rows.durations.sum())
        summary[state] = {
            "total_in_s": total,
            "n_bouts": len(rows),
            "mean_bout_in_s": float(rows.durations.mean()) if len(rows) else float("nan"),
            "fraction": total / scored_total if scored_total > 0 else float("nan"),
        }
    sleep = summary["NREM"]["total_in_s"] + summary["micro-arousal"]["total_in_s"] + summary["REM"]["total_in_s"]
    summary["sleep"] = {
        "total_in_s": sleep,
        "n_bouts": summary["NREM"]["n_bouts"] + summary["REM"]["n_bouts"],
        "mean_bout_in_s": float("nan"),
        "fraction": sleep / scored_total if scored_total > 0 else float("nan"),
    }
    nrem_hours = (summary["NREM"]["total_in_s"] + summary["micro-arousal"]["total_in_s"]) / 3600.0
    summary["micro-arousal"]["per_hour_nrem"] = (
        summary["micro-arousal"]["n_bouts"] / nrem_hours if nrem_hours > 0 else float("nan")
    )
    return summary


@dataclass(frozen=True)
class BoutRule:
    """The micro-arousal rule and how NREM rows join into bouts, in one object.

    The analysis steps and the readiness gate both find bouts through it, so the two can never
    disagree on what a bout is.

    Attributes
    ----------
    max_duration_in_s : float
        Longest micro-arousal (see :func:`apply_micro_arousal_rule`).
    requires_flanking_nrem : bool
        Whether a micro-arousal needs NREM on both sides.
    contiguity_tolerance_in_s : float
        Largest gap between rows that still counts as adjacent.
    split_at_micro_arousals : bool
        Whether micro-arousals end NREM bouts.
    """

    max_duration_in_s: float = 15.0
    requires_flanking_nrem: bool = True
    contiguity_tolerance_in_s: float = 0.5
    split_at_micro_arousals: bool = False

    @property
    def micro_arousal_rule(self) -> dict[str, float | bool]:
        """The keyword arguments of the micro-arousal rule functions of this module."""
        return {
            "max_duration_in_s": self.max_duration_in_s,
            "requires_flanking_nrem": self.requires_flanking_nrem,
            "contiguity_tolerance_in_s": self.contiguity_tolerance_in_s,
        }

    def nrem_bouts(self, *, hypnogram: Hypnogram, split_at_micro_arousals: bool | None = None) -> Intervals:
        """NREM bouts under the rule (``split_at_micro_arousals`` overrides the rule's own choice)."""
        split = self.split_at_micro_arousals if split_at_micro_arousals is None else split_at_micro_arousals
        return nrem_bouts(hypnogram=hypnogram, split_at_micro_arousals=split, **self.micro_arousal_rule)
