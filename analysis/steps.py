"""The analysis steps of one session, each behind one contract.

A :class:`Step` has a ``name``, the params sections it reads, the :class:`Requirement` objects it
declares (what a file must hold for its measures to be defined) and ``run(context) -> StepResult``.
:data:`SESSION_STEPS` runs in order on one :class:`StepContext`: later steps read the traces and the
curves of earlier ones. A :class:`StepResult` carries

- ``metrics``: typed sections of metrics.json (:mod:`~ndx_glymphatic.analysis.metrics`), by dotted path;
- ``curves``: the numerical results in memory (arrays, spectra, correlograms, events) that figures
  draw and later steps read, by name;
- ``document_curves``: the small arrays metrics.json carries for the cohort (``*_spectrum``, ``*_xcorr``);
- ``figures``: the names of the figures its curves feed (:mod:`~ndx_glymphatic.analysis.report` decides
  how and where they are drawn);
- ``notes``: edge cases met and fallbacks taken.

The readiness gate (:mod:`~ndx_glymphatic.analysis.readiness`) is generated from the requirements,
so what the gate accepts is what the steps can compute.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from ndx_glymphatic.analysis import arousal, bouts, coupling, eeg, kinetics, oscillation, triggered
from ndx_glymphatic.analysis import metrics as m
from ndx_glymphatic.analysis import preprocessing as pre
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.requirements import (
    ControlAtSignalRate,
    ControlIsAControl,
    ElectricalSeriesPresent,
    HypnogramPresent,
    InfusionForChannel,
    MinimumDuration,
    MinimumRate,
    NamedControl,
    NremBout,
    NremInRecording,
    Requirement,
    Severity,
    SignalChannel,
)
from ndx_glymphatic.analysis.session import PhotometryTrace, SessionData
from ndx_glymphatic.errors import InputFileError, NotReadyError

__all__ = [
    "SESSION_STEPS",
    "CouplingStep",
    "EEGStep",
    "KineticsStep",
    "MicroArousalStep",
    "OscillationStep",
    "PhotometryStep",
    "StatesStep",
    "Step",
    "StepContext",
    "StepResult",
    "StimulationStep",
    "TraceStore",
    "bout_rule",
]

#: One period of the ~0.02 Hz NREM NE oscillation (only used to word notes and as a fallback period).
NOMINAL_PERIOD_IN_S = 50.0

_STATES = ("wake", "NREM", "REM", "micro-arousal")
_PHOTOMETRY = ("ne", "blood_volume", "csf_tracer")


class TraceStore(dict):
    """The ~10 Hz traces of a session, kept as float32 (halves what grows with recording length).

    Steps read them back as float64 where they need the precision.
    """

    def __setitem__(self, key: str, value: NDArray[np.floating]) -> None:
        super().__setitem__(key, np.asarray(value, dtype=np.float32))


@dataclass(frozen=True)
class StepResult:
    """What one step produced (see the module docstring)."""

    metrics: Mapping[str, BaseModel] = field(default_factory=dict)
    curves: Mapping[str, Any] = field(default_factory=dict)
    document_curves: Mapping[str, Mapping[str, NDArray[np.floating]]] = field(default_factory=dict)
    figures: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class StepContext:
    """What a step reads: the reduced session, the parameters, the grid and earlier steps' results.

    Attributes
    ----------
    session : SessionData
    params : AnalysisParams
    times : ndarray
        The common ~10 Hz grid (the NE grid).
    rate_in_Hz : float
    traces : TraceStore
        float32 traces on the grid, added by the steps: ``ne_dff``, ``blood_volume_dff``,
        ``csf_tracer_dff`` (percent), their high-passed versions ``*_hp``, ``sigma_power``, ``sigma_hp``.
    results : dict
        Results of the steps run so far, by step name.
    """

    session: SessionData
    params: AnalysisParams
    times: NDArray[np.float64]
    rate_in_Hz: float
    traces: TraceStore = field(default_factory=TraceStore)
    results: dict[str, StepResult] = field(default_factory=dict)

    def curve(self, name: str) -> Any | None:
        """The curve ``name`` of an earlier step (None when no step made it)."""
        for result in self.results.values():
            if name in result.curves:
                return result.curves[name]
        return None

    def bout_ranges(
        self, *, min_duration_in_s: float, values: NDArray[np.floating] | None = None
    ) -> list[tuple[int, int]]:
        """Grid ranges of the NREM bouts of at least ``min_duration_in_s``, split where ``values`` is NaN.

        ``values`` defaults to the NE dF/F (its gaps split every bout).
        """
        return bouts.bout_sample_ranges(
            bouts=self.curve("nrem_bouts"),
            starting_time=self.times[0],
            rate_in_Hz=self.rate_in_Hz,
            n_samples=self.times.size,
            values=self.traces["ne_dff"] if values is None else values,
            min_duration_in_s=min_duration_in_s,
        )

    def peak_frequency_in_Hz(self) -> float:
        """The NE spectral peak (NaN until the oscillation step found one)."""
        spectrum = self.curve("ne_spectrum")
        return spectrum.peak_frequency_in_Hz if spectrum is not None else float("nan")


class Step(ABC):
    """One analysis step.

    Attributes
    ----------
    name : str
        Key of its result in :attr:`StepContext.results`.
    params_sections : tuple of str
        The sections of :class:`AnalysisParams` it reads.
    """

    name: ClassVar[str]
    params_sections: ClassVar[tuple[str, ...]]

    def requirements(self, *, params: AnalysisParams) -> tuple[Requirement, ...]:
        """What a file must hold for this step's measures to be defined, under ``params``."""
        return ()

    @abstractmethod
    def run(self, *, context: StepContext) -> StepResult:
        """Compute the step's measures on ``context`` (may add traces to ``context.traces``)."""


