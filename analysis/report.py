"""Figures (matplotlib, Agg) and the self-contained report.html of one session.

Every figure is written as a PNG and embedded in the HTML as base64, so the report is one file
that can be mailed or archived. Long traces are drawn as per-pixel min/max envelopes, so a 24-h
session plots as fast and as faithfully as a 1-h one.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ndx_glymphatic.analysis.page import embedded_image, format_cell, html_page
from ndx_glymphatic.analysis.triggered import event_count_label, is_small_n

if TYPE_CHECKING:
    from ndx_glymphatic.analysis.pipeline import SessionAnalysis

__all__ = [
    "FIGURES",
    "PLOT_SCALE",
    "STATE_COLOURS",
    "TruthComparison",
    "draw_once_in_memory",
    "envelope_for_plot",
    "html_page",
    "not_computed",
    "render_session_figures",
    "render_session_report",
    "save_figure",
]

STATE_COLOURS = {
    "wake": "#e4572e",
    "NREM": "#2e86ab",
    "REM": "#a23b72",
    "micro-arousal": "#f2a541",
    "artifact": "#777777",
    "unscored": "#dddddd",
}
_TRACE_COLOURS = {"ne": "#1b7f3b", "blood_volume": "#c0392b", "csf_tracer": "#2c3e99", "sigma": "#8e44ad"}
_LABELS = {
    "ne": "NE (% dF/F)",
    "blood_volume": "Blood volume (% dF/F)",
    "csf_tracer": "CSF tracer (% dF/F)",
    "sigma": "EEG sigma power",
}


#: Factor from a trace's stored unit to the unit it is drawn in: sigma power is stored in V² and drawn in
#: µV², the unit of the band-power table (V² would need 1e-9 axis multipliers).
PLOT_SCALE = {"sigma_power": 1e12}
_SIGMA_LABEL = "sigma power (µV²)"


_EFFLUX_NOT_REACHED = "the tracer did not fall to half its peak before the end"
_RISE_NOT_REACHED = "the tracer did not cross 10 % and 90 % of its peak"


def seconds_or_why(*, value_in_s: float | None, why: str) -> str:
    """``"123 s"`` for a finite duration, otherwise ``"not computed: <why>"`` (never ``nan s``)."""
    if value_in_s is None or not math.isfinite(value_in_s):
        return f"not computed: {why}"
    return f"{value_in_s:.0f} s"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def save_figure(
    fig: Any,
    path: Path,
    *,
    left_in: float = 0.85,
    right_in: float = 0.25,
    top_in: float = 0.45,
    bottom_in: float = 0.55,
    wspace: float = 0.4,
    hspace: float = 0.35,
) -> None:
    """Set margins in inches (much cheaper than tight_layout on many axes), save as PNG, close.

    Parameters
    ----------
    fig : matplotlib Figure
    path : Path
    left_in, right_in, top_in, bottom_in : float
        Margins in inches.
    wspace, hspace : float
        Subplot spacing (fractions of the average axis size).
    """
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left_in / width,
        right=1.0 - right_in / width,
        top=1.0 - top_in / height,
        bottom=bottom_in / height,
        wspace=wspace,
        hspace=hspace,
    )
    fig.savefig(path, dpi=100)
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)


def draw_once_in_memory() -> None:
    """Draw one small figure with the artists glymph's figures use and encode it as PNG, written nowhere.

    The first figure a process draws loads the renderer, the fonts and their glyphs, and the PNG writer
    (a few tenths of a second); a process that will draw later and waits now does that in the meantime.
    """
    import io

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(2.0, 1.5))
    ax.plot([0.0, 1.0], [0.0, 1.0], label="NE")
    ax.scatter([0.5], [0.5], s=18)
    ax.hlines(0.5, 0.25, 0.75, color="k")
    ax.fill_between([0.0, 1.0], [0.0, 0.5], [0.5, 1.0], alpha=0.2, lw=0)
    ax.set_xticks([0.0, 1.0], ["control", "zolpidem"])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("normalised PSD")
    ax.set_title("NREM\nR² = 0.50, p = 0.01", loc="left", fontsize=8)
    ax.legend(frameon=False, fontsize=7)
    save_figure(fig, io.BytesIO())


def envelope_for_plot(
    *, times: NDArray[np.float64], values: NDArray[np.float64], max_points: int = 4000
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Reduce a long trace to per-bin (time, min, max) for drawing.

    Parameters
    ----------
    times, values : ndarray
    max_points : int
        Bins.

    Returns
    -------
    t, low, high : ndarray
    """
    n = values.size
    if n <= max_points:
        return times, values, values
    size = math.ceil(n / max_points)
    usable = (n // size) * size
    blocks = values[:usable].reshape(-1, size)
    with np.errstate(all="ignore"), _quiet():
        low = np.nanmin(blocks, axis=1)
        high = np.nanmax(blocks, axis=1)
    return times[:usable].reshape(-1, size)[:, 0], low, high


class _quiet:
    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *args: object) -> None:
        self._catch.__exit__(*args)


