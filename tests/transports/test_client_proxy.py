"""Proxies end to end: a tiny HTTP CONNECT proxy and a tiny SOCKS5 proxy on loopback carry all of the
client's traffic to the mock server, the HTTP requests and the WebSocket alike (issue 5)."""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from base64 import b64encode
from typing import TYPE_CHECKING

import pytest
from conftest import Collector, Flavour, wait_until

from webcast_proto import ConnectError, fixtures
from webcast_transports.mock import HttpRecord, Room, WsOpened

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from webcast_transports.mock import MockWebcastServer

    Serve = Callable[..., MockWebcastServer]

_MAX_HEAD = 16 * 1024


class _Tunnel:
    """What one proxied connection carried."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.upstream = bytearray()  # client → server, in the clear (the mock speaks plain HTTP)


class TinyProxy:
    """A loopback proxy, CONNECT (``kind="http"``) or SOCKS5 (``kind="socks5"``), user/password
    optional. One thread accepts; each tunnel gets a thread that pipes both ways. ``stop()`` closes
    every socket and joins every thread."""

    def __init__(self, kind: str, auth: tuple[str, str] | None = None) -> None:
        self.kind = kind
        self.auth = auth
        self.tunnels: list[_Tunnel] = []
        self.refused = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._spawn(self._accept)

    @property
    def url(self) -> str:
        credentials = "" if self.auth is None else f"{self.auth[0]}:{self.auth[1]}@"
        return f"{self.kind}://{credentials}127.0.0.1:{self.port}"

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="tiny-proxy", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.append(conn)
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        try:
            target = self._http_handshake(conn) if self.kind == "http" else self._socks_handshake(conn)
            if target is None:
                return
            host, port = target
            upstream = socket.create_connection((host, port), timeout=2.0)
            with self._lock:
                self._sockets.append(upstream)
            tunnel = _Tunnel(f"{host}:{port}")
            self.tunnels.append(tunnel)
            self._reply_ok(conn)
            self._pipe(conn, upstream, tunnel)
        except OSError:
            return

    def _http_handshake(self, conn: socket.socket) -> tuple[str, int] | None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < _MAX_HEAD:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if method != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return None
        if self.auth is not None:
            token = b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            if headers.get("proxy-authorization") != f"Basic {token}":
                self.refused += 1
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                return None
        host, _, port = target.rpartition(":")
        return host, int(port)

    def _recv_exact(self, conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise OSError("closed during the SOCKS handshake")
            data += chunk
        return data

    def _socks_handshake(self, conn: socket.socket) -> tuple[str, int] | None:
        version, count = self._recv_exact(conn, 2)
        methods = self._recv_exact(conn, count)
        wanted = 0x02 if self.auth is not None else 0x00
        if version != 5 or wanted not in methods:
            conn.sendall(b"\x05\xff")
            return None
        conn.sendall(bytes([5, wanted]))
        if self.auth is not None:
            _, user_len = self._recv_exact(conn, 2)
            user = self._recv_exact(conn, user_len).decode()
            (password_len,) = self._recv_exact(conn, 1)
            password = self._recv_exact(conn, password_len).decode()
            if (user, password) != self.auth:
                self.refused += 1
                conn.sendall(b"\x01\x01")
                return None
            conn.sendall(b"\x01\x00")
        _, command, _, address_type = self._recv_exact(conn, 4)
        if address_type == 1:
            host = socket.inet_ntoa(self._recv_exact(conn, 4))
        elif address_type == 3:
            (length,) = self._recv_exact(conn, 1)
            host = self._recv_exact(conn, length).decode()
        else:
            return None
        (port,) = struct.unpack("!H", self._recv_exact(conn, 2))
        return (host, port) if command == 1 else None

    def _reply_ok(self, conn: socket.socket) -> None:
        if self.kind == "http":
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 0))

    def _pipe(self, client: socket.socket, upstream: socket.socket, tunnel: _Tunnel) -> None:
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    ready = key.fileobj
                    assert isinstance(ready, socket.socket)
                    try:
                        data = ready.recv(65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        return
                    if ready is client:
                        tunnel.upstream += data
                    peers[ready].setblocking(True)
                    peers[ready].sendall(data)
                    peers[ready].setblocking(False)

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            sock.close()
        for thread in threads:
            thread.join()


@pytest.fixture
def proxies() -> Iterator[Callable[..., TinyProxy]]:
    started: list[TinyProxy] = []

    def start(kind: str, auth: tuple[str, str] | None = None) -> TinyProxy:
        proxy = TinyProxy(kind, auth)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_a_proxy_carries_http_and_websocket(
    flavour: Flavour,
    serve: Serve,
    collector: Collector,
    proxies: Callable[..., TinyProxy],
    kind: str,
) -> None:
    """Every connection goes through the proxy (with credentials): the room lookup, room info, the
    fetch and the WebSocket upgrade with its frames."""
    server = serve(Room("uma"))
    room = server.room("uma")
    proxy = proxies(kind, auth=("webcast", "s3cret"))

    async def body() -> None:
        client = flavour.client(server, "uma", proxy=proxy.url)
        collector.listen(client, "chat")
        async with client:
            state = await client.connect()
            assert state.upgraded_to_websocket
            room.push(fixtures.chat("through the proxy"))
            await wait_until(collector.has("chat"), what="the chat")
            await client.get_available_gifts()

    flavour.run(body)
    assert [c.comment for c in collector.of("chat")] == ["through the proxy"]
    assert {t.target for t in proxy.tunnels} == {f"127.0.0.1:{server.port}"}
    carried = b"".join(bytes(t.upstream) for t in proxy.tunnels)
    for route in (b"GET /@uma/live ", b"GET /webcast/room/info/", b"GET /webcast/im/fetch/", b"/gift/list/"):
        assert route in carried
    upgrades = [t for t in proxy.tunnels if b"Upgrade: websocket" in t.upstream]
    assert len(upgrades) == 1  # the WebSocket had its own tunnel, and its frames went through it
    assert len(upgrades[0].upstream) > upgrades[0].upstream.index(b"\r\n\r\n") + 4
    assert len(server.recorder.of(WsOpened)) == 1
    assert proxy.refused == 0


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_a_proxy_refusing_credentials_is_a_connect_error(
    flavour: Flavour, serve: Serve, proxies: Callable[..., TinyProxy], kind: str
) -> None:
    """Wrong proxy credentials fail the connection with ``ConnectError``; the server sees nothing."""
    server = serve(Room("vera"))
    proxy = proxies(kind, auth=("webcast", "right"))
    wrong = proxy.url.replace(":right@", ":wrong@")

    async def body() -> None:
        client = flavour.client(server, "vera", proxy=wrong)
        async with client:
            with pytest.raises(ConnectError):
                await client.connect()

    flavour.run(body)
    assert proxy.refused >= 1
    assert server.recorder.of(HttpRecord) == []