def bout_rule(*, params: AnalysisParams) -> bouts.BoutRule:
    """The micro-arousal rule and bout joining of ``params.bouts``."""
    rule = params.bouts
    return bouts.BoutRule(
        max_duration_in_s=rule.micro_arousal_max_duration_in_s,
        requires_flanking_nrem=rule.micro_arousal_requires_flanking_nrem,
        contiguity_tolerance_in_s=rule.contiguity_tolerance_in_s,
        split_at_micro_arousals=rule.split_bouts_at_micro_arousals,
    )


def _nrem_bout_requirement(
    *, params: AnalysisParams, name: str, severity: Severity, min_bout_in_s: float, key: str, why: str
) -> NremBout:
    p = params.preprocessing
    return NremBout(
        name=name,
        severity=severity,
        why=f"at least one NREM bout (by the micro-arousal rule of `bouts`) of >= {key} ({min_bout_in_s:g} s) "
        f"within the NE recording: {why}",
        series="norepinephrine",
        min_bout_in_s=min_bout_in_s,
        rule=bout_rule(params=params),
        decimation=(p.decimation_factor, p.smoothing_window_samples, p.reference_rate_in_Hz),
    )


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


def _spectrum_options(*, params: AnalysisParams, rate_in_Hz: float) -> dict[str, Any]:
    """Keyword arguments of :func:`~ndx_glymphatic.analysis.oscillation.infraslow_spectrum` but the bouts."""
    osc = params.oscillation
    return {
        "rate_in_Hz": rate_in_Hz,
        "detrend_order": osc.detrend_order,
        "fmax_in_Hz": osc.fmax_in_Hz,
        "frequency_step_in_Hz": osc.frequency_step_in_Hz,
        "welch_segment_in_s": osc.welch_segment_in_s,
        "welch_overlap": osc.welch_overlap,
        "peak_search_in_Hz": osc.peak_search_in_Hz,
        "normalisation_fmax_in_Hz": osc.normalisation_fmax_in_Hz,
        "normalisation_percentile": osc.normalisation_percentile,
        "already_highpassed": True,
        "psd_method": osc.psd_method,
        "peak_pick": osc.peak_pick,
    }


def _spectrum_summary(spectrum: oscillation.InfraslowSpectrum) -> dict[str, Any]:
    return {
        "peak_frequency_in_Hz": spectrum.peak_frequency_in_Hz,
        "peak_period_in_s": 1.0 / spectrum.peak_frequency_in_Hz if spectrum.peak_frequency_in_Hz > 0 else None,
        "peak_power_normalized": spectrum.peak_power,
        "n_bouts": spectrum.n_bouts,
        "total_bout_in_s": spectrum.total_duration_in_s,
    }


def _spectrum_curve(spectrum: oscillation.InfraslowSpectrum) -> dict[str, NDArray[np.floating]]:
    return {"frequencies_in_Hz": spectrum.frequencies_in_Hz, "normalized_psd": spectrum.normalized_psd}


def _response(average: triggered.TriggeredAverage, *, window_in_s: float, kind: str) -> m.Response:
    """Baseline-subtracted response of a triggered average: mean change and extremum after onset."""
    lags = average.lags_in_s
    if average.n_events == 0:
        return m.Response(n_events=0, mean_change=None, peak_change=None, peak_lag_in_s=None)
    base = average.mean[(lags < 0) & (lags >= -min(10.0, window_in_s))].mean()
    after = lags >= 0
    change = average.mean[after] - base
    index = int(np.argmax(change) if kind == "max" else np.argmin(change))
    return m.Response(
        n_events=average.n_events,
        mean_change=float(np.mean(change[lags[after] <= min(20.0, window_in_s)])),
        peak_change=float(change[index]),
        peak_lag_in_s=float(lags[after][index]),
    )


# ----------------------------------------------------------------------------- photometry


