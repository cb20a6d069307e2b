"""Generate the conformance vectors under ``vectors/`` from the fixture builders (issue 6, item 5).

Usage::

    python scripts/gen_vectors.py           # (re)write vectors/ (README.md is hand-written, kept)
    python scripts/gen_vectors.py --check   # exit 1 if the committed vectors differ from a fresh run

Every vector is built here, with ``webcast_proto.fixtures`` for the messages and ``webcast_proto.codec``
for the frames, then run through the decoders: the expected JSON is what they give, and every malformed
vector must fail with the error it states (the generator stops otherwise). ``vectors/README.md`` describes
the format; ``tests/test_vectors.py`` holds our implementation to it.

Determinism: every id is passed explicitly (nothing reads the fixtures' id counter; the whole set is
built twice and compared to prove it), JSON is written with sorted keys, and gzip members are reused.
zlib's output is only stable for one zlib build (zlib-ng, as some distributions ship, compresses
differently), so a gzip member already committed is reused whenever its content is what a fresh run
would compress: another zlib then neither makes the vectors stale nor rewrites them.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from webcast_proto import (
    Gift,
    Limits,
    RemoteProtocolError,
    Social,
    codec,
    decode_fetch_response,
    decode_push_frame,
)
from webcast_proto import fixtures as fx
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.config import DEFAULT_LIMITS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from webcast_proto.events import Event, JSONValue

ROOT: Final = Path(__file__).resolve().parent.parent
VECTORS: Final = ROOT / "vectors"
FORMAT_VERSION: Final = 1

# The folders the generator owns: every .bin and .json in them is generated (README.md is not).
_DIRS: Final = ("client", "fetch", "malformed", "push")
_MANIFEST: Final = "manifest.json"

ROOM: Final = fx.DEFAULT_ROOM_ID
T0: Final = fx.DEFAULT_CREATE_TIME
MAX_INT64: Final = 2**63 - 1
# Above 2**53 a JSON number (an IEEE double) can no longer hold every integer: 2**53 + 1 is the first
# one it rounds.
ABOVE_2_53: Final = 2**53 + 1

# Ids: 19 digits like TikTok's, far above 2**53, distinct per role so that a mix-up shows.
_MSG_BASE: Final = 7_460_000_000_000_000_000
_USER_BASE: Final = 7_200_000_000_000_000_000
_LOG_BASE: Final = 7_470_000_000_000_000_000

# SPEC.md §4.3-§4.5's example frames ([TL] traffic).
SPEC_ACK: Final = bytes.fromhex(
    "10 95 9a ef 3a 32 02 70 62 3a 03 61 63 6b 42 16 69 6e 74 65 72 6e 61 6c 5f 73 72 63 3a 64 69 6d 7c 73"
    " 65 71 3a 31"
)
SPEC_HEARTBEAT: Final = bytes.fromhex("32 02 70 62 3a 02 68 62 42 0c 08 ae a6 f6 8d aa e1 df af 67 10 01")
SPEC_ENTER_ROOM: Final = bytes.fromhex(
    "32 02 70 62 3a 0d 69 6d 5f 65 6e 74 65 72 5f 72 6f 6f 6d 42 19 08 ae a6 f6 8d aa e1 df af 67 20 0c 2a"
    " 08 61 75 64 69 65 6e 63 65 4a 01 30"
)

# The limits a vector may override; the manifest lists their defaults.
_LIMIT_NAMES: Final = (
    "max_frame_size",
    "max_decompressed_size",
    "max_messages_per_frame",
    "max_http_body_size",
)

# Why a malformed vector must be refused. Every one is a RemoteProtocolError; the close code is the
# one a server would close the WebSocket with (RFC 6455 §7.4.1: 1009 message too big, 1002 protocol
# error), None for what only HTTP answers can do.
ERRORS: Final[Mapping[str, tuple[int | None, str]]] = {
    "invalid_frame": (1002, "The bytes are not a WebcastPushFrame: the protobuf wire format is invalid."),
    "frame_too_large": (1009, "The frame is longer than max_frame_size; checked before parsing."),
    "decompressed_too_large": (
        1009,
        "The gzip'd payload or body inflates past max_decompressed_size; checked while inflating, so "
        "no more than max_decompressed_size + 1 bytes are ever produced.",
    ),
    "corrupt_gzip": (
        1002,
        "The gzip member is invalid: bad header, bad deflate data, or a CRC-32 or length (ISIZE) "
        "trailer that does not match.",
    ),
    "truncated_gzip": (1002, "The input ends before the gzip member does."),
    "trailing_gzip_data": (
        1002,
        "Bytes follow the end of the gzip member (also a second member: exactly one is allowed).",
    ),
    "gzip_header_mismatch": (
        1002,
        "The frame's last compress_type header is gzip but the payload does not start with 1F 8B 08.",
    ),
    "invalid_fetch_result": (
        1002,
        "The (inflated) payload or body is not a ProtoMessageFetchResult; also when one message "
        "envelope (BaseProtoMessage) inside it is invalid, e.g. its method is not UTF-8.",
    ),
    "too_many_messages": (
        1009,
        "The fetch result carries more than max_messages_per_frame messages; counted before the "
        "messages are built.",
    ),
    "body_too_large": (None, "The im/fetch body is longer than max_http_body_size; checked before anything."),
    "missing_cursor": (
        None,
        "Session only: the first im/fetch response of a session has an empty cursor (SPEC.md §9).",
    ),
}

_POLL_WITHOUT_CURSOR: Final = "poll response without cursor; keeping the last one"

# Compressed bytes of the bomb are ~1/1000 of this; past the default 8 MiB max_decompressed_size.
_BOMB_FILLER_SIZE: Final = 9 * 1024 * 1024
_MAX_BOMB_FILE: Final = 64 * 1024


def mid(n: int) -> int:
    """A message id."""
    return _MSG_BASE + n


def uid(n: int) -> int:
    """A user id."""
    return _USER_BASE + n


def lid(n: int) -> int:
    """A frame log id."""
    return _LOG_BASE + n


# --------------------------------------------------------------------------------------------
# gzip, stable across zlib builds
# --------------------------------------------------------------------------------------------


class GzipMembers:
    """gzip members by the SHA-256 of what they inflate to; new content is compressed by the codec."""

    def __init__(self) -> None:
        self._members: dict[bytes, bytes] = {}

    def learn(self, data: bytes) -> None:
        """Remember the gzip members ``data`` holds: all of it, or a push frame's payload, nested too."""
        candidates = [data]
        with contextlib.suppress(RemoteProtocolError):  # not a frame: only the whole can be gzip
            candidates.append(codec.parse_push_frame(data).payload)
        for candidate in candidates:
            member = candidate
            while codec.is_gzip(member):
                try:
                    content = codec.gunzip(member, max_size=4 * _BOMB_FILLER_SIZE)
                except RemoteProtocolError:
                    break
                self._members.setdefault(hashlib.sha256(content).digest(), member)
                member = content

    def __call__(self, content: bytes, *, level: int = 6) -> bytes:
        """A gzip member of ``content``: the one already known (whatever ``level`` says), else a new one."""
        key = hashlib.sha256(content).digest()
        member = self._members.get(key)
        if member is None:
            member = self._members[key] = codec.gzip_compress(content, level=level)
        return member


# --------------------------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vector:
    """One input and what it must give.

    ``name`` is the path under vectors/ without extension (``push/chat`` → ``push/chat.bin``, and
    ``push/chat.json`` when the vector decodes). ``error`` is a key of :data:`ERRORS` for a vector that
    must be refused; ``encoder`` and ``args`` say how a client frame is made.
    """

    name: str
    kind: str  # "push_frame", "fetch_body" or "client_frame"
    description: str
    data: bytes
    limits: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
    encoder: str | None = None
    args: Mapping[str, JSONValue] = field(default_factory=dict)
    extra: Mapping[str, JSONValue] = field(default_factory=dict)


def _limits(overrides: Mapping[str, int]) -> Limits:
    return Limits(**overrides)


