"""High-rate samples of a simulated session, generated block by block.

Samples are produced in fixed generation blocks of :data:`BLOCK_SAMPLES` samples. Block ``k`` of a
channel is a pure function of the session's latent traces and of a random stream seeded by
``(seed, channel, k)``, so any slice ``[start, stop)`` and any chunking give identical values.
Filtered noise (EEG bands, EMG) is continuous across blocks: block ``k`` filters its own white
noise together with the tail of block ``k - 1``'s white noise (overlap-save).

Sample ``i`` of every stream is at ``i / rate`` seconds (starting time 0).
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable, Iterator

import numpy as np
from scipy import fft as sp_fft
from scipy import signal

from ndx_glymphatic.simulation.channels import electrode_channels, photometry_channel
from ndx_glymphatic.simulation.latents import EventTimes, SimulatedSession

__all__ = [
    "BLOCK_SAMPLES",
    "EEG_BANDS_HZ",
    "ephys_samples",
    "iter_ephys_chunks",
    "iter_photometry_chunks",
    "n_samples",
    "photometry_samples",
]

#: Samples per generation block (chunks that are multiples of it waste nothing).
BLOCK_SAMPLES: int = 65_536

#: Pass bands of the EEG components (the ``background`` component is 1/f noise).
EEG_BANDS_HZ: dict[str, tuple[float, float]] = {
    "delta": (0.5, 4.0),
    "theta": (5.0, 9.0),
    "sigma": (10.0, 15.0),
    "beta": (16.0, 30.0),
}
_EMG_BAND_HZ = (20.0, 200.0)

# Relative weight of each EEG component and of spindles per channel (frontal, parietal).
_EEG_CHANNEL_WEIGHTS: dict[str, dict[str, float]] = {
    "EEG1": {"delta": 1.0, "theta": 0.8, "sigma": 1.0, "beta": 1.0, "background": 1.0, "spindles": 1.0},
    "EEG2": {"delta": 0.8, "theta": 1.2, "sigma": 0.7, "beta": 0.9, "background": 1.0, "spindles": 0.6},
}


def n_samples(*, session: SimulatedSession, stream: str) -> int:
    """Samples in ``stream``: ``"photometry"`` (per channel), ``"EEG"`` or ``"EMG"``."""
    if stream == "photometry":
        return session.n_photometry_samples
    electrode_channels(series=stream)
    return session.n_ephys_samples


def _key(name: str) -> int:
    return zlib.crc32(name.encode())


def _interpolate(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` at fractional sample ``positions`` (held constant past the end)."""
    first = int(positions[0]) if len(positions) else 0
    last = min(len(values), int(positions[-1]) + 2) if len(positions) else 0
    window = np.arange(first, last, dtype=np.float64)
    return np.interp(positions, window, values[first:last])


def _latent_positions(*, session: SimulatedSession, rate_in_Hz: float, first: int, n: int) -> np.ndarray:
    return (first + np.arange(n, dtype=np.float64)) * (session.latents.rate_in_Hz / rate_in_Hz)


# --------------------------------------------------------------------------------------------
# generic slicing / chunking over generation blocks


def _slice(*, block: Callable[[int], np.ndarray], total: int, start: int, stop: int, name: str) -> np.ndarray:
    if not 0 <= start <= stop <= total:
        raise ValueError(f"{name}: need 0 <= start <= stop <= {total}, got start={start}, stop={stop}")
    if start == stop:
        return block(0)[:0]
    first, last = start // BLOCK_SAMPLES, (stop - 1) // BLOCK_SAMPLES
    pieces = [block(k) for k in range(first, last + 1)]
    data = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=0)
    offset = first * BLOCK_SAMPLES
    return data[start - offset : stop - offset]


def _chunks(
    *,
    block: Callable[[int], np.ndarray],
    total: int,
    start: int,
    stop: int | None,
    chunk_samples: int,
    name: str,
) -> Iterator[np.ndarray]:
    stop = total if stop is None else stop
    if chunk_samples <= 0:
        raise ValueError(f"{name}: chunk_samples must be > 0, got {chunk_samples}")
    if not 0 <= start <= stop <= total:
        raise ValueError(f"{name}: need 0 <= start <= stop <= {total}, got start={start}, stop={stop}")
    buffer: list[np.ndarray] = []
    buffered = 0
    k = start // BLOCK_SAMPLES
    skip = start - k * BLOCK_SAMPLES
    remaining = stop - start
    while remaining > 0:
        piece = block(k)[skip:]
        skip = 0
        k += 1
        piece = piece[:remaining]
        remaining -= len(piece)
        buffer.append(piece)
        buffered += len(piece)
        while buffered >= chunk_samples:
            data = np.concatenate(buffer, axis=0) if len(buffer) > 1 else buffer[0]
            yield data[:chunk_samples]
            rest = data[chunk_samples:]
            buffer, buffered = ([rest], len(rest)) if len(rest) else ([], 0)
    if buffered:
        yield np.concatenate(buffer, axis=0) if len(buffer) > 1 else buffer[0]


