"""The layers that look at an NWB file through pynwb: schema, inspector, domain, DANDI readiness.

(The ``file`` and ``security`` layers run before pynwb opens anything: ``probe.py``; the analysis
layer is ``analysis_readiness.py``.)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ndx_glymphatic.validators._check_tools import location_of, split_hint
from ndx_glymphatic.validators.checks import DOMAIN_CHECKS
from ndx_glymphatic.validators.report import IMPORTANCE_TO_SEVERITY, ValidationMessage

__all__ = [
    "DANDI_SEX_VALUES",
    "NOT_APPLICABLE_INSPECTOR_FINDINGS",
    "dandi_cli_messages",
    "dandi_messages",
    "expected_dandi_file_name",
    "inspector_and_domain_messages",
    "modalities_of",
    "sanitize_dandi_label",
    "schema_messages",
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

    digest = hashlib.sha256()
    with h5py.File(path, "r") as h5file:
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
            dependencies = NWBHDF5IO.load_namespaces(namespace_catalog=catalog, path=str(path))
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
        result = pynwb.validate(path=str(path))
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


# ------------------------------------------------------------------------------ inspector and domain
def _crash(*, check: Any, neurodata_object: Any, error: Exception, layer: str) -> ValidationMessage:
    if isinstance(error, OSError):  # h5py could not read stored bytes: the file is damaged
        return ValidationMessage(
            layer=layer, severity="error", importance="ERROR", check=check.__name__,
            location=location_of(neurodata_object),
            message=f"the stored data of this object cannot be read ({type(error).__name__}: {error}).",
            hint="the file is damaged (e.g. a corrupted compressed chunk); restore it from its source or rewrite it",
            object_type=type(neurodata_object).__name__, object_name=str(getattr(neurodata_object, "name", "")),
        )
    return ValidationMessage(
        layer=layer, severity="warning", importance="ERROR", check=check.__name__,
        location=location_of(neurodata_object),
        message=f"the check could not run on this object: {type(error).__name__}: {error}",
        hint=("the object does not have the content the check expects (see the schema layer for type or shape "
              "errors); a check that fails on a valid file is a bug of the check: please report it"),
        object_type=type(neurodata_object).__name__, object_name=str(getattr(neurodata_object, "name", "")),
    )


def _convert(*, inspector_message: Any, neurodata_object: Any, layer: str) -> ValidationMessage:
    importance = inspector_message.importance.name
    check = inspector_message.check_function_name or ""
    text, hint = split_hint(text=inspector_message.message)
    if not hint:
        hint = _INSPECTOR_HINTS.get(check, f"see the NWB best practices for {check}: {_INSPECTOR_DOCS}")
    return ValidationMessage(
        layer=layer, severity=IMPORTANCE_TO_SEVERITY.get(importance, "error"), importance=importance,
        check=check, location=inspector_message.location or location_of(neurodata_object), message=text, hint=hint,
        object_type=inspector_message.object_type or type(neurodata_object).__name__,
        object_name=inspector_message.object_name or str(getattr(neurodata_object, "name", "")),
    )


def _applies(*, check: Any, neurodata_object: Any, schema_version: Any) -> bool:
    neurodata_type = getattr(check, "neurodata_type", None)
    if neurodata_type is not None and not issubclass(type(neurodata_object), neurodata_type):
        return False
    if schema_version is not None:
        from packaging.version import Version

        below = getattr(check, "nwb_schema_version_lt", None)
        above = getattr(check, "nwb_schema_version_gt", None)
        if below is not None and schema_version >= Version(below):
            return False
        if above is not None and schema_version <= Version(above):
            return False
    return True


def _schema_version(*, nwbfile: Any) -> Any:
    from packaging.version import InvalidVersion, Version

    info = getattr(getattr(nwbfile, "read_io", None), "nwb_version", None)
    try:
        return Version(info[0]) if info and info[0] else None
    except (InvalidVersion, TypeError):
        return None


def inspector_and_domain_messages(
    *, nwbfile: Any, run_inspector: bool, run_domain: bool
) -> tuple[list[ValidationMessage], list[ValidationMessage]]:
    """Run nwbinspector's own checks (DANDI configuration) and our registered domain checks in one pass.

    The loop is nwbinspector's (``run_checks``) with two differences: a check that raises is reported
    with the object it failed on, and the findings of :data:`NOT_APPLICABLE_INSPECTOR_FINDINGS` are dropped.

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        The open file.
    run_inspector, run_domain : bool
        Which of the two layers to run.

    Returns
    -------
    inspector, domain : list of ValidationMessage
    """
    from nwbinspector import InspectorMessage, available_checks, configure_checks, load_config

    selected = []
    if run_inspector:
        selected += [check for check in available_checks if check.__name__ not in DOMAIN_CHECKS]
    if run_domain:
        selected += [check for name, check in DOMAIN_CHECKS.items() if name not in _CHECKS_RUN_BEFORE_OPENING]
    if not selected:
        return [], []
    checks = configure_checks(checks=selected, config=load_config("dandi"))
    schema_version = _schema_version(nwbfile=nwbfile)
    objects = list(nwbfile.objects.values())
    found: dict[str, list[ValidationMessage]] = {"inspector": [], "domain": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for check in checks:
            layer = "domain" if check.__name__ in DOMAIN_CHECKS else "inspector"
            for neurodata_object in objects:
                if not _applies(check=check, neurodata_object=neurodata_object, schema_version=schema_version):
                    continue
                try:
                    output = check(neurodata_object)
                except Exception as error:
                    found[layer].append(_crash(check=check, neurodata_object=neurodata_object, error=error,
                                               layer=layer))
                    continue
                if output is None:
                    continue
                for inspector_message in [output] if isinstance(output, InspectorMessage) else output:
                    if inspector_message is None:
                        continue
                    inspector_message.importance = check.importance
                    if any(inspector_message.check_function_name == name and applies(inspector_message)
                           for name, applies, _ in NOT_APPLICABLE_INSPECTOR_FINDINGS):
                        continue
                    found[layer].append(_convert(inspector_message=inspector_message,
                                                 neurodata_object=neurodata_object, layer=layer))
    return found["inspector"], found["domain"]


# -------------------------------------------------------------------------------------------- DANDI
DANDI_SEX_VALUES = ("M", "F", "U", "O")
_ISO_DURATION = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                           r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
_SPECIES_FORM = re.compile(r"^([A-Z][a-z]+ [a-z]+( [a-z]+)?|https?://purl\.obolibrary\.org/obo/NCBITaxon_\d+)$")


def sanitize_dandi_label(*, label: str) -> str:
    """A subject/session ID as DANDI writes it in file names: letters, digits and '-' only."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9-]", "-", label.strip())).strip("-")


