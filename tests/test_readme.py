"""The README says what is true: its programs are example files the tests run, and its event
tables name every field of every event class (issue 6, item 6)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import webcast_proto
from webcast_proto import Event, MessageEvent
from webcast_transports._names import event_classes, event_name

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = ROOT / "examples"


def test_the_readme_runs_only_tested_code() -> None:
    """Every ```python block of the README is the text of an example file (``test_examples.py`` runs
    each against the mock server); a fragment that does not run on its own would be marked ```py."""
    programs = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    assert len(programs) >= 6
    sources = {path.name: path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.py")}
    for program in programs:
        homes = [name for name, source in sources.items() if program in source]
        assert homes, f"this README block is in no example file:\n{program}"


def _row(first_cell: str) -> str:
    match = re.search(rf"^\| {re.escape(first_cell)} \|.*$", README, flags=re.MULTILINE)
    assert match, f"no README table row for {first_cell}"
    return match.group(0)


PUBLIC_EVENTS = sorted(
    (cls for cls in event_classes() if cls.__module__.startswith(("webcast_proto.", "webcast_transports."))),
    key=lambda cls: cls.__name__,
)


def test_the_converters_private_mirror_classes_are_not_event_classes() -> None:
    """The builders' mirrors (``events._builder``) subclass the event bases but are no events."""
    names = {cls.__name__ for cls in event_classes()}
    assert {"Chat", "Gift", "Member", "Like"} <= names
    assert not [name for name in names if name.startswith("_")]


@pytest.mark.parametrize("cls", PUBLIC_EVENTS, ids=lambda cls: cls.__name__)
def test_the_event_table_names_every_field(cls: type[Event]) -> None:
    """Each event class has a row (by its ``.on()`` name, or its class name) listing each field of its own."""
    common = {f.name for f in dataclasses.fields(MessageEvent)}
    row = _row(f"`{event_name(cls)}`") if f"| `{event_name(cls)}` |" in README else _row(f"`{cls.__name__}`")
    own = [
        f.name for f in dataclasses.fields(cls) if not (issubclass(cls, MessageEvent) and f.name in common)
    ]
    for name in own:
        assert f"`{name}`" in row, f"{cls.__name__}.{name} is missing from the README's row: {row}"


def test_the_common_fields_and_the_value_objects_are_listed() -> None:
    """The fields every message event shares, and those of each object inside events."""
    for f in dataclasses.fields(MessageEvent):
        assert f"`{f.name}`" in README
    for name in ("User", "Badge", "UserIdentity", "GiftInfo", "TopViewer", "ChatEmote", "EmoteImage",
                 "BattleUser", "BattleResult", "BattleArmy", "ArmyParticipant"):  # fmt: skip
        cls = getattr(webcast_proto, name)
        row = _row(f"`{name}`")
        for f in dataclasses.fields(cls):
            assert f"`{f.name}`" in row, f"{name}.{f.name} is missing from the README"
