"""Every script in ``examples/`` runs against the mock server and prints what it promises.

Each runs in its own process (as a user would run it), against its own mock server playing the
``lively`` scenario sped up, so the stream ends within a few seconds and the example with it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from webcast_transports.mock import MockWebcastServer, Options, Room

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# (script, extra arguments, text the output must contain). "lively" at speed 40 lasts 1.5 s.
CASES = [
    ("chat.py", [], ["connected to room", "hi everyone! 👋", "joined", "the stream ended",
                     "disconnected (stream_end)"]),
    ("gifts.py", [], ["tokyo.taro sent 5 × Rose (1 diamonds each)", "top gifters:"]),
    ("room_info.py", [], ["'mock.host is LIVE', live", "host: mock.host (@mock.host)", "gifts, e.g.:"]),
    ("send_message.py", ["hello from the example", "--session-id", "example-session"],
     ["sent (server time", "the room shows it: You: hello from the example"]),
    ("trio_chat.py", [], ["Cześć z Polski", "the stream ended", "disconnected (stream_end)"]),
    ("blocking_chat.py", [], ["thanks for the stream! ❤️", "follow", "disconnected (stream_end)",
                              "done; room"]),
]  # fmt: skip


def test_every_example_is_tested() -> None:
    """No example is left out of this test."""
    assert {path.name for path in EXAMPLES.glob("*.py")} == {script for script, _, _ in CASES}


@pytest.mark.parametrize(("script", "arguments", "expected"), CASES, ids=[case[0] for case in CASES])
def test_example_runs_against_the_mock_server(script: str, arguments: list[str], expected: list[str]) -> None:
    """The example exits 0 and prints the expected lines."""
    room = Room("mock.host", scenario="lively")
    with MockWebcastServer([room], options=Options(speed=40, fetch_interval_ms=50)) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-X",
                "dev",
                str(EXAMPLES / script),
                "mock.host",
                *arguments,
                "--mock-url",
                server.base_url,
            ],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=30,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr  # nothing ignored on the way (-X dev shows it)
    assert "Warning" not in done.stderr, done.stderr
    for text in expected:
        assert text in done.stdout, f"{text!r} missing from:\n{done.stdout}\n{done.stderr}"
