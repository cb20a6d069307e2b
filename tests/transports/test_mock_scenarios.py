"""Scenarios: timelines play on cue, every fault does what it says over real sockets, many rooms run
at once, the built-in scenarios carry what they promise, and scenario files load (or say why not)."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from typing import TYPE_CHECKING

import pytest
from test_mock_clients import HandshakeRefused, WsClient, first_fetch, get, open_socket

from webcast_proto import RateLimited, RemoteProtocolError, codec, fixtures, http
from webcast_proto._pb import webcast_pb2 as pb
from webcast_transports.mock import (
    BUILTIN_SCENARIOS,
    CloseSocket,
    DropMidFrame,
    EndStream,
    GarbageFrame,
    HttpFault,
    HttpRecord,
    MockWebcastServer,
    RefuseHandshake,
    Room,
    RoomStatus,
    Scenario,
    Send,
    SetStatus,
    Stall,
    Step,
    WsClosed,
    builtin_scenario,
    load_scenario,
    scenario_from_json,
)

if TYPE_CHECKING:
    from pathlib import Path


def _quiet_server() -> MockWebcastServer:
    return MockWebcastServer([Room("alice", scenario="quiet")])


def _wait(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------
# Socket faults
# ---------------------------------------------------------------------------------------------


def test_drop_mid_frame_cuts_the_connection_inside_a_frame() -> None:
    """DropMidFrame: half a msg frame, then the TCP connection goes, with no close frame."""
    with _quiet_server() as server:
        alice = server.room("alice")
        alice.push(fixtures.chat("the last message"))
        with open_socket(server.base_url, alice.room_id) as client:
            alice.inject(DropMidFrame())
            closed = client.wait_closed()
        assert closed.code is None
        assert client.messages == []  # the half frame never completed
        (record,) = server.recorder.wait_for(WsClosed)
    assert record.initiator == "drop"


def test_stall_delays_everything_behind_it() -> None:
    """Stall: nothing is sent for its duration; frames due meanwhile come afterwards, in order."""
    with _quiet_server() as server:
        alice = server.room("alice")
        with open_socket(server.base_url, alice.room_id) as client:
            alice.inject(Stall(seconds=0.5))
            started = time.monotonic()
            alice.push(fixtures.chat("during the stall", msg_id=1))
            alice.push(fixtures.chat("also", msg_id=2))
            client.wait_messages(2)
            waited = time.monotonic() - started
    assert waited >= 0.45
    assert [m.msg_id for m in client.received()] == [1, 2]


def test_garbage_frame_is_not_a_push_frame() -> None:
    """GarbageFrame: one binary message no decoder accepts; the socket stays open after it."""
    with _quiet_server() as server:
        alice = server.room("alice")
        with open_socket(server.base_url, alice.room_id) as client:
            alice.inject(GarbageFrame())
            alice.push(fixtures.chat("after the garbage", msg_id=3))
            client.wait_messages(2)
            with pytest.raises(RemoteProtocolError):
                codec.parse_push_frame(client.messages[0])
            assert (
                codec.fetch_result_from_frame(codec.parse_push_frame(client.messages[1])).messages[0].msg_id
                == 3
            )


def test_close_socket_with_a_code() -> None:
    """CloseSocket: a close frame with the code and reason (1011 by default)."""
    with _quiet_server() as server:
        alice = server.room("alice")
        with open_socket(server.base_url, alice.room_id) as client:
            alice.inject(CloseSocket(code=1011, reason="internal error"))
            closed = client.wait_closed()
        assert (closed.code, closed.reason) == (1011, "internal error")
        assert server.recorder.wait_for(WsClosed)[0].initiator == "server"


@pytest.mark.parametrize("action", [3, 4])
def test_end_stream(action: int) -> None:
    """EndStream: the control message (action 3 or 4), a normal close, and the room is offline after."""
    with _quiet_server() as server:
        alice = server.room("alice")
        with open_socket(server.base_url, alice.room_id) as client:
            alice.inject(EndStream(action=action))
            closed = client.wait_closed()
        assert closed.code == 1000
        (control,) = client.received()
        assert control.method == "WebcastControlMessage"
        assert pb.WebcastControlMessage.FromString(control.payload).action == action
        assert alice.status is RoomStatus.OFFLINE
        api = get(f"{server.base_url}/api-live/user/room/", params={"uniqueId": "alice"}).json()
        assert api["data"]["liveRoom"]["status"] == 4  # type: ignore[index]
        assert first_fetch(server.base_url, alice.room_id).push_server == ""
        with pytest.raises(HandshakeRefused, match="not live"):
            WsClient(server.ws_url, params={"room_id": str(alice.room_id)})


def test_socket_fault_waits_for_the_next_socket() -> None:
    """A socket fault that fires while no socket is open hits the next one, after its backlog."""
    with _quiet_server() as server:
        alice = server.room("alice")
        first = first_fetch(server.base_url, alice.room_id)
        alice.push(fixtures.chat("missed", msg_id=5))
        alice.inject(GarbageFrame(data=b"\xff junk"))
        with WsClient(
            first.push_server, params={**first.route_params, "room_id": str(alice.room_id)}
        ) as client:
            client.wait_messages(2)
        assert client.messages[1] == b"\xff junk"
        assert (
            codec.fetch_result_from_frame(codec.parse_push_frame(client.messages[0])).messages[0].msg_id == 5
        )


# ---------------------------------------------------------------------------------------------
# HTTP faults
# ---------------------------------------------------------------------------------------------


def test_rate_limit_with_retry_after() -> None:
    """HttpFault(429): the next matching request gets 429 with Retry-After and the reset headers; the
    one after is answered normally."""
    with _quiet_server() as server:
        alice = server.room("alice")
        alice.inject(HttpFault(status=429, path="/webcast/im/fetch/", retry_after=2))
        limited = get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": str(alice.room_id)})
        after = get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": str(alice.room_id)})
    assert limited.status == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.headers["x-ratelimit-reset"] == "2"
    response = http.Response(limited.status, tuple(limited.headers.items()), limited.body)
    assert http.parse_retry_after(response) == 2.0
    with pytest.raises(RateLimited) as error:
        http.parse_fetch_response(response)
    assert error.value.retry_after == 2.0
    assert after.status == 200


def test_sign_server_rate_limit_body() -> None:
    """A 429 on a sign-server route has the sign server's body: ``{message, limit_label}`` (§2.6)."""
    with _quiet_server() as server:
        alice = server.room("alice")
        alice.inject(HttpFault(status=429, path="/webcast/fetch", retry_after=1.5, message="slow down"))
        reply = get(f"{server.base_url}/webcast/fetch", params={"room_id": str(alice.room_id)})
    assert reply.status == 429
    assert reply.json() == {"message": "slow down", "limit_label": "mock"}
    assert reply.headers["retry-after"] == "1.5"