def modalities_of(*, nwbfile: Any) -> list[str]:
    """The DANDI modality suffixes of a file from what it holds, sorted (e.g. ['ecephys', 'ogen', 'ophys'])."""
    from pynwb.ecephys import ElectricalSeries
    from pynwb.ophys import ImageSegmentation, RoiResponseSeries

    found: set[str] = set()
    for neurodata_object in nwbfile.objects.values():
        type_names = {cls.__name__ for cls in type(neurodata_object).__mro__}
        module = type(neurodata_object).__module__
        if isinstance(neurodata_object, ElectricalSeries):
            found.add("ecephys")
        elif isinstance(neurodata_object, (RoiResponseSeries, ImageSegmentation)) or type_names & {
            "FiberPhotometryResponseSeries", "FiberPhotometry", "FiberPhotometryTable",
        }:
            found.add("ophys")
        elif type_names & {"OptogeneticSeries", "OptogeneticEpochsTable", "OptogeneticExperimentMetadata"} or (
            module.startswith("pynwb.ogen")
        ):
            found.add("ogen")
        elif module.startswith("pynwb.behavior"):
            found.add("behavior")
        elif module.startswith("pynwb.icephys"):
            found.add("icephys")
    return sorted(found)


def expected_dandi_file_name(*, nwbfile: Any) -> str | None:
    """``sub-<id>_ses-<id>_<modalities>.nwb`` for this file (None without a subject_id)."""
    subject = nwbfile.subject
    subject_id = sanitize_dandi_label(label=str(subject.subject_id or "")) if subject is not None else ""
    if not subject_id:
        return None
    parts = [f"sub-{subject_id}"]
    session_id = sanitize_dandi_label(label=str(nwbfile.session_id or ""))
    if session_id:
        parts.append(f"ses-{session_id}")
    modalities = modalities_of(nwbfile=nwbfile)
    if modalities:
        parts.append("+".join(modalities))
    return "_".join(parts) + ".nwb"


def _dandi_message(*, check: str, message: str, hint: str, location: str = "/general/subject",
                   severity: str = "error") -> ValidationMessage:
    importance = {"error": "CRITICAL", "warning": "BEST_PRACTICE_VIOLATION", "info": "BEST_PRACTICE_SUGGESTION"}
    return ValidationMessage(layer="dandi", severity=severity, importance=importance[severity], check=check,
                             location=location, message=message, hint=hint)


def dandiset_root_of(*, path: Path) -> Path | None:
    """The nearest folder above ``path`` holding a ``dandiset.yaml`` (None if there is none)."""
    for folder in path.resolve().parents:
        if (folder / "dandiset.yaml").is_file():
            return folder
    return None


