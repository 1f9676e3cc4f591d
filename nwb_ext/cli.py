"""The ``glymph`` command line.

Subcommands of the parts of the package (``convert``, ``validate``, ``analyze``, ...) live beside
the code they drive, in ``ndx_glymphatic.<part>.commands``, each module exposing ``COMMANDS``, a
list of click commands that this group adds. Those modules import only click and light modules at
import time (the heavy ones inside the command functions), so ``glymph --help`` and
``glymph COMMAND --help`` import no NWB stack; ``tests/test_startup.py`` keeps it so.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import signal
import sys
from collections.abc import Callable
from typing import Any

import click

from ndx_glymphatic.analysis import commands as analysis_commands
from ndx_glymphatic.converters import commands as converters_commands
from ndx_glymphatic.errors import GlymphError
from ndx_glymphatic.simulation import commands as simulation_commands
from ndx_glymphatic.simulation import demo
from ndx_glymphatic.validators import commands as validators_commands

__all__ = ["main", "readiness_checks"]


class _Stopped(BaseException):
    """A termination signal arrived: unwinds like Ctrl-C, so every ``finally`` removes its partial output."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second signal must not interrupt the clean-up
    raise _Stopped(signum)


def _skip_final_collection() -> None:
    """Exempt every live object from the interpreter's last garbage collection at exit.

    That collection walks every object the NWB stack created (about 0.5 s after an analysis) only to free
    memory the process is giving back anyway; every output was closed and renamed into place before.
    """
    global _final_collection_skipped
    if not _final_collection_skipped:
        atexit.register(gc.freeze)
        _final_collection_skipped = True


_final_collection_skipped = False


class _GlymphGroup(click.Group):
    """A click group that turns :class:`GlymphError` into a one-line message and an exit code, and SIGTERM,
    SIGHUP and Ctrl-C into a clean stop (partial outputs removed, exit code 128 + signal number)."""

    def invoke(self, ctx: click.Context):
        _skip_final_collection()
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP)}
        for signum, handler in previous.items():
            if handler is signal.SIG_DFL:
                with contextlib.suppress(ValueError):  # ValueError: not the main thread (an embedding program)
                    signal.signal(signum, _stop)
        try:
            return super().invoke(ctx)
        except GlymphError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)
        except (_Stopped, KeyboardInterrupt) as stop:
            signum = stop.signum if isinstance(stop, _Stopped) else signal.SIGINT
            click.echo(f"error: stopped by {signal.Signals(signum).name}; partial outputs removed", err=True)
            sys.exit(128 + signum)
        finally:
            for signum, handler in previous.items():
                with contextlib.suppress(ValueError, TypeError):
                    signal.signal(signum, handler)


@click.group(cls=_GlymphGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ndx-glymphatic")
@click.pass_context
def main(ctx: click.Context) -> None:
    """ndx-glymphatic: convert, validate and analyse sleep / glymphatic photometry sessions in NWB."""
    # validators sit below the analysis package and never import it: the checks are handed down from here
    ctx.meta[validators_commands.READINESS_CHECKS_META_KEY] = readiness_checks


def readiness_checks() -> list[Callable[[Any], Any]]:
    """The analysis-readiness checks (nwbinspector check functions) of the ``analysis`` validation layer.

    They are generated from what the analysis steps require under the published parameters
    (:func:`ndx_glymphatic.analysis.readiness.readiness_checks`).
    """
    from ndx_glymphatic.analysis.readiness import readiness_checks as generated

    return generated()


def _schema_text(name: str) -> str:
    """The published JSON Schema called ``name``, generated from its one typed definition."""
    if name == "session":
        from ndx_glymphatic.session import session_schema_text

        return session_schema_text()
    if name == "params":
        from ndx_glymphatic.analysis.params import params_schema_text

        return params_schema_text()
    import json

    from ndx_glymphatic.analysis.metrics import metrics_schema

    return json.dumps(metrics_schema(), indent=2) + "\n"


@click.command("schema")
@click.argument("name", type=click.Choice(["session", "params", "metrics"]))
@click.option("--example", is_flag=True, help="Print an annotated example session file instead (NAME session).")
def schema(name: str, example: bool) -> None:
    """Print a published JSON Schema: session (conversion session file), params (analysis parameters) or
    metrics (metrics.json)."""
    if example:
        if name != "session":
            raise click.UsageError("--example exists for the session file only")
        from ndx_glymphatic.session import session_example_text

        click.echo(session_example_text(), nl=False)
        return
    click.echo(_schema_text(name), nl=False)


for _command in (
    schema,
    *converters_commands.COMMANDS,
    *simulation_commands.COMMANDS,
    *validators_commands.COMMANDS,
    *analysis_commands.COMMANDS,
    *demo.COMMANDS,
):
    main.add_command(_command)
