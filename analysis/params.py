"""Parameters of every analysis step, defaulting to the published values.

Each step has one frozen pydantic model; :class:`AnalysisParams` collects them. These models are the
one definition of the parameters: their types, ranges, defaults and descriptions give the typed
objects the steps read (``params.<section>.<name>``), the JSON Schema of params files
(:func:`params_schema`, published as ``params_schema.json``) and the parameter reference in
``docs/analysis.md``. A params YAML file overrides any subset, section by section::

    preset: hauglund2025          # optional: a published lab's choices (see PRESETS)
    bouts:
      micro_arousal_max_duration_in_s: 20
    oscillation:
      min_bout_in_s: 200

The file is checked against the schema before it is used; an unknown key, a wrong type or an
out-of-range value is refused with the offending key named.

Where the published methods differ between labs (science.md), the defaults follow the authors'
public MATLAB code of the Kjaerby 2022 / Hauglund 2025 pipeline and the alternatives are a
parameter away (``preset``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import GenerateJsonSchema, SkipJsonSchema

from ndx_glymphatic.errors import InputFileError

__all__ = [
    "PRESETS",
    "AnalysisParams",
    "ArousalParams",
    "BoutParams",
    "CouplingParams",
    "EEGParams",
    "GroupParams",
    "KineticsParams",
    "OscillationParams",
    "ParamsFile",
    "PhaseLockingParams",
    "PreprocessingParams",
    "PresetName",
    "TriggeredParams",
    "load_params",
    "params_schema",
    "params_schema_text",
]

_NonNegative = Annotated[float, Field(ge=0)]
#: A (low, high) pair, e.g. a frequency band in Hz or a duration range in s.
Pair = tuple[_NonNegative, _NonNegative]
BandName = Literal["delta", "theta", "sigma", "beta"]
CouplingPair = Literal["ne_vs_blood_volume", "ne_vs_csf", "blood_volume_vs_csf", "ne_vs_sigma"]
PresetName = Literal["glymph", "kjaerby2022", "hauglund2025", "luthi"]


class _Section(BaseModel):
    """Common configuration: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PreprocessingParams(_Section):
    """Photometry preprocessing: smoothing, decimation, control fit, dF/F, bleaching, tracer baseline."""

    decimation_factor: int = Field(
        100, ge=1, description="Keep one sample in this many after smoothing (published: 100, ~1 kHz -> ~10 Hz)."
    )
    smoothing_window_samples: int = Field(
        1000,
        ge=1,
        description="Width of the zero-phase moving mean on the raw stream, in samples (published: 1000). "
        "Must be a multiple of `decimation_factor`.",
    )
    reference_rate_in_Hz: float = Field(
        1017.25,
        gt=0,
        description="The rate, in Hz, the two numbers above were published for (TDT, 1017.25 Hz). A stream whose "
        "rate differs by more than 2x has both scaled by `rate / reference_rate_in_Hz` so the output stays "
        "near 10 Hz and the smoothing near 1 s.",
    )
    control_fit: Literal["ols", "irls"] = Field(
        "ols", description='"ols" (published: linear least squares, MATLAB polyfit) or "irls" (robust).'
    )
    robust_norm: Literal["huber", "bisquare"] = Field(
        "huber", description='Weight function for IRLS: "huber" (c = 1.345) or "bisquare" (c = 4.685).'
    )
    fit_on: Literal["decimated", "full_rate"] = Field(
        "decimated",
        description='"decimated" (fit the ~10 Hz smoothed traces) or "full_rate" (fit every raw sample, streamed '
        "in chunks through sufficient statistics; IRLS then makes one pass per iteration).",
    )
    without_control: Literal["baseline_median", "refuse"] = Field(
        "baseline_median",
        description='What to do for a signal channel with no control channel: "baseline_median" (dF/F against '
        "the median of the first `baseline_window_in_s` after bleaching correction, recorded as a note in the "
        'metrics) or "refuse" (stop with an error).',
    )
    baseline_window_in_s: float = Field(
        1800.0,
        gt=0,
        description="Baseline length, in s, for the control-free dF/F (published alternative: 30-min baseline median).",
    )
    bleaching_correction: Literal["exponential", "moving_average", "none"] = Field(
        "exponential",
        description='For control-free channels: "exponential" (divide by a fitted single exponential decay '
        'before taking dF/F), "moving_average" or "none".',
    )
    detrend_window_in_s: float = Field(
        300.0,
        gt=0,
        description="Width, in s, of the long moving average subtracted from tracer / blood-volume dF/F before "
        'coupling analyses (published: "subtract a long moving average"; width not published).',
    )
    tracer_baseline_in_s: float = Field(
        300.0,
        gt=0,
        description="Tracer / albumin dF/F baseline: the median of this many seconds before the infusion "
        "(published: 5 min).",
    )
    chunk_samples: int = Field(2_000_000, ge=1, description="Raw samples read per chunk when streaming.")
    max_gap_in_s: float = Field(
        2.0,
        ge=0,
        description="NaN runs up to this long, in s, in the decimated traces are filled by linear interpolation; "
        "longer runs split bouts.",
    )


