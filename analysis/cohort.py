"""Many sessions: per-session analysis, the metrics table, drug vs vehicle, the predictor analysis.

:func:`run_group_analysis` is ``glymph analyze-group``. Every file is checked for analysis
readiness *before* anything is computed; if any fails, the whole group is refused (exit 1, every
failing file listed, nothing written). Then each session is analysed as by ``glymph analyze``
(into ``sessions/<file stem>/``), and the group outputs are written beside them:

- ``sessions.csv``: one row per session (file, subject, session, condition, is_control, and every
  scalar metric, dotted names as in metrics.json);
- ``comparisons.csv``: every metric, each treatment condition against the control condition
  (paired when subjects repeat; see :func:`~ndx_glymphatic.analysis.group.compare_conditions`);
- ``predictors.csv``: the clearance metric regressed on each predictor, ranked by R^2;
- ``group.json``: the same comparisons and predictors plus the parameters and package version;
- ``figures/*.png`` and ``report.html`` (self-contained).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import html
import json
import math
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ndx_glymphatic.analysis import group
from ndx_glymphatic.analysis.cohort_inputs import collect_inputs
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.io import atomic_output_dir, check_output_dir

if TYPE_CHECKING:
    from ndx_glymphatic.batch import Batch, Pending

__all__ = ["GroupResult", "collect_inputs", "run_group_analysis"]

_IDENTITY_COLUMNS = ["file", "subject", "session_id", "condition", "is_control"]
_KEY_METRICS = [
    ("ne.oscillation.peak_frequency_in_Hz", "NE oscillation frequency (Hz)"),
    ("ne.oscillation.peak_rate_per_min", "NE peaks per min NREM"),
    ("ne.oscillation.amplitude_percent_median", "NE amplitude (% dF/F)"),
    ("states.NREM.total_in_s", "NREM time (s)"),
    ("states.REM.total_in_s", "REM time (s)"),
    ("states.micro-arousal.per_hour_nrem", "micro-arousals per h NREM"),
    ("coupling.ne_vs_blood_volume.lag_in_s", "NE → blood volume lag (s)"),
    ("csf_tracer.peak_percent", "CSF tracer peak (% dF/F)"),
    ("csf_tracer.influx_slope_percent_per_min", "CSF influx slope (%/min)"),
]


@dataclass(frozen=True)
class GroupResult:
    """What :func:`run_group_analysis` wrote.

    Attributes
    ----------
    output_dir : Path
    rows : list of dict
        The sessions table.
    comparisons : list of ConditionComparison
    predictors : list of PredictorFit
    report_path : Path
    left_out : list of LeftOutSession
        Sessions not in the tables (not ready for analysis, or failed), with why.
    """

    output_dir: Path
    rows: list[dict[str, Any]]
    comparisons: list[group.ConditionComparison]
    predictors: list[group.PredictorFit]
    report_path: Path
    left_out: list[Any] = dataclasses.field(default_factory=list)


def _control_condition(rows: list[dict[str, Any]]) -> str | None:
    controls = Counter(row["condition"] for row in rows if row.get("is_control") and row.get("condition"))
    if controls:
        return controls.most_common(1)[0][0]
    return None


def _numeric_columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key in _IDENTITY_COLUMNS:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                columns[key] = None
    return list(columns)


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    key: ("" if value is None or (isinstance(value, float) and not math.isfinite(value)) else value)
                    for key, value in row.items()
                }
            )


_COLOURS = ["#2e86ab", "#e4572e", "#1b7f3b", "#a23b72", "#f2a541"]
# A title placed at the top of its axes: without a position, matplotlib searches the axes' top for tick labels
# the title must clear (these axes have none), a third of the time of a figure of nine panels.
_TITLE_Y = 1.0


def _conditions(rows: list[dict[str, Any]]) -> list[str]:
    """The conditions in the order they are drawn: the control first."""
    control = _control_condition(rows)
    return sorted({str(row.get("condition")) for row in rows}, key=lambda c: (c != control, c))


def _key_metrics_figure(*, rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Each key metric by condition, one dot per session, a subject's sessions joined (None: no such metric)."""
    from ndx_glymphatic.analysis.report import _pyplot, save_figure

    metrics = [(key, label) for key, label in _KEY_METRICS if any(isinstance(r.get(key), (int, float)) for r in rows)]
    if not metrics:
        return None
    plt = _pyplot()
    conditions = _conditions(rows)
    columns = 3
    lines = math.ceil(len(metrics) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(3.4 * columns, 2.8 * lines), squeeze=False)
    for ax, (key, label) in zip(axes.flat, metrics):
        by_subject: dict[str, dict[str, float]] = {}
        for i, condition in enumerate(conditions):
            values = [
                (str(r.get("subject")), float(r[key]))
                for r in rows
                if str(r.get("condition")) == condition
                and isinstance(r.get(key), (int, float))
                and math.isfinite(float(r[key]))
            ]
            jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(len(values))
            ax.scatter(i + jitter, [v for _, v in values], color=_COLOURS[i % len(_COLOURS)], s=18, zorder=3)
            if values:
                ax.hlines(np.mean([v for _, v in values]), i - 0.25, i + 0.25, color="k", lw=1.5, zorder=4)
            for subject, value in values:
                by_subject.setdefault(subject, {})[condition] = value
        for per_condition in by_subject.values():
            if len(per_condition) > 1:
                xs = [conditions.index(c) for c in per_condition]
                ax.plot(xs, list(per_condition.values()), color="#bbb", lw=0.7, zorder=1)
        ax.set_xticks(range(len(conditions)), conditions)
        ax.set_title(label, fontsize=9, y=_TITLE_Y)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    save_figure(fig, path, left_in=0.7, top_in=0.35, hspace=0.45, wspace=0.4)
    return path


