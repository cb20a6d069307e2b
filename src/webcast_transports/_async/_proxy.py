"""HTTP proxies as CONNECT tunnels, for every connection: plain, TLS and WebSocket alike.

httpcore's own HTTP proxy forwards plain ``http://`` requests (the absolute URL sent to the proxy)
and tunnels only ``https://``; a forwarded WebSocket upgrade needs a proxy that understands
``Upgrade``, and many (the small ones especially) only tunnel. So the proxy sits one level lower,
as a network backend: every TCP connection httpcore asks for is opened to the proxy, which is told
``CONNECT host:port``; httpcore then speaks HTTP/1.1 (after TLS, for ``https``/``wss``) through the
tunnel as if it were the direct connection, upgrades included. The handshake is h11's.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Final

import h11
import httpcore

from webcast_proto import ConnectError

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable

    from webcast_transports._options import ProxyConfig

__all__ = ["AsyncTunnelBackend"]

_READ_SIZE: Final = 4096
# A proxy's answer to CONNECT is a status line and a few headers.
_MAX_ANSWER: Final = 16 * 1024


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


class AsyncTunnelBackend(httpcore.AsyncNetworkBackend):
    """Opens every TCP connection through an HTTP proxy's ``CONNECT`` tunnel.

    Args:
        proxy: the proxy (``scheme`` ``http``).
        inner: the backend that reaches the proxy.
    """

    def __init__(self, proxy: ProxyConfig, inner: httpcore.AsyncNetworkBackend) -> None:
        self._proxy = proxy
        self._inner = inner
        self._headers: list[tuple[str, str]] = []
        if proxy.auth is not None:
            user, password = proxy.auth
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers.append(("Proxy-Authorization", f"Basic {token}"))

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
            prefix = await self._tunnel(stream, host, port, timeout)
        except BaseException:
            await stream.aclose()
            raise
        return _AsyncPrefixedStream(stream, prefix)

    async def _tunnel(
        self, stream: httpcore.AsyncNetworkStream, host: str, port: int, timeout: float | None
    ) -> bytes:
        """Ask for the tunnel; returns what the proxy sent after its answer (normally nothing)."""
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_ANSWER)
        request = h11.Request(method="CONNECT", target=target, headers=[("Host", target), *self._headers])
        await stream.write(conn.send(request) or b"", timeout)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.read(_READ_SIZE, timeout))
                continue
            if isinstance(event, h11.Response):
                break
            if isinstance(event, h11.ConnectionClosed):
                raise ConnectError(
                    f"proxy {self._proxy.url} closed the connection instead of answering CONNECT"
                )
        if not 200 <= event.status_code < 300:
            reason = event.reason.decode("latin-1", errors="replace")[:100]
            raise ConnectError(
                f"proxy {self._proxy.url} refused CONNECT {target}: HTTP {event.status_code} {reason}"
            )
        return conn.trailing_data[0]

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ConnectError("a Unix socket cannot be reached through an HTTP proxy")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
