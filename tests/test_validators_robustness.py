"""The validator never crashes or hangs on damaged files: a corpus of damaged files, one message each.

The corpus is built here: a small valid simulated session is written, then copied and damaged in a
defined way (truncated, overwritten, edited with h5py, ...). Every damaged file must give a specific
message (layer + check + words) and exit code 1 or 2, and the report must still render as text and
as JSON valid against ``report_schema.json``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import h5py
import jsonschema
import numpy as np
import pytest

from ndx_glymphatic.cli import readiness_checks
from ndx_glymphatic.validators import validate_file, validate_paths
from ndx_glymphatic.validators.report import reports_to_json

SCHEMA = json.loads((files("ndx_glymphatic.validators") / "report_schema.json").read_text())


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
def base_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # shared by the validator test modules of this session (never modified: tests damage copies)
    path = tmp_path_factory.getbasetemp() / "validators-clean-session.nwb"
    return path if path.is_file() else write_clean_session(path=path)


# ------------------------------------------------------------------------------------------ damage kit
def _copy(base: Path, target: Path) -> Path:
    shutil.copyfile(base, target)
    return target


def _edit(function: Callable[[h5py.File], None]) -> Callable[[Path, Path], Path]:
    def apply(base: Path, target: Path) -> Path:
        _copy(base, target)
        with h5py.File(target, "r+") as h5file:
            function(h5file)
        return target

    return apply


def _replace_dataset(h5file: h5py.File, name: str, data: np.ndarray) -> None:
    """Replace a dataset by ``data``, keeping its attributes (so only dtype/shape/content change)."""
    attributes = dict(h5file[name].attrs)
    del h5file[name]
    h5file[name] = data
    for key, value in attributes.items():
        h5file[name].attrs[key] = value


def _cached_spec_of_ours(h5file: h5py.File) -> str:
    """The group of the ndx-glymphatic namespace cached in the file (one version)."""
    (version,) = h5file["specifications/ndx-glymphatic"]
    return f"specifications/ndx-glymphatic/{version}"


def _overwrite_bytes(*, target: Path, offset: int, data: bytes) -> None:
    with open(target, "r+b") as stream:
        stream.seek(offset)
        stream.write(data)


def _truncate(fraction: float) -> Callable[[Path, Path], Path]:
    def apply(base: Path, target: Path) -> Path:
        _copy(base, target)
        with open(target, "r+b") as stream:
            stream.truncate(int(target.stat().st_size * fraction))
        return target

    return apply


def _write_bytes(content: bytes) -> Callable[[Path, Path], Path]:
    def apply(base: Path, target: Path) -> Path:
        target.write_bytes(content)
        return target

    return apply


def _gzip(base: Path, target: Path) -> Path:
    with open(base, "rb") as source, gzip.open(target, "wb") as sink:
        shutil.copyfileobj(source, sink)
    return target


def _zip(base: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(base, arcname="session.nwb")
    return target


def _directory(base: Path, target: Path) -> Path:
    target.mkdir()
    _copy(base, target / "inside.nwb")
    return target


def _fifo(base: Path, target: Path) -> Path:
    os.mkfifo(target)
    return target


def _dangling_symlink(base: Path, target: Path) -> Path:
    target.symlink_to(target.parent / "gone.nwb")
    return target


def _missing(base: Path, target: Path) -> Path:
    return target


def _non_nwb_hdf5(base: Path, target: Path) -> Path:
    with h5py.File(target, "w") as h5file:
        h5file["recording"] = np.arange(10.0)
        h5file.attrs["device"] = "scope"
    return target


def _zero_superblock(base: Path, target: Path) -> Path:
    _copy(base, target)
    _overwrite_bytes(target=target, offset=8, data=bytes(56))
    return target


def _corrupt_chunk(base: Path, target: Path) -> Path:
    _copy(base, target)
    with h5py.File(target, "r") as h5file:
        info = h5file["acquisition/ne_465nm/data"].id.get_chunk_info(0)
    _overwrite_bytes(target=target, offset=info.byte_offset + 16, data=bytes(range(256)) * 4)
    return target


def _external_link(target_file: str) -> Callable[[Path, Path], Path]:
    def apply(base: Path, target: Path) -> Path:
        _copy(base, target)
        if target_file == "sibling":
            other = target.with_name(target.stem + "_other.h5")
            with h5py.File(other, "w") as h5file:
                h5file["secret"] = np.arange(3)
            link_file = str(other)
        else:
            link_file = target_file
        with h5py.File(target, "r+") as h5file:
            h5file["acquisition/linked"] = h5py.ExternalLink(link_file, "/secret")
        return target

    return apply


def _virtual_dataset(base: Path, target: Path) -> Path:
    _copy(base, target)
    other = target.with_name(target.stem + "_source.h5")
    with h5py.File(other, "w") as h5file:
        h5file["samples"] = np.arange(100.0)
    layout = h5py.VirtualLayout(shape=(100,), dtype="f8")
    layout[:] = h5py.VirtualSource(str(other), "samples", shape=(100,))
    with h5py.File(target, "r+") as h5file:
        h5file["analysis"].create_virtual_dataset("virtual", layout)
    return target


def _external_storage(base: Path, target: Path) -> Path:
    _copy(base, target)
    raw = target.with_name(target.stem + "_raw.bin")
    raw.write_bytes(np.arange(10, dtype="<f8").tobytes())
    with h5py.File(target, "r+") as h5file:
        h5file["analysis"].create_dataset("external", shape=(10,), dtype="<f8", external=[(str(raw), 0, 80)])
    return target


def _nan_run(h5file: h5py.File) -> None:
    data = h5file["acquisition/ne_465nm/data"]
    data[1000:1000 + 50 * 20] = np.nan  # 20 s at 50 Hz


def _timestamps_backwards(h5file: h5py.File) -> None:
    group = h5file["acquisition/blood_volume_560nm"]
    n_samples = group["data"].shape[0]
    rate = float(group["starting_time"].attrs["rate"])
    del group["starting_time"]
    timestamps = np.arange(n_samples) / rate
    timestamps[5000] = timestamps[4000]  # one sample jumps back in time
    group["timestamps"] = timestamps
    group["timestamps"].attrs["interval"] = 1
    group["timestamps"].attrs["unit"] = "seconds"


def _set_column(table: str, column: str, row: int, value: object) -> Callable[[h5py.File], None]:
    def edit(h5file: h5py.File) -> None:
        h5file[f"{table}/{column}"][row] = value

    return edit


def _overlapping_states(h5file: h5py.File) -> None:
    start = h5file["intervals/sleep_states/start_time"]
    stop = h5file["intervals/sleep_states/stop_time"]
    stop[1] = start[2] + 30.0


def _sleep_state_word(h5file: h5py.File) -> None:
    h5file["intervals/sleep_states/sleep_state"][1] = "dozing"


# ------------------------------------------------------------------------------------------ the corpus
@dataclass(frozen=True)
class Damage:
    """One way of damaging a valid file and what the validator must say about it."""

    name: str
    make: Callable[[Path, Path], Path]
    layer: str
    check: str
    words: str
    exit_code: int = 1


CORPUS: tuple[Damage, ...] = (
    Damage("empty file", _write_bytes(b""), "file", "file_not_empty", "is empty (0 bytes)"),
    Damage("random bytes", _write_bytes(np.random.default_rng(0).bytes(8192)), "file", "hdf5_signature",
           "not an HDF5 file"),
    Damage("text file", _write_bytes(b"subject,session\nm01,1\n"), "file", "hdf5_signature", "a text file"),
    Damage("json file", _write_bytes(b'{"subject": "m01"}'), "file", "hdf5_signature", "JSON/text file"),
    Damage("git lfs pointer", _write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n"),
           "file", "hdf5_signature", "Git LFS pointer"),
    Damage("zip archive", _zip, "file", "hdf5_signature", "ZIP archive"),
    Damage("gzip-compressed file", _gzip, "file", "hdf5_signature", "gzip-compressed"),
    Damage("truncated to half", _truncate(0.5), "file", "hdf5_not_truncated", "is truncated"),
    Damage("truncated to 5 %", _truncate(0.05), "file", "hdf5_not_truncated", "is truncated"),
    Damage("superblock zeroed", _zero_superblock, "file", "hdf5_superblock", "superblock"),
    Damage("corrupted compressed chunk", _corrupt_chunk, "domain", "check_nan_runs", "cannot be read"),
    Damage("directory named .nwb", _directory, "file", "is_a_file", "directory named like an NWB file"),
    Damage("named pipe", _fifo, "file", "is_a_file", "not a regular file"),
    Damage("missing path", _missing, "file", "path_exists", "does not exist", exit_code=2),
    Damage("dangling symbolic link", _dangling_symlink, "file", "path_exists", "symbolic link to a missing file",
           exit_code=2),
    Damage("HDF5 file that is not NWB", _non_nwb_hdf5, "file", "is_nwb_file", "not an NWB file"),
    Damage("nwb_version removed", _edit(lambda f: f.attrs.__delitem__("nwb_version")), "file",
           "nwb_version_present", "'nwb_version' is missing"),
    Damage("nwb_version not text", _edit(lambda f: f.attrs.__setitem__("nwb_version", 2)), "file",
           "nwb_version_present", "(not text)"),
    Damage("nwb_version garbage", _edit(lambda f: f.attrs.__setitem__("nwb_version", "banana")), "file",
           "nwb_version_valid", "not a version"),
    Damage("newer schema version", _edit(lambda f: f.attrs.__setitem__("nwb_version", "9.0.0")), "file",
           "nwb_version_supported", "newer than"),
    Damage("NWB 1 file", _edit(lambda f: f.attrs.__setitem__("nwb_version", "1.0.6")), "file",
           "nwb_version_supported", "only NWB 2.x"),
    Damage("root is not NWBFile", _edit(lambda f: f.attrs.__setitem__("neurodata_type", "TimeSeries")), "file",
           "root_is_nwbfile", "expected 'NWBFile'"),
    Damage("identifier removed", _edit(lambda f: f.__delitem__("identifier")), "file", "required_root_objects",
           "'/identifier' is missing"),
    Damage("general group removed", _edit(lambda f: f.__delitem__("general")), "file", "required_root_objects",
           "'/general' is missing"),
    Damage("acquisition group removed", _edit(lambda f: f.__delitem__("acquisition")), "file",
           "required_root_objects", "'/acquisition' is missing"),
    Damage("cached specifications removed", _edit(lambda f: f.__delitem__("specifications")), "file",
           "cached_specifications", "caches no specification"),
    Damage("cached namespace garbled",
           _edit(lambda f: _replace_dataset(f, f"{_cached_spec_of_ours(f)}/namespace", np.array(b"{not json"))),
           "file", "cached_specifications", "is unreadable"),
    Damage("unknown neurodata type", _edit(lambda f: f["acquisition/ne_465nm"].attrs.__setitem__(
        "neurodata_type", "FooBarSeries")), "file", "known_neurodata_types", "does not define"),
    Damage("dangling soft link", _edit(lambda f: f["acquisition"].__setitem__("lost", h5py.SoftLink("/nowhere"))),
           "file", "no_dangling_soft_links", "does not exist in the file"),
    Damage("hard link cycle", _edit(lambda f: f["acquisition"].__setitem__("loop", f["/"])), "file",
           "no_link_cycles", "has a loop"),
    Damage("external link to another file", _external_link("sibling"), "security", "check_no_links_leaving_file",
           "external link to"),
    Damage("external link to a missing file", _external_link("/nonexistent/elsewhere.h5"), "security",
           "check_no_links_leaving_file", "/nonexistent/elsewhere.h5"),
    Damage("virtual dataset from another file", _virtual_dataset, "security", "check_no_links_leaving_file",
           "virtual dataset to"),
    Damage("external raw storage", _external_storage, "security", "check_no_links_leaving_file",
           "external storage to"),
    Damage("session_start_time not a date",
           _edit(lambda f: _replace_dataset(f, "session_start_time", np.array(b"yesterday"))),
           "schema", "DtypeError", "expected 'isodatetime'"),
    Damage("photometry data 4-D", _edit(lambda f: _replace_dataset(f, "acquisition/ne_465nm/data",
                                                                  np.zeros((10, 2, 2, 2), "f4"))),
           "schema", "ShapeError", "incorrect shape"),
    Damage("photometry data as text", _edit(lambda f: _replace_dataset(
        f, "acquisition/ne_465nm/data", np.array([b"x"] * 30000))), "domain", "check_signal_data_numeric",
        "not numbers"),
    Damage("sleep states as integers", _edit(lambda f: _replace_dataset(
        f, "intervals/sleep_states/sleep_state", np.arange(f["intervals/sleep_states/sleep_state"].shape[0]))),
           "schema", "DtypeError", "incorrect type"),
    Damage("NaN run in photometry", _edit(_nan_run), "domain", "check_nan_runs", "consecutive NaN samples"),
    Damage("timestamps step back", _edit(_timestamps_backwards), "domain", "check_timestamps_monotonic",
           "do not increase"),
    Damage("overlapping sleep states", _edit(_overlapping_states), "domain", "check_sleep_states_non_overlapping",
           "overlap"),
    Damage("unknown sleep state word", _edit(_sleep_state_word), "domain", "check_sleep_states_vocabulary",
           "dozing"),
    Damage("control channel out of range", _edit(_set_column(
        "general/fiber_photometry/fiber_photometry_table", "control_channel", 0, 7)), "domain",
        "check_photometry_control_channel_exists", "control_channel = 7"),
    Damage("excitation wavelength typo", _edit(_set_column(
        "general/fiber_photometry/fiber_photometry_table", "excitation_wavelength_in_nm", 0, 4650.0)), "domain",
        "check_photometry_excitation_wavelength_in_range", "4650"),
    Damage("negative infusion volume", _edit(_set_column("intervals/tracer_infusions", "volume_in_uL", 0, -10.0)),
           "domain", "check_infusion_volume_and_rate_positive", "must be > 0"),
    Damage("drug dose unit spelled mcg", _edit(_set_column("intervals/drug_administrations", "dose_unit", 0, "mcg")),
           "domain", "check_drug_dose_unit_known", "mcg"),
    Damage("EEG unit edited", _edit(lambda f: f["acquisition/EEG/data"].attrs.__setitem__("unit", "microvolts")),
           "domain", "check_eeg_emg_unit_and_conversion", "expected 'volts'"),
)


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
    assert len({damage.name for damage in CORPUS}) == len(CORPUS)


def test_base_file_is_conformant(base_file: Path) -> None:
    report = validate_file(path=base_file, readiness_checks=readiness_checks())
    assert report.is_conformant, report.format_text()
    assert report.layers["analysis"]["status"] == "ran"
    assert report.exit_code == 0


@pytest.mark.parametrize("damage", CORPUS, ids=[damage.name for damage in CORPUS])
def test_damaged_file_gets_its_specific_message(damage: Damage, base_file: Path, tmp_path: Path) -> None:
    path = damage.make(base_file, tmp_path / "damaged.nwb")
    report = validate_file(path=path, readiness_checks=readiness_checks())
    text = report.format_text()
    assert report.exit_code == damage.exit_code, text
    assert not report.is_conformant
    matching = [message for message in report.messages
                if message.layer == damage.layer and message.check == damage.check and damage.words in message.message]
    assert matching, f"expected [{damage.layer}] {damage.check} with {damage.words!r}:\n{text}"
    assert matching[0].hint, "every message says how to fix it"
    assert all(not message.check.endswith("_layer") for message in report.messages), text  # no layer crashed
    jsonschema.validate(reports_to_json(reports=[report], profile="all"), SCHEMA)


def test_links_leaving_the_file_are_never_followed(base_file: Path, tmp_path: Path) -> None:
    path = _external_link("sibling")(base_file, tmp_path / "linked.nwb")
    report = validate_file(path=path, readiness_checks=readiness_checks())
    assert report.layers["security"]["status"] == "ran"
    for layer in ("schema", "inspector", "domain", "dandi", "analysis"):
        assert report.layers[layer]["status"] == "skipped", layer
        assert "links leaving it" in report.layers[layer]["reason"]


def test_hdf5_crash_and_hang_stay_in_the_child_process(base_file: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With isolation, a segfault or a hang while validating one file is reported, and the run goes on."""
    import signal

    from ndx_glymphatic.validators import api

    crashing, hanging = tmp_path / "crash.nwb", tmp_path / "hang.nwb"
    for path in (crashing, hanging):
        _copy(base_file, path)
    original = api.validate_file

    def sabotaged(*, path: str | Path, profile: str = "all", readiness_checks: object = ()) -> object:
        if Path(path).name == "crash.nwb":
            os.kill(os.getpid(), signal.SIGSEGV)
        if Path(path).name == "hang.nwb":
            import time

            time.sleep(60)
        return original(path=path, profile=profile, readiness_checks=readiness_checks)

    monkeypatch.setattr(api, "validate_file", sabotaged)
    reports = validate_paths(paths=[crashing, hanging], profile="analysis", progress=False, timeout_in_s=5.0,
                             readiness_checks=readiness_checks())
    by_name = {Path(report.path).name: report for report in reports}
    assert by_name["crash.nwb"].exit_code == 1
    assert "crashed the HDF5 library (SIGSEGV)" in by_name["crash.nwb"].messages[0].message
    assert by_name["hang.nwb"].exit_code == 1
    assert "did not finish within 5 s" in by_name["hang.nwb"].messages[0].message


def test_folder_without_nwb_files_cannot_be_validated(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    reports = validate_paths(paths=[tmp_path], profile="all", progress=False)
    assert len(reports) == 1 and reports[0].exit_code == 2
    assert "without any .nwb file" in reports[0].messages[0].message
