"""``glymph validate`` / ``glymph organize`` end to end, and our checks inside plain nwbinspector.

The "clean" file is a short simulated session: once laid out as a dandiset, every layer must report
it clean.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import h5py
import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner

from ndx_glymphatic.cli import main, readiness_checks
from ndx_glymphatic.validators import finding, unregistered_check, validate_file
from ndx_glymphatic.validators.layers import schema_errors

SCHEMA = json.loads((files("ndx_glymphatic.validators") / "report_schema.json").read_text())
ORGANIZED_NAME = "sub-sim0003/sub-sim0003_ses-sim-seed3-vehicle_ecephys+ogen+ophys.nwb"


def write_clean_session(*, path: Path) -> Path:
    """A 600-s simulated session at low rates, every interval inside the recording."""
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session
    from ndx_glymphatic.simulation.nwb import write_session_nwb

    parameters = SimulationParameters(
        duration_in_s=600.0, seed=3, photometry_rate_in_Hz=50.0, ephys_rate_in_Hz=128.0, vasomotion_start_in_s=100.0,
        lc_stimulation_onsets_in_s=(150.0, 450.0), drug_time_in_s=60.0,
    )
    return write_session_nwb(session=simulate_session(parameters=parameters), path=path)


@pytest.fixture(scope="module")
def clean_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # shared by the validator test modules of this session (never modified: tests work on copies)
    path = tmp_path_factory.getbasetemp() / "validators-clean-session.nwb"
    return path if path.is_file() else write_clean_session(path=path)


def _damaged_copy(source: Path, target: Path, edit: object) -> Path:
    shutil.copyfile(source, target)
    with h5py.File(target, "r+") as h5file:
        edit(h5file)  # type: ignore[operator]
    return target


def _overlap_states(h5file: h5py.File) -> None:
    h5file["intervals/sleep_states/stop_time"][1] = h5file["intervals/sleep_states/start_time"][2] + 30.0


def _invoke(*arguments: str) -> object:
    return CliRunner().invoke(main, list(arguments), catch_exceptions=False)


# --------------------------------------------------------------------------------------- clean file
def test_organized_clean_session_is_clean_in_every_layer(clean_file: Path, tmp_path: Path) -> None:
    dandiset = tmp_path / "dandiset"
    result = _invoke("organize", str(clean_file), "-o", str(dandiset), "--format", "json", "--no-progress")
    assert result.exit_code == 0, result.output
    organized = dandiset / ORGANIZED_NAME
    assert organized.is_file() and clean_file.is_file()  # copied, not moved
    assert (dandiset / "dandiset.yaml").read_text().startswith("# dandiset.yaml written by `glymph organize`")
    report = validate_file(path=organized, profile="all", readiness_checks=readiness_checks())
    assert report.messages == [], report.format_text()
    statuses = {layer: report.layer_status(layer=layer) for layer in report.layers}
    assert statuses == {layer: "clean" for layer in
                        ("file", "security", "schema", "inspector", "domain", "dandi", "analysis")}


def test_validate_exit_codes_and_text(clean_file: Path, tmp_path: Path) -> None:
    damaged = _damaged_copy(clean_file, tmp_path / "overlap.nwb", _overlap_states)
    result = _invoke("validate", str(clean_file), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "conformant (profile 'all'): 0 error(s), 0 warning(s)" in result.output
    result = _invoke("validate", str(damaged), "--no-progress")
    assert result.exit_code == 1
    assert "ERRORS (1)" in result.output
    assert "[domain] check_sleep_states_non_overlapping at /intervals/sleep_states (Hypnogram 'sleep_states')" in (
        result.output)
    assert "hint: a hypnogram holds one state at a time" in result.output
    result = _invoke("validate", str(damaged), str(tmp_path / "missing.nwb"), "--no-progress")
    assert result.exit_code == 2
    assert "2 file(s) validated, 0 conformant, 2 not." in result.output
    result = _invoke("validate", str(clean_file), "--profile", "everything")
    assert result.exit_code == 2 and "Invalid value for '--profile'" in result.output


def test_json_report_follows_its_schema_and_can_be_written_to_a_file(clean_file: Path, tmp_path: Path) -> None:
    damaged = _damaged_copy(clean_file, tmp_path / "overlap.nwb", _overlap_states)
    output = tmp_path / "report.json"
    result = _invoke("validate", str(tmp_path), "--format", "json", "-o", str(output), "--no-progress")
    assert result.exit_code == 1
    document = json.loads(output.read_text())
    jsonschema.validate(document, SCHEMA)
    assert [Path(report["path"]).name for report in document["files"]] == ["overlap.nwb"]
    assert document["files"][0]["layers"]["domain"]["status"] == "violations"
    (message,) = [m for m in document["files"][0]["messages"] if m["severity"] == "error"]
    assert message["check"] == "check_sleep_states_non_overlapping"
    assert message["location"] == "/intervals/sleep_states"
    assert damaged.is_file()


def test_profiles_run_their_layers(clean_file: Path, tmp_path: Path) -> None:
    no_hypnogram = _damaged_copy(clean_file, tmp_path / "no_hypnogram.nwb",
                                 lambda h5file: h5file["intervals"].__delitem__("sleep_states"))
    analysis = validate_file(path=no_hypnogram, profile="analysis", readiness_checks=readiness_checks())
    assert set(analysis.layers) == {"file", "security", "schema", "domain", "analysis"}
    assert [(m.check, m.severity) for m in analysis.messages] == [("analysis_hypnogram", "error")]
    assert "every measure is computed per sleep state" in analysis.messages[0].hint
    dandi = validate_file(path=no_hypnogram, profile="dandi")
    assert "analysis" not in dandi.layers and dandi.is_conformant, dandi.format_text()


def test_dandi_layer_states_missing_subject_fields(clean_file: Path, tmp_path: Path) -> None:
    def strip_subject(h5file: h5py.File) -> None:
        del h5file["general/subject/age"]
        h5file["general/subject/sex"][()] = "male"

    path = _damaged_copy(clean_file, tmp_path / "subject.nwb", strip_subject)
    report = validate_file(path=path, profile="dandi")
    dandi = {m.check: m for m in report.messages if m.layer == "dandi"}
    assert "sex is 'male'" in dandi["dandi_sex"].message
    assert "neither age nor date_of_birth" in dandi["dandi_age"].message
    assert not report.is_conformant


def test_dandi_layer_states_the_file_name_dandi_expects(clean_file: Path, tmp_path: Path) -> None:
    dandiset = tmp_path / "dandiset"
    (dandiset / "sub-x").mkdir(parents=True)
    (dandiset / "dandiset.yaml").write_text("identifier: DANDI:000000\n")
    misplaced = dandiset / "sub-x" / "session.nwb"
    shutil.copyfile(clean_file, misplaced)
    report = validate_file(path=misplaced, profile="dandi")
    (message,) = [m for m in report.messages if m.layer == "dandi"]
    assert (message.check, message.severity, message.importance) == ("dandi_file_name", "error", "CRITICAL")
    assert f"sub-x/session.nwb inside dandiset {dandiset.resolve()} should be {ORGANIZED_NAME}" in message.message
    outside = validate_file(path=clean_file, profile="dandi")
    assert [(m.check, m.severity) for m in outside.messages] == [("dandi_layout", "info")]


def test_limits_option_applies_to_the_run(clean_file: Path, tmp_path: Path) -> None:
    limits = tmp_path / "strict.yaml"
    limits.write_text("electrophysiology:\n  conversion: [1.0e-12, 1.0e-11]\n")
    result = _invoke("validate", str(clean_file), "--profile", "analysis", "--limits", str(limits), "--no-progress")
    assert result.exit_code == 1
    assert "outside 1e-12-1e-11 V per stored unit" in result.output


def test_schema_layer_matches_pynwb_validate(clean_file: Path, tmp_path: Path) -> None:
    import pynwb
    from pynwb import NWBHDF5IO

    def damage(h5file: h5py.File) -> None:
        attributes = dict(h5file["acquisition/ne_465nm/data"].attrs)
        del h5file["acquisition/ne_465nm/data"]
        h5file["acquisition/ne_465nm/data"] = np.zeros((10, 2, 2), "f4")
        for key, value in attributes.items():
            h5file["acquisition/ne_465nm/data"].attrs[key] = value
        del h5file["acquisition/EEG/data"].attrs["unit"]

    path = _damaged_copy(clean_file, tmp_path / "schema.nwb", damage)
    with NWBHDF5IO(str(path), mode="r", load_namespaces=True) as io:
        ours = sorted(str(error) for error in schema_errors(path=path, builder=io.read_builder()))
    theirs = sorted(str(error) for error in pynwb.validate(path=str(path)))
    assert len(theirs) == 2 and ours == theirs


# ------------------------------------------------------------------------------------ session files
def test_session_file_is_validated_before_conversion(tmp_path: Path) -> None:
    from ndx_glymphatic.session import session_example_text

    (tmp_path / "rig" / "Mouse12-250314-090000").mkdir(parents=True)
    for name in ("Mouse12_eeg.edf", "Mouse12_sleepscore.xlsx"):
        (tmp_path / "rig" / name).write_bytes(b"")
    good = tmp_path / "session.yaml"
    good.write_text(session_example_text())
    result = _invoke("validate", str(good))
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.yaml"
    typo = 'excitation_wavelength_in_nm: "465nm"'
    bad.write_text(session_example_text().replace("excitation_wavelength_in_nm: 465", typo))
    result = _invoke("validate", str(bad), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)["files"][0]
    assert report["kind"] == "session"
    assert [(m["location"], m["message"]) for m in report["messages"]] == [
        ("photometry.channels[0].excitation_wavelength_in_nm", 'expected a number, got "465nm"')
    ]
    assert _invoke("validate", str(tmp_path / "absent.yaml")).exit_code == 2


# ------------------------------------------------------------------------------------------ organize
def test_organize_refuses_collisions_and_files_without_ids(clean_file: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin.nwb"
    shutil.copyfile(clean_file, twin)
    anonymous = _damaged_copy(clean_file, tmp_path / "anonymous.nwb",
                              lambda h5file: h5file["general"].__delitem__("session_id"))
    dandiset = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["organize", str(clean_file), str(twin), str(anonymous), "-o", str(dandiset), "--no-progress"]
    )
    assert result.exit_code == 1
    assert "would have the same name as" in result.stderr
    assert "/general/session_id: expected a session ID, found none" in result.stderr
    assert sorted(p.relative_to(dandiset).as_posix() for p in dandiset.rglob("*.nwb")) == [ORGANIZED_NAME]


# ----------------------------------------------------------------------------------- plain nwbinspector
def test_checks_run_inside_plain_nwbinspector(clean_file: Path, tmp_path: Path) -> None:
    damaged = _damaged_copy(clean_file, tmp_path / "overlap.nwb", _overlap_states)
    with h5py.File(damaged, "r+") as h5file:
        h5file["acquisition/elsewhere"] = h5py.ExternalLink("/tmp/other.h5", "/data")
    command = [str(Path(sys.executable).with_name("nwbinspector")), str(damaged), "--modules",
               "ndx_glymphatic.validators", "--skip-validate", "--progress-bar", "false"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = completed.stdout + completed.stderr
    assert "check_sleep_states_non_overlapping" in output, output
    assert "Hint: a hypnogram holds one state at a time" in output
    assert "check_no_links_leaving_file" in output
    assert "/acquisition/elsewhere: external link to '/tmp/other.h5:/data'" in output
    assert "CRITICAL" in output


def test_dandi_cli_results_join_the_dandi_layer(clean_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("dandi", reason="dandi-cli (the 'dandi' extra) is not installed: `dandi validate` not run")
    dandiset = tmp_path / "dandiset"
    assert _invoke("organize", str(clean_file), "-o", str(dandiset), "--no-progress").exit_code == 0
    organized = dandiset / ORGANIZED_NAME
    clean = validate_file(path=organized, profile="dandi")
    assert clean.messages == [] and clean.layers["dandi"] == {"status": "ran", "reason": ""}
    no_species = _damaged_copy(organized, organized.with_name(organized.name.replace("seed3", "seed4")),
                               lambda h5file: h5file["general/subject"].__delitem__("species"))
    report = validate_file(path=no_species, profile="dandi")
    assert "`dandi validate` ran; 1 of its findings come from nwbinspector" in report.layers["dandi"]["reason"]
    assert sorted(m.check for m in report.messages) == [
        "check_subject_species_exists", "dandi_file_name", "dandi_species"]


def test_session_file_without_the_converters_part_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ndx_glymphatic.session", None)  # import now fails
    session = tmp_path / "session.yaml"
    session.write_text("subject: {subject_id: m1}\n")
    report = validate_file(path=session)
    assert report.exit_code == 2
    assert "ndx_glymphatic.session is not installed" in report.messages[0].message


def test_missing_ne_control_is_a_warning_because_the_analysis_falls_back(clean_file: Path, tmp_path: Path) -> None:
    table = "general/fiber_photometry/fiber_photometry_table/control_channel"
    without = _damaged_copy(clean_file, tmp_path / "no_control.nwb", lambda h5file: h5file[table].__setitem__(0, -1))
    report = validate_file(path=without, profile="analysis", readiness_checks=readiness_checks())
    assert report.is_conformant
    assert [(m.check, m.severity) for m in report.messages] == [("analysis_ne_control", "warning")]
    assert "baseline" in report.messages[0].hint


# ------------------------------------------------------------------------------- readiness checks
def test_readiness_checks_passed_in_are_the_analysis_layer(clean_file: Path) -> None:
    from nwbinspector import Importance, available_checks
    from pynwb import NWBFile

    @unregistered_check(importance=Importance.CRITICAL, neurodata_type=NWBFile)
    def needs_a_ten_hour_recording(nwbfile: NWBFile) -> object:
        return finding(message=f"{nwbfile.session_id} is short.", hint="record longer")

    assert needs_a_ten_hour_recording not in available_checks  # plain nwbinspector runs never see it
    report = validate_file(path=clean_file, profile="analysis", readiness_checks=[needs_a_ten_hour_recording])
    assert report.layers["analysis"]["status"] == "ran"
    (message,) = report.messages
    assert (message.layer, message.check, message.severity, message.location) == (
        "analysis", "needs_a_ten_hour_recording", "error", "/")
    assert (message.message, message.hint) == ("sim-seed3-vehicle is short.", "record longer")
    without = validate_file(path=clean_file, profile="analysis")
    assert without.layers["analysis"]["status"] == "skipped" and without.is_conformant
    assert "no readiness checks were given" in without.layers["analysis"]["reason"]


def test_registered_readiness_checks_stay_out_of_the_inspector_layer(clean_file: Path) -> None:
    from nwbinspector import Importance, available_checks, register_check
    from pynwb import NWBFile

    @register_check(importance=Importance.BEST_PRACTICE_VIOLATION, neurodata_type=NWBFile)
    def registered_readiness_check(nwbfile: NWBFile) -> object:
        return finding(message="not ready.", hint="fix it")

    try:
        report = validate_file(path=clean_file, profile="all", readiness_checks=[registered_readiness_check])
    finally:
        available_checks.remove(registered_readiness_check)
    assert [(m.layer, m.check, m.severity) for m in report.messages if m.check == "registered_readiness_check"] == [
        ("analysis", "registered_readiness_check", "warning")]
