"""The seed's event names for ``.on()``, generated from the event classes (STYLE.md §5).

A class's name is its class name in lowerCamelCase (``Chat`` → ``chat``, ``RoomUser`` →
``roomUser``, ``LinkMicBattle`` → ``linkMicBattle``), with one exception where the seed spelled it
differently: ``WebSocketConnected`` → ``websocketConnected``. Every concrete subclass of
:class:`~webcast_proto.Event` gets a name this way, the transports' :class:`Reconnecting` and any
event class a user's converter returns included, so the table never drifts from the classes. Two
names stand for no class: ``rawData`` (every message event, converted or not) and ``error`` (the
client's failures, as exceptions).

Which TikTok methods a name needs converted is found by asking a converter registry what it makes
of an empty message of each method (:func:`event_types_by_method`): the registry is the source.
"""

from __future__ import annotations

import functools
import types
from typing import TYPE_CHECKING, Final

from webcast_proto import Event, MessageEvent, UnknownMessage, WebSocketConnected, default_registry
from webcast_proto._pb import webcast_pb2 as pb
from webcast_transports._events import Reconnecting

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from webcast_proto import ConverterRegistry

__all__ = [
    "ERROR",
    "RAW_DATA",
    "SEED_EVENT_NAMES",
    "class_for_name",
    "event_classes",
    "event_name",
    "event_types_by_method",
    "known_names",
    "wanted_methods",
]

RAW_DATA: Final = "rawData"
ERROR: Final = "error"

# The names the seed (WebcastPushConnection) documents, which must all resolve (issue 5).
SEED_EVENT_NAMES: Final = (
    "chat", "gift", "member", "roomUser", "like", "social", "emote", "envelope", "questionNew",
    "linkMicBattle", "linkMicArmies", "liveIntro", "subscribe", "connected", "disconnected",
    "streamEnd", "rawData", "websocketConnected", "error",
)  # fmt: skip

# Where the seed's spelling is not the class name in lowerCamelCase.
_SEED_SPELLINGS: Final[Mapping[type[Event], str]] = {WebSocketConnected: "websocketConnected"}
# Bases that are never delivered themselves.
_ABSTRACT: Final = frozenset({Event, MessageEvent})

_ = Reconnecting  # imported so that its class exists (and gets a name) before the first lookup


def _walk(cls: type[Event]) -> Iterator[type[Event]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _walk(sub)


def event_classes() -> tuple[type[Event], ...]:
    """Every concrete event class defined so far, each once.

    ``dataclass(slots=True)`` makes a new class and leaves the first one behind among the
    subclasses; of classes with the same module and qualified name the latest (the slotted one) wins.

    Returns:
        The classes, in definition order.
    """
    latest: dict[tuple[str, str], type[Event]] = {}
    for cls in _walk(Event):
        latest[(cls.__module__, cls.__qualname__)] = cls
    # The bases are left out after the merge: the unslotted first MessageEvent shares the slotted
    # one's name, so filtering before it would let the first one in under that name.
    # Private classes (the converters' builders' mirrors, webcast_proto.events._builder) are not events.
    return tuple(cls for cls in latest.values() if cls not in _ABSTRACT and not cls.__name__.startswith("_"))


def event_name(cls: type[Event]) -> str:
    """The ``.on()`` name of an event class.

    Args:
        cls: an event class.

    Returns:
        The seed's spelling when it has one, else the class name in lowerCamelCase.
    """
    spelled = _SEED_SPELLINGS.get(cls)
    if spelled is not None:
        return spelled
    name = cls.__name__
    return name[:1].lower() + name[1:]


def known_names() -> dict[str, type[Event] | None]:
    """Every name ``.on()`` accepts, with its class (``None`` for ``rawData`` and ``error``)."""
    table: dict[str, type[Event] | None] = {event_name(cls): cls for cls in event_classes()}
    table[RAW_DATA] = None
    table[ERROR] = None
    return table


def class_for_name(name: str) -> type[Event] | None:
    """The event class named ``name``; ``None`` for ``rawData`` and ``error``.

    Raises:
        ValueError: no event has this name (the message lists the names).
    """
    table = known_names()
    if name not in table:
        raise ValueError(f"unknown event name {name!r}; known names: {', '.join(sorted(table))}")
    return table[name]


def event_types_by_method(registry: ConverterRegistry) -> dict[str, type[Event]]:
    """Which event class the registry makes for each method it converts.

    Each method is asked once with an empty payload (a valid proto3 message with every field at its
    default), so the answer comes from the converters themselves, the user's included.

    Args:
        registry: the client's converter registry.

    Returns:
        Method → event class.
    """
    return {
        method: type(registry.convert(pb.BaseProtoMessage(method=method)))
        for method in sorted(registry.methods)
    }


@functools.cache
def default_event_types_by_method() -> Mapping[str, type[Event]]:
    """:func:`event_types_by_method` of ``default_registry()``, worked out once per process.

    A client that made its registry itself (none was given) uses this: the answer is the same for
    every such client, and asking the client's own registry would also leave the probe messages'
    users in its user cache, ~1 KiB a client in all. Read-only (a mapping proxy): it is shared.
    """
    return types.MappingProxyType(event_types_by_method(default_registry()))


def wanted_methods(names: set[str], by_method: Mapping[str, type[Event]]) -> frozenset[str] | None:
    """The methods the connection must convert for listeners of ``names``.

    Args:
        names: the names listened to (``.on()`` handlers).
        by_method: from :func:`event_types_by_method`.

    Returns:
        The methods, or ``None`` for all (``rawData`` or ``unknownMessage`` is listened to: both need
        every message).
    """
    wanted: set[str] = set()
    table = known_names()
    for name in names:
        cls = table.get(name)
        if name == RAW_DATA or cls is UnknownMessage:
            return None
        wanted.update(method for method, made in by_method.items() if cls is not None and made is cls)
    return frozenset(wanted)