def test_server_errors_for_a_count_of_requests() -> None:
    """HttpFault(503, count=2): the next two matching requests fail; others are unaffected."""
    with _quiet_server() as server:
        alice = server.room("alice")
        alice.inject(HttpFault(status=503, path="/webcast/room/", count=2))
        statuses = [
            get(f"{server.base_url}/webcast/gift/list/").status,
            get(f"{server.base_url}/webcast/room/info/", params={"room_id": str(alice.room_id)}).status,
            get(f"{server.base_url}/webcast/room/info/", params={"room_id": str(alice.room_id)}).status,
            get(f"{server.base_url}/webcast/room/info/", params={"room_id": str(alice.room_id)}).status,
        ]
        routes = [r.route for r in server.recorder.of(HttpRecord)]
    assert statuses == [200, 503, 503, 200]
    assert routes == ["gift_list", "fault", "fault", "room_info"]


def test_http_fault_for_another_room_does_not_apply() -> None:
    """An HTTP fault armed by one room's timeline does not hit requests about another room."""
    with MockWebcastServer([Room("alice", scenario="quiet"), Room("bob", scenario="quiet")]) as server:
        server.room("alice").inject(HttpFault(status=500, path="/webcast/im/fetch/"))
        bob = get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": str(server.room("bob").room_id)})
        alice = get(
            f"{server.base_url}/webcast/im/fetch/", params={"room_id": str(server.room("alice").room_id)}
        )
    assert (bob.status, alice.status) == (200, 500)


