"""Builders of valid, realistic WebCast traffic: every message type, users, fetch results, frames.

Tests, fuzzing, the mock server and the benchmarks share this one source of valid traffic
(ARCHITECTURE.md "Fixtures and research"), so nobody assembles protobuf bytes by hand. Each message
builder returns the protobuf message with realistic defaults (unicode nicknames, 64-bit ids, the
display text keys TikTok sends, SPEC.md §8); keywords override any of them. :func:`wrap` puts a
message in its ``BaseProtoMessage`` envelope, :func:`fetch_result` gathers envelopes, and
:func:`message_frame` encodes them as the push server would.

Ids: where a builder's id is omitted it takes the next one of a process-wide counter, so ids are
unique and the same sequence of calls gives the same ids. Tests comparing ids pass them explicitly.
:func:`realistic_mix` derives everything from its ``seed``. Nothing here reads a clock or imports
``random`` (STYLE.md §13): the mix draws from a small linear congruential generator.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypeAlias

from webcast_proto import codec
from webcast_proto._pb import webcast_pb2 as pb

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = [
    "DEFAULT_CREATE_TIME",
    "DEFAULT_NOW",
    "DEFAULT_PUSH_SERVER",
    "DEFAULT_ROOM_ID",
    "GIFTS",
    "HOST_USER_ID",
    "NICKNAMES",
    "WebcastMessage",
    "army",
    "army_participant",
    "battle_anchor",
    "battle_result",
    "chat",
    "chat_emote",
    "control",
    "emote",
    "emote_chat",
    "envelope",
    "fetch_result",
    "gift",
    "gifter_level_badge",
    "image_badge",
    "like",
    "link_mic_armies",
    "link_mic_battle",
    "live_intro",
    "member",
    "message_frame",
    "moderator_badge",
    "new_gifter_badge",
    "next_id",
    "privilege_badge",
    "push_frame",
    "question_new",
    "realistic_mix",
    "room_user_seq",
    "social",
    "social_follow",
    "social_share",
    "sub_notify",
    "subscriber_badge",
    "team_member_badge",
    "text_badge",
    "top_gifter_badge",
    "user",
    "wrap",
]

WebcastMessage: TypeAlias = (
    "pb.WebcastChatMessage | pb.WebcastMemberMessage | pb.WebcastGiftMessage | pb.WebcastRoomUserSeqMessage"
    " | pb.WebcastLikeMessage | pb.WebcastSocialMessage | pb.WebcastEmoteChatMessage"
    " | pb.WebcastEnvelopeMessage | pb.WebcastQuestionNewMessage | pb.WebcastLinkMicBattle"
    " | pb.WebcastLinkMicArmies | pb.WebcastLiveIntroMessage | pb.WebcastSubNotifyMessage"
    " | pb.WebcastControlMessage"
)
"""Any message type a builder here makes: each has its ``CommonMessageData`` as field 1."""

# The room of SPEC.md §4.4's heartbeat example.
DEFAULT_ROOM_ID: Final = 7448811992334045998
HOST_USER_ID: Final = 6813181309701145606
# 2024-12-12T10:40:00Z in ms, the era of SPEC.md's current peers.
DEFAULT_CREATE_TIME: Final = 1_734_000_000_000
DEFAULT_NOW: Final = DEFAULT_CREATE_TIME
DEFAULT_PUSH_SERVER: Final = "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/"

# Ids near TikTok's: 19 digits, above 2**53 so that anything losing precision shows.
_ID_BASE: Final = 7_440_000_000_000_000_000
_MIX_ID_BASE: Final = 7_450_000_000_000_000_000
_ids = itertools.count(1)

NICKNAMES: Final = (
    "Mia ✨",
    "Łukasz",
    "東京タロウ",
    "Zoë 🦋",
    "😂😂😂",
    "محمد",
    "Ana-María",
    "김민준",
    "user8271635",
    "Ｆｕｌｌｗｉｄｔｈ",
    "🇧🇷 João",
    "Ελένη",
    "x\u200dy",
    "Дмитрий",
)
"""Nicknames as they come: scripts, emoji, flags, full-width and zero-width characters."""

# Known gifts: id → (name, diamond_count, type). Type 1 gifts stream (SPEC.md §8 "Streaks").
GIFTS: Final[Mapping[int, tuple[str, int, int]]] = MappingProxyType(
    {
        5655: ("Rose", 1, 1),
        5269: ("TikTok", 1, 1),
        5827: ("Ice Cream Cone", 1, 1),
        6064: ("GG", 1, 1),
        5487: ("Finger Heart", 5, 1),
        5879: ("Doughnut", 30, 1),
        5585: ("Confetti", 100, 1),
        6267: ("Corgi", 299, 2),
        6369: ("Lion", 29999, 2),
    }
)

_CDN: Final = "https://p16-webcast.tiktokcdn.com"
_AVATAR_CDN: Final = "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068"


def next_id() -> int:
    """A fresh 64-bit id from the process-wide counter."""
    return _ID_BASE + next(_ids)


def _common(
    method: str, msg_id: int | None, room_id: int, create_time: int, display_key: str, display_pattern: str
) -> pb.CommonMessageData:
    common = pb.CommonMessageData(
        method=method,
        msg_id=next_id() if msg_id is None else msg_id,
        room_id=room_id,
        create_time=create_time,
    )
    if display_key or display_pattern:
        common.display_text.key = display_key
        common.display_text.default_pattern = display_pattern
    return common


def _image(*urls: str) -> pb.ImageModel:
    return pb.ImageModel(url_list=urls)


# --------------------------------------------------------------------------------------------
# Users and badges
# --------------------------------------------------------------------------------------------


def text_badge(key: str, name: str, *, scene_type: int = 0) -> pb.BadgeStruct:
    """A text badge (field 21): its key becomes the badge ``type``, its pattern the ``name``."""
    return pb.BadgeStruct(
        display_type=2,
        scene_type=scene_type,
        text=pb.TextBadge(display_type=2, key=key, default_pattern=name),
    )


def image_badge(url: str, *, scene_type: int = 0, display_type: int = 1) -> pb.BadgeStruct:
    """An image badge (field 20) showing ``url``."""
    return pb.BadgeStruct(
        display_type=1,
        scene_type=scene_type,
        image=pb.ImageBadge(display_type=display_type, image=_image(url)),
    )


def privilege_badge(
    level: int | str, *, scene_type: int = 8, privilege_id: str = "7138381747292542756"
) -> pb.BadgeStruct:
    """A badge with a privilege level (field 12); ``level`` is sent as a string, ``"0"`` for none."""
    return pb.BadgeStruct(
        display_type=4,
        scene_type=scene_type,
        privilege_log_extra=pb.PrivilegeLogExtra(
            data_version="2", privilege_id=privilege_id, privilege_version="0", level=str(level)
        ),
    )


def moderator_badge(*, scene_type: int = 1) -> pb.BadgeStruct:
    """The moderator badge: key ``pm_mt_moderator_im``, scene type 1 (ADMIN)."""
    return text_badge("pm_mt_moderator_im", "Moderator", scene_type=scene_type)


def subscriber_badge(*, scene_type: int = 4) -> pb.BadgeStruct:
    """A subscriber badge: an image under ``/sub_``, scene type 4 (SUBSCRIBER)."""
    return image_badge(
        f"{_CDN}/webcast-va/sub_e0b3a2f1d8c7b6a5.png~tplv-obj.image", scene_type=scene_type, display_type=1
    )


def top_gifter_badge(rank: int = 1, *, scene_type: int = 6) -> pb.BadgeStruct:
    """A top-gifter badge: ``/ranklist_top_gifter_{rank}.png``, scene type 6 (RANK_LIST)."""
    return image_badge(
        f"{_CDN}/webcast-va/ranklist_top_gifter_{rank}.png~tplv-obj.image", scene_type=scene_type
    )


def new_gifter_badge() -> pb.BadgeStruct:
    """The new-gifter badge: a text badge whose key contains ``live_ng_``."""
    return text_badge("live_ng_user_badge_new_gifter", "New gifter")


def gifter_level_badge(level: int) -> pb.BadgeStruct:
    """The gifter level: a privilege badge of scene type 8 (USER_GRADE)."""
    return privilege_badge(level, scene_type=8)


def team_member_badge(level: int) -> pb.BadgeStruct:
    """The fan-team level: a privilege badge of scene type 10 (FANS)."""
    return privilege_badge(level, scene_type=10, privilege_id="7196929090442513409")


def user(
    *,
    user_id: int | None = None,
    nickname: str = "Mia ✨",
    unique_id: str | None = None,
    sec_uid: str | None = None,
    avatar_urls: Sequence[str] | None = None,
    follow_status: int = 0,
    follower_count: int = 128,
    following_count: int = 87,
    verified: bool = False,
    badges: Sequence[pb.BadgeStruct] = (),
) -> pb.User:
    """A user as messages carry it.

    Args:
        user_id: the 64-bit id; a fresh one if omitted.
        nickname: the display name (any unicode).
        unique_id: the @username; ``user{digits}`` from the id if omitted.
        sec_uid: the secure id; derived from the id if omitted.
        avatar_urls: ``avatar_thumb.url_list``; a webp and a jpeg URL if omitted, ``()`` for none.
        follow_status: ``follow_info.follow_status`` (0 none, 1 follower, 2 friends, or any int).
        follower_count / following_count: ``follow_info`` counts.
        verified: the verified flag.
        badges: ``badge_list`` entries (see the badge builders).
    """
    if user_id is None:
        user_id = next_id()
    if avatar_urls is None:
        avatar_urls = (
            f"{_AVATAR_CDN}/{user_id:x}~tplv-tiktokx-cropcenter:100:100.webp",
            f"{_AVATAR_CDN}/{user_id:x}~tplv-tiktokx-cropcenter:100:100.jpeg",
        )
    return pb.User(
        id=user_id,
        nickname=nickname,
        display_id=f"user{user_id % 10**10}" if unique_id is None else unique_id,
        sec_uid=f"MS4wLjABAAAA{user_id:x}" if sec_uid is None else sec_uid,
        avatar_thumb=_image(*avatar_urls),
        verified=verified,
        follow_info=pb.FollowInfo(
            following_count=following_count, follower_count=follower_count, follow_status=follow_status
        ),
        badge_list=badges,
        id_str=str(user_id),
    )


# --------------------------------------------------------------------------------------------
# Message builders. Common keywords: msg_id (fresh if omitted), room_id, create_time (ms),
# display_key / display_pattern (common.display_text).
# --------------------------------------------------------------------------------------------


def chat_emote(
    emote_id: str = "7102317011935006507", *, index: int = 0, url: str | None = None
) -> pb.EmoteWithIndex:
    """An emote placed at ``index`` in a chat comment."""
    return pb.EmoteWithIndex(index=index, emote=emote(emote_id, url=url))


def emote(emote_id: str = "7102317011935006507", *, url: str | None = None) -> pb.EmoteModel:
    """A subscriber emote and its image."""
    image_url = f"{_CDN}/webcast-va/emote_{emote_id}.webp~tplv-obj.image" if url is None else url
    return pb.EmoteModel(emote_id=emote_id, image=_image(image_url), emote_type=1)


def chat(
    comment: str = "hello from the fixtures 👋",
    *,
    user: pb.User | None = None,
    emotes: Sequence[pb.EmoteWithIndex] = (),
    at_user: pb.User | None = None,
    content_language: str = "en",
    user_identity: pb.UserIdentity | None = None,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "",
    display_pattern: str = "",
) -> pb.WebcastChatMessage:
    """A chat comment (``WebcastChatMessage``)."""
    return pb.WebcastChatMessage(
        common=_common("WebcastChatMessage", msg_id, room_id, create_time, display_key, display_pattern),
        user=_user_or_default(user),
        content=comment,
        at_user=at_user,
        emotes=emotes,
        content_language=content_language,
        user_identity=user_identity,
    )


def _user_or_default(value: pb.User | None) -> pb.User:
    # The builders' ``user`` keyword hides the user() builder inside them.
    return user() if value is None else value


def _host() -> pb.User:
    return user(user_id=HOST_USER_ID, nickname="The Host 🎙️", unique_id="the.host", follower_count=250_000)


def member(
    *,
    user: pb.User | None = None,
    action: int = 1,
    member_count: int = 1204,
    enter_type: int = 0,
    action_description: str = "",
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "live_room_enter_toast",
    display_pattern: str = "{0:user} joined",
) -> pb.WebcastMemberMessage:
    """A viewer joining (``WebcastMemberMessage``, action 1 JOINED)."""
    return pb.WebcastMemberMessage(
        common=_common("WebcastMemberMessage", msg_id, room_id, create_time, display_key, display_pattern),
        user=_user_or_default(user),
        action=action,
        member_count=member_count,
        enter_type=enter_type,
        action_description=action_description,
    )


def gift(
    gift_id: int = 5655,
    *,
    repeat_count: int = 1,
    repeat_end: bool = True,
    gift_type: int | None = None,
    gift_name: str | None = None,
    diamond_count: int | None = None,
    describe: str | None = None,
    picture_url: str | None = None,
    user: pb.User | None = None,
    to_user: pb.User | None = None,
    group_id: int = 1_734_000_000_001,
    combo_count: int | None = None,
    group_count: int = 1,
    timestamp: int | None = None,
    receiver_user_id: int = HOST_USER_ID,
    monitor_extra: str = "",
    user_identity: pb.UserIdentity | None = None,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "pm_mt_live_gift_send",
    display_pattern: str = "{0:user} sent {1:gift} × {2:string}",
) -> pb.WebcastGiftMessage:
    """A gift (``WebcastGiftMessage``); by default one Rose, the final event of its streak.

    Name, diamond count and type default to :data:`GIFTS`'s entry for ``gift_id`` (else a 10-diamond
    type 2 gift). A streak (SPEC.md §8): type 1 events with ``repeat_end=False`` and a growing
    ``repeat_count``, then one with ``repeat_end=True``; keep ``group_id`` the same across it.
    """
    known_name, known_diamonds, known_type = GIFTS.get(gift_id, (f"Gift {gift_id}", 10, 2))
    name = known_name if gift_name is None else gift_name
    kind = known_type if gift_type is None else gift_type
    return pb.WebcastGiftMessage(
        common=_common("WebcastGiftMessage", msg_id, room_id, create_time, display_key, display_pattern),
        gift_id=gift_id,
        repeat_count=repeat_count,
        repeat_end=1 if repeat_end else 0,
        combo_count=repeat_count if combo_count is None else combo_count,
        group_count=group_count,
        group_id=group_id,
        user=_user_or_default(user),
        to_user=to_user,
        gift=pb.Gift(
            id=gift_id,
            name=name,
            diamond_count=known_diamonds if diamond_count is None else diamond_count,
            type=kind,
            describe=f"sent {name}" if describe is None else describe,
            image=_image(
                f"{_CDN}/img/maliva/webcast-va/gift_{gift_id}.png~tplv-obj.png"
                if picture_url is None
                else picture_url
            ),
            combo=kind == 1,
        ),
        monitor_info=pb.GiftMonitorInfo(
            anchor_id=receiver_user_id,
            send_gift_send_message_success_ms=create_time if timestamp is None else timestamp,
            to_user_id=receiver_user_id,
        ),
        monitor_extra=monitor_extra,
        user_identity=user_identity,
    )


def room_user_seq(
    total: int = 1523,
    *,
    top_viewers: Sequence[tuple[pb.User, int]] | None = None,
    total_user: int = 18_342,
    popularity: int = 9_800,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "",
    display_pattern: str = "",
) -> pb.WebcastRoomUserSeqMessage:
    """A viewer count update (``WebcastRoomUserSeqMessage``); ``top_viewers`` are (user, coins), ranked."""
    if top_viewers is None:
        top_viewers = [(user(nickname=NICKNAMES[i]), 500 - 150 * i) for i in range(3)]
    return pb.WebcastRoomUserSeqMessage(
        common=_common(
            "WebcastRoomUserSeqMessage", msg_id, room_id, create_time, display_key, display_pattern
        ),
        ranks=[pb.Contributor(score=score, user=u, rank=i + 1) for i, (u, score) in enumerate(top_viewers)],
        total=total,
        total_user=total_user,
        popularity=popularity,
    )


def like(
    count: int = 15,
    *,
    total: int = 48_213,
    user: pb.User | None = None,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "pm_mt_msg_viewer",
    display_pattern: str = "{0:user} sent likes to the host",
) -> pb.WebcastLikeMessage:
    """Likes (``WebcastLikeMessage``): this user's batch ``count`` and the room's ``total``."""
    return pb.WebcastLikeMessage(
        common=_common("WebcastLikeMessage", msg_id, room_id, create_time, display_key, display_pattern),
        count=count,
        total=total,
        user=_user_or_default(user),
    )


def social(
    *,
    display_key: str,
    display_pattern: str = "",
    user: pb.User | None = None,
    action: int = 0,
    follow_count: int = 0,
    share_count: int = 0,
    share_type: int = 0,
    share_target: str = "",
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
) -> pb.WebcastSocialMessage:
    """A ``WebcastSocialMessage`` with any display key (the key decides follow vs share)."""
    return pb.WebcastSocialMessage(
        common=_common("WebcastSocialMessage", msg_id, room_id, create_time, display_key, display_pattern),
        user=_user_or_default(user),
        action=action,
        follow_count=follow_count,
        share_count=share_count,
        share_type=share_type,
        share_target=share_target,
    )


def social_follow(
    *,
    user: pb.User | None = None,
    follow_count: int = 3_208,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "pm_main_follow_message_viewer_2",
    display_pattern: str = "{0:user} followed the LIVE creator",
) -> pb.WebcastSocialMessage:
    """A follow: a social message whose key contains ``follow``."""
    return social(
        display_key=display_key,
        display_pattern=display_pattern,
        user=user,
        action=1,
        follow_count=follow_count,
        msg_id=msg_id,
        room_id=room_id,
        create_time=create_time,
    )


def social_share(
    *,
    user: pb.User | None = None,
    users_joined: int | None = None,
    share_count: int = 1,
    share_type: int = 1,
    share_target: str = "whatsapp",
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_pattern: str = "{0:user} shared the LIVE",
) -> pb.WebcastSocialMessage:
    """A share: key ``pm_mt_guidance_share``, or ``pm_mt_guidance_viewer_{N}_share`` with ``users_joined``."""
    key = "pm_mt_guidance_share" if users_joined is None else f"pm_mt_guidance_viewer_{users_joined}_share"
    return social(
        display_key=key,
        display_pattern=display_pattern,
        user=user,
        action=3,
        share_count=share_count,
        share_type=share_type,
        share_target=share_target,
        msg_id=msg_id,
        room_id=room_id,
        create_time=create_time,
    )


def emote_chat(
    *,
    user: pb.User | None = None,
    emotes: Sequence[pb.EmoteModel] | None = None,
    user_identity: pb.UserIdentity | None = None,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "",
    display_pattern: str = "",
) -> pb.WebcastEmoteChatMessage:
    """A subscriber emote (``WebcastEmoteChatMessage``): one emote unless ``emotes`` says otherwise."""
    return pb.WebcastEmoteChatMessage(
        common=_common("WebcastEmoteChatMessage", msg_id, room_id, create_time, display_key, display_pattern),
        user=_user_or_default(user),
        emote_list=[emote()] if emotes is None else emotes,
        user_identity=user_identity,
    )


def envelope(
    *,
    envelope_id: str = "7448912345678901234",
    business_type: int = 1,
    diamond_count: int = 1_000,
    people_count: int = 20,
    unpack_at: int = 1_734_000_060,
    sender: pb.User | None = None,
    send_user_name: str | None = None,
    send_user_id: str | None = None,
    display: int = 1,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "pm_mt_send_treasure_box",
    display_pattern: str = "{0:user} sent a treasure chest",
) -> pb.WebcastEnvelopeMessage:
    """A treasure chest (``WebcastEnvelopeMessage``).

    The sender goes where the seed reads it, the display text's first piece (SPEC.md §8); its name
    and decimal id fill ``send_user_name``/``send_user_id`` unless given. A fresh user if omitted.
    """
    sender = _user_or_default(sender)
    common = _common("WebcastEnvelopeMessage", msg_id, room_id, create_time, display_key, display_pattern)
    common.display_text.pieces.add(type=11, user_value=pb.TextPieceUser(user=sender, with_colon=False))
    return pb.WebcastEnvelopeMessage(
        common=common,
        envelope_info=pb.MessageRedEnvelopInfo(
            envelope_id=envelope_id,
            business_type=business_type,
            send_user_name=sender.nickname if send_user_name is None else send_user_name,
            diamond_count=diamond_count,
            people_count=people_count,
            unpack_at=unpack_at,
            send_user_id=str(sender.id) if send_user_id is None else send_user_id,
            room_id=str(room_id),
        ),
        display=display,
    )


def question_new(
    content: str = "What game is this? 🎮",
    *,
    question_id: int | None = None,
    user: pb.User | None = None,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "",
    display_pattern: str = "",
) -> pb.WebcastQuestionNewMessage:
    """A Q&A question (``WebcastQuestionNewMessage``)."""
    return pb.WebcastQuestionNewMessage(
        common=_common(
            "WebcastQuestionNewMessage", msg_id, room_id, create_time, display_key, display_pattern
        ),
        data=pb.Question(
            question_id=next_id() if question_id is None else question_id,
            content=content,
            create_time=create_time // 1000,
            user=_user_or_default(user),
        ),
    )


def battle_anchor(
    user_id: int | None = None,
    *,
    nickname: str = "Host ⚔️",
    unique_id: str | None = None,
    avatar_url: str | None = None,
    room_id: int | None = None,
) -> pb.BattleBaseUserInfo:
    """A host taking part in a battle (``anchors_info`` value user)."""
    if user_id is None:
        user_id = next_id()
    return pb.BattleBaseUserInfo(
        user_id=user_id,
        nick_name=nickname,
        avatar_thumb=_image(
            f"{_AVATAR_CDN}/{user_id:x}~tplv-tiktokx-cropcenter:100:100.webp"
            if avatar_url is None
            else avatar_url
        ),
        display_id=f"host{user_id % 10**8}" if unique_id is None else unique_id,
        room_id=next_id() if room_id is None else room_id,
    )


def battle_result(
    user_id: int, *, result: int = 0, score: int = 0, diamond_score: int = 0
) -> pb.BattleResult:
    """One host's battle result: ``result`` 0 win, 1 lose, 2 draw."""
    return pb.BattleResult(user_id=user_id, result=result, score=score, diamond_score=diamond_score)


