"""Decode throughput: websocket bytes → typed events, next to the floor and to the peers.

Run: ``python -m benchmarks.decode [--frames N] [--repeat R] [--peer-repeat P] [--connector-dir DIR]``

Traffic is a realistic mix built by the fixture builders (``fixtures.realistic_mix``: chat, like and
member most common; gifts with streaks, viewer counts and social less often), cut into frames of
1-40 messages, gzip'd as TikTok sends them. Each line of the table decodes the same frames:

* ``floor: frame+gunzip+result`` — upb parses the push frame, zlib inflates the payload, upb parses
  the fetch result. The least any client must do (with the standard library).
* ``floor: …, zlib-ng inflate`` — the same with zlib-ng inflating (when it is installed: the ``fast``
  and ``bench`` extras), ~0.5 µs/msg less.
* ``floor: + typed payloads`` — also parses every message payload into its protobuf class.
* ``webcast: decode_push_frame`` — the stateless helper: bytes → every event, fields derived.
* ``webcast: connection, all`` — the real path: a streaming ``ClientConnection`` fed each frame
  (``receive_ws_message``: dedup window, ack, cursor) and drained (``data_to_send``).
* ``webcast: connection, all, new users`` — the same, on frames whose users are never seen in
  another frame (each frame is a mix of its own): what a room whose viewers do not come back costs.
* ``webcast: connection, chat only`` — the same with ``wanted_methods={"WebcastChatMessage"}``, what
  the client asks for when only ``chat`` handlers are registered: other methods are dropped before
  their payload is parsed.
* ``webcast, zlib-ng: …`` — when zlib-ng is installed, the webcast lines run twice: first with the
  standard library's zlib (as the floor), then as installed with the ``fast`` extra, which
  ``webcast_proto.codec`` picks up (``codec.INFLATER``).
* ``TikTokLive 7.0.1`` — PyPI's TikTokLive, its own frame → event path without the network: betterproto
  parses the frame (``WebcastPushFrame().parse``), ``extract_webcast_response_message`` inflates and
  parses the fetch result, then ``TikTokLiveClient._parse_webcast_response`` makes its events (as its
  websocket loop does, handlers aside). It has no per-method filter, so chat only costs the same.
* ``TikTok-Live-Connector 2.5.0`` (node) — ``deserializeWebSocketMessage`` (frame, gunzip through
  node's zlib, fetch result and every payload, protobufjs), then
  ``TikTokLiveConnection.processProtoMessageFetchResult`` (its events, one ``chat`` listener);
  chat only sets ``WebcastDeserializeConfig.includeMessageTypes``. It runs in node over the same
  frames, written to a temporary file; node and the package must be installed (``npm install
  --prefix DIR tiktok-live-connector@2.5.0``).

Ratios: ``× floor`` is the time over the first floor line (zlib); ``× floor, same inflater`` puts
the zlib-ng lines over the zlib-ng floor; ``× webcast`` is a peer's time over webcast's on the same
work (connection, all events; chat only for chat only; webcast with zlib). Timing is the best of
``--repeat`` runs (``--peer-repeat`` for the peers, which are much slower).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._common import best_of, package_version, report, table, write_readme
from webcast_proto import codec, decode_push_frame, fixtures
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.connection import ClientConnection, UpgradeToWebSocket
from webcast_proto.convert import default_registry

zlib_ng: ModuleType | None
try:
    from zlib_ng import zlib_ng
except ImportError:  # the `fast` or `bench` extra is not installed: zlib lines only
    zlib_ng = None

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Sequence
    from types import ModuleType

    from google.protobuf.message import Message

# Frame sizes cycle through this pattern: mostly small frames, some busy ones (1-40 messages).
FRAME_SIZES = (1, 3, 8, 2, 15, 5, 40, 4, 1, 25, 6, 12)
CHAT = "WebcastChatMessage"
ROOT = Path(__file__).resolve().parent.parent

PAYLOAD_CLASSES: dict[str, type[Message]] = {
    "WebcastChatMessage": pb.WebcastChatMessage,
    "WebcastMemberMessage": pb.WebcastMemberMessage,
    "WebcastGiftMessage": pb.WebcastGiftMessage,
    "WebcastRoomUserSeqMessage": pb.WebcastRoomUserSeqMessage,
    "WebcastLikeMessage": pb.WebcastLikeMessage,
    "WebcastSocialMessage": pb.WebcastSocialMessage,
    "WebcastEmoteChatMessage": pb.WebcastEmoteChatMessage,
    "WebcastEnvelopeMessage": pb.WebcastEnvelopeMessage,
    "WebcastQuestionNewMessage": pb.WebcastQuestionNewMessage,
    "WebcastLinkMicBattle": pb.WebcastLinkMicBattle,
    "WebcastLinkMicArmies": pb.WebcastLinkMicArmies,
    "WebcastLiveIntroMessage": pb.WebcastLiveIntroMessage,
    "WebcastSubNotifyMessage": pb.WebcastSubNotifyMessage,
    "WebcastControlMessage": pb.WebcastControlMessage,
}


def build_frames(n_frames: int, *, seed: int = 0, new_users: bool = False) -> tuple[list[bytes], int]:
    """``n_frames`` gzip'd "msg" frames of a realistic mix, and the number of messages they carry.

    The mix's viewers are a pool of 40 (one room's regulars); with ``new_users`` each frame has its own
    pool (the mix of seed ``seed + i``), so no user of one frame is seen in another.
    """
    sizes = [FRAME_SIZES[i % len(FRAME_SIZES)] for i in range(n_frames)]
    messages = fixtures.realistic_mix(sum(sizes), seed=seed)
    frames: list[bytes] = []
    start = 0
    for i, size in enumerate(sizes):
        if new_users:
            batch = fixtures.realistic_mix(size, seed=seed + 1 + i)
        else:
            batch = messages[start : start + size]
        start += size
        result = fixtures.fetch_result(batch, cursor=f"t-{i}", internal_ext=f"seq:{i}", need_ack=True)
        frames.append(codec.encode_message_frame(result, log_id=i + 1, compress=True))
    return frames, len(messages)


# -- the floor --------------------------------------------------------------------------------


def floor_result(frames: Sequence[bytes], lib: ModuleType = zlib) -> int:
    """Bare upb parse of the frame, inflate (zlib, or ``lib``), upb parse of the fetch result."""
    count = 0
    decompress = lib.decompress
    for data in frames:
        frame = pb.WebcastPushFrame.FromString(data)
        result = pb.ProtoMessageFetchResult.FromString(decompress(frame.payload, 31))
        count += len(result.messages)
    return count


@contextlib.contextmanager
def inflating_with(lib: ModuleType) -> Iterator[None]:
    """webcast_proto.codec inflating with ``lib`` (zlib or zlib-ng) for a while."""
    saved = codec._INFLATE_LIB
    codec._INFLATE_LIB = lib
    try:
        yield
    finally:
        codec._INFLATE_LIB = saved


def floor_typed(frames: Sequence[bytes]) -> int:
    """The floor plus parsing every message payload into its protobuf class."""
    count = 0
    classes = PAYLOAD_CLASSES
    for data in frames:
        frame = pb.WebcastPushFrame.FromString(data)
        result = pb.ProtoMessageFetchResult.FromString(zlib.decompress(frame.payload, 31))
        for message in result.messages:
            classes[message.method].FromString(message.payload)
            count += 1
    return count


# -- webcast ----------------------------------------------------------------------------------


def webcast_stateless(frames: Sequence[bytes]) -> int:
    """decode_push_frame: every message to its event."""
    registry = default_registry()
    count = 0
    for data in frames:
        count += len(decode_push_frame(data, registry=registry))
    return count


NOW = 1000.0


def streaming_connection(wanted_methods: Collection[str] | None) -> ClientConnection:
    """A client connection with its socket open, as the driver has it once the first fetch said upgrade."""
    conn = ClientConnection(room_id=fixtures.DEFAULT_ROOM_ID, wanted_methods=wanted_methods)
    conn.start()
    first = fixtures.fetch_result([], is_first=True).SerializeToString()
    _, instruction = conn.receive_fetch_response(first, NOW)
    assert isinstance(instruction, UpgradeToWebSocket)
    conn.websocket_opened(NOW)
    conn.data_to_send()
    return conn


def webcast_connection(
    wanted_methods: Collection[str] | None,
) -> Callable[[Sequence[bytes]], Callable[[], int]]:
    """Frames through a fresh streaming connection (each run: the dedup window starts empty)."""

    def prepare(frames: Sequence[bytes]) -> Callable[[], int]:
        conn = streaming_connection(wanted_methods)

        def run() -> int:
            count = 0
            receive, drain = conn.receive_ws_message, conn.data_to_send
            for data in frames:
                count += len(receive(data, NOW))
                drain()
            return count

        return run

    return prepare


# -- the peers --------------------------------------------------------------------------------


def tiktoklive_run(frames: Sequence[bytes]) -> Callable[[], int] | None:
    """TikTokLive's frame → event path over ``frames``, or ``None`` when it is not installed."""
    try:
        # Imported by name: untyped, and only there with the bench extra.
        client_mod: Any = importlib.import_module("TikTokLive")
        ws_utils: Any = importlib.import_module("TikTokLive.client.ws.ws_utils")
        proto: Any = importlib.import_module("TikTokLive.proto")
    except ImportError:
        return None
    client = client_mod.TikTokLiveClient(unique_id="@bench")
    client._room_id = fixtures.DEFAULT_ROOM_ID  # set by connect(); _parse_webcast_response reads it
    push_frame, extract = proto.WebcastPushFrame, ws_utils.extract_webcast_response_message

    async def decode_all() -> int:
        count = 0
        for data in frames:
            frame = push_frame().parse(data)
            if frame.payload_type != "msg":
                continue
            async for _ in client._parse_webcast_response(extract(frame)):
                count += 1
        return count

    return lambda: asyncio.run(decode_all())


