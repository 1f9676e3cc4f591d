"""The conversion session file: one typed definition, its JSON Schema, checks with readable messages.

A session file (YAML or JSON) names the rig files of one recording session, with paths relative to
the session file, and holds all the metadata NWB and DANDI need (subject, session, devices,
indicators, tracers, channel semantics, EEG/EMG electrodes, clock alignment, hypnogram, infusions,
drugs, condition, stimulation). The pydantic models below are the format: field types, constraints,
defaults, descriptions and examples. The published JSON Schema (``glymph schema session``) and
``docs/session-file.md`` are generated from them.

Everything here runs before any rig data is read: the JSON Schema (every violation, each turned into
``<path>: expected <what>, got <found>``), then cross-references between sections (a control channel
that names no channel, an indicator that is not declared, ...) and the existence of the named files;
only a document that passes all of them is turned into the typed :class:`SessionConfig`.

Public API::

    validate_session_file(*, path) -> list[str]      # [] when valid
    load_session(*, path) -> SessionConfig            # raises one SessionFileError listing every problem
    SessionConfig.to_document() -> dict               # the session-file content, paths relative to it
    session_schema() -> dict                          # the published JSON Schema
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import jsonschema
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    SerializationInfo,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema

from ndx_glymphatic.device_presets import DevicePreset, expand_device_preset
from ndx_glymphatic.errors import GlymphError
from ndx_glymphatic.path_kinds import describe_path
from ndx_glymphatic.session_limits import MAX_SESSION_FILE_BYTES, session_text_problems
from ndx_glymphatic.session_values import birth_after_session_problems, non_finite_problems
from ndx_glymphatic.vocabulary import (
    CARRIER_MOLECULES,
    CHANNEL_ROLES,
    DOSE_UNITS,
    LABELED_COMPARTMENTS,
    MEASURED_QUANTITIES,
    MODULATION_WAVEFORMS,
    ROUTE_WORDS,
    SCORING_METHODS,
    SLEEP_STATES,
    STIMULATION_METHODS,
)

__all__ = [
    "DEFAULT_AMPLIFIER_NAME",
    "DEFAULT_INJECTION_DURATION_IN_S",
    "DEFAULT_MAX_GAP_IN_S",
    "DEFAULT_MAX_RESIDUAL_RMS_IN_S",
    "DEFAULT_MIN_MATCHED_PULSES",
    "DEFAULT_PULSE_TOLERANCE_IN_S",
    "ELECTROPHYSIOLOGY_FORMATS",
    "HYPNOGRAM_FORMATS",
    "PHOTOMETRY_FORMATS",
    "AmplifierConfig",
    "ClockAlignmentConfig",
    "ConditionConfig",
    "DevicesConfig",
    "DrugConfig",
    "ElectrodeConfig",
    "ElectrodeGroupConfig",
    "ElectrophysiologyConfig",
    "ElectrophysiologyFormat",
    "EpochConfig",
    "ExcitationSourceConfig",
    "FiberConfig",
    "FromTtlConfig",
    "HypnogramConfig",
    "HypnogramFormat",
    "IndicatorConfig",
    "InfusionConfig",
    "InjectionConfig",
    "LcStimulationConfig",
    "OptogeneticSiteConfig",
    "OptogeneticsConfig",
    "PhotodetectorConfig",
    "PhotometryChannelConfig",
    "PhotometryConfig",
    "PhotometryFormat",
    "SessionConfig",
    "SessionFileError",
    "SessionInfo",
    "StimulationConfig",
    "SubjectConfig",
    "TracerConfig",
    "VasomotionStimulationConfig",
    "ViralVectorConfig",
    "check_session_document",
    "load_session",
    "session_example_text",
    "session_schema",
    "session_schema_text",
    "validate_session_file",
]

#: Rig-file formats of photometry recordings (``photometry.format``); a ``.csv`` file of the Doric or
#: pyPhotometry formats is read as that software's CSV export.
PhotometryFormat = Literal["tdt", "doric", "npm", "ppd"]
PHOTOMETRY_FORMATS: tuple[str, ...] = get_args(PhotometryFormat)
#: Rig-file formats of EEG / EMG recordings (``electrophysiology.format``).
ElectrophysiologyFormat = Literal["edf", "tdt"]
ELECTROPHYSIOLOGY_FORMATS: tuple[str, ...] = get_args(ElectrophysiologyFormat)
#: Hypnogram file formats (``hypnogram.format``), as :func:`ndx_glymphatic.converters.registry.hypnogram_formats`.
HypnogramFormat = Literal["state-table", "epoch-codes", "edf", "long-table"]
HYPNOGRAM_FORMATS: tuple[str, ...] = get_args(HypnogramFormat)

#: Clock alignment defaults: largest RMS residual of the fit, largest distance of a matched pulse from the
#: line, fewest matched pulses (as ``ndx_glymphatic.converters.clock_alignment.fit_clock_alignment``).
DEFAULT_MAX_RESIDUAL_RMS_IN_S = 0.001
DEFAULT_PULSE_TOLERANCE_IN_S = 0.01
DEFAULT_MIN_MATCHED_PULSES = 10
#: Default duration of a bolus drug injection.
DEFAULT_INJECTION_DURATION_IN_S = 5.0
#: Default largest gap between TTL pulses of one stimulation epoch.
DEFAULT_MAX_GAP_IN_S = 2.0
#: Default NWB name of the EEG / EMG amplifier device.
DEFAULT_AMPLIFIER_NAME = "eeg_emg_amplifier"

#: ``$id`` of the published JSON Schema: where the committed copy lives in the repository.
_SCHEMA_ID = "https://github.com/ndx-glymphatic/ndx-glymphatic/nwb_ext/session_schema.json"
_SESSION_FOLDER = "session_folder"  # validation / serialisation context key: the folder rig paths are relative to

_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"
_AGE_PATTERN = (
    r"^P(?=\d|T\d)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?(/(P.*)?)?$"
)
_DATETIME_WITH_ZONE_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$"


# ------------------------------------------------------------------------------------ field types
@dataclass(frozen=True)
class _Expected:
    """Schema annotation ``x-expected``: the words error messages use for a pattern."""

    words: str

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["x-expected"] = self.words
        return schema


def _parse_start_time(text: str) -> datetime:
    normalized = text.strip().replace(" ", "T", 1)
    if normalized.endswith("Z"):
        normalized = normalized[:-1] + "+00:00"
    return datetime.fromisoformat(normalized)


def _resolve_rig_path(path: Path, info: ValidationInfo) -> Path:
    folder = (info.context or {}).get(_SESSION_FOLDER)
    return path if folder is None else Path(folder) / path


def _relative_rig_path(path: Path, info: SerializationInfo) -> str:
    folder = (info.context or {}).get(_SESSION_FOLDER)
    if folder is not None and path.is_relative_to(folder):
        return path.relative_to(folder).as_posix()
    return str(path)


#: Non-empty text.
Text = Annotated[str, Field(min_length=1)]
#: An NWB object name (no slashes or spaces).
Name = Annotated[
    str, Field(pattern=_NAME_PATTERN), _Expected("a name of letters, digits, '_', '-' or '.' (no spaces or slashes)")
]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
#: A rig file or folder: relative to the session file in the document, resolved against its folder when loaded.
RigPath = Annotated[
    Path,
    AfterValidator(_resolve_rig_path),
    PlainSerializer(_relative_rig_path, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "minLength": 1}),
]
StartTime = Annotated[
    datetime,
    BeforeValidator(lambda value: _parse_start_time(value) if isinstance(value, str) else value),
    WithJsonSchema({
        "type": "string",
        "pattern": _DATETIME_WITH_ZONE_PATTERN,
        "x-expected": "an ISO 8601 date and time with a time zone such as \"2025-03-14T09:00:00+01:00\"",
    }),
]
Age = Annotated[str, Field(pattern=_AGE_PATTERN), _Expected("an ISO 8601 duration such as \"P90D\" or \"P12W\"")]
BirthDate = Annotated[str, Field(pattern=_DATE_PATTERN), _Expected("an ISO 8601 date such as \"2024-12-14\"")]
Hemisphere = Literal["left", "right"]
Clock = Literal["photometry", "electrophysiology"]
SleepState = Literal[SLEEP_STATES]


class _Section(BaseModel):
    """A closed, immutable part of a session file; unknown keys are errors (they catch typos).

    Conditional rules are declared once, as JSON Schema keywords in ``json_schema_extra``
    (``dependentRequired``, ``oneOf`` / ``anyOf`` of ``required`` lists); the schema publishes them and
    the model enforces them when built in Python.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", regex_engine="python-re", allow_inf_nan=False)

    @model_validator(mode="after")
    def _declared_rules(self) -> Self:
        rules = self.model_config.get("json_schema_extra") or {}
        given = {name for name in self.model_fields_set if getattr(self, name) is not None}
        for trigger, needed in rules.get("dependentRequired", {}).items():
            missing = [name for name in needed if trigger in given and name not in given]
            if missing:
                raise ValueError(f"{missing[0]} is required when {trigger} is given")
        for keyword, accepted in (("oneOf", lambda n: n == 1), ("anyOf", lambda n: n >= 1)):
            options = [option["required"] for option in rules.get(keyword, ())]
            if options and not accepted(sum(set(option) <= given for option in options)):
                words = " or ".join(" + ".join(option) for option in options)
                raise ValueError(f"expected {'exactly' if keyword == 'oneOf' else 'at least'} one of {words}")
        return self


