"""The analysis-readiness gate, generated from what the analysis steps declare they require.

Every :class:`~ndx_glymphatic.analysis.requirements.Requirement` of :data:`SESSION_STEPS` becomes one
nwbinspector check (one positional argument, the NWBFile; ``importance`` and ``neurodata_type`` as
``register_check`` sets them; ``InspectorMessage`` results whose text ends with ``" Hint: ..."``),
named after the requirement (``analysis_hypnogram``, ...). Errors are ``CRITICAL``, warnings
``BEST_PRACTICE_VIOLATION``; an nwbinspector config file can override either.

The checks are handed over as a list, never left in nwbinspector's global registry: plain
best-practice inspection (``nwbinspector FILE``, ``glymph validate --profile dandi``) does not judge a
file by what one analysis needs. Run them with nwbinspector's machinery::

    from nwbinspector import inspect_nwbfile_object
    messages = list(inspect_nwbfile_object(nwbfile_object=nwbfile, checks=readiness_checks()))

or as the ``analysis`` layer of ``validate_file(path=..., profile="analysis",
readiness_checks=readiness_checks(params=params))``, which ``glymph analyze`` runs before anything.
The requirements depend on the parameters (minimum bout lengths, the micro-arousal rule), so the
gate judges a file by the analysis that will run on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from nwbinspector import Importance, InspectorMessage
from pynwb import NWBFile

from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.requirements import Requirement, inventory_of
from ndx_glymphatic.analysis.steps import SESSION_STEPS, Step
from ndx_glymphatic.validators import finding, unregistered_check

__all__ = ["analysis_requirements", "not_ready_reports", "readiness_checks"]

_IMPORTANCE = {"error": Importance.CRITICAL, "warning": Importance.BEST_PRACTICE_VIOLATION}


def analysis_requirements(
    *, params: AnalysisParams | None = None, steps: Sequence[Step] = SESSION_STEPS
) -> list[Requirement]:
    """Every requirement the steps declare under ``params`` (defaults: the published values), in step order."""
    params = params or AnalysisParams()
    return [requirement for step in steps for requirement in step.requirements(params=params)]


def _check_for(*, requirement: Requirement) -> Callable[[NWBFile], list[InspectorMessage] | None]:
    def check(nwbfile: NWBFile) -> list[InspectorMessage] | None:
        problems = requirement.problems(inventory=inventory_of(nwbfile=nwbfile))
        hint = f"the analysis needs {requirement.why}"
        high = requirement.severity == "error"
        return [finding(message=problem, hint=hint, high=high) for problem in problems] or None

    check.__name__ = check.__qualname__ = requirement.name
    check.__doc__ = f"Analysis readiness ({requirement.severity}): {requirement.why}."
    return unregistered_check(importance=_IMPORTANCE[requirement.severity], neurodata_type=NWBFile)(check)


def readiness_checks(
    *, params: AnalysisParams | None = None, steps: Sequence[Step] = SESSION_STEPS
) -> list[Callable[[NWBFile], Any]]:
    """The readiness gate as nwbinspector checks, one per requirement of ``steps`` under ``params``.

    Parameters
    ----------
    params : AnalysisParams, optional
        The parameters the analysis will run with (defaults: the published values).
    steps : sequence of Step
        The steps whose requirements are checked (default: every session step).

    Returns
    -------
    list of callable
        nwbinspector check functions (``check(nwbfile)``, with ``importance`` and ``neurodata_type``).
    """
    return [_check_for(requirement=requirement) for requirement in analysis_requirements(params=params, steps=steps)]


def not_ready_reports(*, paths: Iterable[str | Path], params: AnalysisParams | None = None) -> list[Any]:
    """Validate each file as ``glymph analyze`` does before it runs; return the reports of those not ready.

    The files are validated with the ``analysis`` profile (the file, schema and domain layers, then
    the readiness checks generated for ``params``).

    Returns
    -------
    list of ValidationReport
        One per file that has an error (in order); empty when every file is ready.
    """
    from ndx_glymphatic.validators.api import validate_file

    checks = readiness_checks(params=params)
    reports = [validate_file(path=path, profile="analysis", readiness_checks=checks) for path in paths]
    return [report for report in reports if not report.passes]
