"""``webcast decode``: one push frame or im/fetch body printed as a tree, for protocol research.

Every field present is shown with its name and number; enums by name; strings quoted (JSON
escapes, so one field is one line). Payloads are decoded where the protocol says what they hold: a
frame's payload by its ``payload_type`` (``msg`` → the fetch result, gunzipped; ``hb``, ``ack``,
``im_enter_room``), a message envelope's payload by its ``method`` (``WebcastChatMessage`` → that
message). Fields our schema does not know are shown by number and wire type (protobuf's
``UnknownFieldSet``); a length-delimited one is shown as text when it is printable UTF-8, else as a
nested message when it parses as one (its fields again by number), else as hex.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from typing import TYPE_CHECKING, Final, TypeAlias

from google.protobuf import empty_pb2
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

from webcast_proto import RemoteProtocolError, codec
from webcast_proto._pb import webcast_pb2 as pb
from webcast_transports.cli._common import EXIT_FAILURE, EXIT_OK, UsageError
from webcast_transports.cli._output import Style, use_color

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping

    from google.protobuf.descriptor import FieldDescriptor

__all__ = ["Tree", "decode", "detect"]

# Nested unknown messages are guessed recursively; past this depth their bytes are shown as hex.
_MAX_GUESS_DEPTH: Final = 16
_HEX_SHOWN: Final = 48
_WIRE_TYPES: Final = {0: "varint", 1: "fixed64", 2: "bytes", 3: "group", 5: "fixed32"}


def detect(data: bytes) -> str:
    """``"frame"`` or ``"fetch"``: what the bytes most likely are.

    A gzip stream is a fetch body (frames are never gzip'd whole). Otherwise a push frame is what
    parses as ``WebcastPushFrame`` with a ``payload_type`` and no unknown fields; a fetch result's
    field 1 (a message) would be an unknown field there, its wire type differing.
    """
    if codec.is_gzip(data):
        return "fetch"
    try:
        frame = pb.WebcastPushFrame.FromString(data)
    except DecodeError:
        return "fetch"
    return "frame" if frame.payload_type and len(UnknownFieldSet(frame)) == 0 else "fetch"


def _hex(data: bytes) -> str:
    shown = data[:_HEX_SHOWN].hex(" ")
    return f"{shown} … ({len(data)} bytes)" if len(data) > _HEX_SHOWN else shown


def _text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


_Hook: TypeAlias = "Callable[[Message, bytes], tuple[str, Message | str | None]]"
"""Decodes a bytes field the protocol names: ``(note, nested message or text or None)``."""


class Tree:
    """Renders messages as indented lines.

    Args:
        style: colours (field names dim, type names bold), or none.
    """

    def __init__(self, style: Style) -> None:
        self._style = style
        self.lines: list[str] = []

    def root(self, message: Message, size: int, *, gzip: bool) -> None:
        """The top: the message type and the input's size, then the message."""
        self._line(
            0, f"{self._style(message.DESCRIPTOR.name, 'bold')}: {size} bytes{' (gzip)' if gzip else ''}"
        )
        self.message(message, 1)

    def _line(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def _label(self, field: FieldDescriptor, index: int | None = None) -> str:
        at = f"[{index}]" if index is not None else ""
        return f"{field.name}{at} {self._style(f'({field.number})', 'dim')}"

    def message(self, message: Message, depth: int = 0) -> None:
        """Every field present in ``message``, then its unknown fields."""
        for field, value in sorted(message.ListFields(), key=lambda item: item[0].number):
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                self._line(depth, f"{self._label(field)}:")
                for key in sorted(value):
                    self._value(
                        depth + 1,
                        json.dumps(key, ensure_ascii=False),
                        field.message_type.fields_by_name["value"],
                        value[key],
                        message,
                    )
            elif field.is_repeated:
                for index, item in enumerate(value):
                    self._value(depth, self._label(field, index), field, item, message)
            else:
                self._value(depth, self._label(field), field, value, message)
        self.unknown(UnknownFieldSet(message), depth)

    def _value(self, depth: int, label: str, field: FieldDescriptor, value: object, parent: Message) -> None:
        if isinstance(value, Message):
            self._line(depth, f"{label}: {self._style(value.DESCRIPTOR.name, 'bold')}")
            self.message(value, depth + 1)
        elif field.enum_type is not None:
            assert isinstance(value, int)  # an enum field holds its number
            member = field.enum_type.values_by_number.get(value)
            self._line(depth, f"{label}: {member.name if member else '?'} ({value})")
        elif isinstance(value, bytes):
            self._bytes(depth, label, field, value, parent)
        elif isinstance(value, str):
            self._line(depth, f"{label}: {json.dumps(value, ensure_ascii=False)}")
        else:
            self._line(depth, f"{label}: {value}")

    def _bytes(self, depth: int, label: str, field: FieldDescriptor, data: bytes, parent: Message) -> None:
        hook = _PAYLOAD_HOOKS.get((parent.DESCRIPTOR.name, field.name))
        note = ""
        if hook is not None:
            try:
                note, nested = hook(parent, data)
            except (RemoteProtocolError, DecodeError) as exc:
                self._line(depth, f"{label}: {len(data)} bytes, not decodable ({exc}): {_hex(data)}")
                return
            if isinstance(nested, Message):
                name = self._style(nested.DESCRIPTOR.name, "bold")
                self._line(depth, f"{label}: {len(data)} bytes{note} → {name}")
                self.message(nested, depth + 1)
                return
            if isinstance(nested, str):
                self._line(
                    depth, f"{label}: {len(data)} bytes{note} → {json.dumps(nested, ensure_ascii=False)}"
                )
                return
        self._raw(depth, label + note, data, 0)

    def _raw(self, depth: int, label: str, data: bytes, guesses: int) -> None:
        """Bytes of unknown meaning: text, a message (guessed), or hex."""
        if not data:
            self._line(depth, f'{label}: ""')
            return
        text = _text(data)
        if text is not None:
            self._line(depth, f"{label}: {json.dumps(text, ensure_ascii=False)}")
            return
        if guesses < _MAX_GUESS_DEPTH:
            try:
                guessed = UnknownFieldSet(empty_pb2.Empty.FromString(data))
            except DecodeError:
                guessed = None
            if guessed is not None and len(guessed):
                self._line(depth, f"{label}: {len(data)} bytes, a message?")
                self.unknown(guessed, depth + 1, guesses + 1)
                return
        self._line(depth, f"{label}: {_hex(data)}")

    def unknown(self, fields: UnknownFieldSet, depth: int, guesses: int = 0) -> None:
        """Fields the schema does not know, by number and wire type."""
        for i in range(len(fields)):
            field = fields[i]
            kind = _WIRE_TYPES.get(field.wire_type, str(field.wire_type))
            label = self._style(f"#{field.field_number}", "yellow") + f" {kind}"
            data = field.data
            if isinstance(data, bytes):
                self._raw(depth, label, data, guesses)
            elif isinstance(data, int):
                self._line(depth, f"{label}: {data}")
            else:  # a group: its own unknown field set
                self._line(depth, f"{label}:")
                self.unknown(data, depth + 1, guesses + 1)


def _frame_payload(frame: Message, data: bytes) -> tuple[str, Message | str | None]:
    assert isinstance(frame, pb.WebcastPushFrame)  # the hook's key says so
    payload = codec.frame_payload(frame)
    note = f", gzip ({len(payload)} inflated)" if payload != data else ""
    kind = frame.payload_type
    if kind == codec.PAYLOAD_TYPE_MSG:
        return note, codec.parse_fetch_result(payload)
    if kind == codec.PAYLOAD_TYPE_HEARTBEAT:
        return note, pb.HeartBeatMessage.FromString(payload)
    if kind == codec.PAYLOAD_TYPE_ENTER_ROOM:
        return note, pb.WebcastImEnterRoomMessage.FromString(payload)
    if kind == codec.PAYLOAD_TYPE_ACK:
        return note, payload.decode("utf-8", "replace")  # the acked frame's internal_ext
    return note, None


def _message_payload(envelope: Message, data: bytes) -> tuple[str, Message | str | None]:
    assert isinstance(envelope, pb.BaseProtoMessage)  # the hook's key says so
    cls = getattr(pb, envelope.method, None)
    if isinstance(cls, type) and issubclass(cls, Message) and envelope.method.startswith("Webcast"):
        return "", cls.FromString(data)
    return f" (no schema for {envelope.method!r})", None


_PAYLOAD_HOOKS: Final[Mapping[tuple[str, str], _Hook]] = {
    ("WebcastPushFrame", "payload"): _frame_payload,
    ("BaseProtoMessage", "payload"): _message_payload,
}
"""Bytes fields whose content the protocol names: (message type, field) → decoder."""


def _read(ns: argparse.Namespace) -> bytes:
    try:
        if ns.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(ns.file, "rb") as file:
                data = file.read()
    except OSError as exc:
        raise UsageError(f"cannot read {ns.file}: {exc.strerror or exc}") from None
    try:
        if ns.hex:
            return bytes.fromhex("".join(data.decode("ascii").split()))
        if ns.base64:
            return base64.b64decode(b"".join(data.split()), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise UsageError(f"{ns.file}: not {'hex' if ns.hex else 'base64'}: {exc}") from None
    return data


def decode(ns: argparse.Namespace) -> int:
    """``webcast decode [FILE|-] [--hex|--base64] [--as frame|fetch]``."""
    data = _read(ns)
    kind = detect(data) if ns.kind == "auto" else ns.kind
    tree = Tree(Style(use_color(ns.color, sys.stdout)))
    try:
        message: Message = codec.parse_push_frame(data) if kind == "frame" else codec.parse_fetch_result(data)
    except RemoteProtocolError as exc:
        what = "a push frame" if kind == "frame" else "a fetch body"
        sys.stderr.write(f"webcast: {ns.file}: not {what} ({len(data)} bytes): {exc.message}\n")
        return EXIT_FAILURE
    tree.root(message, len(data), gzip=codec.is_gzip(data))
    sys.stdout.write("\n".join(tree.lines) + "\n")
    return EXIT_OK
