"""One session end to end: readiness gate, reduction, the steps, metrics.json, figures, report.html.

:func:`run_analysis` is what ``glymph analyze`` and ``glymph demo`` call. It refuses a file that
fails the readiness gate (:mod:`~ndx_glymphatic.analysis.readiness`: ``NotReadyError``, exit 1,
nothing written), then reads the file lazily (:mod:`~ndx_glymphatic.analysis.session`), runs the
steps (:func:`analyze_session` composes :data:`~ndx_glymphatic.analysis.steps.SESSION_STEPS`), and
writes the whole output folder atomically (:func:`ndx_glymphatic.io.atomic_output_dir`).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ndx_glymphatic.analysis import metrics as m
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.session import SessionData, raw_sample_count, read_session
from ndx_glymphatic.analysis.steps import SESSION_STEPS, Step, StepContext
from ndx_glymphatic.errors import InputFileError, NotReadyError
from ndx_glymphatic.io import atomic_output_dir, check_output_dir
from ndx_glymphatic.remote import (
    RemoteFileError,
    Source,
    as_source,
    is_url,
    network_errors,
    network_failure,
    open_binary,
    open_h5,
    source_name,
)

__all__ = [
    "AnalysisResult",
    "FileNotReadyError",
    "SessionAnalysis",
    "analyze_file",
    "analyze_session",
    "build_document",
    "check_readiness",
    "run_analysis",
    "write_outputs",
]


@dataclass
class SessionAnalysis(StepContext):
    """Every result of one session, in memory: the context the steps ran on, with their results.

    Attributes
    ----------
    session, params, times, rate_in_Hz, traces, results
        As in :class:`~ndx_glymphatic.analysis.steps.StepContext`; ``results`` holds every step's
        :class:`~ndx_glymphatic.analysis.steps.StepResult`, by step name, in run order.
    notes : list of str
        The reading's notes, then each step's.
    timings_in_s : dict
        Seconds spent reading/reducing the file and running the steps (filled by :func:`analyze_file`).
    """

    notes: list[str] = field(default_factory=list)
    timings_in_s: dict[str, float] = field(default_factory=dict)

    @property
    def figures(self) -> set[str]:
        """The figures the steps' curves feed."""
        return {name for result in self.results.values() for name in result.figures}

    def metric_sections(self) -> dict[str, Any]:
        """The ``metrics`` section of metrics.json, assembled from the steps' typed sections."""
        return m.merge_sections(
            sections={path: section for result in self.results.values() for path, section in result.metrics.items()}
        )

    def document_curves(self) -> dict[str, Any]:
        """The ``curves`` section of metrics.json."""
        return {name: curve for result in self.results.values() for name, curve in result.document_curves.items()}


@dataclass(frozen=True)
class AnalysisResult:
    """What :func:`run_analysis` wrote.

    Attributes
    ----------
    output_dir : Path
    metrics_path, report_path : Path
    figure_paths : list of Path
    derived_nwb_path : Path or None
    document : dict
        The full metrics.json content.
    """

    output_dir: Path
    metrics_path: Path
    report_path: Path
    figure_paths: list[Path]
    derived_nwb_path: Path | None
    document: dict[str, Any]

    @property
    def metrics(self) -> dict[str, Any]:
        """The ``metrics`` section."""
        return self.document["metrics"]


def analyze_session(
    *, session: SessionData, params: AnalysisParams, steps: Sequence[Step] = SESSION_STEPS
) -> SessionAnalysis:
    """Run the steps, in order, on a reduced session (pure: no file access but a full-rate control fit).

    Parameters
    ----------
    session : SessionData
        From :func:`~ndx_glymphatic.analysis.session.read_session`.
    params : AnalysisParams
    steps : sequence of Step
        Default: :data:`~ndx_glymphatic.analysis.steps.SESSION_STEPS`.

    Returns
    -------
    SessionAnalysis

    Raises
    ------
    NotReadyError
        Without an NE signal (the grid every step uses) or a hypnogram (the bouts every step uses).
    """
    if session.ne_signal is None:
        raise NotReadyError(f"{session.path}: no norepinephrine signal channel to analyse")
    if session.hypnogram is None:
        raise NotReadyError(f"{session.path}: no hypnogram (sleep_states) to select NREM bouts")
    grid = session.ne_signal.decimated
    analysis = SessionAnalysis(
        session=session, params=params, times=grid.times, rate_in_Hz=grid.rate_in_Hz, notes=list(session.notes)
    )
    for step in steps:
        result = step.run(context=analysis)
        analysis.results[step.name] = result
        analysis.notes.extend(result.notes)
    return analysis


