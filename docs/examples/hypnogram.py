"""Hypnogram: manual scoring with a micro-arousal splitting a NREM bout."""

from pynwb.testing.mock.file import mock_NWBFile

from ndx_glymphatic import Hypnogram

nwbfile = mock_NWBFile()
hypnogram = Hypnogram(description="Manual scoring from EEG/EMG.", scoring_method="manual", scorer="A. Scorer")
for start, stop, state in ((0, 120, "wake"), (120, 400, "NREM"), (400, 410, "micro-arousal"), (410, 700, "NREM"),
                           (700, 790, "REM"), (790, 900, "wake")):
    hypnogram.add_row(start_time=float(start), stop_time=float(stop), sleep_state=state)
nwbfile.add_time_intervals(hypnogram)
table = nwbfile.intervals["sleep_states"].to_dataframe()
assert (table.sleep_state == "micro-arousal").sum() == 1
