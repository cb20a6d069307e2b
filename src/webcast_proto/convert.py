"""Protobuf messages → events: one converter per method, chosen from a registry (SPEC.md §7, §8).

A :class:`ConverterRegistry` maps ``BaseProtoMessage.method`` to a converter, a plain function that
parses the payload with upb and builds the event, derived fields included (follow role, badges and
the flags read off them, gift streak fields, follow vs share). Dispatch is one dict lookup; a method
without a converter becomes :class:`~webcast_proto.events.UnknownMessage`, and a payload that does not
parse becomes a :class:`~webcast_proto.events.ProtocolWarning`. Nothing a peer sends makes
:meth:`ConverterRegistry.convert` raise.

The registry only converts what it is handed, so a caller that skips methods nobody listens to never
pays for their parsing. Each connection owns its registry (:func:`default_registry` makes a fresh one);
registering on one never changes another (STYLE.md §15, no hidden global state).

Converters read upb attributes directly and trust what the parser checked (STYLE.md §5): a proto3
field is always present with its default, so only optional sub-messages are tested with ``HasField``.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType, MethodType
from typing import TYPE_CHECKING, Final, TypeAlias

from google.protobuf.message import DecodeError, EncodeError

from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.events import (
    ArmiesTriggerReason,
    ArmyParticipant,
    Badge,
    BattleAction,
    BattleArmy,
    BattleResult,
    BattleUser,
    Chat,
    ChatEmote,
    Control,
    ControlAction,
    Emote,
    EmoteImage,
    Envelope,
    Event,
    FollowRole,
    Gift,
    Like,
    LinkMicArmies,
    LinkMicBattle,
    LiveIntro,
    Member,
    MemberAction,
    ProtocolWarning,
    QuestionNew,
    RoomUser,
    Social,
    SocialKind,
    StreamEnd,
    Subscribe,
    TopViewer,
    UnknownMessage,
    User,
    UserIdentity,
    _builder,
)

if TYPE_CHECKING:
    import enum

__all__ = ["Converter", "ConverterRegistry", "convert_user", "default_registry"]

Converter: TypeAlias = Callable[[pb.BaseProtoMessage], Event]
"""Turns one message envelope into its event. May raise ``DecodeError`` for a bad payload."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _members(cls: type[enum.IntEnum]) -> Mapping[int, int]:
    return MappingProxyType({member.value: member for member in cls})


_FOLLOW_ROLES: Final = _members(FollowRole)
_MEMBER_ACTIONS: Final = _members(MemberAction)
_CONTROL_ACTIONS: Final = _members(ControlAction)
_BATTLE_ACTIONS: Final = _members(BattleAction)
_TRIGGER_REASONS: Final = _members(ArmiesTriggerReason)


def _enum_or_int(members: Mapping[int, int], value: int) -> int:
    """The enum member for ``value`` when known, else the plain int (SPEC.md §6: keep unknown values)."""
    return members.get(value, value)


def _first_url(image: pb.ImageModel) -> str | None:
    urls = image.url_list
    return urls[0] if urls else None


# Ids are 64-bit (19 digits); 20 leaves room for unsigned values and stays far below the 4300-digit
# limit past which int() raises.
_MAX_DECIMAL_DIGITS: Final = 20


def _decimal(text: str) -> int | None:
    """``text`` as an int when it is a plain ASCII decimal number, else ``None``.

    int() alone would also take signs, spaces, underscores and non-ASCII digits, and raise on the rest;
    peer strings must never make a converter raise.
    """
    if 0 < len(text) <= _MAX_DECIMAL_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


# Positional constructors of the types every busy room makes most of (events._builder: the same
# instances as the keyword constructors, ~3-8× cheaper). Arguments go in the class's field order,
# noted at each call; every field is required, so a field added to a class fails every call that
# does not pass it (and the conversion tests and vectors check each field's value).
_new_user: Final = _builder(User)
_new_badge: Final = _builder(Badge)
_new_identity: Final = _builder(UserIdentity)
_new_chat_emote: Final = _builder(ChatEmote)
_new_emote_image: Final = _builder(EmoteImage)
_new_top_viewer: Final = _builder(TopViewer)
_new_chat: Final = _builder(Chat)
_new_member: Final = _builder(Member)
_new_gift: Final = _builder(Gift)
_new_room_user: Final = _builder(RoomUser)
_new_like: Final = _builder(Like)
_new_social: Final = _builder(Social)
_new_emote: Final = _builder(Emote)


