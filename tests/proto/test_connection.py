"""ClientConnection: the state table, every transition, every illegal call, deadlines (STYLE.md §4, §11).

Rules checked here, one per test: each table entry is reachable through the public API and lands where
the table says; each (state, input) pair outside the table is refused with LocalProtocolError naming
input, state and what the state accepts, leaving the state alone; each call a state does not accept is
refused the same way, naming the call; every state is reachable from IDLE; timers fire at exactly
their deadlines given a fake ``now`` (nothing sleeps).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from webcast_proto import codec
from webcast_proto import fixtures as fx
from webcast_proto._dedup import MessageDeduplicator
from webcast_proto._errors import HTTPError, LocalProtocolError, RemoteProtocolError, UserOffline
from webcast_proto._timers import HeartbeatSchedule, LivenessTimer, PollSchedule, poll_interval
from webcast_proto.config import Endpoints, Limits
from webcast_proto.connection import (
    CALL_INPUTS,
    DEFAULT_HEARTBEAT_INTERVAL,
    TRANSITIONS,
    ClientConnection,
    FetchOutcome,
    Input,
    PollAfter,
    State,
    UpgradeToWebSocket,
    allowed_calls,
)
from webcast_proto.convert import ConverterRegistry, default_registry
from webcast_proto.events import (
    Chat,
    Connected,
    Disconnected,
    Event,
    Gift,
    MessageEvent,
    ProtocolWarning,
    StreamEnd,
    UnknownMessage,
    WebSocketConnected,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from webcast_proto._pb import webcast_pb2 as pb

ROOM_ID = fx.DEFAULT_ROOM_ID
T0 = 1000.0


# --------------------------------------------------------------------------------------------
# Builders: bodies and frames via the fixtures and the codec
# --------------------------------------------------------------------------------------------


def body(
    messages: list[fx.WebcastMessage | pb.BaseProtoMessage] | None = None,
    *,
    push_server: str = fx.DEFAULT_PUSH_SERVER,
    cursor: str | None = None,
    **kwargs: Any,
) -> bytes:
    """An im/fetch body; offers the push server unless ``push_server=""``."""
    result = fx.fetch_result(
        [fx.chat()] if messages is None else messages, push_server=push_server, cursor=cursor, **kwargs
    )
    return codec.encode_fetch_result(result)


def poll_body(messages: list[fx.WebcastMessage | pb.BaseProtoMessage] | None = None, **kwargs: Any) -> bytes:
    return body(messages, push_server="", **kwargs)


def frame(messages: list[fx.WebcastMessage | pb.BaseProtoMessage] | None = None, **kwargs: Any) -> bytes:
    return fx.message_frame(fx.fetch_result([fx.chat()] if messages is None else messages, **kwargs))


def state_of(conn: ClientConnection) -> State:
    """The state, through a call so that mypy does not carry a narrowed literal across steps."""
    return conn.state


def new(**kwargs: Any) -> ClientConnection:
    return ClientConnection(room_id=ROOM_ID, **kwargs)


def fetching(**kwargs: Any) -> ClientConnection:
    conn = new(**kwargs)
    conn.start()
    return conn


def upgrading(**kwargs: Any) -> ClientConnection:
    conn = fetching(**kwargs)
    conn.receive_fetch_response(body(), T0)
    return conn


def streaming(**kwargs: Any) -> ClientConnection:
    conn = upgrading(**kwargs)
    conn.websocket_opened(T0)
    conn.data_to_send()
    return conn


def polling(**kwargs: Any) -> ClientConnection:
    conn = fetching(**kwargs)
    conn.receive_fetch_response(poll_body(), T0)
    return conn


def disconnected(**kwargs: Any) -> ClientConnection:
    conn = fetching(**kwargs)
    conn.fetch_failed(T0, RemoteProtocolError("down"))
    return conn


def ended(**kwargs: Any) -> ClientConnection:
    conn = fetching(**kwargs)
    conn.receive_fetch_response(poll_body([fx.control(action=3)]), T0)
    return conn


REACH: dict[State, Callable[[], ClientConnection]] = {
    State.IDLE: new,
    State.FETCHING: fetching,
    State.UPGRADING: upgrading,
    State.STREAMING: streaming,
    State.POLLING: polling,
    State.DISCONNECTED: disconnected,
    State.ENDED: ended,
}


def test_reach_builds_each_state() -> None:
    """The builders used below really reach the state they are named for."""
    assert {state: state_of(make()) for state, make in REACH.items()} == {s: s for s in State}


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def test_every_state_is_reachable_from_idle() -> None:
    """Following the table from IDLE reaches every state."""
    seen = {State.IDLE}
    frontier = [State.IDLE]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is state and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(State)


def test_ended_is_final_and_disconnected_resumes() -> None:
    """ENDED has no way out; DISCONNECTED only start()."""
    assert [i for (s, i) in TRANSITIONS if s is State.ENDED] == []
    assert [i for (s, i) in TRANSITIONS if s is State.DISCONNECTED] == [Input.START]
    assert allowed_calls(State.ENDED) == ()
    assert allowed_calls(State.DISCONNECTED) == ("start",)


def test_every_call_input_is_in_the_table() -> None:
    """Each public call names inputs the table uses, and every input appears in the table."""
    used = {i for (_, i) in TRANSITIONS}
    assert used == set(Input)
    assert {i for inputs in CALL_INPUTS.values() for i in inputs} <= used


def _trigger(conn: ClientConnection, input: Input) -> object:
    """Make ``input`` happen to ``conn`` through the public API."""
    state = conn.state
    match input:
        case Input.START:
            return conn.start()
        case Input.UPGRADE_OFFERED:
            return conn.receive_fetch_response(body(), T0)
        case Input.POLL_SCHEDULED:
            return conn.receive_fetch_response(poll_body(), T0 + 10)
        case Input.FETCH_FAILED:
            return conn.fetch_failed(T0, ConnectionError("reset"))
        case Input.WEBSOCKET_OPENED:
            return conn.websocket_opened(T0)
        case Input.FRAME_RECEIVED:
            return conn.receive_ws_message(frame(), T0 + 1)
        case Input.WEBSOCKET_CLOSED:
            return conn.websocket_closed(T0, code=1006)
        case Input.HEARTBEAT_DUE:
            return conn.tick(T0 + DEFAULT_HEARTBEAT_INTERVAL)
        case Input.POLL_DUE:
            return conn.tick(T0 + 1.0)
        case Input.TIMEOUT:
            return conn.tick(T0 + 60.0)
        case Input.STREAM_END if state is State.STREAMING:
            return conn.receive_ws_message(frame([fx.control(action=3)]), T0 + 1)
        case Input.STREAM_END:
            return conn.receive_fetch_response(poll_body([fx.control(action=4)]), T0)
        case Input.PEER_ERROR if state is State.STREAMING:
            with pytest.raises(RemoteProtocolError):
                conn.receive_ws_message(b"\xff garbage", T0 + 1)
            return None
        case Input.PEER_ERROR:
            with pytest.raises(RemoteProtocolError):
                conn.receive_fetch_response(b"\xff garbage", T0)
            return None
    raise AssertionError(input)  # pragma: no cover  # every input is matched above


@pytest.mark.parametrize(
    ("source", "input", "target"),
    [(s, i, t) for (s, i), t in TRANSITIONS.items()],
    ids=[f"{s.name}-{i.name}" for (s, i) in TRANSITIONS],
)
def test_every_transition(source: State, input: Input, target: State) -> None:
    """Each table entry happens through the public API and lands in the state the table names."""
    conn = REACH[source]()
    _trigger(conn, input)
    assert conn.state is target


ILLEGAL_PAIRS = [(s, i) for s in State for i in Input if (s, i) not in TRANSITIONS]


@pytest.mark.parametrize(
    ("state", "input"), ILLEGAL_PAIRS, ids=[f"{s.name}-{i.name}" for s, i in ILLEGAL_PAIRS]
)
def test_every_pair_outside_the_table_is_refused(state: State, input: Input) -> None:
    """_transition refuses a pair outside the table, naming input, state and what is allowed."""
    conn = REACH[state]()
    with pytest.raises(LocalProtocolError) as info:
        conn._transition(input)
    message = str(info.value)
    assert input.name in message
    assert f"in state {state.name}" in message
    assert "allowed: " in message
    assert conn.state is state


CALLS: dict[str, Callable[[ClientConnection], object]] = {
    "start": lambda c: c.start(),
    "receive_fetch_response": lambda c: c.receive_fetch_response(body(), T0),
    "fetch_failed": lambda c: c.fetch_failed(T0, ConnectionError()),
    "websocket_opened": lambda c: c.websocket_opened(T0),
    "receive_ws_message": lambda c: c.receive_ws_message(frame(), T0),
    "websocket_closed": lambda c: c.websocket_closed(T0),
}
ILLEGAL_CALLS = [(s, call) for s in State for call in CALLS if call not in allowed_calls(s)]


def test_calls_match_call_inputs() -> None:
    """The table-driven calls tested are exactly those of CALL_INPUTS."""
    assert set(CALLS) == set(CALL_INPUTS)


@pytest.mark.parametrize(("state", "call"), ILLEGAL_CALLS, ids=[f"{s.name}-{c}" for s, c in ILLEGAL_CALLS])
def test_every_illegal_call_is_refused_and_changes_nothing(state: State, call: str) -> None:
    """A call the state does not accept raises LocalProtocolError naming call, state and the allowed
    calls; state, cursor and queued bytes are unchanged."""
    conn = REACH[state]()
    before = (conn.state, conn.cursor, conn.internal_ext, conn.next_deadline())
    with pytest.raises(LocalProtocolError) as info:
        CALLS[call](conn)
    allowed = ", ".join(f"{c}()" for c in allowed_calls(state)) or "nothing"
    assert str(info.value) == f"{call}() in state {state.name}; allowed: {allowed}"
    assert (conn.state, conn.cursor, conn.internal_ext, conn.next_deadline()) == before
    assert conn.data_to_send() == []


def test_illegal_call_message_example() -> None:
    """The message reads like STYLE.md §4's example."""
    with pytest.raises(LocalProtocolError, match=r"^websocket_opened\(\) in state POLLING; allowed: "):
        polling().websocket_opened(T0)


