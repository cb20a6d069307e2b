"""The recording format: its values, :class:`RecordingWriter` and the incremental
:class:`RecordingReader` (public in :mod:`webcast_proto.recording`; the format is in
``docs/recordings.md``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeAlias

from webcast_proto._errors import WebcastError

if TYPE_CHECKING:
    from collections.abc import Mapping

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
    "WireKind",
    "WireRecord",
    "read_recording",
]

FORMAT_NAME: Final = "webcast-recording"
"""The header's ``format`` value: what tells a recording from any other JSON Lines file."""

FORMAT_VERSION: Final = 1
"""The version this module writes and the newest it reads. Adding keys keeps the version; a reader
ignores keys it does not know. Changing or removing one, or changing what one means, bumps it."""

# The longest line a reader holds before it has seen the line's end: the base64 (4/3) of the
# largest fetch body the client accepts (Limits.max_http_body_size, 16 MiB) is 21.3 MiB; 32 MiB
# leaves room for the JSON around it while still bounding what a garbage file makes us buffer
# (h11 caps an unfinished event the same way, DEFAULT_MAX_INCOMPLETE_EVENT_SIZE).
DEFAULT_MAX_LINE_SIZE: Final = 32 * 1024 * 1024


class RecordingError(WebcastError):
    """A recording that cannot be read: not a recording, a newer version, a malformed or truncated
    line. The message names the line."""


class Direction(enum.Enum):
    """Which way a record went: ``IN`` from the server to the client, ``OUT`` the other way."""

    IN = "in"
    OUT = "out"


class WireKind(enum.Enum):
    """What a record is (docs/recordings.md, "Records").

    * ``FETCH``: out, an im/fetch request was sent (no data: it is a GET); in, its response body.
    * ``FETCH_FAILED``: in, the fetch failed (``text``: the error's message).
    * ``WS_OPEN``: in, the push WebSocket opened (``text``: its URL).
    * ``WS``: one binary WebSocket message (one push frame), either way.
    * ``WS_CLOSE``: in, the socket closed or could not open (``code``: the close code if there was a
      close frame; ``text``: the error's message if a failure ended it).
    """

    FETCH = "fetch"
    FETCH_FAILED = "fetch_failed"
    WS_OPEN = "ws_open"
    WS = "ws"
    WS_CLOSE = "ws_close"


@dataclass(frozen=True, slots=True, kw_only=True)
class WireRecord:
    """One thing that crossed the wire (or one thing that happened to it).

    Attributes:
        direction: :class:`Direction`.
        kind: :class:`WireKind`.
        at: seconds: the monotonic clock when a transport's wire tap makes it; seconds since the
            recording's start when read from a file.
        wall: the wall clock (Unix seconds) when it happened.
        data: the bytes: a fetch body or a push frame (empty for the other kinds).
        code: ``WS_CLOSE``: the close code, when there was a close frame.
        text: ``WS_OPEN``: the socket URL; ``FETCH_FAILED``/``WS_CLOSE``: the failure's message.
    """

    direction: Direction
    kind: WireKind
    at: float
    wall: float
    data: bytes = dataclasses.field(default=b"", repr=False)
    code: int | None = None
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingHeader:
    """The first line of a recording.

    Attributes:
        version: the format version the file was written with.
        unique_id: the host's username (``""`` when the session was opened by room id).
        room_id: the room.
        created: wall clock (Unix seconds) when the recording started.
        generator: what wrote it (``"webcast 0.1.0"``).
        process_initial_data: the client option the session ran with (replay honours it).
        liveness_timeout: likewise (``None``: disabled); replay fires the same timeouts.
    """

    room_id: int
    unique_id: str = ""
    version: int = FORMAT_VERSION
    created: float = 0.0
    generator: str = ""
    process_initial_data: bool = True
    liveness_timeout: float | None = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingEnd:
    """The optional last line: how the session ended, as the client's final ``Disconnected`` said.

    Attributes:
        reason, code, retryable: the final ``Disconnected``'s fields.
        at: seconds (as :attr:`WireRecord.at`).
        wall: the wall clock.
    """

    reason: str
    code: int | None = None
    retryable: bool = False
    at: float = 0.0
    wall: float = 0.0


class NeedData(enum.Enum):
    """:data:`NEED_DATA`: the reader needs more bytes before it can return the next item."""

    NEED_DATA = "NEED_DATA"


class EndOfRecording(enum.Enum):
    """:data:`END_OF_RECORDING`: the file has ended and every item was returned."""

    END_OF_RECORDING = "END_OF_RECORDING"


NEED_DATA: Final = NeedData.NEED_DATA
END_OF_RECORDING: Final = EndOfRecording.END_OF_RECORDING

RecordingItem: TypeAlias = RecordingHeader | WireRecord | RecordingEnd
"""What a reader returns for one line."""


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _line(document: Mapping[str, object]) -> bytes:
    # ensure_ascii keeps a line pure ASCII (texts are \u-escaped), so no encoding question arises.
    return json.dumps(document, separators=(",", ":")).encode("ascii") + b"\n"


