"""The public event types: what a WebCast connection tells its user.

Every event is a frozen, slotted, keyword-only dataclass (STYLE.md §5): immutable, hashable, cheap.
Two kinds:

* **Message events** (nouns: :class:`Chat`, :class:`Gift` …) come from TikTok messages. They share
  :class:`MessageEvent`'s fields: ``method``, ``msg_id``, ``room_id``, ``create_time`` (ms), the
  display text's ``display_type`` (key) and ``label`` (pattern), and the raw protobuf ``payload``.
  Methods nobody modelled become :class:`UnknownMessage`.
* **Control events** (past-tense facts: :class:`Connected`, :class:`Disconnected` …) come from the
  connection itself.

Ids are Python ints (64-bit); :meth:`Event.to_dict` turns them into decimal strings so they survive
JSON, and bytes into base64. Enum-valued fields hold an :class:`enum.IntEnum` member when the value is
known and the plain int otherwise, so unknown values from newer servers are kept, not lost.

The field derivations (follow role, badges, streaks, follow vs share …) follow SPEC.md §8; they are
computed in :mod:`webcast_proto.convert`.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TypeAlias, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ArmiesTriggerReason",
    "ArmyParticipant",
    "Badge",
    "BattleAction",
    "BattleArmy",
    "BattleResult",
    "BattleUser",
    "Chat",
    "ChatEmote",
    "Connected",
    "Control",
    "ControlAction",
    "Disconnected",
    "Emote",
    "EmoteImage",
    "Envelope",
    "Event",
    "FollowRole",
    "Gift",
    "GiftInfo",
    "GiftStreakEnded",
    "JSONValue",
    "Like",
    "LinkMicArmies",
    "LinkMicBattle",
    "LiveIntro",
    "Member",
    "MemberAction",
    "MessageEvent",
    "ProtocolWarning",
    "QuestionNew",
    "RoomUser",
    "Social",
    "SocialKind",
    "StreamEnd",
    "Subscribe",
    "TopViewer",
    "UnknownMessage",
    "User",
    "UserIdentity",
    "WebSocketConnected",
]

JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None


# --------------------------------------------------------------------------------------------
# Enums (SPEC.md §6.3, §8). Fields typed ``int`` hold a member when the value is known.
# --------------------------------------------------------------------------------------------


class FollowRole(enum.IntEnum):
    """How a user relates to the host: ``follow_info.follow_status`` (SPEC.md §8)."""

    NONE = 0
    FOLLOWER = 1
    FRIENDS = 2


class MemberAction(enum.IntEnum):
    """``WebcastMemberMessage.action``. ``SUBSCRIBED_LEGACY`` is the seed's action 7."""

    UNKNOWN = 0
    JOINED = 1
    SUBSCRIBED = 3
    SUBSCRIBED_LEGACY = 7


class ControlAction(enum.IntEnum):
    """``WebcastControlMessage.action``: 3 ended by the host, 4 ended or suspended by the platform."""

    UNKNOWN = 0
    STREAM_PAUSED = 1
    STREAM_UNPAUSED = 2
    STREAM_ENDED = 3
    STREAM_SUSPENDED = 4


class SocialKind(enum.Enum):
    """What a :class:`Social` event reports, decided by the display text key (SPEC.md §8)."""

    FOLLOW = "follow"
    SHARE = "share"
    OTHER = "other"


class BattleAction(enum.IntEnum):
    """``WebcastLinkMicBattle.action``."""

    UNKNOWN = 0
    INVITE = 1
    REJECT = 2
    CANCEL = 3
    OPEN = 4
    FINISH = 5
    CUT_SHORT = 6
    ACCEPT = 7
    QUIT_APPLY = 8
    DECLINE_QUIT = 9
    DECLINE_OFF_QUIT = 10
    LEAVE_LINKMIC = 11


