"""Proxies as tunnels for every connection — plain, TLS and WebSocket alike: HTTP ``CONNECT`` and
SOCKS5.

httpcore's own HTTP proxy forwards plain ``http://`` requests (the absolute URL sent to the proxy)
and tunnels only ``https://``; a forwarded WebSocket upgrade needs a proxy that understands
``Upgrade``, and many (the small ones especially) only tunnel. So the proxy sits one level lower,
as a network backend: every TCP connection httpcore asks for is opened to the proxy, which is asked
for a tunnel to ``host:port`` (h11 speaks the ``CONNECT``, socksio the SOCKS5 handshake, user and
password included); httpcore then speaks HTTP/1.1 through it (after TLS, for ``https``/``wss``) as if
it were the direct connection, upgrades included. A failed handshake closes the connection to the
proxy and raises :class:`~webcast_proto.ConnectError`.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Final

import h11
import httpcore
from socksio import socks5

from webcast_proto import ConnectError

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable

    from webcast_transports._options import ProxyConfig

__all__ = ["AsyncTunnelBackend"]

_READ_SIZE: Final = 4096
# A proxy's answer to CONNECT is a status line and a few headers.
_MAX_ANSWER: Final = 16 * 1024
# SOCKS5 reply (RFC 1928 §6): VER REP RSV ATYP, then the bound address, then the port.
_SOCKS_ADDRESS_SIZES: Final = {b"\x01": 4, b"\x04": 16}
_SOCKS_DOMAIN: Final = b"\x03"


class _AsyncPrefixedStream(httpcore.AsyncNetworkStream):
    """A stream that first returns bytes already read past the proxy's answer."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, prefix: bytes) -> None:
        self._stream = stream
        self._prefix = prefix

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._prefix:
            data, self._prefix = self._prefix[:max_bytes], self._prefix[max_bytes:]
            return data
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        if self._prefix:  # the server spoke before the TLS handshake: not a TLS server
            raise ConnectError("the server sent data before the TLS handshake through the proxy")
        return await self._stream.start_tls(ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


class _AsyncReader:
    """Reads exact amounts from a stream during a handshake, keeping what comes after."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, timeout: float | None, what: str) -> None:
        self._stream = stream
        self._timeout = timeout
        self._what = what
        self.buffer = b""

    async def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            data = await self._stream.read(_READ_SIZE, self._timeout)
            if not data:
                raise ConnectError(f"{self._what} closed the connection during the handshake")
            self.buffer += data
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


class AsyncTunnelBackend(httpcore.AsyncNetworkBackend):
    """Opens every TCP connection through a proxy's tunnel (HTTP ``CONNECT`` or SOCKS5).

    Args:
        proxy: the proxy.
        inner: the backend that reaches the proxy.
    """

    def __init__(self, proxy: ProxyConfig, inner: httpcore.AsyncNetworkBackend) -> None:
        self._proxy = proxy
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            self._proxy.host, self._proxy.port, timeout, local_address, socket_options
        )
        try:
            if self._proxy.scheme == "socks5":
                prefix = await self._socks5(stream, host, port, timeout)
            else:
                prefix = await self._connect(stream, host, port, timeout)
        except BaseException:
            await stream.aclose()
            raise
        return _AsyncPrefixedStream(stream, prefix)

    async def _connect(
        self, stream: httpcore.AsyncNetworkStream, host: str, port: int, timeout: float | None
    ) -> bytes:
        """Ask an HTTP proxy for the tunnel; returns what it sent after its answer (normally nothing)."""
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        headers = [("Host", target)]
        if self._proxy.auth is not None:
            user, password = self._proxy.auth
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            headers.append(("Proxy-Authorization", f"Basic {token}"))
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_ANSWER)
        await stream.write(
            conn.send(h11.Request(method="CONNECT", target=target, headers=headers)) or b"", timeout
        )
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.read(_READ_SIZE, timeout))
            elif isinstance(event, h11.Response):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectError(
                    f"proxy {self._proxy.url} closed the connection instead of answering CONNECT"
                )
        if not 200 <= event.status_code < 300:
            reason = event.reason.decode("latin-1", errors="replace")[:100]
            raise ConnectError(
                f"proxy {self._proxy.url} refused CONNECT {target}: HTTP {event.status_code} {reason}"
            )
        return conn.trailing_data[0]

    async def _socks5(
        self, stream: httpcore.AsyncNetworkStream, host: str, port: int, timeout: float | None
    ) -> bytes:
        """The SOCKS5 handshake (RFC 1928, 1929); returns what the proxy sent after its reply."""
        proxy = self._proxy.url
        reader = _AsyncReader(stream, timeout, f"proxy {proxy}")
        conn = socks5.SOCKS5Connection()
        method = (
            socks5.SOCKS5AuthMethod.NO_AUTH_REQUIRED
            if self._proxy.auth is None
            else socks5.SOCKS5AuthMethod.USERNAME_PASSWORD
        )
        conn.send(socks5.SOCKS5AuthMethodsRequest([method]))
        await stream.write(conn.data_to_send(), timeout)
        reply = conn.receive_data(await reader.exactly(2))
        if not isinstance(reply, socks5.SOCKS5AuthReply) or reply.method != method:
            raise ConnectError(f"proxy {proxy} refused the authentication method {method.name}")
        if self._proxy.auth is not None:
            user, password = self._proxy.auth
            conn.send(socks5.SOCKS5UsernamePasswordRequest(user.encode(), password.encode()))
            await stream.write(conn.data_to_send(), timeout)
            answer = conn.receive_data(await reader.exactly(2))
            if not isinstance(answer, socks5.SOCKS5UsernamePasswordReply) or not answer.success:
                raise ConnectError(f"proxy {proxy} refused the user name and password")
        conn.send(socks5.SOCKS5CommandRequest.from_address(socks5.SOCKS5Command.CONNECT, (host, port)))
        await stream.write(conn.data_to_send(), timeout)
        head = await reader.exactly(4)
        if head[3:4] == _SOCKS_DOMAIN:
            length = (await reader.exactly(1))[0]
            rest = bytes([length]) + await reader.exactly(length + 2)
        else:
            rest = await reader.exactly(_SOCKS_ADDRESS_SIZES.get(head[3:4], 4) + 2)
        result = conn.receive_data(head + rest)
        if (
            not isinstance(result, socks5.SOCKS5Reply)
            or result.reply_code != socks5.SOCKS5ReplyCode.SUCCEEDED
        ):
            code = getattr(getattr(result, "reply_code", None), "name", "an unknown reply")
            raise ConnectError(f"proxy {proxy} refused the tunnel to {host}:{port}: {code}")
        return reader.buffer

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ConnectError("a Unix socket cannot be reached through a proxy")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
