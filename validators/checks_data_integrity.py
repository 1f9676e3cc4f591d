"""Domain checks that read data: timestamps monotonic over the whole series, no long NaN runs.

Both read in chunks of ``data_integrity.chunk_length_in_samples`` samples (never whole 24-h arrays)
and carry state across chunk boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from nwbinspector import Importance, InspectorMessage
from pynwb import TimeSeries

from ndx_glymphatic.validators._check_tools import chunk_length, domain_check, finding, iter_chunks
from ndx_glymphatic.validators.limits import get_limits

__all__ = ["NanRun", "check_nan_runs", "check_signal_data_numeric", "check_timestamps_monotonic", "longest_nan_run"]

#: Series whose samples must be numbers (text or object data cannot be analysed).
_NUMERIC_SERIES = ("FiberPhotometryResponseSeries", "ElectricalSeries", "CommandedVoltageSeries")


@dataclass(frozen=True)
class NanRun:
    """The longest run of NaN samples of one column."""

    length: int
    first_index: int
    column: int


def _runs_in_mask(*, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    steps = np.diff(padded)
    return np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)


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
    shape = getattr(data, "shape", ())
    n_columns = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    carry = np.zeros(n_columns, dtype=np.int64)  # length of the NaN run reaching the end of the last chunk
    best = NanRun(length=0, first_index=0, column=0)
    for first, block in iter_chunks(data=data, length=length):
        block = block.reshape(block.shape[0], -1)
        nan = np.isnan(block)
        if not nan.any():
            carry[:] = 0
            continue
        for column in np.flatnonzero(nan.any(axis=0) | (carry > 0)):
            mask = nan[:, column]
            starts, ends = _runs_in_mask(mask=mask)
            if starts.size == 0:
                carry[column] = 0
                continue
            lengths = ends - starts
            run_starts = first + starts
            if starts[0] == 0 and carry[column] > 0:
                lengths[0] += carry[column]
                run_starts[0] -= carry[column]
            longest = int(np.argmax(lengths))
            if lengths[longest] > best.length:
                best = NanRun(length=int(lengths[longest]), first_index=int(run_starts[longest]), column=int(column))
            carry[column] = lengths[-1] if ends[-1] == mask.size else 0
        carry[~nan.any(axis=0) & (carry > 0)] = 0
    return best


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


@domain_check(importance=Importance.CRITICAL, neurodata_type=TimeSeries)
def check_nan_runs(series: TimeSeries) -> InspectorMessage | None:
    """No run of NaN samples lasts longer than ``data_integrity.max_nan_run_in_s`` (read in chunks)."""
    data = series.data
    dtype = getattr(data, "dtype", None)
    if dtype is None or not np.issubdtype(dtype, np.floating) or len(getattr(data, "shape", ())) == 0:
        return None
    rate = _rate(series)
    if rate is None:
        return None
    maximum_in_s = get_limits()["data_integrity"]["max_nan_run_in_s"]
    run = longest_nan_run(data=data, length=chunk_length())
    if run.length / rate <= maximum_in_s:
        return None
    start_in_s = float(series.starting_time or 0.0) + run.first_index / rate if series.rate else None
    where = f" from {start_in_s:.3f} s" if start_in_s is not None else f" from sample {run.first_index}"
    column = f" (column {run.column})" if len(data.shape) > 1 else ""
    return finding(
        message=(f"{run.length} consecutive NaN samples ({run.length / rate:.3g} s){where}{column}, longer than "
                 f"{maximum_in_s:g} s."),
        hint=("a long gap means lost data: cut the series into valid segments, or mark the time as 'artifact' "
              "in the hypnogram and describe the gap in the series' comments"),
    )


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
