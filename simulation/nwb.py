"""Write a simulated session to an NWB file with the ndx-glymphatic types, streaming the high-rate data.

Layout (see the namespace plan): photometry series ``ne_465nm``, ``ne_isosbestic_405nm``,
``blood_volume_560nm``, ``csf_tracer_650nm`` in ``acquisition`` (float32 volts, rate +
starting_time) pointing at their rows of the ``FiberPhotometryChannelsTable`` inside the
``fiber_photometry`` LabMetaData; ``EEG`` and ``EMG`` ElectricalSeries (float32 microvolts,
``conversion=1e-6``); intervals ``sleep_states`` (Hypnogram), ``tracer_infusions``,
``drug_administrations``, ``lc_optogenetic_stimulation``, ``vasomotion_stimulation``; LabMetaData
``experimental_condition`` and ``optogenetic_experiment_metadata``.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from hdmf.backends.hdf5 import H5DataIO
from hdmf.common import DynamicTableRegion
from hdmf.data_utils import GenericDataChunkIterator
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
from pynwb import NWBHDF5IO, NWBFile
from pynwb.device import Device, DeviceModel
from pynwb.ecephys import ElectricalSeries
from pynwb.file import Subject

from ndx_glymphatic import (
    DrugAdministrationsTable,
    ExperimentalCondition,
    FiberPhotometryChannelsTable,
    FluorescentTracer,
    Hypnogram,
    TracerInfusionsTable,
    VasomotionStimulationEpochsTable,
    __version__,
)
from ndx_glymphatic.io import atomic_output_path
from ndx_glymphatic.simulation.channels import (
    ELECTRODE_CHANNELS,
    FIBERS,
    INDICATORS,
    PHOTOMETRY_CHANNELS,
    FiberSpec,
    IndicatorSpec,
    electrode_channels,
)
from ndx_glymphatic.simulation.latents import SimulatedSession
from ndx_glymphatic.simulation.streams import BLOCK_SAMPLES, ephys_samples, photometry_samples

__all__ = ["build_session_nwbfile", "write_session_nwb"]

_PHOTOMETRY_CHUNK_SAMPLES = BLOCK_SAMPLES
_PHOTOMETRY_BUFFER_SAMPLES = 16 * BLOCK_SAMPLES
_EPHYS_CHUNK_SAMPLES = BLOCK_SAMPLES
_EPHYS_BUFFER_SAMPLES = 8 * BLOCK_SAMPLES
_MICROVOLTS_PER_VOLT = 1e6


class _SimulatedStreamIterator(GenericDataChunkIterator):
    """Feeds a simulated stream to hdmf buffer by buffer (float32, scaled), never holding it whole."""

    def __init__(
        self,
        *,
        fetch: Callable[[int, int], np.ndarray],
        n_samples: int,
        n_channels: int | None,
        scale: float,
        chunk_samples: int,
        buffer_samples: int,
        display_progress: bool,
        description: str,
    ) -> None:
        self._fetch = fetch
        self._n_samples = n_samples
        self._n_channels = n_channels
        self._scale = scale
        chunk = min(chunk_samples, n_samples)
        buffer = min(buffer_samples, n_samples)
        extra = () if n_channels is None else (n_channels,)
        super().__init__(
            chunk_shape=(chunk, *extra),
            buffer_shape=(buffer, *extra),
            display_progress=display_progress,
            progress_bar_options={"desc": description, "unit": "buffer", "leave": False},
        )

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        rows = selection[0]
        data = self._fetch(rows.start, rows.stop)
        if self._scale != 1.0:
            data = data * self._scale
        if self._n_channels is not None:
            data = data[:, selection[1]]
        return data.astype(np.float32)

    def _get_maxshape(self) -> tuple[int, ...]:
        return (self._n_samples,) if self._n_channels is None else (self._n_samples, self._n_channels)

    def _get_dtype(self) -> np.dtype:
        return np.dtype("float32")


def _compressed(iterator: _SimulatedStreamIterator) -> H5DataIO:
    return H5DataIO(data=iterator, compression="gzip", compression_opts=4, shuffle=True, chunks=iterator.chunk_shape)


def _fiber(*, spec: FiberSpec, model: OpticalFiberModel, description: str) -> OpticalFiber:
    return OpticalFiber(
        name=spec.name,
        description=description,
        model=model,
        serial_number=f"SIM-{spec.name}",
        fiber_insertion=FiberInsertion(
            name="fiber_insertion",
            insertion_position_ap_in_mm=spec.ap_in_mm,
            insertion_position_ml_in_mm=spec.ml_in_mm,
            depth_in_mm=-spec.dv_in_mm,
            position_reference="bregma",
            hemisphere=spec.hemisphere,
        ),
    )


def _injection_below_fiber(
    *, name: str, description: str, fiber: FiberSpec, volume_in_uL: float, viral_vector: ViralVector
) -> ViralVectorInjection:
    """A virus injection at a fiber's site, 0.1 mm below its tip (relative to bregma)."""
    return ViralVectorInjection(
        name=name,
        description=description,
        location=fiber.location,
        hemisphere=fiber.hemisphere,
        reference="bregma",
        ap_in_mm=fiber.ap_in_mm,
        ml_in_mm=fiber.ml_in_mm,
        dv_in_mm=fiber.dv_in_mm - 0.1,
        volume_in_uL=volume_in_uL,
        viral_vector=viral_vector,
    )