# --------------------------------------------------------------------------------------------
# photometry


def _photometry_block(session: SimulatedSession, channel: str, k: int) -> np.ndarray:
    spec = photometry_channel(name=channel)
    p = session.parameters
    first = k * BLOCK_SAMPLES
    n = max(0, min(BLOCK_SAMPLES, session.n_photometry_samples - first))
    positions = _latent_positions(session=session, rate_in_Hz=p.photometry_rate_in_Hz, first=first, n=n)
    clean = _interpolate(session.latents.fluorescence_V[channel], positions)
    rng = np.random.default_rng([p.seed, _key("photometry/" + channel), k])
    noise = rng.standard_normal(n, dtype=np.float32)
    clean += spec.noise_in_V * noise
    return clean


def photometry_samples(*, session: SimulatedSession, channel: str, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of one photometry channel, volts.

    Parameters
    ----------
    session : SimulatedSession
    channel : str
        A name from :data:`~ndx_glymphatic.simulation.PHOTOMETRY_CHANNELS` (``"ne_465nm"``, ...).
    start, stop : int
        Sample indices (sample ``i`` is at ``i / photometry_rate_in_Hz`` s).

    Returns
    -------
    ndarray of float64, shape (stop - start,)
    """
    photometry_channel(name=channel)
    return _slice(
        block=functools.partial(_photometry_block, session, channel),
        total=session.n_photometry_samples,
        start=start,
        stop=stop,
        name=channel,
    )


def iter_photometry_chunks(
    *,
    session: SimulatedSession,
    channel: str,
    chunk_samples: int = 16 * BLOCK_SAMPLES,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield one photometry channel in order, 1-D float64 arrays of ``chunk_samples`` (last one shorter).

    Concatenating the chunks equals ``photometry_samples(start=start, stop=stop)`` for any
    ``chunk_samples``; multiples of :data:`BLOCK_SAMPLES` are the fastest.
    """
    photometry_channel(name=channel)
    return _chunks(
        block=functools.partial(_photometry_block, session, channel),
        total=session.n_photometry_samples,
        start=start,
        stop=stop,
        chunk_samples=chunk_samples,
        name=channel,
    )


# --------------------------------------------------------------------------------------------
# EEG / EMG


def _filter_length(rate_in_Hz: float) -> int:
    return 2 * round(rate_in_Hz) + 1


@functools.lru_cache(maxsize=8)
def _filter_bank(rate_in_Hz: float, series: str) -> tuple[tuple[str, ...], np.ndarray, int]:
    """Unit-energy FIR filters (one per component) and their spectra for overlap-save, cached per rate."""
    taps = _filter_length(rate_in_Hz)
    nyquist = rate_in_Hz / 2.0
    names: list[str] = []
    filters: list[np.ndarray] = []
    if series == "EEG":
        for band, (low, high) in EEG_BANDS_HZ.items():
            names.append(band)
            filters.append(signal.firwin(taps, [low, min(high, 0.9 * nyquist)], pass_zero=False, fs=rate_in_Hz))
        top = min(100.0, 0.9 * nyquist)
        freqs = np.array([0.0, 0.4, 0.5, *np.geomspace(1.0, top, 20), min(top * 1.1, nyquist), nyquist])
        gains = np.concatenate([[0.0, 0.0], 1.0 / np.sqrt(np.array([0.5, *np.geomspace(1.0, top, 20)])), [0.0, 0.0]])
        order = np.argsort(freqs)
        freqs, gains = freqs[order], gains[order]
        freqs, unique = np.unique(freqs, return_index=True)
        names.append("background")
        filters.append(signal.firwin2(taps, freqs, gains[unique], fs=rate_in_Hz))
    else:
        names.append("emg")
        filters.append(
            signal.firwin(taps, [_EMG_BAND_HZ[0], min(_EMG_BAND_HZ[1], 0.9 * nyquist)], pass_zero=False, fs=rate_in_Hz)
        )
    bank = np.array([h / np.sqrt(np.sum(h * h)) for h in filters])
    size = sp_fft.next_fast_len(BLOCK_SAMPLES + taps - 1, real=True)
    spectra = sp_fft.rfft(bank.astype(np.float32), size, axis=1)
    return tuple(names), spectra, size


def _white(seed: int, channel: str, k: int) -> np.ndarray:
    rng = np.random.default_rng([seed, _key("ephys/" + channel), k + 1])
    return rng.standard_normal(BLOCK_SAMPLES, dtype=np.float32)


def _band_noise(*, session: SimulatedSession, series: str, channel: str, k: int) -> tuple[tuple[str, ...], np.ndarray]:
    """Unit-variance band-limited noise per component for block ``k``, shape (components, BLOCK_SAMPLES)."""
    rate = session.parameters.ephys_rate_in_Hz
    names, spectra, size = _filter_bank(rate, series)
    taps = _filter_length(rate)
    seed = session.parameters.seed
    x = np.concatenate([_white(seed, channel, k - 1)[-(taps - 1) :], _white(seed, channel, k)])
    filtered = sp_fft.irfft(sp_fft.rfft(x, size) * spectra, size, axis=1)
    return names, filtered[:, taps - 1 : taps - 1 + BLOCK_SAMPLES]


def _add_bursts(
    *, out: np.ndarray, events: EventTimes, first: int, rate_in_Hz: float, weight: float, carrier: bool
) -> None:
    """Add sin^2-windowed bursts (spindles with their carrier, or twitch envelopes) overlapping the block."""
    t0, t1 = first / rate_in_Hz, (first + len(out)) / rate_in_Hz
    ends = events.onsets_in_s + events.durations_in_s
    selected = np.flatnonzero((events.onsets_in_s < t1) & (ends > t0))
    for i in selected:
        onset, length = events.onsets_in_s[i], events.durations_in_s[i]
        i0 = max(0, math.ceil(onset * rate_in_Hz) - first)
        i1 = min(len(out), math.ceil((onset + length) * rate_in_Hz) - first)
        if i1 <= i0:
            continue
        elapsed = (first + np.arange(i0, i1)) / rate_in_Hz - onset
        window = np.sin(np.pi * elapsed / length) ** 2
        if carrier:
            window = window * np.sin(2.0 * np.pi * events.frequencies_in_Hz[i] * elapsed)
        out[i0:i1] += weight * events.amplitudes[i] * window


def _ephys_block(session: SimulatedSession, series: str, k: int) -> np.ndarray:
    p = session.parameters
    rate = p.ephys_rate_in_Hz
    first = k * BLOCK_SAMPLES
    n = max(0, min(BLOCK_SAMPLES, session.n_ephys_samples - first))
    positions = _latent_positions(session=session, rate_in_Hz=rate, first=first, n=n)
    channels = electrode_channels(series=series)
    out = np.zeros((n, len(channels)))
    if n == 0:
        return out
    if series == "EEG":
        envelopes = {band: _interpolate(a, positions) for band, a in session.latents.eeg_amplitudes_V.items()}
    else:
        tone = _interpolate(session.latents.emg_amplitude_V, positions)
        _add_bursts(out=tone, events=session.twitches, first=first, rate_in_Hz=rate, weight=1.0, carrier=False)
    for column, spec in enumerate(channels):
        names, noise = _band_noise(session=session, series=series, channel=spec.name, k=k)
        if series == "EEG":
            weights = _EEG_CHANNEL_WEIGHTS[spec.name]
            for row, band in enumerate(names):
                out[:, column] += weights[band] * envelopes[band] * noise[row, :n]
            _add_bursts(
                out=out[:, column],
                events=session.spindles,
                first=first,
                rate_in_Hz=rate,
                weight=weights["spindles"],
                carrier=True,
            )
        else:
            out[:, column] = tone * noise[0, :n]
    return out


def ephys_samples(*, session: SimulatedSession, series: str, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of the EEG or EMG channels, volts.

    Parameters
    ----------
    session : SimulatedSession
    series : str
        ``"EEG"`` (channels EEG1 frontal, EEG2 parietal) or ``"EMG"`` (one channel).
    start, stop : int
        Sample indices (sample ``i`` is at ``i / ephys_rate_in_Hz`` s).

    Returns
    -------
    ndarray of float64, shape (stop - start, n_channels)
    """
    electrode_channels(series=series)
    return _slice(
        block=functools.partial(_ephys_block, session, series),
        total=session.n_ephys_samples,
        start=start,
        stop=stop,
        name=series,
    )


def iter_ephys_chunks(
    *,
    session: SimulatedSession,
    series: str,
    chunk_samples: int = 4 * BLOCK_SAMPLES,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield the EEG or EMG channels in order, ``(n, n_channels)`` float64 arrays in volts.

    Concatenating the chunks equals ``ephys_samples(start=start, stop=stop)`` for any ``chunk_samples``.
    """
    electrode_channels(series=series)
    return _chunks(
        block=functools.partial(_ephys_block, session, series),
        total=session.n_ephys_samples,
        start=start,
        stop=stop,
        chunk_samples=chunk_samples,
        name=series,
    )
