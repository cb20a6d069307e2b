"""``webcast info`` and ``webcast gifts`` (issue 6, item 4): a room's info and gift list as a table
or JSON, without connecting; an offline room's info is shown, an unknown user is exit 4."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cli_support import endpoints_file, run, serve

from webcast_transports.mock import Room

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_info_as_json_and_as_a_table(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """JSON: the room id (a string), live, title, host; the table says the same to a person."""
    server = serve(
        request, Room("alice", nickname="Alice 🌸", title="Morning stream"), Room("bob", status="offline")
    )
    endpoints = endpoints_file(tmp_path, server)
    as_json = run("info", "@alice", "--json", "--endpoints", endpoints)
    assert as_json.returncode == 0, as_json.stderr
    (info,) = as_json.json()
    assert info["room_id"] == str(server.room("alice").room_id)
    assert (info["is_live"], info["status"], info["title"]) == (True, 2, "Morning stream")
    assert info["owner"]["nickname"] == "Alice 🌸"
    table = run("info", "@alice", "--endpoints", endpoints)
    assert table.returncode == 0
    rows = dict(line.split(None, 1) for line in table.lines())
    assert rows["status"] == "live"
    assert rows["room"] == str(server.room("alice").room_id)
    assert rows["host"] == "Alice 🌸 (@alice)"
    offline = run("info", "@bob", "--endpoints", endpoints)
    assert offline.returncode == 0
    assert "offline" in offline.stdout


def test_gifts_as_json_and_as_a_table(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The gift list, cheapest first: JSON objects with string ids, or a table with a count."""
    server = serve(request, Room("alice"))
    endpoints = endpoints_file(tmp_path, server)
    as_json = run("gifts", "@alice", "--json", "--endpoints", endpoints)
    assert as_json.returncode == 0, as_json.stderr
    gifts: list[dict[str, Any]] = json.loads(as_json.stdout)
    rose = next(g for g in gifts if g["name"] == "Rose")
    assert (rose["id"], rose["diamond_count"]) == ("5655", 1)
    assert [g["diamond_count"] for g in gifts] == sorted(g["diamond_count"] for g in gifts)
    table = run("gifts", "@alice", "--endpoints", endpoints)
    assert any(line.split()[:3] == ["5655", "Rose", "1"] for line in table.lines())
    assert table.lines()[-1] == f"{len(gifts)} gifts"


def test_an_unknown_user_is_exit_4(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Both commands fail like ``watch`` when the user does not exist."""
    server = serve(request, Room("alice"))
    endpoints = endpoints_file(tmp_path, server)
    for command in ("info", "gifts"):
        done = run(command, "@ghost", "--json", "--endpoints", endpoints)
        assert (done.returncode, done.stdout) == (4, "")
        assert done.stderr.startswith("webcast: @ghost was not found")
