"""Analysis parameters: the models, the params file, its generated JSON Schema and the docs that list them."""

from __future__ import annotations

import json
import re
import runpy
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest

from ndx_glymphatic.analysis.params import (
    PRESETS,
    AnalysisParams,
    CouplingParams,
    PresetName,
    load_params,
    params_schema,
)
from ndx_glymphatic.errors import InputFileError

REPOSITORY = Path(__file__).resolve().parents[1]
SECTIONS = list(AnalysisParams.model_fields)


def _fields(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for section in SECTIONS:
        definition = schema["$defs"][schema["properties"][section]["$ref"].rsplit("/", 1)[-1]]
        for key, node in definition["properties"].items():
            yield section, key, node


def test_committed_schema_and_docs_reference_are_generated_from_the_models() -> None:
    generator = runpy.run_path(str(REPOSITORY / "docs" / "generate_params_docs.py"))
    files = generator["render"]()
    assert set(files) == {REPOSITORY / "analysis" / "params_schema.json", REPOSITORY / "docs" / "analysis.md"}
    for path, text in files.items():
        assert path.read_text() == text, f"{path} is stale: run python docs/generate_params_docs.py"
    committed = json.loads((REPOSITORY / "analysis" / "params_schema.json").read_text())
    assert committed == params_schema()
    reference = files[REPOSITORY / "docs" / "analysis.md"].split(generator["BEGIN"])[1].split(generator["END"])[0]
    for section, key, node in _fields(committed):
        assert f"| `{key}` |" in reference.split(f"#### `{section}`")[1].split("####")[0], (section, key)
        assert node["description"], f"{section}.{key} has no description"


def test_params_yaml_overrides_and_is_schema_checked(tmp_path: Path) -> None:
    good = tmp_path / "params.yaml"
    good.write_text(
        "preset: hauglund2025\nbouts:\n  micro_arousal_max_duration_in_s: 12\neeg:\n  bands:\n    sigma: [10, 15]\n"
    )
    params = load_params(path=good)
    assert params.bouts.micro_arousal_max_duration_in_s == 12.0
    assert params.oscillation.min_bout_in_s == 200.0
    assert params.eeg.bands["sigma"] == (10, 15) and params.eeg.bands["delta"] == (1.0, 4.0)
    assert AnalysisParams.from_mapping(mapping=params.to_dict()) == params
    bad = tmp_path / "bad.yaml"
    bad.write_text("oscillation:\n  min_bout_in_s: -3\n")
    with pytest.raises(InputFileError, match="oscillation/min_bout_in_s"):
        load_params(path=bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("oscilation: {}\n")
    with pytest.raises(InputFileError, match="oscilation"):
        load_params(path=unknown)
    assert load_params(path=None) == AnalysisParams()


def test_bad_params_files_are_refused_in_one_line_naming_the_file(tmp_path: Path) -> None:
    cases = {
        "missing.yaml": None,
        "broken.yaml": "bouts: [unclosed\n",
        "list.yaml": "- bouts\n",
        "two.yaml": "bouts:\n  split_bouts_at_micro_arousals: maybe\n  contiguity_tolerance_in_s: -1\n",
    }
    fields = {}
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(InputFileError) as raised:
            load_params(path=path)
        assert "\n" not in str(raised.value) and str(path) in str(raised.value)
        fields[name] = raised.value.field
    assert fields == {
        "missing.yaml": "params file",
        "broken.yaml": "params file",
        "list.yaml": "(top level)",
        "two.yaml": "bouts/contiguity_tolerance_in_s",
    }
    with pytest.raises(InputFileError, match=r"2 problem\(s\) in total"):
        load_params(path=tmp_path / "two.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_params(path=empty) == AnalysisParams()


def _values_against(node: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """Values a schema property must accept, refuse by range or word, and refuse by type."""
    if "enum" in node:
        return list(node["enum"]), ["nonsense"], [1]
    kind = node["type"]
    if kind == "boolean":
        return [True, False], [], ["yes", 0]
    if kind in ("number", "integer"):
        good: list[Any] = []
        out_of_range: list[Any] = []
        if "minimum" in node:
            good.append(node["minimum"])
            out_of_range.append(node["minimum"] - 1)
        if "exclusiveMinimum" in node:
            good.append(node["exclusiveMinimum"] + (1 if kind == "integer" else 1e-9))
            out_of_range.append(node["exclusiveMinimum"])
        if "maximum" in node:
            good.append(node["maximum"])
            out_of_range.append(node["maximum"] + 1)
        if "exclusiveMaximum" in node:
            out_of_range.append(node["exclusiveMaximum"])
        return good, out_of_range, ["1", None, True, *([1.5] if kind == "integer" else [])]
    if kind == "string":
        return ["x"], [""], [3]
    if kind == "array" and "prefixItems" in node:
        return [[0, 1.5]], [[1.0], [1.0, 2.0, 3.0], [-1.0, 2.0]], [["a", "b"], 1.0]
    if kind == "array":
        return [["x"]], [[]], [[1], "x"]
    if kind == "object":
        key = node["propertyNames"]["enum"][0]
        value_good, value_out, value_type = _values_against(node["additionalProperties"])
        return [{key: value_good[0]}], [{"nonsense": value_good[0]}, {key: (value_out or value_type)[0]}], [[]]
    raise AssertionError(f"no test values for {node}")


def test_the_schema_and_the_models_accept_and_refuse_the_same_values() -> None:
    refused = 0
    for section, key, node in _fields(params_schema()):
        good, out_of_range, wrong_type = _values_against(node)
        for value in good:
            mapping = {section: {key: value}}
            assert getattr(getattr(AnalysisParams.from_mapping(mapping=mapping), section), key) is not None
        for value in out_of_range + wrong_type:
            with pytest.raises(InputFileError) as raised:
                AnalysisParams.from_mapping(mapping={section: {key: value}}, source="p.yaml")
            assert raised.value.field.startswith(f"{section}/{key}"), (section, key, value, raised.value.field)
            refused += 1
        for value in out_of_range:  # the models hold the same ranges and words as the schema
            with pytest.raises(pydantic.ValidationError):
                AnalysisParams.model_validate({section: {key: value}})
        with pytest.raises(InputFileError, match="was unexpected"):
            AnalysisParams.from_mapping(mapping={section: {f"{key}x": 1}})
    assert refused > 200


def test_params_are_frozen_and_refuse_unknown_keys() -> None:
    params = AnalysisParams()
    with pytest.raises(pydantic.ValidationError):
        params.bouts.micro_arousal_max_duration_in_s = 3.0  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        AnalysisParams.model_validate({"bouts": {"micro_arousal_max": 3.0}})
    assert params.to_dict() == json.loads(json.dumps(params.to_dict()))
    assert params.to_dict()["eeg"]["bands"]["sigma"] == [8.0, 15.0]
    assert isinstance(params.oscillation.peak_search_in_Hz, tuple)


def test_partial_mappings_keep_the_default_pairs_and_bands() -> None:
    params = AnalysisParams.from_mapping(mapping={"coupling": {"extremum": {"ne_vs_csf": "min"}}})
    assert params.coupling.extremum == {**CouplingParams().extremum, "ne_vs_csf": "min"}
    assert CouplingParams(extremum={"ne_vs_sigma": "abs"}).extremum["ne_vs_blood_volume"] == "min"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_each_preset_is_valid_and_explicit_keys_win(preset: str) -> None:
    params = AnalysisParams.from_mapping(mapping={"preset": preset})
    for section, values in PRESETS[preset].items():
        for key, value in values.items():
            expected = {**AnalysisParams().eeg.bands, **value} if key == "bands" else value
            assert json.loads(json.dumps(getattr(getattr(params, section), key))) == json.loads(json.dumps(expected))
    explicit = AnalysisParams.from_mapping(mapping={"preset": preset, "bouts": {"micro_arousal_max_duration_in_s": 7}})
    assert explicit.bouts.micro_arousal_max_duration_in_s == 7.0


def test_preset_names_are_the_schema_words() -> None:
    assert set(typing.get_args(PresetName)) == set(PRESETS) == set(params_schema()["properties"]["preset"]["enum"])
    with pytest.raises(InputFileError, match="preset"):
        AnalysisParams.from_mapping(mapping={"preset": "kjaerby2023"})
    with pytest.raises(InputFileError, match="preset"):
        AnalysisParams.from_mapping(mapping={"preset": None})


# ------------------------------------------------------------------ the hand-written docs name real parameters

# `name`, `section.name` or `name: word`, then an optional default: "(...)" or a number
_TOKEN = re.compile(
    r"`([a-z][A-Za-z0-9_]*(?:\.[a-z*][A-Za-z0-9_]*)?)(?:: ([a-z_]+))?`"
    r"(?: \(([^)]*)\)| ([0-9][^ ,;)]*))?"
)


def _words(*, section: str, key: str) -> tuple[Any, ...]:
    return typing.get_args(type(getattr(AnalysisParams(), section)).model_fields[key].annotation)


def _shown_default_matches(*, default: Any, shown: str) -> bool:
    pair = re.match(r"^([0-9.]+)\s*[-,]\s*([0-9.]+)", shown)
    if isinstance(default, tuple) and pair:
        return [float(pair.group(1)), float(pair.group(2))] == list(default)
    number = re.match(r"^[0-9.]+", shown)
    if isinstance(default, (int, float)) and not isinstance(default, bool) and number:
        return float(number.group(0)) == default
    word = re.match(r"^[a-z_.]+", shown)
    return bool(word) and word.group(0) == json.dumps(default).strip('"')


def _documented(*, text: str) -> Iterator[tuple[str, str, str | None, str | None]]:
    """(section, key, word, shown default) of every parameter the hand-written docs name.

    Dotted names anywhere (other dotted names are functions or files); bare names in the parameter
    column of the steps table, in the section of their row (named in its first column or by the
    last dotted name).
    """
    fields = {section: type(getattr(AnalysisParams(), section)).model_fields for section in SECTIONS}
    for match in _TOKEN.finditer(text):
        name, word, in_parentheses, after = match.groups()
        head, _, key = name.partition(".")
        if head in SECTIONS and key in fields[head]:  # not `bouts.state_summary` (a function), `group.json`
            yield head, key, word, in_parentheses or after
    table = text.split("## Steps and parameters")[1].split("**Sign convention**")[0]
    section = None
    for line in table.splitlines():
        if not line.startswith("| ") or line.startswith("| step"):
            continue
        cells = line.strip().strip("|").split(" | ")
        named = re.search(r"\(`([a-z_]+)`\)", cells[0])
        section = named.group(1) if named and named.group(1) in SECTIONS else section
        for match in _TOKEN.finditer(cells[-1]):
            name, word, in_parentheses, after = match.groups()
            head, _, key = name.partition(".")
            if key:
                section = head if head in SECTIONS else section
                continue
            assert section is not None, line
            if name in fields[section]:
                yield section, name, word, in_parentheses or after
            else:
                assert any(name in _words(section=section, key=k) for k in fields[section]), (
                    f"docs/analysis.md names `{name}` in the {section} row: no such key or word"
                )


def test_docs_name_only_real_parameters_with_their_defaults() -> None:
    text = (REPOSITORY / "docs" / "analysis.md").read_text()
    before, rest = text.split("<!-- parameter reference")
    text = before + rest.split("<!-- end of the generated parameter reference -->")[1]
    parameters = checked_defaults = 0
    for section, key, word, shown in _documented(text=text):
        default = getattr(getattr(AnalysisParams(), section), key)
        parameters += 1
        if word is not None:
            assert word in _words(section=section, key=key), f"{section}.{key}: {word}"
        if shown and shown.startswith("default"):
            shown = shown.removeprefix("default").strip(" `") or word
        if shown and not isinstance(default, dict) and not (isinstance(default, tuple) and isinstance(default[0], str)):
            assert _shown_default_matches(default=default, shown=shown), f"{section}.{key}: docs say {shown!r}"
            checked_defaults += 1
    assert parameters >= 40 and checked_defaults >= 20, (parameters, checked_defaults)


def test_cli_prints_the_params_and_metrics_schemas() -> None:
    from click.testing import CliRunner

    from ndx_glymphatic.analysis.metrics import metrics_schema
    from ndx_glymphatic.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["schema", "params"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == params_schema()
    result = runner.invoke(main, ["schema", "metrics"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == metrics_schema()
    refused = runner.invoke(main, ["schema", "params", "--example"])
    assert refused.exit_code == 2 and "session file only" in refused.output
