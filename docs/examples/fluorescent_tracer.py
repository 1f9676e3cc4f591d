"""FluorescentTracer: a CSF tracer and a blood-plasma label, stored with the photometry indicators."""

from ndx_fiber_photometry import FiberPhotometryIndicators

from ndx_glymphatic import FluorescentTracer

csf_tracer = FluorescentTracer(
    name="AF647_ovalbumin",
    label="Alexa Fluor 647-ovalbumin",
    description="CSF tracer infused into the cisterna magna.",
    fluorophore="Alexa Fluor 647",
    carrier_molecule="ovalbumin",
    molecular_weight_in_kDa=45.0,
    labeled_compartment="CSF",
    excitation_peak_in_nm=650.0,
    emission_peak_in_nm=668.0,
)
blood_label = FluorescentTracer(
    name="TexasRed_albumin",
    label="Texas Red-albumin",
    description="Intravenous blood-plasma label read as cerebral blood volume.",
    fluorophore="Texas Red",
    carrier_molecule="albumin",
    molecular_weight_in_kDa=66.5,
    labeled_compartment="blood plasma",
    excitation_peak_in_nm=586.0,
    emission_peak_in_nm=603.0,
)
indicators = FiberPhotometryIndicators(indicators=[csf_tracer, blood_label])
assert indicators.indicators["AF647_ovalbumin"].carrier_molecule == "ovalbumin"