@pytest.mark.parametrize("state", list(State))
def test_queries_are_legal_in_every_state(state: State) -> None:
    """tick, next_deadline, data_to_send and request_to_send never raise for the state."""
    conn = REACH[state]()
    conn.next_deadline()
    conn.tick(T0 + 0.5)
    conn.data_to_send()
    conn.request_to_send()
    assert conn.state is state


# --------------------------------------------------------------------------------------------
# Fetch responses and instructions (SPEC.md §1.5-§1.7, §5)
# --------------------------------------------------------------------------------------------


def test_start_returns_the_fetch_request() -> None:
    """start() describes the im/fetch request for the room; cookies go along."""
    request = new(cookies={"ttwid": "abc"}).start()
    assert request.method == "GET"
    assert "/webcast/im/fetch/" in request.url
    assert f"room_id={ROOM_ID}" in request.url
    assert "ttwid=abc" in (request.header("Cookie") or "")


def test_first_fetch_connects_and_upgrades() -> None:
    """The first fetch gives Connected, the initial data, and UpgradeToWebSocket for the offered push
    server with the result's cursor, route params and internal_ext (SPEC.md §1.6, §2.5)."""
    conn = fetching()
    chat = fx.chat(msg_id=11)
    events, instruction = conn.receive_fetch_response(
        body([chat], cursor="t-1_r-1", internal_ext="ie", route_params={"imprp": "P"}), T0
    )
    assert [type(e) for e in events] == [Connected, Chat]
    assert events[0] == Connected(room_id=ROOM_ID)
    assert isinstance(instruction, UpgradeToWebSocket)
    assert instruction.url.startswith(fx.DEFAULT_PUSH_SERVER + "?")
    for part in ("cursor=t-1_r-1", "internal_ext=ie", "imprp=P", f"room_id={ROOM_ID}"):
        assert part in instruction.url
    assert dict(instruction.headers)["User-Agent"]
    assert (conn.cursor, conn.internal_ext) == ("t-1_r-1", "ie")
    assert conn.next_deadline() is None


