"""Converters and their registry: the derived fields of SPEC.md §8 and dispatch by method (§7)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from webcast_proto import fixtures as fx
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.convert import ConverterRegistry, convert_user, default_registry
from webcast_proto.events import (
    Badge,
    BattleAction,
    Chat,
    Control,
    ControlAction,
    Emote,
    Envelope,
    Event,
    FollowRole,
    Gift,
    Like,
    LinkMicBattle,
    Member,
    MemberAction,
    MessageEvent,
    ProtocolWarning,
    Social,
    SocialKind,
    StreamEnd,
    UnknownMessage,
    User,
)

BUILTIN_METHODS = {
    "WebcastChatMessage",
    "WebcastMemberMessage",
    "WebcastGiftMessage",
    "WebcastRoomUserSeqMessage",
    "WebcastLikeMessage",
    "WebcastSocialMessage",
    "WebcastEmoteChatMessage",
    "WebcastEnvelopeMessage",
    "WebcastQuestionNewMessage",
    "WebcastLinkMicBattle",
    "WebcastLinkMicArmies",
    "WebcastLiveIntroMessage",
    "WebcastSubNotifyMessage",
    "WebcastControlMessage",
}


def convert(message: fx.WebcastMessage | pb.BaseProtoMessage) -> Event:
    envelope = message if isinstance(message, pb.BaseProtoMessage) else fx.wrap(message)
    return default_registry().convert(envelope)


def user_with(*badges: pb.BadgeStruct, follow_status: int = 0) -> User:
    return convert_user(fx.user(badges=badges, follow_status=follow_status))


# --------------------------------------------------------------------------------------------
# Users: follow role, badges and the flags derived from them
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"), [(0, FollowRole.NONE), (1, FollowRole.FOLLOWER), (2, FollowRole.FRIENDS)]
)
def test_follow_role_is_a_follow_role_member_when_known(status: int, expected: FollowRole) -> None:
    """follow_role = follow_info.follow_status as a FollowRole (SPEC.md §8)."""
    role = user_with(follow_status=status).follow_role
    assert role is expected


def test_an_unknown_follow_status_is_kept_as_a_plain_int() -> None:
    """A value newer than our enum survives as the int (SPEC.md §6: keep unknown values)."""
    role = user_with(follow_status=7).follow_role
    assert role == 7
    assert type(role) is int


def test_user_fields_come_from_their_wire_fields() -> None:
    """user_id = id, unique_id = display_id, picture = avatar_thumb.url_list[0], counts from follow_info."""
    wire = fx.user(
        user_id=2**63 - 1,
        nickname="東京タロウ 🗼",
        unique_id="taro",
        sec_uid="MS4w",
        avatar_urls=("https://a/1.webp", "https://a/2.jpeg"),
        follower_count=5,
        following_count=6,
        verified=True,
    )
    assert convert_user(wire) == User(
        user_id=2**63 - 1,
        unique_id="taro",
        nickname="東京タロウ 🗼",
        sec_uid="MS4w",
        profile_picture_url="https://a/1.webp",
        profile_picture_urls=("https://a/1.webp", "https://a/2.jpeg"),
        verified=True,
        follower_count=5,
        following_count=6,
    )


def test_a_user_without_avatar_has_no_profile_picture() -> None:
    """An empty avatar_thumb.url_list gives profile_picture_url None, not an error."""
    converted = convert_user(fx.user(avatar_urls=()))
    assert converted.profile_picture_url is None
    assert converted.profile_picture_urls == ()


def test_an_empty_user_converts_to_defaults() -> None:
    """An unset user sub-message reads as an empty user."""
    assert convert_user(pb.User()) == User()


def test_a_user_without_badges_has_no_flags() -> None:
    """No badges: not moderator, subscriber or new gifter, no rank, levels 0."""
    converted = user_with()
    assert converted.badges == ()
    assert (converted.is_moderator, converted.is_subscriber, converted.is_new_gifter) == (False, False, False)
    assert converted.top_gifter_rank is None
    assert (converted.gifter_level, converted.team_member_level) == (0, 0)


def test_a_text_badge_gives_key_as_type_and_pattern_as_name() -> None:
    """Text badge → {type: key, name: default_pattern, scene_type} (SPEC.md §8 userBadges)."""
    assert user_with(fx.text_badge("pm_mt_fans_badge", "Fan", scene_type=10)).badges == (
        Badge(type="pm_mt_fans_badge", name="Fan", scene_type=10),
    )


def test_an_image_badge_gives_its_first_url_and_display_type() -> None:
    """Image badge → {type: "image", url: image.url_list[0], display_type, scene_type}."""
    assert user_with(fx.image_badge("https://b/x.png", scene_type=3, display_type=2)).badges == (
        Badge(type="image", scene_type=3, display_type=2, url="https://b/x.png"),
    )


def test_an_image_badge_without_urls_has_no_url_and_sets_no_flag() -> None:
    """An image badge with an empty url_list gives url None and derives nothing."""
    badge = pb.BadgeStruct(scene_type=6, image=pb.ImageBadge(display_type=1, image=pb.ImageModel()))
    converted = user_with(badge)
    assert converted.badges == (Badge(type="image", scene_type=6, display_type=1, url=None),)
    assert converted.top_gifter_rank is None
    assert not converted.is_subscriber


def test_moderator_by_badge_key_case_insensitive() -> None:
    """is_moderator when a badge type contains "moderator", in any case."""
    assert user_with(fx.text_badge("pm_mt_MODERATOR_im", "Mod", scene_type=0)).is_moderator


@pytest.mark.parametrize(
    "badge",
    [
        fx.text_badge("pm_mt_admin", "Admin", scene_type=1),
        pb.BadgeStruct(scene_type=1, str=pb.StringBadge(str="Admin")),
    ],
    ids=["text", "string"],
)
def test_moderator_by_scene_type_1(badge: pb.BadgeStruct) -> None:
    """is_moderator when a badge has scene type 1 (ADMIN), whatever kind of badge carries it."""
    assert user_with(badge).is_moderator


def test_other_badges_do_not_make_a_moderator() -> None:
    """Neither the key nor the scene type says moderator: not a moderator."""
    assert not user_with(
        fx.text_badge("pm_mt_fans", "Fan", scene_type=10), fx.top_gifter_badge(1)
    ).is_moderator


def test_subscriber_by_badge_url_case_insensitive() -> None:
    """is_subscriber when a badge url contains "/sub_", in any case."""
    assert user_with(fx.image_badge("https://cdn/webcast/SUB_gold.png", scene_type=0)).is_subscriber


@pytest.mark.parametrize("scene_type", [4, 7])
def test_subscriber_by_scene_type_4_or_7(scene_type: int) -> None:
    """is_subscriber for scene type 4 (SUBSCRIBER) or 7 (NEW_SUBSCRIBER)."""
    assert user_with(fx.text_badge("badge", "B", scene_type=scene_type)).is_subscriber


@pytest.mark.parametrize("scene_type", [0, 1, 5, 8])
def test_other_scene_types_do_not_make_a_subscriber(scene_type: int) -> None:
    """Only scene types 4 and 7 (or a /sub_ url) mean subscriber."""
    assert not user_with(fx.text_badge("badge", "B", scene_type=scene_type)).is_subscriber


@pytest.mark.parametrize("rank", [1, 3, 10])
def test_top_gifter_rank_is_the_number_in_the_badge_url(rank: int) -> None:
    """…/ranklist_top_gifter_{N}.png~tplv-obj.image → N."""
    assert user_with(fx.top_gifter_badge(rank)).top_gifter_rank == rank


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn/webcast/ranklist_top_gifter_x.png",
        "https://cdn/webcast/ranklist_top_gifter_3.webp",
        "https://cdn/webcast/ranklist_top_gifter_.png",
        "https://cdn/webcast/ranklist_top_gifter_٣.png",
        "https://cdn/webcast/top_gifter_3.png",
    ],
    ids=["letters", "no-png", "empty", "arabic-digit", "no-marker"],
)
def test_top_gifter_rank_is_none_when_the_url_does_not_match(url: str) -> None:
    """No "/ranklist_top_gifter_{ASCII digits}.png" in the url: no rank, and no error."""
    assert user_with(fx.image_badge(url)).top_gifter_rank is None


def test_the_first_top_gifter_badge_gives_the_rank() -> None:
    """With several top-gifter badges, the first one's rank counts."""
    assert user_with(fx.top_gifter_badge(2), fx.top_gifter_badge(1)).top_gifter_rank == 2


