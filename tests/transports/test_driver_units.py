"""The transports' pieces on their own: backoff, proxy URLs, the cookie jar, the exception-mapping
seam, the event-name table, the flavour primitives and the generated blocking code."""

from __future__ import annotations

import gzip
import random
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import anyio
import h11
import httpcore
import pytest
import wsproto.utilities

from webcast_proto import (
    Chat,
    Connected,
    ConnectError,
    Control,
    Disconnected,
    Event,
    Gift,
    LocalProtocolError,
    ReadTimeout,
    RemoteProtocolError,
    StreamEnd,
    Subscribe,
    TransportError,
    UnexpectedResponse,
    UnknownMessage,
    UserOffline,
    WebcastBlocked,
    WebSocketConnected,
    default_registry,
    http,
)
from webcast_transports import SEED_EVENT_NAMES, Reconnecting, ReconnectPolicy, TikTokLiveClient, event_name
from webcast_transports._async._driver import is_retryable
from webcast_transports._async._http import _decode_content
from webcast_transports._backend import (
    AsyncBackend,
    AsyncChannel,
    AsyncInterrupt,
    Interrupted,
    SyncBackend,
    SyncChannel,
    SyncInterrupt,
    SyncRunner,
)
from webcast_transports._errors import describe_url, map_errors
from webcast_transports._names import (
    class_for_name,
    default_event_types_by_method,
    event_types_by_method,
    known_names,
    wanted_methods,
)
from webcast_transports._options import CookieJar, Draws, parse_proxy

ROOT = Path(__file__).resolve().parents[2]


# -- the reconnect policy --------------------------------------------------------------------------


