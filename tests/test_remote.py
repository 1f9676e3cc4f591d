"""NWB files read from a real HTTP server (127.0.0.1, Range support) give the results of the local file.

The server (:class:`ndx_glymphatic.testing.range_server.RangeServer`) answers ``Range: bytes=a-b`` with 206 and
counts the bytes it sends, so the tests can tell that a streamed analysis fetched less than the file.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from ndx_glymphatic.cli import main
from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb
from ndx_glymphatic.testing.range_server import RangeServer
from ndx_glymphatic.validators.api import validate_file

LOW_RATES = {"photometry_rate_in_Hz": 50.8625, "ephys_rate_in_Hz": 128.0}
#: Samples of a series the analysis does not read (appended to the served file): a streamed analysis must not
#: fetch them.
UNREAD_SAMPLES = 1_000_000


def _add_unread_series(*, path: Path) -> None:
    """Append an acquisition series of noise (incompressible) that no analysis step reads."""
    from pynwb import NWBHDF5IO, TimeSeries

    from ndx_glymphatic import load_namespace

    load_namespace()
    with NWBHDF5IO(str(path), mode="a") as io:
        nwbfile = io.read()
        noise = np.random.default_rng(0).standard_normal(UNREAD_SAMPLES).astype(np.float32)
        nwbfile.add_acquisition(
            TimeSeries(
                name="camera_exposure",
                data=noise,
                unit="V",
                rate=1000.0,
                description="camera exposure voltage (not used by the analysis)",
            )
        )
        io.write(nwbfile)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[RangeServer, Path]:
    folder = tmp_path_factory.mktemp("served")
    for seed in (1, 2):
        session = simulate_session(
            parameters=SimulationParameters(  # type: ignore[arg-type]
                **LOW_RATES, duration_in_s=600.0, seed=seed, condition="vehicle" if seed == 1 else "zolpidem"
            )
        )
        write_session_nwb(session=session, path=folder / f"s{seed}.nwb")
    _add_unread_series(path=folder / "s1.nwb")
    (folder / "half.nwb").write_bytes((folder / "s1.nwb").read_bytes())
    (folder / "linked.nwb").write_bytes((folder / "s2.nwb").read_bytes())
    with h5py.File(folder / "linked.nwb", "a") as h5file:
        h5file["acquisition/elsewhere"] = h5py.ExternalLink(str(folder / "s1.nwb"), "/acquisition")
    with RangeServer(folder=folder, truncate_paths=("half.nwb",)) as server:
        yield server, folder


def _invoke(*arguments: str) -> object:
    return CliRunner().invoke(main, list(arguments), catch_exceptions=False)


def _findings(document: dict) -> list[tuple[str, str, str, str]]:
    (report,) = document["files"]
    return sorted((m["layer"], m["check"], m["location"], m["severity"]) for m in report["messages"])


def test_validate_of_a_url_equals_the_local_report(served: tuple[RangeServer, Path]) -> None:
    server, folder = served
    local = _invoke("validate", str(folder / "s1.nwb"), "--format", "json", "--no-progress")
    remote = _invoke("validate", server.url("s1.nwb"), "--format", "json", "--no-progress")
    assert remote.exit_code == local.exit_code == 0, remote.output  # type: ignore[attr-defined]
    local_doc, remote_doc = json.loads(local.output), json.loads(remote.output)  # type: ignore[attr-defined]
    assert _findings(remote_doc) == _findings(local_doc)
    statuses = [
        {layer: entry["status"] for layer, entry in doc["files"][0]["layers"].items()}
        for doc in (remote_doc, local_doc)
    ]
    assert statuses[0] == statuses[1]  # the reasons differ only where `dandi validate` needs a local file


def _metrics(folder: Path) -> dict:
    document = json.loads((folder / "metrics.json").read_text())
    document["input"].pop("path")
    document.pop("run", None)  # timings and the run's date
    return document


def test_analyze_of_a_url_equals_local_and_fetches_less_than_the_file(
    served: tuple[RangeServer, Path], tmp_path: Path
) -> None:
    from ndx_glymphatic.analysis.pipeline import run_analysis

    server, folder = served
    # the local reference without the readiness gate (it does not change the metrics) and without figures
    run_analysis(
        nwb_path=folder / "s1.nwb", output_dir=tmp_path / "local", check=False, figures=False, show_progress=False
    )
    remote = _invoke("analyze", server.url("s1.nwb"), "-o", str(tmp_path / "remote"), "--no-progress")
    assert remote.exit_code == 0, remote.output  # type: ignore[attr-defined]
    assert _metrics(tmp_path / "remote") == _metrics(tmp_path / "local")

    # the analysis itself (the gate validated just before) fetches what it reads, not the unread series
    server.reset()
    run_analysis(
        nwb_path=server.url("s1.nwb"), output_dir=tmp_path / "again", check=False, figures=False, show_progress=False
    )
    with h5py.File(folder / "s1.nwb", "r") as h5file:
        unread = h5file["acquisition/camera_exposure/data"].id.get_storage_size()
    size = (folder / "s1.nwb").stat().st_size
    assert unread > 0.3 * size  # the test means something: a third of the file is not needed
    assert server.bytes_served < size - 0.9 * unread
    assert _metrics(tmp_path / "again")["metrics"] == _metrics(tmp_path / "local")["metrics"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("case", ["404", "refused", "truncated"])
def test_network_errors_are_one_line_and_exit_2(served: tuple[RangeServer, Path], tmp_path: Path, case: str) -> None:
    server, _ = served
    url = {
        "404": server.url("missing.nwb"),
        "refused": f"http://127.0.0.1:{_free_port()}/s1.nwb",
        "truncated": server.url("half.nwb"),
    }[case]
    cause = {"404": "HTTP 404", "refused": "connection refused", "truncated": "truncated"}[case]
    result = CliRunner().invoke(main, ["analyze", url, "-o", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and url in lines[0] and cause in lines[0], result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    validated = _invoke("validate", url, "--format", "json", "--no-progress")
    assert validated.exit_code == 2  # type: ignore[attr-defined]
    (report,) = json.loads(validated.output)["files"]  # type: ignore[attr-defined]
    assert [(m["check"], cause in m["message"], url in m["message"]) for m in report["messages"]] == [
        ("remote_readable", True, True)
    ]


def test_a_url_list_with_one_bad_url_fails_only_that_one(served: tuple[RangeServer, Path], tmp_path: Path) -> None:
    server, folder = served
    listing = tmp_path / "sessions.txt"
    listing.write_text(
        f"# two sessions on the server, one missing\n{server.url('s2.nwb')}\n\n"
        f"{server.url('gone.nwb')}  # deleted\n{folder / 's2.nwb'}\n"
    )
    result = _invoke("validate", str(listing), "--format", "json", "--no-progress", "--workers", "1")
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    reports = json.loads(result.output)["files"]  # type: ignore[attr-defined]
    assert [report["path"] for report in reports] == [
        server.url("s2.nwb"),
        server.url("gone.nwb"),
        str(folder / "s2.nwb"),
    ]
    assert [report["exit_code"] for report in reports] == [0, 2, 0]
    assert _findings({"files": [reports[0]]}) == _findings({"files": [reports[2]]})


def test_analyze_group_takes_a_list_of_urls(served: tuple[RangeServer, Path], tmp_path: Path) -> None:
    server, folder = served
    listing = tmp_path / "cohort.list"
    listing.write_text(f"{server.url('s1.nwb')}\n# vehicle above, zolpidem below\n{server.url('s2.nwb')}\n")
    remote = _invoke(
        "analyze-group",
        str(listing),
        "-o",
        str(tmp_path / "remote"),
        "--workers",
        "1",
        "--no-session-reports",
        "--no-progress",
    )
    assert remote.exit_code == 0, remote.output  # type: ignore[attr-defined]
    from ndx_glymphatic.analysis.cohort import run_group_analysis

    run_group_analysis(
        inputs=[folder / "s1.nwb", folder / "s2.nwb"],
        output_dir=tmp_path / "local",
        check=False,
        session_reports=False,
        workers=1,
        show_progress=False,
    )
    for name in ("comparisons.csv", "predictors.csv"):
        assert (tmp_path / "remote" / name).read_text() == (tmp_path / "local" / name).read_text()


def test_a_remote_file_with_an_external_link_is_refused_unopened(
    served: tuple[RangeServer, Path], tmp_path: Path
) -> None:
    server, _ = served
    url = server.url("linked.nwb")
    validated = _invoke("validate", url, "--format", "json", "--no-progress")
    (report,) = json.loads(validated.output)["files"]  # type: ignore[attr-defined]
    assert validated.exit_code == 1  # type: ignore[attr-defined]
    assert [(m["layer"], m["location"]) for m in report["messages"] if m["severity"] == "error"] == [
        ("security", "/acquisition/elsewhere")
    ]
    assert report["layers"]["schema"]["status"] == "skipped"  # never handed to pynwb, which would follow it
    result = CliRunner().invoke(main, ["analyze", url, "-o", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 1 and "security" in result.output and not (tmp_path / "out").exists()


def test_a_server_that_never_answers_is_a_timeout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ndx_glymphatic import remote

    monkeypatch.setattr(remote, "TIMEOUT_IN_S", 0.5)
    with socket.socket() as silent:  # the kernel accepts the connection; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/s1.nwb"
        result = CliRunner().invoke(main, ["analyze", url, "-o", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {url}: cannot read the remote file: no answer within 0.5 s (timeout)"


def test_session_names_of_urls() -> None:
    from ndx_glymphatic.remote import as_source, source_name

    assert source_name("https://api.dandiarchive.org/api/assets/0f1e-42/download/") == "0f1e-42"
    assert source_name("http://127.0.0.1:8000/sub-1/sub-1_ses-2_ophys.nwb?versionId=3") == "sub-1_ses-2_ophys.nwb"
    assert as_source("https://x.org/a.nwb") == "https://x.org/a.nwb"  # not Path, which would drop a '/'
    assert isinstance(as_source("data/a.nwb"), Path)


def _derived_content(path: Path) -> dict[str, object]:
    """Every dataset of a derived file outside the ids and identifiers (which are new for every file)."""
    content: dict[str, object] = {}
    with h5py.File(path, "r") as h5file:
        def visit(name: str, item: object) -> None:
            if isinstance(item, h5py.Dataset) and not name.startswith("specifications") and item.dtype.kind == "f":
                content[name] = item[()]
        h5file.visititems(visit)
    return content


def test_analyze_of_a_url_writes_the_derived_file_as_from_the_local_file(
    served: tuple[RangeServer, Path], tmp_path: Path
) -> None:
    server, folder = served
    local = _invoke("analyze", str(folder / "s2.nwb"), "-o", str(tmp_path / "local"), "--write-derived",
                    "--no-progress")
    remote = _invoke("analyze", server.url("s2.nwb"), "-o", str(tmp_path / "remote"), "--write-derived",
                     "--no-progress")
    assert local.exit_code == remote.exit_code == 0, remote.output  # type: ignore[attr-defined]
    (local_file,) = (tmp_path / "local").glob("*desc-processed*.nwb")
    (remote_file,) = (tmp_path / "remote").glob("*desc-processed*.nwb")
    assert remote_file.name == local_file.name
    local_content, remote_content = _derived_content(local_file), _derived_content(remote_file)
    assert local_content.keys() == remote_content.keys() and len(local_content) > 10
    for name, values in local_content.items():
        assert np.array_equal(values, remote_content[name], equal_nan=True), name
    report = validate_file(path=remote_file, profile="derived")
    assert report.passes, report.format_text()
