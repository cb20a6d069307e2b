"""``webcast record`` and ``webcast replay`` (issue 6, item 3): a recording made against the mock
server replays into exactly the events that were printed live — by ``record`` itself and by a
``watch`` of the same room at the same time — and the recording checked in under ``data/`` replays
to its known events, including a dropped socket and its resume."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cli_support import FIXTURE, command, endpoints_file, environment, messages, run, serve, start

from webcast_proto.recording import read_recording
from webcast_transports.cli import main
from webcast_transports.mock import Room


def _until_socket(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line, "the process ended early"
        lines.append(line)
        if json.loads(line)["type"] == "WebSocketConnected":
            return lines
    raise AssertionError("no WebSocketConnected in time")


def _finish(process: subprocess.Popen[str], before: list[str]) -> tuple[list[dict[str, Any]], str]:
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    return [json.loads(line) for line in [*before, *stdout.splitlines()]], stderr


def _without_url(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The socket URL carries each client's own random device id; everything else is the room's.
    return [{k: v for k, v in e.items() if k != "url"} for e in events]


def test_a_recording_replays_into_exactly_what_was_printed_live(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """record --json and watch --json of one room at once; replay --json of the recording."""
    server = serve(request, Room("rec.host", scenario="lively", start="manual"))
    endpoints = endpoints_file(tmp_path, server)
    recording = tmp_path / "session.jsonl"
    recorder = start("record", "@rec.host", "-o", str(recording), "--json", "--endpoints", endpoints)
    watcher = start("watch", "@rec.host", "--json", "--endpoints", endpoints)
    try:
        recorded_start = _until_socket(recorder)
        watched_start = _until_socket(watcher)
        server.room("rec.host").start()  # both are on the socket: the stream begins for both alike
        recorded, recorder_err = _finish(recorder, recorded_start)
        watched, _ = _finish(watcher, watched_start)
    finally:
        for process in (recorder, watcher):
            process.kill()
            process.communicate()
    assert recorder_err.startswith("webcast: recorded ")
    replayed = run("replay", str(recording), "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.json() == recorded
    assert _without_url(watched) == _without_url(recorded)
    assert [e["type"] for e in recorded][-2:] == ["StreamEnd", "Disconnected"]
    assert [msg_id for _, msg_id in messages(recorded)] == [
        str(m.msg_id) for m in server.room("rec.host").messages()
    ]
    # Human output too: the same lines as a live human watch would print (times from the recording).
    human = run("replay", str(recording), "--color", "never")
    assert len(human.lines()) == len(recorded)


FIXTURE_TYPES = [
    "Connected", "LiveIntro", "Chat", "WebSocketConnected", "Member", "Chat", "Gift", "Gift", "Gift", "Gift",
    "Like", "Social", "UnknownMessage", "Reconnecting", "Connected", "Chat", "RoomUser", "QuestionNew",
    "WebSocketConnected", "Chat", "StreamEnd", "Disconnected",
]  # fmt: skip


def test_the_checked_in_recording_replays_to_its_known_events() -> None:
    """``data/short-session.jsonl``: history, socket, a 1011 close, the resume, back on the socket,
    the end; the unknown method is kept with its raw payload."""
    done = run("replay", str(FIXTURE), "--json")
    assert done.returncode == 0, done.stderr
    events = done.json()
    assert [e["type"] for e in events] == FIXTURE_TYPES
    assert {e["room"] for e in events} == {"fixture.host"}
    chats = [e["comment"] for e in events if e["type"] == "Chat"]
    assert chats == ["first!", "hi 👋", "back again", "on the socket again"]
    loss = events[FIXTURE_TYPES.index("Reconnecting")]
    assert (loss["reason"], loss["code"], loss["attempt"]) == ("closed", 1011, 1)
    assert 0 < loss["delay"] < 5
    unknown = events[FIXTURE_TYPES.index("UnknownMessage")]
    assert (unknown["method"], unknown["payload"]) == ("WebcastSomethingNewMessage", "CAESBWhlbGxv")
    gifts = [(e["repeat_count"], e["repeat_end"]) for e in events if e["type"] == "Gift"]
    assert gifts == [(1, False), (2, False), (3, False), (3, True)]
    assert read_recording(FIXTURE.read_bytes()).header.unique_id == "fixture.host"


def _replay_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["replay", *args, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_replay_filters_paces_and_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--events``, ``--speed`` and ``-`` for stdin give the same events, filtered or paced."""
    whole = _replay_json(capsys, str(FIXTURE))
    chats = _replay_json(capsys, str(FIXTURE), "--events", "chat")
    assert chats == [e for e in whole if e["type"] == "Chat"]
    assert len(chats) == 4
    began = time.monotonic()
    paced = _replay_json(capsys, str(FIXTURE), "--speed", "10")
    took = time.monotonic() - began
    recorded = read_recording(FIXTURE.read_bytes()).records
    assert took >= (recorded[-1].at - recorded[0].at) / 10
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FIXTURE.read_bytes())))
    piped = _replay_json(capsys, "-")
    assert piped == paced == whole


