"""Domain checks that read data: timestamps monotonic over the whole series, no long NaN runs.

Both read in chunks of ``data_integrity.chunk_length_in_samples`` samples (never whole 24-h arrays)
and carry state across chunk boundaries.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
from nwbinspector import Importance, InspectorMessage
from pynwb import TimeSeries

from ndx_glymphatic.nan_runs import NanRun, NanRunTracker
from ndx_glymphatic.validators._check_tools import chunk_length, domain_check, finding, iter_chunks
from ndx_glymphatic.validators.limits import get_limits

__all__ = [
    "NanRun",
    "check_nan_runs",
    "check_signal_data_numeric",
    "check_timestamps_monotonic",
    "longest_nan_run",
    "nan_run_finding",
    "nan_runs_found_elsewhere",
]

#: Series whose samples must be numbers (text or object data cannot be analysed).
_NUMERIC_SERIES = ("FiberPhotometryResponseSeries", "ElectricalSeries", "CommandedVoltageSeries")

_NAN_RUNS_FOUND_ELSEWHERE: ContextVar[frozenset[str]] = ContextVar("nan_runs_found_elsewhere", default=frozenset())


def longest_nan_run(*, data: object, length: int) -> NanRun:
    """The longest run of consecutive NaN samples along axis 0 of ``data`` (any column), read in chunks.

    Parameters
    ----------
    data : h5py.Dataset or array
        1-D or 2-D floating-point data, time along axis 0.
    length : int
        Values read per chunk.

    Returns
    -------
    NanRun
        Length 0 when there is no NaN.
    """
    tracker = NanRunTracker(n_samples=len(data))  # type: ignore[arg-type]
    for first, block in iter_chunks(data=data, length=length):
        tracker.update(first_index=first, block=block)
    return tracker.longest


@contextmanager
def nan_runs_found_elsewhere(*, object_ids: Collection[str]) -> Iterator[None]:
    """Within this block ``check_nan_runs`` passes over the series with these object ids.

    For a reader that goes through those series' samples anyway and judges their NaN runs itself
    with :func:`nan_run_finding` (``glymph analyze``: its reduction of the streams sees every sample
    once, for the analysis and for this check).
    """
    token = _NAN_RUNS_FOUND_ELSEWHERE.set(frozenset(object_ids))
    try:
        yield
    finally:
        _NAN_RUNS_FOUND_ELSEWHERE.reset(token)


def _rate(series: TimeSeries) -> float | None:
    if series.rate is not None:
        return float(series.rate) if series.rate > 0 else None
    timestamps = series.timestamps
    if timestamps is None or len(timestamps) < 3:
        return None
    head = np.asarray(timestamps[: min(len(timestamps), 10_001)], dtype=float)
    step = float(np.nanmedian(np.diff(head)))
    return 1.0 / step if step > 0 else None


@domain_check(importance=Importance.CRITICAL, neurodata_type=TimeSeries)
def check_timestamps_monotonic(series: TimeSeries) -> InspectorMessage | None:
    """Explicit timestamps are finite and strictly increasing over the WHOLE series (read in chunks)."""
    timestamps = series.timestamps
    if timestamps is None or isinstance(timestamps, TimeSeries):
        return None
    if not hasattr(timestamps, "shape"):  # in-memory list
        timestamps = np.asarray(timestamps, dtype=float)
    previous = -np.inf
    n_bad = 0
    first_bad: tuple[int, float, float] | None = None
    n_nan = 0
    for first, block in iter_chunks(data=timestamps, length=chunk_length()):
        block = np.asarray(block, dtype=float).ravel()
        finite = np.isfinite(block)
        n_nan += int(block.size - finite.sum())
        values = np.concatenate(([previous], block))
        steps_ok = np.diff(values) > 0
        bad = np.flatnonzero(~steps_ok & finite)
        if bad.size:
            n_bad += bad.size
            if first_bad is None:
                index = int(bad[0])
                first_bad = (first + index, float(values[index]), float(values[index + 1]))
        if block.size:
            last_finite = block[finite]
            previous = float(last_finite[-1]) if last_finite.size else previous
    if n_bad == 0 and n_nan == 0:
        return None
    problems = []
    if n_nan:
        problems.append(f"{n_nan} timestamp(s) are NaN or infinite")
    if first_bad is not None:
        index, before, after = first_bad
        problems.append(f"{n_bad} step(s) do not increase; first at sample {index}: {before:.6f} s -> {after:.6f} s")
    return finding(
        message="; ".join(problems) + ".",
        hint=("timestamps must strictly increase: merge files in time order, drop duplicated samples, and "
              "store regular sampling as rate + starting_time instead of timestamps"),
        high=True,
    )


def _nan_runs_apply(series: TimeSeries) -> bool:
    data = series.data
    dtype = getattr(data, "dtype", None)
    if dtype is None or not np.issubdtype(dtype, np.floating) or len(getattr(data, "shape", ())) == 0:
        return False
    return _rate(series) is not None


def nan_run_finding(*, series: TimeSeries, run: NanRun) -> InspectorMessage | None:
    """The ``check_nan_runs`` finding for ``series`` whose longest NaN run is ``run`` (None: within the limit).

    Parameters
    ----------
    series : TimeSeries
        Floating-point samples at a known rate (other series are not judged: None).
    run : NanRun
        Its longest run of NaN samples (:func:`longest_nan_run`, or a :class:`NanRunTracker` that saw it all).
    """
    if not _nan_runs_apply(series):
        return None
    rate = _rate(series)
    assert rate is not None
    maximum_in_s = get_limits()["data_integrity"]["max_nan_run_in_s"]
    if run.length / rate <= maximum_in_s:
        return None
    start_in_s = float(series.starting_time or 0.0) + run.first_index / rate if series.rate else None
    where = f" from {start_in_s:.3f} s" if start_in_s is not None else f" from sample {run.first_index}"
    column = f" (column {run.column})" if len(series.data.shape) > 1 else ""
    return finding(
        message=(f"{run.length} consecutive NaN samples ({run.length / rate:.3g} s){where}{column}, longer than "
                 f"{maximum_in_s:g} s."),
        hint=("a long gap means lost data: cut the series into valid segments, or mark the time as 'artifact' "
              "in the hypnogram and describe the gap in the series' comments"),
    )


@domain_check(importance=Importance.CRITICAL, neurodata_type=TimeSeries)
def check_nan_runs(series: TimeSeries) -> InspectorMessage | None:
    """No run of NaN samples lasts longer than ``data_integrity.max_nan_run_in_s`` (read in chunks)."""
    if not _nan_runs_apply(series) or series.object_id in _NAN_RUNS_FOUND_ELSEWHERE.get():
        return None
    return nan_run_finding(series=series, run=longest_nan_run(data=series.data, length=chunk_length()))


@domain_check(importance=Importance.CRITICAL, neurodata_type=TimeSeries)
def check_signal_data_numeric(series: TimeSeries) -> InspectorMessage | None:
    """Photometry and EEG/EMG samples are numbers (the schema of these types does not always say so)."""
    if not {cls.__name__ for cls in type(series).__mro__} & set(_NUMERIC_SERIES):
        return None
    dtype = getattr(series.data, "dtype", None)
    if dtype is None or np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.bool_):
        return None
    return finding(
        message=f"data has dtype {dtype}, not numbers.",
        hint="store the recorded samples as float32/float64 (or integers with a conversion factor)",
        high=True,
    )
