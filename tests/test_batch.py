"""Batches on Dask: a real `dask scheduler` + `dask worker` on 127.0.0.1, a LocalCluster, and in-process.

Same results on every path, one broken session fails alone, a worker killed mid-task is retried once.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ndx_glymphatic.batch import open_batch, prepared_heap, run_batch
from ndx_glymphatic.cli import main, readiness_checks
from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb
from ndx_glymphatic.validators.batch_validate import validate_batch

LOW_RATES = {"photometry_rate_in_Hz": 50.8625, "ephys_rate_in_Hz": 128.0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def scheduler() -> str:
    """A `dask scheduler` and a `dask worker` (2 processes, 1 thread each) on 127.0.0.1."""
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    # the workers import this module (its task functions) by name, as pytest does
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--dashboard-address", ":0"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    processes.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1",
                                       "--host", "127.0.0.1", "--no-dashboard"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=90)
    yield address
    for process in reversed(processes):
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sessions")
    for seed, condition in ((1, "vehicle"), (2, "zolpidem")):
        session = simulate_session(parameters=SimulationParameters(
            **LOW_RATES, duration_in_s=600.0, seed=seed, condition=condition))  # type: ignore[arg-type]
        write_session_nwb(session=session, path=folder / f"s{seed}.nwb")
    return folder


def _comparable(report: object) -> dict:
    document = report.to_json()  # type: ignore[attr-defined]
    document.pop("durations_in_s")
    return document


def test_validate_gives_the_serial_reports_on_every_path(sessions: Path, scheduler: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.nwb"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)  # an HDF5 signature, then nothing
    inputs = [sessions, broken]
    common = {"profile": "all", "readiness_factory": readiness_checks, "limits": None, "isolate": True,
              "timeout_in_s": 120.0, "progress": False}
    serial = validate_batch(paths=inputs, workers=1, scheduler=None, **common)
    assert [Path(report.path).name for report in serial] == ["s1.nwb", "s2.nwb", "broken.nwb"]
    assert [report.exit_code for report in serial] == [0, 0, 1]
    assert serial[0].layer_status(layer="analysis") == "clean"  # readiness checks made in the worker ran
    on_cluster = validate_batch(paths=inputs, workers=None, scheduler=scheduler, **common)
    assert [_comparable(report) for report in on_cluster] == [_comparable(report) for report in serial]
    local = validate_batch(paths=inputs, workers=2, scheduler=None, **common)
    assert [_comparable(report) for report in local] == [_comparable(report) for report in serial]


def _fail_on_odd(item: int) -> int:
    if item % 2:
        raise ValueError(f"odd item {item}")
    return item * 10


def _die_first_time(item: str) -> str:
    marker = Path(item)
    if not marker.exists():
        marker.write_text("attempted")
        os.kill(os.getpid(), signal.SIGKILL)
    return marker.read_text()


def _die_always(item: str) -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    return item


def test_failures_stay_with_their_item(scheduler: str) -> None:
    for options in ({"workers": 1}, {"scheduler": scheduler}):
        outcomes = run_batch(function=_fail_on_odd, items=[0, 1, 2, 3], progress=False, **options)
        assert [outcome.value for outcome in outcomes] == [0, None, 20, None], (options, outcomes)
        assert [outcome.error for outcome in outcomes] == [None, "ValueError: odd item 1", None,
                                                           "ValueError: odd item 3"]


def _process_and_item(*, item: str) -> tuple[int, str]:
    return os.getpid(), item


def test_a_batch_submits_later_stages_to_the_same_workers_or_runs_them_here_when_asked(scheduler: str) -> None:
    with open_batch(workers=1, n_items=2) as batch:
        assert batch.in_this_process
        pending = batch.submit(_process_and_item, item="here")
        assert pending.result() == (os.getpid(), "here")
    with open_batch(scheduler=scheduler, n_items=2) as batch:
        assert not batch.in_this_process
        outcomes = batch.map(function=_fail_on_odd, items=[0, 1], progress=False)
        assert [outcome.ok for outcome in outcomes] == [True, False]
        pending = batch.submit(_process_and_item, item="there")  # the client is still open after map
        worker, item = pending.result()
        assert item == "there" and worker != os.getpid()
        with pytest.raises(ValueError, match="odd item 3"):
            batch.submit(_fail_on_odd, item=3).result()  # a stage's exception reaches the caller


@pytest.mark.parametrize("where", ["existing scheduler", "local cluster"])
def test_a_killed_worker_is_retried_once_then_reported(where: str, scheduler: str, tmp_path: Path) -> None:
    options = {"scheduler": scheduler} if where == "existing scheduler" else {"workers": 2}
    marker, calm = tmp_path / "marker", tmp_path / "calm"
    calm.write_text("not killed")  # a second item, so that a LocalCluster runs the batch (one runs here)
    outcome, other = run_batch(function=_die_first_time, items=[str(marker), str(calm)], progress=False, **options)
    assert outcome.ok and outcome.value == "attempted"  # the second attempt found the first one's marker
    assert other.ok and other.value == "not killed"
    start = time.perf_counter()
    outcomes = run_batch(function=_die_always, items=["a", "b"], progress=False, **options)
    assert all(not outcome.ok and "died twice" in str(outcome.error) for outcome in outcomes)
    assert time.perf_counter() - start < 60


def _run_fresh_interpreter(*, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], capture_output=True,
                            text=True, timeout=240, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


def _fresh_interpreter(*, script: str, cwd: Path) -> dict[str, Any]:
    return json.loads(_run_fresh_interpreter(script=script, cwd=cwd).stdout.splitlines()[-1])


def _batch_in_fresh_interpreter(*, probe: str, items: str, worker_imports: str, cwd: Path) -> dict[str, Any]:
    """Run ``probe`` (of tests/batch_probe.py) on two LocalCluster workers from a fresh interpreter: its pid,
    whether it imported pynwb itself, and each item's answer."""
    script = (
        "import json, os, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        f"from batch_probe import {probe}\n"
        "from ndx_glymphatic.analysis.cohort_batch import session_task_imports\n"
        "from ndx_glymphatic.batch import run_batch\n"
        f"outcomes = run_batch(function={probe}, items={items}, workers=2,\n"
        f"                     worker_imports={worker_imports}, progress=False)\n"
        "print(json.dumps({'pid': os.getpid(), 'has_pynwb': 'pynwb' in sys.modules,\n"
        "                  'workers': [outcome.value for outcome in outcomes]}))\n"
    )
    return _fresh_interpreter(script=script, cwd=cwd)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LocalCluster workers are forked only on Linux")
