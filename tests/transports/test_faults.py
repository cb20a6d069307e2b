"""Faults over real sockets, in every flavour (asyncio, trio, blocking): what the client does when the
network or a server misbehaves (issue 7, item 4).

For each fault the client either surfaces a typed error (``connect()`` raises it, or ``error`` gets it
and the final ``disconnected`` says why) or reconnects with backoff and resumes from its cursor, after
which the messages delivered are exactly those the server sent, once each, in order. Every test also
checks that nothing is left behind once the client and the servers are stopped: no file descriptor
(sockets included, read from ``/proc/self/fd``), no thread and no asyncio task (the last two also
checked by ``Flavour.run``).

Already covered, so not repeated here: a 1011/1000 close, a drop mid-frame and a garbage frame
mid-stream, a 503 on each resume, the policy giving up, a silent quiet room, the sign server's 429
at connect, a refused handshake, an oversized message (``test_client_recovery.py``); wrong proxy
credentials (``test_client_proxy.py``); an untrusted certificate at connect (``test_client_tls.py``).

Where the mock server cannot play the fault, small test-only servers do: :class:`FaultyLink` relays
TCP (transparently, or as an HTTP ``CONNECT`` proxy) and can reset a connection mid-frame, stop
forwarding half-way through a frame, die and come back on the same port; :class:`WrongCertTls` is a
TLS front presenting a certificate for another host. Reconnect policies and timeouts are short, so the
whole file runs in well under a minute.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any, Final

import anyio
import anyio.to_thread
import pytest
from conftest import Collector, Flavour, fast_reconnect, wait_until

from webcast_proto import (
    ConnectError,
    Gift,
    GiftStreakTracker,
    HTTPStatusError,
    RateLimited,
    ReadTimeout,
    SignatureRequired,
    SignerError,
    StreamEnd,
    TransportError,
    fixtures,
)
from webcast_proto.config import Endpoints
from webcast_proto.signing import EulerSigner, LegacySigner
from webcast_transports import ReconnectPolicy
from webcast_transports.mock import (
    CloseSocket,
    DropMidFrame,
    EndStream,
    Heartbeat,
    HttpFault,
    HttpRecord,
    MockWebcastServer,
    Options,
    Room,
    Stall,
    WsOpened,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from webcast_proto.events import GiftStreakEnded

WS_PATH: Final = "/webcast/im/ws_proxy/ws_reuse_supplement/"
# Thread pools of the event loops, which keep idle workers for a while by design: not ours to join.
_RUNTIME_THREADS: Final = ("AnyIO worker thread", "Trio thread", "trio-")


# --------------------------------------------------------------------------------------------
# Leak checks
# --------------------------------------------------------------------------------------------


def _open_fds() -> collections.Counter[str]:
    """What the process's file descriptors point at (``socket:[…]``, files, pipes …)."""
    found: collections.Counter[str] = collections.Counter()
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the directory listing's own descriptor, gone by now
            found[os.readlink(f"/proc/self/fd/{name}")] += 1
    return found


def _our_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive() and not t.name.startswith(_RUNTIME_THREADS)}


class Rig:
    """The servers of one test, and the check that everything they and the client opened is closed.

    The snapshot is taken when the rig is made, before any server starts; :meth:`finish` stops every
    server and waits (up to 3 s, for closing threads) until the process holds exactly the descriptors
    and threads it held then.
    """

    def __init__(self) -> None:
        self._fds = _open_fds()
        self._threads = _our_threads()
        self._stoppers: list[Callable[[], None]] = []

    def serve(self, *rooms: Room, options: Options | None = None) -> MockWebcastServer:
        server = MockWebcastServer(list(rooms), options=options or Options(fetch_interval_ms=50)).start()
        self._stoppers.append(server.stop)
        return server

    def link(self, **kwargs: Any) -> FaultyLink:
        relay = FaultyLink(**kwargs)
        self._stoppers.append(relay.stop)
        return relay

    def tls(self, target: int, cert: Path, key: Path) -> WrongCertTls:
        front = WrongCertTls(target, cert, key)
        self._stoppers.append(front.stop)
        return front

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            stop()

    def finish(self) -> None:
        """Stop the servers, then assert that no descriptor and no thread was left behind."""
        self.stop()
        deadline = time.monotonic() + 3.0
        while True:
            leaked_fds = _open_fds() - self._fds
            leaked_threads = _our_threads() - self._threads
            if (not leaked_fds and not leaked_threads) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert not leaked_fds, f"file descriptors left open: {dict(leaked_fds)}"
        assert not leaked_threads, f"threads left running: {sorted(t.name for t in leaked_threads)}"


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.stop()  # idempotent: what a failed test did not stop


