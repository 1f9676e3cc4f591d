"""Imported first by the template Dask workers are forked from: pauses the cyclic garbage collector.

The template's imports (pynwb, the NWB namespaces, scipy, the plotting library) create about 450 000
objects; with the collector running, its full passes over that growing heap take about a sixth of the
imports' time, and the template's imports come before every worker's first task. What the paused collector
leaves is frozen, and the collector resumed, by :mod:`ndx_glymphatic.template_imports_done`, imported last.
See :func:`ndx_glymphatic.batch.prepare_local_workers`.
"""

import gc

gc.disable()
