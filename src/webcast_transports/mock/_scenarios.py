"""Scenarios: a room's scripted timeline of messages and faults.

A :class:`Scenario` is data: ``history`` (the messages already in the room when the first client
arrives, served as initial data by the first fetch) and ``steps``, each an action at a time in
seconds on the room's clock. The server plays the steps in order (see ``_server.py``); the
room's clock starts when a client first asks about the room, unless the room says otherwise.

Actions are small frozen dataclasses, one per behaviour, so the player dispatches on the class
(STYLE.md §15). Socket-level faults (drop, stall, garbage, close) hit every push socket open in the
room when they fire; with none open they wait for the next one, so a fault on cue is never lost to
a race with the client's connect. HTTP faults are armed for the next ``count`` matching requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from google.protobuf.message import Message

from webcast_proto._pb import webcast_pb2 as pb

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "Action",
    "CloseSocket",
    "DropMidFrame",
    "EndStream",
    "GarbageFrame",
    "HttpFault",
    "RefuseHandshake",
    "Scenario",
    "Send",
    "SetStatus",
    "SocketAction",
    "Stall",
    "Step",
    "as_envelope",
]


def as_envelope(message: object) -> pb.BaseProtoMessage:
    """Wrap a WebCast message (``WebcastChatMessage`` …) in its ``BaseProtoMessage`` envelope.

    An envelope is returned as is. Otherwise the method is the message type's name and ``msg_id``
    the message's ``common.msg_id`` (SPEC.md §6.1, §6.2), as the fixture builders' ``wrap`` does.

    Raises:
        TypeError: ``message`` is not a protobuf message with a ``common`` part.
    """
    if isinstance(message, pb.BaseProtoMessage):
        return message
    common = getattr(message, "common", None)
    if not isinstance(message, Message) or not isinstance(common, pb.CommonMessageData):
        raise TypeError(f"expected a WebCast message or a BaseProtoMessage, got {type(message).__name__}")
    return pb.BaseProtoMessage(
        method=common.method or type(message).__name__,
        payload=message.SerializeToString(),
        msg_id=common.msg_id,
    )


@dataclass(frozen=True, slots=True, eq=False)
class Send:
    """Push these messages: one ``msg`` frame to each open socket, and into the room's log for polling.

    Args:
        messages: WebCast messages or ``BaseProtoMessage`` envelopes (wrapped on construction).
    """

    messages: tuple[pb.BaseProtoMessage, ...]

    def __init__(self, messages: Iterable[object]) -> None:
        object.__setattr__(self, "messages", tuple(as_envelope(m) for m in messages))


@dataclass(frozen=True, slots=True, kw_only=True)
class DropMidFrame:
    """Send the first half of a ``msg`` frame, then cut the TCP connection (no close frame)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Stall:
    """Send nothing on the room's sockets for ``seconds`` (frames due meanwhile are sent afterwards)."""

    seconds: float

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError(f"Stall.seconds must be >= 0, got {self.seconds}")


