"""Conversion of rig files + session file into NWB: round trips against the readers and official readers,
clock alignment against the simulator's known drift and offset, schema and best-practice validation,
the direct-chunk gzip path against HDF5's own filters, every simulated format and the real samples."""

from __future__ import annotations

import copy
import json
import warnings
import zlib
from pathlib import Path

import h5py
import numpy as np
import pynwb
import pytest
import yaml
from click.testing import CliRunner
from nwbinspector import Importance, inspect_nwbfile_object

# Converted files must also pass our own domain checks: import them so they are registered in nwbinspector
# whatever order the test modules run in.
import ndx_glymphatic.validators.checks  # noqa: F401
from ndx_glymphatic.access import find_photometry_channel, get_hypnogram, photometry_channels
from ndx_glymphatic.builder import CompressionSettings, encode_chunk
from ndx_glymphatic.cli import main
from ndx_glymphatic.converters.convert import convert_session
from ndx_glymphatic.converters.edf import EdfReader
from ndx_glymphatic.converters.registry import open_rig_reader
from ndx_glymphatic.converters.tdt import TdtBlockReader
from ndx_glymphatic.simulation import SimulationParameters, simulate_session
from ndx_glymphatic.simulation.rig_files.session import (
    EEG_CLOCK_DRIFT_PPM,
    EEG_CLOCK_OFFSET_IN_S,
    sync_pulse_times,
    write_rig_session,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
PARAMETERS = SimulationParameters(
    duration_in_s=600.0, seed=3, lc_stimulation_onsets_in_s=(200.0, 450.0), vasomotion_start_in_s=250.0,
    vasomotion_duration_in_s=200.0,
)
SLOPE = 1.0 + EEG_CLOCK_DRIFT_PPM * 1e-6


def _real(path: str) -> Path:
    full = REAL / path
    if not full.exists():
        print(f"skipped: real sample {full} is absent")
        pytest.skip(f"real sample {full} is absent (shared/data/real not available)")
    return full


@pytest.fixture(scope="module")
def simulated():
    return simulate_session(parameters=PARAMETERS)


@pytest.fixture(scope="module")
def tdt_conversion(tmp_path_factory, simulated):
    folder = tmp_path_factory.mktemp("tdt_session")
    write_rig_session(session=simulated, outdir=folder, format="tdt")
    result = convert_session(session_path=folder / "session.yaml", output_path=folder / "out.nwb", progress=False)
    return folder, result


@pytest.fixture(scope="module")
def tdt_nwb(tdt_conversion):
    _, result = tdt_conversion
    io = _read(result.output_path)
    yield io.read()
    io.close()


def _read(path: Path) -> pynwb.NWBHDF5IO:
    """Open a converted file with the namespaces this process already loaded (reloading the cached ones from
    every file costs seconds; the full cached-namespace path is checked once, on the TDT session)."""
    return pynwb.NWBHDF5IO(str(path), "r", load_namespaces=False)


def _assert_valid(path: Path, *, cached_namespaces: bool = False) -> None:
    """pynwb schema validation and nwbinspector at BEST_PRACTICE_VIOLATION report nothing."""
    assert pynwb.validate(path=str(path), use_cached_namespaces=cached_namespaces) == []
    with _read(path) as io:
        messages = list(inspect_nwbfile_object(nwbfile_object=io.read(),
                                               importance_threshold=Importance.BEST_PRACTICE_VIOLATION))
    assert messages == [], [f"{m.check_function_name}: {m.message}" for m in messages]


def test_converted_tdt_session_is_schema_valid_and_inspector_clean(tdt_conversion) -> None:
    folder, result = tdt_conversion
    _assert_valid(result.output_path, cached_namespaces=True)
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]


def test_photometry_round_trip_and_semantics(tdt_conversion, tdt_nwb) -> None:
    folder, result = tdt_conversion
    session = yaml.safe_load((folder / "session.yaml").read_text())
    reader = TdtBlockReader(path=folder / session["photometry"]["file"])
    for channel in session["photometry"]["channels"]:
        series = tdt_nwb.acquisition[channel["name"]]
        expected = reader.read_stream(stream_name=channel["stream"])[:, 0]
        assert series.data.dtype == np.float32
        np.testing.assert_array_equal(series.data[:], expected)
        assert series.rate == pytest.approx(PARAMETERS.photometry_rate_in_Hz)
        assert series.timestamps is None
        assert series.data.compression == "gzip" and series.data.compression_opts == 4 and series.data.shuffle
    assert result.series["ne_465nm"] == reader.streams()["_465A"].n_samples
    signal = find_photometry_channel(nwbfile=tdt_nwb, measured_quantity="norepinephrine", channel_role="signal")
    assert signal.series.name == "ne_465nm"
    control = photometry_channels(nwbfile=tdt_nwb)[signal.control_channel]
    assert (control.channel_role, control.series.name) == ("isosbestic control", "ne_isosbestic_405nm")
    table = tdt_nwb.lab_meta_data["fiber_photometry"].fiber_photometry_table
    assert list(table["stream_name"][:]) == ["_465A", "_405A", "_560B", "_650B"]
    assert table["indicator"][3].labeled_compartment == "CSF"