class PhotometryStep(Step):
    """dF/F of the NE signal (control fit, or a baseline median without control) and of the tracers.

    Adds the traces ``ne_dff``, ``blood_volume_dff`` and ``csf_tracer_dff`` (short gaps filled).
    """

    name = "photometry"
    params_sections = ("preprocessing",)

    #: The reference analysis smooths to ~10 Hz and finds NE peaks >= 10 s apart in the 0-0.1 Hz band.
    MIN_RATE_IN_Hz = 2.0

    def requirements(self, *, params: AnalysisParams) -> tuple[Requirement, ...]:
        requirements: list[Requirement] = [
            SignalChannel(
                name="analysis_ne_signal",
                severity="error",
                why="a photometry channel measuring norepinephrine with role 'signal', with its data: every NE "
                "measure (oscillation rate, amplitude, spectrum, coupling) is computed from it",
                measured_quantity="norepinephrine",
            ),
            NamedControl(
                name="analysis_ne_control",
                # without a control the step falls back to a baseline median, unless told to refuse
                severity="error" if params.preprocessing.without_control == "refuse" else "warning",
                why="the NE signal's control channel (control_channel -> an 'isosbestic control' or 'reference "
                "control' row with data): dF/F fits the control to the signal to remove motion and bleaching; "
                "without one it falls back to the median of a baseline (analysis parameter "
                "preprocessing.without_control)",
                measured_quantity="norepinephrine",
            ),
            ControlIsAControl(
                name="analysis_ne_control_is_a_control",
                severity="error",
                why="the NE signal's control_channel, when set, to point at an 'isosbestic control' or 'reference "
                "control' row: dF/F fits that row to the signal",
                measured_quantity="norepinephrine",
            ),
            MinimumRate(
                name="analysis_photometry_rate",
                severity="error",
                why=f"the NE signal sampled at >= {self.MIN_RATE_IN_Hz:g} Hz: the analysis smooths to ~10 Hz and "
                "finds NE peaks >= 10 s apart in the 0-0.1 Hz band",
                series="norepinephrine",
                min_rate_in_Hz=self.MIN_RATE_IN_Hz,
            ),
        ]
        if params.preprocessing.fit_on == "full_rate":
            requirements.append(
                ControlAtSignalRate(
                    name="analysis_ne_control_rate",
                    severity="error",
                    why="the NE control sampled at the signal's rate: preprocessing.fit_on full_rate fits every raw "
                    "sample of the control to the signal sample taken with it",
                    measured_quantity="norepinephrine",
                )
            )
        return tuple(requirements)

    def run(self, *, context: StepContext) -> StepResult:
        session, params, times = context.session, context.params, context.times
        p = params.preprocessing
        notes: list[str] = []
        max_gap = max(0, round(p.max_gap_in_s * context.rate_in_Hz))
        assert session.ne_signal is not None
        n_missing = int(np.count_nonzero(~np.isfinite(session.ne_signal.decimated.values)))
        if n_missing:
            notes.append(
                f"NE: {n_missing / context.rate_in_Hz:.1f} s without finite samples; gaps up to "
                f"{p.max_gap_in_s:g} s interpolated, longer ones split bouts"
            )
        ne_dff, ne_preprocessing = _ne_dff(session=session, times=times, params=params, notes=notes)
        context.traces["ne_dff"] = pre.fill_short_gaps(values=ne_dff, max_gap_samples=max_gap)
        sections: dict[str, BaseModel] = {"ne.preprocessing": ne_preprocessing}
        for key, trace, start, label in (
            ("blood_volume", session.blood_volume, session.blood_infusion_start_in_s, "blood volume"),
            ("csf_tracer", session.csf_tracer, session.csf_infusion_start_in_s, "CSF tracer"),
        ):
            if trace is None:
                notes.append(f"no {label} channel: its measures are skipped")
                continue
            dff, baseline, note = pre.tracer_delta_f_over_f(
                times=times,
                values=_on_grid(trace=trace.decimated, times=times),
                infusion_start_in_s=start,
                baseline_in_s=p.tracer_baseline_in_s,
            )
            if note:
                notes.append(f"{label}: {note}")
            context.traces[f"{key}_dff"] = pre.fill_short_gaps(values=dff, max_gap_samples=max_gap)
            sections[f"{key}.preprocessing"] = m.TracerPreprocessing(
                baseline=baseline, infusion_start_in_s=start, baseline_note=note
            )
        return StepResult(metrics=sections, figures=("overview",), notes=tuple(notes))


def _ne_dff(
    *, session: SessionData, times: NDArray[np.float64], params: AnalysisParams, notes: list[str]
) -> tuple[NDArray[np.float64], BaseModel]:
    p = params.preprocessing
    signal = session.ne_signal
    assert signal is not None
    values = signal.decimated.values
    if session.ne_control is None:
        if p.without_control == "refuse":
            raise NotReadyError(
                f"{session.path}: the norepinephrine signal has no control channel "
                "(control_channel = -1) and preprocessing.without_control is 'refuse'"
            )
        dff, baseline = pre.control_free_delta_f_over_f(
            times=times,
            values=values,
            rate_in_Hz=signal.decimated.rate_in_Hz,
            baseline_window_in_s=p.baseline_window_in_s,
            bleaching_correction=p.bleaching_correction,
            detrend_window_in_s=p.detrend_window_in_s,
        )
        notes.append(
            "NE has no control channel: dF/F against the median of the first "
            f"{p.baseline_window_in_s:g} s after {p.bleaching_correction} bleaching correction"
        )
        return dff, m.BaselinePreprocessing(
            method="baseline_median", baseline=baseline, bleaching_correction=p.bleaching_correction
        )
    control = _on_grid(trace=session.ne_control.decimated, times=times)
    if p.fit_on == "full_rate":
        fit = _full_rate_fit(session=session, signal=signal, control=session.ne_control, params=params)
    else:
        fit = pre.fit_control(signal=values, control=control, method=p.control_fit, robust_norm=p.robust_norm)
    dff = pre.delta_f_over_f(signal=values, fit=fit.apply(control=control))
    return dff, m.ControlFitPreprocessing(
        method="control_fit",
        fit=fit.method,
        fit_on=p.fit_on,
        slope=fit.slope,
        intercept=fit.intercept,
        r_squared=fit.r_squared,
        n_samples=fit.n_samples,
        n_iterations=fit.n_iterations,
    )


def _full_rate_fit(
    *, session: SessionData, signal: PhotometryTrace, control: PhotometryTrace, params: AnalysisParams
) -> pre.ControlFit:
    if control.raw_rate_in_Hz != signal.raw_rate_in_Hz:
        raise InputFileError(
            path=session.path,
            field=f"{control.name}.rate",
            expected=f"the rate of {signal.name} ({signal.raw_rate_in_Hz} Hz) for a full-rate control fit",
            found=f"{control.raw_rate_in_Hz} Hz",
            hint="use preprocessing.fit_on: decimated",
        )
    p = params.preprocessing
    return pre.fit_control_full_rate(
        signal=signal.raw,
        control=control.raw,
        method=p.control_fit,
        robust_norm=p.robust_norm,
        chunk_samples=p.chunk_samples,
    )


