"""The readiness gate: generated from the steps' requirements, nwbinspector checks, agreeing with the analysis.

Borderline files (bouts just under / at / over the minimum, micro-arousals that do or do not join a bout,
a photometry rate just under the minimum, a missing control) go to both the gate and the analysis; the
test asserts that the gate accepts exactly the files whose measures the analysis can compute.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from nwbinspector import Importance, available_checks, inspect_nwbfile_object
from pynwb import NWBHDF5IO, NWBFile

from ndx_glymphatic.analysis import bouts
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.pipeline import analyze_session, run_analysis
from ndx_glymphatic.analysis.readiness import analysis_requirements, readiness_checks
from ndx_glymphatic.analysis.session import read_session
from ndx_glymphatic.analysis.steps import SESSION_STEPS
from ndx_glymphatic.errors import InputFileError, NotReadyError
from ndx_glymphatic.testing.mock import mock_glymphatic_nwbfile
from ndx_glymphatic.validators.api import validate_file

HAUGLUND = AnalysisParams.from_mapping(mapping={"preset": "hauglund2025", "oscillation": {"min_bout_in_s": 120}})
SPLIT = AnalysisParams.from_mapping(mapping={"bouts": {"split_bouts_at_micro_arousals": True}})
REFUSE = AnalysisParams.from_mapping(mapping={"preprocessing": {"without_control": "refuse"}})


def _session(*, rows: list[tuple[float, float, str]] | None = None, photometry_rate_in_Hz: float = 20.0,
             control_channel: int | None = None) -> NWBFile:
    """The 15-min mock session with its six hypnogram rows replaced (and optionally its NE control)."""
    nwbfile = mock_glymphatic_nwbfile(duration_in_s=900.0, photometry_rate_in_Hz=photometry_rate_in_Hz)
    if rows is not None:
        table = nwbfile.intervals["sleep_states"]
        assert len(rows) == len(table)
        table["start_time"].data[:] = [row[0] for row in rows]
        table["stop_time"].data[:] = [row[1] for row in rows]
        table["sleep_state"].data[:] = [row[2] for row in rows]
    if control_channel is not None:
        nwbfile.lab_meta_data["fiber_photometry"].fiber_photometry_table["control_channel"].data[0] = control_channel
    return nwbfile


def _one_bout(length_in_s: float) -> list[tuple[float, float, str]]:
    """One NREM bout of ``length_in_s`` starting at 120 s; the 10-s wake after it leads into REM (no micro-arousal)."""
    end = 120.0 + length_in_s
    return [(0.0, 120.0, "wake"), (120.0, end, "NREM"), (end, end + 10.0, "wake"), (end + 10.0, 600.0, "REM"),
            (600.0, 700.0, "wake"), (700.0, 900.0, "REM")]


def _interrupted(*, state: str, length_in_s: float) -> list[tuple[float, float, str]]:
    """Two 70-s NREM rows around a ``state`` row of ``length_in_s``: one 140-s bout only if that row joins them."""
    middle = 190.0 + length_in_s
    return [(0.0, 120.0, "wake"), (120.0, 190.0, "NREM"), (190.0, middle, state), (middle, middle + 70.0, "NREM"),
            (middle + 70.0, 600.0, "REM"), (600.0, 900.0, "wake")]


def _gate(nwbfile: NWBFile, params: AnalysisParams) -> dict[str, str]:
    """The gate's findings through nwbinspector's machinery: check name -> importance name."""
    messages = inspect_nwbfile_object(nwbfile_object=nwbfile, checks=readiness_checks(params=params))
    return {message.check_function_name: message.importance.name for message in messages}


def _analysed_bouts(nwbfile: NWBFile, params: AnalysisParams) -> int:
    """NREM bouts the analysis' NE spectrum used (check-free)."""
    session = read_session(nwbfile=nwbfile, path="in memory", params=params)
    analysis = analyze_session(session=session, params=params)
    return analysis.metric_sections()["ne"]["oscillation"]["n_bouts"]


