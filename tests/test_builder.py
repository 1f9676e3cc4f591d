"""The one NWB builder: the simulator's file and the converted rig files of the same session have the same
layout; streamed and in-memory writes give the same file; every mock comes out of it valid."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pynwb
import pytest
import yaml

from ndx_glymphatic import (
    ClockAlignment,
    ClockAlignmentTable,
    DrugAdministrationsTable,
    ExperimentalCondition,
    FiberPhotometryChannelsTable,
    FluorescentTracer,
    Hypnogram,
    TracerInfusionsTable,
    VasomotionStimulationEpochsTable,
)
from ndx_glymphatic.builder import CompressionSettings, SeriesSource, SessionSources, build_nwbfile, write_nwbfile
from ndx_glymphatic.converters.convert import convert_session
from ndx_glymphatic.errors import GlymphError
from ndx_glymphatic.simulation import SimulatedSession, SimulationParameters, session_writers, simulate_session
from ndx_glymphatic.testing import mock

PARAMETERS = SimulationParameters(
    duration_in_s=600.0, seed=3, ephys_rate_in_Hz=128.0,
    lc_stimulation_onsets_in_s=(200.0, 450.0), vasomotion_start_in_s=250.0, vasomotion_duration_in_s=200.0,
)


def _layout(path: Path) -> set[tuple[str, str]]:
    """Every (HDF5 path, neurodata_type) of a file, besides the cached specifications."""
    found: set[tuple[str, str]] = set()
    with h5py.File(path, "r") as file:
        file.visititems(lambda name, obj: found.add((name, str(obj.attrs.get("neurodata_type", "")))))
    return {(name, kind) for name, kind in found if not name.startswith("specifications")}


def _renamed(layout: set[tuple[str, str]], *, old: str, new: str) -> set[tuple[str, str]]:
    return {(name.replace(f"events/{old}", f"events/{new}", 1), kind) for name, kind in layout}


@pytest.fixture(scope="module")
def simulated() -> SimulatedSession:
    return simulate_session(parameters=PARAMETERS)


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory, simulated: SimulatedSession) -> Path:
    """``glymph simulate --format nwb``: the simulator's own NWB file."""
    folder = tmp_path_factory.mktemp("direct")
    (path,) = session_writers()["nwb"](session=simulated, outdir=folder, overwrite=False, show_progress=False)
    return path


def _simulate_and_convert(*, simulated: SimulatedSession, folder: Path, rig_format: str) -> tuple[Path, dict]:
    """``glymph simulate --format <rig_format>`` then ``glymph convert``."""
    session_writers()[rig_format](session=simulated, outdir=folder, overwrite=False, show_progress=False)
    converted = convert_session(session_path=folder / "session.yaml", output_path=folder / "converted.nwb",
                                progress=False)
    return converted.output_path, yaml.safe_load((folder / "session.yaml").read_text())


