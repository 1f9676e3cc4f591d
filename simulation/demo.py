"""``glymph demo``: the whole pipeline on a short simulated session.

simulate rig files (TDT block + EDF EEG/EMG + hypnogram + session.yaml) -> convert to NWB -> validate it
(every layer of ``glymph validate``) -> analyse. Each part of the package adds
its step here as it lands (converters: simulate rig files -> convert; validators: validate;
analysis: analyse -> report), so that in the end demo = simulate rig files -> convert -> validate ->
analyse -> report.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.io import OUTPUT_MANIFEST_NAME, atomic_output_path

if TYPE_CHECKING:
    from ndx_glymphatic.analysis.report import TruthComparison
    from ndx_glymphatic.simulation.truth import GroundTruth

__all__ = ["COMMANDS", "DemoResult", "run_demo", "truth_comparisons"]

#: Length of the demo session: long enough for several 200-s NREM bouts and ~0.02 Hz oscillations.
DEMO_DURATION_S = 3600.0


@dataclass
class DemoResult:
    """Where the demo put its outputs, step by step."""

    output_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    timings_in_s: dict[str, float] = field(default_factory=dict)


def _step(*, result: DemoResult, name: str, started: float) -> None:
    result.timings_in_s[name] = time.perf_counter() - started
    click.echo(f"[demo] {name}: {result.timings_in_s[name]:.1f} s")


def truth_comparisons(*, truth: GroundTruth) -> list[TruthComparison]:
    """The demo report's "metrics vs ground truth" rows: each measure the simulator fixed, with its true value.

    Parameters
    ----------
    truth : GroundTruth
        What the simulator put into the session.

    Returns
    -------
    list of TruthComparison
        Handed to the report as data (the analysis does not import the simulator).
    """
    from ndx_glymphatic.analysis.report import TruthComparison

    rows = [
        TruthComparison(
            label="NE oscillation peak frequency (Hz)",
            metric="ne.oscillation.peak_frequency_in_Hz",
            true_value=truth.ne_frequency_in_Hz,
        ),
        TruthComparison(
            label="NE → blood volume lag (s)",
            metric="coupling.ne_vs_blood_volume.lag_in_s",
            true_value=truth.ne_to_blood_volume_lag_in_s,
        ),
        TruthComparison(
            label="NE → sigma power lag (s)",
            metric="coupling.ne_vs_sigma.lag_in_s",
            true_value=truth.sigma_peak_lag_after_ne_peak_in_s,
        ),
        TruthComparison(
            label="Sigma power preferred NE phase (deg)",
            metric="eeg.sigma_phase_locking.preferred_phase_deg",
            true_value=math.degrees(truth.sigma_phase_offset_rad),
        ),
        TruthComparison(
            label="Micro-arousals detected (count)",
            metric="micro_arousals.detected_n",
            true_value=len(truth.micro_arousal_onsets_in_s),
        ),
        TruthComparison(label="Spindles (count)", metric="eeg.spindles.n", true_value=len(truth.spindle_onsets_in_s)),
        TruthComparison(
            label="CSF tracer 10-90 % rise time (s)",
            metric="csf_tracer.rise_time_in_s",
            true_value=truth.tracer_rise_time_in_s,
        ),
        TruthComparison(
            label="CSF tracer peak (% dF/F)", metric="csf_tracer.peak_percent", true_value=truth.tracer_peak_percent
        ),
    ]
    rows += [
        TruthComparison(
            label=f"{state} (% of the session)",
            metric=f"states.{state}.fraction",
            true_value=100.0 * truth.state_fractions[state],
            scale=100.0,
        )
        for state in ("wake", "NREM", "REM", "micro-arousal")
        if state in truth.state_fractions
    ]
    if truth.lc_stimulation:
        rows.append(
            TruthComparison(
                label="LC stimulation trains (count)",
                metric="lc_stimulation.n_epochs",
                true_value=len(truth.lc_stimulation),
            )
        )
    return rows


#: Written into the folder of ``glymph demo``: a later demo may replace the outputs of this one there.
DEMO_MARKER_NAME = ".glymph-demo"


def _is_demo_folder(*, folder: Path) -> bool:
    """The folder of an earlier demo: its marker, or (demos before the marker) its analysis and ground truth."""
    if (folder / DEMO_MARKER_NAME).is_file():
        return True
    analysis_manifest = folder / "analysis" / OUTPUT_MANIFEST_NAME
    return analysis_manifest.is_file() and (folder / "simulated" / "ground_truth.json").is_file()


def claim_demo_folder(*, output_dir: Path) -> Path:
    """Make ``output_dir`` the demo's folder: new, empty, or the folder of an earlier demo (its marker).

    The demo replaces its own fixed-name outputs (``validation-report.json``, ``simulated/``, ...) on every
    run; a folder holding anything else is refused, so that a demo never replaces a file it did not write.

    Raises
    ------
    InputFileError
        ``output_dir`` is a file, or a folder with files and no demo marker.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise InputFileError(path=output_dir, field="--out", expected="a folder", found="an existing file")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not _is_demo_folder(folder=output_dir):
        raise InputFileError(
            path=output_dir, field="--out", expected="a new or empty folder, or one an earlier demo wrote",
            found=f"a folder with other files (no {DEMO_MARKER_NAME})", hint="choose a new folder",
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / DEMO_MARKER_NAME).write_text("outputs of `glymph demo`, which a later demo replaces\n")
    return output_dir


