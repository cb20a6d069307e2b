"""The push socket (SPEC.md §2.5, §4): handshake, msg frames (gzip or plain), resume, and the
checks and records of what clients send (enter-room, heartbeats, acks), over real WebSockets."""

from __future__ import annotations

import time

import pytest
from test_mock_clients import HandshakeRefused, WsClient, first_fetch, get, open_socket

from webcast_proto import WebcastBlocked, codec, fixtures, http
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.config import ClientParams
from webcast_transports.mock import (
    Ack,
    EnterRoom,
    Heartbeat,
    MockWebcastServer,
    Options,
    Room,
    UnknownFrame,
    Violation,
    WsClosed,
    WsOpened,
)

# SPEC.md §4.4: the fixed bytes of the [S]/[V1] heartbeat (field 7 = "hb", nothing else).
BARE_HEARTBEAT = bytes.fromhex("3a026862")


@pytest.fixture(scope="module")
def server() -> object:
    with MockWebcastServer([Room("alice", scenario="quiet"), Room("bob", scenario="quiet")]) as running:
        yield running


def _push_and_receive(
    server: MockWebcastServer, client: WsClient, *messages: object
) -> list[pb.BaseProtoMessage]:
    """Push messages to alice's room and wait for them on the socket."""
    before = len(client.received())
    server.room("alice").push(*messages)
    deadline = time.monotonic() + 5
    while len(client.received()) < before + len(messages):
        assert time.monotonic() < deadline, "messages did not arrive"
        client.pump(0.5)
    return client.received()[before:]


def test_handshake_as_the_current_clients_make_it(server: MockWebcastServer) -> None:
    """A URL built by the core (route params, ws params, version_code twice) is accepted with 101,
    ``Handshake-Options: ping-interval=…`` and the offered subprotocol echoed ([S], [TL])."""
    alice = server.room("alice")
    first = first_fetch(server.base_url, alice.room_id)
    url = http.build_websocket_url(
        push_server=first.push_server, route_params=first.route_params, client_params=ClientParams(),
        room_id=alice.room_id, cursor=first.cursor, internal_ext=first.internal_ext,
    )  # fmt: skip
    headers = dict(http.build_websocket_headers(client_params=ClientParams(), cookies={"ttwid": "x"}))
    with WsClient(url, headers=headers, subprotocols=("echo-protocol",)) as client:
        assert client.subprotocol == "echo-protocol"
        info = http.parse_handshake_response(http.Response(101, tuple(client.accept_headers.items())))
        assert info.ping_interval == 10.0
        opened = server.recorder.wait_for(WsOpened, where=lambda r: r.connection_id != 0)[-1]
    assert opened.param("version_code") == "180800"  # the first of the two (SPEC.md §2.5)
    assert opened.compress
    assert opened.room_id == alice.room_id


def test_no_subprotocol_offered_none_echoed(server: MockWebcastServer) -> None:
    """[C2] offers no subprotocol and gets none back."""
    with open_socket(server.base_url, server.room("alice").room_id) as client:
        assert client.subprotocol is None


def test_msg_frames_gzip_or_plain(server: MockWebcastServer) -> None:
    """``compress=gzip`` gets gzip'd payloads (``compress_type: gzip``), otherwise plain (``none``)."""
    for compress, header in ((True, "gzip"), (False, "none")):
        with open_socket(server.base_url, server.room("alice").room_id, compress=compress) as client:
            (message,) = _push_and_receive(server, client, fixtures.chat(f"compress={compress}"))
            (frame,) = [f for f in client.frames() if f.payload_type == "msg"]
        assert codec.frame_headers(frame)["compress_type"] == header
        assert codec.is_gzip(frame.payload) is compress
        assert pb.WebcastChatMessage.FromString(message.payload).content == f"compress={compress}"


