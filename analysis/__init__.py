"""Reference analysis of sleep / glymphatic photometry sessions (``glymph analyze``, ``glymph analyze-group``).

Modules, one per topic: :mod:`.preprocessing` (smoothing, decimation, control fit, dF/F),
:mod:`.bouts` (sleep states, micro-arousal rule, NREM bouts), :mod:`.oscillation` (infraslow
spectrum, peaks, amplitude), :mod:`.coupling` (cross-correlation, phase-locking), :mod:`.eeg`
(spectrogram, band powers, spindles), :mod:`.arousal` (micro-arousal detection and scoring),
:mod:`.kinetics` (tracer influx / efflux), :mod:`.triggered` (event-triggered averages),
:mod:`.group` (statistics). :mod:`.steps` puts them behind one Step contract (requirements, params
sections, ``run(context) -> StepResult``); :mod:`.requirements` declares what steps require and
takes a file's inventory; :mod:`.readiness` generates the readiness gate from the requirements;
:mod:`.metrics` is the typed definition of metrics.json; :mod:`.session` reads an NWB file lazily,
:mod:`.pipeline` runs the steps on one session, :mod:`.cohort` on many; :mod:`.report` draws the
figures and report.html; :mod:`.params` holds every parameter. See ``docs/analysis.md``.

The names below are imported on first use, so ``glymph --help`` does not pay for scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AnalysisParams",
    "AnalysisResult",
    "GroupResult",
    "load_params",
    "run_analysis",
    "run_group_analysis",
]

_WHERE = {
    "AnalysisParams": "params",
    "load_params": "params",
    "AnalysisResult": "pipeline",
    "run_analysis": "pipeline",
    "GroupResult": "cohort",
    "run_group_analysis": "cohort",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
