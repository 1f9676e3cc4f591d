"""Checks of session-file values that JSON Schema cannot express: finite numbers, birth before the session.

YAML (``.nan``, ``.inf``) and Python's JSON reader (``NaN``, ``Infinity``) both produce non-finite floats
that pass a schema's ``"type": "number"``; no field of a session file means anything with them.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

__all__ = ["birth_after_session_problems", "non_finite_problems"]


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def non_finite_problems(*, document: Any, path: str = "") -> list[str]:
    """``<field>: expected a finite number, got nan`` for every NaN or infinite number in ``document``."""
    if isinstance(document, float) and not math.isfinite(document):
        return [f"{path or '(session file)'}: expected a finite number, got {document}"]
    if isinstance(document, dict):
        items: Any = document.items()
    elif isinstance(document, list):
        items = enumerate(document)
    else:
        items = ()
    problems: list[str] = []
    for key, value in items:
        problems += non_finite_problems(document=value, path=_join(path, key))
    return problems


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            return None
    return None


def birth_after_session_problems(*, document: dict) -> list[str]:
    """A date of birth later than the session's start (dates compared as written, in their own time zones)."""
    subject, session = document.get("subject"), document.get("session")
    if not (isinstance(subject, dict) and isinstance(session, dict)):
        return []
    born, started = _as_date(subject.get("date_of_birth")), _as_date(session.get("session_start_time"))
    if born is None or started is None or born <= started:
        return []
    return [f"subject.date_of_birth: expected a date on or before session.session_start_time ({started}), "
            f"got {born}"]