def _indicator(*, spec: IndicatorSpec, injection: ViralVectorInjection | None) -> Indicator:
    if spec.is_tracer:
        return FluorescentTracer(
            name=spec.name,
            label=spec.label,
            description=spec.description,
            manufacturer="Thermo Fisher Scientific",
            fluorophore=spec.fluorophore,
            carrier_molecule=spec.carrier_molecule,
            molecular_weight_in_kDa=spec.molecular_weight_in_kDa,
            labeled_compartment=spec.labeled_compartment,
            excitation_peak_in_nm=spec.excitation_peak_in_nm,
            emission_peak_in_nm=spec.emission_peak_in_nm,
        )
    return Indicator(
        name=spec.name,
        label=spec.label,
        description=spec.description,
        manufacturer="Yulong Li lab",
        viral_vector_injection=injection,
    )


def _add_photometry(
    *, nwbfile: NWBFile, session: SimulatedSession, fibers: dict[str, OpticalFiber], show_progress: bool
) -> dict[str, Indicator]:
    p = session.parameters
    led_model = ExcitationSourceModel(
        name="led_model",
        description="Fiber-coupled LED of the photometry processor, sinusoidally modulated for lock-in detection.",
        manufacturer="Tucker-Davis Technologies",
        model_number="RZ10x LUX LED",
        source_type="LED",
        excitation_mode="one-photon",
    )
    detector_model = PhotodetectorModel(
        name="photodetector_model",
        description="Integrated photosensor of the photometry processor.",
        manufacturer="Tucker-Davis Technologies",
        model_number="RZ10x LUX photosensor",
        detector_type="photodiode",
    )
    nwbfile.add_device_model(led_model)
    nwbfile.add_device_model(detector_model)
    detector = Photodetector(
        name="photodetector", description="Photosensor reading every photometry channel.", model=detector_model
    )
    nwbfile.add_device(detector)
    leds: dict[float, ExcitationSource] = {}
    for spec in PHOTOMETRY_CHANNELS:
        wavelength = spec.excitation_wavelength_in_nm
        if wavelength not in leds:
            leds[wavelength] = ExcitationSource(
                name=f"led_{wavelength:g}nm",
                description=f"{wavelength:g} nm excitation LED.",
                model=led_model,
                power_in_W=30e-6,
            )
            nwbfile.add_device(leds[wavelength])

    grab_vector = ViralVector(
        name="AAV_GRAB_NE2m",
        construct_name="AAV9-hSyn-GRAB_NE2m",
        description="Norepinephrine sensor GRAB_NE2m under the human synapsin promoter.",
        manufacturer="WZ Biosciences",
        titer_in_vg_per_ml=1.0e13,
    )
    grab_injection = _injection_below_fiber(
        name="GRAB_NE_injection",
        description="Injection of AAV9-hSyn-GRAB_NE2m at the norepinephrine fiber site.",
        fiber=FIBERS["fiber_ne"],
        volume_in_uL=0.5,
        viral_vector=grab_vector,
    )
    indicators = {
        key: _indicator(spec=spec, injection=None if spec.is_tracer else grab_injection)
        for key, spec in INDICATORS.items()
    }
    table = FiberPhotometryChannelsTable(
        name="fiber_photometry_table",
        description="Simulated photometry channels: what each measures and which channel is its control.",
    )
    row_of = {spec.name: row for row, spec in enumerate(PHOTOMETRY_CHANNELS)}
    for spec in PHOTOMETRY_CHANNELS:
        table.add_row(
            location=FIBERS[spec.fiber].location,
            excitation_wavelength_in_nm=spec.excitation_wavelength_in_nm,
            emission_wavelength_in_nm=spec.emission_wavelength_in_nm,
            indicator=indicators[spec.indicator],
            optical_fiber=fibers[spec.fiber],
            excitation_source=leds[spec.excitation_wavelength_in_nm],
            photodetector=detector,
            measured_quantity=spec.measured_quantity,
            channel_role=spec.channel_role,
            control_channel=row_of[spec.control_channel] if spec.control_channel else -1,
            stream_name=spec.stream_name,
        )
    nwbfile.add_lab_meta_data(
        FiberPhotometry(
            name="fiber_photometry",
            fiber_photometry_table=table,
            fiber_photometry_indicators=FiberPhotometryIndicators(indicators=list(indicators.values())),
            fiber_photometry_viruses=FiberPhotometryViruses(viral_vectors=[grab_vector]),
            fiber_photometry_virus_injections=FiberPhotometryVirusInjections(viral_vector_injections=[grab_injection]),
        )
    )
    for row, spec in enumerate(PHOTOMETRY_CHANNELS):

        def fetch(start: int, stop: int, channel: str = spec.name) -> np.ndarray:
            return photometry_samples(session=session, channel=channel, start=start, stop=stop)

        iterator = _SimulatedStreamIterator(
            fetch=fetch,
            n_samples=session.n_photometry_samples,
            n_channels=None,
            scale=1.0,
            chunk_samples=_PHOTOMETRY_CHUNK_SAMPLES,
            buffer_samples=_PHOTOMETRY_BUFFER_SAMPLES,
            display_progress=show_progress,
            description=spec.name,
        )
        nwbfile.add_acquisition(
            FiberPhotometryResponseSeries(
                name=spec.name,
                description=f"Demodulated photometry signal: {spec.description}",
                data=_compressed(iterator),
                unit="V",
                rate=p.photometry_rate_in_Hz,
                starting_time=0.0,
                fiber_photometry_table_region=DynamicTableRegion(
                    name="fiber_photometry_table_region",
                    data=[row],
                    description=f"The channel row of '{spec.name}'.",
                    table=table,
                ),
            )
        )
    return indicators