def _hypnogram_axis(ax: Any, analysis: SessionAnalysis, *, scale: float) -> None:
    labelled = analysis.curve("labelled_hypnogram")
    if labelled is None:
        return
    levels = {"wake": 3, "micro-arousal": 2.5, "REM": 1, "NREM": 2, "artifact": 0, "unscored": 0}
    # one collection per state (thousands of rows in 24 h: one artist per row would take seconds)
    for state in np.unique(labelled.states):
        rows = labelled.states == state
        widths = (labelled.stops - labelled.starts)[rows] / scale
        spans = list(zip((labelled.starts[rows] / scale).tolist(), widths.tolist()))
        level = levels.get(str(state), 0)
        ax.broken_barh(spans, (level - 0.4, 0.8), facecolors=STATE_COLOURS.get(str(state), "#999"), linewidth=0)
    ax.set_yticks([1, 2, 2.5, 3], ["REM", "NREM", "MA", "Wake"])
    ax.set_ylim(0.4, 3.5)


def _time_scale(duration_in_s: float) -> tuple[float, str]:
    return (3600.0, "h") if duration_in_s > 3 * 3600 else (60.0, "min")


def _overview(analysis: SessionAnalysis, path: Path) -> None:
    plt = _pyplot()
    traces = analysis.traces
    keys = [key for key in ("ne", "blood_volume", "csf_tracer") if f"{key}_dff" in traces]
    has_spec = analysis.session.spectrogram is not None and analysis.session.spectrogram.times.size > 1
    rows = 1 + int(has_spec) + len(keys)
    heights = [0.8] + ([1.2] if has_spec else []) + [1.0] * len(keys)
    fig, axes = plt.subplots(
        rows, 1, figsize=(11, 1.4 * sum(heights) + 0.8), sharex=True, gridspec_kw={"height_ratios": heights}
    )
    axes = np.atleast_1d(axes)
    scale, unit = _time_scale(analysis.session.duration_in_s)
    _hypnogram_axis(axes[0], analysis, scale=scale)
    axes[0].set_title("Hypnogram, EEG spectrogram and photometry over the session", loc="left")
    row = 1
    if has_spec:
        spectrogram = analysis.session.spectrogram
        assert spectrogram is not None
        step = max(1, spectrogram.times.size // 3000)
        power = spectrogram.power[::step].astype(np.float64)
        with _quiet():
            image = 10 * np.log10(np.where(power > 0, power, np.nan))
        low, high = np.nanpercentile(image, [2, 98]) if np.any(np.isfinite(image)) else (0, 1)
        axes[row].pcolormesh(
            spectrogram.times[::step] / scale,
            spectrogram.frequencies_in_Hz,
            image.T,
            shading="auto",
            cmap="magma",
            vmin=low,
            vmax=high,
            rasterized=True,
        )
        axes[row].set_ylabel("EEG (Hz)")
        row += 1
    for key in keys:
        t, low, high = envelope_for_plot(times=analysis.times, values=traces[f"{key}_dff"])
        axes[row].fill_between(t / scale, low, high, color=_TRACE_COLOURS[key], linewidth=0.3)
        axes[row].set_ylabel(_LABELS[key].replace(" (", "\n("))
        row += 1
    session = analysis.session
    for ax in axes[1:]:
        if session.csf_infusion_start_in_s is not None:
            ax.axvline(session.csf_infusion_start_in_s / scale, color="k", lw=0.8, ls="--")
        if session.drug is not None:
            ax.axvline(session.drug["time_in_s"] / scale, color="#555", lw=0.8, ls=":")
    axes[-1].set_xlabel(f"time ({unit}); dashed: tracer infusion, dotted: injection")
    save_figure(fig, path, left_in=1.0, top_in=0.35, hspace=0.15)


def _zoom(analysis: SessionAnalysis, path: Path) -> bool:
    nrem = analysis.curve("nrem_bouts")
    if nrem is None or len(nrem) == 0:
        return False
    plt = _pyplot()
    longest = int(np.argmax(nrem.durations))
    start = float(nrem.starts[longest]) - 30.0
    stop = min(float(nrem.stops[longest]) + 30.0, start + 960.0)
    inside = (analysis.times >= start) & (analysis.times <= stop)
    if np.count_nonzero(inside) < 10:
        return False
    keys = [key for key in ("ne_dff", "blood_volume_hp", "csf_tracer_hp", "sigma_power") if key in analysis.traces]
    fig, axes = plt.subplots(len(keys), 1, figsize=(11, 1.5 * len(keys) + 0.8), sharex=True)
    axes = np.atleast_1d(axes)
    t = analysis.times[inside]
    names = {
        "ne_dff": ("ne", "NE (% dF/F)"),
        "blood_volume_hp": ("blood_volume", "Blood volume\n(% dF/F, high-passed)"),
        "csf_tracer_hp": ("csf_tracer", "CSF tracer\n(% dF/F, high-passed)"),
        "sigma_power": ("sigma", "S" + _SIGMA_LABEL[1:]),
    }
    for ax, key in zip(axes, keys):
        colour_key, label = names[key]
        values = analysis.traces[key][inside] * PLOT_SCALE.get(key, 1.0)
        ax.plot(t, values, color=_TRACE_COLOURS[colour_key], lw=0.9)
        ax.set_ylabel(label)
        scored = analysis.curve("scored_micro_arousals")
        if scored is not None:
            for a, b in zip(scored.starts, scored.stops):
                if b >= start and a <= stop:
                    ax.axvspan(a, b, color=STATE_COLOURS["micro-arousal"], alpha=0.35, lw=0)
    detected = analysis.curve("detected_micro_arousals")
    if detected is not None:
        marks = detected.onsets[(detected.onsets >= start) & (detected.onsets <= stop)]
        axes[0].plot(
            marks,
            np.full(marks.size, np.nanmax(analysis.traces["ne_dff"][inside])),
            "v",
            color="k",
            ms=5,
            label="detected micro-arousal",
        )
        if marks.size:
            axes[0].legend(loc="upper right", frameon=False)
    spindles = analysis.curve("spindles")
    if spindles is not None and "sigma_power" in keys:
        marks = spindles.onsets[(spindles.onsets >= start) & (spindles.onsets <= stop)]
        axes[-1].plot(marks, np.zeros(marks.size), "|", color="k", ms=8)
    axes[0].set_title(
        f"Longest NREM bout ({nrem.durations[longest]:.0f} s); orange: scored micro-arousals, ticks: spindles",
        loc="left",
    )
    axes[-1].set_xlabel("time (s)")
    save_figure(fig, path, left_in=1.1, top_in=0.35, hspace=0.15)
    return True


def _spectra(analysis: SessionAnalysis, path: Path) -> bool:
    found = {key: analysis.curve(f"{key}_spectrum") for key in _TRACE_COLOURS}
    spectra = {key: value for key, value in found.items() if value is not None and value.n_bouts}
    if not spectra:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for key, spectrum in spectra.items():
        ax.plot(
            spectrum.frequencies_in_Hz,
            spectrum.normalized_psd,
            color=_TRACE_COLOURS[key],
            label=f"{_LABELS[key].split(' (')[0]}: peak {spectrum.peak_frequency_in_Hz:.4f} Hz",
        )
        if math.isfinite(spectrum.peak_frequency_in_Hz):
            ax.axvline(spectrum.peak_frequency_in_Hz, color=_TRACE_COLOURS[key], lw=0.6, ls=":")
    n = next(iter(spectra.values()))
    ax.set_xlim(0, float(n.frequencies_in_Hz[-1]))
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD / 90th percentile < 0.03 Hz")
    ax.set_title(f"Infraslow spectra in NREM ({n.n_bouts} bouts, {n.total_duration_in_s / 60:.0f} min)", loc="left")
    ax.legend(frameon=False, fontsize=8)
    save_figure(fig, path, left_in=0.75, top_in=0.35)
    return True


def _xcorr(analysis: SessionAnalysis, path: Path) -> bool:
    titles = {
        "ne_vs_blood_volume": "NE → blood volume",
        "ne_vs_csf": "NE → CSF tracer",
        "blood_volume_vs_csf": "blood volume → CSF tracer",
        "ne_vs_sigma": "NE → sigma power",
    }
    found = {key: analysis.curve(f"{key}_xcorr") for key in titles}
    results = {key: value for key, value in found.items() if value is not None and value.n_bouts}
    if not results:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * len(results), 3.0), squeeze=False)
    for ax, (key, result) in zip(axes[0], results.items()):
        if result.per_bout.shape[0] > 1:
            sem = result.per_bout.std(axis=0, ddof=1) / np.sqrt(result.per_bout.shape[0])
            ax.fill_between(result.lags_in_s, result.mean - sem, result.mean + sem, color="#bbb", lw=0)
        ax.plot(result.lags_in_s, result.mean, color="k", lw=1)
        ax.axvline(0, color="#999", lw=0.5)
        ax.axhline(0, color="#999", lw=0.5)
        ax.plot([result.lag_in_s], [result.value], "o", color="#c0392b")
        ax.set_title(
            f"{titles.get(key, key)}\nlag {result.lag_in_s:+.1f} s, r = {result.value:.2f} (n={result.n_bouts})",
            fontsize=8.5,
        )
        ax.set_xlabel("lag (s); > 0: second follows")
    axes[0][0].set_ylabel("correlation (z-scored, unbiased)")
    save_figure(fig, path, left_in=0.75, top_in=0.55, wspace=0.3)
    return True


