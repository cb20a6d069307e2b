"""The converters' fast paths give exactly what the plain ones would (issue 8).

* ``events._builder``: the positional constructors the converters use make the same frozen dataclass
  instances as the keyword constructors (class, fields, equality, hash, repr, frozenness, pickling).
* ``convert.UserCache``: a cached user is what :func:`convert_user` gives for that user; a user whose
  fields changed is converted afresh; the cache is bounded and forgets the least recently used.
* Every message of the realistic mix converts to the same event through a default registry (cache
  and builders) as through plain keyword construction of the registry's own output.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st

from webcast_proto import fixtures as fx
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.convert import UserCache, _user_of_wire, convert_user, default_registry
from webcast_proto.events import (
    Badge,
    Chat,
    ChatEmote,
    Emote,
    EmoteImage,
    Event,
    Gift,
    Like,
    Member,
    RoomUser,
    Social,
    SocialKind,
    TopViewer,
    User,
    UserIdentity,
    _builder,
    _Record,
)

USER = User(
    user_id=7, unique_id="mia", nickname="Mia ✨", profile_picture_urls=("a", "b"), badges=(Badge(type="x"),)
)
COMMON: dict[str, Any] = {
    "method": "M",
    "msg_id": 1,
    "room_id": 2,
    "create_time": 3,
    "display_type": "k",
    "label": "p",
    "payload": b"x",
}
SAMPLES: list[_Record] = [
    USER,
    Badge(type="privilege", scene_type=8, privilege_id="p", level=3),
    UserIdentity(is_anchor=True, is_follower_of_anchor=True),
    ChatEmote(emote_id="e", emote_image_url="u", place_in_comment=4),
    EmoteImage(emote_id="e"),
    TopViewer(user=USER, coin_count=9, rank=1),
    Chat(**COMMON, user=USER, comment="hi", emotes=(ChatEmote(emote_id="e"),), content_language="en"),
    Member(**COMMON, user=USER, action=1, member_count=5),
    Gift(**COMMON, user=USER, to_user=USER, gift_id=5655, repeat_count=3, gift_type=1, diamond_count=1),
    RoomUser(**COMMON, viewer_count=10, top_viewers=(TopViewer(user=USER),)),
    Like(**COMMON, user=USER, like_count=4, total_like_count=40),
    Social(**COMMON, user=USER, kind=SocialKind.SHARE, users_joined=2),
    Emote(**COMMON, user=USER, emote_id="e", emotes=(EmoteImage(emote_id="e"),)),
]


def _values(record: _Record) -> list[object]:
    return [getattr(record, f.name) for f in dataclasses.fields(record)]  # type: ignore[arg-type]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_a_built_instance_is_the_same_as_a_constructed_one(sample: _Record) -> None:
    """Same class, fields, equality, hash, repr, to_dict; still frozen; pickles."""
    cls = type(sample)
    built = _builder(cls)(*_values(sample))
    assert type(built) is cls
    assert built == sample
    assert hash(built) == hash(sample)
    assert repr(built) == repr(sample)
    assert built.to_dict() == sample.to_dict()
    assert pickle.loads(pickle.dumps(built)) == sample
    assert dataclasses.replace(built) == sample  # type: ignore[type-var]
    name = dataclasses.fields(sample)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, name, None)


def test_a_builder_wants_every_field() -> None:
    """A field left out (as when a class gains a field) is an error, not a silent default."""
    with pytest.raises(TypeError):
        _builder(UserIdentity)(True, False)


def _mix_users() -> list[pb.User]:
    return [
        pb.WebcastChatMessage.FromString(m.payload).user
        for m in fx.realistic_mix(400)
        if m.method == "WebcastChatMessage"
    ]


def test_the_user_cache_gives_what_convert_user_gives() -> None:
    """Over the mix's viewers (badges, follow states): every answer equals a fresh conversion."""
    cache = UserCache()
    users = _mix_users()
    for user in users + users:
        assert cache(user) == convert_user(user)
    assert 0 < len(cache) <= len({u.SerializeToString() for u in users})


