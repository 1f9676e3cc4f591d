"""Neurophotometrics FP3002 reader: synthetic round trips, the real IBL files, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ndx_glymphatic.converters.neurophotometrics import NeurophotometricsReader, read_npm_digital_inputs
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation.rig_files.neurophotometrics import (
    NpmFrames,
    interleave_npm_frames,
    write_npm_current_csv,
    write_npm_digital_inputs_csv,
    write_npm_legacy_csv,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "neurophotometrics" / "ibl"
FPS = 40.0
N = 300


def _real(name: str) -> Path:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"real Neurophotometrics fixture absent: {path}")
    return path


def _assert_input_error(excinfo: pytest.ExceptionInfo, *, path: Path, field: str) -> None:
    error = excinfo.value
    message = str(error)
    assert "\n" not in message and str(path) in message
    assert field in error.field and error.expected and error.found


@pytest.fixture(scope="module")
def led_signals() -> dict[int, dict[str, np.ndarray]]:
    rng = np.random.default_rng(11)
    return {
        470: {"G0": rng.uniform(0.01, 0.02, N), "G1": rng.uniform(0.02, 0.03, N)},
        415: {"G0": rng.uniform(0.005, 0.01, N), "G1": rng.uniform(0.001, 0.002, N)},
    }


def test_current_layout_round_trip(tmp_path: Path, led_signals: dict[int, dict[str, np.ndarray]]) -> None:
    frames = interleave_npm_frames(led_signals=led_signals, frame_rate_in_Hz=FPS, start_time_in_s=227.5)
    assert frames.led_states[0] == 7 and frames.frame_counter.size == 2 * N + 1
    path = write_npm_current_csv(destination=tmp_path / "photometry.csv", frames=frames)
    reader = NeurophotometricsReader(path=path)
    assert reader.layout == "current" and reader.roi_columns == ("G0", "G1")
    wavelengths_in_nm = tuple(dict.fromkeys(int(name.rpartition("@")[2]) for name in reader.streams()))
    assert wavelengths_in_nm == (415, 470) and reader.time_origin_in_s == 227.5
    streams = reader.streams()
    assert set(streams) == {"G0@415", "G1@415", "G0@470", "G1@470"}
    blue = streams["G1@470"]
    assert blue.n_samples == N and blue.unit == "a.u." and blue.timestamps_in_s is None
    assert blue.rate_in_Hz == pytest.approx(FPS / 2, rel=1e-9)
    assert blue.starting_time_in_s == pytest.approx(1 / FPS, abs=1e-9)  # frame 0 (state 7) dropped
    assert streams["G0@415"].starting_time_in_s == pytest.approx(2 / FPS, abs=1e-9)
    for wavelength, rois in led_signals.items():
        for roi, values in rois.items():
            np.testing.assert_array_equal(reader.read_stream(stream_name=f"{roi}@{wavelength}")[:, 0], values)
    chunks = list(reader.iter_stream_chunks(stream_name="G0@470", chunk_samples=64))
    assert max(len(chunk) for chunk in chunks) <= 64
    np.testing.assert_array_equal(np.concatenate(chunks)[:, 0], led_signals[470]["G0"])
    assert reader.events() == {}


def test_chunked_writing_matches_whole(tmp_path: Path, led_signals: dict[int, dict[str, np.ndarray]]) -> None:
    halves = [
        interleave_npm_frames(
            led_signals={
                wl: {roi: v[k * 150 : (k + 1) * 150] for roi, v in rois.items()} for wl, rois in led_signals.items()
            },
            frame_rate_in_Hz=FPS,
            first_frame_index=k * 301,
        )
        for k in range(2)
    ]
    chunked = write_npm_current_csv(destination=tmp_path / "chunked.csv", frames=iter(halves))
    whole = write_npm_current_csv(
        destination=tmp_path / "whole.csv", frames=interleave_npm_frames(led_signals=led_signals, frame_rate_in_Hz=FPS)
    )
    assert chunked.read_text() == whole.read_text()


def test_jitter_and_dropped_frames(tmp_path: Path, led_signals: dict[int, dict[str, np.ndarray]]) -> None:
    rng = np.random.default_rng(5)
    jitter = rng.uniform(-0.001, 0.001, 2 * N + 1)  # 2 % of a per-LED period
    frames = interleave_npm_frames(led_signals=led_signals, frame_rate_in_Hz=FPS, jitter_in_s=jitter)
    regular = NeurophotometricsReader(path=write_npm_current_csv(destination=tmp_path / "j.csv", frames=frames))
    assert regular.streams()["G0@470"].rate_in_Hz == pytest.approx(FPS / 2, rel=1e-3)
    keep = np.ones(frames.frame_counter.size, bool)
    keep[101:141] = False  # 40 frames lost: 20 per LED, one 1-s gap
    dropped = NpmFrames(
        frame_counter=frames.frame_counter[keep],
        system_timestamps_in_s=frames.system_timestamps_in_s[keep],
        led_states=frames.led_states[keep],
        roi_values={roi: values[keep] for roi, values in frames.roi_values.items()},
    )
    reader = NeurophotometricsReader(path=write_npm_current_csv(destination=tmp_path / "d.csv", frames=dropped))
    info = reader.streams()["G1@415"]
    assert info.rate_in_Hz is None and info.n_samples == N - 20
    expected = dropped.system_timestamps_in_s[dropped.led_states == 1] - dropped.system_timestamps_in_s[0]
    np.testing.assert_allclose(info.timestamps_in_s, expected, atol=1e-12)


def test_legacy_layout_with_digital_inputs(tmp_path: Path, led_signals: dict[int, dict[str, np.ndarray]]) -> None:
    signals = {wl: {"Region0G": rois["G0"], "Region1R": rois["G1"]} for wl, rois in led_signals.items()}
    frames = interleave_npm_frames(
        led_signals=signals,
        frame_rate_in_Hz=FPS,
        led_order=(415, 470),
        start_time_in_s=5355.0,
        first_frame_all_leds=False,
    )
    input0 = np.zeros(frames.frame_counter.size, bool)
    input0[[*range(50, 60), *range(400, 401)]] = True
    input1 = np.zeros(frames.frame_counter.size, bool)
    input1[-5:] = True
    path = write_npm_legacy_csv(
        destination=tmp_path / "legacy.csv", frames=frames, input_levels={"Input0": input0, "Input1": input1}
    )
    reader = NeurophotometricsReader(path=path)
    assert reader.layout == "legacy" and reader.roi_columns == ("Region0G", "Region1R")
    assert reader.streams()["Region0G@415"].starting_time_in_s == 0.0
    np.testing.assert_array_equal(reader.read_stream(stream_name="Region1R@470")[:, 0], led_signals[470]["G1"])
    events = reader.events()
    np.testing.assert_allclose(events["Input0"].onset_times_in_s, np.array([50, 400]) / FPS, atol=1e-9)
    np.testing.assert_allclose(events["Input0"].offset_times_in_s, np.array([60, 401]) / FPS, atol=1e-9)
    np.testing.assert_allclose(events["Input1"].onset_times_in_s, [(2 * N - 5) / FPS], atol=1e-9)
    assert np.isnan(events["Input1"].offset_times_in_s[0])


def test_headerless_alternating_rows(tmp_path: Path, led_signals: dict[int, dict[str, np.ndarray]]) -> None:
    signals = {wl: {"Region0G": rois["G0"], "Region1G": rois["G1"]} for wl, rois in led_signals.items()}
    frames = interleave_npm_frames(
        led_signals=signals, frame_rate_in_Hz=FPS, led_order=(470, 415), first_frame_all_leds=False
    )
    path = write_npm_legacy_csv(destination=tmp_path / "bare.csv", frames=frames, header=False, flags_column=False)
    assert path.read_text().split("\n", 1)[0].split(",")[0] == "0"
    reader = NeurophotometricsReader(path=path, led_order=(470, 415))
    assert reader.layout == "alternating" and reader.roi_columns == ("Region0", "Region1")
    np.testing.assert_array_equal(reader.read_stream(stream_name="Region1@415")[:, 0], led_signals[415]["G1"])
    assert reader.streams()["Region0@415"].starting_time_in_s == pytest.approx(1 / FPS)
    named = NeurophotometricsReader(
        path=path, led_order=(470, 415), column_names=("FrameCounter", "Timestamp", "A", "B")
    )
    np.testing.assert_array_equal(named.read_stream(stream_name="B@470")[:, 0], led_signals[470]["G1"])


@pytest.mark.parametrize("generation", [1, 2, 3])
def test_digital_input_tables_round_trip(tmp_path: Path, generation: int) -> None:
    onsets = np.array([10.0, 20.0, 30.5])
    offsets = np.array([10.1, 20.2, 30.6])
    names = ("Input0", "Input1") if generation == 3 else ("Input0",)
    path = write_npm_digital_inputs_csv(
        destination=tmp_path / f"di{generation}.csv",
        generation=generation,
        onsets_in_s={name: onsets + k for k, name in enumerate(names)},
        offsets_in_s={name: offsets + k for k, name in enumerate(names)},
    )
    channels = read_npm_digital_inputs(
        path=path, time_origin_in_s=5.0, channel_name="Input0" if generation < 3 else None
    )
    assert set(channels) == set(names)
    for k, name in enumerate(names):
        np.testing.assert_allclose(channels[name].onset_times_in_s, onsets + k - 5.0, atol=1e-12)
        if generation < 3:
            np.testing.assert_allclose(channels[name].offset_times_in_s, offsets - 5.0, atol=1e-12)
        else:
            assert np.all(np.isnan(channels[name].offset_times_in_s))
    if generation == 2:
        early = read_npm_digital_inputs(path=path, time_column="Timestamp")
        np.testing.assert_allclose(early[path.stem].onset_times_in_s, onsets - 0.03, atol=1e-12)


def test_reader_merges_digital_input_tables_on_its_origin(
    tmp_path: Path, led_signals: dict[int, dict[str, np.ndarray]]
) -> None:
    frames = interleave_npm_frames(led_signals=led_signals, frame_rate_in_Hz=FPS, start_time_in_s=100.0)
    photometry = write_npm_current_csv(destination=tmp_path / "p.csv", frames=frames)
    table = write_npm_digital_inputs_csv(
        destination=tmp_path / "di.csv", generation=3, onsets_in_s={"Input0": np.array([101.0, 102.5])}
    )
    events = NeurophotometricsReader(path=photometry, digital_input_paths=[table]).events()
    np.testing.assert_allclose(events["Input0"].onset_times_in_s, [1.0, 2.5])


# -- real files --------------------------------------------------------------------------------
def test_real_current_layout_file() -> None:
    path = _real("raw_photometry.csv")
    reader = NeurophotometricsReader(path=path)
    table = pd.read_csv(path)  # oracle: plain pandas selection by LedState
    assert reader.layout == "current" and reader.roi_columns == ("G0", "G1", "G2", "G3", "G4")
    streams = reader.streams()
    assert len(streams) == 10
    assert sum(streams[f"G0@{wl}"].n_samples for wl in (415, 470)) == len(table) - 1  # first frame (7) dropped
    for wavelength, state in ((470, 2), (415, 1)):
        info = streams[f"G3@{wavelength}"]
        assert info.rate_in_Hz == pytest.approx(30.0, abs=0.01)
        assert info.duration_in_s == pytest.approx(33.5, abs=0.1)
        expected = table.loc[table.LedState == state, "G3"].to_numpy()
        np.testing.assert_array_equal(reader.read_stream(stream_name=f"G3@{wavelength}")[:, 0], expected)
        first = table.loc[table.LedState == state, "SystemTimestamp"].iloc[0] - table.SystemTimestamp.iloc[0]
        assert info.starting_time_in_s == pytest.approx(first, abs=1e-9)


@pytest.fixture(scope="module")
def real_legacy_csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The parquet copies of the real legacy tables written back out as CSV (quoted headers, as Bonsai may)."""
    pytest.importorskip("pyarrow", reason="pyarrow is needed to read the real parquet fixtures (pip install pyarrow)")
    import pyarrow.csv
    import pyarrow.parquet

    folder = tmp_path_factory.mktemp("npm_real")
    paths = {}
    for key, name in [
        ("raw", "v1__neurophotometrics_fpData.raw.pqt"),
        ("di1", "v1__neurophotometrics_fpData.digitalInputs.pqt"),
        ("di2", "v2__neurophotometrics_fpData.digitalInputs.pqt"),
        ("di3", "v5__neurophotometrics_fpData.digitalInputs.pqt"),
    ]:
        paths[key] = folder / f"{key}.csv"
        pyarrow.csv.write_csv(pyarrow.parquet.read_table(_real(name)), paths[key])
    return paths


