"""Controlled vocabularies of ndx-glymphatic.

NWB specs cannot restrict text to a list, so the allowed words live here, in one place: the validators
check files against them, the session schema offers them, and the spec's field docs (hence
docs/schema.md) are generated from them. One vocabulary per concept; each tuple lists the canonical
terms. Routes also have aliases, other spellings that files and session files already use: they are
accepted wherever a route is (:data:`ROUTE_WORDS`); ``ROUTE_ALIASES.get(route, route)`` is a route's term.
"""

from __future__ import annotations

__all__ = [
    "CARRIER_MOLECULES",
    "CHANNEL_ROLES",
    "DOSE_UNITS",
    "FIELD_VOCABULARIES",
    "LABELED_COMPARTMENTS",
    "MEASURED_QUANTITIES",
    "MODULATION_WAVEFORMS",
    "ROUTES",
    "ROUTE_ALIASES",
    "ROUTE_WORDS",
    "SCORING_METHODS",
    "SLEEP_STATES",
    "SLEEP_STATE_ALIASES",
    "STIMULATION_METHODS",
]

#: States a Hypnogram row may hold.
SLEEP_STATES: tuple[str, ...] = ("wake", "NREM", "REM", "micro-arousal", "artifact", "unscored")

#: Other spellings of the sleep states that scoring files use (keys case-folded): AASM / R&K stages
#: (rodent scoring has one NREM state, so N1-N3 and S1-S4 are NREM), YASA's and AccuSleep's words.
#: ``SLEEP_STATE_ALIASES.get(word.strip().casefold())`` is a word's state; every state is its own alias.
SLEEP_STATE_ALIASES: dict[str, str] = {
    **{state.casefold(): state for state in SLEEP_STATES},
    **dict.fromkeys(("w", "awake", "wakefulness", "sleep stage w"), "wake"),
    **dict.fromkeys(("n", "nr", "nrem sleep", "non-rem", "sws", "slow-wave sleep", "n1", "n2", "n3", "n4", "s1",
                     "s2", "s3", "s4", "sleep stage 1", "sleep stage 2", "sleep stage 3", "sleep stage 4",
                     "sleep stage n1", "sleep stage n2", "sleep stage n3"), "NREM"),
    **dict.fromkeys(("r", "rem sleep", "paradoxical sleep", "sleep stage r"), "REM"),
    **dict.fromkeys(("ma", "microarousal", "micro arousal", "arousal"), "micro-arousal"),
    **dict.fromkeys(("art", "artefact", "mt", "movement", "movement time"), "artifact"),
    **dict.fromkeys(("uns", "nd", "?", "undefined", "unknown", "sleep stage ?"), "unscored"),
}

#: How a hypnogram was scored.
SCORING_METHODS: tuple[str, ...] = ("manual", "automatic")

#: What a photometry channel measures.
MEASURED_QUANTITIES: tuple[str, ...] = (
    "norepinephrine",
    "cerebral blood volume",
    "CSF tracer",
    "dopamine",
    "serotonin",
    "acetylcholine",
    "calcium",
    "other",
)

#: The role of a photometry channel.
CHANNEL_ROLES: tuple[str, ...] = ("signal", "isosbestic control", "reference control")

#: Molecules a tracer's fluorophore may be bound to.
CARRIER_MOLECULES: tuple[str, ...] = ("albumin", "dextran", "ovalbumin", "none", "other")

#: Compartments a tracer labels.
LABELED_COMPARTMENTS: tuple[str, ...] = ("blood plasma", "CSF", "interstitial fluid")

#: Routes of administration, of a drug or of a tracer infusion alike.
ROUTES: tuple[str, ...] = (
    "intracisternal",
    "intravenous",
    "intraventricular",
    "intraparenchymal",
    "intraperitoneal",
    "subcutaneous",
    "oral",
    "intramuscular",
    "topical",
)

#: Abbreviations accepted for a route, and the term each stands for ('i.c.v.', intracerebroventricular, is
#: an injection into the brain's ventricles: 'intraventricular').
ROUTE_ALIASES: dict[str, str] = {
    "i.p.": "intraperitoneal",
    "s.c.": "subcutaneous",
    "p.o.": "oral",
    "i.v.": "intravenous",
    "i.c.v.": "intraventricular",
    "i.m.": "intramuscular",
}

#: Every accepted spelling of a route: the terms, then the aliases.
ROUTE_WORDS: tuple[str, ...] = (*ROUTES, *ROUTE_ALIASES)

#: Units of a drug dose.
DOSE_UNITS: tuple[str, ...] = ("mg/kg", "ug/kg", "mg", "ug", "nmol", "uL")

#: How vasomotion is imposed.
STIMULATION_METHODS: tuple[str, ...] = ("optogenetic", "chemogenetic", "pharmacological", "sensory", "other")

#: Shapes of the vasomotion modulation.
MODULATION_WAVEFORMS: tuple[str, ...] = ("sinusoidal", "square", "pulse train")


#: The spec field each vocabulary applies to, as ``"<neurodata type>.<field>"``.
FIELD_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "FluorescentTracer.carrier_molecule": CARRIER_MOLECULES,
    "FluorescentTracer.labeled_compartment": LABELED_COMPARTMENTS,
    "FiberPhotometryChannelsTable.measured_quantity": MEASURED_QUANTITIES,
    "FiberPhotometryChannelsTable.channel_role": CHANNEL_ROLES,
    "TracerInfusionsTable.route": ROUTES,
    "VasomotionStimulationEpochsTable.stimulation_method": STIMULATION_METHODS,
    "VasomotionStimulationEpochsTable.modulation_waveform": MODULATION_WAVEFORMS,
    "DrugAdministrationsTable.dose_unit": DOSE_UNITS,
    "DrugAdministrationsTable.route": ROUTES,
    "Hypnogram.scoring_method": SCORING_METHODS,
    "Hypnogram.sleep_state": SLEEP_STATES,
}