def _phase(analysis: SessionAnalysis, path: Path) -> bool:
    lock = analysis.curve("phase_locking")
    if lock is None or lock.n_bouts == 0:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    degrees = np.degrees(lock.phase_bins_rad)
    ax.bar(degrees, lock.amplitude_by_phase, width=degrees[1] - degrees[0], color=_TRACE_COLOURS["sigma"], alpha=0.7)
    ax.axhline(1.0, color="#999", lw=0.6)
    twin = ax.twinx()
    grid = np.linspace(-180, 180, 200)
    twin.plot(grid, np.cos(np.radians(grid)), color=_TRACE_COLOURS["ne"], lw=1)
    twin.set_ylabel("NE phase (cos)", color=_TRACE_COLOURS["ne"])
    ax.set_xlabel("NE infraslow phase (deg; 0 = NE peak)")
    ax.set_ylabel("sigma power / bout mean")
    ax.set_title(f"Sigma power by NE phase: MVL {lock.mean_vector_length:.3f}, p = {lock.p_value:.3g}", loc="left")
    save_figure(fig, path, left_in=0.75, right_in=0.75, top_in=0.35)
    return True


def _triggered(analysis: SessionAnalysis, key: str, title: str, path: Path) -> bool:
    averages = {name: value for name, value in (analysis.curve(f"{key}_triggered") or {}).items() if value.n_events}
    if not averages:
        return False
    plt = _pyplot()
    spectro = analysis.curve(f"{key}_spectrogram")
    with_spectrogram = spectro is not None and spectro.n_events > 0
    columns = len(averages) + int(with_spectrogram)
    fig, axes = plt.subplots(1, columns, figsize=(3.0 * columns, 2.9), squeeze=False)
    labels = {
        "ne_dff": ("ne", "NE (% dF/F)"),
        "blood_volume_dff": ("blood_volume", "blood volume (% dF/F)"),
        "blood_volume_hp": ("blood_volume", "blood volume (% dF/F, hp)"),
        "csf_tracer_dff": ("csf_tracer", "CSF tracer (% dF/F)"),
        "csf_tracer_hp": ("csf_tracer", "CSF tracer (% dF/F, hp)"),
        "sigma_power": ("sigma", _SIGMA_LABEL),
    }
    min_events = analysis.params.triggered.min_events_for_average
    relative = key != "micro_arousal"  # stimulation: each event relative to its own 10 s before onset
    for ax, (name, average) in zip(axes[0], averages.items()):
        colour, label = labels.get(name, ("ne", name))
        per_event = average.per_event * PLOT_SCALE.get(name, 1.0)
        if relative:
            before = (average.lags_in_s < 0) & (average.lags_in_s >= -10.0)
            per_event = per_event - per_event[:, before].mean(axis=1, keepdims=True)
            label = "Δ " + label
        mean = per_event.mean(axis=0)
        sem = per_event.std(axis=0, ddof=1) / np.sqrt(per_event.shape[0]) if per_event.shape[0] > 1 else 0 * mean
        ax.fill_between(average.lags_in_s, mean - sem, mean + sem, color=_TRACE_COLOURS[colour], alpha=0.25, lw=0)
        ax.plot(average.lags_in_s, mean, color=_TRACE_COLOURS[colour], lw=1)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_title(f"{label}\n({event_count_label(n_events=average.n_events, min_events=min_events)})", fontsize=8.5)
        ax.set_xlabel("time from onset (s)")
    if with_spectrogram:
        ax = axes[0][-1]
        assert spectro is not None
        # display only: average 1-Hz bands (single 5-s windows are chi-square noisy)
        edges = np.arange(0.0, float(spectro.frequencies_in_Hz[-1]) + 1.0, 1.0)
        which = np.digitize(spectro.frequencies_in_Hz, edges) - 1
        present = [b for b in range(edges.size - 1) if np.any(which == b)]
        banded = np.column_stack([spectro.relative_power_percent[:, which == b].mean(axis=1) for b in present])
        centres = [edges[b] + 0.5 for b in present]
        mesh = ax.pcolormesh(spectro.lags_in_s, centres, banded.T, shading="auto", cmap="RdBu_r", vmin=50, vmax=150)
        fig.colorbar(mesh, ax=ax, label="% of baseline")
        ax.set_ylabel("EEG (Hz)")
        ax.set_xlabel("time from onset (s)")
        ax.set_title(
            f"EEG spectrogram ({event_count_label(n_events=spectro.n_events, min_events=min_events)})", fontsize=8.5
        )
    counts = [average.n_events for average in averages.values()] + ([spectro.n_events] if with_spectrogram else [])
    small = any(is_small_n(n_events=n, min_events=min_events) for n in counts)
    if small:
        title += f" — SMALL n (n = {min(counts)} < {min_events} events): mostly noise, read with care"
    fig.suptitle(title, x=0.01, ha="left", fontsize=10, color="#b03a2e" if small else "black")
    save_figure(fig, path, left_in=0.6, right_in=0.8 if with_spectrogram else 0.2, top_in=0.85, wspace=0.45)
    return True


