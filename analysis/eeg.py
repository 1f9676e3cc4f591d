"""EEG / EMG: streamed spectrogram, band powers, smoothed band-power envelopes and spindles.

A 24-h EEG at 512 Hz is 44 M samples; nothing here holds it. :func:`stream_features` reads it
once, chunk by chunk (each chunk padded on both sides so that zero-phase filtering is exact away
from the recording edges), and returns only reduced products: a spectrogram (5-s windows, 0.2-Hz
resolution, 2.5-s steps: ~35 k x 151 float32 for 24 h) and smoothed power envelopes at ~32 Hz.

Published spindle recipe: 8-15 Hz 3rd-order Butterworth, squared, 0.25-s moving average,
threshold 0.8 SD (here: mean + 0.8 SD of the smoothed power during NREM), duration 0.5-10 s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

from ndx_glymphatic.analysis.preprocessing import (
    DecimatedSeries,
    SliceableData,
    block_sums,
    moving_mean_of_blocks,
)

__all__ = [
    "BandPower",
    "EnvelopeSpec",
    "Events",
    "Spectrogram",
    "band_power_envelope",
    "band_powers",
    "detect_spindles",
    "eeg_spectrogram",
    "runs_above",
    "stream_features",
]


@dataclass(frozen=True)
class Spectrogram:
    """Power spectral density over time.

    Attributes
    ----------
    times : ndarray
        Window centres in seconds.
    frequencies_in_Hz : ndarray
        Frequencies (0 to fmax).
    power : ndarray of float32
        PSD, windows x frequencies (units^2 / Hz); NaN rows where the window held NaN samples.
    """

    times: NDArray[np.float64]
    frequencies_in_Hz: NDArray[np.float64]
    power: NDArray[np.float32]

    @property
    def step_in_s(self) -> float:
        """Time between windows."""
        return float(self.times[1] - self.times[0]) if self.times.size > 1 else float("nan")


@dataclass(frozen=True)
class EnvelopeSpec:
    """A smoothed power envelope to compute while streaming.

    Attributes
    ----------
    band_in_Hz : tuple of float
        Band-pass edges; ``(low, None)`` means high-pass at ``low``.
    order : int
        Butterworth order (zero-phase, so applied twice).
    smoothing_in_s : float
        Moving average of the squared filtered signal.
    """

    band_in_Hz: tuple[float, float | None]
    order: int = 3
    smoothing_in_s: float = 0.25


@dataclass(frozen=True)
class Events:
    """Detected events.

    Attributes
    ----------
    onsets, offsets : ndarray
        Times in seconds.
    peaks : ndarray
        Peak value of the detection trace inside each event.
    threshold : float
        Detection threshold used.
    """

    onsets: NDArray[np.float64]
    offsets: NDArray[np.float64]
    peaks: NDArray[np.float64]
    threshold: float

    def __len__(self) -> int:
        return int(self.onsets.size)

    @property
    def durations(self) -> NDArray[np.float64]:
        """Event durations in seconds."""
        return self.offsets - self.onsets


def _sos(*, spec: EnvelopeSpec, rate_in_Hz: float) -> NDArray[np.float64]:
    low, high = spec.band_in_Hz
    if high is None:
        return sps.butter(spec.order, low, btype="highpass", fs=rate_in_Hz, output="sos")
    return sps.butter(spec.order, [low, high], btype="bandpass", fs=rate_in_Hz, output="sos")


def stream_features(
    *,
    data: SliceableData,
    rate_in_Hz: float,
    starting_time: float = 0.0,
    scale: float = 1.0,
    spectrogram_window_in_s: float | None = 5.0,
    spectrogram_step_in_s: float = 2.5,
    spectrogram_fmax_in_Hz: float = 30.0,
    envelopes: dict[str, EnvelopeSpec] | None = None,
    envelope_rate_in_Hz: float = 32.0,
    chunk_in_s: float = 600.0,
    progress: Callable[[int], None] | None = None,
) -> tuple[Spectrogram | None, dict[str, DecimatedSeries]]:
    """Read an EEG/EMG stream once; return its spectrogram and smoothed band-power envelopes.

    Parameters
    ----------
    data : SliceableData
        1-D raw samples (ndarray or h5py dataset).
    rate_in_Hz : float
        Sampling rate.
    starting_time : float
        Time of ``data[0]``.
    scale : float
        Multiplies the raw samples (NWB ``conversion``), so powers are in volts^2.
    spectrogram_window_in_s : float or None
        Window length (published: 5 s, Hann); None skips the spectrogram.
    spectrogram_step_in_s : float
        Step between windows.
    spectrogram_fmax_in_Hz : float
        Highest frequency kept.
    envelopes : dict of EnvelopeSpec
        Named envelopes to compute (filtered, squared, moving-averaged, kept at ~``envelope_rate_in_Hz``).
    envelope_rate_in_Hz : float
        Envelope output rate (rounded to a whole block of raw samples).
    chunk_in_s : float
        Approximate seconds read per chunk.
    progress : callable, optional
        Called with raw samples consumed per chunk.

    Returns
    -------
    spectrogram : Spectrogram or None
    envelopes : dict of DecimatedSeries
        Envelope sample ``k`` is centred at raw index ``k D - 0.5`` (``D`` the block size).
    """
    envelopes = envelopes or {}
    n = len(data)
    block = max(1, round(rate_in_Hz / envelope_rate_in_Hz))
    window = round(spectrogram_window_in_s * rate_in_Hz) if spectrogram_window_in_s else 0
    step = max(1, round(spectrogram_step_in_s * rate_in_Hz))
    unit = math.lcm(block, step) if window else block
    chunk = max(unit, int(chunk_in_s * rate_in_Hz) // unit * unit)
    soses = {name: _sos(spec=spec, rate_in_Hz=rate_in_Hz) for name, spec in envelopes.items()}
    lowest = min((spec.band_in_Hz[0] for spec in envelopes.values()), default=1.0)
    pad = round(max(2.0, 10.0 / lowest) * rate_in_Hz)

    n_windows = (n - window) // step + 1 if window and n >= window else 0
    frequencies = np.fft.rfftfreq(window, 1.0 / rate_in_Hz) if window else np.zeros(0)
    keep = frequencies <= spectrogram_fmax_in_Hz + 1e-9
    power = np.full((n_windows, int(keep.sum())), np.nan, dtype=np.float32)
    taper = sps.get_window("hann", window) if window else np.zeros(0)
    density = 2.0 / (rate_in_Hz * float(np.sum(taper**2))) if window else 0.0

    n_blocks = -(-n // block)
    # each envelope's moving mean is finished chunk by chunk (the chunk's blocks plus the window's
    # reach on either side), so only the float32 output is ever as long as the recording
    window_blocks = {name: max(1, round(spec.smoothing_in_s * rate_in_Hz / block)) for name, spec in envelopes.items()}
    reach = max(window_blocks.values(), default=0) * block
    outputs = {name: np.full(n_blocks, np.nan, dtype=np.float32) for name in envelopes}

    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        read_start = max(0, a - pad - reach)
        read_stop = min(n, b + max(pad + reach, window))
        raw = np.asarray(data[read_start:read_stop], dtype=np.float64) * scale
        if window and n_windows:
            first = a // step
            last = min(n_windows, -(-b // step))
            if last > first:
                offset = first * step - read_start
                span = (last - 1 - first) * step + window
                segment = raw[offset : offset + span]
                frames = np.lib.stride_tricks.sliding_window_view(segment, window)[::step]
                frames = frames - frames.mean(axis=1, keepdims=True)
                spectrum = np.abs(np.fft.rfft(frames * taper, axis=1)[:, keep]) ** 2 * density
                spectrum[:, 0] /= 2.0
                power[first:last] = spectrum.astype(np.float32)
        if envelopes:
            finite = np.isfinite(raw)
            filled = np.where(finite, raw, 0.0)
            first_block = a // block
            last_block = -(-b // block)
            for name, sos in soses.items():
                width = window_blocks[name]
                half = width // 2
                low_block = max(0, first_block - half)
                high_block = min(n_blocks, last_block + width - half)
                low, high = low_block * block, min(n, high_block * block)
                filtered = sps.sosfiltfilt(sos, filled, padlen=min(filled.size - 1, 3 * sos.shape[0] * 2))
                squared = np.where(finite, filtered**2, np.nan)[low - read_start : high - read_start]
                local_sums, local_counts = block_sums(data=squared, factor=block, chunk_samples=squared.size)
                smoothed = moving_mean_of_blocks(sums=local_sums, counts=local_counts, window_blocks=width)
                outputs[name][first_block:last_block] = smoothed[first_block - low_block : last_block - low_block]
        if progress is not None:
            progress(b - a)

    spectrogram = None
    if window:
        centres = starting_time + (np.arange(n_windows) * step + (window - 1) / 2.0) / rate_in_Hz
        spectrogram = Spectrogram(times=centres, frequencies_in_Hz=frequencies[keep], power=power)
    out = {
        name: DecimatedSeries(
            values=values, rate_in_Hz=rate_in_Hz / block, starting_time=starting_time - 0.5 / rate_in_Hz
        )
        for name, values in outputs.items()
    }
    return spectrogram, out


def eeg_spectrogram(
    *,
    data: SliceableData,
    rate_in_Hz: float,
    starting_time: float = 0.0,
    scale: float = 1.0,
    window_in_s: float = 5.0,
    step_in_s: float = 2.5,
    fmax_in_Hz: float = 30.0,
    chunk_in_s: float = 600.0,
) -> Spectrogram:
    """Streamed Hann-window spectrogram (published: 5-s windows, 0.2-Hz steps up to 30 Hz).

    Parameters
    ----------
    data : SliceableData
        EEG samples.
    rate_in_Hz, starting_time, scale
        Stream description.
    window_in_s, step_in_s, fmax_in_Hz : float
        Window, step and highest frequency.
    chunk_in_s : float
        Seconds per read.

    Returns
    -------
    Spectrogram
    """
    spectrogram, _ = stream_features(
        data=data,
        rate_in_Hz=rate_in_Hz,
        starting_time=starting_time,
        scale=scale,
        spectrogram_window_in_s=window_in_s,
        spectrogram_step_in_s=step_in_s,
        spectrogram_fmax_in_Hz=fmax_in_Hz,
        chunk_in_s=chunk_in_s,
    )
    assert spectrogram is not None
    return spectrogram


def band_power_envelope(
    *,
    data: SliceableData,
    rate_in_Hz: float,
    band_in_Hz: tuple[float, float | None],
    order: int = 3,
    smoothing_in_s: float = 0.25,
    starting_time: float = 0.0,
    scale: float = 1.0,
    output_rate_in_Hz: float = 32.0,
    chunk_in_s: float = 600.0,
) -> DecimatedSeries:
    """Streamed zero-phase band-pass (or high-pass), squared, moving-averaged power envelope.

    Parameters
    ----------
    data : SliceableData
        Raw samples.
    rate_in_Hz : float
        Their rate.
    band_in_Hz : tuple
        ``(low, high)`` band-pass or ``(low, None)`` high-pass.
    order : int
        Butterworth order.
    smoothing_in_s : float
        Moving-average width.
    starting_time, scale
        Stream description.
    output_rate_in_Hz : float
        Envelope rate.
    chunk_in_s : float
        Seconds per read.

    Returns
    -------
    DecimatedSeries
    """
    _, envelopes = stream_features(
        data=data,
        rate_in_Hz=rate_in_Hz,
        starting_time=starting_time,
        scale=scale,
        spectrogram_window_in_s=None,
        envelopes={"band": EnvelopeSpec(band_in_Hz=band_in_Hz, order=order, smoothing_in_s=smoothing_in_s)},
        envelope_rate_in_Hz=output_rate_in_Hz,
        chunk_in_s=chunk_in_s,
    )
    return envelopes["band"]


@dataclass(frozen=True)
class BandPower:
    """EEG band power over time: one value per spectrogram window and band.

    Attributes
    ----------
    times : ndarray
        Window centres in seconds (regular: the spectrogram step).
    powers : dict of ndarray
        ``{band name: power (V^2) per window}``, from :func:`band_powers`.
    """

    times: NDArray[np.float64]
    powers: dict[str, NDArray[np.float64]]


def band_powers(*, spectrogram: Spectrogram, bands: dict[str, tuple[float, float]]) -> dict[str, NDArray[np.float64]]:
    """Band power over time: the PSD integrated over ``[low, high)`` in each window.

    Parameters
    ----------
    spectrogram : Spectrogram
        From :func:`eeg_spectrogram`.
    bands : dict
        ``{name: (low_in_Hz, high_in_Hz)}``.

    Returns
    -------
    dict of ndarray
        One value per window (units^2).
    """
    frequencies = spectrogram.frequencies_in_Hz
    resolution = float(frequencies[1] - frequencies[0]) if frequencies.size > 1 else 1.0
    out = {}
    for name, (low, high) in bands.items():
        inside = (frequencies >= low) & (frequencies < high)
        out[name] = spectrogram.power[:, inside].astype(np.float64).sum(axis=1) * resolution
    return out


def log_magnitude_band(
    *, spectrogram: Spectrogram, band: tuple[float, float], normalisation_in_s: float, fmax_in_Hz: float = 30.0
) -> NDArray[np.float64]:
    """Kjaerby-lab sigma trace: mean over the band's bins of log |STFT|, normalised.

    ``log |S| = 0.5 log(PSD)`` plus a constant per bin; the band mean takes the bins from ``low`` to
    ``high`` inclusive (MATLAB ``find(F == low):find(F == high)``), and the trace is divided by minus
    the mean log magnitude over 0-``fmax_in_Hz`` of the windows up to ``normalisation_in_s`` after the
    first, then shifted by 2 (Spindles_and_correlation.m).

    Parameters
    ----------
    spectrogram : Spectrogram
        From :func:`eeg_spectrogram`.
    band : tuple of float
        (low, high), in Hz, both included.
    normalisation_in_s : float
        Leading stretch of the normalisation.
    fmax_in_Hz : float
        Upper end of the normalisation band.

    Returns
    -------
    ndarray of float64
        One value per window.
    """
    frequencies = spectrogram.frequencies_in_Hz
    with np.errstate(divide="ignore", invalid="ignore"):
        log_magnitude = 0.5 * np.log(spectrogram.power.astype(np.float64))
    log_magnitude[~np.isfinite(log_magnitude)] = np.nan
    tolerance = 1e-9
    inside = (frequencies >= band[0] - tolerance) & (frequencies <= band[1] + tolerance)
    trace = np.nanmean(log_magnitude[:, inside], axis=1)
    leading = spectrogram.times <= spectrogram.times[0] + normalisation_in_s if spectrogram.times.size else []
    all_bins = frequencies <= fmax_in_Hz + tolerance
    factor = float(np.nanmean(log_magnitude[np.ix_(leading, all_bins)])) if np.any(leading) else float("nan")
    if not np.isfinite(factor) or factor == 0:
        return trace
    return trace / -factor + 2.0


def runs_above(*, mask: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start and stop (exclusive) indices of runs of True.

    Parameters
    ----------
    mask : ndarray of bool

    Returns
    -------
    starts, stops : ndarray of int
    """
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def detect_spindles(
    *,
    envelope: DecimatedSeries,
    nrem_mask: NDArray[np.bool_],
    threshold_sd: float = 0.8,
    min_duration_in_s: float = 0.5,
    max_duration_in_s: float = 10.0,
) -> Events:
    """Spindles: runs of the smoothed sigma power above mean + ``threshold_sd`` SD during NREM.

    Parameters
    ----------
    envelope : DecimatedSeries
        Smoothed squared 8-15 Hz EEG (:func:`band_power_envelope` with the published settings).
    nrem_mask : ndarray of bool
        True for envelope samples inside NREM; thresholds come from these samples and spindles
        are searched only there.
    threshold_sd : float
        Threshold in SDs above the NREM mean (published: 0.8).
    min_duration_in_s, max_duration_in_s : float
        Accepted durations (published: 0.5-10 s).

    Returns
    -------
    Events
    """
    values = envelope.values
    nrem_mask = np.asarray(nrem_mask, dtype=bool) & np.isfinite(values)
    if not np.any(nrem_mask):
        empty = np.zeros(0)
        return Events(empty, empty, empty, float("nan"))
    reference = values[nrem_mask]
    threshold = float(reference.mean() + threshold_sd * reference.std())
    starts, stops = runs_above(mask=nrem_mask & (values > threshold))
    durations = (stops - starts) / envelope.rate_in_Hz
    keep = (durations >= min_duration_in_s) & (durations <= max_duration_in_s)
    starts, stops = starts[keep], stops[keep]
    peaks = np.array([values[a:b].max() for a, b in zip(starts, stops)])
    onsets = np.asarray(envelope.time_of(starts), dtype=np.float64)
    return Events(onsets, np.asarray(envelope.time_of(stops), dtype=np.float64), peaks, threshold)