# ----------------------------------------------------------------------------- sleep states


class StatesStep(Step):
    """The micro-arousal rule, NREM bouts, per-state totals and mean dF/F per state."""

    name = "states"
    params_sections = ("bouts",)

    def requirements(self, *, params: AnalysisParams) -> tuple[Requirement, ...]:
        return (
            HypnogramPresent(
                name="analysis_hypnogram",
                severity="error",
                why="a scored hypnogram (Hypnogram, intervals 'sleep_states'): every measure is computed per "
                "sleep state",
            ),
            NremInRecording(
                name="analysis_nrem",
                severity="error",
                why="at least one NREM interval overlapping the NE recording: the NE oscillation is a NREM "
                "phenomenon",
                series="norepinephrine",
            ),
        )

    def run(self, *, context: StepContext) -> StepResult:
        hypnogram = context.session.hypnogram
        assert hypnogram is not None
        rule = bout_rule(params=context.params)
        labelled = bouts.apply_micro_arousal_rule(hypnogram=hypnogram, **rule.micro_arousal_rule)
        sections: dict[str, BaseModel] = {
            "states": m.States.model_validate(bouts.state_summary(hypnogram=hypnogram, **rule.micro_arousal_rule))
        }
        masks = {state: bouts.state_mask(times=context.times, hypnogram=labelled, state=state) for state in _STATES}
        for key in _PHOTOMETRY:
            if f"{key}_dff" in context.traces:
                values = context.traces[f"{key}_dff"]
                sections[f"{key}.mean_dff_by_state"] = m.MeanByState.model_validate(
                    {state: _nanmean(values[mask]) for state, mask in masks.items()}
                )
        return StepResult(
            metrics=sections,
            curves={"labelled_hypnogram": labelled, "nrem_bouts": rule.nrem_bouts(hypnogram=hypnogram)},
            figures=("nrem_bout",),
        )


# ----------------------------------------------------------------------------- NE oscillation


class OscillationStep(Step):
    """The infraslow spectra of NE, blood volume and CSF tracer in NREM; NE peak rate and amplitude.

    Adds the high-passed traces ``*_hp``.
    """

    name = "oscillation"
    params_sections = ("oscillation", "bouts")

    #: Two periods of the ~0.02 Hz NE oscillation.
    MIN_DURATION_IN_S = 100.0

    def requirements(self, *, params: AnalysisParams) -> tuple[Requirement, ...]:
        return (
            MinimumDuration(
                name="analysis_session_duration",
                severity="error",
                why=f"an NE recording of >= {self.MIN_DURATION_IN_S:g} s: at least two periods of the ~0.02 Hz "
                "oscillation",
                series="norepinephrine",
                min_duration_in_s=self.MIN_DURATION_IN_S,
            ),
            _nrem_bout_requirement(
                params=params,
                name="analysis_nrem_bout_length",
                severity="error",
                min_bout_in_s=params.oscillation.min_bout_in_s,
                key="oscillation.min_bout_in_s",
                why="the infraslow spectrum is computed per bout of that length",
            ),
        )

    def run(self, *, context: StepContext) -> StepResult:
        session, osc, traces, rate = context.session, context.params.oscillation, context.traces, context.rate_in_Hz
        notes: list[str] = []
        for key in _PHOTOMETRY:
            if f"{key}_dff" in traces:
                traces[f"{key}_hp"] = oscillation.highpass_zero_phase(
                    values=traces[f"{key}_dff"], rate_in_Hz=rate, cutoff_in_Hz=osc.highpass_in_Hz,
                    order=osc.highpass_order,
                )
        oscillation_ranges = context.bout_ranges(min_duration_in_s=osc.min_bout_in_s)
        all_nrem_ranges = context.bout_ranges(min_duration_in_s=0.0)
        longest = max((b - a for a, b in all_nrem_ranges), default=0) / rate
        if not oscillation_ranges:
            notes.append(
                f"no NREM bout of at least {osc.min_bout_in_s:g} s (longest: {longest:.0f} s; session "
                f"{session.duration_in_s:.0f} s): the infraslow spectra, peak frequencies and amplitudes are "
                "not defined (null)"
            )
        options = _spectrum_options(params=context.params, rate_in_Hz=rate)
        spectrum_suffix = "_hp" if osc.spectrum_input == "highpassed" else "_dff"
        spectra = {
            key: oscillation.infraslow_spectrum(
                values=traces[f"{key}{spectrum_suffix}"], bout_ranges=oscillation_ranges, **options
            )
            for key in _PHOTOMETRY
            if f"{key}_hp" in traces
        }
        peaks = oscillation.oscillation_peaks(
            values=traces["ne_dff"],
            rate_in_Hz=rate,
            bout_ranges=all_nrem_ranges,
            min_distance_in_s=osc.peak_min_distance_in_s,
            min_prominence=osc.peak_min_prominence,
            search=osc.peak_search,
            filter_order=osc.peak_filter_order,
        )
        amplitudes = oscillation.oscillation_amplitude(
            values=traces["ne_hp" if osc.amplitude_input == "highpassed" else "ne_dff"],
            bout_ranges=oscillation_ranges,
            percentiles=osc.amplitude_percentiles,
            definition=osc.percentile_definition,
        )
        sections: dict[str, BaseModel] = {
            "ne.oscillation": m.NeOscillation(
                **_spectrum_summary(spectra["ne"]),
                n_peaks=peaks.n_peaks,
                peak_rate_per_min=peaks.rate_per_min,
                peak_rate_in_Hz=peaks.rate_per_min / 60.0 if math.isfinite(peaks.rate_per_min) else None,
                nrem_searched_in_s=peaks.duration_in_s,
                amplitude_percent_mean=float(np.nanmean(amplitudes)) if amplitudes.size else None,
                amplitude_percent_median=float(np.nanmedian(amplitudes)) if amplitudes.size else None,
            )
        }
        if session.duration_in_s < NOMINAL_PERIOD_IN_S:
            notes.append(
                f"the session ({session.duration_in_s:.0f} s) is shorter than one ~{NOMINAL_PERIOD_IN_S:.0f}-s "
                "period of the NREM NE oscillation"
            )
        elif all_nrem_ranges and longest < NOMINAL_PERIOD_IN_S:
            notes.append(
                f"the longest NREM bout ({longest:.0f} s) is shorter than one ~{NOMINAL_PERIOD_IN_S:.0f}-s "
                "NE oscillation period"
            )
        for key in ("blood_volume", "csf_tracer"):
            if key in spectra:
                sections[f"{key}.oscillation"] = m.Spectrum(**_spectrum_summary(spectra[key]))
        return StepResult(
            metrics=sections,
            curves={**{f"{key}_spectrum": spectrum for key, spectrum in spectra.items()}, "ne_peaks": peaks},
            document_curves={f"{key}_spectrum": _spectrum_curve(spectrum) for key, spectrum in spectra.items()},
            figures=("infraslow_spectra",),
            notes=tuple(notes),
        )


