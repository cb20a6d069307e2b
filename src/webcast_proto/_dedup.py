"""Which messages become events: duplicate suppression by ``msg_id`` in bounded memory, and filtering.

The same message can reach a client more than once: the initial data of the first fetch overlaps the
first WebSocket frames, polling results overlap each other, and a resume re-fetches from a cursor that
may be older than the last delivered message (SPEC.md §1, §5). Each message carries a ``msg_id``
(``BaseProtoMessage`` field 3, SPEC.md §6.1), so the connection remembers the most recent ids and drops
repeats. Memory is capped at ``Limits.max_dedup_window`` ids (STYLE.md §7): the oldest id is forgotten
first, and an id seen again moves to the young end (least recently seen goes first).

:class:`MessageSieve` puts the window in front of the converter registry, with the optional set of
wanted methods, so the connection hands it a fetch result's messages and gets events back.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

from webcast_proto._timers import check_positive_int
from webcast_proto.config import DEFAULT_MAX_MESSAGE_SIZE
from webcast_proto.events import ProtocolWarning, StreamEnd

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable

    from webcast_proto._pb import webcast_pb2 as pb
    from webcast_proto.convert import ConverterRegistry
    from webcast_proto.events import Event

__all__ = ["CONTROL_METHOD", "MessageDeduplicator", "MessageSieve", "convert_within", "converter_within"]

# The method whose messages can end the stream (SPEC.md §1.9, §8 "Stream end").
CONTROL_METHOD: Final = "WebcastControlMessage"


def convert_within(registry: ConverterRegistry, message: pb.BaseProtoMessage, max_size: int) -> Event:
    """``registry.convert(message)``, unless the message is larger than ``max_size`` bytes.

    Its payload is then not parsed (``Limits.max_message_size``: parsing builds an object per
    repeated entry, so a small gzip'd frame could otherwise cost hundreds of MB): the event is a
    :class:`~webcast_proto.events.ProtocolWarning` in its place, as for a payload that does not parse.
    """
    size = message.ByteSize()  # computed by upb, without copying the payload
    if size > max_size:
        return ProtocolWarning(
            message=f"message of {size} bytes exceeds max_message_size={max_size}; not parsed",
            method=message.method,
            msg_id=message.msg_id or None,
        )
    return registry.convert(message)


def converter_within(
    registry: ConverterRegistry, max_size: int, body_size: int | None = None
) -> Callable[[pb.BaseProtoMessage], Event]:
    """What converts one message under ``max_size``: :func:`convert_within`, or ``registry.convert``
    itself when the fetch result holding the messages is known to be no larger (``body_size``), so
    that none of them can pass the limit and none needs measuring (``ByteSize()``, ~0.3 µs each)."""
    if body_size is not None and body_size <= max_size:
        return registry.convert
    return functools.partial(convert_within, registry, max_size=max_size)


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
        # An ordered set, oldest id first, with O(1) lookup, refresh and eviction. (A plain dict would
        # do the same, but deleting its first key leaves a hole that every later next(iter(...)) walks
        # past, until the dict is resized: ~4 µs an id at a full window of 10,000.)
        self._ids: OrderedDict[int, None] = OrderedDict()

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
            ids.move_to_end(msg_id)
            return False
        ids[msg_id] = None
        if len(ids) > self._capacity:
            ids.popitem(last=False)
        return True


class MessageSieve:
    """Turns a fetch result's messages into events: new ones only, wanted ones only, up to a stream end.

    Order of work per message, cheapest first: the wanted methods (an unwanted message is dropped
    before its payload is parsed, and not remembered: nothing was delivered, so nothing can repeat),
    then the ``msg_id`` window (a repeat is dropped), then the registry. Control messages are always
    converted when a filter is set: they can end the stream (SPEC.md §1.9), which the connection must
    see whatever the user listens to.

    Args:
        capacity: the ``msg_id`` window (``Limits.max_dedup_window``).
        registry: converts one message to one event; never raises for peer data.
        wanted_methods: the methods to convert, or ``None`` for all.
        max_message_size: ``Limits.max_message_size``: a larger message is not parsed.
    """

    __slots__ = ("_dedup", "_max_message_size", "_registry", "_wanted")

    def __init__(
        self,
        *,
        capacity: int,
        registry: ConverterRegistry,
        wanted_methods: Collection[str] | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self._dedup = MessageDeduplicator(capacity)
        self._registry = registry
        self._max_message_size = max_message_size
        self._wanted: frozenset[str] | None = None
        self.set_wanted(wanted_methods)

    def set_wanted(self, wanted_methods: Collection[str] | None) -> None:
        """Convert only ``wanted_methods`` from now on (``None``: all); control messages always."""
        self._wanted = None if wanted_methods is None else frozenset(wanted_methods) | {CONTROL_METHOD}

    def remember(self, messages: Iterable[pb.BaseProtoMessage]) -> None:
        """Record the ids of ``messages`` without delivering them (initial data switched off)."""
        for message in messages:
            self._dedup.add(message.msg_id)

    def sift(
        self, messages: Iterable[pb.BaseProtoMessage], events: list[Event], *, body_size: int | None = None
    ) -> bool:
        """Append the events of the new, wanted ``messages`` to ``events``, stopping after a stream end.

        Messages after a stream end are neither converted nor remembered: nothing after it counts.

        Args:
            messages: a fetch result's messages, in order.
            events: where the events go.
            body_size: the size of the (uncompressed) fetch result that holds them, if known: when
                it is within ``max_message_size``, no message can pass it and none is measured.

        Returns:
            Whether the stream ended: the last event appended is a ``StreamEnd``.
        """
        wanted = self._wanted
        convert = converter_within(self._registry, self._max_message_size, body_size)
        is_new, append = self._dedup.add, events.append
        for message in messages:
            if wanted is not None and message.method not in wanted:
                continue
            if not is_new(message.msg_id):
                continue
            event = convert(message)
            append(event)
            if isinstance(event, StreamEnd):
                return True
        return False