class BoutParams(_Section):
    """NREM bout selection and the micro-arousal rule."""

    micro_arousal_max_duration_in_s: float = Field(
        15.0,
        gt=0,
        description="A wake (or micro-arousal) row inside NREM up to this long, in s, is a micro-arousal "
        "(Kjaerby 2022: 15 s; Hauglund 2025: 20 s; Luthi lab: 12 s). Longer ones are wake and end a bout.",
    )
    micro_arousal_requires_flanking_nrem: bool = Field(
        True,
        description="A micro-arousal must have NREM right before and right after it (Luthi lab rule; also how "
        'a micro-arousal "inside NREM" is read here).',
    )
    split_bouts_at_micro_arousals: bool = Field(
        False,
        description="If true, micro-arousals end NREM bouts; if false (published), a NREM bout runs through them.",
    )
    contiguity_tolerance_in_s: float = Field(
        0.5, ge=0, description="Rows separated by at most this gap, in s, count as adjacent."
    )


class OscillationParams(_Section):
    """NE infraslow oscillation: spectrum, peak rate and amplitude during NREM."""

    highpass_in_Hz: float = Field(
        0.005, gt=0, description="Zero-phase Butterworth high-pass before the spectrum, in Hz (published: 0.005 Hz)."
    )
    highpass_order: int = Field(2, ge=1, description="Butterworth order of that high-pass.")
    min_bout_in_s: float = Field(
        120.0,
        gt=0,
        description="Shortest NREM bout, in s, entering the spectrum (Kjaerby: >= 120 s; Hauglund: >= 200 s).",
    )
    detrend_order: int = Field(5, ge=0, description="Polynomial order removed from each bout (published: 5).")
    fmax_in_Hz: float = Field(
        0.1, gt=0, description="Upper end, in Hz, of the 0-fmax spectrum grid (published: 0.1 Hz)."
    )
    frequency_step_in_Hz: float = Field(0.0005, gt=0, description="Spacing of the spectrum grid, in Hz.")
    welch_segment_in_s: float = Field(
        300.0,
        gt=0,
        description="Welch segment length, in s (a bout shorter than this is one segment). Long segments are "
        "needed to resolve ~0.02 Hz to within 0.002 Hz.",
    )
    welch_overlap: float = Field(0.5, ge=0, lt=1, description="Fractional segment overlap (0 to < 1).")
    peak_search_in_Hz: Pair = Field((0.005, 0.1), description="Band searched for the spectral peak, in Hz.")
    normalisation_fmax_in_Hz: float = Field(
        0.03,
        gt=0,
        description="The spectrum is normalised to its `normalisation_percentile` below this frequency, in Hz "
        "(published: 90th percentile below 0.03 Hz).",
    )
    normalisation_percentile: float = Field(
        90.0, ge=0, le=100, description="Percentile (0-100) used with `normalisation_fmax_in_Hz`."
    )
    peak_min_distance_in_s: float = Field(10.0, gt=0, description="NE peaks: minimum distance, in s (published: 10 s).")
    peak_min_prominence: float = Field(
        1.5, gt=0, description="NE peaks: minimum prominence, in % dF/F (published: 1.5)."
    )
    amplitude_percentiles: Pair = Field(
        (10.0, 90.0),
        description="Percentiles (0-100) whose difference, in % dF/F, is the amplitude of a bout "
        "(published: 90th - 10th).",
    )
    spectrum_input: Literal["highpassed", "dff"] = Field(
        "highpassed",
        description='Trace whose bouts enter the spectrum: "highpassed" (after the whole-trace `highpass_in_Hz`) '
        'or "dff" (the dF/F itself, only the per-bout polynomial removed: Kjaerby-lab PSDinfraslow.m).',
    )
    psd_method: Literal["welch_segments", "matlab_pwelch_default"] = Field(
        "welch_segments",
        description='"welch_segments": Hamming segments of `welch_segment_in_s` (resolves 0.002 Hz); '
        '"matlab_pwelch_default": MATLAB pwelch(x, [], [], f, fs) -- Hamming segments of fix(N/4.5) samples, '
        "50 % overlap, the DFT evaluated at each grid frequency (two-sided density).",
    )
    peak_pick: Literal["parabolic_in_band", "grid_maximum"] = Field(
        "parabolic_in_band",
        description='"parabolic_in_band": maximum inside `peak_search_in_Hz`, refined by a parabola; '
        '"grid_maximum": the largest grid value over the whole 0-fmax grid (MATLAB max(pxx)).',
    )
    peak_search: Literal["per_bout", "stitched_bouts"] = Field(
        "per_bout",
        description='NE peaks: "per_bout" (each NREM bout searched alone: no peaks at the joins) or '
        '"stitched_bouts" (the bouts joined end to end and searched once, as NE_des.m: a join can make a peak).',
    )
    peak_filter_order: Literal["distance_then_prominence", "prominence_then_distance"] = Field(
        "distance_then_prominence",
        description='Order of the two NE-peak filters: "distance_then_prominence" (scipy find_peaks) or '
        '"prominence_then_distance" (MATLAB findpeaks: the distance filter only sees prominent peaks).',
    )
    amplitude_input: Literal["highpassed", "dff"] = Field(
        "highpassed",
        description='Trace whose percentiles give the amplitude: "highpassed" (slow drift does not count) or '
        '"dff" (the dF/F itself, as NE_des.m).',
    )
    percentile_definition: Literal["linear", "matlab_prctile"] = Field(
        "linear",
        description='"linear" (numpy: sorted values at (k - 1) / (n - 1)) or "matlab_prctile" (MATLAB prctile: '
        "at (k - 0.5) / n, end values outside).",
    )


