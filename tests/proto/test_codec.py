"""The codec (webcast_proto.codec): frames and fetch results in and out, within the limits.

Rules tested here, each by the test named for it:

* encoding then decoding any frame kind gives back what was encoded, gzip'd or plain;
* the ack, heartbeat and enter-room encoders reproduce SPEC.md §4.3-§4.5's example bytes;
* any bytes into any decoder either decode or raise RemoteProtocolError, nothing else;
* every limit is checked before the work it bounds, and the error names the limit and the value;
* a payload is gunzipped when the compress_type header or the gzip magic says so (SPEC.md §4.2).

Messages are built with the protobuf classes and the codec's encoders. Bytes are written by hand
only for SPEC.md's example vectors and for wire data no encoder can produce (a length past the
end, unknown groups), through ``_key``/``_varint`` below.
"""

from __future__ import annotations

import contextlib
import struct
import tracemalloc
import zlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest
from google.protobuf.message import DecodeError
from helpers import count_path  # noqa: F401  # a fixture
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from zlib_ng import zlib_ng

from webcast_proto import RemoteProtocolError, codec
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.codec import (
    GZIP_MAGIC,
    encode_ack,
    encode_enter_room,
    encode_fetch_result,
    encode_heartbeat,
    encode_message_frame,
    encode_push_frame,
    fetch_result_from_frame,
    frame_headers,
    frame_payload,
    gunzip,
    gzip_compress,
    is_gzip,
    parse_ack,
    parse_enter_room,
    parse_fetch_result,
    parse_heartbeat,
    parse_push_frame,
)
from webcast_proto.config import DEFAULT_MAX_DECOMPRESSED_SIZE, Limits

if TYPE_CHECKING:
    from collections.abc import Iterator

MIB = 1024 * 1024
ROOM_ID = 7448811992334045998  # the room of SPEC.md's examples

# SPEC.md §4.3, §4.4, §4.5 ([TL] traffic).
SPEC_ACK = bytes.fromhex(
    "10 95 9a ef 3a 32 02 70 62 3a 03 61 63 6b 42 16 69 6e 74 65 72 6e 61 6c 5f 73 72 63 3a 64 69 6d 7c"
    " 73 65 71 3a 31"
)
SPEC_HEARTBEAT = bytes.fromhex("32 02 70 62 3a 02 68 62 42 0c 08 ae a6 f6 8d aa e1 df af 67 10 01")
SPEC_ENTER_ROOM = bytes.fromhex(
    "32 02 70 62 3a 0d 69 6d 5f 65 6e 74 65 72 5f 72 6f 6f 6d 42 19 08 ae a6 f6 8d aa e1 df af 67 20 0c"
    " 2a 08 61 75 64 69 65 6e 63 65 4a 01 30"
)

# ---------------------------------------------------------------------------------------------
# Builders and strategies
# ---------------------------------------------------------------------------------------------

int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
texts = st.text(st.characters(codec="utf-8"), max_size=24)
base_messages = st.builds(
    pb.BaseProtoMessage,
    method=texts,
    payload=st.binary(max_size=64),
    msg_id=int64s,
    msg_type=int32s,
    offset=int64s,
    is_history=st.booleans(),
    sample_flag=int32s,
)
fetch_results = st.builds(
    pb.ProtoMessageFetchResult,
    messages=st.lists(base_messages, max_size=6),
    cursor=texts,
    fetch_interval=int64s,
    now=int64s,
    internal_ext=texts,
    fetch_type=int32s,
    route_params=st.dictionaries(texts, texts, max_size=4),
    heartbeat_duration=int64s,
    need_ack=st.booleans(),
    push_server=texts,
    is_first=st.booleans(),
    history_comment_cursor=texts,
    history_no_more=st.booleans(),
)


def chat_result(
    count: int = 3, *, cursor: str = "t-1_r-1", internal_ext: str = "seq:1"
) -> pb.ProtoMessageFetchResult:
    """A fetch result with ``count`` chat envelopes."""
    result = pb.ProtoMessageFetchResult(cursor=cursor, internal_ext=internal_ext, need_ack=True)
    for i in range(count):
        result.messages.add(method="WebcastChatMessage", payload=b"hello %d" % i, msg_id=7_000_000_000 + i)
    return result


def frame_with(payload: bytes, headers: tuple[tuple[str, str], ...] = ()) -> pb.WebcastPushFrame:
    """A parsed ``msg`` frame with the given payload and headers."""
    return parse_push_frame(encode_push_frame(payload_type="msg", payload=payload, headers=headers))


