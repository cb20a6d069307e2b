"""End to end over loopback sockets: the client against the mock server, in each flavour (asyncio,
trio, blocking). Each test states the rule it checks (issue 5, "Done means")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest
from conftest import Collector, Flavour, wait_until

from webcast_proto import (
    AgeRestricted,
    Chat,
    Connected,
    Disconnected,
    Envelope,
    Gift,
    InvalidSession,
    Like,
    LinkMicArmies,
    LinkMicBattle,
    LiveIntro,
    Member,
    QuestionNew,
    RoomUser,
    Social,
    SocialKind,
    StreamEnd,
    Subscribe,
    UserNotFound,
    UserOffline,
    WebSocketConnected,
    fixtures,
)
from webcast_proto import Emote as EmoteEvent
from webcast_proto.http import RoomStatus
from webcast_proto.signing import EulerSigner, LegacySigner
from webcast_transports import SEED_EVENT_NAMES
from webcast_transports.mock import (
    Ack,
    ChatSent,
    ClientFrame,
    EndStream,
    EnterRoom,
    Heartbeat,
    HttpRecord,
    Options,
    Room,
    Scenario,
    Violation,
    WsOpened,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from webcast_transports.mock import MockWebcastServer

    Serve = Callable[..., MockWebcastServer]


MESSAGE_NAMES = tuple(
    n for n in SEED_EVENT_NAMES if n not in ("connected", "disconnected", "rawData", "error")
)


def _every_seed_message() -> list[fixtures.WebcastMessage]:
    """One message of each of the 14 seed methods, with fields the test then looks for."""
    viewer = fixtures.user(
        user_id=7_100_000_000_000_000_001, nickname="Zoë 🦋", unique_id="zoe.b", follow_status=2
    )
    host = fixtures.HOST_USER_ID
    rival = 7_100_000_000_000_000_099
    return [
        fixtures.chat("hello 👋", user=viewer, msg_id=7_000_000_000_000_000_001),
        fixtures.gift(5655, user=viewer, repeat_count=3, repeat_end=True, msg_id=7_000_000_000_000_000_002),
        fixtures.member(user=viewer, member_count=42, msg_id=7_000_000_000_000_000_003),
        fixtures.room_user_seq(1523, msg_id=7_000_000_000_000_000_004),
        fixtures.like(15, total=480, user=viewer, msg_id=7_000_000_000_000_000_005),
        fixtures.social_follow(user=viewer, msg_id=7_000_000_000_000_000_006),
        fixtures.emote_chat(user=viewer, msg_id=7_000_000_000_000_000_007),
        fixtures.envelope(sender=viewer, diamond_count=1000, msg_id=7_000_000_000_000_000_008),
        fixtures.question_new("What game? 🎮", user=viewer, question_id=77, msg_id=7_000_000_000_000_000_009),
        fixtures.link_mic_battle(
            battle_id=555,
            anchors=[fixtures.battle_anchor(host, unique_id="the.host"), fixtures.battle_anchor(rival)],
            msg_id=7_000_000_000_000_000_010,
        ),
        fixtures.link_mic_armies(
            battle_id=555,
            armies={host: fixtures.army(90, [fixtures.army_participant(viewer.id, score=60)])},
            trigger_reason=2,
            msg_id=7_000_000_000_000_000_011,
        ),
        fixtures.live_intro("Welcome! 🎉", user=viewer, msg_id=7_000_000_000_000_000_012),
        fixtures.sub_notify(user=viewer, sub_month=4, msg_id=7_000_000_000_000_000_013),
    ]


def test_connect_by_username(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """``connect()`` finds the room by username, fetches room info, opens the socket and returns the
    state; ``connected`` then ``websocketConnected`` fire; ``disconnect()`` ends it with reason
    ``client``, after which nothing is running."""
    server = serve(Room("alice", title="Alice plays chess"))
    room = server.room("alice")

    async def body() -> None:
        client = flavour.client(server, "@alice")
        collector.listen(client, "connected", "websocketConnected", "disconnected", "error")
        async with client:
            state = await client.connect()
            assert state.room_id == room.room_id
            assert state.room_info is not None
            assert state.room_info.title == "Alice plays chess"
            assert state.room_info.status is RoomStatus.LIVE
            assert state.is_connected
            assert state.upgraded_to_websocket
            await client.disconnect()
            assert not client.state.is_connected
        assert collector.names() == ["connected", "websocketConnected", "disconnected"]
        assert collector.of("connected") == [Connected(room_id=room.room_id)]
        assert collector.of("disconnected")[0].reason == "client"

    flavour.run(body)
    routes = [r.route for r in server.recorder.of(HttpRecord)]
    assert routes[:2] == ["live_page", "room_info"]  # the lookup, then room info, then the fetch
    assert "im_fetch" in routes
    assert "push" in routes


def test_every_seed_event_type(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """Every seed message type arrives under its seed name with its fields; then a stream end gives
    ``streamEnd`` then ``disconnected``, and nothing after."""
    server = serve(Room("bob"))
    room = server.room("bob")

    async def body() -> None:
        client = flavour.client(server, "bob")
        collector.listen(client, *SEED_EVENT_NAMES)
        async with client:
            await client.connect()
            room.push(*_every_seed_message())
            await wait_until(collector.has("subscribe"), what="the last message")
            room.inject(EndStream(action=3))
            await client.wait_until_disconnected()

    flavour.run(body)
    for name in MESSAGE_NAMES:
        if name != "streamEnd":
            assert len(collector.of(name)) == 1, name
    (chat,) = collector.of("chat")
    assert isinstance(chat, Chat)
    assert chat.comment == "hello 👋"
    assert chat.room_id == room.room_id
    assert chat.user.unique_id == "zoe.b"
    assert chat.user.nickname == "Zoë 🦋"
    assert chat.user.follow_role == 2
    (gift,) = collector.of("gift")
    assert isinstance(gift, Gift)
    assert gift.gift_id == 5655
    assert gift.repeat_count == 3
    assert gift.repeat_end
    assert gift.gift_name == "Rose"
    assert gift.diamond_count == 1
    assert gift.extended_gift_info is None
    (member,) = collector.of("member")
    assert isinstance(member, Member)
    assert member.member_count == 42
    assert member.user.unique_id == "zoe.b"
    (room_user,) = collector.of("roomUser")
    assert isinstance(room_user, RoomUser)
    assert room_user.viewer_count == 1523
    (like,) = collector.of("like")
    assert isinstance(like, Like)
    assert (like.like_count, like.total_like_count) == (15, 480)
    (social,) = collector.of("social")
    assert isinstance(social, Social)
    assert social.kind is SocialKind.FOLLOW
    (emote,) = collector.of("emote")
    assert isinstance(emote, EmoteEvent)
    assert emote.emote_id
    (envelope,) = collector.of("envelope")
    assert isinstance(envelope, Envelope)
    assert envelope.coins == 1000
    (question,) = collector.of("questionNew")
    assert isinstance(question, QuestionNew)
    assert question.question_text == "What game? 🎮"
    assert question.question_id == 77
    (battle,) = collector.of("linkMicBattle")
    assert isinstance(battle, LinkMicBattle)
    assert battle.battle_id == 555
    assert next(u.unique_id for u in battle.battle_users) == "the.host"
    (armies,) = collector.of("linkMicArmies")
    assert isinstance(armies, LinkMicArmies)
    assert armies.battle_armies[0].points == 90
    assert armies.battle_armies[0].participants[0].user_id == 7_100_000_000_000_000_001
    (intro,) = collector.of("liveIntro")
    assert isinstance(intro, LiveIntro)
    assert intro.description == "Welcome! 🎉"
    (subscribe,) = collector.of("subscribe")
    assert isinstance(subscribe, Subscribe)
    assert subscribe.sub_month == 4
    # rawData saw every message, the stream end included.
    raw_ids = [e.msg_id for e in collector.of("rawData")]
    assert len(raw_ids) == 14
    assert len(set(raw_ids)) == 14
    # The end: streamEnd, then disconnected, and nothing after it.
    names = collector.names()
    assert names[-3:] == ["streamEnd", "rawData", "disconnected"]
    (end,) = collector.of("streamEnd")
    assert isinstance(end, StreamEnd)
    assert end.action == 3
    (final,) = collector.of("disconnected")
    assert final == Disconnected(reason="stream_end", retryable=False)
    assert collector.of("error") == []


def test_polling_when_the_upgrade_is_disabled(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """With ``enable_websocket_upgrade=False`` the client polls im/fetch and still gets every message;
    no socket is opened."""
    server = serve(Room("carol"))
    room = server.room("carol")

    async def body() -> None:
        client = flavour.client(
            server, "carol", enable_websocket_upgrade=False, request_polling_interval_ms=20
        )
        collector.listen(client, "chat", "websocketConnected")
        async with client:
            state = await client.connect()
            assert state.is_connected
            assert not state.upgraded_to_websocket
            for n in range(3):
                room.push(fixtures.chat(f"poll {n}"))
                await anyio.sleep(0.03)
            await wait_until(collector.has("chat", 3), what="three chats")

    flavour.run(body)
    assert [c.comment for c in collector.of("chat")] == ["poll 0", "poll 1", "poll 2"]
    assert collector.of("websocketConnected") == []
    assert server.recorder.of(WsOpened) == []
    polls = [r for r in server.recorder.of(HttpRecord) if r.route == "im_fetch"]
    assert len(polls) >= 2
    assert polls[-1].param("cursor")


def test_a_handler_added_while_connected_gets_its_events(
    flavour: Flavour, serve: Serve, collector: Collector
) -> None:
    """Only listened-to methods are converted, and a handler added after ``connect()`` widens that at
    once: its messages arrive from the next frame on, without reconnecting."""
    server = serve(Room("dora"))
    room = server.room("dora")

    async def body() -> None:
        client = flavour.client(server, "dora")
        collector.listen(client, "chat")
        async with client:
            await client.connect()
            room.push(fixtures.like(3, msg_id=7_000_000_000_000_100_001))
            room.push(fixtures.chat("first", msg_id=7_000_000_000_000_100_002))
            await wait_until(collector.has("chat", 1), what="the first chat")
            collector.listen(client, "like")
            room.push(fixtures.like(5, msg_id=7_000_000_000_000_100_003))
            room.push(fixtures.chat("second", msg_id=7_000_000_000_000_100_004))
            await wait_until(collector.has("chat", 2), what="the second chat")
            await client.disconnect()

    flavour.run(body)
    assert [c.comment for c in collector.of("chat")] == ["first", "second"]
    # The like sent before anyone listened was never converted; the one after was delivered.
    assert [like.like_count for like in collector.of("like")] == [5]


@pytest.mark.parametrize("process_initial_data", [True, False])
def test_initial_data(
    flavour: Flavour, serve: Serve, collector: Collector, process_initial_data: bool
) -> None:
    """The room's recent history arrives before the live messages when ``process_initial_data`` (and
    never twice: the socket's first frames overlap it); switched off, only live messages arrive."""
    history = [fixtures.chat(f"old {n}") for n in range(3)]
    server = serve(Room("dave", scenario=Scenario("history", history=history)))
    room = server.room("dave")

    async def body() -> None:
        client = flavour.client(server, "dave", process_initial_data=process_initial_data)
        collector.listen(client, "chat")
        async with client:
            await client.connect()
            room.push(fixtures.chat("live"))
            await wait_until(
                lambda: "live" in [c.comment for c in collector.of("chat")], what="the live chat"
            )
            await anyio.sleep(0.05)

    flavour.run(body)
    comments = [c.comment for c in collector.of("chat")]
    assert comments == (["old 0", "old 1", "old 2", "live"] if process_initial_data else ["live"])


