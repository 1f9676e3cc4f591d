"""glymph analyze on a simulated session with known ground truth (frequency, lag, events, kinetics).

The session is one hour with photometry at 101.725 Hz and EEG/EMG at 128 Hz (a tenth of the rig
rate: these tests are about the measures, the 1 kHz path is covered by the decimation tests and
the benchmark). A non-default NE frequency and lag make coincidental agreement unlikely.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import h5py
import jsonschema
import numpy as np
import pytest

from ndx_glymphatic.analysis.arousal import score_events
from ndx_glymphatic.analysis.metrics import metrics_schema
from ndx_glymphatic.analysis.pipeline import AnalysisResult, run_analysis
from ndx_glymphatic.simulation import SimulationParameters, simulate_session, write_session_nwb

NE_FREQUENCY_HZ = 0.017
LAG_S = 4.0


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    folder = tmp_path_factory.mktemp("ground_truth")
    parameters = SimulationParameters(
        duration_in_s=3600.0,
        seed=11,
        ne_frequency_in_Hz=NE_FREQUENCY_HZ,
        ne_to_blood_volume_lag_in_s=LAG_S,
        micro_arousal_probability=0.6,
        photometry_rate_in_Hz=101.725,
        ephys_rate_in_Hz=128.0,
    )
    session = simulate_session(parameters=parameters)
    path = write_session_nwb(session=session, path=folder / "session.nwb")
    return session, path


@pytest.fixture(scope="module")
def analysed(simulated: tuple[object, Path], tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    _, path = simulated
    output = tmp_path_factory.mktemp("analysis") / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_analysis(nwb_path=path, output_dir=output, check=False, write_derived=True, show_progress=False)


def _realised_frequency(session: object, result: AnalysisResult) -> float:
    """Mean instantaneous frequency of the simulator's NE phase over the NREM bouts the spectrum used."""
    latents = session.latents  # type: ignore[attr-defined]
    rate = latents.rate_in_Hz
    inst = np.diff(np.unwrap(latents.ne_phase_rad)) * rate / (2 * np.pi)
    from ndx_glymphatic.analysis import bouts

    states = session.ground_truth.sleep_states  # type: ignore[attr-defined]
    hypnogram = bouts.Hypnogram.from_rows(
        starts=[s.start_in_s for s in states], stops=[s.stop_in_s for s in states], states=[s.state for s in states]
    )
    ranges = bouts.bout_sample_ranges(
        bouts=bouts.nrem_bouts(hypnogram=hypnogram),
        starting_time=0.0,
        rate_in_Hz=rate,
        n_samples=latents.times_in_s.size,
        min_duration_in_s=result.document["parameters"]["oscillation"]["min_bout_in_s"],
    )
    return float(sum(inst[a : b - 1].sum() for a, b in ranges) / sum(b - a - 1 for a, b in ranges))


def test_ne_oscillation_frequency_is_recovered(simulated: tuple[object, Path], analysed: AnalysisResult) -> None:
    session, _ = simulated
    oscillation = analysed.metrics["ne"]["oscillation"]
    assert oscillation["n_bouts"] >= 4
    assert oscillation["peak_frequency_in_Hz"] == pytest.approx(NE_FREQUENCY_HZ, abs=0.002)
    # tighter: against the frequency the simulator actually realised in those bouts (it jitters)
    assert oscillation["peak_frequency_in_Hz"] == pytest.approx(_realised_frequency(session, analysed), abs=0.001)
    assert oscillation["peak_rate_per_min"] / 60 == pytest.approx(NE_FREQUENCY_HZ, rel=0.2)
    # simulated amplitude 4 % (half peak-to-peak): the 10th-90th percentile span of a sine is ~1.9 x that
    assert 4.0 < oscillation["amplitude_percent_median"] < 12.0


def test_ne_blood_volume_lag_and_sign(analysed: AnalysisResult) -> None:
    coupling = analysed.metrics["coupling"]["ne_vs_blood_volume"]
    assert coupling["lag_in_s"] == pytest.approx(LAG_S, abs=1.0)
    assert coupling["lag_in_s"] > 0  # blood volume follows NE
    assert coupling["value"] < -0.8  # anti-correlated
    assert analysed.metrics["coupling"]["ne_vs_csf"]["value"] > 0.3
    assert analysed.metrics["coupling"]["blood_volume_vs_csf"]["value"] < -0.3


def test_blood_volume_spectrum_peaks_with_ne(analysed: AnalysisResult) -> None:
    ne = analysed.metrics["ne"]["oscillation"]["peak_frequency_in_Hz"]
    assert analysed.metrics["blood_volume"]["oscillation"]["peak_frequency_in_Hz"] == pytest.approx(ne, abs=0.001)


def test_sigma_power_is_phase_locked_to_ne(simulated: tuple[object, Path], analysed: AnalysisResult) -> None:
    session, _ = simulated
    truth = session.ground_truth  # type: ignore[attr-defined]
    lock = analysed.metrics["eeg"]["sigma_phase_locking"]
    assert lock["p_value"] < 0.01
    assert lock["mean_vector_length"] > 2 * lock["surrogate_mean"]
    error = np.angle(np.exp(1j * (lock["preferred_phase_rad"] - truth.sigma_phase_offset_rad)))
    assert abs(error) < 0.4
    sigma = analysed.metrics["coupling"]["ne_vs_sigma"]
    assert sigma["lag_in_s"] == pytest.approx(truth.sigma_peak_lag_after_ne_peak_in_s, abs=3.0)
    assert analysed.metrics["eeg"]["sigma_infraslow"]["peak_frequency_in_Hz"] == pytest.approx(
        analysed.metrics["ne"]["oscillation"]["peak_frequency_in_Hz"], abs=0.002
    )