def link_mic_battle(
    *,
    battle_id: int | None = None,
    action: int = 4,
    anchors: Sequence[pb.BattleBaseUserInfo] | None = None,
    results: Sequence[pb.BattleResult] = (),
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "",
    display_pattern: str = "",
) -> pb.WebcastLinkMicBattle:
    """A battle between hosts (``WebcastLinkMicBattle``); two hosts, action 4 (OPEN) by default.

    ``results`` are keyed by their ``user_id`` on the wire.
    """
    if anchors is None:
        anchors = [battle_anchor(HOST_USER_ID, room_id=room_id), battle_anchor(nickname="Rival 🔥")]
    return pb.WebcastLinkMicBattle(
        common=_common("WebcastLinkMicBattle", msg_id, room_id, create_time, display_key, display_pattern),
        battle_id=next_id() if battle_id is None else battle_id,
        action=action,
        anchors_info=[
            pb.BattleUserInfoWrapper(key=a.user_id, value=pb.BattleUserInfo(user=a)) for a in anchors
        ],
        battle_result=[pb.BattleResultEntry(key=r.user_id, value=r) for r in results],
    )


def army_participant(
    user_id: int | None = None, *, nickname: str = "Zoë 🦋", score: int = 10
) -> pb.BattleUserArmy:
    """A supporter in a battle army."""
    if user_id is None:
        user_id = next_id()
    return pb.BattleUserArmy(user_id=user_id, nickname=nickname, score=score, user_id_str=str(user_id))


