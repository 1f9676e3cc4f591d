"""Bad input to `glymph convert`: one clear error (file, field, expected, found), exit code 2, no traceback,
and never an output file (not even a partial one) -- across session files, every rig format and outputs."""

from __future__ import annotations

import copy
import shutil
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from ndx_glymphatic.cli import main
from ndx_glymphatic.simulation import SimulationParameters, simulate_session
from ndx_glymphatic.simulation.rig_files.edf import EdfSignalSource, write_edf
from ndx_glymphatic.simulation.rig_files.session import write_rig_session

PARAMETERS = SimulationParameters(duration_in_s=600.0, seed=5, lc_stimulation_onsets_in_s=(200.0, 450.0))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, dict]:
    """A valid simulated TDT + EDF + hypnogram session (two photometry channels); paths made absolute."""
    folder = tmp_path_factory.mktemp("base_session")
    write_rig_session(session=simulate_session(parameters=PARAMETERS), outdir=folder, format="tdt",
                      photometry_channels=("ne_465nm", "ne_isosbestic_405nm"))
    document = yaml.safe_load((folder / "session.yaml").read_text())
    for section in ("photometry", "electrophysiology", "hypnogram"):
        document[section]["file"] = str(folder / document[section]["file"])
    return folder, document


class Case:
    """A session in its own folder: edit the document, damage copies of rig files, run the CLI."""

    def __init__(self, *, base: tuple[Path, dict], folder: Path) -> None:
        self.base_folder, document = base
        self.document = copy.deepcopy(document)
        self.folder = folder
        self.output_folder = folder / "out"
        self.output_folder.mkdir()
        self.output = self.output_folder / "session.nwb"

    def copy_rig(self, section: str) -> Path:
        """Copy the rig file (or block folder) of a section into this case and point the session at the copy."""
        source = Path(self.document[section]["file"])
        target = self.folder / source.name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
        self.document[section]["file"] = str(target)
        return target

    def run(self, *extra: str, session_text: str | None = None):
        session = self.folder / "session.yaml"
        session.write_text(session_text if session_text is not None else yaml.safe_dump(self.document))
        return CliRunner().invoke(main, ["convert", str(session), "-o", str(self.output), "--no-progress", *extra])


@pytest.fixture()
def case(base, tmp_path: Path) -> Case:
    return Case(base=base, folder=tmp_path)


