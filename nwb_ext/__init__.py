"""ndx-glymphatic: NWB extension and toolkit for sleep / glymphatic photometry experiments."""

__version__ = "0.1.0"
