"""The ground truth of a simulated session, serialisable to ``ground_truth.json``."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ndx_glymphatic.io import atomic_output_path

__all__ = ["GroundTruth", "SleepInterval", "StimulationEpoch"]

NE_TO_BLOOD_VOLUME_LAG_CONVENTION = (
    "BV(t) = -gain * NE(t - lag) + ...: a positive lag means blood volume lags NE; the cross-correlation "
    "c(tau) = corr(NE(t), BV(t + tau)) has its minimum at tau = +lag"
)
SIGMA_PHASE_CONVENTION = (
    "NE oscillation = cos(phi); sigma-band amplitude = 1 + depth * cos(phi - offset): sigma peaks "
    "offset / (2 pi) cycles after each NE peak"
)


@dataclass(frozen=True)
class SleepInterval:
    """One row of the true hypnogram: ``[start_in_s, stop_in_s)`` in ``state``."""

    start_in_s: float
    stop_in_s: float
    state: str


@dataclass(frozen=True)
class StimulationEpoch:
    """One stimulation epoch (an LC train or a vasomotion epoch)."""

    start_in_s: float
    stop_in_s: float
    pulse_frequency_in_Hz: float
    pulse_width_in_ms: float


@dataclass(frozen=True)
class GroundTruth:
    """What the simulator put into a session; analyses are tested against it.

    Attributes
    ----------
    session_id : str
        Identifier of the session (also the NWB file stem).
    seed : int
        The seed.
    condition : str
        ``"vehicle"`` or ``"zolpidem"``.
    duration_in_s : float
        Session length.
    ne_frequency_in_Hz : float
        Centre frequency of the NREM NE oscillation (the PSD peak).
    ne_oscillation_amplitude_percent : float
        Nominal NREM NE oscillation amplitude (half peak-to-peak, % dF/F) before the drug effect.
    ne_oscillation_peak_times_in_s : list of float
        Every peak of the oscillator phase (``cos(phi) = 1``) that falls inside NREM or a micro-arousal.
    ne_to_blood_volume_lag_in_s : float
        Lag of blood volume behind NE; see ``ne_to_blood_volume_lag_convention``.
    ne_to_blood_volume_lag_convention : str
        The sign convention, in words.
    sigma_phase_offset_rad : float
        Phase of the sigma-amplitude maximum relative to the NE peak; see ``sigma_phase_convention``.
    sigma_peak_lag_after_ne_peak_in_s : float
        ``offset / (2 pi f)``: sigma peaks this long after each NE peak.
    sigma_phase_convention : str
        The convention, in words.
    sleep_states : list of SleepInterval
        The true hypnogram, contiguous from 0 to ``duration_in_s``; micro-arousals are their own rows
        inside NREM.
    state_fractions : dict
        Fraction of the session per state (``"wake"``, ``"NREM"``, ``"REM"``, ``"micro-arousal"``).
    micro_arousal_onsets_in_s, micro_arousal_durations_in_s : list of float
        Micro-arousals (each placed at an NE oscillation peak in NREM).
    drug : dict
        ``name``, ``condition``, ``time_in_s``, ``dose``, ``dose_unit``, ``route``, ``vehicle``.
    infusion : dict
        ``start_in_s``, ``stop_in_s``, ``route``, ``site``, ``volume_in_uL``, ``rate_in_uL_per_min``, ``tracer``.
    tracer_rise_time_in_s : float
        True 10-90 % rise time of the noiseless, unmodulated tracer curve.
    tracer_10_percent_time_in_s, tracer_90_percent_time_in_s, tracer_peak_time_in_s : float
        When that curve crosses 10 % and 90 % of its maximum, and when it peaks.
    tracer_peak_percent : float
        Its maximum, % dF/F over the pre-infusion baseline (after the drug effect).
    tracer_efflux_time_constant_in_s : float
        Exponential efflux time constant after the peak.
    lc_stimulation : list of StimulationEpoch
        LC optogenetic trains (all inside NREM).
    vasomotion_stimulation : list of StimulationEpoch
        Vasomotion epochs (square light modulation at ``pulse_frequency_in_Hz``).
    spindle_onsets_in_s : list of float
        Onsets of simulated spindles.
    photometry_rate_in_Hz, ephys_rate_in_Hz, latent_rate_in_Hz : float
        Sampling rates.
    parameters : dict
        The full :class:`SimulationParameters` as a dict.
    """

    session_id: str
    seed: int
    condition: str
    duration_in_s: float
    ne_frequency_in_Hz: float
    ne_oscillation_amplitude_percent: float
    ne_oscillation_peak_times_in_s: list[float]
    ne_to_blood_volume_lag_in_s: float
    sigma_phase_offset_rad: float
    sigma_peak_lag_after_ne_peak_in_s: float
    sleep_states: list[SleepInterval]
    state_fractions: dict[str, float]
    micro_arousal_onsets_in_s: list[float]
    micro_arousal_durations_in_s: list[float]
    drug: dict[str, Any]
    infusion: dict[str, Any]
    tracer_rise_time_in_s: float
    tracer_10_percent_time_in_s: float
    tracer_90_percent_time_in_s: float
    tracer_peak_time_in_s: float
    tracer_peak_percent: float
    tracer_efflux_time_constant_in_s: float
    lc_stimulation: list[StimulationEpoch]
    vasomotion_stimulation: list[StimulationEpoch]
    spindle_onsets_in_s: list[float]
    photometry_rate_in_Hz: float
    ephys_rate_in_Hz: float
    latent_rate_in_Hz: float
    parameters: dict[str, Any] = field(repr=False)
    ne_to_blood_volume_lag_convention: str = NE_TO_BLOOD_VOLUME_LAG_CONVENTION
    sigma_phase_convention: str = SIGMA_PHASE_CONVENTION

    @property
    def lc_stimulation_onsets_in_s(self) -> list[float]:
        """Onsets of the LC trains."""
        return [epoch.start_in_s for epoch in self.lc_stimulation]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GroundTruth:
        """Build from :meth:`to_dict` output (or a parsed ``ground_truth.json``)."""
        values = dict(values)
        values["sleep_states"] = [SleepInterval(**row) for row in values["sleep_states"]]
        values["lc_stimulation"] = [StimulationEpoch(**row) for row in values["lc_stimulation"]]
        values["vasomotion_stimulation"] = [StimulationEpoch(**row) for row in values["vasomotion_stimulation"]]
        return cls(**values)

    def write_json(self, *, path: str | Path, overwrite: bool = False) -> Path:
        """Write ``ground_truth.json`` atomically; return its path."""
        path = Path(path)
        with atomic_output_path(destination=path, overwrite=overwrite) as temporary:
            temporary.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read_json(cls, *, path: str | Path) -> GroundTruth:
        """Read a ``ground_truth.json`` written by :meth:`write_json`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