def test_new_gifter_by_badge_key_case_insensitive() -> None:
    """is_new_gifter when a badge type contains "live_ng_", in any case."""
    assert user_with(fx.new_gifter_badge()).is_new_gifter
    assert user_with(fx.text_badge("LIVE_NG_badge", "New")).is_new_gifter
    assert not user_with(fx.text_badge("live_ngx", "No")).is_new_gifter


def test_a_privilege_level_gives_a_privilege_badge_and_the_gifter_level() -> None:
    """privilege level "12" → {type: "privilege", privilege_id, level: 12}; scene 8 → gifter_level."""
    converted = user_with(fx.privilege_badge("12", scene_type=8, privilege_id="p1"))
    assert converted.badges == (Badge(type="privilege", scene_type=8, privilege_id="p1", level=12),)
    assert converted.gifter_level == 12
    assert converted.team_member_level == 0


def test_team_member_level_comes_from_scene_type_10() -> None:
    """team_member_level = the privilege level of scene type 10; the first of each scene counts."""
    converted = user_with(fx.team_member_badge(4), fx.team_member_badge(9), fx.gifter_level_badge(20))
    assert (converted.gifter_level, converted.team_member_level) == (20, 4)


@pytest.mark.parametrize("level", ["0", "", "abc", "-3", "12a", "1" * 30])
def test_privilege_levels_that_are_not_positive_numbers_give_no_badge(level: str) -> None:
    """Level "" or "0" means no level (SPEC.md §8); a non-numeric one cannot be a level either."""
    converted = user_with(fx.privilege_badge(level, scene_type=8))
    assert converted.badges == ()
    assert converted.gifter_level == 0


