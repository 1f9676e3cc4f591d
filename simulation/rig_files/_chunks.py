"""Chunked input of the rig-file writers: whole arrays or iterators of chunks, consumed in lockstep."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

__all__ = ["ChunkSource", "lockstep"]

#: A signal given whole or as an iterator of chunks (e.g. a 24-h simulation generated piecewise).
ChunkSource = np.ndarray | Iterable[np.ndarray]


def _chunks(source: ChunkSource) -> Iterator[np.ndarray]:
    if isinstance(source, np.ndarray):
        yield source
    else:
        yield from (np.asarray(chunk) for chunk in source)


def lockstep(sources: Sequence[ChunkSource]) -> Iterator[list[np.ndarray]]:
    """Blocks of equal length from every source, whatever chunk sizes each source comes in.

    Parameters
    ----------
    sources : sequence of ChunkSource
        Signals of the same length, each whole or in chunks of any size.

    Yields
    ------
    list of numpy.ndarray
        One block per source, all of the same length, in order.
    """
    iterators = [_chunks(source) for source in sources]
    buffers: list[np.ndarray | None] = [None] * len(iterators)
    while True:
        for k, iterator in enumerate(iterators):
            while buffers[k] is None or buffers[k].shape[0] == 0:
                chunk = next(iterator, None)
                if chunk is None:
                    break
                buffers[k] = np.asarray(chunk)
        lengths = [0 if buffer is None else buffer.shape[0] for buffer in buffers]
        if all(length == 0 for length in lengths):
            return
        if any(length == 0 for length in lengths):
            raise ValueError("all signals must have the same number of samples")
        size = min(lengths)
        yield [buffer[:size] for buffer in buffers]
        buffers = [buffer[size:] for buffer in buffers]
