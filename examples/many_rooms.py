"""Watch many TikTok LIVE rooms from one process and count what happens in each (asyncio).

    python examples/many_rooms.py @alice @bob @carol --seconds 60
    python examples/many_rooms.py mock.host mock.host --mock-url http://127.0.0.1:PORT

One client per room, each in its own task of one task group: a client's scope is entered and left
inside its task. (Entering thousands of clients one inside the other, say in one ``AsyncExitStack``,
nests every client's cancel scope in the one before and gets slower with each room.) Connections
start a few at a time; a room that cannot be watched (offline, not found) is reported and the others
go on. Once every room has connected, ``gc.freeze()`` moves what the clients hold out of the
garbage collector's sight, so that its full collections stay short however many rooms are held.
At the end (Ctrl-C, ``--seconds``, or every stream ended) each room's totals are printed.
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import argparse
import gc
from collections import Counter
from typing import TYPE_CHECKING

import anyio

from webcast_proto import WebcastError
from webcast_proto.config import Endpoints
from webcast_transports import TikTokLiveClient

if TYPE_CHECKING:
    from webcast_proto import Chat, Gift, Like, Member

# How many rooms may be connecting at the same time: each connect is a few HTTP requests and a
# WebSocket handshake, and TikTok rate-limits bursts.
CONNECTING_AT_ONCE = 20


async def watch(
    username: str,
    totals: Counter[str],
    endpoints: Endpoints | None,
    connecting: anyio.CapacityLimiter,
    connected: anyio.Event,
    pending: list[str],
) -> None:
    """Watch one room until its stream ends or the task is cancelled, counting into ``totals``."""
    client = TikTokLiveClient(username, endpoints=endpoints)

    @client.on("chat")
    def on_chat(event: Chat) -> None:
        totals["chats"] += 1

    @client.on("like")
    def on_like(event: Like) -> None:
        totals["likes"] += event.like_count

    @client.on("member")
    def on_member(event: Member) -> None:
        totals["joins"] += 1

    @client.on("gift")
    def on_gift(event: Gift) -> None:
        if event.is_final:  # a streak counts once, at its end
            totals["diamonds"] += event.total_diamonds

    try:
        async with client:
            async with connecting:
                try:
                    await client.connect()
                finally:
                    pending.remove(username)
                    if not pending:
                        connected.set()
            await client.wait_until_disconnected()
    except WebcastError as error:
        print(f"{username}: cannot watch: {error}")


async def main(args: argparse.Namespace) -> None:
    endpoints = Endpoints.from_base_url(args.mock_url) if args.mock_url else None
    usernames = list(dict.fromkeys(args.usernames))  # each room once
    totals = {name: Counter[str]() for name in usernames}
    connecting = anyio.CapacityLimiter(CONNECTING_AT_ONCE)
    connected = anyio.Event()
    pending = list(usernames)
    with anyio.move_on_after(args.seconds):
        async with anyio.create_task_group() as tasks:
            for name in usernames:
                tasks.start_soon(watch, name, totals[name], endpoints, connecting, connected, pending)
            await connected.wait()
            gc.freeze()  # what every client holds now stays: no need to scan it again and again
            print(f"watching {len(usernames)} rooms")
    for name, counts in totals.items():
        print(
            f"{name}: {counts['chats']} chats, {counts['joins']} joins, {counts['likes']} likes, "
            f"{counts['diamonds']} diamonds"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("usernames", nargs="+", help="the hosts' @usernames")
    parser.add_argument("--mock-url", help="base URL of a mock WebCast server")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    anyio.run(main, parser.parse_args())