def _frame(
    result: pb.ProtoMessageFetchResult,
    gz: GzipMembers,
    *,
    log_id: int,
    compress: bool = True,
    seq_id: int = 0,
    headers: Sequence[tuple[str, str]] | None = None,
) -> bytes:
    """A ``msg`` frame as ``codec.encode_message_frame`` builds it, with the gzip member from ``gz``."""
    body = codec.encode_fetch_result(result)
    if headers is None:
        headers = (
            (codec.HEADER_COMPRESS_TYPE, codec.COMPRESS_TYPE_GZIP if compress else codec.COMPRESS_TYPE_NONE),
            (codec.HEADER_IM_CURSOR, result.cursor),
            (codec.HEADER_IM_INTERNAL_EXT, result.internal_ext),
        )
    return codec.encode_push_frame(
        payload_type=codec.PAYLOAD_TYPE_MSG,
        payload=gz(body) if compress else body,
        log_id=log_id,
        seq_id=seq_id,
        headers=headers,
    )


# --- users ---------------------------------------------------------------------------------


def mia() -> pb.User:
    return fx.user(
        user_id=uid(1),
        nickname="Mia ✨",
        unique_id="mia.sparkles",
        follow_status=1,
        badges=[fx.gifter_level_badge(12)],
    )


def lukasz() -> pb.User:
    return fx.user(
        user_id=uid(2),
        nickname="Łukasz",
        unique_id="lukasz_pl",
        follow_status=2,
        badges=[fx.moderator_badge(), fx.team_member_badge(3)],
    )


def taro() -> pb.User:
    return fx.user(
        user_id=uid(3),
        nickname="東京タロウ",
        unique_id="taro.tokyo",
        avatar_urls=(),
        follower_count=0,
        following_count=0,
    )


def zoe() -> pb.User:
    return fx.user(
        user_id=uid(4),
        nickname="Zoë 🦋",
        unique_id="zoe",
        verified=True,
        badges=[fx.subscriber_badge(), fx.top_gifter_badge(2)],
    )


def host() -> pb.User:
    return fx.user(
        user_id=fx.HOST_USER_ID,
        nickname="The Host 🎙️",
        unique_id="the.host",
        follower_count=250_000,
        verified=True,
    )


RIVAL_ID: Final = uid(50)
RIVAL_ROOM: Final = 7_448_900_000_000_000_001
BATTLE_ID: Final = 7_449_000_000_000_000_001


def _anchors() -> list[pb.BattleBaseUserInfo]:
    return [
        fx.battle_anchor(fx.HOST_USER_ID, nickname="The Host 🎙️", unique_id="the.host", room_id=ROOM),
        fx.battle_anchor(RIVAL_ID, nickname="Rival 🔥", unique_id="rival", room_id=RIVAL_ROOM),
    ]


def _armies() -> dict[int, pb.BattleUserArmies]:
    return {
        fx.HOST_USER_ID: fx.army(
            120,
            [
                fx.army_participant(uid(1), nickname="Mia ✨", score=100),
                fx.army_participant(uid(4), score=20),
            ],
        ),
        RIVAL_ID: fx.army(45, [fx.army_participant(uid(3), nickname="東京タロウ", score=45)]),
    }


# --- one message of each kind ------------------------------------------------------------------


def one_of_each() -> list[pb.BaseProtoMessage]:
    """Every modelled method (control as a pause and as a stream end) plus an unknown one."""
    messages: list[fx.WebcastMessage] = [
        fx.chat("hello from the vectors 👋", user=mia(), msg_id=mid(1)),
        fx.member(user=taro(), msg_id=mid(2)),
        fx.gift(5655, user=zoe(), to_user=host(), msg_id=mid(3)),
        fx.room_user_seq(1523, top_viewers=[(mia(), 900), (zoe(), 450)], msg_id=mid(4)),
        fx.like(15, total=48_213, user=lukasz(), msg_id=mid(5)),
        fx.social_follow(user=taro(), msg_id=mid(6)),
        fx.emote_chat(user=zoe(), msg_id=mid(7)),
        fx.envelope(sender=mia(), msg_id=mid(8)),
        fx.question_new(user=lukasz(), question_id=mid(9), msg_id=mid(9)),
        fx.link_mic_battle(battle_id=BATTLE_ID, anchors=_anchors(), msg_id=mid(10)),
        fx.link_mic_armies(battle_id=BATTLE_ID, armies=_armies(), msg_id=mid(11)),
        fx.live_intro(intro_id=mid(12), user=host(), msg_id=mid(12)),
        fx.sub_notify(user=zoe(), msg_id=mid(13)),
        fx.control(1, tips="The host paused the LIVE", msg_id=mid(14)),
    ]
    wrapped = [fx.wrap(m) for m in messages]
    wrapped.append(_unknown("WebcastHourlyRankMessage", mid(15), key="pm_mt_hourly_rank"))
    wrapped.append(fx.wrap(fx.control(3, tips="The LIVE has ended", msg_id=mid(16))))
    return wrapped


def _unknown(
    method: str, msg_id: int, *, key: str = "", envelope_msg_id: int | None = None
) -> pb.BaseProtoMessage:
    """A message of a method nobody models, carrying only its common part."""
    common = pb.CommonMessageData(method=method, msg_id=msg_id, room_id=ROOM, create_time=T0)
    if key:
        common.display_text.key = key
        common.display_text.default_pattern = "{0:user} is in the hourly top 10"
    return pb.BaseProtoMessage(
        method=method,
        payload=pb.CommonOnlyMessage(common=common).SerializeToString(),
        msg_id=msg_id if envelope_msg_id is None else envelope_msg_id,
    )


def _patched(message: pb.BaseProtoMessage, old: bytes, new: bytes) -> pb.BaseProtoMessage:
    """``message`` with one run of its payload's bytes replaced (same length: no length prefix moves)."""
    payload = message.payload
    if len(old) != len(new) or payload.count(old) != 1:
        raise AssertionError(f"cannot patch {old!r} in a {message.method} payload")
    return pb.BaseProtoMessage(
        method=message.method, payload=payload.replace(old, new), msg_id=message.msg_id
    )


# --- push frames ---------------------------------------------------------------------------------


