"""Clock alignment by TTL pulses: known drift, offset, jitter, dropped and extra pulses."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from ndx_glymphatic.converters.clock_alignment import (
    ClockAlignmentResult,
    fit_clock_alignment,
    match_ttl_pulses,
)
from ndx_glymphatic.converters.edf import EdfReader
from ndx_glymphatic.converters.tdt import TdtBlockReader
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.simulation.rig_files.edf import EdfSignalSource, write_edf
from ndx_glymphatic.simulation.rig_files.tdt import (
    PHOTOMETRY_RATE_IN_HZ,
    TdtEpocSource,
    TdtStreamSource,
    write_tdt_block,
)

NAMES = {
    "primary_system": "TDT RZ10x",
    "secondary_system": "Pinnacle Sirenia",
    "primary_ttl_channel": "PtC0",
    "secondary_ttl_channel": "TTL",
    "primary_path": "/data/Mouse7-240506/Mouse7.tsq",
    "secondary_path": "/data/Mouse7-240506.edf",
}
TABLE_COLUMNS = {
    "secondary_system",
    "primary_system",
    "primary_ttl_channel",
    "secondary_ttl_channel",
    "number_of_matched_pulses",
    "slope",
    "offset_in_s",
    "residual_rms_in_s",
    "max_abs_residual_in_s",
    "matched_primary_times_in_s",
    "matched_secondary_times_in_s",
}


def _sync_train(*, rng: np.random.Generator, n: int, low: float = 1.0, high: float = 5.0) -> np.ndarray:
    """Random-interval sync pulses (the recommended sync scheme), primary clock."""
    return np.cumsum(rng.uniform(low, high, n))


def _secondary_clock(
    *, primary: np.ndarray, slope: float, offset_in_s: float, jitter_in_s: float, rng: np.random.Generator
) -> np.ndarray:
    """Times of primary pulses on a secondary clock with t_primary = slope * t_secondary + offset."""
    return (primary - offset_in_s) / slope + rng.normal(0, jitter_in_s, primary.size)


@pytest.mark.parametrize(
    ("drift_ppm", "offset_in_s"),
    [(50.0, 12.3456), (-80.0, -3600.5), (0.0, 0.0), (200.0, 7.25)],
)
def test_recovers_drift_and_offset_despite_jitter_and_dropped_and_extra_pulses(
    drift_ppm: float, offset_in_s: float
) -> None:
    rng = np.random.default_rng(int(abs(drift_ppm)) + 11)
    primary_all = _sync_train(rng=rng, n=1500)  # ~ 1.7 h
    slope = 1 + drift_ppm * 1e-6
    secondary_all = _secondary_clock(
        primary=primary_all, slope=slope, offset_in_s=offset_in_s, jitter_in_s=1e-4, rng=rng
    )
    keep_primary = rng.random(primary_all.size) > 0.03  # 3 % lost on the primary
    keep_secondary = rng.random(primary_all.size) > 0.05  # 5 % lost on the secondary
    extra = rng.uniform(secondary_all[0], secondary_all[-1], 40)  # spurious secondary pulses
    primary = primary_all[keep_primary]
    secondary = np.concatenate([secondary_all[keep_secondary], extra])
    result = fit_clock_alignment(primary_times_in_s=primary, secondary_times_in_s=secondary, **NAMES)
    assert result.drift_ppm == pytest.approx(drift_ppm, abs=0.05)
    assert result.offset_in_s == pytest.approx(offset_in_s, abs=2e-4)
    both = keep_primary & keep_secondary
    assert result.number_of_matched_pulses >= both.sum()
    assert result.number_of_matched_pulses <= both.sum() + 2  # at most a coincidental extra or two
    assert result.residual_rms_in_s == pytest.approx(1e-4, rel=0.2)
    assert result.max_abs_residual_in_s < 1e-3
    # Every true pair is matched to its own partner.
    truth = dict(zip(np.round(secondary_all[both], 9), primary_all[both]))
    matched = dict(zip(np.round(result.matched_secondary_times_in_s, 9), result.matched_primary_times_in_s))
    assert all(matched.get(key) == value for key, value in truth.items())


def test_partial_overlap_secondary_recorded_only_part_of_the_session() -> None:
    rng = np.random.default_rng(3)
    primary = _sync_train(rng=rng, n=3000)
    secondary_all = _secondary_clock(primary=primary, slope=1 + 30e-6, offset_in_s=2000.0, jitter_in_s=5e-5, rng=rng)
    window = slice(1000, 1400)
    result = fit_clock_alignment(primary_times_in_s=primary, secondary_times_in_s=secondary_all[window], **NAMES)
    assert result.number_of_matched_pulses == 400
    assert result.drift_ppm == pytest.approx(30.0, abs=0.5)
    np.testing.assert_allclose(
        result.to_primary_time(secondary_times_in_s=secondary_all[window]), primary[window], atol=3e-4
    )


def test_unrelated_pulse_trains_are_refused_naming_files_and_channels() -> None:
    rng = np.random.default_rng(5)
    with pytest.raises(InputFileError) as caught:
        fit_clock_alignment(
            primary_times_in_s=_sync_train(rng=rng, n=800),
            secondary_times_in_s=_sync_train(rng=rng, n=800),
            **NAMES,
        )
    message = str(caught.value)
    assert message.startswith("/data/Mouse7-240506.edf: ")
    assert "Pinnacle Sirenia channel 'TTL'" in message and "TDT RZ10x channel 'PtC0'" in message
    assert "/data/Mouse7-240506/Mouse7.tsq" in message
    assert "expected at least 10 matching pulses" in message and "800 secondary, 800 primary pulses" in message


def test_large_residuals_are_refused() -> None:
    rng = np.random.default_rng(8)
    primary = _sync_train(rng=rng, n=600)
    secondary = _secondary_clock(primary=primary, slope=1.0, offset_in_s=1.0, jitter_in_s=2.5e-3, rng=rng)
    with pytest.raises(InputFileError) as caught:
        fit_clock_alignment(primary_times_in_s=primary, secondary_times_in_s=secondary, **NAMES)
    assert "expected a residual RMS of at most 1 ms" in str(caught.value)
    relaxed = fit_clock_alignment(
        primary_times_in_s=primary, secondary_times_in_s=secondary, max_residual_rms_in_s=5e-3, **NAMES
    )
    assert relaxed.residual_rms_in_s == pytest.approx(2.5e-3, rel=0.15)


def test_too_few_pulses_are_refused_and_the_minimum_is_a_parameter() -> None:
    rng = np.random.default_rng(9)
    primary = _sync_train(rng=rng, n=8)
    secondary = primary - 4.0
    with pytest.raises(InputFileError, match="expected at least 10 matching pulses, found 8 matched"):
        fit_clock_alignment(primary_times_in_s=primary, secondary_times_in_s=secondary, **NAMES)
    result = fit_clock_alignment(
        primary_times_in_s=primary, secondary_times_in_s=secondary, min_matched_pulses=5, **NAMES
    )
    assert result.number_of_matched_pulses == 8
    assert result.offset_in_s == pytest.approx(4.0, abs=1e-9)


def test_a_secondary_matching_only_a_small_fraction_is_refused() -> None:
    rng = np.random.default_rng(12)
    primary = _sync_train(rng=rng, n=400)
    # Only the first 50 pulses are shared; the rest of the secondary train is unrelated.
    unrelated = np.sort(rng.uniform(primary[50], primary[-1], 350))
    secondary = np.concatenate([primary[:50], unrelated]) - 30.0
    with pytest.raises(InputFileError, match=r"expected at least 50% of the \d+ pulses in the shared span"):
        fit_clock_alignment(primary_times_in_s=primary, secondary_times_in_s=secondary, **NAMES)


def test_periodic_pulses_need_an_expected_offset() -> None:
    rng = np.random.default_rng(13)
    primary = np.arange(0.0, 1800.0, 1.0)
    secondary = _secondary_clock(primary=primary, slope=1 + 40e-6, offset_in_s=25.3, jitter_in_s=1e-4, rng=rng)
    with pytest.raises(InputFileError, match="periodic pulses need expected_offset_in_s"):
        fit_clock_alignment(primary_times_in_s=primary, secondary_times_in_s=secondary, **NAMES)
    result = fit_clock_alignment(
        primary_times_in_s=primary,
        secondary_times_in_s=secondary,
        expected_offset_in_s=25.0,
        offset_search_window_in_s=0.45,
        **NAMES,
    )
    assert result.drift_ppm == pytest.approx(40.0, abs=0.5)
    assert result.offset_in_s == pytest.approx(25.3, abs=1e-3)
    assert result.number_of_matched_pulses >= 1770


def test_match_is_deterministic_and_empty_inputs_match_nothing() -> None:
    rng = np.random.default_rng(14)
    primary = _sync_train(rng=rng, n=300)
    secondary = primary * (1 - 1e-5) + 3.0
    first = match_ttl_pulses(primary_times_in_s=primary, secondary_times_in_s=secondary)
    second = match_ttl_pulses(primary_times_in_s=primary[::-1], secondary_times_in_s=secondary)
    np.testing.assert_array_equal(first.primary_indices, second.primary_indices)
    assert first.slope == second.slope
    assert match_ttl_pulses(primary_times_in_s=[], secondary_times_in_s=secondary).primary_indices.size == 0


def test_result_maps_onto_the_clock_alignment_table_columns() -> None:
    rng = np.random.default_rng(15)
    primary = _sync_train(rng=rng, n=100)
    result = fit_clock_alignment(primary_times_in_s=primary, secondary_times_in_s=primary + 1.5, **NAMES)
    assert isinstance(result, ClockAlignmentResult)
    row = result.as_table_row()
    assert set(row) == TABLE_COLUMNS
    assert row["number_of_matched_pulses"] == 100
    assert row["slope"] == pytest.approx(1.0, abs=1e-12) and row["offset_in_s"] == pytest.approx(-1.5, abs=1e-9)
    assert row["secondary_system"] == "Pinnacle Sirenia" and row["primary_ttl_channel"] == "PtC0"


def test_end_to_end_tdt_epocs_against_edf_ttl_annotations(tmp_path: Path) -> None:
    """A TDT block and a Sirenia-style EDF written on clocks 60 ppm apart align through their files."""
    rng = np.random.default_rng(16)
    sync = np.cumsum(rng.uniform(2.0, 6.0, 120))  # TDT clock, ~8 min
    drift_ppm, offset_in_s = 60.0, 4.75  # EEG recording started 4.75 s after TDT
    on_eeg_clock = (sync - offset_in_s) / (1 + drift_ppm * 1e-6)
    on_eeg_clock = on_eeg_clock[on_eeg_clock > 0]
    duration = int(np.ceil(sync[-1])) + 2
    block = write_tdt_block(
        folder=tmp_path,
        block_name="Sync",
        start_time=datetime(2024, 1, 1, 12, tzinfo=timezone.utc),
        streams=[
            TdtStreamSource(
                code="465A",
                rate_in_Hz=PHOTOMETRY_RATE_IN_HZ,
                chunks=[np.zeros(int(duration * PHOTOMETRY_RATE_IN_HZ), np.float32)],
            )
        ],
        epocs=[TdtEpocSource(code="PtC0", onset_times_in_s=sync, offset_times_in_s=sync + 0.1)],
        show_progress=False,
    ).block_folder
    edf_path = tmp_path / "sirenia.edf"
    write_edf(
        path=edf_path,
        signals=[EdfSignalSource(label="EEG EEG1A-B", rate_in_Hz=256, chunks=[np.zeros(256 * duration)])],
        start_time=datetime(2024, 1, 1, 12, 0, 4),
        ttl_rise_times_in_s=on_eeg_clock,
        ttl_fall_times_in_s=on_eeg_clock + 0.1,
        show_progress=False,
    )
    tdt_ttl = TdtBlockReader(path=block).events()["PtC0"].onset_times_in_s
    edf_ttl = EdfReader(path=edf_path).events()["TTL"].onset_times_in_s
    result = fit_clock_alignment(
        primary_times_in_s=tdt_ttl,
        secondary_times_in_s=edf_ttl,
        primary_system="TDT",
        secondary_system="Sirenia",
        primary_ttl_channel="PtC0",
        secondary_ttl_channel="TTL",
        primary_path=block,
        secondary_path=edf_path,
    )
    assert result.number_of_matched_pulses == on_eeg_clock.size
    assert result.drift_ppm == pytest.approx(drift_ppm, abs=1.0)
    assert result.offset_in_s == pytest.approx(offset_in_s, abs=2e-4)
    assert result.residual_rms_in_s < 1e-4  # 100-us EDF+ annotation and 5-us TDT tick quantisation
