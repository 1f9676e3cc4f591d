"""Validation of ndx-glymphatic NWB files and session files (``glymph validate``).

Importing this package registers our domain checks into nwbinspector, so they also run as
``nwbinspector FILE --modules ndx_glymphatic.validators``. The public API:

- :func:`validate_file` (``path``, ``profile``, ``readiness_checks``) -> :class:`ValidationReport`
- :func:`validate_paths` (``paths``, ``profile``, ``progress``, ``readiness_checks``) -> list of
  :class:`ValidationReport`
- the check contract, for the checks of other parts (the analysis package's readiness checks):
  :func:`unregistered_check` (nwbinspector's ``register_check`` without joining its registry) and
  :func:`finding` (a message with its fix); :data:`CheckFunction`

See docs/validation.md for the layers, the checks and the JSON report schema.
"""

from ndx_glymphatic.validators import (  # noqa: F401  (importing registers the checks)
    checks_clock,
    checks_data_integrity,
    checks_drugs,
    checks_electrophysiology,
    checks_infusions,
    checks_photometry,
    checks_security,
    checks_sleep_states,
    checks_stimulation,
)
from ndx_glymphatic.validators._check_tools import DOMAIN_CHECKS, CheckFunction, finding, unregistered_check
from ndx_glymphatic.validators.api import PROFILE_LAYERS, PROFILES, validate_file, validate_paths
from ndx_glymphatic.validators.report import ValidationMessage, ValidationReport

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
