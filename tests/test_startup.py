"""Start-up stays light: help imports no NWB stack; the extension's types load on first use.

Each check runs in a fresh interpreter, because this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pynwb import NWBHDF5IO

import ndx_glymphatic
from ndx_glymphatic.cli import main
from ndx_glymphatic.testing.mock import mock_glymphatic_nwbfile

#: Top-level packages that must not be imported to print help (the NWB stack and other heavy ones).
HEAVY_PACKAGES = frozenset({
    "h5py", "hdmf", "jsonschema", "matplotlib", "ndx_fiber_photometry", "ndx_ophys_devices", "ndx_optogenetics",
    "neuroconv", "numpy", "nwbinspector", "pandas", "pydantic", "pynwb", "scipy", "tqdm", "yaml",
})

_RUN_GLYMPH = """
import json, sys
from ndx_glymphatic.cli import main
try:
    main(sys.argv[1:], prog_name="glymph")
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _packages_imported_by(*, code: str, arguments: list[str]) -> set[str]:
    """Top-level packages in ``sys.modules`` after running ``code`` in a fresh interpreter (it prints them)."""
    result = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


HELP_INVOCATIONS = [["--help"], ["--version"], *([name, "--help"] for name in sorted(main.commands))]


@pytest.mark.parametrize("arguments", HELP_INVOCATIONS, ids=" ".join)
def test_help_imports_no_nwb_stack(arguments: list[str]) -> None:
    imported = _packages_imported_by(code=_RUN_GLYMPH, arguments=arguments)
    assert "ndx_glymphatic" in imported and "click" in imported
    assert not imported & HEAVY_PACKAGES, f"glymph {' '.join(arguments)} imports {sorted(imported & HEAVY_PACKAGES)}"


def test_every_part_adds_its_commands() -> None:
    assert {"convert", "schema", "simulate", "validate", "organize", "analyze", "analyze-group", "demo"} <= set(
        main.commands
    )


def test_import_alone_is_light_and_the_first_type_loads_the_namespace() -> None:
    code = """
import json, sys
import ndx_glymphatic
before = sorted({name.split(".")[0] for name in sys.modules})
hypnogram = ndx_glymphatic.Hypnogram
from pynwb import get_class
print(json.dumps({"before": before, "same": hypnogram is get_class("Hypnogram", "ndx-glymphatic"),
                  "after": sorted({name.split(".")[0] for name in sys.modules})}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    facts = json.loads(result.stdout.splitlines()[-1])
    assert not set(facts["before"]) & HEAVY_PACKAGES
    assert facts["same"]
    assert {"pynwb", "ndx_fiber_photometry", "ndx_ophys_devices", "ndx_optogenetics"} <= set(facts["after"])


def test_types_are_attributes_and_other_names_are_not() -> None:
    assert set(ndx_glymphatic.TYPE_NAMES) <= set(dir(ndx_glymphatic))
    assert set(ndx_glymphatic.TYPE_NAMES) <= set(ndx_glymphatic.__all__)
    for name in ndx_glymphatic.TYPE_NAMES:
        assert getattr(ndx_glymphatic, name).__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'NotAType'"):
        ndx_glymphatic.NotAType  # noqa: B018


@pytest.fixture(scope="module")
def written_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "mock.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(mock_glymphatic_nwbfile(duration_in_s=60.0))
    return path


_READ_HYPNOGRAM_CLASS = """
import sys
{before_reading}
from pynwb import NWBHDF5IO
with NWBHDF5IO(sys.argv[1], "r") as io:
    read_class = type(io.read().intervals["sleep_states"])
import ndx_glymphatic
print(read_class is ndx_glymphatic.Hypnogram)
"""


@pytest.mark.parametrize(
    ("before_reading", "our_class"),
    [
        # The README example: the access module uses the types, which loads the namespace.
        ("import ndx_glymphatic\nfrom ndx_glymphatic.access import get_hypnogram", True),
        ("import ndx_glymphatic\nndx_glymphatic.load_namespace()", True),
        ("from ndx_glymphatic import Hypnogram", True),
        # Documented: the package alone loads nothing, so pynwb builds classes from the file's cached spec.
        ("import ndx_glymphatic", False),
    ],
)
def test_plain_pynwb_read_gives_our_classes_once_the_namespace_is_loaded(
    written_file: Path, before_reading: str, our_class: bool
) -> None:
    code = _READ_HYPNOGRAM_CLASS.format(before_reading=before_reading)
    result = subprocess.run([sys.executable, "-c", code, str(written_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == str(our_class)


def test_output_formats_known_to_help_are_the_writers() -> None:
    from ndx_glymphatic.simulation.writers import OUTPUT_FORMATS, session_writers

    assert sorted(OUTPUT_FORMATS) == sorted(session_writers())


def test_analysis_in_a_fresh_process_reads_files_as_our_classes(written_file: Path) -> None:
    """The analysis loads the namespace itself before it opens a file (nothing imported it before)."""
    code = """
