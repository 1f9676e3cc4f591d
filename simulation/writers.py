"""Output formats of ``glymph simulate``: a registry of session writers.

A session writer has the signature ``writer(*, session, outdir, overwrite, show_progress) -> list[Path]``
and writes the high-rate data of ``session`` into ``outdir`` (through
:func:`ndx_glymphatic.io.atomic_output_path`), returning the paths it created. ``ground_truth.json``
is written by the command itself for every format.

``"nwb"`` writes the NWB file of the simulated rig (read in memory, no rig files) through the same planning
and builder as ``glymph convert``; the rig formats (TDT, Doric, NPM, pyPhotometry) write the files a real
rig would, with their session file, from :mod:`ndx_glymphatic.simulation.rig_files`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ndx_glymphatic.simulation.latents import SimulatedSession

__all__ = ["OUTPUT_FORMATS", "SessionWriter", "nwb_session_writer", "session_writers"]

#: The names of :func:`session_writers`, known without importing the writers (``glymph simulate --help``).
OUTPUT_FORMATS: tuple[str, ...] = ("nwb", "tdt", "doric", "npm", "ppd")


class SessionWriter(Protocol):
    """Writes one simulated session into a folder; returns the files it created."""

    def __call__(
        self, *, session: SimulatedSession, outdir: Path, overwrite: bool, show_progress: bool
    ) -> list[Path]: ...


def nwb_session_writer(*, session: SimulatedSession, outdir: Path, overwrite: bool, show_progress: bool) -> list[Path]:
    """Write ``OUTDIR/<session_id>.nwb``."""
    from ndx_glymphatic.simulation.nwb import write_session_nwb

    path = Path(outdir) / f"{session.session_id}.nwb"
    return [write_session_nwb(session=session, path=path, overwrite=overwrite, show_progress=show_progress)]


def session_writers() -> dict[str, SessionWriter]:
    """Every output format by name: ``"nwb"`` plus the rig formats."""
    from ndx_glymphatic.simulation.rig_files.session import SESSION_WRITERS

    return {"nwb": nwb_session_writer, **{name: w for name, w in SESSION_WRITERS.items() if name != "nwb"}}