def _user_identity(identity: pb.UserIdentity) -> UserIdentity:
    return _new_identity(
        identity.is_gift_giver_of_anchor,
        identity.is_subscriber_of_anchor,
        identity.is_mutual_following_with_anchor,
        identity.is_follower_of_anchor,
        identity.is_moderator_of_anchor,
        identity.is_anchor,
    )


# --------------------------------------------------------------------------------------------
# Users and badges (SPEC.md §8 "User")
# --------------------------------------------------------------------------------------------

_TOP_GIFTER_MARKER: Final = "/ranklist_top_gifter_"

# scene_type values (SPEC.md §6.2 BadgeStruct): 1 ADMIN, 4 SUBSCRIBER, 7 NEW_SUBSCRIBER, 8 USER_GRADE,
# 10 FANS.
_SCENE_ADMIN: Final = 1
_SCENE_SUBSCRIBER: Final = 4
_SCENE_NEW_SUBSCRIBER: Final = 7
_SCENE_USER_GRADE: Final = 8
_SCENE_FANS: Final = 10
_SUBSCRIBER_SCENES: Final = frozenset({_SCENE_SUBSCRIBER, _SCENE_NEW_SUBSCRIBER})

# badges, is_moderator, is_new_gifter, is_subscriber, top_gifter_rank, gifter_level, team_member_level
_BadgeSummary: TypeAlias = "tuple[tuple[Badge, ...], bool, bool, bool, int | None, int, int]"
_NO_BADGES: Final[_BadgeSummary] = ((), False, False, False, None, 0, 0)
# What one BadgeStruct adds: its entries, is_moderator, is_new_gifter, is_subscriber, whether it has a
# top-gifter image, the rank that image gives, and its user-grade and fans-club levels (0: none).
_BadgePiece: TypeAlias = "tuple[tuple[Badge, ...], bool, bool, bool, bool, int | None, int, int]"

# Converted badges, by their bytes, for the whole process: the same badges (a moderator's, a level's,
# a top gifter's) recur across users and rooms, and a badge is ~1.5 µs to convert. A badge is public,
# immutable data; lru_cache is thread-safe and bounded (~1 KiB an entry).
_BADGE_CACHE_SIZE: Final = 1024


def _top_gifter_rank(url: str) -> int | None:
    # ".../ranklist_top_gifter_3.png~tplv-obj.image" → 3: the digits between the marker and ".png".
    start = url.find(_TOP_GIFTER_MARKER) + len(_TOP_GIFTER_MARKER)
    end = url.find(".png", start)
    return None if end < 0 else _decimal(url[start:end])


def _badge_piece(badge: pb.BadgeStruct) -> _BadgePiece:
    """What one badge adds to a user (:func:`_summarise_badges` puts the pieces together).

    One BadgeStruct may yield several entries (a text or image badge plus a privilege level). The
    scene-type flags read every badge, also kinds that yield no :class:`Badge` (string and combine
    badges): the server's scene type means the same whatever the badge looks like.
    """
    entries: list[Badge] = []
    is_moderator = is_new_gifter = is_subscriber = has_rank = False
    rank: int | None = None
    gifter_level = team_member_level = 0
    scene = badge.scene_type
    if scene == _SCENE_ADMIN:
        is_moderator = True
    elif scene in _SUBSCRIBER_SCENES:
        is_subscriber = True
    has = badge.HasField
    if has("text"):
        text = badge.text
        key = text.key
        lowered = key.lower()
        if "moderator" in lowered:
            is_moderator = True
        if "live_ng_" in lowered:
            is_new_gifter = True
        # Badge(type, name, scene_type, display_type, url, privilege_id, level)
        entries.append(_new_badge(key, text.default_pattern, scene, 0, None, None, None))
    if has("image"):
        image = badge.image
        url = _first_url(image.image)
        if url is not None:
            if "/sub_" in url.lower():
                is_subscriber = True
            if _TOP_GIFTER_MARKER in url:
                has_rank = True
                rank = _top_gifter_rank(url)
        entries.append(_new_badge("image", "", scene, image.display_type, url, None, None))
    if has("privilege_log_extra"):
        extra = badge.privilege_log_extra
        # "" and "0" mean no level (SPEC.md §8); a non-numeric level cannot be one either.
        level = _decimal(extra.level)
        if level:
            entries.append(_new_badge("privilege", "", scene, 0, None, extra.privilege_id, level))
            if scene == _SCENE_USER_GRADE:
                gifter_level = level
            elif scene == _SCENE_FANS:
                team_member_level = level
    return (
        tuple(entries),
        is_moderator,
        is_new_gifter,
        is_subscriber,
        has_rank,
        rank,
        gifter_level,
        team_member_level,
    )