def test_endpoints_push_server_override() -> None:
    """Endpoints.push_server replaces the offered push server (e.g. a loopback mock)."""
    conn = fetching(endpoints=Endpoints(push_server="ws://127.0.0.1:9/ws"))
    outcome = conn.receive_fetch_response(body(), T0)
    assert isinstance(outcome, FetchOutcome)
    assert isinstance(outcome.instruction, UpgradeToWebSocket)
    assert outcome.instruction.url.startswith("ws://127.0.0.1:9/ws?")


@pytest.mark.parametrize(
    ("options", "push_server"),
    [({}, ""), ({"enable_websocket_upgrade": False}, fx.DEFAULT_PUSH_SERVER)],
    ids=["no-push-server", "upgrade-disabled"],
)
def test_first_fetch_polls_without_upgrade(options: dict[str, Any], push_server: str) -> None:
    """No push server offered, or upgrading off: PollAfter and POLLING (SPEC.md §1.7)."""
    conn = fetching(**options)
    _, instruction = conn.receive_fetch_response(body(push_server=push_server), T0)
    assert instruction == PollAfter(seconds=1.0)
    assert conn.state is State.POLLING
    assert conn.next_deadline() == T0 + 1.0


@pytest.mark.parametrize(
    ("fetch_interval", "configured_ms", "seconds"),
    [(1000, 1000, 1.0), (3000, 1000, 3.0), (500, 2000, 2.0), (0, 1500, 1.5)],
)
def test_poll_interval_honours_server_and_configuration(
    fetch_interval: int, configured_ms: int, seconds: float
) -> None:
    """The poll waits for the longer of the result's fetch_interval and request_polling_interval_ms."""
    conn = fetching(request_polling_interval_ms=configured_ms)
    _, instruction = conn.receive_fetch_response(poll_body(fetch_interval=fetch_interval), T0)
    assert instruction == PollAfter(seconds=seconds)
    assert (
        poll_interval(fetch_interval_ms=fetch_interval, request_polling_interval_ms=configured_ms) == seconds
    )


def test_missing_cursor_in_first_fetch_is_a_remote_error() -> None:
    """SPEC.md §1.5: a first fetch without cursor raises RemoteProtocolError and disconnects; nothing
    of it is kept, so the resume starts over."""
    conn = fetching()
    with pytest.raises(RemoteProtocolError, match="Missing cursor in initial fetch response"):
        conn.receive_fetch_response(body([fx.chat()], cursor="", internal_ext="ie"), T0)
    assert conn.state is State.DISCONNECTED
    assert (conn.cursor, conn.internal_ext) == ("", "")


def test_poll_without_cursor_warns_and_keeps_polling() -> None:
    """SPEC.md §5: a poll without cursor is reported (ProtocolWarning), the last cursor is kept, and
    empty values never overwrite kept ones."""
    conn = polling()
    cursor, internal_ext = conn.cursor, conn.internal_ext
    events, instruction = conn.receive_fetch_response(poll_body([], cursor="", internal_ext=""), T0 + 1)
    assert [type(e) for e in events] == [ProtocolWarning]
    assert isinstance(instruction, PollAfter)
    assert (conn.cursor, conn.internal_ext) == (cursor, internal_ext)
    assert conn.state is State.POLLING