def test_slow_response() -> None:
    """HttpFault(status=None, delay=…): answered normally, late."""
    with _quiet_server() as server:
        server.room("alice").inject(HttpFault(status=None, path="/webcast/gift/list/", delay=0.3))
        started = time.monotonic()
        reply = get(f"{server.base_url}/webcast/gift/list/")
        elapsed = time.monotonic() - started
    assert reply.status == 200
    assert elapsed >= 0.25


@pytest.mark.parametrize("status", [200, 400])
def test_refused_handshake(status: int) -> None:
    """RefuseHandshake: the next handshake gets 200 (or 400) with ``Handshake-Msg``; the next succeeds."""
    with _quiet_server() as server:
        alice = server.room("alice")
        alice.inject(RefuseHandshake(message="illegal secret key", status=status))
        with pytest.raises(HandshakeRefused) as refused:
            open_socket(server.base_url, alice.room_id)
        assert refused.value.status == status
        assert refused.value.headers["handshake-msg"] == "illegal secret key"
        open_socket(server.base_url, alice.room_id).close()


def test_http_fault_on_the_socket_path() -> None:
    """An HttpFault on the push path answers the handshake with that status (e.g. 429, §9)."""
    with _quiet_server() as server:
        alice = server.room("alice")
        alice.inject(HttpFault(status=429, path="/webcast/im/ws_proxy/", retry_after=1))
        with pytest.raises(HandshakeRefused) as refused:
            open_socket(server.base_url, alice.room_id)
    assert refused.value.status == 429
    with pytest.raises(RateLimited):
        http.parse_handshake_response(http.Response(429, tuple(refused.value.headers.items())))


def test_set_status_from_a_timeline() -> None:
    """SetStatus changes what lookups say."""
    with _quiet_server() as server:
        server.room("alice").inject(SetStatus(status="not_found"))
        reply = get(f"{server.base_url}/api-live/user/room/", params={"uniqueId": "alice"})
    assert reply.json()["statusCode"] == 19881007


def test_actions_check_their_arguments() -> None:
    """Actions refuse nonsense on construction."""
    with pytest.raises(ValueError, match="seconds"):
        Stall(seconds=-1)
    with pytest.raises(ValueError, match="action"):
        EndStream(action=2)
    with pytest.raises(ValueError, match="status"):
        HttpFault(status=200)
    with pytest.raises(ValueError, match="count"):
        HttpFault(count=0)
    with pytest.raises(ValueError, match="delay"):
        HttpFault(delay=-1)
    with pytest.raises(ValueError, match="101"):
        RefuseHandshake(status=101)
    with pytest.raises(ValueError, match="count"):
        RefuseHandshake(count=0)
    with pytest.raises(ValueError, match="status"):
        SetStatus(status="asleep")
    with pytest.raises(ValueError, match="at"):
        Step(-1, Stall(seconds=1))
    with pytest.raises(TypeError, match="action"):
        Step(0, "send")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="WebCast message"):
        Send(["hello"])


# ---------------------------------------------------------------------------------------------
# Timelines
# ---------------------------------------------------------------------------------------------


def _timeline() -> Scenario:
    return Scenario(
        "test",
        [
            Step(0.0, Send([fixtures.chat("at zero", msg_id=10)])),
            Step(0.1, Send([fixtures.chat("at 0.1", msg_id=11)])),
            Step(0.2, Send([fixtures.like(msg_id=12), fixtures.member(msg_id=13)])),
            Step(0.3, EndStream()),
        ],
        history=[fixtures.live_intro(msg_id=9)],
    )


def test_timeline_starts_at_the_first_request_and_plays_in_order() -> None:
    """The room's clock starts with the first request naming it; a socket gets the steps in order,
    as one frame per step, then the stream end."""
    with MockWebcastServer([Room("alice", scenario=_timeline())]) as server:
        alice = server.room("alice")
        time.sleep(0.2)
        started = [alice.is_started]
        first = first_fetch(server.base_url, alice.room_id)
        started.append(alice.is_started)
        assert started == [False, True]
        assert [m.msg_id for m in first.messages][:1] == [9]  # history is the initial data
        with WsClient(
            first.push_server, params={**first.route_params, "room_id": str(alice.room_id)}
        ) as client:
            client.wait_closed()
    # Steps at 0 run before the request that started the clock is answered: they are initial data.
    received = [m.msg_id for m in first.messages] + [m.msg_id for m in client.received()]
    assert received[:5] == [9, 10, 11, 12, 13]
    assert client.received()[-1].method == "WebcastControlMessage"


