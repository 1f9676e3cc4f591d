"""Report blemishes fixed: sigma power in µV², small-n averages say n and are marked, a "Not computed"
section, and the demo's "metrics vs ground truth" table. One short simulated session, analysed once."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ndx_glymphatic.analysis import report
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.pipeline import SessionAnalysis, analyze_file, build_document
from ndx_glymphatic.simulation import SimulationParameters, simulate_session
from ndx_glymphatic.simulation.demo import truth_comparisons
from ndx_glymphatic.simulation.nwb import write_session_nwb

DURATION_IN_S = 900.0


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, SessionAnalysis, dict[str, Any]]:
    session = simulate_session(
        parameters=SimulationParameters(
            duration_in_s=DURATION_IN_S, seed=0, photometry_rate_in_Hz=101.725, ephys_rate_in_Hz=128.0
        )
    )
    path = write_session_nwb(session=session, path=tmp_path_factory.mktemp("blemishes") / "session.nwb")
    analysis = analyze_file(nwb_path=path, params=AnalysisParams(), show_progress=False)
    document = build_document(analysis=analysis, nwb_path=path).to_json()
    return session, analysis, document


class _Captured:
    """Stands in for ``report.save_figure``: keeps what was drawn instead of writing a PNG."""

    def __init__(self) -> None:
        self.figures: list[Any] = []

    def __call__(self, fig: Any, path: Path, **margins: float) -> None:
        self.figures.append(fig)


def _draw(monkeypatch: pytest.MonkeyPatch, name: str, analysis: SessionAnalysis, tmp_path: Path) -> Any:
    captured = _Captured()
    monkeypatch.setattr(report, "save_figure", captured)
    assert report.FIGURES[name](analysis, tmp_path / f"{name}.png")
    assert len(captured.figures) == 1
    return captured.figures[0]


def _axis_with_label(fig: Any, text: str) -> Any:
    matches = [ax for ax in fig.axes if text in ax.get_ylabel() or text in ax.get_title()]
    assert matches, [(ax.get_ylabel(), ax.get_title()) for ax in fig.axes]
    return matches[0]


def test_sigma_power_is_drawn_in_uV2_like_the_band_power_table(
    simulated: tuple[Any, SessionAnalysis, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, analysis, document = simulated
    fig = _draw(monkeypatch, "nrem_bout", analysis, tmp_path)
    ax = _axis_with_label(fig, "Sigma power")
    assert "µV²" in ax.get_ylabel() and "V²)" not in ax.get_ylabel().replace("µV²", "")
    drawn = ax.get_lines()[0].get_ydata()
    stored_in_V2 = analysis.traces["sigma_power"]
    # data scaled, not only relabelled: the largest value drawn is the stored V² value times 1e12
    assert np.nanmax(drawn) == pytest.approx(np.nanmax(stored_in_V2) * 1e12, rel=1e-5)
    assert 1.0 < np.nanmax(drawn) < 1e6  # plain numbers, no 1e-9 axis multiplier
    # the table's sigma column (µV²) is of the same order as the plotted sigma power
    nrem_sigma_in_uV2 = document["metrics"]["eeg"]["band_power_by_state_V2"]["NREM"]["sigma"] * 1e12
    assert 0.01 < nrem_sigma_in_uV2 / np.nanmedian(drawn) < 100
    triggered = _draw(monkeypatch, "micro_arousal_triggered", analysis, tmp_path)
    assert "µV²" in _axis_with_label(triggered, "sigma power").get_title()


def _titles(fig: Any) -> list[str]:
    return [ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text()]


@pytest.mark.parametrize("above", [True, False])
def test_triggered_averages_say_n_and_mark_small_n(
    simulated: tuple[Any, SessionAnalysis, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    above: bool,
) -> None:
    _, analysis, _ = simulated
    n = analysis.curve("micro_arousal_triggered")["ne_dff"].n_events
    assert n > 0
    threshold = n + 1 if above else n
    monkeypatch.setattr(
        analysis,
        "params",
        AnalysisParams.from_mapping(mapping={"triggered": {"min_events_for_average": threshold}}),
    )
    titles = _titles(_draw(monkeypatch, "micro_arousal_triggered", analysis, tmp_path))
    assert all(f"n = {n}" in title for title in titles[:-1]), titles
    marked = [title for title in titles if "small n" in title.lower()]
    if above:
        assert len(marked) == len(titles) and f"< {threshold}" in titles[-1], titles
    else:
        assert marked == [], titles


def test_captions_say_n_and_mark_small_n(simulated: tuple[Any, SessionAnalysis, dict[str, Any]]) -> None:
    _, _, document = simulated
    n = document["metrics"]["micro_arousals"]["triggered"]["ne"]["n_events"]
    assert 0 < n < document["parameters"]["triggered"]["min_events_for_average"]
    caption = report._caption(document=document, name="micro_arousal_triggered.png")
    assert f"n = {n} events" in caption and "SMALL n" in caption
    many = {**document, "parameters": {**document["parameters"], "triggered": {"min_events_for_average": n}}}
    caption = report._caption(document=many, name="micro_arousal_triggered.png")
    assert f"n = {n} events" in caption and "SMALL" not in caption
    assert "n =" not in report._caption(document=document, name="overview.png")


def _section(page: str, heading: str) -> str:
    start = page.index(f"<h2>{heading}</h2>")
    end = page.find("<h2>", start + 1)
    return html.unescape(re.sub(r"<[^>]+>", " ", page[start:end]))


def test_report_lists_what_was_not_computed_and_why(
    simulated: tuple[Any, SessionAnalysis, dict[str, Any]], tmp_path: Path
) -> None:
    _, _, document = simulated
    # 15 min after a late infusion: the tracer cannot fall back to half its peak
    assert document["metrics"]["csf_tracer"]["efflux_half_time_in_s"] is None
    page = report.render_session_report(document=document, figures=[], path=tmp_path / "report.html").read_text()
    section = _section(page, "Not computed")
    assert "csf_tracer.efflux_half_time_in_s" in section
    assert "did not fall to half its peak" in section
    # every null of metrics.json is listed (whole all-null sections once, as section.*)
    listed = {what for what, _ in report.not_computed(document=document)}
    nulls, _ = report._null_leaves(document["metrics"], "")
    for name in nulls:
        assert name in listed or any(name.startswith(what.removesuffix("*")) for what in listed if what.endswith("*"))


def test_skipped_steps_are_listed_with_their_reason() -> None:
    document = {
        "notes": ["no EEG: band powers, spindles and sigma coupling are skipped", "an unrelated note"],
        "metrics": {
            "eeg": {"spindles": {"n": None, "density_per_min_nrem": None}, "other": 1.0},
            "ne": {"value": float("nan")},
        },
    }
    rows = report.not_computed(document=document)
    assert ("band powers, spindles and sigma coupling", "no EEG") in rows
    names = dict(rows)
    assert "eeg.spindles.*" in names and "eeg.other" not in names
    assert "no EEG" in names["eeg.spindles.*"]
    assert "ne.value" in names
    assert report.not_computed(document={"notes": [], "metrics": {"ne": {"value": 1.0}}}) == []


def test_demo_report_compares_metrics_with_ground_truth(
    simulated: tuple[Any, SessionAnalysis, dict[str, Any]], tmp_path: Path
) -> None:
    session, _, document = simulated
    truth = session.ground_truth
    rows = truth_comparisons(truth=truth)
    page = report.render_session_report(
        document=document, figures=[], path=tmp_path / "report.html", truth=rows
    ).read_text()
    section = _section(page, "Demo: metrics vs ground truth")
    measured = document["metrics"]["ne"]["oscillation"]["peak_frequency_in_Hz"]
    line = re.search(r"NE oscillation peak frequency \(Hz\)\s+(\S+)\s+(\S+)\s+(\S+)", section)
    assert line is not None, section
    assert float(line.group(1)) == pytest.approx(measured, rel=1e-3)
    assert float(line.group(2)) == pytest.approx(truth.ne_frequency_in_Hz, rel=1e-3)
    assert float(line.group(3)) == pytest.approx(measured - truth.ne_frequency_in_Hz, abs=1e-4)
    assert str(len(truth.micro_arousal_onsets_in_s)) in section and "coupling.ne_vs_blood_volume.lag_in_s" in section
    # a real session's report has no such table
    plain = report.render_session_report(document=document, figures=[], path=tmp_path / "plain.html").read_text()
    assert "ground truth" not in plain