def _add_ephys(*, nwbfile: NWBFile, session: SimulatedSession, show_progress: bool) -> None:
    amplifier_model = DeviceModel(
        name="eeg_emg_amplifier_model",
        manufacturer="Tucker-Davis Technologies",
        model_number="PZ5 neurodigitizer",
        description="Amplifier and digitizer recording EEG and EMG.",
    )
    nwbfile.add_device_model(amplifier_model)
    amplifier = Device(
        name="eeg_emg_amplifier", description="EEG/EMG amplifier of the simulated rig.", model=amplifier_model
    )
    nwbfile.add_device(amplifier)
    groups = {}
    for spec in ELECTRODE_CHANNELS:
        if spec.group not in groups:
            groups[spec.group] = nwbfile.create_electrode_group(
                name=spec.group,
                description=f"{spec.series} electrodes ({spec.group_location}).",
                location=spec.group_location,
                device=amplifier,
            )
    nwbfile.add_electrode_column(name="channel_name", description="Channel label on the rig (EDF label).")
    rows: dict[str, list[int]] = {"EEG": [], "EMG": []}
    for row, spec in enumerate(ELECTRODE_CHANNELS):
        nwbfile.add_electrode(group=groups[spec.group], location=spec.location, channel_name=spec.name)
        rows[spec.series].append(row)
    for series in ("EEG", "EMG"):
        channels = electrode_channels(series=series)

        def fetch(start: int, stop: int, series: str = series) -> np.ndarray:
            return ephys_samples(session=session, series=series, start=start, stop=stop)

        iterator = _SimulatedStreamIterator(
            fetch=fetch,
            n_samples=session.n_ephys_samples,
            n_channels=len(channels),
            scale=_MICROVOLTS_PER_VOLT,
            chunk_samples=_EPHYS_CHUNK_SAMPLES,
            buffer_samples=_EPHYS_BUFFER_SAMPLES,
            display_progress=show_progress,
            description=series,
        )
        names = ", ".join(spec.name for spec in channels)
        nwbfile.add_acquisition(
            ElectricalSeries(
                name=series,
                description=f"Simulated {series} ({names}), stored in microvolts.",
                data=_compressed(iterator),
                electrodes=nwbfile.create_electrode_table_region(
                    region=rows[series], description=f"{series} electrodes ({names})."
                ),
                rate=session.parameters.ephys_rate_in_Hz,
                starting_time=0.0,
                conversion=1.0 / _MICROVOLTS_PER_VOLT,
                filtering="none (simulated broadband signal)",
            )
        )


