"""The command's pieces in-process: terminal text, failure messages, option parsing, and the shaping
of a replay into the live client's events."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest
from cli_support import FIXTURE

from webcast_proto import (
    AgeRestricted,
    Disconnected,
    RateLimited,
    SignatureRequired,
    SignerError,
    UserNotFound,
    UserOffline,
    WebcastError,
    decode_fetch_response,
)
from webcast_proto import fixtures as fx
from webcast_proto.recording import (
    Direction,
    RecordingEnd,
    RecordingHeader,
    WireKind,
    WireRecord,
    read_recording,
)
from webcast_proto.server import ServerConnection
from webcast_transports import Reconnecting
from webcast_transports.cli import build_parser, main
from webcast_transports.cli._common import (
    Redactor,
    UsageError,
    client_options,
    describe_failure,
    load_endpoints,
)
from webcast_transports.cli._live import event_names
from webcast_transports.cli._output import (
    HumanPrinter,
    JsonPrinter,
    clean,
    display_width,
    fit,
    line_of,
    use_color,
)
from webcast_transports.cli._replay import LiveReplay

if TYPE_CHECKING:
    import argparse
    from pathlib import Path


# -- terminal text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("abc", 3),
        ("東京", 4),
        ("Zoë", 3),
        ("e\u0301", 1),
        ("🦋", 2),
        ("🎙\ufe0f", 2),
        ("✨\ufe0f", 2),
        ("", 0),
    ],
)
def test_display_width_counts_terminal_cells(text: str, width: int) -> None:
    """Wide characters take two cells, combining marks none, VS16 widens a narrow emoji."""
    assert display_width(text) == width


def test_fit_pads_and_cuts_by_cells() -> None:
    """``fit`` always returns exactly the width asked, cutting with an ellipsis."""
    assert fit("ab", 4) == "ab  "
    assert fit("東京タロウ", 6) == "東京… "
    assert display_width(fit("東京タロウ", 6)) == 6
    assert fit("abcdef", 4) == "abc…"


def test_clean_removes_what_could_take_over_a_terminal() -> None:
    """Newlines, escapes and bidi overrides from the peer become spaces; one line comes out."""
    assert clean("hi\nthere\x1b[2J\u202eevil\r") == "hi there [2J evil"
    assert clean("  a \t b ") == "a b"


def test_colour_follows_the_terminal_and_no_color() -> None:
    """auto: a terminal without NO_COLOR; always/never as said."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color("auto", Terminal(), {}) is True
    assert use_color("auto", Terminal(), {"NO_COLOR": "1"}) is False
    assert use_color("auto", Terminal(), {"NO_COLOR": ""}) is True
    assert use_color("auto", io.StringIO(), {}) is False
    assert use_color("always", io.StringIO(), {"NO_COLOR": "1"}) is True
    assert use_color("never", Terminal(), {}) is False


def test_every_event_of_a_busy_stream_has_a_line() -> None:
    """Each event class the client delivers is formatted (none falls back to its class name)."""
    server = ServerConnection(room_id=fx.DEFAULT_ROOM_ID)
    server.publish(fx.realistic_mix(300, seed=3))
    server.publish([fx.wrap(m) for m in (fx.control(1), fx.control(3), fx.link_mic_battle(), fx.envelope())])
    events = decode_fetch_response(server.fetch_response())
    events += [Reconnecting(reason="closed", code=1011, error="x"), Disconnected(reason="client")]
    kinds = {line_of(e).kind for e in events}
    assert not {type(e).__name__ for e in events} & kinds


def test_printers_write_one_line_per_event() -> None:
    """Human: aligned, with the room when asked; JSON: ``room`` then ``to_dict()``; ASCII escapes
    when the stream cannot hold UTF-8."""
    event = decode_fetch_response(_one_chat())[0]
    out = io.StringIO()
    HumanPrinter(out, color=False, show_room=True).print(event, room="alice", at=0)
    assert out.getvalue().count("\n") == 1
    assert "@alice" in out.getvalue()
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    printer = JsonPrinter(ascii_out)
    printer.print(event, room="alice")
    ascii_out.seek(0)
    line = ascii_out.buffer.getvalue().decode("ascii")
    assert json.loads(line)["comment"] == "Zoë 🦋"


def _one_chat() -> bytes:
    server = ServerConnection(room_id=fx.DEFAULT_ROOM_ID)
    server.publish([fx.wrap(fx.chat("Zoë 🦋"))])
    return server.fetch_response()


# -- failures and options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (UserOffline("x"), 3, "is offline"),
        (UserNotFound("x"), 4, "was not found"),
        (RateLimited("x", retry_after=12), 5, "rate limited — x (retry in 12 s)"),
        (SignatureRequired("x"), 6, "refused by the sign server"),
        (SignerError("x"), 6, "the sign server failed"),
        (AgeRestricted("x"), 7, "age-restricted"),
        (WebcastError("line one\nline two"), 1, "webcast: @u: line one line two"),
    ],
)
def test_each_failure_has_its_status_and_one_line(error: WebcastError, status: int, words: str) -> None:
    """The table of exit statuses; messages are one line."""
    got, message = describe_failure(error, "@u")
    assert got == status
    assert words in message
    assert "\n" not in message


