"""The rig-file formats of ``glymph simulate --format`` (found by ``ndx_glymphatic.simulation.writers``).

The writers live in :mod:`ndx_glymphatic.converters.rig_output`.
"""

from ndx_glymphatic.converters.rig_output import SESSION_WRITERS

__all__ = ["SESSION_WRITERS"]
