"""ndx-glymphatic: NWB extension and toolkit for sleep / glymphatic photometry experiments.

Importing this package loads the ``ndx-glymphatic`` namespace (and the namespaces it builds on:
ndx-ophys-devices, ndx-fiber-photometry, ndx-optogenetics) and exposes its types.
"""

from importlib.resources import files

# The namespaces ours includes must be loaded first, or load_namespaces fails with
# "Could not load namespace".
import ndx_fiber_photometry  # noqa: F401
import ndx_ophys_devices  # noqa: F401
import ndx_optogenetics  # noqa: F401
from pynwb import get_class, load_namespaces

__version__ = "0.1.0"

NAMESPACE_NAME = "ndx-glymphatic"
NAMESPACE_PATH = str(files(__name__) / "spec" / "ndx-glymphatic.namespace.yaml")

load_namespaces(NAMESPACE_PATH)

FluorescentTracer = get_class("FluorescentTracer", NAMESPACE_NAME)
FiberPhotometryChannelsTable = get_class("FiberPhotometryChannelsTable", NAMESPACE_NAME)
TracerInfusionsTable = get_class("TracerInfusionsTable", NAMESPACE_NAME)
VasomotionStimulationEpochsTable = get_class("VasomotionStimulationEpochsTable", NAMESPACE_NAME)
DrugAdministrationsTable = get_class("DrugAdministrationsTable", NAMESPACE_NAME)
ExperimentalCondition = get_class("ExperimentalCondition", NAMESPACE_NAME)
Hypnogram = get_class("Hypnogram", NAMESPACE_NAME)
ClockAlignmentTable = get_class("ClockAlignmentTable", NAMESPACE_NAME)
ClockAlignment = get_class("ClockAlignment", NAMESPACE_NAME)

__all__ = [
    "NAMESPACE_NAME",
    "NAMESPACE_PATH",
    "ClockAlignment",
    "ClockAlignmentTable",
    "DrugAdministrationsTable",
    "ExperimentalCondition",
    "FiberPhotometryChannelsTable",
    "FluorescentTracer",
    "Hypnogram",
    "TracerInfusionsTable",
    "VasomotionStimulationEpochsTable",
    "__version__",
]

del files, get_class, load_namespaces