def test_endpoints_files_are_checked(tmp_path: Path) -> None:
    """An endpoints file holds Endpoints fields; anything else is a UsageError saying what."""
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"web": "http://127.0.0.1:1", "push_server": "ws://127.0.0.1:1/push/"}))
    assert load_endpoints(str(path)).push_server == "ws://127.0.0.1:1/push/"
    for content, message in (
        ("[1]", "must hold a JSON object"),
        ("{", "is not JSON"),
        ('{"web": 5}', "e.json"),
    ):
        path.write_text(content)
        with pytest.raises(UsageError, match=message):
            load_endpoints(str(path))


def test_secrets_come_from_the_environment_and_stay_out_of_reprs() -> None:
    """Session id and API key are read from the named variables; the options' repr shows neither."""
    ns = main_parser_namespace("watch", "@a", "--session-id-env", "S", "--api-key-env", "K", "--polling")
    options = client_options(ns, {"S": " sess-secret ", "K": "key-secret"})
    assert options.session_id == "sess-secret"
    assert options.enable_websocket_upgrade is False
    assert "secret" not in repr(options) + repr(options.signer)
    with pytest.raises(UsageError, match="--api-key-env K"):
        client_options(ns, {"S": "s"})
    timeout = main_parser_namespace("watch", "@a", "--timeout", "0")
    with pytest.raises(UsageError, match="--timeout"):
        client_options(timeout, {})


def main_parser_namespace(*args: str) -> argparse.Namespace:
    return build_parser().parse_args(args)


def test_event_names_are_checked() -> None:
    """``--events`` takes the ``.on()`` names of printable events, deduplicated."""
    assert event_names("chat, gift,chat") == ("chat", "gift")
    assert "chat" in event_names(None)
    assert "rawData" not in event_names(None)
    for bad in ("error", "rawData", "messageEvent", ","):
        with pytest.raises(UsageError):
            event_names(bad)


def test_usage_errors_return_2_in_process(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``main()`` returns the status instead of exiting: a bad username, a bad speed."""
    assert main(["info", "a/b"]) == 2
    assert "not a TikTok username" in capsys.readouterr().err
    assert main(["replay", str(FIXTURE), "--speed", "0"]) == 2
    assert main(["demo", "--speed", "-1"]) == 2
    assert main(["watch", "@a", "@a"]) == 2
    assert "named twice" in capsys.readouterr().err


# -- replay as the client delivers ---------------------------------------------------------------


def _record(
    direction: Direction, kind: WireKind, at: float, data: bytes = b"", **extra: object
) -> WireRecord:
    return WireRecord(direction=direction, kind=kind, at=at, wall=at, data=data, **extra)  # type: ignore[arg-type]  # code/text


def test_losses_before_connected_are_silent_and_attempts_count() -> None:
    """A failed first fetch says nothing (it was ``connect()``'s to retry); after ``Connected`` a
    loss is a ``Reconnecting`` whose attempt grows while resumes fail."""
    server = ServerConnection(room_id=fx.DEFAULT_ROOM_ID)
    server.publish([fx.wrap(fx.chat("x"))])
    live = LiveReplay(RecordingHeader(room_id=fx.DEFAULT_ROOM_ID))
    out = []
    for record in (
        _record(Direction.OUT, WireKind.FETCH, 1.0),
        _record(Direction.IN, WireKind.FETCH_FAILED, 1.1, text="503"),
        _record(Direction.OUT, WireKind.FETCH, 2.0),
        _record(Direction.IN, WireKind.FETCH, 2.1, server.fetch_response()),
        _record(Direction.IN, WireKind.WS_CLOSE, 2.2, text="handshake refused"),  # upgrade failed
        _record(Direction.OUT, WireKind.FETCH, 3.0),
        _record(Direction.IN, WireKind.FETCH_FAILED, 3.1, text="429"),
        _record(Direction.OUT, WireKind.FETCH, 5.0),
    ):
        out += [event for _, event in live.feed(record)]
    reconnects = [e for e in out if isinstance(e, Reconnecting)]
    assert [(r.reason, r.attempt, r.delay, r.error) for r in reconnects] == [
        ("upgrade_failed", 2, 0.8, "handshake refused"),
        ("fetch_failed", 3, 1.9, "429"),
    ]
    final = live.finish(RecordingEnd(reason="closed", retryable=True, wall=9.0), 5.0)
    assert final == [(9.0, Disconnected(reason="closed", retryable=True))]
    assert live.finish(None, 5.0) == [(5.0, Disconnected(reason="end_of_recording", retryable=False))]


def test_the_fixture_replays_in_process_as_in_a_process() -> None:
    """``LiveReplay`` over the checked-in recording ends with the stream end and nothing after it."""
    recording = read_recording(FIXTURE.read_bytes())
    live = LiveReplay(recording.header)
    events = [e for r in recording.records for _, e in live.feed(r)]
    assert live.finish(recording.end, 0.0) == []
    assert events[-1] == Disconnected(reason="stream_end", retryable=False)


def test_the_redactor_hides_every_secret_in_text_and_logs() -> None:
    """Longest first, short values ignored; a log record's message and traceback are redacted."""
    import logging

    redact = Redactor(["sess-abcdef", "key-123456", None, "ab"])
    assert redact("a sess-abcdef and key-123456, ab") == "a <redacted> and <redacted>, ab"
    record = logging.LogRecord("webcast.x", logging.INFO, __file__, 1, "sid %s", ("sess-abcdef",), None)
    assert redact._redact_record(record)
    assert record.getMessage() == "sid <redacted>"
