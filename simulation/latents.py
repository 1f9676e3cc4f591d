"""Slow latent traces of a simulated session (hypnogram, NE, blood volume, CSF tracer, EEG envelopes).

Everything here runs at ``latent_rate_in_Hz`` (10 Hz by default: 864 000 samples for 24 h) and is
vectorised; the high-rate samples in :mod:`ndx_glymphatic.simulation.streams` are interpolated
from these traces plus noise.
"""

from __future__ import annotations

import itertools
import math
import zlib
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, signal, stats

from ndx_glymphatic.simulation.channels import INDICATORS, PHOTOMETRY_CHANNELS
from ndx_glymphatic.simulation.parameters import SimulationParameters
from ndx_glymphatic.simulation.truth import GroundTruth, SleepInterval, StimulationEpoch

__all__ = [
    "STATE_CODES",
    "STATE_NAMES",
    "EventTimes",
    "Latents",
    "SimulatedSession",
    "drug_effect",
    "simulate_session",
    "tracer_curve",
]

#: Integer code of each state in :attr:`Latents.sleep_state`.
STATE_CODES: dict[str, int] = {"wake": 0, "NREM": 1, "REM": 2, "micro-arousal": 3}
#: State name per code.
STATE_NAMES: tuple[str, ...] = ("wake", "NREM", "REM", "micro-arousal")
_WAKE, _NREM, _REM, _MA = 0, 1, 2, 3

# EEG / EMG amplitude (standard deviation, volts) per state: wake, NREM, REM, micro-arousal.
_EEG_BAND_AMPLITUDES_V: dict[str, tuple[float, float, float, float]] = {
    "delta": (25e-6, 90e-6, 20e-6, 30e-6),
    "theta": (30e-6, 20e-6, 70e-6, 30e-6),
    "sigma": (8e-6, 18e-6, 8e-6, 8e-6),
    "beta": (15e-6, 6e-6, 10e-6, 15e-6),
    "background": (15e-6, 15e-6, 12e-6, 15e-6),
}
_EMG_AMPLITUDES_V: tuple[float, float, float, float] = (40e-6, 10e-6, 3e-6, 30e-6)


@dataclass(frozen=True)
class EventTimes:
    """Discrete events drawn by the simulator (spindles, twitches, motion artefacts).

    Attributes
    ----------
    onsets_in_s, durations_in_s : ndarray
        Event start and length, seconds.
    amplitudes : ndarray
        Peak amplitude (volts for spindles and twitches, fractional drop for motion artefacts).
    frequencies_in_Hz : ndarray
        Carrier frequency (spindles); zeros otherwise.
    """

    onsets_in_s: np.ndarray
    durations_in_s: np.ndarray
    amplitudes: np.ndarray
    frequencies_in_Hz: np.ndarray

    def __len__(self) -> int:
        return len(self.onsets_in_s)


@dataclass(frozen=True)
class Latents:
    """Slow traces sampled at ``rate_in_Hz`` from time 0.

    Attributes
    ----------
    rate_in_Hz : float
        Sampling rate of every trace here.
    sleep_state : ndarray of int8
        State code per sample (:data:`STATE_CODES`).
    drug_effect : ndarray
        Zolpidem effect 0..1 (all zeros under vehicle).
    ne_phase_rad : ndarray
        Phase of the infraslow oscillator (NE oscillation = ``cos(phase)``).
    ne_percent, blood_volume_percent, csf_tracer_percent : ndarray
        NE, blood volume and CSF tracer in % dF/F (NE and blood volume relative to the NREM mean,
        CSF tracer relative to the pre-infusion autofluorescence).
    tracer_curve_percent : ndarray
        The noiseless, unmodulated tracer curve (source of the true rise time).
    sigma_envelope : ndarray
        Relative sigma-band amplitude (1 = NREM mean).
    motion_artefact : ndarray
        Fractional drop of every photometry channel caused by movement (0 = none).
    eeg_amplitudes_V : dict of str to ndarray
        Standard deviation of each EEG band component (``delta``, ``theta``, ``sigma``, ``beta``,
        ``background``).
    emg_amplitude_V : ndarray
        Standard deviation of the EMG tone (twitches are added at full rate).
    fluorescence_V : dict of str to ndarray
        Noiseless demodulated photometry signal per channel name (bleaching, motion and response).
    """

    rate_in_Hz: float
    sleep_state: np.ndarray
    drug_effect: np.ndarray
    ne_phase_rad: np.ndarray
    ne_percent: np.ndarray
    blood_volume_percent: np.ndarray
    csf_tracer_percent: np.ndarray
    tracer_curve_percent: np.ndarray
    sigma_envelope: np.ndarray
    motion_artefact: np.ndarray
    eeg_amplitudes_V: dict[str, np.ndarray] = field(repr=False)
    emg_amplitude_V: np.ndarray = field(repr=False)
    fluorescence_V: dict[str, np.ndarray] = field(repr=False)

    @property
    def times_in_s(self) -> np.ndarray:
        """Sample times, seconds."""
        return np.arange(len(self.sleep_state)) / self.rate_in_Hz


