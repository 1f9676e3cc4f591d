"""``glymph simulate``: write a synthetic session with ground truth."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ndx_glymphatic.errors import GlymphError, InputFileError
from ndx_glymphatic.simulation.parameters import CONDITIONS, SimulationParameters
from ndx_glymphatic.simulation.writers import OUTPUT_FORMATS

__all__ = ["COMMANDS", "simulate"]

GROUND_TRUTH_FILE_NAME = "ground_truth.json"


@click.command("simulate")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--duration-s", "duration_in_s", type=float, default=3600.0, show_default=True, help="Session length in seconds."
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed.")
@click.option(
    "--ne-frequency-hz",
    "ne_frequency_in_Hz",
    type=float,
    default=0.02,
    show_default=True,
    help="NREM NE oscillation frequency.",
)
@click.option("--condition", type=click.Choice(CONDITIONS), default="vehicle", show_default=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(OUTPUT_FORMATS)),
    default="nwb",
    show_default=True,
    help="Output format of the recorded data.",
)
@click.option("--photometry-rate-hz", "photometry_rate_in_Hz", type=float, default=1017.25, show_default=True)
@click.option(
    "--ephys-rate-hz", "ephys_rate_in_Hz", type=float, default=512.0, show_default=True, help="EEG/EMG sampling rate."
)
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
def simulate(
    outdir: Path,
    duration_in_s: float,
    seed: int,
    ne_frequency_in_Hz: float,
    condition: str,
    output_format: str,
    photometry_rate_in_Hz: float,
    ephys_rate_in_Hz: float,
    overwrite: bool,
    no_progress: bool,
) -> None:
    """Simulate a sleep session with NE, blood volume, CSF tracer, EEG/EMG and ground truth in OUTDIR.

    Writes the recording (OUTDIR/<session_id>.nwb for --format nwb) and OUTDIR/ground_truth.json.
    The same options always give the same files.
    """
    try:
        parameters = SimulationParameters(
            duration_in_s=duration_in_s,
            seed=seed,
            ne_frequency_in_Hz=ne_frequency_in_Hz,
            condition=condition,
            photometry_rate_in_Hz=photometry_rate_in_Hz,
            ephys_rate_in_Hz=ephys_rate_in_Hz,
        )
    except ValueError as error:
        raise GlymphError(f"invalid simulation options: {error}") from error
    truth_path = outdir / GROUND_TRUTH_FILE_NAME
    if truth_path.exists() and not overwrite:
        raise InputFileError(
            path=truth_path,
            field="output path",
            expected="a path that does not exist yet",
            found="an existing file",
            hint="pass --overwrite to replace it",
        )
    from ndx_glymphatic.simulation.latents import simulate_session
    from ndx_glymphatic.simulation.writers import session_writers

    show_progress = not no_progress and sys.stderr.isatty()
    session = simulate_session(parameters=parameters)
    written = session_writers()[output_format](
        session=session, outdir=outdir, overwrite=overwrite, show_progress=show_progress
    )
    written.append(session.ground_truth.write_json(path=truth_path, overwrite=overwrite))
    for path in written:
        click.echo(str(path))


COMMANDS: list[click.Command] = [simulate]
