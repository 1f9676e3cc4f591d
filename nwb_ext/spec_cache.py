"""The specifications cached in files we write: only the namespaces the file uses, each as its authors declared it.

hdmf caches every namespace loaded in the writing process, and writes each one's includes whole: a
namespace that includes three types of ``core`` is cached as including all of ``core``. On reading,
hdmf then rebuilds the whole of ``core`` once per such namespace, which is most of the time plain pynwb
spends opening a file of ours (``benchmarks/bench_open.py``). :func:`tidy_cached_specifications`
rewrites the cache after pynwb's write:

- namespaces no object of the file belongs to, and that no such namespace includes, are dropped;
- a namespace that another cached namespace includes gets back the ``neurodata_types`` lists of its
  own namespace file;
- a namespace that no other includes (ours, for our files) has each include cut to the types the file
  holds: pynwb's validator checks the file against those namespaces alone, so they must know every type
  in the file, and need know no other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import h5py

SPECIFICATIONS_GROUP = "specifications"


def types_in_use(*, file: h5py.File) -> dict[str, set[str]]:
    """The ``neurodata_type`` of every object of the file, by its ``namespace`` attribute (specifications skipped).

    Parameters
    ----------
    file : h5py.File
        An open file.

    Returns
    -------
    dict of str to set of str
    """
    used: dict[str, set[str]] = {}

    def visit(name: str, node: h5py.HLObject) -> None:
        if name.split("/", 1)[0] == SPECIFICATIONS_GROUP:
            return
        namespace, data_type = node.attrs.get("namespace"), node.attrs.get("neurodata_type")
        if namespace is not None and data_type is not None:
            used.setdefault(_text(namespace), set()).add(_text(data_type))

    visit("", file)
    # visititems does not follow links, so no object outside this file is opened
    file.visititems(visit)
    return used


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def include_closure(*, names: Iterable[str], includes: Mapping[str, Iterable[str]]) -> set[str]:
    """``names`` and every namespace they include, directly or through others.

    Parameters
    ----------
    names : iterable of str
    includes : mapping of str to iterable of str
        Each namespace's directly included namespaces.

    Returns
    -------
    set of str
    """
    closure: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        pending.extend(includes.get(name, ()))
    return closure


def _declared_type_lists(*, declared_schema: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Included namespace -> the ``neurodata_types`` its namespace file lists (includes declared whole left out)."""
    return {
        entry["namespace"]: list(entry["neurodata_types"])
        for entry in declared_schema
        if "namespace" in entry and entry.get("neurodata_types")
    }


def restore_declared_types(
    *, cached_schema: list[dict[str, Any]], declared_schema: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The cached ``schema`` list of a namespace, with each include's declared ``neurodata_types`` put back.

    Parameters
    ----------
    cached_schema : list of dict
        The namespace's ``schema`` entries as hdmf cached them.
    declared_schema : iterable of mapping
        The same namespace's ``schema`` entries as its namespace file declares them.

    Returns
    -------
    list of dict
        A new list; entries without a declared type list are unchanged.
    """
    declared_types = _declared_type_lists(declared_schema=declared_schema)
    restored: list[dict[str, Any]] = []
    for entry in cached_schema:
        entry = dict(entry)
        if "namespace" in entry and entry["namespace"] in declared_types:
            entry["neurodata_types"] = declared_types[entry["namespace"]]
        restored.append(entry)
    return restored


def _namespace_datasets(*, file: h5py.File) -> dict[str, h5py.Dataset]:
    """The ``namespace`` dataset of each cached namespace (newest version if several), by name."""
    found: dict[str, h5py.Dataset] = {}
    specifications = file.get(SPECIFICATIONS_GROUP)
    if not isinstance(specifications, h5py.Group):
        return found
    for name, versions in specifications.items():
        if not isinstance(versions, h5py.Group) or not len(versions):
            continue
        newest = sorted(versions.keys())[-1]
        dataset = versions[newest].get("namespace")
        if isinstance(dataset, h5py.Dataset):
            found[name] = dataset
    return found


def _read_document(*, dataset: h5py.Dataset) -> dict[str, Any]:
    value = dataset[()]
    return json.loads(value.decode() if isinstance(value, bytes) else value)


def tidy_cached_specifications(*, file: h5py.File, declared_schemas: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Rewrite the file's cached specifications as the module docstring says.

    Parameters
    ----------
    file : h5py.File
        Open for writing, after pynwb wrote it.
    declared_schemas : mapping of str to iterable of mapping
        Each namespace's ``schema`` entries as its namespace file declares them (see
        :func:`declared_schemas_of_loaded_namespaces`).
    """
    datasets = _namespace_datasets(file=file)
    documents = {name: _read_document(dataset=dataset) for name, dataset in datasets.items()}
    includes = {
        name: [entry["namespace"] for entry in document["namespaces"][0]["schema"] if "namespace" in entry]
        for name, document in documents.items()
    }
    used = types_in_use(file=file)
    kept = include_closure(names=set(used) & set(documents), includes=includes)
    for name in set(documents) - kept:
        del file[SPECIFICATIONS_GROUP][name]
    included_by_others = {included for name in kept for included in includes[name]}
    for name in kept:
        namespace = documents[name]["namespaces"][0]
        if name not in declared_schemas:
            continue
        if name in included_by_others:
            restored = restore_declared_types(cached_schema=namespace["schema"], declared_schema=declared_schemas[name])
        else:
            restored = restrict_to_types_in_use(
                cached_schema=namespace["schema"], declared_schema=declared_schemas[name], used=used
            )
        if restored != namespace["schema"]:
            namespace["schema"] = restored
            datasets[name][()] = json.dumps(documents[name])


def restrict_to_types_in_use(
    *, cached_schema: list[dict[str, Any]], declared_schema: Iterable[Mapping[str, Any]], used: Mapping[str, set[str]]
) -> list[dict[str, Any]]:
    """The cached ``schema`` list of a namespace no other includes, each include cut to the types it needs.

    Those are the types its namespace file declares (what its own types build on) and the types the file
    holds; hdmf registers with each type every type it derives from, contains or links to, so the namespace
    still knows every type in the file, which pynwb's validator needs of it. An include that the namespace
    file declares whole stays whole.

    Parameters
    ----------
    cached_schema : list of dict
        The namespace's ``schema`` entries as hdmf cached them.
    declared_schema : iterable of mapping
        The same namespace's ``schema`` entries as its namespace file declares them.
    used : mapping of str to set of str
        The file's types by namespace (:func:`types_in_use`).

    Returns
    -------
    list of dict
        A new list.
    """
    declared_types = _declared_type_lists(declared_schema=declared_schema)
    restricted: list[dict[str, Any]] = []
    for entry in cached_schema:
        entry = dict(entry)
        name = entry.get("namespace")
        if name in declared_types:
            entry["neurodata_types"] = sorted(set(declared_types[name]) | used.get(name, set()))
        restricted.append(entry)
    return restricted


def declared_schemas_of_loaded_namespaces() -> dict[str, list[dict[str, Any]]]:
    """The ``schema`` entries of every namespace loaded in pynwb, as their namespace files declare them.

    Returns
    -------
    dict of str to list of dict
    """
    from pynwb import get_type_map

    catalog = get_type_map().namespace_catalog
    return {name: [dict(entry) for entry in catalog.get_namespace(name)["schema"]] for name in catalog.namespaces}
