"""TLS end to end: the client verifies certificates by default, and with a trusted certificate it
speaks HTTPS and ``wss://`` to the mock server behind a small TLS terminator on loopback.

The certificate is made by the ``openssl`` command for this test (skipped where there is none).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
from typing import TYPE_CHECKING

import pytest
from conftest import Collector, Flavour, wait_until

from webcast_proto import ConnectError, fixtures
from webcast_proto.config import Endpoints
from webcast_transports.mock import Room, WsOpened

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from webcast_transports.mock import MockWebcastServer

    Serve = Callable[..., MockWebcastServer]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class TlsTerminator:
    """Accepts TLS on loopback and forwards the plain bytes to ``port``: HTTPS and wss in front of the
    mock server. Two pump threads per connection; ``stop()`` closes and joins everything."""

    def __init__(self, port: int, cert: Path, key: Path) -> None:
        self._target = port
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="tls-terminator", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._keep(conn)
            self._start(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(2.0)
            secure = self._context.wrap_socket(conn, server_side=True)
            self._keep(secure)
            upstream = socket.create_connection(("127.0.0.1", self._target))
            self._keep(upstream)
        except OSError:  # the client refused our certificate, or went away
            return
        secure.settimeout(0.05)
        upstream.settimeout(0.05)
        self._start(self._pump, upstream, secure)
        self._pump(secure, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                data = source.recv(65536)
            except (TimeoutError, ssl.SSLWantReadError):
                continue
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return
            try:
                sink.sendall(data)
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            threads, sockets = list(self._threads), list(self._sockets)
        for thread in threads:
            thread.join()
        for sock in sockets:
            sock.close()


@pytest.fixture
def terminate_tls(certificate: tuple[Path, Path]) -> Iterator[Callable[[int], TlsTerminator]]:
    started: list[TlsTerminator] = []

    def start(port: int) -> TlsTerminator:
        terminator = TlsTerminator(port, *certificate)
        started.append(terminator)
        return terminator

    yield start
    for terminator in started:
        terminator.stop()


def _tls_endpoints(port: int) -> Endpoints:
    base = f"https://127.0.0.1:{port}"
    return Endpoints(
        web=base,
        webcast=f"{base}/webcast",
        sign_server=base,
        push_server=f"wss://127.0.0.1:{port}/webcast/im/ws_proxy/ws_reuse_supplement/",
    )


def test_certificates_are_verified_by_default(
    flavour: Flavour, serve: Serve, terminate_tls: Callable[[int], TlsTerminator]
) -> None:
    """An untrusted certificate fails the connection with ``ConnectError`` (TLS failed)."""
    server = serve(Room("tina"))
    terminator = terminate_tls(server.port)

    async def body() -> None:
        client = flavour.client(server, "tina", endpoints=_tls_endpoints(terminator.port))
        async with client:
            with pytest.raises(ConnectError, match=r"TLS|certificate"):
                await client.connect()

    flavour.run(body)


def test_https_and_wss_with_a_trusted_certificate(
    flavour: Flavour,
    serve: Serve,
    collector: Collector,
    terminate_tls: Callable[[int], TlsTerminator],
    certificate: tuple[Path, Path],
) -> None:
    """Trusting the certificate (``ssl_context``), the lookup, the fetch and the WebSocket all run over
    TLS and the room's messages arrive."""
    server = serve(Room("ugo"))
    terminator = terminate_tls(server.port)
    trusted = ssl.create_default_context(cafile=str(certificate[0]))

    async def body() -> None:
        client = flavour.client(server, "ugo", endpoints=_tls_endpoints(terminator.port), ssl_context=trusted)
        collector.listen(client, "chat", "websocketConnected")
        async with client:
            state = await client.connect()
            assert state.upgraded_to_websocket
            server.room("ugo").push(fixtures.chat("over TLS 🔒"))
            await wait_until(collector.has("chat"), what="the chat")

    flavour.run(body)
    assert [c.comment for c in collector.of("chat")] == ["over TLS 🔒"]
    assert collector.of("websocketConnected")[0].url.startswith("wss://127.0.0.1:")
    assert len(server.recorder.of(WsOpened)) == 1


def test_wss_on_asyncio_reads_the_socket_through_our_protocol(
    flavour: Flavour,
    serve: Serve,
    collector: Collector,
    terminate_tls: Callable[[int], TlsTerminator],
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over ``wss://`` (TikTok's push server), the asyncio client puts its own protocol stream under
    anyio's TLS stream, as it does for ``ws://``; trio keeps anyio's socket stream, and the blocking
    client its socket. The room's messages arrive either way."""
    from webcast_transports import _backend

    taken: list[bool] = []
    original = _backend._AsyncioProtocolStream.take_over_under_tls

    def spy(anyio_stream: object) -> bool:
        done = original(anyio_stream)
        taken.append(done)
        if done:
            assert type(anyio_stream.transport_stream).__name__ == "_ProtocolByteStream"  # type: ignore[attr-defined]
        return done

    monkeypatch.setattr(_backend._AsyncioProtocolStream, "take_over_under_tls", staticmethod(spy))
    server = serve(Room("vera"))
    terminator = terminate_tls(server.port)
    trusted = ssl.create_default_context(cafile=str(certificate[0]))

    async def body() -> None:
        endpoints = _tls_endpoints(terminator.port)
        client = flavour.client(server, "vera", endpoints=endpoints, ssl_context=trusted)
        collector.listen(client, "chat")
        async with client:
            await client.connect()
            for text in ("one 🔒", "two 🔒"):
                server.room("vera").push(fixtures.chat(text))
            await wait_until(lambda: len(collector.of("chat")) == 2, what="the chats")
            await client.disconnect()

    flavour.run(body)
    assert [c.comment for c in collector.of("chat")] == ["one 🔒", "two 🔒"]
    assert taken == {"asyncio": [True], "trio": [False], "blocking": []}[flavour.name]
