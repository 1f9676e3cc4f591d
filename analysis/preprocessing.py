"""Photometry preprocessing: zero-phase smoothing, decimation, control fit, dF/F, bleaching, baselines.

Everything that touches the raw ~1 kHz stream streams: it reads ``data[start:stop]`` slices of
anything sliceable (a numpy array or an h5py dataset), so memory stays flat in recording length.

The published smoothing is a 1000-sample moving mean (zero-phase) followed by keeping one sample
in 100. When the window is a whole number of decimation blocks, that equals a moving mean over
*block means*: the stream is reduced block by block to NaN-aware sums and counts (100x smaller),
and the moving mean is taken over those. Output sample ``k`` averages raw samples
``[(k - h) D, (k + h) D)`` (``D`` the factor, ``h`` half the window in blocks), so it is centred at
raw index ``k D - 0.5``: zero phase. At the two ends the window shrinks to the samples that exist,
and raw NaNs are simply left out of the means (a block or window without finite samples is NaN).

This module imports nothing from ``ndx_glymphatic``: ``_photometry_worker.py`` loads it by path in
a lean second process. Keep it that way.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ControlFit",
    "DecimatedSeries",
    "SliceableData",
    "block_sums",
    "control_free_delta_f_over_f",
    "correct_bleaching",
    "decimate_from_block_sums",
    "decimated_grid",
    "decimation_for_rate",
    "delta_f_over_f",
    "fill_short_gaps",
    "finite_runs",
    "fit_control",
    "fit_control_full_rate",
    "fit_exponential_decay",
    "moving_mean_of_blocks",
    "moving_mean_zero_phase",
    "smooth_and_decimate",
    "subtract_moving_average",
    "tracer_delta_f_over_f",
]

_HUBER_C = 1.345
_BISQUARE_C = 4.685


class SliceableData(Protocol):
    """Anything with a length and 1-D slicing returning a numpy-convertible array (ndarray, h5py)."""

    def __len__(self) -> int: ...

    def __getitem__(self, key: slice) -> Any: ...


@dataclass(frozen=True)
class DecimatedSeries:
    """A regularly sampled, smoothed, decimated trace.

    Attributes
    ----------
    values : ndarray
        The samples (float64; NaN where no finite raw sample fell in the window).
    rate_in_Hz : float
        Sampling rate.
    starting_time : float
        Time of the first sample, in seconds of the session clock.
    """

    values: NDArray[np.float64]
    rate_in_Hz: float
    starting_time: float

    @property
    def times(self) -> NDArray[np.float64]:
        """Sample times in seconds (a new array: prefer :meth:`time_of` / :meth:`index_of` on long series)."""
        return self.starting_time + np.arange(self.values.size) / self.rate_in_Hz

    def time_of(self, index: NDArray[np.integer] | int) -> NDArray[np.float64] | float:
        """Time in seconds of sample ``index``."""
        return self.starting_time + np.asarray(index) / self.rate_in_Hz

    def index_of(self, time_in_s: NDArray[np.floating] | float) -> NDArray[np.int64] | int:
        """First sample index at or after ``time_in_s``, clipped to ``[0, len]``."""
        index = np.ceil((np.asarray(time_in_s, dtype=np.float64) - self.starting_time) * self.rate_in_Hz - 1e-9)
        return np.clip(index, 0, self.values.size).astype(np.int64)

    def mask_inside(self, *, starts: NDArray[np.floating], stops: NDArray[np.floating]) -> NDArray[np.bool_]:
        """True for samples inside any ``[start, stop)`` interval (one slice per interval, no time array)."""
        mask = np.zeros(self.values.size, dtype=bool)
        for low, high in zip(self.index_of(starts).tolist(), self.index_of(stops).tolist()):
            mask[low:high] = True
        return mask


@dataclass(frozen=True)
class ControlFit:
    """A linear fit of the control channel onto the signal: ``fit = slope * control + intercept``.

    Attributes
    ----------
    slope, intercept : float
        Fit coefficients.
    method : str
        ``"ols"`` or ``"irls-huber"`` / ``"irls-bisquare"``.
    n_samples : int
        Samples used (finite in both channels).
    n_iterations : int
        IRLS iterations (0 for OLS).
    r_squared : float
        Fraction of signal variance explained by the fit (unweighted).
    """

    slope: float
    intercept: float
    method: str
    n_samples: int
    n_iterations: int
    r_squared: float

    def apply(self, *, control: NDArray[np.floating]) -> NDArray[np.float64]:
        """The fitted control: ``slope * control + intercept``."""
        return self.slope * np.asarray(control, dtype=np.float64) + self.intercept


def decimation_for_rate(
    *, rate_in_Hz: float, decimation_factor: int, smoothing_window_samples: int, reference_rate_in_Hz: float
) -> tuple[int, int]:
    """Decimation factor and smoothing window for a stream, scaled when its rate is far from the reference.

    Parameters
    ----------
    rate_in_Hz : float
        The stream's sampling rate.
    decimation_factor, smoothing_window_samples : int
        Published values for ``reference_rate_in_Hz`` (100 and 1000 at 1017.25 Hz).
    reference_rate_in_Hz : float
        Rate the published values apply to.

    Returns
    -------
    factor, window : int
        ``window`` is a whole multiple of ``factor``.
    """
    if smoothing_window_samples % decimation_factor:
        raise ValueError(
            f"smoothing_window_samples ({smoothing_window_samples}) must be a multiple of "
            f"decimation_factor ({decimation_factor})"
        )
    blocks = smoothing_window_samples // decimation_factor
    ratio = rate_in_Hz / reference_rate_in_Hz
    if 0.5 <= ratio <= 2.0:
        return decimation_factor, smoothing_window_samples
    factor = max(1, round(decimation_factor * ratio))
    return factor, factor * blocks


def decimated_grid(
    *, rate_in_Hz: float, starting_time: float, n_samples: int, decimation_factor: int
) -> tuple[float, float, int]:
    """The grid a stream is decimated onto, from its timing alone (no sample read).

    Parameters
    ----------
    rate_in_Hz, starting_time : float
        The raw stream's rate and first sample time.
    n_samples : int
        Raw samples.
    decimation_factor : int
        Raw samples per output sample.

    Returns
    -------
    rate_in_Hz, starting_time : float
        Of the decimated samples (output sample ``k`` is centred at raw index ``k D - 0.5``).
    n_samples : int
        Decimated samples (the last block may be partial).
    """
    return (
        rate_in_Hz / decimation_factor,
        starting_time - 0.5 / rate_in_Hz,
        -(-n_samples // decimation_factor) if n_samples > 0 else 0,
    )


def block_sums(
    *,
    data: SliceableData,
    factor: int,
    chunk_samples: int = 2_000_000,
    start: int = 0,
    stop: int | None = None,
    transform: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """NaN-aware sums and counts of consecutive ``factor``-sample blocks, read chunk by chunk.

    Parameters
    ----------
    data : SliceableData
        1-D samples (ndarray or h5py dataset); only ``data[a:b]`` slices are read.
    factor : int
        Block length in samples.
    chunk_samples : int
        Samples read per slice (rounded down to a multiple of ``factor``).
    start, stop : int
        Sample range to reduce (``stop`` None: to the end).
    transform : callable, optional
        Applied to each chunk (as float64) before summing, e.g. ``np.square``.
    progress : callable, optional
        Called with the number of samples read after each chunk.

    Returns
    -------
    sums : ndarray of float64
        Sum of the finite samples of each block (the last block may be partial).
    counts : ndarray of int64
        Number of finite samples in each block.
    """
    stop = len(data) if stop is None else min(stop, len(data))
    step = max(factor, (chunk_samples // factor) * factor)
    n_blocks = -(-(stop - start) // factor) if stop > start else 0
    sums = np.zeros(n_blocks, dtype=np.float64)
    counts = np.zeros(n_blocks, dtype=np.int64)
    block = 0
    for chunk_start in range(start, stop, step):
        chunk = np.asarray(data[chunk_start : min(chunk_start + step, stop)])
        if transform is not None:
            chunk = transform(chunk.astype(np.float64))
        n_full = chunk.size // factor
        all_finite = bool(np.isfinite(chunk.sum(dtype=np.float64)))  # one NaN/inf makes the sum non-finite
        if all_finite:
            if n_full:
                sums[block : block + n_full] = chunk[: n_full * factor].reshape(n_full, factor).sum(
                    axis=1, dtype=np.float64
                )
                counts[block : block + n_full] = factor
            if chunk.size % factor:
                sums[block + n_full] = chunk[n_full * factor :].sum(dtype=np.float64)
                counts[block + n_full] = chunk.size - n_full * factor
                n_full += 1
        else:
            finite = np.isfinite(chunk)
            cleaned = np.where(finite, chunk, 0.0)
            if n_full:
                sums[block : block + n_full] = cleaned[: n_full * factor].reshape(n_full, factor).sum(
                    axis=1, dtype=np.float64
                )
                counts[block : block + n_full] = finite[: n_full * factor].reshape(n_full, factor).sum(axis=1)
            if chunk.size % factor:
                sums[block + n_full] = cleaned[n_full * factor :].sum(dtype=np.float64)
                counts[block + n_full] = finite[n_full * factor :].sum()
                n_full += 1
        block += n_full
        if progress is not None:
            progress(chunk.size)
    return sums, counts


def moving_mean_of_blocks(
    *, sums: NDArray[np.float64], counts: NDArray[np.int64], window_blocks: int
) -> NDArray[np.float64]:
    """Zero-phase moving mean over ``window_blocks`` blocks, one output per block boundary.

    Output ``k`` is the mean of all finite samples in blocks ``[k - h, k + h)`` with
    ``h = window_blocks // 2`` (an odd window uses ``[k - h, k + h]``), clipped at the ends.

    Parameters
    ----------
    sums, counts : ndarray
        From :func:`block_sums`.
    window_blocks : int
        Window length in blocks.

    Returns
    -------
    ndarray of float64
        One value per block (NaN where the window holds no finite sample).
    """
    n = sums.size
    half = window_blocks // 2

    def windowed(values: NDArray[Any]) -> NDArray[np.float64]:
        # cumulative sum extended so that index j (clipped to [0, n]) sits at position j + half:
        # the window [k - half, k - half + window) is extended[k + window] - extended[k]
        extended = np.empty(n + window_blocks + 1, dtype=np.float64)
        extended[:half] = 0.0
        extended[half] = 0.0
        np.cumsum(values, out=extended[half + 1 : half + 1 + n])
        extended[half + 1 + n :] = extended[half + n]
        return extended[window_blocks : window_blocks + n] - extended[:n]

    total = windowed(sums)
    count = windowed(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(total, count, out=total, where=count > 0)
    total[count <= 0] = np.nan
    return total


def smooth_and_decimate(
    *,
    data: SliceableData,
    rate_in_Hz: float,
    starting_time: float = 0.0,
    decimation_factor: int = 100,
    smoothing_window_samples: int = 1000,
    chunk_samples: int = 2_000_000,
    scale: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> DecimatedSeries:
    """Published smoothing + decimation, streamed: zero-phase moving mean, then one sample in ``factor``.

    Parameters
    ----------
    data : SliceableData
        Raw 1-D stream (ndarray or h5py dataset).
    rate_in_Hz : float
        Its sampling rate.
    starting_time : float
        Time of ``data[0]`` in seconds.
    decimation_factor : int
        Keep one sample in this many (published: 100).
    smoothing_window_samples : int
        Moving-mean width (published: 1000); a multiple of ``decimation_factor``.
    chunk_samples : int
        Raw samples per read.
    scale : float
        Multiplies the result (e.g. an NWB ``conversion``).
    progress : callable, optional
        Called with samples read per chunk.

    Returns
    -------
    DecimatedSeries
        At ``rate_in_Hz / decimation_factor``; sample ``k`` is centred at raw index ``k D - 0.5``.
    """
    if smoothing_window_samples % decimation_factor:
        raise ValueError("smoothing_window_samples must be a multiple of decimation_factor")
    sums, counts = block_sums(
        data=data, factor=decimation_factor, chunk_samples=chunk_samples, progress=progress
    )
    return decimate_from_block_sums(
        sums=sums,
        counts=counts,
        rate_in_Hz=rate_in_Hz,
        starting_time=starting_time,
        decimation_factor=decimation_factor,
        smoothing_window_samples=smoothing_window_samples,
        scale=scale,
    )


def decimate_from_block_sums(
    *,
    sums: NDArray[np.float64],
    counts: NDArray[np.integer],
    rate_in_Hz: float,
    starting_time: float,
    decimation_factor: int,
    smoothing_window_samples: int,
    scale: float = 1.0,
) -> DecimatedSeries:
    """Second half of :func:`smooth_and_decimate`: the moving mean over precomputed block sums.

    Parameters
    ----------
    sums, counts : ndarray
        From :func:`block_sums` with ``factor = decimation_factor``.
    rate_in_Hz, starting_time : float
        The raw stream's rate and first sample time.
    decimation_factor, smoothing_window_samples : int
        As in :func:`smooth_and_decimate`.
    scale : float
        Multiplies the result.

    Returns
    -------
    DecimatedSeries
    """
    values = moving_mean_of_blocks(
        sums=sums, counts=counts, window_blocks=smoothing_window_samples // decimation_factor
    )
    if scale != 1.0:
        values = values * scale
    rate, start, _ = decimated_grid(
        rate_in_Hz=rate_in_Hz, starting_time=starting_time, n_samples=0, decimation_factor=decimation_factor
    )
    return DecimatedSeries(values=values, rate_in_Hz=rate, starting_time=start)


def moving_mean_zero_phase(*, values: NDArray[np.floating], window: int) -> NDArray[np.float64]:
    """Centred moving mean of an in-memory trace (NaN-aware, window clipped at the ends).

    Output ``i`` averages ``values[i - window // 2 : i - window // 2 + window]``.

    Parameters
    ----------
    values : ndarray
        1-D trace.
    window : int
        Window length in samples (>= 1).

    Returns
    -------
    ndarray of float64
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    return moving_mean_of_blocks(
        sums=np.where(finite, values, 0.0), counts=finite.astype(np.int64), window_blocks=max(1, window)
    )


def subtract_moving_average(
    *, values: NDArray[np.floating], rate_in_Hz: float, window_in_s: float
) -> NDArray[np.float64]:
    """Remove slow drift: subtract a centred moving average ``window_in_s`` wide (published tracer detrend).

    Parameters
    ----------
    values : ndarray
        Decimated trace.
    rate_in_Hz : float
        Its rate.
    window_in_s : float
        Moving-average width.

    Returns
    -------
    ndarray of float64
    """
    window = max(1, round(window_in_s * rate_in_Hz))
    return np.asarray(values, dtype=np.float64) - moving_mean_zero_phase(values=values, window=window)


def _weights(*, residuals: NDArray[np.float64], scale: float, norm: str) -> NDArray[np.float64]:
    if scale <= 0:
        return np.ones_like(residuals)
    u = np.abs(residuals) / scale
    if norm == "huber":
        return np.minimum(1.0, _HUBER_C / np.maximum(u, 1e-300))
    if norm == "bisquare":
        return np.where(u < _BISQUARE_C, (1.0 - (u / _BISQUARE_C) ** 2) ** 2, 0.0)
    raise ValueError(f"robust_norm must be 'huber' or 'bisquare', not {norm!r}")


def _mad_scale(residuals: NDArray[np.float64]) -> float:
    return float(np.median(np.abs(residuals - np.median(residuals))) / 0.6744897501960817)


class _WeightedSums:
    """Sufficient statistics of a weighted straight-line fit, accumulated chunk by chunk (centred)."""

    def __init__(self, *, x_shift: float, y_shift: float) -> None:
        self.x_shift = x_shift
        self.y_shift = y_shift
        self.w = self.wx = self.wy = self.wxx = self.wxy = self.wyy = 0.0
        self.n = 0

    def add(self, *, x: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64] | None) -> None:
        xc = x - self.x_shift
        yc = y - self.y_shift
        if w is None:
            w = np.ones_like(xc)
        self.n += xc.size
        self.w += float(w.sum())
        self.wx += float(np.dot(w, xc))
        self.wy += float(np.dot(w, yc))
        self.wxx += float(np.dot(w * xc, xc))
        self.wxy += float(np.dot(w * xc, yc))
        self.wyy += float(np.dot(w * yc, yc))

    def line(self) -> tuple[float, float]:
        denominator = self.w * self.wxx - self.wx**2
        if self.w <= 0 or denominator <= 1e-300 * max(1.0, self.w * self.wxx):
            raise ValueError("the control channel is constant: cannot fit it to the signal")
        slope = (self.w * self.wxy - self.wx * self.wy) / denominator
        intercept_c = (self.wy - slope * self.wx) / self.w
        return slope, intercept_c + self.y_shift - slope * self.x_shift

    def r_squared(self) -> float:
        """R^2 of the fit on these (unweighted) sums."""
        slope, _ = self.line()
        sxx = self.wxx - self.wx**2 / self.w
        syy = self.wyy - self.wy**2 / self.w
        sxy = self.wxy - self.wx * self.wy / self.w
        if syy <= 0:
            return float("nan")
        return float(1.0 - (syy - 2 * slope * sxy + slope**2 * sxx) / syy)


