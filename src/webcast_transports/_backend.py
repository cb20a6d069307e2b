"""What differs between the async and the blocking flavour: waiting, signalling, background work.

The drivers and the client are written once, in ``_async/``, against the ``Async*`` names of this
module; ``scripts/unasync.py`` generates ``_sync/`` by renaming them to the ``Sync*`` twins
(STYLE.md §12). Each pair has the same methods, so the generated code reads like the source:

* :class:`AsyncBackend` / :class:`SyncBackend`: the httpcore network backend, the upgraded stream
  the WebSocket reads (``streaming_io``), calling user handlers, and ``wait_slice`` — the longest a
  blocking wait lasts before it looks whether ``disconnect()`` was asked for (the async flavour
  cancels instead, so it has none).
* :class:`AsyncInterrupt` / :class:`SyncInterrupt`: how ``disconnect()`` stops the driver. Async: a
  cancel scope around every wait the driver does, which can also carry the wait's deadline, so that a
  socket read or write in the streaming phase costs one scope; on asyncio's protocol stream a read
  waits on a future that ``disconnect()`` wakes, and a write the kernel takes at once waits for
  nothing, so neither needs a scope. Blocking: a flag, seen by sleeps at once and by socket reads
  within ``wait_slice``.
* :class:`AsyncSignal` / :class:`SyncSignal`: a one-shot flag to wait for (connected, finished).
* :class:`AsyncChannel` / :class:`SyncChannel`: a bounded queue of events for ``events()``.
* :class:`AsyncRunner` / :class:`SyncRunner`: where the driver runs: a task group (asyncio and trio
  through anyio), or a thread. Leaving the runner waits for everything it started.

Nothing here is global: every client owns its instances (STYLE.md §15).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import inspect
import math
import sys
import threading
import time
import weakref
from importlib import metadata
from typing import TYPE_CHECKING, Final, Generic, TypeVar

import anyio
import anyio.abc
import anyio.lowlevel
import httpcore

# httpcore's upgraded stream and its anyio stream, seen through in the streaming phase
# (AsyncBackend.streaming_io). They are private: should a release move them, the WebSocket goes through
# httpcore's public stream as before, a little slower (tests/transports/test_driver_units.py notices).
try:
    from httpcore._async.http11 import AsyncHTTP11UpgradeStream as _UpgradeStream
    from httpcore._backends.anyio import AnyIOStream as _AnyIOStream
except ImportError:  # pragma: no cover  # another httpcore layout
    _UpgradeStream = _AnyIOStream = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from types import TracebackType

    from anyio.abc import ByteStream, TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = [
    "AsyncBackend",
    "AsyncChannel",
    "AsyncGuard",
    "AsyncInterrupt",
    "AsyncRunner",
    "AsyncSignal",
    "Interrupted",
    "SyncBackend",
    "SyncChannel",
    "SyncGuard",
    "SyncInterrupt",
    "SyncRunner",
    "SyncSignal",
    "clock",
]

T = TypeVar("T")

# How often a blocking wait looks at the disconnect flag: the worst-case delay of disconnect() in the
# blocking client. A wake-up every 0.1 s costs nothing measurable and feels instant to a person.
SYNC_WAIT_SLICE: Final = 0.1


def clock() -> float:
    """The time the core is fed (monotonic seconds), in both flavours (STYLE.md §3)."""
    return time.monotonic()


class Interrupted(Exception):
    """``disconnect()`` was asked for while the driver waited; the driver unwinds and reports it."""


# --------------------------------------------------------------------------------------------
# Backend: network and handlers
# --------------------------------------------------------------------------------------------


class AsyncBackend:
    """The async flavour: anyio, so asyncio and trio alike."""

    wait_slice: Final[float | None] = None

    @staticmethod
    def network_backend() -> httpcore.AsyncNetworkBackend:
        """httpcore's anyio backend (works under asyncio and trio)."""
        return httpcore.AnyIOBackend()

    @staticmethod
    def streaming_io(stream: httpcore.AsyncNetworkStream) -> httpcore.AsyncNetworkStream:
        """The stream a WebSocket reads and writes after the upgrade: the anyio stream itself when
        httpcore's wrappers can be seen through, else ``stream``.

        httpcore wraps every read and write in a ``fail_after`` scope (even without a timeout) and
        its own exception mapping, ~10 µs a call; in the streaming phase the WebSocket bounds its
        waits through the interrupt instead (:meth:`AsyncInterrupt.read` and ``write``): one scope per
        wait. On asyncio, the socket's transport is then read by a protocol of our own instead of
        anyio's socket stream (:class:`_AsyncioProtocolStream`), directly for ``ws://`` and under
        anyio's TLS stream for ``wss://``, whose waits need no scope. The bytes of the 101 answer's
        read that follow its headers come first.
        """
        leading: object = b""
        inner: object = stream
        if _UpgradeStream is not None and type(inner) is _UpgradeStream:
            leading, inner = getattr(inner, "_leading_data", None), getattr(inner, "_stream", None)
        anyio_stream = getattr(inner, "_stream", None)
        if (
            _AnyIOStream is None
            or type(inner) is not _AnyIOStream  # a proxy's tunnel, or a change in httpcore: its path
            or not isinstance(leading, bytes)
            or not callable(getattr(anyio_stream, "receive", None))
            or not callable(getattr(anyio_stream, "send", None))
        ):
            return stream
        # asyncio: a protocol of our own on the socket's transport (_AsyncioProtocolStream), under
        # anyio's TLS for wss:// (TikTok's push server); trio, or anything unexpected on asyncio:
        # anyio's stream.
        ours = _AsyncioProtocolStream.take_over(anyio_stream, leading)
        if ours is not None:
            return ours
        _AsyncioProtocolStream.take_over_under_tls(anyio_stream)
        return _AnyIODirectStream(anyio_stream, leading, stream)  # type: ignore[arg-type]

    @staticmethod
    def current_worker() -> int:
        """An id of the running task, to tell whether a call comes from the driver itself."""
        return anyio.get_current_task().id

    @staticmethod
    def check_handler(handler: Callable[..., object]) -> None:
        """Accept any callable: plain functions and coroutine functions both work here.

        Raises:
            TypeError: ``handler`` is not callable.
        """
        if not callable(handler):
            raise TypeError(f"a handler must be callable, got {type(handler).__name__}")

    @staticmethod
    async def call(handler: Callable[..., object], argument: object) -> None:
        """Call a handler, awaiting its result when it is awaitable (an ``async def`` handler)."""
        result = handler(argument)
        if result is not None and inspect.isawaitable(result):  # None: most plain handlers
            await result

    @staticmethod
    def cleanup_scope(timeout: float) -> contextlib.AbstractContextManager[object]:
        """Where closing work runs: shielded from cancellation (a cancelled task still closes its
        sockets), and cut short after ``timeout`` seconds."""
        return anyio.move_on_after(timeout, shield=True)


