"""ServerConnection: fetch bodies and push frames from a room log, and checks of what a client sends.

Rules: fetches and frames carry exactly the log range asked for with a cursor pointing after it
(SPEC.md §2.4, §4.1, §5); acks must name a frame of this socket and echo its internal_ext (§4.3);
heartbeats must name the room and increase (§4.4, restarting at enter-room); enter-room must name the
room (§4.5). Every violation is a RemoteProtocolError with a close code; valid frames are recorded.
"""

from __future__ import annotations

from typing import Any

import pytest

from webcast_proto import codec
from webcast_proto import fixtures as fx
from webcast_proto._errors import RemoteProtocolError
from webcast_proto.http import Request
from webcast_proto.server import (
    CLOSE_POLICY_VIOLATION,
    CLOSE_PROTOCOL_ERROR,
    DEFAULT_PUSH_SERVER,
    ReceivedAck,
    ReceivedEnterRoom,
    ReceivedFetch,
    ReceivedHeartbeat,
    ServerConnection,
)

ROOM_ID = fx.DEFAULT_ROOM_ID


def server(**kwargs: Any) -> ServerConnection:
    return ServerConnection(room_id=ROOM_ID, **kwargs)


def ids(messages: Any) -> list[int]:
    return [m.msg_id for m in messages]


def frame_result(data: bytes) -> tuple[Any, Any]:
    frame = codec.parse_push_frame(data)
    return frame, codec.fetch_result_from_frame(frame)


def test_first_fetch_carries_recent_history() -> None:
    """An empty cursor is a first fetch: the last initial_messages, is_first, the push server offered,
    no ack asked, and a cursor pointing after the log."""
    srv = server(initial_messages=3, route_params={"imprp": "R"}, fetch_interval_ms=1500)
    log = fx.realistic_mix(5, seed=1)
    srv.publish(log)
    result = codec.parse_fetch_result(srv.fetch_response(server_time_ms=42))
    assert ids(result.messages) == ids(log[2:])
    assert result.is_first
    assert not result.need_ack
    assert (result.push_server, dict(result.route_params)) == (DEFAULT_PUSH_SERVER, {"imprp": "R"})
    assert (result.now, result.fetch_interval) == (42, 1500)
    assert result.cursor == srv.cursor_for(5, 42) == "t-42_r-5_d-1_u-1"
    assert str(ROOM_ID) in result.internal_ext
    assert srv.position == srv.next_offset == 5


def test_fetch_from_a_cursor_returns_what_followed() -> None:
    """A cursor continues where it points; polling answers offer no push server; bodies may be gzip'd."""
    srv = server()
    log = fx.realistic_mix(10, seed=2)
    srv.publish(log)
    data = srv.fetch_response(cursor=srv.cursor_for(4), offer_websocket=False, gzip=True)
    assert codec.is_gzip(data)
    result = codec.parse_fetch_result(data)
    assert ids(result.messages) == ids(log[4:])
    assert (result.push_server, result.is_first) == ("", False)


def test_no_push_server_configured_means_polling() -> None:
    """push_server="" never offers a socket."""
    assert codec.parse_fetch_result(server(push_server="").fetch_response()).push_server == ""


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    """offset_of(cursor_for(n)) is n (clamped to the log); a cursor we never issued is refused (1008)."""
    srv = server()
    srv.publish(fx.realistic_mix(3, seed=3))
    assert srv.offset_of(srv.cursor_for(2, 99)) == 2
    assert srv.offset_of(srv.cursor_for(50)) == 3
    with pytest.raises(RemoteProtocolError, match="not issued by this server") as info:
        srv.offset_of("t-1734000000000_x")
    assert info.value.close_code == CLOSE_POLICY_VIOLATION


def test_history_is_bounded() -> None:
    """Past max_history the oldest messages are forgotten; a resume from before them gets what is left."""
    srv = server(max_history=3)
    log = fx.realistic_mix(5, seed=4)
    srv.publish(log)
    assert srv.next_offset == 5
    assert ids(codec.parse_fetch_result(srv.fetch_response(cursor=srv.cursor_for(0))).messages) == ids(
        log[2:]
    )


def test_handle_fetch_request_checks_the_room_and_records() -> None:
    """A fetch for another room is refused; a good one is recorded with its cursor and internal_ext."""
    srv = server()
    srv.publish(fx.realistic_mix(2, seed=5))
    url = f"https://webcast.tiktok.com/webcast/im/fetch/?room_id={ROOM_ID}&cursor={srv.cursor_for(1)}&internal_ext=ie"
    result = codec.parse_fetch_result(srv.handle_fetch_request(Request("GET", url)))
    assert len(result.messages) == 1
    assert srv.fetches == (ReceivedFetch(cursor=srv.cursor_for(1), internal_ext="ie"),)
    with pytest.raises(RemoteProtocolError, match="this server serves room") as info:
        srv.handle_fetch_request(Request("GET", "https://x/webcast/im/fetch/?room_id=1"))
    assert info.value.close_code == CLOSE_POLICY_VIOLATION
    assert srv.received == ()  # fetches are not socket frames


