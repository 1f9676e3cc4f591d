"""Write a simulated session as rig files + a ready session file, so every reader is tested at any length.

``glymph simulate OUTDIR --format tdt|doric|npm|ppd`` uses :data:`SESSION_WRITERS`. Each format writes:

- the photometry recording in that rig's format (TDT Synapse block, Doric ``.doric`` V6, Neurophotometrics
  FP3002 CSV + digital-input CSV, pyPhotometry ``.ppd``), with a sync TTL (``PtC0`` / ``DIO01`` /
  digital input / digital line 1) at irregular intervals and, for TDT, the LC laser pulses (``Pu1/``);
- EEG/EMG as an EDF+ file from a second system with its own clock: it starts ``EEG_CLOCK_OFFSET_IN_S``
  after the photometry recording and its clock runs ``EEG_CLOCK_DRIFT_PPM`` fast, so converting it
  exercises clock alignment; the sync TTL is in its annotations (``TTL: Rise`` / ``TTL: Fall``);
- the hypnogram as a SleepScore-style state table, scored on the EEG clock;
- ``session.yaml``: every metadata field and the channel semantics, ready for ``glymph convert``. It is
  serialised from :func:`simulated_session_config`, the typed :class:`~ndx_glymphatic.session.SessionConfig`
  of the session (which also serves callers that build NWB from a simulated session without rig files).

Rates: TDT and Doric photometry keep the simulator's rate (1017.25 Hz by default); NPM frames run at
``NPM_FRAME_RATE_IN_HZ`` (30 Hz per LED) and pyPhotometry at ``PPD_RATE_IN_HZ``, sampled from the
simulated streams at the nearest sample. NPM has no far-red LED (no CSF tracer channel) and the
``.ppd`` holds the two NE channels.

EEG content: sample ``i`` of the EDF is simulator sample ``i + offset samples``, i.e. the EEG content is
exact at the start and its clock drift shifts it by ``drift * t`` (0.36 s after 10 h at 10 ppm) against
the simulator's ground truth, as on a real rig.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ndx_glymphatic import __version__
from ndx_glymphatic.io import atomic_output_path
from ndx_glymphatic.session import (
    AmplifierConfig,
    ClockAlignmentConfig,
    ConditionConfig,
    DevicesConfig,
    DrugConfig,
    ElectrodeConfig,
    ElectrodeGroupConfig,
    ElectrophysiologyConfig,
    EpochConfig,
    ExcitationSourceConfig,
    FiberConfig,
    FromTtlConfig,
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
    PhotometryFormat,
    SessionConfig,
    SessionInfo,
    SubjectConfig,
    TracerConfig,
    VasomotionStimulationConfig,
    ViralVectorConfig,
)
from ndx_glymphatic.simulation import (
    ELECTRODE_CHANNELS,
    FIBERS,
    INDICATORS,
    PHOTOMETRY_CHANNELS,
    SimulatedSession,
    electrode_channels,
    iter_ephys_chunks,
    iter_photometry_chunks,
    photometry_samples,
)

__all__ = [
    "EEG_CLOCK_DRIFT_PPM",
    "EEG_CLOCK_OFFSET_IN_S",
    "NPM_FRAME_RATE_IN_HZ",
    "PPD_RATE_IN_HZ",
    "SESSION_WRITERS",
    "simulated_session_config",
    "sync_pulse_times",
    "write_rig_session",
]

#: The EEG system starts this long after the photometry system (seconds on the photometry clock).
EEG_CLOCK_OFFSET_IN_S = 2.5
#: The EEG system's clock runs this much fast (parts per million).
EEG_CLOCK_DRIFT_PPM = 10.0
#: Neurophotometrics camera frame rate (all LEDs together; three LEDs -> 30 Hz each).
NPM_FRAME_RATE_IN_HZ = 90.0
#: pyPhotometry sampling rate.
PPD_RATE_IN_HZ = 130
#: Sync TTL pulse width and the range of intervals between pulses (irregular, so pulses are matchable).
SYNC_PULSE_WIDTH_IN_S = 0.1
SYNC_INTERVAL_RANGE_IN_S = (2.0, 10.0)
#: EDF signal labels (Pinnacle Sirenia style) of the simulator's electrode channels.
EDF_LABELS = {"EEG1": "EEG EEG1A-B", "EEG2": "EEG EEG2A-B", "EMG": "EMG EMG"}
_EDF_RANGE_IN_uV = 3000.0
_TDT_CODES = {
    "ne_465nm": "465A",
    "ne_isosbestic_405nm": "405A",
    "blood_volume_560nm": "560B",
    "csf_tracer_650nm": "650B",
}
_NPM_LEDS = {"ne_465nm": (470, "G0"), "ne_isosbestic_405nm": (415, "G0"), "blood_volume_560nm": (560, "G1")}
_PPD_CHANNELS = ("ne_465nm", "ne_isosbestic_405nm")
_PPD_VOLTS_PER_DIVISION = 3.3 / (1 << 15)
_CHUNK = 1 << 20


def sync_pulse_times(*, duration_in_s: float, seed: int) -> np.ndarray:
    """Onsets of the shared sync TTL on the photometry clock: irregular intervals, reproducible per seed."""
    rng = np.random.default_rng([seed, 0x5C])
    low, high = SYNC_INTERVAL_RANGE_IN_S
    n = int(duration_in_s / low) + 2
    onsets = 1.0 + np.cumsum(rng.uniform(low, high, n))
    return onsets[onsets + SYNC_PULSE_WIDTH_IN_S < duration_in_s - 1.0]


def _eeg_clock(times_in_s: np.ndarray) -> np.ndarray:
    """Photometry-clock times -> EEG-clock times (``t_eeg = (t - offset) / slope``)."""
    slope = 1.0 + EEG_CLOCK_DRIFT_PPM * 1e-6
    return (np.asarray(times_in_s, dtype=np.float64) - EEG_CLOCK_OFFSET_IN_S) / slope


def _lc_pulses(session: SimulatedSession) -> tuple[np.ndarray, np.ndarray]:
    p = session.parameters
    onsets = [
        epoch.start_in_s
        + np.arange(round((epoch.stop_in_s - epoch.start_in_s) * epoch.pulse_frequency_in_Hz))
        / epoch.pulse_frequency_in_Hz
        for epoch in session.ground_truth.lc_stimulation
    ]
    onsets_array = np.concatenate(onsets) if onsets else np.empty(0)
    return onsets_array, onsets_array + p.lc_pulse_width_in_ms / 1e3


def _resampled_chunks(
    *, session: SimulatedSession, channel: str, times_in_s: np.ndarray, chunk: int = _CHUNK
) -> Iterator[np.ndarray]:
    """The simulated channel at the sample nearest each time (for rigs slower than the simulator)."""
    rate = session.parameters.photometry_rate_in_Hz
    last = session.n_photometry_samples - 1
    for start in range(0, len(times_in_s), chunk):
        indices = np.clip(np.rint(times_in_s[start : start + chunk] * rate).astype(np.int64), 0, last)
        block = photometry_samples(session=session, channel=channel, start=int(indices[0]), stop=int(indices[-1]) + 1)
        yield block[indices - indices[0]]


def _channels_for(format_name: str, channels: Sequence[str] | None) -> tuple[Any, ...]:
    allowed = {"npm": set(_NPM_LEDS), "ppd": set(_PPD_CHANNELS)}.get(format_name)
    specs = [spec for spec in PHOTOMETRY_CHANNELS if channels is None or spec.name in channels]
    if allowed is not None:
        specs = [spec for spec in specs if spec.name in allowed]
    names = {spec.name for spec in specs}
    # A control channel must come with its signal channel and vice versa.
    return tuple(spec for spec in specs if spec.control_channel is None or spec.control_channel in names)


# ------------------------------------------------------------------------------------ photometry
def _write_tdt(
    *, session: SimulatedSession, photometry: PhotometryConfig, specs: tuple, sync: np.ndarray, overwrite: bool,
    show_progress: bool,
) -> list[Path]:
    from ndx_glymphatic.simulation.rig_files.tdt import TdtEpocSource, TdtStreamSource, write_tdt_block

    p = session.parameters
    streams = [
        TdtStreamSource(
            code=_TDT_CODES[spec.name],
            rate_in_Hz=p.photometry_rate_in_Hz,
            chunks=(chunk.astype(np.float32) for chunk in iter_photometry_chunks(session=session, channel=spec.name)),
        )
        for spec in specs
    ]
    lc_on, lc_off = _lc_pulses(session)
    epocs = [TdtEpocSource(code="PtC0", onset_times_in_s=sync, offset_times_in_s=sync + SYNC_PULSE_WIDTH_IN_S)]
    if lc_on.size:
        epocs.append(TdtEpocSource(code="Pu1/", onset_times_in_s=lc_on, offset_times_in_s=lc_off))
    summary = write_tdt_block(
        folder=photometry.file.parent,
        block_name=photometry.file.name,
        start_time=datetime.fromisoformat(p.session_start_time),
        streams=streams,
        epocs=epocs,
        tank_name="GlymphSim",
        expected_duration_in_s=p.duration_in_s,
        overwrite=overwrite,
        show_progress=show_progress,
    )
    return [summary.tsq_path, summary.tev_path, *summary.sev_paths]


def _write_doric(
    *, session: SimulatedSession, photometry: PhotometryConfig, specs: tuple, sync: np.ndarray, overwrite: bool,
    show_progress: bool,
) -> list[Path]:
    from ndx_glymphatic.simulation.rig_files.doric import DoricGroup, write_doric_v6

    p = session.parameters
    rate = p.photometry_rate_in_Hz
    groups = []
    for channel in photometry.channels:
        group, dataset = channel.stream.split("/")
        groups.append(
            DoricGroup(
                path=group,
                rate_in_Hz=rate,
                datasets={dataset: iter_photometry_chunks(session=session, channel=channel.name)},
                usernames={dataset: channel.name},
            )
        )

    def digital_chunks() -> Iterator[np.ndarray]:
        for start in range(0, session.n_photometry_samples, _CHUNK):
            times = (start + np.arange(min(_CHUNK, session.n_photometry_samples - start))) / rate
            index = np.searchsorted(sync, times, side="right") - 1
            high = (index >= 0) & (times < sync[np.maximum(index, 0)] + SYNC_PULSE_WIDTH_IN_S)
            yield high.astype(np.float64)

    groups.append(DoricGroup(path="DigitalIO", rate_in_Hz=rate, datasets={"DIO01": digital_chunks()}))
    photometry.file.parent.mkdir(parents=True, exist_ok=True)
    write_doric_v6(destination=photometry.file, series={"Series0001": groups}, overwrite=overwrite)
    return [photometry.file]


def _write_npm(
    *, session: SimulatedSession, photometry: PhotometryConfig, specs: tuple, sync: np.ndarray, overwrite: bool,
    show_progress: bool,
) -> list[Path]:
    from ndx_glymphatic.simulation.rig_files.neurophotometrics import (
        interleave_npm_frames,
        write_npm_current_csv,
        write_npm_digital_inputs_csv,
    )

    p = session.parameters
    leds = sorted({_NPM_LEDS[spec.name][0] for spec in specs}, key=[470, 415, 560].index)
    per_led_rate = NPM_FRAME_RATE_IN_HZ / len(leds)
    n_per_led = int(p.duration_in_s * per_led_rate) - 1
    device_start_in_s = 1000.0  # FP3002 device clock at the first frame
    rois = sorted({_NPM_LEDS[spec.name][1] for spec in specs})
    block = 20_000

    def frame_chunks() -> Iterator[Any]:
        for first in range(0, n_per_led, block):
            n = min(block, n_per_led - first)
            signals: dict[int, dict[str, np.ndarray]] = {led: {roi: np.zeros(n) for roi in rois} for led in leds}
            for spec in specs:
                led, roi = _NPM_LEDS[spec.name]
                position = leds.index(led)
                frame_index = 1 + (first + np.arange(n)) * len(leds) + position
                times = frame_index / NPM_FRAME_RATE_IN_HZ
                signals[led][roi] = next(
                    _resampled_chunks(session=session, channel=spec.name, times_in_s=times, chunk=n)
                )
            for led in leds:  # ROIs a LED does not excite record background light
                for roi in rois:
                    if not any(_NPM_LEDS[s.name] == (led, roi) for s in specs):
                        signals[led][roi] = np.full(n, 0.01)
            yield interleave_npm_frames(
                led_signals=signals,
                frame_rate_in_Hz=NPM_FRAME_RATE_IN_HZ,
                led_order=leds,
                start_time_in_s=device_start_in_s,
                first_frame_index=0 if first == 0 else 1 + first * len(leds),
                first_frame_all_leds=first == 0,
            )

    photometry.file.parent.mkdir(parents=True, exist_ok=True)
    csv_path = write_npm_current_csv(destination=photometry.file, frames=frame_chunks(), overwrite=overwrite)
    (digital_destination,) = photometry.digital_input_files
    digital_path = write_npm_digital_inputs_csv(
        destination=digital_destination,
        generation=1,
        onsets_in_s={"Input0": sync + device_start_in_s},
        offsets_in_s={"Input0": sync + SYNC_PULSE_WIDTH_IN_S + device_start_in_s},
        overwrite=overwrite,
    )
    return [csv_path, digital_path]


def _write_ppd(
    *, session: SimulatedSession, photometry: PhotometryConfig, specs: tuple, sync: np.ndarray, overwrite: bool,
    show_progress: bool,
) -> list[Path]:
    from ndx_glymphatic.simulation.rig_files.pyphotometry import adc_counts_from_volts, write_ppd

    p = session.parameters
    n = int(p.duration_in_s * PPD_RATE_IN_HZ)
    times = np.arange(n) / PPD_RATE_IN_HZ
    analog = [
        (
            adc_counts_from_volts(volts=chunk, volts_per_division=_PPD_VOLTS_PER_DIVISION)
            for chunk in _resampled_chunks(session=session, channel=spec.name, times_in_s=times)
        )
        for spec in specs
    ]

    def digital() -> Iterator[np.ndarray]:
        for start in range(0, n, _CHUNK):
            t = times[start : start + _CHUNK]
            index = np.searchsorted(sync, t, side="right") - 1
            yield ((index >= 0) & (t < sync[np.maximum(index, 0)] + SYNC_PULSE_WIDTH_IN_S)).astype(np.uint16)

    photometry.file.parent.mkdir(parents=True, exist_ok=True)
    write_ppd(
        destination=photometry.file,
        analog_counts=analog,
        digital_levels=[digital()],
        mode="2EX_2EM_continuous",
        sampling_rate=PPD_RATE_IN_HZ,
        volts_per_division=[_PPD_VOLTS_PER_DIVISION] * len(specs),
        date_time=datetime.fromisoformat(p.session_start_time).replace(tzinfo=None),
        subject_id=f"sim{p.seed:04d}",
        version="1.1",
        overwrite=overwrite,
    )
    return [photometry.file]


_PHOTOMETRY_WRITERS: dict[str, Callable[..., list[Path]]] = {
    "tdt": _write_tdt,
    "doric": _write_doric,
    "npm": _write_npm,
    "ppd": _write_ppd,
}
_SYNC_CHANNELS = {"tdt": "PtC0", "doric": "DIO01", "npm": "digital_inputs", "ppd": "digital_1"}
#: Sync TTLs sampled by the photometry system at its frame rate are only that precise: looser alignment limits.
_ALIGNMENT_LIMITS = {"ppd": {"max_residual_rms_in_s": 0.005, "tolerance_in_s": 0.02}}
_SYSTEMS = {
    "tdt": "TDT RZ10x (simulated)",
    "doric": "Doric FP console (simulated)",
    "npm": "Neurophotometrics FP3002 (simulated)",
    "ppd": "pyPhotometry (simulated)",
}


# --------------------------------------------------------------------------------- EEG and hypnogram
def _edf_samples(session: SimulatedSession) -> tuple[int, int]:
    """First simulator sample in the EDF (the EEG system starts later) and the EDF's number of samples."""
    rate = session.parameters.ephys_rate_in_Hz
    offset_samples = round(EEG_CLOCK_OFFSET_IN_S * rate)
    n = session.n_ephys_samples - offset_samples
    return offset_samples, n - n % round(rate)  # whole 1-s data records


