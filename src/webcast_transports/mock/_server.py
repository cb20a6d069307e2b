"""The mock WebCast server: sockets, HTTP/1.1 (h11), WebSocket (wsproto), scenario playback.

Strategy: one background thread runs an asyncio event loop (through anyio) that owns everything
mutable — rooms, sockets, timelines. Other threads talk to it only through a blocking portal
(:class:`RoomHandle` methods) or read the thread-safe :class:`~._record.Recorder`. So a test, sync or
async, under asyncio or trio, drives the server without sharing its loop, and stopping the server
joins the thread after every socket is closed.

Per TCP connection: an h11 server connection reads requests (keep-alive) and the route table
answers them (``_routes.py``); a WebSocket handshake on the push path switches the connection to
wsproto, and a :class:`~._session.Session` runs the push socket (``_session.py``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Final, TypeVar

import anyio
import h11
from anyio.abc import SocketAttribute
from anyio.from_thread import BlockingPortal
from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionType

from webcast_proto import fixtures
from webcast_transports.mock import _routes
from webcast_transports.mock._push import PushSocket
from webcast_transports.mock._record import HttpRecord, Recorder, WsOpened
from webcast_transports.mock._rooms import Room, RoomDirectory, RoomState, RoomStatus
from webcast_transports.mock._routes import HttpRequest, Options, Response, Upgrade
from webcast_transports.mock._scenarios import (
    Action,
    CloseSocket,
    DropMidFrame,
    EndStream,
    GarbageFrame,
    HttpFault,
    RefuseHandshake,
    Scenario,
    Send,
    SetStatus,
    SocketAction,
    Stall,
    as_envelope,
)
from webcast_transports.mock._session import Close, Entries, Session

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType

    from anyio.abc import SocketStream, TaskGroup

    from webcast_proto._pb import webcast_pb2 as pb
    from webcast_proto.config import Endpoints
    from webcast_transports.mock._record import Record

__all__ = ["MockWebcastServer", "RoomHandle"]

_log = logging.getLogger("webcast.mock")

# h11's default cap on an incomplete event (16 KiB) is small for the clients' first requests: a
# signed URL with every client param is ~3 KiB and a cookie jar with a session adds more. 64 KiB
# still refuses an endless header.
MAX_HEADER_BYTES: Final = 64 * 1024
# Request bodies: sign requests and chat posts are a few hundred bytes.
MAX_BODY_BYTES: Final = 1024 * 1024
# How long shutdown waits for the push sockets to close.
SHUTDOWN_GRACE: Final = 1.0
# RFC 6455 §1.3 and §7.4.1.
_WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001

T = TypeVar("T")


def _accept_token(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _WS_GUID).digest()).decode()


def _resolve_scenario(scenario: Scenario | str) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    from webcast_transports.mock._builtin import builtin_scenario

    return builtin_scenario(scenario)


# ---------------------------------------------------------------------------------------------
# The room handle (any thread)
# ---------------------------------------------------------------------------------------------


class RoomHandle:
    """Control of one room of a running server, from any thread (calls run on the server's loop).

    Attributes:
        room: the room's configuration.
    """

    def __init__(self, server: MockWebcastServer, state: RoomState) -> None:
        self._server = server
        self._state = state
        self.room = state.room

    @property
    def room_id(self) -> int:
        return self.room.room_id

    @property
    def unique_id(self) -> str:
        return self.room.unique_id

    @property
    def scenario_name(self) -> str:
        """The name of the scenario the room plays."""
        return self._state.scenario.name

    @property
    def status(self) -> RoomStatus:
        """The room's current status (a scenario may change it: stream end makes it offline)."""
        return self._server._call(lambda: self._state.status)

    @property
    def is_started(self) -> bool:
        """Whether the room's clock (its scenario) has started."""
        return self._server._call(lambda: self._state.started_at is not None)

    @property
    def open_sockets(self) -> int:
        """How many push sockets are connected to the room."""
        return self._server._call(lambda: len(self._server._sessions.get(self.room_id, ())))

    def messages(self) -> list[pb.BaseProtoMessage]:
        """Every message the room has (history, and what was sent since), oldest first."""
        return self._server._call(lambda: [entry.message for entry in self._state.since(0)])

    def push(self, *messages: object) -> None:
        """Send messages now: a ``msg`` frame to every open socket, and into the log for pollers.

        Args:
            messages: WebCast messages (e.g. from :mod:`webcast_proto.fixtures`) or envelopes.
        """
        envelopes = [as_envelope(m) for m in messages]
        self._server._call(lambda: self._server.publish(self._state, envelopes))

    def inject(self, action: Action) -> None:
        """Apply a scenario action now (a fault, a stream end, a status change …)."""
        self._server._call(lambda: self._server._apply(self._state, action))

    def start(self) -> None:
        """Start the room's clock (its scenario) if it has not started."""
        self._server._call(lambda: self._server._start_room(self._state))

    def set_status(self, status: RoomStatus | str) -> None:
        """Change what lookups say about the room (``live``, ``offline``, ``age_restricted`` …)."""
        value = RoomStatus(status)
        self._server._call(lambda: setattr(self._state, "status", value))

    def __repr__(self) -> str:
        return f"RoomHandle(@{self.unique_id}, room_id={self.room_id})"


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


class MockWebcastServer:
    """A TikTok WebCast server on loopback: website, WebCast API, push socket and sign server.

    Start it as a context manager (``with`` or ``async with``, under asyncio or trio) or with
    :meth:`start` / :meth:`stop`. It runs in its own thread; every method is safe from any thread.

    Args:
        rooms: the rooms to serve; by default one room ``@mock.host`` playing ``scenario``.
        scenario: the default room's scenario (a :class:`Scenario` or a built-in name, default
            ``"lively"``); ignored when ``rooms`` are given (each room names its own).
        host: the address to bind (loopback).
        port: the port; 0 picks a free one.
        options: behaviour switches (:class:`Options`).
        speed: shortcut for ``options.speed`` (scenario time runs this many times faster).

    Raises:
        ValueError: duplicate rooms, an unknown scenario name.
    """

    def __init__(
        self,
        rooms: Iterable[Room] | None = None,
        *,
        scenario: Scenario | str = "lively",
        host: str = "127.0.0.1",
        port: int = 0,
        options: Options | None = None,
        speed: float | None = None,
    ) -> None:
        options = options or Options()
        if speed is not None:
            options = Options(**{**_options_dict(options), "speed": speed})
        self.options = options
        self.directory = RoomDirectory()
        room_list = list(rooms) if rooms is not None else [Room("mock.host", scenario=scenario)]
        for room in room_list:
            self.directory.add(RoomState(room, _resolve_scenario(room.scenario)))
        self._host = host
        self._port = port
        self.recorder = Recorder()
        self._sessions: dict[int, set[Session]] = {}
        self._connection_ids = itertools.count(1)
        self._t0 = time.monotonic()
        self._thread: threading.Thread | None = None
        self._portal: BlockingPortal | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stop_event: anyio.Event | None = None
        self._group: TaskGroup | None = None
        self._bound_port = 0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> MockWebcastServer:
        """Start serving (binds the port, starts the thread); returns ``self``.

        Raises:
            RuntimeError: already started.
            OSError: the port could not be bound.
        """
        self._begin_start()
        self._ready.wait()
        return self._finish_start()

    def stop(self) -> None:
        """Close every socket (push sockets get a 1001 close first) and join the thread. Idempotent."""
        thread = self._begin_stop()
        if thread is not None:
            thread.join()

    def __enter__(self) -> MockWebcastServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> MockWebcastServer:
        # Waiting by polling keeps the caller's event loop running (asyncio or trio alike) and
        # starts no worker thread there, so the caller's thread count is ours to account for.
        self._begin_start()
        while not self._ready.is_set():
            await anyio.sleep(0.002)
        return self._finish_start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        thread = self._begin_stop()
        while thread is not None and thread.is_alive():
            await anyio.sleep(0.002)
        if thread is not None:
            thread.join()

    def _begin_start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("MockWebcastServer already started")
        self._thread = threading.Thread(target=self._thread_main, name="webcast-mock-server", daemon=True)
        self._thread.start()

    def _finish_start(self) -> MockWebcastServer:
        if self._failure is not None:
            assert self._thread is not None
            self._thread.join()
            self._thread = None
            raise self._failure
        _log.info("mock WebCast server at %s (%d rooms)", self.base_url, len(self.directory))
        return self

    def _begin_stop(self) -> threading.Thread | None:
        thread, self._thread = self._thread, None
        portal, self._portal = self._portal, None
        if portal is not None and self._stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                portal.call(self._stop_event.set)
        return thread

    def _thread_main(self) -> None:
        try:
            anyio.run(self._main, backend="asyncio")
        except BaseException as exc:  # pragma: no cover  # reported to start() below
            self._failure = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        try:
            listener = await anyio.create_tcp_listener(local_host=self._host, local_port=self._port)
        except OSError as exc:
            self._failure = exc
            return
        async with BlockingPortal() as portal, listener, anyio.create_task_group() as group:
            self._stop_event = anyio.Event()
            self._group = group
            self._bound_port = listener.extra(SocketAttribute.local_port)
            for state in self.directory:
                if state.room.start == "now":
                    self._start_room(state)
            group.start_soon(listener.serve, self._serve_connection, group)
            self._portal = portal
            self._ready.set()
            await self._stop_event.wait()
            await self._close_sockets()
            group.cancel_scope.cancel()
        self._group = None

    async def _close_sockets(self) -> None:
        sessions = [s for room in self._sessions.values() for s in room]
        for session in sessions:
            session.put(Close(CLOSE_GOING_AWAY, "server shutting down"))
        with anyio.move_on_after(SHUTDOWN_GRACE):
            while any(self._sessions.values()):
                await anyio.sleep(0.005)

    def _call(self, func: Callable[[], T]) -> T:
        portal = self._portal
        if portal is None:
            raise RuntimeError("the mock server is not running")
        return portal.call(func)

    # -- addresses --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (0 before start)."""
        return self._bound_port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:{port}``: the website, the WebCast API and the sign server."""
        return f"http://{self._host}:{self._bound_port}"

    @property
    def ws_url(self) -> str:
        """The push server URL offered in fetch results (``ws://…/webcast/im/ws_proxy/ws_reuse_supplement/``)."""
        return f"ws://{self._host}:{self._bound_port}{_routes.DEFAULT_WS_PATH}"

    def endpoints(self) -> Endpoints:
        """``webcast_proto.config.Endpoints`` pointing every host at this server."""
        from webcast_proto.config import Endpoints

        return Endpoints.from_base_url(self.base_url)

    # -- rooms ------------------------------------------------------------------------------

    def room(self, key: str | int | None = None) -> RoomHandle:
        """The handle of a room, by username or room id; the only room when ``key`` is omitted.

        Raises:
            KeyError: no such room (or several rooms and no key).
        """
        if key is None:
            if len(self.directory) != 1:
                raise KeyError("several rooms: name one")
            return RoomHandle(self, next(iter(self.directory)))
        state = self.directory.by_id(key) if isinstance(key, int) else self.directory.by_name(key)
        if state is None:
            raise KeyError(f"no room {key!r}")
        return RoomHandle(self, state)

    @property
    def rooms(self) -> list[RoomHandle]:
        """Every room's handle."""
        return [RoomHandle(self, state) for state in self.directory]

    # -- the Host interface of the routes (loop thread) -------------------------------------

    def now(self) -> float:
        """Seconds since the server object was created (monotonic)."""
        return time.monotonic() - self._t0

    def now_ms(self) -> int:
        """Wall-clock milliseconds, as TikTok stamps its answers."""
        return time.time_ns() // 1_000_000

    def record(self, record: Record) -> None:
        self.recorder.add(record)

    def publish(self, state: RoomState, messages: list[pb.BaseProtoMessage]) -> None:
        """Append messages to a room's log and queue one frame for each of its sockets."""
        entries = state.append(messages)
        if entries:
            stamped = [entry.message for entry in entries]
            for session in self._sessions.get(state.room.room_id, ()):
                session.socket.publish(stamped)
                session.put(Entries(entries[0].position, len(entries)))

    # -- scenarios (loop thread) ------------------------------------------------------------

    def _start_room(self, state: RoomState) -> None:
        if state.started_at is not None:
            return
        state.started_at = time.time()
        steps = state.scenario.steps
        due = [step for step in steps if step.at <= 0]
        for step in due:  # before the request that started the clock is answered
            self._apply(state, step.action)
        later = steps[len(due) :]
        if later and self._group is not None:
            self._group.start_soon(self._play, state, later, anyio.current_time())

    async def _play(self, state: RoomState, steps: Iterable[Any], t0: float) -> None:
        speed = self.options.speed
        for step in steps:
            await anyio.sleep_until(t0 + step.at / speed)
            self._apply(state, step.action)

    def _apply(self, state: RoomState, action: Action) -> None:
        _APPLY[type(action)](self, state, action)

    def _apply_send(self, state: RoomState, action: Send) -> None:
        self.publish(state, list(action.messages))

    def _apply_socket_fault(self, state: RoomState, action: SocketAction) -> None:
        sessions = self._sessions.get(state.room.room_id)
        if not sessions:
            state.pending_socket_actions.append(action)
            return
        for session in sessions:
            session.put(action)

    def _apply_end_stream(self, state: RoomState, action: EndStream) -> None:
        control = fixtures.control(action.action, room_id=state.room.room_id, create_time=self.now_ms())
        self.publish(state, [fixtures.wrap(control)])
        state.status = RoomStatus.OFFLINE
        sessions = list(self._sessions.get(state.room.room_id, ()))
        if sessions and self._group is not None:
            self._group.start_soon(self._close_after_stream_end, sessions)

    async def _close_after_stream_end(self, sessions: list[Session]) -> None:
        # Clients disconnect on the stream end themselves (SPEC.md §1.9); closing at once could cut
        # one that is still processing the frame asynchronously ([C2] does), so give them a moment.
        await anyio.sleep(self.options.stream_end_close_delay)
        for session in sessions:
            session.put(Close(CLOSE_NORMAL, "stream ended"))

    def _apply_status(self, state: RoomState, action: SetStatus) -> None:
        state.status = RoomStatus(action.status)

    def _apply_arm(self, state: RoomState, action: HttpFault | RefuseHandshake) -> None:
        self.directory.arm(action, state.room.room_id)

    # -- connections (loop thread) ----------------------------------------------------------

    async def _serve_connection(self, stream: SocketStream) -> None:
        connection_id = next(self._connection_ids)
        async with stream:
            conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
            while True:
                request = await self._read_request(conn, stream, connection_id)
                if request is None:
                    return
                keep_going = await self._answer(conn, stream, request)
                if not keep_going or conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()

    async def _read_request(
        self, conn: h11.Connection, stream: SocketStream, connection_id: int
    ) -> HttpRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    try:
                        data = await stream.receive()
                    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                        data = b""
                    conn.receive_data(data)
                elif isinstance(event, h11.Request):
                    head = event
                elif isinstance(event, h11.Data):
                    body += event.data
                    if len(body) > MAX_BODY_BYTES:
                        await self._send_error(conn, stream, 413, "request body too large")
                        return None
                elif isinstance(event, h11.EndOfMessage) and head is not None:
                    headers = tuple(
                        (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in head.headers
                    )
                    return HttpRequest.from_target(
                        head.method.decode("ascii"), head.target.decode("latin-1"), headers, bytes(body),
                        connection_id,
                    )  # fmt: skip
                else:  # ConnectionClosed, or PAUSED after a refused upgrade
                    return None
        except h11.RemoteProtocolError as exc:
            await self._send_error(conn, stream, exc.error_status_hint, str(exc))
            return None

    async def _send_error(self, conn: h11.Connection, stream: SocketStream, status: int, text: str) -> None:
        if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            response = Response(
                status, (("content-type", "text/plain"), ("connection", "close")), text.encode()
            )
            await self._write_response(conn, stream, response)

    async def _write_response(self, conn: h11.Connection, stream: SocketStream, response: Response) -> None:
        headers = [*response.headers, ("content-length", str(len(response.body))), ("server", "webcast-mock")]
        data = conn.send(h11.Response(status_code=response.status, headers=headers))
        data = (data or b"") + (conn.send(h11.Data(data=response.body)) or b"")
        data += conn.send(h11.EndOfMessage()) or b""
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await stream.send(data)

    def _record_http(self, request: HttpRequest, route: str, status: int, room_id: int) -> None:
        self.record(
            HttpRecord(
                at=self.now(), connection_id=request.connection_id, room_id=room_id, method=request.method,
                path=request.path, query=request.query, headers=request.headers, body=request.body,
                route=route, status=status,
            )
        )  # fmt: skip

    async def _answer(self, conn: h11.Connection, stream: SocketStream, request: HttpRequest) -> bool:
        """Answer one request; returns whether the connection may serve another."""
        state = _routes.request_room(self.directory, request)
        if state is not None and state.room.start == "on_request":
            self._start_room(state)
        room_id = 0 if state is None else state.room.room_id
        fault = self.directory.take_http_fault(request.path, None if state is None else room_id)
        if fault is not None and fault.delay:
            await anyio.sleep(fault.delay / self.options.speed)
        if fault is not None and fault.status is not None:
            sign = _routes.is_sign_server_path(request.path)
            response = _routes.fault_response(
                fault.status, fault.retry_after, fault.message, sign_server=sign
            )
            self._record_http(request, "fault", response.status, room_id)
            await self._write_response(conn, stream, response)
            return not request.is_websocket_upgrade
        route, answer = _routes.dispatch(self, request)
        if isinstance(answer, Upgrade):
            return await self._upgrade(conn, stream, request, route, answer)
        self._record_http(request, route, answer.status, room_id)
        if request.is_websocket_upgrade:
            answer = Response(answer.status, (*answer.headers, ("connection", "close")), answer.body)
        await self._write_response(conn, stream, answer)
        return not request.is_websocket_upgrade

    async def _upgrade(
        self, conn: h11.Connection, stream: SocketStream, request: HttpRequest, route: str, upgrade: Upgrade
    ) -> bool:
        key = request.header("sec-websocket-key")
        room_id = upgrade.state.room.room_id
        if request.header("sec-websocket-version") != "13" or not key:
            response = Response(
                400, (("sec-websocket-version", "13"), ("connection", "close")), b"bad handshake"
            )
            self._record_http(request, route, 400, room_id)
            await self._write_response(conn, stream, response)
            return False
        headers = [
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("sec-websocket-accept", _accept_token(key)),
        ]
        if upgrade.subprotocol is not None:
            headers.append(("sec-websocket-protocol", upgrade.subprotocol))
        headers.extend(upgrade.headers)
        self._record_http(request, route, 101, room_id)
        try:
            await stream.send(conn.send(h11.InformationalResponse(status_code=101, headers=headers)) or b"")
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return False
        ws = WsConnection(ConnectionType.SERVER, trailing_data=conn.trailing_data[0])
        socket = PushSocket(
            upgrade.state,
            connection_id=request.connection_id,
            compress=upgrade.compress,
            cursor=upgrade.cursor,
            position=upgrade.position,
            fetch_interval_ms=self.options.fetch_interval_ms,
            heartbeat_duration_ms=int(self.options.heartbeat_interval * 1000),
        )
        session = Session(self, upgrade.state, stream, ws, socket)
        self.record(
            WsOpened(
                at=self.now(), connection_id=request.connection_id, room_id=room_id, path=request.path,
                query=request.query, subprotocol=upgrade.subprotocol, compress=upgrade.compress,
                resumed_from=socket.position,
            )
        )  # fmt: skip
        # Replay and registration happen together on the loop, so no message falls between them.
        backlog = socket.backlog()
        if backlog:
            session.put(Entries(socket.position + 1, backlog))
        pending = upgrade.state.pending_socket_actions
        while pending:
            session.put(pending.popleft())
        sessions = self._sessions.setdefault(room_id, set())
        sessions.add(session)
        try:
            await session.run()
        finally:
            sessions.discard(session)
        return False


_APPLY: Final[dict[type, Callable[[MockWebcastServer, RoomState, Any], None]]] = {
    Send: MockWebcastServer._apply_send,
    DropMidFrame: MockWebcastServer._apply_socket_fault,
    Stall: MockWebcastServer._apply_socket_fault,
    GarbageFrame: MockWebcastServer._apply_socket_fault,
    CloseSocket: MockWebcastServer._apply_socket_fault,
    EndStream: MockWebcastServer._apply_end_stream,
    SetStatus: MockWebcastServer._apply_status,
    HttpFault: MockWebcastServer._apply_arm,
    RefuseHandshake: MockWebcastServer._apply_arm,
}


def _options_dict(options: Options) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}
