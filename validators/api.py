"""Public entry points: validate one file, or many files and folders.

``validate_file`` is what other parts call (the analysis refuses files that are not ready):

>>> report = validate_file(path="session.nwb", profile="analysis")   # doctest: +SKIP
>>> report.is_conformant, report.format_text(), report.to_json()     # doctest: +SKIP

Layers, in order (``report.layers`` says which ran): ``file`` and ``security`` (h5py, before pynwb
opens anything; a file with links leaving it is never opened), ``schema`` (pynwb.validate with the
cached namespaces), ``inspector`` (nwbinspector's checks, DANDI configuration), ``domain`` (our checks,
registered into nwbinspector), ``dandi`` (DANDI readiness), ``analysis`` (analysis readiness: the
readiness checks the caller passes, ``readiness_checks=``; the analysis package defines them, and
``glymph validate`` passes them). The checks of the last four layers are nwbinspector check functions,
run by nwbinspector (``layers.check_messages``).
Session files (``.yaml``/``.yml``/``.json``) get the ``session`` layer instead.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from ndx_glymphatic.errors import GlymphError
from ndx_glymphatic.remote import (
    RemoteFileError,
    Source,
    as_source,
    expand_list_files,
    is_url,
    network_failure,
    open_h5,
)
from ndx_glymphatic.validators._check_tools import CheckFunction
from ndx_glymphatic.validators.probe import probe_path
from ndx_glymphatic.validators.report import ValidationMessage, ValidationReport

__all__ = [
    "PROFILES",
    "PROFILE_LAYERS",
    "SESSION_FILE_SUFFIXES",
    "Profile",
    "collect_paths",
    "open_validated",
    "validate_file",
    "validate_paths",
]

Profile = Literal["dandi", "analysis", "all", "derived"]

#: The layers each profile runs. ``derived``: a derived file of ``glymph analyze --write-derived``
#: (no acquired data: the domain checks about raw data are left out, the ``derived`` layer checks its content).
PROFILE_LAYERS: dict[str, tuple[str, ...]] = {
    "dandi": ("file", "security", "schema", "inspector", "domain", "dandi"),
    "analysis": ("file", "security", "schema", "domain", "analysis"),
    "all": ("file", "security", "schema", "inspector", "domain", "dandi", "analysis"),
    "derived": ("file", "security", "schema", "inspector", "domain", "derived"),
}
PROFILES: tuple[str, ...] = tuple(PROFILE_LAYERS)
SESSION_FILE_SUFFIXES = (".yaml", ".yml", ".json")


_NO_READINESS_CHECKS = ("no readiness checks were given (validate_file(readiness_checks=...): "
                        "ndx_glymphatic.analysis.readiness.readiness_checks())")


class _UsageError(GlymphError):
    exit_code = 2


def _check_profile(*, profile: str) -> None:
    if profile not in PROFILE_LAYERS:
        raise _UsageError(f"unknown validation profile {profile!r}; expected one of {list(PROFILES)}")


def _crash_message(*, layer: str, error: BaseException) -> ValidationMessage:
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    at = f" (at {Path(where[0].filename).name}:{where[0].lineno})" if where else ""
    return ValidationMessage(
        layer=layer, severity="error", importance="ERROR", check=f"{layer}_layer", location="",
        message=f"the {layer} layer could not finish: {type(error).__name__}: {error}{at}",
        hint="the file is probably damaged in a way the earlier layers describe; if not, please report this",
    )


def _session_report(*, path: Path, profile: str) -> ValidationReport:
    report = ValidationReport(path=str(path), profile=profile, kind="session")
    try:
        from ndx_glymphatic.session import validate_session_file
    except ImportError:
        report.could_not_run = True
        report.set_layer(layer="session", skipped_reason="ndx_glymphatic.session is not available")
        report.add(messages=[ValidationMessage(
            layer="session", severity="error", importance="ERROR", check="session_schema", location="",
            message=("session files are validated against the converters' session JSON Schema, but "
                     "ndx_glymphatic.session is not installed in this environment."),
            hint="install the complete ndx-glymphatic package (the converters part), then validate again",
        )])
        return report
    if not path.is_file():
        report.could_not_run = True
        report.set_layer(layer="session", skipped_reason="the path is not a readable file")
        report.add(messages=[ValidationMessage(
            layer="session", severity="error", importance="ERROR", check="path_exists", location="",
            message=f"{path} does not exist or is not a file.", hint="check the path",
        )])
        return report
    started = time.perf_counter()
    report.set_layer(layer="session")
    try:
        problems = list(validate_session_file(path=path))
    except GlymphError as error:
        problems = [str(error)]
    except Exception as error:
        report.add(messages=[_crash_message(layer="session", error=error)])
        problems = []
    for problem in problems:
        field, separator, text = str(problem).partition(": ")
        report.add(messages=[ValidationMessage(
            layer="session", severity="error", importance="CRITICAL", check="session_schema",
            location=field if separator else "", message=text if separator else str(problem),
            hint="fix the field in the session file (see docs/session-file.md for the session file layout)",
        )])
    report.durations_in_s["session"] = time.perf_counter() - started
    return report


#: Chunk cache per dataset of the file as validated. hdmf opens files with 32 MB per dataset; as pynwb keeps
#: every series open, reading all samples of a 24-h file (check_nan_runs) would keep 32 MB of decompressed
#: samples per series. Data checks read whole chunks, so a small cache loses nothing.
READ_CHUNK_CACHE_BYTES = 2 * 2**20


def _open_io(
    *, path: Source, cached_namespaces: dict[str, str], chunk_cache_bytes: int = READ_CHUNK_CACHE_BYTES
) -> Any:
    """An open NWBHDF5IO on ``path``, reading as ``pynwb.read_nwb`` would, with a small chunk cache.

    When every namespace cached in the file is already loaded (core, ours and the ones ours includes),
    read_nwb would use the loaded ones anyway, so the cached copies are not parsed again.
    """
    import pynwb
    from pynwb import NWBHDF5IO

    from ndx_glymphatic import load_namespace

    load_namespace()  # ours and the ones it includes
    loaded = set(pynwb.available_namespaces())
    h5file = open_h5(path, rdcc_nbytes=chunk_cache_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if cached_namespaces and set(cached_namespaces) <= loaded:
                return NWBHDF5IO(file=h5file, mode="r", manager=pynwb.get_manager())
            return NWBHDF5IO(file=h5file, mode="r", load_namespaces=True)
    except Exception:
        h5file.close()
        raise


def _open_and_read_builder(
    *, path: Source, cached_namespaces: dict[str, str], chunk_cache_bytes: int
) -> tuple[Any, Any, Exception | None]:
    """``(io, builder, None)``, or ``(None, None, error)`` when pynwb cannot open the file (nothing left open)."""
    io = None
    try:
        io = _open_io(path=path, cached_namespaces=cached_namespaces, chunk_cache_bytes=chunk_cache_bytes)
        return io, io.read_builder(), None
    except Exception as error:
        if io is not None:
            _close_io(io=io)
        return None, None, error


def _read_nwbfile(*, io: Any) -> tuple[Any, Exception | None]:
    """``(nwbfile, None)``, or ``(None, error)`` when pynwb cannot build the file's objects."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return io.read(), None
    except Exception as error:
        return None, error


