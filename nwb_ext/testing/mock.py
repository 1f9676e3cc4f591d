"""Keyword-only mock factories, one per ndx-glymphatic type, and a complete example file.

Each ``mock_<Type>`` returns a valid instance with plausible values for a Hauglund-style
experiment; pass keywords to change any field. :func:`mock_glymphatic_nwbfile` builds an in-memory
NWB file that uses every type, with devices, indicators and short data, the way converters write them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np
from hdmf.common import DynamicTableRegion
from ndx_fiber_photometry import (
    FiberPhotometry,
    FiberPhotometryIndicators,
    FiberPhotometryResponseSeries,
    FiberPhotometryViruses,
    FiberPhotometryVirusInjections,
)
from ndx_ophys_devices import (
    Effector,
    ExcitationSource,
    ExcitationSourceModel,
    FiberInsertion,
    Indicator,
    OpticalFiber,
    OpticalFiberModel,
    Photodetector,
    PhotodetectorModel,
    ViralVector,
    ViralVectorInjection,
)
from ndx_optogenetics import (
    OptogeneticEffectors,
    OptogeneticEpochsTable,
    OptogeneticExperimentMetadata,
    OptogeneticSitesTable,
    OptogeneticViruses,
    OptogeneticVirusInjections,
)
from pynwb import NWBFile
from pynwb.ecephys import ElectricalSeries
from pynwb.event import EventsTable
from pynwb.file import Subject
from pynwb.testing.mock.utils import name_generator

from ndx_glymphatic import (
    ClockAlignment,
    ClockAlignmentTable,
    DrugAdministrationsTable,
    ExperimentalCondition,
    FiberPhotometryChannelsTable,
    FluorescentTracer,
    Hypnogram,
    TracerInfusionsTable,
    VasomotionStimulationEpochsTable,
)

__all__ = [
    "mock_ClockAlignment",
    "mock_ClockAlignmentTable",
    "mock_DrugAdministrationsTable",
    "mock_ExperimentalCondition",
    "mock_FiberPhotometryChannelsTable",
    "mock_FluorescentTracer",
    "mock_Hypnogram",
    "mock_TracerInfusionsTable",
    "mock_VasomotionStimulationEpochsTable",
    "mock_glymphatic_nwbfile",
]


def mock_FluorescentTracer(
    *,
    name: str | None = None,
    label: str = "Alexa Fluor 647-ovalbumin",
    description: str = "CSF tracer: ovalbumin conjugated to Alexa Fluor 647, infused into the cisterna magna.",
    manufacturer: str = "Thermo Fisher Scientific",
    fluorophore: str = "Alexa Fluor 647",
    carrier_molecule: str = "ovalbumin",
    molecular_weight_in_kDa: float = 45.0,
    labeled_compartment: str = "CSF",
    excitation_peak_in_nm: float = 650.0,
    emission_peak_in_nm: float = 668.0,
) -> FluorescentTracer:
    """A fluorescent CSF tracer (defaults) or blood label (pass other values)."""
    return FluorescentTracer(
        name=name or name_generator("FluorescentTracer"),
        label=label,
        description=description,
        manufacturer=manufacturer,
        fluorophore=fluorophore,
        carrier_molecule=carrier_molecule,
        molecular_weight_in_kDa=molecular_weight_in_kDa,
        labeled_compartment=labeled_compartment,
        excitation_peak_in_nm=excitation_peak_in_nm,
        emission_peak_in_nm=emission_peak_in_nm,
    )


def _mock_photometry_devices(*, suffix: str = "") -> dict[str, object]:
    fiber_model = OpticalFiberModel(
        name=f"optical_fiber_model{suffix}",
        description="400 um core, 0.48 NA fiber optic cannula.",
        manufacturer="Doric Lenses",
        model_number="MFC_400/430-0.48",
        numerical_aperture=0.48,
        core_diameter_in_um=400.0,
    )
    fiber = OpticalFiber(
        name=f"optical_fiber{suffix}",
        description="Photometry fiber above the cortex.",
        serial_number="OF-001",
        model=fiber_model,
        fiber_insertion=FiberInsertion(
            name="fiber_insertion",
            insertion_position_ap_in_mm=-1.5,
            insertion_position_ml_in_mm=2.0,
            depth_in_mm=0.5,
            position_reference="bregma",
            hemisphere="right",
        ),
    )
    led_model = ExcitationSourceModel(
        name=f"led_model{suffix}",
        description="Fiber-coupled LED driven by the TDT RZ10x.",
        manufacturer="Tucker-Davis Technologies",
        model_number="RZ10x LUX LED",
        source_type="LED",
        excitation_mode="one-photon",
    )
    detector_model = PhotodetectorModel(
        name=f"photodetector_model{suffix}",
        description="Integrated photosensor of the TDT RZ10x.",
        manufacturer="Tucker-Davis Technologies",
        model_number="RZ10x LUX photosensor",
        detector_type="photodiode",
    )
    detector = Photodetector(
        name=f"photodetector{suffix}", description="Photosensor for all channels.", model=detector_model
    )
    leds = {
        wavelength: ExcitationSource(
            name=f"led_{wavelength}nm{suffix}",
            description=f"{wavelength} nm LED.",
            model=led_model,
            power_in_W=30e-6,
        )
        for wavelength in (405, 465, 560, 635)
    }
    return {
        "fiber_model": fiber_model,
        "fiber": fiber,
        "led_model": led_model,
        "detector_model": detector_model,
        "detector": detector,
        "leds": leds,
    }


def mock_FiberPhotometryChannelsTable(
    *,
    name: str = "fiber_photometry_table",
    description: str = "Photometry channels: norepinephrine (GRAB_NE) with its 405 nm isosbestic control.",
    indicator: Indicator | None = None,
    optical_fiber: OpticalFiber | None = None,
    excitation_sources: Sequence[ExcitationSource] | None = None,
    photodetector: Photodetector | None = None,
) -> FiberPhotometryChannelsTable:
    """A two-row table: GRAB_NE signal at 465 nm (row 0) and its isosbestic control at 405 nm (row 1)."""
    if optical_fiber is None or excitation_sources is None or photodetector is None:
        devices = _mock_photometry_devices()
        optical_fiber = optical_fiber or devices["fiber"]
        excitation_sources = excitation_sources or (devices["leds"][465], devices["leds"][405])
        photodetector = photodetector or devices["detector"]
    if indicator is None:
        indicator = Indicator(name="GRAB_NE2m", label="GRAB_NE2m", description="Norepinephrine sensor.")
    table = FiberPhotometryChannelsTable(name=name, description=description)
    for excitation_in_nm, source, role, control, stream in (
        (465.0, excitation_sources[0], "signal", 1, "_465A"),
        (405.0, excitation_sources[1], "isosbestic control", -1, "_405A"),
    ):
        table.add_row(
            location="somatosensory cortex",
            excitation_wavelength_in_nm=excitation_in_nm,
            emission_wavelength_in_nm=525.0,
            indicator=indicator,
            optical_fiber=optical_fiber,
            excitation_source=source,
            photodetector=photodetector,
            measured_quantity="norepinephrine",
            channel_role=role,
            control_channel=control,
            stream_name=stream,
        )
    return table


def mock_TracerInfusionsTable(
    *,
    tracer: Indicator | None = None,
    start_time: float = 600.0,
    stop_time: float = 900.0,
    route: str = "intracisternal",
    site: str = "cisterna magna",
    volume_in_uL: float = 10.0,
    rate_in_uL_per_min: float = 2.0,
    concentration: float = 0.5,
    concentration_unit: str = "%",
) -> TracerInfusionsTable:
    """One intracisternal infusion of a CSF tracer."""
    table = TracerInfusionsTable(description="Intracisternal infusions of the fluorescent CSF tracer.")
    table.add_row(
        start_time=start_time,
        stop_time=stop_time,
        tracer=tracer if tracer is not None else mock_FluorescentTracer(),
        route=route,
        site=site,
        volume_in_uL=volume_in_uL,
        rate_in_uL_per_min=rate_in_uL_per_min,
        concentration=concentration,
        concentration_unit=concentration_unit,
    )
    return table


def mock_DrugAdministrationsTable(
    *,
    time_in_s: float = 300.0,
    injection_duration_in_s: float = 5.0,
    drug: str = "zolpidem",
    dose: float = 10.0,
    dose_unit: str = "mg/kg",
    route: str = "i.p.",
    vehicle: str = "saline with 1 % DMSO",
) -> DrugAdministrationsTable:
    """One bolus drug injection."""
    table = DrugAdministrationsTable(description="Drug and vehicle injections.")
    table.add_row(
        start_time=time_in_s,
        stop_time=time_in_s + injection_duration_in_s,
        drug=drug,
        dose=dose,
        dose_unit=dose_unit,
        route=route,
        vehicle=vehicle,
    )
    return table


def mock_ExperimentalCondition(
    *,
    condition: str = "zolpidem",
    is_control: bool = False,
    description: str = "Zolpidem 10 mg/kg i.p. before the light phase recording.",
) -> ExperimentalCondition:
    """The session's experimental condition."""
    return ExperimentalCondition(condition=condition, is_control=is_control, description=description)


