"""Rooms: who is live on the mock server, and what each room has said so far.

:class:`Room` is the configuration a user writes (username, room id, status, scenario). The server
keeps one :class:`RoomState` per room: its current status and its message log, in which each
message gets a position (1, 2, 3 …). Every cursor the server hands out (``ServerConnection``'s,
``t-…_r-{n}_…``) names a position, so any client — a poller, a socket, a reconnecting socket —
receives exactly the messages after the position it holds (SPEC.md §5: cursors are opaque to
clients, so their content is the server's to choose).

:class:`RoomDirectory` finds rooms by username or id and holds what is shared between requests:
the tokens of issued socket URLs and the armed HTTP faults. Nothing here does I/O or reads a clock:
callers pass times in.
"""

from __future__ import annotations

import collections
import enum
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError

from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.server import DEFAULT_MAX_HISTORY
from webcast_transports.mock._scenarios import HttpFault, RefuseHandshake, Scenario, SocketAction

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = [
    "DEFAULT_MAX_LOG",
    "DEFAULT_MAX_TOKENS",
    "Entry",
    "Room",
    "RoomDirectory",
    "RoomState",
    "RoomStatus",
    "derive_id",
]

# A room keeps as many recent messages as a ServerConnection does, for polling and resume.
DEFAULT_MAX_LOG = DEFAULT_MAX_HISTORY

# Issued socket URL tokens remembered: one per first fetch; a test suite issues hundreds.
DEFAULT_MAX_TOKENS = 10_000


class RoomStatus(enum.Enum):
    """What the room lookup, room info and live check say about a room (SPEC.md §2.2, §2.3, §9)."""

    LIVE = "live"
    OFFLINE = "offline"
    AGE_RESTRICTED = "age_restricted"
    NOT_FOUND = "not_found"

    @property
    def code(self) -> int:
        """The numeric room status TikTok uses: 2 live, 4 ended/offline (SPEC.md §2.2)."""
        return 4 if self is RoomStatus.OFFLINE else 2


def derive_id(seed: str, *, base: int) -> int:
    """A stable 64-bit-looking id from a string: the same username always gets the same room id.

    Ids land in ``[base, base + 10**18)``, which is below 2**63 for the bases used (7·10**18 for rooms,
    like real room ids; 6·10**18 for users), so they fit the int64 fields.
    """
    digest = hashlib.sha256(seed.encode()).digest()
    return base + int.from_bytes(digest[:8], "big") % 10**18


@dataclass(frozen=True, slots=True)
class Room:
    """A user and their live room on the mock server.

    Args:
        unique_id: the username, without ``@``.
        room_id: the room id; by default derived from the username (stable across runs).
        user_id: the host's user id; by default derived from the username.
        nickname: the display name; by default the username.
        status: ``live``, ``offline``, ``age_restricted`` or ``not_found``.
        title: the stream title.
        scenario: the timeline to play: a :class:`Scenario`, or a built-in scenario's name.
        start: when the room's clock starts: ``"on_request"`` (the first request naming the room),
            ``"now"`` (when the server starts) or ``"manual"`` (``RoomHandle.start()``).
        offer_websocket: whether fetch results offer the push socket (``push_server``); without it
            clients poll (SPEC.md §1 step 7).

    Raises:
        ValueError: an empty username, a bad status or start, an id outside int64.
    """

    unique_id: str
    room_id: int = 0
    user_id: int = 0
    nickname: str = ""
    status: RoomStatus | str = RoomStatus.LIVE
    title: str = ""
    scenario: Scenario | str = "quiet"
    start: str = "on_request"
    offer_websocket: bool = True

    def __post_init__(self) -> None:
        name = self.unique_id.lstrip("@").strip()
        if not name or "/" in name:
            raise ValueError(f"Room.unique_id must be a username, got {self.unique_id!r}")
        object.__setattr__(self, "unique_id", name)
        try:
            object.__setattr__(self, "status", RoomStatus(self.status))
        except ValueError:
            known = ", ".join(s.value for s in RoomStatus)
            raise ValueError(f"Room.status must be one of {known}, got {self.status!r}") from None
        if self.room_id == 0:
            object.__setattr__(self, "room_id", derive_id(f"room:{name}", base=7 * 10**18))
        if self.user_id == 0:
            object.__setattr__(self, "user_id", derive_id(f"user:{name}", base=6 * 10**18))
        if not self.nickname:
            object.__setattr__(self, "nickname", name)
        if not self.title:
            object.__setattr__(self, "title", f"{self.nickname} is LIVE")
        for attr in ("room_id", "user_id"):
            value = getattr(self, attr)
            if not 0 < value < 2**63:
                raise ValueError(f"Room.{attr} must be a positive int64, got {value}")
        if self.start not in ("on_request", "now", "manual"):
            raise ValueError(f"Room.start must be 'on_request', 'now' or 'manual', got {self.start!r}")

    @property
    def room_status(self) -> RoomStatus:
        """``status`` as a :class:`RoomStatus` (it is normalised to one on construction)."""
        return RoomStatus(self.status)


