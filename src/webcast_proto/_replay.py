"""Replaying a recording through a :class:`ClientConnection` (public in
:mod:`webcast_proto.recording`): the same calls the live driver made, at the recorded times, so the
same events come out.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final, TypeAlias

from webcast_proto._errors import RemoteProtocolError
from webcast_proto._recording import (
    Direction,
    Recording,
    RecordingEnd,
    RecordingHeader,
    WireKind,
    read_recording,
)
from webcast_proto.config import DEFAULT_LIMITS, Limits
from webcast_proto.connection import ClientConnection, State
from webcast_proto.events import Disconnected, StreamEnd, WebSocketConnected

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from webcast_proto._recording import WireRecord
    from webcast_proto.convert import ConverterRegistry
    from webcast_proto.events import Event

__all__ = ["Replayer", "final_events", "replay"]


_Handler: TypeAlias = "Callable[[Replayer, WireRecord], list[Event]]"


class Replayer:
    """Feeds a recording's records to a fresh :class:`ClientConnection`: the same events as live.

    Every record drives the call the live driver made when it happened (``start()`` for an outgoing
    fetch, ``receive_fetch_response``, ``websocket_opened``, ``receive_ws_message`` then ``tick``,
    ``websocket_closed``, ``fetch_failed``), at the recorded time, so dedup, cursors, liveness
    timeouts and stream ends come out as they did. Outgoing frames (enter-room, acks, heartbeats)
    are what the connection queues itself and are not fed; :attr:`sent` collects what the replayed
    connection would have sent, to compare with the recording's.

    A loss yields the core's ``Disconnected`` (a frame the connection refused: ``reason=
    "protocol_error"``), and :attr:`loss_error` says what failure caused it. ``WebSocketConnected``
    carries the URL the live client opened (from the ``ws_open`` record), not one rebuilt here.

    Args:
        header: the recording's header (room id and the client options that matter).
        registry: converters; a fresh default registry if omitted.
        limits: size limits.
    """

    def __init__(
        self,
        header: RecordingHeader,
        *,
        registry: ConverterRegistry | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._conn = ClientConnection(
            room_id=header.room_id,
            process_initial_data=header.process_initial_data,
            liveness_timeout=header.liveness_timeout,
            limits=limits,
            registry=registry,
        )
        self.sent: list[bytes] = []
        self.loss_error = ""

    @property
    def state(self) -> State:
        """The replayed connection's state."""
        return self._conn.state

    def feed(self, record: WireRecord) -> list[Event]:
        """Replay one record.

        Returns:
            The events it gives, in order.
        """
        handler = _REPLAY_HANDLERS.get((record.direction, record.kind))
        events = [] if handler is None else handler(self, record)
        self.sent += self._conn.data_to_send()
        return events

    def _loss(self, events: list[Event], error: str) -> list[Event]:
        if any(isinstance(e, Disconnected) for e in events):
            self.loss_error = error
        return events

    def _ensure_fetching(self, at: float) -> list[Event]:
        """Put the connection where a fetch can be started: what the driver did before a fetch."""
        conn = self._conn
        events: list[Event] = []
        if conn.state in (State.UPGRADING, State.STREAMING):  # a recording without the socket's close
            events += self._loss(conn.websocket_closed(at), "")
        if conn.state in (State.IDLE, State.DISCONNECTED):
            conn.start()
        return events

    def _on_fetch_sent(self, record: WireRecord) -> list[Event]:
        if self._conn.state is State.POLLING:
            return self._conn.tick(record.at)  # a poll: its request was due
        return self._ensure_fetching(record.at)

    def _on_fetch_body(self, record: WireRecord) -> list[Event]:
        conn = self._conn
        events = self._ensure_fetching(record.at) if conn.state is not State.POLLING else []
        if conn.state is State.ENDED:
            return events
        try:
            outcome = conn.receive_fetch_response(record.data, record.at)
        except RemoteProtocolError as exc:
            self.loss_error = exc.message
            return [*events, Disconnected(reason="protocol_error")]
        return events + outcome.events

    def _on_fetch_failed(self, record: WireRecord) -> list[Event]:
        if self._conn.state not in (State.FETCHING, State.POLLING):
            return []
        # The recording keeps the failure's message, not its class: whether it was worth retrying
        # was the driver's call, which the next fetch (or the end line) tells.
        events = self._conn.fetch_failed(record.at, RemoteProtocolError(record.text or "fetch failed"))
        return self._loss(events, record.text)

    def _on_ws_open(self, record: WireRecord) -> list[Event]:
        if self._conn.state is not State.UPGRADING:
            return []
        events = self._conn.websocket_opened(record.at)
        if record.text:
            events = [
                dataclasses.replace(e, url=record.text) if isinstance(e, WebSocketConnected) else e
                for e in events
            ]
        return events

    def _on_ws_message(self, record: WireRecord) -> list[Event]:
        conn = self._conn
        events = conn.tick(record.at)  # a timeout due before this frame fired first, live too
        if conn.state is not State.STREAMING:
            return self._loss(events, "")
        try:
            events += conn.receive_ws_message(record.data, record.at)
        except RemoteProtocolError as exc:
            self.loss_error = exc.message
            return [*events, Disconnected(reason="protocol_error")]
        if conn.state is State.STREAMING:
            events += conn.tick(record.at)
        return self._loss(events, "")

    def _on_ws_close(self, record: WireRecord) -> list[Event]:
        conn = self._conn
        events = conn.tick(record.at) if conn.state is State.STREAMING else []
        if conn.state in (State.UPGRADING, State.STREAMING):
            events += conn.websocket_closed(record.at, record.code)
            return self._loss(events, record.text)
        return self._loss(events, "")