def test_message_frames_walk_the_log() -> None:
    """Frames carry the next messages from the push position, with increasing log and seq ids, gzip'd
    by default, cursor and headers after their range."""
    srv = server()
    log = fx.realistic_mix(10, seed=6)
    srv.publish(log)
    srv.websocket_opened()
    first, result1 = frame_result(srv.message_frame(count=4))
    second, result2 = frame_result(srv.message_frame())
    assert (ids(result1.messages), ids(result2.messages)) == (ids(log[:4]), ids(log[4:]))
    assert second.log_id == first.log_id + 1
    assert second.seq_id == first.seq_id + 1
    assert codec.frame_headers(first)[codec.HEADER_COMPRESS_TYPE] == codec.COMPRESS_TYPE_GZIP
    assert codec.frame_headers(first)[codec.HEADER_IM_CURSOR] == result1.cursor == srv.cursor_for(4)
    assert result1.need_ack
    assert srv.pending_acks == {first.log_id, second.log_id}
    assert ids(frame_result(srv.message_frame())[1].messages) == []  # nothing new


def test_replaying_a_range_does_not_move_the_position_back() -> None:
    """message_frame(start=…) replays old messages (dedup and out-of-order tests) without rewinding."""
    srv = server()
    log = fx.realistic_mix(6, seed=7)
    srv.publish(log)
    srv.message_frame()
    _, replay = frame_result(srv.message_frame(start=1, count=2))
    assert ids(replay.messages) == ids(log[1:3])
    assert replay.cursor == srv.cursor_for(3)
    assert srv.position == 6


def test_frames_without_ack_or_gzip() -> None:
    """need_ack=False asks no ack; compress=False sends the payload raw."""
    srv = server(need_ack=False, compress=False)
    srv.publish(fx.realistic_mix(1, seed=8))
    frame, result = frame_result(srv.message_frame())
    assert not result.need_ack
    assert codec.frame_headers(frame)[codec.HEADER_COMPRESS_TYPE] == codec.COMPRESS_TYPE_NONE
    assert srv.pending_acks == frozenset()


def test_websocket_url_sets_room_check_and_position() -> None:
    """The socket URL's room is checked and its cursor sets where pushing starts."""
    srv = server()
    log = fx.realistic_mix(5, seed=9)
    srv.publish(log)
    srv.fetch_response()
    srv.websocket_opened(f"wss://push/ws/?room_id={ROOM_ID}&cursor={srv.cursor_for(2)}")
    assert ids(frame_result(srv.message_frame())[1].messages) == ids(log[2:])
    srv.websocket_opened(f"wss://push/ws/?room_id={ROOM_ID}")  # no cursor: the position stays
    assert srv.position == 5
    with pytest.raises(RemoteProtocolError, match="websocket for room '1'"):
        srv.websocket_opened("wss://push/ws/?room_id=1")


# --------------------------------------------------------------------------------------------
# What the client sends
# --------------------------------------------------------------------------------------------


def test_valid_client_frames_are_recorded() -> None:
    """Enter-room, heartbeats and acks that follow the rules are returned and recorded, in order."""
    srv = server()
    srv.publish(fx.realistic_mix(2, seed=10))
    srv.websocket_opened()
    frame, result = frame_result(srv.message_frame())
    sent = [
        codec.encode_enter_room(ROOM_ID, enter_unique_id=9),
        codec.encode_heartbeat(ROOM_ID, 1),
        codec.encode_ack(frame.log_id, result.internal_ext),
        codec.encode_heartbeat(ROOM_ID, 2),
        codec.encode_ack(frame.log_id, result.internal_ext),  # a repeated ack is fine
    ]
    received = [srv.receive_client_message(data) for data in sent]
    assert received == [
        ReceivedEnterRoom(room_id=ROOM_ID, enter_unique_id=9),
        ReceivedHeartbeat(room_id=ROOM_ID, seq_id=1),
        ReceivedAck(log_id=frame.log_id, internal_ext=result.internal_ext),
        ReceivedHeartbeat(room_id=ROOM_ID, seq_id=2),
        ReceivedAck(log_id=frame.log_id, internal_ext=result.internal_ext),
    ]
    assert srv.received == tuple(received)
    assert len(srv.acks) == 2
    assert [h.seq_id for h in srv.heartbeats] == [1, 2]
    assert srv.enter_rooms == (received[0],)
    assert srv.pending_acks == frozenset()


def test_enter_room_restarts_the_heartbeat_sequence() -> None:
    """SPEC.md §4.4: send_packet_seq_id restarts at 1 after each enter-room (and each new socket)."""
    srv = server()
    srv.receive_client_message(codec.encode_heartbeat(ROOM_ID, 5))
    srv.receive_client_message(codec.encode_enter_room(ROOM_ID))
    srv.receive_client_message(codec.encode_heartbeat(ROOM_ID, 1))
    srv.websocket_opened()
    srv.receive_client_message(codec.encode_heartbeat(ROOM_ID, 1))
    assert [h.seq_id for h in srv.heartbeats] == [5, 1, 1]


