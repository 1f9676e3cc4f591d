"""The infraslow NE oscillation of NREM sleep: spectrum peak frequency, peak rate and amplitude.

Published recipe (Kjaerby 2022 / Hauglund 2025 MATLAB code), on the ~10 Hz NE dF/F:

1. high-pass 0.005 Hz (zero-phase Butterworth);
2. NREM bouts >= 120 s (Kjaerby) or >= 200 s (Hauglund);
3. a 5th-order polynomial removed from each bout;
4. Welch PSD of each bout on a 0-0.1 Hz grid;
5. the bout-duration-weighted mean spectrum; its peak is the oscillation frequency;
6. the spectrum normalised to its 90th percentile below 0.03 Hz (for plots and group means).

Peaks: minimum distance 10 s, minimum prominence 1.5 % dF/F; rate = peaks / NREM time.
Amplitude: 90th minus 10th percentile per bout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

__all__ = [
    "InfraslowSpectrum",
    "OscillationPeaks",
    "highpass_zero_phase",
    "infraslow_spectrum",
    "oscillation_amplitude",
    "oscillation_peaks",
    "polynomial_detrend",
    "welch_on_grid",
]


@dataclass(frozen=True)
class InfraslowSpectrum:
    """Bout-weighted infraslow power spectrum of one trace.

    Attributes
    ----------
    frequencies_in_Hz : ndarray
        The 0-fmax grid.
    psd : ndarray
        Duration-weighted mean PSD (units^2 / Hz); NaN when no bout qualified.
    normalized_psd : ndarray
        ``psd`` divided by its normalisation percentile below the normalisation frequency.
    peak_frequency_in_Hz : float
        Frequency of the maximum inside the search band (parabolic interpolation); NaN without bouts.
    peak_power : float
        ``normalized_psd`` at the peak.
    n_bouts : int
        Bouts used.
    total_duration_in_s : float
        Their summed duration.
    bout_peak_frequencies_in_Hz : list of float
        Peak frequency of each bout's own spectrum.
    """

    frequencies_in_Hz: NDArray[np.float64]
    psd: NDArray[np.float64]
    normalized_psd: NDArray[np.float64]
    peak_frequency_in_Hz: float
    peak_power: float
    n_bouts: int
    total_duration_in_s: float
    bout_peak_frequencies_in_Hz: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class OscillationPeaks:
    """NE peaks inside NREM bouts.

    Attributes
    ----------
    peak_indices : ndarray of int
        Sample indices of the peaks.
    n_peaks : int
    duration_in_s : float
        Summed bout duration searched.
    rate_per_min : float
        Peaks per minute of NREM.
    """

    peak_indices: NDArray[np.int64]
    n_peaks: int
    duration_in_s: float
    rate_per_min: float


def highpass_zero_phase(
    *, values: NDArray[np.floating], rate_in_Hz: float, cutoff_in_Hz: float, order: int = 2
) -> NDArray[np.float64]:
    """Zero-phase Butterworth high-pass, applied separately to each finite run (NaNs stay NaN).

    Each run is padded by odd extension of up to ``1 / cutoff_in_Hz`` seconds to tame edge transients;
    runs of fewer than 4 samples are only mean-centred.

    Parameters
    ----------
    values : ndarray
        Decimated trace.
    rate_in_Hz : float
        Its rate.
    cutoff_in_Hz : float
        -3 dB frequency.
    order : int
        Butterworth order (applied twice: forward and backward).

    Returns
    -------
    ndarray of float64
    """
    from ndx_glymphatic.analysis.preprocessing import finite_runs

    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    sos = sps.butter(order, cutoff_in_Hz, btype="highpass", fs=rate_in_Hz, output="sos")
    pad_target = round(rate_in_Hz / cutoff_in_Hz)
    for start, stop in finite_runs(values=values):
        run = values[start:stop]
        if run.size < 4:
            out[start:stop] = run - run.mean()
            continue
        out[start:stop] = sps.sosfiltfilt(sos, run, padlen=min(run.size - 1, pad_target))
    return out


def polynomial_detrend(*, values: NDArray[np.floating], order: int) -> NDArray[np.float64]:
    """Remove a least-squares polynomial of the given order (fitted on a normalised time axis).

    Parameters
    ----------
    values : ndarray
        One bout.
    order : int
        Polynomial order (published: 5 for spectra).

    Returns
    -------
    ndarray of float64
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size <= order + 1:
        return values - values.mean()
    basis = np.polynomial.legendre.legvander(np.linspace(-1.0, 1.0, values.size), order)
    # Legendre columns are nearly orthogonal on a uniform grid: the normal equations are well posed
    coefficients = np.linalg.solve(basis.T @ basis, basis.T @ values)
    return values - basis @ coefficients