class CouplingParams(_Section):
    """Cross-correlation between NE, blood volume, CSF tracer and EEG sigma power.

    Sign convention: a positive lag means the second signal lags (follows) the first.
    """

    min_bout_in_s: float = Field(100.0, gt=0, description="Shortest NREM bout used, in s (published: > 100 s).")
    max_lag_in_s: float = Field(
        40.0, gt=0, description="Lag range between photometry signals, +- this many s (published: +-40 s)."
    )
    sigma_max_lag_in_s: float = Field(
        60.0, gt=0, description="Lag range of sigma power vs NE, +- this many s (published: +-60 s)."
    )
    detrend_order: int = Field(
        1,
        ge=0,
        description="Polynomial order removed from each lag's overlapping segments (per_lag_pearson) or from "
        "each bout before z-scoring (bout_zscore).",
    )
    extremum: dict[CouplingPair, Literal["min", "max", "abs"]] = Field(
        {"ne_vs_blood_volume": "min", "ne_vs_csf": "max", "blood_volume_vs_csf": "min", "ne_vs_sigma": "max"},
        description='Which extremum is reported per pair: "min" (anti-correlation), "max" or "abs". Pairs not '
        "given keep their default.",
    )
    signal: Literal["highpassed", "dff_detrended_per_bout"] = Field(
        "highpassed",
        description='Traces correlated: "highpassed" (the whole-trace high-passed traces, then each bout\'s '
        '`detrend_order` polynomial) or "dff_detrended_per_bout" (the dF/F and sigma trace of each bout, only '
        "that polynomial removed: the authors' code). With the per-lag Pearson correlogram both give the NE -> "
        "blood-volume lag within 0.1 s of the truth on simulated sessions with wake/REM level steps; with the bout "
        "z-score one the high-pass is the closer (docs/methods.md).",
    )
    correlogram: Literal["per_lag_pearson", "bout_zscore"] = Field(
        "per_lag_pearson",
        description='"per_lag_pearson": at each lag, the Pearson correlation of the two segments that overlap '
        "there, each with its own `detrend_order` polynomial removed (a delayed copy gives |r| = 1 at its "
        'delay however the bout drifts); "bout_zscore": each bout detrended and z-scored once, the overlapping '
        "products averaged (the authors' xcorr of z-scored bouts; on simulated bouts with NE transients at "
        "their edges its extremum comes out up to 0.4 s short of the delay, docs/methods.md).",
    )
    zscore_ddof: int = Field(
        0,
        ge=0,
        le=1,
        description='Delta degrees of freedom of the z-score\'s standard deviation (MATLAB: 1); "bout_zscore" only.',
    )
    short_bouts: Literal["skip_up_to_twice_max_lag", "keep_longer_than_max_lag"] = Field(
        "skip_up_to_twice_max_lag",
        description='"skip_up_to_twice_max_lag": a bout must be longer than twice the lag range (every lag then '
        'averages at least half the bout); "keep_longer_than_max_lag": any bout longer than the lag range '
        "(MATLAB xcorr accepts it).",
    )
    extremum_interpolation: Literal["parabolic", "grid_sample"] = Field(
        "parabolic",
        description='"parabolic": the extremum refined between samples by a parabola; "grid_sample": the '
        "extreme sample itself.",
    )
    extremum_search: Literal["half_period", "full"] = Field(
        "half_period",
        description='"half_period": search the extremum within +- half the NE oscillation period (the one '
        "nearest zero lag; correlograms of oscillations repeat every period), falling back to the whole range "
        'when the period is unknown; "full": the whole lag range.',
    )

    @field_validator("extremum", mode="before")
    @classmethod
    def _keep_default_pairs(cls, value: Any) -> Any:
        return _complete(default=cls.model_fields["extremum"].default, value=value)