def test_backoff_grows_exponentially_to_the_cap() -> None:
    """Without jitter the n-th delay is initial × multiplier^(n-1), capped at max_delay."""
    policy = ReconnectPolicy(initial_delay=1.0, max_delay=10.0, multiplier=2.0, jitter=0.0)
    rng = random.Random(0)
    assert [policy.delay(n, rng) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.delay(10_000, rng) == 10.0  # no overflow for huge attempt numbers


def test_jitter_stays_within_its_fraction_and_is_seedable() -> None:
    """Jitter takes off at most ``jitter`` of each delay; the same seed gives the same delays."""
    policy = ReconnectPolicy(initial_delay=4.0, max_delay=4.0, jitter=0.5)
    delays = [policy.delay(1, random.Random(7)) for _ in range(3)]
    assert delays[0] == delays[1] == delays[2]
    spread = [policy.delay(1, rng) for rng in [random.Random(s) for s in range(200)]]
    assert all(2.0 <= d <= 4.0 for d in spread)
    assert max(spread) - min(spread) > 1.0


def test_the_clients_draws_are_seedable_and_spread() -> None:
    """``Draws`` (the client's random source): a seed gives the same numbers every time, each draw a
    new one; another seed or no seed gives others; the jitter it feeds stays within its fraction."""
    first, again, other = Draws(7), Draws(7), Draws(8)
    sequence = [first.getrandbits(63), first.randbytes(8), first.random()]
    assert sequence == [again.getrandbits(63), again.randbytes(8), again.random()]
    assert sequence != [other.getrandbits(63), other.randbytes(8), other.random()]
    assert len({Draws().getrandbits(63) for _ in range(50)}) == 50
    draws = Draws(1)
    assert len({draws.getrandbits(63) for _ in range(1000)}) == 1000
    assert all(0 <= bits < 2**63 for bits in (draws.getrandbits(63) for _ in range(100)))
    assert all(len(draws.randbytes(n)) == n for n in range(10))
    policy = ReconnectPolicy(initial_delay=4.0, max_delay=4.0, jitter=0.5)
    spread = [policy.delay(1, draws) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in spread)
    assert max(spread) - min(spread) > 1.0
    a, b = TikTokLiveClient("@a", seed=3), TikTokLiveClient("@a", seed=3)
    assert a._client_params.device_id == b._client_params.device_id  # reproducible runs
    assert TikTokLiveClient("@a")._client_params.device_id != TikTokLiveClient("@a")._client_params.device_id


def test_retry_after_is_a_floor() -> None:
    """The server's ``retry_after`` wins when it is longer than the backoff."""
    policy = ReconnectPolicy(initial_delay=0.5, jitter=0.0)
    assert policy.delay(1, random.Random(), retry_after=7.0) == 7.0
    assert policy.delay(1, random.Random(), retry_after=0.1) == 0.5


def test_max_attempts() -> None:
    """``gives_up_after(n)``: n consecutive failures exhaust ``max_attempts``; ``None`` never does."""
    assert not ReconnectPolicy(max_attempts=3).gives_up_after(2)
    assert ReconnectPolicy(max_attempts=3).gives_up_after(3)
    assert not ReconnectPolicy(max_attempts=None).gives_up_after(10**6)


@pytest.mark.parametrize(
    "changes",
    [
        {"initial_delay": -1},
        {"max_delay": 0.5, "initial_delay": 1.0},
        {"multiplier": 0.5},
        {"jitter": 1.5},
        {"max_attempts": 0},
        {"max_attempts": True},
        {"initial_delay": float("nan")},
    ],
)
def test_policy_rejects_bad_values(changes: dict[str, object]) -> None:
    """Out-of-range values are refused on construction."""
    with pytest.raises(ValueError, match="ReconnectPolicy"):
        ReconnectPolicy(**changes)  # type: ignore[arg-type]  # deliberately wrong values


def test_what_is_retried() -> None:
    """Retryable errors and clean losses are resumed; a refused handshake is too (a fresh fetch renews
    the signed URL); an offline room or a misuse is not."""
    assert is_retryable(None)
    assert is_retryable(TransportError("x"))
    assert is_retryable(RemoteProtocolError("x"))
    assert is_retryable(WebcastBlocked("x"))
    assert not is_retryable(LocalProtocolError("x"))
    assert is_retryable(UserOffline("x"))  # retryable by its class: the host may come back


# -- proxies and cookies -------------------------------------------------------------------------


def test_proxy_urls() -> None:
    """http and socks5 proxy URLs, with credentials (never shown in the repr) and default ports."""
    proxy = parse_proxy("http://user:p%40ss@proxy.local:3128")
    assert (proxy.scheme, proxy.host, proxy.port, proxy.auth) == (
        "http",
        "proxy.local",
        3128,
        ("user", "p@ss"),
    )
    assert "p@ss" not in repr(proxy)
    assert proxy.url == "http://proxy.local:3128"
    assert parse_proxy("socks5h://127.0.0.1").port == 1080
    assert parse_proxy("http://[::1]:8080").url == "http://[::1]:8080"
    for bad in ("ftp://x", "http://", "http://host/path", "socks4://host:1", "http://host:99999"):
        with pytest.raises(ValueError, match="proxy"):
            parse_proxy(bad)


def test_cookie_jar_keeps_server_cookies_under_the_request_s_own() -> None:
    """Set-Cookie values join later requests; a request's own cookie of the same name wins; empty
    values delete; the jar is bounded; attributes are ignored."""
    jar = CookieJar(max_cookies=3)
    jar.take_set_cookies(
        [("Set-Cookie", "ttwid=abc; Path=/; HttpOnly"), ("set-cookie", "bad name=x"), ("X-Other", "a=b")]
    )
    assert jar.as_dict() == {"ttwid": "abc"}
    request = http.Request("GET", "https://webcast.tiktok.com/", (("Cookie", "ttwid=mine; a=1"),))
    assert jar.apply(request) is request  # nothing to add: its own ttwid wins
    jar.update([("msToken", "t1"), ("b", "2"), ("c", "3")])
    assert list(jar.as_dict()) == ["msToken", "b", "c"]  # the oldest (ttwid) dropped at the cap
    applied = jar.apply(request)
    assert applied.header("cookie") == "ttwid=mine; a=1; msToken=t1; b=2; c=3"
    jar.take_set_cookies([("Set-Cookie", "b=; Max-Age=0")])
    assert "b" not in jar.as_dict()
    assert "t1" not in repr(jar)


# -- the exception-mapping seam --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpcore.ConnectTimeout("t"), ConnectError),
        (httpcore.ConnectError("refused"), ConnectError),
        (httpcore.ProxyError("407"), ConnectError),
        (httpcore.ReadTimeout("t"), ReadTimeout),
        (httpcore.WriteTimeout("t"), ReadTimeout),
        (httpcore.PoolTimeout("t"), ReadTimeout),
        (httpcore.ReadError("reset"), TransportError),
        (httpcore.RemoteProtocolError("bad"), RemoteProtocolError),
        (h11.RemoteProtocolError("bad"), RemoteProtocolError),
        (wsproto.utilities.RemoteProtocolError("bad", event_hint=None), RemoteProtocolError),
        (httpcore.UnsupportedProtocol("ftp"), LocalProtocolError),
        (anyio.BrokenResourceError(), TransportError),
        (ConnectionResetError(104, "reset"), TransportError),
    ],
)
def test_map_errors(raised: Exception, expected: type[Exception]) -> None:
    """Each library's error leaves the seam as webcast's, naming the operation, the cause chained."""
    with pytest.raises(expected) as caught, map_errors("GET host/path"):
        raise raised
    assert caught.value.__cause__ is raised
    assert str(caught.value).startswith("GET host/path: ")