@functools.lru_cache(maxsize=_BADGE_CACHE_SIZE)
def _badge_piece_of_wire(data: bytes) -> _BadgePiece:
    """:func:`_badge_piece` of a badge's bytes, remembered (``_BADGE_CACHE_SIZE``).

    Raises:
        DecodeError: the bytes are not a valid ``BadgeStruct`` (not remembered).
    """
    return _badge_piece(pb.BadgeStruct.FromString(data))


def _summarise_badges(pieces: Iterable[_BadgePiece]) -> _BadgeSummary:
    """The user's badges and every flag derived from them, from each badge's piece in order.

    The flags are set by any badge; the top-gifter rank is the first top-gifter image's, and each
    level the first non-zero one of its scene.
    """
    badges: list[Badge] = []
    is_moderator = is_new_gifter = is_subscriber = rank_seen = False
    top_gifter_rank: int | None = None
    gifter_level = team_member_level = 0
    for entries, moderator, new_gifter, subscriber, has_rank, rank, grade, fans in pieces:
        badges += entries
        is_moderator = is_moderator or moderator
        is_new_gifter = is_new_gifter or new_gifter
        is_subscriber = is_subscriber or subscriber
        if has_rank and not rank_seen:
            rank_seen, top_gifter_rank = True, rank
        gifter_level = gifter_level or grade
        team_member_level = team_member_level or fans
    return (
        tuple(badges),
        is_moderator,
        is_new_gifter,
        is_subscriber,
        top_gifter_rank,
        gifter_level,
        team_member_level,
    )


def convert_user(user: pb.User) -> User:
    """A protobuf ``User`` as a :class:`~webcast_proto.events.User`, derived fields included.

    Args:
        user: the message's user (an unset sub-message reads as an empty user).

    Returns:
        The user, with ``profile_picture_url`` = the first ``avatar_thumb`` URL, ``follow_role`` from
        ``follow_info.follow_status`` and the badge flags of SPEC.md §8.
    """
    badge_list = user.badge_list
    return _user(user, _summarise_badges(map(_badge_piece, badge_list)) if badge_list else _NO_BADGES)


def _user_of_wire(data: bytes) -> User:
    """:func:`convert_user` of a user's bytes, its badges converted through the badge cache.

    Raises:
        DecodeError: the bytes are not a valid ``User`` (its badges included).
    """
    user = pb.UserView.FromString(data)
    badge_list = user.badge_list
    return _user(user, _summarise_badges(map(_badge_piece_of_wire, badge_list)) if badge_list else _NO_BADGES)


def _user(user: pb.User | pb.UserView, summary: _BadgeSummary) -> User:
    badges, is_moderator, is_new_gifter, is_subscriber, rank, gifter_level, team_member_level = summary
    urls = user.avatar_thumb.url_list[:]  # one C-level copy; iterating the upb container is slower
    follow_info = user.follow_info
    follow_status = follow_info.follow_status
    return _new_user(
        user.id,  # user_id
        user.display_id,  # unique_id
        user.nickname,
        user.sec_uid,
        urls[0] if urls else None,  # profile_picture_url
        tuple(urls),  # profile_picture_urls
        user.verified,
        _FOLLOW_ROLES.get(follow_status, follow_status),  # follow_role
        follow_info.follower_count,
        follow_info.following_count,
        badges,
        is_moderator,
        is_new_gifter,
        is_subscriber,
        rank,  # top_gifter_rank
        gifter_level,
        team_member_level,
    )


# Users kept per registry. A busy room's regulars (likers, gifters in a streak, the top viewers that
# every viewer-count update repeats) fit; ~1-1.5 KiB each, so at most ~0.4 MiB a busy connection.
DEFAULT_USER_CACHE_SIZE: Final = 256