def mock_Hypnogram(
    *,
    start_times_in_s: Sequence[float] = (0.0, 120.0, 400.0, 410.0, 700.0, 790.0),
    stop_times_in_s: Sequence[float] = (120.0, 400.0, 410.0, 700.0, 790.0, 900.0),
    sleep_states: Sequence[str] = ("wake", "NREM", "micro-arousal", "NREM", "REM", "wake"),
    scoring_method: str = "manual",
    scorer: str = "A. Scorer",
    epoch_length_in_s: float | None = None,
) -> Hypnogram:
    """A short hypnogram: wake, NREM split by a micro-arousal, REM, wake."""
    hypnogram = Hypnogram(
        description="Sleep states scored manually from EEG/EMG.",
        scoring_method=scoring_method,
        scorer=scorer,
        epoch_length_in_s=epoch_length_in_s,
    )
    for start, stop, state in zip(start_times_in_s, stop_times_in_s, sleep_states, strict=True):
        hypnogram.add_row(start_time=float(start), stop_time=float(stop), sleep_state=state)
    return hypnogram


def mock_ClockAlignmentTable(
    *,
    secondary_system: str = "Pinnacle Sirenia EEG/EMG",
    primary_system: str = "TDT RZ10x photometry",
    primary_ttl_channel: str = "PtC0",
    secondary_ttl_channel: str = "TTL: Rise",
    slope: float = 1.00005,
    offset_in_s: float = 2.5,
    n_pulses: int = 20,
) -> ClockAlignmentTable:
    """One secondary system aligned on ``n_pulses`` TTL pulses with a small jitter."""
    rng = np.random.default_rng(0)
    secondary = np.arange(n_pulses, dtype=float) * 30.0 + 1.0
    primary = slope * secondary + offset_in_s + rng.normal(0.0, 1e-4, n_pulses)
    residuals = primary - (slope * secondary + offset_in_s)
    table = ClockAlignmentTable(description="TTL-based alignment of the EEG/EMG clock onto the photometry clock.")
    table.add_row(
        secondary_system=secondary_system,
        primary_system=primary_system,
        primary_ttl_channel=primary_ttl_channel,
        secondary_ttl_channel=secondary_ttl_channel,
        number_of_matched_pulses=n_pulses,
        slope=slope,
        offset_in_s=offset_in_s,
        residual_rms_in_s=float(np.sqrt(np.mean(residuals**2))),
        max_abs_residual_in_s=float(np.max(np.abs(residuals))),
        matched_primary_times_in_s=primary.tolist(),
        matched_secondary_times_in_s=secondary.tolist(),
    )
    return table


