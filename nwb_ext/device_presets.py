"""Device presets of the common photometry rigs: ``devices: {preset: tdt-rz10x}`` in a session file.

A preset fills ``devices.excitation_sources`` and ``devices.photodetectors`` with the rig's LEDs
(named ``led_<wavelength>nm``) and photodetector (named ``photodetector``). An entry the session file
gives with the same ``name`` overrides the preset's entry field by field; other entries are added.
Implanted fibers are the experimenter's and are never preset.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["DEVICE_PRESETS", "DevicePreset", "expand_device_preset", "preset_led_name"]

DevicePreset = Literal["tdt-rz10x", "doric", "neurophotometrics-fp3002", "pyphotometry"]


def _leds(*, manufacturer: str, model_number: str, wavelengths_in_nm: tuple[int, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"led_{wavelength}nm",
            "description": f"{wavelength} nm excitation LED.",
            "manufacturer": manufacturer,
            "model_number": model_number,
            "source_type": "LED",
            "wavelength_in_nm": float(wavelength),
        }
        for wavelength in wavelengths_in_nm
    ]


def _detector(*, manufacturer: str, model_number: str, detector_type: str, description: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "photodetector",
            "description": description,
            "manufacturer": manufacturer,
            "model_number": model_number,
            "detector_type": detector_type,
        }
    ]


#: Preset name -> the ``devices`` entries it fills.
DEVICE_PRESETS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "tdt-rz10x": {
        "excitation_sources": _leds(
            manufacturer="Tucker-Davis Technologies", model_number="RZ10x LUX LED", wavelengths_in_nm=(405, 465, 560)
        ),
        "photodetectors": _detector(
            manufacturer="Tucker-Davis Technologies",
            model_number="RZ10x LUX photosensor",
            detector_type="photodiode",
            description="RZ10x integrated LUX photosensor.",
        ),
    },
    "doric": {
        "excitation_sources": _leds(
            manufacturer="Doric Lenses", model_number="Connectorized LED", wavelengths_in_nm=(405, 465, 560)
        ),
        "photodetectors": _detector(
            manufacturer="Doric Lenses",
            model_number="Fluorescence MiniCube photodetector",
            detector_type="photodiode",
            description="Photodetector integrated in the Doric fluorescence MiniCube.",
        ),
    },
    "neurophotometrics-fp3002": {
        "excitation_sources": _leds(
            manufacturer="Neurophotometrics", model_number="FP3002 LED", wavelengths_in_nm=(415, 470, 560)
        ),
        "photodetectors": _detector(
            manufacturer="Neurophotometrics",
            model_number="FP3002 CMOS camera",
            detector_type="CMOS camera",
            description="The FP3002's sCMOS camera imaging the fiber bundle.",
        ),
    },
    "pyphotometry": {
        "excitation_sources": _leds(
            manufacturer="Open Ephys (pyPhotometry)",
            model_number="pyPhotometry LED driver",
            wavelengths_in_nm=(405, 470),
        ),
        "photodetectors": _detector(
            manufacturer="Open Ephys (pyPhotometry)",
            model_number="pyPhotometry acquisition board photoreceiver input",
            detector_type="photodiode",
            description="Photoreceiver read by the pyPhotometry acquisition board.",
        ),
    },
}


def preset_led_name(*, preset: str, wavelength_in_nm: float) -> str:
    """The preset's LED nearest to ``wavelength_in_nm`` (``led_465nm`` for a TDT 490 nm store)."""
    sources = DEVICE_PRESETS[preset]["excitation_sources"]
    return min(sources, key=lambda source: abs(source["wavelength_in_nm"] - wavelength_in_nm))["name"]


def _merged(*, preset_entries: list[dict[str, Any]], given: Any) -> Any:
    if not isinstance(given, (list, tuple)):
        return given  # not a list: the schema reports it
    by_name = {entry["name"]: dict(entry) for entry in preset_entries}
    extra = []
    for entry in given:
        if isinstance(entry, Mapping) and entry.get("name") in by_name:
            by_name[entry["name"]].update(entry)
        else:
            extra.append(entry)
    return [*by_name.values(), *extra]


def expand_device_preset(document: Any) -> Any:
    """The session document with its ``devices.preset`` filled in (a copy; unchanged without a known preset)."""
    if not isinstance(document, Mapping):
        return document
    devices = document.get("devices")
    if not isinstance(devices, Mapping) or devices.get("preset") not in DEVICE_PRESETS:
        return document
    expanded = copy.deepcopy(dict(document))
    preset = DEVICE_PRESETS[devices["preset"]]
    new_devices = dict(expanded["devices"])
    for key, entries in preset.items():
        new_devices[key] = _merged(preset_entries=entries, given=new_devices.get(key, []))
    expanded["devices"] = new_devices
    return expanded
