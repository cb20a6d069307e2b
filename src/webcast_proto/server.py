"""The server side of one WebCast session: :class:`ServerConnection`, the client's mirror image.

It serves the mock server (``webcast_transports.mock``), fixtures and tests, and protocol research.
It owns a room's message log and one client's view of it: it builds im/fetch bodies and ``msg`` push
frames from the log (SPEC.md §2.4, §4.1), assigning offsets, cursors, ``internal_ext``, log ids and seq
ids, and it checks everything the client sends on the socket: acks (a log id it is owed, the right
``internal_ext``, SPEC.md §4.3), heartbeats (the room, an increasing ``send_packet_seq_id``, §4.4) and
enter-room (the room, §4.5). A misbehaving client gets a :class:`~webcast_proto.RemoteProtocolError`
whose ``close_code`` is what the socket should be closed with; what it sent correctly is recorded.

Cursors are ``t-{server ms}_r-{offset}_d-1_u-1`` (the shape of SPEC.md §5's example), where ``offset``
is the log position of the next message to deliver, so a resumed client gets exactly what it missed.
Pure like the rest of the core: the server's clock (``server_time_ms``, the result's ``now``) is an
argument, and every collection is bounded.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypeAlias
from urllib.parse import parse_qs, urlsplit

from webcast_proto import codec
from webcast_proto._errors import RemoteProtocolError
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto._timers import check_positive_int
from webcast_proto.config import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from webcast_proto.http import Request

__all__ = [
    "CLOSE_POLICY_VIOLATION",
    "CLOSE_PROTOCOL_ERROR",
    "DEFAULT_INITIAL_MESSAGES",
    "DEFAULT_MAX_HISTORY",
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_MAX_UNACKED",
    "DEFAULT_PUSH_SERVER",
    "ClientFrame",
    "ReceivedAck",
    "ReceivedEnterRoom",
    "ReceivedFetch",
    "ReceivedHeartbeat",
    "ServerConnection",
]

# RFC 6455 §7.4.1: 1002 for frames that do not parse (the codec's default), 1008 for valid frames
# that break the session's rules (a wrong room, an ack nobody is owed, a heartbeat seq going back).
CLOSE_PROTOCOL_ERROR: Final = 1002
CLOSE_POLICY_VIOLATION: Final = 1008

# SPEC.md §2.1's push server.
DEFAULT_PUSH_SERVER: Final = "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/"

# A first fetch (empty cursor) carries recent history as initial data (SPEC.md §1.5); [TL]/[C2] ask
# for history_comment_count=6 comments, and other message kinds come along: 50 is a realistic batch.
DEFAULT_INITIAL_MESSAGES: Final = 50

# The log kept for resumes: at ~200 messages/s, 100,000 messages are ~8 min, longer than any
# reconnect, at ~0.5 KiB each (~50 MiB) for a busy mock room.
DEFAULT_MAX_HISTORY: Final = 100_000

# Client frames recorded for tests and research: a heartbeat every 5 s and an ack per frame make a
# few per second; 100,000 covers hours of a session.
DEFAULT_MAX_RECORDS: Final = 100_000

# Frames remembered per socket to check acks against: a client acks each at once (SPEC.md §4.3), so
# only the last few matter; past 10,000 the oldest is forgotten (its late ack is refused as unknown).
DEFAULT_MAX_UNACKED: Final = 10_000

# The first log id handed out: 19 digits, like TikTok's, above 2**53 so precision loss shows.
_FIRST_LOG_ID: Final = 7_460_000_000_000_000_001

_CURSOR_OFFSET = re.compile(r"(?:^|_)r-(\d+)(?:_|$)")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedAck:
    """An ack the client sent (SPEC.md §4.3): the acknowledged frame's ``log_id`` and ``internal_ext``."""

    log_id: int
    internal_ext: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedHeartbeat:
    """A heartbeat the client sent (SPEC.md §4.4)."""

    room_id: int
    seq_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedEnterRoom:
    """An enter-room the client sent (SPEC.md §4.5)."""

    room_id: int
    cursor: str = ""
    enter_unique_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedFetch:
    """An im/fetch request the client made (SPEC.md §2.4): where it asked to continue from."""

    cursor: str
    internal_ext: str


ClientFrame: TypeAlias = "ReceivedAck | ReceivedHeartbeat | ReceivedEnterRoom"
"""What one WebSocket message from the client was."""

_Record: TypeAlias = "ClientFrame | ReceivedFetch"


