"""neuroconv data interfaces for the ndx-glymphatic types: hypnogram, tracer infusions, drugs + condition,
LC / vasomotion stimulation.

Install with ``pip install "ndx-glymphatic[neuroconv]"``. Each class is a neuroconv
``BaseDataInterface`` (``get_metadata``, ``get_metadata_schema``, ``add_to_nwbfile(nwbfile, metadata)``) and
combines with neuroconv's own interfaces in an ``NWBConverter``::

    class SleepConverter(NWBConverter):
        data_interface_classes = dict(
            photometry=TDTFiberPhotometryInterface, hypnogram=HypnogramInterface,
            infusions=TracerInfusionsInterface, drugs=DrugAdministrationsInterface,
            stimulation=OptogeneticStimulationInterface,
        )

The NWB objects come from the project's one builder (:mod:`ndx_glymphatic.builder`); the hypnogram from the
hypnogram readers (:func:`ndx_glymphatic.converters.registry.read_hypnogram`); infusions, drugs, condition and
stimulation from a session file's sections (:func:`ndx_glymphatic.session.load_session`), the stimulation epochs
listed there or derived from TTL pulses in the session's rig file (``from_ttl``). Everything these interfaces
write sits under the metadata key ``"Glymphatic"``, in the session file's own words (same keys, same units), and
its JSON Schema is generated from the session-file model.

Times are on the clock of the files read: the hypnogram's own clock, the session file's photometry clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from neuroconv.basedatainterface import BaseDataInterface
from neuroconv.utils import DeepDict
from pynwb import NWBFile

from ndx_glymphatic import FiberPhotometryChannelsTable
from ndx_glymphatic.builder import (
    SleepStates,
    StimulationEpochs,
    add_devices,
    add_drug_administrations,
    add_experimental_condition,
    add_optogenetics,
    add_sleep_states,
    add_tracer_infusions,
    fluorescent_tracer,
)
from ndx_glymphatic.converters.plan import epochs_from_ttl
from ndx_glymphatic.converters.registry import open_rig_reader, read_hypnogram
from ndx_glymphatic.errors import GlymphError
from ndx_glymphatic.session import (
    ConditionConfig,
    DrugConfig,
    InfusionConfig,
    OptogeneticsConfig,
    SessionConfig,
    TracerConfig,
    load_session,
)

__all__ = [
    "METADATA_KEY",
    "DrugAdministrationsInterface",
    "HypnogramInterface",
    "OptogeneticStimulationInterface",
    "PhotometryChannelsInterface",
    "TracerInfusionsInterface",
    "fiber_photometry_metadata",
]

#: Top-level metadata key of every interface of this module.
METADATA_KEY = "Glymphatic"


_ANY_JSON_TYPE = ("string", "number", "integer", "boolean", "object", "array")


def _model_schema(model: type) -> dict[str, Any]:
    """JSON Schema of a session-file section in the form neuroconv merges: ``$defs`` inlined, optional fields
    as their type, no ``anyOf`` / ``oneOf`` (neuroconv merges lists of objects by ``name``). The section's
    pydantic model still checks everything in ``add_to_nwbfile``."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def simplify(node: Any) -> Any:
        if isinstance(node, list):
            return [simplify(value) for value in node]
        if not isinstance(node, dict):
            return node
        node = dict(node)
        for key in ("anyOf", "oneOf"):
            branches = [branch for branch in node.pop(key, []) if branch.get("type") != "null"]
            if len(branches) == 1:
                node.update(branches[0])
        if "$ref" in node:
            node = {**definitions[node.pop("$ref").rsplit("/", 1)[-1]], **node}
            return simplify(node)
        node.pop("examples", None)
        simplified = {key: simplify(value) for key, value in node.items()}
        for field in simplified.get("properties", {}).values():
            field.setdefault("type", list(_ANY_JSON_TYPE))  # neuroconv's fill_defaults reads every field's type
        return simplified

    return simplify(schema)


