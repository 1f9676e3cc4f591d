"""Outputs are never lost, never partial, never silently replaced and never written outside their folder.

Real processes are killed (SIGTERM, SIGKILL) in the middle of ``glymph convert``, two conversions race
for one destination, a file-size limit makes a real write fail, and a symlinked ``sub-*`` folder tries
to lead ``glymph organize`` outside its dandiset folder.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner

from ndx_glymphatic import io as output_io
from ndx_glymphatic.batch import size_in_bytes
from ndx_glymphatic.cli import main
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.io import (
    OUTPUT_MANIFEST_NAME,
    atomic_output_dir,
    atomic_output_path,
    partial_owner_tag,
    remove_stale_partials,
)
from ndx_glymphatic.simulation import SimulationParameters, simulate_session
from ndx_glymphatic.simulation.rig_files.session import write_rig_session

GLYMPH = [sys.executable, "-c", "from ndx_glymphatic.cli import main; main()"]


@pytest.fixture(scope="module")
def rig_session(tmp_path_factory) -> Path:
    """A simulated TDT session long enough (a second or more of writing) to be killed mid-write."""
    folder = tmp_path_factory.mktemp("rig")
    session = simulate_session(parameters=SimulationParameters(duration_in_s=900.0, seed=3))
    write_rig_session(session=session, outdir=folder, format="tdt")
    return folder / "session.yaml"


def _partials(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.name.endswith(".partial"))


def _start_convert(*, session: Path, output: Path) -> subprocess.Popen:
    return subprocess.Popen([*GLYMPH, "convert", str(session), "-o", str(output), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_partial(*, process: subprocess.Popen, folder: Path) -> Path:
    """The first partial that holds bytes: the empty file ``mkstemp`` makes to reserve a name is removed again."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [path for path in _partials(folder) if size_in_bytes(source=str(path)) > 0]
        if found:
            return found[0]
        assert process.poll() is None, f"convert ended before writing: {process.communicate()}"
        time.sleep(0.005)
    process.kill()
    raise AssertionError("no partial file appeared")


def _assert_nwb_file(path: Path) -> None:
    with h5py.File(path, "r") as file:
        assert file.attrs["nwb_version"]
        assert file["acquisition"]["ne_465nm"]["data"].shape[0] > 0


def test_sigterm_during_convert_removes_the_partial_and_exits_143(rig_session: Path, tmp_path: Path) -> None:
    process = _start_convert(session=rig_session, output=tmp_path / "out.nwb")
    _wait_for_partial(process=process, folder=tmp_path)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert stderr.strip().splitlines() == ["error: stopped by SIGTERM; partial outputs removed"]
    assert list(tmp_path.iterdir()) == []


def test_a_rerun_removes_the_partial_of_a_killed_run_and_writes_a_valid_file(rig_session: Path,
                                                                             tmp_path: Path) -> None:
    output = tmp_path / "out.nwb"
    process = _start_convert(session=rig_session, output=output)
    partial = _wait_for_partial(process=process, folder=tmp_path)
    process.kill()  # SIGKILL cannot be caught: the partial stays
    process.communicate(timeout=60)
    assert partial.exists() and partial.name.startswith(".out.nwb.glymph-")
    other_destination = tmp_path / f".other.nwb.{partial_owner_tag(pid=process.pid)}-x.partial"
    other_destination.write_bytes(b"")  # a dead run's partial, but of another destination: not ours to remove
    from ndx_glymphatic.converters.convert import convert_session

    convert_session(session_path=rig_session, output_path=output, progress=False)
    assert not partial.exists()
    assert other_destination.exists()
    assert _partials(tmp_path) == [other_destination]
    _assert_nwb_file(output)