class EEGParams(_Section):
    """EEG spectrogram, band powers and spindles."""

    spectrogram_window_in_s: float = Field(
        5.0, gt=0, description="Spectrogram window length, in s (published: 5 s, hence 0.2-Hz frequency steps)."
    )
    spectrogram_step_in_s: float = Field(2.5, gt=0, description="Time step between windows, in s.")
    spectrogram_fmax_in_Hz: float = Field(30.0, gt=0, description="Highest frequency kept, in Hz (published: 30 Hz).")
    bands: dict[BandName, Pair] = Field(
        {"delta": (1.0, 4.0), "theta": (4.0, 8.0), "sigma": (8.0, 15.0), "beta": (15.0, 30.0)},
        description="Band edges, in Hz (published: delta 1-4, theta 4-8, sigma 8-15 (Kjaerby) or 12-16 "
        "(Hauglund), beta 15-30). Bands not given keep their default.",
    )
    spindle_band_in_Hz: Pair = Field((8.0, 15.0), description="Spindle band-pass, in Hz (published: 8-15 Hz).")
    spindle_filter_order: int = Field(3, ge=1, description="Butterworth order of the spindle band-pass (published: 3).")
    spindle_smoothing_in_s: float = Field(
        0.25, gt=0, description="Moving average of the squared band-passed EEG, in s (published: 0.25 s)."
    )
    spindle_threshold_sd: float = Field(
        0.8,
        gt=0,
        description="Threshold = mean + this many standard deviations of the smoothed power during NREM "
        "(published: 0.8).",
    )
    spindle_min_in_s: float = Field(0.5, gt=0, description="Shortest accepted spindle, in s (published: 0.5 s).")
    spindle_max_in_s: float = Field(10.0, gt=0, description="Longest accepted spindle, in s (published: 10 s).")
    envelope_rate_in_Hz: float = Field(
        32.0, gt=0, description="Rate, in Hz, at which the smoothed power envelopes are kept."
    )
    sigma_power: Literal["linear_band_power", "log_stft_magnitude"] = Field(
        "linear_band_power",
        description='Sigma trace correlated with NE: "linear_band_power" (the PSD integrated over the sigma band, '
        'V^2) or "log_stft_magnitude" (mean over the band of log |STFT|, normalised as '
        "Spindles_and_correlation.m: divided by minus the mean log magnitude 0-30 Hz of the first "
        "`sigma_normalisation_in_s`, plus 2).",
    )
    sigma_normalisation_in_s: float = Field(
        200.0 / 3.0,
        gt=0,
        description="Leading stretch, in s, whose mean log magnitude normalises the log sigma trace "
        "(published: 2/3 of 100 s).",
    )
    chunk_in_s: float = Field(600.0, gt=0, description="EEG seconds read per chunk.")

    @field_validator("bands", mode="before")
    @classmethod
    def _keep_default_bands(cls, value: Any) -> Any:
        return _complete(default=cls.model_fields["bands"].default, value=value)