def _with_glymphatic(schema: dict[str, Any], *, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """neuroconv's metadata ``schema`` plus a required ``Glymphatic`` object with ``properties``."""
    schema.setdefault("properties", {})[METADATA_KEY] = {
        "type": "object",
        "required": required,
        "properties": properties,
    }
    schema["required"] = [*schema.get("required", []), METADATA_KEY]
    return schema


def _section(metadata: dict | None, *, default: dict[str, Any]) -> dict[str, Any]:
    """The ``Glymphatic`` part of ``metadata`` (the interface's own when none is given)."""
    if metadata is None:
        return default
    return metadata.get(METADATA_KEY, default)


def _dump(value: Any) -> Any:
    return value.model_dump(mode="json", exclude_none=True)


class _SessionSectionInterface(BaseDataInterface):
    """Shared set-up: a session file read and checked by :func:`load_session`."""

    keywords = ("glymphatic", "sleep", "norepinephrine")
    associated_suffixes = (".yaml", ".yml", ".json")

    def __init__(self, *, file_path: str | Path, verbose: bool = False) -> None:
        """
        Parameters
        ----------
        file_path : str or Path
            The ndx-glymphatic session file (YAML or JSON; docs/session-file.md).
        verbose : bool
            neuroconv's verbosity flag.
        """
        super().__init__(file_path=str(file_path), verbose=verbose)
        self.session: SessionConfig = load_session(path=file_path)


class HypnogramInterface(BaseDataInterface):
    """Scored sleep states (``intervals/sleep_states``, a ``Hypnogram``) from a scoring file."""

    display_name = "Hypnogram (ndx-glymphatic)"
    keywords = ("sleep", "hypnogram", "sleep scoring")
    associated_suffixes = (".csv", ".tsv", ".txt", ".xlsx", ".edf")
    info = "Sleep-state scoring read by ndx-glymphatic's hypnogram readers (docs/formats.md)."

    def __init__(
        self,
        *,
        file_path: str | Path,
        scorer: str,
        format: str | None = None,
        scoring_method: str = "manual",
        epoch_length_in_s: float | None = None,
        state_codes: dict[str, str] | None = None,
        column: str | None = None,
        start_time_in_s: float = 0.0,
        state_columns: dict[str, str] | None = None,
        label_map: dict[str, str] | None = None,
        verbose: bool = False,
    ) -> None:
        """
        Parameters
        ----------
        file_path : str or Path
            The scoring file.
        scorer : str
            Person, or software + version, who scored.
        format : str, optional
            Hypnogram format (``state-table``, ``epoch-codes``, ``edf``: ``glymph formats``); None lets the
            registry decide from the file.
        scoring_method : {"manual", "automatic"}
            How it was scored.
        epoch_length_in_s : float, optional
            Scoring epoch in s (required by ``epoch-codes``).
        state_codes, column, start_time_in_s, state_columns, label_map
            The format's options, as the session file's ``hypnogram`` section names them.
        verbose : bool
            neuroconv's verbosity flag.
        """
        super().__init__(
            file_path=str(file_path),
            scorer=scorer,
            format=format,
            scoring_method=scoring_method,
            epoch_length_in_s=epoch_length_in_s,
            verbose=verbose,
        )
        self.file_path = Path(file_path)
        intervals = read_hypnogram(
            format=format,
            path=self.file_path,
            scorer=scorer,
            scoring_method=scoring_method,
            epoch_length_in_s=epoch_length_in_s,
            options={
                "state_codes": state_codes,
                "column": column,
                "start_time_in_s": start_time_in_s,
                "state_columns": state_columns,
                "label_map": label_map,
            },
        )
        self.sleep_states = SleepStates(
            start_times_in_s=intervals.start_times_in_s,
            stop_times_in_s=intervals.stop_times_in_s,
            sleep_states=tuple(intervals.sleep_states),
            scoring_method=intervals.scoring_method,
            scorer=intervals.scorer,
            epoch_length_in_s=intervals.epoch_length_in_s,
        )

    def get_metadata_schema(self) -> dict[str, Any]:
        """neuroconv's base schema plus ``Glymphatic.Hypnogram.description``."""
        return _with_glymphatic(
            super().get_metadata_schema(),
            properties={
                "Hypnogram": {
                    "type": "object",
                    "required": ["description"],
                    "properties": {"description": {"type": "string"}},
                }
            },
            required=["Hypnogram"],
        )

    def get_metadata(self) -> DeepDict:
        """``Glymphatic.Hypnogram.description``: how, by whom and from which file the states were scored."""
        metadata = super().get_metadata()
        states = self.sleep_states
        metadata[METADATA_KEY]["Hypnogram"]["description"] = (
            f"Sleep states scored {states.scoring_method}ly by {states.scorer} ({self.file_path.name})."
        )
        return metadata

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        """Add the ``Hypnogram`` ``intervals/sleep_states``."""
        section = _section(metadata, default=self.get_metadata()[METADATA_KEY])
        add_sleep_states(nwbfile=nwbfile, states=self.sleep_states, description=section["Hypnogram"]["description"])


def _fiber_photometry_indicators(*, nwbfile: NWBFile) -> object:
    """The ``FiberPhotometryIndicators`` of the file's ``FiberPhotometry`` lab metadata (written by a photometry
    interface, e.g. neuroconv's ``TDTFiberPhotometryInterface``)."""
    for lab_metadata in nwbfile.lab_meta_data.values():
        indicators = getattr(lab_metadata, "fiber_photometry_indicators", None)
        if indicators is not None:
            return indicators
    raise GlymphError(
        "tracer infusions: the NWB file has no FiberPhotometry metadata with indicators; add the photometry "
        "interface (e.g. TDTFiberPhotometryInterface) before TracerInfusionsInterface"
    )


class PhotometryChannelsInterface(_SessionSectionInterface):
    """What each photometry channel measures, from a session file's ``photometry.channels``: gives the channels
    table a photometry interface wrote (ndx-fiber-photometry ``FiberPhotometryTable``) the columns of
    ``FiberPhotometryChannelsTable`` (``measured_quantity``, ``channel_role``, ``control_channel``,
    ``stream_name``), so that validation and analysis find the norepinephrine signal and its control.

    Put it after the photometry interface. Rows are matched to channels through the
    ``FiberPhotometryResponseSeries`` named as the session file's channels (:func:`fiber_photometry_metadata`).
    """

    display_name = "Photometry channel semantics (ndx-glymphatic)"
    info = "Measured quantity, role and control channel of each photometry channel, from a session file."

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        """Add the channel-semantics columns to the file's fiber photometry table."""
        if self.session.photometry is None:
            raise GlymphError(f"{self.source_data['file_path']}: photometry: expected the section, found none")
        table = next(
            (
                meta.fiber_photometry_table
                for meta in nwbfile.lab_meta_data.values()
                if getattr(meta, "fiber_photometry_table", None) is not None
            ),
            None,
        )
        if table is None:
            raise GlymphError(
                "photometry channels: the NWB file has no FiberPhotometry table; add the photometry "
                "interface (e.g. TDTFiberPhotometryInterface) before PhotometryChannelsInterface"
            )
        channels = {channel.name: channel for channel in self.session.photometry.channels}
        row_of: dict[str, int] = {}
        for series in nwbfile.acquisition.values():
            region = getattr(series, "fiber_photometry_table_region", None)
            if region is not None and region.table is table and series.name in channels:
                row_of[series.name] = int(region.data[0])
        missing = sorted(set(channels) - set(row_of))
        if missing or len(set(row_of.values())) != len(table):
            raise GlymphError(
                f"{self.source_data['file_path']}: photometry.channels: expected one FiberPhotometryResponseSeries "
                f"per channel, named as the channel, on its own table row; missing or shared: {missing or 'rows'}"
            )
        by_row = {row: channels[name] for name, row in row_of.items()}
        ordered = [by_row[row] for row in range(len(table))]
        descriptions = {column["name"]: column["description"] for column in FiberPhotometryChannelsTable.__columns__}
        values = {
            "measured_quantity": [channel.measured_quantity for channel in ordered],
            "channel_role": [channel.channel_role for channel in ordered],
            "control_channel": [
                row_of[channel.control_channel] if channel.control_channel else -1 for channel in ordered
            ],
            "stream_name": [channel.stream for channel in ordered],
        }
        for name, data in values.items():
            table.add_column(name=name, description=descriptions[name], data=data)
        # neuroconv builds its FiberPhotometryTable itself; with the columns above the table is exactly a
        # FiberPhotometryChannelsTable (a subtype adding only these columns), and the same object keeps the
        # rows, device links and the series' regions.
        table.__class__ = FiberPhotometryChannelsTable


class TracerInfusionsInterface(_SessionSectionInterface):
    """Tracer infusions (``intervals/tracer_infusions``) from a session file's ``infusions`` and ``tracers``.

    Each infusion points at its tracer in ``FiberPhotometry.fiber_photometry_indicators``: the indicator of that
    name a photometry interface already wrote, else a ``FluorescentTracer`` made from the ``tracers`` entry.
    """

    display_name = "Tracer infusions (ndx-glymphatic)"
    info = "Fluorescent tracer infusions from an ndx-glymphatic session file."

    def get_metadata_schema(self) -> dict[str, Any]:
        """neuroconv's base schema plus ``Glymphatic.TracerInfusions`` and ``Glymphatic.Tracers`` (session model)."""
        return _with_glymphatic(
            super().get_metadata_schema(),
            properties={
                "TracerInfusions": {"type": "array", "items": _model_schema(InfusionConfig)},
                "Tracers": {"type": "array", "items": _model_schema(TracerConfig)},
            },
            required=["TracerInfusions"],
        )

    def get_metadata(self) -> DeepDict:
        """The session file's ``infusions`` and ``tracers``."""
        metadata = super().get_metadata()
        metadata[METADATA_KEY]["TracerInfusions"] = [_dump(infusion) for infusion in self.session.infusions]
        metadata[METADATA_KEY]["Tracers"] = [_dump(tracer) for tracer in self.session.tracers]
        return metadata

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        """Add the ``TracerInfusionsTable`` (and the tracers the file lacks)."""
        section = _section(metadata, default=self.get_metadata()[METADATA_KEY])
        infusions = [InfusionConfig.model_validate(entry) for entry in section["TracerInfusions"]]
        if not infusions:
            return  # an empty table is a best-practice violation
        configs = {entry["name"]: TracerConfig.model_validate(entry) for entry in section.get("Tracers", [])}
        container = _fiber_photometry_indicators(nwbfile=nwbfile)
        tracers: dict[str, object] = {}
        for name in dict.fromkeys(infusion.tracer for infusion in infusions):
            if name in container.indicators:
                tracers[name] = container.indicators[name]
            elif name in configs:
                tracers[name] = fluorescent_tracer(config=configs[name])
                container.add_indicators(tracers[name])
            else:
                raise GlymphError(
                    f"{self.source_data['file_path']}: infusions.tracer: expected a tracer in "
                    f"`tracers` or an indicator in the NWB file, found {name!r}"
                )
        add_tracer_infusions(nwbfile=nwbfile, infusions=infusions, tracers=tracers)


class DrugAdministrationsInterface(_SessionSectionInterface):
    """Drug and vehicle administrations (``intervals/drug_administrations``) and the experimental condition
    (``general/experimental_condition``) from a session file's ``drugs`` and ``condition``."""

    display_name = "Drug administrations and condition (ndx-glymphatic)"
    info = "Drug / vehicle administrations and the experimental condition from an ndx-glymphatic session file."

    def get_metadata_schema(self) -> dict[str, Any]:
        """neuroconv's base schema plus ``Glymphatic.DrugAdministrations`` and ``Glymphatic.ExperimentalCondition``."""
        return _with_glymphatic(
            super().get_metadata_schema(),
            properties={
                "DrugAdministrations": {"type": "array", "items": _model_schema(DrugConfig)},
                "ExperimentalCondition": _model_schema(ConditionConfig),
            },
            required=["DrugAdministrations"],
        )

    def get_metadata(self) -> DeepDict:
        """The session file's ``drugs`` and ``condition``."""
        metadata = super().get_metadata()
        metadata[METADATA_KEY]["DrugAdministrations"] = [_dump(drug) for drug in self.session.drugs]
        if self.session.condition is not None:
            metadata[METADATA_KEY]["ExperimentalCondition"] = _dump(self.session.condition)
        return metadata

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        """Add the ``DrugAdministrationsTable`` and the ``ExperimentalCondition``."""
        section = _section(metadata, default=self.get_metadata()[METADATA_KEY])
        drugs = [DrugConfig.model_validate(entry) for entry in section["DrugAdministrations"]]
        if drugs:
            add_drug_administrations(nwbfile=nwbfile, drugs=drugs)
        if section.get("ExperimentalCondition"):
            add_experimental_condition(
                nwbfile=nwbfile, condition=ConditionConfig.model_validate(section["ExperimentalCondition"])
            )


class OptogeneticStimulationInterface(_SessionSectionInterface):
    """LC optogenetic stimulation and imposed vasomotion epochs from a session file's ``optogenetics`` section.

    Epochs are those listed (``epochs``) or derived from the TTL pulses of ``from_ttl`` in the session's
    photometry file, read here. The sites' light sources and fibers come from the session's ``devices``; a
    device of the same name another interface already wrote is reused.
    """

    display_name = "LC / vasomotion stimulation (ndx-glymphatic)"
    info = "Optogenetic LC and vasomotion stimulation epochs from an ndx-glymphatic session file or TTL pulses."

    def __init__(self, *, file_path: str | Path, verbose: bool = False) -> None:
        """
        Parameters
        ----------
        file_path : str or Path
            The ndx-glymphatic session file; its ``optogenetics`` section is required.
        verbose : bool
            neuroconv's verbosity flag.
        """
        super().__init__(file_path=file_path, verbose=verbose)
        config = self.session.optogenetics
        if config is None:
            raise GlymphError(f"{file_path}: optogenetics: expected the section, found none")
        self.epochs = {
            section: self._epochs(section=section, stimulation=getattr(config, section))
            for section in ("lc_stimulation", "vasomotion_stimulation")
        }

    def _epochs(self, *, section: str, stimulation: object) -> StimulationEpochs | None:
        if stimulation is None:
            return None
        if stimulation.from_ttl is None:
            return StimulationEpochs(
                start_times_in_s=np.array([epoch.start_time_in_s for epoch in stimulation.epochs]),
                stop_times_in_s=np.array([epoch.stop_time_in_s for epoch in stimulation.epochs]),
                pulse_length_in_ms=stimulation.pulse_length_in_ms,
                period_in_ms=stimulation.period_in_ms,
            )
        session = self.session
        rig = session.photometry if stimulation.from_ttl.system == "photometry" else session.electrophysiology
        if rig is None or (stimulation.from_ttl.system == "electrophysiology" and session.ephys_needs_alignment):
            raise GlymphError(
                f"{self.source_data['file_path']}: optogenetics.{section}.from_ttl.system: expected the photometry "
                f"file (or EEG/EMG in the same file), found {stimulation.from_ttl.system!r} on its own clock"
            )
        reader = open_rig_reader(format=rig.format, path=rig.file)
        try:
            # one rig file on the photometry clock: it is the reader of whichever system from_ttl names
            return epochs_from_ttl(
                stimulation=stimulation,
                section=section,
                session=session,
                photometry_reader=reader,
                ephys_reader=reader,
                alignment=None,
            )
        finally:
            reader.close()

    def get_metadata_schema(self) -> dict[str, Any]:
        """neuroconv's base schema plus ``Glymphatic.Optogenetics`` (the session model's section)."""
        return _with_glymphatic(
            super().get_metadata_schema(),
            properties={"Optogenetics": _model_schema(OptogeneticsConfig)},
            required=["Optogenetics"],
        )

    def get_metadata(self) -> DeepDict:
        """The session file's ``optogenetics`` section (protocols, sites, opsins)."""
        metadata = super().get_metadata()
        metadata[METADATA_KEY]["Optogenetics"] = _dump(self.session.optogenetics)
        return metadata

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        """Add the optogenetics metadata, the site devices the file lacks and the stimulation epoch tables."""
        section = _section(metadata, default=self.get_metadata()[METADATA_KEY])
        session = self.session.model_copy(
            update={"optogenetics": OptogeneticsConfig.model_validate(section["Optogenetics"])}
        )
        sites = session.optogenetics.sites
        devices = add_devices(
            nwbfile=nwbfile,
            session=session,
            names={name for site in sites for name in (site.excitation_source, site.optical_fiber)},
        )
        add_optogenetics(
            nwbfile=nwbfile,
            session=session,
            devices=devices,
            lc_stimulation=self.epochs["lc_stimulation"],
            vasomotion_stimulation=self.epochs["vasomotion_stimulation"],
        )


def fiber_photometry_metadata(*, session: SessionConfig) -> dict[str, Any]:
    """neuroconv's ``Ophys.FiberPhotometry`` metadata (``TDTFiberPhotometryInterface`` and the other photometry
    interfaces) for the photometry channels of a session file: its devices, indicators and tracers, one table row
    and one ``FiberPhotometryResponseSeries`` per channel (named as in the session file).

    Tracers become plain ``Indicator`` entries there; :class:`TracerInfusionsInterface` points at them.
    """
    if session.photometry is None:
        raise GlymphError(f"{session.path}: photometry: expected the section, found none")
    channels = session.photometry.channels
    used = {
        name
        for channel in channels
        for name in (channel.optical_fiber, channel.excitation_source, channel.photodetector)
    }
    fibers = [config for config in session.optical_fibers if config.name in used]
    sources = [config for config in session.excitation_sources if config.name in used]
    detectors = [config for config in session.photodetectors if config.name in used]

    def model(config: Any, **fields: Any) -> dict[str, Any]:
        entry = {
            "name": f"{config.name}_model",
            "description": f"Model of {config.name}: {config.description}",
            "manufacturer": config.manufacturer,
            **fields,
        }
        if config.model_number:
            entry["model_number"] = config.model_number
        return entry

    fiber_location = {config.name: config.location for config in fibers}
    return {
        "FiberPhotometry": {
            "OpticalFiberModels": [
                model(
                    config,
                    numerical_aperture=float(config.numerical_aperture),
                    **(
                        {"core_diameter_in_um": float(config.core_diameter_in_um)} if config.core_diameter_in_um else {}
                    ),
                )
                for config in fibers
            ],
            "OpticalFibers": [
                {
                    "name": config.name,
                    "description": config.description,
                    "model": f"{config.name}_model",
                    "fiber_insertion": {
                        "insertion_position_ap_in_mm": float(config.ap_in_mm),
                        "insertion_position_ml_in_mm": float(config.ml_in_mm),
                        "depth_in_mm": float(config.depth_in_mm),
                        "hemisphere": config.hemisphere,
                        "position_reference": config.position_reference,
                    },
                }
                for config in fibers
            ],
            "ExcitationSourceModels": [
                model(
                    config,
                    source_type=config.source_type,
                    excitation_mode=config.excitation_mode,
                    **(
                        {"wavelength_range_in_nm": [float(config.wavelength_in_nm)] * 2}
                        if config.wavelength_in_nm
                        else {}
                    ),
                )
                for config in sources
            ],
            "ExcitationSources": [
                {
                    "name": config.name,
                    "description": config.description,
                    "model": f"{config.name}_model",
                    **({"power_in_W": float(config.power_in_W)} if config.power_in_W else {}),
                }
                for config in sources
            ],
            "PhotodetectorModels": [model(config, detector_type=config.detector_type) for config in detectors],
            "Photodetectors": [
                {"name": config.name, "description": config.description, "model": f"{config.name}_model"}
                for config in detectors
            ],
            "FiberPhotometryIndicators": [
                {
                    "name": config.name,
                    "label": config.label,
                    "description": config.description,
                    **({"manufacturer": config.manufacturer} if config.manufacturer else {}),
                }
                for config in (*session.indicators, *session.tracers)
            ],
            "FiberPhotometryTable": {
                "name": "fiber_photometry_table",
                "description": "Photometry channels.",
                "rows": [
                    {
                        "name": str(row),
                        "location": channel.location or fiber_location[channel.optical_fiber],
                        "excitation_wavelength_in_nm": float(channel.excitation_wavelength_in_nm),
                        "emission_wavelength_in_nm": float(channel.emission_wavelength_in_nm),
                        "indicator": channel.indicator,
                        "optical_fiber": channel.optical_fiber,
                        "excitation_source": channel.excitation_source,
                        "photodetector": channel.photodetector,
                    }
                    for row, channel in enumerate(channels)
                ],
            },
            "FiberPhotometryResponseSeries": [
                {
                    "name": channel.name,
                    "description": channel.description,
                    "stream_name": channel.stream,
                    "unit": channel.unit or "V",
                    "fiber_photometry_table_region": [row],
                    "fiber_photometry_table_region_description": f"The channel row of {channel.name!r}.",
                }
                for row, channel in enumerate(channels)
            ],
        }
    }