def army(points: int = 0, participants: Sequence[pb.BattleUserArmy] = ()) -> pb.BattleUserArmies:
    """One host's side of a battle: its points and top supporters."""
    return pb.BattleUserArmies(user_armies=participants, hostscore=points)


def link_mic_armies(
    *,
    battle_id: int | None = None,
    armies: Mapping[int, pb.BattleUserArmies] | None = None,
    trigger_reason: int = 1,
    from_user_id: int = 0,
    gift_id: int = 0,
    gift_count: int = 0,
    total_diamond_count: int = 0,
    repeat_count: int = 0,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "",
    display_pattern: str = "",
) -> pb.WebcastLinkMicArmies:
    """Battle scores (``WebcastLinkMicArmies``): ``armies`` maps host user id → :func:`army`, in order."""
    if armies is None:
        armies = {
            HOST_USER_ID: army(
                120, [army_participant(score=100), army_participant(nickname="Łukasz", score=20)]
            ),
            next_id(): army(45, [army_participant(nickname="東京タロウ", score=45)]),
        }
    return pb.WebcastLinkMicArmies(
        common=_common("WebcastLinkMicArmies", msg_id, room_id, create_time, display_key, display_pattern),
        battle_id=next_id() if battle_id is None else battle_id,
        armies=[pb.UserArmiesWrapper(key=host, value=value) for host, value in armies.items()],
        trigger_reason=trigger_reason,
        from_user_id=from_user_id,
        gift_id=gift_id,
        gift_count=gift_count,
        total_diamond_count=total_diamond_count,
        repeat_count=repeat_count,
    )


