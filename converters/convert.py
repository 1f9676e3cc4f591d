"""Convert one recording session (session file + rig files) into one NWB file.

``convert_session`` is the Python API behind ``glymph convert SESSION.yaml -o OUT.nwb``:

1. check the session file (schema, cross-references, files exist) -- every problem at once;
2. open the rig files (headers only) and check them against the session file, align clocks, read the
   hypnogram -- the first mismatch is one clear error naming file, field, expected and found;
3. write the NWB file to a temporary file beside ``output_path`` (structure with pynwb, then the big
   data streamed chunk by chunk) and rename it into place only when everything succeeded.

Nothing is written before steps 1 and 2 pass; an existing ``output_path`` is never replaced without
``overwrite=True``; a failure never leaves a partial file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ndx_glymphatic.builder import CompressionSettings, write_nwbfile
from ndx_glymphatic.converters.plan import plan_conversion
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.io import atomic_output_path
from ndx_glymphatic.session import load_session

__all__ = ["ConversionResult", "convert_session"]


@dataclass(frozen=True)
class ConversionResult:
    """What a conversion wrote.

    Attributes
    ----------
    output_path : Path
        The NWB file.
    series : dict of str to int
        Samples written per series (``"ne_465nm"``, ``"EEG"``, ...).
    notes : list of str
        Non-fatal findings of the readers (values outside an EDF's physical range, a block without a
        stop marker, a start time that differs from the session file's, ...).
    clock_alignment : dict or None
        Slope, offset and residuals of the EEG/EMG clock alignment, when there was one.
    seconds : float
        Wall time of the conversion.
    """

    output_path: Path
    series: dict[str, int]
    notes: list[str] = field(default_factory=list)
    clock_alignment: dict[str, float] | None = None
    seconds: float = 0.0


def convert_session(
    *,
    session_path: str | Path,
    output_path: str | Path,
    overwrite: bool = False,
    progress: bool = True,
    compression: CompressionSettings | None = None,
) -> ConversionResult:
    """Convert the session described by a session file into one NWB file.

    Parameters
    ----------
    session_path : str or Path
        The session file (YAML, or JSON for ``.json``); rig-file paths in it are relative to it.
    output_path : str or Path
        The NWB file to create.
    overwrite : bool
        Replace an existing ``output_path``.
    progress : bool
        Show a progress bar (only when stderr is a terminal).
    compression : CompressionSettings, optional
        Chunking and compression of the big datasets; default gzip level 4 with shuffle, compressed in
        one thread per core.

    Returns
    -------
    ConversionResult

    Raises
    ------
    ndx_glymphatic.session.SessionFileError
        The session file has problems (all listed).
    ndx_glymphatic.errors.InputFileError
        A rig file does not match the session file, is corrupt or truncated, or the output path is a
        directory or exists without ``overwrite``.
    """
    started = time.perf_counter()
    output_path = Path(output_path)
    _check_output_path(output_path=output_path, overwrite=overwrite)
    session = load_session(path=session_path)
    plan = plan_conversion(session=session)
    try:
        with atomic_output_path(destination=output_path, overwrite=overwrite) as temporary:
            write_nwbfile(session=plan.session, sources=plan.sources, path=temporary, settings=compression,
                          progress=progress)
    finally:
        plan.close()
    alignment = None
    fit = plan.sources.clock_alignment
    if fit is not None:
        alignment = {
            "slope": fit.slope,
            "offset_in_s": fit.offset_in_s,
            "residual_rms_in_s": fit.residual_rms_in_s,
            "max_abs_residual_in_s": fit.max_abs_residual_in_s,
            "number_of_matched_pulses": fit.number_of_matched_pulses,
        }
    return ConversionResult(
        output_path=output_path,
        series={series.name: series.n_samples for series in plan.sources.series},
        notes=plan.all_notes(),
        clock_alignment=alignment,
        seconds=time.perf_counter() - started,
    )


def _check_output_path(*, output_path: Path, overwrite: bool) -> None:
    """Refuse a bad output path before reading anything (the atomic writer checks again at the end)."""
    if output_path.is_dir():
        raise InputFileError(path=output_path, field="output path", expected="a file path", found="a directory")
    if output_path.exists() and not overwrite:
        raise InputFileError(
            path=output_path,
            field="output path",
            expected="a path that does not exist yet",
            found="an existing file",
            hint="pass --overwrite to replace it",
        )
    if output_path.suffix.lower() != ".nwb":
        raise InputFileError(
            path=output_path, field="output path", expected="a file name ending in .nwb",
            found=repr(output_path.name),
        )
    folder = output_path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the first existing ancestor: missing folders are created
    if not folder.is_dir():
        raise InputFileError(path=folder, field="output folder", expected="a folder", found="a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputFileError(path=folder, field="output folder", expected="a folder you may write to",
                             found="no write permission")
