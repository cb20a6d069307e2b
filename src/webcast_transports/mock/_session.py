"""One push socket on the mock server: a reader and a writer around a :class:`~._push.PushSocket`.

The reader turns the client's WebSocket messages into records (and queues the answers they call
for: enter-room response, pong, close reply). The writer drains a bounded queue of operations —
frames to send and the scenario's socket faults — in order, so a stall delays everything queued
behind it, as a stalled TCP stream would. Only the writer writes to the socket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

import anyio
from wsproto.connection import ConnectionState
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage
from wsproto.utilities import LocalProtocolError as WsLocalProtocolError
from wsproto.utilities import RemoteProtocolError as WsRemoteProtocolError

from webcast_transports.mock._record import EnterRoom, Violation, WsClosed
from webcast_transports.mock._scenarios import CloseSocket, DropMidFrame, GarbageFrame, SocketAction, Stall

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from anyio.abc import SocketStream, TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from wsproto.connection import Connection as WsConnection

    from webcast_transports.mock._push import PushSocket
    from webcast_transports.mock._record import Record
    from webcast_transports.mock._rooms import RoomState
    from webcast_transports.mock._routes import Options

__all__ = ["Close", "EnterRoomResp", "Entries", "Operation", "Session", "SessionHost"]

# A client's WebSocket message: ack, heartbeat and enter-room frames are < 100 bytes.
MAX_CLIENT_MESSAGE_BYTES: Final = 1024 * 1024
# Operations queued for one socket's writer. A minute's stall in a lively room queues ~1,000
# frames; past this the client is not reading at all and the socket is dropped.
MAX_QUEUED_OPERATIONS: Final = 10_000
# How long a closing socket waits for the client's close frame.
CLOSE_TIMEOUT: Final = 2.0
# RFC 6455 §7.4.1.
CLOSE_PROTOCOL_ERROR: Final = 1002
CLOSE_TOO_BIG: Final = 1009


class SessionHost(Protocol):
    """What a session needs from the server."""

    @property
    def options(self) -> Options: ...

    def now(self) -> float:
        """Seconds since the server started."""

    def now_ms(self) -> int:
        """Wall-clock ms."""

    def record(self, record: Record) -> None:
        """Keep a record."""


@dataclass(frozen=True, slots=True)
class Entries:
    first: int  # room position of the first message
    count: int


@dataclass(frozen=True, slots=True)
class EnterRoomResp:
    pass


@dataclass(frozen=True, slots=True)
class Pong:
    event: Ping


@dataclass(frozen=True, slots=True)
class CloseReply:
    event: CloseConnection


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str
    initiator: str = "server"


Operation = Entries | EnterRoomResp | Pong | CloseReply | Close | SocketAction


class _Stop(Exception):
    """The writer is done with the socket: it closed it, dropped it, or answered the client's close."""


