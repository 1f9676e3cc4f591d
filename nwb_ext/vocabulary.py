"""Controlled vocabularies of ndx-glymphatic.

NWB specs cannot restrict text to a list, so the allowed words live here, in one place, and the
validators check files against them. Each tuple lists the canonical spelling.
"""

from __future__ import annotations

__all__ = [
    "CARRIER_MOLECULES",
    "CHANNEL_ROLES",
    "DOSE_UNITS",
    "DRUG_ROUTES",
    "INFUSION_ROUTES",
    "LABELED_COMPARTMENTS",
    "MEASURED_QUANTITIES",
    "MODULATION_WAVEFORMS",
    "SCORING_METHODS",
    "SLEEP_STATES",
    "STIMULATION_METHODS",
]

#: States a Hypnogram row may hold.
SLEEP_STATES: tuple[str, ...] = ("wake", "NREM", "REM", "micro-arousal", "artifact", "unscored")

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

#: Routes of a tracer infusion.
INFUSION_ROUTES: tuple[str, ...] = (
    "intracisternal",
    "intravenous",
    "intraventricular",
    "intraparenchymal",
    "intraperitoneal",
)

#: Routes of a drug administration.
DRUG_ROUTES: tuple[str, ...] = ("i.p.", "s.c.", "p.o.", "i.v.", "i.c.v.", "i.m.", "intracisternal", "topical")

#: Units of a drug dose.
DOSE_UNITS: tuple[str, ...] = ("mg/kg", "ug/kg", "mg", "ug", "nmol", "uL")

#: How vasomotion is imposed.
STIMULATION_METHODS: tuple[str, ...] = ("optogenetic", "chemogenetic", "pharmacological", "sensory", "other")

#: Shapes of the vasomotion modulation.
MODULATION_WAVEFORMS: tuple[str, ...] = ("sinusoidal", "square", "pulse train")
