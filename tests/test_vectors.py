"""The conformance vectors under vectors/ hold for this implementation (issue 6, item 5).

vectors/README.md is the contract a port checks itself against; these tests check ours: every vector
decodes to exactly its expected JSON (events, derived properties, frame and fetch-result fields) or
fails with its stated error, client frames are byte for byte what the codec's encoders write, the
session notes hold on a ClientConnection, the set covers what it claims, and the generator's --check
finds nothing stale.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from webcast_proto import (
    ClientConnection,
    Gift,
    Limits,
    PollAfter,
    RemoteProtocolError,
    Social,
    State,
    codec,
    decode_fetch_response,
    decode_push_frame,
    default_registry,
)
from webcast_proto import fixtures as fx
from webcast_proto.config import DEFAULT_LIMITS

if TYPE_CHECKING:
    from webcast_proto._pb import webcast_pb2 as pb
    from webcast_proto.events import Event

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors"
MANIFEST: dict[str, Any] = json.loads((VECTORS / "manifest.json").read_text("utf-8"))
ENTRIES: list[dict[str, Any]] = MANIFEST["vectors"]

# What our error messages say for each reason, so that a vector fails for the reason it states.
REASON_PATTERNS = {
    "invalid_frame": r"^invalid push frame of",
    "frame_too_large": r"exceeds max_frame_size=",
    "decompressed_too_large": r"inflates past max_decompressed_size=",
    "corrupt_gzip": r"^corrupt gzip payload",
    "truncated_gzip": r"^truncated gzip payload",
    "trailing_gzip_data": r"unexpected bytes after the gzip stream",
    "gzip_header_mismatch": r"says compress_type='gzip' but its payload",
    "invalid_fetch_result": r"^invalid fetch result",
    "too_many_messages": r"more than max_messages_per_frame=",
    "body_too_large": r"exceeds max_http_body_size=",
    "missing_cursor": r"^Missing cursor in initial fetch response",
}

# SPEC.md §4.3-§4.5's example frames, copied from the spec.
SPEC_EXAMPLES = {
    "client/spec_ack": "10 95 9a ef 3a 32 02 70 62 3a 03 61 63 6b 42 16 69 6e 74 65 72 6e 61 6c 5f 73 72 63"
    " 3a 64 69 6d 7c 73 65 71 3a 31",
    "client/spec_heartbeat": "32 02 70 62 3a 02 68 62 42 0c 08 ae a6 f6 8d aa e1 df af 67 10 01",
    "client/spec_enter_room": "32 02 70 62 3a 0d 69 6d 5f 65 6e 74 65 72 5f 72 6f 6f 6d 42 19 08 ae a6 f6 8d"
    " aa e1 df af 67 20 0c 2a 08 61 75 64 69 65 6e 63 65 4a 01 30",
}


def entries(*, kind: str | None = None, failing: bool | None = None) -> list[Any]:
    """Manifest entries as pytest params named after the vector."""
    return [
        pytest.param(e, id=e["name"])
        for e in ENTRIES
        if (kind is None or e["kind"] == kind) and (failing is None or (e["error"] is not None) == failing)
    ]


def read(path: str) -> bytes:
    return (VECTORS / path).read_bytes()


def load(path: str) -> Any:
    return json.loads((VECTORS / path).read_text("utf-8"))


def limits_of(entry: dict[str, Any]) -> Limits:
    return Limits(**entry["limits"])


# --------------------------------------------------------------------------------------------
# How the expected files describe frames, fetch results and derived properties (README.md)
# --------------------------------------------------------------------------------------------


def frame_fields(frame: pb.WebcastPushFrame) -> dict[str, Any]:
    return {
        "seq_id": str(frame.seq_id),
        "log_id": str(frame.log_id),
        "service": frame.service,
        "method": frame.method,
        "headers": [{"key": h.key, "value": h.value} for h in frame.headers],
        "payload_encoding": frame.payload_encoding,
        "payload_type": frame.payload_type,
        "payload_size": len(frame.payload),
        "payload_is_gzip": frame.payload[:3] == b"\x1f\x8b\x08",
    }


def result_fields(result: pb.ProtoMessageFetchResult) -> dict[str, Any]:
    fields: dict[str, Any] = {
        name: getattr(result, name)
        for name in (
            "cursor",
            "fetch_interval",
            "now",
            "internal_ext",
            "fetch_type",
            "heartbeat_duration",
            "need_ack",
            "push_server",
            "is_first",
            "history_comment_cursor",
            "history_no_more",
        )
    }
    fields["route_params"] = dict(result.route_params)
    fields["messages"] = [
        {"method": m.method, "msg_id": str(m.msg_id), "payload_size": len(m.payload)} for m in result.messages
    ]
    return fields


def derived_of(events: list[Event]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        if isinstance(event, Gift):
            out.append(
                {
                    "index": index,
                    "is_streakable": event.is_streakable,
                    "is_streak_in_progress": event.is_streak_in_progress,
                    "is_final": event.is_final,
                    "total_diamonds": event.total_diamonds,
                }
            )
        elif isinstance(event, Social):
            out.append({"index": index, "is_follow": event.is_follow, "is_share": event.is_share})
    return out


# --------------------------------------------------------------------------------------------
# The manifest and the files
# --------------------------------------------------------------------------------------------


def test_manifest_names_exactly_the_files() -> None:
    """Every file under vectors/ is some vector's input or expected output, and every one exists."""
    named = {e["input"] for e in ENTRIES} | {e["expected"] for e in ENTRIES if e["expected"] is not None}
    on_disk = {
        p.relative_to(VECTORS).as_posix()
        for p in VECTORS.rglob("*")
        if p.is_file() and p.name not in {"README.md", "manifest.json"}
    }
    assert named == on_disk
    assert len({e["name"] for e in ENTRIES}) == len(ENTRIES)