def _varint(value: int) -> bytes:
    """Protobuf varint of a non-negative int, for wire data no encoder writes."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field_number: int, wire_type: int) -> bytes:
    return _varint(field_number << 3 | wire_type)


def zeros_bomb(mib: int) -> bytes:
    """A valid gzip member of ``mib`` MiB of zeros (~1 KiB per MiB), built without inflating it.

    zlib compresses one MiB after a full flush (which resets its dictionary) to the same
    self-contained, byte-aligned deflate blocks every time, so they can be repeated; the trailer
    is then rewritten with the CRC-32 and length of the whole (RFC 1952 §2.3.1).
    """
    zeros = bytes(MIB)
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    header, block = first[:10], first[10:]
    final_block = deflater.flush()[:-8]
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return b"".join((header, block * mib, final_block, struct.pack("<II", crc, (mib * MIB) & 0xFFFFFFFF)))


@pytest.fixture(scope="module")
def gib_bomb() -> bytes:
    """1 GiB of zeros, gzip'd to ~1 MiB."""
    return zeros_bomb(1024)


# ---------------------------------------------------------------------------------------------
# SPEC.md example vectors (§4.3-§4.5)
# ---------------------------------------------------------------------------------------------


def test_ack_matches_spec_example() -> None:
    """encode_ack reproduces SPEC.md §4.3's [TL] ack byte for byte."""
    assert encode_ack(123456789, "internal_src:dim|seq:1") == SPEC_ACK


def test_heartbeat_matches_spec_example() -> None:
    """encode_heartbeat reproduces SPEC.md §4.4's [TL] heartbeat byte for byte."""
    assert encode_heartbeat(ROOM_ID, 1) == SPEC_HEARTBEAT


def test_enter_room_matches_spec_example() -> None:
    """encode_enter_room's defaults reproduce SPEC.md §4.5's [TL] enter-room byte for byte."""
    assert encode_enter_room(ROOM_ID) == SPEC_ENTER_ROOM


def test_spec_examples_decode_on_the_server_side() -> None:
    """The server side reads back what SPEC.md's example frames carry."""
    ack = parse_push_frame(SPEC_ACK)
    assert (ack.payload_type, ack.log_id, ack.payload_encoding) == ("ack", 123456789, "pb")
    assert parse_ack(ack.payload) == "internal_src:dim|seq:1"

    heartbeat_frame = parse_push_frame(SPEC_HEARTBEAT)
    assert heartbeat_frame.payload_type == "hb"
    heartbeat = parse_heartbeat(heartbeat_frame.payload)
    assert (heartbeat.room_id, heartbeat.send_packet_seq_id) == (ROOM_ID, 1)

    enter_frame = parse_push_frame(SPEC_ENTER_ROOM)
    assert enter_frame.payload_type == "im_enter_room"
    enter = parse_enter_room(enter_frame.payload)
    assert (enter.room_id, enter.live_id, enter.identity, enter.filter_welcome_msg) == (
        ROOM_ID,
        12,
        "audience",
        "0",
    )
    assert (enter.cursor, enter.enter_unique_id, enter.room_tag) == ("", 0, "")


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


@given(
    payload_type=texts,
    payload=st.binary(max_size=256),
    log_id=int64s,
    seq_id=int64s,
    service=int64s,
    method=int64s,
    headers=st.lists(st.tuples(texts, texts), max_size=4),
    payload_encoding=texts,
)
def test_push_frame_round_trip(
    payload_type: str,
    payload: bytes,
    log_id: int,
    seq_id: int,
    service: int,
    method: int,
    headers: list[tuple[str, str]],
    payload_encoding: str,
) -> None:
    """Every field of an encoded push frame parses back unchanged; headers keep order and duplicates."""
    frame = parse_push_frame(
        encode_push_frame(
            payload_type=payload_type,
            payload=payload,
            log_id=log_id,
            seq_id=seq_id,
            service=service,
            method=method,
            headers=headers,
            payload_encoding=payload_encoding,
        )
    )
    assert (frame.payload_type, frame.payload, frame.payload_encoding) == (
        payload_type,
        payload,
        payload_encoding,
    )
    assert (frame.log_id, frame.seq_id, frame.service, frame.method) == (log_id, seq_id, service, method)
    assert [(h.key, h.value) for h in frame.headers] == headers