def run_demo(
    *, output_dir: Path, duration_in_s: float = DEMO_DURATION_S, seed: int = 0, show_progress: bool = True
) -> DemoResult:
    """Run every available step of the pipeline on a simulated session.

    Parameters
    ----------
    output_dir : Path
        Folder for every output: new, empty, or the folder of an earlier demo, whose outputs are replaced
        (:func:`claim_demo_folder`).
    duration_in_s : float
        Length of the simulated session in seconds.
    seed : int
        Seed of the simulator.
    show_progress : bool
        Show progress bars.

    Returns
    -------
    DemoResult
        The output paths by step and how long each step took.
    """
    # Imported here, not at module level: `glymph --help` imports this module and must stay light
    from ndx_glymphatic.analysis import run_analysis
    from ndx_glymphatic.converters.convert import convert_session
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session
    from ndx_glymphatic.simulation.rig_files.session import write_rig_session
    from ndx_glymphatic.validators import validate_file
    from ndx_glymphatic.validators.report import reports_to_json

    output_dir = claim_demo_folder(output_dir=Path(output_dir))
    result = DemoResult(output_dir=output_dir)

    started = time.perf_counter()
    session = simulate_session(parameters=SimulationParameters(duration_in_s=duration_in_s, seed=seed))
    simulated_dir = output_dir / "simulated"
    simulated_dir.mkdir(exist_ok=True)
    result.outputs["ground truth"] = session.ground_truth.write_json(
        path=simulated_dir / "ground_truth.json", overwrite=True
    )
    # The rig files a TDT photometry + Sirenia EEG/EMG setup would write, and their session file
    rig_dir = simulated_dir / "rig"
    write_rig_session(session=session, outdir=rig_dir, format="tdt", overwrite=True, show_progress=show_progress)
    result.outputs["rig files"] = rig_dir
    result.outputs["session file"] = rig_dir / "session.yaml"
    _step(result=result, name="simulate rig files", started=started)

    started = time.perf_counter()
    nwb_path = convert_session(
        session_path=rig_dir / "session.yaml",
        output_path=simulated_dir / f"{session.session_id}.nwb",
        overwrite=True,
        progress=show_progress,
    ).output_path
    result.outputs["NWB file"] = nwb_path
    _step(result=result, name="convert", started=started)

    started = time.perf_counter()
    from ndx_glymphatic.analysis.readiness import readiness_checks

    report = validate_file(path=nwb_path, profile="all", readiness_checks=readiness_checks())
    report_path = output_dir / "validation-report.json"
    with atomic_output_path(destination=report_path, overwrite=True) as temporary:
        temporary.write_text(json.dumps(reports_to_json(reports=[report], profile="all"), indent=2))
    result.outputs["validation report"] = report_path
    if not report.is_conformant:
        raise click.ClickException(f"validation failed (see {report_path}):\n{report.format_text()}")
    _step(result=result, name="validation", started=started)

    started = time.perf_counter()
    # profile "all" above includes the analysis-readiness layer, so the check is not repeated
    analysis = run_analysis(
        nwb_path=nwb_path, output_dir=output_dir / "analysis", overwrite=True, show_progress=show_progress, check=False
    )
    result.outputs["analysis metrics"] = analysis.metrics_path
    # the same report again, now with the simulator's ground truth beside the measures
    from ndx_glymphatic.analysis.report import render_session_report

    with atomic_output_path(destination=analysis.report_path, overwrite=True) as temporary:
        render_session_report(
            document=analysis.document,
            figures=analysis.figure_paths,
            path=temporary,
            truth=truth_comparisons(truth=session.ground_truth),
        )
    result.outputs["analysis report"] = analysis.report_path
    _step(result=result, name="analysis", started=started)
    return result


@click.command(name="demo")
@click.option(
    "--out",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("glymph-demo"),
    show_default=True,
    help="Folder for the demo outputs.",
)
@click.option(
    "--duration-s",
    "duration_in_s",
    type=click.FloatRange(min=60.0),
    default=DEMO_DURATION_S,
    show_default=True,
    help="Length of the simulated session, seconds.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Simulator seed.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def demo(output_dir: Path, duration_in_s: float, seed: int, no_progress: bool) -> None:
    """Run the whole pipeline on a simulated session and print where the outputs are."""
    result = run_demo(output_dir=output_dir, duration_in_s=duration_in_s, seed=seed, show_progress=not no_progress)
    click.echo("")
    click.echo(f"Demo outputs in {result.output_dir.resolve()}:")
    for label, path in result.outputs.items():
        click.echo(f"  {label:<18} {path.resolve()}")


COMMANDS = [demo]