NODE_SCRIPT = r"""
import { readFileSync } from 'node:fs';
const [entry, path, repeatArg] = process.argv.slice(2);
const { TikTokLiveConnection, deserializeWebSocketMessage, WebcastDeserializeConfig } = await import(entry);
const buf = readFileSync(path);
const frames = [];
for (let pos = 0; pos < buf.length;) {
    const len = buf.readUInt32LE(pos);
    frames.push(buf.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
}
const connection = new TikTokLiveConnection('bench', {
    processInitialData: false, fetchRoomInfoOnConnect: false, enableExtendedGiftInfo: false,
});
let chats = 0;
connection.on('chat', () => { chats += 1; });
async function once() {
    let messages = 0;
    const start = process.hrtime.bigint();
    for (const frame of frames) {
        const decoded = await deserializeWebSocketMessage(frame);
        const result = decoded.protoMessageFetchResult;
        if (result) {
            messages += result.messages.length;
            await connection.processProtoMessageFetchResult(result);
        }
    }
    return [Number(process.hrtime.bigint() - start) / 1e9, messages];
}
const out = {};
for (const [name, include] of [['all', null], ['chat', ['WebcastChatMessage']]]) {
    WebcastDeserializeConfig.includeMessageTypes = include;
    let best = Infinity, messages = 0;
    for (let i = 0; i < Number(repeatArg); i++) {
        const [seconds, n] = await once();
        best = Math.min(best, seconds);
        messages = n;
    }
    out[name] = { seconds: best, messages };
}
out.chats = chats;
console.log(JSON.stringify(out));
"""


