"""Generate ``session_schema.json``, the published JSON Schema of a conversion session file.

Run ``python nwb_ext/_make_session_schema.py`` after changing the schema here; the generated JSON is
committed (package data) and ``tests/test_session_schema.py`` checks that it is up to date. Every
property carries a ``description`` (rendered into ``docs/session-file.md``); properties with a pattern
carry ``x-expected``, the words used in error messages ("an ISO 8601 duration such as \"P90D\"").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ndx_glymphatic.session import (
    ELECTROPHYSIOLOGY_FORMATS,
    HYPNOGRAM_FORMATS,
    PHOTOMETRY_FORMATS,
)
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

__all__ = ["build_schema", "render_markdown"]

SCHEMA_PATH = Path(__file__).resolve().parent / "session_schema.json"

NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"
AGE_PATTERN = (
    r"^P(?=\d|T\d)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?(/(P.*)?)?$"
)
DATETIME_WITH_ZONE_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"
)
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$"


def text(description: str, **extra: Any) -> dict[str, Any]:
    """A non-empty string property."""
    return {"type": "string", "minLength": 1, "description": description, **extra}


def name(description: str) -> dict[str, Any]:
    """An NWB object name (no slashes or spaces)."""
    return {
        "type": "string",
        "pattern": NAME_PATTERN,
        "x-expected": "a name of letters, digits, '_', '-' or '.' (no spaces or slashes)",
        "description": description,
    }


def number(description: str, **extra: Any) -> dict[str, Any]:
    """A number property."""
    return {"type": "number", "description": description, **extra}


def positive(description: str) -> dict[str, Any]:
    """A number > 0."""
    return number(description, exclusiveMinimum=0)


def non_negative(description: str) -> dict[str, Any]:
    """A number >= 0."""
    return number(description, minimum=0)


def integer(description: str, **extra: Any) -> dict[str, Any]:
    """An integer property."""
    return {"type": "integer", "description": description, **extra}


def choice(description: str, values: tuple[str, ...]) -> dict[str, Any]:
    """A string from a controlled vocabulary."""
    return {"type": "string", "enum": list(values), "description": description}


def obj(
    description: str, properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    """A closed object: unknown keys are errors (catches typos)."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def array(description: str, items: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
    """A list property."""
    return {"type": "array", "description": description, "items": items, "minItems": min_items}


def ref(definition: str, description: str) -> dict[str, Any]:
    """A reference to a shared definition."""
    return {"$ref": f"#/$defs/{definition}", "description": description}