@dataclass(frozen=True)
class SimulatedSession:
    """A simulated session: parameters, latent traces, events and ground truth.

    High-rate samples are not stored: draw them with
    :func:`~ndx_glymphatic.simulation.photometry_samples` / :func:`~ndx_glymphatic.simulation.ephys_samples`
    or stream them with the ``iter_*_chunks`` functions.

    Attributes
    ----------
    parameters : SimulationParameters
    ground_truth : GroundTruth
    latents : Latents
    spindles, twitches, motion_artefacts : EventTimes
    """

    parameters: SimulationParameters
    ground_truth: GroundTruth
    latents: Latents = field(repr=False)
    spindles: EventTimes = field(repr=False)
    twitches: EventTimes = field(repr=False)
    motion_artefacts: EventTimes = field(repr=False)

    @property
    def session_id(self) -> str:
        """Identifier, e.g. ``"sim-seed0-vehicle"``."""
        return self.ground_truth.session_id

    @property
    def n_photometry_samples(self) -> int:
        """Samples per photometry channel."""
        return math.floor(self.parameters.duration_in_s * self.parameters.photometry_rate_in_Hz)

    @property
    def n_ephys_samples(self) -> int:
        """Samples per EEG / EMG channel."""
        return math.floor(self.parameters.duration_in_s * self.parameters.ephys_rate_in_Hz)


# --------------------------------------------------------------------------------------------
# small helpers


