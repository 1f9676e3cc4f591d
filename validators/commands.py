"""``glymph validate`` and ``glymph organize``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ndx_glymphatic.batch import batch_options
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.io import atomic_output_path
from ndx_glymphatic.remote import SOURCE, Source

__all__ = ["COMMANDS", "READINESS_CHECKS_META_KEY", "organize", "validate"]

#: Where the command line on top (``ndx_glymphatic.cli``) puts, in click's context ``meta``, a function returning
#: the analysis-readiness checks: validators never import the analysis package.
READINESS_CHECKS_META_KEY = "ndx_glymphatic.readiness_checks"


def _emit(*, reports: list, profile: str, output_format: str, output: Path | None, show_info: bool,
          overwrite: bool = False) -> None:
    from ndx_glymphatic.validators.report import format_reports_text, reports_to_json

    if output_format == "json":
        text = json.dumps(reports_to_json(reports=reports, profile=profile), indent=2)
    else:
        text = format_reports_text(reports=reports, show_info=show_info)
    if output is None:
        click.echo(text)
    else:
        with atomic_output_path(destination=output, overwrite=overwrite) as temporary:
            temporary.write_text(text + "\n", encoding="utf-8")
        click.echo(f"report written to {output}", err=True)


def _run(*, paths: list[Source], profile: str, output_format: str, output: Path | None, show_info: bool,
         limits: Path | None, progress: bool, isolate: bool, timeout_in_s: float, workers: int | None = 1,
         scheduler: str | None = None, overwrite: bool = False, verify: bool = False) -> int:
    from ndx_glymphatic.validators.api import PROFILE_LAYERS
    from ndx_glymphatic.validators.batch_validate import validate_batch

    injected = click.get_current_context().meta.get(READINESS_CHECKS_META_KEY)
    if output is not None and output.exists() and not overwrite:  # refused before the long validation
        raise InputFileError(path=output, field="output path", expected="a path that does not exist yet",
                             found="an existing file", hint="pass --overwrite to replace it")
    reports = validate_batch(
        paths=paths, profile=profile, readiness_factory=injected if "analysis" in PROFILE_LAYERS[profile] else None,
        limits=limits, isolate=isolate, timeout_in_s=timeout_in_s, progress=progress, workers=workers,
        scheduler=scheduler,
    )
    if verify:
        from ndx_glymphatic.validators.verify import add_verification

        for report in reports:
            add_verification(report=report, progress=progress)
    _emit(reports=reports, profile=profile, output_format=output_format, output=output, show_info=show_info,
          overwrite=overwrite)
    return max((report.exit_code for report in reports), default=0)


_profile_option = click.option(
    "--profile", type=click.Choice(["dandi", "analysis", "all", "derived"]), default="all", show_default=True,
    help="dandi: ready to share on DANDI; analysis: ready for the reference analysis; all: both; "
    "derived: a derived file of `glymph analyze --write-derived`.",
)
_format_option = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                              show_default=True, help="Human text, or JSON (schema: validators/report_schema.json).")


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=SOURCE)
@_profile_option
@_format_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of standard output.")
@click.option("--overwrite", is_flag=True, help="Replace the existing file named by -o.")
@click.option("--limits", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML file overriding limits of the domain checks (see validators/limits.yaml).")
@click.option("--hide-notes", is_flag=True, help="Leave notes (suggestions) out of the text report.")
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@click.option("--no-isolation", is_flag=True,
              help="Validate in this process (faster start; a crash of the HDF5 library on a damaged file then "
                   "ends the run).")
@click.option("--timeout", "timeout_in_s", type=click.FloatRange(min=1.0), default=1800.0, show_default=True,
              help="Seconds after which the validation of one file is stopped and reported.")
@batch_options
@click.option("--verify", is_flag=True,
              help="Also read every chunk of every dataset (HDF5 verifies the checksums) and report the first "
                   "corrupt one.")
def validate(paths: tuple[Source, ...], profile: str, output_format: str, output: Path | None, limits: Path | None,
             hide_notes: bool, no_progress: bool, no_isolation: bool, timeout_in_s: float, workers: int | None,
             scheduler: str | None, verify: bool, overwrite: bool = False) -> None:
    """Validate NWB files (folders are searched recursively) or session files (.yaml/.json) before conversion.

    PATHS may be http(s):// URLs (read by range requests, e.g. DANDI asset URLs) and .txt files listing
    paths or URLs, one per line.

    Layers, reported separately: file, security, schema (pynwb), inspector (nwbinspector, DANDI config),
    domain (ndx-glymphatic checks), dandi (DANDI readiness), analysis (analysis readiness).
    Exit code: 0 conformant, 1 violations, 2 could not run.
    """
    code = _run(paths=list(paths), profile=profile, output_format=output_format, output=output,
                show_info=not hide_notes, limits=limits, progress=not no_progress, isolate=not no_isolation,
                timeout_in_s=timeout_in_s, workers=workers, scheduler=scheduler, overwrite=overwrite, verify=verify)
    sys.exit(code)


@click.command("organize")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "dandiset_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The dandiset folder to lay the files out in.")
@click.option("--mode", type=click.Choice(["copy", "move", "hardlink", "symlink"]), default="copy",
              show_default=True, help="How files get into the dandiset folder.")
@click.option("--overwrite", is_flag=True, help="Replace files already in the dandiset folder.")
@_format_option
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
def organize(files: tuple[Path, ...], dandiset_dir: Path, mode: str, overwrite: bool, output_format: str,
             no_progress: bool) -> None:
    """Lay NWB files out as DANDI expects (sub-<id>/sub-<id>_ses-<id>_<modalities>.nwb), then validate them.

    Writes a dandiset.yaml template if the folder has none. Folders in FILES are searched for .nwb files.
    Exit code: 0 all placed and conformant, 1 violations or files not placed, 2 could not run.
    """
    from ndx_glymphatic.validators.api import collect_paths, validate_paths
    from ndx_glymphatic.validators.organize import organize_files

    nwb_files = [path for path in collect_paths(paths=files) if path.is_file()]
    if not nwb_files:
        raise click.UsageError("no .nwb files found in FILES")
    plan = organize_files(files=nwb_files, dandiset_dir=dandiset_dir, mode=mode, overwrite=overwrite)  # type: ignore[arg-type]
    for source, destination in plan.destinations.items():
        click.echo(f"{source} -> {destination}", err=True)
    for problem in plan.problems.values():
        click.echo(f"not placed: {problem}", err=True)
    code = 1 if plan.problems else 0
    if plan.destinations:
        reports = validate_paths(paths=list(plan.destinations.values()), profile="dandi", progress=not no_progress)
        _emit(reports=reports, profile="dandi", output_format=output_format, output=None, show_info=True)
        code = max([code, *(report.exit_code for report in reports)])
    sys.exit(code)


COMMANDS = [validate, organize]