def _definitions() -> dict[str, Any]:
    viral_vector = obj(
        "The viral vector delivering a sensor or an opsin.",
        {
            "name": name("NWB name of the vector, e.g. \"AAV_GRAB_NE2m\"."),
            "construct_name": text("Full construct, e.g. \"AAV9-hSyn-GRAB_NE2m\"."),
            "description": text("What it is."),
            "manufacturer": text("Who made it (core facility or company)."),
            "titer_in_vg_per_ml": positive("Titer in viral genomes per ml."),
        },
        ("name", "construct_name", "description", "manufacturer", "titer_in_vg_per_ml"),
    )
    injection = obj(
        "Where and how much of the vector was injected (stereotaxic coordinates from the reference).",
        {
            "name": name("NWB name of the injection; default \"<vector name>_injection\"."),
            "description": text("How it was done."),
            "location": text("Brain area, e.g. \"locus coeruleus\"."),
            "hemisphere": choice("Side of the brain.", ("left", "right")),
            "reference": text("Origin of the coordinates, e.g. \"bregma\"."),
            "ap_in_mm": number("Anterior-posterior coordinate in mm."),
            "ml_in_mm": number("Medial-lateral coordinate in mm."),
            "dv_in_mm": number("Dorsal-ventral coordinate in mm (negative = down)."),
            "volume_in_uL": positive("Injected volume in microliters."),
        },
        ("location", "hemisphere", "reference", "ap_in_mm", "ml_in_mm", "dv_in_mm", "volume_in_uL"),
    )
    indicator = obj(
        "A genetically encoded sensor seen by photometry channels (NWB Indicator).",
        {
            "name": name("NWB name, referenced by photometry channels, e.g. \"GRAB_NE2m\"."),
            "label": text("Human label."),
            "description": text("What it senses and how it was expressed."),
            "manufacturer": text("Source lab or company."),
            "viral_vector": {"$ref": "#/$defs/viral_vector", "description": "The vector expressing it."},
            "injection": {"$ref": "#/$defs/injection", "description": "The vector's injection."},
        },
        ("name", "label", "description"),
        dependentRequired={"injection": ["viral_vector"]},
    )
    tracer = obj(
        "A fluorescent tracer or blood label seen by photometry channels (ndx-glymphatic FluorescentTracer).",
        {
            "name": name("NWB name, referenced by photometry channels and infusions, e.g. \"ovalbumin_AF647\"."),
            "label": text("Human label, e.g. \"Alexa Fluor 647-ovalbumin\"."),
            "description": text("What it labels and how it was delivered."),
            "manufacturer": text("Supplier."),
            "fluorophore": text("Fluorophore, e.g. \"Alexa Fluor 647\"."),
            "carrier_molecule": choice("Molecule the fluorophore is bound to.", CARRIER_MOLECULES),
            "molecular_weight_in_kDa": positive("Molecular weight of the conjugate in kDa."),
            "labeled_compartment": choice("Compartment it labels.", LABELED_COMPARTMENTS),
            "excitation_peak_in_nm": positive("Excitation peak in nm."),
            "emission_peak_in_nm": positive("Emission peak in nm."),
        },
        (
            "name", "label", "description", "fluorophore", "carrier_molecule", "molecular_weight_in_kDa",
            "labeled_compartment", "excitation_peak_in_nm", "emission_peak_in_nm",
        ),
    )
    excitation_source = obj(
        "An LED or laser (photometry excitation or optogenetic stimulation).",
        {
            "name": name("NWB name, e.g. \"led_465nm\"."),
            "description": text("What it is used for."),
            "manufacturer": text("Maker."),
            "model_number": text("Model."),
            "source_type": text("\"LED\", \"laser\", ..."),
            "excitation_mode": text("\"one-photon\" (default) or \"two-photon\"."),
            "wavelength_in_nm": positive("Nominal wavelength in nm."),
            "power_in_W": positive("Output power in W."),
        },
        ("name", "description", "manufacturer", "source_type"),
    )
    photodetector = obj(
        "A photodetector (photodiode, PMT, camera).",
        {
            "name": name("NWB name."),
            "description": text("What it detects."),
            "manufacturer": text("Maker."),
            "model_number": text("Model."),
            "detector_type": text("\"photodiode\", \"PMT\", \"CMOS camera\", ..."),
        },
        ("name", "description", "manufacturer", "detector_type"),
    )
    optical_fiber = obj(
        "An implanted optical fiber (photometry or optogenetics) with its insertion coordinates.",
        {
            "name": name("NWB name, e.g. \"fiber_ne\"."),
            "description": text("What it records or stimulates."),
            "manufacturer": text("Maker."),
            "model_number": text("Model."),
            "numerical_aperture": positive("Numerical aperture."),
            "core_diameter_in_um": positive("Core diameter in micrometers."),
            "location": text("Brain area at the fiber tip (default location of its photometry channels)."),
            "ap_in_mm": number("Anterior-posterior insertion coordinate in mm."),
            "ml_in_mm": number("Medial-lateral insertion coordinate in mm."),
            "depth_in_mm": number("Insertion depth in mm."),
            "hemisphere": choice("Side of the brain.", ("left", "right")),
            "position_reference": text("Origin of the coordinates; default \"bregma\"."),
        },
        ("name", "description", "manufacturer", "numerical_aperture", "location", "ap_in_mm", "ml_in_mm",
         "depth_in_mm", "hemisphere"),
    )
    stream_ref = {
        "stream": text("Stream name in the rig file (TDT store \"_465A\", EDF label \"EEG EEG1A-B\", ...)."),
        "stream_channel": integer("Channel index inside a multi-channel stream; default 0.", minimum=0),
    }
    photometry_channel = obj(
        "One photometry channel: one FiberPhotometryChannelsTable row and one FiberPhotometryResponseSeries.",
        {
            "name": name("Series name in the NWB file, e.g. \"ne_465nm\"."),
            **stream_ref,
            "description": text("One sentence about the channel."),
            "measured_quantity": choice("What the channel measures.", MEASURED_QUANTITIES),
            "channel_role": choice("The channel's role.", CHANNEL_ROLES),
            "control_channel": {
                "type": ["string", "null"],
                "description": "Name of this channel's control channel (another channel here), or null.",
            },
            "indicator": name("Name of an entry of `indicators` or `tracers`."),
            "optical_fiber": name("Name of an entry of `devices.optical_fibers`."),
            "excitation_source": name("Name of an entry of `devices.excitation_sources`."),
            "photodetector": name("Name of an entry of `devices.photodetectors`."),
            "excitation_wavelength_in_nm": positive("Excitation wavelength in nm."),
            "emission_wavelength_in_nm": positive("Emission wavelength in nm."),
            "location": text("Brain area; default the optical fiber's location."),
            "unit": text("Unit of the stored values; default the reader's unit (\"V\" for most rigs)."),
        },
        ("name", "stream", "description", "measured_quantity", "channel_role", "indicator", "optical_fiber",
         "excitation_source", "photodetector", "excitation_wavelength_in_nm", "emission_wavelength_in_nm"),
    )
    electrode = obj(
        "One EEG or EMG electrode channel.",
        {
            "name": name("Channel name, e.g. \"EEG1\"."),
            **stream_ref,
            "series": choice("The ElectricalSeries it belongs to.", ("EEG", "EMG")),
            "group": name("Name of an entry of `electrophysiology.electrode_groups`."),
            "location": text(
                "Allen CCF term for the electrodes table (EEG: \"Isocortex\" or finer; EMG: \"root\"); "
                "default \"Isocortex\" for EEG and \"root\" for EMG."
            ),
            "description": text("One sentence."),
        },
        ("name", "stream", "series", "group"),
    )
    electrode_group = obj(
        "A group of electrodes (EEG screws, EMG wires).",
        {
            "name": name("NWB name, e.g. \"EEG_screws\"."),
            "description": text("What they are and where."),
            "location": text("Where in words, e.g. \"frontal and parietal cortex\", \"neck muscle\"."),
        },
        ("name", "description", "location"),
    )
    clock_alignment = obj(
        "How to put a second acquisition system onto the photometry clock: match shared TTL pulses, fit "
        "t_photometry = slope * t_secondary + offset.",
        {
            "primary_ttl_channel": text("Event channel in the photometry file, e.g. \"PtC0\"."),
            "secondary_ttl_channel": text("Event channel in this file, e.g. \"TTL\"."),
            "primary_system": text("Name of the photometry system; default \"<photometry format> photometry\"."),
            "secondary_system": text("Name of this system; default \"<format> EEG/EMG\"."),
            "max_residual_rms_in_s": positive("Largest accepted RMS of the fit residuals; default 0.001 s."),
            "tolerance_in_s": positive("Largest distance of a matched pulse from the fitted line; default 0.01 s."),
            "min_matched_pulses": integer("Fewest matched pulses accepted; default 10.", minimum=2),
            "expected_offset_in_s": number(
                "For strictly periodic pulses only: the approximate offset (t_photometry - t_secondary)."
            ),
            "offset_search_window_in_s": positive("With expected_offset_in_s: how far from it to search."),
        },
        ("primary_ttl_channel", "secondary_ttl_channel"),
        dependentRequired={"offset_search_window_in_s": ["expected_offset_in_s"]},
    )
    stimulation_protocol = {
        "pulse_length_in_ms": positive("Duration of one pulse in ms."),
        "period_in_ms": positive("Time between pulse starts in ms."),
        "number_pulses_per_pulse_train": integer("Pulses per train.", minimum=1),
        "number_trains": integer("Trains per epoch; default 1.", minimum=1),
        "intertrain_interval_in_ms": non_negative("Between train starts in ms; default 0."),
        "power_in_mW": positive("Light power at the fiber tip in mW."),
        "wavelength_in_nm": positive("Light wavelength in nm."),
    }
    epoch = obj(
        "One stimulation epoch, seconds from the session start.",
        {
            "start_time_in_s": non_negative("Start in s."),
            "stop_time_in_s": non_negative("Stop in s."),
        },
        ("start_time_in_s", "stop_time_in_s"),
    )
    from_ttl = obj(
        "Derive the epochs from TTL pulses in a rig file: pulses closer than `max_gap_in_s` form one epoch "
        "(start = first onset, stop = last offset or last onset + pulse length).",
        {
            "system": choice("Which rig file holds the events; default \"photometry\".",
                             ("photometry", "electrophysiology")),
            "event_channel": text("Event channel name in that file, e.g. \"Pu1_\"."),
            "max_gap_in_s": positive("Largest gap between pulses of one epoch; default 2 s."),
        },
        ("event_channel",),
    )
    lc_stimulation = obj(
        "Optogenetic stimulation of the locus coeruleus (OptogeneticEpochsTable \"lc_optogenetic_stimulation\").",
        {
            "description": text("Protocol in words."),
            "sites": array("Names of `optogenetics.sites` stimulated.", name("Site name."), min_items=1),
            **stimulation_protocol,
            "epochs": array("Epochs listed explicitly.", {"$ref": "#/$defs/epoch"}),
            "from_ttl": {"$ref": "#/$defs/from_ttl", "description": "Or: epochs derived from TTL pulses."},
        },
        ("description", "sites", "pulse_length_in_ms", "period_in_ms", "number_pulses_per_pulse_train",
         "power_in_mW", "wavelength_in_nm"),
        oneOf=[{"required": ["epochs"]}, {"required": ["from_ttl"]}],
    )
    vasomotion = obj(
        "Imposed vasomotion (VasomotionStimulationEpochsTable \"vasomotion_stimulation\").",
        {
            "description": text("Protocol in words."),
            "sites": array("Names of `optogenetics.sites` stimulated.", name("Site name."), min_items=1),
            "stimulation_method": choice("How vasomotion is imposed.", STIMULATION_METHODS),
            "target": text("What is stimulated, e.g. \"arterial smooth muscle\"."),
            "modulation_frequency_in_Hz": positive("Frequency of the imposed modulation in Hz."),
            "modulation_waveform": choice("Shape of the modulation.", MODULATION_WAVEFORMS),
            **stimulation_protocol,
            "epochs": array("Epochs listed explicitly.", {"$ref": "#/$defs/epoch"}),
            "from_ttl": {"$ref": "#/$defs/from_ttl", "description": "Or: epochs derived from TTL pulses."},
        },
        ("description", "sites", "stimulation_method", "target", "modulation_frequency_in_Hz",
         "modulation_waveform", "power_in_mW", "wavelength_in_nm"),
        oneOf=[{"required": ["epochs"]}, {"required": ["from_ttl"]}],
    )
    effector = obj(
        "An opsin (NWB Effector).",
        {
            "name": name("NWB name, e.g. \"ChR2_LC\"."),
            "label": text("Human label, e.g. \"hChR2(H134R)\"."),
            "description": text("Where and how it is expressed."),
            "manufacturer": text("Source."),
            "viral_vector": {"$ref": "#/$defs/viral_vector", "description": "The vector expressing it."},
            "injection": {"$ref": "#/$defs/injection", "description": "The vector's injection."},
        },
        ("name", "label", "description"),
        dependentRequired={"injection": ["viral_vector"]},
    )
    site = obj(
        "An optogenetic stimulation site: light source + fiber + opsin.",
        {
            "name": name("Site name, referenced by stimulation sections."),
            "excitation_source": name("Name of an entry of `devices.excitation_sources`."),
            "optical_fiber": name("Name of an entry of `devices.optical_fibers`."),
            "effector": name("Name of an entry of `optogenetics.effectors`."),
        },
        ("name", "excitation_source", "optical_fiber", "effector"),
    )
    return {
        "viral_vector": viral_vector,
        "injection": injection,
        "indicator": indicator,
        "tracer": tracer,
        "excitation_source": excitation_source,
        "photodetector": photodetector,
        "optical_fiber": optical_fiber,
        "photometry_channel": photometry_channel,
        "electrode": electrode,
        "electrode_group": electrode_group,
        "clock_alignment": clock_alignment,
        "epoch": epoch,
        "from_ttl": from_ttl,
        "lc_stimulation": lc_stimulation,
        "vasomotion_stimulation": vasomotion,
        "effector": effector,
        "optogenetic_site": site,
    }


