"""Duplicate suppression by ``msg_id``, in bounded memory.

The same message can reach a client more than once: the initial data of the first fetch overlaps the
first WebSocket frames, polling results overlap each other, and a resume re-fetches from a cursor that
may be older than the last delivered message (SPEC.md §1, §5). Each message carries a ``msg_id``
(``BaseProtoMessage`` field 3, SPEC.md §6.1), so the connection remembers the most recent ids and drops
repeats. Memory is capped at ``Limits.max_dedup_window`` ids (STYLE.md §7): the oldest id is forgotten
first, and an id seen again moves to the young end (least recently seen goes first).
"""

from __future__ import annotations

from webcast_proto._timers import check_positive_int

__all__ = ["MessageDeduplicator"]


class MessageDeduplicator:
    """Remembers the last ``capacity`` message ids and tells new ids from repeats.

    A ``msg_id`` of 0 means "not set" (proto3 default, SPEC.md §0): such messages cannot be told apart,
    so they are never reported as duplicates and never stored.

    Args:
        capacity: how many ids to remember (``Limits.max_dedup_window``).

    Raises:
        TypeError: if ``capacity`` is not an int.
        ValueError: if ``capacity`` is not positive.
    """

    __slots__ = ("_capacity", "_ids")

    def __init__(self, capacity: int) -> None:
        check_positive_int("capacity", capacity)
        self._capacity = capacity
        # A dict is an insertion-ordered set: O(1) lookup, and its first key is the oldest id.
        self._ids: dict[int, None] = {}

    @property
    def capacity(self) -> int:
        """The most ids remembered at once."""
        return self._capacity

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, msg_id: object) -> bool:
        return msg_id in self._ids

    def add(self, msg_id: int) -> bool:
        """Record ``msg_id``; tell whether it is new.

        Args:
            msg_id: the message's id.

        Returns:
            ``True`` if the message should be delivered (new id, or id 0), ``False`` if it is a repeat
            of a remembered id.
        """
        if msg_id == 0:
            return True
        ids = self._ids
        if msg_id in ids:
            # Refresh: an id still arriving is the one most worth remembering.
            del ids[msg_id]
            ids[msg_id] = None
            return False
        ids[msg_id] = None
        if len(ids) > self._capacity:
            del ids[next(iter(ids))]
        return True
