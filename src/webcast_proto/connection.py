"""The client's protocol state machine: :class:`ClientConnection` (ARCHITECTURE.md, "the heart").

Theory of operation. The caller tells the connection what happened and asks what to do next; the
connection never does I/O, never reads a clock (``now`` is an argument, monotonic seconds) and never
draws a random number (STYLE.md §2, §3). One session (SPEC.md §1):

1. :meth:`~ClientConnection.start` returns the first im/fetch :class:`~webcast_proto.http.Request`.
2. :meth:`~ClientConnection.receive_fetch_response` returns a :class:`FetchOutcome`: the events
   (``Connected``, initial data) and exactly one instruction, :class:`UpgradeToWebSocket` or
   :class:`PollAfter` (``None`` only if the response ended the stream).
3. WebSocket: :meth:`~ClientConnection.websocket_opened` queues enter-room;
   :meth:`~ClientConnection.receive_ws_message` returns events and queues acks;
   :meth:`~ClientConnection.data_to_send` drains the bytes to write.
   Polling: the poll falls due at :meth:`~ClientConnection.next_deadline`; :meth:`~ClientConnection.tick`
   then makes the poll :class:`~webcast_proto.http.Request`, handed out by
   :meth:`~ClientConnection.request_to_send`, whose answer goes to ``receive_fetch_response`` again.
4. :meth:`~ClientConnection.tick` fires what is due: heartbeats, the next poll, the liveness timeout.
5. It ends in ``ENDED`` (stream end, final) or ``DISCONNECTED`` (socket closed, fetch failed, peer
   garbage, timeout), from which :meth:`~ClientConnection.start` resumes at the kept cursor.

The machine is :data:`TRANSITIONS`, one table written only by :meth:`ClientConnection._transition`
(STYLE.md §4); ``docs/state-diagram.md`` is drawn from it. Bookkeeping is delegated: ``_dedup`` (msg_id
window, wanted methods, conversion), ``_timers`` (heartbeat, liveness, poll), ``_outbox`` (bounded
outgoing queue), ``codec`` (frames), ``http`` (requests and URLs).

Error policy. A call the current state does not accept raises ``LocalProtocolError`` naming the
method, the state and what the state accepts, and changes nothing. Invalid peer data (an undecodable
body or frame, a first fetch without cursor) moves to ``DISCONNECTED`` and then **raises**
``RemoteProtocolError``, always, never an event: the exception is the report, and the connection can
resume with ``start()``. One bad message inside a good frame is only a ``ProtocolWarning`` event.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, NamedTuple, NoReturn, TypeAlias

from webcast_proto import codec, http
from webcast_proto._dedup import CONTROL_METHOD, MessageSieve
from webcast_proto._errors import LocalProtocolError, RemoteProtocolError, WebcastError
from webcast_proto._outbox import Outbox
from webcast_proto._timers import (
    DEFAULT_LIVENESS_TIMEOUT,
    HeartbeatSchedule,
    LivenessTimer,
    PollSchedule,
    SocketClocks,
    check_duration,
    check_positive_int,
    poll_interval,
)
from webcast_proto.config import DEFAULT_LIMITS, ClientParams, Endpoints, Limits
from webcast_proto.convert import ConverterRegistry, default_registry
from webcast_proto.events import Connected, Disconnected, ProtocolWarning, StreamEnd, WebSocketConnected

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from webcast_proto._pb import webcast_pb2 as pb
    from webcast_proto.events import Event

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover  # Python 3.10 has no typing.assert_never; coverage runs on 3.11+

    def assert_never(value: NoReturn) -> NoReturn:
        raise AssertionError(f"unhandled value: {value!r}")


__all__ = [
    "CALL_INPUTS",
    "CONTROL_METHOD",
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_REQUEST_POLLING_INTERVAL_MS",
    "TRANSITIONS",
    "ClientConnection",
    "FetchOutcome",
    "Input",
    "Instruction",
    "PollAfter",
    "State",
    "UpgradeToWebSocket",
    "allowed_calls",
]

# SPEC.md §1.7: [S]/[V1] requestPollingIntervalMs defaults to 1000.
DEFAULT_REQUEST_POLLING_INTERVAL_MS: Final = 1000

# SPEC.md §4.4: [TL], the one peer that reads the handshake's ping-interval, falls back to 5.0 s ([S],
# [V1] and [C2] beat every 10 s without reading it). We read it too, so we take [TL]'s fallback: the
# same number http.ping_interval() uses when the header is absent, so the two never disagree.
DEFAULT_HEARTBEAT_INTERVAL: Final = http.DEFAULT_PING_INTERVAL


class State(enum.Enum):
    """Where a client connection is in its session (SPEC.md §1)."""

    IDLE = "IDLE"  # created; start() not called yet
    FETCHING = "FETCHING"  # the first fetch of a (re)start is being performed
    UPGRADING = "UPGRADING"  # told to open the WebSocket; waiting for websocket_opened()
    STREAMING = "STREAMING"  # the push WebSocket is open
    POLLING = "POLLING"  # no WebSocket: fetching periodically (SPEC.md §5)
    DISCONNECTED = "DISCONNECTED"  # lost the transport or got garbage; start() resumes
    ENDED = "ENDED"  # the stream ended (control message): final

    # Members are singletons, equal only to themselves: identity hashing is consistent with their
    # equality and, unlike Enum's hash of the name, costs no Python call on every table lookup.
    __hash__ = object.__hash__


class Input(enum.Enum):
    """What can happen to a client connection: the inputs of :data:`TRANSITIONS`."""

    START = "start()"
    UPGRADE_OFFERED = "fetch response offers a push server"
    POLL_SCHEDULED = "fetch response, no upgrade"
    FETCH_FAILED = "fetch_failed()"
    WEBSOCKET_OPENED = "websocket_opened()"
    FRAME_RECEIVED = "receive_ws_message()"
    WEBSOCKET_CLOSED = "websocket_closed()"
    HEARTBEAT_DUE = "tick() with a heartbeat due"
    POLL_DUE = "tick() with a poll due"
    TIMEOUT = "tick() after liveness_timeout of silence"
    STREAM_END = "stream end control message"
    PEER_ERROR = "invalid data from the peer"

    __hash__ = object.__hash__  # as State's


_S = State
_I = Input

TRANSITIONS: Final[Mapping[tuple[State, Input], State]] = MappingProxyType(
    {
        (_S.IDLE, _I.START): _S.FETCHING,
        (_S.DISCONNECTED, _I.START): _S.FETCHING,  # resume from the kept cursor (SPEC.md §5)
        (_S.FETCHING, _I.UPGRADE_OFFERED): _S.UPGRADING,  # SPEC.md §1.6
        (_S.FETCHING, _I.POLL_SCHEDULED): _S.POLLING,  # SPEC.md §1.7
        (_S.FETCHING, _I.FETCH_FAILED): _S.DISCONNECTED,
        (_S.FETCHING, _I.STREAM_END): _S.ENDED,
        (_S.FETCHING, _I.PEER_ERROR): _S.DISCONNECTED,  # garbage body, no cursor (SPEC.md §1.5)
        (_S.UPGRADING, _I.WEBSOCKET_OPENED): _S.STREAMING,
        (_S.UPGRADING, _I.WEBSOCKET_CLOSED): _S.DISCONNECTED,  # the upgrade failed
        (_S.STREAMING, _I.FRAME_RECEIVED): _S.STREAMING,
        (_S.STREAMING, _I.HEARTBEAT_DUE): _S.STREAMING,  # SPEC.md §4.4
        (_S.STREAMING, _I.WEBSOCKET_CLOSED): _S.DISCONNECTED,
        (_S.STREAMING, _I.TIMEOUT): _S.DISCONNECTED,
        (_S.STREAMING, _I.STREAM_END): _S.ENDED,
        (_S.STREAMING, _I.PEER_ERROR): _S.DISCONNECTED,
        (_S.POLLING, _I.POLL_DUE): _S.POLLING,
        (_S.POLLING, _I.POLL_SCHEDULED): _S.POLLING,  # a poll answered (SPEC.md §5)
        (_S.POLLING, _I.FETCH_FAILED): _S.DISCONNECTED,
        (_S.POLLING, _I.STREAM_END): _S.ENDED,
        (_S.POLLING, _I.PEER_ERROR): _S.DISCONNECTED,
    }
)
"""The whole machine: ``(state, input) -> next state``. A missing pair is an illegal transition."""

# The public calls that feed the table, with the inputs each can produce on success. A call is legal in
# a state when one of its inputs leaves that state; the outcome inputs (stream end, peer error,
# timers) are decided by the connection, never asked for by the caller. tick(), next_deadline(),
# data_to_send() and request_to_send() are legal in every state.
CALL_INPUTS: Final[Mapping[str, tuple[Input, ...]]] = MappingProxyType(
    {
        "start": (_I.START,),
        "receive_fetch_response": (_I.UPGRADE_OFFERED, _I.POLL_SCHEDULED),
        "fetch_failed": (_I.FETCH_FAILED,),
        "websocket_opened": (_I.WEBSOCKET_OPENED,),
        "receive_ws_message": (_I.FRAME_RECEIVED,),
        "websocket_closed": (_I.WEBSOCKET_CLOSED,),
    }
)

# The same, turned around for the per-call check: the states in which each call is legal.
_CALL_STATES: Final[Mapping[str, frozenset[State]]] = MappingProxyType(
    {
        call: frozenset(state for (state, input) in TRANSITIONS if input in inputs)
        for call, inputs in CALL_INPUTS.items()
    }
)


def allowed_calls(state: State) -> tuple[str, ...]:
    """The calls ``state`` accepts, from :data:`TRANSITIONS` (for error messages and docs).

    Args:
        state: a state.

    Returns:
        Method names, in :data:`CALL_INPUTS` order.
    """
    return tuple(
        call for call, inputs in CALL_INPUTS.items() if any((state, i) in TRANSITIONS for i in inputs)
    )


# --------------------------------------------------------------------------------------------
# Instructions: what the transport must do after a fetch response
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UpgradeToWebSocket:
    """Open the push WebSocket, then call ``websocket_opened(now)`` (or ``websocket_closed(now)``).

    Attributes:
        url: the full ``ws(s)://`` URL, query included (SPEC.md §2.5).
        headers: the handshake headers (cookies, User-Agent).
    """

    url: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PollAfter:
    """Polling mode: the next fetch is due in ``seconds`` (also ``next_deadline()``), see ``tick``.

    Attributes:
        seconds: the delay before the next poll (SPEC.md §5).
    """

    seconds: float


Instruction: TypeAlias = "UpgradeToWebSocket | PollAfter"


class FetchOutcome(NamedTuple):
    """What :meth:`ClientConnection.receive_fetch_response` returns; unpacks as ``events, instruction``.

    Attributes:
        events: the events, in order.
        instruction: what the transport does next; ``None`` only when the response ended the
            stream (state ``ENDED``).
    """

    events: list[Event]
    instruction: Instruction | None


_FrameHandler: TypeAlias = (
    "Callable[[ClientConnection, pb.WebcastPushFrame], tuple[list[bytes], list[Event]]]"
)


class ClientConnection:
    """The sans-I/O client side of one room's WebCast session (see the module docstring).

    Args:
        room_id: the room to read (resolving it from a username is the transport's job, SPEC.md §2.2).
        endpoints: hosts and base URLs; ``endpoints.push_server``, when set, replaces the offered one.
        client_params: the query params and headers the client sends (SPEC.md §3).
        cookies: cookies for the fetch requests and the WebSocket handshake.
        process_initial_data: deliver the history carried by the very first fetch (SPEC.md §1.5). Off,
            those messages are only remembered, so the socket does not deliver them either (and a
            stream end among them, being history, is not acted on). Resume fetches always deliver.
        enable_websocket_upgrade: open the push socket when offered (SPEC.md §1.6); off, always poll.
        request_polling_interval_ms: the least time between polls (SPEC.md §1.7, default 1000).
        heartbeat_interval: seconds between heartbeats, overriding both the handshake's
            ``ping-interval`` and the 5 s default (SPEC.md §4.4).
        liveness_timeout: seconds of server silence on the socket before ``Disconnected("timeout")``;
            ``None`` disables it. Default 60.
        limits: size limits (``max_dedup_window``, ``max_pending_bytes``, frame and gzip bounds …).
        registry: converts messages to events; a fresh :func:`~webcast_proto.convert.default_registry`
            if omitted.
        wanted_methods: if given, messages of other methods are dropped before their payload is
            parsed (cheap); control messages are always converted, since they can end the stream.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: an argument is out of range (room id not positive, interval not positive).
    """

    def __init__(
        self,
        *,
        room_id: int,
        endpoints: Endpoints | None = None,
        client_params: ClientParams | None = None,
        cookies: Mapping[str, str] | None = None,
        process_initial_data: bool = True,
        enable_websocket_upgrade: bool = True,
        request_polling_interval_ms: int = DEFAULT_REQUEST_POLLING_INTERVAL_MS,
        heartbeat_interval: float | None = None,
        liveness_timeout: float | None = DEFAULT_LIVENESS_TIMEOUT,
        limits: Limits = DEFAULT_LIMITS,
        registry: ConverterRegistry | None = None,
        wanted_methods: Collection[str] | None = None,
    ) -> None:
        check_positive_int("room_id", room_id)
        check_positive_int("request_polling_interval_ms", request_polling_interval_ms)
        check_duration("heartbeat_interval", heartbeat_interval, allow_none=True)
        check_duration("liveness_timeout", liveness_timeout, allow_none=True)
        if not isinstance(limits, Limits):
            raise TypeError(f"limits must be a Limits, got {type(limits).__name__}")
        self._room_id = room_id
        self._endpoints = Endpoints() if endpoints is None else endpoints
        self._client_params = ClientParams() if client_params is None else client_params
        self._cookies = None if cookies is None else dict(cookies)
        self._process_initial_data = process_initial_data
        self._enable_websocket_upgrade = enable_websocket_upgrade
        self._request_polling_interval_ms = request_polling_interval_ms
        self._heartbeat_interval = heartbeat_interval
        self._liveness_timeout = liveness_timeout
        self._limits = limits

        self._state = State.IDLE
        self._cursor = ""
        self._internal_ext = ""
        self._has_fetched = False  # process_initial_data concerns the very first fetch only
        self._sieve = MessageSieve(
            capacity=limits.max_dedup_window,
            registry=default_registry() if registry is None else registry,
            wanted_methods=wanted_methods,
            max_message_size=limits.max_message_size,
        )
        self._outbox = Outbox(limits.max_pending_bytes)
        self._upgrade_url = ""
        self._socket: SocketClocks | None = None
        self._poll = PollSchedule()
        self._pending_request: http.Request | None = None

    @property
    def state(self) -> State:
        """The current :class:`State`."""
        return self._state

    @property
    def room_id(self) -> int:
        """The room being read."""
        return self._room_id

    @property
    def cursor(self) -> str:
        """The resume cursor: the last non-empty ``cursor`` the server sent (SPEC.md §5)."""
        return self._cursor

    @property
    def internal_ext(self) -> str:
        """The last non-empty ``internal_ext`` the server sent (SPEC.md §5)."""
        return self._internal_ext

    @property
    def heartbeat_interval(self) -> float | None:
        """Seconds between heartbeats on the open socket, or ``None`` when no socket is open."""
        return None if self._socket is None else self._socket.heartbeat.interval

    def set_wanted_methods(self, wanted_methods: Collection[str] | None) -> None:
        """Change which methods are converted, from the next message on. Legal in every state.

        For a transport whose user adds or removes listeners while connected. Messages already
        delivered are not revisited.

        Args:
            wanted_methods: the methods to convert, or ``None`` for all; control messages are always
                converted, since they can end the stream.
        """
        self._sieve.set_wanted(wanted_methods)

    def _require(self, call: str) -> None:
        """Refuse ``call`` unless the current state accepts it; nothing changes on refusal."""
        if self._state not in _CALL_STATES[call]:
            allowed = ", ".join(f"{name}()" for name in allowed_calls(self._state)) or "nothing"
            raise LocalProtocolError(f"{call}() in state {self._state.name}; allowed: {allowed}")

    def _transition(self, input: Input) -> None:
        """Apply ``input``: the only writer of ``_state``.

        Raises:
            LocalProtocolError: ``(state, input)`` is not in :data:`TRANSITIONS`; state unchanged.
        """
        try:
            self._state = TRANSITIONS[self._state, input]
        except KeyError:
            allowed = ", ".join(i.name for (s, i) in TRANSITIONS if s is self._state) or "nothing"
            raise LocalProtocolError(
                f"input {input.name} ({input.value}) in state {self._state.name}; allowed: {allowed}"
            ) from None

    def _leave(self, input: Input) -> None:
        """Transition out of the session (to DISCONNECTED or ENDED) and drop its timers and requests.

        Unsent bytes are dropped only when the socket is gone (DISCONNECTED): acks and heartbeats for a
        dead socket must not reach the next one. On ENDED the final ack may still be written.
        """
        self._transition(input)
        self._socket = None
        self._poll.reset()
        self._pending_request = None
        if self._state is State.DISCONNECTED:
            self._outbox.drain()

    def _peer_error(self, exc: RemoteProtocolError) -> NoReturn:
        self._leave(Input.PEER_ERROR)
        raise exc

    def start(self) -> http.Request:
        """Begin (from IDLE) or resume (from DISCONNECTED) the session.

        Returns:
            The im/fetch request to perform (signed by the transport's signer, if any). On resume it
            carries the kept ``cursor`` and ``internal_ext`` so nothing is missed (SPEC.md §5).

        Raises:
            LocalProtocolError: the state is not IDLE or DISCONNECTED.
        """
        self._require("start")
        request = self._fetch_request()
        self._transition(Input.START)
        return request

    def _fetch_request(self) -> http.Request:
        return http.build_fetch_request(
            endpoints=self._endpoints,
            client_params=self._client_params,
            room_id=self._room_id,
            cursor=self._cursor,
            internal_ext=self._internal_ext,
            cookies=self._cookies,
        )

    def receive_fetch_response(self, body: bytes, now: float) -> FetchOutcome:
        """Feed the body of an im/fetch response (the first fetch, or a poll).

        Args:
            body: the raw (or gzip'd) ``ProtoMessageFetchResult`` (SPEC.md §2.4).
            now: the current time; polling schedules the next poll from it.

        Returns:
            The events and the instruction. After the first fetch of each ``start()``: a
            ``Connected`` event, then the messages (the very first fetch's only when
            ``process_initial_data``), and ``UpgradeToWebSocket`` when a push server is offered and
            upgrading is enabled, else ``PollAfter``. After a poll: the new messages and
            ``PollAfter``. A stream end among the messages gives ``StreamEnd``, ``Disconnected``
            (reason ``"stream_end"``), instruction ``None`` and state ENDED.

        Raises:
            LocalProtocolError: the state is not FETCHING or POLLING.
            RemoteProtocolError: the body is not a fetch result, or a first fetch has no cursor
                (SPEC.md §1.5). The state is then DISCONNECTED.
        """
        self._require("receive_fetch_response")
        try:
            result = codec.parse_fetch_result(body, limits=self._limits)
        except RemoteProtocolError as exc:
            self._peer_error(exc)
        first = self._state is State.FETCHING
        events: list[Event] = []
        if first:
            if not result.cursor:
                self._peer_error(RemoteProtocolError("Missing cursor in initial fetch response."))
            events.append(Connected(room_id=self._room_id))
        elif not result.cursor:
            # SPEC.md §5: a poll without cursor is reported; polling goes on from the old cursor.
            events.append(ProtocolWarning(message="poll response without cursor; keeping the last one"))
        # The instruction is decided before anything is consumed or remembered: if the push server is
        # garbage, the raise must lose no message (neither marked as seen nor skipped by the cursor).
        instruction: Instruction
        if first and result.push_server and self._enable_websocket_upgrade:
            instruction, next_input = self._upgrade(result), Input.UPGRADE_OFFERED
        else:
            seconds = poll_interval(
                fetch_interval_ms=result.fetch_interval,
                request_polling_interval_ms=self._request_polling_interval_ms,
            )
            instruction, next_input = PollAfter(seconds=seconds), Input.POLL_SCHEDULED
        self._remember_position(result.cursor, result.internal_ext)
        if first and not self._has_fetched and not self._process_initial_data:
            self._sieve.remember(result.messages)  # the socket's first frames overlap this history
        elif self._sieve.sift(result.messages, events):
            self._end_stream(events)
            return FetchOutcome(events, None)
        self._has_fetched = True
        if isinstance(instruction, PollAfter):
            self._poll.schedule(now, instruction.seconds)
        else:
            self._upgrade_url = instruction.url
        self._transition(next_input)
        return FetchOutcome(events, instruction)

    def _upgrade(self, result: pb.ProtoMessageFetchResult) -> UpgradeToWebSocket:
        push_server = self._endpoints.push_server or result.push_server
        try:
            url = http.build_websocket_url(
                push_server=push_server,
                route_params=dict(result.route_params),
                client_params=self._client_params,
                room_id=self._room_id,
                cursor=result.cursor,  # never empty here: checked for a first fetch
                internal_ext=result.internal_ext or self._internal_ext,
            )
        except ValueError as exc:  # the push server is the peer's: its garbage is a remote error
            self._peer_error(RemoteProtocolError(f"unusable push_server in fetch result: {exc}"))
        headers = http.build_websocket_headers(client_params=self._client_params, cookies=self._cookies)
        return UpgradeToWebSocket(url=url, headers=headers)

    def fetch_failed(self, now: float, error: BaseException) -> list[Event]:
        """Report that the fetch or poll request could not be performed (network, HTTP error).

        Args:
            now: the current time.
            error: what went wrong; a :class:`~webcast_proto.WebcastError`'s ``retryable`` is passed on.

        Returns:
            ``[Disconnected(reason="fetch_failed")]``; the state is DISCONNECTED, ``start()`` resumes.

        Raises:
            LocalProtocolError: the state is not FETCHING or POLLING.
        """
        self._require("fetch_failed")
        self._leave(Input.FETCH_FAILED)
        retryable = error.retryable if isinstance(error, WebcastError) else True
        return [Disconnected(reason="fetch_failed", retryable=retryable)]

    def request_to_send(self) -> http.Request | None:
        """The poll request that ``tick`` found due, once; ``None`` if there is none.

        Legal in every state. Perform it, then feed the answer to ``receive_fetch_response`` (or
        report ``fetch_failed``). No new poll falls due while one is outstanding.

        Returns:
            The request, or ``None``.
        """
        request, self._pending_request = self._pending_request, None
        return request

    def websocket_opened(
        self, now: float, *, ping_interval: float | None = None, enter_unique_id: int = 0
    ) -> list[Event]:
        """Report that the push WebSocket is open; queues the enter-room frame (SPEC.md §4.5).

        Heartbeats then fall due every ``heartbeat_interval`` (the constructor's override, else
        ``ping_interval``, else :data:`DEFAULT_HEARTBEAT_INTERVAL`, SPEC.md §4.4), the first one
        interval after ``now``.

        Args:
            now: the current time.
            ping_interval: the ``ping-interval`` of the handshake's ``Handshake-Options`` header, in
                seconds (SPEC.md §2.5), if the server sent one.
            enter_unique_id: the enter-room's per-enter id ([C2] draws a random positive 63-bit
                number; the core draws none). 0 sends none.

        Returns:
            ``[WebSocketConnected(url=...)]``.

        Raises:
            LocalProtocolError: the state is not UPGRADING.
            TypeError, ValueError: ``ping_interval`` is not a positive number.
        """
        self._require("websocket_opened")
        check_duration("ping_interval", ping_interval, allow_none=True)
        interval = self._heartbeat_interval or ping_interval or DEFAULT_HEARTBEAT_INTERVAL
        self._outbox.put([codec.encode_enter_room(self._room_id, enter_unique_id=enter_unique_id)])
        self._socket = SocketClocks(
            heartbeat=HeartbeatSchedule(interval=interval, opened_at=now),
            liveness=LivenessTimer(timeout=self._liveness_timeout, now=now),
        )
        self._transition(Input.WEBSOCKET_OPENED)
        url, self._upgrade_url = self._upgrade_url, ""  # not kept for the socket's life (~1 KiB)
        return [WebSocketConnected(url=url)]

    def receive_ws_message(self, data: bytes, now: float) -> list[Event]:
        """Feed one binary WebSocket message (one push frame, SPEC.md §4).

        A ``msg`` frame's messages become events (duplicates dropped) and, when its fetch result has
        ``need_ack``, an ack is queued (SPEC.md §4.3). ``hb``, ``im_enter_room_resp`` and ``close``
        frames only count as signs of life; other payload types give a ``ProtocolWarning``.

        Args:
            data: the message bytes.
            now: the current time; resets the liveness timeout.

        Returns:
            The events, in order; a stream end gives ``StreamEnd`` then ``Disconnected`` (reason
            ``"stream_end"``) and state ENDED, and messages after it in the frame are dropped.

        Raises:
            LocalProtocolError: the state is not STREAMING, or ``data_to_send()`` has not been drained
                and the ack would pass ``limits.max_pending_bytes`` (then nothing was consumed).
            RemoteProtocolError: the frame or its payload is invalid or over a limit; the state is
                then DISCONNECTED.
        """
        self._require("receive_ws_message")
        assert self._socket is not None  # STREAMING always has a socket
        self._socket.liveness.heard(now)
        try:
            frame = codec.parse_push_frame(data, limits=self._limits)
            handler = _FRAME_HANDLERS.get(frame.payload_type, ClientConnection._on_unknown_frame)
            outbound, events = handler(self, frame)
        except RemoteProtocolError as exc:
            self._peer_error(exc)
        self._outbox.put(outbound)  # on a stream end too: the final frame is acked like any other
        if events and isinstance(events[-1], StreamEnd):  # sift() stops at a stream end
            self._end_stream(events)
        else:
            self._transition(Input.FRAME_RECEIVED)
        return events

    def _on_msg_frame(self, frame: pb.WebcastPushFrame) -> tuple[list[bytes], list[Event]]:
        result, size = codec.fetch_result_with_size(frame, limits=self._limits)
        # SPEC.md §4.2: current peers use the fetch result's fields; the frame headers say the same
        # and stand in when the result leaves them empty (read only then: most frames never need them).
        internal_ext, cursor = result.internal_ext, result.cursor
        if not internal_ext or not cursor:
            headers = codec.frame_headers(frame)
            internal_ext = internal_ext or headers.get(codec.HEADER_IM_INTERNAL_EXT, "")
            cursor = cursor or headers.get(codec.HEADER_IM_CURSOR, "")
        outbound = [codec.encode_ack(frame.log_id, internal_ext)] if result.need_ack else []
        if outbound and len(outbound[0]) > self._limits.max_pending_bytes:
            # The ack echoes the server's internal_ext (SPEC.md §4.3): its size is the peer's doing.
            raise RemoteProtocolError(
                f"an ack of {len(outbound[0])} bytes is over max_pending_bytes="
                f"{self._limits.max_pending_bytes}",
                close_code=1009,
            )
        self._outbox.check_room(outbound)  # before anything is consumed, so a refusal loses nothing
        self._remember_position(cursor, internal_ext)
        events: list[Event] = []
        self._sieve.sift(result.messages, events, body_size=size)
        return outbound, events

    def _on_quiet_frame(self, frame: pb.WebcastPushFrame) -> tuple[list[bytes], list[Event]]:
        return [], []

    def _on_unknown_frame(self, frame: pb.WebcastPushFrame) -> tuple[list[bytes], list[Event]]:
        # SPEC.md §4.1: only msg frames carry events; an unknown type is the server's business.
        return [], [ProtocolWarning(message=f"ignored push frame of payload_type {frame.payload_type!r}")]

    def websocket_closed(self, now: float, code: int | None = None) -> list[Event]:
        """Report that the WebSocket closed, or failed to open (state UPGRADING).

        Not to be called after the connection itself gave up on the socket (a ``RemoteProtocolError``,
        a timeout, a stream end): it is already DISCONNECTED or ENDED then, and just needs closing.

        Args:
            now: the current time.
            code: the close code, if there was a close frame (SPEC.md §4.6).

        Returns:
            ``[Disconnected(reason="closed" or "upgrade_failed", code=code)]``; the state is
            DISCONNECTED and ``start()`` resumes.

        Raises:
            LocalProtocolError: the state is not UPGRADING or STREAMING.
        """
        self._require("websocket_closed")
        reason = "upgrade_failed" if self._state is State.UPGRADING else "closed"
        self._leave(Input.WEBSOCKET_CLOSED)
        return [Disconnected(reason=reason, code=code)]

    def next_deadline(self) -> float | None:
        """When ``tick`` next has something to do. Legal in every state.

        Returns:
            Monotonic seconds, or ``None`` if nothing is timed. STREAMING: the next heartbeat or the
            liveness timeout, whichever is first. POLLING: the next poll, unless one is outstanding.
            Other states: ``None``.
        """
        match self._state:
            case State.STREAMING:
                assert self._socket is not None  # STREAMING always has a socket
                liveness = self._socket.liveness.deadline
                heartbeat = self._socket.heartbeat.next_due
                return heartbeat if liveness is None else min(heartbeat, liveness)
            case State.POLLING:
                return self._poll.deadline
            case State.IDLE | State.FETCHING | State.UPGRADING | State.DISCONNECTED | State.ENDED:
                return None
            case _:
                assert_never(self._state)

    def tick(self, now: float) -> list[Event]:
        """Fire whatever is due at ``now``. Legal in every state; early or repeated calls are harmless.

        STREAMING: after ``liveness_timeout`` seconds without any frame, ``[Disconnected(reason=
        "timeout")]`` and state DISCONNECTED (close the socket; don't report the close); otherwise a
        due heartbeat is queued for ``data_to_send()``. POLLING: a due poll becomes the request
        handed out by ``request_to_send()``.

        Args:
            now: the current time.

        Returns:
            The events (only ever the timeout's ``Disconnected``).

        Raises:
            LocalProtocolError: ``data_to_send()`` has not been drained and the heartbeat would pass
                ``limits.max_pending_bytes``.
        """
        match self._state:
            case State.STREAMING:
                assert self._socket is not None  # STREAMING always has a socket
                if self._socket.liveness.has_expired(now):
                    self._leave(Input.TIMEOUT)
                    return [Disconnected(reason="timeout")]
                seq_id = self._socket.heartbeat.take_due(now)
                if seq_id is not None:
                    self._outbox.put([codec.encode_heartbeat(self._room_id, seq_id)])
                    self._transition(Input.HEARTBEAT_DUE)
                return []
            case State.POLLING:
                if self._poll.take_due(now):
                    self._pending_request = self._fetch_request()
                    self._transition(Input.POLL_DUE)
                return []
            case State.IDLE | State.FETCHING | State.UPGRADING | State.DISCONNECTED | State.ENDED:
                return []
            case _:
                assert_never(self._state)

    def data_to_send(self) -> list[bytes]:
        """Drain the queued outgoing WebSocket messages (enter-room, acks, heartbeats), in order.

        Legal in every state. Each item is one binary WebSocket message.

        Returns:
            The messages; empty when nothing is queued.
        """
        return self._outbox.drain()

    def _remember_position(self, cursor: str, internal_ext: str) -> None:
        # SPEC.md §5: overwrite only with non-empty values.
        if cursor:
            self._cursor = cursor
        if internal_ext:
            self._internal_ext = internal_ext

    def _end_stream(self, events: list[Event]) -> None:
        # SPEC.md §1.9, §8: stream end → StreamEnd, then disconnect, for good.
        self._leave(Input.STREAM_END)
        events.append(Disconnected(reason="stream_end", retryable=False))


_FRAME_HANDLERS: Final[Mapping[str, _FrameHandler]] = MappingProxyType(
    {
        codec.PAYLOAD_TYPE_MSG: ClientConnection._on_msg_frame,
        codec.PAYLOAD_TYPE_HEARTBEAT: ClientConnection._on_quiet_frame,
        codec.PAYLOAD_TYPE_ENTER_ROOM_RESP: ClientConnection._on_quiet_frame,
        codec.PAYLOAD_TYPE_CLOSE: ClientConnection._on_quiet_frame,
    }
)
"""Push frame handlers by ``payload_type`` (SPEC.md §4.1); any other type is ``_on_unknown_frame``."""