class UserCache:
    """:func:`convert_user` with memory: the last ``capacity`` users, by their serialized bytes.

    The same viewer comes back in message after message (likes, chats, gift streaks, the top viewers
    of each viewer-count update), and converting a user is most of converting a message (~2-5 µs,
    badges included). The key is the user's bytes, so a user whose follow status, badges or anything
    else changed is a new key: the result is always what :func:`convert_user` gives for that user, and
    being frozen, one :class:`User` can stand in every event that names it. The least recently used
    user is forgotten first.

    The busy messages are parsed as their decoding views (``...View`` in ``proto/webcast.proto``),
    whose user fields are raw bytes: :meth:`of_wire` takes those as the key (~0.1 µs a hit) and parses
    a user only for bytes it has not seen. Other messages hand over a parsed ``User``, which
    :meth:`__call__` re-serializes for its key (~0.6 µs).

    Args:
        capacity: how many users to keep.
    """

    __slots__ = ("_capacity", "_users")

    def __init__(self, capacity: int = DEFAULT_USER_CACHE_SIZE) -> None:
        self._capacity = capacity
        self._users: OrderedDict[bytes, User] = OrderedDict()

    def __len__(self) -> int:
        return len(self._users)

    def __call__(self, user: pb.User) -> User:
        """The user converted, from the cache when the same user was converted before (its bytes
        are the key, as for :meth:`of_wire`, which converts them to what convert_user gives)."""
        try:
            key = user.SerializeToString()
        except EncodeError:  # pragma: no cover  # upb re-encodes what it parsed; never seen
            return convert_user(user)
        return self.of_wire((key,))

    def of_wire(self, parts: Sequence[bytes]) -> User:
        """The user serialized in ``parts``: a view's ``repeated bytes`` user field (none: empty user).

        A user field sent more than once is the merge of its occurrences, which is what parsing their
        concatenation gives.

        Raises:
            DecodeError: the bytes are not a valid ``User`` (the registry makes it a
                ``ProtocolWarning``); nothing is cached then.
        """
        key = parts[0] if len(parts) == 1 else b"".join(parts)
        users = self._users
        found = users.get(key)
        if found is not None:
            users.move_to_end(key)
            return found
        found = users[key] = _user_of_wire(key)
        if len(users) > self._capacity:
            users.popitem(last=False)
        return found


# --------------------------------------------------------------------------------------------
# One converter per method (SPEC.md §7). Each parses its payload and fills MessageEvent's fields:
# msg_id from common (the envelope's when common has none), display_type/label from
# common.display_text, and the raw payload.
# --------------------------------------------------------------------------------------------


def _chat(users: UserCache, message: pb.BaseProtoMessage) -> Chat:
    payload = message.payload
    m = pb.WebcastChatMessageView.FromString(payload)
    common = m.common
    text = common.display_text
    emotes = m.emotes
    has = m.HasField
    # The MessageEvent fields first, in every converter: method, msg_id, room_id, create_time,
    # display_type, label, payload.
    return _new_chat(
        message.method,
        common.msg_id or message.msg_id,
        common.room_id,
        common.create_time,
        text.key,
        text.default_pattern,
        payload,
        users.of_wire(m.user),  # user
        m.content,  # comment
        tuple([_chat_emote(e) for e in emotes]) if emotes else (),  # emotes
        users.of_wire(at_user) if (at_user := m.at_user) else None,  # at_user
        m.content_language,
        _user_identity(m.user_identity) if has("user_identity") else None,  # user_identity
    )


def _chat_emote(e: pb.EmoteWithIndex) -> ChatEmote:
    emote = e.emote
    # ChatEmote(emote_id, emote_image_url, place_in_comment)
    return _new_chat_emote(emote.emote_id, _first_url(emote.image), e.index)


def _member(users: UserCache, message: pb.BaseProtoMessage) -> Member:
    payload = message.payload
    m = pb.WebcastMemberMessageView.FromString(payload)
    common = m.common
    text = common.display_text
    action = m.action
    return _new_member(
        message.method,
        common.msg_id or message.msg_id,
        common.room_id,
        common.create_time,
        text.key,
        text.default_pattern,
        payload,
        users.of_wire(m.user),  # user
        _MEMBER_ACTIONS.get(action, action),  # action
        m.action_description,
        m.member_count,
        m.enter_type,
    )