def _kinetics(analysis: SessionAnalysis, path: Path) -> bool:
    k = analysis.curve("tracer_kinetics")
    if k is None or "csf_tracer_dff" not in analysis.traces:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    scale, unit = _time_scale(analysis.session.duration_in_s)
    t, low, high = envelope_for_plot(times=analysis.times, values=analysis.traces["csf_tracer_dff"])
    ax.fill_between(t / scale, low, high, color=_TRACE_COLOURS["csf_tracer"], lw=0.3, alpha=0.7)
    infusion = analysis.session.csf_infusion_start_in_s
    if infusion is not None:
        ax.axvline(infusion / scale, color="k", ls="--", lw=0.8, label="infusion start")
    for value, label, style in ((k.t10_in_s, "10 %", ":"), (k.t90_in_s, "90 %", "-.")):
        if math.isfinite(value):
            ax.axvline(value / scale, color="#444", ls=style, lw=0.8, label=f"{label} of peak")
    if math.isfinite(k.peak_time_in_s):
        ax.plot([k.peak_time_in_s / scale], [k.peak_percent], "o", color="#c0392b", label="peak")
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("CSF tracer (% dF/F)")
    ax.set_title(
        f"Tracer influx: 10-90 % rise {seconds_or_why(value_in_s=k.rise_time_in_s, why=_RISE_NOT_REACHED)}, "
        f"slope {k.influx_slope_percent_per_min:.2f} %/min;\n"
        f"efflux half-time {seconds_or_why(value_in_s=k.efflux_half_time_in_s, why=_EFFLUX_NOT_REACHED)}",
        loc="left",
        fontsize=9,
    )
    ax.legend(frameon=False, fontsize=8)
    save_figure(fig, path, left_in=0.75, top_in=0.55)
    return True