def _close_io(*, io: object) -> None:
    h5file = getattr(io, "_file", None)
    io.close()  # type: ignore[attr-defined]
    if h5file is not None and h5file.id.valid:
        h5file.close()


def _read_error_message(*, error: BaseException) -> ValidationMessage:
    text = f"{type(error).__name__}: {error}"
    last = text.strip().splitlines()[-1] if text.strip() else text
    return ValidationMessage(
        layer="file", severity="error", importance="ERROR", check="pynwb_readable", location="",
        message=f"pynwb cannot read the file: {last[:2000]}",
        hint=("the file's structure does not match its schema (see the schema layer for details); rewrite it "
              "with pynwb / `glymph convert` rather than editing it by hand"),
    )


def validate_file(
    *, path: str | Path, profile: Profile = "all", readiness_checks: Sequence[CheckFunction] = ()
) -> ValidationReport:
    """Validate one NWB file (or session file) and return the report; never raises for a bad file.

    Parameters
    ----------
    path : str or Path
        An ``.nwb`` file (a local path or an ``http(s)://`` URL, read by range requests), or a session file
        (``.yaml``, ``.yml``, ``.json``) before conversion.
    profile : {"dandi", "analysis", "all", "derived"}
        Which layers to run (see :data:`PROFILE_LAYERS`).
    readiness_checks : sequence of nwbinspector check functions
        The checks of the ``analysis`` layer (``ndx_glymphatic.analysis.readiness.readiness_checks()``);
        without any, that layer is reported as skipped.

    Returns
    -------
    ValidationReport
        ``.is_conformant``, ``.messages``, ``.format_text()``, ``.to_json()``.

    Raises
    ------
    GlymphError
        Only for an unknown ``profile`` (a usage error, exit code 2).
    """
    _check_profile(profile=profile)
    path = as_source(path)
    if isinstance(path, Path) and path.suffix.lower() in SESSION_FILE_SUFFIXES:
        return _session_report(path=path, profile=profile)
    report = _validate_nwb_file(path=path, profile=profile, readiness_checks=readiness_checks)
    cause = network_failure(source=path)
    if cause is not None:  # a layer that failed on a read reports damage; the network is the reason
        return failure_report(path=path, profile=profile, check="remote_readable", could_not_run=True,
                               message=str(RemoteFileError(url=str(path), cause=cause)),
                               hint="check the URL, that the server is up and reachable from here, and try again")
    return report


