"""ClockAlignmentTable: one row per secondary acquisition system (see also ClockAlignment)."""

import numpy as np

from ndx_glymphatic import ClockAlignmentTable

secondary = np.arange(10) * 30.0
primary = 1.00005 * secondary + 2.5
table = ClockAlignmentTable(description="TTL-based clock alignment.")
table.add_row(
    secondary_system="Pinnacle Sirenia EEG/EMG",
    primary_system="TDT RZ10x photometry",
    primary_ttl_channel="PtC0",
    secondary_ttl_channel="TTL: Rise",
    number_of_matched_pulses=10,
    slope=1.00005,
    offset_in_s=2.5,
    residual_rms_in_s=0.0,
    max_abs_residual_in_s=0.0,
    matched_primary_times_in_s=primary.tolist(),
    matched_secondary_times_in_s=secondary.tolist(),
)
assert table["slope"][0] == 1.00005  # store it in a ClockAlignment: see ClockAlignment.md
