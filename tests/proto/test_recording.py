"""Recordings (``webcast_proto.recording``): the file format both ways, and replay into events.

The replay tests build a live session with ``ServerConnection`` and a ``ClientConnection``, write
what crossed the wire as records, and check the replay gives the live session's events exactly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from webcast_proto import codec
from webcast_proto import fixtures as fx
from webcast_proto.connection import ClientConnection, State, UpgradeToWebSocket
from webcast_proto.events import Connected, Disconnected, Event, MessageEvent, StreamEnd, WebSocketConnected
from webcast_proto.recording import (
    END_OF_RECORDING,
    FORMAT_NAME,
    FORMAT_VERSION,
    NEED_DATA,
    Direction,
    Recording,
    RecordingEnd,
    RecordingError,
    RecordingHeader,
    RecordingReader,
    RecordingWriter,
    Replayer,
    WireKind,
    WireRecord,
    read_recording,
    replay,
)
from webcast_proto.server import ServerConnection

if TYPE_CHECKING:
    from webcast_proto.recording import RecordingItem

ROOM_ID = fx.DEFAULT_ROOM_ID
HEADER = RecordingHeader(room_id=ROOM_ID, unique_id="host", created=1_734_000_000.5, generator="test")


def rec(direction: Direction, kind: WireKind, at: float, data: bytes = b"", **extra: object) -> WireRecord:
    return WireRecord(direction=direction, kind=kind, at=at, wall=1_734_000_000.0 + at, data=data, **extra)  # type: ignore[arg-type]  # code/text


def items_of(data: bytes, *, chunk: int | None = None) -> list[RecordingItem]:
    """Everything a reader returns for ``data`` fed whole or in ``chunk``-byte pieces."""
    reader = RecordingReader()
    out: list[RecordingItem] = []
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        reader.receive_data(piece)
        while (item := reader.next_item()) is not NEED_DATA:
            assert item is not END_OF_RECORDING
            out.append(item)
    reader.end_of_data()
    while (item := reader.next_item()) is not END_OF_RECORDING:
        assert item is not NEED_DATA
        out.append(item)
    return out


def write(
    records: list[WireRecord], end: RecordingEnd | None = None, header: RecordingHeader = HEADER
) -> bytes:
    writer = RecordingWriter(header, origin=0.0)
    data = writer.header() + b"".join(writer.record(r) for r in records)
    return data + (writer.end(end) if end is not None else b"")


# -- the format ------------------------------------------------------------------------------


def test_written_items_read_back_equal_whole_and_byte_by_byte() -> None:
    """What the writer writes, the reader returns as equal values, however the bytes are split."""
    records = [
        rec(Direction.OUT, WireKind.FETCH, 0.0),
        rec(Direction.IN, WireKind.FETCH, 0.25, b"\x00\x01body\xff"),
        rec(Direction.IN, WireKind.WS_OPEN, 0.5, text="ws://127.0.0.1:1/push?room_id=1"),
        rec(Direction.OUT, WireKind.WS, 0.5, b"enter"),
        rec(Direction.IN, WireKind.WS, 1.125, b"frame"),
        rec(Direction.IN, WireKind.WS_CLOSE, 2.0, code=1011, text="Zoë said no 🦋"),
        rec(Direction.IN, WireKind.FETCH_FAILED, 3.0, text="429"),
    ]
    end = RecordingEnd(reason="client", code=None, retryable=False, at=4.0, wall=1_734_000_004.0)
    data = write(records, end)
    assert data.isascii()
    expected = [HEADER, *records, end]
    assert items_of(data) == expected
    assert items_of(data, chunk=1) == expected
    assert items_of(data, chunk=7) == expected


def test_the_header_line_is_self_describing_json() -> None:
    """Line 1 names the format and version; ids are decimal strings (JSON numbers lose 64-bit ids)."""
    first = json.loads(RecordingWriter(HEADER).header())
    assert first["format"] == FORMAT_NAME
    assert first["version"] == FORMAT_VERSION
    assert first["room_id"] == str(ROOM_ID)


def test_times_are_relative_to_the_origin_or_the_first_record() -> None:
    """``t`` counts from ``origin``, or from the first record when none was given."""
    writer = RecordingWriter(HEADER)
    first = json.loads(writer.record(rec(Direction.OUT, WireKind.FETCH, 500.0)))
    later = json.loads(writer.record(rec(Direction.IN, WireKind.FETCH, 501.5)))
    assert (first["t"], later["t"]) == (0.0, 1.5)


def test_read_recording_returns_header_records_and_end() -> None:
    """The whole-file helper keeps the order and the end line."""
    records = [rec(Direction.OUT, WireKind.FETCH, 0.0)]
    end = RecordingEnd(reason="stream_end", at=1.0)
    recording = read_recording(write(records, end))
    assert recording == Recording(header=HEADER, records=tuple(records), end=end)
    assert read_recording(write(records)).end is None


def test_blank_lines_crlf_and_unknown_kinds_and_keys_are_skipped() -> None:
    """Additive changes (new kinds, new keys) do not break an older reader; blank lines are nothing."""
    data = (
        RecordingWriter(HEADER).header()
        + b"\r\n\n"
        + b'{"t":1,"wall":2,"dir":"in","kind":"video_chunk","data":"AA=="}\n'
        + b'{"t":1,"wall":2,"dir":"out","kind":"fetch","future_key":[1,2]}\r\n'
    )
    assert items_of(data) == [
        HEADER,
        WireRecord(direction=Direction.OUT, kind=WireKind.FETCH, at=1.0, wall=2.0),
    ]


H = b'{"format": "webcast-recording", '


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"\n\n", "empty file"),
        (b'{"hello": 1}\n', "not a webcast recording"),
        (b"[1, 2]\n", "expected a JSON object"),
        (b"not json\n", "not JSON"),
        (b"\xff\xfe\n", "not JSON"),
        (b"[" * 100_000 + b"\n", "not JSON"),
        (H + b'"version": 2, "room_id": "1"}\n', "newer than this webcast reads"),
        (
            b'{"format": "webcast-recording", "version": 0, "room_id": "1"}\n',
            "'version' must be a positive int",
        ),
        (
            b'{"format": "webcast-recording", "version": 1, "room_id": "x"}\n',
            "'room_id' must be a decimal id",
        ),
        (H + b'"version": 1, "room_id": "0"}\n', "positive 64-bit id"),
        (
            b'{"format": "webcast-recording", "version": 1, "room_id": 5, "created": "x"}\n',
            "'created' must be",
        ),
    ],
)
def test_a_bad_header_is_refused_naming_the_line(data: bytes, message: str) -> None:
    """Anything but a header this version reads, first, is a RecordingError saying what is wrong."""
    with pytest.raises(RecordingError, match=message):
        items_of(data)


HEAD = RecordingWriter(HEADER).header()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"t":1,"wall":2,"dir":"sideways","kind":"ws"}', "'dir' must be 'in' or 'out'"),
        (b'{"t":1,"wall":2,"dir":"in","kind":"ws","data":"!!"}', "'data' is not base64"),
        (b'{"wall":2,"dir":"in","kind":"ws"}', "missing 't'"),
        (b'{"t":1e999,"wall":2,"dir":"in","kind":"ws"}', "'t' must be a finite number"),
        (b'{"t":true,"wall":2,"dir":"in","kind":"ws"}', "'t' must be int or float"),
        (b'{"t":1,"wall":2,"dir":"in","kind":"ws_close","code":"x"}', "'code' must be int"),
        (b'{"t":1,"wall":2,"dir":"in","kind":5}', "'kind' must be str"),
        (b'{"t":1,"kind":"end","retryable":"no"}', "'retryable' must be bool"),
    ],
)
def test_a_bad_record_is_refused_naming_the_line(line: bytes, message: str) -> None:
    """A malformed record stops the reader with its line number."""
    with pytest.raises(RecordingError, match=rf"line 2: {message}"):
        items_of(HEAD + line + b"\n")


def test_a_cut_off_last_line_is_reported() -> None:
    """A file whose last line has no end (a crash mid-write) is truncated, and says so."""
    data = write([rec(Direction.IN, WireKind.WS, 1.0, b"x")])
    with pytest.raises(RecordingError, match="line 2 is cut off"):
        items_of(data[:-5])


def test_nothing_may_follow_the_end_line() -> None:
    """The end line is the last."""
    data = write([], RecordingEnd(reason="client")) + RecordingWriter(HEADER).record(
        rec(Direction.IN, WireKind.WS, 1.0)
    )
    with pytest.raises(RecordingError, match="nothing may follow the end line"):
        items_of(data)


def test_a_line_longer_than_the_limit_is_refused_before_its_end_arrives() -> None:
    """The reader holds at most ``max_line_size`` bytes of an unfinished line (h11's rule)."""
    reader = RecordingReader(max_line_size=100)
    reader.receive_data(HEAD[:50])
    assert reader.next_item() is NEED_DATA
    reader.receive_data(b"x" * 200)
    with pytest.raises(RecordingError, match="longer than max_line_size=100"):
        reader.next_item()


def test_a_complete_line_longer_than_the_limit_is_refused() -> None:
    """Also when the whole line arrived in one piece."""
    reader = RecordingReader(max_line_size=10)
    reader.receive_data(HEAD)
    with pytest.raises(RecordingError, match="line 1 is longer than max_line_size=10"):
        reader.next_item()


def test_data_after_end_of_data_is_a_local_mistake() -> None:
    """``receive_data`` after ``end_of_data`` is refused."""
    reader = RecordingReader()
    reader.end_of_data()
    with pytest.raises(RecordingError, match="after end_of_data"):
        reader.receive_data(b"x")


# -- replay ----------------------------------------------------------------------------------


class LiveSession:
    """A ClientConnection served by a ServerConnection, recording the wire as the driver's tap does."""

    def __init__(self, **client_options: object) -> None:
        self.server = ServerConnection(room_id=ROOM_ID)
        self.client = ClientConnection(room_id=ROOM_ID, **client_options)  # type: ignore[arg-type]  # options
        self.records: list[WireRecord] = []
        self.events: list[Event] = []
        self.now = 100.0

    def tap(self, direction: Direction, kind: WireKind, data: bytes = b"", **extra: object) -> None:
        self.records.append(rec(direction, kind, self.now, data, **extra))

    def fetch(self, *, offer_websocket: bool = True) -> None:
        request = self.client.start() if self.client.state is not State.POLLING else None
        if request is None:
            self.events += self.client.tick(self.now)
            request = self.client.request_to_send()
            assert request is not None
        self.tap(Direction.OUT, WireKind.FETCH)
        body = self.server.handle_fetch_request(request, offer_websocket=offer_websocket)
        self.tap(Direction.IN, WireKind.FETCH, body)
        outcome = self.client.receive_fetch_response(body, self.now)
        self.events += outcome.events
        if isinstance(outcome.instruction, UpgradeToWebSocket):
            self.server.websocket_opened(outcome.instruction.url)
            self.tap(Direction.IN, WireKind.WS_OPEN, text=outcome.instruction.url)
            self.events += self.client.websocket_opened(self.now)
            self.send()

    def send(self) -> None:
        for data in self.client.data_to_send():
            self.tap(Direction.OUT, WireKind.WS, data)
            self.server.receive_client_message(data)

    def push(self, frame: bytes) -> None:
        self.now += 1.0
        self.tap(Direction.IN, WireKind.WS, frame)
        try:
            self.events += self.client.receive_ws_message(frame, self.now)
        except Exception:
            self.events.append(Disconnected(reason="protocol_error"))  # what the driver reports
            return
        if self.client.state is State.STREAMING:
            self.events += self.client.tick(self.now)
        self.send()

    def close(self, code: int | None = 1011) -> None:
        self.now += 1.0
        self.tap(Direction.IN, WireKind.WS_CLOSE, code=code)
        self.events += self.client.websocket_closed(self.now, code)

    def replayed(self) -> list[Event]:
        replayer = Replayer(HEADER)
        out: list[Event] = []
        for record in self.records:
            out += replayer.feed(record)
        return out


def test_replay_gives_the_live_events_across_a_resume_with_duplicates() -> None:
    """History, frames, a dropped socket, a resume that repeats messages, the stream end: equal."""
    live = LiveSession()
    live.server.publish([fx.wrap(fx.live_intro()), fx.wrap(fx.chat("first"))])
    live.fetch()
    live.server.publish([fx.wrap(fx.chat("a")), fx.wrap(fx.like())])
    live.push(live.server.message_frame())
    live.server.publish([fx.wrap(fx.gift())])
    live.push(live.server.message_frame())
    live.push(live.server.message_frame(start=1))  # old messages again: dedup drops them
    live.close(1011)
    live.server.publish([fx.wrap(fx.member())])
    live.fetch()  # the resume
    live.server.publish([fx.wrap(fx.control(3))])
    live.push(live.server.message_frame())
    assert isinstance(live.events[-2], StreamEnd)
    replayed = live.replayed()
    assert replayed == live.events
    assert [type(e) for e in replayed].count(Connected) == 2


def test_replay_keeps_the_recorded_socket_url() -> None:
    """``WebSocketConnected.url`` is the URL the live client opened, from the ``ws_open`` record."""
    live = LiveSession()
    live.fetch()
    replayed = live.replayed()
    urls = [e.url for e in replayed if isinstance(e, WebSocketConnected)]
    assert urls == [r.text for r in live.records if r.kind is WireKind.WS_OPEN]
    assert urls[0].startswith("wss://")


def test_replay_queues_the_acks_the_live_client_sent() -> None:
    """The replayed connection acks and enters the room as the live one did (``sent``)."""
    live = LiveSession()
    live.fetch()
    live.server.publish([fx.wrap(fx.chat("a"))])
    live.push(live.server.message_frame())
    replayer = Replayer(HEADER)
    for record in live.records:
        replayer.feed(record)
    assert replayer.sent == [r.data for r in live.records if r.direction is Direction.OUT and r.data]


def test_replay_of_a_garbage_frame_is_a_protocol_error_loss() -> None:
    """A frame the connection refused is a loss named ``protocol_error``, its message kept."""
    live = LiveSession()
    live.fetch()
    live.push(b"\xff\xff\xffgarbage")
    replayer = Replayer(HEADER)
    events = [e for r in live.records for e in replayer.feed(r)]
    assert events[-1] == Disconnected(reason="protocol_error")
    assert replayer.loss_error
    assert replayer.state is State.DISCONNECTED


def test_replay_of_polling() -> None:
    """A session that polled replays to the same events."""
    live = LiveSession()
    live.server.publish([fx.wrap(fx.chat("history"))])
    live.fetch(offer_websocket=False)
    live.server.publish([fx.wrap(fx.chat("polled"))])
    live.now += 5.0
    live.fetch(offer_websocket=False)
    assert [e.comment for e in live.events if hasattr(e, "comment")] == ["history", "polled"]
    assert live.replayed() == live.events


def test_replay_of_a_failed_fetch_and_an_upgrade_that_failed() -> None:
    """``fetch_failed`` and a socket that never opened replay as the live losses."""
    live = LiveSession()
    request = live.client.start()
    live.tap(Direction.OUT, WireKind.FETCH)
    live.tap(Direction.IN, WireKind.FETCH_FAILED, text="GET host/webcast/im/fetch/: 503")
    live.events += live.client.fetch_failed(live.now, RuntimeError("503"))
    del request
    live.fetch()
    assert live.client.state is State.STREAMING
    replayer = Replayer(HEADER)
    events = [e for r in live.records for e in replayer.feed(r)]
    assert events == live.events
    assert replayer.loss_error == "GET host/webcast/im/fetch/: 503"  # the last loss's failure
    upgrade = LiveSession()
    upgrade.server.publish([fx.wrap(fx.chat("x"))])
    body = upgrade.server.fetch_response()
    upgrade.client.start()
    upgrade.tap(Direction.OUT, WireKind.FETCH)
    upgrade.tap(Direction.IN, WireKind.FETCH, body)
    upgrade.events += upgrade.client.receive_fetch_response(body, upgrade.now).events
    upgrade.tap(Direction.IN, WireKind.WS_CLOSE, text="handshake refused")
    upgrade.events += upgrade.client.websocket_closed(upgrade.now)
    replayer = Replayer(HEADER)
    assert [e for r in upgrade.records for e in replayer.feed(r)] == upgrade.events
    assert upgrade.events[-1] == Disconnected(reason="upgrade_failed")
    assert replayer.loss_error == "handshake refused"


def test_replay_fires_the_liveness_timeout_at_the_recorded_time() -> None:
    """A silent socket times out in replay too (the header's ``liveness_timeout``)."""
    live = LiveSession(liveness_timeout=10.0)
    live.fetch()
    live.now += 11.0
    live.events += live.client.tick(live.now)
    live.tap(Direction.IN, WireKind.WS_CLOSE)  # the driver closes the dead socket
    assert live.events[-1] == Disconnected(reason="timeout")
    header = RecordingHeader(room_id=ROOM_ID, liveness_timeout=10.0)
    replayer = Replayer(header)
    assert [e for r in live.records for e in replayer.feed(r)] == live.events


def test_replay_tolerates_records_out_of_place() -> None:
    """Records that make no sense in the state (a close after the end, a frame with no socket) pass."""
    replayer = Replayer(HEADER)
    assert replayer.feed(rec(Direction.IN, WireKind.WS, 1.0, b"frame")) == []
    assert replayer.feed(rec(Direction.IN, WireKind.WS_CLOSE, 1.0)) == []
    assert replayer.feed(rec(Direction.IN, WireKind.WS_OPEN, 1.0)) == []
    assert replayer.feed(rec(Direction.IN, WireKind.FETCH_FAILED, 1.0)) == []
    assert replayer.feed(rec(Direction.OUT, WireKind.WS, 1.0, b"ack")) == []
    bad = replayer.feed(rec(Direction.IN, WireKind.FETCH, 1.0, b"\xff\xff"))  # no out-fetch before it
    assert bad == [Disconnected(reason="protocol_error")]


def test_a_fetch_while_the_socket_is_open_closes_it_first() -> None:
    """A recording missing the socket's close still replays: the next fetch implies it."""
    live = LiveSession()
    live.fetch()
    replayer = Replayer(HEADER)
    for record in live.records:
        replayer.feed(record)
    events = replayer.feed(rec(Direction.OUT, WireKind.FETCH, 200.0))
    assert events == [Disconnected(reason="closed")]
    assert replayer.state is State.FETCHING


def test_replay_function_ends_with_the_final_disconnected() -> None:
    """``replay()`` appends the end line's ``Disconnected``, or one saying the recording ended."""
    live = LiveSession()
    live.server.publish([fx.wrap(fx.chat("x"))])
    live.fetch()
    end = RecordingEnd(reason="client", at=live.now)
    data = write(live.records, end)
    events = replay(data)
    assert events[:-1] == live.events
    assert events[-1] == Disconnected(reason="client", retryable=False)
    assert replay(write(live.records))[-1] == Disconnected(reason="end_of_recording", retryable=False)
    assert [e for e in events if isinstance(e, MessageEvent)] == [
        e for e in live.events if isinstance(e, MessageEvent)
    ]


def test_replay_function_after_a_stream_end_adds_nothing() -> None:
    """The stream end's own ``Disconnected`` is the last event."""
    live = LiveSession()
    live.fetch()
    live.server.publish([fx.wrap(fx.control(4))])
    live.push(live.server.message_frame())
    events = replay(read_recording(write(live.records, RecordingEnd(reason="stream_end"))))
    assert events == live.events
    assert events[-1] == Disconnected(reason="stream_end", retryable=False)


def test_gzip_frames_and_bodies_replay() -> None:
    """Compressed bodies are fed as recorded and inflate in replay as they did live."""
    server = ServerConnection(room_id=ROOM_ID)
    server.publish([fx.wrap(fx.chat("zipped"))])
    body = server.fetch_response(gzip=True)
    assert codec.is_gzip(body)
    records = [rec(Direction.OUT, WireKind.FETCH, 0.0), rec(Direction.IN, WireKind.FETCH, 0.1, body)]
    events = replay(write(records, RecordingEnd(reason="client")))
    assert [getattr(e, "comment", None) for e in events if isinstance(e, MessageEvent)] == ["zipped"]