# ----------------------------------------------------------------------------- EEG


class EEGStep(Step):
    """EEG band powers per state, sigma power on the grid and its infraslow spectrum, phase-locking, spindles.

    Adds the traces ``sigma_power`` and ``sigma_hp``.
    """

    name = "eeg"
    params_sections = ("eeg", "phase_locking", "oscillation")

    #: The sigma band reaches 16 Hz; coupling to it needs EEG well above 2 x 16 Hz.
    MIN_RATE_IN_Hz = 64.0

    def requirements(self, *, params: AnalysisParams) -> tuple[Requirement, ...]:
        return (
            ElectricalSeriesPresent(
                name="analysis_eeg",
                severity="warning",
                why="an EEG ElectricalSeries for the sigma-band (spindle) coupling to NE; without it that step is "
                "skipped",
                series="EEG",
            ),
            MinimumRate(
                name="analysis_eeg_rate",
                severity="warning",
                why=f"EEG sampled at >= {self.MIN_RATE_IN_Hz:g} Hz: the sigma band reaches 16 Hz",
                series="EEG",
                min_rate_in_Hz=self.MIN_RATE_IN_Hz,
            ),
            _nrem_bout_requirement(
                params=params,
                name="analysis_phase_locking_bout_length",
                severity="warning",
                min_bout_in_s=params.phase_locking.min_bout_in_s,
                key="phase_locking.min_bout_in_s",
                why="the phase-locking of sigma power to NE uses bouts of that length",
            ),
        )

    def run(self, *, context: StepContext) -> StepResult:
        session, params, traces, rate = context.session, context.params, context.traces, context.rate_in_Hz
        spectrogram = session.spectrogram
        if spectrogram is None or not spectrogram.times.size:
            return StepResult(notes=("no EEG: band powers, spindles and sigma coupling are skipped",))
        osc, pl = params.oscillation, params.phase_locking
        labelled = context.curve("labelled_hypnogram")
        band = eeg.band_powers(spectrogram=spectrogram, bands=params.eeg.bands)
        masks = {state: bouts.state_mask(times=spectrogram.times, hypnogram=labelled, state=state) for state in _STATES}
        band_power = {
            state: {name: _nanmean(values[mask]) for name, values in band.items()}
            for state, mask in masks.items()
            if np.any(mask)
        }
        sigma = np.interp(context.times, spectrogram.times, band["sigma"], left=np.nan, right=np.nan)
        traces["sigma_power"] = sigma
        traces["sigma_hp"] = oscillation.highpass_zero_phase(
            values=sigma, rate_in_Hz=rate, cutoff_in_Hz=osc.highpass_in_Hz, order=osc.highpass_order
        )
        if params.eeg.sigma_power == "log_stft_magnitude":
            log_sigma = eeg.log_magnitude_band(
                spectrogram=spectrogram,
                band=params.eeg.bands["sigma"],
                normalisation_in_s=params.eeg.sigma_normalisation_in_s,
                fmax_in_Hz=params.eeg.spectrogram_fmax_in_Hz,
            )
            traces["sigma_log_magnitude"] = np.interp(
                context.times, spectrogram.times, log_sigma, left=np.nan, right=np.nan
            )
            traces["sigma_log_magnitude_hp"] = oscillation.highpass_zero_phase(
                values=traces["sigma_log_magnitude"], rate_in_Hz=rate, cutoff_in_Hz=osc.highpass_in_Hz,
                order=osc.highpass_order,
            )
        sigma_spectrum = oscillation.infraslow_spectrum(
            values=traces["sigma_hp"],
            bout_ranges=context.bout_ranges(
                min_duration_in_s=osc.min_bout_in_s, values=traces["sigma_hp"] + traces["ne_dff"]
            ),
            **_spectrum_options(params=params, rate_in_Hz=rate),
        )
        lock = coupling.phase_locking(
            oscillation=traces["ne_dff"],
            amplitude=sigma,
            rate_in_Hz=rate,
            bout_ranges=context.bout_ranges(min_duration_in_s=pl.min_bout_in_s, values=sigma + traces["ne_dff"]),
            band_in_Hz=pl.ne_band_in_Hz,
            n_surrogates=pl.n_surrogates,
            min_shift_in_s=pl.min_shift_in_s,
            seed=pl.seed,
        )
        curves: dict[str, Any] = {
            "sigma_spectrum": sigma_spectrum,
            "phase_locking": lock,
            "band_power": eeg.BandPower(times=spectrogram.times, powers=band),
        }
        section = {
            "band_power_by_state_V2": band_power,
            "sigma_infraslow": m.Spectrum(**_spectrum_summary(sigma_spectrum)),
            "sigma_phase_locking": m.PhaseLocking(
                mean_vector_length=lock.mean_vector_length,
                preferred_phase_rad=lock.preferred_phase_rad,
                preferred_phase_deg=math.degrees(lock.preferred_phase_rad)
                if math.isfinite(lock.preferred_phase_rad)
                else None,
                p_value=lock.p_value,
                surrogate_mean=lock.surrogate_mean,
                n_bouts=lock.n_bouts,
                n_surrogates=pl.n_surrogates,
            ),
        }
        envelope = session.eeg_envelopes.get("spindle")
        if envelope is not None:
            nrem_rows = labelled.intervals(state="NREM")
            in_nrem = envelope.mask_inside(starts=nrem_rows.starts, stops=nrem_rows.stops)
            spindles = eeg.detect_spindles(
                envelope=envelope,
                nrem_mask=in_nrem,
                threshold_sd=params.eeg.spindle_threshold_sd,
                min_duration_in_s=params.eeg.spindle_min_in_s,
                max_duration_in_s=params.eeg.spindle_max_in_s,
            )
            nrem_minutes = np.count_nonzero(in_nrem) / envelope.rate_in_Hz / 60.0
            curves["spindles"] = spindles
            section["spindles"] = m.Spindles(
                n=len(spindles),
                density_per_min_nrem=len(spindles) / nrem_minutes if nrem_minutes > 0 else None,
                mean_duration_in_s=float(spindles.durations.mean()) if len(spindles) else None,
                threshold_V2=spindles.threshold,
            )
        return StepResult(
            metrics={"eeg": m.EegMetrics(**section)},
            curves=curves,
            document_curves={"sigma_spectrum": _spectrum_curve(sigma_spectrum)},
            figures=("sigma_phase_locking",),
        )


