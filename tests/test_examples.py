"""Every script in ``examples/`` runs against the mock server and prints what it promises.

Each runs in its own process (as a user would run it), against its own mock server playing the
``lively`` scenario sped up, so the stream ends within a few seconds and the example with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from webcast_transports.mock import HttpRecord, MockWebcastServer, Options, Room

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# How a script is pointed at the mock server:
#   "mock-url": it takes `--mock-url URL` (the examples of docs/transports.md);
#   "injected": it is the README's code as a user would write it, with a bare `TikTokLiveClient(user)`;
#               the runner below gives every client the mock server's endpoints before it runs;
#   "offline":  it needs no server.
RUN_INJECTED = """
import functools, os, runpy, sys
import webcast_transports
from webcast_proto.config import Endpoints
endpoints = Endpoints.from_base_url(os.environ["WEBCAST_EXAMPLE_MOCK_URL"])
for cls in (webcast_transports.TikTokLiveClient, webcast_transports.SyncTikTokLiveClient):
    cls.__init__ = functools.partialmethod(cls.__init__, endpoints=endpoints)
script, *sys.argv = sys.argv[1:]
sys.argv.insert(0, script)
runpy.run_path(script, run_name="__main__")
"""


@dataclass(frozen=True)
class Case:
    script: str
    arguments: list[str]
    expected: list[str]
    how: str = "mock-url"
    rooms: tuple[str, ...] = ()  # more rooms than mock.host, all playing the same scenario


# "lively" at speed 40 lasts 1.5 s.
CASES = [
    Case("chat.py", [], ["connected to room", "hi everyone! 👋", "joined", "the stream ended",
                         "disconnected (stream_end)"]),
    Case("gifts.py", [], ["tokyo.taro sent 5 × Rose (1 diamonds each)", "top gifters:"]),
    Case("room_info.py", [], ["'mock.host is LIVE', live", "host: mock.host (@mock.host)", "gifts, e.g.:"]),
    Case("send_message.py", ["hello from the example", "--session-id", "example-session"],
         ["sent (server time", "the room shows it: You: hello from the example"]),
    Case("trio_chat.py", [], ["Cześć z Polski", "the stream ended", "disconnected (stream_end)"]),
    Case("blocking_chat.py", [], ["thanks for the stream! ❤️", "follow", "disconnected (stream_end)",
                                  "done; room"]),
    Case("custom_transport.py", [], ["Mia ✨: hi everyone! 👋", "東京タロウ sent 5 × Rose",
                                     "disconnected (stream_end)"]),
    Case("quickstart.py", [], ["Mia ✨: hi everyone! 👋", "東京タロウ sent 5 × Rose"], how="injected"),
    Case("quickstart_trio.py", [], ["Łukasz: Cześć z Polski 🇵🇱", "the stream ended"], how="injected"),
    Case("quickstart_blocking.py", [], ["Łukasz sent 5 likes", "done: room"], how="injected"),
    Case("custom_signer.py", [], ["Mia ✨: hi everyone! 👋"], how="injected"),
    Case("recording_fixture.py", [], ["the recording replays as expected"], how="offline"),
    Case("many_rooms.py", ["second.host", "mock.host"], ["watching 2 rooms",
         "mock.host: 109 chats, 76 joins, 632 likes, 182188 diamonds",
         "second.host: 109 chats, 76 joins, 632 likes, 182188 diamonds"], rooms=("second.host",)),
]  # fmt: skip


def test_every_example_is_tested() -> None:
    """No example is left out of this test."""
    assert {path.name for path in EXAMPLES.glob("*.py")} == {case.script for case in CASES}


def _command(case: Case, server: MockWebcastServer) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "WEBCAST_EXAMPLE_MOCK_URL": server.base_url, "SIGN_SERVER": server.base_url}
    script = str(EXAMPLES / case.script)
    if case.how == "mock-url":
        return [
            sys.executable,
            "-X",
            "dev",
            script,
            "mock.host",
            *case.arguments,
            "--mock-url",
            server.base_url,
        ], env
    if case.how == "injected":
        return [sys.executable, "-X", "dev", "-c", RUN_INJECTED, script, "mock.host", *case.arguments], env
    return [sys.executable, "-X", "dev", script, *case.arguments], env


@pytest.mark.parametrize("case", CASES, ids=[case.script for case in CASES])
def test_example_runs_against_the_mock_server(case: Case) -> None:
    """The example exits 0 and prints the expected lines."""
    rooms = [Room(name, scenario="lively") for name in ("mock.host", *case.rooms)]
    with MockWebcastServer(rooms, options=Options(speed=40, fetch_interval_ms=50)) as server:
        command, env = _command(case, server)
        done = subprocess.run(
            command, capture_output=True, text=True, encoding="utf-8", timeout=30, check=False, env=env
        )
        routes = {record.route for record in server.recorder.of(HttpRecord)}
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr  # nothing ignored on the way (-X dev shows it)
    assert "Warning" not in done.stderr, done.stderr
    for text in case.expected:
        assert text in done.stdout, f"{text!r} missing from:\n{done.stdout}\n{done.stderr}"
    if case.script == "custom_signer.py":
        assert "sign_url" in routes  # the first fetch was signed by the example's signer
