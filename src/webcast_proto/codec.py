"""The wire codec: WebSocket message bytes ⇄ push frames ⇄ fetch results (SPEC.md §4, §6.1).

Inbound: one binary WebSocket message is one ``WebcastPushFrame``; a ``msg`` frame's payload is a
``ProtoMessageFetchResult``, usually gzip'd, whose ``messages`` are the ``BaseProtoMessage``
envelopes that ``convert`` turns into events. An im/fetch body is the same fetch result, raw or
gzip'd. Outbound: the frames a client sends (ack, heartbeat, enter-room) and, for the server side,
fixtures and tests, ``msg`` frames.

Strategy: every decoder takes bytes from the peer and either returns a parsed message or raises
:class:`~webcast_proto.RemoteProtocolError`, nothing else. Each size is checked before the work it
bounds: a frame's length before parsing it, decompressed output *while* inflating (never inflate then
check), the entries of every repeated field upb would build objects for (a frame's headers, a fetch
result's messages and route params). Those counts are taken on the wire before upb builds anything
for bytes past :data:`_PARSE_FIRST_SIZE` (64 KiB), where a flood could cost hundreds of MB; smaller
bytes are parsed first and their counts checked on the parsed message, since upb can build at most a
few MB from them and the wire count would cost more than the parse (every frame TikTok sends is that
small). Either way the same error names the same limit. Parsing is upb (protobuf's C backend) on the
bytes as given, and a payload is decompressed at most once.

The decoders do not look at ``payload_type``: the connection dispatches on it, and decides which
frames carry a fetch result (SPEC.md §4.1).
"""

from __future__ import annotations

import zlib
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Final

from google.protobuf.message import DecodeError

from webcast_proto._errors import RemoteProtocolError
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.config import DEFAULT_LIMITS, DEFAULT_MAX_DECOMPRESSED_SIZE, Limits

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "COMPRESS_TYPE_GZIP",
    "COMPRESS_TYPE_NONE",
    "GZIP_MAGIC",
    "HEADER_COMPRESS_TYPE",
    "HEADER_IM_CURSOR",
    "HEADER_IM_INTERNAL_EXT",
    "INFLATER",
    "PAYLOAD_TYPE_ACK",
    "PAYLOAD_TYPE_CLOSE",
    "PAYLOAD_TYPE_ENTER_ROOM",
    "PAYLOAD_TYPE_ENTER_ROOM_RESP",
    "PAYLOAD_TYPE_HEARTBEAT",
    "PAYLOAD_TYPE_MSG",
    "encode_ack",
    "encode_enter_room",
    "encode_fetch_result",
    "encode_heartbeat",
    "encode_message_frame",
    "encode_push_frame",
    "fetch_result_from_frame",
    "fetch_result_with_size",
    "frame_headers",
    "frame_payload",
    "gunzip",
    "gzip_compress",
    "is_gzip",
    "parse_ack",
    "parse_enter_room",
    "parse_fetch_result",
    "parse_heartbeat",
    "parse_push_frame",
]

# The gzip member header's first three bytes: ID1 ID2 (RFC 1952) and CM = 8 (deflate). Peers gunzip
# a payload that starts with them (SPEC.md §4.2). A raw protobuf can never start with them: 0x1F is
# field 3 with wire type 7, which does not exist, so the check cannot misfire.
GZIP_MAGIC: Final = b"\x1f\x8b\x08"

# payload_type values (SPEC.md §4.1).
PAYLOAD_TYPE_MSG: Final = "msg"
PAYLOAD_TYPE_ACK: Final = "ack"
PAYLOAD_TYPE_HEARTBEAT: Final = "hb"
PAYLOAD_TYPE_ENTER_ROOM: Final = "im_enter_room"
PAYLOAD_TYPE_ENTER_ROOM_RESP: Final = "im_enter_room_resp"
PAYLOAD_TYPE_CLOSE: Final = "close"

# Frame header names and compress_type values (SPEC.md §4.2).
HEADER_COMPRESS_TYPE: Final = "compress_type"
HEADER_IM_CURSOR: Final = "im-cursor"
HEADER_IM_INTERNAL_EXT: Final = "im-internal_ext"
COMPRESS_TYPE_GZIP: Final = "gzip"
COMPRESS_TYPE_NONE: Final = "none"

# zlib's wbits for "a gzip wrapper, 32 KiB window": it accepts the gzip format only, not raw deflate
# or a zlib header, and checks the trailer's CRC-32 and length itself.
_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS

