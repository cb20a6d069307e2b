"""The clocks of a client connection: heartbeat schedule, liveness timeout and poll schedule.

None of them reads a clock (STYLE.md §3): each is told ``now`` (monotonic seconds) by the connection,
answers with an absolute deadline, and says whether something is due. The connection's
``next_deadline()`` is the earliest of their deadlines; its ``tick(now)`` asks each whether it fired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "DEFAULT_LIVENESS_TIMEOUT",
    "HeartbeatSchedule",
    "LivenessTimer",
    "PollSchedule",
    "SocketClocks",
    "check_duration",
    "check_positive_int",
    "poll_interval",
]

# No peer has a liveness timeout and no server heartbeat deadline is known (SPEC.md §11). A live room
# sends RoomUserSeq/Like traffic every few seconds; 60 s of total silence (twelve heartbeat
# periods at the 5 s default) means the socket is dead even when TCP has not noticed.
DEFAULT_LIVENESS_TIMEOUT = 60.0


def check_duration(name: str, value: object, *, allow_none: bool = False) -> None:
    """Reject a duration that is not a finite positive number of seconds.

    Args:
        name: the option's name, for the message.
        value: the duration in seconds.
        allow_none: whether ``None`` (the feature switched off) is accepted.

    Raises:
        TypeError: if ``value`` is not a number (or ``None`` when allowed).
        ValueError: if ``value`` is not finite and positive.
    """
    if value is None and allow_none:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number of seconds, got {value!r}")


def check_positive_int(name: str, value: object) -> None:
    """Reject a count or size that is not a positive int (``bool`` is not a count).

    Args:
        name: the option's name, for the message.
        value: the value to check.

    Raises:
        TypeError: if ``value`` is not an int.
        ValueError: if ``value`` is not positive.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


def poll_interval(*, fetch_interval_ms: int, request_polling_interval_ms: int) -> float:
    """Seconds to wait before the next poll (SPEC.md §5).

    The server's ``fetch_interval`` is a suggestion ([V1] ignores it) and the user's
    ``request_polling_interval_ms`` is a floor: we wait for the longer of the two, so we never poll
    faster than either side asked. A missing (0) or negative ``fetch_interval`` counts as no advice.

    Args:
        fetch_interval_ms: the fetch result's ``fetch_interval`` (ms).
        request_polling_interval_ms: the configured interval (ms).

    Returns:
        The interval in seconds.
    """
    return max(fetch_interval_ms, request_polling_interval_ms) / 1000.0


class HeartbeatSchedule:
    """When the next heartbeat is due on an open socket, and its sequence number.

    Heartbeats start after enter-room (SPEC.md §4.4, [C2]/[TL]), the first one interval after the
    socket opened; ``send_packet_seq_id`` counts 1, 2, 3 … from each enter-room.

    Args:
        interval: seconds between heartbeats.
        opened_at: ``now`` when the socket opened.
    """

    __slots__ = ("_interval", "_next_due", "_seq_id")

    def __init__(self, *, interval: float, opened_at: float) -> None:
        self._interval = interval
        self._next_due = opened_at + interval
        self._seq_id = 0

    @property
    def interval(self) -> float:
        """Seconds between heartbeats."""
        return self._interval

    @property
    def next_due(self) -> float:
        """When the next heartbeat is due (monotonic seconds)."""
        return self._next_due

    def take_due(self, now: float) -> int | None:
        """Claim the heartbeat due at ``now``, if any.

        A late tick sends one heartbeat, not a burst: missed beats are skipped, and the cadence
        restarts from ``now`` when the caller fell more than an interval behind.

        Args:
            now: the current time.

        Returns:
            The ``send_packet_seq_id`` of the heartbeat to send, or ``None`` if none is due.
        """
        if now < self._next_due:
            return None
        self._seq_id += 1
        self._next_due += self._interval
        if self._next_due <= now:
            self._next_due = now + self._interval
        return self._seq_id


class LivenessTimer:
    """Fires when the server has been silent for ``timeout`` seconds.

    Args:
        timeout: seconds of silence tolerated, or ``None`` to never fire.
        now: when the silence is counted from.
    """

    __slots__ = ("_last_heard", "_timeout")

    def __init__(self, *, timeout: float | None, now: float) -> None:
        self._timeout = timeout
        self._last_heard = now

    def heard(self, now: float) -> None:
        """The server sent something at ``now``."""
        self._last_heard = max(self._last_heard, now)

    @property
    def deadline(self) -> float | None:
        """When the timer fires, or ``None`` if it never does."""
        if self._timeout is None:
            return None
        return self._last_heard + self._timeout

    def has_expired(self, now: float) -> bool:
        """Whether the server has been silent too long at ``now``."""
        deadline = self.deadline
        return deadline is not None and now >= deadline


class PollSchedule:
    """When the next poll is due, and whether one is being performed.

    Between a poll request handed to the transport and its response (or failure) no new poll is
    scheduled: there is never more than one fetch in flight.
    """

    __slots__ = ("_due_at", "_in_flight")

    def __init__(self) -> None:
        self._due_at: float | None = None
        self._in_flight = False

    @property
    def deadline(self) -> float | None:
        """When the next poll is due, or ``None`` while one is in flight (or none is scheduled)."""
        return None if self._in_flight else self._due_at

    @property
    def is_in_flight(self) -> bool:
        """Whether a poll request was issued and its answer is outstanding."""
        return self._in_flight

    def schedule(self, now: float, interval: float) -> None:
        """A poll answer arrived at ``now``: the next poll is due ``interval`` seconds later."""
        self._in_flight = False
        self._due_at = now + interval

    def take_due(self, now: float) -> bool:
        """Claim the poll due at ``now``; afterwards it is in flight until :meth:`schedule`.

        Returns:
            Whether a poll request should be issued now.
        """
        if self._in_flight or self._due_at is None or now < self._due_at:
            return False
        self._in_flight = True
        return True

    def reset(self) -> None:
        """Forget everything (the connection left polling)."""
        self._due_at = None
        self._in_flight = False


@dataclass(slots=True)
class SocketClocks:
    """The clocks of one open WebSocket: they exist exactly while the connection is STREAMING."""

    heartbeat: HeartbeatSchedule
    liveness: LivenessTimer