class PhaseLockingParams(_Section):
    """Phase-locking of EEG sigma power to the infraslow NE oscillation."""

    ne_band_in_Hz: Pair = Field((0.01, 0.04), description="Band-pass of NE before the Hilbert phase, in Hz.")
    min_bout_in_s: float = Field(120.0, gt=0, description="Shortest NREM bout used, in s.")
    n_surrogates: int = Field(500, ge=0, description="Circular-shift surrogates for the p-value.")
    min_shift_in_s: float = Field(20.0, ge=0, description="Smallest circular shift of a surrogate, in s.")
    seed: int = Field(0, ge=0, description="Random seed of the surrogates.")


class ArousalParams(_Section):
    """Micro-arousal detection from EMG and EEG (not from the hypnogram's micro-arousal rows)."""

    emg_highpass_in_Hz: float = Field(10.0, gt=0, description="EMG high-pass before the power envelope, in Hz.")
    emg_smoothing_in_s: float = Field(1.0, gt=0, description="Moving average of the squared EMG, in s.")
    envelope_rate_in_Hz: float = Field(
        10.0, gt=0, description="Rate, in Hz, at which the EMG (and delta) power envelopes are kept."
    )
    eeg_band_in_Hz: Pair = Field(
        (1.0, 4.0), description="EEG band, in Hz, whose power drop marks desynchronisation (delta)."
    )
    eeg_smoothing_in_s: float = Field(2.0, gt=0, description="Moving average of the squared delta-band EEG, in s.")
    emg_threshold: float = Field(4.0, gt=0, description="EMG power must exceed this multiple of its NREM median.")
    eeg_threshold: float = Field(
        0.0,
        ge=0,
        description="Delta power must fall below this fraction of its NREM median (set 0 to not use EEG).",
    )
    min_duration_in_s: float = Field(1.5, gt=0, description="Shortest micro-arousal, in s.")
    merge_gap_in_s: float = Field(1.0, gt=0, description="Detections closer than this, in s, are merged.")
    onset_tolerance_in_s: float = Field(
        2.0,
        gt=0,
        description="Scoring against the hypnogram: a detection matches a scored micro-arousal when the onsets "
        "differ by at most this, in s.",
    )
    triggered_window_in_s: float = Field(
        50.0, gt=0, description="Micro-arousal-triggered averages: +- this window, in s (published: 50 s)."
    )
    triggered_isolation_in_s: float = Field(
        40.0, gt=0, description="Only micro-arousals with no other one within +- this, in s (published: 40 s)."
    )
    triggered_duration_in_s: Pair = Field(
        (0.0, 10.0), description="Only micro-arousals with a duration in this range, in s (published: 0-10 s)."
    )