def build_schema() -> dict[str, Any]:
    """Return the session-file JSON Schema as a dict."""
    subject = obj(
        "The animal (NWB Subject; DANDI requires id, species, sex and age).",
        {
            "subject_id": name("Animal identifier, e.g. \"m01\"."),
            "species": text("Latin binomial, e.g. \"Mus musculus\"."),
            "sex": choice("\"M\", \"F\", \"U\" (unknown) or \"O\" (other).", ("M", "F", "U", "O")),
            "age": {
                "type": "string",
                "pattern": AGE_PATTERN,
                "x-expected": "an ISO 8601 duration such as \"P90D\" or \"P12W\"",
                "description": "Age at the session as an ISO 8601 duration, e.g. \"P90D\".",
            },
            "strain": text("Strain, e.g. \"C57BL/6J\"."),
            "genotype": text("Genotype, e.g. \"DBH-Cre +/-\"."),
            "description": text("Anything else about the animal."),
            "weight": text("Weight with unit, e.g. \"25 g\"."),
            "date_of_birth": {
                "type": "string",
                "pattern": DATE_PATTERN,
                "x-expected": "an ISO 8601 date such as \"2024-12-14\"",
                "description": "Date of birth (ISO 8601).",
            },
        },
        ("subject_id", "species", "sex", "age", "strain"),
    )
    session = obj(
        "The recording session (NWBFile fields).",
        {
            "session_start_time": {
                "type": "string",
                "pattern": DATETIME_WITH_ZONE_PATTERN,
                "x-expected": "an ISO 8601 date and time with a time zone such as \"2025-03-14T09:00:00+01:00\"",
                "description": "Start of the recording, with its time zone. Rig-file times are relative to it.",
            },
            "session_description": text("What happened in this session."),
            "identifier": text("Globally unique file identifier; default a new UUID."),
            "session_id": name("Session identifier, e.g. \"ses01\"."),
            "experimenter": array("People who did the experiment, \"Last, First\".", text("A person."), 1),
            "lab": text("Lab name."),
            "institution": text("Institution."),
            "experiment_description": text("The experiment in general."),
            "keywords": array("Keywords.", text("A keyword.")),
            "related_publications": array("DOIs or URLs.", text("A publication.")),
            "surgery": text("Surgeries in words."),
            "pharmacology": text("Drugs in words (structured entries go in `drugs`)."),
            "notes": text("Anything else."),
        },
        ("session_start_time", "session_description", "session_id", "experimenter", "lab", "institution"),
    )
    devices = obj(
        "Hardware used in the session.",
        {
            "excitation_sources": array("LEDs and lasers.", {"$ref": "#/$defs/excitation_source"}),
            "photodetectors": array("Photodetectors.", {"$ref": "#/$defs/photodetector"}),
            "optical_fibers": array("Implanted fibers.", {"$ref": "#/$defs/optical_fiber"}),
        },
    )
    photometry = obj(
        "The photometry recording: rig file and channel semantics.",
        {
            "format": choice("Rig-file format.", PHOTOMETRY_FORMATS),
            "file": text("Rig file or folder (TDT block), relative to the session file."),
            "channels": array("The channels to convert.", {"$ref": "#/$defs/photometry_channel"}, 1),
            "events": array(
                "Event channels (TTL) of the file to store as EventsTable \"ttl_<name>\"; default all.",
                text("Event channel name."),
            ),
            "system_name": text("Name of the photometry system, e.g. \"TDT RZ10x\"."),
            "digital_input_files": array(
                "`npm` only: digital-input CSV files recorded with the photometry CSV (their channels become "
                "event channels), relative to the session file.",
                text("A digital-input CSV file."),
            ),
            "led_order": array(
                "`npm` only: excitation wavelengths in frame order, for files without LedState / Flags columns.",
                {"type": "integer", "enum": [415, 470, 560]},
                min_items=1,
            ),
            "series": text("`doric` V6 only: which SeriesNNNN to read; default the first."),
        },
        ("format", "file", "channels"),
    )
    electrophysiology = obj(
        "The EEG / EMG recording (ElectricalSeries \"EEG\" and \"EMG\").",
        {
            "format": choice("Rig-file format.", ELECTROPHYSIOLOGY_FORMATS),
            "file": text("Rig file or folder, relative to the session file (may be the photometry block)."),
            "amplifier": obj(
                "The amplifier / acquisition device.",
                {
                    "name": name("NWB name; default \"eeg_emg_amplifier\"."),
                    "description": text("What it is."),
                    "manufacturer": text("Maker."),
                    "model_number": text("Model."),
                },
                ("description",),
            ),
            "electrode_groups": array("Electrode groups.", {"$ref": "#/$defs/electrode_group"}, 1),
            "channels": array("The channels to convert.", {"$ref": "#/$defs/electrode"}, 1),
            "filtering": text("Hardware / software filtering, e.g. \"0.5-100 Hz band-pass\"."),
            "clock_alignment": {
                "$ref": "#/$defs/clock_alignment",
                "description": "Required when this file is not the photometry file: its own clock is aligned.",
            },
            "events": array(
                "Event channels of this file to store as EventsTable \"<prefix>_<name>\"; default none.",
                text("Event channel name."),
            ),
        },
        ("format", "file", "amplifier", "electrode_groups", "channels"),
    )
    hypnogram = obj(
        "The scored sleep states (Hypnogram \"sleep_states\").",
        {
            "file": text("Hypnogram file, relative to the session file."),
            "format": choice("File layout.", HYPNOGRAM_FORMATS),
            "scoring_method": choice("How it was scored.", SCORING_METHODS),
            "scorer": text("Person, or software + version."),
            "epoch_length_in_s": positive("Scoring epoch in s (required for `epoch-codes`)."),
            "state_codes": {
                "type": "object",
                "description": "`epoch-codes`: code -> sleep state, e.g. {\"1\": \"wake\", \"4\": \"NREM\", "
                "\"9\": \"REM\", \"15\": \"micro-arousal\"} (the default).",
                "additionalProperties": choice("A sleep state.", SLEEP_STATES),
            },
            "column": text("`epoch-codes`: name of the column holding the codes; default the only column."),
            "start_time_in_s": number("`epoch-codes`: time of the first epoch's start; default 0."),
            "state_columns": {
                "type": "object",
                "description": "`state-table`: header -> sleep state; default Wake, NREM, REM, MA (SleepScore).",
                "additionalProperties": choice("A sleep state.", SLEEP_STATES),
            },
            "label_map": {
                "type": "object",
                "description": "`edf`: annotation label -> sleep state; default the Sleep-EDF labels.",
                "additionalProperties": choice("A sleep state.", SLEEP_STATES),
            },
            "clock": choice(
                "Clock of the hypnogram's times; default \"electrophysiology\" when EEG comes from "
                "another system (it is scored on EEG), else \"photometry\".",
                ("photometry", "electrophysiology"),
            ),
            "description": text("How it was scored."),
        },
        ("file", "format", "scoring_method", "scorer"),
    )
    infusion = obj(
        "One tracer infusion (TracerInfusionsTable \"tracer_infusions\"), seconds from the session start.",
        {
            "tracer": name("Name of an entry of `tracers`."),
            "start_time_in_s": non_negative("Start in s."),
            "stop_time_in_s": non_negative("Stop in s."),
            "route": choice("Route of administration (an abbreviation such as \"i.p.\" is accepted too).", ROUTE_WORDS),
            "site": text("Site, e.g. \"cisterna magna\"."),
            "volume_in_uL": positive("Volume in microliters."),
            "rate_in_uL_per_min": positive("Rate in microliters per minute."),
            "concentration": positive("Concentration."),
            "concentration_unit": text("Unit of the concentration, e.g. \"%\", \"mg/ml\"."),
        },
        ("tracer", "start_time_in_s", "stop_time_in_s", "route", "site", "volume_in_uL",
         "rate_in_uL_per_min", "concentration", "concentration_unit"),
    )
    drug = obj(
        "One drug or vehicle administration (DrugAdministrationsTable \"drug_administrations\").",
        {
            "drug": text("Drug; for a vehicle-only injection the vehicle's name (with dose 0)."),
            "dose": non_negative("Dose."),
            "dose_unit": choice("Unit of the dose.", DOSE_UNITS),
            "route": choice("Route of administration (an abbreviation such as \"i.p.\" is accepted too).", ROUTE_WORDS),
            "vehicle": text("Vehicle, e.g. \"saline\"."),
            "time_in_s": non_negative("Start of the injection in s from the session start."),
            "duration_in_s": positive("Duration of the injection; default 5 s (bolus)."),
        },
        ("drug", "dose", "dose_unit", "route", "vehicle", "time_in_s"),
    )
    condition = obj(
        "The session's experimental condition (ExperimentalCondition).",
        {
            "condition": text("e.g. \"vehicle\", \"zolpidem\"."),
            "is_control": {"type": "boolean", "description": "True for the control condition."},
            "description": text("The condition in words."),
        },
        ("condition", "is_control", "description"),
    )
    optogenetics = obj(
        "Optogenetic hardware, opsins, sites and stimulation epochs.",
        {
            "stimulation_software": text("Software driving the light, e.g. \"Synapse\"; default \"unknown\"."),
            "effectors": array("Opsins.", {"$ref": "#/$defs/effector"}, 1),
            "sites": array("Stimulation sites.", {"$ref": "#/$defs/optogenetic_site"}, 1),
            "lc_stimulation": {"$ref": "#/$defs/lc_stimulation", "description": "LC stimulation epochs."},
            "vasomotion_stimulation": {
                "$ref": "#/$defs/vasomotion_stimulation",
                "description": "Imposed vasomotion epochs.",
            },
        },
        ("effectors", "sites"),
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/ndx-glymphatic/ndx-glymphatic/nwb_ext/session_schema.json",
        "title": "ndx-glymphatic conversion session file",
        "description": (
            "Names the rig files of one recording session (paths relative to this file) and holds all the "
            "metadata NWB and DANDI need. Write it in YAML or JSON; `glymph convert SESSION -o OUT.nwb`."
        ),
        "type": "object",
        "properties": {
            "subject": subject,
            "session": session,
            "devices": devices,
            "indicators": array("Genetically encoded sensors.", {"$ref": "#/$defs/indicator"}),
            "tracers": array("Fluorescent tracers and blood labels.", {"$ref": "#/$defs/tracer"}),
            "photometry": photometry,
            "electrophysiology": electrophysiology,
            "hypnogram": hypnogram,
            "infusions": array("Tracer infusions.", infusion),
            "drugs": array("Drug and vehicle administrations.", drug),
            "condition": condition,
            "optogenetics": optogenetics,
        },
        "required": ["subject", "session"],
        "anyOf": [{"required": ["photometry"]}, {"required": ["electrophysiology"]}],
        "additionalProperties": False,
        "$defs": _definitions(),
    }