def test_msg_frames_carry_cursor_ack_request_and_log_ids(server: MockWebcastServer) -> None:
    """Each push is one msg frame: need_ack, a fresh log id, cursor and internal_ext in result and headers."""
    with open_socket(server.base_url, server.room("alice").room_id) as client:
        _push_and_receive(server, client, fixtures.chat("a"))
        _push_and_receive(server, client, fixtures.like(), fixtures.member())
        frames = [f for f in client.frames() if f.payload_type == "msg"]
    results = [codec.fetch_result_from_frame(f) for f in frames]
    assert [len(r.messages) for r in results] == [1, 2]
    assert all(r.need_ack for r in results)
    assert frames[0].log_id != frames[1].log_id
    for frame, result in zip(frames, results, strict=True):
        headers = codec.frame_headers(frame)
        assert headers["im-cursor"] == result.cursor
        assert headers["im-internal_ext"] == result.internal_ext


def test_enter_room_is_recorded_and_answered(server: MockWebcastServer) -> None:
    """``im_enter_room`` is recorded with every field and answered with ``im_enter_room_resp``."""
    alice = server.room("alice")
    with open_socket(server.base_url, alice.room_id) as client:
        client.send(codec.encode_enter_room(alice.room_id, enter_unique_id=4242))
        client.wait_messages(1)
        assert client.frames()[0].payload_type == "im_enter_room_resp"
        enter = server.recorder.wait_for(EnterRoom, where=lambda r: r.enter_unique_id == 4242)[0]
    assert (enter.enter_room_id, enter.live_id, enter.identity, enter.filter_welcome_msg) == (
        alice.room_id, 12, "audience", "0",
    )  # fmt: skip
    assert enter.room_id == alice.room_id
    assert not server.recorder.of(Violation, room_id=alice.room_id)


def test_heartbeats_current_and_bare(server: MockWebcastServer) -> None:
    """Current heartbeats are recorded with room and seq; the bare [S]/[V1] frame is accepted too."""
    bob = server.room("bob")
    with open_socket(server.base_url, bob.room_id) as client:
        client.send(codec.encode_enter_room(bob.room_id))
        for seq in (1, 2, 3):
            client.send(codec.encode_heartbeat(bob.room_id, seq))
        client.send(BARE_HEARTBEAT)
        beats = server.recorder.wait_for(Heartbeat, count=4, where=lambda r: r.room_id == bob.room_id)
    assert [(b.hb_room_id, b.send_packet_seq_id, b.is_bare) for b in beats[-4:]] == [
        (bob.room_id, 1, False), (bob.room_id, 2, False), (bob.room_id, 3, False), (0, 0, True),
    ]  # fmt: skip
    assert not server.recorder.of(Violation, room_id=bob.room_id)


def test_acks_are_checked(server: MockWebcastServer) -> None:
    """An ack echoing the frame's internal_ext, or an [S]/[V1] ack without payload, is valid; an ack
    of an unknown log id or with the wrong internal_ext is a violation (close code 1008)."""
    alice = server.room("alice")
    with open_socket(server.base_url, alice.room_id) as client:
        _push_and_receive(server, client, fixtures.chat("ack me"))
        _push_and_receive(server, client, fixtures.chat("and me"))
        one, two = [f for f in client.frames() if f.payload_type == "msg"]
        client.send(codec.encode_ack(one.log_id, codec.frame_headers(one)["im-internal_ext"]))
        client.send(codec.encode_push_frame(payload_type="ack", log_id=two.log_id))  # [S]/[V1]
        client.send(codec.encode_ack(two.log_id + 1000, "whatever"))
        client.send(codec.encode_ack(one.log_id, "not the internal_ext"))
        acks = server.recorder.wait_for(Ack, count=4, where=lambda r: r.room_id == alice.room_id)
        violations = server.recorder.wait_for(Violation, count=2, where=lambda r: r.room_id == alice.room_id)
    assert [(a.log_id, a.is_valid) for a in acks[-4:]] == [
        (one.log_id, True), (two.log_id, True), (two.log_id + 1000, False), (one.log_id, False),
    ]  # fmt: skip
    assert acks[-4].payload == codec.frame_headers(one)["im-internal_ext"]
    assert all(v.close_code == 1008 for v in violations[-2:])
    assert "never" in violations[-2].message or "asked" in violations[-2].message