def mock_ClockAlignment(*, clock_alignment_table: ClockAlignmentTable | None = None) -> ClockAlignment:
    """The clock-alignment record holding one aligned system."""
    return ClockAlignment(clock_alignment_table=clock_alignment_table or mock_ClockAlignmentTable())


def mock_VasomotionStimulationEpochsTable(
    *,
    optogenetic_sites_table: OptogeneticSitesTable,
    site_rows: Sequence[int] = (0,),
    start_time: float = 450.0,
    stop_time: float = 650.0,
    modulation_frequency_in_Hz: float = 0.03,
) -> VasomotionStimulationEpochsTable:
    """One epoch of optogenetic arterial smooth-muscle stimulation modulated at an infraslow frequency."""
    table = VasomotionStimulationEpochsTable(
        description="Optogenetic stimulation of arterial smooth muscle imposing slow vasomotion.",
        target_tables={"optogenetic_sites": optogenetic_sites_table},
    )
    period_in_ms = 1000.0 / modulation_frequency_in_Hz
    table.add_row(
        start_time=start_time,
        stop_time=stop_time,
        stimulation_on=True,
        pulse_length_in_ms=period_in_ms / 2.0,
        period_in_ms=period_in_ms,
        number_pulses_per_pulse_train=int((stop_time - start_time) * modulation_frequency_in_Hz),
        number_trains=1,
        intertrain_interval_in_ms=0.0,
        power_in_mW=5.0,
        wavelength_in_nm=473.0,
        optogenetic_sites=list(site_rows),
        stimulation_method="optogenetic",
        target="arterial smooth muscle",
        modulation_frequency_in_Hz=modulation_frequency_in_Hz,
        modulation_waveform="square",
    )
    return table