EXAMPLE_PATH = Path(__file__).resolve().parent / "session_example.yaml"
DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "session-file.md"


def _type_text(node: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in node:
        return f"[{node['$ref'].rsplit('/', 1)[-1]}](#{node['$ref'].rsplit('/', 1)[-1].replace('_', '-')})"
    kind = node.get("type", "")
    if "enum" in node:
        return "one of " + ", ".join(f"`{value}`" for value in node["enum"])
    if kind == "array":
        return f"list of {_type_text(node['items'], definitions)}"
    if kind == "object" and "properties" not in node:
        return "mapping"
    if isinstance(kind, list):
        return " or ".join(kind)
    text_kind = {"number": "number", "integer": "integer", "string": "text", "boolean": "true/false",
                 "object": "mapping"}.get(kind, kind)
    limits = []
    if "exclusiveMinimum" in node:
        limits.append(f"> {node['exclusiveMinimum']}")
    if "minimum" in node:
        limits.append(f">= {node['minimum']}")
    if "x-expected" in node:
        limits.append(node["x-expected"].removeprefix("an ").removeprefix("a "))
    return text_kind + (f" ({', '.join(limits)})" if limits else "")


def _table(node: dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    required = set(node.get("required", []))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for key, child in node.get("properties", {}).items():
        description = child.get("description", "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{key}` | {_type_text(child, definitions)} | {'yes' if key in required else ''} | "
                    f"{description} |")
    return rows


def render_markdown(*, schema: dict[str, Any], example: str) -> str:
    """``docs/session-file.md``: usage, the annotated example and one table per section and definition."""
    definitions = schema["$defs"]
    lines = [
        "# The session file",
        "",
        "<!-- Generated by nwb_ext/_make_session_schema.py from nwb_ext/session_schema.json and",
        "     nwb_ext/session_example.yaml; edit those, then run the script. -->",
        "",
        schema["description"],
        "",
        "```",
        "glymph convert session.yaml -o sub-m12_ses-01.nwb       # convert (never replaces a file without --overwrite)",
        "glymph convert session.yaml -o x.nwb --check-only       # only check the session file",
        "glymph schema session                                   # print the JSON Schema",
        "```",
        "",
        "From Python: `ndx_glymphatic.converters.convert.convert_session(session_path=..., output_path=...)`,",
        "`ndx_glymphatic.session.validate_session_file(path=...)` (a list of messages, empty when valid)",
        "and `load_session(path=...)`.",
        "",
        "The file is checked before any rig data is read, and every problem is reported at once, each as",
        "`<field path>: expected <what>, got <found>`, for example:",
        "",
        "```",
        "photometry.channels[2].excitation_wavelength_in_nm: expected a number, got \"465nm\"",
        "photometry.channels[0].control_channel: expected the name of another photometry channel whose "
        "channel_role is a control ('ne_405nm'), got \"ne_415nm\" (did you mean 'ne_405nm'?)",
        "session.session_start_time: expected an ISO 8601 date and time with a time zone such as "
        "\"2025-03-14T09:00:00+01:00\", got \"2025-03-14T09:00:00\"",
        "subject.agee: expected no such field, got an unknown field (did you mean 'age'?)",
        "```",
        "",
        "Then the rig files are opened (headers only) and checked against the session file: a stream or event",
        "channel it names that the rig file lacks, sampling rates that differ within the EEG or EMG series, TTL",
        "pulses that do not match between the two clocks, a hypnogram or an epoch outside the recording, a",
        "truncated or missing data file -- each stops the conversion with one message naming the file, the",
        "field, what was expected and what was found. No output file is left behind.",
        "",
        "## Times and clocks",
        "",
        "All times are seconds from `session.session_start_time`, the start of the photometry recording (its",
        "clock is the primary clock). EEG/EMG from another system (a different `file`) have their own clock:",
        "the sync TTL recorded by both systems is matched (`electrophysiology.clock_alignment`), the fit",
        "`t_photometry = slope * t_eeg + offset` is stored in `lab_meta_data/clock_alignment`, and the EEG/EMG",
        "series get `starting_time = offset` (plus slope times the EEG's own start) and `rate = rate_eeg / slope`;",
        "their samples are not resampled. The hypnogram's times are on the EEG clock by default when the EEG has",
        "its own clock (it is scored on the EEG) and are mapped the same way.",
        "",
        "## Annotated example",
        "",
        "```yaml",
        example.rstrip(),
        "```",
        "",
        "## Sections",
        "",
    ]
    lines += _table(schema, definitions)
    for key, child in schema["properties"].items():
        node = child
        if node.get("type") == "array" and "$ref" in node.get("items", {}):
            continue
        if node.get("type") == "array":
            node = node["items"]
        if "properties" not in node:
            continue
        lines += ["", f"### {key}", "", node.get("description", ""), ""]
        lines += _table(node, definitions)
        for sub_key, sub_child in node["properties"].items():
            if sub_child.get("type") == "object" and "properties" in sub_child:
                lines += ["", f"#### {key}.{sub_key}", "", sub_child.get("description", ""), ""]
                lines += _table(sub_child, definitions)
    lines += ["", "## Definitions", ""]
    for name_, node in definitions.items():
        lines += [f"### {name_.replace('_', '-')}", "", node.get("description", ""), ""]
        lines += _table(node, definitions)
        if "oneOf" in node:
            options = " or ".join("`" + " + ".join(o["required"]) + "`" for o in node["oneOf"])
            lines += ["", f"Exactly one of {options}."]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    """Write the schema beside this script and render docs/session-file.md."""
    schema = build_schema()
    SCHEMA_PATH.write_text(json.dumps(schema, indent=2) + "\n")
    print(f"wrote {SCHEMA_PATH}")
    DOCS_PATH.parent.mkdir(exist_ok=True)
    DOCS_PATH.write_text(render_markdown(schema=schema, example=EXAMPLE_PATH.read_text()))
    print(f"wrote {DOCS_PATH}")


if __name__ == "__main__":
    main()
