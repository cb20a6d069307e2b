"""A mock TikTok WebCast server on loopback, for tests, the demo, research and other clients.

It plays TikTok's website (the ``/@user/live`` page, the room-id API), the WebCast API (room info,
gift list, im/fetch polling, chat), the push server (WebSocket, ``msg`` frames, acks, heartbeats,
enter-room) and the sign server (our signer's ``sign_url`` and the first-fetch routes of TikTokLive
and TikTok-Live-Connector), all on one port, built on h11 and wsproto. Rooms play scenarios:
timelines of messages with faults on cue. Everything clients send is recorded.

::

    from webcast_proto import fixtures
    from webcast_transports.mock import MockWebcastServer, Room

    with MockWebcastServer([Room("alice", scenario="quiet")]) as server:
        print(server.base_url, server.room("alice").room_id)
        server.room("alice").push(fixtures.chat("hello"))

See ``docs/mock-server.md``.
"""

from __future__ import annotations

from webcast_transports.mock._builtin import BUILTIN_SCENARIOS, builtin_scenario
from webcast_transports.mock._files import load_scenario, scenario_from_json
from webcast_transports.mock._record import (
    Ack,
    ChatSent,
    ClientFrame,
    EnterRoom,
    Heartbeat,
    HttpRecord,
    Record,
    Recorder,
    UnknownFrame,
    Violation,
    WsClosed,
    WsOpened,
)
from webcast_transports.mock._rooms import Room, RoomStatus
from webcast_transports.mock._routes import Options
from webcast_transports.mock._scenarios import (
    Action,
    CloseSocket,
    DropMidFrame,
    EndStream,
    GarbageFrame,
    HttpFault,
    RefuseHandshake,
    Scenario,
    Send,
    SetStatus,
    Stall,
    Step,
)
from webcast_transports.mock._server import MockWebcastServer, RoomHandle

__all__ = [
    "BUILTIN_SCENARIOS",
    "Ack",
    "Action",
    "ChatSent",
    "ClientFrame",
    "CloseSocket",
    "DropMidFrame",
    "EndStream",
    "EnterRoom",
    "GarbageFrame",
    "Heartbeat",
    "HttpFault",
    "HttpRecord",
    "MockWebcastServer",
    "Options",
    "Record",
    "Recorder",
    "RefuseHandshake",
    "Room",
    "RoomHandle",
    "RoomStatus",
    "Scenario",
    "Send",
    "SetStatus",
    "Stall",
    "Step",
    "UnknownFrame",
    "Violation",
    "WsClosed",
    "WsOpened",
    "builtin_scenario",
    "load_scenario",
    "scenario_from_json",
]
