"""``python -m webcast_transports.mock``: run the mock WebCast server until interrupted.

Prints the URLs to point a client at and each room's username and room id, then serves. The
``webcast serve-mock`` command wraps :func:`main`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from webcast_transports.mock._builtin import BUILTIN_SCENARIOS
from webcast_transports.mock._files import load_scenario
from webcast_transports.mock._rooms import Room
from webcast_transports.mock._routes import Options
from webcast_transports.mock._server import MockWebcastServer

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "main", "serve"]


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser (reused by ``webcast serve-mock``)."""
    parser = argparse.ArgumentParser(
        prog="python -m webcast_transports.mock",
        description="A mock TikTok WebCast server on loopback: website, WebCast API, push socket and "
        "sign server.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: 0, a free one)")
    parser.add_argument(
        "--scenario",
        default="lively",
        help=f"a built-in scenario ({', '.join(sorted(BUILTIN_SCENARIOS))}) or a scenario file (JSON)",
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME",
        help="a live room for this username (repeatable; default: mock.host, unless the file names rooms)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="play scenarios this many times faster")
    parser.add_argument("--start-now", action="store_true", help="start timelines now, not at first request")
    parser.add_argument("--api-key", default=None, help="require this key on the sign-server routes")
    parser.add_argument("--strict", action="store_true", help="close sockets of misbehaving clients")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request and client frame")
    return parser


def _rooms(ns: argparse.Namespace) -> list[Room]:
    scenario, file_rooms = load_scenario(ns.scenario)
    start = "now" if ns.start_now else "on_request"
    if ns.user:
        return [Room(name, scenario=scenario, start=start) for name in ns.user]
    if file_rooms:
        return [dataclasses.replace(r, start=start) if ns.start_now else r for r in file_rooms]
    return [Room("mock.host", scenario=scenario, start=start)]


def describe(server: MockWebcastServer, out: TextIO) -> None:
    """Print where the server is and its rooms."""
    out.write(f"mock WebCast server on {server.base_url}\n")
    out.write(f"  website, WebCast API, sign server: {server.base_url}\n")
    out.write(f"  push server:                       {server.ws_url}\n")
    out.write("rooms:\n")
    for handle in server.rooms:
        room = handle.room
        out.write(
            f"  @{room.unique_id:<20} room_id={room.room_id}  status={handle.status.value}  "
            f"scenario={handle.scenario_name}\n"
            f"      {server.base_url}/@{room.unique_id}/live\n"
        )
    out.write("Ctrl-C to stop.\n")
    out.flush()


def serve(ns: argparse.Namespace, *, out: TextIO = sys.stdout, stop: threading.Event | None = None) -> int:
    """Run the server described by parsed arguments until ``stop`` is set, Ctrl-C or SIGTERM."""
    if ns.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s")
    try:
        rooms = _rooms(ns)
        options = Options(speed=ns.speed, api_key=ns.api_key, strict=ns.strict)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    stop = stop or threading.Event()
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread:  # a process manager's stop is a clean stop
        previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        with MockWebcastServer(rooms, host=ns.host, port=ns.port, options=options) as server:
            describe(server, out)
            stop.wait()
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        sys.stderr.write(f"error: cannot serve on {ns.host}:{ns.port}: {exc}\n")
        return 1
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve; returns the exit status."""
    return serve(build_parser().parse_args(argv))


if __name__ == "__main__":  # pragma: no cover  # exercised through a subprocess in the tests
    raise SystemExit(main())
