"""The conversion session file: schema, checks with readable messages, and typed access.

A session file (YAML or JSON) names the rig files of one recording session, with paths relative to
the session file, and holds all the metadata NWB and DANDI need (subject, session, devices,
indicators, tracers, channel semantics, EEG/EMG electrodes, clock alignment, hypnogram, infusions,
drugs, condition, stimulation). Its JSON Schema is published as package data
(``session_schema.json``; ``glymph schema session`` prints it).

Everything here runs before any rig data is read: the JSON Schema (every violation, each turned into
``<path>: expected <what>, got <found>``), then cross-references between sections (a control channel
that names no channel, an indicator that is not declared, ...) and the existence of the named files.

Public API::

    validate_session_file(*, path) -> list[str]      # [] when valid
    load_session(*, path) -> SessionConfig            # raises one GlymphError listing every problem
    session_schema() -> dict                          # the published JSON Schema
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ndx_glymphatic.errors import GlymphError

__all__ = [
    "DEFAULT_MAX_RESIDUAL_RMS_IN_S",
    "DEFAULT_MIN_MATCHED_PULSES",
    "DEFAULT_PULSE_TOLERANCE_IN_S",
    "ELECTROPHYSIOLOGY_FORMATS",
    "HYPNOGRAM_FORMATS",
    "PHOTOMETRY_FORMATS",
    "ClockAlignmentConfig",
    "ConditionConfig",
    "DrugConfig",
    "ElectrodeConfig",
    "ElectrodeGroupConfig",
    "ElectrophysiologyConfig",
    "EpochConfig",
    "ExcitationSourceConfig",
    "FiberConfig",
    "FromTtlConfig",
    "HypnogramConfig",
    "IndicatorConfig",
    "InfusionConfig",
    "InjectionConfig",
    "OptogeneticSiteConfig",
    "OptogeneticsConfig",
    "PhotodetectorConfig",
    "PhotometryChannelConfig",
    "PhotometryConfig",
    "SessionConfig",
    "SessionFileError",
    "SessionInfo",
    "StimulationConfig",
    "SubjectConfig",
    "TracerConfig",
    "ViralVectorConfig",
    "check_session_document",
    "load_session",
    "read_session_document",
    "session_example_text",
    "session_schema",
    "session_schema_text",
    "validate_session_file",
]

#: Rig-file formats of photometry recordings (``photometry.format``); a ``.csv`` file of the Doric or
#: pyPhotometry formats is read as that software's CSV export.
PHOTOMETRY_FORMATS: tuple[str, ...] = ("tdt", "doric", "npm", "ppd")
#: Rig-file formats of EEG / EMG recordings (``electrophysiology.format``).
ELECTROPHYSIOLOGY_FORMATS: tuple[str, ...] = ("edf", "tdt")
#: Hypnogram file formats (``hypnogram.format``), as :func:`ndx_glymphatic.converters.registry.hypnogram_formats`.
HYPNOGRAM_FORMATS: tuple[str, ...] = ("state-table", "epoch-codes", "edf")

#: Clock alignment defaults: largest RMS residual of the fit, largest distance of a matched pulse from the
#: line, fewest matched pulses (as ``ndx_glymphatic.converters.clock_alignment.fit_clock_alignment``).
DEFAULT_MAX_RESIDUAL_RMS_IN_S = 0.001
DEFAULT_PULSE_TOLERANCE_IN_S = 0.01
DEFAULT_MIN_MATCHED_PULSES = 10
#: Default duration of a bolus drug injection.
DEFAULT_INJECTION_DURATION_IN_S = 5.0
#: Default largest gap between TTL pulses of one stimulation epoch.
DEFAULT_MAX_GAP_IN_S = 2.0

_TYPE_WORDS = {
    "number": "a number",
    "integer": "a whole number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of fields",
    "null": "null",
}


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


# ------------------------------------------------------------------------------------------ schema
@functools.cache
def session_schema_text() -> str:
    """The published JSON Schema of session files, as text."""
    return (files("ndx_glymphatic") / "session_schema.json").read_text()


@functools.cache
def session_example_text() -> str:
    """An annotated example session file (YAML), as text."""
    return (files("ndx_glymphatic") / "session_example.yaml").read_text()


def session_schema() -> dict[str, Any]:
    """The published JSON Schema of session files (a fresh dict)."""
    return json.loads(session_schema_text())


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = session_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema)


# ------------------------------------------------------------------------------------ typed config
@dataclass(frozen=True)
class SubjectConfig:
    """The animal (NWB Subject)."""

    subject_id: str
    species: str
    sex: str
    age: str
    strain: str
    genotype: str | None = None
    description: str | None = None
    weight: str | None = None
    date_of_birth: str | None = None


@dataclass(frozen=True)
class SessionInfo:
    """NWBFile-level fields."""

    session_start_time: datetime
    session_description: str
    session_id: str
    experimenter: tuple[str, ...]
    lab: str
    institution: str
    identifier: str | None = None
    experiment_description: str | None = None
    keywords: tuple[str, ...] = ()
    related_publications: tuple[str, ...] = ()
    surgery: str | None = None
    pharmacology: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class ExcitationSourceConfig:
    """An LED or laser."""

    name: str
    description: str
    manufacturer: str
    source_type: str
    model_number: str | None = None
    excitation_mode: str = "one-photon"
    wavelength_in_nm: float | None = None
    power_in_W: float | None = None


@dataclass(frozen=True)
class PhotodetectorConfig:
    """A photodetector."""

    name: str
    description: str
    manufacturer: str
    detector_type: str
    model_number: str | None = None


@dataclass(frozen=True)
class FiberConfig:
    """An implanted optical fiber."""

    name: str
    description: str
    manufacturer: str
    numerical_aperture: float
    location: str
    ap_in_mm: float
    ml_in_mm: float
    depth_in_mm: float
    hemisphere: str
    model_number: str | None = None
    core_diameter_in_um: float | None = None
    position_reference: str = "bregma"


@dataclass(frozen=True)
class ViralVectorConfig:
    """A viral vector."""

    name: str
    construct_name: str
    description: str
    manufacturer: str
    titer_in_vg_per_ml: float


@dataclass(frozen=True)
class InjectionConfig:
    """A viral vector injection."""

    location: str
    hemisphere: str
    reference: str
    ap_in_mm: float
    ml_in_mm: float
    dv_in_mm: float
    volume_in_uL: float
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class IndicatorConfig:
    """A genetically encoded sensor (also used for opsins, as effectors)."""

    name: str
    label: str
    description: str
    manufacturer: str | None = None
    viral_vector: ViralVectorConfig | None = None
    injection: InjectionConfig | None = None


@dataclass(frozen=True)
class TracerConfig:
    """A fluorescent tracer or blood label."""

    name: str
    label: str
    description: str
    fluorophore: str
    carrier_molecule: str
    molecular_weight_in_kDa: float
    labeled_compartment: str
    excitation_peak_in_nm: float
    emission_peak_in_nm: float
    manufacturer: str | None = None


@dataclass(frozen=True)
class PhotometryChannelConfig:
    """One photometry channel: its rig stream and its semantics."""

    name: str
    stream: str
    description: str
    measured_quantity: str
    channel_role: str
    indicator: str
    optical_fiber: str
    excitation_source: str
    photodetector: str
    excitation_wavelength_in_nm: float
    emission_wavelength_in_nm: float
    stream_channel: int = 0
    control_channel: str | None = None
    location: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class PhotometryConfig:
    """The photometry rig file and its channels."""

    format: str
    file: Path
    channels: tuple[PhotometryChannelConfig, ...]
    events: tuple[str, ...] | None = None
    system_name: str | None = None
    digital_input_files: tuple[Path, ...] = ()
    led_order: tuple[int, ...] | None = None
    series: str | None = None


@dataclass(frozen=True)
class ElectrodeGroupConfig:
    """An electrode group."""

    name: str
    description: str
    location: str


@dataclass(frozen=True)
class ElectrodeConfig:
    """One EEG or EMG channel."""

    name: str
    stream: str
    series: str
    group: str
    stream_channel: int = 0
    location: str | None = None
    description: str | None = None

    @property
    def ccf_location(self) -> str:
        """The electrodes-table location (Allen CCF term)."""
        if self.location:
            return self.location
        return "Isocortex" if self.series == "EEG" else "root"


@dataclass(frozen=True)
class ClockAlignmentConfig:
    """How a second system's clock is put onto the photometry clock."""

    primary_ttl_channel: str
    secondary_ttl_channel: str
    primary_system: str | None = None
    secondary_system: str | None = None
    max_residual_rms_in_s: float = DEFAULT_MAX_RESIDUAL_RMS_IN_S
    tolerance_in_s: float = DEFAULT_PULSE_TOLERANCE_IN_S
    min_matched_pulses: int = DEFAULT_MIN_MATCHED_PULSES
    expected_offset_in_s: float | None = None
    offset_search_window_in_s: float | None = None


