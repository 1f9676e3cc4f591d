"""Validation of ndx-glymphatic NWB files and session files (``glymph validate``).

The public API:

- :func:`validate_file` (``path``, ``profile``, ``readiness_checks``) -> :class:`ValidationReport`
- :func:`validate_paths` (``paths``, ``profile``, ``progress``, ``readiness_checks``) -> list of
  :class:`ValidationReport`
- the check contract, for the checks of other parts (the analysis package's readiness checks):
  :func:`unregistered_check` (nwbinspector's ``register_check`` without joining its registry) and
  :func:`finding` (a message with its fix); :data:`CheckFunction`

Our domain checks are registered into nwbinspector by importing :mod:`ndx_glymphatic.validators.checks`
(``validate_file`` does). ``nwbinspector FILE --modules ndx_glymphatic.validators`` runs them too:
nwbinspector imports the modules named by ``--modules`` after itself, and this package then registers
them. Otherwise importing the package is light (the names above are imported on first use), so that
``glymph --help`` does not pay for pynwb and nwbinspector.

See docs/validation.md for the layers, the checks and the JSON report schema.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__all__ = [
    "DOMAIN_CHECKS",
    "PROFILES",
    "PROFILE_LAYERS",
    "CheckFunction",
    "ValidationMessage",
    "ValidationReport",
    "finding",
    "unregistered_check",
    "validate_file",
    "validate_paths",
]

_WHERE = {
    "DOMAIN_CHECKS": "checks",
    "CheckFunction": "_check_tools",
    "finding": "_check_tools",
    "unregistered_check": "_check_tools",
    "PROFILES": "api",
    "PROFILE_LAYERS": "api",
    "validate_file": "api",
    "validate_paths": "api",
    "ValidationMessage": "report",
    "ValidationReport": "report",
}

if "nwbinspector" in sys.modules:
    importlib.import_module(f"{__name__}.checks")


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