#: Every figure of a session report, in report order: name (the PNG is ``<name>.png``) -> drawing
#: function, which returns False when its curves hold nothing to draw. A figure is drawn when a step
#: lists its name in ``StepResult.figures``.
FIGURES: dict[str, Callable[[SessionAnalysis, Path], bool]] = {
    "overview": lambda analysis, path: _overview(analysis, path) or True,
    "nrem_bout": _zoom,
    "infraslow_spectra": _spectra,
    "cross_correlations": _xcorr,
    "sigma_phase_locking": _phase,
    "micro_arousal_triggered": lambda analysis, path: _triggered(
        analysis, "micro_arousal", "Around isolated micro-arousal onsets", path
    ),
    "lc_stimulation_triggered": lambda analysis, path: _triggered(
        analysis, "lc_stimulation", "Around LC optogenetic train onsets", path
    ),
    "vasomotion_stimulation_triggered": lambda analysis, path: _triggered(
        analysis, "vasomotion_stimulation", "Around vasomotion-stimulation light pulses", path
    ),
    "tracer_kinetics": _kinetics,
}


def render_session_figures(*, analysis: SessionAnalysis, folder: Path) -> list[Path]:
    """Draw every figure the steps' results feed into ``folder``; return their paths in report order.

    Parameters
    ----------
    analysis : SessionAnalysis
    folder : Path

    Returns
    -------
    list of Path
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    wanted = analysis.figures
    for name, draw in FIGURES.items():
        path = folder / f"{name}.png"
        if name in wanted and draw(analysis, path):
            written.append(path)
    return written


_CAPTIONS = {
    "overview.png": "The whole session: scored states (micro-arousal rule applied), EEG spectrogram, and the "
    "photometry channels as dF/F (min/max envelope per pixel).",
    "nrem_bout.png": "The longest NREM bout at full resolution: the infraslow NE oscillation with blood volume "
    "and CSF tracer (high-passed at the spectrum cut-off) and EEG sigma power.",
    "infraslow_spectra.png": "Bout-duration-weighted Welch spectra over NREM bouts (published recipe), normalised "
    "to the 90th percentile below 0.03 Hz.",
    "cross_correlations.png": "Bout-averaged unbiased cross-correlations of z-scored detrended signals "
    "(mean ± s.e.m. over bouts). A positive lag means the second signal follows the first.",
    "sigma_phase_locking.png": "EEG sigma power (normalised per bout) by the Hilbert phase of the infraslow NE "
    "oscillation; mean vector length tested against circular-shift surrogates.",
    "micro_arousal_triggered.png": "Averages around isolated micro-arousals (0-10 s long, none other within ±40 s).",
    "lc_stimulation_triggered.png": "Averages (mean ± s.e.m.) around LC optogenetic stimulation trains, each train "
    "relative to its 10 s before onset; EEG spectrogram in % of the pre-onset baseline (1-Hz bands).",
    "vasomotion_stimulation_triggered.png": "Averages around the light pulses of vasomotion stimulation, each "
    "relative to its 10 s before onset.",
    "tracer_kinetics.png": "CSF tracer dF/F against the median of the 5 min before the infusion, with the 10 % "
    "and 90 % crossings of the peak.",
}


#: Metrics section holding the event counts of each triggered figure (its children carry ``n_events``).
_TRIGGERED_COUNTS = {
    "micro_arousal_triggered.png": "micro_arousals.triggered",
    "lc_stimulation_triggered.png": "lc_stimulation",
    "vasomotion_stimulation_triggered.png": "vasomotion_stimulation",
}


def _caption(*, document: dict[str, Any], name: str) -> str:
    """The figure's caption; for a triggered average also how many events it averages, marked when few."""
    caption = _CAPTIONS.get(name, "")
    section = _get(document["metrics"], _TRIGGERED_COUNTS[name]) if name in _TRIGGERED_COUNTS else None
    if not isinstance(section, dict):
        return caption
    counts = [child["n_events"] for child in section.values() if isinstance(child, dict) and child.get("n_events")]
    if not counts:
        return caption
    min_events = int(_get(document, "parameters.triggered.min_events_for_average") or 1)
    n = min(counts)
    caption += f" Averaged over n = {n} events" if n == max(counts) else f" Averaged over n = {n}-{max(counts)} events"
    if is_small_n(n_events=n, min_events=min_events):
        caption += (
            f"; SMALL n (< {min_events}, triggered.min_events_for_average): the average still holds much of the "
            "single events' noise, read it with care"
        )
    return caption + "."


