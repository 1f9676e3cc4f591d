"""Every domain check fires on its defect and stays quiet on a valid file; chunked data checks are exact.

Checks are nwbinspector check functions, called here directly on in-memory objects built with the
``ndx_glymphatic.testing.mock`` factories (one targeted defect per case).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hdmf.common import DynamicTableRegion
from ndx_fiber_photometry import FiberPhotometryResponseSeries
from ndx_ophys_devices import FiberInsertion, Indicator, OpticalFiber
from nwbinspector import Importance, InspectorMessage
from pynwb import NWBFile, TimeSeries
from pynwb.ecephys import ElectricalSeries

from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.testing.mock import (
    mock_ClockAlignmentTable,
    mock_DrugAdministrationsTable,
    mock_ExperimentalCondition,
    mock_FluorescentTracer,
    mock_glymphatic_nwbfile,
    mock_Hypnogram,
    mock_TracerInfusionsTable,
)
from ndx_glymphatic.validators import DOMAIN_CHECKS
from ndx_glymphatic.validators.checks_data_integrity import longest_nan_run
from ndx_glymphatic.validators.limits import get_limits, load_limits, use_limits


def run_check(name: str, neurodata_object: object) -> list[str]:
    """Texts of the messages check ``name`` returns for ``neurodata_object``."""
    output = DOMAIN_CHECKS[name](neurodata_object)
    if output is None:
        return []
    messages = [output] if isinstance(output, InspectorMessage) else [m for m in output if m is not None]
    return [message.message for message in messages]


def _file() -> NWBFile:
    return mock_glymphatic_nwbfile(duration_in_s=900.0)


def _channels(nwbfile: NWBFile) -> object:
    return nwbfile.lab_meta_data["fiber_photometry"].fiber_photometry_table


def _set(table: object, column: str, row: int, value: object) -> object:
    table[column].data[row] = value
    return table


def _other_fiber() -> OpticalFiber:
    insertion = FiberInsertion(name="fiber_insertion", insertion_position_ap_in_mm=1.0,
                               insertion_position_ml_in_mm=1.0, depth_in_mm=1.0)
    return OpticalFiber(name="second_fiber", description="Another site.", fiber_insertion=insertion)


def _series_with_two_rows(nwbfile: NWBFile) -> FiberPhotometryResponseSeries:
    series = FiberPhotometryResponseSeries(
        name="bad_region", description="One column but two rows.", data=np.ones(100, "f4"), unit="V", rate=20.0,
        fiber_photometry_table_region=DynamicTableRegion(name="fiber_photometry_table_region", data=[0, 1],
                                                         description="two rows", table=_channels(nwbfile)),
    )
    nwbfile.add_acquisition(series)
    return series


def _extra_channel_row(nwbfile: NWBFile) -> object:
    table = _channels(nwbfile)
    row = {column: table[column].data[0] for column in table.colnames}
    table.add_row(**row)
    return table


def _electrical(nwbfile: NWBFile, *, data: np.ndarray, rate: float = 512.0, conversion: float = 1e-6,
                name: str = "EEG2") -> ElectricalSeries:
    region = nwbfile.create_electrode_table_region(region=[0], description="EEG electrode")
    series = ElectricalSeries(name=name, description="test", data=data, electrodes=region, rate=rate,
                              conversion=conversion)
    nwbfile.add_acquisition(series)
    return series


def _added(nwbfile: NWBFile, table: object) -> object:
    nwbfile.add_time_intervals(table)
    return table


def _replace_intervals(nwbfile: NWBFile, name: str, table: object) -> object:
    del nwbfile.intervals[name]
    table.parent = None
    return _added(nwbfile, table)


def _lc_epochs(nwbfile: NWBFile) -> object:
    return nwbfile.intervals["lc_optogenetic_stimulation"]


def _vasomotion(nwbfile: NWBFile) -> object:
    return nwbfile.intervals["vasomotion_stimulation"]


def _clock(nwbfile: NWBFile) -> object:
    return nwbfile.lab_meta_data["clock_alignment"].clock_alignment_table


#: check name -> (object with exactly that defect, words the message must contain)
CASES: dict[str, tuple[Callable[[], object], str]] = {
    "check_photometry_excitation_wavelength_in_range": (
        lambda: _set(_channels(_file()), "excitation_wavelength_in_nm", 0, 4650.0), "4650"),
    "check_photometry_emission_above_excitation": (
        lambda: _set(_channels(_file()), "emission_wavelength_in_nm", 0, 400.0), "465->400"),
    "check_photometry_vocabulary": (
        lambda: _set(_channels(_file()), "measured_quantity", 0, "noradrenaline"), "noradrenaline"),
    "check_photometry_control_channel_exists": (
        lambda: _set(_channels(_file()), "control_channel", 0, 0), "its own control"),
    "check_photometry_control_channel_is_a_control": (
        lambda: _set(_channels(_file()), "control_channel", 0, 2), "has role 'signal'"),
    "check_photometry_control_uses_same_fiber": (
        lambda: _set(_channels(_file()), "optical_fiber", 1, _other_fiber()), "second_fiber"),
    "check_photometry_sensor_names_indicator_and_virus": (
        lambda: _set(_channels(_file()), "indicator", 0, Indicator(name="bare", label="GRAB_NE2m",
                                                                   description="no virus")),
        "names no viral vector"),
    "check_photometry_tracer_channel_uses_tracer": (
        lambda: _set(_channels(_file()), "indicator", 2, Indicator(name="bare", label="x", description="x")),
        "is not a FluorescentTracer"),
    "check_photometry_channel_has_series": (lambda: _extra_channel_row(_file()), "row 4"),
    "check_photometry_series_one_channel_row": (lambda: _series_with_two_rows(_file()), "names 2 row(s)"),
    "check_photometry_rate_for_analysis_band": (
        lambda: mock_glymphatic_nwbfile(photometry_rate_in_Hz=1.0).acquisition["ne_465nm"], "1 Hz, below 2 Hz"),
    "check_fluorescent_tracer_peaks": (
        lambda: mock_FluorescentTracer(excitation_peak_in_nm=700.0, emission_peak_in_nm=650.0), "700"),
    "check_fluorescent_tracer_vocabulary": (lambda: mock_FluorescentTracer(carrier_molecule="BSA"), "BSA"),
    "check_fluorescent_tracer_molecular_weight": (
        lambda: mock_FluorescentTracer(molecular_weight_in_kDa=66500.0), "66500"),
    "check_infusion_volume_and_rate_positive": (lambda: mock_TracerInfusionsTable(volume_in_uL=0.0), "0 uL"),
    "check_infusion_route_vocabulary": (lambda: mock_TracerInfusionsTable(route="cisterna magna"), "cisterna"),
    "check_infusion_volume_and_rate_plausible_for_route": (
        lambda: mock_TracerInfusionsTable(volume_in_uL=100.0, rate_in_uL_per_min=20.0), "more than 20 uL"),
    "check_infusion_duration_matches_volume_and_rate": (
        lambda: mock_TracerInfusionsTable(rate_in_uL_per_min=1.0), "expected 600 s"),
    "check_infusion_inside_session": (
        lambda: _replace_intervals(_file(), "tracer_infusions",
                                   mock_TracerInfusionsTable(start_time=850.0, stop_time=1150.0)),
        "outside the recording (0-900 s)"),
    "check_drug_dose_positive": (lambda: mock_DrugAdministrationsTable(dose=0.0), "zolpidem with dose 0"),
    "check_drug_dose_unit_known": (lambda: mock_DrugAdministrationsTable(dose_unit="mcg/kg"), "mcg/kg"),
    "check_drug_route_vocabulary": (lambda: mock_DrugAdministrationsTable(route="ip"), "'ip'"),
    "check_drug_dose_plausible": (lambda: mock_DrugAdministrationsTable(dose=10000.0), "more than 500 mg/kg"),
    "check_drug_administration_before_session_end": (
        lambda: _replace_intervals(_file(), "drug_administrations", mock_DrugAdministrationsTable(time_in_s=5000.0)),
        "after the recording ended"),
    "check_experimental_condition_matches_drugs": (
        lambda: _file_with_condition(mock_ExperimentalCondition(condition="vehicle", is_control=True)),
        "marked as control, but drugs were given"),
    "check_sleep_states_vocabulary": (
        lambda: mock_Hypnogram(sleep_states=("Sleep stage W", "NREM", "micro-arousal", "NREM", "REM", "wake")),
        "Sleep stage W"),
    "check_sleep_states_sorted": (lambda: _unsorted_hypnogram(), "start before the row above"),
    "check_sleep_states_non_overlapping": (
        lambda: mock_Hypnogram(start_times_in_s=(0.0, 100.0), stop_times_in_s=(120.0, 200.0),
                               sleep_states=("wake", "NREM")), "1 overlap(s)"),
    "check_sleep_states_inside_session": (
        lambda: _replace_intervals(_file(), "sleep_states", mock_Hypnogram(
            start_times_in_s=(0.0, 500.0), stop_times_in_s=(500.0, 2000.0), sleep_states=("wake", "NREM"))),
        "outside the recording"),
    "check_micro_arousal_max_duration": (
        lambda: mock_Hypnogram(start_times_in_s=(0.0, 100.0, 160.0), stop_times_in_s=(100.0, 160.0, 400.0),
                               sleep_states=("NREM", "micro-arousal", "NREM")), "60 s, longer than 20 s"),
    "check_micro_arousal_inside_nrem": (
        lambda: mock_Hypnogram(start_times_in_s=(0.0, 100.0), stop_times_in_s=(100.0, 105.0),
                               sleep_states=("wake", "micro-arousal")), "not preceded by NREM"),
    "check_hypnogram_scoring_provenance": (
        lambda: mock_Hypnogram(scoring_method="visual", scorer=""), "scorer is empty"),
    "check_stimulation_epochs_inside_session": (lambda: _shifted_lc_epochs(), "outside the recording"),
    "check_stimulation_pulse_shorter_than_period": (
        lambda: _set(_lc_epochs(_file()), "pulse_length_in_ms", 0, 200.0), "200 ms / 100 ms"),
    "check_stimulation_train_fits_epoch": (
        lambda: _set(_lc_epochs(_file()), "number_pulses_per_pulse_train", 0, 1000), "the trains last 100 s"),
    "check_stimulation_light_plausible": (lambda: _set(_lc_epochs(_file()), "power_in_mW", 1, 500.0), "500 mW"),
    "check_vasomotion_vocabulary": (lambda: _set(_vasomotion(_file()), "stimulation_method", 0, "light"), "light"),
    "check_vasomotion_modulation_frequency_infraslow": (
        lambda: _set(_vasomotion(_file()), "modulation_frequency_in_Hz", 0, 10.0), "10, outside the infraslow"),
    "check_clock_alignment_residual": (
        lambda: _set(_clock(_file()), "max_abs_residual_in_s", 0, 0.05), "max 50 ms"),
    "check_clock_alignment_drift": (lambda: mock_ClockAlignmentTable(slope=1.01), "drift 1e+04 ppm"),
    "check_clock_alignment_enough_pulses": (lambda: mock_ClockAlignmentTable(n_pulses=1), "1 matched pulse(s)"),
    "check_clock_alignment_matched_times_consistent": (
        lambda: _set(mock_ClockAlignmentTable(), "offset_in_s", 0, 2.6), "miss the fit by 100 ms"),
    "check_eeg_emg_unit_and_conversion": (
        lambda: _electrical(_file(), data=np.zeros((1000, 1), "i2"), conversion=1.0), "raw ADC counts"),
    "check_eeg_emg_rate_for_sleep_scoring": (
        lambda: _electrical(_file(), data=np.zeros((1000, 1), "f4"), rate=50.0), "50 Hz, below 100 Hz"),
    "check_eeg_emg_amplitude_plausible": (
        lambda: _electrical(_file(), data=np.random.default_rng(1).normal(0, 50, (5000, 1)), conversion=1.0),
        "RMS amplitude"),
    "check_emg_electrodes_in_muscle": (
        lambda: _electrical(_file(), data=np.zeros((1000, 1), "f4"), name="EMG_bad"), "'Isocortex' (group 'cortex')"),
    "check_timestamps_monotonic": (
        lambda: TimeSeries(name="ts", data=np.arange(4.0), unit="V", timestamps=[0.0, 1.0, 1.0, 2.0]),
        "first at sample 2"),
    "check_nan_runs": (
        lambda: TimeSeries(name="ts", data=np.r_[np.ones(10), np.full(50, np.nan), np.ones(10)], unit="V",
                           rate=10.0), "50 consecutive NaN samples (5 s) from 1.000 s"),
    "check_signal_data_numeric": (
        lambda: _text_photometry_series(), "not numbers"),
}


def _file_with_condition(condition: object) -> object:
    nwbfile = _file()
    del nwbfile.lab_meta_data["experimental_condition"]
    condition.parent = None
    nwbfile.add_lab_meta_data(condition)
    return condition


def _unsorted_hypnogram() -> object:
    hypnogram = mock_Hypnogram()
    hypnogram["start_time"].data[3], hypnogram["start_time"].data[4] = 750.0, 700.0
    return hypnogram


def _shifted_lc_epochs() -> object:
    epochs = _lc_epochs(_file())
    epochs["start_time"].data[1], epochs["stop_time"].data[1] = 5000.0, 5010.0
    return epochs


CASES.update({
    "check_series_stored_as_written": (lambda: _photometry_series(data=np.ones(4), unit="mV"),
                                       "stored as <f8 (float64), expected float32"),
    "check_eeg_emg_stored_as_written": (lambda: _electrical(_file(), data=np.ones((600, 1), dtype=np.int16)),
                                        "stored as <i2 (int16)"),
})


def _photometry_series(*, data: np.ndarray, unit: str) -> FiberPhotometryResponseSeries:
    nwbfile = _file()
    return FiberPhotometryResponseSeries(
        name="other", description="samples", data=data, unit=unit, rate=20.0,
        fiber_photometry_table_region=DynamicTableRegion(name="fiber_photometry_table_region", data=[0],
                                                         description="row", table=_channels(nwbfile)),
    )


def _text_photometry_series() -> FiberPhotometryResponseSeries:
    nwbfile = _file()
    return FiberPhotometryResponseSeries(
        name="text", description="text samples", data=np.array(["a", "b"]), unit="V", rate=20.0,
        fiber_photometry_table_region=DynamicTableRegion(name="fiber_photometry_table_region", data=[0],
                                                         description="row", table=_channels(nwbfile)),
    )


def test_at_least_twenty_domain_checks_each_with_a_case() -> None:
    assert len(DOMAIN_CHECKS) >= 20
    # file-level checks, tested on written files: security (test_validators_robustness), stored objects and
    # cached specifications (test_validators_corruption)
    file_level = {"check_no_links_leaving_file", "check_stored_objects_read", "check_cached_specifications_intact"}
    untested = set(DOMAIN_CHECKS) - set(CASES) - file_level
    assert not untested


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_fires_on_its_defect(name: str) -> None:
    make, words = CASES[name]
    texts = run_check(name, make())
    assert texts, f"{name} found nothing"
    assert any(words in text for text in texts), texts
    assert all(" Hint: " in text for text in texts), "every finding carries a fix"


def test_valid_mock_file_passes_every_domain_check() -> None:
    nwbfile = _file()
    fired = {}
    for name, check in DOMAIN_CHECKS.items():
        for neurodata_object in nwbfile.objects.values():
            if issubclass(type(neurodata_object), check.neurodata_type):
                texts = run_check(name, neurodata_object)
                if texts:
                    fired[name] = texts
    assert not fired


def test_vehicle_only_injection_needs_dose_zero() -> None:
    assert run_check("check_drug_dose_positive", mock_DrugAdministrationsTable(drug="saline", dose=0.0)) == []
    texts = run_check("check_drug_dose_positive", mock_DrugAdministrationsTable(drug="saline", dose=5.0))
    assert "vehicle-only injection 'saline' with dose 5 (expected 0)" in texts[0]


@pytest.mark.parametrize("width", [1, 3])
@pytest.mark.parametrize("chunk", [7, 64, 10_000])
def test_longest_nan_run_is_exact_across_chunk_boundaries(width: int, chunk: int) -> None:
    rng = np.random.default_rng(width * chunk)
    data = rng.normal(size=(1000, width))
    truth = (0, 0)
    for column in range(width):
        for start, length in ((5, 3), (60, 40 + 10 * column), (990, 10)):
            data[start:start + length, column] = np.nan
            truth = max(truth, (length, start))
    run = longest_nan_run(data=data if width > 1 else data[:, 0], length=chunk)
    assert (run.length, run.first_index) == truth


def test_timestamps_step_back_exactly_at_a_chunk_boundary() -> None:
    timestamps = np.arange(100.0)
    timestamps[50] = 48.5  # sample 50 is the first of the second chunk of 50
    series = TimeSeries(name="ts", data=np.zeros(100), unit="V", timestamps=timestamps)
    with use_limits(path=None):
        limits = get_limits()
        original = limits["data_integrity"]["chunk_length_in_samples"]
        limits["data_integrity"]["chunk_length_in_samples"] = 50
        try:
            texts = run_check("check_timestamps_monotonic", series)
        finally:
            limits["data_integrity"]["chunk_length_in_samples"] = original
    assert "1 step(s) do not increase; first at sample 50: 49.000000 s -> 48.500000 s" in texts[0]


def test_limits_file_overrides_and_is_checked(tmp_path: Path) -> None:
    strict = tmp_path / "limits.yaml"
    strict.write_text("sleep_states:\n  max_micro_arousal_duration_in_s: 10\n")
    hypnogram = mock_Hypnogram()  # its micro-arousal lasts 10 s
    hypnogram["stop_time"].data[2] = 412.0
    hypnogram["start_time"].data[3] = 412.0
    assert run_check("check_micro_arousal_max_duration", hypnogram) == []
    with use_limits(path=strict):
        assert "longer than 10 s" in run_check("check_micro_arousal_max_duration", hypnogram)[0]
    assert load_limits(path=strict)["photometry"]["min_rate_in_Hz"] == 2.0  # untouched keys keep defaults
    for text, field in (("sleep_states:\n  max_microarousal: 10\n", "max_microarousal"),
                        ("photometry:\n  excitation_wavelength_in_nm: [800, 300]\n", "excitation_wavelength_in_nm"),
                        ("clock: 3\n", "clock")):
        strict.write_text(text)
        with pytest.raises(InputFileError, match=field):
            load_limits(path=strict)


def test_every_check_and_requirement_is_documented() -> None:
    from ndx_glymphatic.cli import readiness_checks
    from ndx_glymphatic.validators.checks_dandi import DANDI_CHECKS

    text = (Path(__file__).resolve().parents[1] / "docs" / "validation.md").read_text()
    names = [*DOMAIN_CHECKS, *(check.__name__ for check in (*DANDI_CHECKS, *readiness_checks()))]
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing


def test_environment_variable_points_plain_nwbinspector_runs_at_a_limits_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ndx_glymphatic.validators import limits as limits_module

    custom = tmp_path / "limits.yaml"
    custom.write_text("data_integrity:\n  max_nan_run_in_s: 30\n")
    monkeypatch.setenv(limits_module.LIMITS_ENVIRONMENT_VARIABLE, str(custom))
    monkeypatch.setattr(limits_module, "_active_limits", None)
    series = TimeSeries(name="ts", data=np.r_[np.ones(10), np.full(50, np.nan)], unit="V", rate=10.0)
    assert run_check("check_nan_runs", series) == []  # 5 s of NaN allowed under the 30-s limit
    monkeypatch.setattr(limits_module, "_active_limits", None)
    monkeypatch.delenv(limits_module.LIMITS_ENVIRONMENT_VARIABLE)
    assert run_check("check_nan_runs", series)
    monkeypatch.setattr(limits_module, "_active_limits", None)


# ------------------------------------------------------------------- run by nwbinspector's machinery
def _subject_file(**subject: object) -> NWBFile:
    from pynwb.file import Subject

    nwbfile = _file()
    fields = {"subject_id": "m01", "species": "Mus musculus", "sex": "M", "age": "P90D", **subject}
    nwbfile.subject = None
    nwbfile.fields.pop("subject", None)
    nwbfile.subject = Subject(**fields)
    return nwbfile


@pytest.mark.parametrize(
    ("make", "check", "words"),
    [
        (lambda: _subject_file(subject_id="m/01"), "dandi_subject_id", "subject_id 'm/01' has '/'"),
        (lambda: _subject_file(species="mouse"), "dandi_species", "species 'mouse' is neither"),
        (lambda: _subject_file(sex="male"), "dandi_sex", "sex is 'male'"),
        (lambda: _subject_file(age="90 days"), "dandi_age", "age '90 days' is not an ISO 8601 duration"),
        (lambda: _subject_file(age=None), "dandi_age", "neither age nor date_of_birth"),
    ],
)
def test_dandi_checks_run_by_nwbinspector_are_critical_in_the_dandi_profile(
    make: Callable[[], NWBFile], check: str, words: str
) -> None:
    from ndx_glymphatic.validators.checks_dandi import DANDI_CHECKS
    from ndx_glymphatic.validators.layers import check_messages

    messages = check_messages(nwbfile=make(), checks=DANDI_CHECKS, layer="dandi")
    assert [(m.check, m.severity, m.importance, m.location) for m in messages] == [
        (check, "error", "CRITICAL", "/general/subject")]
    assert words in messages[0].message and " Hint: " not in messages[0].message and messages[0].hint
    default = next(function for function in DANDI_CHECKS if function.__name__ == check)
    assert default.importance is Importance.BEST_PRACTICE_VIOLATION  # raised by inspector_config.yaml only


def test_dandi_checks_pass_a_complete_subject_and_name_a_missing_one() -> None:
    from ndx_glymphatic.validators.checks_dandi import DANDI_CHECKS
    from ndx_glymphatic.validators.layers import check_messages

    assert check_messages(nwbfile=_subject_file(), checks=DANDI_CHECKS, layer="dandi") == []  # in memory: no path
    nwbfile = _subject_file()
    nwbfile.fields.pop("subject")
    (message,) = check_messages(nwbfile=nwbfile, checks=DANDI_CHECKS, layer="dandi")
    assert (message.check, message.severity, message.message) == (
        "dandi_subject", "error", "The file has no Subject; DANDI requires one.")


def test_importance_comes_from_the_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nwbinspector import load_config

    from ndx_glymphatic.validators import layers

    merged = layers.inspector_config()
    for level, names in load_config("dandi").items():  # nwbinspector's DANDI configuration, kept
        assert set(names) <= set(merged[level])
    assert {"dandi_subject", "dandi_sex", "dandi_file_name"} <= set(merged["CRITICAL"])
    assert "dandi_layout" not in str(merged)  # stays a note
    ours = tmp_path / "inspector_config.yaml"
    ours.write_text("SKIP:\n  - check_sleep_states_vocabulary\nBEST_PRACTICE_SUGGESTION:\n  - check_subject_exists\n")
    monkeypatch.setattr(layers, "INSPECTOR_CONFIG_PATH", ours)
    merged = layers.inspector_config()
    assert "check_subject_exists" not in merged["CRITICAL"]  # ours wins over nwbinspector's
    assert merged["BEST_PRACTICE_SUGGESTION"] == ["check_subject_exists"]
    hypnogram = mock_Hypnogram(sleep_states=("Sleep stage W", "NREM", "micro-arousal", "NREM", "REM", "wake"))
    nwbfile = _replace_intervals(_file(), "sleep_states", hypnogram).parent
    assert check_messages_of(nwbfile, "check_sleep_states_vocabulary") == []
    monkeypatch.undo()
    assert [m.severity for m in check_messages_of(nwbfile, "check_sleep_states_vocabulary")] == ["error"]


def check_messages_of(nwbfile: NWBFile, name: str) -> list:
    from ndx_glymphatic.validators.layers import check_messages

    return check_messages(nwbfile=nwbfile, checks=[DOMAIN_CHECKS[name]], layer="domain")


@pytest.mark.parametrize(("error", "severity", "words"), [
    (ValueError("no such column"), "warning", "the check could not run on this object: ValueError: no such column"),
    (OSError("Can't read data"), "error", "the stored data of this object cannot be read (OSError: Can't read data)."),
])
def test_a_check_that_raises_becomes_a_message_about_its_object(error: Exception, severity: str, words: str) -> None:
    from nwbinspector import available_checks

    from ndx_glymphatic.validators import unregistered_check
    from ndx_glymphatic.validators.layers import check_messages

    @unregistered_check(importance=Importance.CRITICAL, neurodata_type=TimeSeries)
    def check_that_raises(series: TimeSeries) -> None:
        raise error

    assert check_that_raises not in available_checks
    nwbfile = _file()
    messages = check_messages(nwbfile=nwbfile, checks=[check_that_raises], layer="domain")
    series = [o for o in nwbfile.objects.values() if isinstance(o, TimeSeries)]
    assert len(messages) == len(series) > 1  # the run goes on over every object
    assert {(m.check, m.severity, m.importance) for m in messages} == {("check_that_raises", severity, "ERROR")}
    assert all(m.message == words and m.hint for m in messages)
    assert sorted(m.object_name for m in messages) == sorted(s.name for s in series)
