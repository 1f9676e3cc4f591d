"""Write and read back a long TDT block and a long EDF+ file chunk by chunk (run by hand).

    python benchmarks/bench_readers.py --hours 24

TDT: 3 photometry stores at 1017.25 Hz + a 2-channel EEG store + EMG at 508.63 Hz + a TTL epoc.
EDF+: 3 signals at 512 Hz + TTL annotations every 5 s. Prints wall times and this process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ndx_glymphatic.converters.edf import EdfReader
from ndx_glymphatic.converters.tdt import TdtBlockReader
from ndx_glymphatic.simulation.rig_files.edf import EdfSignalSource, write_edf
from ndx_glymphatic.simulation.rig_files.tdt import (
    EEG_RATE_IN_HZ,
    PHOTOMETRY_RATE_IN_HZ,
    TdtEpocSource,
    TdtStreamSource,
    write_tdt_block,
)


def _chunks(*, duration_in_s: float, rate: float, n_channels: int = 1, seed: int = 0) -> Iterator[np.ndarray]:
    """Minute-long chunks; the noise is drawn once and reused (generation is not what is measured)."""
    n_total = int(duration_in_s * rate)
    step = int(60.0 * rate)
    base = np.random.default_rng(seed).normal(0, 1, (step, n_channels)).astype(np.float32)
    for start in range(0, n_total, step):
        yield base[: min(step, n_total - start)] + np.float32(start / n_total)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def bench_tdt(*, duration_in_s: float, folder: Path) -> None:
    started = time.perf_counter()
    photometry = [
        TdtStreamSource(
            code=code,
            rate_in_Hz=PHOTOMETRY_RATE_IN_HZ,
            chunks=_chunks(duration_in_s=duration_in_s, rate=PHOTOMETRY_RATE_IN_HZ, seed=seed),
        )
        for seed, code in enumerate(("465A", "405A", "560B"))
    ]
    ephys = [
        TdtStreamSource(
            code="EEGw",
            rate_in_Hz=EEG_RATE_IN_HZ,
            n_channels=2,
            chunks=_chunks(duration_in_s=duration_in_s, rate=EEG_RATE_IN_HZ, n_channels=2, seed=5),
        ),
        TdtStreamSource(
            code="EMG1",
            rate_in_Hz=EEG_RATE_IN_HZ,
            chunks=_chunks(duration_in_s=duration_in_s, rate=EEG_RATE_IN_HZ, seed=6),
        ),
    ]
    ttl_times = np.arange(1.0, duration_in_s - 1.0, 5.0)
    summary = write_tdt_block(
        folder=folder,
        block_name="Bench",
        start_time=datetime(2024, 1, 1, tzinfo=timezone.utc),
        streams=photometry + ephys,
        epocs=[TdtEpocSource(code="PtC0", onset_times_in_s=ttl_times)],
        show_progress=False,
    )
    write_in_s = time.perf_counter() - started
    size_gb = sum(path.stat().st_size for path in summary.block_folder.iterdir()) / 1e9
    started = time.perf_counter()
    reader = TdtBlockReader(path=summary.block_folder)
    open_in_s = time.perf_counter() - started
    started = time.perf_counter()
    n_read = sum(
        chunk.size
        for name in reader.streams()
        for chunk in reader.iter_stream_chunks(stream_name=name, chunk_samples=1_000_000)
    )
    read_in_s = time.perf_counter() - started
    print(
        f"TDT: wrote {size_gb:.2f} GB in {write_in_s:.1f} s; opened in {open_in_s:.2f} s; "
        f"read {n_read / 1e6:.0f} M samples in {read_in_s:.1f} s; peak RSS so far {_peak_rss_mb():.0f} MB"
    )


def bench_edf(*, duration_in_s: float, path: Path) -> None:
    rate = 512.0
    started = time.perf_counter()
    write_edf(
        path=path,
        signals=[
            EdfSignalSource(
                label=label,
                rate_in_Hz=rate,
                unit="uV",
                physical_min=-5000.0,
                physical_max=5000.0,
                chunks=(chunk[:, 0] * 100 for chunk in _chunks(duration_in_s=duration_in_s, rate=rate, seed=i)),
            )
            for i, label in enumerate(("EEG EEG1A-B", "EEG EEG2A-B", "EMG EMG"))
        ],
        start_time=datetime(2024, 1, 1),
        ttl_rise_times_in_s=np.arange(1.0, duration_in_s - 1.0, 5.0),
    )
    write_in_s = time.perf_counter() - started
    started = time.perf_counter()
    reader = EdfReader(path=path)
    open_in_s = time.perf_counter() - started
    started = time.perf_counter()
    n_read = sum(chunk.size for name in reader.streams() for chunk in reader.iter_stream_chunks(stream_name=name))
    read_in_s = time.perf_counter() - started
    print(
        f"EDF: wrote {path.stat().st_size / 1e9:.2f} GB in {write_in_s:.1f} s; opened in {open_in_s:.2f} s; "
        f"read {n_read / 1e6:.0f} M samples in {read_in_s:.1f} s; peak RSS so far {_peak_rss_mb():.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=24.0)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="glymph-bench-readers-"))
    try:
        bench_tdt(duration_in_s=arguments.hours * 3600.0, folder=folder / "tdt")
        bench_edf(duration_in_s=arguments.hours * 3600.0, path=folder / "bench.edf")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