def test_one_badge_struct_can_yield_a_text_and_a_privilege_badge() -> None:
    """Text and privilege parts of one BadgeStruct both become badges, in that order."""
    badge = fx.text_badge("pm_mt_grade", "Level", scene_type=8)
    badge.privilege_log_extra.CopyFrom(pb.PrivilegeLogExtra(privilege_id="p", level="5"))
    assert user_with(badge).badges == (
        Badge(type="pm_mt_grade", name="Level", scene_type=8),
        Badge(type="privilege", scene_type=8, privilege_id="p", level=5),
    )


def test_string_and_combine_badges_yield_no_badge_entry() -> None:
    """SPEC.md §8 maps text, image and privilege badges only."""
    assert (
        user_with(
            pb.BadgeStruct(str=pb.StringBadge(str="x")), pb.BadgeStruct(combine=pb.CombineBadgeStruct())
        ).badges
        == ()
    )


# --------------------------------------------------------------------------------------------
# Message events
# --------------------------------------------------------------------------------------------


def test_msg_id_falls_back_to_the_envelope_when_common_has_none() -> None:
    """msg_id = common.msg_id, or the envelope's msg_id when common's is 0."""
    event = convert(fx.wrap(fx.chat(msg_id=0), msg_id=99))
    assert isinstance(event, Chat)
    assert event.msg_id == 99


def test_common_msg_id_wins_over_the_envelope() -> None:
    """When both are set, common.msg_id is the event's msg_id."""
    event = convert(fx.wrap(fx.chat(msg_id=5), msg_id=99))
    assert isinstance(event, Chat)
    assert event.msg_id == 5


def test_display_type_and_label_come_from_the_display_text() -> None:
    """display_type = common.display_text.key, label = its default_pattern (SPEC.md §8)."""
    event = convert(fx.like())
    assert isinstance(event, MessageEvent)
    assert (event.display_type, event.label) == ("pm_mt_msg_viewer", "{0:user} sent likes to the host")


def test_every_message_event_keeps_its_raw_payload() -> None:
    """payload is the envelope's bytes, for tools and unmodelled fields."""
    envelope = fx.wrap(fx.gift())
    event = convert(envelope)
    assert isinstance(event, Gift)
    assert event.payload == envelope.payload


def test_a_chat_without_at_user_or_identity_leaves_them_none() -> None:
    """Optional sub-messages that were not sent convert to None, not to empty values."""
    event = convert(fx.chat())
    assert isinstance(event, Chat)
    assert event.at_user is None
    assert event.user_identity is None


def _gift(message: pb.WebcastGiftMessage) -> Gift:
    event = convert(message)
    assert isinstance(event, Gift)
    return event


def test_streak_type_1_in_progress() -> None:
    """Type 1 with repeat_end 0: the streak is in progress; not final (SPEC.md §8 Streaks)."""
    event = _gift(fx.gift(gift_type=1, repeat_count=4, repeat_end=False))
    assert (event.repeat_end, event.is_streakable, event.is_streak_in_progress, event.is_final) == (
        False,
        True,
        True,
        False,
    )


def test_streak_type_1_end() -> None:
    """Type 1 with repeat_end ≠ 0: the streak's final event."""
    event = _gift(fx.gift(gift_type=1, repeat_count=4, repeat_end=True))
    assert (event.repeat_end, event.is_streak_in_progress, event.is_final, event.repeat_count) == (
        True,
        False,
        True,
        4,
    )


def test_a_single_type_1_gift_arrives_twice_in_progress_then_final() -> None:
    """Even a single type-1 gift comes twice: count 1 in progress, then count 1 final."""
    first = _gift(fx.gift(gift_type=1, repeat_count=1, repeat_end=False))
    last = _gift(fx.gift(gift_type=1, repeat_count=1, repeat_end=True))
    assert (first.is_final, last.is_final) == (False, True)
    assert first.repeat_count == last.repeat_count == 1


@pytest.mark.parametrize("repeat_end", [False, True])
def test_gifts_not_of_type_1_are_always_final(repeat_end: bool) -> None:
    """Only type 1 streaks: any other type is final whatever repeat_end says."""
    event = _gift(fx.gift(gift_id=6369, gift_type=2, repeat_end=repeat_end))
    assert event.is_final
    assert not event.is_streakable