def _seconds(value: float) -> float:
    return round(value, 6)  # microseconds: more is noise, and shorter lines diff better


class RecordingWriter:
    """Turns a session into the bytes of a recording (sans-I/O: the caller writes them).

    Record times are written relative to ``origin``, the monotonic time the recording started.

    Args:
        header: the header, written by :meth:`header`.
        origin: the monotonic seconds that become ``t = 0``; the first record's time if omitted.
    """

    def __init__(self, header: RecordingHeader, *, origin: float | None = None) -> None:
        self._header = header
        self._origin = origin

    def header(self) -> bytes:
        """The header line."""
        h = self._header
        return _line(
            {
                "format": FORMAT_NAME,
                "version": FORMAT_VERSION,
                "created": _seconds(h.created),
                "generator": h.generator,
                "unique_id": h.unique_id,
                "room_id": str(h.room_id),  # 64-bit ids do not survive JSON numbers everywhere
                "process_initial_data": h.process_initial_data,
                "liveness_timeout": h.liveness_timeout,
            }
        )

    def _t(self, at: float) -> float:
        if self._origin is None:
            self._origin = at
        return _seconds(max(at - self._origin, 0.0))

    def record(self, record: WireRecord) -> bytes:
        """One record's line."""
        document: dict[str, object] = {
            "t": self._t(record.at),
            "wall": _seconds(record.wall),
            "dir": record.direction.value,
            "kind": record.kind.value,
        }
        if record.data:
            document["data"] = base64.b64encode(record.data).decode("ascii")
        if record.code is not None:
            document["code"] = record.code
        if record.text:
            document["text"] = record.text
        return _line(document)

    def end(self, end: RecordingEnd) -> bytes:
        """The end line."""
        return _line(
            {
                "t": self._t(end.at),
                "wall": _seconds(end.wall),
                "kind": "end",
                "reason": end.reason,
                "code": end.code,
                "retryable": end.retryable,
            }
        )


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


class _Fields:
    """Typed access to one line's JSON object; every mistake names the line and the key."""

    def __init__(self, document: dict[str, object], line: int) -> None:
        self._doc = document
        self.line = line

    def fail(self, message: str) -> RecordingError:
        return RecordingError(f"recording line {self.line}: {message}")

    def get(self, key: str, kinds: tuple[type, ...], default: object = None) -> object:
        value = self._doc.get(key, default)
        if value is default:
            return value
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(f"{key!r} must be {names}, got {type(value).__name__}")
        return value

    def number(self, key: str, default: float | None = None) -> float:
        value = self.get(key, (int, float), default)
        if value is None:
            raise self.fail(f"missing {key!r}")
        assert isinstance(value, (int, float))  # checked by get()
        if not math.isfinite(value):
            raise self.fail(f"{key!r} must be a finite number")
        return float(value)

    def text(self, key: str, default: str = "") -> str:
        value = self.get(key, (str,), default)
        assert isinstance(value, str)  # checked by get()
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, (bool,), default)
        assert isinstance(value, bool)  # checked by get()
        return value

    def optional_int(self, key: str) -> int | None:
        value = self.get(key, (int,))
        assert value is None or isinstance(value, int)  # checked by get()
        return value

    def id(self, key: str) -> int:
        value = self.get(key, (str, int), "")
        try:
            number = int(str(value))
        except ValueError:
            raise self.fail(f"{key!r} must be a decimal id, got {value!r}") from None
        if not 0 < number < 2**63:
            raise self.fail(f"{key!r} must be a positive 64-bit id, got {value!r}")
        return number


def _parse_header(fields: _Fields) -> RecordingHeader:
    if fields.get("format", (str,)) != FORMAT_NAME:
        raise fields.fail(f'not a webcast recording (the first line has no "format": {FORMAT_NAME!r})')
    version = fields.get("version", (int,))
    if not isinstance(version, int) or version < 1:
        raise fields.fail(f"'version' must be a positive int, got {version!r}")
    if version > FORMAT_VERSION:
        raise fields.fail(
            f"recording format version {version} is newer than this webcast reads ({FORMAT_VERSION}); "
            "upgrade webcast"
        )
    timeout = fields.get("liveness_timeout", (int, float), 60.0)
    return RecordingHeader(
        version=version,
        created=fields.number("created", 0.0),
        generator=fields.text("generator"),
        unique_id=fields.text("unique_id"),
        room_id=fields.id("room_id"),
        process_initial_data=fields.flag("process_initial_data", True),
        liveness_timeout=None if timeout is None else float(timeout),  # type: ignore[arg-type]  # checked
    )


def _parse_end(fields: _Fields) -> RecordingEnd:
    return RecordingEnd(
        reason=fields.text("reason") or "unknown",
        code=fields.optional_int("code"),
        retryable=fields.flag("retryable", False),
        at=fields.number("t"),
        wall=fields.number("wall", 0.0),
    )


_KINDS: Final = {kind.value: kind for kind in WireKind}
_DIRECTIONS: Final = {direction.value: direction for direction in Direction}