# --------------------------------------------------------------------------------------------
# FaultyLink: a TCP relay that can break a connection in the ways the mock server cannot
# --------------------------------------------------------------------------------------------


class _Pair:
    """One relayed connection: the client's socket, the upstream socket, and what was learnt."""

    def __init__(self, client: socket.socket) -> None:
        self.client = client
        self.upstream: socket.socket | None = None
        self.is_websocket = False
        self.stalled = False
        self.closed = False


class FaultyLink:
    """A relay on loopback, transparent to ``upstream_port`` or an HTTP ``CONNECT`` proxy (``connect``).

    Faults, armed with :meth:`arm`, hit the next chunk the server sends on a WebSocket connection (or
    on an HTTP one):

    * ``"reset"``: forward its first half, then reset the client's connection (RST, no close frame);
    * ``"stall"``: forward its first half, then forward nothing more from the server (the connection
      stays open: the client sees half a frame, then silence).

    :meth:`die` closes the listener and every relayed connection at once (a crashed proxy);
    :meth:`revive` listens again on the same port. Two pump threads per connection; :meth:`stop`
    closes and joins everything.
    """

    def __init__(self, *, upstream_port: int | None = None, connect: bool = False) -> None:
        self._upstream_port = upstream_port
        self._connect = connect
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._pairs: list[_Pair] = []
        self._armed: str | None = None
        self._armed_on_websocket = True
        self.cuts: list[tuple[int, int]] = []  # (bytes forwarded, bytes in the chunk) of each fault
        self.tunnels = 0
        self.port = 0
        self._listener: socket.socket | None = None
        self._placeholder: socket.socket | None = None
        self._accepting = threading.Event()
        self.revive()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{WS_PATH}"

    def arm(self, fault: str, *, on_websocket: bool = True) -> None:
        """Break the next chunk the server sends on a WebSocket (or, ``on_websocket=False``, on a
        plain HTTP connection)."""
        assert fault in ("reset", "stall")
        with self._lock:
            self._armed = fault
            self._armed_on_websocket = on_websocket

    def _take_fault(self, pair: _Pair) -> str | None:
        with self._lock:
            if self._armed is None or pair.is_websocket != self._armed_on_websocket:
                return None
            fault, self._armed = self._armed, None
            return fault

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="faulty-link", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    @staticmethod
    def _bound(port: int) -> socket.socket:
        """A TCP socket bound to ``port`` (0: any), sharing it with the others of this relay."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        return sock

    def revive(self) -> None:
        """Listen (again) on the port: the socket that held it while dead starts listening."""
        listener = self._placeholder or self._bound(0)
        self._placeholder = None
        listener.listen()
        listener.settimeout(0.02)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting.set()
        self._spawn(self._accept, listener)

    def _accept(self, listener: socket.socket) -> None:
        while self._accepting.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            pair = _Pair(conn)
            with self._lock:
                self._pairs.append(pair)
            self._spawn(self._serve, pair)

    def _serve(self, pair: _Pair) -> None:
        pair.client.settimeout(2.0)
        try:
            early = b""
            if self._connect:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = pair.client.recv(4096)
                    if not chunk:
                        raise OSError("closed before CONNECT")
                    head += chunk
                head, _, early = head.partition(b"\r\n\r\n")
                host, _, port = head.split(b" ")[1].decode().rpartition(":")
                target = (host, int(port))
            else:
                assert self._upstream_port is not None
                target = ("127.0.0.1", self._upstream_port)
            pair.upstream = socket.create_connection(target, timeout=2.0)
            if self._connect:
                pair.client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.tunnels += 1
            if early:
                pair.upstream.sendall(early)
        except OSError:
            self._close(pair)
            return
        pair.client.settimeout(0.02)
        pair.upstream.settimeout(0.02)
        self._spawn(self._pump_down, pair)
        self._pump_up(pair)

    def _pump_up(self, pair: _Pair) -> None:
        """Client → server; notices the WebSocket upgrade."""
        assert pair.upstream is not None
        while not pair.closed:
            try:
                data = pair.client.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if b"Upgrade: websocket" in data:
                pair.is_websocket = True
            try:
                pair.upstream.sendall(data)
            except OSError:
                break
        self._close(pair)

    def _pump_down(self, pair: _Pair) -> None:
        """Server → client; applies an armed fault to a WebSocket's next chunk."""
        assert pair.upstream is not None
        while not pair.closed:
            try:
                data = pair.upstream.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if pair.stalled:
                continue
            fault = self._take_fault(pair) if len(data) > 1 else None
            try:
                if fault is None:
                    pair.client.sendall(data)
                    continue
                half = len(data) // 2
                pair.client.sendall(data[:half])
                self.cuts.append((half, len(data)))
                if fault == "stall":
                    pair.stalled = True
                    continue
                # RST: a zero linger makes close() reset the connection instead of ending it.
                pair.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                break
            except OSError:
                break
        self._close(pair)

    def _close(self, pair: _Pair) -> None:
        pair.closed = True
        for sock in (pair.client, pair.upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def die(self, *, revivable: bool = True) -> None:
        """Crash: stop listening and drop every connection (each reset). Connections to the port are
        refused until :meth:`revive`, which can listen on it again since a bound socket keeps it."""
        self._accepting.clear()
        if revivable and self._placeholder is None and self._listener is not None:
            self._placeholder = self._bound(self.port)  # bound, not listening: connects are refused
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            with contextlib.suppress(OSError):
                pair.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            pair.closed = True
        self._join()

    def _join(self) -> None:
        while True:
            with self._lock:
                running = [t for t in self._threads if t.is_alive()]
                self._threads = running
            if not running:
                return
            for thread in running:
                thread.join()

    def stop(self) -> None:
        self.die(revivable=False)
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None


# --------------------------------------------------------------------------------------------
# WrongCertTls: TLS in front of a port, with a certificate for another host
# --------------------------------------------------------------------------------------------


class WrongCertTls:
    """Accepts TLS on loopback with its certificate and relays the plain bytes to ``target``."""

    def __init__(self, target: int, cert: Path, key: Path) -> None:
        self._target = target
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.02)
        self.port = self._listener.getsockname()[1]
        self.handshakes_failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="wrong-cert-tls", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    self._context.wrap_socket(conn, server_side=True).close()
                except (OSError, ssl.SSLError):  # the client refused the certificate, as it must
                    self.handshakes_failed += 1

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join()


