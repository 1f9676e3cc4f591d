"""glymph analyze / analyze-group: refusal of files that are not analysis-ready, edge cases, atomic output."""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from pathlib import Path

import h5py
import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from pynwb import NWBHDF5IO

from ndx_glymphatic.analysis.metrics import metrics_schema
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.pipeline import run_analysis
from ndx_glymphatic.cli import main
from ndx_glymphatic.errors import NotReadyError
from ndx_glymphatic.testing.mock import mock_glymphatic_nwbfile


def _write_mock(path: Path, *, duration_in_s: float) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(str(path), mode="w") as io:
            io.write(mock_glymphatic_nwbfile(duration_in_s=duration_in_s))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 15-min analysis-ready mock session and edited copies of it."""
    folder = tmp_path_factory.mktemp("cli_files")
    good = _write_mock(folder / "good.nwb", duration_in_s=900.0)
    short = _write_mock(folder / "short.nwb", duration_in_s=40.0)
    no_hypnogram = folder / "no_hypnogram.nwb"
    shutil.copyfile(good, no_hypnogram)
    with h5py.File(no_hypnogram, "a") as handle:
        del handle["intervals/sleep_states"]
    no_control = folder / "no_control.nwb"
    shutil.copyfile(good, no_control)
    with h5py.File(no_control, "a") as handle:
        handle["general/fiber_photometry/fiber_photometry_table/control_channel"][0] = -1
    bad_control = folder / "bad_control.nwb"
    shutil.copyfile(good, bad_control)
    with h5py.File(bad_control, "a") as handle:
        # the NE signal names the blood-volume signal row as its control
        handle["general/fiber_photometry/fiber_photometry_table/control_channel"][0] = 2
    gap = folder / "gap.nwb"
    shutil.copyfile(good, gap)
    with h5py.File(gap, "a") as handle:
        rate = handle["acquisition/ne_465nm/starting_time"].attrs["rate"]
        # 30 s of NaN inside the NREM bout 410-700 s (a dropped fibre connection)
        handle["acquisition/ne_465nm/data"][int(500 * rate) : int(530 * rate)] = np.nan
    return {
        "good": good,
        "short": short,
        "no_hypnogram": no_hypnogram,
        "no_control": no_control,
        "bad_control": bad_control,
        "gap": gap,
    }


def _analyze(path: Path, output_dir: Path, **options: object) -> object:
    """run_analysis without the readiness check and (unless asked) without figures."""
    options.setdefault("figures", False)
    return run_analysis(nwb_path=path, output_dir=output_dir, check=False, show_progress=False, **options)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_analyzes_a_ready_file(files: dict[str, Path], tmp_path: Path) -> None:
    code, output = _run("analyze", str(files["good"]), "-o", str(tmp_path / "out"), "--no-progress")
    assert code == 0, output
    assert "NE oscillation in NREM" in output
    document = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert document["metrics"]["ne"]["oscillation"]["peak_frequency_in_Hz"] == pytest.approx(0.02, abs=0.003)
    assert (tmp_path / "out" / "report.html").is_file()
    # an existing non-empty output folder is not replaced silently
    code, output = _run("analyze", str(files["good"]), "-o", str(tmp_path / "out"), "--no-progress")
    assert code == 2 and "--overwrite" in output


@pytest.mark.parametrize(
    ("name", "violation"),
    [
        ("short", "analysis_session_duration"),
        ("no_hypnogram", "analysis_hypnogram"),
        ("bad_control", "analysis_ne_control"),
    ],
)
def test_cli_refuses_files_that_are_not_analysis_ready(
    files: dict[str, Path], tmp_path: Path, name: str, violation: str
) -> None:
    out = tmp_path / "out"
    code, output = _run("analyze", str(files[name]), "-o", str(out), "--no-progress")
    assert code == 1
    assert "not ready for analysis" in output and violation in output
    assert "Traceback" not in output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no partial folder either


def test_group_leaves_out_a_file_that_is_not_ready_and_analyses_the_others(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "group"
    code, output = _run("analyze-group", str(files["good"]), str(files["short"]), "-o", str(out), "--no-progress",
                        "--no-session-reports")
    assert code == 1
    assert f"LEFT OUT {files['short']}: not ready for analysis" in output
    assert "1 of 2 sessions analysed, 1 left out" in output
    with (out / "sessions.csv").open() as handle:
        assert [row["file"] for row in csv.DictReader(handle)] == [str(files["good"])]
    with (out / "left_out_sessions.csv").open() as handle:
        (left_out,) = list(csv.DictReader(handle))
    assert left_out["file"] == str(files["short"]) and left_out["reason"] == "not ready for analysis"
    assert "analysis_session_duration" in left_out["details"]
    assert json.loads((out / "group.json").read_text())["left_out_sessions"][0]["file"] == str(files["short"])
    assert "Sessions left out" in (out / "report.html").read_text()
    assert sorted(path.name for path in (out / "sessions").iterdir()) == ["good"]


def test_group_is_refused_when_no_file_is_ready(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "group"
    code, output = _run("analyze-group", str(files["short"]), str(files["no_hypnogram"]), "-o", str(out),
                        "--no-progress")
    assert code == 1
    assert "2 of 2 files are not ready" in output and "short.nwb" in output and "no_hypnogram.nwb" in output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_bad_params_file_is_refused_before_anything_runs(files: dict[str, Path], tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("bouts:\n  micro_arousal_max_duration_in_s: fifteen\n")
    code, output = _run("analyze", str(files["good"]), "-o", str(tmp_path / "out"), "--params", str(params))
    assert code == 2
    assert "params.yaml" in output and "bouts/micro_arousal_max_duration_in_s" in output
    assert not (tmp_path / "out").exists()


def test_without_control_the_cli_falls_back_to_baseline_median(files: dict[str, Path], tmp_path: Path) -> None:
    code, output = _run("analyze", str(files["no_control"]), "-o", str(tmp_path / "out"), "--no-progress")
    assert code == 0, output
    assert "note: NE has no control channel" in output
    document = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert document["metrics"]["ne"]["preprocessing"]["method"] == "baseline_median"


def test_without_control_the_library_falls_back_or_refuses(files: dict[str, Path], tmp_path: Path) -> None:
    result = _analyze(files["no_control"], tmp_path / "a")
    preprocessing = result.metrics["ne"]["preprocessing"]
    assert preprocessing["method"] == "baseline_median"
    assert any("no control channel" in note for note in result.document["notes"])
    assert result.metrics["ne"]["oscillation"]["peak_frequency_in_Hz"] == pytest.approx(0.02, abs=0.003)
    refuse = AnalysisParams.from_mapping(mapping={"preprocessing": {"without_control": "refuse"}})
    with pytest.raises(NotReadyError, match="no control channel"):
        _analyze(files["no_control"], tmp_path / "b", params=refuse)
    assert not (tmp_path / "b").exists()


def test_nan_run_is_reported_and_splits_the_bout(files: dict[str, Path], tmp_path: Path) -> None:
    clean = _analyze(files["good"], tmp_path / "clean")
    gap = _analyze(files["gap"], tmp_path / "gap")
    assert any("without finite samples" in note for note in gap.document["notes"])
    assert not any("without finite samples" in note for note in clean.document["notes"])
    # the 120-700 s bout (through a micro-arousal) is split at the 30-s gap: 120-500 s and 530-700 s
    assert clean.metrics["ne"]["oscillation"]["n_bouts"] == 1 and gap.metrics["ne"]["oscillation"]["n_bouts"] == 2
    lost = clean.metrics["ne"]["oscillation"]["total_bout_in_s"] - gap.metrics["ne"]["oscillation"]["total_bout_in_s"]
    assert lost == pytest.approx(30.0, abs=3.0)
    assert gap.metrics["ne"]["oscillation"]["peak_frequency_in_Hz"] == pytest.approx(0.02, abs=0.004)
    document = json.loads(gap.metrics_path.read_text())
    assert all(np.isfinite(v) for v in document["curves"]["ne_spectrum"]["normalized_psd"])


def test_no_nrem_bout_long_enough_gives_nulls_and_a_note(files: dict[str, Path], tmp_path: Path) -> None:
    params = AnalysisParams.from_mapping(mapping={"oscillation": {"min_bout_in_s": 1000}})
    result = _analyze(files["good"], tmp_path / "o", params=params, figures=True)
    oscillation = result.metrics["ne"]["oscillation"]
    assert oscillation["peak_frequency_in_Hz"] is None and oscillation["n_bouts"] == 0
    assert any("no NREM bout of at least 1000 s" in note for note in result.document["notes"])
    jsonschema.validate(json.loads(result.metrics_path.read_text()), metrics_schema())
    assert "No NREM bout was long enough" in result.report_path.read_text()


def test_session_shorter_than_one_period_gives_a_clear_result(files: dict[str, Path], tmp_path: Path) -> None:
    result = _analyze(files["short"], tmp_path / "o")
    notes = " ".join(result.document["notes"])
    assert "shorter than one ~50-s period" in notes
    assert result.metrics["ne"]["oscillation"]["peak_frequency_in_Hz"] is None
    assert result.metrics["coupling"]["ne_vs_blood_volume"]["n_bouts"] == 0


def test_failure_leaves_no_partial_output(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ndx_glymphatic.analysis import report

    def explode(**_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "render_session_figures", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        _analyze(files["good"], tmp_path / "out", figures=True)
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_the_folder_atomically(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    _analyze(files["good"], out)
    (out / "stale.txt").write_text("old")
    _analyze(files["good"], out, overwrite=True)
    assert not (out / "stale.txt").exists() and (out / "metrics.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_overwrite_never_replaces_a_folder_glymph_did_not_write(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("precious")
    code, output = _run("analyze", str(files["good"]), "-o", str(out), "--overwrite", "--no-progress")
    assert code == 2 and "glymph did not write" in output
    assert (out / "thesis.txt").read_text() == "precious" and sorted(p.name for p in out.iterdir()) == ["thesis.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_full_rate_robust_control_fit_through_the_pipeline(files: dict[str, Path], tmp_path: Path) -> None:
    decimated = _analyze(files["good"], tmp_path / "decimated")
    params = AnalysisParams.from_mapping(
        mapping={"preprocessing": {"fit_on": "full_rate", "control_fit": "irls", "robust_norm": "bisquare"}}
    )
    full = _analyze(files["good"], tmp_path / "full", params=params)
    fit = full.metrics["ne"]["preprocessing"]
    assert fit["fit_on"] == "full_rate" and fit["fit"] == "irls-bisquare"
    with h5py.File(files["good"], "r") as handle:
        assert fit["n_samples"] == handle["acquisition/ne_465nm/data"].shape[0]
    assert fit["slope"] == pytest.approx(decimated.metrics["ne"]["preprocessing"]["slope"], rel=0.05)
    assert full.metrics["ne"]["oscillation"]["peak_frequency_in_Hz"] == pytest.approx(
        decimated.metrics["ne"]["oscillation"]["peak_frequency_in_Hz"], abs=0.0005
    )
