"""Fuzz targets: one function per entry point that reads peer bytes, each enforcing the contract.

The contract (STYLE.md §11, issue 7): whatever bytes arrive, every decoder returns a value or raises
:class:`~webcast_proto.RemoteProtocolError` (the HTTP parsers: an :class:`~webcast_proto.HTTPError`, or
a ``RemoteProtocolError`` for a limit); ``ConverterRegistry.convert`` never raises; a
:class:`~webcast_proto.ClientConnection` driven only through legal calls raises nothing but
``RemoteProtocolError``. Any other exception, any warning (turned into an error here), a hang (the
runner's ``-timeout``) or a memory blow-up (its ``-rss_limit_mb``) is a finding.

Each target takes one ``bytes`` input. Inputs that need structure (an HTTP response, a sequence of
connection calls) are read with the small formats below, whose encoders :mod:`make_corpus` uses to
write seeds. This module does not import atheris: ``fuzz.py`` instruments and runs it, and the test
suite replays the corpus and every regression input through it without a fuzzer.
"""

from __future__ import annotations

import contextlib
import traceback
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from google.protobuf.message import DecodeError

from webcast_proto import (
    ClientConnection,
    EulerSigner,
    HTTPError,
    Limits,
    RemoteProtocolError,
    Request,
    Response,
    ServerConnection,
    State,
    codec,
    decode_fetch_response,
    decode_push_frame,
    default_registry,
)
from webcast_proto import fixtures as fx
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.connection import allowed_calls
from webcast_proto.http import (
    parse_check_alive_response,
    parse_fetch_response,
    parse_gift_list_response,
    parse_handshake_options,
    parse_handshake_response,
    parse_live_page,
    parse_live_page_legacy,
    parse_retry_after,
    parse_room_id_api_response,
    parse_room_info_response,
    parse_send_chat_response,
)
from webcast_proto.signing import LegacySigner

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "CONVERT_METHODS",
    "HTTP_HEADER_NAMES",
    "HTTP_PARSERS",
    "KNOWN_ISSUES",
    "LIMITS",
    "TARGETS",
    "Op",
    "check",
    "decode_http_case",
    "decode_ops",
    "encode_http_case",
    "encode_ops",
    "known_issue",
    "run",
]

ROOM_ID: Final = fx.DEFAULT_ROOM_ID

# Smaller than the defaults so that inputs of a few KiB can cross every bound (a gzip'd payload
# inflating past max_decompressed_size, more messages than max_messages_per_frame …). The default
# limits are fuzzed too: the "connection" target uses them.
LIMITS: Final = Limits(
    max_frame_size=64 * 1024,
    max_decompressed_size=256 * 1024,
    max_messages_per_frame=64,
    max_frame_headers=8,
    max_route_params=8,
    max_dedup_window=16,
    max_http_body_size=64 * 1024,
    max_json_depth=16,
)


class ContractViolation(AssertionError):
    """A target saw behaviour the contract forbids without an exception of its own (a bad state)."""


# --------------------------------------------------------------------------------------------
# Decoders
# --------------------------------------------------------------------------------------------


def target_gunzip(data: bytes) -> None:
    """gunzip: any bytes inflate within the bound or raise RemoteProtocolError."""
    try:
        out = codec.gunzip(data, max_size=LIMITS.max_decompressed_size)
    except RemoteProtocolError:
        return
    if len(out) > LIMITS.max_decompressed_size:
        raise ContractViolation(f"gunzip returned {len(out)} bytes past its bound")


def target_push_frame(data: bytes) -> None:
    """A WebSocket message through every frame decoder, then the stateless decode."""
    for limits in (LIMITS, Limits()):
        try:
            frame = codec.parse_push_frame(data, limits=limits)
            codec.frame_headers(frame)
            codec.frame_payload(frame, limits=limits)
            codec.fetch_result_from_frame(frame, limits=limits)
        except RemoteProtocolError:
            pass
        with contextlib.suppress(RemoteProtocolError):
            decode_push_frame(data, limits=limits)


