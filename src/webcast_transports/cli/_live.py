"""``webcast watch``, ``webcast record`` and ``webcast demo``: rooms watched live by the real client.

One process watches any number of rooms, one :class:`TikTokLiveClient` each, side by side in one
task group. Ctrl-C (SIGINT, or SIGTERM) asks every connected client to disconnect — each prints its
final ``disconnected`` — and a connect still under way is cancelled; the command then exits 0. A
second Ctrl-C stops at once (exit 130).

A room that cannot be watched (offline, not found, rate limited, refused by the sign server …) is
reported on stderr in one line while the others go on; the exit status is the first failing room's
(``_common``'s table), 0 when every room ended normally.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

import anyio

from webcast_proto import Disconnected, WebcastError
from webcast_proto.recording import RecordingEnd, RecordingHeader, RecordingWriter, WireRecord
from webcast_proto.signing import EulerSigner
from webcast_transports._async.client import TikTokLiveClient
from webcast_transports._names import ERROR, RAW_DATA, event_name, known_names
from webcast_transports._options import ReconnectPolicy
from webcast_transports.cli._common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ClientOptions,
    UsageError,
    describe_failure,
    one_line,
)
from webcast_transports.cli._output import HumanPrinter, JsonPrinter, Printer, use_color

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

    from anyio.abc import TaskGroup

    from webcast_proto import Event

__all__ = ["DEMO_SPEED", "event_names", "record", "run_demo", "watch"]

_log = logging.getLogger("webcast.cli")

# The lively scenario lasts 60 s at speed 1; at 4 the demo takes 15 s: long enough to see every kind
# of event scroll by, short enough to watch to the end.
DEMO_SPEED: Final = 4.0

# Between rooms of a long watch, losses are resumed; a row of failures this long gives up.
_RECONNECT: Final = ReconnectPolicy(max_attempts=6)

# The client options a recording's header names (the client's defaults, which the CLI keeps).
_LIVENESS_TIMEOUT: Final = 60.0

_PRINTABLE: Final = tuple(sorted(name for name in known_names() if name not in (ERROR, RAW_DATA)))


def event_names(spec: str | None) -> tuple[str, ...]:
    """The event names ``--events`` asks for (all printable ones when omitted).

    Raises:
        UsageError: an unknown name (the message lists the known ones).
    """
    if spec is None:
        return _PRINTABLE
    names = tuple(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    unknown = [n for n in names if n not in _PRINTABLE]
    if unknown or not names:
        raise UsageError(f"--events: unknown event names {unknown}; known: {', '.join(_PRINTABLE)}")
    return names


def make_printer(ns: argparse.Namespace, *, show_room: bool) -> Printer:
    """The printer the options ask for: JSON Lines, or aligned human lines."""
    if ns.json:
        return JsonPrinter(sys.stdout)
    return HumanPrinter(sys.stdout, color=use_color(ns.color, sys.stdout), show_room=show_room)


@dataclass(eq=False)
class _Room:
    """One watched room: its client, and how its watch ended."""

    user: str
    client: TikTokLiveClient
    final: Disconnected | None = None
    error: WebcastError | None = None
    connecting: anyio.CancelScope | None = None
    tally: Counter[str] = field(default_factory=Counter)


@dataclass
class _Watch:
    """The rooms of one command and what they share."""

    rooms: list[_Room]
    printer: Printer
    redact: Callable[[str], str] = str
    stopping: bool = False
    _group: TaskGroup | None = None

    async def run(self) -> None:
        async with anyio.create_task_group() as outer:
            self._group = outer
            self.printer.on_closed = self.stop  # the reader of our output went away: stop too
            outer.start_soon(self._signals, outer.cancel_scope)
            async with anyio.create_task_group() as rooms:
                for room in self.rooms:
                    rooms.start_soon(self._one, room, name=f"webcast watch @{room.user}")
            outer.cancel_scope.cancel()  # the rooms are done: stop listening for signals

    async def _one(self, room: _Room) -> None:
        client = room.client
        try:
            async with client:
                if self.stopping:  # Ctrl-C came before this room began
                    return
                with anyio.CancelScope() as room.connecting:
                    await client.connect()
                room.connecting = None
                if self.is_stopping():  # Ctrl-C came as connect() returned: its cancel came too late
                    await client.disconnect()
                await client.wait_until_disconnected()
        except WebcastError as exc:
            room.error = exc
            _status, message = describe_failure(exc, f"@{room.user}", self.redact)
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    def is_stopping(self) -> bool:
        """Whether Ctrl-C was pressed (a method: it changes while a room awaits)."""
        return self.stopping

    def stop(self) -> None:
        """The first Ctrl-C: disconnect what is connected, cancel what is connecting."""
        if self.stopping or self._group is None:
            return
        self.stopping = True
        for room in self.rooms:
            if room.connecting is not None:
                room.connecting.cancel()
            else:
                self._group.start_soon(room.client.disconnect)

    async def _signals(self, scope: anyio.CancelScope) -> None:
        if (
            sys.platform == "win32"
        ):  # pragma: no cover  # no signal receiver there: Ctrl-C is KeyboardInterrupt
            await anyio.sleep_forever()
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                if self.stopping:  # the second one: stop without waiting
                    scope.cancel()
                    raise _ForcedStop
                self.stop()


class _ForcedStop(Exception):
    """A second Ctrl-C."""


def _make_rooms(
    users: Sequence[str], options: ClientOptions, printer: Printer, names: Sequence[str], **extra: object
) -> list[_Room]:
    rooms: list[_Room] = []
    for user in users:
        try:
            client = TikTokLiveClient(user, reconnect=_RECONNECT, **options.as_kwargs(), **extra)  # type: ignore[arg-type]  # checked by the client
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        room = _Room(user=client.unique_id, client=client)
        _listen(room, printer, names)
        rooms.append(room)
    return rooms


def _listen(room: _Room, printer: Printer, names: Sequence[str]) -> None:
    def show(event: Event) -> None:
        room.tally[event_name(type(event))] += 1
        printer.print(event, room=room.user)

    def keep_final(event: Disconnected) -> None:
        room.final = event

    def on_error(error: WebcastError) -> None:
        _log.info("@%s: %s", room.user, one_line(error.message))

    room.client.on("disconnected", keep_final)
    room.client.on(ERROR, on_error)
    for name in names:
        room.client.on(name, show)


def _status(watch: _Watch) -> int:
    """The exit status: the first failing room's, else 0."""
    for room in watch.rooms:
        if room.error is not None:
            return describe_failure(room.error, "")[0]
        final = room.final
        if final is not None and final.reason not in ("stream_end", "client"):
            last = room.client.state.last_error
            detail = "" if last is None else f": {one_line(watch.redact(last.message))}"
            sys.stderr.write(
                f"webcast: @{room.user}: connection lost ({final.reason}), not resumed{detail}\n"
            )
            return EXIT_FAILURE if last is None else describe_failure(last, "")[0]
    return EXIT_OK