def test_manifest_entries_are_complete() -> None:
    """Each entry has exactly one of expected and error, a known kind, known limits and a known reason."""
    defaults = MANIFEST["default_limits"]
    assert defaults == {name: getattr(DEFAULT_LIMITS, name) for name in defaults}
    for e in ENTRIES:
        assert e["kind"] in {"push_frame", "fetch_body", "client_frame"}
        assert (e["expected"] is None) != (e["error"] is None)
        assert set(e["limits"]) <= set(defaults)
        assert e["input_size"] == len(read(e["input"]))
        if e["error"] is not None:
            assert e["error"]["reason"] in MANIFEST["errors"]
            assert e["error"]["class"] == "RemoteProtocolError"


def test_json_files_are_pretty_sorted_and_end_in_a_newline() -> None:
    """JSON files are pretty-printed (two-space indent) with sorted keys and one trailing newline."""
    for path in [VECTORS / "manifest.json", *VECTORS.rglob("*.json")]:
        text = path.read_text("utf-8")
        assert text.endswith("}\n"), path
        assert text.splitlines()[1].startswith('  "'), path
        assert _keys_sorted(json.loads(text)), path


def _keys_sorted(value: Any) -> bool:
    if isinstance(value, dict):
        return list(value) == sorted(value) and all(_keys_sorted(v) for v in value.values())
    if isinstance(value, list):
        return all(_keys_sorted(v) for v in value)
    return True


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", entries(kind="push_frame", failing=False))
def test_push_frame_decodes_to_its_expected_json(entry: dict[str, Any]) -> None:
    """A push frame gives exactly the expected events, derived properties and frame fields."""
    data, want, limits = read(entry["input"]), load(entry["expected"]), limits_of(entry)
    events = decode_push_frame(data, limits=limits)
    assert [e.to_dict() for e in events] == want["events"]
    assert derived_of(events) == want["derived"]
    frame = codec.parse_push_frame(data, limits=limits)
    assert frame_fields(frame) == want["frame"]
    if frame.payload_type == codec.PAYLOAD_TYPE_MSG:
        assert result_fields(codec.fetch_result_from_frame(frame, limits=limits)) == want["fetch_result"]
    else:
        assert want["fetch_result"] is None
        assert events == []


@pytest.mark.parametrize("entry", entries(kind="fetch_body", failing=False))
def test_fetch_body_decodes_to_its_expected_json(entry: dict[str, Any]) -> None:
    """An im/fetch body gives exactly the expected events, derived properties and fetch-result fields."""
    data, want, limits = read(entry["input"]), load(entry["expected"]), limits_of(entry)
    events = decode_fetch_response(data, limits=limits)
    assert [e.to_dict() for e in events] == want["events"]
    assert derived_of(events) == want["derived"]
    assert want["body_is_gzip"] == codec.is_gzip(data)
    assert result_fields(codec.parse_fetch_result(data, limits=limits)) == want["fetch_result"]