@dataclass(frozen=True)
class ElectrophysiologyConfig:
    """The EEG / EMG rig file and its channels."""

    format: str
    file: Path
    amplifier: Mapping[str, str]
    electrode_groups: tuple[ElectrodeGroupConfig, ...]
    channels: tuple[ElectrodeConfig, ...]
    filtering: str | None = None
    clock_alignment: ClockAlignmentConfig | None = None
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class HypnogramConfig:
    """The scored hypnogram file."""

    file: Path
    format: str
    scoring_method: str
    scorer: str
    epoch_length_in_s: float | None = None
    state_codes: Mapping[str, str] | None = None
    column: str | None = None
    start_time_in_s: float = 0.0
    state_columns: Mapping[str, str] | None = None
    label_map: Mapping[str, str] | None = None
    clock: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class InfusionConfig:
    """One tracer infusion."""

    tracer: str
    start_time_in_s: float
    stop_time_in_s: float
    route: str
    site: str
    volume_in_uL: float
    rate_in_uL_per_min: float
    concentration: float
    concentration_unit: str


@dataclass(frozen=True)
class DrugConfig:
    """One drug or vehicle administration."""

    drug: str
    dose: float
    dose_unit: str
    route: str
    vehicle: str
    time_in_s: float
    duration_in_s: float = DEFAULT_INJECTION_DURATION_IN_S


