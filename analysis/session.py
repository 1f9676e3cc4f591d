"""Read an ndx-glymphatic NWB file lazily and reduce its streams to what the analysis needs.

Nothing here loads a whole high-rate series: photometry is smoothed and decimated chunk by chunk
straight from the HDF5 datasets (~1 kHz -> ~10 Hz), EEG and EMG are read once in chunks into a
spectrogram and smoothed power envelopes. Channels are found by table semantics
(:mod:`ndx_glymphatic.access`: measured quantity + channel role), never by series name.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray
from pynwb import NWBFile

from ndx_glymphatic.analysis import preprocessing as pre
from ndx_glymphatic.analysis.bouts import Hypnogram
from ndx_glymphatic.analysis.eeg import EnvelopeSpec, Spectrogram, stream_features
from ndx_glymphatic.analysis.params import AnalysisParams
from ndx_glymphatic.analysis.requirements import inventory_of, series_timing
from ndx_glymphatic.nan_runs import ColumnView, NanRun, NanRunTracker

#: Below this many raw photometry samples (about 100 min of four 1-kHz channels) a second process
#: costs more to start than it saves (``benchmarks/bench_second_process.py``).
_PARALLEL_MIN_SAMPLES = 25_000_000

__all__ = [
    "ColumnView",
    "Epochs",
    "PhotometryTrace",
    "SessionData",
    "read_session",
    "series_read_in_full",
]


@dataclass(frozen=True)
class PhotometryTrace:
    """One photometry channel after smoothing and decimation, on its own grid.

    Attributes
    ----------
    name : str
        Series name in the file (for messages only).
    measured_quantity, channel_role : str
        From the channels table.
    decimated : DecimatedSeries
        Smoothed, decimated samples (series units x conversion).
    raw : ColumnView
        Lazy view of the raw samples (for the full-rate control fit).
    raw_rate_in_Hz : float
    raw_starting_time : float
    """

    name: str
    measured_quantity: str
    channel_role: str
    decimated: pre.DecimatedSeries
    raw: ColumnView
    raw_rate_in_Hz: float
    raw_starting_time: float


@dataclass(frozen=True)
class Epochs:
    """Stimulation epochs (LC trains or vasomotion stimulation).

    Attributes
    ----------
    starts, stops : ndarray
        Epoch bounds (seconds).
    pulse_onsets : ndarray
        Onsets of the individual light pulses derived from the table (``start + k * period`` for
        ``k < number_pulses_per_pulse_train``), or the epoch starts when the table has no period.
    modulation_frequency_in_Hz : float or None
        Vasomotion modulation frequency when recorded.
    """

    starts: NDArray[np.float64]
    stops: NDArray[np.float64]
    pulse_onsets: NDArray[np.float64]
    modulation_frequency_in_Hz: float | None = None


@dataclass
class SessionData:
    """Everything the analysis uses from one file, reduced.

    Attributes
    ----------
    path : str
    identifier, session_id, subject_id : str or None
    condition : str or None
    is_control : bool or None
    session_start_time : str
    duration_in_s : float
        Longest stream duration.
    ne_signal, ne_control, blood_volume, csf_tracer : PhotometryTrace or None
    hypnogram : Hypnogram or None
    csf_infusion_start_in_s, blood_infusion_start_in_s : float or None
        First infusion of a tracer labelling the CSF / blood plasma.
    drug : dict or None
        First drug administration (name, dose, unit, route, time).
    lc_stimulation, vasomotion_stimulation : Epochs or None
    spectrogram : Spectrogram or None
    eeg_envelopes : dict of DecimatedSeries
        ``"spindle"`` (spindle band, 0.25 s) and, when ``arousal.eeg_threshold`` > 0, ``"delta"``
        (EEG confirmation of micro-arousals).
    emg_envelope : DecimatedSeries or None
    nan_runs : dict
        Object id of every series the reduction read from its first sample to its last -> its longest
        NaN run, or None when the reads did not see every sample.
    notes : list of str
    """

    path: str
    identifier: str | None = None
    session_id: str | None = None
    subject_id: str | None = None
    condition: str | None = None
    is_control: bool | None = None
    session_start_time: str = ""
    duration_in_s: float = 0.0
    ne_signal: PhotometryTrace | None = None
    ne_control: PhotometryTrace | None = None
    blood_volume: PhotometryTrace | None = None
    csf_tracer: PhotometryTrace | None = None
    hypnogram: Hypnogram | None = None
    csf_infusion_start_in_s: float | None = None
    blood_infusion_start_in_s: float | None = None
    drug: dict[str, Any] | None = None
    lc_stimulation: Epochs | None = None
    vasomotion_stimulation: Epochs | None = None
    spectrogram: Spectrogram | None = None
    eeg_envelopes: dict[str, pre.DecimatedSeries] = field(default_factory=dict)
    emg_envelope: pre.DecimatedSeries | None = None
    nan_runs: dict[str, NanRun | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _PhotometryPlan:
    """How one photometry channel is reduced (decided before reading)."""

    channel: Any
    rate: float
    start: float
    factor: int
    window: int
    scale: float
    offset: float
    raw: ColumnView


def _watched(*, series: Any, column: int, trackers: dict[str, NanRunTracker]) -> ColumnView:
    """A view of one column of ``series`` that also feeds the series' NaN-run tracker (one per series)."""
    tracker = trackers.setdefault(series.object_id, NanRunTracker(n_samples=len(series.data)))
    return ColumnView(data=series.data, column=column, nan_runs=tracker)


