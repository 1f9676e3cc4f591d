"""`glymph demo` runs end to end; its NWB file reads and validates with plain pynwb; the README example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import ndx_glymphatic
from ndx_glymphatic.cli import main

REPOSITORY = Path(__file__).resolve().parents[1]
PYNWB_ONLY_READER = Path(ndx_glymphatic.__file__).parent / "testing" / "pynwb_only_reader.py"
#: Short enough for the test suite, long enough for several NREM bouts.
TEST_DEMO_DURATION_S = "1200"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output_dir = tmp_path_factory.mktemp("demo") / "glymph-demo"
    result = CliRunner().invoke(
        main, ["demo", "--out", str(output_dir), "--duration-s", TEST_DEMO_DURATION_S, "--no-progress"]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"Demo outputs in {output_dir.resolve()}" in result.output
    return output_dir


def _demo_nwb_file(demo_dir: Path) -> Path:
    readme = (REPOSITORY / "README.md").read_text()
    relative = re.search(r'NWBHDF5IO\("glymph-demo/([^"]+\.nwb)"', readme).group(1)
    return demo_dir / relative


def test_demo_file_reads_and_validates_with_plain_pynwb(demo_dir: Path) -> None:
    nwb_file = _demo_nwb_file(demo_dir)
    result = subprocess.run([sys.executable, str(PYNWB_ONLY_READER), str(nwb_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "validation errors: 0" in lines
    assert any(line.startswith("interval: sleep_states Hypnogram") for line in lines)
    assert any(line.startswith("acquisition: ne_465nm FiberPhotometryResponseSeries") for line in lines)


def test_readme_python_example_runs_on_the_demo_output(demo_dir: Path) -> None:
    readme = (REPOSITORY / "README.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    example = example.replace('"glymph-demo/', f'"{demo_dir}/')
    result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert re.search(r"\d+ NREM bouts, \d+\.\d min of NREM", result.stdout), result.stdout


def _readme_usage_commands() -> list[str]:
    """The commands of the README's 'Use it on your data' block, without their comments."""
    readme = (REPOSITORY / "README.md").read_text()
    block = re.search(r"<!-- usage-commands -->\n```bash\n(.*?)```", readme, flags=re.DOTALL).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def _outputs_by_command(*, commands: list[str]) -> dict[str, str]:
    return dict(re.findall(r"^glymph (\w+) .*-o (\S+)$", "\n".join(commands), flags=re.MULTILINE))


def test_readme_usage_commands_run_in_order(tmp_path: Path) -> None:
    """The README's 'Use it on your data' commands run as written (a shorter session keeps the suite fast)."""
    commands = _readme_usage_commands()
    assert commands[0].startswith("glymph simulate") and len(commands) == 6
    commands[0] = commands[0].replace("--duration-s 1800", "--duration-s 900")
    for command in commands:
        arguments = command.split()[1:]
        result = subprocess.run([sys.executable, "-m", "ndx_glymphatic", *arguments], capture_output=True, text=True,
                                cwd=tmp_path)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, command
    outputs = _outputs_by_command(commands=commands)
    assert (tmp_path / outputs["analyze"] / "report.html").exists()
    assert list((tmp_path / outputs["organize"]).glob("sub-*/sub-*_ses-*.nwb"))


def test_readme_usage_commands_write_nothing_the_repository_has() -> None:
    """A newcomer runs the usage commands in the clone they just made: no output may be one of its own folders,
    where the tool would refuse (or, for a file, the command would fail) instead of showing the pipeline."""
    commands = _readme_usage_commands()
    simulated_session_file = Path(commands[1].split()[-1])  # what `glymph simulate` wrote, as the next command reads it
    outputs = {Path(name).parts[0] for name in _outputs_by_command(commands=commands).values()}
    outputs.add(simulated_session_file.parts[0])
    assert len(outputs) == 4, outputs
    assert not outputs & {path.name for path in REPOSITORY.iterdir()}, outputs


def test_demo_report_compares_its_metrics_with_its_ground_truth(demo_dir: Path) -> None:
    page = (demo_dir / "analysis" / "report.html").read_text()
    assert "<h2>Demo: metrics vs ground truth</h2>" in page
    assert "ne.oscillation.peak_frequency_in_Hz" in page and "<h2>Not computed</h2>" in page


def test_demo_refuses_a_folder_with_files_it_did_not_write(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "validation-report.json").write_text("the lab's own report\n")
    result = CliRunner().invoke(main, ["demo", "--out", str(folder), "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "no .glymph-demo" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(path.name for path in folder.iterdir()) == ["validation-report.json"]
    assert (folder / "validation-report.json").read_text() == "the lab's own report\n"


def test_demo_takes_back_the_folder_of_an_earlier_demo(demo_dir: Path) -> None:
    from ndx_glymphatic.simulation.demo import DEMO_MARKER_NAME, claim_demo_folder

    assert (demo_dir / DEMO_MARKER_NAME).is_file()
    assert (demo_dir / "validation-report.json").is_file()
    assert claim_demo_folder(output_dir=demo_dir) == demo_dir  # outputs of a demo: the next demo may replace them


def test_demo_takes_back_the_folder_of_a_demo_older_than_its_marker(demo_dir: Path, tmp_path: Path) -> None:
    import shutil

    from ndx_glymphatic.errors import InputFileError
    from ndx_glymphatic.simulation.demo import DEMO_MARKER_NAME, claim_demo_folder

    older = tmp_path / "older-demo"
    shutil.copytree(demo_dir, older)
    (older / DEMO_MARKER_NAME).unlink()
    assert claim_demo_folder(output_dir=older) == older
    (older / "analysis" / ".glymph-outputs.json").unlink()  # then nothing says a demo wrote it
    (older / DEMO_MARKER_NAME).unlink()
    with pytest.raises(InputFileError, match=r"no \.glymph-demo"):
        claim_demo_folder(output_dir=older)