CASES = [
    # bout length against oscillation.min_bout_in_s (120 s) on the 10-Hz analysis grid
    ("bout 119.5 s", _one_bout(119.5), AnalysisParams(), False),
    ("bout exactly 120 s (1199 grid samples)", _one_bout(120.0), AnalysisParams(), False),
    ("bout 121 s", _one_bout(121.0), AnalysisParams(), True),
    # micro-arousal rule: a short wake row inside NREM joins the bout, a long one splits it
    ("14-s wake inside NREM (micro-arousal <= 15 s)", _interrupted(state="wake", length_in_s=14.0),
     AnalysisParams(), True),
    ("16-s wake inside NREM", _interrupted(state="wake", length_in_s=16.0), AnalysisParams(), False),
    ("16-s wake inside NREM, micro-arousals up to 20 s", _interrupted(state="wake", length_in_s=16.0),
     HAUGLUND, True),
    ("14-s micro-arousal, bouts split at micro-arousals", _interrupted(state="micro-arousal", length_in_s=14.0),
     SPLIT, False),
    ("30-s row scored 'micro-arousal' (wake by the rule)", _interrupted(state="micro-arousal", length_in_s=30.0),
     AnalysisParams(), False),
]


@pytest.mark.parametrize(("case", "rows", "params", "ready"), CASES, ids=[case[0] for case in CASES])
def test_gate_and_analysis_agree_on_borderline_bouts(
    case: str, rows: list[tuple[float, float, str]], params: AnalysisParams, ready: bool
) -> None:
    found = _gate(_session(rows=rows), params)
    assert ("analysis_nrem_bout_length" not in found) is ready, (case, found)
    if ready:
        assert "CRITICAL" not in found.values(), found
    assert (_analysed_bouts(_session(rows=rows), params) >= 1) is ready, case


def test_gate_and_analysis_agree_on_a_missing_control() -> None:
    assert _gate(_session(), AnalysisParams()) == {}
    assert _gate(_session(control_channel=-1), AnalysisParams()) == {"analysis_ne_control": "BEST_PRACTICE_VIOLATION"}
    nwbfile = _session(control_channel=-1)
    session = read_session(nwbfile=nwbfile, path="in memory", params=AnalysisParams())
    analysis = analyze_session(session=session, params=AnalysisParams())
    assert analysis.metric_sections()["ne"]["preprocessing"]["method"] == "baseline_median"
    # told to refuse such files, the analysis refuses them and so does the gate
    assert _gate(_session(control_channel=-1), REFUSE) == {"analysis_ne_control": "CRITICAL"}
    session = read_session(nwbfile=_session(control_channel=-1), path="in memory", params=REFUSE)
    with pytest.raises(NotReadyError, match="no control channel"):
        analyze_session(session=session, params=REFUSE)
    assert _gate(_session(), REFUSE) == {}


def test_gate_and_analysis_agree_on_a_full_rate_fit_of_a_control_at_another_rate() -> None:
    full_rate = AnalysisParams.from_mapping(mapping={"preprocessing": {"fit_on": "full_rate"}})
    assert _gate(_session(), full_rate) == {}
    nwbfile = _session()
    nwbfile.acquisition["ne_isosbestic_405nm"].fields["rate"] = 10.0  # a control stored at half the rate
    assert _gate(nwbfile, full_rate) == {"analysis_ne_control_rate": "CRITICAL"}
    assert _gate(nwbfile, AnalysisParams()) == {}  # the decimated fit puts both on one grid
    session = read_session(nwbfile=nwbfile, path="in memory", params=full_rate)
    with pytest.raises(InputFileError, match="full-rate control fit"):
        analyze_session(session=session, params=full_rate)


