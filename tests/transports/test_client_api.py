"""The client's surface: handler registration (decorator, async handlers, ``off``), the scope
``connect()`` needs, ``run()``, ``disconnect()`` from a handler, ``events()`` left early, converting
only what is listened to, and secrets kept out of logs."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from conftest import Collector, Flavour, fast_reconnect

from webcast_proto import Chat, LocalProtocolError, default_registry, fixtures
from webcast_transports import SyncTikTokLiveClient, TikTokLiveClient
from webcast_transports.mock import EndStream, HttpFault, Room

if TYPE_CHECKING:
    from collections.abc import Callable

    from webcast_proto._pb import webcast_pb2 as pb
    from webcast_proto.events import Event
    from webcast_transports.mock import MockWebcastServer

    Serve = Callable[..., MockWebcastServer]


def test_a_client_takes_the_applications_attributes_and_weak_references() -> None:
    """The clients have ``__slots__`` (memory per room, issue 8) and still take what a plain class
    does: an application's own attributes, weak references."""
    for cls in (TikTokLiveClient, SyncTikTokLiveClient):
        client: Any = cls("@user")  # Any: the attribute is the application's, unknown to the type
        client.room_label = "main"
        assert client.room_label == "main"
        assert weakref.ref(client)() is client


def test_on_validates_names_and_handlers() -> None:
    """``.on()`` refuses unknown names and non-callables; it returns the handler (decorator form too);
    ``off`` removes one handler or all of a name."""
    client = TikTokLiveClient("@someone")
    with pytest.raises(ValueError, match="unknown event name 'chatt'"):
        client.on("chatt", print)
    with pytest.raises(TypeError, match="callable"):
        client.on("chat", 42)  # type: ignore[call-overload]  # deliberately wrong

    @client.on("chat")
    def on_chat(event: Chat) -> None:
        pass

    assert client.on("gift", print) is print
    client.off("chat", on_chat)
    client.off("gift")
    with pytest.raises(ValueError, match="unknown event name"):
        client.off("nope")


def test_the_blocking_client_refuses_async_handlers() -> None:
    """The blocking client runs no event loop, so an ``async def`` handler is refused at once."""
    client = SyncTikTokLiveClient("@someone")

    async def handler(event: Chat) -> None:
        pass

    with pytest.raises(TypeError, match="event loop"):
        client.on("chat", handler)


def test_constructor_checks() -> None:
    """A username or a room id is needed; bad options are refused before anything runs."""
    with pytest.raises(ValueError, match="unique_id"):
        TikTokLiveClient()
    with pytest.raises(ValueError, match="room_id"):
        TikTokLiveClient(room_id=0)
    with pytest.raises(ValueError, match="not a TikTok username"):
        TikTokLiveClient("two words")
    with pytest.raises(ValueError, match="proxy"):
        TikTokLiveClient("x", proxy="ftp://nope")
    with pytest.raises(ValueError, match="timeout"):
        TikTokLiveClient("x", timeout=0)
    assert TikTokLiveClient("https://www.tiktok.com/@some.one/live").unique_id == "some.one"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_connect_needs_the_client_scope(backend: str) -> None:
    """``connect()`` outside ``async with client`` is a ``LocalProtocolError`` saying what to do."""

    async def main() -> None:
        with pytest.raises(LocalProtocolError, match="async with client"):
            await TikTokLiveClient("@someone").connect()

    anyio.run(main, backend=backend)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_handlers_and_run(serve: Serve, backend: str) -> None:
    """``async def`` handlers are awaited in order; ``run()`` enters, connects and returns at the end;
    a handler may call ``disconnect()`` (it only asks; the driver stops after the handler)."""
    server = serve(Room("wes"))
    seen: list[str] = []

    async def body() -> None:
        client = Flavour(backend).client(server, "wes")

        async def opened(event: Any) -> None:
            await anyio.sleep(0)
            server.room("wes").push(fixtures.chat("one"), fixtures.chat("two"))

        async def chat(event: Chat) -> None:
            await anyio.sleep(0.01)
            seen.append(event.comment)
            if event.comment == "two":
                await client.disconnect()

        client.on("websocketConnected", opened)
        client.on("chat", chat)

        state = await client.run()
        assert not state.is_connected

    Flavour(backend).run(body)
    assert seen == ["one", "two"]