def _plan(*, channel: Any, params: AnalysisParams, trackers: dict[str, NanRunTracker]) -> _PhotometryPlan:
    series = channel.series
    rate, start = series_timing(series=series)
    factor, window = pre.decimation_for_rate(
        rate_in_Hz=rate,
        decimation_factor=params.preprocessing.decimation_factor,
        smoothing_window_samples=params.preprocessing.smoothing_window_samples,
        reference_rate_in_Hz=params.preprocessing.reference_rate_in_Hz,
    )
    return _PhotometryPlan(
        channel=channel,
        rate=rate,
        start=start,
        factor=factor,
        window=window,
        scale=float(series.conversion or 1.0),
        offset=float(getattr(series, "offset", 0.0) or 0.0),
        raw=_watched(series=series, column=channel.column, trackers=trackers),
    )


def _finish(*, plan: _PhotometryPlan, sums: NDArray[np.float64], counts: NDArray[np.integer]) -> PhotometryTrace:
    decimated = pre.decimate_from_block_sums(
        sums=sums,
        counts=counts,
        rate_in_Hz=plan.rate,
        starting_time=plan.start,
        decimation_factor=plan.factor,
        smoothing_window_samples=plan.window,
        scale=plan.scale,
    )
    if plan.offset:
        decimated = pre.DecimatedSeries(decimated.values + plan.offset, decimated.rate_in_Hz, decimated.starting_time)
    return PhotometryTrace(
        name=plan.channel.series.name,
        measured_quantity=plan.channel.measured_quantity,
        channel_role=plan.channel.channel_role,
        decimated=decimated,
        raw=plan.raw,
        raw_rate_in_Hz=plan.rate,
        raw_starting_time=plan.start,
    )


def _reduce_here(
    *, plan: _PhotometryPlan, params: AnalysisParams, progress: Callable[[int], None] | None
) -> PhotometryTrace:
    sums, counts = pre.block_sums(
        data=plan.raw, factor=plan.factor, chunk_samples=params.preprocessing.chunk_samples, progress=progress
    )
    return _finish(plan=plan, sums=sums, counts=counts)


