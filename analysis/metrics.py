"""metrics.json: one typed definition of the document ``glymph analyze`` writes, and its JSON Schema.

The pydantic models below are the only description of metrics.json. The analysis steps build their
sections as these models; :class:`MetricsDocument` validates the assembled document before it is
written, and ``metrics_schema.json`` (shipped beside this module) is generated from it::

    python -m ndx_glymphatic.analysis.metrics      # rewrites metrics_schema.json

A test keeps the committed file equal to :func:`metrics_schema`.

Numbers that are undefined for a session (NaN or infinite, e.g. no NREM bout long enough) are
written as null; numpy scalars and arrays become plain JSON numbers and lists.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema

__all__ = [
    "METRICS_SCHEMA_VERSION",
    "MetricsDocument",
    "json_ready",
    "merge_sections",
    "metrics_schema",
    "write_metrics_schema",
]

METRICS_SCHEMA_VERSION = "1.0.0"
_SCHEMA_PATH = Path(__file__).with_name("metrics_schema.json")


def json_ready(value: Any) -> Any:
    """JSON-ready copy: NaN/inf -> None, numpy scalars and arrays -> Python numbers and lists, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return [json_ready(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


Number = Annotated[float | None, BeforeValidator(json_ready)]
Count = Annotated[Annotated[int, Field(ge=0)] | None, BeforeValidator(json_ready)]
Numbers = Annotated[list[Number], BeforeValidator(json_ready)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# ----------------------------------------------------------------------------- document head


class Package(_Section):
    """Producer."""

    name: Literal["ndx-glymphatic"]
    version: str


class Channels(_Section):
    """Series used for each role (found by measured_quantity and channel_role)."""

    ne_signal: str | None
    ne_control: str | None
    blood_volume: str | None
    csf_tracer: str | None


class Input(_Section):
    """The analysed file."""

    path: str
    identifier: str | None
    session_id: str | None
    subject_id: str | None
    condition: str | None = Field(description="ExperimentalCondition.condition")
    is_control: bool | None = Field(description="ExperimentalCondition.is_control")
    session_start_time: str
    duration_in_s: Number = Field(description="Photometry duration.")
    drug: dict[str, Any] | None = Field(
        description="First row of drug_administrations (time_in_s, drug, dose, dose_unit, route, vehicle)."
    )
    channels: Channels


# ----------------------------------------------------------------------------- states


class StateTotals(_Section):
    """One state after the micro-arousal rule."""

    total_in_s: Number = Field(description="Total time.")
    n_bouts: Count = Field(description="Number of bouts/rows.")
    mean_bout_in_s: Number = Field(description="Mean bout length.")
    fraction: Number = Field(description="Fraction of the scored time.")


class MicroArousalTotals(StateTotals):
    """Micro-arousals after the rule."""

    per_hour_nrem: Number = Field(description="Per hour of NREM (NREM + micro-arousal time).")


class States(_Section):
    """Per-state totals; NREM excludes micro-arousals; sleep = NREM + micro-arousal + REM."""

    wake: StateTotals
    NREM: StateTotals
    REM: StateTotals
    micro_arousal: MicroArousalTotals = Field(alias="micro-arousal")
    sleep: StateTotals


class MeanByState(_Section):
    """Mean dF/F per state."""

    wake: Number = Field(description="Mean dF/F in wake.")
    NREM: Number = Field(description="Mean dF/F in NREM.")
    REM: Number = Field(description="Mean dF/F in REM.")
    micro_arousal: Number = Field(alias="micro-arousal", description="Mean dF/F in micro-arousal.")


# ----------------------------------------------------------------------------- photometry


class ControlFitPreprocessing(_Section):
    """dF/F against the control channel fitted to the signal."""

    method: Literal["control_fit"]
    fit: str = Field(description="ols or irls-huber / irls-bisquare")
    fit_on: Literal["decimated", "full_rate"]
    slope: Number = Field(description="Control fit slope.")
    intercept: Number = Field(description="Control fit intercept.")
    r_squared: Number = Field(description="Fit R^2.")
    n_samples: Count = Field(description="Samples fitted.")
    n_iterations: Count = Field(description="IRLS iterations.")


class BaselinePreprocessing(_Section):
    """dF/F against a baseline median (a signal without control channel)."""

    method: Literal["baseline_median"]
    baseline: Number = Field(description="F0 of the control-free dF/F.")
    bleaching_correction: str


class TracerPreprocessing(_Section):
    """Tracer dF/F baseline."""

    baseline: Number = Field(
        description="F0: median of the tracer_baseline_in_s before the infusion (or of the first tracer_baseline_in_s, "
        "see baseline_note)."
    )
    infusion_start_in_s: Number = Field(description="First infusion of a tracer labelling this compartment.")
    baseline_note: str | None


class Spectrum(_Section):
    """Infraslow spectrum summary (published recipe)."""

    peak_frequency_in_Hz: Number = Field(
        description="Peak of the bout-duration-weighted infraslow PSD (parabolic interpolation); null without "
        "qualifying bouts."
    )
    peak_period_in_s: Number = Field(description="1 / peak_frequency_in_Hz.")
    peak_power_normalized: Number = Field(description="PSD at the peak / 90th percentile of the PSD below 0.03 Hz.")
    n_bouts: Count = Field(description="NREM bouts entering the spectrum (>= the step's min_bout_in_s, split at gaps).")
    total_bout_in_s: Number = Field(description="Their summed duration.")


class NeOscillation(Spectrum):
    """NE infraslow oscillation in NREM."""

    n_peaks: Count = Field(description="NE peaks (distance >= 10 s, prominence >= 1.5 % dF/F) in NREM.")
    peak_rate_per_min: Number = Field(description="Peaks per minute of NREM.")
    peak_rate_in_Hz: Number = Field(description="Peaks per second of NREM.")
    nrem_searched_in_s: Number = Field(description="NREM time searched for peaks.")
    amplitude_percent_mean: Number = Field(description="Mean over bouts of the 90th-10th percentile (% dF/F).")
    amplitude_percent_median: Number = Field(description="Median over bouts of the same.")


class NeMetrics(_Section):
    """Norepinephrine."""

    preprocessing: ControlFitPreprocessing | BaselinePreprocessing = Field(
        description="How dF/F was computed.", discriminator="method"
    )
    oscillation: NeOscillation
    mean_dff_by_state: MeanByState | None = None


class TracerMetrics(_Section):
    """A tracer channel (blood volume: albumin label)."""

    preprocessing: TracerPreprocessing
    oscillation: Spectrum | None = None
    mean_dff_by_state: MeanByState | None = None


class TracerKinetics(_Section):
    """CSF tracer influx and efflux (present when the CSF tracer infusion is recorded)."""

    peak_percent: Number = Field(description="Maximum of the smoothed dF/F after the infusion.", default=None)
    peak_time_in_s: Number = Field(description="Its time.", default=None)
    t10_in_s: Number = Field(description="First crossing of 10 % of the peak.", default=None)
    t90_in_s: Number = Field(description="First crossing of 90 % of the peak.", default=None)
    rise_time_in_s: Number = Field(description="t90 - t10.", default=None)
    influx_slope_percent_per_min: Number = Field(description="0.8 * peak / rise time, per minute.", default=None)
    efflux_half_time_in_s: Number = Field(description="Peak to half the peak.", default=None)
    efflux_slope_percent_per_min: Number = Field(description="Least-squares slope after the peak.", default=None)


class CsfTracerMetrics(TracerMetrics, TracerKinetics):
    """CSF tracer influx and efflux."""


# ----------------------------------------------------------------------------- coupling and EEG


class CrossCorrelation(_Section):
    """Bout-averaged cross-correlation."""

    lag_in_s: Number = Field(
        description="Lag of the extremum of the bout-averaged correlogram; positive: the second signal follows "
        "the first."
    )
    value: Number = Field(description="Correlation at that extremum.")
    extremum: Literal["min", "max", "abs"] = Field(description="Which extremum was taken.")
    n_bouts: Count = Field(description="Bouts averaged.")
    bout_lag_s_median: Number = Field(description="Median over bouts of the per-bout extremum lag (s).")
    bout_value_median: Number = Field(description="Median over bouts of the per-bout extremum value.")


class Coupling(_Section):
    """Cross-correlations in NREM bouts."""

    ne_vs_blood_volume: CrossCorrelation | None = None
    ne_vs_csf: CrossCorrelation | None = None
    blood_volume_vs_csf: CrossCorrelation | None = None
    ne_vs_sigma: CrossCorrelation | None = None
    sign_convention: str
    extremum_searched_within_in_s: Number = Field(
        description="Extremum searched within +- this lag (half the NE period) when coupling.extremum_search is "
        "half_period; null: whole range."
    )


class PhaseLocking(_Section):
    """Phase-locking of sigma power to the NE oscillation."""

    mean_vector_length: Number = Field(description="Normalised MVL of sigma power over NE phase.")
    preferred_phase_rad: Number = Field(description="0 = NE peak.")
    preferred_phase_deg: Number = Field(description="Same in degrees.")
    p_value: Number = Field(description="Circular-shift surrogate p-value.")
    surrogate_mean: Number = Field(description="Mean surrogate MVL.")
    n_bouts: Count = Field(description="Bouts used.")
    n_surrogates: Count = Field(description="Surrogates.")


class Spindles(_Section):
    """Spindles."""

    n: Count = Field(description="Spindles detected in NREM.")
    density_per_min_nrem: Number = Field(description="Per minute of NREM.")
    mean_duration_in_s: Number = Field(description="Mean duration.")
    threshold_V2: Number = Field(description="Detection threshold.")


class EegMetrics(_Section):
    """EEG measures."""

    band_power_by_state_V2: dict[str, dict[str, Number]] = Field(
        description="Mean band power (V^2) per state and band."
    )
    sigma_infraslow: Spectrum | None = None
    sigma_phase_locking: PhaseLocking | None = None
    spindles: Spindles | None = None


# ----------------------------------------------------------------------------- events


class Response(_Section):
    """Baseline-subtracted response of a triggered average."""

    n_events: Count = Field(description="Events averaged.")
    mean_change: Number = Field(
        description="Mean over 0-20 s after onset minus the mean over the 10 s before (trace units)."
    )
    peak_change: Number = Field(description="Extremum after onset minus the pre-onset mean.")
    peak_lag_in_s: Number = Field(description="Time of that extremum after onset.")


class DetectionScore(_Section):
    """Detected vs scored (onset matching)."""

    precision: Number
    recall: Number
    f1: Number
    onset_tolerance_in_s: Number
    median_onset_error_in_s: Number


class MicroArousalTriggered(_Section):
    """Micro-arousal-triggered averages."""

    n_isolated: Count = Field(description="Isolated micro-arousals averaged.")
    ne: Response
    blood_volume: Response | None = None


class MicroArousals(_Section):
    """Micro-arousals."""

    scored_n: Count = Field(description="Micro-arousals in the hypnogram under the rule.")
    detected_n: Count = Field(description="Detected from EMG/EEG.", default=None)
    detected_per_hour_nrem: Number = Field(description="Detected per hour of NREM.", default=None)
    detection_vs_scored: DetectionScore | None = None
    triggered: MicroArousalTriggered


class Stimulation(_Section):
    """Stimulation-triggered responses."""

    n_epochs: Count = Field(description="Stimulation epochs (rows with stimulation_on).")
    n_triggers: Count = Field(
        description="Triggers averaged around (train onsets for LC, light pulses for vasomotion)."
    )
    ne: Response | None = None
    blood_volume: Response | None = None
    csf_tracer: Response | None = None
    sigma_power_change_percent: Number = Field(
        description="Mean EEG sigma power 0-20 s after onset, % change from the pre-onset baseline.", default=None
    )
    modulation_frequency_in_Hz: Number = Field(
        description="Vasomotion modulation frequency from the file.", default=None
    )
    blood_volume_peak_frequency_in_Hz: Number = Field(
        description="Infraslow peak of blood volume within the vasomotion epochs.", default=None
    )


# ----------------------------------------------------------------------------- the document


class Metrics(_Section):
    """All measures."""

    states: States
    ne: NeMetrics
    blood_volume: TracerMetrics | None = Field(default=None, description="Cerebral blood volume (albumin label).")
    csf_tracer: CsfTracerMetrics | None = None
    coupling: Coupling
    eeg: EegMetrics | None = None
    micro_arousals: MicroArousals
    lc_stimulation: Stimulation | None = None
    vasomotion_stimulation: Stimulation | None = None


class Run(_Section):
    """How the run went."""

    timings_in_s: dict[str, Number] = Field(description="Seconds spent: read_and_reduce, steps.")


class MetricsDocument(_Section):
    """Per-session results of the reference analysis.

    Numbers that are undefined for a session (e.g. no NREM bout long enough) are null; the reason is in notes.
    """

    schema_version: str = Field(pattern=r"^1\.", description="Version of this schema.")
    package: Package
    input: Input
    parameters: dict[str, Any] = Field(
        description="Every parameter used (params_schema.json sections, defaults filled in)."
    )
    notes: list[str] = Field(description="Edge cases met and fallbacks taken.")
    metrics: Metrics
    curves: dict[str, dict[str, Numbers]] = Field(
        description="Small curves for group plots: *_spectrum {frequencies_in_Hz, normalized_psd}, "
        "*_xcorr {lags_in_s, mean}."
    )
    run: Run | None = None

    def to_json(self) -> dict[str, Any]:
        """The document as written to metrics.json (only the keys that were set)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


def merge_sections(*, sections: Mapping[str, BaseModel]) -> dict[str, Any]:
    """Nest typed sections given by dotted path (``"ne.oscillation"``) into one mapping.

    A section whose path is already filled by another is merged key by key (e.g. the tracer
    kinetics into ``csf_tracer``).
    """
    merged: dict[str, Any] = {}
    for path, section in sections.items():
        *parents, last = path.split(".")
        node = merged
        for part in parents:
            node = node.setdefault(part, {})
        node.setdefault(last, {}).update(section.model_dump(by_alias=True, exclude_unset=True))
    return merged


class _WithoutFieldTitles(GenerateJsonSchema):
    """Field titles would only repeat the field names."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def metrics_schema() -> dict[str, Any]:
    """The JSON Schema of metrics.json, generated from :class:`MetricsDocument`."""
    schema = MetricsDocument.model_json_schema(
        by_alias=True, mode="serialization", schema_generator=_WithoutFieldTitles
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/ndx-glymphatic/ndx-glymphatic/analysis/metrics_schema.json",
        **schema,
        "title": "ndx-glymphatic metrics.json (glymph analyze)",
    }


def write_metrics_schema(*, path: Path = _SCHEMA_PATH) -> Path:
    """Write :func:`metrics_schema` to ``path`` (the committed ``metrics_schema.json`` by default)."""
    path.write_text(json.dumps(metrics_schema(), indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_metrics_schema()}")