class _AnyIODirectStream(httpcore.AsyncNetworkStream):
    """An upgraded anyio stream read and written without httpcore's per-call scopes.

    ``timeout`` is ignored: the caller bounds the call (:meth:`AsyncInterrupt.guard`). Failures are
    anyio's and the OS's, which :func:`~webcast_transports._errors.map_errors` maps as it maps
    httpcore's; the end of the stream is ``b""``, as httpcore gives it.
    """

    __slots__ = ("_leading", "_outer", "_stream")

    def __init__(self, stream: ByteStream, leading: bytes, outer: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._leading = leading
        self._outer = outer  # httpcore's stream: closing and extra info go through it

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._leading:
            data, self._leading = self._leading[:max_bytes], self._leading[max_bytes:]
            return data
        try:
            return await self._stream.receive(max_bytes)
        except anyio.EndOfStream:
            return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            await self._stream.send(buffer)

    async def aclose(self) -> None:
        await self._outer.aclose()

    def get_extra_info(self, info: str) -> object:
        return self._outer.get_extra_info(info)


# How many bytes the asyncio protocol stream holds before it stops reading the socket (TCP then slows
# the server down); a read that takes the buffer back under it reads again. Four of the WebSocket's
# 64 KiB reads: a busy room's burst fits, a stalled consumer cannot make it grow without bound.
_PROTOCOL_READ_LIMIT: Final = 256 * 1024
# How long closing waits for the event loop to report the aborted connection lost (its next pass).
_PROTOCOL_CLOSE_WAIT: Final = 1.0
# httpcore's names for extra information (its AnyIOStream), as asyncio's transports call them.
_TRANSPORT_INFO: Final = {"client_addr": "sockname", "server_addr": "peername"}


class _AsyncioProtocolStream(asyncio.Protocol, httpcore.AsyncNetworkStream):
    """The upgraded socket read and written as an asyncio protocol of our own: the asyncio flavour's
    streaming phase (issue 8: CPU per frame, memory per idle room).

    anyio's asyncio ``SocketStream`` resumes and pauses the transport's reading around every
    ``receive`` (two ``epoll_ctl`` system calls), waits on an ``asyncio.Event``, and passes the loop
    once more in every ``send``; its protocol holds a deque and two events (~2.3 KiB a socket). Here
    reading stays on (paused only past :data:`_PROTOCOL_READ_LIMIT` buffered bytes), a read returns
    what is buffered at once, and a future is made only when a read has to wait, or a write to drain
    (``pause_writing``: anyio set the write buffer's limit to 0, so any unsent byte pauses it).

    It is made by :meth:`take_over`, from anyio's stream, whose transport it keeps and whose buffered
    bytes it takes; anyio's stream and protocol are then let go of. One reader and one writer at a
    time (the WebSocket's way). ``timeout`` is ignored: the caller bounds the call
    (:meth:`AsyncInterrupt.read` and ``write``: :meth:`read_within`, and a guard around
    :meth:`drain`); cancelling a wait drops its future. Failures are anyio's, as its
    stream raised them (``BrokenResourceError`` from the OS error, ``ClosedResourceError`` once
    closed), so :func:`~webcast_transports._errors.map_errors` reports them as before; the end of the
    stream is ``b""``.
    """

    __slots__ = (
        "_buffer",
        "_closed",
        "_drain_waiter",
        "_eof",
        "_error",
        "_loop",
        "_lost",
        "_lost_waiter",
        "_read_paused",
        "_read_waiter",
        "_transport",
        "_write_paused",
    )

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, leading: bytes) -> None:
        self._transport = transport
        self._loop = loop
        # What was received and not read yet: one ``bytes`` as it came (no copy) unless more came
        # before the next read, then a bytearray they are appended to.
        self._buffer: bytes | bytearray = leading
        self._eof = False  # the server ended its side (the transport stays open, as anyio keeps it)
        self._lost = False  # connection_lost came: nothing more to read or write
        self._error: Exception | None = None  # why, if it was an error
        self._closed = False  # aclose() was called
        self._read_paused = False
        self._write_paused = False
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._lost_waiter: asyncio.Future[None] | None = None

    @classmethod
    def take_over(cls, anyio_stream: object, leading: bytes) -> _AsyncioProtocolStream | None:
        """Put a new protocol stream on the transport of ``anyio_stream``, with ``leading`` and
        anything anyio's protocol has buffered as its first bytes; ``None`` (nothing changed) unless
        ``anyio_stream`` is anyio's asyncio ``SocketStream``, open, idle, and as this code knows it.

        anyio's attributes are private: each is looked at before it is used, so that a release that
        changes them costs the fast path (the caller falls back on anyio's stream), never a failure.
        """
        # Loaded only when anyio runs on asyncio: under trio (or before any asyncio use) it is absent.
        module = sys.modules.get("anyio._backends._asyncio")
        if module is None or type(anyio_stream) is not getattr(module, "SocketStream", None):
            return None
        transport = getattr(anyio_stream, "_transport", None)
        protocol = getattr(anyio_stream, "_protocol", None)
        queue = getattr(protocol, "read_queue", None)
        write_event = getattr(protocol, "write_event", None)
        if (
            type(protocol) is not getattr(module, "StreamProtocol", None)
            or not all(
                callable(getattr(transport, name, None))
                for name in ("get_protocol", "set_protocol", "is_closing", "is_reading", "resume_reading")
            )
            or transport.get_protocol() is not protocol  # type: ignore[union-attr]
            or transport.is_closing()  # type: ignore[union-attr]
            or getattr(anyio_stream, "_closed", True)
            or getattr(protocol, "exception", True) is not None
            or getattr(protocol, "is_at_eof", True)  # a half-closed stream: anyio reads its end
            or not isinstance(write_event, asyncio.Event)
            or not write_event.is_set()  # a write waits for the buffer to drain: anyio's to finish
            or not isinstance(queue, collections.deque)
            or not all(type(chunk) is bytes for chunk in queue)
        ):
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover  # an asyncio stream outside its loop
            return None
        ours = cls(transport, loop, b"".join((leading, *queue)))  # type: ignore[arg-type]
        queue.clear()
        transport.set_protocol(ours)  # type: ignore[union-attr]
        if len(ours._buffer) > _PROTOCOL_READ_LIMIT:  # pragma: no cover  # a 101 with 256 KiB after it
            ours._read_paused = True
        elif not transport.is_reading():  # type: ignore[union-attr]  # anyio pauses between receives
            transport.resume_reading()  # type: ignore[union-attr]
        return ours

    @classmethod
    def take_over_under_tls(cls, anyio_stream: object) -> bool:
        """When ``anyio_stream`` is anyio's ``TLSStream`` over its asyncio ``SocketStream``, read and
        write the encrypted bytes through a protocol stream of ours instead (:meth:`take_over`), so
        that ``wss://`` gets the same socket layer as ``ws://``. Whether it did.

        The TLS stream keeps its own state and buffers (those of ``ssl.MemoryBIO``), so the bytes
        already decrypted stay where they are; only its ``transport_stream`` is replaced.
        """
        module = sys.modules.get("anyio.streams.tls")
        if module is None or type(anyio_stream) is not getattr(module, "TLSStream", None):
            return False
        ours = cls.take_over(getattr(anyio_stream, "transport_stream", None), b"")
        if ours is None:
            return False
        anyio_stream.transport_stream = _ProtocolByteStream(ours)  # type: ignore[attr-defined]
        return True

    # asyncio.Protocol: called by the event loop.

    def data_received(self, data: bytes) -> None:
        if type(data) is not bytes:  # a proactor loop may hand over a bytearray it reuses
            data = bytes(data)
        buffer = self._buffer
        if not buffer:
            self._buffer = buffer = data
        elif type(buffer) is bytearray:
            buffer += data
        else:
            self._buffer = buffer = bytearray(buffer) + data
        if len(buffer) > _PROTOCOL_READ_LIMIT and not self._read_paused:
            self._read_paused = True
            self._transport.pause_reading()
        self._wake("_read_waiter")

    def eof_received(self) -> bool:
        self._eof = True
        self._wake("_read_waiter")
        return True  # keep the transport: the WebSocket closes it (anyio's choice too)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._error = exc
        self._wake("_read_waiter")
        self._wake("_drain_waiter")
        self._wake("_lost_waiter")

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake("_drain_waiter")

    def _wake(self, name: str) -> None:
        """Wake the task waiting on the future in slot ``name``, if one waits (the task unsets it)."""
        waiter: asyncio.Future[None] | None = getattr(self, name)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # httpcore.AsyncNetworkStream: called by the WebSocket.

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while not self._buffer:
            if self._lost or self._eof or self._closed:
                break
            waiter = self._read_waiter = self._loop.create_future()
            try:
                await waiter
            finally:  # woken, or cancelled (the future with it): no future is left behind
                self._read_waiter = None
        return self._take(max_bytes)

    async def read_within(
        self, interrupt: AsyncInterrupt, max_bytes: int, timeout: float | None
    ) -> bytes | None:
        """:meth:`read`, bounded by ``timeout`` and stopped by ``interrupt``, as
        :meth:`AsyncInterrupt.read` does with a guard, without its cancel scope (anyio's scope costs
        ~5 µs to enter and as much to leave, the leaving between the bytes' arrival and the frame's
        handlers): the one wait's future is woken by the bytes, by a loop timer at ``timeout``, or
        by :meth:`AsyncInterrupt.request`. A cancellation of the task still cancels the future.

        Returns:
            What :meth:`read` returns; ``None`` when ``timeout`` passed first.

        Raises:
            Interrupted: a stop was asked for, before or during the wait.
        """
        interrupt.check()
        if not self._readable():
            loop = self._loop
            waiter = self._read_waiter = loop.create_future()
            timer = None if timeout is None else loop.call_later(max(timeout, 0.0), _wake_future, waiter)
            waiters = interrupt._scopes
            waiters.append(waiter)
            try:
                await waiter
            finally:  # woken, or cancelled (the future with it): no future or timer is left behind
                self._read_waiter = None
                waiters.remove(waiter)
                if timer is not None:
                    timer.cancel()
            interrupt.check()
            if not self._readable():
                return None  # the timer woke it
        return self._take(max_bytes)

    def _readable(self) -> bool:
        """Whether a read would not wait: bytes are buffered, or the stream has ended."""
        return bool(self._buffer) or self._lost or self._eof or self._closed

    def _take(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` of the bytes received; ``b""`` (or the failure) once they are all read
        and the stream has ended."""
        buffer = self._buffer
        if not buffer:
            self._raise_if_broken()
            return b""
        if len(buffer) <= max_bytes:
            self._buffer = b""
            data = buffer if type(buffer) is bytes else bytes(buffer)
        else:
            data = bytes(buffer[:max_bytes])
            self._buffer = buffer[max_bytes:]
        if self._read_paused and len(self._buffer) <= _PROTOCOL_READ_LIMIT:
            self._read_paused = False
            if not self._lost:
                self._transport.resume_reading()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not self.write_nowait(buffer):
            await self.drain()

    def write_nowait(self, buffer: bytes) -> bool:
        """Hand ``buffer`` to the transport (which sends what the kernel takes at once): whether that
        was all of it, so that nothing is to wait for (else :meth:`drain`)."""
        if not buffer:
            return True
        if self._lost or self._closed or self._transport.is_closing():
            self._raise_if_broken(always=True)
        self._transport.write(buffer)
        return not self._write_paused

    async def drain(self) -> None:
        """Wait until the kernel has taken what the transport holds (anyio set its limit to 0)."""
        if self._write_paused:
            waiter = self._drain_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._drain_waiter = None
            if self._write_paused:  # woken by connection_lost: the rest never went
                self._raise_if_broken(always=True)

    async def aclose(self) -> None:
        """Close the connection at once (unsent bytes are dropped, as anyio's ``aclose`` does) and
        wait, at most :data:`_PROTOCOL_CLOSE_WAIT` seconds, for the loop to close the socket."""
        if not self._closed:
            self._closed = True
            self._transport.abort()
        if self._lost:
            return
        waiter = self._lost_waiter = self._loop.create_future()
        try:
            with anyio.move_on_after(_PROTOCOL_CLOSE_WAIT):
                await waiter
        finally:
            self._lost_waiter = None

    def get_extra_info(self, info: str) -> object:
        if info == "is_readable":  # httpcore's meaning: data, or the end, is there to read
            return bool(self._buffer) or self._eof or self._lost
        return self._transport.get_extra_info(_TRANSPORT_INFO.get(info, info))

    def _raise_if_broken(self, *, always: bool = False) -> None:
        """Raise what anyio's stream raised in this state; with ``always``, raise even for a stream
        that merely ended (a write then cannot go out).

        Raises:
            anyio.ClosedResourceError: :meth:`aclose` was called.
            anyio.BrokenResourceError: the connection was lost (from its error, if any).
        """
        if self._closed:
            raise anyio.ClosedResourceError
        if self._error is not None:
            raise anyio.BrokenResourceError from self._error
        if always:
            raise anyio.BrokenResourceError


def _wake_future(waiter: asyncio.Future[None]) -> None:
    """A loop timer's callback: wake the task waiting on ``waiter``, unless something else did."""
    if not waiter.done():
        waiter.set_result(None)


class _ProtocolByteStream(anyio.abc.ByteStream):
    """A protocol stream (:class:`_AsyncioProtocolStream`) as the anyio byte stream that anyio's
    ``TLSStream`` reads and writes its encrypted bytes through."""

    def __init__(self, stream: _AsyncioProtocolStream) -> None:
        self._stream = stream

    async def receive(self, max_bytes: int = 65536) -> bytes:
        data = await self._stream.read(max_bytes)
        if not data:
            raise anyio.EndOfStream
        return data

    async def send(self, item: bytes) -> None:
        await self._stream.write(item)

    async def send_eof(self) -> None:
        raise NotImplementedError("the push socket is never half-closed by the client")

    async def aclose(self) -> None:
        await self._stream.aclose()


class SyncBackend:
    """The blocking flavour: sockets with timeouts, threads, no event loop."""

    wait_slice: Final[float | None] = SYNC_WAIT_SLICE

    @staticmethod
    def network_backend() -> httpcore.NetworkBackend:
        """httpcore's socket backend."""
        return httpcore.SyncBackend()

    @staticmethod
    def streaming_io(stream: httpcore.NetworkStream) -> httpcore.NetworkStream:
        """The stream a WebSocket reads and writes after the upgrade: ``stream`` itself (a blocking
        read or write is a socket timeout and a system call; there is nothing to save)."""
        return stream

    @staticmethod
    def current_worker() -> int:
        """An id of the running thread, to tell whether a call comes from the driver itself."""
        return threading.get_ident()

    @staticmethod
    def check_handler(handler: Callable[..., object]) -> None:
        """Refuse what the blocking client cannot run: an ``async def`` handler needs an event loop.

        Raises:
            TypeError: ``handler`` is not callable, or is a coroutine function.
        """
        if not callable(handler):
            raise TypeError(f"a handler must be callable, got {type(handler).__name__}")
        if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004  # an object whose __call__ is async
        ):
            raise TypeError("the blocking client runs no event loop: use a plain function as handler")

    @staticmethod
    def call(handler: Callable[..., object], argument: object) -> None:
        """Call a handler.

        Raises:
            TypeError: the handler returned an awaitable (it is async in disguise); it is closed unrun.
        """
        result = handler(argument)
        if result is not None and inspect.isawaitable(result):  # None: most plain handlers
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise TypeError("a handler returned an awaitable; the blocking client cannot await it")

    @staticmethod
    def cleanup_scope(timeout: float) -> contextlib.AbstractContextManager[object]:
        """Where closing work runs: nothing cancels a thread, and closing bounds its own waits."""
        return contextlib.nullcontext()


# --------------------------------------------------------------------------------------------
# Interrupt: how disconnect() reaches a waiting driver
# --------------------------------------------------------------------------------------------


class AsyncInterrupt:
    """Stops the driver's waits once :meth:`request` is called (from another task on the same loop)."""

    __slots__ = ("_requested", "_scopes")

    def __init__(self) -> None:
        self._requested = False
        # The guarded waits in progress (one, or two nested): a list, lighter than a set for so few.
        # A future is a read of the asyncio protocol stream (``_AsyncioProtocolStream.read_within``),
        # woken rather than cancelled.
        self._scopes: list[anyio.CancelScope | asyncio.Future[None]] = []

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._requested

    def request(self) -> None:
        """Ask for a stop: cancel the wait in progress, and make every later one raise at once."""
        self._requested = True
        for scope in self._scopes:
            if isinstance(scope, asyncio.Future):
                _wake_future(scope)
            else:
                scope.cancel()

    def check(self) -> None:
        """Raise :class:`Interrupted` if a stop was asked for."""
        if self._requested:
            raise Interrupted

    def guard(self, timeout: float | None = None, *, check: bool = True) -> AsyncGuard:
        """Run the block so that :meth:`request` cancels it; it then raises :class:`Interrupted`.

        Args:
            timeout: also end the block after this many seconds; the guard's ``timed_out`` then says
                so (nothing is raised). One cancel scope does both, the cheapest way to bound a wait.
            check: raise :class:`Interrupted` at once if a stop was already asked for. ``False``
                lets a write that must happen (an ack) go out; the next wait raises.
        """
        if check and self._requested:
            raise Interrupted
        return AsyncGuard(self, timeout)

    async def read(
        self, stream: httpcore.AsyncNetworkStream, max_bytes: int, timeout: float | None
    ) -> bytes | None:
        """``stream.read(max_bytes)`` in a :meth:`guard` of ``timeout``: the bytes, or ``None`` when
        ``timeout`` passed first. The asyncio protocol stream does the same without the guard's
        cancel scope (``_AsyncioProtocolStream.read_within``).

        Raises:
            Interrupted: a stop was asked for, before or during the read.
        """
        if type(stream) is _AsyncioProtocolStream:
            return await stream.read_within(self, max_bytes, timeout)
        with self.guard(timeout) as guard:
            data = await stream.read(max_bytes, timeout)
        return None if guard.timed_out else data

    async def write(self, stream: httpcore.AsyncNetworkStream, data: bytes, timeout: float | None) -> bool:
        """``stream.write(data)`` in a :meth:`guard` of ``timeout`` that does not check for a stop
        first (an ack must go out): whether it finished in time. On the asyncio protocol stream a
        write the kernel takes at once (the usual one) needs no wait, and so no guard.

        Raises:
            Interrupted: a stop was asked for during the write.
        """
        if type(stream) is _AsyncioProtocolStream:
            if stream.write_nowait(data):
                return True
            with self.guard(timeout, check=False) as guard:
                await stream.drain()
            return not guard.timed_out
        with self.guard(timeout, check=False) as guard:
            await stream.write(data, timeout)
        return not guard.timed_out

    async def sleep(self, seconds: float) -> None:
        """Sleep, unless a stop is asked for first.

        Raises:
            Interrupted: a stop was asked for, before or during the sleep.
        """
        with self.guard():
            await anyio.sleep(max(seconds, 0.0))


class AsyncGuard:
    """One cancel scope that :meth:`AsyncInterrupt.request` cancels, with an optional deadline.

    A plain class rather than a generator-based context manager: it is entered for every socket read
    and write of the streaming phase, and ``contextlib``'s machinery costs more than the scope (and a
    generator's frame and wrapper would be ~0.3 KiB of every idle room, waiting inside one).

    Attributes:
        timed_out: the deadline passed and cancelled the block (set on leaving it).
    """

    __slots__ = ("_interrupt", "_scope", "timed_out")

    def __init__(self, interrupt: AsyncInterrupt, timeout: float | None) -> None:
        self._interrupt = interrupt
        deadline = math.inf if timeout is None else anyio.current_time() + max(timeout, 0.0)
        self._scope = anyio.CancelScope(deadline=deadline)
        self.timed_out = False

    def __enter__(self) -> AsyncGuard:
        self._scope.__enter__()
        self._interrupt._scopes.append(self._scope)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:  # not ``bool``: mypy would take every guarded block as one that may fall through
        scope = self._scope
        self._interrupt._scopes.remove(scope)
        swallowed = bool(scope.__exit__(exc_type, exc, tb))
        if scope.cancelled_caught:
            if self._interrupt._requested:
                raise Interrupted
            self.timed_out = True
        return swallowed


class SyncInterrupt:
    """Stops the driver's waits once :meth:`request` is called (from any thread)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._event.is_set()

    def request(self) -> None:
        """Ask for a stop: sleeps end at once, socket reads within ``SyncBackend.wait_slice``."""
        self._event.set()

    def check(self) -> None:
        """Raise :class:`Interrupted` if a stop was asked for."""
        if self._event.is_set():
            raise Interrupted

    def guard(self, timeout: float | None = None, *, check: bool = True) -> SyncGuard:
        """Check for a stop before (unless ``check`` is false) and after the block (a blocking call
        cannot be cancelled). ``timeout`` is the socket's to apply: the guard never times out."""
        if check:
            self.check()
        return SyncGuard(self)

    def read(self, stream: httpcore.NetworkStream, max_bytes: int, timeout: float | None) -> bytes | None:
        """``stream.read(max_bytes, timeout)`` in a :meth:`guard` (the socket applies ``timeout`` and
        raises on it; ``None`` is the async twin's).

        Raises:
            Interrupted: a stop was asked for, before or during the read.
        """
        with self.guard(timeout):
            return stream.read(max_bytes, timeout)

    def write(self, stream: httpcore.NetworkStream, data: bytes, timeout: float | None) -> bool:
        """``stream.write(data, timeout)`` in a :meth:`guard` that does not check for a stop first:
        true (the socket raises on its ``timeout``; the async twin says whether it finished in time).

        Raises:
            Interrupted: a stop was asked for during the write.
        """
        with self.guard(timeout, check=False):
            stream.write(data, timeout)
        return True

    def sleep(self, seconds: float) -> None:
        """Sleep, unless a stop is asked for first.

        Raises:
            Interrupted: a stop was asked for, before or during the sleep.
        """
        if self._event.wait(max(seconds, 0.0)):
            raise Interrupted


class SyncGuard:
    """Raises :class:`Interrupted` on leaving the block if a stop was asked for meanwhile.

    Attributes:
        timed_out: always false (a blocking call times out by itself); the async twin's counterpart.
    """

    __slots__ = ("_interrupt", "timed_out")

    def __init__(self, interrupt: SyncInterrupt) -> None:
        self._interrupt = interrupt
        self.timed_out = False

    def __enter__(self) -> SyncGuard:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self._interrupt.check()


# --------------------------------------------------------------------------------------------
# Signal: a one-shot flag
# --------------------------------------------------------------------------------------------


class AsyncSignal:
    """A flag that is set once and can be waited for.

    The event to wait on is made by the first wait that has to (and let go of once set): a client
    holds two signals for as long as it is connected, each event costs ~1 KiB (an asyncio event's
    waiter deque), and most are never waited for, or only until connect() returns.
    """

    __slots__ = ("_event", "_set")

    def __init__(self) -> None:
        self._set = False
        self._event: anyio.Event | None = None

    def set(self) -> None:
        """Set the flag and wake the waiters."""
        self._set = True
        event, self._event = self._event, None  # the waiters hold it while they need it
        if event is not None:
            event.set()

    def is_set(self) -> bool:
        """Whether the flag is set."""
        return self._set

    async def wait(self) -> None:
        """Wait until the flag is set (a checkpoint even when it already is, as an event's wait)."""
        if self._set:
            await anyio.lowlevel.checkpoint()
            return
        if self._event is None:
            self._event = anyio.Event()
        await self._event.wait()


class SyncSignal:
    """A flag that is set once and can be waited for, from any thread."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Set the flag and wake the waiters."""
        self._event.set()

    def is_set(self) -> bool:
        """Whether the flag is set."""
        return self._event.is_set()

    def wait(self) -> None:
        """Wait until the flag is set."""
        self._event.wait()


# --------------------------------------------------------------------------------------------
# Channel: a bounded queue from the driver to one events() iterator
# --------------------------------------------------------------------------------------------


class AsyncChannel(Generic[T]):
    """A bounded queue with one producer and one consumer; a full queue makes the producer wait.

    Args:
        capacity: how many items may wait.
    """

    __slots__ = ("_receive", "_send")

    def __init__(self, capacity: int) -> None:
        send, receive = anyio.create_memory_object_stream[T](capacity)
        self._send: MemoryObjectSendStream[T] = send
        self._receive: MemoryObjectReceiveStream[T] = receive

    async def put(self, item: T, *, wait: bool = True) -> bool:
        """Queue ``item``, waiting while the queue is full (unless ``wait`` is false).

        Returns:
            ``False`` when the item was dropped: the consumer has gone, or the queue is full and
            ``wait`` is false. Else ``True``.
        """
        try:
            if wait:
                await self._send.send(item)
            else:
                self._send.send_nowait(item)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.WouldBlock):
            return False
        return True

    async def get(self) -> T | None:
        """The next item, waiting for one; ``None`` once the producer has closed and all are taken."""
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return None

    def close_producer(self) -> None:
        """No more items will come: the consumer gets ``None`` after the queued ones."""
        self._send.close()

    def close_consumer(self) -> None:
        """The consumer has gone: queued items are dropped and :meth:`put` returns ``False``."""
        self._receive.close()


class SyncChannel(Generic[T]):
    """A bounded queue with one producer and one consumer thread; a full queue makes the producer wait.

    Args:
        capacity: how many items may wait.
    """

    __slots__ = ("_capacity", "_changed", "_consumer_gone", "_items", "_producer_done")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: collections.deque[T] = collections.deque()
        self._changed = threading.Condition()
        self._consumer_gone = False
        self._producer_done = False

    def put(self, item: T, *, wait: bool = True) -> bool:
        """Queue ``item``, waiting while the queue is full (unless ``wait`` is false).

        Returns:
            ``False`` when the item was dropped: the consumer has gone, or the queue is full and
            ``wait`` is false. Else ``True``.
        """
        with self._changed:
            while wait and len(self._items) >= self._capacity and not self._consumer_gone:
                self._changed.wait()
            if self._consumer_gone or len(self._items) >= self._capacity:
                return False
            self._items.append(item)
            self._changed.notify_all()
            return True

    def get(self) -> T | None:
        """The next item, waiting for one; ``None`` once the producer has closed and all are taken."""
        with self._changed:
            while not self._items and not self._producer_done and not self._consumer_gone:
                self._changed.wait()
            if self._consumer_gone or not self._items:
                return None
            item = self._items.popleft()
            self._changed.notify_all()
            return item

    def close_producer(self) -> None:
        """No more items will come: the consumer gets ``None`` after the queued ones. Never waits."""
        with self._changed:
            self._producer_done = True
            self._changed.notify_all()

    def close_consumer(self) -> None:
        """The consumer has gone: queued items are dropped and :meth:`put` returns ``False``."""
        with self._changed:
            self._consumer_gone = True
            self._items.clear()
            self._changed.notify_all()


# --------------------------------------------------------------------------------------------
# Runner: where the driver runs
# --------------------------------------------------------------------------------------------


class AsyncRunner:
    """A task group for the client's background work (the driver); leaving it waits for the tasks.

    On asyncio, a task is put in the group the way anyio did it before its ``TaskHandle`` (4.14),
    without the handle's cancel scope, event and wrapper coroutine (~1.8 KiB of every connected
    client, held for as long as the driver runs): :meth:`_spawn_on_asyncio`. Everything else (the
    group's scope, waiting for the task on leaving, a failing task's exception group) is anyio's.
    """

    __slots__ = ("_group",)

    def __init__(self) -> None:
        self._group: TaskGroup | None = None

    async def __aenter__(self) -> AsyncRunner:
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        group, self._group = self._group, None
        if group is None:
            return None
        return await group.__aexit__(exc_type, exc, tb)

    def start(self, func: Callable[[], Coroutine[object, object, None]], name: str) -> None:
        """Run ``func`` in the background until it returns.

        Raises:
            RuntimeError: the runner is not entered.
        """
        if self._group is None:
            raise RuntimeError("the runner is not running")
        if not _spawn_on_asyncio(self._group, func, name):
            self._group.start_soon(func, name=name)


def _anyio_version() -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in metadata.version("anyio").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):  # pragma: no cover  # an unusual install
        return ()


# The versions whose task groups wrap every task in a TaskHandle, which _spawn_on_asyncio spares; on
# older ones anyio's start_soon already makes a plain task.
_ANYIO_HAS_TASK_HANDLES: Final = _anyio_version() >= (4, 14)


def _spawn_on_asyncio(
    group: TaskGroup, func: Callable[[], Coroutine[object, object, None]], name: str
) -> bool:
    """Start ``func()`` in anyio's asyncio task group ``group`` as a plain task of the group's cancel
    scope, as anyio's ``TaskGroup._spawn`` did before 4.14; whether it did (else nothing is done).

    anyio 4.14 wraps every task in a ``TaskHandle`` (a cancel scope of its own, an event, a wrapper
    coroutine), for handles the client never uses. The attributes used here are anyio's private
    ones: each is looked at first, and anything unexpected (trio, a custom or eager task factory,
    another anyio layout, a group not entered) leaves the task to ``start_soon``.
    """
    if not _ANYIO_HAS_TASK_HANDLES:  # an older anyio spawns plain tasks itself
        return False
    module = sys.modules.get("anyio._backends._asyncio")
    if module is None or type(group) is not getattr(module, "TaskGroup", None):
        return False
    task_states = getattr(module, "_task_states", None)
    task_state = getattr(module, "TaskState", None)
    scope = getattr(group, "cancel_scope", None)
    tasks = getattr(group, "_tasks", None)
    scope_tasks = getattr(scope, "_tasks", None)
    host = getattr(scope, "_host_task", None)
    if (
        not isinstance(task_states, weakref.WeakKeyDictionary)
        or not isinstance(task_state, type)
        or getattr(task_state, "__slots__", None) != ("__weakref__", "cancel_scope", "parent_id")
        or type(tasks) is not set
        or type(scope_tasks) is not set
        or type(getattr(group, "_exceptions", None)) is not list
        or not hasattr(group, "_on_completed_fut")
        or not isinstance(getattr(type(scope), "_effectively_cancelled", None), property)
        or getattr(scope, "_active", False) is not True
        or not isinstance(host, asyncio.Task)
        or sys.version_info >= (3, 14)  # tasks there also note who awaits them: anyio's way
    ):
        return False
    loop = asyncio.get_running_loop()
    if loop.get_task_factory() is not None:  # an eager factory would run the task before it is set up
        return False
    task = loop.create_task(func(), name=name)
    task_states[task] = task_state(parent_id=id(host), cancel_scope=scope)
    scope_tasks.add(task)
    tasks.add(task)
    task.add_done_callback(functools.partial(_asyncio_task_done, group))
    return True


def _asyncio_task_done(group: TaskGroup, task: asyncio.Task[None]) -> None:
    """What anyio's ``TaskGroup`` does when one of its tasks ends (its ``_spawn``'s ``task_done``,
    for a task started without ``task_status``): forget the task, wake the group's exit when it was
    the last, and keep the task's failure and cancel the group for it."""
    module = sys.modules["anyio._backends._asyncio"]
    state = module._task_states.pop(task)
    state.cancel_scope._tasks.discard(task)
    tasks: set[asyncio.Task[None]] = group._tasks  # type: ignore[attr-defined]
    tasks.discard(task)
    completed: asyncio.Future[None] | None = group._on_completed_fut  # type: ignore[attr-defined]
    if completed is not None and not tasks and not completed.done():
        completed.set_result(None)
    if task.cancelled():  # a cancelled task cancels the group too (anyio's way), raising nothing
        failed = True
    else:
        exc = task.exception()
        failed = exc is not None
        if exc is not None:
            group._exceptions.append(exc)  # type: ignore[attr-defined]
    if failed and not group.cancel_scope._effectively_cancelled:  # type: ignore[attr-defined]
        group.cancel_scope.cancel()


class SyncRunner:
    """Threads for the client's background work (the driver); leaving the runner joins them.

    An exception escaping a thread (a bug: the driver reports every failure itself) is raised again
    when the runner is left, so it is never lost.
    """

    __slots__ = ("_errors", "_threads")

    def __init__(self) -> None:
        self._threads: list[threading.Thread] | None = None
        self._errors: list[BaseException] = []

    def __enter__(self) -> SyncRunner:
        self._threads = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        threads, self._threads = self._threads, None
        for thread in threads or ():
            thread.join()
        if self._errors and exc is None:
            error, self._errors = self._errors[0], []
            raise error
        return None

    def start(self, func: Callable[[], None], name: str) -> None:
        """Run ``func`` in a new thread until it returns.

        Raises:
            RuntimeError: the runner is not entered.
        """
        if self._threads is None:
            raise RuntimeError("the runner is not running")
        thread = threading.Thread(target=self._run, args=(func,), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, func: Callable[[], None]) -> None:
        try:
            func()
        except BaseException as exc:  # re-raised by __exit__ in the client's thread
            self._errors.append(exc)
