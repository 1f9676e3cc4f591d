"""Align a secondary recording system's clock to the primary's with shared TTL pulses.

Model: ``t_primary = slope * t_secondary + offset_in_s`` (drift = slope - 1).

:func:`match_ttl_pulses` pairs pulses without knowing the offset and despite pulses missing on
either side or extra ones:

1. candidate pairs come from inter-pulse-interval patterns: a secondary pulse and a primary pulse
   are candidates when the next ``pattern_length`` intervals after each agree within a tolerance
   (allowing for ``max_drift_ppm``). Pulses whose pattern matches too many primary pulses (periodic
   trains) give no candidates; for periodic trains pass ``expected_offset_in_s`` and
   ``offset_search_window_in_s`` instead, which add every pair within the window as candidates;
2. a line ``(slope, offset)`` is fitted to the candidates robustly (RANSAC with a fixed seed, slope
   bounded by ``max_drift_ppm``);
3. every secondary pulse is matched one-to-one to the nearest primary pulse within
   ``tolerance_in_s`` of the line, the line is refitted by least squares, and matching repeats.

:func:`fit_clock_alignment` runs the matching and refuses (``InputFileError`` naming both files and
TTL channels, expected vs found) when too few pulses match or the residuals are too large. Its
:class:`ClockAlignmentResult` maps one-to-one onto a row of the ``ClockAlignmentTable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ndx_glymphatic.builder import ClockAlignmentRecord
from ndx_glymphatic.errors import InputFileError

__all__ = ["ClockAlignmentResult", "PulseMatch", "fit_clock_alignment", "match_ttl_pulses"]

_MAX_CANDIDATES_PER_PULSE = 4
_RANSAC_ITERATIONS = 400


@dataclass(frozen=True)
class PulseMatch:
    """Pulses paired between two clocks.

    Attributes
    ----------
    primary_indices, secondary_indices : ndarray
        Indices into the (sorted) input arrays of each matched pair.
    primary_times_in_s, secondary_times_in_s : ndarray
        The matched pulse times.
    slope, offset_in_s : float
        Least-squares line through the pairs (``t_primary = slope * t_secondary + offset``).
    n_candidates : int
        Candidate pairs the robust fit started from.
    """

    primary_indices: np.ndarray
    secondary_indices: np.ndarray
    primary_times_in_s: np.ndarray
    secondary_times_in_s: np.ndarray
    slope: float
    offset_in_s: float
    n_candidates: int


@dataclass(frozen=True)
class ClockAlignmentResult(ClockAlignmentRecord):
    """One secondary system aligned to the primary: a row of the ``ClockAlignmentTable``.

    Attributes mirror the table's columns; ``t_primary = slope * t_secondary + offset_in_s``.
    """

    @property
    def drift_ppm(self) -> float:
        """Clock drift (slope - 1) in parts per million."""
        return (self.slope - 1.0) * 1e6

    def to_primary_time(self, *, secondary_times_in_s: np.ndarray | float) -> np.ndarray:
        """Map secondary-clock times onto the primary clock."""
        return self.slope * np.asarray(secondary_times_in_s, dtype=np.float64) + self.offset_in_s


def _as_sorted_times(*, times: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(times, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite")
    return np.sort(values)


def _interval_patterns(*, times: np.ndarray, pattern_length: int) -> np.ndarray:
    """(n, pattern_length) matrix of the next intervals after each pulse (NaN past the end)."""
    intervals = np.diff(times)
    patterns = np.full((times.size, pattern_length), np.nan)
    for k in range(pattern_length):
        patterns[: max(intervals.size - k, 0), k] = intervals[k:]
    return patterns


def _pattern_candidates(
    *,
    primary: np.ndarray,
    secondary: np.ndarray,
    pattern_length: int,
    tolerance_in_s: float,
    max_drift: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (primary index, secondary index) pairs whose interval patterns agree."""
    primary_patterns = _interval_patterns(times=primary, pattern_length=pattern_length)
    secondary_patterns = _interval_patterns(times=secondary, pattern_length=pattern_length)
    valid_primary = np.flatnonzero(np.all(np.isfinite(primary_patterns), axis=1))
    if valid_primary.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = valid_primary[np.argsort(primary_patterns[valid_primary, 0])]
    first_sorted = primary_patterns[order, 0]
    valid_secondary = np.flatnonzero(np.all(np.isfinite(secondary_patterns), axis=1))
    primary_parts, secondary_parts = [], []
    for batch_start in range(0, valid_secondary.size, 4096):
        batch = valid_secondary[batch_start : batch_start + 4096]
        patterns = secondary_patterns[batch]
        slack = 2 * tolerance_in_s + max_drift * patterns
        lo = np.searchsorted(first_sorted, patterns[:, 0] - slack[:, 0], side="left")
        hi = np.searchsorted(first_sorted, patterns[:, 0] + slack[:, 0], side="right")
        counts = hi - lo
        # Pulses whose first interval matches very many primary intervals (periodic trains) are skipped.
        counts[counts > 64 * _MAX_CANDIDATES_PER_PULSE] = 0
        rows = np.repeat(np.arange(batch.size), counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        candidates = order[np.repeat(lo, counts) + within]
        agree = np.all(np.abs(primary_patterns[candidates] - patterns[rows]) <= slack[rows], axis=1)
        rows, candidates = rows[agree], candidates[agree]
        per_pulse = np.bincount(rows, minlength=batch.size)
        unique_enough = per_pulse[rows] <= _MAX_CANDIDATES_PER_PULSE
        primary_parts.append(candidates[unique_enough])
        secondary_parts.append(batch[rows[unique_enough]])
    if not primary_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(primary_parts), np.concatenate(secondary_parts)


def _window_candidates(
    *, primary: np.ndarray, secondary: np.ndarray, expected_offset_in_s: float, window_in_s: float
) -> tuple[np.ndarray, np.ndarray]:
    lo = np.searchsorted(primary, secondary + expected_offset_in_s - window_in_s, side="left")
    hi = np.searchsorted(primary, secondary + expected_offset_in_s + window_in_s, side="right")
    counts = hi - lo
    secondary_index = np.repeat(np.arange(secondary.size), counts)
    starts = np.repeat(lo, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts + within, secondary_index


def _robust_line(
    *, x: np.ndarray, y: np.ndarray, tolerance_in_s: float, max_drift: float, seed: int
) -> tuple[float, float]:
    """RANSAC line y = slope * x + offset with |slope - 1| <= max_drift; most inliers wins."""
    best = (-1, np.inf, 1.0, float(np.median(y - x)))
    rng = np.random.default_rng(seed)
    n = x.size
    hypotheses = [(1.0, float(y[i] - x[i])) for i in rng.choice(n, size=min(n, 100), replace=False)]
    for _ in range(_RANSAC_ITERATIONS if n > 1 else 0):
        a, b = rng.choice(n, size=2, replace=False)
        if x[a] == x[b]:
            continue
        slope = (y[b] - y[a]) / (x[b] - x[a])
        if abs(slope - 1.0) <= max_drift:
            hypotheses.append((float(slope), float(y[a] - slope * x[a])))
    for slope, offset in hypotheses:
        residuals = np.abs(y - (slope * x + offset))
        inliers = residuals <= tolerance_in_s
        count = int(inliers.sum())
        spread = float(residuals[inliers].mean()) if count else np.inf
        if count > best[0] or (count == best[0] and spread < best[1]):
            best = (count, spread, slope, offset)
    return best[2], best[3]


def _least_squares_line(*, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares y = slope * x + offset, computed on centred data for precision."""
    x_mean, y_mean = float(x.mean()), float(y.mean())
    dx = x - x_mean
    slope = float(np.dot(dx, y - y_mean) / np.dot(dx, dx))
    return slope, y_mean - slope * x_mean


def _match_to_line(
    *, primary: np.ndarray, secondary: np.ndarray, slope: float, offset: float, tolerance_in_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one nearest matching of secondary pulses (mapped by the line) to primary pulses."""
    predicted = slope * secondary + offset
    right = np.clip(np.searchsorted(primary, predicted), 0, primary.size - 1)
    left = np.clip(right - 1, 0, primary.size - 1)
    nearest = np.where(np.abs(primary[left] - predicted) <= np.abs(primary[right] - predicted), left, right)
    error = np.abs(primary[nearest] - predicted)
    keep = np.flatnonzero(error <= tolerance_in_s)
    # Resolve several secondary pulses claiming one primary pulse: keep the closest.
    order = keep[np.argsort(error[keep], kind="stable")]
    _, first = np.unique(nearest[order], return_index=True)
    chosen = np.sort(order[first])
    return nearest[chosen], chosen


def match_ttl_pulses(
    *,
    primary_times_in_s: np.ndarray,
    secondary_times_in_s: np.ndarray,
    tolerance_in_s: float = 0.01,
    max_drift_ppm: float = 1000.0,
    pattern_length: int = 3,
    expected_offset_in_s: float | None = None,
    offset_search_window_in_s: float | None = None,
    seed: int = 0,
) -> PulseMatch:
    """Pair TTL pulses recorded on two clocks with unknown offset, drift, and missing/extra pulses.

    Parameters
    ----------
    primary_times_in_s, secondary_times_in_s : ndarray
        Pulse onset times on each clock (any order).
    tolerance_in_s : float
        Largest distance between a primary pulse and the fitted line's prediction to call a match.
    max_drift_ppm : float
        Largest clock drift considered (bounds the slope and the interval comparison).
    pattern_length : int
        Intervals compared to find candidate pairs (longer = fewer false candidates, needs more
        consecutive pulses without a gap).
    expected_offset_in_s, offset_search_window_in_s : float, optional
        For periodic pulse trains (where interval patterns are ambiguous): add every pair with
        ``|t_primary - t_secondary - expected_offset| <= window`` as a candidate.
    seed : int
        Seed of the robust fit (results are deterministic).

    Returns
    -------
    PulseMatch
        Empty (no pairs) when nothing matched; callers decide whether that is enough.
    """
    primary = _as_sorted_times(times=primary_times_in_s, name="primary_times_in_s")
    secondary = _as_sorted_times(times=secondary_times_in_s, name="secondary_times_in_s")
    max_drift = max_drift_ppm * 1e-6
    empty = PulseMatch(
        primary_indices=np.zeros(0, dtype=np.int64),
        secondary_indices=np.zeros(0, dtype=np.int64),
        primary_times_in_s=np.zeros(0),
        secondary_times_in_s=np.zeros(0),
        slope=float("nan"),
        offset_in_s=float("nan"),
        n_candidates=0,
    )
    if primary.size == 0 or secondary.size == 0:
        return empty
    primary_candidates, secondary_candidates = _pattern_candidates(
        primary=primary,
        secondary=secondary,
        pattern_length=pattern_length,
        tolerance_in_s=tolerance_in_s,
        max_drift=max_drift,
    )
    if expected_offset_in_s is not None:
        window = offset_search_window_in_s if offset_search_window_in_s is not None else tolerance_in_s
        extra_primary, extra_secondary = _window_candidates(
            primary=primary,
            secondary=secondary,
            expected_offset_in_s=expected_offset_in_s,
            window_in_s=window,
        )
        primary_candidates = np.concatenate([primary_candidates, extra_primary])
        secondary_candidates = np.concatenate([secondary_candidates, extra_secondary])
    n_candidates = int(primary_candidates.size)
    if n_candidates == 0:
        return empty
    slope, offset = _robust_line(
        x=secondary[secondary_candidates],
        y=primary[primary_candidates],
        tolerance_in_s=tolerance_in_s,
        max_drift=max_drift,
        seed=seed,
    )
    primary_index = secondary_index = np.zeros(0, dtype=np.int64)
    for _ in range(4):
        primary_index, secondary_index = _match_to_line(
            primary=primary, secondary=secondary, slope=slope, offset=offset, tolerance_in_s=tolerance_in_s
        )
        if secondary_index.size >= 2 and np.ptp(secondary[secondary_index]) > 0:
            new_slope, new_offset = _least_squares_line(
                x=secondary[secondary_index], y=primary[primary_index]
            )
            if abs(new_slope - 1.0) <= max_drift:
                slope, offset = new_slope, new_offset
        elif secondary_index.size == 1:
            offset = float(primary[primary_index[0]] - slope * secondary[secondary_index[0]])
    return PulseMatch(
        primary_indices=primary_index,
        secondary_indices=secondary_index,
        primary_times_in_s=primary[primary_index],
        secondary_times_in_s=secondary[secondary_index],
        slope=float(slope),
        offset_in_s=float(offset),
        n_candidates=n_candidates,
    )


def fit_clock_alignment(
    *,
    primary_times_in_s: np.ndarray,
    secondary_times_in_s: np.ndarray,
    primary_system: str,
    secondary_system: str,
    primary_ttl_channel: str,
    secondary_ttl_channel: str,
    primary_path: str | Path,
    secondary_path: str | Path,
    min_matched_pulses: int = 10,
    min_matched_fraction: float = 0.5,
    max_residual_rms_in_s: float = 0.001,
    tolerance_in_s: float = 0.01,
    max_drift_ppm: float = 1000.0,
    expected_offset_in_s: float | None = None,
    offset_search_window_in_s: float | None = None,
) -> ClockAlignmentResult:
    """Match TTL pulses and fit ``t_primary = slope * t_secondary + offset_in_s``, or refuse.

    Parameters
    ----------
    primary_times_in_s, secondary_times_in_s : ndarray
        Pulse onsets on each system's clock.
    primary_system, secondary_system : str
        System names (e.g. ``"TDT RZ10x"``, ``"Pinnacle Sirenia"``).
    primary_ttl_channel, secondary_ttl_channel : str
        Channel names (e.g. ``"PtC0"``, ``"TTL"``).
    primary_path, secondary_path : str or Path
        The files the pulses came from (named in errors).
    min_matched_pulses : int
        Fewest matched pulses accepted.
    min_matched_fraction : float
        Fewest matched pulses as a fraction of the pulses of the sparser system inside the time
        span both systems cover (guards against coincidental matches of unrelated trains).
    max_residual_rms_in_s : float
        Largest accepted RMS of the fit residuals.
    tolerance_in_s, max_drift_ppm, expected_offset_in_s, offset_search_window_in_s
        Passed to :func:`match_ttl_pulses`.

    Returns
    -------
    ClockAlignmentResult

    Raises
    ------
    InputFileError
        Too few matched pulses, too small a matched fraction, or too large a residual RMS.
    """
    match = match_ttl_pulses(
        primary_times_in_s=primary_times_in_s,
        secondary_times_in_s=secondary_times_in_s,
        tolerance_in_s=tolerance_in_s,
        max_drift_ppm=max_drift_ppm,
        expected_offset_in_s=expected_offset_in_s,
        offset_search_window_in_s=offset_search_window_in_s,
    )
    primary = np.sort(np.asarray(primary_times_in_s, dtype=np.float64).ravel())
    secondary = np.sort(np.asarray(secondary_times_in_s, dtype=np.float64).ravel())
    field = (
        f"TTL pulses of {secondary_system} channel {secondary_ttl_channel!r} matched against "
        f"{primary_system} channel {primary_ttl_channel!r} in {primary_path}"
    )
    n_matched = int(match.secondary_indices.size)
    if n_matched < min_matched_pulses:
        raise InputFileError(
            path=secondary_path,
            field=field,
            expected=f"at least {min_matched_pulses} matching pulses",
            found=f"{n_matched} matched ({secondary.size} secondary, {primary.size} primary pulses)",
            hint="check both channels record the same sync TTL; periodic pulses need expected_offset_in_s",
        )
    mapped = match.slope * secondary + match.offset_in_s
    in_primary_span = (mapped >= primary[0] - tolerance_in_s) & (mapped <= primary[-1] + tolerance_in_s)
    primary_span = (primary >= mapped[0] - tolerance_in_s) & (primary <= mapped[-1] + tolerance_in_s)
    overlapping = int(min(in_primary_span.sum(), primary_span.sum()))
    if n_matched < min_matched_fraction * overlapping:
        raise InputFileError(
            path=secondary_path,
            field=field,
            expected=f"at least {min_matched_fraction:.0%} of the {overlapping} pulses in the shared span",
            found=f"{n_matched} matched ({n_matched / overlapping:.0%})",
            hint="the pulse trains do not correspond",
        )
    residuals = match.primary_times_in_s - (match.slope * match.secondary_times_in_s + match.offset_in_s)
    rms = float(np.sqrt(np.mean(residuals**2)))
    if rms > max_residual_rms_in_s:
        raise InputFileError(
            path=secondary_path,
            field=field,
            expected=f"a residual RMS of at most {max_residual_rms_in_s * 1e3:.3g} ms",
            found=f"{rms * 1e3:.3g} ms over {n_matched} matched pulses",
        )
    return ClockAlignmentResult(
        secondary_system=secondary_system,
        primary_system=primary_system,
        primary_ttl_channel=primary_ttl_channel,
        secondary_ttl_channel=secondary_ttl_channel,
        number_of_matched_pulses=n_matched,
        slope=match.slope,
        offset_in_s=match.offset_in_s,
        residual_rms_in_s=rms,
        max_abs_residual_in_s=float(np.max(np.abs(residuals))),
        matched_primary_times_in_s=match.primary_times_in_s,
        matched_secondary_times_in_s=match.secondary_times_in_s,
    )