def push_vectors(gz: GzipMembers) -> list[Vector]:
    out: list[Vector] = []

    def push(
        name: str,
        description: str,
        messages: Iterable[pb.BaseProtoMessage | fx.WebcastMessage],
        log: int,
        *,
        compress: bool = False,
    ) -> None:
        frame = _frame(fx.fetch_result(messages), gz, log_id=lid(log), compress=compress)
        out.append(Vector(f"push/{name}", "push_frame", description, frame))

    every = one_of_each()
    push(
        "all_types_gzip",
        "One message of every modelled method (WebcastControlMessage as a pause, then as a stream end) "
        "and one unknown method, gzip'd as TikTok sends them.",
        every,
        1,
        compress=True,
    )
    push("all_types_plain", "The same fetch result as all_types_gzip, not compressed.", every, 1)

    push(
        "chat",
        "WebcastChatMessage: plain, with emotes, an @-mention and user_identity, from the host.",
        [
            fx.chat("hello from the vectors 👋", user=mia(), msg_id=mid(101)),
            fx.chat(
                "look at this ",
                user=zoe(),
                emotes=[
                    fx.chat_emote("7102317011935006507", index=5),
                    fx.chat_emote("7102317011935006508", index=13),
                ],
                at_user=lukasz(),
                user_identity=pb.UserIdentity(is_subscriber_of_anchor=True, is_follower_of_anchor=True),
                display_key="pm_mt_chat",
                display_pattern="{0:user}: {1:string}",
                msg_id=mid(102),
                create_time=T0 + 1000,
            ),
            fx.chat(
                "ありがとう！",
                user=host(),
                content_language="ja",
                user_identity=pb.UserIdentity(is_anchor=True, is_mutual_following_with_anchor=True),
                msg_id=mid(103),
                create_time=T0 + 2000,
            ),
        ],
        101,
    )
    push(
        "member",
        "WebcastMemberMessage: action 1 JOINED, 3 SUBSCRIBED, 7 (the seed's subscribe), 0, and 42 "
        "(unknown: kept as the plain number).",
        [
            fx.member(user=mia(), action=1, member_count=1204, msg_id=mid(111)),
            fx.member(
                user=zoe(), action=3, member_count=1205, action_description="subscribed", msg_id=mid(112)
            ),
            fx.member(user=lukasz(), action=7, enter_type=1, msg_id=mid(113)),
            fx.member(
                user=taro(), action=0, member_count=0, display_key="", display_pattern="", msg_id=mid(114)
            ),
            fx.member(user=taro(), action=42, action_description="joined via share link", msg_id=mid(115)),
        ],
        111,
    )
    push(
        "gift",
        "WebcastGiftMessage fields: receiver, user_identity, monitor_extra, a type-2 gift, a gift id "
        "missing from the gift list, a timestamp other than create_time.",
        [
            fx.gift(
                5655,
                user=mia(),
                to_user=host(),
                user_identity=pb.UserIdentity(is_gift_giver_of_anchor=True, is_follower_of_anchor=True),
                monitor_extra='{"anchor_id":6813181309701145606,"gift_id":5655}',
                group_id=mid(121),
                msg_id=mid(121),
            ),
            fx.gift(6369, user=zoe(), group_id=mid(122), msg_id=mid(122)),
            fx.gift(
                999_999,
                user=taro(),
                describe="",
                picture_url="https://p16-webcast.tiktokcdn.com/img/gift_999999.webp",
                group_id=mid(123),
                msg_id=mid(123),
            ),
            fx.gift(
                6267,
                user=lukasz(),
                group_count=10,
                timestamp=T0 + 5_000,
                receiver_user_id=RIVAL_ID,
                group_id=mid(124),
                msg_id=mid(124),
                create_time=T0 + 5_123,
            ),
        ],
        121,
    )
    push("gift_streak", _STREAK_DESCRIPTION, _streak_messages(), 131)
    push(
        "room_user_seq",
        "WebcastRoomUserSeqMessage: viewer count with ranked top viewers, then one with nothing in it.",
        [
            fx.room_user_seq(1523, top_viewers=[(mia(), 900), (zoe(), 450), (taro(), 10)], msg_id=mid(141)),
            fx.room_user_seq(0, top_viewers=[], total_user=0, popularity=0, msg_id=mid(142)),
        ],
        141,
    )
    push(
        "like",
        "WebcastLikeMessage: like_count is the user's batch, total_like_count the room's total.",
        [
            fx.like(15, total=48_213, user=mia(), msg_id=mid(151)),
            fx.like(1, total=48_214, user=taro(), msg_id=mid(152), display_key="", display_pattern=""),
        ],
        151,
    )
    push("social", _SOCIAL_DESCRIPTION, _social_messages(), 161)
    push(
        "emote_chat",
        'WebcastEmoteChatMessage: one emote, two (emote_id is the first), none (emote_id "", url null), '
        "with user_identity.",
        [
            fx.emote_chat(user=zoe(), msg_id=mid(171)),
            fx.emote_chat(
                user=mia(),
                emotes=[
                    fx.emote("7200000000000000001"),
                    fx.emote("7200000000000000002", url="https://e.example/2.png"),
                ],
                user_identity=pb.UserIdentity(is_subscriber_of_anchor=True),
                msg_id=mid(172),
            ),
            fx.emote_chat(user=taro(), emotes=[], msg_id=mid(173)),
        ],
        171,
    )
    no_sender = fx.envelope(
        envelope_id="7448912345678900002",
        send_user_name="Anonymous",
        send_user_id="not-a-number",
        business_type=19,
        display=2,
        msg_id=mid(182),
        sender=taro(),
    )
    no_sender.common.display_text.ClearField("pieces")
    push(
        "envelope",
        "WebcastEnvelopeMessage: the sender from the display text's first piece; then no pieces "
        "(sender null) and a send_user_id that is not a number (0), business type 19.",
        [fx.envelope(sender=mia(), msg_id=mid(181)), no_sender],
        181,
    )
    anonymous = fx.question_new("Is this live? 🤔", question_id=1, user=taro(), msg_id=mid(192))
    anonymous.data.ClearField("user")
    push(
        "question_new",
        "WebcastQuestionNewMessage: with its user, then without (user null).",
        [fx.question_new(user=lukasz(), question_id=mid(191), msg_id=mid(191)), anonymous],
        191,
    )
    unkeyed = fx.link_mic_battle(
        battle_id=BATTLE_ID,
        action=99,
        anchors=[],
        results=[fx.battle_result(RIVAL_ID, result=2, score=500)],
        msg_id=mid(203),
    )
    unkeyed.battle_result[0].value.user_id = 0  # the entry's key then names the user
    push(
        "link_mic_battle",
        "WebcastLinkMicBattle: an opening battle (action 4), its end with results (action 5), and an "
        "unknown action 99 whose result names its user only by the entry key.",
        [
            fx.link_mic_battle(battle_id=BATTLE_ID, anchors=_anchors(), msg_id=mid(201)),
            fx.link_mic_battle(
                battle_id=BATTLE_ID,
                action=5,
                anchors=_anchors(),
                results=[
                    fx.battle_result(fx.HOST_USER_ID, result=0, score=1200, diamond_score=1150),
                    fx.battle_result(RIVAL_ID, result=1, score=300, diamond_score=280),
                ],
                msg_id=mid(202),
            ),
            unkeyed,
        ],
        201,
    )
    push(
        "link_mic_armies",
        "WebcastLinkMicArmies: running scores after a gift (trigger 1), the final ones (2), and an "
        "unknown trigger 7 without armies.",
        [
            fx.link_mic_armies(
                battle_id=BATTLE_ID,
                armies=_armies(),
                from_user_id=uid(1),
                gift_id=5655,
                gift_count=1,
                total_diamond_count=1,
                repeat_count=1,
                msg_id=mid(211),
            ),
            fx.link_mic_armies(battle_id=BATTLE_ID, armies=_armies(), trigger_reason=2, msg_id=mid(212)),
            fx.link_mic_armies(battle_id=BATTLE_ID, armies={}, trigger_reason=7, msg_id=mid(213)),
        ],
        211,
    )
    no_user = fx.live_intro("", intro_id=0, intro_mode=1, content_language="", msg_id=mid(222))
    no_user.ClearField("user")
    push(
        "live_intro",
        "WebcastLiveIntroMessage: the host's intro with badges, then an empty one without user.",
        [
            fx.live_intro(
                intro_id=mid(221),
                user=host(),
                badges=[
                    fx.privilege_badge(5, scene_type=10),
                    fx.text_badge("pm_mt_live_intro_badge", "Top LIVE"),
                ],
                msg_id=mid(221),
            ),
            no_user,
        ],
        221,
    )
    push(
        "sub_notify",
        "WebcastSubNotifyMessage: a first subscription, then a one-off resubscription in month 12.",
        [
            fx.sub_notify(user=zoe(), msg_id=mid(231)),
            fx.sub_notify(
                user=mia(),
                sub_month=12,
                exhibition_type=1,
                subscribe_type=0,
                old_subscribe_status=1,
                subscribing_status=1,
                msg_id=mid(232),
            ),
        ],
        231,
    )
    push(
        "control",
        "WebcastControlMessage: actions 1 (pause) and 2 (unpause) give Control; 3 (ended by the host) "
        "and 4 (ended by the platform) give StreamEnd; 0 and 99 (unknown) give Control.",
        [
            fx.control(1, tips="The host paused the LIVE", msg_id=mid(241)),
            fx.control(2, msg_id=mid(242)),
            fx.control(0, msg_id=mid(243)),
            fx.control(99, tips="?", msg_id=mid(244)),
            fx.control(3, tips="The LIVE has ended", msg_id=mid(245)),
            fx.control(
                4, tips="This LIVE was suspended for violating our Community Guidelines", msg_id=mid(246)
            ),
        ],
        241,
    )
    push(
        "unknown_method",
        "Methods without converter give UnknownMessage with the raw payload (base64): one whose payload "
        "has a common part (its ids are read), one whose payload is not protobuf (no warning: unknown "
        "payloads are not judged; ids from the envelope), one empty, one with an empty method.",
        [
            _unknown("WebcastHourlyRankMessage", mid(251), key="pm_mt_hourly_rank", envelope_msg_id=mid(999)),
            pb.BaseProtoMessage(
                method="WebcastRankUpdateMessage", payload=b"\xff\xfe not protobuf", msg_id=mid(252)
            ),
            pb.BaseProtoMessage(method="WebcastInRoomBannerMessage", payload=b"", msg_id=0),
            pb.BaseProtoMessage(method="", payload=b"", msg_id=mid(254)),
        ],
        251,
    )
    push("ids", _IDS_DESCRIPTION, _id_messages(), 261)
    push("texts", _TEXTS_DESCRIPTION, _text_messages(), 271)
    push("badges", _BADGES_DESCRIPTION, _badge_messages(), 281)
    push("users", _USERS_DESCRIPTION, _user_messages(), 291)

    good = fx.wrap(fx.chat("before the bad one", user=mia(), msg_id=mid(301)))
    garbage = pb.BaseProtoMessage(method="WebcastChatMessage", payload=b"\xff\xff\xff\xff", msg_id=mid(302))
    bad_utf8 = _patched(
        fx.wrap(fx.gift(5655, gift_name="@@@@", describe="", user=zoe(), group_id=mid(303), msg_id=mid(303))),
        b"@@@@",
        b"\xff\xfe\xfd\xfc",
    )
    bad_control = pb.BaseProtoMessage(method="WebcastControlMessage", payload=b"\x10", msg_id=0)
    push(
        "bad_message_payload",
        "One bad message inside a good frame becomes a ProtocolWarning in its place and its neighbours "
        "are delivered: a chat payload that is not protobuf, a gift whose name is not UTF-8, a control "
        "message cut short (with envelope msg_id 0: the warning's msg_id is null; no StreamEnd).",
        [
            good,
            garbage,
            fx.like(3, user=taro(), msg_id=mid(304)),
            bad_utf8,
            bad_control,
            fx.chat("after", user=lukasz(), msg_id=mid(306)),
        ],
        301,
    )

    small = fx.fetch_result(
        [fx.chat("compressed?", user=mia(), msg_id=mid(401)), fx.like(2, user=zoe(), msg_id=mid(402))]
    )
    small_body = codec.encode_fetch_result(small)
    cursor_headers = (
        (codec.HEADER_IM_CURSOR, small.cursor),
        (codec.HEADER_IM_INTERNAL_EXT, small.internal_ext),
    )

    def variant(name: str, description: str, *, compress: bool, headers: Sequence[tuple[str, str]]) -> None:
        frame = _frame(small, gz, log_id=lid(401), compress=compress, headers=headers)
        out.append(Vector(f"push/{name}", "push_frame", description, frame))

    variant(
        "gzip_header_none",
        "compress_type none but the payload starts with 1F 8B 08: it is gunzipped (either signal counts).",
        compress=True,
        headers=[(codec.HEADER_COMPRESS_TYPE, codec.COMPRESS_TYPE_NONE), *cursor_headers],
    )
    variant(
        "gzip_no_headers",
        "No headers at all; a gzip'd payload is recognised by 1F 8B 08.",
        compress=True,
        headers=[],
    )
    variant("plain_no_headers", "No headers at all and a plain payload.", compress=False, headers=[])
    variant(
        "plain_unknown_compress_type",
        "compress_type br (unknown) with a plain payload: parsed as it is.",
        compress=False,
        headers=[(codec.HEADER_COMPRESS_TYPE, "br"), *cursor_headers],
    )
    variant(
        "compress_type_last_wins",
        "compress_type gzip, then none, on a plain payload: the last header wins, so no error.",
        compress=False,
        headers=[(codec.HEADER_COMPRESS_TYPE, "gzip"), (codec.HEADER_COMPRESS_TYPE, "none"), *cursor_headers],
    )
    stored = codec.encode_push_frame(
        payload_type=codec.PAYLOAD_TYPE_MSG,
        payload=gz(
            codec.encode_fetch_result(fx.fetch_result([fx.like(7, user=mia(), msg_id=mid(411))])), level=0
        ),
        log_id=lid(411),
        headers=[(codec.HEADER_COMPRESS_TYPE, codec.COMPRESS_TYPE_GZIP)],
    )
    out.append(
        Vector(
            "push/gzip_stored",
            "push_frame",
            "A gzip member of stored (uncompressed) deflate blocks (level 0).",
            stored,
        )
    )

    empty = pb.ProtoMessageFetchResult()
    out.append(
        Vector(
            "push/msg_empty_payload",
            "push_frame",
            "A msg frame with no payload: an empty fetch result, no events.",
            codec.encode_push_frame(payload_type=codec.PAYLOAD_TYPE_MSG, log_id=lid(421)),
        )
    )
    out.append(
        Vector(
            "push/msg_empty_gzip",
            "push_frame",
            "A msg frame whose payload is the gzip of nothing: an empty fetch result, no events.",
            _frame(empty, gz, log_id=lid(422), compress=True),
        )
    )
    quiet = [
        (
            "server_heartbeat",
            "hb",
            pb.HeartBeatMessage(room_id=ROOM, send_packet_seq_id=1).SerializeToString(),
        ),
        ("enter_room_resp", "im_enter_room_resp", b"\x08\x01"),
        ("close", "close", b""),
        ("unknown_payload_type", "im_future_thing", b"\xff\xff not looked at"),
    ]
    for name, payload_type, payload in quiet:
        out.append(
            Vector(
                f"push/{name}",
                "push_frame",
                f"A frame of payload_type {payload_type}: only msg frames carry events; its payload is "
                "not looked at.",
                codec.encode_push_frame(payload_type=payload_type, payload=payload, log_id=lid(431)),
            )
        )
    out.append(
        Vector(
            "push/empty_frame",
            "push_frame",
            'Zero bytes: a valid, empty push frame (payload_type ""), no events.',
            b"",
        )
    )

    limited = _frame(small, gz, log_id=lid(441), compress=True)
    out.append(
        Vector(
            "push/frame_size_at_limit",
            "push_frame",
            "A frame exactly max_frame_size long is accepted.",
            limited,
            limits={"max_frame_size": len(limited)},
        )
    )
    out.append(
        Vector(
            "push/decompressed_size_at_limit",
            "push_frame",
            "A payload inflating to exactly max_decompressed_size bytes is accepted.",
            limited,
            limits={"max_decompressed_size": len(small_body)},
        )
    )
    out.append(
        Vector(
            "push/messages_at_limit",
            "push_frame",
            "A fetch result with exactly max_messages_per_frame (2) messages is accepted.",
            limited,
            limits={"max_messages_per_frame": 2},
        )
    )
    return out


