"""Corruption never passes as conformant: seeded byte-level mutants of a small simulated file, validated.

One small simulated session is written by the builder (checksummed HDF5 1.8 metadata, Fletcher-32 chunks),
then copied and damaged: bit flips in metadata and in data (chunks and contiguous storage), the attribute
name ``neurodata_type`` -> ``newrodata_type``, a float32 datatype message rewritten as float64, truncation.
Each mutant is validated in-process (profile ``analysis``: file, security, schema, domain), two at a time in
forked workers. Asserted: validation never raises and finishes within its timeout, and a mutant whose
content (every object, attribute and value h5py reads) differs from the original is never conformant; a
mutant h5py reads identically may pass (e.g. a flip in unused bytes).
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import shutil
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from ndx_glymphatic.validators import validate_file

SEED = 20260909
N_MUTANTS = {"metadata flip": 40, "data flip": 30, "attribute name": 10, "dtype": 10, "truncation": 10}
TIMEOUT_IN_S = 120.0
#: The IEEE little-endian float32 / float64 datatype messages of HDF5 (class 1, version 1; same length).
FLOAT32_DATATYPE = bytes.fromhex("11201f0004000000000020001708001" "77f000000")
FLOAT64_DATATYPE = bytes.fromhex("11203f000800000000004000340b0034ff030000")


def _content(path: Path) -> object:
    """Everything h5py reads from the file: every object's kind, dtype, shape, attributes and values."""
    found: dict[str, object] = {}

    def add(name: str, obj: h5py.Group | h5py.Dataset) -> None:
        attributes = tuple(sorted((key, repr(obj.attrs[key])) for key in obj.attrs))
        if isinstance(obj, h5py.Dataset):
            value = obj[()]
            stored = value.tobytes() if isinstance(value, np.ndarray) and value.dtype.kind != "O" else repr(value)
            found[name] = ("dataset", obj.dtype.str, obj.shape, attributes, stored)
        else:
            found[name] = ("group", attributes)

    try:
        with h5py.File(path, "r") as h5file:
            found["/"] = tuple(sorted((key, repr(h5file.attrs[key])) for key in h5file.attrs))
            h5file.visititems(add)
    except Exception as error:  # unreadable: differs from the readable original
        return f"unreadable: {type(error).__name__}"
    return found


def _data_ranges(path: Path) -> list[tuple[int, int]]:
    """(start, stop) file offsets of the stored values of every dataset (chunks and contiguous storage)."""
    ranges: list[tuple[int, int]] = []

    def add(name: str, obj: h5py.Group | h5py.Dataset) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.chunks is None:
            offset = obj.id.get_offset()
            if offset is not None and obj.id.get_storage_size():
                ranges.append((offset, offset + obj.id.get_storage_size()))
            return
        for index in range(obj.id.get_num_chunks()):
            info = obj.id.get_chunk_info(index)
            ranges.append((info.byte_offset, info.byte_offset + info.size))

    with h5py.File(path, "r") as h5file:
        h5file.visititems(add)
    return sorted(ranges)