def _spectrum_figure(*, rows: list[dict[str, Any]], spectra: list[dict[str, Any]], path: Path) -> Path | None:
    """The NE infraslow spectrum in NREM, mean ± s.e.m. by condition (None: no session has one)."""
    from ndx_glymphatic.analysis.report import _pyplot, save_figure

    if not spectra:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for i, condition in enumerate(_conditions(rows)):
        members = [c for c in spectra if c["condition"] == condition and c["normalized_psd"] is not None]
        if not members:
            continue
        stack = np.array([[np.nan if v is None else v for v in c["normalized_psd"]] for c in members], dtype=float)
        frequencies = np.asarray(members[0]["frequencies_in_Hz"], dtype=float)
        mean = np.nanmean(stack, axis=0)
        colour = _COLOURS[i % len(_COLOURS)]
        ax.plot(frequencies, mean, color=colour, label=f"{condition} (n={len(members)})")
        if len(members) > 1:
            sem = np.nanstd(stack, axis=0, ddof=1) / np.sqrt(len(members))
            ax.fill_between(frequencies, mean - sem, mean + sem, color=colour, alpha=0.2, lw=0)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("normalised PSD")
    ax.set_title("NE infraslow spectrum in NREM by condition (mean ± s.e.m.)", loc="left", fontsize=10, y=_TITLE_Y)
    ax.legend(frameon=False)
    save_figure(fig, path, left_in=0.75, top_in=0.35)
    return path