_STREAK_DESCRIPTION: Final = (
    "Gift streaks (see derived): a type-1 gift repeats with repeat_end 0 and a growing repeat_count (in "
    "progress), then ends with repeat_end non-zero (final, here also 2); even a single type-1 gift comes "
    "twice; a type-2 gift is final even with repeat_end 0."
)


def _streak_messages() -> list[pb.WebcastGiftMessage]:
    def heart(n: int, count: int, end: bool) -> pb.WebcastGiftMessage:
        return fx.gift(5487, user=zoe(), repeat_count=count, repeat_end=end, group_id=mid(130), msg_id=mid(n))

    single = fx.gift(5655, user=mia(), repeat_end=True, group_id=mid(135), msg_id=mid(136))
    single.repeat_end = 2  # any non-zero value ends the streak
    return [
        heart(131, 1, False),
        heart(132, 2, False),
        heart(133, 3, False),
        heart(134, 3, True),
        fx.gift(5655, user=mia(), repeat_end=False, group_id=mid(135), msg_id=mid(135)),
        single,
        fx.gift(6267, user=taro(), repeat_end=False, group_id=mid(137), msg_id=mid(137)),
    ]


_SOCIAL_DESCRIPTION: Final = (
    "WebcastSocialMessage, told apart by common.display_text.key (not action): a follow, a share, "
    "pm_mt_guidance_viewer_5_share (users_joined 5), ..._0_share (0), ..._x_share (null), a key with both "
    "words (follow wins), a follow key with the share action, an other key and an empty key."
)