def _gift(users: UserCache, message: pb.BaseProtoMessage) -> Gift:
    payload = message.payload
    m = pb.WebcastGiftMessageView.FromString(payload)
    common = m.common
    text = common.display_text
    gift = m.gift
    monitor = m.monitor_info
    has = m.HasField
    return _new_gift(
        message.method,
        common.msg_id or message.msg_id,
        common.room_id,
        common.create_time,
        text.key,
        text.default_pattern,
        payload,
        users.of_wire(m.user),  # user
        users.of_wire(to_user) if (to_user := m.to_user) else None,  # to_user
        m.gift_id,
        m.repeat_count,
        m.repeat_end != 0,  # repeat_end
        m.group_id,
        m.combo_count,
        m.group_count,
        gift.name,  # gift_name
        gift.type,  # gift_type
        gift.diamond_count,
        gift.describe,
        _first_url(gift.image),  # gift_picture_url
        monitor.send_gift_send_message_success_ms,  # timestamp
        monitor.to_user_id,  # receiver_user_id
        m.monitor_extra,
        _user_identity(m.user_identity) if has("user_identity") else None,  # user_identity
        None,  # extended_gift_info: the client attaches it
    )


def _room_user(users: UserCache, message: pb.BaseProtoMessage) -> RoomUser:
    payload = message.payload
    m = pb.WebcastRoomUserSeqMessageView.FromString(payload)
    common = m.common
    text = common.display_text
    return _new_room_user(
        message.method,
        common.msg_id or message.msg_id,
        common.room_id,
        common.create_time,
        text.key,
        text.default_pattern,
        payload,
        m.total,  # viewer_count
        # top_viewers: TopViewer(user, coin_count, rank)
        tuple([_new_top_viewer(users.of_wire(c.user), c.score, c.rank) for c in m.ranks]),
        m.total_user,
        m.popularity,
    )


def _like(users: UserCache, message: pb.BaseProtoMessage) -> Like:
    payload = message.payload
    m = pb.WebcastLikeMessageView.FromString(payload)
    common = m.common
    text = common.display_text
    return _new_like(
        message.method,
        common.msg_id or message.msg_id,
        common.room_id,
        common.create_time,
        text.key,
        text.default_pattern,
        payload,
        users.of_wire(m.user),  # user
        m.count,  # like_count
        m.total,  # total_like_count
    )


_SHARE_VIEWERS_PREFIX: Final = "pm_mt_guidance_viewer_"
_SHARE_VIEWERS_SUFFIX: Final = "_share"


def _social_kind(key: str) -> tuple[SocialKind, int | None]:
    """Follow vs share from the display text key, not ``action`` (SPEC.md §8 "Social").

    Returns the kind and, for ``pm_mt_guidance_viewer_{N}_share``, N (the users who joined).
    """
    if "follow" in key:
        return SocialKind.FOLLOW, None
    if "share" in key:
        if key.startswith(_SHARE_VIEWERS_PREFIX) and key.endswith(_SHARE_VIEWERS_SUFFIX):
            return SocialKind.SHARE, _decimal(key[len(_SHARE_VIEWERS_PREFIX) : -len(_SHARE_VIEWERS_SUFFIX)])
        return SocialKind.SHARE, None
    return SocialKind.OTHER, None


def _social(users: UserCache, message: pb.BaseProtoMessage) -> Social:
    payload = message.payload
    m = pb.WebcastSocialMessageView.FromString(payload)
    common = m.common
    text = common.display_text
    key = text.key
    kind, users_joined = _social_kind(key)
    return _new_social(
        message.method,
        common.msg_id or message.msg_id,
        common.room_id,
        common.create_time,
        key,
        text.default_pattern,
        payload,
        users.of_wire(m.user),  # user
        kind,
        m.action,
        m.follow_count,
        m.share_count,
        m.share_type,
        m.share_target,
        users_joined,
    )


def _emote(users: UserCache, message: pb.BaseProtoMessage) -> Emote:
    payload = message.payload
    m = pb.WebcastEmoteChatMessageView.FromString(payload)
    common = m.common
    text = common.display_text
    # EmoteImage(emote_id, emote_image_url)
    emotes = tuple([_new_emote_image(e.emote_id, _first_url(e.image)) for e in m.emote_list])
    first = emotes[0] if emotes else None
    return _new_emote(
        message.method,
        common.msg_id or message.msg_id,
        common.room_id,
        common.create_time,
        text.key,
        text.default_pattern,
        payload,
        users.of_wire(m.user),  # user
        first.emote_id if first is not None else "",  # emote_id
        first.emote_image_url if first is not None else None,  # emote_image_url
        emotes,
        _user_identity(m.user_identity) if m.HasField("user_identity") else None,  # user_identity
    )