#: Why a measure can be undefined although its step ran, by dotted metrics.json name.
_WHY_UNDEFINED = {
    "csf_tracer.efflux_half_time_in_s": _EFFLUX_NOT_REACHED,
    "csf_tracer.rise_time_in_s": _RISE_NOT_REACHED,
    "csf_tracer.t10_in_s": _RISE_NOT_REACHED,
    "csf_tracer.t90_in_s": _RISE_NOT_REACHED,
    "states.sleep.mean_bout_in_s": "sleep joins NREM and REM bouts; their mean bouts are given per state",
}
#: Words of the notes that explain a null in each metrics section (the steps' notes say why they skipped).
_SECTION_WORDS = {
    "ne": ("NE ", "norepinephrine"),
    "blood_volume": ("blood volume",),
    "csf_tracer": ("CSF tracer", "tracer infusion"),
    "coupling": ("bout", "channel"),
    "eeg": ("EEG", "sigma", "spindle"),
    "micro_arousals": ("micro-arousal", "EMG"),
    "lc_stimulation": ("LC", "stimulation"),
    "vasomotion_stimulation": ("vasomotion", "stimulation"),
    "states": ("hypnogram",),
}


def _null_leaves(value: Any, prefix: str) -> tuple[list[str], int]:
    """Dotted names of the null/NaN numbers under ``value`` and how many numbers there are in all."""
    if isinstance(value, dict):
        nulls: list[str] = []
        total = 0
        for key, child in value.items():
            child_nulls, child_total = _null_leaves(child, f"{prefix}.{key}" if prefix else str(key))
            nulls += child_nulls
            total += child_total
        return nulls, total
    if prefix.endswith("_note"):  # free text, not a measure
        return [], 0
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return [prefix], 1
    return [], 1


def _collapse(*, value: Any, prefix: str) -> list[str]:
    """Null names under ``value``, a whole sub-section named once (``eeg.spindles.*``) when all of it is null."""
    nulls, total = _null_leaves(value, prefix)
    if not nulls:
        return []
    if isinstance(value, dict) and len(nulls) == total and total > 1:
        return [f"{prefix}.*"]
    if not isinstance(value, dict):
        return nulls
    names: list[str] = []
    for key, child in value.items():
        names += _collapse(value=child, prefix=f"{prefix}.{key}" if prefix else str(key))
    return names


def not_computed(*, document: dict[str, Any]) -> list[tuple[str, str]]:
    """What the report does not show, and why: skipped steps (from their notes), then null measures.

    Parameters
    ----------
    document : dict
        The metrics.json content.

    Returns
    -------
    list of (what, why)
        ``what`` is a step's skipped measures in its own words or a dotted metrics.json name
        (``section.*``: every number of that section); ``why`` the reason from the notes.
    """
    rows: list[tuple[str, str]] = []
    notes = [str(note) for note in document.get("notes", [])]
    for note in notes:
        if note.rstrip(".").endswith("skipped"):
            cause, _, what = note.rpartition(": ")
            what = what.rstrip(".").removesuffix(" skipped").removesuffix(" are").removesuffix(" is")
            rows.append((what or note, cause or "see the notes"))
    states = document.get("metrics", {}).get("states", {})
    absent = {state for state, values in states.items() if isinstance(values, dict) and not values.get("total_in_s")}
    for section, value in document.get("metrics", {}).items():
        for name in _collapse(value=value, prefix=section):
            why = _WHY_UNDEFINED.get(name)
            state = next((state for state in absent if state in name.split(".")), None)
            if why is None and state is not None:
                why = f"no {state} was scored in this session"
            if why is None:
                words = _SECTION_WORDS.get(section, (section,))
                related = [note for note in notes if any(word in note for word in words)]
                why = "; ".join(related) if related else "undefined for this session (not enough data to compute it)"
            rows.append((name, why))
    return rows


@dataclass(frozen=True)
class TruthComparison:
    """One row of a simulated session's "metrics vs ground truth" table.

    The simulator knows the truth; it hands the rows over as data (the analysis never imports it).

    Attributes
    ----------
    label : str
        What is compared, with its unit.
    metric : str
        Dotted metrics.json name of the measured value.
    true_value : float
        What the simulator put in.
    scale : float
        Factor from the metric's unit to the label's (60 for s -> min would be 1/60).
    """

    label: str
    metric: str
    true_value: float | int
    scale: float = 1.0


def _truth_table(*, document: dict[str, Any], comparisons: Sequence[TruthComparison]) -> str:
    rows = []
    for row in comparisons:
        raw = _get(document["metrics"], row.metric)
        measured = None if raw is None or isinstance(raw, bool) else raw if row.scale == 1.0 else raw * row.scale
        finite = measured is not None and math.isfinite(float(measured))
        difference = float(measured) - float(row.true_value) if finite else None
        rows.append(
            f"<tr><td>{html.escape(row.label)}</td><td class='num'>{format_cell(measured, 4)}</td>"
            f"<td class='num'>{format_cell(row.true_value, 4)}</td><td class='num'>{format_cell(difference, 2)}</td>"
            f"<td><code>{html.escape(row.metric)}</code></td></tr>"
        )
    return (
        "<h2>Demo: metrics vs ground truth</h2><p class='meta'>This session was simulated; each measure beside the "
        "value the simulator put in.</p><table><tr><th>measure</th><th>measured</th><th>ground truth</th>"
        "<th>measured − truth</th><th>metrics.json</th></tr>" + "".join(rows) + "</table>"
    )