@pytest.fixture(scope="module")
def wrong_host_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``wrong.example`` only (not 127.0.0.1), and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("wrong-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=wrong.example",
         "-addext", "subjectAltName=DNS:wrong.example"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


class Sent:
    """The chats pushed to a room, in order."""

    def __init__(self, server: MockWebcastServer, room: str) -> None:
        self._room = server.room(room)
        self.ids: list[int] = []

    def push(self, label: str, count: int) -> None:
        messages = [fixtures.chat(f"{label} {n}") for n in range(count)]
        self.ids.extend(m.common.msg_id for m in messages)
        self._room.push(*messages)


def delivered_once(collector: Collector, sent: Sent) -> Callable[[], bool]:
    return lambda: len(collector.of("chat")) >= len(sent.ids)


def assert_exactly_once(collector: Collector, sent: Sent) -> None:
    assert [chat.msg_id for chat in collector.of("chat")] == sent.ids


LISTEN: Final = (
    "chat",
    "connected",
    "websocketConnected",
    "reconnecting",
    "error",
    "disconnected",
    "streamEnd",
)


# --------------------------------------------------------------------------------------------
# The socket breaks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["reset", "stall"])
def test_reset_or_stall_mid_frame_resumes_without_loss_or_repeat(
    flavour: Flavour, rig: Rig, collector: Collector, fault: str
) -> None:
    """The push connection is reset (RST) half-way through a frame, or delivers half a frame and then
    nothing: the client drops the socket (a TransportError, or the liveness timeout), reconnects and
    resumes; the message of the cut frame and those sent meanwhile arrive once each, in order."""
    server = rig.serve(Room("ada"))
    relay = rig.link(upstream_port=server.port)
    sent = Sent(server, "ada")
    endpoints = Endpoints.from_base_url(server.base_url, push_server=relay.ws_url)

    async def body() -> None:
        client = flavour.client(server, "ada", endpoints=endpoints, liveness_timeout=0.5)
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            sent.push("before", 3)
            await wait_until(delivered_once(collector, sent), what="the first chats")
            relay.arm(fault)
            sent.push("cut", 1)
            await wait_until(collector.has("websocketConnected", 2), what="the new socket")
            sent.push("after", 2)
            await wait_until(delivered_once(collector, sent), what="every chat")
            await anyio.sleep(0.1)  # room for a duplicate to show up

    flavour.run(body)
    rig.finish()
    assert_exactly_once(collector, sent)
    assert len(relay.cuts) == 1
    forwarded, size = relay.cuts[0]
    assert 0 < forwarded < size  # the cut fell inside the frame
    (reconnecting,) = collector.of("reconnecting")
    if fault == "reset":
        assert reconnecting.reason == "closed"
        assert isinstance(collector.of("error")[0], TransportError)
    else:
        assert reconnecting.reason == "timeout"
        assert collector.of("error") == []
    assert len(server.recorder.of(WsOpened)) == 2


def test_a_fetch_answer_cut_half_way_times_out_and_is_retried(
    flavour: Flavour, rig: Rig, collector: Collector
) -> None:
    """The resume's im/fetch answer stops half-way through (headers and part of the body, then
    silence): after ``timeout`` the client gives up on it (ReadTimeout to ``error``), backs off and
    fetches again; nothing is lost or repeated."""
    server = rig.serve(Room("abi"))
    relay = rig.link(upstream_port=server.port)
    sent = Sent(server, "abi")
    endpoints = Endpoints.from_base_url(relay.url, push_server=relay.ws_url)

    async def body() -> None:
        client = flavour.client(server, "abi", endpoints=endpoints, timeout=0.4)
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            relay.arm("stall", on_websocket=False)
            server.room("abi").inject(CloseSocket(code=1011))
            sent.push("meanwhile", 3)
            await wait_until(collector.has("websocketConnected", 2), what="the new socket")
            await wait_until(delivered_once(collector, sent), what="every chat")

    flavour.run(body)
    rig.finish()
    assert_exactly_once(collector, sent)
    (timed_out,) = collector.of("error")
    assert isinstance(timed_out, ReadTimeout)
    assert "im/fetch" in timed_out.message
    assert [r.reason for r in collector.of("reconnecting")] == ["closed", "fetch_failed"]
    assert len(relay.cuts) == 1


def test_server_silent_past_the_liveness_timeout_while_messages_are_due(
    flavour: Flavour, rig: Rig, collector: Collector
) -> None:
    """The push server stalls with messages queued behind the stall (a hung socket, not a quiet room):
    after ``liveness_timeout`` the client resumes on a new socket and gets them there, once each,
    though the stalled socket sends them too when it wakes up."""
    server = rig.serve(Room("bea"))
    room = server.room("bea")
    sent = Sent(server, "bea")

    async def body() -> None:
        client = flavour.client(server, "bea", liveness_timeout=0.4)
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            room.inject(Stall(seconds=1.0))
            sent.push("stalled", 3)
            await wait_until(collector.has("reconnecting"), what="the liveness timeout")
            await wait_until(delivered_once(collector, sent), what="every chat")
            await anyio.sleep(0.8)  # the stalled socket wakes up meanwhile

    flavour.run(body)
    rig.finish()
    assert_exactly_once(collector, sent)
    reasons = {r.reason for r in collector.of("reconnecting")}
    assert reasons == {"timeout"}  # the first for the stall; later ones for the quiet room, if any


def test_heartbeats_never_answered_still_time_out(flavour: Flavour, rig: Rig, collector: Collector) -> None:
    """The client's heartbeats go out and the server never answers them (nor sends anything): sending
    is no sign of life, so the liveness timeout fires all the same and the client resumes."""
    server = rig.serve(Room("cleo"))
    sent = Sent(server, "cleo")

    async def body() -> None:
        client = flavour.client(server, "cleo", heartbeat_interval=0.05, liveness_timeout=0.5)
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            await wait_until(collector.has("reconnecting"), what="the liveness timeout")
            sent.push("after", 2)
            await wait_until(delivered_once(collector, sent), what="the chats")

    flavour.run(body)
    rig.finish()
    first_socket = server.recorder.of(WsOpened)[0].connection_id
    beats = [h for h in server.recorder.of(Heartbeat) if h.connection_id == first_socket]
    assert len(beats) >= 4
    assert [h.send_packet_seq_id for h in beats[:4]] == [1, 2, 3, 4]
    assert collector.of("reconnecting")[0].reason == "timeout"
    assert_exactly_once(collector, sent)


# --------------------------------------------------------------------------------------------
# HTTP answers: rate limits and 5xx storms
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["/webcast/im/fetch/", WS_PATH], ids=["fetch", "handshake"])
def test_429_on_resume_waits_for_retry_after(
    flavour: Flavour, rig: Rig, collector: Collector, where: str
) -> None:
    """A 429 with ``Retry-After`` on the resume's fetch or on the socket handshake: ``RateLimited`` with
    that ``retry_after`` goes to ``error``, the next attempt waits at least that long, and the client
    resumes with nothing lost or repeated."""
    server = rig.serve(Room("dina"))
    room = server.room("dina")
    sent = Sent(server, "dina")

    async def body() -> None:
        client = flavour.client(server, "dina")
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            room.inject(HttpFault(status=429, path=where, retry_after=0.3, message="slow down"))
            room.inject(CloseSocket(code=1011))
            sent.push("meanwhile", 3)
            await wait_until(collector.has("connected", 3 if where == WS_PATH else 2), what="the resume")
            await wait_until(delivered_once(collector, sent), what="every chat")

    flavour.run(body)
    rig.finish()
    assert_exactly_once(collector, sent)
    (limited,) = [e for e in collector.of("error") if isinstance(e, RateLimited)]
    assert limited.retry_after == 0.3
    delays = [r.delay for r in collector.of("reconnecting")]
    assert len(delays) == 2
    assert delays[1] >= 0.3
    (refused,) = [r for r in server.recorder.of(HttpRecord) if r.route == "fault"]
    later = [r for r in server.recorder.of(HttpRecord) if r.at > refused.at]
    assert later[0].at - refused.at >= 0.3  # the server heard nothing from the client meanwhile