def test_bad_client_frames_are_violations(server: MockWebcastServer) -> None:
    """Garbage, a text message, a heartbeat for another room, an unknown payload type: each recorded
    as a violation (lenient server: the socket stays open)."""
    bob = server.room("bob")
    with open_socket(server.base_url, bob.room_id) as client:
        server.recorder.clear()
        client.send(b"\xff\xff not a frame")
        client.send_text("hello?")
        client.send(codec.encode_heartbeat(1, 1))
        client.send(codec.encode_push_frame(payload_type="mystery"))
        violations = server.recorder.wait_for(Violation, count=4)
        assert client.pump(0.1)  # still open
    assert [v.close_code for v in violations] == [1002, 1003, 1008, 1008]
    unknown = server.recorder.of(UnknownFrame)
    assert [u.payload_type for u in unknown] == ["<text>", "mystery"]


def test_strict_server_closes_on_a_violation() -> None:
    """``Options(strict=True)``: a violation closes the socket with its close code."""
    with MockWebcastServer([Room("alice", scenario="quiet")], options=Options(strict=True)) as server:
        with open_socket(server.base_url, server.room("alice").room_id) as client:
            client.send(codec.encode_ack(12345, "x"))
            closed = client.wait_closed()
        assert closed.code == 1008
        assert server.recorder.wait_for(WsClosed)[0].initiator == "server"


def test_resume_with_the_cursor_in_the_url(server: MockWebcastServer) -> None:
    """A socket URL with one of our cursors ([S]/[V1]/[C2]) first replays what came after it."""
    alice = server.room("alice")
    first = first_fetch(server.base_url, alice.room_id)
    alice.push(fixtures.chat("missed 1", msg_id=501), fixtures.chat("missed 2", msg_id=502))
    with WsClient(
        first.push_server, params={"room_id": str(alice.room_id), "cursor": first.cursor}
    ) as client:
        client.wait_messages(1)
        assert [m.msg_id for m in client.received()] == [501, 502]
        assert server.recorder.of(WsOpened)[-1].resumed_from == len(alice.messages()) - 2


def test_resume_with_the_route_param_token(server: MockWebcastServer) -> None:
    """[TL] sends no cursor, only the route params: the socket continues from its first fetch."""
    alice = server.room("alice")
    first = first_fetch(server.base_url, alice.room_id)
    alice.push(fixtures.chat("after the fetch", msg_id=601))
    with WsClient(first.push_server, params={**first.route_params, "room_id": str(alice.room_id)}) as client:
        client.wait_messages(1)
        assert [m.msg_id for m in client.received()] == [601]


def test_socket_without_cursor_or_token_starts_now(server: MockWebcastServer) -> None:
    """With only ``room_id`` the socket gets what is published from now on."""
    alice = server.room("alice")
    alice.push(fixtures.chat("old news", msg_id=701))
    with WsClient(server.ws_url, params={"room_id": str(alice.room_id)}) as client:
        assert [m.msg_id for m in _push_and_receive(server, client, fixtures.chat("new", msg_id=702))] == [
            702
        ]


@pytest.mark.parametrize(
    ("params", "reason"),
    [({"room_id": "123"}, "room not found"), ({}, "room not found")],
)
def test_handshake_refused_for_unknown_rooms(
    server: MockWebcastServer, params: dict[str, str], reason: str
) -> None:
    """No such room: HTTP 200 with the reason in ``Handshake-Msg`` (SPEC.md §9); the core calls it blocked."""
    with pytest.raises(HandshakeRefused) as refused:
        WsClient(server.ws_url, params=params)
    assert refused.value.status == 200
    assert refused.value.headers["handshake-msg"] == reason
    with pytest.raises(WebcastBlocked, match=reason):
        http.parse_handshake_response(http.Response(200, tuple(refused.value.headers.items())))