def _run(watch: _Watch) -> int:
    try:
        anyio.run(watch.run)
    except _ForcedStop:
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:  # pragma: no cover  # where no signal receiver exists (Windows)
        return EXIT_INTERRUPTED
    return _status(watch)


def watch(ns: argparse.Namespace, options: ClientOptions) -> int:
    """``webcast watch @a @b …``."""
    names = event_names(ns.events)
    printer = make_printer(ns, show_room=len(ns.users) > 1)
    rooms = _make_rooms(ns.users, options, printer, names)
    if len({r.user for r in rooms}) != len(rooms):
        raise UsageError("a room is named twice")
    return _run(_Watch(rooms, printer, options.redact))


# -- record ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Recorder:
    """The wire tap of ``webcast record``: each record a line of the file, written as it comes.

    A write that fails (a full disk) is raised once — the client reports it to ``error``, where the
    command stops — and the recording is left as it is from then on.
    """

    file: BinaryIO
    client: TikTokLiveClient | None = None
    writer: RecordingWriter | None = None
    records: int = 0
    failed: OSError | None = None

    def __call__(self, record: WireRecord) -> None:
        if self.failed is not None:
            return
        try:
            self._write(record)
        except OSError as exc:
            self.failed = exc
            raise

    def _write(self, record: WireRecord) -> None:
        if self.writer is None:
            assert self.client is not None  # set before the client connects
            state = self.client.state
            header = RecordingHeader(
                room_id=state.room_id or 0,
                unique_id=state.unique_id,
                created=record.wall,
                generator=_generator(),
                liveness_timeout=_LIVENESS_TIMEOUT,
            )
            self.writer = RecordingWriter(header, origin=record.at)
            self.file.write(self.writer.header())
        self.file.write(self.writer.record(record))
        self.file.flush()  # what was recorded survives a crash or a kill
        self.records += 1

    def finish(self, final: Disconnected | None) -> OSError | None:
        """Write the end line (when the session ended and nothing failed) and close the file.

        Returns:
            The write error, if writing failed here.
        """
        try:
            if self.writer is not None and final is not None and self.failed is None:
                end = RecordingEnd(
                    reason=final.reason,
                    code=final.code,
                    retryable=final.retryable,
                    at=time.monotonic(),
                    wall=time.time(),
                )
                self.file.write(self.writer.end(end))
            self.file.close()
        except OSError as exc:
            if self.failed is None:
                self.failed = exc
                return exc
        return None