def target_fetch_result(data: bytes) -> None:
    """An im/fetch body (raw or gzip'd) through the codec and the stateless decode."""
    for limits in (LIMITS, Limits()):
        try:
            result = codec.parse_fetch_result(data, limits=limits)
        except RemoteProtocolError:
            pass
        else:
            if len(result.messages) > limits.max_messages_per_frame:
                raise ContractViolation("parse_fetch_result passed max_messages_per_frame")
            if len(result.route_params) > limits.max_route_params:
                raise ContractViolation("parse_fetch_result passed max_route_params")
        with contextlib.suppress(RemoteProtocolError):
            decode_fetch_response(data, limits=limits)


# The methods the built-in registry converts, in a fixed order: the first input byte picks one.
CONVERT_METHODS: Final = tuple(sorted(default_registry().methods))


def target_convert(data: bytes) -> None:
    """One message envelope (method picked by the first byte, payload the rest) into the registry.

    ``convert`` must never raise: a payload that does not parse is a ProtocolWarning event.
    """
    if not data:
        return
    method = CONVERT_METHODS[data[0] % len(CONVERT_METHODS)] if data[0] < 0xF0 else "UnknownMethod"
    message = pb.BaseProtoMessage(method=method, payload=data[1:], msg_id=1)
    default_registry().convert(message)


def target_server(data: bytes) -> None:
    """The mock side's ServerConnection: what a client sends it.

    The first byte picks the entry point (modulo 3): 0 a WebSocket message, 1 an im/fetch request
    URL, 2 the URL the client opened the push socket with; the rest is the message or the URL.
    """
    if not data:
        return
    server = ServerConnection(room_id=ROOM_ID, limits=LIMITS)
    mode, rest = data[0] % 3, data[1:]
    url = rest.decode("utf-8", errors="replace")
    with contextlib.suppress(RemoteProtocolError):
        if mode == 0:
            server.receive_client_message(rest)
        elif mode == 1:
            server.handle_fetch_request(Request("GET", url))
        else:
            server.websocket_opened(url)


# --------------------------------------------------------------------------------------------
# HTTP parsers: input = parser byte, status byte, header count, headers, then the body
# --------------------------------------------------------------------------------------------


def _handshake(response: Response, limits: Limits) -> object:
    info = parse_handshake_response(response)
    return parse_handshake_options(dict(info.options).get("ping-interval", ""))


HTTP_PARSERS: Final[Sequence[tuple[str, Callable[[Response, Limits], object]]]] = (
    ("room_info", lambda r, lim: parse_room_info_response(r, limits=lim)),
    ("room_info_any", lambda r, lim: parse_room_info_response(r, limits=lim, require_live=False)),
    ("check_alive", lambda r, lim: parse_check_alive_response(r, limits=lim)),
    ("gift_list", lambda r, lim: parse_gift_list_response(r, limits=lim)),
    ("send_chat", lambda r, lim: parse_send_chat_response(r, limits=lim)),
    ("room_id_api", lambda r, lim: parse_room_id_api_response(r, unique_id="someone", limits=lim)),
    ("live_page", lambda r, lim: parse_live_page(r, unique_id="someone", limits=lim)),
    ("live_page_legacy", lambda r, lim: parse_live_page_legacy(r, unique_id="someone", limits=lim)),
    ("fetch", lambda r, lim: parse_fetch_response(r, limits=lim)),
    ("handshake", _handshake),
    ("retry_after", lambda r, lim: parse_retry_after(r)),
    ("euler_sign", lambda r, lim: EulerSigner(limits=lim).parse_sign_response(r)),
    ("euler_fetch", lambda r, lim: EulerSigner(limits=lim).parse_fetch_response(r)),
    ("euler_room_id", lambda r, lim: EulerSigner(limits=lim).parse_room_id_response(r, unique_id="someone")),
    ("euler_chat", lambda r, lim: EulerSigner(limits=lim).parse_chat_response(r)),
    ("legacy_sign", lambda r, lim: LegacySigner(limits=lim).parse_sign_response(r)),
)

