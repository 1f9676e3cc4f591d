"""Generate the ndx-glymphatic namespace YAML.

Run from the repository root after changing a type::

    python nwb_ext/spec/create_extension_spec.py

and commit the regenerated ``ndx-glymphatic.namespace.yaml`` and ``ndx-glymphatic.extensions.yaml``
(then ``python docs/generate_schema_docs.py``). The lists of allowed words in the field docs come from
:mod:`ndx_glymphatic.vocabulary`; a change of them is a change of the spec (bump ``NAMESPACE_VERSION``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# The namespaces we include must be loaded before the builder can resolve their types.
import ndx_fiber_photometry  # noqa: F401
import ndx_ophys_devices  # noqa: F401
import ndx_optogenetics  # noqa: F401
from pynwb.spec import (
    NWBAttributeSpec,
    NWBDatasetSpec,
    NWBGroupSpec,
    NWBNamespaceBuilder,
    NWBRefSpec,
    export_spec,
)

from ndx_glymphatic.vocabulary import (
    CARRIER_MOLECULES,
    CHANNEL_ROLES,
    DOSE_UNITS,
    LABELED_COMPARTMENTS,
    MEASURED_QUANTITIES,
    MODULATION_WAVEFORMS,
    ROUTE_ALIASES,
    ROUTES,
    SCORING_METHODS,
    SLEEP_STATES,
    STIMULATION_METHODS,
)

NAMESPACE_NAME = "ndx-glymphatic"
NAMESPACE_VERSION = "0.2.0"

#: The types of other namespaces that ours builds on (extends or references), by namespace. Only these
#: are included: including whole namespaces makes pynwb register every one of their types into ours.
INCLUDED_TYPES: dict[str, tuple[str, ...]] = {
    "core": ("LabMetaData", "TimeIntervals"),
    "hdmf-common": ("DynamicTable", "VectorData", "VectorIndex"),
    "ndx-ophys-devices": ("Indicator",),
    "ndx-fiber-photometry": ("FiberPhotometryTable",),
    "ndx-optogenetics": ("OptogeneticEpochsTable",),
}


def _one_of(words: Sequence[str]) -> str:
    """``'a', 'b' or 'c'``: the words of a vocabulary in a field doc."""
    quoted = [f"'{word}'" for word in words]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


ROUTE_DOC = (
    f"Route of administration: {_one_of(ROUTES)}; the abbreviations "
    + ", ".join(f"'{alias}' ({term})" for alias, term in ROUTE_ALIASES.items())
    + " are accepted too."
)


def _column(*, name: str, dtype: str | NWBRefSpec, doc: str, required: bool = True) -> NWBDatasetSpec:
    """A 1-D VectorData column of a DynamicTable."""
    return NWBDatasetSpec(
        name=name,
        neurodata_type_inc="VectorData",
        dtype=dtype,
        shape=(None,),
        doc=doc,
        quantity=1 if required else "?",
    )


def _ragged_column(*, name: str, dtype: str, doc: str) -> list[NWBDatasetSpec]:
    """An optional ragged column: VectorData plus its VectorIndex."""
    return [
        NWBDatasetSpec(name=name, neurodata_type_inc="VectorData", dtype=dtype, shape=(None,), doc=doc,
                       quantity="?"),
        NWBDatasetSpec(name=f"{name}_index", neurodata_type_inc="VectorIndex",
                       doc=f"Index into the ragged column '{name}'.", quantity="?"),
    ]


def fluorescent_tracer() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="FluorescentTracer",
        neurodata_type_inc="Indicator",
        doc=(
            "A fluorescent tracer or label that is not genetically encoded: a fluorophore, usually bound to a "
            "carrier molecule, injected into a body compartment (e.g. labelled albumin in blood plasma to read "
            "cerebral blood volume, or a dextran / ovalbumin conjugate infused into the cisterna magna to read "
            "CSF influx). Stored with the other indicators in FiberPhotometry.fiber_photometry_indicators so "
            "that photometry channels can reference it."
        ),
        attributes=[
            NWBAttributeSpec(name="fluorophore", dtype="text",
                             doc="The fluorescent dye, e.g. 'Alexa Fluor 647', 'Texas Red', 'FITC'."),
            NWBAttributeSpec(name="carrier_molecule", dtype="text",
                             doc=f"The molecule the fluorophore is conjugated to: {_one_of(CARRIER_MOLECULES)} ('none' "
                                 "for a free dye)."),
            NWBAttributeSpec(name="molecular_weight_in_kDa", dtype="float32",
                             doc="Molecular weight of the tracer (carrier + dye), in kilodaltons (kDa)."),
            NWBAttributeSpec(name="labeled_compartment", dtype="text",
                             doc=f"The body compartment the tracer labels: {_one_of(LABELED_COMPARTMENTS)}."),
            NWBAttributeSpec(name="excitation_peak_in_nm", dtype="float32",
                             doc="Peak of the fluorophore's excitation spectrum, in nanometers (nm)."),
            NWBAttributeSpec(name="emission_peak_in_nm", dtype="float32",
                             doc="Peak of the fluorophore's emission spectrum, in nanometers (nm)."),
        ],
    )


def fiber_photometry_channels_table() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="FiberPhotometryChannelsTable",
        neurodata_type_inc="FiberPhotometryTable",
        doc=(
            "A FiberPhotometryTable whose rows also say what each channel measures and which channel is its "
            "control, so that analysis finds the norepinephrine signal and its isosbestic control without "
            "guessing from names."
        ),
        datasets=[
            _column(name="measured_quantity", dtype="text",
                    doc=f"What this channel measures: {_one_of(MEASURED_QUANTITIES)}. For a control channel, the "
                        "quantity of the signal it controls."),
            _column(name="channel_role", dtype="text",
                    doc=f"The channel's role: {_one_of(CHANNEL_ROLES)}. A signal is the quantity's fluorescence; "
                        "an isosbestic control the same sensor excited at its isosbestic wavelength (e.g. 405 nm); "
                        "a reference control another non-responsive reference."),
            _column(name="control_channel", dtype="int32",
                    doc="Row index (0-based) in this table of this channel's control channel; -1 when it has "
                        "none (e.g. tracer channels, or control channels themselves)."),
            _column(name="stream_name", dtype="text", required=False,
                    doc="Name of the rig stream this channel was read from, e.g. TDT store '_465A', Doric "
                        "'AIN01xAOUT01-LockIn', Neurophotometrics 'G0@470'."),
        ],
    )


def tracer_infusions_table() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="TracerInfusionsTable",
        neurodata_type_inc="TimeIntervals",
        default_name="tracer_infusions",
        doc="Infusions of a fluorescent tracer, one row each; start_time and stop_time (s) bound the infusion.",
        datasets=[
            _column(name="tracer", dtype=NWBRefSpec(target_type="Indicator", reftype="object"),
                    doc="The infused tracer: a FluorescentTracer (or other Indicator) in "
                        "FiberPhotometry.fiber_photometry_indicators."),
            _column(name="route", dtype="text", doc=ROUTE_DOC),
            _column(name="site", dtype="text",
                    doc="Anatomical site of the infusion, e.g. 'cisterna magna', 'tail vein', "
                        "'retro-orbital sinus'."),
            _column(name="volume_in_uL", dtype="float32", doc="Total infused volume, in microliters (uL)."),
            _column(name="rate_in_uL_per_min", dtype="float32",
                    doc="Infusion rate, in microliters per minute (uL/min)."),
            _column(name="concentration", dtype="float32",
                    doc="Concentration of the tracer in the infused solution, in concentration_unit."),
            _column(name="concentration_unit", dtype="text",
                    doc="Unit of concentration, e.g. '%', 'mg/mL', 'uM'."),
        ],
    )


def vasomotion_stimulation_epochs_table() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="VasomotionStimulationEpochsTable",
        neurodata_type_inc="OptogeneticEpochsTable",
        default_name="vasomotion_stimulation",
        doc=(
            "Epochs of stimulation that impose slow vasomotion (e.g. optogenetic stimulation of arterial smooth "
            "muscle modulated at an infraslow frequency). Pulse parameters and sites are those of "
            "OptogeneticEpochsTable; for non-optogenetic methods use NaN / -1 there as that table prescribes "
            "for stimulation that is off."
        ),
        datasets=[
            _column(name="stimulation_method", dtype="text",
                    doc=f"How vasomotion is imposed: {_one_of(STIMULATION_METHODS)}."),
            _column(name="target", dtype="text",
                    doc="The cells or structure stimulated, e.g. 'arterial smooth muscle', 'pericytes'."),
            _column(name="modulation_frequency_in_Hz", dtype="float32",
                    doc="Frequency at which the stimulation is modulated to impose vasomotion, in hertz (Hz); "
                        "infraslow, e.g. 0.02-0.1 Hz."),
            _column(name="modulation_waveform", dtype="text",
                    doc=f"Shape of the modulation: {_one_of(MODULATION_WAVEFORMS)}."),
        ],
    )


def drug_administrations_table() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="DrugAdministrationsTable",
        neurodata_type_inc="TimeIntervals",
        default_name="drug_administrations",
        doc=(
            "Drug (or vehicle) administrations, one row each; start_time is when the injection began and "
            "stop_time when it ended (a few seconds later for a bolus), in seconds."
        ),
        datasets=[
            _column(name="drug", dtype="text",
                    doc="Drug name (INN), e.g. 'zolpidem', 'desipramine'; for a vehicle-only injection the "
                        "vehicle's name."),
            _column(name="dose", dtype="float32", doc="Dose given, in dose_unit; 0 for a vehicle-only injection."),
            _column(name="dose_unit", dtype="text",
                    doc=f"Unit of dose: {_one_of(DOSE_UNITS)}."),
            _column(name="route", dtype="text", doc=ROUTE_DOC),
            _column(name="vehicle", dtype="text", doc="Vehicle the drug was dissolved in, e.g. 'saline', "
                                                      "'0.9 % NaCl with 1 % DMSO'."),
        ],
    )


def experimental_condition() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="ExperimentalCondition",
        neurodata_type_inc="LabMetaData",
        name="experimental_condition",
        doc=(
            "The experimental condition of this session, for group analyses (e.g. 'vehicle' vs 'zolpidem'). "
            "One per file, at /general/experimental_condition."
        ),
        attributes=[
            NWBAttributeSpec(name="condition", dtype="text",
                             doc="Short name of the condition, e.g. 'vehicle', 'zolpidem', 'LC stimulation'."),
            NWBAttributeSpec(name="is_control", dtype="bool",
                             doc="True when this condition is the control (reference) condition of the study."),
            NWBAttributeSpec(name="description", dtype="text", doc="What the condition is, in words."),
        ],
    )


def hypnogram() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="Hypnogram",
        neurodata_type_inc="TimeIntervals",
        default_name="sleep_states",
        doc=(
            "A scored hypnogram: one row per sleep-state bout, with start_time and stop_time in seconds, sorted "
            "and non-overlapping. Micro-arousals are their own rows inside NREM time (NREM | micro-arousal | "
            "NREM)."
        ),
        attributes=[
            NWBAttributeSpec(name="scoring_method", dtype="text",
                             doc=f"How the states were scored: {_one_of(SCORING_METHODS)} (by a person, or by "
                                 "software)."),
            NWBAttributeSpec(name="scorer", dtype="text",
                             doc="Who or what scored the states: a person's name, or software name and version "
                                 "(e.g. 'AccuSleep 0.9')."),
            NWBAttributeSpec(name="epoch_length_in_s", dtype="float32", required=False,
                             doc="Length of a scoring epoch, in seconds, for epoch-based scoring; absent for "
                                 "event-based (onset/duration) scoring."),
        ],
        datasets=[
            _column(name="sleep_state", dtype="text", doc=f"The bout's sleep state: {_one_of(SLEEP_STATES)}."),
        ],
    )


def clock_alignment_table() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="ClockAlignmentTable",
        neurodata_type_inc="DynamicTable",
        default_name="clock_alignment_table",
        doc=(
            "How each secondary acquisition system's clock was put onto the primary clock, one row per secondary "
            "system: t_primary = slope * t_secondary + offset_in_s, fitted on TTL pulses recorded by both."
        ),
        datasets=[
            _column(name="secondary_system", dtype="text",
                    doc="The system whose times were converted, e.g. 'Pinnacle Sirenia EEG/EMG'."),
            _column(name="primary_system", dtype="text",
                    doc="The system whose clock the file uses, e.g. 'TDT RZ10x photometry'."),
            _column(name="primary_ttl_channel", dtype="text",
                    doc="TTL channel on the primary system, e.g. TDT epoc 'PtC0'."),
            _column(name="secondary_ttl_channel", dtype="text",
                    doc="TTL channel on the secondary system, e.g. EDF+ annotation 'TTL: Rise'."),
            _column(name="number_of_matched_pulses", dtype="int32",
                    doc="Number of TTL pulses matched between the two systems and used for the fit."),
            _column(name="slope", dtype="float64",
                    doc="Slope of the fit (seconds on the primary clock per second on the secondary clock, "
                        "dimensionless); drift = slope - 1."),
            _column(name="offset_in_s", dtype="float64",
                    doc="Offset of the fit, in seconds: primary time of secondary time 0."),
            _column(name="residual_rms_in_s", dtype="float64",
                    doc="Root-mean-square residual of the matched pulses after the fit, in seconds."),
            _column(name="max_abs_residual_in_s", dtype="float64",
                    doc="Largest absolute residual of a matched pulse after the fit, in seconds."),
            *_ragged_column(name="matched_primary_times_in_s", dtype="float64",
                            doc="Times of the matched pulses on the primary clock, in seconds."),
            *_ragged_column(name="matched_secondary_times_in_s", dtype="float64",
                            doc="Times of the matched pulses on the secondary clock, in seconds."),
        ],
    )


def clock_alignment() -> NWBGroupSpec:
    return NWBGroupSpec(
        neurodata_type_def="ClockAlignment",
        neurodata_type_inc="LabMetaData",
        name="clock_alignment",
        doc="Record of the cross-system clock alignment done when the file was written; at /general/clock_alignment.",
        groups=[
            NWBGroupSpec(name="clock_alignment_table", neurodata_type_inc="ClockAlignmentTable",
                         doc="One row per secondary acquisition system."),
        ],
    )


def main() -> None:
    builder = NWBNamespaceBuilder(
        name=NAMESPACE_NAME,
        version=NAMESPACE_VERSION,
        doc=(
            "Sleep and glymphatic experiments: fluorescent tracers, photometry channel semantics, tracer "
            "infusions, vasomotion stimulation, drug administration and experimental condition, scored "
            "hypnograms with micro-arousals, and cross-system clock alignment."
        ),
        author=["ndx-glymphatic developers"],
        contact=["ndx-glymphatic@users.noreply.github.com"],
    )
    for namespace, type_names in INCLUDED_TYPES.items():
        for type_name in type_names:
            builder.include_type(type_name, namespace=namespace)
    new_types = [
        fluorescent_tracer(),
        fiber_photometry_channels_table(),
        tracer_infusions_table(),
        vasomotion_stimulation_epochs_table(),
        drug_administrations_table(),
        experimental_condition(),
        hypnogram(),
        clock_alignment_table(),
        clock_alignment(),
    ]
    output_dir = Path(__file__).resolve().parent
    export_spec(builder, new_types, str(output_dir))


if __name__ == "__main__":
    main()