def test_a_user_from_bytes_is_what_convert_user_gives() -> None:
    """The cache's own path (a user's bytes, its badges through the process-wide badge cache) gives
    what convert_user gives for the parsed user, over the mix's viewers, twice (cold, then cached)."""
    for _ in range(2):
        for user in _mix_users():
            assert _user_of_wire(user.SerializeToString()) == convert_user(user)


_BADGES = st.sampled_from(
    [
        fx.moderator_badge(),
        fx.subscriber_badge(),
        fx.new_gifter_badge(),
        fx.top_gifter_badge(1),
        fx.top_gifter_badge(3),
        fx.gifter_level_badge(12),
        fx.gifter_level_badge(30),
        fx.team_member_badge(4),
        fx.text_badge("pm_mt_moderator_im", "Moderator", scene_type=8),
        fx.image_badge("https://example.invalid/sub_x.png", scene_type=10),
        fx.privilege_badge("0", scene_type=8),
        fx.privilege_badge(7, scene_type=10),
        pb.BadgeStruct(scene_type=1),
    ]
)


@given(badges=st.lists(_BADGES, max_size=6))
def test_badges_summed_from_their_pieces_are_what_convert_user_gives(badges: list[pb.BadgeStruct]) -> None:
    """Any order and repetition of badges (first rank and first level of each scene win, flags add
    up): the bytes path and convert_user agree."""
    user = fx.user(user_id=5, badges=badges)
    assert _user_of_wire(user.SerializeToString()) == convert_user(user)


def test_a_corrupt_badge_is_a_decode_error_and_is_not_remembered() -> None:
    """A badge whose bytes do not parse fails the user (the registry makes it a ProtocolWarning)."""
    good = fx.user(user_id=6, badges=[fx.moderator_badge()]).SerializeToString()
    corrupt = good + bytes([0x82, 0x04, 0x01, 0x08])  # field 64 (badge_list): one byte, a cut varint
    pb.UserView.FromString(corrupt)  # the user parses; the badge in it does not
    with pytest.raises(DecodeError):
        pb.User.FromString(corrupt)
    for _ in range(2):
        with pytest.raises(DecodeError):
            _user_of_wire(corrupt)


def test_a_user_whose_fields_changed_is_converted_again() -> None:
    """Same id, another follow status: a new key, so the follow role is the new one."""
    cache = UserCache()
    before = fx.user(user_id=42, follow_status=0)
    after = fx.user(user_id=42, follow_status=2)
    assert cache(before).follow_role == 0
    assert cache(after).follow_role == 2
    assert cache(before).follow_role == 0


def test_the_user_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    cache = UserCache(capacity=2)
    a, b, c = (fx.user(user_id=i) for i in (1, 2, 3))
    first_a = cache(a)
    cache(b)
    assert cache(a) is first_a  # a used again: b is now the oldest
    cache(c)
    assert len(cache) == 2
    assert cache(a) is first_a  # still kept
    assert cache(b) is not None  # converted again (evicted), still right
    assert cache(b).user_id == 2


def test_each_registry_has_its_own_cache() -> None:
    """Two registries share nothing: a user converted by one is converted anew by the other."""
    message = fx.wrap(fx.chat("hi", user=fx.user(user_id=5)))
    one, two = default_registry(), default_registry()
    first, second = one.convert(message), two.convert(message)
    assert isinstance(first, Chat)
    assert isinstance(second, Chat)
    assert first == second
    assert first.user is not second.user
    again = one.convert(message)
    assert isinstance(again, Chat)
    assert again.user is first.user


def test_the_mix_converts_to_events_equal_to_their_keyword_construction() -> None:
    """Every event of the realistic mix (built positionally, users cached) equals the same event
    made by its class's own constructor from its fields."""
    registry = default_registry()
    events: list[Event] = [registry.convert(m) for m in fx.realistic_mix(600, seed=3)]
    assert {type(e) for e in events} >= {Chat, Like, Member, Gift, RoomUser, Social, Emote}
    for event in events:
        fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
        assert type(event)(**fields) == event
