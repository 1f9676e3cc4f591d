"""Every domain check of ndx-glymphatic; importing this module registers them into nwbinspector.

``nwbinspector FILE --modules ndx_glymphatic.validators.checks`` runs them inside plain nwbinspector.
:data:`DOMAIN_CHECKS` maps each check's name to the function nwbinspector runs.
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
    checks_stored_objects,
)
from ndx_glymphatic.validators._check_tools import DOMAIN_CHECKS

__all__ = ["DOMAIN_CHECKS"]
