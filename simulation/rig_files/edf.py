"""Write EEG/EMG EDF+ files with TTL annotations (for tests and the simulator), chunk by chunk.

Signals are given as chunk iterators and written one data record at a time with pyedflib, so a
24-h file never has to be held in memory. TTL edges are written the way Pinnacle Sirenia does,
as EDF+ annotations ``TTL: Rise`` and ``TTL: Fall``; any other annotation text can be added.
Annotation onsets are stored with 100 us resolution (EDF+ TALs as edflib writes them).
EDF data records must be whole: a last partial record is padded with zeros (reported in the
summary), and every ``rate_in_Hz * record_duration_in_s`` must be an integer.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyedflib
from tqdm import tqdm

from ndx_glymphatic.io import atomic_output_path

__all__ = ["EdfAnnotation", "EdfSignalSource", "EdfWriteSummary", "write_edf"]


@dataclass(frozen=True)
class EdfSignalSource:
    """One signal to write.

    Attributes
    ----------
    label : str
        EDF label (<= 16 characters), e.g. ``"EEG EEG1A-B"``, ``"EMG EMG"``, ``"EEG EEG1.2A-B"``.
    rate_in_Hz : float
        Sampling rate; ``rate_in_Hz * record_duration_in_s`` must be an integer.
    chunks : iterable of ndarray
        1-D physical values in ``unit``, any chunk lengths.
    unit : str
        Physical dimension (``"uV"``).
    physical_min, physical_max : float
        Declared physical range (values outside are clipped by the EDF library).
    digital_min, digital_max : int
        Digital range (16-bit EDF).
    """

    label: str
    rate_in_Hz: float
    chunks: Iterable[np.ndarray] = field(repr=False)
    unit: str = "uV"
    physical_min: float = -1000.0
    physical_max: float = 1000.0
    digital_min: int = -32768
    digital_max: int = 32767


@dataclass(frozen=True)
class EdfAnnotation:
    """One EDF+ annotation: onset (s after start), duration (s; negative = unspecified) and text."""

    onset_in_s: float
    duration_in_s: float
    text: str


@dataclass(frozen=True)
class EdfWriteSummary:
    """What :func:`write_edf` wrote: path, records, samples per signal, zero-padded samples, annotations."""

    path: Path
    n_records: int
    samples_written: dict[str, int]
    samples_padded: dict[str, int]
    n_annotations: int


class _SignalBuffer:
    def __init__(self, *, source: EdfSignalSource, per_record: int) -> None:
        self.source = source
        self.per_record = per_record
        self.iterator: Iterator[np.ndarray] = iter(source.chunks)
        self.pieces: list[np.ndarray] = []
        self.buffered = 0
        self.exhausted = False
        self.written = 0

    def fill(self, *, n_samples: int) -> None:
        while self.buffered < n_samples and not self.exhausted:
            try:
                chunk = np.asarray(next(self.iterator), dtype=np.float64).ravel()
            except StopIteration:
                self.exhausted = True
                break
            if chunk.size:
                self.pieces.append(chunk)
                self.buffered += chunk.size

    def take(self, *, n_samples: int) -> np.ndarray:
        data = np.concatenate(self.pieces) if len(self.pieces) != 1 else self.pieces[0]
        taken, rest = data[:n_samples], data[n_samples:]
        self.pieces = [rest] if rest.size else []
        self.buffered = rest.size
        return taken


def _annotation_list(
    *,
    annotations: Sequence[EdfAnnotation],
    ttl_rise_times_in_s: Sequence[float] | np.ndarray,
    ttl_fall_times_in_s: Sequence[float] | np.ndarray,
    ttl_name: str,
) -> list[EdfAnnotation]:
    items = list(annotations)
    items += [EdfAnnotation(float(t), -1.0, f"{ttl_name}: Rise") for t in np.asarray(ttl_rise_times_in_s)]
    items += [EdfAnnotation(float(t), -1.0, f"{ttl_name}: Fall") for t in np.asarray(ttl_fall_times_in_s)]
    return sorted(items, key=lambda a: a.onset_in_s)


def write_edf(
    *,
    path: str | Path,
    signals: Sequence[EdfSignalSource],
    start_time: datetime,
    annotations: Sequence[EdfAnnotation] = (),
    ttl_rise_times_in_s: Sequence[float] | np.ndarray = (),
    ttl_fall_times_in_s: Sequence[float] | np.ndarray = (),
    ttl_name: str = "TTL",
    record_duration_in_s: float = 1.0,
    patient_code: str = "",
    equipment: str = "",
    expected_duration_in_s: float | None = None,
    overwrite: bool = False,
    show_progress: bool | None = None,
) -> EdfWriteSummary:
    """Write an EDF+ file from chunked signals plus TTL edges and annotations.

    Parameters
    ----------
    path : str or Path
        Output ``.edf``; written atomically (never a partial file).
    signals : sequence of EdfSignalSource
        Ordinary signals (at least one).
    start_time : datetime
        Recording start; microseconds (< 100000, an edflib limit) are written as the EDF+
        sub-second start.
    annotations : sequence of EdfAnnotation
        Free-text annotations.
    ttl_rise_times_in_s, ttl_fall_times_in_s : array-like
        TTL edges, written as ``"<ttl_name>: Rise"`` / ``"<ttl_name>: Fall"``.
    ttl_name : str
        Name in the TTL annotations (Sirenia: ``"TTL"``).
    record_duration_in_s : float
        EDF data record duration.
    patient_code, equipment : str
        EDF+ header fields.
    expected_duration_in_s : float, optional
        Only for the progress bar's total.
    overwrite : bool
        Replace an existing file.
    show_progress : bool, optional
        tqdm bar; by default only when stderr is a terminal.

    Returns
    -------
    EdfWriteSummary
    """
    if not signals:
        raise ValueError("write_edf needs at least one signal")
    if start_time.microsecond >= 100_000:
        # edflib (pyedflib 0.1.x) only accepts sub-second starts below 0.1 s.
        raise ValueError(f"sub-second start {start_time.microsecond} us >= 0.1 s: pyedflib cannot write it")
    buffers = []
    for source in signals:
        per_record = source.rate_in_Hz * record_duration_in_s
        if abs(per_record - round(per_record)) > 1e-9 or round(per_record) < 1:
            raise ValueError(
                f"signal {source.label!r}: rate {source.rate_in_Hz} Hz x record {record_duration_in_s} s "
                "must be a whole number of samples"
            )
        buffers.append(_SignalBuffer(source=source, per_record=round(per_record)))
    items = _annotation_list(
        annotations=annotations,
        ttl_rise_times_in_s=ttl_rise_times_in_s,
        ttl_fall_times_in_s=ttl_fall_times_in_s,
        ttl_name=ttl_name,
    )
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    n_records = 0
    with atomic_output_path(destination=path, overwrite=overwrite) as temporary:
        writer = pyedflib.EdfWriter(str(temporary), len(signals), file_type=pyedflib.FILETYPE_EDFPLUS)
        try:
            writer.setSignalHeaders(
                [
                    {
                        "label": s.label,
                        "dimension": s.unit,
                        "sample_frequency": s.rate_in_Hz,
                        "physical_min": s.physical_min,
                        "physical_max": s.physical_max,
                        "digital_min": s.digital_min,
                        "digital_max": s.digital_max,
                        "transducer": "",
                        "prefilter": "",
                    }
                    for s in signals
                ]
            )
            writer.setStartdatetime(start_time)
            writer.setPatientCode(patient_code)
            writer.setEquipment(equipment)
            if record_duration_in_s != 1.0:
                writer.record_duration = record_duration_in_s
                writer._enforce_record_duration = True
                writer.update_header()
            if items:
                # Each data record stores one annotation per annotation signal (edflib).
                last = max(items[-1].onset_in_s, 0.0)
                minimum_records = max(math.ceil(last / record_duration_in_s), 1)
                writer.set_number_of_annotation_signals(min(64, math.ceil(len(items) / minimum_records) + 1))
            with tqdm(
                total=expected_duration_in_s,
                unit="s",
                desc=f"EDF {Path(path).name}",
                disable=not show_progress,
            ) as progress:
                while True:
                    for buffer in buffers:
                        buffer.fill(n_samples=buffer.per_record * 64)
                    n_whole = min(b.buffered // b.per_record for b in buffers)
                    if n_whole == 0:
                        break
                    blocks = [b.take(n_samples=n_whole * b.per_record) for b in buffers]
                    for record in range(n_whole):
                        record_data = np.concatenate(
                            [
                                blk[record * b.per_record : (record + 1) * b.per_record]
                                for blk, b in zip(blocks, buffers)
                            ]
                        )
                        if writer.blockWritePhysicalSamples(record_data) < 0:
                            raise OSError(f"pyedflib could not write data record {n_records}")
                        n_records += 1
                    for b in buffers:
                        b.written += n_whole * b.per_record
                    progress.update(n_whole * record_duration_in_s)
            longer = [b.source.label for b in buffers if b.buffered > b.per_record or not b.exhausted]
            if longer:
                raise ValueError(
                    f"signals {longer} run longer than the shortest signal; give equal durations"
                )
            padded = {}
            if any(b.buffered for b in buffers):
                record_data = []
                for b in buffers:
                    tail = b.take(n_samples=b.buffered) if b.buffered else np.zeros(0)
                    padded[b.source.label] = b.per_record - tail.size
                    record_data.append(np.concatenate([tail, np.zeros(b.per_record - tail.size)]))
                    b.written += tail.size
                if writer.blockWritePhysicalSamples(np.concatenate(record_data)) < 0:
                    raise OSError(f"pyedflib could not write data record {n_records}")
                n_records += 1
            for item in items:
                writer.writeAnnotation(item.onset_in_s, item.duration_in_s, item.text)
        finally:
            writer.close()
    return EdfWriteSummary(
        path=Path(path),
        n_records=n_records,
        samples_written={b.source.label: b.written for b in buffers},
        samples_padded={b.source.label: padded.get(b.source.label, 0) for b in buffers},
        n_annotations=len(items),
    )