@pytest.mark.parametrize("entry", entries(failing=True))
def test_malformed_input_gives_its_stated_error(entry: dict[str, Any]) -> None:
    """A malformed vector raises RemoteProtocolError for its stated reason, with its close code."""
    decode = decode_push_frame if entry["kind"] == "push_frame" else decode_fetch_response
    error = entry["error"]
    with pytest.raises(RemoteProtocolError, match=REASON_PATTERNS[error["reason"]]) as caught:
        decode(read(entry["input"]), limits=limits_of(entry))
    if entry["kind"] == "push_frame":
        assert (
            caught.value.close_code
            == error["close_code"]
            == MANIFEST["errors"][error["reason"]]["close_code"]
        )
    else:
        assert error["close_code"] is None


def test_gzip_bombs_are_small_and_inflate_past_the_stated_limit() -> None:
    """The bombs are at most 64 KiB, inflate past the default limit, and decode once it is raised."""
    bombs = [e for e in ENTRIES if "inflated_size" in e]
    assert {e["kind"] for e in bombs} == {"push_frame", "fetch_body"}
    for entry in bombs:
        data = read(entry["input"])
        assert len(data) <= 64 * 1024
        assert entry["limits"] == {}
        assert entry["inflated_size"] > DEFAULT_LIMITS.max_decompressed_size
        raised = Limits(max_decompressed_size=entry["inflated_size"])
        decode = decode_push_frame if entry["kind"] == "push_frame" else decode_fetch_response
        assert [type(e).__name__ for e in decode(data, limits=raised)] == ["Chat"]


# --------------------------------------------------------------------------------------------
# Client frames
# --------------------------------------------------------------------------------------------


def encode(encoder: str, args: dict[str, str]) -> bytes:
    """Call the codec's encoder as the manifest says (decimal-string ids become ints)."""
    if encoder == "ack":
        return codec.encode_ack(int(args["log_id"]), args["internal_ext"])
    if encoder == "heartbeat":
        return codec.encode_heartbeat(int(args["room_id"]), int(args["seq_id"]))
    assert encoder == "enter_room"
    return codec.encode_enter_room(
        int(args["room_id"]),
        cursor=args.get("cursor", ""),
        enter_unique_id=int(args.get("enter_unique_id", "0")),
    )


@pytest.mark.parametrize("entry", entries(kind="client_frame"))
def test_client_frame_is_what_the_codec_encodes(entry: dict[str, Any]) -> None:
    """A client frame is byte-identical to the codec's encoder given the manifest's args."""
    data, want = read(entry["input"]), load(entry["expected"])
    assert encode(entry["encoder"], entry["args"]) == data
    frame = codec.parse_push_frame(data)
    assert frame_fields(frame) == want["frame"]
    payload = want["payload"]
    if entry["encoder"] == "ack":
        assert base64.b64decode(payload["raw"]) == frame.payload
        assert codec.parse_ack(frame.payload) == payload["internal_ext"]
    elif entry["encoder"] == "heartbeat":
        hb = codec.parse_heartbeat(frame.payload)
        assert payload == {"room_id": str(hb.room_id), "send_packet_seq_id": str(hb.send_packet_seq_id)}
    else:
        enter = codec.parse_enter_room(frame.payload)
        assert int(payload["room_id"]) == enter.room_id
        assert int(payload["enter_unique_id"]) == enter.enter_unique_id
        assert int(payload["live_id"]) == enter.live_id
        assert (payload["identity"], payload["cursor"], payload["filter_welcome_msg"]) == (
            enter.identity,
            enter.cursor,
            enter.filter_welcome_msg,
        )


def test_spec_examples_are_vectors() -> None:
    """SPEC.md §4.3-§4.5's example ack, heartbeat and enter-room frames are vectors, byte for byte."""
    sources = {e["name"]: e.get("source") for e in ENTRIES}
    for name, hex_bytes in SPEC_EXAMPLES.items():
        assert read(f"{name}.bin") == bytes.fromhex(hex_bytes)
        assert sources[name] is not None


# --------------------------------------------------------------------------------------------
# Session notes: a fetch result without cursor
# --------------------------------------------------------------------------------------------

