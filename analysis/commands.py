"""``glymph analyze`` and ``glymph analyze-group``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ndx_glymphatic.batch import batch_options
from ndx_glymphatic.remote import SOURCE, Source

if TYPE_CHECKING:
    from ndx_glymphatic.analysis.params import AnalysisParams

__all__ = ["COMMANDS", "analyze", "analyze_group"]


def _params(path: Path | None) -> AnalysisParams:
    from ndx_glymphatic.analysis.params import load_params

    return load_params(path=path)


@click.command("analyze")
@click.argument("nwb_file", type=SOURCE)
@click.option("-o", "--output", "output_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write metrics.json, figures/ and report.html into (created atomically).")
@click.option("--params", "params_path", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML overriding the published defaults (checked against params_schema.json).")
@click.option("--overwrite", is_flag=True, help="Replace an output folder glymph wrote before.")
@click.option("--write-derived", is_flag=True,
              help="Also write a small derived NWB file (sub-X_ses-Y_desc-processed_*.nwb): dF/F, events, bouts, "
              "band power, metrics.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def analyze(
    nwb_file: Source,
    output_dir: Path,
    params_path: Path | None,
    overwrite: bool,
    write_derived: bool,
    no_progress: bool,
) -> None:
    """Reference analysis of one session (NE oscillation, coupling, EEG, micro-arousals, tracer kinetics).

    NWB_FILE is a path or an http(s):// URL (e.g. a DANDI asset URL), read by range requests.

    The file must pass the readiness gate (generated for the parameters given) first; a file that
    does not is refused (exit code 1, violations listed, nothing written).
    """
    from ndx_glymphatic.analysis.pipeline import run_analysis

    result = run_analysis(
        nwb_path=nwb_file,
        output_dir=output_dir,
        params=_params(params_path),
        overwrite=overwrite,
        show_progress=False if no_progress else None,
        write_derived=write_derived,
    )
    oscillation = result.metrics["ne"]["oscillation"]
    frequency = oscillation.get("peak_frequency_in_Hz")
    click.echo(
        f"NE oscillation in NREM: {frequency:.4f} Hz over {oscillation['n_bouts']} bouts"
        if frequency is not None
        else "NE oscillation: no NREM bout long enough"
    )
    for note in result.document["notes"]:
        click.echo(f"note: {note}")
    click.echo(f"wrote {result.metrics_path}, {result.report_path} and {len(result.figure_paths)} figures")
    if result.derived_nwb_path is not None:
        click.echo(f"wrote the derived NWB file {result.derived_nwb_path}")


def _checked_group_inputs(*, inputs: list[Source], output_dir: Path, overwrite: bool) -> list[Source]:
    """The sessions of ``analyze-group``, after the checks that refuse a call before anything starts."""
    from ndx_glymphatic.analysis.cohort_inputs import collect_inputs
    from ndx_glymphatic.io import check_output_dir

    check_output_dir(destination=output_dir, overwrite=overwrite)
    return collect_inputs(paths=inputs)


@click.command("analyze-group")
@click.argument("inputs", nargs=-1, required=True, type=SOURCE)
@click.option("-o", "--output", "output_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for sessions.csv, comparisons.csv, predictors.csv, group.json, report.html.")
@click.option("--params", "params_path", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML overriding the published defaults (checked against params_schema.json).")
@click.option("--overwrite", is_flag=True, help="Replace an output folder glymph wrote before.")
@click.option("--no-session-reports", is_flag=True,
              help="Write each session's metrics.json only (no per-session figures and report.html).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
@batch_options
def analyze_group(
    inputs: tuple[Source, ...],
    output_dir: Path,
    params_path: Path | None,
    overwrite: bool,
    no_session_reports: bool,
    no_progress: bool,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Analyse many sessions (files or folders): metrics table, drug vs vehicle, clearance predictors.

    INPUTS may be http(s):// URLs and .txt files listing paths or URLs, one per line.

    Only files that pass the analysis-readiness validation are analysed. A session that is not ready,
    or fails, is left out of the group's tables (listed in left_out_sessions.csv and the report) while
    the others are analysed; each is listed here and the exit code is 1. When no session could be
    analysed, nothing is written.
    """
    from ndx_glymphatic.analysis.task_imports import prepare_session_workers

    files = _checked_group_inputs(inputs=list(inputs), output_dir=output_dir, overwrite=overwrite)
    params = _params(params_path) if params_path is not None else None  # a user's file may be wrong: read it first
    # before the group stage is imported: the template's imports are on every worker's way to its first session
    prepare_session_workers(workers=workers, scheduler=scheduler, n_sessions=len(files), figures=not no_session_reports)
    from ndx_glymphatic.analysis.cohort import run_group_analysis

    result = run_group_analysis(
        inputs=files,
        output_dir=output_dir,
        params=params,
        overwrite=overwrite,
        show_progress=False if no_progress else None,
        session_reports=not no_session_reports,
        workers=workers,
        scheduler=scheduler,
    )
    click.echo(f"{len(result.rows)} sessions analysed; {len(result.comparisons)} condition comparisons")
    if result.predictors:
        best = result.predictors[0]
        click.echo(f"best predictor of clearance: {best.predictor} (R^2 = {best.r_squared:.3f})")
    click.echo(f"wrote {result.report_path}")
    if result.left_out:
        for session in result.left_out:
            click.echo(f"LEFT OUT {session.file}: {session.reason}:\n{_indented(session.details)}", err=True)
        total = len(result.rows) + len(result.left_out)
        click.echo(f"{len(result.rows)} of {total} sessions analysed, {len(result.left_out)} left out of the group "
                   "tables", err=True)
        sys.exit(1)


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.strip().splitlines())


COMMANDS: list[click.Command] = [analyze, analyze_group]