class ServerConnection:
    """One room's message log, served to one client by fetch and push, checking what it sends.

    Args:
        room_id: the room served; requests and frames naming another room are refused.
        push_server: the WebSocket URL a first fetch offers; ``""`` offers none (polling only).
        route_params: the opaque params offered with it (SPEC.md §3.3).
        need_ack: whether ``msg`` frames ask for an ack.
        compress: whether ``msg`` frames are gzip'd (SPEC.md §4.2).
        fetch_interval_ms: the polling period suggested in fetch results (SPEC.md §5).
        heartbeat_duration_ms: the result's ``heartbeat_duration`` (no peer reads it, SPEC.md §4.4).
        initial_messages: how much history a first fetch (empty cursor) carries.
        limits: bounds on what the client sends (frame size).
        max_history: messages kept for resumes; older ones are forgotten.
        max_records: client frames and fetches recorded; older records are forgotten.
        max_unacked: frames remembered to check acks against; past it the oldest is forgotten.

    Raises:
        TypeError, ValueError: an argument has the wrong type or is out of range.
    """

    def __init__(
        self,
        *,
        room_id: int,
        push_server: str = DEFAULT_PUSH_SERVER,
        route_params: Mapping[str, str] | None = None,
        need_ack: bool = True,
        compress: bool = True,
        fetch_interval_ms: int = 1000,
        heartbeat_duration_ms: int = 10_000,
        initial_messages: int = DEFAULT_INITIAL_MESSAGES,
        limits: Limits = DEFAULT_LIMITS,
        max_history: int = DEFAULT_MAX_HISTORY,
        max_records: int = DEFAULT_MAX_RECORDS,
        max_unacked: int = DEFAULT_MAX_UNACKED,
    ) -> None:
        check_positive_int("room_id", room_id)
        for name, value in (
            ("max_history", max_history),
            ("max_records", max_records),
            ("max_unacked", max_unacked),
        ):
            check_positive_int(name, value)
        if initial_messages < 0 or fetch_interval_ms < 0 or heartbeat_duration_ms < 0:
            raise ValueError("initial_messages, fetch_interval_ms and heartbeat_duration_ms must be >= 0")
        self._room_id = room_id
        self._push_server = push_server
        self._route_params = dict({"imprp": "mock"} if route_params is None else route_params)
        self._need_ack = need_ack
        self._compress = compress
        self._fetch_interval_ms = fetch_interval_ms
        self._heartbeat_duration_ms = heartbeat_duration_ms
        self._initial_messages = initial_messages
        self._limits = limits
        self._max_unacked = max_unacked

        self._log: deque[pb.BaseProtoMessage] = deque(maxlen=max_history)
        self._first_offset = 0  # the offset of _log[0]
        self._position = 0  # the next offset this client is pushed
        self._results = 0  # fetch results made: numbers internal_ext's seq
        self._next_log_id = _FIRST_LOG_ID
        self._next_seq_id = 1
        self._acks_owed: dict[int, str] = {}  # log id → the internal_ext its ack must carry
        self._unacked: set[int] = set()  # those log ids whose ack has not come yet
        self._last_heartbeat_seq = 0
        self._records: deque[_Record] = deque(maxlen=max_records)

    # ----------------------------------------------------------------------------------------
    # The room's log
    # ----------------------------------------------------------------------------------------

    @property
    def room_id(self) -> int:
        """The room served."""
        return self._room_id

    @property
    def next_offset(self) -> int:
        """The offset the next published message gets (= how many were ever published)."""
        return self._first_offset + len(self._log)

    @property
    def position(self) -> int:
        """The offset of the next message :meth:`message_frame` pushes to this client."""
        return self._position

    def publish(self, messages: Iterable[pb.BaseProtoMessage]) -> None:
        """Append messages to the room's log, in order; clients get them by fetch or push.

        Past ``max_history`` the oldest messages are forgotten (offsets keep counting).

        Args:
            messages: message envelopes (e.g. from :func:`webcast_proto.fixtures.wrap`).
        """
        for message in messages:
            if len(self._log) == self._log.maxlen:
                self._first_offset += 1  # the deque drops the oldest on append
            self._log.append(message)

    def _slice(self, start: int, stop: int) -> list[pb.BaseProtoMessage]:
        start = max(start, self._first_offset)  # forgotten history is lost, as for a real server
        return [self._log[i - self._first_offset] for i in range(start, stop)]

    def cursor_for(self, offset: int, server_time_ms: int = 0) -> str:
        """The cursor meaning "continue at ``offset``".

        Args:
            offset: a log offset.
            server_time_ms: the server's clock, only for the cursor's look.

        Returns:
            ``t-{server_time_ms}_r-{offset}_d-1_u-1``.
        """
        return f"t-{server_time_ms}_r-{offset}_d-1_u-1"

    def offset_of(self, cursor: str) -> int:
        """The log offset a cursor of ours points at.

        Args:
            cursor: a cursor from :meth:`cursor_for`.

        Returns:
            The offset (at most :attr:`next_offset`).

        Raises:
            RemoteProtocolError: ``cursor`` is not one of ours (``close_code`` 1008).
        """
        match = _CURSOR_OFFSET.search(cursor)
        if match is None:
            raise RemoteProtocolError(
                f"cursor {cursor[:100]!r} was not issued by this server", close_code=CLOSE_POLICY_VIOLATION
            )
        return min(int(match.group(1)), self.next_offset)

    def _result(
        self, messages: list[pb.BaseProtoMessage], *, stop: int, server_time_ms: int, is_first: bool
    ) -> pb.ProtoMessageFetchResult:
        self._results += 1
        return pb.ProtoMessageFetchResult(
            messages=messages,
            cursor=self.cursor_for(stop, server_time_ms),
            fetch_interval=self._fetch_interval_ms,
            now=server_time_ms,
            # The shape of SPEC.md §5's example: opaque to the client, echoed in acks and polls.
            internal_ext=(
                f"internal_src:dim|wss_push_room_id:{self._room_id}|fetch_time:{server_time_ms}"
                f"|seq:{self._results}"
            ),
            heartbeat_duration=self._heartbeat_duration_ms,
            is_first=is_first,
        )

    # ----------------------------------------------------------------------------------------
    # HTTP: im/fetch
    # ----------------------------------------------------------------------------------------

    def fetch_response(
        self, *, cursor: str = "", server_time_ms: int = 0, offer_websocket: bool = True, gzip: bool = False
    ) -> bytes:
        """The im/fetch body for a client continuing at ``cursor`` (SPEC.md §2.4, §5, §6.1).

        An empty cursor is a first fetch: the last ``initial_messages`` of the log as initial data,
        ``is_first`` set. Otherwise every message from the cursor on. Either way this client's push
        position moves to the end of the log, and the result offers the push server when
        ``offer_websocket`` (and one is configured). ``need_ack`` is off: an HTTP answer is not acked.

        Args:
            cursor: the client's cursor.
            server_time_ms: the server's clock (the result's ``now``).
            offer_websocket: offer the push server (``False``: a polling answer).
            gzip: gzip the body (clients accept both, SPEC.md §4.2).

        Returns:
            The body.

        Raises:
            RemoteProtocolError: ``cursor`` was not issued by this server.
        """
        stop = self.next_offset
        start = max(stop - self._initial_messages, 0) if not cursor else self.offset_of(cursor)
        result = self._result(
            self._slice(start, stop), stop=stop, server_time_ms=server_time_ms, is_first=not cursor
        )
        if offer_websocket and self._push_server:
            result.push_server = self._push_server
            result.route_params.update(self._route_params)
        self._position = stop
        body = codec.encode_fetch_result(result)
        return codec.gzip_compress(body) if gzip else body

    def handle_fetch_request(
        self, request: Request, *, server_time_ms: int = 0, offer_websocket: bool = True, gzip: bool = False
    ) -> bytes:
        """Check a client's im/fetch request (its room) and answer it with :meth:`fetch_response`.

        Args:
            request: the request as the client built it.
            server_time_ms, offer_websocket, gzip: as in :meth:`fetch_response`.

        Returns:
            The body.

        Raises:
            RemoteProtocolError: the request names another room or has a foreign cursor.
        """
        query = _query(request.url)
        self._check_room("fetch", query.get("room_id", ""))
        cursor = query.get("cursor", "")
        self._records.append(ReceivedFetch(cursor=cursor, internal_ext=query.get("internal_ext", "")))
        return self.fetch_response(
            cursor=cursor, server_time_ms=server_time_ms, offer_websocket=offer_websocket, gzip=gzip
        )

    # ----------------------------------------------------------------------------------------
    # WebSocket: what the server sends
    # ----------------------------------------------------------------------------------------

    def websocket_opened(self, url: str | None = None) -> None:
        """A client opened the push socket: start a new socket session.

        Acks owed on an earlier socket are forgotten and the heartbeat sequence restarts. With the
        URL, its room is checked and its ``cursor`` (SPEC.md §2.5, [C2]) sets the push position.

        Args:
            url: the URL the client opened, if known.

        Raises:
            RemoteProtocolError: the URL names another room or has a foreign cursor.
        """
        self._acks_owed.clear()
        self._unacked.clear()
        self._last_heartbeat_seq = 0
        if url is not None:
            query = _query(url)
            self._check_room("websocket", query.get("room_id", ""))
            if query.get("cursor"):
                self._position = self.offset_of(query["cursor"])

    def message_frame(
        self, *, count: int | None = None, start: int | None = None, server_time_ms: int = 0
    ) -> bytes:
        """A ``msg`` frame carrying log messages ``[start, start + count)`` (SPEC.md §4.1).

        By default it carries everything from this client's push position on; the position then
        moves past the last message carried (never back: replaying an old range, to test dedup or
        out-of-order delivery, leaves it alone). The result's cursor points after the range; the
        frame gets the next log id and seq id and, with ``need_ack``, is owed an ack.

        Args:
            count: how many messages at most (default: all up to the end of the log).
            start: the first offset (default: the push position).
            server_time_ms: the server's clock.

        Returns:
            The frame bytes.
        """
        first = self._position if start is None else start
        stop = self.next_offset if count is None else min(first + count, self.next_offset)
        result = self._result(
            self._slice(first, stop), stop=stop, server_time_ms=server_time_ms, is_first=False
        )
        result.need_ack = self._need_ack
        log_id = self._next_log_id
        self._next_log_id += 1
        seq_id = self._next_seq_id
        self._next_seq_id += 1
        if self._need_ack:
            self._acks_owed[log_id] = result.internal_ext
            self._unacked.add(log_id)
            if len(self._acks_owed) > self._max_unacked:
                forgotten = next(iter(self._acks_owed))
                del self._acks_owed[forgotten]
                self._unacked.discard(forgotten)
        self._position = max(self._position, stop)
        return codec.encode_message_frame(result, log_id=log_id, seq_id=seq_id, compress=self._compress)

    def heartbeat_frame(self) -> bytes:
        """An ``hb`` frame from the server (SPEC.md §4.1: the server may send them too).

        Returns:
            The frame bytes: a ``HeartBeatMessage`` naming the room.
        """
        payload = pb.HeartBeatMessage(room_id=self._room_id).SerializeToString()
        return codec.encode_push_frame(payload_type=codec.PAYLOAD_TYPE_HEARTBEAT, payload=payload)

    def enter_room_response_frame(self) -> bytes:
        """An ``im_enter_room_resp`` frame (SPEC.md §4.1).

        Returns:
            The frame bytes, with an empty payload: the real content is unknown (SPEC.md §11).
        """
        return codec.encode_push_frame(payload_type=codec.PAYLOAD_TYPE_ENTER_ROOM_RESP)

    # ----------------------------------------------------------------------------------------
    # WebSocket: what the client sends
    # ----------------------------------------------------------------------------------------

    @property
    def pending_acks(self) -> frozenset[int]:
        """The log ids of frames sent on this socket whose ack has not come."""
        return frozenset(self._unacked)

    def receive_client_message(self, data: bytes) -> ClientFrame:
        """Check and record one WebSocket message from the client.

        Args:
            data: the message bytes (one push frame).

        Returns:
            What it was.

        Raises:
            RemoteProtocolError: it does not parse (``close_code`` 1002, or 1009 when too large), or
                it breaks the session's rules (1008): an unexpected ``payload_type``, another room, an
                ack for a frame not owed one or with the wrong ``internal_ext``, a heartbeat whose
                ``send_packet_seq_id`` does not increase. Nothing is recorded then.
        """
        frame = codec.parse_push_frame(data, limits=self._limits)
        handler = _CLIENT_HANDLERS.get(frame.payload_type)
        if handler is None:
            raise RemoteProtocolError(
                f"client sent a push frame of payload_type {frame.payload_type!r}; "
                f"expected one of {sorted(_CLIENT_HANDLERS)}",
                close_code=CLOSE_POLICY_VIOLATION,
            )
        received = handler(self, frame)
        self._records.append(received)
        return received

    def _on_ack(self, frame: pb.WebcastPushFrame) -> ClientFrame:
        internal_ext = codec.parse_ack(frame.payload)
        expected = self._acks_owed.get(frame.log_id)
        if expected is None:
            raise RemoteProtocolError(
                f"ack for log_id {frame.log_id}, which no frame on this socket asked for",
                close_code=CLOSE_POLICY_VIOLATION,
            )
        if internal_ext != expected:
            raise RemoteProtocolError(
                f"ack for log_id {frame.log_id} carries internal_ext {internal_ext[:100]!r}, "
                f"expected {expected[:100]!r}",
                close_code=CLOSE_POLICY_VIOLATION,
            )
        # A repeated ack is fine: a frame the server sent twice is acked twice.
        self._unacked.discard(frame.log_id)
        return ReceivedAck(log_id=frame.log_id, internal_ext=internal_ext)

    def _on_heartbeat(self, frame: pb.WebcastPushFrame) -> ClientFrame:
        heartbeat = codec.parse_heartbeat(frame.payload)
        self._check_room("heartbeat", str(heartbeat.room_id))
        if heartbeat.send_packet_seq_id <= self._last_heartbeat_seq:
            raise RemoteProtocolError(
                f"heartbeat send_packet_seq_id {heartbeat.send_packet_seq_id} does not increase "
                f"(last {self._last_heartbeat_seq})",
                close_code=CLOSE_POLICY_VIOLATION,
            )
        self._last_heartbeat_seq = heartbeat.send_packet_seq_id
        return ReceivedHeartbeat(room_id=heartbeat.room_id, seq_id=heartbeat.send_packet_seq_id)

    def _on_enter_room(self, frame: pb.WebcastPushFrame) -> ClientFrame:
        enter = codec.parse_enter_room(frame.payload)
        self._check_room("enter-room", str(enter.room_id))
        self._last_heartbeat_seq = 0  # SPEC.md §4.4: the sequence restarts at 1 on each enter-room
        return ReceivedEnterRoom(
            room_id=enter.room_id, cursor=enter.cursor, enter_unique_id=enter.enter_unique_id
        )

    def _check_room(self, what: str, room_id: str) -> None:
        if room_id != str(self._room_id):
            raise RemoteProtocolError(
                f"{what} for room {room_id[:30]!r}, this server serves room {self._room_id}",
                close_code=CLOSE_POLICY_VIOLATION,
            )

    # ----------------------------------------------------------------------------------------
    # Records
    # ----------------------------------------------------------------------------------------

    @property
    def received(self) -> tuple[ClientFrame, ...]:
        """Every valid WebSocket message the client sent, in order (the last ``max_records``)."""
        return tuple(r for r in self._records if not isinstance(r, ReceivedFetch))

    @property
    def acks(self) -> tuple[ReceivedAck, ...]:
        """The acks received, in order."""
        return tuple(r for r in self._records if isinstance(r, ReceivedAck))

    @property
    def heartbeats(self) -> tuple[ReceivedHeartbeat, ...]:
        """The heartbeats received, in order."""
        return tuple(r for r in self._records if isinstance(r, ReceivedHeartbeat))

    @property
    def enter_rooms(self) -> tuple[ReceivedEnterRoom, ...]:
        """The enter-room messages received, in order."""
        return tuple(r for r in self._records if isinstance(r, ReceivedEnterRoom))

    @property
    def fetches(self) -> tuple[ReceivedFetch, ...]:
        """The im/fetch requests handled by :meth:`handle_fetch_request`, in order."""
        return tuple(r for r in self._records if isinstance(r, ReceivedFetch))


def _query(url: str) -> dict[str, str]:
    """A URL's query as a dict; a repeated key keeps its first value.

    Raises:
        RemoteProtocolError: the client's URL does not parse (``urlsplit`` refuses e.g. ``http://[x``).
    """
    try:
        query = urlsplit(url).query
    except ValueError as exc:
        raise RemoteProtocolError(f"unparsable request URL: {exc}") from None
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


_CLIENT_HANDLERS: Final[Mapping[str, Callable[[ServerConnection, pb.WebcastPushFrame], ClientFrame]]] = (
    MappingProxyType(
        {
            codec.PAYLOAD_TYPE_ACK: ServerConnection._on_ack,
            codec.PAYLOAD_TYPE_HEARTBEAT: ServerConnection._on_heartbeat,
            codec.PAYLOAD_TYPE_ENTER_ROOM: ServerConnection._on_enter_room,
        }
    )
)
"""Client frame handlers by ``payload_type`` (SPEC.md §4.1: ack, hb, im_enter_room)."""