@dataclass(frozen=True)
class ConditionConfig:
    """The experimental condition."""

    condition: str
    is_control: bool
    description: str


@dataclass(frozen=True)
class EpochConfig:
    """One stimulation epoch."""

    start_time_in_s: float
    stop_time_in_s: float


@dataclass(frozen=True)
class FromTtlConfig:
    """Stimulation epochs derived from TTL pulses."""

    event_channel: str
    system: str = "photometry"
    max_gap_in_s: float = DEFAULT_MAX_GAP_IN_S


@dataclass(frozen=True)
class StimulationConfig:
    """LC or vasomotion stimulation: protocol and epochs (explicit or from TTL)."""

    description: str
    sites: tuple[str, ...]
    power_in_mW: float
    wavelength_in_nm: float
    pulse_length_in_ms: float | None = None
    period_in_ms: float | None = None
    number_pulses_per_pulse_train: int | None = None
    number_trains: int = 1
    intertrain_interval_in_ms: float = 0.0
    epochs: tuple[EpochConfig, ...] = ()
    from_ttl: FromTtlConfig | None = None
    stimulation_method: str | None = None
    target: str | None = None
    modulation_frequency_in_Hz: float | None = None
    modulation_waveform: str | None = None


@dataclass(frozen=True)
class OptogeneticSiteConfig:
    """An optogenetic stimulation site."""

    name: str
    excitation_source: str
    optical_fiber: str
    effector: str


