"""Each step of the exact ``kjaerby2022`` preset against values derived by hand from MATLAB's published definitions.

The expected numbers come from the definitions (MATLAB documentation of pwelch, prctile, findpeaks,
std) worked out on small inputs, or from an independent implementation (scipy.signal.welch with the
segmentation MATLAB documents), never from this package's own output.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps

from ndx_glymphatic.analysis.coupling import bout_cross_correlation
from ndx_glymphatic.analysis.matlab_compat import (
    matlab_findpeaks,
    matlab_prctile,
    matlab_pwelch_default,
    pwelch_default_segmentation,
    zscore,
)
from ndx_glymphatic.analysis.oscillation import infraslow_spectrum, oscillation_amplitude, oscillation_peaks
from ndx_glymphatic.analysis.params import AnalysisParams

RATE_IN_Hz = 10.0
GRID = np.arange(0.0, 0.1 + 0.00025, 0.0005)


def test_pwelch_default_segmentation_is_matlabs() -> None:
    # L = fix(N / 4.5), noverlap = fix(L / 2), K = fix((N - noverlap) / (L - noverlap))
    assert pwelch_default_segmentation(n_samples=4500) == (1000, 500, 8)
    assert pwelch_default_segmentation(n_samples=6000) == (1333, 666, 7)  # 5334 / 667 = 7.997 -> 7
    assert pwelch_default_segmentation(n_samples=1200) == (266, 133, 8)


def test_pwelch_matches_scipy_welch_with_matlabs_segments() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(4500)
    # scipy with MATLAB's window, overlap, no detrend, two-sided density; nfft = fs / 0.0005 puts bins on the grid
    _, reference = sps.welch(
        x,
        fs=RATE_IN_Hz,
        window=np.hamming(1000),
        noverlap=500,
        nfft=20000,
        detrend=False,
        return_onesided=False,
        scaling="density",
    )
    expected = reference[np.rint(GRID / 0.0005).astype(int)]
    ours = matlab_pwelch_default(values=x, rate_in_Hz=RATE_IN_Hz, frequencies_in_Hz=GRID)
    np.testing.assert_allclose(ours, expected, rtol=1e-9)


def test_sinusoid_in_bouts_peaks_at_its_grid_point_with_the_exact_preset() -> None:
    t = np.arange(0, 2000, 1 / RATE_IN_Hz)
    x = 3.0 * np.sin(2 * np.pi * 0.0215 * t) + 0.01 * t  # a drift the per-bout polynomial removes
    bouts = [(0, 6000), (9000, 20000)]
    osc = AnalysisParams.from_mapping(mapping={"preset": "kjaerby2022"}).oscillation
    spectrum = infraslow_spectrum(
        values=x,
        rate_in_Hz=RATE_IN_Hz,
        bout_ranges=bouts,
        already_highpassed=True,
        psd_method=osc.psd_method,
        peak_pick=osc.peak_pick,
    )
    # the grid point itself (grid maximum, no interpolation between points)
    assert spectrum.peak_frequency_in_Hz == pytest.approx(0.0215, abs=1e-12)
    # bout-duration-weighted mean of the two bouts' spectra
    single = [
        infraslow_spectrum(
            values=x,
            rate_in_Hz=RATE_IN_Hz,
            bout_ranges=[b],
            already_highpassed=True,
            psd_method="matlab_pwelch_default",
            peak_pick="grid_maximum",
        ).psd
        for b in bouts
    ]
    np.testing.assert_allclose(spectrum.psd, (600 * single[0] + 1100 * single[1]) / 1700, rtol=1e-12)


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4, 5], 90, 5.0),  # sorted values sit at 10, 30, 50, 70, 90
        ([1, 2, 3, 4, 5], 95, 5.0),  # beyond the last position: the maximum
        ([1, 2, 3, 4, 5], 5, 1.0),
        ([1, 2, 3, 4, 5], 25, 1.75),  # between 10 (1) and 30 (2): 1 + 15 / 20
        ([10, 0, 20, 30], 10, 0.0),  # n = 4: positions 12.5, 37.5, ...; 10 < 12.5 -> minimum
        ([10, 0, 20, 30], 90, 30.0),
    ],
)
def test_matlab_prctile(values: list[float], p: float, expected: float) -> None:
    assert float(matlab_prctile(values=np.asarray(values, float), percentiles=p)) == pytest.approx(expected)


def test_amplitude_with_matlab_prctile_differs_from_numpy_as_the_definitions_say() -> None:
    x = np.arange(1.0, 11.0)  # 1..10
    # MATLAB: positions 5, 15, ..., 95 -> p10 = 1.5, p90 = 9.5; numpy linear: p10 = 1.9, p90 = 9.1
    matlab = oscillation_amplitude(values=x, bout_ranges=[(0, 10)], definition="matlab_prctile")
    numpy = oscillation_amplitude(values=x, bout_ranges=[(0, 10)], definition="linear")
    assert matlab[0] == pytest.approx(8.0) and numpy[0] == pytest.approx(7.2)


def test_findpeaks_applies_prominence_before_distance() -> None:
    # 1 Hz samples, distance 10 s, prominence 1.5. B (index 10, height 5, prominence 5);
    # S (index 18, height 6) rises out of B's valley onto the flank of C (index 30, height 8):
    # S's prominence = 6 - max(min left = 0, min right to C = 5.5) = 0.5.
    y = np.zeros(41)
    y[10] = 5.0
    y[18], y[19], y[20] = 6.0, 5.5, 5.6
    y[21:30] = np.linspace(5.7, 7.9, 9)
    y[30] = 8.0
    # MATLAB: prominence drops S, then B and C are 20 s apart -> both kept
    assert matlab_findpeaks(values=y, rate_in_Hz=1.0, min_distance_in_s=10, min_prominence=1.5).tolist() == [10, 30]
    # scipy order: S (taller) removes B within 10 s first, then prominence removes S -> only C
    assert sps.find_peaks(y, distance=10, prominence=1.5)[0].tolist() == [30]
    result = oscillation_peaks(
        values=y, rate_in_Hz=1.0, bout_ranges=[(0, 41)], min_distance_in_s=10, filter_order="prominence_then_distance"
    )
    assert result.peak_indices.tolist() == [10, 30]


def test_findpeaks_plateau_counts_once_at_its_first_sample_and_within_distance_is_inclusive() -> None:
    y = np.array([0, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0], float)  # plateau at 1-3, peak at 13
    assert matlab_findpeaks(values=y, rate_in_Hz=1.0, min_distance_in_s=0, min_prominence=1).tolist() == [1, 13]
    # 13 - 1 = 12 s apart: kept with d = 11.9, the lower one dropped with d = 12 (<= d is "too close")
    assert matlab_findpeaks(values=y, rate_in_Hz=1.0, min_distance_in_s=11.9, min_prominence=1).tolist() == [1, 13]
    assert matlab_findpeaks(values=y, rate_in_Hz=1.0, min_distance_in_s=12, min_prominence=1).tolist() == [1]


def test_a_junction_peak_appears_only_when_bouts_are_stitched() -> None:
    # bout 1 ramps up 0 -> 5 and ends; bout 2 starts at 0 and ramps up to 5 and stays: joined end to end,
    # the last sample of bout 1 is a local maximum of prominence 5; inside either bout there is none.
    ramp = np.linspace(0.0, 5.0, 50)
    y = np.concatenate([ramp, np.full(20, np.nan), ramp, np.full(10, 5.0)])
    bouts = [(0, 50), (70, 130)]
    per_bout = oscillation_peaks(values=y, rate_in_Hz=1.0, bout_ranges=bouts, search="per_bout")
    stitched = oscillation_peaks(
        values=y, rate_in_Hz=1.0, bout_ranges=bouts, search="stitched_bouts", filter_order="prominence_then_distance"
    )
    assert per_bout.n_peaks == 0
    assert stitched.peak_indices.tolist() == [49]
    assert stitched.rate_per_min == pytest.approx(1 / (110 / 60))


def test_zscore_uses_n_minus_1() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])  # mean 2.5, sum of squares 5: sd(N-1) = sqrt(5/3), sd(N) = sqrt(5/4)
    np.testing.assert_allclose(zscore(values=x, ddof=1), (x - 2.5) / np.sqrt(5 / 3))
    np.testing.assert_allclose(zscore(values=x, ddof=0), (x - 2.5) / np.sqrt(5 / 4))


def test_unbiased_xcorr_of_n_minus_1_zscores_at_zero_lag_is_n_minus_1_over_n() -> None:
    # xcorr(unity(detrend(x)), unity(detrend(x)), 'unbiased') at lag 0 = sum(z^2) / N = (N - 1) / N
    rng = np.random.default_rng(3)
    x = rng.standard_normal(200)
    result = bout_cross_correlation(
        first=x,
        second=x,
        rate_in_Hz=1.0,
        bout_ranges=[(0, 200)],
        max_lag_in_s=150,
        zscore_ddof=1,
        short_bouts="keep_longer_than_max_lag",
        kind="max",
        interpolation="grid_sample",
    )
    assert result.n_bouts == 1  # 200 samples <= 2 x 150: only kept under the MATLAB rule
    assert result.value == pytest.approx(199 / 200) and result.lag_in_s == 0.0


def test_the_full_window_extremum_can_be_a_period_away() -> None:
    # a 50-s oscillation copied with a 5-s lag, the copy growing through the bout: at lag +55 s the
    # late (strong) part of the copy meets the oscillation, so that side of the correlogram is higher
    # than +5 s. "full" (the authors' max over +-60 s) reports +55 s; half a period around 0 keeps +5 s.
    t = np.arange(0, 400, 1.0)
    first = np.cos(2 * np.pi * t / 50)
    envelope = np.clip((t - 100) / 200, 0.05, 1.0)
    second = np.cos(2 * np.pi * (t - 5) / 50) * envelope
    common = {
        "first": first,
        "second": second,
        "rate_in_Hz": 1.0,
        "bout_ranges": [(0, 400)],
        "max_lag_in_s": 60,
        "kind": "max",
        "short_bouts": "keep_longer_than_max_lag",
    }
    near = bout_cross_correlation(**common, max_abs_lag_in_s=25.0)
    full = bout_cross_correlation(**common, max_abs_lag_in_s=None)
    assert near.lag_in_s == pytest.approx(5.0, abs=0.6)
    assert full.lag_in_s == pytest.approx(55.0, abs=0.6)
