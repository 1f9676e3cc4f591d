"""The Step contract, run over every session step, and the one typed definition of metrics.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from ndx_glymphatic.analysis import report
from ndx_glymphatic.analysis.metrics import Metrics, MetricsDocument, metrics_schema
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.pipeline import SessionAnalysis, analyze_session, build_document
from ndx_glymphatic.analysis.requirements import Requirement
from ndx_glymphatic.analysis.session import read_session
from ndx_glymphatic.analysis.steps import SESSION_STEPS, OscillationStep, PhotometryStep, StatesStep, Step, StepResult
from ndx_glymphatic.testing.mock import mock_glymphatic_nwbfile


@pytest.fixture(scope="module")
def analysis() -> SessionAnalysis:
    nwbfile = mock_glymphatic_nwbfile(duration_in_s=900.0)
    params = AnalysisParams()
    return analyze_session(session=read_session(nwbfile=nwbfile, path="mock.nwb", params=params), params=params)


def test_steps_have_unique_names_and_read_existing_params_sections() -> None:
    names = [step.name for step in SESSION_STEPS]
    assert len(set(names)) == len(names)
    params = AnalysisParams()
    for step in SESSION_STEPS:
        assert isinstance(step, Step)
        assert step.params_sections and all(hasattr(params, section) for section in step.params_sections), step.name


@pytest.mark.parametrize("step", SESSION_STEPS, ids=[step.name for step in SESSION_STEPS])
def test_requirements_are_declared_as_data(step: Step) -> None:
    for requirement in step.requirements(params=AnalysisParams()):
        assert isinstance(requirement, Requirement)
        assert requirement.name.startswith("analysis_") and requirement.severity in ("error", "warning")
        assert requirement.why and not requirement.why.endswith(".")


@pytest.mark.parametrize("step", SESSION_STEPS, ids=[step.name for step in SESSION_STEPS])
def test_results_are_typed_sections_curves_and_figure_names(step: Step, analysis: SessionAnalysis) -> None:
    result = analysis.results[step.name]
    assert isinstance(result, StepResult)
    top_level = {field.alias or name for name, field in Metrics.model_fields.items()}
    for path, section in result.metrics.items():
        assert isinstance(section, BaseModel), path
        assert path.split(".")[0] in top_level, path
    assert set(result.figures) <= set(report.FIGURES), result.figures
    assert all(isinstance(note, str) for note in result.notes)


def test_every_figure_is_fed_by_a_step(analysis: SessionAnalysis) -> None:
    """The mock session holds every kind of data, so every figure of the report has a step feeding it."""
    assert analysis.figures == set(report.FIGURES)


def test_steps_compose_into_shorter_pipelines() -> None:
    nwbfile = mock_glymphatic_nwbfile(duration_in_s=900.0)
    params = AnalysisParams()
    session = read_session(nwbfile=nwbfile, path="mock.nwb", params=params)
    short = analyze_session(session=session, params=params, steps=(PhotometryStep(), StatesStep(), OscillationStep()))
    assert list(short.results) == ["photometry", "states", "oscillation"]
    assert set(short.metric_sections()) == {"ne", "blood_volume", "csf_tracer", "states"}
    assert short.metric_sections()["ne"]["oscillation"]["peak_frequency_in_Hz"] == pytest.approx(0.02, abs=0.003)


# ----------------------------------------------------------------------------------------- metrics.json


def test_document_is_built_from_the_typed_sections_and_valid(analysis: SessionAnalysis) -> None:
    document = build_document(analysis=analysis, nwb_path=Path("mock.nwb"))
    assert isinstance(document, MetricsDocument)
    written = document.to_json()
    jsonschema.Draft202012Validator(metrics_schema()).validate(written)
    assert written["metrics"]["states"]["micro-arousal"]["per_hour_nrem"] > 0
    assert "per_hour_nrem" not in written["metrics"]["states"]["NREM"]  # only the keys a step set are written
    assert set(written["curves"]) == {
        "ne_spectrum", "blood_volume_spectrum", "csf_tracer_spectrum", "sigma_spectrum",
        "ne_vs_blood_volume_xcorr", "ne_vs_csf_xcorr", "blood_volume_vs_csf_xcorr", "ne_vs_sigma_xcorr",
    }


def test_document_refuses_unknown_and_mistyped_keys(analysis: SessionAnalysis) -> None:
    written = build_document(analysis=analysis, nwb_path=Path("mock.nwb")).to_json()
    typo = json.loads(json.dumps(written))
    typo["metrics"]["ne"]["oscillation"]["peak_frequency_Hz"] = 0.02
    with pytest.raises(ValidationError, match="peak_frequency_Hz"):
        MetricsDocument.model_validate(typo)
    negative = json.loads(json.dumps(written))
    negative["metrics"]["ne"]["oscillation"]["n_bouts"] = -1
    with pytest.raises(ValidationError, match="n_bouts"):
        MetricsDocument.model_validate(negative)
    undefined = json.loads(json.dumps(written))
    undefined["metrics"]["ne"]["oscillation"]["peak_frequency_in_Hz"] = math.nan
    assert MetricsDocument.model_validate(undefined).to_json()["metrics"]["ne"]["oscillation"][
        "peak_frequency_in_Hz"] is None


def test_committed_metrics_schema_is_generated_from_the_models() -> None:
    committed = Path(__file__).resolve().parents[1] / "analysis" / "metrics_schema.json"
    assert json.loads(committed.read_text()) == metrics_schema(), (
        "regenerate it: python -m ndx_glymphatic.analysis.metrics"
    )
