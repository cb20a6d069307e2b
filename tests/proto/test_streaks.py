"""GiftStreakTracker: exactly one GiftStreakEnded per streak (SPEC.md §8, "Streaks")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webcast_proto.events import Gift, GiftStreakEnded, User
from webcast_proto.streaks import DEFAULT_STREAK_TIMEOUT, GiftStreakTracker

ALICE = User(user_id=1, unique_id="alice")
BOB = User(user_id=2, unique_id="bob")


def gift(
    *,
    user: User = ALICE,
    gift_id: int = 5655,
    group_id: int = 100,
    repeat_count: int = 1,
    repeat_end: bool = False,
    gift_type: int = 1,
    diamond_count: int = 1,
    msg_id: int = 0,
) -> Gift:
    return Gift(
        method="WebcastGiftMessage",
        msg_id=msg_id,
        room_id=7,
        user=user,
        gift_id=gift_id,
        group_id=group_id,
        repeat_count=repeat_count,
        repeat_end=repeat_end,
        gift_type=gift_type,
        diamond_count=diamond_count,
        gift_name="Rose",
    )


def test_streak_ends_once_on_repeat_end() -> None:
    """A streak's intermediate events emit nothing; its repeat_end emits one event with the final count."""
    tracker = GiftStreakTracker()
    assert tracker.receive_gift(gift(repeat_count=1), 0.0) == []
    assert tracker.receive_gift(gift(repeat_count=2), 0.5) == []
    assert tracker.is_streak_in_progress((1, 5655, 100))
    ended = tracker.receive_gift(gift(repeat_count=3, repeat_end=True, diamond_count=5), 1.0)
    assert ended == [
        GiftStreakEnded(
            user=ALICE,
            gift_id=5655,
            gift_name="Rose",
            final_count=3,
            diamond_count=5,
            total_diamonds=15,
            room_id=7,
        )
    ]
    assert tracker.open_streaks == 0
    assert tracker.next_deadline() is None


def test_single_type_1_gift_arrives_twice_counts_once() -> None:
    """Even a single type-1 gift arrives twice (SPEC.md §8): one GiftStreakEnded with count 1."""
    tracker = GiftStreakTracker()
    assert tracker.receive_gift(gift(repeat_count=1), 0.0) == []
    [ended] = tracker.receive_gift(gift(repeat_count=1, repeat_end=True), 0.1)
    assert ended.final_count == 1


def test_final_count_never_shrinks() -> None:
    """The final count is the highest count seen, even if repeat_end carries a smaller one."""
    tracker = GiftStreakTracker()
    tracker.receive_gift(gift(repeat_count=9), 0.0)
    [ended] = tracker.receive_gift(gift(repeat_count=4, repeat_end=True), 0.1)
    assert ended.final_count == 9


def test_non_streakable_gift_ends_immediately() -> None:
    """gift_type != 1 does not streak: it ends at once, repeat_end or not."""
    tracker = GiftStreakTracker()
    [ended] = tracker.receive_gift(gift(gift_type=2, repeat_count=3, diamond_count=100), 0.0)
    assert (ended.final_count, ended.total_diamonds, ended.closed_by_timeout) == (3, 300, False)
    [zero] = tracker.receive_gift(gift(gift_type=2, repeat_count=0, diamond_count=10), 0.0)
    assert (zero.final_count, zero.total_diamonds) == (1, 10)
    assert tracker.open_streaks == 0


def test_repeat_end_without_prior_events_ends_immediately() -> None:
    """A repeat_end for a streak the tracker never saw (joined mid-streak) is reported once."""
    tracker = GiftStreakTracker()
    [ended] = tracker.receive_gift(gift(repeat_count=7, repeat_end=True), 0.0)
    assert ended.final_count == 7


def test_late_repeat_end_is_not_double_counted() -> None:
    """A repeat_end arriving after the streak closed (by its end or by timeout) emits nothing."""
    tracker = GiftStreakTracker(timeout=5.0)
    tracker.receive_gift(gift(repeat_count=2), 0.0)
    [timed_out] = tracker.tick(5.0)
    assert timed_out.closed_by_timeout
    assert timed_out.final_count == 2
    assert tracker.receive_gift(gift(repeat_count=3, repeat_end=True), 6.0) == []
    assert tracker.receive_gift(gift(repeat_count=3, repeat_end=True), 6.5) == []
    assert tracker.receive_gift(gift(repeat_count=2), 7.0) == []  # a straggling repeat, too
    assert tracker.open_streaks == 0


def test_closed_key_reused_with_higher_count_starts_a_new_streak() -> None:
    """After a close, a repeat with a higher count under the same key is a new streak, counted once."""
    tracker = GiftStreakTracker()
    tracker.receive_gift(gift(repeat_count=1, repeat_end=True), 0.0)
    assert tracker.receive_gift(gift(repeat_count=2), 1.0) == []
    [ended] = tracker.receive_gift(gift(repeat_count=3, repeat_end=True), 1.5)
    assert ended.final_count == 3