def test_a_5xx_storm_is_ridden_out_with_growing_backoff(
    flavour: Flavour, rig: Rig, collector: Collector
) -> None:
    """Every request fails with 500/502/503 for a while (fetch, handshake, everything): each failure is
    an ``HTTPStatusError`` (retryable) given to ``error``, the delays grow, and once the storm is over
    the client resumes with every message sent during it, once each."""
    server = rig.serve(Room("eve"))
    room = server.room("eve")
    sent = Sent(server, "eve")
    policy = fast_reconnect(initial_delay=0.02, multiplier=2.0, jitter=0.0, max_attempts=None)

    async def body() -> None:
        client = flavour.client(server, "eve", reconnect=policy)
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            sent.push("before", 2)
            await wait_until(delivered_once(collector, sent), what="the first chats")
            for status in (500, 502, 503, 503):
                room.inject(HttpFault(status=status, path=""))
            room.inject(CloseSocket(code=1011))
            sent.push("storm", 3)
            await wait_until(collector.has("connected", 2), what="the end of the storm")
            await wait_until(delivered_once(collector, sent), what="every chat")

    flavour.run(body)
    rig.finish()
    assert_exactly_once(collector, sent)
    storm = [e for e in collector.of("error") if isinstance(e, HTTPStatusError)]
    assert sorted(e.status_code or 0 for e in storm) == [500, 502, 503, 503]
    assert all(e.retryable for e in storm)
    delays = [r.delay for r in collector.of("reconnecting")]
    assert delays == sorted(delays)
    assert len(delays) == 5  # the close, then one per failed attempt
    assert delays[-1] > delays[0]


