"""The ndx-glymphatic namespace: spec validity, round trips, reading with plain pynwb, best practice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pynwb
import pytest
import yaml
from hdmf.testing.validate_spec import validate_spec
from nwbinspector import Importance, inspect_nwbfile
from pynwb import NWBHDF5IO

import ndx_glymphatic
import ndx_glymphatic.validators  # our domain checks run in the inspector test too
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

SPEC_DIR = Path(ndx_glymphatic.NAMESPACE_PATH).parent
REPOSITORY = Path(__file__).resolve().parents[1]
EXTENSIONS_YAML = SPEC_DIR / "ndx-glymphatic.extensions.yaml"
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
