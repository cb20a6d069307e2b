"""Whole sessions: ClientConnection against ServerConnection in memory (SPEC.md §1, §4, §5).

Each test drives both sides through a :class:`ConnectionPair`, so every ack, heartbeat and enter-room
the client sends passes the server's checks, and every frame the client receives is checked to turn
into exactly its new messages, in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from helpers import ConnectionPair, message_ids, mix_of_every_type

from webcast_proto import fixtures as fx
from webcast_proto._errors import RemoteProtocolError
from webcast_proto.connection import PollAfter, State, UpgradeToWebSocket
from webcast_proto.events import (
    Chat,
    Connected,
    Control,
    Disconnected,
    Emote,
    Envelope,
    Gift,
    Like,
    LinkMicArmies,
    LinkMicBattle,
    LiveIntro,
    Member,
    ProtocolWarning,
    QuestionNew,
    RoomUser,
    Social,
    StreamEnd,
    Subscribe,
    WebSocketConnected,
)
from webcast_proto.server import ReceivedEnterRoom, ReceivedHeartbeat

if TYPE_CHECKING:
    from webcast_proto._pb import webcast_pb2 as pb

EVERY_MESSAGE_EVENT = {
    Chat, Member, Gift, RoomUser, Like, Social, Emote, Envelope, QuestionNew, LinkMicBattle,
    LinkMicArmies, LiveIntro, Subscribe, Control, StreamEnd,
}  # fmt: skip


def stream(
    pair: ConnectionPair, messages: list[pb.BaseProtoMessage], *, seconds_per_frame: float = 1.7
) -> None:
    """Publish ``messages`` in frames of 1 to 23 messages, pushing each and letting time pass."""
    i = 0
    while i < len(messages):
        n = 1 + (i * 7) % 23
        pair.publish(messages[i : i + n])
        i += n
        pair.push()
        pair.run_until(pair.now + seconds_per_frame)


def test_whole_session_delivers_every_message_once_in_order() -> None:
    """Fetch, upgrade, 1,000 messages of every type, heartbeats, acks, a disconnect and resume, stream
    end: every message is delivered exactly once, in publication order."""
    pair = ConnectionPair()
    messages = mix_of_every_type(1000)
    end = fx.wrap(fx.control(action=3))

    pair.publish(messages[:40])  # the room's recent history: initial data of the first fetch
    outcome = pair.connect()
    assert isinstance(outcome.events[0], Connected)
    assert isinstance(outcome.instruction, UpgradeToWebSocket)
    assert pair.state() is State.STREAMING
    stream(pair, messages[40:480])

    # The socket drops while the room goes on; the resume fetch catches up from the cursor.
    pair.events += pair.client.websocket_closed(pair.now, code=1006)
    assert pair.state() is State.DISCONNECTED
    assert pair.server.offset_of(pair.client.cursor) == 480
    pair.publish(messages[480:600])
    pair.advance(3.0)
    outcome = pair.connect()
    assert isinstance(outcome.events[0], Connected)
    assert message_ids(outcome.events) == [m.msg_id for m in messages[480:600]]
    stream(pair, messages[600:])
    pair.publish([end])
    pair.push()

    assert pair.state() is State.ENDED
    assert pair.delivered_ids() == [m.msg_id for m in messages] + [end.msg_id]
    types = {type(e) for e in pair.events}
    assert types >= EVERY_MESSAGE_EVENT
    assert ProtocolWarning not in types
    assert [e.reason for e in pair.events if isinstance(e, Disconnected)] == ["closed", "stream_end"]
    assert sum(isinstance(e, WebSocketConnected) for e in pair.events) == 2

    # What the client sent: one enter-room per socket, heartbeats 1, 2, 3 … per socket, every ack.
    server = pair.server
    assert server.enter_rooms == (ReceivedEnterRoom(room_id=fx.DEFAULT_ROOM_ID),) * 2
    sockets: list[list[int]] = []
    for frame in server.received:
        if isinstance(frame, ReceivedEnterRoom):
            sockets.append([])
        elif isinstance(frame, ReceivedHeartbeat):
            sockets[-1].append(frame.seq_id)
    assert [seqs == list(range(1, len(seqs) + 1)) for seqs in sockets] == [True, True]
    assert min(map(len, sockets)) > 10
    assert not server.pending_acks
    assert len(server.acks) == len({a.log_id for a in server.acks})


def test_resume_fetch_carries_the_cursor_and_internal_ext() -> None:
    """After a disconnect, start() asks the server to continue from the kept cursor (SPEC.md §5)."""
    pair = ConnectionPair()
    pair.publish(mix_of_every_type(30))
    pair.connect()
    pair.publish(fx.realistic_mix(5, seed=1))
    pair.push()
    cursor, internal_ext = pair.client.cursor, pair.client.internal_ext
    pair.client.websocket_closed(pair.now)
    pair.connect()
    assert pair.server.fetches[-1].cursor == cursor
    assert pair.server.fetches[-1].internal_ext == internal_ext
    assert pair.server.offset_of(cursor) == 35


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"\xff\xff\xff garbage", id="undecodable-frame"),
        pytest.param(fx.push_frame("msg", b"\x1f\x8b\x08 not really gzip"), id="corrupt-gzip"),
        pytest.param(fx.push_frame("msg", b"\x0a\xff\xff\xff"), id="garbage-fetch-result"),
    ],
)
def test_garbage_mid_stream_raises_and_the_session_resumes(garbage: bytes) -> None:
    """Garbage from the server raises RemoteProtocolError, leaves DISCONNECTED, and start() resumes
    without losing or repeating a message."""
    pair = ConnectionPair()
    messages = fx.realistic_mix(60, seed=3)
    pair.publish(messages[:10])
    pair.connect()
    pair.publish(messages[10:30])
    pair.push()
    pair.publish(messages[30:40])
    with pytest.raises(RemoteProtocolError):
        pair.client.receive_ws_message(garbage, pair.now)
    assert pair.state() is State.DISCONNECTED
    assert pair.client.data_to_send() == []  # nothing for the dead socket
    pair.publish(messages[40:])
    pair.connect()
    pair.push()
    assert pair.delivered_ids() == [m.msg_id for m in messages]


def test_silent_server_times_out() -> None:
    """Heartbeats go out on schedule; when the server stays silent for liveness_timeout the client
    reports Disconnected(reason="timeout"), then resumes."""
    pair = ConnectionPair(client_options={"liveness_timeout": 30.0})
    pair.connect()
    opened = pair.now
    events = pair.run_until(opened + 29.9)
    assert events == []
    assert [h.seq_id for h in pair.server.heartbeats] == [1, 2, 3, 4, 5]  # every 5 s, never answered
    events = pair.run_until(opened + 31)
    assert events == [Disconnected(reason="timeout")]
    assert pair.state() is State.DISCONNECTED
    assert pair.client.next_deadline() is None
    pair.publish(fx.realistic_mix(3, seed=4))
    pair.connect()
    pair.push()
    assert len(pair.delivered_ids()) == 3


def test_any_server_frame_keeps_the_connection_alive() -> None:
    """Server heartbeats and enter-room replies count as signs of life: no timeout while they come."""
    pair = ConnectionPair(client_options={"liveness_timeout": 12.0})
    pair.connect()
    pair.deliver(pair.server.enter_room_response_frame())
    for _ in range(10):
        pair.run_until(pair.now + 10)
        pair.deliver(pair.server.heartbeat_frame())
    assert pair.state() is State.STREAMING
    assert [type(e) for e in pair.events] == [Connected, WebSocketConnected]


def test_duplicated_frames_are_delivered_once() -> None:
    """A frame received twice (and the overlap of fetch and push) delivers its messages once; the
    duplicate is acked again, which the server accepts."""
    pair = ConnectionPair()
    messages = fx.realistic_mix(50, seed=5)
    pair.publish(messages[:20])
    pair.connect()
    pair.publish(messages[20:])
    frame = pair.server.message_frame(count=15)
    pair.deliver(frame)
    assert message_ids(pair.deliver(frame)) == []
    pair.push(start=0)  # the whole log again: initial data and the frame above overlap it
    assert pair.delivered_ids() == [m.msg_id for m in messages]
    assert not pair.server.pending_acks


def test_out_of_order_frames_lose_and_repeat_nothing_across_a_resume() -> None:
    """Frames arriving out of order leave an older cursor; the resume re-fetches the overlap, which the
    dedup window absorbs: every message exactly once."""
    pair = ConnectionPair()
    messages = fx.realistic_mix(60, seed=6)
    pair.connect()
    pair.publish(messages[:40])
    first = pair.server.message_frame(count=20)
    second = pair.server.message_frame(count=20)
    pair.deliver(second)
    pair.deliver(first)  # late: its cursor (offset 20) is older than the one before it
    assert pair.server.offset_of(pair.client.cursor) == 20
    pair.client.websocket_closed(pair.now)
    pair.publish(messages[40:])
    pair.connect()  # fetches from offset 20: messages 20..39 again, then 40..59
    assert sorted(pair.delivered_ids()) == sorted(m.msg_id for m in messages)
    assert len(pair.delivered_ids()) == len(messages)


def test_failed_upgrade_then_resume() -> None:
    """A socket that never opens is reported with websocket_closed(); start() then resumes."""
    pair = ConnectionPair()
    pair.publish(fx.realistic_mix(5, seed=7))
    pair.connect(open_websocket=False)
    assert pair.state() is State.UPGRADING
    assert pair.client.websocket_closed(pair.now) == [Disconnected(reason="upgrade_failed")]
    pair.connect()
    assert pair.state() is State.STREAMING
    assert len(pair.delivered_ids()) == 5


# --------------------------------------------------------------------------------------------
# Polling (SPEC.md §5) and initial data (SPEC.md §1.5)
# --------------------------------------------------------------------------------------------


def test_polling_end_to_end() -> None:
    """No push server: the client polls at the larger of the server's and its own interval, carries
    cursor and internal_ext, delivers everything once and ends on a stream end."""
    pair = ConnectionPair(
        client_options={"request_polling_interval_ms": 2000}, server_options={"push_server": ""}
    )
    messages = fx.realistic_mix(100, seed=8)
    pair.publish(messages[:10])
    outcome = pair.connect()
    assert outcome.instruction == PollAfter(seconds=2.0)
    assert pair.state() is State.POLLING
    for i in range(10, 100, 9):
        pair.publish(messages[i : i + 9])
        pair.run_until(pair.now + 2.0)
    pair.publish([fx.wrap(fx.control(action=4))])
    pair.run_until(pair.now + 2.0)
    assert pair.state() is State.ENDED
    assert pair.delivered_ids()[:-1] == [m.msg_id for m in messages]
    assert isinstance(pair.events[-2], StreamEnd)
    assert pair.events[-1] == Disconnected(reason="stream_end", retryable=False)
    fetches = pair.server.fetches
    assert len(fetches) == 12
    assert all(f.cursor and f.internal_ext for f in fetches[1:])
    assert pair.server.received == ()  # no socket, no frames


def test_polling_with_upgrade_disabled_and_poll_failure_resumes() -> None:
    """enable_websocket_upgrade=False polls even when a push server is offered; a failed poll
    disconnects, and the resume fetch continues from the cursor."""
    pair = ConnectionPair(client_options={"enable_websocket_upgrade": False})
    messages = fx.realistic_mix(30, seed=9)
    pair.publish(messages[:10])
    assert isinstance(pair.connect().instruction, PollAfter)
    pair.publish(messages[10:20])
    pair.run_until(pair.now + 1.0)
    pair.publish(messages[20:])
    pair.now += 1.0
    assert pair.client.tick(pair.now) == []  # the poll falls due …
    assert pair.client.request_to_send() is not None  # … and is handed out once
    assert pair.client.request_to_send() is None
    assert pair.client.next_deadline() is None  # no next poll while one is outstanding
    [event] = pair.client.fetch_failed(pair.now, RemoteProtocolError("boom"))
    assert event == Disconnected(reason="fetch_failed", retryable=True)
    pair.connect()
    assert pair.delivered_ids() == [m.msg_id for m in messages]


@pytest.mark.parametrize("process_initial_data", [True, False])
def test_initial_data_on_and_off(process_initial_data: bool) -> None:
    """Initial data is delivered only when process_initial_data; off, it is not delivered later either
    (the socket's overlap is recognised), while new messages are."""
    pair = ConnectionPair(client_options={"process_initial_data": process_initial_data})
    history = fx.realistic_mix(20, seed=10)
    live = fx.realistic_mix(10, seed=11)
    pair.publish(history)
    outcome = pair.connect()
    assert isinstance(outcome.events[0], Connected)
    initial = [m.msg_id for m in history] if process_initial_data else []
    assert message_ids(outcome.events) == initial
    pair.publish(live)
    pair.check_frames = False
    pair.push(start=0)  # the server pushes the history again, then the new messages
    assert pair.delivered_ids() == initial + [m.msg_id for m in live]


def test_initial_data_off_applies_to_the_first_fetch_only() -> None:
    """What a resume fetch brings is not history but missed messages: always delivered."""
    pair = ConnectionPair(client_options={"process_initial_data": False})
    pair.publish(fx.realistic_mix(5, seed=12))
    pair.connect()
    pair.client.websocket_closed(pair.now)
    missed = fx.realistic_mix(5, seed=13)
    pair.publish(missed)
    pair.connect()
    assert pair.delivered_ids() == [m.msg_id for m in missed]


def test_stream_end_in_the_first_fetch_ends_the_session() -> None:
    """A stream end among initial data ends the session: no instruction, state ENDED."""
    pair = ConnectionPair()
    pair.publish([fx.wrap(fx.chat()), fx.wrap(fx.control(action=3)), fx.wrap(fx.chat())])
    outcome = pair.connect()
    assert outcome.instruction is None
    assert [type(e) for e in outcome.events] == [Connected, Chat, StreamEnd, Disconnected]
    assert pair.state() is State.ENDED