@dataclass(frozen=True)
class OptogeneticsConfig:
    """Opsins, sites and stimulation."""

    effectors: tuple[IndicatorConfig, ...]
    sites: tuple[OptogeneticSiteConfig, ...]
    stimulation_software: str = "unknown"
    lc_stimulation: StimulationConfig | None = None
    vasomotion_stimulation: StimulationConfig | None = None


@dataclass(frozen=True)
class SessionConfig:
    """A checked session file, with paths resolved against the session file's folder."""

    path: Path
    subject: SubjectConfig
    session: SessionInfo
    excitation_sources: tuple[ExcitationSourceConfig, ...] = ()
    photodetectors: tuple[PhotodetectorConfig, ...] = ()
    optical_fibers: tuple[FiberConfig, ...] = ()
    indicators: tuple[IndicatorConfig, ...] = ()
    tracers: tuple[TracerConfig, ...] = ()
    photometry: PhotometryConfig | None = None
    electrophysiology: ElectrophysiologyConfig | None = None
    hypnogram: HypnogramConfig | None = None
    infusions: tuple[InfusionConfig, ...] = ()
    drugs: tuple[DrugConfig, ...] = ()
    condition: ConditionConfig | None = None
    optogenetics: OptogeneticsConfig | None = None
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ephys_needs_alignment(self) -> bool:
        """True when EEG/EMG come from another file than photometry (their own clock)."""
        return (
            self.photometry is not None
            and self.electrophysiology is not None
            and not _same_file(self.photometry.file, self.electrophysiology.file)
        )

    def hypnogram_clock(self) -> str:
        """Clock of the hypnogram times: ``"photometry"`` or ``"electrophysiology"``."""
        if self.hypnogram is None:
            return "photometry"
        if self.hypnogram.clock:
            return self.hypnogram.clock
        if self.ephys_needs_alignment or self.photometry is None:
            return "electrophysiology"
        return "photometry"


# ------------------------------------------------------------------------------------- reading
class _TextTimestampLoader(yaml.SafeLoader):
    """A YAML loader that keeps dates and times as text (the schema checks them, with time zones)."""


_TextTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_session_document(*, path: str | Path) -> tuple[Any, list[str]]:
    """Parse a session file (JSON for ``.json``, YAML otherwise) without checking it.

    Returns
    -------
    document : object or None
        The parsed content (None when it could not be parsed).
    problems : list of str
        Why it could not be read (empty on success).
    """
    path = Path(path)
    if path.is_dir():
        return None, ["(session file): expected a YAML or JSON file, got a directory"]
    if not path.is_file():
        return None, ["(session file): expected an existing YAML or JSON file, got no such file"]
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return None, [f"(session file): expected UTF-8 text, got undecodable bytes at byte {error.start}"]
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


def _parse_start_time(text: str) -> datetime:
    normalized = text.strip().replace(" ", "T", 1)
    if normalized.endswith("Z"):
        normalized = normalized[:-1] + "+00:00"
    return datetime.fromisoformat(normalized)


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
    messages: list[str] = []
    for error in _validator().iter_errors(document):
        messages += _schema_error_messages(error)
    messages += _cross_reference_problems(document, base_folder=Path(base_folder))
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
    document, problems = read_session_document(path=path)
    if problems:
        return problems
    return check_session_document(document=document, base_folder=path.parent)


# ------------------------------------------------------------------------------------- building
def _build(cls: type, data: Mapping[str, Any] | None, **overrides: Any) -> Any:
    if data is None:
        return None
    values = {key: value for key, value in data.items() if key not in overrides}
    values.update({key: value for key, value in overrides.items() if value is not None or key in data})
    return cls(**values)