def _social_messages() -> list[pb.WebcastSocialMessage]:
    return [
        fx.social_follow(user=mia(), msg_id=mid(161)),
        fx.social_share(user=zoe(), msg_id=mid(162)),
        fx.social_share(user=lukasz(), users_joined=5, msg_id=mid(163)),
        fx.social_share(user=taro(), users_joined=0, msg_id=mid(164)),
        fx.social(display_key="pm_mt_guidance_viewer_x_share", user=taro(), action=3, msg_id=mid(165)),
        fx.social(display_key="pm_mt_follow_and_share", user=mia(), action=3, msg_id=mid(166)),
        fx.social(display_key="pm_main_follow_message_viewer_2", user=zoe(), action=3, msg_id=mid(167)),
        fx.social(display_key="pm_mt_live_like_gather", user=lukasz(), action=2, msg_id=mid(168)),
        fx.social(display_key="", user=taro(), msg_id=mid(169)),
    ]


_IDS_DESCRIPTION: Final = (
    "Edge-case ids: 0, 1, 2**53, 2**53 + 1 (the first integer a double rounds), 2**63 - 1; msg_id from "
    "common, or from the envelope when common's is 0; gift, group and receiver ids at the edges."
)


def _id_messages() -> list[pb.BaseProtoMessage]:
    def chat(msg_id: int, user_id: int, room_id: int) -> pb.WebcastChatMessage:
        return fx.chat(
            f"msg {msg_id}",
            user=fx.user(user_id=user_id, nickname=f"id {user_id}"),
            msg_id=msg_id,
            room_id=room_id,
        )

    return [
        fx.wrap(chat(0, 0, 0)),
        fx.wrap(chat(1, 1, 1)),
        fx.wrap(chat(2**53, 2**53, 2**53)),
        fx.wrap(chat(ABOVE_2_53, ABOVE_2_53, ABOVE_2_53)),
        fx.wrap(chat(MAX_INT64, MAX_INT64, MAX_INT64)),
        fx.wrap(chat(0, uid(1), ROOM), msg_id=MAX_INT64),  # common's msg_id 0: the envelope's counts
        fx.wrap(chat(mid(265), uid(1), ROOM), msg_id=mid(266)),  # both set: common's counts
        fx.wrap(
            fx.gift(
                1,
                user=fx.user(user_id=MAX_INT64, nickname="max"),
                group_id=MAX_INT64,
                receiver_user_id=ABOVE_2_53,
                msg_id=mid(267),
            )
        ),
        fx.wrap(fx.question_new("?", question_id=MAX_INT64, user=mia(), msg_id=mid(268))),
    ]


# Texts a port must carry through unchanged: no normalisation, no trimming, no BOM stripping.
TEXTS: Final[Mapping[str, str]] = {
    "emoji": "👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇯🇵 ❤️‍🔥 🫠",
    "rtl": "مرحبا بالعالم! שלום עולם abc \u200f123\u200f \u202eevil\u202c",
    "combining": "e\u0301 is not \u00e9; Z\u0364\u0351a\u0308\u0316l\u036eg\u030co\u0319",
    "empty": "",
    "controls": "tab\there\nnewline \u0000 nul \u2028 line sep \u2029 para sep \ufeff bom \u007f del",
    "astral": "𠜎𠜱𠝹 𝕳𝖊𝖑𝖑𝖔 \U0010fffd",
    "long": ("長文 long text ✨ مرحبا " * 200)[:4000],
}

_TEXTS_DESCRIPTION: Final = (
    "Texts carried through unchanged (no normalisation, no trimming): emoji with ZWJ, flags and skin "
    "tones; RTL with bidi controls; combining marks (e + U+0301 is not U+00E9); empty; control "
    "characters, NUL, U+2028/U+2029 and a BOM; astral planes; 4000 characters. Nicknames too."
)


def _text_messages() -> list[pb.WebcastChatMessage]:
    nicknames = ["", "محمد", "x\u200dy", "Ｆｕｌｌｗｉｄｔｈ", "Ana-María", "\u202eevil", "Zoë 🦋"]
    return [
        fx.chat(
            text,
            user=fx.user(
                user_id=uid(300 + i), nickname=nicknames[i], unique_id="" if i == 0 else f"text.{name}"
            ),
            display_pattern="{0:user}: {1:string}" if name != "empty" else "",
            msg_id=mid(271 + i),
        )
        for i, (name, text) in enumerate(TEXTS.items())
    ]


_BADGES_DESCRIPTION: Final = (
    "Badges and the user flags derived from them (SPEC.md §8), one chat per user: moderator by key (any "
    "case) or by scene type 1 (also on a string badge, which yields no badge entry); subscriber by /sub_ "
    "url or scene type 4 or 7 (combine badge); top gifter rank (first url wins; non-digits give null); "
    "new gifter (live_ng_, any case); gifter level (scene 8) and team level (scene 10), first wins; "
    'privilege levels "0", "", "abc", " 5" and Arabic-Indic digits give no badge, "007" gives 7; '
    "one BadgeStruct with text and privilege gives two entries; an image badge without url."
)

_CDN: Final = "https://p16-webcast.tiktokcdn.com/webcast-va"


def _badge_messages() -> list[pb.WebcastChatMessage]:
    both = fx.text_badge("pm_mt_level_badge", "Level 25", scene_type=8)
    both.privilege_log_extra.CopyFrom(fx.privilege_badge(25).privilege_log_extra)
    cases: list[tuple[str, list[pb.BadgeStruct]]] = [
        ("moderator", [fx.moderator_badge()]),
        ("moderator key upper case", [fx.text_badge("PM_MT_MODERATOR_IM", "Moderator")]),
        ("moderator scene only", [fx.text_badge("pm_mt_admin_badge", "Admin", scene_type=1)]),
        (
            "moderator string badge",
            [pb.BadgeStruct(display_type=3, scene_type=1, str=pb.StringBadge(str="Admin"))],
        ),
        ("subscriber url", [fx.subscriber_badge(scene_type=0)]),
        ("subscriber scene 4", [fx.image_badge(f"{_CDN}/badge_plain.png", scene_type=4)]),
        (
            "subscriber scene 7",
            [pb.BadgeStruct(display_type=4, scene_type=7, combine=pb.CombineBadgeStruct(str="Sub"))],
        ),
        ("top gifter 1", [fx.top_gifter_badge(1)]),
        ("top gifter first wins", [fx.top_gifter_badge(3), fx.top_gifter_badge(1)]),
        (
            "top gifter no digits",
            [fx.image_badge(f"{_CDN}/ranklist_top_gifter_x.png"), fx.top_gifter_badge(2)],
        ),
        ("top gifter no png", [fx.image_badge(f"{_CDN}/ranklist_top_gifter_2.webp")]),
        ("new gifter", [fx.new_gifter_badge()]),
        ("new gifter upper case", [fx.text_badge("LIVE_NG_USER_BADGE", "New")]),
        ("gifter level first wins", [fx.gifter_level_badge(7), fx.gifter_level_badge(30)]),
        ("team level", [fx.team_member_badge(4)]),
        (
            "levels that are none",
            [
                fx.privilege_badge("0"),
                fx.privilege_badge(""),
                fx.privilege_badge("abc"),
                fx.privilege_badge(" 5"),
                fx.privilege_badge("\u0663"),
            ],
        ),
        ("level with leading zeros", [fx.privilege_badge("007")]),
        ("text and privilege in one", [both]),
        ("image without url", [pb.BadgeStruct(display_type=1, image=pb.ImageBadge(display_type=1))]),
        (
            "everything",
            [
                fx.moderator_badge(),
                fx.subscriber_badge(),
                fx.top_gifter_badge(2),
                fx.new_gifter_badge(),
                fx.gifter_level_badge(25),
                fx.team_member_badge(4),
            ],
        ),
    ]
    return [
        fx.chat(
            label,
            user=fx.user(user_id=uid(400 + i), nickname=label, unique_id=f"badge{i}", badges=badges),
            msg_id=mid(281 + i),
        )
        for i, (label, badges) in enumerate(cases)
    ]


_USERS_DESCRIPTION: Final = (
    "User fields: follow_status 0 none, 1 follower, 2 friends, 5 (unknown, kept); no avatar "
    "(profile_picture_url null), one avatar; verified; an empty unique_id; large counts."
)