def _assert_refused(case: Case, result, *fragments: str) -> None:
    """Exit code 2, one error line naming what went wrong, no traceback, nothing written."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ")
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)
    assert sorted(p.name for p in case.output_folder.iterdir()) == [], "an output file was left behind"


def test_the_valid_base_session_converts(case: Case) -> None:
    result = case.run()
    assert result.exit_code == 0, result.output
    assert case.output.is_file()


# ------------------------------------------------------------------------------------ session file
def test_yaml_syntax_error(case: Case) -> None:
    result = case.run(session_text="subject: {subject_id: m1\nsession: [\n")
    _assert_refused(case, result, "session.yaml: session file has 1 problem", "expected valid YAML, got a syntax error")


def test_wavelength_given_as_text(case: Case) -> None:
    case.document["photometry"]["channels"][1]["excitation_wavelength_in_nm"] = "405nm"
    _assert_refused(case, case.run(),
                    'photometry.channels[1].excitation_wavelength_in_nm: expected a number, got "405nm"')


def test_control_channel_that_does_not_exist(case: Case) -> None:
    case.document["photometry"]["channels"][0]["control_channel"] = "ne_isosbestic_415nm"
    _assert_refused(case, case.run(), "photometry.channels[0].control_channel: expected the name of another "
                    "photometry channel whose channel_role is a control ('ne_isosbestic_405nm'), got "
                    '"ne_isosbestic_415nm"')


def test_several_session_problems_are_listed_together(case: Case) -> None:
    del case.document["subject"]["age"]
    case.document["session"]["session_start_time"] = "2025-01-15T08:00:00"
    case.document["drugs"][0]["dose_unit"] = "mg per kg"
    _assert_refused(case, case.run(), "session file has 3 problems", "subject.age: expected a value (required)",
                    "session.session_start_time: expected an ISO 8601 date and time with a time zone",
                    'drugs[0].dose_unit: expected one of "mg/kg"')


def test_rig_file_named_in_the_session_is_missing(case: Case) -> None:
    case.document["electrophysiology"]["file"] = str(case.folder / "missing.edf")
    _assert_refused(case, case.run(), 'electrophysiology.file: expected an existing file or folder, got "')


# ----------------------------------------------------------------------------- session vs rig files
def test_unknown_store_name(case: Case) -> None:
    case.document["photometry"]["channels"][0]["stream"] = "_470A"
    _assert_refused(case, case.run(), "stream '_470A' (session photometry.channels[0].stream): expected a stream "
                    "of this TDT Synapse block file: '_465A', '_405A', found no such stream")


def test_stream_channel_out_of_range(case: Case) -> None:
    case.document["photometry"]["channels"][1]["stream_channel"] = 1
    _assert_refused(case, case.run(), "stream '_405A' channel 1", "expected a channel index below 1",
                    "found 1")


def test_eeg_label_the_edf_lacks(case: Case) -> None:
    case.document["electrophysiology"]["channels"][1]["stream"] = "EEG EEG3A-B"
    _assert_refused(case, case.run(), "_eeg.edf: stream 'EEG EEG3A-B' (session electrophysiology.channels[1].stream)",
                    "expected a stream of this EDF/EDF+ file: 'EEG', 'EMG'")


def _write_edf_without_ttl(path: Path, *, eeg2_rate_in_Hz: float = 512.0) -> Path:
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_edf(path=path, start_time=datetime(2025, 1, 15, 8, 0, 0), signals=[
            EdfSignalSource(label="EEG EEG1A-B", rate_in_Hz=512.0, chunks=[rng.normal(0, 50, 512 * 60)]),
            EdfSignalSource(label="EEG EEG2A-B", rate_in_Hz=eeg2_rate_in_Hz,
                            chunks=[rng.normal(0, 50, int(eeg2_rate_in_Hz) * 60)]),
            EdfSignalSource(label="EMG EMG", rate_in_Hz=512.0, chunks=[rng.normal(0, 20, 512 * 60)]),
        ])
    return path


def test_edf_without_the_sync_ttl(case: Case) -> None:
    case.document["electrophysiology"]["file"] = str(_write_edf_without_ttl(case.folder / "no_ttl.edf"))
    _assert_refused(case, case.run(), "no_ttl.edf: event channel 'TTL' (session electrophysiology.clock_alignment."
                    "secondary_ttl_channel): expected an event channel of this EDF/EDF+ file: none")


def test_mismatched_sampling_rates_eeg_only(base, tmp_path: Path) -> None:
    case = Case(base=base, folder=tmp_path)
    path = _write_edf_without_ttl(case.folder / "mixed_rates.edf", eeg2_rate_in_Hz=256.0)
    ephys = case.document["electrophysiology"]
    ephys["file"] = str(path)
    del ephys["clock_alignment"]
    ephys["channels"][0] = {**ephys["channels"][0], "stream": "EEG EEG1A-B"}
    ephys["channels"][1] = {**ephys["channels"][1], "stream": "EEG EEG2A-B"}
    for channel in ephys["channels"][:2]:
        channel.pop("stream_channel", None)
    for key in ("photometry", "hypnogram", "optogenetics", "tracers", "infusions", "indicators"):
        case.document.pop(key, None)
    _assert_refused(case, case.run(), "mixed_rates.edf: sampling rates of the EEG channels",
                    "expected one regular sampling rate for every channel of the EEG series",
                    "found EEG1: 512.0 Hz, EEG2: 256.0 Hz")


def test_tdt_block_missing_its_tev(case: Case) -> None:
    block = case.copy_rig("photometry")
    next(block.glob("*.tev")).unlink()
    _assert_refused(case, case.run(), ".tev: stream data of store 465A (_465A): expected the .tev data file beside "
                    "the .tsq index, found no such file")


def test_truncated_tev(case: Case) -> None:
    block = case.copy_rig("photometry")
    tev = next(block.glob("*.tev"))
    with tev.open("r+b") as handle:
        handle.truncate(tev.stat().st_size // 2)
    _assert_refused(case, case.run(), ".tev: store 465A (_465A) packets", "(the .tev is truncated)")


def test_truncated_tsq(case: Case) -> None:
    block = case.copy_rig("photometry")
    tsq = next(block.glob("*.tsq"))
    with tsq.open("r+b") as handle:
        handle.truncate(tsq.stat().st_size - 13)
    _assert_refused(case, case.run(), ".tsq: file size: expected a multiple of 40 bytes", "the file is truncated")


def test_tsq_without_block_start_marker(case: Case) -> None:
    block = case.copy_rig("photometry")
    tsq = next(block.glob("*.tsq"))
    raw = bytearray(tsq.read_bytes())
    raw[40 + 8 : 40 + 12] = (7).to_bytes(4, "little")
    tsq.write_bytes(bytes(raw))
    _assert_refused(case, case.run(), ".tsq: record 1 (block start marker): expected code 1, found code 7")


def test_edf_with_a_garbage_header(case: Case) -> None:
    edf = case.copy_rig("electrophysiology")
    edf.write_bytes(b"this is not an EDF file" * 20)
    _assert_refused(case, case.run(), edf.name, "expected")


def test_truncated_edf(case: Case) -> None:
    edf = case.copy_rig("electrophysiology")
    with edf.open("r+b") as handle:
        handle.truncate(edf.stat().st_size // 3)
    _assert_refused(case, case.run(), edf.name, "expected")


def test_ttl_pulses_that_do_not_match(case: Case) -> None:
    path = case.folder / "other_ttl.edf"
    rng = np.random.default_rng(1)
    rises = np.sort(rng.uniform(1.0, 590.0, 80))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_edf(path=path, start_time=datetime(2025, 1, 15, 8, 0, 0), ttl_rise_times_in_s=rises,
                  ttl_fall_times_in_s=rises + 0.05, signals=[
                      EdfSignalSource(label=label, rate_in_Hz=512.0, chunks=[rng.normal(0, 50, 512 * 590)])
                      for label in ("EEG EEG1A-B", "EEG EEG2A-B", "EMG EMG")])
    case.document["electrophysiology"]["file"] = str(path)
    _assert_refused(case, case.run(), "other_ttl.edf: TTL pulses of", "channel 'TTL' matched against",
                    "channel 'PtC0'", "expected at least")


def test_primary_ttl_channel_missing(case: Case) -> None:
    case.document["electrophysiology"]["clock_alignment"]["primary_ttl_channel"] = "PtC9"
    _assert_refused(case, case.run(), "event channel 'PtC9' (session electrophysiology.clock_alignment."
                    "primary_ttl_channel): expected an event channel of this TDT Synapse block file: 'PtC0', 'Pu1_'")


def test_secondary_ttl_channel_missing(case: Case) -> None:
    case.document["electrophysiology"]["clock_alignment"]["secondary_ttl_channel"] = "Sync"
    _assert_refused(case, case.run(), "_eeg.edf: event channel 'Sync'", "expected an event channel of this EDF/EDF+ "
                    "file: 'TTL'")


def test_hypnogram_beyond_the_recording(case: Case) -> None:
    source = Path(case.document["hypnogram"]["file"])
    rows = source.read_text().splitlines()
    shifted = rows[:2] + [",".join(str(float(cell) + 5000.0) if cell and i % 2 == 0 else cell
                                   for i, cell in enumerate(row.split(","))) for row in rows[2:]]
    target = case.folder / "late_hypnogram.csv"
    target.write_text("\n".join(shifted) + "\n")
    case.document["hypnogram"]["file"] = str(target)
    _assert_refused(case, case.run(), "late_hypnogram.csv: scored intervals: expected times within the recording, "
                    "0.000 s to 599.", "found times from 500")


def test_hypnogram_that_is_not_a_state_table(case: Case) -> None:
    target = case.folder / "garbage.csv"
    target.write_text("hello,world\n1,2\n")
    case.document["hypnogram"]["file"] = str(target)
    _assert_refused(case, case.run(), "garbage.csv")


def test_stimulation_ttl_channel_missing(case: Case) -> None:
    case.document["optogenetics"]["lc_stimulation"]["from_ttl"]["event_channel"] = "Pu9_"
    _assert_refused(case, case.run(), "event channel 'Pu9_' (session optogenetics.lc_stimulation.from_ttl."
                    "event_channel)")


def test_infusion_beyond_the_recording(case: Case) -> None:
    case.document["infusions"][0].update(start_time_in_s=5000.0, stop_time_in_s=5300.0)
    _assert_refused(case, case.run(), "session.yaml: infusions[0] start_time_in_s / stop_time_in_s: expected times "
                    "within the recording", "found times from 5000.000 s to 5300.000 s")


def test_drug_after_the_recording(case: Case) -> None:
    case.document["drugs"][0]["time_in_s"] = 9000.0
    _assert_refused(case, case.run(), "drugs[0].time_in_s: expected a time before the end of the recording")


# --------------------------------------------------------------------------------- other formats
def _photometry_as(case: Case, *, rig_format: str, path: Path, streams: tuple[str, str]) -> None:
    photometry = case.document["photometry"]
    photometry.update(format=rig_format, file=str(path))
    for channel, stream in zip(photometry["channels"], streams):
        channel["stream"] = stream
    case.document.pop("electrophysiology")
    case.document.pop("hypnogram")
    case.document["optogenetics"].pop("lc_stimulation")


def test_doric_file_that_is_not_hdf5(case: Case) -> None:
    path = case.folder / "rec.doric"
    path.write_bytes(b"\x00" * 1000)
    _photometry_as(case, rig_format="doric", path=path, streams=("LockInAOUT01/AIN01", "LockInAOUT02/AIN01"))
    _assert_refused(case, case.run(), "rec.doric: file: expected an HDF5 (.doric) file")


def test_doric_file_without_doric_layout(case: Case) -> None:
    path = case.folder / "rec.doric"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("something/else", data=np.zeros(3))
    _photometry_as(case, rig_format="doric", path=path, streams=("LockInAOUT01/AIN01", "LockInAOUT02/AIN01"))
    _assert_refused(case, case.run(), "rec.doric: top-level groups: expected 'DataAcquisition'", "found ['something']")


def test_ppd_with_truncated_header(case: Case) -> None:
    path = case.folder / "rec.ppd"
    path.write_bytes((500).to_bytes(2, "little") + b'{"mode": "2EX')
    _photometry_as(case, rig_format="ppd", path=path, streams=("analog_1", "analog_2"))
    _assert_refused(case, case.run(), "rec.ppd: header length (bytes 0-1): expected a JSON header of 500 bytes")


def test_npm_csv_that_is_empty(case: Case) -> None:
    path = case.folder / "raw_photometry.csv"
    path.write_text("")
    _photometry_as(case, rig_format="npm", path=path, streams=("G0@470", "G0@415"))
    _assert_refused(case, case.run(), "raw_photometry.csv: first row: expected a header row or data, "
                    "found an empty file")


def test_rig_file_of_another_format(case: Case) -> None:
    edf = Path(case.document["electrophysiology"]["file"])
    _photometry_as(case, rig_format="ppd", path=edf, streams=("analog_1", "analog_2"))
    _assert_refused(case, case.run(), f"{edf.name}: header", "expected")


# ----------------------------------------------------------------------------------------- output
@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda case: case.output.mkdir(), "session.nwb: output path: expected a file path, found a directory"),
        (lambda case: case.output.write_bytes(b"old"),
         "session.nwb: output path: expected a path that does not exist yet, found an existing file "
         "(pass --overwrite to replace it)"),
    ],
)
def test_output_path_problems(case: Case, prepare: Callable[[Case], None], expected: str) -> None:
    prepare(case)
    before = sorted(p.name for p in case.output_folder.iterdir())
    result = case.run()
    assert result.exit_code == 2 and "Traceback" not in result.output and expected in result.output, result.output
    assert sorted(p.name for p in case.output_folder.iterdir()) == before
    if case.output.is_file():
        assert case.output.read_bytes() == b"old"


def test_output_name_without_nwb_suffix(case: Case) -> None:
    case.output = case.output_folder / "session.h5"
    _assert_refused(case, case.run(), "session.h5: output path: expected a file name ending in .nwb")