def live_intro(
    content: str = "Welcome to the stream! 🎉 Be kind.",
    *,
    intro_id: int | None = None,
    user: pb.User | None = None,
    audit_status: int = 2,
    intro_mode: int = 0,
    content_language: str = "en",
    badges: Sequence[pb.BadgeStruct] = (),
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "",
    display_pattern: str = "",
) -> pb.WebcastLiveIntroMessage:
    """The host's intro text (``WebcastLiveIntroMessage``); the user is the host by default."""
    return pb.WebcastLiveIntroMessage(
        common=_common("WebcastLiveIntroMessage", msg_id, room_id, create_time, display_key, display_pattern),
        id=next_id() if intro_id is None else intro_id,
        audit_status=audit_status,
        content=content,
        user=_host() if user is None else user,
        intro_mode=intro_mode,
        badges=badges,
        content_language=content_language,
    )


def sub_notify(
    *,
    user: pb.User | None = None,
    sub_month: int = 1,
    exhibition_type: int = 2,
    subscribe_type: int = 1,
    old_subscribe_status: int = 0,
    subscribing_status: int = 2,
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "ttlive_subscriber_notify",
    display_pattern: str = "{0:user} just subscribed to the host",
) -> pb.WebcastSubNotifyMessage:
    """A subscription (``WebcastSubNotifyMessage``); a first-month auto-renewing one by default."""
    return pb.WebcastSubNotifyMessage(
        common=_common("WebcastSubNotifyMessage", msg_id, room_id, create_time, display_key, display_pattern),
        user=_user_or_default(user),
        exhibition_type=exhibition_type,
        sub_month=sub_month,
        subscribe_type=subscribe_type,
        old_subscribe_status=old_subscribe_status,
        subscribing_status=subscribing_status,
    )


