"""TracerInfusionsTable: an intracisternal infusion of a CSF tracer (10 uL at 2 uL/min)."""

from pynwb.testing.mock.file import mock_NWBFile

from ndx_glymphatic import TracerInfusionsTable
from ndx_glymphatic.testing.mock import mock_FluorescentTracer

nwbfile = mock_NWBFile()
infusions = TracerInfusionsTable(description="Cisterna magna infusions of the CSF tracer.")
infusions.add_row(
    start_time=600.0,
    stop_time=900.0,
    tracer=mock_FluorescentTracer(),  # in a real file: the tracer in FiberPhotometry's indicators
    route="intracisternal",
    site="cisterna magna",
    volume_in_uL=10.0,
    rate_in_uL_per_min=2.0,
    concentration=0.5,
    concentration_unit="%",
)
nwbfile.add_time_intervals(infusions)
assert nwbfile.intervals["tracer_infusions"]["volume_in_uL"][0] == 10.0