# Header names the parsers read; a header byte past the list takes its name from the input.
HTTP_HEADER_NAMES: Final = (
    "Content-Type",
    "Retry-After",
    "X-RateLimit-Reset",
    "RateLimit-Reset",
    "Handshake-Options",
    "Handshake-Msg",
    "X-Set-TT-Cookie",
    "X-Room-Id",
    "X-Request-Id",
    "X-Agent-Id",
    "X-Log-Code",
    "Set-Cookie",
)

# A repeated body stops here: past LIMITS.max_http_body_size (refused at once) but well within the
# default limit, under which a parser doing more than linear work on it takes seconds, not ms.
_MAX_REPEATED_BODY: Final = 256 * 1024

_STATUSES: Final = (200, 101, 429, 403, 401, 402, 404, 500, 503, 301, 204, 400)


@dataclass(frozen=True, slots=True)
class HTTPCase:
    """A decoded HTTP input: which parser, and the response it is given."""

    parser: int
    response: Response


def encode_http_case(
    parser: str, status: int, headers: Sequence[tuple[str, str]], body: bytes, *, repeat: int = 0
) -> bytes:
    """The input bytes :func:`decode_http_case` reads back as this case (for seeds).

    ``repeat`` (0-7) asks for the body ``2 ** repeat`` times over (up to the fuzz body limit): how a
    small input makes a large body, to find parsing work that grows faster than the body.
    """
    names = [name for name, _ in HTTP_PARSERS]
    first = names.index(parser) | repeat << 5
    out = bytearray((first, _STATUSES.index(status) if status in _STATUSES else 0xFF))
    if status not in _STATUSES:
        out += status.to_bytes(2, "big")
    out.append(len(headers))
    for name, value in headers:
        raw_value = value.encode()
        if name in HTTP_HEADER_NAMES:
            out.append(HTTP_HEADER_NAMES.index(name))
        else:
            raw_name = name.encode()
            out += bytes((0xFF, len(raw_name))) + raw_name
        out += bytes((len(raw_value),)) + raw_value
    return bytes(out) + body


def _take(data: bytes, pos: int, size: int) -> tuple[bytes, int]:
    return data[pos : pos + size], pos + size


def decode_http_case(data: bytes) -> HTTPCase | None:
    """Read an HTTP case; ``None`` when the input is too short to name a parser and a status."""
    if len(data) < 3:
        return None
    parser = data[0] % len(HTTP_PARSERS)
    repeat = 1 << (data[0] >> 5)
    pos = 2
    if data[1] < len(_STATUSES):
        status = _STATUSES[data[1]]
    else:
        status = 100 + int.from_bytes(data[2:4], "big") % 500
        pos = 4
    count = data[pos] % 8 if pos < len(data) else 0
    pos += 1
    headers: list[tuple[str, str]] = []
    for _ in range(count):
        if pos >= len(data):
            break
        selector = data[pos]
        pos += 1
        if selector < len(HTTP_HEADER_NAMES):
            name = HTTP_HEADER_NAMES[selector]
        else:
            size = data[pos] if pos < len(data) else 0
            raw, pos = _take(data, pos + 1, size)
            name = raw.decode("utf-8", errors="replace")
        size = data[pos] if pos < len(data) else 0
        raw, pos = _take(data, pos + 1, size)
        headers.append((name, raw.decode("utf-8", errors="replace")))
    body = data[pos:] if repeat == 1 else (data[pos:] * repeat)[:_MAX_REPEATED_BODY]
    return HTTPCase(parser, Response(status, tuple(headers), body))


