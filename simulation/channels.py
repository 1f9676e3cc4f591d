"""Per-channel metadata of a simulated session, in one place.

The NWB writer and the rig-file writers (TDT, Doric, NPM, pyPhotometry) read channel names,
wavelengths, stream names, indicators, fibers and electrode locations from here, so every output
of one simulated session describes the same rig.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ELECTRODE_CHANNELS",
    "FIBERS",
    "INDICATORS",
    "PHOTOMETRY_CHANNELS",
    "ElectrodeChannelSpec",
    "FiberSpec",
    "IndicatorSpec",
    "PhotometryChannelSpec",
    "electrode_channels",
    "photometry_channel",
]


@dataclass(frozen=True)
class IndicatorSpec:
    """A fluorescent sensor or tracer seen by one or more photometry channels.

    Attributes
    ----------
    name : str
        NWB object name (``"GRAB_NE2m"``, ``"albumin_AF594"``, ``"ovalbumin_AF647"``).
    label : str
        Human label.
    description : str
        What it is and how it got into the brain or blood.
    is_tracer : bool
        True for a fluorescent tracer (NWB ``FluorescentTracer``), False for a genetically encoded
        sensor (NWB ``Indicator``).
    fluorophore, carrier_molecule, labeled_compartment : str
        Tracer fields (empty for sensors).
    molecular_weight_in_kDa, excitation_peak_in_nm, emission_peak_in_nm : float
        Tracer fields (0 for sensors).
    """

    name: str
    label: str
    description: str
    is_tracer: bool = False
    fluorophore: str = ""
    carrier_molecule: str = ""
    labeled_compartment: str = ""
    molecular_weight_in_kDa: float = 0.0
    excitation_peak_in_nm: float = 0.0
    emission_peak_in_nm: float = 0.0


@dataclass(frozen=True)
class FiberSpec:
    """An implanted optical fiber.

    Attributes
    ----------
    name : str
        NWB object name.
    location : str
        Brain area at the fiber tip.
    ap_in_mm, ml_in_mm, dv_in_mm : float
        Stereotaxic coordinates of the tip from bregma (DV from the brain surface, negative down).
        ``fiber_ne`` and ``fiber_flow`` carry photometry; ``fiber_lc`` delivers LC stimulation
        light, and ``fiber_flow`` also delivers the vasomotion stimulation light.
    hemisphere : str
        ``"left"`` or ``"right"``.
    """

    name: str
    location: str
    ap_in_mm: float
    ml_in_mm: float
    dv_in_mm: float
    hemisphere: str


@dataclass(frozen=True)
class PhotometryChannelSpec:
    """One simulated photometry channel (one FiberPhotometryChannelsTable row, one series).

    Attributes
    ----------
    name : str
        Series name in the NWB file (``"ne_465nm"``).
    stream_name : str
        Name of the stream in a rig file (TDT store ``"_465A"``).
    excitation_wavelength_in_nm, emission_wavelength_in_nm : float
        Light in and out.
    measured_quantity : str
        From ``ndx_glymphatic.vocabulary.MEASURED_QUANTITIES``.
    channel_role : str
        From ``ndx_glymphatic.vocabulary.CHANNEL_ROLES``.
    control_channel : str or None
        Name of this channel's control channel, None when it has none.
    indicator : str
        Key into :data:`INDICATORS`.
    fiber : str
        Key into :data:`FIBERS`.
    baseline_in_V : float
        Demodulated signal at the start of the session, before bleaching.
    noise_in_V : float
        Standard deviation of the white noise added per sample.
    bleach_fast_fraction, bleach_fast_time_constant_in_s, bleach_slow_fraction,
    bleach_slow_time_constant_in_s : float
        Photobleaching: ``b(t) = 1 - f1 (1 - exp(-t/tau1)) - f2 (1 - exp(-t/tau2))``.
    description : str
        One sentence for the NWB table and the series.
    """

    name: str
    stream_name: str
    excitation_wavelength_in_nm: float
    emission_wavelength_in_nm: float
    measured_quantity: str
    channel_role: str
    control_channel: str | None
    indicator: str
    fiber: str
    baseline_in_V: float
    noise_in_V: float
    bleach_fast_fraction: float
    bleach_fast_time_constant_in_s: float
    bleach_slow_fraction: float
    bleach_slow_time_constant_in_s: float
    description: str


@dataclass(frozen=True)
class ElectrodeChannelSpec:
    """One EEG or EMG electrode channel.

    Attributes
    ----------
    name : str
        Channel label (also the EDF label).
    series : str
        ``"EEG"`` or ``"EMG"`` (the ElectricalSeries it belongs to).
    location : str
        Location for the NWB electrodes table, an Allen Mouse Brain CCF term as nwbinspector asks
        (the CCF has no muscle, so EMG electrodes use ``"root"``).
    group : str
        Electrode group name.
    group_location : str
        Location in words for the electrode group (EMG: ``"neck muscle"``).
    description : str
        One sentence.
    """

    name: str
    series: str
    location: str
    group: str
    group_location: str
    description: str


INDICATORS: dict[str, IndicatorSpec] = {
    "GRAB_NE2m": IndicatorSpec(
        name="GRAB_NE2m",
        label="GRAB_NE2m",
        description="Genetically encoded norepinephrine sensor GRAB_NE2m expressed from AAV9-hSyn-GRAB_NE2m.",
    ),
    "albumin_AF594": IndicatorSpec(
        name="albumin_AF594",
        label="Alexa Fluor 594-albumin",
        description=(
            "Albumin conjugated to Alexa Fluor 594, injected intravenously before the recording; "
            "labels blood plasma so that its fluorescence tracks cerebral blood volume."
        ),
        is_tracer=True,
        fluorophore="Alexa Fluor 594",
        carrier_molecule="albumin",
        labeled_compartment="blood plasma",
        molecular_weight_in_kDa=66.5,
        excitation_peak_in_nm=590.0,
        emission_peak_in_nm=617.0,
    ),
    "ovalbumin_AF647": IndicatorSpec(
        name="ovalbumin_AF647",
        label="Alexa Fluor 647-ovalbumin",
        description=(
            "Ovalbumin conjugated to Alexa Fluor 647, infused into the cisterna magna during the "
            "recording as a CSF tracer."
        ),
        is_tracer=True,
        fluorophore="Alexa Fluor 647",
        carrier_molecule="ovalbumin",
        labeled_compartment="CSF",
        molecular_weight_in_kDa=45.0,
        excitation_peak_in_nm=650.0,
        emission_peak_in_nm=665.0,
    ),
}

FIBERS: dict[str, FiberSpec] = {
    "fiber_ne": FiberSpec(
        name="fiber_ne",
        location="medial prefrontal cortex",
        ap_in_mm=1.8,
        ml_in_mm=0.3,
        dv_in_mm=-2.0,
        hemisphere="right",
    ),
    "fiber_flow": FiberSpec(
        name="fiber_flow",
        location="somatosensory cortex",
        ap_in_mm=-1.0,
        ml_in_mm=3.0,
        dv_in_mm=-1.0,
        hemisphere="left",
    ),
    "fiber_lc": FiberSpec(
        name="fiber_lc",
        location="locus coeruleus",
        ap_in_mm=-5.4,
        ml_in_mm=0.9,
        dv_in_mm=-3.6,
        hemisphere="left",
    ),
}

#: The photometry channels of every simulated session, in table-row order.
PHOTOMETRY_CHANNELS: tuple[PhotometryChannelSpec, ...] = (
    PhotometryChannelSpec(
        name="ne_465nm",
        stream_name="_465A",
        excitation_wavelength_in_nm=465.0,
        emission_wavelength_in_nm=525.0,
        measured_quantity="norepinephrine",
        channel_role="signal",
        control_channel="ne_isosbestic_405nm",
        indicator="GRAB_NE2m",
        fiber="fiber_ne",
        baseline_in_V=0.35,
        noise_in_V=0.0015,
        bleach_fast_fraction=0.08,
        bleach_fast_time_constant_in_s=600.0,
        bleach_slow_fraction=0.22,
        bleach_slow_time_constant_in_s=14400.0,
        description="GRAB_NE2m fluorescence excited at 465 nm (norepinephrine signal).",
    ),
    PhotometryChannelSpec(
        name="ne_isosbestic_405nm",
        stream_name="_405A",
        excitation_wavelength_in_nm=405.0,
        emission_wavelength_in_nm=525.0,
        measured_quantity="norepinephrine",
        channel_role="isosbestic control",
        control_channel=None,
        indicator="GRAB_NE2m",
        fiber="fiber_ne",
        baseline_in_V=0.12,
        noise_in_V=0.0008,
        bleach_fast_fraction=0.08,
        bleach_fast_time_constant_in_s=600.0,
        bleach_slow_fraction=0.22,
        bleach_slow_time_constant_in_s=14400.0,
        description=(
            "GRAB_NE2m fluorescence excited at 405 nm (control: shares bleaching and motion "
            "artefacts with the 465 nm channel, not the norepinephrine response)."
        ),
    ),
    PhotometryChannelSpec(
        name="blood_volume_560nm",
        stream_name="_560B",
        excitation_wavelength_in_nm=560.0,
        emission_wavelength_in_nm=617.0,
        measured_quantity="cerebral blood volume",
        channel_role="signal",
        control_channel=None,
        indicator="albumin_AF594",
        fiber="fiber_flow",
        baseline_in_V=0.25,
        noise_in_V=0.0010,
        bleach_fast_fraction=0.05,
        bleach_fast_time_constant_in_s=900.0,
        bleach_slow_fraction=0.25,
        bleach_slow_time_constant_in_s=21600.0,
        description="Alexa Fluor 594-albumin fluorescence excited at 560 nm (cerebral blood volume).",
    ),
    PhotometryChannelSpec(
        name="csf_tracer_650nm",
        stream_name="_650B",
        excitation_wavelength_in_nm=650.0,
        emission_wavelength_in_nm=665.0,
        measured_quantity="CSF tracer",
        channel_role="signal",
        control_channel=None,
        indicator="ovalbumin_AF647",
        fiber="fiber_flow",
        baseline_in_V=0.05,
        noise_in_V=0.0006,
        bleach_fast_fraction=0.04,
        bleach_fast_time_constant_in_s=900.0,
        bleach_slow_fraction=0.15,
        bleach_slow_time_constant_in_s=28800.0,
        description=(
            "Alexa Fluor 647-ovalbumin fluorescence excited at 650 nm (CSF tracer; autofluorescence "
            "only before the intracisternal infusion)."
        ),
    ),
)

#: EEG and EMG channels of every simulated session.
ELECTRODE_CHANNELS: tuple[ElectrodeChannelSpec, ...] = (
    ElectrodeChannelSpec(
        name="EEG1",
        series="EEG",
        location="Secondary motor area",
        group="EEG_screws",
        group_location="frontal and parietal cortex (skull screws)",
        description="Frontal EEG screw electrode, referenced to a cerebellar screw.",
    ),
    ElectrodeChannelSpec(
        name="EEG2",
        series="EEG",
        location="Posterior parietal association areas",
        group="EEG_screws",
        group_location="frontal and parietal cortex (skull screws)",
        description="Parietal EEG screw electrode, referenced to a cerebellar screw.",
    ),
    ElectrodeChannelSpec(
        name="EMG",
        series="EMG",
        location="root",
        group="EMG_wires",
        group_location="neck muscle",
        description="Differential EMG between two wires in the dorsal neck muscles.",
    ),
)


def photometry_channel(*, name: str) -> PhotometryChannelSpec:
    """Return the channel spec called ``name``.

    Parameters
    ----------
    name : str
        A name from :data:`PHOTOMETRY_CHANNELS` (``"ne_465nm"``, ...).

    Returns
    -------
    PhotometryChannelSpec
    """
    for spec in PHOTOMETRY_CHANNELS:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in PHOTOMETRY_CHANNELS)
    raise ValueError(f"unknown photometry channel {name!r}; expected one of {known}")


def electrode_channels(*, series: str) -> tuple[ElectrodeChannelSpec, ...]:
    """Return the electrode channels of one ElectricalSeries (``"EEG"`` or ``"EMG"``)."""
    channels = tuple(spec for spec in ELECTRODE_CHANNELS if spec.series == series)
    if not channels:
        raise ValueError(f"unknown electrode series {series!r}; expected 'EEG' or 'EMG'")
    return channels