def test_local_workers_are_forked_from_a_template_that_made_the_task_imports(tmp_path: Path) -> None:
    # a fresh interpreter, so that the template starts with this batch's imports
    answer = _batch_in_fresh_interpreter(probe="imported_before_task", items="['pynwb'] * 4",
                                         worker_imports="['pynwb']", cwd=tmp_path)
    assert not answer["has_pynwb"]  # the batch's own process never imported it
    assert all(imported for imported, _ in answer["workers"])  # every worker had it before its first task
    assert answer["pid"] not in {parent for _, parent in answer["workers"]}  # forked by the template


def test_workers_closing_during_a_heartbeat_print_nothing(tmp_path: Path) -> None:
    # the scheduler holds every heartbeat's answer, so both workers close with one on the way: without the
    # preloaded filter each prints "Failed to communicate with scheduler during heartbeat" and a traceback
    script = (
        "import sys, time\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from batch_probe import hold_heartbeats\n"
        "from ndx_glymphatic.batch import open_batch\n"
        "with open_batch(workers=2, n_items=2) as batch:\n"
        "    batch._client.run_on_scheduler(hold_heartbeats, seconds=5.0)\n"
        "    time.sleep(2.0)\n"
        "print('closed')\n"
    )
    result = _run_fresh_interpreter(script=script, cwd=tmp_path)
    assert result.stdout.splitlines()[-1] == "closed"
    assert "heartbeat" not in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_running_workers_heartbeat_errors_still_show() -> None:
    import logging

    from distributed.core import Status

    from ndx_glymphatic.worker_preload import ClosingHeartbeatFilter

    class Worker:
        status = Status.running

    worker = Worker()
    passes = ClosingHeartbeatFilter(worker=worker).filter

    def record(*, function: str) -> logging.LogRecord:
        return logging.LogRecord("distributed.worker", logging.ERROR, "worker.py", 1, "failed", None, None,
                                 func=function)

    assert passes(record(function="heartbeat"))
    worker.status = Status.closing
    assert not passes(record(function="heartbeat"))
    assert passes(record(function="close"))  # only the heartbeat's own records are dropped