# --------------------------------------------------------------------------------------------
# Nobody there: refused connections, names that do not resolve, a server that goes away
# --------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("target", ["refused", "dns"])
def test_nobody_there_is_a_connect_error(flavour: Flavour, rig: Rig, target: str) -> None:
    """``connect()`` to a port nobody listens on, or a host name that does not resolve: ConnectError."""
    server = rig.serve(Room("fay"))
    base = f"http://127.0.0.1:{_closed_port()}" if target == "refused" else "http://webcast-fault.invalid"

    async def body() -> None:
        client = flavour.client(server, "fay", endpoints=Endpoints.from_base_url(base))
        async with client:
            with pytest.raises(ConnectError, match="could not connect"):
                await client.connect()
            assert not client.state.is_connected

    flavour.run(body)
    rig.finish()


@pytest.mark.parametrize("target", ["refused", "dns"])
def test_a_push_server_nobody_answers_ends_in_a_connect_error(
    flavour: Flavour, rig: Rig, collector: Collector, target: str
) -> None:
    """The fetch works but the push server offered cannot be reached (refused, or its name does not
    resolve): each attempt's ConnectError goes to ``error``, the policy's attempts are made, then the
    final ``disconnected`` and ``connect()`` raise."""
    server = rig.serve(Room("gia"))
    host = f"127.0.0.1:{_closed_port()}" if target == "refused" else "push.webcast-fault.invalid"
    endpoints = Endpoints.from_base_url(server.base_url, push_server=f"ws://{host}{WS_PATH}")

    async def body() -> None:
        client = flavour.client(server, "gia", endpoints=endpoints, reconnect=fast_reconnect(max_attempts=2))
        collector.listen(client, *LISTEN)
        async with client:
            with pytest.raises(ConnectError, match="could not connect"):
                await client.connect()

    flavour.run(body)
    rig.finish()
    assert collector.names() == [
        "connected", "error", "reconnecting", "connected", "error", "reconnecting", "connected", "error",
        "disconnected",
    ]  # fmt: skip
    assert all(isinstance(e, ConnectError) for e in collector.of("error"))
    final = collector.of("disconnected")[0]
    assert (final.reason, final.retryable) == ("upgrade_failed", True)


