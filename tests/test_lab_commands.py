"""``glymph describe`` / ``glymph init`` / ``glymph convert --check-only`` on simulated and real rig files.

The simulator writes each rig format with a session file that names the streams and event channels
it wrote; ``describe`` must report those names (it is how a user finds them), ``init`` must start a
session file from them, and ``--check-only`` must refuse a stream the rig file does not have.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ndx_glymphatic.cli import main
from ndx_glymphatic.converters.describe import describe_rig
from ndx_glymphatic.simulation import SimulationParameters, simulate_session
from ndx_glymphatic.simulation.rig_files.session import NPM_FRAME_RATE_IN_HZ, PPD_RATE_IN_HZ, write_rig_session

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
PARAMETERS = SimulationParameters(duration_in_s=600.0, seed=5, photometry_rate_in_Hz=50.0, ephys_rate_in_Hz=128.0)
FORMATS = ("tdt", "doric", "npm", "ppd")


def _real(path: str) -> Path:
    full = REAL / path
    if not full.exists():
        print(f"skipped: real sample {full} is absent")
        pytest.skip(f"real sample {full} is absent (shared/data/real not available)")
    return full


@pytest.fixture(scope="module")
def rig_sessions(tmp_path_factory) -> dict[str, Path]:
    """Format -> folder holding the simulated rig files and their session.yaml."""
    simulated = simulate_session(parameters=PARAMETERS)
    folders = {}
    for format in FORMATS:
        folder = tmp_path_factory.mktemp(f"rig_{format}")
        write_rig_session(session=simulated, outdir=folder, format=format)
        folders[format] = folder
    return folders


def _session(folder: Path) -> dict:
    return yaml.safe_load((folder / "session.yaml").read_text())


@pytest.mark.parametrize("format", FORMATS)
def test_describe_names_what_the_simulated_session_file_uses(rig_sessions, format: str) -> None:
    folder = rig_sessions[format]
    session = _session(folder)
    result = CliRunner().invoke(main, ["describe", str(folder / session["photometry"]["file"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert described["format"] == format
    names = {stream["name"] for stream in described["streams"]}
    names |= {channel for stream in described["streams"] for channel in stream["channel_names"]}
    for channel in session["photometry"]["channels"]:
        assert channel["stream"] in names, (channel["stream"], names)
    rates = [stream["rate_in_Hz"] or stream["mean_rate_in_Hz"] for stream in described["streams"]]
    # NPM interleaves its LEDs (three here) in frames at its own rate; pyPhotometry samples at its own rate
    expected_rate = {"npm": NPM_FRAME_RATE_IN_HZ / 3, "ppd": PPD_RATE_IN_HZ}.get(
        format, PARAMETERS.photometry_rate_in_Hz
    )
    assert all(rate == pytest.approx(expected_rate, rel=0.02) for rate in rates), rates
    assert described["duration_in_s"] == pytest.approx(PARAMETERS.duration_in_s, abs=2.0)
    alignment = session.get("electrophysiology", {}).get("clock_alignment")
    if alignment and format != "npm":  # NPM's TTLs live in a separate digital-input file
        events = {event["name"]: event for event in described["events"]}
        assert events[alignment["primary_ttl_channel"]]["count"] > 10


def test_describe_edf_lists_channel_labels_and_ttl(rig_sessions) -> None:
    folder = rig_sessions["ppd"]
    session = _session(folder)
    text = CliRunner().invoke(main, ["describe", str(folder / session["electrophysiology"]["file"])]).output
    assert "format: edf" in text
    for channel in session["electrophysiology"]["channels"]:
        assert channel["stream"] in text
    assert session["electrophysiology"]["clock_alignment"]["secondary_ttl_channel"] in text


def test_describe_real_pyphotometry_header_facts() -> None:
    path = _real("pyphotometry/m17-R-2018-12-12-090409.ppd")
    described = describe_rig(path=path)
    assert described.format == "ppd"
    assert [stream.name for stream in described.streams] == ["analog_1", "analog_2"]
    assert all(stream.rate_in_Hz == 130 for stream in described.streams)
    assert described.duration_in_s == pytest.approx(3647.6, abs=0.1)
    assert {event.name: event.count for event in described.events} == {"digital_1": 127, "digital_2": 722}


def test_describe_real_tdt_block_without_tev_reads_headers() -> None:
    described = describe_rig(path=_real("tdt/pMAT_Photometry-161823"))
    assert {"_405R", "_490R", "DelF", "Fi1r"} <= {stream.name for stream in described.streams}
    assert {event.name: event.count for event in described.events}["Vid1"] == 9933
    assert described.duration_in_s == pytest.approx(660.8, abs=0.1)


def test_describe_real_npm_and_edf() -> None:
    npm = describe_rig(path=_real("neurophotometrics/ibl/raw_photometry.csv"))
    assert npm.format == "npm" and len(npm.streams) == 10
    edf = describe_rig(path=_real("edf/faster2/test.edf"))
    assert edf.format == "edf" and edf.duration_in_s == pytest.approx(248.0)


def test_describe_refuses_a_file_no_reader_knows_in_one_line(tmp_path: Path) -> None:
    stray = tmp_path / "notes.txt"
    stray.write_text("hello\n")
    result = CliRunner().invoke(main, ["describe", str(stray)])
    assert result.exit_code == 2
    assert "notes.txt" in result.output and "--rig-format" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------------------------- presets
MINIMAL_PPD_SESSION = """\
subject: {subject_id: m01, species: Mus musculus, sex: M, age: P90D, strain: C57BL/6J}
session: {session_start_time: "2025-01-15T08:00:00+01:00", session_description: dLight in NAc, session_id: ses-01,
  experimenter: [Doe, Jane], lab: Example lab, institution: Example institute}
