"""Where an NWB file comes from: a local path or an ``http(s)://`` URL, opened in ONE place.

Every part that opens an NWB file with h5py goes through :func:`open_h5`. A URL is read by HTTP
range requests (remfile): only the bytes HDF5 asks for are fetched, never the whole file. DANDI asset
download URLs and S3 object URLs are such URLs.

>>> with open_h5(source="https://dandiarchive.s3.amazonaws.com/blobs/...") as h5file:  # doctest: +SKIP
...     h5file["acquisition"].keys()

A network failure (connection refused, an HTTP error such as 404, a timeout, a response shorter than
asked for) becomes :class:`RemoteFileError`: one line naming the URL and the cause, exit code 2.
Inside HDF5 a failing read surfaces as a bare ``OSError``; :func:`network_errors` turns it back into
the recorded cause.

This module imports nothing heavy at start-up (the command line imports it for :data:`SOURCE`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from ndx_glymphatic.errors import GlymphError

__all__ = [
    "LIST_FILE_SUFFIXES",
    "SOURCE",
    "RemoteFileError",
    "Source",
    "SourceType",
    "as_source",
    "expand_list_files",
    "is_url",
    "network_errors",
    "network_failure",
    "open_binary",
    "open_h5",
    "source_name",
]

Source = str | Path

#: A local file with one of these suffixes lists URLs or paths, one per line (``#`` starts a comment).
LIST_FILE_SUFFIXES = (".txt", ".list")
#: Seconds to wait for a server to answer (connect and each read); a slower server is reported.
TIMEOUT_IN_S = 30.0
#: remfile's smallest request. HDF5 metadata is read in small pieces spread over the file; 64 KiB requests
#: keep the bytes fetched close to the bytes read.
MIN_REQUEST_BYTES = 64 * 1024

#: remfile's largest request (it grows requests while reads are sequential): bounds the bytes fetched past
#: the end of what is read.
MAX_REQUEST_BYTES = 4 * 2**20
#: Bytes remfile keeps in memory per open file (its default, 1 GB, would hold most of a 24-h session).
CACHE_BYTES = 64 * 2**20

_FAILURES: dict[str, str] = {}


class RemoteFileError(GlymphError):
    """A URL could not be read: the message names the URL and the cause (exit code 2).

    Parameters
    ----------
    url : str
    cause : str
        What went wrong, in words (``connection refused``, ``HTTP 404 Not Found``...).
    """

    exit_code = 2

    def __init__(self, *, url: str, cause: str) -> None:
        self.url = url
        self.cause = cause
        super().__init__(f"{url}: cannot read the remote file: {cause}")


def is_url(source: object) -> bool:
    """Whether ``source`` is an ``http://`` or ``https://`` URL."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def as_source(raw: str | Path) -> Source:
    """A URL as the text it is, anything else as a Path (``Path`` would turn ``//`` into ``/``)."""
    text = str(raw)
    return text if is_url(text) else Path(raw)


def source_name(source: Source) -> str:
    """The file name of a path or URL (``.../sub-1_ses-1.nwb?x=1`` -> ``sub-1_ses-1.nwb``; a DANDI asset
    download URL ``.../assets/<asset id>/download/`` -> the asset id)."""
    if is_url(source):
        from urllib.parse import unquote, urlsplit

        parts = [part for part in unquote(urlsplit(str(source)).path).split("/") if part]
        if len(parts) > 1 and parts[-1] == "download":  # DANDI: /api/assets/<asset id>/download/
            return parts[-2]
        return parts[-1] if parts else str(source)
    return Path(source).name


class SourceType(click.ParamType):
    """A click argument that is a local path or an ``http(s)://`` URL (kept as text)."""

    name = "path_or_url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Source:
        return as_source(value)


SOURCE = SourceType()


def _list_file_lines(*, path: Path) -> list[Source]:
    from ndx_glymphatic.errors import InputFileError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(
            path=path,
            field="list of files",
            expected="a readable UTF-8 text file",
            found=f"{type(error).__name__}: {error}",
        ) from None
    sources: list[Source] = []
    for line in text.splitlines():
        entry = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if not entry:
            continue
        if is_url(entry):
            sources.append(entry)
        else:
            local = Path(entry).expanduser()
            sources.append(local if local.is_absolute() else path.parent / local)
    if not sources:
        raise InputFileError(path=path, field="list of files", expected="at least one URL or path", found="none")
    return sources


def expand_list_files(*, sources: Iterable[str | Path]) -> list[Source]:
    """Replace each list file (``.txt``/``.list``: one URL or path per line) by its entries.

    Blank lines and ``#`` comments are skipped; relative paths are relative to the list file's folder.
    URLs are kept as text, everything else becomes a Path.
    """
    expanded: list[Source] = []
    for raw in sources:
        source = as_source(raw)
        if isinstance(source, Path) and source.suffix.lower() in LIST_FILE_SUFFIXES and source.is_file():
            expanded.extend(_list_file_lines(path=source))
        else:
            expanded.append(source)
    return expanded