def connector_entry(directory: Path) -> str | None:
    """The file URL of tiktok-live-connector's ES module under ``directory``/node_modules, or ``None``."""
    package = directory / "node_modules" / "tiktok-live-connector"
    if not (package / "package.json").is_file():
        return None
    exports = json.loads((package / "package.json").read_text())["exports"]["."]
    return (package / str(exports["default"])).resolve().as_uri()


def connector_times(frames: Sequence[bytes], directory: Path, repeat: int) -> dict[str, float] | str:
    """Seconds for all events and for chat only in TikTok-Live-Connector, or why it did not run."""
    if shutil.which("node") is None:
        return "node is not installed"
    entry = connector_entry(directory)
    if entry is None:
        return f"tiktok-live-connector is not installed under {directory}"
    with tempfile.TemporaryDirectory() as tmp:
        frames_file = Path(tmp) / "frames.bin"
        frames_file.write_bytes(b"".join(struct.pack("<I", len(f)) + f for f in frames))
        script = Path(tmp) / "bench.mjs"
        script.write_text(NODE_SCRIPT)
        done = subprocess.run(
            ["node", str(script), entry, str(frames_file), str(repeat)],
            capture_output=True, text=True, timeout=1800, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        return f"node failed: {done.stderr.strip()[-300:]}"
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {"all": out["all"]["seconds"], "chat": out["chat"]["seconds"]}


def node_version() -> str:
    """``node --version``, or ``"-"``."""
    if shutil.which("node") is None:
        return "-"
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()


# -- the table --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, and write it to README.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=1200, help="frames of the mix (12: 122 messages)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--peer-repeat", type=int, default=3)
    parser.add_argument(
        "--connector-dir",
        type=Path,
        default=Path(os.environ.get("WEBCAST_CONNECTOR_DIR", ROOT / ".interop" / "node")),
        help="where node_modules/tiktok-live-connector is (default $WEBCAST_CONNECTOR_DIR or .interop/node)",
    )
    parser.add_argument("--no-peers", action="store_true", help="webcast and the floor only")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    ns = parser.parse_args(argv)

    frames, n_messages = build_frames(ns.frames)
    new_user_frames, _ = build_frames(ns.frames, new_users=True)
    size = sum(len(f) for f in frames)
    print(f"# decode: {len(frames)} frames, {n_messages} messages, {size / 1024:.0f} KiB gzip'd")

    def fixed(fn: Callable[[Sequence[bytes]], int]) -> Callable[[], Callable[[], int]]:
        return lambda: lambda: fn(frames)

    def fresh(
        prepare: Callable[[Sequence[bytes]], Callable[[], int]], on: Sequence[bytes] = frames
    ) -> Callable[[], Callable[[], int]]:
        return lambda: prepare(on)

    seconds: dict[str, float] = {}
    webcast_rows: list[tuple[str, Callable[[], Callable[[], int]]]] = [
        ("decode_push_frame", fixed(webcast_stateless)),
        ("connection, all", fresh(webcast_connection(None))),
        ("connection, all, new users", fresh(webcast_connection(None), new_user_frames)),
        ("connection, chat only", fresh(webcast_connection({CHAT}))),
    ]
    seconds["floor: frame+gunzip+result"] = best_of(fixed(floor_result), ns.repeat)
    if zlib_ng is not None:
        fast_floor = fixed(lambda f: floor_result(f, zlib_ng))
        seconds["floor: frame+gunzip+result, zlib-ng inflate"] = best_of(fast_floor, ns.repeat)
    seconds["floor: + typed payloads"] = best_of(fixed(floor_typed), ns.repeat)
    with inflating_with(zlib):
        for name, make_run in webcast_rows:
            seconds[f"webcast: {name}"] = best_of(make_run, ns.repeat)
    if zlib_ng is not None:
        with inflating_with(zlib_ng):
            for name, make_run in webcast_rows:
                seconds[f"webcast, zlib-ng: {name}"] = best_of(make_run, ns.repeat)
    skipped: list[str] = []
    tl_version = package_version("TikTokLive")
    if not ns.no_peers:
        tl_run = tiktoklive_run(frames)
        if tl_run is None:
            skipped.append("TikTokLive is not installed (pip install -e '.[bench]')")
        else:
            seconds[f"TikTokLive {tl_version}: all"] = best_of(lambda: tl_run, ns.peer_repeat)
        node = connector_times(frames, ns.connector_dir, ns.peer_repeat)
        if isinstance(node, str):
            skipped.append(f"TikTok-Live-Connector: {node}")
        else:
            seconds["TikTok-Live-Connector 2.5.0: all"] = node["all"]
            seconds["TikTok-Live-Connector 2.5.0: chat only"] = node["chat"]

    floor = seconds["floor: frame+gunzip+result"]
    fast_floor_secs = seconds.get("floor: frame+gunzip+result, zlib-ng inflate")
    ours_all = seconds["webcast: connection, all"]
    ours_chat = seconds["webcast: connection, chat only"]
    out_rows = []
    for name, secs in seconds.items():
        peer = not name.startswith(("floor", "webcast"))
        versus = (ours_chat if "chat only" in name else ours_all) if peer else None
        out_rows.append(
            (
                name,
                f"{n_messages / secs:,.0f}",
                f"{len(frames) / secs:,.0f}",
                f"{secs / n_messages * 1e6:.2f}",
                f"{secs / floor:.2f}",
                f"{secs / fast_floor_secs:.2f}" if fast_floor_secs and "zlib-ng" in name else "",
                f"{secs / versus:.1f}" if versus else "",
            )
        )
    header = ("path", "msgs/s", "frames/s", "µs/msg", "× floor", "× floor, same inflater", "× webcast")
    result = table(header, out_rows)
    print(result)
    for line in skipped:
        print(f"# skipped: {line}")
    notes = [
        f"{len(frames)} frames of 1-40 messages, {n_messages} messages, {size / 1024:.0f} KiB gzip'd; "
        f"best of {ns.repeat} (peers: {ns.peer_repeat}).",
        f"zlib-ng {package_version('zlib-ng')} (the `fast` extra).",
        f"TikTokLive {tl_version} (betterproto2 {package_version('betterproto2')}); node {node_version()}.",
        *(f"skipped: {line}" for line in skipped),
    ]
    if not ns.no_readme:
        write_readme("decode", report("decode", "Decode: bytes → events", result, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