def test_real_legacy_file_and_its_digital_inputs(real_legacy_csvs: dict[str, Path]) -> None:
    reader = NeurophotometricsReader(path=real_legacy_csvs["raw"], digital_input_paths=[real_legacy_csvs["di1"]])
    assert reader.layout == "legacy" and len(reader.roi_columns) == 7
    info = reader.streams()["Region1G@470"]
    assert info.rate_in_Hz == pytest.approx(15.0, abs=0.01)  # 30 fps, two LEDs
    assert info.duration_in_s == pytest.approx(2898, abs=1)
    events = reader.events()
    flags_input0 = events["Input0"].onset_times_in_s  # Flags bit 9
    table_onsets = events["di1"].onset_times_in_s  # the rig's own digital-input table, same clock
    assert flags_input0.size == table_onsets.size == 179
    assert np.all(np.abs(flags_input0 - table_onsets) < 0.15)  # sampled by camera frames
    assert events["Input1"].onset_times_in_s.size == 91


def test_real_digital_input_generations(real_legacy_csvs: dict[str, Path]) -> None:
    second = read_npm_digital_inputs(path=real_legacy_csvs["di2"], channel_name="Input0")
    assert second["Input0"].onset_times_in_s.size == 302
    assert np.all(second["Input0"].offset_times_in_s > second["Input0"].onset_times_in_s)
    third = read_npm_digital_inputs(path=real_legacy_csvs["di3"])
    assert {name: channel.onset_times_in_s.size for name, channel in third.items()} == {"Input0": 2106, "Input1": 1896}