@given(result=fetch_results, log_id=int64s, seq_id=int64s, compress=st.booleans())
def test_message_frame_round_trip(
    result: pb.ProtoMessageFetchResult, log_id: int, seq_id: int, compress: bool
) -> None:
    """A msg frame, gzip'd or plain, gives back its fetch result and carries SPEC.md §4.2's headers."""
    frame = parse_push_frame(encode_message_frame(result, log_id=log_id, seq_id=seq_id, compress=compress))
    assert (frame.payload_type, frame.payload_encoding, frame.log_id, frame.seq_id) == (
        "msg",
        "pb",
        log_id,
        seq_id,
    )
    assert is_gzip(frame.payload) is compress
    assert frame_headers(frame) == {
        "compress_type": "gzip" if compress else "none",
        "im-cursor": result.cursor,
        "im-internal_ext": result.internal_ext,
    }
    assert fetch_result_from_frame(frame) == result


@given(result=fetch_results, compress=st.booleans())
def test_fetch_result_body_round_trip(result: pb.ProtoMessageFetchResult, compress: bool) -> None:
    """An im/fetch body, raw or gzip'd, parses back to the encoded fetch result."""
    body = encode_fetch_result(result)
    assert parse_fetch_result(gzip_compress(body) if compress else body) == result


def test_fetch_result_encoding_is_deterministic() -> None:
    """route_params are written sorted, so equal results give equal bytes whatever the insert order."""
    one = pb.ProtoMessageFetchResult(route_params={"b": "2", "a": "1"})
    two = pb.ProtoMessageFetchResult(route_params={"a": "1", "b": "2"})
    assert encode_fetch_result(one) == encode_fetch_result(two)


@given(room_id=int64s, seq_id=int64s)
def test_heartbeat_round_trip(room_id: int, seq_id: int) -> None:
    """An hb frame carries room_id and send_packet_seq_id; the frame's own seq_id stays 0 (SPEC.md §4.4)."""
    frame = parse_push_frame(encode_heartbeat(room_id, seq_id))
    assert (frame.payload_type, frame.payload_encoding, frame.seq_id) == ("hb", "pb", 0)
    heartbeat = parse_heartbeat(frame.payload)
    assert (heartbeat.room_id, heartbeat.send_packet_seq_id) == (room_id, seq_id)


@given(
    room_id=int64s, cursor=texts, enter_unique_id=int64s, live_id=int64s, identity=texts, filter_welcome=texts
)
def test_enter_room_round_trip(
    room_id: int, cursor: str, enter_unique_id: int, live_id: int, identity: str, filter_welcome: str
) -> None:
    """An im_enter_room frame carries every field it was given (SPEC.md §4.5)."""
    frame = parse_push_frame(
        encode_enter_room(
            room_id,
            cursor=cursor,
            enter_unique_id=enter_unique_id,
            live_id=live_id,
            identity=identity,
            filter_welcome_msg=filter_welcome,
        )
    )
    assert frame.payload_type == "im_enter_room"
    enter = parse_enter_room(frame.payload)
    assert (enter.room_id, enter.cursor, enter.enter_unique_id) == (room_id, cursor, enter_unique_id)
    assert (enter.live_id, enter.identity, enter.filter_welcome_msg) == (live_id, identity, filter_welcome)


@given(log_id=int64s, internal_ext=texts)
def test_ack_round_trip(log_id: int, internal_ext: str) -> None:
    """An ack frame echoes log_id and carries internal_ext as UTF-8, "-" when empty (SPEC.md §4.3)."""
    frame = parse_push_frame(encode_ack(log_id, internal_ext))
    assert (frame.payload_type, frame.payload_encoding, frame.log_id) == ("ack", "pb", log_id)
    assert frame.payload == (internal_ext.encode() if internal_ext else b"-")
    # "-" is the wire's spelling of an empty internal_ext, so a literal "-" reads back as "".
    assert parse_ack(frame.payload) == ("" if internal_ext == "-" else internal_ext)


def test_ack_without_payload_means_empty_internal_ext() -> None:
    """[S]/[V1] acks carry no payload (SPEC.md §4.3); the server reads that as an empty internal_ext."""
    assert parse_ack(b"") == ""


def test_ack_payload_must_be_utf8() -> None:
    """An ack payload that is not UTF-8 is the peer's error."""
    with pytest.raises(RemoteProtocolError, match="not UTF-8"):
        parse_ack(b"\xff\xfe")


def test_encoders_refuse_numbers_past_int64() -> None:
    """Numbers that do not fit an int64 are the caller's mistake: ValueError, not a wrapped value."""
    with pytest.raises(ValueError, match="out of range"):
        encode_heartbeat(2**63, 1)