@pytest.mark.parametrize("n_items", [3, 8])
def test_on_dask_the_dearest_items_start_first_and_outcomes_keep_the_items_order(n_items: int, tmp_path: Path) -> None:
    # few items go to the workers at once, many wait in the scheduler's queue: both honour the costs
    script = (
        "import json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from batch_probe import start_time_after_waiting\n"
        "from ndx_glymphatic.batch import run_batch\n"
        f"items = [0.05 * (i + 1) for i in range({n_items})]\n"
        "outcomes = run_batch(function=start_time_after_waiting, items=items, workers=2, progress=False,\n"
        "                     costs=[round(100 * item) for item in items])\n"
        "print(json.dumps({'items': [o.item for o in outcomes], 'began': [o.value for o in outcomes]}))\n"
    )
    answer = _fresh_interpreter(script=script, cwd=tmp_path)
    assert answer["items"] == [0.05 * (i + 1) for i in range(n_items)]
    order = sorted(range(n_items), key=lambda i: answer["began"][i])
    # the last item is the dearest: it starts first on one worker, and the cheapest is the last to start
    assert order[0] in (n_items - 1, n_items - 2) and n_items - 1 in order[:2]
    assert order[-1] in (0, 1)
    if n_items > 4:
        assert sorted(order[:2]) == [n_items - 2, n_items - 1]


def test_a_task_reading_a_file_costs_its_size_and_one_reading_a_url_nothing_known(tmp_path: Path) -> None:
    from ndx_glymphatic.batch import size_in_bytes

    written = tmp_path / "sub-1_ses-1.nwb"
    written.write_bytes(b"x" * 1234)
    assert size_in_bytes(source=str(written)) == 1234
    assert size_in_bytes(source="https://api.dandiarchive.org/api/assets/abc/download/") == 0
    assert size_in_bytes(source=str(tmp_path / "missing.nwb")) == 0


def test_a_task_reading_a_folder_costs_the_files_directly_in_it(tmp_path: Path) -> None:
    from ndx_glymphatic.batch import size_in_bytes

    block = tmp_path / "block"  # a TDT block: the data are the files in the folder
    (block / "notes").mkdir(parents=True)
    (block / "sim.tev").write_bytes(b"x" * 1000)
    (block / "sim.tsq").write_bytes(b"x" * 40)
    (block / "notes" / "other.txt").write_bytes(b"x" * 500)  # not part of the block
    assert size_in_bytes(source=str(block)) == 1040


def _simulated_rig_session(*, folder: Path, duration_in_s: int, seed: int) -> Path:
    result = _invoke("simulate", str(folder), "--format", "tdt", "--duration-s", str(duration_in_s), "--seed",
                     str(seed), "--photometry-rate-hz", "100", "--ephys-rate-hz", "128", "--no-progress")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return folder / "session.yaml"


def test_converting_a_session_costs_the_bytes_of_the_rig_files_it_names(tmp_path: Path) -> None:
    from ndx_glymphatic.converters.batch_convert import session_cost_in_bytes

    session_file = _simulated_rig_session(folder=tmp_path / "rig", duration_in_s=600, seed=5)
    rig_files = [path for path in (tmp_path / "rig").rglob("*")
                 if path.is_file() and path.name not in ("session.yaml", "ground_truth.json")]
    assert {path.parent.name for path in rig_files} == {"sim-seed5-vehicle-block", "eeg", "hypnogram"}
    assert session_cost_in_bytes(session_file=session_file) == sum(path.stat().st_size for path in rig_files)
    broken = tmp_path / "broken.yaml"
    broken.write_text("subject: 3\n")
    assert session_cost_in_bytes(session_file=broken) == 0
    assert session_cost_in_bytes(session_file=tmp_path / "missing.yaml") == 0


