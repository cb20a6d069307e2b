"""HTTP for the driver and the client: the core's requests through an httpcore connection pool, and
the push WebSocket opened by an HTTP/1.1 upgrade on a connection of its own.

* TLS is verified by default (``ssl_context``); every request has connect/read/write/pool timeouts.
* Proxies (``http://`` with CONNECT, ``socks5://``) tunnel every connection (:mod:`._proxy`), the
  WebSocket's included.
* Bodies are read up to ``Limits.max_http_body_size`` and un-gzipped (the headers ask for
  ``gzip, deflate``, SPEC.md §3.4) within the same bound, so the parsers get plain bytes.
* The upgrade: httpcore sends the handshake and hands over the raw stream of a 101 answer
  (``extensions["network_stream"]``); the answer's ``Sec-WebSocket-Accept`` is checked and its
  ``Handshake-Options`` read by the core's parser, which also turns a refusal into
  ``WebcastBlocked`` or ``RateLimited`` (SPEC.md §2.5, §9). The socket then owns that stream alone:
  once upgraded, httpcore's connection, request and answer are of no more use, so nothing keeps them.
* Memory per idle room (``benchmarks.rooms``): the pool is made on the first request and let go of
  (:meth:`AsyncHTTP.close_idle`) once the socket is open, since the keep-alive connection of the
  first fetch would otherwise sit idle beside the socket, holding ~10 KiB, for as long as it is open
  (the push server is another host, so the socket cannot reuse it). The next request makes a new one.

Every call runs inside the one exception-mapping seam (:func:`~webcast_transports._errors.map_errors`).
"""

from __future__ import annotations

import logging
import threading
import zlib
from typing import TYPE_CHECKING, Final

import httpcore
from wsproto.utilities import generate_accept_token, generate_nonce

from webcast_proto import RemoteProtocolError, UnexpectedResponse, http
from webcast_transports._async._proxy import AsyncTunnelBackend
from webcast_transports._async._websocket import AsyncWebSocket
from webcast_transports._backend import AsyncBackend
from webcast_transports._errors import describe_url, map_errors

if TYPE_CHECKING:
    import ssl

    from webcast_proto import Limits
    from webcast_transports._backend import AsyncInterrupt
    from webcast_transports._options import CookieJar, ProxyConfig

__all__ = ["AsyncHTTP"]

_log = logging.getLogger("webcast.http")

# Connections in a client's pool: room info, the gift list and a chat message may run at once (the
# WebSocket has a connection of its own).
_MAX_CONNECTIONS: Final = 8
# Idle keep-alive connections are closed after this (TikTok's own servers close sooner).
_KEEPALIVE_EXPIRY: Final = 30.0
# The schemes a WebSocket URL may have, and their ports when the URL names none.
_DEFAULT_PORTS: Final = {b"ws": 80, b"wss": 443, b"http": 80, b"https": 443}
# A refused handshake's body is only read for its size check; TikTok sends a line of text.
_MAX_REFUSAL_BODY: Final = 64 * 1024


