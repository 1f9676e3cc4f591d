"""Write a simulated session to NWB through the converter's own path: readers -> planning -> the one builder.

The simulated rig (:mod:`ndx_glymphatic.simulation.rig`) is read by :func:`ndx_glymphatic.converters.plan.plan_session`
with the typed session of ``glymph simulate --format tdt``, and written by :func:`ndx_glymphatic.builder.write_nwbfile`.
So the file has the objects, paths and types of the converted rig-file session, with the simulator's
samples unquantised (photometry in volts, EEG/EMG in microvolts with ``conversion=1e-6``), EEG/EMG on
the photometry clock (their clock alignment is the identity) and the true sleep states as hypnogram.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np

from ndx_glymphatic import __version__
from ndx_glymphatic.builder import write_nwbfile
from ndx_glymphatic.converters._contract import HypnogramIntervals
from ndx_glymphatic.converters.plan import plan_session
from ndx_glymphatic.io import atomic_output_path
from ndx_glymphatic.session import SessionConfig
from ndx_glymphatic.simulation.latents import SimulatedSession
from ndx_glymphatic.simulation.rig import SimulatedEphysReader, SimulatedPhotometryReader
from ndx_glymphatic.simulation.rig_files.session import simulated_session_config

__all__ = ["simulated_rig_session", "write_session_nwb"]

_SCORER = f"ndx-glymphatic {__version__} simulator (ground truth)"


def simulated_rig_session(*, session: SimulatedSession, folder: Path) -> SessionConfig:
    """The typed session of the simulated rig: ``glymph simulate --format tdt``'s, read from the simulator.

    Parameters
    ----------
    session : SimulatedSession
    folder : Path
        Folder the session's rig-file names are relative to (no rig file is written).

    Returns
    -------
    SessionConfig
    """
    p = session.parameters
    config = simulated_session_config(session=session, format_name="tdt", outdir=Path(folder))
    info = config.session.model_copy(update={
        "identifier": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ndx-glymphatic/simulation/{session.session_id}/"
                                     f"{p.to_dict()}")),
        "session_description": f"Simulated {p.duration_in_s / 3600:g} h light-phase sleep session ({p.condition}) "
        "with photometry of norepinephrine, cerebral blood volume and a CSF tracer, EEG and EMG.",
        "notes": f"Written by ndx-glymphatic {__version__} (glymph simulate --format nwb). "
        f"Simulation parameters: {p.to_dict()!r}",
    })
    name = Path(folder) / session.session_id
    photometry = config.photometry.model_copy(update={"file": name.with_name(f"{name.name} simulated photometry")})
    ephys = config.electrophysiology.model_copy(update={"file": name.with_name(f"{name.name} simulated EEG-EMG")})
    hypnogram = config.hypnogram.model_copy(update={
        "file": name.with_name(f"{name.name} ground truth"), "scoring_method": "automatic", "scorer": _SCORER,
        "description": "True sleep states of the simulated session; micro-arousals split their NREM bouts.",
    })
    return config.model_copy(update={"session": info, "photometry": photometry, "electrophysiology": ephys,
                                     "hypnogram": hypnogram})


def _true_sleep_states(session: SimulatedSession) -> HypnogramIntervals:
    rows = session.ground_truth.sleep_states
    return HypnogramIntervals(
        start_times_in_s=np.array([row.start_in_s for row in rows], dtype=np.float64),
        stop_times_in_s=np.array([row.stop_in_s for row in rows], dtype=np.float64),
        sleep_states=tuple(row.state for row in rows), scoring_method="automatic", scorer=_SCORER,
        epoch_length_in_s=None,
    )


def write_session_nwb(
    *, session: SimulatedSession, path: str | Path, overwrite: bool = False, show_progress: bool = False
) -> Path:
    """Write a simulated session to ``path`` (atomically: no partial file on failure).

    Parameters
    ----------
    session : SimulatedSession
    path : str or Path
        The ``.nwb`` file to create.
    overwrite : bool
        Replace an existing file.
    show_progress : bool
        Show a progress bar while the series stream into the file.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    config = simulated_rig_session(session=session, folder=path.parent)
    plan = plan_session(
        session=config,
        photometry_reader=SimulatedPhotometryReader(session=session, path=config.photometry.file),
        ephys_reader=SimulatedEphysReader(session=session, path=config.electrophysiology.file),
        hypnogram=_true_sleep_states(session),
    )
    with atomic_output_path(destination=path, overwrite=overwrite) as temporary:
        write_nwbfile(session=config, sources=plan.sources, path=temporary, progress=show_progress)
    return path