@dataclass(frozen=True, slots=True)
class Entry:
    """A message in a room's log, at ``position`` (1, 2, 3 …)."""

    position: int
    message: pb.BaseProtoMessage


@dataclass(slots=True, kw_only=True)
class _Token:
    room_id: int
    position: int
    issued_at: float


class RoomState:
    """A room's live state: status and message log. Mutated on the server's event loop only.

    Args:
        room: the configuration.
        scenario: the resolved scenario (its ``history`` fills the log).
        max_log: how many recent messages to keep.
    """

    def __init__(self, room: Room, scenario: Scenario, *, max_log: int = DEFAULT_MAX_LOG) -> None:
        self.room = room
        self.scenario = scenario
        self.status = room.room_status
        self.started_at: float | None = None
        # Socket faults that fired while no socket was open: they hit the next socket that opens.
        self.pending_socket_actions: collections.deque[SocketAction] = collections.deque(maxlen=100)
        self._log: collections.deque[Entry] = collections.deque(maxlen=max_log)
        self._position = 0
        self.append(scenario.history)

    @property
    def position(self) -> int:
        """The position of the newest message (0 before any)."""
        return self._position

    def append(self, messages: Iterable[pb.BaseProtoMessage]) -> list[Entry]:
        """Add messages to the log, giving each the next position; returns their entries.

        A message whose ``common.room_id`` names another room (a fixture's default, a scenario
        shared by several rooms) is re-stamped with this room's id, so clients see consistent ids.
        """
        added = []
        for message in messages:
            self._position += 1
            entry = Entry(self._position, _restamp(message, self.room.room_id))
            self._log.append(entry)
            added.append(entry)
        return added

    def since(self, position: int) -> list[Entry]:
        """The kept messages after ``position``, oldest first."""
        return [entry for entry in self._log if entry.position > position]

    def recent(self, count: int) -> list[Entry]:
        """The last ``count`` kept messages, oldest first."""
        if count <= 0:
            return []
        return list(self._log)[-count:]


def _restamp(message: pb.BaseProtoMessage, room_id: int) -> pb.BaseProtoMessage:
    try:
        parsed = pb.CommonOnlyMessage.FromString(message.payload)
    except DecodeError:
        return message  # not a WebCast message (raw bytes from a scenario file): sent as given
    if not parsed.HasField("common") or parsed.common.room_id == room_id:
        return message
    parsed.common.room_id = room_id
    # The message's other fields are unknown to CommonOnlyMessage, and protobuf keeps and
    # re-serializes unknown fields, so only the room id changes.
    stamped = pb.BaseProtoMessage()
    stamped.CopyFrom(message)
    stamped.payload = parsed.SerializeToString()
    return stamped


@dataclass(slots=True)
class _ArmedFault:
    fault: HttpFault | RefuseHandshake
    room_id: int
    remaining: int


