"""Hostile and unlucky input: files reaching outside themselves, damaged TDT indexes, odd paths.

Each test builds its case and asserts the outcome: one line naming file, field, expected and found (exit 2),
or that the file outside the one named is never opened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest

from ndx_glymphatic.converters.doric import DoricFileReader
from ndx_glymphatic.converters.edf import read_edf_header
from ndx_glymphatic.converters.hdf5_safety import refuse_links_leaving_file, scan_links
from ndx_glymphatic.converters.tdt import TSQ_RECORD_DTYPE, TdtBlockReader
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation.rig_files.tdt import TdtStreamSource, write_tdt_block

GLYMPH = Path(sys.executable).parent / "glymph"
STRACE = shutil.which("strace")


def _write_outside(*, path: Path) -> Path:
    with h5py.File(path, "w") as handle:
        handle.create_dataset("g/d", data=np.arange(4.0))
    return path


# --------------------------------------------------------------------- link walk (no file opened)
def test_soft_link_through_external_link_is_reported_not_followed(tmp_path: Path) -> None:
    outside = _write_outside(path=tmp_path / "outside.h5")
    inside = tmp_path / "inside.h5"
    with h5py.File(inside, "w") as handle:
        handle.create_dataset("kept", data=[1.0])
        handle["hop"] = h5py.ExternalLink(str(outside), "/")
        handle["grp/through"] = h5py.SoftLink("/hop/g/d")
        handle["relative"] = h5py.SoftLink("hop/g")  # relative to the holding group
        handle["grp/dangling"] = h5py.SoftLink("/nothing/here")
        handle["grp/fine"] = h5py.SoftLink("/kept")
    outside.unlink()  # any attempt to follow would now fail loudly inside HDF5 instead of silently reading
    with h5py.File(inside, "r") as handle:
        scan = scan_links(h5file=handle)
    kinds = {item.location: item.kind for item in scan.leaving}
    assert kinds == {"/hop": "external link", "/grp/through": "soft link through an external link",
                     "/relative": "soft link through an external link"}
    assert scan.dangling == [("/grp/dangling", "/nothing/here")]


@pytest.fixture(scope="module")
def crafted_nwb_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A copy of a valid NWB file reaching outside twice: a soft link through an external link, and an
    external link under /specifications. Returns (crafted file, outside files)."""
    from test_validators_robustness import write_clean_session

    folder = tmp_path_factory.mktemp("hostile-nwb")
    # the clean file the validator test modules share in one pytest session, written once
    base = tmp_path_factory.getbasetemp() / "validators-clean-session.nwb"
    if not base.is_file():
        write_clean_session(path=base)
    crafted = folder / "crafted.nwb"
    shutil.copyfile(base, crafted)
    outside_soft = _write_outside(path=folder / "outside_soft.h5")
    outside_spec = _write_outside(path=folder / "outside_spec.h5")
    with h5py.File(crafted, "a") as handle:
        handle["general/hop"] = h5py.ExternalLink(str(outside_soft), "/")
        handle["analysis/through"] = h5py.SoftLink("/general/hop/g/d")
        handle["specifications/evil"] = h5py.ExternalLink(str(outside_spec), "/")
    return crafted, [outside_soft, outside_spec]


def _opened_files(*, command: list[str], cwd: Path) -> tuple[int, str, str]:
    trace = cwd / "trace.txt"
    # --seccomp-bpf stops the process only at the traced calls, which keeps the run near full speed
    result = subprocess.run(
        [STRACE, "-f", "-qq", "--seccomp-bpf", "-e", "trace=open,openat", "-o", str(trace), *command],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )
    return result.returncode, trace.read_text(), result.stdout + result.stderr


def test_the_witness_sees_hdf5_follow_a_link(crafted_nwb_file: tuple[Path, list[Path]], tmp_path: Path) -> None:
    """A plain h5py lookup of the soft link's target path opens the outside file, and strace sees it."""
    if STRACE is None:
        pytest.skip("strace is not installed: it is the witness of the files opened")
    crafted, outside = crafted_nwb_file
    script = f"import h5py; print('/general/hop/g/d' in h5py.File({str(crafted)!r}, 'r'))"
    code, trace, output = _opened_files(command=[sys.executable, "-c", script], cwd=tmp_path)
    assert code == 0 and "True" in output
    assert outside[0].name in trace


