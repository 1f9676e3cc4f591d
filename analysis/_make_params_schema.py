"""Generate ``params_schema.json`` from the parameter dataclasses.

Run ``python -m ndx_glymphatic.analysis._make_params_schema`` after changing ``params.py``; the
committed schema must equal this module's output (a test checks it). Descriptions come from the
dataclass docstrings, types from the defaults, allowed words and ranges from the tables below.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from ndx_glymphatic.analysis import params as p

__all__ = ["build_params_schema"]

_ENUMS: dict[tuple[str, str], list[str]] = {
    ("preprocessing", "control_fit"): ["ols", "irls"],
    ("preprocessing", "robust_norm"): ["huber", "bisquare"],
    ("preprocessing", "fit_on"): ["decimated", "full_rate"],
    ("preprocessing", "without_control"): ["baseline_median", "refuse"],
    ("preprocessing", "bleaching_correction"): ["exponential", "moving_average", "none"],
    ("coupling", "extremum_search"): ["half_period", "full"],
}
_POSITIVE_INTEGERS = {
    "decimation_factor",
    "smoothing_window_samples",
    "chunk_samples",
    "n_bootstrap",
    "highpass_order",
    "spindle_filter_order",
}
_NON_NEGATIVE_NUMBERS = {
    "eeg_threshold",
    "min_shift_in_s",
    "baseline_in_s",
    "max_gap_in_s",
    "contiguity_tolerance_in_s",
}
_BAND_NAMES = ["delta", "theta", "sigma", "beta"]


def _pair() -> dict[str, Any]:
    return {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 2, "maxItems": 2}


def _property(*, section: str, name: str, default: Any, description: str) -> dict[str, Any]:
    if (section, name) in _ENUMS:
        return {"enum": _ENUMS[(section, name)], "description": description}
    if isinstance(default, bool):
        return {"type": "boolean", "description": description}
    if isinstance(default, int):
        minimum = 1 if name in _POSITIVE_INTEGERS else 0
        return {"type": "integer", "minimum": minimum, "description": description}
    if isinstance(default, float):
        if name.endswith("_percent") or name.endswith("percentile"):
            return {"type": "number", "minimum": 0, "maximum": 100, "description": description}
        if name in ("confidence", "efflux_fraction"):
            return {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1,
                    "description": description}
        if name == "welch_overlap":
            return {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "description": description}
        if name in _NON_NEGATIVE_NUMBERS:
            return {"type": "number", "minimum": 0, "description": description}
        return {"type": "number", "exclusiveMinimum": 0, "description": description}
    if isinstance(default, str):
        return {"type": "string", "minLength": 1, "description": description}
    if isinstance(default, tuple):
        if name == "predictors":
            return {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": description}
        return {**_pair(), "description": description}
    if isinstance(default, dict) and name == "extremum":
        return {
            "type": "object",
            "propertyNames": {"enum": list(default)},
            "additionalProperties": {"enum": ["min", "max", "abs"]},
            "description": description,
        }
    if isinstance(default, dict):
        return {
            "type": "object",
            "propertyNames": {"enum": _BAND_NAMES},
            "additionalProperties": _pair(),
            "description": description,
        }
    raise TypeError(f"no schema rule for {section}.{name} = {default!r}")


def _attribute_docs(*, cls: type) -> dict[str, str]:
    docs: dict[str, str] = {}
    pattern = r"^    (\w+(?:, \w+)?) : [^\n]+\n((?:        [^\n]+\n)+)"
    for match in re.finditer(pattern, cls.__doc__ or "", re.MULTILINE):
        text = " ".join(line.strip() for line in match.group(2).splitlines())
        for name in match.group(1).split(", "):
            docs[name] = text
    return docs


def build_params_schema() -> dict[str, Any]:
    """Build the params JSON Schema from :mod:`ndx_glymphatic.analysis.params`.

    Returns
    -------
    dict
        The schema (JSON Schema draft 2020-12).
    """
    properties: dict[str, Any] = {
        "preset": {
            "enum": list(p.PRESETS),
            "description": "Start from a published lab's choices (docs/analysis.md); explicit keys win.",
        }
    }
    for section in dataclasses.fields(p.AnalysisParams):
        cls = p._SECTION_TYPES[section.name]
        instance = cls()
        docs = _attribute_docs(cls=cls)
        section_properties = {
            attribute.name: _property(
                section=section.name,
                name=attribute.name,
                default=getattr(instance, attribute.name),
                description=docs.get(attribute.name, ""),
            )
            for attribute in dataclasses.fields(cls)
        }
        properties[section.name] = {
            "type": "object",
            "additionalProperties": False,
            "description": (cls.__doc__ or "").strip().splitlines()[0],
            "properties": section_properties,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/ndx-glymphatic/ndx-glymphatic/analysis/params_schema.json",
        "title": "ndx-glymphatic analysis parameters",
        "description": "Overrides of the published defaults for glymph analyze / analyze-group. "
        "Every key is optional.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }


if __name__ == "__main__":
    target = Path(__file__).with_name("params_schema.json")
    target.write_text(json.dumps(build_params_schema(), indent=2) + "\n")
    print(f"wrote {target}")
