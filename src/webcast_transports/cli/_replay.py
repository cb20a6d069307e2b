"""``webcast replay FILE``: a recording decoded offline into the events the live client delivered.

The file is read incrementally (:class:`~webcast_proto.recording.RecordingReader`), each record fed
to a :class:`~webcast_proto.recording.Replayer` — a ``ClientConnection`` again, so dedup, acks and
the stream end behave as live — and the core's events are shaped as the client shapes them
(:class:`LiveReplay`): a loss that was resumed is a :class:`Reconnecting` (its ``delay`` is the time
the recording shows between the loss and the next fetch), nothing is delivered for a loss before
the first ``Connected``, and the final ``Disconnected`` comes from the recording's end line. For a
session without losses the output is exactly what ``webcast watch`` printed.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, BinaryIO, Final

from webcast_proto import Connected, Disconnected, StreamEnd, WebSocketConnected
from webcast_proto.connection import State
from webcast_proto.recording import (
    END_OF_RECORDING,
    NEED_DATA,
    Direction,
    RecordingEnd,
    RecordingError,
    RecordingHeader,
    RecordingReader,
    Replayer,
    WireKind,
    WireRecord,
)
from webcast_transports._events import Reconnecting
from webcast_transports._names import event_name
from webcast_transports.cli._common import EXIT_FAILURE, EXIT_OK, UsageError
from webcast_transports.cli._live import event_names, make_printer

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from webcast_proto import Event

__all__ = ["LiveReplay", "replay"]

_CHUNK: Final = 64 * 1024


class LiveReplay:
    """A recording's records in, the live client's events out, each with the wall-clock time it
    happened (module docstring).

    Args:
        header: the recording's header.
    """

    def __init__(self, header: RecordingHeader) -> None:
        self._replayer = Replayer(header)
        self._connected = False
        self._ended = False
        self._attempt = 0
        self._session_established = False
        self._pending: tuple[Disconnected, WireRecord, str] | None = None

    def feed(self, record: WireRecord) -> list[tuple[float, Event]]:
        """The events of one record, with their times."""
        out: list[tuple[float, Event]] = []
        if record.direction is Direction.OUT and record.kind is WireKind.FETCH:
            out += self._resume(record.at)
        for event in self._replayer.feed(record):
            if isinstance(event, Disconnected) and event.reason != "stream_end":
                self._pending = (event, record, self._replayer.loss_error)
                continue
            if isinstance(event, Connected):
                self._connected = True
            elif isinstance(event, WebSocketConnected):
                self._session_established = True
            elif isinstance(event, StreamEnd):
                self._ended = True
            out.append((record.wall, event))
        if record.kind is WireKind.FETCH and self._replayer.state is State.POLLING:
            self._session_established = True  # the first poll is scheduled
        return out

    def _resume(self, at: float) -> list[tuple[float, Event]]:
        """A fetch after a loss: the driver resumed, and had told the user so at the loss (once connected)."""
        if self._pending is None:
            return []
        loss, lost, error = self._pending
        self._pending = None
        self._attempt = 1 if self._session_established else self._attempt + 1
        self._session_established = False
        if not self._connected:
            return []
        delay = round(max(at - lost.at, 0.0), 3)
        event = Reconnecting(
            reason=loss.reason, code=loss.code, attempt=self._attempt, delay=delay, error=error
        )
        return [(lost.wall, event)]

    def finish(self, end: RecordingEnd | None, wall: float) -> list[tuple[float, Event]]:
        """The final ``Disconnected``: the end line's (or ``end_of_recording``), once connected.

        Args:
            end: the end line, if the recording has one.
            wall: the time of the last record (used when the end line has none).
        """
        if self._ended or not self._connected:
            return []
        if end is None:
            return [(wall, Disconnected(reason="end_of_recording", retryable=False))]
        final = Disconnected(reason=end.reason, code=end.code, retryable=end.retryable)
        return [(end.wall or wall, final)]


def _items(source: BinaryIO) -> Iterator[RecordingHeader | WireRecord | RecordingEnd]:
    reader = RecordingReader()
    while True:
        item = reader.next_item()
        if item is NEED_DATA:
            chunk = source.read(_CHUNK)
            if chunk:
                reader.receive_data(chunk)
            else:
                reader.end_of_data()
            continue
        if item is END_OF_RECORDING:
            return
        yield item


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # closed by replay()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def replay(ns: argparse.Namespace) -> int:
    """``webcast replay FILE [--json] [--speed N] [--events …]``."""
    names = set(event_names(ns.events))
    if ns.speed is not None and not ns.speed > 0:
        raise UsageError(f"--speed must be > 0, got {ns.speed}")
    printer = make_printer(ns, show_room=False)
    source = _open(ns.file)
    live: LiveReplay | None = None
    room = ""
    last_t: float | None = None
    last_wall = 0.0
    ended = False

    def show(events: list[tuple[float, Event]]) -> None:
        for at, event in events:
            if event_name(type(event)) in names:
                printer.print(event, room=room, at=at)

    try:
        for item in _items(source):
            if isinstance(item, RecordingHeader):
                live = LiveReplay(item)
                room = item.unique_id or str(item.room_id)
                continue
            assert live is not None  # the reader returns the header first
            if isinstance(item, RecordingEnd):
                ended = True
                show(live.finish(item, last_wall))
                continue
            if printer.closed:  # the reader went away (| head)
                break
            if ns.speed is not None and last_t is not None:
                time.sleep(max(item.at - last_t, 0.0) / ns.speed)
            last_t, last_wall = item.at, item.wall
            show(live.feed(item))
    except RecordingError as exc:
        sys.stderr.write(f"webcast: {ns.file}: {exc.message}\n")
        return EXIT_FAILURE
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    if live is not None and not ended:  # no end line: the recording was cut short
        show(live.finish(None, last_wall))
    return EXIT_OK