def test_room_info_and_gifts_without_connecting(flavour: Flavour, serve: Serve) -> None:
    """``get_room_info()`` and ``get_available_gifts()`` work on a client that was never entered or
    connected (a pool is opened for the call and closed); an offline room's info says so."""
    server = serve(Room("erin", title="Erin's room"), Room("frank", status="offline"))

    async def body() -> None:
        info = await flavour.client(server, "erin").get_room_info()
        assert info.title == "Erin's room"
        assert info.is_live
        gifts = await flavour.client(server, "erin").get_available_gifts()
        assert {g.id: g.name for g in gifts}[5655] == "Rose"
        assert {g.id: g.diamond_count for g in gifts}[6369] == 29999
        offline = await flavour.client(server, "frank").get_room_info()
        assert not offline.is_live

    flavour.run(body)


def test_extended_gift_info(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """With ``enable_extended_gift_info`` the gift list is fetched on connect and each gift event
    carries its entry."""
    server = serve(Room("gina"))

    async def body() -> None:
        client = flavour.client(server, "gina", enable_extended_gift_info=True)
        collector.listen(client, "gift")
        async with client:
            state = await client.connect()
            assert len(state.available_gifts) == len(fixtures.GIFTS)
            server.room("gina").push(fixtures.gift(6369), fixtures.gift(5879))
            await wait_until(collector.has("gift", 2), what="two gifts")

    flavour.run(body)
    infos = [g.extended_gift_info for g in collector.of("gift")]
    assert [(i.id, i.name, i.diamond_count) for i in infos] == [(6369, "Lion", 29999), (5879, "Doughnut", 30)]


def test_send_message_carries_the_session_cookie(
    flavour: Flavour, serve: Serve, collector: Collector
) -> None:
    """``send_message`` posts room/chat with the session id in the session cookies (the client's, or
    the one given to the call); the server echoes the chat into the room; a refused session raises
    ``InvalidSession``."""
    server = serve(Room("hank"), options=Options(session_ids=frozenset({"sid-client", "sid-call"})))

    async def body() -> None:
        client = flavour.client(server, "hank", session_id="sid-client")
        collector.listen(client, "chat")
        async with client:
            await client.connect()
            sent = await client.send_message("hi from the client 👋")
            assert sent.server_time is not None
            await client.send_message("hi with another session", session_id="sid-call")
            await wait_until(collector.has("chat", 2), what="the echoed chats")
            with pytest.raises(InvalidSession):
                await client.send_message("refused", session_id="sid-unknown")

    flavour.run(body)
    records = server.recorder.of(ChatSent)
    assert [(r.content, r.session_id, r.accepted) for r in records] == [
        ("hi from the client 👋", "sid-client", True),
        ("hi with another session", "sid-call", True),
        ("refused", "sid-unknown", False),
    ]
    posts = [r for r in server.recorder.of(HttpRecord) if r.route == "room_chat"]
    assert posts[0].cookies["sessionid"] == "sid-client" == posts[0].cookies["sid_tt"]
    assert "sid-client" not in str(posts[0].query)  # never in the URL
    assert [c.comment for c in collector.of("chat")] == ["hi from the client 👋", "hi with another session"]


def test_connect_by_room_id_skips_the_lookup(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """A client made with ``room_id`` never asks the website for the room (age-restricted and private
    rooms have no usable live page)."""
    server = serve(Room("ivy"))
    room = server.room("ivy")

    async def body() -> None:
        client = flavour.client(server, room_id=room.room_id, fetch_room_info_on_connect=False)
        collector.listen(client, "chat")
        async with client:
            state = await client.connect()
            assert state.room_id == room.room_id
            assert state.unique_id == ""
            room.push(fixtures.chat("by id"))
            await wait_until(collector.has("chat"), what="the chat")

    flavour.run(body)
    routes = {r.route for r in server.recorder.of(HttpRecord)}
    assert "live_page" not in routes
    assert "api_room" not in routes
    assert "room_info" not in routes


def test_offline_and_unknown_rooms_are_refused(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """``connect()`` raises ``UserOffline`` for an offline room and ``UserNotFound`` for an unknown
    user; nothing fires and nothing is left running."""
    server = serve(Room("jack", status="offline"))

    async def body() -> None:
        for name, error in (("jack", UserOffline), ("nobody.here", UserNotFound)):
            client = flavour.client(server, name)
            collector.listen(client, "connected", "disconnected", "error")
            async with client:
                with pytest.raises(error):
                    await client.connect()
                assert client.state.last_error is None or isinstance(client.state.last_error, error)

    flavour.run(body)
    assert collector.items == []


def test_an_unknown_user_is_not_found_even_when_the_sign_server_route_fails_too(serve: Serve) -> None:
    """With ``EulerSigner`` the sign server is the last room-id route; when the website said the
    user does not exist, that is what ``connect()`` raises, not the sign server's own failure."""
    server = serve(Room("jack"))
    flavour = Flavour("asyncio")

    async def body() -> None:
        client = flavour.client(server, "nobody.here", signer=EulerSigner(endpoints=server.endpoints()))
        async with client:
            with pytest.raises(UserNotFound):
                await client.connect()

    flavour.run(body)
    routes = [r.route for r in server.recorder.of(HttpRecord)]
    assert routes[-1] != "live_page"  # the sign server's route was tried too


def test_a_raising_handler_goes_to_error(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """A handler that raises is reported to ``error`` handlers (as ``HandlerError`` with the cause);
    the other handlers and later events are unaffected."""
    server = serve(Room("kate"))
    room = server.room("kate")

    def boom(event: Chat) -> None:
        if event.comment == "boom":
            raise RuntimeError("handler bug")

    async def body() -> None:
        client = flavour.client(server, "kate")
        client.on("chat", boom)
        collector.listen(client, "chat", "error")
        async with client:
            await client.connect()
            room.push(fixtures.chat("boom"), fixtures.chat("after"))
            await wait_until(collector.has("chat", 2), what="both chats")

    flavour.run(body)
    assert [c.comment for c in collector.of("chat")] == ["boom", "after"]
    (error,) = collector.of("error")
    assert error.event_name == "chat"
    assert isinstance(error.__cause__, RuntimeError)
    assert "handler bug" in error.message


def test_events_iterator_sees_everything_in_order(flavour: Flavour, serve: Serve) -> None:
    """``events()`` opened before connecting connects on its first step and yields every event, from
    ``Connected`` to the final ``Disconnected``, after which it ends."""
    history = [fixtures.chat("history")]
    server = serve(Room("liam", scenario=Scenario("h", history=history)))
    room = server.room("liam")

    async def body() -> list[Any]:
        client = flavour.client(server, "liam")
        seen: list[Any] = []
        async with client:
            async for event in client.events():
                seen.append(event)
                if isinstance(event, WebSocketConnected):
                    room.push(fixtures.chat("live"))
                elif isinstance(event, Chat) and event.comment == "live":
                    room.inject(EndStream(action=4))
        return seen

    seen = flavour.run(body)
    kinds = [type(e).__name__ for e in seen]
    assert kinds == ["Connected", "Chat", "WebSocketConnected", "Chat", "StreamEnd", "Disconnected"]
    assert seen[-2].action == 4


def test_a_stream_that_had_already_ended(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """Connecting by room id to a room that has ended: ``connect()`` returns, then ``streamEnd`` and
    ``disconnected`` fire, in that order, and nothing is left running."""
    server = serve(Room("ned", status="offline"))
    room = server.room("ned")

    async def body() -> None:
        client = flavour.client(server, room_id=room.room_id, fetch_room_info_on_connect=False)
        collector.listen(client, "connected", "streamEnd", "disconnected")
        async with client:
            await client.connect()
            await client.wait_until_disconnected()

    flavour.run(body)
    assert collector.names() == ["connected", "streamEnd", "disconnected"]


def test_age_restricted_rooms_need_a_session(flavour: Flavour, serve: Serve) -> None:
    """An age-restricted room's info is refused without a session (``AgeRestricted``) and given with
    one, after which the client connects."""
    server = serve(Room("amy", status="age_restricted", title="18+ only"))

    async def body() -> None:
        async with flavour.client(server, "amy") as client:
            with pytest.raises(AgeRestricted):
                await client.connect()
        async with flavour.client(server, "amy", session_id="sid-adult") as client:
            state = await client.connect()
            assert state.room_info is not None
            assert state.room_info.title == "18+ only"
            assert state.is_connected

    flavour.run(body)
    infos = [r for r in server.recorder.of(HttpRecord) if r.route == "room_info"]
    assert "sessionid" not in infos[0].cookies
    assert infos[1].cookies["sessionid"] == "sid-adult"


def test_the_first_fetch_is_signed_by_the_signer(flavour: Flavour, serve: Serve) -> None:
    """With the old sign server (``LegacySigner``) the first im/fetch carries the signature params and
    the ``msToken`` cookie it returned; later requests are not signed."""
    server = serve(Room("sol"))

    async def body() -> None:
        signer = LegacySigner(base_url=server.base_url + "/")
        async with flavour.client(server, "sol", signer=signer) as client:
            state = await client.connect()
            assert state.upgraded_to_websocket

    flavour.run(body)
    records = server.recorder.of(HttpRecord)
    routes = [r.route for r in records]
    assert routes.index("sign_url") == routes.index("im_fetch") - 1
    fetch = next(r for r in records if r.route == "im_fetch")
    assert fetch.param("X-Bogus")
    assert fetch.param("msToken")
    assert fetch.cookies["msToken"] == fetch.param("msToken")


def test_the_client_speaks_the_push_protocol(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """On the socket the client sends enter-room first, acks every frame that asks (with its
    ``internal_ext``), and heartbeats with a growing sequence number (every ``heartbeat_interval``);
    a strict server finds nothing to object to."""
    server = serve(Room("pat"), options=Options(strict=True, fetch_interval_ms=50))
    room = server.room("pat")

    async def body() -> None:
        client = flavour.client(server, "pat", heartbeat_interval=0.05)
        collector.listen(client, "chat", "reconnecting")
        async with client:
            await client.connect()
            for n in range(3):
                room.push(fixtures.chat(f"ack me {n}"))
            await wait_until(collector.has("chat", 3), what="the chats")
            await wait_until(lambda: len(server.recorder.of(Heartbeat)) >= 3, what="three heartbeats")

    flavour.run(body)
    assert server.recorder.of(Violation) == []
    assert collector.of("reconnecting") == []
    frames = server.recorder.of(ClientFrame)
    assert isinstance(frames[0], EnterRoom)
    assert frames[0].enter_room_id == room.room_id
    acks = server.recorder.of(Ack)
    assert len(acks) >= 3
    assert all(ack.is_valid for ack in acks)
    beats = [b.send_packet_seq_id for b in server.recorder.of(Heartbeat)]
    assert beats[:3] == [1, 2, 3]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_socket_reads_the_anyio_stream_directly(
    backend: str, serve: Serve, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the httpcore this project installs, the streaming phase reads and writes the upgraded
    anyio stream itself (``AsyncBackend.streaming_io``), not through httpcore's per-call wrappers,
    and on asyncio the socket's transport through a protocol of our own, which waits by itself; chats
    still arrive. Should an httpcore or anyio release move the private types, this test says so."""
    from webcast_transports._backend import AsyncBackend, _AsyncioProtocolStream

    seen: list[str] = []
    original = AsyncBackend.streaming_io
    original_read_within = _AsyncioProtocolStream.read_within

    def spy(stream: Any) -> Any:
        io = original(stream)
        seen.append(type(io).__name__)
        return io

    async def spy_read_within(self: Any, *args: Any) -> Any:
        if "read_within" not in seen:
            seen.append("read_within")
        return await original_read_within(self, *args)

    monkeypatch.setattr(AsyncBackend, "streaming_io", staticmethod(spy))
    monkeypatch.setattr(_AsyncioProtocolStream, "read_within", spy_read_within)
    server = serve(Room("dora"))
    room = server.room("dora")
    flavour = Flavour(backend)

    async def body() -> None:
        client = flavour.client(server, "dora")
        collector.listen(client, "chat")
        async with client:
            await client.connect()
            room.push(fixtures.chat("through the direct stream"))
            await wait_until(lambda: len(collector.of("chat")) == 1, what="the chat")
            await client.disconnect()

    flavour.run(body)
    # On asyncio the socket's idle wait is the protocol stream's own (read_within), not a guard's scope.
    assert seen == (
        ["_AsyncioProtocolStream", "read_within"] if backend == "asyncio" else ["_AnyIODirectStream"]
    )
    assert collector.of("chat")[0].comment == "through the direct stream"


def test_no_idle_http_connection_is_kept_beside_the_socket(
    flavour: Flavour, serve: Serve, collector: Collector
) -> None:
    """Once the push socket is open, the client lets go of its HTTP connections (issue 8: memory per
    idle room): the keep-alive connection that carried the lookup, room info and first fetch is
    not reused; a request made while connected opens a new one and works, the socket has its own."""
    server = serve(Room("kim", title="Kim's room"))
    room = server.room("kim")

    async def body() -> None:
        client = flavour.client(server, "kim")
        collector.listen(client, "chat")
        async with client:
            await client.connect()
            info = await client.get_room_info()
            assert info.title == "Kim's room"
            room.push(fixtures.chat("still here"))
            await wait_until(collector.has("chat"), what="the chat")

    flavour.run(body)
    records = server.recorder.of(HttpRecord)
    socket = next(i for i, r in enumerate(records) if r.status == 101)
    before = {r.connection_id for r in records[:socket]}
    after = records[socket + 1 :]
    assert len(before) == 1  # connect()'s requests share one keep-alive connection
    assert [r.route for r in after] == ["room_info"]
    ids = [*before, records[socket].connection_id, after[0].connection_id]
    assert len(set(ids)) == 3, [(r.route, r.connection_id) for r in records]