# ----------------------------------------------------------------------------- coupling


class CouplingStep(Step):
    """Bout-averaged cross-correlations between NE, blood volume, CSF tracer and sigma power."""

    name = "coupling"
    params_sections = ("coupling", "eeg")

    #: (metrics key, first trace, second trace, whether the lag range is the sigma one); trace names
    #: without the suffix that ``coupling.signal`` adds (``_hp`` high-passed, ``_dff`` / none per bout)
    PAIRS = (
        ("ne_vs_blood_volume", "ne", "blood_volume", False),
        ("ne_vs_csf", "ne", "csf_tracer", False),
        ("blood_volume_vs_csf", "blood_volume", "csf_tracer", False),
        ("ne_vs_sigma", "ne", "sigma", True),
    )

    @staticmethod
    def trace_name(*, params: AnalysisParams, signal: str) -> str:
        """The trace of ``signal`` (``"ne"``, ``"blood_volume"``, ``"csf_tracer"``, ``"sigma"``) correlated."""
        if signal == "sigma":
            base = "sigma_log_magnitude" if params.eeg.sigma_power == "log_stft_magnitude" else "sigma_power"
            if params.coupling.signal == "highpassed":
                return "sigma_hp" if base == "sigma_power" else f"{base}_hp"
            return base
        return f"{signal}_hp" if params.coupling.signal == "highpassed" else f"{signal}_dff"

    def requirements(self, *, params: AnalysisParams) -> tuple[Requirement, ...]:
        return (
            _nrem_bout_requirement(
                params=params,
                name="analysis_coupling_bout_length",
                severity="warning",
                min_bout_in_s=params.coupling.min_bout_in_s,
                key="coupling.min_bout_in_s",
                why="the cross-correlations are averaged over bouts of that length",
            ),
        )

    def run(self, *, context: StepContext) -> StepResult:
        cp, traces, rate = context.params.coupling, context.traces, context.rate_in_Hz
        ne_frequency = context.peak_frequency_in_Hz()
        half_period = 0.5 / ne_frequency if cp.extremum_search == "half_period" and ne_frequency > 0 else None
        results: dict[str, coupling.CrossCorrelation] = {}
        for name, first_signal, second_signal, sigma_range in self.PAIRS:
            first = self.trace_name(params=context.params, signal=first_signal)
            second = self.trace_name(params=context.params, signal=second_signal)
            if first not in traces or second not in traces:
                continue
            results[name] = coupling.bout_cross_correlation(
                first=traces[first],
                second=traces[second],
                rate_in_Hz=rate,
                bout_ranges=context.bout_ranges(
                    min_duration_in_s=cp.min_bout_in_s, values=traces[first] + traces[second]
                ),
                max_lag_in_s=cp.sigma_max_lag_in_s if sigma_range else cp.max_lag_in_s,
                detrend_order=cp.detrend_order,
                kind=cp.extremum.get(name, "abs"),
                max_abs_lag_in_s=half_period,
                zscore_ddof=cp.zscore_ddof,
                short_bouts=cp.short_bouts,
                interpolation=cp.extremum_interpolation,
                correlogram=cp.correlogram,
            )
        section = m.Coupling(
            **{name: _correlation_summary(result) for name, result in results.items()},
            sign_convention="positive lag: the second signal lags (follows) the first",
            extremum_searched_within_in_s=half_period,
        )
        step = max(1, round(rate / 2))
        return StepResult(
            metrics={"coupling": section},
            curves={f"{name}_xcorr": result for name, result in results.items()},
            document_curves={
                f"{name}_xcorr": {"lags_in_s": result.lags_in_s[::step], "mean": result.mean[::step]}
                for name, result in results.items()
            },
            figures=("cross_correlations",),
        )