def test_handshake_refused_for_an_ended_room() -> None:
    """An offline room refuses sockets."""
    with (
        MockWebcastServer([Room("off", status="offline")]) as server,
        pytest.raises(HandshakeRefused) as refused,
    ):
        WsClient(server.ws_url, params={"room_id": str(server.room("off").room_id)})
    assert refused.value.headers["handshake-msg"] == "room is not live"


def test_plain_get_on_the_push_path(server: MockWebcastServer) -> None:
    """A GET without the upgrade headers on the push path is a 400 with a Handshake-Msg."""
    reply = get(
        server.ws_url.replace("ws://", "http://"), params={"room_id": str(server.room("alice").room_id)}
    )
    assert reply.status == 400
    assert reply.headers["handshake-msg"] == "websocket upgrade expected"


def test_required_and_expiring_tokens() -> None:
    """``require_ws_token``: no token, an unknown one or an expired one ([TL]: ~30 s) is refused."""
    options = Options(require_ws_token=True, ws_token_ttl=0.3)
    with MockWebcastServer([Room("alice", scenario="quiet")], options=options) as server:
        room_id = server.room("alice").room_id
        with pytest.raises(HandshakeRefused, match="signature"):
            WsClient(server.ws_url, params={"room_id": str(room_id)})
        with pytest.raises(HandshakeRefused):
            WsClient(server.ws_url, params={"room_id": str(room_id), "wrss": "forged"})
        open_socket(server.base_url, room_id).close()
        first = first_fetch(server.base_url, room_id)
        time.sleep(0.4)
        with pytest.raises(HandshakeRefused):
            WsClient(first.push_server, params={**first.route_params, "room_id": str(room_id)})


def test_pings_are_not_answered_unless_asked(server: MockWebcastServer) -> None:
    """TikTok does not answer WebSocket pings (SPEC.md §2.5); ``answer_pings=True`` does."""
    with open_socket(server.base_url, server.room("alice").room_id) as client:
        client.ping()
        client.pump(0.2)
    with (
        MockWebcastServer([Room("alice", scenario="quiet")], options=Options(answer_pings=True)) as answering,
        open_socket(answering.base_url, answering.room("alice").room_id) as client,
    ):
        client.ping(b"are you there")
        deadline = time.monotonic() + 5
        while client.pongs == 0 and time.monotonic() < deadline:
            client.pump(0.2)
        assert client.pongs == 1


def test_client_close_is_recorded(server: MockWebcastServer) -> None:
    """The client's close (1000) is answered and recorded with the client as initiator."""
    bob = server.room("bob")
    client = open_socket(server.base_url, bob.room_id)
    client.close(1000)
    assert client.closed is not None
    assert client.closed.code == 1000
    closed = server.recorder.wait_for(WsClosed, where=lambda r: r.room_id == bob.room_id)[-1]
    assert (closed.code, closed.initiator) == (1000, "client")
    deadline = time.monotonic() + 5
    while bob.open_sockets and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bob.open_sockets == 0


def test_many_sockets_on_one_room_get_the_same_messages(server: MockWebcastServer) -> None:
    """Every open socket of a room gets each pushed message once, in order."""
    alice = server.room("alice")
    clients = [open_socket(server.base_url, alice.room_id) for _ in range(5)]
    try:
        alice.push(*[fixtures.chat(f"#{i}", msg_id=900 + i) for i in range(10)])
        for client in clients:
            deadline = time.monotonic() + 5
            while len(client.received()) < 10 and time.monotonic() < deadline:
                client.pump(0.5)
            assert [m.msg_id for m in client.received()] == list(range(900, 910))
    finally:
        for client in clients:
            client.close()


def test_oversized_client_message_closes_with_1009() -> None:
    """A client message over the cap is refused with close code 1009."""
    with (
        MockWebcastServer([Room("alice", scenario="quiet")]) as server,
        open_socket(server.base_url, server.room("alice").room_id) as client,
    ):
        client.send(b"\x00" * (1024 * 1024 + 1))
        assert client.wait_closed().code == 1009