def _add_optogenetics(*, nwbfile: NWBFile, session: SimulatedSession, fibers: dict[str, OpticalFiber]) -> None:
    p = session.parameters
    truth = session.ground_truth
    laser_model = ExcitationSourceModel(
        name="laser_model",
        description="473 nm DPSS laser for optogenetic stimulation.",
        manufacturer="Shanghai Laser & Optics Century",
        model_number="BL473T3",
        source_type="Solid-State Laser",
        excitation_mode="one-photon",
    )
    nwbfile.add_device_model(laser_model)
    laser = ExcitationSource(
        name="laser_473nm",
        description="Blue laser for LC and smooth-muscle stimulation.",
        model=laser_model,
        power_in_W=p.lc_power_in_mW / 1000.0,
    )
    nwbfile.add_device(laser)
    chr2_vector = ViralVector(
        name="AAV_PRS_ChR2",
        construct_name="AAV5-PRSx8-hChR2(H134R)-mCherry",
        description="ChR2 under the PRSx8 promoter, selective for noradrenergic LC neurons.",
        manufacturer="UNC Vector Core",
        titer_in_vg_per_ml=4.0e12,
    )
    chr2_injection = _injection_below_fiber(
        name="LC_ChR2_injection",
        description="Injection of AAV5-PRSx8-hChR2(H134R)-mCherry into the locus coeruleus.",
        fiber=FIBERS["fiber_lc"],
        volume_in_uL=0.3,
        viral_vector=chr2_vector,
    )
    lc_effector = Effector(
        name="ChR2_LC",
        label="hChR2(H134R)",
        description="ChR2 in noradrenergic LC neurons.",
        viral_vector_injection=chr2_injection,
    )
    smooth_muscle_effector = Effector(
        name="ChR2_smooth_muscle",
        label="ChR2(H134R)",
        description="ChR2 in arterial smooth muscle cells under the recording fiber.",
    )
    sites = OptogeneticSitesTable(
        description="Optogenetic stimulation sites: LC (row 0), arterial smooth muscle (row 1)."
    )
    sites.add_row(excitation_source=laser, optical_fiber=fibers["fiber_lc"], effector=lc_effector)
    sites.add_row(excitation_source=laser, optical_fiber=fibers["fiber_flow"], effector=smooth_muscle_effector)
    nwbfile.add_lab_meta_data(
        OptogeneticExperimentMetadata(
            stimulation_software="Synapse (simulated)",
            optogenetic_sites_table=sites,
            optogenetic_viruses=OptogeneticViruses(viral_vectors=[chr2_vector]),
            optogenetic_virus_injections=OptogeneticVirusInjections(viral_vector_injections=[chr2_injection]),
            optogenetic_effectors=OptogeneticEffectors(effectors=[lc_effector, smooth_muscle_effector]),
        )
    )
    period_in_ms = 1000.0 / p.lc_pulse_frequency_in_Hz
    lc_epochs = OptogeneticEpochsTable(
        name="lc_optogenetic_stimulation",
        description=(
            f"Optogenetic stimulation of the locus coeruleus: {p.lc_train_duration_in_s:g} s trains of "
            f"{p.lc_pulse_width_in_ms:g} ms pulses at {p.lc_pulse_frequency_in_Hz:g} Hz during NREM sleep."
        ),
        target_tables={"optogenetic_sites": sites},
    )
    for epoch in truth.lc_stimulation:
        lc_epochs.add_row(
            start_time=epoch.start_in_s,
            stop_time=epoch.stop_in_s,
            stimulation_on=True,
            pulse_length_in_ms=p.lc_pulse_width_in_ms,
            period_in_ms=period_in_ms,
            number_pulses_per_pulse_train=round((epoch.stop_in_s - epoch.start_in_s) * p.lc_pulse_frequency_in_Hz),
            number_trains=1,
            intertrain_interval_in_ms=0.0,
            power_in_mW=p.lc_power_in_mW,
            wavelength_in_nm=p.lc_wavelength_in_nm,
            optogenetic_sites=[0],
        )
    if truth.lc_stimulation:  # an empty table is a best-practice warning
        nwbfile.add_time_intervals(lc_epochs)
    vasomotion = VasomotionStimulationEpochsTable(
        name="vasomotion_stimulation",
        description=(
            "Optogenetic stimulation of arterial smooth muscle, square light modulation imposing slow vasomotion."
        ),
        target_tables={"optogenetic_sites": sites},
    )
    for epoch in truth.vasomotion_stimulation:
        modulation_period_in_ms = 1000.0 / epoch.pulse_frequency_in_Hz
        vasomotion.add_row(
            start_time=epoch.start_in_s,
            stop_time=epoch.stop_in_s,
            stimulation_on=True,
            pulse_length_in_ms=epoch.pulse_width_in_ms,
            period_in_ms=modulation_period_in_ms,
            number_pulses_per_pulse_train=round((epoch.stop_in_s - epoch.start_in_s) * epoch.pulse_frequency_in_Hz),
            number_trains=1,
            intertrain_interval_in_ms=0.0,
            power_in_mW=5.0,
            wavelength_in_nm=p.lc_wavelength_in_nm,
            optogenetic_sites=[1],
            stimulation_method="optogenetic",
            target="arterial smooth muscle",
            modulation_frequency_in_Hz=epoch.pulse_frequency_in_Hz,
            modulation_waveform="square",
        )
    if truth.vasomotion_stimulation:
        nwbfile.add_time_intervals(vasomotion)


