"""The driver: one :class:`~webcast_proto.connection.ClientConnection` run over real I/O, resumed
after every loss until the stream ends, the client stops it, or the reconnect policy gives up.

A session reads in one sitting (STYLE.md §12): ``start()`` gives the first fetch, which is signed
(or performed by the sign server, for :class:`~webcast_proto.signing.EulerSigner`) and fed back;
the answer says upgrade or poll. Upgrading: open the socket, write ``data_to_send()``, then wait for
a message or ``next_deadline()``, feed whichever came first (``receive_ws_message`` or ``tick``),
write again. Polling: sleep until ``next_deadline()``, ``tick``, perform ``request_to_send()``.
Every transport failure is reported to the core (``fetch_failed``, ``websocket_closed``), whose
``Disconnected`` event ends the session.

Between sessions the driver decides: stream end or ``disconnect()`` — stop; a failure that cannot
get better (a :class:`~webcast_proto.WebcastError` whose ``retryable`` is false, bar a refused
handshake, whose signed URL a fresh first fetch renews) — stop; else wait the policy's backoff and
resume from the connection's cursor, which keeps dedup and position, so nothing is lost or repeated.
The core's ``Disconnected`` of a loss that is resumed becomes :class:`Reconnecting`; the client sees
exactly one ``Disconnected``, the final one, and only once ``Connected`` was seen (before that the
failure is ``connect()``'s to raise).

The wire tap (``DriverSettings.wire_tap``, the client's ``wire_tap`` option) sees what crosses the
wire as :class:`~webcast_proto.recording.WireRecord` values, at the points where the driver feeds
the core or writes its bytes: an im/fetch sent and its body (or its failure), the socket opened,
each push frame both ways, the socket closed. ``webcast record`` writes them to a file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webcast_proto import Connected, Disconnected, RemoteProtocolError, WebcastBlocked, WebcastError, http
from webcast_proto.connection import PollAfter, State, UpgradeToWebSocket
from webcast_proto.recording import Direction, WireKind, WireRecord
from webcast_proto.signing import EulerSigner, apply_signature
from webcast_transports._async._websocket import CLOSE_NORMAL, WebSocketClosed
from webcast_transports._backend import AsyncBackend, Interrupted, clock
from webcast_transports._errors import HandlerError
from webcast_transports._events import Reconnecting

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from webcast_proto import Event, Limits
    from webcast_proto.config import ClientParams
    from webcast_proto.connection import ClientConnection
    from webcast_proto.signing import Signer
    from webcast_transports._async._http import AsyncHTTP
    from webcast_transports._async._websocket import AsyncWebSocket
    from webcast_transports._backend import AsyncInterrupt
    from webcast_transports._options import CookieJar, RandomSource, ReconnectPolicy, WireTap

__all__ = ["AsyncDriver", "DriverResult", "DriverSettings", "is_retryable"]

_log = logging.getLogger("webcast.driver")

# How long closing the socket may take: the close frame and the server's answer.
_CLOSE_TIMEOUT = 1.0


def is_retryable(error: BaseException | None) -> bool:
    """Whether resuming after ``error`` can help (``None``: a clean loss, such as a normal close).

    An error's own ``retryable`` decides, with one exception: a refused handshake
    (:class:`~webcast_proto.WebcastBlocked`) is retried, since it can be about the signed socket
    URL's age (SPEC.md §1.9), which the next first fetch renews; the policy's attempt limit stops a
    refusal that persists.
    """
    if error is None:
        return True
    if isinstance(error, WebcastBlocked):
        return True
    return isinstance(error, WebcastError) and error.retryable


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverSettings:
    """What the driver needs besides the connection.

    Attributes:
        client_params: for the WebSocket headers and the sign server's UA.
        signer: signs the first fetch (or performs it, :class:`EulerSigner`).
        reconnect: the backoff policy; ``None`` never reconnects.
        limits: body and message sizes.
        timeout: seconds for each HTTP request and WebSocket write.
        websocket_timeout: seconds for the WebSocket handshake.
        websocket_headers: extra handshake headers.
        cookies: the configured cookies (session …) for the handshake.
        authenticate_websocket: send the session cookies to the push server too (SPEC.md §2.5).
        wire_tap: called with a :class:`~webcast_proto.recording.WireRecord` for everything that
            crosses the wire (module docstring); ``None`` taps nothing.
    """

    client_params: ClientParams
    signer: Signer
    reconnect: ReconnectPolicy | None
    limits: Limits
    timeout: float
    websocket_timeout: float
    websocket_headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    authenticate_websocket: bool = False
    wire_tap: WireTap | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverResult:
    """How a driver run ended.

    Attributes:
        connected: whether ``Connected`` was delivered (then the final ``Disconnected`` was too).
        established: whether a session was established (``on_established`` was called).
        error: the failure that ended the run, if one did.
    """

    connected: bool
    established: bool
    error: WebcastError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _OpenSocket:
    """A session's push socket, open, and the ``ping-interval`` its handshake named."""

    socket: AsyncWebSocket
    ping_interval: float


