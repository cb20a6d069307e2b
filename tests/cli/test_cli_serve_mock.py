"""``webcast serve-mock`` (issue 6, item 3): the mock server's process entry, serving a built-in
scenario or a recording to any client; it stops cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import re
import signal
from typing import TYPE_CHECKING

from cli_support import FIXTURE, endpoints_file, messages, run, start

from webcast_transports.cli import main

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

    import pytest


def _base_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.match(r"mock WebCast server on (http://127\.0\.0\.1:\d+)", first)
    assert match, first
    while "Ctrl-C to stop." not in process.stdout.readline():
        pass
    return match.group(1)


def _stop(process: subprocess.Popen[str], how: signal.Signals) -> int:
    process.send_signal(how)
    try:
        process.communicate(timeout=10)
    finally:
        process.kill()
        process.communicate()
    return process.returncode


def test_a_served_recording_gives_a_client_the_recorded_messages(tmp_path: Path) -> None:
    """Serve the checked-in recording, watch it: the recorded room, its messages in order, once."""
    server = start("serve-mock", "--scenario", str(FIXTURE), "--port", "0", "--speed", "4")
    try:
        base = _base_url(server)
        watched = run("watch", "@fixture.host", "--json", "--endpoints", endpoints_file(tmp_path, base))
    finally:
        status = _stop(server, signal.SIGTERM)
    assert status == 0
    assert watched.returncode == 0, watched.stderr
    replayed = run("replay", str(FIXTURE), "--json").json()
    # The mock's stream end is a control message of its own making (its own msg_id): all else is equal.
    assert messages(watched.json())[:-1] == messages(replayed)[:-1]
    assert watched.json()[0]["room_id"] == "7000000000000000042"


def test_a_built_in_scenario_by_name_and_ctrl_c(tmp_path: Path) -> None:
    """``--scenario lively`` serves ``@mock.host``; Ctrl-C stops the server with status 0."""
    server = start("serve-mock", "--scenario", "lively", "--port", "0", "--user", "alice")
    try:
        base = _base_url(server)
        info = run("info", "@alice", "--json", "--endpoints", endpoints_file(tmp_path, base))
    finally:
        status = _stop(server, signal.SIGINT)
    assert status == 0
    assert info.json()[0]["is_live"] is True


def test_an_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A name that is neither built in nor a file is refused with the known names."""
    assert main(["serve-mock", "--scenario", "no-such-scenario"]) == 2
    assert "neither a built-in scenario (flaky, lively, quiet) nor a readable file" in capsys.readouterr().err
