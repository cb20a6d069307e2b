"""The floor of the latency benchmark: the server's frames read by a bare asyncio protocol.

What any asyncio program pays on this machine for the loopback and its own wake-up: the same server
process, pacing and stamping as the client's cases (``benchmarks._server``), read by an asyncio
``Protocol`` whose ``data_received`` only notes ``time.monotonic_ns()`` and keeps the bytes. No
WebSocket parsing, no decode, no ack, no heartbeat, no handler: the bytes are parsed after the case
(WebSocket frames with wsproto, push frames and chats with the codec) to find each frame's stamp,
and a frame counts as read at the ``data_received`` that brought its last byte.

The socket is opened the client's way (the core's first fetch, then the WebSocket upgrade written by
hand on the protocol's transport), in a connection of its own: the client's cases are over by then.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import os
import time
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import httpcore
from wsproto.frame_protocol import FrameProtocol, Opcode

from benchmarks._clients import Case, Outcome, finish, pace
from benchmarks._common import cpu_seconds
from webcast_proto import codec, http
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.config import ClientParams, Endpoints
from webcast_proto.connection import ClientConnection, UpgradeToWebSocket

if TYPE_CHECKING:
    from benchmarks._common import ServerProcess

CHAT = "WebcastChatMessage"


class _StampingProtocol(asyncio.Protocol):
    """Notes when each chunk came; before the upgrade's answer, collects it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.chunks: list[tuple[int, bytes]] = []  # (monotonic_ns in data_received, the bytes)
        self.head = b""
        self.upgraded: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        if self.upgraded.done():
            self.chunks.append((now, data))
            return
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            return
        head, rest = self.head[:end], self.head[end + 4 :]
        if not head.startswith(b"HTTP/1.1 101"):
            self.upgraded.set_exception(RuntimeError(f"upgrade refused: {head[:80]!r}"))
            return
        self.upgraded.set_result(None)
        if rest:
            self.chunks.append((now, rest))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


def _socket_url(server: ServerProcess) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The push socket's URL and upgrade headers, from the core's first fetch (as the client does)."""
    params = ClientParams()
    conn = ClientConnection(
        room_id=server.rooms[0][1],
        endpoints=Endpoints.from_base_url(server.base_url),
        client_params=params,
        process_initial_data=False,
    )
    request = conn.start()
    answer = httpcore.request(
        request.method, request.url, headers=list(request.headers), content=request.body or None
    )
    response = http.Response(
        status_code=answer.status,
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.headers),
        body=answer.content,
    )
    _, instruction = conn.receive_fetch_response(http.parse_fetch_response(response), time.monotonic())
    assert isinstance(instruction, UpgradeToWebSocket), instruction
    return instruction.url, http.build_websocket_headers(client_params=params)


def _stamps(chunks: list[tuple[int, bytes]]) -> list[tuple[int, int]]:
    """``(stamp, read)`` for every chat in ``chunks``: its stamp, and the time of the chunk that
    completed its frame."""
    frames = FrameProtocol(client=True, extensions=[])
    out: list[tuple[int, int]] = []
    message = bytearray()
    for at, data in chunks:
        frames.receive_bytes(data)
        for frame in frames.received_frames():
            if frame.opcode not in (Opcode.BINARY, Opcode.CONTINUATION):
                continue
            message += cast("bytes", frame.payload)
            if not frame.message_finished:
                continue
            push = codec.parse_push_frame(bytes(message))
            message.clear()
            if push.payload_type != "msg":
                continue
            result = codec.fetch_result_from_frame(push)
            for entry in result.messages:
                if entry.method == CHAT:
                    chat = pb.WebcastChatMessage.FromString(entry.payload)
                    out.append((int(chat.content), at))
    return out


def run_floor(server: ServerProcess, case: Case, *, uvloop: bool = False) -> Outcome:
    """Open a socket to the server's first room, have it pace ``case``, and measure the floor.

    Returns:
        The outcome: ``latencies_us`` from the server's write to ``data_received``; ``received`` the
        chats found; CPU the process's over the case (the loop's wake-ups and reads).
    """
    url, headers = _socket_url(server)
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    if parts.scheme != "ws" or host is None or port is None:
        raise RuntimeError(f"the floor reads ws:// only, not {url}")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def main() -> tuple[dict[str, Any], list[tuple[int, bytes]], float, float, float]:
        loop = asyncio.get_running_loop()
        protocol = _StampingProtocol(loop)
        transport, _ = await loop.create_connection(lambda: protocol, host, port)
        try:
            transport.write(request)
            await asyncio.wait_for(protocol.upgraded, 10)
            protocol.chunks.clear()  # the frames sent on opening (the first fetch's cursor on)
            server_cpu0, cpu0, t0 = server.cpu_seconds(), cpu_seconds(), time.monotonic()
            answer = await loop.run_in_executor(None, pace, server, case)
            await asyncio.sleep(0.1)  # the last frames' bytes
            seconds, cpu = time.monotonic() - t0, cpu_seconds() - cpu0
            return answer, protocol.chunks, seconds, cpu, server.cpu_seconds() - server_cpu0
        finally:
            transport.abort()

    if uvloop:  # the `bench` extra's; imported by name, so that type checks need not have it
        uvloop_module = importlib.import_module("uvloop")
        answer, chunks, seconds, cpu, server_cpu = uvloop_module.run(main())
    else:
        answer, chunks, seconds, cpu, server_cpu = asyncio.run(main())
    seen = _stamps(chunks)
    # Read there is the moment of data_received, which the handler's time stands for in finish().
    outcome = finish(case, [(stamp, 0, read) for stamp, read in seen], len(seen), answer, seconds, cpu)
    outcome.server_cpu = server_cpu
    return outcome