@pytest.mark.skipif(STRACE is None, reason="strace is not installed: it is the witness of the files opened")
@pytest.mark.parametrize("command", ["validate", "analyze", "organize"])
def test_tools_never_open_the_outside_file(
    command: str, crafted_nwb_file: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    crafted, outside = crafted_nwb_file
    arguments = {"validate": [str(crafted)], "analyze": [str(crafted), "-o", str(tmp_path / "out")],
                 "organize": [str(crafted), "-o", str(tmp_path / "dandiset")]}[command]
    code, trace, output = _opened_files(command=[str(GLYMPH), command, *arguments], cwd=tmp_path)
    assert code != 0, output
    assert "Traceback" not in output
    assert crafted.name in trace  # the witness sees the file that was named
    for other in outside:
        assert other.name not in trace, f"glymph {command} opened {other.name}"
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------- HDF5 rig files (.doric)
def _doric_with(*, path: Path, make_signal: object) -> Path:
    with h5py.File(path, "w") as handle:
        handle.create_group("Configurations")
        group = handle.create_group("DataAcquisition/FPConsole/Signals/Series0001/AnalogIn")
        group.create_dataset("Time", data=np.arange(100) / 10.0)
        make_signal(group)  # type: ignore[operator]
    return path


@pytest.mark.parametrize("kind", ["external storage", "virtual dataset", "external link"])
def test_doric_reaching_outside_is_refused(kind: str, tmp_path: Path) -> None:
    raw = tmp_path / "outside.bin"
    raw.write_bytes(np.arange(100, dtype="<f8").tobytes())
    outside = _write_outside(path=tmp_path / "outside.h5")

    def make_signal(group: h5py.Group) -> None:
        if kind == "external storage":
            group.create_dataset("AIN01", shape=(100,), dtype="<f8", external=[(str(raw), 0, 800)])
        elif kind == "virtual dataset":
            layout = h5py.VirtualLayout(shape=(4,), dtype="f8")
            layout[:] = h5py.VirtualSource(str(outside), "g/d", shape=(4,))
            group.create_virtual_dataset("AIN01", layout)
        else:
            group["AIN01"] = h5py.ExternalLink(str(outside), "g/d")

    path = _doric_with(path=tmp_path / "signal.doric", make_signal=make_signal)
    with pytest.raises(InputFileError) as excinfo:
        DoricFileReader(path=path)
    error = excinfo.value
    assert error.path == path and error.field == "/DataAcquisition/FPConsole/Signals/Series0001/AnalogIn/AIN01"
    assert kind in error.found and "\n" not in str(error)


def test_clean_hdf5_passes_the_rig_probe(tmp_path: Path) -> None:
    path = _doric_with(path=tmp_path / "clean.doric", make_signal=lambda g: g.create_dataset("AIN01", data=[0.0]))
    with h5py.File(path, "r") as handle:
        refuse_links_leaving_file(path=path, h5file=handle)  # raises on anything leaving the file


# --------------------------------------------------------------------- TDT index damage
@pytest.fixture(scope="module")
def tdt_block(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tdt")
    write_tdt_block(
        folder=folder, block_name="Hostile", start_time=datetime(2024, 5, 6, 22, 15, 30, tzinfo=timezone.utc),
        streams=[TdtStreamSource(code="465A", rate_in_Hz=1017.25, chunks=[np.zeros(5120, dtype=np.float32)])],
        show_progress=False,
    )
    return folder / "Hostile"


def _patched_block(*, block: Path, target: Path, patch: object) -> Path:
    shutil.copytree(block, target)
    tsq = next(target.glob("*.tsq"))
    records = np.fromfile(tsq, dtype=TSQ_RECORD_DTYPE)
    patch(records)  # type: ignore[operator]
    records.tofile(tsq)
    return target


def _stream_rows(records: np.ndarray) -> np.ndarray:
    return np.flatnonzero(records["code"] == int.from_bytes(b"465A", "little"))


def _set_rate(value: float) -> object:
    def patch(records: np.ndarray) -> None:
        records["frequency"][_stream_rows(records)] = value

    return patch


def _set_start(value: float) -> object:
    def patch(records: np.ndarray) -> None:
        records["timestamp"][1] = value

    return patch


def _stop_before_start(records: np.ndarray) -> None:
    records["timestamp"][-1] = records["timestamp"][1] - 10.0


def _first_packet(value: float) -> object:
    def patch(records: np.ndarray) -> None:
        records["timestamp"][_stream_rows(records)[0]] = value

    return patch


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        (_set_rate(0.0), "store 465A sampling rate"),
        (_set_rate(-1017.25), "store 465A sampling rate"),
        (_set_rate(float("nan")), "store 465A sampling rate"),
        (_set_rate(float("inf")), "store 465A sampling rate"),
        (_set_start(float("nan")), "record 1 (block start marker) timestamp"),
        (_set_start(1e300), "record 1 (block start marker) timestamp"),
        (_stop_before_start, "(block stop marker) timestamp"),
        (_first_packet(float("nan")), "store 465A first packet timestamp"),
        (_first_packet(1e300), "store 465A first packet timestamp"),
    ],
    ids=["rate0", "rate-negative", "rate-nan", "rate-inf", "start-nan", "start-1e300", "stop-before-start",
         "packet-nan", "packet-1e300"],
)
def test_damaged_tdt_index_is_one_line(patch: object, field: str, tdt_block: Path, tmp_path: Path) -> None:
    block = _patched_block(block=tdt_block, target=tmp_path / "Hostile", patch=patch)
    with pytest.raises(InputFileError) as excinfo:
        reader = TdtBlockReader(path=block)
        reader.streams()
    assert field in excinfo.value.field
    assert excinfo.value.path.suffix == ".tsq" and "\n" not in str(excinfo.value)


