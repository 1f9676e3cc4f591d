"""Coupling between infraslow signals: bout-wise cross-correlation and phase-locking.

Sign convention (used everywhere in this package): the cross-correlation of ``first`` and
``second`` at lag ``tau`` is ``mean_t first(t) * second(t + tau)``, so a **positive lag means the
second signal lags (follows) the first**. Example: if blood volume falls 4 s after NE rises, the
NE -> blood-volume correlogram has its minimum at +4 s.

Published recipe: within NREM bouts > 100 s, z-scored detrended signals, unbiased
cross-correlation over +-40 s (photometry pairs) or +-60 s (sigma power vs NE), averaged over
bouts; the lag and value at the extremum are reported (anti-correlation -> the minimum).

Phase-locking: the Hilbert phase of band-passed infraslow NE against an amplitude (EEG sigma
power): mean vector length ``|sum a exp(i phi)| / sum a`` with ``a`` normalised per bout, tested
against circular-shift surrogates (each bout's amplitude rotated by a random shift; the sums for
every shift come from one FFT per bout, so 1000 surrogates cost no more than one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

from ndx_glymphatic.analysis.lagged_correlation import lagged_pearson
from ndx_glymphatic.analysis.oscillation import polynomial_detrend

__all__ = [
    "CrossCorrelation",
    "PhaseLocking",
    "bandpass_zero_phase",
    "bout_cross_correlation",
    "extremum",
    "phase_locking",
    "unbiased_cross_correlation",
]


@dataclass(frozen=True)
class CrossCorrelation:
    """Bout-averaged cross-correlogram of two signals.

    Attributes
    ----------
    lags_in_s : ndarray
        Lags in seconds (positive: the second signal lags the first).
    mean : ndarray
        Mean over bouts of the unbiased correlograms (NaN without bouts).
    per_bout : ndarray
        One correlogram per bout (n_bouts x n_lags).
    lag_in_s : float
        Lag of the chosen extremum of ``mean`` (sub-sample by parabolic interpolation).
    value : float
        Value at that extremum.
    bout_lags_in_s, bout_values : ndarray
        The same per bout.
    extremum : str
        ``"min"``, ``"max"`` or ``"abs"``.
    n_bouts : int
    """

    lags_in_s: NDArray[np.float64]
    mean: NDArray[np.float64]
    per_bout: NDArray[np.float64]
    lag_in_s: float
    value: float
    bout_lags_in_s: NDArray[np.float64]
    bout_values: NDArray[np.float64]
    extremum: str
    n_bouts: int


@dataclass(frozen=True)
class PhaseLocking:
    """Phase-locking of an amplitude to the phase of an infraslow oscillation.

    Attributes
    ----------
    mean_vector_length : float
        Normalised mean vector length (0: none, 1: all amplitude at one phase).
    preferred_phase_rad : float
        Phase of the mean vector (0 = oscillation peak, +-pi = trough).
    p_value : float
        ``(1 + #surrogates >= observed) / (1 + n_surrogates)``.
    surrogate_mean, surrogate_sd : float
        Surrogate mean vector lengths.
    n_bouts : int
    n_samples : int
    phase_bins_rad : ndarray
        Bin centres of the phase histogram.
    amplitude_by_phase : ndarray
        Mean normalised amplitude in each phase bin.
    """

    mean_vector_length: float
    preferred_phase_rad: float
    p_value: float
    surrogate_mean: float
    surrogate_sd: float
    n_bouts: int
    n_samples: int
    phase_bins_rad: NDArray[np.float64]
    amplitude_by_phase: NDArray[np.float64]


def unbiased_cross_correlation(
    *, first: NDArray[np.floating], second: NDArray[np.floating], max_lag: int
) -> NDArray[np.float64]:
    """Unbiased cross-correlation ``c[k] = sum_t first[t] second[t + k] / (N - |k|)``, ``|k| <= max_lag``.

    Parameters
    ----------
    first, second : ndarray
        Equal-length traces (already z-scored for a correlation coefficient).
    max_lag : int
        Largest lag in samples (< N).

    Returns
    -------
    ndarray
        ``2 * max_lag + 1`` values for lags ``-max_lag .. max_lag``.
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    n = first.size
    if second.size != n:
        raise ValueError("first and second must have the same length")
    if max_lag >= n:
        raise ValueError(f"max_lag ({max_lag}) must be shorter than the traces ({n})")
    full = sps.correlate(second, first, mode="full", method="fft")
    centre = n - 1
    lags = np.arange(-max_lag, max_lag + 1)
    return full[centre + lags] / (n - np.abs(lags))


def extremum(
    *,
    lags: NDArray[np.float64],
    values: NDArray[np.float64],
    kind: str,
    max_abs_lag: float | None = None,
    interpolation: str = "parabolic",
) -> tuple[float, float]:
    """Lag and value of the minimum, maximum or largest-magnitude point, refined by a parabola.

    Parameters
    ----------
    lags, values : ndarray
        A correlogram.
    kind : str
        ``"min"``, ``"max"`` or ``"abs"``.
    max_abs_lag : float, optional
        Only search ``|lag| <= max_abs_lag`` (for an oscillation: half its period, so the
        extremum nearest zero lag is reported rather than one a cycle away).
    interpolation : str
        ``"parabolic"`` (refined between samples) or ``"grid_sample"`` (the extreme sample).

    Returns
    -------
    lag, value : float
    """
    if max_abs_lag is not None and np.isfinite(max_abs_lag):
        values = np.where(np.abs(lags) <= max_abs_lag + 1e-9, values, np.nan)
    if not np.any(np.isfinite(values)):
        return float("nan"), float("nan")
    if kind == "min":
        best = int(np.nanargmin(values))
        sign = -1.0
    elif kind == "max":
        best = int(np.nanargmax(values))
        sign = 1.0
    elif kind == "abs":
        best = int(np.nanargmax(np.abs(values)))
        sign = 1.0 if values[best] >= 0 else -1.0
    else:
        raise ValueError(f"extremum must be 'min', 'max' or 'abs', not {kind!r}")
    lag, value = float(lags[best]), float(values[best])
    if interpolation == "parabolic" and 0 < best < values.size - 1 and np.all(np.isfinite(values[best - 1 : best + 2])):
        left, centre, right = sign * values[best - 1 : best + 2]
        denominator = left - 2 * centre + right
        if np.isfinite(denominator) and denominator < 0:
            shift = float(np.clip(0.5 * (left - right) / denominator, -0.5, 0.5))
            lag += shift * (lags[best + 1] - lags[best])
            value = sign * (centre - 0.25 * (left - right) * shift)
    return lag, value


def bout_cross_correlation(
    *,
    first: NDArray[np.floating],
    second: NDArray[np.floating],
    rate_in_Hz: float,
    bout_ranges: list[tuple[int, int]],
    max_lag_in_s: float = 40.0,
    detrend_order: int = 1,
    kind: str = "min",
    max_abs_lag_in_s: float | None = None,
    zscore_ddof: int = 0,
    short_bouts: str = "skip_up_to_twice_max_lag",
    interpolation: str = "parabolic",
    correlogram: str = "bout_zscore",
) -> CrossCorrelation:
    """Published bout-wise cross-correlation (see module docstring for the sign convention).

    Parameters
    ----------
    first, second : ndarray
        Two traces on the same grid (e.g. NE and blood-volume dF/F at ~10 Hz).
    rate_in_Hz : float
        Grid rate.
    bout_ranges : list of (int, int)
        NREM bouts (already filtered by length); bouts not longer than twice the lag range or
        with non-finite samples are skipped.
    max_lag_in_s : float
        Lag range.
    detrend_order : int
        Polynomial removed per bout before z-scoring.
    kind : str
        Extremum reported: ``"min"``, ``"max"`` or ``"abs"``.
    max_abs_lag_in_s : float, optional
        Restrict the extremum search to ``|lag| <= max_abs_lag_in_s`` (e.g. half the oscillation
        period); the whole correlogram is still returned.
    zscore_ddof : int
        Degrees of freedom of the z-score's standard deviation (MATLAB: 1).
    short_bouts : str
        ``"skip_up_to_twice_max_lag"`` or ``"keep_longer_than_max_lag"`` (MATLAB xcorr's only limit).
    interpolation : str
        Extremum refinement, see :func:`extremum`.
    correlogram : str
        ``"bout_zscore"`` (published: each bout detrended and z-scored once, then
        :func:`unbiased_cross_correlation`) or ``"per_lag_pearson"``
        (:func:`~ndx_glymphatic.analysis.lagged_correlation.lagged_pearson`: each lag's overlapping
        segments detrended and normalised on their own; unbiased lag on drifting bouts).

    Returns
    -------
    CrossCorrelation
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    max_lag = round(max_lag_in_s * rate_in_Hz)
    lags_in_s = np.arange(-max_lag, max_lag + 1) / rate_in_Hz
    from ndx_glymphatic.analysis.matlab_compat import zscore

    shortest = max_lag + 1 if short_bouts == "keep_longer_than_max_lag" else 2 * max_lag + 1
    if correlogram == "per_lag_pearson":
        # every lag's segments must keep more samples than the polynomial fitted to them
        shortest = max(shortest, max_lag + detrend_order + 3)
    curves = []
    for start, stop in bout_ranges:
        a, b = first[start:stop], second[start:stop]
        if a.size < shortest or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            continue
        if correlogram == "per_lag_pearson":
            curves.append(lagged_pearson(first=a, second=b, max_lag=max_lag, detrend_order=detrend_order))
            continue
        if correlogram != "bout_zscore":
            raise ValueError(f"correlogram must be 'bout_zscore' or 'per_lag_pearson', not {correlogram!r}")
        a = zscore(values=polynomial_detrend(values=a, order=detrend_order), ddof=zscore_ddof)
        b = zscore(values=polynomial_detrend(values=b, order=detrend_order), ddof=zscore_ddof)
        curves.append(unbiased_cross_correlation(first=a, second=b, max_lag=max_lag))
    if not curves:
        empty = np.zeros((0, lags_in_s.size))
        nan = np.full(lags_in_s.size, np.nan)
        return CrossCorrelation(lags_in_s, nan, empty, np.nan, np.nan, np.zeros(0), np.zeros(0), kind, 0)
    per_bout = np.vstack(curves)
    mean = per_bout.mean(axis=0)
    options = {"kind": kind, "max_abs_lag": max_abs_lag_in_s, "interpolation": interpolation}
    lag, value = extremum(lags=lags_in_s, values=mean, **options)
    per = np.array([extremum(lags=lags_in_s, values=curve, **options) for curve in per_bout])
    return CrossCorrelation(lags_in_s, mean, per_bout, lag, value, per[:, 0], per[:, 1], kind, len(curves))


def bandpass_zero_phase(
    *, values: NDArray[np.floating], rate_in_Hz: float, band_in_Hz: tuple[float, float], order: int = 2
) -> NDArray[np.float64]:
    """Zero-phase Butterworth band-pass per finite run (NaNs stay NaN).

    Parameters
    ----------
    values : ndarray
        Trace.
    rate_in_Hz : float
        Its rate.
    band_in_Hz : tuple of float
        Pass band.
    order : int
        Butterworth order.

    Returns
    -------
    ndarray of float64
    """
    from ndx_glymphatic.analysis.preprocessing import finite_runs

    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    sos = sps.butter(order, band_in_Hz, btype="bandpass", fs=rate_in_Hz, output="sos")
    pad_target = round(rate_in_Hz / band_in_Hz[0])
    for start, stop in finite_runs(values=values):
        run = values[start:stop]
        if run.size < 16:
            continue
        out[start:stop] = sps.sosfiltfilt(sos, run, padlen=min(run.size - 1, pad_target))
    return out


def _shifted_sums(*, phase: NDArray[np.float64], amplitude: NDArray[np.float64]) -> NDArray[np.complex128]:
    """``c[k] = sum_t amplitude[(t - k) mod N] * exp(i phase[t])`` for every circular shift ``k`` (FFT)."""
    z = np.exp(1j * phase)
    return np.fft.ifft(np.fft.fft(z) * np.conj(np.fft.fft(amplitude)))


def phase_locking(
    *,
    oscillation: NDArray[np.floating],
    amplitude: NDArray[np.floating],
    rate_in_Hz: float,
    bout_ranges: list[tuple[int, int]],
    band_in_Hz: tuple[float, float] = (0.01, 0.04),
    n_surrogates: int = 500,
    min_shift_in_s: float = 20.0,
    seed: int = 0,
    n_phase_bins: int = 18,
) -> PhaseLocking:
    """Phase-locking of ``amplitude`` (e.g. sigma power) to the phase of ``oscillation`` (e.g. NE).

    Parameters
    ----------
    oscillation : ndarray
        The infraslow trace whose phase is used (band-passed here, Hilbert phase per finite run).
    amplitude : ndarray
        Non-negative amplitude on the same grid; normalised to mean 1 within each bout.
    rate_in_Hz : float
        Grid rate.
    bout_ranges : list of (int, int)
        NREM bouts used.
    band_in_Hz : tuple of float
        Band-pass of the oscillation.
    n_surrogates : int
        Circular-shift surrogates.
    min_shift_in_s : float
        Smallest shift; bouts shorter than twice this are skipped.
    seed : int
        Surrogate random seed.
    n_phase_bins : int
        Bins of the amplitude-by-phase histogram.

    Returns
    -------
    PhaseLocking
    """
    from ndx_glymphatic.analysis.preprocessing import finite_runs

    filtered = bandpass_zero_phase(values=oscillation, rate_in_Hz=rate_in_Hz, band_in_Hz=band_in_Hz)
    phase_all = np.full(filtered.shape, np.nan)
    for start, stop in finite_runs(values=filtered):
        phase_all[start:stop] = np.angle(sps.hilbert(filtered[start:stop]))
    amplitude = np.asarray(amplitude, dtype=np.float64)
    min_shift = max(1, round(min_shift_in_s * rate_in_Hz))
    phases: list[NDArray[np.float64]] = []
    amplitudes: list[NDArray[np.float64]] = []
    for start, stop in bout_ranges:
        p, a = phase_all[start:stop], amplitude[start:stop]
        if p.size < 2 * min_shift + 1 or not (np.all(np.isfinite(p)) and np.all(np.isfinite(a))):
            continue
        if a.mean() <= 0:
            continue
        phases.append(p)
        amplitudes.append(np.clip(a / a.mean(), 0.0, None))
    bins = np.linspace(-np.pi, np.pi, n_phase_bins + 1)
    centres = 0.5 * (bins[1:] + bins[:-1])
    if not phases:
        nan = float("nan")
        return PhaseLocking(nan, nan, nan, nan, nan, 0, 0, centres, np.full(n_phase_bins, np.nan))
    total_amplitude = float(sum(a.sum() for a in amplitudes))
    shifted = [_shifted_sums(phase=p, amplitude=a) for p, a in zip(phases, amplitudes)]
    observed = complex(sum(c[0] for c in shifted) / total_amplitude)
    rng = np.random.default_rng(seed)
    shifts = np.column_stack(
        [rng.integers(min_shift, a.size - min_shift + 1, size=n_surrogates) for a in amplitudes]
    )
    surrogate = np.abs(
        sum(c[shifts[:, j]] for j, c in enumerate(shifted)) / total_amplitude
    ) if n_surrogates else np.zeros(0)
    all_phase = np.concatenate(phases)
    all_amplitude = np.concatenate(amplitudes)
    which = np.clip(np.digitize(all_phase, bins) - 1, 0, n_phase_bins - 1)
    sums = np.bincount(which, weights=all_amplitude, minlength=n_phase_bins)
    counts = np.bincount(which, minlength=n_phase_bins)
    with np.errstate(invalid="ignore"):
        by_phase = sums / counts
    p_value = (1 + int(np.sum(surrogate >= abs(observed)))) / (1 + n_surrogates)
    return PhaseLocking(
        mean_vector_length=float(abs(observed)),
        preferred_phase_rad=float(np.angle(observed)),
        p_value=float(p_value),
        surrogate_mean=float(surrogate.mean()) if n_surrogates else float("nan"),
        surrogate_sd=float(surrogate.std()) if n_surrogates else float("nan"),
        n_bouts=len(phases),
        n_samples=int(all_phase.size),
        phase_bins_rad=centres,
        amplitude_by_phase=by_phase,
    )
