"""Decode throughput: websocket bytes → typed events, next to the floor of the same work.

Run: ``python -m benchmarks.decode [--frames N] [--repeat R]``

Traffic is a realistic mix built by the fixture builders (chat, like and member most common; gifts
with streaks, viewer counts and social less often), cut into frames of 1-40 messages, gzip'd as
TikTok sends them. Each line of the table decodes the same frames:

* ``floor: frame+gunzip+result`` — upb parses the push frame, zlib inflates the payload, upb parses
  the fetch result. The least any client must do.
* ``floor: + typed payloads`` — also parses every message payload into its protobuf class.
* ``webcast: all events`` — ``decode_push_frame``: bytes → every event, fields derived.
* ``webcast: chat only`` — what a user listening only to chat pays: other methods are skipped
  before their payload is parsed.

Ratios are to the first floor line. Timing is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import zlib
from typing import TYPE_CHECKING

from webcast_proto import codec, fixtures
from webcast_proto._decode import decode_push_frame
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.convert import default_registry

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from google.protobuf.message import Message

# Frame sizes cycle through this pattern: mostly small frames, some busy ones (1-40 messages).
FRAME_SIZES = (1, 3, 8, 2, 15, 5, 40, 4, 1, 25, 6, 12)

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


def build_frames(n_frames: int, *, seed: int = 0) -> tuple[list[bytes], int]:
    """``n_frames`` gzip'd "msg" frames of a realistic mix, and the number of messages they carry."""
    sizes = [FRAME_SIZES[i % len(FRAME_SIZES)] for i in range(n_frames)]
    messages = fixtures.realistic_mix(sum(sizes), seed=seed)
    frames: list[bytes] = []
    start = 0
    for i, size in enumerate(sizes):
        batch = messages[start : start + size]
        start += size
        result = fixtures.fetch_result(batch, cursor=f"t-{i}", internal_ext=f"seq:{i}", need_ack=True)
        frames.append(codec.encode_message_frame(result, log_id=i + 1, compress=True))
    return frames, len(messages)


def floor_result(frames: Sequence[bytes]) -> int:
    """Bare upb parse of the frame, zlib inflate, upb parse of the fetch result."""
    count = 0
    for data in frames:
        frame = pb.WebcastPushFrame.FromString(data)
        result = pb.ProtoMessageFetchResult.FromString(zlib.decompress(frame.payload, 31))
        count += len(result.messages)
    return count


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


def webcast_all(frames: Sequence[bytes]) -> int:
    """decode_push_frame: every message to its event."""
    registry = default_registry()
    count = 0
    for data in frames:
        count += len(decode_push_frame(data, registry=registry))
    return count


def webcast_chat_only(frames: Sequence[bytes]) -> int:
    """Only chat is listened to: other methods are skipped before their payload is parsed, as a
    connection given the set of wanted methods does."""
    convert = default_registry().convert
    wanted = frozenset({"WebcastChatMessage"})
    count = 0
    for data in frames:
        result = codec.fetch_result_from_frame(codec.parse_push_frame(data))
        count += len([convert(m) for m in result.messages if m.method in wanted])
    return count


def best_of(fn: Callable[[Sequence[bytes]], int], frames: Sequence[bytes], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(frames)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    ns = parser.parse_args(argv)

    frames, n_messages = build_frames(ns.frames)
    size = sum(len(f) for f in frames)
    print(f"# decode: {len(frames)} frames, {n_messages} messages, {size / 1024:.0f} KiB gzip'd")
    print(
        f"# {platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{platform.processor() or 'unknown cpu'}"
    )
    rows = [
        ("floor: frame+gunzip+result", floor_result),
        ("floor: + typed payloads", floor_typed),
        ("webcast: all events", webcast_all),
        ("webcast: chat only", webcast_chat_only),
    ]
    base = 0.0
    print(f"{'path':<30} {'msgs/s':>12} {'frames/s':>12} {'µs/msg':>8} {'× floor':>8}")
    for name, fn in rows:
        seconds = best_of(fn, frames, ns.repeat)
        if not base:
            base = seconds
        print(
            f"{name:<30} {n_messages / seconds:>12,.0f} {len(frames) / seconds:>12,.0f} "
            f"{seconds / n_messages * 1e6:>8.2f} {seconds / base:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