_REPLAY_HANDLERS: Final[Mapping[tuple[Direction, WireKind], _Handler]] = {
    (Direction.OUT, WireKind.FETCH): Replayer._on_fetch_sent,
    (Direction.IN, WireKind.FETCH): Replayer._on_fetch_body,
    (Direction.IN, WireKind.FETCH_FAILED): Replayer._on_fetch_failed,
    (Direction.IN, WireKind.WS_OPEN): Replayer._on_ws_open,
    (Direction.IN, WireKind.WS): Replayer._on_ws_message,
    (Direction.IN, WireKind.WS_CLOSE): Replayer._on_ws_close,
}
"""What each record replays as; outgoing frames (``(OUT, WS)``) are the connection's own."""


def replay(
    recording: Recording | bytes,
    *,
    registry: ConverterRegistry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Event]:
    """Every event of a recording, as the core gives them: for tests that use recordings as fixtures.

    Losses are the core's ``Disconnected`` events; the last event is the session's final
    ``Disconnected`` (from the end line when the file has one, else ``reason="end_of_recording"``),
    unless the stream ended, whose ``StreamEnd`` and ``Disconnected`` close the list.

    Args:
        recording: a :class:`Recording` or the bytes of one.
        registry: converters; a fresh default registry if omitted.
        limits: size limits.

    Returns:
        The events, in order.

    Raises:
        RecordingError: the bytes are not a readable recording.
    """
    if isinstance(recording, bytes):
        recording = read_recording(recording)
    replayer = Replayer(recording.header, registry=registry, limits=limits)
    events: list[Event] = []
    for record in recording.records:
        events += replayer.feed(record)
    return events + final_events(replayer, recording.end, events)


def final_events(replayer: Replayer, end: RecordingEnd | None, so_far: Iterable[Event]) -> list[Event]:
    """The final ``Disconnected`` a replay ends with, unless the stream end already gave it.

    Args:
        replayer: the replayer, after the last record.
        end: the recording's end line, if any.
        so_far: the events replayed (to see whether the stream ended).
    """
    if replayer.state is State.ENDED and any(isinstance(e, StreamEnd) for e in so_far):
        return []
    if end is None:
        return [Disconnected(reason="end_of_recording", retryable=False)]
    return [Disconnected(reason=end.reason, code=end.code, retryable=end.retryable)]
