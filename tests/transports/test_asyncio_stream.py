"""The asyncio flavour's streaming socket (``_backend._AsyncioProtocolStream``) on real loopback TCP
connections: what it takes over from anyio's stream, buffering, the end of the stream, a reset,
reading paused at its bound, writes that wait to drain, and cancelled waits."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import TYPE_CHECKING

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketListener

from webcast_proto import TransportError
from webcast_transports import _backend
from webcast_transports._backend import AsyncInterrupt, Interrupted, _AsyncioProtocolStream
from webcast_transports._errors import map_errors

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from anyio.abc import SocketStream


async def _pair() -> tuple[SocketStream, SocketStream]:
    """A connected (client, server) pair of anyio streams on loopback."""
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with multi:
        (listener,) = multi.listeners  # one address, one listener
        assert isinstance(listener, SocketListener)
        client = await anyio.connect_tcp("127.0.0.1", listener.extra(SocketAttribute.local_port))
        server = await listener.accept()
    return client, server


async def _until(condition: Callable[[], bool], what: str) -> None:
    with anyio.fail_after(5, shield=False):
        while not condition():
            await anyio.sleep(0.005)
    assert condition(), what


def _run(test: Callable[[SocketStream, SocketStream], Awaitable[None]]) -> None:
    async def main() -> None:
        client, server = await _pair()
        try:
            await test(client, server)
        finally:
            await server.aclose()
            await client.aclose()  # anyio's, after a take-over too: a no-op on the aborted transport

    anyio.run(main, backend="asyncio")


def _take_over(client: SocketStream, leading: bytes = b"") -> _AsyncioProtocolStream:
    ours = _AsyncioProtocolStream.take_over(client, leading)
    assert ours is not None, "anyio's asyncio SocketStream was not taken over"
    return ours


def test_leading_and_queued_bytes_come_first_then_reads_split_at_max_bytes() -> None:
    """The bytes past the 101 first, then what anyio's protocol had buffered, then new bytes; a read
    returns at most ``max_bytes`` and keeps the rest."""

    async def test(client: SocketStream, server: SocketStream) -> None:
        await server.send(b"queued")
        protocol = client._protocol  # type: ignore[attr-defined]
        # anyio reads only inside receive(); a chunk comes after the one a receive took (the 101's):
        client._transport.resume_reading()  # type: ignore[attr-defined]
        await _until(lambda: bool(protocol.read_queue), "anyio's protocol buffers the bytes")
        ours = _take_over(client, b"lead")
        assert not protocol.read_queue  # taken, not copied: anyio's protocol is let go of
        assert client._transport.get_protocol() is ours  # type: ignore[attr-defined]
        assert await ours.read(6) == b"leadqu"
        assert await ours.read(100) == b"eued"
        await server.send(b"0123456789")
        assert await ours.read(4) == b"0123"
        assert await ours.read(100) == b"456789"
        await ours.write(b"to the server")
        assert await server.receive() == b"to the server"
        assert ours.get_extra_info("server_addr") == ("127.0.0.1", server.extra(SocketAttribute.local_port))
        assert ours.get_extra_info("socket") is client.extra(SocketAttribute.raw_socket)
        await ours.aclose()

    _run(test)


def test_the_end_of_the_stream_comes_after_the_buffered_bytes() -> None:
    """The server's FIN: what came before it is read first, then ``b""``, as often as asked."""

    async def test(client: SocketStream, server: SocketStream) -> None:
        ours = _take_over(client)
        await server.send(b"last words")
        await server.send_eof()
        await _until(lambda: ours._eof, "the end arrives")
        assert ours.get_extra_info("is_readable")
        assert await ours.read(100) == b"last words"
        assert await ours.read(100) == b""
        assert await ours.read(100) == b""
        await ours.aclose()
        with pytest.raises(anyio.ClosedResourceError):
            await ours.read(100)
        with pytest.raises(anyio.ClosedResourceError):
            await ours.write(b"x")

    _run(test)