class ArmiesTriggerReason(enum.IntEnum):
    """``WebcastLinkMicArmies.trigger_reason``: the seed's ``battleStatus`` (1 running, 2 final)."""

    UNKNOWN = 0
    SCORE_UPDATE = 1
    BATTLE_END = 2
    OPT_OUT_UPDATE = 3
    KEEP_ALIVE = 4
    EFFECT_UPDATE = 5


# --------------------------------------------------------------------------------------------
# JSON conversion
# --------------------------------------------------------------------------------------------


def _is_id_field(name: str) -> bool:
    # 64-bit ids do not survive JSON numbers (2**53); they go out as decimal strings.
    return name == "id" or name.endswith("_id")


def _to_json(value: object, name: str) -> JSONValue:
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, enum.Enum):
        return value.value  # type: ignore[no-any-return]  # IntEnum → int, SocialKind → str
    if isinstance(value, int):
        return str(value) if _is_id_field(name) else value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple):
        return [_to_json(item, name) for item in value]
    if isinstance(value, _Record):
        return value.to_dict()
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")  # pragma: no cover  # our bug


class _Record:
    """Shared by events and the value objects inside them."""

    __slots__ = ()

    # Fields left out of to_dict (the raw payload of modelled messages: large and redundant).
    _json_exclude: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, JSONValue]:
        """A JSON-ready dict: snake_case keys, ids as strings, bytes as base64, tuples as lists."""
        out: dict[str, JSONValue] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]  # every subclass is a dataclass
            if f.name in self._json_exclude:
                continue
            out[f.name] = _to_json(getattr(self, f.name), f.name)
        return out


