"""Scored hypnograms shared by the hypnogram reader tests."""

from __future__ import annotations

import numpy as np

from ndx_glymphatic.converters._contract import HypnogramIntervals

__all__ = ["SCORED", "intervals"]


def intervals(rows: list[tuple[float, float, str]], *, epoch: float | None = None) -> HypnogramIntervals:
    return HypnogramIntervals(
        start_times_in_s=np.array([row[0] for row in rows], dtype=float),
        stop_times_in_s=np.array([row[1] for row in rows], dtype=float),
        sleep_states=tuple(row[2] for row in rows),
        scoring_method="manual",
        scorer="test",
        epoch_length_in_s=epoch,
    )


#: Wake, NREM with nested micro-arousals, REM: every case a reader must keep apart.
SCORED = intervals(
    [
        (0, 120, "wake"),
        (120, 400, "NREM"),
        (400, 404, "micro-arousal"),
        (404, 700, "NREM"),
        (700, 707, "micro-arousal"),
        (707, 900, "NREM"),
        (900, 990, "REM"),
        (990, 1000, "wake"),
        (1000, 1300, "NREM"),
        (1300, 1310, "micro-arousal"),  # at a NREM -> wake border: not nested
        (1310, 1400, "wake"),
    ]
)
