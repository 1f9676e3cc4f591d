"""Verdicts apart: format conformance decides ``glymph validate``'s exit code, analysis readiness has its own line.

A dopamine-only recording (no NE channel, no hypnogram) is a valid NWB file that the reference
analysis cannot use: ``validate`` exits 0 and says ``analysis: not ready``; ``--profile analysis``
exits 1. DANDI names write each ``sub-`` / ``ses-`` prefix once, whatever the IDs carry.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pynwb.testing.mock.file import mock_NWBFile, mock_Subject

from ndx_glymphatic.cli import main
from ndx_glymphatic.converters.convert import convert_session
from ndx_glymphatic.simulation import SimulationParameters, simulate_session
from ndx_glymphatic.simulation.rig_files.session import write_rig_session
from ndx_glymphatic.validators.checks_dandi import dandi_label, dandi_name, expected_dandi_file_name

PARAMETERS = SimulationParameters(duration_in_s=600.0, seed=7, photometry_rate_in_Hz=50.0, ephys_rate_in_Hz=128.0)


def _as_dopamine(session: dict) -> dict:
    """The simulated NE recording relabelled as a dLight dopamine recording (no NE channel left)."""
    session["indicators"] = [{"name": "dLight", "label": "dLight1.1", "description": "Dopamine sensor dLight1.1."}]
    session.pop("optogenetics", None)
    session.pop("tracers", None)
    session.pop("infusions", None)
    for channel in session["photometry"]["channels"]:
        channel.update(measured_quantity="dopamine", indicator="dLight")
        channel["name"] = channel["name"].replace("ne_", "da_")
        if channel.get("control_channel"):
            channel["control_channel"] = channel["control_channel"].replace("ne_", "da_")
        channel["description"] = channel["description"].replace("GRAB_NE2m", "dLight1.1")
    return session


@pytest.fixture(scope="module")
def dopamine_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dopamine")
    simulated = simulate_session(parameters=PARAMETERS)
    write_rig_session(session=simulated, outdir=folder, format="ppd", include_eeg=False, include_hypnogram=False)
    session_path = folder / "session.yaml"
    session_path.write_text(yaml.safe_dump(_as_dopamine(yaml.safe_load(session_path.read_text()))))
    return convert_session(session_path=session_path, output_path=folder / "da.nwb", progress=False).output_path


def test_dopamine_only_file_is_conformant_and_not_ready(dopamine_file: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(dopamine_file), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert ": conformant" in result.output
    lines = [line.strip() for line in result.output.splitlines()]
    not_ready = [line for line in lines if line.startswith("analysis: not ready: ")]
    assert len(not_ready) == 1, result.output
    assert "norepinephrine" in not_ready[0].lower() or "hypnogram" in not_ready[0].lower()


def test_analysis_profile_makes_readiness_decide(dopamine_file: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(dopamine_file), "--profile", "analysis", "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "analysis: not ready: " in result.output
    dandi = CliRunner().invoke(main, ["validate", str(dopamine_file), "--profile", "dandi", "--no-progress"])
    assert dandi.exit_code == 0 and "analysis:" not in dandi.output


def test_analyze_refuses_a_file_that_is_not_ready(dopamine_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(dopamine_file), "-o", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "out").exists()


def test_json_report_carries_both_verdicts(dopamine_file: Path) -> None:
    import json

    result = CliRunner().invoke(main, ["validate", str(dopamine_file), "--format", "json", "--no-progress"])
    file_report = json.loads(result.output)["files"][0]
    assert (file_report["is_conformant"], file_report["analysis_ready"], file_report["exit_code"]) == (True, False, 0)


@pytest.mark.parametrize(
    ("subject_id", "session_id", "expected"),
    [
        ("sub-01", "ses-01", "sub-01_ses-01_ophys.nwb"),
        ("01", "01", "sub-01_ses-01_ophys.nwb"),
        ("SUB-m1", "Ses-baseline_2", "sub-m1_ses-baseline-2_ophys.nwb"),
        ("m17", "ses-sub-3", "sub-m17_ses-sub-3_ophys.nwb"),
        ("sub-", "ses-01", None),
    ],
)
def test_dandi_names_never_double_a_prefix(subject_id: str, session_id: str, expected: str | None) -> None:
    assert dandi_name(subject_id=subject_id, session_id=session_id, modalities=["ophys"]) == expected


def test_dandi_name_of_a_file_with_prefixed_ids() -> None:
    nwbfile = mock_NWBFile(session_id="ses-01", subject=mock_Subject(subject_id="sub-01"))
    assert expected_dandi_file_name(nwbfile=nwbfile) == "sub-01_ses-01.nwb"
    assert dandi_label(label="ses-ses-01", entity="ses") == "01"