def test_repeat_end_is_true_for_any_non_zero_value() -> None:
    """repeat_end = (field 9 ≠ 0): the wire int32 may be any non-zero value."""
    message = fx.gift(repeat_end=False)
    message.repeat_end = 7
    event = convert(message)
    assert isinstance(event, Gift)
    assert event.repeat_end is True


def test_gift_fields_read_the_gift_and_monitor_info() -> None:
    """gift_name/diamond_count/type/describe/picture from gift 15; timestamp/receiver from 23."""
    event = _gift(fx.gift(gift_id=5655, timestamp=1234, receiver_user_id=42))
    assert (event.gift_name, event.diamond_count, event.gift_type, event.describe) == (
        "Rose",
        1,
        1,
        "sent Rose",
    )
    assert event.gift_picture_url is not None
    assert event.gift_picture_url.endswith("gift_5655.png~tplv-obj.png")
    assert (event.timestamp, event.receiver_user_id) == (1234, 42)
    assert event.total_diamonds == 1


def _social(message: pb.WebcastSocialMessage) -> Social:
    event = convert(message)
    assert isinstance(event, Social)
    return event


def test_a_follow_key_makes_a_follow() -> None:
    """display key containing "follow" → SocialKind.FOLLOW."""
    event = _social(fx.social_follow())
    assert (event.kind, event.is_follow, event.is_share, event.users_joined) == (
        SocialKind.FOLLOW,
        True,
        False,
        None,
    )


def test_a_share_key_makes_a_share() -> None:
    """display key containing "share" → SocialKind.SHARE, no users_joined for the plain key."""
    event = _social(fx.social_share())
    assert (event.kind, event.is_share, event.users_joined) == (SocialKind.SHARE, True, None)


def test_users_joined_is_n_of_the_guidance_viewer_share_key() -> None:
    """pm_mt_guidance_viewer_{N}_share → users_joined N ([TL])."""
    assert _social(fx.social_share(users_joined=12)).users_joined == 12


@pytest.mark.parametrize("key", ["pm_mt_guidance_viewer_x_share", "pm_mt_guidance_viewer__share", "x_share"])
def test_share_keys_without_a_number_have_no_users_joined(key: str) -> None:
    """A share key not of the N form (or with no digits) is a share with users_joined None."""
    event = _social(fx.social(display_key=key))
    assert (event.kind, event.users_joined) == (SocialKind.SHARE, None)


@pytest.mark.parametrize("key", ["", "pm_mt_other", "pm_main_unknown"])
def test_other_keys_make_other(key: str) -> None:
    """Neither "follow" nor "share" in the key → SocialKind.OTHER, whatever the action."""
    event = _social(fx.social(display_key=key, action=1))
    assert (event.kind, event.is_follow, event.is_share) == (SocialKind.OTHER, False, False)


def test_follow_wins_when_a_key_names_both() -> None:
    """ "follow" is checked first, as the current peers do."""
    assert _social(fx.social(display_key="pm_follow_share")).kind is SocialKind.FOLLOW


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (0, ControlAction.UNKNOWN),
        (1, ControlAction.STREAM_PAUSED),
        (2, ControlAction.STREAM_UNPAUSED),
        (9, 9),
    ],
)
def test_control_actions_other_than_3_and_4_give_control(action: int, expected: int) -> None:
    """Pause, unpause and unknown actions are Control events; unknown actions stay ints."""
    event = convert(fx.control(action, tips="t"))
    assert type(event) is Control
    assert event.action == expected
    assert type(event.action) is type(expected)


@pytest.mark.parametrize(
    ("action", "expected"), [(3, ControlAction.STREAM_ENDED), (4, ControlAction.STREAM_SUSPENDED)]
)
def test_control_actions_3_and_4_give_stream_end(action: int, expected: ControlAction) -> None:
    """Action 3 (host) or 4 (platform) ends the stream: StreamEnd with the action (SPEC.md §8)."""
    event = convert(fx.control(action))
    assert type(event) is StreamEnd
    assert event.action is expected


@pytest.mark.parametrize(
    ("action", "expected"), [(1, MemberAction.JOINED), (7, MemberAction.SUBSCRIBED_LEGACY), (42, 42)]
)
def test_member_action_is_an_enum_member_or_the_int(action: int, expected: int) -> None:
    """Member.action: MemberAction when known, the plain int otherwise."""
    event = convert(fx.member(action=action))
    assert isinstance(event, Member)
    assert event.action == expected
    assert type(event.action) is type(expected)