class KineticsParams(_Section):
    """Tracer influx / efflux kinetics."""

    rise_low_percent: float = Field(
        10.0, ge=0, le=100, description="Influx runs from this % of the tracer maximum (published: 10)."
    )
    rise_high_percent: float = Field(
        90.0, ge=0, le=100, description="Influx runs to this % of the tracer maximum (published: 90)."
    )
    smoothing_periods: float = Field(
        2.0,
        gt=0,
        description="Width of the moving mean applied before locating the peak and crossings, in periods of the "
        "session's NE oscillation (its spectral peak; 50 s when unknown): a whole number of periods cancels the "
        "oscillation riding on the tracer curve, which would inflate the peak.",
    )
    efflux_fraction: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="Efflux half-time is the time from the peak down to this fraction (0 to 1) of it.",
    )


class TriggeredParams(_Section):
    """Event-triggered averages (micro-arousals, LC optogenetics, vasomotion stimulation)."""

    window_in_s: float = Field(30.0, gt=0, description="+- window around each train onset, in s (published: 30 s).")
    baseline_in_s: float = Field(
        30.0,
        ge=0,
        description="Seconds before onset used as the baseline of the spectrogram average (the whole pre-onset "
        "window by default: single 5-s windows are noisy).",
    )
    min_events_for_average: int = Field(
        10,
        ge=1,
        description="Event-triggered averages (and spectrograms) of fewer events are marked as small-n in the "
        "report: a handful of events averages little of the noise out.",
    )


class GroupParams(_Section):
    """Group statistics."""

    n_bootstrap: int = Field(2000, ge=1, description="Bootstrap resamples for confidence intervals.")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level (0 to 1).")
    seed: int = Field(0, ge=0, description="Bootstrap seed.")
    clearance_metric: str = Field(
        "csf_tracer.influx_slope_percent_per_min",
        min_length=1,
        description="Metric (dotted metrics.json name) used as the clearance outcome in the predictor analysis.",
    )
    predictors: tuple[str, ...] = Field(
        (
            "ne.oscillation.peak_frequency_in_Hz",
            "states.NREM.total_in_s",
            "states.REM.total_in_s",
            "states.sleep.total_in_s",
        ),
        min_length=1,
        description="Metrics (dotted metrics.json names) tried as predictors of clearance.",
    )


class AnalysisParams(_Section):
    """All parameters of ``glymph analyze`` and ``glymph analyze-group``, one section per step."""

    preprocessing: PreprocessingParams = PreprocessingParams()
    bouts: BoutParams = BoutParams()
    oscillation: OscillationParams = OscillationParams()
    coupling: CouplingParams = CouplingParams()
    eeg: EEGParams = EEGParams()
    phase_locking: PhaseLockingParams = PhaseLockingParams()
    arousal: ArousalParams = ArousalParams()
    kinetics: KineticsParams = KineticsParams()
    triggered: TriggeredParams = TriggeredParams()
    group: GroupParams = GroupParams()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (tuples become lists)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_mapping(cls, *, mapping: Mapping[str, Any], source: str = "<params>") -> AnalysisParams:
        """Build parameters from a params document; missing keys keep their defaults.

        Parameters
        ----------
        mapping : Mapping
            ``{section: {key: value}}``, optionally with ``preset``.
        source : str
            Name used in error messages (the params file).

        Returns
        -------
        AnalysisParams

        Raises
        ------
        InputFileError
            The document does not follow :func:`params_schema`; the message names the first
            offending field.
        """
        _validate_against_schema(mapping=mapping, source=source)
        merged: dict[str, dict[str, Any]] = {}
        preset = mapping.get("preset")
        if preset is not None:
            for section, values in PRESETS[preset].items():
                merged.setdefault(section, {}).update(values)
        for section, values in mapping.items():
            if section != "preset":
                merged.setdefault(section, {}).update(values)
        return cls.model_validate(merged)


class ParamsFile(AnalysisParams):
    """A params YAML file: every section and key optional, optionally starting from a preset."""

    model_config = ConfigDict(
        title="ndx-glymphatic analysis parameters",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://github.com/ndx-glymphatic/ndx-glymphatic/analysis/params_schema.json",
        },
    )

    preset: PresetName | SkipJsonSchema[None] = Field(
        None,
        description="Start from a published lab's choices (docs/analysis.md); explicit keys win.",
        json_schema_extra=lambda schema: schema.pop("default"),  # no preset is the absence of the key, not null
    )