#: Chunk cache per dataset: hdmf's own when it opens a path (the reduction reads each chunk once, in order).
_CHUNK_CACHE_BYTES = 32 * 2**20


def analyze_file(
    *, nwb_path: Source, params: AnalysisParams, show_progress: bool, check: bool = False, second_process: bool = True
) -> SessionAnalysis:
    """Open one NWB file (a local path or an ``http(s)://`` URL), reduce it, run the steps, close it.

    Parameters
    ----------
    nwb_path : Path or str
        A URL is read by HTTP range requests: only the datasets the analysis reads are fetched.
    params : AnalysisParams
    show_progress : bool
        A tqdm bar over the raw samples read.
    check : bool
        Run the readiness gate for ``params`` on the open file first (the file is opened once for both).
        The NaN runs of the streams the analysis reduces are judged from that reduction, which reads
        every sample of them once, for the gate and for the analysis alike.
    second_process : bool
        Reduce the photometry streams in a second process while this one reduces EEG and EMG (see
        :func:`~ndx_glymphatic.analysis.session.read_session`); a batch that already runs a session per
        core gains nothing from it.

    Returns
    -------
    SessionAnalysis
        With ``timings_in_s`` filled in.

    Raises
    ------
    FileNotReadyError
        With ``check``: the file failed the gate (its report says why).
    """
    if check:
        return _gated_analysis(nwb_path=nwb_path, params=params, show_progress=show_progress,
                               second_process=second_process)
    from pynwb import NWBHDF5IO

    from ndx_glymphatic import load_namespace

    load_namespace()  # before reading, so that the file's objects are our classes
    h5file = open_h5(nwb_path, rdcc_nbytes=_CHUNK_CACHE_BYTES)
    try:
        with warnings.catch_warnings(), network_errors(source=nwb_path):
            warnings.simplefilter("ignore")
            io = NWBHDF5IO(file=h5file, mode="r", load_namespaces=True)
    except BaseException:
        h5file.close()
        raise
    try:
        with network_errors(source=nwb_path):
            nwbfile = io.read()
            session, read_in_s = _read(nwbfile=nwbfile, nwb_path=nwb_path, params=params, show_progress=show_progress,
                                       second_process=second_process)
            return _run_steps(session=session, params=params, read_in_s=read_in_s)
    finally:
        io.close()
        h5file.close()


class FileNotReadyError(NotReadyError):
    """A file failed the readiness gate; ``report`` is its validation report."""

    def __init__(self, *, path: Source, report: Any) -> None:
        self.report = report
        super().__init__(
            f"{path} is not ready for analysis; nothing was written. Fix these and run again:\n" + report.format_text()
        )


def _gated_analysis(
    *, nwb_path: Source, params: AnalysisParams, show_progress: bool, second_process: bool
) -> SessionAnalysis:
    from ndx_glymphatic.analysis.readiness import readiness_checks
    from ndx_glymphatic.analysis.session import series_read_in_full
    from ndx_glymphatic.validators.api import open_validated

    with network_errors(source=nwb_path), open_validated(
        path=nwb_path, profile="analysis", readiness_checks=readiness_checks(params=params),
        chunk_cache_bytes=_CHUNK_CACHE_BYTES,
        nan_runs_judged_later=lambda nwbfile: series_read_in_full(nwbfile=nwbfile),
    ) as (report, nwbfile):
        _refuse_unless_passes(path=nwb_path, report=report)
        judged = series_read_in_full(nwbfile=nwbfile)
        try:
            session, read_in_s = _read(nwbfile=nwbfile, nwb_path=nwb_path, params=params, show_progress=show_progress,
                                       second_process=second_process)
        except Exception:
            # a read that fails may be the damage the skipped check would have reported: report it so
            _judge_nan_runs(path=nwb_path, report=report, series_runs=[(series, None) for series in judged])
            raise
        _judge_nan_runs(path=nwb_path, report=report,
                        series_runs=[(series, session.nan_runs.get(series.object_id)) for series in judged])
        return _run_steps(session=session, params=params, read_in_s=read_in_s)


