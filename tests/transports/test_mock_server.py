"""The mock server's life: starting and stopping (sync, asyncio, trio), what it leaves behind, its
addresses and rooms, the records it keeps (secrets redacted), and the command line."""

from __future__ import annotations

import gc
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_mock_clients import WsClient, get, open_socket, post

from webcast_proto import codec, fixtures
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.config import Endpoints
from webcast_transports.mock import (
    ChatSent,
    Heartbeat,
    HttpRecord,
    MockWebcastServer,
    Options,
    Recorder,
    Room,
    RoomStatus,
    Scenario,
    WsClosed,
    WsOpened,
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _new_threads(before: set[threading.Thread]) -> list[str]:
    """Threads started since ``before``, except trio's own I/O thread (the anyio test runner drives
    trio in guest mode, which keeps one)."""
    return [t.name for t in set(threading.enumerate()) - before if not t.name.startswith("Trio thread")]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _exercise(server: MockWebcastServer) -> WsClient:
    """Some HTTP traffic and a push socket left open, for the server to clean up."""
    room = server.room()
    assert get(f"{server.base_url}/@{room.unique_id}/live").status == 200
    client = open_socket(server.base_url, room.room_id)
    room.push(fixtures.chat("hello"))
    client.wait_messages(1)
    return client


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts open files through /proc")
def test_stop_leaves_no_thread_and_no_socket() -> None:
    """After ``with`` ends, the server's thread is joined and every socket it opened is closed."""
    gc.collect()
    threads, fds = threading.active_count(), _open_fds()
    with MockWebcastServer([Room("alice", scenario="quiet")]) as server:
        assert threading.active_count() > threads
        client = _exercise(server)
    assert client.wait_closed().code == 1001  # the server said goodbye before closing
    client.close()
    assert threading.active_count() == threads
    gc.collect()
    assert _open_fds() == fds


@pytest.mark.anyio
@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts open files through /proc")
async def test_async_context_manager_under_asyncio_and_trio() -> None:
    """``async with`` starts and stops the server without blocking the caller's loop or leaking."""
    gc.collect()
    threads, fds = set(threading.enumerate()), _open_fds()
    async with MockWebcastServer([Room("alice", scenario="quiet")]) as server:
        assert "webcast-mock-server" in _new_threads(threads)
        reply = get(f"{server.base_url}/api-live/user/room/", params={"uniqueId": "alice"})
        assert reply.json()["statusCode"] == 0
    assert _new_threads(threads) == []
    gc.collect()
    assert _open_fds() == fds


def test_start_and_stop_without_context_manager() -> None:
    """``start()`` returns the running server; ``stop()`` is idempotent; a second start is refused."""
    server = MockWebcastServer([Room("alice", scenario="quiet")]).start()
    try:
        assert get(f"{server.base_url}/@alice/live").status == 200
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
    finally:
        server.stop()
    server.stop()
    with pytest.raises(RuntimeError, match="not running"):
        server.room("alice").push(fixtures.chat())


def test_port_zero_gives_distinct_free_ports_and_urls() -> None:
    """Two servers run side by side on their own ports; the URLs name them."""
    with MockWebcastServer(scenario="quiet") as one, MockWebcastServer(scenario="quiet") as two:
        assert one.port != two.port
        assert one.base_url == f"http://127.0.0.1:{one.port}"
        assert one.ws_url == f"ws://127.0.0.1:{one.port}/webcast/im/ws_proxy/ws_reuse_supplement/"


def test_busy_port_is_reported() -> None:
    """Binding a port that is taken raises OSError from start(), and nothing is left running."""
    with MockWebcastServer(scenario="quiet") as first:
        threads = threading.active_count()
        with pytest.raises(OSError, match="in use"), MockWebcastServer(scenario="quiet", port=first.port):
            pass  # pragma: no cover  # never reached
        assert threading.active_count() == threads


def test_endpoints_point_everything_at_the_server() -> None:
    """``endpoints()`` is an ``Endpoints`` whose website, WebCast API and sign server are this server."""
    with MockWebcastServer(scenario="quiet") as server:
        endpoints = server.endpoints()
    assert isinstance(endpoints, Endpoints)
    assert endpoints.web == server.base_url
    assert endpoints.sign_server == server.base_url
    assert endpoints.webcast == f"{server.base_url}/webcast"


def test_rooms_by_name_and_id() -> None:
    """Rooms are found by username (any case, with or without @) or room id; ids are stable."""
    rooms = [Room("alice", scenario="quiet"), Room("bob", room_id=7000000000000000123, scenario="quiet")]
    with MockWebcastServer(rooms) as server:
        assert server.room("@ALICE").room_id == Room("alice").room_id
        assert server.room(7000000000000000123).unique_id == "bob"
        assert [r.unique_id for r in server.rooms] == ["alice", "bob"]
        with pytest.raises(KeyError):
            server.room("carol")
        with pytest.raises(KeyError, match="several rooms"):
            server.room()
        assert repr(server.room("bob")) == "RoomHandle(@bob, room_id=7000000000000000123)"


def test_room_configuration_is_checked() -> None:
    """Bad room settings fail at construction, naming the setting."""
    with pytest.raises(ValueError, match="unique_id"):
        Room("")
    with pytest.raises(ValueError, match="room_id"):
        Room("x", room_id=2**63)
    with pytest.raises(ValueError, match="start"):
        Room("x", start="later")
    with pytest.raises(ValueError, match="live"):
        Room("x", status="sleeping")
    with pytest.raises(ValueError, match="duplicate"):
        MockWebcastServer([Room("a"), Room("A")])
    with pytest.raises(ValueError, match="unknown scenario"):
        MockWebcastServer(scenario="nope")
    with pytest.raises(ValueError, match="speed"):
        Options(speed=0)
    with pytest.raises(ValueError, match="stream_end_close_delay"):
        Options(stream_end_close_delay=-1)


def test_room_handle_controls_the_room() -> None:
    """A handle pushes messages, changes the status, starts the clock and lists the log."""
    with MockWebcastServer([Room("alice", scenario="quiet", start="manual")]) as server:
        room = server.room("alice")
        assert room.status.value == "live"
        assert room.scenario_name == "quiet"
        get(f"{server.base_url}/@alice/live")
        started = [room.is_started]  # manual: a request does not start it
        room.start()
        started.append(room.is_started)
        assert started == [False, True]
        room.push(fixtures.chat("one"), fixtures.wrap(fixtures.like()))
        assert [m.method for m in room.messages()] == ["WebcastChatMessage", "WebcastLikeMessage"]
        room.set_status("offline")
        assert room.status is RoomStatus.OFFLINE
        assert room.open_sockets == 0
        with pytest.raises(TypeError):
            room.push(object())


def test_messages_are_restamped_with_the_room_id() -> None:
    """A message built for another room carries this room's id once published (ids stay)."""
    with MockWebcastServer([Room("alice", scenario="quiet")]) as server:
        room = server.room("alice")
        room.push(fixtures.chat("hi", msg_id=42, room_id=1))
        (message,) = room.messages()
    assert message.msg_id == 42
    assert pb.WebcastChatMessage.FromString(message.payload).common.room_id == room.room_id


def test_requests_are_recorded_with_secrets_redacted_in_repr() -> None:
    """Every request is recorded whole (tests can read the session), but its repr hides secrets."""
    with MockWebcastServer([Room("alice", scenario="quiet")]) as server:
        room_id = str(server.room("alice").room_id)
        post(
            f"{server.base_url}/webcast/room/chat/",
            params={"room_id": room_id, "content": "hi there", "session_id": "qsecret"},
            headers={"Cookie": "sessionid=s3cr3t; tt-target-idc=useast1a", "X-Api-Key": "k3y"},
        )
        (request,) = server.recorder.of(HttpRecord)
        (chat,) = server.recorder.of(ChatSent)
    assert request.route == "room_chat"
    assert request.status == 200
    assert request.cookies == {"sessionid": "s3cr3t", "tt-target-idc": "useast1a"}
    assert request.param("content") == "hi there"
    assert request.header("X-API-KEY") == "k3y"
    assert request.room_id == int(room_id)
    assert chat.session_id == "s3cr3t"
    assert chat.content == "hi there"
    assert chat.accepted
    for text in (repr(request), repr(chat)):
        assert "s3cr3t" not in text
        assert "k3y" not in text
        assert "qsecret" not in text
        assert "<redacted>" in text
    assert "tt-target-idc=useast1a" in repr(request)


def test_secrets_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """The server logs every record at DEBUG under ``webcast.mock``, secrets redacted."""
    caplog.set_level("DEBUG", logger="webcast.mock")
    with MockWebcastServer([Room("alice", scenario="quiet")]) as server:
        post(
            f"{server.base_url}/webcast/room/chat/",
            params={"room_id": str(server.room("alice").room_id), "content": "x"},
            headers={"Cookie": "sessionid=s3cr3t"},
        )
    assert "room_chat" in caplog.text
    assert "s3cr3t" not in caplog.text


def test_recorder_waits_filters_and_bounds() -> None:
    """The recorder waits for records, filters them by type and room, and keeps the newest N."""
    recorder = Recorder(max_records=3)
    for i in range(5):
        recorder.add(WsClosed(at=float(i), room_id=i % 2))
    assert [r.at for r in recorder.all()] == [2.0, 3.0, 4.0]
    assert [r.at for r in recorder.of(WsClosed, room_id=1)] == [3.0]
    assert len(recorder.wait_for(WsClosed, count=3, timeout=0.1)) == 3
    with pytest.raises(TimeoutError, match="1 WsOpened"):
        recorder.wait_for(WsOpened, timeout=0.05)
    threading.Timer(0.05, recorder.add, [WsOpened(at=9.0, path="/")]).start()
    assert recorder.wait_for(WsOpened, where=lambda r: r.path == "/", timeout=2.0)[0].at == 9.0
    recorder.clear()
    assert recorder.all() == []


def test_socket_traffic_is_recorded() -> None:
    """Opening, client frames and closing of a push socket are all recorded, in order."""
    with MockWebcastServer([Room("alice", scenario="quiet")]) as server:
        room = server.room("alice")
        with open_socket(server.base_url, room.room_id) as client:
            client.send(codec.encode_enter_room(room.room_id))
            client.send(codec.encode_heartbeat(room.room_id, 1))
            server.recorder.wait_for(Heartbeat)
        server.recorder.wait_for(WsClosed)
        kinds = [type(r).__name__ for r in server.recorder.all()]
    assert kinds == ["HttpRecord", "HttpRecord", "WsOpened", "EnterRoom", "Heartbeat", "WsClosed"]


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_command_line_serves_until_interrupted(tmp_path: Path) -> None:
    """``python -m webcast_transports.mock`` prints the URLs and rooms, serves, and exits 0 on Ctrl-C."""
    scenario = tmp_path / "s.json"
    scenario.write_text(
        '{"name": "file", "rooms": [{"unique_id": "carol", "room_id": "7000000000000000777"}],'
        ' "history": [{"type": "chat", "comment": "from the file"}]}'
    )
    command = [sys.executable, "-m", "webcast_transports.mock", "--port", "0", "--scenario", str(scenario)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        banner = ""
        while "Ctrl-C" not in banner:
            line = process.stdout.readline()
            assert line, f"the server exited early: {process.stderr.read() if process.stderr else ''}"
            banner += line
        match = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
        assert match is not None
        base = match.group(0)
        assert "@carol" in banner
        assert "room_id=7000000000000000777" in banner
        assert f"ws://127.0.0.1:{match.group(1)}/webcast/im/ws_proxy/ws_reuse_supplement/" in banner
        result = get(f"{base}/webcast/im/fetch/", params={"room_id": "7000000000000000777"}).fetch_result()
        assert pb.WebcastChatMessage.FromString(result.messages[0].payload).content == "from the file"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_command_line_rejects_a_bad_scenario() -> None:
    """An unknown scenario name is an error (exit status 2) naming the built-in ones."""
    done = subprocess.run(
        [sys.executable, "-m", "webcast_transports.mock", "--scenario", "nope"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "lively" in done.stderr


def test_command_line_main_in_process() -> None:
    """``serve()`` runs the server for parsed arguments until told to stop (reused by ``serve-mock``)."""
    import io

    from webcast_transports.mock.__main__ import build_parser, serve

    stop = threading.Event()
    out = io.StringIO()
    ns = build_parser().parse_args(["--user", "dave", "--user", "erin", "--scenario", "quiet", "--start-now"])
    runner = threading.Thread(target=serve, args=(ns,), kwargs={"out": out, "stop": stop})
    runner.start()
    deadline = time.monotonic() + 10
    while "Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    runner.join(10)
    assert "@dave" in out.getvalue()
    assert "@erin" in out.getvalue()


def test_scenario_objects_are_plain_data() -> None:
    """A scenario sorts its steps by time and lists its messages, history first."""
    from webcast_transports.mock import EndStream, Send, Step

    chat = fixtures.wrap(fixtures.chat("late", msg_id=2))
    early = fixtures.wrap(fixtures.chat("early", msg_id=1))
    scenario = Scenario("s", [Step(2.0, Send([chat])), Step(1.0, EndStream())], history=[early])
    assert [s.at for s in scenario.steps] == [1.0, 2.0]
    assert scenario.duration == 2.0
    assert [m.msg_id for m in scenario.messages()] == [1, 2]
    assert Scenario("empty").duration == 0.0