def test_photometry_matches_the_official_tdt_reader(tdt_conversion, tdt_nwb) -> None:
    import tdt

    folder, _ = tdt_conversion
    block = next((folder / "tdt").iterdir())
    data = tdt.read_block(str(block), evtype=["streams"], store="560B").streams["_560B"].data
    np.testing.assert_array_equal(tdt_nwb.acquisition["blood_volume_560nm"].data[:], data)


def test_eeg_is_put_on_the_photometry_clock(tdt_conversion, tdt_nwb) -> None:
    folder, result = tdt_conversion
    alignment = tdt_nwb.lab_meta_data["clock_alignment"].clock_alignment_table
    assert alignment["slope"][0] == pytest.approx(SLOPE, abs=2e-7)
    assert alignment["offset_in_s"][0] == pytest.approx(EEG_CLOCK_OFFSET_IN_S, abs=1e-4)
    assert alignment["residual_rms_in_s"][0] < 1e-4
    assert alignment["number_of_matched_pulses"][0] == len(sync_pulse_times(duration_in_s=600.0, seed=3))
    assert result.clock_alignment["slope"] == pytest.approx(SLOPE, abs=2e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        edf = EdfReader(path=next((folder / "eeg").iterdir()))
    for name, columns in (("EEG", 2), ("EMG", 1)):
        series = tdt_nwb.acquisition[name]
        assert series.starting_time == pytest.approx(EEG_CLOCK_OFFSET_IN_S, abs=1e-4)
        assert series.rate == pytest.approx(PARAMETERS.ephys_rate_in_Hz / alignment["slope"][0], rel=1e-12)
        assert series.rate == pytest.approx(PARAMETERS.ephys_rate_in_Hz / SLOPE, rel=2e-7)
        assert series.conversion == pytest.approx(1e-6)
        expected = edf.read_stream(stream_name=name).astype(np.float32)
        np.testing.assert_array_equal(series.data[:].reshape(len(expected), columns), expected)
    edf.close()
    electrodes = tdt_nwb.electrodes.to_dataframe()
    assert list(electrodes["location"]) == ["Isocortex", "Isocortex", "root"]
    assert electrodes["group"].iloc[2].location == "neck muscle"


def test_events_stimulation_and_hypnogram_against_ground_truth(tdt_nwb, simulated) -> None:
    truth = simulated.ground_truth
    sync = sync_pulse_times(duration_in_s=600.0, seed=3)
    np.testing.assert_allclose(tdt_nwb.events["ttl_PtC0"]["timestamp"][:], sync, atol=1e-5)
    np.testing.assert_allclose(tdt_nwb.events["ttl_PtC0"]["duration"][:], 0.1, atol=1e-5)
    lc = tdt_nwb.intervals["lc_optogenetic_stimulation"].to_dataframe()
    assert len(lc) == len(truth.lc_stimulation) == 2
    for (_, row), epoch in zip(lc.iterrows(), truth.lc_stimulation):
        assert row.start_time == pytest.approx(epoch.start_in_s, abs=1e-4)
        assert row.stop_time == pytest.approx(epoch.stop_in_s - 0.1 + 0.01, abs=1e-4)  # last pulse end
        assert row.number_pulses_per_pulse_train == 100
    vasomotion = tdt_nwb.intervals["vasomotion_stimulation"].to_dataframe()
    assert vasomotion.start_time.iloc[0] == 250.0 and vasomotion.target.iloc[0] == "arterial smooth muscle"
    hypnogram = get_hypnogram(nwbfile=tdt_nwb).to_dataframe()
    truth_rows = [row for row in truth.sleep_states if row.start_in_s >= EEG_CLOCK_OFFSET_IN_S]
    converted = hypnogram[hypnogram.start_time >= EEG_CLOCK_OFFSET_IN_S + 1e-3]
    assert len(converted) >= len(truth_rows) - 1
    for row in truth_rows[:-1]:  # the last row is clipped where the EEG file ends
        match = converted[np.isclose(converted.start_time, row.start_in_s, atol=1e-3)]
        assert len(match) == 1 and match.sleep_state.iloc[0] == row.state, row
    infusion = tdt_nwb.intervals["tracer_infusions"].to_dataframe().iloc[0]
    assert infusion.start_time == truth.infusion["start_in_s"] and infusion.tracer.name == "ovalbumin_AF647"
    assert tdt_nwb.lab_meta_data["experimental_condition"].condition == "vehicle"
    assert tdt_nwb.subject.age == "P90D" and tdt_nwb.session_start_time.utcoffset() is not None


@pytest.mark.parametrize("shape, chunks", [((1000,), (256,)), ((1001, 3), (128, 3)), ((7,), (7,))])
def test_direct_chunks_decode_like_hdf5_filters(tmp_path: Path, shape, chunks) -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(size=shape).cumsum(axis=0).astype(np.float32)
    settings = CompressionSettings(level=4, shuffle=True)
    path = tmp_path / "chunks.h5"
    with h5py.File(path, "w") as file:
        reference = file.create_dataset("reference", data=data, chunks=chunks, compression="gzip",
                                        compression_opts=4, shuffle=True)
        ours = file.create_dataset("ours", shape=shape, dtype=np.float32, chunks=chunks, compression="gzip",
                                   compression_opts=4, shuffle=True)
        for start in range(0, shape[0], chunks[0]):
            block = np.zeros(chunks, dtype=np.float32)
            part = data[start : start + chunks[0]]
            block[: len(part)] = part
            offset = (start,) + (0,) * (len(shape) - 1)
            encoded = encode_chunk(chunk=block, settings=settings)
            ours.id.write_direct_chunk(offset, encoded, filter_mask=0)
            mask, stored = reference.id.read_direct_chunk(offset)
            assert mask == 0
            assert zlib.decompress(stored) == zlib.decompress(encoded)  # same shuffled bytes
    with h5py.File(path, "r") as file:
        np.testing.assert_array_equal(file["ours"][:], data)
        assert file["ours"].compression == "gzip" and file["ours"].shuffle


def test_cli_convert_refuses_to_overwrite_without_flag(tdt_conversion, tmp_path: Path) -> None:
    folder, _ = tdt_conversion
    runner = CliRunner()
    output = tmp_path / "cli.nwb"
    arguments = ["convert", str(folder / "session.yaml"), "-o", str(output), "--no-progress", "--compression", "none"]
    result = runner.invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.output
    with h5py.File(output, "r") as file:
        assert file["acquisition/ne_465nm/data"].compression is None
    before = output.stat().st_mtime_ns
    result = runner.invoke(main, arguments)
    assert result.exit_code == 2
    assert "expected a path that does not exist yet, found an existing file (pass --overwrite" in result.output
    assert output.stat().st_mtime_ns == before
    result = runner.invoke(main, [*arguments, "--overwrite", "--compression", "lzf"])
    assert result.exit_code == 0, result.output
    with h5py.File(output, "r") as file:
        assert file["acquisition/ne_465nm/data"].compression == "lzf"
        reference = TdtBlockReader(path=next((folder / "tdt").iterdir())).read_stream(stream_name="_465A")[:, 0]
        np.testing.assert_array_equal(file["acquisition/ne_465nm/data"][:], reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.nwb"]


@pytest.mark.parametrize("rig_format", ["doric", "npm", "ppd"])
def test_every_simulated_format_converts(tmp_path: Path, simulated, rig_format: str) -> None:
    write_rig_session(session=simulated, outdir=tmp_path, format=rig_format)
    session = yaml.safe_load((tmp_path / "session.yaml").read_text())
    result = convert_session(session_path=tmp_path / "session.yaml", output_path=tmp_path / "out.nwb",
                             progress=False)
    _assert_valid(result.output_path)
    options = {"digital_input_paths": [tmp_path / p for p in session["photometry"].get("digital_input_files", [])]}
    reader = open_rig_reader(format=rig_format, path=tmp_path / session["photometry"]["file"], options=options)
    with _read(result.output_path) as io:
        nwbfile = io.read()
        for channel in session["photometry"]["channels"]:
            expected = reader.read_stream(stream_name=channel["stream"])[:, 0].astype(np.float32)
            np.testing.assert_array_equal(nwbfile.acquisition[channel["name"]].data[:], expected)
        # the sync TTL is sampled at the photometry rate (130 Hz for pyPhotometry): the slope is that precise
        tolerance = {"doric": 2e-6, "npm": 2e-6, "ppd": 2e-5}[rig_format]
        assert nwbfile.lab_meta_data["clock_alignment"].clock_alignment_table["slope"][0] == pytest.approx(
            SLOPE, abs=tolerance)
        assert len(get_hypnogram(nwbfile=nwbfile)) > 3


# --------------------------------------------------------------------------------------- real samples
def _minimal_session(*, photometry: dict | None = None, electrophysiology: dict | None = None) -> dict:
    document = {
        "subject": {"subject_id": "m1", "species": "Mus musculus", "sex": "U", "age": "P60D", "strain": "C57BL/6J"},
        "session": {
            "session_start_time": "2020-01-01T00:00:00+00:00", "session_description": "Real sample conversion.",
            "session_id": "real", "experimenter": ["Tester, Test"], "lab": "test lab", "institution": "test",
        },
    }
    if photometry is not None:
        document["devices"] = {
            "excitation_sources": [
                {"name": f"led_{w}", "description": f"{w} nm LED.", "manufacturer": "unknown", "source_type": "LED"}
                for w in (405, 470)
            ],
            "photodetectors": [{"name": "detector", "description": "Photodetector.", "manufacturer": "unknown",
                                "detector_type": "photodiode"}],
            "optical_fibers": [{"name": "fiber", "description": "Fiber.", "manufacturer": "unknown",
                                "numerical_aperture": 0.48, "location": "striatum", "ap_in_mm": 1.0, "ml_in_mm": 1.5,
                                "depth_in_mm": 3.0, "hemisphere": "left"}],
        }
        document["indicators"] = [{
            "name": "GCaMP6f", "label": "GCaMP6f", "description": "Calcium sensor.",
            "viral_vector": {"name": "AAV_GCaMP6f", "construct_name": "AAV1-Syn-GCaMP6f", "description": "GCaMP6f.",
                             "manufacturer": "Addgene", "titer_in_vg_per_ml": 1.0e13},
            "injection": {"location": "striatum", "hemisphere": "left", "reference": "bregma", "ap_in_mm": 1.0,
                          "ml_in_mm": 1.5, "dv_in_mm": -3.0, "volume_in_uL": 0.5},
        }]
        signal, control = photometry.pop("streams")
        common = {"measured_quantity": "calcium", "indicator": "GCaMP6f", "optical_fiber": "fiber",
                  "photodetector": "detector", "emission_wavelength_in_nm": 525}
        photometry["channels"] = [
            {"name": "signal_470nm", "stream": signal, "description": "470 nm.", "channel_role": "signal",
             "control_channel": "control_405nm", "excitation_source": "led_470", "excitation_wavelength_in_nm": 470,
             **common},
            {"name": "control_405nm", "stream": control, "description": "405 nm.",
             "channel_role": "isosbestic control", "excitation_source": "led_405", "excitation_wavelength_in_nm": 405,
             **common},
        ]
        document["photometry"] = photometry
    if electrophysiology is not None:
        document["electrophysiology"] = electrophysiology
    return document


def _write(document: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(copy.deepcopy(document)))
    return path


@pytest.mark.parametrize(
    "name",
    ["pyphotometry/m17-R-2018-12-12-090409.ppd", "pyphotometry/m53_NAc_L-2019-11-24-093939.ppd",
     "pyphotometry/BriVandrey/1396_OF-2022-04-06-111534.ppd"],
)
def test_real_pyphotometry_files_convert(tmp_path: Path, name: str) -> None:
    ppd = _real(name)
    session = _write(_minimal_session(photometry={"format": "ppd", "file": str(ppd),
                                                  "streams": ("analog_1", "analog_2")}), tmp_path / "s.yaml")
    result = convert_session(session_path=session, output_path=tmp_path / "out.nwb", progress=False)
    _assert_valid(result.output_path)
    reader = open_rig_reader(format="ppd", path=ppd)
    with _read(result.output_path) as io:
        nwbfile = io.read()
        np.testing.assert_array_equal(nwbfile.acquisition["signal_470nm"].data[:],
                                      reader.read_stream(stream_name="analog_1")[:, 0].astype(np.float32))
        assert nwbfile.acquisition["signal_470nm"].rate == 130.0
        events = {name: len(table) for name, table in nwbfile.events.items()}
    expected_events = {name: len(channel.onset_times_in_s) for name, channel in reader.events().items()
                       if len(channel.onset_times_in_s)}
    assert events == {f"ttl_{name}": n for name, n in expected_events.items()}


def test_real_neurophotometrics_csv_converts(tmp_path: Path) -> None:
    csv_path = _real("neurophotometrics/ibl/raw_photometry.csv")
    session = _write(_minimal_session(photometry={"format": "npm", "file": str(csv_path),
                                                  "streams": ("G0@470", "G0@415")}), tmp_path / "s.yaml")
    result = convert_session(session_path=session, output_path=tmp_path / "out.nwb", progress=False)
    _assert_valid(result.output_path)
    with _read(result.output_path) as io:
        series = io.read().acquisition["signal_470nm"]
        assert series.data.shape == (1006,) and series.rate == pytest.approx(30.0, rel=1e-3)


def test_real_faster2_edf_converts_as_an_eeg_only_session(tmp_path: Path) -> None:
    edf = _real("edf/faster2/test.edf")
    ephys = {
        "format": "edf", "file": str(edf),
        "amplifier": {"description": "FASTER2 recording system."},
        "electrode_groups": [{"name": "EEG_screws", "description": "EEG screws.", "location": "cortex"},
                             {"name": "EMG_wires", "description": "EMG wires.", "location": "neck muscle"}],
        "channels": [{"name": "EEG09", "stream": "EEG09", "series": "EEG", "group": "EEG_screws"},
                     {"name": "EMG09", "stream": "EMG09", "series": "EMG", "group": "EMG_wires"}],
    }
    session = _write(_minimal_session(electrophysiology=ephys), tmp_path / "s.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = convert_session(session_path=session, output_path=tmp_path / "out.nwb", progress=False)
        reader = EdfReader(path=edf)
        expected = reader.read_stream(stream_name="EEG")[:, 0].astype(np.float32)
        reader.close()
    assert any("outside its declared physical range" in note for note in result.notes)
    _assert_valid(result.output_path)
    with _read(result.output_path) as io:
        nwbfile = io.read()
        np.testing.assert_array_equal(nwbfile.acquisition["EEG"].data[:], expected)
        assert nwbfile.acquisition["EEG"].rate == 128.0 and "clock_alignment" not in nwbfile.lab_meta_data


def test_real_tdt_block_without_tev_gives_the_clear_error(tmp_path: Path) -> None:
    block = _real("tdt/pMAT_Photometry-161823")
    session = _write(_minimal_session(photometry={"format": "tdt", "file": str(block),
                                                  "streams": ("490R", "405R")}), tmp_path / "s.yaml")
    result = CliRunner().invoke(main, ["convert", str(session), "-o", str(tmp_path / "out.nwb"), "--no-progress"])
    assert result.exit_code == 2
    assert "Photometry-161823.tev: stream data of store 490R (_490R): expected the .tev data file beside the .tsq " \
        "index, found no such file" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
    reader = TdtBlockReader(path=block)  # headers and epocs are still readable
    assert json.dumps(sorted(reader.events())) == '["PAB_", "Tick", "Vid1"]'


# ------------------------------------------------------------------------------ more layouts and paths
def test_simulate_offers_every_rig_format() -> None:
    from ndx_glymphatic.simulation.writers import session_writers

    assert {"nwb", "tdt", "doric", "npm", "ppd"} <= set(session_writers())


def test_eeg_from_the_photometry_block_shares_its_clock(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from ndx_glymphatic.simulation.rig_files.tdt import TdtEpocSource, TdtStreamSource, write_tdt_block

    rng = np.random.default_rng(7)
    photometry = (0.3 + 0.01 * rng.normal(size=1017 * 60)).astype(np.float32)
    eeg = (50e-6 * rng.normal(size=(509 * 60, 2))).astype(np.float32)
    summary = write_tdt_block(
        folder=tmp_path, block_name="block", start_time=datetime(2025, 1, 15, 8, 0, tzinfo=timezone.utc),
        streams=[TdtStreamSource(code="465A", rate_in_Hz=1017.25, chunks=[photometry]),
                 TdtStreamSource(code="405A", rate_in_Hz=1017.25, chunks=[photometry * 0.5]),
                 TdtStreamSource(code="EEGw", rate_in_Hz=508.63, chunks=[eeg], n_channels=2)],
        epocs=[TdtEpocSource(code="PtC0", onset_times_in_s=np.arange(1.0, 59.0, 3.0))],
    )
    document = _minimal_session(photometry={"format": "tdt", "file": str(summary.block_folder),
                                            "streams": ("_465A", "_405A")})
    document["electrophysiology"] = {
        "format": "tdt", "file": str(summary.block_folder),
        "amplifier": {"description": "TDT PZ5 amplifier.", "manufacturer": "Tucker-Davis Technologies"},
        "electrode_groups": [{"name": "EEG_screws", "description": "Skull screws.", "location": "cortex"}],
        "channels": [{"name": "EEG1", "stream": "EEGw", "stream_channel": 0, "series": "EEG", "group": "EEG_screws"},
                     {"name": "EEG2", "stream": "EEGw", "stream_channel": 1, "series": "EEG", "group": "EEG_screws"}],
    }
    result = convert_session(session_path=_write(document, tmp_path / "s.yaml"), output_path=tmp_path / "out.nwb",
                             progress=False)
    _assert_valid(result.output_path)
    reader = TdtBlockReader(path=summary.block_folder)
    with _read(result.output_path) as io:
        nwbfile = io.read()
        series = nwbfile.acquisition["EEG"]
        np.testing.assert_array_equal(series.data[:], reader.read_stream(stream_name="EEGw"))
        assert series.rate == pytest.approx(reader.streams()["EEGw"].rate_in_Hz)
        assert series.starting_time == reader.streams()["EEGw"].starting_time_in_s
        assert "clock_alignment" not in nwbfile.lab_meta_data
        assert list(nwbfile.events) == ["ttl_PtC0"]


def test_irregular_frames_are_stored_with_timestamps(tmp_path: Path) -> None:
    from ndx_glymphatic.simulation.rig_files.neurophotometrics import interleave_npm_frames, write_npm_current_csv

    rng = np.random.default_rng(3)
    n = 900
    frames = interleave_npm_frames(
        led_signals={470: {"G0": rng.normal(0.5, 0.01, n)}, 415: {"G0": rng.normal(0.3, 0.01, n)}},
        frame_rate_in_Hz=40.0, jitter_in_s=rng.uniform(-0.012, 0.012, 2 * n + 1),
    )
    csv_path = write_npm_current_csv(destination=tmp_path / "raw.csv", frames=frames)
    reader = open_rig_reader(format="npm", path=csv_path)
    info = reader.streams()["G0@470"]
    assert info.rate_in_Hz is None and info.timestamps_in_s is not None  # the reader calls it irregular
    session = _write(_minimal_session(photometry={"format": "npm", "file": str(csv_path),
                                                  "streams": ("G0@470", "G0@415")}), tmp_path / "s.yaml")
    result = convert_session(session_path=session, output_path=tmp_path / "out.nwb", progress=False)
    _assert_valid(result.output_path)
    with _read(result.output_path) as io:
        series = io.read().acquisition["signal_470nm"]
        assert series.rate is None
        np.testing.assert_array_equal(series.timestamps[:], info.timestamps_in_s)
        np.testing.assert_array_equal(series.data[:], reader.read_stream(stream_name="G0@470")[:, 0].astype("f4"))


def test_pyphotometry_csv_export_converts(tmp_path: Path) -> None:
    from datetime import datetime

    from ndx_glymphatic.simulation.rig_files.pyphotometry import write_pyphotometry_csv

    rng = np.random.default_rng(4)
    counts = [rng.integers(1000, 3000, 130 * 60), rng.integers(500, 1500, 130 * 60)]
    csv_path = write_pyphotometry_csv(destination=tmp_path / "rec.csv", analog_counts=counts,
                                      digital_levels=[((np.arange(130 * 60) + 300) % 650) < 13],
                                      date_time=datetime(2024, 5, 1, 10, 0))
    session = _write(_minimal_session(photometry={"format": "ppd", "file": str(csv_path),
                                                  "streams": ("analog_1", "analog_2")}), tmp_path / "s.yaml")
    result = convert_session(session_path=session, output_path=tmp_path / "out.nwb", progress=False)
    _assert_valid(result.output_path)
    reader = open_rig_reader(format="ppd", path=csv_path)
    with _read(result.output_path) as io:
        nwbfile = io.read()
        np.testing.assert_array_equal(nwbfile.acquisition["control_405nm"].data[:],
                                      reader.read_stream(stream_name="analog_2")[:, 0].astype("f4"))
        assert len(nwbfile.events["ttl_digital_1"]) == 12