def test_the_server_going_away_ends_after_the_policy(
    flavour: Flavour, rig: Rig, collector: Collector
) -> None:
    """The whole server goes away mid-session (its sockets closed, its port refusing): the client tries
    ``max_attempts`` times, each refused (ConnectError to ``error``), then ``disconnected``."""
    server = rig.serve(Room("hana"))

    async def body() -> None:
        client = flavour.client(server, "hana", reconnect=fast_reconnect(max_attempts=3))
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            await anyio.to_thread.run_sync(server.stop)
            await client.wait_until_disconnected()

    flavour.run(body)
    rig.finish()
    assert [r.attempt for r in collector.of("reconnecting")] == [1, 2, 3]
    assert all(isinstance(e, ConnectError) for e in collector.of("error"))
    assert len(collector.of("error")) == 3
    final = collector.of("disconnected")[0]
    assert (final.reason, final.retryable) == ("fetch_failed", True)


# --------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["everything", "push server"])
def test_a_certificate_for_another_host_is_refused(
    flavour: Flavour,
    rig: Rig,
    collector: Collector,
    wrong_host_certificate: tuple[Path, Path],
    where: str,
) -> None:
    """A trusted certificate that names another host is refused (ConnectError, TLS), whether every
    endpoint is behind it (``connect()`` raises at once) or only the push server (each attempt fails,
    then ``connect()`` raises)."""
    server = rig.serve(Room("ines"))
    front = rig.tls(server.port, *wrong_host_certificate)
    trusting = ssl.create_default_context(cafile=str(wrong_host_certificate[0]))
    tls = f"127.0.0.1:{front.port}"
    if where == "everything":
        endpoints = Endpoints.from_base_url(f"https://{tls}", push_server=f"wss://{tls}{WS_PATH}")
    else:
        endpoints = Endpoints.from_base_url(server.base_url, push_server=f"wss://{tls}{WS_PATH}")

    async def body() -> None:
        client = flavour.client(
            server,
            "ines",
            endpoints=endpoints,
            ssl_context=trusting,
            reconnect=fast_reconnect(max_attempts=1),
        )
        collector.listen(client, *LISTEN)
        async with client:
            with pytest.raises(ConnectError, match=r"TLS|certificate"):
                await client.connect()

    flavour.run(body)
    rig.finish()
    assert front.handshakes_failed >= 1
    if where == "everything":
        assert collector.names() == []
        assert server.recorder.of(HttpRecord) == []
    else:
        assert collector.names()[-1] == "disconnected"
        assert len(server.recorder.of(WsOpened)) == 0


