"""The client's ``wire_tap`` option (issue 6): it sees every fetch body and push frame, both ways,
and the socket's opening and closing, in every flavour; what it saw replays into the events the
client delivered."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from conftest import Collector, Flavour, wait_until

from webcast_proto import Disconnected, Event, MessageEvent, codec
from webcast_proto import fixtures as fx
from webcast_proto.recording import (
    Direction,
    RecordingEnd,
    RecordingHeader,
    RecordingWriter,
    WireKind,
    WireRecord,
    replay,
)
from webcast_transports import HandlerError, Reconnecting, TikTokLiveClient
from webcast_transports.mock import CloseSocket, EndStream, HttpFault, Options, Room, Scenario, Send, Step

if TYPE_CHECKING:
    from collections.abc import Callable

    from webcast_transports.mock import MockWebcastServer

    Serve = Callable[..., MockWebcastServer]


class Tap:
    """Collects what the tap is shown, from any thread."""

    def __init__(self) -> None:
        self.records: list[WireRecord] = []
        self._lock = threading.Lock()

    def __call__(self, record: WireRecord) -> None:
        with self._lock:
            self.records.append(record)

    def kinds(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(r.direction.value, r.kind.value) for r in self.records]


def _short_stream() -> Scenario:
    return Scenario(
        "short",
        [
            Step(0.0, Send([fx.chat("one"), fx.like()])),
            Step(0.05, Send([fx.gift()])),
            Step(0.1, Send([fx.chat("two")])),
            Step(0.15, EndStream(action=3)),
        ],
        history=[fx.live_intro()],
    )


def test_the_tap_sees_every_fetch_and_frame_both_ways(flavour: Flavour, serve: Serve) -> None:
    """First fetch out and in, socket open, enter-room out, msg frames in, acks out, the close."""
    server = serve(Room("host", scenario=_short_stream()))
    tap = Tap()
    events: list[Event] = []

    async def body() -> None:
        async with flavour.client(server, "host", wire_tap=tap) as client:
            async for event in client.events():
                events.append(event)

    flavour.run(body)
    kinds = tap.kinds()
    assert kinds[:4] == [("out", "fetch"), ("in", "fetch"), ("in", "ws_open"), ("out", "ws")]
    assert kinds[-1] == ("in", "ws_close")
    assert ("in", "ws") in kinds
    enter = codec.parse_push_frame(tap.records[3].data)
    assert enter.payload_type == codec.PAYLOAD_TYPE_ENTER_ROOM
    acks = [r for r in tap.records if r.direction is Direction.OUT and r.kind is WireKind.WS][1:]
    assert {codec.parse_push_frame(a.data).payload_type for a in acks} <= {"ack", "hb"}
    assert any(codec.parse_push_frame(a.data).payload_type == "ack" for a in acks)
    assert tap.records[2].text.startswith(server.ws_url)
    times = [r.at for r in tap.records]
    assert times == sorted(times)
    assert all(r.wall > 1_600_000_000 for r in tap.records)
    # What the tap saw replays into exactly what the client delivered.
    room = server.room("host")
    header = RecordingHeader(room_id=room.room_id, unique_id="host")
    writer = RecordingWriter(header)
    data = writer.header() + b"".join(writer.record(r) for r in tap.records)
    assert replay(data + writer.end(RecordingEnd(reason="stream_end"))) == events


def test_the_tap_sees_polls_and_failed_fetches(serve: Serve) -> None:
    """Polling: each poll is a fetch out and its body in; a failed fetch is ``fetch_failed``."""
    scenario = Scenario(
        "polled",
        [
            Step(0.0, HttpFault(status=503, path="/webcast/im/fetch/", count=1)),
            Step(0.05, Send([fx.chat("polled")])),
            Step(0.3, EndStream(action=3)),
        ],
    )
    server = serve(Room("host", scenario=scenario, offer_websocket=False))
    tap = Tap()
    collector = Collector()

    async def body() -> None:
        client = Flavour("asyncio").client(server, "host", wire_tap=tap)
        collector.listen(client, "chat", "reconnecting", "disconnected")
        async with client:
            await client.connect()
            await client.wait_until_disconnected()

    Flavour("asyncio").run(body)
    kinds = tap.kinds()
    assert kinds[:2] == [("out", "fetch"), ("in", "fetch_failed")]
    assert "503" in tap.records[1].text
    assert kinds.count(("out", "fetch")) >= 3
    assert ("in", "ws_open") not in kinds
    assert [c.comment for c in collector.of("chat")] == ["polled"]
    assert collector.of("reconnecting") == []  # the loss came before `connected`: connect()'s business


def test_a_tap_that_raises_is_reported_and_the_connection_goes_on(flavour: Flavour, serve: Serve) -> None:
    """The tap's failure goes to ``error`` as a ``HandlerError`` named ``wire_tap``; events still come."""
    server = serve(Room("host", scenario=_short_stream()))

    def broken(record: WireRecord) -> None:
        raise OSError("disk full")

    collector = Collector()

    async def body() -> None:
        client = flavour.client(server, "host", wire_tap=broken)
        collector.listen(client, "chat", "error", "disconnected")
        async with client:
            await client.connect()
            await client.wait_until_disconnected()

    flavour.run(body)
    errors = collector.of("error")
    assert errors
    assert all(isinstance(e, HandlerError) and e.event_name == "wire_tap" for e in errors)
    assert isinstance(errors[0].__cause__, OSError)
    assert [c.comment for c in collector.of("chat")] == ["one", "two"]
    assert collector.of("disconnected")[-1].reason == "stream_end"


def test_a_dropped_socket_is_a_close_the_replay_resumes_from(serve: Serve) -> None:
    """A resume after a loss: the replay yields the live messages once each, losses as Disconnected."""
    server = serve(Room("host", start="manual"), options=Options(fetch_interval_ms=50))
    tap = Tap()
    events: list[Event] = []
    room = server.room("host")

    async def body() -> None:
        async with Flavour("asyncio").client(server, "host", wire_tap=tap) as client:
            async for event in client.events():
                events.append(event)
                if isinstance(event, MessageEvent) and getattr(event, "comment", "") == "before":
                    room.inject(CloseSocket(code=1011))
                    await wait_until(lambda: room.open_sockets == 0)
                    await wait_until(lambda: room.open_sockets == 1)
                    room.push(fx.chat("after"))
                    room.inject(EndStream(action=3))

    room.start()
    room.push(fx.chat("before"))
    Flavour("asyncio").run(body)
    header = RecordingHeader(room_id=room.room_id, unique_id="host")
    writer = RecordingWriter(header)
    data = writer.header() + b"".join(writer.record(r) for r in tap.records)
    replayed = replay(data)
    comments = [getattr(e, "comment", None) for e in replayed if isinstance(e, MessageEvent)]
    assert comments == [getattr(e, "comment", None) for e in events if isinstance(e, MessageEvent)]
    assert comments.count("before") == 1
    assert comments.count("after") == 1
    losses = [e for e in replayed if isinstance(e, Disconnected) and e.reason != "stream_end"]
    assert [(d.reason, d.code) for d in losses] == [("closed", 1011)]
    assert [(r.reason, r.code) for r in events if isinstance(r, Reconnecting)] == [("closed", 1011)]


def test_wire_tap_must_be_callable() -> None:
    """A tap that cannot be called is refused at once."""
    with pytest.raises(TypeError, match="wire_tap must be callable"):
        TikTokLiveClient("host", wire_tap="file.jsonl")  # type: ignore[arg-type]  # the mistake tested
