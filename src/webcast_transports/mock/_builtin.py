"""The built-in scenarios: ``lively`` (a busy stream for the demo and the docs), ``flaky`` (the same
with every fault on cue) and ``quiet`` (nothing: tests push messages themselves).

Built from the core's fixture builders only, with fixed ids, so a scenario is the same on every run
and a client's output can be compared with :meth:`Scenario.messages`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from webcast_proto import fixtures
from webcast_transports.mock._scenarios import (
    CloseSocket,
    DropMidFrame,
    EndStream,
    GarbageFrame,
    HttpFault,
    RefuseHandshake,
    Scenario,
    Send,
    Stall,
    Step,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from webcast_proto._pb import webcast_pb2 as pb

__all__ = ["BUILTIN_SCENARIOS", "builtin_scenario", "flaky", "lively", "quiet"]

# Ids of the scripted messages: 19 digits, distinct from the fixtures' counter and realistic_mix.
_SCRIPT_ID_BASE: Final = 7_460_000_000_000_000_000


class _Ids:
    def __init__(self, base: int) -> None:
        self._next = base

    def __call__(self) -> int:
        self._next += 1
        return self._next


def _cast(ids: _Ids) -> dict[str, pb.User]:
    def viewer(n: int, nickname: str, unique_id: str, *badges: pb.BadgeStruct, follow: int = 0) -> pb.User:
        return fixtures.user(
            user_id=7_200_000_000_000_000_000 + n, nickname=nickname, unique_id=unique_id,
            badges=badges, follow_status=follow,
        )  # fmt: skip

    return {
        "mia": viewer(1, "Mia ✨", "mia.sparkles", fixtures.moderator_badge(), follow=2),
        "lukasz": viewer(2, "Łukasz", "lukasz_pl", fixtures.subscriber_badge(), follow=1),
        "taro": viewer(3, "東京タロウ", "tokyo.taro", fixtures.top_gifter_badge(1)),
        "zoe": viewer(4, "Zoë 🦋", "zoe.butterfly", fixtures.new_gifter_badge()),
        "dmitry": viewer(5, "Дмитрий", "dmitry_ru", fixtures.gifter_level_badge(12)),
        "ana": viewer(6, "Ana-María", "ana.maria", follow=1),
        "rival": viewer(7, "Rival 🔥", "rival.host"),
    }


def _script(ids: _Ids) -> list[tuple[float, list[fixtures.WebcastMessage]]]:
    """The scripted moments of ``lively``: (time, messages) at speed 1, 60 s in all."""
    u = _cast(ids)
    battle_id = ids()
    rival_id = u["rival"].id
    host_id = fixtures.HOST_USER_ID

    def streak(user: pb.User, gift_id: int, count: int) -> list[fixtures.WebcastMessage]:
        group = ids()
        gifts = [
            fixtures.gift(gift_id, user=user, repeat_count=n, repeat_end=False, group_id=group, msg_id=ids())
            for n in range(1, count + 1)
        ]
        return [*gifts, fixtures.gift(gift_id, user=user, repeat_count=count, group_id=group, msg_id=ids())]

    def supporter(name: str, score: int) -> pb.BattleUserArmy:
        return fixtures.army_participant(u[name].id, nickname=u[name].nickname, score=score)

    def armies(host_points: int, rival_points: int, reason: int) -> fixtures.WebcastMessage:
        host_side = [supporter("taro", host_points * 2 // 3), supporter("mia", host_points // 3)]
        rival_side = [supporter("dmitry", rival_points)]
        return fixtures.link_mic_armies(
            battle_id=battle_id,
            armies={
                host_id: fixtures.army(host_points, host_side),
                rival_id: fixtures.army(rival_points, rival_side),
            },
            trigger_reason=reason,
            msg_id=ids(),
        )

    anchors = [
        fixtures.battle_anchor(host_id, nickname="The Host 🎙️", unique_id="the.host"),
        fixtures.battle_anchor(rival_id, nickname=u["rival"].nickname, unique_id="rival.host"),
    ]
    return [
        (0.0, [fixtures.member(user=u["mia"], msg_id=ids()),
               fixtures.chat("hi everyone! 👋", user=u["mia"], msg_id=ids())]),
        (1.5, [fixtures.member(user=u["lukasz"], msg_id=ids()),
               fixtures.like(5, total=105, user=u["lukasz"], msg_id=ids())]),
        (3.0, [fixtures.room_user_seq(1523, msg_id=ids())]),
        (4.0, [fixtures.chat("Cześć z Polski 🇵🇱", user=u["lukasz"], msg_id=ids())]),
        (5.0, streak(u["taro"], 5655, 5)),
        (7.0, [fixtures.social_follow(user=u["zoe"], msg_id=ids())]),
        (8.0, [fixtures.social_share(user=u["ana"], msg_id=ids())]),
        (9.0, [fixtures.question_new("What game is this? 🎮", user=u["zoe"], question_id=ids(),
                                     msg_id=ids())]),
        (10.0, [fixtures.emote_chat(user=u["lukasz"], msg_id=ids())]),
        (12.0, [fixtures.gift(6369, user=u["taro"], group_id=ids(), msg_id=ids())]),
        (14.0, [fixtures.envelope(sender=u["dmitry"], msg_id=ids())]),
        (15.0, [fixtures.room_user_seq(1688, msg_id=ids()),
                fixtures.like(15, total=480, user=u["ana"], msg_id=ids())]),
        (18.0, [fixtures.sub_notify(user=u["ana"], msg_id=ids())]),
        (20.0, [fixtures.link_mic_battle(battle_id=battle_id, action=4, anchors=anchors, msg_id=ids())]),
        (22.0, [armies(10, 0, 1)]),
        (25.0, streak(u["mia"], 5487, 3)),
        (26.0, [armies(25, 30, 1)]),
        (30.0, [armies(90, 45, 1), fixtures.chat("GO HOST GO 🔥🔥", user=u["taro"], msg_id=ids())]),
        (35.0, [
            armies(120, 45, 2),
            fixtures.link_mic_battle(
                battle_id=battle_id, action=5, anchors=anchors, msg_id=ids(),
                results=[fixtures.battle_result(host_id, result=0, score=120),
                         fixtures.battle_result(rival_id, result=1, score=45)],
            ),
        ]),
        (40.0, [fixtures.social_share(user=u["mia"], users_joined=3, msg_id=ids())]),
        (45.0, [fixtures.room_user_seq(1801, msg_id=ids())]),
        (50.0, streak(u["dmitry"], 5879, 2)),
        (55.0, [fixtures.chat("thanks for the stream! ❤️", user=u["zoe"], msg_id=ids())]),
    ]  # fmt: skip


def lively(*, duration: float = 60.0, seed: int = 0) -> Scenario:
    """A busy stream of ``duration`` seconds (at speed 1), then its end.

    Scripted moments — joins, chat, likes, gift streaks, a big gift, follows, shares, a question, an
    emote, a treasure chest, a subscription, a battle with army updates and its result, viewer
    counts — with a realistic mix of background traffic (:func:`webcast_proto.fixtures.realistic_mix`)
    every half second, and a stream end (control action 3) at ``duration``.

    Raises:
        ValueError: ``duration`` is not positive.
    """
    if duration <= 0:
        raise ValueError(f"duration must be > 0, got {duration}")
    ids = _Ids(_SCRIPT_ID_BASE + (seed % 1000) * 10**6)
    scale = duration / 60.0
    steps = [Step(at * scale, Send([fixtures.wrap(m) for m in messages])) for at, messages in _script(ids)]
    background = fixtures.realistic_mix(int(duration * 6), seed=seed)
    for i in range(0, len(background), 3):
        steps.append(Step(0.25 + i / 6, Send(background[i : i + 3])))
    steps.append(Step(duration, EndStream(action=3)))
    early = fixtures.user(user_id=7_200_000_000_000_000_100, nickname="early bird 🐦")
    history = [
        fixtures.wrap(fixtures.live_intro(msg_id=ids())),
        fixtures.wrap(fixtures.member(user=early, msg_id=ids())),
        fixtures.wrap(fixtures.chat("first!", user=early, msg_id=ids())),
    ]
    return Scenario(
        "lively",
        steps,
        history=history,
        description="a busy stream: chat, joins, likes, gift streaks, follows, shares, a question, a battle, "
        "viewer counts, then the stream ends",
    )


def flaky(*, duration: float = 60.0, seed: int = 0) -> Scenario:
    """``lively`` with every fault on cue, for testing a client's recovery.

    The first im/fetch is rate-limited (429, retry after 1 s); the first socket handshake is refused
    (HTTP 200 + ``Handshake-Msg``); then, on the socket: a garbage frame at 10 %, a 3 s stall at
    25 %, a drop mid-frame at 40 %, a 503 for the next fetch and a close with 1011 at 60 %; the stream
    ends at ``duration``.
    """
    base = lively(duration=duration, seed=seed)
    faults = [
        Step(0.0, HttpFault(status=429, path="/webcast/im/fetch/", retry_after=1.0, message="slow down")),
        Step(0.0, HttpFault(status=429, path="/webcast/fetch", retry_after=1.0, message="slow down")),
        Step(0.0, RefuseHandshake(message="illegal secret key")),
        Step(duration * 0.10, GarbageFrame()),
        Step(duration * 0.25, Stall(seconds=3.0)),
        Step(duration * 0.40, DropMidFrame()),
        Step(duration * 0.60, HttpFault(status=503, path="/webcast/")),
        Step(duration * 0.60, CloseSocket(code=1011, reason="internal error")),
    ]
    return Scenario(
        "flaky",
        [*base.steps, *faults],
        history=base.history,
        description="lively, with a 429, a refused handshake, garbage, a stall, a drop, a 503 "
        "and a 1011 close",
    )


def quiet() -> Scenario:
    """No messages at all: the room is live and silent until a test pushes messages or faults."""
    return Scenario("quiet", description="a live room that says nothing until told to")


BUILTIN_SCENARIOS: Final[dict[str, Callable[[], Scenario]]] = {
    "lively": lively,
    "flaky": flaky,
    "quiet": quiet,
}


def builtin_scenario(name: str) -> Scenario:
    """The built-in scenario called ``name``.

    Raises:
        ValueError: no such scenario (the message lists the known ones).
    """
    factory = BUILTIN_SCENARIOS.get(name)
    if factory is None:
        raise ValueError(f"unknown scenario {name!r}; built-in: {', '.join(sorted(BUILTIN_SCENARIOS))}")
    return factory()
