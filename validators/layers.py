"""The layers that look at an NWB file through pynwb: schema, then the checks (inspector, domain, dandi, analysis).

The checks of every layer are nwbinspector check functions, run by nwbinspector itself
(``configure_checks`` with :func:`inspector_config`, then ``inspect_nwbfile_object``). Two things are
added for the report: a check that raises becomes a message about the object it failed on (the run goes
on), and the findings of :data:`NOT_APPLICABLE_INSPECTOR_FINDINGS` are dropped. (The ``file`` and
``security`` layers run before pynwb opens anything: ``probe.py``.)
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from ndx_glymphatic.validators._check_tools import HINT_SEPARATOR, CheckFunction, location_of, split_hint
from ndx_glymphatic.validators.checks import DOMAIN_CHECKS
from ndx_glymphatic.validators.report import IMPORTANCE_TO_SEVERITY, ValidationMessage

__all__ = [
    "INSPECTOR_CONFIG_PATH",
    "NOT_APPLICABLE_INSPECTOR_FINDINGS",
    "check_messages",
    "dandi_cli_messages",
    "domain_checks",
    "inspector_checks",
    "inspector_config",
    "nan_run_messages",
    "schema_errors",
    "schema_messages",
    "unreadable_series_message",
]

#: Checks that run in the security layer before pynwb opens the file; not repeated in the domain layer.
_CHECKS_RUN_BEFORE_OPENING = ("check_no_links_leaving_file",)

_OUR_TABLE_TYPES = (
    "TracerInfusionsTable", "DrugAdministrationsTable", "ClockAlignmentTable", "VasomotionStimulationEpochsTable",
    "OptogeneticEpochsTable", "Hypnogram",
)

#: nwbinspector findings that do not apply to this kind of data: (check name, predicate, reason).
#: They are dropped from the inspector layer; docs/validation.md lists them.
NOT_APPLICABLE_INSPECTOR_FINDINGS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    (
        "check_time_intervals_stop_after_start",
        lambda message: message.object_type == "DrugAdministrationsTable",
        "a bolus injection is an instant: DrugAdministrationsTable rows have stop_time == start_time",
    ),
    (
        "check_single_row",
        lambda message: message.object_type in _OUR_TABLE_TYPES,
        "one infusion, one drug injection or one aligned clock per session is the normal case",
    ),
    (
        "check_electrodes_location_allen_ccf",
        lambda message: "muscle" in message.message.lower(),
        "EMG electrodes sit in a muscle, which has no Allen brain atlas term",
    ),
)


#: Hints for the nwbinspector checks most often seen on these files (others point to the docs).
_INSPECTOR_HINTS = {
    "check_subject_exists": "add a Subject: nwbfile.subject = Subject(subject_id=..., species='Mus musculus', "
                            "sex=..., age='P90D')",
    "check_subject_id_exists": "set Subject(subject_id=...), e.g. the animal's ID",
    "check_subject_id_no_slashes": "remove '/' from subject_id",
    "check_session_id_no_slashes": "remove '/' from session_id",
    "check_subject_sex": "set Subject(sex=...) to 'M', 'F', 'U' (unknown) or 'O' (other)",
    "check_subject_species_exists": "set Subject(species='Mus musculus')",
    "check_subject_species_form": "use the Latin binomial ('Mus musculus') or an NCBI taxonomy URL",
    "check_subject_age": "set Subject(age='P90D') (ISO 8601 duration) or Subject(date_of_birth=...)",
    "check_subject_proper_age_range": "write an age range as 'P60D/P90D' with the lower bound first",
    "check_electrodes_location_allen_ccf": "use Allen Mouse Brain Atlas names (e.g. 'Isocortex', 'SSp') "
                                           "for electrode locations",
    "check_experimenter_exists": "set NWBFile(experimenter=['Last, First'])",
    "check_experimenter_form": "write experimenters as 'Last, First'",
    "check_institution": "set NWBFile(institution=...)",
    "check_keywords": "set NWBFile(keywords=[...])",
    "check_data_orientation": "store time along the first axis of data",
    "check_regular_timestamps": "store regularly sampled data with rate + starting_time instead of timestamps",
    "check_timestamps_ascending": "sort the samples by time",
    "check_missing_unit": "set the series' unit",
    "check_small_dataset_compression": "compress datasets (H5DataIO(compression='gzip'))",
    "check_large_dataset_compression": "compress large datasets (H5DataIO(compression='gzip', chunks=True))",
    "check_description": "write a description of the object",
}
_INSPECTOR_DOCS = "https://nwbinspector.readthedocs.io/en/dev/best_practices/best_practices_index.html"



# ---------------------------------------------------------------------------------------------- schema
#: Namespace catalogs built from cached specifications, by hash of the cached specification text.
_SPEC_CATALOGS: dict[str, tuple[Any, dict[str, Any]]] = {}


def _cached_specification_key(*, path: Path) -> str | None:
    """SHA-256 of every cached specification document in the file (None when it has none)."""
    import hashlib

    import h5py

    from ndx_glymphatic.remote import open_h5

    digest = hashlib.sha256()
    with open_h5(path) as h5file:
        if "specifications" not in h5file:
            return None
        found = False

        def add(name: str, obj: Any) -> None:
            nonlocal found
            if isinstance(obj, h5py.Dataset):
                found = True
                digest.update(name.encode())
                value = obj[()]
                digest.update(value if isinstance(value, bytes) else str(value).encode())

        h5file["specifications"].visititems(add)
    return digest.hexdigest() if found else None


SPEC_CACHE_ENVIRONMENT_VARIABLE = "GLYMPH_SPEC_CACHE_DIR"


def spec_cache_dir() -> Path | None:
    """Folder of the on-disk cache of parsed specifications, or None when it cannot be used safely.

    ``$GLYMPH_SPEC_CACHE_DIR`` (empty: no disk cache), else ``$XDG_CACHE_HOME/ndx-glymphatic`` or
    ``~/.cache/ndx-glymphatic``, in a sub-folder per pynwb/hdmf version. Used only when the folder belongs
    to the current user and nobody else can write to it (the cache holds pickles).
    """
    import os
    import stat

    import hdmf
    import pynwb

    configured = os.environ.get(SPEC_CACHE_ENVIRONMENT_VARIABLE)
    if configured == "":
        return None
    base = Path(configured) if configured else (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ndx-glymphatic"
    )
    folder = base / f"specifications-pynwb{pynwb.__version__}-hdmf{hdmf.__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for level in (folder, folder.parent):
            info = level.stat()
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
    except (OSError, AttributeError):
        return None
    return folder


def _load_catalog_from_disk(*, key: str) -> tuple[Any, dict[str, Any]] | None:
    import pickle

    folder = spec_cache_dir()
    if folder is None or not (folder / f"{key}.pickle").is_file():
        return None
    try:
        with open(folder / f"{key}.pickle", "rb") as stream:
            return pickle.load(stream)
    except Exception:  # a stale or broken cache entry: rebuild it
        return None


def _save_catalog_to_disk(*, key: str, cached: tuple[Any, dict[str, Any]]) -> None:
    import pickle

    from ndx_glymphatic.io import atomic_output_path

    folder = spec_cache_dir()
    if folder is None:
        return
    try:
        with atomic_output_path(destination=folder / f"{key}.pickle", overwrite=True) as temporary:
            with open(temporary, "wb") as stream:
                pickle.dump(cached, stream, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # the cache is an optimisation only
        return


def _catalog_for(*, path: Path) -> tuple[Any, dict[str, Any]] | None:
    """The namespace catalog of the file's cached specifications (as pynwb.validate builds it), memoised.

    Parsing the cached specifications is the slowest step of schema validation (seconds); the result is
    kept in memory and on disk (:func:`spec_cache_dir`), keyed by the hash of the specification text.
    """
    from hdmf.spec import NamespaceCatalog
    from pynwb import NWBHDF5IO
    from pynwb.spec import NWBDatasetSpec, NWBGroupSpec, NWBNamespace

    key = _cached_specification_key(path=path)
    if key is None:
        return None
    if key not in _SPEC_CATALOGS:
        cached = _load_catalog_from_disk(key=key)
        if cached is None:
            catalog = NamespaceCatalog(group_spec_cls=NWBGroupSpec, dataset_spec_cls=NWBDatasetSpec,
                                       spec_namespace_cls=NWBNamespace)
            from ndx_glymphatic.remote import open_h5

            with open_h5(path) as h5file:
                dependencies = NWBHDF5IO.load_namespaces(namespace_catalog=catalog, file=h5file)
            cached = (catalog, dependencies)
            _save_catalog_to_disk(key=key, cached=cached)
        _SPEC_CATALOGS.clear()  # keep one: files validated together usually share their specification
        _SPEC_CATALOGS[key] = cached
    return _SPEC_CATALOGS[key]


_VALIDATOR_MAPS: dict[tuple[int, str], Any] = {}


def _validator_map(*, catalog: Any, namespace: str) -> Any:
    from hdmf.validate import ValidatorMap

    key = (id(catalog), namespace)
    if key not in _VALIDATOR_MAPS:
        if len(_VALIDATOR_MAPS) > 16:
            _VALIDATOR_MAPS.clear()
        _VALIDATOR_MAPS[key] = ValidatorMap(catalog.get_namespace(name=namespace))
    return _VALIDATOR_MAPS[key]


def schema_errors(*, path: Path, builder: Any) -> list[Any]:
    """What ``pynwb.validate(path=path)`` returns, validating ``builder`` (the file's builder tree).

    Same steps as pynwb.validate: a namespace catalog built from the specifications cached in the file,
    validation against its most specific namespaces (those no other cached namespace includes;
    hdmf-experimental left out as pynwb does). Faster: the catalog is parsed once per specification
    (memory and disk cache) and the builder tree is the one the file is then read from. Files without
    cached specifications go to pynwb.validate itself (core schema of the installed pynwb).
    """
    import pynwb

    cached = _catalog_for(path=path)
    if cached is None:
        from ndx_glymphatic.remote import open_h5

        # with use_cached_namespaces (the default) pynwb 4.2 fails on a file that caches none
        with open_h5(path) as h5file:
            result = pynwb.validate(io=pynwb.NWBHDF5IO(file=h5file, mode="r"), use_cached_namespaces=False)
        return list(result[0] if isinstance(result, tuple) else result)
    catalog, dependencies = cached
    namespaces = set(dependencies)
    for included in dependencies.values():
        namespaces -= set(included)
    namespaces.discard("hdmf-experimental")
    errors: list[Any] = []
    for namespace in sorted(namespaces):
        errors += _validator_map(catalog=catalog, namespace=namespace).validate(builder)
    return errors


def schema_messages(*, path: Path, builder: Any) -> list[ValidationMessage]:
    """NWB schema validation against the namespaces cached in the file (our extension included).

    Parameters
    ----------
    path : Path
        The file.
    builder : hdmf.build.GroupBuilder
        Its root builder (``io.read_builder()``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        errors = schema_errors(path=path, builder=builder)
    messages = []
    for error in errors:
        name = str(getattr(error, "name", "") or "")
        messages.append(ValidationMessage(
            layer="schema", severity="error", importance="PYNWB_VALIDATION", check=type(error).__name__,
            location=str(getattr(error, "location", "") or ""),
            message=f"{name}: {getattr(error, 'reason', str(error))}",
            hint=("the file does not follow the NWB schema (or our cached extension spec): write it with pynwb / "
                  "`glymph convert` instead of editing it, and do not change types or shapes by hand"),
            object_name=name.split("/")[-1],
        ))
    return messages




# ----------------------------------------------------------------------------------------------- checks
#: Importance overrides of ``glymph validate`` (nwbinspector's config format), applied over nwbinspector's DANDI ones.
INSPECTOR_CONFIG_PATH = Path(str(files("ndx_glymphatic.validators") / "inspector_config.yaml"))


def inspector_config() -> dict[str, list[str]]:
    """nwbinspector's DANDI configuration with :data:`INSPECTOR_CONFIG_PATH` over it (a check named there wins)."""
    from nwbinspector import load_config

    ours = load_config(INSPECTOR_CONFIG_PATH) or {}
    named_by_us = {name for names in ours.values() for name in names}
    merged = {level: [name for name in names if name not in named_by_us]
              for level, names in load_config("dandi").items()}
    for level, names in ours.items():
        merged.setdefault(level, []).extend(names)
    return merged


def domain_checks() -> list[CheckFunction]:
    """The checks of the ``domain`` layer (the links check runs in the ``security`` layer, before opening)."""
    return [check for name, check in DOMAIN_CHECKS.items() if name not in _CHECKS_RUN_BEFORE_OPENING]


def inspector_checks(*, other_checks: Iterable[CheckFunction] = ()) -> list[CheckFunction]:
    """The checks of the ``inspector`` layer: every check in nwbinspector's registry that is not ours.

    Parameters
    ----------
    other_checks : iterable of check functions
        Checks of other layers that may be registered too (e.g. readiness checks); left out.
    """
    from nwbinspector import available_checks

    ours = set(DOMAIN_CHECKS) | {check.__name__ for check in other_checks}
    return [check for check in available_checks if check.__name__ not in ours]


def _crash(*, check: CheckFunction, neurodata_object: Any, error: Exception) -> Any:
    """The message of a check that raised, about the object it failed on.

    Importance ERROR as nwbinspector reports a check that raised; severity HIGH when stored bytes cannot be
    read (the file is damaged: an error of the report), LOW when the check could not handle the object (a
    warning: see :func:`_severity`).
    """
    from nwbinspector import Importance, InspectorMessage, Severity

    if isinstance(error, OSError):  # h5py could not read stored bytes: the file is damaged
        text = f"the stored data of this object cannot be read ({type(error).__name__}: {error})."
        hint = "the file is damaged (e.g. a corrupted compressed chunk); restore it from its source or rewrite it"
        severity = Severity.HIGH
    else:
        text = f"the check could not run on this object: {type(error).__name__}: {error}"
        hint = ("the object does not have the content the check expects (see the schema layer for type or shape "
                "errors); a check that fails on a valid file is a bug of the check: please report it")
        severity = Severity.LOW
    return InspectorMessage(
        message=f"{text}{HINT_SEPARATOR}{hint}", importance=Importance.ERROR, severity=severity,
        check_function_name=check.__name__, location=location_of(neurodata_object),
        object_type=type(neurodata_object).__name__, object_name=str(getattr(neurodata_object, "name", "")),
    )


def _reported(check: CheckFunction) -> CheckFunction:
    """``check`` as the report needs it: a crash becomes a message, every message says where it is.

    Keeps nwbinspector's attributes (``importance``, ``neurodata_type``, ...), so nwbinspector runs it as the
    check itself. A crash is returned as one message of importance ERROR, which nwbinspector keeps.
    """
    from nwbinspector import InspectorMessage

    @functools.wraps(check)
    def run(neurodata_object: Any) -> Any:
        try:
            output = check(neurodata_object)
        except Exception as error:
            return _crash(check=check, neurodata_object=neurodata_object, error=error)
        found = [output] if isinstance(output, InspectorMessage) else [m for m in output or () if m is not None]
        for message in found:
            _locate(message=message, check=check, neurodata_object=neurodata_object)
        return found or None

    return run


def _locate(*, message: Any, check: CheckFunction, neurodata_object: Any) -> None:
    """Fill in the fields of ``message`` that a check leaves to the machinery (check, location, object)."""
    if message.check_function_name is None:
        message.check_function_name = check.__name__
    if message.location is None:
        message.location = location_of(neurodata_object)
    if message.object_type is None:
        message.object_type = type(neurodata_object).__name__
    if message.object_name is None:
        message.object_name = str(getattr(neurodata_object, "name", ""))


def unreadable_series_message(*, series: Any, error: OSError) -> ValidationMessage:
    """The ``domain`` message ``check_nan_runs`` gives of a series whose stored samples cannot be read."""
    from ndx_glymphatic.validators.checks_data_integrity import check_nan_runs

    return _convert(inspector_message=_crash(check=check_nan_runs, neurodata_object=series, error=error),
                    layer="domain")


def nan_run_messages(*, series_runs: Iterable[tuple[Any, Any]]) -> list[ValidationMessage]:
    """The ``domain`` messages ``check_nan_runs`` gives for series whose longest NaN runs a reader found.

    For the series passed over under
    :func:`~ndx_glymphatic.validators.checks_data_integrity.nan_runs_found_elsewhere`: the same
    messages, with the importance the configuration gives the check, as if it had read them itself.

    Parameters
    ----------
    series_runs : iterable of (TimeSeries, NanRun)
    """
    from nwbinspector import configure_checks

    from ndx_glymphatic.validators.checks_data_integrity import check_nan_runs, nan_run_finding

    configured = configure_checks(checks=[check_nan_runs], config=inspector_config())
    if not configured:  # the configuration switched the check off
        return []
    messages = []
    for series, run in series_runs:
        found = nan_run_finding(series=series, run=run)
        if found is None:
            continue
        found.importance = configured[0].importance
        _locate(message=found, check=check_nan_runs, neurodata_object=series)
        messages.append(_convert(inspector_message=found, layer="domain"))
    return messages


def _severity(*, inspector_message: Any) -> str:
    """Our severity of an nwbinspector message: from its importance; a check that could not run is a warning."""
    from nwbinspector import Importance, Severity

    if inspector_message.importance is Importance.ERROR and inspector_message.severity is Severity.LOW:
        return "warning"
    return IMPORTANCE_TO_SEVERITY.get(inspector_message.importance.name, "error")


def _convert(*, inspector_message: Any, layer: str) -> ValidationMessage:
    check = inspector_message.check_function_name or ""
    text, hint = split_hint(text=inspector_message.message)
    if not hint:
        hint = _INSPECTOR_HINTS.get(check, f"see the NWB best practices for {check}: {_INSPECTOR_DOCS}")
    return ValidationMessage(
        layer=layer, severity=_severity(inspector_message=inspector_message),
        importance=inspector_message.importance.name, check=check, location=inspector_message.location or "",
        message=text, hint=hint, object_type=inspector_message.object_type or "",
        object_name=inspector_message.object_name or "",
    )


def _not_applicable(*, inspector_message: Any) -> bool:
    return any(inspector_message.check_function_name == name and applies(inspector_message)
               for name, applies, _ in NOT_APPLICABLE_INSPECTOR_FINDINGS)


def check_messages(*, nwbfile: Any, checks: Sequence[CheckFunction], layer: str) -> list[ValidationMessage]:
    """Run the checks of one layer on an open file, through nwbinspector; their messages.

    nwbinspector's machinery throughout: ``configure_checks`` with :func:`inspector_config` (importance
    overrides), then ``inspect_nwbfile_object`` (which runs ``run_checks``).

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        The open file.
    checks : sequence of check functions
        nwbinspector check functions.
    layer : str
        The layer the messages belong to (``inspector``, ``domain``, ``dandi``, ``analysis``).

    Returns
    -------
    list of ValidationMessage
        In the order of the checks.
    """
    from nwbinspector import configure_checks, inspect_nwbfile_object

    if not checks:  # nwbinspector runs its whole registry when given no checks
        return []
    configured = [_reported(check) for check in configure_checks(checks=list(checks), config=inspector_config())]
    if not configured:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inspector_messages = list(inspect_nwbfile_object(nwbfile_object=nwbfile, checks=configured))
    return [_convert(inspector_message=inspector_message, layer=layer) for inspector_message in inspector_messages
            if not _not_applicable(inspector_message=inspector_message)]


# -------------------------------------------------------------------------------------------- DANDI
_REPEATED_DANDI_IDS = ("NWBI.", "PYNWB")
#: dandi-cli severity -> the nwbinspector importance our severity comes from (anything else: CRITICAL).
_DANDI_SEVERITY_TO_IMPORTANCE = {
    "HINT": "BEST_PRACTICE_SUGGESTION", "INFO": "BEST_PRACTICE_SUGGESTION", "WARNING": "BEST_PRACTICE_VIOLATION",
}


def dandi_cli_messages(*, path: Path) -> tuple[list[ValidationMessage], str]:
    """``dandi validate`` on the file when dandi-cli is importable.

    Returns
    -------
    messages : list of ValidationMessage
    note : str
        Why dandi-cli did not run, or which of its findings were left to other layers ("" otherwise).
    """
    from ndx_glymphatic.remote import is_url
    from ndx_glymphatic.validators.checks_dandi import dandiset_root_of

    if is_url(path):
        return [], "`dandi validate` runs on local files only; not run on a URL"
    try:
        import dandi.validate as dandi_validation
    except ImportError:
        return [], "dandi-cli not installed, `dandi validate` not run (pip install 'ndx-glymphatic[dandi]')"
    dandi_validate = getattr(dandi_validation, "validate", None)
    if dandi_validate is None:  # dandi >= 0.74 keeps it in a private module
        from dandi.validate._core import validate as dandi_validate
    root = dandiset_root_of(path=path)
    if root is None:
        return [], "`dandi validate` needs the file inside a dandiset folder (run `glymph organize`)"
    messages = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = list(dandi_validate(str(path)))
    # dandi validate runs nwbinspector (DANDI config) and pynwb validation itself: those findings are already
    # in the inspector and schema layers, so only dandi's own findings are added here
    repeated = [result for result in results if str(getattr(result, "id", "")).startswith(_REPEATED_DANDI_IDS)]
    results = [result for result in results if result not in repeated]
    note = (f"`dandi validate` ran; {len(repeated)} of its findings come from nwbinspector/pynwb and are in the "
            f"inspector/schema layers") if repeated else ""
    for result in results:
        severity_name = getattr(getattr(result, "severity", None), "name", None) or "ERROR"
        importance = _DANDI_SEVERITY_TO_IMPORTANCE.get(severity_name, "CRITICAL")
        within = getattr(result, "within_asset_paths", None) or {}
        messages.append(ValidationMessage(
            layer="dandi", severity=IMPORTANCE_TO_SEVERITY[importance], importance=importance,
            check=f"dandi_validate:{getattr(result, 'id', 'unknown')}",
            location=str(next(iter(within.values()), "")) if isinstance(within, dict) else "",
            message=str(getattr(result, "message", None) or result),
            hint="see `dandi validate --help` and https://docs.dandiarchive.org/ for this rule",
        ))
    return messages, note
