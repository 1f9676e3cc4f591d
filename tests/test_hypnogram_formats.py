"""Hypnogram formats beyond the contract: boundary tolerance, format recognition (ambiguity, the CLI), the
.mat safety check, and the issue's acceptance case -- a TDT block from an independent writer with a 3-decimal
long-table hypnogram converts with no format named."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np
import pynwb
import pytest
import yaml
from click.testing import CliRunner
from hypnogram_samples import intervals
from test_convert import _minimal_session

from ndx_glymphatic.access import get_hypnogram
from ndx_glymphatic.cli import main
from ndx_glymphatic.converters.registry import detect_hypnogram_format, read_hypnogram
from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.simulation.rig_files.hypnogram import write_long_table
from ndx_glymphatic.simulation.rig_files.tdt import TdtEpocSource, TdtStreamSource, write_tdt_block

ROOT = Path(__file__).resolve().parents[1]


def _rounding_table(tmp_path: Path) -> Path:
    """Onset and duration rounded to ms each: the third row starts 1 ms before the second one stops."""
    path = tmp_path / "scores.csv"
    path.write_text("onset,duration,state\n0.000,12.346,Wake\n12.346,17.778,NREM\n30.123,9.877,REM\n")
    return path


def test_rounding_overlaps_are_snapped_with_a_note(tmp_path: Path) -> None:
    read = read_hypnogram(format="long-table", path=_rounding_table(tmp_path), scorer="x")
    assert read.sleep_states == ("wake", "NREM", "REM")
    np.testing.assert_allclose(read.start_times_in_s, [0.0, 12.346, 12.346 + 17.778])
    assert read.start_times_in_s[2] == read.stop_times_in_s[1]
    (note,) = read.notes
    assert "1 overlap of up to" in note and "0.01 s" in note and "row 4" in note


def test_small_gaps_are_snapped_too(tmp_path: Path) -> None:
    path = tmp_path / "gap.tsv"
    path.write_text("stage\tonset\toffset\nW\t0\t10.000\nN2\t10.004\t20\nR\t25\t30\n")
    read = read_hypnogram(format="long-table", path=path, scorer="x")
    np.testing.assert_array_equal(read.start_times_in_s, [0.0, 10.0, 25.0])  # the 5 s gap is scored as nothing
    assert "1 gap of up to" in read.notes[0]


def test_larger_overlaps_show_full_precision_times(tmp_path: Path) -> None:
    path = tmp_path / "overlap.csv"
    path.write_text("onset,duration,state\n0,10.0123456,W\n9.9876543,5,NREM\n")
    with pytest.raises(InputFileError) as caught:
        read_hypnogram(format="long-table", path=path, scorer="x")
    assert "9.9876543" in caught.value.found and "10.0123456" in caught.value.found
    with pytest.raises(InputFileError, match=re.escape("[12.346, 30.124] s")):
        read_hypnogram(format="long-table", path=_rounding_table(tmp_path), scorer="x", boundary_tolerance_in_s=0.0)
    with pytest.raises(GlymphError, match="boundary_tolerance_in_s: expected a non-negative"):
        read_hypnogram(format="long-table", path=path, scorer="x", boundary_tolerance_in_s=-1.0)


def test_clock_times_and_unknown_labels(tmp_path: Path) -> None:
    path = tmp_path / "clock.csv"
    path.write_text("State,Start,End\nAwake,00:00:00,00:01:30.250\nSWS,00:01:30.250,01:00:00\n")
    read = read_hypnogram(format=None, path=path, scorer="x")
    np.testing.assert_array_equal(read.stop_times_in_s, [90.25, 3600.0])
    assert read.sleep_states == ("wake", "NREM")
    path.write_text("State,Start,End\nDozing,0,10\n")
    with pytest.raises(InputFileError, match="state_labels") as caught:
        read_hypnogram(format="long-table", path=path, scorer="x")
    assert "'Dozing'" in caught.value.found
    read = read_hypnogram(format="long-table", path=path, scorer="x", options={"state_labels": {"Dozing": "NREM"}})
    assert read.sleep_states == ("NREM",)


def test_an_ambiguous_file_lists_the_candidates(tmp_path: Path) -> None:
    path = tmp_path / "both.csv"
    path.write_text("onset,duration,state,Wake,,NREM,\n0,10,W,0,10,10,5\n")
    with pytest.raises(InputFileError, match=r"several candidates: state-table .*; long-table "):
        detect_hypnogram_format(path=path)


def test_an_epoch_code_file_found_without_epoch_length_says_so(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("brain_state\n1\n2\n")
    with pytest.raises(InputFileError, match=r"epoch_length_in_s: expected a scoring epoch .*'epoch-codes'"):
        read_hypnogram(format=None, path=path, scorer="x")


def test_mat_labels_behind_an_external_link_are_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.h5").write_bytes(b"")
    with h5py.File(tmp_path / "elsewhere.h5", "w") as handle:
        handle["labels"] = np.ones((1, 4))
    path = tmp_path / "labels.mat"
    with h5py.File(path, "w", userblock_size=512) as handle:
        handle["labels"] = h5py.ExternalLink("elsewhere.h5", "labels")
    with pytest.raises(InputFileError, match="external link"):
        read_hypnogram(format="epoch-codes", path=path, scorer="x", epoch_length_in_s=1.0)


# ------------------------------------------------------------------------------------- acceptance
def test_independent_tdt_block_with_a_3_decimal_long_table_converts_with_no_format_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    photometry = (0.3 + 0.01 * rng.normal(size=1017 * 60)).astype(np.float32)
    summary = write_tdt_block(
        folder=tmp_path, block_name="block", start_time=datetime(2025, 1, 15, 8, 0, tzinfo=timezone.utc),
        streams=[TdtStreamSource(code="465A", rate_in_Hz=1017.25, chunks=[photometry]),
                 TdtStreamSource(code="405A", rate_in_Hz=1017.25, chunks=[photometry * 0.5])],
        epocs=[TdtEpocSource(code="PtC0", onset_times_in_s=np.arange(1.0, 59.0, 3.0))],
    )
    bounds = np.concatenate(([0.0], np.cumsum(rng.uniform(3.0, 9.0, size=7)) + rng.uniform(0, 1e-3, size=7)))
    states = ("wake", "NREM", "micro-arousal", "NREM", "REM", "wake", "NREM")
    truth = intervals(list(zip(bounds[:-1], bounds[1:], states)))
    table = write_long_table(destination=tmp_path / "scores.csv", intervals=truth, decimals=3,
                             labels={"wake": "Wake", "micro-arousal": "MA"})
    document = _minimal_session(photometry={"format": "tdt", "file": str(summary.block_folder),
                                            "streams": ("_465A", "_405A")})
    document["hypnogram"] = {"file": str(table), "scoring_method": "manual", "scorer": "Jane Doe"}
    session_path = tmp_path / "session.yaml"
    session_path.write_text(yaml.safe_dump(document))
    output = tmp_path / "out.nwb"
    result = CliRunner().invoke(main, ["convert", str(session_path), "-o", str(output), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "no hypnogram format named; read as 'long-table'" in result.output
    with pynwb.NWBHDF5IO(str(output), "r", load_namespaces=True) as io:
        hypnogram = get_hypnogram(nwbfile=io.read()).to_dataframe()
    assert tuple(hypnogram.sleep_state) == states
    np.testing.assert_allclose(hypnogram.start_time, bounds[:-1], atol=0.01)
    np.testing.assert_allclose(hypnogram.stop_time, bounds[1:], atol=0.01)
    assert np.all(hypnogram.start_time.to_numpy()[1:] >= hypnogram.stop_time.to_numpy()[:-1])


# ------------------------------------------------------------------------------------------- docs
def _anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_every_hint_of_the_hypnogram_readers_points_to_an_existing_anchor() -> None:
    anchors = _anchors((ROOT / "docs" / "formats.md").read_text())
    sources = "".join((ROOT / "converters" / name).read_text() for name in ("hypnogram.py", "registry.py"))
    cited = set(re.findall(r"(?:docs/formats\.md|\{DOCS\})#([\w-]+)", sources))
    assert {"long-table", "epoch-codes", "edf", "format-detection"} <= cited
    assert cited <= anchors, sorted(cited - anchors)


def test_named_presets_are_checked_per_format(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("0\n0\n4\n")
    read = read_hypnogram(format="epoch-codes", path=path, scorer="x", epoch_length_in_s=30.0,
                          options={"code_preset": "yasa", "state_codes": {"4": "micro-arousal"}})
    assert read.sleep_states == ("wake", "micro-arousal")  # state_codes override the preset's entries
    with pytest.raises(GlymphError, match=r"code_preset: expected one of \['sleep-edf'\]"):
        read_hypnogram(format="edf", path=tmp_path / "x.edf", scorer="x", options={"code_preset": "yasa"})
    with pytest.raises(GlymphError, match=r"code_preset: expected one of \['default', 'accusleep'"):
        read_hypnogram(format="epoch-codes", path=path, scorer="x", epoch_length_in_s=1.0,
                       options={"code_preset": "sleep-edf"})