# ------------------------------------------------------------------------------------ the models
class SubjectConfig(_Section):
    """The animal (NWB Subject; DANDI requires id, species, sex and age)."""

    subject_id: Name = Field(description="Animal identifier.", examples=["m01"])
    species: Text = Field(description="Latin binomial.", examples=["Mus musculus"])
    sex: Literal["M", "F", "U", "O"] = Field(description="\"M\", \"F\", \"U\" (unknown) or \"O\" (other).")
    age: Age = Field(description="Age at the session as an ISO 8601 duration.", examples=["P90D"])
    strain: Text = Field(description="Strain.", examples=["C57BL/6J"])
    genotype: Text | None = Field(default=None, description="Genotype.", examples=["DBH-Cre +/-"])
    description: Text | None = Field(default=None, description="Anything else about the animal.")
    weight: Text | None = Field(default=None, description="Weight with unit.", examples=["25 g"])
    date_of_birth: BirthDate | None = Field(default=None, description="Date of birth (ISO 8601).")


class SessionInfo(_Section):
    """The recording session (NWBFile fields)."""

    session_start_time: StartTime = Field(
        description="Start of the recording, with its time zone. Rig-file times are relative to it.",
        examples=["2025-03-14T09:00:00+01:00"],
    )
    session_description: Text = Field(description="What happened in this session.")
    identifier: Text | None = Field(default=None, description="Globally unique file identifier; default a new UUID.")
    session_id: Name = Field(description="Session identifier.", examples=["ses01"])
    experimenter: tuple[Text, ...] = Field(
        min_length=1, description="People who did the experiment, \"Last, First\".", examples=[["Hauglund, Natalie"]]
    )
    lab: Text = Field(description="Lab name.")
    institution: Text = Field(description="Institution.")
    experiment_description: Text | None = Field(default=None, description="The experiment in general.")
    keywords: tuple[Text, ...] = Field(default=(), description="Keywords.")
    related_publications: tuple[Text, ...] = Field(default=(), description="DOIs or URLs.")
    surgery: Text | None = Field(default=None, description="Surgeries in words.")
    pharmacology: Text | None = Field(default=None, description="Drugs in words (structured entries go in `drugs`).")
    notes: Text | None = Field(default=None, description="Anything else.")


class ExcitationSourceConfig(_Section):
    """An LED or laser (photometry excitation or optogenetic stimulation)."""

    name: Name = Field(description="NWB name.", examples=["led_465nm"])
    description: Text = Field(description="What it is used for.")
    manufacturer: Text = Field(description="Maker.")
    model_number: Text | None = Field(default=None, description="Model.")
    source_type: Text = Field(description="Kind of light source.", examples=["LED", "laser"])
    excitation_mode: Text = Field(default="one-photon", description="\"one-photon\" or \"two-photon\".")
    wavelength_in_nm: Positive | None = Field(default=None, description="Nominal wavelength in nm.")
    power_in_W: Positive | None = Field(default=None, description="Output power in W.")


class PhotodetectorConfig(_Section):
    """A photodetector (photodiode, PMT, camera)."""

    name: Name = Field(description="NWB name.")
    description: Text = Field(description="What it detects.")
    manufacturer: Text = Field(description="Maker.")
    model_number: Text | None = Field(default=None, description="Model.")
    detector_type: Text = Field(description="Kind of detector.", examples=["photodiode", "PMT", "CMOS camera"])


class FiberConfig(_Section):
    """An implanted optical fiber (photometry or optogenetics) with its insertion coordinates."""

    name: Name = Field(description="NWB name.", examples=["fiber_ne"])
    description: Text = Field(description="What it records or stimulates.")
    manufacturer: Text = Field(description="Maker.")
    model_number: Text | None = Field(default=None, description="Model.")
    numerical_aperture: Positive = Field(description="Numerical aperture.")
    core_diameter_in_um: Positive | None = Field(default=None, description="Core diameter in micrometers.")
    location: Text = Field(description="Brain area at the fiber tip (default location of its photometry channels).")
    ap_in_mm: float = Field(description="Anterior-posterior insertion coordinate in mm.")
    ml_in_mm: float = Field(description="Medial-lateral insertion coordinate in mm.")
    depth_in_mm: float = Field(description="Insertion depth in mm.")
    hemisphere: Hemisphere = Field(description="Side of the brain.")
    position_reference: Text = Field(default="bregma", description="Origin of the coordinates.")


class DevicesConfig(_Section):
    """Hardware used in the session."""

    preset: DevicePreset | None = Field(
        default=None,
        description="A rig whose LEDs (`led_<wavelength>nm`) and `photodetector` fill the lists below; an entry "
        "given with the same name overrides the preset's field by field (docs/formats.md#rig-formats).",
    )
    excitation_sources: tuple[ExcitationSourceConfig, ...] = Field(default=(), description="LEDs and lasers.")
    photodetectors: tuple[PhotodetectorConfig, ...] = Field(default=(), description="Photodetectors.")
    optical_fibers: tuple[FiberConfig, ...] = Field(default=(), description="Implanted fibers.")

    @model_validator(mode="before")
    @classmethod
    def _fill_preset(cls, data: Any) -> Any:
        return expand_device_preset({"devices": data})["devices"] if isinstance(data, dict) else data