def _correlation_summary(result: coupling.CrossCorrelation) -> m.CrossCorrelation:
    return m.CrossCorrelation(
        lag_in_s=result.lag_in_s,
        value=result.value,
        extremum=result.extremum,
        n_bouts=result.n_bouts,
        bout_lag_s_median=float(np.median(result.bout_lags_in_s)) if result.n_bouts else None,
        bout_value_median=float(np.median(result.bout_values)) if result.n_bouts else None,
    )


# ----------------------------------------------------------------------------- micro-arousals


class MicroArousalStep(Step):
    """Scored micro-arousals, their detection from EMG (scored against the hypnogram) and triggered averages."""

    name = "micro_arousals"
    params_sections = ("arousal", "bouts")

    def requirements(self, *, params: AnalysisParams) -> tuple[Requirement, ...]:
        return (
            ElectricalSeriesPresent(
                name="analysis_emg",
                severity="warning",
                why="an EMG ElectricalSeries to detect micro-arousals and score the detection against the "
                "hypnogram; without it that step is skipped",
                series="EMG",
            ),
        )

    def run(self, *, context: StepContext) -> StepResult:
        session, params, traces = context.session, context.params, context.traces
        hypnogram = session.hypnogram
        assert hypnogram is not None
        ar, rule = params.arousal, bout_rule(params=params)
        scored = context.curve("labelled_hypnogram").intervals(state="micro-arousal")
        curves: dict[str, Any] = {"scored_micro_arousals": scored}
        notes: list[str] = []
        section: dict[str, Any] = {"scored_n": len(scored)}
        if session.emg_envelope is not None:
            detected = arousal.detect_micro_arousals(
                emg_power=session.emg_envelope,
                nrem_periods=rule.nrem_bouts(hypnogram=hypnogram, split_at_micro_arousals=False),
                delta_power=session.eeg_envelopes.get("delta"),
                emg_threshold=ar.emg_threshold,
                eeg_threshold=ar.eeg_threshold,
                min_duration_in_s=ar.min_duration_in_s,
                max_duration_in_s=rule.max_duration_in_s,
                merge_gap_in_s=ar.merge_gap_in_s,
            )
            curves["detected_micro_arousals"] = detected
            score = arousal.score_events(
                detected_onsets=detected.onsets, reference_onsets=scored.starts, tolerance_in_s=ar.onset_tolerance_in_s
            )
            states = context.results["states"].metrics["states"]
            assert isinstance(states, m.States)
            nrem_hours = ((states.NREM.total_in_s or 0.0) + (states.micro_arousal.total_in_s or 0.0)) / 3600
            section["detected_n"] = len(detected)
            section["detected_per_hour_nrem"] = len(detected) / nrem_hours if nrem_hours > 0 else None
            section["detection_vs_scored"] = m.DetectionScore(
                precision=score.precision,
                recall=score.recall,
                f1=score.f1,
                onset_tolerance_in_s=score.tolerance_in_s,
                median_onset_error_in_s=float(np.median(score.onset_errors_in_s))
                if score.onset_errors_in_s.size
                else None,
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
        averages = {
            key: triggered.event_triggered_average(
                values=traces[key],
                rate_in_Hz=context.rate_in_Hz,
                starting_time=context.times[0],
                event_times=onsets,
                window_in_s=window,
            )
            for key in ("ne_dff", "blood_volume_hp", "csf_tracer_hp", "sigma_power")
            if key in traces
        }
        curves["micro_arousal_triggered"] = averages
        responses = {"ne": _response(averages["ne_dff"], window_in_s=ar.triggered_window_in_s, kind="max")}
        if "blood_volume_hp" in averages:
            responses["blood_volume"] = _response(
                averages["blood_volume_hp"], window_in_s=ar.triggered_window_in_s, kind="min"
            )
        section["triggered"] = m.MicroArousalTriggered(n_isolated=int(onsets.size), **responses)
        return StepResult(
            metrics={"micro_arousals": m.MicroArousals(**section)},
            curves=curves,
            figures=("micro_arousal_triggered",),
            notes=tuple(notes),
        )


# ----------------------------------------------------------------------------- stimulation


class StimulationStep(Step):
    """Averages around LC optogenetic trains and vasomotion-stimulation light pulses (when recorded)."""

    name = "stimulation"
    params_sections = ("triggered", "eeg", "oscillation")

    def run(self, *, context: StepContext) -> StepResult:
        session, params, traces, times, rate = (
            context.session, context.params, context.traces, context.times, context.rate_in_Hz
        )
        tp = params.triggered
        window = (-tp.window_in_s, tp.window_in_s)
        spectrogram = session.spectrogram
        sections: dict[str, BaseModel] = {}
        curves: dict[str, Any] = {}
        figures: list[str] = []
        for key, epochs, triggers in (
            ("lc_stimulation", session.lc_stimulation, "starts"),
            ("vasomotion_stimulation", session.vasomotion_stimulation, "pulse_onsets"),
        ):
            if epochs is None:
                continue
            events = getattr(epochs, triggers)
            averages = {
                name: triggered.event_triggered_average(
                    values=traces[name], rate_in_Hz=rate, starting_time=times[0], event_times=events, window_in_s=window
                )
                for name in ("ne_dff", "blood_volume_dff", "csf_tracer_dff", "sigma_power")
                if name in traces
            }
            curves[f"{key}_triggered"] = averages
            figures.append(f"{key}_triggered")
            section: dict[str, Any] = {"n_epochs": int(epochs.starts.size), "n_triggers": int(np.size(events))}
            for name, kind in (("ne_dff", "max"), ("blood_volume_dff", "min"), ("csf_tracer_dff", "max")):
                if name in averages:
                    response = _response(averages[name], window_in_s=tp.window_in_s, kind=kind)
                    section[name.removesuffix("_dff")] = response
            if spectrogram is not None and spectrogram.times.size:
                average = triggered.triggered_spectrogram(
                    spectrogram=spectrogram, event_times=events, window_in_s=window, baseline_in_s=tp.baseline_in_s
                )
                curves[f"{key}_spectrogram"] = average
                if average.n_events:
                    sigma_band = params.eeg.bands["sigma"]
                    in_band = (average.frequencies_in_Hz >= sigma_band[0]) & (average.frequencies_in_Hz < sigma_band[1])
                    after = (average.lags_in_s >= 0) & (average.lags_in_s <= min(20.0, tp.window_in_s))
                    section["sigma_power_change_percent"] = float(
                        average.relative_power_percent[np.ix_(after, in_band)].mean() - 100.0
                    )
            if key == "vasomotion_stimulation":
                section["modulation_frequency_in_Hz"] = epochs.modulation_frequency_in_Hz
                if "blood_volume_hp" in traces:
                    epoch_ranges = [
                        (max(0, round((a - times[0]) * rate)), min(times.size, round((b - times[0]) * rate)))
                        for a, b in zip(epochs.starts, epochs.stops)
                    ]
                    spectrum = oscillation.infraslow_spectrum(
                        values=traces["blood_volume_hp"],
                        bout_ranges=epoch_ranges,
                        **_spectrum_options(params=params, rate_in_Hz=rate),
                    )
                    section["blood_volume_peak_frequency_in_Hz"] = spectrum.peak_frequency_in_Hz
            sections[key] = m.Stimulation(**section)
        return StepResult(metrics=sections, curves=curves, figures=tuple(figures))


# ----------------------------------------------------------------------------- tracer kinetics


class KineticsStep(Step):
    """CSF tracer influx (10-90 % rise, slope) and efflux (half-time, slope) after the infusion."""

    name = "kinetics"
    params_sections = ("kinetics",)

    def requirements(self, *, params: AnalysisParams) -> tuple[Requirement, ...]:
        return (
            InfusionForChannel(
                name="analysis_tracer_infusion",
                severity="warning",
                why="for a CSF tracer channel, the tracer infusion (intervals 'tracer_infusions', a tracer "
                "labelling the CSF): tracer dF/F uses the 5 min before the infusion as baseline and the influx "
                "kinetics start at it",
                measured_quantity="CSF tracer",
                compartment="CSF",
            ),
        )

    def run(self, *, context: StepContext) -> StepResult:
        session, traces = context.session, context.traces
        if "csf_tracer_dff" not in traces:
            return StepResult()
        if session.csf_infusion_start_in_s is None:
            return StepResult(notes=("no CSF tracer infusion recorded: influx kinetics are skipped",))
        kp = context.params.kinetics
        ne_frequency = context.peak_frequency_in_Hz()
        period = 1.0 / ne_frequency if ne_frequency > 0 else NOMINAL_PERIOD_IN_S
        k = kinetics.tracer_kinetics(
            times=context.times,
            dff=traces["csf_tracer_dff"],
            infusion_start_in_s=session.csf_infusion_start_in_s,
            rise_low_percent=kp.rise_low_percent,
            rise_high_percent=kp.rise_high_percent,
            smoothing_in_s=kp.smoothing_periods * period,
            efflux_fraction=kp.efflux_fraction,
        )
        section = m.TracerKinetics(
            peak_percent=k.peak_percent,
            peak_time_in_s=k.peak_time_in_s,
            t10_in_s=k.t10_in_s,
            t90_in_s=k.t90_in_s,
            rise_time_in_s=k.rise_time_in_s,
            influx_slope_percent_per_min=k.influx_slope_percent_per_min,
            efflux_half_time_in_s=k.efflux_half_time_in_s,
            efflux_slope_percent_per_min=k.efflux_slope_percent_per_min,
        )
        return StepResult(
            metrics={"csf_tracer": section},
            curves={"tracer_kinetics": k},
            figures=("tracer_kinetics",),
            notes=tuple(f"CSF tracer: {note}" for note in k.notes),
        )


#: The steps of one session, in the order they run.
SESSION_STEPS: tuple[Step, ...] = (
    PhotometryStep(),
    StatesStep(),
    OscillationStep(),
    EEGStep(),
    CouplingStep(),
    MicroArousalStep(),
    StimulationStep(),
    KineticsStep(),
)
