"""The one NWB builder: a typed session plus its recorded data -> an NWB file with the ndx-glymphatic layout.

Every NWB file of this project comes from here: the converter (rig files), the simulator and the mock
factories. The session (:class:`ndx_glymphatic.session.SessionConfig`) says what was recorded and with
what (subject, devices and their models, indicators, viral vectors and injections, fibers, channel
semantics, electrodes, infusions, drugs, condition, stimulation protocols); :class:`SessionSources` holds
the recorded data, already on the photometry (primary) clock: continuous series that stream block by
block, event channels, stimulation epochs, sleep states and the clock alignment as plain numbers. The
builder knows no rig format and no alignment algorithm: the converter's planning produces these inputs.

Layout::

    acquisition/<channel>          FiberPhotometryResponseSeries -> its row of the channels table
    acquisition/EEG, EMG           ElectricalSeries (rate + starting_time; conversion to volts)
    general/fiber_photometry       FiberPhotometry: FiberPhotometryChannelsTable, indicators, viruses
    general/optogenetic_experiment_metadata, experimental_condition, clock_alignment
    general/devices/<device>       one DeviceModel per device, named "<device>_model"
    intervals/sleep_states, tracer_infusions, drug_administrations, lc_optogenetic_stimulation,
              vasomotion_stimulation
    events/ttl_<channel>           EventsTable per event channel

Big data never sit in memory: :func:`write_nwbfile` writes the structure with pynwb -- every big dataset
created empty with its final shape, chunks and filters (gzip level 4 + shuffle by default) -- then fills
each dataset in order from its source's blocks. For gzip the chunks are compressed in a thread pool (the
HDF5 shuffle filter applied with numpy, then ``zlib``, which releases the GIL) and stored with
``write_direct_chunk``: byte for byte what HDF5's own filters write, so any HDF5 reader decodes them.
Regular sampling is stored as ``rate`` + ``starting_time``.

Checksums that every HDF5 reader verifies: the file is written in the HDF5 1.8 file format
(:data:`LIBVER`: version-2 superblock and object headers, whose metadata carry checksums; HDF5 >= 1.8 and
MATLAB read it), and every chunked dataset carries the Fletcher-32 filter last in its pipeline (the direct
chunk writer appends the checksum itself, :func:`fletcher32`), so a damaged chunk fails to read.

Public API::

    SessionSources(series=(SeriesSource, ...), events=(EventsSource, ...), sleep_states=SleepStates,
                   lc_stimulation=StimulationEpochs, vasomotion_stimulation=StimulationEpochs,
                   clock_alignment=ClockAlignmentRecord)
    SeriesSource.from_array(*, name, kind, data, rate_in_Hz, unit, ...) -> SeriesSource   # small data
    build_nwbfile(*, session, sources, settings=None, in_memory=False) -> NWBFile
    write_nwbfile(*, session, sources, path, settings=None, progress=True) -> None
    CompressionSettings(method="gzip", level=4, shuffle=True, chunk_bytes=1 MiB, n_threads=cores)
    encode_chunk(*, chunk, settings) -> bytes
    write_derived_nwbfile(*, raw_path, content=DerivedContent(...), folder, file_name) -> Path   # analysis output

Section by section, for other converters (neuroconv interfaces) adding to an NWB file they did not create::

    add_devices, add_optogenetics, add_sleep_states, add_tracer_infusions, add_drug_administrations,
    add_experimental_condition, fluorescent_tracer, sleep_states_description
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import os
import sys
import uuid
import warnings
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import h5py
import numpy as np
from hdmf.backends.hdf5 import H5DataIO
from hdmf.common import DynamicTableRegion, VectorData
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
from pynwb.event import DurationVectorData, EventsTable, TimestampVectorData
from pynwb.file import Subject
from tqdm import tqdm

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
from ndx_glymphatic.errors import GlymphError
from ndx_glymphatic.session import (
    ConditionConfig,
    DrugConfig,
    HypnogramConfig,
    IndicatorConfig,
    InfusionConfig,
    SessionConfig,
    StimulationConfig,
    TracerConfig,
)
from ndx_glymphatic.spec_cache import declared_schemas_of_loaded_namespaces, tidy_cached_specifications

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "DERIVED_FROM_TABLE",
    "LIBVER",
    "ClockAlignmentRecord",
    "CompressionSettings",
    "DerivedContent",
    "DerivedIntervals",
    "DerivedSeries",
    "DerivedTable",
    "EventsSource",
    "SeriesSource",
    "SessionSources",
    "SleepStates",
    "StimulationEpochs",
    "add_devices",
    "add_drug_administrations",
    "add_experimental_condition",
    "add_optogenetics",
    "add_sleep_states",
    "add_tracer_infusions",
    "build_nwbfile",
    "encode_chunk",
    "fletcher32",
    "fluorescent_tracer",
    "sleep_states_description",
    "write_derived_nwbfile",
    "write_nwbfile",
]

#: h5py ``libver`` of the files written: the HDF5 1.8 format at least (checksummed v2 object headers and
#: superblock) and at most, so that HDF5 1.8 readers (MATLAB's included) open every file.
LIBVER = ("v108", "v108")

#: Samples per HDF5 chunk aim at this many bytes (1 MiB: HDF5's default chunk cache size).
DEFAULT_CHUNK_BYTES = 1 << 20


# -------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class SeriesSource:
    """One continuous series to write, timed on the primary clock, with its samples as a stream of blocks.

    Attributes
    ----------
    name : str
        The series name: a photometry channel of the session (``"ne_465nm"``), or ``"EEG"`` / ``"EMG"``.
    kind : {"photometry", "EEG", "EMG"}
        Which part of the session the series belongs to.
    n_samples, n_columns : int
        Dataset shape; one column is stored 1-D.
    rate_in_Hz : float or None
        Sampling rate; ``None`` when ``timestamps_in_s`` give the sample times.
    starting_time_in_s : float
        Time of the first sample (regular sampling).
    unit : str
        Unit of the stored values (``"V"``, ``"volts"`` for ElectricalSeries).
    iter_blocks : callable
        ``iter_blocks()`` yields the samples in order, ``(n,)`` or ``(n, n_columns)`` blocks, exactly
        ``n_samples`` rows in total.
    conversion : float
        Stored value x ``conversion`` = value in ``unit``.
    timestamps_in_s : ndarray or None
        Per-sample times of irregular sampling.
    dtype : numpy dtype
        Dataset type (float32).
    """

    name: str
    kind: Literal["photometry", "EEG", "EMG"]
    n_samples: int
    n_columns: int
    rate_in_Hz: float | None
    starting_time_in_s: float
    unit: str
    iter_blocks: Callable[[], Iterator[np.ndarray]] = field(repr=False, compare=False)
    conversion: float = 1.0
    timestamps_in_s: np.ndarray | None = field(default=None, repr=False, compare=False)
    dtype: np.dtype = field(default=np.dtype(np.float32))

    @classmethod
    def from_array(
        cls, *, name: str, kind: Literal["photometry", "EEG", "EMG"], data: np.ndarray, rate_in_Hz: float,
        unit: str, starting_time_in_s: float = 0.0, conversion: float = 1.0,
    ) -> SeriesSource:
        """A series whose samples are already in memory (short files: mocks, examples, tests)."""
        values = np.asarray(data, dtype=np.float32)
        return cls(
            name=name, kind=kind, n_samples=len(values), n_columns=1 if values.ndim == 1 else values.shape[1],
            rate_in_Hz=float(rate_in_Hz), starting_time_in_s=float(starting_time_in_s), unit=unit,
            iter_blocks=lambda: iter((values,)), conversion=conversion,
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """Dataset shape."""
        return (self.n_samples,) if self.n_columns == 1 else (self.n_samples, self.n_columns)

    @property
    def start_time_in_s(self) -> float:
        """Time of the first sample."""
        if self.timestamps_in_s is not None and len(self.timestamps_in_s):
            return float(self.timestamps_in_s[0])
        return float(self.starting_time_in_s)

    @property
    def stop_time_in_s(self) -> float:
        """Time just after the last sample (the last timestamp for irregular sampling)."""
        if self.timestamps_in_s is not None and len(self.timestamps_in_s):
            return float(self.timestamps_in_s[-1])
        return self.starting_time_in_s + self.n_samples / float(self.rate_in_Hz or 1.0)


@dataclass(frozen=True)
class EventsSource:
    """One event channel (TTL, digital input, annotation), stored as the EventsTable ``table_name``.

    Attributes
    ----------
    table_name : str
        Name of the EventsTable (``"ttl_PtC0"``).
    source_description : str
        Where the events come from (system, channel, file).
    onset_times_in_s : ndarray
        Onsets on the primary clock.
    offset_times_in_s : ndarray or None
        Offsets (NaN where unknown); their difference to the onsets is the ``duration`` column.
    values : ndarray or None
        One value per onset (strobe value, digital level): a ``value`` column when any is finite.
    labels : tuple of str
        One text per onset (annotations): a ``label`` column.
    """

    table_name: str
    source_description: str
    onset_times_in_s: np.ndarray
    offset_times_in_s: np.ndarray | None = None
    values: np.ndarray | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class StimulationEpochs:
    """Stimulation epochs on the primary clock; per-epoch pulse counts when derived from TTL pulses."""

    start_times_in_s: np.ndarray
    stop_times_in_s: np.ndarray
    pulses_per_epoch: np.ndarray | None = None
    pulse_length_in_ms: float | None = None
    period_in_ms: float | None = None


@dataclass(frozen=True)
class SleepStates:
    """Scored sleep-state intervals on the primary clock (one row of the Hypnogram each)."""

    start_times_in_s: np.ndarray
    stop_times_in_s: np.ndarray
    sleep_states: tuple[str, ...]
    scoring_method: str
    scorer: str
    epoch_length_in_s: float | None = None


@dataclass(frozen=True)
class ClockAlignmentRecord:
    """A secondary system's clock put onto the primary's: one row of the ``ClockAlignmentTable``.

    ``t_primary = slope * t_secondary + offset_in_s``; the attributes are the table's columns.
    """

    secondary_system: str
    primary_system: str
    primary_ttl_channel: str
    secondary_ttl_channel: str
    number_of_matched_pulses: int
    slope: float
    offset_in_s: float
    residual_rms_in_s: float
    max_abs_residual_in_s: float
    matched_primary_times_in_s: np.ndarray = field(repr=False)
    matched_secondary_times_in_s: np.ndarray = field(repr=False)

    def as_table_row(self) -> dict[str, object]:
        """The ``ClockAlignmentTable`` columns of this alignment, by column name."""
        return {
            "secondary_system": self.secondary_system,
            "primary_system": self.primary_system,
            "primary_ttl_channel": self.primary_ttl_channel,
            "secondary_ttl_channel": self.secondary_ttl_channel,
            "number_of_matched_pulses": self.number_of_matched_pulses,
            "slope": self.slope,
            "offset_in_s": self.offset_in_s,
            "residual_rms_in_s": self.residual_rms_in_s,
            "max_abs_residual_in_s": self.max_abs_residual_in_s,
            "matched_primary_times_in_s": self.matched_primary_times_in_s,
            "matched_secondary_times_in_s": self.matched_secondary_times_in_s,
        }


@dataclass(frozen=True)
class SessionSources:
    """The recorded data of a session, on the primary clock, as the builder takes them."""

    series: tuple[SeriesSource, ...] = ()
    events: tuple[EventsSource, ...] = ()
    sleep_states: SleepStates | None = None
    lc_stimulation: StimulationEpochs | None = None
    vasomotion_stimulation: StimulationEpochs | None = None
    clock_alignment: ClockAlignmentRecord | None = None


# --------------------------------------------------------------------------------- compression
@dataclass(frozen=True)
class CompressionSettings:
    """How big datasets are chunked and compressed.

    Attributes
    ----------
    method : {"gzip", "lzf", "none"}
        HDF5 filter. ``"gzip"`` (deflate) is the interoperable default every HDF5 reader decodes;
        ``"lzf"`` is faster but h5py-only.
    level : int
        gzip level (0-9); 4 by default.
    shuffle : bool
        Apply HDF5's byte-shuffle filter before compression (better ratios on floats).
    chunk_bytes : int
        Target bytes per chunk.
    n_threads : int
        Compression threads (gzip only); default one per core.
    checksum : bool
        Fletcher-32 checksum of every chunk (HDF5's filter, last in the pipeline): readers detect a
        damaged chunk instead of decoding wrong values.
    """

    method: str = "gzip"
    level: int = 4
    shuffle: bool = True
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    n_threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    checksum: bool = True

    def __post_init__(self) -> None:
        if self.method not in ("gzip", "lzf", "none"):
            raise GlymphError(f"compression: expected one of gzip, lzf, none, got {self.method!r}")
        if not 0 <= self.level <= 9:
            raise GlymphError(f"compression level: expected 0 to 9, got {self.level}")

    def dataset_options(self) -> dict[str, object]:
        """Keyword arguments of ``H5DataIO`` for these settings (besides shape, dtype and chunks)."""
        options: dict[str, object] = {"fletcher32": True} if self.checksum else {}
        if self.method == "none":
            return options
        options.update(compression=self.method, shuffle=self.shuffle)
        if self.method == "gzip":
            options["compression_opts"] = self.level
        return options


def fletcher32(*, data: bytes) -> bytes:
    """The 4 bytes HDF5's Fletcher-32 filter appends to ``data`` (``H5_checksum_fletcher32``, then encoded).

    HDF5 sums big-endian 16-bit words (an odd last byte is the high byte of a last word) in ones'
    complement arithmetic modulo 65535 (a non-zero sum that is a multiple of 65535 stays 65535), and
    stores ``sum2 << 16 | sum1`` little-endian.

    Parameters
    ----------
    data : bytes
        The chunk as the previous filters left it (compressed bytes, or raw bytes without compression).
    """
    padded = data + b"\0" if len(data) % 2 else data
    words = np.frombuffer(padded, dtype=">u2").astype(np.int64)
    if not words.any():
        return bytes(4)
    # sum2 is the sum of the running sums: word i counts (n - i) times; weights reduced to keep int64 exact
    weights = np.arange(len(words), 0, -1, dtype=np.int64) % 65535
    sum1 = (int(words.sum()) - 1) % 65535 + 1
    sum2 = (int(np.dot(words, weights)) - 1) % 65535 + 1
    return ((sum2 << 16) | sum1).to_bytes(4, "little")


def encode_chunk(*, chunk: np.ndarray, settings: CompressionSettings) -> bytes:
    """Encode one full chunk exactly as HDF5's shuffle + deflate (+ Fletcher-32) filters would.

    Parameters
    ----------
    chunk : ndarray
        The whole chunk (edge chunks padded to the full chunk shape), C-contiguous.
    settings : CompressionSettings
        ``method`` must be ``"gzip"`` or ``"none"``.

    Returns
    -------
    bytes
        What ``write_direct_chunk`` stores (with its Fletcher-32 checksum when ``settings.checksum``).
    """
    raw = np.ascontiguousarray(chunk)
    if settings.method == "none":
        encoded = raw.tobytes()
    else:
        if settings.shuffle and raw.dtype.itemsize > 1:
            payload = raw.view(np.uint8).reshape(-1, raw.dtype.itemsize).T.tobytes()
        else:
            payload = raw.tobytes()
        encoded = zlib.compress(payload, settings.level)
    return encoded + fletcher32(data=encoded) if settings.checksum else encoded


# --------------------------------------------------------------------------------- file and devices
def _new_nwbfile(*, session: SessionConfig) -> NWBFile:
    info = session.session
    optional = {
        key: value
        for key, value in (
            ("experiment_description", info.experiment_description),
            ("keywords", list(info.keywords) or None),
            ("related_publications", list(info.related_publications) or None),
            ("surgery", info.surgery),
            ("pharmacology", info.pharmacology),
            ("notes", info.notes),
        )
        if value
    }
    nwbfile = NWBFile(
        session_description=info.session_description,
        identifier=info.identifier or str(uuid.uuid4()),
        session_start_time=info.session_start_time,
        session_id=info.session_id,
        experimenter=list(info.experimenter),
        lab=info.lab,
        institution=info.institution,
        **optional,
    )
    subject = session.subject
    date_of_birth = None
    if subject.date_of_birth:
        text = subject.date_of_birth if "T" in subject.date_of_birth else subject.date_of_birth + "T00:00:00"
        date_of_birth = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if date_of_birth.tzinfo is None:
            date_of_birth = date_of_birth.replace(tzinfo=info.session_start_time.tzinfo)
    nwbfile.subject = Subject(
        subject_id=subject.subject_id, species=subject.species, sex=subject.sex, age=subject.age,
        strain=subject.strain, genotype=subject.genotype, description=subject.description,
        weight=subject.weight, date_of_birth=date_of_birth,
    )
    return nwbfile


def add_devices(
    *, nwbfile: NWBFile, session: SessionConfig, names: Collection[str] | None = None
) -> dict[str, object]:
    """Add the session's devices (those in ``names`` when given) with their models; return them by name.

    A device of the same name already in ``nwbfile`` (written by another converter) is reused, not added again.
    """
    devices: dict[str, object] = {}

    def wanted(name: str) -> bool:
        if names is not None and name not in names:
            return False
        if name in nwbfile.devices:
            devices[name] = nwbfile.devices[name]
            return False
        return True

    for config in session.excitation_sources:
        if not wanted(config.name):
            continue
        model = ExcitationSourceModel(
            name=f"{config.name}_model", description=f"Model of {config.name}: {config.description}",
            manufacturer=config.manufacturer, model_number=config.model_number, source_type=config.source_type,
            excitation_mode=config.excitation_mode,
            **({"wavelength_range_in_nm": [float(config.wavelength_in_nm)] * 2} if config.wavelength_in_nm else {}),
        )
        nwbfile.add_device_model(model)
        devices[config.name] = ExcitationSource(
            name=config.name, description=config.description, model=model,
            **({"power_in_W": float(config.power_in_W)} if config.power_in_W else {}),
        )
    for config in session.photodetectors:
        if not wanted(config.name):
            continue
        model = PhotodetectorModel(
            name=f"{config.name}_model", description=f"Model of {config.name}: {config.description}",
            manufacturer=config.manufacturer, model_number=config.model_number, detector_type=config.detector_type,
        )
        nwbfile.add_device_model(model)
        devices[config.name] = Photodetector(name=config.name, description=config.description, model=model)
    for config in session.optical_fibers:
        if not wanted(config.name):
            continue
        model = OpticalFiberModel(
            name=f"{config.name}_model", description=f"Model of {config.name}: {config.description}",
            manufacturer=config.manufacturer, model_number=config.model_number,
            numerical_aperture=float(config.numerical_aperture),
            **({"core_diameter_in_um": float(config.core_diameter_in_um)} if config.core_diameter_in_um else {}),
        )
        nwbfile.add_device_model(model)
        devices[config.name] = OpticalFiber(
            name=config.name, description=config.description, model=model,
            fiber_insertion=FiberInsertion(
                name="fiber_insertion", insertion_position_ap_in_mm=float(config.ap_in_mm),
                insertion_position_ml_in_mm=float(config.ml_in_mm), depth_in_mm=float(config.depth_in_mm),
                position_reference=config.position_reference, hemisphere=config.hemisphere,
            ),
        )
    for device in devices.values():
        if device.name not in nwbfile.devices:
            nwbfile.add_device(device)
    return devices


class _Viruses:
    """Viral vectors and injections of indicators and effectors: one object per vector however often named."""

    def __init__(self) -> None:
        self.vectors: dict[str, ViralVector] = {}

    def injection(self, *, config: IndicatorConfig) -> tuple[ViralVector | None, ViralVectorInjection | None]:
        if config.viral_vector is None:
            return None, None
        vector_config = config.viral_vector
        vector = self.vectors.get(vector_config.name)
        if vector is None:
            vector = ViralVector(
                name=vector_config.name, construct_name=vector_config.construct_name,
                description=vector_config.description, manufacturer=vector_config.manufacturer,
                titer_in_vg_per_ml=float(vector_config.titer_in_vg_per_ml),
            )
            self.vectors[vector_config.name] = vector
        if config.injection is None:
            return vector, None
        injection = config.injection
        return vector, ViralVectorInjection(
            name=injection.name or f"{config.name}_injection",
            description=injection.description or f"Injection of {vector_config.construct_name}.",
            location=injection.location, hemisphere=injection.hemisphere, reference=injection.reference,
            ap_in_mm=float(injection.ap_in_mm), ml_in_mm=float(injection.ml_in_mm),
            dv_in_mm=float(injection.dv_in_mm), volume_in_uL=float(injection.volume_in_uL), viral_vector=vector,
        )

    def of(
        self, *, configs: Sequence[IndicatorConfig], make: Callable[..., object]
    ) -> tuple[dict[str, object], list[ViralVector], list[ViralVectorInjection]]:
        """Build ``make(name=..., label=..., ...)`` for each config, with the vectors and injections they use."""
        built: dict[str, object] = {}
        vectors: list[ViralVector] = []
        injections: list[ViralVectorInjection] = []
        for config in configs:
            vector, injection = self.injection(config=config)
            if vector is not None and vector not in vectors:
                vectors.append(vector)
            if injection is not None:
                injections.append(injection)
            built[config.name] = make(
                name=config.name, label=config.label, description=config.description,
                manufacturer=config.manufacturer, viral_vector_injection=injection,
            )
        return built, vectors, injections


# ------------------------------------------------------------------------------------------ series
def _data(*, series: SeriesSource, settings: CompressionSettings, in_memory: bool) -> object:
    if in_memory:
        blocks = [np.asarray(block, dtype=series.dtype) for block in series.iter_blocks()]
        data = np.concatenate(blocks) if blocks else np.empty(series.shape, dtype=series.dtype)
        if data.shape != series.shape:
            raise GlymphError(f"series {series.name!r}: expected {series.shape} samples, got {data.shape}")
        return data
    row_bytes = series.dtype.itemsize * series.n_columns
    chunk_rows = max(1, min(series.n_samples, settings.chunk_bytes // row_bytes))
    chunks = (chunk_rows,) if series.n_columns == 1 else (chunk_rows, series.n_columns)
    return H5DataIO(shape=series.shape, dtype=series.dtype, chunks=chunks, **settings.dataset_options())


def _timing(*, series: SeriesSource, settings: CompressionSettings, in_memory: bool) -> dict[str, object]:
    if series.timestamps_in_s is not None:
        timestamps = np.asarray(series.timestamps_in_s, dtype=np.float64)
        return {"timestamps": timestamps if in_memory else H5DataIO(timestamps, compression="gzip",
                                                                    compression_opts=4,
                                                                    fletcher32=settings.checksum)}
    return {"rate": float(series.rate_in_Hz), "starting_time": float(series.starting_time_in_s)}


def fluorescent_tracer(*, config: TracerConfig) -> FluorescentTracer:
    """The ``FluorescentTracer`` of a session file's ``tracers`` entry."""
    return FluorescentTracer(
        name=config.name, label=config.label, description=config.description,
        manufacturer=config.manufacturer, fluorophore=config.fluorophore,
        carrier_molecule=config.carrier_molecule, molecular_weight_in_kDa=float(config.molecular_weight_in_kDa),
        labeled_compartment=config.labeled_compartment,
        excitation_peak_in_nm=float(config.excitation_peak_in_nm),
        emission_peak_in_nm=float(config.emission_peak_in_nm),
    )


def _add_photometry(
    *, nwbfile: NWBFile, session: SessionConfig, sources: SessionSources, devices: dict[str, object],
    viruses: _Viruses, settings: CompressionSettings, in_memory: bool,
) -> dict[str, object]:
    indicators, vectors, injections = viruses.of(configs=session.indicators, make=Indicator)
    for config in session.tracers:
        indicators[config.name] = fluorescent_tracer(config=config)
    if session.photometry is None:
        return indicators
    table = FiberPhotometryChannelsTable(
        name="fiber_photometry_table",
        description="Photometry channels: what each measures, its role and its control channel.",
    )
    fibers = {config.name: config for config in session.optical_fibers}
    channels = session.photometry.channels
    row_of = {channel.name: row for row, channel in enumerate(channels)}
    for channel in channels:
        table.add_row(
            location=channel.location or fibers[channel.optical_fiber].location,
            excitation_wavelength_in_nm=float(channel.excitation_wavelength_in_nm),
            emission_wavelength_in_nm=float(channel.emission_wavelength_in_nm),
            indicator=indicators[channel.indicator],
            optical_fiber=devices[channel.optical_fiber],
            excitation_source=devices[channel.excitation_source],
            photodetector=devices[channel.photodetector],
            measured_quantity=channel.measured_quantity,
            channel_role=channel.channel_role,
            control_channel=row_of[channel.control_channel] if channel.control_channel else -1,
            stream_name=channel.stream,
        )
    optional = {}
    if vectors:
        optional["fiber_photometry_viruses"] = FiberPhotometryViruses(viral_vectors=vectors)
    if injections:
        optional["fiber_photometry_virus_injections"] = FiberPhotometryVirusInjections(
            viral_vector_injections=injections
        )
    nwbfile.add_lab_meta_data(
        FiberPhotometry(
            name="fiber_photometry",
            fiber_photometry_table=table,
            fiber_photometry_indicators=FiberPhotometryIndicators(indicators=list(indicators.values())),
            **optional,
        )
    )
    series_of = {series.name: series for series in sources.series if series.kind == "photometry"}
    for row, channel in enumerate(channels):
        series = series_of.get(channel.name)
        if series is None:
            raise GlymphError(f"photometry channel {channel.name!r} of the session has no series to write")
        nwbfile.add_acquisition(
            FiberPhotometryResponseSeries(
                name=channel.name,
                description=channel.description,
                data=_data(series=series, settings=settings, in_memory=in_memory),
                unit=series.unit,
                fiber_photometry_table_region=DynamicTableRegion(
                    name="fiber_photometry_table_region", data=[row],
                    description=f"The channel row of '{channel.name}'.", table=table,
                ),
                comments=f"Rig stream {channel.stream!r} of {session.photometry.file.name}.",
                **_timing(series=series, settings=settings, in_memory=in_memory),
            )
        )
    return indicators


def _add_electrophysiology(
    *, nwbfile: NWBFile, session: SessionConfig, sources: SessionSources, settings: CompressionSettings,
    in_memory: bool,
) -> None:
    ephys = session.electrophysiology
    if ephys is None:
        return
    amplifier = ephys.amplifier
    model = None
    if amplifier.manufacturer:
        model = DeviceModel(
            name=f"{amplifier.name}_model", manufacturer=amplifier.manufacturer,
            model_number=amplifier.model_number, description=f"Model of: {amplifier.description}",
        )
        nwbfile.add_device_model(model)
    device = Device(name=amplifier.name, description=amplifier.description, model=model)
    nwbfile.add_device(device)
    groups = {
        config.name: nwbfile.create_electrode_group(
            name=config.name, description=config.description, location=config.location, device=device
        )
        for config in ephys.electrode_groups
    }
    nwbfile.add_electrode_column(name="channel_name", description="Channel name given in the session file.")
    nwbfile.add_electrode_column(name="rig_stream", description="Stream (and channel) of the rig file.")
    rows: dict[str, list[int]] = {"EEG": [], "EMG": []}
    for series_name in ("EEG", "EMG"):
        for channel in (c for c in ephys.channels if c.series == series_name):
            rows[series_name].append(len(nwbfile.electrodes) if nwbfile.electrodes is not None else 0)
            nwbfile.add_electrode(
                group=groups[channel.group], location=channel.ccf_location, channel_name=channel.name,
                rig_stream=f"{channel.stream}[{channel.stream_channel}]",
            )
    aligned = sources.clock_alignment is not None
    for series in (s for s in sources.series if s.kind in ("EEG", "EMG")):
        nwbfile.add_acquisition(
            ElectricalSeries(
                name=series.name,
                description=f"{series.name} from {ephys.file.name}"
                + (" (timing put on the photometry clock, see lab_meta_data/clock_alignment)" if aligned else "."),
                data=_data(series=series, settings=settings, in_memory=in_memory),
                electrodes=nwbfile.create_electrode_table_region(
                    region=rows[series.kind], description=f"{series.name} electrodes"
                ),
                conversion=series.conversion,
                filtering=ephys.filtering,
                **_timing(series=series, settings=settings, in_memory=in_memory),
            )
        )


# --------------------------------------------------------------------------- events and intervals
def _add_events(*, nwbfile: NWBFile, sources: SessionSources) -> None:
    descriptions = {column["name"]: column["description"] for column in EventsTable.__columns__}
    for events in sources.events:
        onsets = np.asarray(events.onset_times_in_s, dtype=np.float64)
        if onsets.size == 0:
            continue  # an empty table is a best-practice violation; the channel had no events
        order = np.argsort(onsets, kind="stable")
        durations = np.full(onsets.size, np.nan)
        if events.offset_times_in_s is not None:
            durations = np.asarray(events.offset_times_in_s, dtype=np.float64) - onsets
            durations[~np.isfinite(durations) | (durations < 0)] = np.nan
        columns = [
            TimestampVectorData(name="timestamp", description=descriptions["timestamp"], data=onsets[order]),
            DurationVectorData(name="duration", description=descriptions["duration"], data=durations[order]),
        ]
        values = np.asarray(events.values if events.values is not None else [], dtype=np.float64)
        if values.size == onsets.size and np.any(np.isfinite(values)):
            columns.append(VectorData(name="value", description="Value of the event (strobe / digital level).",
                                      data=values[order]))
        if len(events.labels) == onsets.size:
            columns.append(VectorData(name="label", description="Text of the event (annotation).",
                                      data=[events.labels[index] for index in order]))
        nwbfile.add_events_table(
            EventsTable(name=events.table_name, description=f"Events of {events.source_description}.",
                        source_description=events.source_description, columns=columns)
        )


def _add_epoch_rows(
    *, table: object, stimulation: StimulationConfig, epochs: StimulationEpochs, site_rows: dict[str, int],
    vasomotion: bool,
) -> None:
    period_in_ms = epochs.period_in_ms
    pulse_length_in_ms = epochs.pulse_length_in_ms
    if vasomotion and stimulation.modulation_frequency_in_Hz:
        period_in_ms = period_in_ms or 1000.0 / stimulation.modulation_frequency_in_Hz
        pulse_length_in_ms = pulse_length_in_ms or period_in_ms / 2.0
    for index, (start, stop) in enumerate(zip(epochs.start_times_in_s, epochs.stop_times_in_s)):
        if epochs.pulses_per_epoch is not None:
            pulses = int(epochs.pulses_per_epoch[index])
        elif stimulation.number_pulses_per_pulse_train is not None:
            pulses = int(stimulation.number_pulses_per_pulse_train)
        else:
            pulses = max(1, round((stop - start) * 1000.0 / period_in_ms)) if period_in_ms else 1
        row = {
            "start_time": float(start), "stop_time": float(stop), "stimulation_on": True,
            "pulse_length_in_ms": float(pulse_length_in_ms if pulse_length_in_ms is not None else np.nan),
            "period_in_ms": float(period_in_ms if period_in_ms is not None else np.nan),
            "number_pulses_per_pulse_train": pulses, "number_trains": int(stimulation.number_trains),
            "intertrain_interval_in_ms": float(stimulation.intertrain_interval_in_ms),
            "power_in_mW": float(stimulation.power_in_mW), "wavelength_in_nm": float(stimulation.wavelength_in_nm),
            "optogenetic_sites": [site_rows[name] for name in stimulation.sites],
        }
        if vasomotion:
            row.update(
                stimulation_method=stimulation.stimulation_method, target=stimulation.target,
                modulation_frequency_in_Hz=float(stimulation.modulation_frequency_in_Hz),
                modulation_waveform=stimulation.modulation_waveform,
            )
        table.add_row(**row)


def add_optogenetics(
    *, nwbfile: NWBFile, session: SessionConfig, devices: dict[str, object],
    lc_stimulation: StimulationEpochs | None = None, vasomotion_stimulation: StimulationEpochs | None = None,
    viruses: _Viruses | None = None,
) -> None:
    """Add the session's ``optogenetics`` section: opsins, sites, and the LC / vasomotion stimulation epochs.

    ``devices`` holds (at least) the sites' excitation sources and optical fibers by name (:func:`add_devices`).
    """
    config = session.optogenetics
    if config is None:
        return
    viruses = viruses or _Viruses()
    effectors, vectors, injections = viruses.of(configs=config.effectors, make=Effector)
    sites = OptogeneticSitesTable(description="Optogenetic stimulation sites.")
    site_rows = {}
    for row, site in enumerate(config.sites):
        sites.add_row(excitation_source=devices[site.excitation_source], optical_fiber=devices[site.optical_fiber],
                      effector=effectors[site.effector])
        site_rows[site.name] = row
    optional = {}
    if vectors:
        optional["optogenetic_viruses"] = OptogeneticViruses(viral_vectors=vectors)
    if injections:
        optional["optogenetic_virus_injections"] = OptogeneticVirusInjections(viral_vector_injections=injections)
    nwbfile.add_lab_meta_data(
        OptogeneticExperimentMetadata(
            stimulation_software=config.stimulation_software, optogenetic_sites_table=sites,
            optogenetic_effectors=OptogeneticEffectors(effectors=list(effectors.values())), **optional,
        )
    )
    for stimulation, epochs, table_class, name, vasomotion in (
        (config.lc_stimulation, lc_stimulation, OptogeneticEpochsTable, "lc_optogenetic_stimulation", False),
        (config.vasomotion_stimulation, vasomotion_stimulation, VasomotionStimulationEpochsTable,
         "vasomotion_stimulation", True),
    ):
        if stimulation is None or epochs is None or len(epochs.start_times_in_s) == 0:
            continue  # an empty table is a best-practice violation
        table = table_class(name=name, description=stimulation.description,
                            target_tables={"optogenetic_sites": sites})
        _add_epoch_rows(table=table, stimulation=stimulation, epochs=epochs, site_rows=site_rows,
                        vasomotion=vasomotion)
        nwbfile.add_time_intervals(table)


def sleep_states_description(*, states: SleepStates, config: HypnogramConfig | None) -> str:
    """The Hypnogram's description: the session file's, else how, by whom and from which file it was scored."""
    if config is not None and config.description:
        return config.description
    scored_from = f" ({config.file.name})" if config is not None else ""
    return f"Sleep states scored {states.scoring_method}ly by {states.scorer}{scored_from}."


def add_sleep_states(*, nwbfile: NWBFile, states: SleepStates, description: str) -> Hypnogram:
    """Add the scored sleep states as the ``Hypnogram`` ``intervals/sleep_states``."""
    hypnogram = Hypnogram(description=description, scoring_method=states.scoring_method, scorer=states.scorer,
                          epoch_length_in_s=states.epoch_length_in_s)
    for start, stop, state in zip(states.start_times_in_s, states.stop_times_in_s, states.sleep_states):
        hypnogram.add_row(start_time=float(start), stop_time=float(stop), sleep_state=state)
    nwbfile.add_time_intervals(hypnogram)
    return hypnogram


def add_tracer_infusions(
    *, nwbfile: NWBFile, infusions: Sequence[InfusionConfig], tracers: dict[str, object]
) -> TracerInfusionsTable:
    """Add the ``TracerInfusionsTable`` ``intervals/tracer_infusions``; ``tracers`` holds the Indicator objects
    (in ``FiberPhotometry.fiber_photometry_indicators``) by name."""
    table = TracerInfusionsTable(description="Fluorescent tracer infusions.")
    for infusion in infusions:
        table.add_row(
            start_time=float(infusion.start_time_in_s), stop_time=float(infusion.stop_time_in_s),
            tracer=tracers[infusion.tracer], route=infusion.route, site=infusion.site,
            volume_in_uL=float(infusion.volume_in_uL), rate_in_uL_per_min=float(infusion.rate_in_uL_per_min),
            concentration=float(infusion.concentration), concentration_unit=infusion.concentration_unit,
        )
    nwbfile.add_time_intervals(table)
    return table


def add_drug_administrations(*, nwbfile: NWBFile, drugs: Sequence[DrugConfig]) -> DrugAdministrationsTable:
    """Add the ``DrugAdministrationsTable`` ``intervals/drug_administrations``."""
    table = DrugAdministrationsTable(description="Drug and vehicle administrations.")
    for drug in drugs:
        table.add_row(
            start_time=float(drug.time_in_s), stop_time=float(drug.time_in_s + drug.duration_in_s),
            drug=drug.drug, dose=float(drug.dose), dose_unit=drug.dose_unit, route=drug.route,
            vehicle=drug.vehicle,
        )
    nwbfile.add_time_intervals(table)
    return table


def add_experimental_condition(*, nwbfile: NWBFile, condition: ConditionConfig) -> ExperimentalCondition:
    """Add the ``ExperimentalCondition`` lab metadata ``general/experimental_condition``."""
    metadata = ExperimentalCondition(condition=condition.condition, is_control=bool(condition.is_control),
                                     description=condition.description)
    nwbfile.add_lab_meta_data(metadata)
    return metadata


def _add_intervals_and_metadata(
    *, nwbfile: NWBFile, session: SessionConfig, sources: SessionSources, indicators: dict[str, object]
) -> None:
    if sources.sleep_states is not None:
        add_sleep_states(nwbfile=nwbfile, states=sources.sleep_states,
                         description=sleep_states_description(states=sources.sleep_states, config=session.hypnogram))
    if session.infusions:
        add_tracer_infusions(nwbfile=nwbfile, infusions=session.infusions, tracers=indicators)
    if session.drugs:
        add_drug_administrations(nwbfile=nwbfile, drugs=session.drugs)
    if session.condition is not None:
        add_experimental_condition(nwbfile=nwbfile, condition=session.condition)
    if sources.clock_alignment is not None:
        table = ClockAlignmentTable(
            description="TTL-based alignment of the EEG/EMG clock onto the photometry clock: "
            "t_primary = slope * t_secondary + offset_in_s."
        )
        row = sources.clock_alignment.as_table_row()
        row["matched_primary_times_in_s"] = np.asarray(row["matched_primary_times_in_s"]).tolist()
        row["matched_secondary_times_in_s"] = np.asarray(row["matched_secondary_times_in_s"]).tolist()
        table.add_row(**row)
        nwbfile.add_lab_meta_data(ClockAlignment(clock_alignment_table=table))


def build_nwbfile(
    *, session: SessionConfig, sources: SessionSources, settings: CompressionSettings | None = None,
    in_memory: bool = False,
) -> NWBFile:
    """The in-memory NWB file of a session.

    Parameters
    ----------
    session : SessionConfig
        What was recorded and with what.
    sources : SessionSources
        The recorded data on the primary clock.
    settings : CompressionSettings, optional
        Chunking and filters of the big datasets (default gzip 4 + shuffle).
    in_memory : bool
        Read every series into memory now (short files: mocks, examples). Otherwise the big datasets are
        empty placeholders of their final shape that :func:`write_nwbfile` fills after writing.

    Returns
    -------
    NWBFile
    """
    settings = settings or CompressionSettings()
    nwbfile = _new_nwbfile(session=session)
    devices = add_devices(nwbfile=nwbfile, session=session)
    viruses = _Viruses()
    indicators = _add_photometry(nwbfile=nwbfile, session=session, sources=sources, devices=devices,
                                 viruses=viruses, settings=settings, in_memory=in_memory)
    _add_electrophysiology(nwbfile=nwbfile, session=session, sources=sources, settings=settings,
                           in_memory=in_memory)
    add_optogenetics(nwbfile=nwbfile, session=session, devices=devices, lc_stimulation=sources.lc_stimulation,
                     vasomotion_stimulation=sources.vasomotion_stimulation, viruses=viruses)
    _add_intervals_and_metadata(nwbfile=nwbfile, session=session, sources=sources, indicators=indicators)
    _add_events(nwbfile=nwbfile, sources=sources)
    return nwbfile


# --------------------------------------------------------------------------------------- streaming
class _DirectChunkWriter:
    """Fill a chunked dataset in order: buffer whole chunks, encode them in a pool, write them in order."""

    def __init__(
        self, *, dataset: h5py.Dataset, settings: CompressionSettings,
        pool: concurrent.futures.ThreadPoolExecutor | None, on_written: Callable[[int], None],
    ) -> None:
        n_workers = settings.n_threads if pool is not None else 1
        self.dataset = dataset
        self.settings = settings
        self.pool = pool
        self.on_written = on_written
        self.chunk_shape = dataset.chunks
        self.chunk_rows = dataset.chunks[0]
        self.direct = settings.method in ("gzip", "none")
        # chunks encoded or waiting to be written: enough to keep every thread busy, few enough to bound memory
        self.max_in_flight = n_workers + 1
        self.pending: collections.deque = collections.deque()
        self.buffer = np.zeros(self.chunk_shape, dtype=dataset.dtype)
        self.filled = 0
        self.chunk_start = 0

    def append(self, block: np.ndarray) -> None:
        position = 0
        while position < len(block):
            take = min(self.chunk_rows - self.filled, len(block) - position)
            self.buffer[self.filled : self.filled + take] = block[position : position + take]
            self.filled += take
            position += take
            if self.filled == self.chunk_rows:
                self._submit()

    def _submit(self) -> None:
        rows = self.filled
        chunk = self.buffer
        if rows < self.chunk_rows:
            chunk[rows:] = 0
        offset = (self.chunk_start,) + (0,) * (len(self.chunk_shape) - 1)
        if not self.direct:
            self.dataset[self.chunk_start : self.chunk_start + rows] = chunk[:rows]
            self.on_written(rows)
        else:
            if self.pool is None:
                self.dataset.id.write_direct_chunk(offset, encode_chunk(chunk=chunk, settings=self.settings))
                self.on_written(rows)
            else:
                future = self.pool.submit(encode_chunk, chunk=chunk, settings=self.settings)
                self.pending.append((offset, rows, future))
                self._drain(keep=self.max_in_flight)
            self.buffer = np.zeros(self.chunk_shape, dtype=self.dataset.dtype)
        self.chunk_start += rows
        self.filled = 0

    def _drain(self, *, keep: int) -> None:
        while len(self.pending) > keep:
            offset, rows, future = self.pending.popleft()
            self.dataset.id.write_direct_chunk(offset, future.result(), filter_mask=0)
            self.on_written(rows)

    def close(self) -> None:
        if self.filled:
            self._submit()
        self._drain(keep=0)
        if self.chunk_start != self.dataset.shape[0]:
            raise GlymphError(
                f"internal: wrote {self.chunk_start} rows into {self.dataset.name} of {self.dataset.shape[0]}"
            )


def _fill_datasets(
    *, path: Path, series: Sequence[SeriesSource], settings: CompressionSettings, progress: bool
) -> None:
    """Stream every series from its blocks into the empty datasets of the file at ``path``."""
    total = sum(item.n_samples * item.n_columns for item in series)
    use_pool = settings.method == "gzip" and settings.n_threads > 1
    show = progress and sys.stderr.isatty()
    pool_context = (
        concurrent.futures.ThreadPoolExecutor(max_workers=settings.n_threads) if use_pool
        else contextlib.nullcontext()
    )
    with (
        h5py.File(path, "r+", libver=LIBVER) as file,
        tqdm(total=total, unit="samples", unit_scale=True, desc="writing", disable=not show) as bar,
        pool_context as pool,
    ):
        for item in series:
            writer = _DirectChunkWriter(
                dataset=file[f"acquisition/{item.name}/data"], settings=settings, pool=pool,
                on_written=lambda rows, n=item.n_columns: bar.update(rows * n),
            )
            for block in item.iter_blocks():
                writer.append(np.asarray(block, dtype=item.dtype))
            writer.close()


#: Datasets an export copies from another file are read whole (to write them checksummed) up to this size.
_COPIED_IN_MEMORY_MAX_VALUES = 10_000_000


class _ChecksummedNWBHDF5IO(NWBHDF5IO):
    """NWBHDF5IO that stores every numeric array with the Fletcher-32 filter (chunked), so small datasets
    (table columns, regions) are checksummed too; strings and references are written as hdmf writes them."""

    def write_dataset(self, parent: object, builder: object, **kwargs: object) -> object:
        data = builder.data
        if isinstance(data, h5py.Dataset) and data.size <= _COPIED_IN_MEMORY_MAX_VALUES:
            data = data[()]  # a table column an export copies from another file (metadata: small)
        if isinstance(data, list) and data and all(
            isinstance(value, (int, float, np.number)) and not isinstance(value, bool) for value in data
        ):
            data = np.asarray(data)
        if isinstance(data, np.ndarray) and data.ndim >= 1 and data.size and data.dtype.kind in "fiu":
            builder["data"] = H5DataIO(data, fletcher32=True)
        return super().write_dataset(parent, builder, **kwargs)


def write_nwbfile(
    *, session: SessionConfig, sources: SessionSources, path: Path, settings: CompressionSettings | None = None,
    progress: bool = True,
) -> None:
    """Write the NWB file of a session to ``path``: the structure with pynwb, then the streamed series.

    ``path`` should be a temporary path (see :func:`ndx_glymphatic.io.atomic_output_path`): between the
    two phases the file holds empty datasets.

    Parameters
    ----------
    session : SessionConfig
    sources : SessionSources
    path : Path
    settings : CompressionSettings, optional
        Default gzip level 4 with shuffle, one compression thread per core.
    progress : bool
        Show a progress bar (only when stderr is a terminal).
    """
    settings = settings or CompressionSettings()
    nwbfile = build_nwbfile(session=session, sources=sources, settings=settings)
    with warnings.catch_warnings():
        # the temporary name ends in ".partial"; the file is renamed to its .nwb name on success
        warnings.filterwarnings("ignore", message=".*does not end in '.nwb'")
        io_class = _ChecksummedNWBHDF5IO if settings.checksum else NWBHDF5IO
        with h5py.File(path, "w", libver=LIBVER) as h5file, io_class(file=h5file, mode="w") as io:
            io.write(nwbfile)
    with h5py.File(path, "r+") as file:
        tidy_cached_specifications(file=file, declared_schemas=declared_schemas_of_loaded_namespaces())
    _fill_datasets(path=path, series=sources.series, settings=settings, progress=progress)


# ------------------------------------------------------------------------------------- derived files
@dataclass(frozen=True)
class DerivedSeries:
    """One regularly sampled derived series (dF/F, decimated fluorescence, EEG band power).

    Attributes
    ----------
    name, description : str
    data : ndarray
        The samples (stored as float32).
    rate_in_Hz, starting_time_in_s : float
    module : str
        Processing module that holds it (``"ophys"``, ``"ecephys"``).
    unit : str or None
        ``None``: the unit of the raw series ``channel``.
    channel : str or None
        The raw photometry series whose channel-table row this series points at (it is then a
        ``FiberPhotometryResponseSeries``); ``None`` for a plain ``TimeSeries``.
    """

    name: str
    description: str
    data: np.ndarray = field(repr=False)
    rate_in_Hz: float
    starting_time_in_s: float
    module: str
    unit: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class DerivedIntervals:
    """Derived time intervals (e.g. the NREM bouts an analysis used), stored as a ``TimeIntervals``."""

    name: str
    description: str
    start_times_in_s: np.ndarray
    stop_times_in_s: np.ndarray


@dataclass(frozen=True)
class DerivedTable:
    """A small table (metrics, parameters): ``columns`` maps a column name to (description, values)."""

    name: str
    description: str
    columns: dict[str, tuple[str, list]]


@dataclass(frozen=True)
class DerivedContent:
    """What a derived file holds besides the metadata copied from its raw file.

    Attributes
    ----------
    series, events, intervals, tables
        Derived series (``processing/<module>``), event tables (``events/``), intervals
        (``intervals/``) and tables (``analysis/``).
    derived_from : dict
        For each derived object name, the names of the raw file's acquisition objects it was
        computed from (recorded, with their object ids, in ``analysis/was_derived_from``).
    processing_description : str
        What made the content (program and version); part of the session description.
    """

    series: tuple[DerivedSeries, ...] = ()
    events: tuple[EventsSource, ...] = ()
    intervals: tuple[DerivedIntervals, ...] = ()
    tables: tuple[DerivedTable, ...] = ()
    derived_from: dict[str, tuple[str, ...]] = field(default_factory=dict)
    processing_description: str = ""


#: Name of the table (in ``/analysis``) linking a derived file to its raw file by identifier and object ids.
DERIVED_FROM_TABLE = "was_derived_from"


def _table(*, name: str, description: str, columns: dict[str, tuple[str, list]]) -> object:
    from hdmf.common import DynamicTable

    return DynamicTable(
        name=name, description=description,
        columns=[VectorData(name=column, description=text, data=list(values))
                 for column, (text, values) in columns.items()],
    )


def _provenance_table(*, raw: NWBFile, content: DerivedContent) -> object:
    """Rows: the raw file itself, then each raw object a derived object was computed from."""
    channel_table = None
    for lab_meta_data in raw.lab_meta_data.values():
        if isinstance(lab_meta_data, FiberPhotometry):
            channel_table = lab_meta_data.fiber_photometry_table
    used_by: dict[str, list[str]] = {}
    for derived, sources in content.derived_from.items():
        for source in sources:
            used_by.setdefault(source, []).append(derived)
    rows = [("/", "NWBFile", raw.object_id, sorted(content.derived_from))]
    if channel_table is not None:
        channels = [series.name for series in content.series if series.channel is not None]
        rows.append(("/general/fiber_photometry/fiber_photometry_table", type(channel_table).__name__,
                     channel_table.object_id, channels))
    for source, derived in used_by.items():
        if source in raw.acquisition:
            container = raw.acquisition[source]
            rows.append((f"/acquisition/{source}", type(container).__name__, container.object_id, derived))
    return _table(
        name=DERIVED_FROM_TABLE,
        description="The raw NWB file this file was derived from (by identifier and object ids, never by link) "
        "and the raw objects each derived object was computed from.",
        columns={
            "source_identifier": ("identifier of the raw NWB file", [raw.identifier] * len(rows)),
            "source_path": ("path of the raw object inside the raw file", [row[0] for row in rows]),
            "source_neurodata_type": ("neurodata type of the raw object", [row[1] for row in rows]),
            "source_object_id": ("object_id of the raw object", [row[2] for row in rows]),
            "derived_objects": ("names of the objects of this file derived from it, comma-separated",
                                [",".join(row[3]) for row in rows]),
        },
    )


def _derived_data(*, values: np.ndarray, settings: CompressionSettings) -> H5DataIO:
    data = np.asarray(values, dtype=np.float32)
    row_bytes = data.dtype.itemsize * (data.shape[1] if data.ndim == 2 else 1)
    chunk_rows = max(1, min(len(data), settings.chunk_bytes // row_bytes))
    chunks = (chunk_rows,) if data.ndim == 1 else (chunk_rows, data.shape[1])
    return H5DataIO(data=data, chunks=chunks, **settings.dataset_options())


def _add_derived_content(*, nwbfile: NWBFile, content: DerivedContent, rows: dict[str, tuple[int, str]],
                         settings: CompressionSettings) -> None:
    from pynwb import TimeSeries
    from pynwb.epoch import TimeIntervals

    channel_table = None
    for lab_meta_data in nwbfile.lab_meta_data.values():
        if isinstance(lab_meta_data, FiberPhotometry):
            channel_table = lab_meta_data.fiber_photometry_table
    modules: dict[str, object] = {}
    module_descriptions = {"ophys": "Processed fiber photometry (dF/F, decimated fluorescence).",
                           "ecephys": "Processed EEG (band power over time)."}
    for series in content.series:
        if series.module not in modules:
            modules[series.module] = nwbfile.create_processing_module(
                name=series.module, description=module_descriptions.get(series.module, "Processed data.")
            )
        timing = {"rate": float(series.rate_in_Hz), "starting_time": float(series.starting_time_in_s)}
        data = _derived_data(values=series.data, settings=settings)
        if series.channel is not None:
            if channel_table is None or series.channel not in rows:
                raise GlymphError(f"derived series {series.name!r}: the raw file has no photometry channel "
                                  f"{series.channel!r}")
            row, unit = rows[series.channel]
            container = FiberPhotometryResponseSeries(
                name=series.name, description=series.description, data=data, unit=series.unit or unit,
                fiber_photometry_table_region=DynamicTableRegion(
                    name="fiber_photometry_table_region", data=[row], table=channel_table,
                    description=f"The channel row of '{series.channel}'.",
                ),
                **timing,
            )
        else:
            container = TimeSeries(name=series.name, description=series.description, data=data,
                                   unit=series.unit or "n.a.", **timing)
        modules[series.module].add(container)
    _add_events(nwbfile=nwbfile, sources=SessionSources(events=content.events))
    for intervals in content.intervals:
        table = TimeIntervals(name=intervals.name, description=intervals.description)
        for start, stop in zip(intervals.start_times_in_s, intervals.stop_times_in_s):
            table.add_row(start_time=float(start), stop_time=float(stop))
        if len(table):
            nwbfile.add_time_intervals(table)
    for spec in content.tables:
        nwbfile.add_analysis(_table(name=spec.name, description=spec.description, columns=spec.columns))


def write_derived_nwbfile(
    *, raw_path: Path | str, content: DerivedContent, folder: Path, file_name: Callable[[NWBFile], str],
    settings: CompressionSettings | None = None,
) -> Path:
    """Write a small derived NWB file: the raw file's metadata, without its acquired data, plus ``content``.

    The raw file's metadata (subject, devices, channel table, indicators, intervals, events, lab
    metadata) is copied by pynwb's export (``link_data=False``: no link to the raw file), every object
    gets a new object id, the acquired series are left out, and ``analysis/was_derived_from`` records
    the raw file's identifier and the object ids of the raw objects used. The derived series point at
    the copied channel table's rows, as raw series do.

    Parameters
    ----------
    raw_path : Path or str
        The raw NWB file (read only): a local path or an ``http(s)://`` URL (read by range requests).
    content : DerivedContent
    folder : Path
        Where to write (the caller's temporary output folder: it is moved into place as a whole).
    file_name : callable
        Gets the derived NWBFile (before writing), returns its file name (a DANDI-style name).
    settings : CompressionSettings, optional
        Chunking and filters of the derived series.

    Returns
    -------
    Path
        The file written.
    """
    from ndx_glymphatic.remote import open_h5

    settings = settings or CompressionSettings()
    raw_file = open_h5(raw_path)  # metadata only: the acquired series are not copied
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw_io = NWBHDF5IO(file=raw_file, mode="r", load_namespaces=True)
    except BaseException:
        raw_file.close()
        raise
    try:
        nwbfile = raw_io.read()
        rows: dict[str, tuple[int, str]] = {}
        for name, container in nwbfile.acquisition.items():
            if isinstance(container, FiberPhotometryResponseSeries):
                rows[name] = (int(container.fiber_photometry_table_region.data[0]), str(container.unit))
        provenance = _provenance_table(raw=nwbfile, content=content)
        for name in list(nwbfile.acquisition):
            nwbfile.acquisition.pop(name)
        # identifier and session_description are write-once in pynwb; exporting an edited copy of a read
        # file is pynwb's way to write a modified file, so the copy gets its own identity here
        raw_identifier = nwbfile.identifier
        nwbfile.fields["identifier"] = f"{raw_identifier}_desc-processed_{uuid.uuid4()}"
        nwbfile.fields["session_description"] = (
            f"Derived data ({content.processing_description}) of the session: {nwbfile.session_description}"
        )
        nwbfile.generate_new_id()
        nwbfile.add_analysis(provenance)
        _add_derived_content(nwbfile=nwbfile, content=content, rows=rows, settings=settings)
        path = Path(folder) / file_name(nwbfile)
        io_class = _ChecksummedNWBHDF5IO if settings.checksum else NWBHDF5IO
        # written in the raw file's checksummed format; hdmf exports into an open file given its path too
        with h5py.File(path, "w", libver=LIBVER) as h5file, io_class(path=str(path), file=h5file, mode="w") as out:
            out.export(src_io=raw_io, nwbfile=nwbfile, write_args={"link_data": False})
        with h5py.File(path, "r+") as file:
            tidy_cached_specifications(file=file, declared_schemas=declared_schemas_of_loaded_namespaces())
    finally:
        raw_io.close()
        raw_file.close()
    return path