def _grid_peak(*, frequencies: NDArray[np.float64], power: NDArray[np.float64], band: tuple[float, float]) -> float:
    inside = np.flatnonzero((frequencies >= band[0]) & (frequencies <= band[1]) & np.isfinite(power))
    if inside.size == 0:
        return float("nan")
    best = inside[np.argmax(power[inside])]
    if 0 < best < frequencies.size - 1 and np.all(np.isfinite(power[best - 1 : best + 2])):
        left, centre, right = power[best - 1 : best + 2]
        denominator = left - 2 * centre + right
        if denominator < 0:
            shift = 0.5 * (left - right) / denominator
            step = frequencies[best + 1] - frequencies[best]
            return float(frequencies[best] + np.clip(shift, -0.5, 0.5) * step)
    return float(frequencies[best])


def _pick_peak(
    *, frequencies: NDArray[np.float64], power: NDArray[np.float64], band: tuple[float, float], rule: str
) -> float:
    if rule == "grid_maximum":
        return float(frequencies[int(np.nanargmax(power))]) if np.any(np.isfinite(power)) else float("nan")
    return _grid_peak(frequencies=frequencies, power=power, band=band)


def welch_on_grid(
    *,
    values: NDArray[np.floating],
    rate_in_Hz: float,
    frequencies_in_Hz: NDArray[np.float64],
    segment: int,
    overlap: float = 0.5,
) -> NDArray[np.float64]:
    """Welch PSD (Hamming segments, one-sided density) evaluated directly at the given frequencies.

    Equivalent to MATLAB ``pwelch(x, hamming(segment), overlap, f, fs)`` with a frequency vector:
    each segment is Hamming-windowed and zero-padded; when ``rate_in_Hz / step`` is a whole number the
    padded FFT bins fall exactly on the grid, otherwise the FFT is 8x finer than the grid and the
    (smooth) periodogram is linearly interpolated. Segment periodograms are averaged and scaled to
    one-sided units^2 / Hz.

    Parameters
    ----------
    values : ndarray
        The (detrended) trace.
    rate_in_Hz : float
        Its rate.
    frequencies_in_Hz : ndarray
        Evenly spaced frequencies from 0 (e.g. 0-0.1 Hz in 0.0005-Hz steps).
    segment : int
        Segment length in samples (<= len(values)).
    overlap : float
        Fractional overlap.

    Returns
    -------
    ndarray
        PSD at each frequency.
    """
    from scipy import fft

    values = np.asarray(values, dtype=np.float64)
    frequencies_in_Hz = np.asarray(frequencies_in_Hz, dtype=np.float64)
    segment = min(segment, values.size)
    step = max(1, segment - int(segment * overlap))
    frames = np.lib.stride_tricks.sliding_window_view(values, segment)[::step]
    window = np.hamming(segment)
    grid_step = (
        float(frequencies_in_Hz[1] - frequencies_in_Hz[0]) if frequencies_in_Hz.size > 1 else rate_in_Hz / segment
    )
    ratio = rate_in_Hz / grid_step
    exact = abs(ratio - round(ratio)) < 1e-6 * ratio
    nfft = max(segment, round(ratio) if exact else fft.next_fast_len(int(np.ceil(8 * ratio))))
    keep = int(np.ceil(frequencies_in_Hz[-1] * nfft / rate_in_Hz)) + 2
    spectra = np.abs(fft.rfft(frames * window, n=nfft, axis=1)[:, :keep]) ** 2
    mean = spectra.mean(axis=0)
    if exact and nfft == round(ratio):
        power = mean[np.rint(frequencies_in_Hz / grid_step).astype(int)]
    else:
        power = np.interp(frequencies_in_Hz, np.arange(keep) * rate_in_Hz / nfft, mean)
    power = power * (2.0 / (rate_in_Hz * float(np.sum(window**2))))
    power[frequencies_in_Hz == 0] /= 2.0
    return power