# ---------------------------------------------------------------------------------------------
# gzip
# ---------------------------------------------------------------------------------------------


# gunzip inflates with zlib-ng when it is installed (the `fast` extra), else with zlib: every test of
# gunzip runs with both (the `inflate_lib` fixture, or `_each_inflate_lib` under hypothesis).
INFLATE_LIBS = [pytest.param(zlib, id="zlib"), pytest.param(zlib_ng, id="zlib-ng")]


@pytest.fixture(params=INFLATE_LIBS)
def inflate_lib(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(codec, "_INFLATE_LIB", request.param)
    return request.param


def _each_inflate_lib() -> Iterator[object]:
    saved = codec._INFLATE_LIB
    try:
        for lib in (zlib, zlib_ng):
            codec._INFLATE_LIB = lib
            yield lib
    finally:
        codec._INFLATE_LIB = saved


def test_zlib_ng_is_used_when_installed() -> None:
    """The test environment has the `fast` extra: gunzip inflates with zlib-ng, and says so."""
    assert codec.INFLATER == "zlib-ng"
    assert codec._INFLATE_LIB is zlib_ng


@given(data=st.binary(max_size=2048), level=st.integers(min_value=0, max_value=9))
def test_gzip_round_trip(data: bytes, level: int) -> None:
    """gunzip(gzip_compress(x)) == x at every level, and the output is recognised as gzip."""
    compressed = gzip_compress(data, level=level)
    assert is_gzip(compressed)
    for _ in _each_inflate_lib():
        assert gunzip(compressed) == data


def test_gzip_compress_is_deterministic() -> None:
    """gzip_compress writes mtime 0 and gives the same bytes for the same input."""
    first = gzip_compress(b"payload" * 100)
    assert first == gzip_compress(b"payload" * 100)
    assert first[4:8] == b"\x00\x00\x00\x00"  # MTIME, RFC 1952 §2.3.1


@pytest.mark.parametrize("level", [-1, 10])
def test_gzip_compress_refuses_bad_level(level: int) -> None:
    """Levels outside 0..9 are refused with ValueError."""
    with pytest.raises(ValueError, match="level"):
        gzip_compress(b"x", level=level)


def test_is_gzip_needs_the_three_magic_bytes() -> None:
    """is_gzip checks ID1, ID2 and CM = 8 (SPEC.md §4.2), nothing less."""
    assert is_gzip(GZIP_MAGIC)
    assert not is_gzip(GZIP_MAGIC[:2])
    assert not is_gzip(b"\x1f\x8b\x07")
    assert not is_gzip(b"")


@pytest.mark.usefixtures("inflate_lib")
def test_gunzip_allows_exactly_max_size() -> None:
    """Output of exactly max_size bytes is accepted; one byte more is refused naming limit and value."""
    compressed = gzip_compress(bytes(1000))
    assert gunzip(compressed, max_size=1000) == bytes(1000)
    with pytest.raises(RemoteProtocolError, match="max_decompressed_size=999") as info:
        gunzip(compressed, max_size=999)
    assert info.value.close_code == 1009


@pytest.mark.usefixtures("inflate_lib")
def test_gunzip_max_size_zero_allows_only_empty_output() -> None:
    """max_size=0 still accepts a gzip member of nothing."""
    assert gunzip(gzip_compress(b""), max_size=0) == b""
    with pytest.raises(RemoteProtocolError, match="max_decompressed_size=0"):
        gunzip(gzip_compress(b"x"), max_size=0)


def test_gunzip_refuses_negative_max_size() -> None:
    """A negative max_size is the caller's error."""
    with pytest.raises(ValueError, match="max_size"):
        gunzip(gzip_compress(b"x"), max_size=-1)


def test_zeros_bomb_builder_makes_valid_gzip() -> None:
    """The bomb used below is genuine gzip: zlib inflates it to its zeros, checking CRC and length."""
    assert zlib.decompress(zeros_bomb(3), 16 + zlib.MAX_WBITS) == bytes(3 * MIB)


@pytest.mark.usefixtures("inflate_lib")
def test_gzip_bomb_is_refused_without_inflating_it(gib_bomb: bytes) -> None:
    """1 GiB of zeros gzip'd to ~1 MiB is refused after at most max_size + 1 bytes of output."""
    max_size = 64 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(RemoteProtocolError, match=f"inflates past max_decompressed_size={max_size}"):
            gunzip(gib_bomb, max_size=max_size)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * MIB  # the output buffer plus zlib's window, not 1 GiB


@pytest.mark.usefixtures("inflate_lib")
def test_gzip_bomb_is_refused_at_the_default_limit(gib_bomb: bytes) -> None:
    """With the default limits, the same bomb stops at DEFAULT_MAX_DECOMPRESSED_SIZE, in a frame too."""
    with pytest.raises(RemoteProtocolError, match=f"max_decompressed_size={DEFAULT_MAX_DECOMPRESSED_SIZE}"):
        gunzip(gib_bomb)
    frame = frame_with(gib_bomb, (("compress_type", "gzip"),))
    with pytest.raises(RemoteProtocolError, match="max_decompressed_size"):
        fetch_result_from_frame(frame)


@pytest.mark.usefixtures("inflate_lib")
def test_gunzip_refuses_every_truncation() -> None:
    """Every proper prefix of a gzip member is refused: a stream must reach its end."""
    compressed = gzip_compress(encode_fetch_result(chat_result()))
    for end in range(len(compressed)):
        with pytest.raises(RemoteProtocolError):
            gunzip(compressed[:end])


@pytest.mark.usefixtures("inflate_lib")
def test_gunzip_refuses_trailing_bytes() -> None:
    """Bytes after the gzip member are refused, not ignored (one member per payload)."""
    compressed = gzip_compress(b"body")
    with pytest.raises(RemoteProtocolError, match="1 unexpected bytes after the gzip stream"):
        gunzip(compressed + b"\x00")


@pytest.mark.usefixtures("inflate_lib")
def test_gunzip_refuses_concatenated_members() -> None:
    """A second gzip member is refused too: WebCast payloads are one member."""
    with pytest.raises(RemoteProtocolError, match="after the gzip stream"):
        gunzip(gzip_compress(b"one") + gzip_compress(b"two"))


@pytest.mark.usefixtures("inflate_lib")
def test_gunzip_refuses_non_gzip() -> None:
    """Raw deflate, zlib-wrapped data and plain bytes are not gzip."""
    for data in (zlib.compress(b"body"), b"plain protobuf", b""):
        with pytest.raises(RemoteProtocolError, match="gzip"):
            gunzip(data)


@pytest.mark.usefixtures("inflate_lib")
def test_gunzip_checks_crc() -> None:
    """A member whose CRC-32 does not match its content is corrupt."""
    compressed = bytearray(gzip_compress(b"body"))
    compressed[-8] ^= 0xFF
    with pytest.raises(RemoteProtocolError, match="corrupt gzip"):
        gunzip(bytes(compressed))


@pytest.mark.usefixtures("inflate_lib")
def test_gunzip_ignores_a_trailer_claiming_a_huge_length() -> None:
    """ISIZE claiming 4 GiB allocates nothing: the claim is only compared with what was inflated."""
    compressed = gzip_compress(b"body")
    lying = compressed[:-4] + struct.pack("<I", 0xFFFFFFFF)
    with pytest.raises(RemoteProtocolError, match="corrupt gzip"):
        gunzip(lying)


@given(data=st.binary(max_size=512))
@example(data=GZIP_MAGIC)
@example(data=GZIP_MAGIC + b"\x00" * 7)
def test_gunzip_any_bytes_decode_or_raise_remote_protocol_error(data: bytes) -> None:
    """gunzip of any bytes returns bytes or raises RemoteProtocolError, nothing else."""
    for _ in _each_inflate_lib():
        for candidate in (data, GZIP_MAGIC + data):
            with contextlib.suppress(RemoteProtocolError):
                gunzip(candidate, max_size=4096)


@given(data=st.data())
def test_gunzip_mutated_members_decode_or_raise_remote_protocol_error(data: st.DataObject) -> None:
    """A real gzip member with bytes flipped decodes or raises RemoteProtocolError, nothing else."""
    compressed = bytearray(gzip_compress(encode_fetch_result(chat_result(5))))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        index = data.draw(st.integers(min_value=0, max_value=len(compressed) - 1))
        compressed[index] = data.draw(st.integers(min_value=0, max_value=255))
    for _ in _each_inflate_lib():
        with contextlib.suppress(RemoteProtocolError):
            gunzip(bytes(compressed), max_size=4096)


# ---------------------------------------------------------------------------------------------
# Push frames: limits and garbage
# ---------------------------------------------------------------------------------------------


def test_frame_over_max_frame_size_is_refused_before_parsing() -> None:
    """A frame longer than max_frame_size is refused naming limit and size; exactly the limit passes."""
    data = encode_message_frame(chat_result())
    assert parse_push_frame(data, limits=Limits(max_frame_size=len(data))).payload_type == "msg"
    limit = len(data) - 1
    with pytest.raises(
        RemoteProtocolError, match=f"{len(data)} bytes exceeds max_frame_size={limit}"
    ) as info:
        parse_push_frame(data, limits=Limits(max_frame_size=limit))
    assert info.value.close_code == 1009


def test_frame_payload_claiming_a_huge_length_is_refused() -> None:
    """A payload field whose length claims 1 TiB with a few bytes present is refused, not allocated."""
    data = encode_push_frame(payload_type="msg") + _key(8, 2) + _varint(2**40) + b"x" * 16
    with pytest.raises(RemoteProtocolError, match="invalid push frame"):
        parse_push_frame(data)


def test_every_prefix_of_a_frame_parses_or_raises_remote_protocol_error() -> None:
    """Cutting a gzip'd msg frame anywhere gives a frame and result, or RemoteProtocolError."""
    data = encode_message_frame(chat_result(), log_id=42, seq_id=7)
    for end in range(len(data) + 1):
        with contextlib.suppress(RemoteProtocolError):
            fetch_result_from_frame(parse_push_frame(data[:end]))
    assert fetch_result_from_frame(parse_push_frame(data)) == chat_result()


def test_every_prefix_of_a_plain_frame_parses_or_raises_remote_protocol_error() -> None:
    """The same holds for an uncompressed msg frame, whose cuts reach the fetch result parser."""
    data = encode_message_frame(chat_result(), compress=False)
    for end in range(len(data) + 1):
        with contextlib.suppress(RemoteProtocolError):
            fetch_result_from_frame(parse_push_frame(data[:end]), limits=Limits(max_messages_per_frame=1))


@given(data=st.binary(max_size=512))
def test_any_bytes_into_frame_decoders_decode_or_raise_remote_protocol_error(data: bytes) -> None:
    """parse_push_frame, frame_payload, fetch_result_from_frame, parse_heartbeat, parse_enter_room:
    any bytes decode or raise RemoteProtocolError, nothing else."""
    limits = Limits(max_messages_per_frame=1, max_decompressed_size=4096)
    with contextlib.suppress(RemoteProtocolError):
        frame = parse_push_frame(data, limits=limits)
        frame_payload(frame, limits=limits)
        fetch_result_from_frame(frame, limits=limits)
    for parse in (parse_heartbeat, parse_enter_room):
        with contextlib.suppress(RemoteProtocolError):
            parse(data)


@given(data=st.data())
def test_mutated_frames_decode_or_raise_remote_protocol_error(data: st.DataObject) -> None:
    """A real msg frame with bytes flipped decodes or raises RemoteProtocolError, nothing else."""
    compress = data.draw(st.booleans())
    frame_bytes = bytearray(encode_message_frame(chat_result(4), log_id=9, compress=compress))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        index = data.draw(st.integers(min_value=0, max_value=len(frame_bytes) - 1))
        frame_bytes[index] = data.draw(st.integers(min_value=0, max_value=255))
    limits = Limits(max_messages_per_frame=2, max_decompressed_size=4096)
    with contextlib.suppress(RemoteProtocolError):
        fetch_result_from_frame(parse_push_frame(bytes(frame_bytes), limits=limits), limits=limits)


# ---------------------------------------------------------------------------------------------
# compress_type header vs gzip magic (SPEC.md §4.2)
# ---------------------------------------------------------------------------------------------

BODY = encode_fetch_result(chat_result())
GZIPPED_BODY = gzip_compress(BODY)


def test_header_gzip_with_gzip_payload_is_gunzipped() -> None:
    """compress_type gzip ([TL]'s signal) with a gzip payload: gunzipped."""
    assert frame_payload(frame_with(GZIPPED_BODY, (("compress_type", "gzip"),))) == BODY


def test_magic_alone_is_gunzipped() -> None:
    """No header, payload starting 1F 8B 08 ([S]/[V1]/[C2]'s signal): gunzipped."""
    assert frame_payload(frame_with(GZIPPED_BODY)) == BODY


def test_magic_wins_over_header_none() -> None:
    """compress_type none on a gzip payload: either signal suffices, so it is gunzipped."""
    assert frame_payload(frame_with(GZIPPED_BODY, (("compress_type", "none"),))) == BODY


def test_header_none_with_plain_payload_is_raw() -> None:
    """compress_type none on a plain payload: returned as is."""
    assert frame_payload(frame_with(BODY, (("compress_type", "none"),))) == BODY


def test_no_header_with_plain_payload_is_raw() -> None:
    """No header and no magic: returned as is."""
    assert frame_payload(frame_with(BODY)) == BODY


def test_unknown_compress_type_is_read_raw() -> None:
    """An unknown compress_type is treated as none, as [TL] does; the magic still decides."""
    assert frame_payload(frame_with(BODY, (("compress_type", "br"),))) == BODY
    assert frame_payload(frame_with(GZIPPED_BODY, (("compress_type", "br"),))) == BODY


def test_header_gzip_on_plain_payload_is_refused() -> None:
    """compress_type gzip on a payload that is not gzip: the frame contradicts itself."""
    with pytest.raises(RemoteProtocolError, match="compress_type='gzip'"):
        frame_payload(frame_with(BODY, (("compress_type", "gzip"),)))


def test_last_compress_type_header_wins() -> None:
    """With repeated headers, the last value counts, in frame_payload as in frame_headers."""
    frame = frame_with(BODY, (("compress_type", "gzip"), ("compress_type", "none")))
    assert frame_headers(frame) == {"compress_type": "none"}
    assert frame_payload(frame) == BODY


def test_gzip_payload_past_max_decompressed_size_is_refused() -> None:
    """frame_payload applies limits.max_decompressed_size."""
    frame = frame_with(GZIPPED_BODY, (("compress_type", "gzip"),))
    with pytest.raises(RemoteProtocolError, match="max_decompressed_size=10"):
        frame_payload(frame, limits=Limits(max_decompressed_size=10))


def test_payload_is_decompressed_once() -> None:
    """A payload gzip'd twice is refused: the codec inflates once, then expects protobuf."""
    frame = frame_with(gzip_compress(GZIPPED_BODY))
    with pytest.raises(RemoteProtocolError, match="invalid fetch result"):
        fetch_result_from_frame(frame)


# ---------------------------------------------------------------------------------------------
# Fetch results: message count
# ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("count_path")
@pytest.mark.parametrize("compress", [False, True])
def test_too_many_messages_are_refused(compress: bool) -> None:
    """More than max_messages_per_frame messages is refused naming the limit; exactly the limit passes."""
    body = encode_fetch_result(chat_result(5))
    data = gzip_compress(body) if compress else body
    assert len(parse_fetch_result(data, limits=Limits(max_messages_per_frame=5)).messages) == 5
    with pytest.raises(RemoteProtocolError, match="more than max_messages_per_frame=4") as info:
        parse_fetch_result(data, limits=Limits(max_messages_per_frame=4))
    assert info.value.close_code == 1009


@pytest.mark.usefixtures("count_path")
def test_too_many_messages_in_a_frame_are_refused() -> None:
    """fetch_result_from_frame applies the same count."""
    frame = parse_push_frame(encode_message_frame(chat_result(3)))
    with pytest.raises(RemoteProtocolError, match="max_messages_per_frame=2"):
        fetch_result_from_frame(frame, limits=Limits(max_messages_per_frame=2))


def test_message_flood_is_refused_before_messages_are_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """1 MiB of empty messages (~1 KiB gzip'd) is refused by counting them on the wire: upb is never
    asked to build its half a million messages."""
    result = pb.ProtoMessageFetchResult()
    for _ in range(1000):
        result.messages.add()
    body = encode_fetch_result(result) * (MIB // 2000)  # repeated fields concatenate on the wire
    flood = gzip_compress(body)
    assert len(flood) < 8 * 1024

    parsed: list[int] = []

    class _RecordingFetchResult:
        @staticmethod
        def FromString(data: bytes) -> pb.ProtoMessageFetchResult:  # protobuf's name
            parsed.append(len(data))
            return pb.ProtoMessageFetchResult.FromString(data)

    monkeypatch.setattr(codec, "pb", SimpleNamespace(ProtoMessageFetchResult=_RecordingFetchResult))
    with pytest.raises(RemoteProtocolError, match="more than max_messages_per_frame=100"):
        parse_fetch_result(flood, limits=Limits(max_messages_per_frame=100))
    assert parsed == []
    # The same shim sees a parse of a body within the limit, so the assertion above can fail.
    parse_fetch_result(encode_fetch_result(chat_result(3)), limits=Limits(max_messages_per_frame=100))
    assert len(parsed) == 1


@pytest.mark.usefixtures("count_path")
def test_messages_inside_unknown_groups_are_not_counted() -> None:
    """Field-1 entries nested in an unknown group are not messages, to upb or to the count."""
    entry = _key(1, 2) + _varint(0)
    data = _key(20, 3) + entry * 10 + _key(20, 4) + entry
    assert len(parse_fetch_result(data, limits=Limits(max_messages_per_frame=1)).messages) == 1


@pytest.mark.usefixtures("count_path")
def test_message_count_refuses_what_upb_refuses() -> None:
    """Where the count walk meets broken wire data, the error is the same kind upb's would be."""
    entry = _key(1, 2) + _varint(0)
    for broken in (
        entry * 3 + _key(2, 2) + _varint(100),  # a length past the end
        entry * 3 + _key(3, 0) + b"\x80",  # a varint past the end
        entry * 3 + _key(4, 1) + b"\x00" * 3,  # a fixed64 past the end
        entry * 3 + _key(5, 6),  # wire type 6
        entry * 3 + _key(5, 4),  # an end-group with no group open
        entry * 3 + _key(5, 3),  # a group never closed
    ):
        with pytest.raises(DecodeError):
            pb.ProtoMessageFetchResult.FromString(broken)
        with pytest.raises(RemoteProtocolError, match="invalid fetch result"):
            parse_fetch_result(broken, limits=Limits(max_messages_per_frame=3))


def _wire_fields() -> st.SearchStrategy[bytes]:
    """Top-level wire fields of any kind: messages entries, other fields, groups, and stray bytes."""
    field_numbers = st.integers(min_value=1, max_value=20)
    messages_entry = st.one_of(base_messages.map(lambda m: m.SerializeToString()), st.binary(max_size=8)).map(
        lambda value: _key(1, 2) + _varint(len(value)) + value
    )
    other = st.one_of(
        st.tuples(field_numbers, st.binary(max_size=8)).map(
            lambda t: _key(t[0], 2) + _varint(len(t[1])) + t[1]
        ),
        st.tuples(field_numbers, st.integers(0, 2**64 - 1)).map(lambda t: _key(t[0], 0) + _varint(t[1])),
        st.tuples(field_numbers, st.binary(min_size=8, max_size=8)).map(lambda t: _key(t[0], 1) + t[1]),
        st.tuples(field_numbers, st.binary(min_size=4, max_size=4)).map(lambda t: _key(t[0], 5) + t[1]),
        field_numbers.map(lambda n: _key(n, 3)),
        field_numbers.map(lambda n: _key(n, 4)),
        st.binary(min_size=1, max_size=2),
    )
    return st.lists(st.one_of(messages_entry, messages_entry, other), max_size=12).map(b"".join)


@pytest.mark.usefixtures("count_path")
@given(data=_wire_fields(), limit=st.integers(min_value=1, max_value=6))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # count_path holds for every input
def test_fetch_result_parser_accepts_what_upb_accepts_within_the_limit(data: bytes, limit: int) -> None:
    """parse_fetch_result accepts exactly the bytes upb accepts with at most `limit` messages, and
    refuses everything else with RemoteProtocolError (the count walk never disagrees with upb)."""
    if is_gzip(data):
        return
    try:
        expected: pb.ProtoMessageFetchResult | None = pb.ProtoMessageFetchResult.FromString(data)
    except DecodeError:
        expected = None
    try:
        parsed: pb.ProtoMessageFetchResult | None = parse_fetch_result(
            data, limits=Limits(max_messages_per_frame=limit)
        )
    except RemoteProtocolError:
        parsed = None
    if expected is not None and len(expected.messages) <= limit:
        assert parsed == expected
    else:
        assert parsed is None


@pytest.mark.usefixtures("count_path")
@given(data=st.binary(max_size=512))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # count_path holds for every input
def test_any_bytes_into_parse_fetch_result_decode_or_raise_remote_protocol_error(data: bytes) -> None:
    """parse_fetch_result of any bytes, or of any bytes behind the gzip magic, decodes or raises
    RemoteProtocolError, nothing else."""
    limits = Limits(max_messages_per_frame=1, max_decompressed_size=4096)
    for candidate in (data, GZIP_MAGIC + data):
        with contextlib.suppress(RemoteProtocolError):
            parse_fetch_result(candidate, limits=limits)


def test_invalid_heartbeat_and_enter_room_payloads_are_refused() -> None:
    """Server side: a client's malformed hb or im_enter_room payload is the client's error."""
    with pytest.raises(RemoteProtocolError, match="invalid heartbeat"):
        parse_heartbeat(b"\x08")
    with pytest.raises(RemoteProtocolError, match="invalid enter-room"):
        parse_enter_room(_key(5, 2) + _varint(2) + b"\xff\xfe")  # identity not UTF-8
