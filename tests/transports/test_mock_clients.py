"""Plain loopback clients the mock-server tests drive it with, and their own sanity tests.

Independent of webcast's client (a later issue): HTTP through httpcore, WebSocket over a bare
``socket`` with wsproto's client handshake and framing. Everything is closed explicitly, as the
suite turns ResourceWarnings into errors.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

import httpcore
import wsproto
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from webcast_proto import codec

if TYPE_CHECKING:
    from webcast_proto._pb import webcast_pb2 as pb

__all__ = ["Closed", "HandshakeRefused", "Reply", "WsClient", "first_fetch", "get", "open_socket", "post"]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value

    def fetch_result(self) -> pb.ProtoMessageFetchResult:
        return codec.parse_fetch_result(self.body)


def _request(method: str, url: str, headers: dict[str, str] | None, body: bytes) -> Reply:
    response = httpcore.request(method, url, headers=list((headers or {}).items()), content=body)
    pairs = {k.decode().lower(): v.decode() for k, v in response.headers}
    return Reply(response.status, pairs, response.content)


def get(url: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Reply:
    """``GET url?params``."""
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
    return _request("GET", url, headers, b"")


def post(
    url: str,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    json_body: object = None,
) -> Reply:
    """``POST url?params`` with a raw or JSON body."""
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers = {"content-type": "application/json", **(headers or {})}
    return _request("POST", url, headers, body)


class HandshakeRefused(Exception):  # named for what happened, like wsproto's events
    """The server answered the WebSocket handshake with something other than 101."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__(f"handshake refused with {status}: {headers.get('handshake-msg')!r}")
        self.status = status
        self.headers = headers
        self.body = body


@dataclass
class Closed:
    """How the socket ended: a close frame (``code``) or the TCP connection going away (``None``)."""

    code: int | None
    reason: str = ""


