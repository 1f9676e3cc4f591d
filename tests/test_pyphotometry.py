"""pyPhotometry readers: the real .ppd files' documented facts, synthetic round trips, bad input."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from ndx_glymphatic.converters.pyphotometry import PyPhotometryCsvReader, PyPhotometryReader, parse_version
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation.rig_files.pyphotometry import (
    adc_counts_from_volts,
    write_ppd,
    write_pyphotometry_csv,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "pyphotometry"
START = datetime(2024, 5, 6, 7, 8, 9)
VPD = 0.00010122
N = 2600


def _assert_input_error(excinfo: pytest.ExceptionInfo, *, path: Path, field: str) -> None:
    error = excinfo.value
    message = str(error)
    assert "\n" not in message and str(path) in message
    assert field in error.field and error.expected and error.found


@pytest.fixture(scope="module")
def counts() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    return {
        "a1": rng.integers(0, 2**15, N),  # every 15-bit count can occur
        "a2": rng.integers(0, 2**15, N),
        "a3": rng.integers(0, 2**15, N),
        "b1": rng.integers(0, 500, N),
        "b2": rng.integers(0, 500, N),
        "d1": ((np.arange(N) // 100) % 3 == 1).astype(int),  # rises at 100, 400, ...
        "d2": np.r_[np.ones(10), np.zeros(N - 20), np.ones(10)].astype(int),  # high at both ends
    }


# -- real files (README of the fixture folder) -------------------------------------------------
@pytest.mark.parametrize(
    ("name", "mode", "version", "duration", "rising"),
    [
        ("m17-R-2018-12-12-090409.ppd", "2 colour time div.", "0.2", 3647.6, (127, 722)),
        ("m53_NAc_L-2019-11-24-093939.ppd", "2 colour time div.", "0.2", 5425.0, (137, 1046)),
        ("BriVandrey/1396_OF-2022-04-06-111534.ppd", "1 colour time div.", "0.3", 602.0, (14, 0)),
    ],
)
def test_real_ppd_files(name: str, mode: str, version: str, duration: float, rising: tuple[int, int]) -> None:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"real pyPhotometry fixture absent: {path}")
    reader = PyPhotometryReader(path=path)
    assert reader.mode == mode and reader.version == version  # 0.2 is a JSON number, '0.3' a string
    stamp = path.stem.rsplit("-", 4)[-4:]
    assert reader.session_start_time == datetime.strptime("-".join(stamp), "%Y-%m-%d-%H%M%S")
    streams = reader.streams()
    assert set(streams) == {"analog_1", "analog_2"}
    for info in streams.values():
        assert info.rate_in_Hz == 130.0 and info.unit == "V"
        assert info.duration_in_s == pytest.approx(duration, abs=0.5)
    events = reader.events()
    assert (events["digital_1"].onset_times_in_s.size, events["digital_2"].onset_times_in_s.size) == rising
    for channel in events.values():
        widths = channel.offset_times_in_s - channel.onset_times_in_s
        assert np.all(widths > 0) and np.all(np.isfinite(widths))
    volts = reader.read_stream(stream_name="analog_1")[:, 0]
    assert volts.size == streams["analog_1"].n_samples
    steps = volts / VPD  # whole ADC counts of 15 bits
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)
    assert 0 <= steps.min() and steps.max() < 2**15


# -- synthetic round trips ---------------------------------------------------------------------
def test_continuous_round_trip_from_chunks(tmp_path: Path, counts: dict[str, np.ndarray]) -> None:
    path = write_ppd(
        destination=tmp_path / "c.ppd",
        analog_counts=[iter(np.array_split(counts["a1"], 7)), counts["a2"]],
        digital_levels=[counts["d1"], iter(np.array_split(counts["d2"], 3))],
        mode="2EX_2EM_continuous",
        sampling_rate=130,
        volts_per_division=[VPD, 2 * VPD],
        date_time=START,
        version="1.1",
    )
    reader = PyPhotometryReader(path=path)
    assert reader.session_start_time == START and reader.n_samples == N
    np.testing.assert_array_equal(reader.read_stream(stream_name="analog_1")[:, 0], counts["a1"] * VPD)
    np.testing.assert_array_equal(reader.read_stream(stream_name="analog_2")[:, 0], counts["a2"] * (2 * VPD))
    chunks = list(reader.iter_stream_chunks(stream_name="analog_2", chunk_samples=1000))
    assert [len(chunk) for chunk in chunks] == [1000, 1000, 600]
    events = reader.events()
    rises = np.flatnonzero(np.diff(counts["d1"]) == 1) + 1
    falls = np.flatnonzero(np.diff(counts["d1"]) == -1) + 1
    np.testing.assert_allclose(events["digital_1"].onset_times_in_s, rises / 130)
    np.testing.assert_allclose(events["digital_1"].offset_times_in_s, np.append(falls, np.nan) / 130)  # high at end
    second = events["digital_2"]  # high at the start (no onset), rises at N - 10, never falls
    np.testing.assert_allclose(second.onset_times_in_s, [(N - 10) / 130])
    assert np.isnan(second.offset_times_in_s[0])


def test_old_header_number_version_and_three_signals(tmp_path: Path, counts: dict[str, np.ndarray]) -> None:
    old = write_ppd(
        destination=tmp_path / "old.ppd",
        analog_counts=[counts["a1"], counts["a2"]],
        digital_levels=[counts["d1"], counts["d2"]],
        mode="2 colour time div.",
        volts_per_division=[VPD, VPD],
        date_time=START,
        version=0.2,
        legacy_header=True,
    )
    header = json.loads(old.read_bytes()[2 : 2 + int.from_bytes(old.read_bytes()[:2], "little")])
    assert header["version"] == 0.2 and "n_analog_signals" not in header
    reader = PyPhotometryReader(path=old)
    assert reader.version == "0.2" and set(reader.streams()) == {"analog_1", "analog_2"}
    three = PyPhotometryReader(
        path=write_ppd(
            destination=tmp_path / "three.ppd",
            analog_counts=[counts["a1"], counts["a2"], counts["a3"]],
            digital_levels=[counts["d1"]],
            mode="3 colour time div.",
            volts_per_division=[VPD, 3 * VPD],  # a short list is reused: signal 3 -> VPD
            date_time=START,
        )
    )
    np.testing.assert_array_equal(three.read_stream(stream_name="analog_3")[:, 0], counts["a3"] * VPD)
    np.testing.assert_array_equal(three.read_stream(stream_name="analog_2")[:, 0], counts["a2"] * (3 * VPD))


@pytest.mark.parametrize("mode", ["2EX_1EM_pulsed", "2EX_2EM_pulsed"])
def test_pulsed_round_trip_baseline_subtracted(tmp_path: Path, counts: dict[str, np.ndarray], mode: str) -> None:
    path = write_ppd(
        destination=tmp_path / "p.ppd",
        analog_counts=[counts["a1"], counts["a2"]],
        baseline_counts=[counts["b1"], counts["b2"]],
        digital_levels=[counts["d1"], counts["d2"]],
        mode=mode,
        sampling_rate=86,
        volts_per_division=VPD,
        date_time=START,
        version="1.1.2",
    )
    reader = PyPhotometryReader(path=path)
    streams = reader.streams()
    assert set(streams) == {f"analog_{k}{s}" for k in (1, 2) for s in ("", "_on", "_off")}
    assert streams["analog_1"].rate_in_Hz == 86.0
    for k in (1, 2):
        on, off = counts[f"a{k}"].astype(float), counts[f"b{k}"].astype(float)
        np.testing.assert_allclose(reader.read_stream(stream_name=f"analog_{k}")[:, 0], (on - off) * VPD, rtol=1e-12)
        np.testing.assert_array_equal(reader.read_stream(stream_name=f"analog_{k}_on")[:, 0], on * VPD)
        np.testing.assert_array_equal(reader.read_stream(stream_name=f"analog_{k}_off")[:, 0], off * VPD)
    assert reader.events()["digital_1"].onset_times_in_s.size == 9


def test_csv_export_matches_ppd(tmp_path: Path, counts: dict[str, np.ndarray]) -> None:
    arguments = {
        "analog_counts": [counts["a1"], counts["a2"]],
        "digital_levels": [counts["d1"], counts["d2"]],
        "sampling_rate": 130,
        "volts_per_division": [VPD, VPD],
        "date_time": START,
    }
    csv_path = write_pyphotometry_csv(destination=tmp_path / "export.csv", **arguments)
    assert csv_path.with_suffix(".json").is_file()
    assert csv_path.read_text().split("\n", 1)[0].strip() == "Analog1,Analog2,Digital1,Digital2"
    from_csv = PyPhotometryCsvReader(path=csv_path)
    from_ppd = PyPhotometryReader(path=write_ppd(destination=tmp_path / "same.ppd", **arguments))
    assert from_csv.session_start_time == START and from_csv.streams() == from_ppd.streams()
    for name in ("analog_1", "analog_2"):
        np.testing.assert_array_equal(from_csv.read_stream(stream_name=name), from_ppd.read_stream(stream_name=name))
    for name, channel in from_ppd.events().items():
        np.testing.assert_array_equal(from_csv.events()[name].onset_times_in_s, channel.onset_times_in_s)
        np.testing.assert_array_equal(from_csv.events()[name].offset_times_in_s, channel.offset_times_in_s)


def test_helpers() -> None:
    assert parse_version(version=0.2) == (0, 2) and parse_version(version="1.1.2") == (1, 1, 2)
    np.testing.assert_array_equal(
        adc_counts_from_volts(volts=np.array([-1.0, 0.0, 1.0, 10.0]), volts_per_division=VPD), [0, 0, 9879, 32767]
    )


# -- bad input ---------------------------------------------------------------------------------
def _raw_ppd(path: Path, *, header: bytes, data: bytes = b"", declared: int | None = None) -> Path:
    path.write_bytes((len(header) if declared is None else declared).to_bytes(2, "little") + header + data)
    return path


GOOD_HEADER = json.dumps(
    {"sampling_rate": 130, "mode": "2 colour time div.", "volts_per_division": [VPD, VPD], "version": 0.2}
).encode()


def test_file_too_short_for_a_header_length(tmp_path: Path) -> None:
    path = tmp_path / "one_byte.ppd"
    path.write_bytes(b"\x05")
    with pytest.raises(InputFileError) as excinfo:
        PyPhotometryReader(path=path)
    _assert_input_error(excinfo, path=path, field="header length")
    assert "1 bytes" in excinfo.value.found


def test_header_length_past_end_of_file(tmp_path: Path) -> None:
    path = _raw_ppd(tmp_path / "long.ppd", header=GOOD_HEADER, declared=5000)
    with pytest.raises(InputFileError) as excinfo:
        PyPhotometryReader(path=path)
    _assert_input_error(excinfo, path=path, field="header length")
    assert "5000" in excinfo.value.expected


def test_header_that_is_not_json(tmp_path: Path) -> None:
    path = _raw_ppd(tmp_path / "text.ppd", header=b"{sampling_rate: 130", data=b"\x00\x00" * 4)
    with pytest.raises(InputFileError) as excinfo:
        PyPhotometryReader(path=path)
    _assert_input_error(excinfo, path=path, field="header")
    assert "not JSON" in excinfo.value.found


def test_header_missing_keys_and_bad_rate(tmp_path: Path) -> None:
    path = _raw_ppd(tmp_path / "keys.ppd", header=json.dumps({"mode": "x"}).encode())
    with pytest.raises(InputFileError) as excinfo:
        PyPhotometryReader(path=path)
    _assert_input_error(excinfo, path=path, field="header")
    assert "sampling_rate" in excinfo.value.found and "volts_per_division" in excinfo.value.found
    header = json.dumps({"sampling_rate": -5, "mode": "x", "volts_per_division": VPD}).encode()
    path = _raw_ppd(tmp_path / "rate.ppd", header=header)
    with pytest.raises(InputFileError) as excinfo:
        PyPhotometryReader(path=path)
    _assert_input_error(excinfo, path=path, field="sampling_rate")


def test_truncated_sample_data(tmp_path: Path) -> None:
    path = _raw_ppd(tmp_path / "cut.ppd", header=GOOD_HEADER, data=b"\x02\x00" * 9)  # 4.5 samples of 2 words
    with pytest.raises(InputFileError, match="truncated") as excinfo:
        PyPhotometryReader(path=path)
    _assert_input_error(excinfo, path=path, field="sample data")
    assert excinfo.value.hint and "drop_incomplete_sample" in excinfo.value.hint
    reader = PyPhotometryReader(path=path, drop_incomplete_sample=True)
    assert reader.n_samples == 4
    np.testing.assert_array_equal(reader.read_stream(stream_name="analog_1")[:, 0], np.full(4, VPD))


def test_pulsed_mode_in_a_version_without_baselines(tmp_path: Path) -> None:
    header = json.dumps(
        {"sampling_rate": 100, "mode": "2EX_2EM_pulsed", "volts_per_division": VPD, "version": "1.0"}
    ).encode()
    path = _raw_ppd(tmp_path / "pulsed10.ppd", header=header)
    with pytest.raises(InputFileError) as excinfo:
        PyPhotometryReader(path=path)
    _assert_input_error(excinfo, path=path, field="version")
    assert "1.1" in excinfo.value.expected and "'1.0'" in excinfo.value.found


def test_csv_export_without_sidecar_or_columns(tmp_path: Path) -> None:
    path = tmp_path / "lonely.csv"
    path.write_text("Analog1,Analog2,Digital1,Digital2\n1,2,0,0\n")
    with pytest.raises(InputFileError) as excinfo:
        PyPhotometryCsvReader(path=path)
    _assert_input_error(excinfo, path=path.with_suffix(".json"), field="sidecar JSON")
    path.with_suffix(".json").write_text(GOOD_HEADER.decode())
    path.write_text("Analog1,Digital1\n1,0\n")
    with pytest.raises(InputFileError) as excinfo:
        PyPhotometryCsvReader(path=path)
    _assert_input_error(excinfo, path=path, field="header row")
    assert "Analog2" in excinfo.value.found
