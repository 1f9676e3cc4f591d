"""One session end to end: readiness check, reduction, every step, metrics.json, figures, report.html.

:func:`run_analysis` is what ``glymph analyze`` and ``glymph demo`` call. It refuses a file that
fails the analysis-readiness validation (``NotReadyError``, exit 1, nothing written), then reads
the file lazily (:mod:`~ndx_glymphatic.analysis.session`), runs :func:`analyze_session`, and
writes the whole output folder atomically (a temporary folder beside ``output_dir``, renamed
into place at the end).
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ndx_glymphatic.analysis import arousal, bouts, coupling, eeg, kinetics, oscillation, triggered
from ndx_glymphatic.analysis import preprocessing as pre
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.session import PhotometryTrace, SessionData, raw_sample_count, read_session
from ndx_glymphatic.errors import InputFileError, NotReadyError

__all__ = [
    "METRICS_SCHEMA_VERSION",
    "AnalysisResult",
    "SessionAnalysis",
    "analyze_session",
    "check_readiness",
    "run_analysis",
    "write_outputs",
]

METRICS_SCHEMA_VERSION = "1.0.0"

#: One period of the ~0.02 Hz NREM NE oscillation (only used to word notes).
_NOMINAL_PERIOD_S = 50.0


class TraceStore(dict):
    """The ~10 Hz traces of a session, kept as float32 (halves what grows with recording length).

    Steps read them back as float64 where they need the precision.
    """

    def __setitem__(self, key: str, value: NDArray[np.floating]) -> None:
        super().__setitem__(key, np.asarray(value, dtype=np.float32))


@dataclass
class SessionAnalysis:
    """Every result of one session, in memory (metrics plus the curves the figures draw).

    Attributes
    ----------
    session : SessionData
        The reduced inputs.
    params : AnalysisParams
    times : ndarray
        The common ~10 Hz grid (the NE grid).
    rate_in_Hz : float
    traces : TraceStore
        float32, on the grid: ``ne_dff``, ``blood_volume_dff``, ``csf_dff`` (percent), their high-passed
        versions ``*_hp``, and ``sigma_power`` (EEG sigma band power).
    labelled : Hypnogram or None
        The hypnogram with the micro-arousal rule applied.
    nrem_bouts : Intervals
    spectra, cross_correlations, triggered_averages : dict
    triggered_spectrograms : dict
    phase_locking : PhaseLocking or None
    kinetics : TracerKinetics or None
    micro_arousals_scored : Intervals or None
    micro_arousals_detected : Events or None
    spindles : Events or None
    metrics : dict
        The ``metrics`` section of metrics.json (NaN as None).
    notes : list of str
    timings_in_s : dict
        Seconds spent reading/reducing the file and running the steps (filled by the callers).
    """

    session: SessionData
    params: AnalysisParams
    times: NDArray[np.float64]
    rate_in_Hz: float
    traces: TraceStore = field(default_factory=TraceStore)
    labelled: bouts.Hypnogram | None = None
    nrem_bouts: bouts.Intervals | None = None
    spectra: dict[str, oscillation.InfraslowSpectrum] = field(default_factory=dict)
    cross_correlations: dict[str, coupling.CrossCorrelation] = field(default_factory=dict)
    triggered_averages: dict[str, dict[str, triggered.TriggeredAverage]] = field(default_factory=dict)
    triggered_spectrograms: dict[str, triggered.TriggeredSpectrogram] = field(default_factory=dict)
    phase_locking: coupling.PhaseLocking | None = None
    kinetics: kinetics.TracerKinetics | None = None
    micro_arousals_scored: bouts.Intervals | None = None
    micro_arousals_detected: eeg.Events | None = None
    spindles: eeg.Events | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings_in_s: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisResult:
    """What :func:`run_analysis` wrote.

    Attributes
    ----------
    output_dir : Path
    metrics_path, report_path : Path
    figure_paths : list of Path
    derived_nwb_path : Path or None
    document : dict
        The full metrics.json content.
    """

    output_dir: Path
    metrics_path: Path
    report_path: Path
    figure_paths: list[Path]
    derived_nwb_path: Path | None
    document: dict[str, Any]

    @property
    def metrics(self) -> dict[str, Any]:
        """The ``metrics`` section."""
        return self.document["metrics"]


# ----------------------------------------------------------------------------- helpers


def _clean(value: Any) -> Any:
    """JSON-ready copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if isinstance(value, np.ndarray):
        return [_clean(item) for item in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def _on_grid(*, trace: pre.DecimatedSeries, times: NDArray[np.float64]) -> NDArray[np.float64]:
    if (
        trace.values.size == times.size
        and abs(trace.starting_time - times[0]) < 1e-9
        and abs(trace.rate_in_Hz - 1.0 / (times[1] - times[0] if times.size > 1 else 1.0)) < 1e-9
    ):
        return trace.values
    return np.interp(times, trace.times, trace.values, left=np.nan, right=np.nan)


def _nanmean(values: NDArray[np.float64]) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def _spectrum_metrics(spectrum: oscillation.InfraslowSpectrum) -> dict[str, Any]:
    return {
        "peak_frequency_in_Hz": spectrum.peak_frequency_in_Hz,
        "peak_period_in_s": 1.0 / spectrum.peak_frequency_in_Hz if spectrum.peak_frequency_in_Hz > 0 else None,
        "peak_power_normalized": spectrum.peak_power,
        "n_bouts": spectrum.n_bouts,
        "total_bout_in_s": spectrum.total_duration_in_s,
    }


def _xcorr_metrics(result: coupling.CrossCorrelation) -> dict[str, Any]:
    return {
        "lag_in_s": result.lag_in_s,
        "value": result.value,
        "extremum": result.extremum,
        "n_bouts": result.n_bouts,
        "bout_lag_s_median": float(np.median(result.bout_lags_in_s)) if result.n_bouts else None,
        "bout_value_median": float(np.median(result.bout_values)) if result.n_bouts else None,
    }


def _response(average: triggered.TriggeredAverage, *, window_in_s: float, kind: str) -> dict[str, Any]:
    """Baseline-subtracted response of a triggered average: mean change and extremum after onset."""
    lags = average.lags_in_s
    if average.n_events == 0:
        return {"n_events": 0, "mean_change": None, "peak_change": None, "peak_lag_in_s": None}
    base = average.mean[(lags < 0) & (lags >= -min(10.0, window_in_s))].mean()
    after = lags >= 0
    change = average.mean[after] - base
    index = int(np.argmax(change) if kind == "max" else np.argmin(change))
    return {
        "n_events": average.n_events,
        "mean_change": float(np.mean(change[lags[after] <= min(20.0, window_in_s)])),
        "peak_change": float(change[index]),
        "peak_lag_in_s": float(lags[after][index]),
    }


# ----------------------------------------------------------------------------- the analysis


def _ne_dff(
    *, session: SessionData, times: NDArray[np.float64], params: AnalysisParams, notes: list[str]
) -> tuple[NDArray[np.float64], dict[str, Any]]:
    p = params.preprocessing
    signal = session.ne_signal
    assert signal is not None
    values = signal.decimated.values
    rate = signal.decimated.rate_in_Hz
    if session.ne_control is None:
        if p.without_control == "refuse":
            raise NotReadyError(
                f"{session.path}: the norepinephrine signal has no control channel "
                "(control_channel = -1) and preprocessing.without_control is 'refuse'"
            )
        dff, f0 = pre.control_free_delta_f_over_f(
            times=times,
            values=values,
            rate_in_Hz=rate,
            baseline_window_in_s=p.baseline_window_in_s,
            bleaching_correction=p.bleaching_correction,
            detrend_window_in_s=p.detrend_window_in_s,
        )
        notes.append(
            "NE has no control channel: dF/F against the median of the first "
            f"{p.baseline_window_in_s:g} s after {p.bleaching_correction} bleaching correction"
        )
        return dff, {"method": "baseline_median", "baseline": f0, "bleaching_correction": p.bleaching_correction}
    control = _on_grid(trace=session.ne_control.decimated, times=times)
    if p.fit_on == "full_rate":
        if session.ne_control.raw_rate_in_Hz != signal.raw_rate_in_Hz:
            raise InputFileError(
                path=session.path,
                field=f"{session.ne_control.name}.rate",
                expected=f"the rate of {signal.name} ({signal.raw_rate_in_Hz} Hz) for a full-rate control fit",
                found=f"{session.ne_control.raw_rate_in_Hz} Hz",
                hint="use preprocessing.fit_on: decimated",
            )
        fit = pre.fit_control_full_rate(
            signal=signal.raw,
            control=session.ne_control.raw,
            method=p.control_fit,
            robust_norm=p.robust_norm,
            chunk_samples=p.chunk_samples,
        )
    else:
        fit = pre.fit_control(signal=values, control=control, method=p.control_fit, robust_norm=p.robust_norm)
    dff = pre.delta_f_over_f(signal=values, fit=fit.apply(control=control))
    return dff, {
        "method": "control_fit",
        "fit": fit.method,
        "fit_on": p.fit_on,
        "slope": fit.slope,
        "intercept": fit.intercept,
        "r_squared": fit.r_squared,
        "n_samples": fit.n_samples,
        "n_iterations": fit.n_iterations,
    }


def _tracer_dff(
    *,
    trace: PhotometryTrace,
    times: NDArray[np.float64],
    infusion_start_in_s: float | None,
    params: AnalysisParams,
    notes: list[str],
    label: str,
) -> tuple[NDArray[np.float64], dict[str, Any]]:
    values = _on_grid(trace=trace.decimated, times=times)
    dff, f0, note = pre.tracer_delta_f_over_f(
        times=times,
        values=values,
        infusion_start_in_s=infusion_start_in_s,
        baseline_in_s=params.preprocessing.tracer_baseline_in_s,
    )
    if note:
        notes.append(f"{label}: {note}")
    return dff, {"baseline": f0, "infusion_start_in_s": infusion_start_in_s, "baseline_note": note}


def analyze_session(*, session: SessionData, params: AnalysisParams) -> SessionAnalysis:
    """Run every step on a reduced session (pure: no file access).

    Parameters
    ----------
    session : SessionData
        From :func:`~ndx_glymphatic.analysis.session.read_session`.
    params : AnalysisParams

    Returns
    -------
    SessionAnalysis
    """
    if session.ne_signal is None:
        raise NotReadyError(f"{session.path}: no norepinephrine signal channel to analyse")
    if session.hypnogram is None:
        raise NotReadyError(f"{session.path}: no hypnogram (sleep_states) to select NREM bouts")
    grid = session.ne_signal.decimated
    times = grid.times
    rate = grid.rate_in_Hz
    result = SessionAnalysis(session=session, params=params, times=times, rate_in_Hz=rate)
    notes = result.notes
    notes.extend(session.notes)
    metrics: dict[str, Any] = {}
    max_gap = max(0, round(params.preprocessing.max_gap_in_s * rate))
    n_missing = int(np.count_nonzero(~np.isfinite(grid.values)))
    if n_missing:
        notes.append(
            f"NE: {n_missing / rate:.1f} s without finite samples; gaps up to {params.preprocessing.max_gap_in_s:g} s "
            "interpolated, longer ones split bouts"
        )

    # photometry
    ne_dff, ne_pre = _ne_dff(session=session, times=times, params=params, notes=notes)
    traces = result.traces
    traces["ne_dff"] = pre.fill_short_gaps(values=ne_dff, max_gap_samples=max_gap)
    metrics["ne"] = {"preprocessing": ne_pre}
    for key, trace, start, label in (
        ("blood_volume", session.blood_volume, session.blood_infusion_start_in_s, "blood volume"),
        ("csf_tracer", session.csf_tracer, session.csf_infusion_start_in_s, "CSF tracer"),
    ):
        if trace is None:
            notes.append(f"no {label} channel: its measures are skipped")
            continue
        dff, info = _tracer_dff(
            trace=trace, times=times, infusion_start_in_s=start, params=params, notes=notes, label=label
        )
        traces[f"{key}_dff"] = pre.fill_short_gaps(values=dff, max_gap_samples=max_gap)
        metrics[key] = {"preprocessing": info}
    osc = params.oscillation
    for key in ("ne", "blood_volume", "csf_tracer"):
        if f"{key}_dff" in traces:
            traces[f"{key}_hp"] = oscillation.highpass_zero_phase(
                values=traces[f"{key}_dff"], rate_in_Hz=rate, cutoff_in_Hz=osc.highpass_in_Hz, order=osc.highpass_order
            )

    # sleep states and bouts
    rule = params.bouts
    rule_kwargs = {
        "max_duration_in_s": rule.micro_arousal_max_duration_in_s,
        "requires_flanking_nrem": rule.micro_arousal_requires_flanking_nrem,
        "contiguity_tolerance_in_s": rule.contiguity_tolerance_in_s,
    }
    hypnogram = session.hypnogram
    result.labelled = bouts.apply_micro_arousal_rule(hypnogram=hypnogram, **rule_kwargs)
    nrem = bouts.nrem_bouts(
        hypnogram=hypnogram, split_at_micro_arousals=rule.split_bouts_at_micro_arousals, **rule_kwargs
    )
    result.nrem_bouts = nrem
    metrics["states"] = bouts.state_summary(hypnogram=hypnogram, **rule_kwargs)
    state_masks = {
        state: bouts.state_mask(times=times, hypnogram=result.labelled, state=state)
        for state in ("wake", "NREM", "REM", "micro-arousal")
    }
    for key in ("ne", "blood_volume", "csf_tracer"):
        if f"{key}_dff" in traces:
            metrics[key]["mean_dff_by_state"] = {
                state: _nanmean(traces[f"{key}_dff"][mask]) for state, mask in state_masks.items()
            }

    def ranges(min_duration_in_s: float, values: NDArray[np.float64] | None = None) -> list[tuple[int, int]]:
        return bouts.bout_sample_ranges(
            bouts=nrem,
            starting_time=times[0],
            rate_in_Hz=rate,
            n_samples=times.size,
            values=traces["ne_dff"] if values is None else values,
            min_duration_in_s=min_duration_in_s,
        )

    oscillation_ranges = ranges(osc.min_bout_in_s)
    all_nrem_ranges = ranges(0.0)
    longest = max((b - a for a, b in all_nrem_ranges), default=0) / rate
    if not oscillation_ranges:
        notes.append(
            f"no NREM bout of at least {osc.min_bout_in_s:g} s (longest: {longest:.0f} s; session "
            f"{session.duration_in_s:.0f} s): the infraslow spectra, peak frequencies and amplitudes are "
            "not defined (null)"
        )
    spectrum_kwargs = {
        "rate_in_Hz": rate,
        "bout_ranges": oscillation_ranges,
        "detrend_order": osc.detrend_order,
        "fmax_in_Hz": osc.fmax_in_Hz,
        "frequency_step_in_Hz": osc.frequency_step_in_Hz,
        "welch_segment_in_s": osc.welch_segment_in_s,
        "welch_overlap": osc.welch_overlap,
        "peak_search_in_Hz": osc.peak_search_in_Hz,
        "normalisation_fmax_in_Hz": osc.normalisation_fmax_in_Hz,
        "normalisation_percentile": osc.normalisation_percentile,
        "already_highpassed": True,
    }
    for key in ("ne", "blood_volume", "csf_tracer"):
        if f"{key}_hp" in traces:
            result.spectra[key] = oscillation.infraslow_spectrum(values=traces[f"{key}_hp"], **spectrum_kwargs)
    peaks = oscillation.oscillation_peaks(
        values=traces["ne_dff"],
        rate_in_Hz=rate,
        bout_ranges=all_nrem_ranges,
        min_distance_in_s=osc.peak_min_distance_in_s,
        min_prominence=osc.peak_min_prominence,
    )
    amplitudes = oscillation.oscillation_amplitude(
        values=traces["ne_hp"], bout_ranges=oscillation_ranges, percentiles=osc.amplitude_percentiles
    )
    metrics["ne"]["oscillation"] = {
        **_spectrum_metrics(result.spectra["ne"]),
        "n_peaks": peaks.n_peaks,
        "peak_rate_per_min": peaks.rate_per_min,
        "peak_rate_in_Hz": peaks.rate_per_min / 60.0 if math.isfinite(peaks.rate_per_min) else None,
        "nrem_searched_in_s": peaks.duration_in_s,
        "amplitude_percent_mean": float(np.nanmean(amplitudes)) if amplitudes.size else None,
        "amplitude_percent_median": float(np.nanmedian(amplitudes)) if amplitudes.size else None,
    }
    result.metrics = metrics
    if session.duration_in_s < _NOMINAL_PERIOD_S:
        notes.append(
            f"the session ({session.duration_in_s:.0f} s) is shorter than one ~{_NOMINAL_PERIOD_S:.0f}-s period of "
            "the NREM NE oscillation"
        )
    elif all_nrem_ranges and longest < _NOMINAL_PERIOD_S:
        notes.append(
            f"the longest NREM bout ({longest:.0f} s) is shorter than one ~{_NOMINAL_PERIOD_S:.0f}-s "
            "NE oscillation period"
        )
    for key in ("blood_volume", "csf_tracer"):
        if key in result.spectra:
            metrics[key]["oscillation"] = _spectrum_metrics(result.spectra[key])

    # EEG
    spectrogram = session.spectrogram
    if spectrogram is not None and spectrogram.times.size:
        band = eeg.band_powers(spectrogram=spectrogram, bands=params.eeg.bands)
        spec_masks = {
            state: bouts.state_mask(times=spectrogram.times, hypnogram=result.labelled, state=state)
            for state in ("wake", "NREM", "REM", "micro-arousal")
        }
        metrics["eeg"] = {
            "band_power_by_state_V2": {
                state: {name: _nanmean(values[mask]) for name, values in band.items()}
                for state, mask in spec_masks.items()
                if np.any(mask)
            }
        }
        sigma = np.interp(times, spectrogram.times, band["sigma"], left=np.nan, right=np.nan)
        traces["sigma_power"] = sigma
        traces["sigma_hp"] = oscillation.highpass_zero_phase(
            values=sigma, rate_in_Hz=rate, cutoff_in_Hz=osc.highpass_in_Hz, order=osc.highpass_order
        )
        sigma_ranges = ranges(osc.min_bout_in_s, values=traces["sigma_hp"] + traces["ne_dff"])
        result.spectra["sigma"] = oscillation.infraslow_spectrum(
            values=traces["sigma_hp"], **{**spectrum_kwargs, "bout_ranges": sigma_ranges}
        )
        metrics["eeg"]["sigma_infraslow"] = _spectrum_metrics(result.spectra["sigma"])
        pl = params.phase_locking
        result.phase_locking = coupling.phase_locking(
            oscillation=traces["ne_dff"],
            amplitude=sigma,
            rate_in_Hz=rate,
            bout_ranges=ranges(pl.min_bout_in_s, values=sigma + traces["ne_dff"]),
            band_in_Hz=pl.ne_band_in_Hz,
            n_surrogates=pl.n_surrogates,
            min_shift_in_s=pl.min_shift_in_s,
            seed=pl.seed,
        )
        lock = result.phase_locking
        metrics["eeg"]["sigma_phase_locking"] = {
            "mean_vector_length": lock.mean_vector_length,
            "preferred_phase_rad": lock.preferred_phase_rad,
            "preferred_phase_deg": math.degrees(lock.preferred_phase_rad)
            if math.isfinite(lock.preferred_phase_rad)
            else None,
            "p_value": lock.p_value,
            "surrogate_mean": lock.surrogate_mean,
            "n_bouts": lock.n_bouts,
            "n_surrogates": pl.n_surrogates,
        }
        spindle_envelope = session.eeg_envelopes.get("spindle")
        if spindle_envelope is not None:
            nrem_rows = result.labelled.intervals(state="NREM")
            in_nrem = spindle_envelope.mask_inside(starts=nrem_rows.starts, stops=nrem_rows.stops)
            result.spindles = eeg.detect_spindles(
                envelope=spindle_envelope,
                nrem_mask=in_nrem,
                threshold_sd=params.eeg.spindle_threshold_sd,
                min_duration_in_s=params.eeg.spindle_min_in_s,
                max_duration_in_s=params.eeg.spindle_max_in_s,
            )
            nrem_minutes = np.count_nonzero(in_nrem) / spindle_envelope.rate_in_Hz / 60.0
            metrics["eeg"]["spindles"] = {
                "n": len(result.spindles),
                "density_per_min_nrem": len(result.spindles) / nrem_minutes if nrem_minutes > 0 else None,
                "mean_duration_in_s": float(result.spindles.durations.mean()) if len(result.spindles) else None,
                "threshold_V2": result.spindles.threshold,
            }
    else:
        notes.append("no EEG: band powers, spindles and sigma coupling are skipped")

    # coupling
    cp = params.coupling
    pairs = [
        ("ne_vs_blood_volume", "ne_hp", "blood_volume_hp", cp.max_lag_in_s),
        ("ne_vs_csf", "ne_hp", "csf_tracer_hp", cp.max_lag_in_s),
        ("blood_volume_vs_csf", "blood_volume_hp", "csf_tracer_hp", cp.max_lag_in_s),
        ("ne_vs_sigma", "ne_hp", "sigma_hp", cp.sigma_max_lag_in_s),
    ]
    metrics["coupling"] = {}
    ne_frequency = result.spectra["ne"].peak_frequency_in_Hz
    half_period = 0.5 / ne_frequency if cp.extremum_search == "half_period" and ne_frequency > 0 else None
    for name, first, second, max_lag in pairs:
        if first not in traces or second not in traces:
            continue
        pair_ranges = ranges(cp.min_bout_in_s, values=traces[first] + traces[second])
        result.cross_correlations[name] = coupling.bout_cross_correlation(
            first=traces[first],
            second=traces[second],
            rate_in_Hz=rate,
            bout_ranges=pair_ranges,
            max_lag_in_s=max_lag,
            detrend_order=cp.detrend_order,
            kind=cp.extremum.get(name, "abs"),
            max_abs_lag_in_s=half_period,
        )
        metrics["coupling"][name] = _xcorr_metrics(result.cross_correlations[name])
    metrics["coupling"]["sign_convention"] = "positive lag: the second signal lags (follows) the first"
    metrics["coupling"]["extremum_searched_within_in_s"] = half_period

    # micro-arousals
    ar = params.arousal
    scored = bouts.micro_arousals(hypnogram=hypnogram, **rule_kwargs)
    result.micro_arousals_scored = scored
    ma_metrics: dict[str, Any] = {"scored_n": len(scored)}
    if session.emg_envelope is not None:
        detected = arousal.detect_micro_arousals(
            emg_power=session.emg_envelope,
            nrem_periods=bouts.nrem_bouts(hypnogram=hypnogram, split_at_micro_arousals=False, **rule_kwargs),
            delta_power=session.eeg_envelopes.get("delta"),
            emg_threshold=ar.emg_threshold,
            eeg_threshold=ar.eeg_threshold,
            min_duration_in_s=ar.min_duration_in_s,
            max_duration_in_s=rule.micro_arousal_max_duration_in_s,
            merge_gap_in_s=ar.merge_gap_in_s,
        )
        result.micro_arousals_detected = detected
        score = arousal.score_events(
            detected_onsets=detected.onsets, reference_onsets=scored.starts, tolerance_in_s=ar.onset_tolerance_in_s
        )
        nrem_hours = (metrics["states"]["NREM"]["total_in_s"] + metrics["states"]["micro-arousal"]["total_in_s"]) / 3600
        ma_metrics.update(
            {
                "detected_n": len(detected),
                "detected_per_hour_nrem": len(detected) / nrem_hours if nrem_hours > 0 else None,
                "detection_vs_scored": {
                    "precision": score.precision,
                    "recall": score.recall,
                    "f1": score.f1,
                    "onset_tolerance_in_s": score.tolerance_in_s,
                    "median_onset_error_in_s": float(np.median(score.onset_errors_in_s))
                    if score.onset_errors_in_s.size
                    else None,
                },
            }
        )
    else:
        notes.append("no EMG: micro-arousal detection is skipped")
    onsets = arousal.isolated_events(
        onsets=scored.starts,
        durations=scored.durations,
        isolation_in_s=ar.triggered_isolation_in_s,
        duration_range_in_s=ar.triggered_duration_in_s,
    )
    window = (-ar.triggered_window_in_s, ar.triggered_window_in_s)
    ma_averages = {
        key: triggered.event_triggered_average(
            values=traces[key], rate_in_Hz=rate, starting_time=times[0], event_times=onsets, window_in_s=window
        )
        for key in ("ne_dff", "blood_volume_hp", "csf_tracer_hp", "sigma_power")
        if key in traces
    }
    result.triggered_averages["micro_arousal"] = ma_averages
    ma_metrics["triggered"] = {
        "n_isolated": int(onsets.size),
        "ne": _response(ma_averages["ne_dff"], window_in_s=ar.triggered_window_in_s, kind="max"),
    }
    if "blood_volume_hp" in ma_averages:
        ma_metrics["triggered"]["blood_volume"] = _response(
            ma_averages["blood_volume_hp"], window_in_s=ar.triggered_window_in_s, kind="min"
        )
    metrics["micro_arousals"] = ma_metrics

    # stimulation
    tp = params.triggered
    for key, epochs, triggers in (
        ("lc_stimulation", session.lc_stimulation, "starts"),
        ("vasomotion_stimulation", session.vasomotion_stimulation, "pulse_onsets"),
    ):
        if epochs is None:
            continue
        events = getattr(epochs, triggers)
        averages = {
            name: triggered.event_triggered_average(
                values=traces[name],
                rate_in_Hz=rate,
                starting_time=times[0],
                event_times=events,
                window_in_s=(-tp.window_in_s, tp.window_in_s),
            )
            for name in ("ne_dff", "blood_volume_dff", "csf_tracer_dff", "sigma_power")
            if name in traces
        }
        result.triggered_averages[key] = averages
        stim: dict[str, Any] = {"n_epochs": int(epochs.starts.size), "n_triggers": int(np.size(events))}
        for name, kind in (("ne_dff", "max"), ("blood_volume_dff", "min"), ("csf_tracer_dff", "max")):
            if name in averages:
                stim[name.removesuffix("_dff")] = _response(averages[name], window_in_s=tp.window_in_s, kind=kind)
        if spectrogram is not None and spectrogram.times.size:
            result.triggered_spectrograms[key] = triggered.triggered_spectrogram(
                spectrogram=spectrogram,
                event_times=events,
                window_in_s=(-tp.window_in_s, tp.window_in_s),
                baseline_in_s=tp.baseline_in_s,
            )
            ts = result.triggered_spectrograms[key]
            if ts.n_events:
                sigma_band = params.eeg.bands["sigma"]
                in_band = (ts.frequencies_in_Hz >= sigma_band[0]) & (ts.frequencies_in_Hz < sigma_band[1])
                after = (ts.lags_in_s >= 0) & (ts.lags_in_s <= min(20.0, tp.window_in_s))
                stim["sigma_power_change_percent"] = float(
                    ts.relative_power_percent[np.ix_(after, in_band)].mean() - 100.0
                )
        if key == "vasomotion_stimulation":
            stim["modulation_frequency_in_Hz"] = epochs.modulation_frequency_in_Hz
            if "blood_volume_hp" in traces:
                epoch_ranges = [
                    (max(0, round((a - times[0]) * rate)), min(times.size, round((b - times[0]) * rate)))
                    for a, b in zip(epochs.starts, epochs.stops)
                ]
                epoch_spectrum = oscillation.infraslow_spectrum(
                    values=traces["blood_volume_hp"], **{**spectrum_kwargs, "bout_ranges": epoch_ranges}
                )
                stim["blood_volume_peak_frequency_in_Hz"] = epoch_spectrum.peak_frequency_in_Hz
        metrics[key] = stim

    # tracer kinetics
    if "csf_tracer_dff" in traces:
        if session.csf_infusion_start_in_s is None:
            notes.append("no CSF tracer infusion recorded: influx kinetics are skipped")
        else:
            kp = params.kinetics
            period = 1.0 / ne_frequency if ne_frequency > 0 else _NOMINAL_PERIOD_S
            result.kinetics = kinetics.tracer_kinetics(
                times=times,
                dff=traces["csf_tracer_dff"],
                infusion_start_in_s=session.csf_infusion_start_in_s,
                rise_low_percent=kp.rise_low_percent,
                rise_high_percent=kp.rise_high_percent,
                smoothing_in_s=kp.smoothing_periods * period,
                efflux_fraction=kp.efflux_fraction,
            )
            k = result.kinetics
            metrics["csf_tracer"].update(
                {
                    "peak_percent": k.peak_percent,
                    "peak_time_in_s": k.peak_time_in_s,
                    "t10_in_s": k.t10_in_s,
                    "t90_in_s": k.t90_in_s,
                    "rise_time_in_s": k.rise_time_in_s,
                    "influx_slope_percent_per_min": k.influx_slope_percent_per_min,
                    "efflux_half_time_in_s": k.efflux_half_time_in_s,
                    "efflux_slope_percent_per_min": k.efflux_slope_percent_per_min,
                }
            )
            notes.extend(f"CSF tracer: {note}" for note in k.notes)
    result.metrics = metrics
    return result


# ----------------------------------------------------------------------------- files


def check_readiness(*, path: Path) -> None:
    """Run the analysis-readiness validation; raise :class:`NotReadyError` listing the violations.

    Parameters
    ----------
    path : Path
        The NWB file.
    """
    from ndx_glymphatic.validators.api import validate_file

    report = validate_file(path=path, profile="analysis")
    if not report.is_conformant:
        raise NotReadyError(
            f"{path} is not ready for analysis; nothing was written. Fix these and run again:\n" + report.format_text()
        )


def _document(*, analysis: SessionAnalysis, nwb_path: Path) -> dict[str, Any]:
    from ndx_glymphatic import __version__

    session = analysis.session
    curves: dict[str, Any] = {}
    for key, spectrum in analysis.spectra.items():
        curves[f"{key}_spectrum"] = {
            "frequencies_in_Hz": spectrum.frequencies_in_Hz,
            "normalized_psd": spectrum.normalized_psd,
        }
    for key, result in analysis.cross_correlations.items():
        step = max(1, round(analysis.rate_in_Hz / 2))
        curves[f"{key}_xcorr"] = {"lags_in_s": result.lags_in_s[::step], "mean": result.mean[::step]}
    return _clean(
        {
            "schema_version": METRICS_SCHEMA_VERSION,
            "package": {"name": "ndx-glymphatic", "version": __version__},
            "input": {
                "path": str(nwb_path),
                "identifier": session.identifier,
                "session_id": session.session_id,
                "subject_id": session.subject_id,
                "condition": session.condition,
                "is_control": session.is_control,
                "session_start_time": session.session_start_time,
                "duration_in_s": session.duration_in_s,
                "drug": session.drug,
                "channels": {
                    key: getattr(session, key).name if getattr(session, key) is not None else None
                    for key in ("ne_signal", "ne_control", "blood_volume", "csf_tracer")
                },
            },
            "parameters": analysis.params.to_dict(),
            "notes": analysis.notes,
            "metrics": analysis.metrics,
            "curves": curves,
            "run": {"timings_in_s": analysis.timings_in_s},
        }
    )


def metrics_schema() -> dict[str, Any]:
    """The JSON Schema of metrics.json (``metrics_schema.json``)."""
    from importlib import resources

    return json.loads(resources.files("ndx_glymphatic.analysis").joinpath("metrics_schema.json").read_text())


@functools.lru_cache(maxsize=1)
def _metrics_validator() -> Any:
    import jsonschema

    schema = metrics_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _write_derived_copy(*, nwb_path: Path, destination: Path, analysis: SessionAnalysis) -> None:
    from pynwb import NWBHDF5IO, TimeSeries

    shutil.copyfile(nwb_path, destination)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(str(destination), mode="a", load_namespaces=True) as io:
            nwbfile = io.read()
            module = nwbfile.create_processing_module(
                name="glymph_analysis",
                description="Derived series of `glymph analyze` (ndx-glymphatic reference analysis).",
            )
            descriptions = {
                "ne_dff": "Norepinephrine dF/F (percent) after smoothing, decimation and control fit.",
                "blood_volume_dff": "Blood-volume dF/F (percent) against the pre-infusion baseline median.",
                "csf_tracer_dff": "CSF tracer dF/F (percent) against the pre-infusion baseline median.",
                "sigma_power": "EEG sigma-band power (V^2) interpolated onto the photometry grid.",
            }
            for key, description in descriptions.items():
                if key in analysis.traces:
                    module.add(
                        TimeSeries(
                            name=key,
                            data=analysis.traces[key].astype(np.float32),
                            unit="V^2" if key == "sigma_power" else "percent",
                            rate=float(analysis.rate_in_Hz),
                            starting_time=float(analysis.times[0]),
                            description=description,
                        )
                    )
            io.write(nwbfile)


def write_outputs(
    *,
    analysis: SessionAnalysis,
    nwb_path: Path,
    folder: Path,
    write_derived: bool = False,
    figures: bool = True,
) -> tuple[dict[str, Any], list[Path], Path | None]:
    """Write metrics.json, figures/*.png, report.html (and optionally a derived NWB copy) into ``folder``.

    With ``figures=False`` only metrics.json (and the derived copy) are written.

    Returns
    -------
    document : dict
    figures : list of Path
    derived : Path or None
    """
    from ndx_glymphatic.analysis.report import render_session_figures, render_session_report

    document = _document(analysis=analysis, nwb_path=nwb_path)
    _metrics_validator().validate(document)
    (folder / "metrics.json").write_text(json.dumps(document, indent=2) + "\n")
    figure_paths: list[Path] = []
    if figures:
        figure_paths = render_session_figures(analysis=analysis, folder=folder / "figures")
        render_session_report(analysis=analysis, document=document, figures=figure_paths, path=folder / "report.html")
    derived = None
    if write_derived:
        derived = folder / f"{nwb_path.stem}_derived.nwb"
        _write_derived_copy(nwb_path=nwb_path, destination=derived, analysis=analysis)
    return document, figure_paths, derived


class _Progress:
    def __init__(self, *, total: int, enabled: bool, description: str) -> None:
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="sample", unit_scale=True, desc=description, leave=False)

    def __call__(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def prepare_output_dir(*, output_dir: Path, overwrite: bool) -> Path:
    """Check ``output_dir`` may be (re)placed; return a fresh temporary folder beside it."""
    if output_dir.exists() and not output_dir.is_dir():
        raise InputFileError(path=output_dir, field="output folder", expected="a folder path", found="an existing file")
    if output_dir.exists() and any(output_dir.iterdir()) and not overwrite:
        raise InputFileError(
            path=output_dir,
            field="output folder",
            expected="a new or empty folder",
            found="a folder with files",
            hint="pass --overwrite to replace it",
        )
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", suffix=".partial", dir=output_dir.parent))


def commit_output_dir(*, temporary: Path, output_dir: Path) -> None:
    """Move the finished temporary folder into place (replacing an old ``output_dir``)."""
    if output_dir.exists():
        old = output_dir.with_name(f".{output_dir.name}.old-{os.getpid()}")
        os.replace(output_dir, old)
        os.replace(temporary, output_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(temporary, output_dir)


def run_analysis(
    *,
    nwb_path: str | Path,
    output_dir: str | Path,
    params: AnalysisParams | None = None,
    overwrite: bool = False,
    show_progress: bool | None = None,
    write_derived: bool = False,
    check: bool = True,
    figures: bool = True,
) -> AnalysisResult:
    """Analyse one session file and write metrics.json, figures and report.html into ``output_dir``.

    Parameters
    ----------
    nwb_path : str or Path
        The NWB file.
    output_dir : str or Path
        Folder to create (or replace with ``overwrite``); written atomically.
    params : AnalysisParams, optional
        Defaults: the published values.
    overwrite : bool
        Replace a non-empty ``output_dir``.
    show_progress : bool, optional
        tqdm bar; default: only when stderr is a terminal.
    write_derived : bool
        Also write ``<name>_derived.nwb``: a copy of the file with the dF/F series in a processing
        module ``glymph_analysis``.
    check : bool
        Run the analysis-readiness validation first (the command line always does).
    figures : bool
        Draw the figures and report.html (False: metrics.json only).

    Returns
    -------
    AnalysisResult

    Raises
    ------
    NotReadyError
        The file failed the readiness validation (nothing written).
    InputFileError
        Unreadable input or unusable output folder.
    """
    from pynwb import NWBHDF5IO

    nwb_path = Path(nwb_path)
    output_dir = Path(output_dir)
    params = params or AnalysisParams()
    if not nwb_path.is_file():
        raise InputFileError(path=nwb_path, field="input", expected="an existing NWB file", found="nothing")
    if output_dir.exists() and any(output_dir.iterdir()) and not overwrite:
        prepare_output_dir(output_dir=output_dir, overwrite=overwrite)
    if check:
        check_readiness(path=nwb_path)
    enabled = sys.stderr.isatty() if show_progress is None else show_progress
    temporary = prepare_output_dir(output_dir=output_dir, overwrite=overwrite)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            io = NWBHDF5IO(str(nwb_path), mode="r", load_namespaces=True)
        try:
            nwbfile = io.read()
            progress = _Progress(
                total=raw_sample_count(nwbfile=nwbfile), enabled=enabled, description=f"reading {nwb_path.name}"
            )
            try:
                started = time.perf_counter()
                session = read_session(nwbfile=nwbfile, path=str(nwb_path), params=params, progress=progress)
                read_in_s = time.perf_counter() - started
            finally:
                progress.close()
            # the file stays open for the steps: a full-rate control fit reads the raw streams
            started = time.perf_counter()
            analysis = analyze_session(session=session, params=params)
            analysis.timings_in_s = {"read_and_reduce": read_in_s, "steps": time.perf_counter() - started}
        finally:
            io.close()
        document, figure_paths, derived = write_outputs(
            analysis=analysis, nwb_path=nwb_path, folder=temporary, write_derived=write_derived, figures=figures
        )
        commit_output_dir(temporary=temporary, output_dir=output_dir)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return AnalysisResult(
        output_dir=output_dir,
        metrics_path=output_dir / "metrics.json",
        report_path=output_dir / "report.html",
        figure_paths=[output_dir / "figures" / path.name for path in figure_paths],
        derived_nwb_path=output_dir / derived.name if derived is not None else None,
        document=document,
    )
