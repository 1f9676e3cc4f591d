"""``glymph describe`` and ``glymph init``: what a rig file holds, and a session file started from it.

The commands import the readers inside their bodies: ``glymph --help`` imports this module and must
not pay for them.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["COMMANDS", "describe"]

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


COMMANDS: list[click.Command] = [describe]