def _mutants(*, base: Path, folder: Path) -> list[tuple[str, Path]]:
    """The seeded mutants: (kind, path)."""
    rng = np.random.default_rng(SEED)
    original = base.read_bytes()
    size = len(original)
    data = _data_ranges(base)
    in_data = np.zeros(size, dtype=bool)
    for start, stop in data:
        in_data[start:stop] = True
    metadata_offsets = np.flatnonzero(~in_data[512:]) + 512  # past the superblock: flips there all fail to open
    data_offsets = np.flatnonzero(in_data)
    names = [index for index in range(size) if original.startswith(b"neurodata_type", index)]
    floats = [index for index in range(size) if original.startswith(FLOAT32_DATATYPE, index)]
    assert len(names) > 50 and len(floats) >= 6 and data_offsets.size > 10_000

    def flip(offsets: np.ndarray) -> bytes:
        changed = bytearray(original)
        offset = int(rng.choice(offsets))
        changed[offset] ^= 1 << int(rng.integers(8))
        return bytes(changed)

    def rename() -> bytes:
        changed = bytearray(original)
        offset = int(rng.choice(names))
        changed[offset + 2] = ord("w")  # neurodata_type -> newrodata_type
        return bytes(changed)

    def retype() -> bytes:
        changed = bytearray(original)
        offset = int(rng.choice(floats))
        changed[offset : offset + len(FLOAT64_DATATYPE)] = FLOAT64_DATATYPE
        return bytes(changed)

    makers = {
        "metadata flip": lambda: flip(metadata_offsets),
        "data flip": lambda: flip(data_offsets),
        "attribute name": rename,
        "dtype": retype,
        "truncation": lambda: original[: int(rng.integers(64, size - 1))],
    }
    mutants = []
    for kind, count in N_MUTANTS.items():
        for number in range(count):
            path = folder / f"{kind.replace(' ', '_')}_{number:03d}.nwb"
            path.write_bytes(makers[kind]())
            mutants.append((kind, path))
    return mutants


def _validate(path: str) -> tuple[bool, str, float]:
    """Worker: (conformant, layer of the first error, seconds)."""
    started = time.perf_counter()
    report = validate_file(path=path, profile="analysis")
    errors = [message for message in report.messages if message.severity == "error"]
    assert not any("Traceback" in message.message for message in report.messages)
    layer = errors[0].layer if errors else ("could not run" if report.could_not_run else "")
    return report.is_conformant, layer, time.perf_counter() - started


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ndx_glymphatic.simulation import SimulationParameters, simulate_session
    from ndx_glymphatic.simulation.nwb import write_session_nwb

    parameters = SimulationParameters(
        duration_in_s=600.0, seed=3, photometry_rate_in_Hz=20.0, ephys_rate_in_Hz=128.0, vasomotion_start_in_s=100.0,
        lc_stimulation_onsets_in_s=(150.0, 450.0), drug_time_in_s=60.0,
    )
    path = tmp_path_factory.mktemp("fuzz") / "base.nwb"
    return write_session_nwb(session=simulate_session(parameters=parameters), path=path)


def test_no_corrupt_mutant_is_conformant(base: Path, tmp_path: Path) -> None:
    assert validate_file(path=base, profile="analysis").is_conformant
    reference = _content(base)
    mutants = _mutants(base=base, folder=tmp_path)
    assert len(mutants) >= 100
    started = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = {path: pool.submit(_validate, str(path)) for _, path in mutants}
        outcomes = {path: future.result(timeout=TIMEOUT_IN_S) for path, future in futures.items()}
    elapsed = time.perf_counter() - started
    caught: collections.Counter[tuple[str, str]] = collections.Counter()
    passed_identical = collections.Counter()
    wrongly_conformant = []
    for kind, path in mutants:
        conformant, layer, _ = outcomes[path]
        differs = _content(path) != reference
        if conformant:
            if differs:
                wrongly_conformant.append(f"{kind}: {path.name}")
            else:
                passed_identical[kind] += 1
        else:
            caught[(kind, layer)] += 1
    summary = ", ".join(f"{kind} -> {layer}: {count}" for (kind, layer), count in sorted(caught.items()))
    busy = sum(seconds for _, _, seconds in outcomes.values())
    print(f"\n{len(mutants)} mutants in {elapsed:.0f} s ({busy / len(mutants):.2f} s each); caught: {summary}; "
          f"conformant and read identically: {dict(passed_identical)}")
    assert wrongly_conformant == [], wrongly_conformant
    # the checksums make nearly every change visible: most mutants are caught, not identical
    assert sum(caught.values()) >= 0.7 * len(mutants)


def test_a_copy_of_the_base_reads_identically(base: Path, tmp_path: Path) -> None:
    copy = shutil.copyfile(base, tmp_path / "copy.nwb")
    assert _content(copy) == _content(base)
