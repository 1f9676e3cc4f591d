"""The derived NWB file of `glymph analyze --write-derived`: content, link to the raw file, readers, validation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from derived_session import AnalysedSession, analysed_session
from pynwb import NWBHDF5IO

from ndx_glymphatic.cli import main
from ndx_glymphatic.io import OUTPUT_MANIFEST_NAME
from ndx_glymphatic.validators.api import validate_file

READER = Path(__file__).resolve().parents[1] / "nwb_ext" / "testing" / "pynwb_only_reader.py"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> AnalysedSession:
    return analysed_session(folder=tmp_path_factory.mktemp("derived"))


def _object_ids(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    with h5py.File(path, "r") as handle:
        found["/"] = handle.attrs["object_id"]

        def visit(name: str, item: object) -> None:
            object_id = getattr(item, "attrs", {}).get("object_id")
            if object_id is not None:
                found[f"/{name}"] = object_id

        handle.visititems(visit)
    return found


def test_cli_writes_a_dandi_named_derived_file_and_no_raw_copy(session: AnalysedSession, tmp_path: Path) -> None:
    output = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["analyze", str(session.raw_path), "-o", str(output), "--write-derived", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    (derived,) = output.glob("*.nwb")
    assert re.fullmatch(r"sub-m01_ses-ses01_desc-processed_[a-z+]*ophys[a-z+]*\.nwb", derived.name), derived.name
    manifest = json.loads((output / OUTPUT_MANIFEST_NAME).read_text())
    assert derived.name in manifest["files"]
    with h5py.File(derived, "r") as handle:
        assert len(handle["acquisition"]) == 0  # the raw data are not copied
        assert "glymph_analysis" not in handle.get("processing", {})


def test_dff_series_point_at_their_channel_rows(session: AnalysedSession) -> None:
    analysis = session.analysis
    expected = {
        f"{analysis.session.ne_signal.name}_dff": ("ne_dff", "norepinephrine"),
        f"{analysis.session.blood_volume.name}_dff": ("blood_volume_dff", "cerebral blood volume"),
        f"{analysis.session.csf_tracer.name}_dff": ("csf_tracer_dff", "CSF tracer"),
    }
    assert "ne_465nm_dff" in expected
    with NWBHDF5IO(str(session.derived_path), "r", load_namespaces=True) as io:
        nwbfile = io.read()
        ophys = nwbfile.processing["ophys"]
        for name, (trace, quantity) in expected.items():
            series = ophys[name]
            assert type(series).__name__ == "FiberPhotometryResponseSeries"
            np.testing.assert_array_equal(series.data[:], analysis.traces[trace])
            assert series.rate == pytest.approx(analysis.rate_in_Hz)
            assert series.starting_time == pytest.approx(analysis.times[0])
            (row,) = series.fiber_photometry_table_region.data[:]
            table = series.fiber_photometry_table_region.table
            assert table["measured_quantity"][row] == quantity
            assert table["channel_role"][row] == "signal"
        decimated = ophys[f"{analysis.session.csf_tracer.name}_decimated"]
        np.testing.assert_allclose(decimated.data[:], analysis.session.csf_tracer.decimated.values, rtol=1e-6)


def test_events_bouts_band_power_and_tables_hold_the_analysis_results(session: AnalysedSession) -> None:
    analysis = session.analysis
    peaks = analysis.curve("ne_peaks")
    bouts = analysis.curve("nrem_bouts")
    band_power = analysis.curve("band_power")
    assert peaks.n_peaks > 0 and len(bouts.starts) > 0
    with NWBHDF5IO(str(session.derived_path), "r", load_namespaces=True) as io:
        nwbfile = io.read()
        np.testing.assert_allclose(nwbfile.events["ne_peaks"]["timestamp"][:], analysis.times[peaks.peak_indices])
        np.testing.assert_allclose(
            nwbfile.events["ne_peaks"]["value"][:], analysis.traces["ne_dff"][peaks.peak_indices], rtol=1e-6
        )
        spindles = analysis.curve("spindles")
        if len(spindles.onsets):
            np.testing.assert_allclose(nwbfile.events["spindles"]["timestamp"][:], spindles.onsets)
        scored = analysis.curve("scored_micro_arousals")
        np.testing.assert_allclose(nwbfile.events["scored_micro_arousals"]["duration"][:], scored.durations)
        table = nwbfile.intervals["nrem_bouts"]
        assert type(table).__name__ == "TimeIntervals"
        np.testing.assert_allclose(table["start_time"][:], bouts.starts)
        np.testing.assert_allclose(table["stop_time"][:], bouts.stops)
        sigma = nwbfile.processing["ecephys"]["eeg_sigma_power"]
        np.testing.assert_allclose(sigma.data[:], band_power.powers["sigma"], rtol=1e-6)
        assert sigma.starting_time == pytest.approx(band_power.times[0])
        metrics = nwbfile.analysis["glymph_metrics"].to_dataframe().set_index("metric")
        frequency = session.document["metrics"]["ne"]["oscillation"]["peak_frequency_in_Hz"]
        assert metrics.loc["ne.oscillation.peak_frequency_in_Hz", "value"] == pytest.approx(frequency)
        parameters = nwbfile.analysis["glymph_parameters"].to_dataframe().set_index("parameter")
        minimum = session.document["parameters"]["oscillation"]["min_bout_in_s"]
        assert json.loads(parameters.loc["oscillation.min_bout_in_s", "value_json"]) == minimum


def test_links_to_the_raw_file_by_identifier_and_object_ids_only(session: AnalysedSession) -> None:
    raw_ids = _object_ids(session.raw_path)
    derived_ids = _object_ids(session.derived_path)
    assert not set(raw_ids.values()) & set(derived_ids.values())  # every copied object has a new id
    with NWBHDF5IO(str(session.raw_path), "r", load_namespaces=True) as io:
        raw_identifier = io.read().identifier
    with NWBHDF5IO(str(session.derived_path), "r", load_namespaces=True) as io:
        nwbfile = io.read()
        assert raw_identifier in nwbfile.identifier and nwbfile.identifier != raw_identifier
        provenance = nwbfile.analysis["was_derived_from"].to_dataframe()
    assert set(provenance["source_identifier"]) == {raw_identifier}
    for path, object_id in zip(provenance["source_path"], provenance["source_object_id"]):
        assert raw_ids[path] == object_id, path
    used = dict(zip(provenance["source_path"], provenance["derived_objects"]))
    assert "ne_465nm_dff" in used["/acquisition/ne_465nm"].split(",")
    control = session.analysis.session.ne_control.name  # the dF/F fit uses the control too
    assert "ne_465nm_dff" in used[f"/acquisition/{control}"].split(",")
    with h5py.File(session.derived_path, "r") as handle:
        links = []
        handle.visit_links(
            lambda name: links.append(name) if isinstance(handle.get(name, getlink=True), h5py.ExternalLink) else None
        )
        assert links == []


def test_plain_pynwb_reads_and_validates_it(session: AnalysedSession) -> None:
    """In a process where no ndx package can be imported: pynwb reads it and pynwb.validate finds nothing."""
    result = subprocess.run([sys.executable, str(READER), str(session.derived_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validation errors: 0" in result.stdout
    assert "extension modules imported: 0" in result.stdout


def test_derived_profile_checks_the_derived_content(session: AnalysedSession) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = validate_file(path=session.derived_path, profile="derived")
        raw_report = validate_file(path=session.raw_path, profile="derived")
    assert report.is_conformant, report.format_text()
    assert report.layers["derived"]["status"] != "skipped"
    checks = {message.check for message in report.messages}
    assert "check_photometry_channel_has_series" not in checks  # control rows have no dF/F: not applicable
    assert not raw_report.is_conformant  # a raw file is not a derived file
    raw_checks = {message.check for message in raw_report.messages if message.severity == "error"}
    assert "check_derived_links_to_raw_file" in raw_checks


def test_derived_check_flags_a_dff_series_on_a_control_row(session: AnalysedSession, tmp_path: Path) -> None:
    broken = tmp_path / session.derived_path.name
    broken.write_bytes(session.derived_path.read_bytes())
    with h5py.File(broken, "a") as handle:
        table = handle["general/fiber_photometry/fiber_photometry_table"]
        roles = [value.decode() for value in table["channel_role"][:]]
        control = roles.index("isosbestic control")
        handle["processing/ophys/ne_465nm_dff/fiber_photometry_table_region"][0] = control
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = validate_file(path=broken, profile="derived")
    flagged = [m for m in report.messages if m.check == "check_derived_dff_points_at_signal_row"]
    assert flagged and "ne_465nm_dff" in flagged[0].location + flagged[0].message


def test_derived_file_is_written_in_the_checksummed_format_of_the_raw_file(session: AnalysedSession) -> None:
    with h5py.File(session.derived_path, "r") as h5file:
        assert h5file.id.get_create_plist().get_version()[0] >= 2  # superblock v2: HDF5 1.8 format, checksummed
        unchecked = []

        def visit(name: str, item: object) -> None:
            if (isinstance(item, h5py.Dataset) and item.dtype.kind in "fiu" and item.size > 1
                    and not name.startswith("specifications") and not item.fletcher32):
                unchecked.append(name)

        h5file.visititems(visit)
    assert unchecked == []
