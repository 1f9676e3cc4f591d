"""Corrupted or edited files are errors, never notes (issue 9): each case is built here and validated.

Edits made with h5py rewrite the checksums, so these files are "crafted": only the validator's checks can
tell. Byte-level damage (checksums failing) is the fuzz test's part (test_fuzz_corruption.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from ndx_glymphatic.cli import main
from ndx_glymphatic.validators import validate_file


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session
    from ndx_glymphatic.simulation.nwb import write_session_nwb

    parameters = SimulationParameters(
        duration_in_s=600.0, seed=4, photometry_rate_in_Hz=20.0, ephys_rate_in_Hz=128.0, vasomotion_start_in_s=100.0,
        lc_stimulation_onsets_in_s=(150.0, 450.0), drug_time_in_s=60.0,
    )
    path = tmp_path_factory.mktemp("corruption") / "clean.nwb"
    return write_session_nwb(session=simulate_session(parameters=parameters), path=path)


def _edited(clean: Path, target: Path, edit: object) -> Path:
    shutil.copyfile(clean, target)
    with h5py.File(target, "r+") as h5file:
        edit(h5file)  # type: ignore[operator]
    return target


def _errors(path: Path) -> dict[str, str]:
    report = validate_file(path=path, profile="analysis")
    return {message.check: message.message for message in report.messages if message.severity == "error"}


def test_the_clean_file_is_conformant(clean: Path) -> None:
    assert _errors(clean) == {}


def test_a_series_whose_type_attribute_lost_its_name_is_an_error(clean: Path, tmp_path: Path) -> None:
    def rename(h5file: h5py.File) -> None:
        attributes = h5file["acquisition/csf_tracer_650nm"].attrs
        attributes["newrodata_type"] = attributes["neurodata_type"]
        del attributes["neurodata_type"]

    errors = _errors(_edited(clean, tmp_path / "renamed.nwb", rename))
    assert "/acquisition/csf_tracer_650nm has" in errors["check_stored_objects_read"]
    assert "no ['neurodata_type'] attribute" in errors["check_stored_objects_read"]
    assert "row 3 of the channel table" in errors["check_photometry_channel_has_series"]


def _as_float64(h5file: h5py.File) -> None:
    name = "acquisition/csf_tracer_650nm/data"
    values, attributes = h5file[name][:], dict(h5file[name].attrs)
    del h5file[name]
    h5file.create_dataset(name, data=values.astype(np.float64) * 1e9, chunks=True, fletcher32=True)
    h5file[name].attrs.update(attributes)


def test_a_series_not_stored_as_written_is_an_error(clean: Path, tmp_path: Path) -> None:
    errors = _errors(_edited(clean, tmp_path / "float64.nwb", _as_float64))
    assert "stored as <f8 (float64), expected float32" in errors["check_series_stored_as_written"]

    def set_unit(h5file: h5py.File) -> None:
        h5file["acquisition/ne_465nm/data"].attrs["unit"] = "mV"

    errors = _errors(_edited(clean, tmp_path / "unit.nwb", set_unit))
    assert "unit is 'mV'" in errors["check_series_stored_as_written"]

    def eeg_as_int16(h5file: h5py.File) -> None:
        name = "acquisition/EEG/data"
        values, attributes = h5file[name][:], dict(h5file[name].attrs)
        del h5file[name]
        h5file.create_dataset(name, data=values.astype(np.int16), chunks=True)
        h5file[name].attrs.update(attributes)

    errors = _errors(_edited(clean, tmp_path / "int16.nwb", eeg_as_int16))
    assert "stored as <i2 (int16)" in errors["check_eeg_emg_stored_as_written"]


def test_an_edited_cached_specification_is_an_error(clean: Path, tmp_path: Path) -> None:
    def edit(h5file: h5py.File) -> None:
        name = "specifications/core/2.11.0/nwb.ophys"
        text = h5file[name][()].decode()
        assert "\"doc\":\"" in text
        del h5file[name]
        h5file[name] = text.replace('"doc":"', '"doc":"Edited. ', 1)

    errors = _errors(_edited(clean, tmp_path / "spec.nwb", edit))
    assert "core/2.11.0/nwb.ophys differs from the published core/2.11.0" in errors[
        "check_cached_specifications_intact"]


def _damage_first_chunk(*, clean: Path, target: Path, name: str) -> Path:
    with h5py.File(clean, "r") as h5file:
        offset = h5file[name].id.get_chunk_info(0).byte_offset
    data = bytearray(clean.read_bytes())
    data[offset + 40] ^= 0x01
    target.write_bytes(bytes(data))
    return target


def test_verify_reports_the_first_corrupt_chunk(clean: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(clean), "--verify", "--no-progress", "--no-isolation",
                                  "--profile", "analysis"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    damaged = _damage_first_chunk(clean=clean, target=tmp_path / "damaged.nwb", name="acquisition/EMG/data")
    result = runner.invoke(main, ["validate", str(damaged), "--verify", "--no-progress", "--no-isolation",
                                  "--profile", "analysis", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 1
    (report,) = json.loads(result.output)["files"]
    (verified,) = [message for message in report["messages"] if message["check"] == "verify_every_chunk"]
    assert verified["location"] == "/acquisition/EMG/data"
    assert "chunk at offset (0,)" in verified["message"] and verified["severity"] == "error"
