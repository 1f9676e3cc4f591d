"""Testing helpers for ndx-glymphatic: mock factories in :mod:`ndx_glymphatic.testing.mock`."""
