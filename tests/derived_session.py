"""One analysed 15-min mock session with its derived NWB file, shared by test_derived and test_pynapple."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from pynwb import NWBHDF5IO

from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.pipeline import SessionAnalysis, analyze_file, write_outputs
from ndx_glymphatic.io import atomic_output_dir
from ndx_glymphatic.testing.mock import mock_glymphatic_nwbfile


@dataclass(frozen=True)
class AnalysedSession:
    raw_path: Path
    derived_path: Path
    output_dir: Path
    analysis: SessionAnalysis
    document: dict


def analysed_session(*, folder: Path) -> AnalysedSession:
    """Write the mock session, analyse it in-process (keeping the results) and write the outputs."""
    raw_path = folder / "session.nwb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(str(raw_path), mode="w") as io:
            io.write(mock_glymphatic_nwbfile(duration_in_s=900.0))
        analysis = analyze_file(nwb_path=raw_path, params=AnalysisParams(), show_progress=False)
        output_dir = folder / "analysis"
        with atomic_output_dir(destination=output_dir) as temporary:
            document, _, derived = write_outputs(
                analysis=analysis, nwb_path=raw_path, folder=temporary, write_derived=True, figures=False
            )
    assert derived is not None
    return AnalysedSession(
        raw_path=raw_path,
        derived_path=output_dir / derived.name,
        output_dir=output_dir,
        analysis=analysis,
        document=document,
    )