def control(
    action: int = 3,
    *,
    tips: str = "",
    msg_id: int | None = None,
    room_id: int = DEFAULT_ROOM_ID,
    create_time: int = DEFAULT_CREATE_TIME,
    display_key: str = "",
    display_pattern: str = "",
) -> pb.WebcastControlMessage:
    """A control message (``WebcastControlMessage``); action 3, the stream ended, by default."""
    return pb.WebcastControlMessage(
        common=_common("WebcastControlMessage", msg_id, room_id, create_time, display_key, display_pattern),
        action=action,
        tips=tips,
    )


# --------------------------------------------------------------------------------------------
# Envelopes, fetch results and frames
# --------------------------------------------------------------------------------------------


def wrap(message: WebcastMessage, *, msg_id: int | None = None) -> pb.BaseProtoMessage:
    """Put ``message`` in its envelope: method = the message type's name, payload = its bytes.

    Args:
        message: a message built here (or any message with ``common`` as field 1).
        msg_id: the envelope's ``msg_id``; the message's ``common.msg_id`` if omitted.
    """
    return pb.BaseProtoMessage(
        method=type(message).DESCRIPTOR.name,
        payload=message.SerializeToString(),
        msg_id=message.common.msg_id if msg_id is None else msg_id,
    )


def _default_internal_ext(now: int, room_id: int) -> str:
    # The shape of SPEC.md §5's example: opaque to clients, echoed back in acks and polls.
    return (
        f"internal_src:dim|wss_push_room_id:{room_id}|wss_push_did:7448811992334045999"
        f"|first_req_ms:{now}|fetch_time:{now}|seq:1|wss_info:0-{now}-0-0"
    )


