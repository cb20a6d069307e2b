"""Where a decoder is incremental, where the bytes are split never changes the result (issue 7, item 1).

The network hands bytes over in pieces of any size; each incremental decoder must give the same
answer whatever the pieces. Tested here, each fed one byte stream cut at points hypothesis chooses
(every cut, down to one byte at a time):

* the mock server's HTTP/1.1 side (h11): pipelined requests, a chunked body and a ``Content-Length``
  body give the same records and the same answers;
* the client's WebSocket (wsproto plus our reassembly of fragments, in the async and the generated
  blocking flavour): the same messages, pings answered, the same close; a message past the size
  limit is refused wherever it is cut;
* the proxy handshakes (HTTP ``CONNECT`` answer through h11, the SOCKS5 reply): the same tunnel, and
  the bytes the proxy sent past its answer come out first.

The decoders read from in-memory streams here, so the cut points are exact and nothing waits.
"""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any, Final

import anyio
import h11
import httpcore
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

from webcast_proto import ConnectError, RemoteProtocolError
from webcast_transports._async._proxy import AsyncTunnelBackend
from webcast_transports._async._websocket import AsyncWebSocket, WebSocketClosed
from webcast_transports._backend import AsyncInterrupt, SyncInterrupt
from webcast_transports._options import parse_proxy
from webcast_transports._sync._proxy import SyncTunnelBackend
from webcast_transports._sync._websocket import SyncWebSocket
from webcast_transports._sync._websocket import WebSocketClosed as SyncWebSocketClosed
from webcast_transports.mock import HttpRecord, MockWebcastServer, Room

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable, Sequence

pytestmark = pytest.mark.filterwarnings("error")


