"""The stateless decoders: frames and fetch bodies in, events out (SPEC.md §4, §6, §7, §8).

The round trip builds every message type with the fixtures, carries it through a fetch result and a
``msg`` frame (gzip'd and plain), decodes it and compares the whole event with one written out by hand.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webcast_proto import RemoteProtocolError, codec
from webcast_proto import fixtures as fx
from webcast_proto._decode import decode_fetch_response, decode_push_frame, events_from_fetch_result
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.config import Limits
from webcast_proto.convert import ConverterRegistry, default_registry
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
    MessageEvent,
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
)

ROOM = 7_448_811_992_334_045_998
CREATE_TIME = 1_734_000_123_456
SUB_URL = "https://p16-webcast.tiktokcdn.com/webcast-va/sub_abc.png~tplv-obj.image"
RANK_URL = "https://p16-webcast.tiktokcdn.com/webcast-va/ranklist_top_gifter_2.png~tplv-obj.image"

ALICE_ID = 7_000_000_000_000_000_001
ALICE = fx.user(
    user_id=ALICE_ID,
    nickname="Алиса 🌸",
    unique_id="alice",
    sec_uid="MS4wLjABAAAAalice",
    avatar_urls=("https://a.example/1.webp", "https://a.example/1.jpeg"),
    follow_status=1,
    follower_count=10,
    following_count=20,
    verified=True,
    badges=[
        fx.moderator_badge(),
        fx.image_badge(SUB_URL, scene_type=4, display_type=1),
        fx.image_badge(RANK_URL, scene_type=6, display_type=3),
        fx.text_badge("live_ng_user_badge", "New gifter"),
        fx.privilege_badge(12, scene_type=8, privilege_id="p8"),
        fx.privilege_badge("3", scene_type=10, privilege_id="p10"),
    ],
)
ALICE_EVENT = User(
    user_id=ALICE_ID,
    unique_id="alice",
    nickname="Алиса 🌸",
    sec_uid="MS4wLjABAAAAalice",
    profile_picture_url="https://a.example/1.webp",
    profile_picture_urls=("https://a.example/1.webp", "https://a.example/1.jpeg"),
    verified=True,
    follow_role=FollowRole.FOLLOWER,
    follower_count=10,
    following_count=20,
    badges=(
        Badge(type="pm_mt_moderator_im", name="Moderator", scene_type=1),
        Badge(type="image", scene_type=4, display_type=1, url=SUB_URL),
        Badge(type="image", scene_type=6, display_type=3, url=RANK_URL),
        Badge(type="live_ng_user_badge", name="New gifter"),
        Badge(type="privilege", scene_type=8, privilege_id="p8", level=12),
        Badge(type="privilege", scene_type=10, privilege_id="p10", level=3),
    ),
    is_moderator=True,
    is_new_gifter=True,
    is_subscriber=True,
    top_gifter_rank=2,
    gifter_level=12,
    team_member_level=3,
)

BOB_ID = 9_223_372_036_854_775_807  # the largest int64
BOB = fx.user(
    user_id=BOB_ID,
    nickname="Bob",
    unique_id="bob",
    sec_uid="sec-bob",
    avatar_urls=(),
    follower_count=0,
    following_count=0,
)
BOB_EVENT = User(user_id=BOB_ID, unique_id="bob", nickname="Bob", sec_uid="sec-bob")

IDENTITY = pb.UserIdentity(
    is_gift_giver_of_anchor=True,
    is_subscriber_of_anchor=True,
    is_mutual_following_with_anchor=True,
    is_follower_of_anchor=True,
    is_moderator_of_anchor=True,
    is_anchor=True,
)
IDENTITY_EVENT = UserIdentity(
    is_gift_giver_of_anchor=True,
    is_subscriber_of_anchor=True,
    is_mutual_following_with_anchor=True,
    is_follower_of_anchor=True,
    is_moderator_of_anchor=True,
    is_anchor=True,
)


def _common(msg_id: int) -> dict[str, Any]:
    """The keywords every builder takes for common (and what the event's common fields become)."""
    return {
        "msg_id": msg_id,
        "room_id": ROOM,
        "create_time": CREATE_TIME,
        "display_key": f"key_{msg_id}",
        "display_pattern": f"{{0:user}} pattern {msg_id}",
    }


def _event_common(method: str, msg_id: int, payload: bytes) -> dict[str, Any]:
    return {
        "method": method,
        "msg_id": msg_id,
        "room_id": ROOM,
        "create_time": CREATE_TIME,
        "display_type": f"key_{msg_id}",
        "label": f"{{0:user}} pattern {msg_id}",
        "payload": payload,
    }


# Each case: the message built with fixtures, the event expected for its payload, and the fields
# the converter never fills (left at their default, so the "every field set" check skips them).
Case = tuple[fx.WebcastMessage, Callable[[bytes], MessageEvent], frozenset[str]]


def _cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    cases["chat"] = (
        fx.chat(
            "héllo 👋 world",
            user=ALICE,
            emotes=[fx.chat_emote("e1", index=3, url="https://e.example/1.webp")],
            at_user=BOB,
            content_language="fr",
            user_identity=IDENTITY,
            **_common(1),
        ),
        lambda payload: Chat(
            **_event_common("WebcastChatMessage", 1, payload),
            user=ALICE_EVENT,
            comment="héllo 👋 world",
            emotes=(
                ChatEmote(emote_id="e1", emote_image_url="https://e.example/1.webp", place_in_comment=3),
            ),
            at_user=BOB_EVENT,
            content_language="fr",
            user_identity=IDENTITY_EVENT,
        ),
        frozenset(),
    )
    cases["member"] = (
        fx.member(
            user=ALICE, action=1, member_count=77, enter_type=2, action_description="via share", **_common(2)
        ),
        lambda payload: Member(
            **_event_common("WebcastMemberMessage", 2, payload),
            user=ALICE_EVENT,
            action=MemberAction.JOINED,
            action_description="via share",
            member_count=77,
            enter_type=2,
        ),
        frozenset(),
    )
    cases["gift"] = (
        fx.gift(
            5655,
            repeat_count=7,
            repeat_end=True,
            gift_type=1,
            gift_name="Rose",
            diamond_count=1,
            describe="sent Rose",
            picture_url="https://g.example/rose.png",
            user=ALICE,
            to_user=BOB,
            group_id=1_734_000_000_042,
            combo_count=6,
            group_count=2,
            timestamp=1_734_000_123_000,
            receiver_user_id=BOB_ID,
            monitor_extra='{"seq": 1}',
            user_identity=IDENTITY,
            **_common(3),
        ),
        lambda payload: Gift(
            **_event_common("WebcastGiftMessage", 3, payload),
            user=ALICE_EVENT,
            to_user=BOB_EVENT,
            gift_id=5655,
            repeat_count=7,
            repeat_end=True,
            group_id=1_734_000_000_042,
            combo_count=6,
            group_count=2,
            gift_name="Rose",
            gift_type=1,
            diamond_count=1,
            describe="sent Rose",
            gift_picture_url="https://g.example/rose.png",
            timestamp=1_734_000_123_000,
            receiver_user_id=BOB_ID,
            monitor_extra='{"seq": 1}',
            user_identity=IDENTITY_EVENT,
        ),
        frozenset({"extended_gift_info"}),  # attached by the client from the gift list (SPEC.md §2.3)
    )
    cases["room_user_seq"] = (
        fx.room_user_seq(
            1523, top_viewers=[(ALICE, 500), (BOB, 300)], total_user=18_342, popularity=9_800, **_common(4)
        ),
        lambda payload: RoomUser(
            **_event_common("WebcastRoomUserSeqMessage", 4, payload),
            viewer_count=1523,
            top_viewers=(
                TopViewer(user=ALICE_EVENT, coin_count=500, rank=1),
                TopViewer(user=BOB_EVENT, coin_count=300, rank=2),
            ),
            total_user=18_342,
            popularity=9_800,
        ),
        frozenset(),
    )
    cases["like"] = (
        fx.like(15, total=48_213, user=ALICE, **_common(5)),
        lambda payload: Like(
            **_event_common("WebcastLikeMessage", 5, payload),
            user=ALICE_EVENT,
            like_count=15,
            total_like_count=48_213,
        ),
        frozenset(),
    )
    social_common = _common(6) | {"display_key": "pm_mt_guidance_viewer_5_share"}
    cases["social"] = (
        fx.social(
            user=ALICE,
            action=3,
            follow_count=3_208,
            share_count=2,
            share_type=1,
            share_target="whatsapp",
            **social_common,
        ),
        lambda payload: Social(
            **_event_common("WebcastSocialMessage", 6, payload)
            | {"display_type": "pm_mt_guidance_viewer_5_share"},
            user=ALICE_EVENT,
            kind=SocialKind.SHARE,
            action=3,
            follow_count=3_208,
            share_count=2,
            share_type=1,
            share_target="whatsapp",
            users_joined=5,
        ),
        frozenset(),
    )
    cases["emote_chat"] = (
        fx.emote_chat(
            user=ALICE,
            emotes=[
                fx.emote("em1", url="https://e.example/1.webp"),
                fx.emote("em2", url="https://e.example/2.webp"),
            ],
            user_identity=IDENTITY,
            **_common(7),
        ),
        lambda payload: Emote(
            **_event_common("WebcastEmoteChatMessage", 7, payload),
            user=ALICE_EVENT,
            emote_id="em1",
            emote_image_url="https://e.example/1.webp",
            emotes=(
                EmoteImage(emote_id="em1", emote_image_url="https://e.example/1.webp"),
                EmoteImage(emote_id="em2", emote_image_url="https://e.example/2.webp"),
            ),
            user_identity=IDENTITY_EVENT,
        ),
        frozenset(),
    )
    cases["envelope"] = (
        fx.envelope(
            envelope_id="7448912345678901234",
            business_type=19,
            diamond_count=1_000,
            people_count=20,
            unpack_at=1_734_000_060,
            sender=ALICE,
            send_user_name="Alice",
            send_user_id=str(ALICE_ID),
            display=1,
            **_common(8),
        ),
        lambda payload: Envelope(
            **_event_common("WebcastEnvelopeMessage", 8, payload),
            envelope_id="7448912345678901234",
            business_type=19,
            coins=1_000,
            can_open=20,
            timestamp=1_734_000_060,
            send_user_name="Alice",
            send_user_id=ALICE_ID,
            display=1,
            sender=ALICE_EVENT,
        ),
        frozenset(),
    )
    cases["question_new"] = (
        fx.question_new(
            "What game is this? 🎮", question_id=7_400_000_000_000_000_009, user=BOB, **_common(9)
        ),
        lambda payload: QuestionNew(
            **_event_common("WebcastQuestionNewMessage", 9, payload),
            question_id=7_400_000_000_000_000_009,
            question_text="What game is this? 🎮",
            user=BOB_EVENT,
        ),
        frozenset(),
    )
    cases["link_mic_battle"] = (
        fx.link_mic_battle(
            battle_id=7_400_000_000_000_000_010,
            action=5,
            anchors=[
                fx.battle_anchor(
                    ALICE_ID,
                    nickname="Alice",
                    unique_id="alice",
                    avatar_url="https://a.example/h.webp",
                    room_id=ROOM,
                ),
                fx.battle_anchor(
                    BOB_ID, nickname="Bob", unique_id="bob", avatar_url="https://b.example/h.webp", room_id=1
                ),
            ],
            results=[
                fx.battle_result(ALICE_ID, result=0, score=120, diamond_score=100),
                fx.battle_result(BOB_ID, result=1, score=45, diamond_score=40),
            ],
            **_common(10),
        ),
        lambda payload: LinkMicBattle(
            **_event_common("WebcastLinkMicBattle", 10, payload),
            battle_id=7_400_000_000_000_000_010,
            action=BattleAction.FINISH,
            battle_users=(
                BattleUser(
                    user_id=ALICE_ID,
                    nickname="Alice",
                    profile_picture_url="https://a.example/h.webp",
                    unique_id="alice",
                    room_id=ROOM,
                ),
                BattleUser(
                    user_id=BOB_ID,
                    nickname="Bob",
                    profile_picture_url="https://b.example/h.webp",
                    unique_id="bob",
                    room_id=1,
                ),
            ),
            battle_results=(
                BattleResult(user_id=ALICE_ID, result=0, score=120, diamond_score=100),
                BattleResult(user_id=BOB_ID, result=1, score=45, diamond_score=40),
            ),
        ),
        frozenset(),
    )
    cases["link_mic_armies"] = (
        fx.link_mic_armies(
            battle_id=7_400_000_000_000_000_011,
            armies={
                ALICE_ID: fx.army(120, [fx.army_participant(1, nickname="Zoë 🦋", score=100)]),
                BOB_ID: fx.army(45, [fx.army_participant(2, nickname="Łukasz", score=45)]),
            },
            trigger_reason=2,
            from_user_id=1,
            gift_id=5655,
            gift_count=3,
            total_diamond_count=3,
            repeat_count=3,
            **_common(11),
        ),
        lambda payload: LinkMicArmies(
            **_event_common("WebcastLinkMicArmies", 11, payload),
            battle_id=7_400_000_000_000_000_011,
            battle_status=ArmiesTriggerReason.BATTLE_END,
            battle_armies=(
                BattleArmy(
                    host_user_id=ALICE_ID,
                    points=120,
                    participants=(ArmyParticipant(user_id=1, nickname="Zoë 🦋", score=100),),
                ),
                BattleArmy(
                    host_user_id=BOB_ID,
                    points=45,
                    participants=(ArmyParticipant(user_id=2, nickname="Łukasz", score=45),),
                ),
            ),
            from_user_id=1,
            gift_id=5655,
            gift_count=3,
            total_diamond_count=3,
            repeat_count=3,
        ),
        frozenset(),
    )
    cases["live_intro"] = (
        fx.live_intro(
            "Welcome! 🎉",
            intro_id=7_400_000_000_000_000_012,
            user=BOB,
            audit_status=2,
            intro_mode=1,
            content_language="de",
            badges=[fx.moderator_badge()],
            **_common(12),
        ),
        lambda payload: LiveIntro(
            **_event_common("WebcastLiveIntroMessage", 12, payload),
            id=7_400_000_000_000_000_012,
            description="Welcome! 🎉",
            user=BOB_EVENT,
            audit_status=2,
            intro_mode=1,
            content_language="de",
            badges=(Badge(type="pm_mt_moderator_im", name="Moderator", scene_type=1),),
        ),
        frozenset(),
    )
    cases["sub_notify"] = (
        fx.sub_notify(
            user=ALICE,
            sub_month=3,
            exhibition_type=2,
            subscribe_type=1,
            old_subscribe_status=1,
            subscribing_status=2,
            **_common(13),
        ),
        lambda payload: Subscribe(
            **_event_common("WebcastSubNotifyMessage", 13, payload),
            user=ALICE_EVENT,
            sub_month=3,
            exhibition_type=2,
            subscribe_type=1,
            old_subscribe_status=1,
            subscribing_status=2,
        ),
        frozenset(),
    )
    cases["control_unpaused"] = (
        fx.control(2, tips="back soon", **_common(14)),
        lambda payload: Control(
            **_event_common("WebcastControlMessage", 14, payload),
            action=ControlAction.STREAM_UNPAUSED,
            tips="back soon",
        ),
        frozenset(),
    )
    cases["control_suspended"] = (
        fx.control(4, tips="violation", **_common(15)),
        lambda payload: StreamEnd(
            **_event_common("WebcastControlMessage", 15, payload),
            action=ControlAction.STREAM_SUSPENDED,
            tips="violation",
        ),
        frozenset(),
    )
    return cases


CASES = _cases()


def test_round_trip_covers_every_builtin_method() -> None:
    """The round-trip cases exercise every method the default registry converts."""
    assert {type(message).DESCRIPTOR.name for message, _, _ in CASES.values()} == default_registry().methods


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_cases_set_every_field(name: str) -> None:
    """Each expected event sets every field away from its default, so comparing it checks them all."""
    message, expected, unset = CASES[name]
    event = expected(fx.wrap(message).payload)
    defaults = [
        f.name
        for f in dataclasses.fields(event)
        if f.name not in unset
        and f.default is not dataclasses.MISSING
        and getattr(event, f.name) == f.default
    ]
    assert defaults == []


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_through_a_push_frame(name: str, compress: bool) -> None:
    """fixture → wrap → fetch result → msg frame (gzip or plain) → decode_push_frame gives the event."""
    message, expected, _ = CASES[name]
    envelope = fx.wrap(message)
    frame = fx.message_frame(fx.fetch_result([envelope]), compress=compress)

    events = decode_push_frame(frame)

    assert events == [expected(envelope.payload)]


def test_round_trip_of_all_types_in_one_frame_keeps_order() -> None:
    """A frame of many messages yields their events in wire order."""
    envelopes = [fx.wrap(message) for message, _, _ in CASES.values()]
    expected = [
        make(envelope.payload) for (_, make, _), envelope in zip(CASES.values(), envelopes, strict=True)
    ]

    assert decode_push_frame(fx.message_frame(envelopes)) == expected


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_decode_fetch_response_reads_raw_and_gzip_bodies(compress: bool) -> None:
    """An im/fetch body is a fetch result, raw or gzip'd; each message becomes its event."""
    message, expected, _ = CASES["chat"]
    envelope = fx.wrap(message)
    body = codec.encode_fetch_result(fx.fetch_result([envelope]))
    if compress:
        body = codec.gzip_compress(body)

    assert decode_fetch_response(body) == [expected(envelope.payload)]


@pytest.mark.parametrize("payload_type", ["hb", "ack", "im_enter_room", "im_enter_room_resp", "close", ""])
def test_frames_other_than_msg_carry_no_events(payload_type: str) -> None:
    """Only ``msg`` frames carry events (SPEC.md §4.1); every other payload type gives []."""
    payload = codec.encode_fetch_result(fx.fetch_result([fx.chat()]))
    assert decode_push_frame(fx.push_frame(payload_type, payload, log_id=7)) == []


def test_a_garbage_payload_becomes_a_warning_and_the_rest_of_the_frame_is_delivered() -> None:
    """One undecodable message yields a ProtocolWarning in its place; its neighbours still arrive."""
    chat = fx.wrap(fx.chat("before", msg_id=1))
    bad = pb.BaseProtoMessage(method="WebcastGiftMessage", payload=b"\xff\xff\xff\xff", msg_id=42)
    like = fx.wrap(fx.like(3, msg_id=2))

    events = decode_push_frame(fx.message_frame([chat, bad, like]))

    assert [type(e) for e in events] == [Chat, ProtocolWarning, Like]
    warning = events[1]
    assert isinstance(warning, ProtocolWarning)
    assert warning.method == "WebcastGiftMessage"
    assert warning.msg_id == 42
    assert "WebcastGiftMessage" in warning.message
    assert isinstance(events[0], Chat)
    assert events[0].comment == "before"
    assert isinstance(events[2], Like)
    assert events[2].like_count == 3


def test_unknown_methods_arrive_as_unknown_messages() -> None:
    """A method without converter comes out as UnknownMessage with its payload, not as an error."""
    payload = fx.chat(msg_id=5, create_time=CREATE_TIME).SerializeToString()
    unknown = pb.BaseProtoMessage(method="WebcastRankUpdateMessage", payload=payload, msg_id=5)

    assert decode_push_frame(fx.message_frame([unknown])) == [
        UnknownMessage(
            method="WebcastRankUpdateMessage",
            msg_id=5,
            room_id=fx.DEFAULT_ROOM_ID,
            create_time=CREATE_TIME,
            payload=payload,
        )
    ]


def test_decoders_use_the_registry_given() -> None:
    """A caller's registry decides the conversion: here an empty one makes everything unknown."""
    frame = fx.message_frame([fx.chat(), fx.like()])
    body = codec.encode_fetch_result(fx.fetch_result([fx.chat()]))
    empty = ConverterRegistry()

    assert all(type(e) is UnknownMessage for e in decode_push_frame(frame, registry=empty))
    assert all(type(e) is UnknownMessage for e in decode_fetch_response(body, registry=empty))


def test_events_from_fetch_result_converts_each_message_in_order() -> None:
    """events_from_fetch_result is the conversion step alone, for callers that parsed the result."""
    result = fx.fetch_result([fx.chat(msg_id=1), fx.like(msg_id=2), fx.member(msg_id=3)])

    events = events_from_fetch_result(result, registry=default_registry())

    assert [(type(e), getattr(e, "msg_id", None)) for e in events] == [(Chat, 1), (Like, 2), (Member, 3)]


def test_an_empty_fetch_result_has_no_events() -> None:
    """A frame whose result has no messages (a keep-alive) gives []."""
    assert decode_push_frame(fx.message_frame([])) == []


def test_decode_push_frame_enforces_the_frame_limit() -> None:
    """A frame longer than max_frame_size is refused before parsing."""
    frame = fx.message_frame([fx.chat()], compress=False)
    with pytest.raises(RemoteProtocolError, match="max_frame_size"):
        decode_push_frame(frame, limits=Limits(max_frame_size=len(frame) - 1))


def test_decode_fetch_response_enforces_the_body_limit() -> None:
    """An im/fetch body longer than max_http_body_size is refused, naming the limit."""
    body = codec.encode_fetch_result(fx.fetch_result([fx.chat()]))
    assert decode_fetch_response(body, limits=Limits(max_http_body_size=len(body)))
    with pytest.raises(RemoteProtocolError, match="max_http_body_size"):
        decode_fetch_response(body, limits=Limits(max_http_body_size=len(body) - 1))


def test_decode_fetch_response_enforces_the_message_count_limit() -> None:
    """More messages than max_messages_per_frame is refused, not converted."""
    body = codec.encode_fetch_result(fx.fetch_result([fx.like() for _ in range(5)]))
    with pytest.raises(RemoteProtocolError, match="max_messages_per_frame"):
        decode_fetch_response(body, limits=Limits(max_messages_per_frame=4))


def test_a_corrupt_frame_raises_remote_protocol_error() -> None:
    """Bytes that are no push frame raise RemoteProtocolError, the peer's fault."""
    with pytest.raises(RemoteProtocolError):
        decode_push_frame(b"\xff\xff\xff\xff")


def _events_are_events(events: list[Event]) -> None:
    assert all(isinstance(event, Event) for event in events)


@given(st.binary(max_size=512))
def test_any_bytes_into_decode_push_frame_give_events_or_remote_protocol_error(data: bytes) -> None:
    """Fuzz contract (STYLE.md §11): any input decodes or raises RemoteProtocolError, nothing else."""
    try:
        events = decode_push_frame(data)
    except RemoteProtocolError:
        return
    _events_are_events(events)


@given(st.binary(max_size=512))
def test_any_bytes_into_decode_fetch_response_give_events_or_remote_protocol_error(data: bytes) -> None:
    """Fuzz contract (STYLE.md §11) for im/fetch bodies."""
    try:
        events = decode_fetch_response(data)
    except RemoteProtocolError:
        return
    _events_are_events(events)


@given(st.sampled_from(sorted(CASES)), st.binary(max_size=256))
def test_any_payload_under_a_known_method_gives_an_event_never_an_exception(
    name: str, payload: bytes
) -> None:
    """A frame that parses never raises for its messages' payloads: each gives an event or a warning."""
    method = type(CASES[name][0]).DESCRIPTOR.name
    frame = fx.message_frame([pb.BaseProtoMessage(method=method, payload=payload, msg_id=1)])

    [event] = decode_push_frame(frame)

    assert isinstance(event, (MessageEvent, ProtocolWarning))