def test_garbage_push_server_is_a_remote_error_and_loses_nothing() -> None:
    """An unusable push_server raises RemoteProtocolError before any message is consumed: the resume
    fetch delivers the same messages."""
    conn = fetching()
    bad = body([fx.chat(msg_id=5)], push_server="https://not-a-websocket", cursor="c1")
    with pytest.raises(RemoteProtocolError, match="push_server"):
        conn.receive_fetch_response(bad, T0)
    assert conn.state is State.DISCONNECTED
    assert conn.cursor == ""
    conn.start()
    events, _ = conn.receive_fetch_response(body([fx.chat(msg_id=5)]), T0)
    assert [e.msg_id for e in events if isinstance(e, MessageEvent)] == [5]


def test_stream_end_in_a_poll_ends_the_session() -> None:
    """A stream end in a poll gives StreamEnd and Disconnected("stream_end"), no instruction, ENDED."""
    conn = polling()
    events, instruction = conn.receive_fetch_response(poll_body([fx.control(action=3), fx.chat()]), T0)
    assert instruction is None
    assert [type(e) for e in events] == [StreamEnd, Disconnected]
    assert events[-1] == Disconnected(reason="stream_end", retryable=False)
    assert conn.state is State.ENDED
    assert conn.next_deadline() is None


@pytest.mark.parametrize(
    ("error", "retryable"),
    [(ConnectionError("reset"), True), (UserOffline("offline"), True), (HTTPError("403"), False)],
)
def test_fetch_failed_reports_retryability(error: BaseException, retryable: bool) -> None:
    """fetch_failed passes a WebcastError's retryable on; other errors count as retryable."""
    assert fetching().fetch_failed(T0, error) == [Disconnected(reason="fetch_failed", retryable=retryable)]


def test_connected_is_emitted_after_every_successful_start() -> None:
    """Each start() that succeeds gives one Connected: the lifecycle reads Connected … Disconnected …
    Connected."""
    conn = disconnected()
    conn.start()
    events, _ = conn.receive_fetch_response(poll_body([]), T0)
    assert events == [Connected(room_id=ROOM_ID)]


# --------------------------------------------------------------------------------------------
# The socket (SPEC.md §4)
# --------------------------------------------------------------------------------------------


def test_websocket_opened_queues_enter_room() -> None:
    """websocket_opened() queues one enter-room for the room (SPEC.md §4.5) and reports the URL."""
    conn = upgrading()
    [event] = conn.websocket_opened(T0, enter_unique_id=42)
    assert isinstance(event, WebSocketConnected)
    assert event.url.startswith(fx.DEFAULT_PUSH_SERVER)
    [data] = conn.data_to_send()
    sent = codec.parse_push_frame(data)
    assert sent.payload_type == codec.PAYLOAD_TYPE_ENTER_ROOM
    enter = codec.parse_enter_room(sent.payload)
    assert (enter.room_id, enter.enter_unique_id) == (ROOM_ID, 42)
    assert conn.data_to_send() == []


def test_every_frame_that_asks_is_acked() -> None:
    """SPEC.md §4.3: need_ack → an ack with the frame's log_id and the result's internal_ext."""
    conn = streaming()
    data = fx.message_frame(
        fx.fetch_result([fx.chat()], internal_ext="internal_src:dim|seq:1"), log_id=123456789
    )
    conn.receive_ws_message(data, T0 + 1)
    [ack] = conn.data_to_send()
    sent = codec.parse_push_frame(ack)
    assert (sent.payload_type, sent.log_id) == (codec.PAYLOAD_TYPE_ACK, 123456789)
    assert codec.parse_ack(sent.payload) == "internal_src:dim|seq:1"


def test_frames_not_asking_are_not_acked() -> None:
    """need_ack false → no ack."""
    conn = streaming()
    conn.receive_ws_message(frame(need_ack=False), T0 + 1)
    assert conn.data_to_send() == []


def test_frame_headers_stand_in_for_empty_result_fields() -> None:
    """SPEC.md §4.2: im-cursor / im-internal_ext headers are used when the result leaves them empty."""
    conn = streaming()
    result = fx.fetch_result([fx.chat()], cursor="", internal_ext="")
    data = codec.encode_push_frame(
        payload_type=codec.PAYLOAD_TYPE_MSG,
        payload=codec.gzip_compress(codec.encode_fetch_result(result)),
        log_id=7,
        headers=((codec.HEADER_IM_CURSOR, "hc"), (codec.HEADER_IM_INTERNAL_EXT, "hie")),
    )
    conn.receive_ws_message(data, T0 + 1)
    assert (conn.cursor, conn.internal_ext) == ("hc", "hie")
    [ack] = conn.data_to_send()
    assert codec.parse_ack(codec.parse_push_frame(ack).payload) == "hie"


@pytest.mark.parametrize(
    "payload_type",
    [codec.PAYLOAD_TYPE_HEARTBEAT, codec.PAYLOAD_TYPE_ENTER_ROOM_RESP, codec.PAYLOAD_TYPE_CLOSE],
)
def test_quiet_frames_only_count_as_life(payload_type: str) -> None:
    """hb, im_enter_room_resp and close frames give no events (SPEC.md §4.1) but reset the liveness."""
    conn = streaming(liveness_timeout=30.0)
    assert conn.receive_ws_message(fx.push_frame(payload_type), T0 + 20) == []
    assert conn.tick(T0 + 40) == []
    assert conn.state is State.STREAMING


