"""Every ``Limits`` field, at its bound and one past it (STYLE.md §7, issue 7 item 3).

Rules tested here, one section per limit:

* at the bound the input is accepted; one past it is refused with ``RemoteProtocolError`` naming the
  limit and its value (``LocalProtocolError`` for ``max_pending_bytes``, whose overflow is the caller's
  bug; the dedup window forgets instead of refusing, which is its documented behaviour);
* the count limits (messages, frame headers, route params) are checked on the wire *before* upb
  builds anything when the bytes are over 64 KiB (smaller ones are parsed first, then refused with
  the same error): proven by a parser shim that records calls, never by timing;
* the decoders, the client connection, the server connection and the HTTP parsers apply the same
  limits, so each limit is tried through every entry point that reads peer bytes under it.

Frames and results come from the fixture builders and the codec's encoders; wire bytes are written by
hand only where no encoder can produce them (unknown groups, a field with the wrong wire type).
"""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from helpers import count_path  # noqa: F401  # a fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webcast_proto import (
    ClientConnection,
    EulerSigner,
    LocalProtocolError,
    RemoteProtocolError,
    Response,
    ServerConnection,
    State,
    WebcastError,
    codec,
    decode_fetch_response,
    decode_push_frame,
)
from webcast_proto import fixtures as fx
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.config import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_FRAME_HEADERS,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_MAX_ROUTE_PARAMS,
    Limits,
)
from webcast_proto.convert import default_registry
from webcast_proto.events import Event, MessageEvent, ProtocolWarning
from webcast_proto.http import (
    parse_check_alive_response,
    parse_fetch_response,
    parse_gift_list_response,
    parse_live_page,
    parse_live_page_legacy,
    parse_room_id_api_response,
    parse_room_info_response,
    parse_send_chat_response,
)
from webcast_proto.server import ReceivedHeartbeat
from webcast_proto.signing import LegacySigner

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

ROOM_ID = fx.DEFAULT_ROOM_ID
NOW = 1000.0
MIB = 1024 * 1024


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field_number: int, wire_type: int) -> bytes:
    return _varint(field_number << 3 | wire_type)


def frame_with_headers(count: int, *, payload: bytes = b"") -> bytes:
    """An ``hb`` push frame carrying ``count`` headers."""
    headers = [(f"h{i}", "v") for i in range(count)]
    return codec.encode_push_frame(payload_type="hb", payload=payload, headers=headers)


def result_with_route_params(count: int) -> pb.ProtoMessageFetchResult:
    """A fetch result (one chat) whose ``route_params`` has ``count`` entries."""
    return fx.fetch_result([fx.chat()], route_params={f"k{i}": "v" for i in range(count)})


def result_with_messages(count: int) -> pb.ProtoMessageFetchResult:
    return fx.fetch_result([fx.chat(msg_id=1000 + i) for i in range(count)], cursor="c", route_params={})


def streaming_client(limits: Limits) -> ClientConnection:
    """A client past the first fetch and the upgrade, its enter-room drained."""
    conn = ClientConnection(room_id=ROOM_ID, limits=limits)
    conn.start()
    conn.receive_fetch_response(codec.encode_fetch_result(fx.fetch_result(cursor="c")), NOW)
    conn.websocket_opened(NOW)
    conn.data_to_send()
    return conn


def fetching_client(limits: Limits) -> ClientConnection:
    conn = ClientConnection(room_id=ROOM_ID, limits=limits)
    conn.start()
    return conn


