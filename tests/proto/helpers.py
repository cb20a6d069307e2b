"""Test helpers: a ClientConnection and a ServerConnection joined by an in-memory wire.

Like h11's ``tests/helpers.py`` ``ConnectionPair``: every byte the client queues goes through the
server's checks (acks, heartbeats, enter-room), every frame the server builds goes through the client,
and each delivery checks that the client turned exactly the new messages of the frame into events, in
order. Time is ``pair.now``, moved by :meth:`ConnectionPair.advance`; nothing sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from webcast_proto import codec
from webcast_proto import fixtures as fx
from webcast_proto.connection import ClientConnection, FetchOutcome, PollAfter, State, UpgradeToWebSocket
from webcast_proto.events import Event, MessageEvent
from webcast_proto.server import ServerConnection

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from webcast_proto._pb import webcast_pb2 as pb
    from webcast_proto.http import Request
    from webcast_proto.server import ClientFrame

ROOM_ID = fx.DEFAULT_ROOM_ID


def messages_in(frame: bytes) -> list[pb.BaseProtoMessage]:
    """The message envelopes a ``msg`` frame carries (decoded with the codec)."""
    return list(codec.fetch_result_from_frame(codec.parse_push_frame(frame)).messages)


def message_ids(events: Iterable[Event]) -> list[int]:
    """The msg_ids of the message events among ``events``, in order."""
    return [e.msg_id for e in events if isinstance(e, MessageEvent)]


def mix_of_every_type(count: int, *, seed: int = 0) -> list[pb.BaseProtoMessage]:
    """``count`` realistic messages, with at least one of each of the 14 modelled methods (no stream end)."""
    every: list[fx.WebcastMessage] = [
        fx.chat(),
        fx.member(),
        fx.gift(),
        fx.room_user_seq(),
        fx.like(),
        fx.social_follow(),
        fx.social_share(),
        fx.emote_chat(),
        fx.envelope(),
        fx.question_new(),
        fx.link_mic_battle(),
        fx.link_mic_armies(),
        fx.live_intro(),
        fx.sub_notify(),
        fx.control(action=1),  # a pause: a control message that does not end the stream
    ]
    mix = fx.realistic_mix(count - len(every), seed=seed)
    step = max(len(mix) // len(every), 1)
    for i, message in enumerate(every):
        mix.insert(i * step, fx.wrap(message))
    return mix


@dataclass
class ConnectionPair:
    """A client and a server for one room, joined in memory. ``events`` collects everything."""

    client_options: dict[str, Any] = field(default_factory=dict)
    server_options: dict[str, Any] = field(default_factory=dict)
    now: float = 1000.0
    events: list[Event] = field(default_factory=list)
    check_frames: bool = True
    client: ClientConnection = field(init=False)
    server: ServerConnection = field(init=False)
    _delivered: set[int] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.client = ClientConnection(room_id=ROOM_ID, **self.client_options)
        self.server = ServerConnection(room_id=ROOM_ID, **self.server_options)

    def _collect(self, events: list[Event]) -> list[Event]:
        self.events.extend(events)
        self._delivered.update(message_ids(events))
        return events

    def state(self) -> State:
        """The client's state (a call, so that mypy does not narrow it across steps)."""
        return self.client.state

    def delivered_ids(self) -> list[int]:
        """The msg_ids of every message event the client produced, in order."""
        return message_ids(self.events)

    # -- HTTP ---------------------------------------------------------------------------------

    def fetch(self, request: Request, *, offer_websocket: bool = True) -> FetchOutcome:
        """Let the server answer ``request`` and feed the answer to the client."""
        body = self.server.handle_fetch_request(
            request, server_time_ms=int(self.now * 1000), offer_websocket=offer_websocket
        )
        outcome = self.client.receive_fetch_response(body, self.now)
        self._collect(outcome.events)
        return outcome

    def connect(self, *, offer_websocket: bool = True, open_websocket: bool = True) -> FetchOutcome:
        """start() (or resume) → first fetch → (when told to upgrade, and asked to) open the socket."""
        outcome = self.fetch(self.client.start(), offer_websocket=offer_websocket)
        if isinstance(outcome.instruction, UpgradeToWebSocket) and open_websocket:
            self.open_websocket(outcome.instruction.url)
        return outcome

    def poll_if_due(self) -> FetchOutcome | None:
        """Perform the poll request the client handed out, if any (a polling answer: no upgrade)."""
        request = self.client.request_to_send()
        if request is None:
            return None
        outcome = self.fetch(request, offer_websocket=False)
        assert outcome.instruction is None or isinstance(outcome.instruction, PollAfter)
        return outcome

    # -- WebSocket -----------------------------------------------------------------------------

    def open_websocket(self, url: str, *, ping_interval: float | None = None) -> list[Event]:
        """Both sides see the socket open; the enter-room goes to the server."""
        self.server.websocket_opened(url)
        events = self._collect(self.client.websocket_opened(self.now, ping_interval=ping_interval))
        self.flush()
        return events

    def flush(self) -> list[ClientFrame]:
        """Send everything the client queued to the server, which checks and records it."""
        return [self.server.receive_client_message(data) for data in self.client.data_to_send()]

    def deliver(self, frame: bytes) -> list[Event]:
        """Feed one server frame to the client, then flush the client's answers (acks)."""
        already = set(self._delivered)
        events = self.client.receive_ws_message(frame, self.now)
        if self.check_frames and codec.parse_push_frame(frame).payload_type == codec.PAYLOAD_TYPE_MSG:
            expected: list[int] = []
            for message in messages_in(frame):
                if message.msg_id not in already:
                    expected.append(message.msg_id)
                    already.add(message.msg_id)
            got = message_ids(events)
            if self.client.state is State.ENDED:
                expected = expected[: len(got)]  # nothing after a stream end is delivered
            assert got == expected, "the client must deliver exactly the frame's new messages, in order"
        self._collect(events)
        self.flush()
        return events

    def push(self, count: int | None = None, *, start: int | None = None) -> list[Event]:
        """The server pushes the next ``count`` messages (all by default); the client receives them."""
        return self.deliver(
            self.server.message_frame(count=count, start=start, server_time_ms=int(self.now * 1000))
        )

    # -- Time and the room ----------------------------------------------------------------------

    def advance(self, seconds: float) -> list[Event]:
        """Move time on, tick the client, flush its frames and perform a due poll."""
        self.now += seconds
        events = self._collect(self.client.tick(self.now))
        self.flush()
        self.poll_if_due()
        return events

    def run_until(self, deadline: float) -> list[Event]:
        """Jump from deadline to deadline up to ``deadline``, as a transport sleeping on them would."""
        events: list[Event] = []
        while (due := self.client.next_deadline()) is not None and due <= deadline:
            events += self.advance(max(due - self.now, 0.0))
        self.now = max(self.now, deadline)
        return events

    def publish(self, messages: Sequence[pb.BaseProtoMessage]) -> None:
        """Add messages to the room's log."""
        self.server.publish(messages)


@pytest.fixture(params=["parse first", "wire count"])
def count_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test once per way the codec counts headers, messages and route params.

    "parse first": the default for bytes of at most ``codec._PARSE_FIRST_SIZE`` (every test input
    here): upb parses, then the parsed counts are checked. "wire count": the threshold set to 0, so
    the wire walk counts before upb parses, as it does for larger bytes. Both must give the same
    answers (bar a route param key given twice: the map holds it once, the wire has it twice).
    """
    saved = codec._PARSE_FIRST_SIZE
    if request.param == "wire count":
        codec._PARSE_FIRST_SIZE = 0  # type: ignore[misc]
    try:
        yield str(request.param)
    finally:
        codec._PARSE_FIRST_SIZE = saved  # type: ignore[misc]