def _rng(*, seed: int, stream: str) -> np.random.Generator:
    """An independent random stream per component, so changing one leaves the others intact."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def _lowpass(
    x: np.ndarray, *, time_constant_in_s: float, rate_in_Hz: float, initial: float | None = None
) -> np.ndarray:
    """Causal first-order low-pass (exponential smoothing)."""
    alpha = 1.0 - math.exp(-1.0 / (time_constant_in_s * rate_in_Hz))
    start = x[0] if initial is None else initial
    y, _ = signal.lfilter([alpha], [1.0, alpha - 1.0], x, zi=[start * (1.0 - alpha)])
    return y


def _ornstein_uhlenbeck(
    *, rng: np.random.Generator, n: int, time_constant_in_s: float, rate_in_Hz: float
) -> np.ndarray:
    """Unit-variance Ornstein-Uhlenbeck process (stationary from the first sample)."""
    a = math.exp(-1.0 / (time_constant_in_s * rate_in_Hz))
    innovations = rng.standard_normal(n) * math.sqrt(1.0 - a * a)
    innovations[0] = rng.standard_normal()
    y, _ = signal.lfilter([1.0], [1.0, -a], innovations, zi=[0.0])
    return y


def drug_effect(*, times_in_s: np.ndarray, parameters: SimulationParameters) -> np.ndarray:
    """Zolpidem effect 0..1 at ``times_in_s`` (zeros under vehicle).

    Rises as ``1 - exp(-(t - t_drug) / tau_on)``, holds for the plateau, then washes out exponentially.
    """
    times_in_s = np.asarray(times_in_s, dtype=float)
    if parameters.condition != "zolpidem":
        return np.zeros_like(times_in_s)
    elapsed = times_in_s - parameters.drug_time_in_s
    rise = 1.0 - np.exp(-np.clip(elapsed, 0.0, None) / parameters.zolpidem_onset_time_constant_in_s)
    washout = np.exp(
        -np.clip(elapsed - parameters.zolpidem_plateau_in_s, 0.0, None) / parameters.zolpidem_washout_time_constant_in_s
    )
    return np.where(elapsed > 0, rise * washout, 0.0)


_TRACER_PEAK_IN_TIME_CONSTANTS = 5.0


def _tracer_influx_time_constant(*, rise_time_in_s: float) -> float:
    """Time constant of ``1 - exp(-x / tau)`` whose 10-90 % rise (to the peak value) is ``rise_time_in_s``."""
    top = 1.0 - math.exp(-_TRACER_PEAK_IN_TIME_CONSTANTS)
    return rise_time_in_s / (math.log(1.0 - 0.1 * top) - math.log(1.0 - 0.9 * top))


def tracer_curve(*, times_in_s: np.ndarray, parameters: SimulationParameters, peak_percent: float) -> np.ndarray:
    """The noiseless tracer curve in % dF/F: influx ``1 - exp(-x/tau)`` up to the peak, then efflux.

    The influx starts at the infusion start and peaks ``5 tau`` later; ``tau`` is chosen so the
    10-90 % rise time equals ``parameters.tracer_rise_time_in_s`` exactly.
    """
    tau = _tracer_influx_time_constant(rise_time_in_s=parameters.tracer_rise_time_in_s)
    x = np.asarray(times_in_s, dtype=float) - parameters.resolved_infusion_start_in_s
    x_peak = _TRACER_PEAK_IN_TIME_CONSTANTS * tau
    top = 1.0 - math.exp(-_TRACER_PEAK_IN_TIME_CONSTANTS)
    influx = 1.0 - np.exp(-np.clip(x, 0.0, x_peak) / tau)
    efflux = np.exp(-np.clip(x - x_peak, 0.0, None) / parameters.tracer_efflux_time_constant_in_s)
    return peak_percent * influx * efflux / top


def _tracer_times(*, parameters: SimulationParameters) -> tuple[float, float, float]:
    """True times at which the tracer curve crosses 10 % and 90 % of its maximum, and peaks."""
    tau = _tracer_influx_time_constant(rise_time_in_s=parameters.tracer_rise_time_in_s)
    top = 1.0 - math.exp(-_TRACER_PEAK_IN_TIME_CONSTANTS)
    start = parameters.resolved_infusion_start_in_s
    return (
        start - tau * math.log(1.0 - 0.1 * top),
        start - tau * math.log(1.0 - 0.9 * top),
        start + _TRACER_PEAK_IN_TIME_CONSTANTS * tau,
    )


# --------------------------------------------------------------------------------------------
# hypnogram


def _macro_bouts(*, parameters: SimulationParameters) -> list[tuple[float, float, int]]:
    """Wake / NREM / REM bouts ``(start, stop, code)`` covering the session, without micro-arousals.

    A semi-Markov chain: wake -> NREM -> (REM with probability p, else wake), REM -> wake. Bout
    lengths: wake lognormal (sigma 1), NREM gamma (shape 2.5), REM gamma (shape 6); zolpidem
    scales the NREM and wake means by its effect at the bout start. The injection forces wake for
    ``handling_wake_in_s``. Each bout consumes exactly three uniform draws, so vehicle and zolpidem
    sessions with one seed differ only by the drug.
    """
    p = parameters
    rng = _rng(seed=p.seed, stream="hypnogram")
    forced_start, forced_stop = p.drug_time_in_s, p.drug_time_in_s + p.handling_wake_in_s
    bouts: list[tuple[float, float, int]] = []
    t, state = 0.0, _WAKE
    while t < p.duration_in_s:
        u_length, u_next, _u_spare = rng.random(3)
        effect = float(drug_effect(times_in_s=np.array([t]), parameters=p)[0])
        if state == _WAKE:
            mean = p.mean_wake_bout_in_s * (1.0 + (p.zolpidem_wake_bout_factor - 1.0) * effect)
            sigma = 1.0
            median = mean / math.exp(sigma * sigma / 2.0)
            length = max(p.min_wake_bout_in_s, float(stats.lognorm.ppf(u_length, s=sigma, scale=median)))
        elif state == _NREM:
            mean = p.mean_nrem_bout_in_s * (1.0 + (p.zolpidem_nrem_bout_factor - 1.0) * effect)
            length = max(30.0, float(stats.gamma.ppf(u_length, a=2.5, scale=mean / 2.5)))
        else:
            length = max(20.0, float(stats.gamma.ppf(u_length, a=6.0, scale=p.mean_rem_bout_in_s / 6.0)))
        stop = t + length
        if state != _WAKE and t <= forced_start < stop:
            stop, next_state = forced_start, _WAKE
        elif state == _WAKE:
            if t < forced_stop and stop > forced_start:
                stop = max(stop, forced_stop)
            next_state = _NREM
        elif state == _NREM:
            next_state = _REM if u_next < p.rem_after_nrem_probability else _WAKE
        else:
            next_state = _WAKE
        stop = round(min(stop, p.duration_in_s), 1)
        if stop > t:
            bouts.append((t, stop, state))
        t, state = stop, next_state
    return bouts


def _state_array(*, bouts: list[tuple[float, float, int]], n: int, rate_in_Hz: float) -> np.ndarray:
    states = np.zeros(n, dtype=np.int8)
    for start, stop, code in bouts:
        states[round(start * rate_in_Hz) : round(stop * rate_in_Hz)] = code
    return states


def _place_lc_trains(
    *, parameters: SimulationParameters, bouts: list[tuple[float, float, int]], earliest_in_s: float
) -> list[float]:
    """LC train onsets: one per equal segment after ``earliest_in_s``, >= 30 s into a NREM bout."""
    p = parameters
    if p.lc_stimulation_onsets_in_s is not None:
        return [float(t) for t in p.lc_stimulation_onsets_in_s]
    if p.lc_stimulation_count <= 0 or earliest_in_s >= p.duration_in_s - 60.0:
        return []
    vaso = (
        (p.resolved_vasomotion_start_in_s - 60.0, p.resolved_vasomotion_start_in_s + p.vasomotion_duration_in_s + 60.0)
        if p.vasomotion_stimulation
        else (math.inf, math.inf)
    )
    edges = np.linspace(earliest_in_s, p.duration_in_s, p.lc_stimulation_count + 1)
    onsets: list[float] = []
    for seg_start, seg_stop in itertools.pairwise(edges):
        for start, stop, code in bouts:
            if code != _NREM or stop <= seg_start or start >= seg_stop:
                continue
            onset = max(seg_start, start + 30.0)
            if onset + p.lc_train_duration_in_s + 40.0 > stop or onset >= seg_stop:
                continue
            if onset + p.lc_train_duration_in_s > vaso[0] and onset < vaso[1]:
                continue
            onsets.append(math.ceil(onset * 10.0) / 10.0)
            break
    return onsets


def _oscillator_phase(*, parameters: SimulationParameters, n: int) -> np.ndarray:
    """Phase of the narrow-band NE oscillator: frequency ``f0 + jitter * OU(t)``, integrated."""
    p = parameters
    rng = _rng(seed=p.seed, stream="oscillator")
    frequency = p.ne_frequency_in_Hz + p.ne_frequency_jitter_in_Hz * _ornstein_uhlenbeck(
        rng=rng, n=n, time_constant_in_s=p.ne_frequency_correlation_time_in_s, rate_in_Hz=p.latent_rate_in_Hz
    )
    frequency = np.clip(frequency, 0.25 * p.ne_frequency_in_Hz, None)
    start_phase = rng.uniform(0.0, 2.0 * math.pi)
    return start_phase + 2.0 * math.pi * np.cumsum(frequency) / p.latent_rate_in_Hz


def _phase_peak_times(*, phase: np.ndarray, rate_in_Hz: float) -> np.ndarray:
    """Times where ``cos(phase)`` peaks (phase crosses a multiple of 2 pi)."""
    first, last = math.ceil(phase[0] / (2 * math.pi)), math.floor(phase[-1] / (2 * math.pi))
    targets = 2.0 * math.pi * np.arange(first, last + 1)
    return np.interp(targets, phase, np.arange(len(phase)) / rate_in_Hz)


def _place_micro_arousals(
    *,
    parameters: SimulationParameters,
    bouts: list[tuple[float, float, int]],
    peak_times: np.ndarray,
    lc_onsets: list[float],
) -> tuple[np.ndarray, np.ndarray]:
    """Micro-arousals at a random subset of NE peaks well inside NREM bouts and away from LC trains."""
    p = parameters
    rng = _rng(seed=p.seed, stream="micro-arousals")
    draws = rng.random((len(peak_times), 3))
    onsets, durations = [], []
    nrem = [(start, stop) for start, stop, code in bouts if code == _NREM]
    starts = np.array([b[0] for b in nrem])
    for i, peak in enumerate(peak_times):
        j = int(np.searchsorted(starts, peak, side="right")) - 1
        if j < 0 or draws[i, 0] >= p.micro_arousal_probability:
            continue
        start, stop = nrem[j]
        if peak - start < 20.0 or stop - peak < p.micro_arousal_max_in_s + 10.0:
            continue
        if any(on - 30.0 <= peak <= on + p.lc_train_duration_in_s + 40.0 for on in lc_onsets):
            continue
        onsets.append(round(float(peak + (draws[i, 1] - 0.5)), 1))
        durations.append(
            round(
                float(p.micro_arousal_min_in_s + draws[i, 2] * (p.micro_arousal_max_in_s - p.micro_arousal_min_in_s)),
                1,
            )
        )
    return np.array(onsets, dtype=float), np.array(durations, dtype=float)


def _split_with_micro_arousals(
    *, bouts: list[tuple[float, float, int]], onsets: np.ndarray, durations: np.ndarray
) -> list[tuple[float, float, int]]:
    """The hypnogram with each NREM bout split around its micro-arousals."""
    rows: list[tuple[float, float, int]] = []
    order = np.argsort(onsets)
    onsets, durations = onsets[order], durations[order]
    for start, stop, code in bouts:
        if code != _NREM:
            rows.append((start, stop, code))
            continue
        cursor = start
        inside = (onsets >= start) & (onsets < stop)
        for onset, length in zip(onsets[inside], durations[inside]):
            rows.append((cursor, float(onset), _NREM))
            rows.append((float(onset), round(float(onset + length), 1), _MA))
            cursor = round(float(onset + length), 1)
        rows.append((cursor, stop, _NREM))
    return rows


# --------------------------------------------------------------------------------------------
# latent traces


def _ne_trace(
    *,
    parameters: SimulationParameters,
    states: np.ndarray,
    macro_states: np.ndarray,
    phase: np.ndarray,
    effect: np.ndarray,
    bouts: list[tuple[float, float, int]],
    ma_onsets: np.ndarray,
    lc_onsets: list[float],
) -> np.ndarray:
    """NE in % dF/F: state level (high wake, dropping REM) + gated NREM oscillation + MA and LC transients."""
    p = parameters
    fs = p.latent_rate_in_Hz
    n = len(states)
    rng = _rng(seed=p.seed, stream="ne")
    times = np.arange(n) / fs
    target = np.zeros(n)
    wake_fluctuation = 2.0 * _ornstein_uhlenbeck(rng=rng, n=n, time_constant_in_s=30.0, rate_in_Hz=fs)
    target[macro_states == _WAKE] = p.ne_wake_level_percent + wake_fluctuation[macro_states == _WAKE]
    for start, stop, code in bouts:
        if code == _REM:
            i0, i1 = round(start * fs), round(stop * fs)
            minutes = (times[i0:i1] - start) / 60.0
            target[i0:i1] = p.ne_rem_level_percent + p.ne_rem_slope_percent_per_min * minutes
    level = _lowpass(target, time_constant_in_s=6.0, rate_in_Hz=fs)
    gate = _lowpass((macro_states == _NREM).astype(float), time_constant_in_s=15.0, rate_in_Hz=fs)
    amplitude_drift = np.clip(
        1.0 + 0.2 * _ornstein_uhlenbeck(rng=rng, n=n, time_constant_in_s=300.0, rate_in_Hz=fs), 0.3, None
    )
    amplitude = p.ne_oscillation_amplitude_percent * amplitude_drift * (1.0 - p.zolpidem_oscillation_damping * effect)
    oscillation = amplitude * gate * np.cos(phase)
    transients = np.zeros(n)
    for onset in ma_onsets:
        i0, i1 = max(0, int((onset - 15.0) * fs)), min(n, int((onset + 15.0) * fs))
        transients[i0:i1] += 0.5 * amplitude[i0:i1] * np.exp(-0.5 * ((times[i0:i1] - onset) / 3.0) ** 2)
    drive = np.zeros(n)
    for onset in lc_onsets:
        drive[round(onset * fs) : round((onset + p.lc_train_duration_in_s) * fs)] = 1.0
    if lc_onsets:

        def release(x: np.ndarray) -> np.ndarray:
            fast = _lowpass(x, time_constant_in_s=2.0, rate_in_Hz=fs, initial=0.0)
            return _lowpass(fast, time_constant_in_s=8.0, rate_in_Hz=fs, initial=0.0)

        unit = np.zeros(round((p.lc_train_duration_in_s + 120.0) * fs))
        unit[: round(p.lc_train_duration_in_s * fs)] = 1.0
        transients += p.lc_ne_response_percent * release(drive) / release(unit).max()
    noise = 0.3 * _ornstein_uhlenbeck(rng=rng, n=n, time_constant_in_s=2.0, rate_in_Hz=fs)
    return level + oscillation + transients + noise


def _vasomotion_drive(*, parameters: SimulationParameters, n: int) -> np.ndarray:
    """Blood-volume change (% dF/F) imposed by the vasomotion epoch: constriction while the light is on."""
    p = parameters
    fs = p.latent_rate_in_Hz
    if not p.vasomotion_stimulation:
        return np.zeros(n)
    times = np.arange(n) / fs
    start = p.resolved_vasomotion_start_in_s
    inside = (times >= start) & (times < start + p.vasomotion_duration_in_s)
    light_on = inside & (((times - start) * p.vasomotion_frequency_in_Hz) % 1.0 < 0.5)
    return (
        -2.0 * p.vasomotion_amplitude_percent * _lowpass(light_on.astype(float), time_constant_in_s=3.0, rate_in_Hz=fs)
    )


def _events(
    *,
    rng: np.random.Generator,
    rate_per_s: np.ndarray,
    fs: float,
    min_gap_in_s: float,
    duration_range_in_s: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Inhomogeneous Poisson onsets (one draw per latent sample) without overlaps, and durations."""
    hits = np.flatnonzero(rng.random(len(rate_per_s)) < rate_per_s / fs)
    onsets = (hits + rng.random(len(hits))) / fs
    durations = rng.uniform(*duration_range_in_s, size=len(hits))
    keep = np.ones(len(hits), dtype=bool)
    last_end = -math.inf
    for i, (onset, length) in enumerate(zip(onsets, durations)):
        if onset < last_end + min_gap_in_s:
            keep[i] = False
        else:
            last_end = onset + length
    return onsets[keep], durations[keep]