def test_battle_action_unknown_value_is_kept() -> None:
    """LinkMicBattle.action: BattleAction when known, the plain int otherwise."""
    known = convert(fx.link_mic_battle(action=1))
    unknown = convert(fx.link_mic_battle(action=99))
    assert isinstance(known, LinkMicBattle)
    assert isinstance(unknown, LinkMicBattle)
    assert known.action is BattleAction.INVITE
    assert type(unknown.action) is int


def test_battle_result_user_id_falls_back_to_the_entry_key() -> None:
    """battle_result is keyed by user id; a value without user_id takes the key."""
    message = fx.link_mic_battle(results=[fx.battle_result(0, score=5)])
    message.battle_result[0].key = 77
    event = convert(message)
    assert isinstance(event, LinkMicBattle)
    assert [(r.user_id, r.score) for r in event.battle_results] == [(77, 5)]


def test_an_emote_message_without_emotes_has_no_emote_id() -> None:
    """emote_id/emote_image_url come from the first emote; none → "" and None."""
    event = convert(fx.emote_chat(emotes=[]))
    assert isinstance(event, Emote)
    assert (event.emote_id, event.emote_image_url, event.emotes) == ("", None, ())


def _envelope(message: pb.WebcastEnvelopeMessage) -> Envelope:
    event = convert(message)
    assert isinstance(event, Envelope)
    return event


def test_envelope_sender_is_the_first_display_text_piece_user() -> None:
    """sender = common.display_text.pieces[0].user_value.user (SPEC.md §8)."""
    sender = fx.user(nickname="Zoë 🦋")
    assert _envelope(fx.envelope(sender=sender)).sender == convert_user(sender)


def test_envelope_without_pieces_or_piece_user_has_no_sender() -> None:
    """No pieces, or a first piece without a user value: sender None."""
    no_pieces = fx.envelope()
    del no_pieces.common.display_text.pieces[:]
    string_piece = fx.envelope()
    string_piece.common.display_text.pieces[0].ClearField("user_value")
    empty_user_value = fx.envelope()
    empty_user_value.common.display_text.pieces[0].user_value.ClearField("user")

    assert _envelope(no_pieces).sender is None
    assert _envelope(string_piece).sender is None
    assert _envelope(empty_user_value).sender is None


@pytest.mark.parametrize(("text", "expected"), [("7001", 7001), ("", 0), ("abc", 0), ("-5", 0), (" 7", 0)])
def test_envelope_send_user_id_is_the_decimal_string_as_int(text: str, expected: int) -> None:
    """send_user_id is sent as a decimal string: an int when numeric, else 0."""
    assert _envelope(fx.envelope(send_user_id=text)).send_user_id == expected


# --------------------------------------------------------------------------------------------
# Unknown methods and undecodable payloads
# --------------------------------------------------------------------------------------------


def test_an_unknown_method_gives_unknown_message_with_common_fields() -> None:
    """Unknown method → UnknownMessage: method, raw payload, and common's msg_id/room_id/create_time."""
    payload = fx.like(msg_id=11, room_id=22, create_time=33).SerializeToString()
    envelope = pb.BaseProtoMessage(method="WebcastGoalUpdateMessage", payload=payload, msg_id=44)

    assert convert(envelope) == UnknownMessage(
        method="WebcastGoalUpdateMessage",
        msg_id=11,
        room_id=22,
        create_time=33,
        display_type="pm_mt_msg_viewer",
        label="{0:user} sent likes to the host",
        payload=payload,
    )


def test_an_unknown_method_whose_payload_does_not_parse_keeps_the_envelope_id() -> None:
    """An unparseable unknown payload is not an error: UnknownMessage with the envelope's msg_id."""
    envelope = pb.BaseProtoMessage(method="WebcastNewThing", payload=b"\xff\xff", msg_id=44)
    assert convert(envelope) == UnknownMessage(method="WebcastNewThing", msg_id=44, payload=b"\xff\xff")


def test_a_known_method_with_garbage_payload_gives_a_protocol_warning() -> None:
    """A payload that does not parse as its method's message → ProtocolWarning, never an exception."""
    envelope = pb.BaseProtoMessage(method="WebcastChatMessage", payload=b"\x0a\x05ab", msg_id=3)
    event = convert(envelope)
    assert isinstance(event, ProtocolWarning)
    assert (event.method, event.msg_id) == ("WebcastChatMessage", 3)


def test_a_warning_for_a_message_without_msg_id_has_msg_id_none() -> None:
    """A bad message whose envelope has msg_id 0 gets msg_id None: the id is unknown."""
    event = convert(pb.BaseProtoMessage(method="WebcastGiftMessage", payload=b"\xff"))
    assert isinstance(event, ProtocolWarning)
    assert (event.method, event.msg_id) == ("WebcastGiftMessage", None)


