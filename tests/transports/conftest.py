"""Shared by the transport tests: the client in its three flavours behind one async surface, the
mock server, and waiting helpers.

A test written once runs against asyncio, trio and the blocking client (``flavour`` fixture): it is
an ``async def`` body driven by :meth:`Flavour.run`, and the client it gets is either the async
``TikTokLiveClient`` or :class:`BlockingClient`, which calls every method of the blocking
``SyncTikTokLiveClient`` in a worker thread so the same ``await client.connect()`` works. The
blocking client itself runs no event loop; only the test around it does.

``Flavour.run`` also checks that nothing is left behind: no asyncio task, no "exception was never
retrieved" (the loop's exception handler records it), and no thread of the blocking client.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio
import anyio.to_thread
import pytest

from webcast_transports import (
    ClientState,
    ReconnectPolicy,
    SyncEventStream,
    SyncTikTokLiveClient,
    TikTokLiveClient,
)
from webcast_transports.mock import MockWebcastServer, Options, Room

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
    from types import TracebackType

    from webcast_proto import Event, GiftInfo
    from webcast_proto.http import ChatSent, RoomInfo

T = TypeVar("T")

FLAVOURS = ("asyncio", "trio", "blocking")

# Tests wait for things that happen in milliseconds on loopback; this only bounds a failure.
WAIT = 10.0


class ClientLike(Protocol):
    """The client surface the tests use, awaitable in every flavour."""

    @property
    def state(self) -> ClientState: ...
    def on(self, name: str, handler: Callable[..., object]) -> Callable[..., object]: ...
    def off(self, name: str, handler: Callable[..., object] | None = None) -> None: ...
    async def connect(self) -> ClientState: ...
    async def disconnect(self) -> None: ...
    async def wait_until_disconnected(self) -> None: ...
    async def run(self) -> ClientState: ...
    async def get_room_info(self) -> RoomInfo: ...
    async def get_available_gifts(self) -> tuple[GiftInfo, ...]: ...
    async def send_message(self, text: str, session_id: str | None = None) -> ChatSent: ...
    def events(self) -> AsyncIterator[Event]: ...
    async def __aenter__(self) -> Any: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


async def _in_thread(func: Callable[..., T], *args: object) -> T:
    return await anyio.to_thread.run_sync(func, *args)


class _BlockingEvents:
    """``events()`` of the blocking client as an async iterator (each step in a worker thread)."""

    def __init__(self, stream: SyncEventStream) -> None:
        self._stream = stream

    def __aiter__(self) -> _BlockingEvents:
        return self

    def _next(self) -> Event | None:
        # StopIteration cannot cross a thread's future: it becomes None here.
        return next(self._stream, None)

    async def __anext__(self) -> Event:
        event = await _in_thread(self._next)
        if event is None:
            raise StopAsyncIteration
        return event


class BlockingClient:
    """The blocking client behind the async surface; every call runs in a worker thread."""

    def __init__(self, client: SyncTikTokLiveClient) -> None:
        self.client = client

    @property
    def state(self) -> ClientState:
        return self.client.state

    def on(self, name: str, handler: Callable[..., object]) -> Callable[..., object]:
        return self.client.on(name, handler)

    def off(self, name: str, handler: Callable[..., object] | None = None) -> None:
        self.client.off(name, handler)

    async def connect(self) -> ClientState:
        return await _in_thread(self.client.connect)

    async def disconnect(self) -> None:
        await _in_thread(self.client.disconnect)

    async def wait_until_disconnected(self) -> None:
        await _in_thread(self.client.wait_until_disconnected)

    async def run(self) -> ClientState:
        return await _in_thread(self.client.run)

    async def get_room_info(self) -> RoomInfo:
        return await _in_thread(self.client.get_room_info)

    async def get_available_gifts(self) -> tuple[GiftInfo, ...]:
        return await _in_thread(self.client.get_available_gifts)

    async def send_message(self, text: str, session_id: str | None = None) -> ChatSent:
        return await _in_thread(self.client.send_message, text, session_id)

    def events(self) -> AsyncIterator[Event]:
        return _BlockingEvents(self.client.events())

    async def __aenter__(self) -> BlockingClient:
        await _in_thread(self.client.__enter__)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await _in_thread(self.client.__exit__, exc_type, exc, tb)


def fast_reconnect(**changes: Any) -> ReconnectPolicy:
    """A reconnect policy for loopback: quick retries, a few attempts."""
    values: dict[str, Any] = {"initial_delay": 0.02, "max_delay": 0.2, "max_attempts": 5}
    values.update(changes)
    return ReconnectPolicy(**values)


@dataclass
class Flavour:
    """One of asyncio, trio, blocking: makes clients and runs test bodies."""

    name: str
    leftovers: list[str] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return "trio" if self.name == "trio" else "asyncio"

    def client(self, server: MockWebcastServer, unique_id: str | None = None, **options: Any) -> ClientLike:
        """A client of ``server`` (endpoints, a fast reconnect policy and a seed filled in)."""
        options.setdefault("endpoints", server.endpoints())
        options.setdefault("reconnect", fast_reconnect())
        options.setdefault("seed", 1)
        options.setdefault("timeout", 5.0)
        options.setdefault("request_polling_interval_ms", 20)  # polls on loopback need no pause
        if self.name == "blocking":
            return BlockingClient(SyncTikTokLiveClient(unique_id, **options))
        return TikTokLiveClient(unique_id, **options)

    def run(self, body: Callable[[], Awaitable[T]]) -> T:
        """Run ``body`` on the flavour's event loop, then check nothing was left running."""
        before = {t for t in threading.enumerate() if t.name.startswith("webcast ")}
        retrieved: list[str] = []

        async def main() -> T:
            if self.backend == "asyncio":
                loop = asyncio.get_running_loop()
                loop.set_exception_handler(
                    lambda _loop, context: retrieved.append(str(context.get("message")))
                )
            with anyio.fail_after(60):
                result = await body()
            if self.backend == "asyncio":
                current = asyncio.current_task()
                others = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
                self.leftovers += [f"asyncio task {t.get_name()}" for t in others]
            return result

        result = anyio.run(main, backend=self.backend)
        after = {t for t in threading.enumerate() if t.name.startswith("webcast ") and t.is_alive()}
        self.leftovers += [f"thread {t.name}" for t in after - before]
        assert not retrieved, f"the event loop reported: {retrieved}"
        assert not self.leftovers, f"left running after the test: {self.leftovers}"
        return result


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> Flavour:
    """asyncio, trio and blocking, in turn."""
    return Flavour(str(request.param))


