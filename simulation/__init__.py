"""Physiologically shaped synthetic sleep / glymphatic sessions with ground truth.

A session is generated in two layers:

1. **Latent traces** at ``latent_rate_in_Hz`` (10 Hz; 864 000 samples for 24 h, generated in about a
   second): hypnogram with micro-arousals, infraslow NE oscillator, NE, blood volume, CSF tracer,
   EEG band envelopes, EMG tone, photometry fluorescence with bleaching and motion artefacts, and
   the discrete events (spindles, twitches, motion artefacts). See :func:`simulate_session`.
2. **High-rate samples** (photometry 1017.25 Hz, EEG/EMG 512 Hz), never held whole: drawn for any
   slice or streamed chunk by chunk. Block ``k`` of :data:`BLOCK_SAMPLES` samples uses a random
   stream seeded by ``(seed, channel, k)``, so output is identical for any chunking.

Everything is deterministic per :class:`SimulationParameters` (including ``seed``).

API
---
Parameters and session::

    SimulationParameters(duration_in_s=3600.0, seed=0, condition="vehicle", ne_frequency_in_Hz=0.02, ...)
    simulate_session(*, parameters: SimulationParameters) -> SimulatedSession
    SimulatedSession: .parameters, .ground_truth, .latents (Latents), .spindles, .twitches,
                      .motion_artefacts (EventTimes), .session_id, .n_photometry_samples, .n_ephys_samples
    Latents: .rate_in_Hz, .times_in_s, .sleep_state (int8, STATE_CODES), .drug_effect, .ne_phase_rad,
             .ne_percent, .blood_volume_percent, .csf_tracer_percent, .tracer_curve_percent,
             .sigma_envelope, .motion_artefact, .eeg_amplitudes_V[band], .emg_amplitude_V,
             .fluorescence_V[channel name]

Ground truth (``ground_truth.json``)::

    GroundTruth: ne_frequency_in_Hz, ne_oscillation_peak_times_in_s, ne_to_blood_volume_lag_in_s (> 0: blood
                 volume lags NE; corr(NE(t), BV(t + tau)) is minimal at tau = +lag),
                 sigma_phase_offset_rad / sigma_peak_lag_after_ne_peak_in_s, sleep_states
                 (list of SleepInterval(start_in_s, stop_in_s, state)), state_fractions,
                 micro_arousal_onsets_in_s / _durations_in_s, drug, infusion, tracer_rise_time_in_s (10-90 %),
                 tracer_10_percent_time_in_s, tracer_90_percent_time_in_s, tracer_peak_time_in_s,
                 lc_stimulation / vasomotion_stimulation (list of StimulationEpoch), spindle_onsets_in_s, ...
    GroundTruth.write_json(*, path, overwrite=False) -> Path;  GroundTruth.read_json(*, path) -> GroundTruth

High-rate samples (volts; sample ``i`` at ``i / rate``)::

    photometry_samples(*, session, channel: str, start: int, stop: int) -> ndarray (n,)
    iter_photometry_chunks(*, session, channel, chunk_samples=16 * BLOCK_SAMPLES, start=0, stop=None)
        -> Iterator[ndarray (n,)]
    ephys_samples(*, session, series: "EEG" | "EMG", start: int, stop: int) -> ndarray (n, n_channels)
    iter_ephys_chunks(*, session, series, chunk_samples=4 * BLOCK_SAMPLES, start=0, stop=None)
        -> Iterator[ndarray (n, n_channels)]
    n_samples(*, session, stream: "photometry" | "EEG" | "EMG") -> int

Channel metadata shared by every writer (:mod:`ndx_glymphatic.simulation.channels`)::

    PHOTOMETRY_CHANNELS: tuple[PhotometryChannelSpec]  # ne_465nm, ne_isosbestic_405nm,
                                                       # blood_volume_560nm, csf_tracer_650nm
    PhotometryChannelSpec: name, stream_name (TDT store, e.g. "_465A"), excitation/emission
                           wavelengths, measured_quantity, channel_role, control_channel, indicator,
                           fiber, baseline_in_V, noise_in_V, bleaching, description
    INDICATORS, FIBERS, ELECTRODE_CHANNELS (EEG1, EEG2 in "EEG"; EMG in "EMG")
    photometry_channel(*, name) -> PhotometryChannelSpec;  electrode_channels(*, series) -> tuple

Output (:mod:`~ndx_glymphatic.simulation.nwb`, :mod:`~ndx_glymphatic.simulation.writers`)::

    write_session_nwb(*, session, path, overwrite=False, show_progress=False) -> Path
        streams every series (GenericDataChunkIterator + gzip 4 + shuffle) through atomic_output_path
    session_writers() -> dict[str, SessionWriter]
        SessionWriter: writer(*, session, outdir, overwrite, show_progress) -> list[Path];
        "nwb" writes NWB directly; the rig formats come from ndx_glymphatic.simulation.rig_files
    glymph simulate OUTDIR [--duration-s 3600] [--seed 0] [--ne-frequency-hz 0.02]
        [--condition vehicle|zolpidem] [--format nwb] [--photometry-rate-hz 1017.25]
        [--ephys-rate-hz 512] [--overwrite] [--no-progress]
        -> OUTDIR/<session_id>.nwb (for nwb) and OUTDIR/ground_truth.json

Model, in short (all amplitudes of latents in % dF/F): NE = state level (wake +6, NREM 0, REM -4
dropping 2 %/min, smoothed) + NREM-gated oscillation ``A(t) cos(phi(t))`` (A = 4, x(1 - 0.5 e(t))
under zolpidem) + micro-arousal bumps + LC-evoked release + small noise; blood volume
``-0.5 NE(t - lag)`` + vasomotion drive + noise; CSF tracer = infusion curve x (1 + 0.08 x
negated fast blood volume); sigma amplitude ``1 + 0.6 cos(phi - offset)`` in NREM.
Photometry fluorescence = baseline x bleaching x (1 - motion artefact) x (1 + response / 100); the
405 nm control has no response. Motion artefacts occur in wake only.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BLOCK_SAMPLES",
    "CONDITIONS",
    "EEG_BANDS_HZ",
    "ELECTRODE_CHANNELS",
    "FIBERS",
    "INDICATORS",
    "PHOTOMETRY_CHANNELS",
    "STATE_CODES",
    "STATE_NAMES",
    "ElectrodeChannelSpec",
    "EventTimes",
    "FiberSpec",
    "GroundTruth",
    "IndicatorSpec",
    "Latents",
    "PhotometryChannelSpec",
    "SessionWriter",
    "SimulatedSession",
    "SimulationParameters",
    "SleepInterval",
    "StimulationEpoch",
    "drug_effect",
    "electrode_channels",
    "ephys_samples",
    "iter_ephys_chunks",
    "iter_photometry_chunks",
    "n_samples",
    "photometry_channel",
    "photometry_samples",
    "session_writers",
    "simulate_session",
    "tracer_curve",
    "write_session_nwb",
]

# Imported on first use, so that `glymph --help` pays neither for numpy / scipy nor for pynwb.
_WHERE = {
    "ELECTRODE_CHANNELS": "channels",
    "FIBERS": "channels",
    "INDICATORS": "channels",
    "PHOTOMETRY_CHANNELS": "channels",
    "ElectrodeChannelSpec": "channels",
    "FiberSpec": "channels",
    "IndicatorSpec": "channels",
    "PhotometryChannelSpec": "channels",
    "electrode_channels": "channels",
    "photometry_channel": "channels",
    "STATE_CODES": "latents",
    "STATE_NAMES": "latents",
    "EventTimes": "latents",
    "Latents": "latents",
    "SimulatedSession": "latents",
    "drug_effect": "latents",
    "simulate_session": "latents",
    "tracer_curve": "latents",
    "write_session_nwb": "nwb",
    "CONDITIONS": "parameters",
    "SimulationParameters": "parameters",
    "BLOCK_SAMPLES": "streams",
    "EEG_BANDS_HZ": "streams",
    "ephys_samples": "streams",
    "iter_ephys_chunks": "streams",
    "iter_photometry_chunks": "streams",
    "n_samples": "streams",
    "photometry_samples": "streams",
    "GroundTruth": "truth",
    "SleepInterval": "truth",
    "StimulationEpoch": "truth",
    "SessionWriter": "writers",
    "session_writers": "writers",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