def _predictors_figure(
    *, rows: list[dict[str, Any]], predictors: list[group.PredictorFit], outcome_key: str, path: Path
) -> Path | None:
    """The clearance outcome against each ranked predictor, with its fitted line (None: no usable fit)."""
    from ndx_glymphatic.analysis.report import _pyplot, save_figure

    usable = [fit for fit in predictors if math.isfinite(fit.r_squared)]
    if not usable:
        return None
    plt = _pyplot()
    conditions = _conditions(rows)
    fig, axes = plt.subplots(1, len(usable), figsize=(3.3 * len(usable), 3.0), squeeze=False)
    for ax, fit in zip(axes[0], usable):
        for i, condition in enumerate(conditions):
            points = [
                (float(r[fit.predictor]), float(r[outcome_key]))
                for r in rows
                if str(r.get("condition")) == condition
                and isinstance(r.get(fit.predictor), (int, float))
                and isinstance(r.get(outcome_key), (int, float))
            ]
            if points:
                ax.scatter(*zip(*points), color=_COLOURS[i % len(_COLOURS)], s=18, label=condition)
        xs = np.array([float(r[fit.predictor]) for r in rows if isinstance(r.get(fit.predictor), (int, float))])
        if xs.size:
            grid = np.linspace(np.nanmin(xs), np.nanmax(xs), 20)
            ax.plot(grid, fit.intercept + fit.slope * grid, color="k", lw=1)
        ax.set_title(f"#{fit.rank} {fit.predictor}\nR² = {fit.r_squared:.2f}, p = {fit.p_value:.2g}", fontsize=8,
                     y=_TITLE_Y)
        ax.set_ylabel(outcome_key, fontsize=7)
    axes[0][0].legend(frameon=False, fontsize=7)
    save_figure(fig, path, left_in=0.75, top_in=0.55, wspace=0.45)
    return path


def _start_group_figures(
    *,
    batch: Batch,
    on_workers: bool,
    rows: list[dict[str, Any]],
    curves: dict[str, list[dict[str, Any]]],
    predictors: list[group.PredictorFit],
    params: AnalysisParams,
    folder: Path,
) -> list[Pending]:
    """Start drawing the group's figures, each on a worker of ``batch`` when ``on_workers`` (else here, later).

    Workers draw them while this process compares the conditions: the figures are most of the group stage,
    and the workers are otherwise idle once the sessions are done. ``on_workers`` is for workers that have
    the plotting library loaded already (they drew the sessions' figures).

    Returns
    -------
    list of Pending
        Each gives a list: the PNG written into ``folder``, or None for a figure with nothing to draw.
    """
    from ndx_glymphatic.batch import Batch

    folder.mkdir(parents=True, exist_ok=True)
    drawings: list[tuple[Callable[..., Path | None], dict[str, Any]]] = [
        (_key_metrics_figure, {"rows": rows, "path": folder / "key_metrics_by_condition.png"}),
        (_spectrum_figure, {"rows": rows, "spectra": curves.get("ne_spectrum", []),
                            "path": folder / "ne_spectrum_by_condition.png"}),
        (_predictors_figure, {"rows": rows, "predictors": predictors, "outcome_key": params.group.clearance_metric,
                              "path": folder / "predictors.png"}),
    ]
    if not on_workers:
        return [Batch.here().submit(_draw_in_turn, drawings=drawings)]
    # two tasks of about equal length, the largest figure alone: three tasks of different functions are not
    # queued by the scheduler, which would send the third to a busy worker while the other one idles
    return [batch.submit(_draw_in_turn, drawings=drawings[:1]), batch.submit(_draw_in_turn, drawings=drawings[1:])]


def _draw_in_turn(*, drawings: list[tuple[Callable[..., Path | None], dict[str, Any]]]) -> list[Path | None]:
    """Draw each figure of ``drawings`` (a function and its keywords), one after the other."""
    return [function(**keywords) for function, keywords in drawings]


