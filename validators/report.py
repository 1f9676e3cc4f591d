"""What a validation run returns: messages grouped by layer and severity, as text or JSON.

The JSON form follows ``report_schema.json`` (beside this module; described in docs/validation.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "IMPORTANCE_TO_SEVERITY",
    "LAYERS",
    "REPORT_SCHEMA_VERSION",
    "SEVERITIES",
    "ValidationMessage",
    "ValidationReport",
    "format_reports_text",
    "reports_to_json",
]

REPORT_SCHEMA_VERSION = "1.0"

#: The layers in the order they run. "file" (can the path be read as HDF5/NWB at all) and "security"
#: (HDF5 links leaving the file) run with h5py before pynwb opens anything; "session" is used for
#: session files (session.yaml) instead of all the others.
LAYERS: tuple[str, ...] = (
    "file", "security", "schema", "inspector", "domain", "dandi", "analysis", "derived", "session",
)

#: "error" makes a file non-conformant (exit code 1); "warning" and "info" are reported only.
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

#: nwbinspector importance -> our severity.
IMPORTANCE_TO_SEVERITY: dict[str, str] = {
    "ERROR": "error",
    "PYNWB_VALIDATION": "error",
    "CRITICAL": "error",
    "BEST_PRACTICE_VIOLATION": "warning",
    "BEST_PRACTICE_SUGGESTION": "info",
}

LayerStatus = Literal["clean", "violations", "notes", "skipped"]


@dataclass(frozen=True)
class ValidationMessage:
    """One finding.

    Attributes
    ----------
    layer : str
        One of :data:`LAYERS`.
    severity : str
        ``"error"``, ``"warning"`` or ``"info"``.
    importance : str
        The nwbinspector importance name (``CRITICAL``, ``BEST_PRACTICE_VIOLATION``,
        ``BEST_PRACTICE_SUGGESTION``, ``PYNWB_VALIDATION``, ``ERROR``) this severity comes from.
    check : str
        Name of the check (function name for nwbinspector and domain checks).
    location : str
        Path of the object inside the file (``/`` for the file itself, ``""`` when not applicable).
    message : str
        What is wrong, with the values found.
    hint : str
        How to fix it.
    object_type : str
        Neurodata type of the object, when known.
    object_name : str
        Name of the object, when known.
    """

    layer: str
    severity: str
    importance: str
    check: str
    location: str
    message: str
    hint: str = ""
    object_type: str = ""
    object_name: str = ""

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}; expected one of {LAYERS}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}; expected one of {SEVERITIES}")

    def to_json(self) -> dict[str, str]:
        """The message as a JSON-ready mapping (see ``report_schema.json``, ``$defs/message``)."""
        return dataclasses.asdict(self)


@dataclass
class ValidationReport:
    """The result of validating one path.

    Attributes
    ----------
    path : str
        The validated file.
    profile : str
        ``"dandi"``, ``"analysis"`` or ``"all"``.
    kind : str
        ``"nwb"`` for NWB files, ``"session"`` for session files, ``"unknown"`` when unreadable.
    messages : list of ValidationMessage
        Every finding, in layer order.
    layers : dict
        For every layer of the profile: ``{"status": "clean" | "violations" | "notes" | "skipped",
        "reason": str}`` (reason says why a layer was skipped).
    could_not_run : bool
        True when the path could not be examined at all (missing, permission denied): exit code 2.
    durations_in_s : dict
        Wall time of every layer that ran.
    """

    path: str
    profile: str
    kind: str = "nwb"
    messages: list[ValidationMessage] = field(default_factory=list)
    layers: dict[str, dict[str, str]] = field(default_factory=dict)
    could_not_run: bool = False
    durations_in_s: dict[str, float] = field(default_factory=dict)

    @property
    def is_conformant(self) -> bool:
        """Format conformance: the path could be examined and no message outside the ``analysis`` layer is an error.

        Analysis readiness is a verdict of its own (:attr:`analysis_ready`): a valid file that lacks what
        the analysis needs (a dopamine-only recording, no hypnogram) is still a conformant file.
        """
        return not self.could_not_run and not any(
            message.severity == "error" and message.layer != "analysis" for message in self.messages
        )

    @property
    def analysis_ready(self) -> bool | None:
        """Whether the analysis can run on the file: None when the ``analysis`` layer did not run."""
        entry = self.layers.get("analysis")
        if self.could_not_run or entry is None or entry["status"] == "skipped":
            return None
        return not self.readiness_problems

    @property
    def readiness_problems(self) -> list[str]:
        """The first line of every error of the ``analysis`` layer (why the file is not ready)."""
        return [
            (message.message.splitlines() or [message.check])[0]
            for message in self.messages
            if message.layer == "analysis" and message.severity == "error"
        ]

    @property
    def passes(self) -> bool:
        """What the exit code says: conformance, and for the ``analysis`` profile readiness as well."""
        if not self.is_conformant:
            return False
        return not (self.profile == "analysis" and self.analysis_ready is False)

    @property
    def exit_code(self) -> int:
        """0 passes (conformant; ready too under the ``analysis`` profile), 1 violations, 2 could not run."""
        if self.could_not_run:
            return 2
        return 0 if self.passes else 1

    def readiness_line(self) -> str | None:
        """``analysis: ready`` / ``analysis: not ready: <reasons>``; None when readiness was not checked."""
        if self.analysis_ready is None:
            return None
        if self.analysis_ready:
            return "analysis: ready"
        return "analysis: not ready: " + "; ".join(dict.fromkeys(self.readiness_problems))

    def add(self, *, messages: Iterable[ValidationMessage]) -> None:
        """Append messages."""
        self.messages.extend(messages)

    def set_layer(self, *, layer: str, skipped_reason: str | None = None, note: str = "") -> None:
        """Record that ``layer`` ran (its status follows from its messages) or was skipped, and why.

        Parameters
        ----------
        layer : str
            One of :data:`LAYERS`.
        skipped_reason : str, optional
            Why the layer did not run; None when it ran.
        note : str
            For a layer that ran: what part of it did not (e.g. dandi-cli not installed).
        """
        if skipped_reason is not None:
            self.layers[layer] = {"status": "skipped", "reason": skipped_reason}
        else:
            self.layers[layer] = {"status": "ran", "reason": note}

    def layer_status(self, *, layer: str) -> str:
        """``clean``, ``violations`` (has errors or warnings), ``notes`` (info only) or ``skipped``."""
        entry = self.layers.get(layer)
        if entry is None:
            return "skipped"
        if entry["status"] == "skipped":
            return "skipped"
        severities = {message.severity for message in self.messages if message.layer == layer}
        if severities & {"error", "warning"}:
            return "violations"
        return "notes" if severities else "clean"

    def counts(self) -> dict[str, int]:
        """Number of messages per severity."""
        return {severity: sum(m.severity == severity for m in self.messages) for severity in SEVERITIES}

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping (``report_schema.json``, ``$defs/report``)."""
        return {
            "path": self.path,
            "profile": self.profile,
            "kind": self.kind,
            "is_conformant": self.is_conformant,
            "analysis_ready": self.analysis_ready,
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "layers": {
                layer: {"status": self.layer_status(layer=layer), "reason": entry["reason"]}
                for layer, entry in self.layers.items()
            },
            "durations_in_s": {layer: round(value, 4) for layer, value in self.durations_in_s.items()},
            "messages": [message.to_json() for message in self.messages],
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ValidationReport:
        """Rebuild a report from :meth:`to_json` output."""
        return cls(
            path=document["path"],
            profile=document["profile"],
            kind=document["kind"],
            messages=[ValidationMessage(**message) for message in document["messages"]],
            layers={
                layer: {"status": "skipped" if entry["status"] == "skipped" else "ran", "reason": entry["reason"]}
                for layer, entry in document["layers"].items()
            },
            could_not_run=document["exit_code"] == 2,
            durations_in_s=dict(document["durations_in_s"]),
        )

    def format_text(self, *, show_info: bool = True) -> str:
        """Human-readable report: a summary line, the layer statuses, then messages grouped by severity.

        Parameters
        ----------
        show_info : bool
            Include ``info`` messages (suggestions).
        """
        counts = self.counts()
        if self.could_not_run:
            verdict = "COULD NOT VALIDATE"
        else:
            verdict = "conformant" if self.is_conformant else "NOT CONFORMANT"
        lines = [
            f"{self.path}: {verdict} (profile '{self.profile}'): {counts['error']} error(s), "
            f"{counts['warning']} warning(s), {counts['info']} note(s)"
        ]
        layer_words = []
        skipped: dict[str, list[str]] = {}
        for layer, entry in self.layers.items():
            if entry["status"] == "skipped":
                skipped.setdefault(entry["reason"], []).append(layer)
                continue
            reason = f" ({entry['reason']})" if entry["reason"] else ""
            layer_words.append(f"{layer}: {self.layer_status(layer=layer)}{reason}")
        layer_words.extend(f"skipped {', '.join(layers)} ({reason})" for reason, layers in skipped.items())
        readiness = self.readiness_line()
        if readiness is not None:
            lines.append(f"  {readiness}")
        if layer_words:
            lines.append("  layers: " + "; ".join(layer_words))
        titles = {"error": "ERRORS", "warning": "WARNINGS", "info": "NOTES"}
        for severity in SEVERITIES:
            if severity == "info" and not show_info:
                continue
            selected = [message for message in self.messages if message.severity == severity]
            if not selected:
                continue
            lines.append(f"  {titles[severity]} ({len(selected)})")
            for message in selected:
                where = message.location or "-"
                what = ""
                if message.object_type or message.object_name:
                    what = f" ({message.object_type} '{message.object_name}')"
                lines.append(f"    [{message.layer}] {message.check} at {where}{what}")
                lines.extend(f"      {line}" for line in message.message.splitlines() or [""])
                if message.hint:
                    lines.append(f"      hint: {message.hint}")
        return "\n".join(lines)


def reports_to_json(*, reports: Sequence[ValidationReport], profile: str) -> dict[str, Any]:
    """The JSON document of a whole run over several paths (``report_schema.json`` top level)."""
    from ndx_glymphatic import __version__

    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": f"ndx-glymphatic {__version__}",
        "profile": profile,
        "is_conformant": all(report.is_conformant for report in reports),
        "exit_code": max((report.exit_code for report in reports), default=0),
        "files": [report.to_json() for report in reports],
    }


def format_reports_text(*, reports: Sequence[ValidationReport], show_info: bool = True) -> str:
    """The text reports of several paths, followed by a one-line total."""
    blocks = [report.format_text(show_info=show_info) for report in reports]
    n_bad = sum(not report.is_conformant for report in reports)
    blocks.append(f"{len(reports)} file(s) validated, {len(reports) - n_bad} conformant, {n_bad} not.")
    return "\n\n".join(blocks)
