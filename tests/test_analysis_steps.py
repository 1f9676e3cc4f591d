"""Numerical steps of ndx_glymphatic.analysis on synthetic traces with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ndx_glymphatic.analysis import arousal, bouts, coupling, eeg, group, kinetics, oscillation, triggered
from ndx_glymphatic.analysis import preprocessing as pre
from ndx_glymphatic.analysis.params import AnalysisParams

RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------- preprocessing


@pytest.mark.parametrize("chunk", [100, 1700, 10_000_000])
def test_streamed_decimation_equals_moving_mean_then_keep_one_in_factor(chunk: int) -> None:
    raw = RNG.normal(size=20_037)
    raw[5000:5300] = np.nan
    decimated = pre.smooth_and_decimate(
        data=raw, rate_in_Hz=1000.0, decimation_factor=100, smoothing_window_samples=1000, chunk_samples=chunk
    )
    # reference: full-rate centred moving mean over [i - 500, i + 500), sampled at i = k * 100
    finite = np.isfinite(raw)
    csum = np.concatenate([[0.0], np.cumsum(np.where(finite, raw, 0.0))])
    ccount = np.concatenate([[0], np.cumsum(finite)])
    k = np.arange(decimated.values.size)
    low = np.clip(k * 100 - 500, 0, raw.size)
    high = np.clip(k * 100 + 500, 0, raw.size)
    expected = (csum[high] - csum[low]) / (ccount[high] - ccount[low])
    np.testing.assert_allclose(decimated.values, expected, rtol=1e-12, atol=1e-12)
    assert decimated.rate_in_Hz == pytest.approx(10.0)


def test_decimation_is_zero_phase_on_a_ramp() -> None:
    rate = 1017.25
    n = 200_000
    times = 5.0 + np.arange(n) / rate
    decimated = pre.smooth_and_decimate(data=times, rate_in_Hz=rate, starting_time=5.0)
    inner = slice(10, -10)
    np.testing.assert_allclose(decimated.values[inner], decimated.times[inner], atol=1e-9)


def test_decimation_for_rate_scales_far_rates_only() -> None:
    assert pre.decimation_for_rate(
        rate_in_Hz=1017.25, decimation_factor=100, smoothing_window_samples=1000, reference_rate_in_Hz=1017.25
    ) == (100, 1000)
    assert pre.decimation_for_rate(
        rate_in_Hz=101.7, decimation_factor=100, smoothing_window_samples=1000, reference_rate_in_Hz=1017.25
    ) == (10, 100)
    with pytest.raises(ValueError, match="multiple"):
        pre.decimation_for_rate(
            rate_in_Hz=1000, decimation_factor=100, smoothing_window_samples=1050, reference_rate_in_Hz=1000
        )


def test_ols_fit_recovers_the_line_and_irls_resists_outliers() -> None:
    control = 1.0 + 0.05 * RNG.normal(size=5000)
    signal = 2.5 * control + 0.3 + 0.002 * RNG.normal(size=5000)
    ols = pre.fit_control(signal=signal, control=control, method="ols")
    assert ols.slope == pytest.approx(2.5, rel=1e-3)
    assert ols.intercept == pytest.approx(0.3, abs=2e-3)
    corrupted = signal.copy()
    corrupted[:500] += 1.0  # a drug step / artefact on 10 % of samples
    ols_bad = pre.fit_control(signal=corrupted, control=control, method="ols")
    for norm in ("huber", "bisquare"):
        robust = pre.fit_control(signal=corrupted, control=control, method="irls", robust_norm=norm)
        assert abs(robust.intercept - 0.3) < abs(ols_bad.intercept - 0.3) / 3
    bisquare = pre.fit_control(signal=corrupted, control=control, method="irls", robust_norm="bisquare")
    assert bisquare.slope == pytest.approx(2.5, rel=0.02)


def test_full_rate_streamed_fit_equals_in_memory_fit() -> None:
    control = 1.0 + 0.05 * RNG.normal(size=30_001)
    signal = 1.7 * control - 0.2 + 0.01 * RNG.normal(size=control.size)
    signal[100:110] = np.nan
    for method in ("ols", "irls"):
        memory = pre.fit_control(signal=signal, control=control, method=method)
        streamed = pre.fit_control_full_rate(signal=signal, control=control, method=method, chunk_samples=4096)
        assert streamed.slope == pytest.approx(memory.slope, rel=1e-4)
        assert streamed.intercept == pytest.approx(memory.intercept, rel=1e-3, abs=1e-4)
    with pytest.raises(ValueError, match="constant"):
        pre.fit_control(signal=signal, control=np.ones_like(control), method="ols")


def test_delta_f_over_f_is_percent_of_the_fit() -> None:
    np.testing.assert_allclose(pre.delta_f_over_f(signal=np.array([1.1, 0.9]), fit=np.array([1.0, 1.0])), [10, -10])


def test_tracer_baseline_is_the_median_of_five_minutes_before_the_infusion() -> None:
    times = np.arange(0, 3600, 0.1)
    values = np.where(times < 600, 2.0, 3.0)
    values[times < 200] = 100.0  # outside the 5-min window: must not count
    dff, f0, note = pre.tracer_delta_f_over_f(times=times, values=values, infusion_start_in_s=600.0)
    assert f0 == 2.0 and note is None
    assert dff[-1] == pytest.approx(50.0)
    _, f0_missing, note = pre.tracer_delta_f_over_f(times=times, values=values, infusion_start_in_s=10.0)
    assert note is not None and "first 300 s" in note and f0_missing == 100.0


def test_control_free_dff_removes_bleaching() -> None:
    times = np.arange(0, 7200, 0.1)
    bleach = 0.5 * np.exp(-times / 1500.0) + 1.0
    values = bleach * (1.0 + 0.02 * np.sin(2 * np.pi * 0.02 * times))
    dff, _ = pre.control_free_delta_f_over_f(times=times, values=values, rate_in_Hz=10.0)
    assert abs(np.mean(dff[:3000]) - np.mean(dff[-3000:])) < 0.2
    assert np.percentile(dff, 95) - np.percentile(dff, 5) == pytest.approx(4.0, rel=0.1)


def test_fill_short_gaps_only_fills_short_inner_runs() -> None:
    values = np.array([np.nan, 1.0, np.nan, 3.0, np.nan, np.nan, np.nan, 7.0, np.nan])
    filled = pre.fill_short_gaps(values=values, max_gap_samples=1)
    np.testing.assert_allclose(filled[1:4], [1, 2, 3])
    assert np.isnan(filled[[0, 4, 5, 6, 8]]).all()


# ---------------------------------------------------------------- bouts


def _hypnogram(rows: list[tuple[float, float, str]]) -> bouts.Hypnogram:
    return bouts.Hypnogram.from_rows(
        starts=[r[0] for r in rows], stops=[r[1] for r in rows], states=[r[2] for r in rows]
    )


def test_micro_arousal_rule_is_a_parameter() -> None:
    hyp = _hypnogram(
        [
            (0, 100, "wake"),
            (100, 300, "NREM"),
            (300, 318, "wake"),  # 18 s: MA for Hauglund (20), wake for Kjaerby (15)
            (318, 500, "NREM"),
            (500, 510, "micro-arousal"),
            (510, 700, "NREM"),
            (700, 710, "wake"),  # 10 s but followed by REM: not flanked by NREM
            (710, 800, "REM"),
        ]
    )
    kjaerby = bouts.nrem_bouts(hypnogram=hyp, max_duration_in_s=15)
    np.testing.assert_allclose(np.c_[kjaerby.starts, kjaerby.stops], [[100, 300], [318, 700]])
    hauglund = bouts.nrem_bouts(hypnogram=hyp, max_duration_in_s=20)
    np.testing.assert_allclose(np.c_[hauglund.starts, hauglund.stops], [[100, 700]])
    split = bouts.nrem_bouts(hypnogram=hyp, max_duration_in_s=20, split_at_micro_arousals=True)
    assert len(split) == 3
    mas = bouts.micro_arousals(hypnogram=hyp, max_duration_in_s=12)
    np.testing.assert_allclose(mas.starts, [500])
    summary = bouts.state_summary(hypnogram=hyp, max_duration_in_s=20)
    assert summary["micro-arousal"]["n_bouts"] == 2
    assert summary["NREM"]["total_in_s"] == pytest.approx(200 + 182 + 190)
    assert summary["sleep"]["total_in_s"] == pytest.approx(572 + 28 + 90)


def test_bout_sample_ranges_split_at_nan_and_drop_short_pieces() -> None:
    values = np.ones(10_000)
    values[3000:3100] = np.nan
    ranges = bouts.bout_sample_ranges(
        bouts=bouts.Intervals(starts=np.array([100.0]), stops=np.array([500.0])),
        starting_time=0.0,
        rate_in_Hz=10.0,
        n_samples=values.size,
        values=values,
        min_duration_in_s=195.0,
    )
    assert ranges == [(1000, 3000)]  # the piece after the gap is 190 s


def test_states_at_labels_samples() -> None:
    hyp = _hypnogram([(0, 10, "wake"), (10, 20, "NREM")])
    assert list(bouts.states_at(times=np.array([-1, 0, 9.9, 10, 25]), hypnogram=hyp)) == [
        "unscored", "wake", "wake", "NREM", "unscored",
    ]


# ---------------------------------------------------------------- oscillation


def _quasi_periodic(*, frequency: float, n: int, rate: float, amplitude: float, noise: float) -> np.ndarray:
    t = np.arange(n) / rate
    return amplitude * np.sin(2 * np.pi * frequency * t) + noise * RNG.normal(size=n) + 0.001 * t


def test_infraslow_spectrum_finds_the_oscillation_frequency() -> None:
    rate = 10.0
    trace = _quasi_periodic(frequency=0.0213, n=36_000, rate=rate, amplitude=3.0, noise=1.0)
    ranges = [(0, 3000), (4000, 9000), (10_000, 12_000), (15_000, 36_000), (12_500, 13_500)]
    params = AnalysisParams().oscillation
    ranges_long = [r for r in ranges if (r[1] - r[0]) / rate >= params.min_bout_in_s]
    spectrum = oscillation.infraslow_spectrum(values=trace, rate_in_Hz=rate, bout_ranges=ranges_long)
    assert spectrum.n_bouts == 4
    assert spectrum.peak_frequency_in_Hz == pytest.approx(0.0213, abs=0.001)
    assert spectrum.frequencies_in_Hz[-1] == pytest.approx(0.1)
    below = spectrum.normalized_psd[(spectrum.frequencies_in_Hz > 0) & (spectrum.frequencies_in_Hz < 0.03)]
    assert np.percentile(below, 90) == pytest.approx(1.0)
    empty = oscillation.infraslow_spectrum(values=trace, rate_in_Hz=rate, bout_ranges=[])
    assert empty.n_bouts == 0 and np.isnan(empty.peak_frequency_in_Hz)


def test_peak_rate_and_amplitude() -> None:
    rate = 10.0
    t = np.arange(0, 600, 1 / rate)
    trace = 3.0 * np.sin(2 * np.pi * 0.025 * t)
    peaks = oscillation.oscillation_peaks(values=trace, rate_in_Hz=rate, bout_ranges=[(0, t.size)])
    assert peaks.n_peaks == 15
    assert peaks.rate_per_min == pytest.approx(1.5)
    small = oscillation.oscillation_peaks(values=0.2 * trace, rate_in_Hz=rate, bout_ranges=[(0, t.size)])
    assert small.n_peaks == 0  # prominence 1.2 < 1.5 % dF/F
    amplitude = oscillation.oscillation_amplitude(values=trace, bout_ranges=[(0, t.size)])
    assert amplitude[0] == pytest.approx(2 * 3.0 * np.sin(0.4 * np.pi), rel=0.01)


# ---------------------------------------------------------------- coupling


def test_cross_correlation_sign_convention_second_lags_first() -> None:
    rate = 10.0
    n = 20_000
    ne = np.convolve(RNG.normal(size=n + 200), np.hanning(101), mode="same")[100:-100]
    lag = 3.0
    shift = int(lag * rate)
    blood_volume = -np.concatenate([np.zeros(shift), ne[:-shift]]) + 0.1 * RNG.normal(size=n)
    result = coupling.bout_cross_correlation(
        first=ne, second=blood_volume, rate_in_Hz=rate, bout_ranges=[(1000, 5000), (6000, 12_000)], kind="min"
    )
    assert result.n_bouts == 2
    assert result.lag_in_s == pytest.approx(lag, abs=0.1)
    assert result.value < -0.8
    reverse = coupling.bout_cross_correlation(
        first=blood_volume, second=ne, rate_in_Hz=rate, bout_ranges=[(1000, 5000)], kind="min"
    )
    assert reverse.lag_in_s == pytest.approx(-lag, abs=0.1)


def test_unbiased_cross_correlation_matches_direct_sum() -> None:
    a, b = RNG.normal(size=50), RNG.normal(size=50)
    c = coupling.unbiased_cross_correlation(first=a, second=b, max_lag=5)
    for k in range(-5, 6):
        direct = np.mean(a[max(0, -k) : 50 - max(0, k)] * b[max(0, k) : 50 - max(0, -k)])
        assert c[k + 5] == pytest.approx(direct)


def test_phase_locking_detects_locking_and_its_absence() -> None:
    rate = 10.0
    t = np.arange(0, 3000, 1 / rate)
    phase = 2 * np.pi * 0.02 * t
    ne = np.cos(phase) + 0.2 * RNG.normal(size=t.size)
    offset = 3 * np.pi / 4
    sigma = 1.0 + 0.6 * np.cos(phase - offset) + 0.3 * RNG.random(size=t.size)
    ranges = [(0, 6000), (8000, 20_000), (21_000, 30_000)]
    locked = coupling.phase_locking(oscillation=ne, amplitude=sigma, rate_in_Hz=rate, bout_ranges=ranges,
                                    n_surrogates=200)
    assert locked.mean_vector_length > 0.2
    assert locked.p_value < 0.01
    assert np.angle(np.exp(1j * (locked.preferred_phase_rad - offset))) == pytest.approx(0.0, abs=0.2)
    unlocked = coupling.phase_locking(
        oscillation=ne, amplitude=1.0 + RNG.random(size=t.size), rate_in_Hz=rate, bout_ranges=ranges, n_surrogates=200
    )
    assert unlocked.p_value > 0.05
    assert unlocked.mean_vector_length < 0.05


# ---------------------------------------------------------------- EEG


def test_streamed_spectrogram_is_chunk_invariant_and_finds_the_tone() -> None:
    rate = 256.0
    t = np.arange(0, 600, 1 / rate)
    x = 1e-5 * np.sin(2 * np.pi * 10.0 * t) + 1e-6 * RNG.normal(size=t.size)
    whole = eeg.eeg_spectrogram(data=x, rate_in_Hz=rate, chunk_in_s=10_000)
    chunked = eeg.eeg_spectrogram(data=x, rate_in_Hz=rate, chunk_in_s=7)
    np.testing.assert_allclose(whole.power, chunked.power, rtol=1e-5)
    assert whole.frequencies_in_Hz[1] == pytest.approx(0.2)
    assert whole.frequencies_in_Hz[np.argmax(whole.power.mean(axis=0))] == pytest.approx(10.0)
    assert whole.times[0] == pytest.approx(2.5, abs=0.01)
    assert whole.step_in_s == pytest.approx(2.5)
    powers = eeg.band_powers(spectrogram=whole, bands={"sigma": (8, 15), "delta": (1, 4)})
    # a sine of amplitude A has power A^2 / 2
    assert np.median(powers["sigma"]) == pytest.approx(0.5e-10, rel=0.1)
    assert np.median(powers["delta"]) < 1e-12


def test_band_envelope_is_chunk_invariant() -> None:
    rate = 256.0
    x = RNG.normal(size=int(rate * 300))
    a = eeg.band_power_envelope(data=x, rate_in_Hz=rate, band_in_Hz=(8.0, 15.0), chunk_in_s=10_000)
    b = eeg.band_power_envelope(data=x, rate_in_Hz=rate, band_in_Hz=(8.0, 15.0), chunk_in_s=13)
    np.testing.assert_allclose(a.values[200:-200], b.values[200:-200], rtol=1e-6)
    assert a.rate_in_Hz == pytest.approx(32.0)


def test_spindles_are_found_where_inserted() -> None:
    rate = 256.0
    t = np.arange(0, 300, 1 / rate)
    x = 5e-6 * RNG.normal(size=t.size)
    onsets = np.arange(10.0, 290.0, 20.0)
    for onset in onsets:
        inside = (t >= onset) & (t < onset + 1.0)
        x[inside] += 4e-5 * np.sin(np.pi * (t[inside] - onset)) * np.sin(2 * np.pi * 12 * t[inside])
    envelope = eeg.band_power_envelope(data=x, rate_in_Hz=rate, band_in_Hz=(8.0, 15.0))
    found = eeg.detect_spindles(envelope=envelope, nrem_mask=np.ones(envelope.values.size, bool))
    score = arousal.score_events(detected_onsets=found.onsets, reference_onsets=onsets, tolerance_in_s=0.5)
    assert score.f1 == 1.0
    assert np.all((found.durations >= 0.5) & (found.durations <= 10))


# ---------------------------------------------------------------- arousal, triggered, kinetics


def test_micro_arousal_detection_and_scoring() -> None:
    rate = 10.0
    times = np.arange(0, 2000, 1 / rate)
    emg = np.ones(times.size) * (1 + 0.1 * RNG.random(times.size))
    truth = np.array([200.0, 420.0, 800.0, 1300.0])
    durations = np.array([5.0, 12.0, 3.0, 8.0])
    for onset, duration in zip(truth, durations):
        emg[(times >= onset) & (times < onset + duration)] = 9.0
    emg[(times >= 1600) & (times < 1660)] = 9.0  # a wake bout: too long to be a micro-arousal
    emg[(times >= 1800)] = 9.0  # wake after the NREM period
    series = pre.DecimatedSeries(values=emg, rate_in_Hz=rate, starting_time=0.0)
    nrem = bouts.Intervals(starts=np.array([0.0]), stops=np.array([1800.0]))
    found = arousal.detect_micro_arousals(emg_power=series, nrem_periods=nrem, max_duration_in_s=15.0)
    score = arousal.score_events(detected_onsets=found.onsets, reference_onsets=truth, tolerance_in_s=1.0)
    assert (score.true_positives, score.false_positives, score.false_negatives) == (4, 0, 0)
    np.testing.assert_allclose(found.durations, durations, atol=0.2)
    assert arousal.score_events(detected_onsets=[1.0, 50.0], reference_onsets=[1.5], tolerance_in_s=1).f1 == (
        pytest.approx(2 / 3)
    )


def test_isolated_events_selection() -> None:
    onsets = np.array([100.0, 130.0, 300.0, 500.0])
    durations = np.array([5.0, 5.0, 5.0, 12.0])
    np.testing.assert_allclose(arousal.isolated_events(onsets=onsets, durations=durations), [300.0])


def test_event_triggered_average_recovers_the_response() -> None:
    rate = 10.0
    t = np.arange(0, 1000, 1 / rate)
    values = 0.1 * RNG.normal(size=t.size)
    events = np.array([100.0, 300.0, 500.0, 990.0])
    for onset in events:
        values += 5.0 * ((t >= onset + 2) & (t < onset + 6))
    average = triggered.event_triggered_average(
        values=values, rate_in_Hz=rate, starting_time=0.0, event_times=events, window_in_s=(-30, 30)
    )
    assert average.n_events == 3 and average.n_excluded == 1
    assert average.window_change(baseline_in_s=(-10, 0), response_in_s=(2, 6)) == pytest.approx(5.0, abs=0.2)


def test_triggered_spectrogram_is_relative_to_baseline() -> None:
    times = np.arange(0, 500, 2.5)
    power = np.ones((times.size, 3), dtype=np.float32)
    power[(times >= 200) & (times < 210), 1] = 3.0
    spec = eeg.Spectrogram(times=times, frequencies_in_Hz=np.array([1.0, 2.0, 3.0]), power=power)
    out = triggered.triggered_spectrogram(spectrogram=spec, event_times=np.array([200.0]))
    assert out.n_events == 1
    assert out.relative_power_percent[out.lags_in_s == 0, 1][0] == pytest.approx(300.0)
    assert out.relative_power_percent[out.lags_in_s == 0, 0][0] == pytest.approx(100.0)


def test_tracer_kinetics_on_a_known_curve() -> None:
    t = np.arange(0, 10_000, 0.1)
    start = 1000.0
    rise = 600.0  # 10-90 % rise time of a logistic = 2 ln 9 / k
    k = 2 * np.log(9) / rise
    centre = start + 900.0
    curve = 100.0 / (1 + np.exp(-k * (t - centre)))
    peak_time = 4000.0
    curve = np.where(t > peak_time, curve[np.searchsorted(t, peak_time)] * np.exp(-(t - peak_time) / 3000), curve)
    result = kinetics.tracer_kinetics(times=t, dff=curve, infusion_start_in_s=start, smoothing_in_s=1.0)
    assert result.rise_time_in_s == pytest.approx(rise, rel=0.02)
    assert result.peak_time_in_s == pytest.approx(peak_time, abs=2)
    assert result.efflux_half_time_in_s == pytest.approx(3000 * np.log(2), rel=0.02)
    assert result.influx_slope_percent_per_min == pytest.approx(0.8 * result.peak_percent / 10.0, rel=0.03)
    assert result.efflux_slope_percent_per_min < 0
    flat = kinetics.tracer_kinetics(times=t, dff=np.zeros_like(t) - 1, infusion_start_in_s=start)
    assert np.isnan(flat.rise_time_in_s) and flat.notes


# ---------------------------------------------------------------- group


def test_paired_and_independent_comparisons() -> None:
    rows = []
    for subject in range(8):
        base = 0.02 + 0.002 * RNG.normal()
        rows.append({"subject": f"m{subject}", "condition": "vehicle", "f": base})
        rows.append({"subject": f"m{subject}", "condition": "zolpidem", "f": base * 0.5})
    paired = group.compare_conditions(rows=rows, metric="f", control="vehicle", treatment="zolpidem")
    assert paired is not None and paired.design == "paired" and paired.n_control == 8
    assert paired.difference < 0 and paired.ci_high < 0 and paired.p_value < 0.001
    assert paired.effect_size_name == "cohen_dz" and paired.effect_size < -2
    independent_rows = [dict(r, subject=f"{r['subject']}-{r['condition']}") for r in rows]
    independent = group.compare_conditions(
        rows=independent_rows, metric="f", control="vehicle", treatment="zolpidem"
    )
    assert independent is not None and independent.design == "independent"
    assert independent.test == "Welch t-test" and independent.effect_size < -2
    assert group.compare_conditions(rows=rows[:2], metric="f", control="vehicle", treatment="zolpidem") is None


def test_predictor_ranking() -> None:
    n = 20
    frequency = RNG.uniform(0.01, 0.03, n)
    nrem = RNG.uniform(1000, 3000, n)
    clearance = 1000 * frequency + 0.5 * RNG.normal(size=n)
    fits = group.rank_predictors(outcome=clearance, predictors={"nrem": nrem, "frequency": frequency})
    assert [f.predictor for f in fits] == ["frequency", "nrem"]
    assert fits[0].r_squared > 0.8 and fits[0].rank == 1


def test_flatten_metrics() -> None:
    flat = group.flatten_metrics(metrics={"a": {"b": 1.0, "c": [1, 2], "d": {"e": "x"}}, "f": True})
    assert flat == {"a.b": 1.0, "a.d.e": "x", "f": 1.0}

