"""The session file: the typed model, its generated JSON Schema and docs, readable messages (all at once),
cross-references, typed loading, and the simulator's session files (the same model)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from ndx_glymphatic import _make_session_schema
from ndx_glymphatic.cli import main
from ndx_glymphatic.session import (
    PHOTOMETRY_FORMATS,
    IndicatorConfig,
    LcStimulationConfig,
    PhotometryConfig,
    SessionConfig,
    SessionFileError,
    check_session_document,
    load_session,
    session_example_text,
    session_schema,
    session_schema_text,
    validate_session_file,
)
from ndx_glymphatic.simulation import SimulationParameters, simulate_session
from ndx_glymphatic.simulation.rig_files.session import simulated_session_config, write_rig_session

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLE_FILES = ("rig/Mouse12_eeg.edf", "rig/Mouse12_sleepscore.xlsx")
EXAMPLE_FOLDERS = ("rig/Mouse12-250314-090000",)


@pytest.fixture()
def example_folder(tmp_path: Path) -> Path:
    """A folder holding the annotated example session file and (empty) stand-ins for the rig files it names."""
    for folder in EXAMPLE_FOLDERS:
        (tmp_path / folder).mkdir(parents=True)
    for name in EXAMPLE_FILES:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "session.yaml").write_text(session_example_text())
    return tmp_path


@pytest.fixture()
def example_document() -> dict:
    return yaml.safe_load(session_example_text())


def _problems(document: dict, folder: Path) -> list[str]:
    return check_session_document(document=json.loads(json.dumps(document, default=str)), base_folder=folder)


def test_schema_is_valid_json_schema_and_the_committed_copy_is_fresh() -> None:
    schema = session_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith("/nwb_ext/session_schema.json")
    assert schema["title"] == "ndx-glymphatic conversion session file"
    committed = REPOSITORY / "nwb_ext" / "session_schema.json"
    assert committed.read_text() == session_schema_text(), (
        "nwb_ext/session_schema.json is stale: run python nwb_ext/_make_session_schema.py"
    )


def test_schema_is_strict() -> None:
    """Every mapping is closed, optional fields do not accept null (except control_channel), enums are listed."""
    schema = session_schema()
    nodes = [schema, *schema["$defs"].values()]
    assert all(node["additionalProperties"] is False for node in nodes)
    nullable = [
        (name, key) for name, node in schema["$defs"].items()
        for key, child in node["properties"].items() if "null" in json.dumps(child.get("type", ""))
    ]
    assert nullable == [("PhotometryChannelConfig", "control_channel")]
    channel = schema["$defs"]["PhotometryChannelConfig"]
    assert "isosbestic control" in channel["properties"]["channel_role"]["enum"]
    assert schema["$defs"]["PhotometryConfig"]["properties"]["format"]["enum"] == list(PHOTOMETRY_FORMATS)
    assert set(channel["required"]) >= {"name", "stream", "channel_role", "excitation_wavelength_in_nm"}
    assert all(child.get("description") for child in channel["properties"].values())


def test_docs_page_is_up_to_date() -> None:
    docs = REPOSITORY / "docs" / "session-file.md"
    rendered = _make_session_schema.render_markdown(schema=session_schema(), example=session_example_text())
    assert docs.read_text() == rendered, "docs/session-file.md is stale: run python nwb_ext/_make_session_schema.py"
    for section in ("subject", "session", "photometry", "electrophysiology", "hypnogram", "optogenetics"):
        assert f"### {section}" in rendered


def test_cli_prints_schema_and_example() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["schema", "session"])
    assert result.exit_code == 0
    assert json.loads(result.output) == session_schema()
    result = runner.invoke(main, ["schema", "session", "--example"])
    assert result.exit_code == 0
    assert yaml.safe_load(result.output)["subject"]["subject_id"] == "m12"


def test_example_is_valid_and_loads_typed(example_folder: Path) -> None:
    assert validate_session_file(path=example_folder / "session.yaml") == []
    config = load_session(path=example_folder / "session.yaml")
    assert config.session.session_start_time.utcoffset().total_seconds() == 3600
    assert config.photometry.file == example_folder / "rig/Mouse12-250314-090000"
    assert [c.name for c in config.photometry.channels] == ["ne_465nm", "ne_405nm", "blood_volume_560nm"]
    assert config.photometry.channels[0].control_channel == "ne_405nm"
    assert config.electrophysiology.channels[2].ccf_location == "root"
    assert config.ephys_needs_alignment
    assert config.hypnogram_clock() == "electrophysiology"
    assert config.drugs[0].duration_in_s == 5.0  # bolus default
    assert config.optogenetics.lc_stimulation.from_ttl.event_channel == "Pu1_"


def test_json_session_file_is_accepted(example_folder: Path, example_document: dict) -> None:
    path = example_folder / "session.json"
    path.write_text(json.dumps(example_document))
    assert validate_session_file(path=path) == []


def test_the_documented_message_wording(example_folder: Path, example_document: dict) -> None:
    document = copy.deepcopy(example_document)
    document["photometry"]["channels"][2]["excitation_wavelength_in_nm"] = "465nm"
    assert _problems(document, example_folder) == [
        'photometry.channels[2].excitation_wavelength_in_nm: expected a number, got "465nm"'
    ]


def test_every_violation_is_reported_at_once(example_folder: Path, example_document: dict) -> None:
    document = copy.deepcopy(example_document)
    del document["subject"]["age"]
    document["subject"]["sex"] = "male"
    document["subject"]["agee"] = "P84D"
    document["session"]["session_start_time"] = "2025-03-14T09:00:00"
    document["photometry"]["channels"][0]["control_channel"] = "ne_415nm"
    document["photometry"]["channels"][1]["indicator"] = "GRAB_DA"
    document["photometry"]["channels"][2]["channel_role"] = "sginal"
    document["infusions"][0]["volume_in_uL"] = -1
    document["electrophysiology"]["channels"][0]["group"] = "EEG_screw"
    problems = _problems(document, example_folder)
    expected_prefixes = [
        "subject.age: expected a value (required), got nothing",
        'subject.sex: expected one of "M", "F", "U", "O", got "male"',
        "subject.agee: expected no such field, got an unknown field (did you mean 'age'?)",
        "session.session_start_time: expected an ISO 8601 date and time with a time zone",
        "photometry.channels[0].control_channel: expected the name of another photometry channel",
        "photometry.channels[1].indicator: expected the name of an entry of `indicators` or `tracers`",
        "photometry.channels[2].channel_role: expected one of",
        "infusions[0].volume_in_uL: expected a number > 0, got -1",
        "electrophysiology.channels[0].group: expected the name of an entry of "
        "`electrophysiology.electrode_groups`",
    ]
    for prefix in expected_prefixes:
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)
    assert len(problems) == len(expected_prefixes)
    assert "(did you mean 'ne_405nm'?)" in next(p for p in problems if p.startswith("photometry.channels[0]"))
    assert '(did you mean "signal"?)' in next(p for p in problems if p.startswith("photometry.channels[2]"))
    # load_session raises one error holding every message, one per line
    (example_folder / "bad.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(SessionFileError) as raised:
        load_session(path=example_folder / "bad.yaml")
    assert raised.value.problems == problems
    assert str(raised.value).count("\n") == len(problems)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["photometry"]["channels"][1].update(control_channel="ne_405nm"),
         "photometry.channels[1].control_channel: expected another channel's name, got the channel's own name"),
        (lambda d: d["photometry"]["channels"][0].update(control_channel="blood_volume_560nm"),
         'photometry.channels[0].control_channel: expected a channel whose channel_role is "isosbestic control" '
         'or "reference control", got "blood_volume_560nm" (channel_role "signal")'),
        (lambda d: d["photometry"]["channels"][1].update(name="ne_465nm"),
         'photometry.channels[1].name: expected a channel name not used before, got "ne_465nm"'),
        (lambda d: d["photometry"]["channels"][1].update(stream="_465A"),
         'photometry.channels[1].stream: expected a stream (and stream_channel) not used by another channel'),
        (lambda d: d["photometry"].update(file="rig/missing-block"),
         'photometry.file: expected an existing file or folder, got "rig/missing-block"'),
        (lambda d: d["electrophysiology"].pop("clock_alignment"),
         "electrophysiology.clock_alignment: expected a value (required when EEG/EMG come from another file"),
        (lambda d: d["electrophysiology"].update(file=d["photometry"]["file"], format="tdt"),
         "electrophysiology.clock_alignment: expected nothing (EEG/EMG are in the photometry file"),
        (lambda d: d["subject"].update(age="90 days"),
         'subject.age: expected an ISO 8601 duration such as "P90D" or "P12W", got "90 days"'),
        (lambda d: d["session"].update(session_start_time="2025-13-14T09:00:00+01:00"),
         'session.session_start_time: expected a real date and time, got "2025-13-14T09:00:00+01:00"'),
        (lambda d: d["optogenetics"]["lc_stimulation"].update(epochs=[{"start_time_in_s": 5, "stop_time_in_s": 15}]),
         "optogenetics.lc_stimulation: expected exactly one of epochs or from_ttl, got epochs and from_ttl"),
        (lambda d: d["optogenetics"]["lc_stimulation"].pop("from_ttl"),
         "optogenetics.lc_stimulation: expected exactly one of epochs or from_ttl, got neither"),
        (lambda d: d["optogenetics"]["lc_stimulation"].update(sites=["VTA"]),
         "optogenetics.lc_stimulation.sites[0]: expected the name of an entry of `optogenetics.sites` ('LC'), "
         'got "VTA"'),
        (lambda d: d["infusions"][0].update(stop_time_in_s=1000),
         "infusions[0].stop_time_in_s: expected a time after start_time_in_s (1800), got 1000"),
        (lambda d: d["infusions"][0].update(tracer="albumin_TexasRed2"),
         "infusions[0].tracer: expected the name of an entry of `tracers`"),
        (lambda d: [d.pop("photometry"), d.pop("electrophysiology")],
         "(session file): expected at least one of the sections photometry or electrophysiology, got neither"),
        (lambda d: d["hypnogram"].update(format="epoch-codes"),
         'hypnogram.epoch_length_in_s: expected a value (required for format "epoch-codes"), got nothing'),
        (lambda d: d["indicators"][0].pop("viral_vector"),
         "indicators[0].viral_vector: expected a value (required when 'injection' is given), got nothing"),
        (lambda d: d["electrophysiology"]["channels"][0].update(series="ECG"),
         'electrophysiology.channels[0].series: expected one of "EEG", "EMG", got "ECG"'),
        (lambda d: d["photometry"]["channels"][0].update(stream_channel=-1),
         "photometry.channels[0].stream_channel: expected a number >= 0, got -1"),
        (lambda d: d["photometry"].update(channels=[]),
         "photometry.channels: expected at least 1 entries, got an empty list"),
        (lambda d: d["devices"]["optical_fibers"][0].update(name="fiber ne"),
         "devices.optical_fibers[0].name: expected a name of letters, digits, '_', '-' or '.' (no spaces or "
         'slashes), got "fiber ne"'),
        (lambda d: d["condition"].update(is_control="no"),
         'condition.is_control: expected true or false, got "no"'),
    ],
)
def test_single_problem_messages(example_folder: Path, example_document: dict, mutate, expected: str) -> None:
    document = copy.deepcopy(example_document)
    mutate(document)
    problems = _problems(document, example_folder)
    assert any(p.startswith(expected) for p in problems), problems


def test_yaml_times_stay_text_so_the_time_zone_is_checked(example_folder: Path) -> None:
    text = session_example_text().replace('"2025-03-14T09:00:00+01:00"', "2025-03-14 09:00:00")
    path = example_folder / "naive.yaml"
    path.write_text(text)
    assert validate_session_file(path=path) == [
        "session.session_start_time: expected an ISO 8601 date and time with a time zone such as "
        '"2025-03-14T09:00:00+01:00", got "2025-03-14 09:00:00"'
    ]


def test_unreadable_session_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("subject:\n  subject_id: m1\n   species: [unclosed\n")
    (message,) = validate_session_file(path=broken)
    assert re.match(r"\(session file\) line \d+, column \d+: expected valid YAML, got a syntax error", message)
    assert validate_session_file(path=tmp_path / "nope.yaml") == [
        "(session file): expected an existing YAML or JSON file, got no such file or folder"
    ]
    assert validate_session_file(path=tmp_path) == ["(session file): expected a YAML or JSON file, got a directory"]
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    assert validate_session_file(path=listing) == [
        "(session file): expected a mapping of sections (subject, session, ...), got a list of 2 entries"
    ]
    bad_json = tmp_path / "s.json"
    bad_json.write_text('{"subject": }')
    assert validate_session_file(path=bad_json)[0].startswith(
        "(session file) line 1, column 13: expected valid JSON, got a syntax error"
    )


def test_check_only_cli(example_folder: Path, example_document: dict) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["convert", str(example_folder / "session.yaml"), "-o",
                                  str(example_folder / "x.nwb"), "--check-only"])
    # the session file itself is valid; --check-only then opens the rig headers, and the empty stand-ins have none
    assert result.exit_code == 2, result.output
    assert "expected a value" not in result.output and "Traceback" not in result.output
    assert "Mouse12-250314-090000: .tsq index file" in result.output
    assert "Mouse12_eeg.edf: header: expected a 256-byte EDF header, found 0 bytes" in result.output
    document = copy.deepcopy(example_document)
    document["photometry"]["channels"][2]["excitation_wavelength_in_nm"] = "465nm"
    document["subject"]["sex"] = "X"
    (example_folder / "bad.yaml").write_text(yaml.safe_dump(document))
    result = runner.invoke(main, ["convert", str(example_folder / "bad.yaml"), "-o", str(example_folder / "x.nwb")])
    assert result.exit_code == 2
    assert "session file has 2 problems" in result.output
    assert 'photometry.channels[2].excitation_wavelength_in_nm: expected a number, got "465nm"' in result.output
    assert "Traceback" not in result.output
    assert not (example_folder / "x.nwb").exists()


# ------------------------------------------------------------------------------ the typed model
def _without_nulls(value):
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def test_example_round_trips_through_the_model(example_folder: Path, example_document: dict) -> None:
    config = load_session(path=example_folder / "session.yaml")
    document = config.to_document()
    assert document == _without_nulls(example_document)  # null control_channel = no control channel
    assert document["photometry"]["file"] == "rig/Mouse12-250314-090000"  # relative to the session file again
    assert check_session_document(document=document, base_folder=example_folder) == []


def test_models_are_immutable_and_enforce_the_declared_rules(example_folder: Path) -> None:
    config = load_session(path=example_folder / "session.yaml")
    with pytest.raises(ValidationError):
        config.subject.subject_id = "m13"
    stimulation = config.optogenetics.lc_stimulation
    with pytest.raises(ValidationError, match="exactly one of epochs or from_ttl"):
        LcStimulationConfig(**{**stimulation.model_dump(exclude_unset=True), "epochs": ()})
    indicator = config.indicators[0]
    with pytest.raises(ValidationError, match="viral_vector is required when injection is given"):
        IndicatorConfig(name=indicator.name, label=indicator.label, description=indicator.description,
                        injection=indicator.injection)
    with pytest.raises(ValidationError, match="at least one of photometry or electrophysiology"):
        SessionConfig(path=config.path, subject=config.subject, session=config.session)
    with pytest.raises(ValidationError):
        PhotometryConfig(format="fibre-o-matic", file=Path("x"), channels=config.photometry.channels)


@pytest.fixture(scope="module")
def simulated():
    return simulate_session(parameters=SimulationParameters(duration_in_s=600.0, seed=11))


def _stand_ins_for_rig_files(config: SessionConfig) -> None:
    named = [config.photometry.file, *config.photometry.digital_input_files]
    named += [section.file for section in (config.electrophysiology, config.hypnogram) if section is not None]
    for path in named:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix:
            path.write_bytes(b"")
        else:  # a TDT block folder
            path.mkdir()


@pytest.mark.parametrize("rig_format", PHOTOMETRY_FORMATS)
@pytest.mark.parametrize(("include_eeg", "include_hypnogram"), [(True, True), (False, True), (True, False)])
def test_every_simulated_session_file_is_valid_and_loads_as_the_simulators_model(
    tmp_path: Path, simulated, rig_format: str, include_eeg: bool, include_hypnogram: bool
) -> None:
    config = simulated_session_config(session=simulated, format_name=rig_format, outdir=tmp_path,
                                      include_eeg=include_eeg, include_hypnogram=include_hypnogram)
    _stand_ins_for_rig_files(config)
    config.path.write_text(yaml.safe_dump(config.to_document()))
    assert validate_session_file(path=config.path) == []
    assert load_session(path=config.path) == config
    assert config.ephys_needs_alignment is include_eeg
    if include_hypnogram:
        assert config.hypnogram_clock() == ("electrophysiology" if include_eeg else "photometry")


def test_written_rig_session_is_the_simulators_model(tmp_path: Path, simulated) -> None:
    written = write_rig_session(session=simulated, outdir=tmp_path, format="ppd")
    config = simulated_session_config(session=simulated, format_name="ppd", outdir=tmp_path)
    assert written[-1] == config.path == tmp_path / "session.yaml"
    assert load_session(path=config.path) == config
    assert {config.photometry.file, config.electrophysiology.file, config.hypnogram.file} <= set(written)
