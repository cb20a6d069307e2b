"""Interop: independent clients of the ecosystem against the mock server (ISSUE: "a test server for
the whole ecosystem"). TikTokLive (PyPI, the ``interop`` extra) and, where node and the package are
present, TikTok-Live-Connector (npm) connect through their sign-server setting, receive every
chat, gift and like of a scenario with the same ids and texts, and the server records their
enter-room, heartbeats and acks. Their decoders are not ours, so this checks our server-side
encoding; skipped where the clients are not installed."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from webcast_proto._pb import webcast_pb2 as pb
from webcast_transports.mock import (
    Ack,
    EnterRoom,
    Heartbeat,
    MockWebcastServer,
    Options,
    Room,
    Violation,
    WsOpened,
    builtin_scenario,
)

SPEED = 20  # lively's 60 s in 3 s
OPTIONS = Options(speed=SPEED, heartbeat_interval=0.2)  # ping-interval=0.2: [TL] heartbeats often


def _expected(kind: str) -> dict[int, str]:
    """msg_id → text (chat) or method (gift, like) of every message of that kind in ``lively``."""
    method = {"chat": "WebcastChatMessage", "gift": "WebcastGiftMessage", "like": "WebcastLikeMessage"}[kind]
    out = {}
    for message in builtin_scenario("lively").messages():
        if message.method == method:
            out[message.msg_id] = (
                pb.WebcastChatMessage.FromString(message.payload).content if kind == "chat" else method
            )
    return out


def _check_server_side(server: MockWebcastServer, room_id: int, *, heartbeats: bool = True) -> None:
    """What the client sent: one enter-room for the room, heartbeats 1, 2, 3 … (when the run is
    long enough for them), every ack valid."""
    assert not server.recorder.of(Violation), server.recorder.of(Violation)[:3]
    (enter,) = server.recorder.of(EnterRoom)
    assert enter.enter_room_id == room_id
    beats = server.recorder.of(Heartbeat)
    assert bool(beats) or not heartbeats
    assert [b.send_packet_seq_id for b in beats] == list(range(1, len(beats) + 1))
    assert {b.hb_room_id for b in beats} <= {room_id}
    acks = server.recorder.of(Ack)
    assert acks
    assert all(a.is_valid for a in acks)
    assert len({a.log_id for a in acks}) == len(acks)


def test_tiktoklive_receives_the_scenario() -> None:
    """TikTokLive 7 (Python): room id from the live page, live check, room info, gifts, first fetch
    by its sign server, then the socket; it gets every chat, gift and like with our ids and texts."""
    # Imported by name: TikTokLive is untyped, and absent where the interop extra is not installed.
    tiktoklive: Any = pytest.importorskip("TikTokLive", reason="the interop extra is not installed")
    defaults: Any = importlib.import_module("TikTokLive.client.web.web_settings").WebDefaults
    events: Any = importlib.import_module("TikTokLive.events")

    saved = (defaults.tiktok_app_url, defaults.tiktok_sign_url, defaults.tiktok_webcast_url)
    chats: dict[int, str] = {}
    gifts: set[int] = set()
    likes: set[int] = set()
    ended: list[bool] = []

    async def on_chat(event: Any) -> None:
        chats[event.common.msg_id] = event.comment

    async def on_gift(event: Any) -> None:
        gifts.add(event.common.msg_id)

    async def on_like(event: Any) -> None:
        likes.add(event.common.msg_id)

    async def on_end(event: Any) -> None:
        ended.append(True)

    async def watch() -> None:
        client = tiktoklive.TikTokLiveClient(unique_id="@lively.host")
        client.add_listener(events.CommentEvent, on_chat)
        client.add_listener(events.GiftEvent, on_gift)
        client.add_listener(events.LikeEvent, on_like)
        client.add_listener(events.LiveEndEvent, on_end)
        try:
            await asyncio.wait_for(client.connect(fetch_room_info=True, fetch_gift_info=True), timeout=30)
        finally:
            await client.disconnect()
            await client.web.close()
            # The sign server's HTTP client is the SDK's own; TikTokLive leaves it open.
            await client.web.signer.sdk_client.get_async_httpx_client().aclose()

    try:
        with MockWebcastServer([Room("lively.host", scenario="lively")], options=OPTIONS) as server:
            defaults.tiktok_app_url = server.base_url
            defaults.tiktok_sign_url = server.base_url
            defaults.tiktok_webcast_url = f"{server.base_url}/webcast"
            asyncio.run(watch())
            room_id = server.room("lively.host").room_id
            _check_server_side(server, room_id)
            (opened,) = server.recorder.of(WsOpened)
    finally:
        defaults.tiktok_app_url, defaults.tiktok_sign_url, defaults.tiktok_webcast_url = saved
    assert chats == _expected("chat")
    assert gifts == set(_expected("gift"))
    assert likes == set(_expected("like"))
    assert ended == [True]
    assert opened.subprotocol == "echo-protocol"
    assert opened.param("version_code") == "180800"


CONNECTOR_SCRIPT = r"""
import { TikTokLiveConnection, WebcastEvent, ControlEvent } from '__CONNECTOR__';
const got = { chat: {}, gift: [], like: [], end: 0 };
// Given a room id and no room-info fetch, the connector only talks to its sign server (SIGN_API_URL,
// plain http on loopback) and then to the push_server it is handed (SPEC.md §2.6).
const connection = new TikTokLiveConnection(process.argv[2], {
    processInitialData: true, fetchRoomInfoOnConnect: false, enableExtendedGiftInfo: false,
});
connection.on(WebcastEvent.CHAT, (m) => { got.chat[String(m.common.msgId)] = m.content; });
connection.on(WebcastEvent.GIFT, (m) => { got.gift.push(String(m.common.msgId)); });
connection.on(WebcastEvent.LIKE, (m) => { got.like.push(String(m.common.msgId)); });
connection.on(WebcastEvent.STREAM_END, () => { got.end += 1; });
connection.on(ControlEvent.DISCONNECTED, () => {
    setTimeout(() => { console.log(JSON.stringify(got)); process.exit(0); }, 100);
});
connection.connect(process.argv[3]).catch((e) => {
    console.error(String((e && e.stack) || e));
    process.exit(2);
});
setTimeout(() => { console.error('timeout'); process.exit(3); }, 30000);
"""


def _connector_entry() -> str | None:
    """The file URL of tiktok-live-connector's ES module, installed under $WEBCAST_CONNECTOR_DIR
    (``npm install tiktok-live-connector@2`` there), or ``None``."""
    path = os.environ.get("WEBCAST_CONNECTOR_DIR")
    package = Path(path or ".") / "node_modules" / "tiktok-live-connector"
    if not path or not (package / "package.json").is_file():
        return None
    exports = json.loads((package / "package.json").read_text())["exports"]["."]
    return (package / str(exports["default"])).resolve().as_uri()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_tiktok_live_connector_receives_the_scenario(tmp_path: Path) -> None:
    """TikTok-Live-Connector 2 (node), pointed at the mock by SIGN_API_URL and given the room id."""
    entry = _connector_entry()
    if entry is None:
        pytest.skip("set WEBCAST_CONNECTOR_DIR to a directory with node_modules/tiktok-live-connector")
    script = tmp_path / "interop.mjs"
    script.write_text(CONNECTOR_SCRIPT.replace("__CONNECTOR__", entry))
    with MockWebcastServer([Room("lively.host", scenario="lively")], options=OPTIONS) as server:
        env = {**os.environ, "SIGN_API_URL": server.base_url}
        room_id = str(server.room("lively.host").room_id)
        done = subprocess.run(
            ["node", str(script), "lively.host", room_id],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        got = json.loads(done.stdout.strip().splitlines()[-1])
        # [C2] beats every 10 s (it does not read Handshake-Options): none in this 3 s run.
        _check_server_side(server, server.room("lively.host").room_id, heartbeats=False)
    assert got["end"] == 1
    assert {int(k): v for k, v in got["chat"].items()} == _expected("chat")
    assert {int(i) for i in got["gift"]} == set(_expected("gift"))
    assert {int(i) for i in got["like"]} == set(_expected("like"))
