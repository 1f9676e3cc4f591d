"""``glymph convert`` and ``glymph schema``: the converter's command line.

The commands import the converter inside their bodies: ``glymph --help`` imports this module and must
not pay for pynwb.
"""

from __future__ import annotations

from pathlib import Path

import click

from ndx_glymphatic.batch import batch_options
from ndx_glymphatic.converters import lab_commands

__all__ = ["COMMANDS", "convert"]


@click.command("convert")
@click.argument("session_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output_path", type=click.Path(path_type=Path), default=None,
              help="The NWB file to write, or for many sessions the folder (required unless --check-only).")
@click.option("--overwrite", is_flag=True,
              help="Replace the existing file named by -o (a link there: the link; never a folder); for many "
                   "sessions, the existing files of those sessions in the folder.")
@click.option("--compression", type=click.Choice(["gzip", "lzf", "none"]), default="gzip", show_default=True,
              help="HDF5 filter of the big datasets (gzip is readable everywhere; lzf only by h5py).")
@click.option("--compression-level", type=click.IntRange(0, 9), default=4, show_default=True,
              help="gzip level.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Compression threads (default: one per core).")
@click.option("--check-only", is_flag=True,
              help="Only check the session file, and the stream / event names it gives against the rig headers.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@batch_options
def convert(
    session_files: tuple[Path, ...], output_path: Path | None, overwrite: bool, compression: str,
    compression_level: int, threads: int | None, check_only: bool, no_progress: bool, workers: int | None,
    scheduler: str | None,
) -> None:
    """Convert the session described by a session file (YAML or JSON) into one NWB file.

    The session file names the rig files (paths relative to it) and holds the metadata; see
    `glymph schema session`. Nothing is written unless every check passes, and an existing file is
    only replaced with --overwrite.

    Many session files, or folders (searched for session.yaml/.yml/.json), with -o OUTDIR: one file per
    session in OUTDIR, named as DANDI expects (sub-<id>_ses-<id>_<modalities>.nwb), converted on a Dask
    cluster (--workers, --scheduler); each failure is listed and the exit code is 1 if any failed.
    """
    # one session file and a file name (a wrong suffix is refused below, as is a folder named *.nwb) is the
    # single-file case
    if len(session_files) > 1 or session_files[0].is_dir() or (
        output_path is not None and not check_only and output_path.suffix.lower() != ".nwb"
        and (output_path.is_dir() or not output_path.suffix)
    ):
        _convert_many(inputs=session_files, output_dir=output_path, overwrite=overwrite, compression=compression,
                      compression_level=compression_level, threads=threads, progress=not no_progress,
                      workers=workers, scheduler=scheduler)
        return
    session_file = session_files[0]
    if check_only:
        from ndx_glymphatic.session import SessionFileError, validate_session_file

        problems = validate_session_file(path=session_file)
        if problems:
            raise SessionFileError(path=session_file, problems=problems)
        from ndx_glymphatic.converters.check_rig import rig_name_problems
        from ndx_glymphatic.session import load_session

        problems = rig_name_problems(session=load_session(path=session_file))
        if problems:
            raise SessionFileError(path=session_file, problems=problems)
        click.echo(f"{session_file}: session file is valid and every stream and event channel it names is in "
                   "its rig files")
        return
    if output_path is None:
        raise click.UsageError("Missing option '-o' / '--output' (the NWB file to write).")
    from ndx_glymphatic.builder import CompressionSettings
    from ndx_glymphatic.converters.convert import convert_session

    settings = CompressionSettings(
        method=compression, level=compression_level,
        **({"n_threads": threads} if threads is not None else {}),
    )
    result = convert_session(
        session_path=session_file, output_path=output_path, overwrite=overwrite, progress=not no_progress,
        compression=settings,
    )
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.clock_alignment is not None:
        fit = result.clock_alignment
        click.echo(
            f"clock alignment: {fit['number_of_matched_pulses']} pulses, drift {(fit['slope'] - 1) * 1e6:.1f} ppm, "
            f"offset {fit['offset_in_s']:.4f} s, residual RMS {fit['residual_rms_in_s'] * 1e3:.3f} ms",
            err=True,
        )
    click.echo(f"wrote {result.output_path} ({result.seconds:.1f} s)")


def _convert_many(*, inputs: tuple[Path, ...], output_dir: Path | None, overwrite: bool, compression: str,
                  compression_level: int, threads: int | None, progress: bool, workers: int | None,
                  scheduler: str | None) -> None:
    import sys

    from ndx_glymphatic.batch import format_failures
    from ndx_glymphatic.builder import CompressionSettings
    from ndx_glymphatic.converters.batch_convert import collect_session_files, convert_batch

    if output_dir is None:
        raise click.UsageError("Missing option '-o' / '--output' (the folder to write the NWB files into).")
    settings = CompressionSettings(method=compression, level=compression_level,
                                   **({"n_threads": threads} if threads is not None else {}))
    outcomes = convert_batch(session_files=collect_session_files(inputs=inputs), output_dir=output_dir,
                             overwrite=overwrite, compression=settings, progress=progress, workers=workers,
                             scheduler=scheduler)
    for outcome in outcomes:
        if outcome.ok:
            click.echo(f"wrote {outcome.value} (from {outcome.item})")
    for line in format_failures(outcomes=outcomes, what="sessions converted"):
        click.echo(line, err=True)
    sys.exit(0 if all(outcome.ok for outcome in outcomes) else 1)


COMMANDS: list[click.Command] = [convert, *lab_commands.COMMANDS]