def test_speed_and_start_now() -> None:
    """``speed`` scales scenario time; ``start="now"`` starts the clock with the server."""
    scenario = Scenario("slow", [Step(10.0, Send([fixtures.chat("ten seconds in", msg_id=77)]))])
    with MockWebcastServer([Room("alice", scenario=scenario, start="now")], speed=50) as server:
        _wait(lambda: any(m.msg_id == 77 for m in server.room("alice").messages()), timeout=2)


def test_polling_client_gets_the_whole_timeline() -> None:
    """A client that only polls (im/fetch with the last cursor) gets every message once, in order."""
    with MockWebcastServer([Room("alice", scenario=_timeline(), offer_websocket=False)], speed=2) as server:
        alice = server.room("alice")
        result = first_fetch(server.base_url, alice.room_id)
        seen = [m.msg_id for m in result.messages]
        while 13 not in seen or len(seen) < 6:
            time.sleep(0.05)
            params = {"room_id": str(alice.room_id), "cursor": result.cursor}
            result = get(f"{server.base_url}/webcast/im/fetch/", params=params).fetch_result()
            seen += [m.msg_id for m in result.messages]
    assert seen[:5] == [9, 10, 11, 12, 13]
    assert len(seen) == len(set(seen))


# ---------------------------------------------------------------------------------------------
# Many rooms
# ---------------------------------------------------------------------------------------------