def target_http(data: bytes) -> None:
    """One response into one parser: a value, an HTTPError, or RemoteProtocolError (a limit)."""
    case = decode_http_case(data)
    if case is None:
        return
    _, parse = HTTP_PARSERS[case.parser]
    for limits in (LIMITS, Limits()):
        with contextlib.suppress(HTTPError, RemoteProtocolError):
            parse(case.response, limits)


# --------------------------------------------------------------------------------------------
# ClientConnection: input = a sequence of calls
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Op:
    """One call on the connection. ``data`` is the body or message for the calls that take bytes."""

    name: str
    data: bytes = b""
    advance: float = 0.0  # seconds added to the clock before the call


# Op codes, in the order the input's op byte picks them (modulo their number).
_OP_NAMES: Final = (
    "start",
    "receive_fetch_response",
    "fetch_failed",
    "websocket_opened",
    "receive_ws_message",
    "websocket_closed",
    "tick",
    "request_to_send",
)
_TAKES_DATA: Final = frozenset({"receive_fetch_response", "receive_ws_message"})


def encode_ops(ops: Sequence[Op]) -> bytes:
    """The input bytes :func:`decode_ops` reads back as these calls (for seeds).

    Each op: its code, the clock advance in quarter seconds (one byte), then for calls taking bytes
    a 3-byte big-endian length and the bytes.
    """
    out = bytearray()
    for op in ops:
        out += bytes((_OP_NAMES.index(op.name), min(int(op.advance * 4), 255)))
        if op.name in _TAKES_DATA:
            out += len(op.data).to_bytes(3, "big") + op.data
    return bytes(out)


def decode_ops(data: bytes) -> list[Op]:
    """Read a sequence of calls; a truncated last op keeps what is there."""
    ops: list[Op] = []
    pos = 0
    while pos + 2 <= len(data):
        name = _OP_NAMES[data[pos] % len(_OP_NAMES)]
        advance = data[pos + 1] / 4
        pos += 2
        payload = b""
        if name in _TAKES_DATA:
            size = int.from_bytes(data[pos : pos + 3], "big")
            payload, pos = _take(data, pos + 3, size)
        ops.append(Op(name, payload, advance))
    return ops


def _call(conn: ClientConnection, op: Op, now: float) -> None:
    if op.name == "start":
        conn.start()
    elif op.name == "receive_fetch_response":
        conn.receive_fetch_response(op.data, now)
    elif op.name == "fetch_failed":
        conn.fetch_failed(now, RemoteProtocolError("fuzzed fetch failure"))
    elif op.name == "websocket_opened":
        conn.websocket_opened(now, ping_interval=op.advance or None, enter_unique_id=int(op.advance * 4))
    elif op.name == "receive_ws_message":
        conn.receive_ws_message(op.data, now)
    elif op.name == "websocket_closed":
        conn.websocket_closed(now, 1000)
    elif op.name == "tick":
        conn.tick(now)
    else:
        conn.request_to_send()


_ALWAYS_LEGAL: Final = frozenset({"tick", "request_to_send"})


def drive(ops: Sequence[Op], *, limits: Limits) -> None:
    """Run ``ops`` on a fresh connection, skipping calls its state does not accept.

    Checks after every call: a RemoteProtocolError leaves the state DISCONNECTED; the deadline is
    None or not in the past of a clock that only moves forward once ticked; the outbox is drained.
    """
    conn = ClientConnection(room_id=ROOM_ID, limits=limits, liveness_timeout=30.0)
    now = 1000.0
    for op in ops:
        now += op.advance
        if op.name not in _ALWAYS_LEGAL and op.name not in allowed_calls(conn.state):
            continue
        try:
            _call(conn, op, now)
        except RemoteProtocolError:
            if conn.state is not State.DISCONNECTED:
                raise ContractViolation(f"RemoteProtocolError left the state {conn.state.name}") from None
        conn.data_to_send()  # drained after every call, so max_pending_bytes is never the caller's fault
        deadline = conn.next_deadline()
        if deadline is not None and op.name == "tick" and deadline <= now:
            raise ContractViolation(f"tick({now}) left a deadline {deadline} already due")