def test_undamaged_tdt_block_still_reads(tdt_block: Path) -> None:
    assert TdtBlockReader(path=tdt_block).streams()["_465A"].n_samples == 5120  # 20 packets of 256


def _repeat_packet_time(records: np.ndarray) -> None:
    rows = _stream_rows(records)
    records["timestamp"][rows[5]] = records["timestamp"][rows[4]]


def test_repeated_packet_times_are_refused_unless_allowed(tdt_block: Path, tmp_path: Path) -> None:
    block = _patched_block(block=tdt_block, target=tmp_path / "Hostile", patch=_repeat_packet_time)
    with pytest.raises(InputFileError) as excinfo:
        TdtBlockReader(path=block).streams()
    assert excinfo.value.field == "store 465A packet timestamps"
    assert "allow_repeated_packet_times" in excinfo.value.expected and "packet 5" in excinfo.value.found
    allowed = TdtBlockReader(path=block, allow_repeated_packet_times=True)
    assert allowed.streams()["_465A"].n_samples == 5120
    assert any("not following the previous one" in note for note in allowed.notes)


def test_the_session_file_option_reaches_the_tdt_reader(tdt_block: Path) -> None:
    from types import SimpleNamespace

    from ndx_glymphatic.converters.plan import photometry_reader_options
    from ndx_glymphatic.converters.registry import open_rig_reader
    from ndx_glymphatic.session import PhotometryConfig

    assert PhotometryConfig.model_fields["allow_repeated_packet_times"].default is False
    for allowed in (True, False):
        section = SimpleNamespace(digital_input_files=(), led_order=None, series=None,
                                  allow_repeated_packet_times=allowed)
        reader = open_rig_reader(format="tdt", path=tdt_block, options=photometry_reader_options(photometry=section))
        assert reader.allow_repeated_packet_times is allowed