def _envelope_sender(users: UserCache, text: pb.Text) -> User | None:
    # The sender is the user of the display text's first piece (SPEC.md §8 "Envelope", §6.4).
    pieces = text.pieces
    if pieces:
        piece = pieces[0]
        if piece.HasField("user_value") and piece.user_value.HasField("user"):
            return users(piece.user_value.user)
    return None


def _envelope(users: UserCache, message: pb.BaseProtoMessage) -> Envelope:
    payload = message.payload
    m = pb.WebcastEnvelopeMessage.FromString(payload)
    common = m.common
    text = common.display_text
    info = m.envelope_info
    return Envelope(
        method=message.method,
        msg_id=common.msg_id or message.msg_id,
        room_id=common.room_id,
        create_time=common.create_time,
        display_type=text.key,
        label=text.default_pattern,
        payload=payload,
        envelope_id=info.envelope_id,
        business_type=info.business_type,
        coins=info.diamond_count,
        can_open=info.people_count,
        timestamp=info.unpack_at,
        send_user_name=info.send_user_name,
        send_user_id=_decimal(info.send_user_id) or 0,
        display=m.display,
        sender=_envelope_sender(users, text),
    )


def _question_new(users: UserCache, message: pb.BaseProtoMessage) -> QuestionNew:
    payload = message.payload
    m = pb.WebcastQuestionNewMessage.FromString(payload)
    common = m.common
    text = common.display_text
    data = m.data
    return QuestionNew(
        method=message.method,
        msg_id=common.msg_id or message.msg_id,
        room_id=common.room_id,
        create_time=common.create_time,
        display_type=text.key,
        label=text.default_pattern,
        payload=payload,
        question_id=data.question_id,
        question_text=data.content,
        user=users(data.user) if data.HasField("user") else None,
    )


def _battle_user(info: pb.BattleBaseUserInfo) -> BattleUser:
    return BattleUser(
        user_id=info.user_id,
        nickname=info.nick_name,
        profile_picture_url=_first_url(info.avatar_thumb),
        unique_id=info.display_id,
        room_id=info.room_id,
    )


def _link_mic_battle(message: pb.BaseProtoMessage) -> LinkMicBattle:
    payload = message.payload
    m = pb.WebcastLinkMicBattle.FromString(payload)
    common = m.common
    text = common.display_text
    return LinkMicBattle(
        method=message.method,
        msg_id=common.msg_id or message.msg_id,
        room_id=common.room_id,
        create_time=common.create_time,
        display_type=text.key,
        label=text.default_pattern,
        payload=payload,
        battle_id=m.battle_id,
        action=_enum_or_int(_BATTLE_ACTIONS, m.action),
        battle_users=tuple([_battle_user(entry.value.user) for entry in m.anchors_info]),
        battle_results=tuple(
            [
                BattleResult(
                    # The entry is keyed by the user id; the value repeats it (SPEC.md §6.3).
                    user_id=entry.value.user_id or entry.key,
                    result=entry.value.result,
                    score=entry.value.score,
                    diamond_score=entry.value.diamond_score,
                )
                for entry in m.battle_result
            ]
        ),
    )


def _battle_army(host_user_id: int, army: pb.BattleUserArmies) -> BattleArmy:
    return BattleArmy(
        host_user_id=host_user_id,
        points=army.hostscore,
        participants=tuple(
            [ArmyParticipant(user_id=a.user_id, nickname=a.nickname, score=a.score) for a in army.user_armies]
        ),
    )


def _link_mic_armies(message: pb.BaseProtoMessage) -> LinkMicArmies:
    payload = message.payload
    m = pb.WebcastLinkMicArmies.FromString(payload)
    common = m.common
    text = common.display_text
    return LinkMicArmies(
        method=message.method,
        msg_id=common.msg_id or message.msg_id,
        room_id=common.room_id,
        create_time=common.create_time,
        display_type=text.key,
        label=text.default_pattern,
        payload=payload,
        battle_id=m.battle_id,
        battle_status=_enum_or_int(_TRIGGER_REASONS, m.trigger_reason),
        battle_armies=tuple([_battle_army(entry.key, entry.value) for entry in m.armies]),
        from_user_id=m.from_user_id,
        gift_id=m.gift_id,
        gift_count=m.gift_count,
        total_diamond_count=m.total_diamond_count,
        repeat_count=m.repeat_count,
    )


