"""The fixture builders make valid, realistic, deterministic traffic that our own decoders accept."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import pytest

from webcast_proto import codec
from webcast_proto import fixtures as fx
from webcast_proto._decode import decode_push_frame
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.convert import default_registry
from webcast_proto.events import Gift, LinkMicArmies, LiveIntro, MessageEvent, RoomUser

if TYPE_CHECKING:
    from collections.abc import Callable

# Every builder with its defaults alone.
DEFAULT_BUILDERS: dict[str, Callable[[], fx.WebcastMessage]] = {
    "chat": fx.chat,
    "member": fx.member,
    "gift": fx.gift,
    "room_user_seq": fx.room_user_seq,
    "like": fx.like,
    "social_follow": fx.social_follow,
    "social_share": fx.social_share,
    "emote_chat": fx.emote_chat,
    "envelope": fx.envelope,
    "question_new": fx.question_new,
    "link_mic_battle": fx.link_mic_battle,
    "link_mic_armies": fx.link_mic_armies,
    "live_intro": fx.live_intro,
    "sub_notify": fx.sub_notify,
    "control": fx.control,
}


@pytest.mark.parametrize("name", sorted(DEFAULT_BUILDERS))
def test_each_builder_with_defaults_converts_to_its_event(name: str) -> None:
    """Defaults alone make a message our converters accept, with a fresh 64-bit msg_id and the room."""
    message = DEFAULT_BUILDERS[name]()
    envelope = fx.wrap(message)
    event = default_registry().convert(envelope)

    assert isinstance(event, MessageEvent)
    assert envelope.method == type(message).DESCRIPTOR.name
    assert event.msg_id == message.common.msg_id > 2**53
    assert event.room_id == fx.DEFAULT_ROOM_ID


def test_default_msg_ids_are_unique() -> None:
    """Builders called without ids never repeat a msg_id (dedup would drop the repeat)."""
    ids = [fx.chat().common.msg_id for _ in range(100)] + [fx.like().common.msg_id for _ in range(100)]
    assert len(set(ids)) == len(ids)


def test_default_room_user_seq_has_ranked_top_viewers() -> None:
    """Three top viewers by default, ranked 1..3 with falling scores."""
    event = default_registry().convert(fx.wrap(fx.room_user_seq()))
    assert isinstance(event, RoomUser)
    assert [(v.rank, v.coin_count) for v in event.top_viewers] == [(1, 500), (2, 350), (3, 200)]


def test_default_armies_name_the_host_first() -> None:
    """The default armies are the host's then a rival's, each with supporters."""
    event = default_registry().convert(fx.wrap(fx.link_mic_armies()))
    assert isinstance(event, LinkMicArmies)
    assert event.battle_armies[0].host_user_id == fx.HOST_USER_ID
    assert all(army.participants for army in event.battle_armies)


def test_default_live_intro_is_by_the_host() -> None:
    """The intro's user is the host by default."""
    event = default_registry().convert(fx.wrap(fx.live_intro()))
    assert isinstance(event, LiveIntro)
    assert event.user is not None
    assert event.user.user_id == fx.HOST_USER_ID


def test_gift_defaults_come_from_the_catalogue() -> None:
    """A known gift id brings its name, diamonds and type; an unknown one a 10-diamond type-2 gift."""
    rose = fx.gift(5655)
    other = fx.gift(12345)
    assert (rose.gift.name, rose.gift.diamond_count, rose.gift.type) == ("Rose", 1, 1)
    assert (other.gift.name, other.gift.diamond_count, other.gift.type) == ("Gift 12345", 10, 2)


def test_wrap_takes_an_explicit_msg_id() -> None:
    """wrap(msg_id=…) sets the envelope's id, leaving the payload's common id alone."""
    message = fx.chat(msg_id=1)
    assert fx.wrap(message, msg_id=2).msg_id == 2
    assert fx.wrap(message).msg_id == 1


def test_fetch_result_wraps_messages_and_fills_defaults() -> None:
    """fetch_result() wraps plain messages and fills cursor, internal_ext, push server and route params."""
    envelope = fx.wrap(fx.like())
    result = fx.fetch_result([fx.chat(), envelope], now=1_000)

    assert [m.method for m in result.messages] == ["WebcastChatMessage", "WebcastLikeMessage"]
    assert result.messages[1] == envelope
    assert result.cursor == "t-1000_r-1_d-1_u-1"
    assert f"wss_push_room_id:{fx.DEFAULT_ROOM_ID}" in result.internal_ext
    assert result.push_server == fx.DEFAULT_PUSH_SERVER
    assert dict(result.route_params)["im_path"] == "/webcast/im/fetch/"
    assert (result.need_ack, result.fetch_interval, result.heartbeat_duration) == (True, 1000, 10_000)


def test_fetch_result_takes_overrides() -> None:
    """Every fetch result field can be set, including empty push server and route params (polling)."""
    result = fx.fetch_result(
        cursor="c",
        internal_ext="i",
        push_server="",
        route_params={},
        need_ack=False,
        is_first=True,
        fetch_type=2,
    )
    assert (result.cursor, result.internal_ext, result.push_server, dict(result.route_params)) == (
        "c",
        "i",
        "",
        {},
    )
    assert (result.need_ack, result.is_first, result.fetch_type) == (False, True, 2)


