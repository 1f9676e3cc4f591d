"""The longest run of consecutive NaN samples of a series, found while its samples stream past.

:class:`ColumnView` reads one column of a (time x columns) dataset and, given a tracker, shows it
every slice read on the way.

One piece of state, :class:`NanRunTracker`, serves two readers: the ``check_nan_runs`` validator,
which reads a series chunk by chunk to find the run, and the analysis, which reads the same samples
anyway while it reduces them (so ``glymph analyze`` reads every sample once, not once for the gate and
once more for the analysis). The tracker accepts slices in any order and counts only samples it has
not seen: it knows whether the reads so far covered the series from its first sample to its last
without a hole, and only then is its answer the series' answer.

Imports numpy only: the analysis' lean photometry worker process imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ColumnView", "NanRun", "NanRunTracker"]


@dataclass(frozen=True)
class NanRun:
    """The longest run of NaN samples of one column.

    Attributes
    ----------
    length : int
        Samples in the run (0: no NaN at all).
    first_index : int
        Index along time of its first sample.
    column : int
        Column it is in (0 for 1-D data).
    """

    length: int
    first_index: int
    column: int


def _runs_in_mask(*, mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    steps = np.diff(padded)
    return np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)


class NanRunTracker:
    """Follows the longest NaN run over consecutive blocks of a 1-D or 2-D (time x columns) series.

    Parameters
    ----------
    n_samples : int
        Length of the series along time (to tell whether the blocks seen covered all of it).
    """

    def __init__(self, *, n_samples: int) -> None:
        self.n_samples = int(n_samples)
        self.covered_until = 0  # samples [0, covered_until) have been seen, in order
        self._holes = False
        self._carry: NDArray[np.int64] | None = None  # length of the NaN run reaching covered_until, per column
        self._best = NanRun(length=0, first_index=0, column=0)

    @property
    def complete(self) -> bool:
        """Every sample of the series was seen (so :attr:`longest` is the series' longest run)."""
        return not self._holes and self.covered_until >= self.n_samples

    @property
    def has_hole(self) -> bool:
        """A block started after the samples seen so far: this tracker can no longer be :attr:`complete`."""
        return self._holes

    @property
    def longest(self) -> NanRun:
        """The longest NaN run among the samples seen so far."""
        return self._best

    def update(self, *, first_index: int, block: NDArray[np.generic]) -> None:
        """Take in ``block``, the samples ``[first_index, first_index + len(block))`` (time along axis 0).

        Samples already seen are skipped; a block that starts after the samples seen so far leaves a
        hole, and the tracker is then never :attr:`complete`.
        """
        block = np.asarray(block)
        if block.ndim == 0 or block.shape[0] == 0:
            return
        stop = first_index + block.shape[0]
        if first_index > self.covered_until:
            self._holes = True
            return
        if stop <= self.covered_until:
            return
        fresh = block[self.covered_until - first_index:]
        self._take(first=self.covered_until, block=fresh.reshape(fresh.shape[0], -1))
        self.covered_until = stop

    def _take(self, *, first: int, block: NDArray[np.generic]) -> None:
        if not np.issubdtype(block.dtype, np.floating):
            return
        if self._carry is None:
            self._carry = np.zeros(block.shape[1], dtype=np.int64)
        carry = self._carry
        nan = np.isnan(block)
        if not nan.any():
            carry[:] = 0
            return
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
            if lengths[longest] > self._best.length:
                self._best = NanRun(length=int(lengths[longest]), first_index=int(run_starts[longest]),
                                    column=int(column))
            carry[column] = lengths[-1] if ends[-1] == mask.size else 0
        carry[~nan.any(axis=0) & (carry > 0)] = 0


class ColumnView:
    """One column of a 2-D (time x channels) dataset, sliceable along time like a 1-D array.

    Parameters
    ----------
    data : array-like
        A 1-D or 2-D dataset (h5py or numpy).
    column : int
        Column to expose (ignored for 1-D data).
    nan_runs : NanRunTracker, optional
        Shown every slice read (all columns of it: HDF5 decompresses every column of a chunk anyway)
        until it has seen the whole series, so that reading the column also finds the series' longest
        NaN run (``check_nan_runs``) without a second pass over the data.
    """

    def __init__(self, *, data: Any, column: int = 0, nan_runs: NanRunTracker | None = None) -> None:
        self._data = data
        self._column = column
        self._two_d = len(getattr(data, "shape", (len(data),))) == 2
        self._nan_runs = nan_runs

    def __len__(self) -> int:
        return int(self._data.shape[0]) if hasattr(self._data, "shape") else len(self._data)

    def __getitem__(self, key: slice) -> NDArray[Any]:
        tracker = self._nan_runs
        watching = tracker is not None and not (tracker.complete or tracker.has_hole)
        if watching and isinstance(key, slice) and key.step in (None, 1):
            block = np.asarray(self._data[key])
            tracker.update(first_index=key.indices(len(self))[0], block=block)
            return block[:, self._column] if self._two_d else block
        if self._two_d:
            return np.asarray(self._data[key, self._column])
        return np.asarray(self._data[key])

    def stop_watching(self) -> None:
        """Read only the column from now on (the NaN-run tracker has what it needs, or will not get it)."""
        self._nan_runs = None
