"""ClockAlignment: where the clock-alignment record lives in a file, and how to read it back."""

from pynwb.testing.mock.file import mock_NWBFile

from ndx_glymphatic import ClockAlignment
from ndx_glymphatic.testing.mock import mock_ClockAlignmentTable

nwbfile = mock_NWBFile()
nwbfile.add_lab_meta_data(ClockAlignment(clock_alignment_table=mock_ClockAlignmentTable()))

alignment = nwbfile.lab_meta_data["clock_alignment"].clock_alignment_table.to_dataframe()
for row in alignment.itertuples():
    drift_ppm = (row.slope - 1.0) * 1e6
    rms_in_ms = row.residual_rms_in_s * 1e3
    print(f"{row.secondary_system} -> {row.primary_system}: {row.number_of_matched_pulses} pulses, "
          f"drift {drift_ppm:.0f} ppm, offset {row.offset_in_s:.3f} s, residual RMS {rms_in_ms:.2f} ms")
assert alignment.residual_rms_in_s.iloc[0] < 1e-3