def test_convert_sends_its_sessions_costs_to_dask_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ndx_glymphatic.converters import batch_convert

    short = _simulated_rig_session(folder=tmp_path / "short", duration_in_s=600, seed=6)
    long = _simulated_rig_session(folder=tmp_path / "long", duration_in_s=1200, seed=7)
    sent: list[Any] = []
    monkeypatch.setattr(batch_convert, "run_batch", lambda **arguments: sent.append(arguments["costs"]) or [])
    monkeypatch.setattr(batch_convert, "prepare_local_workers", lambda **arguments: None)
    for workers, scheduler in ((1, None), (2, None), (None, "tcp://127.0.0.1:1")):
        batch_convert.convert_batch(session_files=[short, long], output_dir=tmp_path / "nwb", overwrite=False,
                                    compression=None, progress=False, workers=workers, scheduler=scheduler)
    costs = [batch_convert.session_cost_in_bytes(session_file=path) for path in (short, long)]
    assert costs[1] > 1.8 * costs[0] > 0
    assert sent == [None, costs, costs]  # in the inputs' order; the batch sends the largest first


def test_a_cost_for_every_item_or_none(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 costs for 3 items"):
        run_batch(function=str, items=["a", "b", "c"], workers=1, progress=False, costs=[1, 2])


def test_preparing_a_process_draws_in_memory_only(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from ndx_glymphatic.analysis.cohort_batch import SESSION_TASK_IMPORTS\n"
        "for module in SESSION_TASK_IMPORTS: __import__(module)\n"
        "light = 'matplotlib' not in sys.modules\n"
        "import ndx_glymphatic.analysis.prepared_worker\n"
        "import matplotlib.pyplot as plt\n"
        "from ndx_glymphatic.validators.checks_stored_objects import _published_specifications\n"
        "print(json.dumps({'light': light, 'figures': plt.get_fignums(), 'backend': plt.get_backend().lower(),\n"
        "                  'specifications': _published_specifications.cache_info().currsize}))\n"
    )
    answer = _fresh_interpreter(script=script, cwd=tmp_path)
    # a batch without figures does not load the plotting library; one with them finds it ready, no figure open
    assert answer == {"light": True, "figures": [], "backend": "agg", "specifications": 1}
    assert not list(tmp_path.iterdir())  # nothing written where it ran


@pytest.mark.parametrize("draws_figures", [True, False])
def test_the_waiting_process_loads_the_plotting_library_only_to_draw_the_group_figures_itself(
    draws_figures: bool, tmp_path: Path
) -> None:
    script = (
        "import json, sys\n"
        "from ndx_glymphatic.analysis.cohort import _load_group_stage_libraries\n"
        f"_load_group_stage_libraries(draws_figures={draws_figures})\n"
        "print(json.dumps({'stats': 'scipy.stats' in sys.modules, 'plotting': 'matplotlib.pyplot' in sys.modules}))\n"
    )
    answer = _fresh_interpreter(script=script, cwd=tmp_path)
    # the workers that drew the sessions' figures draw the group's: this process then needs the statistics only
    assert answer == {"stats": True, "plotting": draws_figures}
    assert not list(tmp_path.iterdir())


def test_the_group_report_is_written_without_loading_a_science_library(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "import ndx_glymphatic.analysis.page\n"
        "print(json.dumps(sorted({'numpy', 'scipy', 'matplotlib'} & {name.split('.')[0] for name in sys.modules})))\n"
    )
    # the waiting process writes the group report after the workers: a library to load then is pure delay
    assert _fresh_interpreter(script=script, cwd=tmp_path) == []


class _RecordingBatch:
    """A batch of workers that records what it is given and runs it at once."""

    def __init__(self) -> None:
        self.tasks: list[list[str]] = []

    def submit(self, function: Any, /, **keywords: Any) -> Any:
        from ndx_glymphatic.batch import Pending

        self.tasks.append([drawing.__name__ for drawing, _ in keywords["drawings"]])
        return Pending(call=lambda: function(**keywords))


def test_the_group_figures_are_two_tasks_of_about_equal_length_on_workers(tmp_path: Path) -> None:
    from ndx_glymphatic.analysis.cohort import _start_group_figures
    from ndx_glymphatic.analysis.params import AnalysisParams

    rows = [{"subject": f"m{i}", "condition": c, "ne.oscillation.peak_frequency_in_Hz": 0.02 + 0.001 * i}
            for i, c in enumerate(["control", "zolpidem"] * 2)]
    batch = _RecordingBatch()
    pending = _start_group_figures(batch=batch, on_workers=True, rows=rows, curves={}, predictors=[],
                                   params=AnalysisParams(), folder=tmp_path)
    # three tasks would not be queued: the scheduler could give two to one worker while the other idles
    assert batch.tasks == [["_key_metrics_figure"], ["_spectrum_figure", "_predictors_figure"]]
    drawn = [path for task in pending for path in task.result()]
    assert drawn[0] == tmp_path / "key_metrics_by_condition.png" and drawn[0].stat().st_size > 0
    assert drawn[1:] == [None, None]  # no spectrum and no predictor to draw


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LocalCluster workers are forked only on Linux")
def test_session_workers_start_prepared_for_their_figures(tmp_path: Path) -> None:
    answer = _batch_in_fresh_interpreter(probe="prepared_before_task", items="[0, 1, 2, 3]",
                                         worker_imports="session_task_imports(figures=True)", cwd=tmp_path)
    assert all(prepared for prepared, _ in answer["workers"])
    assert answer["pid"] not in {parent for _, parent in answer["workers"]}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LocalCluster workers are forked only on Linux")
def test_workers_start_with_the_template_heap_frozen_and_the_collector_running(tmp_path: Path) -> None:
    answer = _batch_in_fresh_interpreter(probe="heap_on_arrival", items="['pynwb'] * 2",
                                         worker_imports="['pynwb']", cwd=tmp_path)
    for frozen, collecting, imported, _ in answer["workers"]:
        # pynwb and Dask alone are well over 100 000 objects; the collector was paused only while importing
        assert imported and frozen > 100_000 and collecting


def test_a_batch_here_imports_first_freezes_during_and_thaws_after(tmp_path: Path) -> None:
    script = (
        "import gc, json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from batch_probe import heap_on_arrival\n"
        "from ndx_glymphatic.batch import run_batch\n"
        "outcomes = run_batch(function=heap_on_arrival, items=['pynwb'], workers=1, worker_imports=['pynwb',\n"
        "                     'no_such_module_here'], progress=False)\n"
        "print(json.dumps({'during': outcomes[0].value[:3], 'after': [gc.get_freeze_count(), gc.isenabled()]}))\n"
    )
    answer = _fresh_interpreter(script=script, cwd=tmp_path)
    frozen, collecting, imported = answer["during"]
    assert imported and frozen > 100_000 and collecting  # a module that cannot be imported is skipped
    assert answer["after"] == [0, True]  # the process's objects are the collector's again


def test_prepared_heap_leaves_a_paused_collector_and_an_earlier_freeze_as_they_were() -> None:
    gc.disable()
    try:
        with prepared_heap(modules=()):
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        assert before > 100_000
        # a frozen object can still be freed (its last reference dropped), so the count may fall by a few;
        # handed back, it would fall to zero
        with prepared_heap(modules=()):
            assert gc.get_freeze_count() > 0.9 * before
        assert gc.get_freeze_count() > 0.9 * before  # not handed back: this process froze them itself
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def _invoke(*arguments: str) -> object:
    return CliRunner().invoke(main, list(arguments), catch_exceptions=False)


def test_analyze_group_on_the_cluster_equals_serial(sessions: Path, scheduler: str, tmp_path: Path) -> None:
    serial = _invoke("analyze-group", str(sessions), "-o", str(tmp_path / "serial"), "--workers", "1",
                     "--no-session-reports", "--no-progress")
    assert serial.exit_code == 0, serial.output  # type: ignore[attr-defined]
    cluster = _invoke("analyze-group", str(sessions), "-o", str(tmp_path / "cluster"), "--scheduler", scheduler,
                      "--no-session-reports", "--no-progress")
    assert cluster.exit_code == 0, cluster.output  # type: ignore[attr-defined]
    local = _invoke("analyze-group", str(sessions), "-o", str(tmp_path / "local"), "--workers", "2",
                    "--no-session-reports", "--no-progress")
    assert local.exit_code == 0, local.output  # type: ignore[attr-defined]
    for name in ("sessions.csv", "comparisons.csv", "predictors.csv"):
        assert (tmp_path / "serial" / name).read_text() == (tmp_path / "cluster" / name).read_text()
        assert (tmp_path / "serial" / name).read_text() == (tmp_path / "local" / name).read_text()
    with (tmp_path / "cluster" / "sessions.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2
    assert not list((tmp_path / "cluster" / "sessions").glob(".*"))  # no staging folder left


def test_group_figures_drawn_on_the_workers_equal_those_drawn_here(sessions: Path, scheduler: str,
                                                                 tmp_path: Path) -> None:
    # with the sessions' figures the workers draw the group's too; without, this process draws them
    here = _invoke("analyze-group", str(sessions), "-o", str(tmp_path / "here"), "--workers", "1",
                   "--no-session-reports", "--no-progress")
    assert here.exit_code == 0, here.output  # type: ignore[attr-defined]
    workers = _invoke("analyze-group", str(sessions), "-o", str(tmp_path / "workers"), "--scheduler", scheduler,
                      "--no-progress")
    assert workers.exit_code == 0, workers.output  # type: ignore[attr-defined]
    drawn = sorted(path.name for path in (tmp_path / "here" / "figures").iterdir())
    assert drawn == ["key_metrics_by_condition.png", "ne_spectrum_by_condition.png"]  # two sessions: no fit
    assert sorted(path.name for path in (tmp_path / "workers" / "figures").iterdir()) == drawn
    for name in drawn:
        here_png, workers_png = (tmp_path / "here" / "figures" / name), (tmp_path / "workers" / "figures" / name)
        assert here_png.read_bytes() == workers_png.read_bytes(), name
    report = (tmp_path / "workers" / "report.html").read_text()
    assert report.count("data:image/png;base64,") == len(drawn)


def test_convert_many_sessions_isolates_the_broken_one(scheduler: str, tmp_path: Path) -> None:
    good = []
    for seed in (3, 4):
        folder = tmp_path / f"rig{seed}"
        result = _invoke("simulate", str(folder), "--format", "ppd", "--duration-s", "600", "--seed", str(seed),
                         "--photometry-rate-hz", "100", "--ephys-rate-hz", "128", "--no-progress")
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        good.append(folder)
    broken = tmp_path / "broken" / "session.yaml"
    broken.parent.mkdir()
    broken.write_text("subject: 3\n")
    output = tmp_path / "nwb"
    result = CliRunner().invoke(
        main, ["convert", *map(str, good), str(broken.parent), "-o", str(output), "--scheduler", scheduler,
               "--no-progress"])
    assert result.exit_code == 1, result.output
    written = sorted(path.name for path in output.iterdir())
    assert written == ["sub-sim0003_ses-sim-seed3-vehicle_ecephys+ogen+ophys.nwb",
                       "sub-sim0004_ses-sim-seed4-vehicle_ecephys+ogen+ophys.nwb"]  # and no staging file
    assert f"FAILED {broken}:" in result.stderr
    assert "2 of 3 sessions converted, 1 failed" in result.stderr


def test_standing_cluster_settings_are_glymphs_own_as_documented(tmp_path: Path) -> None:
    import dask.config

    from ndx_glymphatic.batch import WORKER_SETTINGS, worker_settings_yaml

    page = (Path(__file__).parents[1] / "docs" / "running-on-many-sessions.md").read_text()
    assert f"```yaml\n{worker_settings_yaml()}```" in page
    (tmp_path / "glymph.yaml").write_text(worker_settings_yaml())
    read = dask.config.collect(paths=[str(tmp_path)], env={})
    for dotted, value in WORKER_SETTINGS.items():
        assert dask.config.get(dotted, config=read) == value