class _RecordedClass:
    """A protobuf class whose ``FromString`` calls are recorded; everything else is the real class's."""

    def __init__(self, real: type[Message], calls: list[str]) -> None:
        self._real = real
        self._calls = calls

    def __call__(self, *args: object, **kwargs: object) -> Message:
        return self._real(*args, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    def FromString(self, data: bytes) -> Message:  # protobuf's name
        self._calls.append(self._real.DESCRIPTOR.name)
        return self._real.FromString(data)


class _RecordingPb:
    """Stands in for the codec's ``pb`` module: records which messages upb is asked to parse."""

    def __init__(self, calls: list[str]) -> None:
        self.WebcastPushFrame = _RecordedClass(pb.WebcastPushFrame, calls)
        self.ProtoMessageFetchResult = _RecordedClass(pb.ProtoMessageFetchResult, calls)

    def __getattr__(self, name: str) -> object:
        return getattr(pb, name)


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the messages the codec asks upb to parse, recorded while the test runs."""
    calls: list[str] = []
    monkeypatch.setattr(codec, "pb", _RecordingPb(calls))
    return calls


# --------------------------------------------------------------------------------------------
# The Limits object
# --------------------------------------------------------------------------------------------

LIMIT_FIELDS = [f.name for f in dataclasses.fields(Limits)]


def test_every_limit_has_a_documented_default_constant() -> None:
    """Each field defaults to the DEFAULT_MAX_… constant of its name, and the docstring describes it."""
    from webcast_proto import config

    for name in LIMIT_FIELDS:
        constant = getattr(config, f"DEFAULT_{name.upper()}")
        assert getattr(DEFAULT_LIMITS, name) == constant > 0
        assert f"{name}:" in (Limits.__doc__ or "")


@pytest.mark.parametrize("name", LIMIT_FIELDS)
@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10", None])
def test_every_limit_must_be_a_positive_int(name: str, bad: object) -> None:
    """A limit that is not a positive int is refused on construction, naming the field."""
    with pytest.raises(ValueError, match=f"Limits.{name} must be a positive int"):
        Limits(**{name: bad})  # type: ignore[arg-type]  # the point is a wrong type


@pytest.mark.parametrize("name", LIMIT_FIELDS)
def test_every_limit_accepts_one(name: str) -> None:
    """1 is the smallest bound; nothing forces a larger one."""
    assert getattr(Limits(**{name: 1}), name) == 1


# --------------------------------------------------------------------------------------------
# max_frame_size
# --------------------------------------------------------------------------------------------


def test_frame_size_at_and_past_the_bound() -> None:
    """A frame of exactly max_frame_size bytes parses; one byte less of limit refuses it, with 1009."""
    data = fx.message_frame([fx.chat()])
    assert codec.parse_push_frame(data, limits=Limits(max_frame_size=len(data))).payload_type == "msg"
    with pytest.raises(
        RemoteProtocolError, match=f"{len(data)} bytes exceeds max_frame_size={len(data) - 1}"
    ) as info:
        codec.parse_push_frame(data, limits=Limits(max_frame_size=len(data) - 1))
    assert info.value.close_code == 1009


def test_frame_size_is_checked_before_parsing(parse_calls: list[str]) -> None:
    data = fx.message_frame([fx.chat()])
    with pytest.raises(RemoteProtocolError, match="max_frame_size"):
        codec.parse_push_frame(data, limits=Limits(max_frame_size=len(data) - 1))
    assert parse_calls == []
    codec.parse_push_frame(data, limits=Limits(max_frame_size=len(data)))
    assert parse_calls == ["WebcastPushFrame"]


def test_frame_size_default_is_4_mib() -> None:
    """The default bound sits at 4 MiB: a frame of exactly that is read, one byte more is not."""
    assert DEFAULT_MAX_FRAME_SIZE == 4 * MIB
    filler = b"x" * (DEFAULT_MAX_FRAME_SIZE - 16)
    data = codec.encode_push_frame(payload_type="hb", payload=filler)
    data = codec.encode_push_frame(
        payload_type="hb", payload=filler + b"x" * (DEFAULT_MAX_FRAME_SIZE - len(data))
    )
    assert len(data) == DEFAULT_MAX_FRAME_SIZE
    assert codec.parse_push_frame(data).payload_type == "hb"
    with pytest.raises(RemoteProtocolError, match=f"max_frame_size={DEFAULT_MAX_FRAME_SIZE}"):
        codec.parse_push_frame(data + b"\x00")


def test_frame_size_applies_to_the_client_connection() -> None:
    """receive_ws_message: a frame at the bound gives events; past it, the error and DISCONNECTED."""
    data = fx.message_frame([fx.chat()])
    conn = streaming_client(Limits(max_frame_size=len(data)))
    assert len(conn.receive_ws_message(data, NOW)) == 1
    conn = streaming_client(Limits(max_frame_size=len(data) - 1))
    with pytest.raises(RemoteProtocolError, match=f"max_frame_size={len(data) - 1}"):
        conn.receive_ws_message(data, NOW)
    assert conn.state is State.DISCONNECTED


def test_frame_size_applies_to_the_server_connection() -> None:
    """receive_client_message: a client frame past the bound is refused with close code 1009."""
    data = codec.encode_heartbeat(ROOM_ID, 1)
    server = ServerConnection(room_id=ROOM_ID, limits=Limits(max_frame_size=len(data)))
    assert isinstance(server.receive_client_message(data), ReceivedHeartbeat)
    server = ServerConnection(room_id=ROOM_ID, limits=Limits(max_frame_size=len(data) - 1))
    with pytest.raises(RemoteProtocolError, match=f"max_frame_size={len(data) - 1}") as info:
        server.receive_client_message(data)
    assert info.value.close_code == 1009


def test_frame_size_applies_to_decode_push_frame() -> None:
    data = fx.message_frame([fx.chat()])
    assert len(decode_push_frame(data, limits=Limits(max_frame_size=len(data)))) == 1
    with pytest.raises(RemoteProtocolError, match=f"max_frame_size={len(data) - 1}"):
        decode_push_frame(data, limits=Limits(max_frame_size=len(data) - 1))


# --------------------------------------------------------------------------------------------
# max_frame_headers
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("count_path")
@pytest.mark.parametrize("limit", [1, 3, 64, 200])
def test_frame_headers_at_and_past_the_bound(limit: int) -> None:
    """A frame with exactly max_frame_headers headers parses; one more is refused naming limit and value."""
    frame = codec.parse_push_frame(frame_with_headers(limit), limits=Limits(max_frame_headers=limit))
    assert len(frame.headers) == limit
    with pytest.raises(
        RemoteProtocolError, match=f"push frame carries more than max_frame_headers={limit} headers"
    ) as info:
        codec.parse_push_frame(frame_with_headers(limit + 1), limits=Limits(max_frame_headers=limit))
    assert info.value.close_code == 1009


@pytest.mark.usefixtures("count_path")
def test_frame_headers_default_bound() -> None:
    """DEFAULT_MAX_FRAME_HEADERS headers pass the default limits; one more does not."""
    assert (
        len(codec.parse_push_frame(frame_with_headers(DEFAULT_MAX_FRAME_HEADERS)).headers)
        == DEFAULT_MAX_FRAME_HEADERS
    )
    with pytest.raises(RemoteProtocolError, match=f"max_frame_headers={DEFAULT_MAX_FRAME_HEADERS}"):
        codec.parse_push_frame(frame_with_headers(DEFAULT_MAX_FRAME_HEADERS + 1))


def test_header_flood_is_refused_before_parsing(parse_calls: list[str]) -> None:
    """A 4 MiB frame of empty headers (2 million of them) is counted on the wire: upb never sees it."""
    empty_header = _key(5, 2) + _varint(0)
    flood = codec.encode_push_frame(payload_type="msg") + empty_header * (DEFAULT_MAX_FRAME_SIZE // 2 - 16)
    assert len(flood) <= DEFAULT_MAX_FRAME_SIZE
    with pytest.raises(RemoteProtocolError, match=f"more than max_frame_headers={DEFAULT_MAX_FRAME_HEADERS}"):
        codec.parse_push_frame(flood)
    assert parse_calls == []
    # The shim does see a frame within the limit, so the assertion above can fail.
    codec.parse_push_frame(frame_with_headers(3))
    assert parse_calls == ["WebcastPushFrame"]


@pytest.mark.usefixtures("count_path")
def test_header_count_ignores_header_bytes_in_the_payload() -> None:
    """Bytes that look like header tags inside the payload (or a value) are not headers."""
    tag = bytes([codec._HEADERS_TAG])
    data = frame_with_headers(2, payload=(tag + b"\x00") * 5000)
    assert data.count(tag) > 5000
    assert len(codec.parse_push_frame(data, limits=Limits(max_frame_headers=2)).headers) == 2


@pytest.mark.usefixtures("count_path")
@pytest.mark.parametrize(
    ("overlong", "what"),
    [
        (b"\xaa\x00", "headers"),  # field 5, wire type 2, written in two bytes: upb accepts it
        (b"\xaa\x80\x80\x80\x00", "headers"),  # in five
    ],
)
def test_headers_with_overlong_tags_are_counted(overlong: bytes, what: str) -> None:
    """A tag written as an overlong varint still starts an entry: the count cannot be dodged that way.

    (The count's pre-check looks for the tag's first byte; an overlong tag's first byte is the tag
    with the continuation bit set.)
    """
    flood = (overlong + b"\x00") * 100
    assert len(pb.WebcastPushFrame.FromString(flood).headers) == 100  # upb's reading
    with pytest.raises(RemoteProtocolError, match=f"more than max_frame_headers=99 {what}"):
        codec.parse_push_frame(flood, limits=Limits(max_frame_headers=99))
    assert len(codec.parse_push_frame(flood, limits=Limits(max_frame_headers=100)).headers) == 100


@pytest.mark.usefixtures("count_path")
def test_messages_and_route_params_with_overlong_tags_are_counted() -> None:
    """The same holds for a fetch result's messages (tag 0a) and route params (tag 3a)."""
    messages = b"\x8a\x00\x00" * 50
    with pytest.raises(RemoteProtocolError, match="more than max_messages_per_frame=49 messages"):
        codec.parse_fetch_result(messages, limits=Limits(max_messages_per_frame=49))
    assert len(codec.parse_fetch_result(messages, limits=Limits(max_messages_per_frame=50)).messages) == 50
    params = b"".join(b"\xba\x00" + bytes([5, 0x0A, 3]) + b"k%02d" % i for i in range(50))
    with pytest.raises(RemoteProtocolError, match="more than max_route_params=49 route params"):
        codec.parse_fetch_result(params, limits=Limits(max_route_params=49))
    assert len(codec.parse_fetch_result(params, limits=Limits(max_route_params=50)).route_params) == 50


@pytest.mark.usefixtures("count_path")
def test_headers_inside_unknown_groups_or_with_another_wire_type_are_not_counted() -> None:
    """Field-5 entries nested in an unknown group, or field 5 as a varint, are not headers to upb either."""
    empty_header = _key(5, 2) + _varint(0)
    data = frame_with_headers(1) + _key(20, 3) + empty_header * 10 + _key(20, 4) + (_key(5, 0) + b"\x2a") * 10
    frame = codec.parse_push_frame(data, limits=Limits(max_frame_headers=1))
    assert len(frame.headers) == 1


@pytest.mark.usefixtures("count_path")
def test_frame_headers_apply_to_the_client_and_server_connections() -> None:
    """Both connections read frames through the same count."""
    data = frame_with_headers(4)
    conn = streaming_client(Limits(max_frame_headers=4))
    assert conn.receive_ws_message(data, NOW) == []
    conn = streaming_client(Limits(max_frame_headers=3))
    with pytest.raises(RemoteProtocolError, match="max_frame_headers=3"):
        conn.receive_ws_message(data, NOW)
    assert conn.state is State.DISCONNECTED
    heartbeat = codec.encode_push_frame(
        payload_type="hb",
        payload=pb.HeartBeatMessage(room_id=ROOM_ID, send_packet_seq_id=1).SerializeToString(),
        headers=[("a", "b")] * 4,
    )
    server = ServerConnection(room_id=ROOM_ID, limits=Limits(max_frame_headers=4))
    assert isinstance(server.receive_client_message(heartbeat), ReceivedHeartbeat)
    server = ServerConnection(room_id=ROOM_ID, limits=Limits(max_frame_headers=3))
    with pytest.raises(RemoteProtocolError, match="max_frame_headers=3") as info:
        server.receive_client_message(heartbeat)
    assert info.value.close_code == 1009


# --------------------------------------------------------------------------------------------
# max_route_params
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("count_path")
@pytest.mark.parametrize("limit", [1, 3, 50])
@pytest.mark.parametrize("compress", [False, True])
def test_route_params_at_and_past_the_bound(limit: int, compress: bool) -> None:
    """A fetch result with exactly max_route_params entries parses; one more is refused naming both."""
    limits = Limits(max_route_params=limit)
    body = codec.encode_fetch_result(result_with_route_params(limit))
    body = codec.gzip_compress(body) if compress else body
    assert len(codec.parse_fetch_result(body, limits=limits).route_params) == limit
    body = codec.encode_fetch_result(result_with_route_params(limit + 1))
    body = codec.gzip_compress(body) if compress else body
    with pytest.raises(
        RemoteProtocolError, match=f"fetch result carries more than max_route_params={limit} route params"
    ) as info:
        codec.parse_fetch_result(body, limits=limits)
    assert info.value.close_code == 1009


@pytest.mark.usefixtures("count_path")
def test_route_params_default_bound() -> None:
    body = codec.encode_fetch_result(result_with_route_params(DEFAULT_MAX_ROUTE_PARAMS))
    assert len(codec.parse_fetch_result(body).route_params) == DEFAULT_MAX_ROUTE_PARAMS
    body = codec.encode_fetch_result(result_with_route_params(DEFAULT_MAX_ROUTE_PARAMS + 1))
    with pytest.raises(RemoteProtocolError, match=f"max_route_params={DEFAULT_MAX_ROUTE_PARAMS}"):
        codec.parse_fetch_result(body)


def test_route_param_flood_is_refused_before_parsing(parse_calls: list[str]) -> None:
    """A million distinct route params, gzip'd, are counted on the wire: upb never builds the map."""
    entries = b"".join(
        _key(7, 2) + _varint(len(entry)) + entry
        for entry in (_key(1, 2) + _varint(6) + b"%06x" % i for i in range(200_000))
    )
    body = codec.gzip_compress(entries)
    with pytest.raises(RemoteProtocolError, match=f"more than max_route_params={DEFAULT_MAX_ROUTE_PARAMS}"):
        codec.parse_fetch_result(body)
    assert parse_calls == []
    codec.parse_fetch_result(codec.encode_fetch_result(result_with_route_params(3)))
    assert parse_calls == ["ProtoMessageFetchResult"]


@pytest.mark.usefixtures("count_path")
def test_route_param_count_ignores_colons_in_values() -> None:
    """Route param tag bytes (":") inside URLs and other text are not entries."""
    result = fx.fetch_result(
        [fx.chat()], route_params={"a": ":" * 5000, "b": "wss://x:1/"}, internal_ext=":" * 3000
    )
    body = codec.encode_fetch_result(result)
    assert body.count(b":") > 8000
    assert len(codec.parse_fetch_result(body, limits=Limits(max_route_params=2)).route_params) == 2


@pytest.mark.usefixtures("count_path")
def test_route_params_apply_to_frames_decoders_and_the_client() -> None:
    """The count holds for a msg frame, decode_fetch_response and receive_fetch_response."""
    over = result_with_route_params(3)
    frame = codec.parse_push_frame(codec.encode_message_frame(over))
    assert len(codec.fetch_result_from_frame(frame, limits=Limits(max_route_params=3)).route_params) == 3
    with pytest.raises(RemoteProtocolError, match="max_route_params=2"):
        codec.fetch_result_from_frame(frame, limits=Limits(max_route_params=2))
    body = codec.encode_fetch_result(over)
    assert len(decode_fetch_response(body, limits=Limits(max_route_params=3))) == 1
    with pytest.raises(RemoteProtocolError, match="max_route_params=2"):
        decode_fetch_response(body, limits=Limits(max_route_params=2))
    _, instruction = fetching_client(Limits(max_route_params=3)).receive_fetch_response(body, NOW)
    assert instruction is not None
    conn = fetching_client(Limits(max_route_params=2))
    with pytest.raises(RemoteProtocolError, match="max_route_params=2"):
        conn.receive_fetch_response(body, NOW)
    assert conn.state is State.DISCONNECTED


# --------------------------------------------------------------------------------------------
# max_messages_per_frame
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("count_path")
@pytest.mark.parametrize("compress", [False, True])
def test_messages_at_and_past_the_bound(compress: bool) -> None:
    body = codec.encode_fetch_result(result_with_messages(5))
    body = codec.gzip_compress(body) if compress else body
    assert len(codec.parse_fetch_result(body, limits=Limits(max_messages_per_frame=5)).messages) == 5
    with pytest.raises(
        RemoteProtocolError, match="fetch result carries more than max_messages_per_frame=4 messages"
    ) as info:
        codec.parse_fetch_result(body, limits=Limits(max_messages_per_frame=4))
    assert info.value.close_code == 1009


@pytest.mark.usefixtures("count_path")
def test_messages_apply_to_the_client_and_decoders() -> None:
    """A frame at the bound gives its events; past it the client disconnects."""
    data = fx.message_frame(result_with_messages(3))
    assert len(decode_push_frame(data, limits=Limits(max_messages_per_frame=3))) == 3
    with pytest.raises(RemoteProtocolError, match="max_messages_per_frame=2"):
        decode_push_frame(data, limits=Limits(max_messages_per_frame=2))
    assert len(streaming_client(Limits(max_messages_per_frame=3)).receive_ws_message(data, NOW)) == 3
    conn = streaming_client(Limits(max_messages_per_frame=2))
    with pytest.raises(RemoteProtocolError, match="max_messages_per_frame=2"):
        conn.receive_ws_message(data, NOW)
    assert conn.state is State.DISCONNECTED


def test_message_flood_is_refused_before_parsing(parse_calls: list[str]) -> None:
    """Past the bound a body over 64 KiB is refused by the wire count; at the bound upb parses it once."""
    count = codec._PARSE_FIRST_SIZE // 2 + 1  # empty messages, two bytes each
    body = codec.encode_fetch_result(pb.ProtoMessageFetchResult(messages=[pb.BaseProtoMessage()] * count))
    assert len(body) > codec._PARSE_FIRST_SIZE
    with pytest.raises(RemoteProtocolError, match=f"more than max_messages_per_frame={count - 1} messages"):
        codec.parse_fetch_result(body, limits=Limits(max_messages_per_frame=count - 1))
    assert parse_calls == []
    codec.parse_fetch_result(body, limits=Limits(max_messages_per_frame=count))
    assert parse_calls == ["ProtoMessageFetchResult"]


@pytest.mark.parametrize("flood", ["messages", "route params", "headers"])
def test_small_floods_are_parsed_then_refused(parse_calls: list[str], flood: str) -> None:
    """Bytes of at most 64 KiB are parsed first (upb builds at most a few MB from them) and refused
    after, with the error the wire count gives: the same limit named, close code 1009."""
    if flood == "headers":
        data = frame_with_headers(5)
        with pytest.raises(
            RemoteProtocolError, match="push frame carries more than max_frame_headers=4 headers"
        ) as info:
            codec.parse_push_frame(data, limits=Limits(max_frame_headers=4))
        assert parse_calls == ["WebcastPushFrame"]
    else:
        if flood == "messages":
            body = codec.encode_fetch_result(result_with_messages(5))
            limits, name = Limits(max_messages_per_frame=4), "max_messages_per_frame"
        else:
            body = codec.encode_fetch_result(result_with_route_params(5))
            limits, name = Limits(max_route_params=4), "max_route_params"
        with pytest.raises(
            RemoteProtocolError, match=f"fetch result carries more than {name}=4 {flood}"
        ) as info:
            codec.parse_fetch_result(body, limits=limits)
        assert parse_calls == ["ProtoMessageFetchResult"]
    assert info.value.close_code == 1009


@pytest.mark.usefixtures("count_path")
def test_one_walk_counts_messages_and_route_params_together() -> None:
    """Both counts hold in the same body: whichever passes its bound first is named."""
    result = result_with_messages(3)
    result.route_params.update({f"k{i}": "v" for i in range(3)})
    body = codec.encode_fetch_result(result)
    parsed = codec.parse_fetch_result(body, limits=Limits(max_messages_per_frame=3, max_route_params=3))
    assert (len(parsed.messages), len(parsed.route_params)) == (3, 3)
    with pytest.raises(RemoteProtocolError, match="max_messages_per_frame=2"):
        codec.parse_fetch_result(body, limits=Limits(max_messages_per_frame=2, max_route_params=3))
    with pytest.raises(RemoteProtocolError, match="max_route_params=2"):
        codec.parse_fetch_result(body, limits=Limits(max_messages_per_frame=3, max_route_params=2))


# The wire walk only decides counts: for any top-level wire data it refuses only what upb refuses, and
# within the bounds it accepts what upb accepts (with the counts upb finds).
def _overlong(key: bytes, extra: int) -> bytes:
    """``key`` (a one-byte varint) written in ``1 + extra`` bytes, as upb also accepts."""
    return key if not extra else bytes([key[0] | 0x80]) + b"\x80" * (extra - 1) + b"\x00"


_counted_entry = st.tuples(
    st.sampled_from([1, 5, 7]),
    st.sampled_from([b"", b"\x0a\x01k", b"\x0a\x01k\x12\x01v", b"\x0a\x01j"]),
    st.sampled_from([0, 0, 0, 1, 4]),
).map(lambda t: _overlong(_key(t[0], 2), t[2]) + _varint(len(t[1])) + t[1])
_wire_field = st.one_of(
    _counted_entry,
    _counted_entry,
    st.tuples(st.integers(1, 12), st.binary(max_size=6)).map(
        lambda t: _key(t[0], 2) + _varint(len(t[1])) + t[1]
    ),
    st.tuples(st.integers(1, 12), st.integers(0, 2**64 - 1)).map(lambda t: _key(t[0], 0) + _varint(t[1])),
    st.integers(1, 12).map(lambda n: _key(n, 1) + b"\x00" * 8),
    st.integers(1, 12).map(lambda n: _key(n, 5) + b"\x00" * 4),
    st.integers(13, 20).map(lambda n: _key(n, 3)),
    st.integers(13, 20).map(lambda n: _key(n, 4)),
    st.binary(min_size=1, max_size=3),
)


def _entry_counter() -> type[Message]:
    """A message declaring fields 1, 5 and 7 as ``repeated bytes``: upb's own count of their entries.

    A map or a repeated message field parses the same top-level entries as ``repeated bytes`` (same
    wire type), but a map keeps one entry per key: this class counts each entry sent, as the wire
    walk does.
    """
    proto = descriptor_pb2.FileDescriptorProto(
        name="entry_counter.proto", package="test_limits", syntax="proto3"
    )
    message = proto.message_type.add(name="EntryCounter")
    for name, number in (("messages", 1), ("headers", 5), ("route_params", 7)):
        message.field.add(
            name=name,
            number=number,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
        )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("test_limits.EntryCounter"))


