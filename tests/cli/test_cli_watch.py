"""``webcast watch``: live events of one room or many, as JSON Lines or aligned lines; one clear line
and a distinct exit status for each failure; Ctrl-C disconnects cleanly (issue 6, item 2)."""

from __future__ import annotations

import json
import signal
import time
from typing import TYPE_CHECKING

import pytest
from cli_support import endpoints_file, environment, messages, run, serve, start

from webcast_proto import fixtures as fx
from webcast_transports.cli import main
from webcast_transports.mock import EndStream, HttpFault, HttpRecord, Options, Room, Scenario, Step

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path


def test_two_rooms_as_json_lines(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Every line is a JSON object labelled with its room; each room's messages are its whole log,
    once each and in order, between ``Connected`` and the final ``StreamEnd``, ``Disconnected``."""
    server = serve(request, Room("alice", scenario="lively"), Room("bob", scenario="lively"))
    done = run("watch", "@alice", "bob", "--json", "--endpoints", endpoints_file(tmp_path, server))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    events = done.json()
    assert {e["room"] for e in events} == {"alice", "bob"}
    for name in ("alice", "bob"):
        mine = [e for e in events if e["room"] == name]
        assert mine[0] == {"room": name, "type": "Connected", "room_id": str(server.room(name).room_id)}
        assert [e["type"] for e in mine[-2:]] == ["StreamEnd", "Disconnected"]
        assert mine[-1]["reason"] == "stream_end"
        log = [str(m.msg_id) for m in server.room(name).messages()]
        assert [msg_id for _, msg_id in messages(mine)] == log
        assert all(e["room_id"] == str(server.room(name).room_id) for e in mine if "method" in e)


def test_human_lines_with_an_events_filter(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """``--events chat,gift`` prints only those, as aligned plain lines when piped."""
    server = serve(request, Room("alice", scenario="lively"))
    done = run("watch", "@alice", "--events", "chat,gift", "--endpoints", endpoints_file(tmp_path, server))
    assert done.returncode == 0, done.stderr
    lines = done.lines()
    assert lines
    assert {line.split()[1] for line in lines} == {"chat", "gift"}
    assert any("Mia ✨" in line and "hi everyone! 👋" in line for line in lines)
    assert any("sent Rose ×5 (5 💎)" in line for line in lines)
    assert "\x1b[" not in done.stdout
    starts = {len(line.split("  ")[0]) for line in lines}
    assert starts == {8}  # HH:MM:SS, then the columns


def test_several_rooms_get_a_room_column(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """With more than one room each human line names its room."""
    server = serve(request, Room("alice", scenario="lively"), Room("bob", scenario="lively"))
    done = run("watch", "@alice", "@bob", "--events", "chat", "--endpoints", endpoints_file(tmp_path, server))
    assert done.returncode == 0, done.stderr
    rooms = {line.split()[1] for line in done.lines()}
    assert rooms == {"@alice", "@bob"}


def _limited() -> Scenario:
    return Scenario("limited", [Step(0.0, HttpFault(status=429, path="/", count=50, retry_after=30))])


@pytest.mark.parametrize(
    ("user", "status", "message"),
    [
        ("offline.host", 3, "webcast: @offline.host is offline (not live now)"),
        ("ghost", 4, "webcast: @ghost was not found"),
        ("busy.host", 5, "webcast: @busy.host was refused: rate limited"),
        ("kid.host", 7, "webcast: @kid.host is age-restricted"),
    ],
    ids=["offline", "not-found", "rate-limited", "age-restricted"],
)
def test_failures_are_one_line_with_their_own_exit_status(
    request: pytest.FixtureRequest, tmp_path: Path, user: str, status: int, message: str
) -> None:
    """Offline 3, not found 4, rate limited 5, age-restricted 7: one line on stderr, nothing on stdout."""
    server = serve(
        request,
        Room("offline.host", status="offline"),
        Room("busy.host", scenario=_limited()),
        Room("kid.host", status="age_restricted"),
    )
    done = run("watch", f"@{user}", "--json", "--endpoints", endpoints_file(tmp_path, server))
    assert (done.returncode, done.stdout) == (status, "")
    assert done.stderr.startswith(message), done.stderr
    assert done.stderr.count("\n") == 1
    if user == "busy.host":
        assert "(retry in 30 s)" in done.stderr


def test_a_refusing_sign_server_is_exit_6_and_its_key_from_the_environment_works(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Without the sign server's API key the first fetch is refused (6); ``--api-key-env`` passes it,
    and the key is never printed."""
    short = Scenario("short", [Step(50.0, EndStream(action=3))], history=[fx.chat("hello")])  # 0.5 s
    rooms = Room("refused.host", scenario=short), Room("allowed.host", scenario=short)
    server = serve(request, *rooms, options=Options(api_key="k-123-secret", speed=100))
    endpoints = endpoints_file(tmp_path, server)
    refused = run("watch", "@refused.host", "--endpoints", endpoints)
    assert refused.returncode == 6
    assert refused.stderr.startswith("webcast: @refused.host was refused by the sign server")
    allowed = run(
        "watch", "@allowed.host", "--json", "--endpoints", endpoints, "--api-key-env", "MY_KEY",
        env=environment(MY_KEY="k-123-secret"),
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert [e["type"] for e in allowed.json()][-2:] == ["StreamEnd", "Disconnected"]
    assert "k-123-secret" not in allowed.stdout + allowed.stderr + refused.stdout + refused.stderr


def test_the_session_comes_from_the_environment_and_is_never_printed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``--session-id-env`` opens an age-restricted room; the session id appears in no output."""
    short = Scenario("short", [Step(50.0, EndStream(action=4))])  # 0.5 s at speed 100
    server = serve(request, Room("kid.host", status="age_restricted", scenario=short))
    endpoints = endpoints_file(tmp_path, server)
    done = run(
        "watch", "@kid.host", "--endpoints", endpoints, "--session-id-env", "SID", "-v",
        env=environment(SID="sess-7f3a9-secret"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "the stream ended (by TikTok)" in done.stdout
    assert "sess-7f3a9-secret" not in done.stdout + done.stderr
    sent = [r for r in server.recorder.of(HttpRecord) if r.cookies.get("sessionid") == "sess-7f3a9-secret"]
    assert sent


def test_one_failing_room_does_not_stop_the_others(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """``watch @a @offline``: a's events all come; the exit status is the failing room's."""
    server = serve(request, Room("alice", scenario="lively"), Room("offline.host", status="offline"))
    done = run("watch", "@alice", "@offline.host", "--json", "--endpoints", endpoints_file(tmp_path, server))
    assert done.returncode == 3
    assert done.stderr.startswith("webcast: @offline.host is offline")
    assert done.json()[-1]["type"] == "Disconnected"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--endpoints", "/nonexistent/endpoints.json"], "cannot read the endpoints file"),
        (["--events", "chat,dance"], "--events: unknown event names ['dance']"),
        (["--session-id-env", "WEBCAST_NO_SUCH_VARIABLE"], "that environment variable is not set"),
        (["--proxy", "ftp://proxy:21"], "proxy URL must start with http:// or socks5://"),
    ],
    ids=["endpoints", "events", "session-env", "proxy"],
)
def test_usage_mistakes_are_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistake on the command line is named, with status 2, before anything is contacted."""
    assert main(["watch", "@someone", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_endpoints_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown keys and bad URLs in ``--endpoints`` are named."""
    path = tmp_path / "endpoints.json"
    path.write_text(json.dumps({"web": "http://127.0.0.1:1", "websocket": "x"}))
    assert main(["info", "@someone", "--endpoints", str(path)]) == 2
    assert "unknown keys ['websocket']" in capsys.readouterr().err
    path.write_text(json.dumps({"web": "not a url"}))
    assert main(["info", "@someone", "--endpoints", str(path)]) == 2


def _read_until(process: subprocess.Popen[str], kind: str) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line, f"the process ended early: {process.stderr.read() if process.stderr else ''}"
        lines.append(line)
        if json.loads(line)["type"] == kind:
            return lines
    raise AssertionError(f"no {kind} line in time")


def test_ctrl_c_disconnects_cleanly(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """SIGINT while watching: the client disconnects, prints its final ``Disconnected`` (reason
    ``client``) and the command exits 0."""
    server = serve(request, Room("quiet.host", scenario="quiet"))
    process = start("watch", "@quiet.host", "--json", "--endpoints", endpoints_file(tmp_path, server))
    try:
        _read_until(process, "WebSocketConnected")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == 0, stderr
    assert json.loads(stdout.splitlines()[-1])["reason"] == "client"
    assert "Traceback" not in stderr
    assert server.room("quiet.host").open_sockets == 0


def test_ctrl_c_while_connecting_stops_at_once(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """SIGINT during a slow room lookup cancels it: exit 0 at once, nothing printed."""
    # 2000 s of scenario time is 20 s at the tests' speed of 100.
    slow = Scenario("slow", [Step(0.0, HttpFault(status=None, delay=2000.0, path="/@slow.host/live"))])
    server = serve(request, Room("slow.host", scenario=slow))
    process = start("watch", "@slow.host", "--endpoints", endpoints_file(tmp_path, server))
    try:
        deadline = time.monotonic() + 10
        while not server.room("slow.host").is_started and time.monotonic() < deadline:
            time.sleep(0.02)  # the first request naming the room started its clock: it is being answered
        time.sleep(0.2)
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
        took = time.monotonic() - began
    finally:
        process.kill()
        process.communicate()
    assert (process.returncode, stdout) == (0, ""), stderr
    assert "Traceback" not in stderr
    assert took < 5


def test_a_secret_quoted_back_by_the_server_is_redacted(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A server that quotes the session id in its error: the one-line message and the ``-v`` log
    show ``<redacted>`` instead (the command knows its secrets; the library may not)."""
    secret = "sess-9c1d-quoted-back"
    echo = Scenario(
        "echo", [Step(0.0, HttpFault(status=403, path="/", count=50, message=f"bad session {secret}"))]
    )
    server = serve(request, Room("leaky.host", scenario=echo))
    endpoints = endpoints_file(tmp_path, server)
    done = run(
        "watch", "@leaky.host", "-v", "--endpoints", endpoints, "--signer", "none", "--session-id-env", "SID",
        env=environment(SID=secret),
    )  # fmt: skip
    assert done.returncode == 1
    assert secret not in done.stdout + done.stderr
    assert "<redacted>" in done.stderr.splitlines()[-1]


def test_polling_gives_the_same_messages_without_a_socket(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``--polling``: im/fetch polls instead of the push WebSocket; the room's log, all of it, once."""
    server = serve(request, Room("alice", scenario="lively"))
    done = run("watch", "@alice", "--polling", "--json", "--endpoints", endpoints_file(tmp_path, server))
    assert done.returncode == 0, done.stderr
    events = done.json()
    assert "WebSocketConnected" not in {e["type"] for e in events}
    assert [msg_id for _, msg_id in messages(events)] == [
        str(m.msg_id) for m in server.room("alice").messages()
    ]
    assert server.room("alice").open_sockets == 0