def test_a_string_field_with_bad_utf8_is_a_warning() -> None:
    """upb refuses invalid UTF-8 in a string field; that becomes a warning too."""
    # Field 3 (content) of WebcastChatMessage, length 2, two bytes that are not UTF-8.
    envelope = pb.BaseProtoMessage(method="WebcastChatMessage", payload=bytes([0x1A, 2, 0xFF, 0xFE]))
    assert isinstance(convert(envelope), ProtocolWarning)


# --------------------------------------------------------------------------------------------
# Users read from the decoding views' raw bytes (proto/webcast.proto "Decoding views")
# --------------------------------------------------------------------------------------------


def _field(number: int, value: bytes) -> bytes:
    """One length-delimited field (numbers below 16, values below 128 bytes)."""
    assert number < 16
    assert len(value) < 128
    return bytes([number << 3 | 2, len(value)]) + value


def _chat_envelope(payload: bytes, *, msg_id: int) -> pb.BaseProtoMessage:
    return pb.BaseProtoMessage(method="WebcastChatMessage", payload=payload, msg_id=msg_id)


def test_a_user_sent_in_two_parts_is_their_merge_as_upb_would_parse_it() -> None:
    """A message field given twice is merged: the view's parts give the same user as one parse."""
    first = pb.User(id=7, nickname="first", display_id="seven").SerializeToString()
    second = pb.User(nickname="second").SerializeToString()
    payload = fx.chat("hi").SerializeToString() + _field(2, first) + _field(2, second)
    merged = pb.WebcastChatMessage.FromString(payload).user
    assert (merged.id, merged.nickname, merged.display_id) == (7, "second", "seven")
    event = default_registry().convert(_chat_envelope(payload, msg_id=1))
    assert isinstance(event, Chat)
    assert event.user == convert_user(merged)


def test_a_corrupt_user_is_a_warning_each_time_and_never_cached() -> None:
    """A user whose bytes do not parse makes the message a ProtocolWarning naming the user type; the
    same bytes again are parsed (and refused) again, and a good user after them converts."""
    registry = default_registry()
    bad = fx.chat("hi").SerializeToString() + _field(2, b"\x0a\x05ab")  # a string field cut short
    for _ in range(2):
        event = registry.convert(_chat_envelope(bad, msg_id=2))
        assert isinstance(event, ProtocolWarning)
        assert "WebcastChatMessage" in event.message
        assert "View" not in event.message
    good = registry.convert(fx.wrap(fx.chat("fine")))
    assert isinstance(good, Chat)


def test_a_user_field_of_another_wire_type_is_ignored_as_upb_ignores_it() -> None:
    """Field 2 sent as a varint is an unknown field to the message and to the view: an empty user."""
    payload = pb.WebcastChatMessage(content="hi").SerializeToString() + bytes([2 << 3, 5])
    assert not pb.WebcastChatMessage.FromString(payload).HasField("user")
    event = default_registry().convert(_chat_envelope(payload, msg_id=3))
    assert isinstance(event, Chat)
    assert event.user == convert_user(pb.User())


def test_an_empty_at_user_is_an_empty_user_not_none() -> None:
    """A present but empty ``at_user`` is a user with default fields, as HasField would say."""
    payload = fx.chat("hi").SerializeToString() + _field(12, b"")
    event = default_registry().convert(_chat_envelope(payload, msg_id=4))
    assert isinstance(event, Chat)
    assert event.at_user == convert_user(pb.User())


def test_a_cached_user_is_the_same_object_across_messages_and_types() -> None:
    """The same user bytes in a chat, a like and a gift give one User object (one cache per registry)."""
    registry = default_registry()
    user = fx.user(user_id=42, nickname="regular")
    chat, like, gift = (
        registry.convert(fx.wrap(m)) for m in (fx.chat(user=user), fx.like(user=user), fx.gift(user=user))
    )
    assert isinstance(chat, Chat)
    assert isinstance(like, Like)
    assert isinstance(gift, Gift)
    assert chat.user is like.user is gift.user
    assert chat.user == convert_user(user)


# One payload of each message type that has a decoding view, made once (the same bytes every run).
_VIEWED: dict[str, bytes] = {
    message.DESCRIPTOR.name: message.SerializeToString()
    for message in (
        fx.chat(
            "hi",
            # badges, so that mutations reach the bytes the badge cache keys on
            user=fx.user(user_id=3, badges=[fx.moderator_badge(), fx.top_gifter_badge(2)]),
            at_user=fx.user(user_id=9),
            msg_id=11,
        ),
        fx.member(msg_id=12),
        fx.gift(to_user=fx.user(user_id=8), msg_id=13),
        fx.like(msg_id=14),
        fx.social_follow(msg_id=15),
        fx.emote_chat(msg_id=16),
        fx.room_user_seq(1523, msg_id=17),
    )
}


