"""NE -> blood-volume lag of both correlograms on the simulator's latent traces, seed by seed.

Run by hand (not part of the test suite; ~10 s)::

    python benchmarks/lag_estimator.py [--seeds 1 2 3 4 5 6 7 8]

The latent traces have no measurement chain: blood volume is ``-gain x NE`` delayed by exactly
the truth (3 s) plus vasomotion and independent noise, so any departure from the truth is the
estimator's. Bouts: the latent NREM runs of at least 100 s (micro-arousals split them); the
extremum is searched within half an NE period, as the coupling step does. Columns: the dF/F-like
latent traces and their whole-trace 0.005-Hz high-pass, under the per-lag Pearson correlogram
(the glymph default) and the bout z-score one (the authors' xcorr). The end-to-end figures
(photometry, dF/F, decimation, hypnogram bouts) are in ``benchmarks/methods_table.py``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def lags(*, seed: int, hours: float = 2.0) -> dict[str, float]:
    """The lag found by each (signal, correlogram) on one simulated session, and the truth."""
    from ndx_glymphatic.analysis.coupling import bout_cross_correlation
    from ndx_glymphatic.analysis.oscillation import highpass_zero_phase
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session
    from ndx_glymphatic.simulation import latents as simulated_latents

    session = simulate_session(parameters=SimulationParameters(duration_in_s=hours * 3600.0, seed=seed))
    latents, truth = session.latents, session.ground_truth
    rate = latents.rate_in_Hz
    nrem = np.diff(np.r_[0, (latents.sleep_state == simulated_latents._NREM).astype(int), 0])
    ranges = [
        (int(a), int(b)) for a, b in zip(np.flatnonzero(nrem == 1), np.flatnonzero(nrem == -1)) if b - a >= 100.0 * rate
    ]
    raw = {"dff": (latents.ne_percent, latents.blood_volume_percent)}
    raw["highpassed"] = tuple(
        highpass_zero_phase(values=values, rate_in_Hz=rate, cutoff_in_Hz=0.005) for values in raw["dff"]
    )
    found = {"truth": truth.ne_to_blood_volume_lag_in_s, "bouts": float(len(ranges))}
    for signal, (ne, bv) in raw.items():
        for correlogram in ("per_lag_pearson", "bout_zscore"):
            result = bout_cross_correlation(
                first=ne,
                second=bv,
                rate_in_Hz=rate,
                bout_ranges=ranges,
                kind="min",
                max_abs_lag_in_s=0.5 / truth.ne_frequency_in_Hz,
                correlogram=correlogram,
            )
            found[f"{signal}, {correlogram}"] = result.lag_in_s
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = parser.parse_args(argv)
    rows = {seed: lags(seed=seed) for seed in args.seeds}
    columns = [key for key in next(iter(rows.values())) if key not in ("truth", "bouts")]
    print("| seed | bouts | truth (s) | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 3) + "|")
    for seed, row in rows.items():
        cells = " | ".join(f"{row[key]:.3f}" for key in columns)
        print(f"| {seed} | {row['bouts']:.0f} | {row['truth']:.2f} | {cells} |")
    worst = {key: max(abs(row[key] - row["truth"]) for row in rows.values()) for key in columns}
    print("| worst error (s) | | | " + " | ".join(f"{value:.3f}" for value in worst.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
