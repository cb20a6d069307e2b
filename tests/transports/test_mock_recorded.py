"""Recordings as a scenario source of the mock server (issue 6): a client watching the served
recording gets the recorded messages, once each, with the recorded room; garbage and outgoing
frames are skipped; the stream end ends the room."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from conftest import Flavour

from webcast_proto import MessageEvent, StreamEnd
from webcast_proto import fixtures as fx
from webcast_proto.recording import (
    Direction,
    RecordingEnd,
    RecordingHeader,
    RecordingWriter,
    WireKind,
    WireRecord,
)
from webcast_proto.server import ServerConnection
from webcast_transports.mock import EndStream, GarbageFrame, Room, Scenario, Send, Step, load_scenario
from webcast_transports.mock._recorded import is_recording, scenario_from_recording
from webcast_transports.mock._rooms import RoomStatus

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from webcast_proto import Event
    from webcast_transports.mock import MockWebcastServer

    Serve = Callable[..., MockWebcastServer]

ROOM_ID = 7_000_000_000_000_000_777


def _record(direction: Direction, kind: WireKind, at: float, data: bytes = b"") -> WireRecord:
    return WireRecord(direction=direction, kind=kind, at=at, wall=at, data=data)


def _recording() -> bytes:
    """First fetch (history), two msg frames (one repeating a message), garbage, an ack, the end."""
    server = ServerConnection(room_id=ROOM_ID)
    server.publish([fx.wrap(fx.live_intro(msg_id=1)), fx.wrap(fx.chat("history", msg_id=2))])
    body = server.fetch_response()
    server.publish([fx.wrap(fx.chat("one", msg_id=3))])
    first = server.message_frame()
    server.publish([fx.wrap(fx.gift(msg_id=4))])
    second = server.message_frame(start=2)  # carries "one" again
    server.publish([fx.wrap(fx.control(3, msg_id=5)), fx.wrap(fx.chat("after the end", msg_id=6))])
    last = server.message_frame()
    records = [
        _record(Direction.OUT, WireKind.FETCH, 10.0),
        _record(Direction.IN, WireKind.FETCH, 10.5, body),
        _record(Direction.IN, WireKind.WS, 11.5, first),
        _record(Direction.OUT, WireKind.WS, 11.5, b"an ack"),
        _record(Direction.IN, WireKind.WS, 12.0, b"\xff\xffgarbage"),
        _record(Direction.IN, WireKind.WS, 12.5, second),
        _record(Direction.IN, WireKind.WS, 13.5, last),
    ]
    writer = RecordingWriter(RecordingHeader(room_id=ROOM_ID, unique_id="rec.host"))
    return (
        writer.header()
        + b"".join(writer.record(r) for r in records)
        + writer.end(RecordingEnd(reason="stream_end"))
    )


def test_a_recording_becomes_history_then_timed_sends_then_the_end() -> None:
    """First body → history; later messages at their arrival time (after the first body), once each."""
    scenario, rooms = scenario_from_recording(_recording(), name="rec.jsonl")
    assert [m.msg_id for m in scenario.history] == [1, 2]
    steps = [(s.at, s.action) for s in scenario.steps]
    assert steps[0][0] == 1.0
    assert isinstance(steps[0][1], Send)
    assert [m.msg_id for m in steps[0][1].messages] == [3]
    assert isinstance(steps[1][1], Send)
    assert [m.msg_id for m in steps[1][1].messages] == [4]
    assert steps[2] == (3.0, EndStream(action=3))
    assert len(steps) == 3  # nothing after the end
    assert [(r.unique_id, r.room_id) for r in rooms] == [("rec.host", ROOM_ID)]
    assert scenario.name == "rec.jsonl"


def test_load_scenario_recognises_a_recording_file(tmp_path: Path) -> None:
    """``--scenario FILE`` takes a recording as well as a scenario file."""
    path = tmp_path / "session.jsonl"
    path.write_bytes(_recording())
    assert is_recording(path.read_bytes())
    scenario, rooms = load_scenario(path)
    assert rooms[0].unique_id == "rec.host"
    assert len(scenario.messages()) == 4  # history 2, then 2 sent; the end is an action


def test_a_broken_recording_file_names_itself(tmp_path: Path) -> None:
    """A recording that cannot be read is a ValueError naming the file and the line."""
    path = tmp_path / "broken.jsonl"
    path.write_bytes(_recording()[:200])
    with pytest.raises(ValueError, match=r"broken\.jsonl: recording line 2 is cut off"):
        load_scenario(path)


def test_a_recording_made_by_room_id_gets_a_default_username() -> None:
    """No username in the header: the room is ``recorded.host``, with the recorded room id."""
    writer = RecordingWriter(RecordingHeader(room_id=ROOM_ID))
    scenario, rooms = scenario_from_recording(writer.header())
    assert (rooms[0].unique_id, rooms[0].room_id) == ("recorded.host", ROOM_ID)
    assert scenario.steps == ()


def test_a_client_watching_a_served_recording_gets_the_recorded_messages(serve: Serve) -> None:
    """Record a session from the mock, serve the recording, watch it: the same messages and room."""
    live = Scenario(
        "live",
        [
            Step(0.0, Send([fx.chat("a", msg_id=11), fx.like(msg_id=12)])),
            Step(0.05, GarbageFrame()),
            Step(0.1, Send([fx.gift(msg_id=13)])),
            Step(0.15, EndStream(action=4)),
        ],
        history=[fx.live_intro(msg_id=10)],
    )
    first = serve(Room("live.host", scenario=live))
    records: list[WireRecord] = []
    flavour = Flavour("asyncio")

    async def watch(server: MockWebcastServer, user: str, out: list[Event], **options: object) -> None:
        async with flavour.client(server, user, **options) as client:
            async for event in client.events():
                out.append(event)

    live_events: list[Event] = []
    flavour.run(lambda: watch(first, "live.host", live_events, wire_tap=records.append))
    writer = RecordingWriter(RecordingHeader(room_id=first.room("live.host").room_id, unique_id="live.host"))
    data = writer.header() + b"".join(writer.record(r) for r in records)
    _, rooms = scenario_from_recording(data)
    second = serve(*rooms)
    served: list[Event] = []
    flavour.run(lambda: watch(second, "live.host", served))

    def messages(events: list[Event]) -> list[tuple[str, int, int]]:
        return [(type(e).__name__, e.msg_id, e.room_id) for e in events if isinstance(e, MessageEvent)]

    # The stream end is the mock's own control message (its msg_id is the mock's): compare the rest.
    assert messages(served)[:-1] == messages(live_events)[:-1]
    assert isinstance(served[-2], StreamEnd)
    assert served[-2].action == 4
    assert second.room("live.host").status is RoomStatus.OFFLINE
