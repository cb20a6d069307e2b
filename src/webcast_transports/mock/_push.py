"""The server side of the push protocol for one socket, and fetch results for any route.

:class:`PushSocket` is sans-I/O, like the core: it turns log entries into ``msg`` frames (giving
each a ``log_id`` and remembering its ``internal_ext`` so the ack can be checked) and turns a
client's frames into records (:class:`~._record.EnterRoom`, :class:`~._record.Heartbeat`,
:class:`~._record.Ack`), adding a :class:`~._record.Violation` for anything a client should not
send. The encoding and decoding are the core's (:mod:`webcast_proto.codec`).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webcast_proto import RemoteProtocolError, codec
from webcast_proto._pb import webcast_pb2 as pb
from webcast_transports.mock._record import (
    Ack,
    ClientFrame,
    EnterRoom,
    Heartbeat,
    Record,
    UnknownFrame,
    Violation,
)
from webcast_transports.mock._rooms import derive_id, make_cursor, make_internal_ext

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from webcast_transports.mock._rooms import Entry

__all__ = ["PushSocket", "fetch_result"]

# msg frames whose internal_ext a socket remembers for checking acks. Clients ack within
# milliseconds; 4096 frames is minutes of a busy room.
DEFAULT_MAX_UNACKED = 4096

# RFC 6455 §7.4.1: 1002 protocol error, 1003 data of a type it cannot accept (text on a binary
# protocol).
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003


def fetch_result(
    entries: Iterable[Entry],
    *,
    room_id: int,
    position: int,
    now_ms: int,
    fetch_interval_ms: int = 1000,
    heartbeat_ms: int = 10_000,
    push_server: str = "",
    route_params: Mapping[str, str] | None = None,
    need_ack: bool = False,
    is_first: bool = False,
) -> pb.ProtoMessageFetchResult:
    """A ``ProtoMessageFetchResult`` carrying ``entries``, its cursor naming ``position`` (SPEC.md §6.1).

    ``fetch_type`` is 1 (websocket) when a push server is offered, else 2 (polling), after the
    schema's comment (§5).
    """
    result = pb.ProtoMessageFetchResult(
        messages=[entry.message for entry in entries],
        cursor=make_cursor(position, now_ms),
        fetch_interval=fetch_interval_ms,
        now=now_ms,
        internal_ext=make_internal_ext(room_id, position, now_ms),
        fetch_type=1 if push_server else 2,
        heartbeat_duration=heartbeat_ms,
        need_ack=need_ack,
        push_server=push_server,
        is_first=is_first,
    )
    result.route_params.update(route_params or {})
    return result


@dataclass(frozen=True, slots=True)
class _Sent:
    internal_ext: str


class PushSocket:
    """One push socket's protocol state, server side.

    Args:
        room_id: the room the socket watches.
        connection_id: the TCP connection's id, copied into records.
        compress: gzip the ``msg`` payloads.
    """

    def __init__(self, room_id: int, *, connection_id: int, compress: bool) -> None:
        self.room_id = room_id
        self.connection_id = connection_id
        self.compress = compress
        # Log ids look like TikTok's large ones; each socket starts elsewhere, so an ack sent on the
        # wrong socket is noticed.
        self._next_log_id = derive_id(f"log:{room_id}:{connection_id}", base=10**17) // 1000
        self._next_seq_id = 1
        self._sent: collections.OrderedDict[int, _Sent] = collections.OrderedDict()

    def msg_frame(self, result: pb.ProtoMessageFetchResult) -> bytes:
        """A ``msg`` frame carrying ``result`` (gzip'd if the socket compresses); remembers it for acks."""
        log_id = self._next_log_id
        self._next_log_id += 1
        frame = codec.encode_message_frame(
            result, log_id=log_id, seq_id=self._next_seq_id, compress=self.compress
        )
        self._next_seq_id += 1
        if result.need_ack:
            self._sent[log_id] = _Sent(result.internal_ext)
            while len(self._sent) > DEFAULT_MAX_UNACKED:
                self._sent.popitem(last=False)
        return frame

    def enter_room_resp(self) -> bytes:
        """The ``im_enter_room_resp`` frame answering an enter-room (SPEC.md §4.1: content unknown, so
        empty; [C2] decodes it as an empty fetch result)."""
        return codec.encode_push_frame(payload_type=codec.PAYLOAD_TYPE_ENTER_ROOM_RESP)

    def receive_text(self, text: str, at: float) -> list[Record]:
        """Records for a text message: TikTok's frames are binary only (SPEC.md §4)."""
        common = {"at": at, "connection_id": self.connection_id, "room_id": self.room_id}
        return [
            UnknownFrame(payload_type="<text>", raw=text.encode(), **common),  # type: ignore[arg-type]
            Violation(message=f"expected binary push frames, got a text message of {len(text)} chars",
                      close_code=CLOSE_UNSUPPORTED_DATA, **common),  # type: ignore[arg-type]
        ]  # fmt: skip

    def receive(self, data: bytes, at: float) -> list[Record]:
        """Decode one binary message from the client into records (a violation follows the frame's
        record when something in it is wrong)."""
        try:
            frame = codec.parse_push_frame(data)
        except RemoteProtocolError as exc:
            return [self._violation(at, f"undecodable push frame: {exc}", exc.close_code)]
        kind = frame.payload_type
        handler = _HANDLERS.get(kind)
        if handler is None:
            return [
                UnknownFrame(
                    at=at, connection_id=self.connection_id, room_id=self.room_id, log_id=frame.log_id,
                    raw=data, payload_type=kind,
                )
            ]  # fmt: skip
        return handler(self, frame, data, at)

    def _violation(self, at: float, message: str, close_code: int = CLOSE_PROTOCOL_ERROR) -> Violation:
        return Violation(
            at=at,
            connection_id=self.connection_id,
            room_id=self.room_id,
            message=message,
            close_code=close_code,
        )

    def _on_heartbeat(self, frame: pb.WebcastPushFrame, data: bytes, at: float) -> list[Record]:
        payload = frame.payload
        if not payload:  # [S]/[V1]: the fixed bytes 3A 02 68 62, payload_type only (SPEC.md §4.4)
            return [self._frame_record(Heartbeat, frame, data, at, is_bare=True)]
        try:
            heartbeat = codec.parse_heartbeat(payload)
        except RemoteProtocolError as exc:
            return [self._violation(at, str(exc))]
        out: list[Record] = [
            self._frame_record(
                Heartbeat, frame, data, at,
                hb_room_id=heartbeat.room_id, send_packet_seq_id=heartbeat.send_packet_seq_id,
            )
        ]  # fmt: skip
        if heartbeat.room_id not in (0, self.room_id):
            out.append(
                self._violation(
                    at, f"heartbeat for room {heartbeat.room_id} on a socket of room {self.room_id}"
                )
            )
        return out

    def _on_ack(self, frame: pb.WebcastPushFrame, data: bytes, at: float) -> list[Record]:
        payload = frame.payload
        try:
            text = codec.parse_ack(payload)
        except RemoteProtocolError as exc:
            return [self._violation(at, str(exc))]
        sent = self._sent.get(frame.log_id)
        expected = None if sent is None else sent.internal_ext
        # Accepted payloads (SPEC.md §4.3): the frame's internal_ext ([C2], [TL]), "-" for an empty one
        # ([TL]; parse_ack maps it to ""), or nothing at all ([S]/[V1]).
        payload_ok = expected is not None and (text == expected or not payload)
        out: list[Record] = [
            self._frame_record(
                Ack, frame, data, at, payload=payload.decode(errors="replace"), expected=expected,
                is_known_log_id=sent is not None, is_payload_ok=payload_ok,
            )
        ]  # fmt: skip
        if sent is None:
            out.append(self._violation(at, f"ack of log_id {frame.log_id}, which this socket never sent"))
        elif not payload_ok:
            out.append(
                self._violation(at, f"ack of log_id {frame.log_id} carries {text!r}, expected {expected!r}")
            )
        return out

    def _on_enter_room(self, frame: pb.WebcastPushFrame, data: bytes, at: float) -> list[Record]:
        try:
            enter = codec.parse_enter_room(frame.payload)
        except RemoteProtocolError as exc:
            return [self._violation(at, str(exc))]
        out: list[Record] = [
            self._frame_record(
                EnterRoom, frame, data, at,
                enter_room_id=enter.room_id, room_tag=enter.room_tag, live_region=enter.live_region,
                live_id=enter.live_id, identity=enter.identity, cursor=enter.cursor,
                account_type=enter.account_type, enter_unique_id=enter.enter_unique_id,
                filter_welcome_msg=enter.filter_welcome_msg,
                is_anchor_continue_keep_msg=enter.is_anchor_continue_keep_msg,
            )
        ]  # fmt: skip
        if enter.room_id != self.room_id:
            out.append(
                self._violation(at, f"enter-room for room {enter.room_id} on a socket of room {self.room_id}")
            )
        return out

    def _frame_record(
        self, kind: type[ClientFrame], frame: pb.WebcastPushFrame, data: bytes, at: float, **fields: object
    ) -> ClientFrame:
        return kind(
            at=at,
            connection_id=self.connection_id,
            room_id=self.room_id,
            log_id=frame.log_id,
            raw=data,
            **fields,
        )


_HANDLERS = {
    codec.PAYLOAD_TYPE_HEARTBEAT: PushSocket._on_heartbeat,
    codec.PAYLOAD_TYPE_ACK: PushSocket._on_ack,
    codec.PAYLOAD_TYPE_ENTER_ROOM: PushSocket._on_enter_room,
}