def fetch_result(
    messages: Iterable[pb.BaseProtoMessage | WebcastMessage] = (),
    *,
    cursor: str | None = None,
    internal_ext: str | None = None,
    push_server: str = DEFAULT_PUSH_SERVER,
    route_params: Mapping[str, str] | None = None,
    need_ack: bool = True,
    is_first: bool = False,
    fetch_interval: int = 1000,
    heartbeat_duration: int = 10_000,
    now: int = DEFAULT_NOW,
    fetch_type: int = 1,
    room_id: int = DEFAULT_ROOM_ID,
) -> pb.ProtoMessageFetchResult:
    """A fetch result (SPEC.md §6.1) carrying ``messages``; unwrapped messages are wrapped.

    Args:
        messages: envelopes, or messages to :func:`wrap`.
        cursor: ``t-{now}_r-1_d-1_u-1`` if omitted.
        internal_ext: an ``internal_src:dim|…`` string naming ``room_id`` and ``now`` if omitted.
        push_server: the WebSocket URL offered; ``""`` offers none (polling).
        route_params: opaque params for the socket URL; ``imprp``, ``wrss`` and ``im_path`` if
            omitted.
        need_ack: whether the client should ack the frame carrying this result.
        is_first: set on the initial result (SPEC.md §4.5).
        fetch_interval / heartbeat_duration / now: milliseconds.
        fetch_type: 1 websocket, 2 polling.
        room_id: the room named in the default ``internal_ext``.
    """
    if route_params is None:
        route_params = {
            "imprp": "Xk9vQ3JhZW1zZ2Fw",
            "wrss": "8bM0d2ZkTnF3cXlz",
            "im_path": "/webcast/im/fetch/",
        }
    return pb.ProtoMessageFetchResult(
        messages=[m if isinstance(m, pb.BaseProtoMessage) else wrap(m) for m in messages],
        cursor=f"t-{now}_r-1_d-1_u-1" if cursor is None else cursor,
        fetch_interval=fetch_interval,
        now=now,
        internal_ext=_default_internal_ext(now, room_id) if internal_ext is None else internal_ext,
        fetch_type=fetch_type,
        route_params=route_params,
        heartbeat_duration=heartbeat_duration,
        need_ack=need_ack,
        push_server=push_server,
        is_first=is_first,
    )


