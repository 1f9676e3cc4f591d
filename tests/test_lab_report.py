"""Report blemishes fixed: no "nan s" in figure titles, metrics_schema.json written beside metrics.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema

from ndx_glymphatic.analysis.metrics import metrics_schema
from ndx_glymphatic.analysis.page import format_number
from ndx_glymphatic.analysis.pipeline import write_metrics_files
from ndx_glymphatic.analysis.report import seconds_or_why


def test_durations_that_were_not_computed_say_why() -> None:
    assert seconds_or_why(value_in_s=123.4, why="x") == "123 s"
    for missing in (math.nan, None, math.inf):
        text = seconds_or_why(value_in_s=missing, why="the tracer did not fall to half its peak")
        assert text == "not computed: the tracer did not fall to half its peak" and "nan" not in text


def test_metrics_schema_is_written_beside_metrics_json(tmp_path: Path) -> None:
    metrics_path, schema_path = write_metrics_files(folder=tmp_path, document={"any": "content"})
    assert metrics_path.parent == schema_path.parent == tmp_path
    assert schema_path.name == "metrics_schema.json"  # the name the report's footer links to
    schema = json.loads(schema_path.read_text())
    assert schema == metrics_schema()
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert json.loads(metrics_path.read_text()) == {"any": "content"}


def test_numbers_of_one_column_share_a_notation() -> None:
    column = [format_number(value=value) for value in (977.0, 8234.5, 12.345, 0.0213)]
    assert column == ["977", "8234", "12.3", "0.0213"]
    assert not any("e" in text for text in column)
    assert format_number(value=2.5e-9) == "2.5e-09" and format_number(value=0.0) == "0"