def test_unknown_frame_type_is_a_warning() -> None:
    """An unknown payload_type is the server's business: a ProtocolWarning, nothing more."""
    conn = streaming()
    [warning] = conn.receive_ws_message(fx.push_frame("mystery"), T0 + 1)
    assert isinstance(warning, ProtocolWarning)
    assert "mystery" in warning.message
    assert conn.state is State.STREAMING


def test_stream_end_on_the_socket() -> None:
    """A stream end ends the session: StreamEnd, Disconnected; later messages of the frame are dropped,
    the frame is still acked, and nothing more is accepted (SPEC.md §1.9)."""
    conn = streaming()
    events = conn.receive_ws_message(frame([fx.chat(), fx.control(action=3), fx.chat()]), T0 + 1)
    assert [type(e) for e in events] == [Chat, StreamEnd, Disconnected]
    assert conn.state is State.ENDED
    [ack] = conn.data_to_send()
    assert codec.parse_push_frame(ack).payload_type == codec.PAYLOAD_TYPE_ACK
    assert conn.next_deadline() is None
    assert conn.tick(T0 + 1000) == []


def test_websocket_closed_reports_code_and_drops_unsent_bytes() -> None:
    """websocket_closed(code) → Disconnected("closed", code); bytes for the dead socket are dropped."""
    conn = streaming()
    conn.receive_ws_message(frame(), T0 + 1)  # queues an ack, not drained
    assert conn.websocket_closed(T0 + 2, code=1001) == [Disconnected(reason="closed", code=1001)]
    assert conn.data_to_send() == []
    assert conn.heartbeat_interval is None


def test_control_messages_that_do_not_end_are_just_events() -> None:
    """A pause (action 1) is a Control event; the session goes on."""
    conn = streaming()
    [event] = conn.receive_ws_message(frame([fx.control(action=1)]), T0 + 1)
    assert type(event).__name__ == "Control"
    assert conn.state is State.STREAMING


# --------------------------------------------------------------------------------------------
# Dedup, registry, wanted methods
# --------------------------------------------------------------------------------------------


def test_duplicates_are_dropped_across_fetch_and_socket() -> None:
    """A msg_id seen in the initial data is not delivered again by the socket, nor twice in a frame."""
    conn = fetching()
    conn.receive_fetch_response(body([fx.chat(msg_id=1), fx.chat(msg_id=2)]), T0)
    conn.websocket_opened(T0)
    events = conn.receive_ws_message(frame([fx.chat(msg_id=2), fx.chat(msg_id=3), fx.chat(msg_id=3)]), T0 + 1)
    assert [e.msg_id for e in events if isinstance(e, MessageEvent)] == [3]


def test_dedup_window_is_bounded_by_limits() -> None:
    """Only the last max_dedup_window ids are remembered (bounded memory)."""
    conn = fetching(limits=Limits(max_dedup_window=2))
    conn.receive_fetch_response(body([fx.chat(msg_id=i) for i in (1, 2, 3)]), T0)
    conn.websocket_opened(T0)
    events = conn.receive_ws_message(frame([fx.chat(msg_id=i) for i in (3, 2, 1)]), T0 + 1)
    assert [e.msg_id for e in events if isinstance(e, MessageEvent)] == [1]


def test_deduplicator() -> None:
    """The window: new ids pass, repeats don't, id 0 always passes and is never stored, oldest goes first."""
    dedup = MessageDeduplicator(2)
    assert (dedup.capacity, len(dedup)) == (2, 0)
    assert dedup.add(1)
    assert dedup.add(2)
    assert not dedup.add(1)  # refreshed: 2 is now the oldest
    assert dedup.add(3)
    assert 2 not in dedup
    assert 1 in dedup
    assert dedup.add(0)
    assert dedup.add(0)
    assert len(dedup) == 2
    with pytest.raises(ValueError, match="capacity"):
        MessageDeduplicator(0)


def test_the_given_registry_converts() -> None:
    """Conversion goes through the connection's own registry."""
    registry = default_registry()
    registry.unregister("WebcastChatMessage")
    conn = polling(registry=registry)
    events, _ = conn.receive_fetch_response(poll_body([fx.chat()]), T0 + 1)
    assert [type(e) for e in events] == [UnknownMessage]


def test_unwanted_methods_are_skipped_before_parsing() -> None:
    """With wanted_methods, other messages never reach a converter; control messages always do."""
    calls: list[str] = []
    registry = default_registry()

    def spy(message: pb.BaseProtoMessage) -> Event:
        calls.append(message.method)
        return default_registry().convert(message)

    for method in ("WebcastChatMessage", "WebcastGiftMessage", "WebcastControlMessage"):
        registry.register(method, spy)
    conn = polling(registry=registry, wanted_methods={"WebcastGiftMessage"})
    events, _ = conn.receive_fetch_response(poll_body([fx.chat(), fx.gift(), fx.control(action=3)]), T0 + 1)
    assert calls == ["WebcastGiftMessage", "WebcastControlMessage"]
    assert [type(e) for e in events] == [Gift, StreamEnd, Disconnected]