# ----------------------------------------------------------------------------------------------- network
def _cause(*, error: BaseException) -> str:
    """One phrase for a requests/urllib3 failure."""
    import requests

    text = str(error)
    if isinstance(error, requests.exceptions.Timeout):
        return f"no answer within {TIMEOUT_IN_S:g} s (timeout)"
    if isinstance(error, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return "the response was truncated (the server closed the connection early)"
    if isinstance(error, requests.exceptions.ConnectionError):
        if "refused" in text.lower():
            return "connection refused"
        if "incompleteread" in text.lower().replace(" ", "") or "truncated" in text.lower():
            return "the response was truncated (the server closed the connection early)"
        return f"cannot connect ({text.splitlines()[0][:200] if text else type(error).__name__})"
    return f"{type(error).__name__}: {text.splitlines()[0][:200] if text else ''}".rstrip(": ")


def _http_status_cause(*, response: Any) -> str:
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


def _remote_size(*, url: str) -> int:
    """The size in bytes of the file at ``url``, asked once (a one-byte range request), with a timeout."""
    import requests

    try:
        response = requests.get(url, headers={"Range": "bytes=0-0"}, timeout=TIMEOUT_IN_S, stream=True)
    except requests.exceptions.RequestException as error:
        raise RemoteFileError(url=url, cause=_cause(error=error)) from None
    with response:
        if response.status_code == 206:
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            if total.isdigit():
                return int(total)
            raise RemoteFileError(url=url, cause="the server answered the range request without the file size")
        if response.status_code == 200:
            raise RemoteFileError(
                url=url,
                cause="the server does not support HTTP range requests (it answered "
                "200 with the whole file); download the file and pass its path",
            )
        raise RemoteFileError(url=url, cause=_http_status_cause(response=response))


def _record(*, url: str, cause: str) -> None:
    _FAILURES.setdefault(url, cause)


class _Session:
    """The requests session remfile reads through: a timeout on every request, one retry, failures recorded.

    remfile retries a failing range request eight times with growing pauses (about a minute); a server that
    refuses, times out or truncates twice in a row is reported instead.
    """

    def __init__(self, *, url: str) -> None:
        import requests

        self._url = url
        self._session = requests.Session()

    def get(self, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        import requests
        from remfile.RemFile import _PermanentHTTPError

        kwargs.setdefault("timeout", TIMEOUT_IN_S)
        for attempt in range(2):
            try:
                response = self._session.get(url, headers=headers, **kwargs)
            except requests.exceptions.RequestException as error:
                cause = _cause(error=error)
            else:
                cause = self._short_answer(response=response, headers=headers or {})
                if not cause:
                    return response
            if attempt == 1:
                _record(url=self._url, cause=cause)
                raise _PermanentHTTPError(cause)
        raise AssertionError("unreachable")

    @staticmethod
    def _short_answer(*, response: Any, headers: dict[str, str]) -> str:
        """Why ``response`` is not the range asked for ("" when it is)."""
        if response.status_code not in (200, 206):
            return _http_status_cause(response=response)
        asked = headers.get("Range", "").removeprefix("bytes=")
        first, _, last = asked.partition("-")
        if first.isdigit() and last.isdigit() and len(response.content) != int(last) - int(first) + 1:
            return f"the response was truncated (asked for bytes {first}-{last}, got {len(response.content)} bytes)"
        return ""

    def close(self) -> None:
        self._session.close()


class _RangeReader:
    """A read-only, seekable file object over ``url`` (remfile); a failed read raises :class:`RemoteFileError`."""

    def __init__(self, *, url: str) -> None:
        import remfile

        self.url = url
        size = _remote_size(url=url)
        self._file = remfile.File(
            url,
            _size=size,
            _min_chunk_size=MIN_REQUEST_BYTES,
            _max_chunk_size=MAX_REQUEST_BYTES,
            _max_cache_size=CACHE_BYTES,
            _use_session=True,
        )
        self._file.session = _Session(url=url)

    def __repr__(self) -> str:  # HDF5 names a file object's file after it: pynwb's container_source
        return self.url

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._file.length - self._file.tell()
        try:
            return self._file.read(size)
        except Exception as error:
            cause = _FAILURES.get(self.url) or _cause(error=error)
            _record(url=self.url, cause=cause)
            raise RemoteFileError(url=self.url, cause=cause) from None

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        self._file.seek(offset, whence)
        return self._file.tell()

    def tell(self) -> int:
        return self._file.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._file.session.close()

    def __enter__(self) -> _RangeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_binary(source: Source) -> Any:
    """A binary, seekable, read-only file object on ``source`` (a URL is read by range requests).

    Raises
    ------
    RemoteFileError
        The URL cannot be reached (refused, HTTP error, timeout).
    """
    if is_url(source):
        _FAILURES.pop(str(source), None)
        return _RangeReader(url=str(source))
    return open(source, "rb")


def open_h5(source: Source, **h5py_options: Any) -> Any:
    """``h5py.File(source, "r")``: a local file as usual, a URL over HTTP range requests.

    Parameters
    ----------
    source : str or Path
        A local path or an ``http(s)://`` URL.
    **h5py_options
        Passed to ``h5py.File`` (e.g. ``rdcc_nbytes``).

    Returns
    -------
    h5py.File
        Read-only. For a URL its driver is ``"fileobj"``; closing it closes the connection.

    Raises
    ------
    RemoteFileError
        The URL cannot be reached, or reading its first bytes failed on the network.
    """
    import h5py

    if not is_url(source):
        return h5py.File(source, "r", **h5py_options)
    reader = open_binary(source)
    try:
        with network_errors(source=source):
            h5file = h5py.File(reader, "r", **h5py_options)
    except BaseException:
        reader.close()
        raise
    return h5file


@contextlib.contextmanager
def network_errors(*, source: Source) -> Iterator[None]:
    """Turn an error raised while reading ``source`` into :class:`RemoteFileError` when the network caused it."""
    try:
        yield
    except RemoteFileError:
        raise
    except Exception:
        cause = network_failure(source=source)
        if cause is not None:
            raise RemoteFileError(url=str(source), cause=cause) from None
        raise


def network_failure(*, source: Source) -> str | None:
    """The network failure recorded while reading the URL ``source`` (None: none, or not a URL)."""
    return _FAILURES.get(str(source)) if is_url(source) else None