def _validate_nwb_file(*, path: Source, profile: str, readiness_checks: Sequence[CheckFunction]) -> ValidationReport:
    with open_validated(path=path, profile=profile, readiness_checks=readiness_checks) as (report, _):
        return report


@contextmanager
def open_validated(
    *,
    path: Source,
    profile: str,
    readiness_checks: Sequence[CheckFunction] = (),
    chunk_cache_bytes: int = READ_CHUNK_CACHE_BYTES,
    nan_runs_judged_later: Callable[[Any], Iterable[Any]] | None = None,
) -> Iterator[tuple[ValidationReport, Any | None]]:
    """Validate an NWB file and keep it open: ``(report, nwbfile)``, nwbfile None when it could not be read.

    For a caller that goes on to read the file it validated (the analysis): the file is opened and its
    metadata read once, not once for the validation and again for the reading.

    Parameters
    ----------
    path : Path or str
        The NWB file (a local path or an ``http(s)://`` URL).
    profile : {"dandi", "analysis", "all", "derived"}
    readiness_checks : sequence of nwbinspector check functions
        The checks of the ``analysis`` layer.
    chunk_cache_bytes : int
        HDF5 chunk cache per dataset of the open file.
    nan_runs_judged_later : callable, optional
        ``f(nwbfile)`` -> the series whose samples the caller reads anyway: ``check_nan_runs`` passes
        over them, and the caller judges them with
        :func:`~ndx_glymphatic.validators.checks_data_integrity.nan_run_finding` as it reads (the
        report is then not complete until it adds those findings).

    Yields
    ------
    report : ValidationReport
    nwbfile : pynwb.NWBFile or None
        Open until the block ends.
    """
    layers = PROFILE_LAYERS[profile]
    report = ValidationReport(path=str(path), profile=profile)

    started = time.perf_counter()
    probe = probe_path(path=path)
    report.durations_in_s["file+security"] = time.perf_counter() - started
    report.could_not_run = probe.could_not_run
    report.set_layer(layer="file")
    report.add(messages=probe.file_messages)
    if probe.security_ran:
        report.set_layer(layer="security")
        report.add(messages=probe.security_messages)
    else:
        report.set_layer(layer="security", skipped_reason=probe.refusal)
    remaining = [layer for layer in layers if layer not in ("file", "security")]
    if not probe.openable:
        for layer in remaining:
            report.set_layer(layer=layer, skipped_reason=f"not opened with pynwb: {probe.refusal}")
        yield report, None
        return

    started = time.perf_counter()
    io, builder, error = _open_and_read_builder(path=path, cached_namespaces=probe.cached_namespaces,
                                                chunk_cache_bytes=chunk_cache_bytes)
    if error is not None:
        report.add(messages=[_read_error_message(error=error)])
        for layer in remaining:
            report.set_layer(layer=layer, skipped_reason="pynwb cannot read the file (see the file layer)")
        yield report, None
        return
    report.durations_in_s["read"] = time.perf_counter() - started
    try:
        if "schema" in layers:
            started = time.perf_counter()
            report.set_layer(layer="schema")
            try:
                from ndx_glymphatic.validators.layers import schema_messages

                report.add(messages=schema_messages(path=path, builder=builder))
            except Exception as error:
                report.add(messages=[_crash_message(layer="schema", error=error)])
            report.durations_in_s["schema"] = time.perf_counter() - started
        started = time.perf_counter()
        nwbfile, error = _read_nwbfile(io=io)
        if error is not None:
            report.add(messages=[_read_error_message(error=error)])
            for layer in remaining:
                if layer != "schema":
                    report.set_layer(layer=layer, skipped_reason="pynwb cannot read the file (see the file layer)")
            yield report, None
            return
        report.durations_in_s["read"] += time.perf_counter() - started
        from ndx_glymphatic.validators.checks_data_integrity import nan_runs_found_elsewhere

        judged_later = [] if nan_runs_judged_later is None else list(nan_runs_judged_later(nwbfile))
        with nan_runs_found_elsewhere(object_ids=[series.object_id for series in judged_later]):
            _run_open_file_layers(report=report, nwbfile=nwbfile, path=path, layers=layers,
                                  readiness_checks=readiness_checks)
        yield report, nwbfile
    finally:
        _close_io(io=io)