def test_many_rooms_at_once() -> None:
    """Eight rooms play their own timelines at the same time; each socket gets only its room's
    messages, stamped with its room id."""
    names = [f"host{i}" for i in range(8)]

    def chatter(name: str) -> Scenario:
        steps = [Step(0.05 * j, Send([fixtures.chat(f"{name} #{j}")])) for j in range(5)]
        return Scenario(name, [*steps, Step(0.3, EndStream())])

    rooms = [Room(name, scenario=chatter(name)) for name in names]
    with MockWebcastServer(rooms) as server:
        clients: dict[str, WsClient] = {}
        for name in names:
            clients[name] = open_socket(server.base_url, server.room(name).room_id)

        def drain(client: WsClient) -> None:
            client.wait_closed(timeout=10)

        threads = [threading.Thread(target=drain, args=(c,)) for c in clients.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for name, client in clients.items():
            client.close()
            everything = client.everything()  # initial data (the step at 0) and what the socket got
            chats = [
                pb.WebcastChatMessage.FromString(m.payload)
                for m in everything
                if m.method == "WebcastChatMessage"
            ]
            assert [c.content for c in chats] == [f"{name} #{j}" for j in range(5)]
            assert {c.common.room_id for c in chats} == {server.room(name).room_id}


# ---------------------------------------------------------------------------------------------
# Built-in scenarios
# ---------------------------------------------------------------------------------------------


def test_lively_carries_every_kind_and_ends() -> None:
    """``lively``: chat, joins, likes, gift streaks, follows, shares, a question, a battle with
    armies, viewer counts and more, then the stream end; a socket receives all of it exactly once."""
    scenario = builtin_scenario("lively")
    methods = {m.method for m in scenario.messages()}
    assert methods >= {
        "WebcastChatMessage", "WebcastMemberMessage", "WebcastLikeMessage", "WebcastGiftMessage",
        "WebcastSocialMessage", "WebcastQuestionNewMessage", "WebcastLinkMicBattle", "WebcastLinkMicArmies",
        "WebcastRoomUserSeqMessage", "WebcastEmoteChatMessage", "WebcastEnvelopeMessage",
        "WebcastSubNotifyMessage", "WebcastLiveIntroMessage",
    }  # fmt: skip
    gifts = [
        pb.WebcastGiftMessage.FromString(m.payload)
        for m in scenario.messages()
        if m.method == "WebcastGiftMessage"
    ]
    assert any(g.repeat_end == 0 and g.gift.type == 1 for g in gifts)  # a streak in progress
    socials = [
        pb.WebcastSocialMessage.FromString(m.payload)
        for m in scenario.messages()
        if m.method == "WebcastSocialMessage"
    ]
    keys = {s.common.display_text.key for s in socials}
    assert any("follow" in k for k in keys)
    assert any("share" in k for k in keys)
    expected = [m.msg_id for m in scenario.messages()]
    assert len(expected) == len(set(expected))

    with MockWebcastServer([Room("lively", scenario=scenario)], speed=40) as server:
        room = server.room("lively")
        first = first_fetch(server.base_url, room.room_id)
        with WsClient(
            first.push_server, params={**first.route_params, "room_id": str(room.room_id)}
        ) as client:
            client.wait_closed(timeout=10)
    received = [m.msg_id for m in first.messages] + [m.msg_id for m in client.received()]
    assert received[: len(expected)] == expected
    assert client.received()[-1].method == "WebcastControlMessage"
    assert len(received) == len(expected) + 1  # + the stream end


def test_flaky_opens_with_a_rate_limit_and_a_refused_handshake() -> None:
    """``flaky``: the first fetch is rate-limited, the first handshake refused, then garbage, a stall,
    a drop mid-frame: the client meets each fault in turn."""
    with MockWebcastServer([Room("f", scenario="flaky")], speed=30) as server:
        room_id = str(server.room("f").room_id)
        assert get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": room_id}).status == 429
        with pytest.raises(HandshakeRefused):
            open_socket(server.base_url, int(room_id))
        with open_socket(server.base_url, int(room_id)) as client:
            closed = client.wait_closed(timeout=10)
    assert closed.code is None  # the drop mid-frame
    garbage = [m for m in client.messages if m.startswith(b"\xff")]
    assert garbage


def test_builtin_registry() -> None:
    """The built-in names resolve; an unknown one lists them."""
    assert set(BUILTIN_SCENARIOS) == {"lively", "flaky", "quiet"}
    assert builtin_scenario("quiet").steps == ()
    with pytest.raises(ValueError, match="lively"):
        builtin_scenario("boring")


# ---------------------------------------------------------------------------------------------
# Scenario files
# ---------------------------------------------------------------------------------------------

FILE_EXAMPLE = {
    "name": "example",
    "description": "every kind of step",
    "rooms": [
        {"unique_id": "file.host", "room_id": "7000000000000000042", "nickname": "File Host"},
        {"unique_id": "other", "scenario": "quiet", "status": "offline"},
    ],
    "history": [{"type": "live_intro", "content": "welcome"}],
    "steps": [
        {"at": 0, "do": "send", "messages": [
            {"type": "chat", "comment": "hi", "msg_id": "7000000000000000100",
             "user": {"nickname": "Zoë 🦋", "unique_id": "zoe", "badges": ["moderator", "top_gifter:2"]}},
            {"type": "gift_streak", "gift_id": 5655, "count": 3, "user": {"user_id": "42"}},
            {"type": "mix", "count": 4, "seed": 7},
            {"type": "room_user_seq", "total": 9, "top_viewers": [[{"nickname": "a"}, 100]]},
            {"type": "link_mic_battle", "anchors": [{"user_id": 1, "nickname": "A"}, {"user_id": 2}],
             "results": [{"user_id": 1, "result": 0, "score": 10}]},
            {"type": "link_mic_armies", "armies": {"1": {"points": 10, "participants": [{"nickname": "p"}]}}},
            {"method": "WebcastRawThing", "payload_b64": base64.b64encode(b"\x01\x02").decode(), "msg_id": 5},
        ]},
        {"at": 0.1, "do": "stall", "seconds": 0.1},
        {"at": 0.1, "do": "garbage_frame", "data_hex": "ff00"},
        {"at": 0.1, "do": "http_fault", "status": 503, "path": "/webcast/gift/list/"},
        {"at": 0.1, "do": "refuse_handshake", "message": "nope"},
        {"at": 0.1, "do": "set_status", "status": "live"},
        {"at": 0.2, "do": "close_socket", "code": 4000},
        {"at": 0.2, "do": "drop_mid_frame"},
        {"at": 0.3, "do": "end_stream", "action": 4},
    ],
}  # fmt: skip


def test_scenario_file_format(tmp_path: Path) -> None:
    """A scenario file builds messages with the fixture builders, steps of every kind and rooms."""
    path = tmp_path / "example.json"
    path.write_text(json.dumps(FILE_EXAMPLE), encoding="utf-8")
    scenario, rooms = load_scenario(path)
    assert scenario.name == "example"
    assert [type(s.action).__name__ for s in scenario.steps] == [
        "Send", "Stall", "GarbageFrame", "HttpFault", "RefuseHandshake", "SetStatus", "CloseSocket",
        "DropMidFrame", "EndStream",
    ]  # fmt: skip
    send = scenario.steps[0].action
    assert isinstance(send, Send)
    methods = [m.method for m in send.messages]
    assert methods[0] == "WebcastChatMessage"
    assert methods[1:5] == ["WebcastGiftMessage"] * 4  # 3 in progress + the end
    assert methods[-1] == "WebcastRawThing"
    chat = pb.WebcastChatMessage.FromString(send.messages[0].payload)
    assert (chat.content, chat.user.display_id, len(chat.user.badge_list)) == ("hi", "zoe", 2)
    assert send.messages[0].msg_id == 7000000000000000100
    assert send.messages[-1].payload == b"\x01\x02"
    assert [r.unique_id for r in rooms] == ["file.host", "other"]
    assert rooms[0].room_id == 7000000000000000042
    assert rooms[0].scenario is scenario
    assert rooms[1].status is RoomStatus.OFFLINE
    assert load_scenario("lively")[0].name == "lively"


def test_scenario_file_plays(tmp_path: Path) -> None:
    """The rooms of a file play its scenario on the server."""
    _, rooms = scenario_from_json(FILE_EXAMPLE)
    with MockWebcastServer(rooms[:1], speed=2) as server:
        host = server.room("file.host")
        assert host.room_id == 7000000000000000042
        first = first_fetch(server.base_url, host.room_id)
        assert pb.WebcastLiveIntroMessage.FromString(first.messages[0].payload).content == "welcome"


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"steps": [{"at": -1}]}, "steps[0].at"),
        ({"steps": [{"at": 0, "do": "explode"}]}, "unknown action 'explode'"),
        (
            {"steps": [{"at": 0, "messages": [{"type": "dance"}]}]},
            "steps[0].messages[0]: unknown message type",
        ),
        ({"steps": [{"at": 0, "messages": [{"type": "chat", "colour": "red"}]}]}, "chat: "),
        ({"steps": [{"at": 0, "messages": [{"method": "X", "payload_b64": "!!"}]}]}, "payload_b64"),
        ({"steps": [{"at": 0, "messages": [{"payload_b64": "AA=="}]}]}, "needs a 'method'"),
        ({"steps": [{"at": 0, "do": "stall"}]}, "stall:"),
        ({"history": [{"type": "chat", "user": {"badges": ["wizard"]}}]}, "unknown badge 'wizard'"),
        ({"history": [{"type": "chat", "user": {"badges": [3]}}]}, "a badge is a string"),
        ({"history": [{"type": "chat", "user": "bob"}]}, "history[0].user: expected an object"),
        ({"history": [{"type": "gift_streak", "count": 0}]}, "count >= 1"),
        ({"rooms": [{"unique_id": "a", "scenario": "nope"}]}, "rooms[0].scenario"),
        ({"rooms": [{"unique_id": ""}]}, "rooms[0]"),
        ({"steps": {}}, "expected a list"),
    ],
)
def test_scenario_file_errors_say_where(document: dict[str, object], where: str) -> None:
    """Every mistake in a scenario file is a ValueError naming its place."""
    with pytest.raises(ValueError, match=re.escape(where)):
        scenario_from_json(document, where="f.json")


def test_unreadable_scenario_sources(tmp_path: Path) -> None:
    """A name that is neither built-in nor a file, or a file that is not JSON, is a ValueError."""
    with pytest.raises(ValueError, match="neither a built-in"):
        load_scenario(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        load_scenario(bad)
