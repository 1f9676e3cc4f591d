"""The ndx-glymphatic namespace: spec validity, round trips, reading with plain pynwb, best practice, old files."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pynwb
import pytest
import yaml
from hdmf.testing.validate_spec import validate_spec
from nwbinspector import Importance, inspect_nwbfile, inspect_nwbfile_object
from pynwb import NWBHDF5IO

import ndx_glymphatic
import ndx_glymphatic.validators.checks  # our domain checks run in the inspector tests too
from ndx_glymphatic import (
    ClockAlignment,
    ClockAlignmentTable,
    DrugAdministrationsTable,
    ExperimentalCondition,
    FiberPhotometryChannelsTable,
    FluorescentTracer,
    Hypnogram,
    TracerInfusionsTable,
    VasomotionStimulationEpochsTable,
)
from ndx_glymphatic.testing.mock import mock_glymphatic_nwbfile
from ndx_glymphatic.vocabulary import FIELD_VOCABULARIES, ROUTE_ALIASES, ROUTES

SPEC_DIR = Path(ndx_glymphatic.NAMESPACE_PATH).parent
REPOSITORY = Path(__file__).resolve().parents[1]
EXTENSIONS_YAML = SPEC_DIR / "ndx-glymphatic.extensions.yaml"
NAMESPACE_YAML = SPEC_DIR / "ndx-glymphatic.namespace.yaml"
#: Written by tests/data/make_ndx_glymphatic_0.1.0_file.py with the code of spec 0.1.0; kept as written.
SPEC_0_1_0_FILE = REPOSITORY / "tests" / "data" / "ndx_glymphatic_0.1.0.nwb"
PYNWB_ONLY_READER = Path(ndx_glymphatic.__file__).parent / "testing" / "pynwb_only_reader.py"
NEW_TYPES = (
    ClockAlignment,
    ClockAlignmentTable,
    DrugAdministrationsTable,
    ExperimentalCondition,
    FiberPhotometryChannelsTable,
    FluorescentTracer,
    Hypnogram,
    TracerInfusionsTable,
    VasomotionStimulationEpochsTable,
)


@pytest.fixture(scope="module")
def full_example_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("namespace") / "full_example.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(mock_glymphatic_nwbfile())
    return path


def _spec_types() -> list[dict]:
    return yaml.safe_load(EXTENSIONS_YAML.read_text())["groups"]


def test_spec_validates_against_nwb_meta_schema() -> None:
    meta_schema = Path(pynwb.__file__).parent / "nwb-schema" / "nwb.schema.json"
    for spec_file in SPEC_DIR.glob("*.yaml"):
        validate_spec(str(spec_file), str(meta_schema))  # raises on an invalid spec


def test_spec_is_what_the_generator_writes(tmp_path: Path) -> None:
    """The committed YAML is exactly what nwb_ext/spec/create_extension_spec.py generates."""
    script = REPOSITORY / "nwb_ext" / "spec" / "create_extension_spec.py"
    copy = tmp_path / "create_extension_spec.py"
    copy.write_text(script.read_text())
    subprocess.run([sys.executable, str(copy)], check=True, cwd=tmp_path)
    for name in ("ndx-glymphatic.namespace.yaml", "ndx-glymphatic.extensions.yaml"):
        assert (tmp_path / name).read_text() == (SPEC_DIR / name).read_text(), f"{name} is stale: regenerate it"


def test_every_type_and_field_is_documented_with_units() -> None:
    defined = {group["neurodata_type_def"] for group in _spec_types()}
    assert defined == {cls.__name__ for cls in NEW_TYPES}
    for group in _spec_types():
        assert len(group["doc"]) > 40, group["neurodata_type_def"]
        for field in group.get("attributes", []) + group.get("datasets", []):
            doc = field["doc"]
            assert len(doc) > 15, (group["neurodata_type_def"], field.get("name"))
            name = field.get("name", "")
            for unit_suffix, unit_word in (("_in_nm", "nanometer"), ("_in_kDa", "kilodalton"),
                                           ("_in_uL", "microliter"), ("_in_s", "second"), ("_in_Hz", "hertz")):
                if unit_suffix in name and not name.endswith("_index"):
                    assert unit_word in doc, f"{group['neurodata_type_def']}.{name}: doc must name the unit"


def test_defines_only_what_the_included_namespaces_lack() -> None:
    included_types = set()
    for module_name in ("ndx_ophys_devices", "ndx_fiber_photometry", "ndx_optogenetics"):
        module = __import__(module_name)
        spec_dir = Path(module.__file__).parent / "spec"
        for spec_file in spec_dir.glob("*.extensions.yaml"):
            for group in yaml.safe_load(spec_file.read_text()).get("groups", []):
                included_types.add(group["neurodata_type_def"])
    ours = {group["neurodata_type_def"] for group in _spec_types()}
    assert not ours & included_types
    assert not ours & set(pynwb.get_type_map().get_container_classes("core"))


def test_round_trip_of_every_type(full_example_path: Path) -> None:
    original = mock_glymphatic_nwbfile()
    with NWBHDF5IO(full_example_path, "r") as io:
        read = io.read()
        found_types = {type(obj).__name__ for obj in read.objects.values()}
        assert {cls.__name__ for cls in NEW_TYPES} <= found_types

        tracer = read.lab_meta_data["fiber_photometry"].fiber_photometry_indicators.indicators["AF647_ovalbumin"]
        expected_tracer = original.lab_meta_data["fiber_photometry"].fiber_photometry_indicators.indicators[
            "AF647_ovalbumin"
        ]
        for field in ("label", "fluorophore", "carrier_molecule", "molecular_weight_in_kDa",
                      "labeled_compartment", "excitation_peak_in_nm", "emission_peak_in_nm", "description"):
            assert getattr(tracer, field) == getattr(expected_tracer, field), field

        for table_name in ("sleep_states", "tracer_infusions", "drug_administrations", "vasomotion_stimulation",
                           "lc_optogenetic_stimulation"):
            written = original.intervals[table_name].to_dataframe(index=True)
            reread = read.intervals[table_name].to_dataframe(index=True)
            assert list(reread.columns) == list(written.columns), table_name
            for column in written.columns:
                if column in ("tracer", "optogenetic_sites", "timeseries"):
                    continue  # references: compared below
                np.testing.assert_array_equal(reread[column].to_numpy(), written[column].to_numpy(), err_msg=column)
        assert read.intervals["tracer_infusions"]["tracer"][0].name == "AF647_ovalbumin"
        assert read.intervals["sleep_states"].scorer == "A. Scorer"
        assert read.intervals["sleep_states"].scoring_method == "manual"

        channels = read.lab_meta_data["fiber_photometry"].fiber_photometry_table
        assert isinstance(channels, FiberPhotometryChannelsTable)
        for column in ("measured_quantity", "channel_role", "control_channel", "stream_name",
                       "excitation_wavelength_in_nm"):
            expected = original.lab_meta_data["fiber_photometry"].fiber_photometry_table[column].data
            assert list(channels[column].data[:]) == list(expected), column

        condition = read.lab_meta_data["experimental_condition"]
        assert (condition.condition, bool(condition.is_control)) == ("zolpidem", False)

        alignment = read.lab_meta_data["clock_alignment"].clock_alignment_table
        expected_alignment = original.lab_meta_data["clock_alignment"].clock_alignment_table
        for column in ("slope", "offset_in_s", "residual_rms_in_s", "number_of_matched_pulses"):
            assert alignment[column][0] == expected_alignment[column][0], column
        np.testing.assert_array_equal(
            alignment["matched_primary_times_in_s"][0], expected_alignment["matched_primary_times_in_s"][0]
        )
        ne = read.acquisition["ne_465nm"]
        assert ne.rate == 20.0 and ne.timestamps is None
        np.testing.assert_array_equal(ne.data[:], original.acquisition["ne_465nm"].data)


def test_plain_pynwb_reads_and_validates_without_the_extension(full_example_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(PYNWB_ONLY_READER), str(full_example_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("interval: sleep_states Hypnogram 6", "interval: tracer_infusions TracerInfusionsTable 1",
                 "interval: vasomotion_stimulation VasomotionStimulationEpochsTable 1",
                 "acquisition: ne_465nm FiberPhotometryResponseSeries 18000",
                 "lab_meta_data: clock_alignment ClockAlignment",
                 "lab_meta_data: experimental_condition ExperimentalCondition",
                 "sleep_states: NREM,REM,micro-arousal,wake",
                 "validation errors: 0", "extension modules imported: 0"):
        assert line in result.stdout.splitlines(), f"missing {line!r} in:\n{result.stdout}"


def test_schema_validation_of_the_full_example(full_example_path: Path) -> None:
    assert pynwb.validate(path=str(full_example_path)) == []


def test_nwbinspector_finds_nothing_serious_in_the_full_example(full_example_path: Path) -> None:
    messages = list(
        inspect_nwbfile(nwbfile_path=full_example_path, importance_threshold=Importance.BEST_PRACTICE_VIOLATION)
    )
    assert messages == [], "\n".join(f"{m.importance.name} {m.check_function_name}: {m.message}" for m in messages)


def _spec_fields() -> dict[str, dict]:
    """Every attribute and dataset of our types, by ``"<type>.<name>"``."""
    return {
        f"{group['neurodata_type_def']}.{field['name']}": field
        for group in _spec_types()
        for field in group.get("attributes", []) + group.get("datasets", [])
    }


def _referenced_types(spec: dict) -> set[str]:
    """Types a spec (or one of its parts) extends or references."""
    found = {spec["neurodata_type_inc"]} if "neurodata_type_inc" in spec else set()
    if isinstance(spec.get("dtype"), dict):
        found.add(spec["dtype"]["target_type"])
    for part in spec.get("attributes", []) + spec.get("datasets", []) + spec.get("groups", []):
        found |= _referenced_types(part)
    return found


def test_includes_exactly_the_types_the_spec_builds_on() -> None:
    namespace = yaml.safe_load(NAMESPACE_YAML.read_text())["namespaces"][0]
    included = {
        name for entry in namespace["schema"] if "namespace" in entry for name in entry["neurodata_types"]
    }
    ours = {group["neurodata_type_def"] for group in _spec_types()}
    referenced = set().union(*(_referenced_types(group) for group in _spec_types())) - ours
    assert included == referenced


def test_field_docs_give_the_words_of_the_vocabulary() -> None:
    fields = _spec_fields()
    for name, words in FIELD_VOCABULARIES.items():
        doc = fields[name]["doc"]
        missing = [word for word in words if f"'{word}'" not in doc]
        assert not missing, f"{name}: the doc does not give {missing}"
        if words == ROUTES:
            assert all(f"'{alias}' ({term})" in doc for alias, term in ROUTE_ALIASES.items()), name


def test_spec_changes_come_with_a_new_version() -> None:
    with h5py.File(SPEC_0_1_0_FILE, "r") as file:
        cached = file["specifications/ndx-glymphatic/0.1.0"]
        cached_types = json.loads(cached["ndx-glymphatic.extensions"][()])["groups"]
    assert cached_types != _spec_types()
    assert yaml.safe_load(NAMESPACE_YAML.read_text())["namespaces"][0]["version"] != "0.1.0"


def test_reads_and_validates_a_file_of_spec_0_1_0() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Ignoring the following cached namespace")
        with NWBHDF5IO(SPEC_0_1_0_FILE, "r") as io:
            read = io.read()
            assert {cls.__name__ for cls in NEW_TYPES} <= {type(obj).__name__ for obj in read.objects.values()}
            assert isinstance(read.intervals["sleep_states"], Hypnogram)
            assert isinstance(read.intervals["drug_administrations"], DrugAdministrationsTable)
            assert read.intervals["drug_administrations"]["route"][0] == "i.p."
            channels = read.lab_meta_data["fiber_photometry"].fiber_photometry_table
            assert isinstance(channels, FiberPhotometryChannelsTable)
            assert list(channels["measured_quantity"].data[:]) == [
                "norepinephrine", "norepinephrine", "cerebral blood volume", "CSF tracer"]
            assert read.lab_meta_data["experimental_condition"].condition == "zolpidem"
            messages = list(inspect_nwbfile_object(
                nwbfile_object=read, importance_threshold=Importance.BEST_PRACTICE_VIOLATION
            ))
        assert pynwb.validate(path=str(SPEC_0_1_0_FILE)) == []
    # The file is 60 s long, while the mock's events span 900 s, and its EEG is sampled at 64 Hz (a small
    # file): our checks, which run only on our types, find exactly that, and nothing else.
    assert {message.check_function_name for message in messages} == {
        "check_drug_administration_before_session_end",
        "check_eeg_emg_rate_for_sleep_scoring",
        "check_infusion_inside_session",
        "check_sleep_states_inside_session",
        "check_stimulation_epochs_inside_session",
    }