def _write(nwbfile: NWBFile, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(str(path), mode="w") as io:
            io.write(nwbfile)
    return path


@pytest.mark.parametrize(
    ("name", "nwbfile", "violation"),
    [
        ("rate_1.9Hz", lambda: _session(photometry_rate_in_Hz=1.9), "analysis_photometry_rate"),
        ("rate_2Hz", lambda: _session(photometry_rate_in_Hz=2.0), None),
        ("bout_120s", lambda: _session(rows=_one_bout(120.0)), "analysis_nrem_bout_length"),
        ("bout_121s", lambda: _session(rows=_one_bout(121.0)), None),
    ],
)
def test_glymph_analyze_refuses_what_the_gate_refuses(
    name: str, nwbfile: object, violation: str | None, tmp_path: Path
) -> None:
    path = _write(nwbfile(), tmp_path / f"{name}.nwb")  # type: ignore[operator]
    report = validate_file(path=path, profile="analysis", readiness_checks=readiness_checks())
    errors = [message.check for message in report.messages if message.severity == "error"]
    assert errors == ([violation] if violation else []), report.format_text()
    if violation is None:
        result = run_analysis(nwb_path=path, output_dir=tmp_path / "out", figures=False, show_progress=False)
        assert result.metrics["ne"]["oscillation"]["n_bouts"] >= 1
    else:
        with pytest.raises(NotReadyError, match=violation):
            run_analysis(nwb_path=path, output_dir=tmp_path / "out", figures=False, show_progress=False)
        assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------- the nwbinspector check contract


def test_checks_are_generated_from_the_step_requirements() -> None:
    checks = readiness_checks()
    requirements = analysis_requirements()
    assert [check.__name__ for check in checks] == [requirement.name for requirement in requirements]
    assert len({check.__name__ for check in checks}) == len(checks)
    for check, requirement in zip(checks, requirements):
        assert check.neurodata_type is NWBFile
        expected = Importance.CRITICAL if requirement.severity == "error" else Importance.BEST_PRACTICE_VIOLATION
        assert check.importance is expected
    defaults = AnalysisParams()
    declared = {requirement.name for step in SESSION_STEPS for requirement in step.requirements(params=defaults)}
    assert declared == {check.__name__ for check in checks}
    # the bout requirement follows the parameters the analysis will run with
    strict = AnalysisParams.from_mapping(mapping={"oscillation": {"min_bout_in_s": 100000}})
    (bout,) = [r for r in analysis_requirements(params=strict) if r.name == "analysis_nrem_bout_length"]
    assert bout.min_bout_in_s == 100000


def test_checks_stay_out_of_plain_best_practice_inspection() -> None:
    readiness_checks()
    assert not [check for check in available_checks if check.__name__.startswith("analysis_")]
    plain = inspect_nwbfile_object(nwbfile_object=_session(rows=_one_bout(30.0)))
    assert not [message for message in plain if str(message.check_function_name).startswith("analysis_")]


def test_messages_carry_the_reason_as_a_hint(tmp_path: Path) -> None:
    import h5py

    path = _write(_session(), tmp_path / "no_hypnogram.nwb")
    with h5py.File(path, "a") as handle:
        del handle["intervals/sleep_states"]
    report = validate_file(path=path, profile="analysis", readiness_checks=readiness_checks())
    assert set(report.layers) == {"file", "security", "schema", "domain", "analysis"}
    assert [(m.check, m.severity) for m in report.messages] == [("analysis_hypnogram", "error")]
    assert "every measure is computed per sleep state" in report.messages[0].hint
    # parameters drive the gate: a stricter minimum bout refuses the clean file, naming the minimum
    clean = _write(_session(), tmp_path / "clean.nwb")
    strict = AnalysisParams.from_mapping(mapping={"oscillation": {"min_bout_in_s": 100000}})
    report = validate_file(path=clean, profile="analysis", readiness_checks=readiness_checks(params=strict))
    # readiness is its own verdict: the file stays conformant, the analysis profile's exit code says not ready
    assert report.is_conformant and report.analysis_ready is False and report.exit_code == 1
    assert "shorter than 100000 s" in report.format_text()
    # without a control the analysis falls back, so the gate only warns and says why
    report = validate_file(
        path=_write(_session(control_channel=-1), tmp_path / "no_control.nwb"),
        profile="analysis",
        readiness_checks=readiness_checks(),
    )
    assert report.is_conformant
    assert [(m.check, m.severity) for m in report.messages] == [("analysis_ne_control", "warning")]
    assert "baseline" in report.messages[0].hint


def test_nrem_bouts_bridge_micro_arousals_and_break_on_wake() -> None:
    states = ["wake", "NREM", "micro-arousal", "NREM", "REM", "NREM", "micro-arousal", "wake"]
    edges = np.array([0.0, 100.0, 300.0, 310.0, 500.0, 600.0, 700.0, 705.0, 800.0])
    hypnogram = bouts.Hypnogram.from_rows(starts=edges[:-1], stops=edges[1:], states=states)
    found = bouts.BoutRule().nrem_bouts(hypnogram=hypnogram)
    # a trailing micro-arousal is not part of the bout
    assert list(zip(found.starts.tolist(), found.stops.tolist())) == [(100.0, 500.0), (600.0, 700.0)]


def test_every_requirement_is_documented() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "validation.md").read_text()
    full_rate = AnalysisParams.from_mapping(mapping={"preprocessing": {"fit_on": "full_rate"}})
    names = {requirement.name for params in (AnalysisParams(), full_rate) for requirement in
             analysis_requirements(params=params)}
    assert "analysis_ne_control_rate" in names
    assert not [name for name in sorted(names) if f"`{name}`" not in text]