def _group_report(
    *,
    rows: list[dict[str, Any]],
    left_out: list[Any],
    comparisons: list[group.ConditionComparison],
    predictors: list[group.PredictorFit],
    figures: list[Path],
    session_reports: dict[str, str],
    params: AnalysisParams,
    path: Path,
) -> None:
    from ndx_glymphatic import __version__
    from ndx_glymphatic.analysis.page import embedded_image, format_cell, html_page

    key_names = dict(_KEY_METRICS)
    key_rows = [c for c in comparisons if c.metric in key_names]
    comparison_html = "".join(
        f"<tr><td>{html.escape(key_names.get(c.metric, c.metric))}</td><td>{html.escape(c.treatment)} vs "
        f"{html.escape(c.control)}</td><td>{c.design}</td><td class='num'>{c.n_control}/{c.n_treatment}</td>"
        f"<td class='num'>{format_cell(c.mean_control, 4)}</td><td class='num'>{format_cell(c.mean_treatment, 4)}</td>"
        f"<td class='num'>{format_cell(c.difference, 3)} [{format_cell(c.ci_low, 3)}, {format_cell(c.ci_high, 3)}]</td>"
        f"<td class='num'>{format_cell(c.p_value, 3)}</td><td class='num'>{format_cell(c.rank_p_value, 3)}</td>"
        f"<td class='num'>{c.effect_size_name} {format_cell(c.effect_size, 3)}</td></tr>"
        for c in key_rows
    )
    predictor_html = "".join(
        f"<tr><td class='num'>{fit.rank}</td><td>{html.escape(fit.predictor)}</td><td class='num'>{fit.n}</td>"
        f"<td class='num'>{format_cell(fit.r_squared, 3)}</td><td class='num'>{format_cell(fit.slope, 3)}</td>"
        f"<td class='num'>{format_cell(fit.p_value, 3)}</td></tr>"
        for fit in predictors
    )
    session_html = "".join(
        f"<tr><td><a href='{html.escape(link)}'>{html.escape(name)}</a></td>"
        f"<td>{html.escape(str(row.get('subject')))}</td><td>{html.escape(str(row.get('condition')))}</td>"
        f"<td class='num'>{format_cell(row.get('ne.oscillation.peak_frequency_in_Hz'), 4)}</td>"
        f"<td class='num'>{format_cell(row.get(params.group.clearance_metric), 4)}</td></tr>"
        for (name, link), row in zip(session_reports.items(), rows)
    )
    best = predictors[0] if predictors and math.isfinite(predictors[0].r_squared) else None
    summary = f"{len(rows)} sessions, {len({r.get('subject') for r in rows})} subjects, conditions: " + ", ".join(
        f"{condition} ({count})" for condition, count in Counter(str(r.get("condition")) for r in rows).items()
    ) + "."
    frequency = next((c for c in comparisons if c.metric == "ne.oscillation.peak_frequency_in_Hz"), None)
    if frequency is not None:
        summary += (
            f" NE oscillation frequency, {frequency.treatment} vs {frequency.control}: "
            f"{format_cell(frequency.mean_treatment, 3)} vs {format_cell(frequency.mean_control, 3)} Hz "
            f"(difference {format_cell(frequency.difference, 3)} Hz, {int(100 * params.group.confidence)} % CI "
            f"[{format_cell(frequency.ci_low, 3)}, {format_cell(frequency.ci_high, 3)}], "
            f"{frequency.test} p = {format_cell(frequency.p_value, 3)})."
        )
    if best is not None:
        summary += (
            f" The best single predictor of {params.group.clearance_metric} was {best.predictor} "
            f"(R² = {format_cell(best.r_squared, 3)})."
        )
    figure_html = "".join(f"<figure>{embedded_image(figure)}</figure>" for figure in figures)
    left_out_html = ""
    if left_out:
        left_out_rows = "".join(
            f"<tr><td>{html.escape(s.file)}</td><td>{html.escape(s.reason)}</td>"
            f"<td>{html.escape((s.details.strip().splitlines() or [''])[0])}</td></tr>" for s in left_out
        )
        left_out_html = (
            f"<h2>Sessions left out</h2><p class='summary'>{len(left_out)} of {len(rows) + len(left_out)} sessions "
            "are not in these tables (left_out_sessions.csv says why in full): the comparisons are of the others "
            "only.</p><table><tr><th>file</th><th>reason</th><th>why</th></tr>" + left_out_rows + "</table>"
        )
    body = f"""
<h1>Group analysis</h1><div class='meta'>ndx-glymphatic {html.escape(__version__)}</div>
<h2>Summary</h2><p class='summary'>{html.escape(summary)}</p>{left_out_html}
<h2>Condition comparisons (key measures; all metrics in comparisons.csv)</h2>
<table><tr><th>measure</th><th>comparison</th><th>design</th><th>n</th><th>control mean</th><th>treatment mean</th>
<th>difference [CI]</th><th>p (t)</th><th>p (rank)</th><th>effect size</th></tr>{comparison_html}</table>
<h2>Predictors of {html.escape(params.group.clearance_metric)}</h2>
<table><tr><th>rank</th><th>predictor</th><th>n</th><th>R²</th><th>slope</th><th>p</th></tr>{predictor_html}</table>
<h2>Figures</h2>{figure_html}
<h2>Sessions</h2><table><tr><th>session report</th><th>subject</th><th>condition</th><th>NE frequency (Hz)</th>
<th>{html.escape(params.group.clearance_metric)}</th></tr>{session_html}</table>
"""
    path.write_text(html_page(title="Group analysis", body=body), encoding="utf-8")


