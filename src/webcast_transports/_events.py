"""Events the transports add to the core's: what only the reconnecting client knows.

They share the core's :class:`~webcast_proto.Event` base (frozen, slotted, keyword-only), so
``events()`` yields one kind of object and the ``.on()`` name table covers them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from webcast_proto import Event

__all__ = ["Reconnecting"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconnecting(Event):
    """The connection was lost and the client will resume from its cursor after ``delay`` seconds.

    The core's ``Disconnected`` of a lost connection becomes this event when a reconnect follows, so
    ``disconnected`` fires once, at the very end.

    Attributes:
        reason: the core's reason for the loss (``"closed"``, ``"timeout"``, ``"fetch_failed"``,
            ``"upgrade_failed"``) or ``"protocol_error"`` (the server sent garbage).
        code: the WebSocket close code, when there was one.
        attempt: 1 for the first reconnect after a working connection, then 2, 3 … while they fail.
        delay: seconds until the attempt (exponential backoff with jitter, or the server's
            ``retry_after`` when longer).
        error: the failure's message, when a failure caused the loss (also given to ``error``).
    """

    reason: str
    code: int | None = None
    attempt: int = 1
    delay: float = 0.0
    error: str = ""
