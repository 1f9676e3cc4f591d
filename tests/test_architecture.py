"""The parts import one another in one direction only: nwb_ext <- converters <- validators <- analysis.

The simulator and the command line sit on top and may use every part. Imports inside functions count
too: a lazy import of a higher part is still a dependency that runs the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]

#: Folder -> (import package, layer); a part may import only parts of its own layer or below.
PARTS = {
    "nwb_ext": ("ndx_glymphatic", 0),
    "converters": ("ndx_glymphatic.converters", 1),
    "validators": ("ndx_glymphatic.validators", 2),
    "analysis": ("ndx_glymphatic.analysis", 3),
    "simulation": ("ndx_glymphatic.simulation", 4),
}
#: Modules of the package root that sit on top of every part.
TOP_MODULES = {"ndx_glymphatic.cli", "ndx_glymphatic.__main__"}


def _layer_of(module: str) -> int:
    """The layer of an ``ndx_glymphatic`` module (the longest matching part wins)."""
    if module in TOP_MODULES:
        return len(PARTS)
    best = ("", 0)
    for package, layer in PARTS.values():
        if (module == package or module.startswith(package + ".")) and len(package) > len(best[0]):
            best = (package, layer)
    return best[1]


def _module_name(*, path: Path) -> str:
    folder = path.relative_to(REPOSITORY).parts[0]
    package = PARTS[folder][0]
    inner = path.relative_to(REPOSITORY / folder).with_suffix("").parts
    if inner[-1] == "__init__":
        inner = inner[:-1]
    return ".".join((package, *inner))


def _imports(*, path: Path, module: str) -> set[str]:
    """Every ``ndx_glymphatic`` module that ``path`` imports, at module level or inside functions."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from ndx_glymphatic import converters` names a part, not a class of the root package
            found |= {f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in _PACKAGES}
    return {name for name in found if name == "ndx_glymphatic" or name.startswith("ndx_glymphatic.")}


_PACKAGES = {package for package, _ in PARTS.values()}
SOURCES = sorted(path for folder in PARTS for path in (REPOSITORY / folder).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(REPOSITORY)))
def test_imports_run_down_the_layers(path: Path) -> None:
    module = _module_name(path=path)
    upward = sorted(name for name in _imports(path=path, module=module) if _layer_of(name) > _layer_of(module))
    assert not upward, f"{module} (layer {_layer_of(module)}) imports higher parts: {upward}"


def test_the_layer_map_knows_every_part() -> None:
    assert _layer_of("ndx_glymphatic.builder") == 0
    assert _layer_of("ndx_glymphatic.testing.mock") == 0
    assert _layer_of("ndx_glymphatic.converters.plan") == 1
    assert _layer_of("ndx_glymphatic.analysis.steps") == 3
    assert _layer_of("ndx_glymphatic.simulation.rig_files.tdt") == 4
    assert _layer_of("ndx_glymphatic.cli") == len(PARTS)
    # the check itself can fail: an analysis import from a converter is upward
    assert _layer_of("ndx_glymphatic.analysis") > _layer_of("ndx_glymphatic.converters.tdt")
