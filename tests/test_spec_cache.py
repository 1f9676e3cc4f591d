"""Files we write cache only the namespaces they use, each with the includes its authors declared, so that plain
pynwb opens them without rebuilding ``core`` once per extension; they still read and validate with pynwb alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import pynwb
import pytest
from hdmf.backends.hdf5 import HDF5IO
from hdmf.spec import NamespaceCatalog
from pynwb.spec import NWBDatasetSpec, NWBGroupSpec, NWBNamespace

from ndx_glymphatic.builder import write_nwbfile
from ndx_glymphatic.spec_cache import include_closure, restore_declared_types
from ndx_glymphatic.testing import mock


def _cached_schemas(path: Path) -> dict[str, list[dict]]:
    with h5py.File(path, "r") as file:
        schemas = {}
        for name, versions in file["specifications"].items():
            newest = sorted(versions)[-1]
            document = json.loads(versions[newest]["namespace"][()])
            schemas[name] = document["namespaces"][0]["schema"]
    return schemas


def _objects(file: h5py.File) -> list[h5py.HLObject]:
    found: list[h5py.HLObject] = [file]
    file.visititems(lambda name, node: None if name.startswith("specifications") else found.append(node))
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec_cache") / "mock.nwb"
    session = mock.mock_session_config()
    write_nwbfile(session=session, sources=mock.mock_session_sources(session=session, duration_in_s=120.0),
                  path=path, progress=False)
    return path


def test_included_namespaces_keep_their_declared_types_and_ours_only_the_types_the_file_holds(written: Path) -> None:
    schemas = _cached_schemas(written)
    fiber_photometry = {entry["namespace"]: entry.get("neurodata_types")
                        for entry in schemas["ndx-fiber-photometry"] if "namespace" in entry}
    assert fiber_photometry["core"] == ["TimeSeries", "Device", "LabMetaData"]
    assert fiber_photometry["ndx-ophys-devices"] is not None
    ours = {entry["namespace"]: entry.get("neurodata_types") for entry in schemas["ndx-glymphatic"]
            if "namespace" in entry}
    with h5py.File(written, "r") as file:
        in_file = {str(node.attrs["neurodata_type"]) for node in _objects(file)
                   if node.attrs.get("namespace") == "ndx-optogenetics"}
    assert in_file and set(ours["ndx-optogenetics"]) == in_file | {"OptogeneticEpochsTable"}
    assert "NWBFile" in ours["core"]


def test_only_namespaces_the_file_uses_are_cached(written: Path) -> None:
    assert set(_cached_schemas(written)) == {
        "core", "hdmf-common", "ndx-ophys-devices", "ndx-fiber-photometry", "ndx-optogenetics", "ndx-glymphatic",
    }


def test_the_file_validates_and_reads_with_pynwb_alone(written: Path) -> None:
    assert pynwb.validate(path=str(written)) == []
    reader = Path(__file__).resolve().parents[1] / "nwb_ext" / "testing" / "pynwb_only_reader.py"
    completed = subprocess.run([sys.executable, str(reader), str(written)], capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]


def _registered_type_count(path: Path) -> int:
    """How many type specs hdmf builds loading the file's cached namespaces into an empty catalog."""
    catalog = NamespaceCatalog(NWBGroupSpec, NWBDatasetSpec, NWBNamespace)
    loaded = HDF5IO.load_namespaces(catalog, path=str(path))
    return sum(len(types) for included in loaded.values() for types in included.values())


def test_plain_pynwb_builds_fewer_specs_than_from_the_cache_hdmf_writes(written: Path, tmp_path: Path) -> None:
    """The cache as hdmf writes it (every include whole) against ours: counted in registered types, not seconds."""
    whole = tmp_path / "whole.nwb"
    whole.write_bytes(written.read_bytes())
    with h5py.File(whole, "r+") as file:
        for versions in file["specifications"].values():
            dataset = versions[sorted(versions)[-1]]["namespace"]
            document = json.loads(dataset[()])
            for entry in document["namespaces"][0]["schema"]:
                entry.pop("neurodata_types", None)
            dataset[()] = json.dumps(document)
    counts = [_registered_type_count(path) for path in (written, whole)]
    assert counts[0] < 0.6 * counts[1], counts


def test_restore_declared_types_puts_back_only_declared_lists() -> None:
    cached = [{"namespace": "core"}, {"namespace": "hdmf-common"}, {"source": "x.extensions"}]
    declared = [{"namespace": "core", "neurodata_types": ["Device"]}, {"namespace": "hdmf-common"},
                {"source": "x.extensions.yaml"}]
    assert restore_declared_types(cached_schema=cached, declared_schema=declared) == [
        {"namespace": "core", "neurodata_types": ["Device"]}, {"namespace": "hdmf-common"}, {"source": "x.extensions"},
    ]
    assert cached[0] == {"namespace": "core"}


def test_include_closure_follows_includes_transitively() -> None:
    includes = {"ours": ["fp", "core"], "fp": ["devices"], "devices": ["core"], "core": ["common"], "other": ["core"]}
    assert include_closure(names=["ours"], includes=includes) == {"ours", "fp", "devices", "core", "common"}