@pytest.mark.parametrize("method", sorted(_VIEWED))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_view_refuses_exactly_what_its_message_refuses(method: str, data: st.DataObject) -> None:
    """Mutated payloads (bytes changed, cut, inserted; user fields added): the converter gives a
    ProtocolWarning exactly when the payload does not parse as its protocol message, and otherwise
    the users that message holds."""
    payload = bytearray(_VIEWED[method])
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.integers(0, len(payload)))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "user"]))
        if action == "flip" and where < len(payload):
            payload[where] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del payload[where:]
        elif action == "insert":
            payload[where:where] = data.draw(st.binary(min_size=1, max_size=4))
        elif action == "user":  # another occurrence of field 2 (the user in most of them), maybe broken
            extra = fx.user(user_id=data.draw(st.integers(1, 2**40))).SerializeToString()
            payload += _field(2, extra[: data.draw(st.integers(0, min(len(extra), 127)))])
    message_class = getattr(pb, method)
    try:
        parsed: Any = message_class.FromString(bytes(payload))
    except DecodeError:
        parsed = None
    event = default_registry().convert(pb.BaseProtoMessage(method=method, payload=bytes(payload), msg_id=5))
    if parsed is None:
        assert isinstance(event, ProtocolWarning)
        return
    assert not isinstance(event, ProtocolWarning), event
    user = getattr(event, "user", None)
    if method == "WebcastRoomUserSeqMessage":
        assert [v.user for v in event.top_viewers] == [convert_user(c.user) for c in parsed.ranks]  # type: ignore[attr-defined]
    else:
        assert user == convert_user(parsed.user)


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


def _raise_decode_error(message: pb.BaseProtoMessage) -> Event:
    raise DecodeError("bad")


def _custom(message: pb.BaseProtoMessage) -> Event:
    return UnknownMessage(method="custom:" + message.method, msg_id=message.msg_id)


def test_default_registry_has_every_builtin_method() -> None:
    """default_registry() converts the 14 seed methods of SPEC.md §7."""
    registry = default_registry()
    assert registry.methods == BUILTIN_METHODS
    assert all(method in registry for method in BUILTIN_METHODS)


def test_default_registry_is_fresh_each_time() -> None:
    """Registering on one registry never changes default_registry() (no global state)."""
    first = default_registry()
    first.register("WebcastChatMessage", _custom)
    first.register("WebcastBarrageMessage", _custom)
    first.unregister("WebcastGiftMessage")

    fresh = default_registry()
    assert fresh.methods == BUILTIN_METHODS
    assert isinstance(fresh.convert(fx.wrap(fx.chat())), Chat)


def test_register_adds_and_replaces_a_converter() -> None:
    """register() routes a method to the converter, replacing a built-in one."""
    registry = default_registry()
    registry.register("WebcastChatMessage", _custom)
    registry.register("WebcastBarrageMessage", _custom)

    chat = registry.convert(fx.wrap(fx.chat(), msg_id=8))
    assert chat == UnknownMessage(method="custom:WebcastChatMessage", msg_id=8)
    assert "WebcastBarrageMessage" in registry


def test_unregister_makes_the_method_unknown() -> None:
    """After unregister(), the method's messages become UnknownMessage."""
    registry = default_registry()
    registry.unregister("WebcastLikeMessage")
    assert "WebcastLikeMessage" not in registry
    assert type(registry.convert(fx.wrap(fx.like()))) is UnknownMessage


def test_unregister_of_a_missing_method_raises_key_error() -> None:
    """unregister() of a method without converter is a KeyError naming it."""
    with pytest.raises(KeyError, match="WebcastNothing"):
        default_registry().unregister("WebcastNothing")


def test_copy_is_independent_both_ways() -> None:
    """A copy starts with the same converters; changes to either leave the other alone."""
    original = default_registry()
    duplicate = original.copy()
    duplicate.unregister("WebcastChatMessage")
    original.register("WebcastBarrageMessage", _custom)

    assert "WebcastChatMessage" in original
    assert "WebcastChatMessage" not in duplicate
    assert "WebcastBarrageMessage" not in duplicate


def _table_of(registry: ConverterRegistry) -> object:
    return registry._converters


def test_a_default_registry_binds_its_converters_on_first_use() -> None:
    """default_registry() holds no table of its own until it converts, changes or is copied; it
    answers `in`, methods and repr from the built-in methods meanwhile, and binds once."""
    registry = default_registry()
    assert _table_of(registry) is None
    assert "WebcastChatMessage" in registry
    assert "WebcastBarrageMessage" not in registry
    assert 1 not in registry
    assert registry.methods == BUILTIN_METHODS
    assert repr(registry) == "<ConverterRegistry of 14 methods>"
    assert _table_of(registry) is None

    assert isinstance(registry.convert(fx.wrap(fx.chat())), Chat)
    table = _table_of(registry)
    assert table is not None
    assert registry.methods == BUILTIN_METHODS
    assert isinstance(registry.convert(fx.wrap(fx.like())), Like)
    assert _table_of(registry) is table  # bound once

    changed = default_registry()
    changed.unregister("WebcastLikeMessage")
    assert changed.methods == BUILTIN_METHODS - {"WebcastLikeMessage"}
    assert isinstance(changed.convert(fx.wrap(fx.chat())), Chat)