def test_map_errors_passes_webcast_errors_and_the_rest() -> None:
    """webcast's own errors pass unchanged; an exception nobody maps (a bug) passes too."""
    error = UserOffline("offline")
    with pytest.raises(UserOffline) as caught, map_errors("x"):
        raise error
    assert caught.value is error
    with pytest.raises(KeyError), map_errors("x"):
        raise KeyError("bug")


def test_describe_url_hides_query_and_credentials() -> None:
    """Messages name host, port and path only."""
    assert describe_url("https://u:p@webcast.tiktok.com/webcast/im/fetch/?cursor=1&x=2") == (
        "webcast.tiktok.com/webcast/im/fetch/"
    )
    assert describe_url("ws://127.0.0.1:8080/ws?sessionid=s") == "127.0.0.1:8080/ws"


# -- the event-name table --------------------------------------------------------------------------


def test_every_seed_name_resolves() -> None:
    """Each name the seed documents is known; message names map to their classes."""
    table = known_names()
    assert set(SEED_EVENT_NAMES) <= set(table)
    assert class_for_name("chat") is Chat
    assert class_for_name("subscribe") is Subscribe
    assert class_for_name("streamEnd") is StreamEnd
    assert class_for_name("websocketConnected") is WebSocketConnected
    assert class_for_name("reconnecting") is Reconnecting
    assert class_for_name("rawData") is None
    assert class_for_name("error") is None


def test_the_abstract_bases_have_no_name() -> None:
    """``Event`` and ``MessageEvent`` are never delivered, so ``.on()`` refuses them (issue 6: the
    unslotted first ``MessageEvent`` class once slipped in as ``messageEvent``)."""
    assert "event" not in known_names()
    assert "messageEvent" not in known_names()
    with pytest.raises(ValueError, match="unknown event name 'messageEvent'"):
        class_for_name("messageEvent")


def test_names_are_generated_from_the_classes() -> None:
    """A name is the class name in lowerCamelCase, bar the seed's ``websocketConnected``; a new event
    class gets its name as soon as it exists."""
    assert event_name(Connected) == "connected"
    assert event_name(Disconnected) == "disconnected"
    assert event_name(WebSocketConnected) == "websocketConnected"
    assert event_name(Control) == "control"
    assert event_name(UnknownMessage) == "unknownMessage"

    class PollMessage(Event):
        pass

    assert class_for_name("pollMessage") is PollMessage
    with pytest.raises(ValueError, match=r"unknown event name 'chats'.*chat"):
        class_for_name("chats")


def test_wanted_methods_follow_the_listeners() -> None:
    """Only the methods of listened names are converted; rawData or unknownMessage need them all."""
    by_method = event_types_by_method(default_registry())
    assert by_method["WebcastGiftMessage"] is Gift
    both = frozenset({"WebcastChatMessage", "WebcastGiftMessage"})
    assert wanted_methods({"chat", "gift", "connected"}, by_method) == both
    assert wanted_methods({"subscribe"}, by_method) == frozenset({"WebcastSubNotifyMessage"})
    assert wanted_methods({"error", "disconnected"}, by_method) == frozenset()
    assert wanted_methods({"chat", "rawData"}, by_method) is None
    assert wanted_methods({"unknownMessage"}, by_method) is None


