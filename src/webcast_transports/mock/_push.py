"""The protocol side of the mock: :class:`~webcast_proto.server.ServerConnection` serving a room's log.

The core's ``ServerConnection`` builds every fetch body and ``msg`` frame (cursors, ``internal_ext``,
log ids, seq ids, gzip) and checks every client frame (acks, heartbeats, enter-room). It serves one
client from its own copy of the log, whose offsets start at 0; the mock keeps one log per room (so
pollers, sockets and reconnecting sockets share cursors), so each new client's connection is loaded
with the room's log from the start: offset ``n`` is then the room's position ``n + 1`` everywhere.

Here the mock also accepts what the older clients send and ``ServerConnection`` refuses ([S]/[V1]:
a heartbeat without payload, an ack without payload, SPEC.md §4.3, §4.4), and turns every client
frame into a record for tests, with a :class:`~._record.Violation` next to what broke the rules.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final

from webcast_proto import RemoteProtocolError, codec
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.server import ServerConnection
from webcast_transports.mock._record import Ack, EnterRoom, Heartbeat, Record, UnknownFrame, Violation

if TYPE_CHECKING:
    from collections.abc import Mapping

    from webcast_transports.mock._rooms import RoomState

__all__ = ["PushSocket", "fetch_body", "new_connection"]

# RFC 6455 §7.4.1: 1003, data of a type the endpoint cannot accept (text on a binary protocol).
CLOSE_UNSUPPORTED_DATA: Final = 1003

# Stands in for messages the room's log no longer keeps, so offsets still line up with positions.
_FORGOTTEN: Final = pb.BaseProtoMessage(method="WebcastForgottenMessage")


def new_connection(
    state: RoomState,
    *,
    push_server: str = "",
    route_params: Mapping[str, str] | None = None,
    need_ack: bool = True,
    compress: bool = True,
    fetch_interval_ms: int = 1000,
    heartbeat_duration_ms: int = 10_000,
    initial_messages: int = 20,
) -> ServerConnection:
    """A ``ServerConnection`` for one client of a room, holding the room's whole log.

    Offsets line up with the room's positions: the message at position ``p`` is at offset
    ``p - 1``, and a cursor of offset ``n`` means "after position ``n``".
    """
    connection = ServerConnection(
        room_id=state.room.room_id,
        push_server=push_server,
        route_params=dict(route_params or {}),
        need_ack=need_ack,
        compress=compress,
        fetch_interval_ms=fetch_interval_ms,
        heartbeat_duration_ms=heartbeat_duration_ms,
        initial_messages=initial_messages,
    )
    entries = state.since(0)
    forgotten = (entries[0].position - 1) if entries else state.position
    connection.publish(_FORGOTTEN for _ in range(forgotten))
    connection.publish(entry.message for entry in entries)
    return connection


def fetch_body(
    state: RoomState,
    cursor: str,
    *,
    now_ms: int,
    push_server: str = "",
    route_params: Mapping[str, str] | None = None,
    fetch_interval_ms: int = 1000,
    heartbeat_duration_ms: int = 10_000,
    initial_messages: int = 20,
) -> bytes:
    """The raw fetch result for a first fetch (``cursor`` empty) or a poll (SPEC.md §2.4, §5).

    Raises:
        RemoteProtocolError: ``cursor`` was not issued by this server.
    """
    connection = new_connection(
        state,
        push_server=push_server,
        route_params=route_params,
        need_ack=False,
        fetch_interval_ms=fetch_interval_ms,
        heartbeat_duration_ms=heartbeat_duration_ms,
        initial_messages=initial_messages,
    )
    return connection.fetch_response(cursor=cursor, server_time_ms=now_ms, offer_websocket=bool(push_server))


class PushSocket:
    """One push socket of a room, server side: frames out, records of client frames in.

    Args:
        state: the room.
        connection_id: the TCP connection's id, copied into records.
        compress: gzip the ``msg`` payloads.
        cursor: the cursor the client's URL carries ([S]/[V1]/[C2], SPEC.md §2.5), if any: when it
            is one of ours, the socket pushes what comes after it.
        position: otherwise, the room position the client holds (its first fetch's).
        fetch_interval_ms, heartbeat_duration_ms: copied into the fetch results.
    """

    def __init__(
        self,
        state: RoomState,
        *,
        connection_id: int,
        compress: bool,
        cursor: str = "",
        position: int,
        fetch_interval_ms: int = 1000,
        heartbeat_duration_ms: int = 10_000,
    ) -> None:
        self.room_id = state.room.room_id
        self.connection_id = connection_id
        self.compress = compress
        self._connection = new_connection(
            state,
            compress=compress,
            fetch_interval_ms=fetch_interval_ms,
            heartbeat_duration_ms=heartbeat_duration_ms,
        )
        start = min(max(position, 0), self._connection.next_offset)
        # A cursor that is not one of ours (another server's, garbage) leaves `position`.
        if cursor:
            with contextlib.suppress(RemoteProtocolError):
                start = self._connection.offset_of(cursor)
        self._connection.websocket_opened(
            f"ws://mock/?room_id={self.room_id}&cursor={self._connection.cursor_for(start)}"
        )

    @property
    def position(self) -> int:
        """The room position of the last message pushed (or held by the client when it connected)."""
        return self._connection.position

    @property
    def pending_acks(self) -> frozenset[int]:
        """Log ids of frames sent whose ack has not come."""
        return self._connection.pending_acks

    def publish(self, messages: list[pb.BaseProtoMessage]) -> None:
        """Messages the room just published (they keep their positions)."""
        self._connection.publish(messages)

    def backlog(self) -> int:
        """How many messages the client has not been pushed yet."""
        return self._connection.next_offset - self._connection.position

    def msg_frame(self, first: int, count: int, now_ms: int) -> bytes:
        """A ``msg`` frame carrying ``count`` messages from room position ``first`` on."""
        return self._connection.message_frame(start=first - 1, count=count, server_time_ms=now_ms)

    def last_msg_frame(self, now_ms: int) -> bytes:
        """A ``msg`` frame carrying the latest message again (or none), for the drop-mid-frame fault."""
        last = self._connection.next_offset
        return self._connection.message_frame(start=max(last - 1, 0), count=1, server_time_ms=now_ms)

    def enter_room_resp(self) -> bytes:
        """The ``im_enter_room_resp`` frame (SPEC.md §4.1)."""
        return self._connection.enter_room_response_frame()

    # -- what the client sends ----------------------------------------------------------------

    def _violation(self, at: float, message: str, close_code: int) -> Violation:
        room_id = self.room_id
        return Violation(
            at=at, connection_id=self.connection_id, room_id=room_id, message=message, close_code=close_code
        )

    def receive_text(self, text: str, at: float) -> list[Record]:
        """Records for a text message: WebCast frames are binary only (SPEC.md §4)."""
        unknown = UnknownFrame(
            at=at, connection_id=self.connection_id, room_id=self.room_id, payload_type="<text>",
            raw=text.encode(),
        )  # fmt: skip
        message = f"expected binary push frames, got a text message of {len(text)} characters"
        return [unknown, self._violation(at, message, CLOSE_UNSUPPORTED_DATA)]

    def receive(self, data: bytes, at: float) -> list[Record]:
        """Check one binary message from the client and describe it as records (SPEC.md §4.3-§4.5).

        The frame's record comes first; a :class:`~._record.Violation` follows when the frame broke
        a rule (its ``close_code`` is the one ``ServerConnection`` chose).
        """
        try:
            frame = codec.parse_push_frame(data)
        except RemoteProtocolError as exc:
            return [self._violation(at, f"undecodable push frame: {exc}", exc.close_code)]
        kind = frame.payload_type
        # [S]/[V1] send a heartbeat without payload and an ack without payload (SPEC.md §4.3, §4.4):
        # legitimate clients that the core's checks, written for the current peers, would refuse.
        if kind == codec.PAYLOAD_TYPE_HEARTBEAT and not frame.payload:
            return [self._heartbeat(frame, data, at, None)]
        if kind == codec.PAYLOAD_TYPE_ACK and not frame.payload and frame.log_id in self.pending_acks:
            return [self._ack(frame, data, at, is_valid=True)]
        try:
            self._connection.receive_client_message(data)
        except RemoteProtocolError as exc:
            violation = self._violation(at, str(exc), exc.close_code)
            return [self._describe(frame, data, at, is_valid=False), violation]
        return [self._describe(frame, data, at, is_valid=True)]

    def _describe(self, frame: pb.WebcastPushFrame, data: bytes, at: float, *, is_valid: bool) -> Record:
        """The record of a client frame, every field decoded for tests, whatever its validity."""
        kind = frame.payload_type
        try:
            if kind == codec.PAYLOAD_TYPE_HEARTBEAT:
                return self._heartbeat(frame, data, at, codec.parse_heartbeat(frame.payload))
            if kind == codec.PAYLOAD_TYPE_ENTER_ROOM:
                return self._enter_room(frame, data, at, codec.parse_enter_room(frame.payload))
            if kind == codec.PAYLOAD_TYPE_ACK:
                return self._ack(frame, data, at, is_valid=is_valid)
        except RemoteProtocolError:
            pass  # a payload that does not parse: the violation after this record says why
        return UnknownFrame(
            at=at, connection_id=self.connection_id, room_id=self.room_id, log_id=frame.log_id, raw=data,
            payload_type=kind,
        )  # fmt: skip

    def _heartbeat(
        self, frame: pb.WebcastPushFrame, data: bytes, at: float, heartbeat: pb.HeartBeatMessage | None
    ) -> Heartbeat:
        return Heartbeat(
            at=at, connection_id=self.connection_id, room_id=self.room_id, log_id=frame.log_id, raw=data,
            hb_room_id=0 if heartbeat is None else heartbeat.room_id,
            send_packet_seq_id=0 if heartbeat is None else heartbeat.send_packet_seq_id,
            is_bare=heartbeat is None,
        )  # fmt: skip

    def _ack(self, frame: pb.WebcastPushFrame, data: bytes, at: float, *, is_valid: bool) -> Ack:
        return Ack(
            at=at, connection_id=self.connection_id, room_id=self.room_id, log_id=frame.log_id, raw=data,
            payload=frame.payload.decode(errors="replace"), is_valid=is_valid,
        )  # fmt: skip

    def _enter_room(
        self, frame: pb.WebcastPushFrame, data: bytes, at: float, enter: pb.WebcastImEnterRoomMessage
    ) -> EnterRoom:
        return EnterRoom(
            at=at, connection_id=self.connection_id, room_id=self.room_id, log_id=frame.log_id, raw=data,
            enter_room_id=enter.room_id, room_tag=enter.room_tag, live_region=enter.live_region,
            live_id=enter.live_id, identity=enter.identity, cursor=enter.cursor,
            account_type=enter.account_type, enter_unique_id=enter.enter_unique_id,
            filter_welcome_msg=enter.filter_welcome_msg,
            is_anchor_continue_keep_msg=enter.is_anchor_continue_keep_msg,
        )  # fmt: skip