def test_a_copy_of_an_unused_default_registry_shares_its_user_cache() -> None:
    """Copying binds the built-in converters first, so the copy and the original share one cache."""
    original = default_registry()
    duplicate = original.copy()
    chat = fx.chat()
    first = original.convert(fx.wrap(chat, msg_id=1))
    second = duplicate.convert(fx.wrap(chat, msg_id=2))
    assert isinstance(first, Chat)
    assert isinstance(second, Chat)
    assert first.user is second.user  # one cache: the second conversion found the first's user


def test_a_registry_built_from_a_mapping_has_only_those_converters() -> None:
    """ConverterRegistry(mapping) holds exactly the mapping; ConverterRegistry() holds nothing."""
    assert ConverterRegistry({"A": _custom}).methods == {"A"}
    assert ConverterRegistry().methods == frozenset()
    assert type(ConverterRegistry().convert(fx.wrap(fx.chat()))) is UnknownMessage


def test_contains_is_false_for_non_strings() -> None:
    """`in` accepts any object and is False for non-method values, even unhashable ones."""
    registry = default_registry()
    assert 1 not in registry
    assert ["WebcastChatMessage"] not in registry


def test_register_refuses_bad_arguments() -> None:
    """A non-string or empty method, or a non-callable converter, is refused."""
    registry = ConverterRegistry()
    with pytest.raises(TypeError, match="method"):
        registry.register(1, _custom)  # type: ignore[arg-type]  # the wrong type under test
    with pytest.raises(ValueError, match="empty"):
        registry.register("", _custom)
    with pytest.raises(TypeError, match="callable"):
        registry.register("A", "not callable")  # type: ignore[arg-type]  # the wrong type under test
    assert registry.methods == frozenset()


def test_a_converter_raising_decode_error_gives_a_warning() -> None:
    """A custom converter's DecodeError becomes a ProtocolWarning like a built-in's."""
    registry = ConverterRegistry({"A": _raise_decode_error})
    event = registry.convert(pb.BaseProtoMessage(method="A", msg_id=5))
    assert isinstance(event, ProtocolWarning)
    assert (event.method, event.msg_id) == ("A", 5)


def test_repr_counts_methods() -> None:
    """The repr says how many methods the registry converts."""
    assert repr(default_registry()) == "<ConverterRegistry of 14 methods>"


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def test_to_dict_of_converted_events_is_json_with_string_ids() -> None:
    """Every converted event's to_dict() is JSON; 64-bit ids are decimal strings."""
    for envelope in fx.realistic_mix(200, seed=4):
        event = convert(envelope)
        data = json.loads(json.dumps(event.to_dict()))
        assert data["type"] == type(event).__name__
        assert data["msg_id"] == str(envelope.msg_id)
        assert data["room_id"] == str(fx.DEFAULT_ROOM_ID)
        assert "payload" not in data
        user = data.get("user")
        if isinstance(user, dict):
            assert isinstance(user["user_id"], str)


def test_to_dict_of_a_gift_has_string_ids_and_plain_values() -> None:
    """Nested users, enums and ids all become JSON values."""
    event = convert(fx.gift(user=fx.user(user_id=2**63 - 1, follow_status=2), receiver_user_id=2**62))
    data = json.loads(json.dumps(event.to_dict()))
    assert data["user"]["user_id"] == str(2**63 - 1)
    assert data["user"]["follow_role"] == 2
    assert data["receiver_user_id"] == str(2**62)
    assert data["repeat_end"] is True


def test_to_dict_of_an_unknown_message_has_its_payload_in_base64() -> None:
    """UnknownMessage keeps its raw payload in JSON, as base64."""
    payload = fx.like().SerializeToString()
    event = convert(pb.BaseProtoMessage(method="WebcastX", payload=payload))
    data = json.loads(json.dumps(event.to_dict()))
    assert base64.b64decode(data["payload"]) == payload


def test_to_dict_of_a_warning_and_a_social_kind() -> None:
    """ProtocolWarning and SocialKind (a str enum) serialise too."""
    warning = convert(pb.BaseProtoMessage(method="WebcastChatMessage", payload=b"\xff", msg_id=9))
    assert json.loads(json.dumps(warning.to_dict()))["msg_id"] == "9"
    assert json.loads(json.dumps(convert(fx.social_follow()).to_dict()))["kind"] == "follow"