# -- bad input ---------------------------------------------------------------------------------
def test_missing_led_state_column(tmp_path: Path) -> None:
    path = tmp_path / "no_led.csv"
    path.write_text("FrameCounter,SystemTimestamp,ComputerTimestamp,G0\n0,1.0,2.0,0.1\n1,1.1,2.1,0.2\n")
    with pytest.raises(InputFileError, match="led_order") as excinfo:
        NeurophotometricsReader(path=path)
    _assert_input_error(excinfo, path=path, field="LedState / Flags")


def test_unknown_led_bits(tmp_path: Path) -> None:
    path = tmp_path / "bits.csv"
    path.write_text("FrameCounter,Timestamp,Flags,Region0G\n0,1.0,17,0.1\n1,1.1,1042,0.2\n2,1.2,17,0.2\n")
    with pytest.raises(InputFileError) as excinfo:
        NeurophotometricsReader(path=path)
    _assert_input_error(excinfo, path=path, field="Flags")
    assert "1042" in excinfo.value.found and "data row 2" in excinfo.value.found


def test_several_leds_in_one_frame(tmp_path: Path) -> None:
    path = tmp_path / "two_leds.csv"
    path.write_text(
        "FrameCounter,SystemTimestamp,LedState,ComputerTimestamp,G0\n0,1.0,7,1,0.1\n1,1.1,2,1,0.2\n2,1.2,3,1,0.2\n"
    )
    with pytest.raises(InputFileError) as excinfo:
        NeurophotometricsReader(path=path)
    _assert_input_error(excinfo, path=path, field="LedState")
    assert "415+470" in excinfo.value.found and "data row 3" in excinfo.value.found