SESSION_ENTRIES = [pytest.param(e, id=e["name"]) for e in ENTRIES if "session" in e]


@pytest.mark.parametrize("entry", SESSION_ENTRIES)
def test_first_fetch_without_cursor_is_refused(entry: dict[str, Any]) -> None:
    """As a session's first im/fetch answer, the body gives its stated error and the state is DISCONNECTED."""
    reason = entry["session"]["first_fetch"]["error"]
    connection = ClientConnection(room_id=fx.DEFAULT_ROOM_ID)
    connection.start()
    with pytest.raises(RemoteProtocolError, match=REASON_PATTERNS[reason]):
        connection.receive_fetch_response(read(entry["input"]), 0.0)
    assert connection.state is State.DISCONNECTED


@pytest.mark.parametrize("entry", SESSION_ENTRIES)
def test_poll_without_cursor_is_reported_and_keeps_the_cursor(entry: dict[str, Any]) -> None:
    """As a poll answer, the body gives the stated events first, then its own; the old cursor stays."""
    poll = entry["session"]["poll"]
    connection = ClientConnection(room_id=fx.DEFAULT_ROOM_ID, enable_websocket_upgrade=False)
    connection.start()
    first = fx.fetch_result([], cursor="t-1_r-1_d-1_u-1", push_server="")
    _, instruction = connection.receive_fetch_response(codec.encode_fetch_result(first), 0.0)
    assert isinstance(instruction, PollAfter)
    connection.tick(instruction.seconds)
    assert connection.request_to_send() is not None
    events, _ = connection.receive_fetch_response(read(entry["input"]), instruction.seconds)
    assert [e.to_dict() for e in events] == poll["events_before"] + load(entry["expected"])["events"]
    assert poll["keeps_cursor"]
    assert connection.cursor == "t-1_r-1_d-1_u-1"


# --------------------------------------------------------------------------------------------
# Coverage of the set
# --------------------------------------------------------------------------------------------


def all_expected_events() -> list[dict[str, Any]]:
    return [
        event
        for e in ENTRIES
        if e["expected"] is not None and e["kind"] != "client_frame"
        for event in load(e["expected"])["events"]
    ]


def test_vectors_cover_every_converter_and_event_kind() -> None:
    """Every built-in method, Control and StreamEnd, UnknownMessage and ProtocolWarning occur."""
    events = all_expected_events()
    modelled = {e["method"] for e in events if e["type"] not in {"UnknownMessage", "ProtocolWarning"}}
    assert modelled == default_registry().methods
    assert {e["type"] for e in events} == {
        "Chat",
        "Member",
        "Gift",
        "RoomUser",
        "Like",
        "Social",
        "Emote",
        "Envelope",
        "QuestionNew",
        "LinkMicBattle",
        "LinkMicArmies",
        "LiveIntro",
        "Subscribe",
        "Control",
        "StreamEnd",
        "UnknownMessage",
        "ProtocolWarning",
    }


def test_vectors_cover_gzip_and_plain_edge_ids_and_every_error() -> None:
    """Both encodings for frames and bodies, ids at 0, 1, 2**53 + 1 and 2**63 - 1, every error reason."""
    for kind in ("push_frame", "fetch_body"):
        gzip_flags = {
            codec.is_gzip(
                codec.parse_push_frame(read(e["input"])).payload if kind == "push_frame" else read(e["input"])
            )
            for e in ENTRIES
            if e["kind"] == kind and e["expected"] is not None
        }
        assert gzip_flags == {True, False}
    ids = {e["msg_id"] for e in all_expected_events()}
    assert {"0", "1", str(2**53 + 1), str(2**63 - 1)} <= ids
    used = {e["error"]["reason"] for e in ENTRIES if e["error"] is not None}
    used |= {e["session"]["first_fetch"]["error"] for e in ENTRIES if "session" in e}
    assert used == set(MANIFEST["errors"]) == set(REASON_PATTERNS)


def test_vectors_folder_is_small() -> None:
    """The whole folder stays well under 1 MiB."""
    assert sum(p.stat().st_size for p in VECTORS.rglob("*") if p.is_file()) < 800 * 1024


def test_generator_check_passes() -> None:
    """scripts/gen_vectors.py --check finds the committed vectors up to date."""
    completed = subprocess.run(
        [sys.executable, "-bb", "-W", "error", str(ROOT / "scripts" / "gen_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
