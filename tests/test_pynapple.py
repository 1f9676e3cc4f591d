"""to_pynapple on a raw and a derived file, pynapple's own load_file on the derived file, the docs example.

Needs pynapple (`pip install ".[test,pynapple]"`); without it every test here skips, saying so.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from derived_session import AnalysedSession, analysed_session
from pynwb import NWBHDF5IO

from ndx_glymphatic.access import photometry_channels, to_pynapple

if os.environ.get("GLYMPH_REQUIRE_PYNAPPLE"):  # CI's ecosystem environment: never skip there
    import pynapple as nap
else:
    nap = pytest.importorskip("pynapple", reason="pynapple is not installed: pip install '.[test,pynapple]'")

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "ecosystem.md"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> AnalysedSession:
    return analysed_session(folder=tmp_path_factory.mktemp("pynapple"))


def test_raw_file_sleep_states_photometry_and_ttl(session: AnalysedSession) -> None:
    with NWBHDF5IO(str(session.raw_path), "r", load_namespaces=True) as io:
        nwbfile = io.read()
        result = to_pynapple(nwbfile=nwbfile)
        hypnogram = nwbfile.intervals["sleep_states"].to_dataframe()
        assert set(result.sleep_states) == set(hypnogram.sleep_state)
        for state, intervals in result.sleep_states.items():
            assert isinstance(intervals, nap.IntervalSet)
            rows = hypnogram[hypnogram.sleep_state == state]
            assert intervals.tot_length() == pytest.approx(float((rows.stop_time - rows.start_time).sum()))
        assert {"norepinephrine", "cerebral blood volume", "CSF tracer"} <= set(result.photometry)
        assert any("control" in key for key in result.photometry)
        for channel in photometry_channels(nwbfile=nwbfile):
            key = (
                channel.measured_quantity
                if channel.channel_role == "signal"
                else (f"{channel.measured_quantity} ({channel.channel_role})")
            )
            tsd = result.photometry[key]
            assert isinstance(tsd, nap.Tsd)
            series = channel.series
            assert len(tsd) == series.data.shape[0]
            np.testing.assert_allclose(tsd.values[:100], series.data[:100] * series.conversion, rtol=1e-6)
            assert tsd.times()[1] - tsd.times()[0] == pytest.approx(1.0 / series.rate)
        ttl = {name: table for name, table in nwbfile.events.items() if name.startswith("ttl_")}
        assert ttl and set(result.ttl_events) == set(ttl)
        for name, times in result.ttl_events.items():
            assert isinstance(times, nap.Ts)
            np.testing.assert_allclose(times.times(), ttl[name]["timestamp"][:])
        assert result.dff == {} and result.intervals == {}


def test_derived_file_dff_bouts_and_events(session: AnalysedSession) -> None:
    analysis = session.analysis
    with NWBHDF5IO(str(session.derived_path), "r", load_namespaces=True) as io:
        result = to_pynapple(nwbfile=io.read())
    assert result.photometry == {}  # no acquired data in a derived file
    assert set(result.dff) == {"ne_465nm_dff", "blood_volume_560nm_dff", "csf_tracer_635nm_dff"}
    dff = result.dff["ne_465nm_dff"]
    assert isinstance(dff, nap.Tsd)
    np.testing.assert_allclose(dff.values, analysis.traces["ne_dff"], rtol=1e-6)
    np.testing.assert_allclose(dff.times(), analysis.times, atol=1e-6)
    bouts = result.intervals["nrem_bouts"]
    assert isinstance(bouts, nap.IntervalSet)
    np.testing.assert_allclose(bouts.start, analysis.curve("nrem_bouts").starts)
    peaks = result.events["ne_peaks"]
    assert isinstance(peaks, nap.Ts) and len(peaks) == analysis.curve("ne_peaks").n_peaks
    assert set(result.sleep_states) >= {"NREM", "wake"}  # the hypnogram is copied with the metadata


def test_pynapple_load_file_reads_the_derived_file(session: AnalysedSession) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = nap.load_file(str(session.derived_path))
        dff = data["ne_465nm_dff"]
        bouts = data["nrem_bouts"]
    assert isinstance(dff, nap.Tsd) and isinstance(bouts, nap.IntervalSet)
    np.testing.assert_allclose(dff.values, session.analysis.traces["ne_dff"], rtol=1e-6)
    np.testing.assert_allclose(bouts.end, session.analysis.curve("nrem_bouts").stops)


def test_docs_pynapple_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    page = DOCS_PAGE.read_text()
    (code,) = re.findall(r"<!-- pynapple-example -->\n```python\n(.*?)```\n<!-- /pynapple-example -->", page, re.S)
    exec(compile(code, str(DOCS_PAGE), "exec"), {"__name__": "__docs__"})
    printed = capsys.readouterr().out
    assert "min of NREM" in printed and "NE peaks" in printed