def cut(data: bytes, points: Iterable[int]) -> list[bytes]:
    """``data`` in pieces, cut at ``points`` (any order, repeats and out-of-range points ignored)."""
    edges = sorted({p for p in points if 0 < p < len(data)})
    bounds = [0, *edges, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def cuts_of(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """Ways to cut ``data``: a few points anywhere, many points, or one byte at a time."""
    size = len(data)
    points = st.lists(st.integers(0, size), max_size=min(size, 40))
    return st.one_of(points, st.just(range(size))).map(lambda p: cut(data, p))


# --------------------------------------------------------------------------------------------
# The mock server's HTTP/1.1 side
# --------------------------------------------------------------------------------------------


class _FakeSocketStream:
    """What the mock's connection handler reads from: the pieces, then the end of the stream."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self._pieces = list(pieces)
        self.sent = bytearray()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self._pieces:
            raise anyio.EndOfStream
        return self._pieces.pop(0)

    async def send(self, item: bytes) -> None:
        self.sent += item

    async def aclose(self) -> None:
        return

    async def __aenter__(self) -> _FakeSocketStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


ROOM: Final = Room("alice", scenario="quiet")


def _requests(room_id: int) -> bytes:
    """Five requests pipelined on one connection: GETs, a Content-Length POST and a chunked POST."""
    chunked = json.dumps({"url": f"https://webcast.tiktok.com/webcast/im/fetch/?room_id={room_id}"}).encode()
    out = bytearray()
    out += f"GET /webcast/gift/list/?room_id={room_id}&x=%C3%A9 HTTP/1.1\r\nHost: t\r\n\r\n".encode()
    out += (
        f"POST /webcast/room/chat/?room_id={room_id}&content=hi HTTP/1.1\r\nHost: t\r\n"
        "Cookie: sessionid=abc\r\nContent-Length: 7\r\n\r\nbody=42"
    ).encode()
    out += b"POST /webcast/sign_url?client=ttlive-other HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
    out += b"Content-Type: application/json\r\n\r\n"
    for start in range(0, len(chunked), 7):
        piece = chunked[start : start + 7]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n\r\n"
    out += b"GET /@alice/live HTTP/1.1\r\nHost: t\r\nUser-Agent: split/1\r\n\r\n"
    out += b"GET /no/such/route HTTP/1.1\r\nHost: t\r\n\r\n"
    return bytes(out)


def _serve(pieces: Sequence[bytes]) -> tuple[list[tuple[Any, ...]], list[int]]:
    """Run the mock's connection handler over ``pieces``: the requests it recorded (time left out)
    and the statuses of the answers it wrote."""
    server = MockWebcastServer([ROOM])
    stream = _FakeSocketStream(pieces)
    anyio.run(server._serve_connection, stream)  # type: ignore[arg-type]  # a stand-in SocketStream
    records = [
        (r.method, r.path, r.query, r.headers, r.body, r.route, r.status)
        for r in server.recorder.of(HttpRecord)
    ]
    reader = h11.Connection(h11.CLIENT)
    reader.receive_data(bytes(stream.sent))
    statuses: list[int] = []
    while True:
        # Answers are read back as a client would, one request cycle at a time.
        reader.send(h11.Request(method="GET", target="/", headers=[("Host", "t")]))
        reader.send(h11.EndOfMessage())
        event = reader.next_event()
        while not isinstance(event, (h11.Response, h11.ConnectionClosed)) and event is not h11.NEED_DATA:
            event = reader.next_event()
        if not isinstance(event, h11.Response):
            break
        statuses.append(event.status_code)
        while not isinstance(reader.next_event(), h11.EndOfMessage):
            pass
        try:
            reader.start_next_cycle()
        except h11.LocalProtocolError:  # the server said Connection: close
            break
    return records, statuses


_MOCK_STREAM: Final = _requests(MockWebcastServer([ROOM]).room("alice").room_id)
_MOCK_WHOLE: Final = _serve([_MOCK_STREAM])


def test_the_whole_stream_is_five_answered_requests() -> None:
    """The reference run: five requests recorded, bodies reassembled, five answers."""
    records, statuses = _MOCK_WHOLE
    assert [r[1] for r in records] == [
        "/webcast/gift/list/",
        "/webcast/room/chat/",
        "/webcast/sign_url",
        "/@alice/live",
        "/no/such/route",
    ]
    assert records[1][4] == b"body=42"
    assert json.loads(records[2][4])["url"].startswith("https://webcast.tiktok.com/")
    assert statuses == [200, 200, 200, 200, 404]


@settings(max_examples=60, deadline=None)
@given(pieces=cuts_of(_MOCK_STREAM))
def test_mock_http_side_is_indifferent_to_split_points(pieces: list[bytes]) -> None:
    """Any cutting of the pipelined requests gives the same records and the same answers."""
    assert _serve(pieces) == _MOCK_WHOLE


# --------------------------------------------------------------------------------------------
# The client's WebSocket: wsproto and the reassembly of fragments
# --------------------------------------------------------------------------------------------


class _PiecesAsync(httpcore.AsyncNetworkStream):
    """An upgraded network stream whose reads return the pieces (each at most ``max_bytes``)."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self._pieces = list(pieces)
        self.written = bytearray()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if not self._pieces:
            return b""
        piece = self._pieces.pop(0)
        if len(piece) > max_bytes:
            self._pieces.insert(0, piece[max_bytes:])
        return piece[:max_bytes]

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.written += buffer

    async def aclose(self) -> None:
        return

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise NotImplementedError

    def get_extra_info(self, info: str) -> object:
        return None


class _PiecesSync(httpcore.NetworkStream):
    """The blocking twin of :class:`_PiecesAsync`."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self._pieces = list(pieces)
        self.written = bytearray()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if not self._pieces:
            return b""
        piece = self._pieces.pop(0)
        if len(piece) > max_bytes:
            self._pieces.insert(0, piece[max_bytes:])
        return piece[:max_bytes]

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.written += buffer

    def close(self) -> None:
        return

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        raise NotImplementedError

    def get_extra_info(self, info: str) -> object:
        return None


def _server_stream(messages: Sequence[tuple[bytes, int]], pings: int) -> bytes:
    """What a push server writes: each message cut into ``n`` fragments, pings between them, a close."""
    server = Connection(ConnectionType.SERVER)
    out = bytearray()
    for index, (message, fragments) in enumerate(messages):
        size = max(1, -(-len(message) // fragments))
        parts = [message[i : i + size] for i in range(0, len(message), size)] or [b""]
        for number, part in enumerate(parts):
            out += server.send(BytesMessage(data=part, message_finished=number == len(parts) - 1))
            if index < pings and number == 0:
                out += server.send(Ping(payload=b"p%d" % index))
    out += server.send(TextMessage(data="text é"))
    out += server.send(CloseConnection(code=1011, reason="bye"))
    return bytes(out)


_messages = st.lists(st.tuples(st.binary(max_size=300), st.integers(1, 5)), min_size=1, max_size=5)
# What follows the messages: the text message's bytes, then the close (each flavour has its own class).
_EXPECTED_TAIL: Final[dict[str, list[object]]] = {
    "async": ["text é".encode(), WebSocketClosed(1011, "bye")],
    "sync": ["text é".encode(), SyncWebSocketClosed(1011, "bye")],
}


async def _receive_all_async(pieces: Sequence[bytes], limit: int) -> tuple[list[object], bytes]:
    stream = _PiecesAsync(pieces)
    socket = AsyncWebSocket(stream, interrupt=AsyncInterrupt(), max_message_size=limit, what="t")
    received: list[object] = []
    while not received or not isinstance(received[-1], WebSocketClosed):
        received.append(await socket.receive(None))
    return received, bytes(stream.written)


def _receive_all_sync(pieces: Sequence[bytes], limit: int) -> tuple[list[object], bytes]:
    stream = _PiecesSync(pieces)
    socket = SyncWebSocket(stream, interrupt=SyncInterrupt(), max_message_size=limit, what="t")
    received: list[object] = []
    while not received or not isinstance(received[-1], SyncWebSocketClosed):
        received.append(socket.receive(None))
    return received, bytes(stream.written)


def _pongs_and_close(written: bytes) -> list[object]:
    """The frames the client wrote back, read as the server would."""
    server = Connection(ConnectionType.SERVER)
    server.receive_data(written)
    return [type(e).__name__ for e in server.events()]


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(), messages=_messages, pings=st.integers(0, 3), flavour=st.sampled_from(["async", "sync"])
)
def test_websocket_reassembly_is_indifferent_to_split_points(
    data: st.DataObject, messages: list[tuple[bytes, int]], pings: int, flavour: str
) -> None:
    """Messages sent in fragments, with pings between them, then a text message and a close: however
    the stream is cut, the client gets each message whole, in order, then the close; it answers each
    ping and the close."""
    stream = _server_stream(messages, pings)
    pieces = data.draw(cuts_of(stream))
    if flavour == "async":
        received, written = anyio.run(_receive_all_async, pieces, 4096)
    else:
        received, written = _receive_all_sync(pieces, 4096)
    assert received == [m for m, _ in messages] + _EXPECTED_TAIL[flavour]
    answers = _pongs_and_close(written)
    assert answers == ["Pong"] * min(pings, len(messages)) + ["CloseConnection"]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), fragments=st.integers(1, 6), flavour=st.sampled_from(["async", "sync"]))
def test_an_oversized_message_is_refused_wherever_it_is_cut(
    data: st.DataObject, fragments: int, flavour: str
) -> None:
    """A message one byte past the limit, in fragments, cut anywhere: RemoteProtocolError naming the
    limit, and a 1009 close is sent; the message before it is delivered whole."""
    stream = _server_stream([(b"ok", 1), (bytes(257), fragments)], 0)
    pieces = data.draw(cuts_of(stream))
    received: list[object] = []
    if flavour == "async":

        async def run() -> None:
            socket = AsyncWebSocket(
                _PiecesAsync(pieces),
                interrupt=AsyncInterrupt(),
                max_message_size=256,
                what="t",
            )
            received.append(await socket.receive(None))
            await socket.receive(None)

        with pytest.raises(RemoteProtocolError, match="max_frame_size"):
            anyio.run(run)
    else:
        socket = SyncWebSocket(
            _PiecesSync(pieces),
            interrupt=SyncInterrupt(),
            max_message_size=256,
            what="t",
        )
        received.append(socket.receive(None))
        with pytest.raises(RemoteProtocolError, match="max_frame_size"):
            socket.receive(None)
    assert received == [b"ok"]


_LENGTH_5: Final = (5).to_bytes(8, "big")
_LENGTH_MSB: Final = (1 << 63 | 70_000).to_bytes(8, "big")


@pytest.mark.parametrize(
    ("tail", "code", "reason"),
    [
        (b"\x83\x00", 1002, "Invalid opcode 0x3"),  # a reserved opcode
        (b"\x82\x85abcd12345", 1002, "client received unexpected masked frame"),
        (b"\x82\x7e\x00\x05hello", 1002, "Payload length used 2 bytes when 1 would have sufficed"),
        (b"\x82\x7f" + _LENGTH_5 + b"hello", 1002, "Payload length used 8 bytes when 2 would have sufficed"),
        (b"\x82\x7f" + _LENGTH_MSB, 1002, "8-byte payload length with non-zero MSB"),
        (b"\x02\x05hello", 1006, ""),  # a first fragment (wsproto's to join), then the end
        (b"\x82\x05hel", 1006, ""),  # the TCP stream ends mid-frame
        (b"\x82\x7e\x01", 1006, ""),  # … or mid-header
        (b"\x82\x7f\x00\x00\x00", 1006, ""),
    ],
    ids=[
        "reserved-opcode", "masked", "long-2-byte-length", "long-8-byte-length", "8-byte-length-msb",
        "end-after-a-fragment", "end-mid-frame", "end-mid-2-byte-length", "end-mid-8-byte-length",
    ],
)  # fmt: skip
@pytest.mark.parametrize("cut", ["whole", "bytewise"])
@pytest.mark.parametrize("flavour", ["async", "sync"])
def test_a_broken_frame_or_a_lost_stream_is_a_close(
    flavour: str, cut: str, tail: bytes, code: int, reason: str
) -> None:
    """After a good message, a frame that breaks RFC 6455 is a close with wsproto's code and reason,
    unanswered; the TCP stream ending without a close frame is a 1006 close; the message before
    either is delivered whole; read at once or a byte at a time (the socket's own parser for whole
    binary frames hands the rest to wsproto, which judges it)."""
    stream = _server_stream([(b"ok", 1)], 0)[:4] + tail  # b"ok" alone, without the text and close
    chunks = [stream] if cut == "whole" else [stream[i : i + 1] for i in range(len(stream))]
    received: list[object] = []
    if flavour == "async":

        async def run() -> bytes:
            pieces = _PiecesAsync(chunks)
            socket = AsyncWebSocket(pieces, interrupt=AsyncInterrupt(), max_message_size=256, what="t")
            received.append(await socket.receive(None))
            received.append(await socket.receive(None))
            received.append(await socket.receive(None))  # a close is final: the same again
            return bytes(pieces.written)

        written = anyio.run(run)
        closed: object = WebSocketClosed(code, reason)
    else:
        pieces = _PiecesSync(chunks)
        socket = SyncWebSocket(pieces, interrupt=SyncInterrupt(), max_message_size=256, what="t")
        received.extend(socket.receive(None) for _ in range(3))
        written = bytes(pieces.written)
        closed = SyncWebSocketClosed(code, reason)
    assert received == [b"ok", closed, closed]
    assert written == b""


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    sizes=st.lists(st.sampled_from([0, 1, 125, 126, 127, 65_535, 65_536, 70_001]), min_size=1, max_size=4),
    flavour=st.sampled_from(["async", "sync"]),
)
def test_whole_binary_frames_of_every_length_encoding(
    data: st.DataObject, sizes: list[int], flavour: str
) -> None:
    """Whole binary messages with 1-, 2- and 8-byte lengths, at the edges of each, cut anywhere (the
    socket's own parser): each is received whole and in order, then the text message and the close
    (wsproto's)."""
    messages = [(bytes([index]) * size, 1) for index, size in enumerate(sizes)]
    stream = _server_stream(messages, 0)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=6).map(sorted))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True) if b > a]
    if flavour == "async":
        received, written = anyio.run(_receive_all_async, pieces, 80_000)
    else:
        received, written = _receive_all_sync(pieces, 80_000)
    assert received == [m for m, _ in messages] + _EXPECTED_TAIL[flavour]
    assert _pongs_and_close(written) == ["CloseConnection"]