@dataclass(frozen=True, slots=True, kw_only=True)
class GarbageFrame:
    """Send one binary WebSocket message that is not a valid push frame."""

    # 0xFF starts a field with wire type 7, which does not exist: no protobuf parser accepts it.
    data: bytes = b"\xff\xff\xff\xffnot a push frame"


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseSocket:
    """Close the room's sockets with this WebSocket close code (1011: server error)."""

    code: int = 1011
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EndStream:
    """The stream ends: a ``WebcastControlMessage`` with ``action`` (3 host, 4 platform, SPEC.md §8),
    then a normal close (1000); the room is offline from then on."""

    action: int = 3

    def __post_init__(self) -> None:
        if self.action not in (3, 4):
            raise ValueError(f"EndStream.action must be 3 (host) or 4 (platform), got {self.action}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SetStatus:
    """Change the room's status (``"live"``, ``"offline"``, ``"age_restricted"``, ``"not_found"``)."""

    status: str

    def __post_init__(self) -> None:
        if self.status not in ("live", "offline", "age_restricted", "not_found"):
            raise ValueError(f"unknown room status {self.status!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpFault:
    """Answer the next ``count`` HTTP requests whose path starts with ``path`` with an error.

    Args:
        status: the HTTP status (429, 500, 503 …). ``None`` answers normally, after ``delay``.
        path: path prefix to match (``""``: every route, the WebSocket upgrade included).
        count: how many requests it applies to.
        retry_after: seconds to announce in ``Retry-After`` (and the sign server's rate-limit
            headers, SPEC.md §2.6); ``None`` for none.
        delay: seconds to wait before answering (a stall on the HTTP side).
        message: the error text put in the JSON body.
    """

    status: int | None = 503
    path: str = ""
    count: int = 1
    retry_after: float | None = None
    delay: float = 0.0
    message: str = ""

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"HttpFault.status must be a 4xx or 5xx status or None, got {self.status}")
        if self.count < 1:
            raise ValueError(f"HttpFault.count must be >= 1, got {self.count}")
        if self.delay < 0:
            raise ValueError(f"HttpFault.delay must be >= 0, got {self.delay}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RefuseHandshake:
    """Refuse the next ``count`` WebSocket handshakes: HTTP ``status`` (200 or 400, not 101) with the
    reason in the ``Handshake-Msg`` header (SPEC.md §9)."""

    message: str = "illegal secret key"
    status: int = 200
    count: int = 1

    def __post_init__(self) -> None:
        if self.status == 101 or not 200 <= self.status <= 599:
            raise ValueError(f"RefuseHandshake.status must be a final non-101 status, got {self.status}")
        if self.count < 1:
            raise ValueError(f"RefuseHandshake.count must be >= 1, got {self.count}")


Action: TypeAlias = (
    Send
    | DropMidFrame
    | Stall
    | GarbageFrame
    | CloseSocket
    | EndStream
    | SetStatus
    | HttpFault
    | RefuseHandshake
)
SocketAction: TypeAlias = DropMidFrame | Stall | GarbageFrame | CloseSocket
"""The actions that hit the room's open sockets (or the next one to open)."""

_ACTION_TYPES = (
    Send, DropMidFrame, Stall, GarbageFrame, CloseSocket, EndStream, SetStatus, HttpFault, RefuseHandshake,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Step:
    """One action at ``at`` seconds on the room's clock."""

    at: float
    action: Action

    def __post_init__(self) -> None:
        if self.at < 0:
            raise ValueError(f"Step.at must be >= 0, got {self.at}")
        if not isinstance(self.action, _ACTION_TYPES):
            raise TypeError(f"Step.action must be a scenario action, got {type(self.action).__name__}")


@dataclass(frozen=True, slots=True, eq=False)
class Scenario:
    """A scripted timeline for a room.

    Args:
        name: a short name (shown by the command line and in logs).
        steps: the timeline; sorted by time on construction (stable, so equal times keep their order).
        history: messages already in the room before its clock starts: the first fetch's initial data.
        description: one line for humans.
    """

    name: str
    steps: tuple[Step, ...] = ()
    history: tuple[pb.BaseProtoMessage, ...] = ()
    description: str = ""

    def __init__(
        self,
        name: str,
        steps: Iterable[Step] = (),
        *,
        history: Iterable[object] = (),
        description: str = "",
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "steps", tuple(sorted(steps, key=lambda s: s.at)))
        object.__setattr__(self, "history", tuple(as_envelope(m) for m in history))
        object.__setattr__(self, "description", description)

    @property
    def duration(self) -> float:
        """The time of the last step (0 for an empty timeline)."""
        return self.steps[-1].at if self.steps else 0.0

    def messages(self) -> list[pb.BaseProtoMessage]:
        """Every message of the scenario, history first, in timeline order."""
        out = list(self.history)
        for step in self.steps:
            if isinstance(step.action, Send):
                out.extend(step.action.messages)
        return out