class ViralVectorConfig(_Section):
    """The viral vector delivering a sensor or an opsin."""

    name: Name = Field(description="NWB name of the vector.", examples=["AAV_GRAB_NE2m"])
    construct_name: Text = Field(description="Full construct.", examples=["AAV9-hSyn-GRAB_NE2m"])
    description: Text = Field(description="What it is.")
    manufacturer: Text = Field(description="Who made it (core facility or company).")
    titer_in_vg_per_ml: Positive = Field(description="Titer in viral genomes per ml.")


class InjectionConfig(_Section):
    """Where and how much of the vector was injected (stereotaxic coordinates from the reference)."""

    name: Name | None = Field(default=None,
                              description="NWB name of the injection; default \"<vector name>_injection\".")
    description: Text | None = Field(default=None, description="How it was done.")
    location: Text = Field(description="Brain area.", examples=["locus coeruleus"])
    hemisphere: Hemisphere = Field(description="Side of the brain.")
    reference: Text = Field(description="Origin of the coordinates.", examples=["bregma"])
    ap_in_mm: float = Field(description="Anterior-posterior coordinate in mm.")
    ml_in_mm: float = Field(description="Medial-lateral coordinate in mm.")
    dv_in_mm: float = Field(description="Dorsal-ventral coordinate in mm (negative = down).")
    volume_in_uL: Positive = Field(description="Injected volume in microliters.")


class IndicatorConfig(_Section):
    """A genetically encoded sensor seen by photometry channels (NWB Indicator), or an opsin (NWB Effector)."""

    model_config = ConfigDict(json_schema_extra={"dependentRequired": {"injection": ["viral_vector"]}})

    name: Name = Field(description="NWB name, referenced by photometry channels or optogenetic sites.",
                       examples=["GRAB_NE2m", "ChR2_LC"])
    label: Text = Field(description="Human label.", examples=["hChR2(H134R)"])
    description: Text = Field(description="What it senses or does, and how it was expressed.")
    manufacturer: Text | None = Field(default=None, description="Source lab or company.")
    viral_vector: ViralVectorConfig | None = Field(default=None, description="The vector expressing it.")
    injection: InjectionConfig | None = Field(default=None, description="The vector's injection.")


class TracerConfig(_Section):
    """A fluorescent tracer or blood label seen by photometry channels (ndx-glymphatic FluorescentTracer)."""

    name: Name = Field(description="NWB name, referenced by photometry channels and infusions.",
                       examples=["ovalbumin_AF647"])
    label: Text = Field(description="Human label.", examples=["Alexa Fluor 647-ovalbumin"])
    description: Text = Field(description="What it labels and how it was delivered.")
    manufacturer: Text | None = Field(default=None, description="Supplier.")
    fluorophore: Text = Field(description="Fluorophore.", examples=["Alexa Fluor 647"])
    carrier_molecule: Literal[CARRIER_MOLECULES] = Field(description="Molecule the fluorophore is bound to.")
    molecular_weight_in_kDa: Positive = Field(description="Molecular weight of the conjugate in kDa.")
    labeled_compartment: Literal[LABELED_COMPARTMENTS] = Field(description="Compartment it labels.")
    excitation_peak_in_nm: Positive = Field(description="Excitation peak in nm.")
    emission_peak_in_nm: Positive = Field(description="Emission peak in nm.")


class PhotometryChannelConfig(_Section):
    """One photometry channel: one FiberPhotometryChannelsTable row and one FiberPhotometryResponseSeries."""

    name: Name = Field(description="Series name in the NWB file.", examples=["ne_465nm"])
    stream: Text = Field(description="Stream name in the rig file.", examples=["_465A", "LockInAOUT01/AIN01"])
    stream_channel: int = Field(default=0, ge=0, description="Channel index inside a multi-channel stream.")
    description: Text = Field(description="One sentence about the channel.")
    measured_quantity: Literal[MEASURED_QUANTITIES] = Field(description="What the channel measures.")
    channel_role: Literal[CHANNEL_ROLES] = Field(description="The channel's role.")
    control_channel: str | None = Field(
        default=None, json_schema_extra={"type": ["string", "null"]},
        description="Name of this channel's control channel (another channel here), or null.",
    )
    indicator: Name = Field(description="Name of an entry of `indicators` or `tracers`.")
    optical_fiber: Name = Field(description="Name of an entry of `devices.optical_fibers`.")
    excitation_source: Name = Field(description="Name of an entry of `devices.excitation_sources`.")
    photodetector: Name = Field(description="Name of an entry of `devices.photodetectors`.")
    excitation_wavelength_in_nm: Positive = Field(description="Excitation wavelength in nm.")
    emission_wavelength_in_nm: Positive = Field(description="Emission wavelength in nm.")
    location: Text | None = Field(default=None, description="Brain area; default the optical fiber's location.")
    unit: Text | None = Field(default=None, description="Unit of the stored values; default the reader's unit.",
                              examples=["V"])


class PhotometryConfig(_Section):
    """The photometry recording: rig file and channel semantics."""

    format: PhotometryFormat = Field(description="Rig-file format.")
    file: RigPath = Field(description="Rig file or folder (TDT block), relative to the session file.")
    channels: tuple[PhotometryChannelConfig, ...] = Field(min_length=1, description="The channels to convert.")
    events: tuple[Text, ...] | None = Field(
        default=None,
        description="Event channels (TTL) of the file to store as EventsTable \"ttl_<name>\"; default all.",
    )
    system_name: Text | None = Field(default=None, description="Name of the photometry system.",
                                     examples=["TDT RZ10x"])
    digital_input_files: tuple[RigPath, ...] = Field(
        default=(),
        description="`npm` only: digital-input CSV files recorded with the photometry CSV (their channels become "
        "event channels), relative to the session file.",
    )
    led_order: tuple[Literal[415, 470, 560], ...] | None = Field(
        default=None, min_length=1,
        description="`npm` only: excitation wavelengths in nm in frame order, for files without LedState / Flags "
        "columns.",
    )
    series: Text | None = Field(default=None,
                                description="`doric` V6 only: which SeriesNNNN to read; default the first.")
    allow_repeated_packet_times: bool = Field(
        default=False,
        description="`tdt` only: read stream packets whose timestamps repeat or go back as contiguous samples "
        "(with a note); by default such a block is refused.",
    )


class AmplifierConfig(_Section):
    """The EEG / EMG amplifier or acquisition device."""

    name: Name = Field(default=DEFAULT_AMPLIFIER_NAME, description="NWB name.")
    description: Text = Field(description="What it is.")
    manufacturer: Text | None = Field(default=None, description="Maker.")
    model_number: Text | None = Field(default=None, description="Model.")