def target_connection(data: bytes) -> None:
    """A session of fuzzed calls and bytes, under the fuzz limits and under the defaults."""
    ops = decode_ops(data)
    drive(ops, limits=LIMITS)
    drive(ops, limits=Limits())


# --------------------------------------------------------------------------------------------
# Structure-aware: input = a serialized fetch result (see mutator.py)
# --------------------------------------------------------------------------------------------


def target_proto(data: bytes) -> None:
    """A fetch result, as a gzip'd and a plain msg frame, through a streaming connection.

    Seeds and the structure-aware mutator keep the input a valid ``ProtoMessageFetchResult`` whose
    payloads parse as their methods' messages, so the converters see deep, nearly valid data that
    byte mutation inside gzip would rarely reach.
    """
    try:
        result = pb.ProtoMessageFetchResult.FromString(data)
    except DecodeError:  # byte-level mutation (the fallback of the mutator) breaks some inputs
        target_fetch_result(data)
        return
    gzipped = codec.encode_message_frame(result, log_id=7)
    frames = (gzipped, codec.encode_message_frame(result, log_id=8, compress=False))
    initial = codec.encode_fetch_result(fx.fetch_result(cursor="c"))
    ops = [Op("start"), Op("receive_fetch_response", initial), Op("websocket_opened")]
    ops += [Op("receive_ws_message", frame, 1.0) for frame in frames]
    drive([*ops, Op("tick", advance=20.0)], limits=Limits())
    drive([Op("start"), Op("receive_fetch_response", data), Op("tick", advance=2.0)], limits=Limits())


TARGETS: Final[Mapping[str, Callable[[bytes], None]]] = {
    "gunzip": target_gunzip,
    "push_frame": target_push_frame,
    "fetch_result": target_fetch_result,
    "convert": target_convert,
    "server": target_server,
    "http": target_http,
    "connection": target_connection,
    "proto": target_proto,
}


# --------------------------------------------------------------------------------------------
# Known issues: reported bugs in files the fuzz harness does not own
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownIssue:
    """A bug the fuzzer found whose fix belongs to another file's owner (README.md, "Findings").

    While it is open, campaigns and the CI smoke run tolerate exactly this failure (its exception
    type, leaving the core from this function of this file) so that they go on finding new ones; its
    regression test in ``tests/proto/test_fuzz_regressions.py`` is an ``xfail(strict=True)`` that
    turns red once the fix lands, when the entry here goes too. ``WEBCAST_FUZZ_STRICT=1`` (``run.py
    --strict``) tolerates nothing.
    """

    test: str
    error: type[BaseException]
    filename: str
    function: str


KNOWN_ISSUES: Final[tuple[KnownIssue, ...]] = ()


def known_issue(exc: BaseException) -> KnownIssue | None:
    """The known issue ``exc`` is an instance of, judged by the innermost core frame it left from."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if "webcast_proto" in frame.filename]
    if not frames:
        return None
    innermost = frames[-1]
    for issue in KNOWN_ISSUES:
        if (
            type(exc) is issue.error
            and innermost.filename.endswith(issue.filename)
            and innermost.name == issue.function
        ):
            return issue
    return None


def check(function: Callable[[bytes], None], data: bytes, *, strict: bool) -> None:
    """Run ``function`` on ``data``, letting through only a known issue (unless ``strict``)."""
    try:
        function(data)
    except Exception as exc:
        if strict or known_issue(exc) is None:
            raise


def run(target: str, data: bytes, *, strict: bool = False) -> None:
    """Run one input through ``target`` with every warning turned into an error.

    Raises:
        KeyError: no such target.
        Exception: whatever the target raises (a contract violation), known issues aside.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(TARGETS[target], data, strict=strict)