@dataclass(frozen=True, slots=True, kw_only=True)
class _SessionEnd:
    """How one session ended: the core's ``Disconnected`` (or a made-up one) and the failure, if any."""

    disconnected: Disconnected
    error: WebcastError | None = None


class AsyncDriver:
    """Runs one connection until it ends; see the module docstring.

    Args:
        connection: the core's connection, fresh (state IDLE).
        http: performs requests and opens the socket.
        settings: the rest of the configuration.
        cookies: the client's jar (TikTok's cookies and the sign server's).
        interrupt: how ``disconnect()`` stops the driver.
        rng: the jitter and enter-room ids come from here.
        emit: called with each event for the user, in order.
        report: called with each failure worth telling the user (``error`` handlers).
        on_established: called once when the first session is established (socket open or first
            poll scheduled, or the stream already ended).
    """

    def __init__(
        self,
        *,
        connection: ClientConnection,
        http: AsyncHTTP,
        settings: DriverSettings,
        cookies: CookieJar,
        interrupt: AsyncInterrupt,
        rng: RandomSource,
        emit: Callable[[Event], Awaitable[None]],
        report: Callable[[WebcastError], Awaitable[None]],
        on_established: Callable[[], None],
    ) -> None:
        self._conn = connection
        self._http = http
        self._settings = settings
        self._cookies = cookies
        self._interrupt = interrupt
        self._rng = rng
        self._emit = emit
        self._report = report
        self._on_established = on_established
        self._connected = False
        self._established = False
        self._session_established = False
        self._last_disconnected: Disconnected | None = None
        self._close_code: int | None = None  # the close frame's code, for the wire tap

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> DriverResult:
        """Run sessions until the stream ends, the client stops, or the policy gives up.

        Returns:
            Whether ``Connected`` was delivered, and the failure that ended the run.
        """
        attempt = 0
        while True:
            # One session: the first fetch and the socket's opening in a frame of their own
            # (_open_session), so that this one, which lasts as long as the socket, holds neither the
            # fetch's request, body and events nor the socket's URL (~3 KiB a room); then the socket
            # or the polling. Written out here rather than in a method: a coroutine's frame is
            # ~0.25 KiB of every idle room.
            self._session_established = False
            self._last_disconnected = None
            try:
                step = await self._open_session()
                if isinstance(step, _SessionEnd):
                    end = step
                elif isinstance(step, _OpenSocket):
                    end = await self._stream(step)
                else:
                    self._mark_established()
                    end = await self._poll()
                del step
            except Interrupted:
                return await self._finish(Disconnected(reason="client", retryable=False), None)
            if self._conn.state is State.ENDED:
                return await self._finish(end.disconnected, end.error)
            attempt = 1 if self._session_established else attempt + 1
            policy = self._settings.reconnect
            error = end.error
            if policy is None or not is_retryable(error) or policy.gives_up_after(attempt - 1):
                retryable = is_retryable(error) and policy is not None
                final = Disconnected(
                    reason=end.disconnected.reason, code=end.disconnected.code, retryable=retryable
                )
                return await self._finish(final, error)
            retry_after = error.retry_after if error is not None else None
            delay = policy.delay(attempt, self._rng, retry_after)
            _log.warning(
                "room %d: connection lost (%s%s); reconnecting in %.2f s (attempt %d)",
                self._conn.room_id,
                end.disconnected.reason,
                f": {error.message}" if error is not None else "",
                delay,
                attempt,
            )
            if self._connected:
                if error is not None:
                    await self._report(error)
                await self._emit(
                    Reconnecting(
                        reason=end.disconnected.reason,
                        code=end.disconnected.code,
                        attempt=attempt,
                        delay=delay,
                        error=error.message if error is not None else "",
                    )
                )
            try:
                await self._interrupt.sleep(delay)
            except Interrupted:
                return await self._finish(Disconnected(reason="client", retryable=False), None)

    async def _finish(self, final: Disconnected, error: WebcastError | None) -> DriverResult:
        if self._connected:
            if error is not None:
                await self._report(error)
            _log.info("room %d: disconnected (%s)", self._conn.room_id, final.reason)
            await self._emit(final)
        return DriverResult(connected=self._connected, established=self._established, error=error)

    def _mark_established(self) -> None:
        self._session_established = True
        if not self._established:
            self._established = True
            self._on_established()

    async def _deliver(self, events: list[Event]) -> None:
        """Hand the core's events to the client, keeping back its ``Disconnected`` (see module doc)."""
        for event in events:
            if isinstance(event, Disconnected):
                self._last_disconnected = event
                continue
            if isinstance(event, Connected):
                self._connected = True
            await self._emit(event)

    def _ended(self, error: WebcastError | None, *, reason: str | None = None) -> _SessionEnd:
        """The session's end: the core's ``Disconnected``, renamed when ``reason`` says better."""
        last = self._last_disconnected
        if reason is not None or last is None:
            last = Disconnected(reason=reason or "closed", code=None if last is None else last.code)
        return _SessionEnd(disconnected=last, error=error)

    async def _tap(
        self,
        direction: Direction,
        kind: WireKind,
        data: bytes = b"",
        *,
        code: int | None = None,
        text: str = "",
    ) -> None:
        """Show the wire tap one record; a tap that raises is reported to ``error`` like a handler."""
        tap = self._settings.wire_tap
        if tap is None:
            return
        record = WireRecord(
            direction=direction, kind=kind, at=clock(), wall=time.time(), data=data, code=code, text=text
        )
        try:
            tap(record)
        except Exception as exc:  # issue 6: user code, reported as a handler's failure would be
            error = HandlerError(
                f"the wire tap raised {type(exc).__name__}: {exc}", event_name="wire_tap", event=record
            )
            error.__cause__ = exc
            await self._report(error)

    async def _send(self, socket: AsyncWebSocket, messages: list[bytes]) -> None:
        """Write the core's outgoing frames, tapping each. A stop already asked for does not keep
        them back (an ack is owed for what was delivered); the socket's next read raises it."""
        if not messages:
            return
        if self._settings.wire_tap is not None:
            for message in messages:
                await self._tap(Direction.OUT, WireKind.WS, message)
        await socket.send(messages, timeout=self._settings.timeout)

    # -- one session -----------------------------------------------------------------------

    async def _open_session(self) -> _SessionEnd | _OpenSocket | PollAfter:
        """The session's first fetch, fed to the core, then the socket opened if the answer says so:
        how to go on, or how the session ended."""
        conn = self._conn
        request = conn.start()
        await self._tap(Direction.OUT, WireKind.FETCH)
        try:
            with self._interrupt.guard():
                body = await self._first_fetch(request)
        except WebcastError as exc:
            await self._tap(Direction.IN, WireKind.FETCH_FAILED, text=exc.message)
            await self._deliver(conn.fetch_failed(clock(), exc))
            return self._ended(exc)
        await self._tap(Direction.IN, WireKind.FETCH, body)
        try:
            events, instruction = conn.receive_fetch_response(body, clock())
        except RemoteProtocolError as exc:
            return self._ended(exc, reason="protocol_error")
        if instruction is None:  # the stream had already ended
            self._mark_established()
            await self._deliver(events)
            return self._ended(None)
        await self._deliver(events)
        if isinstance(instruction, UpgradeToWebSocket):
            return await self._open_socket(instruction.url)
        return instruction

    async def _perform(self, request: http.Request, *, tiktok: bool = True) -> http.Response:
        with self._interrupt.guard():
            return await self._http.perform(request, cookies=self._cookies if tiktok else None)

    async def _first_fetch(self, request: http.Request) -> bytes:
        """The body of the session's first fetch: signed by the signer, or performed by it."""
        signer = self._settings.signer
        limits = self._settings.limits
        if isinstance(signer, EulerSigner):
            proxied = signer.parse_fetch_response(
                await self._perform(
                    signer.build_fetch_request(
                        room_id=self._conn.room_id,
                        user_agent=self._settings.client_params.user_agent,
                        cursor=self._conn.cursor,
                    ),
                    tiktok=False,
                )
            )
            self._cookies.update(proxied.cookies)
            return proxied.body
        sign_request = signer.sign_request(request)
        if sign_request is not None:
            signed = signer.parse_sign_response(await self._perform(sign_request, tiktok=False))
            request = apply_signature(request, signed)
        return http.parse_fetch_response(await self._perform(request), limits=limits)

    async def _open_socket(self, url: str) -> _SessionEnd | _OpenSocket:
        """The push socket opened (and tapped), or how the session ended when it could not be."""
        conn = self._conn
        settings = self._settings
        cookies = dict(settings.cookies)
        cookies.update(self._cookies.as_dict())
        socket: AsyncWebSocket | None = None
        try:
            headers = http.build_websocket_headers(
                client_params=settings.client_params,
                cookies=cookies,
                extra_headers=settings.websocket_headers,
                authenticate=settings.authenticate_websocket,
            )
            with self._interrupt.guard():
                socket, info = await self._http.open_websocket(
                    url, headers, timeout=settings.websocket_timeout, interrupt=self._interrupt
                )
        except WebcastError as exc:
            await self._tap(Direction.IN, WireKind.WS_CLOSE, text=exc.message)
            await self._deliver(conn.websocket_closed(clock()))
            return self._ended(exc)
        except BaseException:
            # Open, then disconnect() seen by the blocking guard's check after the call: nothing but
            # this frame holds the socket (the pool does not), so it is closed here.
            if socket is not None:
                await self._close_socket(socket)
            raise
        try:
            await self._tap(Direction.IN, WireKind.WS_OPEN, text=url)
        except BaseException:  # cancelled in the tap's error handler: the socket is not left open
            await self._close_socket(socket)
            raise
        return _OpenSocket(socket=socket, ping_interval=info.ping_interval)

    async def _close_socket(self, socket: AsyncWebSocket) -> None:
        with AsyncBackend.cleanup_scope(_CLOSE_TIMEOUT * 2):
            await socket.aclose(CLOSE_NORMAL, timeout=_CLOSE_TIMEOUT)

    async def _stream(self, opened: _OpenSocket) -> _SessionEnd:
        """The streaming phase on the open socket, until it ends; the socket is closed after."""
        socket = opened.socket
        conn = self._conn
        self._close_code = None
        end: _SessionEnd | None = None
        try:
            await self._http.close_idle()  # the first fetch's connection: idle while the socket is open
            events = conn.websocket_opened(
                clock(), ping_interval=opened.ping_interval, enter_unique_id=self._enter_id()
            )
            try:
                await self._send(socket, conn.data_to_send())
                self._mark_established()
                await self._deliver(events)
                # What was delivered is not held through the next wait, which in a quiet room lasts until
                # the next heartbeat or message: the last frame and its events would stay alive with it.
                del events
                while conn.state is State.STREAMING:
                    deadline = conn.next_deadline()
                    wait = None if deadline is None else max(deadline - clock(), 0.0)
                    message = await socket.receive(wait)  # stopped by disconnect() (its guard)
                    now = clock()
                    if isinstance(message, WebSocketClosed):
                        self._close_code = message.code
                        events = conn.websocket_closed(now, message.code)
                    elif message is None:
                        events = conn.tick(now)
                    else:
                        if self._settings.wire_tap is not None:
                            await self._tap(Direction.IN, WireKind.WS, message)
                        # The frame's events first, then the clock's (a busy socket must not starve
                        # the heartbeat), as one list would have them: the handlers need not wait for
                        # tick().
                        await self._deliver(conn.receive_ws_message(message, now))
                        events = conn.tick(now)
                    # The frame's events first, then its ack (and any heartbeat): writing costs ~80 µs
                    # (a system call that wakes the server) that the handlers need not wait for. Acks
                    # still go out in order, one frame's before the next frame is read; a slow handler
                    # delays them as it delays reading.
                    await self._deliver(events)
                    await self._send(socket, conn.data_to_send())
                    del events, message
                end = self._ended(None)
            except RemoteProtocolError as exc:
                if conn.state is State.STREAMING:  # the socket's garbage, not the core's verdict
                    await self._deliver(conn.websocket_closed(clock()))
                end = self._ended(exc, reason="protocol_error")
            except WebcastError as exc:
                if conn.state is State.STREAMING:
                    await self._deliver(conn.websocket_closed(clock()))
                end = self._ended(exc)
        finally:
            await self._close_socket(socket)
            error = None if end is None else end.error
            text = "" if error is None else error.message
            await self._tap(Direction.IN, WireKind.WS_CLOSE, code=self._close_code, text=text)
        return end

    def _enter_id(self) -> int:
        # [C2] sends a random positive 63-bit enter_unique_id per enter (SPEC.md §4.5).
        return self._rng.getrandbits(63) or 1

    async def _poll(self) -> _SessionEnd:
        conn = self._conn
        while conn.state is State.POLLING:
            deadline = conn.next_deadline()
            if deadline is not None:
                await self._interrupt.sleep(deadline - clock())
            await self._deliver(conn.tick(clock()))
            request = conn.request_to_send()
            if request is None:
                continue
            await self._tap(Direction.OUT, WireKind.FETCH)
            try:
                body = http.parse_fetch_response(await self._perform(request), limits=self._settings.limits)
            except WebcastError as exc:
                await self._tap(Direction.IN, WireKind.FETCH_FAILED, text=exc.message)
                await self._deliver(conn.fetch_failed(clock(), exc))
                return self._ended(exc)
            await self._tap(Direction.IN, WireKind.FETCH, body)
            try:
                events, _ = conn.receive_fetch_response(body, clock())
            except RemoteProtocolError as exc:
                return self._ended(exc, reason="protocol_error")
            await self._deliver(events)
        return self._ended(None)