def test_only_partials_whose_owner_is_dead_are_removed(tmp_path: Path) -> None:
    destination = tmp_path / "out.nwb"
    live = subprocess.Popen(["sleep", "60"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        live_partial = tmp_path / f".out.nwb.{partial_owner_tag(pid=live.pid)}-abc.partial"
        dead_partial = tmp_path / f".out.nwb.{partial_owner_tag(pid=dead.pid)}-abc.partial"
        dead_folder = tmp_path / f".out.nwb.{partial_owner_tag(pid=dead.pid)}-old.partial"
        foreign = tmp_path / f".out.nwb.glymph-otherhost-{dead.pid}-1-abc.partial"
        # the pid of a live process, but another start time: the recorded owner died and the pid was reused
        reused = tmp_path / f".out.nwb.glymph-{partial_owner_tag().split('-')[1]}-{live.pid}-1-abc.partial"
        not_ours = tmp_path / ".out.nwb.abc123.partial"  # no owner recorded (not written by this version)
        for path in (live_partial, dead_partial, foreign, reused, not_ours):
            path.write_bytes(b"x")
        dead_folder.mkdir()
        (dead_folder / "metrics.json").write_text("{}")
        removed = remove_stale_partials(destination=destination)
        assert sorted(removed) == sorted([dead_partial, dead_folder, reused])
        assert live_partial.exists() and foreign.exists() and not_ours.exists()
    finally:
        live.kill()
        live.wait()


def test_two_concurrent_converts_to_one_destination_exactly_one_wins(rig_session: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.nwb"
    processes = [_start_convert(session=rig_session, output=output) for _ in range(2)]
    results = [(process.wait(timeout=180), process.communicate()[1]) for process in processes]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(stderr for code, stderr in results if code == 2)
    assert len(loser.strip().splitlines()) == 1 and str(output) in loser
    assert "Traceback" not in loser
    assert _partials(tmp_path) == []
    _assert_nwb_file(output)


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "link-unlink"])
def test_a_file_that_appears_during_the_write_is_kept(tmp_path: Path, monkeypatch, renameat2: bool) -> None:
    if not renameat2:
        monkeypatch.setattr(output_io, "_renameat2", lambda **_: False)
    destination = tmp_path / "out.nwb"
    with pytest.raises(InputFileError, match="appeared there while this run was writing"):
        with atomic_output_path(destination=destination) as temporary:
            temporary.write_bytes(b"ours")
            destination.write_bytes(b"theirs")
    assert destination.read_bytes() == b"theirs"
    assert _partials(tmp_path) == []
    with atomic_output_path(destination=tmp_path / "new.nwb") as temporary:
        temporary.write_bytes(b"ours")
    assert (tmp_path / "new.nwb").read_bytes() == b"ours"


def test_overwrite_replaces_a_link_not_its_target_and_never_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.nwb"
    target.write_bytes(b"theirs")
    link = tmp_path / "out.nwb"
    link.symlink_to(target)
    with atomic_output_path(destination=link, overwrite=True) as temporary:
        temporary.write_bytes(b"ours")
    assert not link.is_symlink() and link.read_bytes() == b"ours"
    assert target.read_bytes() == b"theirs"
    (tmp_path / "folder.nwb").mkdir()
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "x.yaml"), "-o", str(tmp_path / "folder.nwb"),
                                       "--overwrite"])
    assert result.exit_code == 2 and "found a directory" in result.output


def test_a_folder_that_appears_during_the_write_is_kept(tmp_path: Path) -> None:
    destination = tmp_path / "analysis"
    with pytest.raises(InputFileError):
        with atomic_output_dir(destination=destination) as folder:
            (folder / "metrics.json").write_text("{}")
            destination.mkdir()
            (destination / "theirs.py").write_text("sources")
    assert sorted(p.name for p in destination.iterdir()) == ["theirs.py"]
    assert _partials(tmp_path) == []


def test_overwrite_of_a_folder_replaces_only_glymph_outputs_and_follows_the_umask(tmp_path: Path) -> None:
    destination = tmp_path / "analysis"
    destination.mkdir()
    (destination / "sources.py").write_text("not ours")
    with pytest.raises(InputFileError, match="did not write"):
        with atomic_output_dir(destination=destination, overwrite=True):
            pass
    assert (destination / "sources.py").exists()
    previous = os.umask(0o002)
    try:
        ours = tmp_path / "ours"
        for _ in range(2):  # written, then replaced with --overwrite
            with atomic_output_dir(destination=ours, overwrite=True) as folder:
                (folder / "metrics.json").write_text("{}")
    finally:
        os.umask(previous)
    assert (ours / OUTPUT_MANIFEST_NAME).is_file()
    assert ours.stat().st_mode & 0o777 == 0o775
    assert _partials(tmp_path) == []


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


