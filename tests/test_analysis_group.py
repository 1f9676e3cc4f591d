"""glymph analyze-group on small simulated cohorts: drug effect sign, paired design, predictor ranking."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import pytest

from ndx_glymphatic.analysis.cohort import collect_inputs, run_group_analysis
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb

# a twentieth of the rig photometry rate: these tests are about the statistics, not the 1-kHz path
LOW_RATES = {"photometry_rate_in_Hz": 50.8625, "ephys_rate_in_Hz": 128.0}


def _write(folder: Path, name: str, **parameters: object) -> Path:
    session = simulate_session(parameters=SimulationParameters(**LOW_RATES, **parameters))  # type: ignore[arg-type]
    return write_session_nwb(session=session, path=folder / f"{name}.nwb")


@pytest.fixture(scope="module")
def drug_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three mice, each recorded once under vehicle and once under zolpidem (paired design)."""
    folder = tmp_path_factory.mktemp("drug_cohort")
    for subject in range(3):
        for condition in ("vehicle", "zolpidem"):
            # the simulator names the subject after the seed: same seed = same mouse
            _write(folder, f"m{subject}_{condition}", duration_in_s=2400.0, seed=subject + 1, condition=condition)
    return folder


def test_drug_effect_is_detected_with_the_right_sign(drug_cohort: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_group_analysis(
            inputs=[drug_cohort], output_dir=tmp_path / "group", check=False, session_reports=False, show_progress=False
        )
    assert len(result.rows) == 6
    assert {row["condition"] for row in result.rows} == {"vehicle", "zolpidem"}
    by_metric = {c.metric: c for c in result.comparisons}
    amplitude = by_metric["ne.oscillation.amplitude_percent_median"]
    assert amplitude.design == "paired" and amplitude.n_control == 3
    assert amplitude.control == "vehicle" and amplitude.treatment == "zolpidem"
    assert amplitude.difference < 0 and amplitude.ci_high < 0  # zolpidem damps the NE oscillation
    assert amplitude.effect_size_name == "cohen_dz" and amplitude.effect_size < 0
    tracer = by_metric["csf_tracer.peak_percent"]
    assert tracer.difference < 0 and tracer.ci_high < 0  # and lowers CSF tracer influx
    nrem = by_metric["states.NREM.total_in_s"]
    assert nrem.difference > 0  # while increasing NREM time

    with (tmp_path / "group" / "sessions.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 6
    assert {"file", "subject", "condition", "ne.oscillation.peak_frequency_in_Hz", "states.REM.total_in_s"} <= set(
        table[0]
    )
    comparisons = list(csv.DictReader((tmp_path / "group" / "comparisons.csv").open()))
    assert any(row["metric"] == "ne.oscillation.amplitude_percent_median" for row in comparisons)
    summary = json.loads((tmp_path / "group" / "group.json").read_text())
    assert summary["control_condition"] == "vehicle" and summary["n_sessions"] == 6
    page = (tmp_path / "group" / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 2
    assert (tmp_path / "group" / "sessions" / "m0_vehicle" / "metrics.json").is_file()


def test_predictor_ranking_is_recovered(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Sessions whose clearance (tracer influx) rises with NE oscillation frequency: frequency must rank first."""
    folder = tmp_path_factory.mktemp("predictor_cohort")
    frequencies = [0.012, 0.016, 0.020, 0.024, 0.028]
    for i, frequency in enumerate(frequencies):
        _write(
            folder,
            f"s{i}",
            duration_in_s=1800.0,
            seed=20 + i,
            ne_frequency_in_Hz=frequency,
            tracer_peak_percent=60.0 + 4000.0 * frequency,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_group_analysis(
            inputs=[folder], output_dir=folder / "out", check=False, session_reports=False, show_progress=False
        )
    ranking = [fit.predictor for fit in result.predictors]
    assert ranking[0] == "ne.oscillation.peak_frequency_in_Hz"
    assert result.predictors[0].r_squared > 0.8 and result.predictors[0].slope > 0
    assert result.predictors[0].r_squared > result.predictors[1].r_squared + 0.2
    assert {fit.predictor for fit in result.predictors} == {
        "ne.oscillation.peak_frequency_in_Hz",
        "states.NREM.total_in_s",
        "states.REM.total_in_s",
        "states.sleep.total_in_s",
    }
    assert (folder / "out" / "predictors.csv").is_file()


def test_collect_inputs_needs_two_sessions(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="at least two sessions"):
        collect_inputs(paths=[])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match=r"\.nwb"):
        collect_inputs(paths=[empty])