def _user_messages() -> list[pb.WebcastMemberMessage]:
    users = [
        fx.user(user_id=uid(501), nickname="none", follow_status=0),
        fx.user(user_id=uid(502), nickname="follower", follow_status=1, verified=True),
        fx.user(
            user_id=uid(503), nickname="friend", follow_status=2, avatar_urls=("https://a.example/1.jpeg",)
        ),
        fx.user(user_id=uid(504), nickname="unknown role", follow_status=5, avatar_urls=()),
        fx.user(
            user_id=uid(505),
            nickname="no username",
            unique_id="",
            sec_uid="",
            follower_count=2_147_483_648,
            following_count=0,
        ),
    ]
    return [fx.member(user=u, msg_id=mid(291 + i)) for i, u in enumerate(users)]


# --- fetch bodies ----------------------------------------------------------------------------------


def fetch_vectors(gz: GzipMembers) -> list[Vector]:
    out: list[Vector] = []
    initial = fx.fetch_result(
        fx.realistic_mix(10, seed=6),
        is_first=True,
        now=T0 + 60_000,
        internal_ext=f"internal_src:dim|wss_push_room_id:{ROOM}|wss_push_did:7448811992334045999|seq:1",
    )
    initial_body = codec.encode_fetch_result(initial)
    out.append(
        Vector(
            "fetch/initial_gzip",
            "fetch_body",
            "A first im/fetch response (is_first, a push server, route params) with 10 realistic messages "
            "(fixtures.realistic_mix, seed 6), gzip'd.",
            gz(initial_body),
        )
    )
    out.append(
        Vector(
            "fetch/initial_plain",
            "fetch_body",
            "The same fetch result as initial_gzip, not compressed.",
            initial_body,
        )
    )
    polling = fx.fetch_result(
        [fx.chat("polling works too", user=mia(), msg_id=mid(601)), fx.like(4, user=taro(), msg_id=mid(602))],
        push_server="",
        route_params={},
        need_ack=False,
        fetch_type=2,
        fetch_interval=2000,
        cursor="t-1734000001000_r-2_d-1_u-1",
    )
    polling_body = codec.encode_fetch_result(polling)
    out.append(
        Vector(
            "fetch/polling",
            "fetch_body",
            "A polling answer: no push server, no route params, need_ack false, fetch_type 2.",
            polling_body,
        )
    )
    no_cursor = codec.encode_fetch_result(
        fx.fetch_result(
            [fx.chat("no cursor here", user=zoe(), msg_id=mid(611)), fx.like(9, user=mia(), msg_id=mid(612))],
            cursor="",
        )
    )
    session: dict[str, JSONValue] = {
        "first_fetch": {"error": "missing_cursor"},
        "poll": {
            "events_before": [
                {"type": "ProtocolWarning", "message": _POLL_WITHOUT_CURSOR, "method": None, "msg_id": None}
            ],
            "keeps_cursor": True,
        },
    }
    out.append(
        Vector(
            "fetch/no_cursor",
            "fetch_body",
            "A fetch result without cursor: it decodes, but as the first response of a session it is "
            "refused (missing_cursor), and as a poll it is reported before its events.",
            no_cursor,
            extra={"session": session},
        )
    )
    out.append(
        Vector(
            "fetch/empty_body",
            "fetch_body",
            "An empty body is an empty fetch result: no events, and no cursor either.",
            b"",
            extra={"session": session},
        )
    )
    out.append(
        Vector(
            "fetch/body_at_limit",
            "fetch_body",
            "A body exactly max_http_body_size long is accepted.",
            polling_body,
            limits={"max_http_body_size": len(polling_body)},
        )
    )
    return out


# --- malformed inputs ----------------------------------------------------------------------------