def test_wanted_methods_can_change_while_connected() -> None:
    """set_wanted_methods applies from the next message on: widened, narrowed, or back to all."""
    conn = polling(wanted_methods={"WebcastGiftMessage"})
    events, _ = conn.receive_fetch_response(poll_body([fx.chat(), fx.gift()]), T0 + 1)
    assert [type(e) for e in events] == [Gift]
    conn.set_wanted_methods({"WebcastChatMessage"})
    conn.tick(T0 + 10)
    assert conn.request_to_send() is not None
    events, _ = conn.receive_fetch_response(poll_body([fx.chat(), fx.gift()]), T0 + 10)
    assert [type(e) for e in events] == [Chat]
    conn.set_wanted_methods(None)
    conn.tick(T0 + 20)
    assert conn.request_to_send() is not None
    events, _ = conn.receive_fetch_response(poll_body([fx.chat(), fx.gift()]), T0 + 20)
    assert [type(e) for e in events] == [Chat, Gift]


def test_unwanted_messages_are_not_remembered() -> None:
    """A message dropped as unwanted was never delivered: seen again once wanted, it is delivered
    (once); the dedup window holds only what was delivered."""
    conn = polling(wanted_methods={"WebcastGiftMessage"})
    chat, gift = fx.chat(msg_id=501), fx.gift(msg_id=502)
    events, _ = conn.receive_fetch_response(poll_body([chat, gift]), T0 + 1)
    assert [e.msg_id for e in events if isinstance(e, MessageEvent)] == [502]
    conn.set_wanted_methods(None)
    for now in (T0 + 10, T0 + 20):
        conn.tick(now)
        assert conn.request_to_send() is not None
        events, _ = conn.receive_fetch_response(poll_body([chat, gift]), now)
        assert [e.msg_id for e in events if isinstance(e, MessageEvent)] == ([501] if now == T0 + 10 else [])


def test_registry_is_per_connection() -> None:
    """Without a registry argument each connection gets a fresh default one."""
    assert isinstance(new()._sieve._registry, ConverterRegistry)
    assert new()._sieve._registry is not new()._sieve._registry


# --------------------------------------------------------------------------------------------
# Deadlines (fake now, never sleep)
# --------------------------------------------------------------------------------------------


def _heartbeat_seqs(conn: ClientConnection) -> list[int]:
    return [
        codec.parse_heartbeat(codec.parse_push_frame(d).payload).send_packet_seq_id
        for d in conn.data_to_send()
    ]


def test_heartbeats_fall_due_at_the_interval() -> None:
    """A heartbeat is due every interval after the socket opened; tick() before it does nothing."""
    conn = streaming(liveness_timeout=None)
    interval = DEFAULT_HEARTBEAT_INTERVAL
    assert conn.heartbeat_interval == interval
    assert conn.next_deadline() == T0 + interval
    assert conn.tick(T0 + interval - 0.001) == []
    assert conn.data_to_send() == []
    assert conn.tick(T0 + interval) == []
    assert _heartbeat_seqs(conn) == [1]
    assert conn.next_deadline() == T0 + 2 * interval
    conn.tick(T0 + 2 * interval + 0.2)  # a little late: the cadence is kept
    assert conn.next_deadline() == T0 + 3 * interval
    conn.tick(T0 + 10 * interval)  # far behind: one heartbeat, not a burst; cadence restarts from now
    assert _heartbeat_seqs(conn) == [2, 3]
    assert conn.next_deadline() == T0 + 11 * interval


def test_heartbeat_frame_carries_room_and_seq() -> None:
    """SPEC.md §4.4: an hb frame with HeartBeatMessage(room_id, send_packet_seq_id)."""
    conn = streaming(liveness_timeout=None)
    conn.tick(T0 + 100)
    [data] = conn.data_to_send()
    sent = codec.parse_push_frame(data)
    assert sent.payload_type == codec.PAYLOAD_TYPE_HEARTBEAT
    assert codec.parse_heartbeat(sent.payload).room_id == ROOM_ID


@pytest.mark.parametrize(
    ("override", "ping_interval", "expected"),
    [(None, None, DEFAULT_HEARTBEAT_INTERVAL), (None, 8.0, 8.0), (2.0, 8.0, 2.0), (3.0, None, 3.0)],
)
def test_heartbeat_interval_precedence(
    override: float | None, ping_interval: float | None, expected: float
) -> None:
    """The constructor's heartbeat_interval wins, then the handshake's ping-interval, then the default."""
    conn = upgrading(heartbeat_interval=override, liveness_timeout=None)
    conn.websocket_opened(T0, ping_interval=ping_interval)
    assert conn.heartbeat_interval == expected
    assert conn.next_deadline() == T0 + expected


def test_liveness_timeout_and_its_reset() -> None:
    """The deadline is liveness_timeout after the last frame; at it tick() disconnects with "timeout"."""
    conn = streaming(liveness_timeout=12.0, heartbeat_interval=100.0)
    assert conn.next_deadline() == T0 + 12.0
    conn.receive_ws_message(fx.push_frame(codec.PAYLOAD_TYPE_HEARTBEAT), T0 + 10)
    assert conn.next_deadline() == T0 + 22.0
    assert conn.tick(T0 + 21.9) == []
    assert conn.tick(T0 + 22.0) == [Disconnected(reason="timeout")]
    assert conn.state is State.DISCONNECTED
    assert conn.next_deadline() is None


