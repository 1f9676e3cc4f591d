"""CSF tracer influx and efflux kinetics.

Published: influx runs from 10 % to 90 % of the tracer maximum (dF/F against the median of the
5 min before the infusion); efflux is read from the peak on. Here:

- the dF/F is smoothed (``smoothing_in_s`` moving mean) and searched from the infusion start on;
- ``peak`` is its maximum, ``t10`` / ``t90`` the first times it reaches 10 % / 90 % of the peak
  (linear interpolation between samples), rise time ``t90 - t10``, influx slope
  ``0.8 * peak / rise time`` (% dF/F per minute);
- efflux half-time: from the peak to the first time the trace falls to ``efflux_fraction`` of the
  peak (NaN, with a note, if it never does before the end); efflux slope: least-squares slope from
  the peak to that time (or to the end).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ndx_glymphatic.analysis.preprocessing import moving_mean_zero_phase

__all__ = ["TracerKinetics", "tracer_kinetics"]


@dataclass(frozen=True)
class TracerKinetics:
    """Influx / efflux of a tracer curve (times in seconds of the session clock).

    Attributes
    ----------
    peak_percent : float
        Maximum dF/F after the infusion start.
    peak_time_in_s : float
    t10_in_s, t90_in_s : float
        First crossings of the low / high fraction of the peak.
    rise_time_in_s : float
        ``t90 - t10``.
    influx_slope_percent_per_min : float
        Mean slope between the two crossings.
    efflux_half_time_in_s : float
        Peak to ``efflux_fraction`` of the peak (NaN if not reached).
    efflux_slope_percent_per_min : float
        Least-squares slope after the peak (negative when clearing).
    notes : list of str
    """

    peak_percent: float
    peak_time_in_s: float
    t10_in_s: float
    t90_in_s: float
    rise_time_in_s: float
    influx_slope_percent_per_min: float
    efflux_half_time_in_s: float
    efflux_slope_percent_per_min: float
    notes: tuple[str, ...]


def _first_crossing(*, times: NDArray[np.float64], values: NDArray[np.float64], level: float) -> float:
    above = np.flatnonzero(values >= level)
    if above.size == 0:
        return float("nan")
    i = int(above[0])
    if i == 0 or not np.isfinite(values[i - 1]):
        return float(times[i])
    v0, v1 = values[i - 1], values[i]
    fraction = (level - v0) / (v1 - v0) if v1 != v0 else 0.0
    return float(times[i - 1] + fraction * (times[i] - times[i - 1]))


def _first_fall(*, times: NDArray[np.float64], values: NDArray[np.float64], level: float) -> float:
    below = np.flatnonzero(values <= level)
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(times[0])
    v0, v1 = values[i - 1], values[i]
    fraction = (v0 - level) / (v0 - v1) if v1 != v0 else 0.0
    return float(times[i - 1] + fraction * (times[i] - times[i - 1]))


def tracer_kinetics(
    *,
    times: NDArray[np.floating],
    dff: NDArray[np.floating],
    infusion_start_in_s: float,
    rise_low_percent: float = 10.0,
    rise_high_percent: float = 90.0,
    smoothing_in_s: float = 100.0,
    efflux_fraction: float = 0.5,
) -> TracerKinetics:
    """Influx and efflux kinetics of a tracer dF/F curve (see module docstring).

    Parameters
    ----------
    times, dff : ndarray
        Decimated tracer dF/F (percent, baseline = pre-infusion median).
    infusion_start_in_s : float
        Infusion start.
    rise_low_percent, rise_high_percent : float
        Influx window in percent of the peak (published: 10 and 90).
    smoothing_in_s : float
        Moving-mean width applied first.
    efflux_fraction : float
        Fraction of the peak ending the efflux half-time.

    Returns
    -------
    TracerKinetics
    """
    times = np.asarray(times, dtype=np.float64)
    dff = np.asarray(dff, dtype=np.float64)
    notes: list[str] = []
    rate = 1.0 / float(np.median(np.diff(times))) if times.size > 1 else 1.0
    smooth = moving_mean_zero_phase(values=dff, window=max(1, round(smoothing_in_s * rate)))
    after = (times >= infusion_start_in_s) & np.isfinite(smooth)
    nan = float("nan")
    if not np.any(after):
        return TracerKinetics(nan, nan, nan, nan, nan, nan, nan, nan, ("no data after the infusion start",))
    t, v = times[after], smooth[after]
    peak_index = int(np.argmax(v))
    peak, peak_time = float(v[peak_index]), float(t[peak_index])
    if peak <= 0:
        notes.append("the tracer signal never rose above its pre-infusion baseline")
        return TracerKinetics(peak, peak_time, nan, nan, nan, nan, nan, nan, tuple(notes))
    rising_t, rising_v = t[: peak_index + 1], v[: peak_index + 1]
    t10 = _first_crossing(times=rising_t, values=rising_v, level=rise_low_percent / 100.0 * peak)
    t90 = _first_crossing(times=rising_t, values=rising_v, level=rise_high_percent / 100.0 * peak)
    rise = t90 - t10
    slope = (rise_high_percent - rise_low_percent) / 100.0 * peak / (rise / 60.0) if rise > 0 else nan
    if peak_index == v.size - 1:
        notes.append("the tracer peaked at the end of the recording: efflux not observed")
    falling_t, falling_v = t[peak_index:], v[peak_index:]
    fall_time = _first_fall(times=falling_t, values=falling_v, level=efflux_fraction * peak)
    half_time = fall_time - peak_time if np.isfinite(fall_time) else nan
    if not np.isfinite(fall_time) and peak_index < v.size - 1:
        notes.append(f"the tracer did not fall to {efflux_fraction:.0%} of its peak before the end")
    end = fall_time if np.isfinite(fall_time) else falling_t[-1]
    window = falling_t <= end
    efflux_slope = (
        float(np.polyfit(falling_t[window] / 60.0, falling_v[window], 1)[0]) if np.sum(window) >= 3 else nan
    )
    return TracerKinetics(
        peak, peak_time, t10, t90, rise, float(slope), float(half_time), efflux_slope, tuple(notes)
    )