def _converged(
    *, old: tuple[float, float], new: tuple[float, float], tolerance: float, level: float
) -> bool:
    slope_ok = abs(new[0] - old[0]) <= tolerance * max(abs(old[0]), 1e-12)
    intercept_ok = abs(new[1] - old[1]) <= tolerance * max(abs(old[1]), abs(level), 1e-12)
    return slope_ok and intercept_ok


def fit_control(
    *,
    signal: NDArray[np.floating],
    control: NDArray[np.floating],
    method: str = "ols",
    robust_norm: str = "huber",
    max_iterations: int = 50,
    tolerance: float = 1e-8,
) -> ControlFit:
    """Fit the control channel to the signal channel: ``signal ~ slope * control + intercept``.

    Parameters
    ----------
    signal, control : ndarray
        Same-length traces (usually the decimated ones); samples not finite in both are ignored.
    method : str
        ``"ols"`` (published, MATLAB polyfit) or ``"irls"`` (robust iteratively reweighted least
        squares; scale = MAD / 0.6745 of the residuals, re-estimated every iteration; bisquare
        starts from the converged Huber fit).
    robust_norm : str
        ``"huber"`` or ``"bisquare"`` weights for IRLS.
    max_iterations : int
        IRLS iteration limit.
    tolerance : float
        IRLS stops when both coefficients change by less than this (relative).

    Returns
    -------
    ControlFit
    """
    signal = np.asarray(signal, dtype=np.float64)
    control = np.asarray(control, dtype=np.float64)
    if signal.shape != control.shape:
        raise ValueError(f"signal and control differ in length: {signal.size} vs {control.size}")
    both = np.isfinite(signal) & np.isfinite(control)
    x, y = control[both], signal[both]
    if x.size < 3:
        raise ValueError("fewer than 3 samples where both signal and control are finite")
    sums = _WeightedSums(x_shift=float(x.mean()), y_shift=float(y.mean()))
    sums.add(x=x, y=y, w=None)
    slope, intercept = sums.line()
    r_squared = sums.r_squared()
    if method == "ols":
        return ControlFit(slope, intercept, "ols", int(x.size), 0, r_squared)
    if method != "irls":
        raise ValueError(f"control fit method must be 'ols' or 'irls', not {method!r}")
    iteration = 0
    # bisquare gives zero weight to everything far from an outlier-pulled OLS line: start it from Huber
    for norm in ("huber",) if robust_norm == "huber" else ("huber", robust_norm):
        for _ in range(max_iterations):
            iteration += 1
            residuals = y - (slope * x + intercept)
            weights = _weights(residuals=residuals, scale=_mad_scale(residuals), norm=norm)
            weighted = _WeightedSums(x_shift=sums.x_shift, y_shift=sums.y_shift)
            weighted.add(x=x, y=y, w=weights)
            new_slope, new_intercept = weighted.line()
            converged = _converged(
                old=(slope, intercept),
                new=(new_slope, new_intercept),
                tolerance=tolerance,
                level=sums.y_shift,
            )
            slope, intercept = new_slope, new_intercept
            if converged:
                break
    fitted = slope * x + intercept
    total = float(np.sum((y - y.mean()) ** 2))
    r_squared = float(1.0 - np.sum((y - fitted) ** 2) / total) if total > 0 else float("nan")
    return ControlFit(slope, intercept, f"irls-{robust_norm}", int(x.size), iteration, r_squared)