def _start_worker(*, plans: dict[str, _PhotometryPlan], params: AnalysisParams, folder: Path) -> Any | None:
    """Start ``_photometry_worker.py`` on the h5py-backed plans; None when they are not all in one local file."""
    files = set()
    streams = []
    for key, plan in plans.items():
        data = plan.channel.series.data
        if not isinstance(data, h5py.Dataset) or data.file.driver == "fileobj":
            return None  # a file object (e.g. a URL read by range requests) cannot be handed to another process
        files.add(data.file.filename)
        streams.append(
            {
                "key": key,
                "dataset": data.name,
                "column": plan.channel.column,
                "factor": plan.factor,
                "chunk": params.preprocessing.chunk_samples,
            }
        )
    if len(files) != 1 or not streams:
        return None
    jobs = folder / "jobs.json"
    jobs.write_text(json.dumps({"file": files.pop(), "streams": streams}))
    worker = Path(__file__).with_name("_photometry_worker.py")
    return subprocess.Popen(
        [sys.executable, str(worker), str(jobs), str(folder / "sums.npz")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _worker_nan_run(*, state: NDArray[np.int64]) -> NanRun | None:
    """The worker's ``[length, first_index, column, complete]`` of one stream's series."""
    length, first_index, column, complete = (int(value) for value in state)
    return NanRun(length=length, first_index=first_index, column=column) if complete else None


def _column(table: Any, name: str) -> list[Any]:
    return list(table[name][:]) if name in table.colnames else []


def _epochs(*, table: Any) -> Epochs:
    starts = np.asarray(table["start_time"][:], dtype=np.float64)
    stops = np.asarray(table["stop_time"][:], dtype=np.float64)
    if "stimulation_on" in table.colnames:
        on = np.asarray(table["stimulation_on"][:], dtype=bool)
    else:
        on = np.ones(starts.size, dtype=bool)
    periods = _column(table, "period_in_ms")
    counts = _column(table, "number_pulses_per_pulse_train")
    pulses: list[float] = []
    for i in np.flatnonzero(on):
        if periods and counts and float(periods[i]) > 0 and int(counts[i]) > 0:
            pulses.extend(starts[i] + np.arange(int(counts[i])) * float(periods[i]) / 1000.0)
        else:
            pulses.append(float(starts[i]))
    frequency = None
    frequencies = _column(table, "modulation_frequency_in_Hz")
    if frequencies:
        frequency = float(frequencies[0])
    return Epochs(
        starts=starts[on], stops=stops[on], pulse_onsets=np.asarray(pulses), modulation_frequency_in_Hz=frequency
    )


def _drug(*, nwbfile: NWBFile) -> dict[str, Any] | None:
    table = (nwbfile.intervals or {}).get("drug_administrations")
    if table is None or len(table) == 0:
        return None
    frame = {name: table[name][:] for name in table.colnames}
    first = int(np.argmin(frame["start_time"]))
    return {
        "time_in_s": float(frame["start_time"][first]),
        **{
            key: (value[first].item() if hasattr(value[first], "item") else value[first])
            for key, value in frame.items()
            if key in ("drug", "dose", "dose_unit", "route", "vehicle")
        },
    }


def _photometry_channels(*, inventory: Any) -> dict[str, Any]:
    """The channels the analysis reduces, by :class:`SessionData` attribute (the gate's inventory chooses them)."""
    channels = {
        "ne_signal": inventory.signal(measured_quantity="norepinephrine"),
        "ne_control": inventory.control(measured_quantity="norepinephrine"),
        "blood_volume": inventory.signal(measured_quantity="cerebral blood volume"),
        "csf_tracer": inventory.signal(measured_quantity="CSF tracer"),
    }
    return {attribute: channel for attribute, channel in channels.items() if channel is not None}


def series_read_in_full(*, nwbfile: NWBFile) -> list[Any]:
    """The series :func:`read_session` reads from the first sample to the last: photometry it reduces, EEG, EMG.

    Their NaN runs come out of that read (:attr:`SessionData.nan_runs`), so the readiness gate need not
    read them first.
    """
    from ndx_glymphatic.access import get_electrical_series

    photometry = [channel.series for channel in _photometry_channels(inventory=inventory_of(nwbfile=nwbfile)).values()]
    ephys = [get_electrical_series(nwbfile=nwbfile, name=name) for name in ("EEG", "EMG")]
    unique = {series.object_id: series for series in [*photometry, *ephys] if series is not None}
    return list(unique.values())


def read_session(
    *,
    nwbfile: NWBFile,
    path: str,
    params: AnalysisParams,
    progress: Callable[[int], None] | None = None,
    parallel: bool = True,
) -> SessionData:
    """Reduce an opened NWB file to :class:`SessionData` (streams decimated chunk by chunk).

    Parameters
    ----------
    nwbfile : NWBFile
        Opened read-only (lazy datasets).
    path : str
        Its path (for messages).
    params : AnalysisParams
        Rates, windows and bands of the reductions.
    progress : callable, optional
        Called with raw samples consumed (all streams together).
    parallel : bool
        Reduce the photometry streams in a second process while this one reduces EEG and EMG
        (same results as serial), when there are at least ``_PARALLEL_MIN_SAMPLES`` of them.

    Returns
    -------
    SessionData
    """
    from ndx_glymphatic.access import get_electrical_series, get_experimental_condition

    session = SessionData(path=path)
    session.identifier = nwbfile.identifier
    session.session_id = nwbfile.session_id
    session.subject_id = nwbfile.subject.subject_id if nwbfile.subject is not None else None
    session.session_start_time = nwbfile.session_start_time.isoformat()
    condition = get_experimental_condition(nwbfile=nwbfile)
    if condition is not None:
        session.condition = str(condition.condition)
        session.is_control = bool(condition.is_control)

    # the channels the readiness gate looked at: the inventory chooses them for both
    inventory = inventory_of(nwbfile=nwbfile)
    trackers: dict[str, NanRunTracker] = {}  # series object id -> its NaN runs, seen as the series is reduced
    worker_runs: dict[str, NanRun | None] = {}
    plans: dict[str, _PhotometryPlan] = {}
    for attribute, channel in _photometry_channels(inventory=inventory).items():
        plans[attribute] = _plan(channel=channel, params=params, trackers=trackers)

    def reduce_photometry() -> None:
        for attribute, plan in plans.items():
            setattr(session, attribute, _reduce_here(plan=plan, params=params, progress=progress))

    def reduce_ephys() -> None:
        eeg_params = params.eeg
        eeg_envelopes = {
            "spindle": EnvelopeSpec(
                band_in_Hz=eeg_params.spindle_band_in_Hz,
                order=eeg_params.spindle_filter_order,
                smoothing_in_s=eeg_params.spindle_smoothing_in_s,
            )
        }
        if params.arousal.eeg_threshold > 0:  # the delta envelope only serves the EEG confirmation of arousals
            eeg_envelopes["delta"] = EnvelopeSpec(
                band_in_Hz=params.arousal.eeg_band_in_Hz, order=3, smoothing_in_s=params.arousal.eeg_smoothing_in_s
            )
        eeg = get_electrical_series(nwbfile=nwbfile, name="EEG")
        if eeg is not None:
            rate, start = series_timing(series=eeg)
            spectrogram, envelopes = stream_features(
                data=_watched(series=eeg, column=0, trackers=trackers),
                rate_in_Hz=rate,
                starting_time=start,
                scale=float(eeg.conversion or 1.0),
                spectrogram_window_in_s=eeg_params.spectrogram_window_in_s,
                spectrogram_step_in_s=eeg_params.spectrogram_step_in_s,
                spectrogram_fmax_in_Hz=eeg_params.spectrogram_fmax_in_Hz,
                envelopes=eeg_envelopes,
                envelope_rate_in_Hz=eeg_params.envelope_rate_in_Hz,
                chunk_in_s=eeg_params.chunk_in_s,
                progress=progress,
            )
            session.spectrogram = spectrogram
            session.eeg_envelopes = envelopes
        emg = get_electrical_series(nwbfile=nwbfile, name="EMG")
        if emg is not None:
            rate, start = series_timing(series=emg)
            _, envelopes = stream_features(
                data=_watched(series=emg, column=0, trackers=trackers),
                rate_in_Hz=rate,
                starting_time=start,
                scale=float(emg.conversion or 1.0),
                spectrogram_window_in_s=None,
                envelopes={
                    "emg": EnvelopeSpec(
                        band_in_Hz=(params.arousal.emg_highpass_in_Hz, None),
                        order=3,
                        smoothing_in_s=params.arousal.emg_smoothing_in_s,
                    )
                },
                envelope_rate_in_Hz=params.arousal.envelope_rate_in_Hz,
                chunk_in_s=eeg_params.chunk_in_s,
                progress=progress,
            )
            session.emg_envelope = envelopes["emg"]

    # HDF5 decompression dominates and h5py serialises it behind one lock, so the photometry streams
    # are reduced by a lean second process (numpy + h5py only) while this one reduces EEG and EMG.
    # Anything unusual (data not in one HDF5 file, the worker failing) falls back to this process.
    done_in_worker = False
    raw_samples = sum(len(plan.raw) for plan in plans.values())
    if parallel and raw_samples >= _PARALLEL_MIN_SAMPLES:
        with tempfile.TemporaryDirectory(prefix="glymph-reduce-") as folder:
            worker = _start_worker(plans=plans, params=params, folder=Path(folder))
            try:
                reduce_ephys()
            finally:
                if worker is not None:
                    _, errors = worker.communicate()
            if worker is not None and worker.returncode == 0:
                with np.load(Path(folder) / "sums.npz") as reduced:
                    for attribute, plan in plans.items():
                        trace = _finish(
                            plan=plan, sums=reduced[f"{attribute}_sums"], counts=reduced[f"{attribute}_counts"]
                        )
                        setattr(session, attribute, trace)
                        worker_runs[plan.channel.series.object_id] = _worker_nan_run(
                            state=reduced[f"{attribute}_nan_run"])
                        if progress is not None:
                            progress(len(plan.raw))
                done_in_worker = True
            elif worker is not None:
                session.notes.append(
                    "the parallel photometry reduction failed and was redone in the main process: "
                    + (errors.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
                )
        if not done_in_worker:
            reduce_photometry()
    else:
        reduce_photometry()
        reduce_ephys()

    for plan in plans.values():
        plan.raw.stop_watching()
    session.nan_runs = {
        object_id: tracker.longest if tracker.complete else None for object_id, tracker in trackers.items()
    }
    session.nan_runs.update(worker_runs)
    session.hypnogram = inventory.hypnogram
    session.csf_infusion_start_in_s = inventory.infusion_start_in_s.get("CSF")
    session.blood_infusion_start_in_s = inventory.infusion_start_in_s.get("blood plasma")
    session.drug = _drug(nwbfile=nwbfile)
    intervals = nwbfile.intervals or {}
    if "lc_optogenetic_stimulation" in intervals and len(intervals["lc_optogenetic_stimulation"]):
        session.lc_stimulation = _epochs(table=intervals["lc_optogenetic_stimulation"])
    if "vasomotion_stimulation" in intervals and len(intervals["vasomotion_stimulation"]):
        session.vasomotion_stimulation = _epochs(table=intervals["vasomotion_stimulation"])

    durations = [
        trace.decimated.values.size / trace.decimated.rate_in_Hz
        for trace in (session.ne_signal, session.blood_volume, session.csf_tracer)
        if trace is not None
    ]
    session.duration_in_s = max(durations, default=0.0)
    return session


def raw_sample_count(*, nwbfile: NWBFile) -> int:
    """Raw samples the reduction will read (for a progress bar)."""
    from ndx_glymphatic.access import get_electrical_series, photometry_channels

    total = 0
    for channel in photometry_channels(nwbfile=nwbfile):
        if channel.series is not None and channel.measured_quantity in (
            "norepinephrine",
            "cerebral blood volume",
            "CSF tracer",
        ):
            total += int(channel.series.data.shape[0])
    for name in ("EEG", "EMG"):
        series = get_electrical_series(nwbfile=nwbfile, name=name)
        if series is not None:
            total += int(series.data.shape[0])
    return total
