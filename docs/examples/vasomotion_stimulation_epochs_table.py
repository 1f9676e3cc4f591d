"""VasomotionStimulationEpochsTable: smooth-muscle optogenetics modulated at 0.03 Hz."""

from ndx_ophys_devices.testing import mock_Effector, mock_ExcitationSource, mock_OpticalFiber
from ndx_optogenetics import OptogeneticSitesTable

from ndx_glymphatic import VasomotionStimulationEpochsTable

sites = OptogeneticSitesTable(description="Stimulation sites.")
sites.add_row(excitation_source=mock_ExcitationSource(), optical_fiber=mock_OpticalFiber(), effector=mock_Effector())
epochs = VasomotionStimulationEpochsTable(
    description="Arterial smooth-muscle stimulation imposing slow vasomotion.",
    target_tables={"optogenetic_sites": sites},
)
epochs.add_row(
    start_time=450.0,
    stop_time=650.0,
    stimulation_on=True,
    pulse_length_in_ms=16_666.7,  # half of the 33.3 s modulation period: square wave
    period_in_ms=33_333.3,
    number_pulses_per_pulse_train=6,
    number_trains=1,
    intertrain_interval_in_ms=0.0,
    power_in_mW=5.0,
    wavelength_in_nm=473.0,
    optogenetic_sites=[0],
    stimulation_method="optogenetic",
    target="arterial smooth muscle",
    modulation_frequency_in_Hz=0.03,
    modulation_waveform="square",
)
assert epochs.name == "vasomotion_stimulation"