def _add_intervals(*, nwbfile: NWBFile, session: SimulatedSession, indicators: dict[str, Indicator]) -> None:
    truth = session.ground_truth
    hypnogram = Hypnogram(
        name="sleep_states",
        description="True sleep states of the simulated session; micro-arousals split their NREM bouts.",
        scoring_method="automatic",
        scorer=f"ndx-glymphatic {__version__} simulator (ground truth)",
    )
    for row in truth.sleep_states:
        hypnogram.add_row(start_time=row.start_in_s, stop_time=row.stop_in_s, sleep_state=row.state)
    nwbfile.add_time_intervals(hypnogram)

    infusion = truth.infusion
    infusions = TracerInfusionsTable(
        name="tracer_infusions", description="Intracisternal infusion of the fluorescent CSF tracer."
    )
    infusions.add_row(
        start_time=infusion["start_in_s"],
        stop_time=infusion["stop_in_s"],
        tracer=indicators[infusion["tracer"]],
        route=infusion["route"],
        site=infusion["site"],
        volume_in_uL=infusion["volume_in_uL"],
        rate_in_uL_per_min=infusion["rate_in_uL_per_min"],
        concentration=0.5,
        concentration_unit="%",
    )
    nwbfile.add_time_intervals(infusions)

    drug = truth.drug
    drugs = DrugAdministrationsTable(
        name="drug_administrations", description=f"{drug['name']} i.p. injection ({drug['condition']} condition)."
    )
    drugs.add_row(
        start_time=drug["time_in_s"],
        stop_time=drug["time_in_s"] + 5.0,
        drug=drug["name"],
        dose=drug["dose"],
        dose_unit=drug["dose_unit"],
        route=drug["route"],
        vehicle=drug["vehicle"],
    )
    nwbfile.add_time_intervals(drugs)
    nwbfile.add_lab_meta_data(
        ExperimentalCondition(
            condition=truth.condition,
            is_control=truth.condition == "vehicle",
            description=("Zolpidem 10 mg/kg i.p." if truth.condition == "zolpidem" else "Vehicle (saline) i.p.")
            + f" at {drug['time_in_s']:g} s into the simulated light-phase session.",
        )
    )


