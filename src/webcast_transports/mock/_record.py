"""What clients sent the mock server: every HTTP request and every decoded WebSocket message.

The server thread appends records; tests and tools read them from any thread (:class:`Recorder` is
locked) and can block until something arrives (:meth:`Recorder.wait_for`). Records keep the raw values
tests need to assert on (a session id, an API key), but their ``repr`` — and therefore every log line,
which is built from it — shows secrets as ``<redacted>`` (SPEC.md §10: never log session ids or keys).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = [
    "Ack",
    "ChatSent",
    "ClientFrame",
    "EnterRoom",
    "Heartbeat",
    "HttpRecord",
    "Record",
    "Recorder",
    "UnknownFrame",
    "Violation",
    "WsClosed",
    "WsOpened",
    "is_secret_cookie",
    "redact_cookie_header",
]

_log = logging.getLogger("webcast.mock")

# Header names whose whole value is a secret (sign-server keys, forwarded cookie strings).
_SECRET_HEADERS = frozenset({"x-api-key", "x-jwt-key", "x-oauth-token"})
# Headers holding cookies: shown with the secret cookies' values redacted.
_COOKIE_HEADERS = frozenset({"cookie", "x-cookie-header"})
# Query parameters whose value is a secret ([C2] `apiKey`, [TL] `session_id`, SPEC.md §2.6).
_SECRET_PARAMS = frozenset({"apikey", "api_key", "session_id", "sessionid", "x-api-key"})
REDACTED = "<redacted>"

# A test run records a few thousand items; a long `python -m webcast_transports.mock` session keeps
# only this many recent ones, so a server left running does not grow without bound.
DEFAULT_MAX_RECORDS = 100_000


def is_secret_cookie(name: str) -> bool:
    """Whether a cookie holds a session secret: ``sessionid``, ``sessionid_ss``, ``sid_tt``, ``sid_guard``."""
    lowered = name.lower()
    return lowered.startswith(("sessionid", "sid_"))


def redact_cookie_header(value: str) -> str:
    """A ``Cookie`` header value with the secret cookies' values replaced by ``<redacted>``."""
    items = []
    for item in value.split(";"):
        name, sep, _ = item.strip().partition("=")
        items.append(f"{name}={REDACTED}" if sep and is_secret_cookie(name) else item.strip())
    return "; ".join(items)


def _redact_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    shown = []
    for name, value in headers:
        if name in _SECRET_HEADERS:
            value = REDACTED
        elif name in _COOKIE_HEADERS:
            value = redact_cookie_header(value)
        shown.append((name, value))
    return tuple(shown)