import sys
from pathlib import Path
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.pipeline import analyze_file
analysis = analyze_file(nwb_path=Path(sys.argv[1]), params=AnalysisParams(), show_progress=False)
print(analysis.session.ne_signal is not None and analysis.session.hypnogram is not None)
"""
    result = subprocess.run([sys.executable, "-c", code, str(written_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "True"


_CYCLE_AT_EXIT = """
import sys
from ndx_glymphatic.cli import main
class Canary:
    def __del__(self):
        print("collected at exit")
canary = Canary()
canary.cycle = canary  # only the garbage collector frees an object in a cycle
if sys.argv[1:]:
    try:
        main(sys.argv[1:], prog_name="glymph")
    except SystemExit:
        pass
"""


@pytest.mark.parametrize("arguments", [[], ["validate", "--help"]])
def test_a_command_skips_the_last_garbage_collection_at_exit(arguments: list[str]) -> None:
    # that collection costs about 0.5 s after an analysis; the canary shows whether it ran
    result = subprocess.run([sys.executable, "-c", _CYCLE_AT_EXIT, *arguments], capture_output=True, text=True,
                            check=True)
    assert ("collected at exit" in result.stdout) == (not arguments)


_TEMPLATE_START = """
import json, sys
import ndx_glymphatic.batch as batch
from ndx_glymphatic.cli import main

class Started(Exception):
    pass

def record(*, worker_imports):
    # what the process had loaded when the workers' template was asked for, then stop before any work
    print(json.dumps({"group_stage_loaded": "ndx_glymphatic.analysis.cohort" in sys.modules,
                      "worker_imports": list(worker_imports)}))
    raise Started

batch.prepare_local_workers = record
try:
    main(sys.argv[1:], prog_name="glymph")
except Started:
    pass
except SystemExit as exit:
    print(json.dumps({"exit": exit.code}))
"""


def _template_start(*, arguments: list[str]) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", _TEMPLATE_START, *arguments], capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("reports", [True, False], ids=["session reports", "no session reports"])
def test_analyze_group_starts_the_worker_template_before_loading_the_group_stage(
    tmp_path: Path, reports: bool
) -> None:
    from ndx_glymphatic.analysis.task_imports import session_task_imports

    sessions = [tmp_path / "a.nwb", tmp_path / "b.nwb"]
    for session in sessions:
        session.write_bytes(b"")
    arguments = ["analyze-group", *map(str, sessions), "-o", str(tmp_path / "out"), "--workers", "2",
                 *([] if reports else ["--no-session-reports"])]
    started = _template_start(arguments=arguments)
    assert started == {"group_stage_loaded": False, "worker_imports": list(session_task_imports(figures=reports))}
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("workers", "scheduler", "expected"), [
    (2, None, True), (None, None, True), (1, None, False), (None, "tcp://127.0.0.1:8786", False),
])
def test_the_template_is_started_only_for_a_local_cluster(
    monkeypatch: pytest.MonkeyPatch, workers: int | None, scheduler: str | None, expected: bool
) -> None:
    import ndx_glymphatic.batch as batch
    from ndx_glymphatic.analysis.task_imports import prepare_session_workers

    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(batch, "prepare_local_workers", lambda *, worker_imports: calls.append(tuple(worker_imports)))
    prepare_session_workers(workers=workers, scheduler=scheduler, n_sessions=8, figures=True)
    assert bool(calls) == expected


def test_analyze_group_refuses_bad_input_before_starting_the_template(tmp_path: Path) -> None:
    session = tmp_path / "a.nwb"
    session.write_bytes(b"")
    out = tmp_path / "out"
    assert _template_start(arguments=["analyze-group", str(session), "-o", str(out), "--workers", "2"]) == {"exit": 2}
    params = tmp_path / "params.yaml"
    params.write_text("not: [valid\n")
    other = session.with_name("b.nwb")
    other.write_bytes(b"")
    arguments = ["analyze-group", str(session), str(other), "-o", str(out), "--params", str(params)]
    assert _template_start(arguments=arguments) == {"exit": 2}
