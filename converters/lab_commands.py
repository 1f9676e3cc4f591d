"""``glymph describe`` and ``glymph init``: what a rig file holds, and a session file started from it.

The commands import the readers inside their bodies: ``glymph --help`` imports this module and must
not pay for them.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["COMMANDS", "describe", "init"]

_RIG_FORMAT_HELP = "The rig file's format (the session file's `format`); recognised from the path when omitted."


@click.command("describe")
@click.argument("rig_path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output as a table or as JSON.",
)
@click.option("--rig-format", default=None, help=_RIG_FORMAT_HELP)
def describe(rig_path: Path, output_format: str, rig_format: str | None) -> None:
    """Print what RIG_PATH (a rig file or TDT block folder) holds, from its headers.

    The format found, the start time, the duration, every stream (name, rate, samples, channels,
    unit) and every event channel (name, count, first / last onset): the names a session file's
    `stream`, `events` and `*_ttl_channel` fields take. No sample data is read.
    """
    import json

    from ndx_glymphatic.converters.describe import describe_rig, render_description

    description = describe_rig(path=rig_path, format=rig_format)
    if output_format == "json":
        click.echo(json.dumps(description.to_dict(), indent=2))
    else:
        click.echo(render_description(description=description))


@click.command("init")
@click.argument("rig_paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The session file to write (YAML).",
)
@click.option(
    "--hypnogram",
    "hypnogram_path",
    type=click.Path(path_type=Path),
    default=None,
    help="A sleep-scoring file to add as the hypnogram section.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
def init(rig_paths: tuple[Path, ...], output_path: Path, hypnogram_path: Path | None, overwrite: bool) -> None:
    """Write a session file for RIG_PATH... (a photometry file and/or an EDF EEG/EMG file), filled from their headers.

    Channels, rates, start time, events, EEG/EMG labels and the rig's device preset come from the
    files; every answer they cannot give is a `# TODO` line that `glymph validate` refuses until filled.
    """
    from ndx_glymphatic.converters.describe import describe_rig
    from ndx_glymphatic.converters.init_session import session_file_text
    from ndx_glymphatic.errors import InputFileError
    from ndx_glymphatic.io import atomic_output_path

    descriptions = [describe_rig(path=path) for path in rig_paths]
    if hypnogram_path is not None and not hypnogram_path.is_file():
        raise InputFileError(
            path=hypnogram_path, field="(path)", expected="an existing scoring file", found="no such file"
        )
    text = session_file_text(descriptions=descriptions, destination=output_path, hypnogram=hypnogram_path)
    with atomic_output_path(destination=output_path, overwrite=overwrite) as temporary:
        temporary.write_text(text, encoding="utf-8")
    todos = sum("# TODO" in line for line in text.splitlines())
    click.echo(f"wrote {output_path}: fill its {todos} TODO lines, then `glymph validate {output_path}`")


COMMANDS: list[click.Command] = [describe, init]
