"""``webcast demo``, the README's first command: the mock server in-process plays ``lively`` and
the real client watches it (issue 6, item 1). Run through the console script, as the README does."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from cli_support import SCRIPT, run

from webcast_transports.cli import main
from webcast_transports.cli._live import DEMO_SPEED
from webcast_transports.mock import builtin_scenario

if TYPE_CHECKING:
    import pytest


def test_the_demo_takes_ten_to_twenty_seconds_at_its_default_speed() -> None:
    """Long enough to watch every kind of event go by, short enough to wait for."""
    assert 10 <= builtin_scenario("lively").duration / DEMO_SPEED <= 20


def test_the_demo_prints_the_stream_as_a_person_reads_it() -> None:
    """Header, every kind of event in aligned plain lines (piped: no colour), the end, a summary."""
    assert SCRIPT.exists(), "the README runs .venv/bin/webcast: the console script must be installed"
    done = run("demo", "--speed", "40")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert out.startswith("webcast demo: a mock TikTok LIVE server on http://127.0.0.1:")
    for text in (
        "connected",
        "Mia ✨",
        "hi everyone! 👋",
        "sent Rose ×5 (5 💎)",
        "followed the host",
        "shared the stream",
        "What game is this? 🎮",
        "watching",
        "battle open: The Host 🎙️ vs Rival 🔥",
        "subscribed",
        "treasure chest",
        "the stream ended (by the host)",
        "disconnected",
        "stream_end",
        "chat messages",
        "Next: `webcast watch @username`",
    ):
        assert text in out, f"{text!r} missing from the demo's output:\n{out}"
    assert "\x1b[" not in out
    events = [line for line in out.splitlines() if re.match(r"\d\d:\d\d:\d\d  ", line)]
    assert len(events) > 300
    kinds = {line.split()[1] for line in events}
    assert {
        "chat",
        "gift",
        "join",
        "like",
        "follow",
        "share",
        "viewers",
        "question",
        "battle",
        "armies",
    } <= kinds


def test_the_demo_in_colour_and_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """``--color always`` colours the columns; ``--json`` prints events only, one per line."""
    assert main(["demo", "--speed", "120", "--color", "always"]) == 0
    assert "\x1b[36mchat" in capsys.readouterr().out
    assert main(["demo", "--speed", "120", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["type"] == "Connected"
    assert events[-1] == {"room": "mock.host", "type": "Disconnected", "reason": "stream_end", "code": None,
                          "retryable": False}  # fmt: skip
