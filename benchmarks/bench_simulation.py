"""Time the simulator on a 24-h session: latents, then streaming every high-rate channel.

Run by hand: ``/tmp/venv/bin/python benchmarks/bench_simulation.py [--hours 24] [--ephys]``.
Nothing is written to disk; each chunk is generated and dropped.
"""

from __future__ import annotations

import argparse
import time

from ndx_glymphatic.simulation import (
    PHOTOMETRY_CHANNELS,
    SimulationParameters,
    iter_ephys_chunks,
    iter_photometry_chunks,
    simulate_session,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--ephys", action="store_true", help="also stream EEG and EMG")
    arguments = parser.parse_args()

    start = time.perf_counter()
    session = simulate_session(parameters=SimulationParameters(duration_in_s=arguments.hours * 3600.0, seed=0))
    print(f"latents for {arguments.hours:g} h: {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    samples = 0
    for spec in PHOTOMETRY_CHANNELS:
        for chunk in iter_photometry_chunks(session=session, channel=spec.name):
            samples += len(chunk)
    elapsed = time.perf_counter() - start
    print(f"photometry, {len(PHOTOMETRY_CHANNELS)} channels, {samples:,} samples: {elapsed:.1f} s")

    if arguments.ephys:
        for series in ("EEG", "EMG"):
            start = time.perf_counter()
            samples = sum(chunk.size for chunk in iter_ephys_chunks(session=session, series=series))
            print(f"{series}, {samples:,} samples (all channels): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