def _paired_chunks(
    *, signal: SliceableData, control: SliceableData, chunk_samples: int
) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    n = min(len(signal), len(control))
    for start in range(0, n, chunk_samples):
        stop = min(start + chunk_samples, n)
        y = np.asarray(signal[start:stop], dtype=np.float64)
        x = np.asarray(control[start:stop], dtype=np.float64)
        both = np.isfinite(x) & np.isfinite(y)
        yield x[both], y[both]


def fit_control_full_rate(
    *,
    signal: SliceableData,
    control: SliceableData,
    method: str = "ols",
    robust_norm: str = "huber",
    chunk_samples: int = 2_000_000,
    max_iterations: int = 20,
    tolerance: float = 1e-6,
    scale_subsample: int = 1_000_000,
) -> ControlFit:
    """Fit the control to the signal on every raw sample, streamed through sufficient statistics.

    OLS is one pass. IRLS makes one pass per iteration; the residual scale (MAD) of an iteration is
    estimated on an evenly strided subsample of at most ``scale_subsample`` residuals.

    Parameters
    ----------
    signal, control : SliceableData
        Raw streams of equal rate (ndarray or h5py dataset).
    method, robust_norm : str
        As in :func:`fit_control`.
    chunk_samples : int
        Samples per read.
    max_iterations : int
        IRLS iteration limit.
    tolerance : float
        IRLS relative convergence tolerance.
    scale_subsample : int
        Residuals kept per pass to estimate the MAD scale.

    Returns
    -------
    ControlFit
    """
    n_total = min(len(signal), len(control))
    stride = max(1, n_total // scale_subsample)
    first = np.asarray(control[: min(n_total, 100_000)], dtype=np.float64)
    first_signal = np.asarray(signal[: min(n_total, 100_000)], dtype=np.float64)
    sums = _WeightedSums(x_shift=float(np.nanmean(first)), y_shift=float(np.nanmean(first_signal)))
    for x, y in _paired_chunks(signal=signal, control=control, chunk_samples=chunk_samples):
        sums.add(x=x, y=y, w=None)
    if sums.n < 3:
        raise ValueError("fewer than 3 samples where both signal and control are finite")
    slope, intercept = sums.line()
    r_squared = sums.r_squared()
    if method == "ols":
        return ControlFit(slope, intercept, "ols", sums.n, 0, r_squared)
    if method != "irls":
        raise ValueError(f"control fit method must be 'ols' or 'irls', not {method!r}")
    iteration = 0
    for norm in ("huber",) if robust_norm == "huber" else ("huber", robust_norm):
        for _ in range(max_iterations):
            iteration += 1
            sample = np.concatenate(
                [
                    (y - (slope * x + intercept))[::stride]
                    for x, y in _paired_chunks(signal=signal, control=control, chunk_samples=chunk_samples)
                ]
            )
            scale = _mad_scale(sample)
            weighted = _WeightedSums(x_shift=sums.x_shift, y_shift=sums.y_shift)
            for x, y in _paired_chunks(signal=signal, control=control, chunk_samples=chunk_samples):
                residuals = y - (slope * x + intercept)
                weighted.add(x=x, y=y, w=_weights(residuals=residuals, scale=scale, norm=norm))
            new_slope, new_intercept = weighted.line()
            converged = _converged(
                old=(slope, intercept),
                new=(new_slope, new_intercept),
                tolerance=tolerance,
                level=sums.y_shift,
            )
            slope, intercept = new_slope, new_intercept
            if converged:
                break
    return ControlFit(slope, intercept, f"irls-{robust_norm}", sums.n, iteration, r_squared)


def delta_f_over_f(*, signal: NDArray[np.floating], fit: NDArray[np.floating]) -> NDArray[np.float64]:
    """Published dF/F in percent: ``100 * (signal - fit) / fit``.

    Parameters
    ----------
    signal : ndarray
        The signal trace.
    fit : ndarray
        The fitted control (or any baseline F0, scalar or trace).

    Returns
    -------
    ndarray of float64
    """
    signal = np.asarray(signal, dtype=np.float64)
    fit = np.asarray(fit, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * (signal - fit) / fit


def fit_exponential_decay(
    *, times: NDArray[np.floating], values: NDArray[np.floating], max_points: int = 20_000
) -> NDArray[np.float64]:
    """Fit photobleaching as ``A exp(-(t - t0) / tau) + C`` and return the fitted curve at ``times``.

    Falls back to a straight line when the exponential fit does not converge or the trace rises.

    Parameters
    ----------
    times, values : ndarray
        Decimated trace (NaNs ignored).
    max_points : int
        The fit uses at most this many evenly strided points.

    Returns
    -------
    ndarray of float64
        The fitted trend at every time.
    """
    from scipy.optimize import curve_fit

    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    t, y = times[finite], values[finite]
    if t.size < 10:
        raise ValueError("too few finite samples to fit photobleaching")
    stride = max(1, t.size // max_points)
    t, y = t[::stride], y[::stride]
    t0 = t[0]
    span = max(t[-1] - t0, 1e-9)
    line = np.polyfit(t - t0, y, 1)

    def model(x: NDArray[np.float64], amplitude: float, tau: float, offset: float) -> NDArray[np.float64]:
        return amplitude * np.exp(-x / tau) + offset

    head = float(np.median(y[: max(1, y.size // 20)]))
    tail = float(np.median(y[-max(1, y.size // 20) :]))
    try:
        coefficients, _ = curve_fit(
            model,
            t - t0,
            y,
            p0=(max(head - tail, 1e-12), span / 3.0, tail),
            bounds=([0.0, span / 1000.0, -np.inf], [np.inf, span * 100.0, np.inf]),
            maxfev=2000,
        )
        trend = model(times - t0, *coefficients)
        if np.all(np.isfinite(trend)) and np.all(trend > 0):
            return trend
    except (RuntimeError, ValueError):
        pass
    return np.polyval(line, times - t0)


def correct_bleaching(
    *,
    times: NDArray[np.floating],
    values: NDArray[np.floating],
    method: str,
    rate_in_Hz: float,
    window_in_s: float = 300.0,
) -> NDArray[np.float64]:
    """Remove photobleaching from a decimated trace, keeping its scale (the first-sample level).

    Parameters
    ----------
    times, values : ndarray
        Decimated trace.
    method : str
        ``"exponential"`` (divide by the fitted decay, times its start value), ``"moving_average"``
        (subtract a ``window_in_s`` moving average, add back the median) or ``"none"``.
    rate_in_Hz : float
        Trace rate (for the moving average).
    window_in_s : float
        Moving-average width.

    Returns
    -------
    ndarray of float64
    """
    values = np.asarray(values, dtype=np.float64)
    if method == "none":
        return values.copy()
    if method == "exponential":
        trend = fit_exponential_decay(times=times, values=values)
        return values * (trend[0] / trend)
    if method == "moving_average":
        detrended = subtract_moving_average(values=values, rate_in_Hz=rate_in_Hz, window_in_s=window_in_s)
        return detrended + np.nanmedian(values)
    raise ValueError(
        f"bleaching correction must be 'exponential', 'moving_average' or 'none', not {method!r}"
    )


def control_free_delta_f_over_f(
    *,
    times: NDArray[np.floating],
    values: NDArray[np.floating],
    rate_in_Hz: float,
    baseline_window_in_s: float = 1800.0,
    bleaching_correction: str = "exponential",
    detrend_window_in_s: float = 300.0,
) -> tuple[NDArray[np.float64], float]:
    """dF/F without a control channel: bleaching-corrected trace against its baseline median.

    Parameters
    ----------
    times, values : ndarray
        Decimated signal trace.
    rate_in_Hz : float
        Its rate.
    baseline_window_in_s : float
        F0 = median of the first ``baseline_window_in_s`` seconds (published alternative: 30 min).
    bleaching_correction : str
        See :func:`correct_bleaching`.
    detrend_window_in_s : float
        Moving-average width for ``"moving_average"`` bleaching correction.

    Returns
    -------
    dff : ndarray
        Percent dF/F.
    f0 : float
        The baseline used.
    """
    corrected = correct_bleaching(
        times=times, values=values, method=bleaching_correction, rate_in_Hz=rate_in_Hz, window_in_s=detrend_window_in_s
    )
    n_baseline = max(1, round(baseline_window_in_s * rate_in_Hz))
    f0 = float(np.nanmedian(corrected[:n_baseline]))
    if not np.isfinite(f0) or f0 == 0:
        raise ValueError("the baseline median is zero or not finite: dF/F is undefined")
    return delta_f_over_f(signal=corrected, fit=f0), f0


def tracer_delta_f_over_f(
    *,
    times: NDArray[np.floating],
    values: NDArray[np.floating],
    infusion_start_in_s: float | None,
    baseline_in_s: float = 300.0,
) -> tuple[NDArray[np.float64], float, str | None]:
    """Tracer / albumin dF/F against the median of the ``baseline_in_s`` before the infusion (published: 5 min).

    Parameters
    ----------
    times, values : ndarray
        Decimated tracer trace.
    infusion_start_in_s : float or None
        Start of the infusion of this tracer (None: not recorded).
    baseline_in_s : float
        Baseline length before the infusion.

    Returns
    -------
    dff : ndarray
        Percent dF/F.
    f0 : float
        Baseline used.
    note : str or None
        Set when the pre-infusion baseline was not available and the first ``baseline_in_s`` of the
        recording was used instead.
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    note = None
    window = np.zeros(times.size, dtype=bool)
    if infusion_start_in_s is not None:
        window = (times >= infusion_start_in_s - baseline_in_s) & (times < infusion_start_in_s)
    expected = baseline_in_s * (1.0 / np.median(np.diff(times)) if times.size > 1 else 1.0)
    if np.count_nonzero(window & np.isfinite(values)) < 0.5 * expected:
        note = (
            "no infusion recorded for this tracer"
            if infusion_start_in_s is None
            else f"less than half of the {baseline_in_s:g} s before the infusion at {infusion_start_in_s:g} s "
            "was recorded"
        ) + f"; baseline = median of the first {baseline_in_s:g} s of the recording"
        window = times < times[0] + baseline_in_s
    f0 = float(np.nanmedian(values[window]))
    if not np.isfinite(f0) or f0 == 0:
        raise ValueError("the tracer baseline median is zero or not finite: dF/F is undefined")
    return delta_f_over_f(signal=values, fit=f0), f0, note


def finite_runs(*, values: NDArray[np.floating]) -> list[tuple[int, int]]:
    """Half-open index ranges ``[start, stop)`` of consecutive finite samples.

    Parameters
    ----------
    values : ndarray
        1-D trace.

    Returns
    -------
    list of (int, int)
    """
    finite = np.isfinite(np.asarray(values, dtype=np.float64)).astype(np.int8)
    edges = np.diff(np.concatenate([[0], finite, [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), stops.tolist()))


def fill_short_gaps(*, values: NDArray[np.floating], max_gap_samples: int) -> NDArray[np.float64]:
    """Linearly interpolate NaN runs of at most ``max_gap_samples`` between finite samples.

    Longer runs, and runs at either end, stay NaN.

    Parameters
    ----------
    values : ndarray
        1-D trace.
    max_gap_samples : int
        Longest run filled.

    Returns
    -------
    ndarray of float64
    """
    values = np.asarray(values, dtype=np.float64).copy()
    runs = finite_runs(values=values)
    for (_, previous_stop), (next_start, _) in itertools.pairwise(runs):
        gap = next_start - previous_stop
        if 0 < gap <= max_gap_samples:
            left, right = values[previous_stop - 1], values[next_start]
            fraction = np.arange(1, gap + 1) / (gap + 1)
            values[previous_stop:next_start] = left + (right - left) * fraction
    return values