def test_the_simulator_and_the_converted_tdt_files_have_one_layout(
    simulated: SimulatedSession, direct: Path, tmp_path: Path
) -> None:
    converted, _ = _simulate_and_convert(simulated=simulated, folder=tmp_path, rig_format="tdt")
    direct_layout, converted_layout = _layout(direct), _layout(converted)
    assert direct_layout == converted_layout
    models = {name for name, _ in direct_layout if name.startswith("general/devices/models/")}
    assert "general/devices/models/led_465nm_model" in models and "general/devices/models/laser_473nm_model" in models
    assert {("events/ttl_PtC0", "EventsTable"), ("events/ttl_Pu1", "EventsTable")} <= direct_layout
    with pynwb.NWBHDF5IO(str(direct), "r") as direct_io, pynwb.NWBHDF5IO(str(converted), "r") as converted_io:
        ours, theirs = direct_io.read(), converted_io.read()
        assert {model.model_number for model in ours.device_models.values()} == {
            model.model_number for model in theirs.device_models.values()}
        for name in ("ne_465nm", "ne_isosbestic_405nm", "blood_volume_560nm", "csf_tracer_650nm"):
            # TDT stores float32 samples in packets of 256: the converted photometry is the simulator's, sample
            # for sample, up to the last whole packet
            simulated_data, converted_data = ours.acquisition[name].data[:], theirs.acquisition[name].data[:]
            assert 0 <= len(simulated_data) - len(converted_data) < 256
            np.testing.assert_array_equal(simulated_data[: len(converted_data)], converted_data)
            assert ours.acquisition[name].rate == PARAMETERS.photometry_rate_in_Hz
            assert theirs.acquisition[name].rate == pytest.approx(PARAMETERS.photometry_rate_in_Hz)
        for column in ("measured_quantity", "channel_role", "control_channel", "stream_name"):
            assert list(ours.lab_meta_data["fiber_photometry"].fiber_photometry_table[column][:]) == list(
                theirs.lab_meta_data["fiber_photometry"].fiber_photometry_table[column][:])
        # TDT quantises epoc times to its clock ticks
        np.testing.assert_allclose(ours.events["ttl_PtC0"]["timestamp"][:], theirs.events["ttl_PtC0"]["timestamp"][:],
                                   atol=1e-4)
        np.testing.assert_allclose(ours.intervals["lc_optogenetic_stimulation"]["start_time"][:],
                                   theirs.intervals["lc_optogenetic_stimulation"]["start_time"][:], atol=1e-4)
        # the simulator's EEG/EMG share the photometry clock: its alignment is the identity, exactly
        alignment = ours.lab_meta_data["clock_alignment"].clock_alignment_table
        assert (alignment["slope"][0], alignment["offset_in_s"][0]) == (1.0, 0.0)
        assert (ours.acquisition["EEG"].rate, ours.acquisition["EEG"].starting_time) == (128.0, 0.0)
        assert theirs.acquisition["EEG"].starting_time == pytest.approx(2.5, abs=1e-3)  # the rig's EEG system


def test_the_simulator_and_the_converted_doric_files_have_one_layout(
    simulated: SimulatedSession, direct: Path, tmp_path: Path
) -> None:
    converted, session = _simulate_and_convert(simulated=simulated, folder=tmp_path, rig_format="doric")
    sync = session["electrophysiology"]["clock_alignment"]["primary_ttl_channel"]
    direct_layout = {(name, kind) for name, kind in _layout(direct) if not name.startswith("events/ttl_Pu1")}
    # Doric records no laser TTL (its LC epochs are listed in the session file) and names its sync line DIO01
    assert _renamed(_layout(converted), old=f"ttl_{sync}", new="ttl_PtC0") == direct_layout
    with pynwb.NWBHDF5IO(str(direct), "r") as direct_io, pynwb.NWBHDF5IO(str(converted), "r") as converted_io:
        ours, theirs = direct_io.read(), converted_io.read()
        assert sorted(ours.device_models) == sorted(theirs.device_models)
        for name in ("ne_465nm", "csf_tracer_650nm"):
            np.testing.assert_array_equal(ours.acquisition[name].data[:], theirs.acquisition[name].data[:])
        # Doric samples its digital line at the photometry rate
        np.testing.assert_allclose(theirs.events[f"ttl_{sync}"]["timestamp"][:],
                                   ours.events["ttl_PtC0"]["timestamp"][:], atol=1.1 / PARAMETERS.photometry_rate_in_Hz)


def _blocks_of(data: np.ndarray, sizes: tuple[int, ...]) -> SeriesSource:
    """A series streaming ``data`` in blocks of uneven sizes."""

    def iter_blocks():
        start = 0
        for size in sizes:
            yield data[start : start + size]
            start += size
        yield data[start:]

    return SeriesSource(name="ne_465nm", kind="photometry", n_samples=len(data), n_columns=1, rate_in_Hz=20.0,
                        starting_time_in_s=0.0, unit="V", iter_blocks=iter_blocks)