def _parse_record(fields: _Fields, kind: WireKind) -> WireRecord:
    direction = _DIRECTIONS.get(fields.text("dir"))
    if direction is None:
        raise fields.fail("'dir' must be 'in' or 'out'")
    encoded = fields.text("data")
    try:
        data = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise fields.fail(f"'data' is not base64: {exc}") from None
    return WireRecord(
        direction=direction,
        kind=kind,
        at=fields.number("t"),
        wall=fields.number("wall", 0.0),
        data=data,
        code=fields.optional_int("code"),
        text=fields.text("text"),
    )


class RecordingReader:
    """An incremental reader of recordings, in h11's pull shape (STYLE.md §2).

    Feed bytes with :meth:`receive_data` as they come (any split), report the end of the file with
    :meth:`end_of_data`, and call :meth:`next_item` until it returns :data:`NEED_DATA` (feed me) or
    :data:`END_OF_RECORDING` (done). The first item is always the :class:`RecordingHeader`.

    Records of a ``kind`` this version does not know are skipped (newer writers may add kinds
    without a version bump); unknown keys are ignored.

    Args:
        max_line_size: the longest line held while waiting for its end.
    """

    def __init__(self, *, max_line_size: int = DEFAULT_MAX_LINE_SIZE) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer known to hold no newline
        self._ended = False
        self._line = 0
        self._header: RecordingHeader | None = None
        self._end: RecordingEnd | None = None
        self._max_line_size = max_line_size

    @property
    def header(self) -> RecordingHeader | None:
        """The header, once read."""
        return self._header

    def receive_data(self, data: bytes) -> None:
        """Add bytes read from the file.

        Raises:
            RecordingError: after :meth:`end_of_data`.
        """
        if self._ended:
            raise RecordingError("receive_data() after end_of_data()")
        self._buffer += data

    def end_of_data(self) -> None:
        """Report that the file has ended (idempotent)."""
        self._ended = True

    def next_item(self) -> RecordingItem | NeedData | EndOfRecording:
        """The next header, record or end; or :data:`NEED_DATA` / :data:`END_OF_RECORDING`.

        Raises:
            RecordingError: the bytes are not a recording this version reads, a line is malformed,
                longer than ``max_line_size``, or cut off by the end of the file.
        """
        while True:
            newline = self._buffer.find(b"\n", self._scanned)
            if newline < 0:
                self._scanned = len(self._buffer)
                if self._scanned > self._max_line_size:
                    raise RecordingError(
                        f"recording line {self._line + 1} is longer than max_line_size={self._max_line_size}"
                    )
                if not self._ended:
                    return NEED_DATA
                if self._buffer.strip():
                    raise RecordingError(f"recording line {self._line + 1} is cut off (truncated file?)")
                if self._header is None:
                    raise RecordingError("empty file: not a webcast recording")
                return END_OF_RECORDING
            raw = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            self._scanned = 0
            self._line += 1
            if len(raw) > self._max_line_size:
                raise RecordingError(
                    f"recording line {self._line} is longer than max_line_size={self._max_line_size}"
                )
            if not raw.strip():
                continue
            item = self._parse(raw)
            if item is not None:
                return item

    def _parse(self, raw: bytes) -> RecordingItem | None:
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            what = "not a webcast recording: " if self._header is None else ""
            raise RecordingError(f"{what}recording line {self._line}: not JSON: {exc}") from None
        if not isinstance(document, dict):
            what = "not a webcast recording: " if self._header is None else ""
            raise RecordingError(f"{what}recording line {self._line}: expected a JSON object")
        fields = _Fields(document, self._line)
        if self._header is None:
            self._header = _parse_header(fields)
            return self._header
        if self._end is not None:
            raise fields.fail("nothing may follow the end line")
        kind = fields.text("kind")
        if kind == "end":
            self._end = _parse_end(fields)
            return self._end
        wire_kind = _KINDS.get(kind)
        if wire_kind is None:
            return None  # a kind from a newer writer: skipped (see the class docstring)
        return _parse_record(fields, wire_kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class Recording:
    """A whole recording in memory.

    Attributes:
        header: the header.
        records: the records, in order.
        end: the end line, when the file has one (a recording cut short by a crash has none).
    """

    header: RecordingHeader
    records: tuple[WireRecord, ...]
    end: RecordingEnd | None = None


def read_recording(data: bytes, *, max_line_size: int = DEFAULT_MAX_LINE_SIZE) -> Recording:
    """Read a whole recording from its bytes.

    Raises:
        RecordingError: see :meth:`RecordingReader.next_item`.
    """
    reader = RecordingReader(max_line_size=max_line_size)
    reader.receive_data(data)
    reader.end_of_data()
    records: list[WireRecord] = []
    end: RecordingEnd | None = None
    while True:
        item = reader.next_item()
        if isinstance(item, WireRecord):
            records.append(item)
        elif isinstance(item, RecordingEnd):
            end = item
        elif item is END_OF_RECORDING:
            break
        # the header (kept by the reader) and NEED_DATA (impossible after end_of_data) need nothing
    assert reader.header is not None  # END_OF_RECORDING comes only after a header
    return Recording(header=reader.header, records=tuple(records), end=end)