def _get(document: dict[str, Any], dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _summary_text(document: dict[str, Any]) -> str:
    m = document["metrics"]
    parts = []
    states = m.get("states", {})
    if states:
        parts.append(
            f"The mouse slept {format_cell(states['sleep']['total_in_s'] / 60, 3)} min "
            f"({format_cell(100 * (states['sleep']['fraction'] or 0), 3)} % of the scored time): "
            f"NREM {format_cell(states['NREM']['total_in_s'] / 60, 3)} min, "
            f"REM {format_cell(states['REM']['total_in_s'] / 60, 3)} min, "
            f"{states['micro-arousal']['n_bouts']} micro-arousals."
        )
    osc = _get(m, "ne.oscillation") or {}
    if osc.get("peak_frequency_in_Hz") is not None:
        parts.append(
            f"During NREM ({osc['n_bouts']} bouts long enough to analyse, "
            f"{format_cell(osc['total_bout_in_s'] / 60, 3)} min "
            "counting the micro-arousals inside them, hence not the NREM total) NE oscillated at "
            f"{osc['peak_frequency_in_Hz']:.4f} Hz (one cycle every {format_cell(osc['peak_period_in_s'], 3)} s), "
            f"{format_cell(osc['peak_rate_per_min'], 3)} peaks per minute, amplitude "
            f"{format_cell(osc['amplitude_percent_median'], 3)} % dF/F (90th-10th percentile)."
        )
    else:
        parts.append("No NREM bout was long enough to measure the infraslow NE oscillation.")
    bv = _get(m, "coupling.ne_vs_blood_volume")
    if bv and bv.get("lag_in_s") is not None:
        parts.append(
            f"Blood volume was anti-correlated with NE (r = {format_cell(bv['value'], 2)}) and followed it by "
            f"{format_cell(bv['lag_in_s'], 2)} s."
            if (bv["value"] or 0) < 0
            else f"NE and blood volume correlated at r = {format_cell(bv['value'], 2)}, "
            f"lag {format_cell(bv['lag_in_s'], 2)} s."
        )
    lock = _get(m, "eeg.sigma_phase_locking")
    if lock and lock.get("mean_vector_length") is not None:
        parts.append(
            f"Sigma power was {'phase-locked' if (lock['p_value'] or 1) < 0.05 else 'not significantly locked'} to "
            f"the NE oscillation (MVL {format_cell(lock['mean_vector_length'], 2)}, "
            f"p = {format_cell(lock['p_value'], 2)}, "
            f"preferred phase {format_cell(lock['preferred_phase_deg'], 3)}°)."
        )
    det = _get(m, "micro_arousals.detection_vs_scored")
    if det and det.get("f1") is not None:
        parts.append(
            f"Micro-arousals detected from EMG/EEG agreed with the scored ones at F1 = {format_cell(det['f1'], 3)} "
            f"(precision {format_cell(det['precision'], 3)}, recall {format_cell(det['recall'], 3)})."
        )
    csf = m.get("csf_tracer", {})
    if csf.get("rise_time_in_s") is not None:
        parts.append(
            f"The CSF tracer rose from 10 % to 90 % of its peak ({format_cell(csf['peak_percent'], 3)} % dF/F) in "
            f"{format_cell(csf['rise_time_in_s'], 3)} s "
            f"({format_cell(csf['influx_slope_percent_per_min'], 3)} % dF/F per min)."
        )
    return " ".join(parts)


_KEY_METRICS = [
    ("NE oscillation peak frequency (Hz)", "ne.oscillation.peak_frequency_in_Hz"),
    ("NE peaks per min of NREM", "ne.oscillation.peak_rate_per_min"),
    ("NE amplitude, 90th-10th pct (% dF/F)", "ne.oscillation.amplitude_percent_median"),
    (
        "NE control fit R² (share of the NE signal's variance explained by the fitted isosbestic control)",
        "ne.preprocessing.r_squared",
    ),
    ("Blood-volume peak frequency (Hz)", "blood_volume.oscillation.peak_frequency_in_Hz"),
    ("NE → blood volume lag (s)", "coupling.ne_vs_blood_volume.lag_in_s"),
    ("NE → blood volume r", "coupling.ne_vs_blood_volume.value"),
    ("NE → CSF lag (s)", "coupling.ne_vs_csf.lag_in_s"),
    ("NE → CSF r", "coupling.ne_vs_csf.value"),
    ("Blood volume → CSF lag (s)", "coupling.blood_volume_vs_csf.lag_in_s"),
    ("NE → sigma lag (s)", "coupling.ne_vs_sigma.lag_in_s"),
    ("Sigma infraslow peak (Hz)", "eeg.sigma_infraslow.peak_frequency_in_Hz"),
    ("Sigma-NE phase locking MVL", "eeg.sigma_phase_locking.mean_vector_length"),
    ("Sigma-NE phase locking p", "eeg.sigma_phase_locking.p_value"),
    ("Spindles per min NREM", "eeg.spindles.density_per_min_nrem"),
    ("Micro-arousals scored / detected", None),
    ("Micro-arousal detection F1", "micro_arousals.detection_vs_scored.f1"),
    ("NE rise at micro-arousal (% dF/F)", "micro_arousals.triggered.ne.peak_change"),
    ("LC stimulation: NE response (% dF/F)", "lc_stimulation.ne.peak_change"),
    ("LC stimulation: blood volume response (% dF/F)", "lc_stimulation.blood_volume.peak_change"),
    ("Vasomotion: blood volume peak frequency (Hz)", "vasomotion_stimulation.blood_volume_peak_frequency_in_Hz"),
    ("CSF tracer 10-90 % rise time (s)", "csf_tracer.rise_time_in_s"),
    ("CSF tracer influx slope (% dF/F per min)", "csf_tracer.influx_slope_percent_per_min"),
    ("CSF tracer efflux half-time (s)", "csf_tracer.efflux_half_time_in_s"),
    ("NREM total (min)", "states.NREM.total_in_s"),
    ("REM total (min)", "states.REM.total_in_s"),
    ("Sleep total (min)", "states.sleep.total_in_s"),
]


def render_session_report(
    *, document: dict[str, Any], figures: list[Path], path: Path, truth: Sequence[TruthComparison] = ()
) -> Path:
    """Write the self-contained report.html of one session.

    Parameters
    ----------
    document : dict
        The metrics.json content.
    figures : list of Path
        PNGs to embed, in order.
    path : Path
        The HTML file to write.
    truth : sequence of TruthComparison
        For a simulated session (``glymph demo``): measures against the simulator's ground truth,
        shown as their own table.

    Returns
    -------
    Path
    """
    info = document["input"]
    m = document["metrics"]
    rows = []
    for label, key in _KEY_METRICS:
        if key is None:
            ma = m.get("micro_arousals", {})
            value = f"{ma.get('scored_n', '–')} / {ma.get('detected_n', '–')}"
        else:
            raw = _get(m, key)
            if raw is not None and key.startswith("states.") and key.endswith("total_in_s"):
                raw = raw / 60.0
            value = format_cell(raw, 4)
        rows.append(f"<tr><td>{html.escape(label)}</td><td class='num'>{value}</td></tr>")
    states = m.get("states", {})
    state_rows = "".join(
        f"<tr><td>{html.escape(state)}</td><td class='num'>{format_cell(values['total_in_s'] / 60, 4)}</td>"
        f"<td class='num'>{values['n_bouts']}</td><td class='num'>{format_cell(values['mean_bout_in_s'], 3)}</td>"
        f"<td class='num'>{format_cell(None if values['fraction'] is None else 100 * values['fraction'], 3)}"
        "</td></tr>"
        for state, values in states.items()
    )
    band_rows = ""
    by_state = _get(m, "eeg.band_power_by_state_V2") or {}
    if by_state:
        bands = list(next(iter(by_state.values())).keys())
        band_rows = "<tr><th>state</th>" + "".join(f"<th>{html.escape(b)} (µV²)</th>" for b in bands) + "</tr>"
        for state, values in by_state.items():
            band_rows += (
                f"<tr><td>{html.escape(state)}</td>"
                + "".join(
                    f"<td class='num'>{format_cell(values[b] * 1e12 if values[b] is not None else None, 3)}</td>"
                    for b in bands
                )
                + "</tr>"
            )
    notes = "".join(f"<div class='note'>{html.escape(note)}</div>" for note in document["notes"])
    figure_html = "".join(
        f"<figure>{embedded_image(figure)}<figcaption>{html.escape(_caption(document=document, name=figure.name))}"
        "</figcaption></figure>"
        for figure in figures
    )
    missing = "".join(
        f"<tr><td><code>{html.escape(what)}</code></td><td>{html.escape(why)}</td></tr>"
        for what, why in not_computed(document=document)
    )
    missing_html = (
        "<h2>Not computed</h2><p class='meta'>Measures this session did not give (null in metrics.json), and why."
        f"</p><table><tr><th>measure</th><th>why</th></tr>{missing}</table>"
        if missing
        else "<h2>Not computed</h2><p>Every measure was computed.</p>"
    )
    truth_html = _truth_table(document=document, comparisons=truth) if truth else ""
    title = f"Session {info.get('session_id') or info.get('identifier')}"
    body = f"""
<h1>{html.escape(title)}</h1>
<div class='meta'>subject {format_cell(info.get("subject_id"))} · condition {format_cell(info.get("condition"))}
{"(control)" if info.get("is_control") else ""} · start {format_cell(info.get("session_start_time"))} ·
{format_cell(info.get("duration_in_s", 0) / 3600, 3)} h · file {html.escape(str(info.get("path")))} ·
ndx-glymphatic {html.escape(document["package"]["version"])}</div>
<h2>Summary</h2><p class='summary'>{html.escape(_summary_text(document))}</p>
{("<h2>Notes</h2>" + notes) if notes else ""}
<h2>Key measures</h2><table>{"".join(rows)}</table>
<h2>Sleep states</h2><table><tr><th>state</th><th>total (min)</th><th>bouts</th><th>mean bout (s)</th>
<th>% of scored</th></tr>{state_rows}</table>
{("<h2>EEG band power by state</h2><table>" + band_rows + "</table>") if band_rows else ""}
{truth_html}
{missing_html}
<h2>Figures</h2>{figure_html}
<h2>Parameters</h2><details><summary>All parameters used (published defaults unless overridden)</summary>
<pre>{html.escape(json.dumps(document["parameters"], indent=2))}</pre></details>
<p class='meta'>Every number above is in <a href='metrics.json'>metrics.json</a> beside this report
(schema: <a href='metrics_schema.json'>metrics_schema.json</a>).</p>
"""
    path.write_text(html_page(title=title, body=body), encoding="utf-8")
    return path
