"""The check contract and the helpers of the checks (``checks_*.py``).

Every check of ``glymph validate`` (domain, DANDI, analysis readiness) is an nwbinspector check: a
small function of ONE positional argument (the object; nwbinspector calls it positionally, so this is
the one place our keyword-only rule cannot hold) decorated by ``nwbinspector.register_check``, returning
``None``, an ``InspectorMessage`` or a list of them. Domain checks are registered with
:func:`domain_check`, so plain ``nwbinspector --modules ndx_glymphatic.validators`` runs them too; the
DANDI and readiness checks use :func:`unregistered_check`: the same contract, kept out of nwbinspector's
registry because they judge a file for one purpose (upload, analysis), not for every NWB user.
Messages are built with :func:`finding`, which appends the fix as ``" Hint: ..."`` so that plain
nwbinspector users see it too; our report splits it off again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from nwbinspector import Importance, InspectorMessage, Severity, available_checks, register_check

__all__ = [
    "DOMAIN_CHECKS",
    "HINT_SEPARATOR",
    "CheckFunction",
    "chunk_length",
    "column_numbers",
    "column_texts",
    "domain_check",
    "finding",
    "finding_of",
    "iter_chunks",
    "location_of",
    "nwbfile_of",
    "outside_session",
    "session_end_in_s",
    "split_hint",
    "unregistered_check",
]

#: An nwbinspector check function: ``check(neurodata_object) -> InspectorMessage | list | None`` carrying the
#: attributes ``register_check`` sets (``importance``, ``neurodata_type``, ``nwb_schema_version_lt/_gt``).
CheckFunction = Callable[[Any], Any]

HINT_SEPARATOR = " Hint: "

#: Every registered domain check, in registration order (check function name -> wrapped function).
DOMAIN_CHECKS: dict[str, Callable] = {}


def domain_check(*, importance: Importance, neurodata_type: type) -> Callable[[Callable], Callable]:
    """Register a domain check with nwbinspector and remember it as ours.

    Parameters
    ----------
    importance : Importance
        ``CRITICAL`` (the data are wrong or unusable), ``BEST_PRACTICE_VIOLATION`` (implausible, probably
        wrong) or ``BEST_PRACTICE_SUGGESTION``.
    neurodata_type : type
        The most general pynwb / extension class the check applies to.
    """

    def decorate(function: Callable) -> Callable:
        wrapped = register_check(importance=importance, neurodata_type=neurodata_type)(function)
        DOMAIN_CHECKS[function.__name__] = wrapped
        return wrapped

    return decorate


def unregistered_check(*, importance: Importance, neurodata_type: type) -> Callable[[Callable], CheckFunction]:
    """Make an nwbinspector check exactly as ``register_check`` does, but leave it out of nwbinspector's registry.

    For the checks of one purpose (the DANDI and analysis layers): ``glymph validate`` runs them through
    nwbinspector's machinery, plain ``nwbinspector`` runs do not.

    Parameters
    ----------
    importance : Importance
        Its default importance (a configuration file may change it, see ``inspector_config.yaml``).
    neurodata_type : type
        The most general pynwb / extension class the check applies to.
    """

    def decorate(function: Callable) -> CheckFunction:
        wrapped = register_check(importance=importance, neurodata_type=neurodata_type)(function)
        available_checks.remove(wrapped)
        return wrapped

    return decorate


def finding(*, message: str, hint: str, high: bool = False) -> InspectorMessage:
    """An nwbinspector message whose text ends with the fix.

    Parameters
    ----------
    message : str
        What is wrong, with the values found.
    hint : str
        How to fix it.
    high : bool
        Sort it first among messages of the same importance (nwbinspector ``Severity.HIGH``).
    """
    return InspectorMessage(
        message=f"{message}{HINT_SEPARATOR}{hint}", severity=Severity.HIGH if high else Severity.LOW
    )


def finding_of(*, problems: Sequence[str], hint: str, high: bool = False) -> InspectorMessage | None:
    """One :func:`finding` listing every problem, or ``None`` when there is none.

    Parameters
    ----------
    problems : sequence of str
        What is wrong, one entry per offending row or value.
    hint : str
        How to fix all of them.
    high : bool
        Sort it first among messages of the same importance (nwbinspector ``Severity.HIGH``).
    """
    if not problems:
        return None
    return finding(message="; ".join(problems) + ".", hint=hint, high=high)


def split_hint(*, text: str) -> tuple[str, str]:
    """Split a :func:`finding` text into (message, hint); hint is "" when there is none."""
    message, separator, hint = text.partition(HINT_SEPARATOR)
    return (message, hint) if separator else (text, "")


def nwbfile_of(neurodata_object: Any) -> Any | None:
    """The NWBFile an object belongs to (None for a detached object)."""
    current = neurodata_object
    while current is not None and type(current).__name__ != "NWBFile":
        current = getattr(current, "parent", None)
    return current


def location_of(neurodata_object: Any) -> str:
    """Path of an object inside its file, e.g. ``/intervals/sleep_states`` ("" when unknown)."""
    nwbfile = nwbfile_of(neurodata_object)
    if nwbfile is neurodata_object:
        return "/"
    io = getattr(nwbfile, "read_io", None) if nwbfile is not None else None
    if io is not None:
        try:
            builder = io.manager.get_builder(neurodata_object)
        except Exception:
            builder = None
        if builder is not None:
            path = builder.path
            return "/" + path.split("/", 1)[1] if "/" in path else "/"
    return ""


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def column_texts(table: Any, name: str) -> list[str] | None:
    """A text column of a (small) table as Python strings; None when the column is absent."""
    if name not in table.colnames:
        return None
    return [_decode(value) for value in table[name].data[:]]


def column_numbers(table: Any, name: str) -> np.ndarray | None:
    """A numeric column of a (small) table as float64; None when the column is absent."""
    if name not in table.colnames:
        return None
    return np.asarray(table[name].data[:], dtype=float)


def session_end_in_s(nwbfile: Any) -> float | None:
    """Time (s, session clock) of the last acquired sample over all acquisition series; None without any.

    Reads only shapes and at most one timestamp per series.
    """
    if nwbfile is None:
        return None
    ends = []
    for series in nwbfile.acquisition.values():
        data = getattr(series, "data", None)
        if data is None or not hasattr(data, "shape") or len(data.shape) == 0:
            continue
        n_samples = int(data.shape[0])
        if n_samples == 0:
            continue
        timestamps = getattr(series, "timestamps", None)
        rate = getattr(series, "rate", None)
        if timestamps is not None and hasattr(timestamps, "shape") and timestamps.shape[0] > 0:
            ends.append(float(timestamps[timestamps.shape[0] - 1]))
        elif rate:
            ends.append(float(series.starting_time or 0.0) + n_samples / float(rate))
    finite = [end for end in ends if np.isfinite(end)]
    return max(finite) if finite else None


def outside_session(*, start_times: np.ndarray, stop_times: np.ndarray, session_end: float | None,
                    tolerance: float) -> np.ndarray:
    """Row indices whose [start, stop] reaches before 0 or after ``session_end`` by more than ``tolerance``."""
    bad = start_times < -tolerance
    if session_end is not None:
        bad |= stop_times > session_end + tolerance
    return np.flatnonzero(bad)


def chunk_length() -> int:
    """Samples read at once by data checks (limits.yaml ``data_integrity.chunk_length_in_samples``)."""
    from ndx_glymphatic.validators.limits import get_limits

    return int(get_limits()["data_integrity"]["chunk_length_in_samples"])


def iter_chunks(*, data: Any, length: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_index, block)`` over axis 0 of an h5py dataset or array, about ``length`` values at a time.

    For 2-D data the block length is divided by the number of columns so a block holds about ``length``
    values; for chunked datasets it is rounded to whole chunks (no chunk is decompressed twice).
    """
    n_total = int(data.shape[0])
    width = int(np.prod(data.shape[1:])) if len(data.shape) > 1 else 1
    step = max(1, length // max(width, 1))
    chunk_rows = (getattr(data, "chunks", None) or (0,))[0]
    if chunk_rows:
        step = max(1, step // chunk_rows) * chunk_rows
    for first in range(0, n_total, step):
        yield first, np.asarray(data[first:first + step])


def describe_rows(rows: np.ndarray | list[int], limit: int = 5) -> str:
    """``"rows 3, 7, 9"`` or ``"rows 3, 7, 9, 10, 11 and 4 more"``."""
    rows = [int(row) for row in rows]
    shown = ", ".join(str(row) for row in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"