def test_poll_deadlines() -> None:
    """POLLING: the poll is due PollAfter seconds after the answer; tick hands out one request, and no
    deadline exists until its answer reschedules."""
    conn = polling()
    assert conn.next_deadline() == T0 + 1.0
    assert conn.tick(T0 + 0.9) == []
    assert conn.request_to_send() is None
    conn.tick(T0 + 1.0)
    request = conn.request_to_send()
    assert request is not None
    assert "cursor=" in request.url
    assert conn.request_to_send() is None
    assert conn.next_deadline() is None
    conn.tick(T0 + 50)
    assert conn.request_to_send() is None
    conn.receive_fetch_response(poll_body(), T0 + 1.3)
    assert conn.next_deadline() == T0 + 2.3


@pytest.mark.parametrize(
    "state", [State.IDLE, State.FETCHING, State.UPGRADING, State.DISCONNECTED, State.ENDED]
)
def test_no_deadline_outside_streaming_and_polling(state: State) -> None:
    """Only STREAMING and POLLING have timers."""
    assert REACH[state]().next_deadline() is None


def test_timer_helpers() -> None:
    """The clocks on their own: a disabled liveness never fires; heard() never moves time back; a reset
    poll schedule has no deadline."""
    liveness = LivenessTimer(timeout=None, now=0.0)
    assert liveness.deadline is None
    assert not liveness.has_expired(math.inf)
    liveness = LivenessTimer(timeout=1.0, now=5.0)
    liveness.heard(3.0)
    assert liveness.deadline == 6.0
    schedule = HeartbeatSchedule(interval=2.0, opened_at=0.0)
    assert (schedule.take_due(1.0), schedule.take_due(2.0), schedule.next_due) == (None, 1, 4.0)
    poll = PollSchedule()
    assert poll.deadline is None
    assert not poll.take_due(math.inf)
    poll.schedule(0.0, 1.0)
    assert poll.take_due(1.0)
    assert poll.is_in_flight
    poll.reset()
    assert poll.deadline is None
    assert not poll.is_in_flight


# --------------------------------------------------------------------------------------------
# Limits and arguments
# --------------------------------------------------------------------------------------------


def test_pending_bytes_are_capped_and_a_refused_frame_loses_nothing() -> None:
    """Past max_pending_bytes the call raises LocalProtocolError before consuming anything; once
    drained, the same frame is delivered in full."""
    conn = upgrading(limits=Limits(max_pending_bytes=200))
    conn.websocket_opened(T0)  # the enter-room (~60 bytes) stays queued
    data = frame([fx.chat(msg_id=77)], internal_ext="x" * 150)
    cursor = conn.cursor
    with pytest.raises(LocalProtocolError, match="max_pending_bytes=200"):
        conn.receive_ws_message(data, T0 + 1)
    assert (conn.state, conn.cursor) == (State.STREAMING, cursor)
    conn.data_to_send()
    events = conn.receive_ws_message(data, T0 + 1)
    assert [e.msg_id for e in events if isinstance(e, MessageEvent)] == [77]


def test_heartbeat_past_the_cap_raises() -> None:
    """A heartbeat that does not fit raises LocalProtocolError: the transport stopped draining."""
    conn = upgrading(limits=Limits(max_pending_bytes=80), liveness_timeout=None)
    conn.websocket_opened(T0)  # enter-room: 46 bytes
    conn.tick(T0 + 5)  # heartbeat: 22 bytes, 68 in all
    with pytest.raises(LocalProtocolError, match="drain data_to_send"):
        conn.tick(T0 + 10)


def test_enter_room_past_the_cap_leaves_the_state() -> None:
    """Even the enter-room obeys the cap; the refused call changes nothing."""
    conn = upgrading(limits=Limits(max_pending_bytes=10))
    with pytest.raises(LocalProtocolError):
        conn.websocket_opened(T0)
    assert conn.state is State.UPGRADING


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"room_id": 0}, ValueError),
        ({"room_id": "7"}, TypeError),
        ({"room_id": True}, TypeError),
        ({"room_id": 1, "request_polling_interval_ms": 0}, ValueError),
        ({"room_id": 1, "heartbeat_interval": -1.0}, ValueError),
        ({"room_id": 1, "liveness_timeout": math.nan}, ValueError),
        ({"room_id": 1, "liveness_timeout": "60"}, TypeError),
        ({"room_id": 1, "limits": {}}, TypeError),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    """Wrong types raise TypeError, out-of-range values ValueError, at construction."""
    with pytest.raises(error):
        ClientConnection(**kwargs)


def test_bad_ping_interval_is_refused_without_a_change() -> None:
    """websocket_opened() refuses a non-positive ping_interval and stays UPGRADING."""
    conn = upgrading()
    with pytest.raises(ValueError, match="ping_interval"):
        conn.websocket_opened(T0, ping_interval=0.0)
    assert conn.state is State.UPGRADING
    assert conn.data_to_send() == []


def test_introspection() -> None:
    """room_id, cursor and internal_ext are readable."""
    conn = new()
    assert (conn.room_id, conn.cursor, conn.internal_ext, conn.heartbeat_interval) == (ROOM_ID, "", "", None)


# --------------------------------------------------------------------------------------------
# Any interleaving (hypothesis)
# --------------------------------------------------------------------------------------------

_PAYLOADS = st.sampled_from(["ok", "ok-poll", "end", "garbage", "dup", "replay"])
_MACHINE_WINDOW = 8  # small, so that the dedup memory fills up and its bound is exercised