EntryCounter = _entry_counter()


@pytest.mark.usefixtures("count_path")
@given(st.lists(_wire_field, max_size=30).map(b"".join), st.integers(1, 4))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # count_path holds for every input
def test_counts_never_refuse_what_upb_accepts_within_the_bounds(data: bytes, limit: int) -> None:
    """A body upb parses is refused only when one of its counted fields is over the bound.

    Counted on the wire, a route param key given twice is two entries; parsed first, one map entry.
    """
    for message_class, parse, counted in (
        (pb.WebcastPushFrame, lambda lim: codec.parse_push_frame(data, limits=lim), ("headers",)),
        (
            pb.ProtoMessageFetchResult,
            lambda lim: codec.parse_fetch_result(data, limits=lim),
            ("messages", "route_params"),
        ),
    ):
        limits = Limits(max_frame_headers=limit, max_messages_per_frame=limit, max_route_params=limit)
        try:
            expected = message_class.FromString(data)
        except DecodeError:
            with pytest.raises(RemoteProtocolError):
                parse(limits)
            continue
        entries = EntryCounter.FromString(data)
        sizes = {name: len(getattr(entries, name)) for name in counted}
        if codec._PARSE_FIRST_SIZE and "route_params" in sizes:  # parsed first
            sizes["route_params"] = len(expected.route_params)  # type: ignore[union-attr]
        if any(size > limit for size in sizes.values()):
            with pytest.raises(RemoteProtocolError, match="more than max_"):
                parse(limits)
        else:
            assert parse(limits) == expected