# --------------------------------------------------------------------------------------------
# Value objects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Badge(_Record):
    """One entry of a user's ``badge_list`` (SPEC.md §8 ``userBadges``).

    ``type`` is the text badge's key (e.g. ``pm_mt_moderator_im``), ``"image"`` or ``"privilege"``.
    """

    type: str
    name: str = ""
    scene_type: int = 0
    display_type: int = 0
    url: str | None = None
    privilege_id: str | None = None
    level: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserIdentity(_Record):
    """The user's relation to the host as the server computed it (chat 18, gift 32, emote 5)."""

    is_gift_giver_of_anchor: bool = False
    is_subscriber_of_anchor: bool = False
    is_mutual_following_with_anchor: bool = False
    is_follower_of_anchor: bool = False
    is_moderator_of_anchor: bool = False
    is_anchor: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class User(_Record):
    """A TikTok user as messages carry it, with the seed's derived fields (SPEC.md §8).

    Attributes:
        user_id: the numeric id (``User.id``).
        unique_id: the @username without the ``@`` (``display_id``); ``""`` if not sent.
        profile_picture_url: the first ``avatar_thumb`` URL, or ``None``.
        follow_role: :class:`FollowRole` (0 none, 1 follower, 2 friends).
        is_moderator / is_new_gifter / is_subscriber / top_gifter_rank: derived from the badges
            (SPEC.md §8). The scene-type rules (1 moderator; 4, 7 subscriber) read every entry of
            ``badge_list``, also string and combine badges, which yield no :class:`Badge`.
        gifter_level / team_member_level: privilege level of the first badge with scene type 8 / 10,
            else 0.
    """

    user_id: int = 0
    unique_id: str = ""
    nickname: str = ""
    sec_uid: str = ""
    profile_picture_url: str | None = None
    profile_picture_urls: tuple[str, ...] = ()
    verified: bool = False
    follow_role: int = FollowRole.NONE
    follower_count: int = 0
    following_count: int = 0
    badges: tuple[Badge, ...] = ()
    is_moderator: bool = False
    is_new_gifter: bool = False
    is_subscriber: bool = False
    top_gifter_rank: int | None = None
    gifter_level: int = 0
    team_member_level: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatEmote(_Record):
    """An emote placed inside a chat comment."""

    emote_id: str
    emote_image_url: str | None = None
    place_in_comment: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class EmoteImage(_Record):
    """One emote of an :class:`Emote` event."""

    emote_id: str
    emote_image_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GiftInfo(_Record):
    """A gift list entry (``gift/list`` ``data.gifts[]``), attached to gifts as extended info."""

    id: int
    name: str = ""
    diamond_count: int = 0
    image_url: str | None = None
    type: int = 0
    describe: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TopViewer(_Record):
    """One of the top viewers of a :class:`RoomUser` event (``ranks``)."""

    user: User
    coin_count: int = 0
    rank: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BattleUser(_Record):
    """A host taking part in a battle (``anchors_info`` value user)."""

    user_id: int
    nickname: str = ""
    profile_picture_url: str | None = None
    unique_id: str = ""
    room_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BattleResult(_Record):
    """One host's result in a battle: ``result`` 0 win, 1 lose, 2 draw."""

    user_id: int
    result: int = 0
    score: int = 0
    diamond_score: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmyParticipant(_Record):
    """A supporter in a battle army."""

    user_id: int
    nickname: str = ""
    score: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BattleArmy(_Record):
    """One host's side in a battle: its points and top supporters."""

    host_user_id: int
    points: int = 0
    participants: tuple[ArmyParticipant, ...] = ()


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(_Record):
    """The base of every event."""

    def to_dict(self) -> dict[str, JSONValue]:
        """A JSON-ready dict with the event's class name under ``"type"`` (see :class:`_Record`)."""
        out: dict[str, JSONValue] = {"type": type(self).__name__}
        out.update(_Record.to_dict(self))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEvent(Event):
    """An event made from one TikTok message.

    Attributes:
        method: the message's method name (``WebcastChatMessage`` …).
        msg_id: the message id, unique per message, used for dedup.
        room_id: the room the message belongs to.
        create_time: when the server created it, in ms since the epoch.
        display_type: ``common.display_text.key`` (e.g. ``pm_mt_msg_viewer``).
        label: ``common.display_text.default_pattern`` (e.g. ``{0:user} sent likes to the host``).
        payload: the raw protobuf payload, for tools and for fields the event does not model.
    """

    _json_exclude: ClassVar[frozenset[str]] = frozenset({"payload"})

    method: str
    msg_id: int
    room_id: int = 0
    create_time: int = 0
    display_type: str = ""
    label: str = ""
    payload: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Chat(MessageEvent):
    """A chat comment (``WebcastChatMessage``)."""

    user: User
    comment: str = ""
    emotes: tuple[ChatEmote, ...] = ()
    at_user: User | None = None
    content_language: str = ""
    user_identity: UserIdentity | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Member(MessageEvent):
    """A viewer joined (``WebcastMemberMessage``); ``action`` is a :class:`MemberAction`."""

    user: User
    action: int = MemberAction.UNKNOWN
    action_description: str = ""
    member_count: int = 0
    enter_type: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Gift(MessageEvent):
    """A gift (``WebcastGiftMessage``).

    Streaks (SPEC.md §8): a gift of type 1 repeats with a growing ``repeat_count`` while
    ``repeat_end`` is false, then arrives once more with ``repeat_end`` true and the final count;
    even a single type-1 gift arrives twice. Count a streak once, on its final event
    (``not gift.is_streak_in_progress``), or use the streak tracker.
    """

    user: User
    to_user: User | None = None
    gift_id: int = 0
    repeat_count: int = 0
    repeat_end: bool = False
    group_id: int = 0
    combo_count: int = 0
    group_count: int = 0
    gift_name: str = ""
    gift_type: int = 0
    diamond_count: int = 0
    describe: str = ""
    gift_picture_url: str | None = None
    timestamp: int = 0
    receiver_user_id: int = 0
    monitor_extra: str = ""
    user_identity: UserIdentity | None = None
    extended_gift_info: GiftInfo | None = None

    @property
    def is_streakable(self) -> bool:
        """Whether this gift type comes in streaks (type 1)."""
        return self.gift_type == 1

    @property
    def is_streak_in_progress(self) -> bool:
        """True for the intermediate events of a streak: don't count these."""
        return self.gift_type == 1 and not self.repeat_end

    @property
    def is_final(self) -> bool:
        """True when this event is the one to count (a streak's end, or a non-streak gift)."""
        return not self.is_streak_in_progress

    @property
    def total_diamonds(self) -> int:
        """``diamond_count × repeat_count``: the diamonds of the streak so far (at least one gift)."""
        return self.diamond_count * max(self.repeat_count, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomUser(MessageEvent):
    """Viewer count update (``WebcastRoomUserSeqMessage``): ``viewer_count`` is the room total."""

    viewer_count: int = 0
    top_viewers: tuple[TopViewer, ...] = ()
    total_user: int = 0
    popularity: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Like(MessageEvent):
    """Likes (``WebcastLikeMessage``): this user's batch and the room's running total."""

    user: User
    like_count: int = 0
    total_like_count: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Social(MessageEvent):
    """A follow or a share (``WebcastSocialMessage``), told apart by the display text key.

    Attributes:
        kind: :attr:`SocialKind.FOLLOW`, :attr:`SocialKind.SHARE` or :attr:`SocialKind.OTHER`.
        users_joined: for share keys ``pm_mt_guidance_viewer_{N}_share``, N; else ``None``.
    """

    user: User
    kind: SocialKind = SocialKind.OTHER
    action: int = 0
    follow_count: int = 0
    share_count: int = 0
    share_type: int = 0
    share_target: str = ""
    users_joined: int | None = None

    @property
    def is_follow(self) -> bool:
        """The user followed the host."""
        return self.kind is SocialKind.FOLLOW

    @property
    def is_share(self) -> bool:
        """The user shared the stream."""
        return self.kind is SocialKind.SHARE


@dataclass(frozen=True, slots=True, kw_only=True)
class Emote(MessageEvent):
    """A subscriber emote (``WebcastEmoteChatMessage``); ``emote_id`` is the first of ``emotes``."""

    user: User
    emote_id: str = ""
    emote_image_url: str | None = None
    emotes: tuple[EmoteImage, ...] = ()
    user_identity: UserIdentity | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope(MessageEvent):
    """A treasure chest (``WebcastEnvelopeMessage``).

    ``coins`` = diamond_count, ``can_open`` = people_count, ``timestamp`` = unpack_at (SPEC.md §8);
    ``sender`` is the user of the display text's first piece, when present.
    """

    envelope_id: str = ""
    business_type: int = 0
    coins: int = 0
    can_open: int = 0
    timestamp: int = 0
    send_user_name: str = ""
    send_user_id: int = 0
    display: int = 0
    sender: User | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionNew(MessageEvent):
    """A question in the Q&A (``WebcastQuestionNewMessage``)."""

    question_id: int = 0
    question_text: str = ""
    user: User | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkMicBattle(MessageEvent):
    """A battle between hosts starts or changes (``WebcastLinkMicBattle``)."""

    battle_id: int = 0
    action: int = BattleAction.UNKNOWN
    battle_users: tuple[BattleUser, ...] = ()
    battle_results: tuple[BattleResult, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkMicArmies(MessageEvent):
    """Battle scores (``WebcastLinkMicArmies``); ``battle_status`` 1 running, 2 final."""

    battle_id: int = 0
    battle_status: int = ArmiesTriggerReason.UNKNOWN
    battle_armies: tuple[BattleArmy, ...] = ()
    from_user_id: int = 0
    gift_id: int = 0
    gift_count: int = 0
    total_diamond_count: int = 0
    repeat_count: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveIntro(MessageEvent):
    """The host's intro text (``WebcastLiveIntroMessage``)."""

    id: int = 0
    description: str = ""
    user: User | None = None
    audit_status: int = 0
    intro_mode: int = 0
    content_language: str = ""
    badges: tuple[Badge, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(MessageEvent):
    """A subscription (``WebcastSubNotifyMessage``)."""

    user: User
    sub_month: int = 0
    exhibition_type: int = 0
    subscribe_type: int = 0
    old_subscribe_status: int = 0
    subscribing_status: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Control(MessageEvent):
    """A control message that does not end the stream (pause, unpause, unknown actions)."""

    action: int = ControlAction.UNKNOWN
    tips: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEnd(MessageEvent):
    """The stream ended: ``action`` 3 by the host, 4 by the platform (ban or suspension)."""

    action: int = ControlAction.STREAM_ENDED
    tips: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMessage(MessageEvent):
    """A message whose method has no converter; ``payload`` holds its raw protobuf bytes."""

    _json_exclude: ClassVar[frozenset[str]] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolWarning(Event):
    """One message inside a good frame could not be decoded; the rest of the frame was delivered.

    Attributes:
        message: what went wrong.
        method: the method of the bad message, if known.
        msg_id: its id, if known.
    """

    message: str
    method: str | None = None
    msg_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GiftStreakEnded(Event):
    """Exactly one per gift streak, from the opt-in streak tracker.

    Attributes:
        closed_by_timeout: true when the streak's final ``repeat_end`` event never came and the
            tracker closed it after its timeout.
    """

    user: User
    gift_id: int
    gift_name: str = ""
    final_count: int = 0
    diamond_count: int = 0
    total_diamonds: int = 0
    room_id: int = 0
    closed_by_timeout: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(Event):
    """The first fetch succeeded: the room is being read."""

    room_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketConnected(Event):
    """The push WebSocket is open and the enter-room frame was queued."""

    url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected(Event):
    """The connection stopped delivering.

    Attributes:
        reason: a short reason (``"timeout"``, ``"closed"``, ``"stream_end"``, ``"error"`` …).
        code: the WebSocket close code, when there was one.
        retryable: whether reconnecting (resuming from the cursor) makes sense.
    """

    reason: str
    code: int | None = None
    retryable: bool = True


# --------------------------------------------------------------------------------------------
# Fast construction, for the converters (webcast_proto.convert)
# --------------------------------------------------------------------------------------------

_R = TypeVar("_R", bound=_Record)


def _builder(cls: type[_R]) -> Callable[..., _R]:
    """A constructor of ``cls`` taking every field's value positionally, in field order, that skips
    ``__init__``.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` looked up by
    name (~0.15 µs a field: 2.5 µs for a :class:`User`), the most expensive part of converting a
    message. The instance this builds is the same in every way (class, fields, equality, hash,
    frozenness): only the way its slots are filled differs.

    The instance is filled as one of a mirror class: a subclass of ``cls``'s base that adds the same
    slots as ``cls`` and sets attributes the plain way (``object.__setattr__``), so that each field
    is a plain slot store (~0.015 µs, where the slot's member descriptor called by hand costs
    ~0.05 µs). The instance is then given its real class: CPython allows ``__class__`` assignment
    between two classes with the same base that add the same slots, since their layouts are the
    same. The mirror is private to the builder and never seen outside the call; being a subclass
    of an event base, it is among ``Event.__subclasses__()``, under a private (``_``) name.

    Every argument is required: a field added to ``cls`` makes a call that does not pass it fail.
    Defaults, ``__post_init__`` and ``field(default_factory=…)`` are not supported (none is used).
    """
    names: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__"):  # pragma: no cover  # our bug, caught at import
        raise TypeError(f"{cls.__name__} has __post_init__, which the builder would skip")
    (base,) = cls.__bases__
    mirror = type(
        f"_{cls.__name__}Mirror",
        (base,),
        {
            "__slots__": cls.__slots__,
            # Both, or the frozen base's __delattr__ still makes attribute stores the slow, generic way.
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            "__module__": __name__,
        },
    )
    params = ", ".join(names)
    scope: dict[str, object] = {"_new": object.__new__, "_cls": cls, "_mirror": mirror}
    body = [
        "    self = _new(_mirror)",
        *(f"    self.{name} = {name}" for name in names),
        "    self.__class__ = _cls",
    ]
    source = "\n".join([f"def _new_{cls.__name__}({params}):", *body, "    return self"])
    exec(source, scope)  # the dataclasses module makes __init__ the same way
    build = scope[f"_new_{cls.__name__}"]
    assert callable(build)
    return build
