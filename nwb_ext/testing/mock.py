"""Keyword-only mock factories, one per ndx-glymphatic type, and a complete example file.

Each ``mock_<Type>`` returns a valid instance with plausible values for a Hauglund-style experiment; pass
keywords to change any field. Devices, indicators and effectors they need come from ndx-ophys-devices' own
mocks (:mod:`ndx_ophys_devices.testing`). :func:`mock_glymphatic_nwbfile` builds an in-memory NWB file
that uses every type, through the one NWB builder (:mod:`ndx_glymphatic.builder`) from
:func:`mock_session_config` and :func:`mock_session_sources`, so it is laid out exactly as converted files.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from ndx_ophys_devices import ExcitationSource, Indicator, OpticalFiber, Photodetector
from ndx_ophys_devices.testing import (
    mock_Effector,
    mock_ExcitationSource,
    mock_Indicator,
    mock_OpticalFiber,
    mock_Photodetector,
)
from ndx_optogenetics import OptogeneticSitesTable
from pynwb import NWBFile
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
from ndx_glymphatic.builder import (
    ClockAlignmentRecord,
    EventsSource,
    SeriesSource,
    SessionSources,
    SleepStates,
    StimulationEpochs,
    build_nwbfile,
)
from ndx_glymphatic.session import (
    AmplifierConfig,
    ConditionConfig,
    DevicesConfig,
    DrugConfig,
    ElectrodeConfig,
    ElectrodeGroupConfig,
    ElectrophysiologyConfig,
    EpochConfig,
    ExcitationSourceConfig,
    FiberConfig,
    HypnogramConfig,
    IndicatorConfig,
    InfusionConfig,
    InjectionConfig,
    LcStimulationConfig,
    OptogeneticsConfig,
    OptogeneticSiteConfig,
    PhotodetectorConfig,
    PhotometryChannelConfig,
    PhotometryConfig,
    SessionConfig,
    SessionInfo,
    StimulationConfig,
    SubjectConfig,
    TracerConfig,
    VasomotionStimulationConfig,
    ViralVectorConfig,
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
    "mock_session_config",
    "mock_session_sources",
]


# ----------------------------------------------------------------------------------- one per type
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
    indicator = indicator or mock_Indicator(name="GRAB_NE2m", label="GRAB_NE2m", description="Norepinephrine sensor.")
    optical_fiber = optical_fiber or mock_OpticalFiber()
    excitation_sources = excitation_sources or (mock_ExcitationSource(), mock_ExcitationSource())
    photodetector = photodetector or mock_Photodetector()
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
    optogenetic_sites_table: OptogeneticSitesTable | None = None,
    site_rows: Sequence[int] = (0,),
    start_time: float = 450.0,
    stop_time: float = 650.0,
    modulation_frequency_in_Hz: float = 0.03,
) -> VasomotionStimulationEpochsTable:
    """One epoch of optogenetic arterial smooth-muscle stimulation modulated at an infraslow frequency."""
    if optogenetic_sites_table is None:
        optogenetic_sites_table = OptogeneticSitesTable(description="Stimulation sites.")
        optogenetic_sites_table.add_row(excitation_source=mock_ExcitationSource(), optical_fiber=mock_OpticalFiber(),
                                        effector=mock_Effector())
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


# ------------------------------------------------------------------------------- a whole session
def _first_row(table: object, *columns: str) -> dict[str, object]:
    return {column: table[column].data[0] for column in columns}


def _tracer_config(tracer: FluorescentTracer) -> TracerConfig:
    fields = ("name", "label", "description", "manufacturer", "fluorophore", "carrier_molecule",
              "molecular_weight_in_kDa", "labeled_compartment", "excitation_peak_in_nm", "emission_peak_in_nm")
    return TracerConfig(**{field: getattr(tracer, field) for field in fields})


def _led(wavelength_in_nm: int) -> ExcitationSourceConfig:
    return ExcitationSourceConfig(
        name=f"led_{wavelength_in_nm}nm", description=f"{wavelength_in_nm} nm fiber-coupled LED driven by the "
        "TDT RZ10x.", manufacturer="Tucker-Davis Technologies", model_number="RZ10x LUX LED", source_type="LED",
        wavelength_in_nm=float(wavelength_in_nm), power_in_W=30e-6,
    )


def _photometry_channel(
    *, name: str, stream: str, wavelengths_in_nm: tuple[float, float], indicator: str, quantity: str, role: str,
    control: str | None = None,
) -> PhotometryChannelConfig:
    excitation, emission = wavelengths_in_nm
    return PhotometryChannelConfig(
        name=name, stream=stream, description=f"Demodulated photometry signal, channel '{name}'.",
        measured_quantity=quantity, channel_role=role, indicator=indicator, optical_fiber="optical_fiber",
        excitation_source=f"led_{excitation:g}nm", photodetector="photodetector",
        excitation_wavelength_in_nm=excitation, emission_wavelength_in_nm=emission, control_channel=control,
    )


def mock_session_config(*, seed: int = 0) -> SessionConfig:
    """The session of :func:`mock_glymphatic_nwbfile`: NE with its isosbestic control, blood volume and a CSF
    tracer on one fiber of a TDT rig, EEG/EMG, LC and vasomotion optogenetics, an infusion, zolpidem.

    Infusion, drug, condition, tracer and hypnogram values are those of the per-type mocks.
    """
    infusion = _first_row(mock_TracerInfusionsTable(), "start_time", "stop_time", "route", "site", "volume_in_uL",
                          "rate_in_uL_per_min", "concentration", "concentration_unit")
    drug = _first_row(mock_DrugAdministrationsTable(), "start_time", "stop_time", "drug", "dose", "dose_unit", "route",
                      "vehicle")
    condition = mock_ExperimentalCondition()
    hypnogram = mock_Hypnogram()
    lc_fiber = FiberConfig(
        name="lc_optical_fiber", description="Fiber above the locus coeruleus.", manufacturer="Doric Lenses",
        model_number="MFC_400/430-0.48", numerical_aperture=0.48, core_diameter_in_um=400.0,
        location="locus coeruleus", ap_in_mm=-5.4, ml_in_mm=0.9, depth_in_mm=3.6, hemisphere="left",
    )
    return SessionConfig(
        path=Path("mock_session.yaml"),
        subject=SubjectConfig(subject_id="m01", species="Mus musculus", sex="M", age="P90D", strain="C57BL/6J",
                              description="Adult male mouse."),
        session=SessionInfo(
            session_start_time=datetime(2025, 3, 14, 9, 0, 0, tzinfo=timezone.utc),
            session_description="Natural sleep with photometry of norepinephrine, blood volume and CSF tracer.",
            session_id="ses01", experimenter=("Hauglund, Natalie",), lab="Nedergaard",
            institution="University of Copenhagen", identifier=str(uuid.UUID(int=seed, version=4)),
            experiment_description="Norepinephrine oscillations, vasomotion and glymphatic influx in NREM sleep.",
            keywords=("glymphatic", "sleep", "norepinephrine", "fiber photometry"),
        ),
        devices=DevicesConfig(
            excitation_sources=(
                *(_led(wavelength) for wavelength in (405, 465, 560, 635)),
                ExcitationSourceConfig(
                    name="laser_473nm", description="Blue laser for optogenetics.",
                    manufacturer="Shanghai Laser & Optics Century", model_number="BL473T3",
                    source_type="Solid-State Laser", wavelength_in_nm=473.0, power_in_W=0.01,
                ),
            ),
            photodetectors=(PhotodetectorConfig(
                name="photodetector", description="Photosensor for all channels.",
                manufacturer="Tucker-Davis Technologies", model_number="RZ10x LUX photosensor",
                detector_type="photodiode",
            ),),
            optical_fibers=(
                FiberConfig(
                    name="optical_fiber", description="Photometry fiber above the cortex.",
                    manufacturer="Doric Lenses", model_number="MFC_400/430-0.48", numerical_aperture=0.48,
                    core_diameter_in_um=400.0, location="somatosensory cortex", ap_in_mm=-1.5, ml_in_mm=2.0,
                    depth_in_mm=0.5, hemisphere="right",
                ),
                lc_fiber,
            ),
        ),
        indicators=(IndicatorConfig(
            name="GRAB_NE2m", label="GRAB_NE2m", description="Genetically encoded norepinephrine sensor.",
            manufacturer="Yulong Li lab",
            viral_vector=ViralVectorConfig(
                name="AAV_GRAB_NE2m", construct_name="AAV9-hSyn-GRAB_NE2m",
                description="Norepinephrine sensor GRAB_NE2m under the human synapsin promoter.",
                manufacturer="WZ Biosciences", titer_in_vg_per_ml=1.0e13,
            ),
            injection=InjectionConfig(
                name="GRAB_NE_injection", description="Cortical injection of AAV-hSyn-GRAB_NE2m.",
                location="somatosensory cortex", hemisphere="right", reference="bregma", ap_in_mm=-1.5, ml_in_mm=2.0,
                dv_in_mm=-0.6, volume_in_uL=0.5,
            ),
        ),),
        tracers=(
            _tracer_config(mock_FluorescentTracer(
                name="TexasRed_albumin", label="Texas Red-albumin",
                description="Blood plasma label injected intravenously to read cerebral blood volume.",
                fluorophore="Texas Red", carrier_molecule="albumin", molecular_weight_in_kDa=66.5,
                labeled_compartment="blood plasma", excitation_peak_in_nm=586.0, emission_peak_in_nm=603.0,
            )),
            _tracer_config(mock_FluorescentTracer(name="AF647_ovalbumin")),
        ),
        photometry=PhotometryConfig(
            format="tdt", file=Path("ses01-block"),
            channels=(
                _photometry_channel(name="ne_465nm", stream="_465A", wavelengths_in_nm=(465.0, 525.0),
                                    indicator="GRAB_NE2m", quantity="norepinephrine", role="signal",
                                    control="ne_isosbestic_405nm"),
                _photometry_channel(name="ne_isosbestic_405nm", stream="_405A", wavelengths_in_nm=(405.0, 525.0),
                                    indicator="GRAB_NE2m", quantity="norepinephrine", role="isosbestic control"),
                _photometry_channel(name="blood_volume_560nm", stream="_560B", wavelengths_in_nm=(560.0, 610.0),
                                    indicator="TexasRed_albumin", quantity="cerebral blood volume", role="signal"),
                _photometry_channel(name="csf_tracer_635nm", stream="_635C", wavelengths_in_nm=(635.0, 670.0),
                                    indicator="AF647_ovalbumin", quantity="CSF tracer", role="signal"),
            ),
        ),
        electrophysiology=ElectrophysiologyConfig(
            format="edf", file=Path("ses01_eeg.edf"),
            amplifier=AmplifierConfig(name="eeg_emg_amplifier",
                                      description="Headstage and amplifier recording EEG and EMG."),
            # The electrodes table's location must be an Allen CCF term (nwbinspector); the CCF has no term for
            # muscle, so EMG electrodes use "root" there and say "neck muscle" in their electrode group.
            electrode_groups=(
                ElectrodeGroupConfig(name="EEG", description="Screw electrodes over frontal and parietal cortex.",
                                     location="cortex"),
                ElectrodeGroupConfig(name="EMG", description="Wire electrodes in the neck muscle.",
                                     location="neck muscle"),
            ),
            channels=(ElectrodeConfig(name="EEG", stream="EEG", series="EEG", group="EEG"),
                      ElectrodeConfig(name="EMG", stream="EMG", series="EMG", group="EMG")),
            filtering="0.5-100 Hz band-pass",
        ),
        hypnogram=HypnogramConfig(file=Path("ses01_sleepscore.csv"), format="state-table",
                                  scoring_method=hypnogram.scoring_method, scorer=hypnogram.scorer,
                                  description=hypnogram.description),
        infusions=(InfusionConfig(
            tracer="AF647_ovalbumin", start_time_in_s=float(infusion["start_time"]),
            stop_time_in_s=float(infusion["stop_time"]), route=infusion["route"], site=infusion["site"],
            volume_in_uL=float(infusion["volume_in_uL"]), rate_in_uL_per_min=float(infusion["rate_in_uL_per_min"]),
            concentration=float(infusion["concentration"]), concentration_unit=infusion["concentration_unit"],
        ),),
        drugs=(DrugConfig(
            drug=drug["drug"], dose=float(drug["dose"]), dose_unit=drug["dose_unit"], route=drug["route"],
            vehicle=drug["vehicle"], time_in_s=float(drug["start_time"]),
            duration_in_s=float(drug["stop_time"] - drug["start_time"]),
        ),),
        condition=ConditionConfig(condition=condition.condition, is_control=bool(condition.is_control),
                                  description=condition.description),
        optogenetics=OptogeneticsConfig(
            effectors=(
                IndicatorConfig(
                    name="ChR2_LC", label="hChR2(H134R)", description="ChR2 in LC neurons.",
                    viral_vector=ViralVectorConfig(
                        name="AAV_DIO_ChR2", construct_name="AAV5-EF1a-DIO-hChR2(H134R)-EYFP",
                        description="Cre-dependent ChR2 for LC neurons of DBH-Cre mice.",
                        manufacturer="UNC Vector Core", titer_in_vg_per_ml=4.0e12,
                    ),
                    injection=InjectionConfig(
                        name="LC_ChR2_injection", description="Bilateral injection into the locus coeruleus.",
                        location="locus coeruleus", hemisphere="left", reference="bregma", ap_in_mm=-5.4,
                        ml_in_mm=0.9, dv_in_mm=-3.7, volume_in_uL=0.3,
                    ),
                ),
                IndicatorConfig(name="ChR2_smooth_muscle", label="ChR2(H134R)",
                                description="ChR2 expressed in arterial smooth muscle (transgenic)."),
            ),
            sites=(
                OptogeneticSiteConfig(name="LC", excitation_source="laser_473nm", optical_fiber=lc_fiber.name,
                                      effector="ChR2_LC"),
                OptogeneticSiteConfig(name="smooth_muscle", excitation_source="laser_473nm",
                                      optical_fiber=lc_fiber.name, effector="ChR2_smooth_muscle"),
            ),
            stimulation_software="Synapse",
            lc_stimulation=LcStimulationConfig(
                description="Optogenetic stimulation of the locus coeruleus: 10 s trains of 10 ms pulses at 10 Hz.",
                sites=("LC",), power_in_mW=10.0, wavelength_in_nm=473.0, pulse_length_in_ms=10.0,
                period_in_ms=100.0, number_pulses_per_pulse_train=100,
                epochs=(EpochConfig(start_time_in_s=200.0, stop_time_in_s=210.0),
                        EpochConfig(start_time_in_s=500.0, stop_time_in_s=510.0)),
            ),
            vasomotion_stimulation=VasomotionStimulationConfig(
                description="Optogenetic stimulation of arterial smooth muscle imposing slow vasomotion.",
                sites=("smooth_muscle",), power_in_mW=5.0, wavelength_in_nm=473.0,
                epochs=(EpochConfig(start_time_in_s=450.0, stop_time_in_s=650.0),),
                stimulation_method="optogenetic", target="arterial smooth muscle", modulation_frequency_in_Hz=0.03,
                modulation_waveform="square",
            ),
        ),
    )


def _epochs(stimulation: StimulationConfig) -> StimulationEpochs:
    return StimulationEpochs(
        start_times_in_s=np.array([epoch.start_time_in_s for epoch in stimulation.epochs]),
        stop_times_in_s=np.array([epoch.stop_time_in_s for epoch in stimulation.epochs]),
        pulse_length_in_ms=stimulation.pulse_length_in_ms, period_in_ms=stimulation.period_in_ms,
    )


def mock_session_sources(
    *, session: SessionConfig, duration_in_s: float = 900.0, photometry_rate_in_Hz: float = 20.0,
    eeg_rate_in_Hz: float = 128.0, seed: int = 0,
) -> SessionSources:
    """Short synthetic data for ``session`` (:func:`mock_session_config`): slow sinusoids with noise per
    photometry channel, 50 uV noise as EEG and EMG, the per-type mocks' hypnogram and clock alignment, and a
    TTL pulse every 30 s."""
    rng = np.random.default_rng(seed)
    n_samples = int(duration_in_s * photometry_rate_in_Hz)
    time = np.arange(n_samples) / photometry_rate_in_Hz
    series = [
        SeriesSource.from_array(
            name=channel.name, kind="photometry", rate_in_Hz=photometry_rate_in_Hz, unit="V",
            data=1.0 + 0.05 * np.sin(2 * np.pi * 0.02 * time + row) + rng.normal(0, 0.005, n_samples),
        )
        for row, channel in enumerate(session.photometry.channels)
    ]
    n_ephys = int(duration_in_s * eeg_rate_in_Hz)
    series += [
        SeriesSource.from_array(name=name, kind=name, data=rng.normal(0.0, 50.0, n_ephys), rate_in_Hz=eeg_rate_in_Hz,
                                unit="volts", conversion=1e-6)
        for name in ("EEG", "EMG")
    ]
    hypnogram = mock_Hypnogram()
    alignment = mock_ClockAlignmentTable()
    onsets = np.arange(1.0, duration_in_s, 30.0)
    optogenetics = session.optogenetics
    return SessionSources(
        series=tuple(series),
        events=(EventsSource(table_name="ttl_PtC0",
                             source_description="TDT epoc PtC0: TTL pulses shared by photometry and EEG systems",
                             onset_times_in_s=onsets, offset_times_in_s=onsets + 0.01),),
        sleep_states=SleepStates(
            start_times_in_s=np.asarray(hypnogram["start_time"].data), stop_times_in_s=np.asarray(
                hypnogram["stop_time"].data), sleep_states=tuple(hypnogram["sleep_state"].data),
            scoring_method=hypnogram.scoring_method, scorer=hypnogram.scorer,
            epoch_length_in_s=hypnogram.epoch_length_in_s,
        ),
        lc_stimulation=_epochs(optogenetics.lc_stimulation),
        vasomotion_stimulation=_epochs(optogenetics.vasomotion_stimulation),
        clock_alignment=ClockAlignmentRecord(**{column: alignment[column][0] for column in alignment.colnames}),
    )


def mock_glymphatic_nwbfile(
    *,
    duration_in_s: float = 900.0,
    photometry_rate_in_Hz: float = 20.0,
    eeg_rate_in_Hz: float = 128.0,
    seed: int = 0,
) -> NWBFile:
    """A small in-memory NWB file using every ndx-glymphatic type, built as converters build theirs.

    Photometry: norepinephrine (GRAB_NE, 465 nm) with its 405 nm isosbestic control, cerebral blood volume
    (Texas Red-albumin, 560 nm) and a CSF tracer (Alexa Fluor 647-ovalbumin, 635 nm); EEG and EMG; a
    hypnogram; a tracer infusion; a drug injection; LC and vasomotion stimulation; TTL events; clock alignment.
    """
    session = mock_session_config(seed=seed)
    sources = mock_session_sources(session=session, duration_in_s=duration_in_s,
                                   photometry_rate_in_Hz=photometry_rate_in_Hz, eeg_rate_in_Hz=eeg_rate_in_Hz,
                                   seed=seed)
    return build_nwbfile(session=session, sources=sources, in_memory=True)