def _run_check_layer(*, report: ValidationReport, nwbfile: object, layer: str,
                     checks: Sequence[CheckFunction]) -> None:
    from ndx_glymphatic.validators.layers import check_messages

    report.set_layer(layer=layer)
    try:
        report.add(messages=check_messages(nwbfile=nwbfile, checks=checks, layer=layer))
    except Exception as error:
        report.add(messages=[_crash_message(layer=layer, error=error)])


def _run_open_file_layers(*, report: ValidationReport, nwbfile: object, path: Source, layers: Sequence[str],
                          readiness_checks: Sequence[CheckFunction]) -> None:
    from ndx_glymphatic.validators.checks_dandi import DANDI_CHECKS
    from ndx_glymphatic.validators.layers import dandi_cli_messages, domain_checks, inspector_checks

    if "inspector" in layers or "domain" in layers:
        started = time.perf_counter()
        if "inspector" in layers:
            checks = inspector_checks(other_checks=readiness_checks)
            _run_check_layer(report=report, nwbfile=nwbfile, layer="inspector", checks=checks)
        if "domain" in layers:
            checks = domain_checks()
            if "derived" in layers:
                from ndx_glymphatic.validators.checks_derived import RAW_DATA_CHECKS

                checks = [check for check in checks if check.__name__ not in RAW_DATA_CHECKS]
            _run_check_layer(report=report, nwbfile=nwbfile, layer="domain", checks=checks)
        report.durations_in_s["inspector+domain"] = time.perf_counter() - started
    if "dandi" in layers:
        started = time.perf_counter()
        _run_check_layer(report=report, nwbfile=nwbfile, layer="dandi", checks=DANDI_CHECKS)
        try:
            cli_messages, note = dandi_cli_messages(path=path)
            report.add(messages=cli_messages)
            report.set_layer(layer="dandi", note=note)
        except Exception as error:
            report.add(messages=[_crash_message(layer="dandi", error=error)])
        report.durations_in_s["dandi"] = time.perf_counter() - started
    if "derived" in layers:
        from ndx_glymphatic.validators.checks_derived import DERIVED_CHECKS

        started = time.perf_counter()
        _run_check_layer(report=report, nwbfile=nwbfile, layer="derived", checks=DERIVED_CHECKS)
        report.durations_in_s["derived"] = time.perf_counter() - started
    if "analysis" in layers:
        if not readiness_checks:
            report.set_layer(layer="analysis", skipped_reason=_NO_READINESS_CHECKS)
            return
        started = time.perf_counter()
        _run_check_layer(report=report, nwbfile=nwbfile, layer="analysis", checks=readiness_checks)
        report.durations_in_s["analysis"] = time.perf_counter() - started