def test_human_replay_is_coloured_on_a_terminal_unless_no_color() -> None:
    """On a terminal the kinds are coloured; ``NO_COLOR`` turns that off (https://no-color.org)."""

    def on_a_terminal(**env: str) -> str:
        main, child = pty.openpty()
        try:
            process = subprocess.Popen(
                [*command(), "replay", str(FIXTURE)], stdout=child, stderr=child, env=environment(**env)
            )
            os.close(child)
            child = -1
            chunks = []
            while True:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the terminal closed with the process
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            assert process.wait(timeout=20) == 0
        finally:
            os.close(main)
            if child != -1:
                os.close(child)
        return b"".join(chunks).decode("utf-8")

    assert "\x1b[36mchat" in on_a_terminal()
    plain = on_a_terminal(NO_COLOR="1")
    assert "\x1b[" not in plain
    assert "back again" in plain


def test_a_truncated_or_foreign_file_is_reported(tmp_path: Path) -> None:
    """A cut-off recording replays up to the cut, then says so (exit 1); not a recording: exit 1;
    no such file: exit 2."""
    data = FIXTURE.read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: data.index(b"\n", len(data) // 2) + 20])
    done = run("replay", str(cut), "--json")
    assert done.returncode == 1
    assert "is cut off (truncated file?)" in done.stderr
    assert done.json()[0]["type"] == "Connected"


def test_a_foreign_or_missing_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not a recording: exit 1, saying so; no such file: exit 2."""
    assert main(["replay", str(FIXTURE.with_name("short-scenario.json"))]) == 1
    assert "not a webcast recording" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "nothing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_recording_that_never_began_leaves_no_file(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """``record`` of an unknown user fails like ``watch`` (4) and leaves no empty file behind."""
    server = serve(request, Room("someone"))
    target = tmp_path / "ghost.jsonl"
    done = run("record", "@ghost", "-o", str(target), "--endpoints", endpoints_file(tmp_path, server))
    assert done.returncode == 4
    assert not target.exists()


def test_an_unwritable_recording_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``-o`` somewhere that cannot be written: exit 2 before anything is contacted."""
    assert main(["record", "@someone", "-o", str(tmp_path / "no" / "such" / "dir.jsonl")]) == 2
    assert "cannot write" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux), where every write fails")
def test_a_recording_that_cannot_be_written_stops_with_one_line(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A full disk: the tap's write fails, the command says so, disconnects and exits 1 — and leaves
    a file it did not create alone."""
    server = serve(request, Room("full.host", scenario="quiet"))
    done = run("record", "@full.host", "-o", "/dev/full", "--endpoints", endpoints_file(tmp_path, server))
    assert done.returncode == 1
    assert done.stderr.startswith("webcast: cannot write /dev/full: ")
    assert Path("/dev/full").exists()
    assert server.room("full.host").open_sockets == 0