def dandi_messages(*, nwbfile: Any, path: Path) -> list[ValidationMessage]:
    """What DANDI requires of a file, in words: subject and session fields, and the file's name and place."""
    messages: list[ValidationMessage] = []
    subject = nwbfile.subject
    if subject is None:
        messages.append(_dandi_message(
            check="dandi_subject", message="The file has no Subject; DANDI requires one.",
            hint="nwbfile.subject = Subject(subject_id=..., species='Mus musculus', sex=..., age='P90D')",
        ))
    else:
        subject_id = str(subject.subject_id or "").strip()
        if not subject_id:
            messages.append(_dandi_message(check="dandi_subject_id", message="subject_id is empty.",
                                           hint="set Subject(subject_id=...) to the animal's ID"))
        elif "/" in subject_id:
            messages.append(_dandi_message(check="dandi_subject_id", message=f"subject_id '{subject_id}' has '/'.",
                                           hint="DANDI uses the ID in folder names: remove '/'"))
        species = str(subject.species or "").strip()
        if not species:
            messages.append(_dandi_message(check="dandi_species", message="species is empty.",
                                           hint="set Subject(species='Mus musculus')"))
        elif not _SPECIES_FORM.match(species):
            messages.append(_dandi_message(
                check="dandi_species", message=f"species '{species}' is neither a Latin binomial nor an NCBI URL.",
                hint="write 'Mus musculus' (not 'mouse')",
            ))
        sex = str(subject.sex or "").strip()
        if sex not in DANDI_SEX_VALUES:
            messages.append(_dandi_message(check="dandi_sex", message=f"sex is {sex!r}, expected one of "
                                           f"{list(DANDI_SEX_VALUES)}.", hint="'M', 'F', 'U' (unknown) or 'O' (other)"))
        age = str(subject.age or "").strip()
        if not age and subject.date_of_birth is None:
            messages.append(_dandi_message(check="dandi_age", message="neither age nor date_of_birth is set.",
                                           hint="set Subject(age='P90D') (ISO 8601) or Subject(date_of_birth=...)"))
        elif age and not all(_ISO_DURATION.match(part) for part in age.split("/") if part):
            messages.append(_dandi_message(check="dandi_age", message=f"age '{age}' is not an ISO 8601 duration.",
                                           hint="write 90 days as 'P90D', 12 weeks as 'P12W'"))
    session_id = str(nwbfile.session_id or "").strip()
    if not session_id:
        messages.append(_dandi_message(
            check="dandi_session_id", location="/general/session_id", message="session_id is not set.",
            hint="set NWBFile(session_id=...): DANDI names files sub-<subject>_ses-<session>",
        ))
    elif "/" in session_id:
        messages.append(_dandi_message(check="dandi_session_id", location="/general/session_id",
                                       message=f"session_id '{session_id}' has '/'.", hint="remove '/'"))
    messages.extend(_naming_messages(nwbfile=nwbfile, path=path))
    return messages


def _naming_messages(*, nwbfile: Any, path: Path) -> list[ValidationMessage]:
    expected = expected_dandi_file_name(nwbfile=nwbfile)
    root = dandiset_root_of(path=path)
    if root is None:
        return [_dandi_message(
            check="dandi_layout", location="", severity="info",
            message=(f"{path.name} is not inside a dandiset folder (no dandiset.yaml above it); DANDI expects "
                     f"sub-<subject>/{expected or 'sub-<subject>_ses-<session>_<modalities>.nwb'}."),
            hint="lay files out for upload with `glymph organize FILES -o DANDISET_DIR`",
        )]
    if expected is None:
        return []
    subject_folder = expected.split("_")[0]
    actual = path.resolve().relative_to(root).as_posix()
    wanted = f"{subject_folder}/{expected}"
    if actual == wanted:
        return []
    return [_dandi_message(
        check="dandi_file_name", location="",
        message=f"{actual} inside dandiset {root} should be {wanted} (from the file's subject, session and content).",
        hint="rename it, or lay files out with `glymph organize FILES -o DANDISET_DIR`",
    )]


_REPEATED_DANDI_IDS = ("NWBI.", "PYNWB")


def dandi_cli_messages(*, path: Path) -> tuple[list[ValidationMessage], str]:
    """``dandi validate`` on the file when dandi-cli is importable.

    Returns
    -------
    messages : list of ValidationMessage
    note : str
        Why dandi-cli did not run, or which of its findings were left to other layers ("" otherwise).
    """
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
        if severity_name in ("HINT", "INFO"):
            severity = "info"
        elif severity_name == "WARNING":
            severity = "warning"
        else:
            severity = "error"
        within = getattr(result, "within_asset_paths", None) or {}
        messages.append(_dandi_message(
            check=f"dandi_validate:{getattr(result, 'id', 'unknown')}",
            location=str(next(iter(within.values()), "")) if isinstance(within, dict) else "", severity=severity,
            message=str(getattr(result, "message", None) or result),
            hint="see `dandi validate --help` and https://docs.dandiarchive.org/ for this rule",
        ))
    return messages, note
