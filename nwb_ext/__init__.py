"""ndx-glymphatic: NWB extension and toolkit for sleep / glymphatic photometry experiments.

``import ndx_glymphatic`` alone is light: it imports neither pynwb nor the extensions ours builds on,
so that ``glymph --help`` starts at once. The extension's types (``ndx_glymphatic.Hypnogram``, ...)
are created the first time one of them is used; that loads the ``ndx-glymphatic`` namespace into
pynwb, after the namespaces it builds on (ndx-ophys-devices, ndx-fiber-photometry, ndx-optogenetics).
Every module of the package that works with NWB objects (``ndx_glymphatic.access``, ``.testing``,
``.converters``, ``.validators``, ``.analysis``, ``.simulation``) imports the types, so importing it
loads the namespace too.

To read a file with plain pynwb and get these classes back, load the namespace before opening the
file: use a type, import one of those modules, or call :func:`load_namespace`::

    import ndx_glymphatic
    from ndx_glymphatic.access import get_hypnogram   # loads the namespace
    from pynwb import NWBHDF5IO

    with NWBHDF5IO("session.nwb", "r") as io:
        hypnogram = get_hypnogram(io.read())           # an ndx_glymphatic.Hypnogram

A file opened before the namespace is loaded is read from the namespaces cached in it: pynwb then
builds classes of its own, which are not ``ndx_glymphatic.Hypnogram`` and its siblings.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

__version__ = "0.1.0"

NAMESPACE_NAME = "ndx-glymphatic"
NAMESPACE_PATH = str(Path(__file__).resolve().parent / "spec" / "ndx-glymphatic.namespace.yaml")

#: The types the ``ndx-glymphatic`` namespace defines, available as attributes of this package.
TYPE_NAMES: tuple[str, ...] = (
    "ClockAlignment",
    "ClockAlignmentTable",
    "DrugAdministrationsTable",
    "ExperimentalCondition",
    "FiberPhotometryChannelsTable",
    "FluorescentTracer",
    "Hypnogram",
    "TracerInfusionsTable",
    "VasomotionStimulationEpochsTable",
)

__all__ = ["NAMESPACE_NAME", "NAMESPACE_PATH", "TYPE_NAMES", "__version__", "load_namespace", *TYPE_NAMES]

_types: dict[str, type] = {}
_load_lock = threading.Lock()


def load_namespace() -> None:
    """Load the ``ndx-glymphatic`` namespace into pynwb and create its types (once; later calls return at once).

    The namespaces ours includes are loaded first, by importing their packages: without them
    ``load_namespaces`` fails with "Could not load namespace".
    """
    with _load_lock:
        if _types:
            return
        import ndx_fiber_photometry  # noqa: F401
        import ndx_ophys_devices  # noqa: F401
        import ndx_optogenetics  # noqa: F401
        from pynwb import get_class, load_namespaces

        load_namespaces(NAMESPACE_PATH)
        _types.update({name: get_class(name, NAMESPACE_NAME) for name in TYPE_NAMES})


def __getattr__(name: str) -> Any:
    """The extension's types, created on first use (PEP 562)."""
    if name not in TYPE_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    load_namespace()
    return _types[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *TYPE_NAMES})
