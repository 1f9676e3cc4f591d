"""Imported last by the template Dask workers are forked from: freezes what the imports made, resumes the collector.

Frozen objects (everything the template holds, :func:`gc.freeze`) are left out of the collector's passes in
the workers forked from it. Without that, every full pass of a worker walks the template's 450 000 objects
(about 0.3 s each on this project's 2-core CI machine, several per one-hour session) and writes to each of
them, copying the pages the workers share with the template. The multiprocessing fork server skips a module
that fails to import and goes on, so this one runs even when one before it failed.
"""

import gc

gc.freeze()
gc.enable()