@dataclass
class WsClient:
    """A blocking WebSocket client on a bare socket (wsproto client handshake and framing).

    ``messages`` collects every binary message received; ``closed`` is set once it ended.
    """

    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    subprotocols: tuple[str, ...] = ()
    timeout: float = 5.0
    messages: list[bytes] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    pings: int = 0
    pongs: int = 0
    closed: Closed | None = None
    accept_headers: dict[str, str] = field(default_factory=dict)
    subprotocol: str | None = None
    initial: list[pb.BaseProtoMessage] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        assert parts.hostname is not None
        assert parts.port is not None
        target = parts.path + ("?" + parts.query if parts.query else "")
        if self.params:
            target += ("&" if "?" in target else "?") + urlencode(self.params)
        self._sock = socket.create_connection((parts.hostname, parts.port), timeout=self.timeout)
        self._ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self._buffer = bytearray()
        self._pending: list[Event] = []
        try:
            self._handshake(f"{parts.hostname}:{parts.port}", target)
        except BaseException:
            self._sock.close()
            raise

    def _handshake(self, host: str, target: str) -> None:
        request = Request(
            host=host,
            target=target,
            extra_headers=[(k.encode(), v.encode()) for k, v in self.headers.items()],
            subprotocols=list(self.subprotocols),
        )
        self._sock.sendall(self._ws.send(request))
        reject: RejectConnection | None = None
        body = bytearray()
        while True:
            events = self._events()
            for index, event in enumerate(events):
                if isinstance(event, AcceptConnection):
                    self.accept_headers = {k.decode().lower(): v.decode() for k, v in event.extra_headers}
                    self.subprotocol = event.subprotocol
                    self._pending.extend(events[index + 1 :])  # frames that came with the 101
                    return
                if isinstance(event, RejectConnection):
                    reject = event
                    if not event.has_body:
                        break
                elif isinstance(event, RejectData):
                    body += event.data
                    if event.body_finished:
                        break
                else:
                    self._pending.append(event)
            else:
                continue
            assert reject is not None
            headers = {k.decode().lower(): v.decode() for k, v in reject.headers}
            raise HandshakeRefused(reject.status_code, headers, bytes(body))

    def _events(self) -> list[Event]:
        data = self._sock.recv(65536)
        self._ws.receive_data(data or None)
        return list(self._ws.events())

    # -- sending ---------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Send one binary message."""
        self._sock.sendall(self._ws.send(Message(data=data)))

    def send_text(self, text: str) -> None:
        self._sock.sendall(self._ws.send(Message(data=text)))

    def ping(self, payload: bytes = b"hi") -> None:
        self._sock.sendall(self._ws.send(Ping(payload)))

    # -- receiving -------------------------------------------------------------------------------

    def _handle(self, event: Event) -> None:
        if isinstance(event, BytesMessage):
            self._buffer += event.data
            if event.message_finished:
                self.messages.append(bytes(self._buffer))
                self._buffer.clear()
        elif isinstance(event, TextMessage):
            self.texts.append(event.data)
        elif isinstance(event, CloseConnection):
            self.closed = Closed(event.code, event.reason or "")
            if self._ws.state is wsproto.connection.ConnectionState.REMOTE_CLOSING:
                self._sock.sendall(self._ws.send(event.response()))
        elif isinstance(event, Ping):
            self.pings += 1
        elif isinstance(event, Pong):
            self.pongs += 1

    def pump(self, timeout: float | None = None) -> bool:
        """Read once (up to ``timeout``); returns False when the connection is over."""
        if self._pending:  # events that arrived with the handshake answer
            while self._pending:
                self._handle(self._pending.pop(0))
            return self.closed is None
        if self.closed is not None:
            return False
        self._sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = Closed(None)
            return False
        self._ws.receive_data(data)
        for event in self._ws.events():
            self._handle(event)
        return self.closed is None

    def wait_messages(self, count: int, *, timeout: float | None = None) -> list[bytes]:
        """Read until ``count`` binary messages arrived (or the socket ended); returns them all."""
        import time

        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self.messages) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"got {len(self.messages)} of {count} messages")
            if not self.pump(remaining):
                break
        return self.messages

    def wait_closed(self, *, timeout: float | None = None) -> Closed:
        """Read (collecting messages) until the socket ends; returns how."""
        import time

        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while self.closed is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("socket still open")
            self.pump(remaining)
        return self.closed

    def frames(self) -> list[pb.WebcastPushFrame]:
        """The received messages as push frames."""
        return [codec.parse_push_frame(m) for m in self.messages]

    def results(self) -> list[pb.ProtoMessageFetchResult]:
        """The fetch results of the received ``msg`` frames."""
        return [codec.fetch_result_from_frame(f) for f in self.frames() if f.payload_type == "msg"]

    def received(self) -> list[pb.BaseProtoMessage]:
        """Every message envelope received in ``msg`` frames, in order."""
        return [m for r in self.results() for m in r.messages]

    def everything(self) -> list[pb.BaseProtoMessage]:
        """The first fetch's initial data (see :func:`open_socket`), then every message received."""
        return [*self.initial, *self.received()]

    def close(self, code: int = 1000) -> None:
        """Close politely (if still open) and release the socket."""
        try:
            if self._ws.state is wsproto.connection.ConnectionState.OPEN:
                self._sock.sendall(self._ws.send(CloseConnection(code=code)))
                self._sock.settimeout(1.0)
                while self.closed is None and self.pump(1.0):
                    pass
        except OSError:
            pass
        finally:
            self._sock.close()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame."""
        self._sock.close()

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def first_fetch(base_url: str, room_id: int, **params: str) -> pb.ProtoMessageFetchResult:
    """The first im/fetch of a room (no cursor): initial data, cursor, push server, route params."""
    return get(f"{base_url}/webcast/im/fetch/", params={"room_id": str(room_id), **params}).fetch_result()


def open_socket(
    base_url: str, room_id: int, *, compress: bool = True, subprotocols: tuple[str, ...] = (), **params: str
) -> WsClient:
    """First fetch, then open the push socket it offers, as the current peers do (SPEC.md §1)."""
    first = first_fetch(base_url, room_id)
    query = {**first.route_params, "room_id": str(room_id), **params}
    if compress:
        query["compress"] = "gzip"
    client = WsClient(first.push_server, params=query, subprotocols=subprotocols)
    client.initial = list(first.messages)
    return client


def test_reply_parses_json() -> None:
    """The helper's Reply decodes JSON bodies (the one piece of logic worth checking here)."""
    assert Reply(200, {}, b'{"a": 1}').json() == {"a": 1}
