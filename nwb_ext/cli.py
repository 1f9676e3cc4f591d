"""The ``glymph`` command line.

Subcommands of the parts of the package (``convert``, ``validate``, ``analyze``, ...) live beside
the code they drive, in ``ndx_glymphatic.<part>.commands``, each module exposing ``COMMANDS``, a
list of click commands that this group adds.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import Any

import click

from ndx_glymphatic.errors import GlymphError

__all__ = ["main", "readiness_checks"]

#: Key in click's context ``meta`` of the readiness checks ``glymph validate`` runs
#: (``ndx_glymphatic.validators.commands.READINESS_CHECKS_META_KEY``; not imported: start-up stays light).
_READINESS_CHECKS_META_KEY = "ndx_glymphatic.readiness_checks"

# Parts are imported lazily, in this order, only until the invoked command is found (``--help`` imports all):
# `glymph convert` then costs neither the simulator's nor the analysis' imports (time and memory).
_PARTS_WITH_COMMANDS = ("converters", "simulation", "validators", "analysis", "demo")
_registered_parts: set[str] = set()


class _GlymphGroup(click.Group):
    """A click group that turns :class:`GlymphError` into a one-line message and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GlymphError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            _register_part_commands(until=cmd_name)
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register_part_commands()
        return super().list_commands(ctx)


@click.group(cls=_GlymphGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ndx-glymphatic")
@click.pass_context
def main(ctx: click.Context) -> None:
    """ndx-glymphatic: convert, validate and analyse sleep / glymphatic photometry sessions in NWB."""
    # validators sit below the analysis package and never import it: the checks are handed down from here
    ctx.meta[_READINESS_CHECKS_META_KEY] = readiness_checks


def readiness_checks() -> list[Callable[[Any], Any]]:
    """The analysis-readiness checks (nwbinspector check functions) of the ``analysis`` validation layer.

    They are generated from what the analysis steps require under the published parameters
    (:func:`ndx_glymphatic.analysis.readiness.readiness_checks`).
    """
    from ndx_glymphatic.analysis.readiness import readiness_checks as generated

    return generated()


def _register_part_commands(*, until: str | None = None) -> None:
    """Add the commands of every part not added yet; stop early once a command named ``until`` exists."""
    for part in _PARTS_WITH_COMMANDS:
        if until is not None and until in main.commands:
            return
        if part in _registered_parts:
            continue
        _registered_parts.add(part)
        module_name = "ndx_glymphatic.simulation.demo" if part == "demo" else f"ndx_glymphatic.{part}.commands"
        if importlib.util.find_spec(module_name) is None:
            continue
        for command in importlib.import_module(module_name).COMMANDS:
            main.add_command(command)