def test_the_default_registrys_events_are_worked_out_once() -> None:
    """Clients that made their own default registry share one read-only answer, the one their
    registry would give; a client given a registry asks that registry (its converters may differ)."""
    shared = default_event_types_by_method()
    assert shared is default_event_types_by_method()
    assert dict(shared) == event_types_by_method(default_registry())
    with pytest.raises(TypeError):
        shared["WebcastChatMessage"] = Gift  # type: ignore[index]
    custom = default_registry()
    custom.unregister("WebcastGiftMessage")
    given, own = TikTokLiveClient("@a", registry=custom), TikTokLiveClient("@a")
    for client in (given, own):
        client.on("gift", lambda event: None)
    assert given._wanted_methods() == frozenset()
    assert own._wanted_methods() == frozenset({"WebcastGiftMessage"})


# -- the flavour primitives ------------------------------------------------------------------------


def test_sync_backend_refuses_async_handlers() -> None:
    """The blocking client has no loop to run a coroutine: async handlers are refused up front, and
    a sync one that returns an awaitable is an error (the coroutine is closed, never left pending)."""

    async def handler(event: object) -> None:
        pass

    with pytest.raises(TypeError, match="event loop"):
        SyncBackend.check_handler(handler)
    with pytest.raises(TypeError, match="callable"):
        SyncBackend.check_handler(42)  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(TypeError, match="awaitable"):
        SyncBackend.call(lambda event: handler(event), None)
    AsyncBackend.check_handler(handler)


def test_sync_interrupt_stops_a_sleep_at_once() -> None:
    """A stop asked from another thread ends a sleep immediately; later waits raise at once."""
    interrupt = SyncInterrupt()
    threading.Timer(0.05, interrupt.request).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        interrupt.sleep(5.0)
    assert time.monotonic() - started < 1.0
    with pytest.raises(Interrupted), interrupt.guard():
        pass


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_interrupt_cancels_the_wait_in_progress(backend: str) -> None:
    """``request()`` cancels a guarded wait of another task, which then raises ``Interrupted``."""

    async def main() -> None:
        interrupt = AsyncInterrupt()
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: _request_later(interrupt))
            with pytest.raises(Interrupted):
                await interrupt.sleep(5.0)
        with pytest.raises(Interrupted), interrupt.guard():
            pass

    async def _request_later(interrupt: AsyncInterrupt) -> None:
        await anyio.sleep(0.02)
        interrupt.request()

    anyio.run(main, backend=backend)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_guard_deadline_times_out_without_raising(backend: str) -> None:
    """A guard's timeout ends the block and sets ``timed_out``; a stop still raises ``Interrupted``,
    and ``check=False`` lets a block run after a stop was asked for (an ack must go out)."""

    async def main() -> None:
        interrupt = AsyncInterrupt()
        started = time.monotonic()
        with interrupt.guard(0.02) as guard:
            await anyio.sleep(5.0)
        assert guard.timed_out
        assert time.monotonic() - started < 1.0
        with interrupt.guard(5.0) as guard:
            await anyio.sleep(0)
        assert not guard.timed_out
        interrupt.request()
        with interrupt.guard(5.0, check=False) as guard:
            await anyio.sleep(0)  # the stop came before the scope: not cancelled
        assert not guard.timed_out
        with pytest.raises(Interrupted), interrupt.guard(5.0):
            pass

    anyio.run(main, backend=backend)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_streaming_io_sees_through_httpcore_and_keeps_leading_bytes(backend: str) -> None:
    """The upgraded stream is read on the anyio stream itself, the bytes past the 101 first."""
    from httpcore._async.http11 import AsyncHTTP11UpgradeStream
    from httpcore._backends.anyio import AnyIOStream

    class Pipe:  # the part of an anyio ByteStream the WebSocket uses: what is sent is received
        def __init__(self) -> None:
            self.queued: list[bytes] = []
            self.ended = False

        async def receive(self, max_bytes: int = 65536) -> bytes:
            if not self.queued and self.ended:
                raise anyio.EndOfStream
            return self.queued.pop(0)

        async def send(self, item: bytes) -> None:
            self.queued.append(item)

    async def main() -> None:
        pipe = Pipe()
        stream = AsyncHTTP11UpgradeStream(AnyIOStream(pipe), b"lead")  # type: ignore[arg-type]
        io = AsyncBackend.streaming_io(stream)
        assert io is not stream
        await io.write(b"more")
        assert await io.read(2) == b"le"
        assert await io.read(100) == b"ad"
        assert await io.read(100) == b"more"
        pipe.ended = True
        assert await io.read(100) == b""  # the end of the stream, as httpcore says it
        unknown = httpcore.AsyncNetworkStream()
        assert AsyncBackend.streaming_io(unknown) is unknown  # unknown wrappers: httpcore's path

    anyio.run(main, backend=backend)