# --------------------------------------------------------------------------------------------
# max_decompressed_size
# --------------------------------------------------------------------------------------------


def test_decompressed_size_at_and_past_the_bound() -> None:
    """gunzip: output of exactly the bound is returned; one byte more is refused naming limit and size."""
    data = codec.gzip_compress(b"z" * 1000)
    assert codec.gunzip(data, max_size=1000) == b"z" * 1000
    with pytest.raises(RemoteProtocolError, match="inflates past max_decompressed_size=999") as info:
        codec.gunzip(data, max_size=999)
    assert info.value.close_code == 1009


def test_decompressed_size_applies_to_bodies_frames_and_the_client() -> None:
    """parse_fetch_result, frame_payload and receive_ws_message all bound the inflated payload."""
    result = result_with_messages(2)
    size = len(codec.encode_fetch_result(result))
    body = codec.gzip_compress(codec.encode_fetch_result(result))
    assert len(codec.parse_fetch_result(body, limits=Limits(max_decompressed_size=size)).messages) == 2
    with pytest.raises(RemoteProtocolError, match=f"max_decompressed_size={size - 1}"):
        codec.parse_fetch_result(body, limits=Limits(max_decompressed_size=size - 1))
    data = fx.message_frame(result)
    frame = codec.parse_push_frame(data)
    assert len(codec.frame_payload(frame, limits=Limits(max_decompressed_size=size))) == size
    with pytest.raises(RemoteProtocolError, match=f"max_decompressed_size={size - 1}"):
        codec.frame_payload(frame, limits=Limits(max_decompressed_size=size - 1))
    assert len(streaming_client(Limits(max_decompressed_size=size)).receive_ws_message(data, NOW)) == 2
    conn = streaming_client(Limits(max_decompressed_size=size - 1))
    with pytest.raises(RemoteProtocolError, match=f"max_decompressed_size={size - 1}"):
        conn.receive_ws_message(data, NOW)
    assert conn.state is State.DISCONNECTED