def message_frame(
    messages: pb.ProtoMessageFetchResult | Iterable[pb.BaseProtoMessage | WebcastMessage],
    *,
    log_id: int | None = None,
    seq_id: int = 0,
    compress: bool = True,
) -> bytes:
    """A ``msg`` push frame as the server sends it (SPEC.md §4.1), via the codec.

    Args:
        messages: a fetch result, or messages for a default :func:`fetch_result`.
        log_id: the frame's log id (acks echo it); a fresh id if omitted.
        seq_id: the frame's sequence id.
        compress: gzip the payload (as TikTok does) or send it raw.
    """
    result = messages if isinstance(messages, pb.ProtoMessageFetchResult) else fetch_result(messages)
    return codec.encode_message_frame(
        result, log_id=next_id() if log_id is None else log_id, seq_id=seq_id, compress=compress
    )


def push_frame(payload_type: str, payload: bytes = b"", *, log_id: int = 0) -> bytes:
    """Any other push frame (``hb``, ``ack``, ``im_enter_room_resp``, ``close`` …), via the codec."""
    return codec.encode_push_frame(payload_type=payload_type, payload=payload, log_id=log_id)


# --------------------------------------------------------------------------------------------
# A realistic mix
# --------------------------------------------------------------------------------------------

_MASK64: Final = (1 << 64) - 1


class _Lcg:
    """Knuth's MMIX linear congruential generator: enough variety for traffic, no ``random``."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = (seed ^ 0x5DEECE66D) & _MASK64

    def below(self, n: int) -> int:
        """A number in ``range(n)``, from the generator's high bits (the low ones cycle quickly)."""
        self._state = (self._state * 6364136223846793005 + 1442695040888963407) & _MASK64
        return (self._state >> 33) % n


# Relative frequency of each kind in a busy room: chat, likes and joins dominate.
_MIX_WEIGHTS: Final = (
    ("chat", 30),
    ("like", 25),
    ("member", 20),
    ("gift", 13),
    ("room_user_seq", 5),
    ("social_follow", 3),
    ("social_share", 2),
    ("emote_chat", 1),
    ("question_new", 1),
)
_MIX_KINDS: Final = tuple(kind for kind, _ in _MIX_WEIGHTS)
# Cumulative weights: a draw in range(_MIX_TOTAL) falls in one kind's band.
_MIX_THRESHOLDS: Final = tuple(itertools.accumulate(weight for _, weight in _MIX_WEIGHTS))
_MIX_TOTAL: Final = _MIX_THRESHOLDS[-1]
_GIFT_IDS: Final = tuple(GIFTS)
_MIX_COMMENTS: Final = (
    "hi!!",
    "love this 😍",
    "where are you from?",
    "🔥🔥🔥",
    "first time here",
    "hola desde México 🇲🇽",
    "GG",
    "can you say hi to me?",
    "東京から見てます",
    "that was close 😂",
)


@dataclass(slots=True)
class _Streak:
    """A gift streak open in a mix: the same viewer and gift, a growing count, then its end."""

    viewer: pb.User
    gift_id: int
    group_id: int
    count: int
    final_count: int