def _live_intro(users: UserCache, message: pb.BaseProtoMessage) -> LiveIntro:
    payload = message.payload
    m = pb.WebcastLiveIntroMessage.FromString(payload)
    common = m.common
    text = common.display_text
    badges = m.badges
    return LiveIntro(
        method=message.method,
        msg_id=common.msg_id or message.msg_id,
        room_id=common.room_id,
        create_time=common.create_time,
        display_type=text.key,
        label=text.default_pattern,
        payload=payload,
        id=m.id,
        description=m.content,
        user=users(m.user) if m.HasField("user") else None,
        audit_status=m.audit_status,
        intro_mode=m.intro_mode,
        content_language=m.content_language,
        badges=_summarise_badges(map(_badge_piece, badges))[0] if badges else (),
    )


def _subscribe(users: UserCache, message: pb.BaseProtoMessage) -> Subscribe:
    payload = message.payload
    m = pb.WebcastSubNotifyMessage.FromString(payload)
    common = m.common
    text = common.display_text
    return Subscribe(
        method=message.method,
        msg_id=common.msg_id or message.msg_id,
        room_id=common.room_id,
        create_time=common.create_time,
        display_type=text.key,
        label=text.default_pattern,
        payload=payload,
        user=users(m.user),
        sub_month=m.sub_month,
        exhibition_type=m.exhibition_type,
        subscribe_type=m.subscribe_type,
        old_subscribe_status=m.old_subscribe_status,
        subscribing_status=m.subscribing_status,
    )


# Actions 3 (ended by the host) and 4 (ended or suspended by the platform) end the stream (SPEC.md §1, §8).
_CONTROL_EVENTS: Final[Mapping[int, type[Control] | type[StreamEnd]]] = MappingProxyType(
    {ControlAction.STREAM_ENDED: StreamEnd, ControlAction.STREAM_SUSPENDED: StreamEnd}
)


def _control(message: pb.BaseProtoMessage) -> Control | StreamEnd:
    payload = message.payload
    m = pb.WebcastControlMessage.FromString(payload)
    common = m.common
    text = common.display_text
    action = m.action
    return _CONTROL_EVENTS.get(action, Control)(
        method=message.method,
        msg_id=common.msg_id or message.msg_id,
        room_id=common.room_id,
        create_time=common.create_time,
        display_type=text.key,
        label=text.default_pattern,
        payload=payload,
        action=_enum_or_int(_CONTROL_ACTIONS, action),
        tips=m.tips,
    )


def _unknown(message: pb.BaseProtoMessage) -> UnknownMessage:
    """A method without converter: the raw payload, plus what its common part (field 1) says."""
    payload = message.payload
    try:
        common = pb.CommonOnlyMessage.FromString(payload).common
    except DecodeError:
        # An unmodelled payload is not ours to judge (SPEC.md §7: unknown methods are not errors).
        common = pb.CommonMessageData()
    text = common.display_text
    return UnknownMessage(
        method=message.method,
        msg_id=common.msg_id or message.msg_id,
        room_id=common.room_id,
        create_time=common.create_time,
        display_type=text.key,
        label=text.default_pattern,
        payload=payload,
    )


# Converters of messages that carry users: each registry binds them to its own user cache.
_USER_CONVERTERS: Final[Mapping[str, Callable[[UserCache, pb.BaseProtoMessage], Event]]] = MappingProxyType(
    {
        "WebcastChatMessage": _chat,
        "WebcastMemberMessage": _member,
        "WebcastGiftMessage": _gift,
        "WebcastRoomUserSeqMessage": _room_user,
        "WebcastLikeMessage": _like,
        "WebcastSocialMessage": _social,
        "WebcastEmoteChatMessage": _emote,
        "WebcastEnvelopeMessage": _envelope,
        "WebcastQuestionNewMessage": _question_new,
        "WebcastLiveIntroMessage": _live_intro,
        "WebcastSubNotifyMessage": _subscribe,
    }
)
_OTHER_CONVERTERS: Final[Mapping[str, Converter]] = MappingProxyType(
    {
        "WebcastLinkMicBattle": _link_mic_battle,
        "WebcastLinkMicArmies": _link_mic_armies,
        "WebcastControlMessage": _control,
    }
)
_BUILTIN_METHODS: Final = frozenset(_USER_CONVERTERS) | frozenset(_OTHER_CONVERTERS)


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