def _add_optogenetics(*, nwbfile: NWBFile, leds: dict, fiber_model: OpticalFiberModel) -> OptogeneticSitesTable:
    laser_model = ExcitationSourceModel(
        name="laser_model",
        description="473 nm DPSS laser for optogenetics.",
        manufacturer="Shanghai Laser & Optics Century",
        model_number="BL473T3",
        source_type="Solid-State Laser",
        excitation_mode="one-photon",
    )
    laser = ExcitationSource(name="laser_473nm", description="Blue laser.", model=laser_model, power_in_W=0.01)
    lc_fiber = OpticalFiber(
        name="lc_optical_fiber",
        description="Fiber above the locus coeruleus.",
        model=fiber_model,
        fiber_insertion=FiberInsertion(
            name="fiber_insertion",
            insertion_position_ap_in_mm=-5.4,
            insertion_position_ml_in_mm=0.9,
            depth_in_mm=3.6,
            position_reference="bregma",
            hemisphere="left",
        ),
    )
    nwbfile.add_device_model(laser_model)
    nwbfile.add_device(laser)
    nwbfile.add_device(lc_fiber)
    chr2_vector = ViralVector(
        name="AAV_DIO_ChR2",
        construct_name="AAV5-EF1a-DIO-hChR2(H134R)-EYFP",
        description="Cre-dependent ChR2 for LC neurons of DBH-Cre mice.",
        manufacturer="UNC Vector Core",
        titer_in_vg_per_ml=4.0e12,
    )
    chr2_injection = ViralVectorInjection(
        name="LC_ChR2_injection",
        description="Bilateral injection into the locus coeruleus.",
        location="locus coeruleus",
        hemisphere="left",
        reference="bregma",
        ap_in_mm=-5.4,
        ml_in_mm=0.9,
        dv_in_mm=-3.7,
        volume_in_uL=0.3,
        viral_vector=chr2_vector,
    )
    lc_effector = Effector(
        name="ChR2_LC", label="hChR2(H134R)", description="ChR2 in LC neurons.",
        viral_vector_injection=chr2_injection,
    )
    smooth_muscle_effector = Effector(
        name="ChR2_smooth_muscle", label="ChR2(H134R)",
        description="ChR2 expressed in arterial smooth muscle (transgenic).",
    )
    sites = OptogeneticSitesTable(description="Optogenetic stimulation sites.")
    sites.add_row(excitation_source=laser, optical_fiber=lc_fiber, effector=lc_effector)
    sites.add_row(excitation_source=laser, optical_fiber=lc_fiber, effector=smooth_muscle_effector)
    nwbfile.add_lab_meta_data(
        OptogeneticExperimentMetadata(
            stimulation_software="Synapse",
            optogenetic_sites_table=sites,
            optogenetic_viruses=OptogeneticViruses(viral_vectors=[chr2_vector]),
            optogenetic_virus_injections=OptogeneticVirusInjections(viral_vector_injections=[chr2_injection]),
            optogenetic_effectors=OptogeneticEffectors(effectors=[lc_effector, smooth_muscle_effector]),
        )
    )
    return sites


def _add_lc_stimulation(*, nwbfile: NWBFile, sites: OptogeneticSitesTable, onsets_in_s: Sequence[float]) -> None:
    epochs = OptogeneticEpochsTable(
        name="lc_optogenetic_stimulation",
        description="Optogenetic stimulation of the locus coeruleus: 10 s trains of 10 ms pulses at 10 Hz.",
        target_tables={"optogenetic_sites": sites},
    )
    for onset in onsets_in_s:
        epochs.add_row(
            start_time=float(onset),
            stop_time=float(onset) + 10.0,
            stimulation_on=True,
            pulse_length_in_ms=10.0,
            period_in_ms=100.0,
            number_pulses_per_pulse_train=100,
            number_trains=1,
            intertrain_interval_in_ms=0.0,
            power_in_mW=10.0,
            wavelength_in_nm=473.0,
            optogenetic_sites=[0],
        )
    nwbfile.add_time_intervals(epochs)


