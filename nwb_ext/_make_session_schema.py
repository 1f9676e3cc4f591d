"""Write ``session_schema.json`` and ``docs/session-file.md``, both generated from the session models.

Run ``python nwb_ext/_make_session_schema.py`` after changing :mod:`ndx_glymphatic.session` or
``session_example.yaml``; both outputs are committed and ``tests/test_session_schema.py`` checks that
they are up to date. The JSON copy is the document the schema's ``$id`` names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ndx_glymphatic.session import session_example_text, session_schema, session_schema_text

__all__ = ["render_markdown"]

SCHEMA_PATH = Path(__file__).resolve().parent / "session_schema.json"
DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "session-file.md"

_INTRODUCTION = """\
```
glymph convert session.yaml -o sub-m12_ses-01.nwb       # convert (never replaces a file without --overwrite)
glymph convert session.yaml -o x.nwb --check-only       # only check the session file
glymph schema session                                   # print the JSON Schema
```

From Python: `ndx_glymphatic.converters.convert.convert_session(session_path=..., output_path=...)`,
`ndx_glymphatic.session.validate_session_file(path=...)` (a list of messages, empty when valid)
and `load_session(path=...)` (a typed `SessionConfig`; `SessionConfig.to_document()` gives the file's content back).

The file is checked before any rig data is read, and every problem is reported at once, each as
`<field path>: expected <what>, got <found>`, for example:

```
photometry.channels[2].excitation_wavelength_in_nm: expected a number, got "465nm"
photometry.channels[0].control_channel: expected the name of another photometry channel whose channel_role \
is a control ('ne_405nm'), got "ne_415nm" (did you mean 'ne_405nm'?)
session.session_start_time: expected an ISO 8601 date and time with a time zone such as \
"2025-03-14T09:00:00+01:00", got "2025-03-14T09:00:00"
subject.agee: expected no such field, got an unknown field (did you mean 'age'?)
```

Then the rig files are opened (headers only) and checked against the session file: a stream or event
channel it names that the rig file lacks, sampling rates that differ within the EEG or EMG series, TTL
pulses that do not match between the two clocks, a hypnogram or an epoch outside the recording, a
truncated or missing data file -- each stops the conversion with one message naming the file, the
field, what was expected and what was found. No output file is left behind.

## Times and clocks

All times are seconds from `session.session_start_time`, the start of the photometry recording (its
clock is the primary clock). EEG/EMG from another system (a different `file`) have their own clock:
the sync TTL recorded by both systems is matched (`electrophysiology.clock_alignment`), the fit
`t_photometry = slope * t_eeg + offset` is stored in `lab_meta_data/clock_alignment`, and the EEG/EMG
series get `starting_time = offset` (plus slope times the EEG's own start) and `rate = rate_eeg / slope`;
their samples are not resampled. The hypnogram's times are on the EEG clock by default when the EEG has
its own clock (it is scored on the EEG) and are mapped the same way.
"""


def _definition_name(node: dict[str, Any]) -> str | None:
    return node["$ref"].rsplit("/", 1)[-1] if "$ref" in node else None


def _sections(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Definition name -> the field paths where it is used, in document order (depth first)."""
    found: dict[str, list[str]] = {}

    def visit(node: dict[str, Any], path: str) -> None:
        for key, child in node.get("properties", {}).items():
            child_path = f"{path}.{key}" if path else key
            if child.get("type") == "array":
                child, child_path = child.get("items", {}), child_path + "[]"
            name = _definition_name(child)
            if name is None:
                continue
            first = name not in found
            found.setdefault(name, []).append(child_path)
            if first:
                visit(schema["$defs"][name], child_path)

    visit(schema, "")
    return found


def _anchor(heading: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def _type_text(node: dict[str, Any], links: dict[str, str]) -> str:
    name = _definition_name(node)
    if name is not None:
        return f"[{name}](#{_anchor(links[name])})"
    if "enum" in node:
        return "one of " + ", ".join(f"`{value}`" for value in node["enum"])
    kind = node.get("type", "")
    if kind == "array":
        at_least = f" (at least {node['minItems']})" if node.get("minItems") else ""
        return f"list of {_type_text(node['items'], links)}{at_least}"
    if kind == "object":
        return f"mapping of text to {_type_text(node['additionalProperties'], links)}"
    if isinstance(kind, list):
        return " or ".join({"string": "text"}.get(k, k) for k in kind)
    limits = []
    if "exclusiveMinimum" in node:
        limits.append(f"> {node['exclusiveMinimum']}")
    if "minimum" in node:
        limits.append(f">= {node['minimum']}")
    if "x-expected" in node:
        limits.append(node["x-expected"].removeprefix("an ").removeprefix("a "))
    words = {"number": "number", "integer": "integer", "string": "text", "boolean": "true/false"}.get(kind, kind)
    return words + (f" ({', '.join(limits)})" if limits else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(node: dict[str, Any], links: dict[str, str], definitions: dict[str, Any]) -> list[str]:
    required = set(node.get("required", []))
    rows = ["| field | type | required | default | description |", "|---|---|---|---|---|"]
    for key, child in node.get("properties", {}).items():
        default = f"`{json.dumps(child['default'])}`" if "default" in child else ""
        # pydantic leaves out a field description that repeats its model's
        description = child.get("description") or definitions.get(_definition_name(child), {}).get("description", "")
        if child.get("examples"):
            description += " Example: " + ", ".join(f"`{json.dumps(e, ensure_ascii=False)}`" for e in child["examples"])
        rows.append(f"| `{key}` | {_cell(_type_text(child, links))} | {'yes' if key in required else ''} | "
                    f"{_cell(default)} | {_cell(description)} |")
    return rows


def _rules(node: dict[str, Any]) -> list[str]:
    lines = []
    for trigger, needed in node.get("dependentRequired", {}).items():
        lines.append(f"With `{trigger}`, also {', '.join(f'`{n}`' for n in needed)}.")
    for keyword, words in (("oneOf", "Exactly one of"), ("anyOf", "At least one of")):
        if keyword in node:
            options = " or ".join("`" + " + ".join(option["required"]) + "`" for option in node[keyword])
            lines.append(f"{words} {options}.")
    return ["", *lines] if lines else []


def render_markdown(*, schema: dict[str, Any], example: str) -> str:
    """``docs/session-file.md``: usage, the annotated example and one field table per part of the file."""
    sections = _sections(schema)
    links = {name: paths[0] for name, paths in sections.items()}
    lines = [
        "# The session file",
        "",
        "<!-- Generated by nwb_ext/_make_session_schema.py from the models in nwb_ext/session.py and",
        "     nwb_ext/session_example.yaml; edit those, then run the script. -->",
        "",
        schema["description"],
        "",
        _INTRODUCTION,
        "## Annotated example",
        "",
        "```yaml",
        example.rstrip(),
        "```",
        "",
        "## Sections",
        "",
        *_table(schema, links, schema["$defs"]),
        *_rules(schema),
    ]
    for name, paths in sections.items():
        node = schema["$defs"][name]
        used = f"`{name}`" + ("; also at " + ", ".join(f"`{p}`" for p in paths[1:]) if paths[1:] else "") + "."
        lines += ["", f"### {paths[0]}", "", node.get("description", ""), "", used, ""]
        lines += [*_table(node, links, schema["$defs"]), *_rules(node)]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    """Write the JSON Schema beside this script and render docs/session-file.md."""
    SCHEMA_PATH.write_text(session_schema_text())
    print(f"wrote {SCHEMA_PATH}")
    DOCS_PATH.write_text(render_markdown(schema=session_schema(), example=session_example_text()))
    print(f"wrote {DOCS_PATH}")


if __name__ == "__main__":
    main()