def _bad_ack_log_id(srv: ServerConnection) -> bytes:
    return codec.encode_ack(123, "x")


def _bad_ack_payload(srv: ServerConnection) -> bytes:
    srv.publish(fx.realistic_mix(1, seed=11))
    frame, _ = frame_result(srv.message_frame())
    return codec.encode_ack(frame.log_id, "not what was sent")


def _ack_from_old_socket(srv: ServerConnection) -> bytes:
    srv.publish(fx.realistic_mix(1, seed=12))
    frame, result = frame_result(srv.message_frame())
    srv.websocket_opened()
    return codec.encode_ack(frame.log_id, result.internal_ext)


def _heartbeat_going_back(srv: ServerConnection) -> bytes:
    srv.receive_client_message(codec.encode_heartbeat(ROOM_ID, 2))
    return codec.encode_heartbeat(ROOM_ID, 2)


@pytest.mark.parametrize(
    ("make", "match", "close_code"),
    [
        (lambda srv: b"\xff\xff garbage", "invalid push frame", CLOSE_PROTOCOL_ERROR),
        (lambda srv: fx.push_frame("msg"), "payload_type 'msg'", CLOSE_POLICY_VIOLATION),
        (_bad_ack_log_id, "no frame on this socket asked for", CLOSE_POLICY_VIOLATION),
        (_bad_ack_payload, "expected", CLOSE_POLICY_VIOLATION),
        (_ack_from_old_socket, "no frame on this socket asked for", CLOSE_POLICY_VIOLATION),
        (lambda srv: codec.encode_heartbeat(ROOM_ID + 1, 1), "heartbeat for room", CLOSE_POLICY_VIOLATION),
        (_heartbeat_going_back, "does not increase", CLOSE_POLICY_VIOLATION),
        (lambda srv: codec.encode_enter_room(1), "enter-room for room", CLOSE_POLICY_VIOLATION),
        (lambda srv: fx.push_frame("hb", b"\xff"), "invalid heartbeat", CLOSE_PROTOCOL_ERROR),
    ],
    ids=[
        "garbage",
        "wrong-type",
        "ack-unknown-log-id",
        "ack-wrong-payload",
        "ack-from-old-socket",
        "heartbeat-wrong-room",
        "heartbeat-seq-going-back",
        "enter-room-wrong-room",
        "heartbeat-garbage",
    ],
)
def test_misbehaving_clients_get_typed_errors(make: Any, match: str, close_code: int) -> None:
    """Each violation raises RemoteProtocolError with its close code, and nothing is recorded for it."""
    srv = server()
    data = make(srv)
    before = srv.received
    with pytest.raises(RemoteProtocolError, match=match) as info:
        srv.receive_client_message(data)
    assert info.value.close_code == close_code
    assert srv.received == before


def test_acks_owed_are_bounded() -> None:
    """Past max_unacked the oldest frame is forgotten: its late ack is refused as unknown."""
    srv = server(max_unacked=2)
    srv.publish(fx.realistic_mix(3, seed=13))
    frames = [frame_result(srv.message_frame(count=1)) for _ in range(3)]
    assert srv.pending_acks == {frames[1][0].log_id, frames[2][0].log_id}
    with pytest.raises(RemoteProtocolError):
        srv.receive_client_message(codec.encode_ack(frames[0][0].log_id, frames[0][1].internal_ext))


def test_records_are_bounded() -> None:
    """Only the last max_records client frames are kept."""
    srv = server(max_records=2)
    for seq in (1, 2, 3):
        srv.receive_client_message(codec.encode_heartbeat(ROOM_ID, seq))
    assert [h.seq_id for h in srv.heartbeats] == [2, 3]


def test_server_control_frames() -> None:
    """The server's hb and im_enter_room_resp frames parse as such (SPEC.md §4.1)."""
    srv = server()
    hb = codec.parse_push_frame(srv.heartbeat_frame())
    assert hb.payload_type == codec.PAYLOAD_TYPE_HEARTBEAT
    assert codec.parse_heartbeat(hb.payload).room_id == srv.room_id == ROOM_ID
    resp = codec.parse_push_frame(srv.enter_room_response_frame())
    assert resp.payload_type == codec.PAYLOAD_TYPE_ENTER_ROOM_RESP


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"room_id": 0}, ValueError),
        ({"room_id": ROOM_ID, "max_history": 0}, ValueError),
        ({"room_id": ROOM_ID, "max_records": "1"}, TypeError),
        ({"room_id": ROOM_ID, "initial_messages": -1}, ValueError),
        ({"room_id": ROOM_ID, "fetch_interval_ms": -1}, ValueError),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    """Wrong types raise TypeError, out-of-range values ValueError."""
    with pytest.raises(error):
        ServerConnection(**kwargs)
