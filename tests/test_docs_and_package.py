"""Docs are generated from the spec and their examples run; the package installs as one import package."""

from __future__ import annotations

import importlib
import json
import os
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ndx_glymphatic

REPOSITORY = Path(__file__).resolve().parents[1]
DOCS = REPOSITORY / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))


def test_generated_schema_docs_are_up_to_date() -> None:
    generator = runpy.run_path(str(DOCS / "generate_schema_docs.py"))
    pages = generator["render"]()
    assert len(pages) == 10  # schema.md + one page per type
    for path, text in pages.items():
        assert path.read_text() == text, f"{path} is stale: run python docs/generate_schema_docs.py"


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_doc_example_runs(example: Path) -> None:
    runpy.run_path(str(example), run_name="__main__")


_BARE_ORIGINS = """
import importlib.util, json
print(json.dumps({name: getattr(importlib.util.find_spec(name), "origin", None)
                  for name in ("converters", "validators", "analysis", "nwb_ext")}))
"""


def test_parts_are_subpackages_of_one_import_package(tmp_path: Path) -> None:
    for part in ("converters", "validators", "analysis", "simulation", "testing"):
        module = importlib.import_module(f"ndx_glymphatic.{part}")
        assert module.__name__ == f"ndx_glymphatic.{part}"
    # The repository folders must never be importable bare (those names are other projects on PyPI). Asked
    # of the installation, in a fresh interpreter outside the repository: `python -m pytest` run from the
    # repository root puts the root itself on this process's path.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", _BARE_ORIGINS], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, check=True)
    for bare, origin in json.loads(result.stdout).items():
        assert origin is None or not str(origin).startswith(str(REPOSITORY)), (bare, origin)


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "ndx_glymphatic", "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "simulate" in result.stdout


def test_wheel_holds_one_package_with_its_spec(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPOSITORY)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("ndx_glymphatic-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_levels = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_levels == {"ndx_glymphatic"}
    for required in ("ndx_glymphatic/spec/ndx-glymphatic.namespace.yaml",
                     "ndx_glymphatic/spec/ndx-glymphatic.extensions.yaml",
                     "ndx_glymphatic/converters/__init__.py",
                     "ndx_glymphatic/validators/__init__.py",
                     "ndx_glymphatic/analysis/__init__.py",
                     "ndx_glymphatic/testing/mock.py"):
        assert required in names, required
    assert ndx_glymphatic.__version__ in wheel.name