class ConverterRegistry:
    """Method name → converter, owned by one connection (or one decode call).

    Args:
        converters: the initial converters; none if omitted (see :func:`default_registry` for the
            built-in ones).

    Raises:
        TypeError: if a method is not a string or a converter is not callable.
        ValueError: if a method is empty.
    """

    # ``_converters`` is ``None`` in a registry of :func:`default_registry` until it converts, changes
    # or is copied: then the built-in converters are bound to its user cache. A process may hold
    # thousands of connections, many of which never convert a message that names a user (a quiet
    # room, or handlers for other events), and the bound table is ~1.3 KiB of each.
    __slots__ = ("_converters",)

    def __init__(self, converters: Mapping[str, Converter] | None = None) -> None:
        self._converters: dict[str, Converter] | None = {}
        if converters is not None:
            for method, converter in converters.items():
                self.register(method, converter)

    @classmethod
    def _builtin(cls) -> ConverterRegistry:
        """A registry of the built-in converters, bound to a user cache of its own on first use."""
        registry = cls.__new__(cls)
        registry._converters = None
        return registry

    def _table(self) -> dict[str, Converter]:
        """The converters by method, the built-in ones bound to a new user cache if not yet done."""
        converters = self._converters
        if converters is None:
            users = UserCache()
            # Each converter bound to the cache as a method is (a bound method: ~64 bytes, as fast to
            # call as a function).
            converters = {
                method: MethodType(converter, users) for method, converter in _USER_CONVERTERS.items()
            }
            converters.update(_OTHER_CONVERTERS)
            self._converters = converters
        return converters

    def register(self, method: str, converter: Converter) -> None:
        """Convert messages of ``method`` with ``converter`` from now on, replacing any earlier one.

        The converter gets the envelope (``method``, ``msg_id``, raw ``payload``) and returns an event;
        a ``google.protobuf.message.DecodeError`` it raises becomes a ``ProtocolWarning``.

        Raises:
            TypeError: if ``method`` is not a string or ``converter`` is not callable.
            ValueError: if ``method`` is empty.
        """
        if not isinstance(method, str):
            raise TypeError(f"method must be a str, got {type(method).__name__}")
        if not method:
            raise ValueError("method must not be empty")
        if not callable(converter):
            raise TypeError(f"converter must be callable, got {type(converter).__name__}")
        self._table()[method] = converter

    def unregister(self, method: str) -> None:
        """Stop converting ``method``: its messages become ``UnknownMessage`` events.

        Raises:
            KeyError: if no converter is registered for ``method``.
        """
        try:
            del self._table()[method]
        except KeyError:
            raise KeyError(f"no converter registered for method {method!r}") from None

    def copy(self) -> ConverterRegistry:
        """An independent registry with the same converters (and the same user cache)."""
        return ConverterRegistry(self._table())

    def __contains__(self, method: object) -> bool:
        converters = self._converters
        return isinstance(method, str) and method in (_BUILTIN_METHODS if converters is None else converters)

    @property
    def methods(self) -> frozenset[str]:
        """The methods with a converter."""
        converters = self._converters
        return _BUILTIN_METHODS if converters is None else frozenset(converters)

    def __repr__(self) -> str:
        return f"<ConverterRegistry of {len(self.methods)} methods>"

    def convert(self, message: pb.BaseProtoMessage) -> Event:
        """The event for one message envelope. Never raises for peer data.

        Args:
            message: a message of a fetch result.

        Returns:
            The converter's event for a known method; :class:`~webcast_proto.events.UnknownMessage`
            (raw payload plus the common fields, when its field 1 parses) for any other method; a
            :class:`~webcast_proto.events.ProtocolWarning` naming method and msg_id when the payload
            does not parse as its method's message (SPEC.md §9 "bad message payload").
        """
        method = message.method
        try:
            converters = self._converters
            if converters is None:
                converters = self._table()
            return converters.get(method, _unknown)(message)
        except DecodeError as exc:
            # Only a converter raises, so method names a registered one and is never empty. upb names
            # the class it parsed with: the protocol message's, not its decoding view's.
            reason = str(exc).replace("View'", "'")
            return ProtocolWarning(
                message=f"cannot decode the payload of a {method} message: {reason}",
                method=method,
                msg_id=message.msg_id or None,
            )


def default_registry() -> ConverterRegistry:
    """A fresh registry holding every built-in converter (the 14 methods of SPEC.md §7).

    Its converters share one :class:`UserCache` (a copy of the registry shares it too): a user seen
    again is not converted again. The converters are bound to the cache when the registry first
    converts (or is changed or copied): until then it holds nothing of its own.

    Returns:
        A new registry; changing it changes no other registry.
    """
    return ConverterRegistry._builtin()
