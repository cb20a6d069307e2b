"""Properties of the core over generated inputs (issue 7, item 1), filling what the example-based tests
and the other property tests leave open.

Already covered elsewhere, so not repeated here: the codec's round trips and its decoders on any bytes
(``test_codec.py``), one hand-written round trip per message type and any bytes into
``decode_push_frame`` / ``decode_fetch_response`` / each known converter (``test_decode.py``), the
wire-level limits (``test_limits.py``), and the ``ClientConnection`` state machine
(``test_connection.py``).

Here:

* **round trip on generated fields**: every message type, built by the fixture builders from values
  hypothesis draws (ids across the int64 range, any unicode, empty and repeated lists), carried by a
  ``msg`` frame (gzip'd or plain) or an im/fetch body, decodes to exactly the event those values
  describe;
* **every other decoder entry point on arbitrary input raises only its documented families**: the
  HTTP parsers of ``webcast_proto.http`` and the sign-server parsers of ``webcast_proto.signing`` fed
  :class:`Response` objects with arbitrary status, headers and body; the ack payload, the server's
  client-frame decoder, the client connection's fetch body and socket message, unknown methods'
  payloads, and the small text parsers (handshake options, cookie pairs, ``Retry-After``).

Each entry point's families are the exact classes its docstring lists (``ENTRY_FAMILIES`` and the
``_PARSERS`` table); a ``RemoteProtocolError`` from an HTTP parser must name the limit it enforces.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webcast_proto import (
    AgeRestricted,
    APIError,
    CaptchaRequired,
    ClientConnection,
    HTTPStatusError,
    InvalidSession,
    Limits,
    RateLimited,
    RemoteProtocolError,
    Request,
    Response,
    ServerConnection,
    SignatureRequired,
    SignerError,
    State,
    UnexpectedHTML,
    UnexpectedResponse,
    UserNotFound,
    UserOffline,
    WebcastBlocked,
    WebcastError,
    codec,
    decode_fetch_response,
    decode_push_frame,
    default_registry,
    http,
)
from webcast_proto import fixtures as fx
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.events import (
    ArmyParticipant,
    Badge,
    BattleArmy,
    BattleResult,
    BattleUser,
    Chat,
    ChatEmote,
    Control,
    Emote,
    EmoteImage,
    Envelope,
    Event,
    Gift,
    Like,
    LinkMicArmies,
    LinkMicBattle,
    LiveIntro,
    Member,
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
from webcast_proto.signing import EulerSigner, LegacySigner, apply_signature, parse_cookie_pairs

# --------------------------------------------------------------------------------------------
# Value strategies
# --------------------------------------------------------------------------------------------

int64s = st.integers(-(2**63), 2**63 - 1)
uint63s = st.integers(0, 2**63 - 1)
int32s = st.integers(-(2**31), 2**31 - 1)
texts = st.text(max_size=16)
# Decimal-looking and odd strings for the fields the converters read numbers out of.
urls = st.one_of(texts, st.sampled_from(["https://cdn.example/a.webp", "", "https://x/y.png~tplv"]))

# Badges whose kind is plain data: the flags derived from badge keys, scene types and image URLs
# (moderator, subscriber, top gifter, levels) are test_convert.py's; here they stay at their defaults.
_FLAG_WORDS: Final = ("moderator", "live_ng_", "/sub_", "/ranklist_top_gifter_")
_FLAG_SCENES: Final = frozenset({1, 4, 7, 8, 10})
plain_texts = texts.filter(lambda s: not any(word in s.lower() for word in _FLAG_WORDS))
plain_scenes = int32s.filter(lambda n: n not in _FLAG_SCENES)


@dataclass(frozen=True)
class Built:
    """A message as built, and the event its payload must decode to."""

    message: fx.WebcastMessage
    expected: Callable[[bytes], Event]


@st.composite
def badges(draw: st.DrawFn) -> tuple[pb.BadgeStruct, Badge]:
    scene = draw(plain_scenes)
    if draw(st.booleans()):
        key, name = draw(plain_texts), draw(texts)
        return fx.text_badge(key, name, scene_type=scene), Badge(type=key, name=name, scene_type=scene)
    url, display = draw(plain_texts), draw(int32s)
    return (
        fx.image_badge(url, scene_type=scene, display_type=display),
        Badge(type="image", scene_type=scene, display_type=display, url=url),
    )


@st.composite
def users(draw: st.DrawFn) -> tuple[pb.User, User]:
    user_id = draw(int64s)
    nickname, unique_id, sec_uid = draw(texts), draw(texts), draw(texts)
    avatars = tuple(draw(st.lists(urls, max_size=3)))
    follow_status, followers, following = draw(int64s), draw(int64s), draw(int64s)
    verified = draw(st.booleans())
    pairs = draw(st.lists(badges(), max_size=3))
    built = fx.user(
        user_id=user_id,
        nickname=nickname,
        unique_id=unique_id,
        sec_uid=sec_uid,
        avatar_urls=avatars,
        follow_status=follow_status,
        follower_count=followers,
        following_count=following,
        verified=verified,
        badges=[b for b, _ in pairs],
    )
    event = User(
        user_id=user_id,
        unique_id=unique_id,
        nickname=nickname,
        sec_uid=sec_uid,
        profile_picture_url=avatars[0] if avatars else None,
        profile_picture_urls=avatars,
        verified=verified,
        follow_role=follow_status,
        follower_count=followers,
        following_count=following,
        badges=tuple(e for _, e in pairs),
    )
    return built, event


@st.composite
def identities(draw: st.DrawFn) -> tuple[pb.UserIdentity | None, UserIdentity | None]:
    if not draw(st.booleans()):
        return None, None
    flags = draw(st.lists(st.booleans(), min_size=6, max_size=6))
    names = (
        "is_gift_giver_of_anchor",
        "is_subscriber_of_anchor",
        "is_mutual_following_with_anchor",
        "is_follower_of_anchor",
        "is_moderator_of_anchor",
        "is_anchor",
    )
    values = dict(zip(names, flags, strict=True))
    return pb.UserIdentity(**values), UserIdentity(**values)


@st.composite
def commons(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "msg_id": draw(int64s),
        "room_id": draw(int64s),
        "create_time": draw(int64s),
        "display_key": draw(texts),
        "display_pattern": draw(texts),
    }


def _event_common(method: str, common: dict[str, Any], payload: bytes) -> dict[str, Any]:
    return {
        "method": method,
        "msg_id": common["msg_id"],
        "room_id": common["room_id"],
        "create_time": common["create_time"],
        "display_type": common["display_key"],
        "label": common["display_pattern"],
        "payload": payload,
    }


# --------------------------------------------------------------------------------------------
# One strategy per message type: the message built from drawn values, and its expected event
# --------------------------------------------------------------------------------------------


@st.composite
def chats(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    comment, language = draw(texts), draw(texts)
    emotes = draw(st.lists(st.tuples(texts, int32s, urls), max_size=3))
    at = draw(st.none() | users())
    identity, identity_event = draw(identities())
    message = fx.chat(
        comment,
        user=user,
        emotes=[fx.chat_emote(e, index=i, url=u) for e, i, u in emotes],
        at_user=None if at is None else at[0],
        content_language=language,
        user_identity=identity,
        **common,
    )
    return Built(
        message,
        lambda payload: Chat(
            **_event_common("WebcastChatMessage", common, payload),
            user=user_event,
            comment=comment,
            emotes=tuple(ChatEmote(emote_id=e, emote_image_url=u, place_in_comment=i) for e, i, u in emotes),
            at_user=None if at is None else at[1],
            content_language=language,
            user_identity=identity_event,
        ),
    )


@st.composite
def members(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    action, count, enter_type, description = draw(int32s), draw(int32s), draw(int32s), draw(texts)
    message = fx.member(
        user=user,
        action=action,
        member_count=count,
        enter_type=enter_type,
        action_description=description,
        **common,
    )
    return Built(
        message,
        lambda payload: Member(
            **_event_common("WebcastMemberMessage", common, payload),
            user=user_event,
            action=action,
            action_description=description,
            member_count=count,
            enter_type=enter_type,
        ),
    )


@st.composite
def gifts(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    to = draw(st.none() | users())
    identity, identity_event = draw(identities())
    values: dict[str, Any] = {
        "gift_id": draw(int64s),
        "repeat_count": draw(int32s),
        "repeat_end": draw(st.booleans()),
        "gift_type": draw(int32s),
        "gift_name": draw(texts),
        "diamond_count": draw(int32s),
        "describe": draw(texts),
        "group_id": draw(int64s),
        "combo_count": draw(int32s),
        "group_count": draw(int32s),
        "timestamp": draw(int64s),
        "receiver_user_id": draw(int64s),
        "monitor_extra": draw(texts),
    }
    picture = draw(urls)
    message = fx.gift(
        **values,
        picture_url=picture,
        user=user,
        to_user=None if to is None else to[0],
        user_identity=identity,
        **common,
    )
    return Built(
        message,
        lambda payload: Gift(
            **_event_common("WebcastGiftMessage", common, payload),
            **values,
            user=user_event,
            to_user=None if to is None else to[1],
            gift_picture_url=picture,
            user_identity=identity_event,
        ),
    )


@st.composite
def room_user_seqs(draw: st.DrawFn) -> Built:
    common = draw(commons())
    total, total_user, popularity = draw(int64s), draw(int64s), draw(int64s)
    viewers = draw(st.lists(st.tuples(users(), int64s), max_size=3))
    message = fx.room_user_seq(
        total,
        top_viewers=[(u[0], score) for u, score in viewers],
        total_user=total_user,
        popularity=popularity,
        **common,
    )
    return Built(
        message,
        lambda payload: RoomUser(
            **_event_common("WebcastRoomUserSeqMessage", common, payload),
            viewer_count=total,
            top_viewers=tuple(
                TopViewer(user=u[1], coin_count=score, rank=rank)
                for rank, (u, score) in enumerate(viewers, start=1)
            ),
            total_user=total_user,
            popularity=popularity,
        ),
    )


@st.composite
def likes(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    count, total = draw(int32s), draw(int64s)
    message = fx.like(count, total=total, user=user, **common)
    return Built(
        message,
        lambda payload: Like(
            **_event_common("WebcastLikeMessage", common, payload),
            user=user_event,
            like_count=count,
            total_like_count=total,
        ),
    )


# The display key decides follow vs share (SPEC.md §8); other keys are OTHER.
_social_keys = st.one_of(
    texts.filter(lambda k: "follow" not in k and "share" not in k).map(lambda k: (k, SocialKind.OTHER, None)),
    st.just(("pm_main_follow_message_viewer_2", SocialKind.FOLLOW, None)),
    st.just(("pm_mt_guidance_share", SocialKind.SHARE, None)),
    st.integers(1, 10**6).map(lambda n: (f"pm_mt_guidance_viewer_{n}_share", SocialKind.SHARE, n)),
)


@st.composite
def socials(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    key, kind, joined = draw(_social_keys)
    common["display_key"] = key
    values: dict[str, Any] = {
        "action": draw(int64s),
        "follow_count": draw(int64s),
        "share_count": draw(int32s),
        "share_type": draw(int64s),
        "share_target": draw(texts),
    }
    message = fx.social(user=user, **values, **common)
    return Built(
        message,
        lambda payload: Social(
            **_event_common("WebcastSocialMessage", common, payload),
            user=user_event,
            kind=kind,
            users_joined=joined,
            **values,
        ),
    )


@st.composite
def emote_chats(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    emotes = draw(st.lists(st.tuples(texts, urls), max_size=3))
    identity, identity_event = draw(identities())
    message = fx.emote_chat(
        user=user, emotes=[fx.emote(e, url=u) for e, u in emotes], user_identity=identity, **common
    )
    images = tuple(EmoteImage(emote_id=e, emote_image_url=u) for e, u in emotes)
    return Built(
        message,
        lambda payload: Emote(
            **_event_common("WebcastEmoteChatMessage", common, payload),
            user=user_event,
            emote_id=images[0].emote_id if images else "",
            emote_image_url=images[0].emote_image_url if images else None,
            emotes=images,
            user_identity=identity_event,
        ),
    )


@st.composite
def envelopes(draw: st.DrawFn) -> Built:
    common, (sender, sender_event) = draw(commons()), draw(users())
    envelope_id, name = draw(texts), draw(texts)
    business_type, coins, people, unpack_at, display = (draw(int32s) for _ in range(5))
    send_user_id = draw(uint63s)
    message = fx.envelope(
        envelope_id=envelope_id,
        business_type=business_type,
        diamond_count=coins,
        people_count=people,
        unpack_at=unpack_at,
        sender=sender,
        send_user_name=name,
        send_user_id=str(send_user_id),
        display=display,
        **common,
    )
    return Built(
        message,
        lambda payload: Envelope(
            **_event_common("WebcastEnvelopeMessage", common, payload),
            envelope_id=envelope_id,
            business_type=business_type,
            coins=coins,
            can_open=people,
            timestamp=unpack_at,
            send_user_name=name,
            send_user_id=send_user_id,
            display=display,
            sender=sender_event,
        ),
    )


@st.composite
def questions(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    content, question_id = draw(texts), draw(int64s)
    message = fx.question_new(content, question_id=question_id, user=user, **common)
    return Built(
        message,
        lambda payload: QuestionNew(
            **_event_common("WebcastQuestionNewMessage", common, payload),
            question_id=question_id,
            question_text=content,
            user=user_event,
        ),
    )


@st.composite
def battles(draw: st.DrawFn) -> Built:
    common = draw(commons())
    battle_id, action = draw(int64s), draw(int32s)
    anchors = draw(st.lists(st.tuples(int64s, texts, texts, urls, int64s), max_size=3))
    # The results are a map keyed by user id on the wire: one entry per id.
    results = draw(st.lists(st.tuples(int64s, int32s, int64s, int64s), max_size=3, unique_by=lambda r: r[0]))
    message = fx.link_mic_battle(
        battle_id=battle_id,
        action=action,
        anchors=[
            fx.battle_anchor(uid, nickname=nick, unique_id=handle, avatar_url=url, room_id=room)
            for uid, nick, handle, url, room in anchors
        ],
        results=[fx.battle_result(uid, result=r, score=s, diamond_score=d) for uid, r, s, d in results],
        **common,
    )
    return Built(
        message,
        lambda payload: LinkMicBattle(
            **_event_common("WebcastLinkMicBattle", common, payload),
            battle_id=battle_id,
            action=action,
            battle_users=tuple(
                BattleUser(
                    user_id=uid, nickname=nick, profile_picture_url=url, unique_id=handle, room_id=room
                )
                for uid, nick, handle, url, room in anchors
            ),
            battle_results=tuple(
                BattleResult(user_id=uid, result=r, score=s, diamond_score=d) for uid, r, s, d in results
            ),
        ),
    )


@st.composite
def armies(draw: st.DrawFn) -> Built:
    common = draw(commons())
    sides = draw(
        st.dictionaries(
            int64s, st.tuples(int64s, st.lists(st.tuples(int64s, texts, int64s), max_size=3)), max_size=3
        )
    )
    values: dict[str, Any] = {
        "battle_id": draw(int64s),
        "trigger_reason": draw(int32s),
        "from_user_id": draw(int64s),
        "gift_id": draw(int64s),
        "gift_count": draw(int32s),
        "total_diamond_count": draw(int32s),
        "repeat_count": draw(int32s),
    }
    message = fx.link_mic_armies(
        armies={
            host: fx.army(points, [fx.army_participant(u, nickname=n, score=s) for u, n, s in people])
            for host, (points, people) in sides.items()
        },
        **values,
        **common,
    )
    reason = values.pop("trigger_reason")
    return Built(
        message,
        lambda payload: LinkMicArmies(
            **_event_common("WebcastLinkMicArmies", common, payload),
            battle_status=reason,
            battle_armies=tuple(
                BattleArmy(
                    host_user_id=host,
                    points=points,
                    participants=tuple(ArmyParticipant(user_id=u, nickname=n, score=s) for u, n, s in people),
                )
                for host, (points, people) in sides.items()
            ),
            **values,
        ),
    )


@st.composite
def live_intros(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    content, intro_id, audit, mode, language = (
        draw(texts),
        draw(int64s),
        draw(int32s),
        draw(int32s),
        draw(texts),
    )
    pairs = draw(st.lists(badges(), max_size=3))
    message = fx.live_intro(
        content,
        intro_id=intro_id,
        user=user,
        audit_status=audit,
        intro_mode=mode,
        content_language=language,
        badges=[b for b, _ in pairs],
        **common,
    )
    return Built(
        message,
        lambda payload: LiveIntro(
            **_event_common("WebcastLiveIntroMessage", common, payload),
            id=intro_id,
            description=content,
            user=user_event,
            audit_status=audit,
            intro_mode=mode,
            content_language=language,
            badges=tuple(e for _, e in pairs),
        ),
    )


@st.composite
def sub_notifies(draw: st.DrawFn) -> Built:
    common, (user, user_event) = draw(commons()), draw(users())
    values: dict[str, Any] = {
        "sub_month": draw(int64s),
        "exhibition_type": draw(int32s),
        "subscribe_type": draw(int32s),
        "old_subscribe_status": draw(int32s),
        "subscribing_status": draw(int32s),
    }
    message = fx.sub_notify(user=user, **values, **common)
    return Built(
        message,
        lambda payload: Subscribe(
            **_event_common("WebcastSubNotifyMessage", common, payload), user=user_event, **values
        ),
    )


@st.composite
def controls(draw: st.DrawFn) -> Built:
    common = draw(commons())
    action, tips = draw(st.one_of(st.sampled_from([1, 2, 3, 4]), int32s)), draw(texts)
    kind = StreamEnd if action in (3, 4) else Control  # SPEC.md §8: 3 and 4 end the stream
    message = fx.control(action, tips=tips, **common)
    return Built(
        message,
        lambda payload: kind(
            **_event_common("WebcastControlMessage", common, payload), action=action, tips=tips
        ),
    )


BUILDERS: Final[dict[str, st.SearchStrategy[Built]]] = {
    "WebcastChatMessage": chats(),
    "WebcastMemberMessage": members(),
    "WebcastGiftMessage": gifts(),
    "WebcastRoomUserSeqMessage": room_user_seqs(),
    "WebcastLikeMessage": likes(),
    "WebcastSocialMessage": socials(),
    "WebcastEmoteChatMessage": emote_chats(),
    "WebcastEnvelopeMessage": envelopes(),
    "WebcastQuestionNewMessage": questions(),
    "WebcastLinkMicBattle": battles(),
    "WebcastLinkMicArmies": armies(),
    "WebcastLiveIntroMessage": live_intros(),
    "WebcastSubNotifyMessage": sub_notifies(),
    "WebcastControlMessage": controls(),
}

_ROUTES: Final = ("frame-gzip", "frame-plain", "body-gzip", "body-plain")


def test_every_converted_method_has_a_generator() -> None:
    """The round trip below draws every method the default registry converts."""
    assert set(BUILDERS) == default_registry().methods


@pytest.mark.parametrize("method", sorted(BUILDERS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_build_encode_decode_is_the_identity_on_event_fields(method: str, data: st.DataObject) -> None:
    """A message built from drawn values, carried in a frame (gzip'd or plain) or an im/fetch body
    (gzip'd or raw), decodes to the event whose fields are those values, and nothing else."""
    built = data.draw(BUILDERS[method])
    route = data.draw(st.sampled_from(_ROUTES))
    envelope = fx.wrap(built.message)
    result = fx.fetch_result([envelope])
    if route.startswith("frame"):
        events = decode_push_frame(fx.message_frame(result, compress=route == "frame-gzip"))
    else:
        body = codec.encode_fetch_result(result)
        events = decode_fetch_response(codec.gzip_compress(body) if route == "body-gzip" else body)
    assert events == [built.expected(envelope.payload)]


# --------------------------------------------------------------------------------------------
# Arbitrary bytes and text into the remaining entry points
# --------------------------------------------------------------------------------------------

ENTRY_FAMILIES: Final[dict[str, tuple[type[Exception], ...]]] = {
    "codec.parse_ack": (RemoteProtocolError,),
    "ServerConnection.receive_client_message": (RemoteProtocolError,),
    "ClientConnection.receive_fetch_response": (RemoteProtocolError,),
    "ClientConnection.receive_ws_message": (RemoteProtocolError,),
    "ConverterRegistry.convert (unknown method)": (),
    "http.parse_handshake_options": (),
    "http.parse_retry_after": (),
    "signing.parse_cookie_pairs": (),
}
"""What each bytes- or text-fed entry point may raise; ``()``: it never raises."""

_SMALL: Final = Limits(max_messages_per_frame=4, max_decompressed_size=4096, max_pending_bytes=64 * 1024)


def _outcome(call: Callable[[], object]) -> tuple[object, Exception | None]:
    """What ``call`` returned, or the exception it raised."""
    try:
        return call(), None
    except Exception as exc:
        return None, exc


def _only(entry: str, call: Callable[[], object]) -> tuple[object, Exception | None]:
    """Run ``call``: an exception it raises must be one of ``entry``'s families."""
    value, error = _outcome(call)
    families = ENTRY_FAMILIES[entry]
    assert error is None or (families and isinstance(error, families)), f"{entry} raised {error!r}"
    return value, error


def _streaming(limits: Limits = _SMALL) -> ClientConnection:
    conn = ClientConnection(room_id=fx.DEFAULT_ROOM_ID, limits=limits)
    conn.start()
    conn.receive_fetch_response(codec.encode_fetch_result(fx.fetch_result([])), 0.0)
    conn.websocket_opened(0.0)
    conn.data_to_send()
    return conn


# Bytes that start like the things peers send, then go anywhere.
_PREFIXES: Final = (
    b"",
    codec.GZIP_MAGIC,
    fx.push_frame("msg"),
    fx.push_frame("ack"),
    fx.message_frame([fx.chat(msg_id=1)]),
)
peer_bytes = st.tuples(st.sampled_from(_PREFIXES), st.binary(max_size=256)).map(lambda t: t[0] + t[1])


@given(data=peer_bytes)
def test_an_ack_payload_is_text_or_remote_protocol_error(data: bytes) -> None:
    """parse_ack (server side): any payload is an internal_ext or the peer's error."""
    value, error = _only("codec.parse_ack", lambda: codec.parse_ack(data))
    assert error is not None or isinstance(value, str)


@given(data=peer_bytes)
def test_server_connection_takes_any_client_message(data: bytes) -> None:
    """ServerConnection.receive_client_message (the mock's side of the socket): any bytes are a client
    frame or RemoteProtocolError."""
    server = ServerConnection(room_id=fx.DEFAULT_ROOM_ID, limits=_SMALL)
    server.websocket_opened()
    _only("ServerConnection.receive_client_message", lambda: server.receive_client_message(data))


@given(data=peer_bytes)
def test_client_connection_takes_any_fetch_body(data: bytes) -> None:
    """A first fetch body of any bytes gives events and an instruction, or RemoteProtocolError and the
    state DISCONNECTED, from which start() resumes."""
    conn = ClientConnection(room_id=fx.DEFAULT_ROOM_ID, limits=_SMALL)
    conn.start()
    _, error = _only(
        "ClientConnection.receive_fetch_response", lambda: conn.receive_fetch_response(data, 1.0)
    )
    if error is not None:
        assert conn.state is State.DISCONNECTED
        conn.start()


@given(data=peer_bytes)
def test_client_connection_takes_any_socket_message(data: bytes) -> None:
    """A WebSocket message of any bytes gives events, or RemoteProtocolError and DISCONNECTED."""
    conn = _streaming()
    events, error = _only("ClientConnection.receive_ws_message", lambda: conn.receive_ws_message(data, 1.0))
    if error is not None:
        assert conn.state is State.DISCONNECTED
    else:
        assert isinstance(events, list)
        assert all(isinstance(e, Event) for e in events)


@given(method=texts.filter(lambda m: m not in BUILDERS), payload=peer_bytes, msg_id=int64s)
def test_unknown_methods_never_raise(method: str, payload: bytes, msg_id: int) -> None:
    """A method without converter is an UnknownMessage (its common part read when field 1 parses),
    whatever its payload; test_decode.py covers the known methods."""
    message = pb.BaseProtoMessage(method=method, payload=payload, msg_id=msg_id)
    event, _ = _only(
        "ConverterRegistry.convert (unknown method)", lambda: default_registry().convert(message)
    )
    assert isinstance(event, UnknownMessage)
    assert (event.method, event.payload) == (method, payload)


@given(value=st.text(max_size=64))
def test_small_text_parsers_never_raise(value: str) -> None:
    """Handshake options and cookie pairs are read from any header text; ping_interval always answers a
    usable period; Retry-After is a finite delay or None."""
    options, _ = _only("http.parse_handshake_options", lambda: http.parse_handshake_options(value))
    assert isinstance(options, dict)
    assert 1.0 <= http.ping_interval({"ping-interval": value}) <= 300.0
    pairs, _ = _only("signing.parse_cookie_pairs", lambda: parse_cookie_pairs(value))
    assert isinstance(pairs, tuple)
    for name in ("Retry-After", "X-RateLimit-Reset", "RateLimit-Reset"):
        response = Response(429, ((name, value),))
        delay, _ = _only("http.parse_retry_after", functools.partial(http.parse_retry_after, response))
        assert delay is None or (isinstance(delay, float) and 0 <= delay <= 10**8)


# --------------------------------------------------------------------------------------------
# Every HTTP and sign-server parser, fed arbitrary Response objects
# --------------------------------------------------------------------------------------------

_HTTP_LOOKS: Final = (RateLimited, HTTPStatusError, CaptchaRequired, UnexpectedHTML, UnexpectedResponse)
_SIGN_LOOKS: Final = (RateLimited, SignatureRequired, SignerError)
_TO_SIGN: Final = Request(
    "GET",
    "https://webcast.tiktok.com/webcast/im/fetch/?room_id=1",
    (("User-Agent", "Mozilla/5.0"), ("Cookie", "ttwid=1")),
)

# JSON whose keys are the ones the parsers look for, so generated bodies reach past the envelope.
_JSON_KEYS: Final = (
    *("data", "status_code", "statusCode", "message", "status", "id", "id_str", "owner", "title"),
    *("gifts", "alive", "room_id", "code", "ok", "is_live", "response", "signedUrl", "tokens"),
    *("userAgent", "requestHeaders", "cookies", "msToken", "user", "roomId", "uniqueId", "liveRoom"),
    *("LiveRoom", "liveRoomUserInfo", "prompts", "extra", "now", "stream_url", "error", "limit_label"),
)
# Values the parsers act on: codes with a meaning, ids as ints and strings, URLs and cookie strings.
_MEANINGFUL: Final = (
    *(0, 0, 1, 2, 4, 200, 403, 20003, 19881007, 7448811992334045998, True, False, None),
    *("0", "2", "4", "7448811992334045998", "user_not_found", "", "someone", "Mozilla/5.0"),
    *("https://webcast.tiktok.com/webcast/im/fetch/?room_id=1&msToken=x", "https://elsewhere/x"),
    *("https://webcast.tiktok.com/webcast/im/fetch/?room_id=1", "ws://", "msToken=a; ttwid=b", "<html>"),
)
_scalars = st.one_of(
    st.sampled_from(_MEANINGFUL),
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
_keys = st.sampled_from(_JSON_KEYS)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(_keys | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=20,
)

# The shape each parser reads (SPEC.md §2.2, §2.3, §2.6, §10). Leaves are the values the parsers act
# on (codes with a meaning, ids as ints and strings, URLs, cookie strings); any key may be missing and
# any node now and then any JSON value, so bodies get past the envelope checks and into each parser's
# own reading.
_CODE = st.sampled_from([0, 0, 200, 403, 20003, 19881007, 1, None, "0"])
_ID = st.sampled_from([7448811992334045998, "7448811992334045998", 0, "0", 1, -1, "x"])
_STATUS = st.sampled_from([2, 4, 3, "4", None])
_URL = st.sampled_from(
    [
        "https://webcast.tiktok.com/webcast/im/fetch/?room_id=1&msToken=x",
        "https://webcast.tiktok.com/webcast/im/fetch/?room_id=1",
        "https://elsewhere.example/webcast/im/fetch/?msToken=x",
        "ws://push.example/",
        "",
    ]
)
_TEXT = texts
_BOOL = st.booleans()
_USER: Final = {"roomId": _ID, "uniqueId": _TEXT, "status": _STATUS}
_IMAGE: Final = {"url_list": [_URL]}
_SHAPES: Final[dict[str, object]] = {
    "webcast": {
        "status_code": _CODE,
        "extra": {"now": _ID},
        "data": {
            "status": _STATUS,
            "id": _ID,
            "id_str": _ID,
            "title": _TEXT,
            "prompts": _TEXT,
            "message": _TEXT,
            "owner": {"id_str": _ID, "display_id": _TEXT, "nickname": _TEXT, "avatar_thumb": _IMAGE},
            "stream_url": {"hls_pull_url": _URL},
            "gifts": [{"id": _ID, "name": _TEXT, "diamond_count": _ID, "image": _IMAGE, "type": _ID}],
        },
    },
    "alive": {"status_code": _CODE, "data": [{"alive": _BOOL, "room_id": _ID}]},
    "room_id_api": {
        "statusCode": _CODE,
        "message": st.sampled_from(["", "user_not_found"]) | _TEXT,
        "data": {"user": _USER, "liveRoom": {"status": _STATUS}},
    },
    "sigi_state": {"LiveRoom": {"liveRoomUserInfo": {"user": _USER, "liveRoom": {"status": _STATUS}}}},
    "sign": {
        "code": _CODE,
        "message": _TEXT,
        "response": {
            "signedUrl": _URL,
            "tokens": {"msToken": _TEXT},
            "userAgent": _TEXT,
            "requestHeaders": {"Referer": _TEXT},
            "cookies": [{"name": _TEXT, "value": _TEXT}],
        },
    },
    "sign_room_id": {"code": _CODE, "ok": _BOOL, "room_id": _ID, "is_live": _BOOL, "message": _TEXT},
    "sign_chat": {
        "code": _CODE,
        "data": {"status_code": _CODE, "data": {"message": _TEXT}, "extra": {"now": _ID}},
    },
    "legacy_sign": {"signedUrl": _URL, "User-Agent": _TEXT, "msToken": _TEXT, "code": _CODE},
}


def _shaped(shape: object) -> st.SearchStrategy[object]:
    """Values of ``shape``, each node now and then missing or replaced by any JSON value."""
    node: st.SearchStrategy[object]
    if isinstance(shape, dict):
        parts = {k: _shaped(v) for k, v in shape.items()}
        node = st.fixed_dictionaries(parts) | st.fixed_dictionaries({}, optional=parts)
    elif isinstance(shape, list):
        node = st.lists(_shaped(shape[0]), max_size=3)
    else:
        assert isinstance(shape, st.SearchStrategy)
        node = shape
    return st.one_of(node, node, node, node, node, _scalars | json_values)


def _json_body(value: object) -> bytes:
    return json.dumps(value).encode()


def _live_page(value: object) -> bytes:
    return f'<html><script id="SIGI_STATE" type="application/json">{json.dumps(value)}</script>'.encode()


_ODD_BODIES: Final = (
    *(b"", b"  ", b"<html>captcha</html>", b'{"a":' * 40 + b"1" + b"}" * 40, b"\xef\xbb\xbf{}"),
    *(b'roomId":"123"', b'"og:url" nothing', b"room_id=0 room_id=42", b"\xff\xfe", gzip.compress(b"{}")),
    codec.encode_fetch_result(fx.fetch_result([fx.chat(msg_id=1)])),
)
any_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(_json_body),
    st.dictionaries(_keys, json_values, max_size=6).map(_json_body),
    st.sampled_from(list(_SHAPES.values())).flatmap(_shaped).map(_json_body),
    st.sampled_from(_ODD_BODIES),
)
_HEADER_NAMES: Final = (
    *("Content-Type", "Retry-After", "X-RateLimit-Reset", "RateLimit-Reset", "Handshake-Options"),
    *("Handshake-Msg", "X-Set-TT-Cookie", "X-Room-Id", "X-Request-Id", "Set-Cookie", "content-type"),
)
_HEADER_VALUES: Final = (
    *("application/json", "text/html; charset=utf-8", "application/x-protobuf", "1e400", "nan", "-1"),
    *("3.5", "ping-interval=0.5; a", "ttwid=1; msToken=2", "=;;", "999999999999", "7448811992334045998"),
)
_STATUSES: Final = (101, 200, 204, 301, 400, 401, 402, 403, 404, 429, 500, 503)
statuses = st.one_of(st.just(200), st.just(200), st.sampled_from(_STATUSES), st.integers(0, 999))
headers = st.lists(
    st.tuples(st.sampled_from(_HEADER_NAMES) | st.text(max_size=8), st.sampled_from(_HEADER_VALUES) | texts),
    max_size=5,
).map(tuple)
responses = st.builds(Response, status_code=statuses, headers=headers, body=any_bodies)


def responses_for(shape: str | None) -> st.SearchStrategy[Response]:
    """Responses of any kind, and often ones whose body has the parser's own shape."""
    if shape is None:
        return responses
    own = _shaped(_SHAPES[shape]).map(_live_page if shape == "sigi_state" else _json_body)
    mostly_ok = st.one_of(st.just(200), st.just(200), st.just(200), statuses)
    return st.one_of(responses, st.builds(Response, status_code=mostly_ok, headers=headers, body=own))


# The default limits, and small ones that generated bodies and nesting can cross.
limit_sets = st.sampled_from([Limits(), Limits(), Limits(max_http_body_size=64, max_json_depth=3)])

Parse: TypeAlias = Callable[[Response, Limits], object]
_PARSERS: Final[dict[str, tuple[Parse, str | None, tuple[type[Exception], ...]]]] = {
    "http.parse_room_info_response": (
        lambda r, lim: http.parse_room_info_response(r, limits=lim),
        "webcast",
        (AgeRestricted, UserOffline, APIError, *_HTTP_LOOKS, RemoteProtocolError),
    ),
    "http.parse_room_info_response(require_live=False)": (
        lambda r, lim: http.parse_room_info_response(r, limits=lim, require_live=False),
        "webcast",
        (AgeRestricted, APIError, *_HTTP_LOOKS, RemoteProtocolError),
    ),
    "http.parse_check_alive_response": (
        lambda r, lim: http.parse_check_alive_response(r, limits=lim),
        "alive",
        (APIError, *_HTTP_LOOKS, RemoteProtocolError),
    ),
    "http.parse_gift_list_response": (
        lambda r, lim: http.parse_gift_list_response(r, limits=lim),
        "webcast",
        (APIError, *_HTTP_LOOKS, RemoteProtocolError),
    ),
    "http.parse_fetch_response": (
        lambda r, lim: http.parse_fetch_response(r, limits=lim),
        None,
        (*_HTTP_LOOKS, RemoteProtocolError),
    ),
    "http.parse_send_chat_response": (
        lambda r, lim: http.parse_send_chat_response(r, limits=lim),
        "webcast",
        (InvalidSession, APIError, *_HTTP_LOOKS, RemoteProtocolError),
    ),
    "http.parse_room_id_api_response": (
        lambda r, lim: http.parse_room_id_api_response(r, unique_id="someone", limits=lim),
        "room_id_api",
        (UserNotFound, APIError, *_HTTP_LOOKS, RemoteProtocolError),
    ),
    "http.parse_live_page": (
        lambda r, lim: http.parse_live_page(r, unique_id="someone", limits=lim),
        "sigi_state",
        (
            CaptchaRequired,
            UserNotFound,
            UnexpectedResponse,
            RateLimited,
            HTTPStatusError,
            RemoteProtocolError,
        ),
    ),
    "http.parse_live_page_legacy": (
        lambda r, lim: http.parse_live_page_legacy(r, unique_id="someone", limits=lim),
        "sigi_state",
        (UserOffline, CaptchaRequired, RateLimited, HTTPStatusError, RemoteProtocolError),
    ),
    "http.parse_handshake_response": (
        lambda r, lim: http.parse_handshake_response(r),
        None,
        (RateLimited, WebcastBlocked),
    ),
    "EulerSigner.parse_sign_response + apply_signature": (
        lambda r, lim: apply_signature(_TO_SIGN, EulerSigner(limits=lim).parse_sign_response(r)),
        "sign",
        (*_SIGN_LOOKS, RemoteProtocolError),
    ),
    "EulerSigner.parse_fetch_response": (
        lambda r, lim: EulerSigner(limits=lim).parse_fetch_response(r),
        "sign",
        (*_SIGN_LOOKS, RemoteProtocolError),
    ),
    "EulerSigner.parse_room_id_response": (
        lambda r, lim: EulerSigner(limits=lim).parse_room_id_response(r, unique_id="someone"),
        "sign_room_id",
        (*_SIGN_LOOKS, RemoteProtocolError),
    ),
    "EulerSigner.parse_chat_response": (
        lambda r, lim: EulerSigner(limits=lim).parse_chat_response(r),
        "sign_chat",
        (*_SIGN_LOOKS, InvalidSession, APIError, RemoteProtocolError),
    ),
    "LegacySigner.parse_sign_response + apply_signature": (
        lambda r, lim: apply_signature(_TO_SIGN, LegacySigner(limits=lim).parse_sign_response(r)),
        "legacy_sign",
        (*_SIGN_LOOKS, RemoteProtocolError),
    ),
}
"""Each parser (called on a Response and Limits), the body shape it reads, and the exact families
its docstring lists."""


@pytest.mark.parametrize("parser", sorted(_PARSERS))
@settings(max_examples=100, deadline=None)
@given(data=st.data(), limits=limit_sets)
def test_http_parsers_raise_only_their_families(parser: str, data: st.DataObject, limits: Limits) -> None:
    """Any status, headers and body give a value or one of the errors the parser documents; a
    RemoteProtocolError only for a limit it names; every error has a message and a usable retry hint."""
    parse, shape, families = _PARSERS[parser]
    response = data.draw(responses_for(shape))
    _, error = _outcome(lambda: parse(response, limits))
    if error is None:
        return
    assert isinstance(error, families), f"{parser} raised {error!r}"
    assert isinstance(error, WebcastError)
    assert error.message
    assert error.retry_after is None or error.retry_after >= 0
    if isinstance(error, RemoteProtocolError):
        assert "Limits.max_" in error.message


@given(response=responses)
def test_handshake_answers_are_typed(response: Response) -> None:
    """The upgrade answer: 101 gives a usable ping interval, 429 RateLimited, anything else WebcastBlocked
    quoting at most 200 characters of the server's Handshake-Msg."""
    info, error = _outcome(lambda: http.parse_handshake_response(response))
    if response.status_code == 101:
        assert isinstance(info, http.HandshakeInfo)
        assert 1.0 <= info.ping_interval <= 300.0
    elif response.status_code == 429:
        assert isinstance(error, RateLimited)
    else:
        assert isinstance(error, WebcastBlocked)
        assert error.status_code == response.status_code
        assert len(error.message) < 300


def test_a_sign_server_chat_answer_with_a_malformed_tiktok_part_is_a_signer_error() -> None:
    """Regression (found by the parser property above): a sign server's chat answer whose TikTok part
    has a non-integer ``status_code`` was an UnexpectedResponse, outside parse_chat_response's families;
    it is the sign server's failure, a SignerError."""
    body = _json_body({"code": 200, "data": {"status_code": "oops", "data": {}}})
    with pytest.raises(SignerError, match="no integer status_code"):
        EulerSigner().parse_chat_response(Response(200, (("Content-Type", "application/json"),), body))
