"""FiberPhotometryChannelsTable: what each photometry channel measures and which row is its control."""

from ndx_ophys_devices.testing import mock_ExcitationSource, mock_Indicator, mock_OpticalFiber, mock_Photodetector

from ndx_glymphatic import FiberPhotometryChannelsTable

grab_ne = mock_Indicator(name="GRAB_NE2m", label="GRAB_NE2m", description="Norepinephrine sensor.")
fiber, detector = mock_OpticalFiber(), mock_Photodetector()
channels = FiberPhotometryChannelsTable(name="fiber_photometry_table", description="Photometry channels.")
for wavelength, role, control, store in ((465.0, "signal", 1, "_465A"), (405.0, "isosbestic control", -1, "_405A")):
    channels.add_row(
        location="somatosensory cortex",
        excitation_wavelength_in_nm=wavelength,
        emission_wavelength_in_nm=525.0,
        indicator=grab_ne,
        optical_fiber=fiber,
        excitation_source=mock_ExcitationSource(),
        photodetector=detector,
        measured_quantity="norepinephrine",
        channel_role=role,
        control_channel=control,  # row 0's control is row 1
        stream_name=store,
    )
assert channels["control_channel"][0] == 1
