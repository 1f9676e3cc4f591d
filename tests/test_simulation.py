"""The session simulator: determinism, chunking independence, honest ground truth, NWB output, CLI."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pynwb
import pytest
from click.testing import CliRunner
from nwbinspector import Importance, inspect_nwbfile
from pynwb import NWBHDF5IO
from scipy import ndimage, signal

from ndx_glymphatic.access import find_photometry_channel, get_hypnogram
from ndx_glymphatic.cli import main
from ndx_glymphatic.simulation import (
    BLOCK_SAMPLES,
    PHOTOMETRY_CHANNELS,
    STATE_CODES,
    GroundTruth,
    SimulationParameters,
    ephys_samples,
    iter_ephys_chunks,
    iter_photometry_chunks,
    photometry_samples,
    simulate_session,
)
from ndx_glymphatic.simulation.nwb import write_session_nwb

NREM, REM, MA = STATE_CODES["NREM"], STATE_CODES["REM"], STATE_CODES["micro-arousal"]


def _latents_session(**overrides):
    """A session whose latents we test (latents are cheap even for hours)."""
    values = {"duration_in_s": 6 * 3600.0, "seed": 3}
    values.update(overrides)
    return simulate_session(parameters=SimulationParameters(**values))


@pytest.fixture(scope="module")
def six_hours():
    return _latents_session()


@pytest.fixture(scope="module")
def short_session():
    """40 min at low rates: enough for high-rate checks, quick to stream."""
    return simulate_session(
        parameters=SimulationParameters(
            duration_in_s=2400.0, seed=5, photometry_rate_in_Hz=100.0, ephys_rate_in_Hz=128.0
        )
    )


def _sleep_bouts(session, *, min_in_s: float) -> list[tuple[int, int]]:
    """Latent-sample ranges of consolidated NREM (micro-arousals included) lasting at least ``min_in_s``."""
    asleep = np.isin(session.latents.sleep_state, (NREM, MA)).astype(np.int8)
    edges = np.diff(np.concatenate([[0], asleep, [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    fs = session.latents.rate_in_Hz
    return [(a, b) for a, b in zip(starts, stops) if (b - a) / fs >= min_in_s]


# ------------------------------------------------------------------------------------------ determinism


def test_same_seed_same_session_other_seed_other_session():
    parameters = SimulationParameters(duration_in_s=1800.0, seed=11)
    first, second = simulate_session(parameters=parameters), simulate_session(parameters=parameters)
    assert first.ground_truth.to_dict() == second.ground_truth.to_dict()
    np.testing.assert_array_equal(first.latents.ne_percent, second.latents.ne_percent)
    np.testing.assert_array_equal(
        photometry_samples(session=first, channel="ne_465nm", start=1000, stop=3000),
        photometry_samples(session=second, channel="ne_465nm", start=1000, stop=3000),
    )
    other = simulate_session(parameters=SimulationParameters(duration_in_s=1800.0, seed=12))
    assert not np.allclose(other.latents.ne_percent, first.latents.ne_percent)


def test_samples_do_not_depend_on_chunking(short_session):
    total = short_session.n_photometry_samples
    whole = photometry_samples(session=short_session, channel="ne_465nm", start=0, stop=total)
    assert whole.shape == (total,)
    for chunk_samples in (10_007, BLOCK_SAMPLES):
        chunks = list(iter_photometry_chunks(session=short_session, channel="ne_465nm", chunk_samples=chunk_samples))
        assert all(len(chunk) == chunk_samples for chunk in chunks[:-1])
        np.testing.assert_array_equal(np.concatenate(chunks), whole)
    np.testing.assert_array_equal(
        photometry_samples(session=short_session, channel="ne_465nm", start=70_001, stop=131_999),
        whole[70_001:131_999],
    )
    eeg = ephys_samples(session=short_session, series="EEG", start=0, stop=short_session.n_ephys_samples)
    assert eeg.shape == (short_session.n_ephys_samples, 2)
    pieces = list(iter_ephys_chunks(session=short_session, series="EEG", chunk_samples=7_777, start=5, stop=200_000))
    np.testing.assert_array_equal(np.concatenate(pieces), eeg[5:200_000])
    # Filtered noise is continuous across generation blocks: no step at a block edge.
    edge = BLOCK_SAMPLES
    step = np.abs(np.diff(eeg[edge - 200 : edge + 200, 0]))
    assert step[199] < 5 * np.median(step)


# ------------------------------------------------------------------------------------------ ground truth


@pytest.mark.parametrize("frequency_in_Hz", [0.02, 0.035])
def test_ne_spectrum_in_nrem_peaks_at_requested_frequency(frequency_in_Hz):
    session = _latents_session(ne_frequency_in_Hz=frequency_in_Hz)
    fs = session.latents.rate_in_Hz
    weighted, weights = 0.0, 0
    for a, b in _sleep_bouts(session, min_in_s=200.0):
        x = signal.detrend(session.latents.ne_percent[a:b])
        freqs, power = signal.periodogram(x, fs, window="hann", nfft=2**16)
        weighted, weights = weighted + power * (b - a), weights + (b - a)
    band = (freqs > 0.005) & (freqs < 0.1)
    peak = freqs[band][np.argmax((weighted / weights)[band])]
    assert abs(peak - frequency_in_Hz) <= 0.002
    assert session.ground_truth.ne_frequency_in_Hz == frequency_in_Hz


def _xcorr_extremum_lag(session, x, y, *, max_lag_in_s: float) -> tuple[float, float]:
    """Lag (s) and value of the minimum of corr(x(t), y(t + tau)) averaged over NREM bouts > 100 s."""
    fs = session.latents.rate_in_Hz
    lags = np.arange(-round(max_lag_in_s * fs), round(max_lag_in_s * fs) + 1)
    total, count = np.zeros(len(lags)), 0
    for a, b in _sleep_bouts(session, min_in_s=100.0):
        u, v = signal.detrend(x[a:b]), signal.detrend(y[a:b])
        u, v = (u - u.mean()) / u.std(), (v - v.mean()) / v.std()
        n = len(u)
        total += [np.mean(u[max(0, -k) : n - max(0, k)] * v[max(0, k) : n - max(0, -k)]) for k in lags]
        count += 1
    mean = total / count
    return lags[np.argmin(mean)] / fs, float(mean.min())


@pytest.mark.parametrize("lag_in_s", [3.0, 6.0])
def test_blood_volume_anticorrelated_with_ne_at_requested_lag(lag_in_s):
    session = _latents_session(duration_in_s=3 * 3600.0, ne_to_blood_volume_lag_in_s=lag_in_s)
    lag, value = _xcorr_extremum_lag(
        session, session.latents.ne_percent, session.latents.blood_volume_percent, max_lag_in_s=20.0
    )
    assert lag == pytest.approx(lag_in_s, abs=0.3)
    assert value < -0.8
    assert session.ground_truth.ne_to_blood_volume_lag_in_s == lag_in_s


def test_micro_arousals_fall_in_nrem_at_ne_peaks(six_hours):
    truth, latents = six_hours.ground_truth, six_hours.latents
    fs = latents.rate_in_Hz
    onsets = np.array(truth.micro_arousal_onsets_in_s)
    assert len(onsets) >= 10
    before = latents.sleep_state[np.round((onsets - 1.0) * fs).astype(int)]
    during = latents.sleep_state[np.round((onsets + 1.0) * fs).astype(int)]
    assert np.all(before == NREM) and np.all(during == MA)
    assert all(3.0 <= d <= 15.0 for d in truth.micro_arousal_durations_in_s)
    smooth = ndimage.uniform_filter1d(latents.ne_percent, size=round(2 * fs))
    peaks, _ = signal.find_peaks(smooth, distance=round(10 * fs), prominence=1.5)
    distance_to_peak = np.min(np.abs(peaks[None, :] / fs - onsets[:, None]), axis=1)
    assert np.max(distance_to_peak) <= 3.0
    # Hypnogram rows: micro-arousals are their own rows, flanked by NREM.
    states = [row.state for row in truth.sleep_states]
    for i, state in enumerate(states):
        if state == "micro-arousal":
            assert states[i - 1] == "NREM" and states[i + 1] == "NREM"


def test_hypnogram_has_light_phase_structure():
    truth = _latents_session(duration_in_s=24 * 3600.0, seed=7).ground_truth
    rows = truth.sleep_states
    assert rows[0].start_in_s == 0.0 and rows[-1].stop_in_s == truth.duration_in_s
    assert all(a.stop_in_s == b.start_in_s for a, b in itertools.pairwise(rows))
    fractions = truth.state_fractions
    assert 0.52 <= fractions["NREM"] + fractions["micro-arousal"] <= 0.68
    assert 0.04 <= fractions["REM"] <= 0.09
    macro = [row.state for row in rows if row.state != "micro-arousal"]
    assert all(macro[i - 1] == "NREM" for i, state in enumerate(macro) if state == "REM" and i > 0)
    # NREM bouts (merging across micro-arousals) last minutes.
    bouts, current = [], 0.0
    for row in rows:
        if row.state in ("NREM", "micro-arousal"):
            current += row.stop_in_s - row.start_in_s
        elif current:
            bouts.append(current)
            current = 0.0
    assert 150.0 <= np.mean(bouts) <= 500.0


def _oscillation_amplitude(session) -> float:
    """Median 90th-10th percentile of NE per NREM bout after the drug has taken effect."""
    fs = session.latents.rate_in_Hz
    start = round((session.parameters.drug_time_in_s + 900.0) * fs)
    values = [
        np.percentile(x, 90) - np.percentile(x, 10)
        for a, b in _sleep_bouts(session, min_in_s=150.0)
        if b - max(a, start) > 120 * fs
        for x in [session.latents.ne_percent[max(a, start) + round(30 * fs) : b]]
    ]
    return float(np.median(values))


def test_zolpidem_damps_oscillation_lengthens_nrem_and_reduces_influx():
    vehicle = _latents_session(duration_in_s=4 * 3600.0, seed=1)
    zolpidem = _latents_session(duration_in_s=4 * 3600.0, seed=1, condition="zolpidem")
    assert _oscillation_amplitude(zolpidem) < 0.75 * _oscillation_amplitude(vehicle)

    def asleep(session):
        return session.ground_truth.state_fractions["NREM"] + session.ground_truth.state_fractions["micro-arousal"]

    assert asleep(zolpidem) > asleep(vehicle) + 0.05
    ratio = zolpidem.ground_truth.tracer_peak_percent / vehicle.ground_truth.tracer_peak_percent
    assert ratio == pytest.approx(0.7, abs=0.02)
    assert zolpidem.ground_truth.drug["name"] == "zolpidem" and vehicle.ground_truth.drug["dose"] == 0.0


def _crossing_time(times, values, level):
    i = int(np.flatnonzero(values >= level)[0])
    return float(np.interp(level, values[i - 1 : i + 1], times[i - 1 : i + 1]))


@pytest.mark.parametrize("rise_time_in_s", [300.0, 900.0])
def test_tracer_rise_time_matches_ground_truth(rise_time_in_s):
    session = _latents_session(duration_in_s=2 * 3600.0, tracer_rise_time_in_s=rise_time_in_s)
    truth, latents = session.ground_truth, session.latents
    assert truth.tracer_rise_time_in_s == pytest.approx(rise_time_in_s)
    times, curve = latents.times_in_s, latents.tracer_curve_percent
    peak = curve.max()
    t10, t90 = _crossing_time(times, curve, 0.1 * peak), _crossing_time(times, curve, 0.9 * peak)
    assert t90 - t10 == pytest.approx(rise_time_in_s, abs=0.2)
    assert t10 == pytest.approx(truth.tracer_10_percent_time_in_s, abs=0.2)
    assert times[np.argmax(curve)] == pytest.approx(truth.tracer_peak_time_in_s, abs=0.2)
    assert np.all(curve[times < truth.infusion["start_in_s"]] == 0.0)
    # The recorded (oscillation-modulated) tracer gives the same rise time after smoothing.
    smooth = ndimage.uniform_filter1d(latents.csf_tracer_percent, size=round(100 * latents.rate_in_Hz))
    top = smooth.max()
    measured = _crossing_time(times, smooth, 0.9 * top) - _crossing_time(times, smooth, 0.1 * top)
    assert measured == pytest.approx(rise_time_in_s, rel=0.1)


def test_sigma_power_is_locked_to_ne_phase_with_known_offset(short_session):
    fs = short_session.parameters.ephys_rate_in_Hz
    eeg = ephys_samples(session=short_session, series="EEG", start=0, stop=short_session.n_ephys_samples)[:, 0]
    sos = signal.butter(4, [10.0, 15.0], btype="bandpass", fs=fs, output="sos")
    power = ndimage.uniform_filter1d(signal.sosfiltfilt(sos, eeg) ** 2, size=round(fs))
    latents = short_session.latents
    positions = np.arange(len(eeg)) * latents.rate_in_Hz / fs
    state = latents.sleep_state[np.minimum(positions.astype(int), len(latents.sleep_state) - 1)]
    phase = np.interp(positions, np.arange(len(latents.ne_phase_rad)), latents.ne_phase_rad)
    keep = state == NREM
    preferred = np.angle(np.sum(power[keep] * np.exp(1j * phase[keep])))
    offset = short_session.ground_truth.sigma_phase_offset_rad
    assert abs(np.angle(np.exp(1j * (preferred - offset)))) < 0.35
    assert short_session.ground_truth.sigma_peak_lag_after_ne_peak_in_s == pytest.approx(
        offset / (2 * math.pi * short_session.parameters.ne_frequency_in_Hz)
    )


def test_eeg_and_emg_follow_sleep_state(short_session):
    fs = short_session.parameters.ephys_rate_in_Hz
    n = short_session.n_ephys_samples
    eeg = ephys_samples(session=short_session, series="EEG", start=0, stop=n)[:, 0]
    emg = ephys_samples(session=short_session, series="EMG", start=0, stop=n)[:, 0]
    latents = short_session.latents
    state = latents.sleep_state[
        np.minimum((np.arange(n) * latents.rate_in_Hz / fs).astype(int), len(latents.sleep_state) - 1)
    ]

    def band_power(low, high, code):
        sos = signal.butter(4, [low, high], btype="bandpass", fs=fs, output="sos")
        return np.mean(signal.sosfiltfilt(sos, eeg)[state == code] ** 2)

    wake = STATE_CODES["wake"]
    assert band_power(1.0, 4.0, NREM) > 4 * band_power(1.0, 4.0, wake)
    assert band_power(5.0, 9.0, REM) > 4 * band_power(5.0, 9.0, NREM)
    emg_rms = {code: np.sqrt(np.mean(emg[state == code] ** 2)) for code in (wake, NREM, REM)}
    assert emg_rms[wake] > 2 * emg_rms[NREM] > 2 * emg_rms[REM]
    assert len(short_session.twitches) > 0 and len(short_session.spindles) > 0


def test_vasomotion_epoch_imposes_its_frequency_on_blood_volume(six_hours):
    (epoch,) = six_hours.ground_truth.vasomotion_stimulation
    fs = six_hours.latents.rate_in_Hz
    x = signal.detrend(
        six_hours.latents.blood_volume_percent[round(epoch.start_in_s * fs) : round(epoch.stop_in_s * fs)]
    )
    freqs, power = signal.periodogram(x, fs, window="hann", nfft=2**15)
    infraslow = (freqs > 0.01) & (freqs < 0.1)
    assert freqs[infraslow][np.argmax(power[infraslow])] == pytest.approx(epoch.pulse_frequency_in_Hz, abs=0.002)


def test_lc_trains_in_nrem_evoke_ne_vasoconstriction_and_csf_influx(six_hours):
    latents, truth = six_hours.latents, six_hours.ground_truth
    fs = latents.rate_in_Hz
    assert len(truth.lc_stimulation) == six_hours.parameters.lc_stimulation_count
    # The same session with the same trains but no evoked release isolates what the trains cause.
    unevoked = _latents_session(
        lc_stimulation_onsets_in_s=tuple(truth.lc_stimulation_onsets_in_s), lc_ne_response_percent=0.0
    )
    evoked_ne = latents.ne_percent - unevoked.latents.ne_percent
    evoked_bv = latents.blood_volume_percent - unevoked.latents.blood_volume_percent
    evoked_csf = latents.csf_tracer_percent - unevoked.latents.csf_tracer_percent
    lag = six_hours.parameters.ne_to_blood_volume_lag_in_s
    for epoch in truth.lc_stimulation:
        assert epoch.start_in_s > truth.tracer_90_percent_time_in_s
        i0, i1 = round(epoch.start_in_s * fs), round(epoch.stop_in_s * fs)
        assert np.all(latents.sleep_state[i0:i1] == NREM)
        window = slice(i0 - round(30 * fs), i1 + round(30 * fs))
        assert np.all(evoked_ne[: i0 - round(30 * fs)][-10:] == 0.0)
        peak = np.argmax(evoked_ne[window])
        assert evoked_ne[window][peak] == pytest.approx(six_hours.parameters.lc_ne_response_percent, rel=0.01)
        trough = np.argmin(evoked_bv[window])
        assert evoked_bv[window][trough] < -0.4 * six_hours.parameters.lc_ne_response_percent
        assert (trough - peak) / fs == pytest.approx(lag, abs=0.3)
        assert evoked_csf[window].max() > 0.01 * truth.tracer_peak_percent
        assert np.argmax(evoked_csf[window]) > peak


def test_isosbestic_shares_bleaching_and_motion_but_not_ne(short_session):
    fs = short_session.parameters.photometry_rate_in_Hz
    n = short_session.n_photometry_samples
    signal_465 = photometry_samples(session=short_session, channel="ne_465nm", start=0, stop=n)
    control_405 = photometry_samples(session=short_session, channel="ne_isosbestic_405nm", start=0, stop=n)
    decimate = round(fs / short_session.latents.rate_in_Hz)
    smooth_465 = ndimage.uniform_filter1d(signal_465, size=decimate)[::decimate]
    smooth_405 = ndimage.uniform_filter1d(control_405, size=decimate)[::decimate]
    length = min(len(smooth_465), len(short_session.latents.ne_percent))
    ne = short_session.latents.ne_percent[:length]
    # Dividing by the control removes bleaching and motion and leaves NE.
    ratio = smooth_465[:length] / smooth_405[:length]
    assert np.corrcoef(ratio, ne)[0, 1] > 0.95
    assert smooth_405[-100:].mean() < 0.95 * smooth_405[:100].mean()
    assert len(short_session.motion_artefacts) > 0
    # Within NREM (no motion), the control's fast fluctuations carry no NE while the signal's do.
    window = round(100 * short_session.latents.rate_in_Hz)
    nrem = short_session.latents.sleep_state[:length] == NREM

    def fast(x):
        return (x - ndimage.uniform_filter1d(x, size=window))[nrem]

    assert np.corrcoef(fast(smooth_465[:length]), fast(ne))[0, 1] > 0.9
    assert abs(np.corrcoef(fast(smooth_405[:length]), fast(ne))[0, 1]) < 0.1


def test_ground_truth_json_round_trip(tmp_path, six_hours):
    path = six_hours.ground_truth.write_json(path=tmp_path / "ground_truth.json")
    assert GroundTruth.read_json(path=path) == six_hours.ground_truth


def test_bad_requests_raise():
    with pytest.raises(ValueError, match="condition"):
        SimulationParameters(condition="caffeine")
    session = simulate_session(parameters=SimulationParameters(duration_in_s=900.0))
    with pytest.raises(ValueError, match="unknown photometry channel"):
        photometry_samples(session=session, channel="ne_470nm", start=0, stop=10)
    with pytest.raises(ValueError, match="start"):
        photometry_samples(session=session, channel="ne_465nm", start=10, stop=session.n_photometry_samples + 1)


# ------------------------------------------------------------------------------------------ NWB output


def test_nwb_file_round_trips_validates_and_is_inspector_clean(tmp_path):
    session = simulate_session(
        parameters=SimulationParameters(
            duration_in_s=1500.0, seed=4, photometry_rate_in_Hz=50.0, ephys_rate_in_Hz=128.0
        )
    )
    path = write_session_nwb(session=session, path=tmp_path / f"{session.session_id}.nwb")
    assert pynwb.validate(path=str(path)) == []
    messages = list(
        inspect_nwbfile(
            nwbfile_path=str(path), importance_threshold=Importance.BEST_PRACTICE_VIOLATION, skip_validate=True
        )
    )
    assert messages == [], [m.message for m in messages]
    truth = session.ground_truth
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        assert nwbfile.subject.species == "Mus musculus" and nwbfile.subject.age == "P90D"
        assert nwbfile.session_start_time.tzinfo is not None
        for spec in PHOTOMETRY_CHANNELS:
            series = nwbfile.acquisition[spec.name]
            assert series.rate == 50.0 and series.starting_time == 0.0 and series.timestamps is None
            np.testing.assert_array_equal(
                series.data[:],
                photometry_samples(
                    session=session, channel=spec.name, start=0, stop=session.n_photometry_samples
                ).astype(np.float32),
            )
        ne = find_photometry_channel(nwbfile=nwbfile, measured_quantity="norepinephrine", channel_role="signal")
        assert ne.series.name == "ne_465nm"
        control = find_photometry_channel(
            nwbfile=nwbfile, measured_quantity="norepinephrine", channel_role="isosbestic control"
        )
        assert ne.control_channel == control.row
        eeg = nwbfile.acquisition["EEG"]
        np.testing.assert_allclose(
            eeg.data[:2000] * eeg.conversion,
            ephys_samples(session=session, series="EEG", start=0, stop=2000),
            rtol=1e-6,
        )
        assert list(nwbfile.acquisition["EMG"].electrodes.table["location"][[2]]) == ["root"]
        assert nwbfile.acquisition["EMG"].electrodes[0]["group"].iloc[0].location == "neck muscle"
        hypnogram = get_hypnogram(nwbfile=nwbfile)
        assert list(hypnogram["sleep_state"][:]) == [row.state for row in truth.sleep_states]
        np.testing.assert_allclose(hypnogram["start_time"][:], [row.start_in_s for row in truth.sleep_states])
        infusion = nwbfile.intervals["tracer_infusions"]
        assert infusion["start_time"][0] == truth.infusion["start_in_s"]
        assert infusion["tracer"][0].name == "ovalbumin_AF647"
        lc = nwbfile.intervals["lc_optogenetic_stimulation"]
        np.testing.assert_allclose(lc["start_time"][:], truth.lc_stimulation_onsets_in_s)
        vasomotion = nwbfile.intervals["vasomotion_stimulation"]
        assert vasomotion["modulation_frequency_in_Hz"][0] == 0.03
        assert nwbfile.intervals["drug_administrations"]["drug"][0] == "saline"
        assert nwbfile.lab_meta_data["experimental_condition"].condition == "vehicle"


def test_cli_simulate_writes_nwb_and_ground_truth_and_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    arguments = ["simulate", str(tmp_path), "--duration-s", "900", "--seed", "2", "--condition", "zolpidem",
                 "--photometry-rate-hz", "40", "--ephys-rate-hz", "128", "--no-progress"]  # fmt: skip
    result = runner.invoke(main, arguments)
    assert result.exit_code == 0, result.output
    truth = GroundTruth.read_json(path=tmp_path / "ground_truth.json")
    assert truth.condition == "zolpidem" and truth.seed == 2
    assert (tmp_path / f"{truth.session_id}.nwb").is_file()
    again = runner.invoke(main, arguments)
    assert again.exit_code == 2 and "pass --overwrite" in again.output and "Traceback" not in again.output
    bad = runner.invoke(main, ["simulate", str(tmp_path / "bad"), "--duration-s", "60", "--no-progress"])
    assert bad.exit_code == 2 and "duration_in_s" in bad.output
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_every_epoch_of_a_short_session_lies_inside_it() -> None:
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session

    for duration_in_s in (600.0, 900.0):
        truth = simulate_session(parameters=SimulationParameters(duration_in_s=duration_in_s, seed=3)).ground_truth
        for epoch in [*truth.vasomotion_stimulation, *truth.lc_stimulation]:
            assert 0.0 <= epoch.start_in_s < epoch.stop_in_s <= duration_in_s, (duration_in_s, epoch)


def test_a_vasomotion_epoch_past_the_end_is_refused() -> None:
    from ndx_glymphatic.simulation import SimulationParameters

    with pytest.raises(ValueError, match="vasomotion epoch"):
        SimulationParameters(duration_in_s=900.0, vasomotion_start_in_s=800.0)