class ElectrodeGroupConfig(_Section):
    """A group of electrodes (EEG screws, EMG wires)."""

    name: Name = Field(description="NWB name.", examples=["EEG_screws"])
    description: Text = Field(description="What they are and where.")
    location: Text = Field(description="Where, in words.", examples=["frontal and parietal cortex", "neck muscle"])


class ElectrodeConfig(_Section):
    """One EEG or EMG electrode channel."""

    name: Name = Field(description="Channel name.", examples=["EEG1"])
    stream: Text = Field(description="Stream name in the rig file (EDF stream or signal label).",
                         examples=["EEG EEG1A-B"])
    stream_channel: int = Field(default=0, ge=0, description="Channel index inside a multi-channel stream.")
    series: Literal["EEG", "EMG"] = Field(description="The ElectricalSeries it belongs to.")
    group: Name = Field(description="Name of an entry of `electrophysiology.electrode_groups`.")
    location: Text | None = Field(
        default=None,
        description="Allen CCF term for the electrodes table (EEG: \"Isocortex\" or finer; EMG: \"root\"); "
        "default \"Isocortex\" for EEG and \"root\" for EMG.",
    )
    description: Text | None = Field(default=None, description="One sentence.")

    @property
    def ccf_location(self) -> str:
        """The electrodes-table location (Allen CCF term)."""
        if self.location:
            return self.location
        return "Isocortex" if self.series == "EEG" else "root"


class ClockAlignmentConfig(_Section):
    """How to put a second acquisition system onto the photometry clock: match shared TTL pulses, fit
    t_photometry = slope * t_secondary + offset."""

    model_config = ConfigDict(
        json_schema_extra={"dependentRequired": {"offset_search_window_in_s": ["expected_offset_in_s"]}}
    )

    primary_ttl_channel: Text = Field(description="Event channel in the photometry file.", examples=["PtC0"])
    secondary_ttl_channel: Text = Field(description="Event channel in this file.", examples=["TTL"])
    primary_system: Text | None = Field(default=None, description="Name of the photometry system; default "
                                        "\"<photometry format> (photometry)\".")
    secondary_system: Text | None = Field(default=None, description="Name of this system; default "
                                          "\"<format> (EEG/EMG)\".")
    max_residual_rms_in_s: Positive = Field(default=DEFAULT_MAX_RESIDUAL_RMS_IN_S,
                                            description="Largest accepted RMS of the fit residuals in s.")
    tolerance_in_s: Positive = Field(default=DEFAULT_PULSE_TOLERANCE_IN_S,
                                     description="Largest distance of a matched pulse from the fitted line in s.")
    min_matched_pulses: int = Field(default=DEFAULT_MIN_MATCHED_PULSES, ge=2, description="Fewest matched pulses "
                                    "accepted.")
    expected_offset_in_s: float | None = Field(
        default=None, description="For strictly periodic pulses only: the approximate offset "
        "(t_photometry - t_secondary) in s.",
    )
    offset_search_window_in_s: Positive | None = Field(
        default=None, description="With expected_offset_in_s: how far from it to search, in s.",
    )


class ElectrophysiologyConfig(_Section):
    """The EEG / EMG recording (ElectricalSeries \"EEG\" and \"EMG\")."""

    format: ElectrophysiologyFormat = Field(description="Rig-file format.")
    file: RigPath = Field(description="Rig file or folder, relative to the session file (may be the photometry "
                          "block).")
    amplifier: AmplifierConfig = Field(description="The amplifier / acquisition device.")
    electrode_groups: tuple[ElectrodeGroupConfig, ...] = Field(min_length=1, description="Electrode groups.")
    channels: tuple[ElectrodeConfig, ...] = Field(min_length=1, description="The channels to convert.")
    filtering: Text | None = Field(default=None, description="Hardware / software filtering.",
                                   examples=["0.5-100 Hz band-pass"])
    clock_alignment: ClockAlignmentConfig | None = Field(
        default=None, description="Required when this file is not the photometry file: its own clock is aligned.",
    )
    events: tuple[Text, ...] = Field(
        default=(), description="Event channels of this file to store as EventsTable \"<prefix>_<name>\"."
    )


class HypnogramConfig(_Section):
    """The scored sleep states (Hypnogram \"sleep_states\")."""

    file: RigPath = Field(description="Hypnogram file, relative to the session file.")
    format: HypnogramFormat | None = Field(
        default=None, description="File layout; default: recognised from the file's content (the conversion "
        "notes say which).",
    )
    scoring_method: Literal[SCORING_METHODS] = Field(description="How it was scored.")
    scorer: Text = Field(description="Person, or software + version.")
    epoch_length_in_s: Positive | None = Field(default=None, description="Scoring epoch in s (required for "
                                               "`epoch-codes`).")
    state_codes: dict[str, SleepState] | None = Field(
        default=None, description="`epoch-codes`: code -> sleep state; default {\"1\": \"wake\", \"4\": \"NREM\", "
        "\"9\": \"REM\", \"15\": \"micro-arousal\"}.",
    )
    code_preset: Literal["default", "accusleep", "yasa", "yasa-str", "sleep-edf"] | None = Field(
        default=None, description="`epoch-codes`: named code map (`accusleep`, `yasa`, `yasa-str`, `default`); "
        "`edf`: named label map (`sleep-edf`). `state_codes` / `label_map` add to it.",
    )
    column: Text | None = Field(default=None, description="`epoch-codes`: name of the column (or `.mat` variable) "
                                "holding the codes; default the only column, `brain_state`, or `labels` in a .mat.")
    start_time_in_s: float = Field(default=0.0, description="`epoch-codes`: time of the first epoch's start in s.")
    state_columns: dict[str, SleepState] | None = Field(
        default=None, description="`state-table`: header -> sleep state; default Wake, NREM, REM, MA (SleepScore).",
    )
    label_map: dict[str, SleepState] | None = Field(
        default=None, description="`edf`: annotation label -> sleep state; default the Sleep-EDF labels.",
    )
    state_labels: dict[str, SleepState] | None = Field(
        default=None, description="`long-table`: state label -> sleep state, added to the usual spellings "
        "(W, N1-N3, R, MA, ...).",
    )
    boundary_tolerance_in_s: NonNegative = Field(
        default=0.01, description="Overlaps and gaps between neighbouring intervals up to this (s) are rounding: "
        "snapped, with a note; larger overlaps are errors.",
    )
    clock: Clock | None = Field(
        default=None, description="Clock of the hypnogram's times; default \"electrophysiology\" when EEG comes "
        "from another system (it is scored on EEG), else \"photometry\".",
    )
    description: Text | None = Field(default=None, description="How it was scored.")


class InfusionConfig(_Section):
    """One tracer infusion (TracerInfusionsTable \"tracer_infusions\"), seconds from the session start."""

    tracer: Name = Field(description="Name of an entry of `tracers`.")
    start_time_in_s: NonNegative = Field(description="Start in s.")
    stop_time_in_s: NonNegative = Field(description="Stop in s.")
    route: Literal[ROUTE_WORDS] = Field(description="Route; an abbreviation such as \"i.p.\" is accepted too.")
    site: Text = Field(description="Site.", examples=["cisterna magna"])
    volume_in_uL: Positive = Field(description="Volume in microliters.")
    rate_in_uL_per_min: Positive = Field(description="Rate in microliters per minute.")
    concentration: Positive = Field(description="Concentration, in concentration_unit.")
    concentration_unit: Text = Field(description="Unit of the concentration.", examples=["%", "mg/ml"])