# ----------------------------------------------------------------------------------- many paths
def collect_paths(*, paths: Iterable[str | Path]) -> list[Source]:
    """The files to validate: files and URLs as given; folders searched recursively for ``*.nwb``; list files
    (``.txt``/``.list``, one URL or path per line) replaced by their entries.

    A folder whose name ends in ``.nwb`` is itself returned (and reported as not a file). A folder with no
    NWB file is returned as is, so that its report says so. URLs are returned as text.
    """
    collected: list[Source] = []
    for path in expand_list_files(sources=paths):
        if isinstance(path, str):
            collected.append(path)
        elif path.is_dir() and not path.name.endswith((".nwb", ".nwb.zarr")):
            found = sorted(p for p in path.rglob("*.nwb") if not p.name.startswith("._"))
            collected.extend(found if found else [path])
        else:
            collected.append(path)
    unique: list[Source] = []
    seen: set[Source] = set()
    for path in collected:
        key = path.resolve() if isinstance(path, Path) and path.exists() else path
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _empty_folder_report(*, path: Path, profile: str) -> ValidationReport:
    return failure_report(path=path, profile=profile, check="nwb_files_found", could_not_run=True,
                          message=f"{path} is a folder without any .nwb file (searched recursively).",
                          hint="pass .nwb files or folders holding them")


def _child(connection: object, path: str, profile: str,
           readiness_checks: Sequence[CheckFunction]) -> None:  # pragma: no cover - runs in a fork
    import faulthandler

    faulthandler.disable()  # a crash is reported by the parent; no traceback dump on the terminal
    try:
        report = validate_file(path=path, profile=profile, readiness_checks=readiness_checks)  # type: ignore[arg-type]
        connection.send(report.to_json())  # type: ignore[attr-defined]
    except BaseException as error:
        connection.send({"crash": f"{type(error).__name__}: {error}"})  # type: ignore[attr-defined]
    finally:
        connection.close()  # type: ignore[attr-defined]


def failure_report(*, path: Source, profile: str, check: str, message: str, hint: str,
                   could_not_run: bool = False) -> ValidationReport:
    """A report of one file-layer error: the file could not be validated, or was refused before any layer ran."""
    report = ValidationReport(path=str(path), profile=profile, kind="unknown", could_not_run=could_not_run)
    report.set_layer(layer="file")
    report.add(messages=[ValidationMessage(layer="file", severity="error", importance="ERROR", check=check,
                                           location="", message=message, hint=hint)])
    return report


