"""Write synthetic pyPhotometry files (``.ppd`` continuous / pulsed; CSV + JSON) for tests and the simulator.

The layouts are those :mod:`ndx_glymphatic.converters.pyphotometry` reads:
frames of uint16 words ``ADC << 1 | digital``, digital input ``n`` on word ``n - 1`` of each frame;
pulsed frames are ``[a1_on, a1_off, a2_on, a2_off, ...]``. Data may be whole arrays or iterators of
chunks, consumed in lockstep.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from ndx_glymphatic.io import atomic_output_path
from ndx_glymphatic.simulation.rig_files._chunks import ChunkSource, lockstep

__all__ = ["adc_counts_from_volts", "ppd_header", "write_ppd", "write_pyphotometry_csv"]

_ADC_MAX = 2**15 - 1


def adc_counts_from_volts(*, volts: np.ndarray, volts_per_division: float) -> np.ndarray:
    """Round volts to 15-bit ADC counts (clipped to 0 .. 32767)."""
    return np.clip(np.rint(np.asarray(volts) / volts_per_division), 0, _ADC_MAX).astype(np.uint16)


def ppd_header(
    *,
    mode: str,
    sampling_rate: int,
    n_analog_signals: int,
    n_digital_signals: int,
    volts_per_division: float | Sequence[float],
    date_time: datetime,
    subject_id: str = "mouse",
    version: str | float = "1.1",
    led_current: Sequence[int] = (10, 10),
    legacy: bool = False,
) -> dict[str, object]:
    """The JSON header (``legacy`` omits ``n_analog_signals`` / ``n_digital_signals``, as v0.x did)."""
    volts = (
        [float(value) for value in volts_per_division]
        if isinstance(volts_per_division, Sequence)
        else (float(volts_per_division))
    )
    header: dict[str, object] = {
        "subject_ID": subject_id,
        "date_time": date_time.isoformat(timespec="seconds"),
        "mode": mode,
        "sampling_rate": sampling_rate,
        "volts_per_division": volts,
        "LED_current": list(led_current),
        "version": version,
    }
    if not legacy:
        header["n_analog_signals"] = n_analog_signals
        header["n_digital_signals"] = n_digital_signals
        header["ADC_max_value"] = _ADC_MAX
    return header


def _check_counts(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.size and (values.min() < 0 or values.max() > _ADC_MAX or np.any(values != np.round(values))):
        raise ValueError("ADC counts must be integers 0 .. 32767")
    return values.astype(np.uint16)


def write_ppd(
    *,
    destination: str | Path,
    analog_counts: Sequence[ChunkSource],
    digital_levels: Sequence[ChunkSource] = (),
    baseline_counts: Sequence[ChunkSource] | None = None,
    mode: str = "2EX_2EM_continuous",
    sampling_rate: int = 130,
    volts_per_division: float | Sequence[float] = (0.00010122, 0.00010122),
    date_time: datetime,
    subject_id: str = "mouse",
    version: str | float = "1.1",
    legacy_header: bool = False,
    overwrite: bool = False,
) -> Path:
    """Write a ``.ppd`` file.

    Parameters
    ----------
    destination : str or Path
        Output file.
    analog_counts : sequence of array or iterable of arrays
        One integer ADC signal (0 .. 32767) per analog signal; in pulsed modes the LED-on samples.
    digital_levels : sequence of array or iterable of arrays
        One 0/1 level signal per digital input (at most one per word of a frame).
    baseline_counts : sequence, optional
        Pulsed modes: the LED-off (baseline) samples per analog signal.
    mode : str
        Acquisition mode; pulsed when it contains ``pulsed``.
    sampling_rate : int
        Samples per second per signal.
    volts_per_division : float or sequence of float
        Written to the header.
    date_time : datetime
        Recording start.
    subject_id : str
        ``subject_ID``.
    version : str or float
        Written as given (a float gives a JSON number, like pyPhotometry 0.2).
    legacy_header : bool
        Omit ``n_analog_signals`` / ``n_digital_signals`` like old files.
    overwrite : bool
        Replace an existing file.
    """
    destination = Path(destination)
    pulsed = "pulsed" in mode.lower()
    if pulsed != (baseline_counts is not None):
        raise ValueError("baseline_counts is required for pulsed modes and only for them")
    n_analog = len(analog_counts)
    words_per_sample = n_analog * (2 if pulsed else 1)
    if len(digital_levels) > words_per_sample:
        raise ValueError(f"at most {words_per_sample} digital inputs in this mode")
    header = ppd_header(
        mode=mode,
        sampling_rate=sampling_rate,
        n_analog_signals=n_analog,
        n_digital_signals=len(digital_levels),
        volts_per_division=volts_per_division,
        date_time=date_time,
        subject_id=subject_id,
        version=version,
        legacy=legacy_header,
    )
    encoded = json.dumps(header).encode("utf-8")
    sources = list(analog_counts) + list(baseline_counts or []) + list(digital_levels)
    with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
        with Path(temporary).open("wb") as handle:
            handle.write(len(encoded).to_bytes(2, "little"))
            handle.write(encoded)
            for chunks in lockstep(sources):
                on = [_check_counts(chunk) for chunk in chunks[:n_analog]]
                off = [
                    _check_counts(chunk)
                    for chunk in chunks[n_analog : n_analog + (n_analog if pulsed else 0)]
                ]
                digital = chunks[n_analog + len(off) :]
                frame = np.empty((on[0].shape[0], words_per_sample), dtype=np.uint16)
                for k in range(n_analog):
                    if pulsed:
                        frame[:, 2 * k] = on[k] << 1
                        frame[:, 2 * k + 1] = off[k] << 1
                    else:
                        frame[:, k] = on[k] << 1
                for k, levels in enumerate(digital):
                    frame[:, k] |= (np.asarray(levels) > 0).astype(np.uint16)
                handle.write(frame.astype("<u2").tobytes())
    return destination


def write_pyphotometry_csv(
    *,
    destination: str | Path,
    analog_counts: Sequence[np.ndarray],
    digital_levels: Sequence[np.ndarray] = (),
    mode: str = "2EX_2EM_continuous",
    sampling_rate: int = 130,
    volts_per_division: float | Sequence[float] = (0.00010122, 0.00010122),
    date_time: datetime,
    subject_id: str = "mouse",
    version: str | float = "1.1",
    overwrite: bool = False,
) -> Path:
    """Write a CSV export (``Analog1, Analog2, Digital1, Digital2``) and its sidecar ``.json``."""
    destination = Path(destination)
    header = ppd_header(
        mode=mode,
        sampling_rate=sampling_rate,
        n_analog_signals=len(analog_counts),
        n_digital_signals=len(digital_levels),
        volts_per_division=volts_per_division,
        date_time=date_time,
        subject_id=subject_id,
        version=version,
    )
    columns = [_check_counts(values).astype(np.int64) for values in analog_counts] + [
        (np.asarray(levels) > 0).astype(np.int64) for levels in digital_levels
    ]
    names = [f"Analog{k + 1}" for k in range(len(analog_counts))] + [
        f"Digital{k + 1}" for k in range(len(digital_levels))
    ]
    with atomic_output_path(destination=destination.with_suffix(".json"), overwrite=overwrite) as sidecar:
        with atomic_output_path(destination=destination, overwrite=overwrite) as temporary:
            with Path(temporary).open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(names)
                writer.writerows(np.column_stack(columns).tolist())
            Path(sidecar).write_text(json.dumps(header, indent=1), encoding="utf-8")
    return destination