class Session:
    """One push socket on the server: protocol state, writer queue, reader and writer tasks."""

    def __init__(
        self,
        server: SessionHost,
        state: RoomState,
        stream: SocketStream,
        ws: WsConnection,
        socket: PushSocket,
    ) -> None:
        self.server = server
        self.state = state
        self.stream = stream
        self.ws = ws
        self.socket = socket
        self.connection_id = socket.connection_id
        send, receive = anyio.create_memory_object_stream[Operation](MAX_QUEUED_OPERATIONS)
        self._send: MemoryObjectSendStream[Operation] = send
        self._receive: MemoryObjectReceiveStream[Operation] = receive
        self._closed_recorded = False
        self._close_answered = anyio.Event()
        self._group: TaskGroup | None = None

    # -- queueing (on the loop) -------------------------------------------------------------

    def put(self, operation: Operation) -> None:
        """Queue an operation for the writer; a full queue means the client stopped reading."""
        try:
            self._send.send_nowait(operation)
        except anyio.WouldBlock:
            self._record_closed(None, "send queue overflow", "drop")
            if self._group is not None:
                self._group.cancel_scope.cancel()
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the writer is gone: the socket is closing

    def _record_closed(self, code: int | None, reason: str, initiator: str) -> None:
        if not self._closed_recorded:
            self._closed_recorded = True
            room_id = self.state.room.room_id
            self.server.record(
                WsClosed(
                    at=self.server.now(), connection_id=self.connection_id, room_id=room_id,
                    code=code, reason=reason, initiator=initiator,
                )
            )  # fmt: skip

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        with self._send, self._receive:
            async with anyio.create_task_group() as group:
                self._group = group
                group.start_soon(self._write, group)
                await self._read()
                group.cancel_scope.cancel()
        self._record_closed(None, "connection lost", "client")

    async def _write(self, group: TaskGroup) -> None:
        try:
            async for operation in self._receive:
                await _WRITERS[type(operation)](self, operation)
        except (_Stop, anyio.BrokenResourceError, anyio.ClosedResourceError, WsLocalProtocolError):
            pass
        group.cancel_scope.cancel()

    async def _send_message(self, data: bytes) -> None:
        await self.stream.send(self.ws.send(BytesMessage(data)))

    async def _write_entries(self, operation: Entries) -> None:
        frame = self.socket.msg_frame(operation.first, operation.count, self.server.now_ms())
        await self._send_message(frame)

    async def _write_enter_room_resp(self, operation: EnterRoomResp) -> None:
        await self._send_message(self.socket.enter_room_resp())

    async def _write_pong(self, operation: Pong) -> None:
        await self.stream.send(self.ws.send(operation.event.response()))

    async def _write_close_reply(self, operation: CloseReply) -> None:
        if self.ws.state is ConnectionState.REMOTE_CLOSING:
            await self.stream.send(self.ws.send(operation.event.response()))
        raise _Stop

    async def _write_close(self, operation: Close | CloseSocket) -> None:
        if self.ws.state is not ConnectionState.OPEN:
            raise _Stop
        initiator = operation.initiator if isinstance(operation, Close) else "server"
        self._record_closed(operation.code, operation.reason, initiator)
        await self.stream.send(self.ws.send(CloseConnection(operation.code, operation.reason)))
        with anyio.move_on_after(CLOSE_TIMEOUT):
            await self._close_answered.wait()
        raise _Stop

    async def _write_drop(self, operation: DropMidFrame) -> None:
        # Half of a real msg frame, WebSocket header included, then the TCP connection goes away.
        data = self.ws.send(BytesMessage(self.socket.last_msg_frame(self.server.now_ms())))
        await self.stream.send(data[: len(data) // 2])
        self._record_closed(None, "dropped mid-frame", "drop")
        await self.stream.aclose()
        raise _Stop

    async def _write_stall(self, operation: Stall) -> None:
        await anyio.sleep(operation.seconds / self.server.options.speed)

    async def _write_garbage(self, operation: GarbageFrame) -> None:
        await self._send_message(operation.data)

    async def _read(self) -> None:
        buffer = bytearray()
        while True:
            try:
                data = await self.stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return
            try:
                self.ws.receive_data(data)
                events = list(self.ws.events())
            except WsRemoteProtocolError as exc:  # pragma: no cover  # wsproto reports most as events
                self._violate(f"invalid WebSocket data: {exc}", CLOSE_PROTOCOL_ERROR)
                return
            for event in events:
                if isinstance(event, Message):
                    buffer += event.data if isinstance(event, BytesMessage) else event.data.encode()
                    if len(buffer) > MAX_CLIENT_MESSAGE_BYTES:
                        self._violate(f"client message over {MAX_CLIENT_MESSAGE_BYTES} bytes", CLOSE_TOO_BIG)
                        self.put(Close(CLOSE_TOO_BIG, "message too big"))
                        buffer.clear()
                    elif event.message_finished:
                        self._on_message(bytes(buffer), is_text=isinstance(event, TextMessage))
                        buffer.clear()
                elif isinstance(event, Ping):
                    if self.server.options.answer_pings:
                        self.put(Pong(event))
                elif isinstance(event, CloseConnection):
                    if self.ws.state is ConnectionState.CLOSED:  # the answer to our close
                        self._close_answered.set()
                        return
                    self._record_closed(int(event.code), event.reason or "", "client")
                    self.put(CloseReply(event))

    def _on_message(self, data: bytes, *, is_text: bool) -> None:
        at = self.server.now()
        if is_text:
            records = self.socket.receive_text(data.decode(errors="replace"), at)
        else:
            records = self.socket.receive(data, at)
        options = self.server.options
        for record in records:
            self.server.record(record)
            if isinstance(record, Violation) and options.strict:
                self.put(Close(record.close_code, record.message[:100]))
            elif isinstance(record, EnterRoom) and options.enter_room_resp:
                self.put(EnterRoomResp())

    def _violate(self, message: str, code: int) -> None:
        room_id = self.state.room.room_id
        self.server.record(
            Violation(at=self.server.now(), connection_id=self.connection_id, room_id=room_id,
                      message=message, close_code=code)
        )  # fmt: skip


_WRITERS: Final[dict[type, Callable[[Session, Any], Awaitable[None]]]] = {
    Entries: Session._write_entries,
    EnterRoomResp: Session._write_enter_room_resp,
    Pong: Session._write_pong,
    CloseReply: Session._write_close_reply,
    Close: Session._write_close,
    CloseSocket: Session._write_close,
    DropMidFrame: Session._write_drop,
    Stall: Session._write_stall,
    GarbageFrame: Session._write_garbage,
}