def test_streaks_are_keyed_by_user_gift_and_group() -> None:
    """Streaks of different users, gifts or groups are separate, each ending once."""
    tracker = GiftStreakTracker()
    tracker.receive_gift(gift(user=ALICE), 0.0)
    tracker.receive_gift(gift(user=BOB), 0.0)
    tracker.receive_gift(gift(gift_id=1), 0.0)
    tracker.receive_gift(gift(group_id=101), 0.0)
    assert tracker.open_streaks == 4
    assert tracker.receive_gift(gift(user=BOB, repeat_count=2, repeat_end=True), 0.1)[0].user == BOB
    assert tracker.open_streaks == 3


def test_timeout_is_deadline_driven() -> None:
    """A streak without its end closes `timeout` seconds after its last event, via next_deadline/tick."""
    tracker = GiftStreakTracker(timeout=10.0)
    assert tracker.next_deadline() is None
    tracker.receive_gift(gift(repeat_count=1), 100.0)
    assert tracker.next_deadline() == 110.0
    tracker.receive_gift(gift(repeat_count=2), 104.0)  # each event refreshes the deadline
    assert tracker.next_deadline() == 114.0
    assert tracker.tick(113.9) == []
    [ended] = tracker.tick(114.0)
    assert (ended.final_count, ended.closed_by_timeout) == (2, True)
    assert tracker.next_deadline() is None


def test_tick_closes_due_streaks_oldest_first_and_keeps_the_rest() -> None:
    """tick() closes exactly the streaks that are due, in deadline order."""
    tracker = GiftStreakTracker(timeout=1.0)
    tracker.receive_gift(gift(group_id=1), 0.0)
    tracker.receive_gift(gift(group_id=2), 0.5)
    tracker.receive_gift(gift(group_id=1, repeat_count=2), 0.7)  # refreshed: now after group 2
    tracker.receive_gift(gift(group_id=3), 2.0)
    ended = tracker.tick(1.7)
    assert [e.final_count for e in ended] == [1, 2]
    assert tracker.next_deadline() == 3.0


def test_default_timeout() -> None:
    """The default timeout is DEFAULT_STREAK_TIMEOUT."""
    tracker = GiftStreakTracker()
    tracker.receive_gift(gift(), 0.0)
    assert tracker.next_deadline() == DEFAULT_STREAK_TIMEOUT


def test_open_streaks_are_bounded() -> None:
    """Past max_open, the stalest streak is closed early (as by timeout): memory stays bounded."""
    tracker = GiftStreakTracker(max_open=2)
    assert tracker.receive_gift(gift(group_id=1), 0.0) == []
    assert tracker.receive_gift(gift(group_id=2), 0.0) == []
    [evicted] = tracker.receive_gift(gift(group_id=3), 0.0)
    assert evicted.closed_by_timeout
    assert tracker.open_streaks == 2
    assert not tracker.is_streak_in_progress((1, 5655, 1))


def test_closed_keys_are_bounded() -> None:
    """Only the last max_closed closed keys are remembered; older ones are forgotten."""
    tracker = GiftStreakTracker(max_closed=2)
    for group_id in (1, 2, 3):
        tracker.receive_gift(gift(group_id=group_id, repeat_end=True), 0.0)
    # Group 1 was forgotten: its late repeat_end is reported again; group 3's is not.
    assert len(tracker.receive_gift(gift(group_id=1, repeat_end=True), 1.0)) == 1
    assert tracker.receive_gift(gift(group_id=3, repeat_end=True), 1.0) == []


def test_close_all() -> None:
    """close_all() ends every open streak now."""
    tracker = GiftStreakTracker()
    tracker.receive_gift(gift(group_id=1), 0.0)
    tracker.receive_gift(gift(group_id=2, repeat_count=4), 0.0)
    assert [e.final_count for e in tracker.close_all()] == [1, 4]
    assert tracker.open_streaks == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"timeout": 0}, ValueError),
        ({"timeout": float("inf")}, ValueError),
        ({"timeout": "1"}, TypeError),
        ({"max_open": 0}, ValueError),
        ({"max_closed": True}, TypeError),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    """Bad options raise TypeError/ValueError at construction."""
    with pytest.raises(error):
        GiftStreakTracker(**kwargs)  # type: ignore[arg-type]  # deliberately wrong types


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 6), st.booleans(), st.floats(0, 3)),
        max_size=60,
    )
)
def test_every_streak_ends_exactly_once(steps: list[tuple[int, int, bool, float]]) -> None:
    """Any sequence of in-order streaks ends each streak exactly once, by its end or by a timeout."""
    tracker = GiftStreakTracker(timeout=2.0)
    now = 0.0
    ended: list[GiftStreakEnded] = []
    expected_groups: set[int] = set()
    group_ids = {key: key * 1000 for key in range(4)}
    counts = dict.fromkeys(range(4), 0)
    for key, _, end, delay in steps:
        now += delay
        ended += tracker.tick(now)
        if not tracker.is_streak_in_progress((1, 5655, group_ids[key])) and counts[key]:
            group_ids[key] += 1  # the last streak closed by timeout: start a fresh one
            counts[key] = 0
        counts[key] += 1
        expected_groups.add(group_ids[key])
        ended += tracker.receive_gift(
            gift(group_id=group_ids[key], repeat_count=counts[key], repeat_end=end), now
        )
        if end:
            group_ids[key] += 1
            counts[key] = 0
    ended += tracker.close_all()
    assert len(ended) == len(expected_groups)
