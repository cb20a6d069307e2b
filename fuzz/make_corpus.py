"""Write the seed corpus of every fuzz target, built by the fixture builders: ``python fuzz/make_corpus.py``.

Seeds are valid traffic (SPEC.md's shapes, via ``webcast_proto.fixtures`` and the codec's encoders)
plus a few inputs just past each fuzz limit, so the fuzzer starts from deep, meaningful inputs rather
than from nothing. The output is deterministic: running it again writes the same files, and
``--check`` fails when the committed corpus differs from what this script writes.

The corpus is committed (``fuzz/corpus/<target>/<name>``, a few hundred KiB at most) so a CI smoke run
starts from it; inputs a campaign discovers stay in ``fuzz/.work/`` and are not committed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from targets import CONVERT_METHODS, Op, encode_http_case, encode_ops  # after sys.path

from webcast_proto import codec
from webcast_proto import fixtures as fx
from webcast_proto._pb import webcast_pb2 as pb

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOM_ID = fx.DEFAULT_ROOM_ID
HOST_ID = fx.HOST_USER_ID


def _messages() -> list[fx.WebcastMessage]:
    """One message of each modelled type, with the variants the converters branch on."""
    return [
        fx.chat(),
        fx.chat("emote [x]", emotes=[fx.chat_emote()], at_user=fx.user(nickname="Łukasz")),
        fx.member(),
        fx.gift(),
        fx.gift(repeat_count=5, repeat_end=True),
        fx.room_user_seq(),
        fx.like(),
        fx.social_follow(),
        fx.social_share(),
        fx.emote_chat(),
        fx.envelope(),
        fx.question_new(),
        fx.link_mic_battle(),
        fx.link_mic_armies(),
        fx.live_intro(),
        fx.sub_notify(),
        fx.control(action=1),
        fx.control(action=3),
    ]


def _result(messages: Sequence[pb.BaseProtoMessage | fx.WebcastMessage], **kwargs: Any) -> bytes:
    """A serialized fetch result: :func:`webcast_proto.fixtures.fetch_result` with ``kwargs``."""
    return codec.encode_fetch_result(fx.fetch_result(messages, **kwargs))


def seeds_gunzip() -> Iterator[tuple[str, bytes]]:
    yield "fetch_result", codec.gzip_compress(_result(fx.realistic_mix(10)))
    yield "empty", codec.gzip_compress(b"")
    yield "stored", codec.gzip_compress(b"webcast" * 20, level=0)
    yield "past_limit", codec.gzip_compress(bytes(300 * 1024), level=9)  # inflates past the fuzz limit


def seeds_push_frame() -> Iterator[tuple[str, bytes]]:
    yield "msg_gzip", fx.message_frame(fx.realistic_mix(8, seed=1))
    yield "msg_plain", fx.message_frame(fx.realistic_mix(3, seed=2), compress=False)
    yield "msg_every_type", fx.message_frame(_messages())
    yield "msg_stream_end", fx.message_frame([fx.chat(), fx.control(action=3)])
    yield "hb", fx.push_frame("hb")
    yield "enter_room_resp", fx.push_frame("im_enter_room_resp")
    yield "close", fx.push_frame("close")
    yield "ack", codec.encode_ack(7, "internal_src:dim|seq:1")
    yield (
        "headers_past_limit",
        codec.encode_push_frame(payload_type="msg", headers=[(f"h{i}", "v") for i in range(9)]),
    )
    yield (
        "gzip_header_plain_payload",
        codec.encode_push_frame(
            payload_type="msg", payload=_result([fx.chat()]), headers=[("compress_type", "gzip")]
        ),
    )


def seeds_fetch_result() -> Iterator[tuple[str, bytes]]:
    yield "initial_ws", _result(fx.realistic_mix(12, seed=3), is_first=True)
    yield "initial_ws_gzip", codec.gzip_compress(_result(fx.realistic_mix(12, seed=4), is_first=True))
    yield "poll", _result([fx.chat(), fx.like()], push_server="", fetch_type=2)
    yield "every_type", _result(_messages())
    yield "empty", _result([])
    yield "route_params_past_limit", _result([fx.chat()], route_params={f"k{i}": "v" for i in range(9)})
    envelopes = [pb.BaseProtoMessage(method="WebcastChatMessage", msg_id=i + 1) for i in range(65)]
    yield "messages_past_limit", _result(envelopes)


def seeds_convert() -> Iterator[tuple[str, bytes]]:
    for index, message in enumerate(_messages()):
        method = type(message).DESCRIPTOR.name
        yield f"{index:02d}_{method}", bytes((CONVERT_METHODS.index(method),)) + message.SerializeToString()
    yield "unknown_method", b"\xf0" + fx.chat().SerializeToString()


def seeds_server() -> Iterator[tuple[str, bytes]]:
    yield "enter_room", b"\x00" + codec.encode_enter_room(ROOM_ID)
    yield "heartbeat", b"\x00" + codec.encode_heartbeat(ROOM_ID, 1)
    yield "ack", b"\x00" + codec.encode_ack(7, "internal_src:dim|seq:1")
    yield "ack_empty", b"\x00" + codec.encode_ack(7, "")
    yield "other_room", b"\x00" + codec.encode_heartbeat(ROOM_ID + 1, 1)
    fetch = f"https://webcast.tiktok.com/webcast/im/fetch/?aid=1988&room_id={ROOM_ID}&cursor=&internal_ext="
    yield "fetch_request", b"\x01" + fetch.encode()
    yield "fetch_request_cursor", b"\x01" + (fetch + "&cursor=t-1_r-1").encode()
    socket = (
        f"wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/?room_id={ROOM_ID}&cursor=c"
    )
    yield "websocket_url", b"\x02" + socket.encode()


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


_JSON = [("Content-Type", "application/json")]
_HTML = [("Content-Type", "text/html; charset=utf-8")]


def seeds_http() -> Iterator[tuple[str, bytes]]:
    user = {
        "id": str(HOST_ID),
        "uniqueId": "someone",
        "nickname": "Some One",
        "roomId": str(ROOM_ID),
        "status": 2,
    }
    live_room = {"status": 2, "title": "hello", "startTime": 1734000000, "liveRoomStats": {"userCount": 5}}
    sigi = {"LiveRoom": {"liveRoomUserInfo": {"user": user, "liveRoom": live_room}}}
    page = (
        '<!DOCTYPE html><html><head><meta property="og:url" content="https://www.tiktok.com/@someone/live">'
        f'</head><body><script id="SIGI_STATE" type="application/json">{json.dumps(sigi)}</script>'
        "</body></html>"
    )
    owner = {"id": HOST_ID, "id_str": str(HOST_ID), "display_id": "someone", "nickname": "Some One"}
    owner["avatar_thumb"] = {"url_list": ["https://p16-sign/a.webp"]}
    room = {
        "id": ROOM_ID,
        "id_str": str(ROOM_ID),
        "status": 2,
        "title": "hi",
        "user_count": 3,
        "owner": owner,
    }
    room["stream_url"] = {"hls_pull_url": "https://pull/x.m3u8"}
    gifts = [
        {
            "id": gift_id,
            "name": name,
            "diamond_count": diamonds,
            "type": kind,
            "image": {"url_list": ["https://g"]},
        }
        for gift_id, (name, diamonds, kind) in fx.GIFTS.items()
    ]
    alive = [{"alive": True, "room_id": ROOM_ID, "room_id_str": str(ROOM_ID)}]
    chat_ok = {"data": {"content": "hi", "msg_id": 1}, "extra": {"now": 1}, "status_code": 0}
    signed = {
        "signedUrl": "https://webcast.tiktok.com/webcast/im/fetch/?msToken=abc&X-Bogus=1",
        "userAgent": "UA",
    }
    cases: list[tuple[str, str, int, list[tuple[str, str]], bytes]] = [
        ("room_info", "room_info", 200, _JSON, _json({"data": room, "extra": {"now": 1}, "status_code": 0})),
        (
            "room_info_ended",
            "room_info",
            200,
            _JSON,
            _json({"data": {**room, "status": 4}, "status_code": 0}),
        ),
        ("room_info_age", "room_info_any", 200, _JSON, _json({"data": {"prompts": "18+"}, "status_code": 0})),
        (
            "room_info_api_error",
            "room_info",
            200,
            _JSON,
            _json({"data": {"message": "x"}, "status_code": 20003}),
        ),
        ("check_alive", "check_alive", 200, _JSON, _json({"data": alive, "status_code": 0})),
        ("gift_list", "gift_list", 200, _JSON, _json({"data": {"gifts": gifts}, "status_code": 0})),
        ("send_chat", "send_chat", 200, _JSON, _json(chat_ok)),
        (
            "room_id_api",
            "room_id_api",
            200,
            _JSON,
            _json({"data": {"user": user, "liveRoom": live_room}, "statusCode": 0}),
        ),
        ("room_id_api_not_found", "room_id_api", 200, _JSON, _json({"data": {}, "statusCode": 19881007})),
        ("live_page", "live_page", 200, _HTML, page.encode()),
        ("live_page_legacy", "live_page_legacy", 200, _HTML, page.encode()),
        ("fetch", "fetch", 200, [("Content-Type", "application/protobuf")], _result([fx.chat()])),
        ("fetch_html", "fetch", 200, _HTML, b"<html>blocked</html>"),
        ("handshake", "handshake", 101, [("Handshake-Options", "ping-interval=10;compress=gzip")], b""),
        ("handshake_refused", "handshake", 200, [("Handshake-Msg", "illegal secret key")], b""),
        ("rate_limited", "retry_after", 429, [("Retry-After", "30"), ("X-RateLimit-Reset", "12")], b""),
        (
            "euler_sign",
            "euler_sign",
            200,
            _JSON,
            _json({"code": 200, "response": {**signed, "tokens": {"a": "b"}}}),
        ),
        (
            "euler_sign_429",
            "euler_sign",
            429,
            [*_JSON, ("X-RateLimit-Reset", "42")],
            _json({"message": "slow"}),
        ),
        (
            "euler_fetch",
            "euler_fetch",
            200,
            [("X-Set-TT-Cookie", "ttwid=1; tt_csrf=2"), ("X-Room-Id", str(ROOM_ID))],
            _result([fx.chat()]),
        ),
        (
            "euler_room_id",
            "euler_room_id",
            200,
            _JSON,
            _json({"ok": True, "room_id": str(ROOM_ID), "is_live": True}),
        ),
        ("euler_chat", "euler_chat", 200, _JSON, _json(chat_ok)),
        ("legacy_sign", "legacy_sign", 200, _JSON, _json({**signed, "User-Agent": "UA", "msToken": "abc"})),
        ("server_error", "gift_list", 503, _JSON, _json({"message": "down"})),
        ("deep_json", "gift_list", 200, _JSON, b'{"data":' + b"[" * 20 + b"]" * 20 + b"}"),
    ]
    for name, parser, status, headers, body in cases:
        yield name, encode_http_case(parser, status, headers, body)


def seeds_connection() -> Iterator[tuple[str, bytes]]:
    initial = _result(fx.realistic_mix(6, seed=5), cursor="t-1_r-1", is_first=True)
    frames = [fx.message_frame(fx.realistic_mix(4, seed=10 + i)) for i in range(3)]
    poll = _result([fx.chat()], push_server="", cursor="t-2_r-1", fetch_type=2)
    yield (
        "websocket_session",
        encode_ops(
            [
                Op("start"),
                Op("receive_fetch_response", initial),
                Op("websocket_opened", advance=0.5),
                *(Op("receive_ws_message", frame, 1.0) for frame in frames),
                Op("receive_ws_message", fx.push_frame("hb"), 1.0),
                Op("tick", advance=10.0),
                Op("websocket_closed", advance=1.0),
                Op("start"),
                Op("receive_fetch_response", initial),
                Op("websocket_opened"),
                Op("receive_ws_message", fx.message_frame([fx.chat(), fx.control(action=3)]), 1.0),
            ]
        ),
    )
    yield (
        "polling_session",
        encode_ops(
            [
                Op("start"),
                Op("receive_fetch_response", poll),
                Op("tick", advance=2.0),
                Op("request_to_send"),
                Op("receive_fetch_response", _result([fx.like()], push_server="", cursor="")),
                Op("tick", advance=2.0),
                Op("fetch_failed"),
                Op("start"),
                Op("receive_fetch_response", b"garbage"),
            ]
        ),
    )
    yield (
        "liveness_timeout",
        encode_ops(
            [
                Op("start"),
                Op("receive_fetch_response", initial),
                Op("websocket_opened"),
                Op("tick", advance=63.0),
            ]
        ),
    )


def seeds_proto() -> Iterator[tuple[str, bytes]]:
    yield "every_type", _result(_messages())
    yield "mix", _result(fx.realistic_mix(25, seed=7))
    yield "stream_end", _result([fx.chat(), fx.control(action=3), fx.like()])
    yield "no_need_ack", _result([fx.gift()], need_ack=False, cursor="", internal_ext="")


SEEDS = {
    "gunzip": seeds_gunzip,
    "push_frame": seeds_push_frame,
    "fetch_result": seeds_fetch_result,
    "convert": seeds_convert,
    "server": seeds_server,
    "http": seeds_http,
    "connection": seeds_connection,
    "proto": seeds_proto,
}


def build() -> dict[Path, bytes]:
    """Every seed file, by path."""
    return {CORPUS / target / name: data for target, seeds in SEEDS.items() for name, data in seeds()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed corpus is not what this writes"
    )
    args = parser.parse_args(argv)
    files = build()
    existing = {path for path in CORPUS.rglob("*") if path.is_file()} if CORPUS.exists() else set()
    stale = sorted(str(p) for p in existing - files.keys())
    changed = sorted(str(p) for p, data in files.items() if not p.exists() or p.read_bytes() != data)
    if args.check:
        if stale or changed:
            sys.stderr.write(f"fuzz corpus is out of date: {len(changed)} changed, {len(stale)} stale\n")
            return 1
        sys.stdout.write(f"fuzz corpus is up to date ({len(files)} files)\n")
        return 0
    for path in existing - files.keys():
        path.unlink()
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    total = sum(map(len, files.values()))
    sys.stdout.write(f"wrote {len(files)} seed files ({total // 1024} KiB) under {CORPUS}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