def _headers(raw: list[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)


def _decode_content(body: bytes, encoding: str, *, limit: int, what: str) -> bytes:
    """``body`` decoded per its ``Content-Encoding``, never past ``limit`` bytes (STYLE.md §7)."""
    encodings = [e.strip().lower() for e in encoding.split(",") if e.strip()]
    for name in reversed(encodings):  # applied in order, so undone in reverse
        if name == "identity":
            continue
        if name not in ("gzip", "x-gzip", "deflate"):
            raise UnexpectedResponse(f"{what}: unsupported Content-Encoding {name!r}")
        # 47 = 32 + 15: a gzip or zlib header, detected; raw deflate (-15) is the odd server's deflate.
        wbits = 47 if body[:1] in (b"\x1f", b"\x78") else -15
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise UnexpectedResponse(f"{what}: body does not decode as {name} ({exc})") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise RemoteProtocolError(
                f"{what}: {name} body inflates past Limits.max_http_body_size ({limit})"
            )
        body = out
    return body


class AsyncHTTP:
    """The HTTP of one client: a connection pool for its requests, and its WebSockets.

    Args:
        limits: body and message size limits.
        timeout: seconds for each phase of an HTTP request (connect, write, read, pool).
        ssl_context: verifies TLS (``httpcore.default_ssl_context()``, made per TLS connection, if
            omitted).
        proxy: where to send every connection through, if anywhere.
    """

    def __init__(
        self,
        *,
        limits: Limits,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
        proxy: ProxyConfig | None = None,
    ) -> None:
        self._limits = limits
        self._timeout = timeout
        network = AsyncBackend.network_backend()
        if proxy is not None:
            network = AsyncTunnelBackend(proxy, network)
        self._network = network
        # ``None`` makes httpcore build its verifying default (certifi) when a TLS connection opens:
        # loading the CA bundle costs ~40 ms, which a client that never leaves loopback need not pay.
        self._ssl_context = ssl_context
        # Made by the first request, let go of by close_idle() (module docstring). The lock makes
        # taking the pool for a request and letting it go one step each, for the blocking flavour's
        # threads (a user's get_room_info() beside the driver); it is never held across a wait.
        self._pool: httpcore.AsyncConnectionPool | None = None
        self._in_flight = 0
        self._lock = threading.Lock()

    def _take_pool(self) -> httpcore.AsyncConnectionPool:
        """The pool for one request (made if there is none), counted in flight until ``_give_back``."""
        with self._lock:
            pool = self._pool
            if pool is None:
                pool = self._pool = httpcore.AsyncConnectionPool(
                    ssl_context=self._ssl_context,
                    max_connections=_MAX_CONNECTIONS,
                    keepalive_expiry=_KEEPALIVE_EXPIRY,
                    network_backend=self._network,
                )
            self._in_flight += 1
            return pool

    def _give_back(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _extensions(self, timeout: float | None) -> dict[str, object]:
        seconds = self._timeout if timeout is None else timeout
        return {"timeout": {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}}

    async def _read_body(self, response: httpcore.Response, what: str, limit: int) -> bytes:
        body = bytearray()
        async for chunk in response.aiter_stream():
            body += chunk
            if len(body) > limit:
                raise RemoteProtocolError(f"{what}: body exceeds Limits.max_http_body_size ({limit})")
        return bytes(body)

    async def perform(
        self, request: http.Request, *, cookies: CookieJar | None = None, timeout: float | None = None
    ) -> http.Response:
        """Perform one request and read the whole answer.

        Args:
            request: what the core (or a signer) built.
            cookies: a jar whose cookies go with the request and which keeps the answer's
                ``Set-Cookie`` cookies (TikTok's hosts only; not for the sign server).
            timeout: overrides the client's timeout for this request.

        Returns:
            Status, headers and the decoded body, for the core's parsers.

        Raises:
            ConnectError, ReadTimeout, TransportError: the network failed.
            RemoteProtocolError: the server broke HTTP, or the body is past the size limit.
            UnexpectedResponse: an unknown or broken ``Content-Encoding``.
        """
        if cookies is not None:
            request = cookies.apply(request)
        what = f"{request.method} {describe_url(request.url)}"
        limit = self._limits.max_http_body_size
        # A POST always says its length, even when empty (room/chat posts nothing, SPEC.md §10).
        content = request.body if request.body or request.method != "GET" else None
        pool = self._take_pool()
        try:
            with map_errors(what):
                async with pool.stream(
                    request.method,
                    request.url,
                    headers=list(request.headers),
                    content=content,
                    extensions=self._extensions(timeout),
                ) as response:
                    body = await self._read_body(response, what, limit)
        finally:
            self._give_back()
        headers = _headers(response.headers)
        encoding = http.Response(response.status, headers).header("content-encoding") or ""
        body = _decode_content(body, encoding, limit=limit, what=what)
        _log.debug("%s -> %d (%d bytes)", what, response.status, len(body))
        if cookies is not None:
            cookies.take_set_cookies(headers)
        return http.Response(response.status, headers, body)

    async def open_websocket(
        self,
        url: str,
        headers: tuple[tuple[str, str], ...],
        *,
        timeout: float,
        interrupt: AsyncInterrupt,
    ) -> tuple[AsyncWebSocket, http.HandshakeInfo]:
        """Open the push WebSocket: the upgrade request, its answer checked, wsproto on the stream.

        Args:
            url: the ``ws://``/``wss://`` URL from the core.
            headers: the handshake headers (User-Agent, Cookie, the user's).
            timeout: seconds for the handshake.
            interrupt: what the socket checks between read slices.

        Returns:
            The open socket and what the answer said (``ping-interval``).

        Raises:
            WebcastBlocked: the server answered 200/400/… instead of 101 (``Handshake-Msg`` quoted).
            RateLimited: it answered 429.
            RemoteProtocolError: a 101 with a wrong ``Sec-WebSocket-Accept``.
            ConnectError, ReadTimeout, TransportError: the network failed.
        """
        what = f"WebSocket {describe_url(url)}"
        key = generate_nonce()
        upgrade = (
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key.decode("ascii")),
            ("Sec-WebSocket-Version", "13"),
        )
        # A connection of its own, not one of the pool's: the socket keeps its stream for as long as
        # it is open, and the pool can then be let go of (close_idle) without closing the socket.
        connection: httpcore.AsyncHTTPConnection | None = None
        try:
            with map_errors(what):
                target = httpcore.URL(url)
                default_port = _DEFAULT_PORTS.get(target.scheme)
                if default_port is None:
                    raise httpcore.UnsupportedProtocol(f"unsupported URL scheme {target.scheme!r}")
                # What the pool's request() would add (httpcore's include_request_headers): a
                # connection's own handle_async_request sends the headers as they are.
                sent = [*headers, *upgrade]
                if not any(name.lower() == "host" for name, _ in sent):
                    port = target.port
                    host = target.host if port in (None, default_port) else b"%b:%d" % (target.host, port)
                    sent.insert(0, ("Host", host.decode("ascii")))
                request = httpcore.Request("GET", target, headers=sent, extensions=self._extensions(timeout))
                connection = httpcore.AsyncHTTPConnection(
                    target.origin, ssl_context=self._ssl_context, network_backend=self._network
                )
                response = await connection.handle_async_request(request)
            answer = http.Response(response.status, _headers(response.headers))
            if response.status != 101:
                with map_errors(what):
                    body = await self._read_body(response, what, _MAX_REFUSAL_BODY)
                http.parse_handshake_response(http.Response(answer.status_code, answer.headers, body))
                raise RemoteProtocolError(f"{what}: refused with HTTP {response.status}")  # not reached
            if answer.header("sec-websocket-accept") != generate_accept_token(key).decode("ascii"):
                raise RemoteProtocolError(f"{what}: the 101 answer has a wrong Sec-WebSocket-Accept")
            info = http.parse_handshake_response(answer)
            stream = response.extensions["network_stream"]
            if not isinstance(stream, httpcore.AsyncNetworkStream):  # pragma: no cover  # httpcore's contract
                raise TypeError(f"httpcore gave no network stream for the upgrade: {type(stream).__name__}")
        except BaseException:
            if connection is not None:
                with AsyncBackend.cleanup_scope(self._timeout):
                    await connection.aclose()
            raise
        _log.debug("%s opened (ping-interval %.1f s)", what, info.ping_interval)
        socket = AsyncWebSocket(
            stream,
            interrupt=interrupt,
            max_message_size=self._limits.max_frame_size,
            what=describe_url(url),
        )
        return socket, info

    async def close_idle(self) -> None:
        """Close the pool and its keep-alive connections, unless a request is using it; the next
        request makes a new one. Called once the WebSocket is open (module docstring)."""
        with self._lock:
            pool = self._pool
            if pool is None or self._in_flight:
                return
            self._pool = None
        await pool.aclose()

    async def aclose(self) -> None:
        """Close every connection of the pool (an open WebSocket is closed by its owner)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()