class _Mix:
    """The state of one :func:`realistic_mix` run: its generator, viewers and open gift streaks."""

    def __init__(self, seed: int) -> None:
        self.rng = _Lcg(seed)
        self.seed = seed
        self.users = [self._viewer(i) for i in range(40)]
        self.streaks: list[_Streak] = []
        self.total_likes = 0
        self.makers: dict[str, Callable[[pb.User, int, int], WebcastMessage]] = {
            "chat": self._chat,
            "like": self._like,
            "member": self._member,
            "gift": self._gift,
            "room_user_seq": self._room_user_seq,
            "social_follow": self._follow,
            "social_share": self._share,
            "emote_chat": self._emote_chat,
            "question_new": self._question,
        }

    def _viewer(self, i: int) -> pb.User:
        badges: list[pb.BadgeStruct] = []
        if i % 9 == 0:
            badges.append(moderator_badge())
        if i % 5 == 1:
            badges.append(subscriber_badge())
        if i < 3:
            badges.append(top_gifter_badge(i + 1))
        if i % 11 == 4:
            badges.append(new_gifter_badge())
        if i % 4 == 2:
            badges.append(gifter_level_badge(1 + self.rng.below(40)))
        nickname = NICKNAMES[i % len(NICKNAMES)]
        return user(
            user_id=7_100_000_000_000_000_000 + (self.seed & 0xFFFF) * 1_000_000 + i,
            nickname=nickname if i < len(NICKNAMES) else f"{nickname} {i}",
            follow_status=self.rng.below(3),
            badges=badges,
        )

    def next_message(self, index: int, remaining: int) -> WebcastMessage:
        msg_id = _MIX_ID_BASE + (self.seed & 0xFFFF) * 2**32 + index
        create_time = DEFAULT_CREATE_TIME + index * 37
        if self.streaks and remaining <= len(self.streaks):
            # Close open streaks while there is room, so that every streak in the mix ends.
            return self._end_streak(msg_id, create_time)
        kind = _MIX_KINDS[bisect.bisect_right(_MIX_THRESHOLDS, self.rng.below(_MIX_TOTAL))]
        viewer = self.users[self.rng.below(len(self.users))]
        return self.makers[kind](viewer, msg_id, create_time)

    def _chat(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        comment = _MIX_COMMENTS[self.rng.below(len(_MIX_COMMENTS))]
        return chat(comment, user=viewer, msg_id=msg_id, create_time=create_time)

    def _like(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        count = 1 + self.rng.below(15)
        self.total_likes += count
        return like(count, total=self.total_likes, user=viewer, msg_id=msg_id, create_time=create_time)

    def _member(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        return member(user=viewer, member_count=1000 + msg_id % 1000, msg_id=msg_id, create_time=create_time)

    def _room_user_seq(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        top = [(self.users[i], 900 - 200 * i) for i in range(3)]
        total = 1500 + self.rng.below(100)
        return room_user_seq(total, top_viewers=top, msg_id=msg_id, create_time=create_time)

    def _follow(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        return social_follow(user=viewer, msg_id=msg_id, create_time=create_time)

    def _share(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        joined = self.rng.below(4)
        return social_share(user=viewer, users_joined=joined or None, msg_id=msg_id, create_time=create_time)

    def _emote_chat(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        return emote_chat(user=viewer, msg_id=msg_id, create_time=create_time)

    def _question(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        return question_new(user=viewer, question_id=msg_id, msg_id=msg_id, create_time=create_time)

    def _gift(self, viewer: pb.User, msg_id: int, create_time: int) -> WebcastMessage:
        if self.streaks and self.rng.below(2):
            streak = self.streaks[0]
            if streak.count == streak.final_count:
                return self._end_streak(msg_id, create_time)
            streak.count += 1
            return _streak_gift(streak, msg_id, create_time, repeat_end=False)
        gift_id = _GIFT_IDS[self.rng.below(len(_GIFT_IDS))]
        if GIFTS[gift_id][2] != 1:
            return gift(gift_id, user=viewer, group_id=msg_id, msg_id=msg_id, create_time=create_time)
        # A type-1 gift opens a streak; even a single one arrives twice (SPEC.md §8).
        streak = _Streak(viewer, gift_id, group_id=msg_id, count=1, final_count=1 + self.rng.below(6))
        self.streaks.append(streak)
        return _streak_gift(streak, msg_id, create_time, repeat_end=False)

    def _end_streak(self, msg_id: int, create_time: int) -> WebcastMessage:
        return _streak_gift(self.streaks.pop(0), msg_id, create_time, repeat_end=True)


def _streak_gift(
    streak: _Streak, msg_id: int, create_time: int, *, repeat_end: bool
) -> pb.WebcastGiftMessage:
    return gift(
        streak.gift_id,
        user=streak.viewer,
        repeat_count=streak.count,
        repeat_end=repeat_end,
        group_id=streak.group_id,
        msg_id=msg_id,
        create_time=create_time,
    )


def realistic_mix(count: int, *, seed: int = 0) -> list[pb.BaseProtoMessage]:
    """``count`` wrapped messages as a busy room sends them, the same for the same ``seed``.

    Chat, likes and joins dominate; gifts come as streaks (type-1 gifts repeat with growing counts
    and end with ``repeat_end``, interleaved with other traffic) and as single gifts; viewer counts,
    follows, shares, emotes and questions come less often. Viewers carry unicode nicknames and
    moderator, subscriber, top-gifter, new-gifter and level badges. Every streak opened ends within
    the mix when ``count`` leaves room. Ids are unique and derived from ``seed`` and position.

    Args:
        count: how many messages.
        seed: selects the mix (any int; seeds equal modulo 2**16 share their ids).

    Raises:
        ValueError: ``count`` is negative.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    mix = _Mix(seed)
    return [wrap(mix.next_message(i, count - i)) for i in range(count)]