def _refuse_unless_passes(*, path: Source, report: Any) -> None:
    if report.passes:
        return
    cause = network_failure(source=path)
    if cause is not None:  # the gate could not read the URL: that is the one thing to say
        raise RemoteFileError(url=str(path), cause=cause)
    raise FileNotReadyError(path=path, report=report)


def _judge_nan_runs(*, path: Source, report: Any, series_runs: list[tuple[Any, Any]]) -> None:
    """Add ``check_nan_runs``' findings on the series the reduction read; refuse the file if one is an error.

    A series whose run is None (the reduction did not see all its samples) is read here, in chunks.
    """
    from ndx_glymphatic.validators._check_tools import chunk_length
    from ndx_glymphatic.validators.checks_data_integrity import longest_nan_run
    from ndx_glymphatic.validators.layers import nan_run_messages, unreadable_series_message

    known = []
    for series, run in series_runs:
        try:
            known.append((series, run if run is not None else longest_nan_run(data=series.data,
                                                                               length=chunk_length())))
        except OSError as error:  # h5py cannot read stored bytes: what the check says of a damaged series
            report.add(messages=[unreadable_series_message(series=series, error=error)])
    report.add(messages=nan_run_messages(series_runs=known))
    _refuse_unless_passes(path=path, report=report)


def _read(
    *, nwbfile: Any, nwb_path: Source, params: AnalysisParams, show_progress: bool, second_process: bool
) -> tuple[SessionData, float]:
    progress = _Progress(
        total=raw_sample_count(nwbfile=nwbfile), enabled=show_progress,
        description=f"reading {source_name(nwb_path)}",
    )
    try:
        started = time.perf_counter()
        session = read_session(nwbfile=nwbfile, path=str(nwb_path), params=params, progress=progress,
                               parallel=second_process)
        return session, time.perf_counter() - started
    finally:
        progress.close()


def _run_steps(*, session: SessionData, params: AnalysisParams, read_in_s: float) -> SessionAnalysis:
    # the file stays open for the steps: a full-rate control fit reads the raw streams
    started = time.perf_counter()
    analysis = analyze_session(session=session, params=params)
    analysis.timings_in_s = {"read_and_reduce": read_in_s, "steps": time.perf_counter() - started}
    return analysis


def check_readiness(*, path: Source, params: AnalysisParams) -> None:
    """Run the readiness gate for ``params`` alone; raise :class:`FileNotReadyError` listing the violations.

    Parameters
    ----------
    path : Path
        The NWB file.
    params : AnalysisParams
        The parameters the analysis will run with.
    """
    from ndx_glymphatic.analysis.readiness import not_ready_reports

    for report in not_ready_reports(paths=[path], params=params):
        _refuse_unless_passes(path=path, report=report)


def build_document(*, analysis: SessionAnalysis, nwb_path: Source) -> m.MetricsDocument:
    """metrics.json of one session, as the typed document (validated on construction)."""
    from ndx_glymphatic import __version__

    session = analysis.session
    return m.MetricsDocument.model_validate(
        {
            "schema_version": m.METRICS_SCHEMA_VERSION,
            "package": {"name": "ndx-glymphatic", "version": __version__},
            "input": {
                "path": str(nwb_path),
                "identifier": session.identifier,
                "session_id": session.session_id,
                "subject_id": session.subject_id,
                "condition": session.condition,
                "is_control": session.is_control,
                "session_start_time": session.session_start_time,
                "duration_in_s": session.duration_in_s,
                "drug": m.json_ready(session.drug),
                "channels": {
                    key: getattr(session, key).name if getattr(session, key) is not None else None
                    for key in ("ne_signal", "ne_control", "blood_volume", "csf_tracer")
                },
            },
            "parameters": analysis.params.to_dict(),
            "notes": analysis.notes,
            "metrics": analysis.metric_sections(),
            "curves": analysis.document_curves(),
            "run": {"timings_in_s": analysis.timings_in_s},
        }
    )


