"""The ``webcast`` command: TikTok LIVE from the terminal (``docs/cli.md``).

::

    webcast demo                              a mock live stream, watched by the real client
    webcast watch @a @b [--json] [--events …] live events of one room or many
    webcast record @user -o session.jsonl     the same, and every frame to a recording
    webcast replay session.jsonl [--json]     a recording decoded offline into the same events
    webcast serve-mock [--scenario FILE|NAME] the mock WebCast server (a recording, a scenario)
    webcast decode [FILE|-] [--hex|--base64]  one push frame or fetch body as a tree
    webcast info @user / webcast gifts @user  room info, gift list (table or --json)

Each subcommand lives in a module of its own; this one builds the parser and dispatches from a
table. Failures end with one line on stderr and an exit status naming the kind of failure
(``_common``: 3 offline, 4 not found, 5 rate limited, 6 sign server refused, 7 age-restricted,
1 anything else, 2 usage).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from typing import TYPE_CHECKING, Any, Final

from webcast_transports.cli._common import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    add_client_arguments,
    client_options,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["build_parser", "main"]


def _output_arguments(parser: argparse.ArgumentParser, *, json_help: str | None = None) -> None:
    if json_help is not None:
        parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the output: auto (a terminal, unless NO_COLOR is set), always or never",
    )


_EVENTS_HELP: Final = "only these events, by their .on() names: chat,gift,member,like,social,roomUser,…"
_JSON_LINES_HELP: Final = 'JSON Lines: one event per line, Event.to_dict() plus "room"'


def _parser_with(parent: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """An ``ArgumentParser`` class whose instances all inherit ``parent``'s arguments."""

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("parents", [parent])
            super().__init__(*args, **kwargs)

    return Parser


def build_parser() -> argparse.ArgumentParser:
    """The ``webcast`` argument parser (``serve-mock`` is parsed by the mock server's own parser)."""
    from webcast_transports.cli._live import DEMO_SPEED

    parser = argparse.ArgumentParser(
        prog="webcast",
        description="TikTok LIVE events from the terminal: watch rooms, record and replay sessions, "
        "decode frames.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the client does (stderr)")
    # -v after the subcommand too; SUPPRESS keeps a subcommand that did not get it from resetting it.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_parser_with(verbose)
    )

    demo = sub.add_parser("demo", help="watch a built-in mock live stream (zero setup)")
    demo.add_argument(
        "--speed", type=float, default=DEMO_SPEED, help=f"scenario speed (default {DEMO_SPEED:g})"
    )
    _output_arguments(demo, json_help=_JSON_LINES_HELP)

    watch = sub.add_parser("watch", help="live events of one room or many")
    watch.add_argument("users", nargs="+", metavar="@USER", help="the hosts' usernames")
    watch.add_argument("--events", metavar="NAMES", help=_EVENTS_HELP)
    _output_arguments(watch, json_help=_JSON_LINES_HELP)
    add_client_arguments(watch)

    record = sub.add_parser("record", help="watch a room and record every frame to a file")
    record.add_argument("user", metavar="@USER")
    record.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the recording (docs/recordings.md)"
    )
    record.add_argument("--events", metavar="NAMES", help=_EVENTS_HELP)
    _output_arguments(record, json_help=_JSON_LINES_HELP)
    add_client_arguments(record)

    replay = sub.add_parser("replay", help="decode a recording into its events, offline")
    replay.add_argument("file", metavar="FILE", help="a recording ('-': stdin)")
    replay.add_argument(
        "--speed",
        type=float,
        default=None,
        help="pace the events: 1 as recorded, 10 ten times faster (default: at once)",
    )
    replay.add_argument("--events", metavar="NAMES", help=_EVENTS_HELP)
    _output_arguments(replay, json_help=_JSON_LINES_HELP)

    sub.add_parser(
        "serve-mock",
        help="run the mock WebCast server (--scenario FILE|NAME, --port N …; see serve-mock --help)",
        add_help=False,
    )

    decode = sub.add_parser("decode", help="print one push frame or fetch body as a tree")
    decode.add_argument(
        "file", nargs="?", default="-", metavar="FILE", help="the bytes ('-' or omitted: stdin)"
    )
    encoding = decode.add_mutually_exclusive_group()
    encoding.add_argument("--hex", action="store_true", help="the input is hex text")
    encoding.add_argument("--base64", action="store_true", help="the input is base64 text")
    decode.add_argument(
        "--as", dest="kind", choices=("auto", "frame", "fetch"), default="auto", help="what the bytes are"
    )
    _output_arguments(decode)

    for name, what in (("info", "a room's info"), ("gifts", "a room's gift list")):
        command = sub.add_parser(name, help=f"{what}, without connecting")
        command.add_argument("user", metavar="@USER")
        _output_arguments(command, json_help="JSON instead of a table")
        add_client_arguments(command, connection=False)
    return parser


def _demo(ns: argparse.Namespace) -> int:
    from webcast_transports.cli._live import run_demo

    return run_demo(ns)


def _watch(ns: argparse.Namespace) -> int:
    from webcast_transports.cli._live import watch

    return watch(ns, client_options(ns))


def _record(ns: argparse.Namespace) -> int:
    from webcast_transports.cli._live import record

    return record(ns, client_options(ns))


def _replay(ns: argparse.Namespace) -> int:
    from webcast_transports.cli._replay import replay

    return replay(ns)


def _decode(ns: argparse.Namespace) -> int:
    from webcast_transports.cli._decode import decode

    return decode(ns)


def _info(ns: argparse.Namespace) -> int:
    from webcast_transports.cli._info import info

    return info(ns, client_options(ns))


def _gifts(ns: argparse.Namespace) -> int:
    from webcast_transports.cli._info import gifts

    return gifts(ns, client_options(ns))


# Subcommands import what they need when they run: `webcast decode` starts without anyio's loop
# machinery, and `webcast --help` is quick.
_COMMANDS: Final[Mapping[str, Callable[[argparse.Namespace], int]]] = {
    "demo": _demo,
    "watch": _watch,
    "record": _record,
    "replay": _replay,
    "decode": _decode,
    "info": _info,
    "gifts": _gifts,
}


def _serve_mock(args: Sequence[str]) -> int:
    from webcast_transports.mock.__main__ import build_parser as mock_parser
    from webcast_transports.mock.__main__ import serve

    parser = mock_parser()
    parser.prog = "webcast serve-mock"
    return serve(parser.parse_args(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``webcast`` command line; returns the process exit status.

    Args:
        argv: the arguments after the program name (``sys.argv[1:]`` if omitted).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve-mock"]:
        return _serve_mock(args[1:])
    ns = build_parser().parse_args(args)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")  # a terminal that cannot show an emoji shows "?"
    webcast_logger = logging.getLogger("webcast")
    level = webcast_logger.level
    if ns.verbose:
        logging.basicConfig(format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
        webcast_logger.setLevel(logging.INFO)
    else:
        webcast_logger.setLevel(logging.ERROR)  # the output shows losses and reconnects already
    try:
        return _COMMANDS[ns.command](ns)
    except UsageError as exc:
        sys.stderr.write(f"webcast: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        webcast_logger.setLevel(level)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