devices: {preset: pyphotometry, optical_fibers: [{name: fiber, description: NAc fiber., manufacturer: Doric Lenses,
  numerical_aperture: 0.48, location: nucleus accumbens, ap_in_mm: 1.2, ml_in_mm: 1.0, depth_in_mm: 4.2, hemisphere: right}]}
indicators: [{name: dLight, label: dLight1.1, description: Dopamine sensor dLight1.1 (AAV).}]
photometry:
  format: ppd
  file: FILE
  channels:
  - {name: da_470nm, stream: analog_1, description: dLight at 470 nm., measured_quantity: dopamine, channel_role: signal,
    control_channel: da_405nm, indicator: dLight, optical_fiber: fiber, excitation_source: led_470nm, photodetector: photodetector, excitation_wavelength_in_nm: 470, emission_wavelength_in_nm: 525}
  - {name: da_405nm, stream: analog_2, description: dLight at 405 nm (isosbestic)., measured_quantity: dopamine,
    channel_role: isosbestic control, indicator: dLight, optical_fiber: fiber, excitation_source: led_405nm, photodetector: photodetector, excitation_wavelength_in_nm: 405, emission_wavelength_in_nm: 525}
"""  # noqa: E501 (a session file, not code: its lines may be long)


def _minimal_ppd(*, file: str) -> str:
    return MINIMAL_PPD_SESSION.replace("FILE", json.dumps(file))


def test_minimal_pyphotometry_session_file_with_preset_converts(rig_sessions, tmp_path: Path) -> None:
    from ndx_glymphatic.converters.convert import convert_session
    from ndx_glymphatic.session import load_session

    rig = rig_sessions["ppd"] / _session(rig_sessions["ppd"])["photometry"]["file"]
    text = _minimal_ppd(file=str(rig))
    assert len(text.splitlines()) <= 15
    path = tmp_path / "session.yaml"
    path.write_text(text)
    session = load_session(path=path)
    sources = {source.name: source for source in session.devices.excitation_sources}
    assert set(sources) == {"led_405nm", "led_470nm"} and sources["led_470nm"].wavelength_in_nm == 470
    assert [detector.name for detector in session.devices.photodetectors] == ["photodetector"]
    result = convert_session(session_path=path, output_path=tmp_path / "out.nwb", progress=False)
    assert result.output_path.is_file()


def test_preset_entries_are_overridden_field_by_field(tmp_path: Path) -> None:
    from ndx_glymphatic.session import load_session, validate_session_file

    rig = tmp_path / "x.ppd"
    rig.write_bytes(b"")
    document = yaml.safe_load(_minimal_ppd(file=rig.name))
    document["devices"]["excitation_sources"] = [
        {"name": "led_470nm", "model_number": "M470F3"},
        {"name": "laser_473nm", "description": "Stimulation laser.", "manufacturer": "X", "source_type": "laser"},
    ]
    path = tmp_path / "session.yaml"
    path.write_text(yaml.safe_dump(document))
    assert validate_session_file(path=path) == []
    sources = {source.name: source for source in load_session(path=path).devices.excitation_sources}
    assert sources["led_470nm"].model_number == "M470F3"
    assert sources["led_470nm"].manufacturer == "Open Ephys (pyPhotometry)"  # the rest from the preset
    assert set(sources) == {"led_405nm", "led_470nm", "laser_473nm"}
    document["devices"]["preset"] = "no-such-rig"
    path.write_text(yaml.safe_dump(document))
    assert any(problem.startswith("devices.preset") for problem in validate_session_file(path=path))


# ---------------------------------------------------------------------------------------------- init
FILLED = {
    "subject_id": "m17", "sex": "M", "age": "P90D", "strain": "C57BL/6J", "session_description": "dLight",
    "session_id": "ses-01", "lab": "Akam lab", "institution": "University of Oxford", "manufacturer": "Doric Lenses",
    "numerical_aperture": "0.48", "location": "nucleus accumbens", "ap_in_mm": "1.2", "ml_in_mm": "1.0",
    "depth_in_mm": "4.2", "hemisphere": "right", "name": "dLight", "label": "dLight1.1",
    "description": "Dopamine sensor.", "measured_quantity": "dopamine", "indicator": "dLight",
    "optical_fiber": "fiber",
}


def _fill_todos(text: str) -> str:
    """What a person does with the TODOs: answer each ``null`` and give the start time its zone."""
    lines = []
    for line in text.splitlines():
        if "# TODO" in line:
            key = line.split(":", 1)[0].strip().lstrip("- ")
            if key == "session_start_time":
                line = line.replace('"  #', '+00:00"  #', 1)
            elif key == "experimenter":
                line = line.replace("[null]", "[Doe, Jane]", 1)
            elif ": null" in line:
                line = line.replace(": null", f": {FILLED[key]}", 1)
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "name", ["pyphotometry/BriVandrey/1396_OF-2022-04-06-111534.ppd", "pyphotometry/m17-R-2018-12-12-090409.ppd"]
)
def test_real_pyphotometry_converts_from_init_plus_filled_todos(name: str, tmp_path: Path) -> None:
    from ndx_glymphatic.converters.convert import convert_session
    from ndx_glymphatic.session import validate_session_file

    rig = _real(name)
    path = tmp_path / "session.yaml"
    result = CliRunner().invoke(main, ["init", str(rig), "-o", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    problems = validate_session_file(path=path)
    todo_lines = [line for line in text.splitlines() if "# TODO" in line]
    assert problems and len(todo_lines) <= 30  # the unfilled file is refused, and the TODOs are few
    assert "stream: \"analog_1\"" in text and "channel_role: \"isosbestic control\"" in text
    assert "preset: pyphotometry" in text and "events: [\"digital_1\"" in text
    path.write_text(_fill_todos(text))
    assert validate_session_file(path=path) == []
    check = CliRunner().invoke(main, ["convert", str(path), "--check-only"])
    assert check.exit_code == 0, check.output
    converted = convert_session(session_path=path, output_path=tmp_path / "out.nwb", progress=False)
    assert converted.series["signal_470nm"] == describe_rig(path=rig).streams[0].n_samples


def test_init_writes_ephys_alignment_and_hypnogram_and_never_replaces(rig_sessions, tmp_path: Path) -> None:
    folder = rig_sessions["tdt"]
    session = _session(folder)
    out = tmp_path / "init.yaml"
    args = ["init", str(folder / session["photometry"]["file"]), str(folder / session["electrophysiology"]["file"]),
            "--hypnogram", str(folder / session["hypnogram"]["file"]), "-o", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    document = yaml.safe_load(out.read_text())
    roles = {channel["stream"]: channel["channel_role"] for channel in document["photometry"]["channels"]}
    assert roles["_465A"] == "signal" and roles["_405A"] == "isosbestic control"
    assert document["session"]["session_start_time"].endswith("+00:00")  # TDT records UTC
    assert {channel["stream"] for channel in document["electrophysiology"]["channels"]} == {
        channel["stream"] for channel in session["electrophysiology"]["channels"]
    }
    assert document["electrophysiology"]["clock_alignment"]["primary_ttl_channel"] == "PtC0"
    assert document["hypnogram"]["format"] == "state-table"
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "overwrite" in again.output.lower()
    assert not [p for p in tmp_path.iterdir() if p.name != "init.yaml"]


# ---------------------------------------------------------------------------------------------- check-only
def test_check_only_reports_unknown_streams_and_event_channels(rig_sessions, tmp_path: Path) -> None:
    folder = rig_sessions["ppd"]
    session = _session(folder)
    assert CliRunner().invoke(main, ["convert", str(folder / "session.yaml"), "--check-only"]).exit_code == 0
    session["photometry"]["channels"][0]["stream"] = "analog_9"
    session["electrophysiology"]["clock_alignment"]["secondary_ttl_channel"] = "TTL2"
    bad = folder / "bad_session.yaml"
    bad.write_text(yaml.safe_dump(session))
    result = CliRunner().invoke(main, ["convert", str(bad), "--check-only"])
    assert result.exit_code == 2
    assert "'analog_9'" in result.output and "'analog_1', 'analog_2'" in result.output
    assert session["photometry"]["file"].split("/")[-1] in result.output
    assert "'TTL2'" in result.output and "secondary_ttl_channel" in result.output
    assert "Traceback" not in result.output