def _tuple_of(cls: type, items: Sequence[Mapping[str, Any]] | None) -> tuple:
    return tuple(_build(cls, item) for item in items or ())


def _indicator(data: Mapping[str, Any]) -> IndicatorConfig:
    return _build(
        IndicatorConfig, data,
        viral_vector=_build(ViralVectorConfig, data.get("viral_vector")),
        injection=_build(InjectionConfig, data.get("injection")),
    )


def _stimulation(data: Mapping[str, Any] | None) -> StimulationConfig | None:
    if data is None:
        return None
    return _build(
        StimulationConfig, data,
        sites=tuple(data["sites"]),
        epochs=_tuple_of(EpochConfig, data.get("epochs")),
        from_ttl=_build(FromTtlConfig, data.get("from_ttl")),
    )


def _build_config(*, document: Mapping[str, Any], path: Path) -> SessionConfig:
    base = path.parent
    session = document["session"]
    devices = document.get("devices", {})
    photometry = document.get("photometry")
    ephys = document.get("electrophysiology")
    hypnogram = document.get("hypnogram")
    optogenetics = document.get("optogenetics")
    return SessionConfig(
        path=path,
        subject=_build(SubjectConfig, document["subject"]),
        session=_build(
            SessionInfo, session,
            session_start_time=_parse_start_time(session["session_start_time"]),
            experimenter=tuple(session["experimenter"]),
            keywords=tuple(session.get("keywords", ())),
            related_publications=tuple(session.get("related_publications", ())),
        ),
        excitation_sources=_tuple_of(ExcitationSourceConfig, devices.get("excitation_sources")),
        photodetectors=_tuple_of(PhotodetectorConfig, devices.get("photodetectors")),
        optical_fibers=_tuple_of(FiberConfig, devices.get("optical_fibers")),
        indicators=tuple(_indicator(item) for item in document.get("indicators", ())),
        tracers=_tuple_of(TracerConfig, document.get("tracers")),
        photometry=None if photometry is None else _build(
            PhotometryConfig, photometry,
            file=base / photometry["file"],
            channels=_tuple_of(PhotometryChannelConfig, photometry["channels"]),
            events=None if "events" not in photometry else tuple(photometry["events"]),
            digital_input_files=tuple(base / item for item in photometry.get("digital_input_files", ())),
            led_order=None if "led_order" not in photometry else tuple(photometry["led_order"]),
        ),
        electrophysiology=None if ephys is None else _build(
            ElectrophysiologyConfig, ephys,
            file=base / ephys["file"],
            electrode_groups=_tuple_of(ElectrodeGroupConfig, ephys["electrode_groups"]),
            channels=_tuple_of(ElectrodeConfig, ephys["channels"]),
            clock_alignment=_build(ClockAlignmentConfig, ephys.get("clock_alignment")),
            events=tuple(ephys.get("events", ())),
        ),
        hypnogram=None if hypnogram is None else _build(HypnogramConfig, hypnogram, file=base / hypnogram["file"]),
        infusions=_tuple_of(InfusionConfig, document.get("infusions")),
        drugs=_tuple_of(DrugConfig, document.get("drugs")),
        condition=_build(ConditionConfig, document.get("condition")),
        optogenetics=None if optogenetics is None else _build(
            OptogeneticsConfig, optogenetics,
            effectors=tuple(_indicator(item) for item in optogenetics["effectors"]),
            sites=_tuple_of(OptogeneticSiteConfig, optogenetics["sites"]),
            lc_stimulation=_stimulation(optogenetics.get("lc_stimulation")),
            vasomotion_stimulation=_stimulation(optogenetics.get("vasomotion_stimulation")),
        ),
        document=document,
    )


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
    document, problems = read_session_document(path=path)
    if not problems:
        problems = check_session_document(document=document, base_folder=path.parent)
    if problems:
        raise SessionFileError(path=path, problems=problems)
    return _build_config(document=document, path=path)
