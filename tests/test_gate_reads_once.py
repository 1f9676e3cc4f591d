"""``glymph analyze`` opens a file once and reads each sample once, for the readiness gate and the analysis.

The gate's ``check_nan_runs`` passes over the streams the analysis reduces; their NaN runs come out of
that reduction (:class:`ndx_glymphatic.nan_runs.NanRunTracker`), in this process or in the photometry
worker process. What the gate says must not change: the same message, exit 1, nothing written.
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
from ndx_glymphatic.nan_runs import ColumnView, NanRun, NanRunTracker
from ndx_glymphatic.validators.checks_data_integrity import longest_nan_run


def _write_session(*, path: Path, duration_in_s: float = 600.0) -> Path:
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session
    from ndx_glymphatic.simulation.nwb import write_session_nwb

    parameters = SimulationParameters(duration_in_s=duration_in_s, seed=4, photometry_rate_in_Hz=50.0,
                                      ephys_rate_in_Hz=128.0)
    return write_session_nwb(session=simulate_session(parameters=parameters), path=path)


@pytest.fixture(scope="module")
def clean_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_session(path=tmp_path_factory.mktemp("gate") / "clean.nwb")


def _with_nan_run(*, clean_file: Path, target: Path, dataset: str, first: int, length: int, column: int | None = None
                  ) -> Path:
    shutil.copyfile(clean_file, target)
    with h5py.File(target, "r+") as h5file:
        data = h5file[dataset]
        if column is None:
            data[first:first + length] = np.nan
        else:
            data[first:first + length, column] = np.nan
    return target


# ------------------------------------------------------------------------------------------ the tracker
def _nan_data(*, seed: int, n_samples: int, n_columns: int) -> np.ndarray:
    generator = np.random.default_rng(seed)
    data = generator.standard_normal((n_samples, n_columns)).astype(np.float32)
    for _ in range(12):
        column = int(generator.integers(n_columns))
        first = int(generator.integers(n_samples))
        data[first:first + int(generator.integers(1, 400)), column] = np.nan
    return data


@pytest.mark.parametrize("seed", range(6))
def test_tracker_fed_in_uneven_overlapping_slices_equals_one_pass(seed: int) -> None:
    data = _nan_data(seed=seed, n_samples=5000, n_columns=3)
    expected = longest_nan_run(data=data, length=997)
    tracker = NanRunTracker(n_samples=data.shape[0])
    generator = np.random.default_rng(100 + seed)
    start = 0
    while start < data.shape[0]:
        stop = min(data.shape[0], start + int(generator.integers(1, 700)))
        again = max(0, start - int(generator.integers(0, 300)))  # re-reads of samples already seen count once
        tracker.update(first_index=again, block=data[again:stop])
        start = stop
    assert tracker.complete and not tracker.has_hole
    assert tracker.longest == expected
    assert expected.length > 0


def test_tracker_with_a_hole_is_never_complete() -> None:
    data = _nan_data(seed=1, n_samples=1000, n_columns=1)
    tracker = NanRunTracker(n_samples=1000)
    tracker.update(first_index=0, block=data[:400])
    tracker.update(first_index=500, block=data[500:])
    assert tracker.has_hole and not tracker.complete


def test_column_view_feeds_every_column_and_returns_one() -> None:
    data = np.zeros((300, 2), dtype=np.float32)
    data[100:250, 1] = np.nan  # only in the column that is not read
    tracker = NanRunTracker(n_samples=300)
    view = ColumnView(data=data, column=0, nan_runs=tracker)
    parts = [view[start:start + 64] for start in range(0, 300, 64)]
    assert np.array_equal(np.concatenate(parts), data[:, 0])
    assert tracker.complete
    assert tracker.longest == NanRun(length=150, first_index=100, column=1)


# ------------------------------------------------------------------------------------------ the command
def _analyze(source: Path, output: Path) -> object:
    return CliRunner().invoke(main, ["analyze", str(source), "-o", str(output), "--no-progress"],
                              catch_exceptions=False)


def _validate_messages(source: Path) -> list[str]:
    result = CliRunner().invoke(main, ["validate", str(source), "--profile", "analysis", "--format", "json",
                                       "--no-progress"], catch_exceptions=False)
    (report,) = json.loads(result.output)["files"]
    return [m["message"] for m in report["messages"] if m["check"] == "check_nan_runs"]


@pytest.mark.parametrize(
    ("dataset", "column"),
    [("acquisition/ne_465nm/data", None), ("acquisition/EMG/data", None), ("acquisition/EEG/data", 1)],
    ids=["photometry", "emg", "eeg-column-the-analysis-does-not-use"],
)
def test_a_long_nan_run_in_a_stream_the_analysis_reads_is_refused_as_the_gate_says(
    clean_file: Path, tmp_path: Path, dataset: str, column: int | None
) -> None:
    damaged = _with_nan_run(clean_file=clean_file, target=tmp_path / "nan.nwb", dataset=dataset, first=2000,
                            length=1500, column=column)
    expected = _validate_messages(damaged)
    assert len(expected) == 1 and "consecutive NaN samples" in expected[0]
    result = _analyze(damaged, tmp_path / "out")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert expected[0] in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out*"))


def test_a_short_nan_run_passes(clean_file: Path, tmp_path: Path) -> None:
    allowed = _with_nan_run(clean_file=clean_file, target=tmp_path / "short.nwb",
                            dataset="acquisition/ne_465nm/data", first=2000, length=20)  # 0.4 s at 50 Hz
    result = _analyze(allowed, tmp_path / "out")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]


def test_a_corrupted_chunk_of_a_stream_is_reported_as_unreadable(clean_file: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "corrupt.nwb"
    shutil.copyfile(clean_file, damaged)
    with h5py.File(damaged, "r") as h5file:
        info = h5file["acquisition/ne_465nm/data"].id.get_chunk_info(0)
    with open(damaged, "r+b") as handle:
        handle.seek(info.byte_offset + 16)
        handle.write(bytes(range(256)) * 4)
    result = _analyze(damaged, tmp_path / "out")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert "cannot be read" in result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


def test_the_photometry_worker_finds_the_same_nan_runs_as_this_process(
    clean_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynwb import NWBHDF5IO

    from ndx_glymphatic.analysis import session as session_module
    from ndx_glymphatic.analysis.params import AnalysisParams

    damaged = _with_nan_run(clean_file=clean_file, target=tmp_path / "nan.nwb", dataset="acquisition/ne_465nm/data",
                            first=2000, length=1500)
    monkeypatch.setattr(session_module, "_PARALLEL_MIN_SAMPLES", 0)
    runs = {}
    for parallel in (True, False):
        with NWBHDF5IO(str(damaged), "r") as io:
            session = session_module.read_session(nwbfile=io.read(), path=str(damaged), params=AnalysisParams(),
                                                  parallel=parallel)
        assert not session.notes  # the worker ran (no fallback note)
        runs[parallel] = session.nan_runs
    assert runs[True] == runs[False]
    assert NanRun(length=1500, first_index=2000, column=0) in runs[True].values()
    assert None not in runs[True].values()  # every stream read from its first sample to its last
