"""Structure-aware mutation of fetch results: the "proto" target's custom mutator.

atheris-libprotobuf-mutator does not install here (see README.md), so this is a small stand-in
written against protobuf's public reflection API, which upb's generated classes support. It parses
the input as a ``ProtoMessageFetchResult``, makes one to three edits chosen by the libFuzzer seed, and
serializes it again, so inputs stay valid protobuf down to the message payloads:

* a scalar field gets an interesting value for its type (bounds of its integer width, empty and
  odd strings, known method and payload-type names …);
* a repeated field loses, duplicates or gains an element, or one element is edited in turn;
* a sub-message is edited or cleared; a map gains or loses an entry;
* a ``BaseProtoMessage.payload`` is parsed as the message its ``method`` names, edited the same way
  and serialized back, so the converters see deep, nearly valid data; its ``method`` may change to
  another known one (the payload then meets a converter it was not written for).

One call in ten, and whenever the input does not parse or the result outgrows ``max_size``, the edit
is libFuzzer's own byte mutation instead, so the fuzzer also explores just-invalid encodings.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Final, cast

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from webcast_proto import codec
from webcast_proto._pb import webcast_pb2 as pb

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["mutate"]

_METHODS: Final = (
    "WebcastChatMessage",
    "WebcastMemberMessage",
    "WebcastGiftMessage",
    "WebcastRoomUserSeqMessage",
    "WebcastLikeMessage",
    "WebcastSocialMessage",
    "WebcastEmoteChatMessage",
    "WebcastEnvelopeMessage",
    "WebcastQuestionNewMessage",
    "WebcastLinkMicBattle",
    "WebcastLinkMicArmies",
    "WebcastLiveIntroMessage",
    "WebcastSubNotifyMessage",
    "WebcastControlMessage",
    "WebcastUnknownMessage",
    "",
)

_STRINGS: Final = (
    "",
    "0",
    "-1",
    "7448811992334045998",
    "99999999999999999999999",
    "gzip",
    "none",
    "msg",
    "hb",
    "ack",
    "close",
    "im_enter_room_resp",
    "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/",
    "ws://127.0.0.1:1/",
    "https://p16-webcast.tiktokcdn.com/a.webp",
    "http://[::1",
    "{0:user} sent {1:gift} × {2:string}",
    "{0:",
    "\x00",
    "\u202e\u200d",
    "😀" * 5,
    "x" * 300,
    *_METHODS,
)

_INTS: Final = (0, 1, -1, 2, 3, 4, 5, 6, 7, 10, 100, 127, 128, 255, 256, 1000, 65535, 2**31, 2**32, 2**53 + 1)

_RANGES: Final = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_ENUM: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}

_FLOATS: Final = (0.0, -0.0, 1.0, -1.0, 0.5, 1e308, -1e308, float("inf"), float("nan"))

_MAX_DEPTH: Final = 8


def _int(kind: int, rng: random.Random) -> int:
    low, high = _RANGES[kind]
    if rng.random() < 0.2:
        return rng.randint(low, high)
    value = rng.choice(_INTS) * rng.choice((1, -1))
    return min(max(value, low), high) if rng.random() < 0.8 else rng.choice((low, high))


def _string(rng: random.Random) -> str:
    if rng.random() < 0.8:
        return rng.choice(_STRINGS)
    # Any code point but surrogates, which protobuf strings (UTF-8) cannot hold.
    return "".join(
        chr(rng.choice((rng.randint(0x20, 0x7E), rng.randint(0xE000, 0x10FFFF))))
        for _ in range(rng.randint(0, 12))
    )


def _bytes(rng: random.Random, mutate_bytes: Callable[[bytes, int], bytes], current: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return b""
    if choice == 1:
        return codec.gzip_compress(current)
    return mutate_bytes(current, max(len(current) * 2, 64))


def _scalar(
    field: FieldDescriptor, rng: random.Random, mutate_bytes: Callable[[bytes, int], bytes], current: object
) -> object:
    kind = field.type
    if kind == FieldDescriptor.TYPE_BOOL:
        return not current if isinstance(current, bool) else rng.random() < 0.5
    if kind == FieldDescriptor.TYPE_STRING:
        return _string(rng)
    if kind == FieldDescriptor.TYPE_BYTES:
        return _bytes(rng, mutate_bytes, current if isinstance(current, bytes) else b"")
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return rng.choice(_FLOATS)
    return _int(kind, rng)


def _payload_class(method: str) -> type[Message] | None:
    cls = getattr(pb, method, None) if method.startswith("Webcast") else None
    return cls if isinstance(cls, type) and issubclass(cls, Message) else None


def _mutate_payload(
    envelope: pb.BaseProtoMessage, rng: random.Random, mutate_bytes: Callable[[bytes, int], bytes], depth: int
) -> None:
    cls = _payload_class(envelope.method)
    if cls is not None:
        try:
            inner = cls.FromString(envelope.payload)
        except DecodeError:
            inner = None
        if inner is not None:
            _mutate_message(inner, rng, mutate_bytes, depth + 1)
            envelope.payload = inner.SerializeToString()
            return
    envelope.payload = _bytes(rng, mutate_bytes, envelope.payload)


def _mutate_map(
    message: Message, field: FieldDescriptor, rng: random.Random, mutate_bytes: Callable[[bytes, int], bytes]
) -> None:
    container = getattr(message, field.name)
    keys = list(container)
    if keys and rng.random() < 0.4:
        del container[rng.choice(keys)]
        return
    entry_type = field.message_type
    assert entry_type is not None  # a map field
    entry = entry_type.fields_by_name
    key = _scalar(entry["key"], rng, mutate_bytes, None)
    if entry["value"].message_type is None:  # ours are all map<string, string>
        container[key] = _scalar(entry["value"], rng, mutate_bytes, None)


def _mutate_repeated(
    message: Message,
    field: FieldDescriptor,
    rng: random.Random,
    mutate_bytes: Callable[[bytes, int], bytes],
    depth: int,
) -> None:
    container = getattr(message, field.name)
    size = len(container)
    action = rng.randrange(5)
    if action == 0 and size:
        del container[rng.randrange(size)]
    elif action == 1 and size:
        chosen = container[rng.randrange(size)]
        if field.message_type is None:
            container.append(chosen)
        else:
            container.add().CopyFrom(chosen)
    elif field.message_type is None:
        container.append(_scalar(field, rng, mutate_bytes, None))
    else:
        element = container[rng.randrange(size)] if size and action != 2 else container.add()
        _mutate_message(element, rng, mutate_bytes, depth + 1)


def _mutate_message(
    message: Message, rng: random.Random, mutate_bytes: Callable[[bytes, int], bytes], depth: int
) -> None:
    """One edit somewhere in ``message`` (at this level or below)."""
    if isinstance(message, pb.BaseProtoMessage) and rng.random() < 0.6:
        if rng.random() < 0.2:
            message.method = rng.choice(_METHODS)
        else:
            _mutate_payload(message, rng, mutate_bytes, depth)
        return
    fields = message.DESCRIPTOR.fields
    if not fields:
        return
    # The stubs type the fields as either the pure-Python or upb's descriptor class; both are one API.
    field = cast("FieldDescriptor", rng.choice(fields))
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        _mutate_map(message, field, rng, mutate_bytes)
    elif field.is_repeated:
        _mutate_repeated(message, field, rng, mutate_bytes, depth)
    elif field.message_type is not None:
        if message.HasField(field.name) and rng.random() < 0.15:
            message.ClearField(field.name)
        elif depth < _MAX_DEPTH:
            _mutate_message(getattr(message, field.name), rng, mutate_bytes, depth + 1)
    else:
        setattr(message, field.name, _scalar(field, rng, mutate_bytes, getattr(message, field.name)))


def mutate(data: bytes, max_size: int, seed: int, mutate_bytes: Callable[[bytes, int], bytes]) -> bytes:
    """libFuzzer's custom mutator for the "proto" target.

    Args:
        data: the input to mutate (a serialized fetch result, usually).
        max_size: the largest output libFuzzer accepts.
        seed: libFuzzer's seed for this mutation: the same seed gives the same edits.
        mutate_bytes: libFuzzer's byte mutator (``atheris.Mutate``).

    Returns:
        The mutated input, at most ``max_size`` bytes.
    """
    rng = random.Random(seed)
    if rng.random() < 0.1:
        return mutate_bytes(data, max_size)
    try:
        result = pb.ProtoMessageFetchResult.FromString(data)
    except DecodeError:
        return mutate_bytes(data, max_size)
    for _ in range(rng.randint(1, 3)):
        _mutate_message(result, rng, mutate_bytes, 0)
    out = result.SerializeToString()
    return out if len(out) <= max_size else mutate_bytes(data, max_size)