def test_a_real_write_failure_is_one_line_exit_2_and_leaves_nothing(rig_session: Path, tmp_path: Path) -> None:
    # RLIMIT_FSIZE makes the kernel refuse the write (EFBIG) the way a full disk refuses it (ENOSPC)
    result = subprocess.run([*GLYMPH, "convert", str(rig_session), "-o", str(tmp_path / "out.nwb"), "--no-progress"],
                            preexec_fn=_limit_file_size, capture_output=True, text=True, timeout=180)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'out.nwb'}: output: expected room and permission to write it, found a file-size "
        "limit (file too large) [EFBIG] (nothing was written)"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "a full disk"), (errno.EDQUOT, "quota"), (errno.EROFS, "read-only"),
     (errno.EACCES, "no permission")],
)
def test_write_errors_from_the_lowest_write_call_are_one_line(tmp_path: Path, monkeypatch, code: int,
                                                               words: str) -> None:
    def failing_write_nwbfile(*, path: Path, **_) -> None:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
        try:
            os.write(handle, b"half an NWB file")
            monkeypatch.setattr(os, "write", _raise(code=code, filename=str(path)))
            os.write(handle, b"the rest")
        finally:
            os.close(handle)

    monkeypatch.setattr("ndx_glymphatic.converters.convert.write_nwbfile", failing_write_nwbfile)
    monkeypatch.setattr("ndx_glymphatic.converters.convert.plan_conversion", lambda **_: _NoPlan())
    monkeypatch.setattr("ndx_glymphatic.converters.convert.load_session", lambda **_: None)
    output = tmp_path / "out" / "session.nwb"
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "session.yaml"), "-o", str(output)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {output}: output:") and words in lines[0]
    assert list((tmp_path / "out").iterdir()) == []


def test_an_hdf5_write_failure_reported_without_errno_is_translated(tmp_path: Path) -> None:
    destination = tmp_path / "out.nwb"
    with pytest.raises(InputFileError, match=r"a full disk .*\[ENOSPC\]"):
        with atomic_output_path(destination=destination):
            raise RuntimeError("Can't decrement id ref count (file write failed: errno = 28, error message = 'No "
                               "space left on device')")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="unrelated"):  # other errors are not disguised as write failures
        with atomic_output_path(destination=destination):
            raise RuntimeError("unrelated")


class _NoPlan:
    session = None
    sources = None

    def close(self) -> None:
        pass


def _raise(*, code: int, filename: str):
    real_write = os.write

    def write(*_args) -> int:
        os.write = real_write  # fail once, the way write(2) fails on a full disk
        raise OSError(code, os.strerror(code), filename)

    return write


@pytest.fixture(scope="module")
def converted(rig_session: Path, tmp_path_factory) -> Path:
    from ndx_glymphatic.converters.convert import convert_session

    output = tmp_path_factory.mktemp("converted") / "session.nwb"
    convert_session(session_path=rig_session, output_path=output, progress=False)
    return output


def test_organize_refuses_a_symlinked_subject_folder_inside_the_dandiset(converted: Path, tmp_path: Path) -> None:
    from ndx_glymphatic.validators.organize import plan_organization

    dandiset = tmp_path / "dandiset"
    outside = tmp_path / "outside"
    outside.mkdir()
    destination = plan_organization(files=[converted], dandiset_dir=dandiset).destinations[converted]
    dandiset.mkdir()
    destination.parent.symlink_to(outside, target_is_directory=True)
    result = CliRunner().invoke(main, ["organize", str(converted), "-o", str(dandiset), "--no-progress"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "a symbolic link to" in lines[0] and str(destination.parent) in lines[0]
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in dandiset.iterdir()) == [destination.parent.name]  # no dandiset.yaml either


def test_organize_into_a_dandiset_folder_given_as_a_link_writes_into_its_target(converted: Path,
                                                                                 tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "dandiset"
    link.symlink_to(real, target_is_directory=True)
    result = CliRunner().invoke(main, ["organize", str(converted), "-o", str(link), "--mode", "hardlink",
                                       "--no-progress"])
    assert result.exit_code in (0, 1), result.output
    placed = list(real.glob("sub-*/*.nwb"))
    assert len(placed) == 1 and placed[0].stat().st_ino == converted.stat().st_ino
    assert (real / "dandiset.yaml").is_file()


def test_validate_never_replaces_a_file_named_by_o_without_overwrite(rig_session: Path, tmp_path: Path) -> None:
    precious = tmp_path / "session.nwb"
    precious.write_bytes(b"an NWB file the user meant to validate")
    refused = CliRunner().invoke(main, ["validate", str(rig_session), "-o", str(precious), "--no-progress"])
    assert refused.exit_code == 2 and "pass --overwrite" in refused.output
    assert precious.read_bytes() == b"an NWB file the user meant to validate"
    report = tmp_path / "report.txt"
    report.write_text("old report")
    replaced = CliRunner().invoke(main, ["validate", str(rig_session), "-o", str(report), "--overwrite",
                                         "--no-progress"])
    assert replaced.exit_code in (0, 1), replaced.output
    assert report.read_text() != "old report" and str(rig_session) in report.read_text()
    assert _partials(tmp_path) == []