@pytest.mark.parametrize("settings", [
    CompressionSettings(chunk_bytes=4096, n_threads=2),
    CompressionSettings(chunk_bytes=4096, n_threads=1),
    CompressionSettings(method="lzf", chunk_bytes=4096),
    CompressionSettings(method="none", chunk_bytes=4096),
], ids=["gzip-threads", "gzip", "lzf", "none"])
def test_streamed_write_equals_the_in_memory_file(tmp_path: Path, settings: CompressionSettings) -> None:
    session = mock.mock_session_config()
    sources = mock.mock_session_sources(session=session, duration_in_s=300.0)
    ne = next(series for series in sources.series if series.name == "ne_465nm")
    values = np.concatenate(list(ne.iter_blocks()))
    streamed = SessionSources(
        series=(_blocks_of(values, (1, 1000, 3333)), *(s for s in sources.series if s.name != "ne_465nm")),
        events=sources.events, sleep_states=sources.sleep_states, lc_stimulation=sources.lc_stimulation,
        vasomotion_stimulation=sources.vasomotion_stimulation, clock_alignment=sources.clock_alignment,
    )
    write_nwbfile(session=session, sources=streamed, path=tmp_path / "streamed.nwb", settings=settings,
                  progress=False)
    with pynwb.NWBHDF5IO(str(tmp_path / "in_memory.nwb"), "w") as io:
        io.write(build_nwbfile(session=session, sources=sources, in_memory=True))
    assert _layout(tmp_path / "streamed.nwb") == _layout(tmp_path / "in_memory.nwb")
    assert pynwb.validate(path=str(tmp_path / "streamed.nwb")) == []
    with h5py.File(tmp_path / "streamed.nwb", "r") as file, h5py.File(tmp_path / "in_memory.nwb", "r") as memory:
        dataset = file["acquisition/ne_465nm/data"]
        assert dataset.chunks == (1024,)
        assert dataset.compression == (None if settings.method == "none" else settings.method)
        np.testing.assert_array_equal(dataset[:], values.astype(np.float32))
        for name in ("EEG", "EMG", "csf_tracer_635nm"):
            np.testing.assert_array_equal(file[f"acquisition/{name}/data"][:], memory[f"acquisition/{name}/data"][:])


def test_a_series_shorter_than_announced_is_refused(tmp_path: Path) -> None:
    session = mock.mock_session_config()
    sources = mock.mock_session_sources(session=session, duration_in_s=60.0)
    short = SeriesSource(name="ne_465nm", kind="photometry", n_samples=1200, n_columns=1, rate_in_Hz=20.0,
                         starting_time_in_s=0.0, unit="V", iter_blocks=lambda: iter([np.ones(1000)]))
    series = (short, *(s for s in sources.series if s.name != "ne_465nm"))
    with pytest.raises(GlymphError, match="wrote 1000 rows"):
        write_nwbfile(session=session, sources=SessionSources(series=series), path=tmp_path / "short.nwb",
                      progress=False)


def test_every_per_type_mock_is_its_type() -> None:
    for factory, kind in ((mock.mock_FluorescentTracer, FluorescentTracer),
                          (mock.mock_FiberPhotometryChannelsTable, FiberPhotometryChannelsTable),
                          (mock.mock_TracerInfusionsTable, TracerInfusionsTable),
                          (mock.mock_DrugAdministrationsTable, DrugAdministrationsTable),
                          (mock.mock_ExperimentalCondition, ExperimentalCondition),
                          (mock.mock_Hypnogram, Hypnogram),
                          (mock.mock_ClockAlignmentTable, ClockAlignmentTable),
                          (mock.mock_ClockAlignment, ClockAlignment),
                          (mock.mock_VasomotionStimulationEpochsTable, VasomotionStimulationEpochsTable)):
        assert isinstance(factory(), kind), factory.__name__
    channels = mock.mock_FiberPhotometryChannelsTable()
    assert list(channels["control_channel"][:]) == [1, -1]
    assert channels["optical_fiber"][0] is channels["optical_fiber"][1]  # a control shares its signal's fiber


