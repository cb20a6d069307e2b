"""``webcast decode`` (issue 6, item 3): one push frame or fetch body as a tree — method names,
every field by name and number, payloads decoded by method, unknown fields by number."""

from __future__ import annotations

import base64
import io
import sys
from typing import TYPE_CHECKING

from cli_support import FIXTURE, run

from webcast_proto import codec
from webcast_proto import fixtures as fx
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.recording import Direction, WireKind, read_recording
from webcast_transports.cli import main
from webcast_transports.cli._decode import detect

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _recorded(direction: Direction, kind: WireKind, index: int = 0) -> bytes:
    records = read_recording(FIXTURE.read_bytes()).records
    return [r.data for r in records if r.direction is direction and r.kind is kind and r.data][index]


def _msg_frame() -> bytes:
    """The first ``msg`` frame of the recording (the first frame is the enter-room answer)."""
    records = read_recording(FIXTURE.read_bytes()).records
    frames = [r.data for r in records if r.direction is Direction.IN and r.kind is WireKind.WS]
    return next(f for f in frames if codec.parse_push_frame(f).payload_type == "msg")


def _decode(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: bytes, *args: str
) -> str:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["decode", *args]) == 0
    return capsys.readouterr().out


def test_a_recorded_msg_frame_as_base64_in_a_process(tmp_path: Path) -> None:
    """A gzip'd ``msg`` frame: the frame's fields, the inflated fetch result, each message by method."""
    frame = _msg_frame()
    path = tmp_path / "frame.b64"
    path.write_text(base64.b64encode(frame).decode())
    done = run("decode", "--base64", str(path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"WebcastPushFrame: {len(frame)} bytes\n")
    for text in (
        'payload_type (7): "msg"',
        'key (1): "compress_type"',
        "→ ProtoMessageFetchResult",
        'method (1): "WebcastMemberMessage"',
        "→ WebcastMemberMessage",
        'nickname (3): "Zoë 🦋"',
        "scene_type (3): 1",
        'content (3): "hi 👋"',
        "need_ack (9): True",
    ):
        assert text in out, f"{text!r} missing:\n{out}"


def test_a_fetch_body_from_stdin_as_hex_in_a_process() -> None:
    """``-`` reads stdin; ``--hex`` takes hex text with any spacing."""
    body = _recorded(Direction.IN, WireKind.FETCH)
    hex_text = body.hex(" ", 4).encode()
    done = run("decode", "-", "--hex", stdin=hex_text)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ProtoMessageFetchResult:")
    assert 'method (1): "WebcastLiveIntroMessage"' in done.stdout
    assert "push_server (" in done.stdout
    assert "route_params (" in done.stdout


def test_client_frames_decode_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The enter-room frame's payload by its type; an ack's payload is the text it echoes."""
    enter = _decode(capsys, monkeypatch, _recorded(Direction.OUT, WireKind.WS, 0))
    assert 'payload_type (7): "im_enter_room"' in enter
    assert "→ WebcastImEnterRoomMessage" in enter
    assert "room_id (1): 7000000000000000042" in enter
    ack = codec.encode_ack(42, "internal_src:dim|seq:1")
    out = _decode(capsys, monkeypatch, ack)
    assert 'payload (8): 22 bytes → "internal_src:dim|seq:1"' in out
    heartbeat = _decode(capsys, monkeypatch, codec.encode_heartbeat(7, 3))
    assert "→ HeartBeatMessage" in heartbeat


def test_unknown_fields_and_methods_are_shown_by_number(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fields the schema lacks: by number and wire type; text as text, a nested message guessed,
    else hex. A method without schema: its payload's fields by number."""
    chat = fx.chat("known").SerializeToString()
    nested = pb.HeartBeatMessage(room_id=5).SerializeToString()
    extra = (
        b"\xa0\x1f\x07"  # 500: varint 7
        + b"\xaa\x1f\x02hi"  # 501: bytes "hi"
        + b"\xb2\x1f" + bytes([len(nested)]) + nested  # 502: a message
        + b"\xba\x1f\x03\x00\xff\xfe"  # 503: bytes that are neither
        + b"\xc5\x1f\x01\x00\x00\x00"  # 504: fixed32
    )  # fmt: skip
    result = pb.ProtoMessageFetchResult(
        cursor="c",
        messages=[
            pb.BaseProtoMessage(method="WebcastChatMessage", payload=chat + extra, msg_id=1),
            pb.BaseProtoMessage(method="WebcastBrandNewMessage", payload=b"\x08\x01\x12\x05hello", msg_id=2),
        ],
    )
    out = _decode(capsys, monkeypatch, codec.encode_fetch_result(result))
    assert 'content (3): "known"' in out
    assert "#500 varint: 7" in out
    assert '#501 bytes: "hi"' in out
    assert "#502 bytes: 2 bytes, a message?" in out
    assert "#1 varint: 5" in out
    assert "#503 bytes: 00 ff fe" in out
    assert "#504 fixed32: 1" in out
    assert "(no schema for 'WebcastBrandNewMessage')" in out
    assert '#2 bytes: "hello"' in out


def test_what_the_bytes_are_is_detected() -> None:
    """Frames parse as frames with a payload type; gzip and fetch results are bodies."""
    frame = _msg_frame()
    body = _recorded(Direction.IN, WireKind.FETCH)
    assert detect(frame) == "frame"
    assert detect(body) == "fetch"
    assert detect(codec.gzip_compress(body)) == "fetch"
    assert detect(b"\xff\xff") == "fetch"


def test_garbage_and_bad_encodings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Bytes that are neither: exit 1 naming what was tried; bad hex or base64, a missing file: 2."""
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\xff\xff\xff\xffnot protobuf")
    assert main(["decode", str(garbage)]) == 1
    assert "not a fetch body (16 bytes)" in capsys.readouterr().err
    bad = tmp_path / "bad.hex"
    bad.write_text("zz")
    assert main(["decode", "--hex", str(bad)]) == 2
    assert "not hex" in capsys.readouterr().err
    assert main(["decode", "--base64", str(bad)]) == 2
    assert main(["decode", str(tmp_path / "missing")]) == 2
    assert "cannot read" in capsys.readouterr().err
    frame = tmp_path / "frame.bin"
    frame.write_bytes(codec.encode_push_frame(payload_type="msg", payload=b"\xff\xff"))
    assert main(["decode", str(frame), "--as", "frame"]) == 0
    assert "not decodable" in capsys.readouterr().out
