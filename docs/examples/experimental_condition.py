"""ExperimentalCondition: the vehicle session of a vehicle vs zolpidem crossover."""

from pynwb.testing.mock.file import mock_NWBFile

from ndx_glymphatic import ExperimentalCondition

nwbfile = mock_NWBFile()
nwbfile.add_lab_meta_data(
    ExperimentalCondition(condition="vehicle", is_control=True, description="Saline i.p., crossover control.")
)
condition = nwbfile.lab_meta_data["experimental_condition"]
assert condition.is_control