# ------------------------------------------------------------------------------------- checksums (issue 9)
def _object_header_versions(path: Path) -> set[int]:
    """Object header versions of every object of the file (2: checksummed "OHDR" headers)."""
    versions: set[int] = set()
    with h5py.File(path, "r") as file:
        file.visit(lambda name: versions.add(h5py.h5o.get_info(file[name].id).hdr.version))
    return versions


def test_written_files_carry_checksums_every_reader_verifies(direct: Path) -> None:
    from ndx_glymphatic.builder import LIBVER

    assert LIBVER == ("v108", "v108")  # HDF5 1.8 format: readable by HDF5 >= 1.8 and MATLAB
    assert _object_header_versions(direct) == {2}
    with open(direct, "rb") as stream:
        assert stream.read(9)[8] == 2  # superblock version 2: checksummed
    with h5py.File(direct, "r") as file:
        for name in ("ne_465nm", "ne_isosbestic_405nm", "EEG", "EMG"):
            dataset = file[f"acquisition/{name}/data"]
            filters = [dataset.id.get_create_plist().get_filter(index)[0]
                       for index in range(dataset.id.get_create_plist().get_nfilters())]
            assert dataset.fletcher32 and filters[-1] == h5py.h5z.FILTER_FLETCHER32, name
        numeric = []
        file.visititems(lambda name, obj: numeric.append(obj) if isinstance(obj, h5py.Dataset) and obj.ndim
                        and obj.dtype.kind in "fiu" and not name.startswith("specifications") else None)
        assert len(numeric) > 20 and all(dataset.fletcher32 for dataset in numeric)  # table columns too


@pytest.mark.parametrize("method", ["gzip", "none"])
def test_direct_chunks_carry_hdf5s_own_fletcher32(tmp_path: Path, method: str) -> None:
    from ndx_glymphatic.builder import encode_chunk, fletcher32

    rng = np.random.default_rng(5)
    values = rng.normal(size=(4096,)).astype(np.float32)
    settings = CompressionSettings(method=method, n_threads=1)
    with h5py.File(tmp_path / "h5py.h5", "w") as file:  # HDF5's own filter computes the checksum
        file.create_dataset("x", data=values, chunks=(4096,), **settings.dataset_options())
        stored = file["x"].id.read_direct_chunk((0,))[1]
    assert fletcher32(data=stored[:-4]) == stored[-4:]
    assert fletcher32(data=b"\x01") == fletcher32(data=b"\x01\x00")  # an odd last byte is a high byte
    with h5py.File(tmp_path / "direct.h5", "w") as file:
        dataset = file.create_dataset("x", shape=values.shape, dtype=np.float32, chunks=(4096,),
                                      **settings.dataset_options())
        dataset.id.write_direct_chunk((0,), encode_chunk(chunk=values, settings=settings))
        np.testing.assert_array_equal(dataset[:], values)  # HDF5 verified our checksum
        offset = dataset.id.get_chunk_info(0).byte_offset
    damaged = bytearray((tmp_path / "direct.h5").read_bytes())
    damaged[offset + 17] ^= 0x10
    (tmp_path / "damaged.h5").write_bytes(bytes(damaged))
    with h5py.File(tmp_path / "damaged.h5", "r") as file, pytest.raises(OSError):
        file["x"][:]


def test_checksums_can_be_left_out(tmp_path: Path) -> None:
    session = mock.mock_session_config()
    sources = mock.mock_session_sources(session=session, duration_in_s=60.0)
    write_nwbfile(session=session, sources=sources, path=tmp_path / "plain.nwb",
                  settings=CompressionSettings(checksum=False), progress=False)
    with h5py.File(tmp_path / "plain.nwb", "r") as file:
        assert not file["acquisition/ne_465nm/data"].fletcher32