def test_micro_arousal_detection_against_truth(simulated: tuple[object, Path], analysed: AnalysisResult) -> None:
    session, _ = simulated
    truth = session.ground_truth  # type: ignore[attr-defined]
    detection = analysed.metrics["micro_arousals"]["detection_vs_scored"]
    assert analysed.metrics["micro_arousals"]["scored_n"] >= 8
    assert detection["f1"] >= 0.95
    # the scored rows are the simulator's micro-arousals; check the detector against them directly too
    detected_n = analysed.metrics["micro_arousals"]["detected_n"]
    assert abs(detected_n - len(truth.micro_arousal_onsets_in_s)) <= 1
    ne = analysed.metrics["micro_arousals"]["triggered"]["ne"]
    assert ne["peak_change"] > 0 and abs(ne["peak_lag_in_s"]) < 5  # micro-arousals sit on NE peaks


def test_spindles_match_simulated_spindles(simulated: tuple[object, Path], analysed: AnalysisResult) -> None:
    session, _ = simulated
    spindles = analysed.metrics["eeg"]["spindles"]
    truth = np.asarray(session.ground_truth.spindle_onsets_in_s)  # type: ignore[attr-defined]
    assert spindles["n"] == pytest.approx(truth.size, rel=0.35)
    assert 0.5 <= spindles["mean_duration_in_s"] <= 2.0


def test_tracer_kinetics_against_truth(simulated: tuple[object, Path], analysed: AnalysisResult) -> None:
    session, _ = simulated
    truth = session.ground_truth  # type: ignore[attr-defined]
    csf = analysed.metrics["csf_tracer"]
    assert csf["t10_in_s"] == pytest.approx(truth.tracer_10_percent_time_in_s, abs=30)
    assert csf["rise_time_in_s"] == pytest.approx(truth.tracer_rise_time_in_s, rel=0.1)
    assert csf["peak_percent"] == pytest.approx(truth.tracer_peak_percent, rel=0.1)
    assert csf["influx_slope_percent_per_min"] > 0
    assert csf["preprocessing"]["infusion_start_in_s"] == pytest.approx(truth.infusion["start_in_s"])


def test_stimulation_responses(simulated: tuple[object, Path], analysed: AnalysisResult) -> None:
    session, _ = simulated
    truth = session.ground_truth  # type: ignore[attr-defined]
    lc = analysed.metrics["lc_stimulation"]
    assert lc["n_epochs"] == len(truth.lc_stimulation)
    assert lc["ne"]["peak_change"] > 3.0  # NE release
    assert lc["blood_volume"]["peak_change"] < 0  # vasoconstriction
    assert lc["csf_tracer"]["peak_change"] > 0  # CSF influx
    vasomotion = analysed.metrics["vasomotion_stimulation"]
    assert vasomotion["blood_volume_peak_frequency_in_Hz"] == pytest.approx(
        vasomotion["modulation_frequency_in_Hz"], abs=0.003
    )


def test_state_summary_matches_hypnogram(simulated: tuple[object, Path], analysed: AnalysisResult) -> None:
    session, _ = simulated
    fractions = session.ground_truth.state_fractions  # type: ignore[attr-defined]
    states = analysed.metrics["states"]
    total = sum(states[s]["total_in_s"] for s in ("wake", "NREM", "REM", "micro-arousal"))
    assert total == pytest.approx(3600.0, abs=1.0)
    for state in ("wake", "NREM", "REM", "micro-arousal"):
        assert states[state]["total_in_s"] / total == pytest.approx(fractions[state], abs=0.005)


def test_outputs_are_complete_and_schema_valid(analysed: AnalysisResult) -> None:
    document = json.loads(analysed.metrics_path.read_text())
    jsonschema.validate(document, metrics_schema())
    assert document["package"]["name"] == "ndx-glymphatic" and document["package"]["version"]
    assert document["parameters"]["bouts"]["micro_arousal_max_duration_in_s"] == 15.0
    assert document["input"]["condition"] == "vehicle" and document["input"]["is_control"] is True
    assert document["input"]["channels"]["ne_control"] == "ne_isosbestic_405nm"
    names = {path.name for path in analysed.figure_paths}
    assert {"overview.png", "infraslow_spectra.png", "cross_correlations.png", "tracer_kinetics.png",
            "micro_arousal_triggered.png", "lc_stimulation_triggered.png"} <= names
    page = analysed.report_path.read_text()
    assert page.count("data:image/png;base64,") == len(analysed.figure_paths)
    assert "src='figures" not in page  # self-contained
    assert "NE oscillated at" in page
    leftovers = [p for p in analysed.output_dir.parent.iterdir() if p.name.endswith(".partial")]
    assert leftovers == []


def test_derived_file_holds_the_dff_series(analysed: AnalysisResult) -> None:
    assert analysed.derived_nwb_path is not None
    with h5py.File(analysed.derived_nwb_path, "r") as handle:
        ne = handle["processing/ophys/ne_465nm_dff"]
        assert ne["data"].shape[0] > 30_000
        assert ne["starting_time"].attrs["rate"] == pytest.approx(10.1725)
        assert len(handle["acquisition"]) == 0  # the raw data stay in the raw file


def test_detector_scores_against_simulator_onsets(simulated: tuple[object, Path], analysed: AnalysisResult) -> None:
    """The F1 metric in the report is the same function applied here to the simulator's own onsets."""
    session, _ = simulated
    truth = np.asarray(session.ground_truth.micro_arousal_onsets_in_s)  # type: ignore[attr-defined]
    score = score_events(detected_onsets=truth + 0.5, reference_onsets=truth, tolerance_in_s=2.0)
    assert score.f1 == 1.0
    assert analysed.metrics["micro_arousals"]["detection_vs_scored"]["median_onset_error_in_s"] is not None