# --------------------------------------------------------------------------------------------
# max_dedup_window
# --------------------------------------------------------------------------------------------


def _deliver(conn: ClientConnection, msg_ids: list[int]) -> list[int]:
    events = conn.receive_ws_message(fx.message_frame([fx.chat(msg_id=i) for i in msg_ids]), NOW)
    conn.data_to_send()
    return [e.msg_id for e in events if isinstance(e, MessageEvent)]


def test_dedup_window_at_and_past_the_bound() -> None:
    """The window remembers exactly max_dedup_window ids: the oldest of window + 1 is forgotten.

    Not an error: a bounded memory that forgets the oldest id, as documented (a repeat older than the
    window is delivered again).
    """
    at = streaming_client(Limits(max_dedup_window=3))
    assert _deliver(at, [1, 2, 3]) == [1, 2, 3]
    assert _deliver(at, [1]) == []  # still remembered: at the bound
    past = streaming_client(Limits(max_dedup_window=3))
    assert _deliver(past, [1, 2, 3, 4]) == [1, 2, 3, 4]
    assert _deliver(past, [2, 3, 4]) == []
    assert _deliver(past, [1]) == [1]  # forgotten: one past the bound


# --------------------------------------------------------------------------------------------
# max_pending_bytes
# --------------------------------------------------------------------------------------------