@pytest.fixture
def serve() -> Iterator[Callable[..., MockWebcastServer]]:
    """Start mock servers: ``serve(Room(...), ..., options=Options(...))``; stopped after the test."""
    servers: list[MockWebcastServer] = []

    def start(*rooms: Room, options: Options | None = None) -> MockWebcastServer:
        server = MockWebcastServer(list(rooms), options=options or Options(fetch_interval_ms=50)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


async def wait_until(
    condition: Callable[[], bool], *, timeout: float = WAIT, what: str = "condition"
) -> None:
    """Poll ``condition`` until it holds (it may be made true by another thread)."""
    with anyio.move_on_after(timeout):
        while not condition():
            await anyio.sleep(0.005)
        return
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Collector:
    """Records what the handlers of a client received, in order, from any thread."""

    def __init__(self) -> None:
        self.items: list[tuple[str, object]] = []
        self._lock = threading.Lock()

    def listen(self, client: ClientLike, *names: str) -> Collector:
        for name in names:
            client.on(name, self._handler(name))
        return self

    def _handler(self, name: str) -> Callable[[object], None]:
        def record(item: object) -> None:
            with self._lock:
                self.items.append((name, item))

        record.__qualname__ = f"record_{name}"
        return record

    def of(self, name: str) -> list[Any]:
        with self._lock:
            return [item for n, item in self.items if n == name]

    def names(self) -> list[str]:
        with self._lock:
            return [n for n, _ in self.items]

    def has(self, name: str, count: int = 1) -> Callable[[], bool]:
        return lambda: len(self.of(name)) >= count


@pytest.fixture
def collector() -> Collector:
    return Collector()