def _load_group_stage_libraries(*, draws_figures: bool) -> None:
    """Import the statistics library of the group stage and, when this process will draw the group's figures
    (``draws_figures``), the plotting library, and draw once (about a second in all)."""
    try:
        import scipy.stats  # noqa: F401

        if draws_figures:
            from ndx_glymphatic.analysis.report import draw_once_in_memory

            draw_once_in_memory()
    except Exception:  # the group stage imports them again, and reports a failure itself
        return


def run_group_analysis(
    *,
    inputs: list[str | Path],
    output_dir: str | Path,
    params: AnalysisParams | None = None,
    overwrite: bool = False,
    show_progress: bool | None = None,
    check: bool = True,
    session_reports: bool = True,
    workers: int | None = 1,
    scheduler: str | None = None,
) -> GroupResult:
    """Analyse every session, then compare conditions and rank clearance predictors.

    Parameters
    ----------
    inputs : list of str or Path
        NWB files and/or folders of NWB files.
    output_dir : str or Path
        Folder to create (atomically) or, with ``overwrite``, a folder glymph wrote before to replace.
    params : AnalysisParams, optional
    overwrite : bool
    show_progress : bool, optional
        Default: when stderr is a terminal.
    check : bool
        Run the readiness gate (generated for ``params``) on every file first.
    session_reports : bool
        Also draw each session's figures and report.html (metrics.json is always written).
    workers : int, optional
        Sessions analysed at once, each in its own Dask worker process (None: one per core; 1: in this
        process, without Dask). See :func:`ndx_glymphatic.batch.run_batch`.
    scheduler : str, optional
        Address of an existing Dask scheduler to run the sessions on instead.

    Returns
    -------
    GroupResult

    Raises
    ------
    NotReadyError
        One or more files failed the readiness validation (all are listed; nothing written).
    """
    from ndx_glymphatic import __version__
    from ndx_glymphatic.analysis.cohort_batch import analyze_sessions
    from ndx_glymphatic.analysis.metrics import json_ready
    from ndx_glymphatic.analysis.task_imports import prepare_session_workers, session_task_imports
    from ndx_glymphatic.batch import open_batch, runs_here

    params = params or AnalysisParams()
    output_dir = check_output_dir(destination=output_dir, overwrite=overwrite)
    files = collect_inputs(paths=inputs)
    prepare_session_workers(workers=workers, scheduler=scheduler, n_sessions=len(files), figures=session_reports)
    # workers that drew the sessions' figures have the plotting library loaded: they draw the group's too
    group_figures_on_workers = session_reports
    if not runs_here(workers=workers, scheduler=scheduler, n_items=len(files)):
        # this process only waits while Dask workers analyse the sessions: it loads the group stage meanwhile
        threading.Thread(target=functools.partial(_load_group_stage_libraries,
                                                  draws_figures=not group_figures_on_workers),
                         name="glymph-group-imports", daemon=True).start()
    enabled = sys.stderr.isatty() if show_progress is None else show_progress
    with (atomic_output_dir(destination=output_dir, overwrite=overwrite) as temporary,
          open_batch(workers=workers, scheduler=scheduler, n_items=len(files),
                     worker_imports=session_task_imports(figures=session_reports)) as batch):
        rows: list[dict[str, Any]] = []
        curves: dict[str, list[dict[str, Any]]] = {}
        session_links: dict[str, str] = {}
        sessions, left_out = analyze_sessions(
            files=files, sessions_dir=temporary / "sessions", params=params, check=check, figures=session_reports,
            progress=enabled, batch=batch,
        )
        _write_csv(temporary / "left_out_sessions.csv",
                   [{"file": s.file, "reason": s.reason, "details": s.details} for s in left_out],
                   ["file", "reason", "details"])
        for name, path, document in sessions:
            info = document["input"]
            rows.append(
                {
                    "file": str(path),
                    "subject": info["subject_id"],
                    "session_id": info["session_id"],
                    "condition": info["condition"],
                    "is_control": info["is_control"],
                    **group.flatten_metrics(metrics=document["metrics"]),
                }
            )
            for key, curve in document["curves"].items():
                if key.endswith("_spectrum"):
                    curves.setdefault(key, []).append({"condition": info["condition"], **curve})
            session_links[name] = f"sessions/{name}/" + ("report.html" if session_reports else "metrics.json")

        gp = params.group

        def column(key: str) -> np.ndarray:
            return np.array(
                [float(r[key]) if isinstance(r.get(key), (int, float)) else np.nan for r in rows], dtype=float
            )

        predictors = group.rank_predictors(
            outcome=column(gp.clearance_metric), predictors={key: column(key) for key in gp.predictors}
        )
        drawing = _start_group_figures(
            batch=batch, on_workers=group_figures_on_workers, rows=rows, curves=curves, predictors=predictors,
            params=params, folder=temporary / "figures",
        )
        numeric = _numeric_columns(rows)
        _write_csv(temporary / "sessions.csv", rows, _IDENTITY_COLUMNS + numeric)
        control = _control_condition(rows)
        comparisons: list[group.ConditionComparison] = []
        if control is None:
            note = "no session is marked as control (ExperimentalCondition.is_control): no condition comparison"
        else:
            note = None
            treatments = sorted({str(r["condition"]) for r in rows if r.get("condition") and r["condition"] != control})
            for treatment in treatments:
                for metric in numeric:
                    comparison = group.compare_conditions(
                        rows=rows,
                        metric=metric,
                        control=control,
                        treatment=treatment,
                        n_bootstrap=gp.n_bootstrap,
                        confidence=gp.confidence,
                        seed=gp.seed,
                    )
                    if comparison is not None:
                        comparisons.append(comparison)
        comparison_columns = [f.name for f in dataclasses.fields(group.ConditionComparison)]
        _write_csv(temporary / "comparisons.csv", [dataclasses.asdict(c) for c in comparisons], comparison_columns)
        predictor_columns = [f.name for f in dataclasses.fields(group.PredictorFit)]
        _write_csv(temporary / "predictors.csv", [dataclasses.asdict(p) for p in predictors], predictor_columns)
        (temporary / "group.json").write_text(
            json.dumps(
                json_ready(
                    {
                        "package": {"name": "ndx-glymphatic", "version": __version__},
                        "n_sessions": len(rows),
                        "left_out_sessions": [dataclasses.asdict(session) for session in left_out],
                        "control_condition": control,
                        "note": note,
                        "clearance_metric": gp.clearance_metric,
                        "comparisons": [dataclasses.asdict(c) for c in comparisons],
                        "predictors": [dataclasses.asdict(p) for p in predictors],
                        "parameters": params.to_dict(),
                    }
                ),
                indent=2,
            )
            + "\n"
        )
        figures = [path for pending in drawing for path in pending.result() if path is not None]
        _group_report(
            rows=rows,
            left_out=left_out,
            comparisons=comparisons,
            predictors=predictors,
            figures=figures,
            session_reports=session_links,
            params=params,
            path=temporary / "report.html",
        )
    return GroupResult(
        output_dir=output_dir,
        rows=rows,
        comparisons=comparisons,
        predictors=predictors,
        report_path=output_dir / "report.html",
        left_out=left_out,
    )