def write_metrics_files(*, folder: Path, document: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``metrics.json`` and, beside it, ``metrics_schema.json`` (the schema the report's footer points to).

    Returns
    -------
    metrics_path, schema_path : Path
    """
    from ndx_glymphatic.analysis.metrics import metrics_schema

    metrics_path = folder / "metrics.json"
    schema_path = folder / "metrics_schema.json"
    metrics_path.write_text(json.dumps(document, indent=2) + "\n")
    schema_path.write_text(json.dumps(metrics_schema(), indent=2) + "\n")
    return metrics_path, schema_path


def write_outputs(
    *,
    analysis: SessionAnalysis,
    nwb_path: Source,
    folder: Path,
    write_derived: bool = False,
    figures: bool = True,
) -> tuple[dict[str, Any], list[Path], Path | None]:
    """Write metrics.json, figures/*.png, report.html (and optionally the derived NWB file) into ``folder``.

    With ``figures=False`` only metrics.json (and the derived file) are written.

    Returns
    -------
    document : dict
        metrics.json as written.
    figures : list of Path
    derived : Path or None
    """
    from ndx_glymphatic.analysis.report import render_session_figures, render_session_report

    document = build_document(analysis=analysis, nwb_path=nwb_path).to_json()
    write_metrics_files(folder=folder, document=document)
    figure_paths: list[Path] = []
    if figures:
        figure_paths = render_session_figures(analysis=analysis, folder=folder / "figures")
        render_session_report(document=document, figures=figure_paths, path=folder / "report.html")
    derived = None
    if write_derived:
        from ndx_glymphatic.analysis.derived import write_derived_file

        derived = write_derived_file(analysis=analysis, document=document, nwb_path=nwb_path, folder=folder)
    return document, figure_paths, derived


class _Progress:
    def __init__(self, *, total: int, enabled: bool, description: str) -> None:
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="sample", unit_scale=True, desc=description, leave=False)

    def __call__(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_analysis(
    *,
    nwb_path: str | Path,
    output_dir: str | Path,
    params: AnalysisParams | None = None,
    overwrite: bool = False,
    show_progress: bool | None = None,
    write_derived: bool = False,
    check: bool = True,
    figures: bool = True,
) -> AnalysisResult:
    """Analyse one session file and write metrics.json, figures and report.html into ``output_dir``.

    Parameters
    ----------
    nwb_path : str or Path
        The NWB file: a local path or an ``http(s)://`` URL (read by HTTP range requests, nothing downloaded).
    output_dir : str or Path
        Folder to create (or, with ``overwrite``, a folder glymph wrote before to replace); written atomically.
    params : AnalysisParams, optional
        Defaults: the published values.
    overwrite : bool
        Replace an earlier output folder of glymph.
    show_progress : bool, optional
        tqdm bar; default: only when stderr is a terminal.
    write_derived : bool
        Also write the derived NWB file ``sub-X_ses-Y_desc-processed_<modalities>.nwb``
        (:mod:`~ndx_glymphatic.analysis.derived`).
    check : bool
        Run the readiness gate first (the command line always does). Without it, measures whose
        requirements are not met come out null, with notes.
    figures : bool
        Draw the figures and report.html (False: metrics.json only).

    Returns
    -------
    AnalysisResult

    Raises
    ------
    NotReadyError
        The file failed the readiness gate (nothing written).
    InputFileError
        Unreadable input or unusable output folder.
    """
    nwb_path = as_source(nwb_path)
    params = params or AnalysisParams()
    if is_url(nwb_path):
        with open_binary(nwb_path):
            pass  # reachable (raises RemoteFileError otherwise), before any output folder is made
    elif not nwb_path.is_file():
        raise InputFileError(path=nwb_path, field="input", expected="an existing NWB file", found="nothing")
    output_dir = check_output_dir(destination=output_dir, overwrite=overwrite)
    enabled = sys.stderr.isatty() if show_progress is None else show_progress
    with atomic_output_dir(destination=output_dir, overwrite=overwrite) as folder:
        analysis = analyze_file(nwb_path=nwb_path, params=params, show_progress=enabled, check=check)
        document, figure_paths, derived = write_outputs(
            analysis=analysis, nwb_path=nwb_path, folder=folder, write_derived=write_derived, figures=figures
        )
    return AnalysisResult(
        output_dir=output_dir,
        metrics_path=output_dir / "metrics.json",
        report_path=output_dir / "report.html",
        figure_paths=[output_dir / "figures" / path.name for path in figure_paths],
        derived_nwb_path=output_dir / derived.name if derived is not None else None,
        document=document,
    )