def _add_eeg_emg(*, nwbfile: NWBFile, duration_in_s: float, rate_in_Hz: float, rng: np.random.Generator) -> None:
    amplifier = nwbfile.create_device(
        name="eeg_emg_amplifier", description="Headstage and amplifier recording EEG and EMG."
    )
    eeg_group = nwbfile.create_electrode_group(
        name="EEG", description="Screw electrodes over frontal and parietal cortex.", location="cortex",
        device=amplifier,
    )
    emg_group = nwbfile.create_electrode_group(
        name="EMG", description="Wire electrodes in the neck muscle.", location="neck muscle", device=amplifier
    )
    # The electrodes table's location must be an Allen CCF term (nwbinspector); the CCF has no term for
    # muscle, so EMG electrodes use "root" there and say "neck muscle" in their electrode group.
    nwbfile.add_electrode(group=eeg_group, location="Isocortex")
    nwbfile.add_electrode(group=emg_group, location="root")
    n_samples = int(duration_in_s * rate_in_Hz)
    for row, name in ((0, "EEG"), (1, "EMG")):
        nwbfile.add_acquisition(
            ElectricalSeries(
                name=name,
                description=f"{name} differential signal.",
                data=rng.normal(0.0, 50.0, n_samples).astype(np.float32),
                electrodes=nwbfile.create_electrode_table_region(region=[row], description=f"{name} electrode"),
                rate=rate_in_Hz,
                starting_time=0.0,
                conversion=1e-6,
                filtering="0.5-100 Hz band-pass",
            )
        )


