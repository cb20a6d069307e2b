"""Recordings: a WebCast session's wire traffic as a file, read back and replayed into events.

A recording holds what crossed the wire in one client session — every push frame in both
directions, every im/fetch body, and when the socket opened and closed — with timestamps, so a
session can be decoded again offline, served again by the mock server, or kept as a test fixture.
The format is specified in ``docs/recordings.md``; in short, JSON Lines:

* line 1, the **header**: ``{"format": "webcast-recording", "version": 1, "unique_id", "room_id" …}``;
* then one **record** per line: ``{"t", "wall", "dir", "kind", "data" (base64) …}``;
* optionally a last **end** line: how the session ended (``{"kind": "end", "reason" …}``).

This module is the front door of two private ones (``_recording``, the format; ``_replay``, the
replay), sans-I/O like the rest of the core: :class:`RecordingWriter` turns values into bytes to
write, :class:`RecordingReader` turns bytes into values with h11's pull shape (feed
``receive_data``, pull ``next_item`` until :data:`NEED_DATA`; report the end of the file with
``end_of_data``), and :class:`Replayer` feeds records to a :class:`ClientConnection`, so dedup,
acks and stream ends behave exactly as they did live. It reads no clock: the times are the
recording's.
"""

from __future__ import annotations

from webcast_proto._recording import (
    DEFAULT_MAX_LINE_SIZE,
    END_OF_RECORDING,
    FORMAT_NAME,
    FORMAT_VERSION,
    NEED_DATA,
    Direction,
    EndOfRecording,
    NeedData,
    Recording,
    RecordingEnd,
    RecordingError,
    RecordingHeader,
    RecordingItem,
    RecordingReader,
    RecordingWriter,
    WireKind,
    WireRecord,
    read_recording,
)
from webcast_proto._replay import Replayer, final_events, replay

__all__ = [
    "DEFAULT_MAX_LINE_SIZE",
    "END_OF_RECORDING",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "NEED_DATA",
    "Direction",
    "EndOfRecording",
    "NeedData",
    "Recording",
    "RecordingEnd",
    "RecordingError",
    "RecordingHeader",
    "RecordingItem",
    "RecordingReader",
    "RecordingWriter",
    "Replayer",
    "WireKind",
    "WireRecord",
    "final_events",
    "read_recording",
    "replay",
]