# --------------------------------------------------------------------- what a path is
@pytest.mark.parametrize("kind", ["fifo", "directory", "device", "loop", "missing"])
def test_rig_path_says_what_was_found(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "rig.edf"
    if kind == "fifo":
        os.mkfifo(path)  # opening it for reading would block: the reader must not
    elif kind == "directory":
        path.mkdir()
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "loop":
        os.symlink(tmp_path / "other.edf", path)
        os.symlink(path, tmp_path / "other.edf")
    expected = {"fifo": "a FIFO", "directory": "a directory", "device": "a character device",
                "loop": "a loop of symbolic links", "missing": "no such file"}[kind]
    with pytest.raises(InputFileError) as excinfo:
        read_edf_header(path=path)
    assert excinfo.value.field == "file" and excinfo.value.found.startswith(expected)


@pytest.mark.parametrize("kind", ["fifo", "loop"])
def test_tdt_block_path_says_what_was_found(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "Block"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink(tmp_path / "Other", path)
        os.symlink(path, tmp_path / "Other")
    with pytest.raises(InputFileError) as excinfo:
        TdtBlockReader(path=path)
    assert excinfo.value.field == "block folder"
    assert excinfo.value.found == {"fifo": "a FIFO (named pipe)", "loop": "a loop of symbolic links"}[kind]


@pytest.mark.parametrize("kind", ["fifo", "loop", "missing"])
def test_session_file_path_says_what_was_found(kind: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ndx_glymphatic.cli import main

    path = tmp_path / "session.yaml"
    if kind == "fifo":
        os.mkfifo(path)  # reading it would block until a writer comes: it must not be opened
    elif kind == "loop":
        os.symlink(tmp_path / "other.yaml", path)
        os.symlink(path, tmp_path / "other.yaml")
    expected = {"fifo": "got a FIFO (named pipe)", "loop": "got a loop of symbolic links",
                "missing": "got no such file"}[kind]
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["convert", str(path), "-o", str(tmp_path / "out.nwb")])
    assert time.perf_counter() - started < 30
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not (tmp_path / "out.nwb").exists()


# --------------------------------------------------------------------- session files
@pytest.fixture()
def session_folder(tmp_path: Path) -> tuple[Path, dict]:
    """The packaged example session with stand-in rig paths (their content is not read here)."""
    from importlib.resources import files

    import yaml

    document = yaml.safe_load((files("ndx_glymphatic") / "session_example.yaml").read_text())
    (tmp_path / "rig" / "Mouse12-250314-090000").mkdir(parents=True)
    (tmp_path / "rig" / "Mouse12_eeg.edf").touch()
    (tmp_path / "rig" / "Mouse12_sleepscore.xlsx").touch()
    return tmp_path, document


def _problems_of(*, folder: Path, text: str, suffix: str = ".yaml") -> tuple[list[str], float]:
    from ndx_glymphatic.session import validate_session_file

    path = folder / f"session{suffix}"
    path.write_text(text)
    started = time.perf_counter()
    problems = validate_session_file(path=path)
    return problems, time.perf_counter() - started


def test_example_session_is_still_valid(session_folder: tuple[Path, dict]) -> None:
    import yaml

    folder, document = session_folder
    assert _problems_of(folder=folder, text=yaml.safe_dump(document))[0] == []


@pytest.mark.parametrize(("text", "field"), [(".nan", "infusions[0].start_time_in_s"),
                                             (".inf", "infusions[0].start_time_in_s")])
def test_non_finite_numbers_are_refused(text: str, field: str, session_folder: tuple[Path, dict]) -> None:
    import yaml

    folder, document = session_folder
    document["infusions"][0]["start_time_in_s"] = "PLACEHOLDER"
    problems, _ = _problems_of(folder=folder, text=yaml.safe_dump(document).replace("PLACEHOLDER", text))
    assert f"{field}: expected a finite number, got" in "\n".join(problems)


def test_non_finite_json_number_is_refused(session_folder: tuple[Path, dict]) -> None:
    import json

    folder, document = session_folder
    document["drugs"][0]["time_in_s"] = float("nan")
    problems, _ = _problems_of(folder=folder, text=json.dumps(document, default=str), suffix=".json")
    assert "drugs[0].time_in_s: expected a finite number, got nan" in problems


def test_birth_after_session_is_refused(session_folder: tuple[Path, dict]) -> None:
    import yaml

    folder, document = session_folder
    document["subject"]["date_of_birth"] = "2030-01-01"
    problems, _ = _problems_of(folder=folder, text=yaml.safe_dump(document))
    assert problems == ["subject.date_of_birth: expected a date on or before session.session_start_time "
                        "(2025-03-14), got 2030-01-01"]


_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join([f'*{chr(97 + level)}'] * 10)}]\n" for level in range(8)
) + "subject: {subject_id: *i}\n"


