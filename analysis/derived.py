"""The derived NWB file of ``glymph analyze --write-derived``: the analysis results as NWB, beside metrics.json.

A separate small file (``sub-X_ses-Y_desc-processed_<modalities>.nwb``), written by the one builder
(:func:`ndx_glymphatic.builder.write_derived_nwbfile`) from the raw file's metadata plus:

- ``processing/ophys/<channel>_dff``: dF/F (percent) of each signal channel analysed, and
  ``<channel>_decimated`` (the smoothed, decimated fluorescence of the blood-volume and CSF-tracer
  channels), as ``FiberPhotometryResponseSeries`` pointing at their channel-table rows;
- ``processing/ecephys/eeg_<band>_power``: EEG band power over time;
- ``events/ne_peaks``, ``scored_micro_arousals``, ``detected_micro_arousals``, ``spindles``: ``EventsTable``;
- ``intervals/nrem_bouts``: the NREM bouts the analysis used;
- ``analysis/glymph_metrics``, ``analysis/glymph_parameters``: metrics.json's measures and the parameters;
- ``analysis/was_derived_from``: the raw file's identifier and the object ids of the raw objects used.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ndx_glymphatic.analysis.pipeline import SessionAnalysis
    from ndx_glymphatic.builder import DerivedContent

__all__ = ["DERIVED_DESC", "derived_content", "flatten_document", "write_derived_file"]

#: The DANDI ``desc-`` label of the derived file.
DERIVED_DESC = "processed"


def flatten_document(*, section: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted.name, value)`` for every leaf of a nested metrics/parameters mapping, in order."""
    if isinstance(section, dict):
        leaves: list[tuple[str, Any]] = []
        for key, value in section.items():
            leaves.extend(flatten_document(section=value, prefix=f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    return [(prefix, section)]


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(float(value)):
        return float(value)
    return math.nan


def _series(*, analysis: SessionAnalysis) -> tuple[list[Any], dict[str, tuple[str, ...]]]:
    from ndx_glymphatic.builder import DerivedSeries

    session = analysis.session
    rate, start = float(analysis.rate_in_Hz), float(analysis.times[0])
    series: list[DerivedSeries] = []
    derived_from: dict[str, tuple[str, ...]] = {}
    for key, trace, how in (
        ("ne", session.ne_signal, "smoothed, decimated, fitted against its control channel"),
        ("blood_volume", session.blood_volume, "against the pre-infusion baseline median"),
        ("csf_tracer", session.csf_tracer, "against the pre-infusion baseline median"),
    ):
        if trace is None or f"{key}_dff" not in analysis.traces:
            continue
        name = f"{trace.name}_dff"
        series.append(
            DerivedSeries(
                name=name,
                description=f"dF/F (percent) of {trace.name} ({trace.measured_quantity}), {how}.",
                data=analysis.traces[f"{key}_dff"],
                rate_in_Hz=rate,
                starting_time_in_s=start,
                module="ophys",
                unit="percent",
                channel=trace.name,
            )
        )
        sources = [trace.name]
        if key == "ne" and session.ne_control is not None:
            sources.append(session.ne_control.name)
        derived_from[name] = tuple(sources)
        if key != "ne":
            decimated = trace.decimated
            name = f"{trace.name}_decimated"
            series.append(
                DerivedSeries(
                    name=name,
                    description=f"{trace.name} ({trace.measured_quantity}) smoothed and decimated.",
                    data=decimated.values,
                    rate_in_Hz=float(decimated.rate_in_Hz),
                    starting_time_in_s=float(decimated.starting_time),
                    module="ophys",
                    channel=trace.name,
                )
            )
            derived_from[name] = (trace.name,)
    band_power = analysis.curve("band_power")
    if band_power is not None and band_power.times.size > 1:
        step = float(band_power.times[1] - band_power.times[0])
        for band, values in band_power.powers.items():
            name = f"eeg_{band}_power"
            series.append(
                DerivedSeries(
                    name=name,
                    description=f"EEG {band}-band power per spectrogram window (window centres).",
                    data=values,
                    rate_in_Hz=1.0 / step,
                    starting_time_in_s=float(band_power.times[0]),
                    module="ecephys",
                    unit="V^2",
                )
            )
            derived_from[name] = ("EEG",)
    return series, derived_from


def _events(*, analysis: SessionAnalysis) -> tuple[list[Any], dict[str, tuple[str, ...]]]:
    from ndx_glymphatic.builder import EventsSource

    session = analysis.session
    events: list[EventsSource] = []
    derived_from: dict[str, tuple[str, ...]] = {}
    peaks = analysis.curve("ne_peaks")
    if peaks is not None and session.ne_signal is not None:
        indices = np.asarray(peaks.peak_indices, dtype=np.int64)
        events.append(
            EventsSource(
                table_name="ne_peaks",
                source_description=f"NE dF/F peaks in NREM bouts ({session.ne_signal.name}_dff; value: dF/F, percent)",
                onset_times_in_s=np.asarray(analysis.times)[indices],
                values=np.asarray(analysis.traces["ne_dff"], dtype=np.float64)[indices],
            )
        )
        derived_from["ne_peaks"] = (session.ne_signal.name,)
    scored = analysis.curve("scored_micro_arousals")
    if scored is not None:
        events.append(
            EventsSource(
                table_name="scored_micro_arousals",
                source_description="micro-arousals of the hypnogram by the analysis' micro-arousal rule",
                onset_times_in_s=scored.starts,
                offset_times_in_s=scored.stops,
            )
        )
    for name, curve, description, source in (
        (
            "detected_micro_arousals",
            "detected_micro_arousals",
            "micro-arousals detected from EMG power (value: peak EMG power)",
            "EMG",
        ),
        (
            "spindles",
            "spindles",
            "sleep spindles detected from the EEG spindle-band envelope in NREM (value: peak envelope)",
            "EEG",
        ),
    ):
        found = analysis.curve(curve)
        if found is not None:
            events.append(
                EventsSource(
                    table_name=name,
                    source_description=description,
                    onset_times_in_s=found.onsets,
                    offset_times_in_s=found.offsets,
                    values=found.peaks,
                )
            )
            derived_from[name] = (source,)
    return events, derived_from


def derived_content(*, analysis: SessionAnalysis, document: dict[str, Any]) -> DerivedContent:
    """Everything the derived file holds besides the copied metadata.

    Parameters
    ----------
    analysis : SessionAnalysis
    document : dict
        metrics.json as written (its ``metrics`` and ``parameters`` become tables).

    Returns
    -------
    DerivedContent
    """
    from ndx_glymphatic import __version__
    from ndx_glymphatic.builder import DerivedContent, DerivedIntervals, DerivedTable

    series, series_sources = _series(analysis=analysis)
    events, event_sources = _events(analysis=analysis)
    intervals = []
    bouts = analysis.curve("nrem_bouts")
    if bouts is not None:
        intervals.append(
            DerivedIntervals(
                name="nrem_bouts",
                description="The consolidated NREM bouts the analysis used (micro-arousal rule of "
                "the parameters' `bouts` section).",
                start_times_in_s=bouts.starts,
                stop_times_in_s=bouts.stops,
            )
        )
    metrics = flatten_document(section=document["metrics"])
    parameters = flatten_document(section=document["parameters"])
    tables = (
        DerivedTable(
            name="glymph_metrics",
            description="The measures of metrics.json, one per row.",
            columns={
                "metric": ("dotted path of the measure in metrics.json's `metrics`", [name for name, _ in metrics]),
                "value": (
                    "the measure as a number (NaN when null or not a number)",
                    [_number(value) for _, value in metrics],
                ),
                "value_json": ("the measure as JSON text", [json.dumps(value) for _, value in metrics]),
            },
        ),
        DerivedTable(
            name="glymph_parameters",
            description="The analysis parameters used, one per row.",
            columns={
                "parameter": ("dotted path of the parameter", [name for name, _ in parameters]),
                "value_json": ("the parameter as JSON text", [json.dumps(value) for _, value in parameters]),
            },
        ),
    )
    return DerivedContent(
        series=tuple(series),
        events=tuple(events),
        intervals=tuple(intervals),
        tables=tables,
        derived_from={**series_sources, **event_sources},
        processing_description=f"glymph analyze, ndx-glymphatic {__version__}",
    )


def write_derived_file(
    *, analysis: SessionAnalysis, document: dict[str, Any], nwb_path: Path | str, folder: Path
) -> Path:
    """Write the derived NWB file of one analysed session (raw file: a path or a URL) into ``folder``."""
    from ndx_glymphatic.builder import write_derived_nwbfile
    from ndx_glymphatic.remote import source_name
    from ndx_glymphatic.validators.checks_dandi import expected_dandi_file_name

    def file_name(nwbfile: Any) -> str:
        fallback = f"{Path(source_name(nwb_path)).stem}_desc-processed.nwb"
        return expected_dandi_file_name(nwbfile=nwbfile, desc=DERIVED_DESC) or fallback

    return write_derived_nwbfile(
        raw_path=nwb_path,
        content=derived_content(analysis=analysis, document=document),
        folder=folder,
        file_name=file_name,
    )
