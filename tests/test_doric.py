"""Doric readers: synthetic .doric V6 / V1 and CSV files written by our writer, read back exactly."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from ndx_glymphatic.converters._timing import EdgeDetector, infer_sample_timing, pair_offsets
from ndx_glymphatic.converters.doric import DoricCsvReader, DoricFileReader
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation.rig_files.doric import DoricGroup, write_doric_csv, write_doric_v1, write_doric_v6

RATE = 120.0
TTL_RATE = 1200.0
N = 1200


def _assert_input_error(excinfo: pytest.ExceptionInfo, *, path: Path, field: str) -> None:
    error = excinfo.value
    message = str(error)
    assert "\n" not in message
    assert str(path) in message and field in error.field
    assert error.expected and error.found
    assert "expected" in message and "found" in message


def _ttl_levels(*, n: int, highs: list[tuple[int, int]]) -> np.ndarray:
    levels = np.zeros(n)
    for start, stop in highs:
        levels[start:stop] = 1.0
    return levels


@pytest.fixture(scope="module")
def signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "ne": rng.normal(1.0, 0.1, N),
        "iso": rng.normal(0.5, 0.05, N),
        "raw": rng.normal(0.2, 0.01, N),
        "led": rng.uniform(0, 1, N),
        "ttl": _ttl_levels(n=10 * N, highs=[(1000, 1600), (5000, 5012), (11_990, 12_000)]),
        "second": rng.normal(size=50),
    }


@pytest.fixture(scope="module")
def v6_file(tmp_path_factory: pytest.TempPathFactory, signals: dict[str, np.ndarray]) -> Path:
    path = tmp_path_factory.mktemp("doric") / "session.doric"
    chunks = [signals["ne"][k : k + 500] for k in range(0, N, 500)]
    iso_chunks = [signals["iso"][k : k + 500] for k in range(0, N, 500)]
    write_doric_v6(
        destination=path,
        series={
            "Series0001": [
                DoricGroup(
                    path="LockInAOUT01",
                    datasets={"AIN01": iter(chunks)},
                    rate_in_Hz=RATE,
                    starting_time_in_s=0.25,
                    usernames={"AIN01": "NE 465"},
                ),
                DoricGroup(path="AIN01xAOUT02-LockIn", datasets={"Values": iter(iso_chunks)}, rate_in_Hz=RATE),
                DoricGroup(path="AnalogIn", datasets={"AIN01": signals["raw"]}, rate_in_Hz=RATE),
                DoricGroup(path="AnalogOut", datasets={"AOUT01": signals["led"]}, rate_in_Hz=RATE),
                DoricGroup(path="DigitalIO", datasets={"DIO01": signals["ttl"]}, rate_in_Hz=TTL_RATE),
            ],
            "Series0002": [DoricGroup(path="AnalogIn", datasets={"AIN02": signals["second"]}, rate_in_Hz=10.0)],
        },
    )
    return path


def test_v6_round_trip_streams_timing_and_values(v6_file: Path, signals: dict[str, np.ndarray]) -> None:
    reader = DoricFileReader(path=v6_file)
    assert reader.layout == "V6"
    assert reader.available_series == ("Series0001", "Series0002")
    assert reader.series == "Series0001" and reader.console == "FPConsole"
    streams = reader.streams()
    assert set(streams) == {"LockInAOUT01/AIN01", "AIN01xAOUT02-LockIn", "AnalogIn/AIN01", "AnalogOut/AOUT01"}
    ne = streams["LockInAOUT01/AIN01"]
    assert ne.n_samples == N and ne.n_channels == 1 and ne.unit == "V"
    assert ne.rate_in_Hz == pytest.approx(RATE, rel=1e-12)
    assert ne.starting_time_in_s == pytest.approx(0.25, abs=1e-12)
    assert ne.timestamps_in_s is None
    assert ne.channel_names == ("NE 465",)
    assert streams["AIN01xAOUT02-LockIn"].starting_time_in_s == 0.0
    for name, key in [
        ("LockInAOUT01/AIN01", "ne"),
        ("AIN01xAOUT02-LockIn", "iso"),
        ("AnalogIn/AIN01", "raw"),
        ("AnalogOut/AOUT01", "led"),
    ]:
        data = reader.read_stream(stream_name=name)
        assert data.shape == (N, 1) and data.dtype == np.float64
        np.testing.assert_array_equal(data[:, 0], signals[key])


def test_v6_digital_io_becomes_edges_at_ttl_rate(v6_file: Path) -> None:
    events = DoricFileReader(path=v6_file).events()
    assert set(events) == {"DIO01"}
    ttl = events["DIO01"]
    np.testing.assert_allclose(ttl.onset_times_in_s, np.array([1000, 5000, 11_990]) / TTL_RATE, atol=1e-12)
    np.testing.assert_allclose(ttl.offset_times_in_s[:2], np.array([1600, 5012]) / TTL_RATE, atol=1e-12)
    assert np.isnan(ttl.offset_times_in_s[2])  # still high when the file ends
    np.testing.assert_array_equal(ttl.values, np.ones(3))


def test_v6_series_choice_and_chunked_reads(v6_file: Path, signals: dict[str, np.ndarray]) -> None:
    reader = DoricFileReader(path=v6_file, series="Series0002")
    assert set(reader.streams()) == {"AnalogIn/AIN02"}
    assert reader.streams()["AnalogIn/AIN02"].rate_in_Hz == pytest.approx(10.0)
    assert reader.events() == {}
    chunks = list(DoricFileReader(path=v6_file).iter_stream_chunks(stream_name="AnalogIn/AIN01", chunk_samples=7))
    assert max(len(chunk) for chunk in chunks) == 7 and len(chunks) == -(-N // 7)
    np.testing.assert_array_equal(np.concatenate(chunks)[:, 0], signals["raw"])


def test_jitter_decides_between_rate_and_timestamps(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    grid = 2.0 + np.arange(400) / 100.0
    small = grid + rng.uniform(-0.0005, 0.0005, grid.size)  # 5 % of a period: still regular
    gap = np.concatenate([grid[:200], grid[200:] + 0.5])  # a dropped stretch: irregular
    path = tmp_path / "jitter.doric"
    write_doric_v6(
        destination=path,
        series={
            "Series0001": [
                DoricGroup(path="AnalogIn", datasets={"AIN01": np.ones(400)}, rate_in_Hz=100.0, timestamps_in_s=small),
                DoricGroup(
                    path="LockInAOUT01", datasets={"AIN01": np.ones(400)}, rate_in_Hz=100.0, timestamps_in_s=gap
                ),
            ]
        },
    )
    with h5py.File(path, "a") as handle:  # an image stack beside the signals is left out, not an error
        handle.create_dataset("DataAcquisition/FPConsole/Signals/Series0001/CAM1/ImageStack", data=np.zeros((2, 4, 4)))
    reader = DoricFileReader(path=path)
    assert reader.skipped_datasets == ("/DataAcquisition/FPConsole/Signals/Series0001/CAM1/ImageStack",)
    streams = reader.streams()
    regular = streams["AnalogIn/AIN01"]
    assert regular.rate_in_Hz == pytest.approx(100.0, rel=1e-3) and regular.timestamps_in_s is None
    assert regular.starting_time_in_s == pytest.approx(small[0])
    irregular = streams["LockInAOUT01/AIN01"]
    assert irregular.rate_in_Hz is None
    np.testing.assert_array_equal(irregular.timestamps_in_s, gap)
    assert irregular.duration_in_s == pytest.approx(gap[-1] - gap[0])


def test_sample_timing_and_edge_helpers() -> None:
    times = 5.0 + np.arange(10_001) / 1017.25
    timing = infer_sample_timing(times=times, path="x", field="t", time_origin_in_s=5.0, chunk_samples=333)
    assert timing.rate_in_Hz == pytest.approx(1017.25, rel=1e-12) and timing.starting_time_in_s == 0.0
    detector = EdgeDetector()
    levels = np.array([1, 1, 0, 0, 1, 1, 1, 0, 1], dtype=bool)
    for start in range(0, levels.size, 2):  # edges that fall on chunk borders
        detector.feed(levels=levels[start : start + 2], times=np.arange(start, min(start + 2, levels.size)))
    channel = detector.event_channel(name="x")
    np.testing.assert_array_equal(channel.onset_times_in_s, [4.0, 8.0])  # high at sample 0: no onset
    np.testing.assert_array_equal(channel.offset_times_in_s, [7.0, np.nan])
    np.testing.assert_array_equal(
        pair_offsets(onsets=np.array([1.0, 2.0, 5.0]), falling=np.array([0.5, 3.0, 4.0])), [np.nan, 3.0, np.nan]
    )


def test_v1_round_trip_from_chunks(tmp_path: Path, signals: dict[str, np.ndarray]) -> None:
    path = tmp_path / "old.doric"
    ttl = _ttl_levels(n=N, highs=[(100, 250), (900, 901)])
    write_doric_v1(
        destination=path,
        channels={
            "AIn-1 - Dem (AOut-1)": iter([signals["ne"][:600], signals["ne"][600:]]),
            "AIn-1 - Raw": iter([signals["raw"][:600], signals["raw"][600:]]),
            "DI--O-1": iter([ttl[:600], ttl[600:]]),
        },
        rate_in_Hz=RATE,
        starting_time_in_s=1.5,
    )
    with h5py.File(path, "r") as handle:  # the documented V1 paths
        assert "Traces/Console/Time(s)/Console_time(s)" in handle
        assert "Traces/Console/AIn-1 - Dem (AOut-1)/AIn-1 - Dem (AOut-1)" in handle
    reader = DoricFileReader(path=path)
    assert reader.layout == "V1"
    streams = reader.streams()
    assert set(streams) == {"AIn-1 - Dem (AOut-1)", "AIn-1 - Raw"}
    assert streams["AIn-1 - Raw"].rate_in_Hz == pytest.approx(RATE, rel=1e-12)
    assert streams["AIn-1 - Raw"].starting_time_in_s == pytest.approx(1.5)
    np.testing.assert_array_equal(reader.read_stream(stream_name="AIn-1 - Dem (AOut-1)")[:, 0], signals["ne"])
    ttl_events = reader.events()["DI--O-1"]
    np.testing.assert_allclose(ttl_events.onset_times_in_s, 1.5 + np.array([100, 900]) / RATE, atol=1e-12)
    np.testing.assert_allclose(ttl_events.offset_times_in_s, 1.5 + np.array([250, 901]) / RATE, atol=1e-12)


def test_csv_export_round_trip(tmp_path: Path, signals: dict[str, np.ndarray]) -> None:
    path = tmp_path / "export.csv"
    ttl = _ttl_levels(n=N, highs=[(10, 20), (500, 800)])
    write_doric_csv(
        destination=path,
        columns={"AIn-1 - Dem (AOut-1)": signals["ne"], "AIn-2 - Dem (AOut-2)": signals["iso"], "DI/O-1": ttl},
        rate_in_Hz=RATE,
    )
    reader = DoricCsvReader(path=path)
    streams = reader.streams()
    assert set(streams) == {"AIn-1 - Dem (AOut-1)", "AIn-2 - Dem (AOut-2)"}
    assert streams["AIn-2 - Dem (AOut-2)"].rate_in_Hz == pytest.approx(RATE, rel=1e-9)
    chunks = list(reader.iter_stream_chunks(stream_name="AIn-2 - Dem (AOut-2)", chunk_samples=500))
    assert [len(chunk) for chunk in chunks] == [500, 500, 200]
    np.testing.assert_array_equal(np.concatenate(chunks)[:, 0], signals["iso"])
    ttl_events = reader.events()["DI/O-1"]
    np.testing.assert_allclose(ttl_events.onset_times_in_s, np.array([10, 500]) / RATE, atol=1e-9)
    np.testing.assert_allclose(ttl_events.offset_times_in_s, np.array([20, 800]) / RATE, atol=1e-9)


# -- bad input ---------------------------------------------------------------------------------
def test_file_with_neither_layout(tmp_path: Path) -> None:
    path = tmp_path / "other.doric"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("Something", data=np.zeros(3))
    with pytest.raises(InputFileError, match="DataAcquisition") as excinfo:
        DoricFileReader(path=path)
    _assert_input_error(excinfo, path=path, field="top-level groups")
    assert "Something" in excinfo.value.found


def test_group_without_time(tmp_path: Path) -> None:
    path = tmp_path / "no_time.doric"
    with h5py.File(path, "w") as handle:
        handle.create_group("Configurations")
        handle.create_dataset("DataAcquisition/FPConsole/Signals/Series0001/AnalogIn/AIN01", data=np.zeros(5))
    with pytest.raises(InputFileError) as excinfo:
        DoricFileReader(path=path)
    _assert_input_error(excinfo, path=path, field="Series0001/AnalogIn")
    assert "Time" in excinfo.value.expected and "AIN01" in excinfo.value.found


def test_data_and_time_of_different_length(tmp_path: Path) -> None:
    path = tmp_path / "short_time.doric"
    with h5py.File(path, "w") as handle:
        group = handle.create_group("DataAcquisition/FPConsole/Signals/Series0001/LockInAOUT01")
        group.create_dataset("AIN01", data=np.zeros(10))
        group.create_dataset("Time", data=np.arange(8) / 10.0)
    with pytest.raises(InputFileError) as excinfo:
        DoricFileReader(path=path)
    _assert_input_error(excinfo, path=path, field="LockInAOUT01/AIN01")
    assert excinfo.value.found == "10 samples" and "8" in excinfo.value.expected


def test_time_going_backwards(tmp_path: Path) -> None:
    path = tmp_path / "backwards.doric"
    times = np.arange(20) / 10.0
    times[12] = 0.3
    write_doric_v6(
        destination=path,
        series={
            "Series0001": [
                DoricGroup(path="AnalogIn", datasets={"AIN01": np.zeros(20)}, rate_in_Hz=10.0, timestamps_in_s=times)
            ]
        },
    )
    with pytest.raises(InputFileError, match="strictly increasing") as excinfo:
        DoricFileReader(path=path).streams()
    _assert_input_error(excinfo, path=path, field="AnalogIn/Time")
    assert "sample 12" in excinfo.value.found


def test_not_hdf5_and_unknown_names(tmp_path: Path, v6_file: Path) -> None:
    path = tmp_path / "text.doric"
    path.write_text("not hdf5")
    with pytest.raises(InputFileError) as excinfo:
        DoricFileReader(path=path)
    _assert_input_error(excinfo, path=path, field="file")
    with pytest.raises(InputFileError) as excinfo:
        DoricFileReader(path=v6_file, series="Series0009")
    assert "Series0001" in excinfo.value.found
    with pytest.raises(InputFileError) as excinfo:
        list(DoricFileReader(path=v6_file).iter_stream_chunks(stream_name="AIN01"))
    assert "LockInAOUT01/AIN01" in excinfo.value.expected


def test_csv_without_time_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(InputFileError) as excinfo:
        DoricCsvReader(path=path)
    _assert_input_error(excinfo, path=path, field="header rows")
    assert "Time(s)" in excinfo.value.expected
