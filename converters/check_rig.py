"""``glymph convert --check-only``: the session file's stream and event-channel names checked against the rig headers.

Only headers are opened (no sample data is read); every name the session file gives that the rig
file lacks is one message naming the file, the session field, the name asked and the names found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ndx_glymphatic.converters._contract import RigReader
from ndx_glymphatic.converters.plan import photometry_reader_options
from ndx_glymphatic.converters.registry import open_rig_reader
from ndx_glymphatic.errors import InputFileError
from ndx_glymphatic.session import SessionConfig

__all__ = ["rig_name_problems"]


def _collect(problems: list[str], check: Callable[[], object]) -> None:
    try:
        check()
    except InputFileError as error:
        problems.append(str(error))


def _check_streams_and_events(
    *, section_name: str, channels: Sequence[object], events: Sequence[str], reader: RigReader, problems: list[str]
) -> None:
    """Each channel's stream and each event channel a session-file section names, looked up in its rig file."""
    for index, channel in enumerate(channels):
        field = f"{section_name}.channels[{index}].stream"
        _collect(
            problems,
            lambda c=channel, f=field: reader.resolve_stream(
                stream=c.stream, stream_channel=c.stream_channel, field_path=f
            ),
        )
    for index, name in enumerate(events):
        _collect(
            problems,
            lambda n=name, i=index: reader.resolve_event_channel(name=n, field_path=f"{section_name}.events[{i}]"),
        )


def _check_photometry(*, session: SessionConfig, reader: RigReader, problems: list[str]) -> None:
    photometry = session.photometry
    _check_streams_and_events(section_name="photometry", channels=photometry.channels,
                              events=photometry.events or (), reader=reader, problems=problems)


def _check_ephys(*, session: SessionConfig, reader: RigReader, primary: RigReader | None, problems: list[str]) -> None:
    ephys = session.electrophysiology
    _check_streams_and_events(section_name="electrophysiology", channels=ephys.channels, events=ephys.events,
                              reader=reader, problems=problems)
    alignment = ephys.clock_alignment
    if alignment is not None and session.ephys_needs_alignment:
        if primary is not None:
            _collect(
                problems,
                lambda: primary.resolve_event_channel(
                    name=alignment.primary_ttl_channel,
                    field_path="electrophysiology.clock_alignment.primary_ttl_channel",
                ),
            )
        _collect(
            problems,
            lambda: reader.resolve_event_channel(
                name=alignment.secondary_ttl_channel,
                field_path="electrophysiology.clock_alignment.secondary_ttl_channel",
            ),
        )


def rig_name_problems(*, session: SessionConfig) -> list[str]:
    """Every stream / event channel the session file names that its rig file lacks (one message each).

    Parameters
    ----------
    session : SessionConfig
        A checked session file.

    Returns
    -------
    list of str
        ``<file>: <field> (session <path>): expected <one of the names found>, found no such ...``; empty when
        every name resolves. A rig file that cannot be opened gives its own message.
    """
    problems: list[str] = []
    readers: list[RigReader] = []
    try:
        photometry_reader = None
        if session.photometry is not None:
            photometry = session.photometry
            try:
                photometry_reader = open_rig_reader(
                    format=photometry.format,
                    path=photometry.file,
                    options=photometry_reader_options(photometry=photometry),
                )
            except InputFileError as error:
                problems.append(str(error))
            else:
                readers.append(photometry_reader)
                _check_photometry(session=session, reader=photometry_reader, problems=problems)
        if session.electrophysiology is not None:
            reader = photometry_reader
            if session.ephys_needs_alignment or reader is None:
                try:
                    reader = open_rig_reader(
                        format=session.electrophysiology.format, path=session.electrophysiology.file
                    )
                except InputFileError as error:
                    problems.append(str(error))
                    reader = None
                else:
                    readers.append(reader)
            if reader is not None:
                _check_ephys(session=session, reader=reader, primary=photometry_reader, problems=problems)
    finally:
        for opened in readers:
            opened.close()
    return problems