# Inflating is most of the least any client must do per frame (benchmarks/README.md). zlib-ng, when
# installed (the ``fast`` extra), inflates exactly the streams zlib does, with zlib's API and error
# messages, ~1.6x as fast; without it, the standard library's zlib.
_INFLATE_LIB: ModuleType
try:
    from zlib_ng import zlib_ng as _INFLATE_LIB
except ImportError:  # pragma: no cover  # the test environment has it; the tests force both
    _INFLATE_LIB = zlib

#: Which library inflates gzip payloads: ``"zlib-ng"`` (the ``fast`` extra installed) or ``"zlib"``.
INFLATER: Final[str] = "zlib" if _INFLATE_LIB is zlib else "zlib-ng"

# The WebSocket close code a server sends for a message it will not hold (RFC 6455 §7.4.1).
_CLOSE_MESSAGE_TOO_BIG: Final = 1009

# SPEC.md §4.3: [TL] sends "-" as the ack payload when internal_ext is empty.
_EMPTY_ACK_PAYLOAD: Final = b"-"

# SPEC.md §4: payload_encoding is always "pb".
_PAYLOAD_ENCODING_PB: Final = "pb"

# The tag bytes of the repeated fields counted before upb parses (wire type 2, length-delimited):
# WebcastPushFrame.headers (field 5), ProtoMessageFetchResult.messages (1) and .route_params (7, a map:
# one entry message per key on the wire).
_HEADERS_TAG: Final = (pb.WebcastPushFrame.HEADERS_FIELD_NUMBER << 3) | 2
_MESSAGES_TAG: Final = (pb.ProtoMessageFetchResult.MESSAGES_FIELD_NUMBER << 3) | 2
_ROUTE_PARAMS_TAG: Final = (pb.ProtoMessageFetchResult.ROUTE_PARAMS_FIELD_NUMBER << 3) | 2

# An entry takes at least two bytes on the wire (a one-byte tag, a zero length).
_MIN_ENTRY_SIZE: Final = 2

# Bytes up to this size are parsed before their entries are counted. upb builds at most one entry per
# two bytes, so 32,768 at worst (~3 MB and ~1 ms for empty messages, less for headers): a bounded cost,
# where counting tag bytes first (two passes of ``bytes.count`` per counted field) cost more than
# upb's parse on real traffic (~6 µs a frame). Past it, a flood is refused before upb sees it.
_PARSE_FIRST_SIZE: Final = 64 * 1024


# ---------------------------------------------------------------------------------------------
# gzip
# ---------------------------------------------------------------------------------------------


def is_gzip(data: bytes) -> bool:
    """Tell whether ``data`` starts like a gzip stream (``1F 8B 08``, SPEC.md §4.2).

    Args:
        data: a frame payload or an HTTP body.

    Returns:
        ``True`` if ``data`` starts with :data:`GZIP_MAGIC`.
    """
    return data.startswith(GZIP_MAGIC)


def gunzip(data: bytes, *, max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE) -> bytes:
    """Decompress one gzip member, refusing to inflate past ``max_size`` bytes.

    The bound holds while inflating: zlib is asked for at most ``max_size + 1`` bytes, so a bomb
    costs us ``max_size + 1`` bytes of output and no more, however far it would inflate.

    Policy: ``data`` must be exactly one complete gzip member (RFC 1952), as every WebCast peer's
    encoder writes. Bytes after the member's trailer are refused rather than ignored, so corruption
    or a second member is reported, not silently dropped. (Accepting concatenated members would also
    let a peer make us copy the remaining input once per member.)

    Args:
        data: the compressed bytes, starting with the gzip header.
        max_size: the most bytes the output may have (``Limits.max_decompressed_size``).

    Returns:
        The decompressed bytes.

    Raises:
        RemoteProtocolError: ``data`` is not gzip, is corrupt (including a CRC-32 or length check
            failure), ends before the end of the stream, has bytes after it, or inflates past
            ``max_size`` (then ``close_code`` is 1009).
        ValueError: ``max_size`` is negative.
    """
    if max_size < 0:
        raise ValueError(f"max_size must be >= 0, got {max_size}")
    lib = _INFLATE_LIB
    inflater = lib.decompressobj(_GZIP_WBITS)
    try:
        # One extra byte tells "exactly max_size" from "more". Checking unconsumed_tail alone is not
        # enough: zlib may have taken all the input and still hold output it has not written.
        out: bytes = inflater.decompress(data, max_size + 1)
    except lib.error as exc:
        raise RemoteProtocolError(f"corrupt gzip payload of {len(data)} bytes: {exc}") from exc
    if len(out) > max_size:
        raise RemoteProtocolError(
            f"gzip payload of {len(data)} bytes inflates past max_decompressed_size={max_size}",
            close_code=_CLOSE_MESSAGE_TOO_BIG,
        )
    # zlib was not stopped by max_length, so it consumed all input: it either reached the end of
    # the stream or ran out of input before it.
    if not inflater.eof:
        raise RemoteProtocolError(
            f"truncated gzip payload: {len(data)} bytes end before the gzip stream does"
        )
    if inflater.unused_data:
        raise RemoteProtocolError(
            f"{len(inflater.unused_data)} unexpected bytes after the gzip stream "
            f"(payload of {len(data)} bytes; one gzip member expected)"
        )
    return out


