"""A real HTTP server on 127.0.0.1 serving a folder with Range support, counting the bytes it sends.

For the tests and the benchmark of remote files (:mod:`ndx_glymphatic.remote`): a file served here is
read exactly as one on DANDI or S3 is (HTTP range requests), on the loopback interface.

>>> with RangeServer(folder=tmp_path) as server:        # doctest: +SKIP
...     url = server.url("session.nwb")
...     server.bytes_served                             # body bytes sent so far

``truncate_paths`` names files whose range responses are cut short (the connection closes after half
the announced bytes), to test how a truncated response is reported.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from typing import Any

__all__ = ["RangeServer"]

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """GET with ``Range: bytes=a-b`` -> 206 + Content-Range; without Range -> 200 with the whole file."""

    server_state: RangeServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read stderr
        return

    def do_GET(self) -> None:
        self.server_state.count_request()
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404, "Not Found")
            return
        size = path.stat().st_size
        match = _RANGE.match(self.headers.get("Range", "").strip())
        if match is None:
            first, last, status = 0, size - 1, 200
        else:
            first = int(match.group(1))
            last = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
            status = 206
            if first >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        length = last - first + 1
        truncated = path.name in self.server_state.truncate_paths and status == 206 and length > 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if status == 206:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.end_headers()
        sent = length // 2 if truncated else length
        with open(path, "rb") as stream:
            stream.seek(first)
            remaining = sent
            while remaining > 0:
                block = stream.read(min(remaining, 1 << 20))
                if not block:
                    break
                self.wfile.write(block)
                remaining -= len(block)
                self.server_state.add(count=len(block))
        if truncated:
            self.close_connection = True


class RangeServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) serving ``folder``.

    Parameters
    ----------
    folder : Path
        The folder whose files are served (``url(name)``).
    truncate_paths : iterable of str
        File names whose range responses stop after half the announced bytes.

    Attributes
    ----------
    bytes_served : int
        Body bytes sent since start (or since :meth:`reset`).
    requests : int
        GET requests answered.
    """

    def __init__(self, *, folder: Path, truncate_paths: tuple[str, ...] = ()) -> None:
        self.folder = Path(folder)
        self.truncate_paths = set(truncate_paths)
        self.bytes_served = 0
        self.requests = 0
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(self.folder))
        )
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, name: str) -> str:
        """The URL of the file ``name`` in the folder."""
        return f"http://127.0.0.1:{self.port}/{name}"

    def add(self, *, count: int) -> None:
        with self._lock:
            self.bytes_served += count

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def reset(self) -> None:
        """Set the counters back to zero."""
        with self._lock:
            self.bytes_served = 0
            self.requests = 0

    def start(self) -> RangeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RangeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