def _write_edf(
    *, session: SimulatedSession, path: Path, sync: np.ndarray, overwrite: bool, show_progress: bool
) -> Path:
    from ndx_glymphatic.simulation.rig_files.edf import EdfSignalSource, write_edf

    p = session.parameters
    rate = p.ephys_rate_in_Hz
    offset_samples, n = _edf_samples(session)

    def channel_chunks(series: str, column: int) -> Iterator[np.ndarray]:
        for chunk in iter_ephys_chunks(
            session=session, series=series, start=offset_samples, stop=offset_samples + n, chunk_samples=_CHUNK
        ):
            yield chunk[:, column] * 1e6

    signals = [
        EdfSignalSource(
            label=EDF_LABELS[spec.name],
            rate_in_Hz=rate,
            unit="uV",
            chunks=channel_chunks(
                spec.series, [c.name for c in electrode_channels(series=spec.series)].index(spec.name)
            ),
            physical_min=-_EDF_RANGE_IN_uV,
            physical_max=_EDF_RANGE_IN_uV,
        )
        for spec in ELECTRODE_CHANNELS
    ]
    eeg_sync = _eeg_clock(sync)
    keep = (eeg_sync > 0) & (eeg_sync + SYNC_PULSE_WIDTH_IN_S < n / rate)
    start = datetime.fromisoformat(p.session_start_time).replace(tzinfo=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_edf(
        path=path,
        signals=signals,
        start_time=start.replace(microsecond=0),
        ttl_rise_times_in_s=eeg_sync[keep],
        ttl_fall_times_in_s=eeg_sync[keep] + SYNC_PULSE_WIDTH_IN_S,
        ttl_name="TTL",
        patient_code=f"sim{p.seed:04d}",
        equipment="Pinnacle_8200_simulated",
        expected_duration_in_s=n / rate,
        overwrite=overwrite,
        show_progress=show_progress,
    )
    return path


def _write_hypnogram(*, session: SimulatedSession, path: Path, overwrite: bool) -> Path:
    from ndx_glymphatic.converters._contract import HypnogramIntervals
    from ndx_glymphatic.simulation.rig_files.hypnogram import write_state_table

    eeg_duration_in_s = _edf_samples(session)[1] / session.parameters.ephys_rate_in_Hz
    rows = session.ground_truth.sleep_states
    starts = _eeg_clock(np.array([row.start_in_s for row in rows]))
    stops = _eeg_clock(np.array([row.stop_in_s for row in rows]))
    keep = (stops > 0) & (starts < eeg_duration_in_s)
    intervals = HypnogramIntervals(
        start_times_in_s=np.clip(starts[keep], 0.0, eeg_duration_in_s),
        stop_times_in_s=np.clip(stops[keep], 0.0, eeg_duration_in_s),
        sleep_states=tuple(row.state for row, kept in zip(rows, keep) if kept),
        scoring_method="manual",
        scorer="simulated scorer (ground truth)",
        epoch_length_in_s=None,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_state_table(destination=path, intervals=intervals, overwrite=overwrite)
    return path


# -------------------------------------------------------------------------------------- session file
def _photometry_files(*, format_name: str, session: SimulatedSession, outdir: Path) -> tuple[Path, tuple[Path, ...]]:
    """The photometry rig file (TDT: block folder) a format writes, and its digital-input files (NPM)."""
    folder = outdir / format_name
    return {
        "tdt": (folder / f"{session.session_id}-block", ()),
        "doric": (folder / f"{session.session_id}.doric", ()),
        "npm": (folder / "raw_photometry.csv", (folder / "digital_inputs.csv",)),
        "ppd": (folder / f"{session.session_id}.ppd", ()),
    }[format_name]


def _stream_names(*, format_name: str, specs: tuple) -> dict[str, str]:
    """Simulator channel name -> stream name in the rig file of that format."""
    if format_name == "tdt":
        return {spec.name: f"_{_TDT_CODES[spec.name]}" for spec in specs}
    if format_name == "doric":
        return {spec.name: f"LockInAOUT{index:02d}/AIN01" for index, spec in enumerate(specs, start=1)}
    if format_name == "npm":
        return {spec.name: f"{_NPM_LEDS[spec.name][1]}@{_NPM_LEDS[spec.name][0]}" for spec in specs}
    return {spec.name: f"analog_{index}" for index, spec in enumerate(specs, start=1)}


def _devices(*, session: SimulatedSession, specs: tuple) -> DevicesConfig:
    p = session.parameters
    fibers_used = {spec.fiber for spec in specs} | {"fiber_lc"}
    if session.ground_truth.vasomotion_stimulation:
        fibers_used.add("fiber_flow")
    leds = [
        ExcitationSourceConfig(
            name=f"led_{w:g}nm", description=f"{w:g} nm excitation LED.", manufacturer="Tucker-Davis Technologies",
            model_number="RZ10x LUX LED", source_type="LED", wavelength_in_nm=float(w), power_in_W=30e-6,
        )
        for w in sorted({spec.excitation_wavelength_in_nm for spec in specs})
    ]
    laser = ExcitationSourceConfig(
        name="laser_473nm", description="Blue laser for LC and smooth-muscle stimulation.",
        manufacturer="Shanghai Laser & Optics Century", model_number="BL473T3", source_type="Solid-State Laser",
        wavelength_in_nm=float(p.lc_wavelength_in_nm), power_in_W=p.lc_power_in_mW / 1000.0,
    )
    detector = PhotodetectorConfig(
        name="photodetector", description="Photosensor reading every photometry channel.",
        manufacturer="Tucker-Davis Technologies", model_number="RZ10x LUX photosensor", detector_type="photodiode",
    )
    fibers = [
        FiberConfig(
            name=fiber.name, description=f"Implanted fiber at the {fiber.location}.", manufacturer="Doric Lenses",
            model_number="MFC_400/430-0.48", numerical_aperture=0.48, core_diameter_in_um=400.0,
            location=fiber.location, ap_in_mm=fiber.ap_in_mm, ml_in_mm=fiber.ml_in_mm, depth_in_mm=-fiber.dv_in_mm,
            hemisphere=fiber.hemisphere,
        )
        for fiber in (FIBERS[key] for key in sorted(fibers_used))
    ]
    return DevicesConfig(excitation_sources=(*leds, laser), photodetectors=(detector,), optical_fibers=tuple(fibers))


def _injection_below(*, fiber_key: str, name: str, volume_in_uL: float) -> InjectionConfig:
    """A virus injection 0.1 mm below a fiber's tip."""
    fiber = FIBERS[fiber_key]
    return InjectionConfig(
        name=name, location=fiber.location, hemisphere=fiber.hemisphere, reference="bregma", ap_in_mm=fiber.ap_in_mm,
        ml_in_mm=fiber.ml_in_mm, dv_in_mm=fiber.dv_in_mm - 0.1, volume_in_uL=volume_in_uL,
    )


def _indicators_and_tracers(*, specs: tuple) -> tuple[tuple[IndicatorConfig, ...], tuple[TracerConfig, ...]]:
    indicators, tracers = [], []
    for key, spec in INDICATORS.items():
        if spec.is_tracer:
            tracers.append(TracerConfig(
                name=spec.name, label=spec.label, description=spec.description,
                manufacturer="Thermo Fisher Scientific", fluorophore=spec.fluorophore,
                carrier_molecule=spec.carrier_molecule, molecular_weight_in_kDa=spec.molecular_weight_in_kDa,
                labeled_compartment=spec.labeled_compartment, excitation_peak_in_nm=spec.excitation_peak_in_nm,
                emission_peak_in_nm=spec.emission_peak_in_nm,
            ))
        elif any(s.indicator == key for s in specs):
            indicators.append(IndicatorConfig(
                name=spec.name, label=spec.label, description=spec.description, manufacturer="Yulong Li lab",
                viral_vector=ViralVectorConfig(
                    name="AAV_GRAB_NE2m", construct_name="AAV9-hSyn-GRAB_NE2m",
                    description="Norepinephrine sensor GRAB_NE2m under the human synapsin promoter.",
                    manufacturer="WZ Biosciences", titer_in_vg_per_ml=1.0e13,
                ),
                injection=_injection_below(fiber_key="fiber_ne", name="GRAB_NE_injection", volume_in_uL=0.5),
            ))
    return tuple(indicators), tuple(tracers)


def _photometry(*, session: SimulatedSession, format_name: str, specs: tuple, outdir: Path) -> PhotometryConfig:
    file, digital_input_files = _photometry_files(format_name=format_name, session=session, outdir=outdir)
    streams = _stream_names(format_name=format_name, specs=specs)
    channels = tuple(
        PhotometryChannelConfig(
            name=spec.name, stream=streams[spec.name], description=spec.description,
            measured_quantity=spec.measured_quantity, channel_role=spec.channel_role,
            control_channel=spec.control_channel, indicator=spec.indicator, optical_fiber=FIBERS[spec.fiber].name,
            excitation_source=f"led_{spec.excitation_wavelength_in_nm:g}nm", photodetector="photodetector",
            excitation_wavelength_in_nm=spec.excitation_wavelength_in_nm,
            emission_wavelength_in_nm=spec.emission_wavelength_in_nm,
        )
        for spec in specs
    )
    npm_only = {"digital_input_files": digital_input_files} if digital_input_files else {}
    return PhotometryConfig(
        format=format_name, file=file, system_name=_SYSTEMS[format_name], **npm_only, channels=channels,
    )


def _electrophysiology(*, session: SimulatedSession, format_name: str, outdir: Path) -> ElectrophysiologyConfig:
    groups: dict[str, ElectrodeGroupConfig] = {}
    for spec in ELECTRODE_CHANNELS:
        groups.setdefault(spec.group, ElectrodeGroupConfig(
            name=spec.group, description=f"{spec.series} electrodes.", location=spec.group_location,
        ))
    return ElectrophysiologyConfig(
        format="edf",
        file=outdir / "eeg" / f"{session.session_id}_eeg.edf",
        amplifier=AmplifierConfig(
            name="eeg_emg_amplifier", description="EEG/EMG amplifier (Sirenia, simulated).",
            manufacturer="Pinnacle Technology", model_number="8200-K1-SL",
        ),
        electrode_groups=tuple(groups.values()),
        channels=tuple(
            ElectrodeConfig(
                name=spec.name, stream=EDF_LABELS[spec.name], series=spec.series, group=spec.group,
                location="Isocortex" if spec.series == "EEG" else "root", description=spec.description,
            )
            for spec in ELECTRODE_CHANNELS
        ),
        filtering="none (simulated broadband signal)",
        clock_alignment=ClockAlignmentConfig(
            primary_ttl_channel=_SYNC_CHANNELS[format_name], secondary_ttl_channel="TTL",
            primary_system=_SYSTEMS[format_name], secondary_system="Pinnacle Sirenia EEG/EMG (simulated)",
            **_ALIGNMENT_LIMITS.get(format_name, {}),
        ),
    )


def _optogenetics(*, session: SimulatedSession, format_name: str) -> OptogeneticsConfig:
    p = session.parameters
    truth = session.ground_truth
    effectors = [IndicatorConfig(
        name="ChR2_LC", label="hChR2(H134R)", description="ChR2 in noradrenergic LC neurons.",
        viral_vector=ViralVectorConfig(
            name="AAV_PRS_ChR2", construct_name="AAV5-PRSx8-hChR2(H134R)-mCherry",
            description="ChR2 under the PRSx8 promoter, selective for noradrenergic LC neurons.",
            manufacturer="UNC Vector Core", titer_in_vg_per_ml=4.0e12,
        ),
        injection=_injection_below(fiber_key="fiber_lc", name="LC_ChR2_injection", volume_in_uL=0.3),
    )]
    sites = [OptogeneticSiteConfig(name="LC", excitation_source="laser_473nm", optical_fiber="fiber_lc",
                                   effector="ChR2_LC")]
    sections: dict[str, Any] = {}
    if truth.lc_stimulation:
        # TDT records the laser pulses (Pu1/): the converter derives the epochs from them
        epochs: dict[str, Any] = (
            {"from_ttl": FromTtlConfig(system="photometry", event_channel="Pu1_", max_gap_in_s=2.0)}
            if format_name == "tdt"
            else {"epochs": tuple(EpochConfig(start_time_in_s=e.start_in_s, stop_time_in_s=e.stop_in_s)
                                  for e in truth.lc_stimulation)}
        )
        sections["lc_stimulation"] = LcStimulationConfig(
            description=f"Optogenetic stimulation of the locus coeruleus: {p.lc_train_duration_in_s:g} s trains of "
            f"{p.lc_pulse_width_in_ms:g} ms pulses at {p.lc_pulse_frequency_in_Hz:g} Hz during NREM sleep.",
            sites=("LC",), pulse_length_in_ms=p.lc_pulse_width_in_ms, period_in_ms=1000.0 / p.lc_pulse_frequency_in_Hz,
            number_pulses_per_pulse_train=round(p.lc_train_duration_in_s * p.lc_pulse_frequency_in_Hz),
            power_in_mW=p.lc_power_in_mW, wavelength_in_nm=p.lc_wavelength_in_nm, **epochs,
        )
    if truth.vasomotion_stimulation:
        effectors.append(IndicatorConfig(
            name="ChR2_smooth_muscle", label="ChR2(H134R)",
            description="ChR2 in arterial smooth muscle cells under the recording fiber.",
        ))
        sites.append(OptogeneticSiteConfig(name="smooth_muscle", excitation_source="laser_473nm",
                                           optical_fiber="fiber_flow", effector="ChR2_smooth_muscle"))
        first = truth.vasomotion_stimulation[0]
        sections["vasomotion_stimulation"] = VasomotionStimulationConfig(
            description="Optogenetic stimulation of arterial smooth muscle, square light modulation imposing "
            "slow vasomotion.",
            sites=("smooth_muscle",), stimulation_method="optogenetic", target="arterial smooth muscle",
            modulation_frequency_in_Hz=first.pulse_frequency_in_Hz, modulation_waveform="square",
            pulse_length_in_ms=first.pulse_width_in_ms, power_in_mW=5.0, wavelength_in_nm=p.lc_wavelength_in_nm,
            # the simulator may let the last epoch run past the end of a short session: clip it
            epochs=tuple(
                EpochConfig(start_time_in_s=e.start_in_s, stop_time_in_s=min(e.stop_in_s, p.duration_in_s - 1.0))
                for e in truth.vasomotion_stimulation
                if e.start_in_s < p.duration_in_s - 2.0
            ),
        )
    return OptogeneticsConfig(stimulation_software="Synapse (simulated)", effectors=tuple(effectors),
                              sites=tuple(sites), **sections)


def simulated_session_config(
    *,
    session: SimulatedSession,
    format_name: PhotometryFormat,
    outdir: Path,
    photometry_channels: Sequence[str] | None = None,
    include_eeg: bool = True,
    include_hypnogram: bool = True,
) -> SessionConfig:
    """The session file of a simulated session written as rig files of one format, as the typed model.

    Nothing is written: the rig-file paths are where :func:`write_rig_session` puts them, so loading the
    ``session.yaml`` it writes gives this same object.

    Parameters
    ----------
    session : SimulatedSession
        From :func:`ndx_glymphatic.simulation.simulate_session`.
    format_name : {"tdt", "doric", "npm", "ppd"}
        Photometry rig format (it decides the stream names, the sync channel and the LC epochs' source).
    outdir : Path
        Folder of the session file; the rig-file paths lie inside it.
    photometry_channels : sequence of str, optional
        Simulator channel names (default: all the format can hold).
    include_eeg, include_hypnogram : bool
        Whether the session has the EDF EEG/EMG file and the hypnogram.

    Returns
    -------
    SessionConfig
        With ``path`` = ``outdir / "session.yaml"`` and rig-file paths inside ``outdir``.
    """
    p = session.parameters
    truth = session.ground_truth
    outdir = Path(outdir)
    specs = _channels_for(format_name, photometry_channels)
    indicators, tracers = _indicators_and_tracers(specs=specs)
    sections: dict[str, Any] = {}
    if include_eeg:
        sections["electrophysiology"] = _electrophysiology(session=session, format_name=format_name, outdir=outdir)
    if include_hypnogram:
        sections["hypnogram"] = HypnogramConfig(
            file=outdir / "hypnogram" / f"{session.session_id}_sleepscore.csv", format="state-table",
            scoring_method="manual", scorer="simulated scorer (ground truth)",
            clock="electrophysiology" if include_eeg else "photometry",
            description="Sleep states scored on the EEG/EMG (SleepScore export; simulator ground truth).",
        )
    infusion, drug = truth.infusion, truth.drug
    return SessionConfig(
        path=outdir / "session.yaml",
        subject=SubjectConfig(subject_id=f"sim{p.seed:04d}", species="Mus musculus", sex="M", age="P90D",
                              strain="C57BL/6J", description="Simulated adult male mouse."),
        session=SessionInfo(
            session_start_time=p.session_start_time,
            session_description=f"Simulated {p.duration_in_s / 3600:g} h light-phase sleep session ({p.condition}) "
            f"recorded as {_SYSTEMS[format_name]} photometry + EDF EEG/EMG.",
            session_id=session.session_id,
            experimenter=("Simulator, ndx-glymphatic",),
            lab="ndx-glymphatic simulation",
            institution="ndx-glymphatic",
            experiment_description=(
                "Synthetic session with known ground truth (ndx-glymphatic simulator): infraslow NE oscillation "
                "in NREM, anti-correlated blood volume, CSF tracer influx, micro-arousals, LC optogenetic "
                "stimulation, vasomotion stimulation and a drug condition."
            ),
            keywords=("glymphatic", "sleep", "norepinephrine", "fiber photometry", "simulation"),
            notes=f"Written by ndx-glymphatic {__version__} (glymph simulate --format {format_name}).",
        ),
        devices=_devices(session=session, specs=specs),
        indicators=indicators,
        tracers=tracers,
        photometry=_photometry(session=session, format_name=format_name, specs=specs, outdir=outdir),
        **sections,
        infusions=(InfusionConfig(
            tracer=infusion["tracer"], start_time_in_s=infusion["start_in_s"], stop_time_in_s=infusion["stop_in_s"],
            route=infusion["route"], site=infusion["site"], volume_in_uL=infusion["volume_in_uL"],
            rate_in_uL_per_min=infusion["rate_in_uL_per_min"], concentration=0.5, concentration_unit="%",
        ),),
        drugs=(DrugConfig(drug=drug["name"], dose=drug["dose"], dose_unit=drug["dose_unit"], route=drug["route"],
                          vehicle=drug["vehicle"], time_in_s=drug["time_in_s"]),),
        condition=ConditionConfig(
            condition=truth.condition, is_control=truth.condition == "vehicle",
            description=("Zolpidem 10 mg/kg i.p." if truth.condition == "zolpidem" else "Vehicle (saline) i.p.")
            + f" at {drug['time_in_s']:g} s.",
        ),
        optogenetics=_optogenetics(session=session, format_name=format_name),
    )


def _write_session_file(*, config: SessionConfig, overwrite: bool) -> Path:
    header = (
        "# ndx-glymphatic conversion session file, written by `glymph simulate`.\n"
        "# Convert with: glymph convert session.yaml -o session.nwb   (schema: glymph schema session)\n"
    )
    text = yaml.safe_dump(config.to_document(), sort_keys=False, allow_unicode=True, width=100)
    with atomic_output_path(destination=config.path, overwrite=overwrite) as temporary:
        temporary.write_text(header + text)
    return config.path


def write_rig_session(
    *,
    session: SimulatedSession,
    outdir: Path,
    format: str,
    overwrite: bool = False,
    show_progress: bool = False,
    photometry_channels: Sequence[str] | None = None,
    include_eeg: bool = True,
    include_hypnogram: bool = True,
) -> list[Path]:
    """Write a simulated session as rig files plus ``session.yaml`` in ``outdir``.

    Parameters
    ----------
    session : SimulatedSession
        From :func:`ndx_glymphatic.simulation.simulate_session`.
    outdir : Path
        Output folder: ``<format>/...`` (photometry), ``eeg/*.edf``, ``hypnogram/*.csv``, ``session.yaml``.
    format : {"tdt", "doric", "npm", "ppd"}
        Photometry rig format.
    overwrite : bool
        Replace existing files.
    show_progress : bool
        Progress bars of the rig writers.
    photometry_channels : sequence of str, optional
        Simulator channel names to write (default: all the format can hold).
    include_eeg, include_hypnogram : bool
        Write the EDF EEG/EMG file and the hypnogram export.

    Returns
    -------
    list of Path
        Every file written, ``session.yaml`` last.
    """
    if format not in _PHOTOMETRY_WRITERS:
        raise ValueError(f"format must be one of {sorted(_PHOTOMETRY_WRITERS)}, got {format!r}")
    config = simulated_session_config(
        session=session, format_name=format, outdir=Path(outdir), photometry_channels=photometry_channels,
        include_eeg=include_eeg, include_hypnogram=include_hypnogram,
    )
    if config.path.exists() and not overwrite:
        from ndx_glymphatic.errors import InputFileError

        raise InputFileError(
            path=config.path,
            field="output path",
            expected="a path that does not exist yet",
            found="an existing file",
            hint="pass --overwrite to replace it",
        )
    config.path.parent.mkdir(parents=True, exist_ok=True)
    sync = sync_pulse_times(duration_in_s=session.parameters.duration_in_s, seed=session.parameters.seed)
    written = _PHOTOMETRY_WRITERS[format](
        session=session, photometry=config.photometry, specs=_channels_for(format, photometry_channels), sync=sync,
        overwrite=overwrite, show_progress=show_progress,
    )
    if config.electrophysiology is not None:
        written.append(_write_edf(session=session, path=config.electrophysiology.file, sync=sync,
                                  overwrite=overwrite, show_progress=show_progress))
    if config.hypnogram is not None:
        written.append(_write_hypnogram(session=session, path=config.hypnogram.file, overwrite=overwrite))
    written.append(_write_session_file(config=config, overwrite=overwrite))
    return written


def _session_writer(format_name: str) -> Callable[..., list[Path]]:
    def writer(*, session: SimulatedSession, outdir: Path, overwrite: bool, show_progress: bool) -> list[Path]:
        return write_rig_session(
            session=session, outdir=outdir, format=format_name, overwrite=overwrite, show_progress=show_progress
        )

    writer.__name__ = f"write_{format_name}_session"
    writer.__doc__ = f"Write OUTDIR/{format_name}/..., eeg/*.edf, hypnogram/*.csv and session.yaml."
    return writer


#: ``glymph simulate --format`` writers (merged into the simulator's registry).
SESSION_WRITERS: dict[str, Callable[..., list[Path]]] = {name: _session_writer(name) for name in _PHOTOMETRY_WRITERS}