def test_pending_bytes_at_and_past_the_bound_for_enter_room() -> None:
    """The enter-room frame fits a cap of exactly its size; one byte less is LocalProtocolError.

    LocalProtocolError, not RemoteProtocolError: the queue only fills when the caller does not drain
    data_to_send(), so the error is the caller's, and nothing changes.
    """
    size = len(codec.encode_enter_room(ROOM_ID))
    for limit, fits in ((size, True), (size - 1, False)):
        conn = ClientConnection(room_id=ROOM_ID, limits=Limits(max_pending_bytes=limit))
        conn.start()
        conn.receive_fetch_response(codec.encode_fetch_result(fx.fetch_result(cursor="c")), NOW)
        if fits:
            conn.websocket_opened(NOW)
            assert [len(m) for m in conn.data_to_send()] == [size]
        else:
            with pytest.raises(
                LocalProtocolError, match=f"{size} outgoing bytes .* max_pending_bytes={limit}"
            ):
                conn.websocket_opened(NOW)
            assert conn.state is State.UPGRADING


def test_pending_bytes_at_and_past_the_bound_for_acks() -> None:
    """An ack that would pass the cap is refused before the frame is consumed."""
    result = fx.fetch_result([fx.wrap(fx.chat(), msg_id=1)], cursor="c2", internal_ext="ext")
    data = fx.message_frame(result, log_id=77)
    enter = len(codec.encode_enter_room(ROOM_ID))
    ack = len(codec.encode_ack(77, "ext"))
    for limit, fits in ((enter + ack, True), (enter + ack - 1, False)):
        conn = ClientConnection(room_id=ROOM_ID, limits=Limits(max_pending_bytes=limit))
        conn.start()
        conn.receive_fetch_response(codec.encode_fetch_result(fx.fetch_result(cursor="c")), NOW)
        conn.websocket_opened(NOW)  # enter-room stays queued
        if fits:
            assert len(conn.receive_ws_message(data, NOW)) == 1
            assert len(conn.data_to_send()) == 2
        else:
            with pytest.raises(LocalProtocolError, match=f"max_pending_bytes={limit}"):
                conn.receive_ws_message(data, NOW)
            assert conn.cursor == "c"  # nothing consumed
            assert conn.state is State.STREAMING