def gzip_compress(data: bytes, *, level: int = 6) -> bytes:
    """Compress ``data`` as one gzip member, deterministically.

    The header has no file name and an mtime of 0, so the same input gives the same bytes on the
    same zlib build (fixtures can be compared byte for byte). Used by the server side and fixtures.

    Args:
        data: the bytes to compress.
        level: the deflate level, 0 (store) to 9 (smallest).

    Returns:
        The gzip member.

    Raises:
        ValueError: ``level`` is not in 0..9.
    """
    if not 0 <= level <= 9:
        raise ValueError(f"gzip level must be in 0..9, got {level}")
    # zlib's own gzip wrapper writes mtime 0 and no name; gzip.compress would read the clock unless
    # told otherwise and changed its header's OS byte between Python 3.10 and 3.11.
    deflater = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
    return deflater.compress(data) + deflater.flush()


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def parse_push_frame(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> pb.WebcastPushFrame:
    """Parse one WebSocket binary message into a push frame (SPEC.md §4, §6.1).

    Args:
        data: the whole WebSocket message.
        limits: ``limits.max_frame_size`` bounds ``len(data)`` and ``limits.max_frame_headers`` the
            number of headers; both are checked before parsing.

    Returns:
        The frame. Its payload is untouched: see :func:`frame_payload`.

    Raises:
        RemoteProtocolError: ``data`` is longer than ``limits.max_frame_size`` or carries more than
            ``limits.max_frame_headers`` headers (``close_code`` 1009 for both), or is not a valid push
            frame.
    """
    if len(data) > limits.max_frame_size:
        raise RemoteProtocolError(
            f"push frame of {len(data)} bytes exceeds max_frame_size={limits.max_frame_size}",
            close_code=_CLOSE_MESSAGE_TOO_BIG,
        )
    # A 4 MiB frame of empty headers would make upb build 2 million of them (~110 MB, ~1 s).
    limit = limits.max_frame_headers
    if _may_exceed(data, _HEADERS_TAG, limit):
        _check_entry_counts(data, "push frame", {_HEADERS_TAG: ("max_frame_headers", limit)})
    try:
        frame = pb.WebcastPushFrame.FromString(data)
    except DecodeError as exc:
        raise RemoteProtocolError(f"invalid push frame of {len(data)} bytes: {exc}") from exc
    if len(frame.headers) > limit:  # bytes small enough to be parsed first (_PARSE_FIRST_SIZE)
        raise _too_many("push frame", _HEADERS_TAG, "max_frame_headers", limit)
    return frame


def frame_headers(frame: pb.WebcastPushFrame) -> dict[str, str]:
    """Return a frame's headers as a dict (SPEC.md §4.2).

    Args:
        frame: a parsed push frame.

    Returns:
        ``{key: value}``; when a key repeats, the last value wins (as a protobuf map would parse the
        same bytes).
    """
    return {header.key: header.value for header in frame.headers}


def frame_payload(frame: pb.WebcastPushFrame, *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Return a frame's payload, gunzipped if the frame says so or the bytes look like gzip.

    SPEC.md §4.2: [TL] trusts the ``compress_type`` header, [S]/[V1]/[C2] look for the gzip magic;
    we accept either signal. So the payload is gunzipped when ``compress_type`` is ``gzip`` or the
    payload starts with :data:`GZIP_MAGIC`, whatever the header says. Any other ``compress_type``
    value (``none``, absent, or unknown, which [TL] logs and parses raw) leaves the payload as is.

    Args:
        frame: a parsed push frame.
        limits: ``limits.max_decompressed_size`` bounds the gunzipped payload.

    Returns:
        The payload bytes, decompressed if they were gzip'd.

    Raises:
        RemoteProtocolError: the payload should be gzip but is not valid gzip (including a
            ``compress_type`` of ``gzip`` on a payload that does not start with the magic), or it
            inflates past ``limits.max_decompressed_size``.
    """
    payload = frame.payload  # upb makes a new bytes object on each access: read it once.
    if is_gzip(payload):
        return gunzip(payload, max_size=limits.max_decompressed_size)
    compress_type = ""
    for header in frame.headers:
        if header.key == HEADER_COMPRESS_TYPE:
            compress_type = header.value  # the last one wins, as in frame_headers()
    if compress_type == COMPRESS_TYPE_GZIP:
        raise RemoteProtocolError(
            f"push frame says compress_type={COMPRESS_TYPE_GZIP!r} but its payload of {len(payload)} "
            f"bytes does not start with the gzip magic"
        )
    return payload


def parse_fetch_result(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> pb.ProtoMessageFetchResult:
    """Parse a fetch result: an im/fetch body or a ``msg`` frame's payload (SPEC.md §6.1).

    Args:
        data: the raw protobuf, or the same gzip'd (recognised by :data:`GZIP_MAGIC`).
        limits: ``limits.max_decompressed_size`` bounds the gunzipped body;
            ``limits.max_messages_per_frame`` bounds the number of messages and
            ``limits.max_route_params`` the number of route params, both counted before they are
            built.

    Returns:
        The fetch result.

    Raises:
        RemoteProtocolError: corrupt or oversized gzip, more than ``limits.max_messages_per_frame``
            messages or ``limits.max_route_params`` route params (``close_code`` 1009), or bytes that
            are not a valid fetch result.
    """
    if is_gzip(data):
        data = gunzip(data, max_size=limits.max_decompressed_size)
    return _parse_fetch_result_body(data, limits)


def fetch_result_from_frame(
    frame: pb.WebcastPushFrame, *, limits: Limits = DEFAULT_LIMITS
) -> pb.ProtoMessageFetchResult:
    """Decode the fetch result a ``msg`` frame carries (SPEC.md §4.1, §4.2).

    The payload is decompressed once (see :func:`frame_payload`); a payload gzip'd twice is
    refused, not inflated again. The frame's ``payload_type`` is not checked: the caller dispatches
    on it ([C2] decodes any ``pb`` frame this way).

    Args:
        frame: a parsed push frame.
        limits: as in :func:`parse_fetch_result`.

    Returns:
        The fetch result.

    Raises:
        RemoteProtocolError: as in :func:`frame_payload` and :func:`parse_fetch_result`.
    """
    return fetch_result_with_size(frame, limits=limits)[0]


def fetch_result_with_size(
    frame: pb.WebcastPushFrame, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[pb.ProtoMessageFetchResult, int]:
    """:func:`fetch_result_from_frame`, with the size of the (decompressed) fetch result.

    No message of the result can be larger than the result: a caller that knows the size can skip
    measuring each message against ``Limits.max_message_size``.

    Raises:
        RemoteProtocolError: as in :func:`fetch_result_from_frame`.
    """
    body = frame_payload(frame, limits=limits)
    return _parse_fetch_result_body(body, limits), len(body)


def parse_heartbeat(payload: bytes) -> pb.HeartBeatMessage:
    """Parse the payload of an ``hb`` frame a client sent (SPEC.md §4.4). Server side.

    Args:
        payload: the frame's payload (already bounded by the frame size).

    Returns:
        The heartbeat: ``room_id`` and ``send_packet_seq_id``.

    Raises:
        RemoteProtocolError: the payload is not a valid ``HeartBeatMessage``.
    """
    try:
        return pb.HeartBeatMessage.FromString(payload)
    except DecodeError as exc:
        raise RemoteProtocolError(f"invalid heartbeat payload of {len(payload)} bytes: {exc}") from exc


def parse_enter_room(payload: bytes) -> pb.WebcastImEnterRoomMessage:
    """Parse the payload of an ``im_enter_room`` frame a client sent (SPEC.md §4.5). Server side.

    Args:
        payload: the frame's payload (already bounded by the frame size).

    Returns:
        The enter-room message.

    Raises:
        RemoteProtocolError: the payload is not a valid ``WebcastImEnterRoomMessage``.
    """
    try:
        return pb.WebcastImEnterRoomMessage.FromString(payload)
    except DecodeError as exc:
        raise RemoteProtocolError(f"invalid enter-room payload of {len(payload)} bytes: {exc}") from exc


def parse_ack(payload: bytes) -> str:
    """Return the ``internal_ext`` an ``ack`` frame's payload carries (SPEC.md §4.3). Server side.

    Args:
        payload: the frame's payload: UTF-8 ``internal_ext``, or ``-`` for an empty one ([TL]).
            [S]/[V1] send no payload at all, which also gives ``""``.

    Returns:
        The acknowledged ``internal_ext``.

    Raises:
        RemoteProtocolError: the payload is not UTF-8.
    """
    if payload == _EMPTY_ACK_PAYLOAD:
        return ""
    try:
        return payload.decode()
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError(f"ack payload of {len(payload)} bytes is not UTF-8: {exc}") from exc


def _parse_fetch_result_body(data: bytes, limits: Limits) -> pb.ProtoMessageFetchResult:
    """Parse an uncompressed fetch result, counting its messages and route params first."""
    # 8 MiB of empty messages (8 KiB gzip'd) would otherwise make upb build 4 million of them
    # (~380 MB, ~0.7 s) before the count could be checked; a million distinct route params, ~300 MB.
    max_messages, max_params = limits.max_messages_per_frame, limits.max_route_params
    if _may_exceed(data, _MESSAGES_TAG, max_messages) or _may_exceed(data, _ROUTE_PARAMS_TAG, max_params):
        bounds = {
            _MESSAGES_TAG: ("max_messages_per_frame", max_messages),
            _ROUTE_PARAMS_TAG: ("max_route_params", max_params),
        }
        _check_entry_counts(data, "fetch result", bounds)
    try:
        result = pb.ProtoMessageFetchResult.FromString(data)
    except DecodeError as exc:
        raise RemoteProtocolError(f"invalid fetch result of {len(data)} bytes: {exc}") from exc
    # Bytes small enough to be parsed first (_PARSE_FIRST_SIZE) are counted here. A route param key
    # given twice is one entry of the map upb built, as it is to every reader of the result.
    if len(result.messages) > max_messages:
        raise _too_many("fetch result", _MESSAGES_TAG, "max_messages_per_frame", max_messages)
    if len(result.route_params) > max_params:
        raise _too_many("fetch result", _ROUTE_PARAMS_TAG, "max_route_params", max_params)
    return result


def _may_exceed(data: bytes, tag: int, limit: int) -> bool:
    """Whether ``data`` must be counted on the wire for the field ``tag`` starts, before upb parses it.

    Not when ``data`` is at most :data:`_PARSE_FIRST_SIZE` bytes: it is parsed first and counted
    after. Otherwise each entry takes at least :data:`_MIN_ENTRY_SIZE` bytes and starts with its tag's
    first byte: ``tag`` itself, or ``tag | 0x80`` when the varint is written overlong (``aa 00`` for
    ``2a``), which upb accepts. So bytes no longer than twice the limit, or holding those two bytes
    no more than ``limit`` times, cannot carry too many: C-speed tests that spare the Python wire walk
    (~0.7 µs a message) all but a flood.
    """
    return (
        len(data) > _PARSE_FIRST_SIZE
        and len(data) > _MIN_ENTRY_SIZE * limit
        and data.count(tag) + data.count(tag | 0x80) > limit
    )


# What an entry of each counted field is called in the error message.
_ENTRY_NAMES: Final = MappingProxyType(
    {_HEADERS_TAG: "headers", _MESSAGES_TAG: "messages", _ROUTE_PARAMS_TAG: "route params"}
)


def _too_many(what: str, tag: int, name: str, limit: int) -> RemoteProtocolError:
    """The error for more entries of the field ``tag`` starts than its limit (``close_code`` 1009)."""
    return RemoteProtocolError(
        f"{what} carries more than {name}={limit} {_ENTRY_NAMES[tag]}", close_code=_CLOSE_MESSAGE_TOO_BIG
    )


def _check_entry_counts(data: bytes, what: str, bounds: Mapping[int, tuple[str, int]]) -> None:
    """Count the top-level entries of repeated length-delimited fields without parsing the message.

    Walks the protobuf wire format at the top level only, skipping each field's value, and stops as
    soon as one count passes its limit. It raises only where upb would refuse the bytes too (a value
    running past the end, wire type 6 or 7, an end-group without a start); anything else odd is left
    for upb to judge. Groups (wire types 3/4, unknown fields to upb) are stepped through so that
    entries inside them are not counted. A counted field number sent with another wire type is an
    unknown field to upb, so is not counted either.

    Args:
        data: the serialized message.
        what: its name for error messages (``"push frame"``, ``"fetch result"``).
        bounds: ``{tag byte: (Limits field name, limit)}`` for each counted field.

    Raises:
        RemoteProtocolError: more entries of a field than its limit (``close_code`` 1009), or wire
            data upb would refuse.
    """
    counts = dict.fromkeys(bounds, 0)
    depth = 0  # open groups
    pos = 0
    end = len(data)
    try:
        while pos < end:
            start = pos
            tag = data[pos]
            pos += 1
            if tag >= 0x80:
                tag &= 0x7F
                shift = 7
                while True:
                    byte = data[pos]
                    pos += 1
                    tag |= (byte & 0x7F) << shift
                    if byte < 0x80:
                        break
                    shift += 7
            wire_type = tag & 7
            if wire_type == 2:  # length-delimited: a varint length, then the value
                length = data[pos]
                pos += 1
                if length >= 0x80:
                    length &= 0x7F
                    shift = 7
                    while True:
                        byte = data[pos]
                        pos += 1
                        length |= (byte & 0x7F) << shift
                        if byte < 0x80:
                            break
                        shift += 7
                pos += length
                if tag in counts and depth == 0:
                    count = counts[tag] = counts[tag] + 1
                    name, limit = bounds[tag]
                    if count > limit:
                        raise _too_many(what, tag, name, limit)
            elif wire_type == 0:  # varint
                while data[pos] >= 0x80:
                    pos += 1
                pos += 1
            elif wire_type == 1:  # fixed64
                pos += 8
            elif wire_type == 5:  # fixed32
                pos += 4
            elif wire_type == 3:  # start group
                depth += 1
            elif wire_type == 4 and depth:  # end group
                depth -= 1
            else:  # wire type 6 or 7, or an end group with no group open
                raise RemoteProtocolError(f"invalid {what}: bad wire type {wire_type} at byte {start}")
    except IndexError:  # a varint ran past the end
        pos = end + 1
    if pos > end or depth:
        raise RemoteProtocolError(f"invalid {what}: {end} bytes end inside a field")


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def encode_push_frame(
    *,
    payload_type: str,
    payload: bytes = b"",
    log_id: int = 0,
    seq_id: int = 0,
    service: int = 0,
    method: int = 0,
    headers: Sequence[tuple[str, str]] = (),
    payload_encoding: str = _PAYLOAD_ENCODING_PB,
) -> bytes:
    """Serialize one push frame: the bytes of one binary WebSocket message (SPEC.md §4).

    Fields with default values are not written (proto3), so ``seq_id``, ``service`` and ``method``
    are absent unless set, as peers send them (SPEC.md §4).

    Args:
        payload_type: ``msg``, ``ack``, ``hb``, ``im_enter_room`` … (SPEC.md §4.1).
        payload: the payload bytes, already compressed if they should be.
        log_id: the frame's log id (a ``msg`` frame's log id is echoed by its ack).
        seq_id: the frame's sequence id.
        service: the frame's service number.
        method: the frame's method number.
        headers: ``(key, value)`` pairs, written in this order.
        payload_encoding: always ``pb`` in practice.

    Returns:
        The serialized frame.

    Raises:
        ValueError: a number does not fit in an int64.
    """
    frame = pb.WebcastPushFrame(
        seq_id=seq_id,
        log_id=log_id,
        service=service,
        method=method,
        payload_encoding=payload_encoding,
        payload_type=payload_type,
        payload=payload,
    )
    for key, value in headers:
        frame.headers.add(key=key, value=value)
    return frame.SerializeToString()


def encode_ack(log_id: int, internal_ext: str) -> bytes:
    """Build the ``ack`` frame for a ``msg`` frame (SPEC.md §4.3, current peers).

    The frame carries ``log_id``, ``payload_encoding`` ``pb``, ``payload_type`` ``ack`` and the UTF-8
    of ``internal_ext`` as its payload, ``-`` when it is empty ([TL]).

    Args:
        log_id: the ``log_id`` of the frame being acknowledged.
        internal_ext: the fetch result's ``internal_ext``.

    Returns:
        The serialized frame.

    Raises:
        ValueError: ``log_id`` does not fit in an int64.
    """
    payload = internal_ext.encode() if internal_ext else _EMPTY_ACK_PAYLOAD
    return encode_push_frame(payload_type=PAYLOAD_TYPE_ACK, payload=payload, log_id=log_id)


def encode_heartbeat(room_id: int, seq_id: int) -> bytes:
    """Build an ``hb`` frame (SPEC.md §4.4, current peers).

    Args:
        room_id: the room being watched.
        seq_id: the heartbeat's ``send_packet_seq_id``: 1, 2, 3 …, back to 1 after each enter-room.
            It goes in the payload; the frame's own ``seq_id`` stays 0.

    Returns:
        The serialized frame.

    Raises:
        ValueError: a number does not fit in an int64.
    """
    heartbeat = pb.HeartBeatMessage(room_id=room_id, send_packet_seq_id=seq_id)
    return encode_push_frame(payload_type=PAYLOAD_TYPE_HEARTBEAT, payload=heartbeat.SerializeToString())


def encode_enter_room(
    room_id: int,
    *,
    cursor: str = "",
    enter_unique_id: int = 0,
    live_id: int = 12,
    identity: str = "audience",
    filter_welcome_msg: str = "0",
) -> bytes:
    """Build an ``im_enter_room`` frame (SPEC.md §4.5).

    The defaults are [TL]'s values; [C2] sends a random positive 63-bit ``enter_unique_id``, which
    the caller supplies (the core draws no random numbers). ``room_tag``, ``live_region``,
    ``account_type`` and ``is_anchor_continue_keep_msg`` stay at their defaults, so are not written.

    Args:
        room_id: the room to enter.
        cursor: the cursor to resume from ("" as both current peers send).
        enter_unique_id: a per-enter id, 0 for none.
        live_id: the live product id (12).
        identity: ``audience``.
        filter_welcome_msg: ``"0"``.

    Returns:
        The serialized frame.

    Raises:
        ValueError: a number does not fit in an int64.
    """
    enter = pb.WebcastImEnterRoomMessage(
        room_id=room_id,
        live_id=live_id,
        identity=identity,
        cursor=cursor,
        enter_unique_id=enter_unique_id,
        filter_welcome_msg=filter_welcome_msg,
    )
    return encode_push_frame(payload_type=PAYLOAD_TYPE_ENTER_ROOM, payload=enter.SerializeToString())


def encode_fetch_result(result: pb.ProtoMessageFetchResult) -> bytes:
    """Serialize a fetch result: an im/fetch body, or a ``msg`` frame's payload before gzip.

    Serialization is deterministic (``route_params`` sorted by key), so fixtures are reproducible.

    Args:
        result: the fetch result.

    Returns:
        The uncompressed protobuf bytes.
    """
    return result.SerializeToString(deterministic=True)


def encode_message_frame(
    result: pb.ProtoMessageFetchResult, *, log_id: int = 0, seq_id: int = 0, compress: bool = True
) -> bytes:
    """Build a ``msg`` frame carrying ``result``, as the push server sends it (SPEC.md §4.1, §4.2).

    Headers, in this order: ``compress_type`` (``gzip`` or ``none``), ``im-cursor`` (the result's
    ``cursor``) and ``im-internal_ext`` (its ``internal_ext``).

    Args:
        result: the fetch result to carry.
        log_id: the frame's log id; the client's ack echoes it.
        seq_id: the frame's sequence id.
        compress: gzip the payload (as TikTok does) or send it raw.

    Returns:
        The serialized frame.

    Raises:
        ValueError: a number does not fit in an int64.
    """
    body = encode_fetch_result(result)
    payload = gzip_compress(body) if compress else body
    return encode_push_frame(
        payload_type=PAYLOAD_TYPE_MSG,
        payload=payload,
        log_id=log_id,
        seq_id=seq_id,
        headers=(
            (HEADER_COMPRESS_TYPE, COMPRESS_TYPE_GZIP if compress else COMPRESS_TYPE_NONE),
            (HEADER_IM_CURSOR, result.cursor),
            (HEADER_IM_INTERNAL_EXT, result.internal_ext),
        ),
    )