def _reachable(before: State, after: State) -> bool:
    """Whether one call can move ``before`` to ``after``: no move, or one entry of TRANSITIONS."""
    return before is after or any(TRANSITIONS.get((before, i)) is after for i in Input)


class ClientMachine(RuleBasedStateMachine):
    """Random interleavings of every call, good and bad data, replays and time: only our typed errors
    come out, a refused call changes nothing, peer garbage leaves DISCONNECTED, every move is an entry of
    TRANSITIONS, no msg_id is delivered twice (replays of recent ids after a resume included), the
    deadline never moves back within a state and nothing is left overdue after a tick, and the dedup
    memory stays within max_dedup_window."""

    def __init__(self) -> None:
        super().__init__()
        self.conn = new(liveness_timeout=20.0, limits=Limits(max_dedup_window=_MACHINE_WINDOW))
        self.now = T0
        self.next_msg_id = 1
        self.delivered: list[int] = []
        self.moves: list[tuple[State, State]] = []
        self.seen: tuple[State, float | None] = (self.conn.state, None)

    def _messages(self, kind: str) -> list[fx.WebcastMessage | pb.BaseProtoMessage]:
        if kind == "end":
            return [fx.chat(msg_id=self._id()), fx.control(action=3, msg_id=self._id())]
        if kind == "dup":
            return [fx.chat(msg_id=max(self.next_msg_id - 1, 1))]
        if kind == "replay":  # a resume's overlap: the most recent ids again, then a new one
            recent = self.delivered[-(_MACHINE_WINDOW // 2) :]
            return [*(fx.chat(msg_id=msg_id) for msg_id in recent), fx.like(msg_id=self._id())]
        return [fx.chat(msg_id=self._id()), fx.like(msg_id=self._id())]

    def _id(self) -> int:
        self.next_msg_id += 1
        return self.next_msg_id

    def _call(self, call: Callable[[], object]) -> None:
        before = self.conn.state
        try:
            result = call()
        except LocalProtocolError:
            assert self.conn.state is before
            return
        except RemoteProtocolError:
            assert self.conn.state is State.DISCONNECTED
            self.moves.append((before, self.conn.state))
            return
        self.moves.append((before, self.conn.state))
        events = result.events if isinstance(result, FetchOutcome) else result
        if isinstance(events, list):
            self.delivered += [e.msg_id for e in events if isinstance(e, MessageEvent)]

    @rule()
    def start(self) -> None:
        self._call(self.conn.start)

    @rule(kind=_PAYLOADS)
    def fetch_response(self, kind: str) -> None:
        data = (
            b"\xff garbage"
            if kind == "garbage"
            else body(self._messages(kind), push_server="" if kind == "ok-poll" else fx.DEFAULT_PUSH_SERVER)
        )
        self._call(lambda: self.conn.receive_fetch_response(data, self.now))

    @rule()
    def fetch_failed(self) -> None:
        self._call(lambda: self.conn.fetch_failed(self.now, ConnectionError()))

    @rule()
    def websocket_opened(self) -> None:
        self._call(lambda: self.conn.websocket_opened(self.now))

    @rule(kind=_PAYLOADS)
    def ws_message(self, kind: str) -> None:
        data = b"\xff garbage" if kind == "garbage" else frame(self._messages(kind))
        self._call(lambda: self.conn.receive_ws_message(data, self.now))

    @rule()
    def websocket_closed(self) -> None:
        self._call(lambda: self.conn.websocket_closed(self.now))

    @rule(seconds=st.floats(0, 30))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self._call(lambda: self.conn.tick(self.now))
        deadline = self.conn.next_deadline()
        assert deadline is None or deadline > self.now, "tick left something overdue"
        self.conn.request_to_send()

    @rule()
    def drain(self) -> None:
        self.conn.data_to_send()

    @invariant()
    def nothing_twice(self) -> None:
        assert len(self.delivered) == len(set(self.delivered))

    @invariant()
    def deadline_is_consistent(self) -> None:
        deadline = self.conn.next_deadline()
        assert deadline is None or self.conn.state in (State.STREAMING, State.POLLING)

    @invariant()
    def every_move_is_in_the_table(self) -> None:
        assert all(_reachable(before, after) for before, after in self.moves), self.moves
        self.moves.clear()

    @invariant()
    def deadline_never_moves_back_within_a_state(self) -> None:
        state, deadline = self.conn.state, self.conn.next_deadline()
        last_state, last_deadline = self.seen
        if state is last_state and deadline is not None and last_deadline is not None:
            assert deadline >= last_deadline
        self.seen = (
            state,
            deadline if deadline is not None else last_deadline if state is last_state else None,
        )

    @invariant()
    def dedup_memory_is_bounded(self) -> None:
        assert len(self.conn._sieve._dedup) <= _MACHINE_WINDOW


ClientMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestClientMachine = ClientMachine.TestCase


def test_state_diagram_is_generated_from_the_table() -> None:
    """docs/state-diagram.md is what scripts/state_diagram.py draws from TRANSITIONS (rerun it on change)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "state_diagram.py"
    spec = importlib.util.spec_from_file_location("state_diagram", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = module.render()
    assert module.OUTPUT.read_text() == page
    for (source, input), target in TRANSITIONS.items():
        assert f"    {source.name} --> {target.name}: {input.value}\n" in page
    assert module.main(["--check"]) == 0