def _validate_isolated(*, path: Source, profile: str, timeout_in_s: float,
                       readiness_checks: Sequence[CheckFunction]) -> ValidationReport:
    """Run :func:`validate_file` in a forked process: a crash or hang of the HDF5 library stays there."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    # forked, not spawned: the check functions reach the child without being pickled
    process = context.Process(target=_child, args=(sender, str(path), profile, readiness_checks), daemon=True)
    process.start()
    sender.close()
    document = None
    ended = False
    try:
        if receiver.poll(timeout_in_s):
            ended = True  # a report arrived, or the child died and closed its end of the pipe
            try:
                document = receiver.recv()
            except EOFError:
                document = None
    finally:
        receiver.close()
        process.join(timeout=30 if ended else 0)
        if process.is_alive():
            process.kill()
            process.join()
    if not ended:
        return failure_report(
            path=path, profile=profile, check="validation_finished",
            message=f"validation did not finish within {timeout_in_s:g} s and was stopped.",
            hint="the file may be damaged (a loop in its HDF5 structure); raise --timeout for very large files",
        )
    if document is not None and "crash" not in document:
        return ValidationReport.from_json(document)
    if document is not None:
        return failure_report(path=path, profile=profile, check="validator_crashed",
                               message=f"validation stopped with {document['crash']}",
                               hint="please report this with the file")
    if process.exitcode is not None and process.exitcode < 0:
        name = signal.Signals(-process.exitcode).name
        return failure_report(
            path=path, profile=profile, check="hdf5_readable",
            message=f"reading the file crashed the HDF5 library ({name}): the file is damaged.",
            hint="restore the file from its source or write it again",
        )
    return failure_report(
        path=path, profile=profile, check="validator_crashed",
        message=f"the validating process ended without a report (exit code {process.exitcode}).",
        hint="please report this with the file",
    )


def validate_paths(
    *,
    paths: Iterable[str | Path],
    profile: Profile = "all",
    progress: bool = True,
    isolate: bool = True,
    timeout_in_s: float = 1800.0,
    readiness_checks: Sequence[CheckFunction] = (),
) -> list[ValidationReport]:
    """Validate files and folders (searched recursively for ``*.nwb``); one report per file.

    Parameters
    ----------
    paths : iterable of str or Path
        Files (NWB or session files) and folders.
    profile : {"dandi", "analysis", "all", "derived"}
        Which layers to run.
    progress : bool
        Show a progress bar (only on a terminal and with more than one file).
    isolate : bool
        Validate each file in a separate (forked) process, so that a crash or hang of the HDF5 library
        on a damaged file is reported instead of ending or blocking the run. Ignored where fork is
        unavailable.
    timeout_in_s : float
        With ``isolate``, stop a file's validation after this long and report it.
    readiness_checks : sequence of nwbinspector check functions
        The checks of the ``analysis`` layer (see :func:`validate_file`).

    Returns
    -------
    list of ValidationReport
    """
    from tqdm import tqdm

    _check_profile(profile=profile)
    files = collect_paths(paths=paths)
    can_fork = isolate and "fork" in multiprocessing.get_all_start_methods()
    show = progress and len(files) > 1 and sys.stderr.isatty()
    reports = []
    for path in tqdm(files, desc="validating", unit="file", disable=not show):
        if is_url(path):
            if can_fork:
                reports.append(_validate_isolated(path=path, profile=profile, timeout_in_s=timeout_in_s,
                                                  readiness_checks=readiness_checks))
            else:
                reports.append(validate_file(path=path, profile=profile, readiness_checks=readiness_checks))
        elif path.is_dir() and not path.name.endswith((".nwb", ".nwb.zarr")):
            reports.append(_empty_folder_report(path=path, profile=profile))
        elif can_fork and path.suffix.lower() not in SESSION_FILE_SUFFIXES:
            reports.append(_validate_isolated(path=path, profile=profile, timeout_in_s=timeout_in_s,
                                              readiness_checks=readiness_checks))
        else:
            reports.append(validate_file(path=path, profile=profile, readiness_checks=readiness_checks))
    return reports