# --------------------------------------------------------------------------------------------
# A proxy that dies
# --------------------------------------------------------------------------------------------


def test_a_proxy_that_dies_and_comes_back(flavour: Flavour, rig: Rig, collector: Collector) -> None:
    """The HTTP proxy carrying every connection crashes mid-session: the socket breaks, the resumes are
    refused (ConnectError to ``error``) while it is down, and once it listens again the client resumes
    through it with every message sent during the outage, once each."""
    server = rig.serve(Room("jo"))
    proxy = rig.link(connect=True)
    sent = Sent(server, "jo")
    policy = ReconnectPolicy(initial_delay=0.05, max_delay=0.1, jitter=0.0, max_attempts=None)

    async def body() -> None:
        client = flavour.client(server, "jo", proxy=proxy.url, reconnect=policy)
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            sent.push("before", 2)
            await wait_until(delivered_once(collector, sent), what="the first chats")
            proxy.die()
            sent.push("outage", 3)
            await wait_until(lambda: len(collector.of("error")) >= 3, what="refused resumes")
            proxy.revive()
            await wait_until(collector.has("websocketConnected", 2), what="the socket through the proxy")
            await wait_until(delivered_once(collector, sent), what="every chat")

    flavour.run(body)
    rig.finish()
    assert_exactly_once(collector, sent)
    errors = collector.of("error")
    assert isinstance(errors[0], TransportError)  # the tunnel broke
    assert all(isinstance(e, ConnectError) for e in errors[1:])  # nobody at the proxy's port
    assert proxy.tunnels >= 4  # HTTP and socket before the crash, and again after
    assert len(server.recorder.of(WsOpened)) == 2


# --------------------------------------------------------------------------------------------
# The sign server
# --------------------------------------------------------------------------------------------

_SIGNERS: Final = {"euler": "/webcast/fetch", "legacy": "/webcast/sign_url"}


def _signer(kind: str, server: MockWebcastServer) -> EulerSigner | LegacySigner:
    if kind == "euler":
        return EulerSigner(endpoints=server.endpoints())
    return LegacySigner(base_url=f"{server.base_url}/")


@pytest.mark.parametrize("kind", sorted(_SIGNERS))
def test_sign_server_errors_at_connect(flavour: Flavour, rig: Rig, kind: str) -> None:
    """At connect, the sign server's 500s are retried (SignerError is retryable) until it answers, and
    its 403 (SignatureRequired) is not: ``connect()`` raises it after one request."""
    server = rig.serve(Room("kai"), Room("lou"))
    path = _SIGNERS[kind]

    async def body() -> None:
        server.room("kai").inject(HttpFault(status=500, path=path, count=2, message="signer down"))
        client = flavour.client(server, "kai", signer=_signer(kind, server))
        async with client:
            state = await client.connect()
            assert state.upgraded_to_websocket
        server.room("lou").inject(HttpFault(status=403, path=path, message="needs a plan"))
        client = flavour.client(server, "lou", signer=_signer(kind, server))
        async with client:
            with pytest.raises(SignatureRequired, match="needs a plan"):
                await client.connect()

    flavour.run(body)
    rig.finish()
    sign = [r for r in server.recorder.of(HttpRecord) if r.path == path]
    assert [r.status for r in sign] == [500, 500, 200, 403]


