"""Running the ``webcast`` command as a user would: a process of its own, its output captured.

The console script of the environment is used when it exists (the README's ``.venv/bin/webcast``),
else ``python -m webcast_transports.cli``. Children run in Python's development mode, so a warning
or an unclosed resource shows up on stderr, which the tests check stays clean.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webcast_transports.mock import MockWebcastServer, Options

if TYPE_CHECKING:
    import pytest

    from webcast_transports.mock import Room

# Scenarios 100 times faster (``lively`` lasts 0.6 s), quick polls, and the whole history in a first
# fetch (a client that arrives late still gets every message).
FAST = Options(speed=100, fetch_interval_ms=50, initial_count=10_000)

DATA = Path(__file__).resolve().parent / "data"
FIXTURE = DATA / "short-session.jsonl"
SCRIPT = Path(sys.executable).parent / "webcast"

# Long enough for anything on loopback; only a hang reaches it.
TIMEOUT = 30.0


def command() -> list[str]:
    """How to start ``webcast``."""
    if SCRIPT.exists():
        return [str(SCRIPT)]
    return [sys.executable, "-m", "webcast_transports.cli"]  # pragma: no cover  # no console script


def environment(**extra: str) -> dict[str, str]:
    """The children's environment: ours, in development mode, without NO_COLOR, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PYTHONDEVMODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


@dataclass(frozen=True)
class Result:
    """A finished run."""

    returncode: int
    stdout: str
    stderr: str

    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def json(self) -> list[dict[str, Any]]:
        """stdout as JSON Lines (every line must parse)."""
        return [json.loads(line) for line in self.stdout.splitlines()]


def run(
    *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None, cwd: Path | None = None
) -> Result:
    """Run ``webcast *args`` to the end."""
    done = subprocess.run(
        [*command(), *args],
        input=stdin,
        capture_output=True,
        env=env or environment(),
        timeout=TIMEOUT,
        check=False,
        cwd=cwd,
    )
    result = Result(done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"))
    assert "Traceback" not in result.stderr, result.stderr
    assert not re.search(r"\b[A-Z]\w*Warning: ", result.stderr), result.stderr  # ResourceWarning: …
    return result


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``webcast *args`` in the background, its output readable line by line."""
    return subprocess.Popen(
        [*command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env or environment(),
        text=True,
        encoding="utf-8",
        bufsize=1,
    )


def endpoints_file(directory: Path, server: MockWebcastServer | str, **extra: str) -> str:
    """An ``--endpoints`` file pointing everything at a mock server (or a base URL)."""
    base = server if isinstance(server, str) else server.base_url
    path = directory / "endpoints.json"
    path.write_text(json.dumps({"web": base, "webcast": f"{base}/webcast", "sign_server": base, **extra}))
    return str(path)


def messages(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(type, msg_id)`` of the message events among JSON events."""
    return [(e["type"], e["msg_id"]) for e in events if "msg_id" in e and "method" in e]


def serve(request: pytest.FixtureRequest, *rooms: Room, options: Options | None = None) -> MockWebcastServer:
    """A mock server for the test (``FAST`` unless told otherwise), stopped when the test ends.

    A helper rather than a fixture: the command-line tests share no conftest with the others.
    """
    server = MockWebcastServer(list(rooms), options=options or FAST).start()
    request.addfinalizer(server.stop)
    return server