def malformed_vectors(gz: GzipMembers) -> list[Vector]:
    out: list[Vector] = []
    every_frame = _frame(fx.fetch_result(one_of_each()), gz, log_id=lid(1), compress=True)
    chat = fx.chat("cut short", user=mia(), msg_id=mid(701))
    chat_frame = _frame(fx.fetch_result([chat]), gz, log_id=lid(701), compress=False)
    small = fx.fetch_result(
        [fx.chat("small", user=mia(), msg_id=mid(711)), fx.like(2, user=zoe(), msg_id=mid(712))]
    )
    body = codec.encode_fetch_result(small)
    member = gz(body)
    header, crc, isize = member[:10], member[-8:-4], member[-4:]
    bad_crc = member[:-8] + bytes(b ^ 0xFF for b in crc) + isize
    bad_isize = member[:-4] + (int.from_bytes(isize, "little") + 1).to_bytes(4, "little")
    not_protobuf = b"\xff" * 32
    html = b"<!DOCTYPE html><html><head><title>Access Denied</title></head><body>blocked</body></html>"
    garbage = b"".join(hashlib.sha256(b"webcast vectors: garbage %d" % i).digest() for i in range(2))
    # The first method, the envelope's (field 1 comes first), made invalid UTF-8.
    bad_method = body.replace(b"WebcastChatMessage", b"\xffebcastChatMessage", 1)

    def msg_frame(payload: bytes, compress_type: str = codec.COMPRESS_TYPE_GZIP) -> bytes:
        return codec.encode_push_frame(
            payload_type=codec.PAYLOAD_TYPE_MSG,
            payload=payload,
            log_id=lid(711),
            headers=[(codec.HEADER_COMPRESS_TYPE, compress_type)],
        )

    # (name, reason, description, frame)
    frames: list[tuple[str, str, str, bytes]] = [
        (
            "truncated_frame",
            "invalid_frame",
            "push/all_types_gzip cut in the middle of its payload.",
            every_frame[: len(every_frame) // 2],
        ),
        (
            "truncated_frame_last_byte",
            "invalid_frame",
            "A plain msg frame without its last byte.",
            chat_frame[:-1],
        ),
        ("garbage", "invalid_frame", "64 bytes of SHA-256 output.", garbage),
        ("html_page", "invalid_frame", "An HTML page where a frame should be.", html),
        (
            "json_text",
            "invalid_frame",
            "JSON text where a frame should be.",
            b'{"status_code": 4003, "message": "blocked"}',
        ),
        (
            "compress_type_gzip_plain_payload",
            "gzip_header_mismatch",
            "compress_type gzip on a payload that is plain protobuf.",
            msg_frame(body),
        ),
        (
            "compress_type_last_gzip",
            "gzip_header_mismatch",
            "compress_type none, then gzip, on a plain payload: the last header wins.",
            codec.encode_push_frame(
                payload_type=codec.PAYLOAD_TYPE_MSG,
                payload=body,
                log_id=lid(711),
                headers=[(codec.HEADER_COMPRESS_TYPE, "none"), (codec.HEADER_COMPRESS_TYPE, "gzip")],
            ),
        ),
        ("gzip_bad_crc", "corrupt_gzip", "A gzip member whose CRC-32 is wrong.", msg_frame(bad_crc)),
        (
            "gzip_bad_isize",
            "corrupt_gzip",
            "A gzip member whose ISIZE is one too many.",
            msg_frame(bad_isize),
        ),
        # BFINAL = 1 and BTYPE = 11, the reserved block type (RFC 1951 §3.2.3).
        (
            "gzip_invalid_block_type",
            "corrupt_gzip",
            "Deflate data of the reserved block type 3.",
            msg_frame(header + b"\x07\x00\x00"),
        ),
        (
            "gzip_reserved_flags",
            "corrupt_gzip",
            "A gzip header with reserved FLG bits set (RFC 1952 §2.3.1).",
            msg_frame(member[:3] + b"\xe0" + member[4:]),
        ),
        (
            "gzip_truncated",
            "truncated_gzip",
            "A gzip member cut in half.",
            msg_frame(member[: len(member) // 2]),
        ),
        (
            "gzip_header_only",
            "truncated_gzip",
            "The 10-byte gzip header and nothing else.",
            msg_frame(header),
        ),
        (
            "gzip_trailing_bytes",
            "trailing_gzip_data",
            "Four bytes after the gzip member.",
            msg_frame(member + b"junk"),
        ),
        (
            "gzip_two_members",
            "trailing_gzip_data",
            "Two gzip members back to back.",
            msg_frame(member + member),
        ),
        (
            "gzip_twice",
            "invalid_fetch_result",
            "A payload gzip'd twice: inflated once, it is gzip, not a fetch result.",
            msg_frame(gz(member)),
        ),
        (
            "gzip_not_protobuf",
            "invalid_fetch_result",
            "Valid gzip of bytes that are not protobuf.",
            msg_frame(gz(not_protobuf)),
        ),
        (
            "plain_not_protobuf",
            "invalid_fetch_result",
            "compress_type none and a payload that is not protobuf.",
            msg_frame(not_protobuf, "none"),
        ),
        (
            "envelope_method_not_utf8",
            "invalid_fetch_result",
            "A message envelope whose method is not UTF-8 makes the whole fetch result invalid.",
            msg_frame(bad_method, "none"),
        ),
    ]
    out += [Vector(f"malformed/{n}", "push_frame", d, data, error=r) for n, r, d, data in frames]
    bodies: list[tuple[str, str, str, bytes]] = [
        ("fetch_html", "invalid_fetch_result", "An HTML page where an im/fetch body should be.", html),
        ("fetch_truncated", "invalid_fetch_result", "A plain body without its last byte.", body[:-1]),
        ("fetch_bad_crc", "corrupt_gzip", "A gzip'd body whose CRC-32 is wrong.", bad_crc),
        ("fetch_gzip_truncated", "truncated_gzip", "A gzip'd body cut in half.", member[: len(member) // 2]),
    ]
    out += [Vector(f"malformed/{n}", "fetch_body", d, data, error=r) for n, r, d, data in bodies]

    # Limits: one past each (the *_at_limit vectors are accepted).
    out += [
        Vector(
            "malformed/frame_size_past_limit",
            "push_frame",
            "A frame one byte longer than max_frame_size.",
            chat_frame,
            limits={"max_frame_size": len(chat_frame) - 1},
            error="frame_too_large",
        ),
        Vector(
            "malformed/decompressed_size_past_limit",
            "push_frame",
            "A payload inflating to one byte more than max_decompressed_size.",
            msg_frame(member),
            limits={"max_decompressed_size": len(body) - 1},
            error="decompressed_too_large",
        ),
        Vector(
            "malformed/too_many_messages",
            "push_frame",
            "Two messages where max_messages_per_frame is 1.",
            msg_frame(member),
            limits={"max_messages_per_frame": 1},
            error="too_many_messages",
        ),
        Vector(
            "malformed/fetch_body_past_limit",
            "fetch_body",
            "A body one byte longer than max_http_body_size.",
            body,
            limits={"max_http_body_size": len(body) - 1},
            error="body_too_large",
        ),
        Vector(
            "malformed/fetch_too_many_messages",
            "fetch_body",
            "Two messages where max_messages_per_frame is 1.",
            body,
            limits={"max_messages_per_frame": 1},
            error="too_many_messages",
        ),
    ]

    # The bomb's fetch result is valid: only the limit stops it.
    bomb_content = codec.encode_fetch_result(
        fx.fetch_result(
            [fx.chat("a bomb", user=mia(), msg_id=mid(721))], internal_ext="A" * _BOMB_FILLER_SIZE
        )
    )
    bomb = gz(bomb_content)
    bomb_frame = msg_frame(bomb)
    if len(bomb_frame) > _MAX_BOMB_FILE:
        raise AssertionError(f"the gzip bomb frame is {len(bomb_frame)} bytes")
    inflated: dict[str, JSONValue] = {"inflated_size": len(bomb_content)}
    out += [
        Vector(
            "malformed/gzip_bomb_frame",
            "push_frame",
            f"A msg frame of {len(bomb_frame)} bytes whose payload inflates to {len(bomb_content)} bytes, "
            "past the default max_decompressed_size (8 MiB). Without the limit it would decode: its "
            "fetch result is valid, with a 9 MiB internal_ext.",
            bomb_frame,
            error="decompressed_too_large",
            extra=inflated,
        ),
        Vector(
            "malformed/gzip_bomb_body",
            "fetch_body",
            "The gzip bomb of gzip_bomb_frame as an im/fetch body.",
            bomb,
            error="decompressed_too_large",
            extra=inflated,
        ),
    ]
    return out


# --- client frames -------------------------------------------------------------------------------


def client_vectors() -> list[Vector]:
    out: list[Vector] = []

    def client(
        name: str,
        description: str,
        encoder: str,
        args: dict[str, JSONValue],
        data: bytes,
        source: str | None = None,
    ) -> None:
        extra: dict[str, JSONValue] = {} if source is None else {"source": source}
        out.append(
            Vector(
                f"client/{name}", "client_frame", description, data, encoder=encoder, args=args, extra=extra
            )
        )

    spec_ext = "internal_src:dim|seq:1"
    client(
        "spec_ack",
        "SPEC.md §4.3's example ack ([TL]): log_id 123456789, internal_ext internal_src:dim|seq:1.",
        "ack",
        {"log_id": "123456789", "internal_ext": spec_ext},
        _same(codec.encode_ack(123456789, spec_ext), SPEC_ACK),
        "SPEC.md §4.3",
    )
    client(
        "spec_heartbeat",
        "SPEC.md §4.4's example heartbeat ([TL]): room 7448811992334045998, seq 1.",
        "heartbeat",
        {"room_id": str(ROOM), "seq_id": "1"},
        _same(codec.encode_heartbeat(ROOM, 1), SPEC_HEARTBEAT),
        "SPEC.md §4.4",
    )
    client(
        "spec_enter_room",
        "SPEC.md §4.5's example enter-room ([TL]): room 7448811992334045998, every other field at its "
        "default.",
        "enter_room",
        {"room_id": str(ROOM)},
        _same(codec.encode_enter_room(ROOM), SPEC_ENTER_ROOM),
        "SPEC.md §4.5",
    )
    client(
        "ack_empty_internal_ext",
        'An ack for an empty internal_ext carries "-" ([TL]).',
        "ack",
        {"log_id": "1", "internal_ext": ""},
        codec.encode_ack(1, ""),
    )
    ext = fx.fetch_result().internal_ext
    client(
        "ack_max_log_id",
        "An ack with log_id 2**63 - 1 and the fixtures' internal_ext.",
        "ack",
        {"log_id": str(MAX_INT64), "internal_ext": ext},
        codec.encode_ack(MAX_INT64, ext),
    )
    client(
        "ack_log_id_zero",
        "An ack with log_id 0: the field is omitted (proto3 writes no default values).",
        "ack",
        {"log_id": "0", "internal_ext": "seq:9|é"},
        codec.encode_ack(0, "seq:9|é"),
    )
    client(
        "heartbeat_large",
        "A heartbeat with room 2**63 - 1 and seq 300 (a two-byte varint).",
        "heartbeat",
        {"room_id": str(MAX_INT64), "seq_id": "300"},
        codec.encode_heartbeat(MAX_INT64, 300),
    )
    client(
        "heartbeat_room_zero",
        "A heartbeat with room 0: the room_id field is omitted.",
        "heartbeat",
        {"room_id": "0", "seq_id": "1"},
        codec.encode_heartbeat(0, 1),
    )
    cursor = "t-1734000000000_r-1_d-1_u-1"
    client(
        "enter_room_c2",
        "An enter-room as [C2] sends it: a cursor and an enter_unique_id (2**63 - 1).",
        "enter_room",
        {"room_id": str(ROOM), "cursor": cursor, "enter_unique_id": str(MAX_INT64)},
        codec.encode_enter_room(ROOM, cursor=cursor, enter_unique_id=MAX_INT64),
    )
    return out


def _same(encoded: bytes, spec: bytes) -> bytes:
    if encoded != spec:
        raise AssertionError(f"the codec no longer reproduces SPEC.md's example: {encoded.hex(' ')}")
    return encoded


# --------------------------------------------------------------------------------------------
# What each vector gives
# --------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def describe_frame(frame: pb.WebcastPushFrame) -> dict[str, JSONValue]:
    payload = frame.payload
    return {
        "seq_id": str(frame.seq_id),
        "log_id": str(frame.log_id),
        "service": frame.service,
        "method": frame.method,
        "headers": [{"key": h.key, "value": h.value} for h in frame.headers],
        "payload_encoding": frame.payload_encoding,
        "payload_type": frame.payload_type,
        "payload_size": len(payload),
        "payload_is_gzip": codec.is_gzip(payload),
    }


def describe_result(result: pb.ProtoMessageFetchResult) -> dict[str, JSONValue]:
    return {
        "messages": [
            {"method": m.method, "msg_id": str(m.msg_id), "payload_size": len(m.payload)}
            for m in result.messages
        ],
        "cursor": result.cursor,
        "fetch_interval": result.fetch_interval,
        "now": result.now,
        "internal_ext": result.internal_ext,
        "fetch_type": result.fetch_type,
        "route_params": dict(sorted(result.route_params.items())),
        "heartbeat_duration": result.heartbeat_duration,
        "need_ack": result.need_ack,
        "push_server": result.push_server,
        "is_first": result.is_first,
        "history_comment_cursor": result.history_comment_cursor,
        "history_no_more": result.history_no_more,
    }


def derived(events: Sequence[Event]) -> list[JSONValue]:
    """The properties to_dict leaves out, for the events that have them."""
    out: list[JSONValue] = []
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


def _decoded(events: Sequence[Event]) -> dict[str, JSONValue]:
    return {"events": [e.to_dict() for e in events], "derived": derived(events)}


def expected(vector: Vector) -> dict[str, JSONValue]:
    """The expected JSON of a vector that decodes (or is encoded)."""
    limits = _limits(vector.limits)
    if vector.kind == "push_frame":
        frame = codec.parse_push_frame(vector.data, limits=limits)
        result = (
            describe_result(codec.fetch_result_from_frame(frame, limits=limits))
            if frame.payload_type == codec.PAYLOAD_TYPE_MSG
            else None
        )
        pushed: dict[str, JSONValue] = {"frame": describe_frame(frame), "fetch_result": result}
        pushed.update(_decoded(decode_push_frame(vector.data, limits=limits)))
        return pushed
    if vector.kind == "fetch_body":
        fetched: dict[str, JSONValue] = {
            "body_is_gzip": codec.is_gzip(vector.data),
            "fetch_result": describe_result(codec.parse_fetch_result(vector.data, limits=limits)),
        }
        fetched.update(_decoded(decode_fetch_response(vector.data, limits=limits)))
        return fetched
    frame = codec.parse_push_frame(vector.data)
    return {"frame": describe_frame(frame), "payload": _client_payload(vector.encoder, frame.payload)}


def _client_payload(encoder: str | None, payload: bytes) -> dict[str, JSONValue]:
    if encoder == "ack":
        return {"internal_ext": codec.parse_ack(payload), "raw": _b64(payload)}
    if encoder == "heartbeat":
        hb = codec.parse_heartbeat(payload)
        return {"room_id": str(hb.room_id), "send_packet_seq_id": str(hb.send_packet_seq_id)}
    enter = codec.parse_enter_room(payload)
    return {
        "room_id": str(enter.room_id),
        "room_tag": enter.room_tag,
        "live_region": enter.live_region,
        "live_id": str(enter.live_id),
        "identity": enter.identity,
        "cursor": enter.cursor,
        "account_type": enter.account_type,
        "enter_unique_id": str(enter.enter_unique_id),
        "filter_welcome_msg": enter.filter_welcome_msg,
        "is_anchor_continue_keep_msg": enter.is_anchor_continue_keep_msg,
    }


def check_error(vector: Vector) -> None:
    """Decode a malformed vector: it must fail as it says, with the close code of its reason."""
    decode: Callable[..., list[Event]] = (
        decode_push_frame if vector.kind == "push_frame" else decode_fetch_response
    )
    try:
        decode(vector.data, limits=_limits(vector.limits))
    except RemoteProtocolError as exc:
        close_code, _ = ERRORS[vector.error or ""]
        if vector.kind == "push_frame" and exc.close_code != close_code:
            raise AssertionError(f"{vector.name}: close code {exc.close_code}, not {close_code}") from exc
        return
    raise AssertionError(f"{vector.name} decodes, but should fail with {vector.error}")


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

# Characters written as \u escapes in JSON: invisible, bidi, combining or otherwise confusing ones, so
# the files show what they hold (json already escapes those below U+0020).
_ESCAPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Mc", "Me", "Mn", "Zl", "Zp", "Zs"})
_NON_ASCII: Final = re.compile(r"[^\x00-\x7e]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def dump_json(value: JSONValue) -> bytes:
    """Pretty-printed, sorted keys, UTF-8, a trailing newline; confusing characters escaped."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return (_NON_ASCII.sub(_escape, text) + "\n").encode()


def build(gz: GzipMembers) -> dict[str, bytes]:
    """Every generated file: path under vectors/ → content."""
    vectors = [*push_vectors(gz), *fetch_vectors(gz), *malformed_vectors(gz), *client_vectors()]
    files: dict[str, bytes] = {}
    entries: list[JSONValue] = []
    if len({v.name for v in vectors}) != len(vectors):
        raise AssertionError("two vectors have the same name")
    for vector in vectors:
        entry: dict[str, JSONValue] = {
            "name": vector.name,
            "kind": vector.kind,
            "description": vector.description,
            "input": f"{vector.name}.bin",
            "input_size": len(vector.data),
            "limits": dict(vector.limits),
            "expected": None,
            "error": None,
        }
        files[f"{vector.name}.bin"] = vector.data
        if vector.error is None:
            entry["expected"] = f"{vector.name}.json"
            files[f"{vector.name}.json"] = dump_json(expected(vector))
        else:
            check_error(vector)
            entry["error"] = {
                "class": "RemoteProtocolError",
                "reason": vector.error,
                "close_code": ERRORS[vector.error][0] if vector.kind == "push_frame" else None,
            }
        if vector.encoder is not None:
            entry["encoder"] = vector.encoder
            entry["args"] = dict(vector.args)
        entry.update(vector.extra)
        entries.append(entry)
    manifest: dict[str, JSONValue] = {
        "format_version": FORMAT_VERSION,
        "generator": "scripts/gen_vectors.py",
        "schema": "proto/webcast.proto",
        "default_limits": {name: getattr(DEFAULT_LIMITS, name) for name in _LIMIT_NAMES},
        "errors": {
            reason: {"class": "RemoteProtocolError", "close_code": code, "description": text}
            for reason, (code, text) in ERRORS.items()
        },
        "vectors": entries,
    }
    files[_MANIFEST] = dump_json(manifest)
    return files


def committed_files() -> dict[str, bytes]:
    """The generated files now under vectors/."""
    found: dict[str, bytes] = {}
    for folder in _DIRS:
        for path in sorted((VECTORS / folder).glob("*")):
            if path.is_file():
                found[path.relative_to(VECTORS).as_posix()] = path.read_bytes()
    manifest = VECTORS / _MANIFEST
    if manifest.is_file():
        found[_MANIFEST] = manifest.read_bytes()
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if vectors/ differs from a fresh run")
    options = parser.parse_args(argv)

    old = committed_files()
    gz = GzipMembers()
    for data in old.values():
        gz.learn(data)
    files = build(gz)
    if build(gz) != files:
        raise AssertionError("two runs differ: a vector depends on the fixtures' id counter")

    stale = sorted(path for path in old.keys() | files.keys() if old.get(path) != files.get(path))
    if options.check:
        if stale:
            print(
                f"vectors/ is stale ({len(stale)} files differ): run python scripts/gen_vectors.py",
                file=sys.stderr,
            )
            for path in stale:
                state = "missing" if path not in old else "extra" if path not in files else "differs"
                print(f"  {state}: vectors/{path}", file=sys.stderr)
            return 1
        print(f"vectors/ is up to date ({len(files)} files)")
        return 0
    for path in stale:
        target = VECTORS / path
        if path in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[path])
        else:
            target.unlink()
    print(f"wrote {len(stale)} of {len(files)} files under vectors/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
