"""Gift streaks: one :class:`~webcast_proto.events.GiftStreakEnded` per streak, opt-in and pure.

A streakable gift (``gift_type == 1``) arrives as a run of events with a growing ``repeat_count`` and
``repeat_end`` false, then one final event with ``repeat_end`` true; even a single type-1 gift arrives
twice (SPEC.md §8, "Streaks"). Counting every event over-counts; counting only final events misses
streaks whose final event was lost. :class:`GiftStreakTracker` owns that bookkeeping:

* a streak is keyed by ``(user_id, gift_id, group_id)``;
* it ends on its ``repeat_end`` event, or ``timeout`` seconds after its last event when the end never
  came (deadline-driven like the connection: ``next_deadline()`` / ``tick(now)``, STYLE.md §3);
* gifts that do not streak (``gift_type != 1``) end at once;
* a late ``repeat_end`` (or straggling repeat) for a streak already closed is recognised and dropped,
  never counted twice;
* memory is bounded: at most ``max_open`` streaks are tracked (past that, the stalest is closed early)
  and the keys of the last ``max_closed`` closed streaks are remembered for the late-event check.

The tracker is separate from :class:`~webcast_proto.connection.ClientConnection`: the transport (or the
user) feeds it the :class:`~webcast_proto.events.Gift` events it wants counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from webcast_proto._timers import check_duration, check_positive_int
from webcast_proto.events import GiftStreakEnded

if TYPE_CHECKING:
    from webcast_proto.events import Gift, User

__all__ = [
    "DEFAULT_MAX_CLOSED_STREAKS",
    "DEFAULT_MAX_OPEN_STREAKS",
    "DEFAULT_STREAK_TIMEOUT",
    "GiftStreakTracker",
    "StreakKey",
]

# TikTok closes a combo a few seconds after the last tap and then sends repeat_end (SPEC.md §8 does not
# give the window). 10 s covers the window plus network delay, and still reports a lost end promptly.
DEFAULT_STREAK_TIMEOUT = 10.0

# Concurrent streaks in one room: even a busy room has a few dozen gifters tapping at once. 1,000 caps a
# peer that invents streaks and never ends them, at ~200 bytes each.
DEFAULT_MAX_OPEN_STREAKS = 1_000

# Closed keys kept to recognise late events: at a busy room's ~10 streaks/s this is ~15 min of
# history, far longer than any straggler.
DEFAULT_MAX_CLOSED_STREAKS = 10_000

StreakKey: TypeAlias = "tuple[int, int, int]"
"""``(user_id, gift_id, group_id)``: what identifies one streak."""


@dataclass(slots=True)
class _Streak:
    user: User
    gift_id: int
    gift_name: str
    diamond_count: int
    room_id: int
    count: int
    deadline: float


class GiftStreakTracker:
    """Turns :class:`~webcast_proto.events.Gift` events into exactly one ``GiftStreakEnded`` per streak.

    Args:
        timeout: seconds after a streak's last event at which it is closed without its ``repeat_end``.
        max_open: most streaks tracked at once.
        max_closed: how many closed streak keys are remembered to drop late events.

    Raises:
        TypeError: if ``timeout`` is not a number or a cap is not an int.
        ValueError: if ``timeout`` is not finite and positive, or a cap is not positive.
    """

    __slots__ = ("_closed", "_max_closed", "_max_open", "_open", "_timeout")

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_STREAK_TIMEOUT,
        max_open: int = DEFAULT_MAX_OPEN_STREAKS,
        max_closed: int = DEFAULT_MAX_CLOSED_STREAKS,
    ) -> None:
        check_duration("timeout", timeout)
        check_positive_int("max_open", max_open)
        check_positive_int("max_closed", max_closed)
        self._timeout = timeout
        self._max_open = max_open
        self._max_closed = max_closed
        # Ordered by last update. The timeout is the same for every streak, so the first entry always
        # has the earliest deadline: next_deadline() and tick() look only at the front.
        self._open: dict[StreakKey, _Streak] = {}
        # Closed key → final count, oldest first (an insertion-ordered dict as a bounded ring).
        self._closed: dict[StreakKey, int] = {}

    @property
    def open_streaks(self) -> int:
        """How many streaks are in progress."""
        return len(self._open)

    def is_streak_in_progress(self, key: StreakKey) -> bool:
        """Whether the streak ``(user_id, gift_id, group_id)`` is open.

        Args:
            key: the streak's key.

        Returns:
            ``True`` while the streak has neither ended nor timed out.
        """
        return key in self._open

    def receive_gift(self, gift: Gift, now: float) -> list[GiftStreakEnded]:
        """Account for one gift event.

        Args:
            gift: the event, in arrival order.
            now: the current time (monotonic seconds, never decreasing between calls); starts or
                refreshes the streak's timeout.

        Returns:
            The streaks this event ended: its own (on ``repeat_end``, or at once for a gift that does
            not streak), and, when ``max_open`` is exceeded, the stalest open streak, closed early.
            Empty for an intermediate event or a late one.
        """
        key: StreakKey = (gift.user.user_id, gift.gift_id, gift.group_id)
        if not gift.is_streakable:
            return [self._ended_from_gift(gift, max(gift.repeat_count, 1))]
        closed_count = self._closed.get(key)
        if closed_count is not None:
            if gift.repeat_end or gift.repeat_count <= closed_count:
                return []  # a straggler of a streak already reported: never count it twice
            del self._closed[key]  # a higher count under a closed key: the key is being reused
        streak = self._open.pop(key, None)
        if gift.repeat_end:
            count = gift.repeat_count if streak is None else max(streak.count, gift.repeat_count)
            self._remember_closed(key, count)
            return [self._ended_from_gift(gift, count)]
        if streak is None:
            streak = _Streak(
                user=gift.user,
                gift_id=gift.gift_id,
                gift_name=gift.gift_name,
                diamond_count=gift.diamond_count,
                room_id=gift.room_id,
                count=gift.repeat_count,
                deadline=now + self._timeout,
            )
        else:
            streak.count = max(streak.count, gift.repeat_count)
            streak.deadline = now + self._timeout
        self._open[key] = streak  # (re)inserted at the end: the latest deadline
        if len(self._open) > self._max_open:
            stalest = next(iter(self._open))
            return [self._close(stalest, closed_by_timeout=True)]
        return []

    def next_deadline(self) -> float | None:
        """When the oldest open streak times out, or ``None`` when no streak is open."""
        for streak in self._open.values():
            return streak.deadline
        return None

    def tick(self, now: float) -> list[GiftStreakEnded]:
        """Close the streaks whose timeout has passed.

        Args:
            now: the current time.

        Returns:
            One ``GiftStreakEnded`` (``closed_by_timeout=True``) per streak closed, oldest first.
        """
        ended: list[GiftStreakEnded] = []
        while self._open:
            key, streak = next(iter(self._open.items()))
            if now < streak.deadline:
                break
            ended.append(self._close(key, closed_by_timeout=True))
        return ended

    def close_all(self) -> list[GiftStreakEnded]:
        """Close every open streak now (the stream ended or the user stops tracking).

        Returns:
            One ``GiftStreakEnded`` (``closed_by_timeout=True``) per open streak, oldest first.
        """
        return [self._close(key, closed_by_timeout=True) for key in list(self._open)]

    def _close(self, key: StreakKey, *, closed_by_timeout: bool) -> GiftStreakEnded:
        streak = self._open.pop(key)
        self._remember_closed(key, streak.count)
        return GiftStreakEnded(
            user=streak.user,
            gift_id=streak.gift_id,
            gift_name=streak.gift_name,
            final_count=streak.count,
            diamond_count=streak.diamond_count,
            total_diamonds=streak.diamond_count * max(streak.count, 1),
            room_id=streak.room_id,
            closed_by_timeout=closed_by_timeout,
        )

    def _remember_closed(self, key: StreakKey, count: int) -> None:
        self._closed.pop(key, None)
        self._closed[key] = count
        if len(self._closed) > self._max_closed:
            del self._closed[next(iter(self._closed))]

    @staticmethod
    def _ended_from_gift(gift: Gift, count: int) -> GiftStreakEnded:
        return GiftStreakEnded(
            user=gift.user,
            gift_id=gift.gift_id,
            gift_name=gift.gift_name,
            final_count=count,
            diamond_count=gift.diamond_count,
            total_diamonds=gift.diamond_count * max(count, 1),
            room_id=gift.room_id,
        )
