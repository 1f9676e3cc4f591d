"""MATLAB's conventions, reimplemented from their documented definitions, for the exact published presets.

The Kjaerby-lab code (github.com/MieAndersen/NE-oscillations, github.com/kjaerbylab/kjaerbylab-analysis-templates)
calls four MATLAB functions whose conventions differ from numpy/scipy defaults:

- ``pwelch(x, [], [], f, fs)``: Hamming segments of ``fix(N / 4.5)`` samples, ``fix(L / 2)`` overlap,
  ``fix((N - noverlap) / (L - noverlap))`` segments (8 when N divides evenly, often 7), no per-segment
  detrend, the DFT evaluated at the requested frequencies (Goertzel, not FFT bins) and, for a
  frequency vector, the two-sided density ``|X(f)|^2 / (U fs)`` with ``U = sum(w^2)``;
- ``prctile(x, p)``: sorted values sit at percentiles ``100 (k - 0.5) / n``; linear interpolation in
  between, the end values outside;
- ``findpeaks(y, x, 'MinPeakDistance', d, 'MinPeakProminence', p)``: all local maxima (a plateau counts
  once, at its first sample), then the prominence filter, then the distance filter (tallest first, every
  peak within ``<= d`` of a kept one dropped) -- scipy applies distance before prominence;
- ``zscore`` / ``unity``: the standard deviation with ``N - 1``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

__all__ = [
    "matlab_findpeaks",
    "matlab_prctile",
    "matlab_pwelch_default",
    "pwelch_default_segmentation",
    "zscore",
]


def pwelch_default_segmentation(*, n_samples: int) -> tuple[int, int, int]:
    """MATLAB ``pwelch``'s default segments for ``n_samples`` samples.

    Parameters
    ----------
    n_samples : int
        Length of the signal.

    Returns
    -------
    segment, overlap, n_segments : int
        ``L = fix(N / 4.5)``, ``noverlap = fix(L / 2)``, ``K = fix((N - noverlap) / (L - noverlap))``.
    """
    segment = int(n_samples // 4.5)
    overlap = segment // 2
    if segment < 2:
        return n_samples, 0, 1
    return segment, overlap, (n_samples - overlap) // (segment - overlap)


def matlab_pwelch_default(
    *, values: NDArray[np.floating], rate_in_Hz: float, frequencies_in_Hz: NDArray[np.floating]
) -> NDArray[np.float64]:
    """``pwelch(x, [], [], f, fs)``: default segmentation, DFT at each requested frequency.

    Parameters
    ----------
    values : ndarray
        The signal (not detrended here: MATLAB does not).
    rate_in_Hz : float
        ``fs``.
    frequencies_in_Hz : ndarray
        ``f``, any frequencies.

    Returns
    -------
    ndarray
        Two-sided PSD (units^2 / Hz) at each frequency, as MATLAB returns for a frequency vector.
    """
    values = np.asarray(values, dtype=np.float64)
    frequencies = np.asarray(frequencies_in_Hz, dtype=np.float64)
    segment, overlap, n_segments = pwelch_default_segmentation(n_samples=values.size)
    window = np.hamming(segment)  # symmetric, as MATLAB's hamming(L)
    step = segment - overlap
    frames = np.stack([values[k * step : k * step + segment] for k in range(n_segments)])
    kernel = np.exp(-2j * np.pi * np.outer(np.arange(segment), frequencies) / rate_in_Hz)
    spectra = np.abs((frames * window) @ kernel) ** 2
    return spectra.mean(axis=0) / (float(np.sum(window**2)) * rate_in_Hz)


def matlab_prctile(*, values: NDArray[np.floating], percentiles: float | NDArray[np.floating]) -> NDArray[np.float64]:
    """``prctile(x, p)`` of MATLAB (Statistics Toolbox): the ``(k - 0.5) / n`` definition.

    Parameters
    ----------
    values : ndarray
        Sample (NaNs are the caller's business).
    percentiles : float or ndarray
        In 0-100.

    Returns
    -------
    ndarray of float64
        One value per percentile (shape of ``percentiles``).
    """
    ordered = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = ordered.size
    positions = 100.0 * (np.arange(1, n + 1) - 0.5) / n
    return np.asarray(np.interp(np.asarray(percentiles, dtype=np.float64), positions, ordered))


def _local_maxima_first_of_plateau(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """Indices of local maxima; a flat top counts once, at its first sample; ends are never peaks."""
    if values.size < 3:
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(values) != 0) + 1))  # first sample of each run
    runs = values[starts]
    rising = np.diff(runs) > 0
    peaks = np.flatnonzero(rising[:-1] & ~rising[1:]) + 1
    return starts[peaks].astype(np.int64)


def matlab_findpeaks(
    *, values: NDArray[np.floating], rate_in_Hz: float, min_distance_in_s: float, min_prominence: float
) -> NDArray[np.int64]:
    """``findpeaks(y, t, 'MinPeakDistance', d, 'MinPeakProminence', p)`` with ``t`` in seconds.

    Prominence (MATLAB's and scipy's common definition) is applied to all local maxima first; the
    distance filter then keeps the tallest peaks, dropping every other within ``<= d`` of a kept one.

    Parameters
    ----------
    values : ndarray
        ``y`` (finite).
    rate_in_Hz : float
        ``t = (1:N) / rate``.
    min_distance_in_s, min_prominence : float
        The two options.

    Returns
    -------
    ndarray of int64
        Peak indices, ascending.
    """
    values = np.asarray(values, dtype=np.float64)
    peaks = _local_maxima_first_of_plateau(values)
    if peaks.size == 0:
        return peaks
    prominences = sps.peak_prominences(values, peaks)[0]
    peaks = peaks[prominences >= min_prominence]
    if peaks.size == 0 or min_distance_in_s <= 0:
        return peaks
    order = np.argsort(-values[peaks], kind="stable")
    times = peaks[order] / rate_in_Hz
    deleted = np.zeros(order.size, dtype=bool)
    for i in range(order.size):
        if not deleted[i]:
            deleted |= np.abs(times - times[i]) <= min_distance_in_s + 1e-12
            deleted[i] = False
    return np.sort(peaks[order[~deleted]])


def zscore(*, values: NDArray[np.floating], ddof: int) -> NDArray[np.float64]:
    """``(x - mean) / std`` with the standard deviation's ``ddof`` (MATLAB: 1); a constant gives zeros.

    Parameters
    ----------
    values : ndarray
    ddof : int
        0 (numpy's default) or 1 (MATLAB's ``std``, ``zscore``).

    Returns
    -------
    ndarray of float64
    """
    values = np.asarray(values, dtype=np.float64)
    sd = values.std(ddof=ddof) if values.size > ddof else 0.0
    return (values - values.mean()) / sd if sd > 0 else values * 0.0