@pytest.mark.parametrize(
    ("text", "suffix", "expected"),
    [
        ("[" * 5000 + "]" * 5000, ".json", "nested at most 50 deep"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", ".yaml", "nested at most 50 deep"),
        ("a:\n" + "".join("  " * (depth + 1) + f"k{depth}:\n" for depth in range(500)), ".yaml",
         "nested at most 50 deep"),
        (_BOMB, ".yaml", "at most 100000 values"),
        ("a:\n" + "- 1\n" * 13_000_000, ".yaml", "at most 1000000 bytes, got 52000003 bytes"),
    ],
    ids=["json-deep", "yaml-flow-deep", "yaml-block-deep", "alias-bomb", "50MB-list"],
)
def test_hostile_session_text_fails_fast(text: str, suffix: str, expected: str, tmp_path: Path) -> None:
    problems, elapsed_in_s = _problems_of(folder=tmp_path, text=text, suffix=suffix)
    assert len(problems) == 1 and expected in problems[0], problems
    assert elapsed_in_s < 1.0


# --------------------------------------------------------------------- EDF record count
@pytest.fixture(scope="module")
def edf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ndx_glymphatic.simulation.rig_files.edf import EdfSignalSource, write_edf

    path = tmp_path_factory.mktemp("edf") / "rig.edf"
    write_edf(path=path, signals=[EdfSignalSource(label="EEG EEG1A-B", rate_in_Hz=100, chunks=[np.ones(1000)])],
              start_time=datetime(2024, 1, 1), show_progress=False)
    return path


def _with_record_count(*, source: Path, target: Path, n_records: int | None, append: bytes = b"") -> Path:
    content = bytearray(source.read_bytes())
    if n_records is not None:
        content[236:244] = f"{n_records:<8d}".encode()
    target.write_bytes(bytes(content) + append)
    return target


@pytest.mark.parametrize("case", ["fewer declared", "truncated", "partial record"])
def test_edf_record_count_must_match_file_size(case: str, edf_file: Path, tmp_path: Path) -> None:
    import pyedflib

    from ndx_glymphatic.converters.edf import EdfReader

    declared = int(edf_file.read_bytes()[236:244])
    if case == "fewer declared":
        path = _with_record_count(source=edf_file, target=tmp_path / "x.edf", n_records=declared - 3)
        with pyedflib.EdfReader(str(path)) as oracle:  # the official reader silently reads only the header's count
            assert oracle.getNSamples()[0] == 100 * (declared - 3)
    elif case == "truncated":
        path = _with_record_count(source=edf_file, target=tmp_path / "x.edf", n_records=declared + 2)
    else:
        path = _with_record_count(source=edf_file, target=tmp_path / "x.edf", n_records=None, append=b"\0" * 10)
    with pytest.raises(InputFileError) as excinfo:
        EdfReader(path=path)
    error = excinfo.value
    assert "\n" not in str(error)
    if case == "truncated":  # pyedflib's own size check names it first
        assert error.field == "file size" and f"{declared + 2} data records" in error.expected
        return
    assert error.field == "number of data records (header bytes 236-243)"
    assert f"{declared} whole records" in error.expected


def test_edf_with_matching_record_count_reads(edf_file: Path) -> None:
    from ndx_glymphatic.converters.edf import EdfReader

    with EdfReader(path=edf_file) as reader:
        assert reader.streams()["EEG"].n_samples == 1000