@dataclass(slots=True, kw_only=True)
class RoomDirectory:
    """Every room of a server, by username and by room id, plus state shared between requests."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    _by_name: dict[str, RoomState] = field(default_factory=dict)
    _by_id: dict[int, RoomState] = field(default_factory=dict)
    _tokens: collections.OrderedDict[str, _Token] = field(default_factory=collections.OrderedDict)
    _faults: list[_ArmedFault] = field(default_factory=list)
    _token_counter: int = 0

    def add(self, state: RoomState) -> None:
        """Add a room.

        Raises:
            ValueError: the username (case-insensitive) or the room id is taken.
        """
        key = state.room.unique_id.lower()
        if key in self._by_name or state.room.room_id in self._by_id:
            raise ValueError(f"duplicate room @{state.room.unique_id} / {state.room.room_id}")
        self._by_name[key] = state
        self._by_id[state.room.room_id] = state

    def __iter__(self) -> Iterator[RoomState]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def by_name(self, unique_id: str) -> RoomState | None:
        """The room of a username (with or without ``@``, case-insensitive)."""
        return self._by_name.get(unique_id.lstrip("@").lower())

    def by_id(self, room_id: int | str | None) -> RoomState | None:
        """The room with this id (an int or a decimal string); ``None`` if unknown or not a number."""
        if isinstance(room_id, str):
            if not room_id.isdigit():
                return None
            room_id = int(room_id)
        return None if room_id is None else self._by_id.get(room_id)

    def by_user_id(self, user_id: str) -> RoomState | None:
        """The room whose host has this numeric user id."""
        return next((s for s in self._by_name.values() if str(s.room.user_id) == user_id), None)

    # -- socket URL tokens ------------------------------------------------------------------------

    def issue_token(self, room_id: int, position: int, now: float) -> str:
        """A fresh route-param token standing for "room ``room_id`` from ``position``, issued ``now``".

        It plays the part of TikTok's signed route params (SPEC.md §3.3): the socket request copies
        it back, so the server knows which fetch the socket continues.
        """
        self._token_counter += 1
        token = f"{self._token_counter:x}{derive_id(f'{room_id}:{position}:{now}', base=0):x}"
        self._tokens[token] = _Token(room_id=room_id, position=position, issued_at=now)
        while len(self._tokens) > self.max_tokens:
            self._tokens.popitem(last=False)
        return token

    def lookup_token(self, token: str, now: float, ttl: float | None) -> tuple[int, int] | None:
        """``(room_id, position)`` of a live token, or ``None`` if unknown or older than ``ttl``."""
        found = self._tokens.get(token)
        if found is None or (ttl is not None and now - found.issued_at > ttl):
            return None
        return found.room_id, found.position

    # -- faults -----------------------------------------------------------------------------------

    def arm(self, fault: HttpFault | RefuseHandshake, room_id: int) -> None:
        """Arm an HTTP fault or a handshake refusal for the next matching request(s)."""
        self._faults.append(_ArmedFault(fault, room_id, fault.count))

    def take_http_fault(self, path: str, room_id: int | None) -> HttpFault | None:
        """Consume one use of the oldest armed :class:`HttpFault` matching this request, if any.

        A fault matches when ``path`` starts with its path and the request concerns its room (or
        names no room, as a sign-URL request does).
        """
        for armed in self._faults:
            fault = armed.fault
            if (
                isinstance(fault, HttpFault)
                and path.startswith(fault.path)
                and room_id in (None, armed.room_id)
            ):
                self._consume(armed)
                return fault
        return None

    def take_refusal(self, room_id: int) -> RefuseHandshake | None:
        """Consume one use of the oldest armed :class:`RefuseHandshake` for this room, if any."""
        for armed in self._faults:
            if isinstance(armed.fault, RefuseHandshake) and armed.room_id == room_id:
                self._consume(armed)
                return armed.fault
        return None

    def _consume(self, armed: _ArmedFault) -> None:
        armed.remaining -= 1
        if armed.remaining <= 0:
            self._faults.remove(armed)