def mock_glymphatic_nwbfile(
    *,
    duration_in_s: float = 900.0,
    photometry_rate_in_Hz: float = 20.0,
    eeg_rate_in_Hz: float = 128.0,
    seed: int = 0,
) -> NWBFile:
    """A small in-memory NWB file using every ndx-glymphatic type, laid out as converters write it.

    Photometry: norepinephrine (GRAB_NE, 465 nm) with its 405 nm isosbestic control, cerebral blood volume
    (Texas Red-albumin, 560 nm) and a CSF tracer (Alexa Fluor 647-ovalbumin, 635 nm); EEG and EMG; a
    hypnogram; a tracer infusion; a drug injection; LC and vasomotion stimulation; TTL events; clock alignment.
    """
    rng = np.random.default_rng(seed)
    nwbfile = NWBFile(
        session_description="Natural sleep with photometry of norepinephrine, blood volume and CSF tracer.",
        identifier=str(uuid.UUID(int=seed, version=4)),
        session_start_time=datetime(2025, 3, 14, 9, 0, 0, tzinfo=timezone.utc),
        session_id="ses01",
        experimenter=["Hauglund, Natalie"],
        lab="Nedergaard",
        institution="University of Copenhagen",
        experiment_description="Norepinephrine oscillations, vasomotion and glymphatic influx in NREM sleep.",
        keywords=["glymphatic", "sleep", "norepinephrine", "fiber photometry"],
    )
    nwbfile.subject = Subject(
        subject_id="m01", species="Mus musculus", sex="M", age="P90D", strain="C57BL/6J",
        description="Adult male mouse.",
    )
    devices = _mock_photometry_devices()
    for model in (devices["fiber_model"], devices["led_model"], devices["detector_model"]):
        nwbfile.add_device_model(model)
    for device in (devices["fiber"], devices["detector"], *devices["leds"].values()):
        nwbfile.add_device(device)

    grab_vector = ViralVector(
        name="AAV_GRAB_NE2m",
        construct_name="AAV9-hSyn-GRAB_NE2m",
        description="Norepinephrine sensor GRAB_NE2m under the human synapsin promoter.",
        manufacturer="WZ Biosciences",
        titer_in_vg_per_ml=1.0e13,
    )
    grab_injection = ViralVectorInjection(
        name="GRAB_NE_injection",
        description="Cortical injection of AAV-hSyn-GRAB_NE2m.",
        location="somatosensory cortex",
        hemisphere="right",
        reference="bregma",
        ap_in_mm=-1.5,
        ml_in_mm=2.0,
        dv_in_mm=-0.6,
        volume_in_uL=0.5,
        viral_vector=grab_vector,
    )
    grab_ne = Indicator(
        name="GRAB_NE2m", label="GRAB_NE2m", description="Genetically encoded norepinephrine sensor.",
        manufacturer="Yulong Li lab", viral_vector_injection=grab_injection,
    )
    albumin = mock_FluorescentTracer(
        name="TexasRed_albumin", label="Texas Red-albumin",
        description="Blood plasma label injected intravenously to read cerebral blood volume.",
        fluorophore="Texas Red", carrier_molecule="albumin", molecular_weight_in_kDa=66.5,
        labeled_compartment="blood plasma", excitation_peak_in_nm=586.0, emission_peak_in_nm=603.0,
    )
    csf_tracer = mock_FluorescentTracer(name="AF647_ovalbumin")

    channels = FiberPhotometryChannelsTable(
        name="fiber_photometry_table",
        description="Photometry channels with what each measures and which channel is its control.",
    )
    leds = devices["leds"]
    channel_rows = (
        ("ne_465nm", 465.0, 525.0, grab_ne, leds[465], "norepinephrine", "signal", 1, "_465A"),
        ("ne_isosbestic_405nm", 405.0, 525.0, grab_ne, leds[405], "norepinephrine", "isosbestic control", -1,
         "_405A"),
        ("blood_volume_560nm", 560.0, 610.0, albumin, leds[560], "cerebral blood volume", "signal", -1, "_560B"),
        ("csf_tracer_635nm", 635.0, 670.0, csf_tracer, leds[635], "CSF tracer", "signal", -1, "_635C"),
    )
    for _, excitation, emission, indicator, source, quantity, role, control, stream in channel_rows:
        channels.add_row(
            location="somatosensory cortex",
            excitation_wavelength_in_nm=excitation,
            emission_wavelength_in_nm=emission,
            indicator=indicator,
            optical_fiber=devices["fiber"],
            excitation_source=source,
            photodetector=devices["detector"],
            measured_quantity=quantity,
            channel_role=role,
            control_channel=control,
            stream_name=stream,
        )
    nwbfile.add_lab_meta_data(
        FiberPhotometry(
            name="fiber_photometry",
            fiber_photometry_table=channels,
            fiber_photometry_indicators=FiberPhotometryIndicators(indicators=[grab_ne, albumin, csf_tracer]),
            fiber_photometry_viruses=FiberPhotometryViruses(viral_vectors=[grab_vector]),
            fiber_photometry_virus_injections=FiberPhotometryVirusInjections(
                viral_vector_injections=[grab_injection]
            ),
        )
    )
    n_samples = int(duration_in_s * photometry_rate_in_Hz)
    time = np.arange(n_samples) / photometry_rate_in_Hz
    for row, (series_name, *_rest) in enumerate(channel_rows):
        trace = 1.0 + 0.05 * np.sin(2 * np.pi * 0.02 * time + row) + rng.normal(0, 0.005, n_samples)
        nwbfile.add_acquisition(
            FiberPhotometryResponseSeries(
                name=series_name,
                description=f"Demodulated photometry signal, channel '{series_name}'.",
                data=trace.astype(np.float32),
                unit="V",
                rate=photometry_rate_in_Hz,
                starting_time=0.0,
                fiber_photometry_table_region=DynamicTableRegion(
                    name="fiber_photometry_table_region",
                    data=[row],
                    description=f"The channel row of '{series_name}'.",
                    table=channels,
                ),
            )
        )
    _add_eeg_emg(nwbfile=nwbfile, duration_in_s=duration_in_s, rate_in_Hz=eeg_rate_in_Hz, rng=rng)

    sites = _add_optogenetics(nwbfile=nwbfile, leds=leds, fiber_model=devices["fiber_model"])
    _add_lc_stimulation(nwbfile=nwbfile, sites=sites, onsets_in_s=(200.0, 500.0))
    nwbfile.add_time_intervals(
        mock_VasomotionStimulationEpochsTable(optogenetic_sites_table=sites, site_rows=(1,))
    )
    nwbfile.add_time_intervals(mock_Hypnogram())
    nwbfile.add_time_intervals(mock_TracerInfusionsTable(tracer=csf_tracer))
    nwbfile.add_time_intervals(mock_DrugAdministrationsTable())
    nwbfile.add_lab_meta_data(mock_ExperimentalCondition())
    nwbfile.add_lab_meta_data(mock_ClockAlignment())

    ttl = EventsTable(
        name="ttl_PtC0", description="TTL pulses shared by photometry and EEG systems (TDT epoc PtC0).",
        source_description="Acquisition system",
    )
    for onset in np.arange(1.0, duration_in_s, 30.0):
        ttl.add_row(timestamp=float(onset), duration=0.01)
    nwbfile.add_events_table(ttl)
    return nwbfile
