"""Print a room's chat under trio, reading ``client.events()`` instead of registering handlers.

The client is the same ``TikTokLiveClient`` as under asyncio (it is built on anyio).

    python examples/trio_chat.py @username
    python examples/trio_chat.py mock.host --mock-url http://127.0.0.1:PORT
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import argparse

import trio

from webcast_proto import Chat, Disconnected, Gift, StreamEnd
from webcast_proto.config import Endpoints
from webcast_transports import TikTokLiveClient


async def main(args: argparse.Namespace) -> None:
    endpoints = Endpoints.from_base_url(args.mock_url) if args.mock_url else None
    client = TikTokLiveClient(args.username, endpoints=endpoints)
    async with client:
        with trio.move_on_after(args.seconds if args.seconds is not None else float("inf")):
            async for event in client.events():  # connects on the first step
                if isinstance(event, Chat):
                    print(f"{event.user.unique_id}: {event.comment}")
                elif isinstance(event, Gift) and event.is_final:
                    print(f"{event.user.unique_id} sent {event.repeat_count} × {event.gift_name}")
                elif isinstance(event, StreamEnd):
                    print("the stream ended")
                elif isinstance(event, Disconnected):
                    print(f"disconnected ({event.reason})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username", help="the host's @username")
    parser.add_argument("--mock-url", help="base URL of a mock WebCast server")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    trio.run(main, parser.parse_args())
