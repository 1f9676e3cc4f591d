"""DrugAdministrationsTable and ExperimentalCondition: zolpidem i.p., and the session's condition."""

from pynwb.testing.mock.file import mock_NWBFile

from ndx_glymphatic import DrugAdministrationsTable, ExperimentalCondition

nwbfile = mock_NWBFile()
drugs = DrugAdministrationsTable(description="Drug injections.")
drugs.add_row(start_time=300.0, stop_time=305.0, drug="zolpidem", dose=10.0, dose_unit="mg/kg", route="i.p.",
              vehicle="saline with 1 % DMSO")
nwbfile.add_time_intervals(drugs)
nwbfile.add_lab_meta_data(
    ExperimentalCondition(condition="zolpidem", is_control=False, description="Zolpidem 10 mg/kg i.p.")
)
assert nwbfile.lab_meta_data["experimental_condition"].condition == "zolpidem"
