"""A mock WebCast server process for the benchmarks that need one: ``python -m benchmarks._server``.

The benchmarks run the server in its own process, so that what they measure in theirs (RSS, CPU,
latency) is the client's alone. This wraps :class:`~webcast_transports.mock.MockWebcastServer` with
``--rooms`` quiet rooms (``bench0``, ``bench1`` …) and a pacer the benchmark drives over stdin.

Protocol: the first stdout line is JSON ``{"base_url": …, "rooms": [[name, room_id], …]}``. Then each
stdin line is a JSON command, answered by one stdout JSON line:

* ``{"cmd": "pace", "rate": F, "per_frame": K, "duration": S, "kind": "chat" | "mix"}`` — for ``S``
  seconds, publish ``F`` frames a second in all, each to the next room in turn, each of ``K``
  messages: ``chat`` messages only, or the realistic mix (``fixtures.realistic_mix``) ending with
  one chat. Every chat's comment is ``time.monotonic_ns()`` read in the server's event loop just
  before it publishes the frame (then the server encodes, gzips and writes it). The server also
  notes ``time.monotonic_ns()`` twice as it writes each frame (after the encoding, gzip and
  WebSocket framing): once before it calls anyio's ``SocketStream.send`` (what the benchmarks
  measured from until 2026-11-25), and once more immediately before it hands the bytes to the
  socket's asyncio transport, whose ``write`` makes the ``send`` system call at once (its buffer is
  empty). For that, a frame whose socket is idle (nothing left unsent, anyio not waiting for the
  buffer to drain) is written to the transport directly, as anyio's ``send`` would, with its final
  yield; otherwise (a busy socket) it goes through ``send`` and both times are the one before it.
  So a client on the same machine can tell the latency from the server writing to its handler.
  Answer: ``{"frames": n, "messages": m, "behind": frames not sent on time at the end, "written":
  {stamp: write time}, "send_called": {stamp: time before anyio's send}}``: for every chat stamp
  of the run, when the frame carrying it was written (``monotonic_ns``; a stamp whose frame was not
  written within a second of the end is left out).
* ``{"cmd": "end"}`` — every room's stream ends (clients get ``streamEnd`` and disconnect).

End of stdin stops the server. The pacer calls into the server's loop through its portal (one call
per 1 ms tick with every frame then due), and stamps there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import time
from typing import TYPE_CHECKING, Any

import anyio.lowlevel
from wsproto.events import BytesMessage

from webcast_proto import fixtures
from webcast_proto._pb import webcast_pb2 as pb
from webcast_transports.mock import EndStream, MockWebcastServer, Options, Room, _session

if TYPE_CHECKING:
    from collections.abc import Iterator

    from webcast_transports.mock._rooms import RoomState

CHAT = "WebcastChatMessage"
# Nineteen digits: every monotonic_ns() of the next three centuries, so the stamp is spliced in place.
STAMP_WIDTH = 19
PLACEHOLDER = b"\x01" * STAMP_WIDTH
# Frame sizes of the mix, as in benchmarks.decode: mostly small frames, some busy ones.
FRAME_SIZES = (1, 3, 8, 2, 15, 5, 40, 4, 1, 25, 6, 12)


# (room id, room position of a message) → (monotonic_ns() before anyio's send was called, and just
# before the frame's bytes went to the socket's transport), while a pace with write times runs; None
# otherwise (nothing is kept).
_WRITTEN: dict[tuple[int, int], tuple[int, int]] | None = None


def _idle_transport(stream: object) -> asyncio.WriteTransport | None:
    """The asyncio transport under anyio's socket ``stream`` when a write would reach the socket at
    once (open, nothing buffered, anyio not waiting for it to drain), else ``None``."""
    transport = getattr(stream, "_transport", None)
    write_event = getattr(getattr(stream, "_protocol", None), "write_event", None)
    if (
        not isinstance(transport, asyncio.WriteTransport)
        or getattr(stream, "_closed", True)
        or transport.is_closing()
        or transport.get_write_buffer_size()
        or not isinstance(write_event, asyncio.Event)
        or not write_event.is_set()
    ):
        return None
    return transport


async def _write_entries_timed(session: _session.Session, operation: _session.Entries) -> None:
    """``Session._write_entries``, noting the time before anyio's ``send`` and the time just before
    the frame's bytes go to the socket (the module docstring)."""
    frame = session.socket.msg_frame(operation.first, operation.count, session.server.now_ms())
    data = session.ws.send(BytesMessage(frame))
    written = _WRITTEN
    if written is None:
        await session.stream.send(data)
        return
    called = time.monotonic_ns()
    transport = _idle_transport(session.stream)
    at = time.monotonic_ns() if transport is not None else called
    room_id = session.state.room.room_id
    for position in range(operation.first, operation.first + operation.count):
        written[room_id, position] = (called, at)
    if transport is None:
        await session.stream.send(data)
        return
    # As anyio's send does on an idle socket: write (the system call, at once), then one yield that
    # a cancellation cannot interrupt. A partial write leaves the rest buffered and anyio's protocol
    # paused (its write limit is 0), so the next send waits for the socket to drain as before.
    transport.write(data)
    await anyio.lowlevel.cancel_shielded_checkpoint()


# The mock's writer table maps each operation to its method: the timed one replaces the entries'.
_session._WRITERS[_session.Entries] = _write_entries_timed


@contextlib.contextmanager
def _timing_writes() -> Iterator[dict[tuple[int, int], tuple[int, int]]]:
    global _WRITTEN
    _WRITTEN = {}
    try:
        yield _WRITTEN
    finally:
        _WRITTEN = None