@pytest.mark.parametrize("kind", sorted(_SIGNERS))
def test_sign_server_errors_on_resume(flavour: Flavour, rig: Rig, collector: Collector, kind: str) -> None:
    """Mid-session, the resume's sign request fails (503): SignerError goes to ``error``, the client
    backs off and resumes once the sign server answers, nothing lost or repeated."""
    server = rig.serve(Room("mai"))
    room = server.room("mai")
    sent = Sent(server, "mai")

    async def body() -> None:
        client = flavour.client(server, "mai", signer=_signer(kind, server))
        collector.listen(client, *LISTEN)
        async with client:
            await client.connect()
            room.inject(HttpFault(status=503, path=_SIGNERS[kind], count=2, message="overloaded"))
            room.inject(CloseSocket(code=1011))
            sent.push("meanwhile", 3)
            await wait_until(collector.has("connected", 2), what="the resume")
            await wait_until(delivered_once(collector, sent), what="every chat")

    flavour.run(body)
    rig.finish()
    assert_exactly_once(collector, sent)
    errors = collector.of("error")
    assert [type(e) for e in errors] == [SignerError, SignerError]
    assert all("overloaded" in e.message and e.status_code == 503 for e in errors)
    assert [r.attempt for r in collector.of("reconnecting")] == [1, 2, 3]


# --------------------------------------------------------------------------------------------
# The stream ends during a gift streak
# --------------------------------------------------------------------------------------------


def _streak(count: int, *, group_id: int) -> list[fixtures.WebcastMessage]:
    """``count`` in-progress events of a Rose streak (type 1), its final event never sent."""
    giver = fixtures.user(user_id=77, nickname="Streaker")
    return [
        fixtures.gift(5655, repeat_count=n, repeat_end=False, user=giver, group_id=group_id)
        for n in range(1, count + 1)
    ]


@pytest.mark.parametrize("socket_lost", [False, True], ids=["on-the-socket", "while-reconnecting"])
def test_stream_end_during_a_gift_streak(
    flavour: Flavour, rig: Rig, collector: Collector, socket_lost: bool
) -> None:
    """The stream ends while a gift streak is in progress (its final event never comes), delivered on
    the socket or, when the socket was lost just before, by the resume: each streak event once, then
    ``streamEnd`` then ``disconnected`` (reason stream_end, not retryable), no reconnect after it; a
    :class:`GiftStreakTracker` fed by the handler closes the open streak with its count."""
    server = rig.serve(Room("nia"))
    room = server.room("nia")
    tracker = GiftStreakTracker()
    ended: list[GiftStreakEnded] = []

    def on_gift(gift: Gift) -> None:
        ended.extend(tracker.receive_gift(gift, time.monotonic()))

    def on_stream_end(event: StreamEnd) -> None:
        ended.extend(tracker.close_all())

    async def body() -> None:
        client = flavour.client(server, "nia")
        collector.listen(client, "gift", "reconnecting", "streamEnd", "disconnected")
        client.on("gift", on_gift)
        client.on("streamEnd", on_stream_end)
        async with client:
            await client.connect()
            room.push(*_streak(2, group_id=9))
            await wait_until(collector.has("gift", 2), what="the streak's start")
            if socket_lost:
                room.inject(DropMidFrame())
            room.push(*_streak(4, group_id=9)[2:])
            room.inject(EndStream())
            await client.wait_until_disconnected()

    flavour.run(body)
    rig.finish()
    assert [g.repeat_count for g in collector.of("gift")] == [1, 2, 3, 4]
    assert not any(g.repeat_end for g in collector.of("gift"))
    names = collector.names()
    assert names[-2:] == ["streamEnd", "disconnected"]
    assert names.count("reconnecting") == (1 if socket_lost else 0)
    final = collector.of("disconnected")[0]
    assert (final.reason, final.retryable) == ("stream_end", False)
    assert [(e.gift_id, e.final_count, e.closed_by_timeout) for e in ended] == [(5655, 4, True)]