def test_disconnect_from_a_blocking_handler(serve: Serve) -> None:
    """In the blocking client too, a handler may call ``disconnect()``; handlers run in the client's
    thread, which has no event loop."""
    server = serve(Room("xena"))
    seen: list[str] = []
    loops: list[bool] = []

    def on_open(event: Any) -> None:
        server.room("xena").push(fixtures.chat("bye"))

    def on_chat(event: Chat) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loops.append(False)
        else:
            loops.append(True)
        seen.append(event.comment)
        client.disconnect()

    client = SyncTikTokLiveClient("xena", endpoints=server.endpoints(), reconnect=fast_reconnect())
    client.on("websocketConnected", on_open)
    client.on("chat", on_chat)
    state = client.run()
    assert seen == ["bye"]
    assert loops == [False]
    assert not state.is_connected
    assert not [t for t in threading.enumerate() if t.name.startswith("webcast ")]


def test_events_left_early(flavour: Flavour, serve: Serve) -> None:
    """Leaving ``events()`` early (``break``) unsubscribes it; the client goes on and closes cleanly."""
    server = serve(Room("yan"))

    async def body() -> list[str]:
        client = flavour.client(server, "yan")
        kinds: list[str] = []
        async with client:
            async for event in client.events():
                kinds.append(type(event).__name__)
                if len(kinds) == 2:
                    break
            server.room("yan").push(fixtures.chat("nobody reads this"))
            await anyio.sleep(0.05)
        return kinds

    assert flavour.run(body) == ["Connected", "WebSocketConnected"]


def test_only_listened_methods_are_converted(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """With handlers for ``chat`` only (and no ``rawData`` or ``events()``), gift messages are never
    parsed: their converter is not called."""
    server = serve(Room("zed"))
    gift_conversions: list[int] = []
    registry = default_registry()

    builtin = default_registry()

    def counting_gift(message: pb.BaseProtoMessage) -> Event:
        if message.msg_id:  # the client asks each converter once with an empty message: not counted
            gift_conversions.append(message.msg_id)
        return builtin.convert(message)

    registry.register("WebcastGiftMessage", counting_gift)

    async def body() -> None:
        client = flavour.client(server, "zed", registry=registry)
        collector.listen(client, "chat", "streamEnd")
        async with client:
            await client.connect()
            server.room("zed").push(fixtures.gift(5655), fixtures.chat("only me"))
            server.room("zed").inject(EndStream())
            await client.wait_until_disconnected()

    flavour.run(body)
    assert [c.comment for c in collector.of("chat")] == ["only me"]
    assert len(collector.of("streamEnd")) == 1  # control messages are always converted
    assert gift_conversions == []


def test_secrets_never_reach_the_logs(
    flavour: Flavour, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """With a session id, a chat sent and a failure on the way, no ``webcast.*`` log line holds the
    session id."""
    secret = "sid-0123456789abcdef"
    server = serve(Room("abe"))

    async def body() -> None:
        client = flavour.client(server, "abe", session_id=secret)
        async with client:
            await client.connect()
            await client.send_message("hello")
            server.room("abe").inject(EndStream())
            await client.wait_until_disconnected()

    with caplog.at_level(logging.DEBUG, logger="webcast"):
        flavour.run(body)
    ours = [
        r for r in caplog.records if r.name.startswith("webcast.") and not r.name.startswith("webcast.mock")
    ]
    assert ours  # the client did log
    for record in ours:
        assert secret not in record.getMessage()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_cancelled_connect_stops_the_connection(serve: Serve, backend: str) -> None:
    """When the task waiting in ``connect()`` is cancelled (a timeout around it), the connection it
    started stops too; the client can connect again."""
    server = serve(Room("cal"))

    async def body() -> None:
        server.room("cal").inject(HttpFault(status=None, path="/webcast/im/fetch/", delay=1.0))
        client = Flavour(backend).client(server, "cal")
        async with client:
            with anyio.move_on_after(0.2):
                await client.connect()
            await client.wait_until_disconnected()
            assert not client.state.is_connected
            state = await client.connect()
            assert state.upgraded_to_websocket

    Flavour(backend).run(body)