def _redact_query(query: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((k, REDACTED if k.lower() in _SECRET_PARAMS else v) for k, v in query)


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """The base of every record.

    Attributes:
        at: seconds since the server started (monotonic).
        connection_id: the TCP connection it came over (``0`` when none, e.g. a scenario event).
        room_id: the room it concerns, when known (else ``0``).
    """

    at: float
    connection_id: int = 0
    room_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRecord(Record):
    """One HTTP request and the status the server answered (``101`` for an accepted WebSocket).

    Attributes:
        method: ``"GET"``, ``"POST"`` …
        path: the path without the query, percent-decoding left to the route.
        query: the query parameters, decoded, in order.
        headers: the request headers, names lower-cased, in order.
        body: the request body.
        route: the name of the route that answered (``"not_found"`` when none matched).
        status: the HTTP status sent back.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    route: str = ""
    status: int = 0

    def param(self, name: str) -> str | None:
        """The first query parameter called ``name``, or ``None``."""
        return next((v for k, v in self.query if k == name), None)

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or ``None``."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k == lowered), None)

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies of the ``Cookie`` headers (raw values: secrets included)."""
        jar: dict[str, str] = {}
        for name, value in self.headers:
            if name == "cookie":
                for item in value.split(";"):
                    key, sep, val = item.strip().partition("=")
                    if sep:
                        jar[key] = val
        return jar

    def __repr__(self) -> str:
        return (
            f"HttpRecord(at={self.at:.3f}, connection_id={self.connection_id}, room_id={self.room_id}, "
            f"method={self.method!r}, path={self.path!r}, query={_redact_query(self.query)!r}, "
            f"headers={_redact_headers(self.headers)!r}, body=<{len(self.body)} bytes>, "
            f"route={self.route!r}, status={self.status})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WsOpened(Record):
    """A WebSocket upgrade was accepted.

    Attributes:
        path: the request path.
        query: the query parameters (route params, ws params …), in order.
        subprotocol: the subprotocol echoed back (``echo-protocol`` for [S] and [TL]), or ``None``.
        compress: whether this socket's ``msg`` frames are gzip'd (``compress=gzip``, SPEC.md §4.2).
        resumed_from: the cursor position the socket started after (replaying what came later).
    """

    path: str
    query: tuple[tuple[str, str], ...] = ()
    subprotocol: str | None = None
    compress: bool = True
    resumed_from: int = 0

    def param(self, name: str) -> str | None:
        """The first query parameter called ``name``, or ``None``."""
        return next((v for k, v in self.query if k == name), None)

    def __repr__(self) -> str:
        return (
            f"WsOpened(at={self.at:.3f}, connection_id={self.connection_id}, room_id={self.room_id}, "
            f"path={self.path!r}, query={_redact_query(self.query)!r}, subprotocol={self.subprotocol!r}, "
            f"compress={self.compress}, resumed_from={self.resumed_from})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WsClosed(Record):
    """A WebSocket ended.

    Attributes:
        code: the close code (``None`` when the TCP connection just went away).
        reason: the close reason.
        initiator: ``"client"``, ``"server"`` (a scenario's close or stream end, or shutdown) or
            ``"drop"`` (the server cut the connection, e.g. the drop-mid-frame fault).
    """

    code: int | None = None
    reason: str = ""
    initiator: str = "client"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientFrame(Record):
    """The base of the records decoded from a client's push frames (SPEC.md §4).

    Attributes:
        log_id: the frame's ``log_id`` (0 when unset).
        raw: the whole WebSocket message as received.
    """

    log_id: int = 0
    raw: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterRoom(ClientFrame):
    """An ``im_enter_room`` frame (SPEC.md §4.5), every field as sent."""

    enter_room_id: int = 0
    room_tag: str = ""
    live_region: str = ""
    live_id: int = 0
    identity: str = ""
    cursor: str = ""
    account_type: int = 0
    enter_unique_id: int = 0
    filter_welcome_msg: str = ""
    is_anchor_continue_keep_msg: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat(ClientFrame):
    """An ``hb`` frame (SPEC.md §4.4).

    Attributes:
        hb_room_id: the ``HeartBeatMessage.room_id`` (0 in the bare [S]/[V1] frame).
        send_packet_seq_id: 1, 2, 3 … per enter-room (0 in the bare frame).
        is_bare: the frame had no payload (the fixed bytes ``3A 02 68 62`` of [S]/[V1]).
    """

    hb_room_id: int = 0
    send_packet_seq_id: int = 0
    is_bare: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack(ClientFrame):
    """An ``ack`` frame (SPEC.md §4.3).

    Attributes:
        payload: the UTF-8 payload as sent: the acknowledged frame's ``internal_ext`` ([C2], [TL]),
            ``-`` for an empty one ([TL]), or ``""`` ([S]/[V1] send none).
        is_valid: the server sent a ``msg`` frame with this ``log_id`` on this socket and the payload
            matches its ``internal_ext`` (or is absent, [S]/[V1] style).
    """

    payload: str = ""
    is_valid: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownFrame(ClientFrame):
    """A client frame of another ``payload_type``, or a text message (``payload_type`` ``"<text>"``)."""

    payload_type: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation(Record):
    """The client broke the protocol: undecodable frame, ack of an unknown log id, wrong room id …

    Attributes:
        message: what was expected and what arrived.
        close_code: the WebSocket close code a strict server sends for it.
    """

    message: str
    close_code: int = 1002


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatSent(Record):
    """A chat message sent through ``/webcast/room/chat/`` or a sign-server chat route (SPEC.md §10).

    Attributes:
        content: the text.
        session_id: the session cookie (or header) the request carried, ``None`` without one. Shown
            as ``<redacted>`` in the ``repr``.
        route: the route it came through.
        accepted: whether the server accepted it (a session was present and valid).
    """

    content: str
    session_id: str | None = None
    route: str = ""
    accepted: bool = False

    def __repr__(self) -> str:
        session = None if self.session_id is None else REDACTED
        return (
            f"ChatSent(at={self.at:.3f}, connection_id={self.connection_id}, room_id={self.room_id}, "
            f"content={self.content!r}, session_id={session}, route={self.route!r}, "
            f"accepted={self.accepted})"
        )


R = TypeVar("R", bound=Record)


class Recorder:
    """A thread-safe, bounded list of records, with waiting.

    Args:
        max_records: how many records to keep; older ones are dropped first.
    """

    def __init__(self, *, max_records: int = DEFAULT_MAX_RECORDS) -> None:
        self._records: collections.deque[Record] = collections.deque(maxlen=max_records)
        self._changed = threading.Condition()

    def add(self, record: Record) -> None:
        """Append a record (called by the server) and wake the waiters."""
        with self._changed:
            self._records.append(record)
            self._changed.notify_all()
        _log.debug("%r", record)

    def all(self) -> list[Record]:
        """Every record kept, oldest first."""
        with self._changed:
            return list(self._records)

    def of(self, kind: type[R], *, room_id: int | None = None) -> list[R]:
        """The records of one type (subclasses included), optionally of one room, oldest first."""
        with self._changed:
            return [
                r for r in self._records if isinstance(r, kind) and (room_id is None or r.room_id == room_id)
            ]

    def clear(self) -> None:
        """Forget everything recorded so far."""
        with self._changed:
            self._records.clear()

    def wait_for(
        self,
        kind: type[R],
        *,
        count: int = 1,
        where: Callable[[R], bool] | None = None,
        timeout: float = 5.0,
    ) -> list[R]:
        """Block until at least ``count`` records of ``kind`` (matching ``where``) exist.

        Args:
            kind: the record type to wait for.
            count: how many are needed.
            where: an extra filter.
            timeout: seconds to wait at most.

        Returns:
            All matching records (at least ``count``), oldest first.

        Raises:
            TimeoutError: if they did not arrive in time; the message says how many did.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [r for r in self._records if isinstance(r, kind) and (where is None or where(r))]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"waited {timeout} s for {count} {kind.__name__} record(s), got {len(found)}"
                    )
                self._changed.wait(remaining)
