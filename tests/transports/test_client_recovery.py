"""Losses and failures end to end, in each flavour: the client resumes from its cursor so that what it
delivers equals what the server sent, once each; every failure reaches ``error``, ``reconnecting`` or
``disconnected`` with a reason (issue 5: what users of the existing libraries suffer from)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import anyio
import pytest
from conftest import Collector, Flavour, fast_reconnect, wait_until

from webcast_proto import Disconnected, RateLimited, UnknownMessage, WebcastBlocked, fixtures
from webcast_proto.signing import EulerSigner
from webcast_transports import Reconnecting, ReconnectPolicy
from webcast_transports.mock import (
    Action,
    CloseSocket,
    DropMidFrame,
    GarbageFrame,
    HttpFault,
    HttpRecord,
    Options,
    RefuseHandshake,
    Room,
    WsOpened,
    builtin_scenario,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from webcast_transports.mock import MockWebcastServer

    Serve = Callable[..., MockWebcastServer]


SOCKET_FAULTS: dict[str, Action] = {
    "close-1011": CloseSocket(code=1011, reason="boom"),
    "drop-mid-frame": DropMidFrame(),
    "garbage-frame": GarbageFrame(),
    "close-1000": CloseSocket(code=1000),
}


@pytest.mark.parametrize("fault", SOCKET_FAULTS, ids=str)
def test_a_forced_disconnect_loses_and_repeats_nothing(
    flavour: Flavour, serve: Serve, collector: Collector, fault: str
) -> None:
    """After a forced loss of the socket mid-stream the client reconnects; messages sent before,
    during and after the loss are each delivered once, in order."""
    server = serve(Room("mona"))
    room = server.room("mona")
    sent: list[int] = []

    def push(label: str, count: int) -> None:
        messages = [fixtures.chat(f"{label} {n}") for n in range(count)]
        sent.extend(m.common.msg_id for m in messages)
        room.push(*messages)

    async def body() -> None:
        client = flavour.client(server, "mona")
        collector.listen(client, "chat", "reconnecting", "connected", "error", "disconnected")
        async with client:
            await client.connect()
            push("before", 5)
            await wait_until(collector.has("chat", 5), what="the first chats")
            room.inject(SOCKET_FAULTS[fault])
            push("during", 5)
            await wait_until(collector.has("connected", 2), what="the reconnect")
            push("after", 3)
            await wait_until(lambda: len(collector.of("chat")) >= len(sent), what="every chat")
            await anyio.sleep(0.1)  # room for a duplicate to show up
            assert client.state.upgraded_to_websocket  # resumed on a socket, not by polling

    flavour.run(body)
    assert [chat.msg_id for chat in collector.of("chat")] == sent  # once each, in order
    assert len(server.recorder.of(WsOpened)) == 2
    (reconnecting,) = collector.of("reconnecting")
    assert isinstance(reconnecting, Reconnecting)
    assert reconnecting.attempt == 1
    assert reconnecting.reason == ("protocol_error" if fault == "garbage-frame" else "closed")
    if fault == "close-1011":
        assert reconnecting.code == 1011
    if fault == "garbage-frame":  # a failure: reported to `error` too
        (error,) = collector.of("error")
        assert error.message
    assert collector.of("disconnected")[0].reason == "client"


@pytest.mark.parametrize("upgrade", [True, False], ids=["socket", "polling"])
def test_repeated_losses_in_either_mode(
    flavour: Flavour, serve: Serve, collector: Collector, upgrade: bool
) -> None:
    """Five losses in a row, each one of the mode in use (the socket closed, or a poll answered 503):
    every loss is resumed in the same mode and the union of what was delivered is exactly what was
    sent."""
    server = serve(Room("moe"))
    room = server.room("moe")
    sent: list[int] = []
    opened = "websocketConnected" if upgrade else "connected"

    def push(label: str, count: int) -> None:
        messages = [fixtures.chat(f"{label} {n}") for n in range(count)]
        sent.extend(m.common.msg_id for m in messages)
        room.push(*messages)

    async def body() -> None:
        client = flavour.client(
            server, "moe", enable_websocket_upgrade=upgrade, request_polling_interval_ms=20
        )
        collector.listen(client, "chat", "connected", "websocketConnected")
        async with client:
            await client.connect()
            for index in range(5):
                push(f"before {index}", 3)
                if upgrade:
                    room.inject(CloseSocket(code=1011))
                else:
                    room.inject(HttpFault(status=503, path="/webcast/im/fetch/"))
                push(f"during {index}", 3)
                await wait_until(collector.has(opened, index + 2), what=f"reconnect {index}")
                assert client.state.upgraded_to_websocket is upgrade
            push("last", 1)
            await wait_until(lambda: len(collector.of("chat")) >= len(sent), what="every chat")
            await anyio.sleep(0.1)

    flavour.run(body)
    assert [chat.msg_id for chat in collector.of("chat")] == sent
    assert len(server.recorder.of(WsOpened)) == (6 if upgrade else 0)


def test_liveness_timeout_resumes_a_silent_socket(
    flavour: Flavour, serve: Serve, collector: Collector
) -> None:
    """A socket silent for ``liveness_timeout`` counts as dead: ``reconnecting`` (reason ``timeout``),
    a fresh socket, and the messages sent meanwhile arrive."""
    server = serve(Room("nina"))
    room = server.room("nina")

    async def body() -> None:
        client = flavour.client(server, "nina", liveness_timeout=0.3)
        collector.listen(client, "chat", "reconnecting")
        async with client:
            await client.connect()
            await wait_until(collector.has("reconnecting"), what="the liveness timeout")
            room.push(fixtures.chat("still here"))
            await wait_until(collector.has("chat"), what="the chat")

    flavour.run(body)
    assert collector.of("reconnecting")[0].reason == "timeout"
    assert [c.comment for c in collector.of("chat")] == ["still here"]


def test_sign_server_rate_limit_is_typed_with_retry_after(flavour: Flavour, serve: Serve) -> None:
    """A sign server's 429 is ``RateLimited`` with the ``retry_after`` it announced; without reconnects
    ``connect()`` raises it."""
    server = serve(Room("olga"))
    room = server.room("olga")

    async def body() -> None:
        room.inject(HttpFault(status=429, path="/webcast/fetch", retry_after=7.0, message="slow down"))
        signer = EulerSigner(endpoints=server.endpoints())
        client = flavour.client(server, "olga", signer=signer, reconnect=None)
        async with client:
            with pytest.raises(RateLimited) as caught:
                await client.connect()
        assert caught.value.retry_after == 7.0
        assert "slow down" in caught.value.message

    flavour.run(body)


def test_rate_limit_waits_for_retry_after_then_connects(flavour: Flavour, serve: Serve) -> None:
    """With reconnects, a 429 is waited out for at least its ``retry_after`` and connect() succeeds
    through the sign server's first fetch (EulerSigner)."""
    server = serve(Room("pia"))
    room = server.room("pia")

    async def body() -> float:
        room.inject(HttpFault(status=429, path="/webcast/fetch", retry_after=0.3))
        signer = EulerSigner(endpoints=server.endpoints())
        client = flavour.client(server, "pia", signer=signer)
        async with client:
            started = anyio.current_time()
            state = await client.connect()
            elapsed = anyio.current_time() - started
            assert state.upgraded_to_websocket
        return elapsed

    elapsed = flavour.run(body)
    assert elapsed >= 0.3
    fetches = [r for r in server.recorder.of(HttpRecord) if r.route in ("sign_fetch", "fault")]
    assert [r.status for r in fetches] == [429, 200]