@pytest.mark.parametrize("compress", [True, False])
def test_message_frame_is_a_msg_frame_the_codec_reads(compress: bool) -> None:
    """message_frame() encodes like the push server: payload type msg, a log id, gzip when asked."""
    frame = codec.parse_push_frame(fx.message_frame([fx.chat()], log_id=77, compress=compress))
    assert (frame.payload_type, frame.log_id) == ("msg", 77)
    assert codec.is_gzip(frame.payload) is compress
    assert len(codec.fetch_result_from_frame(frame).messages) == 1


def test_message_frame_gives_a_fresh_log_id_by_default() -> None:
    """Without log_id, each frame gets a new non-zero one (acks echo it)."""
    first = codec.parse_push_frame(fx.message_frame([]))
    second = codec.parse_push_frame(fx.message_frame([]))
    assert 0 < first.log_id != second.log_id


def test_push_frame_builds_other_payload_types() -> None:
    """push_frame() makes hb/ack/… frames with the given payload."""
    frame = codec.parse_push_frame(fx.push_frame("im_enter_room_resp", b"x", log_id=3))
    assert (frame.payload_type, frame.payload, frame.log_id) == ("im_enter_room_resp", b"x", 3)


def test_nicknames_cover_many_scripts_and_emoji() -> None:
    """The nickname pool holds non-Latin scripts, emoji and invisible characters."""
    text = "".join(fx.NICKNAMES)
    assert any(ord(c) > 0xFFFF for c in text)  # emoji outside the BMP
    assert "\u200d" in text
    assert any("\u0600" <= c <= "\u06ff" for c in text)  # Arabic


# --------------------------------------------------------------------------------------------
# realistic_mix
# --------------------------------------------------------------------------------------------


def test_realistic_mix_is_deterministic_per_seed() -> None:
    """The same seed gives byte-identical messages; another seed gives others."""
    first = [m.SerializeToString() for m in fx.realistic_mix(300, seed=7)]
    again = [m.SerializeToString() for m in fx.realistic_mix(300, seed=7)]
    other = [m.SerializeToString() for m in fx.realistic_mix(300, seed=8)]
    assert first == again
    assert first != other


def test_realistic_mix_ids_are_unique_and_match_common() -> None:
    """Every envelope has a unique msg_id, the same as its payload's common.msg_id."""
    mix = fx.realistic_mix(1000, seed=1)
    registry = default_registry()
    assert len({m.msg_id for m in mix}) == 1000
    for envelope in mix:
        event = registry.convert(envelope)
        assert isinstance(event, MessageEvent)
        assert event.msg_id == envelope.msg_id


def test_realistic_mix_is_dominated_by_chat_likes_and_joins() -> None:
    """Chat, likes and joins dominate; gifts, viewer counts and social messages come less often."""
    counts = Counter(m.method for m in fx.realistic_mix(2000, seed=2))
    common = counts["WebcastChatMessage"] + counts["WebcastLikeMessage"] + counts["WebcastMemberMessage"]
    assert common > 0.6 * 2000
    for rarer in ("WebcastGiftMessage", "WebcastRoomUserSeqMessage", "WebcastSocialMessage"):
        assert 0 < counts[rarer] < counts["WebcastChatMessage"]


def test_realistic_mix_gift_streaks_grow_and_each_ends_once() -> None:
    """Type-1 gifts form streaks (same group_id, counts 1, 2, … then repeat_end); every streak ends."""
    registry = default_registry()
    gifts = [e for e in map(registry.convert, fx.realistic_mix(3000, seed=3)) if isinstance(e, Gift)]
    streaks: dict[int, list[Gift]] = {}
    for event in gifts:
        if event.gift_type == 1:
            streaks.setdefault(event.group_id, []).append(event)
        else:
            assert event.is_final
    assert any(len(events) > 2 for events in streaks.values())
    for events in streaks.values():
        *progress, last = events
        assert [e.repeat_count for e in progress] == list(range(1, len(progress) + 1))
        assert not any(e.repeat_end for e in progress)
        assert last.repeat_end
        assert last.repeat_count == len(progress)


def test_realistic_mix_viewers_carry_badges() -> None:
    """Some viewers are moderators, subscribers, top gifters and new gifters."""
    registry = default_registry()
    users = [e.user for e in map(registry.convert, fx.realistic_mix(1000, seed=5)) if hasattr(e, "user")]
    assert any(u.is_moderator for u in users)
    assert any(u.is_subscriber for u in users)
    assert any(u.top_gifter_rank for u in users)
    assert any(u.is_new_gifter for u in users)
    assert any(u.gifter_level for u in users)


def test_realistic_mix_decodes_through_frames() -> None:
    """A mix split into frames decodes to one event per message, in order."""
    mix = fx.realistic_mix(100, seed=6)
    events = [
        event for i in range(0, 100, 20) for event in decode_push_frame(fx.message_frame(mix[i : i + 20]))
    ]
    assert [e.msg_id for e in events if isinstance(e, MessageEvent)] == [m.msg_id for m in mix]


@pytest.mark.parametrize("count", [0, 1, 2])
def test_realistic_mix_of_few_messages(count: int) -> None:
    """Tiny mixes work; a one-message mix holds no half streak it could not end."""
    mix = fx.realistic_mix(count)
    assert len(mix) == count


def test_realistic_mix_refuses_a_negative_count() -> None:
    """A negative count is a ValueError."""
    with pytest.raises(ValueError, match="count"):
        fx.realistic_mix(-1)


def test_builders_accept_a_user_made_elsewhere() -> None:
    """Passing a pb.User puts exactly that user in the message."""
    viewer = fx.user(user_id=5, nickname="Zoë 🦋")
    assert fx.chat(user=viewer).user == viewer
    assert isinstance(viewer, pb.User)
