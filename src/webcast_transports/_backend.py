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
  socket read or write in the streaming phase costs one scope. Blocking: a flag, seen by sleeps at
  once and by socket reads within ``wait_slice``.
* :class:`AsyncSignal` / :class:`SyncSignal`: a one-shot flag to wait for (connected, finished).
* :class:`AsyncChannel` / :class:`SyncChannel`: a bounded queue of events for ``events()``.
* :class:`AsyncRunner` / :class:`SyncRunner`: where the driver runs: a task group (asyncio and trio
  through anyio), or a thread. Leaving the runner waits for everything it started.

Nothing here is global: every client owns its instances (STYLE.md §15).
"""

from __future__ import annotations

import collections
import contextlib
import inspect
import math
import threading
import time
from typing import TYPE_CHECKING, Final, Generic, TypeVar

import anyio
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
        waits with the interrupt's scope instead (:meth:`AsyncInterrupt.guard`), one per wait. The
        bytes of the 101 answer's read that follow its headers come first.
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
        self._scopes: list[anyio.CancelScope] = []

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._requested

    def request(self) -> None:
        """Ask for a stop: cancel the wait in progress, and make every later one raise at once."""
        self._requested = True
        for scope in self._scopes:
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
    """A task group for the client's background work (the driver); leaving it waits for the tasks."""

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
        self._group.start_soon(func, name=name)


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