# --------------------------------------------------------------------------------------------
# Proxy handshakes
# --------------------------------------------------------------------------------------------


class _AsyncInner(httpcore.AsyncNetworkBackend):
    """Reaches "the proxy": a stream of the given pieces."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.stream = _PiecesAsync(pieces)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return self.stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        return


class _SyncInner(httpcore.NetworkBackend):
    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.stream = _PiecesSync(pieces)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return self.stream

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise NotImplementedError

    def sleep(self, seconds: float) -> None:
        return


_AFTER: Final = b"HTTP/1.1 200 OK\r\n\r\nfrom the target"  # what the target says first, through the tunnel
_ANSWERS: Final = {
    "http": b"HTTP/1.1 200 Connection established\r\nProxy-Agent: t\r\n\r\n",
    "socks5": b"\x05\x02" + b"\x01\x00" + b"\x05\x00\x00\x03\x09proxy.lan\x1f\x90",
    "http-refused": b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
    "socks5-refused": b"\x05\x02" + b"\x01\x00" + b"\x05\x05\x00\x01\x7f\x00\x00\x01\x00\x00",
}


def _tunnel(kind: str, pieces: Sequence[bytes], flavour: str) -> bytes:
    """Open a tunnel to t.example:443 over ``pieces``; what the returned stream reads first."""
    proxy = parse_proxy(f"{kind.split('-')[0]}://user:pw@127.0.0.1:3128")
    if flavour == "async":

        async def run() -> bytes:
            backend = AsyncTunnelBackend(proxy, _AsyncInner(pieces))
            stream = await backend.connect_tcp("t.example", 443)
            out = b""
            while chunk := await stream.read(7):
                out += chunk
            return out

        return anyio.run(run)
    stream = SyncTunnelBackend(proxy, _SyncInner(pieces)).connect_tcp("t.example", 443)
    out = b""
    while chunk := stream.read(7):
        out += chunk
    return out


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    kind=st.sampled_from(sorted(_ANSWERS)),
    flavour=st.sampled_from(["async", "sync"]),
)
def test_proxy_handshakes_are_indifferent_to_split_points(
    data: st.DataObject, kind: str, flavour: str
) -> None:
    """The proxy's answer and what the target sends after it, cut anywhere: an accepted tunnel reads
    the target's bytes first and whole; a refusal is a ConnectError."""
    pieces = data.draw(cuts_of(_ANSWERS[kind] + _AFTER))
    if kind.endswith("refused"):
        with pytest.raises(ConnectError, match="refused"):
            _tunnel(kind, pieces, flavour)
    else:
        assert _tunnel(kind, pieces, flavour) == _AFTER