def _bleaching(*, times_in_s: np.ndarray, spec) -> np.ndarray:
    return (
        1.0
        - spec.bleach_fast_fraction * (1.0 - np.exp(-times_in_s / spec.bleach_fast_time_constant_in_s))
        - spec.bleach_slow_fraction * (1.0 - np.exp(-times_in_s / spec.bleach_slow_time_constant_in_s))
    )


# --------------------------------------------------------------------------------------------
# the session


def _session_id(*, parameters: SimulationParameters) -> str:
    return f"sim-seed{parameters.seed}-{parameters.condition}"


def simulate_session(*, parameters: SimulationParameters) -> SimulatedSession:
    """Generate the latent traces, events and ground truth of one session (fast; no high-rate data).

    Order: wake/NREM/REM bouts -> LC trains (NREM, after the tracer reached 90 %) -> oscillator
    phase -> micro-arousals at NE peaks -> NE, blood volume (anti-correlated, lagged), CSF tracer
    (infusion curve modulated by the negated blood-volume oscillation) -> EEG/EMG envelopes,
    spindles, twitches -> photometry fluorescence with bleaching and motion artefacts.

    Parameters
    ----------
    parameters : SimulationParameters
        Everything that defines the session.

    Returns
    -------
    SimulatedSession
    """
    p = parameters
    fs = p.latent_rate_in_Hz
    n = math.floor(p.duration_in_s * fs)
    times = np.arange(n) / fs
    effect = drug_effect(times_in_s=times, parameters=p)

    bouts = _macro_bouts(parameters=p)
    macro_states = _state_array(bouts=bouts, n=n, rate_in_Hz=fs)
    t10, t90, t_peak = _tracer_times(parameters=p)
    lc_onsets = _place_lc_trains(parameters=p, bouts=bouts, earliest_in_s=t90)
    phase = _oscillator_phase(parameters=p, n=n)
    all_peaks = _phase_peak_times(phase=phase, rate_in_Hz=fs)
    ma_onsets, ma_durations = _place_micro_arousals(
        parameters=p, bouts=bouts, peak_times=all_peaks, lc_onsets=lc_onsets
    )
    rows = _split_with_micro_arousals(bouts=bouts, onsets=ma_onsets, durations=ma_durations)
    states = _state_array(bouts=rows, n=n, rate_in_Hz=fs)

    ne = _ne_trace(
        parameters=p,
        states=states,
        macro_states=macro_states,
        phase=phase,
        effect=effect,
        bouts=bouts,
        ma_onsets=ma_onsets,
        lc_onsets=lc_onsets,
    )
    rng_bv = _rng(seed=p.seed, stream="blood-volume")
    ne_lagged = np.interp(times - p.ne_to_blood_volume_lag_in_s, times, ne)
    blood_volume = (
        -p.blood_volume_gain * ne_lagged
        + _vasomotion_drive(parameters=p, n=n)
        + 0.3 * _ornstein_uhlenbeck(rng=rng_bv, n=n, time_constant_in_s=5.0, rate_in_Hz=fs)
    )
    influx_scale = 1.0 - p.zolpidem_influx_reduction * float(
        drug_effect(times_in_s=np.array([p.resolved_infusion_start_in_s]), parameters=p)[0]
    )
    peak_percent = p.tracer_peak_percent * influx_scale
    curve = tracer_curve(times_in_s=times, parameters=p, peak_percent=peak_percent)
    window = max(1, round(100.0 * fs))
    fast_bv = blood_volume - ndimage.uniform_filter1d(blood_volume, size=window, mode="nearest")
    normalised = -fast_bv / (p.blood_volume_gain * p.ne_oscillation_amplitude_percent)
    csf = curve * (1.0 + p.csf_modulation_depth * np.clip(normalised, -4.0, 4.0))

    # EEG / EMG envelopes
    rng_eeg = _rng(seed=p.seed, stream="eeg-latent")
    nrem_gate = _lowpass((states == _NREM).astype(float), time_constant_in_s=5.0, rate_in_Hz=fs)
    sigma_modulation = 1.0 + p.sigma_modulation_depth * np.cos(phase - p.sigma_phase_offset_rad)
    sigma_envelope = nrem_gate * sigma_modulation + (1.0 - nrem_gate) * (
        _EEG_BAND_AMPLITUDES_V["sigma"][_WAKE] / _EEG_BAND_AMPLITUDES_V["sigma"][_NREM]
    )
    eeg_amplitudes: dict[str, np.ndarray] = {}
    for band, per_state in _EEG_BAND_AMPLITUDES_V.items():
        raw = np.asarray(per_state)[states]
        eeg_amplitudes[band] = _lowpass(raw, time_constant_in_s=1.0, rate_in_Hz=fs)
    eeg_amplitudes["sigma"] = _EEG_BAND_AMPLITUDES_V["sigma"][_NREM] * sigma_envelope
    wake_activity = np.exp(0.4 * _ornstein_uhlenbeck(rng=rng_eeg, n=n, time_constant_in_s=20.0, rate_in_Hz=fs))
    emg_raw = np.asarray(_EMG_AMPLITUDES_V)[states] * np.where(states == _WAKE, wake_activity, 1.0)
    emg_amplitude = _lowpass(emg_raw, time_constant_in_s=0.3, rate_in_Hz=fs)

    spindle_rate = p.spindle_rate_per_min / 60.0 * sigma_modulation * (states == _NREM)
    spindle_onsets, spindle_durations = _events(
        rng=_rng(seed=p.seed, stream="spindles"),
        rate_per_s=spindle_rate,
        fs=fs,
        min_gap_in_s=0.5,
        duration_range_in_s=(0.5, 2.0),
    )
    rng_sp = _rng(seed=p.seed, stream="spindle-shape")
    spindles = EventTimes(
        onsets_in_s=spindle_onsets,
        durations_in_s=spindle_durations,
        amplitudes=rng_sp.uniform(30e-6, 60e-6, size=len(spindle_onsets)),
        frequencies_in_Hz=rng_sp.uniform(11.0, 14.0, size=len(spindle_onsets)),
    )
    twitch_onsets, twitch_durations = _events(
        rng=_rng(seed=p.seed, stream="twitches"),
        rate_per_s=0.5 * (states == _REM),
        fs=fs,
        min_gap_in_s=0.2,
        duration_range_in_s=(0.05, 0.2),
    )
    twitches = EventTimes(
        onsets_in_s=twitch_onsets,
        durations_in_s=twitch_durations,
        amplitudes=_rng(seed=p.seed, stream="twitch-shape").uniform(10e-6, 25e-6, size=len(twitch_onsets)),
        frequencies_in_Hz=np.zeros(len(twitch_onsets)),
    )

    # photometry fluorescence
    rng_motion = _rng(seed=p.seed, stream="motion")
    motion_onsets, motion_durations = _events(
        rng=rng_motion,
        rate_per_s=p.motion_artefact_rate_per_min / 60.0 * (states == _WAKE),
        fs=fs,
        min_gap_in_s=2.0,
        duration_range_in_s=(1.0, 3.0),
    )
    motion_depths = rng_motion.uniform(0.01, 0.05, size=len(motion_onsets))
    impulses = np.zeros(n)
    np.add.at(impulses, np.minimum((motion_onsets * fs).astype(int), n - 1), motion_depths)
    motion = _lowpass(impulses, time_constant_in_s=1.0, rate_in_Hz=fs, initial=0.0) / (1.0 - math.exp(-1.0 / fs))
    motion_artefacts = EventTimes(
        onsets_in_s=motion_onsets,
        durations_in_s=motion_durations,
        amplitudes=motion_depths,
        frequencies_in_Hz=np.zeros(len(motion_onsets)),
    )
    responses = {
        "norepinephrine": ne,
        "cerebral blood volume": blood_volume,
        "CSF tracer": csf,
    }
    fluorescence: dict[str, np.ndarray] = {}
    for spec in PHOTOMETRY_CHANNELS:
        response = responses[spec.measured_quantity] if spec.channel_role == "signal" else 0.0
        fluorescence[spec.name] = (
            spec.baseline_in_V * _bleaching(times_in_s=times, spec=spec) * (1.0 - motion) * (1.0 + response / 100.0)
        )

    latents = Latents(
        rate_in_Hz=fs,
        sleep_state=states,
        drug_effect=effect,
        ne_phase_rad=phase,
        ne_percent=ne,
        blood_volume_percent=blood_volume,
        csf_tracer_percent=csf,
        tracer_curve_percent=curve,
        sigma_envelope=sigma_envelope,
        motion_artefact=motion,
        eeg_amplitudes_V=eeg_amplitudes,
        emg_amplitude_V=emg_amplitude,
        fluorescence_V=fluorescence,
    )
    ground_truth = _ground_truth(
        parameters=p,
        rows=rows,
        all_peaks=all_peaks,
        ma_onsets=ma_onsets,
        ma_durations=ma_durations,
        lc_onsets=lc_onsets,
        tracer_times=(t10, t90, t_peak),
        peak_percent=peak_percent,
        spindle_onsets=spindle_onsets,
    )
    return SimulatedSession(
        parameters=p,
        ground_truth=ground_truth,
        latents=latents,
        spindles=spindles,
        twitches=twitches,
        motion_artefacts=motion_artefacts,
    )


