"""Recordings as scenarios: serve again what ``webcast record`` captured (docs/recordings.md).

The first fetch body's messages become the scenario's history; every later message — from a push
frame or a poll's body, each once, by ``msg_id`` — is sent at the time it arrived, relative to that
first body. A stream end (a control message with action 3 or 4) becomes :class:`EndStream`, so the
room goes offline as it did. The room is the recording's: its username and room id, so the events a
client gets from the mock are the recorded ones. Frames that do not decode (a garbage frame the
recording kept) carry no messages and are skipped; outgoing frames are the client's, not the room's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from google.protobuf.message import DecodeError

from webcast_proto import RemoteProtocolError, codec
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.recording import Direction, WireKind, read_recording
from webcast_transports.mock._rooms import Room
from webcast_transports.mock._scenarios import EndStream, Scenario, Send, Step

if TYPE_CHECKING:
    from collections.abc import Iterator

    from webcast_proto.recording import Recording, WireRecord

__all__ = ["is_recording", "scenario_from_recording"]

_CONTROL_METHOD: Final = "WebcastControlMessage"
_END_ACTIONS: Final = frozenset({3, 4})
_DEFAULT_USER: Final = "recorded.host"


def is_recording(data: bytes) -> bool:
    """Whether ``data`` starts like a recording (its first line names the recording format)."""
    first = data.lstrip()[:200]
    return first.startswith(b"{") and b'"webcast-recording"' in first.split(b"\n", 1)[0]


def _messages(record: WireRecord) -> list[pb.BaseProtoMessage] | None:
    """The messages an incoming record carries; ``None`` when it carries none (or does not decode)."""
    try:
        if record.kind is WireKind.FETCH:
            return list(codec.parse_fetch_result(record.data).messages)
        frame = codec.parse_push_frame(record.data)
        if frame.payload_type != codec.PAYLOAD_TYPE_MSG:
            return None
        return list(codec.fetch_result_from_frame(frame).messages)
    except RemoteProtocolError:
        return None


def _end_action(message: pb.BaseProtoMessage) -> int | None:
    if message.method != _CONTROL_METHOD:
        return None
    try:
        action = pb.WebcastControlMessage.FromString(message.payload).action
    except DecodeError:
        return None
    return action if action in _END_ACTIONS else None


def _incoming(recording: Recording) -> Iterator[tuple[float, list[pb.BaseProtoMessage]]]:
    for record in recording.records:
        if record.direction is Direction.IN and record.kind in (WireKind.FETCH, WireKind.WS):
            messages = _messages(record)
            if messages is not None:
                yield record.at, messages


def scenario_from_recording(
    recording: Recording | bytes, *, name: str = "recording"
) -> tuple[Scenario, list[Room]]:
    """A scenario that plays a recording again, and the recorded room to play it.

    Args:
        recording: the recording, or its bytes.
        name: the scenario's name (the file name, say).

    Returns:
        The scenario and a one-room list: the recording's username (``recorded.host`` when it was
        made by room id) and room id.

    Raises:
        RecordingError: the bytes are not a readable recording.
    """
    if isinstance(recording, bytes):
        recording = read_recording(recording)
    seen: set[int] = set()
    history: list[pb.BaseProtoMessage] = []
    steps: list[Step] = []
    start: float | None = None
    for at, messages in _incoming(recording):
        fresh: list[pb.BaseProtoMessage] = []
        end: int | None = None
        for message in messages:
            if message.msg_id in seen:  # a resume or a poll repeating what came before
                continue
            if message.msg_id:
                seen.add(message.msg_id)
            end = _end_action(message)
            if end is not None:
                break
            fresh.append(message)
        if start is None:
            start = at
            history = fresh
        elif fresh:
            steps.append(Step(at - start, Send(fresh)))
        if end is not None:
            steps.append(Step(at - start, EndStream(action=end)))
            break
    header = recording.header
    scenario = Scenario(
        name,
        steps,
        history=history,
        description=f"a recording of @{header.unique_id or header.room_id}",
    )
    room = Room(header.unique_id or _DEFAULT_USER, room_id=header.room_id, scenario=scenario)
    return scenario, [room]