def infraslow_spectrum(
    *,
    values: NDArray[np.floating],
    rate_in_Hz: float,
    bout_ranges: list[tuple[int, int]],
    highpass_in_Hz: float = 0.005,
    highpass_order: int = 2,
    detrend_order: int = 5,
    fmax_in_Hz: float = 0.1,
    frequency_step_in_Hz: float = 0.0005,
    welch_segment_in_s: float = 300.0,
    welch_overlap: float = 0.5,
    peak_search_in_Hz: tuple[float, float] = (0.005, 0.1),
    normalisation_fmax_in_Hz: float = 0.03,
    normalisation_percentile: float = 90.0,
    already_highpassed: bool = False,
    psd_method: str = "welch_segments",
    peak_pick: str = "parabolic_in_band",
) -> InfraslowSpectrum:
    """Published infraslow spectrum of a trace over NREM bouts (see module docstring).

    Parameters
    ----------
    values : ndarray
        The whole decimated trace (e.g. NE dF/F at ~10 Hz).
    rate_in_Hz : float
        Its rate.
    bout_ranges : list of (int, int)
        Sample ranges of the qualifying bouts (already filtered by minimum duration).
    highpass_in_Hz, highpass_order : float, int
        High-pass applied to the whole trace first.
    detrend_order : int
        Polynomial removed per bout.
    fmax_in_Hz, frequency_step_in_Hz : float
        The output grid ``0, step, ..., fmax``.
    welch_segment_in_s, welch_overlap : float
        Welch segments (Hamming windowed, :func:`welch_on_grid`); a bout shorter than a segment is
        one segment.
    peak_search_in_Hz : tuple of float
        Band searched for the peak.
    normalisation_fmax_in_Hz, normalisation_percentile : float
        Normalisation of the spectrum.
    already_highpassed : bool
        Skip the high-pass (the caller did it, or the recipe uses the dF/F itself).
    psd_method : str
        ``"welch_segments"`` (:func:`welch_on_grid`) or ``"matlab_pwelch_default"``
        (:func:`~ndx_glymphatic.analysis.matlab_compat.matlab_pwelch_default`).
    peak_pick : str
        ``"parabolic_in_band"`` or ``"grid_maximum"`` (largest grid value over the whole grid).

    Returns
    -------
    InfraslowSpectrum
    """
    from ndx_glymphatic.analysis.matlab_compat import matlab_pwelch_default

    grid = np.arange(0.0, fmax_in_Hz + frequency_step_in_Hz / 2, frequency_step_in_Hz)
    filtered = (
        np.asarray(values, dtype=np.float64)
        if already_highpassed
        else highpass_zero_phase(
            values=values, rate_in_Hz=rate_in_Hz, cutoff_in_Hz=highpass_in_Hz, order=highpass_order
        )
    )
    weighted = np.zeros_like(grid)
    total = 0.0
    bout_peaks: list[float] = []
    for start, stop in bout_ranges:
        bout = filtered[start:stop]
        if bout.size < 8 or not np.all(np.isfinite(bout)):
            continue
        bout = polynomial_detrend(values=bout, order=detrend_order)
        if psd_method == "matlab_pwelch_default":
            on_grid = matlab_pwelch_default(values=bout, rate_in_Hz=rate_in_Hz, frequencies_in_Hz=grid)
        else:
            segment = min(bout.size, max(8, round(welch_segment_in_s * rate_in_Hz)))
            on_grid = welch_on_grid(
                values=bout, rate_in_Hz=rate_in_Hz, frequencies_in_Hz=grid, segment=segment, overlap=welch_overlap
            )
        duration = bout.size / rate_in_Hz
        weighted += duration * on_grid
        total += duration
        bout_peaks.append(_pick_peak(frequencies=grid, power=on_grid, band=peak_search_in_Hz, rule=peak_pick))
    if total == 0.0:
        nan = np.full_like(grid, np.nan)
        return InfraslowSpectrum(grid, nan, nan, float("nan"), float("nan"), 0, 0.0, [])
    psd = weighted / total
    below = psd[(grid > 0) & (grid < normalisation_fmax_in_Hz)]
    norm = float(np.percentile(below, normalisation_percentile)) if below.size else float(np.nanmax(psd))
    normalized = psd / norm if norm > 0 else psd
    peak = _pick_peak(frequencies=grid, power=psd, band=peak_search_in_Hz, rule=peak_pick)
    peak_power = float(np.interp(peak, grid, normalized)) if np.isfinite(peak) else float("nan")
    return InfraslowSpectrum(grid, psd, normalized, peak, peak_power, len(bout_peaks), total, bout_peaks)