class DrugConfig(_Section):
    """One drug or vehicle administration (DrugAdministrationsTable \"drug_administrations\")."""

    drug: Text = Field(description="Drug; for a vehicle-only injection the vehicle's name (with dose 0).",
                       examples=["zolpidem"])
    dose: NonNegative = Field(description="Dose, in dose_unit.")
    dose_unit: Literal[DOSE_UNITS] = Field(description="Unit of the dose.")
    route: Literal[ROUTE_WORDS] = Field(description="Route; an abbreviation such as \"i.p.\" is accepted too.")
    vehicle: Text = Field(description="Vehicle.", examples=["saline"])
    time_in_s: NonNegative = Field(description="Start of the injection in s from the session start.")
    duration_in_s: Positive = Field(default=DEFAULT_INJECTION_DURATION_IN_S,
                                    description="Duration of the injection in s (default: a bolus).")


class ConditionConfig(_Section):
    """The session's experimental condition (ExperimentalCondition)."""

    condition: Text = Field(description="The condition's name.", examples=["vehicle", "zolpidem"])
    is_control: bool = Field(description="True for the control condition.")
    description: Text = Field(description="The condition in words.")


class EpochConfig(_Section):
    """One stimulation epoch, seconds from the session start."""

    start_time_in_s: NonNegative = Field(description="Start in s.")
    stop_time_in_s: NonNegative = Field(description="Stop in s.")


class FromTtlConfig(_Section):
    """Derive the epochs from TTL pulses in a rig file: pulses closer than `max_gap_in_s` form one epoch
    (start = first onset, stop = last offset or last onset + pulse length)."""

    system: Clock = Field(default="photometry", description="Which rig file holds the events.")
    event_channel: Text = Field(description="Event channel name in that file.", examples=["Pu1_"])
    max_gap_in_s: Positive = Field(default=DEFAULT_MAX_GAP_IN_S,
                                   description="Largest gap between pulses of one epoch in s.")


