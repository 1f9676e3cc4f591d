"""Output formats of ``glymph simulate``: a registry of session writers.

A session writer has the signature ``writer(*, session, outdir, overwrite, show_progress) -> list[Path]``
and writes the high-rate data of ``session`` into ``outdir`` (through
:func:`ndx_glymphatic.io.atomic_output_path`), returning the paths it created. ``ground_truth.json``
is written by the command itself for every format.

The NWB writer is built in. Rig formats (TDT, Doric, NPM, pyPhotometry) live with the converters:
a module ``ndx_glymphatic.converters.session_writers`` exposing ``SESSION_WRITERS: dict[str, writer]``
is merged in when it exists, so adding a format needs no edit here.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Protocol

from ndx_glymphatic.simulation.latents import SimulatedSession

__all__ = ["SessionWriter", "nwb_session_writer", "session_writers"]

_EXTERNAL_WRITERS_MODULE = "ndx_glymphatic.converters.session_writers"


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
    """Every available output format by name: ``"nwb"`` plus any registered by the converters."""
    writers: dict[str, SessionWriter] = {"nwb": nwb_session_writer}
    try:
        spec = importlib.util.find_spec(_EXTERNAL_WRITERS_MODULE)
    except ModuleNotFoundError:
        spec = None
    if spec is not None:
        external = importlib.import_module(_EXTERNAL_WRITERS_MODULE).SESSION_WRITERS
        writers.update({name: writer for name, writer in external.items() if name != "nwb"})
    return writers