def _ground_truth(
    *,
    parameters: SimulationParameters,
    rows: list[tuple[float, float, int]],
    all_peaks: np.ndarray,
    ma_onsets: np.ndarray,
    ma_durations: np.ndarray,
    lc_onsets: list[float],
    tracer_times: tuple[float, float, float],
    peak_percent: float,
    spindle_onsets: np.ndarray,
) -> GroundTruth:
    p = parameters
    sleep_states = [SleepInterval(start_in_s=float(a), stop_in_s=float(b), state=STATE_NAMES[c]) for a, b, c in rows]
    totals = dict.fromkeys(STATE_NAMES, 0.0)
    for row in sleep_states:
        totals[row.state] += row.stop_in_s - row.start_in_s
    starts = np.array([row.start_in_s for row in sleep_states])
    codes = np.array([STATE_CODES[row.state] for row in sleep_states])
    row_of_peak = np.searchsorted(starts, all_peaks, side="right") - 1
    sleeping_peaks = all_peaks[np.isin(codes[row_of_peak], (_NREM, _MA))]
    order = np.argsort(ma_onsets)
    zolpidem = p.condition == "zolpidem"
    t10, t90, t_peak = tracer_times
    infusion_start = p.resolved_infusion_start_in_s
    tracer = INDICATORS["ovalbumin_AF647"]
    return GroundTruth(
        session_id=_session_id(parameters=p),
        seed=p.seed,
        condition=p.condition,
        duration_in_s=p.duration_in_s,
        ne_frequency_in_Hz=p.ne_frequency_in_Hz,
        ne_oscillation_amplitude_percent=p.ne_oscillation_amplitude_percent,
        ne_oscillation_peak_times_in_s=[round(float(t), 2) for t in sleeping_peaks],
        ne_to_blood_volume_lag_in_s=p.ne_to_blood_volume_lag_in_s,
        sigma_phase_offset_rad=p.sigma_phase_offset_rad,
        sigma_peak_lag_after_ne_peak_in_s=p.sigma_phase_offset_rad / (2.0 * math.pi * p.ne_frequency_in_Hz),
        sleep_states=sleep_states,
        state_fractions={state: total / p.duration_in_s for state, total in totals.items()},
        micro_arousal_onsets_in_s=[float(t) for t in ma_onsets[order]],
        micro_arousal_durations_in_s=[float(d) for d in ma_durations[order]],
        drug={
            "name": "zolpidem" if zolpidem else "saline",
            "condition": p.condition,
            "time_in_s": p.drug_time_in_s,
            "dose": p.drug_dose_mg_per_kg if zolpidem else 0.0,
            "dose_unit": "mg/kg",
            "route": "i.p.",
            "vehicle": "saline",
        },
        infusion={
            "start_in_s": infusion_start,
            "stop_in_s": infusion_start + p.infusion_duration_in_s,
            "route": "intracisternal",
            "site": "cisterna magna",
            "volume_in_uL": p.infusion_volume_in_uL,
            "rate_in_uL_per_min": p.infusion_volume_in_uL / (p.infusion_duration_in_s / 60.0),
            "tracer": tracer.name,
        },
        tracer_rise_time_in_s=t90 - t10,
        tracer_10_percent_time_in_s=t10,
        tracer_90_percent_time_in_s=t90,
        tracer_peak_time_in_s=t_peak,
        tracer_peak_percent=peak_percent,
        tracer_efflux_time_constant_in_s=p.tracer_efflux_time_constant_in_s,
        lc_stimulation=[
            StimulationEpoch(
                start_in_s=onset,
                stop_in_s=onset + p.lc_train_duration_in_s,
                pulse_frequency_in_Hz=p.lc_pulse_frequency_in_Hz,
                pulse_width_in_ms=p.lc_pulse_width_in_ms,
            )
            for onset in lc_onsets
        ],
        vasomotion_stimulation=(
            [
                StimulationEpoch(
                    start_in_s=p.resolved_vasomotion_start_in_s,
                    stop_in_s=p.resolved_vasomotion_start_in_s + p.vasomotion_duration_in_s,
                    pulse_frequency_in_Hz=p.vasomotion_frequency_in_Hz,
                    pulse_width_in_ms=500.0 / p.vasomotion_frequency_in_Hz,
                )
            ]
            if p.vasomotion_stimulation
            else []
        ),
        spindle_onsets_in_s=[round(float(t), 3) for t in spindle_onsets],
        photometry_rate_in_Hz=p.photometry_rate_in_Hz,
        ephys_rate_in_Hz=p.ephys_rate_in_Hz,
        latent_rate_in_Hz=p.latent_rate_in_Hz,
        parameters=p.to_dict(),
    )
