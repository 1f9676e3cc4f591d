"""Readers for pyPhotometry recordings: binary ``.ppd`` files and CSV exports (+ sidecar ``.json``).

Written from the layout documented below, not from the GPL upstream reader.

``.ppd``
    a little-endian uint16 header length ``L``, ``L`` bytes of JSON header, then little-endian uint16
    words. In each word ``word >> 1`` is the 15-bit ADC value and bit 0 a digital level. Words come in
    frames, one frame per sample:

    * continuous modes (old names such as ``'2 colour time div.'``, new ``2EX_2EM_continuous``):
      ``[a1, a2(, a3)]``;
    * pulsed modes (``2EX_1EM_pulsed``, ``2EX_2EM_pulsed``, ``3EX_2EM_pulsed``; version >= 1.1):
      ``[a1_on, a1_off, a2_on, a2_off, ...]`` where the LED-off sample is the baseline.

    Digital input ``n`` (1-based) is bit 0 of word ``n - 1`` of every frame. Header keys used:
    ``sampling_rate``, ``mode``, ``volts_per_division`` (a number or one per signal; a list shorter
    than the signals is reused cyclically), ``n_analog_signals`` / ``n_digital_signals`` (default 2 /
    2 for old files without them), ``date_time``, ``version`` (a JSON number or string, read with
    ``str``).
CSV export
    columns ``Analog1, Analog2(, Analog3), Digital1, Digital2`` holding integer ADC counts and 0/1
    levels, plus a sidecar ``.json`` with the same header keys (continuous modes).

Streams: ``analog_1``, ``analog_2``, ... in volts (``ADC * volts_per_division``); pulsed modes add
the raw ``analog_<n>_on`` and ``analog_<n>_off`` streams and make ``analog_<n>`` the baseline-subtracted
signal ``(on - off) * volts_per_division``. Events: ``digital_1``, ``digital_2`` with rising-edge onsets
and falling-edge offsets at ``sample / sampling_rate`` seconds. The session starts at ``date_time``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ndx_glymphatic.converters._contract import EventChannel, RigReader, StreamInfo
from ndx_glymphatic.converters._paths import describe_path, require_regular_file
from ndx_glymphatic.converters._timing import EdgeDetector
from ndx_glymphatic.errors import InputFileError

__all__ = ["PULSED_MIN_VERSION", "PyPhotometryCsvReader", "PyPhotometryReader", "parse_version"]

#: First pyPhotometry version whose pulsed modes store LED-on and LED-off samples.
PULSED_MIN_VERSION: tuple[int, ...] = (1, 1)

_REQUIRED_KEYS = ("sampling_rate", "mode", "volts_per_division")
_ADC_MAX = 2**15 - 1


def parse_version(*, version: object) -> tuple[int, ...]:
    """``0.2`` / ``'0.3'`` / ``'1.1.2'`` -> ``(0, 2)`` / ``(0, 3)`` / ``(1, 1, 2)`` (non-digits ignored)."""
    return tuple(int(part) for part in re.findall(r"\d+", str(version)))


@dataclass(frozen=True)
class _Channel:
    """How one stream is computed from the words of a frame."""

    word: int
    baseline_word: int | None
    volts_per_division: float


class _PyPhotometryHeader:
    """Header facts shared by the .ppd and CSV readers."""

    def __init__(self, *, header: Mapping[str, Any], path: Path, field: str) -> None:
        missing = [key for key in _REQUIRED_KEYS if key not in header]
        if missing:
            raise InputFileError(
                path=path, field=field, expected=f"keys {list(_REQUIRED_KEYS)}", found=f"no {missing}"
            )
        self.header = dict(header)
        self.mode = str(header["mode"])
        self.version = str(header.get("version", ""))
        rate = header["sampling_rate"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise InputFileError(
                path=path, field=f"{field} sampling_rate", expected="a positive number", found=repr(rate)
            )
        self.sampling_rate = float(rate)
        self.n_analog = self._count(header=header, key="n_analog_signals", default=2, path=path, field=field)
        self.n_digital = self._count(
            header=header, key="n_digital_signals", default=2, path=path, field=field
        )
        self.pulsed = "pulsed" in self.mode.lower()
        if self.pulsed and parse_version(version=self.version) < PULSED_MIN_VERSION:
            raise InputFileError(
                path=path,
                field=f"{field} version",
                expected=f"version >= {'.'.join(map(str, PULSED_MIN_VERSION))} for pulsed mode {self.mode!r}",
                found=repr(self.version),
            )
        self.words_per_sample = self.n_analog * (2 if self.pulsed else 1)
        if self.n_digital > self.words_per_sample:
            raise InputFileError(
                path=path,
                field=f"{field} n_digital_signals",
                expected=f"at most {self.words_per_sample} (one per word of a sample)",
                found=str(self.n_digital),
            )
        volts = header["volts_per_division"]
        volts_list = volts if isinstance(volts, list) else [volts]
        if not volts_list or not all(
            isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
            for value in volts_list
        ):
            raise InputFileError(
                path=path,
                field=f"{field} volts_per_division",
                expected="a positive number or a list of them",
                found=repr(volts),
            )
        self.volts_per_division = tuple(float(volts_list[k % len(volts_list)]) for k in range(self.n_analog))
        self.session_start_time = self._date_time(header=header, path=path, field=field)

    @staticmethod
    def _count(*, header: Mapping[str, Any], key: str, default: int, path: Path, field: str) -> int:
        value = header.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 8:
            raise InputFileError(
                path=path, field=f"{field} {key}", expected="an integer 0-8", found=repr(value)
            )
        return value

    @staticmethod
    def _date_time(*, header: Mapping[str, Any], path: Path, field: str) -> datetime | None:
        if "date_time" not in header:
            return None
        try:
            return datetime.fromisoformat(str(header["date_time"]))
        except ValueError:
            raise InputFileError(
                path=path,
                field=f"{field} date_time",
                expected="an ISO 8601 date and time (e.g. 2019-11-24T09:39:39)",
                found=repr(header["date_time"]),
            ) from None

    def channels(self) -> dict[str, _Channel]:
        """Stream name -> how to compute it from a frame of words."""
        channels: dict[str, _Channel] = {}
        for k in range(self.n_analog):
            volts = self.volts_per_division[k]
            if self.pulsed:
                channels[f"analog_{k + 1}"] = _Channel(2 * k, 2 * k + 1, volts)
                channels[f"analog_{k + 1}_on"] = _Channel(2 * k, None, volts)
                channels[f"analog_{k + 1}_off"] = _Channel(2 * k + 1, None, volts)
            else:
                channels[f"analog_{k + 1}"] = _Channel(k, None, volts)
        return channels


def _stream_infos(*, facts: _PyPhotometryHeader, n_samples: int) -> dict[str, StreamInfo]:
    return {
        name: StreamInfo(
            name=name,
            n_samples=n_samples,
            n_channels=1,
            unit="V",
            rate_in_Hz=facts.sampling_rate,
            starting_time_in_s=0.0,
            channel_names=(name,),
        )
        for name in facts.channels()
    }


def _unknown_stream(*, path: Path, names: list[str], stream_name: str) -> InputFileError:
    return InputFileError(path=path, field="stream", expected=f"one of {names}", found=repr(stream_name))


class PyPhotometryReader(RigReader):
    """Reader of a pyPhotometry ``.ppd`` file (memory-mapped, read in chunks).

    Parameters
    ----------
    path : str or Path
        The ``.ppd`` file.
    drop_incomplete_sample : bool
        Drop a trailing partial sample (a recording cut short) instead of reporting the file truncated.
    """

    format = "ppd"
    format_name = "pyPhotometry .ppd"
    modalities = ("photometry",)

    def __init__(self, *, path: str | Path, drop_incomplete_sample: bool = False) -> None:
        super().__init__(path=path)
        require_regular_file(path=self.path, expected="an existing .ppd file")
        size = self.path.stat().st_size
        with self.path.open("rb") as handle:
            prefix = handle.read(2)
            if len(prefix) < 2:
                raise InputFileError(
                    path=self.path,
                    field="header length (bytes 0-1)",
                    expected="a 2-byte little-endian header length",
                    found=f"a file of {size} bytes",
                )
            header_length = int.from_bytes(prefix, "little")
            if 2 + header_length > size:
                raise InputFileError(
                    path=self.path,
                    field="header length (bytes 0-1)",
                    expected=f"a JSON header of {header_length} bytes inside the file",
                    found=f"a file of {size} bytes (header would end at byte {2 + header_length})",
                )
            raw_header = handle.read(header_length)
        try:
            header = json.loads(raw_header.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputFileError(
                path=self.path,
                field=f"header (bytes 2-{1 + header_length})",
                expected="a JSON object",
                found=f"text that is not JSON ({error})",
            ) from None
        if not isinstance(header, dict):
            raise InputFileError(
                path=self.path, field="header", expected="a JSON object", found=type(header).__name__
            )
        self._facts = _PyPhotometryHeader(header=header, path=self.path, field="header")
        self.header: dict[str, Any] = self._facts.header
        self.mode = self._facts.mode
        self.version = self._facts.version
        self.sampling_rate_in_Hz = self._facts.sampling_rate
        self._offset = 2 + header_length
        data_bytes = size - self._offset
        frame_bytes = 2 * self._facts.words_per_sample
        self.n_samples, remainder = divmod(data_bytes, frame_bytes)
        if remainder and not drop_incomplete_sample:
            raise InputFileError(
                path=self.path,
                field="sample data",
                expected=(
                    f"whole samples of {self._facts.words_per_sample} uint16 words ({frame_bytes} bytes) "
                    f"for mode {self.mode!r}"
                ),
                found=f"{data_bytes} data bytes ({remainder} bytes past the last whole sample: truncated)",
                hint="pass drop_incomplete_sample=True to read the whole samples",
            )
        self._events: dict[str, EventChannel] | None = None

    def _words(self) -> np.ndarray:
        if self.n_samples == 0:
            return np.empty((0, self._facts.words_per_sample), dtype="<u2")
        return np.memmap(
            self.path,
            dtype="<u2",
            mode="r",
            offset=self._offset,
            shape=(self.n_samples, self._facts.words_per_sample),
        )

    @property
    def session_start_time(self) -> datetime | None:
        """``date_time`` from the header (no time zone: pyPhotometry writes local time)."""
        return self._facts.session_start_time

    def streams(self) -> Mapping[str, StreamInfo]:
        """``analog_<n>`` (and ``analog_<n>_on`` / ``_off`` for pulsed modes), in volts."""
        return _stream_infos(facts=self._facts, n_samples=self.n_samples)

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        """Yield ``(n, 1)`` float64 chunks in volts, straight from the memory-mapped words."""
        channels = self._facts.channels()
        if stream_name not in channels:
            raise _unknown_stream(path=self.path, names=list(channels), stream_name=stream_name)
        channel = channels[stream_name]
        words = self._words()
        for start in range(0, self.n_samples, chunk_samples):
            block = words[start : start + chunk_samples]
            adc = (block[:, channel.word] >> 1).astype(np.float64)
            if channel.baseline_word is not None:
                adc -= block[:, channel.baseline_word] >> 1
            yield (adc * channel.volts_per_division)[:, None]

    def events(self) -> Mapping[str, EventChannel]:
        """``digital_<n>``: rising-edge onsets, falling-edge offsets, at ``sample / rate`` seconds."""
        if self._events is None:
            detectors = [EdgeDetector() for _ in range(self._facts.n_digital)]
            words = self._words()
            step = 1_000_000
            for start in range(0, self.n_samples, step):
                block = words[start : start + step]
                times = (start + np.arange(block.shape[0])) / self.sampling_rate_in_Hz
                for k, detector in enumerate(detectors):
                    detector.feed(levels=(block[:, k] & 1).astype(bool), times=times)
            self._events = {
                f"digital_{k + 1}": detector.event_channel(name=f"digital_{k + 1}")
                for k, detector in enumerate(detectors)
            }
        return self._events


class PyPhotometryCsvReader(RigReader):
    """Reader of a pyPhotometry CSV export (``Analog1, Analog2, Digital1, Digital2``) + sidecar JSON.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    sidecar_path : str or Path, optional
        The JSON header (default: the CSV path with suffix ``.json``).
    """

    format = "ppd"
    format_name = "pyPhotometry CSV export"
    modalities = ("photometry",)
    suffixes = (".csv",)

    def __init__(self, *, path: str | Path, sidecar_path: str | Path | None = None) -> None:
        super().__init__(path=path)
        require_regular_file(path=self.path, expected="an existing CSV file")
        self.sidecar_path = Path(sidecar_path) if sidecar_path is not None else self.path.with_suffix(".json")
        sidecar_kind = describe_path(path=self.sidecar_path)
        if sidecar_kind != "a regular file":
            raise InputFileError(
                path=self.sidecar_path,
                field="sidecar JSON",
                expected=f"the header of {self.path.name} beside it",
                found=sidecar_kind,
            )
        try:
            header = json.loads(self.sidecar_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputFileError(
                path=self.sidecar_path,
                field="sidecar JSON",
                expected="a JSON object",
                found=f"not JSON ({error})",
            ) from None
        if not isinstance(header, dict):
            raise InputFileError(
                path=self.sidecar_path,
                field="sidecar JSON",
                expected="a JSON object",
                found=type(header).__name__,
            )
        self._facts = _PyPhotometryHeader(header=header, path=self.sidecar_path, field="sidecar JSON")
        if self._facts.pulsed:
            raise InputFileError(
                path=self.sidecar_path,
                field="sidecar JSON mode",
                expected="a continuous mode (the CSV export holds one column per analog signal)",
                found=repr(self._facts.mode),
                hint="read the .ppd file of pulsed recordings",
            )
        self.header = self._facts.header
        self.mode = self._facts.mode
        self.sampling_rate_in_Hz = self._facts.sampling_rate
        with self.path.open(encoding="utf-8-sig") as handle:
            self.columns = tuple(cell.strip() for cell in handle.readline().strip().split(","))
        self._analog_columns = [f"Analog{k + 1}" for k in range(self._facts.n_analog)]
        self._digital_columns = [f"Digital{k + 1}" for k in range(self._facts.n_digital)]
        missing = [name for name in self._analog_columns + self._digital_columns if name not in self.columns]
        if missing:
            raise InputFileError(
                path=self.path,
                field="header row",
                expected=f"columns {self._analog_columns + self._digital_columns}",
                found=f"{list(self.columns)} (missing {missing})",
            )
        self.n_samples = sum(len(block) for block in self._blocks(names=self._analog_columns[:1]))
        self._events: dict[str, EventChannel] | None = None

    def _blocks(self, *, names: list[str], chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        try:
            reader = pd.read_csv(
                self.path,
                usecols=lambda column: column.strip() in names,
                chunksize=chunk_samples,
                skipinitialspace=True,
                encoding="utf-8-sig",
            )
            for frame in reader:
                frame.columns = [column.strip() for column in frame.columns]
                block = frame[names].to_numpy(dtype=np.float64)
                if not np.all(np.isfinite(block)):
                    row = int(np.flatnonzero(~np.all(np.isfinite(block), axis=1))[0])
                    raise ValueError(f"an empty or non-numeric cell near data row {row + 1} of this chunk")
                yield block
        except ValueError as error:
            raise InputFileError(
                path=self.path,
                field=", ".join(names),
                expected="integer counts in every row",
                found=str(error),
            ) from None

    @property
    def session_start_time(self) -> datetime | None:
        """``date_time`` from the sidecar JSON."""
        return self._facts.session_start_time

    def streams(self) -> Mapping[str, StreamInfo]:
        """``analog_<n>`` in volts."""
        return _stream_infos(facts=self._facts, n_samples=self.n_samples)

    def iter_stream_chunks(self, *, stream_name: str, chunk_samples: int = 1_000_000) -> Iterator[np.ndarray]:
        """Yield ``(n, 1)`` float64 chunks in volts."""
        channels = self._facts.channels()
        if stream_name not in channels:
            raise _unknown_stream(path=self.path, names=list(channels), stream_name=stream_name)
        channel = channels[stream_name]
        column = self._analog_columns[channel.word]
        for block in self._blocks(names=[column], chunk_samples=chunk_samples):
            yield block * channel.volts_per_division

    def events(self) -> Mapping[str, EventChannel]:
        """``digital_<n>`` rising / falling edges."""
        if self._events is None:
            detectors = [EdgeDetector() for _ in self._digital_columns]
            start = 0
            blocks = self._blocks(names=self._digital_columns) if self._digital_columns else iter(())
            for block in blocks:
                times = (start + np.arange(block.shape[0])) / self.sampling_rate_in_Hz
                for k, detector in enumerate(detectors):
                    detector.feed(levels=block[:, k] > 0.5, times=times)
                start += block.shape[0]
            self._events = {
                f"digital_{k + 1}": detector.event_channel(name=f"digital_{k + 1}")
                for k, detector in enumerate(detectors)
            }
        return self._events