def test_sync_streaming_io_is_the_stream() -> None:
    stream = httpcore.NetworkStream()
    assert SyncBackend.streaming_io(stream) is stream


def test_sync_channel_ends_after_the_producer_closes() -> None:
    """Items come out in order, then ``None``; a gone consumer makes ``put`` say so."""
    channel: SyncChannel[int] = SyncChannel(2)
    assert channel.put(1)
    assert channel.put(2)
    consumer = threading.Thread(target=lambda: [channel.get() for _ in range(2)])
    threading.Timer(0.05, consumer.start).start()
    assert channel.put(3)  # waited for room
    consumer.join()
    channel.close_producer()
    assert channel.get() == 3
    assert channel.get() is None
    assert channel.get() is None
    gone: SyncChannel[int] = SyncChannel(1)
    gone.close_consumer()
    assert not gone.put(1)


def test_async_channel() -> None:
    """The async channel: in order, then ``None``; a gone consumer makes ``put`` say so."""

    async def main() -> None:
        channel: AsyncChannel[int] = AsyncChannel(4)
        assert await channel.put(1)
        channel.close_producer()
        assert await channel.get() == 1
        assert await channel.get() is None
        channel.close_consumer()
        other: AsyncChannel[int] = AsyncChannel(4)
        other.close_consumer()
        assert not await other.put(1)
        other.close_producer()

    anyio.run(main)


def test_sync_runner_reraises_what_a_thread_raised() -> None:
    """An exception escaping a background thread is raised when the runner is left."""

    def fail() -> None:
        raise RuntimeError("bug in a thread")

    with pytest.raises(RuntimeError, match="bug in a thread"), SyncRunner() as runner:
        runner.start(fail, "webcast test")
    with pytest.raises(RuntimeError, match="not running"):
        SyncRunner().start(fail, "webcast test")


# -- the generated code ----------------------------------------------------------------------------


def test_the_blocking_client_is_generated_and_current() -> None:
    """``scripts/unasync.py --check``: _sync/ is exactly what the rules make of _async/ (and every
    rule is used)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_blocking_client_has_no_event_loop_in_it() -> None:
    """Nothing generated imports anyio, asyncio or trio, or awaits anything."""
    for path in (ROOT / "src" / "webcast_transports" / "_sync").glob("*.py"):
        text = path.read_text()
        for word in ("import anyio", "import asyncio", "import trio", "await ", "async def", "Async"):
            assert word not in text, f"{path.name} contains {word!r}"


# -- response bodies -------------------------------------------------------------------------------


def test_bodies_are_decoded_within_the_limit() -> None:
    """gzip and deflate (zlib or raw) bodies are decoded for the parsers; a body inflating past the
    limit is the server's error, not a MemoryError; an unknown encoding is refused."""
    text = b'{"status_code": 0}' * 10
    assert _decode_content(gzip.compress(text), "gzip", limit=1000, what="x") == text
    assert _decode_content(zlib.compress(text), "deflate", limit=1000, what="x") == text
    raw = zlib.compressobj(wbits=-15)
    assert _decode_content(raw.compress(text) + raw.flush(), "deflate", limit=1000, what="x") == text
    assert _decode_content(text, "identity", limit=1000, what="x") == text
    assert _decode_content(text, "", limit=1000, what="x") == text
    with pytest.raises(RemoteProtocolError, match="max_http_body_size"):
        _decode_content(gzip.compress(b"0" * 10_000), "gzip", limit=1000, what="x")
    with pytest.raises(UnexpectedResponse, match="Content-Encoding 'br'"):
        _decode_content(text, "br", limit=1000, what="x")
    with pytest.raises(UnexpectedResponse, match="does not decode"):
        _decode_content(b"\x1f\x8bnot gzip at all", "gzip", limit=1000, what="x")