def test_a_reset_is_raised_as_anyio_raised_it_and_mapped_as_before() -> None:
    """A lost connection's error: anyio's ``BrokenResourceError`` from the OS error, which
    ``map_errors`` makes a ``TransportError``; the bytes before it are still read first."""

    async def test(client: SocketStream, server: SocketStream) -> None:
        ours = _take_over(client)
        await server.send(b"before")
        await _until(lambda: bool(ours._buffer), "the bytes arrive")
        raw = server.extra(SocketAttribute.raw_socket)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close: a RST
        await server.aclose()
        await _until(lambda: ours._lost, "the reset arrives")
        assert await ours.read(100) == b"before"
        with pytest.raises(anyio.BrokenResourceError) as caught:
            await ours.read(100)
        assert isinstance(caught.value.__cause__, ConnectionResetError)
        with pytest.raises(TransportError, match="the connection broke"), map_errors("WebSocket x"):
            await ours.read(100)
        with pytest.raises(TransportError), map_errors("WebSocket x"):
            await ours.write(b"ack")
        await ours.aclose()  # after the loss: returns at once

    _run(test)


def test_reading_pauses_past_the_bound_and_resumes_once_read_below(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that falls behind: past the bound the transport stops reading (TCP slows the
    server), a read that takes the buffer back under it starts it again; nothing is lost."""
    monkeypatch.setattr(_backend, "_PROTOCOL_READ_LIMIT", 64 * 1024)
    payload = bytes(range(256)) * 4096  # 1 MiB

    async def test(client: SocketStream, server: SocketStream) -> None:
        ours = _take_over(client)
        transport = client._transport  # type: ignore[attr-defined]
        received = bytearray()
        async with anyio.create_task_group() as group:
            group.start_soon(server.send, payload)
            await _until(lambda: ours._read_paused, "reading pauses")
            assert not transport.is_reading()
            assert len(ours._buffer) > 64 * 1024
            assert len(ours._buffer) < len(payload)  # the rest waits in the kernel, or at the server
            received += await ours.read(len(ours._buffer))
            assert not ours._read_paused
            assert transport.is_reading()
            while len(received) < len(payload):
                received += await ours.read(64 * 1024)
        assert received == payload
        await ours.aclose()

    _run(test)


def test_cancelled_waits_leave_no_future_behind() -> None:
    """A read cancelled while it waits (a deadline, or ``disconnect()``) drops its future, and the
    next read works; a write that waits for the buffer to drain likewise."""

    async def test(client: SocketStream, server: SocketStream) -> None:
        ours = _take_over(client)
        with anyio.move_on_after(0.02) as scope:
            await ours.read(100)
        assert scope.cancelled_caught
        assert ours._read_waiter is None
        await server.send(b"later")
        assert await ours.read(100) == b"later"

        ours.pause_writing()  # as the transport says it when the kernel takes less than all
        with anyio.move_on_after(0.02) as scope:
            await ours.write(b"waits")
        assert scope.cancelled_caught
        assert ours._drain_waiter is None
        ours.resume_writing()
        await ours.write(b" and goes")
        assert await _receive_exactly(server, len(b"waits and goes")) == b"waits and goes"
        await ours.aclose()
        assert ours._lost  # the socket is closed when aclose() returns
        assert ours._lost_waiter is None

    _run(test)


def test_the_interrupts_read_waits_without_a_scope_and_ends_as_a_guard_would() -> None:
    """``AsyncInterrupt.read`` on the protocol stream (no cancel scope): bytes already there at once;
    the deadline gives ``None``; ``request()`` during the wait or before it raises ``Interrupted``,
    leaving the bytes that came meanwhile for the next read; a cancelled task's read drops its future
    and its timer; the end of the stream is ``b""``. No future stays registered with the interrupt."""

    async def test(client: SocketStream, server: SocketStream) -> None:
        ours = _take_over(client)
        interrupt = AsyncInterrupt()
        scheduled = asyncio.get_running_loop()._scheduled  # type: ignore[attr-defined]

        def timers_left() -> int:
            return sum(1 for h in scheduled if h._callback is _backend._wake_future and not h.cancelled())

        await server.send(b"ready")
        await _until(ours._readable, "the bytes arrive")
        assert await interrupt.read(ours, 100, 0.0) == b"ready"  # buffered: no wait, no timer
        assert await interrupt.read(ours, 100, 0.02) is None  # the deadline
        assert ours._read_waiter is None
        assert not interrupt._scopes
        assert timers_left() == 0

        async def late_bytes() -> None:
            await anyio.sleep(0.02)
            await server.send(b"late")

        async with anyio.create_task_group() as group:
            group.start_soon(late_bytes)
            assert await interrupt.read(ours, 100, 5.0) == b"late"  # woken by the bytes, not the timer
        with anyio.move_on_after(0.02) as scope:  # an outer cancellation goes through
            await interrupt.read(ours, 100, None)
        assert scope.cancelled_caught
        assert ours._read_waiter is None
        assert not interrupt._scopes
        assert timers_left() == 0

        async def stop_then_send() -> None:
            await _until(lambda: bool(interrupt._scopes), "the read waits")
            interrupt.request()
            await server.send(b"kept")

        async with anyio.create_task_group() as group:
            group.start_soon(stop_then_send)
            with pytest.raises(Interrupted):
                await interrupt.read(ours, 100, None)
        assert not interrupt._scopes
        with pytest.raises(Interrupted):  # asked for before: at once
            await interrupt.read(ours, 100, None)
        assert await ours.read(100) == b"kept"
        await server.aclose()
        assert await AsyncInterrupt().read(ours, 100, 5.0) == b""  # the end of the stream

    _run(test)


def test_the_interrupts_write_goes_at_once_or_waits_in_a_guard() -> None:
    """``AsyncInterrupt.write`` on the protocol stream: what the kernel takes at once needs no wait,
    even once a stop was asked for (an ack must go out); a write that must drain waits in a guard,
    which its timeout ends (``False``) and ``request()`` interrupts."""

    async def test(client: SocketStream, server: SocketStream) -> None:
        ours = _take_over(client)
        interrupt = AsyncInterrupt()
        assert ours.write_nowait(b"")  # nothing to write: nothing to wait for
        await ours.drain()  # nothing held: at once
        assert await interrupt.write(ours, b"ack", 1.0)
        ours.pause_writing()  # as the transport says it when the kernel takes less than all
        assert not await interrupt.write(ours, b" slow", 0.02)
        assert ours._drain_waiter is None

        async def stop() -> None:
            await _until(lambda: ours._drain_waiter is not None, "the write waits")
            interrupt.request()

        async with anyio.create_task_group() as group:
            group.start_soon(stop)
            with pytest.raises(Interrupted):
                await interrupt.write(ours, b" stopped", None)
        ours.resume_writing()
        assert await interrupt.write(ours, b" after", None)  # a stop does not keep a write back
        expected = b"ack slow stopped after"
        assert await _receive_exactly(server, len(expected)) == expected
        await ours.aclose()

    _run(test)


def test_a_write_waits_for_the_buffer_to_drain() -> None:
    """More than the kernel takes at once: the write returns once all of it has gone."""
    payload = b"x" * (16 * 1024 * 1024)

    async def test(client: SocketStream, server: SocketStream) -> None:
        # Small kernel buffers, so that the payload cannot all go at once on any machine.
        client.extra(SocketAttribute.raw_socket).setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        server.extra(SocketAttribute.raw_socket).setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        ours = _take_over(client)
        async with anyio.create_task_group() as group:
            group.start_soon(ours.write, payload)
            await _until(lambda: ours._drain_waiter is not None, "the write waits to drain")
            assert await _receive_exactly(server, len(payload)) == payload
        assert ours._drain_waiter is None
        assert not ours._write_paused
        await ours.aclose()

    _run(test)


def test_only_an_open_idle_asyncio_socket_stream_is_taken_over() -> None:
    """Anything else, or an anyio stream already at its end, stays anyio's (the caller's fallback)."""

    async def test(client: SocketStream, server: SocketStream) -> None:
        assert _AsyncioProtocolStream.take_over(object(), b"") is None
        await server.send_eof()
        client._transport.resume_reading()  # type: ignore[attr-defined]  # as during a receive()
        await _until(lambda: client._protocol.is_at_eof, "the end arrives")  # type: ignore[attr-defined]
        assert _AsyncioProtocolStream.take_over(client, b"") is None
        assert client._transport.get_protocol() is client._protocol  # type: ignore[attr-defined]

    _run(test)


def test_trio_streams_are_not_taken_over() -> None:
    async def main() -> None:
        client, server = await _pair()
        async with client, server:
            assert _AsyncioProtocolStream.take_over(client, b"") is None

    anyio.run(main, backend="trio")


async def _receive_exactly(stream: SocketStream, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        data += await stream.receive()
    return bytes(data)