def test_a_refused_handshake_is_retried(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """A refused handshake (HTTP 200 + ``Handshake-Msg``) is reported as ``WebcastBlocked`` quoting the
    server and retried with a fresh fetch; ``connect()`` returns connected."""
    server = serve(Room("quinn"))

    async def body() -> None:
        server.room("quinn").inject(RefuseHandshake(message="illegal secret key", count=1))
        client = flavour.client(server, "quinn")
        collector.listen(client, "connected", "reconnecting", "error")
        async with client:
            state = await client.connect()
            assert state.is_connected

    flavour.run(body)
    (error,) = collector.of("error")
    assert isinstance(error, WebcastBlocked)
    assert "illegal secret key" in error.message
    assert collector.names() == ["connected", "error", "reconnecting", "connected"]
    assert collector.of("reconnecting")[0].reason == "upgrade_failed"


def test_without_reconnects_a_refusal_ends_connect(
    flavour: Flavour, serve: Serve, collector: Collector
) -> None:
    """With ``reconnect=None`` a refused handshake ends the run: since ``connected`` had fired, the
    final ``disconnected`` fires too, and ``connect()`` raises the ``WebcastBlocked``."""
    server = serve(Room("rita"))

    async def body() -> None:
        server.room("rita").inject(RefuseHandshake(message="illegal secret key"))
        client = flavour.client(server, "rita", reconnect=None)
        collector.listen(client, "connected", "reconnecting", "error", "disconnected")
        async with client:
            with pytest.raises(WebcastBlocked, match="illegal secret key"):
                await client.connect()

    flavour.run(body)
    assert collector.names() == ["connected", "error", "disconnected"]
    final = collector.of("disconnected")[0]
    assert final == Disconnected(reason="upgrade_failed", retryable=False)


def test_the_policy_gives_up(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """When every resume fails (im/fetch answers 503), the client tries ``max_attempts`` times with
    growing delays, then gives up: ``error`` for each failure, then the final ``disconnected``."""
    server = serve(Room("rob"))
    room = server.room("rob")

    async def body() -> None:
        client = flavour.client(server, "rob", reconnect=fast_reconnect(max_attempts=3, jitter=0.0))
        collector.listen(client, "reconnecting", "error", "disconnected")
        async with client:
            await client.connect()
            room.inject(HttpFault(status=503, path="/webcast/im/fetch/", count=100))
            room.inject(CloseSocket(code=1011))
            await client.wait_until_disconnected()
            assert not client.state.is_connected

    flavour.run(body)
    attempts = [(e.attempt, round(e.delay, 3)) for e in collector.of("reconnecting")]
    assert attempts == [(1, 0.02), (2, 0.04), (3, 0.08)]
    assert collector.names()[-1] == "disconnected"
    final = collector.of("disconnected")[0]
    assert final.reason == "fetch_failed"
    assert final.retryable  # it could work later: the policy gave up, not the server
    assert len(collector.of("error")) == 3  # each failed resume


def test_too_big_a_message_is_refused(flavour: Flavour, serve: Serve, collector: Collector) -> None:
    """A WebSocket message past ``Limits.max_frame_size`` is refused (close 1009) as the server's
    error, not held in memory: ``error`` names the limit and the client resumes."""
    from webcast_proto import Limits

    server = serve(Room("sara"))
    room = server.room("sara")

    async def body() -> None:
        client = flavour.client(server, "sara", limits=Limits(max_frame_size=2048))
        collector.listen(client, "reconnecting", "error")
        async with client:
            await client.connect()
            room.push(fixtures.chat(random.Random(5).randbytes(10_000).hex()))  # gzip cannot shrink it
            await wait_until(collector.has("reconnecting"), what="the resume")

    flavour.run(body)
    error = collector.of("error")[0]
    assert "max_frame_size" in error.message
    assert collector.of("reconnecting")[0].reason == "protocol_error"


def test_flaky_scenario_delivers_every_message_once(
    flavour: Flavour, serve: Serve, collector: Collector
) -> None:
    """The mock's ``flaky`` scenario (a 429, a refused handshake, garbage, a stall, a drop, a 503 and
    a 1011 close, then the stream end), sped up: every message the room had is delivered exactly
    once, and the run ends with ``streamEnd`` then ``disconnected``."""
    server = serve(
        Room("tess", scenario=builtin_scenario("flaky")),
        options=Options(speed=25, fetch_interval_ms=50, initial_count=10_000),
    )
    room = server.room("tess")

    async def body() -> None:
        client = flavour.client(server, "tess", reconnect=ReconnectPolicy(initial_delay=0.02, max_delay=0.2))
        collector.listen(client, "rawData", "streamEnd", "disconnected", "reconnecting", "error")
        async with client:
            await client.connect()
            await client.wait_until_disconnected()

    flavour.run(body)
    delivered = [e.msg_id for e in collector.of("rawData") if not isinstance(e, UnknownMessage)]
    expected = [m.msg_id for m in room.messages() if m.msg_id]
    assert len(delivered) == len(set(delivered))
    assert sorted(delivered) == sorted(expected)
    assert collector.names()[-3:] == ["streamEnd", "rawData", "disconnected"]
    assert len(collector.of("reconnecting")) >= 2  # the refused handshake, the 503 (and socket faults)