#: Published per-lab choices, selectable with ``preset:`` in a params file (explicit keys win).
#: ``glymph`` is the defaults (used when no preset is given); ``kjaerby2022`` is the Kjaerby-lab MATLAB
#: code step for step (docs/methods.md compares the two).
PRESETS: dict[PresetName, dict[str, dict[str, Any]]] = {
    "glymph": {},
    "kjaerby2022": {
        "bouts": {"micro_arousal_max_duration_in_s": 15.0, "micro_arousal_requires_flanking_nrem": True},
        "oscillation": {
            "min_bout_in_s": 120.0,
            "spectrum_input": "dff",
            "psd_method": "matlab_pwelch_default",
            "peak_pick": "grid_maximum",
            "peak_search": "stitched_bouts",
            "peak_filter_order": "prominence_then_distance",
            "amplitude_input": "dff",
            "percentile_definition": "matlab_prctile",
        },
        "coupling": {
            "signal": "dff_detrended_per_bout",
            "correlogram": "bout_zscore",
            "detrend_order": 1,
            "zscore_ddof": 1,
            "short_bouts": "keep_longer_than_max_lag",
            "extremum_interpolation": "grid_sample",
            "extremum_search": "full",
        },
        "eeg": {"bands": {"sigma": [8.0, 15.0], "beta": [15.0, 30.0]}, "sigma_power": "log_stft_magnitude"},
    },
    "hauglund2025": {
        "bouts": {"micro_arousal_max_duration_in_s": 20.0, "micro_arousal_requires_flanking_nrem": True},
        "oscillation": {"min_bout_in_s": 200.0},
        "eeg": {"bands": {"sigma": [12.0, 16.0], "beta": [16.0, 30.0]}},
    },
    "luthi": {
        "bouts": {"micro_arousal_max_duration_in_s": 12.0, "micro_arousal_requires_flanking_nrem": True},
    },
}


def _complete(*, default: Mapping[str, Any], value: Any) -> Any:
    """A partial mapping of bands or pairs, completed with the defaults of the keys it leaves out."""
    return {**default, **value} if isinstance(value, Mapping) else value


class _WithoutFieldTitles(GenerateJsonSchema):
    """Field titles would only repeat the key; descriptions say what a key means."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        # a section's keys each state their default; the whole default section would repeat them
        if schema["schema"]["type"] in ("model", "definition-ref"):
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


@functools.cache
def params_schema_text() -> str:
    """The JSON Schema of params files, as text (the content of ``params_schema.json``)."""
    schema = ParamsFile.model_json_schema(schema_generator=_WithoutFieldTitles)
    return json.dumps(schema, indent=2) + "\n"


def params_schema() -> dict[str, Any]:
    """The JSON Schema of params files (a fresh dict), generated from :class:`ParamsFile`."""
    return json.loads(params_schema_text())


def _validate_against_schema(*, mapping: Mapping[str, Any], source: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(params_schema())
    errors = sorted(validator.iter_errors(dict(mapping)), key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(part) for part in first.absolute_path) or "(top level)"
        raise InputFileError(
            path=source,
            field=where,
            expected="a value allowed by the analysis params schema (docs/analysis.md)",
            found=first.message,
            hint=f"{len(errors)} problem(s) in total" if len(errors) > 1 else None,
        )


def load_params(*, path: str | Path | None) -> AnalysisParams:
    """Read a params YAML file (schema-checked) or return the defaults when ``path`` is None.

    Parameters
    ----------
    path : str or Path or None
        The params YAML file.

    Returns
    -------
    AnalysisParams
    """
    if path is None:
        return AnalysisParams()
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path=path, field="params file", expected="an existing YAML file", found="nothing")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise InputFileError(
            path=path, field="params file", expected="valid YAML", found=str(error).splitlines()[0]
        ) from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise InputFileError(
            path=path, field="(top level)", expected="a mapping of sections", found=type(loaded).__name__
        )
    return AnalysisParams.from_mapping(mapping=loaded, source=str(path))
