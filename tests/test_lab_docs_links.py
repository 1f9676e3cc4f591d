"""Every ``docs/<page>.md#<anchor>`` that code or docs point to exists, down to the heading.

Error hints send users to documentation pages; a hint naming a page or section that is not there
is a dead end. Anchors are GitHub's: the heading in lower case, punctuation dropped, spaces as '-'.
"""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
PARTS = ("nwb_ext", "converters", "validators", "analysis", "simulation", "docs")
_POINTER = re.compile(r"(?<![\w/])docs/([A-Za-z0-9_/.-]+\.md)(?:#([A-Za-z0-9_-]+))?")


def _anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    headings = [line.lstrip("#").strip() for line in page.read_text().splitlines() if re.match(r"^#{1,6} ", line)]
    return {_anchor(heading) for heading in headings}


def _pointers() -> set[tuple[str, str | None, str]]:
    found = set()
    for part in PARTS:
        for path in (REPOSITORY / part).rglob("*"):
            if path.suffix in (".py", ".md", ".yaml") and path.is_file():
                for match in _POINTER.finditer(path.read_text(errors="replace")):
                    found.add((match.group(1), match.group(2), str(path.relative_to(REPOSITORY))))
    found |= {(m.group(1), m.group(2), "README.md") for m in _POINTER.finditer((REPOSITORY / "README.md").read_text())}
    return found


def test_anchor_rule_matches_github() -> None:
    assert _anchor("Rig formats") == "rig-formats"
    assert _anchor("TDT Synapse blocks (`format: tdt`)") == "tdt-synapse-blocks-format-tdt"


def test_every_docs_pointer_names_an_existing_page_and_heading() -> None:
    pointers = _pointers()
    assert any(anchor == "rig-formats" for _, anchor, _ in pointers)  # the suite sees the hints it guards
    dead = []
    for page, anchor, source in sorted(pointers, key=str):
        target = REPOSITORY / "docs" / page
        if not target.is_file():
            dead.append(f"{source}: docs/{page} does not exist")
        elif anchor is not None and anchor not in _anchors(target):
            dead.append(f"{source}: docs/{page}#{anchor} names no heading")
    assert not dead, "\n".join(dead)