def _generator() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"webcast {version('webcast')}"
    except PackageNotFoundError:  # pragma: no cover  # running from a source tree without metadata
        return "webcast"


async def _stop_on_write_error(room: _Room, path: Path, error: WebcastError) -> None:
    """The ``error`` handler of ``record``: the recording cannot be written (a full disk) — stop."""
    if getattr(error, "event_name", None) == "wire_tap" and room.error is None:
        room.error = error
        sys.stderr.write(f"webcast: cannot write {path}: {one_line(str(error.__cause__ or error))}\n")
        await room.client.disconnect()


def record(ns: argparse.Namespace, options: ClientOptions) -> int:
    """``webcast record @user -o FILE``: watch one room and record its wire traffic."""
    names = event_names(ns.events)
    printer = make_printer(ns, show_room=False)
    path = Path(ns.output)
    ours = not path.exists()  # only a file this command created may be removed again
    try:
        file = path.open("wb")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    recorder = _Recorder(file)
    room: _Room | None = None
    try:
        rooms = _make_rooms(
            [ns.user], options, printer, names, wire_tap=recorder, liveness_timeout=_LIVENESS_TIMEOUT
        )
        room = rooms[0]
        recorder.client = room.client

        room.client.on(ERROR, functools.partial(_stop_on_write_error, room, path))
        status = _run(_Watch(rooms, printer, options.redact))
    finally:
        late = recorder.finish(None if room is None else room.final)
    if late is not None:
        sys.stderr.write(f"webcast: cannot write {path}: {one_line(str(late))}\n")
        status = status or EXIT_FAILURE
    if recorder.records == 0:
        if ours and path.is_file():
            with contextlib.suppress(OSError):
                path.unlink()  # nothing was recorded (the room could not be read): leave no empty file
        return status
    sys.stderr.write(f"webcast: recorded {recorder.records} records of @{room.user} to {path}\n")
    return status


# -- demo -----------------------------------------------------------------------------------


def run_demo(ns: argparse.Namespace) -> int:
    """``webcast demo``: the mock server in-process playing ``lively``, watched by the real client."""
    from webcast_transports.mock import MockWebcastServer, Options, Room, builtin_scenario

    if not ns.speed > 0:
        raise UsageError(f"--speed must be > 0, got {ns.speed}")
    scenario = builtin_scenario("lively")
    room = Room("mock.host", nickname="The Host 🎙️", title="webcast demo: a lively stream", scenario=scenario)
    printer = make_printer(ns, show_room=False)
    with MockWebcastServer([room], options=Options(speed=ns.speed)) as server:
        endpoints = server.endpoints()
        options = ClientOptions(
            endpoints=endpoints,
            session_id=None,
            proxy=None,
            signer=EulerSigner(endpoints=endpoints),
            timeout=10.0,
            enable_websocket_upgrade=True,
        )
        seconds = scenario.duration / ns.speed
        style = printer.style if isinstance(printer, HumanPrinter) else None
        title = "webcast demo" if style is None else style("webcast demo", "bold")
        printer.note(
            f"{title}: a mock TikTok LIVE server on {server.base_url} plays the 'lively' scenario "
            f"({seconds:.0f} s),\nwatched by the real client over loopback. Ctrl-C stops.\n"
        )
        rooms = _make_rooms(["mock.host"], options, printer, event_names(None))
        status = _run(_Watch(rooms, printer, options.redact))
    tally = rooms[0].tally
    printer.note("\n" + _summary(tally))
    printer.note("Next: `webcast watch @username` for a real room; see README.md.")
    return status


_SUMMARY: Final = (
    ("chat", "chat messages"),
    ("gift", "gift events"),
    ("member", "joins"),
    ("like", "likes"),
    ("social", "follows and shares"),
    ("roomUser", "viewer counts"),
    ("linkMicArmies", "battle updates"),
)


def _summary(tally: Counter[str]) -> str:
    parts = [f"{tally[name]} {label}" for name, label in _SUMMARY if tally[name]]
    total = sum(tally.values())
    return f"{total} events: " + ", ".join(parts) if parts else f"{total} events"
