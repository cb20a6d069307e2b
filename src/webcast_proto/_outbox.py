"""The client's outgoing WebSocket messages, queued until the transport drains them, in bounded memory.

Acks, heartbeats and enter-room frames (SPEC.md §4.3-§4.5) are decided by the connection itself and
wait here for ``data_to_send()`` (h2's shape, STYLE.md §2). The queue holds at most
``Limits.max_pending_bytes`` (STYLE.md §7): it fills only if the transport stopped writing, a bug of
the caller, so passing the cap raises ``LocalProtocolError``, checked *before* anything is queued.
"""

from __future__ import annotations

from webcast_proto._errors import LocalProtocolError

__all__ = ["Outbox"]


class Outbox:
    """A FIFO of binary WebSocket messages with a cap on their total size.

    Args:
        max_bytes: the most bytes that may wait (``Limits.max_pending_bytes``).
    """

    __slots__ = ("_max_bytes", "_messages", "_size")

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._messages: list[bytes] = []
        self._size = 0

    def check_room(self, messages: list[bytes]) -> None:
        """Raise unless ``messages`` fit; queue nothing.

        Raises:
            LocalProtocolError: queuing them would pass the cap.
        """
        size = self._size + sum(map(len, messages))
        if size > self._max_bytes:
            raise LocalProtocolError(
                f"{size} outgoing bytes would be pending, over max_pending_bytes={self._max_bytes}: "
                f"drain data_to_send() after every call"
            )

    def put(self, messages: list[bytes]) -> None:
        """Queue ``messages`` in order.

        Raises:
            LocalProtocolError: they do not fit (nothing is queued then).
        """
        self.check_room(messages)
        self._messages.extend(messages)
        self._size += sum(map(len, messages))

    def drain(self) -> list[bytes]:
        """Take every queued message, oldest first."""
        out, self._messages = self._messages, []
        self._size = 0
        return out
