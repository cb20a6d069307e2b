"""The committed protobuf bindings are exactly what scripts/gen_proto.py produces from proto/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_committed_bindings_are_fresh() -> None:
    """Regenerating from proto/ with the pinned protoc changes nothing."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_bindings_use_the_upb_backend() -> None:
    """The hot path relies on upb, protobuf's C parser; the pure-Python fallback is ~20x slower."""
    from google.protobuf.internal import api_implementation

    assert api_implementation.Type() == "upb"


def _view_names() -> list[str]:
    from webcast_proto._pb import webcast_pb2 as pb

    return sorted(name for name in pb.DESCRIPTOR.message_types_by_name if name.endswith("View"))


def test_there_are_decoding_views() -> None:
    """The converters' views exist (the mirror test below would pass vacuously without them)."""
    assert "WebcastChatMessageView" in _view_names()
    assert len(_view_names()) == 9


@pytest.mark.parametrize("view_name", _view_names())
def test_each_decoding_view_mirrors_its_message(view_name: str) -> None:
    """A view has its message's fields, numbers, names and types, bar three changes that keep the wire
    format: a (singular) ``User`` field the converter reads is ``repeated bytes`` (each occurrence's
    raw bytes), so is the user's repeated ``badge_list`` (each badge's bytes), and a field of a
    message that has a view may be of that view."""
    from google.protobuf.descriptor import FieldDescriptor

    from webcast_proto._pb import webcast_pb2 as pb

    view = pb.DESCRIPTOR.message_types_by_name[view_name]
    message = pb.DESCRIPTOR.message_types_by_name[view_name.removesuffix("View")]
    assert sorted(view.fields_by_number) == sorted(message.fields_by_number)
    changed = 0
    for number, field in message.fields_by_number.items():
        mirror = view.fields_by_number[number]
        assert mirror.name == field.name
        if mirror.type == FieldDescriptor.TYPE_BYTES and field.type != FieldDescriptor.TYPE_BYTES:
            assert field.message_type is not None
            if view_name == "UserView":  # a repeated message as repeated bytes: element for element
                assert (field.name, field.message_type.name) == ("badge_list", "BadgeStruct")
                assert field.is_repeated
                assert mirror.is_repeated
                changed += 1
                continue
            assert field.message_type.name == "User"
            assert not field.is_repeated  # a repeated User as repeated bytes could not be told apart
            assert mirror.is_repeated
            changed += 1
        elif mirror.message_type is not None and mirror.message_type.name.endswith("View"):
            assert field.message_type is not None
            assert mirror.message_type.name == field.message_type.name + "View"
            assert mirror.is_repeated == field.is_repeated
            changed += 1
        else:
            assert (mirror.type, mirror.is_repeated) == (field.type, field.is_repeated)
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                # A map's entry type is nested in its message: the view has its own, of the same shape.
                assert mirror.message_type is not None
                assert mirror.message_type.GetOptions().map_entry
                shape = [(f.name, f.number, f.type) for f in field.message_type.fields]
                assert [(f.name, f.number, f.type) for f in mirror.message_type.fields] == shape
            elif field.message_type is not None:
                assert mirror.message_type is field.message_type
    assert changed > 0
