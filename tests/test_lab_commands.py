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
