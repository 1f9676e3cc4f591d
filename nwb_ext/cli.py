"""The ``glymph`` command line.

Subcommands of the parts of the package (``convert``, ``validate``, ``analyze``, ...) live beside
the code they drive, in ``ndx_glymphatic.<part>.commands``, each module exposing ``COMMANDS``, a
list of click commands that this group adds.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from ndx_glymphatic.errors import GlymphError

__all__ = ["main"]

_PARTS_WITH_COMMANDS = ("simulation", "converters", "validators", "analysis", "demo")


class _GlymphGroup(click.Group):
    """A click group that turns :class:`GlymphError` into a one-line message and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GlymphError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)


@click.group(cls=_GlymphGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ndx-glymphatic")
def main() -> None:
    """ndx-glymphatic: convert, validate and analyse sleep / glymphatic photometry sessions in NWB."""


def _register_part_commands() -> None:
    for part in _PARTS_WITH_COMMANDS:
        module_name = f"ndx_glymphatic.{part}" if part == "demo" else f"ndx_glymphatic.{part}.commands"
        if importlib.util.find_spec(module_name) is None:
            continue
        for command in importlib.import_module(module_name).COMMANDS:
            main.add_command(command)


_register_part_commands()
