"""User-facing errors shared by every part of ndx-glymphatic.

Every error a user can fix (a bad rig file, a bad session file, a file that is not
ready for analysis) is a :class:`GlymphError`. The command line catches these and
prints their message on one line, without a traceback, and exits with
:attr:`GlymphError.exit_code`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["GlymphError", "InputFileError", "NotReadyError"]


class GlymphError(Exception):
    """An error the user can fix; printed without a traceback by the command line."""

    exit_code: int = 2


class InputFileError(GlymphError):
    """A file does not hold what was expected.

    The message always says which file, which field, what was expected and what was found.

    Parameters
    ----------
    path : str or Path
        The offending file (or folder).
    field : str
        The field, store, column, key or byte range inside the file.
    expected : str
        What was expected there, in words.
    found : str
        What was found instead, in words.
    hint : str, optional
        How to fix it.
    """

    def __init__(
        self,
        *,
        path: str | Path,
        field: str,
        expected: str,
        found: str,
        hint: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.field = field
        self.expected = expected
        self.found = found
        self.hint = hint
        message = f"{self.path}: {field}: expected {expected}, found {found}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class NotReadyError(GlymphError):
    """A file failed the checks that must pass before a step may run (e.g. analysis readiness)."""

    exit_code = 1
