"""Parameters of a simulated session (every number the generator uses, with its unit)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["CONDITIONS", "SimulationParameters"]

#: Drug conditions the simulator knows.
CONDITIONS: tuple[str, ...] = ("vehicle", "zolpidem")


@dataclass(frozen=True)
class SimulationParameters:
    """Everything that defines a simulated session; two equal parameter sets give equal sessions.

    Times are seconds from the session start; amplitudes of photometry latents are in % dF/F.
    Event times left as ``None`` are placed automatically (see :func:`simulate_session`) and the
    placed values are reported in :class:`~ndx_glymphatic.simulation.GroundTruth`.

    Attributes
    ----------
    duration_in_s : float
        Session length.
    seed : int
        Seed of every random stream (non-negative).
    condition : str
        ``"vehicle"`` or ``"zolpidem"``.
    ne_frequency_in_Hz : float
        Centre frequency of the NREM NE oscillation.
    ne_frequency_jitter_in_Hz : float
        Standard deviation of the instantaneous oscillation frequency (an Ornstein-Uhlenbeck
        process with ``ne_frequency_correlation_time_in_s``).
    ne_oscillation_amplitude_percent : float
        Amplitude (half of peak-to-peak) of the NREM NE oscillation under vehicle, % dF/F.
    ne_wake_level_percent, ne_rem_level_percent : float
        NE level in wake and at REM onset relative to the NREM mean, % dF/F.
    ne_rem_slope_percent_per_min : float
        How fast NE keeps dropping during REM (negative: dropping).
    ne_to_blood_volume_lag_in_s : float
        Blood volume follows NE with this lag: ``BV(t) = -gain * NE(t - lag) + ...``; positive means
        blood volume lags NE, and ``corr(NE(t), BV(t + tau))`` is minimal at ``tau = +lag``.
    blood_volume_gain : float
        Blood-volume dF/F per NE dF/F (sign applied by the model: anti-correlated).
    csf_modulation_depth : float
        Fractional modulation of the CSF tracer signal by the (negated, normalised) blood volume.
    sigma_phase_offset_rad : float
        Sigma-band amplitude is ``1 + depth * cos(phi - offset)`` where the NE oscillation is
        ``cos(phi)``: sigma peaks ``offset / (2 pi)`` cycles after each NE peak.
    sigma_modulation_depth : float
        Depth of that modulation (0..1).
    spindle_rate_per_min : float
        Mean spindle rate in NREM (scaled by the sigma envelope).
    micro_arousal_probability : float
        Probability that an eligible NE peak inside NREM carries a micro-arousal.
    micro_arousal_min_in_s, micro_arousal_max_in_s : float
        Micro-arousal duration range (uniform).
    mean_nrem_bout_in_s, mean_wake_bout_in_s, mean_rem_bout_in_s : float
        Mean bout lengths under vehicle (gamma, lognormal and gamma distributions).
    min_wake_bout_in_s : float
        Shortest wake bout (longer than any micro-arousal definition, so wake and MA never mix).
    rem_after_nrem_probability : float
        Probability that a NREM bout is followed by REM (otherwise wake).
    drug_time_in_s : float
        Time of the i.p. injection (vehicle or zolpidem).
    drug_dose_mg_per_kg : float
        Zolpidem dose (the vehicle injection records dose 0).
    handling_wake_in_s : float
        Wake forced by the injection, starting at ``drug_time_in_s``.
    zolpidem_onset_time_constant_in_s, zolpidem_plateau_in_s, zolpidem_washout_time_constant_in_s : float
        Drug-effect profile ``e(t)`` in 0..1: rises with the onset time constant, stays for the
        plateau, then decays exponentially.
    zolpidem_oscillation_damping : float
        Fraction by which zolpidem lowers the NE oscillation amplitude at full effect.
    zolpidem_nrem_bout_factor, zolpidem_wake_bout_factor : float
        Multipliers of the mean NREM and wake bout lengths at full effect.
    zolpidem_influx_reduction : float
        Fraction by which zolpidem lowers the tracer influx amplitude at full effect.
    infusion_start_in_s : float or None
        Start of the intracisternal tracer infusion; None: ``drug_time_in_s + 600`` or, in sessions
        shorter than that allows, 40 % of the duration.
    infusion_duration_in_s, infusion_volume_in_uL : float
        Infusion length and volume (rate = volume / duration).
    tracer_rise_time_in_s : float
        True 10-90 % rise time of the tracer curve (to its maximum).
    tracer_efflux_time_constant_in_s : float
        Exponential efflux after the peak.
    tracer_peak_percent : float
        Tracer peak in % dF/F over the pre-infusion autofluorescence (vehicle).
    lc_stimulation_count : int
        Number of LC optogenetic trains to place (in NREM, after the tracer reached 90 %).
    lc_stimulation_onsets_in_s : tuple of float or None
        Explicit train onsets; None: placed automatically.
    lc_train_duration_in_s, lc_pulse_frequency_in_Hz, lc_pulse_width_in_ms, lc_power_in_mW, lc_wavelength_in_nm : float
        The trains.
    lc_ne_response_percent : float
        NE release evoked by one train (peak, % dF/F).
    vasomotion_stimulation : bool
        Whether to impose one vasomotion stimulation epoch.
    vasomotion_start_in_s : float or None
        Epoch start; None: at 70 % of the session.
    vasomotion_duration_in_s, vasomotion_frequency_in_Hz, vasomotion_amplitude_percent : float
        The epoch (square light modulation; blood volume follows low-pass filtered).
    motion_artefact_rate_per_min : float
        Rate of motion artefacts during wake.
    latent_rate_in_Hz, photometry_rate_in_Hz, ephys_rate_in_Hz : float
        Rates of the latent traces, photometry streams and EEG/EMG.
    session_start_time : str
        ISO 8601 start time with time zone.
    """

    duration_in_s: float = 3600.0
    seed: int = 0
    condition: str = "vehicle"
    ne_frequency_in_Hz: float = 0.02
    ne_frequency_jitter_in_Hz: float = 0.001
    ne_frequency_correlation_time_in_s: float = 120.0
    ne_oscillation_amplitude_percent: float = 4.0
    ne_wake_level_percent: float = 6.0
    ne_rem_level_percent: float = -4.0
    ne_rem_slope_percent_per_min: float = -2.0
    ne_to_blood_volume_lag_in_s: float = 3.0
    blood_volume_gain: float = 0.5
    csf_modulation_depth: float = 0.08
    sigma_phase_offset_rad: float = 3.0 * math.pi / 4.0
    sigma_modulation_depth: float = 0.6
    spindle_rate_per_min: float = 6.0
    micro_arousal_probability: float = 0.25
    micro_arousal_min_in_s: float = 3.0
    micro_arousal_max_in_s: float = 15.0
    mean_nrem_bout_in_s: float = 300.0
    mean_wake_bout_in_s: float = 165.0
    mean_rem_bout_in_s: float = 90.0
    min_wake_bout_in_s: float = 25.0
    rem_after_nrem_probability: float = 0.4
    drug_time_in_s: float = 300.0
    drug_dose_mg_per_kg: float = 10.0
    handling_wake_in_s: float = 120.0
    zolpidem_onset_time_constant_in_s: float = 180.0
    zolpidem_plateau_in_s: float = 7200.0
    zolpidem_washout_time_constant_in_s: float = 3600.0
    zolpidem_oscillation_damping: float = 0.5
    zolpidem_nrem_bout_factor: float = 1.6
    zolpidem_wake_bout_factor: float = 0.6
    zolpidem_influx_reduction: float = 0.3
    infusion_start_in_s: float | None = None
    infusion_duration_in_s: float = 300.0
    infusion_volume_in_uL: float = 10.0
    tracer_rise_time_in_s: float = 600.0
    tracer_efflux_time_constant_in_s: float = 5400.0
    tracer_peak_percent: float = 150.0
    lc_stimulation_count: int = 3
    lc_stimulation_onsets_in_s: tuple[float, ...] | None = None
    lc_train_duration_in_s: float = 10.0
    lc_pulse_frequency_in_Hz: float = 10.0
    lc_pulse_width_in_ms: float = 10.0
    lc_power_in_mW: float = 10.0
    lc_wavelength_in_nm: float = 473.0
    lc_ne_response_percent: float = 12.0
    vasomotion_stimulation: bool = True
    vasomotion_start_in_s: float | None = None
    vasomotion_duration_in_s: float = 300.0
    vasomotion_frequency_in_Hz: float = 0.03
    vasomotion_amplitude_percent: float = 2.0
    motion_artefact_rate_per_min: float = 0.5
    latent_rate_in_Hz: float = 10.0
    photometry_rate_in_Hz: float = 1017.25
    ephys_rate_in_Hz: float = 512.0
    session_start_time: str = "2025-01-15T08:00:00+01:00"

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.condition not in CONDITIONS:
            problems.append(f"condition must be one of {CONDITIONS}, got {self.condition!r}")
        if self.seed < 0:
            problems.append(f"seed must be >= 0, got {self.seed}")
        if self.duration_in_s < 600:
            problems.append(f"duration_in_s must be >= 600 s, got {self.duration_in_s}")
        if not 0 < self.ne_frequency_in_Hz < self.latent_rate_in_Hz / 10:
            problems.append(f"ne_frequency_in_Hz must be in (0, latent_rate_in_Hz / 10), got {self.ne_frequency_in_Hz}")
        for name in ("latent_rate_in_Hz", "photometry_rate_in_Hz", "ephys_rate_in_Hz"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be > 0")
        if self.ephys_rate_in_Hz < 100:
            problems.append(f"ephys_rate_in_Hz must be >= 100 Hz to hold the sigma band, got {self.ephys_rate_in_Hz}")
        if not self.drug_time_in_s + self.handling_wake_in_s < self.duration_in_s:
            problems.append("drug_time_in_s + handling_wake_in_s must be inside the session")
        if self.resolved_infusion_start_in_s + self.infusion_duration_in_s >= self.duration_in_s:
            problems.append(
                f"the tracer infusion ({self.resolved_infusion_start_in_s} s + {self.infusion_duration_in_s} s) "
                f"must end before the session ends ({self.duration_in_s} s)"
            )
        if self.vasomotion_stimulation and (
            self.resolved_vasomotion_start_in_s + self.vasomotion_duration_in_s > self.duration_in_s
        ):
            problems.append(
                f"the vasomotion epoch ({self.resolved_vasomotion_start_in_s} s + {self.vasomotion_duration_in_s} s) "
                f"must end before the session ends ({self.duration_in_s} s)"
            )
        if not self.micro_arousal_min_in_s <= self.micro_arousal_max_in_s < self.min_wake_bout_in_s:
            problems.append("need micro_arousal_min_in_s <= micro_arousal_max_in_s < min_wake_bout_in_s")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def resolved_infusion_start_in_s(self) -> float:
        """Infusion start, with the automatic default applied."""
        if self.infusion_start_in_s is not None:
            return float(self.infusion_start_in_s)
        return float(min(self.drug_time_in_s + 600.0, round(0.4 * self.duration_in_s)))

    @property
    def resolved_vasomotion_start_in_s(self) -> float:
        """Vasomotion epoch start, with the automatic default applied."""
        if self.vasomotion_start_in_s is not None:
            return float(self.vasomotion_start_in_s)
        # 70 % into the session, but early enough that the whole epoch (and a minute after it) fits.
        return float(
            max(0.0, min(round(0.7 * self.duration_in_s), self.duration_in_s - self.vasomotion_duration_in_s - 60.0))
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        values = dataclasses.asdict(self)
        if values["lc_stimulation_onsets_in_s"] is not None:
            values["lc_stimulation_onsets_in_s"] = list(values["lc_stimulation_onsets_in_s"])
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SimulationParameters:
        """Build parameters from :meth:`to_dict` output."""
        values = dict(values)
        if values.get("lc_stimulation_onsets_in_s") is not None:
            values["lc_stimulation_onsets_in_s"] = tuple(values["lc_stimulation_onsets_in_s"])
        return cls(**values)
