"""Cross-correlogram with each lag's own Pearson correlation: the lag estimator that is unbiased on bouts.

The published correlogram z-scores (and detrends) each bout once and averages the products
``first[t] * second[t + k]`` over the samples that overlap at lag ``k``. Within a bout the two
overlapping segments at lag ``k`` are different stretches of the traces than the ones the
z-score was fitted on, so the correlogram of ``second(t) = -g first(t - d)`` is not symmetric
about ``d`` whenever the bout is not stationary (NE falling after the micro-arousal that opens a
NREM bout, rising towards the one that ends it, a level step across the bout): its extremum
moves away from ``d`` by tenths of a second.

Here lag ``k`` correlates the segments that overlap at that lag, ``first[0 : N - k]`` against
``second[k : N]`` (``k >= 0``; mirrored for ``k < 0``), each with its own least-squares
polynomial of ``detrend_order`` removed, normalised by its own norm: the Pearson correlation
of the residuals. When ``second`` is a scaled, delayed copy of ``first``, the two segments at
``k = d`` are the same samples up to the scale, so by Cauchy-Schwarz ``|r(d)| = 1`` is the
extremum whatever the bout's shape.

Every lag costs O(1) after O(N log N): the overlapping products come from one FFT, the
polynomial moments of the segments from cumulative sums (time scaled to ``[0, 1)`` over the
bout, so the normal equations stay well conditioned for small orders).
"""

from __future__ import annotations

from math import comb

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

__all__ = ["lagged_pearson"]


def _nonnegative_lags(
    *, first: NDArray[np.float64], second: NDArray[np.float64], max_lag: int, order: int
) -> NDArray[np.float64]:
    """Residual Pearson correlation of ``first[0 : N - k]`` and ``second[k : N]`` for ``k = 0 .. max_lag``."""
    n = first.size
    lags = np.arange(max_lag + 1)
    overlap = n - lags
    products = sps.correlate(second, first, mode="full", method="fft")[n - 1 + lags]
    scaled_time = np.arange(n) / n

    def prefix(values: NDArray[np.float64]) -> NDArray[np.float64]:
        # sum over t < overlap of values[t], one per lag
        return np.cumsum(values)[overlap - 1]

    def suffix(values: NDArray[np.float64]) -> NDArray[np.float64]:
        # sum over u >= k of values[u], one per lag
        return np.cumsum(values[::-1])[::-1][lags]

    first_energy = prefix(first * first)
    second_energy = suffix(second * second)
    if order < 0:
        return products / np.sqrt(first_energy * second_energy)
    powers = range(order + 1)
    # moments of the segments against (t / n)^j, t counted from each segment's start
    first_moments = np.stack([prefix(scaled_time**j * first) for j in powers], axis=-1)
    second_raw = [suffix(scaled_time**i * second) for i in powers]
    shift = -lags / n
    second_moments = np.stack(
        [sum(comb(j, i) * shift ** (j - i) * second_raw[i] for i in range(j + 1)) for j in powers], axis=-1
    )
    gram = np.empty((lags.size, order + 1, order + 1))
    for i in powers:
        for j in powers:
            gram[:, i, j] = prefix(scaled_time ** (i + j))
    first_fit = np.linalg.solve(gram, first_moments[..., None])[..., 0]
    second_fit = np.linalg.solve(gram, second_moments[..., None])[..., 0]
    covariance = products - np.sum(first_moments * second_fit, axis=-1)
    first_variance = first_energy - np.sum(first_moments * first_fit, axis=-1)
    second_variance = second_energy - np.sum(second_moments * second_fit, axis=-1)
    return covariance / np.sqrt(first_variance * second_variance)


def lagged_pearson(
    *, first: NDArray[np.floating], second: NDArray[np.floating], max_lag: int, detrend_order: int
) -> NDArray[np.float64]:
    """Pearson correlation at each lag of the overlapping, separately detrended segments of one bout.

    Parameters
    ----------
    first, second : ndarray
        Equal-length traces of one bout (e.g. NE and blood-volume dF/F on the ~10 Hz grid).
    max_lag : int
        Largest lag in samples (< N).
    detrend_order : int
        Order of the polynomial removed from each segment (0: its mean; 1: a line; -1: nothing
        removed, the segments' raw cosine similarity).

    Returns
    -------
    ndarray
        ``2 * max_lag + 1`` correlations for lags ``-max_lag .. max_lag``; at lag ``k >= 0`` that of
        ``first[0 : N - k]`` with ``second[k : N]`` (positive lag: ``second`` follows ``first``).
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    n = first.size
    if second.size != n:
        raise ValueError("first and second must have the same length")
    if not 0 <= max_lag < n - max(detrend_order, 0) - 1:
        raise ValueError(f"max_lag ({max_lag}) must leave more than {detrend_order + 2} overlapping samples of {n}")
    if detrend_order >= 0:
        # the constant is in every fitted basis: centring changes no result, only the rounding
        first, second = first - first.mean(), second - second.mean()
    forward = _nonnegative_lags(first=first, second=second, max_lag=max_lag, order=detrend_order)
    backward = _nonnegative_lags(first=second, second=first, max_lag=max_lag, order=detrend_order)
    return np.concatenate([backward[:0:-1], forward])