def build_session_nwbfile(*, session: SimulatedSession, show_progress: bool = False) -> NWBFile:
    """Build the in-memory NWBFile of a simulated session; high-rate data stay lazy iterators.

    Parameters
    ----------
    session : SimulatedSession
    show_progress : bool
        Show one tqdm bar per streamed series while the file is written.

    Returns
    -------
    NWBFile
        Write it once (its iterators are consumed by the write).
    """
    p = session.parameters
    identifier = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ndx-glymphatic/simulation/{session.session_id}/{p.to_dict()}"))
    nwbfile = NWBFile(
        session_description=(
            f"Simulated {p.duration_in_s / 3600:g} h light-phase sleep session ({p.condition}) with photometry of "
            "norepinephrine, cerebral blood volume and a CSF tracer, EEG and EMG."
        ),
        identifier=identifier,
        session_start_time=datetime.fromisoformat(p.session_start_time),
        session_id=session.session_id,
        experimenter=["Simulator, ndx-glymphatic"],
        lab="ndx-glymphatic simulation",
        institution="ndx-glymphatic",
        experiment_description=(
            "Synthetic session with known ground truth: infraslow NE oscillation in NREM, anti-correlated blood "
            "volume, CSF tracer influx, micro-arousals at NE peaks, LC optogenetic stimulation, vasomotion "
            "stimulation and a drug condition (Hauglund et al. 2025 design)."
        ),
        keywords=["glymphatic", "sleep", "norepinephrine", "fiber photometry", "simulation"],
        source_script=f"ndx_glymphatic.simulation (ndx-glymphatic {__version__})",
        source_script_file_name="ndx_glymphatic/simulation/nwb.py",
        notes="Simulation parameters: " + repr(p.to_dict()),
    )
    nwbfile.subject = Subject(
        subject_id=f"sim{p.seed:04d}",
        species="Mus musculus",
        sex="M",
        age="P90D",
        strain="C57BL/6J",
        description="Simulated adult male mouse.",
    )
    fiber_model = OpticalFiberModel(
        name="optical_fiber_model",
        description="400 um core, 0.48 NA fiber optic cannula.",
        manufacturer="Doric Lenses",
        model_number="MFC_400/430-0.48",
        numerical_aperture=0.48,
        core_diameter_in_um=400.0,
    )
    nwbfile.add_device_model(fiber_model)
    fiber_descriptions = {
        "fiber_ne": "Photometry fiber for the norepinephrine sensor.",
        "fiber_flow": "Photometry fiber for blood volume and CSF tracer; also delivers vasomotion stimulation light.",
        "fiber_lc": "Optogenetic fiber above the locus coeruleus.",
    }
    fibers = {
        key: _fiber(spec=spec, model=fiber_model, description=fiber_descriptions[key]) for key, spec in FIBERS.items()
    }
    for fiber in fibers.values():
        nwbfile.add_device(fiber)
    indicators = _add_photometry(nwbfile=nwbfile, session=session, fibers=fibers, show_progress=show_progress)
    _add_ephys(nwbfile=nwbfile, session=session, show_progress=show_progress)
    _add_optogenetics(nwbfile=nwbfile, session=session, fibers=fibers)
    _add_intervals(nwbfile=nwbfile, session=session, indicators=indicators)
    return nwbfile


def write_session_nwb(
    *, session: SimulatedSession, path: str | Path, overwrite: bool = False, show_progress: bool = False
) -> Path:
    """Write a simulated session to ``path`` (atomically: no partial file on failure).

    Parameters
    ----------
    session : SimulatedSession
    path : str or Path
        The ``.nwb`` file to create.
    overwrite : bool
        Replace an existing file.
    show_progress : bool
        Show tqdm bars while streaming the high-rate series.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    nwbfile = build_session_nwbfile(session=session, show_progress=show_progress)
    with atomic_output_path(destination=path, overwrite=overwrite) as temporary:
        with warnings.catch_warnings():
            # The temporary name ends in ".partial"; the final name is checked above.
            warnings.filterwarnings("ignore", message="The file path provided.*does not end in '.nwb'")
            with NWBHDF5IO(str(temporary), mode="w") as io:
                io.write(nwbfile)
    return path