def oscillation_peaks(
    *,
    values: NDArray[np.floating],
    rate_in_Hz: float,
    bout_ranges: list[tuple[int, int]],
    min_distance_in_s: float = 10.0,
    min_prominence: float = 1.5,
    search: str = "per_bout",
    filter_order: str = "distance_then_prominence",
) -> OscillationPeaks:
    """NE peaks inside NREM bouts (published: distance >= 10 s, prominence >= 1.5 % dF/F).

    Parameters
    ----------
    values : ndarray
        NE dF/F in percent.
    rate_in_Hz : float
        Its rate.
    bout_ranges : list of (int, int)
        Sample ranges searched.
    min_distance_in_s : float
        Minimum distance between peaks.
    min_prominence : float
        Minimum prominence (units of ``values``).
    search : str
        ``"per_bout"`` (each bout alone) or ``"stitched_bouts"`` (the finite bouts joined end to end and
        searched once; a peak at a join is reported at the last sample of the bout before it).
    filter_order : str
        ``"distance_then_prominence"`` (scipy) or ``"prominence_then_distance"`` (MATLAB findpeaks).

    Returns
    -------
    OscillationPeaks
    """
    from ndx_glymphatic.analysis.matlab_compat import matlab_findpeaks

    values = np.asarray(values, dtype=np.float64)
    distance = max(1, round(min_distance_in_s * rate_in_Hz))

    def find(trace: NDArray[np.float64]) -> NDArray[np.int64]:
        if filter_order == "prominence_then_distance":
            return matlab_findpeaks(
                values=trace, rate_in_Hz=rate_in_Hz, min_distance_in_s=min_distance_in_s, min_prominence=min_prominence
            )
        return sps.find_peaks(trace, distance=distance, prominence=min_prominence)[0].astype(np.int64)

    pieces = [(start, values[start:stop]) for start, stop in bout_ranges]
    duration = sum(bout.size for _, bout in pieces) / rate_in_Hz
    usable = [(start, bout) for start, bout in pieces if bout.size >= 3 and np.all(np.isfinite(bout))]
    if search == "stitched_bouts" and usable:
        stitched = np.concatenate([bout for _, bout in usable])
        where = np.concatenate([start + np.arange(bout.size) for start, bout in usable]).astype(np.int64)
        indices = where[find(stitched)]
    else:
        found = [find(bout) + start for start, bout in usable]
        indices = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    rate = indices.size / (duration / 60.0) if duration > 0 else float("nan")
    return OscillationPeaks(indices, int(indices.size), duration, rate)


def oscillation_amplitude(
    *,
    values: NDArray[np.floating],
    bout_ranges: list[tuple[int, int]],
    percentiles: tuple[float, float] = (10.0, 90.0),
    definition: str = "linear",
) -> NDArray[np.float64]:
    """Per-bout amplitude: upper minus lower percentile (published: 90th - 10th).

    Parameters
    ----------
    values : ndarray
        NE dF/F (the high-passed trace, so slow drift does not count as amplitude).
    bout_ranges : list of (int, int)
        Bouts.
    percentiles : tuple of float
        (lower, upper).
    definition : str
        ``"linear"`` (numpy) or ``"matlab_prctile"``
        (:func:`~ndx_glymphatic.analysis.matlab_compat.matlab_prctile`).

    Returns
    -------
    ndarray of float64
        One amplitude per bout (NaN for bouts with no finite sample).
    """
    values = np.asarray(values, dtype=np.float64)
    amplitudes = []
    for start, stop in bout_ranges:
        bout = values[start:stop]
        bout = bout[np.isfinite(bout)]
        if bout.size == 0:
            amplitudes.append(np.nan)
            continue
        if definition == "matlab_prctile":
            from ndx_glymphatic.analysis.matlab_compat import matlab_prctile

            low, high = matlab_prctile(values=bout, percentiles=np.asarray(percentiles))
        else:
            low, high = np.percentile(bout, [percentiles[0], percentiles[1]])
        amplitudes.append(high - low)
    return np.asarray(amplitudes, dtype=np.float64)