def test_non_numeric_timestamp_and_no_roi(tmp_path: Path) -> None:
    path = tmp_path / "text_time.csv"
    path.write_text("FrameCounter,SystemTimestamp,LedState,ComputerTimestamp,G0\n0,1.0,1,1,0.1\n1,oops,2,1,0.2\n")
    with pytest.raises(InputFileError) as excinfo:
        NeurophotometricsReader(path=path)
    _assert_input_error(excinfo, path=path, field="SystemTimestamp")
    assert "oops" in excinfo.value.found
    no_roi = tmp_path / "no_roi.csv"
    no_roi.write_text("FrameCounter,SystemTimestamp,LedState,ComputerTimestamp\n0,1.0,1,1\n")
    with pytest.raises(InputFileError) as excinfo:
        NeurophotometricsReader(path=no_roi)
    _assert_input_error(excinfo, path=no_roi, field="ROI columns")


def test_bad_digital_input_tables(tmp_path: Path) -> None:
    path = tmp_path / "di.csv"
    path.write_text("Time,State\n1.0,1\n")
    with pytest.raises(InputFileError) as excinfo:
        read_npm_digital_inputs(path=path)
    _assert_input_error(excinfo, path=path, field="columns")
    assert "Timestamp, Value" in excinfo.value.expected
    values = tmp_path / "values.csv"
    values.write_text("Timestamp,Value\n1.0,True\n2.0,maybe\n")
    with pytest.raises(InputFileError) as excinfo:
        read_npm_digital_inputs(path=values)
    _assert_input_error(excinfo, path=values, field="Value")
    assert "maybe" in excinfo.value.found