class StimulationConfig(_Section):
    """A stimulation protocol and its epochs, listed (`epochs`) or derived from TTL pulses (`from_ttl`)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["epochs"]}, {"required": ["from_ttl"]}]})

    description: Text = Field(description="Protocol in words.")
    sites: tuple[Name, ...] = Field(min_length=1, description="Names of `optogenetics.sites` stimulated.")
    pulse_length_in_ms: Positive | None = Field(default=None, description="Duration of one pulse in ms.")
    period_in_ms: Positive | None = Field(default=None, description="Time between pulse starts in ms.")
    number_pulses_per_pulse_train: int | None = Field(default=None, ge=1, description="Pulses per train.")
    number_trains: int = Field(default=1, ge=1, description="Trains per epoch.")
    intertrain_interval_in_ms: NonNegative = Field(default=0.0, description="Between train starts in ms.")
    power_in_mW: Positive = Field(description="Light power at the fiber tip in mW.")
    wavelength_in_nm: Positive = Field(description="Light wavelength in nm.")
    epochs: tuple[EpochConfig, ...] = Field(default=(), description="Epochs listed explicitly.")
    from_ttl: FromTtlConfig | None = Field(default=None, description="Or: epochs derived from TTL pulses.")


class LcStimulationConfig(StimulationConfig):
    """Optogenetic stimulation of the locus coeruleus (OptogeneticEpochsTable \"lc_optogenetic_stimulation\")."""

    pulse_length_in_ms: Positive = Field(description="Duration of one pulse in ms.")
    period_in_ms: Positive = Field(description="Time between pulse starts in ms.")
    number_pulses_per_pulse_train: int = Field(ge=1, description="Pulses per train.")


class VasomotionStimulationConfig(StimulationConfig):
    """Imposed vasomotion (VasomotionStimulationEpochsTable \"vasomotion_stimulation\")."""

    stimulation_method: Literal[STIMULATION_METHODS] = Field(description="How vasomotion is imposed.")
    target: Text = Field(description="What is stimulated.", examples=["arterial smooth muscle"])
    modulation_frequency_in_Hz: Positive = Field(description="Frequency of the imposed modulation in Hz.")
    modulation_waveform: Literal[MODULATION_WAVEFORMS] = Field(description="Shape of the modulation.")


class OptogeneticSiteConfig(_Section):
    """An optogenetic stimulation site: light source + fiber + opsin."""

    name: Name = Field(description="Site name, referenced by stimulation sections.", examples=["LC"])
    excitation_source: Name = Field(description="Name of an entry of `devices.excitation_sources`.")
    optical_fiber: Name = Field(description="Name of an entry of `devices.optical_fibers`.")
    effector: Name = Field(description="Name of an entry of `optogenetics.effectors`.")


class OptogeneticsConfig(_Section):
    """Optogenetic hardware, opsins, sites and stimulation epochs."""

    stimulation_software: Text = Field(default="unknown", description="Software driving the light.",
                                       examples=["Synapse"])
    effectors: tuple[IndicatorConfig, ...] = Field(min_length=1, description="Opsins (NWB Effector).")
    sites: tuple[OptogeneticSiteConfig, ...] = Field(min_length=1, description="Stimulation sites.")
    lc_stimulation: LcStimulationConfig | None = Field(default=None, description="LC stimulation epochs.")
    vasomotion_stimulation: VasomotionStimulationConfig | None = Field(default=None,
                                                                       description="Imposed vasomotion epochs.")


class SessionConfig(_Section):
    """Names the rig files of one recording session (paths relative to this file) and holds all the metadata NWB
    and DANDI need. Write it in YAML or JSON; `glymph convert SESSION -o OUT.nwb`."""

    model_config = ConfigDict(
        title="ndx-glymphatic conversion session file",
        json_schema_extra={"anyOf": [{"required": ["photometry"]}, {"required": ["electrophysiology"]}]},
    )

    path: Path = Field(exclude=True, description="The session file (not part of its content).")
    subject: SubjectConfig = Field(description="The animal.")
    session: SessionInfo = Field(description="The recording session.")
    devices: DevicesConfig = Field(default=DevicesConfig(), description="Hardware used in the session.")
    indicators: tuple[IndicatorConfig, ...] = Field(default=(), description="Genetically encoded sensors.")
    tracers: tuple[TracerConfig, ...] = Field(default=(), description="Fluorescent tracers and blood labels.")
    photometry: PhotometryConfig | None = Field(default=None, description="The photometry recording.")
    electrophysiology: ElectrophysiologyConfig | None = Field(default=None, description="The EEG / EMG recording.")
    hypnogram: HypnogramConfig | None = Field(default=None, description="The scored sleep states.")
    infusions: tuple[InfusionConfig, ...] = Field(default=(), description="Tracer infusions.")
    drugs: tuple[DrugConfig, ...] = Field(default=(), description="Drug and vehicle administrations.")
    condition: ConditionConfig | None = Field(default=None, description="The experimental condition.")
    optogenetics: OptogeneticsConfig | None = Field(default=None, description="Optogenetics.")

    @property
    def excitation_sources(self) -> tuple[ExcitationSourceConfig, ...]:
        """``devices.excitation_sources``."""
        return self.devices.excitation_sources

    @property
    def photodetectors(self) -> tuple[PhotodetectorConfig, ...]:
        """``devices.photodetectors``."""
        return self.devices.photodetectors

    @property
    def optical_fibers(self) -> tuple[FiberConfig, ...]:
        """``devices.optical_fibers``."""
        return self.devices.optical_fibers

    @property
    def ephys_needs_alignment(self) -> bool:
        """True when EEG/EMG come from another file than photometry (their own clock)."""
        return (
            self.photometry is not None
            and self.electrophysiology is not None
            and not _same_file(self.photometry.file, self.electrophysiology.file)
        )

    def rig_paths(self) -> tuple[Path, ...]:
        """The rig files and folders the session names, each once, in the order of the sections."""
        named: list[Path] = []
        if self.photometry is not None:
            named += [self.photometry.file, *self.photometry.digital_input_files]
        if self.electrophysiology is not None:
            named.append(self.electrophysiology.file)
        if self.hypnogram is not None:
            named.append(self.hypnogram.file)
        return tuple(dict.fromkeys(named))

    def hypnogram_clock(self) -> str:
        """Clock of the hypnogram times: ``"photometry"`` or ``"electrophysiology"``."""
        if self.hypnogram is None:
            return "photometry"
        if self.hypnogram.clock:
            return self.hypnogram.clock
        if self.ephys_needs_alignment or self.photometry is None:
            return "electrophysiology"
        return "photometry"

    def to_document(self) -> dict[str, Any]:
        """The session-file content (JSON types): the keys given, rig paths relative to the session file's folder."""
        return self.model_dump(mode="json", exclude_unset=True, exclude_none=True,
                               context={_SESSION_FOLDER: self.path.parent})


# ------------------------------------------------------------------------------------ JSON Schema
class _SchemaGenerator(GenerateJsonSchema):
    """pydantic's JSON Schema, made strict for hand-written files.

    Optional fields accept their value, not null (absence means the default), except where the field says
    otherwise; fields excluded from the content (``SessionConfig.path``) are left out; no generated titles.
    """

    def nullable_schema(self, schema: CoreSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def field_is_present(self, field: CoreSchema) -> bool:
        return not field.get("serialization_exclude")

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False

    def generate(self, schema: CoreSchema, mode: str = "validation") -> JsonSchemaValue:
        generated = super().generate(schema, mode=mode)
        _drop_null_defaults(generated)
        definitions = {name: _object_schema(node) for name, node in generated.pop("$defs", {}).items()}
        for definition in definitions.values():
            definition.pop("title", None)
        return {"$schema": self.schema_dialect, "$id": _SCHEMA_ID, **_object_schema(generated), "$defs": definitions}


_KEY_ORDER = ("title", "description", "type", "properties", "required")


def _object_schema(node: dict[str, Any]) -> dict[str, Any]:
    """An object schema with its words first and its (multi-line) docstring description on one line."""
    ordered = {key: node[key] for key in _KEY_ORDER if key in node} | node
    if "description" in ordered:
        ordered["description"] = " ".join(ordered["description"].split())
    return ordered


def _drop_null_defaults(node: Any) -> None:
    if isinstance(node, dict):
        if "default" in node and node["default"] is None and "null" not in node.get("type", ()):
            del node["default"]
        for value in node.values():
            _drop_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_null_defaults(value)


@functools.cache
def _schema() -> dict[str, Any]:
    return SessionConfig.model_json_schema(schema_generator=_SchemaGenerator)


def session_schema() -> dict[str, Any]:
    """The published JSON Schema of session files, generated from :class:`SessionConfig` (a fresh dict)."""
    return copy.deepcopy(_schema())


@functools.cache
def session_schema_text() -> str:
    """The published JSON Schema of session files, as text (the committed ``session_schema.json``)."""
    return json.dumps(_schema(), indent=2, ensure_ascii=False) + "\n"


@functools.cache
def session_example_text() -> str:
    """An annotated example session file (YAML), as text."""
    return (files("ndx_glymphatic") / "session_example.yaml").read_text()


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = _schema()
    return jsonschema.validators.validator_for(schema)(schema)


class SessionFileError(GlymphError):
    """A session file has problems; the message lists every one, one per line.

    Attributes
    ----------
    path : Path
        The session file.
    problems : list of str
        One ``<field path>: expected ..., got ...`` message per problem.
    """

    exit_code = 2

    def __init__(self, *, path: Path, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{self.path}: session file has {len(self.problems)} {noun}:\n{lines}")


# ------------------------------------------------------------------------------------- reading
class _TextTimestampLoader(yaml.SafeLoader):
    """A YAML loader that keeps dates and times as text (the schema checks them, with time zones)."""


_TextTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_session_document(*, path: str | Path) -> tuple[Any, list[str]]:
    """Parse a session file (JSON for ``.json``, YAML otherwise) without checking it.

    Returns
    -------
    document : object or None
        The parsed content (None when it could not be parsed).
    problems : list of str
        Why it could not be read (empty on success).
    """
    path = Path(path)
    kind = describe_path(path=path)  # never opens it: a FIFO would block the read
    if kind == "a directory":
        return None, ["(session file): expected a YAML or JSON file, got a directory"]
    if kind != "a regular file":
        return None, [f"(session file): expected an existing YAML or JSON file, got {kind}"]
    size = path.stat().st_size
    if size > MAX_SESSION_FILE_BYTES:
        return None, [f"(session file): expected at most {MAX_SESSION_FILE_BYTES} bytes, got {size} bytes"]
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return None, [f"(session file): expected UTF-8 text, got undecodable bytes at byte {error.start}"]
    limits = session_text_problems(content=content, is_json=path.suffix.lower() == ".json")
    if limits:
        return None, limits
    if path.suffix.lower() == ".json":
        try:
            return json.loads(content), []
        except json.JSONDecodeError as error:
            return None, [f"(session file) line {error.lineno}, column {error.colno}: expected valid JSON, "
                          f"got a syntax error ({error.msg})"]
    try:
        return yaml.load(content, Loader=_TextTimestampLoader), []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return None, [f"(session file){where}: expected valid YAML, got a syntax error ({problem})"]


def _format_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    """A short rendering of a found value for messages."""
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} entries" if value else "an empty list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (nothing)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + '..."'


_TYPE_WORDS = {
    "number": "a number",
    "integer": "a whole number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of fields",
    "null": "null",
}


def _type_words(expected: str | list[str]) -> str:
    if isinstance(expected, list):
        return " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
    return _TYPE_WORDS.get(expected, expected)


def _schema_error_messages(error: jsonschema.ValidationError) -> list[str]:
    """Turn one jsonschema error into ``<path>: expected ..., got ...`` messages."""
    path = _format_path(error.absolute_path)
    where = path or "(session file)"
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    if kind == "type":
        return [f"{where}: expected {_type_words(error.validator_value)}, got {_show(instance)}"]
    if kind == "required":
        present = instance if isinstance(instance, dict) else {}
        return [
            f"{_join(path, key)}: expected a value (required), got nothing"
            for key in error.validator_value
            if key not in present
        ]
    if kind == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        messages = []
        for key in instance:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
            messages.append(f"{_join(path, str(key))}: expected no such field, got an unknown field{hint}")
        return messages
    if kind == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        close = difflib.get_close_matches(str(instance), [str(v) for v in error.validator_value], n=1)
        hint = f" (did you mean {json.dumps(close[0])}?)" if close else ""
        return [f"{where}: expected one of {allowed}, got {_show(instance)}{hint}"]
    if kind == "pattern":
        expected = schema.get("x-expected", f"text matching {error.validator_value}")
        return [f"{where}: expected {expected}, got {_show(instance)}"]
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[kind]
        return [f"{where}: expected a number {sign} {error.validator_value}, got {_show(instance)}"]
    if kind == "minLength":
        return [f"{where}: expected non-empty text, got {_show(instance)}"]
    if kind == "minItems":
        return [f"{where}: expected at least {error.validator_value} entries, got {_show(instance)}"]
    if kind == "oneOf":
        options = [" + ".join(option.get("required", [])) for option in error.validator_value]
        keys = [key for option in options for key in option.split(" + ")]
        given = [key for key in keys if isinstance(instance, dict) and key in instance]
        return [f"{where}: expected exactly one of {' or '.join(options)}, "
                f"got {' and '.join(given) if given else 'neither'}"]
    if kind == "anyOf" and not path:
        options = [" + ".join(option.get("required", [])) for option in error.validator_value]
        return [f"(session file): expected at least one of the sections {' or '.join(options)}, got neither"]
    if kind == "dependentRequired":
        present = instance if isinstance(instance, dict) else {}
        return [
            f"{_join(path, needed)}: expected a value (required when {trigger!r} is given), got nothing"
            for trigger, needs in error.validator_value.items()
            if trigger in present
            for needed in needs
            if needed not in present
        ]
    return [f"{where}: {error.message}"]


# ------------------------------------------------------------------------------ cross references
def _entries(document: Any, *keys: str) -> list[tuple[str, dict]]:
    """(path, entry) of the dict entries of a list found at ``keys`` (nothing when absent or malformed)."""
    node = document
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return []
        node = node[key]
    if not isinstance(node, list):
        return []
    base = ".".join(keys)
    return [(f"{base}[{i}]", item) for i, item in enumerate(node) if isinstance(item, dict)]


def _names(entries: list[tuple[str, dict]]) -> set[str]:
    return {entry["name"] for _, entry in entries if isinstance(entry.get("name"), str)}


def _check_unique(entries: list[tuple[str, dict]], *, what: str) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for path, entry in entries:
        name = entry.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            problems.append(f"{path}.name: expected a {what} name not used before, got {_show(name)} "
                            f"(already used at {seen[name]})")
        else:
            seen[name] = path
    return problems


def _check_reference(
    *, path: str, entry: dict, key: str, known: set[str], what: str
) -> list[str]:
    value = entry.get(key)
    if not isinstance(value, str) or value in known:
        return []
    close = difflib.get_close_matches(value, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    declared = ", ".join(repr(n) for n in sorted(known)) or "none declared"
    return [f"{path}.{key}: expected the name of {what} ({declared}), got {_show(value)}{hint}"]


def _section(document: Any, key: str) -> dict:
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, dict) else {}


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.resolve() == second.resolve()
    except OSError:
        return first == second


def _cross_reference_problems(document: Any, *, base_folder: Path) -> list[str]:
    problems: list[str] = []
    fibers = _entries(document, "devices", "optical_fibers")
    sources = _entries(document, "devices", "excitation_sources")
    detectors = _entries(document, "devices", "photodetectors")
    indicators = _entries(document, "indicators")
    tracers = _entries(document, "tracers")
    effectors = _entries(document, "optogenetics", "effectors")
    sites = _entries(document, "optogenetics", "sites")
    channels = _entries(document, "photometry", "channels")
    groups = _entries(document, "electrophysiology", "electrode_groups")
    electrodes = _entries(document, "electrophysiology", "channels")

    problems += _check_unique(fibers + sources + detectors, what="device")
    problems += _check_unique(indicators + tracers + effectors, what="indicator, tracer or effector")
    problems += _check_unique(channels + electrodes, what="channel")
    problems += _check_unique(groups, what="electrode group")
    problems += _check_unique(sites, what="site")
    for path, channel in channels:
        if channel.get("name") in ("EEG", "EMG"):
            problems.append(f"{path}.name: expected a photometry series name other than 'EEG'/'EMG', "
                            f"got {_show(channel['name'])}")

    session = _section(document, "session")
    start = session.get("session_start_time")
    if isinstance(start, str):
        try:
            _parse_start_time(start)
        except ValueError:
            problems.append(f"session.session_start_time: expected a real date and time, got {_show(start)}")

    channel_names = _names(channels)
    roles = {entry.get("name"): entry.get("channel_role") for _, entry in channels}
    seen_streams: dict[tuple[Any, Any], str] = {}
    for path, channel in channels:
        problems += _check_reference(path=path, entry=channel, key="indicator",
                                     known=_names(indicators) | _names(tracers),
                                     what="an entry of `indicators` or `tracers`")
        problems += _check_reference(path=path, entry=channel, key="optical_fiber", known=_names(fibers),
                                     what="an entry of `devices.optical_fibers`")
        problems += _check_reference(path=path, entry=channel, key="excitation_source",
                                     known=_names(sources), what="an entry of `devices.excitation_sources`")
        problems += _check_reference(path=path, entry=channel, key="photodetector", known=_names(detectors),
                                     what="an entry of `devices.photodetectors`")
        control = channel.get("control_channel")
        if isinstance(control, str):
            if control == channel.get("name"):
                problems.append(f"{path}.control_channel: expected another channel's name, "
                                f"got the channel's own name {_show(control)}")
            elif control not in channel_names:
                controls = {name for name, role in roles.items()
                            if role in ("isosbestic control", "reference control") and isinstance(name, str)}
                problems += _check_reference(path=path, entry=channel, key="control_channel",
                                             known=controls - {channel.get("name")},
                                             what="another photometry channel whose channel_role is a control")
            elif roles.get(control) not in ("isosbestic control", "reference control"):
                problems.append(
                    f"{path}.control_channel: expected a channel whose channel_role is \"isosbestic control\" "
                    f"or \"reference control\", got {_show(control)} (channel_role {_show(roles.get(control))})"
                )
        key = (channel.get("stream"), channel.get("stream_channel", 0))
        if key in seen_streams:
            problems.append(f"{path}.stream: expected a stream (and stream_channel) not used by another "
                            f"channel, got {_show(key[0])} (already used at {seen_streams[key]})")
        else:
            seen_streams[key] = path

    for path, electrode in electrodes:
        problems += _check_reference(path=path, entry=electrode, key="group", known=_names(groups),
                                     what="an entry of `electrophysiology.electrode_groups`")

    for path, infusion in _entries(document, "infusions"):
        problems += _check_reference(path=path, entry=infusion, key="tracer", known=_names(tracers),
                                     what="an entry of `tracers`")
        problems += _interval_problems(path=path, entry=infusion)
    for path, epoch_owner in (("optogenetics.lc_stimulation", "lc_stimulation"),
                              ("optogenetics.vasomotion_stimulation", "vasomotion_stimulation")):
        stimulation = _section(_section(document, "optogenetics"), epoch_owner)
        for site_index, site_name in enumerate(stimulation.get("sites") or []):
            if isinstance(site_name, str) and site_name not in _names(sites):
                declared = ", ".join(repr(n) for n in sorted(_names(sites))) or "none declared"
                problems.append(f"{path}.sites[{site_index}]: expected the name of an entry of "
                                f"`optogenetics.sites` ({declared}), got {_show(site_name)}")
        for epoch_path, epoch in _entries(document, "optogenetics", epoch_owner, "epochs"):
            problems += _interval_problems(path=epoch_path, entry=epoch)
        from_ttl = stimulation.get("from_ttl")
        if isinstance(from_ttl, dict) and from_ttl.get("system") == "electrophysiology" and not _section(
            document, "electrophysiology"
        ):
            problems.append(f"{path}.from_ttl.system: expected \"photometry\" (there is no electrophysiology "
                            "section), got \"electrophysiology\"")
    for path, site in sites:
        problems += _check_reference(path=path, entry=site, key="excitation_source", known=_names(sources),
                                     what="an entry of `devices.excitation_sources`")
        problems += _check_reference(path=path, entry=site, key="optical_fiber", known=_names(fibers),
                                     what="an entry of `devices.optical_fibers`")
        problems += _check_reference(path=path, entry=site, key="effector", known=_names(effectors),
                                     what="an entry of `optogenetics.effectors`")

    photometry = _section(document, "photometry")
    ephys = _section(document, "electrophysiology")
    hypnogram = _section(document, "hypnogram")
    for section_name, section in (("photometry", photometry), ("electrophysiology", ephys),
                                  ("hypnogram", hypnogram)):
        file_text = section.get("file")
        if isinstance(file_text, str) and file_text:
            resolved = base_folder / file_text
            if not resolved.exists():
                problems.append(f"{section_name}.file: expected an existing file or folder, got "
                                f"{_show(file_text)} (no such path: {resolved})")
    for index, item in enumerate(photometry.get("digital_input_files") or []):
        if isinstance(item, str) and item and not (base_folder / item).is_file():
            problems.append(f"photometry.digital_input_files[{index}]: expected an existing file, got "
                            f"{_show(item)} (no such file: {base_folder / item})")
    for key, owner in (("digital_input_files", "npm"), ("led_order", "npm"), ("series", "doric")):
        if key in photometry and photometry.get("format") not in (owner, None):
            problems.append(f"photometry.{key}: expected nothing for format {_show(photometry.get('format'))} "
                            f"(only used by {owner!r}), got {_show(photometry[key])}")
    if _entries(document, "tracers") and not photometry:
        problems.append("tracers: expected a photometry section (tracers are stored with its indicators), "
                        "got none")
    if photometry and ephys and isinstance(photometry.get("file"), str) and isinstance(ephys.get("file"), str):
        separate = not _same_file(base_folder / photometry["file"], base_folder / ephys["file"])
        if separate and "clock_alignment" not in ephys:
            problems.append("electrophysiology.clock_alignment: expected a value (required when EEG/EMG come "
                            "from another file than photometry, which has its own clock), got nothing")
        if not separate and "clock_alignment" in ephys:
            problems.append("electrophysiology.clock_alignment: expected nothing (EEG/EMG are in the "
                            "photometry file and share its clock), got a mapping")
    if hypnogram.get("format") == "epoch-codes" and "epoch_length_in_s" not in hypnogram:
        problems.append("hypnogram.epoch_length_in_s: expected a value (required for format "
                        "\"epoch-codes\"), got nothing")
    if hypnogram.get("clock") == "electrophysiology" and not ephys:
        problems.append("hypnogram.clock: expected \"photometry\" (there is no electrophysiology section), "
                        "got \"electrophysiology\"")
    if hypnogram.get("clock") == "photometry" and not photometry:
        problems.append("hypnogram.clock: expected \"electrophysiology\" (there is no photometry section), "
                        "got \"photometry\"")
    return problems


def _interval_problems(*, path: str, entry: dict) -> list[str]:
    start, stop = entry.get("start_time_in_s"), entry.get("stop_time_in_s")
    numbers = (int, float)
    if isinstance(start, numbers) and isinstance(stop, numbers) and not isinstance(start, bool) and stop <= start:
        return [f"{path}.stop_time_in_s: expected a time after start_time_in_s ({start}), got {_show(stop)}"]
    return []


def check_session_document(*, document: Any, base_folder: str | Path) -> list[str]:
    """Every problem of a parsed session document: schema violations, broken references, missing files.

    Parameters
    ----------
    document : object
        The parsed YAML / JSON content.
    base_folder : str or Path
        Folder the relative file paths are resolved against (the session file's folder).

    Returns
    -------
    list of str
        ``<field path>: expected ..., got ...`` messages, sorted by path; empty when valid.
    """
    if not isinstance(document, dict):
        return [f"(session file): expected a mapping of sections (subject, session, ...), got {_show(document)}"]
    document = expand_device_preset(document)
    messages: list[str] = []
    for error in _validator().iter_errors(document):
        messages += _schema_error_messages(error)
    messages += _cross_reference_problems(document, base_folder=Path(base_folder))
    messages += non_finite_problems(document=document) + birth_after_session_problems(document=document)
    unique = list(dict.fromkeys(messages))
    return sorted(unique, key=_message_sort_key)


def _message_sort_key(message: str) -> tuple:
    path = message.split(":", 1)[0]
    parts = []
    for piece in path.replace("[", ".[").split("."):
        if piece.startswith("[") and piece.endswith("]") and piece[1:-1].isdigit():
            parts.append((1, int(piece[1:-1]), ""))
        else:
            parts.append((0, 0, piece))
    return tuple(parts)


def validate_session_file(*, path: str | Path) -> list[str]:
    """Check a session file without reading any rig data.

    Parameters
    ----------
    path : str or Path
        The session file (YAML, or JSON for ``.json``).

    Returns
    -------
    list of str
        One ``<field path>: expected ..., got ...`` message per problem; empty when the file is valid.
    """
    path = Path(path)
    document, problems = _read_session_document(path=path)
    if problems:
        return problems
    return check_session_document(document=document, base_folder=path.parent)


def load_session(*, path: str | Path) -> SessionConfig:
    """Read and check a session file; return its typed content.

    Parameters
    ----------
    path : str or Path
        The session file (YAML, or JSON for ``.json``).

    Returns
    -------
    SessionConfig
        With rig-file paths resolved against the session file's folder.

    Raises
    ------
    SessionFileError
        Listing every problem (see :func:`validate_session_file`).
    """
    path = Path(path)
    document, problems = _read_session_document(path=path)
    if not problems:
        problems = check_session_document(document=document, base_folder=path.parent)
    if problems:
        raise SessionFileError(path=path, problems=problems)
    return SessionConfig.model_validate(
        {**expand_device_preset(document), "path": path}, context={_SESSION_FOLDER: path.parent}
    )
