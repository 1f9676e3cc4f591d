"""Parameters of every analysis step, defaulting to the published values.

Each step has one frozen dataclass; :class:`AnalysisParams` collects them. A params YAML file
overrides any subset, section by section::

    preset: hauglund2025          # optional: a published lab's choices (see PRESETS)
    bouts:
      micro_arousal_max_duration_in_s: 20
    oscillation:
      min_bout_in_s: 200

The file is checked against ``params_schema.json`` (shipped beside this module) before it is used;
an unknown key, a wrong type or an out-of-range value is refused with the offending key named.

Where the published methods differ between labs (science.md), the defaults follow the authors'
public MATLAB code of the Kjaerby 2022 / Hauglund 2025 pipeline and the alternatives are a
parameter away (``preset``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

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
    "PhaseLockingParams",
    "PreprocessingParams",
    "TriggeredParams",
    "load_params",
    "params_schema",
]


@dataclass(frozen=True)
class PreprocessingParams:
    """Photometry preprocessing: smoothing, decimation, control fit, dF/F, bleaching, tracer baseline.

    Attributes
    ----------
    decimation_factor : int
        Keep one sample in this many after smoothing (published: 100, ~1 kHz -> ~10 Hz).
    smoothing_window_samples : int
        Width of the zero-phase moving mean on the raw stream (published: 1000). Must be a multiple
        of ``decimation_factor``.
    reference_rate_in_Hz : float
        The rate the two numbers above were published for (TDT, 1017.25 Hz). A stream whose rate
        differs by more than 2x has both scaled by ``rate / reference_rate_in_Hz`` so the output stays
        near 10 Hz and the smoothing near 1 s.
    control_fit : str
        ``"ols"`` (published: linear least squares, MATLAB polyfit) or ``"irls"`` (robust).
    robust_norm : str
        Weight function for IRLS: ``"huber"`` (c = 1.345) or ``"bisquare"`` (c = 4.685).
    fit_on : str
        ``"decimated"`` (fit the ~10 Hz smoothed traces) or ``"full_rate"`` (fit every raw sample,
        streamed in chunks through sufficient statistics; IRLS then makes one pass per iteration).
    without_control : str
        What to do for a signal channel with no control channel: ``"baseline_median"`` (dF/F
        against the median of the first ``baseline_window_in_s`` after bleaching correction, recorded
        as a note in the metrics) or ``"refuse"`` (stop with an error).
    baseline_window_in_s : float
        Baseline length for the control-free dF/F (published alternative: 30-min baseline median).
    bleaching_correction : str
        For control-free channels: ``"exponential"`` (divide by a fitted single exponential decay
        before taking dF/F), ``"moving_average"`` or ``"none"``.
    detrend_window_in_s : float
        Width of the long moving average subtracted from tracer / blood-volume dF/F before coupling
        analyses (published: "subtract a long moving average"; width not published).
    tracer_baseline_in_s : float
        Tracer / albumin dF/F baseline: the median of this many seconds before the infusion
        (published: 5 min).
    chunk_samples : int
        Raw samples read per chunk when streaming.
    max_gap_in_s : float
        NaN runs up to this long in the decimated traces are filled by linear interpolation;
        longer runs split bouts.
    """

    decimation_factor: int = 100
    smoothing_window_samples: int = 1000
    reference_rate_in_Hz: float = 1017.25
    control_fit: str = "ols"
    robust_norm: str = "huber"
    fit_on: str = "decimated"
    without_control: str = "baseline_median"
    baseline_window_in_s: float = 1800.0
    bleaching_correction: str = "exponential"
    detrend_window_in_s: float = 300.0
    tracer_baseline_in_s: float = 300.0
    chunk_samples: int = 2_000_000
    max_gap_in_s: float = 2.0


@dataclass(frozen=True)
class BoutParams:
    """NREM bout selection and the micro-arousal rule.

    Attributes
    ----------
    micro_arousal_max_duration_in_s : float
        A wake (or micro-arousal) row inside NREM up to this long is a micro-arousal (Kjaerby 2022:
        15 s; Hauglund 2025: 20 s; Luthi lab: 12 s). Longer ones are wake and end a bout.
    micro_arousal_requires_flanking_nrem : bool
        A micro-arousal must have NREM right before and right after it (Luthi lab rule; also how a
        micro-arousal "inside NREM" is read here).
    split_bouts_at_micro_arousals : bool
        If true, micro-arousals end NREM bouts; if false (published), a NREM bout runs through them.
    contiguity_tolerance_in_s : float
        Rows separated by at most this gap count as adjacent.
    """

    micro_arousal_max_duration_in_s: float = 15.0
    micro_arousal_requires_flanking_nrem: bool = True
    split_bouts_at_micro_arousals: bool = False
    contiguity_tolerance_in_s: float = 0.5


@dataclass(frozen=True)
class OscillationParams:
    """NE infraslow oscillation: spectrum, peak rate and amplitude during NREM.

    Attributes
    ----------
    highpass_in_Hz : float
        Zero-phase Butterworth high-pass before the spectrum (published: 0.005 Hz).
    highpass_order : int
        Butterworth order of that high-pass.
    min_bout_in_s : float
        NREM bouts entering the spectrum (Kjaerby: >= 120 s; Hauglund: >= 200 s).
    detrend_order : int
        Polynomial order removed from each bout (published: 5).
    fmax_in_Hz : float
        Upper end of the 0-fmax spectrum grid (published: 0.1 Hz).
    frequency_step_in_Hz : float
        Spacing of the spectrum grid.
    welch_segment_in_s : float
        Welch segment length (a bout shorter than this is one segment). Long segments are needed
        to resolve ~0.02 Hz to within 0.002 Hz.
    welch_overlap : float
        Fractional segment overlap.
    peak_search_in_Hz : tuple of float
        Band searched for the spectral peak.
    normalisation_fmax_in_Hz : float
        The spectrum is normalised to its ``normalisation_percentile`` below this frequency
        (published: 90th percentile below 0.03 Hz).
    normalisation_percentile : float
        See ``normalisation_fmax_in_Hz``.
    peak_min_distance_in_s : float
        NE peaks: minimum distance (published: 10 s).
    peak_min_prominence : float
        NE peaks: minimum prominence in % dF/F (published: 1.5).
    amplitude_percentiles : tuple of float
        Amplitude per bout = upper minus lower percentile (published: 90th - 10th).
    """

    highpass_in_Hz: float = 0.005
    highpass_order: int = 2
    min_bout_in_s: float = 120.0
    detrend_order: int = 5
    fmax_in_Hz: float = 0.1
    frequency_step_in_Hz: float = 0.0005
    welch_segment_in_s: float = 300.0
    welch_overlap: float = 0.5
    peak_search_in_Hz: tuple[float, float] = (0.005, 0.1)
    normalisation_fmax_in_Hz: float = 0.03
    normalisation_percentile: float = 90.0
    peak_min_distance_in_s: float = 10.0
    peak_min_prominence: float = 1.5
    amplitude_percentiles: tuple[float, float] = (10.0, 90.0)


@dataclass(frozen=True)
class CouplingParams:
    """Cross-correlation between NE, blood volume, CSF tracer and EEG sigma power.

    Sign convention: a positive lag means the second signal lags (follows) the first.

    Attributes
    ----------
    min_bout_in_s : float
        NREM bouts used (published: > 100 s).
    max_lag_in_s : float
        Lag range between photometry signals (published: +-40 s).
    sigma_max_lag_in_s : float
        Lag range of sigma power vs NE (published: +-60 s).
    detrend_order : int
        Polynomial order removed from each bout before z-scoring.
    extremum : dict
        Which extremum is reported per pair, ``"min"`` (anti-correlation), ``"max"`` or ``"abs"``.
    extremum_search : str
        ``"half_period"``: search the extremum within +- half the NE oscillation period (the one
        nearest zero lag; correlograms of oscillations repeat every period), falling back to the
        whole range when the period is unknown; ``"full"``: the whole lag range.
    """

    min_bout_in_s: float = 100.0
    max_lag_in_s: float = 40.0
    sigma_max_lag_in_s: float = 60.0
    detrend_order: int = 1
    extremum: dict[str, str] = field(
        default_factory=lambda: {
            "ne_vs_blood_volume": "min",
            "ne_vs_csf": "max",
            "blood_volume_vs_csf": "min",
            "ne_vs_sigma": "max",
        }
    )
    extremum_search: str = "half_period"


@dataclass(frozen=True)
class EEGParams:
    """EEG spectrogram, band powers and spindles.

    Attributes
    ----------
    spectrogram_window_in_s : float
        Window length (published: 5 s, hence 0.2-Hz frequency steps).
    spectrogram_step_in_s : float
        Time step between windows.
    spectrogram_fmax_in_Hz : float
        Highest frequency kept (published: 30 Hz).
    bands : dict
        Band edges in Hz (published: delta 1-4, theta 4-8, sigma 8-15 (Kjaerby) or 12-16
        (Hauglund), beta 15-30).
    spindle_band_in_Hz : tuple of float
        Spindle band-pass (published: 8-15 Hz).
    spindle_filter_order : int
        Butterworth order (published: 3).
    spindle_smoothing_in_s : float
        Moving average of the squared band-passed EEG (published: 0.25 s).
    spindle_threshold_sd : float
        Threshold = mean + this many SD of the smoothed power during NREM (published: 0.8).
    spindle_min_in_s, spindle_max_in_s : float
        Accepted spindle durations (published: 0.5-10 s).
    envelope_rate_in_Hz : float
        Rate at which the smoothed power envelopes are kept.
    chunk_in_s : float
        EEG seconds read per chunk.
    """

    spectrogram_window_in_s: float = 5.0
    spectrogram_step_in_s: float = 2.5
    spectrogram_fmax_in_Hz: float = 30.0
    bands: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "delta": (1.0, 4.0),
            "theta": (4.0, 8.0),
            "sigma": (8.0, 15.0),
            "beta": (15.0, 30.0),
        }
    )
    spindle_band_in_Hz: tuple[float, float] = (8.0, 15.0)
    spindle_filter_order: int = 3
    spindle_smoothing_in_s: float = 0.25
    spindle_threshold_sd: float = 0.8
    spindle_min_in_s: float = 0.5
    spindle_max_in_s: float = 10.0
    envelope_rate_in_Hz: float = 32.0
    chunk_in_s: float = 600.0


@dataclass(frozen=True)
class PhaseLockingParams:
    """Phase-locking of EEG sigma power to the infraslow NE oscillation.

    Attributes
    ----------
    ne_band_in_Hz : tuple of float
        Band-pass of NE before the Hilbert phase.
    min_bout_in_s : float
        NREM bouts used.
    n_surrogates : int
        Circular-shift surrogates for the p-value.
    min_shift_in_s : float
        Smallest circular shift of a surrogate.
    seed : int
        Random seed of the surrogates.
    """

    ne_band_in_Hz: tuple[float, float] = (0.01, 0.04)
    min_bout_in_s: float = 120.0
    n_surrogates: int = 500
    min_shift_in_s: float = 20.0
    seed: int = 0


@dataclass(frozen=True)
class ArousalParams:
    """Micro-arousal detection from EMG and EEG (not from the hypnogram's micro-arousal rows).

    Attributes
    ----------
    emg_highpass_in_Hz : float
        EMG high-pass before the power envelope.
    emg_smoothing_in_s : float
        Moving average of the squared EMG.
    envelope_rate_in_Hz : float
        Rate at which the EMG (and delta) power envelopes are kept.
    eeg_band_in_Hz : tuple of float
        EEG band whose power drop marks desynchronisation (delta).
    eeg_smoothing_in_s : float
        Moving average of the squared delta-band EEG.
    emg_threshold : float
        EMG power must exceed this multiple of its NREM median.
    eeg_threshold : float
        Delta power must fall below this fraction of its NREM median (set 0 to not use EEG).
    min_duration_in_s : float
        Shortest micro-arousal.
    merge_gap_in_s : float
        Detections closer than this are merged.
    onset_tolerance_in_s : float
        Scoring against the hypnogram: a detection matches a scored micro-arousal when the onsets
        differ by at most this.
    triggered_window_in_s : float
        Micro-arousal-triggered averages: +- this window (published: 50 s).
    triggered_isolation_in_s : float
        Only micro-arousals with no other one within +- this (published: 40 s).
    triggered_duration_in_s : tuple of float
        Only micro-arousals with a duration in this range (published: 0-10 s).
    """

    emg_highpass_in_Hz: float = 10.0
    emg_smoothing_in_s: float = 1.0
    envelope_rate_in_Hz: float = 10.0
    eeg_band_in_Hz: tuple[float, float] = (1.0, 4.0)
    eeg_smoothing_in_s: float = 2.0
    emg_threshold: float = 4.0
    eeg_threshold: float = 0.0
    min_duration_in_s: float = 1.5
    merge_gap_in_s: float = 1.0
    onset_tolerance_in_s: float = 2.0
    triggered_window_in_s: float = 50.0
    triggered_isolation_in_s: float = 40.0
    triggered_duration_in_s: tuple[float, float] = (0.0, 10.0)


@dataclass(frozen=True)
class KineticsParams:
    """Tracer influx / efflux kinetics.

    Attributes
    ----------
    rise_low_percent, rise_high_percent : float
        Influx runs from this % to that % of the tracer maximum (published: 10 -> 90).
    smoothing_periods : float
        Width of the moving mean applied before locating the peak and crossings, in periods of
        the session's NE oscillation (its spectral peak; 50 s when unknown): a whole number of
        periods cancels the oscillation riding on the tracer curve, which would inflate the peak.
    efflux_fraction : float
        Efflux half-time is the time from the peak down to this fraction of it.
    """

    rise_low_percent: float = 10.0
    rise_high_percent: float = 90.0
    smoothing_periods: float = 2.0
    efflux_fraction: float = 0.5


@dataclass(frozen=True)
class TriggeredParams:
    """Stimulation-triggered averages (LC optogenetics, vasomotion stimulation).

    Attributes
    ----------
    window_in_s : float
        +- window around each train onset (published: 30 s).
    baseline_in_s : float
        Seconds before onset used as the baseline of the spectrogram average (the whole pre-onset
        window by default: single 5-s windows are noisy).
    """

    window_in_s: float = 30.0
    baseline_in_s: float = 30.0


@dataclass(frozen=True)
class GroupParams:
    """Group statistics.

    Attributes
    ----------
    n_bootstrap : int
        Bootstrap resamples for confidence intervals.
    confidence : float
        Confidence level.
    seed : int
        Bootstrap seed.
    clearance_metric : str
        Metric used as the clearance outcome in the predictor analysis.
    predictors : tuple of str
        Metrics tried as predictors of clearance.
    """

    n_bootstrap: int = 2000
    confidence: float = 0.95
    seed: int = 0
    clearance_metric: str = "csf_tracer.influx_slope_percent_per_min"
    predictors: tuple[str, ...] = (
        "ne.oscillation.peak_frequency_in_Hz",
        "states.NREM.total_in_s",
        "states.REM.total_in_s",
        "states.sleep.total_in_s",
    )


@dataclass(frozen=True)
class AnalysisParams:
    """All parameters of ``glymph analyze`` and ``glymph analyze-group``, one section per step."""

    preprocessing: PreprocessingParams = field(default_factory=PreprocessingParams)
    bouts: BoutParams = field(default_factory=BoutParams)
    oscillation: OscillationParams = field(default_factory=OscillationParams)
    coupling: CouplingParams = field(default_factory=CouplingParams)
    eeg: EEGParams = field(default_factory=EEGParams)
    phase_locking: PhaseLockingParams = field(default_factory=PhaseLockingParams)
    arousal: ArousalParams = field(default_factory=ArousalParams)
    kinetics: KineticsParams = field(default_factory=KineticsParams)
    triggered: TriggeredParams = field(default_factory=TriggeredParams)
    group: GroupParams = field(default_factory=GroupParams)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_mapping(cls, *, mapping: Mapping[str, Any], source: str = "<params>") -> AnalysisParams:
        """Build parameters from a (schema-valid) mapping; missing keys keep their defaults.

        Parameters
        ----------
        mapping : Mapping
            ``{section: {key: value}}``, optionally with ``preset``.
        source : str
            Name used in error messages (the params file).

        Returns
        -------
        AnalysisParams
        """
        _validate_against_schema(mapping=mapping, source=source)
        merged: dict[str, dict[str, Any]] = {}
        preset = mapping.get("preset")
        if preset is not None:
            for section, values in PRESETS[preset].items():
                merged.setdefault(section, {}).update(values)
        for section, values in mapping.items():
            if section == "preset":
                continue
            merged.setdefault(section, {}).update(values)
        sections = {}
        for section_field in dataclasses.fields(cls):
            section_type = _SECTION_TYPES[section_field.name]
            overrides = merged.get(section_field.name, {})
            converted = {}
            for key, value in overrides.items():
                default = getattr(section_type(), key)
                converted[key] = _like(default=default, value=value)
            if section_field.name == "coupling" and "extremum" in converted:
                converted["extremum"] = {**CouplingParams().extremum, **converted["extremum"]}
            sections[section_field.name] = section_type(**converted)
        return cls(**sections)


_SECTION_TYPES: dict[str, type] = {
    "preprocessing": PreprocessingParams,
    "bouts": BoutParams,
    "oscillation": OscillationParams,
    "coupling": CouplingParams,
    "eeg": EEGParams,
    "phase_locking": PhaseLockingParams,
    "arousal": ArousalParams,
    "kinetics": KineticsParams,
    "triggered": TriggeredParams,
    "group": GroupParams,
}

#: Published per-lab choices, selectable with ``preset:`` in a params file (explicit keys win).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "kjaerby2022": {
        "bouts": {"micro_arousal_max_duration_in_s": 15.0, "micro_arousal_requires_flanking_nrem": True},
        "oscillation": {"min_bout_in_s": 120.0},
        "eeg": {"bands": {"sigma": [8.0, 15.0], "beta": [15.0, 30.0]}},
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


def _like(*, default: Any, value: Any) -> Any:
    """Convert a YAML value to the type of the default (lists -> tuples, band dicts -> tuples)."""
    if isinstance(default, tuple):
        return tuple(value)
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, dict):
        merged = dict(default)
        for key, item in value.items():
            merged[key] = tuple(item) if isinstance(item, list) else item
        return merged
    return value


def params_schema() -> dict[str, Any]:
    """The JSON Schema of a params file (``params_schema.json``)."""
    text = resources.files("ndx_glymphatic.analysis").joinpath("params_schema.json").read_text()
    return json.loads(text)


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
        raise InputFileError(
            path=path, field="params file", expected="an existing YAML file", found="nothing"
        )
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