# --------------------------------------------------------------------------------------------
# max_http_body_size and max_json_depth: every HTTP parser
# --------------------------------------------------------------------------------------------

JSON_TYPE = ("Content-Type", "application/json")


def _live_page(document: str) -> str:
    return f'<html><head><script id="SIGI_STATE" type="application/json">{document}</script></head></html>'


def _as_is(document: str) -> str:
    return document


@dataclasses.dataclass(frozen=True)
class HTTPParser:
    """One response parser: how to call it, a well-formed answer, and where a JSON document goes."""

    parse: Callable[[Response, Limits], object]
    body: bytes
    headers: tuple[tuple[str, str], ...] = (JSON_TYPE,)
    wrap: Callable[[str], str] | None = _as_is  # None: not JSON


_JSON_OK = b'{"status_code": 0, "data": {}}'
_FETCH_BODY = codec.encode_fetch_result(fx.fetch_result(cursor="c"))

HTTP_PARSERS: Mapping[str, HTTPParser] = {
    "room_info": HTTPParser(lambda r, lim: parse_room_info_response(r, limits=lim), _JSON_OK),
    "check_alive": HTTPParser(lambda r, lim: parse_check_alive_response(r, limits=lim), _JSON_OK),
    "gift_list": HTTPParser(lambda r, lim: parse_gift_list_response(r, limits=lim), _JSON_OK),
    "send_chat": HTTPParser(lambda r, lim: parse_send_chat_response(r, limits=lim), _JSON_OK),
    "room_id_api": HTTPParser(
        lambda r, lim: parse_room_id_api_response(r, unique_id="u", limits=lim), _JSON_OK
    ),
    "live_page": HTTPParser(
        lambda r, lim: parse_live_page(r, unique_id="u", limits=lim),
        _live_page('{"LiveRoom": {}}').encode(),
        (("Content-Type", "text/html"),),
        _live_page,
    ),
    "live_page_legacy": HTTPParser(
        lambda r, lim: parse_live_page_legacy(r, unique_id="u", limits=lim),
        b'<html>"roomId":"7448811992334045998"</html>',
        (("Content-Type", "text/html"),),
        None,
    ),
    "fetch": HTTPParser(lambda r, lim: parse_fetch_response(r, limits=lim), _FETCH_BODY, (), None),
    "euler_sign": HTTPParser(lambda r, lim: EulerSigner(limits=lim).parse_sign_response(r), _JSON_OK),
    "euler_fetch": HTTPParser(
        lambda r, lim: EulerSigner(limits=lim).parse_fetch_response(r),
        _FETCH_BODY,
        (("X-Set-TT-Cookie", "ttwid=1"),),
        None,
    ),
    "euler_room_id": HTTPParser(lambda r, lim: EulerSigner(limits=lim).parse_room_id_response(r), _JSON_OK),
    "euler_chat": HTTPParser(lambda r, lim: EulerSigner(limits=lim).parse_chat_response(r), _JSON_OK),
    "legacy_sign": HTTPParser(lambda r, lim: LegacySigner(limits=lim).parse_sign_response(r), _JSON_OK),
}
JSON_HTTP_PARSERS = {name: parser for name, parser in HTTP_PARSERS.items() if parser.wrap is not None}


def _error_of(call: Callable[[], object]) -> WebcastError | None:
    """The library error ``call`` raises, or None."""
    try:
        call()
    except WebcastError as exc:
        return exc
    return None


@pytest.mark.parametrize("name", list(HTTP_PARSERS))
def test_http_body_size_at_and_past_the_bound(name: str) -> None:
    """Every HTTP parser takes a body of exactly max_http_body_size past its size check, and refuses
    one byte more with RemoteProtocolError naming the limit and the size (checked before anything)."""
    parser = HTTP_PARSERS[name]
    size = len(parser.body)
    response = Response(200, parser.headers, parser.body)
    at = _error_of(lambda: parser.parse(response, Limits(max_http_body_size=size)))
    assert at is None or "max_http_body_size" not in str(at), at
    with pytest.raises(
        RemoteProtocolError, match=rf"body of {size} bytes exceeds Limits.max_http_body_size \({size - 1}\)"
    ):
        parser.parse(response, Limits(max_http_body_size=size - 1))