def chat_template(room_id: int) -> bytes:
    """A serialized chat for ``room_id`` whose comment is the placeholder, to be stamped per send."""
    viewer = fixtures.user(user_id=7_100_000_000_000_000_123, nickname="bench ✨")
    message = fixtures.chat(PLACEHOLDER.decode(), user=viewer, msg_id=1, room_id=room_id)
    return message.SerializeToString()


class Pacer:
    """Publishes frames at a steady rate into the server's rooms (see the module docstring)."""

    def __init__(self, server: MockWebcastServer, rooms: list[Room]) -> None:
        self.server = server
        self.states: list[RoomState] = []
        for room in rooms:
            state = server.directory.by_name(room.unique_id)
            assert state is not None
            self.states.append(state)
        self.templates = [chat_template(room.room_id) for room in rooms]
        self.ids = itertools.count(1)
        self.mix = fixtures.realistic_mix(20_000, seed=7)
        self.mix_at = 0
        self.sizes = itertools.cycle(FRAME_SIZES)
        # stamp → (room id, room position of a chat carrying it), while a pace runs
        self.stamped: dict[int, tuple[int, int]] = {}

    def _messages(self, index: int, per_frame: int, kind: str) -> list[pb.BaseProtoMessage]:
        """A frame's messages, the chat last (stamped later): envelope ids are fresh every time."""
        ids = self.ids
        out: list[pb.BaseProtoMessage] = []
        if kind == "mix":
            size = next(self.sizes)
            for _ in range(size - 1):
                message = self.mix[self.mix_at]
                self.mix_at = (self.mix_at + 1) % len(self.mix)
                out.append(pb.BaseProtoMessage(method=message.method, msg_id=next(ids)))
                out[-1].payload = message.payload
            out.append(pb.BaseProtoMessage(method=CHAT, msg_id=next(ids)))
        else:
            out.extend(pb.BaseProtoMessage(method=CHAT, msg_id=next(ids)) for _ in range(per_frame))
        return out

    def _publish(self, batch: list[tuple[int, list[pb.BaseProtoMessage]]]) -> None:
        """In the server's loop: stamp each frame's chats with the time now, and publish it."""
        server = self.server
        for index, messages in batch:
            template = self.templates[index]
            stamp = str(time.monotonic_ns()).zfill(STAMP_WIDTH).encode()
            payload = template.replace(PLACEHOLDER, stamp)
            for message in messages:
                if message.method == CHAT:
                    message.payload = payload
            state = self.states[index]
            server.publish(state, messages)
            # The frame's chats all carry the stamp and are written in one frame: the last will do.
            self.stamped[int(stamp)] = (state.room.room_id, state.position)

    def pace(self, rate: float, per_frame: int, duration: float, kind: str) -> dict[str, Any]:
        """Publish ``rate`` frames a second for ``duration`` seconds; returns what was sent."""
        with _timing_writes() as written:
            self.stamped = {}
            answer = self._pace(rate, per_frame, duration, kind)
            # The last frames may still be on their way to the socket: wait for them (up to 1 s).
            wanted = set(self.stamped.values())
            give_up = time.monotonic() + 1.0
            while not all(key in written for key in wanted) and time.monotonic() < give_up:
                time.sleep(0.01)
            answer["written"] = {
                str(stamp): written[key][1] for stamp, key in self.stamped.items() if key in written
            }
            answer["send_called"] = {
                str(stamp): written[key][0] for stamp, key in self.stamped.items() if key in written
            }
        return answer

    def _pace(self, rate: float, per_frame: int, duration: float, kind: str) -> dict[str, Any]:
        n_rooms = len(self.states)
        sent = messages = 0
        room = 0
        start = time.monotonic()
        end = start + duration
        while True:
            now = time.monotonic()
            if now >= end:
                break
            due = int((now - start) * rate) + 1 - sent
            if due > 0:
                batch = []
                for _ in range(due):
                    frame = self._messages(room, per_frame, kind)
                    messages += len(frame)
                    batch.append((room, frame))
                    room = (room + 1) % n_rooms
                self.server._call(lambda batch=batch: self._publish(batch))  # type: ignore[misc]
                sent += due
            next_at = start + sent / rate
            time.sleep(max(0.0, min(next_at, end) - time.monotonic()))
        behind = max(0, int(duration * rate) - sent)
        return {"frames": sent, "messages": messages, "behind": behind}


def main(argv: list[str] | None = None) -> int:
    """Serve until stdin ends; see the module docstring."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="number of the first room (bench{first})")
    parser.add_argument("--heartbeat-interval", type=float, default=10.0)
    ns = parser.parse_args(argv)
    rooms = [Room(f"bench{i}", scenario="quiet") for i in range(ns.first, ns.first + ns.rooms)]
    options = Options(heartbeat_interval=ns.heartbeat_interval, initial_count=0, compress=True)
    with MockWebcastServer(rooms, options=options) as server:
        rooms = [handle.room for handle in server.rooms]
        pacer = Pacer(server, rooms)
        print(json.dumps({"base_url": server.base_url, "rooms": [[r.unique_id, r.room_id] for r in rooms]}))
        sys.stdout.flush()
        for line in sys.stdin:
            command = json.loads(line)
            if command["cmd"] == "pace":
                per_frame, kind = command.get("per_frame", 1), command.get("kind", "chat")
                answer = pacer.pace(command["rate"], per_frame, command["duration"], kind)
            elif command["cmd"] == "end":
                for handle in server.rooms:
                    handle.inject(EndStream())
                answer = {"ended": len(rooms)}
            else:
                answer = {"error": f"unknown command {command['cmd']!r}"}
            print(json.dumps(answer))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