def test_http_body_size_applies_to_decode_fetch_response() -> None:
    body = codec.encode_fetch_result(result_with_messages(1))
    assert len(decode_fetch_response(body, limits=Limits(max_http_body_size=len(body)))) == 1
    with pytest.raises(
        RemoteProtocolError, match=f"{len(body)} bytes exceeds max_http_body_size={len(body) - 1}"
    ):
        decode_fetch_response(body, limits=Limits(max_http_body_size=len(body) - 1))


def _nested(depth: int) -> str:
    """A JSON object nested exactly ``depth`` deep (the outer object counts as 1)."""
    return '{"status_code": 0, "data": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("name", list(JSON_HTTP_PARSERS))
@pytest.mark.parametrize("depth", [2, 5, 64])
def test_json_depth_at_and_past_the_bound(name: str, depth: int) -> None:
    """JSON nested exactly max_json_depth deep passes the depth check of every JSON parser; one level
    deeper is refused with RemoteProtocolError naming the depth and the limit, before json.loads."""
    parser = JSON_HTTP_PARSERS[name]
    assert parser.wrap is not None
    response = Response(200, parser.headers, parser.wrap(_nested(depth)).encode())
    at = _error_of(lambda: parser.parse(response, Limits(max_json_depth=depth)))
    assert at is None or "max_json_depth" not in str(at), at
    with pytest.raises(
        RemoteProtocolError, match=rf"nested {depth} deep exceeds Limits.max_json_depth \({depth - 1}\)"
    ):
        parser.parse(response, Limits(max_json_depth=depth - 1))


@pytest.mark.parametrize("name", list(JSON_HTTP_PARSERS))
def test_json_depth_is_checked_before_parsing(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """json.loads never sees a document past the depth bound (so no RecursionError is possible)."""
    from webcast_proto import _http_common

    loads: list[int] = []

    def recording_loads(text: str) -> object:
        loads.append(len(text))
        return json.loads(text)

    monkeypatch.setattr(_http_common, "json", SimpleNamespace(loads=recording_loads))
    parser = JSON_HTTP_PARSERS[name]
    assert parser.wrap is not None
    response = Response(200, parser.headers, parser.wrap(_nested(100_000)).encode())
    with pytest.raises(RemoteProtocolError, match="max_json_depth"):
        parser.parse(response, DEFAULT_LIMITS)
    assert loads == []


# --------------------------------------------------------------------------------------------
# max_message_size
# --------------------------------------------------------------------------------------------


def _chat_with_empty_emotes(count: int, msg_id: int) -> pb.BaseProtoMessage:
    chat = fx.chat("flood", msg_id=msg_id)
    for _ in range(count):
        chat.emotes.add()
    return fx.wrap(chat)


def test_message_size_at_and_past_the_bound() -> None:
    """A message of exactly max_message_size bytes is converted; one byte more is a ProtocolWarning
    in its place, naming the limit, while its neighbours are delivered."""
    message = fx.wrap(fx.chat("hello " * 500, msg_id=501))
    size = message.ByteSize()
    neighbours = [fx.wrap(fx.like(msg_id=500)), fx.wrap(fx.like(msg_id=502))]
    assert all(n.ByteSize() < size - 1 for n in neighbours)
    result = fx.fetch_result([neighbours[0], message, neighbours[1]])
    at = decode_fetch_response(codec.encode_fetch_result(result), limits=Limits(max_message_size=size))
    assert [type(e).__name__ for e in at] == ["Like", "Chat", "Like"]
    past = decode_fetch_response(codec.encode_fetch_result(result), limits=Limits(max_message_size=size - 1))
    assert [type(e).__name__ for e in past] == ["Like", "ProtocolWarning", "Like"]
    warning = past[1]
    assert isinstance(warning, ProtocolWarning)
    assert f"max_message_size={size - 1}" in warning.message
    assert (warning.method, warning.msg_id) == ("WebcastChatMessage", 501)


def test_message_size_stops_a_repeated_field_flood_in_a_small_frame() -> None:
    """A chat of 400,000 empty emotes (~800 KB, a few KB gzip'd) never reaches its converter under
    the default bound: parsing would build an object per emote (found by review of the fuzz targets)."""
    converted: list[int] = []
    registry = default_registry()
    plain = default_registry()

    def spy(message: pb.BaseProtoMessage) -> Event:
        converted.append(message.msg_id)
        return plain.convert(message)

    registry.register("WebcastChatMessage", spy)
    flood = _chat_with_empty_emotes(400_000, msg_id=601)
    assert flood.ByteSize() > DEFAULT_LIMITS.max_message_size
    frame = codec.encode_message_frame(
        fx.fetch_result([flood, fx.wrap(fx.chat("fine", msg_id=602)), fx.wrap(fx.like(msg_id=603))])
    )
    assert len(frame) < 64 * 1024
    events = decode_push_frame(frame, registry=registry)
    assert [type(e).__name__ for e in events] == ["ProtocolWarning", "Chat", "Like"]
    assert converted == [602]


def test_message_size_applies_to_the_client_connection() -> None:
    """The connection's sieve uses the same bound: the oversized message is a warning, the frame goes on."""
    conn = streaming_client(Limits(max_message_size=DEFAULT_LIMITS.max_message_size))
    flood = _chat_with_empty_emotes(200_000, msg_id=701)
    frame = codec.encode_message_frame(fx.fetch_result([flood, fx.wrap(fx.like(msg_id=702))], cursor="d"))
    events = conn.receive_ws_message(frame, NOW)
    assert [type(e).__name__ for e in events] == ["ProtocolWarning", "Like"]
    assert conn.state is State.STREAMING
